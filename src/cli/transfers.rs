//! `cointally transfers [link A B | unlink A]`: own transfers, matched and not.

use std::collections::BTreeMap;

use cointally_exchanges::EventKind;
use cointally_exchanges::amount::format_amount;
use cointally_exchanges::time::{format_rfc3339, from_millis};
use serde::Serialize;

use crate::transfers;

use super::output::{Align, LazySeq, Table, print_json};
use super::{Context, Failure};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Pair a withdrawal with the deposit it became (event ids, either order)
    Link {
        /// One event (withdrawal or deposit)
        a: i64,
        /// The other
        b: i64,
    },
    /// Undo the transfer an event is in, and keep automatic matching away from it
    Unlink {
        /// The withdrawal or deposit
        event: i64,
    },
}

/// One side of a transfer (`transfers --json`: its members in alphabetical order, as they
/// have always been printed).
#[derive(Debug, Serialize)]
struct Side {
    account: String,
    amount: String,
    asset: String,
    event: i64,
    time: String,
}

/// `transfers --json`, its members in alphabetical order.
#[derive(Serialize)]
struct ListJson<A, M, D, W> {
    ambiguous: A,
    matched: M,
    unmatched_deposits: D,
    unmatched_withdrawals: W,
}

#[derive(Serialize)]
struct MatchedJson {
    deposit: Option<Side>,
    method: &'static str,
    withdrawal: Option<Side>,
}

#[derive(Serialize)]
struct AmbiguousJson {
    candidates: Vec<Side>,
    event: Option<Side>,
}

pub fn run(context: &Context, args: Args) -> anyhow::Result<()> {
    let mut ledger = context.open_ledger()?;
    match args.command {
        Some(Command::Link { a, b }) => {
            let side = |id: i64| -> anyhow::Result<EventKind> {
                match ledger.event_kind(id)? {
                    Some((kind @ (EventKind::Withdrawal | EventKind::Deposit), _)) => Ok(kind),
                    Some((kind, _)) => {
                        Err(Failure::input(format!("event {id} is a {kind}, not a withdrawal or deposit"))
                            .hint("`cointally transfers` lists the withdrawals and deposits with their event ids")
                            .into())
                    }
                    None => Err(Failure::input(format!("no event {id}"))
                        .hint("`cointally transfers` lists the withdrawals and deposits with their event ids")
                        .into()),
                }
            };
            let (withdrawal, deposit) = match (side(a)?, side(b)?) {
                (EventKind::Withdrawal, EventKind::Deposit) => (a, b),
                (EventKind::Deposit, EventKind::Withdrawal) => (b, a),
                _ => {
                    return Err(Failure::input(format!("events {a} and {b} are not a withdrawal and a deposit")).into());
                }
            };
            ledger.link_transfer(withdrawal, deposit)?;
            context.note(format!("linked withdrawal {withdrawal} to deposit {deposit}"));
            Ok(())
        }
        Some(Command::Unlink { event }) => {
            if ledger.event_kind(event)?.is_none() {
                return Err(Failure::input(format!("no event {event}")).into());
            }
            let removed = ledger.unlink_transfer(event)?;
            context.note(format!(
                "event {event} {}; it will not be matched automatically again (`transfers link` pairs it by hand)",
                if removed > 0 { "unlinked" } else { "was in no transfer" }
            ));
            Ok(())
        }
        None => list(context, &mut ledger),
    }
}

fn list(context: &Context, ledger: &mut crate::ledger::Ledger) -> anyhow::Result<()> {
    let matching = transfers::refresh(ledger)?;
    let labels: BTreeMap<i64, String> = ledger.accounts()?.into_iter().map(|a| (a.id, a.label)).collect();
    let movements = &matching.movements;
    let side = |id: i64| {
        movements.get(&id).map(|m| Side {
            event: id,
            account: labels.get(&m.account_id).cloned().unwrap_or_default(),
            time: format_rfc3339(from_millis(m.time_ms)),
            asset: m.asset.clone(),
            amount: format_amount(m.amount),
        })
    };
    let sides = |ids: &[i64]| ids.iter().filter_map(|id| side(*id)).collect::<Vec<_>>();
    if context.json {
        // Written as it is serialized: each list made element by element.
        return Ok(print_json(&ListJson {
            ambiguous: LazySeq(|| {
                matching
                    .ambiguous
                    .iter()
                    .map(|a| AmbiguousJson { candidates: sides(&a.candidates), event: side(a.event_id) })
            }),
            matched: LazySeq(|| {
                matching.links.iter().map(|l| MatchedJson {
                    deposit: side(l.deposit),
                    method: l.method.as_str(),
                    withdrawal: side(l.withdrawal),
                })
            }),
            unmatched_deposits: LazySeq(|| matching.unmatched_deposits.iter().filter_map(|id| side(*id))),
            unmatched_withdrawals: LazySeq(|| matching.unmatched_withdrawals.iter().filter_map(|id| side(*id))),
        })?);
    }
    let mut table = Table::new(&[
        ("Withdrawal", Align::Right),
        ("From", Align::Left),
        ("Time", Align::Left),
        ("Asset", Align::Left),
        ("Sent", Align::Right),
        ("Deposit", Align::Right),
        ("To", Align::Left),
        ("Received", Align::Right),
        ("How", Align::Left),
    ]);
    for l in &matching.links {
        let (Some(w), Some(d)) = (side(l.withdrawal), side(l.deposit)) else { continue };
        table.row(vec![
            w.event.to_string(),
            w.account,
            w.time,
            w.asset,
            w.amount,
            d.event.to_string(),
            d.account,
            d.amount,
            l.method.as_str().to_owned(),
        ]);
    }
    println!("Matched ({}):", matching.links.len());
    table.print()?;
    let mut table = Table::new(&[
        ("Event", Align::Right),
        ("Account", Align::Left),
        ("Time", Align::Left),
        ("Asset", Align::Left),
        ("Amount", Align::Right),
        ("Status", Align::Left),
    ]);
    let mut rows = 0;
    for a in &matching.ambiguous {
        if let Some(s) = side(a.event_id) {
            let ids: Vec<String> = a.candidates.iter().map(|c| c.to_string()).collect();
            table.row(vec![
                s.event.to_string(),
                s.account,
                s.time,
                s.asset,
                s.amount,
                format!("candidates {}", ids.join(", ")),
            ]);
            rows += 1;
        }
    }
    for (ids, status) in [
        (&matching.unmatched_withdrawals, "withdrawal, unmatched"),
        (&matching.unmatched_deposits, "deposit, unmatched"),
    ] {
        for s in sides(ids) {
            table.row(vec![s.event.to_string(), s.account, s.time, s.asset, s.amount, status.to_owned()]);
            rows += 1;
        }
    }
    println!();
    println!("Not matched ({rows}):");
    table.print()?;
    Ok(())
}

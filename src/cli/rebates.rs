//! `cointally rebates [link REBATE PURCHASE | unlink REBATE]`: rebates tied to the purchase
//! whose price they reduce, read under `settings rebates basis` (see `crate::tax::rebates`).

use cointally_exchanges::amount::format_amount;
use cointally_exchanges::time::format_rfc3339;
use cointally_exchanges::{EventKind, LegRole, is_fiat};
use serde::Serialize;

use crate::ledger::{EventFilter, EventRow, Ledger};
use crate::tax::rebates::Rebates;

use super::output::{Align, Table, print_json};
use super::{Context, Failure};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Tie a rebate to the purchase whose price it reduces (event ids: `cointally events`)
    Link {
        /// The `rebate` event
        rebate: i64,
        /// The trade that bought what the rebate belongs to
        purchase: i64,
    },
    /// Untie a rebate: under `rebates basis` its units come in at basis zero again
    Unlink {
        /// The `rebate` event
        rebate: i64,
    },
}

/// One rebate as listed.
#[derive(Debug, Serialize)]
struct Listed {
    rebate: i64,
    account: String,
    time: String,
    received: Vec<String>,
    purchase: Option<i64>,
}

pub fn run(context: &Context, args: Args) -> anyhow::Result<()> {
    let mut ledger = context.open_ledger()?;
    match args.command {
        Some(Command::Link { rebate, purchase }) => {
            let rebate_row = rebate_event(&ledger, rebate)?;
            let purchase_row = purchase_event(&ledger, purchase)?;
            if purchase_row.time > rebate_row.time {
                return Err(Failure::input(format!(
                    "rebate {rebate} ({}) came before purchase {purchase} ({}): a rebate reduces the price of a purchase made before it",
                    format_rfc3339(rebate_row.time),
                    format_rfc3339(purchase_row.time)
                ))
                .into());
            }
            if !ledger.link_rebate(rebate, purchase)? {
                return Err(Failure::input(format!("event {rebate} or {purchase} is gone")).into());
            }
            context.note(format!("rebate {rebate} tied to purchase {purchase}"));
            if Rebates::of_ledger(&ledger)? != Rebates::Basis {
                context.note(
                    "note: the ledger taxes rebates as income, so the link changes nothing yet; `cointally settings rebates basis` makes rebates price reductions",
                );
            }
            Ok(())
        }
        Some(Command::Unlink { rebate }) => {
            let removed = ledger.unlink_rebate(rebate)?;
            context.note(if removed {
                format!("rebate {rebate} untied")
            } else {
                format!("rebate {rebate} was not tied to a purchase")
            });
            Ok(())
        }
        None => list(context, &ledger),
    }
}

fn event(ledger: &Ledger, id: i64) -> anyhow::Result<EventRow> {
    let mut rows = ledger.events(&EventFilter { id: Some(id), ..EventFilter::default() })?;
    rows.pop().ok_or_else(|| {
        Failure::input(format!("no event {id}")).hint("`cointally events` lists events with their ids").into()
    })
}

fn rebate_event(ledger: &Ledger, id: i64) -> anyhow::Result<EventRow> {
    let row = event(ledger, id)?;
    if row.kind != EventKind::Rebate {
        return Err(Failure::input(format!("event {id} is a {}, not a rebate", row.kind))
            .hint("`cointally events --kind rebate` lists the rebates; `cointally reclassify ID rebate` makes an event one")
            .into());
    }
    Ok(row)
}

/// A purchase: a trade or conversion that received a crypto asset (whose units carry the
/// reduction). Cashback on goods bought outside the ledger has no such event: leave it untied.
fn purchase_event(ledger: &Ledger, id: i64) -> anyhow::Result<EventRow> {
    let row = event(ledger, id)?;
    let bought = row.legs.iter().any(|l| l.role == LegRole::Received && !is_fiat(&l.asset));
    if !matches!(row.kind, EventKind::Trade | EventKind::Conversion) || !bought {
        return Err(Failure::input(format!("event {id} is a {} that bought no crypto asset, not a purchase", row.kind))
            .hint("tie a rebate to the trade that bought what it belongs to; cashback on goods bought outside the ledger stays untied (its units come in at basis zero)")
            .into());
    }
    Ok(row)
}

fn list(context: &Context, ledger: &Ledger) -> anyhow::Result<()> {
    let links: std::collections::BTreeMap<i64, i64> =
        ledger.rebate_links()?.into_iter().map(|l| (l.rebate, l.purchase)).collect();
    let rebates = ledger.events(&EventFilter { kind: Some(EventKind::Rebate), ..EventFilter::default() })?;
    let listed: Vec<Listed> = rebates
        .into_iter()
        .map(|row| Listed {
            rebate: row.id,
            purchase: links.get(&row.id).copied(),
            time: format_rfc3339(row.time),
            received: row
                .legs
                .iter()
                .filter(|l| l.role == LegRole::Received)
                .map(|l| format!("{} {}", format_amount(l.amount), l.asset))
                .collect(),
            account: row.account,
        })
        .collect();
    if context.json {
        return Ok(print_json(&serde_json::json!({
            "treatment": Rebates::of_ledger(ledger)?.as_str(),
            "rebates": listed,
        }))?);
    }
    let mut table = Table::new(&[
        ("Rebate", Align::Right),
        ("Account", Align::Left),
        ("Time", Align::Left),
        ("Received", Align::Left),
        ("Purchase", Align::Right),
    ]);
    for l in listed {
        table.row(vec![
            l.rebate.to_string(),
            l.account,
            l.time,
            l.received.join(", "),
            l.purchase.map(|p| p.to_string()).unwrap_or_else(|| "-".to_owned()),
        ]);
    }
    println!("Rebates (taxed as {}):", Rebates::of_ledger(ledger)?.as_str());
    table.print()?;
    Ok(())
}

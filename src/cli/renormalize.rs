//! `cointally renormalize [--account L]`: rebuild events from the stored raw API records,
//! with no network (after a normaliser fix, say).

use cointally_exchanges::Exchange;

use crate::sync::renormalize::{Renormalized, renormalize};

use super::output::{Align, Table, print_json};
use super::{Context, Failure};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this account; default: every account with API records
    #[arg(long)]
    account: Option<String>,
}

pub fn run(context: &Context, args: Args) -> anyhow::Result<()> {
    let mut ledger = context.open_ledger()?;
    let accounts = match &args.account {
        Some(label) => vec![ledger.account(label)?],
        None => ledger.accounts()?,
    };
    let mut done: Vec<Renormalized> = Vec::new();
    for account in &accounts {
        let exchange: Exchange = account.exchange.parse().map_err(|e| Failure::input(format!("{e}")))?;
        if !exchange.takes_api_key() {
            continue;
        }
        done.push(renormalize(&mut ledger, account, exchange)?);
    }
    let unreadable: u64 = done.iter().map(|r| r.unreadable).sum();
    let dropped: u64 = done.iter().map(|r| r.manual_links_dropped).sum();
    if dropped > 0 {
        context.note(format!(
            "note: {dropped} transfer link{} made by hand named an event this version no longer makes; see `cointally transfers`",
            if dropped == 1 { "" } else { "s" }
        ));
    }
    if context.json {
        print_json(&done)?;
    } else {
        print_table(&done)?;
    }
    if unreadable > 0 {
        return Err(Failure::attention(format!(
            "{unreadable} stored record{} could not be read by this version of cointally (kept, no event made)",
            if unreadable == 1 { "" } else { "s" }
        ))
        .hint("`cointally check --details` lists each one with what is wrong")
        .into());
    }
    Ok(())
}

fn print_table(done: &[Renormalized]) -> anyhow::Result<()> {
    let mut table = Table::new(&[
        ("Account", Align::Left),
        ("Records", Align::Right),
        ("Events before", Align::Right),
        ("Events after", Align::Right),
        ("Matched file events", Align::Right),
        ("Unreadable", Align::Right),
    ]);
    for r in done {
        table.row(vec![
            r.account.clone(),
            r.records.to_string(),
            r.events_before.to_string(),
            r.events_after.to_string(),
            r.matched_file_events.to_string(),
            r.unreadable.to_string(),
        ]);
    }
    table.print()?;
    Ok(())
}

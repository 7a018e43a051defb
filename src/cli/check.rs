//! `cointally check [--details]`: the audit before trusting a report; exit 0 only when clean.

use crate::check::audit;

use super::output::{Align, Table, print_json};
use super::{Context, Failure};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// List every item behind each finding
    #[arg(long)]
    details: bool,
}

pub fn run(context: &Context, args: Args) -> anyhow::Result<()> {
    let mut ledger = context.open_ledger()?;
    let findings = audit(&mut ledger)?;
    if context.json {
        print_json(&serde_json::json!({ "clean": findings.is_empty(), "findings": findings }))?;
    } else if findings.is_empty() {
        println!(
            "clean: balances agree with the exchanges, no negative balances, every transfer matched, every leg valued, every basis known"
        );
    } else {
        let mut table = Table::new(&[
            ("Account", Align::Left),
            ("Finding", Align::Left),
            ("Count", Align::Right),
            ("What", Align::Left),
        ]);
        for f in &findings {
            table.row(vec![f.account.clone(), f.kind.to_owned(), f.count.to_string(), f.message.clone()]);
        }
        table.print()?;
        println!();
        let mut hints: Vec<(&str, &str)> = findings.iter().map(|f| (f.kind, f.hint.as_str())).collect();
        hints.sort();
        hints.dedup_by_key(|h| h.0);
        for (kind, hint) in hints {
            println!("{kind}: {hint}");
        }
        if args.details {
            for f in &findings {
                println!();
                println!("{} — {}:", f.account, f.kind);
                let mut table = Table::new(&[
                    ("Event", Align::Right),
                    ("Time", Align::Left),
                    ("Asset", Align::Left),
                    ("Amount", Align::Right),
                    ("Detail", Align::Left),
                ]);
                for item in &f.items {
                    table.row(vec![
                        item.event.map(|e| e.to_string()).unwrap_or_default(),
                        item.time.clone().unwrap_or_default(),
                        item.asset.clone(),
                        item.amount.clone(),
                        item.detail.clone(),
                    ]);
                }
                table.print()?;
            }
        } else {
            context.note("`cointally check --details` lists every item");
        }
    }
    if findings.is_empty() {
        return Ok(());
    }
    let total: usize = findings.iter().map(|f| f.count).sum();
    Err(Failure::problems(format!("check found {total} problems in {} groups", findings.len())).into())
}

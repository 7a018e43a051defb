//! `cointally method set|list|remove`: lot identification elections (standing orders) with an
//! effective date, for one account or for all. A disposal uses the latest election in force at
//! its date for its wallet, else the latest for all wallets, else FIFO; an election never
//! changes a disposal before its date, so a filed year stays as filed. LIFO, HIFO and LOFO are
//! forms of specific identification: for units at a broker the broker must hold the same
//! standing order, or its Form 1099-DA will differ (Treas. Reg. §1.1012-1(j),
//! <https://www.ecfr.gov/current/title-26/chapter-I/subchapter-A/part-1/subject-group-ECFR3d2ea4bd3dc5fce/section-1.1012-1>).

use chrono::NaiveDate;
use serde::Serialize;

use crate::tax::Method;
use crate::tax::boxes::is_us_broker;
use crate::tax::report::elections_json;

use super::output::{Align, Table, print_json};
use super::{Context, Failure};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Elect a method from a date on (for one account with --account, else for all)
    Set {
        /// The method
        #[arg(value_enum)]
        method: Method,
        /// The first day it applies to (YYYY-MM-DD, a date in the ledger's time zone)
        #[arg(long, value_parser = parse_date)]
        from: NaiveDate,
        /// The account it is for [default: every account]
        #[arg(long)]
        account: Option<String>,
    },
    /// List the elections
    List,
    /// Remove an election by its id
    Remove {
        /// The election's id (`cointally method list`)
        id: i64,
    },
}

fn parse_date(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| format!("{text:?} is not a date: give YYYY-MM-DD"))
}

#[derive(Serialize)]
struct Set {
    id: i64,
    method: &'static str,
    from: String,
    account: Option<String>,
}

pub fn run(context: &Context, command: Command) -> anyhow::Result<()> {
    let mut ledger = context.open_ledger()?;
    match command {
        Command::Set { method, from, account } => {
            let account = account.map(|label| ledger.account(&label)).transpose()?;
            let from_ms = from.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp_millis()).unwrap_or(i64::MIN);
            let id = ledger.add_election(method.as_str(), from_ms, account.as_ref().map(|a| a.id))?;
            if method != Method::Fifo {
                let brokers: Vec<String> = match &account {
                    Some(a) if is_us_broker(&a.exchange) => vec![a.label.clone()],
                    Some(_) => Vec::new(),
                    None => {
                        ledger.accounts()?.into_iter().filter(|a| is_us_broker(&a.exchange)).map(|a| a.label).collect()
                    }
                };
                if !brokers.is_empty() {
                    context.note(format!(
                        "note: {} is at a US broker: from 2025 the broker identifies the units it sells for you; give it the same standing order ({}) before your sales, or its Form 1099-DA will differ (`cointally reconcile` shows where)",
                        brokers.join(", "),
                        method.as_str().to_uppercase()
                    ));
                }
            }
            let shown = Set { id, method: method.as_str(), from: from.to_string(), account: account.map(|a| a.label) };
            if context.json {
                return Ok(print_json(&shown)?);
            }
            context.note(format!(
                "election {id}: {} from {} for {}",
                shown.method.to_uppercase(),
                shown.from,
                shown.account.as_deref().unwrap_or("every account")
            ));
            Ok(())
        }
        Command::List => {
            let elections = elections_json(&ledger.elections()?);
            if context.json {
                return Ok(print_json(&elections)?);
            }
            let mut table = Table::new(&[
                ("Id", Align::Right),
                ("Method", Align::Left),
                ("From", Align::Left),
                ("Account", Align::Left),
            ]);
            for e in &elections {
                table.row(vec![
                    e.id.to_string(),
                    e.method.to_uppercase(),
                    e.from.clone(),
                    e.account.clone().unwrap_or_else(|| "(every account)".into()),
                ]);
            }
            table.print()?;
            if elections.is_empty() {
                context.note("no elections: every disposal uses FIFO");
            }
            Ok(())
        }
        Command::Remove { id } => {
            if !ledger.remove_election(id)? {
                return Err(Failure::input(format!("no election {id}"))
                    .hint("list them with `cointally method list`")
                    .into());
            }
            context.note(format!("removed election {id}"));
            Ok(())
        }
    }
}

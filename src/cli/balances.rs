//! `cointally balances [--account L] [--at DATE]`: what each account holds.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use cointally_exchanges::amount::format_amount;
use cointally_exchanges::time::parse_utc;
use serde::Serialize;

use super::output::{Align, Table, print_json};
use super::{Context, Failure};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this account
    #[arg(long)]
    account: Option<String>,
    /// Balances at the end of this day (YYYY-MM-DD, UTC) or at this instant (RFC 3339)
    #[arg(long, value_name = "DATE")]
    at: Option<String>,
}

/// `balances --json`: one object per non-zero balance.
#[derive(Serialize)]
struct BalanceJson {
    account: String,
    exchange: String,
    asset: String,
    amount: String,
}

/// The instant `--at` means: a bare date is the last millisecond of that day, UTC.
pub fn parse_at(text: &str) -> Result<DateTime<Utc>, Failure> {
    if let Ok(day) = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
        let next = day.succ_opt().and_then(|d| d.and_hms_opt(0, 0, 0));
        if let Some(next) = next {
            return Ok(next.and_utc() - Duration::milliseconds(1));
        }
    }
    parse_utc(text).map_err(|e| Failure::input(format!("--at: {e}")))
}

pub fn run(context: &Context, args: Args) -> anyhow::Result<()> {
    let ledger = context.open_ledger()?;
    if let Some(label) = &args.account {
        ledger.account(label)?;
    }
    let at = args.at.as_deref().map(parse_at).transpose()?;
    let balances = ledger.balances(args.account.as_deref(), at)?;
    if context.json {
        let rows: Vec<BalanceJson> = balances
            .into_iter()
            .map(|b| BalanceJson {
                account: b.account,
                exchange: b.exchange,
                asset: b.asset,
                amount: format_amount(b.amount),
            })
            .collect();
        print_json(&rows)?;
        return Ok(());
    }
    if balances.is_empty() {
        context.note("no balances: nothing imported or synced yet");
        return Ok(());
    }
    let mut table = Table::new(&[
        ("Account", Align::Left),
        ("Exchange", Align::Left),
        ("Asset", Align::Left),
        ("Amount", Align::Right),
    ]);
    for b in balances {
        table.row(vec![b.account, b.exchange, b.asset, format_amount(b.amount)]);
    }
    table.print()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_date_means_the_end_of_that_day() {
        assert_eq!(parse_at("2024-12-31").unwrap().to_rfc3339(), "2024-12-31T23:59:59.999+00:00");
        assert_eq!(parse_at("2024-06-01T12:00:00Z").unwrap().to_rfc3339(), "2024-06-01T12:00:00+00:00");
        assert!(parse_at("31/12/2024").is_err());
    }
}

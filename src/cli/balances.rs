//! `cointally balances [--account L] [--at DATE]`: what each account holds.

use chrono::{DateTime, NaiveDate, Utc};
use cointally_exchanges::amount::format_amount;
use serde::Serialize;

use crate::tax::zone::Zone;

use super::output::{Align, Table, print_json};
use super::{Context, Failure};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this account
    #[arg(long)]
    account: Option<String>,
    /// Balances at the end of this day (YYYY-MM-DD, in the ledger's time zone) or at this instant (RFC 3339; without an offset, local time)
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

/// The instant `--at` means in the ledger's `zone`: a bare date is the last millisecond of that
/// local day; a time with an offset is that instant, one without is local time.
pub fn parse_at(text: &str, zone: Zone) -> Result<DateTime<Utc>, Failure> {
    if let Ok(day) = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
        if let Some(end) = day.succ_opt().map(|next| zone.day_start_ms(next) - 1) {
            if let Some(end) = DateTime::from_timestamp_millis(end) {
                return Ok(end);
            }
        }
    }
    zone.parse_time(text).map_err(|e| Failure::input(format!("--at: {e}")))
}

pub fn run(context: &Context, args: Args) -> anyhow::Result<()> {
    let ledger = context.open_ledger()?;
    if let Some(label) = &args.account {
        ledger.account(label)?;
    }
    let zone = Zone::of_ledger(&ledger)?;
    let at = args.at.as_deref().map(|text| parse_at(text, zone)).transpose()?;
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
        assert_eq!(parse_at("2024-12-31", Zone::UTC).unwrap().to_rfc3339(), "2024-12-31T23:59:59.999+00:00");
        assert_eq!(parse_at("2024-06-01T12:00:00Z", Zone::UTC).unwrap().to_rfc3339(), "2024-06-01T12:00:00+00:00");
        assert!(parse_at("31/12/2024", Zone::UTC).is_err());
        // In New York the day ends at 05:00 UTC the next day (EST); a time without offset is local.
        let ny: Zone = "America/New_York".parse().unwrap();
        assert_eq!(parse_at("2024-12-31", ny).unwrap().to_rfc3339(), "2025-01-01T04:59:59.999+00:00");
        assert_eq!(parse_at("2024-12-31 20:00:00", ny).unwrap().to_rfc3339(), "2025-01-01T01:00:00+00:00");
        assert_eq!(parse_at("2024-06-01T12:00:00Z", ny).unwrap().to_rfc3339(), "2024-06-01T12:00:00+00:00");
    }
}

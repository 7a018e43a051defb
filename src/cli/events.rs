//! `cointally events [--account L] [--asset A] [--kind K] [--year Y] [--limit N]`: the year and
//! the times shown follow the ledger's time zone (`settings timezone`); `--json` keeps `time`
//! in UTC and adds `local_time`.

use std::io::Write;

use cointally_exchanges::amount::format_amount;
use cointally_exchanges::time::format_rfc3339;
use cointally_exchanges::{EventKind, LegRole, asset_symbol};
use serde::Serialize;

use crate::ledger::EventFilter;
use crate::tax::zone::Zone;

use super::output::{Align, JsonList, Table};
use super::{Context, Failure};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this account
    #[arg(long)]
    account: Option<String>,
    /// Only events that move this asset
    #[arg(long)]
    asset: Option<String>,
    /// Only this kind (trade, deposit, withdrawal, staking, ...)
    #[arg(long, value_parser = clap::builder::ValueParser::new(|s: &str| s.parse::<EventKind>()))]
    kind: Option<EventKind>,
    /// Only this calendar year (in the ledger's time zone), 2009 to 2100
    #[arg(long, value_parser = super::report::parse_year)]
    year: Option<i32>,
    /// At most this many events (the earliest that match)
    #[arg(long)]
    limit: Option<u64>,
}

/// `events --json`: one object per event.
#[derive(Serialize)]
struct EventJson {
    id: i64,
    account: String,
    time: String,
    /// The time in the ledger's time zone, RFC 3339 with its offset.
    local_time: String,
    kind: &'static str,
    legs: Vec<LegJson>,
    tx_hash: Option<String>,
    external_id: String,
}

#[derive(Serialize)]
struct LegJson {
    asset: String,
    amount: String,
    role: &'static str,
}

pub fn run(context: &Context, args: Args) -> anyhow::Result<()> {
    let ledger = context.open_ledger()?;
    if let Some(label) = &args.account {
        ledger.account(label)?;
    }
    let asset =
        args.asset.as_deref().map(asset_symbol).transpose().map_err(|e| Failure::input(format!("--asset: {e}")))?;
    let zone = Zone::of_ledger(&ledger)?;
    let (from, until) = match args.year {
        Some(year) => (
            chrono::DateTime::from_timestamp_millis(zone.year_start_ms(year)),
            chrono::DateTime::from_timestamp_millis(zone.year_start_ms(year + 1)),
        ),
        None => (None, None),
    };
    let filter =
        EventFilter { account: args.account, asset, kind: args.kind, from, until, limit: args.limit, id: None };
    // Both outputs are written as the events are read, one in memory at a time (the table
    // holds its first rows to size its columns: `Table::stream_row`).
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    if context.json {
        let mut list = JsonList::new(&mut out);
        ledger.for_each_event(&filter, |e| -> anyhow::Result<()> {
            let json = EventJson {
                id: e.id,
                account: e.account,
                time: format_rfc3339(e.time),
                local_time: zone.rfc3339(e.time.timestamp_millis()),
                kind: e.kind.as_str(),
                legs: e
                    .legs
                    .into_iter()
                    .map(|l| LegJson { asset: l.asset, amount: format_amount(l.amount), role: l.role.as_str() })
                    .collect(),
                tx_hash: e.tx_hash,
                external_id: e.external_id,
            };
            Ok(list.push(&json)?)
        })?;
        list.finish()?;
        return Ok(out.flush()?);
    }
    let mut table = Table::new(&[
        ("Time", Align::Left),
        ("Account", Align::Left),
        ("Kind", Align::Left),
        ("Legs", Align::Left),
        ("Tx hash", Align::Left),
        ("Id", Align::Right),
    ])
    .heading(0, format!("Time ({})", zone.name()));
    let mut any = false;
    ledger.for_each_event(&filter, |e| -> anyhow::Result<()> {
        any = true;
        let legs = e
            .legs
            .iter()
            .map(|l| {
                let sign = if l.amount.is_sign_positive() { "+" } else { "" };
                let fee = if l.role == LegRole::Fee { " (fee)" } else { "" };
                format!("{sign}{} {}{fee}", format_amount(l.amount), l.asset)
            })
            .collect::<Vec<_>>()
            .join(", ");
        let row = vec![
            zone.local(e.time.timestamp_millis()).format("%Y-%m-%d %H:%M:%S").to_string(),
            e.account,
            e.kind.to_string(),
            legs,
            e.tx_hash.unwrap_or_default(),
            e.id.to_string(),
        ];
        Ok(table.stream_row(row, &mut out)?)
    })?;
    if !any {
        context.note("no events match");
        return Ok(());
    }
    Ok(table.finish(&mut out)?)
}

//! cointally's own reports as CSV: the year's income, the lots held at its end, and the audit
//! trail of every disposal back to the raw records it came from.

use std::io::{self, Write};

use cointally_exchanges::amount::format_amount;

use super::{Format, Input, Kind, csv_writer, dated, iso_date, iso_time};
use crate::tax::report::money;
use crate::tax::rounding::spread_cents;

fn yes_no(flag: bool) -> &'static str {
    if flag { "yes" } else { "no" }
}

/// `income`.
pub struct Income;

impl Format for Income {
    fn name(&self) -> &'static str {
        "income"
    }

    fn description(&self) -> &'static str {
        "Income received in the year (staking, interest, airdrops, ...): date, asset, amount, value, kind"
    }

    fn kind(&self) -> Kind {
        Kind::Gains
    }

    fn write(&self, input: &Input, out: &mut dyn Write) -> io::Result<usize> {
        let mut w = csv_writer(out, false);
        let value = format!("Value ({})", input.currency);
        let date = dated("Date", input.report.zone);
        w.write_record([&date, "Asset", "Amount", &value, "Kind", "Account", "Event ID", "Price missing"])?;
        // The cents the report gives each row (the year's income rounded once, spread).
        let values = spread_cents(&input.income.iter().map(|i| i.value).collect::<Vec<_>>());
        let mut rows: Vec<_> = input.income.iter().zip(values).collect();
        rows.sort_by_key(|(i, _)| (i.received_ms, i.event_id, i.asset.clone()));
        for (i, value) in &rows {
            w.write_record([
                &iso_time(input.report.zone, i.received_ms),
                &i.asset,
                &format_amount(i.amount),
                &money(*value),
                i.kind.as_str(),
                input.labels.get(&i.account_id).map(String::as_str).unwrap_or(""),
                &i.event_id.to_string(),
                yes_no(i.price_missing),
            ])?;
        }
        w.flush()?;
        Ok(rows.len())
    }
}

/// `holdings`.
pub struct Holdings;

impl Format for Holdings {
    fn name(&self) -> &'static str {
        "holdings"
    }

    fn description(&self) -> &'static str {
        "Lots still held at the end of the year: asset, amount, acquisition date, cost basis, wallet"
    }

    fn kind(&self) -> Kind {
        Kind::Gains
    }

    fn write(&self, input: &Input, out: &mut dyn Write) -> io::Result<usize> {
        let mut w = csv_writer(out, false);
        let basis = format!("Cost basis ({})", input.currency);
        w.write_record(["Asset", "Amount", "Date acquired", &basis, "Account", "Lot event ID", "Basis missing"])?;
        let mut rows: Vec<_> = input.holdings.iter().collect();
        rows.sort_by(|a, b| {
            (&a.asset, a.acquired_ms, a.lot_event_id, a.account_id).cmp(&(
                &b.asset,
                b.acquired_ms,
                b.lot_event_id,
                b.account_id,
            ))
        });
        for h in &rows {
            w.write_record([
                &h.asset,
                &format_amount(h.amount),
                &iso_date(input.report.zone, h.acquired_ms),
                &money(h.cost_basis),
                h.account_id.and_then(|a| input.labels.get(&a)).map(String::as_str).unwrap_or(""),
                &h.lot_event_id.to_string(),
                yes_no(h.basis_missing),
            ])?;
        }
        w.flush()?;
        Ok(rows.len())
    }
}

/// `audit`.
pub struct Audit;

impl Format for Audit {
    fn name(&self) -> &'static str {
        "audit"
    }

    fn description(&self) -> &'static str {
        "Every disposal with its lot, dates, amounts, proceeds, basis, gain, term, and the events and raw records behind it"
    }

    fn kind(&self) -> Kind {
        Kind::Gains
    }

    fn reads_sources(&self) -> bool {
        true
    }

    fn write(&self, input: &Input, out: &mut dyn Write) -> io::Result<usize> {
        let mut w = csv_writer(out, false);
        let c = &input.currency;
        w.write_record([
            "Asset",
            "Amount",
            &dated("Acquired", input.report.zone),
            &dated("Disposed", input.report.zone),
            &format!("Proceeds ({c})"),
            &format!("Cost basis ({c})"),
            &format!("Gain ({c})"),
            "Term",
            "Kind",
            "Account",
            "Event ID",
            "Event raw records",
            "Lot event ID",
            "Lot raw records",
            "Proceeds unrounded",
            "Cost basis unrounded",
            "Basis missing",
            "Price missing",
        ])?;
        // The raw records of the last event asked (a disposal's rows follow one another): read
        // from the ledger row by row, not all held.
        let mut last: Option<(i64, String)> = None;
        let mut records = |event: i64| -> io::Result<String> {
            if let Some((id, text)) = &last {
                if *id == event {
                    return Ok(text.clone());
                }
            }
            let text = input.raw_records_text(event)?;
            last = Some((event, text.clone()));
            Ok(text)
        };
        // The report's lines and the engine's disposals are the same rows in the same order.
        for (line, d) in input.report.lines.iter().zip(&input.disposals) {
            let event_records = records(d.event_id)?;
            let lot_records = match d.lot_event_id {
                Some(lot) => input.raw_records_text(lot)?,
                None => String::new(),
            };
            w.write_record([
                &line.asset,
                &format_amount(line.amount),
                &iso_time(input.report.zone, line.acquired_ms),
                &iso_time(input.report.zone, line.disposed_ms),
                &money(line.proceeds),
                &money(line.cost_basis),
                &money(line.gain()),
                line.term.as_str(),
                line.kind.as_str(),
                &line.account,
                &line.event_id.to_string(),
                &event_records,
                &d.lot_event_id.map(|l| l.to_string()).unwrap_or_default(),
                &lot_records,
                &format_amount(d.proceeds),
                &format_amount(d.cost_basis),
                yes_no(line.basis_missing),
                yes_no(line.price_missing),
            ])?;
            debug_assert!((d.proceeds - line.proceeds).abs() < rust_decimal::Decimal::new(1, 2));
        }
        w.flush()?;
        Ok(input.report.lines.len())
    }
}

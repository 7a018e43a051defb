//! Gains files for US tax software: TurboTax's gains CSV and TaxAct's Form
//! 1099-B import, each in the columns its import screen documents.
//!
//! TaxAct's `Reporting Category` is the row's Form 8949 box (G–L from 2025, C/F before; TaxAct
//! documents A–F, <https://www.taxact.com/support/882/form-1099-b-create-your-own-spreadsheet-csv-file>,
//! and the 2025 digital-asset boxes follow the same letters on Form 8949), with the 1099-DA
//! adjustment code and amount where there is one. TurboTax's file has no box or code column
//! and is unchanged.
//!
//! TaxAct takes at most 2,000 rows: past that the file holds one summary row per Form 8949 box
//! instead (`Various` acquired, code `M`, the totals), and the `form8949` export is the
//! statement to attach, as the Form 8949 instructions allow for many transactions.

use std::collections::BTreeMap;
use std::io::{self, Write};

use rust_decimal::Decimal;

use super::forms::{columns, description, rows_by_part};
use super::{Format, Input, Kind, csv_writer, us_date};
use crate::ledger::Term;
use crate::tax::boxes::FormBox;
use crate::tax::report::money;

/// The most rows TaxAct imports; past it the export summarises per box.
pub const TAXACT_MAX_ROWS: usize = 2000;

/// `turbotax`.
pub struct TurboTaxGains;

impl Format for TurboTaxGains {
    fn name(&self) -> &'static str {
        "turbotax"
    }

    fn description(&self) -> &'static str {
        "TurboTax gains CSV (Currency Name, Purchase Date, Cost Basis, Date Sold, Proceeds): one row per lot sold"
    }

    fn kind(&self) -> Kind {
        Kind::Gains
    }

    fn write(&self, input: &Input, out: &mut dyn Write) -> io::Result<usize> {
        let mut w = csv_writer(out, false);
        w.write_record(["Currency Name", "Purchase Date", "Cost Basis", "Date Sold", "Proceeds"])?;
        let lines = rows_by_part(input);
        for line in &lines {
            w.write_record([
                &description(line),
                &us_date(input.report.zone, line.acquired_ms),
                &money(line.cost_basis),
                &us_date(input.report.zone, line.disposed_ms),
                &money(line.proceeds),
            ])?;
        }
        w.flush()?;
        Ok(lines.len())
    }
}

/// `taxact`.
pub struct TaxAct;

impl Format for TaxAct {
    fn name(&self) -> &'static str {
        "taxact"
    }

    fn description(&self) -> &'static str {
        "TaxAct Form 1099-B CSV import (Stock Assistant); past 2,000 rows one summary row per box, code M"
    }

    fn kind(&self) -> Kind {
        Kind::Gains
    }

    fn write(&self, input: &Input, out: &mut dyn Write) -> io::Result<usize> {
        write_taxact(input, out, TAXACT_MAX_ROWS)
    }
}

/// A box's summary row: rows, last date sold, proceeds, basis, adjustments.
type BoxSum = (usize, i64, Decimal, Decimal, Decimal);

/// TaxAct's CSV, rows listed up to `max_rows`, summarised per box past it.
fn write_taxact(input: &Input, out: &mut dyn Write, max_rows: usize) -> io::Result<usize> {
    let mut w = csv_writer(out, false);
    let lines = rows_by_part(input);
    let header = [
        "Description",
        "Date Acquired",
        "Date Sold",
        "Sales Proceeds",
        "Cost or Other Basis",
        "Reporting Category",
        "Adjustment Code",
        "Adjustment Amount",
    ];
    if lines.len() <= max_rows {
        w.write_record(header)?;
        for line in &lines {
            let (proceeds, basis, codes, adjustment) = columns(line);
            w.write_record([
                &description(line),
                &us_date(input.report.zone, line.acquired_ms),
                &us_date(input.report.zone, line.disposed_ms),
                &money(proceeds),
                &money(basis),
                line.form_box.as_str(),
                codes,
                &adjustment.map(money).unwrap_or_default(),
            ])?;
        }
        w.flush()?;
        return Ok(lines.len());
    }
    // `Various` needs the term spelled out.
    w.write_record(header.iter().copied().chain(["Long/Short"]))?;
    let mut boxes: BTreeMap<(Term, FormBox), BoxSum> = BTreeMap::new();
    for line in &lines {
        let (proceeds, basis, _, adjustment) = columns(line);
        let entry = boxes.entry((line.term, line.form_box)).or_default();
        entry.0 += 1;
        entry.1 = entry.1.max(line.disposed_ms);
        entry.2 += proceeds;
        entry.3 += basis;
        entry.4 += adjustment.unwrap_or_default();
    }
    for ((term, form_box), (count, last_sold, proceeds, basis, adjustment)) in &boxes {
        let term_name = match term {
            Term::Short => "Short",
            Term::Long => "Long",
        };
        w.write_record([
            format!("Digital assets: {count} sales (statement attached)").as_str(),
            "Various",
            &us_date(input.report.zone, *last_sold),
            &money(*proceeds),
            &money(*basis),
            form_box.as_str(),
            "M",
            &if adjustment.is_zero() { String::new() } else { money(*adjustment) },
            term_name,
        ])?;
    }
    w.flush()?;
    Ok(boxes.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::tests_support::sample_input;

    #[test]
    fn taxact_lists_rows_up_to_the_limit_and_summarises_past_it() {
        let input = sample_input();
        let mut listed = Vec::new();
        assert_eq!(write_taxact(&input, &mut listed, 3).unwrap(), 3);
        let listed = String::from_utf8(listed).unwrap();
        assert_eq!(
            listed,
            "Description,Date Acquired,Date Sold,Sales Proceeds,Cost or Other Basis,Reporting Category,Adjustment Code,Adjustment Amount\n\
             0.2 BTC,01/15/2025,06/20/2025,20995.00,18004.00,I,,\n\
             0.05 BTC,01/15/2025,08/01/2025,5000.00,4501.00,I,,\n\
             1.5 ETH,02/01/2023,03/05/2025,3450.00,2400.00,L,,\n"
        );
        let mut summary = Vec::new();
        assert_eq!(write_taxact(&input, &mut summary, 2).unwrap(), 2);
        assert_eq!(
            String::from_utf8(summary).unwrap(),
            "Description,Date Acquired,Date Sold,Sales Proceeds,Cost or Other Basis,Reporting Category,Adjustment Code,Adjustment Amount,Long/Short\n\
             Digital assets: 2 sales (statement attached),Various,08/01/2025,25995.00,22505.00,I,M,,Short\n\
             Digital assets: 1 sales (statement attached),Various,03/05/2025,3450.00,2400.00,L,M,,Long\n"
        );
    }
}

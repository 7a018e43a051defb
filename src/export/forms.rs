//! IRS Form 8949 as a flat CSV (one row per lot fragment, by part and box) and the Schedule D
//! lines its totals go to (<https://www.irs.gov/instructions/i8949>,
//! <https://www.irs.gov/instructions/i1040sd>).
//!
//! cointally knows of no Form 1099-DA or 1099-B, so every row goes in the box for
//! transactions not reported to the IRS: from tax year 2025 the digital-asset boxes I (short)
//! and L (long), before 2025 boxes C and F. No adjustment codes are written: the basis in (e)
//! is cointally's own.

use std::io::{self, Write};

use cointally_exchanges::amount::format_amount;
use rust_decimal::Decimal;

use super::{Format, Input, Kind, csv_writer, us_date};
use crate::ledger::Term;
use crate::tax::report::{Line, money};

/// From this tax year, digital assets have their own Form 8949 boxes (G–L).
pub const DIGITAL_ASSET_BOXES_FROM: i32 = 2025;

/// Form 8949's part for a term: `I` short, `II` long.
pub fn part(term: Term) -> &'static str {
    match term {
        Term::Short => "I",
        Term::Long => "II",
    }
}

/// The box for a row not on any 1099: I/L from 2025, C/F before.
pub fn form_box(year: i32, term: Term) -> &'static str {
    match (year >= DIGITAL_ASSET_BOXES_FROM, term) {
        (true, Term::Short) => "I",
        (true, Term::Long) => "L",
        (false, Term::Short) => "C",
        (false, Term::Long) => "F",
    }
}

/// Column (a): `0.2 BTC`.
pub fn description(line: &Line) -> String {
    format!("{} {}", format_amount(line.amount), line.asset)
}

/// The report's rows by part, then in time order (ties by event, then as computed).
pub fn rows_by_part(input: &Input) -> Vec<&Line> {
    let mut lines: Vec<(usize, &Line)> = input.report.lines.iter().enumerate().collect();
    lines.sort_by_key(|(i, l)| (l.term, l.disposed_ms, l.event_id, *i));
    lines.into_iter().map(|(_, l)| l).collect()
}

/// `form8949`.
pub struct Form8949;

impl Format for Form8949 {
    fn name(&self) -> &'static str {
        "form8949"
    }

    fn description(&self) -> &'static str {
        "IRS Form 8949 as CSV: one row per lot sold, by part (short/long) and box, for an accountant or a statement"
    }

    fn kind(&self) -> Kind {
        Kind::Gains
    }

    fn write(&self, input: &Input, out: &mut dyn Write) -> io::Result<usize> {
        let mut w = csv_writer(out, false);
        w.write_record([
            "Part",
            "Box",
            "Description",
            "Date acquired",
            "Date sold or disposed of",
            "Proceeds",
            "Cost or other basis",
            "Code(s)",
            "Adjustment",
            "Gain or (loss)",
        ])?;
        let lines = rows_by_part(input);
        for line in &lines {
            w.write_record([
                part(line.term),
                form_box(input.year, line.term),
                &description(line),
                &us_date(line.acquired_ms),
                &us_date(line.disposed_ms),
                &money(line.proceeds),
                &money(line.cost_basis),
                "",
                "",
                &money(line.gain()),
            ])?;
        }
        w.flush()?;
        Ok(lines.len())
    }
}

/// `schedule-d`.
pub struct ScheduleD;

/// Sums of a box's rows: proceeds, basis, gain.
fn sums<'a>(lines: impl Iterator<Item = &'a Line>) -> (Decimal, Decimal, Decimal) {
    lines.fold((Decimal::ZERO, Decimal::ZERO, Decimal::ZERO), |(p, b, g), l| {
        (p + l.proceeds, b + l.cost_basis, g + l.gain())
    })
}

impl Format for ScheduleD {
    fn name(&self) -> &'static str {
        "schedule-d"
    }

    fn description(&self) -> &'static str {
        "Schedule D summary: the Form 8949 box totals on lines 3 and 10 and the net gain on line 16"
    }

    fn kind(&self) -> Kind {
        Kind::Gains
    }

    fn write(&self, input: &Input, out: &mut dyn Write) -> io::Result<usize> {
        let mut w = csv_writer(out, false);
        w.write_record(["Line", "Description", "Proceeds", "Cost or other basis", "Adjustments", "Gain or (loss)"])?;
        let digital = input.year >= DIGITAL_ASSET_BOXES_FROM;
        let mut net = Decimal::ZERO;
        for (line, term, boxes) in [
            ("3", Term::Short, if digital { "Form 8949 Box C or I" } else { "Form 8949 Box C" }),
            ("10", Term::Long, if digital { "Form 8949 Box F or L" } else { "Form 8949 Box F" }),
        ] {
            let (proceeds, basis, gain) = sums(input.report.lines.iter().filter(|l| l.term == term));
            net += gain;
            w.write_record([line, boxes, &money(proceeds), &money(basis), "0.00", &money(gain)])?;
        }
        w.write_record(["16", "Net capital gain or (loss)", "", "", "", &money(net)])?;
        w.flush()?;
        Ok(3)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxes_by_year_and_term() {
        assert_eq!(form_box(2024, Term::Short), "C");
        assert_eq!(form_box(2024, Term::Long), "F");
        assert_eq!(form_box(2025, Term::Short), "I");
        assert_eq!(form_box(2026, Term::Long), "L");
        assert_eq!((part(Term::Short), part(Term::Long)), ("I", "II"));
    }
}

//! IRS Form 8949 as a flat CSV (one row per lot fragment, by part and box) and the Schedule D
//! lines its totals go to (<https://www.irs.gov/instructions/i8949>,
//! <https://www.irs.gov/instructions/i1040sd>).
//!
//! Each row goes in its box ([`crate::tax::boxes`]): G–L from tax year 2025, C/F before. A row
//! whose figures differ from the broker's Form 1099-DA carries the broker's proceeds in (d) (and,
//! in boxes G/J, the broker's basis in (e)) with the codes in (f) and the adjustment in (g) that
//! bring (h) to cointally's gain, as the instructions for columns (d), (e), (f) and (g) say;
//! other rows have empty (f) and (g) and cointally's own figures.

use std::io::{self, Write};

use cointally_exchanges::amount::format_amount;
use rust_decimal::Decimal;

use super::{Format, Input, Kind, csv_writer, us_date};
use crate::ledger::Term;
use crate::tax::boxes::{DIGITAL_ASSET_BOXES_FROM, FormBox};
use crate::tax::report::{Line, money};

/// Form 8949's part for a term: `I` short, `II` long.
pub fn part(term: Term) -> &'static str {
    match term {
        Term::Short => "I",
        Term::Long => "II",
    }
}

/// Column (a): `0.2 BTC`.
pub fn description(line: &Line) -> String {
    format!("{} {}", format_amount(line.amount), line.asset)
}

/// Columns (d), (e), (f), (g) of a row: the broker's figures and the adjustment where its
/// 1099-DA differs, cointally's own otherwise.
pub fn columns(line: &Line) -> (Decimal, Decimal, &str, Option<Decimal>) {
    match &line.adjustment {
        Some(a) => (a.proceeds, a.cost_basis, a.codes.as_str(), Some(a.amount)),
        None => (line.proceeds, line.cost_basis, "", None),
    }
}

/// The report's rows by part, then box (one box per form page), then in time order (ties by
/// event, then as computed).
pub fn rows_by_part<'i>(input: &'i Input<'_>) -> Vec<&'i Line> {
    let mut lines: Vec<(usize, &Line)> = input.report.lines.iter().enumerate().collect();
    lines.sort_by_key(|(i, l)| (l.term, l.form_box, l.disposed_ms, l.event_id, *i));
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
            let (proceeds, basis, codes, adjustment) = columns(line);
            w.write_record([
                part(line.term),
                line.form_box.as_str(),
                &description(line),
                &us_date(input.report.zone, line.acquired_ms),
                &us_date(input.report.zone, line.disposed_ms),
                &money(proceeds),
                &money(basis),
                codes,
                &adjustment.map(money).unwrap_or_default(),
                &money(line.gain()),
            ])?;
        }
        w.flush()?;
        Ok(lines.len())
    }
}

/// `schedule-d`.
pub struct ScheduleD;

/// Sums of a box's rows as the form shows them: proceeds (d), basis (e), adjustments (g), gain (h).
fn sums<'a>(lines: impl Iterator<Item = &'a Line>) -> [Decimal; 4] {
    lines.fold([Decimal::ZERO; 4], |[p, b, g, h], l| {
        let (proceeds, basis, _, adjustment) = columns(l);
        [p + proceeds, b + basis, g + adjustment.unwrap_or_default(), h + l.gain()]
    })
}

/// Schedule D's lines for Form 8949 boxes: (line, the boxes it takes, its name from 2025, its
/// name before, whether it is written when empty).
const SCHEDULE_D_LINES: [(&str, [FormBox; 2], &str, &str, bool); 6] = [
    ("1b", [FormBox::G, FormBox::G], "Form 8949 Box A or G", "Form 8949 Box A", false),
    ("2", [FormBox::H, FormBox::H], "Form 8949 Box B or H", "Form 8949 Box B", false),
    ("3", [FormBox::C, FormBox::I], "Form 8949 Box C or I", "Form 8949 Box C", true),
    ("8b", [FormBox::J, FormBox::J], "Form 8949 Box D or J", "Form 8949 Box D", false),
    ("9", [FormBox::K, FormBox::K], "Form 8949 Box E or K", "Form 8949 Box E", false),
    ("10", [FormBox::F, FormBox::L], "Form 8949 Box F or L", "Form 8949 Box F", true),
];

impl Format for ScheduleD {
    fn name(&self) -> &'static str {
        "schedule-d"
    }

    fn description(&self) -> &'static str {
        "Schedule D summary: the Form 8949 box totals on lines 1b-3 and 8b-10 and the net gain on line 16"
    }

    fn kind(&self) -> Kind {
        Kind::Gains
    }

    fn write(&self, input: &Input, out: &mut dyn Write) -> io::Result<usize> {
        let mut w = csv_writer(out, false);
        w.write_record(["Line", "Description", "Proceeds", "Cost or other basis", "Adjustments", "Gain or (loss)"])?;
        let digital = input.year >= DIGITAL_ASSET_BOXES_FROM;
        let mut net = Decimal::ZERO;
        let mut rows = 1;
        for (line, boxes, digital_name, name, always) in SCHEDULE_D_LINES {
            let mut taken = input.report.lines.iter().filter(|l| boxes.contains(&l.form_box)).peekable();
            if !always && taken.peek().is_none() {
                continue;
            }
            let [proceeds, basis, adjustments, gain] = sums(taken);
            net += gain;
            rows += 1;
            let name = if digital { digital_name } else { name };
            w.write_record([line, name, &money(proceeds), &money(basis), &money(adjustments), &money(gain)])?;
        }
        w.write_record(["16", "Net capital gain or (loss)", "", "", "", &money(net)])?;
        w.flush()?;
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_by_term() {
        assert_eq!((part(Term::Short), part(Term::Long)), ("I", "II"));
    }
}

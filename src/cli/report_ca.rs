//! `cointally report` and `cointally export schedule3|acb` for a Canadian ledger (or with
//! `--jurisdiction ca`): calendar years, the CRA's adjusted cost base and superficial losses,
//! the Schedule 3 figures, in Canadian dollars.

use std::io::Write;

use anyhow::Context as _;
use cointally_exchanges::amount::format_amount;

use crate::diff::{Run, RunManifest, RunRow, totals_of};
use crate::export::html::CountryYear;
use crate::ledger::Ledger;
use crate::tax::ca::export::{CaFormat, render};
use crate::tax::ca::report::CaReport;
use crate::tax::ca::year::{LINE_GAIN, LINE_PROCEEDS, LINE_TAXABLE};
use crate::tax::ca::{self, CaComputed, Treatment};
use crate::tax::jurisdiction::Jurisdiction;
use crate::tax::report::money;
use crate::tax::uk::day::date_of;
use crate::tax::years::Start;

use super::output::{Align, Table};
use super::report::{TaxChoices, Years, note_start, print_documents, print_each};
use super::report_uk::{Output, emit_years, prepare};
use super::{Context, Failure};

/// Checks the currency and the prices, matches transfers and computes the Canadian years (one
/// pass); returns them with the legs without a value, the currency and the treatment.
fn compute(
    context: &Context,
    ledger: &mut Ledger,
    args: &TaxChoices,
    years: Years,
    start: Start,
) -> anyhow::Result<(Vec<CaComputed>, usize, String, Treatment)> {
    if args.method.is_some() || args.lots != crate::tax::Tracking::Us {
        context.note("note: --method and --lots are US choices; Canadian rules pool each token (no lots)");
    }
    let (matching, missing, currency) =
        prepare(context, ledger, args, Jurisdiction::Ca, ("Canadian dollars", "Canadian dollars"), start)?;
    let treatment = Treatment::of_ledger(ledger)
        .map_err(|e| Failure::input(e.to_string()).hint("cointally settings ca_treatment capital (or business)"))?;
    let (computed, info) = ca::compute_years(ledger, years.all(), &matching, start)?;
    note_start(context, &info, Jurisdiction::Ca);
    Ok((computed, missing, currency, treatment))
}

/// `cointally report` under Canadian rules: one calendar year, or several in one pass.
pub fn run(
    context: &Context,
    ledger: &mut Ledger,
    args: &TaxChoices,
    years: Years,
    start: Start,
) -> anyhow::Result<()> {
    let (computed, _, currency, treatment) = compute(context, ledger, args, years, start)?;
    let reports: Vec<CaReport> = computed.iter().map(|c| CaReport::new(c, &currency, treatment)).collect();
    if context.json {
        return print_documents(reports.iter().map(CaReport::to_json), years);
    }
    print_each(&reports, print_report)
}

/// Prints a Canadian report as tables (written whole, so a closed pipe is an error the
/// command ends on quietly rather than a panic of `println!`).
pub fn print_report(report: &CaReport<'_>) -> anyhow::Result<()> {
    let mut text = Vec::new();
    write_report(report, &mut text)?;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&text)?;
    Ok(stdout.flush()?)
}

/// Writes a Canadian report as tables.
fn write_report(report: &CaReport<'_>, out: &mut Vec<u8>) -> std::io::Result<()> {
    let c = report.computed;
    let f = &report.figures;
    writeln!(
        out,
        "Tax year {} (1 January to 31 December), Canadian rules (adjusted cost base, superficial losses), {}, {} treatment",
        c.year.label, report.currency, report.treatment
    )?;
    if !c.zone.is_utc() {
        writeln!(
            out,
            "dates, the year's bounds and the 30-day windows: local dates in {} (the ledger's timezone)",
            c.zone.name()
        )?;
    }
    writeln!(out)?;
    let mut table = Table::new(&[("Schedule 3, crypto-assets", Align::Left), ("Year", Align::Right)]);
    table.row(vec!["Number of dispositions".into(), f.dispositions.to_string()]);
    table.row(vec![format!("Proceeds of disposition (line {LINE_PROCEEDS})"), money(f.proceeds)]);
    table.row(vec!["Adjusted cost base (less denied losses)".into(), money(f.schedule3_acb())]);
    table.row(vec!["Outlays and expenses".into(), money(f.outlays)]);
    table.row(vec![format!("Gain or loss (line {LINE_GAIN})"), money(f.net())]);
    table.write(out)?;
    writeln!(out)?;
    writeln!(
        out,
        "Superficial losses denied: {} ({} dispositions), added to the ACB of the units held",
        money(f.denied),
        f.denials
    )?;
    match report.treatment {
        Treatment::Capital => {
            writeln!(
                out,
                "Inclusion rate 50%: taxable capital gain {} (line {LINE_TAXABLE}); allowable capital loss {}",
                money(f.taxable_capital_gain()),
                money(f.allowable_capital_loss())
            )?;
            let available = report.computed.losses_brought_forward;
            if !available.is_zero() {
                let applied = f.net_capital_losses_applied(report.treatment, available);
                writeln!(
                    out,
                    "Net capital losses of other years (your losses_brought_forward {} setting): {} available; up to {} can be claimed on line 25300 (you may claim less); {} would remain",
                    report.computed.year.year,
                    money(available),
                    money(applied),
                    money(available - applied)
                )?;
            }
        }
        Treatment::Business => writeln!(
            out,
            "Business treatment: the net gain {} and the rewards {} are business income, fully included (not on Schedule 3)",
            money(f.net()),
            money(report.income())
        )?,
    }
    if !report.income_by_kind.is_empty() {
        writeln!(out)?;
        writeln!(out, "Income at fair market value on receipt (line 13000 other income, or business income):")?;
        let mut table = Table::new(&[("Kind", Align::Left), ("Value", Align::Right)]);
        for (kind, value) in &report.income_by_kind {
            table.row(vec![kind.clone(), money(*value)]);
        }
        table.write(out)?;
    }
    let denials: Vec<_> = c.disposals.iter().filter_map(|d| d.row.denial.as_ref().map(|n| (d, n))).collect();
    if !denials.is_empty() {
        writeln!(out)?;
        writeln!(out, "Superficial losses:")?;
        let mut table = Table::new(&[
            ("Date", Align::Left),
            ("Token", Align::Left),
            ("Sold", Align::Right),
            ("Loss", Align::Right),
            ("Denied", Align::Right),
            ("Caused by (acquired in the 61 days; held on day 30)", Align::Left),
        ]);
        for (d, n) in denials {
            let caused: Vec<String> = n
                .acquisitions
                .iter()
                .map(|(day, units)| format!("{} on {}", format_amount(*units), date_of(*day)))
                .collect();
            table.row(vec![
                date_of(d.row.day).to_string(),
                d.asset.clone(),
                format_amount(n.sold),
                money(n.loss),
                money(n.denied),
                format!("{}; held {}", caused.join(", "), format_amount(n.held_after)),
            ]);
        }
        table.write(out)?;
    }
    writeln!(out)?;
    writeln!(out, "Holdings and their ACB at {}:", c.year.last_day.format("%-d %B %Y"))?;
    let mut table = Table::new(&[("Token", Align::Left), ("Units", Align::Right), ("ACB", Align::Right)]);
    for h in &c.holdings {
        table.row(vec![h.asset.clone(), format_amount(h.holding.units), money(h.holding.cost)]);
    }
    table.write(out)?;
    if !c.lost.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "{} lost or stolen holdings are still held (no disposition; README: Canada (CRA))",
            c.lost.len()
        )?;
    }
    let missing_basis = c.disposals.iter().filter(|d| d.row.basis_missing).count();
    writeln!(out)?;
    writeln!(out, "{} dispositions (`--json` and `export acb` list them)", c.disposals.len())?;
    if missing_basis > 0 {
        writeln!(
            out,
            "{missing_basis} of them use a cost that is not known (counted as zero): `cointally check` says why"
        )?;
    }
    writeln!(
        out,
        "manifest: cointally {}, Canadian rules, inputs sha256 {}",
        env!("CARGO_PKG_VERSION"),
        c.inputs_hash
    )?;
    Ok(())
}

/// `cointally export schedule3|acb`: one file per calendar year.
pub fn export(context: &Context, format: CaFormat, output: Output, tax: &TaxChoices) -> anyhow::Result<()> {
    let years = output.years(format.name(), "2024")?;
    let mut ledger = context.open_ledger()?;
    let (computed, missing, currency, treatment) = compute(context, &mut ledger, tax, years, Start::Snapshot)?;
    let missing = (missing, tax.allow_missing_prices);
    let files = computed.iter().map(|c| (c.year.year, CaReport::new(c, &currency, treatment)));
    emit_years(
        context,
        &output,
        files,
        |year| format.default_file_name(year),
        |report, file| render(format, report, missing, file),
    )
}

/// `export html` under Canadian rules, each year of `years` in one pass: the report's totals,
/// each disposition (gain after any superficial-loss denial) by local date, the ACB held per
/// token at the year's end.
pub(super) fn html_years(
    context: &Context,
    ledger: &mut Ledger,
    args: &TaxChoices,
    years: Years,
) -> anyhow::Result<Vec<CountryYear>> {
    let (computed, _, currency, treatment) = compute(context, ledger, args, years, Start::Snapshot)?;
    Ok(computed
        .iter()
        .map(|c| CountryYear {
            year: c.year.year,
            period: format!("tax year {} ({currency}, Canadian rules, {treatment} treatment)", c.year.label),
            days: (c.year.first_day, c.year.last_day),
            report: CaReport::new(c, &currency, treatment).to_json(),
            disposals: c.disposals.iter().map(|d| (d.asset.clone(), date_of(d.row.day), d.row.gain())).collect(),
            income: c.income.iter().map(|i| (c.zone.date(i.received_ms), i.value)).collect(),
            holdings: c.holdings.iter().map(|h| (h.asset.clone(), h.holding.units, h.holding.cost)).collect(),
            rules: "CA rules".to_owned(),
            inputs_hash: c.inputs_hash.clone(),
        })
        .collect())
}

/// The run manifest of the Canadian tax year `year` (`diff`): its dispositions by event, ACB
/// and outlays as their cost; the inputs read up to 30 days past its end.
pub(super) fn manifest(
    context: &Context,
    ledger: &mut Ledger,
    args: &TaxChoices,
    year: i32,
) -> anyhow::Result<RunManifest> {
    let (mut computed, _, currency, treatment) = compute(context, ledger, args, Years::one(year), Start::Snapshot)?;
    let c = computed.pop().context("the year was not computed")?;
    let rows = c.disposals.iter().map(|d| {
        let r = &d.row;
        let text = format!(
            "{} {}: {} / {} + {} (denied {})",
            r.units.normalize(),
            d.asset,
            r.proceeds,
            r.acb,
            r.outlays,
            r.denied()
        );
        RunRow { event_id: r.event_id, part: r.kind.as_str().to_owned(), text }
    });
    let run = Run {
        year,
        currency: &currency,
        options: format!("CA rules, {treatment} treatment"),
        inputs_hash: &c.inputs_hash,
        until_ms: Jurisdiction::Ca.rules().events_until_ms(year),
        assets: totals_of(
            c.disposals
                .iter()
                .map(|d| (d.asset.as_str(), d.row.proceeds, d.row.acb.saturating_add(d.row.outlays), d.row.gain())),
            c.income.iter().map(|i| (i.asset.as_str(), i.value)),
        ),
        rows: rows.collect(),
    };
    Ok(RunManifest::of_run(ledger, run)?)
}

//! `cointally report` and `cointally export ato|ato-summary` for an Australian ledger (or with
//! `--jurisdiction au`): the financial year 1 July to 30 June named by the year it ends in
//! (`--year 2025` = 2024-25), parcels, the CGT discount, the tax return's item 18 figures.

use anyhow::Context as _;
use cointally_exchanges::amount::format_amount;

use crate::diff::{Run, RunManifest, lot_row, lot_totals, totals_of};
use crate::export::html::CountryYear;
use crate::ledger::Ledger;
use crate::tax::Method;
use crate::tax::au::export::{AuFormat, render};
use crate::tax::au::report::{AuReport, identification};
use crate::tax::au::{self, AuComputed};
use crate::tax::jurisdiction::Jurisdiction;
use crate::tax::report::money;

use super::Context;
use super::output::{Align, Table};
use super::report::{TaxChoices, Years, note_start, print_documents, print_each};
use super::report_uk::{Output, emit_years, prepare};
use crate::tax::years::Start;

/// Checks the currency and the prices, matches transfers and computes the Australian years
/// (one pass).
fn compute(
    context: &Context,
    ledger: &mut Ledger,
    args: &TaxChoices,
    years: Years,
    start: Start,
) -> anyhow::Result<(Vec<AuComputed>, usize, String)> {
    if args.lots != crate::tax::Tracking::Us || args.transfer_fees != crate::tax::TransferFees::Dispose {
        context.note(
            "note: --lots and --transfer-fees are US choices; ATO parcels are one queue per token across wallets, and a network fee paid in the token is a disposal",
        );
    }
    let (matching, missing, currency) =
        prepare(context, ledger, args, Jurisdiction::Au, ("Australian dollars", "Australian dollars"), start)?;
    let zone = crate::tax::zone::Zone::of_ledger(ledger)?;
    if !zone.is_utc() && au::day::AuZone::of(zone) == au::day::AuZone::Sydney && zone.name() != "Australia/Sydney" {
        context.note(format!(
            "note: AU rules date events in Australian time (Sydney's, or the Australian zone the ledger's timezone names); the ledger's timezone {} is not an Australian zone and is not used (README: Local dates: the time zone)",
            zone.name()
        ));
    }
    let method = args.method.unwrap_or(Method::Fifo);
    let (computed, info) = au::compute_years(ledger, years.all(), method, &matching, start)?;
    note_start(context, &info, Jurisdiction::Au);
    Ok((computed, missing, currency))
}

/// `cointally report` under Australian rules: one financial year, or several in one pass.
pub fn run(
    context: &Context,
    ledger: &mut Ledger,
    args: &TaxChoices,
    years: Years,
    start: Start,
) -> anyhow::Result<()> {
    let (computed, _, currency) = compute(context, ledger, args, years, start)?;
    let reports: Vec<AuReport> = computed.iter().map(|c| AuReport::new(c, &currency)).collect();
    if context.json {
        return print_documents(reports.iter().map(AuReport::to_json), years);
    }
    print_each(&reports, print_report)
}

/// Prints an Australian report as tables.
pub fn print_report(report: &AuReport<'_>) -> anyhow::Result<()> {
    let c = report.computed;
    let f = &c.figures;
    println!(
        "Financial year {} ({} to {}, {} dates; --year {} names the year it ends in), ATO rules, {}",
        c.year.label,
        c.year.first_day.format("%-d %B %Y"),
        c.year.last_day.format("%-d %B %Y"),
        match c.zone {
            au::day::AuZone::Sydney => "Sydney",
            zone => zone.name(),
        },
        c.year.year,
        report.currency
    );
    println!("Parcels: {}", identification(c.method));
    println!();
    let mut table = Table::new(&[
        ("Asset", Align::Left),
        ("Capital proceeds", Align::Right),
        ("Cost base", Align::Right),
        ("Gain or loss", Align::Right),
        ("Income", Align::Right),
    ]);
    let totals = report.totals();
    for (asset, a) in report.assets.iter().chain([(&"Total".to_owned(), &totals)]) {
        table.row(vec![
            asset.clone(),
            money(a.proceeds),
            money(a.cost_base),
            money(a.proceeds - a.cost_base),
            money(a.income),
        ]);
    }
    table.print()?;
    println!();
    let mut table = Table::new(&[("Capital gains (item 18)", Align::Left), ("AUD", Align::Right)]);
    let brought_forward = match c.losses_set {
        Some(_) => "Net capital losses brought forward (your setting for the year)".to_owned(),
        None => "Net capital losses brought forward (this ledger)".to_owned(),
    };
    let steps = [
        ("18H Total current year capital gains", f.total_gains()),
        ("  of which discount capital gains (held 12 months)", f.discount_gains),
        ("  of which other capital gains", f.other_gains),
        ("Current year capital losses", f.losses),
        ("  applied (other gains first)", f.losses_applied),
        (brought_forward.as_str(), f.losses_brought_forward),
        ("  applied", f.brought_forward_applied),
        ("CGT discount (50% of the discount gains left)", f.discount),
        ("18A Net capital gain", f.net_capital_gain),
        ("18V Net capital losses carried forward", f.carried_forward),
    ];
    for (name, figure) in steps {
        table.row(vec![name.to_owned(), money(figure)]);
    }
    table.print()?;
    if c.losses_set.is_some() {
        println!(
            "(losses_brought_forward {} is set: it replaces the {} the ledger's earlier years would carry in; `cointally settings losses_brought_forward {} 0` removes it)",
            c.year.year,
            money(c.ledger_carried_in),
            c.year.year
        );
    }
    if !report.income_by_kind.is_empty() {
        println!();
        println!("Ordinary income (at market value when received; also the cost base of those parcels):");
        let mut table = Table::new(&[("Kind", Align::Left), ("Value", Align::Right)]);
        for (kind, value) in &report.income_by_kind {
            table.row(vec![kind.clone(), money(*value)]);
        }
        table.print()?;
    }
    println!();
    println!("Parcels held at {}:", c.year.last_day.format("%-d %B %Y"));
    let mut table = Table::new(&[
        ("Asset", Align::Left),
        ("Units", Align::Right),
        ("Acquired", Align::Left),
        ("Cost base", Align::Right),
    ]);
    for p in &c.parcels {
        table.row(vec![
            p.asset.clone(),
            format_amount(p.amount),
            c.zone.date(p.acquired_ms).to_string(),
            money(p.cost_basis),
        ]);
    }
    table.print()?;
    let missing_basis = c.disposals.iter().filter(|d| d.disposal.basis_missing).count();
    println!();
    println!("{} CGT events (one per parcel used; `--json` and `export ato` list them)", c.disposals.len());
    if missing_basis > 0 {
        println!("{missing_basis} of them have no known cost base (counted as zero): `cointally check` says why");
    }
    println!(
        "manifest: cointally {}, ATO rules, {}, inputs sha256 {}",
        env!("CARGO_PKG_VERSION"),
        c.method.as_str(),
        c.inputs_hash
    );
    Ok(())
}

/// `cointally export ato|ato-summary`: one file per financial year.
pub fn export(context: &Context, format: AuFormat, output: Output, tax: &TaxChoices) -> anyhow::Result<()> {
    let years = output.years(format.name(), "2025 (the financial year 2024-25)")?;
    let mut ledger = context.open_ledger()?;
    let (computed, missing, currency) = compute(context, &mut ledger, tax, years, Start::Snapshot)?;
    let missing = (missing, tax.allow_missing_prices);
    let files = computed.iter().map(|c| (c.year.year, AuReport::new(c, &currency)));
    emit_years(
        context,
        &output,
        files,
        |year| format.default_file_name(year),
        |report, file| render(format, report, missing, file),
    )
}

/// `export html` under ATO rules, each year of `years` in one pass: the report's totals, each
/// CGT event by local date (Sydney unless the ledger names another Australian zone), the
/// parcels held at 30 June.
pub(super) fn html_years(
    context: &Context,
    ledger: &mut Ledger,
    args: &TaxChoices,
    years: Years,
) -> anyhow::Result<Vec<CountryYear>> {
    let (computed, _, currency) = compute(context, ledger, args, years, Start::Snapshot)?;
    Ok(computed
        .iter()
        .map(|c| CountryYear {
            year: c.year.year,
            period: format!("financial year {} ({currency}, ATO rules)", c.year.label),
            days: (c.year.first_day, c.year.last_day),
            report: AuReport::new(c, &currency).to_json(),
            disposals: c.disposals.iter().map(|d| (d.disposal.asset.clone(), d.disposed, d.disposal.gain())).collect(),
            income: c.income.iter().map(|i| (c.zone.date(i.received_ms), i.value)).collect(),
            holdings: c.parcels.iter().map(|p| (p.asset.clone(), p.amount, p.cost_basis)).collect(),
            rules: format!("ATO rules, {}", c.method.as_str()),
            inputs_hash: c.inputs_hash.clone(),
        })
        .collect())
}

/// The run manifest of the Australian financial year `year` (`diff`): its CGT events by lot
/// (parcel), the inputs read up to its end.
pub(super) fn manifest(
    context: &Context,
    ledger: &mut Ledger,
    args: &TaxChoices,
    year: i32,
) -> anyhow::Result<RunManifest> {
    let (mut computed, _, currency) = compute(context, ledger, args, Years::one(year), Start::Snapshot)?;
    let c = computed.pop().context("the year was not computed")?;
    let rows = c.disposals.iter().map(|d| lot_row(&d.disposal));
    let run = Run {
        year,
        currency: &currency,
        options: format!("AU rules, {}", c.method.as_str()),
        inputs_hash: &c.inputs_hash,
        until_ms: Jurisdiction::Au.rules().events_until_ms(year),
        assets: totals_of(
            c.disposals.iter().map(|d| lot_totals(&d.disposal)),
            c.income.iter().map(|i| (i.asset.as_str(), i.value)),
        ),
        rows: rows.collect(),
    };
    Ok(RunManifest::of_run(ledger, run)?)
}

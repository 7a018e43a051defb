//! `cointally report` and `cointally export anlage-so|anlage-so-disposals` for a German
//! ledger (or with `--jurisdiction de`): the calendar year in Berlin time, FIFO lots per
//! wallet, private sales within one year against the Freigrenze, § 22 Nr. 3 income.

use std::collections::BTreeMap;

use anyhow::Context as _;

use crate::diff::{Run, RunManifest, lot_row, lot_totals, totals_of};
use crate::export::html::CountryYear;
use crate::ledger::Ledger;
use crate::tax::de::export::{DeFormat, render};
use crate::tax::de::report::DeReport;
use crate::tax::de::year::{OTHER_SERVICES_LIMIT, Sales};
use crate::tax::de::{self, DeComputed};
use crate::tax::jurisdiction::Jurisdiction;
use crate::tax::report::money;

use super::Context;
use super::output::{Align, Table};
use super::report::{TaxChoices, Years, note_start, print_documents, print_each};
use super::report_uk::{Output, emit_years, prepare};
use crate::tax::years::Start;

/// The accounts' labels, by id (the report names each disposal's wallet).
type Labels = BTreeMap<i64, String>;

/// Checks the currency and the prices, matches transfers and computes the German years (one
/// pass); returns them with the legs without a value, the currency and the accounts' labels.
fn compute(
    context: &Context,
    ledger: &mut Ledger,
    args: &TaxChoices,
    years: Years,
    start: Start,
) -> anyhow::Result<(Vec<DeComputed>, usize, String, Labels)> {
    if args.method.is_some() || args.lots != crate::tax::Tracking::Us {
        context.note("note: --method and --lots are US choices; German rules use FIFO per wallet");
    }
    let (matching, missing, currency) = prepare(context, ledger, args, Jurisdiction::De, ("euros", "euros"), start)?;
    let labels = ledger.accounts()?.into_iter().map(|a| (a.id, a.label)).collect();
    let (computed, info) = de::compute_years(ledger, years.all(), &matching, start)?;
    note_start(context, &info, Jurisdiction::De);
    Ok((computed, missing, currency, labels))
}

/// `cointally report` under German rules: one calendar year, or several in one pass.
pub fn run(
    context: &Context,
    ledger: &mut Ledger,
    args: &TaxChoices,
    years: Years,
    start: Start,
) -> anyhow::Result<()> {
    let (computed, _, currency, labels) = compute(context, ledger, args, years, start)?;
    let reports: Vec<DeReport> = computed.iter().map(|c| DeReport::new(c, &currency, labels.clone())).collect();
    if context.json {
        return print_documents(reports.iter().map(DeReport::to_json), years);
    }
    print_each(&reports, print_report)
}

/// A figure of a group of disposals, as a cell.
type Cell = fn(&Sales) -> String;

/// Prints a German report as tables.
pub fn print_report(report: &DeReport<'_>) -> anyhow::Result<()> {
    let c = report.computed;
    let f = &report.figures;
    println!(
        "Calendar year {} (Europe/Berlin dates), German rules (§ 23 EStG: FIFO per wallet, tax-free after one year), {}",
        c.year.label, report.currency
    );
    println!();
    let mut table = Table::new(&[
        ("Private sales (§ 23 EStG)", Align::Left),
        ("Within one year", Align::Right),
        ("More than one year", Align::Right),
    ]);
    let rows: [(&str, Cell); 6] = [
        ("Disposal rows", |s| s.rows.to_string()),
        ("Proceeds", |s| money(s.proceeds)),
        ("Acquisition costs", |s| money(s.cost)),
        ("Gains", |s| money(s.gains)),
        ("Losses", |s| money(s.losses)),
        ("Net gain", |s| money(s.net())),
    ];
    for (name, cell) in rows {
        table.row(vec![name.to_owned(), cell(&f.private_sales), cell(&f.tax_free)]);
    }
    table.print()?;
    println!();
    match (f.private_sales_limit, f.taxable_private_sales) {
        (Some(limit), Some(taxable)) => println!(
            "Freigrenze: {} (a net gain less than this is tax-free; at or above it, all of it is taxable): taxable private-sale gain {}",
            money(limit),
            money(taxable)
        ),
        _ => println!("Freigrenze: not known to this cointally for {}", c.year.label),
    }
    if !f.losses_brought_forward.is_zero() {
        println!(
            "Losses brought forward (your losses_brought_forward {} setting, § 23 Abs. 3 Satz 8, § 10d): {}; applied {} (only to a gain at or above the Freigrenze); taxable after them {}; remaining {}",
            c.year.year,
            money(f.losses_brought_forward),
            money(f.losses_brought_forward_applied),
            f.taxable_after_losses.map(money).unwrap_or_else(|| "unknown".to_owned()),
            money(f.losses_brought_forward_remaining)
        );
    }
    if !f.loss_to_carry.is_zero() {
        println!(
            "Net loss from private sales: {} (offsets only private-sale gains: carry back or forward, § 10d)",
            money(f.loss_to_carry)
        );
    }
    println!();
    println!(
        "Income from other services (§ 22 Nr. 3: staking, lending, rewards): {}; Freigrenze {}: taxable {}",
        money(f.other_services),
        money(rust_decimal::Decimal::from(OTHER_SERVICES_LIMIT)),
        money(f.taxable_other_services)
    );
    if !report.income_by_kind.is_empty() {
        let mut table = Table::new(&[("Kind", Align::Left), ("Value", Align::Right)]);
        for (kind, value) in &report.income_by_kind {
            table.row(vec![kind.clone(), money(*value)]);
        }
        table.print()?;
    }
    let missing_basis = c.disposals.iter().filter(|d| d.row.basis_missing).count();
    println!();
    println!(
        "{} disposal rows (one per lot used; `--json` and `export anlage-so-disposals` list them)",
        c.disposals.len()
    );
    if missing_basis > 0 {
        println!("{missing_basis} of them have no known cost (counted as zero): `cointally check` says why");
    }
    println!(
        "manifest: cointally {}, DE rules (FIFO per wallet), inputs sha256 {}",
        env!("CARGO_PKG_VERSION"),
        c.inputs_hash
    );
    Ok(())
}

/// `cointally export anlage-so|anlage-so-disposals`: one file per calendar year.
pub fn export(context: &Context, format: DeFormat, output: Output, tax: &TaxChoices) -> anyhow::Result<()> {
    let years = output.years(format.name(), "2024")?;
    let mut ledger = context.open_ledger()?;
    let (computed, missing, currency, labels) = compute(context, &mut ledger, tax, years, Start::Snapshot)?;
    let missing = (missing, tax.allow_missing_prices);
    let files = computed.iter().map(|c| (c.year.year, DeReport::new(c, &currency, labels.clone())));
    emit_years(
        context,
        &output,
        files,
        |year| format.default_file_name(year),
        |report, file| render(format, report, missing, file),
    )
}

/// `export html` under German rules, each year of `years` in one pass: the report's totals,
/// each disposal row by Berlin date, the lots held at 31 December.
pub(super) fn html_years(
    context: &Context,
    ledger: &mut Ledger,
    args: &TaxChoices,
    years: Years,
) -> anyhow::Result<Vec<CountryYear>> {
    let (computed, _, currency, labels) = compute(context, ledger, args, years, Start::Snapshot)?;
    Ok(computed
        .iter()
        .map(|c| CountryYear {
            year: c.year.year,
            period: format!("calendar year {} ({currency}, German rules)", c.year.label),
            days: (c.year.first_day, c.year.last_day),
            report: DeReport::new(c, &currency, labels.clone()).to_json(),
            disposals: c
                .disposals
                .iter()
                .map(|d| (d.row.asset.clone(), de::day::berlin_date(d.row.disposed_ms), d.row.gain()))
                .collect(),
            income: c.income.iter().map(|i| (de::day::berlin_date(i.received_ms), i.value)).collect(),
            holdings: c.holdings.iter().map(|h| (h.asset.clone(), h.amount, h.cost_basis)).collect(),
            rules: "DE rules (FIFO per wallet)".to_owned(),
            inputs_hash: c.inputs_hash.clone(),
        })
        .collect())
}

/// The run manifest of the German calendar year `year` (`diff`): its rows by lot, the inputs
/// read up to its end.
pub(super) fn manifest(
    context: &Context,
    ledger: &mut Ledger,
    args: &TaxChoices,
    year: i32,
) -> anyhow::Result<RunManifest> {
    let (mut computed, _, currency, _) = compute(context, ledger, args, Years::one(year), Start::Snapshot)?;
    let c = computed.pop().context("the year was not computed")?;
    let run = Run {
        year,
        currency: &currency,
        options: "DE rules (FIFO per wallet)".to_owned(),
        inputs_hash: &c.inputs_hash,
        until_ms: Jurisdiction::De.rules().events_until_ms(year),
        assets: totals_of(
            c.disposals.iter().map(|d| lot_totals(&d.row)),
            c.income.iter().map(|i| (i.asset.as_str(), i.value)),
        ),
        rows: c.disposals.iter().map(|d| lot_row(&d.row)).collect(),
    };
    Ok(RunManifest::of_run(ledger, run)?)
}

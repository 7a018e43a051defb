//! `cointally report` and `cointally export hmrc|sa108` for a UK ledger (or with
//! `--jurisdiction uk`): the tax year from 6 April, HMRC's matching rules, the SA108 figures.

use std::io::Write;
use std::path::PathBuf;

use crate::diff::{Run, RunManifest, RunRow, totals_of};
use crate::export::html::CountryYear;
use crate::export::year_manifest::{YearManifest, recorded_name, write_with_manifest};
use crate::ledger::Ledger;
use crate::tax::jurisdiction::Jurisdiction;
use crate::tax::report::money;
use crate::tax::uk::export::{UkFormat, render};
use crate::tax::uk::report::UkReport;
use crate::tax::uk::year::Part;
use crate::tax::uk::{self, UkComputed};
use crate::tax::years::Start;
use crate::transfers::Matching;

use anyhow::Context as _;

use super::output::{Align, Table, print_json};
use super::report::{TaxChoices, Years, note_start, print_documents, print_each};
use super::{Context, Failure};

/// The jurisdiction of this run: `--jurisdiction`, else the ledger's setting.
pub fn jurisdiction(ledger: &Ledger, args: &TaxChoices) -> anyhow::Result<Jurisdiction> {
    Ok(match args.jurisdiction {
        Some(j) => j,
        None => Jurisdiction::of_ledger(ledger)?,
    })
}

/// What a country's report needs before it computes: the ledger in the country's currency
/// (refused otherwise, with the command that changes it), every leg valued (or
/// `--allow-missing-prices`), the own transfers matched. Returns the transfers, the number of
/// legs without a value and the currency.
pub(super) fn prepare(
    context: &Context,
    ledger: &mut Ledger,
    args: &TaxChoices,
    jurisdiction: Jurisdiction,
    (money, short): (&str, &str),
    start: Start,
) -> anyhow::Result<(Matching, usize, String)> {
    let currency = ledger.reporting_currency()?;
    let rules = jurisdiction.rules();
    if let Some(wanted) = rules.currency().filter(|w| *w != currency) {
        return Err(Failure::input(format!(
            "{} figures are in {money}, but this ledger reports in {currency}",
            rules.code()
        ))
        .hint(format!("value the legs in {short}: cointally currency {wanted}"))
        .into());
    }
    let zone = crate::tax::zone::Zone::of_ledger(ledger)?;
    if let Some(own) = rules.own_zone().filter(|own| !zone.is_utc() && zone.name() != *own) {
        context.note(format!(
            "note: {} rules date every event in {own} time (the dates of their tax years and periods); the ledger's timezone {} is not used for them (README: Local dates: the time zone)",
            rules.code(),
            zone.name()
        ));
    }
    let (matching, missing) = super::report::prepare_values(context, ledger, args.allow_missing_prices, start)?;
    Ok((matching, missing, currency))
}

/// Checks the currency and the prices, matches transfers and computes the UK years (one pass).
fn compute(
    context: &Context,
    ledger: &mut Ledger,
    args: &TaxChoices,
    years: Years,
    start: Start,
) -> anyhow::Result<(Vec<UkComputed>, usize, String)> {
    if args.method.is_some() || args.lots != crate::tax::Tracking::Us {
        context.note("note: --method and --lots are US choices; UK rules pool each token (no lots)");
    }
    let (matching, missing, currency) =
        prepare(context, ledger, args, Jurisdiction::Uk, ("pounds sterling", "pounds"), start)?;
    let (computed, info) = uk::compute_years(ledger, years.all(), &matching, start)?;
    note_start(context, &info, Jurisdiction::Uk);
    Ok((computed, missing, currency))
}

/// `cointally report` under UK rules: one tax year, or several in one pass.
pub fn run(
    context: &Context,
    ledger: &mut Ledger,
    args: &TaxChoices,
    years: Years,
    start: Start,
) -> anyhow::Result<()> {
    let (computed, _, currency) = compute(context, ledger, args, years, start)?;
    let reports: Vec<UkReport> = computed.iter().map(|c| UkReport::new(c, &currency)).collect();
    if context.json {
        return print_documents(reports.iter().map(UkReport::to_json), years);
    }
    print_each(&reports, print_report)
}

/// A figure of a part of the year, as a cell.
type Cell = fn(&Part) -> String;

fn figures_table(parts: &[(&'static str, &Part)]) -> Table {
    let mut columns = vec![("SA108, cryptoassets", Align::Left)];
    columns.extend(parts.iter().map(|(name, _)| (*name, Align::Right)));
    let mut table = Table::new(&columns);
    let rows: [(&str, Cell); 5] = [
        ("Number of disposals", |p| p.disposals.to_string()),
        ("Disposal proceeds", |p| money(p.proceeds)),
        ("Allowable costs", |p| money(p.allowable_costs)),
        ("Gains in the year, before losses", |p| money(p.gains)),
        ("Losses in the year", |p| money(p.losses)),
    ];
    for (name, cell) in rows {
        let mut row = vec![name.to_owned()];
        row.extend(parts.iter().map(|(_, p)| cell(p)));
        table.row(row);
    }
    table
}

/// Prints a UK report as tables.
pub fn print_report(report: &UkReport<'_>) -> anyhow::Result<()> {
    let c = report.computed;
    let f = &report.figures;
    println!(
        "Tax year {} ({} to {}), UK rules (same day, 30 days, section 104 pool), {}",
        c.year.label,
        c.year.first_day.format("%-d %B %Y"),
        c.year.last_day.format("%-d %B %Y"),
        report.currency
    );
    println!();
    let mut parts = vec![("Year", &f.total)];
    if let Some((before, after)) = &f.split {
        parts.push(("Before 30 Oct 2024", before));
        parts.push(("From 30 Oct 2024", after));
    }
    figures_table(&parts).print()?;
    println!();
    println!("Net gain: {}", money(f.total.net()));
    match (f.exempt_amount, f.after_exempt_amount) {
        (Some(aea), Some(after)) => println!("Annual exempt amount: {}; gain after it: {}", money(aea), money(after)),
        _ => println!("Annual exempt amount: not known to this cointally for {}", c.year.label),
    }
    if f.report_reasons.is_empty() {
        println!(
            "Reporting: not needed on these figures alone (gains within the exempt amount, proceeds within the threshold)"
        );
    } else {
        println!("Reporting: needed ({})", f.report_reasons.join("; "));
    }
    if !report.income_by_kind.is_empty() {
        println!();
        println!("Income (miscellaneous income, not capital gains):");
        let mut table = Table::new(&[("Kind", Align::Left), ("Value", Align::Right)]);
        for (kind, value) in &report.income_by_kind {
            table.row(vec![kind.clone(), money(*value)]);
        }
        table.print()?;
    }
    println!();
    println!("Section 104 pools at {}:", c.year.last_day.format("%-d %B %Y"));
    let mut table = Table::new(&[("Token", Align::Left), ("Units", Align::Right), ("Pooled cost", Align::Right)]);
    for p in &c.pools {
        table.row(vec![p.asset.clone(), cointally_exchanges::amount::format_amount(p.pool.units), money(p.pool.cost)]);
    }
    table.print()?;
    if !c.lost.is_empty() {
        println!();
        println!(
            "{} lost or stolen holdings are still in the pools (no disposal); a negligible value claim is the route to the loss (README: United Kingdom)",
            c.lost.len()
        );
    }
    let missing_basis = c.disposals.iter().filter(|d| d.matched.basis_missing).count();
    println!();
    println!("{} rows (one per matched part of a disposal; `--json` and `export hmrc` list them)", c.disposals.len());
    if missing_basis > 0 {
        println!("{missing_basis} of them use a cost that is not known (counted as zero): `cointally check` says why");
    }
    println!("manifest: cointally {}, UK rules, inputs sha256 {}", env!("CARGO_PKG_VERSION"), c.inputs_hash);
    Ok(())
}

/// `cointally export hmrc|sa108`: one file per tax year.
pub fn export(context: &Context, format: UkFormat, output: Output, tax: &TaxChoices) -> anyhow::Result<()> {
    let years = output.years(format.name(), "2024 (the tax year 2024/25)")?;
    let mut ledger = context.open_ledger()?;
    let (computed, missing, currency) = compute(context, &mut ledger, tax, years, Start::Snapshot)?;
    let missing = (missing, tax.allow_missing_prices);
    let files = computed.iter().map(|c| (c.year.year, UkReport::new(c, &currency)));
    emit_years(
        context,
        &output,
        files,
        |year| format.default_file_name(year),
        |report, file| render(format, report, missing, file),
    )
}

/// Where a country's export goes and for which years: `--year Y` with `-o FILE` (or `-`), or
/// `--years`/`--all-years` with `-o DIR` (one file per year, named as `--year` names it).
#[derive(Debug, Clone)]
pub struct Output {
    /// The years asked for (`None`: no year given).
    pub years: Option<Years>,
    /// `-o`: the file for one year, the directory for a range.
    pub path: Option<PathBuf>,
}

impl Output {
    /// The years, or an error saying an export needs them (`example`: a year and what it means).
    pub(super) fn years(&self, format: &str, example: &str) -> anyhow::Result<Years> {
        self.years.ok_or_else(|| {
            Failure::input("an export needs --year")
                .hint(format!("e.g. cointally export {format} --year {example}"))
                .hint("or several years, one file each: --years FIRST-LAST or --all-years")
                .into()
        })
    }
}

/// Writes a country's export of each year (`files`: the year and what `render` makes its bytes
/// and manifest from, for a recorded file name): for `--year` to `-o FILE` (`-`: the file on
/// stdout, its manifest on stderr) or `<format>-<year>.csv`, for a range into `-o DIR` (or the
/// current directory) as `name(year)`, each file byte for byte what `--year` writes. Every
/// year is rendered before any file is written; `--json` prints the manifest (an array of
/// them for a range).
pub(super) fn emit_years<R>(
    context: &Context,
    output: &Output,
    files: impl Iterator<Item = (i32, R)>,
    name: impl Fn(i32) -> String,
    render: impl Fn(&R, &str) -> std::io::Result<(Vec<u8>, YearManifest)>,
) -> anyhow::Result<()> {
    let single = output.years.is_none_or(|y| y.single);
    let mut rendered = Vec::new();
    for (year, report) in files {
        let path = match (&output.path, single) {
            (Some(path), true) => path.clone(),
            (None, true) => PathBuf::from(name(year)),
            (dir, false) => super::export::years_dir(dir.as_deref(), &name(year))?.join(name(year)),
        };
        if path.as_os_str() == "-" {
            let (bytes, manifest) = render(&report, "-")?;
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(&bytes)?;
            stdout.flush()?;
            std::io::stderr().write_all(&manifest.to_json()?)?;
            return Ok(());
        }
        let (bytes, manifest) = render(&report, &recorded_name(&path))?;
        rendered.push((path, bytes, manifest));
    }
    let mut manifests = Vec::with_capacity(rendered.len());
    for (path, bytes, manifest) in rendered {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty() && !single) {
            std::fs::create_dir_all(dir)
                .map_err(|e| Failure::input(format!("cannot create the directory {}: {e}", dir.display())))?;
        }
        write_with_manifest(&path, &bytes, &manifest)?;
        if !context.json {
            context.note(format!(
                "wrote {} ({} rows, sha256 {}) and its manifest {}",
                path.display(),
                manifest.output.rows,
                manifest.output.sha256,
                crate::export::manifest_path(&path).display()
            ));
        }
        manifests.push(manifest);
    }
    if context.json {
        if single {
            return Ok(print_json(manifests.first().context("no year was written")?)?);
        }
        return Ok(print_json(&manifests)?);
    }
    Ok(())
}

/// `export html` under UK rules, each year of `years` in one pass: the report's totals, each
/// matched disposal by UK date, the section 104 pools at the year's end.
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
            period: format!("tax year {} ({currency}, UK rules)", c.year.label),
            days: (c.year.first_day, c.year.last_day),
            report: UkReport::new(c, &currency).to_json(),
            disposals: c
                .disposals
                .iter()
                .map(|d| {
                    (d.asset.clone(), uk::day::date_of(d.matched.day), d.matched.proceeds - d.matched.allowable_cost())
                })
                .collect(),
            income: c.income.iter().map(|i| (uk::day::uk_date(i.received_ms), i.value)).collect(),
            holdings: c.pools.iter().map(|p| (p.asset.clone(), p.pool.units, p.pool.cost)).collect(),
            rules: "UK rules".to_owned(),
            inputs_hash: c.inputs_hash.clone(),
        })
        .collect())
}

/// The run manifest of the UK tax year `year` (`diff`): its rows per day, token and matching
/// rule, keyed by the day's first disposing event; the inputs read up to 30 days past its end.
pub(super) fn manifest(
    context: &Context,
    ledger: &mut Ledger,
    args: &TaxChoices,
    year: i32,
) -> anyhow::Result<RunManifest> {
    let (mut computed, _, currency) = compute(context, ledger, args, Years::one(year), Start::Snapshot)?;
    let c = computed.pop().context("the year was not computed")?;
    let rows = c.disposals.iter().map(|d| {
        let m = &d.matched;
        let part = match m.acquired_day {
            Some(day) => format!("{} {}", m.rule.as_str(), uk::day::date_of(day)),
            None => m.rule.as_str().to_owned(),
        };
        let text = format!("{} {}: {} / {}", m.units.normalize(), d.asset, m.proceeds, m.allowable_cost());
        RunRow { event_id: m.events.first().copied().unwrap_or_default(), part, text }
    });
    let run = Run {
        year,
        currency: &currency,
        options: "UK rules".to_owned(),
        inputs_hash: &c.inputs_hash,
        until_ms: Jurisdiction::Uk.rules().events_until_ms(year),
        assets: totals_of(
            c.disposals
                .iter()
                .map(|d| (d.asset.as_str(), d.matched.proceeds, d.matched.allowable_cost(), d.matched.gain())),
            c.income.iter().map(|i| (i.asset.as_str(), i.value)),
        ),
        rows: rows.collect(),
    };
    Ok(RunManifest::of_run(ledger, run)?)
}

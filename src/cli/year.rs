//! `cointally year close|list|reopen`: filed years that stay filed (issue #16).
//!
//! `year close Y` computes Y as `report` does and stores it as filed: the report (text and
//! JSON), the run manifest `diff --against-closed` and `check` compare with, the units and basis
//! held at its end, every gains export's bytes with its manifest, and the year-end snapshot of
//! the lots (per wallet as the engine holds them) that every later year then starts from. US
//! rules only: the other countries' computations start from the first event and keep no
//! year-end state to file.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::closed::holdings_by_asset;
use crate::diff::RunManifest;
use crate::export::{self, FORMATS, Input, Kind};
use crate::ledger::closed::{ClosedFile, ClosedYear};
use crate::tax;
use crate::tax::inputs::snapshot_options;
use crate::tax::jurisdiction::Jurisdiction;
use crate::tax::years::US;

use super::output::{Align, Table, print_json};
use super::report::{TaxChoices, compute_year, parse_year, write_report};
use super::{Context, Failure};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Store a tax year's result as filed: later years start from its lots, its exports
    /// stay byte for byte what was filed (US rules)
    Close {
        /// The tax year
        #[arg(value_parser = parse_year)]
        year: i32,
        #[command(flatten)]
        choices: TaxChoices,
    },
    /// List the closed years
    List,
    /// Drop a closed year's filed result: it and the years after it are computed again
    Reopen {
        /// The tax year
        #[arg(value_parser = parse_year)]
        year: i32,
        /// Confirm: what was filed is dropped from the ledger
        #[arg(long)]
        yes: bool,
    },
}

pub fn run(context: &Context, command: Command) -> anyhow::Result<()> {
    match command {
        Command::Close { year, choices } => close(context, year, &choices),
        Command::List => list(context),
        Command::Reopen { year, yes } => reopen(context, year, yes),
    }
}

fn close(context: &Context, year: i32, choices: &TaxChoices) -> anyhow::Result<()> {
    let mut ledger = context.open_ledger()?;
    let jurisdiction = match choices.jurisdiction {
        Some(j) => j,
        None => Jurisdiction::of_ledger(&ledger)?,
    };
    if jurisdiction != Jurisdiction::Us {
        return Err(Failure::input(format!(
            "closing a year follows US rules only: this ledger computes under {} rules",
            jurisdiction.rules().code()
        ))
        .hint("keep the files you filed (`cointally export … --year Y` writes them with a manifest) and `cointally diff --year Y --save FILE` to compare later")
        .into());
    }
    if choices.method.is_some() {
        return Err(Failure::input("--method is a what-if over all history: it cannot be filed")
            .hint("elect the method you file with from a date on: cointally method set hifo --from 2025-01-01")
            .into());
    }
    if let Some(closed) = ledger.closed_year(year)? {
        return Err(Failure::input(format!("{year} is already closed (on {})", closed.closed_at))
            .hint(format!("to close it again with today's ledger: cointally year reopen {year} --yes"))
            .into());
    }
    let args = choices.for_year(year);
    let options = args.options();
    let (computed, missing) = compute_year(context, &mut ledger, &args)?;
    let report = tax::year_report(&ledger, year, options, &computed)?;
    let mut text = Vec::new();
    write_report(&report, &mut text)?;
    let gains: Vec<&dyn export::Format> = FORMATS.iter().copied().filter(|f| f.kind() == Kind::Gains).collect();
    let input = Input::gather(&ledger, options, &computed, (missing, choices.allow_missing_prices), &gains)?;
    let mut files = Vec::with_capacity(gains.len());
    for format in gains {
        let rendered = export::render(format, &input, &export::default_file_name(format, year))?;
        files.push(ClosedFile {
            format: format.name().to_owned(),
            bytes: rendered.bytes,
            manifest: rendered.manifest.to_json()?,
        });
    }
    let closed = ClosedYear {
        year,
        jurisdiction: US.to_owned(),
        options: options.to_json(),
        snapshot_id: 0,
        inputs_hash: computed.inputs_hash.clone(),
        report_json: serde_json::to_string(&report.to_json())?,
        report_text: String::from_utf8(text)?,
        run_manifest: serde_json::to_string(&RunManifest::build(&ledger, &report)?)?,
        holdings: serde_json::to_string(&holdings_by_asset(&computed.computation.holdings))?,
        closed_at: String::new(),
        inputs_changed: false,
    };
    // The year's end in the ledger's time zone: where the pass stored the snapshot a later year starts from.
    let end_ms = tax::zone::Zone::of_ledger(&ledger)?.year_start_ms(year + 1);
    ledger.close_year(&closed, (&snapshot_options(&options), end_ms), &files)?;
    let names: Vec<&str> = files.iter().map(|f| f.format.as_str()).collect();
    context.note(format!(
        "closed {year}: {} disposal rows, gain {}, income {}, inputs sha256 {}; kept as filed: {}",
        report.lines.len(),
        tax::report::money(report.totals.short_term_gain + report.totals.long_term_gain),
        tax::report::money(report.totals.income),
        computed.inputs_hash,
        names.join(", ")
    ));
    context.note(format!(
        "later years start from the lots held at the end of {year}; `cointally check` says if the ledger changes so that {year} would compute differently"
    ));
    Ok(())
}

#[derive(Serialize)]
struct Listed {
    year: i32,
    jurisdiction: String,
    options: serde_json::Value,
    inputs_hash: String,
    closed_at: String,
    inputs_changed: bool,
    totals: serde_json::Value,
}

fn list(context: &Context) -> anyhow::Result<()> {
    let ledger = context.open_ledger()?;
    let mut listed = Vec::new();
    for c in ledger.closed_years()? {
        let report: BTreeMap<String, serde_json::Value> = serde_json::from_str(&c.report_json)?;
        listed.push(Listed {
            year: c.year,
            jurisdiction: c.jurisdiction,
            options: serde_json::from_str(&c.options)?,
            inputs_hash: c.inputs_hash,
            closed_at: c.closed_at,
            inputs_changed: c.inputs_changed,
            totals: report.get("totals").cloned().unwrap_or_default(),
        });
    }
    if context.json {
        return Ok(print_json(&listed)?);
    }
    if listed.is_empty() {
        println!("no closed year (`cointally year close 2024` closes one)");
        return Ok(());
    }
    let mut table = Table::new(&[
        ("Year", Align::Right),
        ("Closed at", Align::Left),
        ("Gain", Align::Right),
        ("Income", Align::Right),
        ("Inputs changed since", Align::Left),
        ("Inputs sha256", Align::Left),
    ]);
    for l in &listed {
        let total = |key: &str| l.totals[key].as_str().unwrap_or_default().to_owned();
        let gain = match (total("short_term_gain").parse::<rust_decimal::Decimal>(), total("long_term_gain").parse()) {
            (Ok(short), Ok(long)) => short.checked_add(long).map(tax::report::money).unwrap_or_default(),
            _ => String::new(),
        };
        table.row(vec![
            l.year.to_string(),
            l.closed_at.clone(),
            gain,
            total("income"),
            if l.inputs_changed { "yes: cointally check".into() } else { "no".into() },
            l.inputs_hash.clone(),
        ]);
    }
    Ok(table.print()?)
}

fn reopen(context: &Context, year: i32, yes: bool) -> anyhow::Result<()> {
    let mut ledger = context.open_ledger()?;
    if ledger.closed_year(year)?.is_none() {
        return Err(Failure::input(format!("{year} is not closed"))
            .hint("`cointally year list` shows the closed years")
            .into());
    }
    if !yes {
        return Err(Failure::input(format!(
            "reopening {year} drops its filed result and files from the ledger: {year} and every later year are then computed from today's ledger"
        ))
        .hint(format!("keep the filed files elsewhere first (`cointally export form8949 --year {year}` writes them as filed), then: cointally year reopen {year} --yes"))
        .into());
    }
    ledger.reopen_year(year)?;
    context.note(format!("reopened {year}: it and the years after it are computed from today's ledger"));
    Ok(())
}

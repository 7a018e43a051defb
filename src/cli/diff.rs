//! `cointally diff --year Y --save FILE` and `cointally diff --year Y --against FILE`: save a
//! run's manifest (with the files sent), and later say what changed since and why.
//! `cointally diff --year Y --against-closed` compares a closed year's filed result with the
//! year computed again from today's ledger (from the snapshot before it, with the options it
//! was closed with).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use crate::diff::{Changes, RunDiff, RunManifest};
use crate::ledger::Ledger;
use crate::tax::jurisdiction::Jurisdiction;
use crate::tax::report::Report;

use super::report::{TaxArgs, compute_year};
use super::{Context, Failure};

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["save", "against", "against_closed"])))]
pub struct Args {
    /// Write this run's manifest to FILE (keep it with the files you send)
    #[arg(long, value_name = "FILE")]
    save: Option<PathBuf>,
    /// Compare this computation with the run manifest in FILE
    #[arg(long, value_name = "MANIFEST")]
    against: Option<PathBuf>,
    /// Compare the year's filed result (`cointally year close`) with the year computed from
    /// today's ledger
    #[arg(long)]
    against_closed: bool,
    #[command(flatten)]
    tax: TaxArgs,
}

pub fn run(context: &Context, args: Args) -> anyhow::Result<()> {
    let mut ledger = context.open_ledger()?;
    if args.against_closed {
        return against_closed(context, &mut ledger, args.tax.year);
    }
    let now = match super::report_uk::jurisdiction(&ledger, &args.tax.choices)? {
        Jurisdiction::Us => us_manifest(context, &mut ledger, &args.tax)?,
        Jurisdiction::Uk => super::report_uk::manifest(context, &mut ledger, &args.tax.choices, args.tax.year)?,
        Jurisdiction::Ca => super::report_ca::manifest(context, &mut ledger, &args.tax.choices, args.tax.year)?,
        Jurisdiction::Au => super::report_au::manifest(context, &mut ledger, &args.tax.choices, args.tax.year)?,
        Jurisdiction::De => super::report_de::manifest(context, &mut ledger, &args.tax.choices, args.tax.year)?,
    };
    if let Some(path) = &args.save {
        let mut tmp = tempfile::NamedTempFile::new_in(
            path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new(".")),
        )?;
        // Buffered: serde_json writes a token at a time (a million events' manifest took 20 s
        // of system calls unbuffered).
        let mut out = std::io::BufWriter::with_capacity(1 << 16, &mut tmp);
        serde_json::to_writer_pretty(&mut out, &now)?;
        out.flush()?;
        drop(out);
        tmp.persist(path).map_err(|e| e.error)?;
        context.note(format!(
            "wrote the run manifest {} ({} disposals, {} events)",
            path.display(),
            now.disposals.len(),
            now.events.len()
        ));
        return Ok(());
    }
    let Some(path) = &args.against else { return Ok(()) };
    let file = std::fs::File::open(path).map_err(|e| {
        Failure::input(format!("{}: {e}", path.display())).hint("give the file `cointally diff --save` wrote")
    })?;
    // Compared as it is parsed: a million events' manifest is 170 MB of text, and today's is
    // in memory already.
    let diff = RunDiff::against_saved(std::io::BufReader::with_capacity(1 << 16, file), &now).map_err(|e| {
        Failure::input(format!("{}: {e}", path.display())).hint("give the file `cointally diff --save` wrote")
    })?;
    if context.json {
        return Ok(super::output::print_json(&diff)?);
    }
    print(&diff);
    Ok(())
}

/// The run manifest of a year under US rules.
fn us_manifest(context: &Context, ledger: &mut Ledger, tax: &TaxArgs) -> anyhow::Result<RunManifest> {
    let (computed, _) = compute_year(context, ledger, tax)?;
    let labels: BTreeMap<i64, String> = ledger.accounts()?.into_iter().map(|a| (a.id, a.label)).collect();
    let currency = ledger.reporting_currency()?;
    let report = Report::new(tax.year, &currency, tax.options(), &computed.computation, &labels, &computed.inputs_hash)
        .with_ledger_settings(ledger)?;
    Ok(RunManifest::build(ledger, &report)?)
}

/// `--against-closed`: the filed manifest against the year computed again.
fn against_closed(context: &Context, ledger: &mut Ledger, year: i32) -> anyhow::Result<()> {
    let Some(closed) = ledger.closed_year(year)? else {
        return Err(Failure::input(format!("{year} is not closed"))
            .hint("`cointally year list` shows the closed years; `--against MANIFEST` compares with a saved run")
            .into());
    };
    let matching = crate::transfers::refresh(ledger)?;
    let now = crate::closed::recompute(ledger, &matching, &closed)?;
    context.note(format!(
        "{year} as filed on {} against {year} computed from today's ledger ({})",
        closed.closed_at, now.report.options
    ));
    let diff = crate::closed::filed_diff(&closed, &now.manifest)?;
    if context.json {
        return Ok(super::output::print_json(&diff)?);
    }
    print(&diff);
    Ok(())
}

fn print(diff: &RunDiff) {
    if diff.is_empty() {
        println!("no change in {}: same inputs, same figures", diff.year);
        return;
    }
    if let Some((before, after)) = &diff.options_changed {
        println!("options: {before} -> {after}");
    }
    if !diff.assets.is_empty() {
        println!("Totals per asset (proceeds / basis / gain / income):");
        for (asset, (b, a)) in &diff.assets {
            println!(
                "  {asset}: {} / {} / {} / {} -> {} / {} / {} / {}",
                b.proceeds, b.cost_basis, b.gain, b.income, a.proceeds, a.cost_basis, a.gain, a.income
            );
        }
    }
    section("Disposals", &diff.disposals);
    println!("Why (inputs that changed):");
    if diff.events.is_empty() && diff.values.is_empty() && diff.transfers.is_empty() {
        println!("  no input changed (the options or the rules did)");
    }
    section("  Events", &diff.events);
    section("  Prices (leg values)", &diff.values);
    section("  Own-transfer links", &diff.transfers);
}

fn section(title: &str, changes: &Changes) {
    if changes.is_empty() {
        return;
    }
    println!("{title}:");
    for (key, value) in &changes.added {
        println!("  + {key} {value}");
    }
    for (key, value) in &changes.removed {
        println!("  - {key} {value}");
    }
    for (key, (before, after)) in &changes.changed {
        println!("  ~ {key}: {before} -> {after}");
    }
}

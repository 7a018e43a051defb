//! `cointally export <format> --year Y [-o FILE]` and `cointally export --list`: the files tax
//! software, other services and accountants take, each with a manifest beside it.
//!
//! By default the file is `<format>-<year>.csv` in the current directory and the manifest
//! `<file>.manifest.json` beside it; `-o -` writes the CSV on stdout and the manifest on stderr.
//! Like `report`, an export computes the year first and refuses while legs have no value
//! (unless `--allow-missing-prices`). A gains file whose rows include an unknown basis (written
//! as 0.00) is written with a warning naming how many and their events, and the manifest lists
//! them; `--refuse-missing-basis` makes that an error instead.
//!
//! `--years FIRST-LAST` / `--all-years` (the US gains formats) compute the range in one pass, as
//! `report --years` does, and write one file per year, `<format>-<year>.csv`, in the current
//! directory or the one `-o` names: each byte for byte the file `--year` writes.

use std::io::Write;
use std::path::PathBuf;

use crate::export::{self, FORMATS, Input, Kind, ManifestMissingBasis};
use crate::tax::au::export::AuFormat;
use crate::tax::jurisdiction::Jurisdiction;

use super::output::{Align, Table, print_json};
use super::report::TaxArgs;
use super::report::{TaxChoices, Years, compute_year, compute_years, parse_year, parse_years, year_range};
use super::report_uk::Output;
use super::{Context, Failure};
use crate::tax::years::Start;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The format (`cointally export --list` shows them all)
    #[arg(required_unless_present = "list", value_name = "FORMAT")]
    format: Option<String>,
    /// List the formats with what each is for
    #[arg(long, conflicts_with = "format")]
    list: bool,
    /// The file to write [default: <format>-<year>.csv]; `-` for stdout (the manifest then goes to stderr);
    /// with --years or --all-years, the directory the files go in [default: the current one]
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Refuse to write a gains file while any of its rows has an unknown basis (counted as
    /// zero otherwise, and named in the manifest)
    #[arg(long)]
    refuse_missing_basis: bool,
    /// The tax year, 2009 to 2100: the calendar year in the ledger's time zone (US, Canada;
    /// UTC unless `cointally settings timezone` says otherwise), in Berlin time
    /// (Germany), the UK tax year that starts on 6 April of it (2024 = 2024/25), or the
    /// Australian financial year that ends on 30 June of it (2025 = 2024-25)
    #[arg(long, value_parser = parse_year)]
    year: Option<i32>,
    /// Several years in one pass over history, FIRST-LAST (2021-2024), one file per year
    /// (`<format>-<year>.csv`); the US gains formats, the countries' own formats and html
    #[arg(long, value_parser = parse_years, value_name = "FIRST-LAST", conflicts_with_all = ["year", "all_years"])]
    years: Option<(i32, i32)>,
    /// Every year from the first event's to the last event's, in one pass (as --years)
    #[arg(long, conflicts_with = "year")]
    all_years: bool,
    #[command(flatten)]
    choices: TaxChoices,
}

pub fn run(context: &Context, args: Args) -> anyhow::Result<()> {
    if args.list {
        return list(context);
    }
    let name = args.format.clone().unwrap_or_default();
    let range = args.years.is_some() || args.all_years;
    let own = crate::tax::uk::export::UkFormat::find(&name).is_some()
        || crate::tax::ca::export::CaFormat::find(&name).is_some()
        || AuFormat::find(&name).is_some()
        || crate::tax::de::export::DeFormat::find(&name).is_some()
        || name == "html";
    if range && !own {
        return match export::find(&name).filter(|f| f.kind() == Kind::Gains) {
            Some(format) => run_years(context, format, args),
            None => Err(Failure::input(format!("{name} is not written per year over a range"))
                .hint(format!(
                    "--years and --all-years write one file per year of the gains formats ({}), the countries' own formats and html",
                    FORMATS.iter().filter(|f| f.kind() == Kind::Gains).map(|f| f.name()).collect::<Vec<_>>().join(", ")
                ))
                .hint(format!("for {name}, give one year: cointally export {name} --year 2025"))
                .into()),
        };
    }
    if own {
        let output = country_output(context, &args)?;
        if let Some(uk) = crate::tax::uk::export::UkFormat::find(&name) {
            return super::report_uk::export(context, uk, output, &args.choices);
        }
        if let Some(ca) = crate::tax::ca::export::CaFormat::find(&name) {
            return super::report_ca::export(context, ca, output, &args.choices);
        }
        if let Some(au) = AuFormat::find(&name) {
            return super::report_au::export(context, au, output, &args.choices);
        }
        if let Some(de) = crate::tax::de::export::DeFormat::find(&name) {
            return super::report_de::export(context, de, output, &args.choices);
        }
        return super::summary::run(context, &args.choices, output);
    }
    let tax = args.year.map(|year| args.choices.for_year(year));
    if name == "allocation" {
        return super::basis::export(context, args.output);
    }
    let Some(format) = export::find(&name) else {
        let mut names: Vec<&str> = FORMATS.iter().map(|f| f.name()).collect();
        names.extend(own_formats().iter().map(|(name, _)| *name));
        names.push("allocation");
        return Err(Failure::input(format!("no export format {name:?}"))
            .hint(format!("the formats: {}", names.join(", ")))
            .hint("for H&R Block or TaxSlayer, attach the form8949 export as a statement (the README says how)")
            .into());
    };
    let Some(tax) = tax else {
        return Err(Failure::input("an export needs --year")
            .hint("e.g. cointally export form8949 --year 2025")
            .hint("the gains formats also take --years FIRST-LAST or --all-years (one file per year)")
            .into());
    };
    let mut ledger = context.open_ledger()?;
    if format.kind() == export::Kind::Gains {
        note_us_rules(context, &ledger, format, &tax.choices)?;
    }
    if format.kind() == Kind::Gains
        && write_filed(context, &ledger, format, &tax, args.output.as_deref(), true)?.is_some()
    {
        return Ok(());
    }
    let (computed, missing) = compute_year(context, &mut ledger, &tax)?;
    let input = Input::gather(&ledger, tax.options(), &computed, (missing, tax.allow_missing_prices), &[format])?;
    if format.kind() == Kind::Gains {
        check_missing_basis(context, format, &input, args.refuse_missing_basis)?;
    }
    let path = args.output.unwrap_or_else(|| PathBuf::from(export::default_file_name(format, tax.year)));
    if path.as_os_str() == "-" {
        let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
        let manifest = export::write_to(format, &input, "-", &mut stdout)?;
        stdout.flush()?;
        std::io::stderr().write_all(&manifest.to_json()?)?;
        return Ok(());
    }
    let manifest = export::write_file(format, &input, &path)?;
    if context.json {
        return Ok(print_json(&manifest)?);
    }
    context.note(format!(
        "wrote {} ({} rows, sha256 {}) and its manifest {}",
        path.display(),
        manifest.output.rows,
        manifest.output.sha256,
        export::manifest_path(&path).display()
    ));
    Ok(())
}

/// The years and the `-o` of a country's export or of `html`: `--year`, or the range of
/// `--years`/`--all-years` in the ledger's tax years (`-o` then a directory, checked here).
fn country_output(context: &Context, args: &Args) -> anyhow::Result<Output> {
    if args.year.is_none() && args.years.is_none() && !args.all_years {
        return Ok(Output { years: None, path: args.output.clone() });
    }
    let ledger = context.open_ledger()?;
    let probe = args.choices.for_year(args.year.unwrap_or(*super::report::YEARS.start()));
    let jurisdiction = super::report_uk::jurisdiction(&ledger, &probe)?;
    let range = year_range(&ledger, jurisdiction, args.year, args.years, args.all_years)?;
    let years = Years { range, single: args.year.is_some() };
    if !years.single {
        let name = args.format.as_deref().unwrap_or_default();
        let example = if name == "html" { "summary-2025.html".to_owned() } else { format!("{name}-2025.csv") };
        years_dir(args.output.as_deref(), &example)?;
    }
    Ok(Output { years: Some(years), path: args.output.clone() })
}

/// The directory `-o` names for `--years`/`--all-years` (the current one when not given), or
/// an error when it is `-` or a file (`example`: a file name the range would write).
pub(super) fn years_dir(output: Option<&std::path::Path>, example: &str) -> anyhow::Result<PathBuf> {
    let dir = output.map(std::path::Path::to_path_buf).unwrap_or_default();
    if dir.as_os_str() == "-" {
        return Err(Failure::input("--years writes one file per year: they cannot all go to stdout")
            .hint("give a directory with -o DIR, or one year with --year Y and -o -")
            .into());
    }
    if dir.exists() && !dir.is_dir() {
        return Err(Failure::input(format!(
            "{} is a file: with --years, -o names the directory the files go in",
            dir.display()
        ))
        .hint(format!("e.g. -o exports/ writes exports/{example}"))
        .into());
    }
    Ok(dir)
}

/// `--years` / `--all-years`: the range computed in one pass (as `report --years`), then one
/// file per year, each what `--year` writes for it (a closed year's as filed); `--json` prints
/// the manifests as an array in year order. With `--refuse-missing-basis`, nothing is written
/// when any year has a row of unknown basis.
fn run_years(context: &Context, format: &'static dyn export::Format, args: Args) -> anyhow::Result<()> {
    let dir = years_dir(args.output.as_deref(), &export::default_file_name(format, 2025))?;
    let mut ledger = context.open_ledger()?;
    let range = year_range(&ledger, Jurisdiction::Us, args.year, args.years, args.all_years)?;
    note_us_rules(context, &ledger, format, &args.choices)?;
    let (computed, missing) = compute_years(context, &mut ledger, &args.choices, range, Start::Snapshot)?;
    let closed = crate::tax::years::closed_years(&ledger, &args.choices.options(None))?;
    // Every year gathered and checked before any file is written.
    let mut inputs = Vec::with_capacity(computed.len());
    for (year, c) in (range.0..=range.1).zip(&computed) {
        if closed.contains(&year) && ledger.closed_file(year, format.name())?.is_some() {
            inputs.push((year, None));
            continue;
        }
        let input = Input::gather(
            &ledger,
            args.choices.options(Some(year)),
            c,
            (missing, args.choices.allow_missing_prices),
            &[format],
        )?;
        check_missing_basis(context, format, &input, args.refuse_missing_basis)?;
        inputs.push((year, Some(input)));
    }
    if !dir.as_os_str().is_empty() {
        std::fs::create_dir_all(&dir)
            .map_err(|e| Failure::input(format!("cannot create the directory {}: {e}", dir.display())))?;
    }
    let mut manifests = Vec::with_capacity(inputs.len());
    for (year, input) in inputs {
        let path = dir.join(export::default_file_name(format, year));
        let Some(input) = input else {
            let tax = args.choices.for_year(year);
            if let Some(manifest) = write_filed(context, &ledger, format, &tax, Some(&path), false)? {
                manifests.push(manifest);
            }
            continue;
        };
        let manifest = export::write_file(format, &input, &path)?;
        context.note(format!(
            "wrote {} ({} rows, sha256 {}) and its manifest {}",
            path.display(),
            manifest.output.rows,
            manifest.output.sha256,
            export::manifest_path(&path).display()
        ));
        manifests.push(serde_json::to_value(&manifest)?);
    }
    if context.json {
        print_json(&manifests)?;
    }
    Ok(())
}

/// Says when a US gains format is written from a ledger that follows another country's rules.
fn note_us_rules(
    context: &Context,
    ledger: &crate::ledger::Ledger,
    format: &dyn export::Format,
    choices: &TaxChoices,
) -> anyhow::Result<()> {
    let own = match super::report_uk::jurisdiction(ledger, &choices.for_year(*super::report::YEARS.start()))? {
        Jurisdiction::Us => None,
        Jurisdiction::Uk => Some(("UK", "export hmrc, export sa108")),
        Jurisdiction::Ca => Some(("Canadian", "export schedule3, export acb")),
        Jurisdiction::Au => Some(("Australian", "export ato, export ato-summary")),
        Jurisdiction::De => Some(("German", "export anlage-so, export anlage-so-disposals")),
    };
    if let Some((rules, exports)) = own {
        context.note(format!(
            "note: this ledger follows {rules} rules, but {} is computed under US rules (the {rules} ones: {exports})",
            format.name()
        ));
    }
    Ok(())
}

/// Warns of a gains file's rows of unknown basis, or refuses them (`--refuse-missing-basis`).
fn check_missing_basis(
    context: &Context,
    format: &dyn export::Format,
    input: &Input,
    refuse: bool,
) -> anyhow::Result<()> {
    let missing = ManifestMissingBasis::of(input);
    if missing.rows == 0 {
        return Ok(());
    }
    let events: Vec<String> = missing.events.iter().take(20).map(i64::to_string).collect();
    let more = if missing.events.len() > 20 { ", ..." } else { "" };
    let what = format!(
        "{} rows of {} have no known basis (written as 0.00): events {}{more}",
        missing.rows,
        format.name(),
        events.join(", ")
    );
    if refuse {
        return Err(Failure::input(what)
            .hint("`cointally check` says where each unknown basis comes from (a deposit from outside, a balance gone negative)")
            .hint("give the basis (a generic-CSV deposit row's fiat_value), or drop --refuse-missing-basis to write them as 0.00")
            .into());
    }
    context.note(format!("warning: {what}; the manifest lists them (`cointally check` says why)"));
    Ok(())
}

/// Writes the file of a closed year as it was written at the close (bytes and manifest; the
/// manifest's `file` is the name written now) and returns its manifest (`null` on stdout),
/// printed too when `print` and `--json`; `None` when the year is not closed under these
/// options or the ledger has no file of the format (a bundle leaves them out).
fn write_filed(
    context: &Context,
    ledger: &crate::ledger::Ledger,
    format: &dyn export::Format,
    tax: &TaxArgs,
    output: Option<&std::path::Path>,
    print: bool,
) -> anyhow::Result<Option<serde_json::Value>> {
    if !crate::tax::years::closed_years(ledger, &tax.options())?.contains(&tax.year) {
        return Ok(None);
    }
    let Some(filed) = ledger.closed_file(tax.year, format.name())? else { return Ok(None) };
    let Some(closed) = ledger.closed_year(tax.year)? else { return Ok(None) };
    let default = export::default_file_name(format, tax.year);
    let path = output.map_or_else(|| PathBuf::from(&default), std::path::Path::to_path_buf);
    let name = if path.as_os_str() == "-" {
        "-".to_owned()
    } else {
        path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
    };
    let manifest = if name == default {
        filed.manifest
    } else {
        let (was, now) = (serde_json::to_string(&default)?, serde_json::to_string(&name)?);
        String::from_utf8(filed.manifest)?
            .replacen(&format!("\"file\": {was}"), &format!("\"file\": {now}"), 1)
            .into_bytes()
    };
    if path.as_os_str() == "-" {
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(&filed.bytes)?;
        stdout.flush()?;
        std::io::stderr().write_all(&manifest)?;
        return Ok(Some(serde_json::Value::Null));
    }
    std::fs::write(&path, &filed.bytes)?;
    std::fs::write(export::manifest_path(&path), &manifest)?;
    let value = serde_json::from_slice::<serde_json::Value>(&manifest)?;
    if context.json {
        if print {
            print_json(&value)?;
        }
        return Ok(Some(value));
    }
    context.note(format!(
        "{} is closed: wrote {} as filed on {} (sha256 {}) and its manifest (`cointally year reopen {} --yes` computes it again)",
        tax.year,
        path.display(),
        closed.closed_at,
        crate::digest::sha256_hex(&filed.bytes),
        tax.year
    ));
    Ok(Some(value))
}

/// The countries' own exports (name, description): the UK's, Canada's, Australia's, Germany's.
fn own_formats() -> Vec<(&'static str, &'static str)> {
    let uk = crate::tax::uk::export::UkFormat::ALL.map(|f| (f.name(), f.description()));
    let ca = crate::tax::ca::export::CaFormat::ALL.map(|f| (f.name(), f.description()));
    let au = AuFormat::ALL.map(|f| (f.name(), f.description()));
    let de = crate::tax::de::export::DeFormat::ALL.map(|f| (f.name(), f.description()));
    [&uk[..], &ca[..], &au[..], &de[..]].concat()
}

/// The record of the stored 2025 allocation (`export allocation`): name and description.
const ALLOCATION: (&str, &str) =
    ("allocation", "The stored 2025 allocation of unused basis per wallet and asset (the Rev. Proc. 2024-28 record)");

fn list(context: &Context) -> anyhow::Result<()> {
    let own = own_formats();
    if context.json {
        let mut formats: Vec<serde_json::Value> = FORMATS
            .iter()
            .map(|f| serde_json::json!({"name": f.name(), "kind": f.kind().as_str(), "description": f.description()}))
            .collect();
        formats.extend(
            own.iter().map(
                |(name, description)| serde_json::json!({"name": name, "kind": "gains", "description": description}),
            ),
        );
        let (name, description) = ALLOCATION;
        formats.push(serde_json::json!({"name": name, "kind": "record", "description": description}));
        return Ok(print_json(&formats)?);
    }
    let mut table = Table::new(&[("Format", Align::Left), ("Kind", Align::Left), ("What it is for", Align::Left)]);
    for f in FORMATS {
        table.row(vec![f.name().into(), f.kind().as_str().into(), f.description().into()]);
    }
    for (name, description) in own {
        table.row(vec![name.into(), "gains".into(), description.into()]);
    }
    table.row(vec![ALLOCATION.0.into(), "record".into(), ALLOCATION.1.into()]);
    Ok(table.print()?)
}

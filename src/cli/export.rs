//! `cointally export <format> --year Y [-o FILE]` and `cointally export --list`: the files tax
//! software, other services and accountants take, each with a manifest beside it.
//!
//! By default the file is `<format>-<year>.csv` in the current directory and the manifest
//! `<file>.manifest.json` beside it; `-o -` writes the CSV on stdout and the manifest on stderr.
//! Like `report`, an export computes the year first and refuses while legs have no value
//! (unless `--allow-missing-prices`). A gains file whose rows include an unknown basis (written
//! as 0.00) is written with a warning naming how many and their events, and the manifest lists
//! them; `--refuse-missing-basis` makes that an error instead.

use std::io::Write;
use std::path::PathBuf;

use crate::export::{self, FORMATS, Input, Kind, ManifestMissingBasis};
use crate::tax::au::export::AuFormat;
use crate::tax::jurisdiction::Jurisdiction;

use super::output::{Align, Table, print_json};
use super::report::{TaxArgs, compute_year};
use super::{Context, Failure};

#[derive(Debug, clap::Args)]
#[command(mut_arg("year", |a| a.required(false)))]
pub struct Args {
    /// The format (`cointally export --list` shows them all)
    #[arg(required_unless_present = "list", value_name = "FORMAT")]
    format: Option<String>,
    /// List the formats with what each is for
    #[arg(long, conflicts_with = "format")]
    list: bool,
    /// The file to write [default: <format>-<year>.csv]; `-` for stdout (the manifest then goes to stderr)
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Refuse to write a gains file while any of its rows has an unknown basis (counted as
    /// zero otherwise, and named in the manifest)
    #[arg(long)]
    refuse_missing_basis: bool,
    #[command(flatten)]
    tax: Option<TaxArgs>,
}

pub fn run(context: &Context, args: Args) -> anyhow::Result<()> {
    if args.list {
        return list(context);
    }
    let name = args.format.unwrap_or_default();
    if let Some(uk) = crate::tax::uk::export::UkFormat::find(&name) {
        return super::report_uk::export(context, uk, args.output, args.tax);
    }
    if let Some(ca) = crate::tax::ca::export::CaFormat::find(&name) {
        return super::report_ca::export(context, ca, args.output, args.tax);
    }
    if let Some(au) = AuFormat::find(&name) {
        return super::report_au::export(context, au, args.output, args.tax);
    }
    if let Some(de) = crate::tax::de::export::DeFormat::find(&name) {
        return super::report_de::export(context, de, args.output, args.tax);
    }
    if name == "allocation" {
        return super::basis::export(context, args.output);
    }
    if name == "html" {
        let Some(tax) = &args.tax else {
            return Err(Failure::input("an export needs --year").hint("e.g. cointally export html --year 2025").into());
        };
        return super::summary::run(context, tax, args.output);
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
    let Some(tax) = args.tax else {
        return Err(Failure::input("an export needs --year").hint("e.g. cointally export form8949 --year 2025").into());
    };
    let mut ledger = context.open_ledger()?;
    if format.kind() == export::Kind::Gains {
        let own = match super::report_uk::jurisdiction(&ledger, &tax)? {
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
    }
    if format.kind() == Kind::Gains && write_filed(context, &ledger, format, &tax, args.output.as_deref())? {
        return Ok(());
    }
    let (computed, missing) = compute_year(context, &mut ledger, &tax)?;
    let input = Input::gather(&ledger, tax.options(), &computed, (missing, tax.allow_missing_prices), &[format])?;
    if format.kind() == Kind::Gains {
        let missing = ManifestMissingBasis::of(&input);
        if missing.rows > 0 {
            let events: Vec<String> = missing.events.iter().take(20).map(i64::to_string).collect();
            let more = if missing.events.len() > 20 { ", ..." } else { "" };
            let what = format!(
                "{} rows of {} have no known basis (written as 0.00): events {}{more}",
                missing.rows,
                format.name(),
                events.join(", ")
            );
            if args.refuse_missing_basis {
                return Err(Failure::input(what)
                    .hint("`cointally check` says where each unknown basis comes from (a deposit from outside, a balance gone negative)")
                    .hint("give the basis (a generic-CSV deposit row's fiat_value), or drop --refuse-missing-basis to write them as 0.00")
                    .into());
            }
            context.note(format!("warning: {what}; the manifest lists them (`cointally check` says why)"));
        }
    }
    let path = args.output.unwrap_or_else(|| PathBuf::from(export::default_file_name(format, tax.year)));
    if path.as_os_str() == "-" {
        let rendered = export::render(format, &input, "-")?;
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(&rendered.bytes)?;
        stdout.flush()?;
        std::io::stderr().write_all(&rendered.manifest.to_json()?)?;
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

/// Writes the file of a closed year as it was written at the close (bytes and manifest; the
/// manifest's `file` is the name written now); returns false when the year is not closed under
/// these options or the ledger has no file of the format (a bundle leaves them out).
fn write_filed(
    context: &Context,
    ledger: &crate::ledger::Ledger,
    format: &dyn export::Format,
    tax: &TaxArgs,
    output: Option<&std::path::Path>,
) -> anyhow::Result<bool> {
    if !crate::tax::years::closed_years(ledger, &tax.options())?.contains(&tax.year) {
        return Ok(false);
    }
    let Some(filed) = ledger.closed_file(tax.year, format.name())? else { return Ok(false) };
    let Some(closed) = ledger.closed_year(tax.year)? else { return Ok(false) };
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
        return Ok(true);
    }
    std::fs::write(&path, &filed.bytes)?;
    std::fs::write(export::manifest_path(&path), &manifest)?;
    if context.json {
        print_json(&serde_json::from_slice::<serde_json::Value>(&manifest)?)?;
        return Ok(true);
    }
    context.note(format!(
        "{} is closed: wrote {} as filed on {} (sha256 {}) and its manifest (`cointally year reopen {} --yes` computes it again)",
        tax.year,
        path.display(),
        closed.closed_at,
        crate::digest::sha256_hex(&filed.bytes),
        tax.year
    ));
    Ok(true)
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

//! `cointally export html --year Y [-o FILE]`: the year as one self-contained page to look at,
//! under the ledger's rules (US, UK, CA, AU or DE: each country's report fills the page).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use crate::check::Finding;
use crate::export::html::{CountryYear, Page, render};
use crate::ledger::{Holding, IncomeRow};
use crate::tax::jurisdiction::Jurisdiction;
use crate::tax::report::{Report, money};

use super::report::{TaxArgs, TaxChoices, compute_year};
use super::report_uk::Output;
use super::{Context, Failure};

/// Computes the years under the ledger's rules and writes each one's page (default
/// `summary-<year>.html`; for `--years`/`--all-years` that name in `-o DIR`), through a
/// temporary file, every page made before any is written. A country computes its range in one
/// pass; US years one after the other (each from the snapshot the one before stored). A
/// closed US year (under these options) is not computed: its page shows the year as filed
/// ([`crate::closed::filed`]), with today's `check` findings.
pub fn run(context: &Context, choices: &TaxChoices, output: Output) -> anyhow::Result<()> {
    let Some(years) = output.years else {
        return Err(Failure::input("an export needs --year")
            .hint("e.g. cointally export html --year 2025")
            .hint("or several years, one page each: --years FIRST-LAST or --all-years")
            .into());
    };
    let mut ledger = context.open_ledger()?;
    let findings = crate::check::audit(&mut ledger)?;
    let title = title(&context.ledger_path());
    let ledger = &mut ledger;
    let country = |year: CountryYear| (year.year, render(&Page::of_country(&title, &findings, year)));
    let pages: Vec<(i32, String)> = match super::report_uk::jurisdiction(ledger, &choices.for_year(years.range.0))? {
        Jurisdiction::Us => {
            let mut pages = Vec::new();
            for year in years.all() {
                pages.push((year, us_html(context, ledger, &choices.for_year(year), &title, &findings)?));
            }
            pages
        }
        Jurisdiction::Uk => {
            super::report_uk::html_years(context, ledger, choices, years)?.into_iter().map(country).collect()
        }
        Jurisdiction::Ca => {
            super::report_ca::html_years(context, ledger, choices, years)?.into_iter().map(country).collect()
        }
        Jurisdiction::Au => {
            super::report_au::html_years(context, ledger, choices, years)?.into_iter().map(country).collect()
        }
        Jurisdiction::De => {
            super::report_de::html_years(context, ledger, choices, years)?.into_iter().map(country).collect()
        }
    };
    let mut paths = Vec::with_capacity(pages.len());
    for (year, _) in &pages {
        let name = format!("summary-{year}.html");
        paths.push(match (&output.path, years.single) {
            (Some(path), true) => path.clone(),
            (None, true) => PathBuf::from(name),
            (dir, false) => super::export::years_dir(dir.as_deref(), &name)?.join(name),
        });
    }
    for (path, (_, html)) in paths.iter().zip(&pages) {
        let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        if !years.single {
            std::fs::create_dir_all(dir)
                .map_err(|e| Failure::input(format!("cannot create the directory {}: {e}", dir.display())))?;
        }
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        std::io::Write::write_all(&mut tmp, html.as_bytes())?;
        tmp.persist(path).map_err(|e| e.error)?;
        context.note(format!("wrote {}", path.display()));
    }
    Ok(())
}

/// The page of a US year (a closed one as filed).
fn us_html(
    context: &Context,
    ledger: &mut crate::ledger::Ledger,
    tax: &TaxArgs,
    title: &str,
    findings: &[Finding],
) -> anyhow::Result<String> {
    Ok(match crate::closed::filed(ledger, tax.year, &tax.options())? {
        Some(filed) => {
            context.note(format!(
                    "{} is closed: the page shows the result as filed on {} (`cointally year reopen {} --yes` computes it again)",
                    tax.year, filed.closed.closed_at, tax.year
                ));
            let page = us_page(title, findings, &filed.report, &filed.income, &filed.holdings);
            filed_note(&render(&page), &filed.closed)
        }
        None => {
            let (computed, _) = compute_year(context, ledger, tax)?;
            let labels: BTreeMap<i64, String> = ledger.accounts()?.into_iter().map(|a| (a.id, a.label)).collect();
            let currency = ledger.reporting_currency()?;
            let c = &computed.computation;
            let report = Report::new(tax.year, &currency, tax.options(), c, &labels, &computed.inputs_hash)
                .with_ledger_settings(ledger)?;
            render(&us_page(title, findings, &report, &c.income, &c.holdings))
        }
    })
}

/// The page of a US year: the report's totals, its lines and income by local date, its lots.
fn us_page<'a>(
    title: &'a str,
    findings: &'a [Finding],
    r: &Report,
    income: &[IncomeRow],
    holdings: &[Holding],
) -> Page<'a> {
    let first_day = NaiveDate::from_ymd_opt(r.year, 1, 1).unwrap_or(NaiveDate::MIN);
    let mut page = Page::new(title, format!("tax year {} ({})", r.year, r.currency), first_day, findings);
    let t = &r.totals;
    page.totals = [
        ("Proceeds", t.proceeds),
        ("Cost basis", t.cost_basis),
        ("Short-term gain", t.short_term_gain),
        ("Long-term gain", t.long_term_gain),
        ("Income", t.income),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), money(value)))
    .collect();
    for asset in r.assets.keys() {
        page.gains.insert(asset.clone(), rust_decimal::Decimal::ZERO);
    }
    for line in &r.lines {
        page.add_disposal(&line.asset, r.zone.date(line.disposed_ms), line.proceeds - line.cost_basis);
    }
    for row in income {
        page.add_income(r.zone.date(row.received_ms), row.value);
    }
    page.held_at = format!("the end of {}", r.year);
    for h in holdings {
        page.add_holding(&h.asset, h.amount, h.cost_basis);
    }
    page.manifest = format!("cointally {}, {}, {} disposals", env!("CARGO_PKG_VERSION"), r.options, r.lines.len());
    page.inputs_hash = r.inputs_hash.clone();
    page
}

/// The page of a closed year with a line under its heading saying so (and that the check
/// findings are today's).
fn filed_note(html: &str, closed: &crate::ledger::closed::ClosedYear) -> String {
    let note = format!(
        "<p class=\"filed\">{} is closed: these are the figures as filed on {} (inputs sha256 <code>{}</code>); the check below is today's ledger.</p>",
        closed.year,
        crate::export::html::escape(&closed.closed_at),
        crate::export::html::escape(&closed.inputs_hash)
    );
    match html.find("</h1>") {
        Some(at) => format!("{}{note}{}", &html[..at + 5], &html[at + 5..]),
        None => html.to_owned(),
    }
}

/// The page's title: the client's folder name for a client ledger, else the ledger's file stem.
fn title(ledger: &Path) -> String {
    let stem = ledger.file_stem().and_then(|s| s.to_str()).unwrap_or("ledger");
    match (stem, ledger.parent().and_then(|p| p.file_name()).and_then(|n| n.to_str())) {
        ("ledger", Some(folder)) => folder.to_string(),
        _ => stem.to_string(),
    }
}

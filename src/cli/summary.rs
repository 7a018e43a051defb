//! `cointally export html --year Y [-o FILE]`: the year as one self-contained page to look at,
//! under the ledger's rules (US, UK, CA, AU or DE: each country's report fills the page).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use crate::check::Finding;
use crate::export::html::{Page, render};
use crate::ledger::{Holding, IncomeRow};
use crate::tax::jurisdiction::Jurisdiction;
use crate::tax::report::{Report, money};

use super::Context;
use super::report::{TaxArgs, compute_year};

/// Computes the year under the ledger's rules and writes its page (default
/// `summary-<year>.html`), through a temporary file. A closed US year (under these options) is
/// not computed: its page shows the year as filed ([`crate::closed::filed`]), with today's
/// `check` findings.
pub fn run(context: &Context, tax: &TaxArgs, output: Option<PathBuf>) -> anyhow::Result<()> {
    let mut ledger = context.open_ledger()?;
    let findings = crate::check::audit(&mut ledger)?;
    let title = title(&context.ledger_path());
    let ledger = &mut ledger;
    let html = match super::report_uk::jurisdiction(ledger, tax)? {
        Jurisdiction::Us => match crate::closed::filed(ledger, tax.year, &tax.options())? {
            Some(filed) => {
                context.note(format!(
                    "{} is closed: the page shows the result as filed on {} (`cointally year reopen {} --yes` computes it again)",
                    tax.year, filed.closed.closed_at, tax.year
                ));
                let page = us_page(&title, &findings, &filed.report, &filed.income, &filed.holdings);
                filed_note(&render(&page), &filed.closed)
            }
            None => {
                let (computed, _) = compute_year(context, ledger, tax)?;
                let labels: BTreeMap<i64, String> = ledger.accounts()?.into_iter().map(|a| (a.id, a.label)).collect();
                let currency = ledger.reporting_currency()?;
                let c = &computed.computation;
                let report = Report::new(tax.year, &currency, tax.options(), c, &labels, &computed.inputs_hash)
                    .with_ledger_settings(ledger)?;
                render(&us_page(&title, &findings, &report, &c.income, &c.holdings))
            }
        },
        Jurisdiction::Uk => render(&super::report_uk::page(context, ledger, tax, &title, &findings)?),
        Jurisdiction::Ca => render(&super::report_ca::page(context, ledger, tax, &title, &findings)?),
        Jurisdiction::Au => render(&super::report_au::page(context, ledger, tax, &title, &findings)?),
        Jurisdiction::De => render(&super::report_de::page(context, ledger, tax, &title, &findings)?),
    };
    let path = output.unwrap_or_else(|| PathBuf::from(format!("summary-{}.html", tax.year)));
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut tmp, html.as_bytes())?;
    tmp.persist(&path).map_err(|e| e.error)?;
    context.note(format!("wrote {}", path.display()));
    Ok(())
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

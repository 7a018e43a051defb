//! `cointally export html --year Y [-o FILE]`: the year as one self-contained page to look at.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::export::html::{Page, render};
use crate::tax::report::Report;

use super::Context;
use super::report::{TaxArgs, compute_year};

/// Computes the year and writes its page (default `summary-<year>.html`), through a temporary
/// file. A closed US year (under these options) is not computed: its page shows the year as
/// filed ([`crate::closed::filed`]), with today's `check` findings.
pub fn run(context: &Context, tax: &TaxArgs, output: Option<PathBuf>) -> anyhow::Result<()> {
    let mut ledger = context.open_ledger()?;
    let ledger_path = context.ledger_path();
    let title = title(&ledger_path);
    let html = if let Some(filed) = crate::closed::filed(&ledger, tax.year, &tax.options())? {
        let findings = crate::check::audit(&mut ledger)?;
        let page = Page {
            title: &title,
            report: &filed.report,
            income: &filed.income,
            holdings: &filed.holdings,
            findings: &findings,
        };
        context.note(format!(
            "{} is closed: the page shows the result as filed on {} (`cointally year reopen {} --yes` computes it again)",
            tax.year, filed.closed.closed_at, tax.year
        ));
        filed_note(&render(&page), &filed.closed)
    } else {
        let (computed, _) = compute_year(context, &mut ledger, tax)?;
        let labels: BTreeMap<i64, String> = ledger.accounts()?.into_iter().map(|a| (a.id, a.label)).collect();
        let currency = ledger.reporting_currency()?;
        let report =
            Report::new(tax.year, &currency, tax.options(), &computed.computation, &labels, &computed.inputs_hash)
                .with_ledger_settings(&ledger)?;
        let findings = crate::check::audit(&mut ledger)?;
        let page = Page {
            title: &title,
            report: &report,
            income: &computed.computation.income,
            holdings: &computed.computation.holdings,
            findings: &findings,
        };
        render(&page)
    };
    let path = output.unwrap_or_else(|| PathBuf::from(format!("summary-{}.html", tax.year)));
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut tmp, html.as_bytes())?;
    tmp.persist(&path).map_err(|e| e.error)?;
    context.note(format!("wrote {}", path.display()));
    Ok(())
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

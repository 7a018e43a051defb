//! `cointally export html --year Y [-o FILE]`: the year as one self-contained page to look at.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::export::html::{Page, render};
use crate::tax::report::Report;

use super::Context;
use super::report::{TaxArgs, compute_year};

/// Computes the year and writes its page (default `summary-<year>.html`), through a temporary file.
pub fn run(context: &Context, tax: &TaxArgs, output: Option<PathBuf>) -> anyhow::Result<()> {
    let mut ledger = context.open_ledger()?;
    let (computed, _) = compute_year(context, &mut ledger, tax)?;
    let labels: BTreeMap<i64, String> = ledger.accounts()?.into_iter().map(|a| (a.id, a.label)).collect();
    let currency = ledger.reporting_currency()?;
    let report = Report::new(tax.year, &currency, tax.options(), &computed.computation, &labels, &computed.inputs_hash)
        .with_ledger_settings(&ledger)?;
    let findings = crate::check::audit(&mut ledger)?;
    let ledger_path = context.ledger_path();
    let title = title(&ledger_path);
    let page = Page {
        title: &title,
        report: &report,
        income: &computed.computation.income,
        holdings: &computed.computation.holdings,
        findings: &findings,
    };
    let html = render(&page);
    let path = output.unwrap_or_else(|| PathBuf::from(format!("summary-{}.html", tax.year)));
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut tmp, html.as_bytes())?;
    tmp.persist(&path).map_err(|e| e.error)?;
    context.note(format!("wrote {}", path.display()));
    Ok(())
}

/// The page's title: the client's folder name for a client ledger, else the ledger's file stem.
fn title(ledger: &Path) -> String {
    let stem = ledger.file_stem().and_then(|s| s.to_str()).unwrap_or("ledger");
    match (stem, ledger.parent().and_then(|p| p.file_name()).and_then(|n| n.to_str())) {
        ("ledger", Some(folder)) => folder.to_string(),
        _ => stem.to_string(),
    }
}

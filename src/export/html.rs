//! `export html`: one self-contained page to look at a year — totals, gains per asset and
//! month (inline SVG charts), income, holdings at the year's end, the audit's findings and the
//! manifest. Inline CSS, no script, no external URL: it opens with no network. The markup is
//! well-formed XML (XHTML syntax), so any XML parser reads it.

use std::collections::BTreeMap;
use std::fmt::Write;

use chrono::Datelike;
use rust_decimal::Decimal;

use crate::check::Finding;
use crate::ledger::{Holding, IncomeRow};
use crate::tax::report::{Report, money};

/// Everything one page shows.
pub struct Page<'a> {
    /// The page's title (a client's name, or the ledger's file name).
    pub title: &'a str,
    /// The year's report.
    pub report: &'a Report,
    /// The year's income rows.
    pub income: &'a [IncomeRow],
    /// The lots held at the year's end.
    pub holdings: &'a [Holding],
    /// What `check` found.
    pub findings: &'a [Finding],
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em}\
td.n{text-align:right;font-variant-numeric:tabular-nums}h1{font-size:1.6em}\
.gain{fill:#2e7d32}.loss{fill:#c62828}.income{fill:#1565c0}svg text{font-size:11px}";

/// Escapes text for XML content and attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// The page, as XHTML text.
pub fn render(page: &Page<'_>) -> String {
    let r = page.report;
    let mut html = head(&format!("{} — tax year {}", page.title, r.year));
    let _ = write!(html, "<h1>{} — tax year {} ({})</h1>", escape(page.title), r.year, escape(&r.currency));
    html.push_str("<h2>Totals</h2><table><tr><th>Proceeds</th><th>Cost basis</th><th>Short-term gain</th><th>Long-term gain</th><th>Income</th></tr><tr>");
    for v in
        [r.totals.proceeds, r.totals.cost_basis, r.totals.short_term_gain, r.totals.long_term_gain, r.totals.income]
    {
        let _ = write!(html, "<td class=\"n\">{}</td>", money(v));
    }
    html.push_str("</tr></table>");

    html.push_str("<h2>Gains per asset</h2>");
    let gains: Vec<(String, Decimal)> =
        r.assets.iter().map(|(asset, f)| (asset.clone(), f.short_term_gain + f.long_term_gain)).collect();
    html.push_str(&bars(&gains, "gain"));

    html.push_str("<h2>Realised gains and income per month</h2>");
    let mut months: BTreeMap<u32, (Decimal, Decimal)> = (1..=12).map(|m| (m, (Decimal::ZERO, Decimal::ZERO))).collect();
    for line in &r.lines {
        if let Some(entry) = months.get_mut(&r.zone.date(line.disposed_ms).month()) {
            entry.0 += line.proceeds - line.cost_basis;
        }
    }
    for row in page.income {
        if let Some(entry) = months.get_mut(&r.zone.date(row.received_ms).month()) {
            entry.1 += row.value;
        }
    }
    html.push_str(&monthly(&months));
    html.push_str("<table><tr><th>Month</th><th>Realised gain</th><th>Income</th></tr>");
    for (month, (gain, income)) in &months {
        let _ = write!(
            html,
            "<tr><td>{}-{month:02}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            r.year,
            money(*gain),
            money(*income)
        );
    }
    html.push_str("</table>");

    let _ = write!(html, "<h2>Holdings at the end of {}</h2>", r.year);
    let mut held: BTreeMap<&str, (Decimal, Decimal)> = BTreeMap::new();
    for h in page.holdings {
        let entry = held.entry(h.asset.as_str()).or_default();
        entry.0 += h.amount;
        entry.1 += h.cost_basis;
    }
    html.push_str("<table><tr><th>Asset</th><th>Amount</th><th>Cost basis</th></tr>");
    for (asset, (amount, basis)) in &held {
        let _ = write!(
            html,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            escape(asset),
            amount.normalize(),
            money(*basis)
        );
    }
    html.push_str("</table>");

    html.push_str("<h2>Check</h2>");
    if page.findings.is_empty() {
        html.push_str("<p>Clean: balances agree, no negative balance, every transfer matched, every leg valued, every basis known.</p>");
    } else {
        html.push_str(
            "<table><tr><th>Finding</th><th>Account</th><th>Items</th><th>What it means</th><th>What to do</th></tr>",
        );
        for f in page.findings {
            let _ = write!(
                html,
                "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td></tr>",
                escape(f.kind),
                escape(&f.account),
                f.count,
                escape(&f.message),
                escape(&f.hint)
            );
        }
        html.push_str("</table>");
    }
    let _ = write!(
        html,
        "<h2>Manifest</h2><p>cointally {}, {}, {} disposals, inputs sha256 <code>{}</code></p>",
        env!("CARGO_PKG_VERSION"),
        escape(&r.options.to_string()),
        r.lines.len(),
        escape(&r.inputs_hash)
    );
    html.push_str("</body></html>\n");
    html
}

/// An index page linking each client's page: `(client, relative link)`, in the order given.
pub fn index(year: i32, pages: &[(String, String)]) -> String {
    let mut html = head(&format!("Clients — tax year {year}"));
    let _ = write!(html, "<h1>Clients — tax year {year}</h1><ul>");
    for (client, link) in pages {
        let _ = write!(html, "<li><a href=\"{}\">{}</a></li>", escape(link), escape(client));
    }
    html.push_str("</ul></body></html>\n");
    html
}

fn head(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/><title>{}</title><style>{STYLE}</style></head><body>",
        escape(title)
    )
}

/// `part` of `whole` scaled to `size` pixels, in whole pixels (0 when `whole` is zero).
fn scale(part: Decimal, whole: Decimal, size: u32) -> Decimal {
    if whole.is_zero() {
        return Decimal::ZERO;
    }
    (part.abs() * Decimal::from(size)).checked_div(whole).unwrap_or_default().round()
}

/// A horizontal bar per label, green for gains, red for losses.
fn bars(values: &[(String, Decimal)], class: &str) -> String {
    let max = values.iter().map(|(_, v)| v.abs()).max().unwrap_or_default();
    let height = 22 * values.len().max(1);
    let mut svg = format!("<svg width=\"640\" height=\"{height}\" role=\"img\">");
    for (i, (label, value)) in values.iter().enumerate() {
        let y = i * 22;
        let width = scale(*value, max, 400);
        let class = if value.is_sign_negative() { "loss" } else { class };
        let _ = write!(
            svg,
            "<text x=\"0\" y=\"{}\">{}</text><rect class=\"{class}\" x=\"100\" y=\"{}\" width=\"{width}\" height=\"16\"/><text x=\"{}\" y=\"{}\">{}</text>",
            y + 13,
            escape(label),
            y + 2,
            Decimal::from(105) + width,
            y + 13,
            money(*value)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Two bars per month: realised gain (green, red if a loss) and income (blue).
fn monthly(months: &BTreeMap<u32, (Decimal, Decimal)>) -> String {
    let max = months.values().flat_map(|(g, i)| [g.abs(), i.abs()]).max().unwrap_or_default();
    let mut svg = String::from("<svg width=\"640\" height=\"200\" role=\"img\">");
    for (month, (gain, income)) in months {
        let x = (month - 1) * 50 + 10;
        for (offset, value, class) in
            [(0, gain, if gain.is_sign_negative() { "loss" } else { "gain" }), (20, income, "income")]
        {
            let h = scale(*value, max, 160);
            let _ = write!(
                svg,
                "<rect class=\"{class}\" x=\"{}\" y=\"{}\" width=\"18\" height=\"{h}\"/>",
                x + offset,
                Decimal::from(170) - h
            );
        }
        let _ = write!(svg, "<text x=\"{x}\" y=\"188\">{month:02}</text>");
    }
    svg.push_str("</svg>");
    svg
}

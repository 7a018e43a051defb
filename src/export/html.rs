//! `export html`: one self-contained page to look at a year — totals, gains per asset and
//! month (inline SVG charts), income, holdings at the year's end, the audit's findings and the
//! manifest. Inline CSS, no script, no external URL: it opens with no network. The markup is
//! well-formed XML (XHTML syntax), so any XML parser reads it.

use std::collections::BTreeMap;
use std::fmt::Write;

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

use crate::check::Finding;
use crate::tax::report::money;

/// Everything one page shows, whatever the country's rules: each jurisdiction's report fills
/// it (`cli::summary`), so the page's shape is one and its figures are that country's.
pub struct Page<'a> {
    /// The page's title (a client's name, or the ledger's file name).
    pub title: &'a str,
    /// What the page covers, after the title: `tax year 2024 (USD)`, `tax year 2024/25 (GBP, UK rules)`.
    pub period: String,
    /// The totals row: each figure's name and its text (a country's are its `report --json` totals, by name).
    pub totals: Vec<(String, String)>,
    /// Realised gain (or loss) per asset.
    pub gains: BTreeMap<String, Decimal>,
    /// Realised gain and income per month of the tax year, `(year, month)` in order.
    pub months: BTreeMap<(i32, u32), (Decimal, Decimal)>,
    /// When the holdings are counted: `the end of 2024`, `5 April 2025`.
    pub held_at: String,
    /// Units and cost held per asset at the year's end (lots, parcels or pools summed).
    pub holdings: BTreeMap<String, (Decimal, Decimal)>,
    /// What `check` found.
    pub findings: &'a [Finding],
    /// The manifest line before the hash: version, rules and options, rows.
    pub manifest: String,
    /// The inputs hash of the computation (as `report` prints it).
    pub inputs_hash: String,
}

/// What a country's computed year (UK, Canada, Australia, Germany) puts on its page: the
/// page of a country is [`Page::of_country`] of it, the one way those pages are made.
#[derive(Debug, Clone)]
pub struct CountryYear {
    /// The tax year, as `--year` names it.
    pub year: i32,
    /// What the page covers: `tax year 2024/25 (GBP, UK rules)`.
    pub period: String,
    /// The year's first and last day.
    pub days: (NaiveDate, NaiveDate),
    /// The year's `report --json` document (its `totals` fill the totals row).
    pub report: serde_json::Value,
    /// Each row of the year: asset, the country's date of the disposal, gain (or loss).
    pub disposals: Vec<(String, NaiveDate, Decimal)>,
    /// Each income received: the country's date, value.
    pub income: Vec<(NaiveDate, Decimal)>,
    /// Held at the year's end: asset, units, cost (lots, parcels or pools).
    pub holdings: Vec<(String, Decimal, Decimal)>,
    /// The rules in the manifest line: `UK rules`, `ATO rules, fifo`.
    pub rules: String,
    /// The inputs hash of the computation.
    pub inputs_hash: String,
}

impl<'a> Page<'a> {
    /// The page of a country's year: its report's totals, each row by the country's date, the
    /// holdings at the year's last day, the manifest line with the rules and the rows.
    pub fn of_country(title: &'a str, findings: &'a [Finding], year: CountryYear) -> Page<'a> {
        let (first_day, last_day) = year.days;
        let mut page = Page::new(title, year.period, first_day, findings);
        page.totals_from_json(&year.report);
        for (asset, date, gain) in &year.disposals {
            page.add_disposal(asset, *date, *gain);
        }
        for (date, value) in year.income {
            page.add_income(date, value);
        }
        page.held_at = last_day.format("%-d %B %Y").to_string();
        for (asset, units, cost) in &year.holdings {
            page.add_holding(asset, *units, *cost);
        }
        page.manifest =
            format!("cointally {}, {}, {} rows", env!("CARGO_PKG_VERSION"), year.rules, year.disposals.len());
        page.inputs_hash = year.inputs_hash;
        page
    }

    /// An empty page for a tax year starting on `first_day` (twelve months, nothing in them yet).
    pub fn new(title: &'a str, period: String, first_day: NaiveDate, findings: &'a [Finding]) -> Page<'a> {
        let months = (0..12)
            .map(|i| {
                let m0 = first_day.month0() + i;
                ((first_day.year() + i32::try_from(m0 / 12).unwrap_or(0), m0 % 12 + 1), (Decimal::ZERO, Decimal::ZERO))
            })
            .collect();
        Page {
            title,
            period,
            totals: Vec::new(),
            gains: BTreeMap::new(),
            months,
            held_at: String::new(),
            holdings: BTreeMap::new(),
            findings,
            manifest: String::new(),
            inputs_hash: String::new(),
        }
    }

    /// Adds a disposal's gain (or loss) to its asset and to the month of `date`.
    pub fn add_disposal(&mut self, asset: &str, date: NaiveDate, gain: Decimal) {
        *self.gains.entry(asset.to_owned()).or_default() += gain;
        if let Some(month) = self.months.get_mut(&(date.year(), date.month())) {
            month.0 += gain;
        }
    }

    /// Adds income received on `date` to its month.
    pub fn add_income(&mut self, date: NaiveDate, value: Decimal) {
        if let Some(month) = self.months.get_mut(&(date.year(), date.month())) {
            month.1 += value;
        }
    }

    /// Adds units held at the year's end and their cost.
    pub fn add_holding(&mut self, asset: &str, units: Decimal, cost: Decimal) {
        let held = self.holdings.entry(asset.to_owned()).or_default();
        held.0 += units;
        held.1 += cost;
    }

    /// The totals row from a report's `--json` document (its `totals` object, in its order), so
    /// the page shows exactly the figures `report` gives.
    pub fn totals_from_json(&mut self, report: &serde_json::Value) {
        let Some(totals) = report.get("totals").and_then(|t| t.as_object()) else { return };
        self.totals = totals
            .iter()
            .map(|(name, value)| {
                let text = value.as_str().map(str::to_owned).unwrap_or_else(|| value.to_string());
                (heading(name), text)
            })
            .collect();
    }
}

/// `net_gain` → `Net gain`.
fn heading(name: &str) -> String {
    let spaced = name.replace('_', " ");
    let mut chars = spaced.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
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
    let mut html = head(&format!("{} — {}", page.title, page.period));
    let _ = write!(html, "<h1>{} — {}</h1>", escape(page.title), escape(&page.period));
    html.push_str("<h2>Totals</h2><table><tr>");
    for (name, _) in &page.totals {
        let _ = write!(html, "<th>{}</th>", escape(name));
    }
    html.push_str("</tr><tr>");
    for (_, value) in &page.totals {
        let _ = write!(html, "<td class=\"n\">{}</td>", escape(value));
    }
    html.push_str("</tr></table>");

    html.push_str("<h2>Gains per asset</h2>");
    let gains: Vec<(String, Decimal)> = page.gains.iter().map(|(asset, gain)| (asset.clone(), *gain)).collect();
    html.push_str(&bars(&gains, "gain"));

    html.push_str("<h2>Realised gains and income per month</h2>");
    html.push_str(&monthly(&page.months));
    html.push_str("<table><tr><th>Month</th><th>Realised gain</th><th>Income</th></tr>");
    for ((year, month), (gain, income)) in &page.months {
        let _ = write!(
            html,
            "<tr><td>{year}-{month:02}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            money(*gain),
            money(*income)
        );
    }
    html.push_str("</table>");

    let _ = write!(html, "<h2>Holdings at {}</h2>", escape(&page.held_at));
    html.push_str("<table><tr><th>Asset</th><th>Amount</th><th>Cost basis</th></tr>");
    for (asset, (amount, basis)) in &page.holdings {
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
        "<h2>Manifest</h2><p>{}, inputs sha256 <code>{}</code></p>",
        escape(&page.manifest),
        escape(&page.inputs_hash)
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
fn monthly(months: &BTreeMap<(i32, u32), (Decimal, Decimal)>) -> String {
    let max = months.values().flat_map(|(g, i)| [g.abs(), i.abs()]).max().unwrap_or_default();
    let mut svg = String::from("<svg width=\"640\" height=\"200\" role=\"img\">");
    for (i, ((_, month), (gain, income))) in months.iter().enumerate() {
        let x = i * 50 + 10;
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

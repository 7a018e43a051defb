//! `export html`: one self-contained, well-formed page with the year's figures.

mod common;

use common::{Sandbox, country_ledger, fixture};

#[test]
fn the_html_summary_is_well_formed_self_contained_and_shows_the_figures() {
    let sb = Sandbox::new();
    sb.ok(&["init"]);
    sb.ok(&["account", "add", "wallet", "--label", "exchange"]);
    sb.ok(&["account", "add", "wallet", "--label", "wallet"]);
    sb.ok(&["import", &fixture("tax/exchange.csv"), "--account", "exchange"]);
    sb.ok(&["import", &fixture("tax/wallet.csv"), "--account", "wallet"]);
    sb.ok(&["prices", "import", &fixture("tax/prices.csv")]);
    sb.ok(&["prices", "--offline"]);
    let report = sb.ok(&["--json", "report", "--year", "2024"]).json();

    sb.ok(&["export", "html", "--year", "2024", "-o", "summary.html"]);
    let html = std::fs::read_to_string(sb.path("summary.html")).unwrap();
    assert!(!html.contains("http://") && !html.contains("https://"), "an external URL");
    assert!(!html.contains("<script") && !html.contains("<link"), "nothing loaded from elsewhere");

    let doc = roxmltree::Document::parse_with_options(
        &html,
        roxmltree::ParsingOptions { allow_dtd: true, ..Default::default() },
    )
    .unwrap_or_else(|e| panic!("not well-formed: {e}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "html");
    let headings: Vec<&str> = doc.descendants().filter(|n| n.has_tag_name("h2")).filter_map(|n| n.text()).collect();
    assert_eq!(
        headings,
        [
            "Totals",
            "Gains per asset",
            "Realised gains and income per month",
            "Holdings at the end of 2024",
            "Check",
            "Manifest"
        ]
    );
    assert_eq!(doc.descendants().filter(|n| n.has_tag_name("svg")).count(), 2);
    assert!(doc.descendants().any(|n| n.has_tag_name("style")));

    // The totals row carries the report's figures.
    let cells: Vec<String> = doc
        .descendants()
        .find(|n| n.has_tag_name("table"))
        .unwrap()
        .descendants()
        .filter(|n| n.has_tag_name("td"))
        .map(|n| n.text().unwrap_or("").to_string())
        .collect();
    let totals = &report["totals"];
    let expected: Vec<String> = ["proceeds", "cost_basis", "short_term_gain", "long_term_gain", "income"]
        .iter()
        .map(|k| totals[*k].as_str().unwrap_or_else(|| panic!("totals.{k}: {totals}")).to_string())
        .collect();
    assert_eq!(cells, expected);
    // One bar per asset of the report.
    let assets = report["assets"].as_array().unwrap().len();
    let first_svg = doc.descendants().find(|n| n.has_tag_name("svg")).unwrap();
    assert_eq!(first_svg.children().filter(|n| n.has_tag_name("rect")).count(), assets);
    assert!(html.contains(report["inputs_hash"].as_str().unwrap()));
}

/// Parses a page written by `export html`, checking it is self-contained and well-formed.
fn parse(html: &str) -> roxmltree::Document<'_> {
    assert!(!html.contains("http://") && !html.contains("https://"), "an external URL");
    assert!(!html.contains("<script") && !html.contains("<link"), "nothing loaded from elsewhere");
    roxmltree::Document::parse_with_options(html, roxmltree::ParsingOptions { allow_dtd: true, ..Default::default() })
        .unwrap_or_else(|e| panic!("not well-formed: {e}"))
}

/// A UK, Canadian, Australian or German ledger's page shows that country's report, not a US
/// computation: its period and rules, the totals of `report --json` (same names, same figures),
/// one bar per asset disposed of, the holdings at the country's year end, the same inputs hash.
#[test]
fn the_html_summary_of_a_country_ledger_shows_that_countrys_report() {
    for (code, currency, year, rules, held_at) in [
        ("uk", "GBP", "2024", "UK rules", "Holdings at 5 April 2025"),
        ("ca", "CAD", "2024", "Canadian rules", "Holdings at 31 December 2024"),
        ("au", "AUD", "2025", "ATO rules", "Holdings at 30 June 2025"),
        ("de", "EUR", "2024", "German rules", "Holdings at 31 December 2024"),
    ] {
        let sb = country_ledger(code, currency);
        let report = sb.ok(&["--json", "report", "--year", year]).json();
        sb.ok(&["export", "html", "--year", year, "-o", "summary.html"]);
        let html = std::fs::read_to_string(sb.path("summary.html")).unwrap();
        let doc = parse(&html);
        let h1 = doc.descendants().find(|n| n.has_tag_name("h1")).and_then(|n| n.text()).unwrap();
        let label = report["period"]["tax_year"].as_str().unwrap();
        assert!(h1.contains(rules) && h1.contains(label) && h1.contains(currency), "{code}: {h1}");
        let headings: Vec<&str> = doc.descendants().filter(|n| n.has_tag_name("h2")).filter_map(|n| n.text()).collect();
        assert_eq!(headings[3], held_at, "{code}");

        let table = doc.descendants().find(|n| n.has_tag_name("table")).unwrap();
        let cells = |tag: &str| -> Vec<String> {
            table.descendants().filter(|n| n.has_tag_name(tag)).map(|n| n.text().unwrap_or("").to_string()).collect()
        };
        let totals = report["totals"].as_object().unwrap();
        let expected: Vec<String> =
            totals.values().map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())).collect();
        assert_eq!(cells("td"), expected, "{code}");
        assert_eq!(cells("th").len(), totals.len(), "{code}");

        // Monthly rows cover the country's tax year, starting in its first month.
        let first_month = report["period"]["from"].as_str().unwrap()[..7].to_string();
        let months: Vec<String> = doc
            .descendants()
            .filter(|n| n.has_tag_name("td"))
            .filter_map(|n| n.text())
            .filter(|t| t.len() == 7 && t.as_bytes()[4] == b'-')
            .map(str::to_string)
            .collect();
        assert_eq!(months.len(), 12, "{code}: {months:?}");
        assert_eq!(months[0], first_month, "{code}");

        // A bar per asset with a disposal in the year; the report's inputs hash in the manifest.
        let disposed: std::collections::BTreeSet<&str> = report["assets"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| {
                a["proceeds"]
                    .as_str()
                    .and_then(|v| v.parse::<rust_decimal::Decimal>().ok())
                    .is_some_and(|v| !v.is_zero())
            })
            .filter_map(|a| a["asset"].as_str())
            .collect();
        let first_svg = doc.descendants().find(|n| n.has_tag_name("svg")).unwrap();
        assert_eq!(first_svg.children().filter(|n| n.has_tag_name("rect")).count(), disposed.len(), "{code}");
        assert!(html.contains(report["inputs_hash"].as_str().unwrap()), "{code}");
    }
}

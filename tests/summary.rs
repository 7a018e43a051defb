//! `export html`: one self-contained, well-formed page with the year's figures.

mod common;

use common::{Sandbox, fixture};

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

//! `report --years`, `--all-years` and `--from-scratch` end to end: one pass gives what each
//! year alone gives, a later report starts from the year-end snapshot, and an old event
//! imported afterwards invalidates the snapshots after it.

mod common;

use common::{Sandbox, fixture};
use serde_json::Value;

/// The ledger of `tests/tax.rs`: events from 2022 to 2024 in an exchange and a wallet.
fn two_accounts() -> Sandbox {
    let sb = Sandbox::new();
    sb.ok(&["init"]);
    sb.ok(&["account", "add", "wallet", "--label", "exchange"]);
    sb.ok(&["account", "add", "wallet", "--label", "wallet"]);
    sb.ok(&["import", &fixture("tax/exchange.csv"), "--account", "exchange"]);
    sb.ok(&["import", &fixture("tax/wallet.csv"), "--account", "wallet"]);
    sb.ok(&["prices", "import", &fixture("tax/prices.csv")]);
    sb.ok(&["prices", "--offline"]);
    sb
}

#[test]
fn all_years_in_one_pass_equal_each_year_alone() {
    let sb = two_accounts();
    let range = sb.ok(&["--json", "report", "--years", "2022-2024"]).json();
    let docs = range.as_array().expect("an array of years");
    assert_eq!(docs.len(), 3);
    let each: Vec<Value> = (2022..=2024)
        .map(|y| sb.ok(&["--json", "report", "--year", &y.to_string(), "--from-scratch"]).json())
        .collect();
    assert_eq!(docs, &each);
    assert_eq!(docs[2]["totals"]["proceeds"], "32950.00");
    assert_eq!(sb.ok(&["--json", "report", "--all-years"]).json(), range);
    let text = sb.ok(&["report", "--years", "2023-2024"]).stdout;
    assert!(text.contains("Tax year 2023") && text.contains("Tax year 2024"), "{text}");
    // Not a range.
    let bad = sb.run(&["report", "--years", "2024-2022"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("FIRST-LAST"), "{}", bad.stderr);
}

#[test]
fn an_old_event_invalidates_the_snapshots_after_it() {
    let sb = two_accounts();
    sb.ok(&["report", "--all-years"]);
    // Nothing changed: 2024 starts from the end of 2023.
    let again = sb.ok(&["--json", "report", "--year", "2024"]);
    assert!(again.stderr.contains("snapshot at the end of 2023"), "{}", again.stderr);
    let before = again.json();
    // A buy of 2021 found late: FIFO now sells its cheaper lot first in 2024.
    sb.ok(&["import", &fixture("years/late.csv"), "--account", "exchange"]);
    sb.ok(&["prices", "--offline"]);
    let after = sb.ok(&["--json", "report", "--year", "2024"]);
    assert!(!after.stderr.contains("end of 2023"), "the 2023 snapshot was dropped: {}", after.stderr);
    let after = after.json();
    assert_ne!(after["totals"], before["totals"]);
    assert_ne!(after["inputs_hash"], before["inputs_hash"]);
    assert_eq!(after, sb.ok(&["--json", "report", "--year", "2024", "--from-scratch"]).json());
}

/// `export FORMAT --years A-B` writes one file per year in one pass, each byte for byte (and its
/// manifest) what `export FORMAT --year Y` writes; `--all-years` is the same range here.
#[test]
fn exports_over_a_range_of_years_equal_each_year_alone() {
    let sb = two_accounts();
    let formats = ["form8949", "schedule-d", "turbotax", "taxact", "income", "holdings", "audit"];
    for format in formats {
        let range = sb.ok(&["--json", "export", format, "--years", "2022-2024", "-o", "range"]);
        let manifests = range.json();
        let manifests = manifests.as_array().expect("an array of manifests");
        assert_eq!(manifests.len(), 3, "{format}");
        sb.ok(&["export", format, "--all-years", "-o", "all"]);
        for (i, year) in (2022..=2024).enumerate() {
            let y = year.to_string();
            let alone = sb.ok(&["--json", "export", format, "--year", &y]).json();
            assert_eq!(manifests[i], alone, "{format} {year}");
            assert_eq!(alone["year"], year);
            let name = format!("{format}-{year}.csv");
            for file in [name.clone(), format!("{name}.manifest.json")] {
                let one = std::fs::read(sb.path(&file)).unwrap();
                assert_eq!(std::fs::read(sb.path(&format!("range/{file}"))).unwrap(), one, "{file}");
                assert_eq!(std::fs::read(sb.path(&format!("all/{file}"))).unwrap(), one, "{file}");
            }
        }
    }
    // The 2024 form has the report's rows: not an empty file that would equal anything.
    let form = std::fs::read_to_string(sb.path("range/form8949-2024.csv")).unwrap();
    assert!(form.lines().count() > 1, "{form}");
    // Only the gains formats go per year; a range cannot go to stdout nor into a file.
    let bad = sb.run(&["export", "koinly", "--years", "2022-2024"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("--year 2025"), "{}", bad.stderr);
    let bad = sb.run(&["export", "form8949", "--years", "2022-2024", "-o", "-"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    let bad = sb.run(&["export", "form8949", "--years", "2022-2024", "-o", "form8949-2024.csv"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("directory"), "{}", bad.stderr);
}

/// `report --years` and `export FORMAT --years` under each country's rules (the UK's tax
/// years from 6 April, Canada's calendar years, Australia's financial years named by the year
/// they end in, Germany's calendar years in Berlin time): the JSON array holds, byte for byte,
/// the document `report --year Y --json` prints for each year; each file of a range is the
/// file `export FORMAT --year Y` writes, and its manifest; `--all-years` spans the tax years of
/// the first and the last event.
#[test]
fn countries_over_a_range_of_years_equal_each_year_alone() {
    // (code, currency, --years, the years it means, --all-years, formats)
    type Country<'a> = (&'a str, &'a str, &'a str, &'a [i32], (i32, i32), &'a [&'a str]);
    let countries: [Country; 4] = [
        ("uk", "GBP", "2023-2025", &[2023, 2024, 2025], (2023, 2025), &["hmrc", "sa108", "html"]),
        ("ca", "CAD", "2023-2025", &[2023, 2024, 2025], (2023, 2025), &["schedule3", "acb", "html"]),
        // 2024-2025: the financial years 2023-24 and 2024-25; the last event (30 June 2025,
        // 14:30 UTC) is 1 July 00:30 in Sydney, in 2025-26.
        ("au", "AUD", "2024-2025", &[2024, 2025], (2023, 2026), &["ato", "ato-summary", "html"]),
        // The last event (31 December 2024, 23:30 UTC) is 2025 in Berlin.
        ("de", "EUR", "2023-2024", &[2023, 2024], (2023, 2025), &["anlage-so", "anlage-so-disposals", "html"]),
    ];
    for (code, currency, range, years, all, formats) in countries {
        let sb = common::country_ledger(code, currency);
        let out = sb.ok(&["--json", "report", "--years", range]);
        let docs: Vec<Value> = serde_json::from_str(&out.stdout).expect("an array of documents");
        assert_eq!(docs.len(), years.len(), "{code}");
        for (doc, year) in docs.iter().zip(years) {
            let alone = sb.ok(&["--json", "report", "--year", &year.to_string()]).stdout;
            assert_eq!(serde_json::to_string_pretty(doc).unwrap() + "\n", alone, "{code} {year}");
            assert_eq!(doc["year"], *year, "{code}");
        }
        // Not every year is empty: the range holds the disposals of the fixtures.
        let rows: usize = docs.iter().map(|d| d["disposals"].as_array().map_or(0, Vec::len)).sum();
        assert!(rows >= 2, "{code}: {rows} disposals");
        let every = sb.ok(&["--json", "report", "--all-years"]).json();
        let every = every.as_array().expect("an array");
        assert_eq!(every.len() as i32, all.1 - all.0 + 1, "{code}");
        assert_eq!(
            (every[0]["year"].as_i64(), every.last().unwrap()["year"].as_i64()),
            (Some(all.0.into()), Some(all.1.into()))
        );
        // Text: every year's heading, in order.
        let text = sb.ok(&["report", "--years", range]).stdout;
        let alone: Vec<String> = years.iter().map(|y| sb.ok(&["report", "--year", &y.to_string()]).stdout).collect();
        assert_eq!(text, alone.join("\n"), "{code}");
        for format in formats {
            let out = sb.ok(&["--json", "export", format, "--years", range, "-o", "range"]);
            if *format != "html" {
                let manifests = out.json();
                assert_eq!(manifests.as_array().map(Vec::len), Some(years.len()), "{code} {format}");
            }
            for (i, year) in years.iter().enumerate() {
                let y = year.to_string();
                let alone = sb.ok(&["--json", "export", format, "--year", &y]);
                let name =
                    if *format == "html" { format!("summary-{year}.html") } else { format!("{format}-{year}.csv") };
                let mut files = vec![name.clone()];
                if *format != "html" {
                    assert_eq!(out.json()[i], alone.json(), "{code} {format} {year}");
                    files.push(format!("{name}.manifest.json"));
                }
                for file in files {
                    let one = std::fs::read(sb.path(&file)).unwrap();
                    assert_eq!(std::fs::read(sb.path(&format!("range/{file}"))).unwrap(), one, "{code} {file}");
                }
            }
        }
        // A range cannot go to stdout.
        let bad = sb.run(&["export", formats[0], "--years", range, "-o", "-"]);
        assert_eq!(bad.code, 2, "{}", bad.stderr);
    }
}

/// Every country's reports keep year-end snapshots as the US ones do: the next report of the
/// year starts from the one at the end of the year before (stderr says so) and prints what
/// `--from-scratch` prints; an event imported before it drops it.
#[test]
fn a_country_report_starts_from_its_snapshot_until_an_old_event_drops_it() {
    // (code, currency, year, the year before and the year as the note names them, the late event)
    let countries = [
        ("uk", "GBP", 2024, ("2023/24", "2024/25"), "years/late-uk.csv"),
        ("ca", "CAD", 2024, ("2023", "2024"), "years/late-ca.csv"),
        ("au", "AUD", 2025, ("2023-24", "2024-25"), "years/late-au.csv"),
        ("de", "EUR", 2024, ("2023", "2024"), "years/late-de.csv"),
    ];
    for (code, currency, year, (before, named), late) in countries {
        let sb = common::country_ledger(code, currency);
        // A range stores the snapshot at its last end; the year after it starts there.
        let range = format!("{}-{year}", year - 2);
        sb.ok(&["report", "--years", &range]);
        let next = (year + 1).to_string();
        let after = sb.ok(&["--json", "report", "--year", &next]);
        let note = format!("computed from the snapshot at the end of {named}");
        assert!(after.stderr.contains(&note), "{code}: {}", after.stderr);
        assert_eq!(after.stdout, sb.ok(&["--json", "report", "--year", &next, "--from-scratch"]).stdout, "{code}");
        let year = &year.to_string();
        let first = sb.ok(&["--json", "report", "--year", year, "--from-scratch"]);
        let again = sb.ok(&["--json", "report", "--year", year]);
        let note = format!("computed from the snapshot at the end of {before}");
        assert!(again.stderr.contains(&note), "{code}: {}", again.stderr);
        assert_eq!(again.stdout, first.stdout, "{code}");
        let scratch = sb.ok(&["--json", "report", "--year", year, "--from-scratch"]);
        assert!(!scratch.stderr.contains("snapshot"), "{code}: {}", scratch.stderr);
        assert_eq!(scratch.stdout, first.stdout, "{code}");
        // The text report too.
        let text = sb.ok(&["report", "--year", year]);
        assert!(text.stderr.contains(&note), "{code}: {}", text.stderr);
        assert_eq!(text.stdout, sb.ok(&["report", "--year", year, "--from-scratch"]).stdout, "{code}");
        // An older buy: the snapshots after it are dropped, the year computed again.
        sb.ok(&["import", &fixture(late), "--account", "exchange"]);
        sb.ok(&["prices", "--offline"]);
        let after = sb.ok(&["--json", "report", "--year", year]);
        assert!(!after.stderr.contains("snapshot"), "{code}: the snapshot was dropped: {}", after.stderr);
        assert_ne!(after.json()["inputs_hash"], first.json()["inputs_hash"], "{code}");
        assert_eq!(after.stdout, sb.ok(&["--json", "report", "--year", year, "--from-scratch"]).stdout, "{code}");
    }
}

/// A country's snapshot that no longer reads (an edited ledger) stops the report with an error
/// that names the year and `--from-scratch`; `--from-scratch` writes the snapshot again and the
/// next report starts from it.
#[test]
fn a_damaged_country_snapshot_is_an_error_naming_from_scratch() {
    for (code, currency, year, before) in [("uk", "GBP", "2024", "2023"), ("de", "EUR", "2024", "2023")] {
        let sb = common::country_ledger(code, currency);
        let first = sb.ok(&["--json", "report", "--year", year]).stdout;
        let ledger = rusqlite::Connection::open(sb.ledger()).unwrap();
        let damaged = ledger
            .execute(
                "UPDATE tax_snapshots SET state = '{\"per_wallet\": 7}' WHERE jurisdiction = ?1 AND year = ?2",
                rusqlite::params![code, before.parse::<i32>().unwrap()],
            )
            .unwrap();
        assert_eq!(damaged, 1, "{code}: the snapshot at the end of {before} was stored");
        let out = sb.run(&["--json", "report", "--year", year]);
        assert_eq!(out.code, 2, "{code}: {}", out.stderr);
        assert!(
            out.stderr.contains("does not read") && out.stderr.contains("--from-scratch"),
            "{code}: {}",
            out.stderr
        );
        assert_eq!(sb.ok(&["--json", "report", "--year", year, "--from-scratch"]).stdout, first, "{code}");
        let again = sb.ok(&["--json", "report", "--year", year]);
        assert!(again.stderr.contains("computed from the snapshot"), "{code}: {}", again.stderr);
        assert_eq!(again.stdout, first, "{code}");
    }
}

//! No panic from data, end to end: out-of-range years and amounts at the bounds give an error
//! and an exit code, never a panic.

mod common;

use std::path::Path;

use cointally::import::Format;
use cointally_exchanges::rows::read_text;
use common::Sandbox;
use proptest::prelude::*;

/// Cells that have broken readers before or sit at a bound.
const NASTY: &[&str] = &[
    "",
    "-0",
    "99999999999999999999",
    "100000000000000000000",
    "79228162514264337593543950335",
    "1e28",
    "1E-28",
    "0.0000000000000000001",
    "NaN",
    "+262143-12-31 23:59:59",
    "0000-01-01",
    "9999-12-31 23:59:59",
    "trade",
    "deposit",
    "withdrawal",
    "fee",
    "BTC",
    "USD",
    "\"",
];

fn fixture_texts(dir: &str) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(dir);
    let mut paths: Vec<_> = std::fs::read_dir(root).unwrap().map(|e| e.unwrap().path()).collect();
    paths.sort();
    paths.iter().map(|p| String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned()).collect()
}

/// The fixture with cells replaced, rows repeated or dropped, as `edits` say.
fn mutate(text: &str, edits: &[(usize, usize, usize, String)]) -> String {
    let mut rows: Vec<Vec<String>> = text.lines().map(|l| l.split(',').map(str::to_string).collect()).collect();
    for (row, cell, action, random) in edits {
        if rows.is_empty() {
            break;
        }
        let row = row % rows.len();
        match action % 6 {
            0 => {
                let copy = rows[row].clone();
                rows.insert(row, copy);
            }
            1 => {
                rows.remove(row);
            }
            2 => {
                let cells = &mut rows[row];
                let i = cell % cells.len().max(1);
                if i < cells.len() {
                    cells[i] = random.clone();
                }
            }
            _ => {
                let cells = &mut rows[row];
                let i = cell % cells.len().max(1);
                if i < cells.len() {
                    cells[i] = NASTY[action % NASTY.len()].to_string();
                }
            }
        }
    }
    rows.iter().map(|r| r.join(",")).collect::<Vec<_>>().join("\n")
}

fn read(format: Format, text: &str) {
    // A zone with summer time, so times without an offset go through the local reading.
    let zone: cointally::tax::zone::Zone = "America/New_York".parse().expect("a known zone");
    let _ = read_text(format.reader(zone).as_mut(), |h| format.matches(h), text);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn generic_and_koinly_readers_never_panic_on_mutated_fixtures(
        pick in any::<usize>(),
        edits in prop::collection::vec((any::<usize>(), any::<usize>(), any::<usize>(), ".{0,16}"), 1..6),
    ) {
        let texts = [fixture_texts("generic"), fixture_texts("koinly"), fixture_texts("demo")].concat();
        let text = mutate(&texts[pick % texts.len()], &edits);
        read(Format::Generic, &text);
        read(Format::Koinly, &text);
    }

    #[test]
    fn generic_and_koinly_readers_never_panic_on_random_bytes(
        pick in any::<usize>(),
        bytes in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        let texts = [fixture_texts("generic"), fixture_texts("koinly")].concat();
        let header = texts[pick % texts.len()].lines().next().unwrap_or("").to_string();
        let text = format!("{header}\n{}", String::from_utf8_lossy(&bytes));
        read(Format::Generic, &text);
        read(Format::Koinly, &text);
    }
}

#[test]
fn report_year_out_of_range_is_a_usage_error_not_a_panic() {
    let sb = Sandbox::new();
    sb.ok(&["init"]);
    for args in [
        &["report", "--year", "2147483647"][..],
        &["report", "--year=-2147483648"],
        &["report", "--year", "2008"],
        &["export", "form8949", "--year", "2147483647"],
        &["events", "--year", "2147483647"],
    ] {
        let run = sb.run(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("give a calendar year from 2009 to 2100"), "{args:?}: {}", run.stderr);
        assert!(!run.stderr.contains("panicked"), "{args:?}: {}", run.stderr);
    }
    sb.ok(&["report", "--year", "2100"]);
}

#[test]
fn amount_of_ten_to_the_twentieth_is_refused_with_its_row() {
    let sb = Sandbox::new();
    sb.ok(&["init"]);
    sb.ok(&["account", "add", "wallet", "--label", "w"]);
    let file = sb.path("huge.csv");
    std::fs::write(
        &file,
        "time,kind,received_amount,received_asset\n2025-01-01 00:00:00,deposit,100000000000000000000,BTC\n",
    )
    .unwrap();
    let run = sb.run(&["import", file.to_str().unwrap(), "--account", "w"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("100000000000000000000") && run.stderr.contains("10^20"), "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

#[test]
fn report_on_a_ledger_holding_an_amount_past_the_bounds_is_an_error() {
    let sb = Sandbox::new();
    sb.ok(&["init"]);
    sb.ok(&["account", "add", "wallet", "--label", "w"]);
    let file = sb.path("ok.csv");
    std::fs::write(
        &file,
        "time,kind,received_amount,received_asset,fiat_value,fiat_currency\n2025-01-01 00:00:00,deposit,1,BTC,90000,USD\n",
    )
    .unwrap();
    sb.ok(&["import", file.to_str().unwrap(), "--account", "w"]);
    // A ledger written before the bounds (or edited by hand) may hold a figure past them.
    let conn = rusqlite::Connection::open(sb.ledger()).unwrap();
    conn.execute("UPDATE legs SET amount = '50000000000000000000000'", []).unwrap();
    drop(conn);
    let run = sb.run(&["report", "--year", "2025", "--allow-missing-prices"]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("\"50000000000000000000000\" is too large"), "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

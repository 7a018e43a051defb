//! `export` end to end: every format from one fixture ledger against golden files, byte for
//! byte; the same export twice gives the same bytes; Form 8949's totals are the report's; a
//! ledger with a leg unvalued is refused.
//!
//! The fixture (fixtures/export/) is formats.md's example history — buy 0.5 BTC for 45,000
//! (fee 10), swap 0.1 BTC for 3 ETH (fee 0.0002 BTC), 0.01 ETH staking worth 18, sell 0.2 BTC
//! for 21,000 (fee 5) — plus 1.5 ETH bought in 2023 and sold in 2025 (the reference's long-term
//! row), a transfer to a cold wallet, a spend, a gift, an airdrop, a standalone fee and a 2026
//! trade that no 2025 file may show. The golden files were checked by hand against the
//! reference's example rows (the 0.2 BTC and 1.5 ETH rows of §1.4, §3.2 and §4 are
//! reproduced exactly). `UPDATE_GOLDEN=1 cargo test --test export` rewrites them.

mod common;

use std::path::Path;

use cointally::digest::sha256_hex;
use common::{Sandbox, fixture};
use rust_decimal::Decimal;

const FORMATS: [&str; 13] = [
    "form8949",
    "schedule-d",
    "turbotax",
    "taxact",
    "income",
    "holdings",
    "audit",
    "koinly",
    "cointracker",
    "coinledger",
    "cointracking",
    "bittytax",
    "turbotax-universal",
];

fn fixture_ledger() -> Sandbox {
    let sb = Sandbox::new();
    sb.ok(&["init"]);
    sb.ok(&["account", "add", "wallet", "--label", "Kraken"]);
    sb.ok(&["account", "add", "wallet", "--label", "cold-wallet"]);
    sb.ok(&["import", &fixture("export/exchange.csv"), "--account", "Kraken"]);
    sb.ok(&["import", &fixture("export/wallet.csv"), "--account", "cold-wallet"]);
    sb.ok(&["prices", "import", &fixture("export/prices.csv")]);
    sb.ok(&["prices", "--offline"]);
    sb
}

fn golden(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/export/golden").join(name)
}

#[test]
fn every_format_matches_its_golden_file_and_has_a_manifest() {
    let sb = fixture_ledger();
    let list = sb.ok(&["--json", "export", "--list"]).json();
    let listed: Vec<&str> = list.as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    // The US and transaction formats, then the UK's, Canada's, Australia's and Germany's
    // (tests/uk.rs, tests/ca.rs, tests/au.rs and tests/de.rs export those), then the stored
    // 2025 allocation's record (tests/allocation.rs).
    assert_eq!(listed[..FORMATS.len()], FORMATS);
    assert_eq!(
        listed[FORMATS.len()..],
        ["hmrc", "sa108", "schedule3", "acb", "ato", "ato-summary", "anlage-so", "anlage-so-disposals", "allocation"]
    );
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    for format in FORMATS {
        let name = format!("{format}-2025.csv");
        let manifest = sb.ok(&["--json", "export", format, "--year", "2025"]).json();
        let bytes = std::fs::read(sb.path(&name)).unwrap();
        if update {
            std::fs::create_dir_all(golden("")).unwrap();
            std::fs::write(golden(&name), &bytes).unwrap();
        }
        let want = std::fs::read_to_string(golden(&name)).unwrap();
        assert_eq!(String::from_utf8(bytes.clone()).unwrap(), want, "{name} differs from its golden file");
        // The manifest beside it says what made it.
        let beside: serde_json::Value =
            serde_json::from_slice(&std::fs::read(sb.path(&format!("{name}.manifest.json"))).unwrap()).unwrap();
        assert_eq!(beside, manifest);
        assert_eq!(manifest["format"], format);
        assert_eq!(manifest["year"], 2025);
        assert_eq!(manifest["cointally"], env!("CARGO_PKG_VERSION"));
        assert_eq!(manifest["options"]["method"], "fifo");
        assert_eq!(manifest["options"]["lots_in_year"], "per-wallet");
        assert_eq!(manifest["inputs"]["events"], 12, "the 2026 trade is not read");
        assert_eq!(manifest["output"]["file"], name.as_str());
        assert_eq!(manifest["output"]["bytes"], bytes.len());
        let sha = sha256_hex(&bytes);
        assert_eq!(manifest["output"]["sha256"], sha.as_str());
        assert_eq!(manifest["output"]["rows"], want.lines().count() - 1, "{name}");
        assert!(!want.lines().skip(1).any(has_exponent), "{name} has a number in exponent form");
    }
    // Gains formats and transaction formats hash what each read; the same within a kind.
    let hash = |format: &str| -> String {
        let path = sb.path(&format!("{format}-2025.csv.manifest.json"));
        let json: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        json["inputs"]["sha256"].as_str().unwrap().to_owned()
    };
    assert_eq!(hash("form8949"), hash("audit"));
    assert_eq!(hash("koinly"), hash("bittytax"));
    assert_ne!(hash("form8949"), hash("koinly"));
}

/// Whether a cell looks like `1.5E-7`.
fn has_exponent(line: &str) -> bool {
    line.split(',').any(|cell| {
        let cell = cell.trim_matches('"');
        let Some((mantissa, exponent)) = cell.split_once(['e', 'E']) else { return false };
        let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || c == '.');
        digits(mantissa.trim_start_matches('-')) && digits(exponent.trim_start_matches(['-', '+']))
    })
}

#[test]
fn the_same_export_twice_is_byte_identical_and_a_changed_ledger_shows() {
    let sb = fixture_ledger();
    for format in ["form8949", "audit", "koinly"] {
        let file = format!("{format}-2025.csv");
        let manifest = format!("{file}.manifest.json");
        sb.ok(&["export", format, "--year", "2025"]);
        let first = (std::fs::read(sb.path(&file)).unwrap(), std::fs::read(sb.path(&manifest)).unwrap());
        sb.ok(&["export", format, "--year", "2025"]);
        let second = (std::fs::read(sb.path(&file)).unwrap(), std::fs::read(sb.path(&manifest)).unwrap());
        assert_eq!(first, second, "{format}");
    }
    // A new event changes the inputs hash the manifest records.
    let before = sb.ok(&["--json", "export", "form8949", "--year", "2025", "-o", "a.csv"]).json();
    let extra = sb.path("extra.csv");
    std::fs::write(
        &extra,
        "time,kind,sent_amount,sent_asset,received_amount,received_asset,fee_amount,fee_asset,fiat_value,fiat_currency,tx_hash,address,network,id,note\n\
         2025-12-01 12:00:00,trade,1000,USD,0.01,ETH,,,,,,,,,one more buy\n",
    )
    .unwrap();
    sb.ok(&["import", extra.to_str().unwrap(), "--account", "Kraken"]);
    sb.ok(&["prices", "--offline"]);
    let after = sb.ok(&["--json", "export", "form8949", "--year", "2025", "-o", "a.csv"]).json();
    assert_ne!(before["inputs"]["sha256"], after["inputs"]["sha256"]);
    assert_eq!(before["output"]["sha256"], after["output"]["sha256"], "no disposal changed");
}

#[test]
fn form8949_totals_equal_the_report_totals_to_the_cent() {
    let sb = fixture_ledger();
    let report = sb.ok(&["--json", "report", "--year", "2025"]).json();
    sb.ok(&["export", "form8949", "--year", "2025"]);
    let text = std::fs::read_to_string(sb.path("form8949-2025.csv")).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let (mut proceeds, mut basis, mut short, mut long) = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
    let mut rows = 0;
    for record in reader.records() {
        let r = record.unwrap();
        let d = |i: usize| r[i].parse::<Decimal>().unwrap();
        proceeds += d(5);
        basis += d(6);
        assert_eq!(d(5) - d(6), d(9), "gain = proceeds - basis");
        match &r[0] {
            "I" => short += d(9),
            "II" => long += d(9),
            other => panic!("part {other}"),
        }
        rows += 1;
    }
    assert_eq!(rows, report["disposals"].as_array().unwrap().len());
    let total = |k: &str| report["totals"][k].as_str().unwrap().parse::<Decimal>().unwrap();
    assert_eq!(proceeds, total("proceeds"));
    assert_eq!(basis, total("cost_basis"));
    assert_eq!(short, total("short_term_gain"));
    assert_eq!(long, total("long_term_gain"));
    // And Schedule D's line 16 is their sum.
    sb.ok(&["export", "schedule-d", "--year", "2025", "-o", "d.csv"]);
    let d = std::fs::read_to_string(sb.path("d.csv")).unwrap();
    let line16 = d.lines().find(|l| l.starts_with("16,")).unwrap();
    assert!(line16.ends_with(&format!(",{}", short + long)), "{line16}");
}

#[test]
fn exports_refuse_while_prices_are_missing_and_say_why() {
    let sb = Sandbox::new();
    sb.ok(&["init"]);
    sb.ok(&["account", "add", "wallet", "--label", "a"]);
    sb.ok(&["import", &fixture("tax/messy-a.csv"), "--account", "a"]);
    sb.ok(&["prices", "import", &fixture("tax/messy-prices.csv")]);
    assert_eq!(sb.run(&["prices", "--offline"]).code, 1, "ZZZ has no price");
    let refused = sb.run(&["export", "form8949", "--year", "2024"]);
    assert_eq!(refused.code, 2);
    assert!(
        refused.stderr.contains("no value in USD") && refused.stderr.contains("--allow-missing-prices"),
        "{}",
        refused.stderr
    );
    assert!(!sb.path("form8949-2024.csv").exists(), "nothing written");
    // Allowed, the manifest says so.
    let manifest = sb.ok(&["--json", "export", "koinly", "--year", "2024", "--allow-missing-prices"]).json();
    assert_eq!(manifest["options"]["allow_missing_prices"], true);
    assert_eq!(manifest["inputs"]["missing_values"], 1);
    let koinly = std::fs::read_to_string(sb.path("koinly-2024.csv")).unwrap();
    assert!(koinly.contains(",,,100,ZZZ,,,,,airdrop,unpriced,"), "{koinly}");
}

#[test]
fn stdout_output_unknown_formats_and_a_missing_year() {
    let sb = fixture_ledger();
    let run = sb.ok(&["export", "turbotax", "--year", "2025", "-o", "-"]);
    assert_eq!(run.stdout, std::fs::read_to_string(golden("turbotax-2025.csv")).unwrap());
    let manifest: serde_json::Value = serde_json::from_str(&run.stderr).unwrap();
    assert_eq!(manifest["output"]["file"], "-");
    let bad = sb.run(&["export", "hrblock", "--year", "2025"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("form8949"), "{}", bad.stderr);
    assert_eq!(sb.run(&["export", "form8949"]).code, 2);
}

/// A label, notes, hashes and ids that a spreadsheet would run as formulas.
const FORMULA_LABEL: &str = "=cmd|' /C calc'!A0";

#[test]
fn text_a_spreadsheet_would_run_as_a_formula_is_written_inert_in_every_format() {
    let sb = Sandbox::new();
    sb.ok(&["init"]);
    sb.ok(&["account", "add", "wallet", "--label", FORMULA_LABEL]);
    sb.ok(&["import", &fixture("export/formula_cells.csv"), "--account", FORMULA_LABEL]);
    sb.ok(&["prices", "import", &fixture("export/prices.csv")]);
    sb.ok(&["prices", "--offline"]);
    let is_number = |cell: &str| {
        let digits = cell.trim_start_matches(['-', '+']);
        !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit() || c == '.' || c == ',')
    };
    let mut seen = Vec::new();
    for format in FORMATS {
        let run = sb.ok(&["export", format, "--year", "2025", "-o", "-"]);
        let mut rows = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(run.stdout.as_bytes());
        for row in rows.records() {
            for cell in row.unwrap().iter() {
                let formula = cell.starts_with(['=', '+', '-', '@', '\t', '\r', '＝', '＋', '－', '＠']);
                assert!(!formula || is_number(cell), "{format}: a cell a spreadsheet would run: {cell:?}");
                seen.push(cell.to_owned());
            }
        }
    }
    // Each was written, as text.
    for written in [
        "'=cmd|' /C calc'!A0",
        "'=HYPERLINK(\"http://example.invalid\",\"open\")",
        "'@SUM(1)",
        "'+cmd",
        "'-2+3",
        "'＝1+1",
        "'+ reward",
        "''=already quoted",
    ] {
        assert!(seen.iter().any(|cell| cell == written), "{written:?} is in no export");
    }
    // A number keeps its sign: the audit's loss.
    assert!(seen.iter().any(|cell| cell.starts_with('-') && is_number(cell)));
}

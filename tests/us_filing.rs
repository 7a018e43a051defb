//! US filing end to end: an unknown basis is loud in every gains export, Form 8949 boxes G–L
//! per disposal, 1099-DA import and reconciliation. Small ledgers built from CSV text written
//! here, valued from a price file (no network), every figure computed by hand.

mod common;

use common::Sandbox;

const HEADER: &str = "time,kind,sent_amount,sent_asset,received_amount,received_asset,fee_amount,fee_asset,fiat_value,fiat_currency,tx_hash,address,network,id,note\n";

/// A ledger with `accounts` (exchange, label) and, per account, generic-CSV rows; prices from
/// `prices` rows (`date,asset,price` in USD).
fn ledger(accounts: &[(&str, &str, &str)], prices: &str) -> Sandbox {
    let sb = Sandbox::new();
    sb.ok(&["init"]);
    for (exchange, label, rows) in accounts {
        sb.ok(&["account", "add", exchange, "--label", label, "--no-key"]);
        let file = sb.path(&format!("{label}.csv"));
        std::fs::write(&file, format!("{HEADER}{rows}")).unwrap();
        sb.ok(&["import", file.to_str().unwrap(), "--account", label, "--format", "generic"]);
    }
    let file = sb.path("prices.csv");
    let rows: String = prices
        .lines()
        .map(|l| {
            let mut cells = l.split(',');
            let (date, asset, price) = (cells.next().unwrap(), cells.next().unwrap(), cells.next().unwrap());
            format!("{date},{asset},USD,{price}\n")
        })
        .collect();
    std::fs::write(&file, format!("time,asset,currency,price\n{rows}")).unwrap();
    sb.ok(&["prices", "import", file.to_str().unwrap()]);
    sb.ok(&["prices", "--offline"]);
    sb
}

/// 0.5 BTC arrive from outside with no basis given, 1 BTC bought; 1.2 BTC sold: FIFO takes
/// the 0.5 without basis first (one row), then 0.7 of the bought lot.
fn missing_basis_ledger() -> Sandbox {
    ledger(
        &[(
            "wallet",
            "w",
            "2025-01-02 10:00:00,deposit,,,0.5,BTC,,,,,,,,,from outside\n\
             2025-01-03 10:00:00,trade,90000,USD,1,BTC,,,,,,,,,buy\n\
             2025-02-01 10:00:00,trade,1.2,BTC,120000,USD,,,,,,,,,sell\n",
        )],
        "2025-01-02,BTC,90000\n2025-01-03,BTC,90000\n2025-02-01,BTC,100000",
    )
}

#[test]
fn every_gains_export_names_its_rows_without_basis() {
    let sb = missing_basis_ledger();
    for format in ["form8949", "schedule-d", "turbotax", "taxact", "audit"] {
        let run = sb.ok(&["--json", "export", format, "--year", "2025"]);
        let manifest = run.json();
        assert_eq!(manifest["basis_missing"]["rows"], 1, "{format}");
        let events = manifest["basis_missing"]["events"].as_array().unwrap();
        assert_eq!(events.len(), 1, "{format}");
        assert!(run.stderr.contains("warning: 1 rows of") && run.stderr.contains("no known basis"), "{}", run.stderr);
    }
    // A transaction file carries no gains: no such field.
    let koinly = sb.ok(&["--json", "export", "koinly", "--year", "2025"]).json();
    assert!(koinly.get("basis_missing").is_none());
    // Refused on demand, and nothing written.
    let refused = sb.run(&["export", "form8949", "--year", "2025", "-o", "refused.csv", "--refuse-missing-basis"]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("1 rows of form8949 have no known basis"), "{}", refused.stderr);
    assert!(!sb.path("refused.csv").exists());
}

#[test]
fn a_ledger_with_every_basis_known_exports_with_no_warning() {
    let sb = ledger(
        &[(
            "wallet",
            "w",
            "2025-01-03 10:00:00,trade,90000,USD,1,BTC,,,,,,,,,buy\n2025-02-01 10:00:00,trade,1,BTC,100000,USD,,,,,,,,,sell\n",
        )],
        "2025-01-03,BTC,90000\n2025-02-01,BTC,100000",
    );
    let run = sb.ok(&["--json", "export", "form8949", "--year", "2025", "--refuse-missing-basis"]);
    assert_eq!(run.json()["basis_missing"]["rows"], 0);
    assert!(!run.stderr.contains("no known basis"), "{}", run.stderr);
}

/// Boxes with no 1099-DA imported: a Coinbase sale in 2025 is H (proceeds reported, basis
/// not); in 2026 units bought there since 1 January 2026 are G (covered: basis reported),
/// older ones H; a self-custody wallet's sale is I, long-term L; `report --json` gives `box`.
#[test]
fn boxes_follow_the_broker_and_the_dates() {
    let sb = ledger(
        &[
            (
                "coinbase",
                "cb",
                "2024-01-10 10:00:00,trade,40000,USD,1,BTC,,,,,,,,,buy old\n\
                 2025-03-01 10:00:00,trade,0.25,BTC,20000,USD,,,,,,,,,sell 2025\n\
                 2026-01-05 10:00:00,trade,90000,USD,1,BTC,,,,,,,,,buy covered\n\
                 2026-02-01 10:00:00,trade,1.25,BTC,125000,USD,,,,,,,,,sell 2026\n",
            ),
            (
                "wallet",
                "cold",
                "2025-01-05 10:00:00,trade,3000,USD,1,ETH,,,,,,,,,buy\n\
                 2025-04-01 10:00:00,trade,1,ETH,3500,USD,,,,,,,,,sell\n",
            ),
        ],
        "2024-01-10,BTC,40000\n2025-03-01,BTC,80000\n2026-01-05,BTC,90000\n2026-02-01,BTC,100000\n2025-01-05,ETH,3000\n2025-04-01,ETH,3500",
    );
    let boxes = |year: &str| -> Vec<(String, String, String)> {
        let report = sb.ok(&["--json", "report", "--year", year]).json();
        report["disposals"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                let s = |k: &str| d[k].as_str().unwrap().to_owned();
                (s("account"), s("amount"), s("box"))
            })
            .collect()
    };
    let s = |a: &str, b: &str, c: &str| (a.to_owned(), b.to_owned(), c.to_owned());
    // 2025: the Coinbase sale is long-term (bought 2024-01-10): K; the wallet's sale I.
    assert_eq!(boxes("2025"), [s("cb", "0.25", "K"), s("cold", "1", "I")]);
    // 2026: FIFO takes the 0.75 left of 2024 first (noncovered, long: K), then 0.5 of the
    // 2026 lot (covered, short: G).
    assert_eq!(boxes("2026"), [s("cb", "0.75", "K"), s("cb", "0.5", "G")]);
    // Form 8949 and TaxAct carry the same boxes.
    sb.ok(&["export", "form8949", "--year", "2026"]);
    let form = std::fs::read_to_string(sb.path("form8949-2026.csv")).unwrap();
    assert!(form.contains("\nI,G,0.5 BTC,01/05/2026,02/01/2026,50000.00,45000.00,,,5000.00\n"), "{form}");
    assert!(form.contains("\nII,K,0.75 BTC,01/10/2024,02/01/2026,75000.00,30000.00,,,45000.00\n"), "{form}");
    sb.ok(&["export", "taxact", "--year", "2026"]);
    let taxact = std::fs::read_to_string(sb.path("taxact-2026.csv")).unwrap();
    assert!(taxact.contains("0.5 BTC,01/05/2026,02/01/2026,50000.00,45000.00,G,,\n"), "{taxact}");
    sb.ok(&["export", "schedule-d", "--year", "2026"]);
    let schedule = std::fs::read_to_string(sb.path("schedule-d-2026.csv")).unwrap();
    assert!(schedule.contains("1b,Form 8949 Box A or G,50000.00,45000.00,0.00,5000.00\n"), "{schedule}");
    assert!(schedule.contains("9,Form 8949 Box E or K,75000.00,30000.00,0.00,45000.00\n"), "{schedule}");
}

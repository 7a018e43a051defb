//! US filing end to end: an unknown basis is loud in every gains export, Form 8949 boxes G–L
//! per disposal, 1099-DA import and reconciliation. Small ledgers built from CSV text written
//! here, valued from a price file (no network), every figure computed by hand.

mod common;

use common::{Sandbox, generic_ledger as ledger};

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

/// A 1099-DA with one mismatching row gives one adjustment row. Coinbase sold 0.25 BTC for
/// 21,100 less a 100 fee (cointally's proceeds 21,000) and 0.1 BTC for 9,000; the statement
/// shows gross proceeds 21,100 for the first and 9,000 for the second, basis not reported
/// (box H). The Form 8949 instructions, column (d): "enter in column (d) the proceeds shown on
/// the form or statement you received. If there are any selling expenses … that aren't
/// reflected on the form or statement you received …, enter “E” in column (f) and the
/// necessary adjustment in column (g)" (<https://www.irs.gov/instructions/i8949>).
#[test]
fn a_1099da_with_one_mismatching_row_gives_one_adjustment_row() {
    let sb = ledger(
        &[(
            "coinbase",
            "cb",
            "2025-01-10 10:00:00,trade,80000,USD,1,BTC,,,,,,,,,buy\n\
             2025-03-01 10:00:00,trade,0.25,BTC,21100,USD,100,USD,,,,,,,sell one\n\
             2025-05-01 10:00:00,trade,0.1,BTC,9000,USD,,,,,,,,,sell two\n",
        )],
        "2025-01-10,BTC,80000\n2025-03-01,BTC,84400\n2025-05-01,BTC,90000",
    );
    let statement = sb.path("1099da.csv");
    std::fs::write(
        &statement,
        "checkbox,dtif_code,asset,units,date_acquired,date_sold,proceeds,cost_basis,basis_reported,gain_type,noncovered\n\
         H,999999999,BTC,0.25,,2025-03-01,21100.00,,,short-term,X\n\
         H,999999999,BTC,0.1,,05/01/2025,9000.00,,,short-term,X\n",
    )
    .unwrap();
    let imported = sb.ok(&["--json", "import-1099da", statement.to_str().unwrap(), "--account", "cb"]).json();
    assert_eq!((imported["rows"].as_u64(), imported["years"][0].as_i64()), (Some(2), Some(2025)));
    // Again: the same rows, not twice.
    sb.ok(&["import-1099da", statement.to_str().unwrap(), "--account", "cb"]);

    let run = sb.run(&["--json", "reconcile", "--year", "2025"]);
    assert_eq!(run.code, 1, "a difference is a finding: {}", run.stderr);
    let json = run.json();
    assert_eq!(json["clean"], false);
    assert_eq!(json["matched"].as_array().unwrap().len(), 2);
    let differing: Vec<&serde_json::Value> = json["matched"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| !m["differences"].as_array().unwrap().is_empty())
        .collect();
    assert_eq!(differing.len(), 1);
    assert_eq!(differing[0]["statement"]["line"], 2);
    assert_eq!(
        differing[0]["differences"],
        serde_json::json!([{"field": "proceeds", "broker": "21100.00", "cointally": "21000.00"}])
    );
    assert_eq!(json["unmatched_statement_rows"], serde_json::json!([]));
    assert_eq!(json["unmatched_sales"], serde_json::json!([]));

    sb.ok(&["export", "form8949", "--year", "2025"]);
    let form = std::fs::read_to_string(sb.path("form8949-2025.csv")).unwrap();
    let rows: Vec<&str> = form.lines().skip(1).collect();
    assert_eq!(
        rows,
        [
            "I,H,0.25 BTC,01/10/2025,03/01/2025,21100.00,20000.00,E,-100.00,1000.00",
            "I,H,0.1 BTC,01/10/2025,05/01/2025,9000.00,8000.00,,,1000.00",
        ]
    );
    // The gain is still cointally's: the report's totals.
    let report = sb.ok(&["--json", "report", "--year", "2025"]).json();
    assert_eq!(report["totals"]["short_term_gain"], "2000.00");
    let boxes: Vec<&str> = report["disposals"].as_array().unwrap().iter().map(|d| d["box"].as_str().unwrap()).collect();
    assert_eq!(boxes, ["H", "H"]);
}

/// A broker row with no sale, and a sale the broker did not report (box I), are listed.
#[test]
fn reconcile_lists_what_is_unmatched_on_either_side() {
    let sb = ledger(
        &[(
            "kraken",
            "kr",
            "2025-01-10 10:00:00,trade,80000,USD,1,BTC,,,,,,,,,buy\n\
             2025-03-01 10:00:00,trade,0.25,BTC,21000,USD,,,,,,,,,sell\n",
        )],
        "2025-01-10,BTC,80000\n2025-03-01,BTC,84000",
    );
    let statement = sb.path("1099da.csv");
    std::fs::write(&statement, "asset,units,date_sold,proceeds\nETH,2,2025-04-01,7000\n").unwrap();
    sb.ok(&["import-1099da", statement.to_str().unwrap(), "--account", "kr"]);
    let run = sb.run(&["--json", "reconcile", "--year", "2025"]);
    assert_eq!(run.code, 1);
    let json = run.json();
    assert_eq!(json["unmatched_statement_rows"][0]["asset"], "ETH");
    assert_eq!(json["unmatched_sales"][0]["units"], "0.25");
    let report = sb.ok(&["--json", "report", "--year", "2025"]).json();
    assert_eq!(report["disposals"][0]["box"], "I", "the statement does not have it");
    // A bad statement is refused with its line, and nothing changes.
    std::fs::write(&statement, "asset,units,date_sold,proceeds\nETH,two,2025-04-01,7000\n").unwrap();
    let bad = sb.run(&["import-1099da", statement.to_str().unwrap(), "--account", "kr"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("line 2: units:"), "{}", bad.stderr);
    assert_eq!(
        sb.run(&["--json", "reconcile", "--year", "2025"]).json()["unmatched_statement_rows"][0]["asset"],
        "ETH"
    );
}

/// Treas. Reg. §1.1012-1(j) (as amended by T.D. 10000): a standing order identifies units for
/// later sales; it does not reach back. HIFO elected from 2025-01-01 leaves the 2024 result
/// (filed under FIFO) identical and changes only 2025; `--method` is a what-if over all years
/// and the report says so.
#[test]
fn an_election_in_2025_leaves_2024_identical() {
    let sb = ledger(
        &[(
            "wallet",
            "w",
            "2023-01-10 10:00:00,trade,20000,USD,1,BTC,,,,,,,,,lot 1\n\
             2024-03-01 10:00:00,trade,60000,USD,1,BTC,,,,,,,,,lot 2\n\
             2024-08-01 10:00:00,trade,0.5,BTC,25000,USD,,,,,,,,,sell 2024\n\
             2025-03-01 10:00:00,trade,0.5,BTC,40000,USD,,,,,,,,,sell 2025\n",
        )],
        "2023-01-10,BTC,20000\n2024-03-01,BTC,60000\n2024-08-01,BTC,50000\n2025-03-01,BTC,80000",
    );
    let figures = |year: &str, extra: &[&str]| -> serde_json::Value {
        let mut args = vec!["--json", "report", "--year", year];
        args.extend_from_slice(extra);
        let r = sb.ok(&args).json();
        serde_json::json!({"totals": r["totals"], "disposals": r["disposals"]})
    };
    let filed_2024 = figures("2024", &[]);
    assert_eq!(filed_2024["disposals"][0]["cost_basis"], "10000.00", "FIFO: half of lot 1");
    let set = sb.ok(&["--json", "method", "set", "hifo", "--from", "2025-01-01"]).json();
    assert_eq!((set["method"].as_str(), set["from"].as_str()), (Some("hifo"), Some("2025-01-01")));
    assert_eq!(figures("2024", &[]), filed_2024, "the 2024 result does not move");
    // 2025 under HIFO: 0.5 of lot 2 (30,000), not the rest of lot 1 (10,000).
    let y2025 = sb.ok(&["--json", "report", "--year", "2025"]).json();
    assert_eq!(y2025["disposals"][0]["cost_basis"], "30000.00");
    assert_eq!(y2025["elections"][0]["method"], "hifo");
    assert_eq!(y2025["method_what_if"], false);
    // A what-if rewrites every year, and says so.
    let what_if = sb.ok(&["--json", "report", "--year", "2024", "--method", "hifo"]).json();
    assert_eq!(what_if["disposals"][0]["cost_basis"], "30000.00");
    assert_eq!(
        (what_if["method_what_if"].as_bool(), what_if["elections"].as_array().map(Vec::len)),
        (Some(true), Some(0))
    );
    let text = sb.ok(&["report", "--year", "2024", "--method", "hifo"]).stdout;
    assert!(text.contains("what-if: HIFO"), "{text}");
    // The manifest records the elections; list and remove.
    let manifest = sb.ok(&["--json", "export", "form8949", "--year", "2025"]).json();
    assert_eq!(manifest["options"]["elections"][0]["from"], "2025-01-01");
    let list = sb.ok(&["--json", "method", "list"]).json();
    let id = list[0]["id"].as_i64().unwrap().to_string();
    sb.ok(&["method", "remove", &id]);
    assert_eq!(sb.run(&["method", "remove", &id]).code, 2);
    assert_eq!(sb.ok(&["--json", "report", "--year", "2025"]).json()["disposals"][0]["cost_basis"], "10000.00");
}

/// An election for one account applies to that wallet only; a US broker account gets the
/// note about the broker's own standing order.
#[test]
fn an_election_for_one_account_and_the_broker_note() {
    let rows = "2025-01-10 10:00:00,trade,20000,USD,1,BTC,,,,,,,,,lot 1\n\
                2025-02-01 10:00:00,trade,60000,USD,1,BTC,,,,,,,,,lot 2\n\
                2025-03-01 10:00:00,trade,0.5,BTC,40000,USD,,,,,,,,,sell\n";
    let sb = ledger(
        &[("coinbase", "cb", rows), ("wallet", "w", rows)],
        "2025-01-10,BTC,20000\n2025-02-01,BTC,60000\n2025-03-01,BTC,80000",
    );
    let set = sb.ok(&["method", "set", "lifo", "--from", "2025-01-01", "--account", "cb"]);
    assert!(set.stderr.contains("note: cb is at a US broker") && set.stderr.contains("Form 1099-DA"), "{}", set.stderr);
    let report = sb.ok(&["--json", "report", "--year", "2025"]).json();
    let bases: Vec<(&str, &str)> = report["disposals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["account"].as_str().unwrap(), d["cost_basis"].as_str().unwrap()))
        .collect();
    assert_eq!(bases, [("cb", "30000.00"), ("w", "10000.00")]);
}

/// Form 8949 column (c) and the 1099-DA's date sold are the taxpayer's calendar date
/// (<https://www.irs.gov/instructions/i8949>): a Coinbase sale at 20:00 on 31 December 2025 in
/// New York (01:00 UTC on 1 January 2026) matches the broker's row dated 2025-12-31 in the
/// 2025 reconciliation; in UTC it would be a 2026 sale and the row unmatched.
#[test]
fn reconcile_matches_the_local_date_sold() {
    let sb = ledger(
        &[(
            "coinbase",
            "cb",
            "2025-01-10 15:00:00,trade,80000,USD,1,BTC,,,,,,,,,buy\n\
             2026-01-01 01:00:00,trade,0.5,BTC,45000,USD,,,,,,,,,sell at 20:00 on 31 December in New York\n",
        )],
        "2025-01-10,BTC,80000\n2025-12-31,BTC,90000\n2026-01-01,BTC,90000",
    );
    let statement = sb.path("1099da.csv");
    std::fs::write(&statement, "asset,units,date_sold,proceeds\nBTC,0.5,2025-12-31,45000.00\n").unwrap();
    sb.ok(&["import-1099da", statement.to_str().unwrap(), "--account", "cb"]);
    let utc = sb.run(&["--json", "reconcile", "--year", "2025"]);
    assert_eq!(utc.code, 1, "in UTC the sale is in 2026: {}", utc.stderr);
    assert_eq!(utc.json()["unmatched_statement_rows"][0]["date_sold"], "2025-12-31");

    sb.ok(&["settings", "timezone", "America/New_York"]);
    let run = sb.run(&["--json", "reconcile", "--year", "2025"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let json = run.json();
    assert_eq!(json["clean"], true);
    assert_eq!(json["matched"].as_array().unwrap().len(), 1);
    assert_eq!(json["matched"][0]["sale"]["date_sold"], "2025-12-31");
}

//! `cointally demo`: the newcomer's first command.

mod common;

use common::Sandbox;

#[test]
fn demo_prints_balances_and_is_safe_to_run_again() {
    let sb = Sandbox::new();
    let run = sb.ok(&["demo"]);
    assert!(run.stdout.contains("Balances:"), "{}", run.stdout);
    assert!(run.stdout.contains("cold-wallet"), "{}", run.stdout);
    // Bybit's history files, for what its API's two years do not reach, read in their formats.
    let read_as = |file: &str, format: &str| {
        run.stdout.lines().any(|line| line.contains(file) && line.split_whitespace().any(|word| word == format))
    };
    assert!(read_as("bybit-transaction-log.csv", "bybit-log"), "{}", run.stdout);
    assert!(read_as("bybit-funding-wallet.csv", "generic"), "{}", run.stdout);
    // KuCoin's high-frequency trade account is synced from its own ledger.
    let hf_records = run.stdout.lines().find_map(|line| match line.split_whitespace().collect::<Vec<_>>()[..] {
        ["kucoin-api", "hf-ledgers", records, ..] => records.parse::<u64>().ok(),
        _ => None,
    });
    assert!(hf_records.is_some_and(|n| n > 0), "{}", run.stdout);
    let first = sb.ok(&["--json", "demo"]).json();
    let second = sb.ok(&["--json", "demo"]).json();
    assert_eq!(first["events"], second["events"]);
    assert_eq!(first["balances"], second["balances"]);
    assert!(first["events"].as_u64().unwrap() > 10);
    // It ends with a year's report and a clean check, the same each time.
    assert_eq!(first["report"]["year"], 2025);
    assert_eq!(first["report"], second["report"]);
    assert!(first["report"]["disposals"].as_array().unwrap().len() > 10);
    assert_eq!(first["check"]["clean"], true);
    // Bybit is synced too, and a second run on the same ledger still finds its balances equal
    // to the simulator's (it once found 4 differing: the demo account moved with the clock).
    for run in [&first, &second] {
        let synced = run["synced"].as_array().unwrap();
        let bybit = synced.iter().find(|s| s["account"] == "bybit-api").expect("the demo syncs Bybit");
        assert_eq!(bybit["balance_differences"], serde_json::json!([]), "{bybit}");
        assert!(synced.iter().all(|s| s["balance_differences"] == serde_json::json!([])), "{synced:?}");
        // Gemini, Bitstamp and Binance.US are synced too (issue #19).
        for label in ["gemini-api", "bitstamp-api", "binanceus-api"] {
            assert!(synced.iter().any(|s| s["account"] == label), "the demo syncs {label}: {synced:?}");
        }
    }
    let bybit_assets = |run: &serde_json::Value| {
        run["balances"].as_array().unwrap().iter().filter(|b| b["account"] == "bybit-api").count()
    };
    assert!(bybit_assets(&first) >= 3, "{}", first["balances"]);
    assert_eq!(second["check"]["clean"], true);
    // Every export format, written beside the ledger, each with its manifest, the same each time.
    let dir = std::path::PathBuf::from(first["exports"]["dir"].as_str().unwrap());
    assert_eq!(dir, sb.ledger().parent().unwrap().join("exports"));
    let files: Vec<&str> = first["exports"]["files"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
    assert_eq!(files.len(), 13);
    assert!(files.contains(&"form8949-2025.csv") && files.contains(&"koinly-2025.csv"), "{files:?}");
    for file in &files {
        assert!(dir.join(file).exists() && dir.join(format!("{file}.manifest.json")).exists(), "{file}");
    }
    assert!(run.stdout.contains("Exports for 2025 (13 files"), "{}", run.stdout);
    assert!(run.stdout.contains("cointally check: clean"), "{}", run.stdout);
    let check = sb.run(&["--json", "check"]);
    assert_eq!(check.code, 0, "{}", check.stdout);
}

#[test]
fn demo_without_ledger_uses_a_fresh_temporary_one() {
    let sb = Sandbox::new();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_cointally"))
        .args(["--json", "demo"])
        .env_remove("COINTALLY_LEDGER")
        .current_dir(sb.dir.path())
        .output()
        .unwrap();
    assert!(output.status.success());
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let ledger = std::path::PathBuf::from(json["ledger"].as_str().unwrap());
    assert!(ledger.exists() && !ledger.starts_with(sb.dir.path()));
    assert!(!sb.ledger().exists());
    let _ = std::fs::remove_dir_all(ledger.parent().unwrap());
}

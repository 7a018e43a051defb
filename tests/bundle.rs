//! `bundle` and `import-bundle`: no secret, no label, no address in the zip; the same report
//! from the rebuilt ledger.

mod common;

use std::io::Read;

use cointally_exchanges::binance::sim::SimKey;
use common::Sandbox;

/// Every entry of the zip, decompressed.
fn entries(path: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut out = Vec::new();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).unwrap();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        out.push((entry.name().to_string(), bytes));
    }
    out
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn a_bundle_holds_no_secret_label_or_address_and_rebuilds_the_same_report() {
    let key = SimKey::demo();
    let sb = Sandbox::new();
    let (_binance, _coinbase, _kraken) = sb.price_simulators(1, &key.api_key, &key.secret);
    sb.set_env("ALICE_BINANCE_KEY", &key.api_key);
    sb.set_env("ALICE_BINANCE_SECRET", &key.secret);
    sb.ok(&["init"]);
    let label = "alice-binance-main";
    sb.ok(&[
        "account",
        "add",
        "binance",
        "--label",
        label,
        "--key-env",
        "ALICE_BINANCE_KEY",
        "--secret-env",
        "ALICE_BINANCE_SECRET",
    ]);
    sb.ok(&["sync"]);
    // A history file too, named after its owner: the ledger keeps it whole (its bytes hold an
    // address and a tx hash).
    sb.ok(&["account", "add", "wallet", "--label", "alice-cold"]);
    let file = sb.path("alice-smith-2025.csv");
    std::fs::copy(common::fixture("generic/history.csv"), &file).unwrap();
    sb.ok(&["import", file.to_str().unwrap(), "--account", "alice-cold"]);
    sb.ok(&["prices"]);
    let report = sb.ok(&["--json", "report", "--year", "2025"]).json();

    // What identifies the person in the original: addresses and tx hashes of its events.
    let events = sb.ok(&["--json", "events"]).json();
    let mut identifiers: Vec<String> = Vec::new();
    for event in events.as_array().unwrap() {
        for field in ["address", "tx_hash"] {
            if let Some(text) = event[field].as_str().filter(|t| !t.is_empty()) {
                identifiers.push(text.to_string());
            }
        }
    }
    identifiers.sort();
    identifiers.dedup();
    assert!(identifiers.len() > 5, "the history has addresses and tx hashes to hide: {identifiers:?}");

    let zip_path = sb.path("problem.zip");
    sb.ok(&["bundle", "-o", zip_path.to_str().unwrap()]);
    let bundled = entries(&zip_path);
    let names: Vec<&str> = bundled.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["bundle.json", "ledger.sqlite"]);
    let credentials = std::fs::read_to_string(sb.credentials()).unwrap_or_default();
    for (name, bytes) in &bundled {
        for secret in [&key.secret, &key.api_key] {
            assert!(!contains(bytes, secret), "{name} holds a key");
        }
        for key_name in ["ALICE_BINANCE_KEY", "ALICE_BINANCE_SECRET"] {
            assert!(!contains(bytes, key_name), "{name} names the key variable {key_name}");
        }
        assert!(!contains(bytes, label), "{name} holds the label");
        assert!(!contains(bytes, "alice-smith"), "{name} holds the imported file's name");
        for id in &identifiers {
            assert!(!contains(bytes, id), "{name} holds {id}");
        }
        for line in credentials.lines().filter(|l| l.len() > 20) {
            assert!(!contains(bytes, line), "{name} holds a line of the credentials file");
        }
    }
    let manifest: serde_json::Value = serde_json::from_slice(&bundled[0].1).unwrap();
    assert_eq!(manifest["format"], 1);
    assert_eq!(manifest["ids_kept"], false);
    assert!(manifest["rows"]["raw_records"].as_i64().unwrap() > 0);
    assert_eq!((&manifest["rows"]["import_files"], &manifest["rows"]["import_file_chunks"]), (&1.into(), &1.into()));
    assert!(manifest["accounts"][0]["label"].as_str().unwrap().starts_with("account-"));
    // The last sync's summary and its warnings, pseudonymous like the rest (scanned above).
    assert_eq!(manifest["rows"]["sync_summaries"], 1);
    let syncs = manifest["last_syncs"].as_array().unwrap();
    assert_eq!(syncs.len(), 1, "{manifest}");
    assert_eq!(syncs[0]["account"], manifest["accounts"][0]["label"]);
    assert_eq!(syncs[0]["exchange"], "binance");
    let endpoints = syncs[0]["endpoints"].as_array().unwrap();
    assert!(endpoints.iter().any(|e| e["records"].as_u64().unwrap() > 0), "{manifest}");
    assert!(endpoints.iter().all(|e| e["warnings"].is_array()), "{manifest}");

    // The rebuilt ledger gives the same figures.
    let rebuilt = sb.path("rebuilt.sqlite");
    let rebuilt = rebuilt.to_str().unwrap();
    let run = sb.command(&[]).args(["import-bundle", zip_path.to_str().unwrap()]).output().unwrap();
    assert!(!run.status.success(), "the sandbox ledger exists: import must refuse it");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_cointally"))
        .args(["--ledger", rebuilt, "import-bundle", zip_path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_cointally"))
        .args(["--ledger", rebuilt, "--json", "report", "--year", "2025"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let again: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(again["totals"], report["totals"]);
    assert_eq!(again["assets"], report["assets"]);
    assert!(!report["assets"].as_array().unwrap().is_empty(), "{report}");
    // The rewritten file is kept under the hash and length of its new bytes: saving it checks
    // both, and what it saves holds none of the identifiers.
    let cointally = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_cointally"))
            .args(["--ledger", rebuilt])
            .args(args)
            .output()
            .unwrap()
    };
    let mut saved = 0;
    for account in manifest["accounts"].as_array().unwrap() {
        let label = account["label"].as_str().unwrap();
        let listed = cointally(&["--json", "account", "files", label]);
        assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));
        let files: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
        for kept in files.as_array().unwrap() {
            let id = kept["id"].to_string();
            assert_eq!(kept["name"], format!("file-{id}.csv"));
            let path = sb.path(&format!("saved-{id}.csv"));
            let run = cointally(&["account", "files", label, "--save", &id, "-o", path.to_str().unwrap()]);
            assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
            let bytes = std::fs::read(&path).unwrap();
            assert_eq!(Some(bytes.len() as u64), kept["bytes"].as_u64());
            assert!(bytes.len() > 100, "the file's rows are there");
            for id in &identifiers {
                assert!(!contains(&bytes, id), "the saved file holds {id}");
            }
            saved += 1;
        }
    }
    assert_eq!(saved, 1, "the one imported file");

    // --keep-ids keeps them.
    let kept = sb.path("kept.zip");
    sb.ok(&["bundle", "-o", kept.to_str().unwrap(), "--keep-ids"]);
    let ledger = &entries(&kept)[1].1;
    assert!(contains(ledger, label));
    assert!(contains(ledger, "bc1qexample"), "the kept file as it was");
}

/// The demo's nine accounts, own transfers between them, hashes written with and without
/// `0x`: the rebuilt ledger's report is the original's, row for row.
#[test]
fn a_bundle_of_the_demo_ledger_reproduces_every_disposal() {
    let sb = Sandbox::new();
    sb.ok(&["demo"]);
    let report = sb.ok(&["--json", "report", "--year", "2025"]).json();
    let zip_path = sb.path("demo.zip");
    sb.ok(&["bundle", "-o", zip_path.to_str().unwrap()]);
    let rebuilt = sb.path("rebuilt.sqlite");
    let run = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_cointally"))
            .arg("--ledger")
            .arg(&rebuilt)
            .args(args)
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        output.stdout
    };
    run(&["import-bundle", zip_path.to_str().unwrap()]);
    let again: serde_json::Value = serde_json::from_slice(&run(&["--json", "report", "--year", "2025"])).unwrap();
    assert_eq!(again["totals"], report["totals"]);
    assert_eq!(again["assets"], report["assets"]);
    assert_eq!(again["disposals"].as_array().unwrap().len(), report["disposals"].as_array().unwrap().len());
}

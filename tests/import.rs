//! `import`, `balances` and `events` through the binary: JSON shapes, errors, idempotence.

mod common;

use common::{Sandbox, fixture};

fn with_wallet() -> Sandbox {
    let sb = Sandbox::new();
    sb.ok(&["init"]);
    sb.ok(&["account", "add", "wallet", "--label", "cold"]);
    sb
}

#[test]
fn balances_and_events_json_have_the_documented_shape() {
    let sb = with_wallet();
    sb.ok(&["import", &fixture("generic/history.csv"), "--account", "cold"]);
    let balances = sb.ok(&["--json", "balances"]).json();
    assert_eq!(
        balances,
        serde_json::json!([
            {"account": "cold", "exchange": "wallet", "asset": "BTC", "amount": "0.0997"},
            {"account": "cold", "exchange": "wallet", "asset": "ETH", "amount": "3.02"},
            {"account": "cold", "exchange": "wallet", "asset": "USD", "amount": "25985"},
        ])
    );
    let at = sb.ok(&["--json", "balances", "--at", "2025-01-15"]).json();
    assert_eq!(at.as_array().unwrap().len(), 2, "{at}");
    assert_eq!(at[1]["amount"], "4990");

    let events = sb.ok(&["--json", "events", "--kind", "trade", "--limit", "1"]).json();
    assert_eq!(
        events,
        serde_json::json!([{
            "id": 2,
            "account": "cold",
            "time": "2025-01-15T10:30:00Z",
            "local_time": "2025-01-15T10:30:00Z",
            "kind": "trade",
            "legs": [
                {"asset": "USD", "amount": "-45000", "role": "sent"},
                {"asset": "BTC", "amount": "0.5", "role": "received"},
                {"asset": "USD", "amount": "-10", "role": "fee"},
            ],
            "tx_hash": null,
            "external_id": "t-1",
        }])
    );
    let eth = sb.ok(&["--json", "events", "--asset", "eth", "--year", "2025"]).json();
    assert_eq!(eth.as_array().unwrap().len(), 3);
    assert_eq!(sb.ok(&["--json", "events", "--year", "2024"]).json(), serde_json::json!([]));
    let table = sb.ok(&["events", "--kind", "withdrawal"]).stdout;
    assert!(table.starts_with("Time (UTC)"), "{table}");
    assert!(table.contains("-0.1 BTC, -0.0001 BTC (fee)"), "{table}");
}

#[test]
fn a_bad_file_exits_2_with_file_and_line_and_writes_nothing() {
    let sb = with_wallet();
    let file = fixture("generic/bad_number.csv");
    let run = sb.run(&["import", &fixture("generic/history.csv"), &file, "--account", "cold"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("error: 1 bad row; nothing was imported"), "{}", run.stderr);
    assert!(run.stderr.contains(&format!("{file}:3: column \"received_amount\"")), "{}", run.stderr);
    assert!(run.stderr.contains("hint: fix the rows"), "{}", run.stderr);
    assert_eq!(sb.ok(&["--json", "events"]).json(), serde_json::json!([]));
    assert_eq!(sb.ok(&["--json", "balances"]).json(), serde_json::json!([]));
}

#[test]
fn re_importing_reports_everything_as_already_there() {
    let sb = with_wallet();
    let first = sb.ok(&["--json", "import", &fixture("generic/history.csv"), "--account", "cold"]).json();
    assert_eq!(first[0]["new_events"], 7);
    let second = sb.ok(&["--json", "import", &fixture("generic/history.csv"), "--account", "cold"]).json();
    assert_eq!((second[0]["new_events"].as_u64(), second[0]["existing_events"].as_u64()), (Some(0), Some(7)));
}

#[test]
fn an_unknown_account_or_format_is_a_usage_error() {
    let sb = with_wallet();
    let run = sb.run(&["import", &fixture("generic/history.csv"), "--account", "nope"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no account labelled \"nope\""), "{}", run.stderr);
    assert!(run.stderr.contains("cointally account list"), "{}", run.stderr);
    let run = sb.run(&["import", &fixture("generic/history.csv"), "--account", "cold", "--format", "quicken"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("unknown format \"quicken\""), "{}", run.stderr);
}

#[test]
fn a_utf16_file_is_refused_with_how_to_convert_it() {
    let sb = with_wallet();
    let run = sb.run(&["import", &fixture("generic/utf16.csv"), "--account", "cold"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("is UTF-16 text, not UTF-8"), "{}", run.stderr);
    assert!(
        run.stderr.contains("hint: save it as \"CSV UTF-8\"") && run.stderr.contains("iconv -f UTF-16"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let sb = with_wallet();
    sb.ok(&["import", &fixture("generic/history.csv"), "--account", "cold"]);
    // Enough rows that an export's CSV writer meets the closed pipe itself, past its buffers.
    let deposits = sb.path("deposits.csv");
    let rows: String = (0..2_000).map(|i| format!("2025-06-01 00:00:00,fiat_deposit,,,1,USD,,,d-{i}\n")).collect();
    std::fs::write(
        &deposits,
        format!("time,kind,sent_amount,sent_asset,received_amount,received_asset,fee_amount,fee_asset,id\n{rows}"),
    )
    .unwrap();
    sb.ok(&["import", deposits.to_str().unwrap(), "--account", "cold"]);
    // The table and the JSON document (`report --json | head`) end the same way, and so do
    // the CSV exports written to standard output (`export koinly --output - | head`).
    let export = |format| ["export", format, "--year", "2025", "--allow-missing-prices", "--output", "-"];
    for args in [&["events"][..], &["events", "--json"][..], &export("form8949")[..], &export("koinly")[..]] {
        let mut child =
            sb.command(args).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("Broken pipe"), "{args:?}: {stderr}");
    }
}

#[test]
fn control_characters_from_a_file_reach_the_terminal_escaped() {
    let sb = with_wallet();
    // A kind that is an escape sequence: the error quotes it, escaped.
    let bad = sb.run(&["import", &fixture("generic/terminal_escapes_bad_kind.csv"), "--account", "cold"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("\\u{1b}[8mhidden"), "{}", bad.stderr);
    assert!(!bad.stderr.contains('\u{1b}'), "{:?}", bad.stderr);

    // A transaction hash that would write the clipboard and clear the screen: the table shows
    // it escaped, the JSON keeps it exactly (JSON escapes it itself).
    sb.ok(&["import", &fixture("generic/terminal_escapes.csv"), "--account", "cold"]);
    let table = sb.ok(&["events"]).stdout;
    assert!(table.contains("\\u{1b}]52;c;aGk=\\u{7}tx \\u{1b}[2Jcleared"), "{table}");
    assert!(!table.chars().any(|c| c.is_control() && c != '\n'), "{table:?}");
    let json = sb.ok(&["--json", "events"]).json();
    assert_eq!(json[0]["tx_hash"], "\u{1b}]52;c;aGk=\u{7}tx \u{1b}[2Jcleared");
}

#[test]
fn account_files_lists_the_kept_files_and_saves_one_back_byte_for_byte() {
    use sha2::{Digest, Sha256};
    let sb = with_wallet();
    let original = std::fs::read(fixture("generic/history.csv")).unwrap();
    // A copy under a name of its own; then the same rows again, which keeps nothing more.
    let copy = sb.path("cold-2025.csv");
    std::fs::write(&copy, &original).unwrap();
    let first = sb.ok(&["--json", "import", copy.to_str().unwrap(), "--account", "cold"]).json();
    let again = sb.ok(&["import", &fixture("generic/history.csv"), "--account", "cold"]).stdout;
    assert!(again.contains("Kept as") && !again.contains("file #"), "nothing new, nothing kept: {again}");
    let files = sb.ok(&["--json", "account", "files", "cold"]).json();
    assert_eq!(first[0]["kept_as"], files[0]["id"]);
    let sha256: String = Sha256::digest(&original).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(files.as_array().unwrap().len(), 1, "{files}");
    assert_eq!(files[0]["name"], "cold-2025.csv");
    assert_eq!(files[0]["format"], "generic");
    assert_eq!(files[0]["bytes"], original.len());
    assert_eq!(files[0]["sha256"], sha256.as_str());
    let table = sb.ok(&["account", "files", "cold"]).stdout;
    assert!(table.contains("cold-2025.csv") && table.contains(&sha256), "{table}");

    let id = files[0]["id"].as_i64().unwrap().to_string();
    let saved = sb.path("saved.csv");
    sb.ok(&["account", "files", "cold", "--save", &id, "-o", saved.to_str().unwrap()]);
    assert_eq!(std::fs::read(&saved).unwrap(), original);

    let wrong = sb.run(&["account", "files", "cold", "--save", "99", "-o", saved.to_str().unwrap()]);
    assert_eq!(wrong.code, 2, "{}", wrong.stderr);
    assert!(
        wrong.stderr.contains("no imported file #99") && wrong.stderr.contains("account files cold"),
        "{}",
        wrong.stderr
    );
    let none = sb.run(&["account", "files", "nope"]);
    assert_ne!(none.code, 0);
    assert!(none.stderr.contains("nope"), "{}", none.stderr);
}

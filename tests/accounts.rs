//! `init` and `account add|list|remove` through the binary.

mod common;

use common::Sandbox;

#[test]
fn init_creates_once_and_other_commands_need_a_ledger() {
    let sb = Sandbox::new();
    let run = sb.run(&["balances"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("error: no ledger at"), "{}", run.stderr);
    assert!(run.stderr.contains("hint: create it with `cointally --ledger"), "{}", run.stderr);
    assert!(!sb.ledger().exists());

    let run = sb.ok(&["init", "--json", "--currency", "EUR"]);
    assert_eq!(run.json()["currency"], "EUR");
    let again = sb.run(&["init"]);
    assert_eq!(again.code, 2);
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);
}

#[test]
fn a_ledger_path_that_is_a_folder_or_in_no_folder_says_so() {
    let sb = Sandbox::new();
    let folder = sb.path("clients");
    std::fs::create_dir(&folder).unwrap();
    let nowhere = sb.path("no-such-folder");
    for (ledger, says, hint) in [
        (
            folder.clone(),
            "is a folder, not a ledger file",
            format!("--ledger {}", folder.join("cointally.sqlite").display()),
        ),
        (nowhere.join("client.sqlite"), "does not exist", format!("mkdir -p {}", nowhere.display())),
    ] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_cointally"))
            .arg("--ledger")
            .arg(&ledger)
            .arg("init")
            .env_remove("COINTALLY_LEDGER")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(says) && stderr.contains(&hint), "{stderr}");
    }
    assert!(!nowhere.exists());
}

#[test]
fn a_file_that_is_not_a_ledger_is_refused_and_left_alone() {
    let sb = Sandbox::new();
    std::fs::write(sb.ledger(), "this is my tax spreadsheet\n").unwrap();
    let run = sb.run(&["account", "list"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("not a cointally ledger"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(sb.ledger()).unwrap(), "this is my tax spreadsheet\n");
}

#[test]
fn accounts_are_added_listed_as_json_and_removed() {
    let sb = Sandbox::new();
    sb.ok(&["init"]);
    sb.ok(&["account", "add", "wallet", "--label", "cold"]);
    sb.ok(&["account", "add", "kraken", "--label", "kraken-files", "--no-key"]);
    sb.ok(&["account", "add", "binance", "--label", "bn", "--key-env", "BN_KEY", "--secret-env", "BN_SECRET"]);
    let dup = sb.run(&["account", "add", "wallet", "--label", "cold"]);
    assert_eq!(dup.code, 2);
    assert!(dup.stderr.contains("already exists"));
    let bad = sb.run(&["account", "add", "mtgox", "--label", "x", "--no-key"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("unknown exchange \"mtgox\""), "{}", bad.stderr);

    let list = sb.ok(&["--json", "account", "list"]).json();
    let labels: Vec<&str> = list.as_array().unwrap().iter().map(|a| a["label"].as_str().unwrap()).collect();
    assert_eq!(labels, ["bn", "cold", "kraken-files"]);
    assert_eq!(list[0]["credentials"], "env");
    assert_eq!(list[0]["key_env"], "BN_KEY");
    assert_eq!(list[1]["exchange"], "wallet");
    assert_eq!(list[1]["credentials"], "none");

    sb.ok(&["import", &common::fixture("generic/history.csv"), "--account", "cold"]);
    let refused = sb.run(&["account", "remove", "cold"]);
    assert_eq!(refused.code, 2);
    assert!(refused.stderr.contains("pass --yes"), "{}", refused.stderr);
    let removed = sb.ok(&["account", "remove", "cold", "--yes"]);
    assert!(removed.stdout.contains("removed account cold and its 7 events"), "{}", removed.stdout);
    let counts = sb.ok(&["--json", "events"]).json();
    assert_eq!(counts.as_array().unwrap().len(), 0);
}

#[test]
fn a_prompted_key_goes_to_the_owner_only_file_and_is_deleted_with_the_account() {
    let sb = Sandbox::new();
    let _sim = sb.binance_simulator("AK-123", "SK-456");
    sb.ok(&["init"]);
    let run = sb.run_with_input(&["account", "add", "binance", "--label", "main"], "AK-123\nSK-456\n");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = std::fs::read_to_string(sb.credentials()).unwrap();
    assert!(text.contains("AK-123") && text.contains("SK-456"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(sb.credentials()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        std::fs::set_permissions(sb.credentials(), std::fs::Permissions::from_mode(0o640)).unwrap();
        let refused = sb.run_with_input(&["account", "add", "binance", "--label", "k"], "AK-123\nSK-456\n");
        assert_eq!(refused.code, 2);
        assert!(refused.stderr.contains("can be read by other users (mode 640)"), "{}", refused.stderr);
        assert!(refused.stderr.contains("chmod 600"), "{}", refused.stderr);
        std::fs::set_permissions(sb.credentials(), std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let removed = sb.ok(&["account", "remove", "main", "--yes"]);
    assert!(removed.stderr.contains("revoke the API key on binance"), "{}", removed.stderr);
    let text = std::fs::read_to_string(sb.credentials()).unwrap();
    assert!(!text.contains("AK-123") && !text.contains("SK-456"), "{text}");
}

#[test]
fn an_empty_key_is_refused_and_nothing_is_added() {
    let sb = Sandbox::new();
    sb.ok(&["init"]);
    let run = sb.run_with_input(&["account", "add", "binance", "--label", "main"], "\n\n");
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no API key or secret was given"), "{}", run.stderr);
    assert_eq!(sb.ok(&["--json", "account", "list"]).json(), serde_json::json!([]));
}

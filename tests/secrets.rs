//! A secret given to `account add` appears in no output, no log line, no error and no byte
//! of the ledger.

mod common;

use common::{Sandbox, ledger_bytes};

const KEY: &str = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
const SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

fn assert_clean(what: &str, text: &str) {
    for (name, value) in [("key", KEY), ("secret", SECRET)] {
        assert!(!text.contains(value), "the API {name} leaked into {what}:\n{text}");
        assert!(!text.contains(&value[..16]), "part of the API {name} leaked into {what}:\n{text}");
    }
}

#[test]
fn a_secret_appears_in_no_output_log_error_or_ledger_byte() {
    let sb = Sandbox::new();
    let _sim = sb.binance_simulator(KEY, SECRET);
    sb.ok(&["init"]);
    let input = format!("{KEY}\n{SECRET}\n");
    let mut outputs = vec![
        // Added with logs at debug level, in both output modes.
        sb.run_with_input(&["-vv", "account", "add", "binance", "--label", "main"], &input),
        sb.run_with_input(&["-vv", "--json", "account", "add", "coinbase", "--label", "second"], &input),
        // Errors that involve the account and the stored key.
        sb.run_with_input(&["-vv", "account", "add", "binance", "--label", "main"], &input),
        // A sync through the signed API, and the key check.
        sb.run(&["-vv", "sync"]),
        sb.run(&["-vv", "account", "check", "main"]),
        sb.run(&["-vv", "import", &common::fixture("koinly/universal.csv"), "--account", "main"]),
        sb.run(&["-vv", "import", &common::fixture("generic/bad_date.csv"), "--account", "main"]),
        sb.run(&["-vv", "account", "list"]),
        sb.run(&["-vv", "--json", "account", "list"]),
        sb.run(&["-vv", "events"]),
        sb.run(&["-vv", "balances", "--account", "main"]),
    ];
    // A malformed credentials file is reported without quoting it.
    let credentials = std::fs::read_to_string(sb.credentials()).unwrap();
    assert!(credentials.contains(SECRET), "the secret should be in the credentials file");
    std::fs::write(sb.credentials(), credentials.replacen("secret = \"", "secret = ", 1)).unwrap();
    outputs.push(sb.run_with_input(&["-vv", "account", "add", "binance", "--label", "third"], &input));
    assert_ne!(outputs.last().unwrap().code, 0);
    assert!(outputs.last().unwrap().stderr.contains("not valid TOML near line"), "{}", outputs.last().unwrap().stderr);
    outputs.push(sb.run(&["-vv", "account", "remove", "main", "--yes"]));

    for (i, run) in outputs.iter().enumerate() {
        assert_clean(&format!("stdout of run {i}"), &run.stdout);
        assert_clean(&format!("stderr of run {i}"), &run.stderr);
    }
    let bytes = ledger_bytes(&sb.ledger());
    assert!(!bytes.is_empty());
    let text = String::from_utf8_lossy(&bytes);
    assert_clean("the ledger file", &text);
    // No other file but the credentials file holds it.
    for entry in walk(sb.dir.path()) {
        if entry != sb.credentials() {
            let text = String::from_utf8_lossy(&std::fs::read(&entry).unwrap()).into_owned();
            assert_clean(&entry.display().to_string(), &text);
        }
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() { files.extend(walk(&path)) } else { files.push(path) }
    }
    files
}

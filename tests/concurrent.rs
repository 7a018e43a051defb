//! Two processes on one ledger: a command that opens a second connection (as `report` does for
//! its read-ahead) keeps the locks that tell other processes the ledger is still in use.
//!
//! SQLite's locks are POSIX advisory locks, which Linux drops for the whole process when any
//! descriptor of the file is closed. A ledger opened by reading its header through a
//! descriptor of its own dropped them for the connections already open; another command
//! ending then thought itself the last user, checkpointed and deleted the write-ahead log
//! and its index under them, and what they wrote next was lost.

use std::path::Path;
use std::process::Command;

use cointally::ledger::{Ledger, NewAccount, OpenMode};

fn cointally(ledger: &Path, args: &[&str]) -> std::process::Output {
    let output = Command::new(env!("CARGO_BIN_EXE_cointally"))
        .arg("--ledger")
        .arg(ledger)
        .arg("--quiet")
        .args(args)
        .output()
        .expect("cointally runs");
    assert!(output.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    output
}

#[test]
fn a_command_ending_beside_an_open_ledger_leaves_its_log_and_what_it_writes_after() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.sqlite");
    cointally(&path, &["init"]);
    let wal = dir.path().join("ledger.sqlite-wal");
    let shm = dir.path().join("ledger.sqlite-shm");

    let mut ledger = Ledger::open(&path, OpenMode::Existing).unwrap();
    let reader = ledger.reader().unwrap();
    assert!(wal.exists() && shm.exists(), "the open ledger has its log and its index");

    // Another command on the same ledger starts and ends meanwhile.
    cointally(&path, &["account", "list"]);
    assert!(wal.exists(), "a command that ended deleted the log of a ledger still open here");
    assert!(shm.exists(), "a command that ended deleted the log's index of a ledger still open here");

    // Another command writes, then this process: each sees the other's write.
    cointally(&path, &["account", "add", "wallet", "--label", "written-by-a-command"]);
    ledger.add_account(&NewAccount::files_only("written-here", "wallet")).unwrap();
    let here: Vec<String> = reader.accounts().unwrap().into_iter().map(|a| a.label).collect();
    assert_eq!(here, ["written-by-a-command", "written-here"]);
    let again = Ledger::open(&path, OpenMode::Existing).unwrap();
    let again_reader = again.reader().unwrap();
    let there: Vec<String> = again_reader.accounts().unwrap().into_iter().map(|a| a.label).collect();
    assert_eq!(there, here, "a connection opened now reads what the first wrote");
    drop((again_reader, again, reader, ledger));
    let listed = String::from_utf8(cointally(&path, &["account", "list", "--json"]).stdout).unwrap();
    for label in ["written-by-a-command", "written-here"] {
        assert!(listed.contains(label), "{label} is lost: {listed}");
    }
}

//! A kill at any moment of an import leaves the ledger as it was; the next run imports all.

mod common;

use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::Sandbox;

fn count_events(sb: &Sandbox) -> usize {
    sb.ok(&["--json", "events"]).json().as_array().map(Vec::len).unwrap_or(0)
}

#[test]
fn a_killed_import_writes_nothing_and_the_next_run_imports_everything() {
    let sb = Sandbox::new();
    sb.ok(&["init"]);
    sb.ok(&["account", "add", "wallet", "--label", "cold"]);
    let rows = 40_000;
    let file = sb.path("big.csv");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
    writeln!(out, "time,kind,received_amount,received_asset,id").unwrap();
    for i in 0..rows {
        writeln!(out, "2024-01-01 00:00:00,staking,0.{:08},ETH,r{i}", i + 1).unwrap();
    }
    out.flush().unwrap();
    drop(out);
    let file = file.display().to_string();

    // Kill at several moments inside the import's one transaction (the write lock held): each
    // time the ledger holds nothing of it.
    let mut struck = 0;
    for after_ms in [0u64, 20, 60, 150] {
        let inside = kill_inside_the_write(&sb, &["--quiet", "import", &file, "--account", "cold"], after_ms);
        let n = count_events(&sb);
        if inside {
            struck += 1;
            assert_eq!(n, 0, "a kill inside the import's transaction left {n} of {rows} events");
        } else {
            assert!(n == 0 || n == rows, "a kill after {after_ms} ms left {n} of {rows} events");
        }
    }
    assert!(struck > 0, "no kill struck while the import held the write lock");
    let run = sb.ok(&["--json", "import", &file, "--account", "cold"]).json();
    assert_eq!(run[0]["new_events"].as_u64().unwrap() + run[0]["existing_events"].as_u64().unwrap(), rows as u64);
    assert_eq!(count_events(&sb), rows);
}

/// Starts `args` and SIGKILLs it `after_ms` after it was first seen holding the ledger's write
/// lock (its transaction open: another connection's `BEGIN IMMEDIATE` is refused as busy).
/// Whether the lock was still held just before the kill, that is, whether the kill struck inside
/// the transaction.
fn kill_inside_the_write(sb: &Sandbox, args: &[&str], after_ms: u64) -> bool {
    let probe = rusqlite::Connection::open(sb.ledger()).unwrap();
    probe.busy_timeout(Duration::ZERO).unwrap();
    let write_locked = || match probe.execute_batch("BEGIN IMMEDIATE") {
        Ok(()) => {
            probe.execute_batch("ROLLBACK").unwrap();
            false
        }
        Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::DatabaseBusy => true,
        Err(e) => panic!("probing the write lock: {e}"),
    };
    let mut child = sb.command(args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !write_locked() {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        assert!(Instant::now() < deadline, "the import never took the write lock");
        std::thread::sleep(Duration::from_millis(1));
    }
    std::thread::sleep(Duration::from_millis(after_ms));
    let inside = write_locked();
    let _ = child.kill(); // SIGKILL on Unix
    child.wait().unwrap();
    inside
}

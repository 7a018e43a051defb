//! A kill at any moment of an import leaves the ledger as it was; the next run imports all.

mod common;

use std::io::Write;

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

    // Kill at several moments; each time the ledger holds all or nothing.
    for delay_ms in [50u64, 150, 400] {
        sb.kill_after(&["--quiet", "import", &file, "--account", "cold"], delay_ms);
        let events = sb.ok(&["--json", "balances"]).json();
        let held = events.as_array().map(Vec::len).unwrap_or(0);
        let n = count_events(&sb);
        assert!(n == 0 || n == rows, "a kill after {delay_ms} ms left {n} of {rows} events ({held} balances)");
    }
    let run = sb.ok(&["--json", "import", &file, "--account", "cold"]).json();
    assert_eq!(run[0]["new_events"].as_u64().unwrap() + run[0]["existing_events"].as_u64().unwrap(), rows as u64);
    assert_eq!(count_events(&sb), rows);
}

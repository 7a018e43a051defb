//! Import benchmark: a generated generic CSV of 1,000,000 rows into a fresh ledger.
//!
//! Run: `cargo bench --bench import` (set `COINTALLY_BENCH_ROWS` for another size).
//! Prints rows per second and the process's peak resident memory; targets are at least
//! 100,000 rows/s and under 200 MB. The whole file is one transaction, as in real use.

use std::io::{BufWriter, Write};
use std::time::Instant;

use cointally::import::{NoProgress, import_files};
use cointally::ledger::{Ledger, NewAccount, OpenMode};

fn main() {
    let rows: u64 = std::env::var("COINTALLY_BENCH_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let csv = dir.path().join("history.csv");
    write_history(&csv, rows).expect("write the generated file");
    let size = std::fs::metadata(&csv).map(|m| m.len()).unwrap_or(0);

    let mut ledger = Ledger::open(&dir.path().join("bench.sqlite"), OpenMode::CreateNew).expect("ledger");
    let account = ledger.add_account(&NewAccount::files_only("bench", "wallet")).expect("account");
    let start = Instant::now();
    let summary = import_files(&mut ledger, &account, std::slice::from_ref(&csv), None, &NoProgress).expect("import");
    let elapsed = start.elapsed();
    assert_eq!(summary[0].new_events, rows);

    let again = Instant::now();
    let second = import_files(&mut ledger, &account, &[csv], None, &NoProgress).expect("re-import");
    let again = again.elapsed();
    assert_eq!(second[0].new_events, 0);

    let secs = elapsed.as_secs_f64();
    println!(
        "import: {rows} rows ({:.0} MB file) in {secs:.2} s = {:.0} rows/s",
        size as f64 / 1e6,
        rows as f64 / secs
    );
    println!("re-import of the same file (adds nothing): {:.2} s", again.as_secs_f64());
    println!("peak resident memory: {} MB", peak_rss_mb().map_or("unknown".into(), |m| m.to_string()));
}

/// A realistic mix: fiat deposits, trades with fees, staking rewards, withdrawals; half of
/// the rows carry an id, half are keyed by content.
fn write_history(path: &std::path::Path, rows: u64) -> std::io::Result<()> {
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    writeln!(
        out,
        "time,kind,sent_amount,sent_asset,received_amount,received_asset,fee_amount,fee_asset,fiat_value,fiat_currency,tx_hash,id,note"
    )?;
    let start = 1_483_228_800i64; // 2017-01-01
    for i in 0..rows {
        let t = chrono::DateTime::from_timestamp(start + (i as i64) * 97, 0).unwrap_or_default();
        let time = t.format("%Y-%m-%d %H:%M:%S");
        let id = if i % 2 == 0 { format!("row-{i}") } else { String::new() };
        let cents = 100 + (i * 7919) % 100_000;
        match i % 5 {
            0 => writeln!(out, "{time},fiat_deposit,,,{}.{:02},USD,,,,,,{id},", cents / 100, cents % 100)?,
            1 => writeln!(
                out,
                "{time},trade,{}.{:02},USD,0.000{:05},BTC,0.{:02},USD,,,,{id},buy",
                cents / 100,
                cents % 100,
                cents % 99_998 + 1,
                cents % 100
            )?,
            2 => writeln!(
                out,
                "{time},staking,,,0.0000{:04},ETH,,,1.{:02},USD,,{id},reward",
                cents % 9998 + 1,
                cents % 100
            )?,
            3 => writeln!(
                out,
                "{time},trade,0.000{:05},BTC,{}.{:02},USDT,0.0000001,BNB,,,,{id},",
                cents % 99_998 + 1,
                cents / 100,
                cents % 100
            )?,
            _ => writeln!(out, "{time},withdrawal,0.0{:04},ETH,,,0.0001,ETH,,,0x{:064x},{id},", cents % 9998 + 1, i)?,
        }
    }
    out.flush()
}

fn peak_rss_mb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}

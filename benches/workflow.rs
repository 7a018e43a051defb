//! The yearly run of issue #21 as a user types it: a fresh ledger, three exchanges' histories in
//! the generic layout, a price file, values from it, and a report of every year — each step a
//! separate `cointally` command, timed from outside as a whole process.
//!
//! Run: `cargo bench --bench workflow` (`COINTALLY_BENCH_WORKFLOW_EVENTS=N` for another size than
//! 100,000 events). The history: 2022–2025 in three accounts, USD buys and sells of BTC and ETH
//! with a USD fee, own transfers between the accounts (a withdrawal and the deposit with its
//! hash, the network fee paid in the asset), and staking rewards; the price file has an hourly
//! USD price of BTC and ETH over the four years. Target (#21): the commands after `init` take
//! ≤ 2 s in all on the 2-core machine. Then the same ledger as it was before the reports (a copy)
//! gets every year's report from one `report --all-years` instead of one command per year, and
//! that total is printed too.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const YEARS: std::ops::RangeInclusive<i32> = 2022..=2025;
const ACCOUNTS: [&str; 3] = ["exchange-a", "exchange-b", "exchange-c"];
const HEADER: &str = "time,kind,sent_amount,sent_asset,received_amount,received_asset,fee_amount,fee_asset,tx_hash,id";

fn main() {
    let events: u64 =
        std::env::var("COINTALLY_BENCH_WORKFLOW_EVENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let temp = tempfile::tempdir().expect("temp dir");
    // COINTALLY_BENCH_WORKFLOW_DIR=DIR keeps the files and the ledger there (emptied first), to
    // look at or profile one step afterwards.
    let kept = std::env::var_os("COINTALLY_BENCH_WORKFLOW_DIR").map(PathBuf::from);
    if let Some(dir) = &kept {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir).expect("the kept directory");
    }
    let dir = kept.as_deref().unwrap_or(temp.path());
    let files = write_histories(dir, events).expect("write the histories");
    let prices = dir.join("prices.csv");
    let price_rows = write_prices(&prices).expect("write the price file");
    let ledger = dir.join("ledger.sqlite");
    println!("{events} events in {} files, {price_rows} price rows", files.len());

    let mut steps: Vec<(String, Vec<String>)> = vec![("init".into(), vec!["init".into()])];
    for (account, _) in &files {
        steps.push((format!("account add {account}"), args(&["account", "add", "wallet", "--label", account])));
    }
    for (account, file) in &files {
        steps.push((format!("import {account}"), args(&["import", &path(file), "--account", account])));
    }
    steps.push(("prices import".into(), args(&["prices", "import", &path(&prices)])));
    steps.push(("prices --offline".into(), args(&["prices", "--offline"])));
    for year in YEARS {
        steps.push((format!("report --year {year}"), args(&["report", "--year", &year.to_string()])));
    }

    let mut counted = 0.0;
    let mut before_reports = 0.0;
    let mut peak = 0u64;
    // The ledger as the reports find it, copied for the one-pass alternative below.
    let copy = dir.join("ledger-all-years.sqlite");
    for (name, step) in &steps {
        if name.starts_with("report") && !copy.exists() {
            before_reports = counted;
            std::fs::copy(&ledger, &copy).expect("copy the priced ledger");
        }
        let (seconds, peak_kb) = run(&ledger, step);
        if !name.starts_with("init") && !name.starts_with("account add") {
            counted += seconds;
        }
        peak = peak.max(peak_kb);
        println!("  {name:<26} {seconds:>6.3} s  {:>5} MB", peak_kb / 1024);
    }
    println!(
        "imports + prices import + prices --offline + a report of each of {} years: {counted:.2} s (target <= 2 s); \
         largest peak resident memory of a step {} MB",
        YEARS.count(),
        peak / 1024
    );
    // Every year's report in one command instead (issue #21's one pass), on the same priced
    // ledger: the history is computed once and every year stored.
    let (seconds, peak_kb) = run(&copy, &args(&["report", "--all-years"]));
    println!("  {:<26} {seconds:>6.3} s  {:>5} MB", "report --all-years", peak_kb / 1024);
    println!(
        "imports + prices import + prices --offline + report --all-years: {:.2} s (target <= 2 s)",
        before_reports + seconds
    );
}

fn args(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn path(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// Runs one command on the ledger, quietly; returns its wall seconds and peak resident KB.
fn run(ledger: &Path, step: &[String]) -> (f64, u64) {
    let start = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_cointally"))
        .arg("--ledger")
        .arg(ledger)
        .arg("--quiet")
        .args(step)
        .output()
        .expect("run cointally");
    let seconds = start.elapsed().as_secs_f64();
    assert!(
        output.status.success(),
        "cointally {} failed: {}",
        step.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    (seconds, children_peak_kb())
}

/// The largest peak resident set of the children waited for so far (`getrusage` of
/// `RUSAGE_CHILDREN`, in KB): each step's figure is the running maximum.
fn children_peak_kb() -> u64 {
    // SAFETY: an all-zero `rusage` is a valid value of the plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `getrusage` only writes into the struct it is given a valid pointer to.
    let ok = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) } == 0;
    if ok { u64::try_from(usage.ru_maxrss).unwrap_or(0) } else { 0 }
}

/// Writes one generic CSV per account: `events` rows in all, in time order within each file.
fn write_histories(dir: &Path, events: u64) -> std::io::Result<Vec<(String, PathBuf)>> {
    let mut outs = Vec::new();
    let mut files = Vec::new();
    for account in ACCOUNTS {
        let file = dir.join(format!("{account}.csv"));
        let mut out = BufWriter::new(std::fs::File::create(&file)?);
        writeln!(out, "{HEADER}")?;
        outs.push(out);
        files.push((account.to_string(), file));
    }
    let start = chrono::NaiveDate::from_ymd_opt(*YEARS.start(), 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0));
    let start = start.map(|t| t.and_utc().timestamp()).unwrap_or_default();
    let end = chrono::NaiveDate::from_ymd_opt(*YEARS.end(), 12, 31).and_then(|d| d.and_hms_opt(0, 0, 0));
    let span = end.map(|t| t.and_utc().timestamp()).unwrap_or_default() - start;
    // Each account first deposits dollars and buys; then buys, sells, moves and earns in turn.
    let step = span / events.max(1) as i64;
    let mut written = 0u64;
    let mut i = 0u64;
    while written < events {
        let t = start + i as i64 * step;
        let time = chrono::DateTime::from_timestamp(t, 0).unwrap_or_default().format("%Y-%m-%d %H:%M:%S").to_string();
        let account = (i % 3) as usize;
        let (asset, unit) = if i % 2 == 0 { ("BTC", "0.00") } else { ("ETH", "0.0") };
        let pick = 1 + (i * 7919) % 89;
        let out = &mut outs[account];
        match i % 10 {
            0 => writeln!(out, "{time},fiat_deposit,,,5000,USD,,,,d-{i}")?,
            1..=4 => writeln!(out, "{time},trade,{},USD,{unit}{pick:02},{asset},1.25,USD,,t-{i}", 10 + pick * 3)?,
            5 | 6 => writeln!(out, "{time},trade,{unit}0{},{asset},{},USD,0.75,USD,,t-{i}", pick % 9 + 1, pick + 5)?,
            7 => writeln!(out, "{time},staking,,,{unit}00{},{asset},,,,s-{i}", pick % 9 + 1)?,
            _ => {
                // An own transfer: the withdrawal here, the deposit in the next account a minute on.
                let hash = format!("{:064x}", i);
                writeln!(out, "{time},withdrawal,{unit}0{},{asset},,,{unit}001,{asset},{hash},w-{i}", pick % 9 + 2)?;
                let later = chrono::DateTime::from_timestamp(t + 60, 0).unwrap_or_default();
                let next = &mut outs[(account + 1) % 3];
                writeln!(
                    next,
                    "{},deposit,,,{unit}0{},{asset},,,{hash},r-{i}",
                    later.format("%Y-%m-%d %H:%M:%S"),
                    pick % 9 + 1
                )?;
                written += 1;
            }
        }
        written += 1;
        i += 1;
    }
    for mut out in outs {
        out.flush()?;
    }
    Ok(files)
}

/// Writes an hourly USD price of BTC and ETH over the years: `time,asset,currency,price`.
fn write_prices(path: &Path) -> std::io::Result<u64> {
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    writeln!(out, "time,asset,currency,price")?;
    let start = chrono::NaiveDate::from_ymd_opt(*YEARS.start(), 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0));
    let start = start.map(|t| t.and_utc().timestamp()).unwrap_or_default();
    let hours = 24 * (365 * YEARS.count() as i64 + 1);
    let mut rows = 0;
    for h in 0..hours {
        let time =
            chrono::DateTime::from_timestamp(start + h * 3600, 0).unwrap_or_default().format("%Y-%m-%dT%H:%M:%SZ");
        let wave = (h * 37) % 2000;
        writeln!(out, "{time},BTC,USD,{}.{:02}", 30_000 + wave * 10, h % 100)?;
        writeln!(out, "{time},ETH,USD,{}.{:02}", 2_000 + wave, h % 100)?;
        rows += 2;
    }
    out.flush()?;
    Ok(rows)
}

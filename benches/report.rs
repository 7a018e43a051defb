//! Report benchmark.
//!
//! Run: `cargo bench --bench report` (set `COINTALLY_BENCH_REPORT_LEDGER=PATH` to keep the
//! generated ledger and reuse it on the next run; `COINTALLY_BENCH_REPORT_EVENTS=20000` for a
//! small ledger that proves the bench works in seconds).
//!
//! First, the three figures of issue #21, in this order (the peak memory printed after the
//! first is that pass's own):
//! - `report --all-years`: every year 2020–2025 in one pass from the first event, storing each
//!   year's rows and a snapshot at each year-end (targets: ≤ 5 s, < 500 MB);
//! - `report --year 2025` when the snapshot at the end of 2024 exists (target ≤ 0.5 s);
//! - one event added in 2025, then `report --year 2025` again (target ≤ 0.5 s);
//!
//! the last two also as the command itself, `cointally report --year 2025` run three times in
//! a child process (each time after one more event for the third), with the median.
//!
//! Each prints the CPU seconds (user and system) of its phases: transfers, the pass with its
//! snapshots, the rows stored. `COINTALLY_BENCH_REPORT_SKIP_ALL=1` runs only the second and
//! third, from the snapshots an earlier run left in the kept ledger (to time or profile them).
//!
//! A child process generates a ledger of 1,000,000 events over six years (2020–2025) in four
//! wallets, every leg valued: buys with a fee, sells, crypto-to-crypto swaps with a fee in
//! crypto, staking rewards, and own transfers between the wallets (a withdrawal and its
//! deposit, the same hash, the deposit smaller by a network fee). Then this process times what
//! `cointally report --year 2025` does: match the transfers, compute every lot and disposal
//! from the first event under the US rules (universal until 2025, per wallet after), store the
//! year's rows, and sum them up. Targets: under 5 s, peak resident memory under 500 MB (the
//! generation runs in the child, so the peak is the report's own).
//!
//! `COINTALLY_BENCH_REPORT_JURISDICTION=uk` times what `cointally report --year 2024` does for
//! a UK ledger instead (alone in its process, so the peak memory is the UK run's): match the
//! transfers, sort every event into each token's acquisitions and disposals, apply the same
//! day, 30-day and section 104 rules over all of history, and sum up tax year 2024/25 (the
//! generated values are in dollars; the UK computation reads them as the reporting currency,
//! which costs the same); then 2025/26 from the snapshot that run stored at the end of 2024/25.
//!
//! `COINTALLY_BENCH_REPORT_JURISDICTION=au` times what `cointally report --year 2025` does for
//! an Australian ledger: match the transfers, run every event through the parcels (one FIFO
//! queue per token) in Sydney dates, test each parcel disposed of for the 12-month discount,
//! carry net capital losses through the earlier years, and sum up 2024-25 (dollars read as
//! AUD, which costs the same); then 2025-26 from the snapshot that run stored at 30 June 2025
//! (the next year's report: only the events after it are read).
//!
//! `COINTALLY_BENCH_REPORT_JURISDICTION=ca` times `cointally report --year 2024` for a
//! Canadian ledger the same way: the transfers, every event sorted per token, the adjusted
//! cost base and superficial-loss look-ahead over all of history, and calendar 2024 summed up
//! (the dollar values read as CAD); then 2025 from the snapshot that run stored at its end.
//!
//! `COINTALLY_BENCH_REPORT_JURISDICTION=de` times what `cointally report --year 2024` does for
//! a German ledger: match the transfers, run every event through the lots (FIFO per wallet)
//! up to the end of 2024 in Berlin time, mark each 2024 disposal held more than one year or
//! not, and sum up the year against the Freigrenzen (values read as euros, as above); then
//! 2025 from the snapshot that run stored at the end of 2024.
//!
//! `COINTALLY_BENCH_REPORT_EXPORT=koinly,audit` (any export formats, comma-separated) times
//! what `cointally export FORMAT --year 2025` does after the year is computed: gather the
//! input and write the file and its manifest, one format after another, each with the peak
//! resident memory of its own writing (the peak is reset before each, where Linux allows it),
//! so that the memory of a file over all of history shows apart from the computation's.
//!
//! `COINTALLY_BENCH_REPORT_EVENTS=N` generates N events instead of 1,000,000 (to check the
//! bench runs; the figures that count are over 1,000,000).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use cointally::ledger::{Ledger, LegValue, NewAccount, OpenMode};
use cointally::tax::au::report::AuReport;
use cointally::tax::ca::report::CaReport;
use cointally::tax::de::report::DeReport;
use cointally::tax::report::Report;
use cointally::tax::uk::report::UkReport;
use cointally::tax::years::{PassInfo, ReadAhead, Start, compute_years, compute_years_with};
use cointally::tax::{self, Options};
use cointally::transfers;
use cointally_exchanges::time::from_millis;
use cointally_exchanges::{EventKind, Leg, NewEvent};
use rust_decimal::Decimal;

const EVENTS: usize = 1_000_000;
const EVENTS_ENV: &str = "COINTALLY_BENCH_REPORT_EVENTS";

/// How many events to generate: [`EVENTS`] unless `COINTALLY_BENCH_REPORT_EVENTS` says.
fn events() -> usize {
    std::env::var(EVENTS_ENV).ok().and_then(|n| n.parse().ok()).filter(|n| *n > 0).unwrap_or(EVENTS)
}
/// 2020-01-01T00:00:00Z.
const START_MS: i64 = 1_577_836_800_000;
/// Six years.
const SPAN_MS: i64 = 6 * 365 * 86_400_000;
const ASSETS: [(&str, i64); 4] = [("BTC", 30_000), ("ETH", 2_000), ("SOL", 60), ("LINK", 12)];
const WALLETS: usize = 4;
const GENERATE_ENV: &str = "COINTALLY_BENCH_REPORT_GENERATE";
const LEDGER_ENV: &str = "COINTALLY_BENCH_REPORT_LEDGER";
const JURISDICTION_ENV: &str = "COINTALLY_BENCH_REPORT_JURISDICTION";
const EXPORT_ENV: &str = "COINTALLY_BENCH_REPORT_EXPORT";
/// Set: only the two snapshot figures (the snapshots of an earlier run are used), to time or
/// profile them alone.
const SKIP_ALL_ENV: &str = "COINTALLY_BENCH_REPORT_SKIP_ALL";

fn main() {
    cointally::allocator::tune();
    if let Ok(path) = std::env::var(GENERATE_ENV) {
        generate(Path::new(&path));
        return;
    }
    let kept = std::env::var(LEDGER_ENV).ok().map(PathBuf::from);
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = kept.clone().unwrap_or_else(|| dir.path().join("report.sqlite"));
    if !path.exists() {
        let started = Instant::now();
        let status = Command::new(std::env::current_exe().expect("own path"))
            .env(GENERATE_ENV, &path)
            .status()
            .expect("generator runs");
        assert!(status.success(), "generation failed");
        println!("generated {} events in {:.1} s", events(), started.elapsed().as_secs_f64());
    }

    let mut ledger = Ledger::open(&path, OpenMode::Existing).expect("ledger");
    match std::env::var(JURISDICTION_ENV).map(|j| j.to_ascii_lowercase()).as_deref() {
        Ok("uk") => return uk_run(&mut ledger),
        Ok("au") => return au_run(&mut ledger),
        Ok("ca") => return ca_run(&mut ledger),
        Ok("de") => return de_run(&mut ledger),
        _ => {}
    }
    if let Ok(formats) = std::env::var(EXPORT_ENV) {
        return export_run(&mut ledger, &formats);
    }
    let mut ledger = all_years_and_snapshots(ledger);
    if std::env::var_os(SKIP_ALL_ENV).is_some() {
        return;
    }
    let started = Instant::now();
    let matching = transfers::refresh(&mut ledger).expect("transfers");
    let matched = started.elapsed();
    let options = Options::us(Some(2025));
    let computed = tax::compute(&ledger, options, &matching).expect("compute");
    let computed_at = started.elapsed();
    tax::store(&mut ledger, &options, 2025, &computed).expect("store");
    let labels: BTreeMap<i64, String> =
        ledger.accounts().expect("accounts").into_iter().map(|a| (a.id, a.label)).collect();
    let report = Report::new(2025, "USD", options, &computed.computation, &labels, &computed.inputs_hash);
    let total = started.elapsed();
    println!(
        "report 2025 over {} events: {:.2} s (transfers {:.2} s: {} matched; lots {:.2} s; store and sum {:.2} s)",
        computed.events,
        total.as_secs_f64(),
        matched.as_secs_f64(),
        matching.links.len(),
        (computed_at - matched).as_secs_f64(),
        (total - computed_at).as_secs_f64(),
    );
    println!(
        "  {} disposals and {} income rows in 2025, {} lots held; totals: proceeds {}, basis {}",
        report.lines.len(),
        computed.computation.income.len(),
        computed.computation.holdings.len(),
        report.totals.proceeds,
        report.totals.cost_basis,
    );
    // Not this report's own peak: the process keeps the memory the passes above freed
    // (`allocator::tune`), so resetting the peak would not tell it either. The command's own:
    // `cointally report --year 2025 --from-scratch` under `/usr/bin/time -v` (README).
    println!(
        "  peak resident memory of this whole bench process {} MB (target for the report: < 500 MB)",
        peak_rss_mb().map_or("?".into(), |m| m.to_string()),
    );
}

/// What `report` does for `years`: match transfers, one pass (from the latest fitting snapshot
/// unless `start` says otherwise), store the rows, sum each year up. Returns the seconds taken
/// and where the pass started.
fn report_years(ledger: &mut Ledger, years: std::ops::RangeInclusive<i32>, start: Start) -> (f64, PassInfo, usize) {
    let started = Instant::now();
    let cpu = cpu_seconds();
    let options = Options::us(Some(*years.start()));
    // What `report` does first: the events (after the latest snapshot, or from the first) are
    // read on a second connection while every leg is checked for a value and the transfers
    // are matched (the CPU seconds of those two include that read).
    let (_, ahead) = ReadAhead::start(ledger, &options, years.clone(), start).expect("read ahead");
    // Every leg checked for a value on a second connection while the transfers are matched
    // (from the first event, over every deposit and withdrawal, as `report --from-scratch`).
    let refresh = match start {
        Start::Snapshot => transfers::refresh,
        Start::Scratch => transfers::refresh_whole,
    };
    let (missing, matching) = cointally::pricing::require_values_while(ledger, false, refresh).expect("values");
    assert!(missing.is_empty());
    let matching = matching.expect("transfers");
    let cpu_matched = cpu_seconds();
    let (computed, info) =
        compute_years_with(ledger, options, &matching, years.clone(), start, Some(ahead)).expect("compute");
    let cpu_computed = cpu_seconds();
    // The rows stored while the report of each year is made as `report` makes it (lines,
    // boxes, 1099-DA reconciliation) on a second connection, beside them, as the command does.
    let first = *years.start();
    let lines = tax::store_years_beside(ledger, &options, first, &computed, |reader, computed| {
        years
            .zip(computed)
            .map(|(year, c)| tax::year_report(reader, year, Options::us(Some(year)), c).expect("report").lines.len())
            .sum::<usize>()
    })
    .expect("store");
    let cpu_stored = cpu_seconds();
    println!(
        "  CPU seconds (user + system): value check and transfers side by side {:.2}, pass and snapshots {:.2}, rows stored and reports made beside them {:.2}",
        cpu_matched - cpu,
        cpu_computed - cpu_matched,
        cpu_stored - cpu_computed,
    );
    (started.elapsed().as_secs_f64(), info, lines)
}

/// The three figures of issue #21: all years in one pass, the latest year from the snapshot
/// of the year before, and the same after one new event in the latest year.
fn all_years_and_snapshots(mut ledger: Ledger) -> Ledger {
    if std::env::var_os(SKIP_ALL_ENV).is_some() {
        return snapshot_runs(ledger);
    }
    let (seconds, info, lines) = report_years(&mut ledger, 2020..=2025, Start::Scratch);
    println!(
        "report --all-years (2020-2025) over {} events: {seconds:.2} s, {lines} disposal rows, {} snapshots stored; peak resident memory {} MB (targets: <= 5 s, < 500 MB)",
        info.events_read,
        info.stored,
        peak_rss_mb().map_or("?".into(), |m| m.to_string())
    );
    snapshot_runs(ledger)
}

/// The second and third figures: 2025 from the snapshot of 2024, then again after one new
/// event in 2025. Each on a connection opened for it, as a command starts, with SQLite's page
/// cache empty (measured 2026-12-07: the same figures as on the pass's warm connection), and
/// then as the command itself, `cointally report --year 2025` in a child process: what a user
/// waits for, a fresh process's memory included (this process's heap is already grown by the
/// all-years pass; the command's page faults are its own).
fn snapshot_runs(ledger: Ledger) -> Ledger {
    let path = ledger.path().to_path_buf();
    drop(ledger);
    let mut ledger = Ledger::open(&path, OpenMode::Existing).expect("ledger");
    let (seconds, info, _) = report_years(&mut ledger, 2025..=2025, Start::Snapshot);
    println!(
        "report --year 2025 from the snapshot of {}: {seconds:.2} s ({} events read; target <= 0.5 s)",
        info.started_after.map_or("(none)".into(), |y| y.to_string()),
        info.events_read,
    );
    // The command alone on the ledger, as a user runs it (with this connection open, its
    // exit would not be the last and leave the log for the next run to read through).
    drop(ledger);
    command_runs(&path, "  the command, from the snapshot", || ());
    let mut ledger = Ledger::open(&path, OpenMode::Existing).expect("ledger");
    add_one_event(&mut ledger);
    drop(ledger);
    let mut ledger = Ledger::open(&path, OpenMode::Existing).expect("ledger");
    let (seconds, info, _) = report_years(&mut ledger, 2025..=2025, Start::Snapshot);
    println!(
        "one event added in 2025, report --year 2025 again from the snapshot of {}: {seconds:.2} s ({} events read; target <= 0.5 s)",
        info.started_after.map_or("(none)".into(), |y| y.to_string()),
        info.events_read,
    );
    drop(ledger);
    command_runs(&path, "  the command, each run after one more event added", || {
        add_one_event(&mut Ledger::open(&path, OpenMode::Existing).expect("ledger"))
    });
    Ledger::open(&path, OpenMode::Existing).expect("ledger")
}

/// Times `cointally report --year 2025` on the ledger at `path` three times, each in its own
/// process after `before`, and prints each time and the median.
fn command_runs(path: &Path, title: &str, mut before: impl FnMut()) {
    let mut seconds: Vec<f64> = (0..3)
        .map(|_| {
            before();
            let started = Instant::now();
            let output = Command::new(env!("CARGO_BIN_EXE_cointally"))
                .arg("--ledger")
                .arg(path)
                .args(["--quiet", "report", "--year", "2025"])
                .output()
                .expect("cointally runs");
            let elapsed = started.elapsed().as_secs_f64();
            assert!(output.status.success(), "report failed: {}", String::from_utf8_lossy(&output.stderr));
            elapsed
        })
        .collect();
    let runs: Vec<String> = seconds.iter().map(|s| format!("{s:.2}")).collect();
    seconds.sort_by(f64::total_cmp);
    println!("{title}: {} s, median {:.2} s (target <= 0.5 s)", runs.join(" / "), seconds[1]);
}

/// A purchase on 2025-12-31, valued: a new event in the latest year.
fn add_one_event(ledger: &mut Ledger) {
    let account = ledger.accounts().expect("accounts")[0].id;
    let time_ms = START_MS + SPAN_MS - 86_400_000;
    let n = ledger.row_counts().ok().and_then(|c| c.into_iter().find(|(t, _)| t == "events")).map_or(0, |(_, n)| n);
    let event = NewEvent::new(
        format!("added-{n}"),
        from_millis(time_ms),
        EventKind::Trade,
        vec![Leg::sent("USD", Decimal::from(300)), Leg::received("BTC", Decimal::new(1, 2))],
    );
    let mut writer = ledger.writer().expect("writer");
    let written = writer.event(account, "csv:generic", &event, &[]).expect("event");
    writer.commit().expect("commit");
    let (cointally::ledger::Written::New(id) | cointally::ledger::Written::Existing(id)) = written;
    let values: Vec<LegValue> = [(0, Decimal::ONE, Decimal::from(300)), (1, Decimal::from(30_000), Decimal::from(300))]
        .into_iter()
        .map(|(seq, price, value)| LegValue {
            event_id: id,
            seq,
            price,
            value,
            source: "bench".into(),
            path: String::new(),
        })
        .collect();
    ledger.store_leg_values("USD", &values).expect("values");
}

/// Times one country's report of the bench ledger: transfers, its computation, its summing
/// up (`summary`, which gives the line of figures printed under the timing).
fn country_run<C>(
    ledger: &mut Ledger,
    title: &str,
    phase: &str,
    compute: impl FnOnce(&mut Ledger, &transfers::Matching) -> C,
    events: fn(&C) -> u64,
    summary: impl FnOnce(&C) -> String,
) {
    let started = Instant::now();
    let matching = transfers::refresh(ledger).expect("transfers");
    let matched = started.elapsed();
    let computed = compute(ledger, &matching);
    let computed_at = started.elapsed();
    let figures = summary(&computed);
    let total = started.elapsed();
    println!(
        "{title} over {} events: {:.2} s (transfers {:.2} s: {} matched; {phase} {:.2} s; sum {:.2} s)",
        events(&computed),
        total.as_secs_f64(),
        matched.as_secs_f64(),
        matching.links.len(),
        (computed_at - matched).as_secs_f64(),
        (total - computed_at).as_secs_f64(),
    );
    println!("  {figures}");
    println!(
        "  peak resident memory {} MB (targets: < 5 s, < 500 MB)",
        peak_rss_mb().map_or("?".into(), |m| m.to_string())
    );
}

/// The export run: 2025 computed as `report --year 2025` does, then each format gathered and
/// written (file and manifest) into a temporary directory, timed, with its own peak memory.
fn export_run(ledger: &mut Ledger, formats: &str) {
    let started = Instant::now();
    let matching = transfers::refresh(ledger).expect("transfers");
    let options = Options::us(Some(2025));
    let (mut computed, info) = compute_years(ledger, options, &matching, 2025..=2025, Start::Scratch).expect("compute");
    tax::store_years(ledger, &options, 2025, &computed).expect("store");
    let computed = computed.pop().expect("2025");
    println!(
        "2025 computed over {} events: {:.2} s; peak resident memory {} MB",
        info.events_read,
        started.elapsed().as_secs_f64(),
        peak_rss_mb().map_or("?".into(), |m| m.to_string())
    );
    let dir = tempfile::tempdir().expect("temporary directory");
    for name in formats.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let format = cointally::export::find(name).unwrap_or_else(|| panic!("no export format {name:?}"));
        let reset = reset_peak_rss();
        let before = rss_mb("VmRSS:");
        let started = Instant::now();
        let input =
            cointally::export::Input::gather(ledger, options, &computed, (0, false), &[format]).expect("gather");
        let path = dir.path().join(cointally::export::default_file_name(format, 2025));
        let manifest = cointally::export::write_file(format, &input, &path).expect("write");
        println!(
            "export {name} 2025: {:.2} s, {} rows, {} MB written; peak resident memory {} MB{} (from {} MB before; target < 300 MB)",
            started.elapsed().as_secs_f64(),
            manifest.output.rows,
            manifest.output.bytes / 1_000_000,
            peak_rss_mb().map_or("?".into(), |m| m.to_string()),
            if reset { " while writing it" } else { " of the whole process (the peak could not be reset)" },
            before.map_or("?".into(), |m| m.to_string()),
        );
    }
}

/// Resets the peak resident memory to the current one (Linux: `/proc/self/clear_refs`);
/// false when that is not possible.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The UK run: tax year 2024/25 under HMRC's share matching and pools, from the first event;
/// then 2025/26 from the snapshot the first stored at the end of 2024/25.
fn uk_run(ledger: &mut Ledger) {
    for (year, start, title) in [
        (2024, Start::Scratch, "UK report 2024/25"),
        (2025, Start::Snapshot, "UK report 2025/26 from the 2024/25 snapshot"),
    ] {
        country_run(
            ledger,
            title,
            "matching and pools",
            |ledger, matching| {
                let (mut computed, info) =
                    tax::uk::compute_years(ledger, year..=year, matching, start).expect("compute");
                assert_eq!(info.started_after.is_some(), start == Start::Snapshot, "{info:?}");
                computed.pop().expect("the year")
            },
            |c| c.events,
            |computed| {
                let report = UkReport::new(computed, "GBP");
                let f = &report.figures.total;
                format!(
                    "{} rows, {} disposals, {} income rows, {} pools; proceeds {}, allowable costs {}",
                    computed.disposals.len(),
                    f.disposals,
                    computed.income.len(),
                    computed.pools.len(),
                    f.proceeds.round_dp(2),
                    f.allowable_costs.round_dp(2),
                )
            },
        );
    }
}

/// The Australian run: financial year 2024-25 (`--year 2025`) under the ATO's rules, from the
/// first event; then 2025-26 from the snapshot the first stored at 30 June 2025 (the
/// accountant's next year).
fn au_run(ledger: &mut Ledger) {
    for (year, start, title) in [
        (2025, Start::Scratch, "AU report 2024-25"),
        (2026, Start::Snapshot, "AU report 2025-26 from the 2024-25 snapshot"),
    ] {
        country_run(
            ledger,
            title,
            "parcels",
            |ledger, matching| {
                let (mut computed, info) =
                    tax::au::compute_years(ledger, year..=year, tax::Method::Fifo, matching, start).expect("compute");
                assert_eq!(info.started_after.is_some(), start == Start::Snapshot, "{info:?}");
                computed.pop().expect("the year")
            },
            |c| c.events,
            |computed| {
                let totals = AuReport::new(computed, "AUD").totals();
                format!(
                    "{} disposals, {} income rows, {} parcels held; proceeds {}, cost base {}, net capital gain {}",
                    computed.disposals.len(),
                    computed.income.len(),
                    computed.parcels.len(),
                    totals.proceeds.round_dp(2),
                    totals.cost_base.round_dp(2),
                    computed.figures.net_capital_gain.round_dp(2),
                )
            },
        );
    }
}

/// The Canadian run: calendar 2024 under the CRA's ACB and superficial-loss rules, from the
/// first event; then 2025 from the snapshot the first stored at the end of 2024.
fn ca_run(ledger: &mut Ledger) {
    for (year, start, title) in
        [(2024, Start::Scratch, "CA report 2024"), (2025, Start::Snapshot, "CA report 2025 from the 2024 snapshot")]
    {
        country_run(
            ledger,
            title,
            "ACB and superficial losses",
            |ledger, matching| {
                let (mut computed, info) =
                    tax::ca::compute_years(ledger, year..=year, matching, start).expect("compute");
                assert_eq!(info.started_after.is_some(), start == Start::Snapshot, "{info:?}");
                computed.pop().expect("the year")
            },
            |c| c.events,
            |computed| {
                let report = CaReport::new(computed, "CAD", tax::ca::Treatment::Capital);
                let f = &report.figures;
                format!(
                    "{} dispositions, {} denied in part or whole, {} income rows, {} holdings; proceeds {}, net gain {}",
                    f.dispositions,
                    f.denials,
                    computed.income.len(),
                    computed.holdings.len(),
                    f.proceeds.round_dp(2),
                    f.net().round_dp(2),
                )
            },
        );
    }
}

/// The German run: calendar year 2024 in Berlin time, FIFO per wallet, the Freigrenzen, from
/// the first event; then 2025 from the snapshot the first stored at the end of 2024 (the
/// accountant's next year).
fn de_run(ledger: &mut Ledger) {
    let labels: BTreeMap<i64, String> =
        ledger.accounts().expect("accounts").into_iter().map(|a| (a.id, a.label)).collect();
    for (year, start, title) in
        [(2024, Start::Scratch, "DE report 2024"), (2025, Start::Snapshot, "DE report 2025 from the 2024 snapshot")]
    {
        country_run(
            ledger,
            title,
            "lots",
            |ledger, matching| {
                let (mut computed, info) =
                    tax::de::compute_years(ledger, year..=year, matching, start).expect("compute");
                assert_eq!(info.started_after.is_some(), start == Start::Snapshot, "{info:?}");
                computed.pop().expect("the year")
            },
            |c| c.events,
            |computed| {
                let report = DeReport::new(computed, "EUR", labels.clone());
                let f = &report.figures;
                format!(
                    "{} disposal rows ({} within one year), {} income rows, {} lots held; private-sale net gain {}, tax-free net gain {}",
                    computed.disposals.len(),
                    f.private_sales.rows,
                    computed.income.len(),
                    computed.holdings.len(),
                    f.private_sales.net().round_dp(2),
                    f.tax_free.net().round_dp(2),
                )
            },
        );
    }
}

/// A price that wanders with time, exact: base × (1 + (day mod 400) / 400).
fn price(base: i64, time_ms: i64) -> Decimal {
    let day = (time_ms - START_MS) / 86_400_000;
    Decimal::from(base) * (Decimal::ONE + Decimal::new(day % 400, 0) / Decimal::from(400))
}

fn generate(path: &Path) {
    let mut ledger = Ledger::open(path, OpenMode::CreateNew).expect("new ledger");
    let accounts: Vec<i64> = (0..WALLETS)
        .map(|i| ledger.add_account(&NewAccount::files_only(format!("wallet-{i}"), "wallet")).expect("account").id)
        .collect();
    let mut rng = fastrand::Rng::with_seed(7);
    let mut held = vec![[Decimal::ZERO; ASSETS.len()]; WALLETS];
    let count = events();
    let step = SPAN_MS / count.max(1) as i64;
    let mut values: Vec<LegValue> = Vec::with_capacity(3 * count);
    let mut writer = ledger.writer().expect("writer");
    let mut written = 0usize;
    let write = |writer: &mut cointally::ledger::Writer<'_>,
                 values: &mut Vec<LegValue>,
                 account: usize,
                 event: NewEvent,
                 worth: &[Decimal]| {
        let written = writer.event(accounts[account], "csv:generic", &event, &[]).expect("event");
        let (cointally::ledger::Written::New(id) | cointally::ledger::Written::Existing(id)) = written;
        // The ledger drops zero legs and numbers the rest.
        for (seq, (leg, value)) in event.legs.iter().zip(worth).filter(|(l, _)| !l.amount.is_zero()).enumerate() {
            let price = (*value / leg.amount.abs()).round_dp(18);
            values.push(LegValue {
                event_id: id,
                seq: seq as i64,
                price,
                value: *value,
                source: "bench".into(),
                path: String::new(),
            });
        }
    };
    while written < count {
        let time_ms = START_MS + written as i64 * step;
        let time = from_millis(time_ms);
        let w = rng.usize(0..WALLETS);
        let a = rng.usize(0..ASSETS.len());
        let (asset, base) = ASSETS[a];
        let p = price(base, time_ms);
        let id = format!("e{written}");
        let roll = rng.u32(0..100);
        if roll < 30 || held[w][a] < Decimal::new(1, 2) {
            let units = Decimal::new(rng.i64(1_000..1_000_000), 6);
            let cost = (units * p).round_dp(2);
            let fee = Decimal::new(rng.i64(0..500), 2);
            let event = NewEvent::new(
                id,
                time,
                EventKind::Trade,
                vec![Leg::sent("USD", cost), Leg::received(asset, units), Leg::fee("USD", fee)],
            );
            write(&mut writer, &mut values, w, event, &[cost, cost, fee]);
            held[w][a] += units;
        } else if roll < 55 {
            let units = (held[w][a] * Decimal::new(rng.i64(1..60), 2)).round_dp(6);
            let worth = (units * p).round_dp(2);
            let event =
                NewEvent::new(id, time, EventKind::Trade, vec![Leg::sent(asset, units), Leg::received("USD", worth)]);
            write(&mut writer, &mut values, w, event, &[worth, worth]);
            held[w][a] -= units;
        } else if roll < 75 {
            let b = (a + 1) % ASSETS.len();
            let units = (held[w][a] * Decimal::new(rng.i64(1..60), 2)).round_dp(6);
            let worth = (units * p).round_dp(2);
            let pb = price(ASSETS[b].1, time_ms);
            let got = (worth / pb).round_dp(6);
            let fee = (got / Decimal::from(1000)).round_dp(6);
            let fee_worth = (fee * pb).round_dp(2);
            let event = NewEvent::new(
                id,
                time,
                EventKind::Trade,
                vec![Leg::sent(asset, units), Leg::received(ASSETS[b].0, got), Leg::fee(ASSETS[b].0, fee)],
            );
            write(&mut writer, &mut values, w, event, &[worth, worth, fee_worth]);
            held[w][a] -= units;
            held[w][b] += got - fee;
        } else if roll < 90 {
            let units = Decimal::new(rng.i64(100..10_000), 6);
            let worth = (units * p).round_dp(2);
            let event = NewEvent::new(id, time, EventKind::Staking, vec![Leg::received(asset, units)]);
            write(&mut writer, &mut values, w, event, &[worth]);
            held[w][a] += units;
        } else {
            let to = (w + 1 + rng.usize(0..WALLETS - 1)) % WALLETS;
            let units = (held[w][a] * Decimal::new(rng.i64(1..60), 2)).round_dp(6);
            let arrived = units - (units / Decimal::from(2000)).round_dp(6);
            let hash = format!("0x{written:064x}");
            let out = NewEvent {
                tx_hash: Some(hash.clone()),
                ..NewEvent::new(id.clone(), time, EventKind::Withdrawal, vec![Leg::sent(asset, units)])
            };
            write(&mut writer, &mut values, w, out, &[(units * p).round_dp(2)]);
            let deposit = NewEvent {
                tx_hash: Some(hash),
                ..NewEvent::new(
                    format!("{id}-in"),
                    from_millis(time_ms + step / 2),
                    EventKind::Deposit,
                    vec![Leg::received(asset, arrived)],
                )
            };
            write(&mut writer, &mut values, to, deposit, &[(arrived * p).round_dp(2)]);
            held[w][a] -= units;
            held[to][a] += arrived;
            written += 1;
        }
        written += 1;
    }
    writer.commit().expect("commit");
    for chunk in values.chunks(200_000) {
        ledger.store_leg_values("USD", chunk).expect("values");
    }
}

/// The CPU seconds (user and system) this process has used so far (Linux: `/proc/self/stat`,
/// in clock ticks of 10 ms); 0 where that cannot be read.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return 0.0 };
    // The fields after the command name (which is in parentheses and may hold spaces).
    let Some(rest) = stat.rsplit_once(')').map(|(_, rest)| rest) else { return 0.0 };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the name.
    (ticks(11) + ticks(12)) as f64 / 100.0
}

fn peak_rss_mb() -> Option<u64> {
    rss_mb("VmHWM:")
}

/// A memory figure of `/proc/self/status` (`VmHWM:` the peak, `VmRSS:` now), in MB.
fn rss_mb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}

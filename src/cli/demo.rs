//! `cointally demo`: the whole pipeline on bundled sample data, with no keys.
//!
//! It creates a fresh ledger in a new temporary directory (kept, so the newcomer can explore
//! it; its path is printed) or at `--ledger`, adds a few accounts, imports the bundled sample
//! files (embedded in the binary), starts every bundled exchange simulator of the registry on
//! 127.0.0.1 (Binance, Kraken, Coinbase, Gemini, Bitstamp, Bitfinex, Binance.US, KuCoin, OKX, Bybit) and syncs their
//! generated accounts through the real API clients, imports the person's self-custody wallet
//! (the other side of the simulated accounts' transfers) and the history files a simulator
//! offers for what its API does not reach (Bybit's two years), values every leg from the
//! simulators' candles, and prints balances, the 2025 tax report, writes every export
//! format into `exports/` beside the ledger, and prints the result of `check`, which must be
//! clean (the demo fails otherwise).
//! Running it again on the same `--ledger` adds nothing: imports and syncs are idempotent.

use std::collections::BTreeMap;
use std::path::PathBuf;

use cointally_exchanges::amount::format_amount;
use std::sync::Arc;

use cointally_exchanges::Exchange;
use cointally_exchanges::http::{ClientConfig, Clock, SystemClock};
use cointally_exchanges::prices::CandleSource;
use cointally_exchanges::registry;
use cointally_exchanges::simulators::{self, Activity, DemoSim, Outcome};
use cointally_exchanges::time::{format_rfc3339, from_millis};
use rust_decimal::Decimal;

use crate::credentials::ApiKey;
use crate::sync::connect::Connector;
use crate::sync::{AccountSummary, Job, Options, Reporter};

use crate::check::audit;
use crate::export;
use crate::import::{NoProgress, import_files};
use crate::ledger::{Account, Ledger, NewAccount, OpenMode};
use crate::pricing;
use crate::tax::report::Report;
use crate::tax::{Tracking, TransferFees};

use super::Context;
use super::output::{Align, Table, print_json};

/// The tax year the demo reports (the last whole year of the generated histories).
const REPORT_YEAR: i32 = 2025;

/// The seed of the demo's simulated world (its history and its market prices).
const SEED: u64 = 1;

/// One of the demo's simulated exchanges, running on 127.0.0.1.
struct Simulated {
    /// The exchange it simulates.
    exchange: Exchange,
    /// Its name in prose.
    title: &'static str,
    /// The label of the account synced from it (`binance-api`).
    label: String,
    /// The running simulator.
    sim: Box<dyn DemoSim>,
}

/// Starts every exchange simulator the registry has, in the exchanges' order.
fn start_simulators() -> anyhow::Result<Vec<Simulated>> {
    let mut started = Vec::new();
    for exchange in Exchange::ALL {
        if let Some(simulator) = simulators::simulator(exchange) {
            let sim = (simulator.demo)(SEED)?;
            let title = registry::entry(exchange).title;
            started.push(Simulated { exchange, title, label: format!("{exchange}-api"), sim });
        }
    }
    Ok(started)
}

/// "A, B and C".
fn prose_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// Values every leg from the simulators' candles, in the order the registry prefers the
/// sources (the simulators price without their exchanges' limits, so the demo does not wait).
fn value_legs(context: &Context, ledger: &mut Ledger, sims: &[Simulated]) -> anyhow::Result<pricing::Summary> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let config = ClientConfig::default();
    let mut ranked = Vec::new();
    for simulated in sims {
        let rank = registry::entry(simulated.exchange).prices.as_ref().map_or(u8::MAX, |source| source.rank);
        if let Some(source) = simulated.sim.prices(config.clone(), Arc::clone(&clock)) {
            let (source, name) = source?;
            ranked.push((rank, source, name));
        }
    }
    ranked.sort_by_key(|(rank, _, _)| *rank);
    let names: Vec<String> = ranked.iter().map(|(_, _, name)| name.clone()).collect();
    context.note(format!("valuing every leg from the simulated {}", prose_list(&names)));
    let sources: Vec<Box<dyn CandleSource>> = ranked.into_iter().map(|(_, source, _)| source).collect();
    let summary = super::prices::fill_ledger(context, ledger, &sources, &Default::default())?;
    if summary.missing > 0 || !summary.errors.is_empty() {
        anyhow::bail!("the demo could not value {} legs: {:?}", summary.missing, summary.errors);
    }
    Ok(summary)
}

/// The ledger's account of a simulated exchange, added (with no key) on the first run.
fn simulated_account(ledger: &mut Ledger, simulated: &Simulated) -> anyhow::Result<Account> {
    Ok(match ledger.find_account(&simulated.label)? {
        Some(account) => account,
        None => ledger.add_account(&NewAccount::files_only(&simulated.label, simulated.exchange.as_str()))?,
    })
}

/// Syncs the simulators' generated accounts into the ledger, as `cointally sync` would sync
/// real ones, each client paced as its simulator asks. The accounts keep no key and no base
/// URL (the simulators are gone when the demo ends), so a later `cointally sync` skips them.
fn sync_simulators(context: &Context, ledger: &mut Ledger, sims: &[Simulated]) -> anyhow::Result<Vec<AccountSummary>> {
    let mut connector = Connector::new();
    let mut jobs = Vec::new();
    for simulated in sims {
        let account = simulated_account(ledger, simulated)?;
        let url = simulated.sim.base_url();
        context.note(format!("syncing {} from the {} simulator at {url}", simulated.label, simulated.title));
        if let Some(limiter) = simulated.sim.limiter(connector.clock()) {
            connector = connector.with_limiter(simulated.exchange, &url, limiter);
        }
        let (key, secret) = simulated.sim.key();
        let api_key = ApiKey { key, secret, passphrase: simulated.sim.passphrase() };
        let adapter = connector.adapter(&account.label, simulated.exchange, api_key, Some(&url))?;
        jobs.push(Job { account, exchange: simulated.exchange, adapter });
    }
    let options = Options { full: false, since_ms: None, workers: 8 };
    let summaries = crate::sync::run(ledger, &jobs, &options, &Reporter::new(context.quiet))?;
    if let Some(error) = summaries.iter().find_map(|s| s.error.clone()) {
        anyhow::bail!("the demo sync failed: {error}");
    }
    Ok(summaries)
}

/// Answers what `check` asks about the simulated accounts as their owner would (the answers
/// each simulator gives: a simulated Coinbase's sends to other users were gifts, say).
/// Returns how many events were reclassified.
fn answer_check(context: &Context, ledger: &mut Ledger, sims: &[Simulated]) -> anyhow::Result<usize> {
    let mut total = 0;
    for simulated in sims {
        let (answers, why) = simulated.sim.answers();
        if answers.is_empty() {
            continue;
        }
        let mut answered = 0;
        for finding in audit(ledger)?.into_iter().filter(|f| f.account == simulated.label) {
            let Some(answer) = answers.iter().find(|answer| answer.finding == finding.kind) else { continue };
            for event in finding.items.iter().filter_map(|i| i.event) {
                ledger.reclassify(event, answer.kind)?;
                answered += 1;
            }
        }
        context.note(format!("answered check for {}: {answered} events reclassified ({why})", simulated.label));
        total += answered;
    }
    Ok(total)
}

/// The label of the person's self-custody wallet, whose history the simulators generated.
const SELF_CUSTODY: &str = "self-custody";

/// The self-custody wallet's history as a generic CSV: the other side of every deposit and
/// withdrawal of the simulated exchange accounts (the same transaction hashes, so they match
/// as own transfers), and, where the wallet sends more than it received, an opening deposit a
/// month before its first move with the cost basis (the simulated market's price then) as
/// `fiat_value`: coins bought before the ledger's history starts, with their basis given.
fn self_custody_csv(activities: &[Activity], usd: impl Fn(&str, i64) -> Option<Decimal>) -> String {
    let mut rows: Vec<(i64, String)> = Vec::new();
    let mut balance: BTreeMap<&str, Decimal> = BTreeMap::new();
    let mut lowest: BTreeMap<&str, Decimal> = BTreeMap::new();
    let first_ms = activities.iter().map(Activity::time_ms).min().unwrap_or(0);
    for activity in activities {
        let (line, asset, change) = match activity {
            Activity::Deposit { asset, amount, tx_hash, time_ms, id, outcome: Outcome::Completed, network, .. } => (
                format!(
                    "{},deposit,,,{},{asset},,,,,{tx_hash},,{network},{id},from an exchange",
                    format_rfc3339(from_millis(*time_ms)),
                    format_amount(*amount)
                ),
                asset,
                *amount,
            ),
            Activity::Withdrawal {
                asset,
                amount,
                fee,
                tx_hash,
                time_ms,
                id,
                outcome: Outcome::Completed,
                network,
                ..
            } => (
                format!(
                    "{},withdrawal,{},{asset},,,{},{},,,{tx_hash},,{network},{id},to an exchange",
                    format_rfc3339(from_millis(*time_ms)),
                    format_amount(*amount),
                    if fee.is_zero() { String::new() } else { format_amount(*fee) },
                    if fee.is_zero() { "" } else { asset.as_str() },
                ),
                asset,
                -(*amount + *fee),
            ),
            _ => continue,
        };
        rows.push((activity.time_ms(), line));
        let b = balance.entry(asset.as_str()).or_default();
        *b += change;
        let low = lowest.entry(asset.as_str()).or_default();
        *low = (*low).min(*b);
    }
    let opening_ms = first_ms - 30 * 86_400_000;
    for (asset, low) in lowest.into_iter().filter(|(_, low)| low.is_sign_negative()) {
        let amount = -low;
        let basis = usd(asset, opening_ms)
            .map(|price| format!("{:.2},USD", (price * amount).round_dp(2)))
            .unwrap_or_else(|| ",".to_owned());
        rows.push((
            opening_ms,
            format!(
                "{},deposit,,,{},{asset},,,{basis},,,,opening-{asset},bought before the ledger starts",
                format_rfc3339(from_millis(opening_ms)),
                format_amount(amount)
            ),
        ));
    }
    rows.sort();
    let mut csv = String::from(
        "time,kind,sent_amount,sent_asset,received_amount,received_asset,fee_amount,fee_asset,fiat_value,fiat_currency,tx_hash,address,network,id,note\n",
    );
    for (_, line) in rows {
        csv.push_str(&line);
        csv.push('\n');
    }
    csv
}

/// A bundled sample file and the account it belongs to.
struct Sample {
    label: &'static str,
    exchange: &'static str,
    file: &'static str,
    text: &'static str,
}

impl Sample {
    /// The sample `file` of account `label` on `exchange`, its content `text`.
    const fn new(label: &'static str, exchange: &'static str, file: &'static str, text: &'static str) -> Sample {
        Sample { label, exchange, file, text }
    }
}

const SAMPLES: &[Sample] = &[
    Sample::new("cold-wallet", "wallet", "wallet.csv", include_str!("../../fixtures/demo/wallet.csv")),
    Sample::new("coinbase", "coinbase", "coinbase.csv", include_str!("../../fixtures/coinbase/csv/current_2024.csv")),
    Sample::new("kraken", "kraken", "kraken-ledgers.csv", include_str!("../../fixtures/kraken/csv/ledgers_2025.csv")),
    Sample::new(
        "binance",
        "binance",
        "binance-statement.csv",
        include_str!("../../fixtures/binance/csv/transactions_2024.csv"),
    ),
    Sample::new("koinly-history", "other", "koinly.csv", include_str!("../../fixtures/demo/koinly.csv")),
];

/// Writes every export format of the computed year into `exports/` beside the ledger; returns
/// the directory and the files' names.
fn write_exports(
    ledger: &Ledger,
    ledger_path: &std::path::Path,
    tax: &super::report::TaxArgs,
    computed: &crate::tax::Computed,
    missing: usize,
) -> anyhow::Result<(PathBuf, Vec<String>)> {
    let dir =
        ledger_path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new(".")).join("exports");
    std::fs::create_dir_all(&dir)?;
    let input =
        export::Input::gather(ledger, tax.options(), computed, (missing, tax.allow_missing_prices), export::FORMATS)?;
    let mut files = Vec::new();
    for format in export::FORMATS {
        let name = export::default_file_name(*format, tax.year);
        export::write_file(*format, &input, &dir.join(&name))?;
        files.push(name);
    }
    Ok((dir, files))
}

pub fn run(context: &Context) -> anyhow::Result<()> {
    // The sample files are written to a scratch directory that goes away at the end; the
    // ledger stays (in a kept temporary directory when no --ledger is given).
    let scratch = tempfile::Builder::new().prefix("cointally-demo-files-").tempdir()?;
    let workdir = scratch.path();
    let path = match &context.ledger {
        Some(path) => path.clone(),
        None => tempfile::Builder::new().prefix("cointally-demo-").tempdir()?.keep().join("demo.sqlite"),
    };
    let mut ledger = Ledger::open(&path, OpenMode::CreateIfMissing)?;
    context.note(format!("demo ledger: {}", path.display()));
    let mut imported = Vec::new();
    for sample in SAMPLES {
        let account = match ledger.find_account(sample.label)? {
            Some(account) => account,
            None => ledger.add_account(&NewAccount::files_only(sample.label, sample.exchange))?,
        };
        let file: PathBuf = workdir.join(sample.file);
        std::fs::write(&file, sample.text)?;
        let summaries = import_files(&mut ledger, &account, &[file], None, &NoProgress)?;
        for s in summaries {
            imported.push((sample.label.to_owned(), s));
        }
    }
    let sims = start_simulators()?;
    // The history files the exchanges' users import for what the API does not reach (Bybit's
    // two years), before the sync: the synced events meet them (the same ids), so the sync
    // adds only what the files lack and compares the balances with the whole history.
    for simulated in &sims {
        let files = simulated.sim.history_files();
        if files.is_empty() {
            continue;
        }
        let account = simulated_account(&mut ledger, simulated)?;
        let mut paths = Vec::new();
        for (name, text) in files {
            let file = workdir.join(name);
            std::fs::write(&file, text)?;
            paths.push(file);
        }
        for s in import_files(&mut ledger, &account, &paths, None, &NoProgress)? {
            imported.push((simulated.label.clone(), s));
        }
    }
    let synced = sync_simulators(context, &mut ledger, &sims)?;
    let mut external: Vec<Activity> = sims.iter().flat_map(|simulated| simulated.sim.external()).collect();
    external.sort_by_key(Activity::time_ms);
    let wallet = match ledger.find_account(SELF_CUSTODY)? {
        Some(account) => account,
        None => ledger.add_account(&NewAccount::files_only(SELF_CUSTODY, "wallet"))?,
    };
    let file = workdir.join("self-custody.csv");
    std::fs::write(&file, self_custody_csv(&external, |asset, t| sims.iter().find_map(|s| s.sim.usd(asset, t))))?;
    for s in import_files(&mut ledger, &wallet, &[file], None, &NoProgress)? {
        imported.push((SELF_CUSTODY.to_owned(), s));
    }
    let valued = value_legs(context, &mut ledger, &sims)?;
    let answered = answer_check(context, &mut ledger, &sims)?;
    let tax = super::report::TaxArgs {
        year: REPORT_YEAR,
        choices: super::report::TaxChoices {
            method: None,
            lots: Tracking::Us,
            transfer_fees: TransferFees::Dispose,
            allow_missing_prices: false,
            jurisdiction: None,
        },
    };
    let (computed, missing) = super::report::compute_year(context, &mut ledger, &tax)?;
    let labels: BTreeMap<i64, String> = ledger.accounts()?.into_iter().map(|a| (a.id, a.label)).collect();
    let report = Report::new(
        REPORT_YEAR,
        &valued.currency,
        tax.options(),
        &computed.computation,
        &labels,
        &computed.inputs_hash,
    )
    .with_ledger_settings(&ledger)?;
    let exports = write_exports(&ledger, &path, &tax, &computed, missing)?;
    let findings = audit(&mut ledger)?;
    if !findings.is_empty() {
        let kinds: Vec<String> = findings.iter().map(|f| format!("{} {} in {}", f.count, f.kind, f.account)).collect();
        anyhow::bail!("the demo's check is not clean: {}", kinds.join(", "));
    }
    let accounts = ledger.accounts()?.len();
    let balances = ledger.balances(None, None)?;
    let events = ledger.events(&Default::default())?;
    let mut by_kind: BTreeMap<&str, u64> = BTreeMap::new();
    for e in &events {
        *by_kind.entry(e.kind.as_str()).or_default() += 1;
    }
    if context.json {
        print_json(&serde_json::json!({
            "ledger": path.display().to_string(),
            "accounts": accounts,
            "synced": synced,
            "prices": valued,
            "events": events.len(),
            "events_by_kind": by_kind,
            "balances": balances.iter().map(|b| serde_json::json!({
                "account": b.account, "exchange": b.exchange, "asset": b.asset, "amount": format_amount(b.amount),
            })).collect::<Vec<_>>(),
            "report": report.to_json(),
            "exports": { "dir": exports.0.display().to_string(), "files": exports.1 },
            "check": { "clean": true, "findings": [], "reclassified": answered },
        }))?;
        return Ok(());
    }
    println!("Imported:");
    let mut table = Table::new(&[
        ("Account", Align::Left),
        ("File", Align::Left),
        ("Format", Align::Left),
        ("Rows", Align::Right),
        ("New events", Align::Right),
    ]);
    for (label, s) in &imported {
        let file = s.path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
        table.row(vec![label.to_string(), file, s.format.to_string(), s.rows.to_string(), s.new_events.to_string()]);
    }
    table.print()?;
    println!();
    let titles: Vec<String> = sims.iter().map(|simulated| simulated.title.to_owned()).collect();
    println!("Synced from the {} simulators (generated accounts, served on 127.0.0.1):", prose_list(&titles));
    let mut table = Table::new(&[
        ("Account", Align::Left),
        ("Endpoint", Align::Left),
        ("Records", Align::Right),
        ("New", Align::Right),
        ("Requests", Align::Right),
    ]);
    for summary in &synced {
        for e in &summary.endpoints {
            table.row(vec![
                summary.account.clone(),
                e.endpoint.clone(),
                e.records.to_string(),
                e.new_records.to_string(),
                e.requests.to_string(),
            ]);
        }
        let matches = if summary.balance_differences.is_empty() { "equal" } else { "DIFFER from" };
        println!("{}: balances {matches} the simulator's", summary.account);
    }
    table.print()?;
    println!();
    println!("Valued in {} (every leg; `cointally prices missing` lists none):", valued.currency);
    super::prices::print_summary(&valued)?;
    println!();
    println!("Balances:");
    let mut table = Table::new(&[
        ("Account", Align::Left),
        ("Exchange", Align::Left),
        ("Asset", Align::Left),
        ("Amount", Align::Right),
    ]);
    for b in &balances {
        table.row(vec![b.account.clone(), b.exchange.clone(), b.asset.clone(), format_amount(b.amount)]);
    }
    table.print()?;
    println!();
    let kinds: Vec<String> = by_kind.iter().map(|(k, n)| format!("{n} {k}")).collect();
    println!("{accounts} accounts, {} events ({})", events.len(), kinds.join(", "));
    println!();
    super::report::print_report(&report)?;
    println!();
    println!(
        "Exports for {REPORT_YEAR} ({} files, every format, each with a .manifest.json): {}",
        exports.1.len(),
        exports.0.display()
    );
    println!();
    println!(
        "cointally check: clean (balances agree with the exchanges, every transfer matched, every leg valued, every basis known)"
    );
    context.note(format!(
        "explore it: cointally --ledger {p} events; cointally --ledger {p} report --year {REPORT_YEAR} --json; cointally --ledger {p} transfers",
        p = path.display()
    ));
    Ok(())
}

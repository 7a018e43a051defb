//! `cointally sync` against the KuCoin simulator: the complete ledger once, balances equal
//! currency by currency; re-runs that fetch only what is new; faults and kills that change
//! nothing; the Management pool never exhausted; keys refused with nothing written and no
//! secret shown; the account-history export and the API meeting instead of doubling.
//!
//! The simulated history is short and recent (September and October 2026) and every sync
//! starts at `--since 2026-09-01`: the walk asks one week at a time, so a walk from KuCoin's
//! launch would spend most of a test on empty weeks.

mod common;

use std::collections::BTreeMap;

use cointally_exchanges::http::budget::WindowBudget;
use cointally_exchanges::kucoin::sim::history::KucoinProfile;
use cointally_exchanges::kucoin::sim::{self, KucoinSim, SimConfig, SimKey};
use cointally_exchanges::sim::faults::{FaultConfig, FaultKind};
use common::{Run, Sandbox};
use rust_decimal::Decimal;

/// Adds the KuCoin account `main` whose key is in $SIM_KEY, $SIM_SECRET and $SIM_PASSPHRASE.
const ADD_ACCOUNT: [&str; 11] = [
    "account",
    "add",
    "kucoin",
    "--label",
    "main",
    "--key-env",
    "SIM_KEY",
    "--secret-env",
    "SIM_SECRET",
    "--passphrase-env",
    "SIM_PASSPHRASE",
];

/// A sync of the simulated months.
const SYNC: [&str; 4] = ["--json", "sync", "--since", "2026-09-01"];

const LEDGERS_PATH: &str = "/api/v1/accounts/ledgers";
const HF_LEDGERS_PATH: &str = "/api/v1/hf/accounts/ledgers";
const MARGIN_HF_LEDGERS_PATH: &str = "/api/v3/hf/margin/account/ledgers";

fn config(entries: usize) -> SimConfig {
    // The account moves to a high-frequency trade account on 2026-10-01, and trades on margin
    // in a high-frequency cross margin account from 2026-09-05.
    let profile = KucoinProfile {
        start_ms: 1_788_220_800_000,
        end_ms: 1_793_491_200_000,
        entries,
        crypto_transfers: true,
        hf_from_ms: Some(1_790_812_800_000),
        margin_hf_from_ms: Some(1_788_566_400_000),
    };
    SimConfig { profile, ..SimConfig::demo(17) }
}

/// A sandbox whose commands reach the simulator, pacing for its limits.
struct Synced {
    sb: Sandbox,
}

impl Synced {
    fn new(sim: &KucoinSim, key: &SimKey) -> Synced {
        let sb = Sandbox::new();
        sb.set_env("SIM_KEY", &key.api_key);
        sb.set_env("SIM_SECRET", &key.secret);
        sb.set_env("SIM_PASSPHRASE", &key.passphrase);
        sb.set_env("COINTALLY_KUCOIN_BASE_URL", &sim.base_url());
        sb.set_env(
            "COINTALLY_KUCOIN_BUDGET",
            &sim.budget().unwrap_or(WindowBudget { limit: 1_000_000, window_seconds: 1 }).render(),
        );
        let synced = Synced { sb };
        synced.sb.ok(&["init"]);
        synced
    }

    fn run(&self, args: &[&str]) -> Run {
        self.sb.run(args)
    }

    fn ok(&self, args: &[&str]) -> Run {
        self.sb.ok(args)
    }

    fn sync(&self) -> serde_json::Value {
        self.ok(&SYNC).json()
    }

    fn balances(&self) -> BTreeMap<String, Decimal> {
        self.sb.balances("main")
    }

    fn events(&self) -> Vec<serde_json::Value> {
        self.sb.events("main")
    }
}

fn totals(summary: &serde_json::Value, field: &str) -> u64 {
    summary["accounts"][0]["endpoints"].as_array().unwrap().iter().map(|e| e[field].as_u64().unwrap()).sum()
}

fn ledger_calls(sim: &KucoinSim) -> u64 {
    sim.stats().requests_by_path.get(LEDGERS_PATH).copied().unwrap_or(0)
}

/// How many items the deposit and withdrawal lists serve.
fn movements(sim: &KucoinSim) -> usize {
    let (deposits, withdrawals) = sim.movements();
    deposits.len() + withdrawals.len()
}

fn hf_calls(sim: &KucoinSim) -> u64 {
    sim.stats().requests_by_path.get(HF_LEDGERS_PATH).copied().unwrap_or(0)
}

fn margin_calls(sim: &KucoinSim) -> u64 {
    sim.stats().requests_by_path.get(MARGIN_HF_LEDGERS_PATH).copied().unwrap_or(0)
}

/// The ids of the entries of the margin HF ledger (the `MARGIN_V2` account's).
fn margin_ids(sim: &KucoinSim) -> std::collections::BTreeSet<String> {
    sim.entries().into_iter().filter(|e| e.is_margin_hf()).map(|e| e.id).collect()
}

/// How many of the account's events came from the margin HF ledger.
fn margin_events(s: &Synced, sim: &KucoinSim) -> usize {
    let ids = margin_ids(sim);
    s.events().iter().filter(|e| ids.contains(e["external_id"].as_str().unwrap())).count()
}

#[test]
fn a_full_sync_has_every_entry_once_and_the_accounts_balances_and_a_resync_asks_only_whats_new() {
    let sim = sim::start(config(2_400)).unwrap();
    let s = Synced::new(&sim, &SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    let first = s.sync();
    assert_eq!(first["accounts"][0]["error"], serde_json::Value::Null, "{first}");
    assert_eq!(first["accounts"][0]["balance_differences"], serde_json::json!([]), "{first}");
    assert_eq!(s.balances(), sim.balances());
    let served = sim.entries();
    // Every ledger entry, and every deposit and withdrawal list item (details, no event).
    assert_eq!(totals(&first, "new_records") as usize, served.len() + movements(&sim));
    let events = s.events();
    assert_eq!(events.len(), served.len());
    let count = |kind: &str| events.iter().filter(|e| e["kind"] == kind).count();
    let typed = |biz: &[&str]| served.iter().filter(|e| biz.contains(&e.biz_type)).count();
    assert_eq!(count("trade"), typed(&["Exchange", "TRADE_EXCHANGE", "MARGIN_EXCHANGE", "LIQUIDATION"]));
    // Moves between the main, trade, trade_hf and margin accounts, and into and out of Earn:
    // never deposits.
    assert_eq!(count("internal_transfer"), typed(&["Transfer", "TRANSFER", "Earn Subscription", "Earn Redemption"]));
    // The high-frequency account's trades and transfers came from its own ledger, every one.
    let hf: Vec<&str> = served.iter().filter(|e| e.is_hf()).map(|e| e.id.as_str()).collect();
    assert!(hf.len() > 300 && served.iter().any(|e| e.biz_type == "TRADE_EXCHANGE"), "{} HF entries", hf.len());
    let stored: std::collections::BTreeSet<&str> = events.iter().map(|e| e["external_id"].as_str().unwrap()).collect();
    assert!(hf.iter().all(|id| stored.contains(id)));
    assert_eq!(count("deposit") + count("fiat_deposit"), typed(&["Deposit"]));
    assert_eq!(count("interest"), typed(&["Earn Profits"]));
    assert_eq!(count("staking"), typed(&["Staking Profits"]));
    // Margin borrowings and repayments are `unknown` (as in the account ledger); interest paid a fee.
    assert_eq!(count("unknown"), typed(&["BORROW", "REPAY"]));
    assert!(count("unknown") > 0);
    assert_eq!(count("fee"), typed(&["INTEREST"]));
    let calls = ledger_calls(&sim);
    // 13 weeks from September to the start of December, and more pages in the busy ones.
    assert!(calls >= 13, "{calls} ledger calls");
    // 31 windows of three days from September, and more pages in the busy ones.
    let hf_walk = hf_calls(&sim);
    assert!(hf_walk >= 31, "{hf_walk} hf-ledgers calls");
    let margin_walk = margin_calls(&sim);
    assert!(margin_walk >= 31, "{margin_walk} margin-hf-ledgers calls");

    // Again: nothing new, and one call of each ledger only (less than three days have passed).
    let second = s.sync();
    assert_eq!(totals(&second, "new_records"), 0, "{second}");
    assert_eq!(ledger_calls(&sim), calls + 1);
    assert_eq!(hf_calls(&sim), hf_walk + 1);
    assert_eq!(margin_calls(&sim), margin_walk + 1);
    assert_eq!(s.events(), events);

    // New trades (in the HF account now): the next sync fetches them, and only them.
    let before = sim.entries().len();
    assert_eq!(sim.add_trades(7), 7);
    let third = s.sync();
    assert_eq!(totals(&third, "new_records") as usize, sim.entries().len() - before, "{third}");
    assert_eq!(s.balances(), sim.balances());

    let report = s.ok(&["--json", "renormalize"]).json();
    assert_eq!(report[0]["events_before"], report[0]["events_after"]);
    let check = s.run(&["--json", "check"]);
    assert!(!check.stdout.contains("negative_balance"), "{}", check.stdout);
}

#[test]
fn the_pace_keeps_the_management_pool_within_its_quota_over_any_window() {
    // 40 weight a second over a sliding window: the key check (20), the balances (5) and 14
    // and more ledger calls (2 each) need more than one window, and not one is refused.
    let sim =
        sim::start(SimConfig { budget: Some(WindowBudget { limit: 40, window_seconds: 1 }), ..config(3_000) }).unwrap();
    let s = Synced::new(&sim, &SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    // The key check's weight was spent by another process, whose pace this one does not know.
    std::thread::sleep(std::time::Duration::from_millis(1_100));
    let run = s.sync();
    assert_eq!(run["accounts"][0]["balance_differences"], serde_json::json!([]), "{run}");
    assert!(ledger_calls(&sim) * 2 + 25 > 40, "{} calls", ledger_calls(&sim));
    assert_eq!(sim.stats().rate_limited, 0, "the quota was exhausted");
    assert_eq!(s.balances(), sim.balances());
}

#[test]
fn faults_do_not_change_the_ledger() {
    let clean = sim::start(SimConfig { budget: None, ..config(2_400) }).unwrap();
    let reference = Synced::new(&clean, &SimKey::demo());
    reference.ok(&ADD_ACCOUNT);
    reference.sync();

    let faults = FaultConfig {
        rate_permille: 250,
        seed: 4,
        kinds: vec![FaultKind::ServerError, FaultKind::Truncated, FaultKind::TooManyRequests, FaultKind::Timeout],
    };
    let faulty = sim::start(SimConfig { faults: Some(faults), budget: None, ..config(2_400) }).unwrap();
    let s = Synced::new(&faulty, &SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    let run = s.sync();
    assert!(faulty.stats().faults > 0, "no fault was injected");
    assert!(totals(&run, "retries") > 0, "no fault was met: {run}");
    // The margin HF ledger's walk (over 30 calls at a fault in four) came through whole too.
    assert!(margin_calls(&faulty) > 30, "{} margin-hf-ledgers calls", margin_calls(&faulty));
    assert_eq!(margin_events(&s, &faulty), margin_ids(&faulty).len());
    assert_eq!(s.events(), reference.events());
    assert_eq!(s.balances(), faulty.balances());
}

#[test]
fn a_killed_sync_resumes_to_the_same_ledger() {
    let clean = sim::start(SimConfig { budget: None, ..config(2_400) }).unwrap();
    let reference = Synced::new(&clean, &SimKey::demo());
    reference.ok(&ADD_ACCOUNT);
    reference.sync();
    let all = reference.events().len();
    let pages_of = |sim: &KucoinSim| ledger_calls(sim) + hf_calls(sim) + margin_calls(sim);
    let whole = pages_of(&clean);

    // Each kill strikes after a count of the simulator's ledger pages (whatever the speed of
    // the build): a sixth of the way through the walk, then half-way through what is left of
    // the margin HF ledger's.
    let target = sim::start(SimConfig { budget: None, ..config(2_400) }).unwrap();
    let s = Synced::new(&target, &SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    let sync = || s.sb.command(&["--quiet", "sync", "--since", "2026-09-01"]);
    let first = common::kill_after_requests(sync(), &|| pages_of(&target), whole / 6);
    let mut partial = vec![s.events().len()];
    assert!(first, "the first sync was still running when killed");
    let margin_left = margin_calls(&clean).saturating_sub(margin_calls(&target));
    assert!(margin_left >= 4, "the margin HF walk is still ahead: {margin_left} pages");
    let second = common::kill_after_requests(sync(), &|| margin_calls(&target), margin_left / 2);
    partial.push(s.events().len());
    assert!(partial.iter().any(|&n| n > 0 && n < all), "no kill struck mid-sync: {partial:?} of {all}");
    // A kill struck in the middle of the margin HF ledger's walk: some of its entries stored, not all.
    let (margin_partial, margin_all) = (margin_events(&s, &target), margin_ids(&target).len());
    assert!(
        second && margin_partial > 0 && margin_partial < margin_all,
        "the second kill struck mid margin-HF walk: {margin_partial} of {margin_all}"
    );
    // The three ledgers had pages served (and stored) before the kills.
    let served_before = (ledger_calls(&target), hf_calls(&target), margin_calls(&target));
    assert!(served_before.0 > 0 && served_before.1 > 0 && served_before.2 > 0, "{served_before:?}");
    s.sync();
    // The last sync resumed where the kills left each walk: fewer calls than a whole walk.
    let resumed = pages_of(&target) - served_before.0 - served_before.1 - served_before.2;
    assert!(resumed < whole, "the resumed sync asked {resumed} pages, a whole walk {whole}");
    assert_eq!(s.events(), reference.events());
    assert_eq!(s.balances(), target.balances());
}

#[test]
fn a_key_that_may_transfer_is_refused_unless_allowed() {
    let sim = sim::start(SimConfig { permissions: "General,Spot,Transfer".into(), ..config(40) }).unwrap();
    let s = Synced::new(&sim, &SimKey::demo());
    let refused = s.run(&ADD_ACCOUNT);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("Transfer"), "{}", refused.stderr);
    assert_eq!(s.ok(&["--json", "account", "list"]).json(), serde_json::json!([]));
    let mut allowed = ADD_ACCOUNT.to_vec();
    allowed.push("--allow-withdraw-key");
    s.ok(&allowed);
    // Without the passphrase's variable the account cannot be added at all.
    let mut no_passphrase = ADD_ACCOUNT[..9].to_vec();
    no_passphrase[4] = "other";
    let run = s.run(&no_passphrase);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--passphrase-env"), "{}", run.stderr);
}

#[test]
fn a_wrong_secret_is_a_clear_error_writes_nothing_and_no_secret_is_shown() {
    let sim = sim::start(config(60)).unwrap();
    let wrong = SimKey { passphrase: "a-passphrase-that-is-not-the-keys-0123456789".into(), ..SimKey::demo() };
    let s = Synced::new(&sim, &wrong);
    let add = s.run(&ADD_ACCOUNT);
    assert_eq!(add.code, 3, "{}", add.stderr);
    assert!(add.stderr.contains("account main"), "{}", add.stderr);
    assert!(add.stderr.contains("passphrase was refused"), "{}", add.stderr);
    assert!(!add.stderr.contains(&wrong.passphrase));
    assert_eq!(s.ok(&["--json", "account", "list"]).json(), serde_json::json!([]));

    // Added without the variables set, so without a check: it fails at sync with nothing written.
    let mut add = s.sb.command(&ADD_ACCOUNT);
    add.env_remove("SIM_KEY").env_remove("SIM_SECRET").env_remove("SIM_PASSPHRASE");
    assert!(add.status().unwrap().success());
    let sync = s.run(&["-vv", "sync", "--since", "2026-09-01"]);
    assert_eq!(sync.code, 3, "{}", sync.stderr);
    assert_eq!(s.ok(&["--json", "events"]).json(), serde_json::json!([]));
    for text in [&sync.stdout, &sync.stderr] {
        assert!(!text.contains(&wrong.passphrase) && !text.contains(&wrong.secret));
    }

    // The right key given at the prompt (key, secret, passphrase a line each), verbose, with
    // faults: no secret reaches the output or the ledger.
    let right = SimKey::demo();
    let faults = FaultConfig { rate_permille: 100, seed: 9, kinds: vec![FaultKind::ServerError, FaultKind::Truncated] };
    let sim = sim::start(SimConfig { faults: Some(faults), ..config(300) }).unwrap();
    let s = Synced::new(&sim, &right);
    let input = format!("{}\n{}\n{}\n", right.api_key, right.secret, right.passphrase);
    let add = s.sb.run_with_input(&["account", "add", "kucoin", "--label", "main"], &input);
    assert_eq!(add.code, 0, "{}", add.stderr);
    let run = s.ok(&["-vv", "sync", "--since", "2026-09-01"]);
    assert_eq!(s.balances(), sim.balances());
    let signed = cointally_exchanges::kucoin::auth::signed_passphrase(
        &cointally_exchanges::Secret::new(right.secret.clone()),
        &cointally_exchanges::Secret::new(right.passphrase.clone()),
    );
    let bytes = common::ledger_bytes(&s.sb.ledger());
    for secret in [&right.secret, &right.api_key, &right.passphrase, &signed] {
        for text in [&run.stdout, &run.stderr, &add.stdout, &add.stderr] {
            assert!(!text.contains(secret.as_str()), "a secret reached the output");
        }
        assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()), "a secret reached the ledger");
    }
}

#[test]
fn an_unknown_biz_type_is_kept_as_unknown_with_its_leg_and_never_stops_the_sync() {
    let sim = sim::start(config(200)).unwrap();
    let unknown_id = sim.insert("USDT", Decimal::new(125, 1), "Something New From KuCoin");
    // The margin HF ledger's borrowings and repayments are `unknown` too.
    let loans = sim.entries().iter().filter(|e| ["BORROW", "REPAY"].contains(&e.biz_type)).count();
    sim.add_trades(3);
    let s = Synced::new(&sim, &SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    let run = s.sync();
    let account = &run["accounts"][0];
    assert_eq!(account["error"], serde_json::Value::Null, "{run}");
    assert_eq!(totals(&run, "unknown_records") as usize, 1 + loans, "{run}");
    assert_eq!(account["balance_differences"], serde_json::json!([]), "{run}");
    assert_eq!(s.balances(), sim.balances());
    let margin = margin_ids(&sim);
    let unknown: Vec<serde_json::Value> = s
        .events()
        .into_iter()
        .filter(|e| e["kind"] == "unknown" && !margin.contains(e["external_id"].as_str().unwrap()))
        .collect();
    assert_eq!(unknown.len(), 1);
    assert_eq!(unknown[0]["external_id"], unknown_id);
}

/// Issue #20, margin: a margin trader's high-frequency cross margin account (funded from the
/// trade_hf account, borrowing, trading, repaying with interest, liquidated now and then) comes
/// whole from the margin HF ledger; its balances, borrowed funds included, equal KuCoin's while
/// it still owes; a transfer into or out of margin is never a deposit or a withdrawal; a
/// `bizType` nobody knows is kept as `unknown`; and a re-sync asks that ledger once and stores
/// only its new entries.
#[test]
fn a_margin_traders_hf_margin_account_syncs_whole_with_exact_balances_while_owing_and_resyncs_minimally() {
    let sim = sim::start(SimConfig { budget: None, ..config(2_400) }).unwrap();
    let unknown_id = sim.insert_margin_hf("USDT", Decimal::new(15, 1), "MARGIN_SOMETHING_NEW");
    assert!(!sim.liabilities().is_empty(), "the simulated account owes nothing: the case is not tested");
    let s = Synced::new(&sim, &SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    let first = s.sync();
    let account = &first["accounts"][0];
    assert_eq!(account["error"], serde_json::Value::Null, "{first}");
    assert_eq!(account["balance_differences"], serde_json::json!([]), "{first}");
    assert_eq!(s.balances(), sim.balances());

    let served = sim.entries();
    let biz: BTreeMap<&str, &str> = served.iter().map(|e| (e.id.as_str(), e.biz_type)).collect();
    let ids = margin_ids(&sim);
    assert!(ids.len() > 100, "{} margin HF entries", ids.len());
    let events = s.events();
    let margin: Vec<&serde_json::Value> =
        events.iter().filter(|e| ids.contains(e["external_id"].as_str().unwrap())).collect();
    assert_eq!(margin.len(), ids.len(), "every margin HF entry once");
    let mut transfers = 0;
    for event in &margin {
        let id = event["external_id"].as_str().unwrap();
        let kind = event["kind"].as_str().unwrap();
        assert!(!["deposit", "withdrawal", "fiat_deposit", "fiat_withdrawal"].contains(&kind), "{event}");
        let expected = match biz[id] {
            "TRANSFER" => "internal_transfer",
            "MARGIN_EXCHANGE" | "LIQUIDATION" => "trade",
            "INTEREST" => "fee",
            _ => "unknown",
        };
        assert_eq!(kind, expected, "{event}");
        transfers += usize::from(biz[id] == "TRANSFER");
    }
    assert!(transfers > 10, "{transfers} transfers into or out of margin");
    // The deposits are the main account's `Deposit` entries and nothing else.
    let deposits = events.iter().filter(|e| e["kind"] == "deposit" || e["kind"] == "fiat_deposit").count();
    assert_eq!(deposits, served.iter().filter(|e| e.biz_type == "Deposit").count());
    let loans = served.iter().filter(|e| ["BORROW", "REPAY"].contains(&e.biz_type)).count();
    assert_eq!(totals(&first, "unknown_records") as usize, loans + 1, "{first}");
    assert!(margin.iter().any(|e| e["external_id"] == unknown_id.as_str() && e["kind"] == "unknown"));
    let check = s.run(&["--json", "check"]);
    assert!(!check.stdout.contains("negative_balance"), "{}", check.stdout);

    // Re-sync: new margin trades only; one call of the margin ledger (and of each other one).
    let calls = (ledger_calls(&sim), hf_calls(&sim), margin_calls(&sim));
    assert_eq!(sim.add_margin_trades(4), 4);
    let second = s.sync();
    assert_eq!(second["accounts"][0]["error"], serde_json::Value::Null, "{second}");
    assert_eq!(totals(&second, "new_records"), 8, "{second}");
    assert_eq!((ledger_calls(&sim), hf_calls(&sim), margin_calls(&sim)), (calls.0 + 1, calls.1 + 1, calls.2 + 1));
    assert_eq!(second["accounts"][0]["balance_differences"], serde_json::json!([]), "{second}");
    assert_eq!(s.balances(), sim.balances());
    assert_eq!(margin_events(&s, &sim), margin_ids(&sim).len());
}

/// The simulator's ledger written as KuCoin's account-history export (newest first, UTC+8).
fn export_csv(sim: &KucoinSim) -> String {
    let mut csv = String::from("UID,Account Type,Currency,Side,Amount,Fee,Time(UTC+08:00),Remark,Type\n");
    for e in sim.entries().iter().rev() {
        let local = chrono::DateTime::from_timestamp_millis(e.time_ms + 8 * 3_600_000).unwrap();
        let account = match e.account_type {
            "MAIN" => "Main Account",
            "TRADE" | "TRADE_HF" => "Trading Account",
            _ => "Margin Account",
        };
        csv.push_str(&format!(
            "123456789,{account},{},{},{},{},{},,{}\n",
            e.currency,
            if e.incoming { "In" } else { "Out" },
            e.amount.normalize(),
            e.fee.normalize(),
            local.format("%Y-%m-%d %H:%M:%S"),
            e.biz_type
        ));
    }
    csv
}

#[test]
fn an_export_and_the_api_of_one_account_meet_instead_of_doubling() {
    let sim = sim::start(config(400)).unwrap();
    let s = Synced::new(&sim, &SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    let file = s.sb.path("kucoin-account-history.csv");
    std::fs::write(&file, export_csv(&sim)).unwrap();
    s.ok(&["import", file.to_str().unwrap(), "--account", "main"]);
    let imported = s.events();
    assert_eq!(imported.len(), sim.entries().len());
    assert_eq!(s.balances(), sim.balances());

    let run = s.sync();
    assert_eq!(totals(&run, "new_records") as usize, sim.entries().len() + movements(&sim));
    assert_eq!(totals(&run, "new_events"), 0, "the API doubled events of the export: {run}");
    assert_eq!(run["accounts"][0]["balance_differences"], serde_json::json!([]), "{run}");
    assert_eq!(s.events().len(), imported.len());
    assert_eq!(s.balances(), sim.balances());
}

/// (tx hash, address, network) of an event.
type Onchain = (Option<String>, Option<String>, Option<String>);

/// The on-chain details of the account's withdrawal or deposit events, by kind and id.
fn hashes(s: &Synced) -> BTreeMap<(String, String), Onchain> {
    let conn = rusqlite::Connection::open(s.sb.ledger()).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT kind, external_id, tx_hash, address, network FROM events WHERE kind IN ('deposit', 'withdrawal')",
        )
        .unwrap();
    stmt.query_map([], |r| Ok(((r.get(0)?, r.get(1)?), (r.get(2)?, r.get(3)?, r.get(4)?))))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn deposits_and_withdrawals_carry_their_tx_hash_address_and_chain_and_make_no_event_of_their_own() {
    let sim = sim::start(SimConfig { budget: None, ..config(1_500) }).unwrap();
    let s = Synced::new(&sim, &SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    let first = s.sync();
    assert_eq!(first["accounts"][0]["error"], serde_json::Value::Null, "{first}");
    assert_eq!(first["accounts"][0]["details_waiting"], serde_json::Value::Null, "every detail met its event: {first}");
    assert_eq!(s.balances(), sim.balances());
    assert_eq!(s.events().len(), sim.entries().len(), "the lists made no event of their own");
    let (deposits, withdrawals) = sim.movements();
    assert!(deposits.len() > 5 && withdrawals.len() > 5, "{} {}", deposits.len(), withdrawals.len());
    let stored = hashes(&s);
    for (kind, list) in [("deposit", &deposits), ("withdrawal", &withdrawals)] {
        for item in list.iter() {
            let found = stored
                .iter()
                .find(|((k, _), (hash, _, _))| k == kind && hash.as_deref() == Some(item.tx_hash.as_str()))
                .unwrap_or_else(|| panic!("no {kind} event carries {item:?}"));
            assert_eq!(found.1.1.as_deref(), Some(item.address.as_str()));
            assert_eq!(found.1.2.as_deref(), Some(item.chain));
        }
    }
    // Every crypto deposit and withdrawal has its hash (fiat ones are fiat kinds, never here).
    assert_eq!(stored.values().filter(|(hash, _, _)| hash.is_some()).count(), deposits.len() + withdrawals.len());
    assert_eq!(stored.len(), deposits.len() + withdrawals.len());

    // Re-sync: nothing new, one call of each list, the same ledger and hashes.
    let calls = |path: &str| sim.stats().requests_by_path.get(path).copied().unwrap_or(0);
    let before = (calls("/api/v1/deposits"), calls("/api/v1/withdrawals"));
    let events = s.events();
    let second = s.sync();
    assert_eq!(totals(&second, "new_records"), 0, "{second}");
    assert_eq!((calls("/api/v1/deposits"), calls("/api/v1/withdrawals")), (before.0 + 1, before.1 + 1));
    assert_eq!(s.events(), events);
    assert_eq!(hashes(&s), stored);
    let report = s.ok(&["--json", "renormalize"]).json();
    assert_eq!(report[0]["events_before"], report[0]["events_after"]);
    assert_eq!(hashes(&s), stored, "renormalize attaches the same details again");

    // Each withdrawal arrives in the user's own wallet five days later (too late to be matched
    // by time): the hash alone makes each one transfer.
    s.ok(&["account", "add", "wallet", "--label", "cold"]);
    let mut csv = String::from(
        "time,kind,sent_amount,sent_asset,received_amount,received_asset,fee_amount,fee_asset,fiat_value,fiat_currency,tx_hash,address,network,id,note\n",
    );
    for (n, item) in withdrawals.iter().enumerate() {
        let at = chrono::DateTime::from_timestamp_millis(item.time_ms + 5 * 86_400_000).unwrap();
        csv.push_str(&format!(
            "{},deposit,,,{},{},,,,,{},{},{},in-{n},\n",
            at.format("%Y-%m-%d %H:%M:%S"),
            item.amount.normalize(),
            item.currency,
            item.tx_hash,
            item.address,
            item.chain
        ));
    }
    let file = s.sb.path("cold.csv");
    std::fs::write(&file, csv).unwrap();
    s.ok(&["import", file.to_str().unwrap(), "--account", "cold"]);
    let transfers = s.ok(&["--json", "transfers"]).json();
    let by_hash = transfers["matched"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| {
            t["method"] == "tx_hash" && t["withdrawal"]["account"] == "main" && t["deposit"]["account"] == "cold"
        })
        .count();
    assert_eq!(by_hash, withdrawals.len(), "{transfers}");
}

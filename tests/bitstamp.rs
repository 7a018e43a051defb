//! `cointally sync` against the Bitstamp simulator: the complete history once, balances equal
//! currency by currency; re-runs that fetch only what is new; faults and kills that change
//! nothing; keys refused with nothing written and no secret shown.

mod common;

use cointally_exchanges::bitstamp::api::Budget;
use cointally_exchanges::bitstamp::sim::history::BitstampProfile;
use cointally_exchanges::bitstamp::sim::{self, BitstampSim, SimConfig, SimKey};
use cointally_exchanges::sim::faults::{FaultConfig, FaultKind};
use common::exchange::{
    Synced, assert_add_refused_for_wrong_secret, assert_ledger_holds_none, assert_unchecked_wrong_secret_fails_at_sync,
    events_after_kills, totals,
};
use rust_decimal::Decimal;

/// Adds the Bitstamp account `main` whose key is in $SIM_KEY and $SIM_SECRET. Bitstamp does not
/// say what a key may do, so the key must be allowed explicitly.
const ADD_ACCOUNT: [&str; 10] = [
    "account",
    "add",
    "bitstamp",
    "--label",
    "main",
    "--key-env",
    "SIM_KEY",
    "--secret-env",
    "SIM_SECRET",
    "--allow-withdraw-key",
];

fn config(records: usize) -> SimConfig {
    SimConfig { profile: BitstampProfile { records, ..BitstampProfile::demo() }, ..SimConfig::demo(11) }
}

/// Commands that reach the simulator, pacing for its limits.
impl Synced {
    fn new(sim: &BitstampSim, key: &SimKey) -> Synced {
        let budget = sim.budget().unwrap_or(Budget { limit: 1_000_000, window_seconds: 1 }).render();
        Synced::with_env(&[
            ("SIM_KEY", &key.api_key),
            ("SIM_SECRET", &key.secret),
            ("COINTALLY_BITSTAMP_BASE_URL", &sim.base_url()),
            ("COINTALLY_BITSTAMP_BUDGET", &budget),
        ])
    }
}

/// The simulator's path of `crypto-transactions`.
const CRYPTO_PATH: &str = "/api/v2/crypto-transactions/";

/// (external id, kind, tx hash, address, network) of a deposit or withdrawal event.
type Transfer = (String, String, Option<String>, Option<String>, Option<String>);

/// The account's deposits and withdrawals, by external id.
fn transfers(s: &Synced) -> Vec<Transfer> {
    let conn = rusqlite::Connection::open(s.sb.ledger()).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT external_id, kind, tx_hash, address, network FROM events
             WHERE kind IN ('deposit', 'withdrawal') ORDER BY external_id",
        )
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn a_full_sync_has_every_record_once_and_the_simulators_balances_and_a_resync_asks_only_whats_new() {
    let sim = sim::start(config(2_500)).unwrap();
    let s = Synced::new(&sim, &SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    let first = s.ok(&["--json", "sync"]).json();
    assert_eq!(first["accounts"][0]["error"], serde_json::Value::Null, "{first}");
    assert_eq!(first["accounts"][0]["balance_differences"], serde_json::json!([]), "{first}");
    assert_eq!(s.balances(), sim.balances());
    let served = sim.transactions();
    let crypto = sim.crypto_transactions();
    assert!(!crypto.is_empty());
    // Every user transaction and every crypto-transactions entry is stored, and only the
    // user transactions make events.
    assert_eq!(totals(&first, "new_records") as usize, served.len() + crypto.len());
    let events = s.events();
    assert_eq!(events.len(), served.len());
    assert_eq!(events.iter().filter(|e| e["kind"] == "trade").count(), served.iter().filter(|t| t.kind == 2).count());
    assert_eq!(
        events.iter().filter(|e| e["kind"] == "staking").count(),
        served.iter().filter(|t| t.kind == 27).count()
    );
    // 2,500 records: three pages of 1,000; fewer than 1,000 crypto entries: one page.
    assert_eq!(sim.stats().requests_by_path["/api/v2/user_transactions/"], 3);
    assert_eq!(sim.stats().requests_by_path[CRYPTO_PATH], 1);

    // Again: nothing new, and one user_transactions call and one crypto-transactions call only.
    let second = s.ok(&["--json", "sync"]).json();
    assert_eq!(totals(&second, "new_records"), 0, "{second}");
    assert_eq!(sim.stats().requests_by_path["/api/v2/user_transactions/"], 4);
    assert_eq!(sim.stats().requests_by_path[CRYPTO_PATH], 2);
    assert_eq!(s.events(), events);

    // New trades: the next sync fetches them, and only them.
    assert_eq!(sim.add_trades(7), 7);
    let third = s.ok(&["--json", "sync"]).json();
    assert_eq!(totals(&third, "new_records"), 7, "{third}");
    assert_eq!(s.balances(), sim.balances());

    let report = s.ok(&["--json", "renormalize"]).json();
    assert_eq!(report[0]["events_before"], report[0]["events_after"]);
}

#[test]
fn crypto_deposits_and_withdrawals_carry_their_tx_hash_address_and_network_and_no_event_is_doubled() {
    let sim = sim::start(config(1_200)).unwrap();
    let s = Synced::new(&sim, &SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    let first = s.ok(&["--json", "sync"]).json();
    assert_eq!(first["accounts"][0]["error"], serde_json::Value::Null, "{first}");
    assert_eq!(first["accounts"][0]["details_waiting"], serde_json::Value::Null, "every detail met its event: {first}");
    assert_eq!(s.balances(), sim.balances());
    let served = sim.transactions();
    assert_eq!(s.events().len(), served.len(), "crypto-transactions made no event of its own");

    let crypto = sim.crypto_transactions();
    assert!(crypto.len() > 10, "{}", crypto.len());
    let transfers_now = transfers(&s);
    for entry in &crypto {
        let event = transfers_now
            .iter()
            .find(|t| t.0 == entry.transaction_id.to_string())
            .unwrap_or_else(|| panic!("no event for user transaction {}", entry.transaction_id));
        let kind = if entry.list == "deposits" { "deposit" } else { "withdrawal" };
        assert_eq!(event.1, kind);
        assert_eq!(event.2.as_deref(), Some(entry.txid.as_str()), "{entry:?}");
        assert_eq!(event.3.as_deref(), Some(entry.address.as_str()), "{entry:?}");
        assert_eq!(event.4.as_deref(), Some(entry.network), "{entry:?}");
    }
    // Crypto deposits and withdrawals all have their hash (fiat ones are fiat kinds, never here).
    assert_eq!(transfers_now.iter().filter(|t| t.2.is_some()).count(), crypto.len());
    assert_eq!(transfers_now.len(), crypto.len());
    // The network fee of a crypto withdrawal is user_transactions' `fee`: one fee leg, of that
    // amount, in the withdrawn currency; its crypto-transactions entry (which has no fee) adds
    // none. (rotki's maintainers read the two lists the same way: rotki/rotki#1863.)
    let events = s.events();
    let mut withdrawals_with_fee = 0;
    for entry in crypto.iter().filter(|e| e.list == "withdrawals") {
        let record = served.iter().find(|t| t.id == entry.transaction_id).unwrap();
        let id = entry.transaction_id.to_string();
        let event = events.iter().find(|e| e["external_id"] == id.as_str()).unwrap();
        let fees: Vec<&serde_json::Value> =
            event["legs"].as_array().unwrap().iter().filter(|l| l["role"] == "fee").collect();
        if record.fee.is_zero() {
            assert!(fees.is_empty(), "{event}");
            continue;
        }
        withdrawals_with_fee += 1;
        assert_eq!(fees.len(), 1, "one fee leg: {event}");
        assert_eq!(fees[0]["asset"], entry.currency.to_uppercase(), "{event}");
        assert_eq!(fees[0]["amount"].as_str().unwrap().parse::<Decimal>().unwrap(), -record.fee, "{event}");
        let sent: Vec<&serde_json::Value> =
            event["legs"].as_array().unwrap().iter().filter(|l| l["role"] == "sent").collect();
        assert_eq!(sent.len(), 1, "{event}");
        assert_eq!(sent[0]["amount"].as_str().unwrap().parse::<Decimal>().unwrap(), -entry.amount, "{event}");
    }
    assert!(withdrawals_with_fee > 0, "the simulator's crypto withdrawals pay a fee");

    // Re-sync: nothing new, one call of each list, the same ledger.
    let before = s.events();
    let second = s.ok(&["--json", "sync"]).json();
    assert_eq!(totals(&second, "new_records"), 0, "{second}");
    assert_eq!(sim.stats().requests_by_path[CRYPTO_PATH], 2);
    assert_eq!(s.events(), before);
    assert_eq!(transfers(&s), transfers_now);

    // A new crypto deposit: its event and its hash arrive with the next sync, once.
    let id = sim.insert(0, "btc", "0.12345678".parse().unwrap());
    let third = s.ok(&["--json", "sync"]).json();
    assert_eq!(totals(&third, "new_records"), 2, "the user transaction and its crypto entry: {third}");
    assert_eq!(s.events().len(), served.len() + 1);
    let new = sim.crypto_transactions().into_iter().find(|e| e.transaction_id == id).unwrap();
    let stored = transfers(&s).into_iter().find(|t| t.0 == id.to_string()).unwrap();
    assert_eq!(stored.2, Some(new.txid));

    // renormalize rebuilds the events and attaches the details again.
    let with_hashes = transfers(&s);
    let report = s.ok(&["--json", "renormalize"]).json();
    assert_eq!(report[0]["events_before"], report[0]["events_after"]);
    assert_eq!(transfers(&s), with_hashes);
}

#[test]
fn faults_do_not_change_the_ledger() {
    let clean = sim::start(config(1_500)).unwrap();
    let reference = Synced::new(&clean, &SimKey::demo());
    reference.ok(&ADD_ACCOUNT);
    reference.ok(&["sync", "--quiet"]);

    let faults = FaultConfig {
        rate_permille: 250,
        seed: 4,
        kinds: vec![FaultKind::ServerError, FaultKind::Truncated, FaultKind::TooManyRequests, FaultKind::Timeout],
    };
    let faulty = sim::start(SimConfig { faults: Some(faults), ..config(1_500) }).unwrap();
    let s = Synced::new(&faulty, &SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    let run = s.ok(&["--json", "sync"]).json();
    assert!(faulty.stats().faults > 0, "no fault was injected");
    assert!(totals(&run, "retries") > 0, "no fault was met: {run}");
    assert_eq!(s.events(), reference.events());
    assert_eq!(s.balances(), faulty.balances());
}

#[test]
fn a_killed_sync_resumes_to_the_same_ledger() {
    let unmetered = |records| SimConfig { budget: None, ..config(records) };
    let clean = sim::start(unmetered(30_000)).unwrap();
    let reference = Synced::new(&clean, &SimKey::demo());
    reference.ok(&ADD_ACCOUNT);
    reference.ok(&["sync", "--quiet"]);
    let (all, whole) = (reference.events().len(), clean.stats().requests);

    // Unpaced: each kill strikes after a sixth, a third, then half of a whole sync's requests.
    let target = sim::start(unmetered(30_000)).unwrap();
    let s = Synced::new(&target, &SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    let partial = events_after_kills(&s.sb, &|| target.stats().requests, &[whole / 6, whole / 3, whole / 2]);
    // At least one kill struck in the middle of the walk: some pages stored, not all.
    assert!(partial.iter().any(|&n| n > 0 && n < all), "no kill struck mid-sync: {partial:?} of {all}");
    s.ok(&["sync", "--quiet"]);
    assert_eq!(s.events(), reference.events());
    assert_eq!(s.balances(), target.balances());
    // The tx hashes, addresses and networks too: every crypto entry (several pages of them)
    // reached its deposit or withdrawal, in both ledgers alike.
    let hashed = transfers(&s);
    assert_eq!(hashed, transfers(&reference));
    assert!(target.crypto_transactions().len() > 1_000, "crypto-transactions takes more than one page");
    assert_eq!(hashed.iter().filter(|t| t.2.is_some()).count(), target.crypto_transactions().len());
}

#[test]
fn a_key_is_refused_unless_allowed_because_bitstamp_does_not_say_what_it_may_do() {
    let sim = sim::start(config(40)).unwrap();
    let s = Synced::new(&sim, &SimKey::demo());
    let refused = s.run(&ADD_ACCOUNT[..9]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("does not report what a key may do"), "{}", refused.stderr);
    assert_eq!(s.ok(&["--json", "account", "list"]).json(), serde_json::json!([]));
    s.ok(&ADD_ACCOUNT);
    let run = s.ok(&["sync"]);
    assert!(run.stderr.contains("can withdraw"), "{}", run.stderr);
}

#[test]
fn a_wrong_secret_is_a_clear_error_writes_nothing_and_no_secret_is_shown() {
    let sim = sim::start(config(60)).unwrap();
    let wrong = SimKey { secret: "a-secret-that-is-not-the-keys-secret-0123456789".into(), ..SimKey::demo() };
    let s = Synced::new(&sim, &wrong);
    assert_add_refused_for_wrong_secret(&s.sb, &ADD_ACCOUNT, &wrong.secret);

    // Added without the variables set, so without a check: it fails at sync with nothing written.
    assert_unchecked_wrong_secret_fails_at_sync(&s.sb, &ADD_ACCOUNT, &["SIM_KEY", "SIM_SECRET"], &wrong.secret);

    // The right key, verbose, with faults: no secret reaches the output or the ledger.
    let right = SimKey::demo();
    let faults = FaultConfig { rate_permille: 100, seed: 9, kinds: vec![FaultKind::ServerError, FaultKind::Truncated] };
    let sim = sim::start(SimConfig { faults: Some(faults), ..config(300) }).unwrap();
    let s = Synced::new(&sim, &right);
    s.ok(&ADD_ACCOUNT);
    let run = s.ok(&["-vv", "sync"]);
    for text in [&run.stdout, &run.stderr] {
        assert!(!text.contains(&right.secret));
        assert!(!text.contains("X-Auth-Signature"), "a signature header reached the output");
    }
    assert_ledger_holds_none(&s.sb, &[&right.secret]);
}

#[test]
fn an_unknown_type_is_kept_as_unknown_with_its_legs_and_never_stops_the_sync() {
    let sim = sim::start(config(200)).unwrap();
    let unknown_id = sim.insert(33, "sol", Decimal::new(15, 1));
    sim.add_trades(3);
    let s = Synced::new(&sim, &SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    let run = s.ok(&["--json", "sync"]).json();
    let account = &run["accounts"][0];
    assert_eq!(account["error"], serde_json::Value::Null, "{run}");
    assert_eq!(totals(&run, "unknown_records"), 1, "{run}");
    assert_eq!(account["balance_differences"], serde_json::json!([]), "{run}");
    assert_eq!(s.balances(), sim.balances());
    let unknown: Vec<serde_json::Value> = s.events().into_iter().filter(|e| e["kind"] == "unknown").collect();
    assert_eq!(unknown.len(), 1);
    assert_eq!(unknown[0]["external_id"], unknown_id.to_string());
}

/// One record of the simulator's history as an export row says it, in either layout.
struct ExportRow {
    id: u64,
    time_ms: i64,
    kind: &'static str,
    side: &'static str,
    amount: (Decimal, String),
    value: Option<(Decimal, String)>,
    rate: String,
    fee: Option<(Decimal, String)>,
    order_id: String,
}

/// The simulator's history as export rows.
fn export_rows(sim: &BitstampSim) -> Vec<ExportRow> {
    sim.transactions()
        .into_iter()
        .map(|t| {
            let (code, amount) = &t.amounts[0];
            let kind = match t.kind {
                0 => "Deposit",
                1 => "Withdrawal",
                2 => "Market",
                27 => "Staking reward",
                32 => "Referral reward",
                other => panic!("type {other} has no export row here"),
            };
            let side = match (t.kind, amount.is_sign_positive()) {
                (2, true) => "Buy",
                (2, false) => "Sell",
                _ => "",
            };
            ExportRow {
                id: t.id,
                time_ms: t.time_ms,
                kind,
                side,
                amount: (amount.abs(), code.to_uppercase()),
                value: t.amounts.get(1).map(|(quote, value)| (value.abs(), quote.to_uppercase())),
                rate: t.rate.as_ref().map(|(_, r)| r.to_string()).unwrap_or_default(),
                fee: (!t.fee.is_zero()).then(|| (t.fee, t.fee_currency.to_uppercase())),
                order_id: t.order_id.map(|id| id.to_string()).unwrap_or_default(),
            }
        })
        .collect()
}

/// The simulator's history written as Bitstamp's transaction export.
fn export_csv(sim: &BitstampSim) -> String {
    let mut csv = String::from(
        "ID,Account,Type,Subtype,Datetime,Amount,Amount currency,Value,Value currency,Rate,Rate currency,Fee,Fee currency,Order ID\n",
    );
    for row in export_rows(sim) {
        let time = chrono::DateTime::from_timestamp_millis(row.time_ms).unwrap().format("%Y-%m-%dT%H:%M:%S%.3fZ");
        let (value, value_currency) = row.value.map_or((String::new(), String::new()), |(v, c)| (v.to_string(), c));
        let (fee, fee_currency) = row.fee.map_or((String::new(), String::new()), |(f, c)| (f.to_string(), c));
        let rate_currency = if row.rate.is_empty() { String::new() } else { value_currency.clone() };
        csv.push_str(&format!(
            "{},Main Account,{},{},{time},{},{},{value},{value_currency},{},{rate_currency},{fee},{fee_currency},{}\n",
            row.id, row.kind, row.side, row.amount.0, row.amount.1, row.rate, row.order_id
        ));
    }
    csv
}

/// The simulator's history written as Bitstamp's older export: no ids, amounts with their
/// currency in one cell, times to the minute (`Jan. 02, 2024, 10:11 AM`).
fn legacy_export_csv(sim: &BitstampSim) -> String {
    let mut csv = String::from("Type,Datetime,Account,Amount,Value,Rate,Fee,Sub Type\n");
    let cell = |money: &Option<(Decimal, String)>| money.as_ref().map(|(v, c)| format!("{v} {c}")).unwrap_or_default();
    for row in export_rows(sim) {
        let time = chrono::DateTime::from_timestamp_millis(row.time_ms).unwrap().format("%b. %d, %Y, %I:%M %p");
        let rate =
            if row.rate.is_empty() { String::new() } else { format!("{} {}", row.rate, row.value.as_ref().unwrap().1) };
        csv.push_str(&format!(
            "{},\"{time}\",Main Account,{} {},{},{rate},{},{}\n",
            row.kind,
            row.amount.0,
            row.amount.1,
            cell(&row.value),
            cell(&row.fee),
            row.side
        ));
    }
    csv
}

#[test]
fn an_export_and_the_api_of_one_account_meet_instead_of_doubling() {
    let sim = sim::start(config(400)).unwrap();
    let s = Synced::new(&sim, &SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    let file = s.sb.path("bitstamp-transactions.csv");
    std::fs::write(&file, export_csv(&sim)).unwrap();
    s.ok(&["import", file.to_str().unwrap(), "--account", "main"]);
    let imported = s.events();
    assert_eq!(imported.len(), sim.transactions().len());
    assert_eq!(s.balances(), sim.balances());

    let run = s.ok(&["--json", "sync"]).json();
    assert_eq!(totals(&run, "new_records") as usize, sim.transactions().len() + sim.crypto_transactions().len());
    // The tx hashes of crypto-transactions reach the events the file made.
    assert_eq!(run["accounts"][0]["details_waiting"], serde_json::Value::Null, "{run}");
    assert_eq!(totals(&run, "new_events"), 0, "the API doubled events of the export: {run}");
    assert_eq!(run["accounts"][0]["balance_differences"], serde_json::json!([]), "{run}");
    assert_eq!(s.events().len(), imported.len());
    assert_eq!(s.balances(), sim.balances());
}

/// Bitstamp's older export has no ids and times to the minute: its rows are keyed by content,
/// and a sync of the same account meets them (same kind and legs, inside the row's minute)
/// instead of doubling; importing the file again adds nothing either.
#[test]
fn an_older_export_without_ids_and_the_api_of_one_account_meet_instead_of_doubling() {
    let sim = sim::start(config(300)).unwrap();
    let s = Synced::new(&sim, &SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    let file = s.sb.path("bitstamp-old.csv");
    std::fs::write(&file, legacy_export_csv(&sim)).unwrap();
    s.ok(&["import", file.to_str().unwrap(), "--account", "main"]);
    let imported = s.events();
    assert_eq!(imported.len(), sim.transactions().len());
    assert!(imported.iter().all(|e| e["external_id"].as_str().unwrap().starts_with("h:")), "content keys");
    assert_eq!(s.balances(), sim.balances());
    s.ok(&["import", file.to_str().unwrap(), "--account", "main"]);
    assert_eq!(s.events().len(), imported.len(), "the same file again adds nothing");

    let run = s.ok(&["--json", "sync"]).json();
    assert_eq!(totals(&run, "new_records") as usize, sim.transactions().len() + sim.crypto_transactions().len());
    // The tx hashes of crypto-transactions reach the events the file made.
    assert_eq!(run["accounts"][0]["details_waiting"], serde_json::Value::Null, "{run}");
    assert_eq!(totals(&run, "new_events"), 0, "the API doubled events of the older export: {run}");
    assert_eq!(run["accounts"][0]["balance_differences"], serde_json::json!([]), "{run}");
    assert_eq!(s.events().len(), imported.len());
    assert_eq!(s.balances(), sim.balances());
}

//! `cointally sync` against the OKX simulator: the trading and funding accounts' bills once,
//! Simple Earn Flexible's earnings once as interest, balances (Simple Earn included) equal
//! currency by currency; re-runs that fetch only what is new; faults and kills that change
//! nothing; the per-endpoint limits never tripped; keys refused with nothing written and no
//! secret (nor the passphrase) shown.

mod common;

use cointally_exchanges::okx::api::Budget;
use cointally_exchanges::okx::sim::history::OkxProfile;
use cointally_exchanges::okx::sim::{self, OkxSim, SimConfig, SimKey};
use cointally_exchanges::sim::faults::{FaultConfig, FaultKind};
use common::exchange::{
    Synced, assert_add_refused_for_wrong_secret, assert_ledger_holds_none, assert_unchecked_wrong_secret_fails_at_sync,
    events_after_kills, totals,
};
use rust_decimal::Decimal;

/// Adds the OKX account `main` whose key is in $SIM_KEY, $SIM_SECRET and $SIM_PASSPHRASE.
const ADD_ACCOUNT: [&str; 11] = [
    "account",
    "add",
    "okx",
    "--label",
    "main",
    "--key-env",
    "SIM_KEY",
    "--secret-env",
    "SIM_SECRET",
    "--passphrase-env",
    "SIM_PASSPHRASE",
];

const BILLS_PATH: &str = "/api/v5/account/bills-archive";
const ASSET_BILLS_PATH: &str = "/api/v5/asset/bills";
const DEPOSITS_PATH: &str = "/api/v5/asset/deposit-history";
const WITHDRAWALS_PATH: &str = "/api/v5/asset/withdrawal-history";
const LENDING_PATH: &str = "/api/v5/finance/savings/lending-history";

/// An unmetered simulator of about `bills` bills.
fn config(bills: usize) -> SimConfig {
    SimConfig { profile: OkxProfile { bills, ..OkxProfile::demo() }, metered: false, ..SimConfig::demo(21) }
}

/// Commands that reach the simulator, pacing for its limits.
impl Synced {
    fn new(sim: &OkxSim, key: &SimKey, budget: Option<Budget>) -> Synced {
        let base_url = sim.base_url();
        let mut vars = vec![
            ("SIM_KEY", key.api_key.as_str()),
            ("SIM_SECRET", &key.secret),
            ("SIM_PASSPHRASE", &key.passphrase),
            ("COINTALLY_OKX_BASE_URL", &base_url),
        ];
        let budget = budget.map(|budget| budget.render());
        if let Some(budget) = &budget {
            vars.push(("COINTALLY_OKX_BUDGET", budget));
        }
        Synced::with_env(&vars)
    }

    /// Unpaced: the simulator meters nothing.
    fn fast(sim: &OkxSim, key: &SimKey) -> Synced {
        Synced::new(sim, key, Some(Budget { limit: 1_000_000, window_seconds: 1 }))
    }
}

fn calls(sim: &OkxSim, path: &str) -> u64 {
    sim.stats().requests_by_path.get(path).copied().unwrap_or(0)
}

#[test]
fn a_full_sync_has_every_bill_once_and_the_balances_and_a_resync_asks_only_whats_new() {
    let sim = sim::start(config(700)).unwrap();
    let s = Synced::fast(&sim, &SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    let first = s.ok(&["--json", "sync"]).json();
    assert_eq!(first["accounts"][0]["error"], serde_json::Value::Null, "{first}");
    assert_eq!(first["accounts"][0]["balance_differences"], serde_json::json!([]), "{first}");
    assert_eq!(s.balances(), sim.balances());
    let served = sim.bills();
    let lending = sim.lending();
    assert!(!lending.is_empty());
    assert_eq!(totals(&first, "new_records") as usize, served.len() + sim.transfers().len() + lending.len());
    let events = s.events();
    assert_eq!(events.len(), served.len() + lending.len(), "a bill or an earning, one event each");
    let count = |kind: &str| events.iter().filter(|e| e["kind"] == kind).count();
    let typed = |kinds: &[&str]| served.iter().filter(|b| kinds.contains(&b.kind)).count();
    use cointally_exchanges::okx::sim::history::Book;
    let trades = served.iter().filter(|b| b.book == Book::Trading && b.kind == "2").count();
    assert_eq!(count("trade"), trades);
    assert_eq!(count("staking"), typed(&["139"]));
    assert_eq!(count("interest"), lending.len(), "each Simple Earn earning, once");
    assert_eq!(count("unknown"), 0);
    assert!(count("internal_transfer") > 0 && count("deposit") > 0 && count("withdrawal") > 0);
    // The first walk of each stream says how far back OKX's API reaches.
    let warnings = first["accounts"][0].to_string();
    assert!(warnings.contains("last 3 months") && warnings.contains("last month"), "{first}");
    assert!(warnings.contains("Simple Earn Flexible's earnings of the last month only"), "{first}");
    let paths = [BILLS_PATH, ASSET_BILLS_PATH, DEPOSITS_PATH, WITHDRAWALS_PATH, LENDING_PATH];
    let before: Vec<u64> = paths.iter().map(|path| calls(&sim, path)).collect();

    // Again: nothing new, and one call per stream only.
    let second = s.ok(&["--json", "sync"]).json();
    assert_eq!(totals(&second, "new_records"), 0, "{second}");
    let after: Vec<u64> = paths.iter().map(|path| calls(&sim, path)).collect();
    assert_eq!(after, before.iter().map(|n| n + 1).collect::<Vec<_>>());
    assert_eq!(s.events(), events);

    // New trades and a bill of a type cointally does not know: fetched, and only they; the
    // unknown one kept with its leg, never fatal.
    let before = sim.bills().len();
    let before_transfers = sim.transfers().len();
    assert_eq!(sim.add_trades(5), 5);
    let unknown_id = sim.insert("USDT", Decimal::new(75, 1), "9999");
    let third = s.ok(&["--json", "sync"]).json();
    assert_eq!(totals(&third, "new_records") as usize, sim.bills().len() - before, "{third}");
    assert_eq!(sim.transfers().len(), before_transfers, "no deposit or withdrawal was added");
    assert_eq!(totals(&third, "unknown_records"), 1, "{third}");
    assert_eq!(s.balances(), sim.balances());
    let unknown: Vec<serde_json::Value> = s.events().into_iter().filter(|e| e["kind"] == "unknown").collect();
    assert_eq!(unknown.len(), 1);
    assert_eq!(unknown[0]["external_id"], format!("fund-{unknown_id}"));

    let report = s.ok(&["--json", "renormalize"]).json();
    assert_eq!(report[0]["events_before"], report[0]["events_after"]);
}

#[test]
fn the_documented_limits_are_never_tripped() {
    // OKX's own limits (bills-archive 5 per 2 s): about 700 trading bills take more pages
    // than one window allows, and not one call is refused.
    let sim = sim::start(SimConfig { metered: true, ..config(1_000) }).unwrap();
    let s = Synced::new(&sim, &SimKey::demo(), None);
    s.ok(&ADD_ACCOUNT);
    let run = s.ok(&["--json", "sync"]).json();
    assert_eq!(run["accounts"][0]["balance_differences"], serde_json::json!([]), "{run}");
    assert!(calls(&sim, BILLS_PATH) > 5, "{} calls", calls(&sim, BILLS_PATH));
    assert_eq!(sim.stats().rate_limited, 0, "the limit was tripped");
    assert_eq!(s.balances(), sim.balances());
}

#[test]
fn faults_do_not_change_the_ledger() {
    let clean = sim::start(config(700)).unwrap();
    let reference = Synced::fast(&clean, &SimKey::demo());
    reference.ok(&ADD_ACCOUNT);
    reference.ok(&["sync", "--quiet"]);

    let faults = FaultConfig {
        rate_permille: 250,
        seed: 4,
        kinds: vec![FaultKind::ServerError, FaultKind::Truncated, FaultKind::TooManyRequests, FaultKind::Timeout],
    };
    let faulty = sim::start(SimConfig { faults: Some(faults), ..config(700) }).unwrap();
    let s = Synced::fast(&faulty, &SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    let run = s.ok(&["--json", "sync"]).json();
    assert!(faulty.stats().faults > 0, "no fault was injected");
    assert!(totals(&run, "retries") > 0, "no fault was met: {run}");
    assert!(!with_prefix(&reference.events(), "lend-").is_empty(), "the lending history was walked too");
    assert_eq!(s.events(), reference.events());
    assert_eq!(s.balances(), faulty.balances());
}

#[test]
fn a_killed_sync_resumes_to_the_same_ledger() {
    let clean = sim::start(config(1_000)).unwrap();
    let reference = Synced::fast(&clean, &SimKey::demo());
    reference.ok(&ADD_ACCOUNT);
    reference.ok(&["sync", "--quiet"]);
    let all = reference.events().len();

    // One call a second per endpoint: the walk of about seven trading pages takes six
    // seconds. The first kill strikes when the third trading page is asked (two stored), the
    // second when the resumed walk asks its second.
    let paced = Budget { limit: 1, window_seconds: 1 };
    let target = sim::start(SimConfig { budget: Some(paced), metered: true, ..config(1_000) }).unwrap();
    let s = Synced::new(&target, &SimKey::demo(), Some(paced));
    s.ok(&ADD_ACCOUNT);
    let partial = events_after_kills(&s.sb, &|| calls(&target, BILLS_PATH), &[3, 2]);
    // At least one kill struck in the middle of the walk: some pages stored, not all.
    assert!(partial.iter().any(|&n| n > 0 && n < all), "no kill struck mid-sync: {partial:?} of {all}");
    s.ok(&["sync", "--quiet"]);
    assert_eq!(s.events(), reference.events());
    assert_eq!(s.balances(), target.balances());
}

#[test]
fn a_key_that_may_withdraw_is_refused_unless_allowed() {
    let sim = sim::start(SimConfig { key_may_withdraw: true, ..config(40) }).unwrap();
    let s = Synced::fast(&sim, &SimKey::demo());
    let refused = s.run(&ADD_ACCOUNT);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("withdraw"), "{}", refused.stderr);
    assert_eq!(s.ok(&["--json", "account", "list"]).json(), serde_json::json!([]));
    let mut allowed = ADD_ACCOUNT.to_vec();
    allowed.push("--allow-withdraw-key");
    s.ok(&allowed);
    let run = s.ok(&["sync"]);
    assert!(run.stderr.contains("can withdraw"), "{}", run.stderr);
}

#[test]
fn a_key_without_its_passphrase_is_refused_before_anything_is_stored() {
    let sim = sim::start(config(40)).unwrap();
    let s = Synced::fast(&sim, &SimKey::demo());
    let without = s.run(&ADD_ACCOUNT[..9]);
    assert_eq!(without.code, 2, "{}", without.stderr);
    assert!(without.stderr.contains("--passphrase-env"), "{}", without.stderr);
    // At the prompt (here standard input): key, secret, passphrase, one a line.
    let key = SimKey::demo();
    let input = format!("{}\n{}\n{}\n", key.api_key, key.secret, key.passphrase);
    let added = s.sb.run_with_input(&["account", "add", "okx", "--label", "main"], &input);
    assert_eq!(added.code, 0, "{}", added.stderr);
    let stored = std::fs::read_to_string(s.sb.credentials()).unwrap();
    assert!(stored.contains("passphrase"), "the passphrase was not stored with the key");
    s.ok(&["sync", "--quiet"]);
    assert_eq!(s.balances(), sim.balances());
    // A key for an exchange whose keys have no passphrase does not take one.
    let refused = s.run(&[
        "account",
        "add",
        "bitfinex",
        "--label",
        "b",
        "--key-env",
        "K",
        "--secret-env",
        "S",
        "--passphrase-env",
        "P",
    ]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
}

#[test]
fn a_wrong_secret_or_passphrase_is_a_clear_error_writes_nothing_and_no_secret_is_shown() {
    let sim = sim::start(config(60)).unwrap();
    let wrong = SimKey { secret: "A-SECRET-THAT-IS-NOT-THE-KEYS-0123456789".into(), ..SimKey::demo() };
    let s = Synced::fast(&sim, &wrong);
    assert_add_refused_for_wrong_secret(&s.sb, &ADD_ACCOUNT, &wrong.secret);

    let bad_passphrase = SimKey { passphrase: "not-the-passphrase-4321".into(), ..SimKey::demo() };
    let p = Synced::fast(&sim, &bad_passphrase);
    let add = p.run(&ADD_ACCOUNT);
    assert_eq!(add.code, 3, "{}", add.stderr);
    assert!(add.stderr.contains("passphrase was refused"), "{}", add.stderr);
    assert!(!add.stderr.contains(&bad_passphrase.passphrase));

    // Added without the variables set, so without a check: it fails at sync with nothing written.
    assert_unchecked_wrong_secret_fails_at_sync(
        &s.sb,
        &ADD_ACCOUNT,
        &["SIM_KEY", "SIM_SECRET", "SIM_PASSPHRASE"],
        &wrong.secret,
    );

    // The right key, verbose, with faults: no secret reaches the output or the ledger.
    let right = SimKey::demo();
    let faults = FaultConfig { rate_permille: 100, seed: 9, kinds: vec![FaultKind::ServerError, FaultKind::Truncated] };
    let sim = sim::start(SimConfig { faults: Some(faults), ..config(300) }).unwrap();
    let s = Synced::fast(&sim, &right);
    s.ok(&ADD_ACCOUNT);
    let run = s.ok(&["-vv", "sync"]);
    for text in [&run.stdout, &run.stderr] {
        assert!(!text.contains(&right.secret));
        assert!(!text.contains(&right.passphrase), "the passphrase reached the output");
        assert!(!text.contains(&right.api_key), "the API key reached the output");
    }
    assert_ledger_holds_none(&s.sb, &[&right.secret, &right.api_key, &right.passphrase]);
}

/// The simulator's trading account bills written as OKX's bill archive CSV (no `type` column,
/// as documented; newest first).
fn archive_csv(sim: &OkxSim) -> String {
    use cointally_exchanges::okx::sim::history::Book;
    let mut csv = String::from("instType,billId,subType,ts,balChg,bal,sz,px,ccy,fee,instId\n");
    for bill in sim.bills().iter().rev().filter(|b| b.book == Book::Trading) {
        let sub_type = match (bill.kind, bill.sub_type, bill.change.is_sign_negative()) {
            ("2", sub, _) => sub,
            (_, _, true) => "12",
            _ => "11",
        };
        let px = if bill.px.is_zero() { String::new() } else { bill.px.normalize().to_string() };
        csv.push_str(&format!(
            "SPOT,{},{sub_type},{},{},{},{},{px},{},{},{}\n",
            bill.id,
            bill.ts,
            bill.change.normalize(),
            bill.balance.normalize(),
            bill.change.abs().normalize(),
            bill.ccy,
            bill.fee.normalize(),
            bill.inst_id
        ));
    }
    csv
}

#[test]
fn an_archive_and_the_api_of_one_account_meet_instead_of_doubling() {
    use cointally_exchanges::okx::sim::history::Book;
    let sim = sim::start(config(300)).unwrap();
    let s = Synced::fast(&sim, &SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    let file = s.sb.path("okx-bills-2025q4.csv");
    std::fs::write(&file, archive_csv(&sim)).unwrap();
    s.ok(&["import", file.to_str().unwrap(), "--account", "main"]);
    let trading = sim.bills().iter().filter(|b| b.book == Book::Trading).count();
    let imported = s.events();
    assert_eq!(imported.len(), trading);
    assert!(imported.iter().all(|e| e["kind"] != "unknown"), "every subtype of the file is known");

    let run = s.ok(&["--json", "sync"]).json();
    let earnings = sim.lending().len();
    assert_eq!(totals(&run, "new_records") as usize, sim.bills().len() + sim.transfers().len() + earnings);
    assert_eq!(
        totals(&run, "new_events") as usize,
        sim.bills().len() - trading + earnings,
        "the API doubled the archive: {run}"
    );
    assert_eq!(run["accounts"][0]["balance_differences"], serde_json::json!([]), "{run}");
    assert_eq!(s.events().len(), sim.bills().len() + earnings);
    assert_eq!(s.balances(), sim.balances());
}

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
fn deposits_and_withdrawals_carry_their_hash_address_and_chain_and_no_event_is_doubled() {
    let sim = sim::start(config(1_200)).unwrap();
    let listed = sim.transfers();
    assert!(listed.iter().filter(|t| t.withdrawal).count() > 5 && listed.iter().filter(|t| !t.withdrawal).count() > 5);
    // One withdrawal is still broadcasting at the first sync: passed over, asked again later.
    let late = listed.iter().rev().find(|t| t.withdrawal).unwrap().clone();
    sim.set_transfer_state(late.id, Some("1"));
    let s = Synced::fast(&sim, &SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    let first = s.ok(&["--json", "sync"]).json();
    assert_eq!(first["accounts"][0]["error"], serde_json::Value::Null, "{first}");
    assert_eq!(first["accounts"][0]["details_waiting"], serde_json::Value::Null, "every detail met its event: {first}");
    assert_eq!(s.balances(), sim.balances());
    assert_eq!(
        s.events().len(),
        sim.bills().len() + sim.lending().len(),
        "the deposit and withdrawal histories made no event of their own"
    );
    assert!(first.to_string().contains("withdrawal of"), "the pending withdrawal is named: {first}");

    let check = |stored: &[Transfer], pending: Option<u64>| {
        for t in &listed {
            let event = stored
                .iter()
                .find(|e| e.0 == format!("fund-{}", t.bill_id))
                .unwrap_or_else(|| panic!("no event for bill {}", t.bill_id));
            assert_eq!(event.1, if t.withdrawal { "withdrawal" } else { "deposit" });
            if Some(t.id) == pending {
                assert_eq!(event.2, None, "a withdrawal on its way has no hash yet");
                continue;
            }
            assert_eq!(event.2.as_deref(), Some(t.tx_id.as_str()), "{t:?}");
            assert_eq!(event.3.as_deref(), Some(t.address.as_str()), "{t:?}");
            assert_eq!(event.4.as_deref(), Some(t.chain.as_str()), "{t:?}");
        }
        // Only crypto deposits and withdrawals have a hash (EUR deposits are fiat kinds).
        let hashed = stored.iter().filter(|e| e.2.is_some()).count();
        assert_eq!(hashed, listed.len() - usize::from(pending.is_some()));
    };
    check(&transfers(&s), Some(late.id));

    // It went out: the next sync asks for it by its id and gives its event the hash, once.
    sim.set_transfer_state(late.id, None);
    let events = s.events().len();
    let second = s.ok(&["--json", "sync"]).json();
    assert_eq!(second["accounts"][0]["details_waiting"], serde_json::Value::Null, "{second}");
    check(&transfers(&s), None);
    assert_eq!(s.events().len(), events);
    let calls_now = calls(&sim, WITHDRAWALS_PATH);
    s.ok(&["sync", "--quiet"]);
    assert_eq!(calls(&sim, WITHDRAWALS_PATH), calls_now + 1, "nothing pending: one call for the history");

    // renormalize rebuilds the events and attaches the details again.
    let with_hashes = transfers(&s);
    let report = s.ok(&["--json", "renormalize"]).json();
    assert_eq!(report[0]["events_before"], report[0]["events_after"]);
    assert_eq!(transfers(&s), with_hashes);

    // A wallet's deposit of the same hash is the other half of the OKX withdrawal.
    let out = listed.iter().find(|t| t.withdrawal).unwrap();
    let csv = format!(
        "time,kind,received_amount,received_asset,tx_hash\n{},deposit,{},{},{}\n",
        chrono::DateTime::from_timestamp_millis(out.ts + 3_600_000).unwrap().to_rfc3339(),
        out.amount,
        out.ccy,
        out.tx_id.to_uppercase()
    );
    std::fs::write(s.sb.path("wallet.csv"), csv).unwrap();
    s.ok(&["account", "add", "wallet", "--label", "cold"]);
    s.ok(&["import", s.sb.path("wallet.csv").to_str().unwrap(), "--account", "cold"]);
    let matched = s.ok(&["--json", "transfers"]).json();
    let by_hash: Vec<&serde_json::Value> = matched["matched"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["method"] == "tx_hash" && m["deposit"]["account"] == "cold")
        .collect();
    assert_eq!(by_hash.len(), 1, "{matched}");
    assert_eq!(by_hash[0]["withdrawal"]["account"], "main");
}

/// The account's events of `prefix` (`lend-`: Simple Earn earnings).
fn with_prefix(events: &[serde_json::Value], prefix: &str) -> Vec<serde_json::Value> {
    events.iter().filter(|e| e["external_id"].as_str().unwrap_or_default().starts_with(prefix)).cloned().collect()
}

/// The amounts of an event's legs.
fn leg_amounts(event: &serde_json::Value) -> Vec<Decimal> {
    event["legs"].as_array().unwrap().iter().map(|leg| leg["amount"].as_str().unwrap().parse().unwrap()).collect()
}

/// Asserts that every Simple Earn Flexible subscription and redemption (funding bills 75, 76)
/// moves its amount out of one place and into the other: two legs that add up to zero.
fn assert_earn_bills_net_to_zero(s: &Synced, sim: &OkxSim) -> usize {
    use cointally_exchanges::okx::sim::history::Book;
    let events = s.events();
    let mut seen = 0;
    for bill in sim.bills().iter().filter(|b| b.book == Book::Funding && (b.kind == "75" || b.kind == "76")) {
        let event = events.iter().find(|e| e["external_id"] == format!("fund-{}", bill.id)).unwrap();
        assert_eq!(event["kind"], "internal_transfer", "{event}");
        let amounts = leg_amounts(event);
        assert_eq!(amounts.len(), 2, "{event}");
        assert_eq!(amounts.iter().sum::<Decimal>(), Decimal::ZERO, "{event}");
        assert_eq!(amounts.iter().map(|a| a.abs()).max().unwrap(), bill.change.abs(), "{event}");
        seen += 1;
    }
    seen
}

#[test]
fn simple_earn_earnings_are_interest_once_and_its_position_is_in_the_balances() {
    let sim = sim::start(config(300)).unwrap();
    // A position open at the sync (earning its hours), besides those the history opened and closed.
    for ccy in sim.savings().keys() {
        sim.redeem(ccy).unwrap();
    }
    let amount = [Decimal::from(100), Decimal::from(10), Decimal::ONE]
        .into_iter()
        .find(|amount| sim.subscribe("USDT", *amount, 30).is_some())
        .expect("the funding account holds 1 USDT");
    let s = Synced::fast(&sim, &SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    let first = s.ok(&["--json", "sync"]).json();
    assert_eq!(first["accounts"][0]["error"], serde_json::Value::Null, "{first}");
    // OKX's balances hold the position (its earnings in it); the ledger's equal them.
    assert_eq!(first["accounts"][0]["balance_differences"], serde_json::json!([]), "{first}");
    let position = sim.savings()["USDT"].amt;
    assert!(position > amount, "it earned: {position}");
    assert_eq!(s.balances(), sim.balances());

    // Each earning is an interest event of its earnings, at its hour, keyed by currency and hour.
    let lending = sim.lending();
    let earned = with_prefix(&s.events(), "lend-");
    assert_eq!(earned.len(), lending.len());
    for e in &lending {
        let event = earned.iter().find(|ev| ev["external_id"] == format!("lend-{}-{}", e.ccy, e.ts)).unwrap();
        assert_eq!(event["kind"], "interest", "{event}");
        assert_eq!(leg_amounts(event), vec![e.earnings], "{event}");
        let at = chrono::DateTime::parse_from_rfc3339(event["time"].as_str().unwrap()).unwrap();
        assert_eq!(at.timestamp_millis(), e.ts, "{event}");
    }
    let transfers = assert_earn_bills_net_to_zero(&s, &sim);
    assert!(transfers >= 3, "{transfers} subscriptions and redemptions");

    // The redemption brings principal and earnings back: no new income, the same total.
    let interest_before: Decimal = earned.iter().flat_map(leg_amounts).sum();
    let (redemption, back) = sim.redeem("USDT").unwrap();
    assert_eq!(back, position);
    let second = s.ok(&["--json", "sync"]).json();
    assert_eq!(second["accounts"][0]["balance_differences"], serde_json::json!([]), "{second}");
    assert_eq!(totals(&second, "new_events"), 1, "the redemption bill only: {second}");
    assert_eq!(s.balances(), sim.balances());
    let events = s.events();
    let redeemed = events.iter().find(|e| e["external_id"] == format!("fund-{redemption}")).unwrap();
    assert_eq!(leg_amounts(redeemed), vec![-back, back], "{redeemed}");
    let interest_after: Decimal = with_prefix(&events, "lend-").iter().flat_map(leg_amounts).sum();
    assert_eq!(interest_after, interest_before, "the redemption counted no earning again");
    assert_earn_bills_net_to_zero(&s, &sim);
}

#[test]
fn simple_earn_interest_is_income_at_its_value_when_earned() {
    let sim = sim::start(config(300)).unwrap();
    let s = Synced::fast(&sim, &SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    s.ok(&["sync", "--quiet"]);
    // A price for every day an earning fell on: USDT at 1.25 USD, ETH at 2,000 USD.
    let lending = sim.lending();
    let day = |ms: i64| chrono::DateTime::from_timestamp_millis(ms).unwrap().format("%Y-%m-%d").to_string();
    let mut csv = String::from("time,asset,currency,price\n");
    let days: std::collections::BTreeSet<(String, String)> =
        lending.iter().map(|e| (day(e.ts), e.ccy.clone())).collect();
    let price = |ccy: &str| if ccy == "USDT" { Decimal::new(125, 2) } else { Decimal::from(2_000) };
    for (date, ccy) in &days {
        csv.push_str(&format!("{date},{ccy},USD,{}\n", price(ccy)));
    }
    std::fs::write(s.sb.path("prices.csv"), csv).unwrap();
    s.ok(&["prices", "import", s.sb.path("prices.csv").to_str().unwrap()]);
    // The trades' legs stay unpriced (exit 1, listed): only the earnings matter here.
    let priced = s.run(&["prices", "--offline"]);
    assert!(priced.stderr.contains("legs still have no value"), "{}", priced.stderr);
    let years: std::collections::BTreeSet<String> = lending.iter().map(|e| day(e.ts)[..4].to_owned()).collect();
    assert!(!years.is_empty());
    for year in years {
        // Each earning is an income row at its value then; the year's income is rounded once
        // and its cents spread over the rows, so the interest is its exact sum to the cent
        // (within one cent: the spread's cents go to the rows with the largest remainders,
        // of whichever kind).
        let cents =
            |value: Decimal| value.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
        let exact: Decimal = lending
            .iter()
            .filter(|e| day(e.ts).starts_with(&year))
            .map(|e| e.earnings * price(&e.ccy))
            .sum::<Decimal>();
        let report = s.run(&["--json", "report", "--year", &year, "--allow-missing-prices"]);
        let r: serde_json::Value =
            serde_json::from_str(&report.stdout).unwrap_or_else(|e| panic!("{e}: {}", report.stderr));
        let interest: Decimal = r["income_by_kind"]["interest"].as_str().unwrap_or("0").parse().unwrap();
        assert!(
            (interest - cents(exact)).abs() <= Decimal::new(1, 2),
            "{year}: exact {exact}, {}",
            r["income_by_kind"]
        );
        assert!(interest > Decimal::ZERO, "{year}");
    }
}

#[test]
fn a_sync_killed_in_the_lending_history_resumes_to_the_same_ledger() {
    // Few bills, many earnings: a position earning 700 hours is 7 pages of the lending history.
    let make = |budget: Option<Budget>| {
        let sim = sim::start(SimConfig { budget, metered: budget.is_some(), ..config(60) }).unwrap();
        for ccy in sim.savings().keys() {
            sim.redeem(ccy).unwrap();
        }
        let amount = [Decimal::from(100), Decimal::from(10), Decimal::ONE]
            .into_iter()
            .find(|amount| sim.subscribe("USDT", *amount, 700).is_some())
            .expect("the funding account holds 1 USDT");
        (sim, amount)
    };
    let (clean, _) = make(None);
    let reference = Synced::fast(&clean, &SimKey::demo());
    reference.ok(&ADD_ACCOUNT);
    reference.ok(&["sync", "--quiet"]);
    let all = with_prefix(&reference.events(), "lend-").len();
    assert!(all > 600, "{all} earnings");

    // A kill when the fourth of the lending history's seven pages has been served (whatever
    // the build's speed): three stored, and the walk goes on from there.
    let (target, _) = make(None);
    let s = Synced::fast(&target, &SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    let running = common::kill_after_requests(s.sb.command(&["--quiet", "sync"]), &|| calls(&target, LENDING_PATH), 4);
    assert!(running, "the sync was still running when killed");
    let partial = with_prefix(&s.events(), "lend-").len();
    assert!(partial > 0 && partial < all, "the kill struck mid-walk: {partial} of {all}");
    let before = calls(&target, LENDING_PATH);
    let run = s.ok(&["--json", "sync"]).json();
    assert_eq!(run["accounts"][0]["balance_differences"], serde_json::json!([]), "{run}");
    assert_eq!(s.events(), reference.events());
    assert_eq!(s.balances(), target.balances());
    // The walk resumed where it was: the lending history was not asked from its top again (its
    // pages hold 100 earnings; the page at the cursor may be asked again).
    let (pages, stored_pages) = (all.div_ceil(100) as u64, (partial / 100) as u64);
    let resumed = calls(&target, LENDING_PATH) - before;
    assert!(resumed <= pages - stored_pages + 1, "{resumed} calls after {stored_pages} of {pages} pages were stored");
}

#[test]
fn an_old_ledger_renormalized_gets_the_two_sided_simple_earn_transfers() {
    let sim = sim::start(config(300)).unwrap();
    let s = Synced::fast(&sim, &SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    s.ok(&["sync", "--quiet"]);
    let events = s.events();
    // A ledger synced before this version: the subscription and redemption events had the
    // funding account's leg only.
    let conn = rusqlite::Connection::open(s.sb.ledger()).unwrap();
    let mut dropped = 0;
    for (kind, role) in [("75", "received"), ("76", "sent")] {
        dropped += conn
            .execute(
                "DELETE FROM legs WHERE role = ?2 AND event_id IN \
                 (SELECT id FROM events WHERE note LIKE 'OKX funding account bill type ' || ?1 || ' %')",
                [kind, role],
            )
            .unwrap();
    }
    drop(conn);
    assert!(dropped >= 3, "{dropped} legs");
    assert_ne!(s.events(), events);
    let report = s.ok(&["--json", "renormalize"]).json();
    assert_eq!(report[0]["events_before"], report[0]["events_after"]);
    assert_eq!(s.events(), events);
    assert_earn_bills_net_to_zero(&s, &sim);
    assert_eq!(s.balances(), sim.balances());
}

#[test]
fn an_account_okx_gives_no_simple_earn_syncs_without_it_and_says_why() {
    // A sub-account: no Simple Earn in its history, and OKX refuses both endpoints (`51735`).
    let profile = OkxProfile { bills: 200, earn_hours: 0, ..OkxProfile::demo() };
    let sim = sim::start(SimConfig { profile, savings_refused: Some("51735"), ..config(200) }).unwrap();
    assert!(sim.lending().is_empty());
    let s = Synced::fast(&sim, &SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    let run = s.ok(&["--json", "sync"]).json();
    assert_eq!(run["accounts"][0]["error"], serde_json::Value::Null, "{run}");
    assert_eq!(run["accounts"][0]["balance_differences"], serde_json::json!([]), "{run}");
    assert!(
        run.to_string().contains("OKX would not give this account's Simple Earn Flexible (OKX said: 51735"),
        "{run}"
    );
    assert_eq!(s.balances(), sim.balances());
    assert_eq!(s.events().len(), sim.bills().len());
    // Asked again at the next sync (OKX may give it later), still without harm.
    let asked = calls(&sim, LENDING_PATH);
    s.ok(&["sync", "--quiet"]);
    assert_eq!(calls(&sim, LENDING_PATH), asked + 1);
}

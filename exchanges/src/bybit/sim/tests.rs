//! The simulator against the real client code: every record once, balances that add up.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use rust_decimal::Decimal;

use super::*;
use crate::adapter::{Adapter, SyncPlan};
use crate::bybit::adapter::BybitAdapter;
use crate::bybit::api::BybitApi;
use crate::bybit::normalize::normalize;
use crate::http::{ClientConfig, Clock, SystemClock};

fn adapter(sim: &BybitSim, key: &SimKey) -> BybitAdapter {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let limiter = BybitApi::new_limiter(Arc::clone(&clock), Budget { limit: 1_000_000, window_seconds: 1 });
    let config = ClientConfig::for_tests(Duration::from_secs(2), 4);
    let api = BybitApi::new(
        Some(&sim.base_url()),
        Secret::new(key.api_key.clone()),
        Secret::new(key.secret.clone()),
        "main",
        limiter,
        config,
        clock,
    )
    .unwrap();
    BybitAdapter::new(api)
}

#[test]
fn a_walk_of_every_stream_gets_every_record_once_and_the_legs_sum_to_both_wallets() {
    let sim = start(SimConfig { budget: None, ..SimConfig::recent(5, 900) }).unwrap();
    let adapter = adapter(&sim, &SimKey::demo());
    let plan = SyncPlan { full: false, since_ms: None };
    let mut sums: BTreeMap<String, Decimal> = BTreeMap::new();
    let mut events = 0;
    let mut pages = 0;
    for stream in adapter.streams(&Default::default(), &plan).unwrap() {
        let mut cursor = adapter.start(&stream, None, &plan).unwrap();
        let mut ids = std::collections::BTreeSet::new();
        loop {
            let page = adapter.fetch_page(&stream, &cursor).unwrap();
            pages += 1;
            for record in &page.records {
                assert!(ids.insert(record.external_id.clone()), "{stream}: {} twice", record.external_id);
                for event in normalize(&stream, record).unwrap() {
                    assert_ne!(event.kind, crate::EventKind::Unknown, "{event:?}");
                    events += 1;
                    for leg in event.legs {
                        *sums.entry(leg.asset).or_default() += leg.amount;
                    }
                }
            }
            cursor = page.cursor;
            if page.done {
                break;
            }
        }
    }
    assert_eq!(events, sim.event_count());
    assert!(sim.conversions().len() > 3, "{} conversions", sim.conversions().len());
    // Earn in both categories, from both wallets, and positions counted in the balances.
    let orders = sim.earn_orders();
    for (category, wallet) in [("FlexibleSaving", "FUND"), ("FlexibleSaving", "UNIFIED"), ("OnChain", "FUND")] {
        assert!(orders.iter().any(|o| o.category == category && o.wallet == wallet), "no {category} from {wallet}");
    }
    assert!(!sim.earn_yields().is_empty() && !sim.earn_positions().is_empty());
    assert!(pages > 100, "{pages} pages: two years of 7-day windows");
    sums.retain(|_, amount| !amount.is_zero());
    let sums: BTreeMap<String, Decimal> = sums.into_iter().map(|(k, v)| (k, v.normalize())).collect();
    assert_eq!(sums, sim.balances());
    let reported: BTreeMap<String, Decimal> =
        adapter.balances().unwrap().into_iter().map(|b| (b.asset, b.amount)).collect();
    assert_eq!(reported, sim.balances());
}

#[test]
fn a_wrong_secret_and_the_rate_limit_get_bybits_answers() {
    let sim =
        start(SimConfig { budget: Some(Budget { limit: 2, window_seconds: 60 }), ..SimConfig::recent(5, 20) }).unwrap();
    let wrong = SimKey { secret: "not-the-secret".into(), ..SimKey::demo() };
    let error = adapter(&sim, &wrong).key_permissions().unwrap_err();
    assert!(error.to_string().contains("does not belong to this API key"), "{error}");
    let right = adapter(&sim, &SimKey::demo());
    assert!(!right.key_permissions().unwrap().may_withdraw());
    right.key_permissions().unwrap();
    // The third call in a minute is over the budget of 2: Bybit's 10006, retried until the
    // client gives up (its test config allows few attempts).
    assert!(right.key_permissions().is_err());
    assert!(sim.stats().rate_limited >= 1);
}

/// Walks every stream of `adapter` to its end: (events, the sum of their legs per asset).
fn walk_all(adapter: &BybitAdapter) -> (Vec<crate::NewEvent>, BTreeMap<String, Decimal>) {
    let plan = SyncPlan { full: false, since_ms: None };
    let (mut events, mut sums) = (Vec::new(), BTreeMap::<String, Decimal>::new());
    for stream in adapter.streams(&Default::default(), &plan).unwrap() {
        let mut cursor = adapter.start(&stream, None, &plan).unwrap();
        let mut ids = std::collections::BTreeSet::new();
        loop {
            let page = adapter.fetch_page(&stream, &cursor).unwrap();
            for record in &page.records {
                assert!(ids.insert(record.external_id.clone()), "{stream}: {} twice", record.external_id);
                for event in normalize(&stream, record).unwrap() {
                    for leg in &event.legs {
                        *sums.entry(leg.asset.clone()).or_default() += leg.amount;
                    }
                    events.push(event);
                }
            }
            cursor = page.cursor;
            if page.done {
                break;
            }
        }
    }
    let sums = sums.into_iter().filter(|(_, v)| !v.is_zero()).map(|(k, v)| (k, v.normalize())).collect();
    (events, sums)
}

#[test]
fn a_classic_accounts_spot_fills_are_walked_as_trades_and_its_spot_wallet_is_in_the_balances() {
    let sim = start(SimConfig { budget: None, unified: false, ..SimConfig::recent(5, 900) }).unwrap();
    assert!(sim.log().is_empty(), "a classic account has no transaction log");
    let fills = sim.fills();
    assert!(fills.len() > 200, "{} fills", fills.len());
    let adapter = adapter(&sim, &SimKey::demo());
    let (events, sums) = walk_all(&adapter);
    assert_eq!(events.len(), sim.event_count());
    let trades: Vec<&crate::NewEvent> = events.iter().filter(|e| e.external_id.starts_with("exec-")).collect();
    assert_eq!(trades.len(), fills.len());
    // Each fill: one trade with both legs and its fee leg.
    assert!(trades.iter().all(|e| e.kind == crate::EventKind::Trade && e.legs.len() == 3), "{:?}", trades[0]);
    assert!(events.iter().all(|e| e.kind != crate::EventKind::Unknown));
    assert_eq!(sums, sim.balances());
    let reported: BTreeMap<String, Decimal> =
        adapter.balances().unwrap().into_iter().map(|b| (b.asset, b.amount)).collect();
    assert_eq!(reported, sim.balances());
    // The spot wallet holds something: the balance check would miss it without `SPOT`.
    assert!(sim.stats().requests_by_path.contains_key("/v5/execution/list"));
    assert!(!sim.stats().requests_by_path.contains_key("/v5/account/transaction-log"));
}

#[test]
fn a_classic_account_walks_executions_not_the_log_and_is_warned_and_a_withdraw_key_is_seen() {
    let sim =
        start(SimConfig { budget: None, unified: false, key_may_withdraw: true, ..SimConfig::recent(5, 20) }).unwrap();
    let adapter = adapter(&sim, &SimKey::demo());
    let permissions = adapter.key_permissions().unwrap();
    assert_eq!(permissions.can_withdraw, Some(true));
    assert!(permissions.details.iter().any(|d| d.contains("Withdraw")), "{:?}", permissions.details);
    let plan = SyncPlan { full: false, since_ms: None };
    let streams: Vec<String> =
        adapter.streams(&Default::default(), &plan).unwrap().into_iter().map(|s| s.source()).collect();
    assert_eq!(
        streams,
        [
            "api:executions",
            "api:deposits",
            "api:withdrawals",
            "api:transfers",
            "api:converts",
            "api:earn-orders:FlexibleSaving",
            "api:earn-orders:OnChain",
            "api:earn-yields:FlexibleSaving",
            "api:earn-yields:OnChain"
        ]
    );
    let warnings = adapter.closing_warnings(&Default::default(), &Default::default());
    assert!(warnings.iter().any(|(_, text)| text.contains("classic")), "{warnings:?}");
    assert!(warnings.iter().any(|(_, text)| text.contains("two years")), "{warnings:?}");
}

#[test]
fn the_demo_account_is_the_same_on_every_run_whatever_the_clock_says() {
    // A second `cointally demo` on one ledger met another account when the demo's history
    // started at "now less 700 days" (4 balance mismatches): two starts a moment apart must
    // serve the very same records, all of them in 2025.
    let demo = || start(SimConfig { profile: BybitProfile::demo(), budget: None, ..SimConfig::recent(1, 0) }).unwrap();
    let first = demo();
    std::thread::sleep(Duration::from_millis(20));
    let second = demo();
    assert_eq!(first.log(), second.log());
    assert_eq!(first.movements(), second.movements());
    assert_eq!(first.balances(), second.balances());
    let (from, to) = (1_735_689_600_000_i64, 1_767_225_600_000_i64);
    assert!(first.log().len() > 100, "{} log entries", first.log().len());
    assert!(first.log().iter().all(|e| (from..to).contains(&e.time_ms)));
    assert!(first.movements().iter().all(|m| (from..to).contains(&m.time_ms)));
}

#[test]
fn the_conversions_walk_resumes_at_its_stored_page_and_a_full_sync_starts_it_anew() {
    // A busy 45 days: more than a page of conversions.
    let now = crate::sim::now_ms();
    let profile = BybitProfile { start_ms: now - 45 * DAY_MS, end_ms: now - 3_600_000, records: 6_000 };
    let sim = start(SimConfig { profile, budget: None, ..SimConfig::recent(5, 0) }).unwrap();
    let expected: std::collections::BTreeSet<String> = sim.conversions().into_iter().map(|c| c.id).collect();
    assert!(expected.len() > 60, "{} conversions", expected.len());
    let adapter = adapter(&sim, &SimKey::demo());
    let plan = SyncPlan { full: false, since_ms: None };
    let stream = crate::adapter::Stream::new(crate::bybit::normalize::CONVERTS, "");
    let first = adapter.fetch_page(&stream, &adapter.start(&stream, None, &plan).unwrap()).unwrap();
    assert!(!first.done && first.records.len() == 50);
    // Killed after the first page: the next run starts at the second.
    let resumed = adapter.start(&stream, Some(&first.cursor), &plan).unwrap();
    assert_eq!(resumed, first.cursor);
    let mut seen: std::collections::BTreeSet<String> = first.records.iter().map(|r| r.external_id.clone()).collect();
    let mut cursor = resumed;
    loop {
        let page = adapter.fetch_page(&stream, &cursor).unwrap();
        for record in &page.records {
            assert!(seen.insert(record.external_id.clone()), "{} twice", record.external_id);
        }
        cursor = page.cursor;
        if page.done {
            break;
        }
    }
    assert_eq!(seen, expected);
    // A finished walk, or `--full`, starts again at the first page.
    let again = adapter.start(&stream, Some(&cursor), &plan).unwrap();
    let full = adapter.start(&stream, Some(&first.cursor), &SyncPlan { full: true, since_ms: None }).unwrap();
    assert_eq!(again, full);
    assert_eq!(adapter.fetch_page(&stream, &full).unwrap().records, first.records);
}

#[test]
fn without_the_earn_permission_the_earn_streams_end_at_once_and_one_warning_says_why() {
    let sim = start(SimConfig { budget: None, earn_permission: false, ..SimConfig::recent(5, 300) }).unwrap();
    assert!(!sim.earn_orders().is_empty());
    let adapter = adapter(&sim, &SimKey::demo());
    // The key check does not demand Earn.
    assert_eq!(adapter.key_permissions().unwrap().can_withdraw, Some(false));
    let plan = SyncPlan { full: false, since_ms: None };
    for stream in adapter.streams(&Default::default(), &plan).unwrap() {
        if !stream.endpoint.starts_with("earn-") {
            continue;
        }
        let cursor = adapter.start(&stream, None, &plan).unwrap();
        let page = adapter.fetch_page(&stream, &cursor).unwrap();
        assert!(page.done && page.records.is_empty(), "{stream}");
        // The cursor stays where it was: a key given the permission later walks it all.
        assert_eq!(page.cursor, cursor, "{stream}");
    }
    // The balances leave Earn positions out instead of failing.
    let reported: BTreeMap<String, Decimal> =
        adapter.balances().unwrap().into_iter().map(|b| (b.asset, b.amount)).collect();
    assert!(!reported.is_empty());
    let warnings = adapter.closing_warnings(&Default::default(), &Default::default());
    let earn: Vec<_> = warnings.iter().filter(|(_, text)| text.contains("Earn permission")).collect();
    assert_eq!(earn.len(), 1, "{warnings:?}");
}

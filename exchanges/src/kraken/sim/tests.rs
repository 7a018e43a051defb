//! The Kraken simulator against the real client and adapter.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::*;
use crate::adapter::{Adapter, Known, RawRecord, Stream, SyncPlan};
use crate::http::{ClientConfig, Clock, SystemClock};
use crate::kraken::adapter::KrakenAdapter;
use crate::kraken::api::KrakenApi;
use crate::kraken::assets::canonical_asset;

fn small(entries: usize) -> SimConfig {
    SimConfig { profile: KrakenProfile { entries, ..KrakenProfile::demo() }, ..SimConfig::demo(5) }
}

fn adapter(sim: &KrakenSim, key: &SimKey) -> KrakenAdapter {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    // Two calls of headroom under the simulator's counter: on a loaded machine a call can wait
    // between the limiter and the socket, so two calls can arrive closer than they left.
    let tier = sim.client_tier().map_or(Tier::PRO, |t| Tier { capacity: t.capacity.saturating_sub(2), ..t });
    let limiter = KrakenApi::new_limiter(Arc::clone(&clock), tier);
    let config = ClientConfig::from_vars(|name| (name == "COINTALLY_HTTP_FAST").then(|| "1".to_string()));
    let api = KrakenApi::new(
        Some(&sim.base_url()),
        Secret::new(key.api_key.clone()),
        Secret::new(key.secret.clone()),
        "main",
        limiter,
        config,
        clock,
    )
    .unwrap();
    KrakenAdapter::new(api)
}

/// Walks the ledger from `cursor` to its end; returns the records and the final cursor.
fn walk(adapter: &KrakenAdapter, cursor: String) -> (Vec<RawRecord>, String) {
    let stream = Stream::new("Ledgers", "");
    let mut cursor = cursor;
    let mut records = Vec::new();
    loop {
        let page = adapter.fetch_page(&stream, &cursor).unwrap();
        records.extend(page.records);
        cursor = page.cursor;
        if page.done {
            return (records, cursor);
        }
    }
}

fn start(adapter: &KrakenAdapter, stored: Option<&str>) -> String {
    adapter.start(&Stream::new("Ledgers", ""), stored, &SyncPlan { full: false, since_ms: None }).unwrap()
}

/// Ledger id → how many times it was stored, across single and trade records.
fn ledger_ids(records: &[RawRecord]) -> BTreeMap<String, usize> {
    let mut ids = BTreeMap::new();
    for record in records {
        let value: serde_json::Value = serde_json::from_str(&record.payload).unwrap();
        match value.get("ledger") {
            Some(entries) => {
                for id in entries.as_object().unwrap().keys() {
                    *ids.entry(id.clone()).or_insert(0) += 1;
                }
            }
            None => *ids.entry(record.external_id.clone()).or_insert(0) += 1,
        }
    }
    ids
}

#[test]
fn a_full_walk_stores_every_entry_once_pairs_trades_and_balances_match() {
    let sim = start_sim(small(400));
    let adapter = adapter(&sim, &SimKey::demo());
    let (records, _) = walk(&adapter, start(&adapter, None));
    let ids = ledger_ids(&records);
    let served: BTreeSet<String> = sim.entries().iter().map(|e| e.id.clone()).collect();
    assert_eq!(ids.keys().cloned().collect::<BTreeSet<_>>(), served);
    assert!(ids.values().all(|n| *n == 1), "an entry stored twice");

    // Each fill is one record with both its entries and its TradesHistory row.
    let fills: BTreeSet<String> = sim.fills().iter().map(|f| f.txid.clone()).collect();
    let mut events = Vec::new();
    for record in &records {
        let value: serde_json::Value = serde_json::from_str(&record.payload).unwrap();
        if fills.contains(&record.external_id) {
            assert_eq!(value["ledger"].as_object().unwrap().len(), 2, "{}", record.payload);
            assert!(value["trade"]["pair"].is_string(), "{}", record.payload);
        }
        events.extend(crate::kraken::normalize::normalize(&Stream::new("Ledgers", ""), record).unwrap());
    }
    // The legs of all events are the simulator's balances, staking variants included.
    let mut legs: BTreeMap<String, Decimal> = BTreeMap::new();
    for event in &events {
        for leg in &event.legs {
            *legs.entry(leg.asset.clone()).or_default() += leg.amount;
        }
    }
    let mut expected: BTreeMap<String, Decimal> = BTreeMap::new();
    for (code, amount) in sim.balances() {
        *expected.entry(canonical_asset(&code).unwrap()).or_default() += amount;
    }
    legs.retain(|_, v| !v.is_zero());
    assert_eq!(legs, expected);
    let mut reported: BTreeMap<String, Decimal> = BTreeMap::new();
    for balance in adapter.balances().unwrap() {
        *reported.entry(balance.asset).or_default() += balance.amount;
    }
    assert_eq!(reported, expected);
    assert_eq!(sim.stats().counter.rate_limited, 0);
}

fn start_sim(config: SimConfig) -> KrakenSim {
    super::start(config).unwrap()
}

#[test]
fn entries_arriving_mid_walk_are_neither_skipped_nor_doubled() {
    let sim = start_sim(small(500));
    let before: BTreeSet<String> = sim.entries().iter().map(|e| e.id.clone()).collect();
    // Twenty fills (forty entries) arrive after the second Ledgers answer: offsets below
    // would shift by forty if the walk were not anchored.
    sim.insert_after_ledger_calls(2, 20);
    let adapter = adapter(&sim, &SimKey::demo());
    let (records, cursor) = walk(&adapter, start(&adapter, None));
    let ids = ledger_ids(&records);
    assert_eq!(ids.keys().cloned().collect::<BTreeSet<_>>(), before, "exactly the entries of the walk's start");
    assert!(ids.values().all(|n| *n == 1));
    let after: BTreeSet<String> = sim.entries().iter().map(|e| e.id.clone()).collect();
    assert_eq!(after.len(), before.len() + 40);

    // The next walk fetches exactly what arrived.
    let (records, _) = walk(&adapter, start(&adapter, Some(&cursor)));
    let new: BTreeSet<String> = ledger_ids(&records).into_keys().collect();
    assert_eq!(new, after.difference(&before).cloned().collect());
    // And a walk with nothing new costs one call and stores nothing.
    let calls = sim.stats().requests_by_path.get("/0/private/Ledgers").copied().unwrap_or(0);
    let (records, _) = walk(&adapter, start(&adapter, Some(&cursor_after(&adapter, &cursor))));
    assert!(records.is_empty());
    assert_eq!(sim.stats().requests_by_path["/0/private/Ledgers"], calls + 2);
}

/// The cursor at the end of the walk that starts after `cursor`.
fn cursor_after(adapter: &KrakenAdapter, cursor: &str) -> String {
    walk(adapter, start(adapter, Some(cursor))).1
}

#[test]
fn invalid_nonces_are_recovered_with_new_nonces() {
    let sim = start_sim(small(60));
    let adapter = adapter(&sim, &SimKey::demo());
    sim.reject_nonces(2);
    let balances = adapter.balances().unwrap();
    assert!(!balances.is_empty());
    assert_eq!(sim.stats().invalid_nonces, 2);
}

#[test]
fn the_key_check_tells_a_withdrawing_key_without_side_effects() {
    let sim = start_sim(small(60));
    assert_eq!(adapter(&sim, &SimKey::demo()).key_permissions().unwrap().can_withdraw, Some(false));
    let key = SimKey { can_withdraw: true, ..SimKey::demo() };
    let sim = start_sim(SimConfig { key: key.clone(), ..small(60) });
    let permissions = adapter(&sim, &key).key_permissions().unwrap();
    assert_eq!(permissions.can_withdraw, Some(true));
    assert_eq!(permissions.details, ["Funds permissions - Withdraw"]);
}

#[test]
fn a_wrong_secret_or_key_is_an_auth_error_that_hides_the_secret() {
    let sim = start_sim(small(60));
    let wrong = SimKey { secret: "AAAA".repeat(22), ..SimKey::demo() };
    let error = adapter(&sim, &wrong).balances().unwrap_err();
    assert!(error.is_auth(), "{error}");
    assert!(error.to_string().contains("does not belong to this API key"), "{error}");
    assert!(!error.to_string().contains(&wrong.secret));
    let unknown = SimKey { api_key: "someone-else".into(), ..SimKey::demo() };
    let error = adapter(&sim, &unknown).balances().unwrap_err();
    assert!(error.to_string().contains("unknown to Kraken"), "{error}");
}

#[test]
fn a_sync_never_trips_the_counter() {
    let sim = start_sim(small(300));
    let adapter = adapter(&sim, &SimKey::demo());
    let known = Known::default();
    let plan = SyncPlan { full: false, since_ms: None };
    assert_eq!(adapter.streams(&known, &plan).unwrap(), vec![Stream::new("Ledgers", "")]);
    walk(&adapter, start(&adapter, None));
    let stats = sim.stats();
    // The client models the counter on its own clock: on a loaded machine a request can reach
    // the simulator later than the model expects and meet a counter a call fuller. One or two
    // such answers are retried; what must never happen is a lockout (five in a row).
    assert!(stats.counter.rate_limited <= 2, "{stats:?}");
    assert_eq!(stats.counter.lockouts, 0, "{stats:?}");
    assert!(stats.counter.spent > 0);
}

#[test]
fn the_simulator_pages_and_filters_like_kraken() {
    let sim = start_sim(small(120));
    let entries = sim.entries();
    let adapter = adapter(&sim, &SimKey::demo());
    let api = adapter.api();
    let page = |params: &[(&str, String)]| -> Vec<String> {
        let answer = api.call(Endpoint::Ledgers, params).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
        let text = String::from_utf8(answer.body.clone()).unwrap();
        // Key order as sent: newest first.
        let mut ids: Vec<(usize, String)> = value["result"]["ledger"]
            .as_object()
            .unwrap()
            .keys()
            .map(|k| (text.find(&format!("\"{k}\"")).unwrap(), k.clone()))
            .collect();
        ids.sort();
        ids.into_iter().map(|(_, id)| id).collect()
    };
    let newest: Vec<String> = entries.iter().rev().take(50).map(|e| e.id.clone()).collect();
    assert_eq!(page(&[]), newest);
    let second: Vec<String> = entries.iter().rev().skip(50).take(50).map(|e| e.id.clone()).collect();
    assert_eq!(page(&[("ofs", "50".into())]), second);
    // end is inclusive, start exclusive, both by id.
    let anchor = &entries[entries.len() - 10];
    assert_eq!(page(&[("end", anchor.id.clone())])[0], anchor.id);
    let low = &entries[5];
    let got = page(&[("start", low.id.clone()), ("end", entries[8].id.clone())]);
    assert_eq!(got, [entries[8].id.clone(), entries[7].id.clone(), entries[6].id.clone()]);
    let answer = api.call(Endpoint::Ledgers, &[]).unwrap();
    let value: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(value["result"]["count"].as_u64(), Some(entries.len() as u64));
    match api.call(Endpoint::Ledgers, &[("end", "LNOTAN-IDXXX-XXXXXX".into())]).unwrap_err() {
        crate::http::FetchError::Api { message, .. } => assert_eq!(message, "EGeneral:Invalid arguments"),
        other => panic!("{other:?}"),
    }
}

//! The simulator against the real client code: every record once, balances that add up.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use rust_decimal::Decimal;

use super::*;
use crate::adapter::{Adapter, Stream, SyncPlan};
use crate::bitstamp::adapter::BitstampAdapter;
use crate::bitstamp::api::BitstampApi;
use crate::bitstamp::normalize::{USER_TRANSACTIONS, normalize};
use crate::http::{ClientConfig, Clock, SystemClock};

fn small(records: usize) -> SimConfig {
    SimConfig { profile: BitstampProfile { records, ..BitstampProfile::demo() }, ..SimConfig::demo(5) }
}

fn adapter(sim: &BitstampSim, key: &SimKey) -> BitstampAdapter {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let limiter = BitstampApi::new_limiter(Arc::clone(&clock), sim.budget().unwrap_or(Budget::DEFAULT));
    let config = ClientConfig::for_tests(Duration::from_secs(2), 4);
    let api = BitstampApi::new(
        Some(&sim.base_url()),
        Secret::new(key.api_key.clone()),
        Secret::new(key.secret.clone()),
        "main",
        limiter,
        config,
        clock,
    )
    .unwrap();
    BitstampAdapter::new(api)
}

#[test]
fn a_walk_through_the_client_gets_every_record_once_and_the_legs_sum_to_the_balances() {
    let sim = start(small(2_345)).unwrap();
    let adapter = adapter(&sim, &SimKey::demo());
    let stream = Stream::new(USER_TRANSACTIONS, "");
    let plan = SyncPlan { full: false, since_ms: None };
    let mut cursor = adapter.start(&stream, None, &plan).unwrap();
    let mut ids = Vec::new();
    let mut sums: BTreeMap<String, Decimal> = BTreeMap::new();
    let mut pages = 0;
    loop {
        let page = adapter.fetch_page(&stream, &cursor).unwrap();
        pages += 1;
        for record in &page.records {
            ids.push(record.external_id.clone());
            for event in normalize(&stream, record).unwrap() {
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
    assert_eq!(pages, 3);
    let served: Vec<String> = sim.transactions().iter().map(|t| t.id.to_string()).collect();
    assert_eq!(ids, served);
    let sums: BTreeMap<String, Decimal> =
        sums.into_iter().filter(|(_, v)| !v.is_zero()).map(|(a, v)| (a, v.normalize())).collect();
    assert_eq!(sums, sim.balances());
    let mut reported: BTreeMap<String, Decimal> = BTreeMap::new();
    for balance in adapter.balances().unwrap() {
        reported.insert(balance.asset, balance.amount.normalize());
    }
    assert_eq!(reported, sim.balances());
    // The history has every kind the generator makes.
    let kinds: BTreeSet<u32> = sim.transactions().iter().map(|t| t.kind).collect();
    assert_eq!(kinds, BTreeSet::from([0, 1, 2, 27, 32]));

    // A new trade: the walk from the stored cursor fetches it alone.
    assert_eq!(sim.add_trades(1), 1);
    let page = adapter.fetch_page(&stream, &adapter.start(&stream, Some(&cursor), &plan).unwrap()).unwrap();
    assert_eq!(page.records.len(), 1);
}

#[test]
fn a_wrong_secret_is_refused_as_a_key_problem_and_counted() {
    let sim = start(small(10)).unwrap();
    let wrong = SimKey { secret: "not-the-secret".into(), ..SimKey::demo() };
    let error = adapter(&sim, &wrong).balances().unwrap_err();
    assert!(matches!(error, crate::http::FetchError::Auth { .. }), "{error}");
    assert!(error.to_string().contains("does not belong to this API key"), "{error}");
    assert!(!error.to_string().contains("not-the-secret"));
    assert_eq!(sim.stats().refused, 1);
}

#[test]
fn the_budget_refuses_what_is_over_it_and_the_client_waits_instead() {
    let budget = Budget { limit: 3, window_seconds: 1 };
    let sim = start(SimConfig { budget: Some(budget), ..small(10) }).unwrap();
    let adapter = adapter(&sim, &SimKey::demo());
    for _ in 0..7 {
        adapter.balances().unwrap();
    }
    // The client's limiter kept to 3 a second: nothing refused.
    assert_eq!(sim.stats().rate_limited, 0);
    assert_eq!(sim.stats().requests_by_path["/api/v2/account_balances/"], 7);
}

#[test]
fn crypto_transactions_repeat_every_crypto_deposit_and_withdrawal_with_a_hash() {
    use crate::bitstamp::crypto_transactions::CRYPTO_TRANSACTIONS;
    let sim = start(small(1_500)).unwrap();
    let adapter = adapter(&sim, &SimKey::demo());
    let stream = Stream::new(CRYPTO_TRANSACTIONS, "");
    let plan = SyncPlan { full: false, since_ms: None };
    let mut cursor = adapter.start(&stream, None, &plan).unwrap();
    let mut details = Vec::new();
    loop {
        let page = adapter.fetch_page(&stream, &cursor).unwrap();
        for record in &page.records {
            details.extend(normalize(&stream, record).unwrap());
        }
        cursor = page.cursor;
        if page.done {
            break;
        }
    }
    let mut expected: Vec<(String, String)> = sim
        .transactions()
        .iter()
        .filter(|t| matches!(t.kind, 0 | 1) && !matches!(t.amounts[0].0.as_str(), "usd" | "eur" | "gbp"))
        .map(|t| (t.amounts[0].0.to_ascii_uppercase(), t.amounts[0].1.abs().normalize().to_string()))
        .collect();
    assert!(expected.len() > 20, "the account moves crypto on chain: {}", expected.len());
    let mut got: Vec<(String, String)> = details
        .iter()
        .map(|e| {
            assert!(e.is_details());
            assert!(e.tx_hash.as_ref().is_some_and(|h| h.len() >= 64), "{e:?}");
            assert!(e.address.is_some() && e.network.is_some(), "{e:?}");
            (e.legs[0].asset.clone(), e.legs[0].amount.abs().normalize().to_string())
        })
        .collect();
    expected.sort();
    got.sort();
    assert_eq!(got, expected);
    assert_eq!(sim.crypto_transactions().len(), details.len());
}

#[test]
fn crypto_transactions_pages_by_offset_newest_first_and_refuses_what_bitstamp_refuses() {
    let sim = start(small(1_500)).unwrap();
    let adapter = adapter(&sim, &SimKey::demo());
    let api = adapter.api();
    let page = |params: &[(&str, String)]| api.call(Endpoint::CryptoTransactions, params);
    let all = sim.crypto_transactions();
    let first = page(&[("limit", "5".into()), ("offset", "0".into())]).unwrap();
    let second = page(&[("limit", "5".into()), ("offset", "5".into())]).unwrap();
    let read = |body: &[u8]| crate::bitstamp::crypto_transactions::records_of_page(body).unwrap();
    let (first, second) = (read(&first.body), read(&second.body));
    assert_eq!((first.entries, second.entries), (5, 5));
    let newest = all.iter().map(|e| e.datetime).max().unwrap();
    assert!(first.records.iter().any(|r| r.external_id.contains(&format!(":{newest}:"))), "newest first");
    assert!(first.records.iter().all(|r| !second.records.contains(r)), "pages do not overlap");
    for (params, words) in [
        (vec![("limit", "1001".to_owned())], "Limit too large"),
        (vec![("offset", "200001".to_owned())], "Offset too large"),
        (vec![("limit", "x".to_owned())], "Invalid limit"),
    ] {
        let error = page(&params).unwrap_err().to_string();
        assert!(error.contains(words), "{params:?}: {error}");
    }
}

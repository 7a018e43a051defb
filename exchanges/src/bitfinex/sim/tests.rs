//! The simulator against the real client code: every entry once, balances that add up.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use rust_decimal::Decimal;

use super::*;
use crate::adapter::{Adapter, Stream, SyncPlan};
use crate::bitfinex::adapter::BitfinexAdapter;
use crate::bitfinex::api::BitfinexApi;
use crate::bitfinex::normalize::{LEDGERS, normalize};
use crate::http::{ClientConfig, Clock, SystemClock};

fn small(entries: usize) -> SimConfig {
    SimConfig { profile: BitfinexProfile { entries, ..BitfinexProfile::demo() }, budget: None, ..SimConfig::demo(5) }
}

fn adapter(sim: &BitfinexSim, key: &SimKey) -> BitfinexAdapter {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let limiter = BitfinexApi::new_limiter(Arc::clone(&clock), Budget { limit: 1_000_000, window_seconds: 1 });
    let config = ClientConfig::for_tests(Duration::from_secs(2), 4);
    let api = BitfinexApi::new(
        Some(&sim.base_url()),
        Secret::new(key.api_key.clone()),
        Secret::new(key.secret.clone()),
        "main",
        limiter,
        config,
        clock,
    )
    .unwrap();
    BitfinexAdapter::new(api)
}

#[test]
fn a_walk_through_the_client_gets_every_entry_once_and_the_legs_sum_to_the_wallets() {
    let sim = start(small(6_000)).unwrap();
    let adapter = adapter(&sim, &SimKey::demo());
    let stream = Stream::new(LEDGERS, "");
    let plan = SyncPlan { full: false, since_ms: None };
    let mut cursor = adapter.start(&stream, None, &plan).unwrap();
    let mut ids = Vec::new();
    let mut sums: BTreeMap<String, Decimal> = BTreeMap::new();
    let mut pages = 0;
    loop {
        let page = adapter.fetch_page(&stream, &cursor).unwrap();
        pages += 1;
        for record in &page.records {
            ids.push(record.external_id.parse::<u64>().unwrap());
            for event in normalize(&stream, record).unwrap() {
                assert_ne!(event.kind, crate::EventKind::Unknown, "{event:?}");
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
    assert!(pages >= 3, "{pages} pages");
    let served = sim.entries();
    ids.sort_unstable();
    assert_eq!(ids, served.iter().map(|e| e.id).collect::<Vec<_>>());
    sums.retain(|_, amount| !amount.is_zero());
    let sums: BTreeMap<String, Decimal> = sums.into_iter().map(|(k, v)| (k, v.normalize())).collect();
    assert_eq!(sums, sim.balances());
    assert_eq!(adapter.balances().unwrap().len(), sim.balances().len());
}

#[test]
fn a_wrong_secret_a_replayed_nonce_and_the_rate_limit_get_bitfinexs_answers() {
    let sim = start(SimConfig { budget: Some(Budget { limit: 3, window_seconds: 60 }), ..small(50) }).unwrap();
    let wrong = SimKey { secret: "not-the-secret".into(), ..SimKey::demo() };
    let error = adapter(&sim, &wrong).balances().unwrap_err();
    assert!(error.to_string().contains("does not belong to this API key"), "{error}");
    let client = reqwest::blocking::Client::new();
    let key = SimKey::demo();
    let post = |nonce: &str| {
        let signature = auth::signature(&Secret::new(key.secret.clone()), "v2/auth/r/wallets", nonce, "{}");
        client
            .post(format!("{}/v2/auth/r/wallets", sim.base_url()))
            .header("bfx-apikey", &key.api_key)
            .header("bfx-nonce", nonce)
            .header("bfx-signature", signature)
            .body("{}")
            .send()
            .unwrap()
    };
    assert_eq!(post("5").status().as_u16(), 200);
    let replay = post("5");
    assert_eq!(replay.status().as_u16(), 500);
    assert!(replay.text().unwrap().contains("nonce: small"));
    // The wrong secret's call and the two above spent the 3 a minute.
    let over = post("6");
    assert_eq!(over.status().as_u16(), 429);
    assert!(over.text().unwrap().contains("ERR_RATE_LIMIT"));
    assert_eq!(sim.stats().rate_limited, 1);
}

//! The simulator against the real client code: every entry once, balances that add up.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use rust_decimal::Decimal;

use super::*;
use crate::adapter::{Adapter, Stream, SyncPlan};
use crate::http::{ClientConfig, Clock, SystemClock};
use crate::kucoin::adapter::KucoinAdapter;
use crate::kucoin::api::KucoinApi;
use crate::kucoin::normalize::{LEDGERS, normalize};

fn small(entries: usize) -> SimConfig {
    SimConfig { profile: KucoinProfile { entries, ..KucoinProfile::demo() }, budget: None, ..SimConfig::demo(5) }
}

fn adapter(sim: &KucoinSim, key: &SimKey) -> KucoinAdapter {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let limiter = KucoinApi::new_limiter(Arc::clone(&clock), WindowBudget { limit: 1_000_000, window_seconds: 1 });
    let config = ClientConfig::for_tests(Duration::from_secs(2), 4);
    let api = KucoinApi::new(
        Some(&sim.base_url()),
        Secret::new(key.api_key.clone()),
        Secret::new(key.secret.clone()),
        Some(Secret::new(key.passphrase.clone())),
        "main",
        limiter,
        config,
        clock,
    )
    .unwrap();
    KucoinAdapter::new(api)
}

#[test]
fn a_walk_through_the_client_gets_every_entry_once_and_the_legs_sum_to_the_accounts() {
    // Dense enough that some weeks take more than one page of 500.
    let sim = start(SimConfig {
        // September and October 2026: the walk from `since` to today is a few weeks only.
        profile: KucoinProfile {
            entries: 6_000,
            start_ms: 1_788_220_800_000,
            end_ms: 1_793_491_200_000,
            ..KucoinProfile::demo()
        },
        ..small(0)
    })
    .unwrap();
    let adapter = adapter(&sim, &SimKey::demo());
    let stream = Stream::new(LEDGERS, "");
    let plan = SyncPlan { full: false, since_ms: Some(1_788_220_800_000) };
    let mut cursor = adapter.start(&stream, None, &plan).unwrap();
    let mut ids = Vec::new();
    let mut sums: BTreeMap<String, Decimal> = BTreeMap::new();
    let mut multi_page_weeks = 0;
    loop {
        let page = adapter.fetch_page(&stream, &cursor).unwrap();
        multi_page_weeks += usize::from(page.covered.is_none());
        for record in &page.records {
            ids.push(record.external_id.clone());
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
    assert!(multi_page_weeks > 0, "no week took two pages");
    let served: Vec<String> = sim.entries().into_iter().map(|e| e.id).collect();
    ids.sort();
    assert_eq!(ids, served);
    sums.retain(|_, amount| !amount.is_zero());
    let sums: BTreeMap<String, Decimal> = sums.into_iter().map(|(k, v)| (k, v.normalize())).collect();
    assert_eq!(sums, sim.balances());
    assert_eq!(adapter.balances().unwrap().len(), sim.balances().len());
    // The next walk starts where this one ended: one call, nothing new.
    let again = adapter.start(&stream, Some(&cursor), &plan).unwrap();
    let page = adapter.fetch_page(&stream, &again).unwrap();
    assert!(page.done && page.records.is_empty(), "{page:?}");
}

#[test]
fn a_wrong_secret_or_passphrase_and_the_rate_limit_get_kucoins_answers() {
    let sim = start(SimConfig { budget: Some(WindowBudget { limit: 50, window_seconds: 60 }), ..small(50) }).unwrap();
    let wrong = SimKey { secret: "not-the-secret".into(), ..SimKey::demo() };
    let error = adapter(&sim, &wrong).balances().unwrap_err();
    assert!(error.to_string().contains("passphrase was refused"), "the passphrase is signed with the secret: {error}");
    let wrong = SimKey { passphrase: "not-the-passphrase".into(), ..SimKey::demo() };
    let error = adapter(&sim, &wrong).key_permissions().unwrap_err();
    assert!(error.to_string().contains("passphrase was refused"), "{error}");
    let permissions = adapter(&sim, &SimKey::demo()).key_permissions().unwrap();
    assert_eq!(permissions.can_withdraw, Some(false));
    // 5 + 20 + 20 weight spent of the 50 allowed: a call of weight 20 is over the quota.
    let over = reqwest::blocking::Client::new().get(format!("{}/api/v1/user/api-key", sim.base_url())).send().unwrap();
    assert_eq!(over.status().as_u16(), 429);
    let reset: i64 = over.headers()["gw-ratelimit-reset"].to_str().unwrap().parse().unwrap();
    assert!(reset > 0 && reset <= 60_000, "{reset}");
    assert!(over.text().unwrap().contains("429000"));
    assert_eq!(sim.stats().rate_limited, 1, "{:?}", sim.stats());
}

//! The simulator answers as Gemini documents, through the real client.

use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::gemini::adapter::GeminiAdapter;
use crate::gemini::api::{GeminiApi, Pace};
use crate::http::{ClientConfig, Clock, FetchError, SystemClock};

fn small() -> SimConfig {
    SimConfig {
        profile: GeminiProfile { records: 150, ..GeminiProfile::demo() },
        limits: Limits::Off,
        ..SimConfig::demo(5)
    }
}

fn api(sim: &GeminiSim, key: &str, secret: &str) -> GeminiApi {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let limiter = GeminiApi::new_limiter(Arc::clone(&clock), Pace { capacity: 100, per_second: 10_000.0 });
    let config = ClientConfig { read_timeout: Duration::from_secs(5), max_attempts: 3, ..ClientConfig::default() };
    GeminiApi::new(Some(&sim.base_url()), Secret::new(key), Secret::new(secret), "main", limiter, config, clock)
        .unwrap()
}

#[test]
fn pages_hold_the_earliest_records_from_the_timestamp_newest_first() {
    let sim = start(small()).unwrap();
    let api = api(&sim, &SimKey::demo().api_key, &SimKey::demo().secret);
    let fills: Vec<Fill> = sim.fills().into_iter().filter(|f| f.symbol == "btcusd").collect();
    assert!(fills.len() > 6, "{}", fills.len());
    let from = fills[2].time_ms;
    let answer = api
        .call(
            Endpoint::MyTrades,
            &[("symbol", "btcusd".into()), ("timestamp", from.to_string()), ("limit_trades", "3".into())],
        )
        .unwrap();
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&answer.body).unwrap();
    let tids: Vec<u64> = rows.iter().map(|r| r["tid"].as_u64().unwrap()).collect();
    let first = fills.iter().position(|f| f.time_ms >= from).unwrap();
    let expected: Vec<u64> = fills[first..first + 3].iter().rev().map(|f| f.tid).collect();
    assert_eq!(tids, expected);
    assert_eq!(rows[0]["symbol"], "BTCUSD");
}

#[test]
fn a_wrong_secret_or_key_is_refused_and_an_unknown_symbol_is_an_error() {
    let sim = start(small()).unwrap();
    let wrong = api(&sim, &SimKey::demo().api_key, "not-the-secret");
    match wrong.call(Endpoint::Balances, &[]) {
        Err(FetchError::Auth { message, .. }) => assert!(message.contains("InvalidSignature"), "{message}"),
        other => panic!("{other:?}"),
    }
    let unknown = api(&sim, "account-nobody", &SimKey::demo().secret);
    assert!(matches!(unknown.call(Endpoint::Roles, &[]), Err(FetchError::Auth { .. })));
    let good = api(&sim, &SimKey::demo().api_key, &SimKey::demo().secret);
    match good.call(Endpoint::MyTrades, &[("symbol", "zzzusd".into())]) {
        Err(FetchError::Api { code, .. }) => assert_eq!(code, "InvalidSymbol"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_roles_of_an_auditor_and_of_a_fund_manager_key() {
    let sim = start(small()).unwrap();
    let adapter = GeminiAdapter::new(api(&sim, &SimKey::demo().api_key, &SimKey::demo().secret));
    let permissions = crate::adapter::Adapter::key_permissions(&adapter).unwrap();
    assert_eq!((permissions.can_withdraw, permissions.may_withdraw()), (Some(false), false));
    let key = SimKey { fund_manager: true, ..SimKey::demo() };
    let sim = start(SimConfig { key: key.clone(), ..small() }).unwrap();
    let adapter = GeminiAdapter::new(api(&sim, &key.api_key, &key.secret));
    let permissions = crate::adapter::Adapter::key_permissions(&adapter).unwrap();
    assert!(permissions.may_withdraw());
    assert!(permissions.details.contains(&"role Fund Manager".to_owned()));
}

#[test]
fn the_budget_refuses_a_burst_beyond_five_with_429() {
    let sim = start(SimConfig { limits: Limits::Frozen, ..small() }).unwrap();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    // A client that does not pace itself, and does not retry.
    let limiter = GeminiApi::new_limiter(Arc::clone(&clock), Pace { capacity: 100, per_second: 10_000.0 });
    let config = ClientConfig { max_attempts: 1, ..ClientConfig::default() };
    let key = SimKey::demo();
    let api = GeminiApi::new(
        Some(&sim.base_url()),
        Secret::new(key.api_key),
        Secret::new(key.secret),
        "m",
        limiter,
        config,
        clock,
    )
    .unwrap();
    let results: Vec<bool> = (0..8).map(|_| api.call(Endpoint::Balances, &[]).is_ok()).collect();
    assert_eq!(results, [true, true, true, true, true, false, false, false]);
    assert_eq!(sim.stats().rate_limited, 3);
}

//! The Coinbase simulator over HTTP, with a plain client: products, candles, errors, limits.

use std::str::FromStr;

use reqwest::blocking::Client;
use rust_decimal::Decimal;
use serde_json::Value;

use super::market::{MAJORS, minute_missing};
use super::*;
use crate::sim::faults::FaultKind;
use crate::sim::generate::{DAY_MS, HOUR_MS, PRICE_HISTORY_START_MS};

/// 2024-03-02T10:00:00Z.
const MARCH_2024: i64 = 1_709_373_600_000;

fn sim(limits: Limits) -> CoinbaseSim {
    start(CoinbaseSimConfig { limits, ..CoinbaseSimConfig::demo(1) }).unwrap()
}

fn get(sim: &CoinbaseSim, path_and_query: &str) -> (u16, Value) {
    let response = Client::new().get(format!("{}{path_and_query}", sim.base_url())).send().unwrap();
    let status = response.status().as_u16();
    let text = response.text().unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// A number of a candle row, from its JSON text.
fn number(value: &Value) -> Decimal {
    Decimal::from_str(&value.to_string()).unwrap()
}

#[test]
fn products_cover_every_crypto_asset_but_bnb_in_usd_and_the_majors_in_eur_and_gbp() {
    let sim = sim(Limits::Off);
    let (status, json) = get(&sim, "/products");
    assert_eq!(status, 200);
    let ids: Vec<&str> = json.as_array().unwrap().iter().map(|product| product["id"].as_str().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted);
    for id in ["BTC-USD", "BTC-EUR", "BTC-GBP", "USDT-USD", "USDC-USD", "USDT-EUR", "USDT-GBP", "ARB-USD", "GRT-USD"] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    assert!(!ids.contains(&"ARB-EUR") && !ids.contains(&"EUR-USD") && !ids.contains(&"USD-USD"));
    assert!(!ids.iter().any(|id| id.starts_with("BNB-")), "Coinbase does not list BNB");
    for asset in sim.market().assets().filter(|asset| !crate::asset::is_fiat(asset) && *asset != "BNB") {
        assert!(ids.contains(&format!("{asset}-USD").as_str()), "{asset}");
        let majors = ids.iter().filter(|id| id.starts_with(&format!("{asset}-"))).count();
        assert_eq!(majors, if MAJORS.contains(&asset) { 3 } else { 1 }, "{asset}");
    }
    let btc = &json.as_array().unwrap()[ids.iter().position(|id| *id == "BTC-EUR").unwrap()];
    assert_eq!((btc["base_currency"].as_str(), btc["quote_currency"].as_str()), (Some("BTC"), Some("EUR")));
    assert_eq!(btc["status"], "online");
    let (status, one) = get(&sim, "/products/ETH-GBP");
    assert_eq!((status, one["id"].as_str()), (200, Some("ETH-GBP")));
}

#[test]
fn minute_candles_are_the_market_price_newest_first_with_a_few_missing() {
    let sim = sim(Limits::Off);
    let end = MARCH_2024 + 299 * 60_000;
    let (status, json) =
        get(&sim, &format!("/products/BTC-USD/candles?granularity=60&start={}&end={}", MARCH_2024 / 1000, end / 1000));
    assert_eq!(status, 200, "{json}");
    let rows = json.as_array().unwrap();
    let times: Vec<i64> = rows.iter().map(|row| row[0].as_i64().unwrap() * 1000).collect();
    assert!(times.windows(2).all(|pair| pair[0] > pair[1]), "newest first");
    let expected: Vec<i64> =
        (0..300).map(|minute| end - minute * 60_000).filter(|open| !minute_missing(1, "BTC-USD", *open)).collect();
    assert_eq!(times, expected);
    assert!(times.len() < 300 && times.len() > 280, "{} of 300 minutes", times.len());
    for row in rows {
        let open = row[0].as_i64().unwrap() * 1000;
        let price = sim.market().price("BTC", "USD", open).unwrap();
        for field in 1..=4 {
            assert_eq!(number(&row[field]), price, "{row}");
        }
        assert!(number(&row[5]) > Decimal::ZERO);
    }
    // The same range as ISO 8601 times gives the same candles.
    let iso = |ms: i64| crate::time::format_rfc3339(crate::time::from_millis(ms));
    let (_, again) =
        get(&sim, &format!("/products/BTC-USD/candles?granularity=60&start={}&end={}", iso(MARCH_2024), iso(end)));
    assert_eq!(again, json);
}

#[test]
fn longer_candles_span_the_minutes_high_and_low() {
    let sim = sim(Limits::Off);
    let (status, json) = get(
        &sim,
        &format!(
            "/products/ETH-EUR/candles?granularity=3600&start={}&end={}",
            MARCH_2024 / 1000,
            (MARCH_2024 + 5 * HOUR_MS) / 1000
        ),
    );
    assert_eq!(status, 200, "{json}");
    let rows = json.as_array().unwrap();
    assert_eq!(rows.len(), 6);
    for row in rows {
        let open = row[0].as_i64().unwrap() * 1000;
        let minutes: Vec<Decimal> =
            (0..60).map(|minute| sim.market().price("ETH", "EUR", open + minute * 60_000).unwrap()).collect();
        assert_eq!(number(&row[1]), *minutes.iter().min().unwrap(), "low {row}");
        assert_eq!(number(&row[2]), *minutes.iter().max().unwrap(), "high {row}");
        assert_eq!(number(&row[3]), minutes[0], "open {row}");
        assert_eq!(number(&row[4]), minutes[59], "close {row}");
    }
    let (_, day) = get(
        &sim,
        &format!(
            "/products/ETH-EUR/candles?granularity=86400&start={}&end={}",
            MARCH_2024 / 1000,
            (MARCH_2024 + DAY_MS) / 1000
        ),
    );
    assert_eq!(day.as_array().unwrap().len(), 1, "{day}");
}

#[test]
fn candle_errors_are_coinbases() {
    let sim = sim(Limits::Off);
    let start = MARCH_2024 / 1000;
    let (status, json) =
        get(&sim, &format!("/products/BTC-USD/candles?granularity=120&start={start}&end={}", start + 600));
    assert_eq!((status, json["message"].as_str()), (400, Some("Unsupported granularity")));
    let (status, json) =
        get(&sim, &format!("/products/BTC-USD/candles?granularity=60&start={start}&end={}", start + 301 * 60));
    assert_eq!(status, 400);
    assert!(json["message"].as_str().unwrap().contains("exceeds 300"), "{json}");
    let (status, json) =
        get(&sim, &format!("/products/NOPE-USD/candles?granularity=60&start={start}&end={}", start + 60));
    assert_eq!((status, json), (404, serde_json::json!({"message": "NotFound"})));
    let (status, json) = get(&sim, "/products/BTC-USD/candles?granularity=60&start=soon&end=later");
    assert_eq!((status, json["message"].as_str()), (400, Some("Invalid start")));
    let (status, _) = get(&sim, "/nowhere");
    assert_eq!(status, 404);
    // Before the market there is nothing; without start and end, the latest 300 minutes.
    let before = PRICE_HISTORY_START_MS / 1000 - 3_600;
    let (status, json) =
        get(&sim, &format!("/products/BTC-USD/candles?granularity=60&start={before}&end={}", before + 1_800));
    assert_eq!((status, json), (200, serde_json::json!([])));
    let (status, json) = get(&sim, "/products/BTC-USD/candles?granularity=60");
    assert_eq!(status, 200);
    let latest = json.as_array().unwrap();
    assert!(latest.len() > 280 && latest.len() <= 300, "{}", latest.len());
    assert!(latest[0][0].as_i64().unwrap() * 1000 > now_ms() - 10 * 60_000);
    let stats = sim.stats();
    assert_eq!(stats.requests, 7);
    assert_eq!(stats.candle_requests, 6);
    assert_eq!(stats.requests_by_path.get("/products/BTC-USD/candles"), Some(&5));
}

#[test]
fn the_public_limit_is_a_burst_of_15_refilled_at_10_per_second() {
    let at = Instant::now();
    let mut limit = PublicLimit::new(at);
    assert!((0..15).all(|_| limit.admit(at)));
    assert!(!limit.admit(at));
    assert!(!limit.admit(at + Duration::from_millis(99)));
    assert!(limit.admit(at + Duration::from_millis(100)));
    assert!(!limit.admit(at + Duration::from_millis(150)));
    let later = at + Duration::from_secs(10);
    assert_eq!((0..20).filter(|_| limit.admit(later)).count(), 15);
}

#[test]
fn too_many_requests_get_429_with_coinbases_message() {
    let limited = sim(Limits::Real);
    // 100 requests sent back to back: far more than 15 plus 10 per second can take.
    let answers: Vec<(u16, Value)> = (0..100).map(|_| get(&limited, "/products/BTC-USD")).collect();
    let refused: Vec<&(u16, Value)> = answers.iter().filter(|(status, _)| *status == 429).collect();
    assert!(!refused.is_empty());
    assert_eq!(refused[0].1, serde_json::json!({"message": "Public rate limit exceeded"}));
    assert_eq!(limited.stats().rate_limited, refused.len() as u64);
    let unlimited = sim(Limits::Off);
    assert!((0..100).all(|_| get(&unlimited, "/products/BTC-USD").0 == 200));
}

#[test]
fn injected_faults_carry_coinbase_bodies() {
    let faults =
        FaultConfig { rate_permille: 1000, seed: 3, kinds: vec![FaultKind::ServerError, FaultKind::TooManyRequests] };
    let sim = start(CoinbaseSimConfig { faults: Some(faults), ..CoinbaseSimConfig::demo(1) }).unwrap();
    for _ in 0..6 {
        let (status, json) = get(&sim, "/products");
        assert!([429, 500, 502, 503].contains(&status), "{status}");
        assert!(json["message"].is_string(), "{json}");
    }
    let stats = sim.stats();
    assert_eq!((stats.faults, stats.requests), (6, 6));
    assert!(sim.describe().contains(&sim.base_url()));
}

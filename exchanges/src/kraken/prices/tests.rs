//! The Kraken price source against the simulator: markets, reach by age, the 720-row window,
//! the open row, errors.

use std::time::Duration;

use rust_decimal::Decimal;

use super::*;
use crate::http::ManualClock;
use crate::kraken::sim::ohlc::{PAIRS, market_pair};
use crate::kraken::sim::{self as kraken_sim, KrakenSim, Limits, SimConfig};
use crate::sim::faults::{FaultConfig, FaultKind};
use crate::sim::generate::PRICE_HISTORY_START_MS;

/// 2024-03-02T10:00:00Z.
const NOW: i64 = 1_709_373_600_000;
const MIN: i64 = 60_000;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 86_400_000;

fn fast() -> ClientConfig {
    ClientConfig::for_tests(Duration::from_secs(5), 6)
}

fn sim(faults: Option<FaultConfig>, now_ms: i64) -> KrakenSim {
    let sim = kraken_sim::start(SimConfig { limits: Limits::Off, faults, ..SimConfig::demo(1) }).unwrap();
    sim.set_now(now_ms);
    sim
}

fn source(sim: &KrakenSim) -> KrakenPrices {
    // A manual clock: the limiter's and the retries' waits take no time.
    KrakenPrices::new(Some(&sim.base_url()), fast(), Arc::new(ManualClock::new(NOW))).unwrap()
}

fn market(symbol: &str, base: &str, quote: &str) -> Market {
    Market { symbol: symbol.to_owned(), base: base.to_owned(), quote: quote.to_owned() }
}

#[test]
fn markets_are_the_asset_pairs_under_canonical_symbols() {
    let sim = sim(None, NOW);
    let fetched = source(&sim).markets().unwrap();
    assert_eq!((fetched.requests, fetched.retries), (1, 0));
    assert_eq!(fetched.items.len(), PAIRS.len());
    for wanted in [
        market("XXBTZCAD", "BTC", "CAD"),
        market("XBTAUD", "BTC", "AUD"),
        market("USDTAUD", "USDT", "AUD"),
        market("XETHXXBT", "ETH", "BTC"),
        market("XXDGZUSD", "DOGE", "USD"),
        market("ZUSDZCAD", "USD", "CAD"),
    ] {
        assert!(fetched.items.contains(&wanted), "{wanted:?}");
    }
    assert_eq!(sim.stats().requests_by_path.get("/0/public/AssetPairs"), Some(&1));
}

#[test]
fn the_finest_interval_whose_720_rows_reach_the_time() {
    let sim = sim(None, NOW);
    let source = source(&sim);
    assert_eq!((source.name(), source.max_candles()), ("kraken", 720));
    let g = |time| source.granularity(time, NOW + 30_000);
    // Minutes: 720 rows, the open one and an hour of slack off: 659 closed minutes back.
    assert_eq!(g(NOW + 10_000), Granularity::MINUTE);
    assert_eq!(g(NOW - 659 * MIN), Granularity::MINUTE);
    assert_eq!(g(NOW - 659 * MIN - 1), Granularity::HOUR);
    // Hours: 718 back from the open one (about 30 days).
    assert_eq!(g(NOW - 718 * HOUR), Granularity::HOUR);
    assert_eq!(g(NOW - 718 * HOUR - 1), Granularity::DAY);
    // Days: 718 back from today's (which opened at midnight).
    let midnight = NOW - 10 * HOUR;
    assert_eq!(g(midnight - 718 * DAY), Granularity::DAY);
    assert_eq!(g(midnight - 718 * DAY - 1), Granularity::WEEK);
    // Weeks beyond, however old.
    assert_eq!(g(PRICE_HISTORY_START_MS), Granularity::WEEK);
    assert_eq!(g(0), Granularity::WEEK);
}

#[test]
fn minute_closes_are_the_market_prices_without_the_open_row() {
    let sim = sim(None, NOW + 90_000);
    let source = source(&sim);
    let btc_cad = market("XXBTZCAD", "BTC", "CAD");
    let pair = market_pair("XXBTZCAD").unwrap();
    // The engine's window: from the first time wanted up to now. The row of NOW + 1 min is the
    // open interval: left out.
    let fetched = source.candles(&btc_cad, Granularity::MINUTE, NOW - 600 * MIN, NOW + 90_000).unwrap();
    assert_eq!((fetched.requests, fetched.retries), (1, 0));
    assert_eq!(fetched.items.len(), 601);
    for (index, candle) in fetched.items.iter().enumerate() {
        assert_eq!(candle.open_ms, NOW - 600 * MIN + index as i64 * MIN);
        assert_eq!(Some(candle.close), sim.market().pair_price(&pair, candle.open_ms + MIN - 1));
    }
    // Only the 720 most recent rows exist: 13 hours back there is nothing, whatever `since` says.
    let old = source.candles(&btc_cad, Granularity::MINUTE, NOW - 13 * HOUR, NOW - 12 * HOUR).unwrap();
    assert!(old.items.is_empty());
    // More than 720 candles is refused before asking; a granularity Kraken's source does not use too.
    let too_many = source.candles(&btc_cad, Granularity::MINUTE, NOW - 721 * MIN, NOW);
    assert!(matches!(too_many, Err(FetchError::Setup { .. })), "{too_many:?}");
    let odd = Granularity { name: "2h", millis: 2 * HOUR };
    assert!(matches!(source.candles(&btc_cad, odd, NOW - HOUR, NOW), Err(FetchError::Setup { .. })));
    assert_eq!(sim.stats().requests_by_path.get("/0/public/OHLC"), Some(&2));
}

#[test]
fn hours_days_and_weeks_close_on_their_last_minute() {
    let now = NOW + 5 * MIN;
    let sim = sim(None, now);
    let source = source(&sim);
    let usdt_aud = market("USDTAUD", "USDT", "AUD");
    let pair = market_pair("USDTAUD").unwrap();
    for granularity in [Granularity::HOUR, Granularity::DAY, Granularity::WEEK] {
        let open_now = granularity.floor(now);
        let start = open_now - 700 * granularity.millis;
        let fetched = source.candles(&usdt_aud, granularity, start, now).unwrap();
        let opens: Vec<i64> = fetched.items.iter().map(|candle| candle.open_ms).collect();
        let expected: Vec<i64> =
            (0..700).map(|i| start + i * granularity.millis).filter(|open| *open >= sim.market().start_ms()).collect();
        assert_eq!(opens, expected, "{}", granularity.name);
        for candle in &fetched.items {
            let last_minute = candle.open_ms + granularity.millis - 1;
            assert_eq!(Some(candle.close), sim.market().pair_price(&pair, last_minute), "{}", granularity.name);
        }
    }
}

#[test]
fn by_hand_at_the_start_of_the_market() {
    // The generator starts BTC at 16600 USD and CAD at 0.74 USD: 16600 / 0.74 = 22432.43… CAD,
    // 22432.4 at the pair's one decimal, in the first minute (prices move from minute 1 on).
    let sim = sim(None, PRICE_HISTORY_START_MS + 10 * MIN + 30_000);
    let source = source(&sim);
    let btc_cad = market("XXBTZCAD", "BTC", "CAD");
    let end = PRICE_HISTORY_START_MS + 11 * MIN;
    let fetched = source.candles(&btc_cad, Granularity::MINUTE, PRICE_HISTORY_START_MS - 5 * MIN, end).unwrap();
    assert_eq!(fetched.items.len(), 10, "none before the market, the open minute left out");
    assert_eq!(fetched.items[0], Candle { open_ms: PRICE_HISTORY_START_MS, close: Decimal::new(224_324, 1) });
}

#[test]
fn an_unknown_pair_is_krakens_query_error() {
    let sim = sim(None, NOW);
    let nope = market("NOPEZCAD", "NOPE", "CAD");
    match source(&sim).candles(&nope, Granularity::MINUTE, NOW - HOUR, NOW).unwrap_err() {
        FetchError::Api { code, message, .. } => {
            assert_eq!((code.as_str(), message.as_str()), ("EQuery", "EQuery:Unknown asset pair"))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn rate_limits_and_server_errors_are_retried() {
    let faults =
        FaultConfig { rate_permille: 300, seed: 3, kinds: vec![FaultKind::TooManyRequests, FaultKind::ServerError] };
    let sim = sim(Some(faults), NOW);
    let source = source(&sim);
    let eth_cad = market("XETHZCAD", "ETH", "CAD");
    let mut retries = 0;
    for hour in 1..=8 {
        let start = NOW - hour * HOUR;
        let fetched = source.candles(&eth_cad, Granularity::MINUTE, start, start + HOUR).unwrap();
        assert_eq!(fetched.items.len(), 60);
        assert_eq!(fetched.requests, fetched.retries + 1);
        retries += fetched.retries;
    }
    let stats = sim.stats();
    assert!(retries > 0 && u64::from(retries) == stats.faults, "{retries} retries, {} faults", stats.faults);
}

#[test]
fn ohlc_results_are_read_exactly_and_the_open_row_dropped() {
    let body = br#"{"XXBTZUSD":[[1688671200,"30306.1","30306.2","30305.7","30305.7","30306.1","3.39243896",23],[1688671260,"30304.5","30304.5","30300.0","30300.0","30300.0","4.42996871",18]],"last":1688671200}"#;
    let raw: &RawValue = serde_json::from_slice(body).unwrap();
    let candles = parse_ohlc(raw).unwrap();
    assert_eq!(candles, vec![Candle { open_ms: 1_688_671_200_000, close: Decimal::new(303_057, 1) }]);
    let bad = |text: &str| parse_ohlc(serde_json::from_str::<&RawValue>(text).unwrap());
    assert!(bad(r#"{"X":[[1688671200,"1"]],"last":1}"#).is_err());
    assert!(bad(r#"{"X":[[1688671200,"1","1","1",1.5,"1","1",1]],"last":1}"#).is_err());
    assert!(bad(r#"{"X":[],"Y":[],"last":1}"#).is_err());
    assert_eq!(bad(r#"{"last":1}"#).unwrap(), Vec::new());
}

#[test]
fn the_simulators_public_counter_refuses_bursts() {
    // The real clock: the simulator meters real time; a client without a limiter bursts.
    let sim = kraken_sim::start(SimConfig { limits: Limits::Real(Tier::PRO), ..SimConfig::demo(1) }).unwrap();
    let client = reqwest::blocking::Client::new();
    let url = format!("{}/0/public/AssetPairs", sim.base_url());
    let bodies: Vec<String> = (0..8).map(|_| client.get(&url).send().unwrap().text().unwrap()).collect();
    assert!(bodies[0].contains("XXBTZCAD"));
    assert!(bodies.iter().any(|body| body.contains("EAPI:Rate limit exceeded")), "{bodies:?}");
    assert!(sim.stats().public.rate_limited > 0);
}

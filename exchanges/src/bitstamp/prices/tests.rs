//! Bitstamp's candles through the real client: against the simulator, and on the wire.

use std::time::Duration;

use super::*;
use crate::bitstamp::sim::{self, SimConfig};
use crate::http::client::test_server::{Reply, TestServer};
use crate::http::{ManualClock, SystemClock};

fn source(url: &str) -> BitstampPrices {
    BitstampPrices::new(Some(url), ClientConfig::for_tests(Duration::from_millis(500), 3), Arc::new(SystemClock))
        .unwrap()
}

fn market(symbol: &str, base: &str, quote: &str) -> Market {
    Market { symbol: symbol.into(), base: base.into(), quote: quote.into() }
}

#[test]
fn markets_are_the_fiat_quoted_spot_markets_by_market_symbol() {
    let sim = sim::start(SimConfig { budget: None, ..SimConfig::demo(3) }).unwrap();
    let listed = source(&sim.base_url()).markets().unwrap();
    let symbols: Vec<(&str, &str, &str)> =
        listed.items.iter().map(|m| (m.symbol.as_str(), m.base.as_str(), m.quote.as_str())).collect();
    assert!(symbols.contains(&("btcusd", "BTC", "USD")), "{symbols:?}");
    assert!(symbols.contains(&("btcgbp", "BTC", "GBP")), "{symbols:?}");
    assert!(symbols.contains(&("xrpeur", "XRP", "EUR")), "{symbols:?}");
    // ETH/BTC is listed by the simulator but is not a fiat market: left to Binance.
    assert!(!symbols.iter().any(|(symbol, ..)| *symbol == "ethbtc"), "{symbols:?}");
    assert_eq!(listed.requests, 1);
}

#[test]
fn minute_candles_are_the_simulated_market_closes_exactly() {
    let sim = sim::start(SimConfig { budget: None, ..SimConfig::demo(3) }).unwrap();
    let source = source(&sim.base_url());
    let btc_usd = market("btcusd", "BTC", "USD");
    // 300 minutes from 2024-03-01 10:00:30 UTC (not on a minute: the first candle is 10:01).
    let start_ms = 1_709_287_230_000;
    let end_ms = start_ms + 300 * 60_000;
    let fetched = source.candles(&btc_usd, Granularity::MINUTE, start_ms, end_ms).unwrap();
    assert_eq!(fetched.items.len(), 300, "every minute of the window, none outside");
    assert_eq!(fetched.items[0].open_ms, 1_709_287_260_000);
    assert!(fetched.items.iter().all(|c| (start_ms..end_ms).contains(&c.open_ms)));
    // The simulator's prices, to the cent as Bitstamp writes them.
    let simulated = sim_close(&sim, fetched.items[7].open_ms);
    assert_eq!(fetched.items[7].close, simulated);
    // More than 1,000 minutes in one request is refused before anything is sent.
    let error = source.candles(&btc_usd, Granularity::MINUTE, start_ms, start_ms + 1001 * 60_000).unwrap_err();
    assert!(error.to_string().contains("at most 1000"), "{error}");
}

/// The minute still open is never a candle (`exclude_current_candle=true`): its close would change.
#[test]
fn the_minute_still_open_is_not_served() {
    let sim = sim::start(SimConfig { budget: None, ..SimConfig::demo(3) }).unwrap();
    // Not within 10 s of a minute's end, so the minute does not turn during the request.
    let into_minute = crate::sim::now_ms().rem_euclid(60_000);
    if into_minute > 50_000 {
        std::thread::sleep(Duration::from_millis(u64::try_from(60_100 - into_minute).unwrap_or(0)));
    }
    let open_now = Granularity::MINUTE.floor(crate::sim::now_ms());
    let fetched = source(&sim.base_url())
        .candles(&market("btcusd", "BTC", "USD"), Granularity::MINUTE, open_now - 5 * 60_000, open_now + 60_000)
        .unwrap();
    let opens: Vec<i64> = fetched.items.iter().map(|c| c.open_ms).collect();
    assert_eq!(opens, (1..=5).rev().map(|n| open_now - n * 60_000).collect::<Vec<_>>());
}

/// The simulated BTC/USD close of the minute opening at `open_ms`, as the simulator writes it.
fn sim_close(sim: &crate::bitstamp::sim::BitstampSim, open_ms: i64) -> rust_decimal::Decimal {
    let close = sim.market().ohlc("BTC", "USD", open_ms, 60_000).unwrap().close;
    crate::sim::amounts::fixed(close, 2).parse().unwrap()
}

/// On the wire: an unsigned GET with the documented parameters (no key, no `X-Auth`), a
/// rate-limit answer retried, the close read exactly from its text.
#[test]
fn a_request_is_an_unsigned_get_and_a_rate_limit_is_retried() {
    let server = TestServer::start(|n, _| {
        if n == 0 {
            Reply::json(429, r#"{"status":"error","reason":"Rate limit"}"#)
        } else {
            Reply::json(
                200,
                r#"{"data":{"pair":"BTC/EUR","ohlc":[
                    {"timestamp":"1700000100","open":"1","high":"1","low":"1","close":"34123.45","volume":"0.1"},
                    {"timestamp":"1700000040","open":"1","high":"1","low":"1","close":34120.1,"volume":"0.1"}]}}"#,
            )
        }
    });
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(1_800_000_000_000));
    let source =
        BitstampPrices::new(Some(&server.url()), ClientConfig::for_tests(Duration::from_millis(500), 3), clock)
            .unwrap();
    let fetched =
        source.candles(&market("btceur", "BTC", "EUR"), Granularity::MINUTE, 1_700_000_040_000, 1_700_000_160_000);
    let fetched = fetched.unwrap();
    let closes: Vec<(i64, String)> = fetched.items.iter().map(|c| (c.open_ms, c.close.to_string())).collect();
    assert_eq!(closes, [(1_700_000_040_000, "34120.1".to_owned()), (1_700_000_100_000, "34123.45".to_owned())]);
    assert_eq!((fetched.requests, fetched.retries), (2, 1));
    let seen = server.seen();
    for request in &seen {
        assert_eq!((request.method.as_str(), request.path.as_str()), ("GET", "/api/v2/ohlc/btceur/"));
        assert_eq!(request.query, "step=60&limit=2&start=1700000040&end=1700000100&exclude_current_candle=true");
        assert_eq!(request.header("X-Auth"), None);
        assert!(request.body.is_empty());
    }
}

#[test]
fn an_answer_that_is_not_ohlc_is_an_error_naming_what_is_wrong() {
    assert!(parse_ohlc(br#"{"data":{"ohlc":[{"timestamp":"x","close":"1"}]}}"#).unwrap_err().contains("timestamp"));
    assert!(parse_ohlc(br#"{"data":{"ohlc":[{"timestamp":"1","close":"abc"}]}}"#).unwrap_err().contains("close"));
    assert!(parse_ohlc(b"[]").unwrap_err().contains("not an OHLC answer"));
    assert_eq!(parse_ohlc(br#"{"data":{"pair":"BTC/USD","ohlc":[]}}"#).unwrap(), Vec::new());
}

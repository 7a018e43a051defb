//! Parsing Gemini's candles, and the source against the simulator.

use super::*;

#[test]
fn candles_are_read_exactly_oldest_first_from_numbers() {
    // Gemini's answer: newest first, every field a JSON number.
    let body = br#"[[1714176000000,68038,68100.5,67900.25,68012.34,12.5],
                    [1714089600000,67000.1,68050,66900,68038.123456789,0]]"#;
    let candles = parse_candles(body).unwrap();
    let closes: Vec<(i64, String)> = candles.iter().map(|c| (c.open_ms, c.close.to_string())).collect();
    assert_eq!(closes, [(1_714_089_600_000, "68038.123456789".to_owned()), (1_714_176_000_000, "68012.34".to_owned())]);
}

#[test]
fn answers_that_are_not_candles_are_errors_naming_what_is_wrong() {
    for (body, words) in [
        (&br#"{"result":"ok"}"#[..], "not a list of candles"),
        (br#"[[1714176000000,1,2]]"#, "candle 0 has 3 fields, not 6"),
        (br#"[["soon",1,2,3,4,5]]"#, "open time"),
        (br#"[[1714176000000,1,2,3,"x",5]]"#, "close"),
    ] {
        let error = parse_candles(body).unwrap_err();
        assert!(error.contains(words), "{}: {error}", String::from_utf8_lossy(body));
    }
}

#[cfg(feature = "sandbox")]
mod against_the_simulator {
    use std::time::Duration;

    use super::*;
    use crate::gemini::sim::{self, SimConfig};
    use crate::http::SystemClock;

    fn source(url: &str) -> GeminiPrices {
        GeminiPrices::new(Some(url), ClientConfig::for_tests(Duration::from_secs(2), 3), Arc::new(SystemClock)).unwrap()
    }

    #[test]
    fn markets_are_the_fiat_quoted_symbols_and_daily_closes_are_the_simulated_markets() {
        let sim = sim::start(SimConfig::demo(3)).unwrap();
        let prices = source(&sim.base_url());
        let markets = prices.markets().unwrap().items;
        let symbols: Vec<&str> = markets.iter().map(|m| m.symbol.as_str()).collect();
        assert!(
            symbols.contains(&"btcusd") && symbols.contains(&"btceur") && symbols.contains(&"btcgbp"),
            "{symbols:?}"
        );
        assert!(!symbols.contains(&"ethbtc") && !symbols.contains(&"ethgusd"), "{symbols:?}");
        let btcusd = markets.iter().find(|m| m.symbol == "btcusd").unwrap();
        assert_eq!((btcusd.base.as_str(), btcusd.quote.as_str()), ("BTC", "USD"));

        // Two windows of one market: one request; the closes are the market's for each day.
        let now = crate::sim::now_ms();
        let day = Granularity::DAY.millis;
        let today = Granularity::DAY.floor(now);
        let first = prices.candles(btcusd, Granularity::DAY, today - 30 * day, today - 20 * day).unwrap();
        let second = prices.candles(btcusd, Granularity::DAY, today - 20 * day, today + day).unwrap();
        assert_eq!((first.requests, second.requests), (1, 0));
        assert_eq!(first.items.len(), 10);
        assert_eq!(second.items.len(), 20, "today's open candle is left out");
        for candle in first.items.iter().chain(&second.items) {
            let expected = sim.market().ohlc("BTC", "USD", candle.open_ms, day).unwrap().close;
            assert_eq!(candle.close, expected.normalize());
        }
        // Beyond the simulator's reach (its 1,000 most recent days): nothing, and no request.
        let old = prices.candles(btcusd, Granularity::DAY, today - 1_200 * day, today - 1_100 * day).unwrap();
        assert!(old.items.is_empty());
        assert_eq!(old.requests, 0);
        // Before Gemini opened: not asked.
        let eth = markets.iter().find(|m| m.symbol == "ethusd").unwrap();
        let before = prices.candles(eth, Granularity::DAY, LAUNCH_MS - 10 * day, LAUNCH_MS).unwrap();
        assert_eq!((before.items.len(), before.requests), (0, 0));
        assert_eq!(sim.stats().requests_by_path.get("/v2/candles/btcusd/1day"), Some(&1));
        assert_eq!(sim.stats().requests_by_path.get("/v2/candles/ethusd/1day"), None);
        // A minute window is refused: the source asks daily candles only.
        assert!(matches!(
            prices.candles(btcusd, Granularity::MINUTE, today - 60_000, today),
            Err(FetchError::Setup { .. })
        ));
        assert_eq!(prices.granularity(now - 3_600_000, now), Granularity::DAY);
    }
}

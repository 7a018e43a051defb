//! Binance's public candles as a price source: `GET /api/v3/exchangeInfo` and `GET /api/v3/klines`.
//!
//! [`BinancePrices`] lists every symbol `exchangeInfo` returns (delisted ones with status
//! `BREAK` included: they keep serving their candles) with its base and quote mapped to
//! canonical symbols, and asks `klines` (weight 2 in the `api` bucket,
//! <https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints>)
//! for up to 1000 candles per request, taking each candle's close. Binance keeps one-minute
//! candles from each symbol's listing on, so the finest granularity is always a minute. The
//! requests are plain unsigned GETs through [`BinanceApi`] (no key), with its own limiter.
use std::sync::Arc;

use serde_json::value::RawValue;

use super::api::{BinanceApi, Endpoint, malformed};
use super::assets;
use crate::Secret;
use crate::http::{ClientConfig, Clock, FetchError};
use crate::prices::{Candle, CandleSource, CloseText, Fetched, Market, Window, candle_rows};

/// The exchange's name in errors and as a price's source.
const NAME: &str = "binance";

/// The most candles one `klines` request returns (Binance's `limit` maximum).
pub const MAX_KLINES: u32 = 1000;

/// Binance's interval names with their lengths in ms (the ones a
/// [`Granularity`](crate::prices::Granularity) can be).
const INTERVALS: &[(&str, i64)] = &[
    ("1s", 1_000),
    ("1m", 60_000),
    ("3m", 180_000),
    ("5m", 300_000),
    ("15m", 900_000),
    ("30m", 1_800_000),
    ("1h", 3_600_000),
    ("2h", 7_200_000),
    ("4h", 14_400_000),
    ("6h", 21_600_000),
    ("8h", 28_800_000),
    ("12h", 43_200_000),
    ("1d", 86_400_000),
];

/// Binance's public candles (`name` "binance").
#[derive(Debug, Clone)]
pub struct BinancePrices {
    api: BinanceApi,
}

impl BinancePrices {
    /// A source talking to `base_url` (production, `https://api.binance.com`, when `None`)
    /// with a limiter of its own (Binance's buckets, [`BinanceApi::new_limiter`]).
    pub fn new(base_url: Option<&str>, config: ClientConfig, clock: Arc<dyn Clock>) -> Result<Self, FetchError> {
        let limiter = BinanceApi::new_limiter(Arc::clone(&clock));
        let api = BinanceApi::new(base_url, Secret::new(""), Secret::new(""), "prices", limiter, config, clock)?;
        Ok(BinancePrices { api })
    }

    /// The API handle (its client and limiter), for statistics.
    pub fn api(&self) -> &BinanceApi {
        &self.api
    }
}

/// The canonical symbol of an asset code in a symbol list, which has no date: Binance's fixed
/// renames apply (`BCC` → `BCH`), the dated one does not (`LUNA` is today's LUNA).
fn canonical(code: &str) -> String {
    assets::asset(code, i64::MAX)
}

/// The candles of one `klines` answer (`[[openTime, open, high, low, close, …], …]`), closes
/// read exactly from their decimal text.
fn parse_klines(body: &[u8]) -> Result<Vec<Candle>, String> {
    let rows: Vec<Vec<&RawValue>> = serde_json::from_slice(body).map_err(|error| error.to_string())?;
    candle_rows(&rows, 1, CloseText::String, 12)
}

impl CandleSource for BinancePrices {
    fn name(&self) -> &'static str {
        NAME
    }

    fn markets(&self) -> Result<Fetched<Market>, FetchError> {
        let (symbols, attempts) = self.api.symbols()?;
        let items: Vec<Market> = symbols
            .into_iter()
            .map(|symbol| Market {
                base: canonical(&symbol.base_asset),
                quote: canonical(&symbol.quote_asset),
                symbol: symbol.symbol,
            })
            .collect();
        Ok(Fetched::markets(items, attempts))
    }

    fn max_candles(&self) -> u32 {
        MAX_KLINES
    }

    fn candles_in(&self, window: &Window<'_>) -> Result<Fetched<Candle>, FetchError> {
        let Window { market, granularity, start_ms, end_ms } = *window;
        let Some(&(interval, _)) = INTERVALS.iter().find(|(_, millis)| *millis == granularity.millis) else {
            let reason = format!("Binance has no {} candles", granularity.name);
            return Err(FetchError::Setup { exchange: NAME.to_owned(), reason });
        };
        let Some(wanted) = window.wanted(NAME, "Binance", MAX_KLINES)? else {
            return Ok(Fetched::default());
        };
        let params = [
            ("symbol", market.symbol.clone()),
            ("interval", interval.to_owned()),
            ("startTime", start_ms.to_string()),
            ("endTime", (end_ms - 1).to_string()),
            ("limit", wanted.to_string()),
        ];
        let answer = self.api.get(Endpoint::Klines, &params)?;
        let items = parse_klines(&answer.body).map_err(|reason| malformed(Endpoint::Klines, reason))?;
        Ok(window.inside(items, answer.attempts))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use rust_decimal::Decimal;

    use super::*;
    use crate::binance::sim::{self as binance_sim, BinanceSim, Limits, SimConfig};
    use crate::http::ManualClock;
    use crate::prices::Granularity;
    use crate::sim::faults::{FaultConfig, FaultKind};
    use crate::sim::generate::{self, PRICE_HISTORY_START_MS, Profile};

    /// 2024-03-02T10:00:00Z.
    const MARCH_2024: i64 = 1_709_373_600_000;

    fn fast() -> ClientConfig {
        ClientConfig::for_tests(Duration::from_secs(5), 6)
    }

    fn sim(faults: Option<FaultConfig>) -> BinanceSim {
        binance_sim::start(SimConfig { limits: Limits::Off, faults, ..SimConfig::demo(1) }).unwrap()
    }

    fn source(sim: &BinanceSim) -> BinancePrices {
        // A manual clock: the limiter's and the retries' waits take no time.
        BinancePrices::new(Some(&sim.base_url()), fast(), Arc::new(ManualClock::new(MARCH_2024))).unwrap()
    }

    fn btc_usdt() -> Market {
        Market { symbol: "BTCUSDT".to_owned(), base: "BTC".to_owned(), quote: "USDT".to_owned() }
    }

    #[test]
    fn markets_are_every_symbol_of_exchange_info_delisted_ones_included() {
        let sim = sim(None);
        let fetched = source(&sim).markets().unwrap();
        assert_eq!((fetched.requests, fetched.retries), (1, 0));
        let world = generate::generate(1, &Profile::demo());
        let mut expected: Vec<Market> = world
            .market
            .pairs()
            .iter()
            .map(|pair| Market { symbol: pair.symbol.clone(), base: pair.base.clone(), quote: pair.quote.clone() })
            .collect();
        expected.sort();
        assert_eq!(fetched.items, expected);
        assert!(fetched.items.iter().any(|market| market.symbol == "WAVESBTC"), "the delisted symbol");
        assert_eq!(sim.stats().requests_by_path.get("/api/v3/exchangeInfo"), Some(&1));
    }

    #[test]
    fn a_thousand_minute_closes_are_the_market_prices() {
        let sim = sim(None);
        let source = source(&sim);
        assert_eq!((source.name(), source.max_candles()), ("binance", 1000));
        assert_eq!(source.granularity(PRICE_HISTORY_START_MS, MARCH_2024), Granularity::MINUTE);
        let end = MARCH_2024 + 1000 * 60_000;
        let fetched = source.candles(&btc_usdt(), Granularity::MINUTE, MARCH_2024, end).unwrap();
        assert_eq!((fetched.requests, fetched.retries), (1, 0));
        assert_eq!(fetched.items.len(), 1000);
        let world = generate::generate(1, &Profile::demo());
        let pair = world.market.pair("BTCUSDT").unwrap();
        for (index, candle) in fetched.items.iter().enumerate() {
            assert_eq!(candle.open_ms, MARCH_2024 + 60_000 * index as i64);
            assert_eq!(Some(candle.close), world.market.pair_price(pair, candle.open_ms));
        }
        // By hand: prices start at the generator's 16600 USD for BTC and 1 USD for USDT.
        let first =
            source.candles(&btc_usdt(), Granularity::MINUTE, PRICE_HISTORY_START_MS, PRICE_HISTORY_START_MS + 120_000);
        let first = first.unwrap();
        assert_eq!(first.items.len(), 2);
        assert_eq!(first.items[0], Candle { open_ms: PRICE_HISTORY_START_MS, close: Decimal::new(1_660_000, 2) });
        // Before the listing there is nothing; more than 1000 candles is refused before asking.
        let before = source.candles(
            &btc_usdt(),
            Granularity::MINUTE,
            PRICE_HISTORY_START_MS - 3_600_000,
            PRICE_HISTORY_START_MS,
        );
        assert!(before.unwrap().items.is_empty());
        let too_many = source.candles(&btc_usdt(), Granularity::MINUTE, MARCH_2024, end + 60_000);
        assert!(matches!(too_many, Err(FetchError::Setup { .. })), "{too_many:?}");
        let requests = sim.stats().requests_by_path.get("/api/v3/klines").copied();
        assert_eq!(requests, Some(3));
        // Hours and days too, with Binance's interval names.
        let hours = source.candles(&btc_usdt(), Granularity::HOUR, MARCH_2024, MARCH_2024 + 5 * 3_600_000).unwrap();
        assert_eq!(hours.items.len(), 5);
        assert_eq!(Some(hours.items[0].close), world.market.pair_price(pair, MARCH_2024 + 3_540_000));
    }

    #[test]
    fn a_delisted_symbol_serves_candles_up_to_its_delisting() {
        let sim = sim(None);
        let source = source(&sim);
        let world = generate::generate(1, &Profile::demo());
        let pair = world.market.pairs().iter().find(|pair| pair.delisted_ms.is_some()).unwrap();
        let delisted = pair.delisted_ms.unwrap();
        let market = Market { symbol: pair.symbol.clone(), base: pair.base.clone(), quote: pair.quote.clone() };
        let start = Granularity::MINUTE.floor(delisted) - 10 * 60_000;
        let fetched = source.candles(&market, Granularity::MINUTE, start, start + 30 * 60_000).unwrap();
        assert!(!fetched.items.is_empty() && fetched.items.len() < 30, "{}", fetched.items.len());
        assert!(fetched.items.iter().all(|candle| candle.open_ms < delisted));
    }

    #[test]
    fn an_unknown_symbol_is_binances_invalid_symbol() {
        let sim = sim(None);
        let market = Market { symbol: "USDCBTC".to_owned(), base: "USDC".to_owned(), quote: "BTC".to_owned() };
        let error = source(&sim).candles(&market, Granularity::MINUTE, MARCH_2024, MARCH_2024 + 60_000).unwrap_err();
        match error {
            FetchError::Api { code, status, .. } => assert_eq!((code.as_str(), status), ("-1121", 400)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn rate_limits_and_server_errors_are_retried() {
        let faults = FaultConfig {
            rate_permille: 300,
            seed: 4,
            kinds: vec![FaultKind::TooManyRequests, FaultKind::ServerError],
        };
        let sim = sim(Some(faults));
        let source = source(&sim);
        let mut retries = 0;
        for hour in 0..10 {
            let start = MARCH_2024 + hour * 3_600_000;
            let fetched = source.candles(&btc_usdt(), Granularity::MINUTE, start, start + 3_600_000).unwrap();
            assert_eq!(fetched.items.len(), 60);
            assert_eq!(fetched.requests, fetched.retries + 1);
            retries += fetched.retries;
        }
        let stats = sim.stats();
        assert!(retries > 0 && u64::from(retries) == stats.faults, "{retries} retries, {} faults", stats.faults);
    }

    #[test]
    fn klines_rows_are_read_exactly() {
        let body = br#"[[1499040000000,"0.01634790","0.80000000","0.01575800","0.01577100","148976.11427815",1499644799999,"2434.19055334",308,"1756.87402397","28.46694368","0"]]"#;
        let candles = parse_klines(body).unwrap();
        assert_eq!(candles, vec![Candle { open_ms: 1_499_040_000_000, close: Decimal::new(1_577_100, 8) }]);
        assert!(parse_klines(br#"[[1499040000000,"1"]]"#).is_err());
        assert!(parse_klines(br#"[[1499040000000,"1","1","1",1.5,"1"]]"#).is_err());
        assert_eq!(canonical("BCC"), "BCH");
        assert_eq!(canonical("LUNA"), "LUNA");
    }
}

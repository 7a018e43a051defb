//! Coinbase Exchange's public candles as a price source: `GET /products` and
//! `GET /products/{id}/candles` on `https://api.exchange.coinbase.com`
//! (<https://docs.cdp.coinbase.com/exchange/reference/exchangerestapi_getproductcandles>).
//!
//! No key is needed. [`CoinbasePrices`] lists every product (`BTC-USD`: `base_currency`,
//! `quote_currency`) and asks for at most 300 candles per request, `granularity` in seconds
//! and `start`/`end` as ISO 8601 times. Rows come as arrays `[time, low, high, open, close,
//! volume]` (numbers, not strings: read from their JSON text, never through a float), newest
//! first; minutes without trades are missing. [`CoinbaseExchangeProtocol`] judges answers:
//! errors are `{"message": …}`, 429 is a rate limit (back off and retry), 5xx is retried. The
//! limiter has one bucket, `public`, 10 requests per second (Coinbase allows 10/s with bursts
//! of 15 per IP, <https://docs.cdp.coinbase.com/exchange/rest-api/rate-limits>).

use std::sync::Arc;

use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::asset::asset_symbol;
use crate::http::answer::{complete_json, malformed, parse, snippet};
use crate::http::{
    Answer, BucketKind, Client, ClientConfig, Clock, FetchError, Limiter, Method, Prepared, Protocol, Request, Usage,
    Verdict, encode_query, retry_after,
};
use crate::prices::{Candle, CandleSource, CloseText, Fetched, Market, Window, candle_rows};
use crate::time::{format_rfc3339, from_millis};

/// The exchange's name in errors and as a price's source.
const NAME: &str = "coinbase";

/// Coinbase Exchange's production API.
pub const DEFAULT_BASE_URL: &str = "https://api.exchange.coinbase.com";

/// The limiter bucket of the public endpoints (per IP).
pub const PUBLIC_BUCKET: &str = "public";

/// Public requests allowed per second.
pub const PUBLIC_PER_SECOND: u64 = 10;

/// The most candles one request may cover (Coinbase refuses larger ranges).
pub const MAX_CANDLES: u32 = 300;

/// The candle lengths Coinbase Exchange serves, in seconds.
pub const GRANULARITIES: [i64; 6] = [60, 300, 900, 3_600, 21_600, 86_400];

/// How Coinbase Exchange's public API reads: no signing, `{"message": …}` errors.
pub struct CoinbaseExchangeProtocol {
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for CoinbaseExchangeProtocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CoinbaseExchangeProtocol").finish_non_exhaustive()
    }
}

impl CoinbaseExchangeProtocol {
    /// A protocol reading `Retry-After` against `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> CoinbaseExchangeProtocol {
        CoinbaseExchangeProtocol { clock }
    }
}

/// Coinbase Exchange's error body.
#[derive(Deserialize)]
struct ErrorBody {
    message: Option<String>,
}

impl Protocol for CoinbaseExchangeProtocol {
    fn exchange(&self) -> &'static str {
        NAME
    }

    fn prepare(&self, request: &Request) -> Result<Prepared, FetchError> {
        Ok(Prepared { query: encode_query(&request.params), body: None, headers: Vec::new() })
    }

    fn judge(&self, request: &Request, status: u16, headers: &HeaderMap, body: &[u8]) -> Verdict {
        if (200..300).contains(&status) {
            return complete_json(status, body);
        }
        let message = serde_json::from_slice::<ErrorBody>(body)
            .ok()
            .and_then(|error| error.message)
            .unwrap_or_else(|| snippet(body));
        let after = retry_after(headers, self.clock.now_ms());
        if status == 429 {
            return Verdict::RateLimited { retry_after: after };
        }
        if status >= 500 {
            return Verdict::Retry { reason: format!("HTTP {status}: {message}"), after };
        }
        // A one-word message is Coinbase's code for the error (`NotFound`).
        let code = if !message.is_empty() && message.bytes().all(|byte| byte.is_ascii_alphanumeric()) {
            message.clone()
        } else {
            String::new()
        };
        Verdict::Fail(FetchError::Api {
            exchange: NAME.to_owned(),
            endpoint: request.endpoint.to_owned(),
            status,
            code,
            message,
        })
    }

    fn observe(&self, _request: &Request, _headers: &HeaderMap) -> Vec<Usage> {
        // Coinbase Exchange sends no usage headers on public endpoints.
        Vec::new()
    }
}

/// The environment variable that sets the pace of public requests (requests per second) for
/// a simulator on this machine (one without limits, say); it has no effect on any other host.
#[cfg(feature = "sandbox")]
pub const RATE_ENV: &str = "COINTALLY_COINBASE_EXCHANGE_RATE";

/// Requests per second the client sends by default: under the public limit of 10 (burst 15),
/// so that clock and network jitter do not earn a 429.
const PACE_PER_SECOND: f64 = 9.5;

/// Requests per second sent to `base_url`: a little under Coinbase's limit; with the
/// `sandbox` feature, what `COINTALLY_COINBASE_EXCHANGE_RATE` says (a positive number) when
/// `base_url` is a loopback address (a simulator), never for a real Coinbase host.
fn pace(base_url: Option<&str>) -> f64 {
    #[cfg(feature = "sandbox")]
    {
        let rate = std::env::var(RATE_ENV).ok();
        sandbox_pace(base_url, rate.as_deref())
    }
    #[cfg(not(feature = "sandbox"))]
    {
        let _ = base_url;
        PACE_PER_SECOND
    }
}

/// The pace `rate` (requests per second, positive) when `base_url` is a loopback address;
/// the default pace otherwise.
#[cfg(feature = "sandbox")]
fn sandbox_pace(base_url: Option<&str>, rate: Option<&str>) -> f64 {
    match rate.and_then(|rate| rate.trim().parse::<f64>().ok()).filter(|rate| *rate > 0.0) {
        Some(rate) if base_url.is_some_and(crate::http::is_loopback_url) => rate,
        _ => PACE_PER_SECOND,
    }
}

/// Coinbase Exchange's public candles (`name` "coinbase").
#[derive(Debug, Clone)]
pub struct CoinbasePrices {
    client: Arc<Client>,
}

impl CoinbasePrices {
    /// A source talking to `base_url` (production, [`DEFAULT_BASE_URL`], when `None`) with a
    /// limiter of its own, paced a little under Coinbase's limit.
    pub fn new(base_url: Option<&str>, config: ClientConfig, clock: Arc<dyn Clock>) -> Result<Self, FetchError> {
        CoinbasePrices::with_rate(base_url, config, clock, pace(base_url))
    }

    /// [`CoinbasePrices::new`] paced at `per_second` requests (a simulator without limits).
    pub fn with_rate(
        base_url: Option<&str>,
        config: ClientConfig,
        clock: Arc<dyn Clock>,
        per_second: f64,
    ) -> Result<Self, FetchError> {
        let limiter = CoinbasePrices::new_limiter_with_rate(Arc::clone(&clock), per_second);
        let protocol: Arc<dyn Protocol> = Arc::new(CoinbaseExchangeProtocol::new(Arc::clone(&clock)));
        let client = Client::new(protocol, base_url.unwrap_or(DEFAULT_BASE_URL), limiter, config, clock)?;
        Ok(CoinbasePrices { client: Arc::new(client) })
    }

    /// A limiter with Coinbase Exchange's public bucket, paced a little under its 10 requests
    /// per second with bursts of 15 (a token bucket, which the decaying counter models).
    pub fn new_limiter(clock: Arc<dyn Clock>) -> Arc<Limiter> {
        CoinbasePrices::new_limiter_with_rate(clock, PACE_PER_SECOND)
    }

    /// A limiter paced at `per_second` requests (bursts of a little more).
    pub fn new_limiter_with_rate(clock: Arc<dyn Clock>, per_second: f64) -> Arc<Limiter> {
        let limiter = Limiter::new(clock);
        let capacity = (per_second * 1.2).ceil().max(1.0) as u64;
        limiter.declare(PUBLIC_BUCKET, BucketKind::Decay { capacity, per_second });
        Arc::new(limiter)
    }

    /// The HTTP client (base URL, limiter), for statistics.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// GETs `path` with `params` through the limiter, retrying what can be retried.
    fn send(&self, endpoint: &'static str, path: String, params: Vec<(String, String)>) -> Result<Answer, FetchError> {
        let request =
            Request { endpoint, method: Method::Get, path, params, costs: vec![(PUBLIC_BUCKET.to_owned(), 1)] };
        self.client.send(&request)
    }
}

/// One product of `GET /products`, the fields a market needs.
#[derive(Deserialize)]
struct Product {
    id: String,
    base_currency: String,
    quote_currency: String,
}

/// The candles of one answer (`[[time, low, high, open, close, volume], …]`, newest first),
/// oldest first.
fn parse_candles(body: &[u8]) -> Result<Vec<Candle>, String> {
    let rows: Vec<Vec<&RawValue>> = serde_json::from_slice(body).map_err(|error| error.to_string())?;
    candle_rows(&rows, 1000, CloseText::StringOrNumber, 6)
}

impl CandleSource for CoinbasePrices {
    fn name(&self) -> &'static str {
        NAME
    }

    fn markets(&self) -> Result<Fetched<Market>, FetchError> {
        let answer = self.send("products", "/products".to_owned(), Vec::new())?;
        let products: Vec<Product> = parse(NAME, "products", &answer.body)?;
        let mut items = Vec::with_capacity(products.len());
        for product in products {
            // A product whose currencies are not tickers cannot be priced; skip it.
            let (Ok(base), Ok(quote)) = (asset_symbol(&product.base_currency), asset_symbol(&product.quote_currency))
            else {
                log::debug!("coinbase: product {} has unusual currencies; skipped", product.id);
                continue;
            };
            items.push(Market { symbol: product.id, base, quote });
        }
        Ok(Fetched::markets(items, answer.attempts))
    }

    fn max_candles(&self) -> u32 {
        MAX_CANDLES
    }

    fn candles_in(&self, window: &Window<'_>) -> Result<Fetched<Candle>, FetchError> {
        let Window { market, granularity, start_ms, .. } = *window;
        let seconds = granularity.millis / 1000;
        if granularity.millis % 1000 != 0 || !GRANULARITIES.contains(&seconds) {
            let reason = format!("Coinbase Exchange has no {} candles", granularity.name);
            return Err(FetchError::Setup { exchange: NAME.to_owned(), reason });
        }
        let Some(wanted) = window.wanted(NAME, "Coinbase", MAX_CANDLES)? else {
            return Ok(Fetched::default());
        };
        // `end` is the open time of the last candle wanted (Coinbase includes it).
        let last_open = start_ms + (wanted - 1) * granularity.millis;
        let params = vec![
            ("granularity".to_owned(), seconds.to_string()),
            ("start".to_owned(), format_rfc3339(from_millis(start_ms))),
            ("end".to_owned(), format_rfc3339(from_millis(last_open))),
        ];
        let path = format!("/products/{}/candles", encode_path_segment(&market.symbol));
        let answer = self.send("candles", path, params)?;
        let items = parse_candles(&answer.body).map_err(|reason| malformed(NAME, "candles", reason))?;
        Ok(window.inside(items, answer.attempts))
    }
}

/// A product id as a path segment: ids are `BASE-QUOTE` tickers; anything else is escaped.
fn encode_path_segment(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for byte in id.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;
    use std::time::Duration;

    use super::*;
    use crate::coinbase::sim::market::minute_missing;
    use crate::coinbase::sim::{self as coinbase_sim, CoinbaseSim, CoinbaseSimConfig, Limits};
    use crate::http::ManualClock;
    use crate::prices::Granularity;
    use crate::sim::faults::{FaultConfig, FaultKind};
    use crate::sim::generate::PRICE_HISTORY_START_MS;

    /// 2024-03-02T10:00:00Z.
    const MARCH_2024: i64 = 1_709_373_600_000;

    fn fast() -> ClientConfig {
        ClientConfig::for_tests(Duration::from_secs(5), 6)
    }

    fn sim(limits: Limits, faults: Option<FaultConfig>) -> CoinbaseSim {
        coinbase_sim::start(CoinbaseSimConfig { limits, faults, ..CoinbaseSimConfig::demo(1) }).unwrap()
    }

    fn source(sim: &CoinbaseSim) -> CoinbasePrices {
        // A manual clock: the limiter's and the retries' waits take no time.
        CoinbasePrices::new(Some(&sim.base_url()), fast(), Arc::new(ManualClock::new(MARCH_2024))).unwrap()
    }

    fn market(symbol: &str) -> Market {
        let (base, quote) = symbol.split_once('-').unwrap();
        Market { symbol: symbol.to_owned(), base: base.to_owned(), quote: quote.to_owned() }
    }

    #[test]
    fn markets_are_the_products() {
        let sim = sim(Limits::Real, None);
        let fetched = source(&sim).markets().unwrap();
        assert_eq!((fetched.requests, fetched.retries), (1, 0));
        let expected: Vec<Market> = sim
            .products()
            .iter()
            .map(|product| Market {
                symbol: product.id.clone(),
                base: product.base.clone(),
                quote: product.quote.clone(),
            })
            .collect();
        assert_eq!(fetched.items, expected);
        assert!(fetched.items.contains(&market("USDT-GBP")) && fetched.items.contains(&market("SOLO-USD")));
    }

    #[test]
    fn three_hundred_minutes_in_one_request_sorted_with_the_missing_ones_left_out() {
        let sim = sim(Limits::Real, None);
        let source = source(&sim);
        assert_eq!((source.name(), source.max_candles()), ("coinbase", 300));
        assert_eq!(source.granularity(PRICE_HISTORY_START_MS, MARCH_2024), Granularity::MINUTE);
        let end = MARCH_2024 + 300 * 60_000;
        let fetched = source.candles(&market("BTC-EUR"), Granularity::MINUTE, MARCH_2024, end).unwrap();
        assert_eq!((fetched.requests, fetched.retries), (1, 0));
        let expected: Vec<i64> = (0..300)
            .map(|minute| MARCH_2024 + minute * 60_000)
            .filter(|open| !minute_missing(1, "BTC-EUR", *open))
            .collect();
        let opens: Vec<i64> = fetched.items.iter().map(|candle| candle.open_ms).collect();
        assert_eq!(opens, expected, "oldest first, missing minutes left out");
        assert!(opens.len() < 300);
        for candle in &fetched.items {
            assert_eq!(Some(candle.close), sim.market().price("BTC", "EUR", candle.open_ms));
        }
        // By hand: at the market's start BTC is 16600 USD and EUR 1.07 USD, so
        // 16600 / 1.07 = 15514.018691588… EUR, 15514.02 at the 2 places of the market's BTCEUR.
        let first = source.candles(
            &market("BTC-EUR"),
            Granularity::MINUTE,
            PRICE_HISTORY_START_MS,
            PRICE_HISTORY_START_MS + 60_000,
        );
        let first = first.unwrap();
        assert!(!minute_missing(1, "BTC-EUR", PRICE_HISTORY_START_MS));
        assert_eq!(first.items, vec![Candle { open_ms: PRICE_HISTORY_START_MS, close: Decimal::new(1_551_402, 2) }]);
        // And where the market has no symbol, to 8 places: 1200 / 1.27 = 944.881889763… GBP.
        let eth = source.candles(
            &market("ETH-GBP"),
            Granularity::MINUTE,
            PRICE_HISTORY_START_MS,
            PRICE_HISTORY_START_MS + 60_000,
        );
        assert!(!minute_missing(1, "ETH-GBP", PRICE_HISTORY_START_MS));
        assert_eq!(eth.unwrap().items[0].close, Decimal::new(94_488_188_976, 8));
        let too_many = source.candles(&market("BTC-EUR"), Granularity::MINUTE, MARCH_2024, end + 60_000);
        assert!(matches!(too_many, Err(FetchError::Setup { .. })), "{too_many:?}");
        assert_eq!(sim.stats().candle_requests, 3);
        // Hours too, in the same request shape.
        let hours = source.candles(&market("ETH-USD"), Granularity::HOUR, MARCH_2024, MARCH_2024 + 300 * 3_600_000);
        let hours = hours.unwrap();
        assert_eq!(hours.items.len(), 300);
        assert_eq!(Some(hours.items[1].close), sim.market().price("ETH", "USD", MARCH_2024 + 2 * 3_600_000 - 60_000));
    }

    #[test]
    fn an_unknown_product_is_not_found() {
        let sim = sim(Limits::Real, None);
        let error = source(&sim).candles(&market("NOPE-USD"), Granularity::MINUTE, MARCH_2024, MARCH_2024 + 60_000);
        match error.unwrap_err() {
            FetchError::Api { status, code, message, .. } => {
                assert_eq!((status, code.as_str(), message.as_str()), (404, "NotFound", "NotFound"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn rate_limits_and_server_errors_are_retried() {
        let faults = FaultConfig {
            rate_permille: 300,
            seed: 9,
            kinds: vec![FaultKind::TooManyRequests, FaultKind::ServerError],
        };
        let sim = sim(Limits::Off, Some(faults));
        let source = source(&sim);
        let mut retries = 0;
        for hour in 0..10 {
            let start = MARCH_2024 + hour * 3_600_000;
            let fetched = source.candles(&market("ETH-USD"), Granularity::MINUTE, start, start + 3_600_000).unwrap();
            assert!(fetched.items.len() > 50 && fetched.items.len() <= 60);
            assert_eq!(fetched.requests, fetched.retries + 1);
            retries += fetched.retries;
        }
        let stats = sim.stats();
        assert!(retries > 0 && u64::from(retries) == stats.faults, "{retries} retries, {} faults", stats.faults);
    }

    #[test]
    fn the_limiter_keeps_a_busy_client_within_the_public_limit() {
        let sim = sim(Limits::Real, None);
        // The real clock here: the sim meters real time.
        let source = CoinbasePrices::new(Some(&sim.base_url()), fast(), Arc::new(crate::http::SystemClock)).unwrap();
        for index in 0..30 {
            let start = MARCH_2024 + index * 60_000;
            let fetched = source.candles(&market("BTC-USD"), Granularity::MINUTE, start, start + 60_000).unwrap();
            assert!(fetched.items.len() <= 1);
        }
        let stats = sim.stats();
        // The client never sends faster than 10 per second, so a 429 is rare; any is retried.
        assert_eq!(stats.candle_requests, 30 + stats.rate_limited);
    }

    #[test]
    fn the_pace_switch_works_only_against_a_loopback_host() {
        let local = Some("http://127.0.0.1:8123");
        assert_eq!(sandbox_pace(local, Some("1000")), 1000.0);
        assert_eq!(sandbox_pace(Some("http://localhost:9"), Some(" 2.5 ")), 2.5);
        // A real Coinbase host, none (production), or a rate that is no positive number: the default.
        assert_eq!(sandbox_pace(Some(DEFAULT_BASE_URL), Some("1000")), PACE_PER_SECOND);
        assert_eq!(sandbox_pace(None, Some("1000")), PACE_PER_SECOND);
        for rate in [None, Some("fast"), Some("0"), Some("-3")] {
            assert_eq!(sandbox_pace(local, rate), PACE_PER_SECOND, "{rate:?}");
        }
    }

    #[test]
    fn rows_are_read_exactly_from_numbers_or_text() {
        let body = br#"[[1415398800,0.32,4.2,0.35,4.2,12.3],[1415398740,"0.3","0.4","0.3","0.00001234","1"],[1415398680,1,1,1,1e-8,1]]"#;
        let candles = parse_candles(body).unwrap();
        let closes: Vec<(i64, Decimal)> = candles.iter().map(|candle| (candle.open_ms, candle.close)).collect();
        assert_eq!(
            closes,
            vec![
                (1_415_398_680_000, Decimal::new(1, 8)),
                (1_415_398_740_000, Decimal::new(1_234, 8)),
                (1_415_398_800_000, Decimal::new(42, 1)),
            ]
        );
        assert!(parse_candles(br#"[[1415398800,0.32]]"#).is_err());
        assert!(parse_candles(br#"{"message":"x"}"#).is_err());
        assert_eq!(encode_path_segment("BTC-USD"), "BTC-USD");
        assert_eq!(encode_path_segment("A/B"), "A%2FB");
    }
}

//! The simulator's public market data: `GET /products`, `GET /products/{id}` and
//! `GET /products/{id}/candles`, as Coinbase Exchange serves them
//! (<https://docs.cdp.coinbase.com/exchange/docs/welcome>).
//!
//! Products: `X-USD` for every crypto asset of the generated market, `X-EUR` and `X-GBP` for
//! the majors ([`MAJORS`]), which include the stablecoins (`USDT-USD`, `USDC-USD`, `USDT-EUR`,
//! `USDT-GBP`). A candle's prices are the market's ([`Market::ohlc`]): a one-minute candle has
//! open = high = low = close = the price of that minute. Candles exist from the market's start
//! (every product is listed then) up to now; about 2 % of the minutes have no trades and no
//! candle, chosen from the seed. Rows are `[time, low, high, open, close, volume]` with JSON
//! numbers, newest first; `granularity` must be one of 60, 300, 900, 3600, 21600, 86400; a
//! range of more than 300 candles is refused; `start`/`end` are ISO 8601 or Unix seconds, and
//! when either is missing both are ignored (the latest 300 candles).

use rust_decimal::Decimal;
use serde::Serialize;

use crate::http::percent_decode;
use crate::sim::generate::Market;
use crate::sim::json;
use crate::sim::server::{Request, Response};

/// Crypto assets quoted in EUR and GBP as well as USD.
pub const MAJORS: &[&str] = &["ADA", "BTC", "DOGE", "ETH", "LINK", "LTC", "SOL", "USDC", "USDT", "XRP"];

/// The candle lengths served, in seconds.
const GRANULARITIES: [i64; 6] = [60, 300, 900, 3_600, 21_600, 86_400];

/// The most candles one request may cover.
const MAX_CANDLES: i64 = 300;

/// Minutes without trades, per thousand.
const MISSING_PERMILLE: u64 = 20;

/// Assets Coinbase does not list (Binance's own coin): a ledger prices them through Binance,
/// by a cross rate.
const NOT_LISTED: &[&str] = &["BNB"];

/// One product the simulator lists.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Product {
    /// `BTC-USD`.
    pub id: String,
    /// Base currency.
    pub base: String,
    /// Quote currency.
    pub quote: String,
}

/// Every product of `market`, sorted by id.
pub fn products(market: &Market) -> Vec<Product> {
    let mut products = Vec::new();
    for asset in market.assets().filter(|asset| !crate::asset::is_fiat(asset) && !NOT_LISTED.contains(asset)) {
        let quotes: &[&str] = if MAJORS.contains(&asset) { &["USD", "EUR", "GBP"] } else { &["USD"] };
        for quote in quotes {
            products.push(Product {
                id: format!("{asset}-{quote}"),
                base: asset.to_owned(),
                quote: (*quote).to_owned(),
            });
        }
    }
    products.sort();
    products
}

/// An error answer: `{"message": …}`.
pub fn message(status: u16, text: &str) -> Response {
    Response::json_value(status, &serde_json::json!({ "message": text }))
}

/// A product as `GET /products` lists it.
#[derive(Serialize)]
struct ProductJson<'a> {
    id: &'a str,
    base_currency: &'a str,
    quote_currency: &'a str,
    quote_increment: &'static str,
    base_increment: &'static str,
    display_name: String,
    min_market_funds: &'static str,
    margin_enabled: bool,
    post_only: bool,
    limit_only: bool,
    cancel_only: bool,
    status: &'static str,
    status_message: &'static str,
    trading_disabled: bool,
    fx_stablecoin: bool,
    max_slippage_percentage: &'static str,
    auction_mode: bool,
    high_bid_limit_percentage: &'static str,
}

fn product_json(product: &Product) -> ProductJson<'_> {
    let fiat = crate::asset::is_fiat(&product.quote);
    ProductJson {
        id: &product.id,
        base_currency: &product.base,
        quote_currency: &product.quote,
        quote_increment: if fiat { "0.01" } else { "0.00000001" },
        base_increment: "0.00000001",
        display_name: format!("{}/{}", product.base, product.quote),
        min_market_funds: "1",
        margin_enabled: false,
        post_only: false,
        limit_only: false,
        cancel_only: false,
        status: "online",
        status_message: "",
        trading_disabled: false,
        fx_stablecoin: matches!(product.base.as_str(), "USDT" | "USDC"),
        max_slippage_percentage: "0.02000000",
        auction_mode: false,
        high_bid_limit_percentage: "",
    }
}

/// A query parameter (first value), decoded; `None` when absent or empty.
fn param(query: &str, name: &str) -> Option<String> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
        .find(|(key, _)| percent_decode(key) == name)
        .map(|(_, value)| percent_decode(value))
        .filter(|value| !value.trim().is_empty())
}

/// A time parameter: Unix seconds (possibly with a fraction) or ISO 8601; in ms.
fn time_param(text: &str) -> Option<i64> {
    let text = text.trim();
    if text.bytes().all(|byte| byte.is_ascii_digit() || byte == b'.') {
        let seconds: Decimal = text.parse().ok()?;
        return i64::try_from((seconds * Decimal::ONE_THOUSAND).trunc().mantissa()).ok();
    }
    crate::time::parse_utc(text).ok().map(crate::time::to_millis)
}

/// Whether the minute at `open_ms` of product `id` had no trades (about 2 %, from the seed).
pub fn minute_missing(seed: u64, id: &str, open_ms: i64) -> bool {
    let mut hash = seed ^ 0xcbf2_9ce4_8422_2325;
    for byte in id.bytes() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    hash ^= u64::try_from(open_ms / 60_000).unwrap_or(0);
    // A 64-bit finaliser (splitmix) so that neighbouring minutes are independent.
    hash = (hash ^ (hash >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    hash = (hash ^ (hash >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    hash ^= hash >> 31;
    hash % 1000 < MISSING_PERMILLE
}

/// The answer to a market-data request, or `None` when the path is not one of these endpoints.
pub fn handle(market: &Market, products: &[Product], seed: u64, request: &Request, now_ms: i64) -> Option<Response> {
    let rest = request.path.strip_prefix("/products")?;
    if request.method != "GET" {
        return Some(message(404, "NotFound"));
    }
    if rest.is_empty() || rest == "/" {
        let list: Vec<ProductJson<'_>> = products.iter().map(product_json).collect();
        return Some(Response::json_value(200, &list));
    }
    let rest = rest.strip_prefix('/')?;
    let (id, tail) = match rest.split_once('/') {
        Some((id, tail)) => (percent_decode(id), Some(tail)),
        None => (percent_decode(rest), None),
    };
    let Some(product) = products.iter().find(|product| product.id.eq_ignore_ascii_case(&id)) else {
        return Some(message(404, "NotFound"));
    };
    Some(match tail {
        None => Response::json_value(200, &product_json(product)),
        Some("candles") => candles(market, product, seed, &request.query, now_ms),
        Some(_) => message(404, "NotFound"),
    })
}

/// `GET /products/{id}/candles`.
fn candles(market: &Market, product: &Product, seed: u64, query: &str, now_ms: i64) -> Response {
    let granularity = match param(query, "granularity").map(|text| text.trim().parse::<i64>()) {
        Some(Ok(seconds)) if GRANULARITIES.contains(&seconds) => seconds,
        _ => return message(400, "Unsupported granularity"),
    };
    let length = granularity * 1000;
    let align = |time: i64| time - time.rem_euclid(length);
    let (start, end) = match (param(query, "start"), param(query, "end")) {
        (Some(start), Some(end)) => {
            let Some(start) = time_param(&start) else { return message(400, "Invalid start") };
            let Some(end) = time_param(&end) else { return message(400, "Invalid end") };
            if end < start {
                return message(400, "start must be before end");
            }
            if (end - start) / length > MAX_CANDLES {
                return message(
                    400,
                    "granularity too small for the requested time range. Count of aggregations requested exceeds 300",
                );
            }
            (start, end)
        }
        // Either one missing: both are ignored, the latest candles come back.
        _ => (align(now_ms) - (MAX_CANDLES - 1) * length, now_ms),
    };
    let listed = market.start_ms();
    let first = align(start.max(listed) + length - 1);
    let last = align(end.min(now_ms));
    let mut rows = Vec::new();
    let mut served = 0;
    let mut open = last;
    while open >= first && served < MAX_CANDLES {
        let missing = granularity == 60 && minute_missing(seed, &product.id, open);
        if let Some(ohlc) = market.ohlc(&product.base, &product.quote, open, length).filter(|_| !missing) {
            let volume = Decimal::new((open / 60_000).rem_euclid(9_973) * 7 + 1, 3);
            let number = |value: Decimal| json::number(value.normalize().to_string());
            rows.push([
                json::render(&(open / 1000)),
                number(ohlc.low),
                number(ohlc.high),
                number(ohlc.open),
                number(ohlc.close),
                number(volume),
            ]);
            served += 1;
        }
        open -= length;
    }
    Response::json_value(200, &rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters_and_times_decode() {
        assert_eq!(
            param("granularity=60&start=2024-01-01T00%3A00%3A00Z", "start").as_deref(),
            Some("2024-01-01T00:00:00Z")
        );
        assert_eq!(param("a=1&a=2", "a").as_deref(), Some("1"));
        assert_eq!(param("a=", "a"), None);
        assert_eq!(time_param("2024-01-01T00:00:00Z"), Some(1_704_067_200_000));
        assert_eq!(time_param("1704067200"), Some(1_704_067_200_000));
        assert_eq!(time_param("1704067200.5"), Some(1_704_067_200_500));
        assert_eq!(time_param("yesterday"), None);
    }

    #[test]
    fn about_two_percent_of_minutes_are_missing() {
        let missing = (0..100_000).filter(|minute| minute_missing(7, "BTC-USD", minute * 60_000)).count();
        assert!((1_500..2_500).contains(&missing), "{missing}");
        let other = (0..1_000).filter(|minute| minute_missing(8, "BTC-USD", minute * 60_000)).count();
        let same = (0..1_000).filter(|minute| minute_missing(7, "BTC-USD", minute * 60_000)).count();
        assert_eq!(same, (0..1_000).filter(|minute| minute_missing(7, "BTC-USD", minute * 60_000)).count());
        assert!(other > 0 && same > 0);
    }
}

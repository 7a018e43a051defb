//! The simulator's public market data: `GET /api/v2/markets/` and `GET /api/v2/ohlc/{pair}/`.
//!
//! [`MARKETS`] is what the simulated Bitstamp lists: the pairs its generated person trades
//! ([`super::history::PAIRS`]) and Bitstamp's GBP markets of BTC and ETH. Every price comes
//! from the generator's [`Market`], so candles agree with the history. `ohlc` follows
//! Bitstamp's API page (<https://www.bitstamp.net/api/#tag/Market-info/operation/GetOHLCData>):
//! `step` in seconds among [`STEPS`], `limit` 1 to 1,000 (both required, else `400`), `start`
//! and `end` in Unix seconds (the open times of the first and last candle),
//! `exclude_current_candle=true` leaving out the candle still open; the answer is
//! `{"data": {"pair": "BTC/USD", "ohlc": [{"timestamp", "open", "high", "low", "close",
//! "volume"}]}}` with every field as decimal text, oldest first, no candle before the market's
//! first price or after "now".

use crate::sim::amounts::fixed;
use crate::sim::generate::Market;
use crate::sim::server::Response;

use super::history::PAIRS;

/// The candle lengths Bitstamp serves, seconds.
pub const STEPS: [i64; 12] = [60, 180, 300, 900, 1800, 3600, 7200, 14400, 21600, 43200, 86400, 259200];

/// GBP markets listed beside the traded pairs.
const GBP: &[(&str, &str)] = &[("btc", "gbp"), ("eth", "gbp")];

/// Every market listed, as (base, quote) codes.
pub fn markets() -> impl Iterator<Item = (&'static str, &'static str)> {
    PAIRS.iter().chain(GBP).copied()
}

fn bad(reason: &str) -> Response {
    Response::json_value(400, &serde_json::json!({ "status": "error", "reason": reason, "code": "400.001" }))
}

/// The answer of `GET /api/v2/markets/`.
pub fn list() -> Response {
    let rows: Vec<serde_json::Value> = markets()
        .map(|(base, quote)| {
            let (upper_base, upper_quote) = (base.to_ascii_uppercase(), quote.to_ascii_uppercase());
            serde_json::json!({
                "name": format!("{upper_base}/{upper_quote}"),
                "market_symbol": format!("{base}{quote}"),
                "base_currency": upper_base,
                "base_decimals": 8,
                "counter_currency": upper_quote,
                "counter_decimals": 2,
                "minimum_order_value": "10",
                "trading": "Enabled",
                "instant_and_market_orders": "Enabled",
                "description": format!("{upper_base} / {upper_quote}"),
                "market_type": "SPOT",
            })
        })
        .collect();
    Response::json_value(200, &rows)
}

/// The answer of `GET /api/v2/ohlc/{symbol}/` with the query `params`, at `now_ms`.
pub fn ohlc(market: &Market, symbol: &str, params: &[(String, String)], now_ms: i64) -> Response {
    let Some((base, quote)) = markets().find(|(base, quote)| format!("{base}{quote}") == symbol) else {
        return Response::json_value(404, &serde_json::json!({ "status": "error", "reason": "Not found" }));
    };
    let number = |name: &str| params.iter().find(|(n, _)| n == name).map(|(_, v)| v.trim().parse::<i64>());
    let step = match number("step") {
        Some(Ok(step)) if STEPS.contains(&step) => step,
        _ => return bad("step: must be one of the documented steps"),
    };
    let limit = match number("limit") {
        Some(Ok(limit)) if (1..=1000).contains(&limit) => limit,
        _ => return bad("limit: must be between 1 and 1000"),
    };
    let length = step * 1000;
    let last_open = now_ms - now_ms.rem_euclid(length);
    let (first, last) = match (number("start"), number("end")) {
        (Some(Ok(start)), Some(Ok(end))) => (start * 1000, (end * 1000).min(start * 1000 + (limit - 1) * length)),
        (Some(Ok(start)), None) => (start * 1000, start * 1000 + (limit - 1) * length),
        (None, Some(Ok(end))) => (end * 1000 - (limit - 1) * length, end * 1000),
        (None, None) => (last_open - (limit - 1) * length, last_open),
        _ => return bad("start/end: must be Unix seconds"),
    };
    let exclude_current = params.iter().any(|(n, v)| n == "exclude_current_candle" && v == "true");
    let newest = if exclude_current { last_open - length } else { last_open };
    let (upper_base, upper_quote) = (base.to_ascii_uppercase(), quote.to_ascii_uppercase());
    let mut rows = Vec::new();
    let mut open = first - first.rem_euclid(length);
    if open < first {
        open += length;
    }
    while open <= last.min(newest) {
        if open >= market.start_ms() {
            let span = if open == last_open { now_ms - open + 1 } else { length };
            if let Some(candle) = market.ohlc(&upper_base, &upper_quote, open, span) {
                let places = if upper_quote == "BTC" { 8 } else { 2 };
                let price = |value| fixed(value, places);
                rows.push(serde_json::json!({
                    "timestamp": open.div_euclid(1000).to_string(),
                    "open": price(candle.open),
                    "high": price(candle.high),
                    "low": price(candle.low),
                    "close": price(candle.close),
                    "volume": "1.00000000",
                }));
            }
        }
        open += length;
    }
    Response::json_value(
        200,
        &serde_json::json!({ "data": { "pair": format!("{upper_base}/{upper_quote}"), "ohlc": rows } }),
    )
}

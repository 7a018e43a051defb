//! The simulator's public candles: `GET /v2/candles/{symbol}/{time_frame}`.
//!
//! Shaped as Gemini's page describes the answer
//! (<https://developer.gemini.com/rest-api/trading/market-data/list-candles>): an array of
//! arrays `[time (ms), open, high, low, close, volume]`, numbers, newest first, the candle
//! still open included. There is no `start` or `end`: the answer is the most recent
//! [`SERVED`] candles of the time frame, whatever the client wants. Every price comes from the
//! generated [`Market`] (the one the account was priced on), so candles agree with the history;
//! no candle before the market's first price. Symbols are the listed ones
//! ([`super::history::PAIRS`] and [`super::history::UNTRADED`]); an unknown symbol or time frame
//! is Gemini's error body.

use crate::sim::generate::Market;
use crate::sim::server::Response;

use super::error;
use super::history::{PAIRS, UNTRADED};

/// Gemini's time frames and their lengths, ms.
pub const TIME_FRAMES: [(&str, i64); 7] = [
    ("1m", 60_000),
    ("5m", 300_000),
    ("15m", 900_000),
    ("30m", 1_800_000),
    ("1hr", 3_600_000),
    ("6hr", 21_600_000),
    ("1day", 86_400_000),
];

/// How many candles of a time frame the simulator serves (the most recent ones). Gemini does
/// not document its number; this is the simulator's.
pub const SERVED: i64 = 1_000;

/// (base, quote) of a listed symbol, canonical, if the symbol is listed.
fn listed(symbol: &str) -> Option<(String, String)> {
    let symbol = symbol.to_ascii_lowercase();
    let known = PAIRS.iter().any(|(s, _, _)| *s == symbol) || UNTRADED.contains(&symbol.as_str());
    if !known {
        return None;
    }
    super::super::assets::split_symbol(&symbol)
}

/// The answer of `GET /v2/candles/{rest}` (`rest` = `symbol/time_frame`) at `now_ms`.
pub fn candles(market: &Market, rest: &str, now_ms: i64) -> Response {
    let Some((symbol, frame)) = rest.split_once('/') else {
        return error(404, "InvalidEndpoint", "expected /v2/candles/{symbol}/{time_frame}");
    };
    let Some((base, quote)) = listed(symbol) else {
        return error(400, "InvalidSymbol", &format!("Supplied value '{symbol}' is not a valid symbol"));
    };
    let Some(&(_, length)) = TIME_FRAMES.iter().find(|(name, _)| *name == frame) else {
        return error(400, "InvalidTimeFrame", &format!("Supplied value '{frame}' is not a valid time frame"));
    };
    let newest = now_ms - now_ms.rem_euclid(length);
    let mut rows = Vec::new();
    for back in 0..SERVED {
        let open = newest - back * length;
        if open < market.start_ms() {
            break;
        }
        let span = if open == newest { now_ms - open + 1 } else { length };
        if let Some(c) = market.ohlc(&base, &quote, open, span) {
            let n = |d: rust_decimal::Decimal| d.normalize().to_string();
            rows.push(format!("[{open},{},{},{},{},1.5]", n(c.open), n(c.high), n(c.low), n(c.close)));
        }
    }
    Response::json(200, format!("[{}]", rows.join(",")))
}

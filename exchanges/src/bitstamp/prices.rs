//! Bitstamp's public candles as a price source: `GET /api/v2/markets/` and
//! `GET /api/v2/ohlc/{pair}/` (<https://www.bitstamp.net/api/#tag/Market-info/operation/GetOHLCData>,
//! <https://www.bitstamp.net/api/#tag/Market-info/operation/GetMarkets>).
//!
//! No key is needed: the requests are unsigned GETs through [`BitstampApi::public`], judged by
//! the same protocol as the private calls (Bitstamp's error bodies, 429 and `400.002` as rate
//! limits, 5xx retried) and paced by a limiter of its own with Bitstamp's documented budget
//! (400 a second, 10,000 per 10 minutes). [`BitstampPrices`] lists the spot markets quoted in
//! USD, EUR or GBP (Bitstamp's fiat markets; its crypto-quoted ones are left to Binance, which
//! lists more) under their `market_symbol` (`btcusd`), the name `ohlc` takes in its path.
//! Candles are asked one minute long (`step=60`), at most 1,000 a request (`limit`, Bitstamp's
//! most), over `start`..`end` (Unix seconds, the open times of the first and the last candle
//! wanted), with `exclude_current_candle=true` (the minute still open is left out: its close
//! would still change, and the engine caches what it gets). An answer is `{"data": {"pair": "BTC/USD", "ohlc": [{"timestamp": "1593961440",
//! "open", "high", "low", "close", "volume"}, …]}}`, every field decimal text; the close is read
//! exactly from its text. Minutes without trades may be missing (the engine takes the nearest
//! candle within an hour).
//!
//! Not verified here: how far back Bitstamp keeps minute candles (the page does not say; if an
//! old window comes back empty the engine falls through to the next route), and whether the
//! `end` bound is inclusive (the window's own filter keeps only the candles it asked for, so
//! either reading gives the same candles).

use std::sync::Arc;

use serde::Deserialize;

use super::api::{BitstampApi, Budget, Endpoint, malformed};
use super::assets::canonical_asset;
use crate::http::{ClientConfig, Clock, FetchError};
use crate::prices::{Candle, CandleSource, Fetched, Granularity, Market, Window};

/// The exchange's name in errors and as a price's source.
const NAME: &str = "bitstamp";

/// The most candles one `ohlc` answer holds (`limit` 1 to 1,000).
pub const MAX_CANDLES: u32 = 1000;

/// The quote currencies whose markets the source lists.
pub const FIAT_QUOTES: [&str; 3] = ["USD", "EUR", "GBP"];

/// Bitstamp's public candles (`name` "bitstamp").
#[derive(Debug, Clone)]
pub struct BitstampPrices {
    api: BitstampApi,
}

impl BitstampPrices {
    /// A source talking to `base_url` (production, `https://www.bitstamp.net`, when `None`)
    /// with a limiter of its own at Bitstamp's default budget.
    pub fn new(base_url: Option<&str>, config: ClientConfig, clock: Arc<dyn Clock>) -> Result<Self, FetchError> {
        let limiter = BitstampApi::new_limiter(Arc::clone(&clock), Budget::DEFAULT);
        Ok(BitstampPrices { api: BitstampApi::public(base_url, limiter, config, clock)? })
    }

    /// The API handle (its client and limiter), for statistics.
    pub fn api(&self) -> &BitstampApi {
        &self.api
    }
}

/// One market of `markets`, the fields a price source needs.
#[derive(Deserialize)]
struct MarketInfo {
    market_symbol: String,
    base_currency: String,
    counter_currency: String,
    #[serde(default)]
    market_type: Option<String>,
}

/// The body of an `ohlc` answer.
#[derive(Deserialize)]
struct OhlcAnswer {
    data: OhlcData,
}

#[derive(Deserialize)]
struct OhlcData {
    #[serde(default)]
    ohlc: Vec<OhlcRow>,
}

#[derive(Deserialize)]
struct OhlcRow {
    timestamp: serde_json::Value,
    close: serde_json::Value,
}

/// The decimal text of a JSON string or number, never through a float.
fn text(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(text) => Some(text.clone()),
        serde_json::Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// The candles of an `ohlc` answer's body, oldest first.
pub fn parse_ohlc(body: &[u8]) -> Result<Vec<Candle>, String> {
    let answer: OhlcAnswer = serde_json::from_slice(body).map_err(|e| format!("not an OHLC answer: {e}"))?;
    let mut candles = Vec::with_capacity(answer.data.ohlc.len());
    for (index, row) in answer.data.ohlc.iter().enumerate() {
        let seconds: i64 = text(&row.timestamp)
            .and_then(|t| t.trim().parse().ok())
            .ok_or_else(|| format!("candle {index}: timestamp {} is not whole seconds", row.timestamp))?;
        let close_text =
            text(&row.close).ok_or_else(|| format!("candle {index}: close {} is not decimal", row.close))?;
        let close =
            crate::amount::parse_amount(&close_text).map_err(|error| format!("candle {index}: close: {error}"))?;
        candles.push(Candle { open_ms: seconds.saturating_mul(1000), close });
    }
    candles.sort();
    Ok(candles)
}

impl CandleSource for BitstampPrices {
    fn name(&self) -> &'static str {
        NAME
    }

    fn markets(&self) -> Result<Fetched<Market>, FetchError> {
        let answer = self.api.get(Endpoint::Markets, Endpoint::Markets.path(), &[])?;
        let rows: Vec<MarketInfo> = serde_json::from_slice(&answer.body)
            .map_err(|e| malformed(Endpoint::Markets, format!("not a list of markets: {e}")))?;
        let mut items = Vec::with_capacity(rows.len());
        for row in rows {
            if row.market_type.as_deref().is_some_and(|kind| !kind.eq_ignore_ascii_case("SPOT")) {
                continue;
            }
            let (Ok(base), Ok(quote)) = (canonical_asset(&row.base_currency), canonical_asset(&row.counter_currency))
            else {
                log::debug!("bitstamp: market {} has unusual currency codes; skipped", row.market_symbol);
                continue;
            };
            if FIAT_QUOTES.contains(&quote.as_str()) && base != quote {
                items.push(Market { symbol: row.market_symbol, base, quote });
            }
        }
        Ok(Fetched::markets(items, answer.attempts))
    }

    fn max_candles(&self) -> u32 {
        MAX_CANDLES
    }

    fn candles_in(&self, window: &Window<'_>) -> Result<Fetched<Candle>, FetchError> {
        if window.granularity != Granularity::MINUTE {
            let reason = format!("Bitstamp's source asks no {} candles", window.granularity.name);
            return Err(FetchError::Setup { exchange: NAME.to_owned(), reason });
        }
        let Some(wanted) = window.wanted(NAME, "Bitstamp", MAX_CANDLES)? else {
            return Ok(Fetched::default());
        };
        let step = Granularity::MINUTE.millis / 1000;
        // The first minute that opens inside the window (its start rounded up).
        let minute = Granularity::MINUTE.millis;
        let start = (window.start_ms + (minute - window.start_ms.rem_euclid(minute)) % minute).div_euclid(1000);
        let end = start + (wanted - 1) * step;
        let params = [
            ("step", step.to_string()),
            ("limit", wanted.to_string()),
            ("start", start.to_string()),
            ("end", end.to_string()),
            // The minute still open is not a candle yet: its close would change.
            ("exclude_current_candle", "true".to_owned()),
        ];
        let path = format!("{}{}/", Endpoint::Ohlc.path(), window.market.symbol);
        let answer = self.api.get(Endpoint::Ohlc, path, &params)?;
        let items = parse_ohlc(&answer.body).map_err(|reason| malformed(Endpoint::Ohlc, reason))?;
        Ok(window.inside(items, answer.attempts))
    }
}

#[cfg(all(test, feature = "sandbox"))]
mod tests;

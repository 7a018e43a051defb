//! Gemini's public candles as a price source: `GET /v1/symbols` and
//! `GET /v2/candles/{symbol}/{time_frame}`
//! (<https://developer.gemini.com/rest-api/trading/market-data/list-candles>,
//! <https://docs.gemini.com/rest/market-data#symbols-and-minimums>).
//!
//! No key is needed: unsigned GETs through [`GeminiApi`] with a blank key, judged by the same
//! protocol as the private calls (Gemini's error bodies, 429 and `RateLimit` pausing, 5xx
//! retried), paced in Gemini's `public` bucket (120 requests a minute, bursts of 5).
//! [`GeminiPrices`] lists the markets quoted in USD, EUR or GBP (the symbol split as
//! [`super::assets::split_symbol`] does; perpetuals and other quotes are left to the sources
//! before it) under Gemini's lower-case symbol (`btcusd`).
//!
//! **Reach.** The candles endpoint takes no `start`, `end` or `limit`: it answers the most
//! recent candles of one time frame (`1m`, `5m`, `15m`, `30m`, `1hr`, `6hr`, `1day`), newest
//! first, as arrays `[time ms, open, high, low, close, volume]` of JSON numbers. How many it
//! answers is not documented, so minute and hour frames, whose few hundred or thousand most
//! recent candles reach only days or weeks back, could not price a tax year's legs: the source
//! asks only `1day`, whose candles reach years back. One answer holds every daily candle Gemini
//! gives for the market, so it is asked **once per market per run** and every window of that
//! market is answered from it (no other request); a window older than the oldest candle of the
//! answer gets none (the engine then takes the next route), and a window that ends before
//! Gemini opened (25 October 2015, [`LAUNCH_MS`]) is not asked at all. The candle still open
//! (today's) is dropped: its close would change. Closes are read exactly from their digits.
//! Not verified: how many daily candles Gemini really serves (its page gives no number), and
//! that a daily candle opens at 00:00 UTC (the simulator's do).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::value::RawValue;

use super::api::{Endpoint, GeminiApi, Pace, malformed};
use super::assets::split_symbol;
use crate::Secret;
use crate::http::{ClientConfig, Clock, FetchError};
use crate::prices::{Candle, CandleSource, CloseText, Fetched, Granularity, Market, Window, candle_rows};

/// The exchange's name in errors and as a price's source.
const NAME: &str = "gemini";

/// The one time frame asked: daily candles, the longest reach.
pub const TIME_FRAME: &str = "1day";

/// Gemini opened on 25 October 2015 (00:00 UTC): no candle is older.
pub const LAUNCH_MS: i64 = 1_445_731_200_000;

/// The window size the engine plans with, in candles. Every window of a market is answered
/// from the one answer, so this only bounds how the engine cuts its ranges.
pub const MAX_CANDLES: u32 = 1000;

/// The quote currencies whose markets the source lists.
pub const FIAT_QUOTES: [&str; 3] = ["USD", "EUR", "GBP"];

/// Gemini's public daily candles (`name` "gemini").
#[derive(Debug)]
pub struct GeminiPrices {
    api: GeminiApi,
    /// Every market's answer so far this run: its closed daily candles, oldest first.
    answers: Mutex<BTreeMap<String, Arc<Vec<Candle>>>>,
}

impl GeminiPrices {
    /// A source talking to `base_url` (production, `https://api.gemini.com`, when `None`) with a
    /// limiter of its own (Gemini's `public` bucket).
    pub fn new(base_url: Option<&str>, config: ClientConfig, clock: Arc<dyn Clock>) -> Result<Self, FetchError> {
        let limiter = GeminiApi::new_limiter(Arc::clone(&clock), Pace::REAL);
        let api = GeminiApi::new(base_url, Secret::new(""), Secret::new(""), "prices", limiter, config, clock)?;
        Ok(GeminiPrices { api, answers: Mutex::new(BTreeMap::new()) })
    }

    /// The API handle (its client and limiter), for statistics.
    pub fn api(&self) -> &GeminiApi {
        &self.api
    }

    /// The market's closed daily candles and the requests they took now (0 when known).
    fn daily(&self, symbol: &str) -> Result<(Arc<Vec<Candle>>, u32), FetchError> {
        if let Some(known) = self.answers.lock().unwrap_or_else(PoisonError::into_inner).get(symbol) {
            return Ok((Arc::clone(known), 0));
        }
        let path = format!("{}/{symbol}/{TIME_FRAME}", Endpoint::Candles.path());
        let answer = self.api.get(Endpoint::Candles, path)?;
        let mut candles = parse_candles(&answer.body).map_err(|reason| malformed(Endpoint::Candles, reason))?;
        let now_ms = self.api.now_ms();
        candles.retain(|candle| candle.open_ms + Granularity::DAY.millis <= now_ms);
        let candles = Arc::new(candles);
        self.answers.lock().unwrap_or_else(PoisonError::into_inner).insert(symbol.to_owned(), Arc::clone(&candles));
        Ok((candles, answer.attempts))
    }
}

/// The candles of a `candles` answer's body (`[[time ms, open, high, low, close, volume], …]`,
/// newest first), oldest first.
pub fn parse_candles(body: &[u8]) -> Result<Vec<Candle>, String> {
    let rows: Vec<Vec<&RawValue>> = serde_json::from_slice(body)
        .map_err(|e| format!("not a list of candles [time, open, high, low, close, volume]: {e}"))?;
    candle_rows(&rows, 1, CloseText::StringOrNumber, 6)
}

impl CandleSource for GeminiPrices {
    fn name(&self) -> &'static str {
        NAME
    }

    fn markets(&self) -> Result<Fetched<Market>, FetchError> {
        let answer = self.api.call(Endpoint::Symbols, &[])?;
        let symbols: Vec<String> = serde_json::from_slice(&answer.body)
            .map_err(|e| malformed(Endpoint::Symbols, format!("not a list of symbols: {e}")))?;
        let mut items = Vec::with_capacity(symbols.len());
        for symbol in symbols {
            let symbol = symbol.to_ascii_lowercase();
            let Some((base, quote)) = split_symbol(&symbol) else {
                log::debug!("gemini: symbol {symbol} does not split into two currencies; skipped");
                continue;
            };
            if FIAT_QUOTES.contains(&quote.as_str()) && base != quote {
                items.push(Market { symbol, base, quote });
            }
        }
        Ok(Fetched::markets(items, answer.attempts))
    }

    /// Daily candles, for every time (the only time frame whose reach covers past years).
    fn granularity(&self, _time_ms: i64, _now_ms: i64) -> Granularity {
        Granularity::DAY
    }

    fn max_candles(&self) -> u32 {
        MAX_CANDLES
    }

    fn candles_in(&self, window: &Window<'_>) -> Result<Fetched<Candle>, FetchError> {
        if window.granularity != Granularity::DAY {
            let reason = format!("Gemini's source asks no {} candles", window.granularity.name);
            return Err(FetchError::Setup { exchange: NAME.to_owned(), reason });
        }
        if window.wanted(NAME, "Gemini", MAX_CANDLES)?.is_none() || window.end_ms <= LAUNCH_MS {
            return Ok(Fetched::default());
        }
        let (candles, attempts) = self.daily(&window.market.symbol)?;
        Ok(window.inside(candles.as_ref().clone(), attempts))
    }
}

#[cfg(test)]
mod tests;

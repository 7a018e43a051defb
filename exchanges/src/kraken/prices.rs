//! Kraken's public candles as a price source: `GET /0/public/AssetPairs` and `GET /0/public/OHLC`.
//!
//! [`KrakenPrices`] lists every pair of `AssetPairs` (<https://docs.kraken.com/api/docs/rest-api/get-tradable-asset-pairs>) under its pair id
//! (`XXBTZCAD`, `USDTAUD`), the name `OHLC` takes in `pair`, with its `base` and `quote` codes
//! mapped to canonical symbols through [`super::assets`], the table the export reader and the
//! adapter use. `OHLC` (<https://docs.kraken.com/api/docs/rest-api/get-ohlc-data>) returns **only the 720 most recent rows** of an interval,
//! whatever `since` says, and its last row is the interval still open. So how far back a
//! granularity reaches depends on "now" ([`KrakenPrices::granularity`]): minute candles about
//! 12 hours, hourly 30 days, daily about two years, weekly about 13.8 years. The open row is
//! dropped: it is not a closed candle, and its close would change; a time inside the open
//! interval takes the nearest closed candle (the engine's tolerance). Closes are read exactly from
//! their decimal text (index 4 of a row). The requests are unsigned GETs through [`KrakenApi`]
//! (no key), its protocol reading Kraken's `{"error": [...], "result": ...}` answers, with a
//! limiter of its own whose `public` bucket keeps about one call per second.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::api::{Endpoint, KrakenApi, Tier, malformed};
use super::assets::canonical_asset;
use crate::Secret;
use crate::http::{ClientConfig, Clock, FetchError};
use crate::prices::{Candle, CandleSource, CloseText, Fetched, Granularity, Market, Window, candle_rows};

/// The exchange's name in errors and as a price's source.
const NAME: &str = "kraken";

/// The most rows one `OHLC` answer holds: the most recent ones, the open interval included.
pub const MAX_ROWS: u32 = 720;

/// Slack taken off every granularity's reach: the engine judges the granularity at the start
/// of a run, Kraken answers a little later, and its 720-row window slides on in between.
pub const REACH_SLACK_MS: i64 = 3_600_000;

/// The granularities used, finest first, with Kraken's `interval` (minutes). Kraken also serves
/// 5, 15, 30 and 240 minutes (never chosen: a coarser one of these reaches as far for less
/// precision) and 15 days (weekly already reaches back to 2013).
pub const INTERVALS: [(Granularity, u32); 4] =
    [(Granularity::MINUTE, 1), (Granularity::HOUR, 60), (Granularity::DAY, 1440), (Granularity::WEEK, 10080)];

/// Kraken's public candles (`name` "kraken").
#[derive(Debug, Clone)]
pub struct KrakenPrices {
    api: KrakenApi,
}

impl KrakenPrices {
    /// A source talking to `base_url` (production, `https://api.kraken.com`, when `None`) with a
    /// limiter of its own (Kraken's buckets, [`KrakenApi::new_limiter`]: about one public call a second).
    pub fn new(base_url: Option<&str>, config: ClientConfig, clock: Arc<dyn Clock>) -> Result<Self, FetchError> {
        let limiter = KrakenApi::new_limiter(Arc::clone(&clock), Tier::STARTER);
        let api = KrakenApi::new(base_url, Secret::new(""), Secret::new(""), "prices", limiter, config, clock)?;
        Ok(KrakenPrices { api })
    }

    /// The API handle (its client and limiter), for statistics.
    pub fn api(&self) -> &KrakenApi {
        &self.api
    }
}

/// Whether `OHLC` at `interval` still holds a closed candle containing `time_ms` at `now_ms`,
/// [`REACH_SLACK_MS`] (at least one row) to spare.
fn reaches(granularity: Granularity, time_ms: i64, now_ms: i64) -> bool {
    let g = granularity.millis;
    let slack_rows = (REACH_SLACK_MS + g - 1) / g;
    let oldest = granularity.floor(now_ms) - (i64::from(MAX_ROWS) - 1 - slack_rows) * g;
    granularity.floor(time_ms) >= oldest
}

/// One pair of `AssetPairs`, the fields a market needs.
#[derive(Deserialize)]
struct PairInfo {
    base: String,
    quote: String,
}

/// The candles of one `OHLC` result (`{"<pair id>": [[time, open, high, low, close, vwap,
/// volume, count], …], "last": …}`), oldest first, the last row (the open interval) left out.
fn parse_ohlc(result: &RawValue) -> Result<Vec<Candle>, String> {
    let fields: std::collections::BTreeMap<&str, &RawValue> =
        serde_json::from_str(result.get()).map_err(|error| error.to_string())?;
    let mut series = fields.iter().filter(|(key, _)| **key != "last");
    let Some((_, rows)) = series.next() else { return Ok(Vec::new()) };
    if series.next().is_some() {
        return Err("the result holds more than one pair".to_owned());
    }
    let rows: Vec<Vec<&RawValue>> = serde_json::from_str(rows.get()).map_err(|error| error.to_string())?;
    let mut candles = candle_rows(&rows, 1000, CloseText::String, 8)?;
    // The newest row is the interval still open: not a candle yet.
    candles.pop();
    Ok(candles)
}

impl CandleSource for KrakenPrices {
    fn name(&self) -> &'static str {
        NAME
    }

    fn markets(&self) -> Result<Fetched<Market>, FetchError> {
        let answer = self.api.call(Endpoint::AssetPairs, &[])?;
        let result = self.api.result(Endpoint::AssetPairs, &answer)?;
        let pairs: std::collections::BTreeMap<String, PairInfo> =
            serde_json::from_str(result.get()).map_err(|e| malformed(Endpoint::AssetPairs, e.to_string()))?;
        let mut items = Vec::with_capacity(pairs.len());
        for (id, pair) in pairs {
            // Dark-pool twins (`XXBTZUSD.d`) have no candles of their own.
            let (Ok(base), Ok(quote)) = (canonical_asset(&pair.base), canonical_asset(&pair.quote)) else {
                log::debug!("kraken: pair {id} has unusual asset codes; skipped");
                continue;
            };
            if id.contains('.') || base == quote {
                continue;
            }
            items.push(Market { symbol: id, base, quote });
        }
        Ok(Fetched::markets(items, answer.attempts))
    }

    /// The finest of minute, hour, day and week whose 720 most recent rows at `now_ms` still
    /// hold a closed candle containing `time_ms`, with an hour to spare ([`REACH_SLACK_MS`]):
    /// minutes for the last 11 hours, hours for the last 30 days, days for the last 720,
    /// weeks beyond (13.8 years; older times get weeks too, and find no candle).
    fn granularity(&self, time_ms: i64, now_ms: i64) -> Granularity {
        INTERVALS
            .iter()
            .map(|(granularity, _)| *granularity)
            .find(|granularity| reaches(*granularity, time_ms, now_ms))
            .unwrap_or(Granularity::WEEK)
    }

    fn max_candles(&self) -> u32 {
        MAX_ROWS
    }

    fn candles_in(&self, window: &Window<'_>) -> Result<Fetched<Candle>, FetchError> {
        let Window { market, granularity, start_ms, .. } = *window;
        let Some(&(_, interval)) = INTERVALS.iter().find(|(g, _)| *g == granularity) else {
            let reason = format!("Kraken's source asks no {} candles", granularity.name);
            return Err(FetchError::Setup { exchange: NAME.to_owned(), reason });
        };
        if window.wanted(NAME, "Kraken", MAX_ROWS)?.is_none() {
            return Ok(Fetched::default());
        }
        // `since` is exclusive: a second before the first candle wanted.
        let since = start_ms.div_euclid(1000) - 1;
        let params =
            [("pair", market.symbol.clone()), ("interval", interval.to_string()), ("since", since.to_string())];
        let answer = self.api.call(Endpoint::Ohlc, &params)?;
        let result = self.api.result(Endpoint::Ohlc, &answer)?;
        let items = parse_ohlc(result).map_err(|reason| malformed(Endpoint::Ohlc, reason))?;
        Ok(window.inside(items, answer.attempts))
    }
}

#[cfg(test)]
mod tests;

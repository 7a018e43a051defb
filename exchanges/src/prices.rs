//! Public price sources: the exchanges' candle endpoints, behind one small trait.
//!
//! A [`CandleSource`] lists the markets it quotes and serves candles of one market over a
//! time range, one request at a time, through the same HTTP kit and limiter as the sync. It
//! knows nothing of the ledger: the pricing engine (`cointally::pricing`) decides which
//! ranges to ask, caches the candles and values legs from them. Adding a source is one file
//! (its implementation) and its exchange's line in the registry
//! ([`crate::registry::open_sources`] opens them all).

use rust_decimal::Decimal;

use crate::http::FetchError;

/// A market a source quotes: one `base` priced in `quote`, both canonical asset symbols.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Market {
    /// The source's own name for it (`BTCUSDT`, `BTC-USD`): what requests carry.
    pub symbol: String,
    /// Canonical symbol of the priced asset (`BTC`).
    pub base: String,
    /// Canonical symbol of the currency the price is in (`USD`, `USDT`).
    pub quote: String,
}

/// A candle length a source serves, with the source's name for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Granularity {
    /// The name recorded with a price (`1m`, `1h`, `1d`): stable, short.
    pub name: &'static str,
    /// Its length in milliseconds.
    pub millis: i64,
}

impl Granularity {
    /// One minute.
    pub const MINUTE: Granularity = Granularity { name: "1m", millis: 60_000 };
    /// One hour.
    pub const HOUR: Granularity = Granularity { name: "1h", millis: 3_600_000 };
    /// One day.
    pub const DAY: Granularity = Granularity { name: "1d", millis: 86_400_000 };
    /// One week, aligned on the Unix epoch (weeks open on Thursdays, 00:00 UTC), as Kraken's OHLC serves it.
    pub const WEEK: Granularity = Granularity { name: "1w", millis: 604_800_000 };

    /// The granularity called `name` among the common ones (`1m`, `1h`, `1d`, `1w`).
    pub fn from_name(name: &str) -> Option<Granularity> {
        [Granularity::MINUTE, Granularity::HOUR, Granularity::DAY, Granularity::WEEK]
            .into_iter()
            .find(|g| g.name == name)
    }

    /// The start of the candle of this length that contains `time_ms` (UTC-aligned).
    pub fn floor(self, time_ms: i64) -> i64 {
        time_ms - time_ms.rem_euclid(self.millis)
    }
}

/// One candle: the price of one `base` in `quote` over `[open_ms, open_ms + granularity)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Candle {
    /// When the candle opens (UTC ms).
    pub open_ms: i64,
    /// Its closing price.
    pub close: Decimal,
}

/// What one call to a source brought back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched<T> {
    /// The data, sorted (candles by open time).
    pub items: Vec<T>,
    /// HTTP requests made (retries included).
    pub requests: u32,
    /// Of which retries.
    pub retries: u32,
}

impl Fetched<Market> {
    /// Markets from an answer that took `attempts`, sorted by symbol, each symbol once.
    pub fn markets(mut items: Vec<Market>, attempts: u32) -> Fetched<Market> {
        items.sort();
        items.dedup_by(|a, b| a.symbol == b.symbol);
        Fetched { items, requests: attempts, retries: attempts.saturating_sub(1) }
    }
}

impl Fetched<Candle> {
    /// Candles from an answer that took `attempts`, sorted by open time, each time once.
    pub fn candles(mut items: Vec<Candle>, attempts: u32) -> Fetched<Candle> {
        items.sort();
        items.dedup_by_key(|candle| candle.open_ms);
        Fetched { items, requests: attempts, retries: attempts.saturating_sub(1) }
    }
}

impl<T> Default for Fetched<T> {
    fn default() -> Fetched<T> {
        Fetched { items: Vec::new(), requests: 0, retries: 0 }
    }
}

pub mod window;

pub use window::Window;

/// How a source writes a candle's close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseText {
    /// Decimal text in a JSON string (`"16600.5"`), as Binance and Kraken do.
    String,
    /// A JSON number or a string (Coinbase Exchange sends numbers).
    StringOrNumber,
}

/// Reads candle rows `[open time, …, close (index 4), …]`, the time a whole number of
/// `unit_ms` (1 for milliseconds, 1000 for seconds), the close exactly from its decimal text;
/// oldest first. `width` is how many fields the source documents, for the error message.
pub fn candle_rows(
    rows: &[Vec<&serde_json::value::RawValue>],
    unit_ms: i64,
    close: CloseText,
    width: usize,
) -> Result<Vec<Candle>, String> {
    let mut candles = Vec::with_capacity(rows.len());
    for (index, row) in rows.iter().enumerate() {
        let (Some(time), Some(raw_close)) = (row.first(), row.get(4)) else {
            return Err(format!("candle {index} has {} fields, not {width}", row.len()));
        };
        let units: i64 = serde_json::from_str(time.get())
            .map_err(|_| format!("candle {index}: open time {} is not a whole number", time.get()))?;
        let text = match (serde_json::from_str::<String>(raw_close.get()), close) {
            (Ok(text), _) => text,
            (Err(_), CloseText::StringOrNumber) => raw_close.get().trim().to_owned(),
            (Err(_), CloseText::String) => {
                return Err(format!("candle {index}: close {} is not decimal text", raw_close.get()));
            }
        };
        let close = crate::amount::parse_amount(&text).map_err(|error| format!("candle {index}: close: {error}"))?;
        candles.push(Candle { open_ms: units.saturating_mul(unit_ms), close });
    }
    candles.sort();
    Ok(candles)
}

/// A public price source: markets and their candles.
pub trait CandleSource: Send + Sync {
    /// Short stable name recorded as a price's source (`binance`, `coinbase`).
    fn name(&self) -> &'static str;

    /// Every market the source lists, sorted by symbol (delisted ones that still serve candles included).
    fn markets(&self) -> Result<Fetched<Market>, FetchError>;

    /// The finest candle the source serves for a price at `time_ms`, judged at `now_ms`
    /// (Kraken's OHLC, say, keeps minute candles for the last 12 hours only). By default one
    /// minute, for a source that keeps minute candles from each market's listing on.
    fn granularity(&self, time_ms: i64, now_ms: i64) -> Granularity {
        let _ = (time_ms, now_ms);
        Granularity::MINUTE
    }

    /// The most candles one request returns.
    fn max_candles(&self) -> u32;

    /// The candles of `market` that open in `[start_ms, end_ms)`, in one request
    /// (`end_ms - start_ms <= max_candles × granularity`), sorted by open time. Intervals
    /// without trades may be missing; before a listing there are none.
    fn candles(
        &self,
        market: &Market,
        granularity: Granularity,
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Fetched<Candle>, FetchError> {
        self.candles_in(&Window { market, granularity, start_ms, end_ms })
    }

    /// What a source implements for [`CandleSource::candles`]: the candles of one
    /// [`Window`], in one request, sorted by open time.
    fn candles_in(&self, window: &Window<'_>) -> Result<Fetched<Candle>, FetchError>;
}

/// Where a source's base URL comes from: its name → an override (`None`: production).
pub type BaseUrls<'a> = &'a dyn Fn(&str) -> Option<String>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candle_rows_read_times_and_exact_closes_oldest_first() {
        let body = r#"[[1700000060,"1","1","1","16600.10"],[1700000000,0,0,0,0.32]]"#;
        let rows: Vec<Vec<&serde_json::value::RawValue>> = serde_json::from_str(body).unwrap();
        let candles = candle_rows(&rows, 1000, CloseText::StringOrNumber, 6).unwrap();
        let closes: Vec<(i64, String)> = candles.iter().map(|c| (c.open_ms, c.close.to_string())).collect();
        assert_eq!(closes, [(1_700_000_000_000, "0.32".to_owned()), (1_700_000_060_000, "16600.1".to_owned())]);
        // A number where decimal text is required, a short row.
        let error = candle_rows(&rows, 1000, CloseText::String, 6).unwrap_err();
        assert!(error.contains("candle 1: close 0.32 is not decimal text"), "{error}");
        let short: Vec<Vec<&serde_json::value::RawValue>> = serde_json::from_str("[[1,2]]").unwrap();
        assert_eq!(candle_rows(&short, 1, CloseText::String, 12).unwrap_err(), "candle 0 has 2 fields, not 12");
    }

    #[test]
    fn floor_aligns_to_utc_boundaries() {
        assert_eq!(Granularity::MINUTE.floor(1_700_000_059_999), 1_700_000_040_000);
        assert_eq!(Granularity::HOUR.floor(3_600_000 * 5 + 1), 3_600_000 * 5);
        assert_eq!(Granularity::DAY.floor(-1), -86_400_000);
        assert_eq!(Granularity::from_name("1h"), Some(Granularity::HOUR));
        assert_eq!(Granularity::from_name("2h"), None);
        assert_eq!(Granularity::from_name("1w"), Some(Granularity::WEEK));
        // 2024-03-02 (a Saturday) is in the week that opened on Thursday 2024-02-29.
        assert_eq!(Granularity::WEEK.floor(1_709_373_600_000), 1_709_164_800_000);
    }
}

//! The time window of one candle request, the same for every source: how many candles of a
//! granularity cover `[start_ms, end_ms)` (refused when more than the source serves in one
//! answer), and which candles of the answer fall inside it.

use super::{Candle, Fetched, Granularity, Market};
use crate::http::FetchError;

/// One candle request: the candles of `granularity` of `market` that open in
/// `[start_ms, end_ms)`.
#[derive(Debug, Clone, Copy)]
pub struct Window<'a> {
    /// The market asked.
    pub market: &'a Market,
    /// The candle length asked.
    pub granularity: Granularity,
    /// The first open time wanted (UTC ms, inclusive).
    pub start_ms: i64,
    /// The end of the range (UTC ms, exclusive).
    pub end_ms: i64,
}

impl Window<'_> {
    /// [`candles_wanted`] for this window.
    pub fn wanted(&self, exchange: &str, source: &str, max: u32) -> Result<Option<i64>, FetchError> {
        candles_wanted(exchange, source, self.market, self.granularity, self.start_ms, self.end_ms, max)
    }

    /// [`inside`] this window: the candles of an answer that took `attempts` opening in it.
    pub fn inside(&self, items: Vec<Candle>, attempts: u32) -> Fetched<Candle> {
        inside(items, self.start_ms, self.end_ms, attempts)
    }
}

/// The candles of `granularity` that cover `[start_ms, end_ms)` of `market`: `None` when the
/// range is empty (nothing to ask), a [`FetchError::Setup`] of `exchange` when it holds more
/// than `max`, the most `source` (its name in the message) returns in one answer.
pub fn candles_wanted(
    exchange: &str,
    source: &str,
    market: &Market,
    granularity: Granularity,
    start_ms: i64,
    end_ms: i64,
    max: u32,
) -> Result<Option<i64>, FetchError> {
    if end_ms <= start_ms {
        return Ok(None);
    }
    let wanted = (end_ms - start_ms + granularity.millis - 1) / granularity.millis;
    if wanted > i64::from(max) {
        return Err(FetchError::Setup {
            exchange: exchange.to_owned(),
            reason: format!(
                "{wanted} {} candles of {} asked in one request; {source} returns at most {max}",
                granularity.name, market.symbol
            ),
        });
    }
    Ok(Some(wanted))
}

/// The candles of an answer that took `attempts` which open inside `[start_ms, end_ms)`,
/// sorted, each open time once.
pub fn inside(mut items: Vec<Candle>, start_ms: i64, end_ms: i64, attempts: u32) -> Fetched<Candle> {
    items.retain(|candle| (start_ms..end_ms).contains(&candle.open_ms));
    Fetched::candles(items, attempts)
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;

    use super::*;

    fn market() -> Market {
        Market { symbol: "BTCUSDT".into(), base: "BTC".into(), quote: "USDT".into() }
    }

    #[test]
    fn a_window_asks_the_candles_that_cover_it() {
        let wanted = |granularity, start_ms, end_ms| {
            candles_wanted("binance", "Binance", &market(), granularity, start_ms, end_ms, 1000).unwrap()
        };
        assert_eq!(wanted(Granularity::MINUTE, 0, 60_000), Some(1));
        assert_eq!(wanted(Granularity::MINUTE, 0, 60_001), Some(2));
        assert_eq!(wanted(Granularity::HOUR, 0, 1_000 * 3_600_000), Some(1000));
        assert_eq!(wanted(Granularity::MINUTE, 5, 5), None);
        assert_eq!(wanted(Granularity::MINUTE, 9, 5), None);
    }

    #[test]
    fn a_window_wider_than_one_answer_is_refused_with_the_counts() {
        let error = candles_wanted("kraken", "Kraken", &market(), Granularity::MINUTE, 0, 721 * 60_000, 720);
        match error {
            Err(FetchError::Setup { exchange, reason }) => {
                assert_eq!(exchange, "kraken");
                assert_eq!(reason, "721 1m candles of BTCUSDT asked in one request; Kraken returns at most 720");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn only_candles_opening_inside_the_window_are_kept() {
        let candle = |open_ms| Candle { open_ms, close: Decimal::ONE };
        let fetched = inside(vec![candle(120), candle(0), candle(60), candle(60), candle(180)], 60, 180, 2);
        assert_eq!(fetched.items, vec![candle(60), candle(120)]);
        assert_eq!((fetched.requests, fetched.retries), (2, 1));
    }
}

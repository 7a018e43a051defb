//! What the registry points at for Binance: its API connector, its export formats and its
//! price source.

use std::sync::Arc;

use crate::adapter::Adapter;
use crate::adapter::Connect;
use crate::http::{ClientConfig, Clock, FetchError, Limiter};
use crate::prices::CandleSource;
use crate::rows::CsvFormat;

use super::adapter::BinanceAdapter;
use super::api::BinanceApi;
use super::prices::BinancePrices;

/// The limiter every Binance account shares: Binance's documented weights and limits.
pub fn limiter(clock: Arc<dyn Clock>, _base_url: Option<&str>) -> Arc<Limiter> {
    BinanceApi::new_limiter(clock)
}

/// The adapter of one Binance account.
pub fn connect(c: Connect<'_>) -> Result<Arc<dyn Adapter>, FetchError> {
    let api = BinanceApi::new(c.base_url, c.key, c.secret, c.label, c.limiter, c.config, c.clock)?;
    Ok(Arc::new(BinanceAdapter::new(api)))
}

/// Binance's export files: the transaction history statement, then the older trade history.
pub const CSV: &[CsvFormat] = &[
    CsvFormat { name: "binance", matches: super::csv::matches, reader: || Box::<super::csv::Reader>::default() },
    CsvFormat {
        name: "binance-trades",
        matches: super::trade_history::matches,
        reader: || Box::<super::trade_history::Reader>::default(),
    },
];

/// Binance's klines as a price source (the most crypto markets).
pub fn prices(
    base_url: Option<&str>,
    config: ClientConfig,
    clock: Arc<dyn Clock>,
) -> Result<Box<dyn CandleSource>, FetchError> {
    Ok(Box::new(BinancePrices::new(base_url, config, clock)?))
}

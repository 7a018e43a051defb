//! What the registry points at for Gemini: its API connector, paced per its documented limits
//! (`COINTALLY_GEMINI_PACE` for a faster simulator).

use std::sync::Arc;

use crate::adapter::{Adapter, Connect};
use crate::http::{ClientConfig, Clock, FetchError, Limiter};
use crate::prices::CandleSource;
use crate::rows::CsvFormat;

use super::adapter::GeminiAdapter;
use super::api::{GeminiApi, Pace};

/// The limiter every Gemini account shares.
pub fn limiter(clock: Arc<dyn Clock>, _base_url: Option<&str>) -> Arc<Limiter> {
    GeminiApi::new_limiter(clock, Pace::from_env())
}

/// The adapter of one Gemini account.
pub fn connect(c: Connect<'_>) -> Result<Arc<dyn Adapter>, FetchError> {
    let api = GeminiApi::new(c.base_url, c.key, c.secret, c.label, c.limiter, c.config, c.clock)?;
    Ok(Arc::new(GeminiAdapter::new(api)))
}

/// Gemini's export files: the transaction history.
pub const CSV: &[CsvFormat] =
    &[CsvFormat { name: "gemini", matches: super::csv::matches, reader: || Box::new(super::csv::Reader) }];

/// Gemini's public daily candles (USD, EUR and GBP markets) as a price source.
pub fn prices(
    base_url: Option<&str>,
    config: ClientConfig,
    clock: Arc<dyn Clock>,
) -> Result<Box<dyn CandleSource>, FetchError> {
    Ok(Box::new(super::prices::GeminiPrices::new(base_url, config, clock)?))
}

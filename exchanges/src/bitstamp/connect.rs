//! What the registry points at for Bitstamp: its API connector, paced by its request budget
//! (`COINTALLY_BITSTAMP_BUDGET`), and its export format.

use std::sync::Arc;

use crate::adapter::{Adapter, Connect};
use crate::http::{ClientConfig, Clock, FetchError, Limiter};
use crate::prices::CandleSource;
use crate::rows::CsvFormat;

use super::adapter::BitstampAdapter;
use super::api::{BitstampApi, Budget};

/// The limiter every Bitstamp account shares: the budget `COINTALLY_BITSTAMP_BUDGET` names,
/// else Bitstamp's default, and 400 requests a second.
pub fn limiter(clock: Arc<dyn Clock>, _base_url: Option<&str>) -> Arc<Limiter> {
    BitstampApi::new_limiter(clock, Budget::from_env())
}

/// The adapter of one Bitstamp account.
pub fn connect(c: Connect<'_>) -> Result<Arc<dyn Adapter>, FetchError> {
    let api = BitstampApi::new(c.base_url, c.key, c.secret, c.label, c.limiter, c.config, c.clock)?;
    Ok(Arc::new(BitstampAdapter::new(api)))
}

/// Bitstamp's transaction history export, newer and older layouts.
pub const CSV: &[CsvFormat] = &[
    CsvFormat { name: "bitstamp", matches: super::csv::matches, reader: || Box::new(super::csv::Reader) },
    CsvFormat {
        name: "bitstamp-legacy",
        matches: super::csv_legacy::matches,
        reader: || Box::new(super::csv_legacy::Reader),
    },
];

/// Bitstamp's public candles (USD, EUR and GBP markets) as a price source.
pub fn prices(
    base_url: Option<&str>,
    config: ClientConfig,
    clock: Arc<dyn Clock>,
) -> Result<Box<dyn CandleSource>, FetchError> {
    Ok(Box::new(super::prices::BitstampPrices::new(base_url, config, clock)?))
}

//! What the registry points at for Kraken: its API connector (paced for the key's
//! verification tier, `COINTALLY_KRAKEN_TIER`), its export format and its price source.

use std::sync::Arc;

use crate::adapter::Adapter;
use crate::adapter::Connect;
use crate::http::{ClientConfig, Clock, FetchError, Limiter};
use crate::prices::CandleSource;
use crate::rows::CsvFormat;

use super::adapter::KrakenAdapter;
use super::api::{KrakenApi, Tier};
use super::prices::KrakenPrices;

/// The limiter every Kraken account shares: the call counter of the tier named by
/// `COINTALLY_KRAKEN_TIER`, else Starter's.
pub fn limiter(clock: Arc<dyn Clock>, _base_url: Option<&str>) -> Arc<Limiter> {
    KrakenApi::new_limiter(clock, Tier::from_env())
}

/// The adapter of one Kraken account.
pub fn connect(c: Connect<'_>) -> Result<Arc<dyn Adapter>, FetchError> {
    let api = KrakenApi::new(c.base_url, c.key, c.secret, c.label, c.limiter, c.config, c.clock)?;
    Ok(Arc::new(KrakenAdapter::new(api)))
}

/// Kraken's ledgers export.
pub const CSV: &[CsvFormat] =
    &[CsvFormat { name: "kraken", matches: super::csv::matches, reader: || Box::<super::csv::Reader>::default() }];

/// Kraken's OHLC as a price source (CAD and AUD markets; minutes for the last hours only).
pub fn prices(
    base_url: Option<&str>,
    config: ClientConfig,
    clock: Arc<dyn Clock>,
) -> Result<Box<dyn CandleSource>, FetchError> {
    Ok(Box::new(KrakenPrices::new(base_url, config, clock)?))
}

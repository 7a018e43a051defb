//! What the registry points at for Bitfinex: its API connector, paced by its per-endpoint
//! limits (`COINTALLY_BITFINEX_BUDGET`), and its ledger export.

use std::sync::Arc;

use crate::adapter::{Adapter, Connect};
use crate::http::{Clock, FetchError, Limiter};
use crate::rows::CsvFormat;

use super::adapter::BitfinexAdapter;
use super::api::{BitfinexApi, budget_from_env};

/// The limiter every Bitfinex account shares: each endpoint's limit as
/// `COINTALLY_BITFINEX_BUDGET` names it, else Bitfinex's 90 a minute.
pub fn limiter(clock: Arc<dyn Clock>, _base_url: Option<&str>) -> Arc<Limiter> {
    BitfinexApi::new_limiter(clock, budget_from_env())
}

/// The adapter of one Bitfinex account.
pub fn connect(c: Connect<'_>) -> Result<Arc<dyn Adapter>, FetchError> {
    let api = BitfinexApi::new(c.base_url, c.key, c.secret, c.label, c.limiter, c.config, c.clock)?;
    Ok(Arc::new(BitfinexAdapter::new(api)))
}

/// Bitfinex's ledger export.
pub const CSV: &[CsvFormat] =
    &[CsvFormat { name: "bitfinex", matches: super::csv::matches, reader: || Box::new(super::csv::Reader::default()) }];

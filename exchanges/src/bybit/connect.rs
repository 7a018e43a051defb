//! What the registry points at for Bybit: its API connector, paced by its per-endpoint
//! limits (`COINTALLY_BYBIT_BUDGET`).

use std::sync::Arc;

use crate::adapter::{Adapter, Connect};
use crate::http::{Clock, FetchError, Limiter};
use crate::rows::CsvFormat;

use super::adapter::BybitAdapter;
use super::api::{BybitApi, budget_from_env};

/// The limiter every Bybit account shares: each endpoint's limit as `COINTALLY_BYBIT_BUDGET`
/// names it, else 60 a minute.
pub fn limiter(clock: Arc<dyn Clock>, _base_url: Option<&str>) -> Arc<Limiter> {
    BybitApi::new_limiter(clock, budget_from_env())
}

/// The adapter of one Bybit account.
pub fn connect(c: Connect<'_>) -> Result<Arc<dyn Adapter>, FetchError> {
    let api = BybitApi::new(c.base_url, c.key, c.secret, c.label, c.limiter, c.config, c.clock)?;
    Ok(Arc::new(BybitAdapter::new(api)))
}

/// A Bybit unified wallet transaction log file (the API's fields, keyed by the log's id).
pub const CSV: &[CsvFormat] = &[CsvFormat {
    name: "bybit-log",
    matches: super::csv::matches,
    reader: || Box::new(super::csv::Reader::default()),
}];

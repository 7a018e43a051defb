//! What the registry points at for Binance.US: Binance's connector run with Binance.US's
//! [`super::api::VENUE`].

use std::sync::Arc;

use crate::adapter::{Adapter, Connect};
use crate::binance::adapter::BinanceAdapter;
use crate::binance::api::BinanceApi;
use crate::http::{Clock, FetchError, Limiter};
use crate::rows::CsvFormat;

use super::api::VENUE;

/// The limiter every Binance.US account shares: its `/api` budgets (Binance.US counts weight
/// per IP, like Binance, but with its own limits).
pub fn limiter(clock: Arc<dyn Clock>, _base_url: Option<&str>) -> Arc<Limiter> {
    BinanceApi::new_limiter_at(&VENUE, clock)
}

/// The adapter of one Binance.US account.
pub fn connect(c: Connect<'_>) -> Result<Arc<dyn Adapter>, FetchError> {
    let api = BinanceApi::at(&VENUE, c.base_url, c.key, c.secret, c.label, c.limiter, c.config, c.clock)?;
    Ok(Arc::new(BinanceAdapter::new(api)))
}

/// Binance.US's transaction history export.
pub const CSV: &[CsvFormat] =
    &[CsvFormat { name: "binanceus", matches: super::csv::matches, reader: || Box::<super::csv::Reader>::default() }];

//! What the registry points at for OKX: its API connector, paced by its per-endpoint limits
//! (`COINTALLY_OKX_BUDGET`), and its keys (with a passphrase).

use std::sync::Arc;

use crate::adapter::{Adapter, Connect, Keys};
use crate::http::{Clock, FetchError, Limiter};
use crate::rows::CsvFormat;

use super::adapter::OkxAdapter;
use super::api::{OkxApi, budget_from_env};

/// The limiter every OKX account shares: each endpoint's documented limit, or the one
/// `COINTALLY_OKX_BUDGET` names for all.
pub fn limiter(clock: Arc<dyn Clock>, _base_url: Option<&str>) -> Arc<Limiter> {
    OkxApi::new_limiter(clock, budget_from_env())
}

/// The adapter of one OKX account.
pub fn connect(c: Connect<'_>) -> Result<Arc<dyn Adapter>, FetchError> {
    let api = OkxApi::new(c.base_url, c.key, c.secret, c.passphrase, c.label, c.limiter, c.config, c.clock)?;
    Ok(Arc::new(OkxAdapter::new(api)))
}

/// OKX keys: an API key, a secret key and the passphrase chosen when the key was made.
pub const KEYS: Keys = Keys { key_prompt: None, pem_secret: None, check: None, key_file: None, passphrase: true };

/// OKX's trading account bill archive.
pub const CSV: &[CsvFormat] = &[CsvFormat {
    name: "okx-bills",
    matches: super::csv::matches,
    reader: || Box::new(super::csv::Reader::default()),
}];

//! What the registry points at for KuCoin: its API connector, paced by the Management pool
//! (`COINTALLY_KUCOIN_BUDGET`), its keys (with a passphrase) and its account-history export.

use std::sync::Arc;

use crate::adapter::{Adapter, Connect, Keys};
use crate::http::{Clock, FetchError, Limiter};
use crate::rows::CsvFormat;

use super::adapter::KucoinAdapter;
use super::api::{KucoinApi, budget_from_env};

/// The limiter every KuCoin account shares: the Management pool as
/// `COINTALLY_KUCOIN_BUDGET` names it, else KuCoin's 2,000 a 30 s.
pub fn limiter(clock: Arc<dyn Clock>, _base_url: Option<&str>) -> Arc<Limiter> {
    KucoinApi::new_limiter(clock, budget_from_env())
}

/// The adapter of one KuCoin account.
pub fn connect(c: Connect<'_>) -> Result<Arc<dyn Adapter>, FetchError> {
    let api = KucoinApi::new(c.base_url, c.key, c.secret, c.passphrase, c.label, c.limiter, c.config, c.clock)?;
    Ok(Arc::new(KucoinAdapter::new(api)))
}

/// A KuCoin key: key, secret and the passphrase chosen when it was made.
pub const KEYS: Keys = Keys { key_prompt: None, pem_secret: None, check: None, key_file: None, passphrase: true };

/// KuCoin's account-history export.
pub const CSV: &[CsvFormat] =
    &[CsvFormat { name: "kucoin", matches: super::csv::matches, reader: || Box::new(super::csv::Reader::default()) }];

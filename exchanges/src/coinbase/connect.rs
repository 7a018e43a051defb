//! What the registry points at for Coinbase: its API connector (paced by Coinbase's
//! budgets), its export format, its price source (Coinbase Exchange's candles) and what is
//! special about its keys (CDP keys: a key name and a private key, often a PEM block, and
//! the JSON key file the CDP portal downloads).

use std::sync::Arc;

use crate::Secret;
use crate::adapter::Adapter;
use crate::adapter::{Connect, KeyProblem, Keys};
use crate::http::{ClientConfig, Clock, FetchError, Limiter};
use crate::prices::CandleSource;
use crate::rows::CsvFormat;

use super::adapter::CoinbaseAdapter;
use super::api::{Budget, CoinbaseApi};
use super::auth::{AuthError, CdpKey};
use super::key_file::{KeyFileError, parse_key_file};
use super::prices::CoinbasePrices;

/// The environment variable that scales Coinbase's budgets (`60`: time runs 60 times
/// faster) for a simulator on this machine; it has no effect on any other host.
#[cfg(feature = "sandbox")]
pub const COINBASE_SPEED_ENV: &str = "COINTALLY_COINBASE_SPEED";

/// The limiter every Coinbase account talking to `base_url` shares: Coinbase's budgets.
pub fn limiter(clock: Arc<dyn Clock>, base_url: Option<&str>) -> Arc<Limiter> {
    CoinbaseApi::new_limiter(clock, budget(base_url))
}

/// Coinbase's budgets; with the `sandbox` feature, scaled by `COINTALLY_COINBASE_SPEED`
/// when `base_url` is a loopback address (a simulator), never for a real Coinbase host.
pub fn budget(base_url: Option<&str>) -> Budget {
    #[cfg(feature = "sandbox")]
    {
        let speed = std::env::var(COINBASE_SPEED_ENV).ok();
        scaled_budget(base_url, speed.as_deref())
    }
    #[cfg(not(feature = "sandbox"))]
    {
        let _ = base_url;
        Budget::REAL
    }
}

/// Coinbase's budgets scaled by `speed` (a whole number) when `base_url` is a loopback
/// address; the real ones otherwise.
#[cfg(feature = "sandbox")]
fn scaled_budget(base_url: Option<&str>, speed: Option<&str>) -> Budget {
    match speed.and_then(|speed| speed.trim().parse::<u32>().ok()) {
        Some(speed) if base_url.is_some_and(crate::http::is_loopback_url) => Budget::scaled(speed),
        _ => Budget::REAL,
    }
}

/// The adapter of one Coinbase account.
pub fn connect(c: Connect<'_>) -> Result<Arc<dyn Adapter>, FetchError> {
    let api = CoinbaseApi::new(c.base_url, &c.key, &c.secret, c.label, c.limiter, c.config, c.clock)?;
    Ok(Arc::new(CoinbaseAdapter::new(api)))
}

/// Coinbase's transaction history report.
pub const CSV: &[CsvFormat] =
    &[CsvFormat { name: "coinbase", matches: super::csv::matches, reader: || Box::<super::csv::Reader>::default() }];

/// Coinbase Exchange's candles as a price source (it has fiat markets).
pub fn prices(
    base_url: Option<&str>,
    config: ClientConfig,
    clock: Arc<dyn Clock>,
) -> Result<Box<dyn CandleSource>, FetchError> {
    Ok(Box::new(CoinbasePrices::new(base_url, config, clock)?))
}

/// What to do when a key file or key cannot be used.
const KEY_FILE_HINT: &str = "download the key file again from portal.cdp.coinbase.com (API Keys), or give the key name \
                             and private key at the prompt or with --key-env and --secret-env";

/// A CDP key: named at its own prompt, its private key possibly a PEM block, checked before
/// use, and readable from the portal's key file.
pub const KEYS: Keys = Keys {
    key_prompt: Some(key_prompt),
    pem_secret: Some("Paste the private key (a PEM key ends with its -----END EC PRIVATE KEY----- line):"),
    check: Some(check_key),
    key_file: Some(read_key_file),
    passphrase: false,
};

/// The prompt for a CDP key's name.
fn key_prompt(label: &str) -> String {
    format!("Coinbase API key name for {label} (organizations/.../apiKeys/... or the key id): ")
}

/// Refuses a key that is no CDP key (legacy key, mangled PEM, swapped fields…).
fn check_key(key_name: &str, private_key: &Secret) -> Result<(), KeyProblem> {
    match CdpKey::parse(key_name, private_key) {
        Ok(_) => Ok(()),
        Err(AuthError::LegacyKey) => Err(KeyProblem { message: AuthError::LegacyKey.to_string(), hint: None }),
        Err(e) => Err(KeyProblem { message: e.to_string(), hint: Some(KEY_FILE_HINT) }),
    }
}

/// The key in a CDP key file, checked; no problem quotes the file.
fn read_key_file(content: &[u8]) -> Result<(String, Secret), KeyProblem> {
    match parse_key_file(content) {
        Ok(file) => Ok((file.key_name, file.private_key)),
        Err(e @ KeyFileError::Key(AuthError::LegacyKey)) => Err(KeyProblem { message: e.to_string(), hint: None }),
        Err(e) => Err(KeyProblem { message: e.to_string(), hint: Some(KEY_FILE_HINT) }),
    }
}

#[cfg(all(test, feature = "sandbox"))]
mod tests {
    use super::*;

    #[test]
    fn the_speed_switch_scales_only_a_loopback_host() {
        for local in ["http://127.0.0.1:8080", "http://127.4.5.6", "http://localhost:3000/x", "http://[::1]:99"] {
            assert_eq!(scaled_budget(Some(local), Some("1000")), Budget::scaled(1000), "{local}");
        }
        for real in [
            None,
            Some("https://api.coinbase.com"),
            Some("http://127.0.0.1.example.com"),
            Some("http://localhost.evil.com"),
            Some("https://user@127.0.0.1.evil.com"),
            Some("http://10.0.0.1"),
            Some("http://[::2]"),
            Some("not a url"),
        ] {
            assert_eq!(scaled_budget(real, Some("1000")), Budget::REAL, "{real:?}");
        }
        assert_eq!(scaled_budget(Some("http://127.0.0.1:8080"), None), Budget::REAL);
        assert_eq!(scaled_budget(Some("http://127.0.0.1:8080"), Some("fast")), Budget::REAL);
    }
}

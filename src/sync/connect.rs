//! Turning an account of the ledger into an adapter that talks to its exchange: its key,
//! its base URL, the exchange's shared limiter, and the check of what the key may do. What
//! each exchange supports (and how it paces itself) comes from its registry entry.

use std::collections::BTreeMap;
use std::sync::Arc;

use cointally_exchanges::Exchange;
use cointally_exchanges::adapter::{Adapter, KeyPermissions};
use cointally_exchanges::http::{ClientConfig, Clock, FetchError, Limiter, SystemClock, is_loopback_url};
use cointally_exchanges::registry::{self, Connect};

use crate::credentials::{ApiKey, CredentialsError, CredentialsFile};
use crate::ledger::{Account, CredentialSource};

/// Why an account cannot be connected.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The account holds files only.
    #[error("account {0} has no API key: it holds imported files only")]
    NoKey(String),
    /// The exchange has no API client in cointally.
    #[error("account {label}: cointally has no API client for {exchange}")]
    NoClient {
        /// The account.
        label: String,
        /// Its exchange.
        exchange: String,
    },
    /// An environment variable named by the account is not set.
    #[error("account {label}: the environment variable {var} (its API {what}) is not set")]
    MissingEnv {
        /// The account.
        label: String,
        /// The variable.
        var: String,
        /// `key` or `secret`.
        what: &'static str,
    },
    /// The credentials file has no entry for the account.
    #[error("account {0}: its API key is not in the credentials file")]
    NotInFile(String),
    /// The credentials file could not be read.
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
    /// The key can withdraw and the user did not allow it.
    #[error("account {label}: the API key can move funds out of the account ({permissions}); cointally only reads")]
    WithdrawKey {
        /// The account.
        label: String,
        /// The exchange's names for what it can do.
        permissions: String,
    },
    /// The exchange could not be asked, or refused the key.
    #[error("account {label}: {source}")]
    Fetch {
        /// The account.
        label: String,
        /// What the exchange said.
        source: Box<FetchError>,
    },
}

impl ConnectError {
    /// The exchange could not be asked about the account labelled `label`, or refused its key.
    pub fn fetch(label: &str, source: FetchError) -> ConnectError {
        ConnectError::Fetch { label: label.to_string(), source: Box::new(source) }
    }
}

/// The environment variable that overrides an exchange's base URL (`COINTALLY_BINANCE_BASE_URL`).
pub fn base_url_env(exchange: Exchange) -> String {
    format!("COINTALLY_{}_BASE_URL", exchange.as_str().to_ascii_uppercase())
}

/// The base URL an account talks to: its `--base-url`, else the exchange's environment
/// variable, else the exchange's production URL (`None`).
pub fn base_url(account: &Account, exchange: Exchange) -> Option<String> {
    account.base_url.clone().or_else(|| std::env::var(base_url_env(exchange)).ok().filter(|v| !v.trim().is_empty()))
}

/// Whether cointally has an API client for the exchange (others are files only, or planned).
pub fn has_client(exchange: Exchange) -> bool {
    registry::entry(exchange).api.is_some()
}

/// The account's key: from its environment variables or from the credentials file.
pub fn api_key(account: &Account, ledger_id: &str, file: &CredentialsFile) -> Result<ApiKey, ConnectError> {
    match account.credential_source {
        CredentialSource::None => Err(ConnectError::NoKey(account.label.clone())),
        CredentialSource::Env => {
            let read = |var: &Option<String>, what| {
                let var = var.clone().unwrap_or_default();
                std::env::var(&var)
                    .ok()
                    .filter(|v| !v.trim().is_empty())
                    .map(|v| cointally_exchanges::Secret::new(v.trim()))
                    .ok_or(ConnectError::MissingEnv { label: account.label.clone(), var, what })
            };
            Ok(ApiKey { key: read(&account.key_env, "key")?, secret: read(&account.secret_env, "secret")? })
        }
        CredentialSource::File => {
            file.get(ledger_id, &account.label)?.ok_or_else(|| ConnectError::NotInFile(account.label.clone()))
        }
    }
}

/// Builds adapters, one limiter per exchange shared by all its accounts (those talking to a
/// server on this machine, such as a simulator, share another).
pub struct Connector {
    clock: Arc<dyn Clock>,
    config: ClientConfig,
    limiters: BTreeMap<(Exchange, bool), Arc<Limiter>>,
}

impl Default for Connector {
    fn default() -> Self {
        Connector::new()
    }
}

/// Whether an account with this base URL talks to a server on this machine.
fn local(base_url: Option<&str>) -> bool {
    base_url.is_some_and(is_loopback_url)
}

impl Connector {
    /// A connector on the system clock with the client settings from the environment.
    pub fn new() -> Connector {
        Connector { clock: Arc::new(SystemClock), config: ClientConfig::from_env(), limiters: BTreeMap::new() }
    }

    /// The same connector pacing the accounts of `exchange` that talk to `base_url` with
    /// `limiter` (a simulator's scaled limits, say) instead of the exchange's own.
    pub fn with_limiter(mut self, exchange: Exchange, base_url: &str, limiter: Arc<Limiter>) -> Connector {
        self.limiters.insert((exchange, local(Some(base_url))), limiter);
        self
    }

    /// The clock the adapters wait on.
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    /// The adapter for the account labelled `label` with `key`, talking to `base_url`
    /// (production when `None`).
    pub fn adapter(
        &mut self,
        label: &str,
        exchange: Exchange,
        key: ApiKey,
        base_url: Option<&str>,
    ) -> Result<Arc<dyn Adapter>, ConnectError> {
        let Some(api) = registry::entry(exchange).api.as_ref() else {
            return Err(ConnectError::NoClient { label: label.to_string(), exchange: exchange.to_string() });
        };
        let clock = self.clock.clone();
        let limiter = self
            .limiters
            .entry((exchange, local(base_url)))
            .or_insert_with(|| (api.limiter)(clock.clone(), base_url))
            .clone();
        (api.connect)(Connect {
            label,
            key: key.key,
            secret: key.secret,
            base_url,
            limiter,
            config: self.config.clone(),
            clock,
        })
        .map_err(|source| ConnectError::fetch(label, source))
    }
}

/// What to tell the user about a key's permissions: refuses a key that can withdraw unless
/// allowed; returns warnings (trading, no IP restriction).
pub fn judge_permissions(
    label: &str,
    permissions: &KeyPermissions,
    allow_withdraw: bool,
) -> Result<Vec<String>, ConnectError> {
    let mut warnings = Vec::new();
    if permissions.can_withdraw {
        let named =
            if permissions.details.is_empty() { "withdrawals".to_string() } else { permissions.details.join(", ") };
        if !allow_withdraw {
            return Err(ConnectError::WithdrawKey { label: label.to_string(), permissions: named });
        }
        warnings.push(format!(
            "account {label}: the API key can withdraw funds ({named}); allowed by --allow-withdraw-key"
        ));
    }
    if permissions.can_trade {
        warnings.push(format!(
            "account {label}: the API key can trade; cointally never places orders, a read-only key is safer"
        ));
    }
    if permissions.ip_restricted == Some(false) {
        warnings.push(format!(
            "account {label}: the API key works from any IP address; restrict it to this machine's address in the exchange's API settings"
        ));
    }
    Ok(warnings)
}

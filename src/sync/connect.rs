//! Turning an account of the ledger into an adapter that talks to its exchange: its key,
//! its base URL, the exchange's shared limiter, and the check of what the key may do. What
//! each exchange supports (and how it paces itself) comes from its registry entry.
//!
//! Where a key may go ([`check_host`], [`route`]): the exchange's production API; a server on
//! this machine (loopback: `127.0.0.0/8`, `::1`, `localhost`), such as a simulator; or, only
//! when the account was added with `--allow-custom-host`, another `https://` host, named in a
//! warning at every sync. Plain `http://` goes to loopback only. The origin a key was added
//! for is stored with the key in the credentials file, and a sync whose URL (the ledger's
//! base URL, the `COINTALLY_<EXCHANGE>_BASE_URL` override, or the production default) has
//! another origin refuses: the ledger alone never decides where a key goes.

use std::collections::BTreeMap;
use std::sync::Arc;

use cointally_exchanges::Exchange;
use cointally_exchanges::adapter::{Adapter, KeyPermissions};
use cointally_exchanges::http::{ClientConfig, Clock, FetchError, Limiter, SystemClock, is_loopback_url, origin_of};
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
        /// `key`, `secret` or `passphrase`.
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
    /// The URL is not one a key may be sent to (plain http to another machine, a host other
    /// than the exchange's without `--allow-custom-host`, no URL at all).
    #[error("account {label}: {reason}")]
    HostRefused {
        /// The account.
        label: String,
        /// Why, naming the URL's origin (never a secret: a URL's user, path and query are left out).
        reason: String,
        /// Whether `--allow-custom-host` would allow it.
        custom: bool,
    },
    /// The URL a sync would use has another origin than the one the key is bound to.
    #[error(
        "account {label}: its key is bound to {bound} (in the credentials file), but {source_name} says {effective}; nothing was sent"
    )]
    HostMismatch {
        /// The account.
        label: String,
        /// The origin the key is bound to.
        bound: String,
        /// The origin the sync would talk to.
        effective: String,
        /// Where that URL came from (the ledger, an environment variable, the production default).
        source_name: String,
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

/// The exchange's production base URL (`None` for an exchange without an API client).
pub fn production_url(exchange: Exchange) -> Option<&'static str> {
    registry::entry(exchange).api.as_ref().map(|api| api.production)
}

/// What kind of place a URL is, for the rules on where a key may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostKind {
    /// The exchange's production API.
    Production,
    /// A server on this machine (loopback), such as a simulator.
    Loopback,
    /// Any other `https://` host: only with `--allow-custom-host`.
    Custom,
}

/// Where `url` (production when `None`) is, for an account labelled `label` of `exchange`,
/// and its origin. Refuses what no flag allows: text that is no http(s) URL, and plain
/// `http://` to anything but this machine.
pub fn classify_host(label: &str, exchange: Exchange, url: Option<&str>) -> Result<(HostKind, String), ConnectError> {
    let refused = |reason: String| ConnectError::HostRefused { label: label.to_string(), reason, custom: false };
    let production = production_url(exchange).and_then(origin_of);
    let Some(url) = url else {
        return production
            .map(|origin| (HostKind::Production, origin))
            .ok_or_else(|| ConnectError::NoClient { label: label.to_string(), exchange: exchange.to_string() });
    };
    let Some(origin) = origin_of(url) else {
        return Err(refused("the base URL is not an http:// or https:// URL with a host".to_string()));
    };
    if Some(&origin) == production.as_ref() {
        return Ok((HostKind::Production, origin));
    }
    if is_loopback_url(url) {
        return Ok((HostKind::Loopback, origin));
    }
    if origin.starts_with("http://") {
        return Err(refused(format!(
            "{origin} is plain http:// to another machine: a key is sent over http:// only to this machine (127.0.0.1, ::1, localhost)"
        )));
    }
    Ok((HostKind::Custom, origin))
}

/// Checks the URL an account is being added for (production when `None`): refuses what
/// [`classify_host`] refuses, and a custom host unless `allow_custom`. Returns the origin to
/// bind the key to and, for a custom host, the warning to show.
pub fn check_host(
    label: &str,
    exchange: Exchange,
    url: Option<&str>,
    allow_custom: bool,
) -> Result<(String, Option<String>), ConnectError> {
    let (kind, origin) = classify_host(label, exchange, url)?;
    match kind {
        HostKind::Custom if !allow_custom => Err(ConnectError::HostRefused {
            label: label.to_string(),
            reason: format!(
                "{origin} is neither {exchange}'s API ({}) nor this machine; its key would be sent there",
                production_url(exchange).unwrap_or("none")
            ),
            custom: true,
        }),
        HostKind::Custom => Ok((origin.clone(), Some(custom_host_warning(label, &origin)))),
        HostKind::Production | HostKind::Loopback => Ok((origin, None)),
    }
}

fn custom_host_warning(label: &str, origin: &str) -> String {
    format!(
        "account {label}: its API key is sent to {origin}, which is not the exchange's own API (allowed by --allow-custom-host)"
    )
}

/// Where a sync sends an account's key, once checked against its binding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The base URL to talk to; production when `None`.
    pub base_url: Option<String>,
    /// What to tell the user (a custom host, at every sync).
    pub warnings: Vec<String>,
}

/// The base URL an account's key goes to, checked: the account's URL ([`base_url`]: the
/// ledger's, else the environment override, else production) must have the origin the
/// credentials file binds the key to (production when it names none), and must pass
/// [`classify_host`]. Nothing is contacted.
pub fn route(
    account: &Account,
    exchange: Exchange,
    ledger_id: &str,
    file: &CredentialsFile,
) -> Result<Route, ConnectError> {
    let url = base_url(account, exchange);
    let (kind, effective) = classify_host(&account.label, exchange, url.as_deref())?;
    let production = production_url(exchange).and_then(origin_of);
    let bound = match file.binding(ledger_id, &account.label)? {
        Some(bound) => Some(bound),
        None => production,
    };
    if bound.as_deref() != Some(effective.as_str()) {
        let source_name = if account.base_url.is_some() {
            "the ledger's base URL".to_string()
        } else if url.is_some() {
            format!("${}", base_url_env(exchange))
        } else {
            format!("{exchange}'s production default")
        };
        return Err(ConnectError::HostMismatch {
            label: account.label.clone(),
            bound: bound.unwrap_or_else(|| "nothing".to_string()),
            effective,
            source_name,
        });
    }
    let warnings =
        if kind == HostKind::Custom { vec![custom_host_warning(&account.label, &effective)] } else { Vec::new() };
    Ok(Route { base_url: url, warnings })
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
            let passphrase = match &account.passphrase_env {
                Some(_) => Some(read(&account.passphrase_env, "passphrase")?),
                None => None,
            };
            Ok(ApiKey { key: read(&account.key_env, "key")?, secret: read(&account.secret_env, "secret")?, passphrase })
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
            passphrase: key.passphrase,
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
    if permissions.may_withdraw() {
        let named = match (permissions.can_withdraw, permissions.details.is_empty()) {
            (_, false) => permissions.details.join(", "),
            (Some(true), true) => "withdrawals".to_string(),
            (_, true) => "the exchange did not say whether it can withdraw".to_string(),
        };
        let named = if permissions.can_withdraw.is_none() {
            format!("{named}; an unreported permission counts as allowed")
        } else {
            named
        };
        if !allow_withdraw {
            return Err(ConnectError::WithdrawKey { label: label.to_string(), permissions: named });
        }
        warnings.push(format!(
            "account {label}: the API key can withdraw funds ({named}); allowed by --allow-withdraw-key"
        ));
    }
    if permissions.can_trade == Some(true) {
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

#[cfg(test)]
mod tests;

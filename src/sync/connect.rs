//! Turning an account of the ledger into an adapter that talks to its exchange: its key,
//! its base URL, the exchange's shared limiter, and the check of what the key may do.

use std::collections::BTreeMap;
use std::sync::Arc;

use cointally_exchanges::Exchange;
use cointally_exchanges::adapter::{Adapter, KeyPermissions};
use cointally_exchanges::binance::adapter::BinanceAdapter;
use cointally_exchanges::binance::api::BinanceApi;
use cointally_exchanges::coinbase::adapter::CoinbaseAdapter;
use cointally_exchanges::coinbase::api::{Budget, CoinbaseApi};
use cointally_exchanges::http::{ClientConfig, Clock, FetchError, Limiter, SystemClock};
use cointally_exchanges::kraken::adapter::KrakenAdapter;
use cointally_exchanges::kraken::api::{KrakenApi, Tier};

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
    matches!(exchange, Exchange::Binance | Exchange::Kraken | Exchange::Coinbase)
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

/// Builds adapters, one limiter per exchange shared by all its accounts.
pub struct Connector {
    clock: Arc<dyn Clock>,
    config: ClientConfig,
    limiters: BTreeMap<Exchange, Arc<Limiter>>,
    /// Kraken's call counter (the key's verification tier): `COINTALLY_KRAKEN_TIER`, else Starter.
    kraken_tier: Tier,
    /// Coinbase's budgets: `COINTALLY_COINBASE_SPEED` (a simulator's scaled limits), else Coinbase's.
    coinbase_budget: Budget,
}

impl Default for Connector {
    fn default() -> Self {
        Connector::new()
    }
}

impl Connector {
    /// A connector on the system clock with the client settings from the environment.
    pub fn new() -> Connector {
        Connector {
            clock: Arc::new(SystemClock),
            config: ClientConfig::from_env(),
            limiters: BTreeMap::new(),
            kraken_tier: Tier::from_env(),
            coinbase_budget: coinbase_budget_from_env(),
        }
    }

    /// The same connector pacing Kraken calls for `tier` (a simulator's scaled counter, say).
    pub fn with_kraken_tier(mut self, tier: Tier) -> Connector {
        self.kraken_tier = tier;
        self
    }

    /// The same connector pacing Coinbase calls for `budget` (a simulator's scaled limits, say).
    pub fn with_coinbase_budget(mut self, budget: Budget) -> Connector {
        self.coinbase_budget = budget;
        self
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
        let clock = self.clock.clone();
        match exchange {
            Exchange::Binance => {
                let limiter =
                    self.limiters.entry(exchange).or_insert_with(|| BinanceApi::new_limiter(clock.clone())).clone();
                let api = BinanceApi::new(base_url, key.key, key.secret, label, limiter, self.config.clone(), clock)
                    .map_err(|source| ConnectError::fetch(label, source))?;
                Ok(Arc::new(BinanceAdapter::new(api)))
            }
            Exchange::Kraken => {
                let tier = self.kraken_tier;
                let limiter = self
                    .limiters
                    .entry(exchange)
                    .or_insert_with(|| KrakenApi::new_limiter(clock.clone(), tier))
                    .clone();
                let api = KrakenApi::new(base_url, key.key, key.secret, label, limiter, self.config.clone(), clock)
                    .map_err(|source| ConnectError::fetch(label, source))?;
                Ok(Arc::new(KrakenAdapter::new(api)))
            }
            Exchange::Coinbase => {
                let budget = self.coinbase_budget;
                let limiter = self
                    .limiters
                    .entry(exchange)
                    .or_insert_with(|| CoinbaseApi::new_limiter(clock.clone(), budget))
                    .clone();
                let api = CoinbaseApi::new(base_url, &key.key, &key.secret, label, limiter, self.config.clone(), clock)
                    .map_err(|source| ConnectError::fetch(label, source))?;
                Ok(Arc::new(CoinbaseAdapter::new(api)))
            }
            other => Err(ConnectError::NoClient { label: label.to_string(), exchange: other.to_string() }),
        }
    }
}

/// The environment variable that scales Coinbase's budgets (`60`: time runs 60 times faster), for simulators.
pub const COINBASE_SPEED_ENV: &str = "COINTALLY_COINBASE_SPEED";

/// Coinbase's budgets, scaled by `COINTALLY_COINBASE_SPEED` when it holds a number.
fn coinbase_budget_from_env() -> Budget {
    std::env::var(COINBASE_SPEED_ENV)
        .ok()
        .and_then(|speed| speed.trim().parse::<u32>().ok())
        .map_or(Budget::REAL, Budget::scaled)
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

//! KuCoin's REST API on the HTTP kit: the endpoint table, signing, answers, the pace.
//!
//! [`Endpoint`] lists what the adapter calls: signed `GET`s ([`super::auth`]). KuCoin wraps
//! every answer as `{"code": "200000", "data": …}`; an error is `{"code": CODE, "msg": …}`
//! (<https://www.kucoin.com/docs/basic-info/request-rate-limit/rest-api> and the error codes of
//! <https://www.kucoin.com/docs-new/authentication>): `400003` (unknown key), `400004` (wrong
//! passphrase), `400005` (wrong signature: the secret), `400006` (IP not on the key's list),
//! `400007` (the key lacks the permission) and `411100` (account frozen) are key problems
//! ([`FetchError::Auth`]); `400002` (timestamp too far from KuCoin's clock), `500000` and 5xx
//! are retried; HTTP 429 or code `429000` (and the older `200002`) mean the rate limit.
//!
//! # Pace
//!
//! KuCoin's rate limit 2.0 (<https://www.kucoin.com/docs-new/rate-limit>) gives each resource
//! pool a quota per 30 seconds counted from the user's first request; the account endpoints
//! cointally calls draw on the **Management** pool, 2,000 a 30 s at VIP 0 (more at higher
//! levels), the two high-frequency ledgers and the HF margin balances on the **Spot** pool
//! (4,000 at VIP 0, [`spot_budget`]),
//! each call its documented weight ([`Endpoint::weight`]). Going over answers 429
//! `429000` until the pool resets. As the window starts at a moment the client does not know,
//! each pool is a leaky bucket ([`WindowBudget`]) that never puts more than the quota in any
//! 30 s while it sustains 90 % of it, shared by every KuCoin account of the machine (the quota
//! is per user; one machine syncing two KuCoin users is paced as if they were one, which is
//! safe). `COINTALLY_KUCOIN_BUDGET=LIMIT:SECONDS` replaces the 2,000 a 30 s (a higher VIP
//! level, or the simulator's scaled budget in tests).

use std::sync::Arc;

use reqwest::header::HeaderMap;

use super::auth;
use crate::Secret;
use crate::http::answer::{self, incomplete};
use crate::http::budget::WindowBudget;
use crate::http::client::{Client, ClientConfig, Method, Prepared, Protocol, Request, Usage, Verdict};
use crate::http::query::encode_query;
use crate::http::{Clock, FetchError, Limiter};

pub use crate::http::Answer;

/// The exchange's name in errors and logs.
pub const EXCHANGE: &str = "kucoin";

/// KuCoin's production host for spot and account calls.
pub const DEFAULT_BASE_URL: &str = "https://api.kucoin.com";

/// The environment variable that replaces the Management pool's quota: `LIMIT:SECONDS`.
pub const BUDGET_ENV: &str = "COINTALLY_KUCOIN_BUDGET";

/// The limiter bucket of the Management pool.
pub const POOL: &str = "management";

/// The limiter bucket of the Spot pool (the high-frequency ledger draws on it).
pub const SPOT_POOL: &str = "spot";

/// The Management pool's quota at VIP 0: 2,000 a 30 seconds.
pub const DEFAULT_BUDGET: WindowBudget = WindowBudget { limit: 2000, window_seconds: 30 };

/// The budget `COINTALLY_KUCOIN_BUDGET` names, else KuCoin's VIP 0 quota.
pub fn budget_from_env() -> WindowBudget {
    WindowBudget::from_env(BUDGET_ENV, DEFAULT_BUDGET)
}

/// The Spot pool's quota for a Management quota of `management`: twice it. KuCoin's table gives
/// Spot at least twice Management at every VIP level (4,000 and 2,000 a 30 s at VIP 0, 40,000
/// and 20,000 at VIP 12; <https://www.kucoin.com/docs-new/rate-limit>), so this never asks more
/// than the Spot pool allows.
pub fn spot_budget(management: WindowBudget) -> WindowBudget {
    WindowBudget { limit: management.limit.saturating_mul(2), window_seconds: management.window_seconds }
}

/// An endpoint of KuCoin's REST API that cointally calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Endpoint {
    /// `GET /api/v1/user/api-key`: the key's permissions.
    ApiKey,
    /// `GET /api/v1/accounts`: balances per account (main, trade, margin) and currency.
    Accounts,
    /// `GET /api/v1/accounts/ledgers`: every balance change of the main, trade and margin accounts.
    Ledgers,
    /// `GET /api/v1/hf/accounts/ledgers`: every balance change of the high-frequency trade account.
    HfLedgers,
    /// `GET /api/v3/hf/margin/account/ledgers`: every balance change of the high-frequency
    /// margin accounts (cross `MARGIN_V2` and isolated `ISOLATED_V2`).
    MarginHfLedgers,
    /// `GET /api/v3/margin/accounts`: the high-frequency cross margin account's balances
    /// (`queryType=MARGIN_V2`).
    MarginAccounts,
    /// `GET /api/v3/isolated/accounts`: the high-frequency isolated margin accounts' balances
    /// (`queryType=ISOLATED_V2`).
    IsolatedAccounts,
    /// `GET /api/v1/deposits`: crypto deposits with their hash, address and chain.
    Deposits,
    /// `GET /api/v1/withdrawals`: crypto withdrawals with their hash, address and chain.
    Withdrawals,
    /// `GET /api/v1/hist-deposits`: deposits before 2019-02-18 (KuCoin's v1).
    HistDeposits,
    /// `GET /api/v1/hist-withdrawals`: withdrawals before 2019-02-18 (KuCoin's v1).
    HistWithdrawals,
}

impl Endpoint {
    /// Every endpoint.
    pub const ALL: [Endpoint; 11] = [
        Endpoint::ApiKey,
        Endpoint::Accounts,
        Endpoint::Ledgers,
        Endpoint::HfLedgers,
        Endpoint::MarginHfLedgers,
        Endpoint::MarginAccounts,
        Endpoint::IsolatedAccounts,
        Endpoint::Deposits,
        Endpoint::Withdrawals,
        Endpoint::HistDeposits,
        Endpoint::HistWithdrawals,
    ];

    /// The endpoint's name in errors, stats and the raw archive (`ledgers`).
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::ApiKey => "api-key",
            Endpoint::Accounts => "accounts",
            Endpoint::Ledgers => "ledgers",
            Endpoint::HfLedgers => "hf-ledgers",
            Endpoint::MarginHfLedgers => "margin-hf-ledgers",
            Endpoint::MarginAccounts => "margin-accounts",
            Endpoint::IsolatedAccounts => "isolated-accounts",
            Endpoint::Deposits => "deposits",
            Endpoint::Withdrawals => "withdrawals",
            Endpoint::HistDeposits => "hist-deposits",
            Endpoint::HistWithdrawals => "hist-withdrawals",
        }
    }

    /// The path after the host.
    pub fn path(self) -> &'static str {
        match self {
            Endpoint::ApiKey => "/api/v1/user/api-key",
            Endpoint::Accounts => "/api/v1/accounts",
            Endpoint::Ledgers => "/api/v1/accounts/ledgers",
            Endpoint::HfLedgers => "/api/v1/hf/accounts/ledgers",
            Endpoint::MarginHfLedgers => "/api/v3/hf/margin/account/ledgers",
            Endpoint::MarginAccounts => "/api/v3/margin/accounts",
            Endpoint::IsolatedAccounts => "/api/v3/isolated/accounts",
            Endpoint::Deposits => "/api/v1/deposits",
            Endpoint::Withdrawals => "/api/v1/withdrawals",
            Endpoint::HistDeposits => "/api/v1/hist-deposits",
            Endpoint::HistWithdrawals => "/api/v1/hist-withdrawals",
        }
    }

    /// The endpoint at this path, if any.
    pub fn from_path(path: &str) -> Option<Endpoint> {
        Endpoint::ALL.into_iter().find(|endpoint| endpoint.path() == path)
    }

    /// Its weight in its pool, as KuCoin's API specification gives each endpoint's
    /// "API-RATE-LIMIT-POOL" and "API-RATE-LIMIT-WEIGHT" (KuCoin's own SDK generated from it,
    /// <https://github.com/Kucoin/kucoin-universal-sdk>, `spec/rest/api/openapi-account-*.json`,
    /// each endpoint with its page): the account ledger 2, Management
    /// (<https://www.kucoin.com/docs-new/api-3470121>); the high-frequency and HF margin ledgers
    /// 2 each, Spot (api-3470122, api-3470123); the account list 5, Management (api-3470125);
    /// the HF cross and isolated margin balances 15 each, Spot (api-3470127, api-3470128); the
    /// key's information 20, Management (api-3470130); the deposit lists 5 (api-3470141, the v1
    /// list api-3470306) and the withdrawal lists 20 (api-3470145, api-3470308), Management.
    pub fn weight(self) -> u64 {
        match self {
            Endpoint::ApiKey | Endpoint::Withdrawals | Endpoint::HistWithdrawals => 20,
            Endpoint::Accounts | Endpoint::Deposits | Endpoint::HistDeposits => 5,
            Endpoint::MarginAccounts | Endpoint::IsolatedAccounts => 15,
            Endpoint::Ledgers | Endpoint::HfLedgers | Endpoint::MarginHfLedgers => 2,
        }
    }

    /// The resource pool it draws on: the high-frequency ledgers and the margin balances the
    /// Spot pool ("Spot weight"), the others the Management pool ("Manage weight").
    pub fn pool(self) -> &'static str {
        match self {
            Endpoint::HfLedgers | Endpoint::MarginHfLedgers | Endpoint::MarginAccounts | Endpoint::IsolatedAccounts => {
                SPOT_POOL
            }
            Endpoint::ApiKey
            | Endpoint::Accounts
            | Endpoint::Ledgers
            | Endpoint::Deposits
            | Endpoint::Withdrawals
            | Endpoint::HistDeposits
            | Endpoint::HistWithdrawals => POOL,
        }
    }
}

/// How KuCoin wants requests signed and how its answers read, for one key.
pub struct KucoinProtocol {
    api_key: Secret,
    secret: Secret,
    passphrase: Secret,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for KucoinProtocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KucoinProtocol").finish_non_exhaustive()
    }
}

fn setup(reason: String) -> FetchError {
    FetchError::Setup { exchange: EXCHANGE.to_owned(), reason }
}

impl Protocol for KucoinProtocol {
    fn exchange(&self) -> &'static str {
        EXCHANGE
    }

    fn prepare(&self, request: &Request) -> Result<Prepared, FetchError> {
        let query = encode_query(&request.params);
        // KuCoin signs the query as sent when, as here, nothing in it needs encoding.
        let endpoint = if query.is_empty() { request.path.clone() } else { format!("{}?{query}", request.path) };
        let timestamp = self.clock.now_ms().to_string();
        let headers = auth::headers(&self.api_key, &self.secret, &self.passphrase, &timestamp, "GET", &endpoint, "")
            .into_iter()
            .map(|(name, value)| (name.to_owned(), Secret::new(value)))
            .collect();
        Ok(Prepared { query, body: None, headers })
    }

    fn judge(&self, request: &Request, status: u16, headers: &HeaderMap, body: &[u8]) -> Verdict {
        let value: Option<serde_json::Value> = serde_json::from_slice(body).ok();
        let code = value.as_ref().and_then(|v| v.get("code")).map(|code| match code.as_str() {
            Some(text) => text.to_owned(),
            None => code.to_string(),
        });
        if status == 429 || matches!(code.as_deref(), Some("429000" | "200002")) {
            return Verdict::RateLimited { retry_after: reset_after(headers) };
        }
        match (code.as_deref(), value.as_ref()) {
            // `200` is the success code of the cross margin balances' documented example.
            (Some("200000" | "200"), Some(_)) if (200..300).contains(&status) => Verdict::Ok,
            (Some(code), Some(value)) => judge_error(request.endpoint, status, code, value),
            (None, Some(_)) if status >= 500 => Verdict::Retry { reason: format!("HTTP {status}"), after: None },
            (None, None) if status >= 500 => Verdict::Retry { reason: format!("HTTP {status}"), after: None },
            (None, None) if (200..300).contains(&status) => incomplete(status, body),
            _ => Verdict::Fail(FetchError::Api {
                exchange: EXCHANGE.to_owned(),
                endpoint: request.endpoint.to_owned(),
                status,
                code: String::new(),
                message: format!("HTTP {status}: {}", answer::snippet(body)),
            }),
        }
    }

    fn observe(&self, _request: &Request, _headers: &HeaderMap) -> Vec<Usage> {
        // The pace is modelled from the documented quota; a 429 pauses by its reset header.
        Vec::new()
    }
}

/// The wait `gw-ratelimit-reset` (ms until the pool resets) asks for.
fn reset_after(headers: &HeaderMap) -> Option<std::time::Duration> {
    let text = headers.get("gw-ratelimit-reset")?.to_str().ok()?;
    text.trim().parse::<u64>().ok().map(std::time::Duration::from_millis)
}

/// What an error answer `{"code": CODE, "msg": …}` means.
fn judge_error(endpoint: &str, status: u16, code: &str, value: &serde_json::Value) -> Verdict {
    let message = value.get("msg").and_then(serde_json::Value::as_str).unwrap_or_default().to_owned();
    let said = format!("KuCoin said: {code} {message}");
    let auth = |problem: &str| {
        Verdict::Fail(FetchError::Auth {
            exchange: EXCHANGE.to_owned(),
            endpoint: endpoint.to_owned(),
            message: format!("{problem} ({})", said.trim_end()),
        })
    };
    match code {
        "400003" => auth("the API key is unknown to KuCoin or was deleted (was it copied whole?)"),
        "400004" => auth("the passphrase was refused: it is not the one chosen when this API key was made"),
        "400005" => auth("the signature was refused: the API secret does not belong to this API key"),
        "400006" => auth("this machine's IP address is not on the key's IP list"),
        "400007" => auth(&format!("the key lacks the permission {endpoint} needs; give it the General permission")),
        "411100" => auth("KuCoin has frozen the account"),
        "400001" => auth("the request's authentication headers were refused"),
        "400002" => Verdict::Retry {
            reason: format!("the request's time was refused ({said}); is this machine's clock right?"),
            after: None,
        },
        "500000" => Verdict::Retry { reason: said, after: None },
        _ if status >= 500 => Verdict::Retry { reason: said, after: None },
        _ => Verdict::Fail(FetchError::Api {
            exchange: EXCHANGE.to_owned(),
            endpoint: endpoint.to_owned(),
            status,
            code: code.to_owned(),
            message,
        }),
    }
}

/// One KuCoin account's API: signed GETs through the shared limiter, with retries.
#[derive(Clone, Debug)]
pub struct KucoinApi {
    client: Arc<Client>,
    account: String,
}

impl KucoinApi {
    /// An API handle for account `account`, talking to `base_url` ([`DEFAULT_BASE_URL`] when `None`).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        base_url: Option<&str>,
        api_key: Secret,
        secret: Secret,
        passphrase: Option<Secret>,
        account: &str,
        limiter: Arc<Limiter>,
        config: ClientConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<KucoinApi, FetchError> {
        if api_key.is_blank() {
            return Err(setup("the KuCoin API key is empty".to_owned()));
        }
        if secret.is_blank() {
            return Err(setup("the KuCoin API secret is empty".to_owned()));
        }
        let passphrase = passphrase.filter(|p| !p.is_blank()).ok_or_else(|| {
            setup("the KuCoin API passphrase is missing: give the one chosen when the key was made".to_owned())
        })?;
        let base_url = base_url.unwrap_or(DEFAULT_BASE_URL);
        let protocol = Arc::new(KucoinProtocol { api_key, secret, passphrase, clock: Arc::clone(&clock) });
        let client = Client::new(protocol as Arc<dyn Protocol>, base_url, limiter, config, clock)?;
        Ok(KucoinApi { client: Arc::new(client), account: account.to_owned() })
    }

    /// A limiter with the Management pool modelling `budget` and the Spot pool [`spot_budget`] of it.
    pub fn new_limiter(clock: Arc<dyn Clock>, budget: WindowBudget) -> Arc<Limiter> {
        let limiter = Limiter::new(clock);
        for (pool, budget) in [(POOL, budget), (SPOT_POOL, spot_budget(budget))] {
            let heaviest =
                Endpoint::ALL.into_iter().filter(|e| e.pool() == pool).map(Endpoint::weight).max().unwrap_or(1);
            limiter.declare(pool, budget.bucket_kind_for(heaviest));
        }
        Arc::new(limiter)
    }

    /// Calls `endpoint` with `params` (a signed GET), retrying what can be retried.
    pub fn call(&self, endpoint: Endpoint, params: &[(&str, String)]) -> Result<Answer, FetchError> {
        let request = Request {
            endpoint: endpoint.name(),
            method: Method::Get,
            path: endpoint.path().to_owned(),
            params: params.iter().map(|(name, value)| ((*name).to_owned(), value.clone())).collect(),
            costs: vec![(endpoint.pool().to_owned(), endpoint.weight())],
        };
        self.client.send(&request)
    }

    /// Calls `endpoint` and reads the answer's `data`.
    pub fn data<T: serde::de::DeserializeOwned>(
        &self,
        endpoint: Endpoint,
        params: &[(&str, String)],
    ) -> Result<(T, Answer), FetchError> {
        #[derive(serde::Deserialize)]
        struct Wrapped<T> {
            data: T,
        }
        let answer = self.call(endpoint, params)?;
        let wrapped: Wrapped<T> = serde_json::from_slice(&answer.body)
            .map_err(|e| malformed(endpoint, format!("not the documented {{\"code\", \"data\"}} answer: {e}")))?;
        Ok((wrapped.data, answer))
    }

    crate::http::handle::api_handle_accessors!();
}

/// An answer that is not what `endpoint` documents.
pub fn malformed(endpoint: Endpoint, reason: String) -> FetchError {
    answer::malformed(EXCHANGE, endpoint.name(), reason)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::http::client::test_server::{Reply, TestServer};
    use crate::http::clock::ManualClock;

    const NOW_MS: i64 = 1_700_000_000_000;

    fn judge(status: u16, body: &str) -> Verdict {
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(NOW_MS));
        let protocol =
            KucoinProtocol { api_key: Secret::new("K"), secret: Secret::new("S"), passphrase: Secret::new("P"), clock };
        let request = Request {
            endpoint: "ledgers",
            method: Method::Get,
            path: Endpoint::Ledgers.path().to_owned(),
            params: Vec::new(),
            costs: Vec::new(),
        };
        protocol.judge(&request, status, &HeaderMap::new(), body.as_bytes())
    }

    #[test]
    fn answers_are_judged_per_the_documented_codes() {
        assert_eq!(judge(200, r#"{"code":"200000","data":[]}"#), Verdict::Ok);
        assert_eq!(judge(200, r#"{"success":true,"code":"200","msg":"success","data":{}}"#), Verdict::Ok);
        assert!(matches!(judge(200, r#"{"code":"200000","da"#), Verdict::Retry { .. }));
        assert!(matches!(judge(502, "<html>"), Verdict::Retry { .. }));
        assert!(matches!(judge(500, r#"{"code":"500000","msg":"Internal Server Error"}"#), Verdict::Retry { .. }));
        assert!(matches!(judge(401, r#"{"code":"400002","msg":"KC-API-TIMESTAMP Invalid"}"#), Verdict::Retry { .. }));
        assert_eq!(
            judge(429, r#"{"code":"429000","msg":"Too Many Requests"}"#),
            Verdict::RateLimited { retry_after: None }
        );
        assert_eq!(
            judge(200, r#"{"code":"429000","msg":"Too Many Requests"}"#),
            Verdict::RateLimited { retry_after: None }
        );
        for (body, words) in [
            (r#"{"code":"400005","msg":"Invalid KC-API-SIGN"}"#, "does not belong to this API key"),
            (r#"{"code":"400004","msg":"Invalid KC-API-PASSPHRASE"}"#, "passphrase was refused"),
            (r#"{"code":"400003","msg":"KC-API-KEY not exists"}"#, "unknown to KuCoin"),
            (r#"{"code":"400007","msg":"Access Denied"}"#, "lacks the permission"),
        ] {
            match judge(401, body) {
                Verdict::Fail(error @ FetchError::Auth { .. }) => assert!(error.to_string().contains(words), "{error}"),
                other => panic!("{body}: {other:?}"),
            }
        }
        match judge(400, r#"{"code":"400100","msg":"startAt invalid"}"#) {
            Verdict::Fail(FetchError::Api { code, message, .. }) => {
                assert_eq!(code, "400100");
                assert!(message.contains("startAt"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    /// A call on the wire: a GET whose query is signed with it, the five `KC-API-` headers.
    #[test]
    fn calls_are_signed_gets_with_the_query_in_the_signature_and_the_passphrase_signed() {
        let server = TestServer::start(|n, _| {
            if n == 0 { Reply::json(503, "busy") } else { Reply::json(200, r#"{"code":"200000","data":[]}"#) }
        });
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(NOW_MS));
        let limiter = KucoinApi::new_limiter(Arc::clone(&clock), DEFAULT_BUDGET);
        let config = ClientConfig::for_tests(Duration::from_millis(500), 4);
        let api = KucoinApi::new(
            Some(&server.url()),
            Secret::new("KEY"),
            Secret::new("SECRET"),
            Some(Secret::new("PASS")),
            "main",
            limiter,
            config,
            clock,
        )
        .unwrap();
        let (data, answer): (Vec<serde_json::Value>, _) =
            api.data(Endpoint::Ledgers, &[("startAt", "1".into()), ("currentPage", "2".into())]).unwrap();
        assert!(data.is_empty());
        assert_eq!(answer.attempts, 2);
        for request in &server.seen() {
            assert_eq!((request.method.as_str(), request.path.as_str()), ("GET", "/api/v1/accounts/ledgers"));
            assert_eq!(request.query, "startAt=1&currentPage=2");
            assert_eq!(request.header("KC-API-KEY"), Some("KEY"));
            assert_eq!(request.header("KC-API-KEY-VERSION"), Some("2"));
            let timestamp = request.header("KC-API-TIMESTAMP").unwrap();
            assert!(timestamp.parse::<i64>().unwrap() >= NOW_MS, "{timestamp}");
            let secret = Secret::new("SECRET");
            let expected =
                auth::signature(&secret, timestamp, "GET", "/api/v1/accounts/ledgers?startAt=1&currentPage=2", "");
            assert_eq!(request.header("KC-API-SIGN"), Some(expected.as_str()));
            let passphrase = auth::signed_passphrase(&secret, &Secret::new("PASS"));
            assert_eq!(request.header("KC-API-PASSPHRASE"), Some(passphrase.as_str()));
        }
        let missing = KucoinApi::new(
            None,
            Secret::new("K"),
            Secret::new("S"),
            None,
            "main",
            KucoinApi::new_limiter(Arc::new(ManualClock::new(NOW_MS)), DEFAULT_BUDGET),
            ClientConfig::default(),
            Arc::new(ManualClock::new(NOW_MS)),
        );
        assert!(missing.unwrap_err().to_string().contains("passphrase"));
    }
}

//! Bybit's REST API (v5) on the HTTP kit: the endpoint table, signing, answers, the pace.
//!
//! Every endpoint cointally calls is a signed `GET` ([`super::auth`]). Bybit answers
//! `{"retCode": 0, "retMsg": "OK", "result": {…}, "time": …}`; a non-zero `retCode` is an error
//! (<https://bybit-exchange.github.io/docs/v5/error>): `10003` (invalid key), `10004` (signature
//! error), `10005` (permission denied), `10010` (IP not allowed) are key problems
//! ([`FetchError::Auth`]); `10002` (timestamp outside the receive window) re-measures nothing
//! and is signed again; `10006` (too many visits, per UID) and `10018` (per IP) are the rate
//! limit, retried after `X-Bapi-Limit-Reset-Timestamp`; `10000` and `10016` (server errors)
//! and HTTP 5xx are retried. HTTP 403 is Bybit's IP ban ("access too frequent": wait at least
//! 10 minutes, <https://bybit-exchange.github.io/docs/v5/rate-limit>).
//!
//! # Pace
//!
//! Bybit limits each endpoint per UID ("per second per UID" for trading and account
//! endpoints; the asset endpoints' table lists e.g. 60 requests a minute for
//! `query-inter-transfer-list`), reports the limit and what is left in `X-Bapi-Limit` and
//! `X-Bapi-Limit-Status`, and bans an IP that sends more than 600 requests in any 5 seconds
//! (<https://bybit-exchange.github.io/docs/v5/rate-limit>). cointally paces every endpoint as
//! the tightest asset limit, **60 requests a minute**, each in its own leaky bucket
//! ([`Budget::bucket_kind`]) that never puts more than the limit in any window while it
//! sustains 90 % of it; twelve endpoints at 1 a second stay far below the IP limit. The
//! per-endpoint figures of the account endpoints could not be confirmed for every account
//! type, so the asset figure is used for all (README, "Bybit").
//! `COINTALLY_BYBIT_BUDGET=LIMIT:SECONDS` replaces it (the simulator's scaled budget in tests).

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::auth;
use crate::Secret;
use crate::http::answer::{self, incomplete};
use crate::http::budget::WindowBudget;
use crate::http::client::{Client, ClientConfig, Method, Prepared, Protocol, Request, Usage, Verdict};
use crate::http::query::encode_query;
use crate::http::{Clock, FetchError, Limiter};

pub use crate::http::Answer;

/// The exchange's name in errors and logs.
pub const EXCHANGE: &str = "bybit";

/// Bybit's production host (mainnet).
pub const DEFAULT_BASE_URL: &str = "https://api.bybit.com";

/// The environment variable that replaces every endpoint's limit: `LIMIT:SECONDS`.
pub const BUDGET_ENV: &str = "COINTALLY_BYBIT_BUDGET";

/// How long Bybit asks an IP over the limit to wait (HTTP 403 "access too frequent").
pub const BAN: Duration = Duration::from_secs(600);

/// A per-endpoint request limit, paced as [`WindowBudget`] paces it.
pub type Budget = WindowBudget;

/// The tightest documented limit of the endpoints cointally calls: 60 a minute (6 at once,
/// then 0.9 a second).
pub const DEFAULT_BUDGET: Budget = WindowBudget { limit: 60, window_seconds: 60 };

/// The budget `COINTALLY_BYBIT_BUDGET` names, else [`DEFAULT_BUDGET`].
pub fn budget_from_env() -> Budget {
    WindowBudget::from_env(BUDGET_ENV, DEFAULT_BUDGET)
}

/// An endpoint of Bybit's v5 API that cointally calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Endpoint {
    /// `GET /v5/user/query-api`: what the key may do, and whether the account is unified.
    ApiKey,
    /// `GET /v5/account/wallet-balance?accountType=UNIFIED` (a classic account: `SPOT`): the
    /// trading wallet per coin.
    WalletBalance,
    /// `GET /v5/asset/transfer/query-account-coins-balance?accountType=FUND`: the funding wallet.
    FundBalance,
    /// `GET /v5/account/transaction-log`: every change of the unified wallet (7-day windows).
    TransactionLog,
    /// `GET /v5/asset/deposit/query-record`: on-chain deposits (30-day windows).
    Deposits,
    /// `GET /v5/asset/withdraw/query-record`: withdrawals, on-chain and to other users (30-day windows).
    Withdrawals,
    /// `GET /v5/asset/transfer/query-inter-transfer-list`: transfers between the account's own wallets (7-day windows).
    Transfers,
    /// `GET /v5/asset/exchange/order-record`: coin conversions (no time range, cursor pages).
    Converts,
    /// `GET /v5/execution/list?category=spot`: a classic account's spot fills (7-day windows).
    Executions,
    /// `GET /v5/earn/order`: Earn stake and redeem orders, per `category` (7-day windows).
    EarnOrders,
    /// `GET /v5/earn/yield`: Earn yields (`category=FlexibleSaving`, 7-day windows).
    EarnYields,
    /// `GET /v5/earn/position`: what is staked in Earn now, per `category`.
    EarnPositions,
}

impl Endpoint {
    /// Every endpoint.
    pub const ALL: [Endpoint; 12] = [
        Endpoint::ApiKey,
        Endpoint::WalletBalance,
        Endpoint::FundBalance,
        Endpoint::TransactionLog,
        Endpoint::Deposits,
        Endpoint::Withdrawals,
        Endpoint::Transfers,
        Endpoint::Converts,
        Endpoint::Executions,
        Endpoint::EarnOrders,
        Endpoint::EarnYields,
        Endpoint::EarnPositions,
    ];

    /// The endpoint's name in errors, stats, the limiter and stream names.
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::ApiKey => "query-api",
            Endpoint::WalletBalance => "wallet-balance",
            Endpoint::FundBalance => "fund-balance",
            Endpoint::TransactionLog => "transaction-log",
            Endpoint::Deposits => "deposits",
            Endpoint::Withdrawals => "withdrawals",
            Endpoint::Transfers => "transfers",
            Endpoint::Converts => "converts",
            Endpoint::Executions => "executions",
            Endpoint::EarnOrders => "earn-orders",
            Endpoint::EarnYields => "earn-yields",
            Endpoint::EarnPositions => "earn-positions",
        }
    }

    /// The path after the host.
    pub fn path(self) -> &'static str {
        match self {
            Endpoint::ApiKey => "/v5/user/query-api",
            Endpoint::WalletBalance => "/v5/account/wallet-balance",
            Endpoint::FundBalance => "/v5/asset/transfer/query-account-coins-balance",
            Endpoint::TransactionLog => "/v5/account/transaction-log",
            Endpoint::Deposits => "/v5/asset/deposit/query-record",
            Endpoint::Withdrawals => "/v5/asset/withdraw/query-record",
            Endpoint::Transfers => "/v5/asset/transfer/query-inter-transfer-list",
            Endpoint::Converts => "/v5/asset/exchange/order-record",
            Endpoint::Executions => "/v5/execution/list",
            Endpoint::EarnOrders => "/v5/earn/order",
            Endpoint::EarnYields => "/v5/earn/yield",
            Endpoint::EarnPositions => "/v5/earn/position",
        }
    }

    /// Whether the endpoint is one of Bybit Earn's, which need the key's "Earn" permission
    /// (each Earn page: “API key needs "Earn" permission”); the key check does not demand it.
    pub fn is_earn(self) -> bool {
        matches!(self, Endpoint::EarnOrders | Endpoint::EarnYields | Endpoint::EarnPositions)
    }

    /// The endpoint at this path, if any.
    pub fn from_path(path: &str) -> Option<Endpoint> {
        Endpoint::ALL.into_iter().find(|endpoint| endpoint.path() == path)
    }

    /// The endpoint of this name, if any.
    pub fn from_name(name: &str) -> Option<Endpoint> {
        Endpoint::ALL.into_iter().find(|endpoint| endpoint.name() == name)
    }

    /// The limiter bucket of the endpoint: one request in its own.
    pub fn costs(self) -> Vec<(String, u64)> {
        vec![(self.name().to_owned(), 1)]
    }
}

/// Bybit's envelope around every answer.
#[derive(Deserialize)]
pub struct Envelope<'a> {
    /// 0 on success.
    #[serde(rename = "retCode")]
    pub ret_code: i64,
    /// What went wrong, or `OK`.
    #[serde(rename = "retMsg", default)]
    pub ret_msg: String,
    /// The answer itself.
    #[serde(borrow, default)]
    pub result: Option<&'a RawValue>,
}

/// How Bybit wants requests signed and how its answers read, for one key.
pub struct BybitProtocol {
    api_key: Secret,
    secret: Secret,
    limiter: Arc<Limiter>,
}

impl std::fmt::Debug for BybitProtocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BybitProtocol").finish_non_exhaustive()
    }
}

fn setup(reason: String) -> FetchError {
    FetchError::Setup { exchange: EXCHANGE.to_owned(), reason }
}

/// The wait `X-Bapi-Limit-Reset-Timestamp` (ms) asks for, from `now_ms`.
fn reset_wait(headers: &HeaderMap, now_ms: i64) -> Option<Duration> {
    let reset: i64 = headers.get("X-Bapi-Limit-Reset-Timestamp")?.to_str().ok()?.trim().parse().ok()?;
    let wait = reset.checked_sub(now_ms)?;
    (wait > 0).then(|| Duration::from_millis(wait.unsigned_abs().min(60_000)))
}

impl Protocol for BybitProtocol {
    fn exchange(&self) -> &'static str {
        EXCHANGE
    }

    fn prepare(&self, request: &Request) -> Result<Prepared, FetchError> {
        let query = encode_query(&request.params);
        let timestamp = self.limiter.exchange_now_ms().to_string();
        let headers = auth::headers(&self.api_key, &self.secret, &timestamp, &query)
            .into_iter()
            .map(|(name, value)| (name.to_owned(), Secret::new(value)))
            .collect();
        Ok(Prepared { query, body: None, headers })
    }

    fn judge(&self, request: &Request, status: u16, headers: &HeaderMap, body: &[u8]) -> Verdict {
        let now = self.limiter.clock().now_ms();
        if status == 403 {
            return Verdict::Banned { until_ms: now.saturating_add(BAN.as_millis() as i64) };
        }
        if status == 429 {
            return Verdict::RateLimited {
                retry_after: crate::http::retry_after(headers, now).or(reset_wait(headers, now)),
            };
        }
        if status >= 500 {
            return Verdict::Retry { reason: format!("HTTP {status}"), after: None };
        }
        let envelope: Envelope<'_> = match serde_json::from_slice(body) {
            Ok(envelope) => envelope,
            Err(_) if (200..300).contains(&status) => return incomplete(status, body),
            Err(_) => {
                return Verdict::Fail(FetchError::Api {
                    exchange: EXCHANGE.to_owned(),
                    endpoint: request.endpoint.to_owned(),
                    status,
                    code: String::new(),
                    message: format!("HTTP {status}: {}", answer::snippet(body)),
                });
            }
        };
        judge_code(request.endpoint, status, envelope.ret_code, &envelope.ret_msg, reset_wait(headers, now))
    }

    fn observe(&self, _request: &Request, _headers: &HeaderMap) -> Vec<Usage> {
        // The pace is modelled from the documented limits; `X-Bapi-Limit-Reset-Timestamp` is
        // read when a limit is hit (`judge`).
        Vec::new()
    }
}

/// What `retCode` means (with the envelope's `retMsg`).
fn judge_code(endpoint: &str, status: u16, code: i64, message: &str, reset: Option<Duration>) -> Verdict {
    let said = format!("Bybit said: {code} {message}");
    let auth = |problem: &str| {
        Verdict::Fail(FetchError::Auth {
            exchange: EXCHANGE.to_owned(),
            endpoint: endpoint.to_owned(),
            message: format!("{problem} ({said})"),
        })
    };
    match code {
        0 if (200..300).contains(&status) => Verdict::Ok,
        // An Earn endpoint refused for lack of the Earn permission: not a key problem that
        // stops the sync, but a stream the adapter passes over with a warning.
        10005 if Endpoint::from_name(endpoint).is_some_and(Endpoint::is_earn) => Verdict::Fail(FetchError::Api {
            exchange: EXCHANGE.to_owned(),
            endpoint: endpoint.to_owned(),
            status,
            code: code.to_string(),
            message: format!("the key lacks the Earn permission ({said})"),
        }),
        10003 => auth("the API key is unknown to Bybit or was deleted (was it copied whole, and is it a mainnet key?)"),
        10004 => auth("the signature was refused: the API secret does not belong to this API key"),
        10005 => auth(&format!(
            "the key lacks the permission {endpoint} needs; a read-only key with Wallet and Exchange history is enough"
        )),
        10010 => auth("the key only works from other IP addresses (Bybit's API key page lists them)"),
        10002 => Verdict::Retry {
            reason: format!("{said}: the request's time was outside the receive window; signing again"),
            after: None,
        },
        10006 | 10018 => Verdict::RateLimited { retry_after: reset },
        10000 | 10016 => Verdict::Retry { reason: said, after: None },
        _ => Verdict::Fail(FetchError::Api {
            exchange: EXCHANGE.to_owned(),
            endpoint: endpoint.to_owned(),
            status,
            code: code.to_string(),
            message: message.to_owned(),
        }),
    }
}

/// One Bybit account's API: signed GETs through the shared limiter, with retries.
#[derive(Clone, Debug)]
pub struct BybitApi {
    client: Arc<Client>,
    account: String,
}

impl BybitApi {
    /// An API handle for account `account`, talking to `base_url` ([`DEFAULT_BASE_URL`] when `None`).
    pub fn new(
        base_url: Option<&str>,
        api_key: Secret,
        secret: Secret,
        account: &str,
        limiter: Arc<Limiter>,
        config: ClientConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<BybitApi, FetchError> {
        if api_key.is_blank() {
            return Err(setup("the Bybit API key is empty".to_owned()));
        }
        if secret.is_blank() {
            return Err(setup("the Bybit API secret is empty".to_owned()));
        }
        let base_url = base_url.unwrap_or(DEFAULT_BASE_URL);
        let protocol = Arc::new(BybitProtocol { api_key, secret, limiter: Arc::clone(&limiter) });
        let client = Client::new(protocol as Arc<dyn Protocol>, base_url, limiter, config, clock)?;
        Ok(BybitApi { client: Arc::new(client), account: account.to_owned() })
    }

    /// A limiter with one bucket per endpoint, each modelling `budget`.
    pub fn new_limiter(clock: Arc<dyn Clock>, budget: Budget) -> Arc<Limiter> {
        let limiter = Limiter::new(clock);
        for endpoint in Endpoint::ALL {
            limiter.declare(endpoint.name(), budget.bucket_kind());
        }
        Arc::new(limiter)
    }

    /// Calls `endpoint` with `params` (a signed GET), retrying what can be retried; returns
    /// the answer and the text of its `result`.
    pub fn call(&self, endpoint: Endpoint, params: &[(&str, String)]) -> Result<(Answer, String), FetchError> {
        let request = Request {
            endpoint: endpoint.name(),
            method: Method::Get,
            path: endpoint.path().to_owned(),
            params: params.iter().map(|(name, value)| ((*name).to_owned(), value.clone())).collect(),
            costs: endpoint.costs(),
        };
        let answer = self.client.send(&request)?;
        let envelope: Envelope<'_> = serde_json::from_slice(&answer.body)
            .map_err(|e| malformed(endpoint, format!("not Bybit's answer envelope: {e}")))?;
        let result = envelope.result.map(|raw| raw.get().to_owned()).unwrap_or_default();
        Ok((answer, result))
    }

    crate::http::handle::api_handle_accessors!();
}

/// An answer that is not what `endpoint` documents.
pub fn malformed(endpoint: Endpoint, reason: String) -> FetchError {
    answer::malformed(EXCHANGE, endpoint.name(), reason)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::client::test_server::{Reply, TestServer};
    use crate::http::clock::ManualClock;

    const NOW_MS: i64 = 1_700_000_000_000;

    fn judge(status: u16, body: &str) -> Verdict {
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(NOW_MS));
        let limiter = BybitApi::new_limiter(Arc::clone(&clock), DEFAULT_BUDGET);
        let protocol = BybitProtocol { api_key: Secret::new("K"), secret: Secret::new("S"), limiter };
        let request = Request {
            endpoint: "deposits",
            method: Method::Get,
            path: Endpoint::Deposits.path().to_owned(),
            params: Vec::new(),
            costs: Vec::new(),
        };
        protocol.judge(&request, status, &HeaderMap::new(), body.as_bytes())
    }

    #[test]
    fn every_endpoint_at_the_default_pace_stays_far_below_the_ip_limit() {
        // The pace of one bucket is WindowBudget's (tested in http/budget.rs); what is Bybit's
        // own is that all its endpoints together stay below the 600-in-5-seconds IP limit.
        let all =
            Endpoint::ALL.len() as f64 * (DEFAULT_BUDGET.burst() as f64 + DEFAULT_BUDGET.sustained_per_second() * 5.0);
        assert!(all < 600.0, "{all}");
        assert_eq!(Budget::parse(&DEFAULT_BUDGET.render()), Some(DEFAULT_BUDGET));
        for endpoint in Endpoint::ALL {
            assert_eq!(Endpoint::from_path(endpoint.path()), Some(endpoint));
            assert_eq!(Endpoint::from_name(endpoint.name()), Some(endpoint));
        }
    }

    #[test]
    fn answers_are_judged_per_the_documented_codes() {
        assert_eq!(judge(200, r#"{"retCode":0,"retMsg":"OK","result":{"rows":[]}}"#), Verdict::Ok);
        assert!(matches!(judge(200, r#"{"retCode":0,"res"#), Verdict::Retry { .. }));
        assert!(matches!(judge(502, "<html>"), Verdict::Retry { .. }));
        assert!(matches!(judge(200, r#"{"retCode":10016,"retMsg":"server error"}"#), Verdict::Retry { .. }));
        assert!(matches!(judge(200, r#"{"retCode":10002,"retMsg":"invalid request"}"#), Verdict::Retry { .. }));
        assert!(matches!(judge(200, r#"{"retCode":10006,"retMsg":"Too many visits!"}"#), Verdict::RateLimited { .. }));
        assert!(matches!(judge(429, "{}"), Verdict::RateLimited { .. }));
        assert!(matches!(judge(403, "access too frequent"), Verdict::Banned { .. }));
        for (body, words) in [
            (r#"{"retCode":10004,"retMsg":"error sign!"}"#, "does not belong to this API key"),
            (r#"{"retCode":10003,"retMsg":"API key is invalid."}"#, "unknown to Bybit"),
            (r#"{"retCode":10005,"retMsg":"Permission denied"}"#, "lacks the permission"),
        ] {
            match judge(200, body) {
                Verdict::Fail(error @ FetchError::Auth { .. }) => assert!(error.to_string().contains(words), "{error}"),
                other => panic!("{body}: {other:?}"),
            }
        }
        // The Earn permission missing on an Earn endpoint: an answer the adapter passes over.
        match judge_code("earn-yields", 200, 10005, "Permission denied", None) {
            Verdict::Fail(FetchError::Api { code, message, .. }) => {
                assert_eq!(code, "10005");
                assert!(message.contains("Earn permission"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        match judge(200, r#"{"retCode":10001,"retMsg":"params error"}"#) {
            Verdict::Fail(FetchError::Api { code, .. }) => assert_eq!(code, "10001"),
            other => panic!("{other:?}"),
        }
    }

    /// A call on the wire: a GET whose query string is what was signed, with the four headers.
    #[test]
    fn calls_are_signed_gets_over_the_query_string_sent() {
        let server = TestServer::start(|n, _| {
            if n == 0 {
                Reply::json(200, r#"{"retCode":10016,"retMsg":"busy"}"#)
            } else {
                Reply::json(200, r#"{"retCode":0,"retMsg":"OK","result":{"rows":[],"nextPageCursor":""}}"#)
            }
        });
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(NOW_MS));
        let limiter = BybitApi::new_limiter(Arc::clone(&clock), Budget { limit: 1000, window_seconds: 1 });
        let config = ClientConfig::for_tests(Duration::from_millis(500), 4);
        let api = BybitApi::new(
            Some(&server.url()),
            Secret::new("KEY"),
            Secret::new("SECRET"),
            "main",
            limiter,
            config,
            clock,
        )
        .unwrap();
        let (answer, result) =
            api.call(Endpoint::Deposits, &[("startTime", "1".into()), ("cursor", "a=b".into())]).unwrap();
        assert_eq!(answer.attempts, 2);
        assert_eq!(result, r#"{"rows":[],"nextPageCursor":""}"#);
        for request in server.seen() {
            assert_eq!((request.method.as_str(), request.path.as_str()), ("GET", Endpoint::Deposits.path()));
            assert_eq!(request.query, "startTime=1&cursor=a%3Db");
            assert_eq!(request.header("X-BAPI-API-KEY"), Some("KEY"));
            let timestamp = request.header("X-BAPI-TIMESTAMP").unwrap();
            let expected = auth::signature(&Secret::new("SECRET"), timestamp, "KEY", "5000", &request.query);
            assert_eq!(request.header("X-BAPI-SIGN"), Some(expected.as_str()));
        }
    }
}

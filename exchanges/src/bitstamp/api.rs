//! Bitstamp's REST API (v2) on the HTTP kit: the endpoint table, signing, answers, the budget.
//!
//! [`Endpoint`] lists what the adapter calls (every private call is a signed `POST` with a
//! form body, paths ending in `/`, <https://www.bitstamp.net/api/>). [`BitstampProtocol`] signs
//! each attempt afresh ([`super::auth`]: a new UUID nonce and the current timestamp, over the
//! host as sent) and judges answers. Bitstamp answers errors as
//! `{"status": "error", "reason": …, "code": "API0005"}` (HTTP 403 for authentication
//! problems) or with a `response_code` such as `400.002` ("Request rejected due to exceeded
//! rate limit"): `API0001` (bad key), `API0002` (IP not allowed), `API0003` (no permission),
//! `API0005` (bad signature), `API0006` (frozen), `API0008`, `API0011` (malformed key) are key
//! problems ([`FetchError::Auth`]); a used nonce or a timestamp out of window
//! (`API0004`, `API0017`, `API0018`) is signed again; 429, `400.002` and 5xx are retried.
//!
//! The budget (<https://www.bitstamp.net/api/>): 400 requests a second
//! and, by default, 10,000 requests per 10 minutes. Both are modelled as fixed windows shared by
//! every account of this machine (the page does not say whether they count per key or per IP:
//! counting them per IP is the safe reading). `COINTALLY_BITSTAMP_BUDGET=LIMIT:SECONDS` replaces
//! the 10-minute budget (an account Bitstamp gave a higher limit; the simulator's scaled budget).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::HeaderMap;
use serde::Deserialize;

use super::auth::{self, ToSign};
use crate::Secret;
use crate::http::answer::{self, incomplete};
use crate::http::client::{Client, ClientConfig, Method, Prepared, Protocol, Request, Usage, Verdict};
use crate::http::{BucketKind, Clock, FetchError, Limiter, encode_query};

pub use crate::http::Answer;

/// The exchange's name in errors and logs.
pub const EXCHANGE: &str = "bitstamp";

/// Bitstamp's production API host.
pub const DEFAULT_BASE_URL: &str = "https://www.bitstamp.net";

/// The bucket of the long budget (10,000 requests per 10 minutes by default).
pub const BUDGET_BUCKET: &str = "requests";
/// The bucket of the per-second limit.
pub const SECOND_BUCKET: &str = "per-second";

/// The environment variable that replaces the long budget: `LIMIT:SECONDS`.
pub const BUDGET_ENV: &str = "COINTALLY_BITSTAMP_BUDGET";

/// A fixed-window request budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Requests allowed per window.
    pub limit: u64,
    /// The window, seconds.
    pub window_seconds: u64,
}

impl Budget {
    /// Bitstamp's default: 10,000 requests per 10 minutes.
    pub const DEFAULT: Budget = Budget { limit: 10_000, window_seconds: 600 };
    /// The per-second limit: 400 requests a second.
    pub const PER_SECOND: Budget = Budget { limit: 400, window_seconds: 1 };

    /// Reads `LIMIT:SECONDS` (`10000:600`).
    pub fn parse(text: &str) -> Option<Budget> {
        let (limit, seconds) = text.trim().split_once(':')?;
        let budget = Budget { limit: limit.trim().parse().ok()?, window_seconds: seconds.trim().parse().ok()? };
        (budget.limit > 0 && budget.window_seconds > 0).then_some(budget)
    }

    /// The budget `COINTALLY_BITSTAMP_BUDGET` names, else the default.
    pub fn from_env() -> Budget {
        std::env::var(BUDGET_ENV).ok().and_then(|text| Budget::parse(&text)).unwrap_or(Budget::DEFAULT)
    }

    /// `LIMIT:SECONDS`, as [`Budget::parse`] reads it back.
    pub fn render(self) -> String {
        format!("{}:{}", self.limit, self.window_seconds)
    }

    /// The limiter bucket that models it.
    pub fn bucket_kind(self) -> BucketKind {
        BucketKind::FixedWindow { limit: self.limit, window: Duration::from_secs(self.window_seconds) }
    }
}

/// An endpoint of Bitstamp's REST API that cointally calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Endpoint {
    /// `POST /api/v2/account_balances/`: total, available and reserved per currency.
    AccountBalances,
    /// `POST /api/v2/user_transactions/`: every balance change, up to 1,000 per page.
    UserTransactions,
    /// `POST /api/v2/crypto-transactions/`: crypto deposits and withdrawals with their tx hash,
    /// address and network, up to 1,000 per page (`offset` up to 200,000; main account only).
    CryptoTransactions,
    /// `GET /api/v2/markets/`: every market (public, unsigned), for the price source.
    Markets,
    /// `GET /api/v2/ohlc/{pair}/`: one market's candles (public, unsigned), for the price source.
    Ohlc,
}

impl Endpoint {
    /// Every private endpoint (signed POSTs at fixed paths).
    pub const ALL: [Endpoint; 3] =
        [Endpoint::AccountBalances, Endpoint::UserTransactions, Endpoint::CryptoTransactions];

    /// Bitstamp's name of the endpoint (`user_transactions`).
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::AccountBalances => "account_balances",
            Endpoint::UserTransactions => "user_transactions",
            Endpoint::CryptoTransactions => "crypto-transactions",
            Endpoint::Markets => "markets",
            Endpoint::Ohlc => "ohlc",
        }
    }

    /// The path after the host (for [`Endpoint::Ohlc`], the prefix the pair follows).
    pub fn path(self) -> String {
        format!("/api/v2/{}/", self.name())
    }

    /// The endpoint at this path, if any.
    pub fn from_path(path: &str) -> Option<Endpoint> {
        Endpoint::ALL.into_iter().find(|endpoint| endpoint.path() == path)
    }

    /// The limiter buckets one call costs: one request in each.
    pub fn costs(self) -> Vec<(String, u64)> {
        vec![(BUDGET_BUCKET.to_owned(), 1), (SECOND_BUCKET.to_owned(), 1)]
    }
}

/// Bitstamp's error body.
#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    reason: Option<serde_json::Value>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    response_code: Option<String>,
}

impl ErrorBody {
    fn reason(&self) -> String {
        match &self.reason {
            Some(serde_json::Value::String(text)) => text.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        }
    }
}

/// How Bitstamp wants requests signed and how its answers read, for one key.
pub struct BitstampProtocol {
    api_key: Secret,
    secret: Secret,
    /// `host[:port]` of the base URL, as the request's `Host` header carries it.
    host: String,
    clock: Arc<dyn Clock>,
    rng: Mutex<fastrand::Rng>,
}

impl std::fmt::Debug for BitstampProtocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BitstampProtocol").field("host", &self.host).finish_non_exhaustive()
    }
}

impl BitstampProtocol {
    /// A protocol signing with `api_key` and `secret` for requests to `base_url`.
    pub fn new(
        api_key: Secret,
        secret: Secret,
        base_url: &str,
        clock: Arc<dyn Clock>,
    ) -> Result<BitstampProtocol, FetchError> {
        let host = host_of(base_url).ok_or_else(|| setup(format!("base URL `{base_url}` has no host")))?;
        let seed = u64::try_from(clock.now_ms()).unwrap_or(0) ^ u64::from(std::process::id()).rotate_left(32);
        Ok(BitstampProtocol { api_key, secret, host, clock, rng: Mutex::new(fastrand::Rng::with_seed(seed)) })
    }
}

/// `host[:port]` of a URL as its requests' `Host` header carries it (no default port).
pub fn host_of(url: &str) -> Option<String> {
    let url = reqwest::Url::parse(url.trim()).ok()?;
    let host = url.host_str()?;
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    })
}

fn setup(reason: String) -> FetchError {
    FetchError::Setup { exchange: EXCHANGE.to_owned(), reason }
}

impl Protocol for BitstampProtocol {
    fn exchange(&self) -> &'static str {
        EXCHANGE
    }

    fn prepare(&self, request: &Request) -> Result<Prepared, FetchError> {
        if request.method == Method::Get {
            // Bitstamp's public market data: unsigned GETs, parameters in the query. No key
            // travels with them.
            return Ok(Prepared { query: encode_query(&request.params), body: None, headers: Vec::new() });
        }
        let body = encode_query(&request.params);
        let nonce = auth::new_nonce(&mut self.rng.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        let method = match request.method {
            Method::Get => "GET",
            Method::Post => "POST",
        };
        let to_sign = ToSign {
            method,
            host: &self.host,
            path: &request.path,
            query: "",
            nonce: &nonce,
            timestamp_ms: self.clock.now_ms(),
            body: &body,
        };
        let headers = auth::headers(&self.api_key, &self.secret, &to_sign)
            .into_iter()
            .map(|(name, value)| (name.to_owned(), Secret::new(value)))
            .collect();
        let body = (!body.is_empty()).then(|| (auth::FORM_CONTENT_TYPE.to_owned(), body));
        Ok(Prepared { query: String::new(), body, headers })
    }

    fn judge(&self, request: &Request, status: u16, headers: &HeaderMap, body: &[u8]) -> Verdict {
        if status >= 500 {
            return Verdict::Retry { reason: format!("HTTP {status}"), after: None };
        }
        if status == 429 {
            return Verdict::RateLimited { retry_after: crate::http::retry_after(headers, self.clock.now_ms()) };
        }
        let value: serde_json::Value = match serde_json::from_slice(body) {
            Ok(value) => value,
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
        let error: ErrorBody = match &value {
            serde_json::Value::Object(_) => serde_json::from_value(value).unwrap_or_default(),
            _ => ErrorBody::default(),
        };
        let is_error =
            error.status.as_deref() == Some("error") || error.code.is_some() || error.response_code.is_some();
        if !is_error {
            return if (200..300).contains(&status) {
                Verdict::Ok
            } else {
                Verdict::Fail(FetchError::Api {
                    exchange: EXCHANGE.to_owned(),
                    endpoint: request.endpoint.to_owned(),
                    status,
                    code: String::new(),
                    message: format!("HTTP {status}: {}", answer::snippet(body)),
                })
            };
        }
        judge_error(request.endpoint, status, &error)
    }

    fn observe(&self, _request: &Request, _headers: &HeaderMap) -> Vec<Usage> {
        // Bitstamp reports no usage: the budget is modelled from the documented limits alone.
        Vec::new()
    }
}

/// What an error answer means.
fn judge_error(endpoint: &str, status: u16, error: &ErrorBody) -> Verdict {
    let code = error.code.clone().or_else(|| error.response_code.clone()).unwrap_or_default();
    let reason = error.reason();
    let said = format!("Bitstamp said: {code} {reason}");
    let auth = |problem: &str| {
        Verdict::Fail(FetchError::Auth {
            exchange: EXCHANGE.to_owned(),
            endpoint: endpoint.to_owned(),
            message: format!("{problem} ({})", said.trim_end()),
        })
    };
    match code.as_str() {
        "API0001" | "API0011" => auth("the API key is unknown to Bitstamp (was it copied whole?)"),
        "API0002" => auth("the API key does not allow requests from this IP address (check the key's IP whitelist)"),
        "API0003" => auth(&format!(
            "the key lacks the permission {endpoint} needs ({}); give it that permission in Bitstamp's API settings",
            permission_of(endpoint)
        )),
        "API0005" => auth("the signature was refused: the API secret does not belong to this API key"),
        "API0006" => auth("Bitstamp says the account is frozen"),
        "API0008" => auth("Bitstamp finds no customer for this API key"),
        "API0004" | "API0017" | "API0018" => {
            Verdict::Retry { reason: format!("nonce or timestamp refused ({said}); signing again"), after: None }
        }
        "400.002" => Verdict::RateLimited { retry_after: None },
        _ if reason.to_ascii_lowercase().contains("rate limit") => Verdict::RateLimited { retry_after: None },
        _ => Verdict::Fail(FetchError::Api {
            exchange: EXCHANGE.to_owned(),
            endpoint: endpoint.to_owned(),
            status,
            code,
            message: reason,
        }),
    }
}

/// The permission an endpoint needs, as Bitstamp's API key settings name it.
pub fn permission_of(endpoint: &str) -> &'static str {
    match endpoint {
        "account_balances" => "Account balance",
        "user_transactions" => "User transactions",
        // The API page does not name it; the name below is a description, not verified.
        "crypto-transactions" => "the one for crypto transactions (its name in the key settings was not verified)",
        _ => "see Bitstamp's API key settings",
    }
}

/// One Bitstamp account's API: signed POSTs through the shared limiter, with retries.
#[derive(Clone, Debug)]
pub struct BitstampApi {
    client: Arc<Client>,
    account: String,
}

impl BitstampApi {
    /// An API handle for account `account`, talking to `base_url` ([`DEFAULT_BASE_URL`] when `None`).
    pub fn new(
        base_url: Option<&str>,
        api_key: Secret,
        secret: Secret,
        account: &str,
        limiter: Arc<Limiter>,
        config: ClientConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<BitstampApi, FetchError> {
        if api_key.is_blank() {
            return Err(setup("the Bitstamp API key is empty".to_owned()));
        }
        if secret.is_blank() {
            return Err(setup("the Bitstamp API secret is empty".to_owned()));
        }
        let base_url = base_url.unwrap_or(DEFAULT_BASE_URL);
        let protocol = Arc::new(BitstampProtocol::new(api_key, secret, base_url, Arc::clone(&clock))?);
        let client = Client::new(protocol as Arc<dyn Protocol>, base_url, limiter, config, clock)?;
        Ok(BitstampApi { client: Arc::new(client), account: account.to_owned() })
    }

    /// A limiter with Bitstamp's buckets: `budget` (the 10-minute one, or what replaces it) and
    /// 400 requests a second.
    pub fn new_limiter(clock: Arc<dyn Clock>, budget: Budget) -> Arc<Limiter> {
        let limiter = Limiter::new(clock);
        limiter.declare(BUDGET_BUCKET, budget.bucket_kind());
        limiter.declare(SECOND_BUCKET, Budget::PER_SECOND.bucket_kind());
        Arc::new(limiter)
    }

    /// A handle for Bitstamp's public market data only (no key: [`BitstampApi::get`] sends
    /// unsigned GETs; a private call would be refused by Bitstamp as unauthenticated).
    pub fn public(
        base_url: Option<&str>,
        limiter: Arc<Limiter>,
        config: ClientConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<BitstampApi, FetchError> {
        let base_url = base_url.unwrap_or(DEFAULT_BASE_URL);
        let protocol = Arc::new(BitstampProtocol::new(Secret::new(""), Secret::new(""), base_url, Arc::clone(&clock))?);
        let client = Client::new(protocol as Arc<dyn Protocol>, base_url, limiter, config, clock)?;
        Ok(BitstampApi { client: Arc::new(client), account: "prices".to_owned() })
    }

    /// Calls a public `endpoint` at `path` with `params` (an unsigned GET), retrying what can
    /// be retried; it counts in the same budget as the private calls.
    pub fn get(&self, endpoint: Endpoint, path: String, params: &[(&str, String)]) -> Result<Answer, FetchError> {
        let request = Request {
            endpoint: endpoint.name(),
            method: Method::Get,
            path,
            params: params.iter().map(|(name, value)| ((*name).to_owned(), value.clone())).collect(),
            costs: endpoint.costs(),
        };
        self.client.send(&request)
    }

    /// Calls `endpoint` with `params` (a signed POST), retrying what can be retried.
    pub fn call(&self, endpoint: Endpoint, params: &[(&str, String)]) -> Result<Answer, FetchError> {
        let request = Request {
            endpoint: endpoint.name(),
            method: Method::Post,
            path: endpoint.path(),
            params: params.iter().map(|(name, value)| ((*name).to_owned(), value.clone())).collect(),
            costs: endpoint.costs(),
        };
        self.client.send(&request)
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

    const NOW_MS: i64 = 1_567_755_304_968;

    fn judge(status: u16, body: &str) -> Verdict {
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(NOW_MS));
        let protocol = BitstampProtocol::new(Secret::new("K"), Secret::new("S"), DEFAULT_BASE_URL, clock).unwrap();
        let request = Request {
            endpoint: "user_transactions",
            method: Method::Post,
            path: Endpoint::UserTransactions.path(),
            params: Vec::new(),
            costs: Vec::new(),
        };
        protocol.judge(&request, status, &HeaderMap::new(), body.as_bytes())
    }

    #[test]
    fn endpoints_and_budgets_are_the_documented_ones() {
        assert_eq!(Endpoint::UserTransactions.path(), "/api/v2/user_transactions/");
        assert_eq!(Endpoint::AccountBalances.path(), "/api/v2/account_balances/");
        assert_eq!(Endpoint::CryptoTransactions.path(), "/api/v2/crypto-transactions/");
        for endpoint in Endpoint::ALL {
            assert_eq!(Endpoint::from_path(&endpoint.path()), Some(endpoint));
        }
        assert_eq!(Budget::DEFAULT, Budget { limit: 10_000, window_seconds: 600 });
        assert_eq!(Budget::parse("20:1"), Some(Budget { limit: 20, window_seconds: 1 }));
        assert_eq!(Budget::parse(&Budget::DEFAULT.render()), Some(Budget::DEFAULT));
        for bad in ["", "0:1", "1:0", "x:1", "10"] {
            assert_eq!(Budget::parse(bad), None, "{bad}");
        }
        assert_eq!(host_of("http://127.0.0.1:8080").as_deref(), Some("127.0.0.1:8080"));
        assert_eq!(host_of("https://www.bitstamp.net").as_deref(), Some("www.bitstamp.net"));
    }

    #[test]
    fn answers_are_judged_per_the_documented_codes() {
        assert_eq!(judge(200, "[]"), Verdict::Ok);
        assert_eq!(judge(200, r#"[{"currency":"usd","total":"1.00"}]"#), Verdict::Ok);
        assert!(matches!(judge(200, r#"[{"id": 1,"#), Verdict::Retry { .. }));
        assert!(matches!(judge(502, "<html>"), Verdict::Retry { .. }));
        assert_eq!(judge(429, "{}"), Verdict::RateLimited { retry_after: None });
        assert_eq!(
            judge(400, r#"{"status":"error","reason":"Rate limit exceeded","response_code":"400.002"}"#),
            Verdict::RateLimited { retry_after: None }
        );
        assert!(matches!(
            judge(403, r#"{"status":"error","reason":"Nonce already used","code":"API0004"}"#),
            Verdict::Retry { .. }
        ));
        for (body, words) in [
            (r#"{"status":"error","reason":"Invalid signature","code":"API0005"}"#, "does not belong to this API key"),
            (r#"{"status":"error","reason":"Missing key","code":"API0001"}"#, "unknown to Bitstamp"),
            (r#"{"status":"error","reason":"No permission found","code":"API0003"}"#, "User transactions"),
        ] {
            match judge(403, body) {
                Verdict::Fail(error @ FetchError::Auth { .. }) => assert!(error.to_string().contains(words), "{error}"),
                other => panic!("{body}: {other:?}"),
            }
        }
        match judge(400, r#"{"status":"error","reason":{"offset":["bad"]},"code":"400.010"}"#) {
            Verdict::Fail(FetchError::Api { code, message, .. }) => {
                assert_eq!(code, "400.010");
                assert!(message.contains("offset"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    /// A call on the wire: a signed POST with a form body, the headers Bitstamp documents, the
    /// signature over the host as sent; a refused nonce is signed again with a new nonce.
    #[test]
    fn calls_are_signed_posts_and_a_refused_nonce_is_signed_again() {
        let server = TestServer::start(|n, _| {
            if n == 0 {
                Reply::json(403, r#"{"status":"error","reason":"Nonce already used","code":"API0004"}"#)
            } else {
                Reply::json(200, "[]")
            }
        });
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(NOW_MS));
        let limiter = BitstampApi::new_limiter(Arc::clone(&clock), Budget::DEFAULT);
        let config = ClientConfig::for_tests(Duration::from_millis(500), 4);
        let api = BitstampApi::new(
            Some(&server.url()),
            Secret::new("KEY"),
            Secret::new("SECRET"),
            "main",
            limiter,
            config,
            clock,
        )
        .unwrap();
        let answer = api.call(Endpoint::UserTransactions, &[("limit", "1000".into()), ("sort", "asc".into())]).unwrap();
        assert_eq!(answer.attempts, 2);
        let seen = server.seen();
        let host = host_of(&server.url()).unwrap();
        let mut nonces = Vec::new();
        for request in &seen {
            assert_eq!((request.method.as_str(), request.path.as_str()), ("POST", "/api/v2/user_transactions/"));
            assert_eq!(request.body, "limit=1000&sort=asc");
            assert_eq!(request.header("X-Auth"), Some("BITSTAMP KEY"));
            assert_eq!(request.header("X-Auth-Version"), Some("v2"));
            let timestamp_ms: i64 = request.header("X-Auth-Timestamp").unwrap().parse().unwrap();
            assert!(timestamp_ms >= NOW_MS, "{timestamp_ms}");
            assert_eq!(request.header("Content-Type"), Some(auth::FORM_CONTENT_TYPE));
            let nonce = request.header("X-Auth-Nonce").unwrap().to_owned();
            assert!(auth::is_uuid(&nonce), "{nonce}");
            let to_sign = ToSign {
                method: "POST",
                host: &host,
                path: "/api/v2/user_transactions/",
                query: "",
                nonce: &nonce,
                timestamp_ms,
                body: &request.body,
            };
            let expected = auth::signature(&Secret::new("SECRET"), "KEY", &to_sign);
            assert_eq!(request.header("X-Auth-Signature"), Some(expected.as_str()));
            nonces.push(nonce);
        }
        assert_eq!(seen[0].header("X-Auth-Timestamp"), Some("1567755304968"), "the clock's time, in ms");
        assert_ne!(nonces[0], nonces[1]);
    }
}

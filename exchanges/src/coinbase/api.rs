//! Coinbase's App (v2) and Advanced Trade (v3) REST APIs on the HTTP kit: endpoints, a fresh
//! JWT per request, answers and errors, the two budgets.
//!
//! Every request is a GET signed by [`CdpKey::rest_jwt`] at the moment it is sent (a retry is
//! signed again: tokens live two minutes), with `uri` = method, the base URL's host and the path
//! without its query (<https://docs.cdp.coinbase.com/coinbase-app/authentication-authorization/api-key-authentication>). The host is the base URL's: `api.coinbase.com`
//! in production, `127.0.0.1:PORT` against the simulator, which checks it like Coinbase does.
//!
//! Answers (<https://docs.cdp.coinbase.com/coinbase-app/api-architecture/error-codes>): 2xx must be complete JSON (a cut-off body is retried); 401 (often the
//! plain text `Unauthorized`) is the key refused, with the usual causes named; 403 is a key
//! without the View permission; 429 pauses everybody (`Retry-After` when given) and fills the
//! bucket model; 5xx is retried; anything else is a [`FetchError::Api`] carrying Coinbase's
//! `errors[0].id` (v2) or `error` (v3) code.
//!
//! Budgets (<https://docs.cdp.coinbase.com/coinbase-app/api-architecture/rate-limits>): the App API allows 10,000 requests per hour per key, modelled as the
//! [`BucketKind::Decay`] bucket `v2:<account>` (a burst, then 10,000/3,600 per second);
//! Advanced Trade's private calls 30 per second (`v3:<account>`), whose `x-ratelimit-*` headers
//! feed the model. [`Budget::scaled`] speeds both up for the simulator's scaled limits.

use std::sync::{Arc, Mutex};

use reqwest::header::HeaderMap;

use super::auth::{API_HOST, CdpKey, authorization_header};
use crate::Secret;
use crate::http::answer::{self, complete_json, snippet};
use crate::http::client::{Client, ClientConfig, Method, Prepared, Protocol, Request, Usage, Verdict};
use crate::http::{BucketKind, Clock, FetchError, Limiter, encode_query};

pub use crate::http::Answer;

/// The exchange's name in errors and logs.
const EXCHANGE: &str = "coinbase";

/// Coinbase's production API (App v2 and Advanced Trade v3 share it).
pub const DEFAULT_BASE_URL: &str = "https://api.coinbase.com";

/// Prefix of the per-account App API (v2) bucket.
pub const V2_PREFIX: &str = "v2:";
/// Prefix of the per-account Advanced Trade (v3) bucket.
pub const V3_PREFIX: &str = "v3:";

/// The request budgets of one key: the App API's hourly allowance and Advanced Trade's per-second one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// v2 requests that may go at once (Coinbase documents none; a small burst is assumed).
    pub v2_burst: u64,
    /// v2 requests per hour.
    pub v2_per_hour: u64,
    /// v3 private requests per second.
    pub v3_per_second: u64,
}

impl Budget {
    /// Coinbase's: 10,000 v2 requests per hour (bursts of 100), 30 v3 requests per second.
    pub const REAL: Budget = Budget { v2_burst: 100, v2_per_hour: 10_000, v3_per_second: 30 };

    /// The real budget with time running `speed` times faster (the simulator's scaled limits).
    pub fn scaled(speed: u32) -> Budget {
        let speed = u64::from(speed.max(1));
        Budget {
            v2_per_hour: Budget::REAL.v2_per_hour * speed,
            v3_per_second: Budget::REAL.v3_per_second * speed,
            ..Budget::REAL
        }
    }

    /// The limiter model of the v2 allowance (one unit kept free for calls still on the way).
    pub fn v2_kind(self) -> BucketKind {
        // A rate of calls, not money: the limiter works in f64 seconds.
        BucketKind::Decay {
            capacity: self.v2_burst.saturating_sub(1).max(2),
            per_second: self.v2_per_hour as f64 / 3600.0,
        }
    }

    /// The limiter model of the v3 allowance.
    pub fn v3_kind(self) -> BucketKind {
        BucketKind::Decay {
            capacity: self.v3_per_second.saturating_sub(1).max(2),
            per_second: self.v3_per_second as f64,
        }
    }
}

/// An endpoint cointally calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Endpoint {
    /// `GET /v2/accounts`: every wallet, paged.
    Accounts,
    /// `GET /v2/accounts/{id}/transactions`: a wallet's transactions, paged.
    Transactions,
    /// `GET /api/v3/brokerage/key_permissions`: what the key may do.
    KeyPermissions,
    /// `GET /api/v3/brokerage/orders/historical/fills`: Advanced Trade fills, cursor-paged.
    Fills,
    /// `GET /api/v3/brokerage/portfolios`: the Advanced Trade portfolios the key can see.
    Portfolios,
}

impl Endpoint {
    /// The name in errors and stats.
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::Accounts => "accounts",
            Endpoint::Transactions => "transactions",
            Endpoint::KeyPermissions => "key_permissions",
            Endpoint::Fills => "fills",
            Endpoint::Portfolios => "portfolios",
        }
    }

    /// Whether it is an Advanced Trade (v3) call.
    pub fn v3(self) -> bool {
        matches!(self, Endpoint::KeyPermissions | Endpoint::Fills | Endpoint::Portfolios)
    }

    /// The limiter bucket one call costs for account `account`.
    pub fn costs(self, account: &str) -> Vec<(String, u64)> {
        let prefix = if self.v3() { V3_PREFIX } else { V2_PREFIX };
        vec![(format!("{prefix}{account}"), 1)]
    }
}

/// How Coinbase wants requests signed and how its answers read, for one key.
pub struct CoinbaseProtocol {
    key: CdpKey,
    host: String,
    clock: Arc<dyn Clock>,
    nonces: Mutex<fastrand::Rng>,
    limiter: Option<Arc<Limiter>>,
}

impl std::fmt::Debug for CoinbaseProtocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CoinbaseProtocol").field("key", &self.key).field("host", &self.host).finish_non_exhaustive()
    }
}

/// The host (and port) of a base URL, as the JWT `uri` claim names it.
pub fn host_of(base_url: &str) -> Option<String> {
    let rest = base_url.split_once("://").map_or(base_url, |(_, rest)| rest);
    let host = rest.split('/').next().unwrap_or_default().trim();
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

fn setup(reason: String) -> FetchError {
    FetchError::Setup { exchange: EXCHANGE.to_owned(), reason }
}

/// Coinbase's error code and message from a v2 (`errors[0]`) or v3 (`error`) body, if any.
fn error_of(body: &[u8]) -> Option<(String, String)> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    if let Some(first) = value.get("errors").and_then(|e| e.get(0)) {
        let id = first.get("id").and_then(|v| v.as_str()).unwrap_or_default();
        let message = first.get("message").and_then(|v| v.as_str()).unwrap_or_default();
        return Some((id.to_owned(), message.to_owned()));
    }
    let code = value.get("error").and_then(|v| v.as_str())?;
    let message = value.get("message").or_else(|| value.get("error_details")).and_then(|v| v.as_str());
    Some((code.to_owned(), message.unwrap_or_default().to_owned()))
}

impl CoinbaseProtocol {
    /// A protocol signing with `key` for requests to `host`.
    pub fn new(key: CdpKey, host: &str, clock: Arc<dyn Clock>) -> CoinbaseProtocol {
        CoinbaseProtocol { key, host: host.to_owned(), clock, nonces: Mutex::new(fastrand::Rng::new()), limiter: None }
    }

    /// The same protocol, filling the bucket model of `limiter` when Coinbase answers 429.
    pub fn with_limiter(mut self, limiter: Arc<Limiter>) -> CoinbaseProtocol {
        self.limiter = Some(limiter);
        self
    }

    /// 64 random hex digits, new for every token.
    fn nonce(&self) -> String {
        let mut rng = self.nonces.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        (0..4).map(|_| format!("{:016x}", rng.u64(..))).collect()
    }

    fn bucket_is_full(&self, request: &Request) {
        let Some(limiter) = &self.limiter else { return };
        for (bucket, _) in &request.costs {
            if let Some(BucketKind::Decay { capacity, .. }) = limiter.kind(bucket) {
                limiter.observe(bucket, capacity, None);
            }
        }
    }
}

impl Protocol for CoinbaseProtocol {
    fn exchange(&self) -> &'static str {
        EXCHANGE
    }

    fn prepare(&self, request: &Request) -> Result<Prepared, FetchError> {
        let now_ms = self.limiter.as_ref().map_or_else(|| self.clock.now_ms(), |l| l.exchange_now_ms());
        let now = crate::time::from_millis(now_ms);
        let method = match request.method {
            Method::Get => "GET",
            Method::Post => "POST",
        };
        let jwt = self
            .key
            .rest_jwt(method, &self.host, &request.path, now, &self.nonce())
            .map_err(|error| setup(format!("{}: {error}", request.endpoint)))?;
        Ok(Prepared {
            query: encode_query(&request.params),
            body: None,
            headers: vec![("Authorization".to_owned(), Secret::new(authorization_header(&jwt)))],
        })
    }

    fn judge(&self, request: &Request, status: u16, headers: &HeaderMap, body: &[u8]) -> Verdict {
        let now = self.clock.now_ms();
        if (200..300).contains(&status) {
            return complete_json(status, body);
        }
        if status == 429 {
            self.bucket_is_full(request);
            return Verdict::RateLimited { retry_after: crate::http::retry_after(headers, now) };
        }
        if status >= 500 {
            return Verdict::Retry { reason: format!("HTTP {status}"), after: None };
        }
        let (code, message) = error_of(body).unwrap_or_else(|| (String::new(), snippet(body)));
        let said = if code.is_empty() { message.clone() } else { format!("{code}: {message}") };
        let auth = |problem: &str| {
            Verdict::Fail(FetchError::Auth {
                exchange: EXCHANGE.to_owned(),
                endpoint: request.endpoint.to_owned(),
                message: format!("{problem} (Coinbase said: HTTP {status} {said})"),
            })
        };
        match status {
            401 => auth(
                "the token was refused: the key name and the private key do not belong together, the key was \
                 deleted or expired, or this computer's clock is more than two minutes off",
            ),
            403 => auth("the key lacks the permission this needs (give the CDP key the View permission)"),
            _ => Verdict::Fail(FetchError::Api {
                exchange: EXCHANGE.to_owned(),
                endpoint: request.endpoint.to_owned(),
                status,
                code,
                message,
            }),
        }
    }

    fn observe(&self, request: &Request, headers: &HeaderMap) -> Vec<Usage> {
        let number =
            |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
        let (Some(limit), Some(remaining)) = (number("x-ratelimit-limit"), number("x-ratelimit-remaining")) else {
            return Vec::new();
        };
        request
            .costs
            .iter()
            .filter(|(bucket, _)| bucket.starts_with(V3_PREFIX))
            .map(|(bucket, _)| Usage { bucket: bucket.clone(), used: limit.saturating_sub(remaining), window: None })
            .collect()
    }
}

/// One Coinbase account's API: signed GETs through the shared limiter, with retries.
#[derive(Clone, Debug)]
pub struct CoinbaseApi {
    client: Arc<Client>,
    account: String,
}

impl CoinbaseApi {
    /// An API handle for account `account` (its label names its buckets), with the CDP key
    /// `key_name` + `private_key`, talking to `base_url` ([`DEFAULT_BASE_URL`] when `None`).
    /// A key that cannot be read (legacy, mangled) is refused here, before any request.
    pub fn new(
        base_url: Option<&str>,
        key_name: &Secret,
        private_key: &Secret,
        account: &str,
        limiter: Arc<Limiter>,
        config: ClientConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<CoinbaseApi, FetchError> {
        let key = CdpKey::parse(key_name.expose(), private_key).map_err(|error| setup(error.to_string()))?;
        let base_url = base_url.unwrap_or(DEFAULT_BASE_URL);
        let host = if base_url == DEFAULT_BASE_URL { Some(API_HOST.to_owned()) } else { host_of(base_url) };
        let host = host.ok_or_else(|| setup(format!("the base URL {base_url:?} has no host")))?;
        let protocol =
            Arc::new(CoinbaseProtocol::new(key, &host, Arc::clone(&clock)).with_limiter(Arc::clone(&limiter)));
        let client = Client::new(protocol as Arc<dyn Protocol>, base_url, limiter, config, clock)?;
        Ok(CoinbaseApi { client: Arc::new(client), account: account.to_owned() })
    }

    /// A limiter with Coinbase's buckets for every account, per `budget`.
    pub fn new_limiter(clock: Arc<dyn Clock>, budget: Budget) -> Arc<Limiter> {
        let limiter = Limiter::new(clock);
        limiter.declare_prefix(V2_PREFIX, budget.v2_kind());
        limiter.declare_prefix(V3_PREFIX, budget.v3_kind());
        Arc::new(limiter)
    }

    /// GETs `path` (no query: `params` are the query) of `endpoint`, retrying what can be retried.
    pub fn get(&self, endpoint: Endpoint, path: &str, params: &[(String, String)]) -> Result<Answer, FetchError> {
        let request = Request {
            endpoint: endpoint.name(),
            method: Method::Get,
            path: path.to_owned(),
            params: params.to_vec(),
            costs: endpoint.costs(&self.account),
        };
        self.client.send(&request)
    }

    /// The account label this handle was made for.
    pub fn account(&self) -> &str {
        &self.account
    }

    /// The shared limiter.
    pub fn limiter(&self) -> &Arc<Limiter> {
        self.client.limiter()
    }
}

/// An answer that is not what `endpoint` documents.
pub fn malformed(endpoint: Endpoint, reason: String) -> FetchError {
    answer::malformed(EXCHANGE, endpoint.name(), reason)
}

/// A `next_uri` (`/v2/accounts?limit=25&starting_after=…`) split into its path and decoded query.
pub fn split_uri(uri: &str) -> (String, Vec<(String, String)>) {
    let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
    (path.to_owned(), crate::http::decode_pairs(query))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::http::client::test_server::{Reply, TestServer};
    use crate::http::clock::ManualClock;

    const KEY_NAME: &str = "00000000-0000-0000-0000-000000000000";
    const SECRET: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8DoQe/884Qvh1w3RjnS8CZZ+TWMJulDV8d3IZkElUxuA==";
    const NOW_MS: i64 = 1_700_000_000_000;

    fn api_on(url: &str) -> CoinbaseApi {
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(NOW_MS));
        let limiter = CoinbaseApi::new_limiter(Arc::clone(&clock), Budget::REAL);
        let config = ClientConfig::for_tests(Duration::from_millis(500), 3);
        CoinbaseApi::new(Some(url), &Secret::new(KEY_NAME), &Secret::new(SECRET), "main", limiter, config, clock)
            .unwrap()
    }

    fn claims_of(authorization: &str) -> serde_json::Value {
        use base64::Engine as _;
        let token = authorization.strip_prefix("Bearer ").unwrap();
        let claims = token.split('.').nth(1).unwrap();
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap()
    }

    #[test]
    fn every_attempt_is_signed_anew_for_the_path_without_its_query() {
        let server =
            TestServer::start(|n, _| if n == 0 { Reply::json(503, "{}") } else { Reply::json(200, r#"{"data":[]}"#) });
        let api = api_on(&server.url());
        let params = vec![("limit".to_owned(), "100".to_owned()), ("starting_after".to_owned(), "abc".to_owned())];
        let answer = api.get(Endpoint::Transactions, "/v2/accounts/w1/transactions", &params).unwrap();
        assert_eq!(answer.attempts, 2);
        let seen = server.seen();
        let host = host_of(&server.url()).unwrap();
        let mut nonces = Vec::new();
        for request in &seen {
            assert_eq!(request.query, "limit=100&starting_after=abc");
            let claims = claims_of(request.header("Authorization").unwrap());
            assert_eq!(claims["uri"], format!("GET {host}/v2/accounts/w1/transactions"));
            assert_eq!(claims["exp"].as_i64().unwrap() - claims["nbf"].as_i64().unwrap(), 120);
            let token = request.header("Authorization").unwrap().strip_prefix("Bearer ").unwrap().to_owned();
            nonces.push(token.split('.').next().unwrap().to_owned());
        }
        assert_ne!(nonces[0], nonces[1], "a new nonce (and token) for every attempt");
    }

    #[test]
    fn answers_are_judged_per_the_reference() {
        let cases: Vec<(u16, &str, &str)> = vec![
            (401, "Unauthorized", "refused the API key"),
            (403, r#"{"errors":[{"id":"invalid_scope","message":"Invalid scope"}]}"#, "View permission"),
            (404, r#"{"errors":[{"id":"not_found","message":"Not found"}]}"#, "Not found"),
            (400, r#"{"error":"INVALID_ARGUMENT","error_details":"bad cursor","message":"bad cursor"}"#, "bad cursor"),
        ];
        for (status, body, words) in cases {
            let server = TestServer::start(move |_, _| Reply::json(status, body));
            let error = api_on(&server.url()).get(Endpoint::Accounts, "/v2/accounts", &[]).unwrap_err();
            assert!(error.to_string().contains(words), "{status}: {error}");
            assert_eq!(error.is_auth(), status == 401 || status == 403, "{error}");
            assert_eq!(server.seen().len(), 1, "not retried");
        }
        let server = TestServer::start(|n, _| match n {
            0 => Reply::json(429, r#"{"errors":[{"id":"rate_limit_exceeded","message":"Too many requests"}]}"#),
            1 => Reply::json(200, r#"{"data":["#),
            _ => Reply::json(200, r#"{"data":[]}"#),
        });
        let answer = api_on(&server.url()).get(Endpoint::Accounts, "/v2/accounts", &[]).unwrap();
        assert_eq!(answer.attempts, 3, "a 429 and a cut-off body are retried");
    }

    #[test]
    fn v3_usage_headers_feed_the_bucket() {
        let server = TestServer::start(|_, _| {
            Reply::json_with(200, &[("x-ratelimit-limit", "30"), ("x-ratelimit-remaining", "4")], r#"{"fills":[]}"#)
        });
        let api = api_on(&server.url());
        api.get(Endpoint::Fills, "/api/v3/brokerage/orders/historical/fills", &[]).unwrap();
        assert!(api.limiter().stats()["v3:main"].corrected >= 20);
    }

    #[test]
    fn uris_split_and_hosts_read() {
        let (path, params) = split_uri("/v2/accounts?&limit=25&starting_after=5d5aed5f&x=a%20b");
        assert_eq!(path, "/v2/accounts");
        assert_eq!(params[0], ("limit".to_owned(), "25".to_owned()));
        assert_eq!(params[2], ("x".to_owned(), "a b".to_owned()));
        assert_eq!(host_of("http://127.0.0.1:8080"), Some("127.0.0.1:8080".to_owned()));
        assert_eq!(host_of("https://API.coinbase.com/"), Some("api.coinbase.com".to_owned()));
    }

    #[test]
    fn a_legacy_key_is_refused_before_any_request() {
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(NOW_MS));
        let limiter = CoinbaseApi::new_limiter(Arc::clone(&clock), Budget::REAL);
        let secret = "M4009eFnOoPwhNoMwJlsAHgIgleGVFPl";
        let error = CoinbaseApi::new(
            None,
            &Secret::new("abcdEFGH12345678"),
            &Secret::new(secret),
            "a",
            limiter,
            ClientConfig::for_tests(Duration::from_millis(100), 1),
            clock,
        )
        .unwrap_err();
        assert!(error.to_string().contains("legacy"), "{error}");
        assert!(!error.to_string().contains(secret));
    }
}

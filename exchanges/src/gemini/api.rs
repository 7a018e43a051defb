//! Gemini's REST API on the HTTP kit: the endpoint table, signing, answers, pacing.
//!
//! Private calls are `POST`s with an empty body, signed per [`super::auth`]. Errors are JSON
//! `{"result": "error", "reason": "…", "message": "…"}` with a 4xx/5xx status
//! (<https://developer.gemini.com/rest-api/error-codes>): `InvalidSignature`, `InvalidApiKey`,
//! the missing-header reasons and `MissingRole` (HTTP 403, <https://docs.gemini.com/websocket/overview/requests/roles>)
//! are key problems ([`FetchError::Auth`]); `InvalidNonce` is signed again with a new nonce;
//! `RateLimit` and HTTP 429 pause the limiter; `Maintenance`, `System` and 5xx are retried.
//!
//! Pace (<https://developer.gemini.com/rate-limit>): private endpoints 600 requests a minute
//! (10 a second), public ones 120 a minute; a burst of 5 above that is queued, more gets 429.
//! Each is a [`BucketKind::Decay`] bucket: `private:<account>` of capacity 4 (one of the 5
//! kept free, as a request delayed on the way must not be overtaken into a refusal) draining
//! 10 a second, and `public` of capacity 4 draining 2 a second. `COINTALLY_GEMINI_PACE` =
//! `CAPACITY:PER_SECOND` replaces the private bucket (for a simulator running faster).

use std::sync::{Arc, Mutex};

use reqwest::header::HeaderMap;
use serde::Deserialize;

use super::auth::{self, NonceSource};
use crate::Secret;
use crate::http::answer::{self, complete_json, snippet};
use crate::http::client::{Client, ClientConfig, Method, Prepared, Protocol, Request, Usage, Verdict};
use crate::http::{BucketKind, Clock, FetchError, Limiter, encode_query};

pub use crate::http::Answer;

/// The exchange's name in errors and logs.
pub const EXCHANGE: &str = "gemini";
/// Gemini's production API.
pub const DEFAULT_BASE_URL: &str = "https://api.gemini.com";
/// Prefix of the per-account bucket of private calls.
pub const PRIVATE_PREFIX: &str = "private:";
/// The bucket of public calls (per IP).
pub const PUBLIC_BUCKET: &str = "public";
/// The environment variable that replaces the private pace (`CAPACITY:PER_SECOND`).
pub const PACE_ENV: &str = "COINTALLY_GEMINI_PACE";

/// How the private bucket meters: capacity and requests per second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pace {
    /// Requests that may go at once.
    pub capacity: u64,
    /// Requests per second, sustained.
    pub per_second: f64,
}

impl Pace {
    /// Gemini's documented private pace: 600 a minute, bursts of 5 (one kept free).
    pub const REAL: Pace = Pace { capacity: 4, per_second: 10.0 };

    /// Reads `CAPACITY:PER_SECOND` (`4:10`).
    pub fn parse(text: &str) -> Option<Pace> {
        let (capacity, per_second) = text.trim().split_once(':')?;
        let capacity: u64 = capacity.trim().parse().ok()?;
        // A request rate, not money: the limiter works in f64 seconds.
        let per_second: f64 = per_second.trim().parse().ok()?;
        (capacity > 0 && per_second.is_finite() && per_second > 0.0).then_some(Pace { capacity, per_second })
    }

    /// The pace `COINTALLY_GEMINI_PACE` names, else [`Pace::REAL`].
    pub fn from_env() -> Pace {
        std::env::var(PACE_ENV).ok().and_then(|text| Pace::parse(&text)).unwrap_or(Pace::REAL)
    }

    /// `CAPACITY:PER_SECOND`, as [`Pace::parse`] reads it back.
    pub fn render(self) -> String {
        format!("{}:{}", self.capacity, self.per_second)
    }
}

/// An endpoint of Gemini's REST API that cointally calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Endpoint {
    /// `GET /v1/symbols`: every symbol, listed or not tradable now.
    Symbols,
    /// `POST /v1/roles`: the key's roles.
    Roles,
    /// `POST /v1/balances`: balances per currency.
    Balances,
    /// `POST /v1/mytrades`: the key's fills on one symbol.
    MyTrades,
    /// `POST /v1/transfers`: deposits, withdrawals, credits and debits.
    Transfers,
    /// `POST /v1/staking/history`: moves into and out of staking, and its interest.
    StakingHistory,
    /// `POST /v1/balances/staking`: balances held in staking.
    StakingBalances,
    /// `GET /v2/candles/{symbol}/{time_frame}`: a market's most recent candles (public), for the
    /// price source; not in [`Endpoint::ALL`] (its path is the prefix the symbol follows).
    Candles,
}

impl Endpoint {
    /// Every endpoint.
    pub const ALL: [Endpoint; 7] = [
        Endpoint::Symbols,
        Endpoint::Roles,
        Endpoint::Balances,
        Endpoint::MyTrades,
        Endpoint::Transfers,
        Endpoint::StakingHistory,
        Endpoint::StakingBalances,
    ];

    /// The name used in streams, errors and stats.
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::Symbols => "symbols",
            Endpoint::Roles => "roles",
            Endpoint::Balances => "balances",
            Endpoint::MyTrades => "mytrades",
            Endpoint::Transfers => "transfers",
            Endpoint::StakingHistory => "staking/history",
            Endpoint::StakingBalances => "balances/staking",
            Endpoint::Candles => "candles",
        }
    }

    /// The path after the base URL (for [`Endpoint::Candles`], the prefix `/v2/candles`).
    pub fn path(self) -> String {
        match self {
            Endpoint::Candles => "/v2/candles".to_owned(),
            _ => format!("/v1/{}", self.name()),
        }
    }

    /// Whether the call is signed.
    pub fn private(self) -> bool {
        !matches!(self, Endpoint::Symbols | Endpoint::Candles)
    }

    /// The endpoint at this path.
    pub fn from_path(path: &str) -> Option<Endpoint> {
        Endpoint::ALL.into_iter().find(|endpoint| endpoint.path() == path)
    }

    /// The limiter buckets one call costs for `account`.
    pub fn costs(self, account: &str) -> Vec<(String, u64)> {
        if self.private() {
            vec![(format!("{PRIVATE_PREFIX}{account}"), 1)]
        } else {
            vec![(PUBLIC_BUCKET.to_owned(), 1)]
        }
    }
}

/// Gemini's error body.
#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    result: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    message: String,
}

/// How Gemini wants requests signed and how its answers read, for one key.
pub struct GeminiProtocol {
    api_key: Secret,
    secret: Secret,
    nonces: NonceSource,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for GeminiProtocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeminiProtocol").field("api_key", &self.api_key).finish_non_exhaustive()
    }
}

impl GeminiProtocol {
    /// Signs with `api_key` and `secret`, nonces from `clock` (ms).
    pub fn new(api_key: Secret, secret: Secret, clock: Arc<dyn Clock>) -> GeminiProtocol {
        GeminiProtocol { api_key, secret, nonces: NonceSource::default(), clock }
    }

    /// The greatest nonce used so far.
    pub fn last_nonce(&self) -> u64 {
        self.nonces.last()
    }
}

fn setup(reason: String) -> FetchError {
    FetchError::Setup { exchange: EXCHANGE.to_owned(), reason }
}

/// The verdict on an error `reason` Gemini gave with `status`.
fn judge_reason(endpoint: &str, status: u16, reason: &str, message: &str) -> Verdict {
    let auth = |what: &str| {
        Verdict::Fail(FetchError::Auth {
            exchange: EXCHANGE.to_owned(),
            endpoint: endpoint.to_owned(),
            message: format!("{what} (Gemini said: {reason})"),
        })
    };
    match reason {
        "InvalidSignature" => auth("the signature was refused: the API secret does not belong to this API key"),
        "InvalidApiKey" | "MissingApikeyHeader" => auth("the API key is unknown to Gemini (was it copied whole?)"),
        "MissingRole" => {
            auth(&format!("the key lacks the role {endpoint} needs: give it the Auditor role in Gemini's API settings"))
        }
        "AccountClosed" | "AccountNotEnabled" | "ApiKeyRevoked" => auth("the key or its account is not active"),
        "ApiKeyIpFilteringFailure" => auth("the key may not be used from this IP address (its IP allow list)"),
        "InvalidNonce" => Verdict::Retry {
            reason: "Gemini refused the nonce (another program using this key?); signing again with a new one".into(),
            after: None,
        },
        "RateLimit" | "RateLimited" => Verdict::RateLimited { retry_after: None },
        "Maintenance" | "System" => Verdict::Retry { reason: format!("Gemini: {reason}"), after: None },
        _ => Verdict::Fail(FetchError::Api {
            exchange: EXCHANGE.to_owned(),
            endpoint: endpoint.to_owned(),
            status,
            code: reason.to_owned(),
            message: if message.is_empty() { reason.to_owned() } else { format!("{reason}: {message}") },
        }),
    }
}

impl Protocol for GeminiProtocol {
    fn exchange(&self) -> &'static str {
        EXCHANGE
    }

    fn prepare(&self, request: &Request) -> Result<Prepared, FetchError> {
        let candles = request.path.starts_with(&format!("{}/", Endpoint::Candles.path()));
        let private = !candles && Endpoint::from_path(&request.path).is_none_or(Endpoint::private);
        if !private {
            return Ok(Prepared { query: encode_query(&request.params), body: None, headers: Vec::new() });
        }
        let now = u64::try_from(self.clock.now_ms()).unwrap_or(0);
        let nonce = self.nonces.next(now).map_err(|error| setup(error.to_string()))?;
        let headers = auth::sign(&self.api_key, &self.secret, &request.path, nonce, &request.params)
            .map_err(|error| setup(format!("{}: {error}", request.endpoint)))?;
        let mut headers: Vec<(String, Secret)> =
            headers.into_iter().map(|(name, value)| (name.to_owned(), Secret::new(value))).collect();
        headers.push(("Cache-Control".to_owned(), Secret::new("no-cache")));
        Ok(Prepared { query: String::new(), body: Some(("text/plain".to_owned(), String::new())), headers })
    }

    fn judge(&self, request: &Request, status: u16, headers: &HeaderMap, body: &[u8]) -> Verdict {
        if status == 429 {
            return Verdict::RateLimited { retry_after: crate::http::retry_after(headers, self.clock.now_ms()) };
        }
        let error: Option<ErrorBody> = serde_json::from_slice(body).ok();
        if let Some(error) = error.filter(|e| e.result == "error" && !e.reason.is_empty()) {
            return judge_reason(request.endpoint, status, &error.reason, &error.message);
        }
        if status >= 500 {
            return Verdict::Retry { reason: format!("HTTP {status}"), after: None };
        }
        if (200..300).contains(&status) {
            return complete_json(status, body);
        }
        Verdict::Fail(FetchError::Api {
            exchange: EXCHANGE.to_owned(),
            endpoint: request.endpoint.to_owned(),
            status,
            code: String::new(),
            message: format!("HTTP {status}: {}", snippet(body)),
        })
    }

    fn observe(&self, _request: &Request, _headers: &HeaderMap) -> Vec<Usage> {
        // Gemini reports no usage: the buckets are modelled from the documented limits.
        Vec::new()
    }
}

/// One Gemini account's API: signed POSTs through the shared limiter, with retries.
#[derive(Clone, Debug)]
pub struct GeminiApi {
    client: Arc<Client>,
    protocol: Arc<GeminiProtocol>,
    account: String,
    /// Held from taking a nonce until the answer is in, so nonces arrive in order.
    private_calls: Arc<Mutex<()>>,
}

impl GeminiApi {
    /// An API handle for account `account`, talking to `base_url` ([`DEFAULT_BASE_URL`] when
    /// `None`). Both key and secret blank is allowed for public calls only.
    pub fn new(
        base_url: Option<&str>,
        api_key: Secret,
        secret: Secret,
        account: &str,
        limiter: Arc<Limiter>,
        config: ClientConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<GeminiApi, FetchError> {
        if !(api_key.is_blank() && secret.is_blank()) {
            if api_key.is_blank() {
                return Err(setup("the Gemini API key is empty".to_owned()));
            }
            if secret.is_blank() {
                return Err(setup(auth::AuthError::BlankSecret.to_string()));
            }
        }
        let protocol = Arc::new(GeminiProtocol::new(api_key, secret, Arc::clone(&clock)));
        let client = Client::new(
            Arc::clone(&protocol) as Arc<dyn Protocol>,
            base_url.unwrap_or(DEFAULT_BASE_URL),
            limiter,
            config,
            clock,
        )?;
        Ok(GeminiApi {
            client: Arc::new(client),
            protocol,
            account: account.to_owned(),
            private_calls: Arc::new(Mutex::new(())),
        })
    }

    /// A limiter with Gemini's buckets: `pace` for every account's private calls, two public
    /// calls a second.
    pub fn new_limiter(clock: Arc<dyn Clock>, pace: Pace) -> Arc<Limiter> {
        let limiter = Limiter::new(clock);
        limiter
            .declare_prefix(PRIVATE_PREFIX, BucketKind::Decay { capacity: pace.capacity, per_second: pace.per_second });
        limiter.declare(PUBLIC_BUCKET, BucketKind::Decay { capacity: 4, per_second: 2.0 });
        Arc::new(limiter)
    }

    /// Calls `endpoint` with `params`, retrying what can be retried.
    pub fn call(&self, endpoint: Endpoint, params: &[(&str, String)]) -> Result<Answer, FetchError> {
        let request = Request {
            endpoint: endpoint.name(),
            method: if endpoint.private() { Method::Post } else { Method::Get },
            path: endpoint.path(),
            params: params.iter().map(|(name, value)| ((*name).to_owned(), value.clone())).collect(),
            costs: endpoint.costs(&self.account),
        };
        if endpoint.private() {
            let _one_at_a_time = self.private_calls.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            self.client.send(&request)
        } else {
            self.client.send(&request)
        }
    }

    /// Calls the public `endpoint` at `path` (an unsigned GET with no parameters: the candles
    /// of one market), retrying what can be retried, in the public bucket.
    pub fn get(&self, endpoint: Endpoint, path: String) -> Result<Answer, FetchError> {
        let request = Request {
            endpoint: endpoint.name(),
            method: Method::Get,
            path,
            params: Vec::new(),
            costs: endpoint.costs(""),
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

    /// The protocol (signing, nonces).
    pub fn protocol(&self) -> &GeminiProtocol {
        &self.protocol
    }

    /// Gemini's time now as far as we know it, ms.
    pub fn now_ms(&self) -> i64 {
        self.client.limiter().exchange_now_ms()
    }
}

/// An answer that is not what `endpoint` documents.
pub fn malformed(endpoint: Endpoint, reason: String) -> FetchError {
    answer::malformed(EXCHANGE, endpoint.name(), reason)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use base64::Engine as _;

    use super::*;
    use crate::http::client::test_server::{Reply, TestServer};
    use crate::http::clock::ManualClock;

    const NOW_MS: i64 = 1_700_000_000_000;

    fn api_on(url: &str) -> GeminiApi {
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(NOW_MS));
        let limiter = GeminiApi::new_limiter(Arc::clone(&clock), Pace::REAL);
        let config = ClientConfig::for_tests(Duration::from_millis(500), 4);
        GeminiApi::new(Some(url), Secret::new("account-KEY"), Secret::new("SECRET"), "main", limiter, config, clock)
            .unwrap()
    }

    fn judge(status: u16, body: &str) -> Verdict {
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(NOW_MS));
        let protocol = GeminiProtocol::new(Secret::new("K"), Secret::new("S"), clock);
        let request = Request {
            endpoint: "mytrades",
            method: Method::Post,
            path: "/v1/mytrades".into(),
            params: Vec::new(),
            costs: Vec::new(),
        };
        protocol.judge(&request, status, &HeaderMap::new(), body.as_bytes())
    }

    #[test]
    fn the_endpoint_table_and_paces_read_back() {
        assert_eq!(Endpoint::MyTrades.path(), "/v1/mytrades");
        assert_eq!(Endpoint::MyTrades.costs("a"), vec![("private:a".to_owned(), 1)]);
        assert_eq!(Endpoint::Symbols.costs("a"), vec![("public".to_owned(), 1)]);
        for endpoint in Endpoint::ALL {
            assert_eq!(Endpoint::from_path(&endpoint.path()), Some(endpoint));
        }
        assert_eq!(Pace::parse(&Pace::REAL.render()), Some(Pace::REAL));
        assert_eq!(Pace::parse("100:1000"), Some(Pace { capacity: 100, per_second: 1000.0 }));
        for bad in ["", "4", "0:1", "4:0", "x:1", "4:-1", "4:NaN"] {
            assert_eq!(Pace::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn answers_are_judged_per_the_error_list() {
        assert_eq!(judge(200, "[]"), Verdict::Ok);
        assert!(matches!(judge(200, "[{\"tid\": 1,"), Verdict::Retry { .. }));
        assert!(matches!(judge(503, "<html>"), Verdict::Retry { .. }));
        assert!(matches!(judge(429, ""), Verdict::RateLimited { .. }));
        assert!(matches!(
            judge(400, r#"{"result":"error","reason":"InvalidNonce","message":"Nonce too low"}"#),
            Verdict::Retry { .. }
        ));
        assert!(matches!(
            judge(429, r#"{"result":"error","reason":"RateLimit","message":"slow down"}"#),
            Verdict::RateLimited { .. }
        ));
        for (body, words) in [
            (r#"{"result":"error","reason":"InvalidSignature","message":"x"}"#, "does not belong to this API key"),
            (r#"{"result":"error","reason":"InvalidApiKey","message":"x"}"#, "unknown to Gemini"),
            (r#"{"result":"error","reason":"MissingRole","message":"x"}"#, "Auditor"),
        ] {
            match judge(403, body) {
                Verdict::Fail(error @ FetchError::Auth { .. }) => assert!(error.to_string().contains(words), "{error}"),
                other => panic!("{body}: {other:?}"),
            }
        }
        match judge(400, r#"{"result":"error","reason":"InvalidSymbol","message":"no such symbol"}"#) {
            Verdict::Fail(FetchError::Api { code, status, .. }) => {
                assert_eq!((code.as_str(), status), ("InvalidSymbol", 400))
            }
            other => panic!("{other:?}"),
        }
    }

    /// A private call on the wire: POST, empty body, the payload in a header carrying the
    /// path, a growing nonce and the parameters, signed over the base64 text.
    #[test]
    fn private_calls_are_signed_empty_posts_and_a_refused_nonce_is_signed_again() {
        let server = TestServer::start(|n, _| {
            if n == 0 {
                Reply::json(400, r#"{"result":"error","reason":"InvalidNonce","message":"Nonce too low"}"#)
            } else {
                Reply::json(200, "[]")
            }
        });
        let api = api_on(&server.url());
        let answer =
            api.call(Endpoint::MyTrades, &[("symbol", "btcusd".into()), ("limit_trades", "500".into())]).unwrap();
        assert_eq!(answer.attempts, 2);
        let mut nonces = Vec::new();
        for seen in server.seen() {
            assert_eq!((seen.method.as_str(), seen.path.as_str(), seen.body.as_str()), ("POST", "/v1/mytrades", ""));
            assert_eq!(seen.header("X-GEMINI-APIKEY"), Some("account-KEY"));
            let b64 = seen.header("X-GEMINI-PAYLOAD").unwrap();
            let expected = auth::signature(&Secret::new("SECRET"), b64).unwrap();
            assert_eq!(seen.header("X-GEMINI-SIGNATURE"), Some(expected.as_str()));
            let json: serde_json::Value =
                serde_json::from_slice(&base64::engine::general_purpose::STANDARD.decode(b64).unwrap()).unwrap();
            assert_eq!(json["request"], "/v1/mytrades");
            assert_eq!(json["symbol"], "btcusd");
            assert_eq!(json["limit_trades"], 500);
            nonces.push(json["nonce"].as_u64().unwrap());
        }
        assert_eq!(nonces[0], NOW_MS as u64);
        assert!(nonces[1] > nonces[0]);
    }

    #[test]
    fn public_calls_are_plain_gets_without_the_key() {
        let server = TestServer::start(|_, _| Reply::json(200, r#"["btcusd"]"#));
        let api = api_on(&server.url());
        api.call(Endpoint::Symbols, &[]).unwrap();
        let seen = &server.seen()[0];
        assert_eq!((seen.method.as_str(), seen.path.as_str()), ("GET", "/v1/symbols"));
        assert!(seen.header("X-GEMINI-APIKEY").is_none());
    }
}

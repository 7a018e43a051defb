//! Bitfinex's REST API (v2) on the HTTP kit: the endpoint table, signing, answers, the pace.
//!
//! [`Endpoint`] lists what the adapter calls: signed `POST`s with a JSON body under
//! `/v2/auth/r/` (<https://docs.bitfinex.com/docs/rest-auth>). [`BitfinexProtocol`] signs each
//! attempt with a fresh nonce ([`super::auth`]) and judges answers. Bitfinex answers an error
//! as the array `["error", CODE, "MESSAGE"]` (often with HTTP 500; codes from
//! <https://docs.bitfinex.com/docs/abbreviations-glossary>): `10100` (authentication failed:
//! unknown key, wrong signature), `10111`–`10113` are key problems ([`FetchError::Auth`]);
//! `10114` (nonce too small) is signed again with a larger nonce; `10000`, `10001`, `11000`
//! ("not ready") and 5xx are retried; `11010` and `{"error": "ERR_RATE_LIMIT"}` (or HTTP 429)
//! mean the rate limit.
//!
//! # Pace
//!
//! Bitfinex limits each REST endpoint separately, per minute, "between 10 and 90 requests per
//! minute" (<https://docs.bitfinex.com/docs/requirements-and-limitations>); the four endpoints
//! cointally calls are documented at **90 requests a minute** each
//! (<https://docs.bitfinex.com/reference/rest-auth-ledgers>,
//! <https://docs.bitfinex.com/reference/rest-auth-movements>,
//! <https://docs.bitfinex.com/reference/rest-auth-wallets>,
//! <https://docs.bitfinex.com/reference/key-permissions>). Going over blocks the IP on that
//! endpoint for 10 to 60 seconds, and the page does not say how the minute is counted, so each
//! endpoint is a leaky bucket ([`Budget::bucket_kind`]) that can never put more than the limit in
//! any 60 seconds however they are counted, while it sustains 90 % of it. The buckets are shared
//! by every Bitfinex account of the machine (the block is per IP).
//! `COINTALLY_BITFINEX_BUDGET=LIMIT:SECONDS` replaces the 90-a-minute (the simulator's scaled
//! budget in tests).

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderMap;

use super::auth;
use crate::Secret;
use crate::http::answer::{self, incomplete};
use crate::http::budget::WindowBudget;
use crate::http::client::{Client, ClientConfig, Method, Prepared, Protocol, Request, Usage, Verdict};
use crate::http::{Clock, FetchError, Limiter};

pub use crate::http::Answer;

/// The exchange's name in errors and logs.
pub const EXCHANGE: &str = "bitfinex";

/// Bitfinex's production host for authenticated calls.
pub const DEFAULT_BASE_URL: &str = "https://api.bitfinex.com";

/// The environment variable that replaces every endpoint's limit: `LIMIT:SECONDS`.
pub const BUDGET_ENV: &str = "COINTALLY_BITFINEX_BUDGET";

/// How long Bitfinex blocks an IP over the limit at most (the documented 10 to 60 seconds).
pub const BLOCK: Duration = Duration::from_secs(60);

/// A per-endpoint request limit, paced as [`WindowBudget`] paces it.
pub type Budget = WindowBudget;

/// Bitfinex's documented limit of the endpoints cointally calls: 90 a minute (9 at once, then
/// 1.35 a second).
pub const DEFAULT_BUDGET: Budget = WindowBudget { limit: 90, window_seconds: 60 };

/// The budget `COINTALLY_BITFINEX_BUDGET` names, else [`DEFAULT_BUDGET`].
pub fn budget_from_env() -> Budget {
    WindowBudget::from_env(BUDGET_ENV, DEFAULT_BUDGET)
}

/// An endpoint of Bitfinex's REST API that cointally calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Endpoint {
    /// `POST /v2/auth/r/permissions`: what the key may do.
    Permissions,
    /// `POST /v2/auth/r/wallets`: balances per wallet and currency.
    Wallets,
    /// `POST /v2/auth/r/ledgers/hist`: every balance change of every currency, newest first.
    Ledgers,
    /// `POST /v2/auth/r/movements/hist`: deposits and withdrawals of every currency, with their
    /// tx hash and address, newest first.
    Movements,
}

impl Endpoint {
    /// Every endpoint.
    pub const ALL: [Endpoint; 4] = [Endpoint::Permissions, Endpoint::Wallets, Endpoint::Ledgers, Endpoint::Movements];

    /// The endpoint's name in errors, stats and the limiter (`ledgers`).
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::Permissions => "permissions",
            Endpoint::Wallets => "wallets",
            Endpoint::Ledgers => "ledgers",
            Endpoint::Movements => "movements",
        }
    }

    /// The path after the host.
    pub fn path(self) -> &'static str {
        match self {
            Endpoint::Permissions => "/v2/auth/r/permissions",
            Endpoint::Wallets => "/v2/auth/r/wallets",
            Endpoint::Ledgers => "/v2/auth/r/ledgers/hist",
            Endpoint::Movements => "/v2/auth/r/movements/hist",
        }
    }

    /// The endpoint at this path, if any.
    pub fn from_path(path: &str) -> Option<Endpoint> {
        Endpoint::ALL.into_iter().find(|endpoint| endpoint.path() == path)
    }

    /// The limiter bucket of the endpoint: one request in its own.
    pub fn costs(self) -> Vec<(String, u64)> {
        vec![(self.name().to_owned(), 1)]
    }
}

/// The JSON body of a call: every parameter that is a whole number as a number, others as text.
pub fn json_body(params: &[(String, String)]) -> String {
    let mut object = serde_json::Map::new();
    for (name, value) in params {
        let value = match value.parse::<i64>() {
            Ok(number) => serde_json::Value::from(number),
            Err(_) => serde_json::Value::from(value.clone()),
        };
        object.insert(name.clone(), value);
    }
    serde_json::Value::Object(object).to_string()
}

/// How Bitfinex wants requests signed and how its answers read, for one key.
pub struct BitfinexProtocol {
    api_key: Secret,
    secret: Secret,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for BitfinexProtocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BitfinexProtocol").finish_non_exhaustive()
    }
}

fn setup(reason: String) -> FetchError {
    FetchError::Setup { exchange: EXCHANGE.to_owned(), reason }
}

impl Protocol for BitfinexProtocol {
    fn exchange(&self) -> &'static str {
        EXCHANGE
    }

    fn prepare(&self, request: &Request) -> Result<Prepared, FetchError> {
        let body = json_body(&request.params);
        let nonce = auth::next_nonce(self.clock.now_ms()).to_string();
        let headers = auth::headers(&self.api_key, &self.secret, &request.path, &nonce, &body)
            .into_iter()
            .map(|(name, value)| (name.to_owned(), Secret::new(value)))
            .collect();
        Ok(Prepared { query: String::new(), body: Some((auth::JSON_CONTENT_TYPE.to_owned(), body)), headers })
    }

    fn judge(&self, request: &Request, status: u16, headers: &HeaderMap, body: &[u8]) -> Verdict {
        let value: Option<serde_json::Value> = serde_json::from_slice(body).ok();
        if let Some(verdict) = value.as_ref().and_then(|value| judge_error(request.endpoint, status, value)) {
            return verdict;
        }
        if status == 429 {
            return Verdict::RateLimited { retry_after: crate::http::retry_after(headers, self.clock.now_ms()) };
        }
        if status >= 500 {
            return Verdict::Retry { reason: format!("HTTP {status}"), after: None };
        }
        match value {
            Some(_) if (200..300).contains(&status) => Verdict::Ok,
            None if (200..300).contains(&status) => incomplete(status, body),
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
        // Bitfinex reports no usage: the pace is modelled from the documented limits alone.
        Vec::new()
    }
}

/// What an error answer (`["error", CODE, MESSAGE]` or `{"error": "ERR_RATE_LIMIT"}`) means;
/// `None` when the body is no error.
fn judge_error(endpoint: &str, status: u16, value: &serde_json::Value) -> Option<Verdict> {
    if let Some(text) = value.get("error").and_then(serde_json::Value::as_str) {
        if text.contains("RATE_LIMIT") {
            return Some(Verdict::RateLimited { retry_after: None });
        }
        return None;
    }
    let items = value.as_array()?;
    if items.first().and_then(serde_json::Value::as_str) != Some("error") {
        return None;
    }
    let code = items.get(1).map(|code| code.to_string()).unwrap_or_default();
    let message = items.get(2).and_then(serde_json::Value::as_str).unwrap_or_default().to_owned();
    let said = format!("Bitfinex said: {code} {message}");
    let auth = |problem: &str| {
        Verdict::Fail(FetchError::Auth {
            exchange: EXCHANGE.to_owned(),
            endpoint: endpoint.to_owned(),
            message: format!("{problem} ({})", said.trim_end()),
        })
    };
    Some(match code.as_str() {
        "10100" if message.contains("digest") || message.contains("signature") => {
            auth("the signature was refused: the API secret does not belong to this API key")
        }
        "10100" if message.contains("permission") => auth(&format!(
            "the key lacks the permission {endpoint} needs; give it Account History and Wallets read in Bitfinex's API keys page"
        )),
        "10100" => auth("the API key is unknown to Bitfinex or was revoked (was it copied whole?)"),
        "10111" | "10112" | "10113" => auth("the request's authentication was refused"),
        "10114" => Verdict::Retry {
            reason: format!(
                "nonce refused ({said}); signing again with a larger one (is the key shared with another tool?)"
            ),
            after: None,
        },
        "11010" => Verdict::RateLimited { retry_after: None },
        "10000" | "10001" | "11000" => Verdict::Retry { reason: said, after: None },
        _ if status >= 500 && code.is_empty() => Verdict::Retry { reason: said, after: None },
        _ => Verdict::Fail(FetchError::Api {
            exchange: EXCHANGE.to_owned(),
            endpoint: endpoint.to_owned(),
            status,
            code,
            message,
        }),
    })
}

/// One Bitfinex account's API: signed POSTs through the shared limiter, with retries.
#[derive(Clone, Debug)]
pub struct BitfinexApi {
    client: Arc<Client>,
    account: String,
}

impl BitfinexApi {
    /// An API handle for account `account`, talking to `base_url` ([`DEFAULT_BASE_URL`] when `None`).
    pub fn new(
        base_url: Option<&str>,
        api_key: Secret,
        secret: Secret,
        account: &str,
        limiter: Arc<Limiter>,
        config: ClientConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<BitfinexApi, FetchError> {
        if api_key.is_blank() {
            return Err(setup("the Bitfinex API key is empty".to_owned()));
        }
        if secret.is_blank() {
            return Err(setup("the Bitfinex API secret is empty".to_owned()));
        }
        let base_url = base_url.unwrap_or(DEFAULT_BASE_URL);
        let protocol = Arc::new(BitfinexProtocol { api_key, secret, clock: Arc::clone(&clock) });
        let client = Client::new(protocol as Arc<dyn Protocol>, base_url, limiter, config, clock)?;
        Ok(BitfinexApi { client: Arc::new(client), account: account.to_owned() })
    }

    /// A limiter with one bucket per endpoint, each modelling `budget`.
    pub fn new_limiter(clock: Arc<dyn Clock>, budget: Budget) -> Arc<Limiter> {
        let limiter = Limiter::new(clock);
        for endpoint in Endpoint::ALL {
            limiter.declare(endpoint.name(), budget.bucket_kind());
        }
        Arc::new(limiter)
    }

    /// Calls `endpoint` with `params` (a signed POST with a JSON body), retrying what can be retried.
    pub fn call(&self, endpoint: Endpoint, params: &[(&str, String)]) -> Result<Answer, FetchError> {
        let request = Request {
            endpoint: endpoint.name(),
            method: Method::Post,
            path: endpoint.path().to_owned(),
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

    const NOW_MS: i64 = 1_700_000_000_000;

    fn judge(status: u16, body: &str) -> Verdict {
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(NOW_MS));
        let protocol = BitfinexProtocol { api_key: Secret::new("K"), secret: Secret::new("S"), clock };
        let request = Request {
            endpoint: "ledgers",
            method: Method::Post,
            path: Endpoint::Ledgers.path().to_owned(),
            params: Vec::new(),
            costs: Vec::new(),
        };
        protocol.judge(&request, status, &HeaderMap::new(), body.as_bytes())
    }

    #[test]
    fn ninety_a_minute_is_nine_at_once_and_every_path_names_its_endpoint() {
        assert_eq!(DEFAULT_BUDGET.burst(), 9);
        assert_eq!(WindowBudget::parse(&DEFAULT_BUDGET.render()), Some(DEFAULT_BUDGET));
        for endpoint in Endpoint::ALL {
            assert_eq!(Endpoint::from_path(endpoint.path()), Some(endpoint));
        }
    }

    #[test]
    fn answers_are_judged_per_the_documented_codes() {
        assert_eq!(judge(200, "[]"), Verdict::Ok);
        assert_eq!(judge(200, r#"[[1,"BTC","exchange",1,null,1,1,null,"x"]]"#), Verdict::Ok);
        assert!(matches!(judge(200, r#"[[1,"BTC""#), Verdict::Retry { .. }));
        assert!(matches!(judge(502, "<html>"), Verdict::Retry { .. }));
        assert!(matches!(judge(500, r#"["error",10001,"generic"]"#), Verdict::Retry { .. }));
        assert!(matches!(judge(500, r#"["error",10114,"nonce: small"]"#), Verdict::Retry { .. }));
        assert_eq!(judge(429, r#"{"error":"ERR_RATE_LIMIT"}"#), Verdict::RateLimited { retry_after: None });
        assert_eq!(judge(500, r#"["error",11010,"ratelimit: error"]"#), Verdict::RateLimited { retry_after: None });
        for (body, words) in [
            (r#"["error",10100,"apikey: digest invalid"]"#, "does not belong to this API key"),
            (r#"["error",10100,"apikey: invalid"]"#, "unknown to Bitfinex"),
            (r#"["error",10100,"apikey: permission invalid"]"#, "lacks the permission"),
        ] {
            match judge(500, body) {
                Verdict::Fail(error @ FetchError::Auth { .. }) => assert!(error.to_string().contains(words), "{error}"),
                other => panic!("{body}: {other:?}"),
            }
        }
        match judge(500, r#"["error",10020,"limit: invalid"]"#) {
            Verdict::Fail(FetchError::Api { code, message, .. }) => {
                assert_eq!(code, "10020");
                assert!(message.contains("limit"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    /// A call on the wire: a signed POST with a JSON body and the three `bfx-` headers; a
    /// refused nonce is signed again with a larger one.
    #[test]
    fn calls_are_signed_json_posts_and_a_refused_nonce_is_signed_again_with_a_larger_one() {
        let server = TestServer::start(|n, _| {
            if n == 0 { Reply::json(500, r#"["error",10114,"nonce: small"]"#) } else { Reply::json(200, "[]") }
        });
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(NOW_MS));
        let limiter = BitfinexApi::new_limiter(Arc::clone(&clock), DEFAULT_BUDGET);
        let config = ClientConfig::for_tests(Duration::from_millis(500), 4);
        let api = BitfinexApi::new(
            Some(&server.url()),
            Secret::new("KEY"),
            Secret::new("SECRET"),
            "main",
            limiter,
            config,
            clock,
        )
        .unwrap();
        let answer = api.call(Endpoint::Ledgers, &[("limit", "2500".into()), ("end", "1699999999999".into())]).unwrap();
        assert_eq!(answer.attempts, 2);
        let seen = server.seen();
        let mut nonces = Vec::new();
        for request in &seen {
            assert_eq!((request.method.as_str(), request.path.as_str()), ("POST", "/v2/auth/r/ledgers/hist"));
            assert_eq!(request.body, r#"{"end":1699999999999,"limit":2500}"#);
            assert_eq!(request.header("Content-Type"), Some(auth::JSON_CONTENT_TYPE));
            assert_eq!(request.header("bfx-apikey"), Some("KEY"));
            let nonce = request.header("bfx-nonce").unwrap().to_owned();
            let expected = auth::signature(&Secret::new("SECRET"), &request.path, &nonce, &request.body);
            assert_eq!(request.header("bfx-signature"), Some(expected.as_str()));
            nonces.push(nonce.parse::<i64>().unwrap());
        }
        assert!(nonces[0] >= NOW_MS * 1000 && nonces[1] > nonces[0], "{nonces:?}");
    }
}

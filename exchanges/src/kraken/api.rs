//! Kraken's REST API on the HTTP kit: the endpoint table, nonces and signing, answers, the call counter.
//!
//! [`Endpoint`] lists what the adapter calls, with its path, whether it is private, and what it
//! adds to Kraken's per-key call counter (<https://docs.kraken.com/api/docs/guides/spot-rest-ratelimits>:
//! `Ledgers` and `TradesHistory` +2, other private calls +1). The counter is modelled in the shared [`Limiter`] as a
//! [`BucketKind::Decay`] bucket `counter:<account>` whose capacity and decay come from a
//! [`Tier`] (Kraken does not tell a key's tier through the API: Starter is assumed, as rotki
//! does, unless `COINTALLY_KRAKEN_TIER` says `intermediate`, `pro` or `CAPACITY:DECAY`).
//!
//! [`KrakenProtocol`] signs every private call with a fresh nonce ([`NonceSource`], microseconds
//! since the epoch, never going back, so nonces grow across threads and runs) and `API-Sign`
//! ([`super::auth`]) over the exact form body sent. It judges answers per Kraken's error list (<https://docs.kraken.com/api/docs/guides/spot-errors>): Kraken
//! answers errors with HTTP 200 and an `error` array. `EAPI:Invalid key`, `EAPI:Invalid
//! signature` and `EGeneral:Permission denied` are key problems ([`FetchError::Auth`]);
//! `EAPI:Invalid nonce` is retried with a new nonce (a nonce is never reused: `prepare` runs
//! again for every attempt); `EAPI:Rate limit exceeded` and `EService:Throttled` pause the
//! limiter; `EGeneral:Temporary lockout` is a ban of 15 minutes; `EService:Unavailable`/`Busy`,
//! 5xx and cut-off bodies are retried; anything else is a [`FetchError::Api`]. [`KrakenApi`]
//! serialises the private calls of one key (holding a lock from taking the nonce until the
//! answer is in), so two calls of one key never overtake each other on the way to Kraken.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::auth::{self, NonceSource};
use crate::Secret;
use crate::http::answer::{self, incomplete};
use crate::http::client::{Client, ClientConfig, Method, Prepared, Protocol, Request, Usage, Verdict};
use crate::http::{BucketKind, Clock, FetchError, Limiter, encode_query};

pub use crate::http::Answer;

/// The exchange's name in errors and logs.
const EXCHANGE: &str = "kraken";

/// Kraken's production API.
pub const DEFAULT_BASE_URL: &str = "https://api.kraken.com";

/// Prefix of the per-account call-counter bucket (`counter:<account>`).
pub const COUNTER_PREFIX: &str = "counter:";
/// The bucket of public (market data) calls, per IP.
pub const PUBLIC_BUCKET: &str = "public";

/// How long Kraken locks a key out after too many failed calls (`EAPI:Invalid key` lockout: 15 minutes).
const LOCKOUT: Duration = Duration::from_secs(15 * 60);

/// The environment variable that says the key's verification tier.
pub const TIER_ENV: &str = "COINTALLY_KRAKEN_TIER";

/// Kraken's call counter for one verification tier: the highest the counter may reach and how
/// much it decays per second, in thousandths (<https://docs.kraken.com/api/docs/guides/spot-rest-ratelimits>).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tier {
    /// The counter's maximum.
    pub capacity: u64,
    /// Decay per second, in thousandths of a call (330 = 0.33 per second).
    pub decay_milli: u64,
}

impl Tier {
    /// Starter: 15, −0.33 per second.
    pub const STARTER: Tier = Tier { capacity: 15, decay_milli: 330 };
    /// Intermediate: 20, −0.5 per second.
    pub const INTERMEDIATE: Tier = Tier { capacity: 20, decay_milli: 500 };
    /// Pro: 20, −1 per second.
    pub const PRO: Tier = Tier { capacity: 20, decay_milli: 1000 };

    /// Reads `starter`, `intermediate`, `pro` or `CAPACITY:DECAY` (`20:10`, `15:0.33`).
    pub fn parse(text: &str) -> Option<Tier> {
        let text = text.trim().to_ascii_lowercase();
        match text.as_str() {
            "starter" => return Some(Tier::STARTER),
            "intermediate" => return Some(Tier::INTERMEDIATE),
            "pro" => return Some(Tier::PRO),
            _ => {}
        }
        let (capacity, decay) = text.split_once(':')?;
        let capacity: u64 = capacity.trim().parse().ok()?;
        let decay: rust_decimal::Decimal = decay.trim().parse().ok()?;
        let decay_milli: u64 = (decay * rust_decimal::Decimal::ONE_THOUSAND).trunc().try_into().ok()?;
        (capacity > 0 && decay_milli > 0).then_some(Tier { capacity, decay_milli })
    }

    /// The tier `COINTALLY_KRAKEN_TIER` names, Starter when it is unset or unreadable.
    pub fn from_env() -> Tier {
        std::env::var(TIER_ENV).ok().and_then(|text| Tier::parse(&text)).unwrap_or(Tier::STARTER)
    }

    /// `CAPACITY:DECAY`, as [`Tier::parse`] reads it back.
    pub fn render(self) -> String {
        let decay = rust_decimal::Decimal::new(i64::try_from(self.decay_milli).unwrap_or(i64::MAX), 3).normalize();
        format!("{}:{decay}", self.capacity)
    }

    /// The limiter bucket that models this counter. One unit of it is kept free: Kraken
    /// counts a call when it arrives, we count it when we send, and a call delayed on the way
    /// must not find the counter filled by the one sent after it.
    pub fn bucket_kind(self) -> BucketKind {
        // The decay is a rate of calls, not money: the limiter works in f64 seconds.
        BucketKind::Decay {
            capacity: self.capacity.saturating_sub(1).max(2),
            per_second: self.decay_milli as f64 / 1000.0,
        }
    }
}

/// An endpoint of Kraken's REST API that cointally calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Endpoint {
    /// `GET /0/public/Assets`: asset codes and their display names.
    Assets,
    /// `GET /0/public/AssetPairs`: pair ids with their base and quote codes (price source).
    AssetPairs,
    /// `GET /0/public/OHLC`: the 720 most recent candles of a pair (price source).
    Ohlc,
    /// `POST /0/private/Balance`: balances per asset code.
    Balance,
    /// `POST /0/private/Ledgers`: every balance change, 50 per page, newest first.
    Ledgers,
    /// `POST /0/private/TradesHistory`: fills with pair, price and order, 50 per page.
    TradesHistory,
    /// `POST /0/private/WithdrawMethods`: answers only to keys that may withdraw.
    WithdrawMethods,
}

impl Endpoint {
    /// Every endpoint.
    pub const ALL: [Endpoint; 7] = [
        Endpoint::Assets,
        Endpoint::AssetPairs,
        Endpoint::Ohlc,
        Endpoint::Balance,
        Endpoint::Ledgers,
        Endpoint::TradesHistory,
        Endpoint::WithdrawMethods,
    ];

    /// Kraken's method name (`Ledgers`).
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::Assets => "Assets",
            Endpoint::AssetPairs => "AssetPairs",
            Endpoint::Ohlc => "OHLC",
            Endpoint::Balance => "Balance",
            Endpoint::Ledgers => "Ledgers",
            Endpoint::TradesHistory => "TradesHistory",
            Endpoint::WithdrawMethods => "WithdrawMethods",
        }
    }

    /// Whether the call is signed (a `/0/private/` method).
    pub fn private(self) -> bool {
        !matches!(self, Endpoint::Assets | Endpoint::AssetPairs | Endpoint::Ohlc)
    }

    /// The path after the base URL.
    pub fn path(self) -> String {
        if self.private() { format!("/0/private/{}", self.name()) } else { format!("/0/public/{}", self.name()) }
    }

    /// What one call adds to the key's counter (ledger and trade history 2, other private calls 1;
    /// public calls: 1 in the public bucket).
    pub fn cost(self) -> u64 {
        match self {
            Endpoint::Ledgers | Endpoint::TradesHistory => 2,
            _ => 1,
        }
    }

    /// The endpoint at this path, if any.
    pub fn from_path(path: &str) -> Option<Endpoint> {
        Endpoint::ALL.into_iter().find(|endpoint| endpoint.path() == path)
    }

    /// The limiter buckets one call costs for account `account`.
    pub fn costs(self, account: &str) -> Vec<(String, u64)> {
        if self.private() {
            vec![(format!("{COUNTER_PREFIX}{account}"), self.cost())]
        } else {
            vec![(PUBLIC_BUCKET.to_owned(), 1)]
        }
    }
}

/// How Kraken wants requests signed and how its answers read, for one key.
pub struct KrakenProtocol {
    api_key: Secret,
    secret: Secret,
    nonces: NonceSource,
    clock: Arc<dyn Clock>,
    /// Told the counter is full when Kraken refuses a call for it.
    limiter: Option<Arc<Limiter>>,
}

impl std::fmt::Debug for KrakenProtocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KrakenProtocol")
            .field("api_key", &self.api_key)
            .field("secret", &self.secret)
            .field("nonces", &self.nonces)
            .finish_non_exhaustive()
    }
}

/// Kraken's envelope: `{"error": [...], "result": ...}`.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(default)]
    error: Vec<String>,
    #[serde(borrow, default)]
    result: Option<&'a RawValue>,
}

impl KrakenProtocol {
    /// A protocol signing with `api_key` and `secret`, nonces from `clock`.
    pub fn new(api_key: Secret, secret: Secret, clock: Arc<dyn Clock>) -> KrakenProtocol {
        KrakenProtocol { api_key, secret, nonces: NonceSource::new(0), clock, limiter: None }
    }

    /// The same protocol, filling the counter of `limiter` when Kraken says it is full.
    pub fn with_limiter(mut self, limiter: Arc<Limiter>) -> KrakenProtocol {
        self.limiter = Some(limiter);
        self
    }

    /// Kraken says the counter is full (calls of another program, or of an earlier run that
    /// Kraken still counts): our model of it becomes full too, so that every caller waits
    /// for it to decay before the next call.
    fn counter_is_full(&self, request: &Request) {
        let Some(limiter) = &self.limiter else { return };
        for (bucket, _) in &request.costs {
            if let Some(BucketKind::Decay { capacity, .. }) = limiter.kind(bucket) {
                limiter.observe(bucket, capacity, None);
            }
        }
    }

    /// The next nonce: microseconds since the epoch, or one more than the last one.
    pub fn next_nonce(&self) -> Result<u64, FetchError> {
        let now_us = u64::try_from(self.clock.now_ms()).unwrap_or(0).saturating_mul(1000);
        self.nonces.next(now_us).map_err(|error| setup(error.to_string()))
    }

    /// The greatest nonce used so far (0: none).
    pub fn last_nonce(&self) -> u64 {
        self.nonces.last()
    }
}

fn setup(reason: String) -> FetchError {
    FetchError::Setup { exchange: EXCHANGE.to_owned(), reason }
}

/// The Unix time (seconds) in `EService: Throttled: <ts>`.
fn throttled_until(error: &str) -> Option<i64> {
    let rest = error.split_once("Throttled")?.1.trim_start_matches([':', ' ']);
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

impl Protocol for KrakenProtocol {
    fn exchange(&self) -> &'static str {
        EXCHANGE
    }

    fn prepare(&self, request: &Request) -> Result<Prepared, FetchError> {
        let private = Endpoint::from_path(&request.path).is_none_or(Endpoint::private);
        if !private {
            return Ok(Prepared { query: encode_query(&request.params), body: None, headers: Vec::new() });
        }
        let nonce = self.next_nonce()?;
        let mut body = format!("nonce={nonce}");
        if !request.params.is_empty() {
            body.push('&');
            body.push_str(&encode_query(&request.params));
        }
        let headers = auth::sign_request(&self.api_key, &self.secret, &request.path, nonce, &body)
            .map_err(|error| setup(format!("{}: {error}", request.endpoint)))?;
        let content_type = "application/x-www-form-urlencoded; charset=utf-8".to_owned();
        Ok(Prepared {
            query: String::new(),
            body: Some((content_type, body)),
            headers: headers.pairs().iter().map(|(name, value)| ((*name).to_owned(), Secret::new(*value))).collect(),
        })
    }

    fn judge(&self, request: &Request, status: u16, _headers: &HeaderMap, body: &[u8]) -> Verdict {
        let now = self.clock.now_ms();
        let parsed: Result<Envelope, _> = serde_json::from_slice(body);
        if status >= 500 {
            return Verdict::Retry { reason: format!("HTTP {status}"), after: None };
        }
        if status == 429 {
            return Verdict::RateLimited { retry_after: crate::http::retry_after(_headers, now) };
        }
        let envelope = match parsed {
            Ok(envelope) => envelope,
            Err(_) if (200..300).contains(&status) => return incomplete(status, body),
            Err(_) => {
                return Verdict::Fail(FetchError::Api {
                    exchange: EXCHANGE.to_owned(),
                    endpoint: request.endpoint.to_owned(),
                    status,
                    code: String::new(),
                    message: format!("HTTP {status}"),
                });
            }
        };
        let Some(error) = envelope.error.iter().find(|e| e.starts_with('E')) else {
            if envelope.result.is_none() {
                return Verdict::Retry { reason: "the answer has no result".to_owned(), after: None };
            }
            return Verdict::Ok;
        };
        let auth = |problem: &str| {
            Verdict::Fail(FetchError::Auth {
                exchange: EXCHANGE.to_owned(),
                endpoint: request.endpoint.to_owned(),
                message: format!("{problem} (Kraken said: {error})"),
            })
        };
        match error.as_str() {
            "EAPI:Invalid key" => auth("the API key is unknown to Kraken (was it copied whole?)"),
            "EAPI:Invalid signature" => {
                auth("the signature was refused: the private key (secret) does not belong to this API key")
            }
            "EGeneral:Permission denied" => auth(&format!(
                "the key lacks the permission {} needs ({})",
                request.endpoint,
                permission_of(request.endpoint)
            )),
            "EAPI:Invalid nonce" => Verdict::Retry {
                reason: "Kraken refused the nonce (another program using this key?); signing again with a new one"
                    .to_owned(),
                after: None,
            },
            "EAPI:Rate limit exceeded" => {
                self.counter_is_full(request);
                Verdict::RateLimited { retry_after: None }
            }
            "EGeneral:Temporary lockout" => {
                Verdict::Banned { until_ms: now.saturating_add(LOCKOUT.as_millis() as i64) }
            }
            "EService:Unavailable" | "EService:Busy" | "EGeneral:Internal error" => {
                Verdict::Retry { reason: error.clone(), after: None }
            }
            other if other.starts_with("EService:") && other.contains("Throttled") => {
                let after = throttled_until(other)
                    .map(|seconds| Duration::from_millis(u64::try_from(seconds * 1000 - now).unwrap_or(0)));
                Verdict::RateLimited { retry_after: after }
            }
            other => Verdict::Fail(FetchError::Api {
                exchange: EXCHANGE.to_owned(),
                endpoint: request.endpoint.to_owned(),
                status,
                code: other.split(':').next().unwrap_or(other).to_owned(),
                message: other.to_owned(),
            }),
        }
    }

    fn observe(&self, _request: &Request, _headers: &HeaderMap) -> Vec<Usage> {
        // Kraken reports no usage: the counter is modelled from the documented costs alone.
        Vec::new()
    }
}

/// The permission an endpoint needs, as Kraken's key settings name it.
fn permission_of(endpoint: &str) -> &'static str {
    match endpoint {
        "Balance" => "Funds permissions - Query",
        "Ledgers" => "Data - Query ledger entries",
        "TradesHistory" => "Orders and trades - Query closed orders & trades",
        "WithdrawMethods" => "Funds permissions - Withdraw",
        _ => "see Kraken's API key settings",
    }
}

/// One Kraken account's API: signed POSTs through the shared limiter, with retries.
#[derive(Clone, Debug)]
pub struct KrakenApi {
    client: Arc<Client>,
    protocol: Arc<KrakenProtocol>,
    account: String,
    /// Held from taking a nonce until the answer is in: one private call of a key at a time.
    private_calls: Arc<Mutex<()>>,
}

impl KrakenApi {
    /// An API handle for account `account` (its label names its counter bucket), talking to
    /// `base_url` ([`DEFAULT_BASE_URL`] when `None`). The private key must be base64; both
    /// blank is allowed for public calls only.
    pub fn new(
        base_url: Option<&str>,
        api_key: Secret,
        secret: Secret,
        account: &str,
        limiter: Arc<Limiter>,
        config: ClientConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<KrakenApi, FetchError> {
        if !(api_key.is_blank() && secret.is_blank()) {
            if api_key.is_blank() {
                return Err(setup("the Kraken API key is empty".to_owned()));
            }
            auth::api_sign(&secret, "/0/private/Balance", 1, "nonce=1").map_err(|error| setup(error.to_string()))?;
        }
        let protocol =
            Arc::new(KrakenProtocol::new(api_key, secret, Arc::clone(&clock)).with_limiter(Arc::clone(&limiter)));
        let base_url = base_url.unwrap_or(DEFAULT_BASE_URL);
        let client = Client::new(Arc::clone(&protocol) as Arc<dyn Protocol>, base_url, limiter, config, clock)?;
        Ok(KrakenApi {
            client: Arc::new(client),
            protocol,
            account: account.to_owned(),
            private_calls: Arc::new(Mutex::new(())),
        })
    }

    /// A limiter with Kraken's buckets: the call counter of `tier` for every account, and
    /// about one public call per second.
    pub fn new_limiter(clock: Arc<dyn Clock>, tier: Tier) -> Arc<Limiter> {
        let limiter = Limiter::new(clock);
        limiter.declare_prefix(COUNTER_PREFIX, tier.bucket_kind());
        limiter.declare(PUBLIC_BUCKET, BucketKind::Decay { capacity: 3, per_second: 1.0 });
        Arc::new(limiter)
    }

    /// Calls `endpoint` with `params` (signed POST for private ones, GET for public ones),
    /// retrying what can be retried.
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

    /// The `result` of an answer to `endpoint`, as raw JSON text.
    pub fn result<'a>(&self, endpoint: Endpoint, answer: &'a Answer) -> Result<&'a RawValue, FetchError> {
        let envelope: Envelope =
            serde_json::from_slice(&answer.body).map_err(|e| malformed(endpoint, e.to_string()))?;
        envelope.result.ok_or_else(|| malformed(endpoint, "the answer has no result".to_owned()))
    }

    crate::http::handle::api_handle_accessors!(KrakenProtocol);

    /// Kraken's time now as far as we know it, ms.
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
    use super::*;
    use crate::http::client::test_server::{Reply, TestServer};
    use crate::http::clock::ManualClock;

    // The private key of Kraken's official signing example ("Spot REST Authentication").
    const PRIVATE_KEY: &str =
        "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==";
    const NOW_MS: i64 = 1_616_492_376_594;

    fn fast() -> ClientConfig {
        ClientConfig::for_tests(Duration::from_millis(500), 4)
    }

    fn api_on(url: &str) -> KrakenApi {
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(NOW_MS));
        let limiter = KrakenApi::new_limiter(Arc::clone(&clock), Tier::PRO);
        KrakenApi::new(Some(url), Secret::new("PUBKEY"), Secret::new(PRIVATE_KEY), "main", limiter, fast(), clock)
            .unwrap()
    }

    fn judge(body: &str) -> Verdict {
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(NOW_MS));
        let protocol = KrakenProtocol::new(Secret::new("PUBKEY"), Secret::new(PRIVATE_KEY), clock);
        let request = Request {
            endpoint: "Ledgers",
            method: Method::Post,
            path: "/0/private/Ledgers".into(),
            params: Vec::new(),
            costs: Vec::new(),
        };
        protocol.judge(&request, 200, &HeaderMap::new(), body.as_bytes())
    }

    #[test]
    fn endpoint_table_matches_the_reference() {
        assert_eq!(Endpoint::Ledgers.costs("a"), vec![("counter:a".to_owned(), 2)]);
        assert_eq!(Endpoint::TradesHistory.costs("a"), vec![("counter:a".to_owned(), 2)]);
        assert_eq!(Endpoint::Balance.costs("a"), vec![("counter:a".to_owned(), 1)]);
        assert_eq!(Endpoint::WithdrawMethods.costs("a"), vec![("counter:a".to_owned(), 1)]);
        assert_eq!(Endpoint::Assets.costs("a"), vec![("public".to_owned(), 1)]);
        assert_eq!(Endpoint::Ohlc.costs("a"), vec![("public".to_owned(), 1)]);
        assert_eq!(Endpoint::Ohlc.path(), "/0/public/OHLC");
        assert_eq!(Endpoint::AssetPairs.path(), "/0/public/AssetPairs");
        assert_eq!(Endpoint::Ledgers.path(), "/0/private/Ledgers");
        assert_eq!(Endpoint::Assets.path(), "/0/public/Assets");
        for endpoint in Endpoint::ALL {
            assert_eq!(Endpoint::from_path(&endpoint.path()), Some(endpoint));
        }
    }

    #[test]
    fn tiers_read_back_and_model_the_counter() {
        assert_eq!(Tier::parse("Starter"), Some(Tier::STARTER));
        assert_eq!(Tier::parse("pro"), Some(Tier::PRO));
        assert_eq!(Tier::parse("20:10"), Some(Tier { capacity: 20, decay_milli: 10_000 }));
        assert_eq!(Tier::parse("15:0.33"), Some(Tier::STARTER));
        for bad in ["", "gold", "0:1", "20:0", "x:1", "20"] {
            assert_eq!(Tier::parse(bad), None, "{bad}");
        }
        for tier in [Tier::STARTER, Tier::INTERMEDIATE, Tier::PRO] {
            assert_eq!(Tier::parse(&tier.render()), Some(tier));
        }
        assert_eq!(Tier::INTERMEDIATE.bucket_kind(), BucketKind::Decay { capacity: 19, per_second: 0.5 });
    }

    #[test]
    fn answers_are_judged_per_the_reference() {
        assert_eq!(judge(r#"{"error":[],"result":{}}"#), Verdict::Ok);
        assert!(matches!(judge(r#"{"error":[],"result":{"ledger":{"#), Verdict::Retry { .. }));
        assert!(matches!(judge(r#"{"error":["EAPI:Invalid nonce"]}"#), Verdict::Retry { .. }));
        assert!(matches!(judge(r#"{"error":["EService:Unavailable"]}"#), Verdict::Retry { .. }));
        assert_eq!(judge(r#"{"error":["EAPI:Rate limit exceeded"]}"#), Verdict::RateLimited { retry_after: None });
        assert_eq!(
            judge(&format!(r#"{{"error":["EService: Throttled: {}"]}}"#, NOW_MS / 1000 + 5)),
            Verdict::RateLimited { retry_after: Some(Duration::from_millis(4_406)) }
        );
        assert_eq!(
            judge(r#"{"error":["EGeneral:Temporary lockout"]}"#),
            Verdict::Banned { until_ms: NOW_MS + 900_000 }
        );
        for (body, words) in [
            (r#"{"error":["EAPI:Invalid key"]}"#, "unknown to Kraken"),
            (r#"{"error":["EAPI:Invalid signature"]}"#, "does not belong to this API key"),
            (r#"{"error":["EGeneral:Permission denied"]}"#, "Data - Query ledger entries"),
        ] {
            match judge(body) {
                Verdict::Fail(error @ FetchError::Auth { .. }) => assert!(error.to_string().contains(words), "{error}"),
                other => panic!("{body}: {other:?}"),
            }
        }
        match judge(r#"{"error":["EGeneral:Invalid arguments"]}"#) {
            Verdict::Fail(FetchError::Api { code, message, .. }) => {
                assert_eq!((code.as_str(), message.as_str()), ("EGeneral", "EGeneral:Invalid arguments"))
            }
            other => panic!("{other:?}"),
        }
    }

    /// A private call on the wire: POST form body with the nonce first, signed over exactly
    /// that body, the nonce in microseconds; an invalid nonce is answered by a new signature.
    #[test]
    fn private_calls_are_signed_posts_and_invalid_nonces_are_retried_with_a_new_nonce() {
        let server = TestServer::start(|n, _| {
            if n == 0 {
                Reply::json(200, r#"{"error":["EAPI:Invalid nonce"]}"#)
            } else {
                Reply::json(200, r#"{"error":[],"result":{"ledger":{},"count":0}}"#)
            }
        });
        let api = api_on(&server.url());
        let answer = api.call(Endpoint::Ledgers, &[("ofs", "50".into()), ("without_count", "true".into())]).unwrap();
        assert_eq!(answer.attempts, 2);
        let seen = server.seen();
        assert_eq!(seen.len(), 2);
        let mut nonces = Vec::new();
        for request in &seen {
            assert_eq!(request.method, "POST");
            assert_eq!(request.path, "/0/private/Ledgers");
            assert_eq!(request.query, "");
            let (nonce, rest) = request.body.strip_prefix("nonce=").unwrap().split_once('&').unwrap();
            assert_eq!(rest, "ofs=50&without_count=true");
            let nonce: u64 = nonce.parse().unwrap();
            let expected = auth::api_sign(&Secret::new(PRIVATE_KEY), "/0/private/Ledgers", nonce, &request.body);
            assert_eq!(request.header("API-Sign"), Some(expected.unwrap().as_str()));
            assert_eq!(request.header("API-Key"), Some("PUBKEY"));
            nonces.push(nonce);
        }
        assert_eq!(nonces[0], NOW_MS as u64 * 1000, "microseconds");
        assert!(nonces[1] > nonces[0], "{nonces:?}");
        assert_eq!(api.protocol().last_nonce(), nonces[1]);
    }

    #[test]
    fn a_rate_limit_answer_fills_the_counter_model() {
        let server = TestServer::start(|n, _| {
            if n == 0 {
                Reply::json(200, r#"{"error":["EAPI:Rate limit exceeded"]}"#)
            } else {
                Reply::json(200, r#"{"error":[],"result":{}}"#)
            }
        });
        let api = api_on(&server.url());
        let answer = api.call(Endpoint::Balance, &[]).unwrap();
        assert_eq!(answer.attempts, 2);
        // Pro counter (19 usable, −1 per second on the manual clock): full after the refusal,
        // so the retry waited for one unit to decay.
        let stats = &api.limiter().stats()["counter:main"];
        assert!(stats.corrected >= 18, "{stats:?}");
        assert!(stats.waited >= Duration::from_millis(900), "{stats:?}");
    }

    #[test]
    fn public_calls_are_plain_gets() {
        let server = TestServer::start(|_, _| Reply::json(200, r#"{"error":[],"result":{}}"#));
        let api = api_on(&server.url());
        api.call(Endpoint::Assets, &[]).unwrap();
        let seen = &server.seen()[0];
        assert_eq!((seen.method.as_str(), seen.path.as_str()), ("GET", "/0/public/Assets"));
        assert!(seen.header("API-Sign").is_none());
    }

    #[test]
    fn a_secret_that_is_not_base64_is_refused_before_any_request_and_not_shown() {
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(NOW_MS));
        let limiter = KrakenApi::new_limiter(Arc::clone(&clock), Tier::STARTER);
        let error =
            KrakenApi::new(None, Secret::new("K"), Secret::new("not base64 $$$ secret"), "a", limiter, fast(), clock)
                .unwrap_err();
        assert!(error.to_string().contains("not valid base64"), "{error}");
        assert!(!error.to_string().contains("$$$"));
    }
}

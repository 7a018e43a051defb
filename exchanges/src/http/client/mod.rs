//! The blocking HTTP client every exchange shares: limiter, signing per attempt, retries.
//!
//! An exchange plugs in through [`Protocol`]: how to sign a [`Request`] (called again for
//! every attempt, so timestamps and nonces are fresh), how to judge an answer ([`Verdict`]),
//! and which usage headers feed the [`Limiter`]. [`Client::send`] does the rest the same way
//! for everyone: it waits for the limiter, sends, reads the *whole* body, and retries with
//! exponential backoff and full jitter on timeouts, connection errors, cut-off bodies, 5xx and
//! rate-limit answers. A 429 pauses the whole limiter (every thread of the exchange) for
//! `max(Retry-After, backoff)`; a ban (Binance's 418) pauses it until the ban ends, or fails at
//! once with [`FetchError::Banned`] when the ban is longer than [`ClientConfig::max_ban_wait`],
//! so nothing is ever sent into a ban. A clock-skew answer makes the protocol re-measure the
//! exchange's clock once per request, then the request is retried at once.
//!
//! Secrets: headers are marked sensitive, logs name only the endpoint and the path, and no
//! error text carries the query string (where signatures live), a URL or a header value.

use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};

mod config;
mod redact;

pub use super::query::encode_query;
pub use config::ClientConfig;
use redact::{describe_io, describe_reqwest, redact_signature, redact_url};

use super::clock::{Clock, duration_ms};
use super::error::FetchError;
use super::limiter::Limiter;
use crate::Secret;

/// The HTTP method of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET: parameters in the query string.
    Get,
    /// POST: parameters where the protocol puts them (query string or body).
    Post,
}

/// One logical request, before signing; the same value is re-signed for every attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The endpoint's name, for errors, logs and stats (`myTrades`).
    pub endpoint: &'static str,
    /// GET or POST.
    pub method: Method,
    /// The path after the base URL (`/api/v3/myTrades`).
    pub path: String,
    /// Parameters in order, not yet encoded.
    pub params: Vec<(String, String)>,
    /// Limiter buckets and the weight the request costs in each.
    pub costs: Vec<(String, u64)>,
}

/// A request as it goes on the wire, signed for one attempt. Its `Debug` hides signatures.
#[derive(Clone)]
pub struct Prepared {
    /// The query string, already percent-encoded, without `?` (may hold a signature).
    pub query: String,
    /// A body and its content type, if any.
    pub body: Option<(String, String)>,
    /// Extra headers; values are secrets (API keys, signatures) and are sent marked sensitive.
    pub headers: Vec<(String, Secret)>,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("query", &redact_signature(&self.query))
            .field("body", &self.body.as_ref().map(|(content_type, body)| (content_type, redact_signature(body))))
            .field("headers", &self.headers)
            .finish()
    }
}

/// What the exchange's answer means, as the protocol reads it.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Success: the body is the answer.
    Ok,
    /// A passing failure (5xx, a backend timeout): retry after backoff (at least `after`).
    Retry {
        /// What went wrong, for logs and the final error.
        reason: String,
        /// A delay the exchange asked for.
        after: Option<Duration>,
    },
    /// Too many requests: pause every caller for `max(retry_after, backoff)`, then retry.
    RateLimited {
        /// The exchange's `Retry-After`.
        retry_after: Option<Duration>,
    },
    /// The IP is banned until local time `until_ms`: nothing may be sent before.
    Banned {
        /// When the ban ends, local clock, ms since the epoch.
        until_ms: i64,
    },
    /// The request's timestamp was refused: re-measure the exchange's clock and retry.
    ClockSkew,
    /// A failure retrying cannot fix.
    Fail(FetchError),
}

/// Usage the exchange reported in an answer's headers, for one limiter bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage {
    /// The limiter bucket.
    pub bucket: String,
    /// Weight the exchange has counted in the bucket's current window.
    pub used: u64,
    /// The window's length, when the header tells it (Binance's `-1M`, `-5S` suffixes).
    pub window: Option<Duration>,
}

/// What an exchange's API needs beyond plain HTTP: signing, judging answers, usage headers.
pub trait Protocol: Send + Sync {
    /// The exchange's name, for errors and logs.
    fn exchange(&self) -> &'static str;
    /// Signs `request` NOW (timestamp, nonce, token): called once per attempt.
    fn prepare(&self, request: &Request) -> Result<Prepared, FetchError>;
    /// What the answer means.
    fn judge(&self, request: &Request, status: u16, headers: &HeaderMap, body: &[u8]) -> Verdict;
    /// The usage the answer's headers report, for the limiter (called before `judge`).
    fn observe(&self, request: &Request, headers: &HeaderMap) -> Vec<Usage>;
    /// Re-measures the exchange's clock after a [`Verdict::ClockSkew`]; by default nothing.
    fn resync_clock(&self, client: &Client) -> Result<(), FetchError> {
        let _ = client;
        Ok(())
    }
}

/// A successful answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The whole body, decompressed.
    pub body: Vec<u8>,
    /// Attempts it took (1 = no retry).
    pub attempts: u32,
}

/// A blocking client for one exchange account, safe to share between threads.
pub struct Client {
    protocol: Arc<dyn Protocol>,
    base_url: String,
    http: reqwest::blocking::Client,
    limiter: Arc<Limiter>,
    config: ClientConfig,
    clock: Arc<dyn Clock>,
    rng: Mutex<fastrand::Rng>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("exchange", &self.protocol.exchange())
            .field("base_url", &self.base_url)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// How one attempt failed before an answer could be judged.
enum AttemptError {
    /// Worth retrying (timeout, connection, cut-off body).
    Retryable(String),
    /// Retrying cannot help (the request cannot be built).
    Fatal(FetchError),
}

/// Distinguishes the jitter sequences of clients created in the same process.
static CLIENT_SEQUENCE: AtomicU64 = AtomicU64::new(0);

impl Client {
    /// A client sending `protocol`'s requests to `base_url` (`https://api.binance.com`, or a
    /// simulator's `http://127.0.0.1:PORT`), spending `limiter`'s budget.
    pub fn new(
        protocol: Arc<dyn Protocol>,
        base_url: &str,
        limiter: Arc<Limiter>,
        config: ClientConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Client, FetchError> {
        let exchange = protocol.exchange();
        let setup = |reason: String| FetchError::Setup { exchange: exchange.to_owned(), reason };
        let trimmed = base_url.trim().trim_end_matches('/');
        let parsed = reqwest::Url::parse(trimmed)
            .map_err(|error| setup(format!("base URL `{}` is not a URL: {error}", redact_url(trimmed))))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(setup(format!("base URL `{}` must be http:// or https:// with a host", redact_url(trimmed))));
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(setup("the base URL must not have a query string or fragment".to_owned()));
        }
        // Never follow a redirect: it would carry the key's headers to wherever the answer
        // points (another host, or plain http). A 3xx is refused in `send`, naming the target.
        let http = reqwest::blocking::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.connect_timeout)
            .timeout(config.read_timeout)
            .gzip(true)
            .user_agent(concat!("cointally/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| setup(format!("could not set up the HTTP client: {}", describe_reqwest(error))))?;
        let sequence = CLIENT_SEQUENCE.fetch_add(1, Ordering::Relaxed);
        let seed =
            fnv1a(exchange.as_bytes()) ^ fnv1a(trimmed.as_bytes()) ^ sequence.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        Ok(Client {
            protocol,
            base_url: trimmed.to_owned(),
            http,
            limiter,
            config,
            clock,
            rng: Mutex::new(fastrand::Rng::with_seed(seed)),
        })
    }

    /// The limiter this client spends.
    pub fn limiter(&self) -> &Arc<Limiter> {
        &self.limiter
    }

    /// The clock this client reads and sleeps on.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The retry policy.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The base URL requests go to (no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Sends `request`, retrying what can be retried, until it succeeds, fails for good, or
    /// `max_attempts` are spent ([`FetchError::GaveUp`] with the last reason).
    pub fn send(&self, request: &Request) -> Result<Answer, FetchError> {
        let exchange = self.protocol.exchange();
        let costs: Vec<(&str, u64)> = request.costs.iter().map(|(name, weight)| (name.as_str(), *weight)).collect();
        let max_attempts = self.config.max_attempts.max(1);
        let mut resynced = false;
        let mut last = String::new();
        let mut attempt = 0;
        while attempt < max_attempts {
            attempt += 1;
            let grant = self.limiter.acquire(&costs);
            let prepared = self.protocol.prepare(request)?;
            let backoff = self.backoff(attempt);
            // How long this thread sleeps before the next attempt (pauses go through the limiter).
            let mut sleep = backoff;
            match self.attempt(request, &prepared) {
                Err(AttemptError::Fatal(error)) => return Err(error),
                Err(AttemptError::Retryable(reason)) => last = reason,
                Ok((status, headers, _)) if (300..400).contains(&status) => {
                    let target = redirect_target(&self.base_url, &request.path, &headers);
                    log::warn!(
                        "{exchange} {} {}: refused a redirect (HTTP {status}) to {target}",
                        request.endpoint,
                        request.path
                    );
                    return Err(FetchError::Redirected {
                        exchange: exchange.to_owned(),
                        endpoint: request.endpoint.to_owned(),
                        status,
                        target,
                    });
                }
                Ok((status, headers, body)) => {
                    for usage in self.protocol.observe(request, &headers) {
                        self.limiter.observe_sent_at(&usage.bucket, usage.used, usage.window, Some(grant.at_ms));
                    }
                    match self.protocol.judge(request, status, &headers, &body) {
                        Verdict::Ok => return Ok(Answer { status, body, attempts: attempt }),
                        Verdict::Fail(error) => return Err(error),
                        Verdict::Retry { reason, after } => {
                            last = reason;
                            // A passing failure: honour the exchange's delay, within reason.
                            sleep = after.map_or(backoff, |after| after.max(backoff).min(self.config.max_ban_wait));
                        }
                        Verdict::RateLimited { retry_after } => {
                            let pause = retry_after.map_or(backoff, |after| after.max(backoff));
                            last = format!("rate limited (HTTP {status})");
                            log::warn!(
                                "{exchange} {} {}: rate limited (HTTP {status}); pausing all requests for {pause:?}",
                                request.endpoint,
                                request.path
                            );
                            self.limiter.pause_until(self.clock.now_ms().saturating_add(duration_ms(pause)));
                            sleep = Duration::ZERO;
                        }
                        Verdict::Banned { until_ms } => {
                            let until = crate::time::format_rfc3339(crate::time::from_millis(until_ms));
                            let wait_ms = until_ms.saturating_sub(self.clock.now_ms());
                            // Nobody of this exchange sends before the ban ends, whatever happens next.
                            self.limiter.pause_until(until_ms);
                            if wait_ms > duration_ms(self.config.max_ban_wait) {
                                log::warn!("{exchange} {} {}: IP banned until {until}", request.endpoint, request.path);
                                return Err(FetchError::Banned { exchange: exchange.to_owned(), until });
                            }
                            log::warn!(
                                "{exchange} {} {}: IP banned until {until}; waiting for the ban to end",
                                request.endpoint,
                                request.path
                            );
                            last = format!("IP banned until {until}");
                            sleep = Duration::ZERO;
                        }
                        Verdict::ClockSkew if !resynced => {
                            resynced = true;
                            log::debug!(
                                "{exchange} {} {}: timestamp refused; measuring the exchange's clock",
                                request.endpoint,
                                request.path
                            );
                            self.protocol.resync_clock(self)?;
                            last = "request timestamp refused by the exchange (clock skew)".to_owned();
                            continue;
                        }
                        Verdict::ClockSkew => {
                            last =
                                "request timestamp refused by the exchange even after measuring its clock".to_owned();
                        }
                    }
                }
            }
            if attempt >= max_attempts {
                break;
            }
            let next = attempt + 1;
            if attempt >= 3 {
                log::warn!(
                    "{exchange} {} {}: attempt {attempt} failed ({last}); attempt {next} of {max_attempts} in {sleep:?}",
                    request.endpoint,
                    request.path
                );
            } else {
                log::debug!(
                    "{exchange} {} {}: attempt {attempt} failed ({last}); attempt {next} of {max_attempts} in {sleep:?}",
                    request.endpoint,
                    request.path
                );
            }
            self.clock.sleep(sleep);
        }
        log::warn!("{exchange} {} {}: giving up after {attempt} attempts ({last})", request.endpoint, request.path);
        Err(FetchError::GaveUp {
            exchange: exchange.to_owned(),
            endpoint: request.endpoint.to_owned(),
            attempts: attempt,
            last,
        })
    }

    /// One HTTP exchange: send, then read the whole body.
    fn attempt(&self, request: &Request, prepared: &Prepared) -> Result<(u16, HeaderMap, Vec<u8>), AttemptError> {
        let fatal = |reason: String| {
            AttemptError::Fatal(FetchError::Setup { exchange: self.protocol.exchange().to_owned(), reason })
        };
        let mut url = String::with_capacity(self.base_url.len() + request.path.len() + prepared.query.len() + 1);
        url.push_str(&self.base_url);
        url.push_str(&request.path);
        if !prepared.query.is_empty() {
            url.push('?');
            url.push_str(&prepared.query);
        }
        let mut builder = match request.method {
            Method::Get => self.http.get(url),
            Method::Post => self.http.post(url),
        };
        for (name, value) in &prepared.headers {
            let mut header = HeaderValue::from_str(value.expose())
                .map_err(|_| fatal(format!("the {name} header has characters HTTP headers cannot carry")))?;
            header.set_sensitive(true);
            builder = builder.header(name.as_str(), header);
        }
        if let Some((content_type, body)) = &prepared.body {
            builder = builder.header(CONTENT_TYPE, content_type.as_str()).body(body.clone());
        }
        let mut response = match builder.send() {
            Ok(response) => response,
            Err(error) if error.is_builder() => {
                return Err(fatal(format!("could not build the request: {}", describe_reqwest(error))));
            }
            Err(error) => return Err(AttemptError::Retryable(describe_reqwest(error))),
        };
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let mut body = Vec::new();
        if let Err(error) = response.read_to_end(&mut body) {
            let what = if error.kind() == std::io::ErrorKind::TimedOut {
                "timed out while reading the answer".to_owned()
            } else {
                "the answer was cut off".to_owned()
            };
            return Err(AttemptError::Retryable(format!(
                "HTTP {status}: {what} after {} bytes ({})",
                body.len(),
                describe_io(&error)
            )));
        }
        Ok((status, headers, body))
    }

    /// The backoff before attempt `attempt + 1`: full jitter under a doubling, capped ceiling.
    fn backoff(&self, attempt: u32) -> Duration {
        let mut rng = self.rng.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        backoff_delay(attempt, self.config.backoff_base, self.config.backoff_max, &mut rng)
    }
}

/// The delay after failed attempt number `attempt` (1-based): uniformly random ("full
/// jitter") between zero and `min(max, base × 2^(attempt−1))`.
pub fn backoff_delay(attempt: u32, base: Duration, max: Duration, rng: &mut fastrand::Rng) -> Duration {
    let doublings = attempt.saturating_sub(1).min(32);
    let ceiling = base.saturating_mul(1u32 << doublings.min(31)).min(max);
    let ceiling_nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
    Duration::from_nanos(rng.u64(0..=ceiling_nanos))
}

/// Reads a `Retry-After` value: whole or decimal seconds, or an HTTP date (then the time left
/// until it, zero if past, from local time `now_ms`). None when it is neither.
pub fn parse_retry_after(value: &str, now_ms: i64) -> Option<Duration> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    if value.bytes().all(|byte| byte.is_ascii_digit() || byte == b'.') {
        let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
        if whole.is_empty() && fraction.is_empty() {
            return None;
        }
        if fraction.contains('.') {
            return None;
        }
        let seconds: u64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
        let mut millis: u64 = 0;
        for (digit, scale) in fraction.bytes().zip([100, 10, 1]) {
            millis += u64::from(digit - b'0') * scale;
        }
        return Some(Duration::from_secs(seconds).saturating_add(Duration::from_millis(millis)));
    }
    let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let left_ms = date.timestamp_millis().saturating_sub(now_ms).max(0);
    Some(Duration::from_millis(u64::try_from(left_ms).unwrap_or(0)))
}

/// The `Retry-After` header of an answer, read with [`parse_retry_after`].
pub fn retry_after(headers: &HeaderMap, now_ms: i64) -> Option<Duration> {
    headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok().and_then(|value| parse_retry_after(value, now_ms))
}

/// The host (and port, when not the scheme's default) a redirect's `Location` points at,
/// resolved against the request's URL; never its path or query, which may carry secrets.
fn redirect_target(base_url: &str, path: &str, headers: &HeaderMap) -> String {
    let Some(location) = headers.get(reqwest::header::LOCATION).and_then(|value| value.to_str().ok()) else {
        return "an unnamed place (no Location header)".to_owned();
    };
    let target = reqwest::Url::parse(&format!("{base_url}{path}")).and_then(|here| here.join(location.trim()));
    match target.as_ref().ok().and_then(|url| url.host_str().map(|host| (url, host))) {
        Some((url, host)) => match url.port() {
            Some(port) => format!("{}://{host}:{port}", url.scheme()),
            None => format!("{}://{host}", url.scheme()),
        },
        None => "a place that is no URL".to_owned(),
    }
}

/// FNV-1a: a stable seed from text.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

#[cfg(all(test, feature = "sandbox"))]
pub(crate) mod test_server;

#[cfg(test)]
pub(crate) mod test_log;

#[cfg(all(test, feature = "sandbox"))]
mod tests;

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

use super::clock::{Clock, duration_ms};
use super::error::FetchError;
use super::limiter::Limiter;
use crate::Secret;

/// Timeouts and retry policy of a [`Client`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// Longest wait for a TCP/TLS connection.
    pub connect_timeout: Duration,
    /// Longest wait for the answer's head, and for each read of its body.
    pub read_timeout: Duration,
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// The backoff ceiling after the first failure; it doubles with each further failure.
    pub backoff_base: Duration,
    /// The backoff ceiling never grows beyond this.
    pub backoff_max: Duration,
    /// A ban longer than this fails the request instead of waiting it out.
    pub max_ban_wait: Duration,
}

impl Default for ClientConfig {
    /// Production values: 10 s connect, 30 s read, 8 attempts, backoff 500 ms doubling to
    /// 60 s, bans waited out up to 5 minutes.
    fn default() -> ClientConfig {
        ClientConfig {
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            max_attempts: 8,
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(60),
            max_ban_wait: Duration::from_secs(300),
        }
    }
}

impl ClientConfig {
    /// The defaults, adjusted by the environment: `COINTALLY_HTTP_FAST=1` (tests: backoff 1 ms
    /// doubling to 20 ms, read timeout 2 s) and `COINTALLY_HTTP_TIMEOUT_MS` (read timeout).
    pub fn from_env() -> ClientConfig {
        ClientConfig::from_vars(|name| std::env::var(name).ok())
    }

    /// [`ClientConfig::from_env`] reading variables through `var` (testable without touching
    /// the process environment).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> ClientConfig {
        let mut config = ClientConfig::default();
        if var("COINTALLY_HTTP_FAST").is_some_and(|value| matches!(value.trim(), "1" | "true" | "yes")) {
            config.backoff_base = Duration::from_millis(1);
            config.backoff_max = Duration::from_millis(20);
            config.read_timeout = Duration::from_secs(2);
        }
        if let Some(ms) = var("COINTALLY_HTTP_TIMEOUT_MS").and_then(|value| value.trim().parse::<u64>().ok()) {
            if ms > 0 {
                config.read_timeout = Duration::from_millis(ms);
            }
        }
        config
    }
}

#[cfg(test)]
impl ClientConfig {
    /// For tests against a local server: millisecond backoff, the given read timeout and attempts.
    pub(crate) fn for_tests(read_timeout: Duration, max_attempts: u32) -> ClientConfig {
        ClientConfig {
            read_timeout,
            backoff_base: Duration::from_millis(1),
            backoff_max: Duration::from_millis(10),
            max_attempts,
            ..ClientConfig::default()
        }
    }
}

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

/// Form-encoded text with the value of every `signature` parameter replaced by `[redacted]`.
fn redact_signature(text: &str) -> String {
    text.split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if name.eq_ignore_ascii_case("signature") => format!("{name}=[redacted]"),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
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
        let http = reqwest::blocking::Client::builder()
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

/// Parameters as a query string: `key=value` joined by `&`, everything but the unreserved
/// ASCII characters (`A-Z a-z 0-9 - . _ ~`) percent-encoded as UTF-8 bytes.
pub fn encode_query(params: &[(String, String)]) -> String {
    let mut query = String::new();
    for (name, value) in params {
        if !query.is_empty() {
            query.push('&');
        }
        push_encoded(&mut query, name);
        query.push('=');
        push_encoded(&mut query, value);
    }
    query
}

fn push_encoded(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
    }
}

/// A reqwest error in words, without its URL (which may carry a signed query string).
fn describe_reqwest(error: reqwest::Error) -> String {
    let what = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else if error.is_body() || error.is_decode() {
        "the answer was cut off"
    } else if error.is_redirect() {
        "too many redirects"
    } else {
        "the request failed"
    };
    let error = error.without_url();
    match innermost(&error) {
        Some(cause) => format!("{what}: {}", redact_url(&cause.to_string())),
        None => what.to_owned(),
    }
}

/// An I/O error met while reading a body, in words, without any URL.
fn describe_io(error: &std::io::Error) -> String {
    let text = match error.get_ref() {
        Some(inner) => innermost(inner).unwrap_or(inner).to_string(),
        None => error.to_string(),
    };
    redact_url(&text)
}

/// The last error of a source chain (the one that says what really happened).
fn innermost<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a (dyn std::error::Error + 'static)> {
    let mut cause = error.source()?;
    while let Some(next) = cause.source() {
        cause = next;
    }
    Some(cause)
}

/// Text with anything URL-like (`scheme://…`) replaced by `[url]`, and reqwest's
/// ` for url (…)` tail removed: a URL may carry a signed query string.
fn redact_url(text: &str) -> String {
    let text = match text.find(" for url (") {
        Some(at) => &text[..at],
        None => text,
    };
    text.split(' ')
        .map(|word| if word.contains("://") || word.contains("signature=") { "[url]" } else { word })
        .collect::<Vec<_>>()
        .join(" ")
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

/// A throwaway HTTP/1.1 server for the client's tests (and the Binance protocol's): one
/// thread per connection, `Connection: close`, replies chosen by a closure.
#[cfg(test)]
pub(crate) mod test_server {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::{SocketAddr, TcpListener, TcpStream};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    /// A request as the server saw it.
    #[derive(Debug, Clone)]
    pub(crate) struct Seen {
        pub method: String,
        pub path: String,
        pub query: String,
        pub headers: Vec<(String, String)>,
        pub body: String,
    }

    impl Seen {
        /// A header's value (name case-insensitive).
        pub fn header(&self, name: &str) -> Option<&str> {
            self.headers.iter().find(|(known, _)| known.eq_ignore_ascii_case(name)).map(|(_, value)| value.as_str())
        }

        /// A query parameter's raw value.
        pub fn param(&self, name: &str) -> Option<&str> {
            self.query.split('&').filter_map(|pair| pair.split_once('=')).find(|(key, _)| *key == name).map(|(_, v)| v)
        }
    }

    /// What to answer.
    pub(crate) enum Reply {
        /// A complete answer.
        Full { status: u16, headers: Vec<(String, String)>, body: Vec<u8> },
        /// Headers announcing the whole body, then only `sent` bytes of it, then close.
        Truncated { status: u16, body: Vec<u8>, sent: usize },
        /// Say nothing for this long, then close.
        Stall(Duration),
    }

    impl Reply {
        /// A complete answer with a JSON body.
        pub fn json(status: u16, body: &str) -> Reply {
            Reply::Full { status, headers: Vec::new(), body: body.as_bytes().to_vec() }
        }

        /// A complete answer with a JSON body and extra headers.
        pub fn json_with(status: u16, headers: &[(&str, &str)], body: &str) -> Reply {
            Reply::Full {
                status,
                headers: headers.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())).collect(),
                body: body.as_bytes().to_vec(),
            }
        }
    }

    type Handler = dyn Fn(usize, &Seen) -> Reply + Send + Sync;

    /// A running server; stops accepting on drop.
    pub(crate) struct TestServer {
        addr: SocketAddr,
        seen: Arc<Mutex<Vec<Seen>>>,
        stop: Arc<AtomicBool>,
    }

    impl TestServer {
        /// Starts a server on 127.0.0.1:0 answering request number `n` (0-based) with `handler`.
        pub fn start(handler: impl Fn(usize, &Seen) -> Reply + Send + Sync + 'static) -> TestServer {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            let seen = Arc::new(Mutex::new(Vec::new()));
            let stop = Arc::new(AtomicBool::new(false));
            let handler: Arc<Handler> = Arc::new(handler);
            let (seen_in, stop_in) = (Arc::clone(&seen), Arc::clone(&stop));
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop_in.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let (handler, seen) = (Arc::clone(&handler), Arc::clone(&seen_in));
                    std::thread::spawn(move || serve(stream, &*handler, &seen));
                }
            });
            TestServer { addr, seen, stop }
        }

        /// `http://127.0.0.1:PORT`.
        pub fn url(&self) -> String {
            format!("http://{}", self.addr)
        }

        /// Every request seen so far, in arrival order.
        pub fn seen(&self) -> Vec<Seen> {
            self.seen.lock().unwrap().clone()
        }
    }

    impl Drop for TestServer {
        fn drop(&mut self) {
            self.stop.store(true, Ordering::SeqCst);
            // Wake the accept loop so it sees the flag.
            let _ = TcpStream::connect(self.addr);
        }
    }

    fn serve(stream: TcpStream, handler: &Handler, seen: &Mutex<Vec<Seen>>) {
        let Ok(write_half) = stream.try_clone() else { return };
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("").to_owned();
        let target = parts.next().unwrap_or("").to_owned();
        let (path, query) = match target.split_once('?') {
            Some((path, query)) => (path.to_owned(), query.to_owned()),
            None => (target.clone(), String::new()),
        };
        let mut headers = Vec::new();
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                headers.push((name.trim().to_owned(), value.trim().to_owned()));
            }
        }
        let length = headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, value)| value.parse::<usize>().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let request = Seen { method, path, query, headers, body: String::from_utf8_lossy(&body).into_owned() };
        let index = {
            let mut seen = seen.lock().unwrap();
            seen.push(request.clone());
            seen.len() - 1
        };
        let mut out = write_half;
        match handler(index, &request) {
            Reply::Full { status, headers, body } => {
                let _ = out.write_all(&head(status, &headers, body.len()));
                let _ = out.write_all(&body);
            }
            Reply::Truncated { status, body, sent } => {
                let _ = out.write_all(&head(status, &[], body.len()));
                let _ = out.write_all(&body[..sent.min(body.len())]);
            }
            Reply::Stall(duration) => std::thread::sleep(duration),
        }
        let _ = out.flush();
        let _ = out.shutdown(std::net::Shutdown::Both);
    }

    fn head(status: u16, headers: &[(String, String)], length: usize) -> Vec<u8> {
        let mut text = format!(
            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {length}\r\nConnection: close\r\n"
        );
        for (name, value) in headers {
            text.push_str(&format!("{name}: {value}\r\n"));
        }
        text.push_str("\r\n");
        text.into_bytes()
    }
}

/// Collects log lines of the whole test binary, so tests can check no secret is logged.
#[cfg(test)]
pub(crate) mod test_log {
    use std::sync::{Mutex, Once};

    static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());
    static INSTALL: Once = Once::new();

    struct Capture;

    impl log::Log for Capture {
        fn enabled(&self, _: &log::Metadata<'_>) -> bool {
            true
        }
        fn log(&self, record: &log::Record<'_>) {
            LINES.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(format!("{}", record.args()));
        }
        fn flush(&self) {}
    }

    /// Installs the capturing logger (once per test binary).
    pub(crate) fn install() {
        INSTALL.call_once(|| {
            if log::set_logger(&Capture).is_ok() {
                log::set_max_level(log::LevelFilter::Trace);
            }
        });
    }

    /// Every line logged so far by any test.
    pub(crate) fn lines() -> Vec<String> {
        LINES.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::test_server::{Reply, Seen, TestServer};
    use super::*;
    use crate::http::clock::{ManualClock, SystemClock};
    use crate::http::limiter::{BucketKind, LimiterConfig};

    const KEY: &str = "test-api-key-0123456789abcdef";
    const SIGNATURE: &str = "deadbeefcafef00d5ec7e7";

    /// A protocol that "signs" with a fixed signature and judges by HTTP status alone.
    struct Plain {
        clock: Arc<dyn Clock>,
    }

    impl Protocol for Plain {
        fn exchange(&self) -> &'static str {
            "testex"
        }
        fn prepare(&self, request: &Request) -> Result<Prepared, FetchError> {
            let mut query = encode_query(&request.params);
            query.push_str(if query.is_empty() { "signature=" } else { "&signature=" });
            query.push_str(SIGNATURE);
            let body = match request.method {
                Method::Post => Some(("application/x-www-form-urlencoded".to_owned(), "a=1&b=2".to_owned())),
                Method::Get => None,
            };
            Ok(Prepared { query, body, headers: vec![("X-KEY".to_owned(), Secret::new(KEY))] })
        }
        fn judge(&self, _: &Request, status: u16, headers: &HeaderMap, _: &[u8]) -> Verdict {
            let now = self.clock.now_ms();
            match status {
                200..=299 => Verdict::Ok,
                429 => Verdict::RateLimited { retry_after: retry_after(headers, now) },
                418 => Verdict::Banned {
                    until_ms: now + duration_ms(retry_after(headers, now).unwrap_or(Duration::from_secs(120))),
                },
                500..=599 => Verdict::Retry { reason: format!("HTTP {status}"), after: None },
                _ => Verdict::Fail(FetchError::Api {
                    exchange: "testex".to_owned(),
                    endpoint: "thing".to_owned(),
                    status,
                    code: String::new(),
                    message: format!("HTTP {status}"),
                }),
            }
        }
        fn observe(&self, _: &Request, headers: &HeaderMap) -> Vec<Usage> {
            headers
                .get("x-used")
                .and_then(|value| value.to_str().ok()?.parse().ok())
                .map(|used| vec![Usage { bucket: "ip".to_owned(), used, window: None }])
                .unwrap_or_default()
        }
    }

    fn fast() -> ClientConfig {
        ClientConfig::for_tests(Duration::from_millis(300), 4)
    }

    fn client_on(server: &TestServer, clock: Arc<ManualClock>, config: ClientConfig) -> Client {
        let clock: Arc<dyn Clock> = clock;
        // Exact windows (no edge guard) so waits are round numbers.
        let config_exact = LimiterConfig { guard_permille: 0, ..LimiterConfig::default() };
        let limiter = Arc::new(Limiter::with_config(Arc::clone(&clock), config_exact));
        limiter.declare("ip", BucketKind::FixedWindow { limit: 1_000, window: Duration::from_secs(60) });
        Client::new(Arc::new(Plain { clock: Arc::clone(&clock) }), &server.url(), limiter, config, clock).unwrap()
    }

    fn request() -> Request {
        Request {
            endpoint: "thing",
            method: Method::Get,
            path: "/v1/thing".to_owned(),
            params: vec![("symbol".to_owned(), "BTC USD".to_owned())],
            costs: vec![("ip".to_owned(), 5)],
        }
    }

    fn assert_no_secret(text: &str) {
        for secret in [KEY, SIGNATURE, "signature=", "symbol=BTC", "127.0.0.1"] {
            assert!(!text.contains(secret), "`{secret}` leaked in: {text}");
        }
    }

    #[test]
    fn retries_on_500_then_succeeds() {
        let server = TestServer::start(|n, _| if n < 2 { Reply::json(500, "{}") } else { Reply::json(200, "[1,2]") });
        let client = client_on(&server, Arc::new(ManualClock::new(0)), fast());
        let answer = client.send(&request()).unwrap();
        assert_eq!((answer.status, answer.body.as_slice(), answer.attempts), (200, &b"[1,2]"[..], 3));
        // Every attempt was counted by the limiter and carried the signed query and the key.
        assert_eq!(client.limiter().stats()["ip"].weight, 15);
        let seen: Vec<Seen> = server.seen();
        assert_eq!(seen.len(), 3);
        assert_eq!(seen[0].path, "/v1/thing");
        assert_eq!(seen[0].query, format!("symbol=BTC%20USD&signature={SIGNATURE}"));
        assert_eq!(seen[0].header("x-key"), Some(KEY));
    }

    #[test]
    fn gives_up_after_max_attempts_with_the_last_reason() {
        let server = TestServer::start(|_, _| Reply::json(503, "{}"));
        let client = client_on(&server, Arc::new(ManualClock::new(0)), fast());
        let error = client.send(&request()).unwrap_err();
        assert_eq!(
            error,
            FetchError::GaveUp {
                exchange: "testex".to_owned(),
                endpoint: "thing".to_owned(),
                attempts: 4,
                last: "HTTP 503".to_owned()
            }
        );
        assert_eq!(server.seen().len(), 4);
    }

    #[test]
    fn a_truncated_body_is_retried() {
        let server = TestServer::start(|n, _| {
            if n == 0 {
                Reply::Truncated { status: 200, body: b"[1,2,3,4,5,6,7,8,9]".to_vec(), sent: 7 }
            } else {
                Reply::json(200, "[1,2,3,4,5,6,7,8,9]")
            }
        });
        let client = client_on(&server, Arc::new(ManualClock::new(0)), fast());
        let answer = client.send(&request()).unwrap();
        assert_eq!((answer.body.len(), answer.attempts), (19, 2));
    }

    #[test]
    fn a_body_cut_off_every_time_gives_up_saying_so() {
        let server = TestServer::start(|_, _| Reply::Truncated { status: 200, body: vec![b' '; 100], sent: 10 });
        let client = client_on(&server, Arc::new(ManualClock::new(0)), fast());
        match client.send(&request()).unwrap_err() {
            FetchError::GaveUp { last, attempts: 4, .. } => {
                assert!(last.contains("cut off after 10 bytes"), "{last}");
                assert_no_secret(&last);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_timeout_is_retried() {
        let server =
            TestServer::start(
                |n, _| {
                    if n == 0 { Reply::Stall(Duration::from_millis(1_500)) } else { Reply::json(200, "{}") }
                },
            );
        let client = client_on(&server, Arc::new(ManualClock::new(0)), fast());
        let started = std::time::Instant::now();
        let answer = client.send(&request()).unwrap();
        assert_eq!(answer.attempts, 2);
        assert!(started.elapsed() < Duration::from_millis(1_400), "{:?}", started.elapsed());
    }

    #[test]
    fn timeouts_every_time_give_up_naming_the_timeout() {
        let server = TestServer::start(|_, _| Reply::Stall(Duration::from_millis(800)));
        let config = ClientConfig { max_attempts: 2, read_timeout: Duration::from_millis(100), ..fast() };
        let client = client_on(&server, Arc::new(ManualClock::new(0)), config);
        match client.send(&request()).unwrap_err() {
            FetchError::GaveUp { last, attempts: 2, .. } => {
                assert!(last.contains("timed out"), "{last}");
                assert_no_secret(&last);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn rate_limited_answer_pauses_everybody_for_retry_after() {
        let server = TestServer::start(|n, _| {
            if n == 0 { Reply::json_with(429, &[("Retry-After", "7")], "{}") } else { Reply::json(200, "{}") }
        });
        let clock = Arc::new(ManualClock::new(1_000_000));
        let client = client_on(&server, Arc::clone(&clock), fast());
        let answer = client.send(&request()).unwrap();
        assert_eq!(answer.attempts, 2);
        // The retry waited for the pause: 7 s (the backoff, at most 1 ms, is smaller).
        assert_eq!(client.limiter().paused_until_ms(), 1_007_000);
        assert_eq!(clock.slept(), Duration::from_secs(7));
    }

    #[test]
    fn a_long_ban_fails_at_once_and_blocks_the_exchange() {
        let server = TestServer::start(|_, _| Reply::json_with(418, &[("Retry-After", "600")], "{}"));
        let clock = Arc::new(ManualClock::new(1_700_000_000_000));
        let client = client_on(&server, clock, fast());
        let error = client.send(&request()).unwrap_err();
        assert_eq!(
            error,
            FetchError::Banned { exchange: "testex".to_owned(), until: "2023-11-14T22:23:20Z".to_owned() }
        );
        assert_eq!(server.seen().len(), 1, "never retry into a ban");
        assert_eq!(client.limiter().paused_until_ms(), 1_700_000_600_000);
    }

    #[test]
    fn a_short_ban_is_waited_out() {
        let server = TestServer::start(|n, _| {
            if n == 0 { Reply::json_with(418, &[("Retry-After", "120")], "{}") } else { Reply::json(200, "{}") }
        });
        let clock = Arc::new(ManualClock::new(0));
        let client = client_on(&server, Arc::clone(&clock), fast());
        assert_eq!(client.send(&request()).unwrap().attempts, 2);
        assert!(clock.slept() >= Duration::from_secs(120));
    }

    #[test]
    fn a_refusal_is_not_retried() {
        let server = TestServer::start(|_, _| Reply::json(400, "{}"));
        let client = client_on(&server, Arc::new(ManualClock::new(0)), fast());
        assert!(matches!(client.send(&request()).unwrap_err(), FetchError::Api { status: 400, .. }));
        assert_eq!(server.seen().len(), 1);
    }

    #[test]
    fn usage_headers_feed_the_limiter() {
        let server = TestServer::start(|_, _| Reply::json_with(200, &[("X-Used", "990")], "{}"));
        let client = client_on(&server, Arc::new(ManualClock::new(0)), fast());
        client.send(&request()).unwrap();
        assert_eq!(client.limiter().stats()["ip"].corrected, 985);
        // 990 used: the next request (5) still fits, the one after waits for the next minute.
        client.send(&request()).unwrap();
        let grant = client.limiter().acquire(&[("ip", 11)]);
        assert_eq!(grant.waited, Duration::from_secs(60));
    }

    #[test]
    fn post_sends_the_body_with_its_content_type() {
        let server = TestServer::start(|_, _| Reply::json(200, "{}"));
        let client = client_on(&server, Arc::new(ManualClock::new(0)), fast());
        client.send(&Request { method: Method::Post, ..request() }).unwrap();
        let seen = server.seen();
        assert_eq!(seen[0].method, "POST");
        assert_eq!(seen[0].body, "a=1&b=2");
        assert_eq!(seen[0].header("content-type"), Some("application/x-www-form-urlencoded"));
    }

    #[test]
    fn connection_refused_is_retried_then_given_up() {
        // A port nobody listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(0));
        let limiter = Arc::new(Limiter::new(Arc::clone(&clock)));
        let protocol = Arc::new(Plain { clock: Arc::clone(&clock) });
        let client = Client::new(protocol, &format!("http://127.0.0.1:{port}/"), limiter, fast(), clock).unwrap();
        match client.send(&request()).unwrap_err() {
            FetchError::GaveUp { last, attempts: 4, .. } => {
                assert!(last.starts_with("could not connect"), "{last}");
                assert_no_secret(&last);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_base_urls_are_refused() {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        for url in ["", "api.binance.com", "ftp://x", "http://x/?a=1"] {
            let limiter = Arc::new(Limiter::new(Arc::clone(&clock)));
            let protocol = Arc::new(Plain { clock: Arc::clone(&clock) });
            let error = Client::new(protocol, url, limiter, fast(), Arc::clone(&clock)).unwrap_err();
            assert!(matches!(error, FetchError::Setup { .. }), "{url}: {error:?}");
        }
    }

    #[test]
    fn no_secret_in_errors_debug_or_logs() {
        super::test_log::install();
        let server = TestServer::start(|n, _| match n % 3 {
            0 => Reply::json(502, "{}"),
            1 => Reply::Truncated { status: 200, body: vec![b'x'; 50], sent: 3 },
            _ => Reply::Stall(Duration::from_millis(600)),
        });
        let client = client_on(&server, Arc::new(ManualClock::new(0)), ClientConfig { max_attempts: 5, ..fast() });
        let error = client.send(&request()).unwrap_err();
        for text in [error.to_string(), format!("{error:?}"), format!("{client:?}")] {
            assert_no_secret(&text.replace(&server.url(), "[base]"));
        }
        let lines = super::test_log::lines();
        assert!(lines.iter().any(|line| line.contains("testex thing /v1/thing")), "{lines:?}");
        for line in &lines {
            for secret in [KEY, SIGNATURE, "signature=", "symbol=BTC"] {
                assert!(!line.contains(secret), "`{secret}` leaked in log: {line}");
            }
        }
    }

    #[test]
    fn backoff_stays_within_its_doubling_capped_ceiling() {
        let mut rng = fastrand::Rng::with_seed(7);
        let base = Duration::from_millis(500);
        let max = Duration::from_secs(60);
        for attempt in 1..=40u32 {
            let ceiling = base.saturating_mul(1 << (attempt - 1).min(20)).min(max);
            let mut longest = Duration::ZERO;
            for _ in 0..200 {
                let delay = backoff_delay(attempt, base, max, &mut rng);
                assert!(delay <= ceiling, "attempt {attempt}: {delay:?} > {ceiling:?}");
                longest = longest.max(delay);
            }
            // Full jitter spreads over the whole range.
            assert!(longest > ceiling / 2, "attempt {attempt}: {longest:?}");
        }
        assert_eq!(backoff_delay(1, Duration::ZERO, max, &mut rng), Duration::ZERO);
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = 1_700_000_000_000; // 2023-11-14T22:13:20Z
        assert_eq!(parse_retry_after("5", now), Some(Duration::from_secs(5)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("1.5", now), Some(Duration::from_millis(1_500)));
        assert_eq!(parse_retry_after("Tue, 14 Nov 2023 22:13:50 GMT", now), Some(Duration::from_secs(30)));
        assert_eq!(parse_retry_after("Tue, 14 Nov 2023 22:00:00 GMT", now), Some(Duration::ZERO));
        for bad in ["", "soon", "-3", "1.2.3", ".", "99999999999999999999999"] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad}");
        }
        let mut headers = HeaderMap::new();
        headers.insert(reqwest::header::RETRY_AFTER, HeaderValue::from_static("12"));
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(12)));
    }

    #[test]
    fn config_from_the_environment() {
        let none = ClientConfig::from_vars(|_| None);
        assert_eq!(none, ClientConfig::default());
        assert_eq!(
            (none.connect_timeout, none.read_timeout, none.max_attempts, none.backoff_base, none.backoff_max),
            (Duration::from_secs(10), Duration::from_secs(30), 8, Duration::from_millis(500), Duration::from_secs(60))
        );
        let fast = ClientConfig::from_vars(|name| (name == "COINTALLY_HTTP_FAST").then(|| "1".to_owned()));
        assert_eq!(
            (fast.backoff_base, fast.backoff_max, fast.read_timeout),
            (Duration::from_millis(1), Duration::from_millis(20), Duration::from_secs(2))
        );
        let both = ClientConfig::from_vars(|name| match name {
            "COINTALLY_HTTP_FAST" => Some("1".to_owned()),
            "COINTALLY_HTTP_TIMEOUT_MS" => Some("750".to_owned()),
            _ => None,
        });
        assert_eq!(both.read_timeout, Duration::from_millis(750));
    }

    #[test]
    fn query_encoding_keeps_only_unreserved_characters() {
        let params =
            vec![("symbols".to_owned(), "[\"BNBBTC\",\"ETHBTC\"]".to_owned()), ("a b".to_owned(), "１-._~".to_owned())];
        assert_eq!(encode_query(&params), "symbols=%5B%22BNBBTC%22%2C%22ETHBTC%22%5D&a%20b=%EF%BC%91-._~");
        assert_eq!(encode_query(&[]), "");
    }

    #[test]
    fn debug_of_a_prepared_request_hides_signature_and_key() {
        let prepared = Plain { clock: Arc::new(SystemClock) }.prepare(&request()).unwrap();
        let text = format!("{prepared:?}");
        assert!(text.contains("symbol=BTC%20USD&signature=[redacted]"), "{text}");
        assert!(!text.contains(SIGNATURE) && !text.contains(KEY), "{text}");
    }

    #[test]
    fn urls_are_redacted_from_error_text() {
        assert_eq!(redact_url("error sending request for url (http://h/x?signature=abc)"), "error sending request");
        assert_eq!(redact_url("see https://h/x?a=1 now"), "see [url] now");
    }
}

//! How Binance wants requests signed and how its answers read: [`BinanceProtocol`].

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderMap;
use serde::Deserialize;

use super::{
    API_BUCKET, Endpoint, RECV_WINDOW_MS, SAPI_IP_BUCKET, SAPI_UID_1S_PREFIX, SAPI_UID_PREFIX, measure_offset,
};
use crate::Secret;
use crate::binance::auth::{self, ClockOffset, RecvWindow};
use crate::binance::venue::{self, Venue};
use crate::http::answer::{complete_json, snippet};
use crate::http::client::{Client, Method, Prepared, Protocol, Request, Usage, Verdict};
use crate::http::{BucketKind, Clock, FetchError, Limiter, encode_query, retry_after};

/// How long a 418 ban lasts when Binance says neither `Retry-After` nor the end time (its
/// shortest ban).
const DEFAULT_BAN: Duration = Duration::from_secs(120);

/// How Binance wants requests signed and how its answers read, for one account.
pub struct BinanceProtocol {
    account: String,
    api_key: Secret,
    secret: Secret,
    clock: Arc<dyn Clock>,
    /// Holds the exchange clock offset shared by every account (an `AtomicI64`).
    pub(super) limiter: Arc<Limiter>,
    recv_window: RecvWindow,
    /// The exchange it speaks to (its name goes in errors and logs).
    venue: &'static Venue,
}

impl std::fmt::Debug for BinanceProtocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BinanceProtocol")
            .field("account", &self.account)
            .field("api_key", &self.api_key)
            .field("secret", &self.secret)
            .field("recv_window", &self.recv_window)
            .finish_non_exhaustive()
    }
}

/// Binance's error body, `{"code": -1121, "msg": "Invalid symbol."}` (code sometimes a string).
#[derive(Deserialize)]
struct ErrorBody {
    code: Option<serde_json::Value>,
    msg: Option<String>,
    message: Option<String>,
}

impl BinanceProtocol {
    /// A protocol for account `account` signing with `api_key` and `secret`; `limiter` holds
    /// the exchange clock offset shared with the other accounts.
    pub fn new(
        account: &str,
        api_key: Secret,
        secret: Secret,
        clock: Arc<dyn Clock>,
        limiter: Arc<Limiter>,
    ) -> BinanceProtocol {
        let recv_window = RecvWindow::from_millis(RECV_WINDOW_MS).unwrap_or_default();
        BinanceProtocol {
            account: account.to_owned(),
            api_key,
            secret,
            clock,
            limiter,
            recv_window,
            venue: &venue::BINANCE,
        }
    }

    /// The same protocol for another exchange speaking Binance's API.
    pub fn for_venue(self, venue: &'static Venue) -> BinanceProtocol {
        BinanceProtocol { venue, ..self }
    }

    /// The offset between Binance's clock and ours, as last measured.
    pub fn clock_offset(&self) -> ClockOffset {
        ClockOffset::measure(self.limiter.clock_offset_ms(), 0)
    }

    /// The timestamp to sign now: local clock plus the measured offset.
    fn timestamp_ms(&self) -> i64 {
        self.clock_offset().timestamp_at(self.clock.now_ms())
    }

    fn endpoint_name(request: &Request) -> String {
        request.endpoint.to_owned()
    }

    /// Which bucket a usage header counts, from its name (lower case); None when not a usage header.
    fn bucket_of(&self, request: &Request, header: &str) -> Option<(String, Duration)> {
        let (bucket, interval) = if let Some(interval) = header.strip_prefix("x-mbx-used-weight-") {
            (API_BUCKET.to_owned(), interval)
        } else if let Some(interval) = header.strip_prefix("x-sapi-used-ip-weight-") {
            (SAPI_IP_BUCKET.to_owned(), interval)
        } else if let Some(interval) = header.strip_prefix("x-sapi-used-uid-weight-") {
            let per_second = format!("{SAPI_UID_1S_PREFIX}{}", self.account);
            let window = parse_interval(interval)?;
            // The per-second bucket is the one withdraw history pays; every other UID header is
            // the per-minute bucket (or what the simulator scaled it to).
            let costs_per_second = request.costs.iter().any(|(name, _)| *name == per_second);
            if costs_per_second && window == Duration::from_secs(1) {
                return Some((per_second, window));
            }
            return Some((format!("{SAPI_UID_PREFIX}{}", self.account), window));
        } else {
            return None;
        };
        Some((bucket, parse_interval(interval)?))
    }
}

/// A usage header's interval suffix (`1M`, `5S`, `1H`, `1D`) as a duration.
pub fn parse_interval(suffix: &str) -> Option<Duration> {
    let suffix = suffix.trim();
    let unit = suffix.chars().last()?;
    let count: u64 = suffix[..suffix.len() - unit.len_utf8()].parse().ok()?;
    let seconds = match unit.to_ascii_uppercase() {
        'S' => 1,
        'M' => 60,
        'H' => 3_600,
        'D' => 86_400,
        _ => return None,
    };
    (count > 0).then(|| Duration::from_secs(count.saturating_mul(seconds)))
}

impl Protocol for BinanceProtocol {
    fn exchange(&self) -> &'static str {
        self.venue.name
    }

    fn prepare(&self, request: &Request) -> Result<Prepared, FetchError> {
        // Paths we do not know are treated as signed: sending a signature never hurts.
        let signed = Endpoint::from_path(&request.path).is_none_or(Endpoint::signed);
        if !signed {
            return Ok(Prepared { query: encode_query(&request.params), body: None, headers: Vec::new() });
        }
        let setup = |reason: String| FetchError::Setup { exchange: self.venue.name.to_owned(), reason };
        let (header, key) = auth::api_key_header(&self.api_key).map_err(|error| setup(error.to_string()))?;
        let params: Vec<(&str, &str)> =
            request.params.iter().map(|(name, value)| (name.as_str(), value.as_str())).collect();
        let query = auth::signed_query(&self.secret, &params, Some(self.recv_window), self.timestamp_ms())
            .map_err(|error| setup(format!("{}: {error}", request.endpoint)))?;
        let (query, body) = match request.method {
            Method::Get => (query, None),
            // Binance accepts POST parameters in the query string too; keep one signing path.
            Method::Post => (query, Some(("application/x-www-form-urlencoded".to_owned(), String::new()))),
        };
        Ok(Prepared { query, body, headers: vec![(header.to_owned(), Secret::new(key))] })
    }

    fn judge(&self, request: &Request, status: u16, headers: &HeaderMap, body: &[u8]) -> Verdict {
        let now = self.clock.now_ms();
        if (200..300).contains(&status) {
            return complete_json(status, body);
        }
        let parsed: Option<ErrorBody> = serde_json::from_slice(body).ok();
        let code = parsed.as_ref().and_then(|error| error.code.as_ref()).map(|code| match code {
            serde_json::Value::String(text) => text.clone(),
            other => other.to_string(),
        });
        let code_number = code.as_deref().and_then(|code| code.parse::<i64>().ok());
        let message = parsed
            .as_ref()
            .and_then(|error| error.msg.clone().or_else(|| error.message.clone()))
            .unwrap_or_else(|| snippet(body));
        let said = match &code {
            Some(code) => format!("{code} {message}"),
            None => message.clone(),
        };
        let after = retry_after(headers, now);
        if status == 418 {
            let until_ms = match after {
                Some(after) => now.saturating_add(i64::try_from(after.as_millis()).unwrap_or(i64::MAX)),
                None => ban_end_in_message(&message)
                    .map(|server_ms| server_ms.saturating_sub(self.limiter.clock_offset_ms()))
                    .filter(|&local_ms| local_ms > now)
                    .unwrap_or_else(|| now.saturating_add(DEFAULT_BAN.as_millis() as i64)),
            };
            return Verdict::Banned { until_ms };
        }
        if status == 429 || code_number == Some(-1003) {
            return Verdict::RateLimited { retry_after: after };
        }
        let signed = Endpoint::from_path(&request.path).is_none_or(Endpoint::signed);
        if code_number == Some(-1021) && signed {
            return Verdict::ClockSkew;
        }
        let problem = match code_number {
            Some(-2015) => Some(
                "wrong API key or secret, or this machine's IP is not whitelisted for the key, \
                 or the key lacks the permission this endpoint needs",
            ),
            Some(-2014) => Some("the API key's format is invalid (was it copied whole?)"),
            Some(-1022) => Some("the signature was refused: the API secret does not belong to this API key"),
            Some(-1002) => Some("the key is not authorized for this request (a permission is missing)"),
            _ if status == 401 => Some("wrong API key or secret, or this machine's IP is not whitelisted for the key"),
            _ => None,
        };
        if let Some(problem) = problem {
            return Verdict::Fail(FetchError::Auth {
                exchange: self.venue.name.to_owned(),
                endpoint: Self::endpoint_name(request),
                message: format!("{problem} (Binance said: {said})"),
            });
        }
        // A 404 is a path the venue does not have (Binance.US lacks several of binance.com's):
        // asking again cannot help, whatever code came with it.
        if status >= 500 || (status != 404 && matches!(code_number, Some(-1000 | -1001 | -1007))) {
            return Verdict::Retry { reason: format!("HTTP {status}: {said}"), after };
        }
        let message = if status == 403 {
            format!("HTTP 403: blocked by Binance's web application firewall ({message})")
        } else {
            message
        };
        Verdict::Fail(FetchError::Api {
            exchange: self.venue.name.to_owned(),
            endpoint: Self::endpoint_name(request),
            status,
            code: code.unwrap_or_default(),
            message,
        })
    }

    fn observe(&self, request: &Request, headers: &HeaderMap) -> Vec<Usage> {
        let mut usages: Vec<Usage> = Vec::new();
        for (name, value) in headers {
            let Some((bucket, window)) = self.bucket_of(request, name.as_str()) else { continue };
            let Some(used) = value.to_str().ok().and_then(|text| text.trim().parse::<u64>().ok()) else { continue };
            let known = match self.limiter.kind(&bucket) {
                Some(BucketKind::FixedWindow { window, .. }) => Some(window),
                _ => None,
            };
            // Several intervals for one bucket: keep the one matching the bucket's window,
            // otherwise the shortest.
            match usages.iter_mut().find(|usage| usage.bucket == bucket) {
                Some(usage) => {
                    let current = usage.window.unwrap_or(Duration::MAX);
                    let better = if known == Some(window) { true } else { known != Some(current) && window < current };
                    if better {
                        *usage = Usage { bucket, used, window: Some(window) };
                    }
                }
                None => usages.push(Usage { bucket, used, window: Some(window) }),
            }
        }
        usages
    }

    fn resync_clock(&self, client: &Client) -> Result<(), FetchError> {
        let offset = measure_offset(self.venue, client, &self.account, self.clock.as_ref())?;
        self.limiter.set_clock_offset_ms(offset.millis());
        log::info!("{}: server clock is {} ms ahead of ours; timestamps corrected", self.venue.name, offset.millis());
        Ok(())
    }
}

/// The ban end (server ms) in a 418 message: "... IP banned until 1700000000000. ...".
fn ban_end_in_message(message: &str) -> Option<i64> {
    let rest = &message[message.find("until ")? + "until ".len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

//! Binance's REST API on the HTTP kit: the endpoint table, signing, answers, usage headers.
//!
//! [`Endpoint`] lists every endpoint the adapter uses with its path, whether it is SIGNED, and
//! what it costs in Binance's rate-limit buckets (reference §3–§4): `api` (REQUEST_WEIGHT,
//! 6000 per minute per IP, shared by every account), `sapi_ip` (12000 per minute per IP,
//! shared), `sapi_uid:<account>` (180000 per minute per account) and `sapi_uid_1s:<account>`
//! (180000 per second per account; withdraw history only). [`BinanceProtocol`] signs with
//! HMAC-SHA256 ([`super::auth`]) using a timestamp from the clock plus the exchange clock
//! offset (kept in the shared [`Limiter`], so all accounts reuse one measurement; measured with
//! `GET /api/v3/time` when Binance answers -1021) and `recvWindow` 10000. It judges answers per
//! reference §5: 401, -2015, -2014, -1022 and -1002 are key problems ([`FetchError::Auth`]);
//! -1021 is clock skew; 429 / -1003 is a rate limit; 418 a ban; 5xx, -1000, -1001 and -1007
//! are retried; anything else is a [`FetchError::Api`] with Binance's code and message. The
//! usage headers `X-MBX-USED-WEIGHT-<n><S|M|H|D>`, `X-SAPI-USED-IP-WEIGHT-…` and
//! `X-SAPI-USED-UID-WEIGHT-…` feed the limiter, including the window length their suffix
//! tells (the simulator in scaled mode says `-5S`). [`BinanceApi`] ties it together per account.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderMap;
use serde::Deserialize;

use super::auth::{self, ClockOffset, RecvWindow};
use crate::Secret;
use crate::http::client::{Client, ClientConfig, Method, Prepared, Protocol, Request, Usage, Verdict};
use crate::http::{BucketKind, Clock, FetchError, Limiter, encode_query, retry_after};

pub use crate::http::Answer;

/// The exchange's name in errors and logs.
const EXCHANGE: &str = "binance";

/// Binance's production API.
pub const DEFAULT_BASE_URL: &str = "https://api.binance.com";

/// The `recvWindow` sent with every signed request, in ms (slow links; the maximum is 60000).
pub const RECV_WINDOW_MS: u32 = 10_000;

/// The `/api` REQUEST_WEIGHT bucket (per IP, all accounts).
pub const API_BUCKET: &str = "api";
/// The `/sapi` IP-weighted bucket (per IP, all accounts).
pub const SAPI_IP_BUCKET: &str = "sapi_ip";
/// Prefix of the per-account `/sapi` UID bucket (`sapi_uid:<account>`).
pub const SAPI_UID_PREFIX: &str = "sapi_uid:";
/// Prefix of the per-account, per-second UID bucket of withdraw history (`sapi_uid_1s:<account>`).
pub const SAPI_UID_1S_PREFIX: &str = "sapi_uid_1s:";

const MINUTE: Duration = Duration::from_secs(60);

/// How long a 418 ban lasts when Binance says neither `Retry-After` nor the end time (its
/// shortest ban).
const DEFAULT_BAN: Duration = Duration::from_secs(120);

/// An endpoint of Binance's REST API that cointally calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Endpoint {
    /// `GET /api/v3/time`: the server's clock.
    Time,
    /// `GET /api/v3/exchangeInfo`: symbols and rate limits (public).
    ExchangeInfo,
    /// `GET /api/v3/account`: spot balances.
    Account,
    /// `GET /sapi/v1/account/apiRestrictions`: what the key may do.
    ApiRestrictions,
    /// `GET /api/v3/myTrades`: spot fills of one symbol.
    MyTrades,
    /// `GET /sapi/v1/capital/deposit/hisrec`: crypto deposits.
    Deposits,
    /// `GET /sapi/v1/capital/withdraw/history`: crypto withdrawals.
    Withdrawals,
    /// `GET /sapi/v1/fiat/orders`: fiat deposits and withdrawals.
    FiatOrders,
    /// `GET /sapi/v1/fiat/payments`: card and bank crypto buys and sells.
    FiatPayments,
    /// `GET /sapi/v1/convert/tradeFlow`: Convert trades.
    Convert,
    /// `GET /sapi/v1/asset/dribblet`: dust converted to BNB.
    Dust,
    /// `GET /sapi/v1/asset/assetDividend`: distributions (staking, airdrops, interest).
    Dividends,
    /// `GET /sapi/v1/simple-earn/flexible/history/rewardsRecord`: flexible Simple Earn rewards.
    EarnFlexible,
    /// `GET /sapi/v1/simple-earn/locked/history/rewardsRecord`: locked Simple Earn rewards.
    EarnLocked,
    /// `GET /api/v3/klines`: candles (public).
    Klines,
}

/// Which bucket an endpoint's weight goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Meter {
    /// `/api` REQUEST_WEIGHT, per IP.
    Api,
    /// `/sapi` IP weight.
    SapiIp,
    /// `/sapi` UID weight per minute.
    SapiUid,
    /// `/sapi` UID weight per second.
    SapiUid1s,
}

impl Endpoint {
    /// Every endpoint, in declaration order.
    pub const ALL: [Endpoint; 15] = [
        Endpoint::Time,
        Endpoint::ExchangeInfo,
        Endpoint::Account,
        Endpoint::ApiRestrictions,
        Endpoint::MyTrades,
        Endpoint::Deposits,
        Endpoint::Withdrawals,
        Endpoint::FiatOrders,
        Endpoint::FiatPayments,
        Endpoint::Convert,
        Endpoint::Dust,
        Endpoint::Dividends,
        Endpoint::EarnFlexible,
        Endpoint::EarnLocked,
        Endpoint::Klines,
    ];

    /// The endpoint's name: the stream name of binance-semantics for history endpoints
    /// (`myTrades`, `deposits`, …), Binance's own for the others (`time`, `exchangeInfo`).
    pub fn name(self) -> &'static str {
        self.spec().0
    }

    /// The path after the base URL.
    pub fn path(self) -> &'static str {
        self.spec().1
    }

    /// Whether requests must be signed (every `USER_DATA` endpoint).
    pub fn signed(self) -> bool {
        self.spec().2
    }

    /// The documented weight of one request (reference §3).
    pub fn weight(self) -> u64 {
        self.spec().4
    }

    /// The endpoint with this name, if any.
    pub fn from_name(name: &str) -> Option<Endpoint> {
        Endpoint::ALL.into_iter().find(|endpoint| endpoint.name() == name)
    }

    /// The endpoint at this path, if any.
    pub fn from_path(path: &str) -> Option<Endpoint> {
        Endpoint::ALL.into_iter().find(|endpoint| endpoint.path() == path)
    }

    /// The limiter buckets one request costs for account `account`, with their weights.
    pub fn costs(self, account: &str) -> Vec<(String, u64)> {
        let bucket = match self.spec().3 {
            Meter::Api => API_BUCKET.to_owned(),
            Meter::SapiIp => SAPI_IP_BUCKET.to_owned(),
            Meter::SapiUid => format!("{SAPI_UID_PREFIX}{account}"),
            Meter::SapiUid1s => format!("{SAPI_UID_1S_PREFIX}{account}"),
        };
        vec![(bucket, self.weight())]
    }

    /// (name, path, signed, bucket, weight).
    fn spec(self) -> (&'static str, &'static str, bool, Meter, u64) {
        match self {
            Endpoint::Time => ("time", "/api/v3/time", false, Meter::Api, 1),
            Endpoint::ExchangeInfo => ("exchangeInfo", "/api/v3/exchangeInfo", false, Meter::Api, 20),
            Endpoint::Account => ("account", "/api/v3/account", true, Meter::Api, 20),
            Endpoint::ApiRestrictions => {
                ("apiRestrictions", "/sapi/v1/account/apiRestrictions", true, Meter::SapiIp, 1)
            }
            Endpoint::MyTrades => ("myTrades", "/api/v3/myTrades", true, Meter::Api, 20),
            Endpoint::Deposits => ("deposits", "/sapi/v1/capital/deposit/hisrec", true, Meter::SapiIp, 1),
            Endpoint::Withdrawals => {
                ("withdrawals", "/sapi/v1/capital/withdraw/history", true, Meter::SapiUid1s, 18_000)
            }
            Endpoint::FiatOrders => ("fiatOrders", "/sapi/v1/fiat/orders", true, Meter::SapiUid, 90_000),
            Endpoint::FiatPayments => ("fiatPayments", "/sapi/v1/fiat/payments", true, Meter::SapiIp, 1),
            Endpoint::Convert => ("convert", "/sapi/v1/convert/tradeFlow", true, Meter::SapiUid, 3_000),
            Endpoint::Dust => ("dust", "/sapi/v1/asset/dribblet", true, Meter::SapiIp, 1),
            Endpoint::Dividends => ("dividends", "/sapi/v1/asset/assetDividend", true, Meter::SapiIp, 10),
            Endpoint::EarnFlexible => {
                ("earnFlexible", "/sapi/v1/simple-earn/flexible/history/rewardsRecord", true, Meter::SapiIp, 150)
            }
            Endpoint::EarnLocked => {
                ("earnLocked", "/sapi/v1/simple-earn/locked/history/rewardsRecord", true, Meter::SapiIp, 150)
            }
            Endpoint::Klines => ("klines", "/api/v3/klines", false, Meter::Api, 2),
        }
    }
}

/// How Binance wants requests signed and how its answers read, for one account.
pub struct BinanceProtocol {
    account: String,
    api_key: Secret,
    secret: Secret,
    clock: Arc<dyn Clock>,
    /// Holds the exchange clock offset shared by every account (an `AtomicI64`).
    limiter: Arc<Limiter>,
    recv_window: RecvWindow,
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
        BinanceProtocol { account: account.to_owned(), api_key, secret, clock, limiter, recv_window }
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
        EXCHANGE
    }

    fn prepare(&self, request: &Request) -> Result<Prepared, FetchError> {
        // Paths we do not know are treated as signed: sending a signature never hurts.
        let signed = Endpoint::from_path(&request.path).is_none_or(Endpoint::signed);
        if !signed {
            return Ok(Prepared { query: encode_query(&request.params), body: None, headers: Vec::new() });
        }
        let setup = |reason: String| FetchError::Setup { exchange: EXCHANGE.to_owned(), reason };
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
            // A body cut short without the transport noticing is not JSON: fetch it again.
            if serde_json::from_slice::<serde::de::IgnoredAny>(body).is_err() {
                return Verdict::Retry {
                    reason: format!("HTTP {status}: the answer is not complete JSON ({} bytes)", body.len()),
                    after: None,
                };
            }
            return Verdict::Ok;
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
                exchange: EXCHANGE.to_owned(),
                endpoint: Self::endpoint_name(request),
                message: format!("{problem} (Binance said: {said})"),
            });
        }
        if status >= 500 || matches!(code_number, Some(-1000 | -1001 | -1007)) {
            return Verdict::Retry { reason: format!("HTTP {status}: {said}"), after };
        }
        let message = if status == 403 {
            format!("HTTP 403: blocked by Binance's web application firewall ({message})")
        } else {
            message
        };
        Verdict::Fail(FetchError::Api {
            exchange: EXCHANGE.to_owned(),
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
        let offset = measure_offset(client, &self.account, self.clock.as_ref())?;
        self.limiter.set_clock_offset_ms(offset.millis());
        log::info!("{EXCHANGE}: server clock is {} ms ahead of ours; timestamps corrected", offset.millis());
        Ok(())
    }
}

/// Asks `GET /api/v3/time` and measures the offset on arrival of the answer.
fn measure_offset(client: &Client, account: &str, clock: &dyn Clock) -> Result<ClockOffset, FetchError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct ServerTime {
        server_time: i64,
    }
    let answer = client.send(&request(Endpoint::Time, account, &[]))?;
    let local_ms = clock.now_ms();
    let time: ServerTime = serde_json::from_slice(&answer.body).map_err(|error| FetchError::Malformed {
        exchange: EXCHANGE.to_owned(),
        endpoint: Endpoint::Time.name().to_owned(),
        reason: error.to_string(),
    })?;
    Ok(ClockOffset::measure(time.server_time, local_ms))
}

/// The request for `endpoint` with `params`, costed for `account`.
fn request(endpoint: Endpoint, account: &str, params: &[(&str, String)]) -> Request {
    Request {
        endpoint: endpoint.name(),
        method: Method::Get,
        path: endpoint.path().to_owned(),
        params: params.iter().map(|(name, value)| ((*name).to_owned(), value.clone())).collect(),
        costs: endpoint.costs(account),
    }
}

/// The ban end (server ms) in a 418 message: "... IP banned until 1700000000000. ...".
fn ban_end_in_message(message: &str) -> Option<i64> {
    let rest = &message[message.find("until ")? + "until ".len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The start of a body that is not Binance's error JSON, for the error message.
fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text: String = text.chars().filter(|c| !c.is_control()).take(120).collect();
    if text.trim().is_empty() { "(empty answer)".to_owned() } else { text.trim().to_owned() }
}

/// One Binance account's API: signed GETs through the shared limiter, with retries.
#[derive(Clone, Debug)]
pub struct BinanceApi {
    client: Arc<Client>,
    protocol: Arc<BinanceProtocol>,
    account: String,
}

impl BinanceApi {
    /// An API handle for account `account` (its label: it names the per-account buckets),
    /// talking to `base_url` (Binance's production API, [`DEFAULT_BASE_URL`], when `None`).
    /// Key and secret are checked here; both blank is allowed for public endpoints only.
    pub fn new(
        base_url: Option<&str>,
        api_key: Secret,
        secret: Secret,
        account: &str,
        limiter: Arc<Limiter>,
        config: ClientConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<BinanceApi, FetchError> {
        let setup = |reason: String| FetchError::Setup { exchange: EXCHANGE.to_owned(), reason };
        if !(api_key.is_blank() && secret.is_blank()) {
            auth::api_key_header(&api_key).map_err(|error| setup(error.to_string()))?;
            auth::signature(&secret, "", "").map_err(|error| setup(error.to_string()))?;
        }
        let protocol =
            Arc::new(BinanceProtocol::new(account, api_key, secret, Arc::clone(&clock), Arc::clone(&limiter)));
        let base_url = base_url.unwrap_or(DEFAULT_BASE_URL);
        let client = Client::new(Arc::clone(&protocol) as Arc<dyn Protocol>, base_url, limiter, config, clock)?;
        Ok(BinanceApi { client: Arc::new(client), protocol, account: account.to_owned() })
    }

    /// A limiter with Binance's buckets declared (shared by every Binance account of a run:
    /// Binance counts `/api` and `/sapi` IP weight per IP).
    pub fn new_limiter(clock: Arc<dyn Clock>) -> Arc<Limiter> {
        let limiter = Limiter::new(clock);
        limiter.declare(API_BUCKET, BucketKind::FixedWindow { limit: 6_000, window: MINUTE });
        limiter.declare(SAPI_IP_BUCKET, BucketKind::FixedWindow { limit: 12_000, window: MINUTE });
        limiter.declare_prefix(SAPI_UID_PREFIX, BucketKind::FixedWindow { limit: 180_000, window: MINUTE });
        limiter.declare_prefix(
            SAPI_UID_1S_PREFIX,
            BucketKind::FixedWindow { limit: 180_000, window: Duration::from_secs(1) },
        );
        Arc::new(limiter)
    }

    /// GETs `endpoint` with `params` (signed when the endpoint is), retrying what can be retried.
    pub fn get(&self, endpoint: Endpoint, params: &[(&str, String)]) -> Result<Answer, FetchError> {
        self.client.send(&request(endpoint, &self.account, params))
    }

    /// Measures Binance's clock now (`GET /api/v3/time`) and uses the offset from then on;
    /// returns it. Without this, the offset is measured on the first -1021.
    pub fn sync_clock(&self) -> Result<ClockOffset, FetchError> {
        let offset = measure_offset(&self.client, &self.account, self.client.clock().as_ref())?;
        self.client.limiter().set_clock_offset_ms(offset.millis());
        Ok(offset)
    }

    /// Binance's time now, as far as we know it (local clock plus the measured offset), in ms.
    pub fn now_ms(&self) -> i64 {
        self.client.limiter().exchange_now_ms()
    }

    /// Sets the `api` bucket from an `exchangeInfo` answer's `rateLimits` (its REQUEST_WEIGHT
    /// entry, any interval including SECOND). Returns whether one was found.
    pub fn set_api_limits_from_exchange_info(&self, body: &[u8]) -> bool {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Info {
            #[serde(default)]
            rate_limits: Vec<RateLimit>,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct RateLimit {
            rate_limit_type: String,
            interval: String,
            interval_num: u64,
            limit: u64,
        }
        let Ok(info) = serde_json::from_slice::<Info>(body) else { return false };
        // Binance lists one REQUEST_WEIGHT limit; should there be several, the first is used.
        for limit in info.rate_limits.iter().filter(|limit| limit.rate_limit_type == "REQUEST_WEIGHT") {
            let unit = match limit.interval.as_str() {
                "SECOND" => 1,
                "MINUTE" => 60,
                "HOUR" => 3_600,
                "DAY" => 86_400,
                _ => continue,
            };
            if limit.interval_num == 0 || limit.limit == 0 {
                continue;
            }
            let window = Duration::from_secs(limit.interval_num.saturating_mul(unit));
            let limiter = self.client.limiter();
            limiter.set_kind(API_BUCKET, BucketKind::FixedWindow { limit: limit.limit, window });
            if window != MINUTE {
                // The wallet (SAPI) budgets are not listed; they count over the same interval
                // as the spot weight (a minute on Binance; less on a simulator that runs its
                // clock faster). Until their own headers say otherwise, assume that interval
                // rather than a minute, so that the first requests of a run do not wait for a
                // window that is not the exchange's.
                limiter.set_kind(SAPI_IP_BUCKET, BucketKind::FixedWindow { limit: 12_000, window });
                let uid = BucketKind::FixedWindow { limit: 180_000, window };
                limiter.declare_prefix(SAPI_UID_PREFIX, uid);
                limiter.set_kind(&format!("{SAPI_UID_PREFIX}{}", self.account), uid);
            }
            return true;
        }
        false
    }

    /// The account label this handle was made for.
    pub fn account(&self) -> &str {
        &self.account
    }

    /// The shared limiter.
    pub fn limiter(&self) -> &Arc<Limiter> {
        self.client.limiter()
    }

    /// The underlying client (base URL, retry policy).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The protocol (signing and judging), e.g. to read the clock offset.
    pub fn protocol(&self) -> &BinanceProtocol {
        &self.protocol
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::http::client::test_server::{Reply, TestServer};
    use crate::http::clock::ManualClock;
    use reqwest::header::{HeaderName, HeaderValue};

    // Demo credentials published in Binance's official docs (reference binance.md §2.3).
    const DEMO_API_KEY: &str = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
    const DEMO_SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
    const NOW_MS: i64 = 1_499_827_319_559;

    fn fast() -> ClientConfig {
        ClientConfig::for_tests(Duration::from_millis(500), 4)
    }

    fn api_on(url: &str, clock: Arc<ManualClock>) -> BinanceApi {
        let clock: Arc<dyn Clock> = clock;
        let limiter = BinanceApi::new_limiter(Arc::clone(&clock));
        BinanceApi::new(Some(url), Secret::new(DEMO_API_KEY), Secret::new(DEMO_SECRET), "main", limiter, fast(), clock)
            .unwrap()
    }

    fn protocol(clock: Arc<ManualClock>) -> BinanceProtocol {
        let clock: Arc<dyn Clock> = clock;
        let limiter = BinanceApi::new_limiter(Arc::clone(&clock));
        BinanceProtocol::new("main", Secret::new(DEMO_API_KEY), Secret::new(DEMO_SECRET), clock, limiter)
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(HeaderName::from_bytes(name.as_bytes()).unwrap(), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn judge(status: u16, pairs: &[(&str, &str)], body: &str) -> Verdict {
        let protocol = protocol(Arc::new(ManualClock::new(NOW_MS)));
        protocol.judge(&request(Endpoint::MyTrades, "main", &[]), status, &headers(pairs), body.as_bytes())
    }

    #[test]
    fn endpoint_table_matches_the_reference() {
        assert_eq!(Endpoint::MyTrades.costs("main"), vec![("api".to_owned(), 20)]);
        assert_eq!(Endpoint::Account.costs("main"), vec![("api".to_owned(), 20)]);
        assert_eq!(Endpoint::ExchangeInfo.costs("main"), vec![("api".to_owned(), 20)]);
        assert_eq!(Endpoint::Time.costs("main"), vec![("api".to_owned(), 1)]);
        assert_eq!(Endpoint::Klines.costs("main"), vec![("api".to_owned(), 2)]);
        assert_eq!(Endpoint::FiatOrders.costs("main"), vec![("sapi_uid:main".to_owned(), 90_000)]);
        assert_eq!(Endpoint::Convert.costs("b"), vec![("sapi_uid:b".to_owned(), 3_000)]);
        assert_eq!(Endpoint::Withdrawals.costs("main"), vec![("sapi_uid_1s:main".to_owned(), 18_000)]);
        for (endpoint, weight) in [
            (Endpoint::Deposits, 1),
            (Endpoint::FiatPayments, 1),
            (Endpoint::Dust, 1),
            (Endpoint::ApiRestrictions, 1),
            (Endpoint::Dividends, 10),
            (Endpoint::EarnFlexible, 150),
            (Endpoint::EarnLocked, 150),
        ] {
            assert_eq!(endpoint.costs("main"), vec![("sapi_ip".to_owned(), weight)], "{endpoint:?}");
        }
        let public: Vec<_> = Endpoint::ALL.into_iter().filter(|endpoint| !endpoint.signed()).collect();
        assert_eq!(public, [Endpoint::Time, Endpoint::ExchangeInfo, Endpoint::Klines]);
        for endpoint in Endpoint::ALL {
            assert_eq!(Endpoint::from_name(endpoint.name()), Some(endpoint));
            assert_eq!(Endpoint::from_path(endpoint.path()), Some(endpoint));
        }
    }

    /// The signed query is the one auth.rs computes (reference §2.3 derived myTrades vector):
    /// recvWindow and timestamp after the caller's parameters, the signature last.
    #[test]
    fn signature_is_added_last_and_equals_auth_rs() {
        let protocol = protocol(Arc::new(ManualClock::new(NOW_MS)));
        let request = request(
            Endpoint::MyTrades,
            "main",
            &[("symbol", "BNBBTC".into()), ("fromId", "0".into()), ("limit", "1000".into())],
        );
        let prepared = protocol.prepare(&request).unwrap();
        let expected = auth::signed_query(
            &Secret::new(DEMO_SECRET),
            &[("symbol", "BNBBTC"), ("fromId", "0"), ("limit", "1000")],
            Some(RecvWindow::from_millis(10_000).unwrap()),
            NOW_MS,
        )
        .unwrap();
        assert_eq!(prepared.query, expected);
        let (signed, signature) = prepared.query.rsplit_once("&signature=").unwrap();
        assert_eq!(signed, "symbol=BNBBTC&fromId=0&limit=1000&recvWindow=10000&timestamp=1499827319559");
        assert_eq!(signature, auth::signature(&Secret::new(DEMO_SECRET), signed, "").unwrap());
        assert_eq!(prepared.headers.len(), 1);
        assert_eq!(prepared.headers[0].0, "X-MBX-APIKEY");
        assert_eq!(prepared.headers[0].1.expose(), DEMO_API_KEY);
        assert!(prepared.body.is_none());
    }

    #[test]
    fn public_endpoints_are_not_signed_and_carry_no_key() {
        let protocol = protocol(Arc::new(ManualClock::new(NOW_MS)));
        let request = request(Endpoint::Klines, "main", &[("symbol", "BNBBTC".into()), ("interval", "1m".into())]);
        let prepared = protocol.prepare(&request).unwrap();
        assert_eq!(prepared.query, "symbol=BNBBTC&interval=1m");
        assert!(prepared.headers.is_empty());
    }

    #[test]
    fn timestamps_follow_the_measured_offset() {
        let protocol = protocol(Arc::new(ManualClock::new(NOW_MS - 2_500)));
        protocol.limiter.set_clock_offset_ms(2_500);
        let prepared = protocol.prepare(&request(Endpoint::Account, "main", &[])).unwrap();
        assert!(
            prepared.query.starts_with("recvWindow=10000&timestamp=1499827319559&signature="),
            "{}",
            prepared.query
        );
    }

    #[test]
    fn answers_are_judged_per_the_reference() {
        assert_eq!(judge(200, &[], "[]"), Verdict::Ok);
        assert!(matches!(judge(200, &[], "[{\"id\":1},"), Verdict::Retry { .. }));
        assert_eq!(
            judge(400, &[], r#"{"code":-1021,"msg":"Timestamp for this request is outside of the recvWindow."}"#),
            Verdict::ClockSkew
        );
        assert_eq!(
            judge(429, &[("Retry-After", "3")], r#"{"code":-1003,"msg":"Too much request weight used"}"#),
            Verdict::RateLimited { retry_after: Some(Duration::from_secs(3)) }
        );
        assert_eq!(
            judge(418, &[("Retry-After", "600")], r#"{"code":-1003,"msg":"Way too much request weight used"}"#),
            Verdict::Banned { until_ms: NOW_MS + 600_000 }
        );
        // No Retry-After: the end time in the message (server time), else the shortest ban.
        let until = NOW_MS + 3_600_000;
        assert_eq!(
            judge(
                418,
                &[],
                &format!(
                    r#"{{"code":-1003,"msg":"Way too much request weight used; IP banned until {until}. Please use WebSocket Streams."}}"#
                )
            ),
            Verdict::Banned { until_ms: until }
        );
        assert_eq!(judge(418, &[], "{}"), Verdict::Banned { until_ms: NOW_MS + 120_000 });
        for (status, body) in [
            (500, "<html>oops</html>"),
            (503, r#"{"code":-1007,"msg":"Timeout waiting for response from backend server."}"#),
            (400, r#"{"code":-1000,"msg":"An unknown error occurred while processing the request."}"#),
        ] {
            assert!(matches!(judge(status, &[], body), Verdict::Retry { .. }), "{status} {body}");
        }
        match judge(400, &[], r#"{"code":-1121,"msg":"Invalid symbol."}"#) {
            Verdict::Fail(FetchError::Api { status, code, message, endpoint, .. }) => {
                assert_eq!(
                    (status, code.as_str(), message.as_str(), endpoint.as_str()),
                    (400, "-1121", "Invalid symbol.", "myTrades")
                );
            }
            other => panic!("{other:?}"),
        }
        match judge(403, &[], "<html>Forbidden</html>") {
            Verdict::Fail(FetchError::Api { status: 403, message, .. }) => {
                assert!(message.contains("firewall"), "{message}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn key_problems_are_auth_errors_that_name_the_problem() {
        let cases = [
            (401, r#"{"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."}"#, "IP is not whitelisted"),
            (401, r#"{"code":-2014,"msg":"API-key format invalid."}"#, "format is invalid"),
            (400, r#"{"code":-1022,"msg":"Signature for this request is not valid."}"#, "secret does not belong"),
            (401, "", "wrong API key or secret, or this machine's IP is not whitelisted for the key"),
        ];
        for (status, body, words) in cases {
            match judge(status, &[], body) {
                Verdict::Fail(error @ FetchError::Auth { .. }) => {
                    let text = error.to_string();
                    assert!(text.contains(words), "{text}");
                    assert!(text.starts_with("binance refused the API key on myTrades: "), "{text}");
                    assert!(!text.contains(&DEMO_SECRET[..8]) && !text.contains(&DEMO_API_KEY[..8]));
                }
                other => panic!("{status} {body}: {other:?}"),
            }
        }
    }

    #[test]
    fn usage_headers_name_their_bucket_and_window() {
        let protocol = protocol(Arc::new(ManualClock::new(NOW_MS)));
        let trades = request(Endpoint::MyTrades, "main", &[]);
        let usages = protocol.observe(
            &trades,
            &headers(&[("X-MBX-USED-WEIGHT", "40"), ("X-MBX-USED-WEIGHT-1M", "40"), ("Content-Length", "2")]),
        );
        assert_eq!(usages, vec![Usage { bucket: "api".into(), used: 40, window: Some(MINUTE) }]);

        // Scaled simulator: per-minute budgets per 5 seconds.
        let deposits = request(Endpoint::Deposits, "main", &[]);
        let usages = protocol.observe(&deposits, &headers(&[("x-sapi-used-ip-weight-5s", "17")]));
        assert_eq!(usages, vec![Usage { bucket: "sapi_ip".into(), used: 17, window: Some(Duration::from_secs(5)) }]);

        let fiat = request(Endpoint::FiatOrders, "main", &[]);
        let usages = protocol.observe(&fiat, &headers(&[("X-SAPI-USED-UID-WEIGHT-1M", "90000")]));
        assert_eq!(usages, vec![Usage { bucket: "sapi_uid:main".into(), used: 90_000, window: Some(MINUTE) }]);

        let withdrawals = request(Endpoint::Withdrawals, "main", &[]);
        let usages = protocol.observe(&withdrawals, &headers(&[("X-SAPI-USED-UID-WEIGHT-1S", "36000")]));
        assert_eq!(
            usages,
            vec![Usage { bucket: "sapi_uid_1s:main".into(), used: 36_000, window: Some(Duration::from_secs(1)) }]
        );

        // Garbage is ignored.
        let usages =
            protocol.observe(&trades, &headers(&[("X-MBX-USED-WEIGHT-1X", "4"), ("X-MBX-USED-WEIGHT-1M", "x")]));
        assert!(usages.is_empty());
    }

    #[test]
    fn intervals_read_as_durations() {
        assert_eq!(parse_interval("1M"), Some(MINUTE));
        assert_eq!(parse_interval("5S"), Some(Duration::from_secs(5)));
        assert_eq!(parse_interval("1h"), Some(Duration::from_secs(3_600)));
        assert_eq!(parse_interval("1D"), Some(Duration::from_secs(86_400)));
        for bad in ["", "M", "0M", "1W", "-1M", "1é"] {
            assert_eq!(parse_interval(bad), None, "{bad}");
        }
    }

    /// A -1021 makes the client ask /api/v3/time once, then retry with the corrected timestamp.
    #[test]
    fn clock_skew_triggers_one_time_request_and_a_corrected_retry() {
        const SERVER_MS: i64 = NOW_MS + 3_600_000; // the server is an hour ahead of us
        let server = TestServer::start(|_, seen| {
            if seen.path == "/api/v3/time" {
                return Reply::json(200, &format!(r#"{{"serverTime":{SERVER_MS}}}"#));
            }
            let timestamp: i64 = seen.param("timestamp").unwrap().parse().unwrap();
            if (SERVER_MS - timestamp).abs() > 1_000 {
                return Reply::json(
                    400,
                    r#"{"code":-1021,"msg":"Timestamp for this request is outside of the recvWindow."}"#,
                );
            }
            Reply::json(200, r#"{"balances":[]}"#)
        });
        let api = api_on(&server.url(), Arc::new(ManualClock::new(NOW_MS)));
        let answer = api.get(Endpoint::Account, &[]).unwrap();
        assert_eq!(answer.attempts, 2);
        let paths: Vec<String> = server.seen().iter().map(|seen| seen.path.clone()).collect();
        assert_eq!(paths, ["/api/v3/account", "/api/v3/time", "/api/v3/account"]);
        let retried = &server.seen()[2];
        assert_eq!(retried.param("timestamp"), Some(SERVER_MS.to_string().as_str()));
        assert_eq!(api.protocol().clock_offset().millis(), 3_600_000);
        assert_eq!(api.now_ms(), SERVER_MS);

        // The offset is reused: the next request needs no measurement.
        api.get(Endpoint::Account, &[]).unwrap();
        assert_eq!(server.seen().len(), 4);
    }

    #[test]
    fn persistent_clock_skew_resyncs_only_once() {
        let server = TestServer::start(|_, seen| {
            if seen.path == "/api/v3/time" {
                return Reply::json(200, r#"{"serverTime":1}"#);
            }
            Reply::json(400, r#"{"code":-1021,"msg":"Timestamp for this request is outside of the recvWindow."}"#)
        });
        let api = api_on(&server.url(), Arc::new(ManualClock::new(NOW_MS)));
        match api.get(Endpoint::MyTrades, &[("symbol", "BNBBTC".into())]).unwrap_err() {
            FetchError::GaveUp { attempts: 4, last, .. } => assert!(last.contains("after measuring"), "{last}"),
            other => panic!("{other:?}"),
        }
        let times = server.seen().iter().filter(|seen| seen.path == "/api/v3/time").count();
        assert_eq!(times, 1);
    }

    #[test]
    fn signed_get_on_the_wire_carries_key_and_signature() {
        let seen_key = Arc::new(Mutex::new(None));
        let seen_in = Arc::clone(&seen_key);
        let server = TestServer::start(move |_, seen| {
            *seen_in.lock().unwrap() = seen.header("X-MBX-APIKEY").map(str::to_owned);
            Reply::json_with(200, &[("X-MBX-USED-WEIGHT-1M", "120"), ("X-MBX-USED-WEIGHT", "120")], "[]")
        });
        let api = api_on(&server.url(), Arc::new(ManualClock::new(NOW_MS)));
        api.get(Endpoint::MyTrades, &[("symbol", "BNBBTC".into()), ("fromId", "0".into()), ("limit", "1000".into())])
            .unwrap();
        let seen = &server.seen()[0];
        assert_eq!(seen.path, "/api/v3/myTrades");
        // recvWindow 10000 (not the derived vector's 5000), so check against auth.rs directly.
        let (signed, signature) = seen.query.rsplit_once("&signature=").unwrap();
        assert_eq!(signed, "symbol=BNBBTC&fromId=0&limit=1000&recvWindow=10000&timestamp=1499827319559");
        assert_eq!(signature, auth::signature(&Secret::new(DEMO_SECRET), signed, "").unwrap());
        assert_eq!(seen_key.lock().unwrap().as_deref(), Some(DEMO_API_KEY));
        // The usage header raised the shared api bucket to 120 (we counted 20).
        assert_eq!(api.limiter().stats()["api"].corrected, 100);
    }

    #[test]
    fn wrong_secret_gives_an_auth_error_without_retry_or_secret() {
        let server = TestServer::start(|_, _| {
            Reply::json(400, r#"{"code":-1022,"msg":"Signature for this request is not valid."}"#)
        });
        let api = api_on(&server.url(), Arc::new(ManualClock::new(NOW_MS)));
        let error = api.get(Endpoint::Deposits, &[]).unwrap_err();
        assert!(error.is_auth());
        assert_eq!(server.seen().len(), 1);
        for text in [error.to_string(), format!("{error:?}"), format!("{api:?}")] {
            assert!(!text.contains(&DEMO_SECRET[..8]), "{text}");
            assert!(!text.contains(&DEMO_API_KEY[..8]), "{text}");
            assert!(!text.contains("signature="), "{text}");
        }
    }

    #[test]
    fn exchange_info_sets_the_api_bucket_including_second_intervals() {
        let api = api_on("http://127.0.0.1:9", Arc::new(ManualClock::new(NOW_MS)));
        let scaled = br#"{"timezone":"UTC","rateLimits":[
            {"rateLimitType":"REQUEST_WEIGHT","interval":"SECOND","intervalNum":5,"limit":6000},
            {"rateLimitType":"RAW_REQUESTS","interval":"MINUTE","intervalNum":5,"limit":61000}],"symbols":[]}"#;
        assert!(api.set_api_limits_from_exchange_info(scaled));
        assert_eq!(
            api.limiter().kind("api"),
            Some(BucketKind::FixedWindow { limit: 6_000, window: Duration::from_secs(5) })
        );
        let real =
            br#"{"rateLimits":[{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":1200}]}"#;
        assert!(api.set_api_limits_from_exchange_info(real));
        assert_eq!(api.limiter().kind("api"), Some(BucketKind::FixedWindow { limit: 1_200, window: MINUTE }));
        assert!(!api.set_api_limits_from_exchange_info(b"{}"));
        assert!(!api.set_api_limits_from_exchange_info(b"not json"));
    }

    #[test]
    fn new_limiter_declares_binance_buckets() {
        let limiter = BinanceApi::new_limiter(Arc::new(ManualClock::new(0)));
        assert_eq!(limiter.kind("api"), Some(BucketKind::FixedWindow { limit: 6_000, window: MINUTE }));
        assert_eq!(limiter.kind("sapi_ip"), Some(BucketKind::FixedWindow { limit: 12_000, window: MINUTE }));
        // Per-account buckets appear with their first request.
        limiter.acquire(&[("sapi_uid:x", 90_000), ("sapi_uid_1s:x", 18_000)]);
        assert_eq!(limiter.kind("sapi_uid:x"), Some(BucketKind::FixedWindow { limit: 180_000, window: MINUTE }));
        assert_eq!(
            limiter.kind("sapi_uid_1s:x"),
            Some(BucketKind::FixedWindow { limit: 180_000, window: Duration::from_secs(1) })
        );
    }

    #[test]
    fn bad_credentials_are_refused_before_any_request() {
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(0));
        let limiter = BinanceApi::new_limiter(Arc::clone(&clock));
        let error = BinanceApi::new(
            None,
            Secret::new(DEMO_API_KEY),
            Secret::new(format!("{DEMO_SECRET}\n")),
            "main",
            Arc::clone(&limiter),
            fast(),
            Arc::clone(&clock),
        )
        .unwrap_err();
        assert!(matches!(error, FetchError::Setup { .. }), "{error:?}");
        assert!(!error.to_string().contains(&DEMO_SECRET[..8]));
        // Both blank: a public-only handle (klines, exchangeInfo).
        let public = BinanceApi::new(None, Secret::new(""), Secret::new(""), "public", limiter, fast(), clock).unwrap();
        assert_eq!(public.client().base_url(), DEFAULT_BASE_URL);
    }

    /// Against the simulator with budgets scaled to one second: threads hammering the API
    /// keep the `/api` budget busy (≥ 85 % of every full window) and never get a 429 or 418.
    #[test]
    fn simulator_budget_is_kept_busy_without_a_single_429() {
        use crate::binance::sim::{self, Limits, SimConfig};
        let mut config = SimConfig::demo(7);
        config.limits = Limits::Scaled { window: Duration::from_secs(1) };
        let simulator = sim::start(config).unwrap();
        let clock: Arc<dyn Clock> = Arc::new(crate::http::SystemClock);
        let limiter = BinanceApi::new_limiter(Arc::clone(&clock));
        let api = BinanceApi::new(
            Some(&simulator.base_url()),
            Secret::new(DEMO_API_KEY),
            Secret::new(DEMO_SECRET),
            "main",
            limiter,
            ClientConfig::default(),
            clock,
        )
        .unwrap();
        let info = api.get(Endpoint::ExchangeInfo, &[]).unwrap();
        assert!(api.set_api_limits_from_exchange_info(&info.body));
        let deadline = std::time::Instant::now() + Duration::from_millis(3_200);
        let threads: Vec<_> = (0..6)
            .map(|_| {
                let api = api.clone();
                std::thread::spawn(move || {
                    while std::time::Instant::now() < deadline {
                        api.get(Endpoint::Account, &[]).unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let stats = simulator.stats();
        assert_eq!((stats.rate_limited, stats.banned), (0, 0), "{stats:?}");
        let budget = stats.buckets.iter().find(|bucket| bucket.name == "api").unwrap();
        let used: Vec<u64> = budget.used.values().copied().collect();
        // Full windows only: the first and last are cut by the start and the deadline.
        assert!(used.len() >= 3, "{used:?}");
        for &weight in &used[1..used.len() - 1] {
            assert!(weight * 100 >= budget.limit * 85, "{used:?} of {}", budget.limit);
            assert!(weight <= budget.limit);
        }
    }

    #[test]
    fn scaled_usage_headers_teach_the_sapi_window() {
        let server = TestServer::start(|_, _| Reply::json_with(200, &[("X-SAPI-USED-IP-WEIGHT-5S", "11000")], "[]"));
        let clock = Arc::new(ManualClock::new(1_700_000_000_000));
        let api = api_on(&server.url(), Arc::clone(&clock));
        api.get(Endpoint::Deposits, &[]).unwrap();
        assert_eq!(
            api.limiter().kind("sapi_ip"),
            Some(BucketKind::FixedWindow { limit: 12_000, window: Duration::from_secs(5) })
        );
        // 11000 used of 12000: ten earn requests (1500) do not fit before the next 5 s window.
        let grant = api.limiter().acquire(&[("sapi_ip", 1_500)]);
        assert!(grant.waited > Duration::ZERO && grant.waited <= Duration::from_secs(5), "{:?}", grant.waited);
    }
}

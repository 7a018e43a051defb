//! Binance's REST API on the HTTP kit: [`BinanceApi`], one account's signed requests.
//!
//! The parts live in their own files: [`Endpoint`] (`api/endpoints.rs`) lists every endpoint
//! the adapter uses with its path, whether it is SIGNED, and what it costs in Binance's
//! rate-limit buckets (<https://developers.binance.com/docs/binance-spot-api-docs/rest-api/limits>):
//! `api` (REQUEST_WEIGHT, 6000 per minute per IP, shared by every account), `api_raw`
//! (RAW_REQUESTS: every `/api` request counts one, 61,000 per 5 minutes per IP, whatever its
//! weight; <https://developers.binance.com/docs/binance-spot-api-docs/enums#rate-limiters-ratelimittype>), `sapi_ip` (12000
//! per minute per IP, shared), `sapi_uid:<account>` (180000 per minute per account) and
//! `sapi_uid_1s:<account>` (180000 per second per account; withdraw history only).
//! [`BinanceProtocol`] (`api/protocol.rs`) signs with HMAC-SHA256 ([`super::auth`]) using a
//! timestamp from the clock plus the exchange clock offset (kept in the shared [`Limiter`], so
//! all accounts reuse one measurement; measured with `GET /api/v3/time` when Binance answers
//! -1021) and `recvWindow` 10000. It judges answers per Binance's error codes
//! (<https://developers.binance.com/docs/binance-spot-api-docs/errors>): 401, -2015, -2014,
//! -1022 and -1002 are key problems ([`FetchError::Auth`]); -1021 is clock skew; 429 / -1003
//! is a rate limit; 418 a ban; 5xx, -1000, -1001 and -1007 are retried; anything else is a
//! [`FetchError::Api`] with Binance's code and message. The usage headers
//! `X-MBX-USED-WEIGHT-<n><S|M|H|D>`, `X-SAPI-USED-IP-WEIGHT-…` and `X-SAPI-USED-UID-WEIGHT-…`
//! feed the limiter, including the window length their suffix tells (the simulator in scaled
//! mode says `-5S`).
//!
//! [`BinanceApi::at`] runs the same client for another exchange speaking Binance's API (a
//! [`Venue`]: Binance.US), with that exchange's host, name in errors, weights and `/api` budget.
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::auth::{self, ClockOffset};
use super::venue::{self, Venue};
use crate::Secret;
use crate::http::answer;
use crate::http::client::{Client, ClientConfig, Method, Protocol, Request};
use crate::http::{BucketKind, Clock, FetchError, Limiter, LimiterConfig};

mod endpoints;
mod protocol;

pub use endpoints::{API_BUCKET, Endpoint, RAW_BUCKET, SAPI_IP_BUCKET, SAPI_UID_1S_PREFIX, SAPI_UID_PREFIX};
pub use protocol::{BinanceProtocol, parse_interval};

pub use crate::http::Answer;

/// The exchange's name in errors and logs.
const EXCHANGE: &str = "binance";

/// Binance's production API.
pub const DEFAULT_BASE_URL: &str = "https://api.binance.com";

/// The `recvWindow` sent with every signed request, in ms (slow links; the maximum is 60000).
pub const RECV_WINDOW_MS: u32 = 10_000;

const MINUTE: Duration = Duration::from_secs(60);

/// Asks `GET /api/v3/time` and measures the offset on arrival of the answer.
fn measure_offset(venue: &Venue, client: &Client, account: &str, clock: &dyn Clock) -> Result<ClockOffset, FetchError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct ServerTime {
        server_time: i64,
    }
    let answer = client.send(&request_at(venue, Endpoint::Time, account, &[]))?;
    let local_ms = clock.now_ms();
    let time: ServerTime = parse(Endpoint::Time, &answer.body)?;
    Ok(ClockOffset::measure(time.server_time, local_ms))
}

/// An answer that is not what `endpoint` documents.
pub fn malformed(endpoint: Endpoint, reason: String) -> FetchError {
    answer::malformed(EXCHANGE, endpoint.name(), reason)
}

/// `body` read as `T`, or [`malformed`] saying why not.
pub fn parse<'a, T: Deserialize<'a>>(endpoint: Endpoint, body: &'a [u8]) -> Result<T, FetchError> {
    answer::parse(EXCHANGE, endpoint.name(), body)
}

/// The request for `endpoint` with `params`, costed for `account` at Binance's weights.
#[cfg(test)]
fn request(endpoint: Endpoint, account: &str, params: &[(&str, String)]) -> Request {
    request_at(&venue::BINANCE, endpoint, account, params)
}

/// The request for `endpoint` with `params`, costed for `account` at `venue`'s weights.
fn request_at(venue: &Venue, endpoint: Endpoint, account: &str, params: &[(&str, String)]) -> Request {
    Request {
        endpoint: endpoint.name(),
        method: Method::Get,
        path: endpoint.path().to_owned(),
        params: params.iter().map(|(name, value)| ((*name).to_owned(), value.clone())).collect(),
        costs: endpoint.costs_at(account, venue.weight_of(endpoint)),
    }
}

/// One trading pair of `exchangeInfo`, in Binance's asset codes.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SymbolInfo {
    /// The pair's symbol (`BNBBTC`).
    pub symbol: String,
    /// The asset bought and sold (`BNB`).
    pub base_asset: String,
    /// The asset it is priced in (`BTC`).
    pub quote_asset: String,
}

/// One Binance account's API: signed GETs through the shared limiter, with retries.
#[derive(Clone, Debug)]
pub struct BinanceApi {
    client: Arc<Client>,
    protocol: Arc<BinanceProtocol>,
    account: String,
    venue: &'static Venue,
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
        BinanceApi::at(&venue::BINANCE, base_url, api_key, secret, account, limiter, config, clock)
    }

    /// [`BinanceApi::new`] for another exchange speaking Binance's API: `venue` says its
    /// production host (used when `base_url` is `None`), its name in errors and its weights.
    #[allow(clippy::too_many_arguments)]
    pub fn at(
        venue: &'static Venue,
        base_url: Option<&str>,
        api_key: Secret,
        secret: Secret,
        account: &str,
        limiter: Arc<Limiter>,
        config: ClientConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<BinanceApi, FetchError> {
        let setup = |reason: String| FetchError::Setup { exchange: venue.name.to_owned(), reason };
        if !(api_key.is_blank() && secret.is_blank()) {
            auth::api_key_header(&api_key).map_err(|error| setup(error.to_string()))?;
            auth::signature(&secret, "", "").map_err(|error| setup(error.to_string()))?;
        }
        let protocol = Arc::new(
            BinanceProtocol::new(account, api_key, secret, Arc::clone(&clock), Arc::clone(&limiter)).for_venue(venue),
        );
        let base_url = base_url.unwrap_or(venue.base_url);
        let client = Client::new(Arc::clone(&protocol) as Arc<dyn Protocol>, base_url, limiter, config, clock)?;
        Ok(BinanceApi { client: Arc::new(client), protocol, account: account.to_owned(), venue })
    }

    /// A limiter with Binance's buckets declared (shared by every Binance account of a run:
    /// Binance counts `/api` and `/sapi` IP weight per IP).
    pub fn new_limiter(clock: Arc<dyn Clock>) -> Arc<Limiter> {
        BinanceApi::new_limiter_at(&venue::BINANCE, clock)
    }

    /// [`BinanceApi::new_limiter`] with `venue`'s `/api` budgets.
    pub fn new_limiter_at(venue: &Venue, clock: Arc<dyn Clock>) -> Arc<Limiter> {
        BinanceApi::new_limiter_tuned(venue, clock, LimiterConfig::default())
    }

    /// [`BinanceApi::new_limiter_at`] with explicit limiter tuning (a test on a loaded machine
    /// widens the guard at window edges).
    pub fn new_limiter_tuned(venue: &Venue, clock: Arc<dyn Clock>, config: LimiterConfig) -> Arc<Limiter> {
        let limiter = Limiter::with_config(clock, config);
        limiter.declare(API_BUCKET, BucketKind::FixedWindow { limit: venue.api_weight_per_minute, window: MINUTE });
        limiter.declare(
            RAW_BUCKET,
            BucketKind::FixedWindow { limit: venue.raw_requests_per_5_minutes, window: 5 * MINUTE },
        );
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
        self.client.send(&request_at(self.venue, endpoint, &self.account, params))
    }

    /// Measures Binance's clock now (`GET /api/v3/time`) and uses the offset from then on;
    /// returns it. Without this, the offset is measured on the first -1021.
    pub fn sync_clock(&self) -> Result<ClockOffset, FetchError> {
        let offset = measure_offset(self.venue, &self.client, &self.account, self.client.clock().as_ref())?;
        self.client.limiter().set_clock_offset_ms(offset.millis());
        Ok(offset)
    }

    /// Binance's time now, as far as we know it (local clock plus the measured offset), in ms.
    pub fn now_ms(&self) -> i64 {
        self.client.limiter().exchange_now_ms()
    }

    /// Sets the `api` bucket from an `exchangeInfo` answer's `rateLimits` (its REQUEST_WEIGHT
    /// entry, any interval including SECOND), and the `api_raw` bucket from its RAW_REQUESTS
    /// entry. Returns whether a REQUEST_WEIGHT entry was found.
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
        let window_of = |limit: &RateLimit| {
            let unit = match limit.interval.as_str() {
                "SECOND" => 1,
                "MINUTE" => 60,
                "HOUR" => 3_600,
                "DAY" => 86_400,
                _ => return None,
            };
            if limit.interval_num == 0 || limit.limit == 0 {
                return None;
            }
            Some(Duration::from_secs(limit.interval_num.saturating_mul(unit)))
        };
        let limiter = self.client.limiter();
        // Binance lists one RAW_REQUESTS limit; should there be several, the first is used.
        let raw = info.rate_limits.iter().filter(|limit| limit.rate_limit_type == "RAW_REQUESTS");
        if let Some((limit, window)) = raw.filter_map(|limit| Some((limit.limit, window_of(limit)?))).next() {
            limiter.set_kind(RAW_BUCKET, BucketKind::FixedWindow { limit, window });
        }
        // Binance lists one REQUEST_WEIGHT limit; should there be several, the first is used.
        let weight = info.rate_limits.iter().filter(|limit| limit.rate_limit_type == "REQUEST_WEIGHT");
        let Some((limit, window)) = weight.filter_map(|limit| Some((limit.limit, window_of(limit)?))).next() else {
            return false;
        };
        limiter.set_kind(API_BUCKET, BucketKind::FixedWindow { limit, window });
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
        true
    }

    /// Every symbol `exchangeInfo` lists (trading, halted and delisted `BREAK` ones alike),
    /// with the attempts the answer took. The answer also says the real request-weight
    /// budget (and a simulator's window): the limiter is set from it on the way.
    pub fn symbols(&self) -> Result<(Vec<SymbolInfo>, u32), FetchError> {
        #[derive(Deserialize)]
        struct Info {
            symbols: Vec<SymbolInfo>,
        }
        let answer = self.get(Endpoint::ExchangeInfo, &[])?;
        self.set_api_limits_from_exchange_info(&answer.body);
        let info: Info = parse(Endpoint::ExchangeInfo, &answer.body)?;
        Ok((info.symbols, answer.attempts))
    }

    /// The exchange this handle speaks to.
    pub fn venue(&self) -> &'static Venue {
        self.venue
    }

    crate::http::handle::api_handle_accessors!(BinanceProtocol);
}

#[cfg(test)]
mod tests;

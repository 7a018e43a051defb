//! What differs between the exchanges that speak Binance's API: [`Venue`].
//!
//! Binance (binance.com) and Binance.US (a separate company, separate keys) share the spot API's
//! shape: the same signing, the same `/api/v3` endpoints and answers, the same error codes. They
//! differ in host, in which wallet (`/sapi`) history endpoints exist, in request weights and in
//! budgets. A [`Venue`] says those differences; the client, the adapter and the simulator of
//! this folder read them from it, so the other venue's folder holds only its table.

use super::api::Endpoint;

/// One exchange that speaks Binance's API.
#[derive(Debug)]
pub struct Venue {
    /// Its name in errors, logs and the ledger (`binance`, `binanceus`).
    pub name: &'static str,
    /// Its name in prose (`Binance`, `Binance.US`).
    pub title: &'static str,
    /// Its production API.
    pub base_url: &'static str,
    /// The history streams walked by time besides the per-pair `myTrades` ones: (endpoint
    /// name, scope), every one an endpoint this venue documents.
    pub streams: &'static [(&'static str, &'static str)],
    /// The `/api` REQUEST_WEIGHT budget per minute (until `exchangeInfo` says otherwise).
    pub api_weight_per_minute: u64,
    /// The `/api` RAW_REQUESTS budget per five minutes (until `exchangeInfo` says otherwise).
    pub raw_requests_per_5_minutes: u64,
    /// The weight of one request to `endpoint` where it differs from Binance's (`None`: as on
    /// binance.com).
    pub weight: fn(Endpoint) -> Option<u64>,
    /// Where this venue's walks through time begin (its launch, ms): no record can be older.
    pub launch_ms: i64,
    /// What a sync of this venue does not fetch, and how to get it, said at the end of a sync
    /// under the stream named first.
    pub not_fetched: (&'static str, &'static str),
}

impl Venue {
    /// The weight of one request to `endpoint` on this venue.
    pub fn weight_of(&self, endpoint: Endpoint) -> u64 {
        (self.weight)(endpoint).unwrap_or_else(|| endpoint.weight())
    }

    /// Whether this venue serves `endpoint` (the ones every venue has, and its streams').
    pub fn serves(&self, endpoint: Endpoint) -> bool {
        matches!(
            endpoint,
            Endpoint::Time
                | Endpoint::ExchangeInfo
                | Endpoint::Account
                | Endpoint::ApiRestrictions
                | Endpoint::MyTrades
                | Endpoint::Klines
        ) || self.streams.iter().any(|(name, _)| *name == endpoint.name())
    }
}

/// binance.com.
pub static BINANCE: Venue = Venue {
    name: "binance",
    title: "Binance",
    base_url: super::api::DEFAULT_BASE_URL,
    streams: &[
        ("deposits", ""),
        ("withdrawals", ""),
        ("fiatOrders", "deposit"),
        ("fiatOrders", "withdraw"),
        ("fiatPayments", "buy"),
        ("fiatPayments", "sell"),
        ("convert", ""),
        ("dust", ""),
        ("dividends", ""),
        ("earnFlexible", ""),
        ("earnLocked", ""),
    ],
    api_weight_per_minute: 6_000,
    raw_requests_per_5_minutes: 61_000,
    weight: |_| None,
    launch_ms: super::adapter::LAUNCH_MS,
    not_fetched: ("dividends", super::adapter::NOT_FETCHED),
};

//! The HTTP kit every exchange client uses: signed requests, retries, the limiter, the clock.
//!
//! An exchange plugs in through [`Protocol`](client::Protocol) (how to sign a request and
//! how to read its answer); the [`Client`](client::Client) does the rest the same way for
//! every exchange: it waits for the [`Limiter`](limiter::Limiter), sends, retries with
//! backoff and jitter, honours `Retry-After`, and never lets a secret reach an error.
//! Time comes from a [`Clock`](clock::Clock), so tests run the waits instantly.

pub mod answer;
pub mod client;
pub mod clock;
mod error;
pub mod limiter;
pub mod query;

pub use client::{
    Answer, Client, ClientConfig, Method, Prepared, Protocol, Request, Usage, Verdict, backoff_delay, encode_query,
    parse_retry_after, retry_after,
};
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::FetchError;
pub use limiter::{BucketKind, BucketStats, Grant, Limiter, LimiterConfig};
pub use query::{decode_pairs, percent_decode};

/// Whether `url`'s host is a loopback address (127.0.0.0/8, `::1`, `localhost`): a server on
/// this machine, such as a bundled simulator. Text that is no URL is not.
pub fn is_loopback_url(url: &str) -> bool {
    let Some(host) = reqwest::Url::parse(url).ok().and_then(|url| url.host_str().map(str::to_owned)) else {
        return false;
    };
    match host.trim_start_matches('[').trim_end_matches(']').parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    }
}

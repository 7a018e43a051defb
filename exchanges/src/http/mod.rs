//! The HTTP kit every exchange client uses: signed requests, retries, the limiter, the clock.
//!
//! An exchange plugs in through [`Protocol`](client::Protocol) (how to sign a request and
//! how to read its answer); the [`Client`](client::Client) does the rest the same way for
//! every exchange: it waits for the [`Limiter`](limiter::Limiter), sends, retries with
//! backoff and jitter, honours `Retry-After`, and never lets a secret reach an error.
//! Time comes from a [`Clock`](clock::Clock), so tests run the waits instantly.

pub mod answer;
pub mod budget;
pub mod client;
pub mod clock;
mod error;
pub(crate) mod handle;
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

/// The origin of `url`: `scheme://host` with `:port` when it is not the scheme's default,
/// lowercase, without user, path or query (`https://API.binance.com/api/` gives
/// `https://api.binance.com`). What a key is bound to; `None` for text that is no http(s) URL
/// with a host.
pub fn origin_of(url: &str) -> Option<String> {
    let url = reqwest::Url::parse(url.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let host = url.host_str().filter(|host| !host.is_empty())?;
    Some(match url.port() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    })
}

#[cfg(test)]
mod origin_tests {
    use super::*;

    #[test]
    fn an_origin_keeps_scheme_host_and_a_non_default_port_only() {
        assert_eq!(origin_of("https://API.Binance.com/api/v3?x=1").as_deref(), Some("https://api.binance.com"));
        assert_eq!(origin_of("https://api.binance.com:443").as_deref(), Some("https://api.binance.com"));
        assert_eq!(origin_of("http://127.0.0.1:8080/").as_deref(), Some("http://127.0.0.1:8080"));
        assert_eq!(origin_of("http://user:pw@127.0.0.1.evil.com").as_deref(), Some("http://127.0.0.1.evil.com"));
        assert_eq!(origin_of("http://[::1]:99").as_deref(), Some("http://[::1]:99"));
        for bad in ["", "api.binance.com", "ftp://api.binance.com", "file:///etc/passwd", "not a url"] {
            assert_eq!(origin_of(bad), None, "{bad}");
        }
    }
}

//! Signing Bitstamp's private REST calls (API v2 authentication).
//!
//! Every private call is a `POST https://www.bitstamp.net/api/v2/<endpoint>/` carrying five
//! headers (<https://www.bitstamp.net/api/>):
//!
//! | header | value |
//! |---|---|
//! | `X-Auth` | `BITSTAMP <api_key>` |
//! | `X-Auth-Signature` | hex HMAC-SHA256 of the string to sign, keyed with the API secret |
//! | `X-Auth-Nonce` | a fresh lowercase UUID (36 characters) for every request |
//! | `X-Auth-Timestamp` | the request's departure time, Unix milliseconds |
//! | `X-Auth-Version` | `v2` |
//!
//! and `Content-Type: application/x-www-form-urlencoded` when (and only when) the body is not
//! empty. The string to sign is the concatenation, with no separators, of
//!
//! ```text
//! "BITSTAMP " + api_key + METHOD + host + path + query + content_type + nonce + timestamp + "v2" + body
//! ```
//!
//! where `host` is the request's host as sent (`www.bitstamp.net`, or `127.0.0.1:PORT` for a
//! simulator), `query` is the query string (empty for every call cointally makes), and
//! `content_type` is left out when the body is empty. Bitstamp refuses a nonce it has seen in
//! the last 150 seconds and a timestamp more than 150 seconds away from its clock.
//!
//! Nothing here reads the clock or does I/O; the secret never reaches an error or `Debug`.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::hex::lower_hex;
use crate::secret::Secret;

/// The content type of a non-empty body.
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// The value of `X-Auth-Version`.
pub const VERSION: &str = "v2";

/// What one request is, as far as its signature goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ToSign<'a> {
    /// `POST` (every private call) or `GET`.
    pub method: &'a str,
    /// The host as sent, with `:port` when it is not the default.
    pub host: &'a str,
    /// The path (`/api/v2/user_transactions/`).
    pub path: &'a str,
    /// The query string without `?` (empty when none).
    pub query: &'a str,
    /// The `X-Auth-Nonce` UUID.
    pub nonce: &'a str,
    /// The `X-Auth-Timestamp`, Unix ms.
    pub timestamp_ms: i64,
    /// The exact form body sent (empty when none).
    pub body: &'a str,
}

/// The string Bitstamp's v2 authentication signs for `request` made with `api_key`.
pub fn string_to_sign(api_key: &str, request: &ToSign<'_>) -> String {
    let content_type = if request.body.is_empty() { "" } else { FORM_CONTENT_TYPE };
    format!(
        "BITSTAMP {api_key}{}{}{}{}{content_type}{}{}{VERSION}{}",
        request.method, request.host, request.path, request.query, request.nonce, request.timestamp_ms, request.body
    )
}

/// `X-Auth-Signature`: lowercase hex HMAC-SHA256 of the string to sign, keyed with the secret's bytes.
pub fn signature(secret: &Secret, api_key: &str, request: &ToSign<'_>) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().trim().as_bytes()).expect("HMAC takes any key length");
    mac.update(string_to_sign(api_key, request).as_bytes());
    lower_hex(&mac.finalize().into_bytes())
}

/// The five `X-Auth…` headers of one request, as (name, value) pairs; the first two hold the
/// key and the signature. (`Content-Type` goes with the body: the HTTP client sets it.)
pub fn headers(api_key: &Secret, secret: &Secret, request: &ToSign<'_>) -> Vec<(&'static str, String)> {
    let key = api_key.expose().trim();
    vec![
        ("X-Auth", format!("BITSTAMP {key}")),
        ("X-Auth-Signature", signature(secret, key, request)),
        ("X-Auth-Nonce", request.nonce.to_owned()),
        ("X-Auth-Timestamp", request.timestamp_ms.to_string()),
        ("X-Auth-Version", VERSION.to_owned()),
    ]
}

/// A fresh random version-4 UUID in lowercase (the `X-Auth-Nonce`).
pub fn new_nonce(rng: &mut fastrand::Rng) -> String {
    let mut bytes = [0u8; 16];
    rng.fill(&mut bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = lower_hex(&bytes);
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

/// Whether `text` has the shape of the nonce Bitstamp asks: 36 characters, a lowercase UUID.
pub fn is_uuid(text: &str) -> bool {
    text.len() == 36
        && text.char_indices().all(|(index, c)| match index {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_digit() || ('a'..='f').contains(&c),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONCE: &str = "f93c979d-b00d-43a9-9b9c-fd4cd9547fa6";
    const TIMESTAMP_MS: i64 = 1_567_755_304_968;

    /// The request of the Python example on Bitstamp's API page (section "Authentication"): a
    /// `POST` to `/api/v2/user_transactions/` with the body `offset=1`. The page's example draws
    /// a random nonce and the current time, so it publishes no signature: the nonce, timestamp,
    /// key and secret here are fixed, and the signature was computed independently with
    /// Python's `hmac.new(secret, msg, hashlib.sha256).hexdigest()` over the page's formula.
    fn documented_example() -> ToSign<'static> {
        ToSign {
            method: "POST",
            host: "www.bitstamp.net",
            path: "/api/v2/user_transactions/",
            query: "",
            nonce: NONCE,
            timestamp_ms: TIMESTAMP_MS,
            body: "offset=1",
        }
    }

    #[test]
    fn the_documented_example_signs_the_documented_string() {
        let request = documented_example();
        assert_eq!(
            string_to_sign("abc123", &request),
            "BITSTAMP abc123POSTwww.bitstamp.net/api/v2/user_transactions/application/x-www-form-urlencoded\
             f93c979d-b00d-43a9-9b9c-fd4cd9547fa61567755304968v2offset=1"
        );
        assert_eq!(
            signature(&Secret::new("xyz789"), "abc123", &request),
            "125f6adc9fbf5d88793ecd2a123fa0021d30117f73511e47000a3869b110dfdd"
        );
    }

    #[test]
    fn an_empty_body_leaves_the_content_type_out_of_the_string() {
        let request = ToSign { path: "/api/v2/balance/", body: "", ..documented_example() };
        assert_eq!(
            string_to_sign("abc123", &request),
            "BITSTAMP abc123POSTwww.bitstamp.net/api/v2/balance/f93c979d-b00d-43a9-9b9c-fd4cd9547fa61567755304968v2"
        );
        assert_eq!(
            signature(&Secret::new("xyz789"), "abc123", &request),
            "844fff3d42c83b66d0c869ddc3cfebcc5387880d3a0dda465db83842db6b2447"
        );
        let headers = headers(&Secret::new("abc123"), &Secret::new("xyz789"), &request);
        assert_eq!(headers.len(), 5);
        assert_eq!(headers[0], ("X-Auth", "BITSTAMP abc123".to_owned()));
        assert_eq!(headers[3], ("X-Auth-Timestamp", "1567755304968".to_owned()));
        assert_eq!(headers[4], ("X-Auth-Version", "v2".to_owned()));
    }

    #[test]
    fn every_part_changes_the_signature() {
        let secret = Secret::new("xyz789");
        let base = signature(&secret, "abc123", &documented_example());
        let variants = [
            ToSign { host: "127.0.0.1:8080", ..documented_example() },
            ToSign { path: "/api/v2/balance/", ..documented_example() },
            ToSign { nonce: "00000000-0000-4000-8000-000000000000", ..documented_example() },
            ToSign { timestamp_ms: TIMESTAMP_MS + 1, ..documented_example() },
            ToSign { body: "offset=2", ..documented_example() },
            ToSign { query: "a=1", ..documented_example() },
        ];
        for variant in variants {
            assert_ne!(signature(&secret, "abc123", &variant), base, "{variant:?}");
        }
        assert_ne!(signature(&secret, "abc124", &documented_example()), base);
        assert_ne!(signature(&Secret::new("xyz788"), "abc123", &documented_example()), base);
    }

    #[test]
    fn nonces_are_fresh_lowercase_uuids() {
        let mut rng = fastrand::Rng::with_seed(7);
        let first = new_nonce(&mut rng);
        let second = new_nonce(&mut rng);
        assert!(is_uuid(&first) && is_uuid(&second), "{first} {second}");
        assert_ne!(first, second);
        assert_eq!(&first[14..15], "4", "version 4");
        for bad in [
            "",
            "F93C979D-B00D-43A9-9B9C-FD4CD9547FA6",
            "f93c979db00d43a99b9cfd4cd9547fa6",
            "x93c979d-b00d-43a9-9b9c-fd4cd9547fa6",
        ] {
            assert!(!is_uuid(bad), "{bad}");
        }
    }
}

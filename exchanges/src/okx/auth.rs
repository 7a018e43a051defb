//! Signing OKX's private REST calls (API v5).
//!
//! Every private request carries four headers
//! (<https://www.okx.com/docs-v5/en/#overview-rest-authentication-making-requests>):
//!
//! | header | value |
//! |---|---|
//! | `OK-ACCESS-KEY` | the API key |
//! | `OK-ACCESS-SIGN` | base64 HMAC-SHA256, keyed with the secret key, of `timestamp + METHOD + requestPath + body` |
//! | `OK-ACCESS-TIMESTAMP` | UTC time with milliseconds, ISO 8601 (`2020-12-08T09:08:57.715Z`) |
//! | `OK-ACCESS-PASSPHRASE` | the passphrase chosen when the key was made |
//!
//! For a `GET` the query string is part of `requestPath` (`/api/v5/account/balance?ccy=BTC`) and
//! the body is empty (<https://www.okx.com/docs-v5/en/#overview-rest-authentication-signature>).
//! OKX refuses a timestamp more than 30 seconds from its clock (error `50102`).
//!
//! Nothing here does I/O; the secret and passphrase never reach an error or `Debug`.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::Secret;

/// `OK-ACCESS-TIMESTAMP` of `ms`: ISO 8601 UTC with milliseconds (`2020-12-08T09:08:57.715Z`).
pub fn timestamp(ms: i64) -> String {
    crate::time::from_millis(ms).format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// The text OKX signs: `timestamp + METHOD + requestPath + body`.
pub fn prehash(timestamp: &str, method: &str, request_path: &str, body: &str) -> String {
    format!("{timestamp}{}{request_path}{body}", method.to_ascii_uppercase())
}

/// `OK-ACCESS-SIGN`: base64 HMAC-SHA256 of [`prehash`], keyed with the secret key's bytes.
pub fn signature(secret: &Secret, timestamp: &str, method: &str, request_path: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().trim().as_bytes()).expect("HMAC takes any key length");
    mac.update(prehash(timestamp, method, request_path, body).as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The four `OK-ACCESS-…` headers of one call, as (name, value) pairs.
pub fn headers(
    api_key: &Secret,
    secret: &Secret,
    passphrase: &Secret,
    timestamp: &str,
    method: &str,
    request_path: &str,
) -> Vec<(&'static str, String)> {
    vec![
        ("OK-ACCESS-KEY", api_key.expose().trim().to_owned()),
        ("OK-ACCESS-SIGN", signature(secret, timestamp, method, request_path, "")),
        ("OK-ACCESS-TIMESTAMP", timestamp.to_owned()),
        ("OK-ACCESS-PASSPHRASE", passphrase.expose().to_owned()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// OKX's documentation publishes the recipe and its inputs, not a signature: the example
    /// `CryptoJS.enc.Base64.stringify(CryptoJS.HmacSHA256(timestamp + 'GET' +
    /// '/api/v5/account/balance?ccy=BTC', SecretKey))` with the example timestamp
    /// `2020-12-08T09:08:57.715Z` and the example SecretKey `22582BD0CFF14C41EDBF1AB98506286D`
    /// (<https://www.okx.com/docs-v5/en/#overview-rest-authentication-signature>). The expected
    /// values were computed independently with Python:
    /// `base64.b64encode(hmac.new(b"22582BD0…", msg, hashlib.sha256).digest())`.
    #[test]
    fn the_documented_example_gives_the_independently_computed_signatures() {
        let secret = Secret::new("22582BD0CFF14C41EDBF1AB98506286D");
        let ts = "2020-12-08T09:08:57.715Z";
        assert_eq!(
            prehash(ts, "get", "/api/v5/account/balance?ccy=BTC", ""),
            format!("{ts}GET/api/v5/account/balance?ccy=BTC")
        );
        assert_eq!(
            signature(&secret, ts, "GET", "/api/v5/account/balance?ccy=BTC", ""),
            "HiZhvSfMtWJA3uUIVXV3a/bSXNPCWvYFXoGCVS8V4zY="
        );
        assert_eq!(
            signature(&secret, ts, "GET", "/api/v5/account/bills-archive?after=123&limit=100", ""),
            "QdvydUlt9ceF5uFUsWybcqoKSfzZHoAtMMTnvTVZ2iA="
        );
        let headers = headers(&Secret::new("k"), &secret, &Secret::new("p h"), ts, "GET", "/api/v5/account/config");
        assert_eq!(headers[0], ("OK-ACCESS-KEY", "k".to_owned()));
        assert_eq!(headers[2], ("OK-ACCESS-TIMESTAMP", ts.to_owned()));
        assert_eq!(headers[3], ("OK-ACCESS-PASSPHRASE", "p h".to_owned()));
    }

    #[test]
    fn the_timestamp_is_iso_utc_with_milliseconds() {
        assert_eq!(timestamp(1_607_418_537_715), "2020-12-08T09:08:57.715Z");
        assert_eq!(timestamp(1_607_418_537_000), "2020-12-08T09:08:57.000Z");
    }

    #[test]
    fn every_part_changes_the_signature() {
        let secret = Secret::new("S");
        let base = signature(&secret, "t", "GET", "/p?a=1", "");
        assert_ne!(signature(&secret, "u", "GET", "/p?a=1", ""), base);
        assert_ne!(signature(&secret, "t", "POST", "/p?a=1", ""), base);
        assert_ne!(signature(&secret, "t", "GET", "/p?a=2", ""), base);
        assert_ne!(signature(&Secret::new("T"), "t", "GET", "/p?a=1", ""), base);
    }
}

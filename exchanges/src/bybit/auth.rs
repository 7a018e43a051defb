//! Signing Bybit's authenticated REST calls (API v5, system-generated HMAC keys).
//!
//! Every authenticated call carries four headers
//! (<https://bybit-exchange.github.io/docs/v5/guide>, "Authentication"):
//!
//! | header | value |
//! |---|---|
//! | `X-BAPI-API-KEY` | the API key |
//! | `X-BAPI-TIMESTAMP` | the time of the call, Unix ms |
//! | `X-BAPI-RECV-WINDOW` | how long the call stays valid, ms (cointally sends 5000, Bybit's default) |
//! | `X-BAPI-SIGN` | lowercase hex HMAC-SHA256, keyed with the API secret, of `timestamp + api_key + recv_window + payload` |
//!
//! where `payload` is the query string exactly as sent (GET; Bybit does not ask for sorted
//! parameters) or the JSON body (POST). Bybit refuses a call unless
//! `server_time - recv_window <= timestamp < server_time + 1000`.
//!
//! Nothing here does I/O; the secret never reaches an error or `Debug`.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::hex::lower_hex;
use crate::secret::Secret;

/// The receive window cointally sends, ms (Bybit's default).
pub const RECV_WINDOW: &str = "5000";

/// The text Bybit signs: `timestamp + api_key + recv_window + payload`.
pub fn payload(timestamp: &str, api_key: &str, recv_window: &str, query_or_body: &str) -> String {
    format!("{timestamp}{api_key}{recv_window}{query_or_body}")
}

/// `X-BAPI-SIGN`: lowercase hex HMAC-SHA256 of [`payload`], keyed with the secret's bytes.
pub fn signature(secret: &Secret, timestamp: &str, api_key: &str, recv_window: &str, query_or_body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().trim().as_bytes()).expect("HMAC takes any key length");
    mac.update(payload(timestamp, api_key, recv_window, query_or_body).as_bytes());
    lower_hex(&mac.finalize().into_bytes())
}

/// The four `X-BAPI-…` headers of one call, as (name, value) pairs.
pub fn headers(api_key: &Secret, secret: &Secret, timestamp: &str, query_or_body: &str) -> Vec<(&'static str, String)> {
    let key = api_key.expose().trim();
    vec![
        ("X-BAPI-API-KEY", key.to_owned()),
        ("X-BAPI-TIMESTAMP", timestamp.to_owned()),
        ("X-BAPI-RECV-WINDOW", RECV_WINDOW.to_owned()),
        ("X-BAPI-SIGN", signature(secret, timestamp, key, RECV_WINDOW, query_or_body)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bybit's guide publishes the recipe and example requests, not a signature. The vectors
    /// use its documented examples: the guide's `GET /v5/order/realtime?category=option&
    /// symbol=BTC-29JUL22-25000-C` at timestamp 1658384314791 with recv_window 5000, and the
    /// withdrawal-record page's `coin=USDT&withdrawType=2&limit=2` at 1672194949557
    /// (<https://bybit-exchange.github.io/docs/v5/asset/withdraw/withdraw-record>), with
    /// placeholder keys. The signatures were computed independently with Python's
    /// `hmac.new(secret, msg, hashlib.sha256).hexdigest()`.
    #[test]
    fn the_documented_examples_give_the_independently_computed_signatures() {
        assert_eq!(
            payload("1658384314791", "api_key", "5000", "category=option&symbol=BTC-29JUL22-25000-C"),
            "1658384314791api_key5000category=option&symbol=BTC-29JUL22-25000-C"
        );
        assert_eq!(
            signature(
                &Secret::new("api_secret"),
                "1658384314791",
                "api_key",
                "5000",
                "category=option&symbol=BTC-29JUL22-25000-C"
            ),
            "d46a1c1f1a35c6a513850569c6dd46fc77e74579ce7c66c9b8a23a70e9f2b8c9"
        );
        assert_eq!(
            signature(
                &Secret::new("XXXXXXXXXX"),
                "1672194949557",
                "XXXXXXXXXX",
                "5000",
                "coin=USDT&withdrawType=2&limit=2"
            ),
            "c2c2f9cf56108d26ffe3370a8f901d5c8342e5a643e048b013bff216363c357b"
        );
        let headers = headers(
            &Secret::new("api_key"),
            &Secret::new("api_secret"),
            "1658384314791",
            "category=option&symbol=BTC-29JUL22-25000-C",
        );
        assert_eq!(headers[0], ("X-BAPI-API-KEY", "api_key".to_owned()));
        assert_eq!(headers[2], ("X-BAPI-RECV-WINDOW", "5000".to_owned()));
        assert_eq!(headers[3].1, "d46a1c1f1a35c6a513850569c6dd46fc77e74579ce7c66c9b8a23a70e9f2b8c9");
    }

    #[test]
    fn every_part_changes_the_signature() {
        let secret = Secret::new("s");
        let base = signature(&secret, "1", "k", "5000", "a=1");
        assert_ne!(signature(&secret, "2", "k", "5000", "a=1"), base);
        assert_ne!(signature(&secret, "1", "j", "5000", "a=1"), base);
        assert_ne!(signature(&secret, "1", "k", "5001", "a=1"), base);
        assert_ne!(signature(&secret, "1", "k", "5000", "a=2"), base);
        assert_ne!(signature(&Secret::new("t"), "1", "k", "5000", "a=1"), base);
    }
}

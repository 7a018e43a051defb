//! Signing KuCoin's authenticated REST calls (API key version 2).
//!
//! Every authenticated call carries five headers
//! (<https://www.kucoin.com/docs/basic-info/connection-method/authentication/signing-a-message>,
//! <https://www.kucoin.com/docs-new/authentication>):
//!
//! | header | value |
//! |---|---|
//! | `KC-API-KEY` | the API key |
//! | `KC-API-TIMESTAMP` | the time of the request, ms |
//! | `KC-API-SIGN` | base64 HMAC-SHA256, keyed with the secret, of `timestamp + METHOD + endpoint + body` |
//! | `KC-API-PASSPHRASE` | base64 HMAC-SHA256, keyed with the secret, of the passphrase (v2 keys) |
//! | `KC-API-KEY-VERSION` | `2` |
//!
//! where `endpoint` is the path with its query string (`/api/v1/accounts/ledgers?currentPage=1`),
//! not percent-encoded, and `body` the JSON text sent (empty for a `GET`). Every call cointally
//! makes is a `GET`. KuCoin refuses a timestamp more than a few seconds from its clock
//! (`400002`): the client's clock offset keeps it close.
//!
//! Nothing here does I/O; the secret and the passphrase never reach an error or `Debug`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::secret::Secret;

/// The key version cointally signs for (v2: the passphrase is signed too).
pub const KEY_VERSION: &str = "2";

/// The text KuCoin signs: `timestamp + METHOD + endpoint (with ?query) + body`.
pub fn prehash(timestamp_ms: &str, method: &str, endpoint: &str, body: &str) -> String {
    format!("{timestamp_ms}{}{endpoint}{body}", method.to_ascii_uppercase())
}

/// Base64 HMAC-SHA256 of `message`, keyed with the secret's bytes.
fn sign(secret: &Secret, message: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().trim().as_bytes()).expect("HMAC takes any key length");
    mac.update(message.as_bytes());
    BASE64.encode(mac.finalize().into_bytes())
}

/// `KC-API-SIGN` of one call.
pub fn signature(secret: &Secret, timestamp_ms: &str, method: &str, endpoint: &str, body: &str) -> String {
    sign(secret, &prehash(timestamp_ms, method, endpoint, body))
}

/// `KC-API-PASSPHRASE` of a v2 key: the passphrase signed with the secret.
pub fn signed_passphrase(secret: &Secret, passphrase: &Secret) -> String {
    sign(secret, passphrase.expose().trim())
}

/// The five `KC-API-…` headers of one call, as (name, value) pairs.
pub fn headers(
    api_key: &Secret,
    secret: &Secret,
    passphrase: &Secret,
    timestamp_ms: &str,
    method: &str,
    endpoint: &str,
    body: &str,
) -> Vec<(&'static str, String)> {
    vec![
        ("KC-API-KEY", api_key.expose().trim().to_owned()),
        ("KC-API-SIGN", signature(secret, timestamp_ms, method, endpoint, body)),
        ("KC-API-TIMESTAMP", timestamp_ms.to_owned()),
        ("KC-API-PASSPHRASE", signed_passphrase(secret, passphrase)),
        ("KC-API-KEY-VERSION", KEY_VERSION.to_owned()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// KuCoin's documentation gives the recipe and a Python example (secret `api_secret`,
    /// passphrase `api_passphrase`, `GET /api/v1/accounts`, and a `POST /api/v1/deposit-addresses`
    /// with the body `{"currency":"BTC"}`) but prints no resulting signature. The timestamp is
    /// fixed here; the values were computed independently with that example's own Python
    /// (`base64.b64encode(hmac.new(b"api_secret", msg, hashlib.sha256).digest())`).
    #[test]
    fn the_documented_example_gives_the_independently_computed_signatures() {
        let secret = Secret::new("api_secret");
        assert_eq!(prehash("1700000000000", "get", "/api/v1/accounts", ""), "1700000000000GET/api/v1/accounts");
        assert_eq!(
            signature(&secret, "1700000000000", "GET", "/api/v1/accounts", ""),
            "oBpwem5aQo1bcnFK8RE32BbchgdCP/4yMtK3QsuMlbc="
        );
        assert_eq!(
            signature(&secret, "1700000000000", "POST", "/api/v1/deposit-addresses", r#"{"currency":"BTC"}"#),
            "vxNqKS607lJyCDaEcAgUkxXzQr2i5OI2ziR68oJfYno="
        );
        assert_eq!(
            signature(
                &secret,
                "1700000000000",
                "GET",
                "/api/v1/accounts/ledgers?startAt=1&endAt=2&currentPage=1&pageSize=500",
                ""
            ),
            "2MxTwqy9gOJVgGoRUqg+E6gz0jmhkPCuadv8ofXS+wo="
        );
        assert_eq!(
            signed_passphrase(&secret, &Secret::new("api_passphrase")),
            "eNS/KpPhYZX0natiMyxtVdXb0JQDS0x+Eo1HCUkMkvM="
        );
        let headers = headers(
            &Secret::new("api_key"),
            &secret,
            &Secret::new("api_passphrase"),
            "1700000000000",
            "GET",
            "/api/v1/accounts",
            "",
        );
        let names: Vec<&str> = headers.iter().map(|(name, _)| *name).collect();
        assert_eq!(names, ["KC-API-KEY", "KC-API-SIGN", "KC-API-TIMESTAMP", "KC-API-PASSPHRASE", "KC-API-KEY-VERSION"]);
        assert_eq!(headers[0].1, "api_key");
        assert_eq!(headers[4].1, "2");
    }

    #[test]
    fn every_part_changes_the_signature() {
        let secret = Secret::new("s");
        let base = signature(&secret, "1", "GET", "/api/v1/accounts", "");
        assert_ne!(signature(&secret, "2", "GET", "/api/v1/accounts", ""), base);
        assert_ne!(signature(&secret, "1", "POST", "/api/v1/accounts", ""), base);
        assert_ne!(signature(&secret, "1", "GET", "/api/v1/accounts?type=main", ""), base);
        assert_ne!(signature(&secret, "1", "GET", "/api/v1/accounts", "{}"), base);
        assert_ne!(signature(&Secret::new("t"), "1", "GET", "/api/v1/accounts", ""), base);
    }
}

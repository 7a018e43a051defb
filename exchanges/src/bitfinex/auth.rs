//! Signing Bitfinex's authenticated REST calls (API v2).
//!
//! Every authenticated call is a `POST https://api.bitfinex.com/v2/auth/r/<endpoint>` with a
//! JSON body (`{}` when it has no parameter) and three headers
//! (<https://docs.bitfinex.com/docs/rest-auth>):
//!
//! | header | value |
//! |---|---|
//! | `bfx-nonce` | a number that grows with every request made with the key |
//! | `bfx-apikey` | the API key |
//! | `bfx-signature` | lowercase hex HMAC-SHA384, keyed with the API secret, of `"/api/" + path + nonce + body` |
//!
//! where `path` is the path without its leading slash (`v2/auth/r/ledgers/hist`) and `body` the
//! exact JSON text sent.
//!
//! # The nonce
//!
//! Bitfinex refuses a nonce not above the last one it saw for the key (`10114 nonce: small`).
//! cointally's nonce is the wall clock in microseconds (ms × 1000, as Bitfinex's own examples
//! compute it), raised to one above the last nonce of this process when the clock has not moved
//! ([`next_nonce`]): strictly increasing within a run and from one run to the next as long as the
//! clock does not go back. It is not stored: a key shared with another tool whose nonces run
//! ahead (nanoseconds, say) is refused until that tool stops; such a key should not be shared
//! (README, "Bitfinex").
//!
//! Nothing here does I/O; the secret never reaches an error or `Debug`.

use std::sync::atomic::{AtomicI64, Ordering};

use hmac::{Hmac, Mac};
use sha2::Sha384;

use crate::hex::lower_hex;
use crate::secret::Secret;

/// The content type of every authenticated body.
pub const JSON_CONTENT_TYPE: &str = "application/json";

/// The last nonce this process sent (any key).
static LAST_NONCE: AtomicI64 = AtomicI64::new(0);

/// The text Bitfinex signs for a call to `path` (without its leading `/`) with `nonce` and `body`.
pub fn payload(path: &str, nonce: &str, body: &str) -> String {
    format!("/api/{}{nonce}{body}", path.trim_start_matches('/'))
}

/// `bfx-signature`: lowercase hex HMAC-SHA384 of [`payload`], keyed with the secret's bytes.
pub fn signature(secret: &Secret, path: &str, nonce: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha384>::new_from_slice(secret.expose().trim().as_bytes()).expect("HMAC takes any key length");
    mac.update(payload(path, nonce, body).as_bytes());
    lower_hex(&mac.finalize().into_bytes())
}

/// The three `bfx-…` headers of one call, as (name, value) pairs.
pub fn headers(api_key: &Secret, secret: &Secret, path: &str, nonce: &str, body: &str) -> Vec<(&'static str, String)> {
    vec![
        ("bfx-nonce", nonce.to_owned()),
        ("bfx-apikey", api_key.expose().trim().to_owned()),
        ("bfx-signature", signature(secret, path, nonce, body)),
    ]
}

/// The next nonce at `now_ms`: `now_ms × 1000`, or one above the last nonce of this process.
pub fn next_nonce(now_ms: i64) -> i64 {
    let wanted = now_ms.saturating_mul(1000);
    let mut last = LAST_NONCE.load(Ordering::SeqCst);
    loop {
        let next = wanted.max(last.saturating_add(1));
        match LAST_NONCE.compare_exchange(last, next, Ordering::SeqCst, Ordering::SeqCst) {
            Ok(_) => return next,
            Err(seen) => last = seen,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bitfinex's documentation publishes the recipe, not a signature: its examples (the
    /// REST authentication recipes of <https://docs.bitfinex.com/docs/rest-auth>) sign
    /// `v2/auth/r/info/user` with the body `{}` and a nonce of ms × 1000. The key, secret and
    /// nonce here are fixed; the signatures were computed independently with Python's
    /// `hmac.new(b"xyz789", msg, hashlib.sha384).hexdigest()` over the documented payload.
    #[test]
    fn the_documented_recipe_gives_the_independently_computed_signatures() {
        assert_eq!(
            payload("v2/auth/r/info/user", "1700000000000000", "{}"),
            "/api/v2/auth/r/info/user1700000000000000{}"
        );
        assert_eq!(
            signature(&Secret::new("xyz789"), "v2/auth/r/info/user", "1700000000000000", "{}"),
            "2a6ebc0a4dadb59d91b86eaa5ea4f72d1e667cc01a5fe7a1233f8fba29fcd40ec609bba2bd68ef5124d0098598147ff3"
        );
        assert_eq!(
            signature(&Secret::new("xyz789"), "/v2/auth/r/ledgers/hist", "1700000000000001", r#"{"limit":2500}"#),
            "34ecead508c3be6e8bed09153c343aecb0aada86282f5a609292d23614b919fdb2ef83aef2f9f8bedd03697eb90c6e4f"
        );
        let headers =
            headers(&Secret::new("abc123"), &Secret::new("xyz789"), "v2/auth/r/info/user", "1700000000000000", "{}");
        assert_eq!(headers[0], ("bfx-nonce", "1700000000000000".to_owned()));
        assert_eq!(headers[1], ("bfx-apikey", "abc123".to_owned()));
        assert_eq!(headers[2].1.len(), 96);
    }

    #[test]
    fn every_part_changes_the_signature() {
        let secret = Secret::new("xyz789");
        let base = signature(&secret, "v2/auth/r/wallets", "1", "{}");
        assert_ne!(signature(&secret, "v2/auth/r/ledgers/hist", "1", "{}"), base);
        assert_ne!(signature(&secret, "v2/auth/r/wallets", "2", "{}"), base);
        assert_ne!(signature(&secret, "v2/auth/r/wallets", "1", "{ }"), base);
        assert_ne!(signature(&Secret::new("xyz788"), "v2/auth/r/wallets", "1", "{}"), base);
    }

    #[test]
    fn nonces_are_microseconds_and_strictly_increase_even_when_the_clock_stands_still() {
        let first = next_nonce(1_700_000_000_000);
        assert!(first >= 1_700_000_000_000_000, "{first}");
        let second = next_nonce(1_700_000_000_000);
        let third = next_nonce(1_600_000_000_000);
        assert!(second > first && third > second, "{first} {second} {third}");
    }
}

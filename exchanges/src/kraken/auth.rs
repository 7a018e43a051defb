//! Signing Kraken's private REST calls, and choosing their nonces.
//!
//! Every private call is a `POST https://api.kraken.com/0/private/<Method>` whose body
//! (form-encoded, e.g. `nonce=1616492376594&ofs=50`) carries a `nonce`, and whose headers
//! carry the public key (`API-Key`) and a signature (`API-Sign`). The signature is
//!
//! ```text
//! API-Sign = base64( HMAC-SHA512( key = base64_decode(private_key),
//!                                 msg = uri_path ‖ SHA256( nonce ‖ body ) ) )
//! ```
//!
//! where `uri_path` is the path from `/0/private` on (no host, no query string), `nonce` is its
//! decimal digits (the same number as in the body: it appears twice), the inner SHA-256 digest
//! is the raw 32 bytes (not hex), and the output uses the standard base64 alphabet with `=`
//! padding (88 characters). The body hashed must be byte-for-byte the body sent, so the caller
//! builds the body once and hands the same text to [`sign_request`] and to the HTTP client.
//! A JSON body (`application/json`) is signed the same way, over its exact text.
//!
//! Nonces ([`NonceSource`]) must grow strictly with every call made with one key, across
//! restarts and across threads: the next nonce is `max(now_ms, last + 1)`, with `now_ms` passed
//! in by the caller (the clock is a parameter) and `last` loaded from and saved to the ledger by
//! the caller. Growing nonces are not enough on their own: two calls in flight on one key can
//! still arrive out of order, so the HTTP layer serialises private calls per key, holding its
//! lock from taking the nonce until the request is sent.
//!
//! Nothing here reads the clock, does I/O, or puts the private key (or any part of it) into an
//! error or a `Debug` output. Source: the Kraken reference, §2.2 (recipe), §2.3 (test vector),
//! §2.4 (nonces).

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256, Sha512};

use crate::secret::Secret;

/// Name of the header that carries the public API key.
pub const API_KEY_HEADER: &str = "API-Key";

/// Name of the header that carries the signature.
pub const API_SIGN_HEADER: &str = "API-Sign";

/// Every signed path starts with this prefix.
pub const PRIVATE_PATH_PREFIX: &str = "/0/private/";

/// Why a request could not be signed or given a nonce. No variant holds the private key or
/// any part of it; the base64 decoder's own error (which quotes the offending byte and its
/// offset) is deliberately dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The private key is empty or only whitespace.
    #[error("the Kraken private key is empty")]
    BlankPrivateKey,
    /// The private key is not standard base64 (with `=` padding), as Kraken shows it.
    #[error("the Kraken private key is not valid base64; copy it again from Kraken's API key settings")]
    PrivateKeyNotBase64,
    /// The path to sign is not a private endpoint path such as `/0/private/Ledgers`.
    #[error("cannot sign path `{path}`: Kraken signs only paths starting with /0/private/ and without a query string")]
    NotPrivatePath {
        /// The path as given (an endpoint path, never a secret).
        path: String,
    },
    /// The last nonce used is already `u64::MAX`; no greater nonce exists for this key.
    #[error("no nonce is left for this Kraken key (the last one used is the largest possible); create a new API key")]
    NonceExhausted,
}

/// The two header values that authenticate one private call. `Debug` hides the API key.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthHeaders {
    api_key: String,
    api_sign: String,
}

impl AuthHeaders {
    /// Value of the `API-Key` header: the public key as shown in Kraken's settings.
    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// Value of the `API-Sign` header: base64 of the HMAC-SHA512 signature (88 characters).
    pub fn api_sign(&self) -> &str {
        &self.api_sign
    }

    /// Both headers as `(name, value)` pairs, ready to add to a request.
    pub fn pairs(&self) -> [(&'static str, &str); 2] {
        [(API_KEY_HEADER, &self.api_key), (API_SIGN_HEADER, &self.api_sign)]
    }
}

impl fmt::Debug for AuthHeaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthHeaders").field("api_key", &"[redacted]").field("api_sign", &self.api_sign).finish()
    }
}

/// Signs one private call: returns the `API-Key` and `API-Sign` header values for `uri_path`
/// (e.g. `/0/private/Ledgers`), `nonce` and the exact form-encoded `body` that will be sent
/// (which must itself contain `nonce=<nonce>`).
pub fn sign_request(
    api_key: &Secret,
    private_key: &Secret,
    uri_path: &str,
    nonce: u64,
    body: &str,
) -> Result<AuthHeaders, AuthError> {
    let api_sign = api_sign(private_key, uri_path, nonce, body)?;
    Ok(AuthHeaders { api_key: api_key.expose().trim().to_owned(), api_sign })
}

/// Computes the `API-Sign` value alone: HMAC-SHA512, keyed with the base64-decoded secret, of
/// the URI path followed by SHA-256(nonce + POST data), base64-encoded (<https://docs.kraken.com/api/docs/guides/spot-rest-auth>).
pub fn api_sign(private_key: &Secret, uri_path: &str, nonce: u64, body: &str) -> Result<String, AuthError> {
    if !uri_path.starts_with(PRIVATE_PATH_PREFIX) || uri_path.contains(['?', '#']) {
        return Err(AuthError::NotPrivatePath { path: uri_path.to_owned() });
    }
    let key = decode_private_key(private_key)?;

    let mut inner = Sha256::new();
    inner.update(nonce.to_string().as_bytes());
    inner.update(body.as_bytes());
    let inner = inner.finalize();

    let mut mac = Hmac::<Sha512>::new_from_slice(&key).expect("HMAC accepts keys of any length");
    mac.update(uri_path.as_bytes());
    mac.update(&inner);
    Ok(BASE64.encode(mac.finalize().into_bytes()))
}

/// Decodes the base64 private key into the HMAC key bytes (64 bytes for a real Kraken key).
/// Surrounding whitespace (a pasted newline) is ignored. The returned buffer is zeroed on drop.
fn decode_private_key(private_key: &Secret) -> Result<KeyBytes, AuthError> {
    let text = private_key.expose().trim();
    if text.is_empty() {
        return Err(AuthError::BlankPrivateKey);
    }
    BASE64.decode(text).map(KeyBytes).map_err(|_| AuthError::PrivateKeyNotBase64)
}

/// Decoded private key bytes, overwritten with zeros when dropped.
struct KeyBytes(Vec<u8>);

impl std::ops::Deref for KeyBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for KeyBytes {
    fn drop(&mut self) {
        self.0.fill(0);
    }
}

/// The nonce rule (Kraken refuses a nonce not greater than the key's last one, <https://docs.kraken.com/api/docs/guides/spot-rest-auth>):
/// the next nonce after `last` at time `now_ms` (milliseconds
/// since the Unix epoch) is `max(now_ms, last + 1)`. Strictly greater than `last` even within
/// one millisecond, when the clock steps back, or when an earlier program used finer nonces.
pub fn next_nonce(now_ms: u64, last: u64) -> Result<u64, AuthError> {
    let after_last = last.checked_add(1).ok_or(AuthError::NonceExhausted)?;
    Ok(now_ms.max(after_last))
}

/// Hands out strictly increasing nonces for one API key, safe to share between threads.
///
/// Start it from the last nonce persisted for the key ([`NonceSource::new`]), call
/// [`NonceSource::next`] with the current time for each request, and persist
/// [`NonceSource::last`] (or the nonce just taken) before or with the request.
#[derive(Debug)]
pub struct NonceSource {
    last: AtomicU64,
}

impl NonceSource {
    /// A source whose next nonce will be greater than `last_used` (0 for a key never used).
    pub fn new(last_used: u64) -> NonceSource {
        NonceSource { last: AtomicU64::new(last_used) }
    }

    /// Takes the next nonce at time `now_ms` (ms since the Unix epoch): greater than every
    /// nonce this source handed out before, to any thread, and than the `last_used` it
    /// started from.
    pub fn next(&self, now_ms: u64) -> Result<u64, AuthError> {
        // `fetch_update` retries the closure if another thread moved `last` in between, so
        // each successful call owns a distinct value.
        match self.last.fetch_update(Ordering::AcqRel, Ordering::Acquire, |last| next_nonce(now_ms, last).ok()) {
            Ok(previous) => next_nonce(now_ms, previous),
            Err(_) => Err(AuthError::NonceExhausted),
        }
    }

    /// The greatest nonce handed out so far (or the starting value), to persist for the key.
    pub fn last(&self) -> u64 {
        self.last.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    // The official test vector of Kraken's "Spot REST Authentication" (https://docs.kraken.com/api/docs/guides/spot-rest-auth).
    const OFFICIAL_PRIVATE_KEY: &str =
        "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==";
    const OFFICIAL_NONCE: u64 = 1616492376594;

    fn private_key() -> Secret {
        Secret::new(OFFICIAL_PRIVATE_KEY)
    }

    #[test]
    fn official_test_vector_add_order() {
        // Official vector of Kraken's "Spot REST Authentication" page.
        let body = "nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25";
        let sign = api_sign(&private_key(), "/0/private/AddOrder", OFFICIAL_NONCE, body).unwrap();
        assert_eq!(sign, "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ==");
        assert_eq!(sign.len(), 88);
    }

    #[test]
    fn derived_vector_balance() {
        // Derived vector (same key and nonce; not published by Kraken).
        let sign = api_sign(&private_key(), "/0/private/Balance", OFFICIAL_NONCE, "nonce=1616492376594").unwrap();
        assert_eq!(sign, "1nH4vwR+8FHiYh1QT649xXkGd3JR3x0DWkgv3u9Ed/Qqv6KPtgQpEU4m+Emb/VgpEji3j1XNwI+HCbfXxmrTOg==");
    }

    #[test]
    fn derived_vector_ledgers() {
        // Derived vector (same key and nonce; not published by Kraken).
        let body = "nonce=1616492376594&ofs=50&without_count=true";
        let sign = api_sign(&private_key(), "/0/private/Ledgers", OFFICIAL_NONCE, body).unwrap();
        assert_eq!(sign, "72t0filJq8gBnA7JqdIBPLVl8DC0SxUCgjar7jdk6KdkG8Plu+4PKLKg4Cus2zdHNJ2GJjKrzC88crcmVZiVlQ==");
    }

    #[test]
    fn sign_request_returns_both_headers() {
        let api_key = Secret::new("my-public-api-key\n");
        let body = "nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25";
        let headers = sign_request(&api_key, &private_key(), "/0/private/AddOrder", OFFICIAL_NONCE, body).unwrap();
        assert_eq!(headers.api_key(), "my-public-api-key");
        assert_eq!(
            headers.pairs(),
            [
                ("API-Key", "my-public-api-key"),
                (
                    "API-Sign",
                    "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="
                ),
            ]
        );
    }

    #[test]
    fn pasted_key_with_newline_still_signs() {
        let key = Secret::new(format!(" {OFFICIAL_PRIVATE_KEY}\n"));
        let sign = api_sign(&key, "/0/private/Balance", OFFICIAL_NONCE, "nonce=1616492376594").unwrap();
        assert_eq!(sign, "1nH4vwR+8FHiYh1QT649xXkGd3JR3x0DWkgv3u9Ed/Qqv6KPtgQpEU4m+Emb/VgpEji3j1XNwI+HCbfXxmrTOg==");
    }

    #[test]
    fn body_path_and_nonce_all_change_the_signature() {
        let key = private_key();
        let base = api_sign(&key, "/0/private/Ledgers", OFFICIAL_NONCE, "nonce=1616492376594&ofs=50").unwrap();
        let other_body = api_sign(&key, "/0/private/Ledgers", OFFICIAL_NONCE, "nonce=1616492376594&ofs=0").unwrap();
        let other_path = api_sign(&key, "/0/private/TradesHistory", OFFICIAL_NONCE, "nonce=1616492376594&ofs=50");
        let other_nonce = api_sign(&key, "/0/private/Ledgers", OFFICIAL_NONCE + 1, "nonce=1616492376594&ofs=50");
        assert_ne!(base, other_body);
        assert_ne!(base, other_path.unwrap());
        assert_ne!(base, other_nonce.unwrap());
    }

    #[test]
    fn path_must_be_a_private_path_without_query() {
        let key = private_key();
        for path in ["/0/public/Time", "https://api.kraken.com/0/private/Balance", "/0/private/Balance?x=1", ""] {
            let error = api_sign(&key, path, OFFICIAL_NONCE, "nonce=1616492376594").unwrap_err();
            assert_eq!(error, AuthError::NotPrivatePath { path: path.to_owned() });
        }
    }

    /// Every run of 6 characters of `secret`, to check that no piece of it leaks (shorter runs
    /// turn up by chance in any base64 text, such as a signature).
    fn pieces(secret: &str) -> Vec<String> {
        let chars: Vec<char> = secret.chars().collect();
        chars.windows(6).map(|window| window.iter().collect()).collect()
    }

    fn assert_hides(text: &str, secret: &str) {
        for piece in pieces(secret) {
            assert!(!text.contains(&piece), "`{text}` shows `{piece}` of the secret");
        }
    }

    #[test]
    fn invalid_base64_key_is_a_typed_error_that_hides_the_key() {
        // '$', '!' and '%' are outside the base64 alphabet; the decoder's own error would
        // quote the offending byte and offset, so it must not reach the message.
        let bad = "Qz8$Wv7!Xk3%Jh6Tp";
        let error = api_sign(&Secret::new(bad), "/0/private/Balance", 1, "nonce=1").unwrap_err();
        assert_eq!(error, AuthError::PrivateKeyNotBase64);
        assert_hides(&error.to_string(), bad);
        assert_hides(&format!("{error:?}"), bad);

        // Right alphabet, wrong padding (rotki's "Incorrect padding" case).
        let truncated = &OFFICIAL_PRIVATE_KEY[..OFFICIAL_PRIVATE_KEY.len() - 1];
        let error = api_sign(&Secret::new(truncated), "/0/private/Balance", 1, "nonce=1").unwrap_err();
        assert_eq!(error, AuthError::PrivateKeyNotBase64);
        assert_hides(&error.to_string(), truncated);
        assert_hides(&format!("{error:?}"), truncated);

        // URL-safe alphabet is not what Kraken shows.
        let url_safe = OFFICIAL_PRIVATE_KEY.replace('/', "_").replace('+', "-");
        assert_eq!(
            api_sign(&Secret::new(url_safe), "/0/private/Balance", 1, "nonce=1"),
            Err(AuthError::PrivateKeyNotBase64)
        );
    }

    #[test]
    fn blank_key_is_a_typed_error() {
        assert_eq!(api_sign(&Secret::new(" \n"), "/0/private/Balance", 1, "nonce=1"), Err(AuthError::BlankPrivateKey));
    }

    #[test]
    fn debug_of_headers_and_errors_never_shows_secrets() {
        let api_key = Secret::new("PUBLICKEYxyz123");
        let headers =
            sign_request(&api_key, &private_key(), "/0/private/Balance", OFFICIAL_NONCE, "nonce=1616492376594")
                .unwrap();
        let debug = format!("{headers:?}");
        assert_hides(&debug, "PUBLICKEYxyz123");
        assert_hides(&debug, OFFICIAL_PRIVATE_KEY);
        assert!(debug.contains("[redacted]"));

        for error in [
            AuthError::BlankPrivateKey,
            AuthError::PrivateKeyNotBase64,
            AuthError::NotPrivatePath { path: "/0/public/Time".into() },
            AuthError::NonceExhausted,
        ] {
            assert_hides(&error.to_string(), OFFICIAL_PRIVATE_KEY);
            assert_hides(&format!("{error:?}"), OFFICIAL_PRIVATE_KEY);
        }
        assert_eq!(format!("{:?}", NonceSource::new(7)), "NonceSource { last: 7 }");
    }

    #[test]
    fn next_nonce_is_max_of_now_and_last_plus_one() {
        // Kraken needs a nonce that always increases: nonce = max(now_ms, last_nonce + 1).
        assert_eq!(next_nonce(1616492376594, 0), Ok(1616492376594));
        assert_eq!(next_nonce(1616492376594, 1616492376594), Ok(1616492376595), "same millisecond");
        assert_eq!(next_nonce(1616492376000, 1616492376594), Ok(1616492376595), "clock stepped back");
        // A key once used with microsecond nonces: keep counting up from there.
        assert_eq!(next_nonce(1616492376594, 1616492376594000), Ok(1616492376594001));
        assert_eq!(next_nonce(5, u64::MAX), Err(AuthError::NonceExhausted));
    }

    #[test]
    fn nonce_source_increases_within_one_millisecond() {
        let source = NonceSource::new(1616492376590);
        let now = 1616492376594;
        assert_eq!(source.next(now), Ok(now));
        assert_eq!(source.next(now), Ok(now + 1));
        assert_eq!(source.next(now), Ok(now + 2));
        assert_eq!(source.next(now + 1), Ok(now + 3), "the clock caught up but not past");
        assert_eq!(source.next(now + 10), Ok(now + 10), "the clock moved past");
        assert_eq!(source.next(now - 1000), Ok(now + 11), "the clock stepped back");
        assert_eq!(source.last(), now + 11);
    }

    #[test]
    fn nonce_source_resumes_after_the_persisted_nonce() {
        let source = NonceSource::new(2_000);
        assert_eq!(source.next(1_000), Ok(2_001));
        let exhausted = NonceSource::new(u64::MAX);
        assert_eq!(exhausted.next(1_000), Err(AuthError::NonceExhausted));
        assert_eq!(exhausted.last(), u64::MAX);
    }

    #[test]
    fn concurrent_callers_get_unique_increasing_nonces() {
        const THREADS: u64 = 8;
        const PER_THREAD: u64 = 2_000;
        let start = 1616492376594;
        let source = Arc::new(NonceSource::new(start - 1));
        let handles: Vec<_> = (0..THREADS)
            .map(|thread| {
                let source = Arc::clone(&source);
                std::thread::spawn(move || {
                    // Half the threads see a clock stuck in one millisecond, half a clock
                    // that ticks slowly: both must still get distinct, growing nonces.
                    (0..PER_THREAD)
                        .map(|call| source.next(if thread % 2 == 0 { start } else { start + call / 100 }).unwrap())
                        .collect::<Vec<u64>>()
                })
            })
            .collect();
        let mut all = Vec::new();
        for handle in handles {
            let nonces = handle.join().unwrap();
            assert!(nonces.windows(2).all(|pair| pair[0] < pair[1]), "each caller sees increasing nonces");
            all.extend(nonces);
        }
        all.sort_unstable();
        let expected: Vec<u64> = (start..start + THREADS * PER_THREAD).collect();
        assert_eq!(all, expected, "every nonce handed out once, none skipped");
        assert_eq!(source.last(), start + THREADS * PER_THREAD - 1);
    }
}

//! Signing Gemini's private REST calls, and choosing their nonces.
//!
//! Every private call is a `POST https://api.gemini.com/v1/<endpoint>` with an empty body; its
//! parameters travel in a JSON payload (<https://developer.gemini.com/authentication/api-key>):
//!
//! 1. the payload is a JSON object with `request` (the path, `/v1/mytrades`), `nonce` and the
//!    endpoint's parameters;
//! 2. `X-GEMINI-PAYLOAD` is the standard base64 of that JSON text;
//! 3. `X-GEMINI-SIGNATURE` is the lower-case hex HMAC-SHA384 of the base64 text, keyed with the
//!    API secret's ASCII bytes;
//! 4. `X-GEMINI-APIKEY` carries the key; `Content-Type: text/plain`, `Content-Length: 0`.
//!
//! The server hashes the base64 text as sent, so whitespace inside the JSON does not matter:
//! the documentation's own example (secret `1234abcd`, an indented payload) is a unit test.
//!
//! Nonces: a key made without "uses a time based nonce" needs a number that grows with every
//! request of the key ("session"); milliseconds or finer are recommended. [`NonceSource`] hands
//! out `max(now_ms, last + 1)`, so nonces grow across threads and within one millisecond.

use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use sha2::Sha384;

use crate::Secret;
use crate::hex::lower_hex;

/// The header that carries the API key.
pub const API_KEY_HEADER: &str = "X-GEMINI-APIKEY";
/// The header that carries the base64 payload.
pub const PAYLOAD_HEADER: &str = "X-GEMINI-PAYLOAD";
/// The header that carries the signature.
pub const SIGNATURE_HEADER: &str = "X-GEMINI-SIGNATURE";

/// Why a request could not be signed. Never holds the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The secret is empty or only whitespace.
    #[error("the Gemini API secret is empty")]
    BlankSecret,
    /// The last nonce is already the largest possible.
    #[error("no nonce is left for this Gemini key (the last one used is the largest possible); create a new API key")]
    NonceExhausted,
}

/// The JSON payload of a private call: `request`, `nonce`, then `params` in order. A value of
/// only ASCII digits (at most 18) is written as a JSON number (`timestamp`, `limit_trades`),
/// `true` and `false` as JSON booleans (`sortAsc` of `staking/history` is a boolean:
/// <https://docs.gemini.com/rest/staking#list-staking-transactions>), any other as a JSON string
/// (`symbol`).
pub fn payload(path: &str, nonce: u64, params: &[(String, String)]) -> String {
    // Strings through serde_json (escaping), members in this order.
    let quote = |text: &str| serde_json::Value::String(text.to_owned()).to_string();
    let mut json = format!("{{\"request\":{},\"nonce\":{nonce}", quote(path));
    for (name, value) in params {
        let numeric = !value.is_empty() && value.len() <= 18 && value.bytes().all(|b| b.is_ascii_digit());
        json.push(',');
        json.push_str(&quote(name));
        json.push(':');
        match value.parse::<u64>() {
            Ok(number) if numeric => json.push_str(&number.to_string()),
            _ if value == "true" || value == "false" => json.push_str(value),
            _ => json.push_str(&quote(value)),
        }
    }
    json.push('}');
    json
}

/// `X-GEMINI-PAYLOAD`: the standard base64 (with `=` padding) of the JSON text.
pub fn encode_payload(json: &str) -> String {
    BASE64.encode(json.as_bytes())
}

/// `X-GEMINI-SIGNATURE`: lower-case hex HMAC-SHA384 of the base64 payload, keyed with the
/// secret's bytes (surrounding whitespace of a pasted secret ignored).
pub fn signature(secret: &Secret, payload_b64: &str) -> Result<String, AuthError> {
    let key = secret.expose().trim();
    if key.is_empty() {
        return Err(AuthError::BlankSecret);
    }
    let mut mac = Hmac::<Sha384>::new_from_slice(key.as_bytes()).map_err(|_| AuthError::BlankSecret)?;
    mac.update(payload_b64.as_bytes());
    Ok(lower_hex(&mac.finalize().into_bytes()))
}

/// The signed headers of one private call: (name, value), the key, payload and signature.
pub fn sign(
    api_key: &Secret,
    secret: &Secret,
    path: &str,
    nonce: u64,
    params: &[(String, String)],
) -> Result<[(&'static str, String); 3], AuthError> {
    let b64 = encode_payload(&payload(path, nonce, params));
    let signature = signature(secret, &b64)?;
    Ok([(API_KEY_HEADER, api_key.expose().trim().to_owned()), (PAYLOAD_HEADER, b64), (SIGNATURE_HEADER, signature)])
}

/// Strictly increasing nonces for one key, safe to share between threads.
#[derive(Debug, Default)]
pub struct NonceSource {
    last: AtomicU64,
}

impl NonceSource {
    /// The next nonce at `now_ms`: `max(now_ms, last + 1)`.
    pub fn next(&self, now_ms: u64) -> Result<u64, AuthError> {
        let step = |last: u64| last.checked_add(1).map(|after| after.max(now_ms));
        match self.last.fetch_update(Ordering::AcqRel, Ordering::Acquire, step) {
            Ok(previous) => step(previous).ok_or(AuthError::NonceExhausted),
            Err(_) => Err(AuthError::NonceExhausted),
        }
    }

    /// The greatest nonce handed out so far.
    pub fn last(&self) -> u64 {
        self.last.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of Gemini's "Private API invocation" page
    /// (<https://developer.gemini.com/authentication/api-key>): secret `1234abcd`, the payload
    /// written with four-space indents, a blank line before `order_id` and a final newline.
    #[test]
    fn the_documentations_example_signs_to_its_published_values() {
        let json = "{\n    \"request\": \"/v1/order/status\",\n    \"nonce\": 123456,\n\n    \"order_id\": 18834\n}\n";
        let b64 = encode_payload(json);
        assert_eq!(
            b64,
            "ewogICAgInJlcXVlc3QiOiAiL3YxL29yZGVyL3N0YXR1cyIsCiAgICAibm9uY2UiOiAxMjM0NTYsCgogICAgIm9yZGVyX2lkIjogMTg4MzQKfQo="
        );
        assert_eq!(
            signature(&Secret::new("1234abcd"), &b64).unwrap(),
            "337cc8b4ea692cfe65b4a85fcc9f042b2e3f702ac956fd098d600ab15705775017beae402be773ceee10719ff70d710f"
        );
        // Another secret gives another signature.
        assert_ne!(
            signature(&Secret::new("1234abce"), &b64).unwrap(),
            signature(&Secret::new("1234abcd"), &b64).unwrap()
        );
    }

    #[test]
    fn payloads_put_request_and_nonce_first_and_numbers_as_numbers() {
        let params = vec![
            ("symbol".to_owned(), "btcusd".to_owned()),
            ("timestamp".to_owned(), "1700000000000".to_owned()),
            ("limit_trades".to_owned(), "500".to_owned()),
            ("sortAsc".to_owned(), "true".to_owned()),
        ];
        assert_eq!(
            payload("/v1/mytrades", 7, &params),
            r#"{"request":"/v1/mytrades","nonce":7,"symbol":"btcusd","timestamp":1700000000000,"limit_trades":500,"sortAsc":true}"#
        );
        let headers = sign(&Secret::new(" KEY "), &Secret::new("s"), "/v1/roles", 1, &[]).unwrap();
        assert_eq!(headers[0], (API_KEY_HEADER, "KEY".to_owned()));
        assert_eq!(headers[1].1, encode_payload(r#"{"request":"/v1/roles","nonce":1}"#));
        assert_eq!(sign(&Secret::new("K"), &Secret::new("  "), "/v1/roles", 1, &[]), Err(AuthError::BlankSecret));
    }

    #[test]
    fn nonces_grow_strictly_even_when_the_clock_stands_still_or_goes_back() {
        let nonces = NonceSource::default();
        assert_eq!(nonces.next(1_000).unwrap(), 1_000);
        assert_eq!(nonces.next(1_000).unwrap(), 1_001);
        assert_eq!(nonces.next(900).unwrap(), 1_002);
        assert_eq!(nonces.next(5_000).unwrap(), 5_000);
        assert_eq!(nonces.last(), 5_000);
        let full = NonceSource { last: AtomicU64::new(u64::MAX) };
        assert_eq!(full.next(1), Err(AuthError::NonceExhausted));
    }
}

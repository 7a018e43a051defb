//! Binance request signing for SIGNED endpoints (`USER_DATA` and up), with HMAC-SHA256 keys.
//!
//! A signed request carries its parameters as `key=value` pairs joined by `&`, in the order the
//! caller gives them, followed by `recvWindow` (when set) and then `timestamp` (milliseconds);
//! keys and values are percent-encoded except for the unreserved ASCII characters
//! `A-Z a-z 0-9 - . _ ~`, so non-ASCII text goes as its UTF-8 bytes in `%XX` form. That string is the query
//! string that is sent. The signature is the lowercase hex HMAC-SHA256 of the query string
//! followed, with no separator, by the request body (empty for GET), keyed with the secret's own
//! bytes (it is not base64- or hex-decoded). It goes last, as `&signature=<hex>`, and is not
//! itself signed; the API key travels in the `X-MBX-APIKEY` header. The server accepts a request
//! when `timestamp < serverTime + 1000` and `serverTime - timestamp <= recvWindow`, and answers
//! `-1021` otherwise: [`ClockOffset`] turns an answer of `GET /api/v3/time` into the timestamp
//! to send. Nothing here reads the clock; every time is a parameter.
//!
//! RSA and Ed25519 keys (same payload, base64 signature) are not supported: the reference gives
//! no test vector to check them against.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use thiserror::Error;

use crate::Secret;
use crate::hex::lower_hex;

/// The HTTP header that carries the API key on every signed request.
pub const API_KEY_HEADER: &str = "X-MBX-APIKEY";

/// The largest `recvWindow` Binance accepts, in milliseconds (a larger one gets `-1131`).
pub const MAX_RECV_WINDOW_MS: u32 = 60_000;

/// The parameters the signer appends itself, which a caller must not pass in.
const RESERVED_PARAMETERS: [&str; 3] = ["recvWindow", "timestamp", "signature"];

/// What can be wrong with the inputs of a signature; no message contains a key or secret.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// The API secret is empty or only whitespace.
    #[error("the Binance API secret is empty")]
    EmptySecret,
    /// The API secret starts or ends with whitespace, which Binance secrets never do.
    #[error(
        "the Binance API secret starts or ends with a space or line break; \
         it is used as-is, so enter it again without them"
    )]
    SecretHasSurroundingWhitespace,
    /// The API key is empty.
    #[error("the Binance API key is empty")]
    EmptyApiKey,
    /// The API key has characters that cannot be sent in the `X-MBX-APIKEY` header.
    #[error("the Binance API key contains spaces, line breaks or non-ASCII characters")]
    ApiKeyNotHeaderSafe,
    /// The `recvWindow` is zero or above [`MAX_RECV_WINDOW_MS`].
    #[error("recvWindow of {millis} ms is out of range: Binance accepts 1 to 60000 ms")]
    RecvWindowOutOfRange {
        /// The rejected value, in milliseconds.
        millis: u32,
    },
    /// A parameter the signer adds itself (`recvWindow`, `timestamp`, `signature`) was passed in.
    #[error("parameter `{name}` is added by the signer and must not be passed in")]
    ReservedParameter {
        /// The parameter's name.
        name: String,
    },
    /// A parameter name appears twice, which Binance rejects with `-1101`.
    #[error("parameter `{name}` is given twice; Binance rejects repeated parameters (-1101)")]
    DuplicateParameter {
        /// The parameter's name.
        name: String,
    },
    /// A parameter has an empty name.
    #[error("a request parameter has an empty name")]
    EmptyParameterName,
}

/// How long after its `timestamp` the server may still accept a request, in whole milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvWindow(u32);

impl RecvWindow {
    /// Binance's default window, 5000 ms, also what the docs recommend as an upper bound.
    pub const DEFAULT: RecvWindow = RecvWindow(5_000);

    /// A window of `millis` milliseconds, from 1 to [`MAX_RECV_WINDOW_MS`].
    pub fn from_millis(millis: u32) -> Result<RecvWindow, AuthError> {
        if millis == 0 || millis > MAX_RECV_WINDOW_MS {
            return Err(AuthError::RecvWindowOutOfRange { millis });
        }
        Ok(RecvWindow(millis))
    }

    /// The window in milliseconds.
    pub fn millis(self) -> u32 {
        self.0
    }
}

impl Default for RecvWindow {
    fn default() -> RecvWindow {
        RecvWindow::DEFAULT
    }
}

/// The difference between Binance's clock and ours, measured from one `GET /api/v3/time`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClockOffset {
    /// Server time minus local time, in milliseconds.
    millis: i64,
}

impl ClockOffset {
    /// No difference: what to use before the server time has been measured.
    pub const ZERO: ClockOffset = ClockOffset { millis: 0 };

    /// The offset given the `serverTime` of an answer and the local time (both in ms since the
    /// Unix epoch) read when that answer arrived. Reading the local time on arrival makes the
    /// timestamps err towards the past by the network delay, which `recvWindow` absorbs; a
    /// timestamp 1000 ms or more ahead of the server is refused outright.
    pub fn measure(server_time_ms: i64, local_time_ms: i64) -> ClockOffset {
        ClockOffset { millis: server_time_ms.saturating_sub(local_time_ms) }
    }

    /// Server time minus local time, in milliseconds.
    pub fn millis(self) -> i64 {
        self.millis
    }

    /// The `timestamp` to send for a request made at local time `local_now_ms` (ms since epoch).
    pub fn timestamp_at(self, local_now_ms: i64) -> i64 {
        local_now_ms.saturating_add(self.millis)
    }
}

/// The header name and value that identify the API key, checked to be sendable as a header.
pub fn api_key_header(api_key: &Secret) -> Result<(&'static str, &str), AuthError> {
    let key = api_key.expose();
    if key.is_empty() {
        return Err(AuthError::EmptyApiKey);
    }
    if !key.bytes().all(|byte| byte.is_ascii_graphic()) {
        return Err(AuthError::ApiKeyNotHeaderSafe);
    }
    Ok((API_KEY_HEADER, key))
}

/// The lowercase hex HMAC-SHA256 signature of `query` (without its leading `?`) followed
/// directly, with no `&` between them, by `body` (empty for GET), keyed with the API secret.
pub fn signature(secret: &Secret, query: &str, body: &str) -> Result<String, AuthError> {
    let key = checked_secret(secret)?;
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(query.as_bytes());
    mac.update(body.as_bytes());
    Ok(lower_hex(&mac.finalize().into_bytes()))
}

/// The total parameters as sent and signed: `params` in the given order, then `recvWindow`
/// (when given) and `timestamp` (ms), each key and value percent-encoded.
pub fn total_params(
    params: &[(&str, &str)],
    recv_window: Option<RecvWindow>,
    timestamp_ms: i64,
) -> Result<String, AuthError> {
    for (index, (name, _)) in params.iter().enumerate() {
        if name.is_empty() {
            return Err(AuthError::EmptyParameterName);
        }
        if RESERVED_PARAMETERS.contains(name) {
            return Err(AuthError::ReservedParameter { name: (*name).to_owned() });
        }
        if params[..index].iter().any(|(earlier, _)| earlier == name) {
            return Err(AuthError::DuplicateParameter { name: (*name).to_owned() });
        }
    }
    let mut query = String::new();
    for (name, value) in params {
        push_pair(&mut query, name, value);
    }
    if let Some(window) = recv_window {
        push_pair(&mut query, "recvWindow", &window.millis().to_string());
    }
    push_pair(&mut query, "timestamp", &timestamp_ms.to_string());
    Ok(query)
}

/// The query string to send for a request whose parameters all go in the query string (every
/// GET): [`total_params`] followed by `&signature=<hex>`.
pub fn signed_query(
    secret: &Secret,
    params: &[(&str, &str)],
    recv_window: Option<RecvWindow>,
    timestamp_ms: i64,
) -> Result<String, AuthError> {
    let mut query = total_params(params, recv_window, timestamp_ms)?;
    let signature = signature(secret, &query, "")?;
    query.push_str("&signature=");
    query.push_str(&signature);
    Ok(query)
}

/// The secret text, once it is known to be usable as an HMAC key.
fn checked_secret(secret: &Secret) -> Result<&str, AuthError> {
    let text = secret.expose();
    if text.trim().is_empty() {
        return Err(AuthError::EmptySecret);
    }
    if text.trim() != text {
        return Err(AuthError::SecretHasSurroundingWhitespace);
    }
    Ok(text)
}

/// Appends `name=value` to a query string, with a `&` before it unless it is the first pair.
fn push_pair(query: &mut String, name: &str, value: &str) {
    if !query.is_empty() {
        query.push('&');
    }
    push_percent_encoded(query, name);
    query.push('=');
    push_percent_encoded(query, value);
}

/// Appends `text` with every byte other than unreserved ASCII written as `%XX` (upper case).
fn push_percent_encoded(out: &mut String, text: &str) {
    const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX_UPPER[usize::from(byte >> 4)]));
            out.push(char::from(HEX_UPPER[usize::from(byte & 0x0f)]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Demo credentials published in Binance's official docs (<https://developers.binance.com/docs/binance-spot-api-docs/rest-api/endpoint-security-type>).
    const DEMO_API_KEY: &str = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
    const DEMO_SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
    // The timestamp used by every signing example of Binance's signing docs (https://developers.binance.com/docs/binance-spot-api-docs/rest-api/endpoint-security-type).
    const VECTOR_TIMESTAMP_MS: i64 = 1_499_827_319_559;

    fn demo_secret() -> Secret {
        Secret::new(DEMO_SECRET)
    }

    fn order_params(symbol: &str) -> Vec<(&str, &str)> {
        vec![
            ("symbol", symbol),
            ("side", "BUY"),
            ("type", "LIMIT"),
            ("timeInForce", "GTC"),
            ("quantity", "1"),
            ("price", "0.1"),
        ]
    }

    fn window_5000() -> Option<RecvWindow> {
        Some(RecvWindow::from_millis(5000).unwrap())
    }

    /// Binance's signing example A: every parameter in one string.
    #[test]
    fn official_vector_a_all_parameters_in_the_query_string() {
        let payload = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1\
                       &recvWindow=5000&timestamp=1499827319559";
        let expected = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71";

        let params = order_params("LTCBTC");
        assert_eq!(total_params(&params, window_5000(), VECTOR_TIMESTAMP_MS).unwrap(), payload);
        assert_eq!(signature(&demo_secret(), payload, "").unwrap(), expected);
        // Same result when the whole string is the body instead (§2.3: "query string or body").
        assert_eq!(signature(&demo_secret(), "", payload).unwrap(), expected);
        assert_eq!(
            signed_query(&demo_secret(), &params, window_5000(), VECTOR_TIMESTAMP_MS).unwrap(),
            format!("{payload}&signature={expected}")
        );
    }

    /// Binance's signing example B: query string and body joined with no `&` between them.
    #[test]
    fn official_vector_b_query_and_body_concatenated_without_separator() {
        let query = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC";
        let body = "quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";
        let payload = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTCquantity=1&price=0.1\
                       &recvWindow=5000&timestamp=1499827319559";
        let expected = "0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77";

        assert_eq!(format!("{query}{body}"), payload);
        assert_eq!(signature(&demo_secret(), query, body).unwrap(), expected);
        assert_eq!(signature(&demo_secret(), payload, "").unwrap(), expected);
    }

    /// Binance's signing example C: a non-ASCII symbol is percent-encoded (UTF-8) before signing.
    #[test]
    fn official_vector_c_non_ascii_symbol_is_percent_encoded() {
        let payload = "symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96\
                       &side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1\
                       &recvWindow=5000&timestamp=1499827319559";
        let expected = "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3";

        let params = order_params("１２３４５６");
        assert_eq!(total_params(&params, window_5000(), VECTOR_TIMESTAMP_MS).unwrap(), payload);
        assert_eq!(
            signed_query(&demo_secret(), &params, window_5000(), VECTOR_TIMESTAMP_MS).unwrap(),
            format!("{payload}&signature={expected}")
        );
    }

    /// "Derived" (computed with the demo secret, not published by Binance):
    /// the myTrades GET and the deposit-history GET.
    #[test]
    fn derived_vectors_for_history_gets() {
        let my_trades = signed_query(
            &demo_secret(),
            &[("symbol", "BNBBTC"), ("fromId", "0"), ("limit", "1000")],
            window_5000(),
            VECTOR_TIMESTAMP_MS,
        )
        .unwrap();
        assert_eq!(
            my_trades,
            "symbol=BNBBTC&fromId=0&limit=1000&recvWindow=5000&timestamp=1499827319559\
             &signature=c10a98c1d194588c38ef86c2baefe8490b14b3f8276930a36847bad11a84b83d"
        );

        let deposits = signed_query(
            &demo_secret(),
            &[
                ("coin", "BTC"),
                ("startTime", "1500000000000"),
                ("endTime", "1507000000000"),
                ("offset", "0"),
                ("limit", "1000"),
            ],
            window_5000(),
            VECTOR_TIMESTAMP_MS,
        )
        .unwrap();
        assert_eq!(
            deposits,
            "coin=BTC&startTime=1500000000000&endTime=1507000000000&offset=0&limit=1000\
             &recvWindow=5000&timestamp=1499827319559\
             &signature=af37bb1be571f71c3385c70c6dd29f5f372e827ff19e42e5c24adb704ccba4e9"
        );
    }

    /// Binance's signing docs and their wire example: the header carries the key as-is.
    #[test]
    fn api_key_header_carries_the_demo_key() {
        let api_key = Secret::new(DEMO_API_KEY);
        assert_eq!(api_key_header(&api_key).unwrap(), ("X-MBX-APIKEY", DEMO_API_KEY));
    }

    #[test]
    fn api_key_with_a_line_break_or_blank_is_refused() {
        assert_eq!(api_key_header(&Secret::new("")), Err(AuthError::EmptyApiKey));
        assert_eq!(api_key_header(&Secret::new(format!("{DEMO_API_KEY}\n"))), Err(AuthError::ApiKeyNotHeaderSafe));
        assert_eq!(api_key_header(&Secret::new("abc def")), Err(AuthError::ApiKeyNotHeaderSafe));
    }

    #[test]
    fn without_recv_window_the_timestamp_comes_last() {
        let query = total_params(&[("symbol", "BNBBTC")], None, VECTOR_TIMESTAMP_MS).unwrap();
        assert_eq!(query, "symbol=BNBBTC&timestamp=1499827319559");
        let query = total_params(&[], None, VECTOR_TIMESTAMP_MS).unwrap();
        assert_eq!(query, "timestamp=1499827319559");
    }

    #[test]
    fn signed_query_without_recv_window_signs_what_it_sends() {
        let query = signed_query(&demo_secret(), &[], None, VECTOR_TIMESTAMP_MS).unwrap();
        let (signed, signature_hex) = query.split_once("&signature=").unwrap();
        assert_eq!(signed, "timestamp=1499827319559");
        assert_eq!(signature_hex, signature(&demo_secret(), signed, "").unwrap());
        assert_eq!(signature_hex.len(), 64);
        assert!(signature_hex.bytes().all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f')));
    }

    #[test]
    fn reserved_ascii_in_values_is_percent_encoded() {
        let query = total_params(&[("note", "a b&c=d/+%"), ("list", "[\"BTC\",\"ETH\"]")], None, 1).unwrap();
        assert_eq!(query, "note=a%20b%26c%3Dd%2F%2B%25&list=%5B%22BTC%22%2C%22ETH%22%5D&timestamp=1");
        let query = total_params(&[("amount", "-1.5_x~")], None, 1).unwrap();
        assert_eq!(query, "amount=-1.5_x~&timestamp=1");
    }

    #[test]
    fn parameters_the_signer_adds_cannot_be_passed_in() {
        for name in ["timestamp", "recvWindow", "signature"] {
            assert_eq!(
                total_params(&[("symbol", "BNBBTC"), (name, "1")], None, 1),
                Err(AuthError::ReservedParameter { name: name.to_owned() })
            );
        }
    }

    #[test]
    fn repeated_or_unnamed_parameters_are_refused() {
        assert_eq!(
            total_params(&[("symbol", "BNBBTC"), ("limit", "10"), ("symbol", "ETHBTC")], None, 1),
            Err(AuthError::DuplicateParameter { name: "symbol".to_owned() })
        );
        assert_eq!(total_params(&[("", "x")], None, 1), Err(AuthError::EmptyParameterName));
    }

    /// Binance's timing-security docs: recvWindow default 5000, maximum 60000 (above it: -1131).
    #[test]
    fn recv_window_is_bounded_by_binance_limits() {
        assert_eq!(RecvWindow::default().millis(), 5_000);
        assert_eq!(RecvWindow::from_millis(60_000).unwrap().millis(), 60_000);
        assert_eq!(RecvWindow::from_millis(1).unwrap().millis(), 1);
        assert_eq!(RecvWindow::from_millis(60_001), Err(AuthError::RecvWindowOutOfRange { millis: 60_001 }));
        assert_eq!(RecvWindow::from_millis(0), Err(AuthError::RecvWindowOutOfRange { millis: 0 }));
    }

    #[test]
    fn blank_secret_is_refused() {
        assert_eq!(signature(&Secret::new(""), "a=1", ""), Err(AuthError::EmptySecret));
        assert_eq!(signature(&Secret::new(" \n"), "a=1", ""), Err(AuthError::EmptySecret));
    }

    #[test]
    fn secret_with_a_trailing_line_break_is_refused_rather_than_signing_wrongly() {
        let pasted = Secret::new(format!("{DEMO_SECRET}\n"));
        assert_eq!(signature(&pasted, "a=1", ""), Err(AuthError::SecretHasSurroundingWhitespace));
        assert_eq!(
            signed_query(&pasted, &[], None, VECTOR_TIMESTAMP_MS),
            Err(AuthError::SecretHasSurroundingWhitespace)
        );
    }

    #[test]
    fn errors_never_show_the_secret_or_the_key() {
        let secret_errors = [
            signature(&Secret::new(format!(" {DEMO_SECRET}")), "a=1", "").unwrap_err(),
            signature(&Secret::new(format!("{DEMO_SECRET}\r\n")), "a=1", "").unwrap_err(),
            signature(&Secret::new("   "), "a=1", "").unwrap_err(),
            api_key_header(&Secret::new(format!("{DEMO_API_KEY} "))).unwrap_err(),
            api_key_header(&Secret::new(format!("{DEMO_API_KEY}é"))).unwrap_err(),
            api_key_header(&Secret::new("")).unwrap_err(),
            RecvWindow::from_millis(70_000).unwrap_err(),
            total_params(&[("timestamp", DEMO_SECRET)], None, 1).unwrap_err(),
            total_params(&[("a", DEMO_SECRET), ("a", DEMO_SECRET)], None, 1).unwrap_err(),
            total_params(&[("", DEMO_SECRET)], None, 1).unwrap_err(),
        ];
        for error in &secret_errors {
            for text in [error.to_string(), format!("{error:?}"), format!("{error:#?}")] {
                // No piece of either credential, not even its first few characters.
                for credential in [DEMO_SECRET, DEMO_API_KEY] {
                    assert!(!text.contains(&credential[..6]), "{text}");
                    assert!(!text.contains(&credential[credential.len() - 6..]), "{text}");
                }
            }
        }
    }

    #[test]
    fn debug_of_the_signing_types_shows_no_secret() {
        let offset = ClockOffset::measure(VECTOR_TIMESTAMP_MS, VECTOR_TIMESTAMP_MS - 1_234);
        let window = RecvWindow::DEFAULT;
        for text in [format!("{offset:?}"), format!("{window:?}"), format!("{:?}", demo_secret())] {
            assert!(!text.contains(&DEMO_SECRET[..6]), "{text}");
        }
        assert_eq!(format!("{offset:?}"), "ClockOffset { millis: 1234 }");
        assert_eq!(format!("{window:?}"), "RecvWindow(5000)");
    }

    /// Binance's timing-security docs: the server time from GET /api/v3/time is added to every timestamp.
    #[test]
    fn clock_offset_moves_the_local_clock_onto_the_server_clock() {
        // Server 1500 ms ahead of us when its answer arrived.
        let ahead = ClockOffset::measure(1_499_827_319_559, 1_499_827_318_059);
        assert_eq!(ahead.millis(), 1_500);
        assert_eq!(ahead.timestamp_at(1_499_827_318_059), 1_499_827_319_559);
        assert_eq!(ahead.timestamp_at(1_499_827_320_000), 1_499_827_321_500);

        // Server 2 s behind us: without the offset the request would be 2 s ahead and refused (-1021).
        let behind = ClockOffset::measure(1_499_827_319_559, 1_499_827_321_559);
        assert_eq!(behind.millis(), -2_000);
        assert_eq!(behind.timestamp_at(1_499_827_321_600), 1_499_827_319_600);

        assert_eq!(ClockOffset::default(), ClockOffset::ZERO);
        assert_eq!(ClockOffset::ZERO.timestamp_at(VECTOR_TIMESTAMP_MS), VECTOR_TIMESTAMP_MS);
    }

    #[test]
    fn clock_offset_saturates_instead_of_overflowing() {
        let huge = ClockOffset::measure(i64::MAX, -1);
        assert_eq!(huge.millis(), i64::MAX);
        assert_eq!(huge.timestamp_at(10), i64::MAX);
        assert_eq!(ClockOffset::measure(i64::MIN, 1).timestamp_at(-10), i64::MIN);
    }

    #[test]
    fn offset_timestamp_feeds_the_signer() {
        let offset = ClockOffset::measure(VECTOR_TIMESTAMP_MS, VECTOR_TIMESTAMP_MS - 250);
        let local_now = VECTOR_TIMESTAMP_MS - 250;
        let query = signed_query(
            &demo_secret(),
            &[("symbol", "BNBBTC"), ("fromId", "0"), ("limit", "1000")],
            window_5000(),
            offset.timestamp_at(local_now),
        )
        .unwrap();
        // The same request as the derived myTrades vector above.
        assert!(query.ends_with("&signature=c10a98c1d194588c38ef86c2baefe8490b14b3f8276930a36847bad11a84b83d"));
    }
}

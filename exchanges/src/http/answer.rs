//! Reading an exchange's answer: the parts of [`Protocol::judge`](super::Protocol::judge) and of
//! answer parsing that every exchange shares.
//!
//! What stays with each exchange is what is truly its own: its error body's shape and its
//! table of error codes (which mean a key problem, which a rate limit, which are retried).
//! What is the same everywhere lives here: a 2xx answer whose body is not complete JSON was
//! cut short on the way and is fetched again; the start of a body that is not the exchange's
//! error JSON goes into the error message; an answer that is not what its endpoint documents
//! is a [`FetchError::Malformed`] naming the exchange and the endpoint.

use serde::Deserialize;

use super::{FetchError, Verdict};

/// How many characters of an unreadable body an error message quotes.
const SNIPPET_CHARS: usize = 120;

/// The verdict on a 2xx answer: [`Verdict::Ok`] when the body is complete JSON, else a retry
/// (a body cut short without the transport noticing is not JSON: fetch it again).
pub fn complete_json(status: u16, body: &[u8]) -> Verdict {
    if serde_json::from_slice::<serde::de::IgnoredAny>(body).is_err() {
        return incomplete(status, body);
    }
    Verdict::Ok
}

/// The retry verdict for a 2xx answer whose body is not complete JSON.
pub fn incomplete(status: u16, body: &[u8]) -> Verdict {
    Verdict::Retry {
        reason: format!("HTTP {status}: the answer is not complete JSON ({} bytes)", body.len()),
        after: None,
    }
}

/// The start of a body that is not the exchange's error JSON, for an error message: control
/// characters dropped, at most 120 characters, trimmed; `(empty answer)` when nothing is left.
pub fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text: String = text.chars().filter(|c| !c.is_control()).take(SNIPPET_CHARS).collect();
    if text.trim().is_empty() { "(empty answer)".to_owned() } else { text.trim().to_owned() }
}

/// An answer of `exchange`'s `endpoint` that is not what the endpoint documents.
pub fn malformed(exchange: &str, endpoint: &str, reason: String) -> FetchError {
    FetchError::Malformed { exchange: exchange.to_owned(), endpoint: endpoint.to_owned(), reason }
}

/// `body` read as `T`, or [`malformed`] saying why not.
pub fn parse<'a, T: Deserialize<'a>>(exchange: &str, endpoint: &str, body: &'a [u8]) -> Result<T, FetchError> {
    serde_json::from_slice(body).map_err(|error| malformed(exchange, endpoint, error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_2xx_body_cut_short_is_fetched_again() {
        assert!(matches!(complete_json(200, br#"{"a": [1, 2]}"#), Verdict::Ok));
        match complete_json(200, br#"{"a": [1, "#) {
            Verdict::Retry { reason, after: None } => {
                assert_eq!(reason, "HTTP 200: the answer is not complete JSON (10 bytes)");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(complete_json(204, b""), Verdict::Retry { .. }));
    }

    #[test]
    fn snippets_quote_the_start_of_a_body_on_one_line() {
        assert_eq!(snippet(b"  <html>\r\n<body>Bad Gateway</body>  "), "<html><body>Bad Gateway</body>");
        assert_eq!(snippet(b" \n\t "), "(empty answer)");
        assert_eq!(snippet(b""), "(empty answer)");
        let long = "x".repeat(500);
        assert_eq!(snippet(long.as_bytes()).len(), 120);
        assert_eq!(snippet(&[0xff, b'a']), "\u{fffd}a");
    }

    #[test]
    fn malformed_answers_name_exchange_endpoint_and_reason() {
        let error = malformed("binance", "myTrades", "missing field `qty`".to_owned());
        assert!(matches!(
            &error,
            FetchError::Malformed { exchange, endpoint, reason }
                if exchange == "binance" && endpoint == "myTrades" && reason == "missing field `qty`"
        ));
        let parsed: Result<Vec<u32>, _> = parse("kraken", "Ledgers", b"[1, 2]");
        assert_eq!(parsed.unwrap(), vec![1, 2]);
        let refused: Result<Vec<u32>, _> = parse("kraken", "Ledgers", b"{}");
        assert!(matches!(refused, Err(FetchError::Malformed { endpoint, .. }) if endpoint == "Ledgers"));
    }
}

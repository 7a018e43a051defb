//! How an adapter writes its cursors: JSON of a small struct of its own.
//!
//! The sync engine stores a stream's cursor as text beside the records it has committed and
//! hands it back at the next run (see [`crate::adapter::Adapter::start`]); only the adapter
//! that wrote it reads it. Every adapter writes it the same way, through [`encode`] and
//! [`decode`]: the JSON of a `serde` struct, with defaults for the fields it leaves out, so a
//! cursor is readable in the ledger (`{"from_ms":1500000000000,"page":2,…}`) and a field added
//! later reads as its default in a cursor written before. The empty text is the cursor of a
//! walk that has not started (the struct's default).
//!
//! Cursors written before this format (Binance's `fromId=N` and `from=MS;page=N;…`, Kraken's
//! `end=ID;top=ID@MS;…`) are still read by their adapter, so a ledger synced by an earlier
//! version resumes where it stopped; the next page writes the JSON form.

use serde::Serialize;
use serde::de::DeserializeOwned;

/// `cursor` as its stored text: compact JSON.
pub fn encode<T: Serialize>(cursor: &T) -> String {
    // A struct of strings, numbers, maps with string keys and options cannot fail to serialise.
    serde_json::to_string(cursor).unwrap_or_default()
}

/// The cursor stored as `text`: the default one for empty text, `None` when the text is not
/// this kind of cursor's JSON.
pub fn decode<T: DeserializeOwned + Default>(text: &str) -> Option<T> {
    if text.trim().is_empty() { Some(T::default()) } else { serde_json::from_str(text).ok() }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
    struct Walk {
        #[serde(default)]
        from_ms: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        hold_ms: Option<i64>,
    }

    #[test]
    fn cursors_read_back_what_they_write() {
        let walk = Walk { from_ms: 5, hold_ms: Some(3) };
        assert_eq!(encode(&walk), r#"{"from_ms":5,"hold_ms":3}"#);
        assert_eq!(decode::<Walk>(&encode(&walk)), Some(walk));
        assert_eq!(encode(&Walk::default()), r#"{"from_ms":0}"#);
    }

    #[test]
    fn empty_text_is_a_fresh_walk_and_other_text_is_refused() {
        assert_eq!(decode::<Walk>(""), Some(Walk::default()));
        assert_eq!(decode::<Walk>("  "), Some(Walk::default()));
        assert_eq!(decode::<Walk>("{}"), Some(Walk::default()));
        assert_eq!(decode::<Walk>("from=5;page=0"), None);
        assert_eq!(decode::<Walk>(r#"{"from_ms":"x"}"#), None);
    }
}

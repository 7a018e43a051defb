//! JSON for the simulators, always through `serde_json`: records rendered once and kept as
//! raw JSON, pages assembled from them without re-parsing, objects whose keys keep the order
//! an exchange sends them in, and numbers written exactly as an exchange writes them.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::value::RawValue;

/// A value rendered to JSON once, to be served many times.
pub fn render(value: &impl Serialize) -> Box<RawValue> {
    // Plain data (structs, strings, numbers, maps with string keys) always serialises.
    serde_json::value::to_raw_value(value).unwrap_or_else(|_| null())
}

/// A value as JSON text.
pub fn text(value: &impl Serialize) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

/// A JSON number written exactly as given (`1688464484.1780`, with its trailing zero), for
/// exchanges whose numbers carry a fixed count of places; `null` if `digits` is no number.
/// Use it in a `Serialize` struct or an [`Ordered`] object: `json!` would re-read it as a float.
pub fn number(digits: String) -> Box<RawValue> {
    match digits.parse::<rust_decimal::Decimal>() {
        Ok(_) => RawValue::from_string(digits).unwrap_or_else(|_| null()),
        Err(_) => null(),
    }
}

/// JSON `null`.
fn null() -> Box<RawValue> {
    Box::<RawValue>::default()
}

/// An object whose keys keep the given order (a `serde_json::Map` would sort them), as
/// Kraken's ledger and trade pages list records newest first under their ids.
#[derive(Debug, Clone, PartialEq)]
pub struct Ordered<K, V>(pub Vec<(K, V)>);

impl<K: Serialize, V: Serialize> Serialize for Ordered<K, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_records_make_pages_and_ordered_objects_keep_their_order() {
        let first = render(&serde_json::json!({ "id": 1, "amount": "0.50000000" }));
        let second = render(&serde_json::json!({ "id": 2 }));
        assert_eq!(text(&[&first, &second]), r#"[{"amount":"0.50000000","id":1},{"id":2}]"#);
        let ordered = Ordered(vec![("b", &first), ("a", &second)]);
        assert_eq!(text(&ordered), r#"{"b":{"amount":"0.50000000","id":1},"a":{"id":2}}"#);
        assert_eq!(text(&Ordered(vec![("time", number("1688464484.1780".into()))])), r#"{"time":1688464484.1780}"#);
        assert_eq!(number("12; drop".into()).get(), "null");
    }
}

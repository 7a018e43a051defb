//! Stable pseudonyms for what identifies a person: account labels, addresses and tx hashes.
//!
//! Within one bundle the same original always becomes the same pseudonym (so a withdrawal's
//! tx hash still equals its deposit's, and transfers still match), and the pseudonym is a
//! keyed digest: SHA-256 of a random per-bundle salt and the original, never stored, so a
//! pseudonym cannot be turned back by hashing known addresses.

use std::collections::BTreeMap;

use aho_corasick::{AhoCorasick, MatchKind};

use crate::digest::sha256_hex;

/// Shorter originals are replaced only where they are a whole value (a label such as `main`
/// must not rewrite `mainnet` inside a record).
pub const MIN_SUBSTRING: usize = 6;

/// What kind of identifier an original is; names the pseudonym's prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// An account label.
    Label,
    /// A blockchain (or deposit) address, a memo or tag.
    Address,
    /// A transaction hash.
    TxHash,
}

/// Originals and their pseudonyms.
pub struct Pseudonyms {
    salt: String,
    map: BTreeMap<String, String>,
}

impl Pseudonyms {
    /// An empty table with a fresh random salt.
    pub fn new(salt: String) -> Pseudonyms {
        Pseudonyms { salt, map: BTreeMap::new() }
    }

    /// The pseudonym of `original` (added when first seen); empty text stays empty.
    pub fn of(&mut self, kind: Kind, original: &str) -> String {
        if original.is_empty() {
            return String::new();
        }
        if let Some(p) = self.map.get(original) {
            return p.clone();
        }
        let prefix = match kind {
            Kind::Label => "account",
            Kind::Address => "addr",
            Kind::TxHash => "tx",
        };
        // Hashes that transfer matching takes as equal (case, `0x`) get one pseudonym.
        let compared = match kind {
            Kind::TxHash => crate::transfers::hash_key(original),
            Kind::Label | Kind::Address => original.to_string(),
        };
        let digest = sha256_hex(format!("{}\u{0}{compared}", self.salt).as_bytes());
        let pseudonym = format!("{prefix}-{}", &digest[..16]);
        self.map.insert(original.to_string(), pseudonym.clone());
        pseudonym
    }

    /// Account labels become `account-001`, `account-002`, … in the labels' own sorted order,
    /// so whatever is ordered by label (ties between accounts) keeps its order.
    pub fn labels(&mut self, labels: &[String]) {
        let mut sorted: Vec<&String> = labels.iter().collect();
        sorted.sort();
        sorted.dedup();
        for (rank, label) in sorted.into_iter().enumerate() {
            self.map.insert(label.clone(), format!("account-{:03}", rank + 1));
        }
    }

    /// Whether nothing was collected.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// A replacer of every original (long enough to be searched for) inside any text.
    pub fn replacer(&self) -> Replacer {
        let (patterns, replacements): (Vec<&String>, Vec<&String>) =
            self.map.iter().filter(|(original, _)| original.len() >= MIN_SUBSTRING).unzip();
        let automaton = AhoCorasick::builder().match_kind(MatchKind::LeftmostLongest).build(&patterns).ok();
        Replacer { automaton, replacements: replacements.into_iter().cloned().collect(), whole: self.map.clone() }
    }
}

/// Rewrites text: whole values that are originals, and originals found inside longer text.
pub struct Replacer {
    automaton: Option<AhoCorasick>,
    replacements: Vec<String>,
    whole: BTreeMap<String, String>,
}

impl Replacer {
    /// Whether `text` holds an original (whole, or inside it when long enough).
    pub fn touches(&self, text: &str) -> bool {
        self.whole.contains_key(text) || self.automaton.as_ref().is_some_and(|a| a.is_match(text))
    }

    /// `text` with every original replaced by its pseudonym.
    pub fn apply(&self, text: &str) -> String {
        if let Some(p) = self.whole.get(text) {
            return p.clone();
        }
        match &self.automaton {
            Some(automaton) => automaton.replace_all(text, &self.replacements),
            None => text.to_string(),
        }
    }
}

/// Whether a JSON field of a raw record holds an address, a tag or a tx hash (by its name).
pub fn identifying_field(name: &str) -> Option<Kind> {
    let name = name.to_ascii_lowercase().replace(['_', '-'], "");
    if name.contains("txid") || name.contains("txhash") || name == "hash" || name.ends_with("transactionhash") {
        Some(Kind::TxHash)
    } else if name.contains("address") || name.contains("addresstag") || name == "memo" || name == "tag" {
        Some(Kind::Address)
    } else {
        None
    }
}

/// Collects the identifying values of a raw record's JSON (by field name, at any depth).
pub fn collect_json(value: &serde_json::Value, pseudonyms: &mut Pseudonyms) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map {
                match (identifying_field(key), v) {
                    (Some(kind), serde_json::Value::String(s)) => {
                        pseudonyms.of(kind, s);
                    }
                    _ => collect_json(v, pseudonyms),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_json(v, pseudonyms)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_original_gets_the_same_pseudonym_and_short_ones_stay_inside_text() {
        let mut p = Pseudonyms::new("salt".into());
        let a = p.of(Kind::Address, "bc1qexampleaddress");
        assert_eq!(p.of(Kind::Address, "bc1qexampleaddress"), a);
        assert!(a.starts_with("addr-"));
        let main = p.of(Kind::Label, "main");
        let r = p.replacer();
        assert_eq!(r.apply("main"), main);
        assert_eq!(r.apply("mainnet"), "mainnet");
        assert_eq!(r.apply("{\"address\":\"bc1qexampleaddress\"}"), format!("{{\"address\":\"{a}\"}}"));
        assert_ne!(Pseudonyms::new("other".into()).of(Kind::Address, "bc1qexampleaddress"), a);
        // Transfer matching compares hashes without case and `0x`: so do their pseudonyms.
        assert_eq!(p.of(Kind::TxHash, "0xABCdef123"), p.of(Kind::TxHash, "abcdef123"));
    }

    #[test]
    fn identifying_fields_are_found_at_any_depth() {
        let mut p = Pseudonyms::new("s".into());
        let json = serde_json::json!({"txId": "0xabc123456", "nested": [{"deposit_address": "T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb"}], "amount": "1"});
        collect_json(&json, &mut p);
        let r = p.replacer();
        let text = json.to_string();
        let out = r.apply(&text);
        assert!(!out.contains("0xabc123456") && !out.contains("T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb"), "{out}");
        assert!(out.contains("\"amount\":\"1\""));
    }
}

//! Keys for events whose file gives them no id: a hash of what the event is, and how many
//! identical events came before it in the same file.
//!
//! The hash covers the economically meaningful content (time, kind, legs, tx hash), not the
//! file's layout, so the same history exported twice — or in overlapping date ranges — is
//! recognised; two identical rows in one file (two equal rewards in the same second) stay two
//! events.
//!
//! The key starts with the event's time, zero-padded, so keys sort by time: a history file
//! (time-ordered) then appends to the ledger's unique indexes instead of writing all over
//! them, which keeps a million-row import within the page cache.

use std::collections::HashMap;

use cointally_exchanges::NewEvent;
use cointally_exchanges::amount::format_amount;
use cointally_exchanges::time::to_millis;

use crate::digest::hex;
use sha2::{Digest, Sha256};

/// Derives content keys for one file.
#[derive(Default)]
pub struct Keys {
    seen: HashMap<[u8; 16], u32>,
}

impl Keys {
    /// The key of `event`: `h:`, the time in milliseconds (13 digits), `:`, 24 hex digits of
    /// the content hash, then `#n` for the n-th repeat in this file.
    pub fn derive(&mut self, event: &NewEvent) -> String {
        let digest = content_hash(event);
        let count = self.seen.entry(digest).or_insert(0);
        let key = format!("h:{:013}:{}", to_millis(event.time), hex(&digest[..12]));
        let key = if *count == 0 { key } else { format!("{key}#{count}") };
        *count += 1;
        key
    }
}

fn content_hash(event: &NewEvent) -> [u8; 16] {
    let mut legs: Vec<(&str, &str, String)> =
        event.legs.iter().map(|l| (l.role.as_str(), l.asset.as_str(), format_amount(l.amount))).collect();
    legs.sort();
    let mut hasher = Sha256::new();
    hasher.update(to_millis(event.time).to_le_bytes());
    hasher.update(event.kind.as_str());
    for (role, asset, amount) in &legs {
        hasher.update([0]);
        hasher.update(role);
        hasher.update([0]);
        hasher.update(asset);
        hasher.update([0]);
        hasher.update(amount);
    }
    hasher.update([1]);
    hasher.update(event.tx_hash.as_deref().unwrap_or(""));
    let full = hasher.finalize();
    let mut out = [0u8; 16];
    out.copy_from_slice(&full[..16]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use cointally_exchanges::{EventKind, Leg};
    use rust_decimal::Decimal;

    fn reward(amount: i64) -> NewEvent {
        let t = Utc.with_ymd_and_hms(2025, 4, 10, 9, 0, 0).unwrap();
        NewEvent::new("", t, EventKind::Staking, vec![Leg::received("ETH", Decimal::new(amount, 2))])
    }

    #[test]
    fn same_content_same_key_and_repeats_are_numbered() {
        let mut first = Keys::default();
        let a = first.derive(&reward(1));
        let again = first.derive(&reward(1));
        let other = first.derive(&reward(2));
        assert_eq!(a.len(), 2 + 13 + 1 + 24);
        assert!(a.starts_with("h:1744275600000:"), "{a}");
        assert_eq!(again, format!("{a}#1"));
        assert_ne!(a, other);
        // A second file with the same event gets the same first key.
        assert_eq!(Keys::default().derive(&reward(1)), a);
    }

    #[test]
    fn leg_order_and_number_layout_do_not_matter() {
        let t = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
        let one = NewEvent::new(
            "",
            t,
            EventKind::Trade,
            vec![Leg::sent("USD", Decimal::new(100, 0)), Leg::received("BTC", Decimal::new(10, 1))],
        );
        let two = NewEvent::new(
            "",
            t,
            EventKind::Trade,
            vec![Leg::received("BTC", Decimal::new(1, 0)), Leg::sent("USD", Decimal::new(10000, 2))],
        );
        assert_eq!(Keys::default().derive(&one), Keys::default().derive(&two));
    }
}

//! Details records: tx hashes, addresses and networks from an exchange's deposit and withdrawal
//! histories, attached to the event its ledger already made for the same movement.
//!
//! Several exchanges (KuCoin, OKX, Bitstamp) record every movement in one ledger-like stream
//! that carries no tx hash, and list the same deposits and withdrawals again, with hash and
//! address, in a history of their own. The normaliser makes an event of the ledger entry and a
//! [details record](cointally_exchanges::NewEvent::details) of the history entry; the sync stores
//! the details record in the page's transaction ([`Writer::details`]) and, once the account's
//! streams are walked, [`Ledger::attach_details`] gives each to its event. A details record that
//! meets no event yet (its ledger page not fetched yet, or a kill between the two) waits and is
//! tried again at the next sync or `renormalize`; nothing is ever counted twice.
//!
//! The rule: the account's event of the same kind, whose one non-fee leg has the same asset
//! and the same absolute amount, closest in time within [`WINDOW_MS`] (ties: the older event),
//! that has no tx hash or the same one, and that no other details record took.

use std::collections::{BTreeMap, BTreeSet};

use cointally_exchanges::NewEvent;
use cointally_exchanges::amount::format_amount;
use cointally_exchanges::time::to_millis;
use rusqlite::{OptionalExtension, params};
use rust_decimal::Decimal;

use super::{Ledger, LedgerError, Writer};

/// How far apart (ms) a details record and its event may be: an exchange may credit a deposit
/// hours after its history first lists it (confirmations), so three days.
pub const WINDOW_MS: i64 = 3 * 24 * 3_600_000;

/// What attaching details did for one account.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Attached {
    /// Details records given to their event now.
    pub attached: u64,
    /// Details records that still meet no event.
    pub waiting: u64,
}

impl Writer<'_> {
    /// Stores a details record of the raw record `raw_id` (unless the account already has it);
    /// returns whether it was new. It waits for [`Ledger::attach_details`].
    pub fn details(&mut self, account_id: i64, raw_id: i64, details: &NewEvent) -> Result<bool, LedgerError> {
        let Some(leg) = details.legs.first() else {
            return Ok(false);
        };
        let mut insert = self.conn.prepare_cached(
            "INSERT OR IGNORE INTO event_details
               (account_id, raw_record_id, external_id, kind, time_ms, asset, amount, tx_hash, address, network)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?;
        let inserted = insert.execute(params![
            account_id,
            raw_id,
            details.external_id,
            details.kind.as_str(),
            to_millis(details.time),
            leg.asset,
            format_amount(leg.amount.abs()),
            details.tx_hash,
            details.address,
            details.network,
        ])?;
        Ok(inserted == 1)
    }

    /// Forgets the account's details records (their events are being rebuilt: `renormalize`).
    pub fn forget_details(&mut self, account_id: i64) -> Result<usize, LedgerError> {
        Ok(self.conn.execute("DELETE FROM event_details WHERE account_id = ?1", params![account_id])?)
    }
}

/// A details record waiting for its event.
struct Waiting {
    id: i64,
    raw_id: i64,
    time_ms: i64,
    tx_hash: Option<String>,
    address: Option<String>,
    network: Option<String>,
}

/// An event a details record may meet.
struct Candidate {
    id: i64,
    time_ms: i64,
    tx_hash: Option<String>,
}

/// (kind, asset, absolute amount normalised) — what a details record and its event share.
type Key = (String, String, Decimal);

impl Ledger {
    /// Gives each waiting details record of `account_id` to its event (the rule is in the module
    /// documentation), in one transaction: the event gains the tx hash, address and network it
    /// lacks, and the record's raw record becomes one of its sources.
    pub fn attach_details(&mut self, account_id: i64) -> Result<Attached, LedgerError> {
        let writer = self.writer()?;
        let conn = writer.conn;
        let mut waiting: BTreeMap<Key, Vec<Waiting>> = BTreeMap::new();
        {
            let mut stmt = conn.prepare(
                "SELECT id, raw_record_id, kind, time_ms, asset, amount, tx_hash, address, network
                 FROM event_details WHERE account_id = ?1 AND event_id IS NULL ORDER BY time_ms, id",
            )?;
            let rows = stmt.query_map(params![account_id], |r| {
                Ok((
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    Waiting {
                        id: r.get(0)?,
                        raw_id: r.get(1)?,
                        time_ms: r.get(3)?,
                        tx_hash: r.get(6)?,
                        address: r.get(7)?,
                        network: r.get(8)?,
                    },
                ))
            })?;
            for row in rows {
                let (kind, asset, amount, record) = row?;
                let Some(amount) = parse_abs(&amount) else { continue };
                waiting.entry((kind, asset, amount)).or_default().push(record);
            }
        }
        let total: u64 = waiting.values().map(|v| v.len() as u64).sum();
        if total == 0 {
            writer.commit()?;
            return Ok(Attached::default());
        }
        let kinds: BTreeSet<&str> = waiting.keys().map(|(kind, _, _)| kind.as_str()).collect();
        let mut candidates: BTreeMap<Key, Vec<Candidate>> = BTreeMap::new();
        {
            let mut stmt = conn.prepare(
                "SELECT e.id, e.kind, e.time_ms, e.tx_hash, l.asset, l.amount,
                        (SELECT count(*) FROM legs o WHERE o.event_id = e.id AND o.role != 'fee')
                 FROM events e JOIN legs l ON l.event_id = e.id
                 WHERE e.account_id = ?1 AND e.kind = ?2 AND l.role != 'fee'
                   AND NOT EXISTS (SELECT 1 FROM event_details d WHERE d.event_id = e.id)
                 ORDER BY e.time_ms, e.id",
            )?;
            for kind in kinds {
                let rows = stmt.query_map(params![account_id, kind], |r| {
                    Ok((
                        Candidate { id: r.get(0)?, time_ms: r.get(2)?, tx_hash: r.get(3)? },
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, i64>(6)?,
                    ))
                })?;
                for row in rows {
                    let (candidate, kind, asset, amount, legs) = row?;
                    let Some(amount) = parse_abs(&amount) else { continue };
                    if legs == 1 {
                        candidates.entry((kind, asset, amount)).or_default().push(candidate);
                    }
                }
            }
        }
        let mut taken = BTreeSet::new();
        let mut attached = 0;
        let mut update_event = conn.prepare(
            "UPDATE events SET tx_hash = coalesce(tx_hash, ?2), address = coalesce(address, ?3),
                               network = coalesce(network, ?4)
             WHERE id = ?1",
        )?;
        let mut link = conn.prepare("INSERT OR IGNORE INTO event_sources (event_id, raw_record_id) VALUES (?1, ?2)")?;
        let mut mark = conn.prepare("UPDATE event_details SET event_id = ?2 WHERE id = ?1")?;
        for (key, records) in &waiting {
            let Some(events) = candidates.get(key) else { continue };
            for record in records {
                let best = events
                    .iter()
                    .filter(|e| !taken.contains(&e.id))
                    .filter(|e| e.tx_hash.is_none() || e.tx_hash == record.tx_hash)
                    .filter(|e| (e.time_ms - record.time_ms).abs() <= WINDOW_MS)
                    .min_by_key(|e| ((e.time_ms - record.time_ms).abs(), e.id));
                let Some(event) = best else { continue };
                taken.insert(event.id);
                update_event.execute(params![event.id, record.tx_hash, record.address, record.network])?;
                link.execute(params![event.id, record.raw_id])?;
                mark.execute(params![record.id, event.id])?;
                attached += 1;
            }
        }
        drop((update_event, link, mark));
        writer.commit()?;
        Ok(Attached { attached, waiting: total - attached })
    }

    /// The event the details record `external_id` was attached to, if it met one.
    pub fn details_event(&self, account_id: i64, external_id: &str) -> Result<Option<i64>, LedgerError> {
        Ok(self
            .conn
            .query_row(
                "SELECT event_id FROM event_details WHERE account_id = ?1 AND external_id = ?2",
                params![account_id, external_id],
                |r| r.get::<_, Option<i64>>(0),
            )
            .optional()?
            .flatten())
    }
}

/// A stored amount, absolute and normalised (so `1.50` meets `1.5`); `None` if unreadable.
fn parse_abs(text: &str) -> Option<Decimal> {
    text.parse::<Decimal>().ok().map(|d| d.abs().normalize())
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use cointally_exchanges::{EventKind, Leg, NewEvent};

    use super::*;
    use crate::ledger::{NewAccount, OpenMode};

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn ledger_with_account() -> (tempfile::TempDir, Ledger, i64) {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open(&dir.path().join("l.sqlite"), OpenMode::CreateNew).unwrap();
        let id = ledger.add_account(&NewAccount::files_only("k", "kucoin")).unwrap().id;
        (dir, ledger, id)
    }

    fn at(minute: i64) -> chrono::DateTime<Utc> {
        Utc.timestamp_millis_opt(1_700_000_000_000 + minute * 60_000).unwrap()
    }

    fn write(ledger: &mut Ledger, account: i64, raw: &str, events: &[NewEvent]) {
        let mut writer = ledger.writer().unwrap();
        let (raw_id, _) = writer.raw(account, "api:test", raw, "{}", 0).unwrap();
        for event in events {
            if event.is_details() {
                writer.details(account, raw_id, event).unwrap();
            } else {
                writer.event(account, "api:test", event, &[raw_id]).unwrap();
            }
        }
        writer.commit().unwrap();
    }

    fn hash_of(ledger: &Ledger, account: i64, external_id: &str) -> Option<String> {
        ledger
            .conn
            .query_row(
                "SELECT tx_hash FROM events WHERE account_id = ?1 AND external_id = ?2",
                params![account, external_id],
                |r| r.get(0),
            )
            .unwrap()
    }

    #[test]
    fn a_history_record_gives_its_hash_to_the_ledgers_event_and_makes_none() {
        let (_dir, mut ledger, account) = ledger_with_account();
        let deposit = NewEvent::new("ledger-1", at(30), EventKind::Deposit, vec![Leg::received("BTC", dec("0.5"))]);
        let other = NewEvent::new("ledger-2", at(40), EventKind::Deposit, vec![Leg::received("BTC", dec("0.25"))]);
        write(&mut ledger, account, "l1", &[deposit, other]);
        let details = NewEvent {
            tx_hash: Some("abc".into()),
            address: Some("bc1q".into()),
            network: Some("BTC".into()),
            ..NewEvent::details("d-1", at(0), EventKind::Deposit, Leg::received("BTC", dec("0.50")))
        };
        write(&mut ledger, account, "d1", std::slice::from_ref(&details));
        let events_before: i64 = ledger.conn.query_row("SELECT count(*) FROM events", [], |r| r.get(0)).unwrap();

        assert_eq!(ledger.attach_details(account).unwrap(), Attached { attached: 1, waiting: 0 });
        assert_eq!(hash_of(&ledger, account, "ledger-1").as_deref(), Some("abc"));
        assert_eq!(hash_of(&ledger, account, "ledger-2"), None);
        let events_after: i64 = ledger.conn.query_row("SELECT count(*) FROM events", [], |r| r.get(0)).unwrap();
        assert_eq!(events_after, events_before);
        let event = ledger.details_event(account, "details:d-1").unwrap();
        assert!(event.is_some());

        // Stored again (a re-sync) and attached again: nothing changes.
        write(&mut ledger, account, "d1", &[details]);
        assert_eq!(ledger.attach_details(account).unwrap(), Attached::default());
        assert_eq!(ledger.details_event(account, "details:d-1").unwrap(), event);
    }

    #[test]
    fn a_record_waits_for_its_event_and_never_takes_one_too_far_or_of_another_kind() {
        let (_dir, mut ledger, account) = ledger_with_account();
        let early = NewEvent {
            tx_hash: Some("h1".into()),
            ..NewEvent::details("w-1", at(0), EventKind::Withdrawal, Leg::sent("ETH", dec("2")))
        };
        write(&mut ledger, account, "d1", &[early]);
        assert_eq!(ledger.attach_details(account).unwrap(), Attached { attached: 0, waiting: 1 });

        let deposit = NewEvent::new("dep", at(1), EventKind::Deposit, vec![Leg::received("ETH", dec("2"))]);
        let far = NewEvent::new("far", at(5 * 24 * 60), EventKind::Withdrawal, vec![Leg::sent("ETH", dec("2"))]);
        write(&mut ledger, account, "l1", &[deposit, far]);
        assert_eq!(ledger.attach_details(account).unwrap(), Attached { attached: 0, waiting: 1 });

        let near = NewEvent::new(
            "near",
            at(20),
            EventKind::Withdrawal,
            vec![Leg::sent("ETH", dec("2")), Leg::fee("ETH", dec("0.01"))],
        );
        write(&mut ledger, account, "l2", &[near]);
        assert_eq!(ledger.attach_details(account).unwrap(), Attached { attached: 1, waiting: 0 });
        assert_eq!(hash_of(&ledger, account, "near").as_deref(), Some("h1"));
        assert_eq!(hash_of(&ledger, account, "dep"), None);
        assert_eq!(hash_of(&ledger, account, "far"), None);
    }

    #[test]
    fn two_equal_movements_each_get_their_own_record() {
        let (_dir, mut ledger, account) = ledger_with_account();
        let a = NewEvent::new("a", at(0), EventKind::Deposit, vec![Leg::received("USDT", dec("100"))]);
        let b = NewEvent::new("b", at(60), EventKind::Deposit, vec![Leg::received("USDT", dec("100"))]);
        write(&mut ledger, account, "l1", &[a, b]);
        let first = NewEvent {
            tx_hash: Some("t1".into()),
            ..NewEvent::details(1, at(2), EventKind::Deposit, Leg::received("USDT", dec("100")))
        };
        let second = NewEvent {
            tx_hash: Some("t2".into()),
            ..NewEvent::details(2, at(58), EventKind::Deposit, Leg::received("USDT", dec("100")))
        };
        write(&mut ledger, account, "d", &[first, second]);
        assert_eq!(ledger.attach_details(account).unwrap(), Attached { attached: 2, waiting: 0 });
        assert_eq!(hash_of(&ledger, account, "a").as_deref(), Some("t1"));
        assert_eq!(hash_of(&ledger, account, "b").as_deref(), Some("t2"));
    }
}

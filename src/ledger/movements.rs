//! The candidates of own transfers (deposits and withdrawals of one crypto asset), read from
//! the events or through the copy the last matching kept (`schema/0024_transfer_cache.sql`,
//! kept as encoded blocks since `0030_transfer_movement_blocks.sql`): the movements before the
//! earliest time written since are taken from the copy, only the rest is read from the events
//! again. Both give the same movements.

use std::collections::{BTreeMap, BTreeSet};

use cointally_exchanges::LegRole;
use cointally_exchanges::asset::is_fiat;
use rusqlite::OptionalExtension;
use rust_decimal::Decimal;

use super::bytes::{Reader, put_decimal, put_i64, put_text};
use super::events::parse_stored_amount;
use super::tax::{leg_role, read_transfer_links, replace_automatic_transfers, text};
use super::{Ledger, LedgerError, LinkMethod, Movement, TransferLink};

/// A movement being read: the movement so far, whether it is still a single-asset crypto
/// move, and its fee legs.
type Pending = (Movement, bool, Vec<(String, Decimal)>);

/// Which part of the kept copy a matching read from the events again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reread {
    /// Nothing: the copy was whole and nothing was written since.
    Nothing,
    /// The events from this time on (the copy before it was still right).
    From(i64),
    /// All of history (no copy yet, or asked for).
    All,
}

/// One matching of own transfers in one transaction: read the candidates (through the kept
/// copy), the user's links and unlinks, then [`TransferMatching::store`] the automatic links
/// with the copy brought up to date. Dropped without storing, nothing is written.
pub struct TransferMatching<'a> {
    tx: rusqlite::Transaction<'a>,
    reread: Reread,
    /// The movements read from the events again (to replace that part of the copy).
    fresh: Vec<Movement>,
    /// What the last matching left over, as it stored it, when nothing it read has changed.
    last_outcome: Option<String>,
}

impl Ledger {
    /// Every deposit and withdrawal that moves exactly one crypto asset (fees aside), in id
    /// order, read from the events (not from the copy the matching keeps).
    pub fn movements(&self) -> Result<Vec<Movement>, LedgerError> {
        let mut out = read_movements(&self.conn, i64::MIN)?;
        out.sort_by_key(|m| m.event_id);
        Ok(out)
    }

    /// Begins a matching of own transfers (an immediate transaction: no other writer can
    /// change the candidates between the read and the store). `whole`: read all of history
    /// from the events, not through the kept copy.
    pub fn transfer_matching(&mut self, whole: bool) -> Result<TransferMatching<'_>, LedgerError> {
        let tx = self.transaction()?;
        type State = (i64, Option<i64>, Option<String>, i64);
        let state: Option<State> = tx
            .query_row("SELECT filled, low_ms, outcome, links_changed FROM transfer_cache WHERE id = 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()?;
        let reread = match state {
            _ if whole => Reread::All,
            Some((1, None, _, _)) => Reread::Nothing,
            Some((1, Some(low), _, _)) => Reread::From(low),
            // Never filled, or the row itself is gone (an edited file): read everything.
            _ => Reread::All,
        };
        let last_outcome = match state {
            Some((_, _, outcome, 0)) if reread == Reread::Nothing => outcome,
            _ => None,
        };
        Ok(TransferMatching { tx, reread, fresh: Vec::new(), last_outcome })
    }
}

impl TransferMatching<'_> {
    /// The candidates, in id order: the kept copy before the earliest time written since the
    /// last matching, the events from that time on.
    pub fn movements(&mut self) -> Result<Vec<Movement>, LedgerError> {
        let (kept_until, fresh_from) = match self.reread {
            Reread::Nothing => (i64::MAX, None),
            Reread::From(low) => (low, Some(low)),
            Reread::All => (i64::MIN, Some(i64::MIN)),
        };
        if let Some(from) = fresh_from {
            self.fresh = read_movements(&self.tx, from)?;
        }
        let kept = if kept_until == i64::MIN { Vec::new() } else { read_kept(&self.tx, kept_until)? };
        if self.fresh.is_empty() {
            return Ok(kept); // in id order already (and not copied: 180,000 at a million events)
        }
        // An event is in one part only (a write to it marks a time no later than its old
        // one); were it in both, the fresh row wins: it comes first, the sort is stable and
        // `dedup` keeps the first of each id.
        let mut out = self.fresh.clone();
        out.extend(kept);
        out.sort_by_key(|m| m.event_id);
        out.dedup_by_key(|m| m.event_id);
        Ok(out)
    }

    /// What the last matching left over ([`TransferMatching::store`]'s `outcome`), when neither
    /// the candidates nor the user's links and unlinks changed since: that matching is then
    /// this one, and its links are the stored ones ([`TransferMatching::links`]).
    pub fn last_outcome(&self) -> Option<&str> {
        self.last_outcome.as_deref()
    }

    /// Every stored transfer (the user's and the automatic ones), sorted.
    pub fn links(&self) -> Result<Vec<TransferLink>, LedgerError> {
        let mut links = read_transfer_links(&self.tx)?;
        links.sort();
        Ok(links)
    }

    /// The user's links (`transfers link`).
    pub fn manual_links(&self) -> Result<Vec<TransferLink>, LedgerError> {
        Ok(read_transfer_links(&self.tx)?.into_iter().filter(|l| l.method == LinkMethod::Manual).collect())
    }

    /// The events the user unlinked.
    pub fn unlinks(&self) -> Result<BTreeSet<i64>, LedgerError> {
        let mut stmt = self.tx.prepare_cached("SELECT event_id FROM transfer_unlinks")?;
        let ids = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
        Ok(ids)
    }

    /// Stores the automatic links of `links` (manual ones stay) and what the matching left
    /// over (`outcome`, text the caller reads back through [`TransferMatching::last_outcome`]),
    /// replaces the part of the kept copy read again, clears the marks, and commits: all or
    /// nothing.
    pub fn store(self, links: &[TransferLink], outcome: &str) -> Result<(), LedgerError> {
        let tx = self.tx;
        replace_automatic_transfers(&tx, links)?;
        let from = match self.reread {
            Reread::Nothing => None,
            Reread::From(low) => Some(low),
            Reread::All => Some(i64::MIN),
        };
        if let Some(from) = from {
            replace_kept_from(&tx, from, &self.fresh)?;
            tx.execute("UPDATE transfer_cache SET filled = 1, low_ms = NULL WHERE id = 1", [])?;
        }
        tx.execute(
            "INSERT INTO transfer_cache (id, filled, low_ms, outcome, links_changed) VALUES (1, ?1, NULL, ?2, 0)
             ON CONFLICT (id) DO UPDATE SET outcome = excluded.outcome, links_changed = 0",
            rusqlite::params![i64::from(from.is_some()), outcome],
        )?;
        tx.commit()?;
        Ok(())
    }
}

/// Candidates per block of the kept copy (a few in tests, so that they span many blocks).
const BLOCK_MOVEMENTS: usize = if cfg!(test) { 3 } else { 4096 };

/// The kept copy's movements of events before `until_ms`, in id order.
fn read_kept(conn: &rusqlite::Connection, until_ms: i64) -> Result<Vec<Movement>, LedgerError> {
    let mut stmt = conn.prepare_cached(
        "SELECT block, movements, body FROM transfer_movement_blocks WHERE first_ms < ?1 ORDER BY block",
    )?;
    let mut rows = stmt.query([until_ms])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let (block, count): (i64, i64) = (r.get(0)?, r.get(1)?);
        let (count, body) = (usize::try_from(count).ok(), r.get_ref(2)?.as_blob().ok());
        count
            .zip(body)
            .and_then(|(count, body)| decode_movements(body, count, &mut out))
            .ok_or_else(|| damaged(block))?;
    }
    // Only the last block read can hold movements from `until_ms` on.
    out.retain(|m| m.time_ms < until_ms);
    out.sort_unstable_by_key(|m| m.event_id);
    Ok(out)
}

/// Replaces the kept movements at or after `from` by `fresh` (the events' from that time on):
/// the blocks from the first holding such a movement are rewritten with the movements of it
/// before `from`, then `fresh`, in (time, event id) order.
fn replace_kept_from(tx: &rusqlite::Transaction<'_>, from: i64, fresh: &[Movement]) -> Result<(), LedgerError> {
    type Stale = (i64, i64, i64, Option<Vec<u8>>);
    let stale: Option<Stale> = tx
        .query_row(
            "SELECT block, first_ms, movements, body FROM transfer_movement_blocks WHERE last_ms >= ?1
             ORDER BY block LIMIT 1",
            [from],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get_ref(3)?.as_blob().ok().map(<[u8]>::to_vec))),
        )
        .optional()?;
    let mut movements = Vec::new();
    let first_block = match stale {
        Some((block, first_ms, count, body)) => {
            // Its movements before `from` stay (none when it starts at or after it: then it is
            // not read, so that a damaged copy is rewritten whole by `--from-scratch`).
            if first_ms < from {
                usize::try_from(count)
                    .ok()
                    .zip(body)
                    .and_then(|(count, body)| decode_movements(&body, count, &mut movements))
                    .ok_or_else(|| damaged(block))?;
                movements.retain(|m| m.time_ms < from);
            }
            tx.execute("DELETE FROM transfer_movement_blocks WHERE block >= ?1", [block])?;
            block
        }
        None => tx.query_row("SELECT coalesce(max(block) + 1, 0) FROM transfer_movement_blocks", [], |r| r.get(0))?,
    };
    movements.extend(fresh.iter().cloned());
    movements.sort_by_key(|m| (m.time_ms, m.event_id));
    let mut insert = tx.prepare_cached(
        "INSERT INTO transfer_movement_blocks (block, first_ms, last_ms, movements, body) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    let mut body = Vec::new();
    for (block, chunk) in (first_block..).zip(movements.chunks(BLOCK_MOVEMENTS)) {
        body.clear();
        chunk.iter().for_each(|m| encode_movement(m, &mut body));
        let (first, last) = (chunk[0].time_ms, chunk[chunk.len() - 1].time_ms);
        insert.execute(rusqlite::params![block, first, last, chunk.len() as i64, body])?;
    }
    Ok(())
}

/// A block of the copy that does not read back.
fn damaged(block: i64) -> LedgerError {
    LedgerError::Corrupt(format!(
        "the kept copy of the transfer candidates (block {block}) is damaged: `cointally report --from-scratch` reads them again from the events"
    ))
}

/// Appends a movement: event id, account id, time, flags (bit 0 outgoing, bit 1 a hash
/// follows), asset, amount, fee, and the hash.
fn encode_movement(m: &Movement, out: &mut Vec<u8>) {
    put_i64(out, m.event_id);
    put_i64(out, m.account_id);
    put_i64(out, m.time_ms);
    out.push(u8::from(m.outgoing) | u8::from(m.tx_hash.is_some()) << 1);
    put_text(out, &m.asset);
    put_decimal(out, m.amount);
    put_decimal(out, m.fee);
    if let Some(hash) = &m.tx_hash {
        put_text(out, hash);
    }
}

/// Reads `count` movements written by [`encode_movement`] onto `out`; `None` unless the body
/// holds exactly that many.
fn decode_movements(body: &[u8], count: usize, out: &mut Vec<Movement>) -> Option<()> {
    let mut r = Reader(body);
    out.reserve(count.min(BLOCK_MOVEMENTS));
    for _ in 0..count {
        let (event_id, account_id, time_ms) = (r.i64()?, r.i64()?, r.i64()?);
        let flags = r.byte()?;
        if flags & !0b11 != 0 {
            return None;
        }
        let asset = r.text()?.to_owned();
        let (amount, fee) = (r.decimal()?, r.decimal()?);
        let tx_hash = if flags & 2 != 0 { Some(r.text()?.to_owned()) } else { None };
        out.push(Movement { event_id, account_id, outgoing: flags & 1 != 0, time_ms, asset, amount, fee, tx_hash });
    }
    r.is_empty().then_some(())
}

/// The movements of the events at or after `from_ms` (the kind in force decides), in id order.
fn read_movements(conn: &rusqlite::Connection, from_ms: i64) -> Result<Vec<Movement>, LedgerError> {
    // The user's kinds of the events from `from_ms` on (a few rows, if any). CROSS JOIN keeps
    // the overrides the outer loop: left to itself SQLite walked every event from `from_ms` by
    // time and looked each one up among the overrides (a third of the first matching at
    // 100,000 events, with no override at all).
    let overridden: BTreeMap<i64, String> = conn
        .prepare_cached(
            "SELECT r.id, ro.kind FROM kind_overrides ro
             CROSS JOIN events r ON r.account_id = ro.account_id AND r.external_id = ro.external_id
             WHERE r.time_ms >= ?1",
        )?
        .query_map([from_ms], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let is_movement = |kind: &str| kind == "deposit" || kind == "withdrawal";
    let mut out = Vec::new();
    let mut current: Option<Pending> = None;
    // The events stored as deposits or withdrawals (the partial index `events_movements_by_time`,
    // from `from_ms` on), in the index's order so that no sort is needed: the kind in force
    // decides, so one reclassified as something else is passed over.
    let mut stmt = conn.prepare_cached(
        "SELECT e.id, e.account_id, e.kind, e.time_ms, e.tx_hash, l.role, l.asset, l.amount
         FROM events e INDEXED BY events_movements_by_time
         JOIN legs l ON l.event_id = e.id
         WHERE e.kind IN ('deposit', 'withdrawal') AND e.time_ms >= ?1
         ORDER BY e.time_ms, e.id, l.seq",
    )?;
    let mut rows = stmt.query([from_ms])?;
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        let kind = match overridden.get(&id) {
            Some(kind) => kind.as_str(),
            None => text(row, 2)?,
        };
        if is_movement(kind) {
            add_leg(&mut current, &mut out, row, kind == "withdrawal")?;
        }
    }
    // The events reclassified as a deposit or a withdrawal that are stored as neither.
    let mut stmt = conn.prepare_cached(
        "SELECT e.id, e.account_id, e.kind, e.time_ms, e.tx_hash, l.role, l.asset, l.amount
         FROM events e JOIN legs l ON l.event_id = e.id
         WHERE e.id = ?1 AND e.kind NOT IN ('deposit', 'withdrawal')
         ORDER BY l.seq",
    )?;
    for (id, kind) in overridden.iter().filter(|(_, kind)| is_movement(kind)) {
        let mut rows = stmt.query([id])?;
        while let Some(row) = rows.next()? {
            add_leg(&mut current, &mut out, row, kind == "withdrawal")?;
        }
    }
    finish_movement(current, &mut out);
    out.sort_by_key(|m| m.event_id);
    Ok(out)
}

/// Adds a row of [`read_movements`] (an event's columns and one of its legs, the legs of an
/// event one after another) to the movement being read, finishing the one before when the
/// event changes.
fn add_leg(
    current: &mut Option<Pending>,
    out: &mut Vec<Movement>,
    row: &rusqlite::Row<'_>,
    outgoing: bool,
) -> Result<(), LedgerError> {
    let id: i64 = row.get(0)?;
    if current.as_ref().is_none_or(|(m, _, _)| m.event_id != id) {
        finish_movement(current.take(), out);
        *current = Some((
            Movement {
                event_id: id,
                account_id: row.get(1)?,
                outgoing,
                time_ms: row.get(3)?,
                asset: String::new(),
                amount: Decimal::ZERO,
                fee: Decimal::ZERO,
                tx_hash: row.get(4)?,
            },
            true,
            Vec::new(),
        ));
    }
    let role = leg_role(text(row, 5)?)?;
    let asset: String = row.get(6)?;
    let amount = parse_stored_amount(text(row, 7)?)?;
    let Some((movement, ok, fees)) = current.as_mut() else { return Ok(()) };
    let main = if movement.outgoing { LegRole::Sent } else { LegRole::Received };
    if role == LegRole::Fee {
        fees.push((asset, amount));
    } else if role != main || !movement.asset.is_empty() || is_fiat(&asset) {
        *ok = false;
    } else {
        movement.asset = asset;
        movement.amount = amount.abs();
    }
    Ok(())
}

/// Keeps a movement read whole if it moves exactly one crypto asset, its fees in that asset
/// summed.
fn finish_movement(pending: Option<Pending>, out: &mut Vec<Movement>) {
    let Some((mut movement, ok, fees)) = pending else { return };
    if ok && !movement.asset.is_empty() {
        // Checked: amounts are read back without `parse_amount`'s bound (a ledger of an older
        // version, or edited). A sum past `Decimal`'s range only widens matching.
        movement.fee = fees
            .iter()
            .filter(|(a, _)| *a == movement.asset)
            .try_fold(Decimal::ZERO, |sum, (_, f)| sum.checked_add(f.abs()))
            .unwrap_or(Decimal::MAX);
        out.push(movement);
    }
}

#[cfg(test)]
mod tests {
    use cointally_exchanges::{EventKind, Leg, NewEvent};

    use super::*;
    use crate::ledger::OpenMode;

    fn movement(i: i64) -> Movement {
        Movement {
            event_id: i,
            account_id: i % 3,
            outgoing: i % 2 == 0,
            time_ms: [i64::MIN, -1, 0, 1_700_000_000_000 + i, i64::MAX][(i % 5) as usize],
            asset: ["BTC", "ETH", "", "Ünïcode"][(i % 4) as usize].into(),
            amount: [Decimal::MAX, Decimal::new(1, 28), Decimal::new(12_300, 4), Decimal::ZERO][(i % 4) as usize],
            fee: Decimal::new(i, (i % 19) as u32),
            tx_hash: (i % 3 != 0).then(|| format!("{:064x}", i)),
        }
    }

    /// Every field of every movement reads back as written (the amounts with their scale),
    /// and a body cut anywhere or with unknown flags is `None`, never a panic.
    #[test]
    fn movements_read_back_and_a_damaged_body_is_refused() {
        let written: Vec<Movement> = (0..40).map(movement).collect();
        let mut body = Vec::new();
        written.iter().for_each(|m| encode_movement(m, &mut body));
        let mut read = Vec::new();
        assert_eq!(decode_movements(&body, written.len(), &mut read), Some(()));
        assert_eq!(read, written);
        for (a, b) in read.iter().zip(&written) {
            assert_eq!((a.amount.scale(), a.fee.scale()), (b.amount.scale(), b.fee.scale()));
        }
        // Fewer or more than it holds, cut at every length, or a flag byte with unknown bits.
        assert_eq!(decode_movements(&body, written.len() - 1, &mut Vec::new()), None);
        assert_eq!(decode_movements(&body, written.len() + 1, &mut Vec::new()), None);
        for len in 0..body.len() {
            assert_eq!(decode_movements(&body[..len], written.len(), &mut Vec::new()), None, "{len}");
        }
        let mut flagged = body.clone();
        flagged[24] |= 0b100; // the first movement's flags
        assert_eq!(decode_movements(&flagged, written.len(), &mut Vec::new()), None);
    }

    /// Deposits of 1 BTC with a hash, a day apart from 2025-01-01, one per day given.
    fn deposits(ledger: &mut Ledger, account: i64, days: std::ops::Range<i64>) {
        let mut writer = ledger.writer().unwrap();
        for day in days {
            let time = chrono::DateTime::from_timestamp_millis(1_735_689_600_000 + day * 86_400_000).unwrap();
            let mut event =
                NewEvent::new(format!("d{day}"), time, EventKind::Deposit, vec![Leg::received("BTC", Decimal::ONE)]);
            event.tx_hash = Some(format!("{day:064x}"));
            writer.event(account, "test", &event, &[]).unwrap();
        }
        writer.commit().unwrap();
    }

    /// A matching stores the candidates in blocks; a later one reads them back through the blocks
    /// (the same as from the events), rewrites only from the block of the earliest change, and
    /// a damaged block is an error that names `--from-scratch`, which rewrites the copy whole.
    #[test]
    fn the_kept_blocks_give_the_events_movements_and_a_damaged_one_is_rewritten_from_scratch() {
        let (_dir, mut ledger, account) = crate::ledger::test_ledger();
        deposits(&mut ledger, account, 0..10);
        let store = |ledger: &mut Ledger, whole: bool| -> Result<Vec<Movement>, LedgerError> {
            let mut tx = ledger.transfer_matching(whole)?;
            let movements = tx.movements()?;
            tx.store(&[], "{}")?;
            Ok(movements)
        };
        let blocks = |ledger: &Ledger| -> Vec<(i64, i64, i64)> {
            let mut stmt = ledger
                .conn
                .prepare("SELECT block, first_ms, movements FROM transfer_movement_blocks ORDER BY block")
                .unwrap();
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(Result::unwrap).collect()
        };
        store(&mut ledger, false).unwrap();
        assert_eq!(blocks(&ledger).iter().map(|b| b.2).collect::<Vec<_>>(), [3, 3, 3, 1]);
        // Nothing written since: the copy alone, the same movements as the events give.
        assert_eq!(store(&mut ledger, false).unwrap(), ledger.movements().unwrap());
        // A deposit on day 4 (between the second block's) and one at the end: the first block
        // stays as it was, the rest is rewritten.
        let first = blocks(&ledger)[0];
        deposits(&mut ledger, account, 10..11);
        let mut writer = ledger.writer().unwrap();
        let time = chrono::DateTime::from_timestamp_millis(1_735_689_600_000 + 4 * 86_400_000 + 1).unwrap();
        writer
            .event(
                account,
                "test",
                &NewEvent::new("x", time, EventKind::Withdrawal, vec![Leg::sent("BTC", Decimal::TWO)]),
                &[],
            )
            .unwrap();
        writer.commit().unwrap();
        store(&mut ledger, false).unwrap();
        let after = blocks(&ledger);
        assert_eq!(after[0], first);
        assert_eq!(after.iter().map(|b| b.2).sum::<i64>(), 12);
        assert_eq!(store(&mut ledger, false).unwrap(), ledger.movements().unwrap());
        // A damaged block: refused by name, then rewritten whole.
        ledger.conn.execute("UPDATE transfer_movement_blocks SET body = x'00' WHERE block = 1", []).unwrap();
        let error = store(&mut ledger, false).unwrap_err().to_string();
        assert!(error.contains("block 1") && error.contains("--from-scratch"), "{error}");
        assert_eq!(store(&mut ledger, true).unwrap(), ledger.movements().unwrap());
        assert_eq!(store(&mut ledger, false).unwrap(), ledger.movements().unwrap());
    }

    /// A ledger from before the blocks: its rows are dropped and the next matching reads every
    /// candidate from the events again.
    #[test]
    fn the_migration_drops_the_kept_rows_and_has_them_read_again() {
        let (_dir, path) = crate::ledger::ledger_before(
            |m| m.contains("CREATE TABLE transfer_movement_blocks"),
            |tx| {
                tx.execute(
                "INSERT INTO transfer_movements (event_id, account_id, outgoing, time_ms, asset, amount, fee, tx_hash)
                 VALUES (1, 1, 0, 5, 'BTC', '1', '0', NULL)",
                [],
            )
            .unwrap();
                tx.execute(
                    "UPDATE transfer_cache SET filled = 1, low_ms = NULL, outcome = '{}', links_changed = 0",
                    [],
                )
                .unwrap();
            },
        );
        let mut ledger = Ledger::open(&path, OpenMode::Existing).unwrap();
        let state: (i64, Option<String>) = ledger
            .conn
            .query_row("SELECT filled, outcome FROM transfer_cache", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap();
        assert_eq!(state, (0, None));
        let tx = ledger.transfer_matching(false).unwrap();
        assert_eq!(tx.reread, Reread::All);
        assert!(tx.last_outcome().is_none());
    }
}

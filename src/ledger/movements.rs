//! The candidates of own transfers (deposits and withdrawals of one crypto asset), read from
//! the events or through the copy the last matching kept (`schema/0024_transfer_cache.sql`):
//! the rows before the earliest time written since are taken from the copy, only the rest is
//! read from the events again. Both give the same movements.

use std::collections::{BTreeMap, BTreeSet};

use cointally_exchanges::LegRole;
use cointally_exchanges::asset::is_fiat;
use rusqlite::{OptionalExtension, ToSql};
use rust_decimal::Decimal;

use super::events::parse_stored_amount;
use super::tax::{leg_role, read_transfer_links, replace_automatic_transfers, text};
use super::writer::{CHUNK, multi_row_insert, write_chunk};
use super::{Ledger, LedgerError, LinkMethod, Movement, TransferLink, decimal};

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
            tx.execute("DELETE FROM transfer_movements WHERE time_ms >= ?1", [from])?;
            // Multi-row INSERTs, as the writer does: a first matching copies every candidate.
            const HEAD: &str =
                "INSERT INTO transfer_movements (event_id, account_id, outgoing, time_ms, asset, amount, fee, tx_hash)";
            let mut full = tx.prepare_cached(&multi_row_insert(HEAD, 8, CHUNK))?;
            for chunk in self.fresh.chunks(CHUNK) {
                let texts: Vec<(String, String)> =
                    chunk.iter().map(|m| (m.amount.to_string(), m.fee.to_string())).collect();
                let mut params: Vec<&dyn ToSql> = Vec::with_capacity(8 * chunk.len());
                for (m, (amount, fee)) in chunk.iter().zip(&texts) {
                    params.extend_from_slice(&[
                        &m.event_id as &dyn ToSql,
                        &m.account_id,
                        &m.outgoing,
                        &m.time_ms,
                        &m.asset,
                        amount,
                        fee,
                        &m.tx_hash,
                    ]);
                }
                write_chunk(&tx, &mut full, HEAD, 8, &params)?;
            }
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

/// The kept copy's movements of events before `until_ms`, in id order.
fn read_kept(conn: &rusqlite::Connection, until_ms: i64) -> Result<Vec<Movement>, LedgerError> {
    let mut stmt = conn.prepare_cached(
        "SELECT event_id, account_id, outgoing, time_ms, asset, amount, fee, tx_hash
         FROM transfer_movements WHERE time_ms < ?1 ORDER BY event_id",
    )?;
    let mut rows = stmt.query([until_ms])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(Movement {
            event_id: r.get(0)?,
            account_id: r.get(1)?,
            outgoing: r.get(2)?,
            time_ms: r.get(3)?,
            asset: r.get(4)?,
            amount: decimal(text(r, 5)?, "kept movement amount")?,
            fee: decimal(text(r, 6)?, "kept movement fee")?,
            tx_hash: r.get(7)?,
        });
    }
    Ok(out)
}

/// The movements of the events at or after `from_ms` (the kind in force decides), in id order.
fn read_movements(conn: &rusqlite::Connection, from_ms: i64) -> Result<Vec<Movement>, LedgerError> {
    // The user's kinds of the events from `from_ms` on (a few rows, if any).
    let overridden: BTreeMap<i64, String> = conn
        .prepare_cached(
            "SELECT r.id, ro.kind FROM kind_overrides ro
             JOIN events r ON r.account_id = ro.account_id AND r.external_id = ro.external_id
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

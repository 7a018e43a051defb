//! Writing raw records and events: one transaction, owned by the writer.
//!
//! An import or a sync page writes everything through a [`Writer`]: it begins the
//! transaction, prepares its statements once (an import writes millions of rows through
//! them), buffers legs and event→raw links into multi-row INSERTs, and [`Writer::commit`]
//! writes what is buffered and commits. Dropping a writer without committing rolls back, so
//! nothing can be committed half-written.

use cointally_exchanges::adapter::{Span, Stream};
use cointally_exchanges::amount::{format_amount, write_amount};
use cointally_exchanges::time::to_millis;
use cointally_exchanges::{EventKind, NewEvent};
use rusqlite::{Connection, Statement, ToSql, params};

use super::{Ledger, LedgerError, check_foreign_keys};

/// Whether an event was new or already in the ledger.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Written {
    /// Stored now, with this id.
    New(i64),
    /// The account already had an event with this external id.
    Existing(i64),
}

/// How many legs or links one multi-row INSERT writes.
pub(super) const CHUNK: usize = 200;

const LEGS_HEAD: &str = "INSERT INTO legs (event_id, seq, role, asset, amount)";
const LINKS_HEAD: &str = "INSERT OR IGNORE INTO event_sources (event_id, raw_record_id)";

/// An open write transaction on the ledger, with its statements prepared.
pub struct Writer<'c> {
    pub(super) conn: &'c Connection,
    committed: bool,
    /// SQLite's per-row foreign key checks are off for this transaction ([`AccountInserts`]):
    /// turned on again when it commits or rolls back.
    keys_unchecked: bool,
    insert_raw: Statement<'c>,
    find_raw: Statement<'c>,
    insert_event: Statement<'c>,
    find_event: Statement<'c>,
    insert_legs: Statement<'c>,
    insert_links: Statement<'c>,
    /// Legs waiting for a multi-row INSERT: event, seq, role, and where their asset and amount
    /// end in `legs_text` (each starts where the one before ends): one text for all, not two
    /// of their own each (an import writes hundreds of thousands).
    legs: Vec<(i64, i64, &'static str, usize, usize)>,
    legs_text: String,
    links: Vec<(i64, i64)>,
    /// The earliest time of an event inserted through this writer: noted for the year-end
    /// snapshots and the transfer candidates' copy when it commits
    /// (schema/0023_writer_notes_inserts.sql, 0024_transfer_cache.sql).
    earliest_new_ms: Option<i64>,
    /// The same for deposits and withdrawals alone: the transfer candidates' copy needs only
    /// those (unless a kind override may make another kind one).
    earliest_new_movement_ms: Option<i64>,
}

impl Ledger {
    /// Begins a write transaction (taking the write lock at once) and returns its writer.
    pub fn writer(&mut self) -> Result<Writer<'_>, LedgerError> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        self.prepared_writer(false)
    }

    /// Begins a write transaction that only adds imported files, events and their legs to one
    /// account (a file import), without SQLite checking each row's foreign keys.
    ///
    /// Those checks were a sixth of an import's time (a lookup of the event for each leg and
    /// link, of the account for each event and record). What they guard is checked here
    /// instead: the account exists once the write lock is held (so no other command can
    /// remove it before this commits), and every leg, line and piece names an event or file this
    /// transaction inserted or found — [`AccountInserts`] writes nothing else. The pragma
    /// cannot change inside a transaction, so it is turned off before `BEGIN` and on again
    /// after `COMMIT` or `ROLLBACK`.
    pub fn account_inserts(&mut self, account_id: i64) -> Result<AccountInserts<'_>, LedgerError> {
        check_foreign_keys(&self.conn, false)?;
        if let Err(e) = self.conn.execute_batch("BEGIN IMMEDIATE") {
            let _ = check_foreign_keys(&self.conn, true);
            return Err(e.into());
        }
        let writer = self.prepared_writer(true)?;
        let exists =
            writer.conn.query_row("SELECT EXISTS (SELECT 1 FROM accounts WHERE id = ?1)", [account_id], |r| {
                r.get::<_, bool>(0)
            })?;
        if !exists {
            return Err(LedgerError::NoSuchAccountId(account_id));
        }
        let insert_lines = writer.conn.prepare(&multi_row_insert(LINES_HEAD, 3, CHUNK))?;
        Ok(AccountInserts { writer, account_id, insert_lines, lines: Vec::with_capacity(CHUNK), file_lines: 0 })
    }

    /// The writer of the transaction just begun; rolls it back (and turns the foreign key
    /// checks on again) if a statement cannot be prepared.
    fn prepared_writer(&self, keys_unchecked: bool) -> Result<Writer<'_>, LedgerError> {
        let conn = &self.conn;
        let prepared = (|| -> rusqlite::Result<_> {
            Ok((
                conn.prepare(
                    "INSERT OR IGNORE INTO raw_records (account_id, source, external_id, payload, fetched_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )?,
                conn.prepare("SELECT id FROM raw_records WHERE account_id = ?1 AND source = ?2 AND external_id = ?3")?,
                conn.prepare(
                    "INSERT OR IGNORE INTO events (account_id, external_id, kind, time_ms, tx_hash, address, network, note, fiat_value, fiat_currency, source)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                )?,
                conn.prepare("SELECT id FROM events WHERE account_id = ?1 AND external_id = ?2")?,
                conn.prepare(&multi_row_insert(LEGS_HEAD, 5, CHUNK))?,
                conn.prepare(&multi_row_insert(LINKS_HEAD, 2, CHUNK))?,
            ))
        })();
        let (insert_raw, find_raw, insert_event, find_event, insert_legs, insert_links) = match prepared {
            Ok(statements) => statements,
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                if keys_unchecked {
                    let _ = check_foreign_keys(conn, true);
                }
                return Err(e.into());
            }
        };
        Ok(Writer {
            conn,
            committed: false,
            keys_unchecked,
            insert_raw,
            find_raw,
            insert_event,
            find_event,
            insert_legs,
            insert_links,
            legs: Vec::with_capacity(CHUNK),
            legs_text: String::with_capacity(CHUNK * 32),
            links: Vec::with_capacity(CHUNK),
            earliest_new_ms: None,
            earliest_new_movement_ms: None,
        })
    }
}

impl Writer<'_> {
    /// Stores a raw record unless (account, source, external id) is already there; returns
    /// its row id either way, and whether it was new.
    pub fn raw(
        &mut self,
        account_id: i64,
        source: &str,
        external_id: &str,
        payload: &str,
        fetched_ms: i64,
    ) -> Result<(i64, bool), LedgerError> {
        if self.insert_raw.execute(params![account_id, source, external_id, payload, fetched_ms])? == 1 {
            return Ok((self.conn.last_insert_rowid(), true));
        }
        Ok((self.find_raw.query_row(params![account_id, source, external_id], |r| r.get(0))?, false))
    }

    /// Records that raw records are sources of an event already stored (the same happening
    /// seen again, e.g. an API record of an event first imported from a CSV export).
    pub fn link(&mut self, event_id: i64, raw_ids: &[i64]) -> Result<(), LedgerError> {
        for raw in raw_ids {
            self.links.push((event_id, *raw));
            if self.links.len() == CHUNK {
                self.flush_links()?;
            }
        }
        Ok(())
    }

    /// Stores where a stream's next walk starts; in the same transaction as the page before it.
    pub fn cursor(&mut self, account_id: i64, stream: &Stream, cursor: &str) -> Result<(), LedgerError> {
        self.conn.execute(
            "INSERT INTO sync_cursors (account_id, endpoint, scope, cursor, updated_at)
             VALUES (?1, ?2, ?3, ?4, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
             ON CONFLICT (account_id, endpoint, scope) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at",
            params![account_id, stream.endpoint, stream.scope, cursor],
        )?;
        Ok(())
    }

    /// Adds a span to a stream's coverage, merged with the spans it touches or overlaps.
    pub fn cover(&mut self, account_id: i64, stream: &Stream, span: Span, fetched_ms: i64) -> Result<(), LedgerError> {
        if span.to_ms <= span.from_ms {
            return Ok(());
        }
        let touching: Vec<(i64, i64)> = self
            .conn
            .prepare_cached(
                "SELECT from_ms, to_ms FROM sync_coverage
                 WHERE account_id = ?1 AND endpoint = ?2 AND scope = ?3 AND from_ms <= ?5 AND to_ms >= ?4",
            )?
            .query_map(params![account_id, stream.endpoint, stream.scope, span.from_ms, span.to_ms], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?
            .collect::<Result<_, _>>()?;
        let from_ms = touching.iter().map(|t| t.0).fold(span.from_ms, i64::min);
        let to_ms = touching.iter().map(|t| t.1).fold(span.to_ms, i64::max);
        for (from, _) in &touching {
            self.conn.execute(
                "DELETE FROM sync_coverage WHERE account_id = ?1 AND endpoint = ?2 AND scope = ?3 AND from_ms = ?4",
                params![account_id, stream.endpoint, stream.scope, from],
            )?;
        }
        self.conn.execute(
            "INSERT INTO sync_coverage (account_id, endpoint, scope, from_ms, to_ms, fetched_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![account_id, stream.endpoint, stream.scope, from_ms, to_ms, fetched_ms],
        )?;
        Ok(())
    }

    /// Marks a stored raw record as one this version cannot read, and why (kept for attention).
    pub fn unreadable(&mut self, raw_id: i64, reason: &str, seen_ms: i64) -> Result<(), LedgerError> {
        self.conn.execute(
            "INSERT INTO unreadable_records (raw_record_id, reason, seen_ms) VALUES (?1, ?2, ?3)
             ON CONFLICT (raw_record_id) DO UPDATE SET reason = excluded.reason, seen_ms = excluded.seen_ms",
            params![raw_id, reason, seen_ms],
        )?;
        Ok(())
    }

    /// Clears a raw record's unreadable mark: it was read this time.
    pub fn readable(&mut self, raw_id: i64) -> Result<(), LedgerError> {
        self.conn.execute("DELETE FROM unreadable_records WHERE raw_record_id = ?1", params![raw_id])?;
        Ok(())
    }

    /// Deletes what the account's API raw records were normalised into: the events from API
    /// sources (their legs go with them) and the links of API records to events imported from
    /// files, and their unreadable marks. The raw records stay. Returns how many events were deleted.
    pub fn forget_api_events(&mut self, account_id: i64) -> Result<usize, LedgerError> {
        self.flush_legs()?;
        self.flush_links()?;
        self.conn.execute(
            "DELETE FROM unreadable_records WHERE raw_record_id IN
               (SELECT id FROM raw_records WHERE account_id = ?1 AND substr(source, 1, 4) = 'api:')",
            params![account_id],
        )?;
        self.conn.execute(
            "DELETE FROM event_sources WHERE raw_record_id IN
               (SELECT id FROM raw_records WHERE account_id = ?1 AND substr(source, 1, 4) = 'api:')",
            params![account_id],
        )?;
        Ok(self.conn.execute(
            "DELETE FROM events WHERE account_id = ?1 AND substr(source, 1, 4) = 'api:'",
            params![account_id],
        )?)
    }

    /// Notes, by (account, source id), the transfers linked by hand and the events kept out of
    /// automatic matching that touch `account_id`'s API events, before
    /// [`Writer::forget_api_events`] deletes those events (and, by cascade, these rows);
    /// [`Writer::restore_manual_links`] puts them back on the rebuilt events. Returns how many
    /// were noted.
    pub fn keep_manual_links(&mut self, account_id: i64) -> Result<usize, LedgerError> {
        self.conn.execute_batch(
            "CREATE TEMP TABLE IF NOT EXISTS kept_links (
                 w_account INTEGER NOT NULL, w_external TEXT NOT NULL,
                 d_account INTEGER, d_external TEXT);
             DELETE FROM temp.kept_links;",
        )?;
        let links = self.conn.execute(
            "INSERT INTO temp.kept_links (w_account, w_external, d_account, d_external)
             SELECT w.account_id, w.external_id, d.account_id, d.external_id
             FROM transfers t JOIN events w ON w.id = t.withdrawal_event_id JOIN events d ON d.id = t.deposit_event_id
             WHERE t.method = 'manual' AND ((w.account_id = ?1 AND substr(w.source, 1, 4) = 'api:')
                                         OR (d.account_id = ?1 AND substr(d.source, 1, 4) = 'api:'))",
            params![account_id],
        )?;
        let unlinks = self.conn.execute(
            "INSERT INTO temp.kept_links (w_account, w_external)
             SELECT e.account_id, e.external_id FROM transfer_unlinks u CROSS JOIN events e ON e.id = u.event_id
             WHERE e.account_id = ?1 AND substr(e.source, 1, 4) = 'api:'",
            params![account_id],
        )?;
        Ok(links + unlinks)
    }

    /// Puts back what [`Writer::keep_manual_links`] noted, on the events that now carry those
    /// source ids; returns how many could not be put back (an event the rebuild no longer
    /// makes, or a link that now conflicts with another).
    pub fn restore_manual_links(&mut self) -> Result<usize, LedgerError> {
        let now = super::now_text();
        let kept: usize = self.conn.query_row("SELECT count(*) FROM temp.kept_links", [], |r| r.get(0))?;
        let links = self.conn.execute(
            "INSERT OR IGNORE INTO transfers (withdrawal_event_id, deposit_event_id, method, created_at)
             SELECT w.id, d.id, 'manual', ?1 FROM temp.kept_links k
             JOIN events w ON w.account_id = k.w_account AND w.external_id = k.w_external
             JOIN events d ON d.account_id = k.d_account AND d.external_id = k.d_external",
            params![now],
        )?;
        let unlinks = self.conn.execute(
            "INSERT OR IGNORE INTO transfer_unlinks (event_id, created_at)
             SELECT e.id, ?1 FROM temp.kept_links k
             JOIN events e ON e.account_id = k.w_account AND e.external_id = k.w_external
             WHERE k.d_account IS NULL",
            params![now],
        )?;
        self.conn.execute_batch("DELETE FROM temp.kept_links")?;
        Ok(kept.saturating_sub(links + unlinks))
    }

    /// Stores an event with its legs and links it to the raw records it came from, unless
    /// the account already has an event with the same external id (then only the links are
    /// added).
    pub fn event(
        &mut self,
        account_id: i64,
        source: &str,
        event: &NewEvent,
        raw_ids: &[i64],
    ) -> Result<Written, LedgerError> {
        let fiat_amount = event.fiat_value.as_ref().map(|v| format_amount(v.amount));
        let fiat_currency = event.fiat_value.as_ref().map(|v| v.currency.as_str());
        let time_ms = to_millis(event.time);
        let inserted = self.insert_event.execute(params![
            account_id,
            event.external_id,
            event.kind.as_str(),
            time_ms,
            event.tx_hash,
            event.address,
            event.network,
            event.note,
            fiat_amount,
            fiat_currency,
            source
        ])? == 1;
        let written = if inserted {
            let id = self.conn.last_insert_rowid();
            self.earliest_new_ms = Some(self.earliest_new_ms.map_or(time_ms, |low| low.min(time_ms)));
            if matches!(event.kind, EventKind::Deposit | EventKind::Withdrawal) {
                self.earliest_new_movement_ms =
                    Some(self.earliest_new_movement_ms.map_or(time_ms, |low| low.min(time_ms)));
            }
            for (seq, l) in event.legs.iter().filter(|l| !l.amount.is_zero()).enumerate() {
                self.legs_text.push_str(&l.asset);
                let asset_end = self.legs_text.len();
                write_amount(&mut self.legs_text, l.amount);
                self.legs.push((id, seq as i64, l.role.as_str(), asset_end, self.legs_text.len()));
                if self.legs.len() == CHUNK {
                    self.flush_legs()?;
                }
            }
            Written::New(id)
        } else {
            Written::Existing(self.find_event.query_row(params![account_id, event.external_id], |r| r.get(0))?)
        };
        let (Written::New(event_id) | Written::Existing(event_id)) = written;
        for raw in raw_ids {
            self.links.push((event_id, *raw));
            if self.links.len() == CHUNK {
                self.flush_links()?;
            }
        }
        Ok(written)
    }

    /// Writes what is buffered and commits everything written through this writer.
    pub fn commit(mut self) -> Result<(), LedgerError> {
        self.flush_legs()?;
        self.flush_links()?;
        if let Some(low) = self.earliest_new_ms {
            // What the event and leg insert triggers did per row before 0023: a snapshot ending
            // after the earliest new event no longer holds.
            self.conn.execute(
                "UPDATE input_changes SET low_ms = ?1 WHERE id = 1 AND (low_ms IS NULL OR low_ms > ?1)",
                [low],
            )?;
            // New legs have no value yet: the next check of values reads from here (0026).
            self.conn.execute(
                "UPDATE value_changes SET low_ms = min(coalesce(low_ms, ?1), ?1), writes = writes + 1 WHERE id = 1",
                [low],
            )?;
            // And for the copy of the transfer candidates (0024): from the earliest new deposit
            // or withdrawal, or from the earliest new event of any kind when there are kind
            // overrides (a reclassification may already name an event before it exists).
            let overrides: bool =
                self.conn.query_row("SELECT EXISTS (SELECT 1 FROM kind_overrides)", [], |r| r.get(0))?;
            let candidates_from = if overrides { Some(low) } else { self.earliest_new_movement_ms };
            if let Some(low) = candidates_from {
                self.conn.execute(
                    "UPDATE transfer_cache SET low_ms = ?1 WHERE id = 1 AND (low_ms IS NULL OR low_ms > ?1)",
                    [low],
                )?;
            }
        }
        self.conn.execute_batch("COMMIT")?;
        self.committed = true;
        if self.keys_unchecked {
            check_foreign_keys(self.conn, true)?;
        }
        Ok(())
    }

    fn flush_legs(&mut self) -> Result<(), LedgerError> {
        let cells = cell_pairs(&self.legs_text, self.legs.iter().map(|&(_, _, _, first, second)| (first, second)));
        let params: Vec<&dyn ToSql> =
            self.legs.iter().zip(&cells).flat_map(|((e, s, r, _, _), (a, m))| [e as &dyn ToSql, s, r, a, m]).collect();
        write_chunk(self.conn, &mut self.insert_legs, LEGS_HEAD, 5, &params)?;
        self.legs.clear();
        self.legs_text.clear();
        Ok(())
    }

    fn flush_links(&mut self) -> Result<(), LedgerError> {
        let params: Vec<&dyn ToSql> = self.links.iter().flat_map(|(e, r)| [e as &dyn ToSql, r]).collect();
        write_chunk(self.conn, &mut self.insert_links, LINKS_HEAD, 2, &params)?;
        self.links.clear();
        Ok(())
    }
}

impl Drop for Writer<'_> {
    /// Not committed: everything written through this writer is rolled back.
    fn drop(&mut self) {
        if !self.committed {
            let _ = self.conn.execute_batch("ROLLBACK");
            if self.keys_unchecked {
                let _ = check_foreign_keys(self.conn, true);
            }
        }
    }
}

/// A write transaction that adds one account's imported files and events (with their legs and
/// lines) and nothing else: see [`Ledger::account_inserts`].
pub struct AccountInserts<'c> {
    writer: Writer<'c>,
    account_id: i64,
    insert_lines: Statement<'c>,
    /// (event, file, lines) waiting for a multi-row INSERT.
    lines: Vec<(i64, i64, String)>,
    /// How many events the open file's lines were stored for so far.
    file_lines: u64,
}

const LINES_HEAD: &str = "INSERT OR IGNORE INTO event_lines (event_id, file_id, lines)";

/// An imported file's pieces are at most this long (schema/0035_import_files.sql).
pub const FILE_CHUNK: usize = 1 << 20;

impl AccountInserts<'_> {
    /// Starts storing a file named `name`: its row, to which its pieces and lines then refer
    /// (its format, hash and length are noted when it ends). Returns its id.
    pub fn start_file(&mut self, name: &str, imported_ms: i64) -> Result<i64, LedgerError> {
        self.flush_lines()?;
        self.file_lines = 0;
        self.writer.conn.execute(
            "INSERT INTO import_files (account_id, source, name, sha256, bytes, imported_ms) VALUES (?1, '', ?2, '', 0, ?3)",
            params![self.account_id, name, imported_ms],
        )?;
        Ok(self.writer.conn.last_insert_rowid())
    }

    /// Stores the `seq`-th piece of a file's bytes (at most [`FILE_CHUNK`] long).
    pub fn file_chunk(&mut self, file: i64, seq: u64, data: &[u8]) -> Result<(), LedgerError> {
        self.writer
            .conn
            .prepare_cached("INSERT INTO import_file_chunks (file_id, seq, data) VALUES (?1, ?2, ?3)")?
            .execute(params![file, seq as i64, data])?;
        Ok(())
    }

    /// Ends a file: notes the format it was read as (`csv:<format>`), its hash and length, or
    /// removes it (its row and pieces) when none
    /// of its lines was stored for an event — every event it holds came from somewhere else
    /// first, so nothing would ever refer to it. Returns whether it was kept.
    pub fn end_file(&mut self, file: i64, source: &str, sha256: &str, bytes: u64) -> Result<bool, LedgerError> {
        self.flush_lines()?;
        let conn = self.writer.conn;
        if self.file_lines == 0 {
            // The foreign keys are not checked in this transaction: no cascade, so both.
            conn.execute("DELETE FROM import_file_chunks WHERE file_id = ?1", [file])?;
            conn.execute("DELETE FROM import_files WHERE id = ?1", [file])?;
            return Ok(false);
        }
        conn.execute(
            "UPDATE import_files SET source = ?2, sha256 = ?3, bytes = ?4 WHERE id = ?1",
            params![file, source, sha256, bytes as i64],
        )?;
        Ok(true)
    }

    /// [`Writer::event`] for this account, made from `lines` of `file`: the event (unless the
    /// account has it already) and, unless it has lines already, its lines.
    pub fn event(&mut self, source: &str, event: &NewEvent, file: i64, lines: String) -> Result<Written, LedgerError> {
        let written = self.writer.event(self.account_id, source, event, &[])?;
        let (Written::New(id) | Written::Existing(id)) = written;
        if !lines.is_empty() {
            self.lines.push((id, file, lines));
            if self.lines.len() == CHUNK {
                self.flush_lines()?;
            }
        }
        Ok(written)
    }

    /// [`Writer::commit`].
    pub fn commit(mut self) -> Result<(), LedgerError> {
        self.flush_lines()?;
        self.writer.commit()
    }

    fn flush_lines(&mut self) -> Result<(), LedgerError> {
        let params: Vec<&dyn ToSql> = self.lines.iter().flat_map(|(e, f, l)| [e as &dyn ToSql, f, l]).collect();
        self.file_lines += write_chunk(self.writer.conn, &mut self.insert_lines, LINES_HEAD, 3, &params)? as u64;
        self.lines.clear();
        Ok(())
    }
}

/// The pairs of cells of a text written pair after pair, each pair's two ends given (where
/// its first cell ends, where its second does): rows' texts kept in one buffer instead of a
/// `String` each.
pub(super) fn cell_pairs(text: &str, ends: impl Iterator<Item = (usize, usize)>) -> Vec<(&str, &str)> {
    let mut start = 0;
    ends.map(|(first, second)| {
        let cells = (&text[start..first], &text[first..second]);
        start = second;
        cells
    })
    .collect()
}

/// `INSERT ... VALUES (...), (...)` with `rows` groups of `columns` parameters.
pub(super) fn multi_row_insert(head: &str, columns: usize, rows: usize) -> String {
    let group = format!("({})", vec!["?"; columns].join(", "));
    format!("{head} VALUES {}", vec![group; rows].join(", "))
}

/// Runs a multi-row INSERT for `params` (whole rows of `columns`): the prepared full-chunk
/// statement when there are `CHUNK` rows, a statement of the right size otherwise. Returns
/// the rows inserted (fewer than given under `INSERT OR IGNORE`).
pub(super) fn write_chunk(
    conn: &Connection,
    full: &mut Statement<'_>,
    head: &str,
    columns: usize,
    params: &[&dyn ToSql],
) -> Result<usize, LedgerError> {
    Ok(match params.len() / columns {
        0 => 0,
        CHUNK => full.execute(params)?,
        rows => conn.prepare(&multi_row_insert(head, columns, rows))?.execute(params)?,
    })
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use cointally_exchanges::{EventKind, Leg, NewEvent};
    use rust_decimal::Decimal;

    use super::*;

    fn deposit(id: &str, amount: i64) -> NewEvent {
        let t = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
        NewEvent::new(id, t, EventKind::Deposit, vec![Leg::received("BTC", Decimal::new(amount, 0))])
    }

    /// 0036 makes the legs table again for a cheaper role check: every leg and every trigger
    /// on legs is as before, and a role that is none of the three is still refused.
    #[test]
    fn the_role_check_migration_keeps_every_leg_and_trigger() {
        let triggers = |conn: &Connection| -> Vec<(String, String)> {
            let mut stmt = conn
                .prepare(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'legs' ORDER BY name",
                )
                .unwrap();
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
        };
        let legs = |conn: &Connection| -> Vec<(i64, i64, String, String, String)> {
            let mut stmt =
                conn.prepare("SELECT event_id, seq, role, asset, amount FROM legs ORDER BY event_id, seq").unwrap();
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        let mut before = (Vec::new(), Vec::new());
        let (_dir, path) = crate::ledger::ledger_before(
            |m| m.contains("CREATE TABLE legs_new"),
            |tx| {
                tx.execute_batch(
                    "INSERT INTO accounts (id, label, exchange, credential_source, created_at)
                         VALUES (1, 'w', 'wallet', 'none', '2025-01-01T00:00:00Z');
                     INSERT INTO events (id, account_id, external_id, kind, time_ms, source)
                         VALUES (1, 1, 'a', 'trade', 5, 'test'), (2, 1, 'b', 'deposit', 9, 'test');
                     INSERT INTO legs VALUES (1, 0, 'sent', 'USD', '-100'), (1, 1, 'received', 'BTC', '0.01'),
                         (1, 2, 'fee', 'USD', '-1.5'), (2, 0, 'received', 'ETH', '2');",
                )
                .unwrap();
                before = (legs(tx), triggers(tx));
            },
        );
        assert_eq!((before.0.len(), before.1.len()), (4, 5));
        let ledger = Ledger::open(&path, crate::ledger::OpenMode::Existing).unwrap();
        assert_eq!((legs(&ledger.conn), triggers(&ledger.conn)), before);
        let table: String =
            ledger.conn.query_row("SELECT sql FROM sqlite_master WHERE name = 'legs'", [], |r| r.get(0)).unwrap();
        assert!(table.contains("role = 'sent' OR") && !table.contains(" IN ("), "{table}");
        let odd = ledger.conn.execute("INSERT INTO legs VALUES (2, 1, 'gift', 'ETH', '1')", []);
        assert!(odd.is_err(), "a role that is none of the three");
    }

    #[test]
    fn a_dropped_writer_rolls_back_and_a_committed_one_keeps_every_leg() {
        let (_dir, mut ledger, account) = crate::ledger::test_ledger();
        let empty = ledger.row_counts().unwrap();
        {
            let mut writer = ledger.writer().unwrap();
            writer.event(account, "test", &deposit("a", 1), &[]).unwrap();
        }
        assert_eq!(ledger.row_counts().unwrap(), empty);

        // More events than one chunk of legs, so both the full and the partial INSERT run.
        let mut writer = ledger.writer().unwrap();
        for i in 0..(CHUNK as i64 + 7) {
            let (raw, new) = writer.raw(account, "test", &format!("r{i}"), "{}", 0).unwrap();
            assert!(new);
            let written = writer.event(account, "test", &deposit(&format!("e{i}"), i + 1), &[raw]).unwrap();
            assert!(matches!(written, Written::New(_)));
        }
        assert!(matches!(writer.event(account, "test", &deposit("e0", 1), &[]).unwrap(), Written::Existing(_)));
        writer.commit().unwrap();
        let counts: std::collections::BTreeMap<_, _> = ledger.row_counts().unwrap().into_iter().collect();
        assert_eq!((counts["events"], counts["legs"], counts["event_sources"]), (207, 207, 207));
        let total: Decimal = ledger.balances(None, None).unwrap().iter().map(|b| b.amount).sum();
        assert_eq!(total, Decimal::from(207 * 208 / 2));
    }

    #[test]
    fn account_inserts_check_the_account_once_and_leave_the_key_checks_on() {
        let (_dir, mut ledger, account) = crate::ledger::test_ledger();
        let empty = ledger.row_counts().unwrap();
        {
            let mut inserts = ledger.account_inserts(account).unwrap();
            assert!(!crate::ledger::foreign_keys_checked(inserts.writer.conn));
            let file = inserts.start_file("a.csv", 0).unwrap();
            inserts.event("test", &deposit("a", 1), file, "2".into()).unwrap();
        }
        assert_eq!(ledger.row_counts().unwrap(), empty, "dropped: rolled back");
        assert!(crate::ledger::foreign_keys_checked(&ledger.conn), "on again after a rollback");

        let mut inserts = ledger.account_inserts(account).unwrap();
        let file = inserts.start_file("history.csv", 0).unwrap();
        inserts.file_chunk(file, 0, b"the bytes").unwrap();
        for i in 0..(CHUNK as i64 + 7) {
            assert!(matches!(
                inserts.event("test", &deposit(&format!("e{i}"), i + 1), file, format!("{}", i + 2)).unwrap(),
                Written::New(_)
            ));
        }
        assert!(inserts.end_file(file, "csv:generic", "00", 9).unwrap(), "kept: its lines made events");
        // The same events again from another file: nothing of it is referred to, so it goes.
        let again = inserts.start_file("again.csv", 0).unwrap();
        inserts.file_chunk(again, 0, b"the bytes").unwrap();
        assert!(matches!(inserts.event("test", &deposit("e0", 1), again, "2".into()).unwrap(), Written::Existing(_)));
        assert!(!inserts.end_file(again, "csv:generic", "00", 9).unwrap(), "removed: it added nothing");
        inserts.commit().unwrap();
        assert!(crate::ledger::foreign_keys_checked(&ledger.conn), "on again after a commit");
        let counts: std::collections::BTreeMap<_, _> = ledger.row_counts().unwrap().into_iter().collect();
        assert_eq!((counts["events"], counts["legs"], counts["event_lines"]), (207, 207, 207));
        assert_eq!((counts["import_files"], counts["import_file_chunks"]), (1, 1));
        assert_eq!(
            crate::ledger::dangling_references(&ledger.conn),
            0,
            "every leg and line names its event, every piece its file"
        );
        let lines_of_missing_files: i64 = ledger
            .conn
            .query_row("SELECT count(*) FROM event_lines WHERE file_id NOT IN (SELECT id FROM import_files)", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(lines_of_missing_files, 0);

        // Removed by another command before the write lock was taken: nothing is written.
        let removed = ledger.conn.execute("DELETE FROM events WHERE account_id = ?1", [account]).unwrap();
        ledger.conn.execute("DELETE FROM import_files WHERE account_id = ?1", [account]).unwrap();
        ledger.conn.execute("DELETE FROM accounts WHERE id = ?1", [account]).unwrap();
        assert_eq!(ledger.event_removals().unwrap(), removed as i64, "each removed event counted (0032)");
        match ledger.account_inserts(account) {
            Err(LedgerError::NoSuchAccountId(id)) => assert_eq!(id, account),
            Err(other) => panic!("refused for another reason: {other}"),
            Ok(_) => panic!("an account that is gone was written to"),
        }
        assert!(crate::ledger::foreign_keys_checked(&ledger.conn), "on again after the refusal");
    }

    #[test]
    fn a_commit_notes_its_earliest_new_event_for_the_snapshots_and_nothing_else_does() {
        let (_dir, mut ledger, account) = crate::ledger::test_ledger();
        let at = |day: u32, id: &str| {
            let t = Utc.with_ymd_and_hms(2025, 3, day, 0, 0, 0).unwrap();
            NewEvent::new(id, t, EventKind::Deposit, vec![Leg::received("BTC", Decimal::ONE)])
        };
        let ms = |day: u32| Utc.with_ymd_and_hms(2025, 3, day, 0, 0, 0).unwrap().timestamp_millis();
        assert_eq!(ledger.input_changes_low_ms().unwrap(), None);

        // Rolled back: nothing noted.
        {
            let mut writer = ledger.writer().unwrap();
            writer.event(account, "test", &at(2, "x"), &[]).unwrap();
        }
        assert_eq!(ledger.input_changes_low_ms().unwrap(), None);

        let mut writer = ledger.writer().unwrap();
        for (day, id) in [(20, "a"), (9, "b"), (15, "c")] {
            writer.event(account, "test", &at(day, id), &[]).unwrap();
        }
        writer.commit().unwrap();
        assert_eq!(ledger.input_changes_low_ms().unwrap(), Some(ms(9)));

        // A later commit never raises the mark; an event already stored notes nothing.
        let mut writer = ledger.writer().unwrap();
        writer.event(account, "test", &at(25, "d"), &[]).unwrap();
        writer.event(account, "test", &at(1, "b"), &[]).unwrap();
        writer.commit().unwrap();
        assert_eq!(ledger.input_changes_low_ms().unwrap(), Some(ms(9)));
        let mut writer = ledger.writer().unwrap();
        writer.event(account, "test", &at(3, "e"), &[]).unwrap();
        writer.commit().unwrap();
        assert_eq!(ledger.input_changes_low_ms().unwrap(), Some(ms(3)));

        // New values note their earliest event too; a value already stored notes nothing.
        ledger.conn.execute("UPDATE input_changes SET low_ms = NULL", []).unwrap();
        let id = |external: &str| -> i64 {
            ledger.conn.query_row("SELECT id FROM events WHERE external_id = ?1", [external], |r| r.get(0)).unwrap()
        };
        let value = |event_id| crate::ledger::LegValue {
            event_id,
            seq: 0,
            price: Decimal::ONE,
            value: Decimal::ONE,
            source: "test".into(),
            path: String::new(),
        };
        let (a, c) = (value(id("a")), value(id("c")));
        assert_eq!(ledger.store_leg_values("USD", &[a.clone(), c]).unwrap(), 2);
        assert_eq!(ledger.input_changes_low_ms().unwrap(), Some(ms(15)));
        ledger.conn.execute("UPDATE input_changes SET low_ms = NULL", []).unwrap();
        assert_eq!(ledger.store_leg_values("USD", &[a]).unwrap(), 0);
        assert_eq!(ledger.input_changes_low_ms().unwrap(), None);
    }

    /// The transfer candidates' copy is marked by new deposits and withdrawals only, unless a
    /// kind override exists (it may name an event of another kind before it is stored).
    #[test]
    fn only_new_deposits_and_withdrawals_mark_the_transfer_copy_unless_kinds_are_overridden() {
        let (_dir, mut ledger, account) = crate::ledger::test_ledger();
        let at = |day: u32, id: &str, kind: EventKind| {
            let t = Utc.with_ymd_and_hms(2025, 3, day, 0, 0, 0).unwrap();
            NewEvent::new(id, t, kind, vec![Leg::received("BTC", Decimal::ONE)])
        };
        let ms = |day: u32| Utc.with_ymd_and_hms(2025, 3, day, 0, 0, 0).unwrap().timestamp_millis();
        let mark = |ledger: &Ledger| -> Option<i64> {
            ledger.conn.query_row("SELECT low_ms FROM transfer_cache WHERE id = 1", [], |r| r.get(0)).unwrap()
        };
        ledger.conn.execute("UPDATE transfer_cache SET low_ms = NULL", []).unwrap();

        let mut writer = ledger.writer().unwrap();
        writer.event(account, "test", &at(5, "t", EventKind::Trade), &[]).unwrap();
        writer.event(account, "test", &at(6, "s", EventKind::Staking), &[]).unwrap();
        writer.commit().unwrap();
        assert_eq!(mark(&ledger), None, "a trade or a reward is no candidate");
        assert_eq!(ledger.input_changes_low_ms().unwrap(), Some(ms(5)), "the snapshots still see them");

        let mut writer = ledger.writer().unwrap();
        writer.event(account, "test", &at(4, "t2", EventKind::Trade), &[]).unwrap();
        writer.event(account, "test", &at(8, "w", EventKind::Withdrawal), &[]).unwrap();
        writer.event(account, "test", &at(7, "d", EventKind::Deposit), &[]).unwrap();
        writer.commit().unwrap();
        assert_eq!(mark(&ledger), Some(ms(7)));

        ledger.conn.execute("UPDATE transfer_cache SET low_ms = NULL", []).unwrap();
        ledger
            .reclassify(
                ledger.conn.query_row("SELECT id FROM events WHERE external_id = 't'", [], |r| r.get(0)).unwrap(),
                EventKind::Deposit,
            )
            .unwrap();
        ledger.conn.execute("UPDATE transfer_cache SET low_ms = NULL", []).unwrap();
        let mut writer = ledger.writer().unwrap();
        writer.event(account, "test", &at(2, "t3", EventKind::Trade), &[]).unwrap();
        writer.commit().unwrap();
        assert_eq!(mark(&ledger), Some(ms(2)), "with overrides, any new event may be a candidate");
    }
}

//! What the tax engine reads and writes: events with their legs' values in time order, the
//! deposits and withdrawals that may be own transfers, the transfers matched or decided by
//! the user, and the rows of a computed run (disposals, income, year-end holdings; `runs`
//! stores them).

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use chrono::Utc;
use cointally_exchanges::{EventKind, LegRole};
use rusqlite::{OptionalExtension, ToSql, params};
use rust_decimal::Decimal;

use super::events::parse_stored_amount;
use super::prices::leg_value;
use super::writer::{CHUNK, multi_row_insert, write_chunk};
use super::{Ledger, LedgerError, decimal};

/// An event as the tax engine sees it: kind, time, legs with their values.
#[derive(Debug, PartialEq, Eq)]
pub struct TaxEvent {
    /// Row id.
    pub id: i64,
    /// The account (wallet) it happened in.
    pub account_id: i64,
    /// What happened.
    pub kind: EventKind,
    /// UTC ms.
    pub time_ms: i64,
    /// A cost basis the user gave for a deposit (a generic-CSV deposit row's `fiat_value` in
    /// the reporting currency).
    pub basis: Option<Decimal>,
    /// Its legs, in order.
    pub legs: Vec<TaxLeg>,
}

/// One leg of a [`TaxEvent`].
#[derive(Debug, PartialEq, Eq)]
pub struct TaxLeg {
    /// Position in the event.
    pub seq: i64,
    /// Side of the event.
    pub role: LegRole,
    /// Asset symbol.
    pub asset: String,
    /// Signed amount.
    pub amount: Decimal,
    /// Value in the reporting currency; `None` when it has none (only with
    /// `--allow-missing-prices`).
    pub value: Option<Decimal>,
}

impl TaxLeg {
    /// Makes this leg the one given, keeping its string's capacity (legs are read into reused
    /// buffers).
    pub(super) fn set(&mut self, seq: i64, role: LegRole, asset: &str, amount: Decimal, value: Option<Decimal>) {
        self.seq = seq;
        self.role = role;
        self.asset.clear();
        self.asset.push_str(asset);
        self.amount = amount;
        self.value = value;
    }
}

impl TaxEvent {
    /// An empty event to read events into one after another (its legs' strings reused).
    pub(super) fn buffer() -> TaxEvent {
        TaxEvent {
            id: 0,
            account_id: 0,
            kind: EventKind::Unknown,
            time_ms: 0,
            basis: None,
            legs: Vec::with_capacity(4),
        }
    }
}

// `clone_from` field by field, so that a buffer of events refilled from the reader (the
// report's pass hands batches to the engine's thread) keeps its strings' and legs' capacity.
impl Clone for TaxEvent {
    fn clone(&self) -> TaxEvent {
        TaxEvent {
            id: self.id,
            account_id: self.account_id,
            kind: self.kind,
            time_ms: self.time_ms,
            basis: self.basis,
            legs: self.legs.clone(),
        }
    }

    fn clone_from(&mut self, source: &TaxEvent) {
        self.id = source.id;
        self.account_id = source.account_id;
        self.kind = source.kind;
        self.time_ms = source.time_ms;
        self.basis = source.basis;
        self.legs.clone_from(&source.legs);
    }
}

impl Clone for TaxLeg {
    fn clone(&self) -> TaxLeg {
        TaxLeg { seq: self.seq, role: self.role, asset: self.asset.clone(), amount: self.amount, value: self.value }
    }

    fn clone_from(&mut self, source: &TaxLeg) {
        self.seq = source.seq;
        self.role = source.role;
        self.asset.clone_from(&source.asset);
        self.amount = source.amount;
        self.value = source.value;
    }
}

/// A deposit or withdrawal of one crypto asset: a candidate half of an own transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Movement {
    /// The event.
    pub event_id: i64,
    /// Its account.
    pub account_id: i64,
    /// Whether the asset left (a withdrawal) or arrived (a deposit).
    pub outgoing: bool,
    /// UTC ms.
    pub time_ms: i64,
    /// The asset moved.
    pub asset: String,
    /// The amount that left or arrived (positive), fees not included.
    pub amount: Decimal,
    /// Fees paid in the same asset (positive).
    pub fee: Decimal,
    /// The on-chain hash, if known.
    pub tx_hash: Option<String>,
}

/// How a transfer was matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LinkMethod {
    /// The same transaction hash on both sides.
    TxHash,
    /// Asset, amount and a time window, with one candidate only.
    AmountTime,
    /// The user linked them.
    Manual,
}

impl LinkMethod {
    /// The ledger's name.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkMethod::TxHash => "tx_hash",
            LinkMethod::AmountTime => "amount_time",
            LinkMethod::Manual => "manual",
        }
    }

    fn from_name(name: &str) -> Result<LinkMethod, LedgerError> {
        match name {
            "tx_hash" => Ok(LinkMethod::TxHash),
            "amount_time" => Ok(LinkMethod::AmountTime),
            "manual" => Ok(LinkMethod::Manual),
            other => Err(LedgerError::Corrupt(format!("transfer method {other:?}"))),
        }
    }
}

/// A withdrawal and the deposit it became.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TransferLink {
    /// The withdrawal event.
    pub withdrawal: i64,
    /// The deposit event.
    pub deposit: i64,
    /// How they were paired.
    pub method: LinkMethod,
}

/// Short or long term.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Term {
    /// Held one year or less.
    Short,
    /// Held more than one year.
    Long,
}

impl Term {
    /// `short` or `long`.
    pub fn as_str(self) -> &'static str {
        match self {
            Term::Short => "short",
            Term::Long => "long",
        }
    }
}

/// Why units were disposed of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DisposalKind {
    /// Sold, traded away or spent.
    Sale,
    /// Paid as a fee.
    Fee,
    /// Paid as the network fee of an own transfer.
    TransferFee,
}

impl DisposalKind {
    /// The ledger's name.
    pub fn as_str(self) -> &'static str {
        match self {
            DisposalKind::Sale => "sale",
            DisposalKind::Fee => "fee",
            DisposalKind::TransferFee => "transfer_fee",
        }
    }
}

/// A disposal of one lot fragment: one Form 8949 row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disposal {
    /// The disposing event.
    pub event_id: i64,
    /// Its account.
    pub account_id: i64,
    /// Why.
    pub kind: DisposalKind,
    /// Asset symbol.
    pub asset: String,
    /// Units disposed of (positive).
    pub amount: Decimal,
    /// When the lot was acquired (UTC ms).
    pub acquired_ms: i64,
    /// When it was disposed of (UTC ms).
    pub disposed_ms: i64,
    /// Amount realized, after disposal costs.
    pub proceeds: Decimal,
    /// Basis of the units.
    pub cost_basis: Decimal,
    /// Short or long.
    pub term: Term,
    /// The event that acquired the lot; `None` when more was disposed of than was held.
    pub lot_event_id: Option<i64>,
    /// The basis is unknown (a deposit from outside, or units never seen arriving).
    pub basis_missing: bool,
    /// A value used is missing (only with `--allow-missing-prices`).
    pub price_missing: bool,
    /// The units were acquired in the disposing account and never left it (at a broker from
    /// 2026: covered units, whose basis the broker reports).
    pub acquired_here: bool,
}

impl Disposal {
    /// Proceeds minus basis, unrounded.
    pub fn gain(&self) -> Decimal {
        self.proceeds - self.cost_basis
    }
}

/// Income received: its value is also the basis of its lot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomeRow {
    /// The event.
    pub event_id: i64,
    /// Its account.
    pub account_id: i64,
    /// The income kind (staking, interest, ...).
    pub kind: EventKind,
    /// Asset received.
    pub asset: String,
    /// Units received.
    pub amount: Decimal,
    /// UTC ms.
    pub received_ms: i64,
    /// Fair market value when received.
    pub value: Decimal,
    /// The value is missing (counted as zero).
    pub price_missing: bool,
}

/// A lot still held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holding {
    /// The event that acquired it.
    pub lot_event_id: i64,
    /// The wallet holding it (per-wallet tracking); `None` under universal tracking.
    pub account_id: Option<i64>,
    /// Asset symbol.
    pub asset: String,
    /// Units held.
    pub amount: Decimal,
    /// When acquired (UTC ms).
    pub acquired_ms: i64,
    /// Basis of the units held.
    pub cost_basis: Decimal,
    /// The basis is unknown.
    pub basis_missing: bool,
}

/// The rows of one computed run, as stored for exports and audit.
#[derive(Debug, Clone, Copy)]
pub struct RunRows<'a> {
    /// The tax year.
    pub year: i32,
    /// The options, as JSON.
    pub options: &'a str,
    /// SHA-256 (hex) of the inputs read.
    pub inputs_hash: &'a str,
    /// The year's disposals.
    pub disposals: &'a [Disposal],
    /// The year's income.
    pub income: &'a [IncomeRow],
    /// Lots held at the end of the year.
    pub holdings: &'a [Holding],
}

/// A TEXT column borrowed from the row.
pub(super) fn text<'a>(row: &'a rusqlite::Row<'_>, index: usize) -> Result<&'a str, LedgerError> {
    row.get_ref(index)?.as_str().map_err(|e| LedgerError::Corrupt(format!("column {index}: {e}")))
}

/// A TEXT column that may be NULL, borrowed from the row.
pub(super) fn opt_text<'a>(row: &'a rusqlite::Row<'_>, index: usize) -> Result<Option<&'a str>, LedgerError> {
    row.get_ref(index)?.as_str_or_null().map_err(|e| LedgerError::Corrupt(format!("column {index}: {e}")))
}

fn event_kind(id: i64, kind: &str) -> Result<EventKind, LedgerError> {
    kind.parse().map_err(|_| LedgerError::Corrupt(format!("event {id} has kind {kind:?}")))
}

pub(super) fn leg_role(role: &str) -> Result<LegRole, LedgerError> {
    LegRole::from_name(role).ok_or_else(|| LedgerError::Corrupt(format!("leg role {role:?}")))
}

impl Ledger {
    /// Calls `each` with every event before `until_ms` (all when `None`) in time order (ties
    /// by id), its legs valued in `currency`. Streams: one event in memory at a time.
    pub fn for_each_tax_event(
        &self,
        currency: &str,
        until_ms: Option<i64>,
        mut each: impl FnMut(TaxEvent),
    ) -> Result<(), LedgerError> {
        self.for_each_tax_event_between(currency, i64::MIN, until_ms.unwrap_or(i64::MAX), |e| each(e.clone()))
    }

    /// The events from `from_ms` (included) to `until_ms` (excluded), in time order, each with
    /// its legs and their values in `currency`, handed to `each` by reference: one prepared
    /// query walking `events_by_time`, the legs and values by their primary keys; the event
    /// and its legs are one buffer reused from event to event (its strings keep their
    /// capacity), so reading allocates nothing per event once the buffer has grown.
    pub fn for_each_tax_event_between(
        &self,
        currency: &str,
        from_ms: i64,
        until_ms: i64,
        mut each: impl FnMut(&TaxEvent),
    ) -> Result<(), LedgerError> {
        self.try_for_each_tax_event_between(currency, from_ms, until_ms, |event| {
            each(event);
            ControlFlow::Continue(())
        })
    }

    /// [`Ledger::for_each_tax_event_between`] that stops reading when `each` says
    /// [`ControlFlow::Break`] (whoever took the events has gone).
    pub fn try_for_each_tax_event_between(
        &self,
        currency: &str,
        from_ms: i64,
        until_ms: i64,
        mut each: impl FnMut(&TaxEvent) -> ControlFlow<()>,
    ) -> Result<(), LedgerError> {
        // Without kind overrides (most ledgers) the look-up of one per event is left out.
        let overrides: bool = self.conn.query_row("SELECT EXISTS (SELECT 1 FROM kind_overrides)", [], |r| r.get(0))?;
        let mut stmt = self.conn.prepare_cached(if overrides {
            "SELECT e.id, e.account_id, COALESCE(o.kind, e.kind), e.time_ms, e.fiat_value, e.fiat_currency, e.source,
                    l.seq, l.role, l.asset, l.amount, v.value
             FROM events e INDEXED BY events_by_time
             LEFT JOIN kind_overrides o ON o.account_id = e.account_id AND o.external_id = e.external_id
             JOIN legs l ON l.event_id = e.id
             LEFT JOIN leg_values v ON v.event_id = l.event_id AND v.seq = l.seq AND v.currency = ?1
             WHERE e.time_ms >= ?2 AND e.time_ms < ?3
             ORDER BY e.time_ms, e.id, l.seq"
        } else {
            "SELECT e.id, e.account_id, e.kind, e.time_ms, e.fiat_value, e.fiat_currency, e.source,
                    l.seq, l.role, l.asset, l.amount, v.value
             FROM events e INDEXED BY events_by_time
             JOIN legs l ON l.event_id = e.id
             LEFT JOIN leg_values v ON v.event_id = l.event_id AND v.seq = l.seq AND v.currency = ?1
             WHERE e.time_ms >= ?2 AND e.time_ms < ?3
             ORDER BY e.time_ms, e.id, l.seq"
        })?;
        let mut rows = stmt.query(params![currency, from_ms, until_ms])?;
        let mut event = TaxEvent::buffer();
        // Legs of the buffer in use: the rest of `event.legs` are spare, kept for their strings.
        let mut used = 0usize;
        let mut spare: Vec<TaxLeg> = Vec::with_capacity(4);
        let mut started = false;
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            if !started || event.id != id {
                if started {
                    // The legs past this event's are set aside (no allocation once grown).
                    spare.extend(event.legs.drain(used..));
                    if each(&event).is_break() {
                        return Ok(());
                    }
                }
                started = true;
                used = 0;
                let kind = event_kind(id, text(row, 2)?)?;
                let basis = match kind {
                    EventKind::Deposit => {
                        let fiat = opt_text(row, 4)?;
                        let fiat_currency = opt_text(row, 5)?;
                        match (fiat, fiat_currency) {
                            (Some(value), Some(c)) if c == currency && text(row, 6)? == "csv:generic" => {
                                Some(decimal(value, "fiat value")?)
                            }
                            _ => None,
                        }
                    }
                    _ => None,
                };
                event.id = id;
                event.account_id = row.get(1)?;
                event.kind = kind;
                event.time_ms = row.get(3)?;
                event.basis = basis;
            }
            let seq = row.get(7)?;
            let role = leg_role(text(row, 8)?)?;
            let asset = text(row, 9)?;
            let amount = parse_stored_amount(text(row, 10)?)?;
            let value = leg_value(opt_text(row, 11)?, asset, amount, currency)?;
            if used == event.legs.len() {
                let leg = spare.pop().unwrap_or_else(|| TaxLeg { seq, role, asset: String::new(), amount, value });
                event.legs.push(leg);
            }
            if let Some(leg) = event.legs.get_mut(used) {
                leg.set(seq, role, asset, amount, value);
            }
            used += 1;
        }
        if started {
            event.legs.truncate(used);
            let _ = each(&event);
        }
        Ok(())
    }

    /// The stored transfers, by withdrawal id.
    pub fn transfer_links(&self) -> Result<Vec<TransferLink>, LedgerError> {
        read_transfer_links(&self.conn)
    }

    /// The events the user unlinked, which automatic matching leaves alone.
    pub fn transfer_unlinks(&self) -> Result<BTreeSet<i64>, LedgerError> {
        let mut stmt = self.conn.prepare("SELECT event_id FROM transfer_unlinks")?;
        let ids = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
        Ok(ids)
    }

    /// Makes the automatically matched transfers those of `links` (manual ones stay), in one
    /// transaction; only the differences are written.
    pub fn replace_automatic_transfers(&mut self, links: &[TransferLink]) -> Result<(), LedgerError> {
        let tx = self.transaction()?;
        replace_automatic_transfers(&tx, links)?;
        tx.commit()?;
        Ok(())
    }

    /// The kind (the user's, if they reclassified it) and account of an event, if it exists.
    pub fn event_kind(&self, id: i64) -> Result<Option<(EventKind, i64)>, LedgerError> {
        let row: Option<(String, i64)> = self
            .conn
            .query_row(
                "SELECT COALESCE(o.kind, e.kind), e.account_id FROM events e
                 LEFT JOIN kind_overrides o ON o.account_id = e.account_id AND o.external_id = e.external_id
                 WHERE e.id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        row.map(|(kind, account)| Ok((event_kind(id, &kind)?, account))).transpose()
    }

    /// Whether event `id` sends something and whether it receives something (fees aside).
    pub fn event_sides(&self, id: i64) -> Result<(bool, bool), LedgerError> {
        let (sends, receives): (i64, i64) = self.conn.query_row(
            "SELECT count(*) FILTER (WHERE role = 'sent'), count(*) FILTER (WHERE role = 'received')
             FROM legs WHERE event_id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok((sends > 0, receives > 0))
    }

    /// Records that event `id` is a `kind` (the source's own kind removes the override);
    /// returns the kind the source gave it, or `None` when there is no such event.
    pub fn reclassify(&mut self, id: i64, kind: EventKind) -> Result<Option<EventKind>, LedgerError> {
        let row: Option<(i64, String, String)> = self
            .conn
            .query_row("SELECT account_id, external_id, kind FROM events WHERE id = ?1", [id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        let Some((account, external_id, original)) = row else { return Ok(None) };
        let original = event_kind(id, &original)?;
        let tx = self.transaction()?;
        if kind == original {
            tx.execute(
                "DELETE FROM kind_overrides WHERE account_id = ?1 AND external_id = ?2",
                params![account, external_id],
            )?;
        } else {
            tx.execute(
                "INSERT INTO kind_overrides (account_id, external_id, kind, created_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (account_id, external_id) DO UPDATE SET kind = excluded.kind, created_at = excluded.created_at",
                params![account, external_id, kind.as_str(), Utc::now().to_rfc3339()],
            )?;
        }
        tx.commit()?;
        Ok(Some(original))
    }

    /// Links a withdrawal to a deposit by hand: any other transfer of either event goes, and
    /// neither stays unlinked.
    pub fn link_transfer(&mut self, withdrawal: i64, deposit: i64) -> Result<(), LedgerError> {
        let now = Utc::now().to_rfc3339();
        let tx = self.transaction()?;
        tx.execute(
            "DELETE FROM transfers WHERE withdrawal_event_id IN (?1, ?2) OR deposit_event_id IN (?1, ?2)",
            params![withdrawal, deposit],
        )?;
        tx.execute("DELETE FROM transfer_unlinks WHERE event_id IN (?1, ?2)", params![withdrawal, deposit])?;
        tx.execute(
            "INSERT INTO transfers (withdrawal_event_id, deposit_event_id, method, created_at) VALUES (?1, ?2, 'manual', ?3)",
            params![withdrawal, deposit, now],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Removes the transfer `event` is part of and keeps `event` out of automatic matching;
    /// returns how many transfers were removed.
    pub fn unlink_transfer(&mut self, event: i64) -> Result<usize, LedgerError> {
        let now = Utc::now().to_rfc3339();
        let tx = self.transaction()?;
        let removed =
            tx.execute("DELETE FROM transfers WHERE withdrawal_event_id = ?1 OR deposit_event_id = ?1", [event])?;
        tx.execute(
            "INSERT INTO transfer_unlinks (event_id, created_at) VALUES (?1, ?2) ON CONFLICT (event_id) DO NOTHING",
            params![event, now],
        )?;
        tx.commit()?;
        Ok(removed)
    }
}

/// The stored transfers, by withdrawal id.
pub(super) fn read_transfer_links(conn: &rusqlite::Connection) -> Result<Vec<TransferLink>, LedgerError> {
    let mut stmt = conn.prepare_cached(
        "SELECT withdrawal_event_id, deposit_event_id, method FROM transfers ORDER BY withdrawal_event_id",
    )?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(TransferLink {
            withdrawal: row.get(0)?,
            deposit: row.get(1)?,
            method: LinkMethod::from_name(text(row, 2)?)?,
        });
    }
    Ok(out)
}

/// Makes the automatic transfers those of `links` (manual ones stay), inside the caller's
/// transaction; only the differences are written.
pub(super) fn replace_automatic_transfers(
    conn: &rusqlite::Connection,
    links: &[TransferLink],
) -> Result<(), LedgerError> {
    let wanted: BTreeSet<(i64, i64, LinkMethod)> =
        links.iter().filter(|l| l.method != LinkMethod::Manual).map(|l| (l.withdrawal, l.deposit, l.method)).collect();
    let stored: BTreeSet<(i64, i64, LinkMethod)> = read_transfer_links(conn)?
        .into_iter()
        .filter(|l| l.method != LinkMethod::Manual)
        .map(|l| (l.withdrawal, l.deposit, l.method))
        .collect();
    if wanted == stored {
        return Ok(());
    }
    let now = Utc::now().to_rfc3339();
    let mut delete = conn.prepare("DELETE FROM transfers WHERE withdrawal_event_id = ?1 AND method <> 'manual'")?;
    for (w, _, _) in stored.difference(&wanted) {
        delete.execute([w])?;
    }
    // Multi-row INSERTs, as the writer does: a first matching writes every link.
    const HEAD: &str = "INSERT INTO transfers (withdrawal_event_id, deposit_event_id, method, created_at)";
    let mut full = conn.prepare_cached(&multi_row_insert(HEAD, 4, CHUNK))?;
    let new: Vec<(i64, i64, &str)> = wanted.difference(&stored).map(|(w, d, m)| (*w, *d, m.as_str())).collect();
    for chunk in new.chunks(CHUNK) {
        let mut params: Vec<&dyn ToSql> = Vec::with_capacity(4 * chunk.len());
        for (w, d, method) in chunk {
            params.extend_from_slice(&[w as &dyn ToSql, d, method, &now]);
        }
        write_chunk(conn, &mut full, HEAD, 4, &params)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::ledger::OpenMode;

    /// The movements read through the partial index: stored deposits and withdrawals, less
    /// those reclassified as something else, plus events reclassified as either.
    #[test]
    fn movements_follow_the_kind_in_force() {
        use cointally_exchanges::time::from_millis;
        use cointally_exchanges::{Leg, NewEvent};

        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open(&dir.path().join("l.sqlite"), OpenMode::CreateNew).unwrap();
        let account = ledger.add_account(&crate::ledger::NewAccount::files_only("a", "generic")).unwrap().id;
        let events = [
            ("d", EventKind::Deposit, Leg::received("BTC", Decimal::ONE)),
            ("w", EventKind::Withdrawal, Leg::sent("ETH", Decimal::TWO)),
            ("g", EventKind::Deposit, Leg::received("SOL", Decimal::TEN)),
            ("r", EventKind::Staking, Leg::received("ADA", Decimal::ONE)),
            ("s", EventKind::Spend, Leg::sent("DOT", Decimal::ONE)),
        ];
        let mut writer = ledger.writer().unwrap();
        let mut ids = BTreeMap::new();
        for (i, (external, kind, leg)) in events.into_iter().enumerate() {
            let event = NewEvent::new(external, from_millis(1_000 * i as i64), kind, vec![leg]);
            let (crate::ledger::Written::New(id) | crate::ledger::Written::Existing(id)) =
                writer.event(account, "csv:generic", &event, &[]).unwrap();
            ids.insert(external, id);
        }
        writer.commit().unwrap();
        ledger.reclassify(ids["g"], EventKind::Gift).unwrap();
        ledger.reclassify(ids["r"], EventKind::Deposit).unwrap();
        ledger.reclassify(ids["s"], EventKind::Withdrawal).unwrap();
        let read: Vec<(i64, bool, String)> =
            ledger.movements().unwrap().into_iter().map(|m| (m.event_id, m.outgoing, m.asset)).collect();
        let want = vec![
            (ids["d"], false, "BTC".into()),
            (ids["w"], true, "ETH".into()),
            (ids["r"], false, "ADA".into()),
            (ids["s"], true, "DOT".into()),
        ];
        assert_eq!(read, want);
    }
}

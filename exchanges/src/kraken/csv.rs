//! Kraken's "Ledgers" export (Kraken → History → Export → Ledgers, CSV).
//!
//! # Layouts
//!
//! Every ledgers header Kraken has written; columns are found by name, so their order does
//! not matter and an unknown extra column is ignored. A header matches when it has all of
//! `txid, refid, time, type, aclass, asset, amount, fee, balance`:
//!
//! - `txid,refid,time,type,aclass,asset,amount,fee,balance` (until about 2020, no subtype),
//! - `txid,refid,time,type,subtype,aclass,asset,amount,fee,balance` (2020 – 2023),
//! - the same with a trailing unnamed empty column, or with a trailing `amountusd`,
//! - `txid,refid,time,type,subtype,aclass,asset,wallet,amount,fee,balance` (2024), also with
//!   a trailing `amountusd`,
//! - `txid,refid,time,type,subtype,aclass,subclass,asset,wallet,amount,fee,balance` (2025 on).
//!
//! `time` is UTC (`2021-03-04 14:55:10`, fractions of a second accepted). `amount` is signed,
//! `fee` is charged in the row's asset on top of it (balance = previous + amount − fee), so a
//! fee is always a separate fee leg. Asset codes go through [`canonical_asset`] (`XXBT` →
//! `BTC`, `ZEUR` → `EUR`, `DOT.S` → `DOT`, `KFEE` stays `KFEE`). `aclass`, `subclass`,
//! `wallet`, `balance` and `amountusd` are kept in the raw archive only (`balance` must be a
//! number or empty; `amountusd` is not used as the event's value because its exact meaning
//! is not documented by Kraken).
//!
//! # Rows → events
//!
//! | `type` (`subtype`) | event |
//! |---|---|
//! | `trade`, `spend` + `receive`, `sale`, `settled` | the rows of one `refid` become ONE `trade` |
//! | `deposit` | `deposit`, or `fiat_deposit` for fiat; `KFEE` credits → `rebate` |
//! | `withdrawal` | `withdrawal`, or `fiat_withdrawal` for fiat |
//! | `staking`, `reward` | `staking` |
//! | `earn` (`reward`) | `staking` |
//! | `earn` (`allocation`, `deallocation`, `autoallocation`, `autoallocate`, `migration`) | `internal_transfer` |
//! | `transfer` (`spottostaking`, `stakingfromspot`, `stakingtospot`, `spotfromstaking`) | `internal_transfer` |
//! | `transfer` (`spottofutures`, `spotfromfutures`) | `internal_transfer` |
//! | `transfer` (`spotfromfutures`) crediting `ETHW` | `fork` |
//! | `transfer` / `earn` (`airdrop`); `transfer` with no subtype, credit | `airdrop` |
//! | `transfer` / `earn` (`delistingconversion`) | `conversion` |
//! | `adjustment`; `transfer` with no subtype, debit | `adjustment` |
//! | `dividend` | `income` |
//! | `credit`, `invite bonus` | `rebate` |
//! | `margin`, `margin trade`, `rollover` with amount 0 | `fee` |
//!
//! Any other `type`, an `earn` or `transfer` subtype not listed, and a margin row with a
//! non-zero amount are errors that name the row: cointally does not guess. A row whose
//! amount is zero but has a fee becomes a `fee` event whatever its type (outside trades).
//!
//! # Ids
//!
//! A trade's `external_id` is its `refid` (the trade id Kraken's API uses); every other
//! event is one ledger row and its `external_id` is the row's `txid` (the ledger id Kraken's
//! API uses; a `refid` is not unique there: the two rows of an Earn allocation, or a
//! withdrawal and its reversal, share one). Each raw row is archived under its `txid`.
//!
//! # Decisions where the source is uncertain
//!
//! - **Trade grouping.** The rows of one trade share a `refid` and a time and usually stand
//!   next to each other, but not always (several fills at the same second interleave). Trade
//!   rows are held by `refid`; a group is written once it has a debit and a credit AND a row
//!   more than ten minutes away from it in time has been read (a third row — a `KFEE` fee, a
//!   second wallet — can still join until then). At the end of the file every held group is
//!   written. A row for a trade already written is an error asking for the file in time
//!   order, never a second event with the same id. So events come out in file order, except
//!   that a trade comes out after the single rows read while it was held. Within a trade,
//!   amounts are summed per asset (one order filled from the spot and an Earn wallet writes
//!   two debit rows), so a trade has one sent leg, one received leg, and a fee leg per fee
//!   asset; the event's time is its earliest row's.
//! - **Lone trade rows.** A trade `refid` with only debits or only credits (the other side
//!   rounded away, or cut off by the export's date range) is still a `trade` event with the
//!   legs it has and a note saying the other side is not in the file.
//! - **Pending rows.** Kraken writes a deposit or withdrawal twice: once when it starts, with
//!   an empty `txid` and an empty `balance`, and again when it completes, with both (old files
//!   do the same for staking moves, with `deposit`/`withdrawal` rows next to the `transfer`
//!   and `staking` rows). The pending row never changed a balance and repeats the completed
//!   one, so deposit and withdrawal rows with an empty `txid` are skipped. An empty `txid` on
//!   any other type is an error (a file whose ids were removed cannot be keyed).
//! - **Reversals.** A `withdrawal` row with a positive amount returns a failed withdrawal; it
//!   becomes a `deposit` (or `fiat_deposit`) noted as a reversal; a `deposit` row with a
//!   negative amount becomes a `withdrawal` likewise.
//! - **Earn rewards** are `staking`, not `interest`: Kraken pays them from staking (bonded)
//!   and its opt-in rewards programme alike, and the export does not tell them apart.
//! - **Negative staking rows** (Kraken's corrections of `ETH2.S` and other staked balances)
//!   and a negative `airdrop` are `adjustment`s, not income.
//! - **Staking variants** (`DOT.S`, `USD.M`, `ETH2.S` …) map to their asset, so a move from
//!   `DOT` to `DOT.S` is two `internal_transfer` events (one per ledger row, as Kraken gives
//!   them different refids) whose legs cancel out. `spottofutures`/`spotfromfutures` moves
//!   are `internal_transfer`s too: the coins leave or enter this ledger for Kraken Futures
//!   (Kraken also credited the ETHW fork as `spotfromfutures`: an ETHW credit of that
//!   subtype is a `fork`, income at its value, since the coins never were in this ledger).
//! - **KFEE** fee credits keep their own asset `KFEE`; their arrival is a `rebate`, their
//!   use a fee leg in `KFEE`.
//! - **Margin.** `margin`/`rollover` rows with amount 0 are opening and rollover fees →
//!   `fee`. `settled` rows (a position settled by delivering the quote and receiving the base)
//!   are a `trade`. A margin row with a non-zero amount is a realised profit or loss, whose
//!   treatment depends on the jurisdiction: it is refused, with a hint.
//! - **Fees** are taken as their absolute value: some exports wrote them negative with the
//!   same meaning. An empty `fee` is no fee.
//! - **`credit`** is a `rebate` (Kraken's account credits are goodwill and fee credits).
//!   **Airdrops and forks** both arrive as `transfer` credits without a subtype and cannot
//!   be told apart: both are imported as `airdrop`.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;

use super::assets::canonical_asset;
use crate::asset::is_fiat;
use crate::event::{EventKind, Leg, NewEvent};
use crate::rows::{Header, ImportedEvent, Row, RowError, RowReader, SourceRow};

/// The columns every ledgers layout has.
const REQUIRED_COLUMNS: [&str; 9] = ["txid", "refid", "time", "type", "aclass", "asset", "amount", "fee", "balance"];

/// How far (seconds) a row must be from a complete trade before the trade is written.
const GROUP_WINDOW_SECONDS: i64 = 600;

/// Whether a header is Kraken's ledgers export (any generation).
pub fn matches(header: &Header) -> bool {
    header.has_all(&REQUIRED_COLUMNS)
}

/// Reads Kraken ledgers rows; holds trade rows until their `refid` group is whole.
#[derive(Default)]
pub struct Reader {
    /// Trades still open, by refid.
    open: BTreeMap<String, TradeGroup>,
    /// Trades already written, by refid, with the line of their first row.
    written: BTreeMap<String, u64>,
}

/// The rows of one trade read so far.
struct TradeGroup {
    first_line: u64,
    earliest: DateTime<Utc>,
    latest: DateTime<Utc>,
    entries: Vec<Entry>,
}

/// One ledger row of a trade.
struct Entry {
    asset: String,
    amount: Decimal,
    fee: Decimal,
    source: SourceRow,
}

impl TradeGroup {
    /// Whether the trade has both a debit and a credit.
    fn is_complete(&self) -> bool {
        self.entries.iter().any(|e| e.amount < Decimal::ZERO) && self.entries.iter().any(|e| e.amount > Decimal::ZERO)
    }

    /// Whether `time` is too far from the trade for a row at `time` to belong to it.
    fn is_far_from(&self, time: DateTime<Utc>) -> bool {
        let window = Duration::seconds(GROUP_WINDOW_SECONDS);
        time > self.latest + window || time < self.earliest - window
    }

    /// The trade event: amounts summed per asset, fees per asset.
    fn into_event(self, refid: String) -> ImportedEvent {
        let mut parts = Vec::with_capacity(self.entries.len());
        let mut rows = Vec::with_capacity(self.entries.len());
        for entry in self.entries {
            parts.push((entry.asset, entry.amount, entry.fee));
            rows.push(entry.source);
        }
        let (legs, one_sided) = trade_legs(parts);
        let note = one_sided.then(|| {
            "only one side of this Kraken trade is in the file (the other side is missing or zero)".to_string()
        });
        let event = NewEvent { note, ..NewEvent::new(refid, self.earliest, EventKind::Trade, legs) };
        ImportedEvent { event, rows }
    }
}

/// The legs of one trade from its ledger entries (asset, amount, fee), shared with the API
/// normaliser: amounts summed per asset into one sent and one received leg per asset, a fee leg
/// per fee asset. Also says whether the trade is one-sided (no debit or no credit).
pub(super) fn trade_legs(entries: impl IntoIterator<Item = (String, Decimal, Decimal)>) -> (Vec<Leg>, bool) {
    let mut net: Vec<(String, Decimal)> = Vec::new();
    let mut fees: Vec<(String, Decimal)> = Vec::new();
    for (asset, amount, fee) in entries {
        add_to(&mut net, &asset, amount);
        if !fee.is_zero() {
            add_to(&mut fees, &asset, fee);
        }
    }
    let mut legs: Vec<Leg> = Vec::with_capacity(net.len() + fees.len());
    legs.extend(net.iter().filter(|(_, v)| *v < Decimal::ZERO).map(|(a, v)| Leg::sent(a.clone(), *v)));
    let sent = legs.len();
    legs.extend(net.iter().filter(|(_, v)| *v > Decimal::ZERO).map(|(a, v)| Leg::received(a.clone(), *v)));
    let received = legs.len() - sent;
    legs.extend(fees.into_iter().map(|(a, v)| Leg::fee(a, v)));
    (legs, sent == 0 || received == 0)
}

/// The legs of one ledger entry outside trades, shared with the API normaliser: its amount
/// sent or received, and its fee.
pub(super) fn entry_legs(asset: &str, amount: Decimal, fee: Decimal) -> Vec<Leg> {
    let mut legs = Vec::with_capacity(2);
    if amount < Decimal::ZERO {
        legs.push(Leg::sent(asset.to_string(), amount));
    } else if amount > Decimal::ZERO {
        legs.push(Leg::received(asset.to_string(), amount));
    }
    if !fee.is_zero() {
        legs.push(Leg::fee(asset.to_string(), fee));
    }
    legs
}

fn add_to(totals: &mut Vec<(String, Decimal)>, asset: &str, amount: Decimal) {
    match totals.iter_mut().find(|(a, _)| a == asset) {
        // Each amount is below 10^20 (`parse_amount`): overflowing would take 790 million rows
        // of one refid, so the sum is unchecked.
        Some((_, total)) => *total += amount,
        None => totals.push((asset.to_string(), amount)),
    }
}

/// Whether rows of this type are legs of a trade, grouped by refid.
pub(super) fn is_trade_type(entry_type: &str) -> bool {
    matches!(entry_type, "trade" | "spend" | "receive" | "sale" | "settled")
}

fn deposit_kind(fiat: bool) -> EventKind {
    if fiat { EventKind::FiatDeposit } else { EventKind::Deposit }
}

fn withdrawal_kind(fiat: bool) -> EventKind {
    if fiat { EventKind::FiatWithdrawal } else { EventKind::Withdrawal }
}

/// What a single (non-trade) ledger row is, with a note where the kind alone does not say it
/// (shared with the API normaliser).
pub(super) fn classify(
    entry_type: &str,
    subtype: &str,
    asset: &str,
    amount: Decimal,
    fee: Decimal,
) -> Result<(EventKind, Option<&'static str>), RowError> {
    let credit = amount > Decimal::ZERO;
    let debit = amount < Decimal::ZERO;
    let fiat = is_fiat(asset);
    let (kind, note) = match (entry_type, subtype) {
        ("deposit", _) if asset == "KFEE" => (EventKind::Rebate, Some("Kraken fee credits")),
        ("deposit", _) if debit => (withdrawal_kind(fiat), Some("reversal of a failed deposit")),
        ("deposit", _) => (deposit_kind(fiat), None),
        ("withdrawal", _) if credit => (deposit_kind(fiat), Some("reversal of a failed withdrawal")),
        ("withdrawal", _) => (withdrawal_kind(fiat), None),
        ("staking" | "reward", _) | ("earn", "reward") if debit => {
            (EventKind::Adjustment, Some("negative staking entry: Kraken corrected a staked balance"))
        }
        ("staking" | "reward", _) | ("earn", "reward") => (EventKind::Staking, None),
        // Kraken credited the Ethereum PoW fork (ETHW) through its futures wallet: the coins
        // never were in this ledger, so the credit is the fork's income at its value (IRS Rev.
        // Rul. 2019-24: new coins from a hard fork are income when received), not a move.
        ("transfer", "spotfromfutures") if credit && asset == "ETHW" => {
            (EventKind::Fork, Some("ETHW from the Ethereum fork, credited through Kraken Futures"))
        }
        ("earn", "allocation" | "deallocation" | "autoallocation" | "autoallocate" | "migration")
        | (
            "transfer",
            "spottostaking" | "stakingfromspot" | "stakingtospot" | "spotfromstaking" | "spottofutures"
            | "spotfromfutures",
        ) => (EventKind::InternalTransfer, None),
        ("earn" | "transfer", "airdrop") if debit => (EventKind::Adjustment, Some("negative airdrop entry")),
        ("earn" | "transfer", "airdrop") => (EventKind::Airdrop, None),
        ("earn" | "transfer", "delistingconversion") => (EventKind::Conversion, Some("delisting conversion")),
        ("transfer", "") if debit => (EventKind::Adjustment, Some("transfer out without subtype (delisting or OTC)")),
        ("transfer", "") => (EventKind::Airdrop, Some("transfer credit without subtype (airdrop or fork)")),
        ("adjustment", _) => (EventKind::Adjustment, None),
        ("dividend", _) => (EventKind::Income, None),
        ("credit", _) => (EventKind::Rebate, Some("Kraken account credit")),
        ("invite bonus", _) => (EventKind::Rebate, Some("Kraken invite bonus")),
        ("margin" | "margin trade" | "rollover", _) if amount.is_zero() => {
            (EventKind::Fee, Some("margin position fee"))
        }
        // A realised margin profit or loss: its treatment depends on where the user lives, so it
        // is kept as `unknown` (in balances, not in gains) for the user to reclassify.
        ("margin" | "margin trade" | "rollover", _) => {
            (EventKind::Unknown, Some("Kraken realised margin profit or loss (margin/rollover entry)"))
        }
        // A type or earn/transfer subtype cointally does not know: kept as `unknown` with the
        // type in the note (see `unknown_note`), never fatal.
        _ => (EventKind::Unknown, None),
    };
    if amount.is_zero() && !fee.is_zero() {
        return Ok((EventKind::Fee, note));
    }
    Ok((kind, note))
}

impl Reader {
    /// Removes the held trades `done` selects and returns their events in file order.
    fn flush(&mut self, done: impl Fn(&str, &TradeGroup) -> bool) -> Vec<ImportedEvent> {
        let refids: Vec<String> = self.open.iter().filter(|(r, g)| done(r, g)).map(|(r, _)| r.clone()).collect();
        let mut groups: Vec<(String, TradeGroup)> =
            refids.into_iter().filter_map(|r| self.open.remove(&r).map(|g| (r, g))).collect();
        groups.sort_by_key(|(_, g)| g.first_line);
        groups
            .into_iter()
            .map(|(refid, group)| {
                self.written.insert(refid.clone(), group.first_line);
                group.into_event(refid)
            })
            .collect()
    }
}

impl RowReader for Reader {
    fn read(&mut self, row: &Row<'_>) -> Result<Vec<ImportedEvent>, RowError> {
        let entry_type = row.required("type")?.to_ascii_lowercase();
        let subtype = row.get("subtype").to_ascii_lowercase();
        let txid = row.get("txid");
        if txid.is_empty() {
            if matches!(entry_type.as_str(), "deposit" | "withdrawal") {
                // A pending entry: repeated by the completed entry, which has the txid.
                return Ok(Vec::new());
            }
            return Err(RowError::new(format!(
                "column \"txid\" is empty on a {entry_type:?} row; Kraken leaves it empty only on pending deposit \
                 and withdrawal rows — export the ledgers from Kraken again and import the file unedited"
            )));
        }
        let time = row.time("time")?;
        let asset = canonical_asset(row.required("asset")?).map_err(|e| RowError::field("asset", e))?;
        let amount = row.amount("amount")?;
        let fee = row.optional_amount("fee")?.unwrap_or_default().abs();
        row.optional_amount("balance")?;

        if is_trade_type(&entry_type) {
            let refid = row.required("refid")?;
            if let Some(first_line) = self.written.get(refid) {
                return Err(RowError::new(format!(
                    "this {entry_type:?} row belongs to Kraken trade {refid}, which was already completed from the \
                     rows at line {first_line} and after; rows of one trade must not be more than {} minutes \
                     apart in the file — sort the file by time (as Kraken exports it) and import it again",
                    GROUP_WINDOW_SECONDS / 60
                )));
            }
            let events = self.flush(|r, g| r != refid && g.is_complete() && g.is_far_from(time));
            let group = self.open.entry(refid.to_string()).or_insert_with(|| TradeGroup {
                first_line: row.line,
                earliest: time,
                latest: time,
                entries: Vec::new(),
            });
            group.earliest = group.earliest.min(time);
            group.latest = group.latest.max(time);
            group.entries.push(Entry { asset, amount, fee, source: SourceRow::of(row) });
            // Nothing of this trade is written yet; `events` holds only earlier trades.
            return Ok(events);
        }

        let (kind, note) = classify(&entry_type, &subtype, &asset, amount, fee)?;
        let legs = entry_legs(&asset, amount, fee);
        let note = match (kind, note) {
            (EventKind::InternalTransfer, _) => Some(internal_note(row, &entry_type, &subtype)),
            (EventKind::Unknown, None) => Some(unknown_note(&entry_type, &subtype)),
            (_, note) => note.map(str::to_string),
        };
        let mut events = self.flush(|_, g| g.is_complete() && g.is_far_from(time));
        let event = NewEvent { note, ..NewEvent::new(txid, time, kind, legs) };
        events.push(ImportedEvent { event, rows: vec![SourceRow::of(row)] });
        Ok(events)
    }

    fn finish(&mut self) -> Result<Vec<ImportedEvent>, RowError> {
        Ok(self.flush(|_, _| true))
    }
}

/// The note of an entry of a type cointally does not know: the type and subtype, which is
/// what `check` groups such events by (shared with the API normaliser).
pub(super) fn unknown_note(entry_type: &str, subtype: &str) -> String {
    format!("Kraken ledger type {entry_type:?}, subtype {subtype:?}")
}

/// "earn/allocation, wallet earn / bonded": which move between Kraken's wallets a row was.
fn internal_note(row: &Row<'_>, entry_type: &str, subtype: &str) -> String {
    let mut note = format!("{entry_type}/{subtype}");
    if let Some(wallet) = row.optional("wallet") {
        note.push_str(", wallet ");
        note.push_str(&wallet);
    }
    note
}

#[cfg(test)]
mod tests;

//! An engine's state at a year's end as a stored snapshot, and back: the lots and balances in
//! their tables, the rest (the lot counter, transfers in flight…) as a small JSON object, to
//! which a country adds what it keeps beside the engine (Germany's and Australia's shortfalls,
//! Australia's gross figures of each year: [`crate::tax::country_years`]).

use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use super::Method;
use super::engine::EngineState;
use super::pools::{Lot, unit_basis};
use crate::ledger::LedgerError;
use crate::ledger::snapshots::{Snapshot, SnapshotHead, SnapshotLot};

/// The snapshot of `state` under `head` (its `state` text is made here, from the engine's
/// and `extra`'s fields).
pub fn snapshot(state: EngineState, mut head: SnapshotHead, mut extra: Map<String, Value>) -> Snapshot {
    let lots = state
        .lots
        .into_iter()
        .map(|(wallet, asset, method, lot)| SnapshotLot {
            wallet,
            asset,
            method: method.as_str().to_owned(),
            lot_id: lot.id,
            event_id: lot.event_id,
            acquired_ms: lot.acquired_ms,
            amount: lot.amount,
            basis: lot.basis,
            basis_missing: lot.basis_missing,
            price_missing: lot.price_missing,
            origin_account: lot.origin_account,
            moved: lot.moved,
            rank: Some(lot.rank),
        })
        .collect();
    extra.insert("per_wallet".into(), json!(state.per_wallet));
    extra.insert("next_lot".into(), json!(state.next_lot));
    extra.insert(
        "in_flight".into(),
        state
            .in_flight
            .iter()
            .map(|(deposit, to, asset, units)| json!([deposit, to, asset, units.normalize().to_string()]))
            .collect(),
    );
    extra.insert("landed_first".into(), json!(state.landed_first));
    head.state = Value::Object(extra).to_string();
    Snapshot { head, lots, balances: state.balances }
}

/// The error of a stored snapshot whose `what` does not read: it names the year and the way
/// out (a computation from the first event, which writes the snapshot again).
pub fn damaged(head: &SnapshotHead, what: impl std::fmt::Display) -> LedgerError {
    LedgerError::Corrupt(format!(
        "the snapshot at the end of {} does not read ({what}); run `cointally report --from-scratch`",
        head.year
    ))
}

/// The engine's state a snapshot holds, and its whole `state` object (for the fields a country
/// added). A field that does not read is an error naming the snapshot's year.
pub fn engine_state(snapshot: Snapshot) -> Result<(EngineState, Value), LedgerError> {
    let corrupt = |what: String| damaged(&snapshot.head, what);
    let state: Value = serde_json::from_str(&snapshot.head.state).map_err(|e| corrupt(format!("state {e}")))?;
    let (Some(per_wallet), Some(next_lot)) = (state["per_wallet"].as_bool(), state["next_lot"].as_i64()) else {
        return Err(corrupt(format!("state {:?}", snapshot.head.state)));
    };
    let in_flight =
        in_flight(&state["in_flight"]).ok_or_else(|| corrupt(format!("in flight {:?}", state["in_flight"])))?;
    // Absent from a snapshot written before they were kept (its key then no longer fits).
    let landed_first = match &state["landed_first"] {
        Value::Null => Some(Vec::new()),
        ids => ids.as_array().and_then(|ids| ids.iter().map(|id| id.as_i64()).collect::<Option<Vec<i64>>>()),
    }
    .ok_or_else(|| corrupt(format!("landed first {:?}", state["landed_first"])))?;
    let mut lots = Vec::with_capacity(snapshot.lots.len());
    for l in snapshot.lots {
        let method = Method::from_name(&l.method).ok_or_else(|| corrupt(format!("method {:?}", l.method)))?;
        let lot = Lot {
            id: l.lot_id,
            event_id: l.event_id,
            acquired_ms: l.acquired_ms,
            amount: l.amount,
            basis: l.basis,
            basis_missing: l.basis_missing,
            price_missing: l.price_missing,
            origin_account: l.origin_account,
            moved: l.moved,
            rank: l.rank.unwrap_or_else(|| unit_basis(l.amount, l.basis)),
        };
        lots.push((l.wallet, l.asset, method, lot));
    }
    let engine = EngineState { lots, balances: snapshot.balances, per_wallet, next_lot, in_flight, landed_first };
    Ok((engine, state))
}

/// The transfers in flight as a snapshot's state holds them: `[deposit, to, asset, units]`.
fn in_flight(value: &Value) -> Option<Vec<(i64, i64, String, Decimal)>> {
    if value.is_null() {
        return Some(Vec::new());
    }
    value
        .as_array()?
        .iter()
        .map(|entry| {
            let units = entry.get(3)?.as_str()?.parse().ok()?;
            Some((entry.get(0)?.as_i64()?, entry.get(1)?.as_i64()?, entry.get(2)?.as_str()?.to_owned(), units))
        })
        .collect()
}

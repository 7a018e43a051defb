//! Removing an account whole, a statement per table instead of a row at a time.
//!
//! Deleting an account's rows through SQLite's cascades deletes each event, leg, value and link
//! one at a time, and runs every delete trigger once per row (the notes of what changed since
//! a report: `input_changes`, `transfer_cache`, `event_removals`): 22 s for an account of
//! 1,000,000 events, 9 s of it the triggers. Here, with the foreign key checks off and the
//! delete triggers dropped inside the transaction, each table that refers to the account, its
//! events or its raw records loses its rows in one statement (the tables and columns are read
//! from the schema's foreign keys, so a table added later is followed too), the notes the
//! triggers would have made are made once, and the triggers are created again from their
//! stored text before the commit (they come back at the end of `sqlite_master`'s list, the
//! same text). A failure or a kill rolls all of it back, triggers included. 4.9 s for the same
//! account. `bundle --account` removes the other accounts from its copy the same way.
//!
//! The notes are those of the delete triggers [`NOTED_TRIGGERS`] names, as they fire when an
//! account's events go before the account (the order of the removal by rows): each event's
//! time into `input_changes` and, for a deposit, a withdrawal or an event whose kind was
//! overridden, into `transfer_cache`; the removal counted in `event_removals`; a manual link
//! or a kept-apart event removed sets `transfer_cache.links_changed`. The triggers on legs,
//! values and overrides find their event gone by the time the cascade reaches them and note
//! nothing. A ledger with any other delete trigger, or a foreign key that neither cascades nor
//! sets null, is removed row by row instead (nothing here would note what it notes).

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::{Connection, params};

use super::{LedgerError, check_foreign_keys};

/// The delete triggers whose notes [`remove`] makes itself (schema 0010, 0024, 0026, 0032, 0036).
pub(super) const NOTED_TRIGGERS: [&str; 12] = [
    "event_removals_count",
    "tax_changes_allocation_delete",
    "tax_changes_event_delete",
    "tax_changes_leg_delete",
    "tax_changes_override_delete",
    "tax_changes_value_delete",
    "transfer_cache_event_delete",
    "transfer_cache_leg_delete",
    "transfer_cache_manual_delete",
    "transfer_cache_override_delete",
    "transfer_cache_unlink_delete",
    "value_changes_value_delete",
];

/// A foreign key of a child table: its column, and whether removing the parent deletes the
/// child row (`true`) or sets the column to null.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ForeignKey {
    child: String,
    column: String,
    cascade: bool,
}

/// A foreign key as the schema states it (`pragma_foreign_key_list`).
#[derive(Debug)]
struct SchemaKey {
    child: String,
    column: String,
    /// The parent's column it refers to (`None`: the parent's primary key).
    to: Option<String>,
    on_delete: String,
}

/// What the removal needs from the schema: the delete triggers (name → text) and each parent
/// table's foreign keys.
#[derive(Debug)]
pub(super) struct Plan {
    triggers: BTreeMap<String, String>,
    children: BTreeMap<String, Vec<ForeignKey>>,
}

impl Plan {
    /// Reads the schema; `None` when the ledger has a delete trigger or a foreign key action
    /// this removal does not know (the rows then go one at a time, as SQLite cascades them).
    pub(super) fn read(conn: &Connection) -> Result<Option<Plan>, LedgerError> {
        let mut triggers = BTreeMap::new();
        let mut stmt = conn.prepare(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND upper(sql) LIKE '%DELETE ON%' ORDER BY name",
        )?;
        for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))? {
            let (name, sql) = row?;
            triggers.insert(name, sql);
        }
        if !triggers.keys().map(String::as_str).eq(NOTED_TRIGGERS) {
            return Ok(None);
        }
        // Every foreign key of the schema, by parent.
        let mut all: BTreeMap<String, Vec<SchemaKey>> = BTreeMap::new();
        let mut stmt = conn.prepare(
            "SELECT m.name, k.\"table\", k.\"from\", k.\"to\", k.on_delete
             FROM sqlite_master m, pragma_foreign_key_list(m.name) k
             WHERE m.type = 'table' ORDER BY m.name, k.id, k.seq",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?;
        for row in rows {
            let (child, parent, column, to, on_delete): (String, String, String, Option<String>, String) = row?;
            all.entry(parent).or_default().push(SchemaKey { child, column, to, on_delete });
        }
        // The keys the removal follows, from the accounts down: each must cascade or set null,
        // and refer to its parent's `id` (the ids the removal gathers).
        let mut children: BTreeMap<String, Vec<ForeignKey>> = BTreeMap::new();
        let mut reached = vec!["accounts".to_owned()];
        while let Some(parent) = reached.pop() {
            if children.contains_key(&parent) {
                continue;
            }
            let mut keys = Vec::new();
            for SchemaKey { child, column, to, on_delete } in all.get(&parent).map(Vec::as_slice).unwrap_or_default() {
                let cascade = match on_delete.as_str() {
                    "CASCADE" => true,
                    "SET NULL" => false,
                    _ => return Ok(None),
                };
                if to.as_deref().is_some_and(|to| to != "id") {
                    return Ok(None);
                }
                if cascade {
                    reached.push(child.clone());
                }
                keys.push(ForeignKey { child: child.clone(), column: column.clone(), cascade });
            }
            children.insert(parent, keys);
        }
        children.retain(|_, keys| !keys.is_empty());
        Ok(Some(Plan { triggers, children }))
    }
}

/// Runs `remove` in one write transaction on `conn` with the foreign key checks off (the
/// pragma cannot change inside a transaction: off before it, on again after it commits or
/// fails), given the schema's [`Plan`]; `None`, with nothing done, when the schema is not one
/// this module removes from.
pub(super) fn unchecked<T>(
    conn: &mut Connection,
    remove: impl FnOnce(&Connection, &Plan) -> Result<T, LedgerError>,
) -> Result<Option<T>, LedgerError> {
    check_foreign_keys(conn, false)?;
    let done = (|| -> Result<Option<T>, LedgerError> {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // Read under the write lock: no other command changes the schema meanwhile.
        let Some(plan) = Plan::read(&tx)? else { return Ok(None) };
        let done = remove(&tx, &plan)?;
        tx.commit()?;
        Ok(Some(done))
    })();
    let on = check_foreign_keys(conn, true);
    let done = done?;
    on?;
    Ok(done)
}

/// Removes the accounts `ids` and every row of theirs from a ledger file opened without a
/// [`super::Ledger`] (a bundle's copy), in one transaction: a statement per table, or through
/// SQLite's cascades on a schema this module does not know.
pub(crate) fn remove_accounts(conn: &mut Connection, ids: &[i64]) -> Result<(), LedgerError> {
    if ids.is_empty() {
        return Ok(());
    }
    let removed = unchecked(conn, |tx, plan| {
        for id in ids {
            remove(tx, plan, *id)?;
        }
        Ok(())
    })?;
    if removed.is_none() {
        let tx = conn.transaction()?;
        for id in ids {
            tx.execute("DELETE FROM accounts WHERE id = ?1", [id])?;
        }
        tx.commit()?;
    }
    Ok(())
}

/// Removes account `account_id` and every row that refers to it, in the transaction `tx`
/// (foreign key checks off); returns how many events went.
pub(super) fn remove(tx: &Connection, plan: &Plan, account_id: i64) -> Result<u64, LedgerError> {
    tx.execute_batch("CREATE TEMP TABLE removal_accounts (id INTEGER PRIMARY KEY)")?;
    tx.execute("INSERT INTO temp.removal_accounts (id) VALUES (?1)", [account_id])?;
    let notes = Notes::read(tx, account_id)?;
    for name in plan.triggers.keys() {
        tx.execute_batch(&format!("DROP TRIGGER \"{name}\""))?;
    }
    let mut sets = BTreeSet::new();
    delete_with_children(tx, plan, "accounts", &mut sets)?;
    for sql in plan.triggers.values() {
        tx.execute_batch(sql)?;
    }
    notes.write(tx)?;
    for table in sets {
        tx.execute_batch(&format!("DROP TABLE temp.removal_{table}"))?;
    }
    Ok(notes.events)
}

/// Deletes the rows of `table` whose ids are in `temp.removal_<table>` and, before them, every
/// row of another table that refers to them (deleted, or its reference set to null). `sets`
/// gathers the temporary tables made.
fn delete_with_children(
    tx: &Connection,
    plan: &Plan,
    table: &str,
    sets: &mut BTreeSet<String>,
) -> Result<(), LedgerError> {
    sets.insert(table.to_owned());
    let set = format!("temp.removal_{table}");
    for key in plan.children.get(table).map(Vec::as_slice).unwrap_or_default() {
        let (child, column) = (&key.child, &key.column);
        if !key.cascade {
            tx.execute(
                &format!("UPDATE \"{child}\" SET \"{column}\" = NULL WHERE \"{column}\" IN (SELECT id FROM {set})"),
                [],
            )?;
        } else if plan.children.contains_key(child.as_str()) {
            // A parent itself: its ids first, then its own children.
            tx.execute_batch(&format!("CREATE TEMP TABLE IF NOT EXISTS removal_{child} (id INTEGER PRIMARY KEY)"))?;
            tx.execute(
                &format!(
                    "INSERT OR IGNORE INTO temp.removal_{child} (id) SELECT id FROM \"{child}\" WHERE \"{column}\" IN (SELECT id FROM {set})"
                ),
                [],
            )?;
            delete_with_children(tx, plan, child, sets)?;
        } else {
            // An empty table costs a probe per removed row otherwise.
            let any: bool = tx.query_row(&format!("SELECT EXISTS (SELECT 1 FROM \"{child}\")"), [], |r| r.get(0))?;
            if any {
                tx.execute(&format!("DELETE FROM \"{child}\" WHERE \"{column}\" IN (SELECT id FROM {set})"), [])?;
            }
        }
    }
    tx.execute(&format!("DELETE FROM \"{table}\" WHERE id IN (SELECT id FROM {set})"), [])?;
    Ok(())
}

/// The notes the delete triggers would make, read before anything is deleted.
struct Notes {
    /// Events removed.
    events: u64,
    /// The earliest of their times.
    earliest: Option<i64>,
    /// The earliest time of a removed deposit, withdrawal or event of overridden kind.
    earliest_movement: Option<i64>,
    /// A manual link or a kept-apart event goes with them.
    links_changed: bool,
}

impl Notes {
    fn read(tx: &Connection, account_id: i64) -> Result<Notes, LedgerError> {
        let (events, earliest, earliest_movement): (i64, Option<i64>, Option<i64>) = tx.query_row(
            "SELECT count(*), min(e.time_ms),
                    min(CASE WHEN e.kind IN ('deposit', 'withdrawal')
                               OR EXISTS (SELECT 1 FROM kind_overrides o
                                          WHERE o.account_id = e.account_id AND o.external_id = e.external_id)
                             THEN e.time_ms END)
             FROM events e WHERE e.account_id = ?1",
            [account_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let links_changed: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM transfers t JOIN events e ON e.id IN (t.withdrawal_event_id, t.deposit_event_id)
                            WHERE t.method = 'manual' AND e.account_id = ?1)
                 OR EXISTS (SELECT 1 FROM transfer_unlinks u JOIN events e ON e.id = u.event_id WHERE e.account_id = ?1)",
            [account_id],
            |r| r.get(0),
        )?;
        Ok(Notes { events: events.max(0) as u64, earliest, earliest_movement, links_changed })
    }

    fn write(&self, tx: &Connection) -> Result<(), LedgerError> {
        if let Some(low) = self.earliest {
            tx.execute("UPDATE input_changes SET low_ms = ?1 WHERE low_ms IS NULL OR low_ms > ?1", [low])?;
        }
        if let Some(low) = self.earliest_movement {
            tx.execute("UPDATE transfer_cache SET low_ms = ?1 WHERE low_ms IS NULL OR low_ms > ?1", [low])?;
        }
        if self.links_changed {
            tx.execute("UPDATE transfer_cache SET links_changed = 1", [])?;
        }
        tx.execute("UPDATE event_removals SET count = count + ?1 WHERE id = 1", params![self.events as i64])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use cointally_exchanges::{EventKind, Leg, NewEvent};
    use rusqlite::params;
    use rust_decimal::Decimal;

    use crate::ledger::{Ledger, NewAccount, OpenMode, test_ledger, test_value, write_test_events};

    /// Every row of every table (sorted, as text) and every trigger's text: what two ways of
    /// removing an account must leave alike.
    fn dump(ledger: &Ledger) -> Vec<(String, Vec<String>)> {
        let conn = &ledger.conn;
        let mut names: Vec<String> = ledger.row_counts().unwrap().into_iter().map(|(name, _)| name).collect();
        names.push("sqlite_master".into());
        names
            .into_iter()
            .map(|table| {
                let sql = if table == "sqlite_master" {
                    "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'".to_owned()
                } else {
                    format!("SELECT * FROM \"{table}\"")
                };
                let mut stmt = conn.prepare(&sql).unwrap();
                let columns = stmt.column_count();
                let mut rows: Vec<String> = stmt
                    .query_map([], |r| {
                        let cells: Vec<rusqlite::types::Value> =
                            (0..columns).map(|i| r.get(i)).collect::<Result<_, _>>()?;
                        Ok(format!("{cells:?}"))
                    })
                    .unwrap()
                    .collect::<Result<_, _>>()
                    .unwrap();
                rows.sort();
                (table, rows)
            })
            .collect()
    }

    /// Two accounts whose rows refer to each other every way the schema allows: values, a
    /// manual link and an automatic one across them, a kept-apart event, an overridden kind,
    /// raw records with links, an unreadable mark and details (one of the kept account naming
    /// a removed event), a kept file and its lines, a rebate link, cursors and balances; the
    /// notes cleared so that what the removal notes shows. Returns the removed account's first
    /// two times (its earliest event, and its earliest counted as a movement).
    fn two_accounts(ledger: &mut Ledger, kept: i64) -> (i64, i64) {
        let gone = ledger.add_account(&NewAccount::files_only("gone", "wallet")).unwrap().id;
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        let base = 1_735_689_600_000_i64;
        let at = |hours: i64| chrono::DateTime::from_timestamp_millis(base + hours * 3_600_000).unwrap();
        let ours = [
            NewEvent::new(
                "e0",
                at(1),
                EventKind::Trade,
                vec![Leg::sent("USD", d("100")), Leg::received("BTC", d("0.01"))],
            ),
            NewEvent::new("e1", at(5), EventKind::Withdrawal, vec![Leg::sent("BTC", d("0.004"))]),
            NewEvent::new("e2", at(6), EventKind::Deposit, vec![Leg::received("ETH", d("1"))]),
            NewEvent::new("e3", at(7), EventKind::Income, vec![Leg::received("ETH", d("0.1"))]),
            NewEvent::new(
                "e4",
                at(2),
                EventKind::Trade,
                vec![Leg::sent("ETH", d("0.5")), Leg::received("BTC", d("0.02"))],
            ),
            NewEvent::new("e6", at(8), EventKind::Deposit, vec![Leg::received("BTC", d("0.003"))]),
        ];
        let theirs = [
            NewEvent::new("k0", at(5), EventKind::Deposit, vec![Leg::received("BTC", d("0.004"))]),
            NewEvent::new("k1", at(6), EventKind::Withdrawal, vec![Leg::sent("ETH", d("1"))]),
            NewEvent::new(
                "k2",
                at(9),
                EventKind::Trade,
                vec![Leg::sent("USD", d("50")), Leg::received("ETH", d("0.02"))],
            ),
        ];
        let g = write_test_events(ledger, gone, &ours);
        let k = write_test_events(ledger, kept, &theirs);
        ledger.store_leg_values("USD", &[test_value(g[0], 1, "100"), test_value(k[2], 1, "50")]).unwrap();
        ledger.link_transfer(g[1], k[0]).unwrap();
        ledger.unlink_transfer(g[5]).unwrap();
        ledger.reclassify(g[4], EventKind::Withdrawal).unwrap();
        let sql = format!(
            "INSERT INTO transfers (withdrawal_event_id, deposit_event_id, method, created_at) VALUES ({k1}, {g2}, 'tx_hash', 'now');
             INSERT INTO raw_records (id, account_id, source, external_id, payload, fetched_ms) VALUES
                 (901, {gone}, 'api:x', 'r1', '{{}}', 0), (902, {kept}, 'api:x', 'r2', '{{}}', 0);
             INSERT INTO event_sources (event_id, raw_record_id) VALUES ({g0}, 901), ({k2}, 902);
             INSERT INTO unreadable_records (raw_record_id, reason, seen_ms) VALUES (901, 'odd', 0);
             INSERT INTO event_details (account_id, raw_record_id, external_id, kind, time_ms, asset, amount, event_id) VALUES
                 ({gone}, 901, 'd1', 'deposit', 0, 'BTC', '1', {g0}), ({kept}, 902, 'd2', 'deposit', 0, 'ETH', '1', {g3});
             INSERT INTO import_files (id, account_id, source, name, sha256, bytes, imported_ms) VALUES (801, {gone}, 'csv:generic', 'f.csv', 'h', 1, 0);
             INSERT INTO event_lines (event_id, file_id, lines) VALUES ({g0}, 801, '2');
             INSERT INTO rebate_links (rebate_account_id, rebate_external_id, purchase_account_id, purchase_external_id, created_at)
                 VALUES ({gone}, 'e3', {kept}, 'k2', 'now');
             INSERT INTO sync_cursors (account_id, endpoint, cursor, updated_at) VALUES ({gone}, 'trades', 'c', 'now');
             INSERT INTO reported_balances (account_id, asset, amount, reported_at) VALUES ({gone}, 'BTC', '1', 0);
             UPDATE input_changes SET low_ms = NULL;
             INSERT OR REPLACE INTO transfer_cache (id, filled, low_ms, outcome, links_changed) VALUES (1, 1, NULL, NULL, 0);
             INSERT OR REPLACE INTO value_changes (id, currency, low_ms, writes) VALUES (1, 'USD', NULL, 0);",
            k1 = k[1],
            g2 = g[2],
            g0 = g[0],
            k2 = k[2],
            g3 = g[3],
        );
        ledger.conn.execute_batch(&sql).unwrap();
        (base + 3_600_000, base + 2 * 3_600_000)
    }

    /// The removal by statements leaves every table, note and trigger exactly as SQLite's
    /// cascades and the triggers row by row leave them.
    #[test]
    fn a_removal_by_statements_leaves_the_ledger_as_the_removal_row_by_row_does() {
        let (dir, mut rows, kept) = test_ledger();
        let (earliest, earliest_movement) = two_accounts(&mut rows, kept);
        let copy = dir.path().join("copy.sqlite");
        rows.conn.execute("VACUUM INTO ?1", [copy.to_str().unwrap()]).unwrap();
        let mut statements = Ledger::open(&copy, OpenMode::Existing).unwrap();
        assert_eq!(dump(&rows), dump(&statements), "the copy is the same ledger");
        assert!(super::Plan::read(&statements.conn).unwrap().is_some(), "this schema is removed by statements");

        assert_eq!(rows.remove_account_in_chunks("gone", 2).unwrap(), 6);
        assert_eq!(statements.remove_account("gone").unwrap(), 6);
        let (by_rows, by_statements) = (dump(&rows), dump(&statements));
        for ((table, a), (_, b)) in by_rows.iter().zip(&by_statements) {
            assert_eq!(a, b, "{table}");
        }
        assert_eq!(by_rows, by_statements);

        // What both noted, and what is left.
        let conn = &statements.conn;
        let one = |sql: &str| -> Option<i64> { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
        assert_eq!(one("SELECT low_ms FROM input_changes"), Some(earliest));
        assert_eq!(one("SELECT low_ms FROM transfer_cache"), Some(earliest_movement), "the overridden trade counts");
        assert_eq!(one("SELECT links_changed FROM transfer_cache"), Some(1));
        assert_eq!(one("SELECT count FROM event_removals"), Some(6));
        assert_eq!(one("SELECT count(*) FROM event_details WHERE event_id IS NULL"), Some(1), "the kept detail stays");
        assert_eq!(one("SELECT count(*) FROM events"), Some(3));
        assert_eq!(one("SELECT count(*) FROM transfers"), Some(0));
        assert_eq!(crate::ledger::dangling_references(conn), 0);
        assert!(crate::ledger::foreign_keys_checked(conn), "on again after the removal");
        let temp: i64 = conn.query_row("SELECT count(*) FROM temp.sqlite_master", [], |r| r.get(0)).unwrap();
        assert_eq!(temp, 0, "no temporary table left");
    }

    /// One event of a random history: its account (the removed one or the kept one), kind,
    /// hour, whether its kind is overridden, and whether it is kept apart from matching.
    fn event() -> impl proptest::strategy::Strategy<Value = (bool, u8, i64, bool, bool)> {
        use proptest::prelude::*;
        (any::<bool>(), 0u8..4, 0i64..48, prop::bool::weighted(0.2), prop::bool::weighted(0.1))
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(32))]

        /// Over random histories of two accounts (kinds, times, links both ways, overrides,
        /// kept-apart events, values), the removal by statements leaves what the removal row
        /// by row leaves.
        #[test]
        fn any_history_is_removed_alike_both_ways(
            events in proptest::collection::vec(event(), 1..24),
            links in proptest::collection::vec((0usize..24, 0usize..24), 0..6),
        ) {
            let (dir, mut rows, kept) = test_ledger();
            let gone = rows.add_account(&NewAccount::files_only("gone", "wallet")).unwrap().id;
            let mut ids = Vec::new();
            for (i, (ours, kind, hour, overridden, apart)) in events.iter().enumerate() {
                let kind = [EventKind::Trade, EventKind::Deposit, EventKind::Withdrawal, EventKind::Income][usize::from(*kind)];
                let legs = match kind {
                    EventKind::Trade => vec![Leg::sent("USD", Decimal::TEN), Leg::received("BTC", Decimal::ONE)],
                    EventKind::Withdrawal => vec![Leg::sent("BTC", Decimal::ONE)],
                    _ => vec![Leg::received("BTC", Decimal::ONE)],
                };
                let at = chrono::DateTime::from_timestamp_millis(1_735_689_600_000 + hour * 3_600_000).unwrap();
                let account = if *ours { gone } else { kept };
                let id = write_test_events(&mut rows, account, &[NewEvent::new(format!("e{i}"), at, kind, legs)])[0];
                if *overridden {
                    rows.reclassify(id, EventKind::Deposit).unwrap();
                }
                if *apart {
                    rows.unlink_transfer(id).unwrap();
                }
                if i % 3 == 0 {
                    rows.store_leg_values("USD", &[test_value(id, 0, "10")]).unwrap();
                }
                ids.push(id);
            }
            for (i, (w, d)) in links.iter().enumerate() {
                let (Some(w), Some(d)) = (ids.get(*w), ids.get(*d)) else { continue };
                let method = if i % 2 == 0 { "manual" } else { "amount_time" };
                // A link whose event is already linked is refused by the schema: not this test's matter.
                let _ = rows.conn.execute(
                    "INSERT INTO transfers (withdrawal_event_id, deposit_event_id, method, created_at) VALUES (?1, ?2, ?3, 'now')",
                    params![w, d, method],
                );
            }
            rows.conn
                .execute_batch(
                    "UPDATE input_changes SET low_ms = NULL;
                     INSERT OR REPLACE INTO transfer_cache (id, filled, low_ms, outcome, links_changed) VALUES (1, 1, NULL, NULL, 0);",
                )
                .unwrap();
            let copy = dir.path().join("copy.sqlite");
            rows.conn.execute("VACUUM INTO ?1", [copy.to_str().unwrap()]).unwrap();
            let mut statements = Ledger::open(&copy, OpenMode::Existing).unwrap();
            let n = events.iter().filter(|e| e.0).count() as u64;
            proptest::prop_assert_eq!(rows.remove_account_in_chunks("gone", 5).unwrap(), n);
            proptest::prop_assert_eq!(statements.remove_account("gone").unwrap(), n);
            proptest::prop_assert_eq!(dump(&rows), dump(&statements));
        }
    }

    /// A removal that fails half-way (here a statement after the triggers were dropped and the
    /// first tables emptied) leaves the ledger as it was: every row, every trigger, and the
    /// foreign key checks on.
    #[test]
    fn a_removal_failing_half_way_leaves_every_row_and_trigger() {
        let (_dir, mut ledger, kept) = test_ledger();
        two_accounts(&mut ledger, kept);
        let before = dump(&ledger);
        // The events' id list cannot be written: the removal stops there.
        ledger.conn.execute_batch("CREATE TEMP VIEW removal_events AS SELECT 1 AS id").unwrap();
        assert!(ledger.remove_account("gone").is_err());
        ledger.conn.execute_batch("DROP VIEW temp.removal_events").unwrap();
        assert_eq!(dump(&ledger), before);
        assert!(crate::ledger::foreign_keys_checked(&ledger.conn));
        assert_eq!(ledger.remove_account("gone").unwrap(), 6, "and it is removed when asked again");
    }

    /// A delete trigger the removal does not know of (a later migration's) makes it remove the
    /// rows one at a time, so that the trigger notes what it notes.
    #[test]
    fn an_unknown_delete_trigger_sends_the_removal_through_the_cascades() {
        let (_dir, mut ledger, kept) = test_ledger();
        two_accounts(&mut ledger, kept);
        ledger
            .conn
            .execute_batch(
                "CREATE TABLE gone_legs (n INTEGER NOT NULL);
                 INSERT INTO gone_legs VALUES (0);
                 CREATE TRIGGER count_gone_legs AFTER DELETE ON legs BEGIN UPDATE gone_legs SET n = n + 1; END;",
            )
            .unwrap();
        assert!(super::Plan::read(&ledger.conn).unwrap().is_none());
        assert_eq!(ledger.remove_account("gone").unwrap(), 6);
        let n: i64 = ledger.conn.query_row("SELECT n FROM gone_legs", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 8, "every leg of the removed events counted");
    }

    /// A new ledger's delete triggers are the ones the removal notes for: a migration that adds
    /// one must add its note to [`super::Notes`] (or the removal goes row by row).
    #[test]
    fn a_new_ledgers_delete_triggers_are_the_ones_noted() {
        let (_dir, ledger, _) = test_ledger();
        assert!(super::Plan::read(&ledger.conn).unwrap().is_some());
    }
}

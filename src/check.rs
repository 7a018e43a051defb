//! `check`: the audit an accountant runs before trusting a report.
//!
//! Findings, one per kind and account, each with a count, what it means, what to do, and the
//! items behind it (shown on request):
//! - `balance_mismatch`: the ledger's balance differs from what the exchange reported at the
//!   last sync (history is missing: the finding says where the synced span and the asset's
//!   history start, and any gap in the span);
//! - `negative_balance`: a balance went below zero (the first event that took it there);
//! - `ambiguous_transfer`: a withdrawal or deposit with several candidates for the other half;
//! - `unmatched_withdrawal`: crypto that left to no wallet in the ledger;
//! - `unmatched_deposit`: crypto that arrived from no wallet in the ledger, with no basis given;
//! - `missing_basis`: other units with no known basis (adjustments, moves of units never seen
//!   arriving);
//! - `missing_price`: legs without a value in the reporting currency;
//! - `unknown_kind`: events of a type cointally does not know (kind `unknown`): in balances,
//!   not in gains, until reclassified — by type, with a count and the first event;
//! - `unreadable_record`: stored raw records no event could be made from (what is wrong);
//! - `closed_year_changed`: a closed (filed) year would compute differently now: the totals
//!   filed and now, and the events behind the difference ([`crate::closed`]).
//! - `allocation_changed`: the history before 2025 no longer gives the stored 2025 allocation
//!   (units held per wallet, unused basis per asset; reports keep using the stored one).

use std::collections::{BTreeMap, BTreeSet};

use cointally_exchanges::EventKind;
use cointally_exchanges::amount::format_amount;
use cointally_exchanges::time::{format_rfc3339, from_millis};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::ledger::{Ledger, LedgerError, Movement};
use crate::tax;
use crate::transfers;

/// One thing behind a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    /// The event, when one is to blame.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<i64>,
    /// When (RFC 3339, UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// The asset.
    pub asset: String,
    /// The amount concerned (signed where it matters).
    pub amount: String,
    /// More, in words.
    pub detail: String,
}

/// A kind of problem in one account, with its items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The kind (`balance_mismatch`, `negative_balance`, …).
    pub kind: &'static str,
    /// The account's label.
    pub account: String,
    /// How many items.
    pub count: usize,
    /// What it means.
    pub message: String,
    /// What to do.
    pub hint: String,
    /// The items.
    pub items: Vec<Item>,
}

fn time(ms: i64) -> Option<String> {
    Some(format_rfc3339(from_millis(ms)))
}

fn movement_item(m: &Movement, detail: String) -> Item {
    Item {
        event: Some(m.event_id),
        time: time(m.time_ms),
        asset: m.asset.clone(),
        amount: format_amount(m.amount),
        detail,
    }
}

/// Runs every check (matching transfers again first) and returns the findings, grouped and
/// in a stable order; empty means clean.
pub fn audit(ledger: &mut Ledger) -> Result<Vec<Finding>, LedgerError> {
    let matching = transfers::refresh(ledger)?;
    let computed = tax::compute_findings(ledger, &matching)?.computation;
    let accounts = ledger.accounts()?;
    let labels: BTreeMap<i64, String> = accounts.iter().map(|a| (a.id, a.label.clone())).collect();
    let label = |id: i64| labels.get(&id).cloned().unwrap_or_default();
    let movements = &matching.movements;
    // (kind order, account) → items
    let mut groups: BTreeMap<(usize, String), Vec<Item>> = BTreeMap::new();

    // Balances against the exchange's word.
    for account in &accounts {
        let reported = ledger.reported_balances(account.id)?;
        if reported.is_empty() {
            continue;
        }
        let held: BTreeMap<String, Decimal> =
            ledger.balances(Some(&account.label), None)?.into_iter().map(|b| (b.asset, b.amount)).collect();
        let said: BTreeMap<String, (Decimal, i64)> =
            reported.iter().map(|r| (r.asset.clone(), (r.amount, r.reported_ms))).collect();
        let coverage = ledger.coverage(account.id)?;
        let span_start = coverage.iter().map(|c| c.span.from_ms).min();
        let mut gaps: Vec<(i64, i64)> = Vec::new();
        for pair in coverage.windows(2) {
            if pair[0].stream == pair[1].stream && pair[0].span.to_ms < pair[1].span.from_ms {
                gaps.push((pair[0].span.to_ms, pair[1].span.from_ms));
            }
        }
        let assets: std::collections::BTreeSet<&String> = held.keys().chain(said.keys()).collect();
        for asset in assets {
            let ours = held.get(asset).copied().unwrap_or_default();
            let (theirs, at) = said.get(asset).copied().unwrap_or((Decimal::ZERO, 0));
            if ours == theirs {
                continue;
            }
            let first = ledger.events(&crate::ledger::EventFilter {
                account: Some(account.label.clone()),
                asset: Some(asset.clone()),
                limit: Some(1),
                ..Default::default()
            })?;
            let mut where_from = match first.first() {
                Some(e) => format!("its history in the ledger starts {}", format_rfc3339(e.time)),
                None => "the ledger has no history of it".to_owned(),
            };
            if let Some(start) = span_start {
                where_from += &format!("; the synced span starts {}", format_rfc3339(from_millis(start)));
            }
            if let Some((from, to)) = gaps.first() {
                where_from +=
                    &format!("; gap {} – {}", format_rfc3339(from_millis(*from)), format_rfc3339(from_millis(*to)));
            }
            groups.entry((0, account.label.clone())).or_default().push(Item {
                event: None,
                time: (at > 0).then(|| format_rfc3339(from_millis(at))),
                asset: asset.clone(),
                // Checked: the ledger's sum is read back without `parse_amount`'s bound.
                amount: ours.checked_sub(theirs).map_or_else(|| "out of range".to_owned(), format_amount),
                detail: format!(
                    "ledger {}, exchange reported {}; {where_from}",
                    format_amount(ours),
                    format_amount(theirs)
                ),
            });
        }
    }

    for ((account, asset), n) in &computed.negatives {
        groups.entry((1, label(*account))).or_default().push(Item {
            event: Some(n.event_id),
            time: time(n.time_ms),
            asset: asset.clone(),
            amount: format_amount(n.lowest),
            detail: format!("first below zero at event {}, lowest {}", n.event_id, format_amount(n.lowest)),
        });
    }
    for a in &matching.ambiguous {
        let Some(m) = movements.get(&a.event_id) else { continue };
        let candidates: Vec<String> = a.candidates.iter().map(|c| c.to_string()).collect();
        let side = if m.outgoing { "withdrawal" } else { "deposit" };
        groups.entry((2, label(m.account_id))).or_default().push(movement_item(
            m,
            format!("{side} with {} candidates: events {}", candidates.len(), candidates.join(", ")),
        ));
    }
    // What the exchange said of an unmatched movement (a move to an outside venue such as
    // Coinbase Exchange) goes into its detail.
    let unmatched: BTreeSet<i64> =
        matching.unmatched_withdrawals.iter().copied().chain(computed.basis_gaps.iter().map(|g| g.event_id)).collect();
    let notes = ledger.event_notes(&unmatched)?;
    let with_note = |detail: String, id: i64| match notes.get(&id) {
        Some(note) => format!("{detail}; {note}"),
        None => detail,
    };
    for id in &matching.unmatched_withdrawals {
        let Some(m) = movements.get(id) else { continue };
        groups
            .entry((3, label(m.account_id)))
            .or_default()
            .push(movement_item(m, with_note("no deposit matches".into(), *id)));
    }
    for gap in computed.basis_gaps.iter().filter(|gap| gap.kind != EventKind::Unknown) {
        let (order, detail) = match (gap.kind, movements.get(&gap.event_id)) {
            (EventKind::Deposit, Some(m)) if !m.outgoing => {
                (4, with_note("no withdrawal matches and no basis was given".into(), gap.event_id))
            }
            (kind, _) => (5, format!("{kind} brought units with no known basis")),
        };
        let at = movements.get(&gap.event_id).map(|m| m.time_ms);
        groups.entry((order, label(gap.account_id))).or_default().push(Item {
            event: Some(gap.event_id),
            time: at.and_then(time),
            asset: gap.asset.clone(),
            amount: format_amount(gap.amount),
            detail,
        });
    }
    let currency = ledger.reporting_currency()?;
    for leg in ledger.missing_legs(&currency)? {
        groups.entry((6, leg.account.clone())).or_default().push(Item {
            event: Some(leg.event),
            time: time(leg.time_ms),
            asset: leg.asset.clone(),
            amount: format_amount(leg.amount),
            detail: format!("{} leg of a {} has no value in {currency}", leg.role, leg.kind),
        });
    }

    let unknown =
        ledger.events(&crate::ledger::EventFilter { kind: Some(EventKind::Unknown), ..Default::default() })?;
    for event in &unknown {
        let leg = event.legs.first();
        groups.entry((7, event.account.clone())).or_default().push(Item {
            event: Some(event.id),
            time: Some(format_rfc3339(event.time)),
            asset: leg.map(|l| l.asset.clone()).unwrap_or_default(),
            amount: leg.map(|l| format_amount(l.amount)).unwrap_or_default(),
            detail: event.note.clone().unwrap_or_else(|| "no type given".to_owned()),
        });
    }
    for record in ledger.unreadable_records(None)? {
        groups.entry((8, record.account.clone())).or_default().push(Item {
            event: None,
            time: time(record.seen_ms),
            asset: String::new(),
            amount: String::new(),
            detail: format!(
                "{} record {} (raw record {}): {}",
                record.source, record.external_id, record.raw_id, record.reason
            ),
        });
    }

    if let Some(stored) = ledger.stored_allocation()? {
        let now = tax::allocation::at_switch(ledger, &matching)?;
        for d in tax::allocation::differences(&stored, &now) {
            let account = d.account_id.map(label).unwrap_or_else(|| "(all wallets)".to_owned());
            groups.entry((9, account)).or_default().push(Item {
                event: None,
                time: time(now.as_of_ms),
                asset: d.asset,
                amount: format_amount(d.amount),
                detail: d.detail,
            });
        }
    }

    let mut findings: Vec<Finding> = groups
        .into_iter()
        .map(|((order, account), items)| {
            let n = items.len();
            let (kind, mut message, hint) = describe(order, n, &account);
            if order == 7 {
                message = format!("{message}: {}", unknown_types(&items));
            }
            Finding { kind, account, count: n, message, hint, items }
        })
        .collect();
    findings.extend(crate::closed::changed_findings(ledger, &matching)?);
    Ok(findings)
}

/// The types behind `unknown_kind` items: each with its count and first event, in order of
/// first appearance.
fn unknown_types(items: &[Item]) -> String {
    let mut types: Vec<(&str, usize, Option<i64>)> = Vec::new();
    for item in items {
        match types.iter_mut().find(|(detail, _, _)| *detail == item.detail) {
            Some((_, count, _)) => *count += 1,
            None => types.push((&item.detail, 1, item.event)),
        }
    }
    types
        .iter()
        .map(|(detail, count, first)| {
            format!("{detail} ({count}, first event {})", first.map(|e| e.to_string()).unwrap_or_default())
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Kind, message and hint of a group.
fn describe(order: usize, n: usize, account: &str) -> (&'static str, String, String) {
    let s = if n == 1 { "" } else { "s" };
    match order {
        0 => (
            "balance_mismatch",
            format!("{n} asset{s} differ from the balances the exchange reported at the last sync: history is missing"),
            format!("sync {account} again, or import its full history files (`cointally coverage` shows the span synced)"),
        ),
        1 => (
            "negative_balance",
            format!("{n} asset{s} went below zero: more left than the ledger saw arrive"),
            "import the history before the first negative event (deposits, buys, or another account's transfers)".into(),
        ),
        2 => (
            "ambiguous_transfer",
            format!("{n} transfer{s} with several possible other halves (not guessed)"),
            "choose with `cointally transfers link WITHDRAWAL DEPOSIT`".into(),
        ),
        3 => (
            "unmatched_withdrawal",
            format!("{n} withdrawal{s} went to no wallet in the ledger (the units left the ledger untaxed)"),
            "import or sync the receiving wallet, link by hand with `cointally transfers link`, or re-import it as a spend or gift if it was one".into(),
        ),
        4 => (
            "unmatched_deposit",
            format!("{n} deposit{s} came from no wallet in the ledger and have no basis (counted as zero)"),
            "import the sending wallet's history (with `cointally transfers link` if it does not match by itself); for coins bought outside the ledger, a generic CSV for that wallet: the purchase as a `deposit` dated when bought with `fiat_value` = its cost, and the `withdrawal` that became this deposit".into(),
        ),
        5 => (
            "missing_basis",
            format!("{n} acquisition{s} with no known basis (counted as zero)"),
            "import the history that explains where the units came from".into(),
        ),
        6 => (
            "missing_price",
            format!("{n} leg{s} without a value"),
            "run `cointally prices`, or `cointally prices import FILE` with your own prices".into(),
        ),
        7 => (
            "unknown_kind",
            format!("{n} event{s} of a type cointally does not know, in balances but not in gains"),
            "say what each is with `cointally reclassify EVENT KIND` (staking, income, trade, internal_transfer, …)".into(),
        ),
        9 => (
            "allocation_changed",
            format!("{n} difference{s} between the stored 2025 allocation and what the history before 2025 gives now (reports keep the stored one)"),
            "if the history was incomplete when you allocated, check the allocation (`cointally basis allocation`) and store it again with `cointally basis allocate --as-of 2025-01-01 --replace`; otherwise undo the change to the history before 2025".into(),
        ),
        _ => (
            "unreadable_record",
            format!("{n} stored record{s} that this version could not read (kept in the raw archive, no event made)"),
            "upgrade cointally and run `cointally renormalize`; meanwhile the balances they change are missing".into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use cointally_exchanges::time::from_millis;
    use cointally_exchanges::{EventKind, Leg, NewEvent};

    use super::*;
    use crate::ledger::{NewAccount, OpenMode};

    /// 2024-01-01T00:00:00Z.
    const T0: i64 = 1_704_067_200_000;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn a_balance_the_exchange_disagrees_with_and_an_adjustment_without_basis_are_found() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open(&dir.path().join("l.sqlite"), OpenMode::CreateNew).unwrap();
        let account = ledger.add_account(&NewAccount::files_only("ex", "other")).unwrap().id;
        let mut writer = ledger.writer().unwrap();
        let buy = NewEvent::new(
            "b",
            from_millis(T0),
            EventKind::Trade,
            vec![Leg::sent("USD", d("100")), Leg::received("BTC", d("1"))],
        );
        let credit =
            NewEvent::new("c", from_millis(T0 + 1000), EventKind::Adjustment, vec![Leg::received("ETH", d("2"))]);
        writer.event(account, "csv:generic", &buy, &[]).unwrap();
        writer.event(account, "csv:generic", &credit, &[]).unwrap();
        writer.commit().unwrap();
        ledger
            .store_reported_balances(account, &[("BTC".into(), d("1.5")), ("ETH".into(), d("2"))], T0 + 5000)
            .unwrap();

        let findings = audit(&mut ledger).unwrap();
        let kinds: Vec<(&str, usize)> = findings.iter().map(|f| (f.kind, f.count)).collect();
        // BTC differs, and so does USD: the ledger paid 100 the exchange never saw arrive. The
        // BTC and ETH legs lack a value too (no prices in this ledger; USD is worth its amount).
        assert_eq!(kinds, [("balance_mismatch", 2), ("missing_basis", 1), ("missing_price", 2)]);
        assert_eq!(findings[0].items[1].asset, "USD");
        let mismatch = &findings[0].items[0];
        assert_eq!((mismatch.asset.as_str(), mismatch.amount.as_str()), ("BTC", "-0.5"));
        assert!(mismatch.detail.contains("exchange reported 1.5"), "{}", mismatch.detail);
        assert!(mismatch.detail.contains("starts 2024-01-01T00:00:00Z"), "{}", mismatch.detail);
        assert_eq!(findings[1].items[0].asset, "ETH");
        assert!(findings.iter().all(|f| !f.hint.is_empty() && f.account == "ex"));
    }
}

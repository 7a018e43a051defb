//! Own transfers: a withdrawal from one account and the deposit it became on another are one
//! move of the same units, not a disposal and an acquisition.
//!
//! Matching, in order (each event in at most one transfer):
//! 1. the user's word: links made with `transfers link` stand, and an event unlinked with
//!    `transfers unlink` is never matched automatically again;
//! 2. the same transaction hash (compared without case and without a `0x` prefix) on one
//!    withdrawal and one deposit of the same asset in two accounts, the deposit not larger than
//!    what left (amount plus same-asset fee);
//! 3. otherwise asset, amount and time: the deposit arrives in another account from
//!    [`WINDOW_BEFORE_MS`] before to [`WINDOW_AFTER_MS`] after the withdrawal (or in the same
//!    account, not before it: a round trip through a wallet the ledger does not hold, such as
//!    Coinbase to Coinbase Exchange and back), and is at most
//!    the amount withdrawn and at least that amount less [`MAX_FEE_SHARE`] of it (the network
//!    fee may be taken on the way). Two events with different hashes never match. A pair is
//!    matched only when each is the other's only candidate (repeated as matches remove
//!    candidates); anything with more than one candidate is listed as ambiguous, not guessed.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;

use crate::ledger::{Ledger, LedgerError, LinkMethod, Movement, TransferLink};

/// How long before a withdrawal its deposit may be stamped (exchanges' clocks and the times
/// they record, request or completion, differ).
pub const WINDOW_BEFORE_MS: i64 = 60 * 60 * 1000;

/// How long after a withdrawal its deposit may arrive (slow chains, exchanges' confirmation
/// counts, manual review of withdrawals).
pub const WINDOW_AFTER_MS: i64 = 48 * 60 * 60 * 1000;

/// The largest share of a withdrawal that may be lost as network fee on the way: 2 %.
pub const MAX_FEE_SHARE: Decimal = Decimal::from_parts(2, 0, 0, false, 2);

/// An event with more than one candidate for the other half of its transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ambiguous {
    /// The withdrawal or deposit.
    pub event_id: i64,
    /// The events it could be paired with, by id.
    pub candidates: Vec<i64>,
}

/// The outcome of matching: every transfer, and what is left ([`refresh`] also keeps the
/// movements it read, for the tax engine).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Matching {
    /// Every transfer (the user's and the automatic ones), by withdrawal id.
    pub links: Vec<TransferLink>,
    /// Events with several candidates.
    pub ambiguous: Vec<Ambiguous>,
    /// Withdrawals with no candidate at all (sent to someone else, or to a wallet not in the
    /// ledger).
    pub unmatched_withdrawals: Vec<i64>,
    /// Deposits with no candidate at all (from outside, or from a wallet not in the ledger).
    pub unmatched_deposits: Vec<i64>,
    /// Every deposit and withdrawal considered, by event id.
    pub movements: BTreeMap<i64, Movement>,
}

/// Matches the ledger's deposits and withdrawals again (the user's links and unlinks kept),
/// stores the automatic transfers, and returns the whole picture.
///
/// The candidates are read through the copy the last matching kept: only the events from the
/// earliest time written since (deposits, withdrawals, their legs, reclassifications) are read
/// again, and the matching itself runs over all of them in memory, so the result is the one
/// [`refresh_whole`] gives (a property test compares both after random edits).
pub fn refresh(ledger: &mut Ledger) -> Result<Matching, LedgerError> {
    refresh_with(ledger, false)
}

/// [`refresh`] reading every deposit and withdrawal of history from the events (and keeping a
/// fresh copy of them): `report --from-scratch`, and the reference the tests compare with.
pub fn refresh_whole(ledger: &mut Ledger) -> Result<Matching, LedgerError> {
    refresh_with(ledger, true)
}

fn refresh_with(ledger: &mut Ledger, whole: bool) -> Result<Matching, LedgerError> {
    let mut tx = ledger.transfer_matching(whole)?;
    let movements = tx.movements()?;
    // Nothing the matching reads changed since the last one: it is the last one.
    if let Some(mut matching) = tx.last_outcome().and_then(outcome_from_json) {
        matching.links = tx.links()?;
        matching.movements = movements.into_iter().map(|m| (m.event_id, m)).collect();
        return Ok(matching);
    }
    let manual = tx.manual_links()?;
    let unlinked = tx.unlinks()?;
    let mut matching = match_movements(&movements, &manual, &unlinked);
    tx.store(&matching.links, &outcome_json(&matching))?;
    matching.movements = movements.into_iter().map(|m| (m.event_id, m)).collect();
    Ok(matching)
}

/// What a matching leaves over besides its links, as the ledger keeps it for the next one.
fn outcome_json(matching: &Matching) -> String {
    serde_json::json!({
        "ambiguous": matching.ambiguous.iter().map(|a| (a.event_id, &a.candidates)).collect::<Vec<_>>(),
        "unmatched_withdrawals": matching.unmatched_withdrawals,
        "unmatched_deposits": matching.unmatched_deposits,
    })
    .to_string()
}

/// Reads back [`outcome_json`]; `None` when it is not that (then the matching is done again).
fn outcome_from_json(text: &str) -> Option<Matching> {
    #[derive(serde::Deserialize)]
    struct Outcome {
        ambiguous: Vec<(i64, Vec<i64>)>,
        unmatched_withdrawals: Vec<i64>,
        unmatched_deposits: Vec<i64>,
    }
    let outcome: Outcome = serde_json::from_str(text).ok()?;
    Some(Matching {
        links: Vec::new(),
        ambiguous: outcome
            .ambiguous
            .into_iter()
            .map(|(event_id, candidates)| Ambiguous { event_id, candidates })
            .collect(),
        unmatched_withdrawals: outcome.unmatched_withdrawals,
        unmatched_deposits: outcome.unmatched_deposits,
        movements: BTreeMap::new(),
    })
}

/// A transaction hash as compared: trimmed, lower case, without `0x`.
pub(crate) fn hash_key(hash: &str) -> String {
    let hash = hash.trim().to_ascii_lowercase();
    hash.strip_prefix("0x").map(str::to_owned).unwrap_or(hash)
}

/// Whether deposit `d` can be what withdrawal `w` became, by asset, amount and time.
fn compatible(w: &Movement, d: &Movement) -> bool {
    // The same account: a round trip through a wallet not in the ledger (Coinbase → Coinbase
    // Exchange → Coinbase), so the deposit cannot come first.
    if w.asset != d.asset || (w.account_id == d.account_id && d.time_ms < w.time_ms) {
        return false;
    }
    if d.time_ms < w.time_ms.saturating_sub(WINDOW_BEFORE_MS) || d.time_ms > w.time_ms.saturating_add(WINDOW_AFTER_MS) {
        return false;
    }
    if let (Some(a), Some(b)) = (&w.tx_hash, &d.tx_hash) {
        if hash_key(a) != hash_key(b) {
            return false;
        }
    }
    // `w.amount × MAX_FEE_SHARE` is below `w.amount` in size: neither it nor the difference overflows.
    d.amount <= w.amount && d.amount >= w.amount - w.amount * MAX_FEE_SHARE
}

/// The pure matching of [`refresh`]: `manual` links stand, `unlinked` events are left alone.
pub fn match_movements(movements: &[Movement], manual: &[TransferLink], unlinked: &BTreeSet<i64>) -> Matching {
    let mut taken: BTreeSet<i64> = unlinked.clone();
    let mut links: Vec<TransferLink> = Vec::new();
    for link in manual {
        taken.insert(link.withdrawal);
        taken.insert(link.deposit);
        links.push(*link);
    }
    let free: Vec<&Movement> = movements.iter().filter(|m| !taken.contains(&m.event_id)).collect();

    // 2. The same hash.
    let mut by_hash: BTreeMap<String, (Vec<&Movement>, Vec<&Movement>)> = BTreeMap::new();
    for m in &free {
        if let Some(hash) = m.tx_hash.as_deref().map(hash_key).filter(|h| !h.is_empty()) {
            let entry = by_hash.entry(hash).or_default();
            if m.outgoing { entry.0.push(m) } else { entry.1.push(m) }
        }
    }
    for (ws, ds) in by_hash.values() {
        let ([w], [d]) = (ws.as_slice(), ds.as_slice()) else { continue };
        let within = w.amount.checked_add(w.fee).is_none_or(|most| d.amount <= most);
        if w.asset == d.asset && w.account_id != d.account_id && within {
            links.push(TransferLink { withdrawal: w.event_id, deposit: d.event_id, method: LinkMethod::TxHash });
            taken.insert(w.event_id);
            taken.insert(d.event_id);
        }
    }

    // 3. Amount and time, one candidate each way.
    let mut deposits: BTreeMap<&str, Vec<&Movement>> = BTreeMap::new();
    for m in free.iter().filter(|m| !m.outgoing && !taken.contains(&m.event_id)) {
        deposits.entry(m.asset.as_str()).or_default().push(m);
    }
    for list in deposits.values_mut() {
        list.sort_by_key(|m| (m.time_ms, m.event_id));
    }
    let mut candidates: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    let mut reverse: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for w in free.iter().filter(|m| m.outgoing && !taken.contains(&m.event_id)) {
        let Some(list) = deposits.get(w.asset.as_str()) else { continue };
        let start = list.partition_point(|d| d.time_ms < w.time_ms.saturating_sub(WINDOW_BEFORE_MS));
        for d in list[start..].iter().take_while(|d| d.time_ms <= w.time_ms.saturating_add(WINDOW_AFTER_MS)) {
            if compatible(w, d) {
                candidates.entry(w.event_id).or_default().push(d.event_id);
                reverse.entry(d.event_id).or_default().push(w.event_id);
            }
        }
    }
    loop {
        let mut found = Vec::new();
        for (w, ds) in &candidates {
            if taken.contains(w) {
                continue;
            }
            let open: Vec<i64> = ds.iter().copied().filter(|d| !taken.contains(d)).collect();
            let [d] = open.as_slice() else { continue };
            let back = reverse[d].iter().filter(|w| !taken.contains(w)).count();
            if back == 1 {
                found.push((*w, *d));
            }
        }
        if found.is_empty() {
            break;
        }
        for (w, d) in found {
            taken.insert(w);
            taken.insert(d);
            links.push(TransferLink { withdrawal: w, deposit: d, method: LinkMethod::AmountTime });
        }
    }

    let mut ambiguous = Vec::new();
    let mut involved = BTreeSet::new();
    for (event, others) in candidates.iter().chain(reverse.iter()) {
        if taken.contains(event) {
            continue;
        }
        // An event with one open candidate that is shared is listed under the shared one.
        let open: Vec<i64> = others.iter().copied().filter(|o| !taken.contains(o)).collect();
        if open.len() > 1 {
            involved.insert(*event);
            involved.extend(open.iter().copied());
            ambiguous.push(Ambiguous { event_id: *event, candidates: open });
        }
    }
    ambiguous.sort_by_key(|a| a.event_id);
    let unmatched = |outgoing: bool| -> Vec<i64> {
        let mut ids: Vec<i64> = free
            .iter()
            .filter(|m| m.outgoing == outgoing && !taken.contains(&m.event_id) && !involved.contains(&m.event_id))
            .map(|m| m.event_id)
            .collect();
        ids.sort_unstable();
        ids
    };
    let (unmatched_withdrawals, unmatched_deposits) = (unmatched(true), unmatched(false));
    links.sort();
    Matching { links, ambiguous, unmatched_withdrawals, unmatched_deposits, movements: BTreeMap::new() }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;

    fn movement(id: i64, account: i64, outgoing: bool, time_ms: i64, amount: &str, hash: Option<&str>) -> Movement {
        Movement {
            event_id: id,
            account_id: account,
            outgoing,
            time_ms,
            asset: "BTC".into(),
            amount: amount.parse().unwrap(),
            fee: Decimal::ZERO,
            tx_hash: hash.map(str::to_owned),
        }
    }

    fn pairs(m: &Matching) -> Vec<(i64, i64, LinkMethod)> {
        m.links.iter().map(|l| (l.withdrawal, l.deposit, l.method)).collect()
    }

    #[test]
    fn the_same_hash_pairs_even_far_apart_and_with_a_0x_prefix() {
        let ms = [
            movement(1, 1, true, 0, "1.0", Some("0xABCdef")),
            movement(2, 2, false, 100 * HOUR, "0.999", Some("abcdef")),
        ];
        let m = match_movements(&ms, &[], &BTreeSet::new());
        assert_eq!(pairs(&m), [(1, 2, LinkMethod::TxHash)]);
        assert!(m.unmatched_withdrawals.is_empty() && m.unmatched_deposits.is_empty());
    }

    #[test]
    fn amount_and_time_pair_a_deposit_smaller_by_the_network_fee() {
        let ms = [movement(1, 1, true, 0, "1.0", None), movement(2, 2, false, 2 * HOUR, "0.9995", None)];
        assert_eq!(pairs(&match_movements(&ms, &[], &BTreeSet::new())), [(1, 2, LinkMethod::AmountTime)]);
    }

    #[test]
    fn too_late_too_large_too_small_earlier_in_the_same_account_or_other_hash_do_not_pair() {
        for d in [
            movement(2, 2, false, WINDOW_AFTER_MS + 1, "1.0", None),
            movement(2, 2, false, HOUR, "1.0001", None),
            movement(2, 2, false, HOUR, "0.97", None),
            movement(2, 1, false, -HOUR, "1.0", None),
            movement(2, 2, false, -WINDOW_BEFORE_MS - 1, "1.0", None),
        ] {
            let ms = [movement(1, 1, true, 0, "1.0", None), d.clone()];
            let m = match_movements(&ms, &[], &BTreeSet::new());
            assert!(m.links.is_empty(), "{d:?}");
            assert_eq!((m.unmatched_withdrawals, m.unmatched_deposits), (vec![1], vec![2]));
        }
        let ms = [movement(1, 1, true, 0, "1.0", Some("aa")), movement(2, 2, false, HOUR, "1.0", Some("bb"))];
        assert!(match_movements(&ms, &[], &BTreeSet::new()).links.is_empty());
    }

    #[test]
    fn a_round_trip_through_an_outside_wallet_pairs_within_one_account() {
        let ms = [movement(1, 1, true, 0, "2.0", None), movement(2, 1, false, 0, "2.0", None)];
        assert_eq!(pairs(&match_movements(&ms, &[], &BTreeSet::new())), [(1, 2, LinkMethod::AmountTime)]);
    }

    #[test]
    fn two_candidates_are_listed_not_guessed() {
        let ms = [
            movement(1, 1, true, 0, "1.0", None),
            movement(2, 2, false, HOUR, "1.0", None),
            movement(3, 3, false, 2 * HOUR, "1.0", None),
        ];
        let m = match_movements(&ms, &[], &BTreeSet::new());
        assert!(m.links.is_empty());
        assert_eq!(m.ambiguous, [Ambiguous { event_id: 1, candidates: vec![2, 3] }]);
        assert!(m.unmatched_withdrawals.is_empty() && m.unmatched_deposits.is_empty());
    }

    #[test]
    fn a_hash_match_removes_a_candidate_so_the_rest_pair() {
        let ms = [
            movement(1, 1, true, 0, "1.0", Some("h1")),
            movement(2, 2, false, HOUR, "1.0", Some("h1")),
            movement(3, 1, true, 0, "1.0", None),
            movement(4, 3, false, HOUR, "1.0", None),
        ];
        let m = match_movements(&ms, &[], &BTreeSet::new());
        assert_eq!(pairs(&m), [(1, 2, LinkMethod::TxHash), (3, 4, LinkMethod::AmountTime)]);
    }

    #[test]
    fn the_users_links_and_unlinks_win() {
        let ms = [
            movement(1, 1, true, 0, "1.0", None),
            movement(2, 2, false, HOUR, "1.0", None),
            movement(3, 3, false, 5 * HOUR, "0.5", None),
        ];
        let manual = [TransferLink { withdrawal: 1, deposit: 3, method: LinkMethod::Manual }];
        let m = match_movements(&ms, &manual, &BTreeSet::new());
        assert_eq!(pairs(&m), [(1, 3, LinkMethod::Manual)]);
        assert_eq!(m.unmatched_deposits, [2]);
        let m = match_movements(&ms, &[], &BTreeSet::from([2]));
        assert!(m.links.is_empty());
        assert_eq!(m.unmatched_deposits, [3]);
    }
}

#[cfg(test)]
mod proptests;

//! The 2025 allocation of unused basis (Rev. Proc. 2024-28), made once and kept.
//!
//! Until 31 December 2024 cointally's US lots sit in one queue per asset (universal); from
//! 1 January 2025 in one queue per wallet (Treas. Reg. §1.1012-1(j)). Rev. Proc. 2024-28
//! (2024-31 I.R.B. 326, <https://www.irs.gov/irb/2024-31_IRB>) is the safe harbor for that
//! switch: the basis of the units still held ("units of unused basis", §3.09) is allocated to
//! the "remaining digital assets" in each wallet or account as of 1 January 2025, either by a
//! *specific unit allocation* (§5.02(2)(a)) or by a *global allocation*, a rule fixed before
//! 2025 and applied mechanically (§5.02(2)(b)); a wallet gets no more units of basis than it
//! holds units (§5.01), basis of one asset goes only to units of that asset (§4), and the
//! allocation is irrevocable (§4.02(6)). The taxpayer keeps records of the units in each
//! wallet, the units of unused basis with their original basis and acquisition dates
//! (§4.02(4)–(5)): [`crate::export::allocation`] writes them. (Section numbers as quoted by
//! secondary summaries: the IRB text itself could not be read from here; see the README.)
//!
//! [`at_switch`] computes what the history before the switch gives (units held per wallet,
//! counting units in flight for the receiving wallet; unused basis per asset; the global
//! rule's lots); `basis allocate` stores it or the user's own ([`specific`]); [`differences`]
//! says what a stored one no longer agrees with (`check`: `allocation_changed`).

pub mod specific;

use std::collections::{BTreeMap, BTreeSet};

use cointally_exchanges::amount::format_amount;
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use super::engine::US_PER_WALLET_FROM_MS;
use super::inputs::{EventsDigest, Inputs};
use super::zone::Zone;
use super::{Options, Tracking};
use crate::ledger::{AllocatedLot, AllocationRule, Ledger, LedgerError, StoredAllocation};
use crate::transfers::Matching;

/// The instant of the switch in a UTC ledger, 2025-01-01T00:00:00Z: the only `--as-of` the US
/// rule has. In a ledger with another time zone the switch is local midnight starting
/// 1 January 2025 ([`crate::tax::zone::Zone::per_wallet_from_ms`], [`AtSwitch::as_of_ms`]).
pub const SWITCH_MS: i64 = US_PER_WALLET_FROM_MS;

/// What the history before the switch gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AtSwitch {
    /// The global rule's lots per wallet (wallet, asset, pool order).
    pub lots: Vec<AllocatedLot>,
    /// Lots no wallet holds units for (their basis has no home; not stored).
    pub unassigned: Vec<AllocatedLot>,
    /// Units held per (wallet, asset), in-flight units counted for the receiving wallet.
    pub held: BTreeMap<(i64, String), Decimal>,
    /// The unused basis per asset: the basis of every lot still held before the switch.
    pub unused_basis: BTreeMap<String, Decimal>,
    /// SHA-256 of the history read: currency, transfers and elections before the switch, and
    /// the events digest.
    pub history_hash: String,
    /// The instant of the switch: local midnight starting 2025-01-01 in the ledger's zone.
    pub as_of_ms: i64,
    /// The ledger's time zone (the calendar of the specific file's dates).
    pub zone: Zone,
}

impl AtSwitch {
    /// The global rule's allocation, ready to store.
    pub fn global(&self) -> StoredAllocation {
        self.stored(AllocationRule::Global, None, self.lots.clone())
    }

    /// An allocation of `rule` with `lots` made from this history.
    pub fn stored(&self, rule: AllocationRule, source: Option<String>, lots: Vec<AllocatedLot>) -> StoredAllocation {
        StoredAllocation {
            rule,
            as_of_ms: self.as_of_ms,
            source,
            history_hash: self.history_hash.clone(),
            created_at: String::new(),
            lots,
        }
    }
}

/// Runs the US engine (elections applied, FIFO where none is in force, transfer fees disposed
/// of) over the events before the switch and switches to per-wallet lots by the global rule.
pub fn at_switch(ledger: &Ledger, matching: &Matching) -> Result<AtSwitch, LedgerError> {
    let options = Options { tracking: Tracking::Us, ..Options::us(Some(2024)) };
    let inputs = Inputs::read(ledger, &options, matching)?;
    // Never from the stored allocation: this is what the history gives by itself.
    let mut engine = inputs.engine(options).with_allocation(None);
    let switch_ms = inputs.zone.per_wallet_from_ms();
    let mut digest = EventsDigest::default();
    let mut out_of_range = None;
    ledger.for_each_tax_event_between(&inputs.currency, i64::MIN, switch_ms, |event| {
        if out_of_range.is_none() {
            digest.add(event);
            out_of_range = engine.try_process(event).err();
        }
    })?;
    if let Some(error) = out_of_range {
        return Err(LedgerError::OutOfRange(error.to_string()));
    }
    let held = engine.held_now();
    let unused_basis = engine.unused_basis();
    let (lots, unassigned) = engine.switch_now();
    let mut h = Sha256::new();
    h.update(format!("allocation history v1 {}\n", inputs.currency));
    for (p, first_ms) in inputs.plans.iter().filter(|(_, first_ms)| *first_ms < switch_ms) {
        h.update(format!(
            "transfer {} {} {} {} {} {first_ms}\n",
            p.withdrawal, p.deposit, p.to_account, p.sent, p.received
        ));
    }
    for e in inputs.in_force.iter().filter(|e| e.from_ms < switch_ms) {
        h.update(format!("election {} {} {:?}\n", e.method.as_str(), e.from_ms, e.account_id));
    }
    h.update(digest.finish_hex());
    let history_hash = crate::digest::hex(&h.finalize());
    Ok(AtSwitch { lots, unassigned, held, unused_basis, history_hash, as_of_ms: switch_ms, zone: inputs.zone })
}

/// Units and basis per (wallet, asset).
pub fn per_wallet(lots: &[AllocatedLot]) -> BTreeMap<(i64, String), (Decimal, Decimal)> {
    let mut out: BTreeMap<(i64, String), (Decimal, Decimal)> = BTreeMap::new();
    for lot in lots {
        let entry = out.entry((lot.account_id, lot.asset.clone())).or_default();
        entry.0 += lot.units;
        entry.1 += lot.basis;
    }
    out
}

/// One way a stored allocation no longer agrees with the history before the switch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// The wallet, when the difference is one wallet's (`None`: the asset's, or the history's).
    pub account_id: Option<i64>,
    /// Asset (empty: the history as a whole).
    pub asset: String,
    /// What the history gives now less what is stored.
    pub amount: Decimal,
    /// In words.
    pub detail: String,
}

/// What differs between `stored` and what the history gives `now`: units per wallet and asset
/// (against the units held, or for the global rule the rule's lots), basis per asset (the
/// unused basis), and for the global rule basis per wallet and asset; when the figures agree
/// but the history before the switch changed, that alone.
pub fn differences(stored: &StoredAllocation, now: &AtSwitch) -> Vec<Difference> {
    let mut out = Vec::new();
    let kept = per_wallet(&stored.lots);
    let global = stored.rule == AllocationRule::Global;
    let computed = per_wallet(&now.lots);
    let keys: BTreeSet<&(i64, String)> = kept.keys().chain(now.held.keys()).chain(computed.keys()).collect();
    for key in keys {
        let (units, basis) = kept.get(key).copied().unwrap_or_default();
        let (rule_units, rule_basis) = computed.get(key).copied().unwrap_or_default();
        let held = now.held.get(key).copied().unwrap_or_default();
        let units_now = if global { rule_units } else { held };
        if units_now != units {
            out.push(Difference {
                account_id: Some(key.0),
                asset: key.1.clone(),
                amount: units_now - units,
                detail: format!(
                    "units at the switch: the history now gives {} (held {}), the stored allocation {}",
                    format_amount(units_now),
                    format_amount(held),
                    format_amount(units)
                ),
            });
        }
        if global && rule_basis != basis {
            out.push(Difference {
                account_id: Some(key.0),
                asset: key.1.clone(),
                amount: rule_basis - basis,
                detail: format!(
                    "basis: the global rule now gives {}, the stored allocation {}",
                    format_amount(rule_basis),
                    format_amount(basis)
                ),
            });
        }
    }
    let mut stored_basis: BTreeMap<&str, Decimal> = BTreeMap::new();
    for lot in &stored.lots {
        *stored_basis.entry(lot.asset.as_str()).or_default() += lot.basis;
    }
    let held_assets: BTreeSet<&str> = now.held.keys().map(|(_, asset)| asset.as_str()).collect();
    let assets: BTreeSet<&str> = stored_basis.keys().copied().chain(held_assets).collect();
    for asset in assets {
        let kept = stored_basis.get(asset).copied().unwrap_or_default();
        let unused = now.unused_basis.get(asset).copied().unwrap_or_default();
        if kept != unused {
            out.push(Difference {
                account_id: None,
                asset: asset.to_owned(),
                amount: unused - kept,
                detail: format!(
                    "unused basis: the history now gives {}, the stored allocation {}",
                    format_amount(unused),
                    format_amount(kept)
                ),
            });
        }
    }
    if stored.as_of_ms != now.as_of_ms {
        out.push(Difference {
            account_id: None,
            asset: String::new(),
            amount: Decimal::ZERO,
            detail: format!(
                "the switch was at {} when the allocation was stored; the ledger's time zone ({}) puts it at {} now (the zone was changed since, or an earlier cointally put the switch at UTC midnight in every zone): check the figures, and store it again with --replace if the allocation should be made at the new instant",
                cointally_exchanges::time::format_rfc3339(cointally_exchanges::time::from_millis(stored.as_of_ms)),
                now.zone.name(),
                cointally_exchanges::time::format_rfc3339(cointally_exchanges::time::from_millis(now.as_of_ms)),
            ),
        });
    }
    if out.is_empty() && stored.history_hash != now.history_hash {
        out.push(Difference {
            account_id: None,
            asset: String::new(),
            amount: Decimal::ZERO,
            detail: "the history before 2025 changed since the allocation was stored, though the allocation it gives is the same".into(),
        });
    }
    out
}

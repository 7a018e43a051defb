//! What a US computation reads besides the events, and the hashes that name its inputs.
//!
//! The report's `inputs_hash` is the SHA-256 of the reporting currency, the own transfers, the
//! elections, the time zone and rebate treatment (when not the defaults, UTC and income, so
//! that a ledger made before those settings keeps its hashes), the rebates tied to purchases
//! (under `rebates basis`) and the *events digest*: a chain
//! of one SHA-256 per calendar year (in the ledger's time zone) of events
//! (`digest = SHA-256(digest ‖ SHA-256(that year's events))`). The chain lets a computation
//! that starts from a year-end snapshot go on hashing where the snapshot stopped and reach the
//! same `inputs_hash` as a computation from the first event.
//!
//! A snapshot is also checked against a *key*: the SHA-256 of everything else the state at its
//! end depends on and that every report reads whole anyway — the version of the rules, the
//! currency, the options (year aside), the time zone, the rebate treatment, the accounts'
//! labels (the order of wallets when the US basis is re-seated in 2025), the rebates tied to
//! purchases before the end, the transfers that touch an event before the end (with the
//! amounts the engine moves), the elections in force before it, and the stored 2025 allocation
//! when the snapshot ends after it.

use std::collections::BTreeMap;
use std::io::Write as _;

use chrono::DateTime;
use sha2::{Digest, Sha256};

use super::engine::{Engine, TransferPlan};
use super::rebates::Rebates;
use super::zone::Zone;
use super::{InForce, Method, Options, Tracking, hash_event};
use crate::ledger::{Election, Ledger, LedgerError, RebateLink, StoredAllocation, TaxEvent};
use crate::transfers::Matching;

/// The version of the US rules a snapshot was computed by: raise it whenever the engine would
/// compute a different state from the same events (then every stored snapshot is recomputed).
/// 3: a lot's HIFO/LOFO rank is fixed when it is made and a part coming back merges by lot id
/// (issue #21).
pub const US_RULES_VERSION: u32 = 3;

/// The chained digest of the events read, one link per year: a calendar year of the ledger's
/// zone (the US engine) or a country's tax year.
#[derive(Clone)]
pub struct EventsDigest {
    chain: [u8; 32],
    /// The year being hashed: its end (UTC ms) and the hash so far.
    block: Option<(i64, Sha256)>,
    /// Where each link ends.
    links: Links,
}

/// Where the links of an [`EventsDigest`] end.
#[derive(Clone)]
enum Links {
    /// Calendar years of this zone.
    Calendar(Zone),
    /// The end (UTC ms, after it) of the tax year holding an instant.
    Tax(std::sync::Arc<dyn Fn(i64) -> i64 + Send + Sync>),
}

impl std::fmt::Debug for EventsDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventsDigest").field("chain", &crate::digest::hex(&self.chain)).finish_non_exhaustive()
    }
}

impl Default for EventsDigest {
    fn default() -> Self {
        EventsDigest::new(Zone::UTC)
    }
}

impl EventsDigest {
    /// An empty digest with one link per calendar year of `zone`.
    pub fn new(zone: Zone) -> EventsDigest {
        EventsDigest { chain: Sha256::digest(b"cointally events v2").into(), block: None, links: Links::Calendar(zone) }
    }

    /// An empty digest with one link per tax year, `year_end(ms)` being the end (UTC ms) of
    /// the tax year that holds `ms` (a country's years: [`crate::tax::country_years`]).
    pub fn tax_years(year_end: impl Fn(i64) -> i64 + Send + Sync + 'static) -> EventsDigest {
        EventsDigest {
            chain: Sha256::digest(b"cointally events v2").into(),
            block: None,
            links: Links::Tax(std::sync::Arc::new(year_end)),
        }
    }

    /// Goes on from a digest a snapshot stored (hex, as [`EventsDigest::finish_hex`] gave it),
    /// with this digest's links.
    pub fn resumed(self, hex: &str) -> Result<EventsDigest, LedgerError> {
        let bad = || LedgerError::Corrupt(format!("snapshot events digest {hex:?} is not 64 hex digits"));
        if hex.len() != 64 {
            return Err(bad());
        }
        let mut chain = [0u8; 32];
        for (i, byte) in chain.iter_mut().enumerate() {
            *byte = hex.get(2 * i..2 * i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()).ok_or_else(bad)?;
        }
        Ok(EventsDigest { chain, block: None, links: self.links })
    }

    /// Adds an event (events in time order).
    pub fn add(&mut self, event: &TaxEvent) {
        if self.block.as_ref().is_none_or(|(end, _)| event.time_ms >= *end) {
            self.close();
            let end = match &self.links {
                Links::Calendar(zone) => {
                    let year = if DateTime::from_timestamp_millis(event.time_ms).is_some() {
                        zone.year(event.time_ms)
                    } else {
                        i32::MAX - 1
                    };
                    zone.year_start_ms(year.saturating_add(1))
                }
                Links::Tax(year_end) => year_end(event.time_ms),
            };
            self.block = Some((end, Sha256::new()));
        }
        if let Some((_, hasher)) = self.block.as_mut() {
            hash_event(hasher, event);
        }
    }

    fn close(&mut self) {
        if let Some((_, year)) = self.block.take() {
            let mut next = Sha256::new();
            next.update(self.chain);
            next.update(year.finalize());
            self.chain = next.finalize().into();
        }
    }

    /// The digest of every event added (a year-end: the year is closed), in hex.
    pub fn finish_hex(&mut self) -> String {
        self.close();
        crate::digest::hex(&self.chain)
    }
}

/// Everything a US computation reads besides the events.
#[derive(Debug, Clone)]
pub struct Inputs {
    /// The reporting currency.
    pub currency: String,
    /// The own transfers, with the earliest time of their two events.
    pub plans: Vec<(TransferPlan, i64)>,
    /// The accounts' labels.
    pub labels: BTreeMap<i64, String>,
    /// The elections as stored (none under a what-if method).
    pub elections: Vec<Election>,
    /// The elections as the engine applies them.
    pub in_force: Vec<InForce>,
    /// The ledger's time zone (tax years, holding periods, dates).
    pub zone: Zone,
    /// The ledger's treatment of rebates.
    pub rebates: Rebates,
    /// The stored 2025 allocation (`cointally basis allocate`), applied under the US lot rule.
    pub allocation: Option<StoredAllocation>,
    /// Rebates tied to their purchases (read under `rebates basis` only).
    pub rebate_links: Vec<RebateLink>,
    /// The hash of the currency, transfers and elections: `inputs_hash` less the events.
    head: Sha256,
}

impl Inputs {
    /// Reads them (the transfers from `matching`, which holds their movements).
    pub fn read(ledger: &Ledger, options: &Options, matching: &Matching) -> Result<Inputs, LedgerError> {
        let currency = ledger.reporting_currency()?;
        let mut head = Sha256::new();
        head.update(currency.as_bytes());
        let plans = timed_transfer_plans(matching, &mut head);
        let labels = ledger.accounts()?.into_iter().map(|a| (a.id, a.label)).collect();
        let elections = if options.what_if { Vec::new() } else { ledger.elections()? };
        let zone = Zone::of_ledger(ledger)?;
        let mut in_force = Vec::with_capacity(elections.len());
        for e in &elections {
            let method = Method::from_name(&e.method)
                .ok_or_else(|| LedgerError::Corrupt(format!("election {} has method {:?}", e.id, e.method)))?;
            head.update(format!("election {} {} {:?}\n", method.as_str(), e.from_ms, e.account_id));
            in_force.push(InForce { method, from_ms: election_start_ms(zone, e.from_ms), account_id: e.account_id });
        }
        let rebates = Rebates::of_ledger(ledger)?;
        head.update(settings_text(zone, rebates));
        let rebate_links = if rebates == Rebates::Basis { ledger.rebate_links()? } else { Vec::new() };
        for link in &rebate_links {
            head.update(rebate_link_text(link));
        }
        let allocation = ledger.stored_allocation()?;
        if let Some(stored) = allocation.as_ref().filter(|_| options.tracking == Tracking::Us) {
            head.update(allocation_text(stored));
        }
        Ok(Inputs { currency, plans, labels, elections, in_force, zone, rebates, allocation, rebate_links, head })
    }

    /// An engine for `options` with these transfers, labels, elections, zone, rebates and
    /// (under the US lot rule) the stored allocation.
    pub fn engine(&self, options: Options) -> Engine {
        let allocation = self.allocation.as_ref().filter(|_| options.tracking == Tracking::Us);
        Engine::new(options, &self.transfer_plans(), self.labels.clone())
            .with_elections(self.in_force.clone())
            .in_zone(self.zone)
            .with_rebates(self.rebates)
            .with_rebate_links(self.rebate_links.iter().map(|l| (l.rebate, l.purchase)).collect())
            .with_allocation(allocation.map(|a| a.lots.clone()))
    }

    /// The transfers as the engine takes them.
    pub fn transfer_plans(&self) -> Vec<TransferPlan> {
        self.plans.iter().map(|(plan, _)| plan.clone()).collect()
    }

    /// The report's `inputs_hash` for the events digest `events` (hex).
    pub fn inputs_hash(&self, events: &str) -> String {
        let mut hasher = self.head.clone();
        hasher.update(b"events ");
        hasher.update(events.as_bytes());
        crate::digest::hex(&hasher.finalize())
    }

    /// The key a snapshot ending at `end_ms` under `options` must carry to be used.
    pub fn snapshot_key(&self, options: &Options, end_ms: i64) -> String {
        let mut h = Sha256::new();
        h.update(format!("us rules {US_RULES_VERSION} cointally {}\n", env!("CARGO_PKG_VERSION")));
        h.update(format!("{}\n{}\n", self.currency, snapshot_options(options)));
        h.update(settings_text(self.zone, self.rebates));
        for (id, label) in &self.labels {
            h.update(format!("account {id} {label:?}\n"));
        }
        hash_plans_before(&mut h, &self.plans, end_ms);
        for link in self.rebate_links.iter().filter(|l| l.rebate_ms < end_ms) {
            h.update(rebate_link_text(link));
        }
        for e in self.in_force.iter().filter(|e| e.from_ms < end_ms) {
            h.update(format!("election {} {} {:?}\n", e.method.as_str(), e.from_ms, e.account_id));
        }
        if let Some(stored) =
            self.allocation.as_ref().filter(|a| a.as_of_ms < end_ms && options.tracking == Tracking::Us)
        {
            h.update(allocation_text(stored));
        }
        crate::digest::hex(&h.finalize())
    }
}

/// Hashes into a snapshot's key the transfers that touch an event before `end_ms` (either of
/// their two events), with the amounts the engine moves: as bytes, not text (tens of thousands
/// of them, and a key is made for each snapshot a report looks at or stores).
pub(crate) fn hash_plans_before(h: &mut Sha256, plans: &[(TransferPlan, i64)], end_ms: i64) {
    h.update(b"transfers\n");
    for (p, first_ms) in plans.iter().filter(|(_, first_ms)| *first_ms < end_ms) {
        h.update(p.withdrawal.to_le_bytes());
        h.update(p.deposit.to_le_bytes());
        h.update(p.to_account.to_le_bytes());
        h.update(p.sent.serialize());
        h.update(p.received.serialize());
        h.update(first_ms.to_le_bytes());
    }
}

/// The instant an election stored with `from_ms` takes effect in `zone`. An election is a
/// date (`method set --from DATE`), stored as that date's UTC midnight; it takes effect at the
/// local midnight starting that date in the ledger's zone, the calendar the tax year and the
/// sales' dates follow (and changing the zone keeps the date, not the instant).
pub fn election_start_ms(zone: Zone, stored_from_ms: i64) -> i64 {
    if stored_from_ms == i64::MIN {
        return i64::MIN;
    }
    zone.day_start_ms(super::holding::utc_date(stored_from_ms))
}

/// A rebate tied to its purchase, as hashed.
fn rebate_link_text(link: &RebateLink) -> String {
    format!("rebate {} purchase {}\n", link.rebate, link.purchase)
}

/// The time zone and rebate treatment as hashed: nothing for the defaults (UTC, income), so
/// the hashes of a ledger made before these settings stay as they were.
fn settings_text(zone: Zone, rebates: Rebates) -> String {
    let mut text = String::new();
    if !zone.is_utc() {
        // "local elections and switch": since elections and the 2025 switch follow the zone
        // too, a computation in a zone other than UTC differs from one of the versions before
        // (a UTC ledger's does not, so its hashes and snapshots stay as they were).
        text.push_str(&format!("timezone {} local elections and switch\n", zone.name()));
    }
    if rebates != Rebates::Income {
        text.push_str(&format!("rebates {}\n", rebates.as_str()));
    }
    text
}

/// The stored allocation as hashed into `inputs_hash` and snapshot keys.
fn allocation_text(stored: &StoredAllocation) -> String {
    let mut text = format!("allocation {} {} {}\n", stored.rule.as_str(), stored.as_of_ms, stored.history_hash);
    for l in &stored.lots {
        text += &format!(
            "{} {} {} {} {} {} {} {} {} {} {}\n",
            l.account_id,
            l.asset,
            l.units,
            l.basis,
            l.acquired_ms,
            l.lot_id,
            l.event_id,
            l.origin_account,
            l.moved,
            l.basis_missing,
            l.price_missing
        );
    }
    text
}

/// The options a snapshot is stored under: all but the year.
pub fn snapshot_options(options: &Options) -> String {
    Options { year: None, ..*options }.to_json()
}

/// The own transfers of `matching` as the engines take them, each with the earliest time of its
/// two events, each fed into `hasher`.
pub(crate) fn timed_transfer_plans(matching: &Matching, hasher: &mut Sha256) -> Vec<(TransferPlan, i64)> {
    let movements = &matching.movements;
    let mut plans = Vec::new();
    for link in &matching.links {
        let (Some(withdrawal), Some(deposit)) = (movements.get(&link.withdrawal), movements.get(&link.deposit)) else {
            continue;
        };
        // Written into the hasher as it is formatted (tens of thousands of links: no string each).
        let _ = writeln!(hasher, "transfer {} {} {}", link.withdrawal, link.deposit, link.method.as_str());
        let plan = TransferPlan {
            withdrawal: link.withdrawal,
            deposit: link.deposit,
            to_account: deposit.account_id,
            sent: withdrawal.amount,
            received: deposit.amount,
        };
        plans.push((plan, withdrawal.time_ms.min(deposit.time_ms)));
    }
    plans
}

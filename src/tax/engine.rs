//! The computation: events in time order in, lots, disposals and income out.
//!
//! What each kind of event does (US rules, IRS Notice 2014-21 and Pub. 544/550):
//! - `trade`, `conversion`, `spend`: the crypto given up is disposed of. The amount realized
//!   is the value of what was received (of what was given, when nothing was received, as in a
//!   spend) less the fees, shared among the crypto legs given by their values. Crypto received
//!   is a new lot: its basis is its value, or, for a purchase with fiat only, the fiat paid plus
//!   the fees.
//! - a fee paid in crypto is, in addition, a disposal of those units at their value (`fee`).
//! - income kinds (`staking`, `interest`, `airdrop`, `mining`, `rebate`, `income`, `fork`):
//!   an income row at the value received, and a lot with that basis — but a `rebate` under
//!   the `rebates basis` setting is a price reduction: no income, a lot with basis zero
//!   ([`super::rebates`]).
//! - `withdrawal` matched to a `deposit` (an own transfer): the lots move to the receiving
//!   wallet with their dates and basis, chosen by the method; units lost on the way (the
//!   deposit is smaller) and fees in the same asset are the transfer's network fee, disposed of
//!   at their value (`transfer_fee`, the default; a disposal like any other, so its units are
//!   chosen by the method before the moved units are) or, with [`TransferFees::Carry`], not
//!   disposed of but their basis added to the units that arrived.
//! - an unmatched `withdrawal`, a `gift`, `lost`: the units leave the ledger's holdings with no
//!   gain or loss (gifts and theft losses are not sales; an unmatched withdrawal went to a wallet
//!   not in the ledger or to someone else — `check` lists it).
//! - an unmatched `deposit`: a lot with the basis the user gave (a generic-CSV deposit row's
//!   `fiat_value`) or, when none was given, basis zero flagged as missing.
//! - `internal_transfer` (spot ↔ earn inside one account): nothing moves; the lots stay in
//!   the account's pool, whichever half of the move comes first.
//! - `adjustment`, `fiat_deposit`, `fiat_withdrawal` with crypto legs: crypto arriving is a lot
//!   with missing basis, crypto leaving leaves without gain.
//! - `unknown` (a type cointally does not know): the same — in balances, not in gains or income
//!   — until the user reclassifies it; `check` lists it as `unknown_kind`, not as missing basis.
//!
//! Fiat (USD, EUR, …) is money, not property: no lots. Disposing of more than is held makes a
//! disposal with basis zero flagged as missing (`check` shows the negative balance).

use std::collections::BTreeMap;

use cointally_exchanges::amount::{MAX_DECIMAL_PLACES, MAX_MAGNITUDE};
use cointally_exchanges::asset::is_fiat;
use cointally_exchanges::{EventKind, LegRole};
use rust_decimal::Decimal;

use super::holding::term;
use super::pools::{Lot, Pool, unit_basis};
use super::rebates::Rebates;
use super::zone::Zone;
use super::{InForce, Method, Options, Tracking, TransferFees};
use crate::ledger::{AllocatedLot, Disposal, DisposalKind, Holding, IncomeRow, TaxEvent, TaxLeg};

mod state;
mod switch;

pub use state::EngineState;

/// A figure of an event outside the bounds the computation is safe within.
///
/// Why bounds and not checked arithmetic on every `+`: every amount, value and basis of an
/// event is held below 10^20 ([`MAX_MAGNITUDE`], the bound `parse_amount` puts on what is
/// read), and amounts to at most 18 decimal places. Then the sums the engine keeps (balances,
/// lots, basis acquired and disposed, report totals) stay below `Decimal`'s ~7.9 × 10^28 for
/// any ledger of fewer than 790 million legs; the products and quotients it makes are
/// `total × part / whole` with |part| ≤ |whole| (at most `total`, see [`proportion`]) and the
/// basis per unit (checked, in `pools`). The ledger's text is read back without those bounds
/// (an edited or foreign file), so they are checked here, per event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event {event_id}, leg {seq} ({asset}): {what} {figure} is out of range: {bound}")]
pub struct OutOfRange {
    /// The event.
    pub event_id: i64,
    /// The leg's position in the event (`-1` for the event's own basis).
    pub seq: i64,
    /// The leg's asset (the reporting currency's basis: empty).
    pub asset: String,
    /// Which figure: `amount`, `value` or `basis`.
    pub what: &'static str,
    /// The figure as read.
    pub figure: Decimal,
    /// The bound it breaks, in words.
    pub bound: &'static str,
}

const SIZE_BOUND: &str = "amounts and values must be below 10^20 in size";
const PLACES_BOUND: &str = "amounts may have at most 18 decimal places";

/// Checks that every figure of `event` is within the bounds the computation is safe within.
pub fn within_bounds(event: &TaxEvent) -> Result<(), OutOfRange> {
    let out = |seq: i64, asset: &str, what: &'static str, figure: Decimal, bound: &'static str| OutOfRange {
        event_id: event.id,
        seq,
        asset: asset.to_owned(),
        what,
        figure,
        bound,
    };
    if let Some(basis) = event.basis.filter(|b| b.abs() >= MAX_MAGNITUDE) {
        return Err(out(-1, "", "basis", basis, SIZE_BOUND));
    }
    for leg in &event.legs {
        if leg.amount.abs() >= MAX_MAGNITUDE {
            return Err(out(leg.seq, &leg.asset, "amount", leg.amount, SIZE_BOUND));
        }
        if leg.amount.normalize().scale() > MAX_DECIMAL_PLACES {
            return Err(out(leg.seq, &leg.asset, "amount", leg.amount, PLACES_BOUND));
        }
        if let Some(value) = leg.value.filter(|v| v.abs() >= MAX_MAGNITUDE) {
            return Err(out(leg.seq, &leg.asset, "value", value, SIZE_BOUND));
        }
    }
    Ok(())
}

/// 2025-01-01T00:00:00Z: from then on, US lots are tracked wallet by wallet in a UTC ledger
/// (in another zone, from local midnight: [`Zone::per_wallet_from_ms`]).
pub const US_PER_WALLET_FROM_MS: i64 = 1_735_689_600_000;

/// One own transfer, as the engine needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferPlan {
    /// The withdrawal event.
    pub withdrawal: i64,
    /// The deposit event.
    pub deposit: i64,
    /// The receiving account.
    pub to_account: i64,
    /// Units that left (fees aside).
    pub sent: Decimal,
    /// Units that arrived.
    pub received: Decimal,
}

/// Units that left the ledger's holdings without a gain (gift, loss, unmatched withdrawal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    /// The event.
    pub event_id: i64,
    /// Asset.
    pub asset: String,
    /// Units taken from lots.
    pub amount: Decimal,
    /// Their basis.
    pub cost_basis: Decimal,
}

/// An acquisition whose basis is unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasisGap {
    /// The event.
    pub event_id: i64,
    /// Its account.
    pub account_id: i64,
    /// Its kind.
    pub kind: EventKind,
    /// Asset.
    pub asset: String,
    /// Units.
    pub amount: Decimal,
}

/// The first time an account's balance of an asset went below zero.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negative {
    /// The event that took it below zero first.
    pub event_id: i64,
    /// When.
    pub time_ms: i64,
    /// The lowest balance seen.
    pub lowest: Decimal,
}

/// Everything computed.
#[derive(Debug, Clone, Default)]
pub struct Computation {
    /// Disposals in the year (all of them without a year), in order.
    pub disposals: Vec<Disposal>,
    /// Income in the year.
    pub income: Vec<IncomeRow>,
    /// Lots held at the end (of the year).
    pub holdings: Vec<Holding>,
    /// Units that left without gain (all time).
    pub removals: Vec<Removal>,
    /// Acquisitions with no known basis (all time).
    pub basis_gaps: Vec<BasisGap>,
    /// Balances that went negative, by (account, asset).
    pub negatives: BTreeMap<(i64, String), Negative>,
    /// Basis of every lot ever made (all time), for audit.
    pub acquired_basis: Decimal,
    /// Basis of every disposal (all time).
    pub disposed_basis: Decimal,
    /// Units disposed of that were never held (all time), by asset.
    pub shortfalls: BTreeMap<String, Decimal>,
}

/// The state of a computation in progress.
pub struct Engine {
    options: Options,
    /// The local calendar of tax years and holding periods.
    zone: Zone,
    /// How `rebate` events are taxed.
    rebates: Rebates,
    year_start_ms: i64,
    /// When US lots switch to per-wallet tracking: local midnight starting 1 January 2025.
    per_wallet_from_ms: i64,
    outgoing: BTreeMap<i64, TransferPlan>,
    /// Deposit → units its withdrawal moved.
    incoming: BTreeMap<i64, Decimal>,
    /// (wallet or `None` for the universal pool, asset) → lots.
    pools: BTreeMap<Option<i64>, BTreeMap<String, Pool>>,
    /// account → asset → balance (looked up by `&str`: no allocation per leg).
    balances: BTreeMap<i64, BTreeMap<String, Decimal>>,
    per_wallet: bool,
    labels: BTreeMap<i64, String>,
    next_lot: i64,
    out: Computation,
    /// The elections, by date.
    elections: Vec<InForce>,
    /// The time of the event being applied.
    now_ms: i64,
    /// Own transfers sent but not arrived yet: deposit → (receiving wallet, asset, units).
    in_flight: BTreeMap<i64, (i64, String, Decimal)>,
    /// Deposits of own transfers that arrived before their withdrawal was sent.
    landed_first: std::collections::BTreeSet<i64>,
    /// The stored 2025 allocation, installed at the switch to per-wallet lots.
    allocation: Option<Vec<AllocatedLot>>,
    /// Rebate event → the purchase event whose price it reduces (`cointally rebates link`).
    rebate_links: BTreeMap<i64, i64>,
}

fn value(leg: &TaxLeg) -> Decimal {
    leg.value.unwrap_or_default()
}

/// Shares `total` among `weights` in proportion (equal shares when they sum to zero); the
/// last share takes the remainder, so the shares add up to `total` exactly.
/// `total × part / whole`, multiplied first so that round figures stay round.
///
/// Every caller has |part| ≤ |whole| and `whole` ≠ 0 (a part of a lot, of a send, of a
/// trade's weights), so the result is at most `total` in size and cannot overflow; should a
/// caller break that, the result is `total` rather than a panic.
pub fn proportion(total: Decimal, part: Decimal, whole: Decimal) -> Decimal {
    // All of it (a lot used up, a send of one lot): `total` without a 96-bit division, the
    // same value (an exact quotient).
    if part == whole {
        return total;
    }
    total
        .checked_mul(part)
        .and_then(|x| x.checked_div(whole))
        .or_else(|| part.checked_div(whole).and_then(|ratio| total.checked_mul(ratio)))
        .unwrap_or(total)
}

pub(crate) fn share(total: Decimal, weights: &[Decimal]) -> Vec<Decimal> {
    let sum: Decimal = weights.iter().sum();
    let n = weights.len();
    let mut out = Vec::with_capacity(n);
    let mut given = Decimal::ZERO;
    for (i, w) in weights.iter().enumerate() {
        let part = if i + 1 == n {
            total - given
        } else if sum.is_zero() {
            total / Decimal::from(n as u64)
        } else {
            proportion(total, *w, sum)
        };
        given += part;
        out.push(part);
    }
    out
}

impl Engine {
    /// A computation with `options`, the own transfers, and the accounts' labels (the order
    /// of wallets when US basis is re-seated on 1 January 2025).
    pub fn new(options: Options, transfers: &[TransferPlan], labels: BTreeMap<i64, String>) -> Engine {
        let year_start_ms = options.year.map(super::year_start_ms).unwrap_or(i64::MIN);
        Engine {
            per_wallet: options.tracking == Tracking::PerWallet,
            options,
            zone: Zone::UTC,
            rebates: Rebates::Income,
            year_start_ms,
            per_wallet_from_ms: US_PER_WALLET_FROM_MS,
            outgoing: transfers.iter().map(|t| (t.withdrawal, t.clone())).collect(),
            incoming: transfers.iter().map(|t| (t.deposit, t.received.min(t.sent))).collect(),
            pools: BTreeMap::new(),
            balances: BTreeMap::new(),
            labels,
            next_lot: 0,
            out: Computation::default(),
            elections: Vec::new(),
            now_ms: i64::MIN,
            in_flight: BTreeMap::new(),
            landed_first: Default::default(),
            allocation: None,
            rebate_links: BTreeMap::new(),
        }
    }

    /// Counts tax years and holding periods on the local dates of `zone` (the US rules under
    /// the ledger's `timezone` setting) instead of UTC's.
    pub fn in_zone(mut self, zone: Zone) -> Engine {
        self.zone = zone;
        self.year_start_ms = self.options.year.map_or(i64::MIN, |year| zone.year_start_ms(year));
        self.per_wallet_from_ms = zone.per_wallet_from_ms();
        self
    }

    /// Taxes `rebate` events as `rebates` says (the ledger's `rebates` setting).
    pub fn with_rebates(mut self, rebates: Rebates) -> Engine {
        self.rebates = rebates;
        self
    }

    /// Ties rebates to the purchases they reduce the price of (rebate event → purchase event),
    /// read under the `rebates basis` setting: see [`super::rebates`].
    pub fn with_rebate_links(mut self, links: BTreeMap<i64, i64>) -> Engine {
        self.rebate_links = links;
        self
    }

    /// Keeps disposals and income from `start_ms` on instead of from 1 January 00:00 UTC of
    /// the options' year: a country whose year starts at another instant (Germany's calendar
    /// year in Berlin time) reads from the first event and keeps only its own year's rows.
    pub fn keeping_from(mut self, start_ms: i64) -> Engine {
        self.year_start_ms = start_ms;
        self
    }

    /// Applies lot identification elections: each disposal uses the latest election in force
    /// at its time for its wallet, else the latest for all wallets, else the options' method.
    /// Under universal tracking only elections for all wallets apply.
    pub fn with_elections(mut self, mut elections: Vec<InForce>) -> Engine {
        elections.sort_by_key(|e| e.from_ms);
        self.elections = elections;
        self
    }

    /// Starts the per-wallet lots of 1 January 2025 from a stored allocation (`cointally basis
    /// allocate`) instead of computing the global rule: see [`Engine::reseat_per_wallet`].
    pub fn with_allocation(mut self, allocation: Option<Vec<AllocatedLot>>) -> Engine {
        self.allocation = allocation;
        self
    }

    /// The method in force now for `wallet` (`None`: the universal pool).
    fn method_for(&self, wallet: Option<i64>) -> Method {
        if self.options.what_if {
            return self.options.method;
        }
        let latest = |for_wallet: Option<i64>| {
            self.elections.iter().rev().find(|e| e.from_ms <= self.now_ms && e.account_id == for_wallet)
        };
        wallet.and_then(|w| latest(Some(w))).or_else(|| latest(None)).map(|e| e.method).unwrap_or(self.options.method)
    }

    fn pool(&mut self, account: i64, asset: &str) -> &mut Pool {
        let wallet = self.per_wallet.then_some(account);
        let method = self.method_for(wallet);
        let pools = self.pools.entry(wallet).or_default();
        if !pools.contains_key(asset) {
            pools.insert(asset.to_owned(), Pool::new(method));
        }
        let pool = pools.get_mut(asset).expect("inserted above");
        pool.set_method(method);
        pool
    }

    fn in_year(&self, time_ms: i64) -> bool {
        time_ms >= self.year_start_ms
    }

    /// Applies one event (events must come in time order) after checking its figures are
    /// within the bounds the computation is safe within ([`within_bounds`]); an event out
    /// of them changes nothing.
    pub fn try_process(&mut self, event: &TaxEvent) -> Result<(), OutOfRange> {
        within_bounds(event)?;
        self.process(event);
        Ok(())
    }

    /// Applies one event (events must come in time order) whose figures are known to be
    /// within bounds (from `parse_amount`, or checked by [`within_bounds`]).
    pub fn process(&mut self, event: &TaxEvent) {
        self.now_ms = event.time_ms;
        if self.options.tracking == Tracking::Us && !self.per_wallet && event.time_ms >= self.per_wallet_from_ms {
            self.reseat_per_wallet();
        }
        for leg in &event.legs {
            if is_fiat(&leg.asset) {
                continue;
            }
            let balances = self.balances.entry(event.account_id).or_default();
            let balance = match balances.get_mut(leg.asset.as_str()) {
                Some(balance) => balance,
                None => balances.entry(leg.asset.clone()).or_default(),
            };
            *balance += leg.amount;
            if balance.is_sign_negative() && !balance.is_zero() {
                let lowest = *balance;
                self.out
                    .negatives
                    .entry((event.account_id, leg.asset.clone()))
                    .and_modify(|n| n.lowest = n.lowest.min(lowest))
                    .or_insert(Negative { event_id: event.id, time_ms: event.time_ms, lowest });
            }
        }
        match event.kind {
            EventKind::Trade | EventKind::Conversion | EventKind::Spend => self.trade(event),
            EventKind::Swap => self.swap(event),
            EventKind::Withdrawal if self.outgoing.contains_key(&event.id) => self.transfer_out(event),
            EventKind::Deposit if self.incoming.contains_key(&event.id) => self.transfer_in(event),
            EventKind::Deposit => self.deposit(event),
            kind if kind.is_income() => self.income(event),
            // Spot ↔ earn inside one account: the lots stay in the account's pool (the
            // two halves may come as two events, in either order).
            EventKind::InternalTransfer => self.fees(event),
            EventKind::Fee => {
                for leg in event.legs.iter().filter(|l| l.amount.is_sign_negative() && !is_fiat(&l.asset)) {
                    self.dispose(event, leg, value(leg), DisposalKind::Fee, leg.value.is_none());
                }
            }
            _ => self.move_unpriced(event),
        }
    }

    /// The crypto fee legs of an event, disposed of at their value.
    fn fees(&mut self, event: &TaxEvent) {
        for leg in event.legs.iter().filter(|l| l.role == LegRole::Fee && !is_fiat(&l.asset)) {
            self.dispose(event, leg, value(leg), DisposalKind::Fee, leg.value.is_none());
        }
    }

    fn trade(&mut self, event: &TaxEvent) {
        let legs = |role: LegRole| event.legs.iter().filter(move |l| l.role == role);
        let sent: Vec<&TaxLeg> = legs(LegRole::Sent).collect();
        let received: Vec<&TaxLeg> = legs(LegRole::Received).collect();
        let fees: Decimal = legs(LegRole::Fee).map(value).sum();
        let missing = event.legs.iter().any(|l| l.value.is_none());
        let consideration: Decimal = if received.is_empty() {
            sent.iter().map(|l| value(l)).sum()
        } else {
            received.iter().map(|l| value(l)).sum()
        };
        let crypto_sent = sent.iter().any(|l| !is_fiat(&l.asset));
        if crypto_sent {
            let weights: Vec<Decimal> = sent.iter().map(|l| value(l)).collect();
            for (leg, proceeds) in sent.iter().zip(share(consideration - fees, &weights)) {
                if !is_fiat(&leg.asset) {
                    self.dispose(event, leg, proceeds, DisposalKind::Sale, missing);
                }
            }
        }
        let bought: Vec<&TaxLeg> = received.iter().copied().filter(|l| !is_fiat(&l.asset)).collect();
        if !bought.is_empty() {
            let weights: Vec<Decimal> = bought.iter().map(|l| value(l)).collect();
            let cost = if crypto_sent {
                weights.iter().sum()
            } else if sent.is_empty() {
                weights.iter().sum::<Decimal>() + fees
            } else {
                sent.iter().map(|l| value(l)).sum::<Decimal>() + fees
            };
            for (leg, basis) in bought.iter().zip(share(cost, &weights)) {
                self.acquire(event, &leg.asset, leg.amount, basis, false, missing);
            }
        }
        self.fees(event);
    }

    /// A tax-free swap: the given token's lots (chosen by the method, like a disposal's) become
    /// the received token's, each keeping its basis and acquisition date, their units scaled to
    /// what was received. A swap that is not one token for one other is a trade.
    fn swap(&mut self, event: &TaxEvent) {
        let crypto = |role: LegRole| event.legs.iter().filter(move |l| l.role == role && !is_fiat(&l.asset));
        let (sent, received): (Vec<&TaxLeg>, Vec<&TaxLeg>) =
            (crypto(LegRole::Sent).collect(), crypto(LegRole::Received).collect());
        let fiat = event.legs.iter().any(|l| l.role != LegRole::Fee && is_fiat(&l.asset));
        let ([given], [got]) = (sent.as_slice(), received.as_slice()) else { return self.trade(event) };
        if fiat || given.asset == got.asset {
            return self.trade(event);
        }
        let units = given.amount.abs();
        let (mut lots, short) = self.pool(event.account_id, &given.asset).take(units);
        if !short.is_zero() {
            self.out.shortfalls.entry(given.asset.clone()).and_modify(|s| *s += short).or_insert(short);
            lots.push(self.new_lot(event, event.time_ms, short, Decimal::ZERO, true, false));
            self.gap(event, &given.asset, short);
        }
        let weights: Vec<Decimal> = lots.iter().map(|l| l.amount).collect();
        let scaled = share(got.amount, &weights);
        let pool = self.pool(event.account_id, &got.asset);
        for (lot, amount) in lots.into_iter().zip(scaled) {
            pool.put(Lot { amount, ..lot }.reranked());
        }
        self.fees(event);
    }

    fn income(&mut self, event: &TaxEvent) {
        let price_reduction = event.kind == EventKind::Rebate && self.rebates == Rebates::Basis;
        if price_reduction {
            return self.price_reduction(event);
        }
        for leg in event.legs.iter().filter(|l| l.role == LegRole::Received) {
            if self.in_year(event.time_ms) {
                self.out.income.push(IncomeRow {
                    event_id: event.id,
                    account_id: event.account_id,
                    kind: event.kind,
                    asset: leg.asset.clone(),
                    amount: leg.amount,
                    received_ms: event.time_ms,
                    value: value(leg),
                    price_missing: leg.value.is_none(),
                });
            }
            if !is_fiat(&leg.asset) {
                self.acquire(event, &leg.asset, leg.amount, value(leg), false, leg.value.is_none());
            }
        }
        for leg in event.legs.iter().filter(|l| l.role == LegRole::Sent && !is_fiat(&l.asset)) {
            self.remove(event, leg);
        }
        self.fees(event);
    }

    /// A rebate under `rebates basis`: not income (see `super::rebates`). Tied to a purchase
    /// (`cointally rebates link`), its value comes off the basis of that purchase's units
    /// still held, in proportion to their basis and never below zero, and the rebate's own
    /// units carry what was taken off (their share of it, by value, when part of the rebate
    /// is cash): the basis of everything held still adds up to what was paid. What cannot be
    /// taken off (the purchase's units are gone, or it is not tied) stays with the rebate's
    /// units as basis zero.
    fn price_reduction(&mut self, event: &TaxEvent) {
        let received: Vec<&TaxLeg> = event.legs.iter().filter(|l| l.role == LegRole::Received).collect();
        let worth: Decimal = received.iter().map(|l| value(l)).sum();
        let taken_off = match self.rebate_links.get(&event.id) {
            Some(&purchase) if worth > Decimal::ZERO => self.reduce_purchase(purchase, worth),
            _ => Decimal::ZERO,
        };
        let values: Vec<Decimal> = received.iter().map(|l| value(l)).collect();
        for (leg, carried) in received.iter().zip(share(taken_off, &values)) {
            if !is_fiat(&leg.asset) {
                self.acquire(event, &leg.asset, leg.amount, carried, false, leg.value.is_none());
            }
        }
        for leg in event.legs.iter().filter(|l| l.role == LegRole::Sent && !is_fiat(&l.asset)) {
            self.remove(event, leg);
        }
        self.fees(event);
    }

    /// Takes up to `reduction` off the basis of the units of `purchase` held now (in any
    /// wallet), in proportion to their basis; returns what was taken off.
    fn reduce_purchase(&mut self, purchase: i64, reduction: Decimal) -> Decimal {
        let mut held: Vec<(Option<i64>, String, i64, Decimal)> = Vec::new();
        for (wallet, pools) in &self.pools {
            for (asset, pool) in pools {
                for lot in pool.lots().filter(|l| l.event_id == purchase && l.basis > Decimal::ZERO) {
                    held.push((*wallet, asset.clone(), lot.id, lot.basis));
                }
            }
        }
        let bases: Vec<Decimal> = held.iter().map(|h| h.3).collect();
        let wanted = reduction.min(bases.iter().sum());
        if wanted <= Decimal::ZERO {
            return Decimal::ZERO;
        }
        let mut taken_off = Decimal::ZERO;
        for ((wallet, asset, lot, _), part) in held.iter().zip(share(wanted, &bases)) {
            if let Some(pool) = self.pools.get_mut(wallet).and_then(|p| p.get_mut(asset)) {
                taken_off += pool.reduce_basis(*lot, part);
            }
        }
        self.out.acquired_basis -= taken_off;
        taken_off
    }

    fn deposit(&mut self, event: &TaxEvent) {
        let arrived: Vec<&TaxLeg> =
            event.legs.iter().filter(|l| l.role == LegRole::Received && !is_fiat(&l.asset)).collect();
        let amounts: Vec<Decimal> = arrived.iter().map(|l| l.amount).collect();
        let given = event.basis.map(|b| share(b, &amounts));
        for (i, leg) in arrived.iter().enumerate() {
            match &given {
                Some(bases) => self.acquire(event, &leg.asset, leg.amount, bases[i], false, false),
                None => self.acquire(event, &leg.asset, leg.amount, Decimal::ZERO, true, false),
            }
        }
        self.fees(event);
    }

    fn transfer_out(&mut self, event: &TaxEvent) {
        let Some(plan) = self.outgoing.get(&event.id).cloned() else { return };
        let Some(main) = event.legs.iter().find(|l| l.role == LegRole::Sent && !is_fiat(&l.asset)) else {
            return self.move_unpriced(event);
        };
        let sent = main.amount.abs();
        let moved = plan.received.min(sent);
        let lost = sent - moved;
        // The network fee: units lost on the way, and fee legs in the same asset. Disposed of,
        // it is a disposal like any other: its units are chosen by the method first, then the
        // units that move are.
        let same_asset_fees: Vec<&TaxLeg> =
            event.legs.iter().filter(|l| l.role == LegRole::Fee && l.asset == main.asset).collect();
        if self.options.transfer_fees == TransferFees::Dispose {
            if !lost.is_zero() {
                let worth = proportion(value(main), lost, sent);
                let leg = TaxLeg { amount: -lost, ..main.clone() };
                self.dispose(event, &leg, worth, DisposalKind::TransferFee, main.value.is_none());
            }
            for leg in &same_asset_fees {
                self.dispose(event, leg, value(leg), DisposalKind::TransferFee, leg.value.is_none());
            }
        }
        let source = self.pool(event.account_id, &main.asset);
        let (mut lots, short) = source.take(moved);
        if !short.is_zero() {
            // Moved more than was held: the units arrive without basis.
            self.out.shortfalls.entry(main.asset.clone()).and_modify(|s| *s += short).or_insert(short);
            lots.push(self.new_lot(event, event.time_ms, short, Decimal::ZERO, true, false));
            self.gap(event, &main.asset, short);
        }
        match self.options.transfer_fees {
            TransferFees::Dispose => {}
            TransferFees::Carry => {
                let units = lost + same_asset_fees.iter().map(|l| l.amount.abs()).sum::<Decimal>();
                if !units.is_zero() {
                    let (fee_lots, fee_short) = self.pool(event.account_id, &main.asset).take(units);
                    if !fee_short.is_zero() {
                        self.out
                            .shortfalls
                            .entry(main.asset.clone())
                            .and_modify(|s| *s += fee_short)
                            .or_insert(fee_short);
                    }
                    let basis: Decimal = fee_lots.iter().map(|l| l.basis).sum();
                    let weights: Vec<Decimal> = lots.iter().map(|l| l.amount).collect();
                    for (lot, extra) in lots.iter_mut().zip(share(basis, &weights)) {
                        lot.basis += extra;
                        lot.rank = unit_basis(lot.amount, lot.basis);
                    }
                }
            }
        }
        if !self.landed_first.remove(&plan.deposit) {
            self.in_flight.insert(plan.deposit, (plan.to_account, main.asset.clone(), moved));
        }
        let to = self.pool(plan.to_account, &main.asset);
        for lot in lots {
            to.put(Lot { moved: true, ..lot });
        }
        for leg in event.legs.iter().filter(|l| l.role == LegRole::Fee && l.asset != main.asset && !is_fiat(&l.asset)) {
            self.dispose(event, leg, value(leg), DisposalKind::Fee, leg.value.is_none());
        }
    }

    fn transfer_in(&mut self, event: &TaxEvent) {
        // The lots came with the withdrawal; more arriving than left (a link made by hand)
        // arrives without basis.
        if self.in_flight.remove(&event.id).is_none() {
            self.landed_first.insert(event.id);
        }
        for leg in event.legs.iter().filter(|l| l.role == LegRole::Received && !is_fiat(&l.asset)) {
            let moved = self.incoming.get(&event.id).copied().unwrap_or(leg.amount);
            let extra = leg.amount - moved.min(leg.amount);
            if !extra.is_zero() {
                self.acquire(event, &leg.asset, extra, Decimal::ZERO, true, false);
            }
        }
        self.fees(event);
    }

    /// Crypto arriving without a price paid (missing basis) or leaving without a sale.
    fn move_unpriced(&mut self, event: &TaxEvent) {
        for leg in event.legs.iter().filter(|l| !is_fiat(&l.asset)) {
            match leg.role {
                LegRole::Received => self.acquire(event, &leg.asset, leg.amount, Decimal::ZERO, true, false),
                LegRole::Sent => self.remove(event, leg),
                LegRole::Fee => {}
            }
        }
        self.fees(event);
    }

    fn new_lot(
        &mut self,
        event: &TaxEvent,
        acquired_ms: i64,
        amount: Decimal,
        basis: Decimal,
        basis_missing: bool,
        price_missing: bool,
    ) -> Lot {
        self.next_lot += 1;
        Lot {
            id: self.next_lot,
            event_id: event.id,
            acquired_ms,
            amount,
            basis,
            basis_missing,
            price_missing,
            origin_account: event.account_id,
            moved: false,
            rank: Decimal::ZERO,
        }
        .reranked()
    }

    fn gap(&mut self, event: &TaxEvent, asset: &str, amount: Decimal) {
        self.out.basis_gaps.push(BasisGap {
            event_id: event.id,
            account_id: event.account_id,
            kind: event.kind,
            asset: asset.to_owned(),
            amount,
        });
    }

    fn acquire(
        &mut self,
        event: &TaxEvent,
        asset: &str,
        amount: Decimal,
        basis: Decimal,
        basis_missing: bool,
        price_missing: bool,
    ) {
        if amount.is_zero() {
            return;
        }
        if basis_missing {
            self.gap(event, asset, amount);
        }
        self.out.acquired_basis += basis;
        let lot = self.new_lot(event, event.time_ms, amount, basis, basis_missing, price_missing);
        self.pool(event.account_id, asset).put(lot);
    }

    fn remove(&mut self, event: &TaxEvent, leg: &TaxLeg) {
        let (lots, short) = self.pool(event.account_id, &leg.asset).take(leg.amount.abs());
        if !short.is_zero() {
            self.out.shortfalls.entry(leg.asset.clone()).and_modify(|s| *s += short).or_insert(short);
        }
        self.out.removals.push(Removal {
            event_id: event.id,
            asset: leg.asset.clone(),
            amount: lots.iter().map(|l| l.amount).sum(),
            cost_basis: lots.iter().map(|l| l.basis).sum(),
        });
    }

    /// Disposes of |leg.amount| units for `proceeds`, one row per lot fragment.
    fn dispose(&mut self, event: &TaxEvent, leg: &TaxLeg, proceeds: Decimal, kind: DisposalKind, price_missing: bool) {
        let amount = leg.amount.abs();
        if amount.is_zero() {
            return;
        }
        let (mut lots, short) = self.pool(event.account_id, &leg.asset).take(amount);
        if !short.is_zero() {
            self.out.shortfalls.entry(leg.asset.clone()).and_modify(|s| *s += short).or_insert(short);
            let mut lot = self.new_lot(event, event.time_ms, short, Decimal::ZERO, true, false);
            lot.event_id = 0;
            // Units never seen arriving: not units the broker saw bought there.
            lot.moved = true;
            lots.push(lot);
        }
        let weights: Vec<Decimal> = lots.iter().map(|l| l.amount).collect();
        let keep = self.in_year(event.time_ms);
        for (lot, part) in lots.into_iter().zip(share(proceeds, &weights)) {
            self.out.disposed_basis += lot.basis;
            if keep {
                self.out.disposals.push(Disposal {
                    event_id: event.id,
                    account_id: event.account_id,
                    kind,
                    asset: leg.asset.clone(),
                    amount: lot.amount,
                    acquired_ms: lot.acquired_ms,
                    disposed_ms: event.time_ms,
                    proceeds: part,
                    cost_basis: lot.basis,
                    term: term(self.zone, lot.acquired_ms, event.time_ms),
                    lot_event_id: (lot.event_id != 0).then_some(lot.event_id),
                    basis_missing: lot.basis_missing,
                    price_missing: price_missing || lot.price_missing,
                    acquired_here: lot.origin_account == event.account_id && !lot.moved,
                });
            }
        }
    }

    /// Ends the computation: the lots still held become the holdings.
    pub fn finish(mut self) -> Computation {
        if let Some(year) = self.options.year {
            self.reseat_if_due(year);
        }
        self.out.holdings = self.holdings();
        self.out
    }

    /// The US transition when the year `year` ends on or after 1 January 2025 and no event
    /// has re-seated the basis yet (a year with no event of its own).
    fn reseat_if_due(&mut self, year: i32) {
        if self.options.tracking == Tracking::Us && !self.per_wallet && year >= 2025 {
            self.reseat_per_wallet();
        }
    }

    /// The lots held now, as holdings (wallet, then asset, then the method's order).
    fn holdings(&self) -> Vec<Holding> {
        let mut holdings = Vec::new();
        for (account, asset, pool) in self.pools.iter().flat_map(|(w, pools)| pools.iter().map(move |(a, p)| (w, a, p)))
        {
            for lot in pool.lots() {
                holdings.push(Holding {
                    lot_event_id: lot.event_id,
                    account_id: *account,
                    asset: asset.clone(),
                    amount: lot.amount,
                    acquired_ms: lot.acquired_ms,
                    cost_basis: lot.basis,
                    basis_missing: lot.basis_missing,
                });
            }
        }
        holdings
    }

    /// Ends tax year `year` in a computation of several years (every event before its end
    /// applied, none after): its disposals and income, the holdings at its end and the
    /// all-time figures so far — what [`Engine::finish`] gives for a computation of `year`
    /// alone. The engine goes on with the next year.
    pub fn close_year(&mut self, year: i32) -> Computation {
        self.reseat_if_due(year);
        self.close_period(self.zone.year_start_ms(year + 1))
    }

    /// Ends a period of a computation of several (a country's tax year: Germany's calendar
    /// year in Berlin time, Australia's financial year): its disposals and income since the
    /// last close, the holdings now and the all-time figures so far; disposals and income are
    /// kept from `keep_from_ms` on (`i64::MIN`: all of them) as [`Engine::keeping_from`] does.
    pub fn close_period(&mut self, keep_from_ms: i64) -> Computation {
        self.year_start_ms = keep_from_ms;
        Computation {
            disposals: std::mem::take(&mut self.out.disposals),
            income: std::mem::take(&mut self.out.income),
            holdings: self.holdings(),
            removals: self.out.removals.clone(),
            basis_gaps: self.out.basis_gaps.clone(),
            negatives: self.out.negatives.clone(),
            acquired_basis: self.out.acquired_basis,
            disposed_basis: self.out.disposed_basis,
            shortfalls: self.out.shortfalls.clone(),
        }
    }
}

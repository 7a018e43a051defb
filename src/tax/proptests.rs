//! Properties over random histories: basis and units are neither created nor lost, and when
//! everything bought is sold within the year the method changes which lots go first but not
//! the year's total gain.

use std::collections::BTreeMap;

use cointally_exchanges::{EventKind, LegRole};
use proptest::prelude::*;
use rust_decimal::Decimal;

use super::engine::{Computation, Engine, TransferPlan};
use super::{Method, Options, Tracking, TransferFees};
use crate::ledger::{TaxEvent, TaxLeg};

const ASSETS: [&str; 2] = ["BTC", "ETH"];
const ACCOUNTS: [i64; 3] = [1, 2, 3];
/// 2024-01-01T00:00:00Z.
const START_MS: i64 = 1_704_067_200_000;
const HOUR_MS: i64 = 3_600_000;

/// One step of a random history; amounts are in 1/10,000 units, fractions in per cent.
#[derive(Debug, Clone)]
enum Step {
    Buy { account: usize, asset: usize, units: i64, price: i64, fee: i64 },
    Sell { account: usize, asset: usize, percent: i64, price: i64 },
    Swap { account: usize, asset: usize, percent: i64, price: i64, fee_percent: i64 },
    Stake { account: usize, asset: usize, units: i64, price: i64 },
    Move { from: usize, to: usize, asset: usize, percent: i64, lost_per_mille: i64 },
    Gift { account: usize, asset: usize, percent: i64 },
}

fn step() -> impl Strategy<Value = Step> {
    let a = 0..ACCOUNTS.len();
    let s = 0..ASSETS.len();
    prop_oneof![
        (a.clone(), s.clone(), 1..100_000i64, 1..90_000i64, 0..50i64)
            .prop_map(|(account, asset, units, price, fee)| Step::Buy { account, asset, units, price, fee }),
        (a.clone(), s.clone(), 1..=100i64, 1..90_000i64).prop_map(|(account, asset, percent, price)| Step::Sell {
            account,
            asset,
            percent,
            price
        }),
        (a.clone(), s.clone(), 1..=100i64, 1..90_000i64, 0..3i64).prop_map(
            |(account, asset, percent, price, fee_percent)| Step::Swap { account, asset, percent, price, fee_percent }
        ),
        (a.clone(), s.clone(), 1..1_000i64, 1..90_000i64).prop_map(|(account, asset, units, price)| Step::Stake {
            account,
            asset,
            units,
            price
        }),
        (a.clone(), a.clone(), s.clone(), 1..=100i64, 0..20i64).prop_map(
            |(from, to, asset, percent, lost_per_mille)| { Step::Move { from, to, asset, percent, lost_per_mille } }
        ),
        (a, s, 1..=100i64).prop_map(|(account, asset, percent)| Step::Gift { account, asset, percent }),
    ]
}

fn leg(role: LegRole, asset: &str, amount: Decimal, value: Decimal) -> TaxLeg {
    let amount = if role == LegRole::Received { amount } else { -amount };
    TaxLeg { seq: 0, role, asset: asset.into(), amount, value: Some(value) }
}

/// Turns steps into events that never dispose of more than an account holds; with
/// `sell_all`, ends by selling every account's every holding.
fn history(steps: &[Step], sell_all: bool) -> (Vec<TaxEvent>, Vec<TransferPlan>) {
    let mut held: BTreeMap<(i64, &str), Decimal> = BTreeMap::new();
    let mut events = Vec::new();
    let mut transfers = Vec::new();
    let push = |events: &mut Vec<TaxEvent>, account: i64, kind: EventKind, legs: Vec<TaxLeg>| {
        let id = events.len() as i64 + 1;
        let legs = legs.into_iter().enumerate().map(|(i, l)| TaxLeg { seq: i as i64, ..l }).collect();
        events.push(TaxEvent { id, account_id: account, kind, time_ms: START_MS + id * HOUR_MS, basis: None, legs });
        id
    };
    let part = |amount: Decimal, percent: i64| (amount * Decimal::new(percent, 2)).round_dp(8);
    for s in steps {
        match *s {
            Step::Buy { account, asset, units, price, fee } => {
                let (account, asset) = (ACCOUNTS[account], ASSETS[asset]);
                let units = Decimal::new(units, 4);
                let cost = units * Decimal::from(price);
                let mut legs = vec![leg(LegRole::Sent, "USD", cost, cost), leg(LegRole::Received, asset, units, cost)];
                if fee > 0 {
                    legs.push(leg(LegRole::Fee, "USD", Decimal::from(fee), Decimal::from(fee)));
                }
                push(&mut events, account, EventKind::Trade, legs);
                *held.entry((account, asset)).or_default() += units;
            }
            Step::Sell { account, asset, percent, price } => {
                let (account, asset) = (ACCOUNTS[account], ASSETS[asset]);
                let units = part(held.get(&(account, asset)).copied().unwrap_or_default(), percent);
                if units.is_zero() {
                    continue;
                }
                let worth = units * Decimal::from(price);
                push(
                    &mut events,
                    account,
                    EventKind::Trade,
                    vec![leg(LegRole::Sent, asset, units, worth), leg(LegRole::Received, "USD", worth, worth)],
                );
                *held.entry((account, asset)).or_default() -= units;
            }
            Step::Swap { account, asset, percent, price, fee_percent } => {
                let (account, from, to) = (ACCOUNTS[account], ASSETS[asset], ASSETS[1 - asset]);
                let units = part(held.get(&(account, from)).copied().unwrap_or_default(), percent);
                if units.is_zero() {
                    continue;
                }
                let worth = units * Decimal::from(price);
                let got = (units * Decimal::new(3, 1)).round_dp(8);
                let fee = part(got, fee_percent);
                let mut legs = vec![leg(LegRole::Sent, from, units, worth), leg(LegRole::Received, to, got, worth)];
                if !fee.is_zero() {
                    legs.push(leg(LegRole::Fee, to, fee, part(worth, fee_percent)));
                }
                push(&mut events, account, EventKind::Trade, legs);
                *held.entry((account, from)).or_default() -= units;
                // The fee is paid from what arrived.
                *held.entry((account, to)).or_default() += got - fee;
            }
            Step::Stake { account, asset, units, price } => {
                let (account, asset) = (ACCOUNTS[account], ASSETS[asset]);
                let units = Decimal::new(units, 4);
                let worth = units * Decimal::from(price);
                push(&mut events, account, EventKind::Staking, vec![leg(LegRole::Received, asset, units, worth)]);
                *held.entry((account, asset)).or_default() += units;
            }
            Step::Move { from, to, asset, percent, lost_per_mille } => {
                let (from, to, asset) = (ACCOUNTS[from], ACCOUNTS[to], ASSETS[asset]);
                let units = part(held.get(&(from, asset)).copied().unwrap_or_default(), percent);
                if units.is_zero() || from == to {
                    continue;
                }
                let arrived = units - (units * Decimal::new(lost_per_mille, 3)).round_dp(8);
                let w = push(&mut events, from, EventKind::Withdrawal, vec![leg(LegRole::Sent, asset, units, units)]);
                let d =
                    push(&mut events, to, EventKind::Deposit, vec![leg(LegRole::Received, asset, arrived, arrived)]);
                transfers.push(TransferPlan {
                    withdrawal: w,
                    deposit: d,
                    to_account: to,
                    sent: units,
                    received: arrived,
                });
                *held.entry((from, asset)).or_default() -= units;
                *held.entry((to, asset)).or_default() += arrived;
            }
            Step::Gift { .. } if sell_all => {}
            Step::Gift { account, asset, percent } => {
                let (account, asset) = (ACCOUNTS[account], ASSETS[asset]);
                let units = part(held.get(&(account, asset)).copied().unwrap_or_default(), percent);
                if units.is_zero() {
                    continue;
                }
                push(&mut events, account, EventKind::Gift, vec![leg(LegRole::Sent, asset, units, units)]);
                *held.entry((account, asset)).or_default() -= units;
            }
        }
    }
    if sell_all {
        for ((account, asset), units) in held.clone() {
            if units > Decimal::ZERO {
                let worth = units * Decimal::from(1_000);
                push(
                    &mut events,
                    account,
                    EventKind::Trade,
                    vec![leg(LegRole::Sent, asset, units, worth), leg(LegRole::Received, "USD", worth, worth)],
                );
            }
        }
    }
    (events, transfers)
}

fn run(events: &[TaxEvent], transfers: &[TransferPlan], options: Options) -> Computation {
    let labels = ACCOUNTS.iter().map(|a| (*a, format!("w{a}"))).collect();
    let mut engine = Engine::new(options, transfers, labels);
    for e in events {
        engine.process(e);
    }
    engine.finish()
}

fn methods() -> impl Strategy<Value = Method> {
    prop_oneof![Just(Method::Fifo), Just(Method::Lifo), Just(Method::Hifo), Just(Method::Lofo)]
}

fn trackings() -> impl Strategy<Value = Tracking> {
    prop_oneof![Just(Tracking::Universal), Just(Tracking::PerWallet)]
}

/// Decimal keeps 28 significant digits: a lot split into a part with a long fraction may
/// round the part by less than this.
fn close(a: Decimal, b: Decimal) -> bool {
    (a - b).abs() <= Decimal::new(1, 12)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn basis_and_units_are_conserved(
        steps in prop::collection::vec(step(), 1..60),
        method in methods(),
        tracking in trackings(),
    ) {
        let (events, transfers) = history(&steps, false);
        let options = Options { method, tracking, transfer_fees: TransferFees::Dispose, year: None, what_if: false };
        let c = run(&events, &transfers, options);
        prop_assert!(c.shortfalls.is_empty(), "the history never disposes of more than is held: {:?}", c.shortfalls);
        prop_assert!(c.negatives.is_empty());
        let held: Decimal = c.holdings.iter().map(|h| h.cost_basis).sum();
        let removed: Decimal = c.removals.iter().map(|r| r.cost_basis).sum();
        let disposed: Decimal = c.disposals.iter().map(|d| d.cost_basis).sum();
        prop_assert_eq!(disposed, c.disposed_basis);
        prop_assert!(close(disposed + held + removed, c.acquired_basis),
            "disposed {} + held {} + removed {} != acquired {}", disposed, held, removed, c.acquired_basis);
        for asset in ASSETS {
            let arrived: Decimal = events.iter().flat_map(|e| &e.legs)
                .filter(|l| l.asset == asset && l.amount > Decimal::ZERO).map(|l| l.amount).sum();
            let moved_in: Decimal = transfers.iter().filter(|t| events[t.deposit as usize - 1].legs[0].asset == asset)
                .map(|t| t.received).sum();
            let out: Decimal = c.disposals.iter().filter(|d| d.asset == asset).map(|d| d.amount).sum::<Decimal>()
                + c.holdings.iter().filter(|h| h.asset == asset).map(|h| h.amount).sum::<Decimal>()
                + c.removals.iter().filter(|r| r.asset == asset).map(|r| r.amount).sum::<Decimal>();
            // Units that arrived by a transfer were already counted when first acquired.
            prop_assert_eq!(arrived - moved_in, out, "{}", asset);
        }
    }

    #[test]
    fn every_method_gives_the_same_total_gain_when_everything_is_sold(
        steps in prop::collection::vec(step(), 1..60),
        tracking in trackings(),
    ) {
        let (events, transfers) = history(&steps, true);
        let mut gains = Vec::new();
        for method in [Method::Fifo, Method::Lifo, Method::Hifo, Method::Lofo] {
            let options = Options { method, tracking, transfer_fees: TransferFees::Dispose, year: Some(2024), what_if: false };
            let c = run(&events, &transfers, options);
            prop_assert!(c.holdings.iter().all(|h| h.amount.is_zero()), "all sold: {:?}", c.holdings);
            gains.push(c.disposals.iter().map(|d| d.gain()).sum::<Decimal>());
        }
        for g in &gains[1..] {
            prop_assert!(close(*g, gains[0]), "{:?}", gains);
        }
    }
}

//! Properties of the German computation over random histories of one token in two wallets
//! with own transfers between them: a disposal held more than one year is never a private
//! sale; FIFO order holds within each wallet (each sale uses its wallet's oldest lots first);
//! the Freigrenze gives either nothing or the whole net gain; the rows' gains add up to the
//! reported totals.

use std::collections::BTreeMap;

use proptest::prelude::*;
use rust_decimal::Decimal;

use super::day::{berlin_date, period_end};
use super::year::{figures, private_sales_limit};
use super::{DeComputed, compute_events};
use crate::ledger::{TaxEvent, TaxLeg};
use crate::tax::engine::TransferPlan;
use cointally_exchanges::{EventKind, LegRole};

const DAY_MS: i64 = 86_400_000;
/// 2022-01-01T10:00:00Z.
const START_MS: i64 = 1_641_031_200_000;

/// One step: hours after the previous step, the wallet, then what happens (units in 1/1,000).
#[derive(Debug, Clone)]
enum Step {
    Buy { gap: i64, wallet: i64, units: i64, euros: i64 },
    Sell { gap: i64, wallet: i64, units: i64, euros: i64 },
    Stake { gap: i64, wallet: i64, units: i64, euros: i64 },
    Move { gap: i64, wallet: i64, units: i64 },
}

fn step() -> impl Strategy<Value = Step> {
    let gap = 0..(40 * 24i64);
    prop_oneof![
        (gap.clone(), 1..3i64, 1..5_000i64, 0..9_000i64).prop_map(|(gap, wallet, units, euros)| Step::Buy {
            gap,
            wallet,
            units,
            euros
        }),
        (gap.clone(), 1..3i64, 1..5_000i64, 0..9_000i64).prop_map(|(gap, wallet, units, euros)| Step::Sell {
            gap,
            wallet,
            units,
            euros
        }),
        (gap.clone(), 1..3i64, 1..500i64, 0..900i64).prop_map(|(gap, wallet, units, euros)| Step::Stake {
            gap,
            wallet,
            units,
            euros
        }),
        (gap, 1..3i64, 1..3_000i64).prop_map(|(gap, wallet, units)| Step::Move { gap, wallet, units }),
    ]
}

fn leg(role: LegRole, asset: &str, amount: Decimal, value: Decimal) -> TaxLeg {
    TaxLeg { seq: 0, role, asset: asset.into(), amount, value: Some(value) }
}

/// The events and own transfers of a history.
fn history(steps: &[Step]) -> (Vec<TaxEvent>, Vec<TransferPlan>) {
    let milli = |n: i64| Decimal::new(n, 3);
    let mut time_ms = START_MS;
    let mut events = Vec::new();
    let mut transfers = Vec::new();
    let mut id = 0;
    for s in steps {
        id += 1;
        let (gap, wallet, kind, legs) = match *s {
            Step::Buy { gap, wallet, units, euros } => {
                let e = Decimal::from(euros);
                (
                    gap,
                    wallet,
                    EventKind::Trade,
                    vec![leg(LegRole::Sent, "EUR", -e, e), leg(LegRole::Received, "BTC", milli(units), e)],
                )
            }
            Step::Sell { gap, wallet, units, euros } => {
                let e = Decimal::from(euros);
                (
                    gap,
                    wallet,
                    EventKind::Trade,
                    vec![leg(LegRole::Sent, "BTC", -milli(units), e), leg(LegRole::Received, "EUR", e, e)],
                )
            }
            Step::Stake { gap, wallet, units, euros } => (
                gap,
                wallet,
                EventKind::Staking,
                vec![leg(LegRole::Received, "BTC", milli(units), Decimal::from(euros))],
            ),
            Step::Move { gap, wallet, units } => {
                time_ms += gap * 3_600_000;
                let to = 3 - wallet;
                let sent = milli(units);
                let out = vec![leg(LegRole::Sent, "BTC", -sent, Decimal::ZERO)];
                events.push(TaxEvent {
                    id,
                    account_id: wallet,
                    kind: EventKind::Withdrawal,
                    time_ms,
                    basis: None,
                    legs: out,
                });
                let arrived = vec![TaxLeg { seq: 0, ..leg(LegRole::Received, "BTC", sent, Decimal::ZERO) }];
                events.push(TaxEvent {
                    id: id + 1,
                    account_id: to,
                    kind: EventKind::Deposit,
                    time_ms: time_ms + 1,
                    basis: None,
                    legs: arrived,
                });
                transfers.push(TransferPlan { withdrawal: id, deposit: id + 1, to_account: to, sent, received: sent });
                id += 1;
                continue;
            }
        };
        time_ms += gap * 3_600_000;
        let legs = legs.into_iter().enumerate().map(|(i, l)| TaxLeg { seq: i as i64, ..l }).collect();
        events.push(TaxEvent { id, account_id: wallet, kind, time_ms, basis: None, legs });
    }
    (events, transfers)
}

fn year_of(events: &[TaxEvent]) -> i32 {
    use chrono::Datelike;
    events.last().map(|e| berlin_date(e.time_ms - 200 * DAY_MS).year()).unwrap_or(2022)
}

/// Equal but for the last of `Decimal`'s 28 digits (sums taken in another order).
fn near(a: Decimal, b: Decimal) -> bool {
    (a - b).abs() < Decimal::new(1, 18)
}

/// Adjacent pieces of the same acquisition time as one.
fn merged(pieces: Vec<(i64, Decimal)>) -> Vec<(i64, Decimal)> {
    let mut out: Vec<(i64, Decimal)> = Vec::new();
    for (acquired, units) in pieces {
        match out.last_mut() {
            Some(last) if last.0 == acquired => last.1 += units,
            _ => out.push((acquired, units)),
        }
    }
    out
}

/// A plain model of FIFO per wallet: each wallet a list of (acquired, units) kept in
/// acquisition order; a sale takes from the front; a transfer moves pieces with their dates.
/// Returns, per sale in `year`, the pieces it took.
fn fifo_model(events: &[TaxEvent], transfers: &[TransferPlan], year: i32) -> BTreeMap<i64, Vec<(i64, Decimal)>> {
    use crate::tax::jurisdiction::Rules;
    let y = super::DeRules.tax_year(year);
    let mut wallets: BTreeMap<i64, Vec<(i64, Decimal)>> = BTreeMap::new();
    let mut out = BTreeMap::new();
    let take = |queue: &mut Vec<(i64, Decimal)>, mut need: Decimal, now: i64| {
        let mut taken = Vec::new();
        while need > Decimal::ZERO {
            let Some(first) = queue.first_mut() else {
                taken.push((now, need));
                break;
            };
            let part = first.1.min(need);
            taken.push((first.0, part));
            first.1 -= part;
            need -= part;
            if first.1.is_zero() {
                queue.remove(0);
            }
        }
        taken
    };
    for e in events.iter().filter(|e| e.time_ms < y.end_ms) {
        let queue = wallets.entry(e.account_id).or_default();
        let units = e.legs.iter().find(|l| l.asset == "BTC").map(|l| l.amount).unwrap_or_default();
        match e.kind {
            EventKind::Trade if units < Decimal::ZERO => {
                let taken = take(queue, -units, e.time_ms);
                if e.time_ms >= y.start_ms {
                    out.insert(e.id, merged(taken));
                }
            }
            EventKind::Withdrawal => {
                let taken = take(queue, -units, e.time_ms);
                let to = transfers.iter().find(|t| t.withdrawal == e.id).map(|t| t.to_account).unwrap_or_default();
                let dest = wallets.entry(to).or_default();
                dest.extend(taken);
                dest.sort_by_key(|p| p.0);
            }
            EventKind::Deposit => {}
            _ => {
                queue.push((e.time_ms, units));
                queue.sort_by_key(|p| p.0);
            }
        }
    }
    out
}

fn computed(steps: &[Step]) -> (DeComputed, i32) {
    let (events, transfers) = history(steps);
    let year = year_of(&events);
    (compute_events(year, &transfers, &events), year)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn a_disposal_held_more_than_one_year_is_never_a_private_sale(steps in prop::collection::vec(step(), 1..50)) {
        let (c, year) = computed(&steps);
        let f = figures(year, &c.disposals, &c.income);
        let mut private = Decimal::ZERO;
        for r in &c.disposals {
            let over = berlin_date(r.row.disposed_ms) > period_end(berlin_date(r.row.acquired_ms));
            prop_assert_eq!(r.held_more_than_one_year, over);
            if !over {
                private += r.gain();
            }
        }
        prop_assert!(near(f.private_sales.net(), private));
    }

    #[test]
    fn each_wallet_sells_its_oldest_lots_first(steps in prop::collection::vec(step(), 1..50)) {
        let (events, transfers) = history(&steps);
        let year = year_of(&events);
        let c = compute_events(year, &transfers, &events);
        let want = fifo_model(&events, &transfers, year);
        let mut got: BTreeMap<i64, Vec<(i64, Decimal)>> = BTreeMap::new();
        for r in &c.disposals {
            got.entry(r.row.event_id).or_default().push((r.row.acquired_ms, r.row.amount));
        }
        let got: BTreeMap<i64, Vec<(i64, Decimal)>> = got.into_iter().map(|(e, p)| (e, merged(p))).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn the_freigrenze_gives_nothing_or_the_whole_net_gain(steps in prop::collection::vec(step(), 1..50)) {
        let (c, year) = computed(&steps);
        let f = figures(year, &c.disposals, &c.income);
        let net = f.private_sales.net();
        let limit = private_sales_limit(year).unwrap();
        let taxable = f.taxable_private_sales.unwrap();
        prop_assert!(taxable.is_zero() || taxable == net);
        prop_assert_eq!(taxable.is_zero(), net < limit);
        prop_assert_eq!(f.loss_to_carry, (-net).max(Decimal::ZERO));
    }

    #[test]
    fn the_rows_add_up_to_the_totals(steps in prop::collection::vec(step(), 1..50)) {
        let (c, year) = computed(&steps);
        let f = figures(year, &c.disposals, &c.income);
        let gains: Decimal = c.disposals.iter().map(|r| r.gain()).sum();
        let proceeds: Decimal = c.disposals.iter().map(|r| r.row.proceeds).sum();
        prop_assert!(near(f.private_sales.net() + f.tax_free.net(), gains));
        prop_assert!(near(f.private_sales.proceeds + f.tax_free.proceeds, proceeds));
        prop_assert_eq!(f.private_sales.rows + f.tax_free.rows, c.disposals.len());
        let income: Decimal = c.income.iter().map(|i| i.value).sum();
        prop_assert_eq!(f.other_services, income);
    }
}

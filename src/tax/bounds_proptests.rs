//! No panic from data in the tax engine: events whose figures sit at or past the bounds (huge
//! and tiny amounts and values, in any kind of event, under every method) are computed or
//! refused with an error naming the event, never a panic.

use std::collections::BTreeMap;

use cointally_exchanges::{EventKind, LegRole};
use proptest::prelude::*;
use rust_decimal::Decimal;

use super::engine::{Engine, TransferPlan, within_bounds};
use super::{Method, Options, Tracking, TransferFees};
use crate::ledger::{TaxEvent, TaxLeg};

/// Figures at the edges: the largest and finest that pass, the first that do not, and
/// `Decimal`'s own extremes.
fn figure() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        Just(Decimal::from_i128_with_scale(99_999_999_999_999_999_999, 0)),
        Just(Decimal::from_i128_with_scale(1, 18)),
        Just(Decimal::from_i128_with_scale(99_999_999_999_999_999_999, 2)),
        Just(Decimal::from_i128_with_scale(100_000_000_000_000_000_000, 0)),
        Just(Decimal::from_i128_with_scale(1, 28)),
        Just(Decimal::MAX),
        Just(Decimal::ZERO),
        (1..1_000_000i64).prop_map(|n| Decimal::new(n, 4)),
    ]
}

fn kind() -> impl Strategy<Value = EventKind> {
    prop_oneof![
        Just(EventKind::Trade),
        Just(EventKind::Conversion),
        Just(EventKind::Deposit),
        Just(EventKind::Withdrawal),
        Just(EventKind::Staking),
        Just(EventKind::Fee),
        Just(EventKind::Gift),
        Just(EventKind::InternalTransfer),
    ]
}

fn leg() -> impl Strategy<Value = (LegRole, usize, bool, Decimal, Option<Decimal>)> {
    (
        prop_oneof![Just(LegRole::Sent), Just(LegRole::Received), Just(LegRole::Fee)],
        0..3usize,
        any::<bool>(),
        figure(),
        prop::option::of(figure()),
    )
}

type RawEvent = (EventKind, usize, Option<Decimal>, Vec<(LegRole, usize, bool, Decimal, Option<Decimal>)>);

fn events() -> impl Strategy<Value = Vec<RawEvent>> {
    prop::collection::vec((kind(), 1..3usize, prop::option::of(figure()), prop::collection::vec(leg(), 1..4)), 1..25)
}

fn build(raw: &[RawEvent]) -> Vec<TaxEvent> {
    const ASSETS: [&str; 3] = ["BTC", "ETH", "USD"];
    raw.iter()
        .enumerate()
        .map(|(i, (kind, account, basis, legs))| TaxEvent {
            id: i as i64 + 1,
            account_id: *account as i64,
            kind: *kind,
            // Across 1 January 2025, so US tracking re-seats lots per wallet mid-history.
            time_ms: 1_733_000_000_000 + i as i64 * 400_000_000,
            basis: *basis,
            legs: legs
                .iter()
                .enumerate()
                .map(|(seq, (role, asset, negative, amount, value))| TaxLeg {
                    seq: seq as i64,
                    role: *role,
                    asset: ASSETS[*asset].to_owned(),
                    amount: if *negative || *role != LegRole::Received { -*amount } else { *amount },
                    value: *value,
                })
                .collect(),
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn huge_or_fine_figures_are_refused_or_computed_never_a_panic(
        raw in events(),
        method in prop_oneof![Just(Method::Fifo), Just(Method::Lifo), Just(Method::Hifo), Just(Method::Lofo)],
        tracking in prop_oneof![Just(Tracking::Universal), Just(Tracking::PerWallet), Just(Tracking::Us)],
        carry in any::<bool>(),
        transfer in any::<bool>(),
    ) {
        let events = build(&raw);
        let transfer_fees = if carry { TransferFees::Carry } else { TransferFees::Dispose };
        let options = Options { method, tracking, transfer_fees, ..Options::us(None) };
        // The first withdrawal and deposit, when both exist, as an own transfer.
        let find = |kind: EventKind| events.iter().find(|e| e.kind == kind);
        let plans: Vec<TransferPlan> = match (transfer, find(EventKind::Withdrawal), find(EventKind::Deposit)) {
            (true, Some(w), Some(d)) => vec![TransferPlan {
                withdrawal: w.id,
                deposit: d.id,
                to_account: d.account_id,
                sent: w.legs[0].amount.abs(),
                received: d.legs[0].amount.abs(),
            }],
            _ => Vec::new(),
        };
        let mut engine = Engine::new(options, &plans, BTreeMap::from([(1, "a".into()), (2, "b".into())]));
        for event in &events {
            let admitted = engine.try_process(event);
            prop_assert_eq!(admitted.is_ok(), within_bounds(event).is_ok());
            if let Err(error) = admitted {
                prop_assert!(error.to_string().starts_with(&format!("event {},", event.id)), "{}", error);
                let bound = Decimal::from_i128_with_scale(100_000_000_000_000_000_000, 0);
                let too_large = event.legs.iter().any(|l| {
                    l.amount.abs() >= bound
                        || l.value.is_some_and(|v| v.abs() >= bound)
                        || l.amount.normalize().scale() > 18
                }) || event.basis.is_some_and(|b| b.abs() >= bound);
                prop_assert!(too_large, "refused an event within bounds: {:?}", event);
            }
        }
        let computation = engine.finish();
        let labels = BTreeMap::from([(1, "a".to_owned()), (2, "b".to_owned())]);
        let report = super::report::Report::new(2025, "USD", options, &computation, &labels, "");
        let _ = report.to_json();
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]
    /// The whole of a total is the total. Where the product `total × part` fits 28 digits
    /// and 28 decimal places, the multiplication and division gave exactly the total before
    /// the shortcut; a product rounded to fit gave a neighbour of it (0.00782747801 ×
    /// 0.000000026938814431 has 29 places: the quotient came back as 0.00782747800999…96;
    /// 1e-28 × 1e-28 gave 0), and the shortcut's is the exact one.
    #[test]
    fn a_proportion_of_the_whole_is_the_total(
        total in (0i64..100_000_000_000_000, 0u32..=10).prop_map(|(n, k)| Decimal::new(n, k)),
        whole in (1i64..1_000_000_000_000, 0u32..=16).prop_map(|(n, k)| Decimal::new(n, k)),
        scale in 0u32..=2,
    ) {
        // At most 28 places in the product (10 + 16 + 2) and 28 digits (14 + 12 + 2).
        let mut part = whole;
        part.rescale(whole.scale() + scale);
        let general = total.checked_mul(part).and_then(|x| x.checked_div(whole)).unwrap_or(total);
        prop_assert_eq!(super::engine::proportion(total, part, whole), total);
        prop_assert_eq!(general, total);
    }
}

/// The neighbour the multiplication and division gave where the product needs 29 places (found
/// by the property above when its ranges were wider): the shortcut gives the total itself.
#[test]
fn a_proportion_of_the_whole_past_28_places_is_the_total_not_its_neighbour() {
    let (total, whole): (Decimal, Decimal) =
        ("0.00782747801".parse().unwrap(), "0.000000026938814431".parse().unwrap());
    let general = total.checked_mul(whole).and_then(|x| x.checked_div(whole)).unwrap();
    assert_eq!(general, "0.0078274780099999999996287884".parse::<Decimal>().unwrap());
    assert_eq!(super::engine::proportion(total, whole, whole), total);
}

//! The German rules through the lot engine, on small histories with hand-computed figures.
//!
//! No example with figures from the BMF letters themselves was available to this session
//! (README, Germany: what could not be verified). The examples used:
//! - the FIFO illustration of `methods.md` §4 (a third party's): 2 BTC bought at €250 on
//!   15 August 2017 and 2 at €400 on 21 December 2017, 3 sold at €900 on 26 November 2018:
//!   the two August units are held more than a year (gain €1,300, tax-free), the December unit
//!   is not (gain €500, a private sale, below the €600 Freigrenze of 2018: not taxable);
//! - § 188 BGB's counting as `methods.md` states it: bought 10 January 2024, sold 10 January
//!   2025 is within the year, 11 January 2025 is not;
//! - § 23 Abs. 3 Satz 5 EStG's "weniger als": a net gain of exactly the limit is all taxable.

use chrono::DateTime;
use cointally_exchanges::{EventKind, LegRole};
use rust_decimal::Decimal;

use super::{DeComputed, DeRules, compute_events, year};
use crate::ledger::{TaxEvent, TaxLeg};
use crate::tax::engine::TransferPlan;
use crate::tax::jurisdiction::Rules;

fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

/// An instant: a date (noon UTC) or an RFC 3339 time.
fn at(when: &str) -> i64 {
    let text = if when.len() == 10 { format!("{when}T12:00:00Z") } else { when.to_owned() };
    DateTime::parse_from_rfc3339(&text).unwrap().timestamp_millis()
}

fn leg(role: LegRole, asset: &str, amount: &str, value: &str) -> TaxLeg {
    TaxLeg { seq: 0, role, asset: asset.into(), amount: d(amount), value: Some(d(value)) }
}

fn event(id: i64, account_id: i64, kind: EventKind, when: &str, legs: Vec<TaxLeg>) -> TaxEvent {
    let legs = legs.into_iter().enumerate().map(|(i, l)| TaxLeg { seq: i as i64, ..l }).collect();
    TaxEvent { id, account_id, kind, time_ms: at(when), basis: None, legs }
}

/// Wallet `account` buys `units` of `asset` for `euros`.
fn buy(id: i64, account: i64, when: &str, asset: &str, units: &str, euros: &str) -> TaxEvent {
    let legs =
        vec![leg(LegRole::Sent, "EUR", &format!("-{euros}"), euros), leg(LegRole::Received, asset, units, euros)];
    event(id, account, EventKind::Trade, when, legs)
}

/// Wallet `account` sells `units` of `asset` for `euros`.
fn sell(id: i64, account: i64, when: &str, asset: &str, units: &str, euros: &str) -> TaxEvent {
    let legs =
        vec![leg(LegRole::Sent, asset, &format!("-{units}"), euros), leg(LegRole::Received, "EUR", euros, euros)];
    event(id, account, EventKind::Trade, when, legs)
}

/// The year's rows as (asset, units, acquired date, proceeds, cost, held more than a year).
fn rows(c: &DeComputed) -> Vec<(String, Decimal, String, Decimal, Decimal, bool)> {
    c.disposals
        .iter()
        .map(|r| {
            let acquired = super::day::berlin_date(r.row.acquired_ms).to_string();
            (r.row.asset.clone(), r.row.amount, acquired, r.row.proceeds, r.row.cost_basis, r.held_more_than_one_year)
        })
        .collect()
}

fn row(
    asset: &str,
    units: &str,
    acquired: &str,
    proceeds: &str,
    cost: &str,
    free: bool,
) -> (String, Decimal, String, Decimal, Decimal, bool) {
    (asset.into(), d(units), acquired.into(), d(proceeds), d(cost), free)
}

/// methods.md §4's FIFO illustration (third party): €1,300 tax-free, €500 a private sale,
/// under the €600 Freigrenze of 2018.
#[test]
fn fifo_illustration_two_lots_one_held_over_a_year() {
    let events = [
        buy(1, 1, "2017-08-15", "BTC", "2", "500"),
        buy(2, 1, "2017-12-21", "BTC", "2", "800"),
        sell(3, 1, "2018-11-26", "BTC", "3", "2700"),
    ];
    let c = compute_events(2018, &[], &events);
    assert_eq!(
        rows(&c),
        [row("BTC", "2", "2017-08-15", "1800", "500", true), row("BTC", "1", "2017-12-21", "900", "400", false)]
    );
    let f = year::figures(2018, &c.disposals, &c.income);
    assert_eq!((f.tax_free.net(), f.private_sales.net()), (d("1300"), d("500")));
    assert_eq!((f.private_sales_limit, f.taxable_private_sales), (Some(d("600")), Some(Decimal::ZERO)));
}

/// § 188 Abs. 2 BGB: bought 10 January 2024; sold 10 January 2025 is a private sale, sold
/// 11 January 2025 is not.
#[test]
fn the_year_ends_on_the_anniversary_and_the_day_after_is_free() {
    let events = [
        buy(1, 1, "2024-01-10", "ETH", "2", "4000"),
        sell(2, 1, "2025-01-10", "ETH", "1", "3000"),
        sell(3, 1, "2025-01-11", "ETH", "1", "3000"),
    ];
    let c = compute_events(2025, &[], &events);
    let free: Vec<bool> = c.disposals.iter().map(|r| r.held_more_than_one_year).collect();
    assert_eq!(free, [false, true]);
}

/// FIFO is kept per wallet (depotbezogen): a sale in wallet 2 uses wallet 2's own lot, not
/// wallet 1's older one — here the difference between a private sale and a tax-free one.
#[test]
fn fifo_is_per_wallet() {
    let events = [
        buy(1, 1, "2022-01-01", "BTC", "1", "30000"),
        buy(2, 2, "2024-01-01", "BTC", "1", "40000"),
        sell(3, 2, "2024-06-01", "BTC", "1", "60000"),
    ];
    let c = compute_events(2024, &[], &events);
    assert_eq!(rows(&c), [row("BTC", "1", "2024-01-01", "60000", "40000", false)]);
    assert_eq!(c.disposals[0].row.account_id, 2);
    // Wallet 1 still holds its 2022 lot.
    let held: Vec<(Option<i64>, Decimal)> = c.holdings.iter().map(|h| (h.account_id, h.cost_basis)).collect();
    assert_eq!(held, [(Some(1), d("30000"))]);
}

/// An own transfer is no sale and no acquisition: the lot arrives with its date and cost, so
/// a sale from the receiving wallet 13 months after the purchase is tax-free.
#[test]
fn an_own_transfer_keeps_the_acquisition_date() {
    let events = [
        buy(1, 1, "2023-03-01", "BTC", "1", "20000"),
        event(2, 1, EventKind::Withdrawal, "2024-02-01", vec![leg(LegRole::Sent, "BTC", "-1", "40000")]),
        event(3, 2, EventKind::Deposit, "2024-02-01T13:00:00Z", vec![leg(LegRole::Received, "BTC", "1", "40000")]),
        sell(4, 2, "2024-04-01", "BTC", "1", "50000"),
    ];
    let transfer = TransferPlan { withdrawal: 2, deposit: 3, to_account: 2, sent: d("1"), received: d("1") };
    let c = compute_events(2024, &[transfer], &events);
    assert_eq!(rows(&c), [row("BTC", "1", "2023-03-01", "50000", "20000", true)]);
}

/// Staking (BMF 2022, no ten-year period): the reward is § 22 Nr. 3 income at its value on
/// receipt, which is its cost, and its year starts on receipt; the staked units themselves
/// are free after one year.
#[test]
fn staking_rewards_are_income_and_start_their_own_year() {
    let events = [
        buy(1, 1, "2023-01-01", "ETH", "10", "15000"),
        event(2, 1, EventKind::Staking, "2023-07-01", vec![leg(LegRole::Received, "ETH", "0.2", "380")]),
        sell(3, 1, "2024-03-01", "ETH", "10.2", "30600"),
    ];
    let c = compute_events(2024, &[], &events);
    assert_eq!(
        rows(&c),
        [row("ETH", "10", "2023-01-01", "30000", "15000", true), row("ETH", "0.2", "2023-07-01", "600", "380", false)]
    );
    let y2023 = compute_events(2023, &[], &events);
    let f = year::figures(2023, &y2023.disposals, &y2023.income);
    assert_eq!((f.other_services, f.taxable_other_services), (d("380"), d("380")));
}

/// A swap is a sale of the token given for the value of the token received, which is the
/// received token's cost.
#[test]
fn a_swap_is_a_sale_and_an_acquisition() {
    let swap = event(
        2,
        1,
        EventKind::Trade,
        "2024-05-01",
        vec![leg(LegRole::Sent, "ETH", "-2", "6000"), leg(LegRole::Received, "BTC", "0.1", "6000")],
    );
    let events = [buy(1, 1, "2024-02-01", "ETH", "2", "5000"), swap, sell(3, 1, "2024-06-01", "BTC", "0.1", "6500")];
    let c = compute_events(2024, &[], &events);
    assert_eq!(
        rows(&c),
        [row("ETH", "2", "2024-02-01", "6000", "5000", false), row("BTC", "0.1", "2024-05-01", "6500", "6000", false)]
    );
}

/// The year is Berlin's: a sale at 23:30 UTC on 31 December 2024 is on 1 January 2025.
#[test]
fn the_year_is_the_calendar_year_in_berlin() {
    let events = [buy(1, 1, "2024-06-01", "BTC", "1", "1000"), sell(2, 1, "2024-12-31T23:30:00Z", "BTC", "0.5", "900")];
    assert!(compute_events(2024, &[], &events).disposals.is_empty());
    let until = DeRules.events_until_ms(2024);
    assert_eq!(until, at("2024-12-31T23:00:00Z"));
    let y = DeRules.tax_year(2024);
    assert_eq!((y.start_ms, y.label.as_str()), (at("2023-12-31T23:00:00Z"), "2024"));
    assert_eq!(compute_events(2025, &[], &events).disposals.len(), 1);
}

/// § 23 Abs. 3 Satz 5 EStG, "weniger als 1 000 Euro": a net gain of €999.99 is free, €1,000.00
/// is taxable in full; losses of the year net against gains first.
#[test]
fn the_freigrenze_applies_to_the_net_gain_of_the_year() {
    let history = |second_sale: &str| {
        vec![
            buy(1, 1, "2024-01-01", "BTC", "2", "2000"),
            sell(2, 1, "2024-02-01", "BTC", "1", "2500"),
            sell(3, 1, "2024-03-01", "BTC", "1", second_sale),
        ]
    };
    let figures = |events: &[TaxEvent]| {
        let c = compute_events(2024, &[], events);
        year::figures(2024, &c.disposals, &c.income)
    };
    // +1,500 and −500.01: net 999.99, free.
    let f = figures(&history("499.99"));
    assert_eq!((f.private_sales.net(), f.taxable_private_sales), (d("999.99"), Some(Decimal::ZERO)));
    // +1,500 and −500: net 1,000.00, all taxable.
    let f = figures(&history("500"));
    assert_eq!((f.private_sales.net(), f.taxable_private_sales), (d("1000"), Some(d("1000"))));
    // A net loss: nothing taxable, the loss carried.
    let loss = figures(&[buy(1, 1, "2024-01-01", "BTC", "1", "3000"), sell(2, 1, "2024-02-01", "BTC", "1", "2500")]);
    assert_eq!((loss.loss_to_carry, loss.taxable_private_sales), (d("500"), Some(Decimal::ZERO)));
}

//! The ATO's worked examples with their own figures, and small histories through the whole
//! Australian computation (parcels, swaps, staking, gifts, Sydney dates, the financial year,
//! losses carried forward).

use chrono::NaiveDate;
use cointally_exchanges::{EventKind, LegRole};
use rust_decimal::Decimal;

use super::year::{NetCapitalGain, gross, held_twelve_months};
use super::{AuComputed, AuRules, compute_events};
use crate::ledger::{TaxEvent, TaxLeg};
use crate::tax::Method;
use crate::tax::jurisdiction::Rules;
use crate::tax::report::money;

fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

/// An instant given in UTC (`2024-06-30T15:00:00Z`) or a date at 02:00 UTC (noon in Sydney).
fn at(text: &str) -> i64 {
    match chrono::DateTime::parse_from_rfc3339(text) {
        Ok(t) => t.timestamp_millis(),
        Err(_) => date(text).and_hms_opt(2, 0, 0).unwrap().and_utc().timestamp_millis(),
    }
}

fn leg(role: LegRole, asset: &str, amount: &str, value: &str) -> TaxLeg {
    TaxLeg { seq: 0, role, asset: asset.into(), amount: d(amount), value: Some(d(value)) }
}

fn event(id: i64, kind: EventKind, when: &str, legs: Vec<TaxLeg>) -> TaxEvent {
    let legs = legs.into_iter().enumerate().map(|(i, l)| TaxLeg { seq: i as i64, ..l }).collect();
    TaxEvent { id, account_id: 1, kind, time_ms: at(when), basis: None, legs }
}

/// Buys `units` of `asset` for `dollars` AUD.
fn buy(id: i64, when: &str, asset: &str, units: &str, dollars: &str) -> TaxEvent {
    let minus = format!("-{dollars}");
    event(
        id,
        EventKind::Trade,
        when,
        vec![leg(LegRole::Sent, "AUD", &minus, dollars), leg(LegRole::Received, asset, units, dollars)],
    )
}

/// Sells `units` of `asset` for `dollars` AUD.
fn sell(id: i64, when: &str, asset: &str, units: &str, dollars: &str) -> TaxEvent {
    let minus = format!("-{units}");
    event(
        id,
        EventKind::Trade,
        when,
        vec![leg(LegRole::Sent, asset, &minus, dollars), leg(LegRole::Received, "AUD", dollars, dollars)],
    )
}

fn run(year: i32, method: Method, events: &[TaxEvent]) -> AuComputed {
    compute_events(year, method, &[], events)
}

/// ATO, Guide to capital gains tax, "Working out your net capital gain" (Kathleen, example
/// 113 in the 2021 guide, <https://www.ato.gov.au/Forms/Guide-to-capital-gains-tax-2021/?page=100>;
/// in full in the 2002-03 guide, <https://www.ato.gov.au/Forms/Guide-to-CGT-2002-03/?page=195>):
/// a $520 gain on shares held less than 12 months, a $3,000 gain eligible for the discount, a
/// $600 current-year capital loss and a $400 prior-year net capital loss. "$520 − $600 =
/// −$80; $3,000 − $80 = $2,920; $2,920 − $400 = $2,520; $2,520 × 50% = $1,260": Kathleen
/// shows $1,260 at A (net capital gain).
#[test]
fn ato_kathleen_losses_first_against_the_gain_without_discount_then_the_discount() {
    let f = NetCapitalGain::compute(d("520"), d("3000"), d("600"), d("400"));
    assert_eq!(f.total_gains(), d("3520"), "18H: both gains before losses and discount");
    assert_eq!((f.losses_applied, f.brought_forward_applied), (d("600"), d("400")));
    assert_eq!(f.discount, d("1260"));
    assert_eq!(f.net_capital_gain, d("1260"));
    assert_eq!(f.carried_forward, Decimal::ZERO);
    assert_eq!(money(f.net_capital_gain), "1260.00", "the ATO's whole dollars, to the cent");
    // The other order (losses against the discount gain first) would give less relief:
    // $520 + ($3,000 − $1,000) × 50% = $1,520.
    assert!(f.net_capital_gain < d("520") + (d("3000") - d("1000")) / d("2"));
}

/// ATO, Guide to CGT, "The discount method" (<https://www.ato.gov.au/Forms/Guide-to-CGT-2001-02/?page=49>):
/// "Sally acquired a CGT asset on 2 February 2001. Sally is entitled to apply the CGT discount
/// if a CGT event happens in relation to that asset on or after 3 February 2002." Also the
/// reference's 15 January 2024 case and month ends.
#[test]
fn ato_sally_discount_from_the_day_after_the_anniversary() {
    assert!(!held_twelve_months(date("2001-02-02"), date("2002-02-02")));
    assert!(held_twelve_months(date("2001-02-02"), date("2002-02-03")));
    assert!(!held_twelve_months(date("2024-01-15"), date("2025-01-15")));
    assert!(held_twelve_months(date("2024-01-15"), date("2025-01-16")));
    assert!(!held_twelve_months(date("2024-02-29"), date("2025-02-28")));
    assert!(held_twelve_months(date("2024-02-29"), date("2025-03-01")));
}

#[test]
fn a_net_loss_is_carried_forward_and_the_net_gain_is_zero() {
    let f = NetCapitalGain::compute(d("100"), d("200"), d("500"), d("50"));
    assert_eq!((f.losses_applied, f.brought_forward_applied), (d("300"), Decimal::ZERO));
    assert_eq!((f.net_capital_gain, f.discount, f.carried_forward), (Decimal::ZERO, Decimal::ZERO, d("250")));
    assert_eq!(gross([(d("5"), true), (d("-3"), true), (d("2"), false), (d("-1"), false)]), (d("2"), d("5"), d("4")));
}

/// Year 2025 is 1 July 2024 to 30 June 2025 in Sydney: a sale at 15:00 UTC on 30 June 2024
/// is 1 July in Sydney, in 2024-25.
#[test]
fn the_financial_year_is_bounded_by_sydney_midnight() {
    let y = AuRules::SYDNEY.tax_year(2025);
    assert_eq!((y.label.as_str(), y.first_day, y.last_day), ("2024-25", date("2024-07-01"), date("2025-06-30")));
    assert_eq!(y.start_ms, at("2024-06-30T14:00:00Z"));
    assert_eq!(y.end_ms, at("2025-06-30T14:00:00Z"));
    assert_eq!(AuRules::SYDNEY.events_until_ms(2025), y.end_ms);
    let events = [
        buy(1, "2023-01-10", "BTC", "2", "40000"),
        sell(2, "2024-06-30T13:59:00Z", "BTC", "0.5", "30000"),
        sell(3, "2024-06-30T15:00:00Z", "BTC", "0.5", "31000"),
    ];
    let fy2024 = run(2024, Method::Fifo, &events[..2]);
    assert_eq!(fy2024.disposals.len(), 1);
    assert_eq!(fy2024.disposals[0].disposed, date("2024-06-30"));
    let fy2025 = run(2025, Method::Fifo, &events);
    assert_eq!(fy2025.disposals.len(), 1);
    assert_eq!(fy2025.disposals[0].disposed, date("2024-07-01"));
    assert_eq!(fy2025.figures.discount_gains, d("21000"));
    assert_eq!(fy2025.figures.net_capital_gain, d("10500"));
}

/// Parcels: FIFO takes the oldest; a swap is a disposal at the market value of what was
/// received and that value is the new parcel's cost base; staking is income with its value as
/// cost base; a gift is a disposal at market value; fees are in the cost base.
#[test]
fn swaps_staking_and_gifts_make_the_parcels_the_ato_describes() {
    let events = [
        event(
            1,
            EventKind::Trade,
            "2023-03-01",
            vec![
                leg(LegRole::Sent, "AUD", "-20000", "20000"),
                leg(LegRole::Received, "BTC", "1", "20000"),
                leg(LegRole::Fee, "AUD", "-20", "20"),
            ],
        ),
        buy(2, "2024-08-01", "BTC", "1", "90000"),
        // Swap 0.5 BTC for 10 ETH worth $45,000 (held more than 12 months: discount).
        event(
            3,
            EventKind::Trade,
            "2024-09-01",
            vec![leg(LegRole::Sent, "BTC", "-0.5", "45000"), leg(LegRole::Received, "ETH", "10", "45000")],
        ),
        event(4, EventKind::Staking, "2024-10-01", vec![leg(LegRole::Received, "ETH", "0.5", "2000")]),
        // 10.5 ETH sold for $42,000: a loss on parcels held a few months.
        sell(5, "2024-12-01", "ETH", "10.5", "42000"),
        // A gift of 0.6 BTC worth $60,000: 0.5 from the 2023 parcel, 0.1 from August's.
        event(6, EventKind::Gift, "2025-03-01", vec![leg(LegRole::Sent, "BTC", "-0.6", "60000")]),
    ];
    let c = run(2025, Method::Fifo, &events);
    let rows: Vec<(String, String, String, String, bool)> = c
        .disposals
        .iter()
        .map(|r| {
            let acquired = r.acquired.map(|a| a.to_string()).unwrap_or_default();
            (
                r.disposal.asset.clone(),
                acquired,
                money(r.disposal.proceeds),
                money(r.disposal.cost_basis),
                r.held_12_months,
            )
        })
        .collect();
    let want = [
        ("BTC", "2023-03-01", "45000.00", "10010.00", true),
        ("ETH", "2024-09-01", "40000.00", "45000.00", false),
        ("ETH", "2024-10-01", "2000.00", "2000.00", false),
        ("BTC", "2023-03-01", "50000.00", "10010.00", true),
        ("BTC", "2024-08-01", "10000.00", "9000.00", false),
    ]
    .map(|(a, b, p, c, h)| (a.to_owned(), b.to_owned(), p.to_owned(), c.to_owned(), h));
    assert_eq!(rows, want);
    let f = &c.figures;
    assert_eq!((f.discount_gains, f.other_gains, f.losses), (d("74980"), d("1000"), d("5000")));
    // $5,000 of losses: $1,000 against the other gain, $4,000 against the discount gains.
    assert_eq!((f.discount, f.net_capital_gain), (d("35490"), d("35490")));
    assert_eq!(c.income.len(), 1);
    assert_eq!(c.income[0].value, d("2000"));
    let held: Vec<(String, Decimal, Decimal)> =
        c.parcels.iter().map(|p| (p.asset.clone(), p.amount, p.cost_basis)).collect();
    assert_eq!(held, [("BTC".to_owned(), d("0.9"), d("81000"))]);
    assert_eq!(c.disposals.iter().map(|r| r.kind).collect::<Vec<_>>(), ["sale", "sale", "sale", "gift", "gift"]);
}

/// HIFO (specific identification of the dearest parcel) gives the lower gain; a loss of an
/// earlier year in the ledger is brought forward and used before the discount.
#[test]
fn hifo_and_a_loss_brought_forward_from_an_earlier_year() {
    let events = [
        buy(1, "2022-01-10", "ETH", "1", "4000"),
        sell(2, "2022-06-01", "ETH", "1", "1500"),
        buy(3, "2023-01-10", "BTC", "1", "20000"),
        buy(4, "2024-01-10", "BTC", "1", "60000"),
        sell(5, "2025-02-01", "BTC", "1", "150000"),
    ];
    let fifo = run(2025, Method::Fifo, &events);
    assert_eq!(fifo.figures.losses_brought_forward, d("2500"), "2021-22's net capital loss");
    assert_eq!(fifo.figures.discount_gains, d("130000"));
    assert_eq!(fifo.figures.net_capital_gain, d("63750"), "(130,000 − 2,500) × 50%");
    let hifo = run(2025, Method::Hifo, &events);
    assert_eq!(hifo.disposals[0].acquired, Some(date("2024-01-10")));
    assert_eq!(hifo.figures.net_capital_gain, d("43750"), "(90,000 − 2,500) × 50%: held 10 January to 1 February");
    let fy2022 = run(2022, Method::Fifo, &events);
    assert_eq!((fy2022.figures.net_capital_gain, fy2022.figures.carried_forward), (Decimal::ZERO, d("2500")));
    let fy2023 = run(2023, Method::Fifo, &events);
    assert_eq!((fy2023.disposals.len(), fy2023.figures.carried_forward), (0, d("2500")), "a year with no events");
}

/// Losses from outside the ledger (`losses_brought_forward` settings). Hand computation:
/// 2023-24: 1 BTC bought 1 Aug 2023 for $10,000, sold 1 Mar 2024 for $7,000: a $3,000 loss.
/// 2024-25: ETH bought 1 Sep 2023 for $5,000 and sold 1 Oct 2024 for $15,000 (held over 12
/// months: a $10,000 discount gain); SOL bought 1 Aug 2024 for $1,000 and sold 1 Dec 2024 for
/// $2,500 (a $1,500 gain without discount).
/// - Set $1,000 for 2023-24: 2023-24 carries $3,000 + $1,000 = $4,000 into 2024-25, which
///   takes $1,500 from the other gain and $2,500 from the discount gain: $7,500 left, discount
///   $3,750, net capital gain $3,750, nothing carried on.
/// - Set $500 for 2024-25 as well: it replaces the $4,000 the ledger carries in: the other gain
///   is $1,000, the discount gain $10,000 with $5,000 discount, net $6,000; $3,500 is not
///   carried (the setting is the whole figure brought into the year).
/// - Set only $200 for 2022-23 (a year with no disposal): it reaches 2023-24, which carries
///   $3,200 on: $1,500 + $1,700 applied, $8,300 left, discount $4,150, net $4,150.
#[test]
fn losses_brought_forward_from_outside_the_ledger_are_applied_before_the_discount() {
    use std::collections::BTreeMap;
    let events = [
        buy(1, "2023-08-01", "BTC", "1", "10000"),
        buy(2, "2023-09-01", "ETH", "1", "5000"),
        sell(3, "2024-03-01", "BTC", "1", "7000"),
        buy(4, "2024-08-01", "SOL", "10", "1000"),
        sell(5, "2024-10-01", "ETH", "1", "15000"),
        sell(6, "2024-12-01", "SOL", "10", "2500"),
    ];
    let with = |settings: &[(i32, &str)]| {
        let outside: BTreeMap<i32, Decimal> = settings.iter().map(|(y, a)| (*y, d(a))).collect();
        super::compute_events_with(2025, Method::Fifo, &[], &events, &outside)
    };

    let c = with(&[(2024, "1000")]);
    let f = &c.figures;
    assert_eq!((f.other_gains, f.discount_gains, f.losses), (d("1500"), d("10000"), d("0")));
    assert_eq!(c.losses_set, None);
    assert_eq!((c.ledger_carried_in, f.losses_brought_forward), (d("4000"), d("4000")));
    assert_eq!(f.brought_forward_applied, d("4000"));
    assert_eq!((f.discount, f.net_capital_gain, f.carried_forward), (d("3750"), d("3750"), d("0")));

    let c = with(&[(2024, "1000"), (2025, "500")]);
    let f = &c.figures;
    assert_eq!(c.losses_set, Some(d("500")));
    assert_eq!(
        (c.ledger_carried_in, f.losses_brought_forward, f.brought_forward_applied),
        (d("4000"), d("500"), d("500"))
    );
    assert_eq!((f.discount, f.net_capital_gain, f.carried_forward), (d("5000"), d("6000"), d("0")));

    let c = with(&[(2023, "200")]);
    let f = &c.figures;
    assert_eq!((c.ledger_carried_in, f.losses_brought_forward), (d("3200"), d("3200")));
    assert_eq!((f.discount, f.net_capital_gain), (d("4150"), d("4150")));

    // Nothing set: the ledger's own $3,000 loss alone ($1,500 + $1,500 applied, $8,500 left).
    let f = run(2025, Method::Fifo, &events).figures;
    assert_eq!((f.losses_brought_forward, f.discount, f.net_capital_gain), (d("3000"), d("4250"), d("4250")));
}

/// ATO, "Crypto to crypto exchange or swap", example "market value of new asset determines old
/// asset's disposal proceeds"
/// (<https://www.ato.gov.au/Individuals/Investments-and-assets/Crypto-asset-investments/Transactions---acquiring-and-disposing-of-crypto-assets/Crypto-to-crypto-exchange-or-swap/>):
/// "Katrina acquires 100 Coin A for $15,000 on 5 July 2021. Katrina decides to exchange 20
/// Coin A for 100 Coin B … on 15 November 2021 … the market value of 100 Coin B was $6,000.
/// Therefore, Katrina's capital proceeds are $6,000 for the disposal of 20 Coin A." The ATO
/// stops at the proceeds; by hand: the 20 Coin A are 20/100 of the $15,000 parcel, a $3,000
/// cost base, so a $3,000 capital gain, held four months (no discount), in 2021-22; the 100
/// Coin B are a new parcel with a $6,000 cost base, and 80 Coin A stay with $12,000. (The
/// ATO's second example, Coin D with no market value, takes the value of the Coin A given:
/// that is the pricing step's choice of value for the legs, not this computation's.)
#[test]
fn ato_katrina_swap_proceeds_are_the_market_value_of_what_is_received() {
    let events = [
        buy(1, "2021-07-05", "COINA", "100", "15000"),
        event(
            2,
            EventKind::Trade,
            "2021-11-15",
            vec![leg(LegRole::Sent, "COINA", "-20", "6000"), leg(LegRole::Received, "COINB", "100", "6000")],
        ),
    ];
    let c = run(2022, Method::Fifo, &events);
    assert_eq!(c.year.label, "2021-22");
    assert_eq!(c.disposals.len(), 1);
    let row = &c.disposals[0];
    assert_eq!((row.disposal.asset.as_str(), row.disposal.amount), ("COINA", d("20")));
    assert_eq!(row.disposal.proceeds, d("6000"), "the ATO's capital proceeds");
    assert_eq!(row.disposal.cost_basis, d("3000"));
    assert_eq!((row.gain(), row.held_12_months), (d("3000"), false));
    assert_eq!((c.figures.other_gains, c.figures.discount, c.figures.net_capital_gain), (d("3000"), d("0"), d("3000")));
    let held: Vec<(String, Decimal, Decimal)> =
        c.parcels.iter().map(|p| (p.asset.clone(), p.amount, p.cost_basis)).collect();
    assert_eq!(held, [("COINA".to_owned(), d("80"), d("12000")), ("COINB".to_owned(), d("100"), d("6000"))]);
}

/// Kathleen's example again (ATO, Guide to CGT 2002-03, step 9,
/// <https://www.ato.gov.au/Forms/Guide-to-CGT-2002-03/?page=195>; shares there, tokens
/// here), this time through parcels and the `losses_brought_forward` setting: her "$400 prior
/// year capital loss" comes from outside the ledger. A $520 gain on a parcel held under 12
/// months, a $3,000 gain on one held longer, a $600 loss; "$520 − $600 = −$80; $3,000 − $80 =
/// $2,920; $2,920 − $400 = $2,520; $2,520 × 50% = $1,260".
#[test]
fn ato_kathleen_with_her_prior_year_loss_set_from_outside_the_ledger() {
    use std::collections::BTreeMap;
    let events = [
        buy(1, "2023-01-10", "BBB", "1", "5000"),
        buy(2, "2024-08-01", "AAA", "1", "1000"),
        buy(3, "2024-09-01", "CCC", "1", "1000"),
        sell(4, "2024-12-01", "AAA", "1", "1520"),
        sell(5, "2025-02-01", "BBB", "1", "8000"),
        sell(6, "2025-03-01", "CCC", "1", "400"),
    ];
    let outside = BTreeMap::from([(2025, d("400"))]);
    let c = super::compute_events_with(2025, Method::Fifo, &[], &events, &outside);
    let f = &c.figures;
    assert_eq!((f.other_gains, f.discount_gains, f.losses), (d("520"), d("3000"), d("600")));
    assert_eq!((f.losses_applied, f.losses_brought_forward, f.brought_forward_applied), (d("600"), d("400"), d("400")));
    assert_eq!((f.discount, f.net_capital_gain, f.carried_forward), (d("1260"), d("1260"), d("0")));
}

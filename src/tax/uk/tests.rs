//! HMRC's worked examples (Cryptoassets Manual, CRYPTO22250 series and CRYPTO22280) through
//! the event sorting and the matching rules, with the manual's own figures. HMRC prints whole
//! pounds, rounding allowable costs up; the exact figures are asserted, and that rounding
//! them the manual's way gives the printed ones. "20XX" dates are placed in 2021.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use cointally_exchanges::{EventKind, LegRole};
use rust_decimal::{Decimal, RoundingStrategy};

use super::day::{date_of, day_number};
use super::events::Sorter;
use super::matching::{Match, Outcome, Rule, match_token};
use super::pool::Pool;
use super::{compute_events, year};
use crate::ledger::{TaxEvent, TaxLeg};
use crate::tax::engine::TransferPlan;

pub(crate) fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

pub(crate) fn at(date: &str) -> i64 {
    let day: NaiveDate = date.parse().unwrap();
    day.and_hms_opt(12, 0, 0).unwrap().and_utc().timestamp_millis()
}

fn day(date: &str) -> i64 {
    day_number(date.parse().unwrap())
}

pub(crate) fn leg(role: LegRole, asset: &str, amount: &str, value: &str) -> TaxLeg {
    TaxLeg { seq: 0, role, asset: asset.into(), amount: d(amount), value: Some(d(value)) }
}

pub(crate) fn event(id: i64, kind: EventKind, date: &str, legs: Vec<TaxLeg>) -> TaxEvent {
    let legs = legs.into_iter().enumerate().map(|(i, l)| TaxLeg { seq: i as i64, ..l }).collect();
    TaxEvent { id, account_id: 1, kind, time_ms: at(date), basis: None, legs }
}

/// Buys `units` of `asset` for `pounds`.
pub(crate) fn buy(id: i64, date: &str, asset: &str, units: &str, pounds: &str) -> TaxEvent {
    let minus = format!("-{pounds}");
    event(
        id,
        EventKind::Trade,
        date,
        vec![leg(LegRole::Sent, "GBP", &minus, pounds), leg(LegRole::Received, asset, units, pounds)],
    )
}

/// Sells `units` of `asset` for `pounds`.
pub(crate) fn sell(id: i64, date: &str, asset: &str, units: &str, pounds: &str) -> TaxEvent {
    let minus = format!("-{units}");
    event(
        id,
        EventKind::Trade,
        date,
        vec![leg(LegRole::Sent, asset, &minus, pounds), leg(LegRole::Received, "GBP", pounds, pounds)],
    )
}

/// Gives `units` of one token (worth `given`) for `got_units` of another (worth `got`).
fn swap(id: i64, date: &str, gives: (&str, &str, &str), receives: (&str, &str, &str)) -> TaxEvent {
    let minus = format!("-{}", gives.1);
    event(
        id,
        EventKind::Trade,
        date,
        vec![leg(LegRole::Sent, gives.0, &minus, gives.2), leg(LegRole::Received, receives.0, receives.1, receives.2)],
    )
}

fn outcomes(events: &[TaxEvent], transfers: &[TransferPlan]) -> BTreeMap<String, Outcome> {
    let mut sorter = Sorter::new(transfers);
    for e in events {
        sorter.process(e);
    }
    sorter.sorted().ops.iter().map(|(asset, ops)| (asset.clone(), match_token(ops))).collect()
}

/// The matches of the disposal of `date`.
fn on<'a>(outcome: &'a Outcome, date: &str) -> Vec<&'a Match> {
    outcome.matches.iter().filter(|m| m.day == day(date)).collect()
}

fn total(matches: &[&Match], f: impl Fn(&Match) -> Decimal) -> Decimal {
    matches.iter().map(|m| f(m)).sum()
}

/// HMRC's printed cost: rounded up to the pound; the gain from the rounded cost.
fn hmrc_cost(cost: Decimal) -> Decimal {
    cost.round_dp_with_strategy(0, RoundingStrategy::AwayFromZero)
}

/// CRYPTO22251 — Example 1 (<https://www.gov.uk/hmrc-internal-manuals/cryptoassets-manual/crypto22251>):
/// Victoria's pool of 100 token A (£1,000) and 50 more for £125,000; 50 sold for £300,000:
/// allowable cost £42,000, gain £258,000, pool 100 tokens at £84,000.
#[test]
fn crypto22251_basic_pool() {
    let events = [
        buy(1, "2021-01-10", "A", "100", "1000"),
        buy(2, "2021-09-18", "A", "50", "125000"),
        sell(3, "2021-12-01", "A", "50", "300000"),
    ];
    let a = &outcomes(&events, &[])["A"];
    let rows = on(a, "2021-12-01");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].rule, Rule::Section104);
    assert_eq!(rows[0].allowable_cost(), d("42000"));
    assert_eq!(rows[0].gain(), d("258000"));
    assert_eq!(rows[0].pool_after, Pool { units: d("100"), cost: d("84000") });
}

/// CRYPTO22252 — Example 2 (<https://www.gov.uk/hmrc-internal-manuals/cryptoassets-manual/crypto22252>):
/// Martyn's pool 5,000 token B (£500); on 23 June he sells 1,000 for £800, buys 1,600 for
/// £1,000 and sells 500 for £600. The sales are one disposal of 1,500 for £1,400 matched with
/// the day's purchase: cost £937.50 (printed £938), gain £462.50 (printed £462); the other 100
/// join the pool: 5,100 tokens, £562.50 (printed £562).
#[test]
fn crypto22252_same_day_rule() {
    let events = [
        buy(1, "2021-01-10", "B", "5000", "500"),
        sell(2, "2021-06-23", "B", "1000", "800"),
        buy(3, "2021-06-23", "B", "1600", "1000"),
        sell(4, "2021-06-23", "B", "500", "600"),
    ];
    let b = &outcomes(&events, &[])["B"];
    let rows = on(b, "2021-06-23");
    assert_eq!(rows.len(), 1, "{rows:?}");
    let row = rows[0];
    assert_eq!((row.rule, row.units, row.proceeds), (Rule::SameDay, d("1500"), d("1400")));
    assert_eq!(row.events, vec![2, 4]);
    assert_eq!(row.allowable_cost(), d("937.50"));
    assert_eq!(row.gain(), d("462.50"));
    assert_eq!(hmrc_cost(row.allowable_cost()), d("938"));
    assert_eq!(row.proceeds - hmrc_cost(row.allowable_cost()), d("462"));
    assert_eq!(row.pool_after, Pool { units: d("5100"), cost: d("562.50") });
}

/// CRYPTO22253 — Example 3 (<https://www.gov.uk/hmrc-internal-manuals/cryptoassets-manual/crypto22253>):
/// Rachel's pool 2,000 token C (£1,000). The 31 March sale of 1,000 for £400 is matched with
/// 700 of 21 April (£175) and 300 of 28 April (£60): gain £165. The 20 April sale of 500 for
/// £150 with 200 of 28 April (£40) and 300 of 1 May (£90): gain £20. 1 May is day 31 after 31
/// March. The pool is not touched; 200 of 1 May (£60) join it: 2,200 tokens, £1,060.
#[test]
fn crypto22253_thirty_day_rule() {
    let events = [
        buy(1, "2021-01-10", "C", "2000", "1000"),
        sell(2, "2021-03-31", "C", "1000", "400"),
        sell(3, "2021-04-20", "C", "500", "150"),
        buy(4, "2021-04-21", "C", "700", "175"),
        buy(5, "2021-04-28", "C", "500", "100"),
        buy(6, "2021-05-01", "C", "500", "150"),
    ];
    let c = &outcomes(&events, &[])["C"];
    let first = on(c, "2021-03-31");
    let parts: Vec<(Rule, Option<i64>, Decimal, Decimal)> =
        first.iter().map(|m| (m.rule, m.acquired_day, m.units, m.cost)).collect();
    assert_eq!(
        parts,
        vec![
            (Rule::BedAndBreakfast, Some(day("2021-04-21")), d("700"), d("175")),
            (Rule::BedAndBreakfast, Some(day("2021-04-28")), d("300"), d("60")),
        ]
    );
    assert_eq!(total(&first, Match::gain), d("165"));
    let second = on(c, "2021-04-20");
    let parts: Vec<(Option<i64>, Decimal, Decimal)> =
        second.iter().map(|m| (m.acquired_day, m.units, m.cost)).collect();
    assert_eq!(parts, vec![(Some(day("2021-04-28")), d("200"), d("40")), (Some(day("2021-05-01")), d("300"), d("90"))]);
    assert_eq!(total(&second, Match::gain), d("20"));
    assert_eq!(c.pool_at(day("2021-05-01")), Pool { units: d("2200"), cost: d("1060") });
    // Before 1 May the pool still holds the opening 2,000 at £1,000: no disposal touched it.
    assert_eq!(c.pool_at(day("2021-04-30")), Pool { units: d("2000"), cost: d("1000") });
}

/// CRYPTO22254 — Example 4 (<https://www.gov.uk/hmrc-internal-manuals/cryptoassets-manual/crypto22254>):
/// Daniel's pool 8,000 token D (£1,000); on 31 January two sales (7,000 for £642 together)
/// and four purchases (6,500 for £500). Same day 6,500 (£500), pool 500 (£62.50, printed £63):
/// gain £79.50 (printed £79); pool 7,500 tokens, £937.50 (printed £937).
#[test]
fn crypto22254_same_day_and_pool() {
    let events = [
        buy(1, "2020-12-01", "D", "8000", "1000"),
        sell(2, "2021-01-31", "D", "5000", "500"),
        buy(3, "2021-01-31", "D", "4000", "320"),
        buy(4, "2021-01-31", "D", "1000", "75"),
        buy(5, "2021-01-31", "D", "1000", "70"),
        sell(6, "2021-01-31", "D", "2000", "142"),
        buy(7, "2021-01-31", "D", "500", "35"),
    ];
    let dd = &outcomes(&events, &[])["D"];
    let rows = on(dd, "2021-01-31");
    let parts: Vec<(Rule, Decimal, Decimal)> = rows.iter().map(|m| (m.rule, m.units, m.cost)).collect();
    assert_eq!(parts, vec![(Rule::SameDay, d("6500"), d("500")), (Rule::Section104, d("500"), d("62.5"))]);
    assert_eq!(total(&rows, |m| m.proceeds), d("642"));
    assert_eq!(total(&rows, Match::gain), d("79.50"));
    assert_eq!(hmrc_cost(d("62.5")), d("63"));
    assert_eq!(d("642") - d("500") - hmrc_cost(d("62.5")), d("79"));
    assert_eq!(rows[1].pool_after, Pool { units: d("7500"), cost: d("937.5") });
}

/// CRYPTO22255 — Example 5 (<https://www.gov.uk/hmrc-internal-manuals/cryptoassets-manual/crypto22255>):
/// Melanie's pool 14,000 token E (£200,000); sells 4,000 for £160,000 on 30 August, buys 500
/// for £17,500 on 11 September: 30-day £17,500 + pool £50,000, gain £92,500; pool 10,500
/// tokens, £150,000.
#[test]
fn crypto22255_thirty_days_and_pool() {
    let events = [
        buy(1, "2021-01-10", "E", "14000", "200000"),
        sell(2, "2021-08-30", "E", "4000", "160000"),
        buy(3, "2021-09-11", "E", "500", "17500"),
    ];
    let e = &outcomes(&events, &[])["E"];
    let rows = on(e, "2021-08-30");
    let parts: Vec<(Rule, Decimal, Decimal)> = rows.iter().map(|m| (m.rule, m.units, m.cost)).collect();
    assert_eq!(parts, vec![(Rule::BedAndBreakfast, d("500"), d("17500")), (Rule::Section104, d("3500"), d("50000"))]);
    assert_eq!(total(&rows, Match::gain), d("92500"));
    assert_eq!(e.pool_at(day("2021-09-11")), Pool { units: d("10500"), cost: d("150000") });
}

/// CRYPTO22256 — Example 6 (<https://www.gov.uk/hmrc-internal-manuals/cryptoassets-manual/crypto22256>):
/// Gulferaz's pool 100,000 token F (£300,000). 31 July: buys 10,000 for £45,000, sells 30,000
/// for £150,000 (same day 10,000 + 30-day 20,000 of 6 August: £135,000, gain £15,000). 5
/// August: sells 20,000 for £100,000 (30-day 20,000 of 6 August, £90,000: gain £10,000). 6
/// August: buys 50,000 for £225,000, the 10,000 left join the pool (110,000, £345,000). 7
/// August: sells 100,000 for £150,000 from the pool: £313,636.36 (printed £313,637), loss
/// £163,636.36 (printed £163,637).
#[test]
fn crypto22256_all_three_rules() {
    let events = [
        buy(1, "2021-01-10", "F", "100000", "300000"),
        buy(2, "2021-07-31", "F", "10000", "45000"),
        sell(3, "2021-07-31", "F", "30000", "150000"),
        sell(4, "2021-08-05", "F", "20000", "100000"),
        buy(5, "2021-08-06", "F", "50000", "225000"),
        sell(6, "2021-08-07", "F", "100000", "150000"),
    ];
    let f = &outcomes(&events, &[])["F"];
    let july = on(f, "2021-07-31");
    let parts: Vec<(Rule, Decimal, Decimal)> = july.iter().map(|m| (m.rule, m.units, m.cost)).collect();
    assert_eq!(parts, vec![(Rule::SameDay, d("10000"), d("45000")), (Rule::BedAndBreakfast, d("20000"), d("90000"))]);
    assert_eq!(total(&july, Match::gain), d("15000"));
    let fifth = on(f, "2021-08-05");
    assert_eq!(fifth.len(), 1);
    assert_eq!((fifth[0].rule, fifth[0].cost, fifth[0].gain()), (Rule::BedAndBreakfast, d("90000"), d("10000")));
    assert_eq!(f.pool_at(day("2021-08-06")), Pool { units: d("110000"), cost: d("345000") });
    let seventh = on(f, "2021-08-07");
    assert_eq!(seventh.len(), 1);
    assert_eq!(seventh[0].rule, Rule::Section104);
    assert_eq!(seventh[0].cost.round_dp(2), d("313636.36"));
    assert_eq!(seventh[0].gain().round_dp(2), d("-163636.36"));
    assert_eq!(hmrc_cost(seventh[0].cost), d("313637"));
    assert_eq!(d("150000") - hmrc_cost(seventh[0].cost), d("-163637"));
    // Exact: the pool keeps what the disposal did not take.
    assert_eq!(seventh[0].pool_after.units, d("10000"));
    assert_eq!(seventh[0].pool_after.cost + seventh[0].cost, d("345000"));
}

/// CRYPTO22257 — Example 7 (<https://www.gov.uk/hmrc-internal-manuals/cryptoassets-manual/crypto22257>):
/// Elina's token-for-token trades: the proceeds are the value of what is received, the cost
/// of what is acquired the value of what is given. Gains £280, £266.67 (printed £267), £18;
/// losses £120 and £1,416.67 (printed £1,417); net −£972; pools G 99,730 at £298,890, H empty.
#[test]
fn crypto22257_crypto_to_crypto() {
    let events = [
        buy(1, "2021-01-10", "G", "100000", "300000"),
        swap(2, "2021-08-31", ("G", "1000", "3200"), ("H", "10000", "3200")),
        swap(3, "2021-08-31", ("H", "5000", "1700"), ("G", "600", "1920")),
        swap(4, "2021-08-31", ("G", "550", "1760"), ("H", "5000", "1650")),
        swap(5, "2021-09-04", ("H", "2000", "560"), ("G", "180", "558")),
        swap(6, "2021-09-16", ("G", "400", "1080"), ("H", "4000", "1080")),
        swap(7, "2021-10-27", ("H", "12000", "2400"), ("G", "900", "2430")),
    ];
    let all = outcomes(&events, &[]);
    let (g, h) = (&all["G"], &all["H"]);
    let g31 = on(g, "2021-08-31");
    let parts: Vec<(Rule, Decimal, Decimal)> = g31.iter().map(|m| (m.rule, m.units, m.cost)).collect();
    assert_eq!(
        parts,
        vec![
            (Rule::SameDay, d("600"), d("1700")),
            (Rule::BedAndBreakfast, d("180"), d("560")),
            (Rule::Section104, d("770"), d("2310")),
        ]
    );
    assert_eq!(total(&g31, |m| m.proceeds), d("4850"));
    assert_eq!(total(&g31, |m| m.allowable_cost()), d("4570"));
    assert_eq!(total(&g31, Match::gain).round_dp(2), d("280"));
    let h31 = on(h, "2021-08-31");
    assert_eq!(h31.len(), 1);
    assert_eq!((h31[0].rule, h31[0].proceeds), (Rule::SameDay, d("1920")));
    assert_eq!(h31[0].gain().round_dp(2), d("266.67"));
    let h4 = on(h, "2021-09-04");
    assert_eq!((h4[0].rule, h4[0].cost, h4[0].gain()), (Rule::BedAndBreakfast, d("540"), d("18")));
    let g16 = on(g, "2021-09-16");
    assert_eq!((g16[0].rule, g16[0].cost, g16[0].gain()), (Rule::Section104, d("1200"), d("-120")));
    let h27 = on(h, "2021-10-27");
    assert_eq!(h27[0].rule, Rule::Section104);
    assert_eq!(h27[0].cost.round_dp(2), d("3846.67"));
    assert_eq!(h27[0].gain().round_dp(2), d("-1416.67"));
    let net: Decimal = g.matches.iter().chain(&h.matches).map(Match::gain).sum();
    assert_eq!(net.round_dp(2), d("-972.00"));
    assert_eq!(g.pool_at(day("2021-12-31")), Pool { units: d("99730"), cost: d("298890") });
    assert_eq!(h.pool_at(day("2021-12-31")).units, Decimal::ZERO);
}

/// CRYPTO22280 (<https://www.gov.uk/hmrc-internal-manuals/cryptoassets-manual/crypto22280>):
/// Terri's pool 10,000 tokens (£20,000); she sells 1,000 for £5,000 paying a fee of 1 token
/// (worth £5). The computation has consideration £5,000 + £5 (the fee token disposed of at
/// market value), an allowable cost of £5 (the fee) and the pooled cost of 1,001 tokens
/// (£2,002): gain £2,998; pool 8,999 tokens, £17,998.
#[test]
fn crypto22280_fee_paid_in_tokens() {
    let mut sale = sell(2, "2021-07-01", "T", "1000", "5000");
    sale.legs.push(TaxLeg { seq: 2, ..leg(LegRole::Fee, "T", "-1", "5") });
    let events = [buy(1, "2021-01-10", "T", "10000", "20000"), sale];
    let t = &outcomes(&events, &[])["T"];
    let rows = on(t, "2021-07-01");
    assert_eq!(rows.len(), 1);
    let row = rows[0];
    assert_eq!((row.units, row.proceeds, row.incidental, row.cost), (d("1001"), d("5005"), d("5"), d("2002")));
    assert_eq!(row.gain(), d("2998"));
    assert_eq!(row.pool_after, Pool { units: d("8999"), cost: d("17998") });
}

/// Income (CRYPTO21200): staking rewards are income at their value on receipt, and join the
/// pool at that value.
#[test]
fn staking_reward_is_income_and_enters_the_pool_at_its_value() {
    let reward = event(2, EventKind::Staking, "2021-06-01", vec![leg(LegRole::Received, "DOT", "10", "150")]);
    let events = [buy(1, "2021-01-10", "DOT", "90", "850"), reward];
    let computed = compute_events(2021, &[], &events);
    assert_eq!(computed.income.len(), 1);
    assert_eq!(computed.income[0].value, d("150"));
    assert_eq!(computed.pools[0].pool, Pool { units: d("100"), cost: d("1000") });
}

/// An own transfer is no disposal; the network fee paid in the token is a disposal of those
/// units at their value, and only they leave the pool.
#[test]
fn own_transfer_moves_nothing_but_its_fee_is_a_disposal() {
    let out = event(
        2,
        EventKind::Withdrawal,
        "2021-06-01",
        vec![leg(LegRole::Sent, "BTC", "-1", "30000"), leg(LegRole::Fee, "BTC", "-0.001", "30")],
    );
    let mut arrive = event(3, EventKind::Deposit, "2021-06-01", vec![leg(LegRole::Received, "BTC", "1", "30000")]);
    arrive.account_id = 2;
    let plan = TransferPlan { withdrawal: 2, deposit: 3, to_account: 2, sent: d("1"), received: d("1") };
    let events = [buy(1, "2021-01-10", "BTC", "2", "20000"), out, arrive];
    let computed = compute_events(2021, &[plan], &events);
    assert_eq!(computed.disposals.len(), 1);
    let fee = &computed.disposals[0].matched;
    assert_eq!((fee.rule, fee.units, fee.proceeds, fee.cost), (Rule::Section104, d("0.001"), d("30"), d("10")));
    assert_eq!(computed.pools[0].pool, Pool { units: d("1.999"), cost: d("19990") });
}

/// A gift to a spouse is no gain, no loss (TCGA 1992 s58): its own row, proceeds = pooled
/// cost, outside the SA108 figures. A gift to anyone else is a disposal at market value.
#[test]
fn spouse_gift_is_no_gain_no_loss_and_other_gifts_are_disposals() {
    let spouse = event(2, EventKind::GiftSpouse, "2021-06-01", vec![leg(LegRole::Sent, "ETH", "-1", "2000")]);
    let friend = event(3, EventKind::Gift, "2021-07-01", vec![leg(LegRole::Sent, "ETH", "-1", "2500")]);
    let events = [buy(1, "2021-01-10", "ETH", "4", "4000"), spouse, friend];
    let computed = compute_events(2021, &[], &events);
    let rows: Vec<(Rule, Decimal, Decimal)> =
        computed.disposals.iter().map(|r| (r.matched.rule, r.matched.proceeds, r.matched.cost)).collect();
    assert_eq!(rows, vec![(Rule::NoGainNoLoss, d("1000"), d("1000")), (Rule::Section104, d("2500"), d("1000"))]);
    let figures = year::figures(2021, &computed.disposals);
    assert_eq!((figures.total.disposals, figures.total.proceeds, figures.total.gains), (1, d("2500"), d("1500")));
    assert_eq!(computed.pools[0].pool, Pool { units: d("2"), cost: d("2000") });
}

/// Lost or stolen units are no disposal (CRYPTO22400): they stay in the pool and are listed.
#[test]
fn lost_units_stay_in_the_pool_and_are_listed() {
    let lost = event(2, EventKind::Lost, "2021-06-01", vec![leg(LegRole::Sent, "ETH", "-1", "2000")]);
    let computed = compute_events(2021, &[], &[buy(1, "2021-01-10", "ETH", "4", "4000"), lost]);
    assert!(computed.disposals.is_empty());
    assert_eq!(computed.lost.len(), 1);
    assert_eq!(computed.pools[0].pool, Pool { units: d("4"), cost: d("4000") });
}

/// The tax year ends on 5 April, but its last disposal is matched with the purchase of the
/// next year's 21 April (the data window); `--year 2020` is 2020/21.
#[test]
fn year_end_disposal_matches_an_acquisition_after_5_april() {
    let events = [
        buy(1, "2020-05-10", "C", "2000", "1000"),
        sell(2, "2021-04-05", "C", "1000", "400"),
        buy(3, "2021-04-21", "C", "1000", "250"),
    ];
    let computed = compute_events(2020, &[], &events);
    assert_eq!(computed.year.label, "2020/21");
    assert_eq!(computed.disposals.len(), 1);
    let row = &computed.disposals[0].matched;
    assert_eq!(
        (row.rule, row.cost, date_of(row.acquired_day.unwrap()).to_string()),
        (Rule::BedAndBreakfast, d("250"), "2021-04-21".into())
    );
    // At the year's end the pool still holds the 2,000 bought in May.
    assert_eq!(computed.pools[0].pool, Pool { units: d("2000"), cost: d("1000") });
    let next = compute_events(2021, &[], &events);
    assert!(next.disposals.is_empty());
    assert_eq!(next.pools[0].pool, Pool { units: d("2000"), cost: d("1000") });
}

/// 2024/25: gains split at 30 October 2024; exempt amount £3,000; reported when above it.
#[test]
fn year_2024_splits_at_the_rate_change_and_applies_the_exempt_amount() {
    let events = [
        buy(1, "2024-04-10", "BTC", "2", "20000"),
        sell(2, "2024-10-29", "BTC", "0.5", "7000"),
        sell(3, "2024-10-30", "BTC", "0.5", "4000"),
    ];
    let computed = compute_events(2024, &[], &events);
    let figures = year::figures(2024, &computed.disposals);
    let (before, after) = figures.split.clone().unwrap();
    assert_eq!((before.gains, before.losses), (d("2000"), d("0")));
    assert_eq!((after.gains, after.losses), (d("0"), d("1000")));
    assert_eq!(figures.total.net(), d("1000"));
    assert_eq!(figures.exempt_amount, Some(d("3000")));
    assert_eq!(figures.after_exempt_amount, Some(d("0")));
    assert!(figures.report_reasons.is_empty());
    let big = [buy(1, "2024-04-10", "BTC", "2", "20000"), sell(2, "2024-12-01", "BTC", "2", "60000")];
    let figures = year::figures(2024, &compute_events(2024, &[], &big).disposals);
    assert_eq!(figures.after_exempt_amount, Some(d("37000")));
    assert_eq!(figures.report_reasons.len(), 2);
}

/// A fee on a token-for-token trade is shared half and half between the disposal and the
/// acquisition (CRYPTO22150 says it is attributable to both).
#[test]
fn swap_fee_is_split_between_both_sides() {
    let mut trade = swap(2, "2021-06-01", ("ETH", "1", "2000"), ("BTC", "0.1", "2000"));
    trade.legs.push(TaxLeg { seq: 2, ..leg(LegRole::Fee, "GBP", "-10", "10") });
    let all = outcomes(&[buy(1, "2021-01-10", "ETH", "1", "1500"), trade], &[]);
    let eth = &all["ETH"].matches[0];
    assert_eq!((eth.proceeds, eth.cost, eth.incidental, eth.gain()), (d("2000"), d("1500"), d("5"), d("495")));
    assert_eq!(all["BTC"].pool_at(day("2021-06-01")), Pool { units: d("0.1"), cost: d("2005") });
}

/// `--year 2024` is 2024/25: from 6 April 2024 00:00 BST (23:00 UTC the day before) to 5 April
/// 2025; events are read up to the end of 5 May 2025 (30 days past the year's end).
#[test]
fn uk_tax_year_bounds_and_the_data_window() {
    use crate::tax::jurisdiction::Jurisdiction;
    let rules = Jurisdiction::Uk.rules();
    let year = rules.tax_year(2024);
    assert_eq!((rules.code(), year.label.as_str()), ("UK", "2024/25"));
    assert_eq!((year.first_day.to_string(), year.last_day.to_string()), ("2024-04-06".into(), "2025-04-05".into()));
    let rfc = |ms: i64| chrono::DateTime::from_timestamp_millis(ms).unwrap().to_rfc3339();
    assert_eq!(rfc(year.start_ms), "2024-04-05T23:00:00+00:00");
    assert_eq!(rfc(year.end_ms), "2025-04-05T23:00:00+00:00");
    assert_eq!(rfc(rules.events_until_ms(2024)), "2025-05-05T23:00:00+00:00");
}

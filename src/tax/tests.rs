//! Worked examples, computed by hand (most following IRS Pub. 550 and Pub. 544), through
//! the engine with the events built here.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use cointally_exchanges::{EventKind, LegRole};
use rust_decimal::Decimal;

use super::engine::{Computation, Engine, TransferPlan};
use super::report::Report;
use super::{Method, Options, Tracking, TransferFees};
use crate::ledger::{DisposalKind, TaxEvent, TaxLeg, Term};

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn at(date: &str) -> i64 {
    let day: NaiveDate = date.parse().unwrap();
    day.and_hms_opt(12, 0, 0).unwrap().and_utc().timestamp_millis()
}

/// A leg: role, asset, signed amount, value.
fn leg(role: LegRole, asset: &str, amount: &str, value: &str) -> TaxLeg {
    TaxLeg { seq: 0, role, asset: asset.into(), amount: d(amount), value: Some(d(value)) }
}

fn event(id: i64, account: i64, kind: EventKind, date: &str, legs: Vec<TaxLeg>) -> TaxEvent {
    let legs = legs.into_iter().enumerate().map(|(i, l)| TaxLeg { seq: i as i64, ..l }).collect();
    TaxEvent { id, account_id: account, kind, time_ms: at(date), basis: None, legs }
}

/// Buys `amount` BTC for `usd` dollars in `account`.
fn buy(id: i64, account: i64, date: &str, asset: &str, amount: &str, usd: &str) -> TaxEvent {
    event(
        id,
        account,
        EventKind::Trade,
        date,
        vec![leg(LegRole::Sent, "USD", &format!("-{usd}"), usd), leg(LegRole::Received, asset, amount, usd)],
    )
}

fn sell(id: i64, account: i64, date: &str, asset: &str, amount: &str, usd: &str) -> TaxEvent {
    event(
        id,
        account,
        EventKind::Trade,
        date,
        vec![leg(LegRole::Sent, asset, &format!("-{amount}"), usd), leg(LegRole::Received, "USD", usd, usd)],
    )
}

fn options(method: Method, tracking: Tracking, year: Option<i32>) -> Options {
    Options { method, tracking, transfer_fees: TransferFees::Dispose, year, what_if: false }
}

fn run(options: Options, transfers: &[TransferPlan], events: &[TaxEvent]) -> Computation {
    let labels = BTreeMap::from([(1, "a".to_owned()), (2, "b".to_owned())]);
    let mut engine = Engine::new(options, transfers, labels);
    for e in events {
        engine.process(e);
    }
    engine.finish()
}

fn report(computation: &Computation, options: Options) -> Report {
    let labels = BTreeMap::from([(1, "a".to_owned()), (2, "b".to_owned())]);
    Report::new(options.year.unwrap_or(0), "USD", options, computation, &labels, "")
}

/// Lot identification (FIFO, LIFO, HIFO, specific ID): L1–L4, then 1.5 BTC sold on 2024-08-01 for 75,000.
#[test]
fn the_four_methods_on_the_reference_lots() {
    let events = [
        buy(1, 1, "2023-01-10", "BTC", "1.0", "20000"),
        buy(2, 1, "2023-06-01", "BTC", "1.0", "30000"),
        buy(3, 1, "2024-03-01", "BTC", "1.0", "60000"),
        buy(4, 1, "2024-05-01", "BTC", "1.0", "40000"),
        sell(5, 1, "2024-08-01", "BTC", "1.5", "75000"),
    ];
    // (method, basis, short-term gain, long-term gain, rows as (lot, basis, gain))
    let cases = [
        (Method::Fifo, "35000", "0", "40000", vec![(1, "20000", "30000"), (2, "15000", "10000")]),
        (Method::Lifo, "70000", "5000", "0", vec![(4, "40000", "10000"), (3, "30000", "-5000")]),
        (Method::Hifo, "80000", "-5000", "0", vec![(3, "60000", "-10000"), (4, "20000", "5000")]),
        (Method::Lofo, "35000", "0", "40000", vec![(1, "20000", "30000"), (2, "15000", "10000")]),
    ];
    for (method, basis, short, long, rows) in cases {
        let opts = options(method, Tracking::Universal, Some(2024));
        let c = run(opts, &[], &events);
        let r = report(&c, opts);
        assert_eq!(r.totals.proceeds, d("75000"), "{method:?}");
        assert_eq!(r.totals.cost_basis, d(basis), "{method:?}");
        assert_eq!((r.totals.short_term_gain, r.totals.long_term_gain), (d(short), d(long)), "{method:?}");
        let got: Vec<(i64, Decimal, Decimal)> =
            c.disposals.iter().map(|x| (x.lot_event_id.unwrap(), x.cost_basis, x.gain())).collect();
        let want: Vec<(i64, Decimal, Decimal)> = rows.iter().map(|(l, b, g)| (*l, d(b), d(g))).collect();
        assert_eq!(got, want, "{method:?}");
        // Proceeds are apportioned by units: 50,000 per whole unit.
        assert_eq!(c.disposals[0].proceeds, d("50000"));
    }
}

/// Per-wallet lots (Rev. Proc. 2024-28): wallet A bought 1 BTC on 2025-01-05 for 90,000, wallet B holds 1 BTC
/// bought 2021-03-01 for 50,000; A sells 1 BTC on 2025-06-01 for 100,000.
#[test]
fn per_wallet_and_universal_differ_and_us_rules_use_the_wallet() {
    let events = [
        buy(1, 2, "2021-03-01", "BTC", "1", "50000"),
        buy(2, 1, "2025-01-05", "BTC", "1", "90000"),
        sell(3, 1, "2025-06-01", "BTC", "1", "100000"),
    ];
    let universal = run(options(Method::Fifo, Tracking::Universal, Some(2025)), &[], &events);
    assert_eq!(universal.disposals.len(), 1);
    assert_eq!((universal.disposals[0].gain(), universal.disposals[0].term), (d("50000"), Term::Long));
    for tracking in [Tracking::PerWallet, Tracking::Us] {
        let c = run(options(Method::Fifo, tracking, Some(2025)), &[], &events);
        assert_eq!((c.disposals[0].gain(), c.disposals[0].term), (d("10000"), Term::Short), "{tracking:?}");
        // Wallet B still holds its 2021 lot.
        assert_eq!(c.holdings.len(), 1);
        assert_eq!((c.holdings[0].account_id, c.holdings[0].lot_event_id), (Some(2), 1));
    }
}

/// Under the US rule, lots pooled before 2025 are handed to the wallets holding the asset on
/// 1 January 2025, oldest first, wallets by label.
#[test]
fn us_rules_reseat_the_unused_basis_on_the_first_of_january_2025() {
    let events = [
        buy(1, 1, "2020-01-01", "BTC", "1", "10000"),
        buy(2, 2, "2021-01-01", "BTC", "1", "30000"),
        // Universal FIFO in 2024: b sells, and the pool gives it a's 2020 lot.
        sell(3, 2, "2024-02-01", "BTC", "0.5", "20000"),
        sell(4, 1, "2025-03-01", "BTC", "1", "80000"),
    ];
    let c = run(options(Method::Fifo, Tracking::Us, None), &[], &events);
    assert_eq!(c.disposals[0].lot_event_id, Some(1));
    assert_eq!(c.disposals[0].cost_basis, d("5000"));
    // On 1 Jan 2025: a holds 1 BTC and gets 0.5 of lot 1 (5,000) and 0.5 of lot 2 (15,000);
    // b holds 0.5 BTC and gets the rest of lot 2 (15,000).
    let sale: Vec<(Option<i64>, Decimal)> = c.disposals[1..].iter().map(|x| (x.lot_event_id, x.cost_basis)).collect();
    assert_eq!(sale, [(Some(1), d("5000")), (Some(2), d("15000"))]);
    assert_eq!(c.holdings.len(), 1);
    assert_eq!((c.holdings[0].account_id, c.holdings[0].cost_basis), (Some(2), d("15000")));
}

/// An own transfer keeps the acquisition date: bought 2022-01-10 on exchange a, moved to
/// wallet b on 2023-06-01 (1 BTC left, 0.9995 arrived; BTC at 25,000, so the fee is worth
/// 12.50), sold in b on 2023-07-01 for 30,000 a BTC.
#[test]
fn a_transfer_keeps_a_long_term_holding_long_term() {
    let events = [
        buy(1, 1, "2022-01-10", "BTC", "1", "40000"),
        event(2, 1, EventKind::Withdrawal, "2023-06-01", vec![leg(LegRole::Sent, "BTC", "-1", "25000")]),
        event(3, 2, EventKind::Deposit, "2023-06-01", vec![leg(LegRole::Received, "BTC", "0.9995", "24987.5")]),
        sell(4, 2, "2023-07-01", "BTC", "0.9995", "29985"),
    ];
    let transfers = [TransferPlan { withdrawal: 2, deposit: 3, to_account: 2, sent: d("1"), received: d("0.9995") }];
    let opts = options(Method::Fifo, Tracking::PerWallet, Some(2023));
    let c = run(opts, &transfers, &events);
    let rows: Vec<(DisposalKind, Decimal, Decimal, Decimal, Term)> =
        c.disposals.iter().map(|x| (x.kind, x.amount, x.proceeds, x.cost_basis, x.term)).collect();
    assert_eq!(
        rows,
        [
            (DisposalKind::TransferFee, d("0.0005"), d("12.5"), d("20"), Term::Long),
            (DisposalKind::Sale, d("0.9995"), d("29985"), d("39980"), Term::Long),
        ]
    );
    assert!(c.removals.is_empty() && c.basis_gaps.is_empty());

    // The alternative: the fee is not disposed of; its basis rides on the units that arrived.
    let carry = Options { transfer_fees: TransferFees::Carry, ..opts };
    let c = run(carry, &transfers, &events);
    assert_eq!(c.disposals.len(), 1);
    assert_eq!((c.disposals[0].cost_basis, c.disposals[0].gain()), (d("40000"), d("-10015")));
}

/// Fees: into basis on a purchase, out of proceeds on a sale.
#[test]
fn fees_go_into_basis_and_out_of_proceeds() {
    let mut b = buy(1, 1, "2024-01-02", "BTC", "1", "20000");
    b.legs.push(TaxLeg { seq: 2, ..leg(LegRole::Fee, "USD", "-10", "10") });
    let mut s = sell(2, 1, "2024-02-02", "BTC", "1", "30000");
    s.legs.push(TaxLeg { seq: 2, ..leg(LegRole::Fee, "USD", "-15", "15") });
    let c = run(options(Method::Fifo, Tracking::Universal, Some(2024)), &[], &[b, s]);
    assert_eq!(c.disposals.len(), 1);
    assert_eq!((c.disposals[0].proceeds, c.disposals[0].cost_basis), (d("29985"), d("20010")));
    assert_eq!(c.disposals[0].gain(), d("9975"));
}

/// A crypto-to-crypto trade with its fee paid in crypto: the fee lowers the proceeds of what
/// was given up, and the fee's units are themselves disposed of at their value (§1.5).
#[test]
fn a_crypto_fee_is_a_cost_and_a_disposal() {
    let events = [
        buy(1, 1, "2024-01-01", "BTC", "1", "20000"),
        buy(2, 1, "2024-01-01", "ETH", "10", "10000"),
        event(
            3,
            1,
            EventKind::Trade,
            "2024-03-01",
            vec![
                leg(LegRole::Sent, "ETH", "-2", "6000"),
                leg(LegRole::Received, "BTC", "0.1", "6000"),
                leg(LegRole::Fee, "BTC", "-0.001", "60"),
            ],
        ),
    ];
    let c = run(options(Method::Fifo, Tracking::Universal, Some(2024)), &[], &events);
    let rows: Vec<(&str, DisposalKind, Decimal, Decimal)> =
        c.disposals.iter().map(|x| (x.asset.as_str(), x.kind, x.proceeds, x.cost_basis)).collect();
    assert_eq!(rows, [("ETH", DisposalKind::Sale, d("5940"), d("2000")), ("BTC", DisposalKind::Fee, d("60"), d("20"))]);
    let btc: Vec<(i64, Decimal, Decimal)> =
        c.holdings.iter().filter(|h| h.asset == "BTC").map(|h| (h.lot_event_id, h.amount, h.cost_basis)).collect();
    assert_eq!(btc, [(1, d("0.999"), d("19980")), (3, d("0.1"), d("6000"))]);
}

/// Income at its value when received, which is then the lot's basis.
#[test]
fn staking_income_is_the_basis_of_its_lot() {
    let events = [
        event(1, 1, EventKind::Staking, "2024-05-01", vec![leg(LegRole::Received, "ETH", "0.1", "300")]),
        sell(2, 1, "2024-06-01", "ETH", "0.1", "350"),
    ];
    let opts = options(Method::Lifo, Tracking::Universal, Some(2024));
    let c = run(opts, &[], &events);
    assert_eq!(c.income.len(), 1);
    assert_eq!((c.income[0].kind, c.income[0].value), (EventKind::Staking, d("300")));
    assert_eq!((c.disposals[0].cost_basis, c.disposals[0].gain()), (d("300"), d("50")));
    let r = report(&c, opts);
    assert_eq!((r.totals.income, r.income_by_kind["staking"]), (d("300"), d("300")));
}

/// The boundary day of the holding period, through the engine.
#[test]
fn one_year_is_short_and_the_day_after_is_long() {
    for (sold, want) in [("2024-06-19", Term::Short), ("2024-06-20", Term::Long)] {
        let events = [buy(1, 1, "2023-06-19", "BTC", "1", "100"), sell(2, 1, sold, "BTC", "1", "200")];
        let c = run(options(Method::Fifo, Tracking::Universal, Some(2024)), &[], &events);
        assert_eq!(c.disposals[0].term, want, "{sold}");
    }
}

/// A deposit from outside: no basis unless the user gave one; selling more than was held
/// makes a row without basis.
#[test]
fn deposits_without_basis_are_flagged_and_a_given_basis_is_used() {
    let unknown = event(1, 1, EventKind::Deposit, "2024-01-01", vec![leg(LegRole::Received, "BTC", "1", "40000")]);
    let given = TaxEvent { basis: Some(d("35000")), ..unknown.clone() };
    for (deposit, basis, missing) in [(unknown, "0", true), (given, "35000", false)] {
        let events = [deposit, sell(2, 1, "2024-02-01", "BTC", "1.5", "60000")];
        let c = run(options(Method::Fifo, Tracking::Universal, Some(2024)), &[], &events);
        assert_eq!((c.disposals[0].cost_basis, c.disposals[0].basis_missing), (d(basis), missing));
        assert_eq!(c.basis_gaps.len(), usize::from(missing));
        // The half BTC never held: basis zero, flagged, no lot.
        assert_eq!((c.disposals[1].amount, c.disposals[1].lot_event_id), (d("0.5"), None));
        assert!(c.disposals[1].basis_missing);
        assert_eq!(c.negatives[&(1, "BTC".to_owned())].event_id, 2);
    }
}

/// An engine that keeps no rows (`check`'s, [`crate::tax::compute_findings`]) finds the same
/// gaps, negative balances, removals and holdings as one that keeps them all.
#[test]
fn an_engine_keeping_no_rows_finds_the_same() {
    let unknown = event(1, 1, EventKind::Deposit, "2024-01-01", vec![leg(LegRole::Received, "BTC", "1", "40000")]);
    let reward = event(3, 1, EventKind::Staking, "2024-03-01", vec![leg(LegRole::Received, "ETH", "1", "3000")]);
    let events =
        [unknown, sell(2, 1, "2024-02-01", "BTC", "1.5", "60000"), reward, buy(4, 2, "2024-04-01", "SOL", "2", "200")];
    let options = options(Method::Fifo, Tracking::Universal, None);
    let labels = BTreeMap::from([(1, "a".to_owned()), (2, "b".to_owned())]);
    let mut engine = Engine::new(options, &[], labels).keeping_from(i64::MAX);
    for e in &events {
        engine.process(e);
    }
    let findings = engine.finish();
    let all = run(options, &[], &events);
    assert!(!all.disposals.is_empty() && !all.income.is_empty());
    assert!(findings.disposals.is_empty() && findings.income.is_empty());
    assert_eq!(
        (&findings.basis_gaps, &findings.negatives, &findings.removals, &findings.holdings),
        (&all.basis_gaps, &all.negatives, &all.removals, &all.holdings)
    );
    assert_eq!(findings.basis_gaps.len(), 1);
}

/// Rows are rounded to the cent before they are added up, a sale as a whole: its rows add up
/// to its own rounded proceeds and basis.
#[test]
fn totals_are_sums_of_rows_rounded_to_the_cent() {
    let events = [
        buy(1, 1, "2024-01-01", "BTC", "1", "100.004"),
        buy(2, 1, "2024-01-02", "BTC", "1", "100.004"),
        sell(3, 1, "2024-02-01", "BTC", "2", "300.01"),
    ];
    let opts = options(Method::Fifo, Tracking::Universal, Some(2024));
    let r = report(&run(opts, &[], &events), opts);
    // The sale: proceeds 300.01, basis 200.008 → 200.01. Rows: proceeds 150.005 each → 150.01
    // and 150.00 (the cent to the first of equal remainders), basis 100.004 each → 100.01 and
    // 100.00 — not 150.01 twice (300.02, a cent the sale never had).
    assert_eq!((r.totals.proceeds, r.totals.cost_basis), (d("300.01"), d("200.01")));
    assert_eq!(r.totals.short_term_gain, d("100.00"));
    let json = serde_json::to_value(r.to_json()).unwrap();
    assert_eq!(json["totals"]["proceeds"], "300.01");
    assert_eq!(json["disposals"][0]["gain"], "50.00");
    assert_eq!(json["disposals"][1]["proceeds"], "150.00");
    assert_eq!(json["lots"], "universal");
}

/// `report --json` writes each year's disposals one at a time: the bytes are those of the
/// whole document made as a `serde_json::Value` (its keys in order), with and without the
/// optional members and with no disposal at all.
#[test]
fn a_document_written_as_it_is_made_is_the_value_printed() {
    let events = [
        buy(1, 1, "2024-01-01", "BTC", "1", "100.004"),
        buy(2, 1, "2024-01-02", "ETH", "3", "9000"),
        sell(3, 1, "2024-02-01", "BTC", "0.5", "300.01"),
        sell(4, 1, "2024-03-01", "ETH", "2", "7000"),
        sell(5, 1, "2025-03-01", "BTC", "0.5", "310"),
    ];
    let closed = crate::closed::ClosedJson {
        this_year: false,
        starts_from: Some(2023),
        years: vec![crate::closed::ClosedYearJson {
            year: 2023,
            inputs_hash: "h".into(),
            closed_at: "2025-04-01T00:00:00Z".into(),
            inputs_changed: true,
        }],
    };
    let cases = [(2024, 5, None), (2024, 5, Some(closed.clone())), (2025, 5, Some(closed)), (2024, 2, None)];
    for (year, take, closed) in cases {
        let opts = options(Method::Fifo, Tracking::Universal, Some(year));
        let mut r = report(&run(opts, &[], &events[..take]), opts);
        if year == 2025 {
            r.allocation = Some("an allocation".into());
        }
        let mut whole = r.to_json();
        whole.closed = closed.clone();
        let expected = serde_json::to_string_pretty(&serde_json::to_value(&whole).unwrap()).unwrap();
        let lines = r.lines.len();
        let written = serde_json::to_string_pretty(&r.into_json_document(closed).unwrap()).unwrap();
        assert_eq!(written, expected, "{year} ({lines} disposals)");
        assert_eq!(lines > 0, take > 2, "{year}");
    }
}

/// Cents that add up: a $100.00 sale over three lots (each bought for $10.00 / 3 … kept
/// exact) prints rows that sum to the sale's own $100.00, not 33.33 × 3 = 99.99; the report's
/// totals are the sums of its rows.
#[test]
fn a_sale_over_three_lots_is_rounded_as_a_whole() {
    let events = [
        buy(1, 1, "2025-01-10", "BTC", "1", "10"),
        buy(2, 1, "2025-01-11", "BTC", "1", "10"),
        buy(3, 1, "2025-01-12", "BTC", "1", "10"),
        sell(4, 1, "2025-03-01", "BTC", "3", "100"),
    ];
    let opts = options(Method::Fifo, Tracking::Us, Some(2025));
    let c = run(opts, &[], &events);
    assert_eq!(c.disposals.len(), 3);
    let r = report(&c, opts);
    let proceeds: Vec<Decimal> = r.lines.iter().map(|l| l.proceeds).collect();
    // The engine gives the last fragment the remainder of the exact split (…34 in the 28th
    // place): the largest remainder, so it gets the cent.
    assert_eq!(proceeds, [d("33.33"), d("33.33"), d("33.34")]);
    assert_eq!(r.totals.proceeds, d("100.00"));
    assert_eq!(r.totals.cost_basis, d("30.00"));
    assert_eq!(r.totals.short_term_gain, r.lines.iter().map(|l| l.gain()).sum::<Decimal>());
}

/// Covered units (box G/J from 2026) are those bought in the selling account that never left
/// it: a lot sent away and back is not, nor is one bought elsewhere.
#[test]
fn units_that_left_their_account_are_not_acquired_here() {
    let events = [
        buy(1, 1, "2026-01-05", "BTC", "1", "90000"),
        buy(2, 1, "2026-01-06", "BTC", "1", "91000"),
        event(3, 1, EventKind::Withdrawal, "2026-01-07", vec![leg(LegRole::Sent, "BTC", "-1", "92000")]),
        event(4, 2, EventKind::Deposit, "2026-01-07", vec![leg(LegRole::Received, "BTC", "1", "92000")]),
        event(5, 2, EventKind::Withdrawal, "2026-01-08", vec![leg(LegRole::Sent, "BTC", "-1", "92000")]),
        event(6, 1, EventKind::Deposit, "2026-01-08", vec![leg(LegRole::Received, "BTC", "1", "92000")]),
        sell(7, 1, "2026-02-01", "BTC", "2", "200000"),
    ];
    let transfers = [
        TransferPlan { withdrawal: 3, deposit: 4, to_account: 2, sent: d("1"), received: d("1") },
        TransferPlan { withdrawal: 5, deposit: 6, to_account: 1, sent: d("1"), received: d("1") },
    ];
    let c = run(options(Method::Fifo, Tracking::PerWallet, Some(2026)), &transfers, &events);
    let rows: Vec<(Option<i64>, bool)> = c.disposals.iter().map(|x| (x.lot_event_id, x.acquired_here)).collect();
    // FIFO moved the 2026-01-05 lot away and back; the 2026-01-06 lot never left.
    assert_eq!(rows, [(Some(1), false), (Some(2), true)]);
}

/// Box G with a wrong basis (Form 8949 instructions, column (e) and code B: in a box where
/// the basis was reported to the IRS, enter the basis shown on the form and correct it in
/// column (g)): 2 BTC sold over two lots (basis 30,000 and 40,000) for 100,000; the broker
/// shows basis 69,000. Each row carries its share of the broker's basis (by units), code B,
/// and the adjustment that gives back cointally's gain.
#[test]
fn a_wrong_reported_basis_is_written_as_shown_and_corrected_with_code_b() {
    use super::reconcile::reconcile;
    use crate::ledger::StatementRow;
    let events = [
        buy(1, 1, "2026-01-05", "BTC", "1", "30000"),
        buy(2, 1, "2026-01-06", "BTC", "1", "40000"),
        sell(3, 1, "2026-03-01", "BTC", "2", "100000"),
    ];
    let opts = options(Method::Fifo, Tracking::PerWallet, Some(2026));
    let c = run(opts, &[], &events);
    let mut r = report(&c, opts);
    let row = StatementRow {
        line: 2,
        checkbox: "G".into(),
        dtif_code: String::new(),
        asset: "BTC".into(),
        units: d("2"),
        date_acquired: None,
        date_sold: "2026-03-01".parse().unwrap(),
        proceeds: d("100000"),
        cost_basis: Some(d("69000")),
        basis_reported: true,
        term: Some(Term::Short),
        noncovered: false,
    };
    let rec = reconcile(&r.lines, &c.disposals, &[(1, row)], super::zone::Zone::UTC);
    assert_eq!(rec.matched.len(), 1);
    r.apply(&rec, &c.disposals);
    let got: Vec<(&str, Decimal, Decimal, String, Decimal, Decimal)> = r
        .lines
        .iter()
        .map(|l| {
            let a = l.adjustment.clone().unwrap();
            (l.form_box.as_str(), a.proceeds, a.cost_basis, a.codes, a.amount, a.proceeds - a.cost_basis + a.amount)
        })
        .collect();
    assert_eq!(
        got,
        [
            ("G", d("50000"), d("34500"), "B".to_owned(), d("4500"), d("20000")),
            ("G", d("50000"), d("34500"), "B".to_owned(), d("-5500"), d("10000")),
        ]
    );
}

/// A transfer's network fee is a disposal like any other: under LIFO the fee takes the newest
/// lot, as any LIFO sale would, before the moved units are chosen (before, the moved units were
/// taken first and the fee got what was left). Lots: 1 BTC at 20,000 (2024-01-01), 1 BTC at
/// 30,000 (2024-02-01); 1.5 BTC sent, 1.4 arrive (0.1 lost, worth 4,000 at 40,000 a BTC).
#[test]
fn a_transfer_fee_takes_the_lots_the_method_picks_first() {
    let events = [
        buy(1, 1, "2024-01-01", "BTC", "1", "20000"),
        buy(2, 1, "2024-02-01", "BTC", "1", "30000"),
        event(3, 1, EventKind::Withdrawal, "2024-03-01", vec![leg(LegRole::Sent, "BTC", "-1.5", "60000")]),
        event(4, 2, EventKind::Deposit, "2024-03-01", vec![leg(LegRole::Received, "BTC", "1.4", "56000")]),
    ];
    let transfers = [TransferPlan { withdrawal: 3, deposit: 4, to_account: 2, sent: d("1.5"), received: d("1.4") }];
    // (method, the fee's lot and basis, the basis that moved)
    for (method, lot, fee_basis, moved_basis) in
        [(Method::Lifo, 2, "3000", "37000"), (Method::Hifo, 2, "3000", "37000"), (Method::Fifo, 1, "2000", "33000")]
    {
        let c = run(options(method, Tracking::PerWallet, Some(2024)), &transfers, &events);
        assert_eq!(c.disposals.len(), 1, "{method:?}");
        let fee = &c.disposals[0];
        assert_eq!((fee.kind, fee.lot_event_id, fee.cost_basis), (DisposalKind::TransferFee, Some(lot), d(fee_basis)));
        assert_eq!(fee.proceeds, d("4000"));
        let moved: Decimal = c.holdings.iter().filter(|h| h.account_id == Some(2)).map(|h| h.cost_basis).sum();
        assert_eq!(moved, d(moved_basis), "{method:?}");
    }
}

/// A tax-free swap (a token migration the user marks `swap`) moves the given token's lots to
/// the received token with their basis and acquisition dates: no disposal at the swap, and
/// the later sale is long-term from the original purchases. A plain conversion disposes.
#[test]
fn a_swap_carries_basis_and_dates_to_the_new_token() {
    let swap = |kind| {
        event(
            3,
            1,
            kind,
            "2024-02-01",
            vec![leg(LegRole::Sent, "OLD", "-3", "900"), leg(LegRole::Received, "NEW", "30", "900")],
        )
    };
    let history = |kind| {
        [
            buy(1, 1, "2023-01-10", "OLD", "1", "100"),
            buy(2, 1, "2023-03-10", "OLD", "2", "500"),
            swap(kind),
            sell(4, 1, "2024-06-01", "NEW", "15", "750"),
        ]
    };
    let opts = options(Method::Fifo, Tracking::Universal, Some(2024));
    let c = run(opts, &[], &history(EventKind::Swap));
    // 15 NEW = the 1 OLD of lot 1 (10 NEW, basis 100) and a quarter of lot 2 (2 OLD = 20 NEW,
    // basis 500: 5 NEW, basis 125).
    let rows: Vec<(Option<i64>, Decimal, Decimal, Decimal, Term)> =
        c.disposals.iter().map(|x| (x.lot_event_id, x.amount, x.cost_basis, x.proceeds, x.term)).collect();
    assert_eq!(
        rows,
        vec![(Some(1), d("10"), d("100"), d("500"), Term::Long), (Some(2), d("5"), d("125"), d("250"), Term::Long),]
    );
    let r = report(&c, opts);
    assert_eq!((r.totals.cost_basis, r.totals.long_term_gain, r.totals.short_term_gain), (d("225"), d("525"), d("0")));
    // The same event as a conversion is a disposal at 900 and a new short-term lot.
    let c = run(opts, &[], &history(EventKind::Conversion));
    assert_eq!(c.disposals.iter().filter(|x| x.event_id == 3).map(|x| x.proceeds).sum::<Decimal>(), d("900"));
    assert!(c.disposals.iter().filter(|x| x.event_id == 4).all(|x| x.term == Term::Short));
}

/// A year of hourly earnings worth 0.4 of a cent each (8,760 rows, 35.04 USD): rounded row by
/// row they were worth nothing; the year's income is its exact sum rounded once, and the
/// rows' cents (spread) add up to it, per asset and per kind too.
#[test]
fn many_earnings_of_a_fraction_of_a_cent_add_up_to_their_sum() {
    let income: Vec<crate::ledger::IncomeRow> = (0..8_760)
        .map(|h| crate::ledger::IncomeRow {
            event_id: h + 1,
            account_id: 1,
            kind: if h % 2 == 0 { EventKind::Interest } else { EventKind::Staking },
            asset: "USDT".into(),
            amount: d("0.004"),
            received_ms: 1_704_067_200_000 + h * 3_600_000,
            value: d("0.004"),
            price_missing: false,
        })
        .collect();
    let computation = Computation { income, ..Computation::default() };
    let r = report(&computation, options(Method::Fifo, Tracking::Universal, Some(2024)));
    assert_eq!(r.totals.income, d("35.04"), "the exact sum, 8,760 x 0.004");
    assert_eq!(r.assets.get("USDT").map(|a| a.income), Some(d("35.04")));
    let by_kind: Decimal = r.income_by_kind.values().copied().sum();
    assert_eq!(by_kind, d("35.04"));
    // Half the rows are each kind: each gets its share of the cents within one cent.
    for value in r.income_by_kind.values() {
        assert!((*value - d("17.52")).abs() <= d("0.01"), "{value}");
    }
}

use super::*;

fn sim() -> OkxSim {
    let profile = OkxProfile { bills: 300, ..OkxProfile::demo() };
    start(SimConfig { profile, metered: false, ..SimConfig::demo(7) }).unwrap()
}

#[test]
fn the_bills_add_up_to_the_balances_and_never_go_negative() {
    let sim = sim();
    let bills = sim.bills();
    assert!(bills.len() >= 300, "{}", bills.len());
    let mut totals: BTreeMap<(Book, String), Decimal> = BTreeMap::new();
    for bill in &bills {
        let total = totals.entry((bill.book, bill.ccy.clone())).or_default();
        *total += bill.change;
        assert!(!total.is_sign_negative(), "{bill:?}");
        assert_eq!(*total, bill.balance, "{bill:?}");
    }
    let mut by_ccy: BTreeMap<String, Decimal> = BTreeMap::new();
    for ((_, ccy), amount) in totals {
        *by_ccy.entry(ccy).or_default() += amount;
    }
    for (ccy, position) in sim.savings() {
        *by_ccy.entry(ccy).or_default() += position.amt;
    }
    by_ccy.retain(|_, amount| !amount.is_zero());
    let by_ccy: BTreeMap<String, Decimal> = by_ccy.into_iter().map(|(c, a)| (c, a.normalize())).collect();
    assert_eq!(by_ccy, sim.balances());
    let kinds: std::collections::BTreeSet<&str> = bills.iter().map(|b| b.kind).collect();
    for kind in ["1", "2", "75", "76", "130", "131", "139", "221"] {
        assert!(kinds.contains(kind), "no bill of type {kind}: {kinds:?}");
    }
    // Ids grow with time within each account.
    for book in [Book::Trading, Book::Funding] {
        let ids: Vec<(i64, u64)> = bills.iter().filter(|b| b.book == book).map(|b| (b.ts, b.id)).collect();
        assert!(ids.windows(2).all(|w| w[0].0 <= w[1].0 && w[0].1 < w[1].1), "{book:?}");
    }
}

#[test]
fn a_wrong_signature_passphrase_or_stale_timestamp_is_refused_with_okx_codes() {
    let sim = sim();
    let key = SimKey::demo();
    let client = reqwest::blocking::Client::new();
    let call = |passphrase: &str, secret: &str, ts_ms: i64| {
        let ts = auth::timestamp(ts_ms);
        let path = "/api/v5/account/config";
        let sign = auth::signature(&Secret::new(secret), &ts, "GET", path, "");
        let answer = client
            .get(format!("{}{path}", sim.base_url()))
            .header("OK-ACCESS-KEY", &key.api_key)
            .header("OK-ACCESS-SIGN", sign)
            .header("OK-ACCESS-TIMESTAMP", ts)
            .header("OK-ACCESS-PASSPHRASE", passphrase)
            .send()
            .unwrap();
        let status = answer.status().as_u16();
        let body: serde_json::Value = serde_json::from_str(&answer.text().unwrap()).unwrap();
        (status, body["code"].as_str().unwrap_or_default().to_owned())
    };
    let now = now_ms();
    assert_eq!(call(&key.passphrase, &key.secret, now), (200, "0".to_owned()));
    assert_eq!(call(&key.passphrase, "WRONG", now), (401, "50113".to_owned()));
    assert_eq!(call("wrong", &key.secret, now), (401, "50105".to_owned()));
    assert_eq!(call(&key.passphrase, &key.secret, now - 60_000), (401, "50102".to_owned()));
    assert_eq!(sim.stats().refused, 3);
}

#[test]
fn each_crypto_deposit_and_withdrawal_bill_has_its_history_record_with_its_fee() {
    let sim = sim();
    let bills = sim.bills();
    let transfers = sim.transfers();
    let crypto = |b: &&Bill| b.book == Book::Funding && ((b.kind == "1" && b.ccy != "EUR") || b.kind == "2");
    assert_eq!(transfers.len(), bills.iter().filter(crypto).count());
    assert!(transfers.iter().any(|t| t.withdrawal) && transfers.iter().any(|t| !t.withdrawal));
    for t in &transfers {
        let bill = bills.iter().find(|b| b.id == t.bill_id && b.book == Book::Funding).unwrap();
        assert_eq!(bill.change.abs(), t.amount, "{t:?}");
        if t.withdrawal {
            let fee = bills.iter().find(|b| b.kind == "221" && b.ts == bill.ts && b.ccy == bill.ccy).unwrap();
            assert_eq!(fee.change.abs(), t.fee, "{t:?}");
            assert!(!t.fee.is_zero());
        }
        assert_eq!(t.json("2")["txId"], t.tx_id.as_str());
    }
    let ids: std::collections::BTreeSet<&str> = transfers.iter().map(|t| t.tx_id.as_str()).collect();
    assert_eq!(ids.len(), transfers.len(), "every hash is its own");
}

#[test]
fn simple_earn_positions_are_their_subscriptions_and_earnings_less_their_redemptions() {
    let sim = sim();
    let mut lending = sim.lending();
    assert!(lending.len() > 20, "{} earnings", lending.len());
    assert!(lending.windows(2).all(|w| w[0].ts < w[1].ts), "the lending history is in time order");
    assert!(lending.iter().all(|e| e.ts % history::HOUR_MS == 0 && e.earnings > Decimal::ZERO));
    // Per currency: what went in (75) and was earned, less what came out (76), is what is in.
    let bills = sim.bills();
    let mut held: BTreeMap<String, Decimal> = BTreeMap::new();
    for bill in bills.iter().filter(|b| b.book == Book::Funding && (b.kind == "75" || b.kind == "76")) {
        *held.entry(bill.ccy.clone()).or_default() -= bill.change;
    }
    for earning in &lending {
        *held.entry(earning.ccy.clone()).or_default() += earning.earnings;
    }
    held.retain(|_, amount| !amount.is_zero());
    let open: BTreeMap<String, Decimal> = sim.savings().into_iter().map(|(c, p)| (c, p.amt)).collect();
    assert_eq!(held, open);
    // A subscription now earns, stays open, and its redemption takes back all of it.
    let usdt = sim.balances().get("USDT").copied().unwrap_or_default();
    for ccy in open.keys() {
        sim.redeem(ccy).unwrap();
    }
    assert!(usdt > Decimal::ONE, "{usdt}");
    let id = sim.subscribe("USDT", Decimal::ONE, 3).expect("1 USDT in the funding account");
    assert!(sim.bills().iter().any(|b| b.id == id && b.kind == "75"));
    lending = sim.lending();
    let new: Vec<&Earning> = lending.iter().rev().take(3).collect();
    assert!(new.iter().all(|e| e.ccy == "USDT"), "{new:?}");
    let position = sim.savings()["USDT"].clone();
    assert_eq!(position.amt, Decimal::ONE + new.iter().map(|e| e.earnings).sum::<Decimal>());
    let (_, amount) = sim.redeem("USDT").unwrap();
    assert_eq!(amount, position.amt);
    assert!(sim.savings().is_empty());
}

#[test]
fn the_lending_history_pages_by_time_with_after_before_and_limit() {
    let sim = sim();
    let lending = sim.lending();
    let state = &sim.state;
    let page = |query: &str| -> Vec<i64> {
        let body = String::from_utf8(state.lending(query).body).unwrap();
        let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
        answer["data"].as_array().unwrap().iter().map(|r| r["ts"].as_str().unwrap().parse().unwrap()).collect()
    };
    let newest: Vec<i64> = lending.iter().rev().take(100).map(|e| e.ts).collect();
    assert_eq!(page(""), newest);
    assert_eq!(page("limit=5"), newest[..5]);
    let after = lending[10].ts;
    assert_eq!(page(&format!("after={after}&limit=3")), [lending[9].ts, lending[8].ts, lending[7].ts]);
    let before = lending[lending.len() - 3].ts;
    assert_eq!(page(&format!("before={before}")), newest[..2]);
    let ccy = &lending[0].ccy;
    assert!(page(&format!("ccy={}", ccy.to_lowercase())).len() <= lending.iter().filter(|e| &e.ccy == ccy).count());
    let refused = String::from_utf8(state.lending("limit=101").body).unwrap();
    assert!(refused.contains("51000"), "{refused}");
}

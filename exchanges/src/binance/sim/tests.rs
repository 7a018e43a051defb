//! The Binance simulator against a real HTTP client, signing with `binance::auth`.

use std::collections::BTreeMap;
use std::str::FromStr;

use reqwest::blocking::Client;
use rust_decimal::Decimal;
use serde_json::Value;

use super::*;
use crate::binance::auth::{API_KEY_HEADER, RecvWindow, signed_query};
use crate::sim::faults::FaultKind;

struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    json: Value,
}

struct Caller {
    http: Client,
    base: String,
    key: SimKey,
}

impl Caller {
    fn new(sim: &BinanceSim) -> Caller {
        Caller { http: Client::new(), base: sim.base_url(), key: SimKey::demo() }
    }

    fn send(&self, path_and_query: &str, api_key: Option<&str>) -> Answer {
        let mut request = self.http.get(format!("{}{path_and_query}", self.base));
        if let Some(key) = api_key {
            request = request.header(API_KEY_HEADER, key);
        }
        let response = request.send().unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().unwrap();
        let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Answer { status, headers, json }
    }

    fn public(&self, path: &str, query: &str) -> Answer {
        self.send(&format!("{path}?{query}"), None)
    }

    fn signed_with(&self, path: &str, params: &[(&str, &str)], secret: &str, timestamp: i64) -> Answer {
        let query = signed_query(&Secret::new(secret), params, Some(RecvWindow::DEFAULT), timestamp).unwrap();
        self.send(&format!("{path}?{query}"), Some(&self.key.api_key))
    }

    fn signed(&self, path: &str, params: &[(&str, &str)]) -> Answer {
        self.signed_with(path, params, &self.key.secret.clone(), now_ms())
    }
}

fn code(answer: &Answer) -> i64 {
    answer.json["code"].as_i64().unwrap_or(0)
}

fn dec(value: &Value) -> Decimal {
    Decimal::from_str(value.as_str().unwrap()).unwrap()
}

fn header(answer: &Answer, name: &str) -> Option<String> {
    answer.headers.get(name).map(|value| value.to_str().unwrap().to_owned())
}

fn sim_with(limits: Limits) -> BinanceSim {
    start(SimConfig { limits, ..SimConfig::demo(21) }).unwrap()
}

#[test]
fn a_correctly_signed_request_succeeds_and_reports_the_balances() {
    let sim = sim_with(Limits::Real);
    let caller = Caller::new(&sim);
    let answer = caller.signed("/api/v3/account", &[]);
    assert_eq!(answer.status, 200, "{}", answer.json);
    let mut reported = BTreeMap::new();
    for balance in answer.json["balances"].as_array().unwrap() {
        let total = dec(&balance["free"]) + dec(&balance["locked"]);
        if !total.is_zero() {
            reported.insert(balance["asset"].as_str().unwrap().to_owned(), total);
        }
        assert_eq!(balance["free"].as_str().unwrap().split('.').nth(1).unwrap().len(), 8);
    }
    assert_eq!(reported, sim.balances());
    assert!(reported.len() >= 8, "{reported:?}");

    let restrictions = caller.signed("/sapi/v1/account/apiRestrictions", &[]);
    assert_eq!(restrictions.status, 200);
    assert_eq!(restrictions.json["enableWithdrawals"], Value::Bool(false));
    assert_eq!(restrictions.json["enableSpotAndMarginTrading"], Value::Bool(false));
    assert_eq!(restrictions.json["ipRestrict"], Value::Bool(false));
}

#[test]
fn signature_key_and_timestamp_errors_are_binances() {
    let sim = sim_with(Limits::Real);
    let caller = Caller::new(&sim);
    let wrong = caller.signed_with("/api/v3/account", &[], "not-the-secret", now_ms());
    assert_eq!((wrong.status, code(&wrong)), (400, -1022));
    let stale = caller.signed_with("/api/v3/account", &[], &SimKey::demo().secret, now_ms() - 60_000);
    assert_eq!((stale.status, code(&stale)), (400, -1021));
    let ahead = caller.signed_with("/api/v3/account", &[], &SimKey::demo().secret, now_ms() + 5_000);
    assert_eq!(code(&ahead), -1021);
    let no_key = caller.send("/api/v3/account?timestamp=1&signature=ab", None);
    assert_eq!((no_key.status, code(&no_key)), (401, -2014));
    let other_key = caller.send("/api/v3/account?timestamp=1&signature=ab", Some("abcdef0123"));
    assert_eq!((other_key.status, code(&other_key)), (401, -2015));
    let too_wide = caller.send("/api/v3/account?recvWindow=70000&timestamp=1&signature=ab", Some(&caller.key.api_key));
    assert_eq!(code(&too_wide), -1131);
    let twice = caller.send("/api/v3/myTrades?symbol=BTCUSDT&symbol=ETHUSDT&timestamp=1", Some(&caller.key.api_key));
    assert_eq!(code(&twice), -1101);
    let unknown = caller.signed("/api/v3/myTrades", &[("symbol", "BTCUSDT"), ("tracking", "1")]);
    assert_eq!(code(&unknown), -1104);
    let unsigned = caller.send("/api/v3/account?timestamp=1", Some(&caller.key.api_key));
    assert_eq!(code(&unsigned), -1102);
    // Upper-case hex signatures are accepted too.
    let query = signed_query(&Secret::new(SimKey::demo().secret), &[], None, now_ms()).unwrap();
    let (signed, signature) = query.split_once("&signature=").unwrap();
    let upper = caller
        .send(&format!("/api/v3/account?{signed}&signature={}", signature.to_uppercase()), Some(&caller.key.api_key));
    assert_eq!(upper.status, 200);
    // A signature in the middle of the query string is taken out before checking.
    let (timestamp, _) = signed.split_once('&').unwrap_or((signed, ""));
    let sig =
        crate::binance::auth::signature(&Secret::new(SimKey::demo().secret), "timestamp=0&omitZeroBalances=true", "")
            .unwrap();
    let _ = timestamp;
    let middle = caller
        .send(&format!("/api/v3/account?timestamp=0&signature={sig}&omitZeroBalances=true"), Some(&caller.key.api_key));
    assert_eq!(code(&middle), -1021, "signature accepted, timestamp 0 refused");
}

#[test]
fn my_trades_parameter_rules() {
    let sim = sim_with(Limits::Real);
    let caller = Caller::new(&sim);
    let now = now_ms().to_string();
    let day_ago = (now_ms() - 25 * 3_600_000).to_string();
    let span = caller.signed("/api/v3/myTrades", &[("symbol", "BTCUSDT"), ("startTime", &day_ago), ("endTime", &now)]);
    assert_eq!((span.status, code(&span)), (400, -1127));
    let combo = caller.signed("/api/v3/myTrades", &[("symbol", "BTCUSDT"), ("fromId", "1"), ("startTime", &day_ago)]);
    assert_eq!(code(&combo), -1128);
    let missing = caller.signed("/api/v3/myTrades", &[("fromId", "1")]);
    assert_eq!(code(&missing), -1102);
    let removed = caller.signed("/api/v3/myTrades", &[("symbol", "USDCBTC")]);
    assert_eq!(code(&removed), -1121);
    let untraded = caller.signed("/api/v3/myTrades", &[("symbol", "BNBETH"), ("fromId", "0")]);
    assert_eq!(untraded.json, Value::Array(vec![]));

    // fromId paging returns every fill of a symbol once, ascending, 8-place padded.
    let (symbol, _) = sim.symbols().into_iter().find(|(symbol, _)| symbol == "BTCUSDT").unwrap();
    let mut from_id = "0".to_owned();
    let mut ids = Vec::new();
    loop {
        let page = caller.signed("/api/v3/myTrades", &[("symbol", &symbol), ("fromId", &from_id), ("limit", "7")]);
        let rows = page.json.as_array().unwrap().clone();
        for row in &rows {
            assert_eq!(dec(&row["price"]) * dec(&row["qty"]), dec(&row["quoteQty"]));
            assert_eq!(row["qty"].as_str().unwrap().split('.').nth(1).unwrap().len(), 8);
            ids.push(row["id"].as_u64().unwrap());
        }
        if rows.len() < 7 {
            break;
        }
        from_id = (ids.last().unwrap() + 1).to_string();
    }
    assert!(ids.len() > 10);
    assert!(ids.windows(2).all(|pair| pair[0] < pair[1]));
    // The delisted symbol is listed as BREAK and still serves its fills and candles.
    let info = caller.public("/api/v3/exchangeInfo", "symbolStatus=BREAK");
    let delisted = info.json["symbols"][0]["symbol"].as_str().unwrap().to_owned();
    assert_eq!(info.json["symbols"].as_array().unwrap().len(), 1);
    let fills = caller.signed("/api/v3/myTrades", &[("symbol", &delisted)]);
    assert!(!fills.json.as_array().unwrap().is_empty());
    let candles =
        caller.public("/api/v3/klines", &format!("symbol={delisted}&interval=1d&startTime=1704067200000&limit=3"));
    assert_eq!(candles.json.as_array().unwrap().len(), 3, "{}", candles.json);
    assert_eq!(candles.json[0][0], Value::from(1_704_067_200_000_i64));
    let bad = caller.public("/api/v3/klines", "symbol=BTCUSDT&interval=7m");
    assert_eq!(code(&bad), -1120);
}

#[test]
fn sapi_windows_are_enforced() {
    let sim = sim_with(Limits::Real);
    let caller = Caller::new(&sim);
    let start = "1704067200000";
    let after = |days: i64| (1_704_067_200_000 + days * 86_400_000).to_string();
    let deposits = caller.signed("/sapi/v1/capital/deposit/hisrec", &[("startTime", start), ("endTime", &after(90))]);
    assert_eq!(code(&deposits), -1127);
    let deposits = caller.signed("/sapi/v1/capital/deposit/hisrec", &[("startTime", start), ("endTime", &after(89))]);
    assert!(deposits.json.is_array(), "{}", deposits.json);
    let earn = caller.signed(
        "/sapi/v1/simple-earn/flexible/history/rewardsRecord",
        &[("type", "ALL"), ("startTime", start), ("endTime", &after(31))],
    );
    assert_eq!(code(&earn), -6021);
    let convert = caller.signed("/sapi/v1/convert/tradeFlow", &[("startTime", start)]);
    assert_eq!(code(&convert), -1102);
    let fiat = caller.signed("/sapi/v1/fiat/payments", &[("beginTime", start)]);
    assert_eq!(code(&fiat), -1102);
    let dividends = caller.signed("/sapi/v1/asset/assetDividend", &[("startTime", start), ("endTime", &after(181))]);
    assert_eq!(code(&dividends), -1127);
    let fiat = caller.signed("/sapi/v1/fiat/orders", &[("transactionType", "0"), ("beginTime", start)]);
    assert_eq!(fiat.json["code"], Value::from("000000"));
    assert!(fiat.json["total"].as_u64().unwrap() >= 1);
}

#[test]
fn too_much_weight_gets_429_then_418() {
    let sim = sim_with(Limits::Scaled { window: Duration::from_secs(5) });
    let caller = Caller::new(&sim);
    let info = caller.public("/api/v3/exchangeInfo", "");
    assert_eq!(info.json["rateLimits"][0]["interval"], Value::from("SECOND"));
    assert_eq!(info.json["rateLimits"][0]["intervalNum"], Value::from(5));
    let mut statuses = Vec::new();
    let mut first_429 = None;
    let mut first_418 = None;
    for _ in 0..2_000 {
        let answer = caller.public("/api/v3/exchangeInfo", "");
        statuses.push(answer.status);
        if answer.status == 429 && first_429.is_none() {
            first_429 = Some(answer);
        } else if answer.status == 418 {
            first_418 = Some(answer);
            break;
        }
    }
    let too_many = first_429.expect("a 429");
    assert_eq!(code(&too_many), -1003);
    let retry: u64 = header(&too_many, "Retry-After").unwrap().parse().unwrap();
    assert!((1..=5).contains(&retry));
    assert_eq!(header(&too_many, "X-MBX-USED-WEIGHT-5S").as_deref(), Some("6000"));
    let banned = first_418.expect("a 418 after repeated 429s");
    assert_eq!(code(&banned), -1003);
    assert!(banned.json["msg"].as_str().unwrap().contains("IP banned until"));
    assert!(header(&banned, "Retry-After").unwrap().parse::<u64>().unwrap() >= 1);
    let stats = sim.stats();
    assert!(stats.rate_limited >= 4 && stats.banned == 1, "{stats:?}");
    assert!(stats.requests_by_path["/api/v3/exchangeInfo"] >= 305);
    assert_eq!(stats.requests, stats.requests_by_path.values().sum::<u64>());
    let api = stats.buckets.iter().find(|bucket| bucket.name == "api").unwrap();
    assert_eq!(api.window, Duration::from_secs(5));
    assert!(api.used.values().any(|used| *used == 6_000));
    assert!(api.used.values().all(|used| *used <= 6_000));
}

#[test]
fn usage_headers_are_present_and_count() {
    let sim = sim_with(Limits::Real);
    let caller = Caller::new(&sim);
    let first = caller.public("/api/v3/time", "");
    let second = caller.public("/api/v3/time", "");
    let (a, b): (u64, u64) = (
        header(&first, "X-MBX-USED-WEIGHT-1M").unwrap().parse().unwrap(),
        header(&second, "X-MBX-USED-WEIGHT-1M").unwrap().parse().unwrap(),
    );
    assert!(b == a + 1 || b == 1, "{a} then {b}");
    assert_eq!(header(&second, "X-MBX-USED-WEIGHT"), header(&second, "X-MBX-USED-WEIGHT-1M"));
    let trades = caller.signed("/api/v3/myTrades", &[("symbol", "BTCUSDT")]);
    let used: u64 = header(&trades, "X-MBX-USED-WEIGHT-1M").unwrap().parse().unwrap();
    assert!(used >= 20);
    let deposits = caller.signed("/sapi/v1/capital/deposit/hisrec", &[]);
    assert!(header(&deposits, "X-SAPI-USED-IP-WEIGHT-1M").is_some());
    let withdrawals = caller.signed("/sapi/v1/capital/withdraw/history", &[]);
    assert_eq!(header(&withdrawals, "X-SAPI-USED-UID-WEIGHT-1S").as_deref(), Some("18000"));
    let fiat = caller.signed("/sapi/v1/fiat/orders", &[("transactionType", "1")]);
    assert_eq!(header(&fiat, "X-SAPI-USED-UID-WEIGHT-1M").as_deref(), Some("90000"));
    // A rejected request is counted too.
    let before: u64 = header(&caller.public("/api/v3/time", ""), "X-MBX-USED-WEIGHT-1M").unwrap().parse().unwrap();
    let rejected = caller.signed_with("/api/v3/account", &[], "wrong", now_ms());
    let after: u64 = header(&rejected, "X-MBX-USED-WEIGHT-1M").unwrap().parse().unwrap();
    assert!(after == before + 20 || after == 20, "{before} then {after}");
}

/// Applies binance-semantics.md to every record the simulator serves.
fn balances_from_records(sim: &BinanceSim) -> BTreeMap<String, Decimal> {
    let store = sim.state.store.read().unwrap();
    let mut balances: BTreeMap<String, Decimal> = BTreeMap::new();
    let mut add = |asset: &str, delta: Decimal| *balances.entry(asset.to_owned()).or_insert(Decimal::ZERO) += delta;
    let parse = |json: &str| serde_json::from_str::<Value>(json).unwrap();
    for (symbol, rows) in &store.trades {
        let pair = sim.state.market.pair(symbol).unwrap();
        for row in rows {
            let trade = parse(row.json.get());
            let sign = if trade["isBuyer"].as_bool().unwrap() { Decimal::ONE } else { Decimal::NEGATIVE_ONE };
            add(&pair.base, sign * dec(&trade["qty"]));
            add(&pair.quote, -sign * dec(&trade["quoteQty"]));
            add(trade["commissionAsset"].as_str().unwrap(), -dec(&trade["commission"]));
        }
    }
    for row in &store.deposits {
        let deposit = parse(row.json.get());
        if matches!(deposit["status"].as_i64(), Some(1 | 6)) {
            add(deposit["coin"].as_str().unwrap(), dec(&deposit["amount"]));
        }
    }
    for row in &store.withdrawals {
        let withdrawal = parse(row.json.get());
        if withdrawal["status"].as_i64() == Some(6) {
            add(withdrawal["coin"].as_str().unwrap(), -dec(&withdrawal["amount"]) - dec(&withdrawal["transactionFee"]));
        }
    }
    for (side, rows) in store.fiat_orders.iter().enumerate() {
        for row in rows {
            let order = parse(row.json.get());
            if matches!(order["status"].as_str(), Some("Successful" | "Finished")) {
                let (amount, fee) = (dec(&order["amount"]), dec(&order["totalFee"]));
                add(order["fiatCurrency"].as_str().unwrap(), if side == 0 { amount - fee } else { -amount - fee });
            }
        }
    }
    for row in &store.fiat_payments[0] {
        let payment = parse(row.json.get());
        if payment["status"].as_str() == Some("Completed") {
            let fiat = payment["fiatCurrency"].as_str().unwrap();
            let (source, fee) = (dec(&payment["sourceAmount"]), dec(&payment["totalFee"]));
            add(fiat, -(source - fee));
            add(fiat, -fee);
            add(payment["cryptoCurrency"].as_str().unwrap(), dec(&payment["obtainAmount"]));
            if payment["paymentMethod"].as_str() != Some("Cash Balance") {
                add(fiat, source);
            }
        }
    }
    for row in &store.converts {
        let convert = parse(row.json.get());
        if convert["orderStatus"].as_str() == Some("SUCCESS") {
            add(convert["fromAsset"].as_str().unwrap(), -dec(&convert["fromAmount"]));
            add(convert["toAsset"].as_str().unwrap(), dec(&convert["toAmount"]));
        }
    }
    for row in &store.dust {
        for detail in parse(row.json.get())["userAssetDribbletDetails"].as_array().unwrap() {
            let (transferred, charge) = (dec(&detail["transferedAmount"]), dec(&detail["serviceChargeAmount"]));
            add(detail["fromAsset"].as_str().unwrap(), -dec(&detail["amount"]));
            add("BNB", transferred + charge);
            add("BNB", -charge);
        }
    }
    for row in &store.dividends {
        let dividend = parse(row.json.get());
        add(dividend["asset"].as_str().unwrap(), dec(&dividend["amount"]));
    }
    for row in &store.earn_flexible {
        let reward = parse(row.json.get());
        add(reward["asset"].as_str().unwrap(), dec(&reward["rewards"]));
    }
    for row in &store.earn_locked {
        let reward = parse(row.json.get());
        add(reward["asset"].as_str().unwrap(), dec(&reward["amount"]));
    }
    balances.retain(|_, total| !total.is_zero());
    balances
}

#[test]
fn balances_are_the_sum_of_the_served_records_per_the_shared_semantics() {
    for seed in [1, 21, 77] {
        let sim = start(SimConfig { limits: Limits::Off, ..SimConfig::demo(seed) }).unwrap();
        assert_eq!(balances_from_records(&sim), sim.balances(), "seed {seed}");
        let records = sim.records();
        assert_eq!(records.len(), 10);
        assert!(records.values().all(|count| *count > 0), "{records:?}");
    }
}

#[test]
fn a_full_walk_over_http_finds_every_record_once() {
    let sim = sim_with(Limits::Off);
    let caller = Caller::new(&sim);
    let info = caller.public("/api/v3/exchangeInfo", "");
    let mut trades = 0;
    for symbol in info.json["symbols"].as_array().unwrap() {
        let symbol = symbol["symbol"].as_str().unwrap();
        let mut from_id = 0u64;
        loop {
            let from = from_id.to_string();
            let page = caller.signed("/api/v3/myTrades", &[("symbol", symbol), ("fromId", &from), ("limit", "1000")]);
            let rows = page.json.as_array().unwrap();
            trades += rows.len();
            if rows.len() < 1000 {
                break;
            }
            from_id = rows.last().unwrap()["id"].as_u64().unwrap() + 1;
        }
    }
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let step = 89 * 86_400_000;
    let mut from = crate::sim::generate::Profile::demo().start_ms - 10 * 86_400_000;
    while from < now_ms() {
        let (start, end) = (from.to_string(), (from + step - 1).to_string());
        for (name, path) in
            [("deposits", "/sapi/v1/capital/deposit/hisrec"), ("withdrawals", "/sapi/v1/capital/withdraw/history")]
        {
            let page =
                caller.signed(path, &[("startTime", &start), ("endTime", &end), ("offset", "0"), ("limit", "1000")]);
            *counts.entry(name).or_insert(0) += page.json.as_array().unwrap().len();
        }
        from += step;
    }
    let records = sim.records();
    assert_eq!(trades, records["myTrades"]);
    assert_eq!(counts["deposits"], records["deposits"]);
    assert_eq!(counts["withdrawals"], records["withdrawals"]);

    // New trades appear at the end of a fromId walk, and the balances follow.
    let before = sim.balances();
    sim.add_trades(5);
    assert_eq!(sim.records()["myTrades"], records["myTrades"] + 5);
    assert_ne!(sim.balances(), before);
    assert_eq!(balances_from_records(&sim), sim.balances());
}

#[test]
fn injected_faults_carry_binance_bodies() {
    let faults =
        FaultConfig { kinds: vec![FaultKind::ServerError, FaultKind::TooManyRequests], ..FaultConfig::all(1000, 3) };
    let sim = start(SimConfig { faults: Some(faults), ..SimConfig::demo(2) }).unwrap();
    let caller = Caller::new(&sim);
    let mut seen = BTreeMap::new();
    for _ in 0..30 {
        let answer = caller.public("/api/v3/time", "");
        assert!(code(&answer) < 0, "{}", answer.json);
        if answer.status == 429 {
            assert_eq!(header(&answer, "Retry-After").as_deref(), Some("1"));
            assert_eq!(code(&answer), -1003);
        }
        *seen.entry(answer.status).or_insert(0) += 1;
    }
    assert!(seen.contains_key(&429) && seen.keys().any(|status| *status >= 500), "{seen:?}");
    assert_eq!(sim.stats().faults, 30);
    assert_eq!(sim.stats().faults_by_kind.values().sum::<u64>(), 30);

    let truncated = FaultConfig { kinds: vec![FaultKind::Truncated], ..FaultConfig::all(1000, 3) };
    let sim = start(SimConfig { faults: Some(truncated), ..SimConfig::demo(2) }).unwrap();
    let response = Client::new().get(format!("{}/api/v3/exchangeInfo", sim.base_url())).send().unwrap();
    assert!(response.text().is_err(), "a cut-off body is an error for the client");

    let silent = FaultConfig { kinds: vec![FaultKind::Timeout], ..FaultConfig::all(1000, 3) };
    let sim = start(SimConfig { faults: Some(silent), ..SimConfig::demo(2) }).unwrap();
    sim.set_fault_timeout_delay(Duration::from_millis(600));
    let client = Client::builder().timeout(Duration::from_millis(200)).build().unwrap();
    let error = client.get(format!("{}/api/v3/time", sim.base_url())).send().unwrap_err();
    assert!(error.is_timeout(), "{error}");
}

#[test]
fn describe_names_the_address_and_the_streams() {
    let sim = serve(0, 9).unwrap();
    let text = sim.describe();
    assert!(text.contains(&sim.base_url()) && text.contains("myTrades") && text.contains("seed 9"), "{text}");
    assert!(!text.contains(&SimKey::demo().secret));
    assert!(!format!("{:?}", SimKey::demo()).contains(&SimKey::demo().secret[..8]));
    sim.stop();
}

#[test]
fn klines_follow_the_market_from_listing_to_delisting_with_binances_checks() {
    let sim = sim_with(Limits::Real);
    let caller = Caller::new(&sim);
    let market = &sim.state.market;
    let listed = crate::sim::generate::PRICE_HISTORY_START_MS;
    assert_eq!(market.start_ms(), listed);
    // One-minute candles: open = high = low = close = the minute's price; from the listing on.
    let answer =
        caller.public("/api/v3/klines", &format!("symbol=ETHBTC&interval=1m&startTime={}&limit=5", listed - 120_000));
    let rows = answer.json.as_array().unwrap();
    assert_eq!(rows.len(), 5);
    let pair = market.pair("ETHBTC").unwrap();
    for (index, row) in rows.iter().enumerate() {
        let open = row[0].as_i64().unwrap();
        assert_eq!(open, listed + 60_000 * index as i64);
        let price = market.pair_price(pair, open).unwrap();
        assert!((1..=4).all(|field| dec(&row[field]) == price), "{row}");
        assert_eq!(row[6].as_i64(), Some(open + 59_999));
    }
    // An hour spans its minutes.
    let hour = 1_709_373_600_000; // 2024-03-02T10:00:00Z
    let answer = caller.public("/api/v3/klines", &format!("symbol=ETHBTC&interval=1h&startTime={hour}&endTime={hour}"));
    let row = &answer.json[0];
    let minutes: Vec<Decimal> =
        (0..60).map(|minute| market.pair_price(pair, hour + minute * 60_000).unwrap()).collect();
    assert_eq!(answer.json.as_array().unwrap().len(), 1);
    assert_eq!((dec(&row[1]), dec(&row[4])), (minutes[0], minutes[59]));
    assert_eq!((dec(&row[2]), dec(&row[3])), (*minutes.iter().max().unwrap(), *minutes.iter().min().unwrap()));
    // Weight 2 in the api budget.
    let before: u64 = header(&answer, "X-MBX-USED-WEIGHT-1M").unwrap().parse().unwrap();
    let again = caller.public("/api/v3/klines", &format!("symbol=ETHBTC&interval=1h&startTime={hour}&endTime={hour}"));
    let after: u64 = header(&again, "X-MBX-USED-WEIGHT-1M").unwrap().parse().unwrap();
    assert!(after == before + 2 || after == 2, "{before} then {after}");
    // At most 1000 candles, whatever the limit asked.
    let many = caller.public("/api/v3/klines", &format!("symbol=BTCUSDT&interval=1m&startTime={hour}&limit=5000"));
    assert_eq!(many.json.as_array().unwrap().len(), 1000);
    // Up to the delisting only.
    let delisted = market.pairs().iter().find(|pair| pair.delisted_ms.is_some()).unwrap();
    let end = delisted.delisted_ms.unwrap();
    let last = caller.public(
        "/api/v3/klines",
        &format!("symbol={}&interval=1m&endTime={}&limit=3", delisted.symbol, end + crate::sim::generate::DAY_MS),
    );
    let last_open = last.json.as_array().unwrap().last().unwrap()[0].as_i64().unwrap();
    assert!(last_open < end && last_open + 60_000 >= end, "{last_open} vs {end}");
    // Binance's errors.
    let missing = caller.public("/api/v3/klines", "interval=1m");
    assert_eq!((missing.status, code(&missing)), (400, -1102));
    let unknown = caller.public("/api/v3/klines", "symbol=USDCBTC&interval=1m");
    assert_eq!((unknown.status, code(&unknown)), (400, -1121));
    let interval = caller.public("/api/v3/klines", "symbol=BTCUSDT&interval=1H");
    assert_eq!(code(&interval), -1120);
    let unread = caller.public("/api/v3/klines", "symbol=BTCUSDT&interval=1m&page=2");
    assert_eq!(code(&unread), -1104);
    let zero = caller.public("/api/v3/klines", "symbol=BTCUSDT&interval=1m&limit=0");
    assert_eq!(code(&zero), -1100);
}

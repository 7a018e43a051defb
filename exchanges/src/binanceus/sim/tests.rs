//! The Binance.US simulator serves Binance.US's paths only, at its weights and budget.

use std::collections::BTreeMap;

use super::*;
use crate::binance::sim::{Limits, SimKey};

fn sim() -> BinanceSim {
    start(SimConfig {
        seed: 7,
        profile: Profile::demo(),
        limits: Limits::Real,
        faults: None,
        key: SimKey::demo(),
        port: 0,
    })
    .unwrap()
}

fn get(url: &str) -> (u16, BTreeMap<String, String>, String) {
    let response = reqwest::blocking::Client::new().get(url).send().unwrap();
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| (name.as_str().to_owned(), value.to_str().unwrap_or_default().to_owned()))
        .collect();
    (status, headers, response.text().unwrap())
}

#[test]
fn binance_com_only_paths_answer_404() {
    let sim = sim();
    for path in
        ["/sapi/v1/convert/tradeFlow", "/sapi/v1/fiat/orders", "/sapi/v1/simple-earn/flexible/history/rewardsRecord"]
    {
        let (status, _, body) = get(&format!("{}{path}", sim.base_url()));
        assert_eq!(status, 404, "{path}: {body}");
    }
}

#[test]
fn exchange_info_says_binance_us_budget_and_costs_its_weight() {
    let sim = sim();
    let (status, headers, body) = get(&format!("{}/api/v3/exchangeInfo", sim.base_url()));
    assert_eq!(status, 200, "{body}");
    let info: serde_json::Value = serde_json::from_str(&body).unwrap();
    let weight =
        info["rateLimits"].as_array().unwrap().iter().find(|limit| limit["rateLimitType"] == "REQUEST_WEIGHT").unwrap();
    assert_eq!(weight["limit"], 1200);
    assert_eq!(headers.get("x-mbx-used-weight-1m").map(String::as_str), Some("10"));
}

#[test]
fn the_account_has_only_what_binance_us_endpoints_show() {
    let records = sim().records();
    assert!(records.get("myTrades").copied().unwrap_or(0) > 0, "{records:?}");
    assert!(records.get("deposits").copied().unwrap_or(0) > 0, "{records:?}");
    for stream in ["convert", "dust", "dividends", "fiatOrders", "fiatPayments", "earnFlexible", "earnLocked"] {
        assert_eq!(records.get(stream).copied().unwrap_or(0), 0, "{stream}: {records:?}");
    }
}

/// A signed GET of `path` with `params` (the demo key), as status and JSON.
fn signed(sim: &BinanceSim, path: &str, params: &[(&str, String)]) -> (u16, serde_json::Value) {
    let pairs: Vec<(&str, &str)> = params.iter().map(|(name, value)| (*name, value.as_str())).collect();
    let secret = crate::Secret::new(SimKey::demo().secret);
    let window = crate::binance::auth::RecvWindow::DEFAULT;
    let query = crate::binance::auth::signed_query(&secret, &pairs, Some(window), crate::sim::now_ms()).unwrap();
    let response = reqwest::blocking::Client::new()
        .get(format!("{}{path}?{query}", sim.base_url()))
        .header(crate::binance::auth::API_KEY_HEADER, SimKey::demo().api_key)
        .send()
        .unwrap();
    let status = response.status().as_u16();
    (status, serde_json::from_str(&response.text().unwrap()).unwrap())
}

#[test]
fn its_own_streams_are_usd_only_and_in_the_balances() {
    let sim = sim();
    let records = sim.records();
    for stream in
        ["fiatDepositHistory", "fiatWithdrawHistory", "stakingRewards", "distributions", "dustLogs", "otcOrders"]
    {
        assert!(records.get(stream).copied().unwrap_or(0) > 0, "{stream}: {records:?}");
    }
    let balances = sim.balances();
    assert!(balances.get("USD").is_some_and(|usd| *usd > rust_decimal::Decimal::ZERO), "{balances:?}");
    for fiat in ["EUR", "GBP", "TRY"] {
        assert!(!balances.contains_key(fiat), "a US account holds no {fiat}: {balances:?}");
    }
    assert!(balances.values().all(|amount| !amount.is_sign_negative()), "{balances:?}");
}

#[test]
fn fiat_history_keeps_windows_under_90_days_and_pages_by_offset() {
    let sim = sim();
    let day = 86_400_000i64;
    let (start, end) = (Profile::demo().start_ms, Profile::demo().start_ms + 89 * day);
    let path = "/sapi/v1/fiatpayment/query/deposit/history";
    let window = |offset: usize| {
        vec![("startTime", start.to_string()), ("endTime", end.to_string()), ("offset", offset.to_string())]
    };
    let (status, first) = signed(&sim, path, &window(0));
    assert_eq!(status, 200, "{first}");
    let list = first["assetLogRecordList"].as_array().unwrap();
    assert!(!list.is_empty(), "the opening deposit is in the first window: {first}");
    assert!(list.iter().all(|row| row["fiatCurrency"] == "USD" && row["createTime"].is_i64()));
    let (_, after) = signed(&sim, path, &window(list.len()));
    assert_eq!(after["assetLogRecordList"], serde_json::json!([]), "offset past the window's records");
    let too_wide = [("startTime", start.to_string()), ("endTime", (start + 90 * day).to_string())];
    let (status, refused) = signed(&sim, path, &too_wide);
    assert_eq!((status, refused["code"].as_i64()), (400, Some(-1127)), "{refused}");
}

#[test]
fn staking_rewards_and_their_distribution_copies_share_tran_ids() {
    let sim = sim();
    let all = [("startTime", "0".to_string()), ("endTime", crate::sim::now_ms().to_string())];
    let (status, rewards) =
        signed(&sim, "/sapi/v1/staking/stakingRewardsHistory", &[all.to_vec(), vec![("limit", "500".into())]].concat());
    assert_eq!(status, 200, "{rewards}");
    assert_eq!((rewards["code"].as_str(), rewards["success"].as_bool()), (Some("000000"), Some(true)));
    let data = rewards["data"].as_array().unwrap();
    assert_eq!(rewards["total"].as_u64(), Some(data.len() as u64));
    let (_, listed) = signed(
        &sim,
        "/sapi/v1/asset/assetDistributionHistory",
        &[all.to_vec(), vec![("limit", "500".into()), ("category", "Staking Rewards".into())]].concat(),
    );
    let copies = listed["rows"].as_array().unwrap();
    let ids = |rows: &[serde_json::Value]| {
        let mut ids: Vec<u64> = rows.iter().map(|row| row["tranId"].as_u64().unwrap()).collect();
        ids.sort_unstable();
        ids
    };
    assert!(!data.is_empty());
    assert_eq!(ids(data), ids(copies), "every reward is listed once more as a distribution");
}

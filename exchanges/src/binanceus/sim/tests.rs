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

//! The simulator against the real client code: every entry once, balances that add up.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use rust_decimal::Decimal;

use super::*;
use crate::adapter::RawRecord;
use crate::adapter::{Adapter, Stream, SyncPlan};
use crate::http::{ClientConfig, Clock, SystemClock};
use crate::kucoin::adapter::{HF_WINDOW_MS, KucoinAdapter};
use crate::kucoin::api::KucoinApi;
use crate::kucoin::normalize::{HF_LEDGERS, LEDGERS, MARGIN_HF_LEDGERS, normalize};
use crate::kucoin::transfers::{HIST_DEPOSITS, HIST_WITHDRAWALS};

fn small(entries: usize) -> SimConfig {
    SimConfig { profile: KucoinProfile { entries, ..KucoinProfile::demo() }, budget: None, ..SimConfig::demo(5) }
}

fn adapter(sim: &KucoinSim, key: &SimKey) -> KucoinAdapter {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let limiter = KucoinApi::new_limiter(Arc::clone(&clock), WindowBudget { limit: 1_000_000, window_seconds: 1 });
    let config = ClientConfig::for_tests(Duration::from_secs(2), 4);
    let api = KucoinApi::new(
        Some(&sim.base_url()),
        Secret::new(key.api_key.clone()),
        Secret::new(key.secret.clone()),
        Some(Secret::new(key.passphrase.clone())),
        "main",
        limiter,
        config,
        clock,
    )
    .unwrap();
    KucoinAdapter::new(api)
}

/// Walks `stream` from `since` to its end (or from `stored`); the records and how many pages
/// left a window unfinished.
fn walk(adapter: &KucoinAdapter, stream: &Stream, stored: Option<&str>) -> (Vec<RawRecord>, usize, String) {
    let plan = SyncPlan { full: false, since_ms: Some(1_788_220_800_000) };
    let mut cursor = adapter.start(stream, stored, &plan).unwrap();
    let mut records = Vec::new();
    let mut unfinished = 0;
    loop {
        let page = adapter.fetch_page(stream, &cursor).unwrap();
        unfinished += usize::from(page.covered.is_none());
        records.extend(page.records);
        cursor = page.cursor;
        if page.done {
            return (records, unfinished, cursor);
        }
    }
}

#[test]
fn a_walk_through_the_client_gets_every_entry_once_and_the_legs_sum_to_the_accounts() {
    // Dense enough that some weeks take more than one page of 500, and some three-day windows
    // of the HF ledger (from October) more than one page of 200.
    let sim = start(SimConfig {
        // September and October 2026: the walk from `since` to today is a few weeks only.
        profile: KucoinProfile {
            entries: 10_000,
            start_ms: 1_788_220_800_000,
            end_ms: 1_793_491_200_000,
            hf_from_ms: Some(1_790_812_800_000),
            ..KucoinProfile::demo()
        },
        ..small(0)
    })
    .unwrap();
    let adapter = adapter(&sim, &SimKey::demo());
    let mut ids = Vec::new();
    let mut sums: BTreeMap<String, Decimal> = BTreeMap::new();
    for endpoint in [LEDGERS, HF_LEDGERS] {
        let stream = Stream::new(endpoint, "");
        let (records, unfinished, cursor) = walk(&adapter, &stream, None);
        assert!(unfinished > 0, "{endpoint}: no window took two pages");
        assert!(records.len() > 1_000, "{endpoint}: {} records", records.len());
        for record in &records {
            ids.push(record.external_id.clone());
            for event in normalize(&stream, record).unwrap() {
                assert_ne!(event.kind, crate::EventKind::Unknown, "{event:?}");
                for leg in event.legs {
                    *sums.entry(leg.asset).or_default() += leg.amount;
                }
            }
        }
        // The next walk starts where this one ended: one call, nothing new.
        let (again, unfinished, _) = walk(&adapter, &stream, Some(&cursor));
        assert_eq!((again.len(), unfinished), (0, 0), "{endpoint}");
    }
    let mut served: Vec<String> = sim.entries().into_iter().map(|e| e.id).collect();
    served.sort();
    ids.sort();
    assert_eq!(ids, served);
    sums.retain(|_, amount| !amount.is_zero());
    let sums: BTreeMap<String, Decimal> = sums.into_iter().map(|(k, v)| (k, v.normalize())).collect();
    assert_eq!(sums, sim.balances());
    assert_eq!(adapter.balances().unwrap().len(), sim.balances().len());
    // The trade_hf account's balances are among those `accounts` reports.
    assert!(sim.entries().iter().any(|e| e.is_hf() && e.biz_type == "TRADE_EXCHANGE"));
}

#[test]
fn the_hf_ledger_cuts_a_wide_range_to_three_days_and_pages_below_last_id() {
    let sim = start(SimConfig {
        profile: KucoinProfile {
            entries: 8_000,
            start_ms: 1_788_220_800_000,
            end_ms: 1_793_491_200_000,
            hf_from_ms: Some(1_788_220_800_000),
            ..KucoinProfile::demo()
        },
        ..small(0)
    })
    .unwrap();
    let api = adapter(&sim, &SimKey::demo());
    let hf: Vec<Entry> = sim.entries().into_iter().filter(Entry::is_hf).collect();
    let end = hf[hf.len() / 2].time_ms;
    let ask = |params: &[(&str, String)]| -> Vec<serde_json::Value> {
        api.api().data(Endpoint::HfLedgers, params).unwrap().0
    };
    let wide = ask(&[("startAt", "0".into()), ("endAt", end.to_string()), ("limit", "200".into())]);
    let oldest = wide.iter().map(|e| e["createdAt"].as_str().unwrap().parse::<i64>().unwrap()).min().unwrap();
    assert!(oldest >= end - HF_WINDOW_MS, "a range wider than three days is cut to three");
    assert_eq!(wide.len(), 200);
    let least = wide.last().unwrap()["id"].as_str().unwrap().to_owned();
    let next = ask(&[
        ("startAt", (end - HF_WINDOW_MS).to_string()),
        ("endAt", end.to_string()),
        ("limit", "200".into()),
        ("lastId", least.clone()),
    ]);
    assert!(next.iter().all(|e| e["id"].as_str().unwrap().parse::<u64>().unwrap() < least.parse().unwrap()));
}

#[test]
fn a_wrong_secret_or_passphrase_and_the_rate_limit_get_kucoins_answers() {
    let sim = start(SimConfig { budget: Some(WindowBudget { limit: 50, window_seconds: 60 }), ..small(50) }).unwrap();
    let wrong = SimKey { secret: "not-the-secret".into(), ..SimKey::demo() };
    let error = adapter(&sim, &wrong).balances().unwrap_err();
    assert!(error.to_string().contains("passphrase was refused"), "the passphrase is signed with the secret: {error}");
    let wrong = SimKey { passphrase: "not-the-passphrase".into(), ..SimKey::demo() };
    let error = adapter(&sim, &wrong).key_permissions().unwrap_err();
    assert!(error.to_string().contains("passphrase was refused"), "{error}");
    let permissions = adapter(&sim, &SimKey::demo()).key_permissions().unwrap();
    assert_eq!(permissions.can_withdraw, Some(false));
    // 5 + 20 + 20 weight spent of the 50 allowed: a call of weight 20 is over the quota.
    let over = reqwest::blocking::Client::new().get(format!("{}/api/v1/user/api-key", sim.base_url())).send().unwrap();
    assert_eq!(over.status().as_u16(), 429);
    let reset: i64 = over.headers()["gw-ratelimit-reset"].to_str().unwrap().parse().unwrap();
    assert!(reset > 0 && reset <= 60_000, "{reset}");
    assert!(over.text().unwrap().contains("429000"));
    assert_eq!(sim.stats().rate_limited, 1, "{:?}", sim.stats());
}

#[test]
fn the_v1_lists_are_walked_from_2017_to_api_v2_once_and_never_again() {
    let sim = start(small(50)).unwrap();
    let adapter = adapter(&sim, &SimKey::demo());
    let plan = SyncPlan { full: false, since_ms: None };
    for endpoint in [HIST_DEPOSITS, HIST_WITHDRAWALS] {
        let stream = Stream::new(endpoint, "");
        let mut cursor = adapter.start(&stream, None, &plan).unwrap();
        let mut calls = 0;
        loop {
            let page = adapter.fetch_page(&stream, &cursor).unwrap();
            calls += page.requests;
            cursor = page.cursor;
            if page.done {
                break;
            }
        }
        // 2017-09-01 to 2019-02-18, a week a call.
        assert_eq!(calls, 77, "{endpoint}");
        let again = adapter.start(&stream, Some(&cursor), &plan).unwrap();
        let page = adapter.fetch_page(&stream, &again).unwrap();
        assert!(page.done && page.requests == 0, "{endpoint}: {page:?}");
    }
    assert_eq!(sim.stats().requests_by_path.get("/api/v1/hist-deposits"), Some(&77));
}

/// The simulator finds a week by binary search and writes only the page: what a week's pages
/// answer must still be every entry (or list item) of that week, newest first, once.
#[test]
fn a_weeks_pages_hold_exactly_its_entries_newest_first() {
    let sim = start(SimConfig {
        profile: KucoinProfile {
            entries: 10_000,
            start_ms: 1_788_220_800_000,
            end_ms: 1_793_491_200_000,
            hf_from_ms: Some(1_790_812_800_000),
            ..KucoinProfile::demo()
        },
        ..small(0)
    })
    .unwrap();
    let api = adapter(&sim, &SimKey::demo());
    let entries = sim.entries();
    let (deposits, withdrawals) = sim.movements();
    assert!(entries.windows(2).all(|w| w[0].time_ms <= w[1].time_ms), "entries oldest first");
    for list in [&deposits, &withdrawals] {
        assert!(list.len() > 10, "{} items", list.len());
        assert!(list.windows(2).all(|w| w[0].time_ms <= w[1].time_ms), "list oldest first");
    }
    // A week starting on an entry's millisecond and ending on another's: both edges inclusive.
    let start_ms = entries[entries.len() / 4].time_ms;
    let end_ms = entries.iter().map(|e| e.time_ms).filter(|t| *t <= start_ms + WINDOW_MS).max().unwrap();
    let pages = |endpoint: Endpoint| -> Vec<String> {
        let mut texts = Vec::new();
        for page in 1.. {
            let params = [
                ("startAt", start_ms.to_string()),
                ("endAt", end_ms.to_string()),
                ("currentPage", page.to_string()),
                ("pageSize", "100".to_string()),
            ];
            let (data, _): (serde_json::Value, _) = api.api().data(endpoint, &params).unwrap();
            let items = data["items"].as_array().unwrap();
            texts.extend(items.iter().map(serde_json::Value::to_string));
            if page >= data["totalPage"].as_u64().unwrap() {
                return texts;
            }
        }
        unreachable!()
    };
    let json = |text: String| serde_json::from_str::<serde_json::Value>(&text).unwrap().to_string();
    let within = |t: i64| t >= start_ms && t <= end_ms;
    let expected: Vec<String> =
        entries.iter().rev().filter(|e| !e.is_hf() && within(e.time_ms)).map(|e| json(e.json())).collect();
    assert!(expected.len() > 100, "{} entries: more than a page", expected.len());
    assert_eq!(pages(Endpoint::Ledgers), expected);
    for (endpoint, list) in [(Endpoint::Deposits, &deposits), (Endpoint::Withdrawals, &withdrawals)] {
        let expected: Vec<String> =
            list.iter().rev().filter(|item| within(item.time_ms)).map(|item| json(item.json())).collect();
        assert_eq!(pages(endpoint), expected, "{endpoint:?}");
    }
}

/// A margin trader's high-frequency cross margin account: its ledger walked through the client
/// like the trade_hf one, every entry once, and the legs of all three ledgers adding up to the
/// balances `balances` reports, exactly, while the account owes a debt.
#[test]
fn the_margin_hf_ledger_is_walked_whole_and_its_gross_balances_match_while_a_debt_is_owed() {
    let sim = start(SimConfig {
        profile: KucoinProfile {
            entries: 6_000,
            start_ms: 1_788_220_800_000,
            end_ms: 1_793_491_200_000,
            hf_from_ms: Some(1_790_812_800_000),
            margin_hf_from_ms: Some(1_790_812_800_000),
            ..KucoinProfile::demo()
        },
        ..small(0)
    })
    .unwrap();
    let adapter = adapter(&sim, &SimKey::demo());
    let served = sim.entries();
    let margin: Vec<&Entry> = served.iter().filter(|e| e.is_margin_hf()).collect();
    for biz in ["TRANSFER", "BORROW", "MARGIN_EXCHANGE", "REPAY", "INTEREST", "LIQUIDATION"] {
        assert!(margin.iter().any(|e| e.biz_type == biz), "no {biz} entry");
    }
    let mut sums: BTreeMap<String, Decimal> = BTreeMap::new();
    let mut ids = Vec::new();
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for endpoint in [LEDGERS, HF_LEDGERS, MARGIN_HF_LEDGERS] {
        let stream = Stream::new(endpoint, "");
        let (records, _, cursor) = walk(&adapter, &stream, None);
        for record in &records {
            ids.push(record.external_id.clone());
            for event in normalize(&stream, record).unwrap() {
                if endpoint == MARGIN_HF_LEDGERS {
                    *kinds.entry(event.kind.to_string()).or_default() += 1;
                }
                for leg in event.legs {
                    *sums.entry(leg.asset).or_default() += leg.amount;
                }
            }
        }
        let (again, unfinished, _) = walk(&adapter, &stream, Some(&cursor));
        assert_eq!((again.len(), unfinished), (0, 0), "{endpoint}");
    }
    let mut all: Vec<String> = served.iter().map(|e| e.id.clone()).collect();
    all.sort();
    ids.sort();
    assert_eq!(ids, all, "every entry of the three ledgers once");
    let count = |biz: &[&str]| margin.iter().filter(|e| biz.contains(&e.biz_type)).count();
    assert_eq!(kinds.get("trade").copied().unwrap_or(0), count(&["MARGIN_EXCHANGE", "LIQUIDATION"]), "{kinds:?}");
    assert_eq!(kinds.get("internal_transfer").copied().unwrap_or(0), count(&["TRANSFER"]), "{kinds:?}");
    assert_eq!(kinds.get("fee").copied().unwrap_or(0), count(&["INTEREST"]), "{kinds:?}");
    assert_eq!(kinds.get("unknown").copied().unwrap_or(0), count(&["BORROW", "REPAY"]), "{kinds:?}");
    sums.retain(|_, amount| !amount.is_zero());
    let sums: BTreeMap<String, Decimal> = sums.into_iter().map(|(k, v)| (k, v.normalize())).collect();
    assert_eq!(sums, sim.balances());
    // What `balances` reports: the margin account's total assets added, its debt not taken off.
    let reported: BTreeMap<String, Decimal> =
        adapter.balances().unwrap().into_iter().map(|b| (b.asset, b.amount.normalize())).collect();
    assert_eq!(reported, sim.balances());
    assert!(!sim.liabilities().is_empty(), "the account ends owing nothing: the case is not tested");
    // The margin ledger cuts a wide range to three days as the trade_hf one does.
    let end = margin[margin.len() / 2].time_ms;
    let (wide, _): (Vec<serde_json::Value>, _) = adapter
        .api()
        .data(
            Endpoint::MarginHfLedgers,
            &[("startAt", "0".into()), ("endAt", end.to_string()), ("limit", "200".into())],
        )
        .unwrap();
    assert!(!wide.is_empty());
    assert!(wide.iter().all(|e| e["accountType"] == "MARGIN_V2"));
    let oldest = wide.iter().map(|e| e["createdAt"].as_str().unwrap().parse::<i64>().unwrap()).min().unwrap();
    assert!(oldest >= end - HF_WINDOW_MS);
}

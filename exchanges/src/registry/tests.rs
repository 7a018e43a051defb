use std::collections::BTreeSet;

use super::*;
use crate::Secret;
use crate::http::{ManualClock, SystemClock};

#[test]
fn every_exchange_has_exactly_one_entry() {
    for exchange in Exchange::ALL {
        let count = entries().iter().filter(|entry| entry.exchange == exchange).count();
        assert_eq!(count, 1, "{exchange}");
        assert_eq!(entry(exchange).exchange, exchange);
    }
    assert_eq!(entries().len(), Exchange::ALL.len());
}

#[test]
fn names_round_trip_through_the_entries() {
    for entry in entries() {
        assert_eq!(entry.exchange.as_str().parse::<Exchange>().unwrap(), entry.exchange);
        assert!(!entry.title.is_empty());
    }
}

#[test]
fn the_exchanges_with_an_api_are_the_first_three_gemini_bitstamp_and_binanceus() {
    let with_api: BTreeSet<&str> =
        entries().iter().filter(|entry| entry.api.is_some()).map(|entry| entry.exchange.as_str()).collect();
    assert_eq!(
        with_api,
        BTreeSet::from([
            "binance",
            "kraken",
            "coinbase",
            "gemini",
            "bitstamp",
            "bitfinex",
            "binanceus",
            "kucoin",
            "bybit",
            "okx"
        ])
    );
    for entry in entries() {
        // An exchange synced by API can re-normalise what it stored, and takes a key.
        assert_eq!(entry.api.is_some(), entry.normalize.is_some(), "{}", entry.exchange);
        assert_eq!(entry.api.is_some(), entry.exchange.takes_api_key(), "{}", entry.exchange);
    }
    // Only Coinbase's keys have a shape to check and a key file.
    let checked: Vec<&str> =
        entries().iter().filter(|entry| entry.keys.check.is_some()).map(|entry| entry.exchange.as_str()).collect();
    assert_eq!(checked, ["coinbase"]);
    assert!(entry(Exchange::Coinbase).keys.key_file.is_some());
    assert!(entry(Exchange::Binance).keys.key_file.is_none());
}

#[test]
fn csv_formats_keep_their_names_and_detection_order() {
    let names: Vec<(&str, &str)> = csv_formats().map(|(exchange, format)| (exchange.as_str(), format.name)).collect();
    assert_eq!(
        names,
        [
            ("coinbase", "coinbase"),
            ("kraken", "kraken"),
            ("binance", "binance"),
            ("binance", "binance-trades"),
            ("gemini", "gemini"),
            ("bitstamp", "bitstamp"),
            ("bitstamp", "bitstamp-legacy"),
            ("kucoin", "kucoin"),
            ("bybit", "bybit-log"),
            ("bitfinex", "bitfinex"),
            ("binanceus", "binanceus"),
            ("okx", "okx-bills")
        ]
    );
    let header = crate::rows::Header::new(["UTC_Time", "Account", "Operation", "Coin", "Change", "Remark"]);
    let matching: Vec<&str> =
        csv_formats().filter(|(_, format)| (format.matches)(&header)).map(|(_, format)| format.name).collect();
    assert_eq!(matching, ["binance"]);
}

#[test]
fn an_exchange_without_a_normaliser_says_so() {
    let stream = Stream::new("trades", "");
    let record = RawRecord { external_id: "1".into(), payload: "{}".into() };
    let error = normalize(Exchange::Wallet, &stream, &record).unwrap_err();
    assert_eq!(error.reason, "cointally has no API normaliser for wallet");
    assert!(normalize(Exchange::Kraken, &Stream::new("Trades", ""), &record).is_err());
}

#[test]
fn the_connector_builds_adapters_only_where_there_is_an_api() {
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(1_709_373_600_000));
    for exchange in [Exchange::Binance, Exchange::Kraken] {
        let api = entry(exchange).api.as_ref().unwrap();
        let limiter = (api.limiter)(clock.clone(), None);
        let adapter = (api.connect)(Connect {
            label: "a",
            key: Secret::new("key"),
            secret: Secret::new("c2VjcmV0"),
            passphrase: None,
            base_url: Some("http://127.0.0.1:1"),
            limiter,
            config: ClientConfig::default(),
            clock: clock.clone(),
        });
        assert!(adapter.is_ok(), "{exchange}");
    }
    assert!(entry(Exchange::Wallet).api.is_none());
}

#[cfg(feature = "sandbox")]
#[test]
fn open_sources_gives_coinbase_binance_then_kraken_at_their_base_urls() {
    use crate::binance::sim::{self as binance_sim, Limits, SimConfig};
    use crate::coinbase::sim::{self as coinbase_sim, CoinbaseSimConfig};
    let binance = binance_sim::start(SimConfig { limits: Limits::Off, ..SimConfig::demo(1) }).unwrap();
    let coinbase = coinbase_sim::start(CoinbaseSimConfig::demo(1)).unwrap();
    let kraken = crate::kraken::sim::start(crate::kraken::sim::SimConfig::demo(1)).unwrap();
    let bitstamp = crate::bitstamp::sim::start(crate::bitstamp::sim::SimConfig::demo(1)).unwrap();
    let gemini = crate::gemini::sim::start(crate::gemini::sim::SimConfig::demo(1)).unwrap();
    let urls = |name: &str| match name {
        "binance" => Some(binance.base_url()),
        "coinbase" => Some(coinbase.base_url()),
        "kraken" => Some(kraken.base_url()),
        "bitstamp" => Some(bitstamp.base_url()),
        "gemini" => Some(gemini.base_url()),
        _ => None,
    };
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(1_709_373_600_000));
    let sources = open_sources(&urls, &ClientConfig::default(), clock).unwrap();
    let names: Vec<&str> = sources.iter().map(|source| source.name()).collect();
    assert_eq!(names, ["coinbase", "binance", "kraken", "bitstamp", "gemini"]);
    assert!(sources[0].markets().unwrap().items.iter().any(|market| market.symbol == "BTC-USD"));
    assert!(sources[1].markets().unwrap().items.iter().any(|market| market.symbol == "BTCUSDT"));
    assert_eq!(coinbase.stats().requests_by_path.get("/products"), Some(&1));
    assert_eq!(binance.stats().requests_by_path.get("/api/v3/exchangeInfo"), Some(&1));
    assert!(sources[2].markets().unwrap().items.iter().any(|market| market.symbol == "XXBTZCAD"));
    assert_eq!(kraken.stats().requests_by_path.get("/0/public/AssetPairs"), Some(&1));
    assert!(sources[3].markets().unwrap().items.iter().any(|market| market.symbol == "btcgbp"));
    assert_eq!(bitstamp.stats().requests_by_path.get("/api/v2/markets/"), Some(&1));
    assert!(sources[4].markets().unwrap().items.iter().any(|market| market.symbol == "btcgbp"));
    assert_eq!(gemini.stats().requests_by_path.get("/v1/symbols"), Some(&1));
    // Without overrides: production URLs (nothing is sent here).
    let production = open_sources(&|_| None, &ClientConfig::default(), Arc::new(SystemClock)).unwrap();
    assert_eq!(production.len(), 5);
    let bad = open_sources(&|_| Some("not a url".to_owned()), &ClientConfig::default(), Arc::new(SystemClock));
    assert!(matches!(bad, Err(FetchError::Setup { .. })));
}

#[test]
fn loopback_urls_are_told_from_others() {
    for local in ["http://127.0.0.1:8080", "http://127.4.5.6/", "http://LOCALHOST:3000/x", "http://[::1]:99"] {
        assert!(crate::http::is_loopback_url(local), "{local}");
    }
    for other in
        ["https://api.coinbase.com", "http://127.0.0.1.example.com", "http://localhost.evil.com", "http://[::2]", "x"]
    {
        assert!(!crate::http::is_loopback_url(other), "{other}");
    }
}

#[test]
fn every_api_names_its_production_https_url() {
    for entry in entries() {
        if let Some(api) = &entry.api {
            assert!(api.production.starts_with("https://"), "{}: {}", entry.exchange, api.production);
            assert!(crate::http::origin_of(api.production).is_some(), "{}", entry.exchange);
        }
    }
}

#[test]
fn the_us_brokers_are_the_four_that_issue_form_1099_da() {
    let brokers: BTreeSet<&str> =
        entries().iter().filter(|entry| entry.us_broker).map(|entry| entry.exchange.as_str()).collect();
    assert_eq!(brokers, BTreeSet::from(["coinbase", "kraken", "gemini", "binanceus"]));
}

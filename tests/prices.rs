//! `cointally prices`, `prices missing`, `prices import` and `currency` against the Binance
//! and Coinbase simulators: values checked against the generator's own prices.

mod common;

use std::collections::BTreeMap;

use cointally::ledger::{Ledger, LegValue, OpenMode};
use cointally_exchanges::binance::sim::SimKey;
use cointally_exchanges::sim::generate::{Profile, generate};
use common::{Sandbox, fixture};
use rust_decimal::Decimal;

fn values(sb: &Sandbox, currency: &str) -> BTreeMap<(i64, i64), LegValue> {
    Ledger::open(&sb.ledger(), OpenMode::Existing).unwrap().leg_values(currency).unwrap()
}

/// The legs of every event, by (event, seq): (asset, amount).
fn legs(sb: &Sandbox) -> BTreeMap<(i64, i64), (String, Decimal)> {
    let events = sb.ok(&["--json", "events"]).json();
    let mut legs = BTreeMap::new();
    for e in events.as_array().unwrap() {
        for (seq, leg) in e["legs"].as_array().unwrap().iter().enumerate() {
            let amount: Decimal = leg["amount"].as_str().unwrap().parse().unwrap();
            legs.insert((e["id"].as_i64().unwrap(), seq as i64), (leg["asset"].as_str().unwrap().to_owned(), amount));
        }
    }
    legs
}

/// The candles a value's path names: (source, symbol, inverse, open ms).
fn hops(path: &str) -> Vec<(String, String, bool, i64)> {
    path.split('*')
        .map(|hop| {
            let (what, open) = hop.rsplit_once('@').unwrap();
            let mut parts = what.split(':');
            let (source, symbol) = (parts.next().unwrap(), parts.next().unwrap());
            let inverse = symbol.ends_with('/');
            (source.to_owned(), symbol.trim_end_matches('/').to_owned(), inverse, open.parse().unwrap())
        })
        .collect()
}

#[test]
fn a_synced_account_is_valued_from_the_simulators_and_a_second_run_asks_nothing() {
    let sb = Sandbox::new();
    let key = SimKey::demo();
    let (_binance, _coinbase, _kraken) = sb.price_simulators(1, &key.api_key, &key.secret);
    sb.set_env("SIM_KEY", &key.api_key);
    sb.set_env("SIM_SECRET", &key.secret);
    sb.ok(&["init"]);
    sb.ok(&["account", "add", "binance", "--label", "main", "--key-env", "SIM_KEY", "--secret-env", "SIM_SECRET"]);
    sb.ok(&["sync"]);
    let synced = sb.path("synced.sqlite");
    std::fs::copy(sb.ledger(), &synced).unwrap();
    let first = sb.ok(&["--json", "prices"]).json();
    assert_eq!(first["missing"], 0, "{first}");
    assert_eq!(first["errors"].as_array().unwrap().len(), 0, "{first}");
    assert!(first["requests"].as_u64().unwrap() > 2, "{first}");
    assert_eq!(sb.ok(&["--json", "prices", "missing"]).json(), serde_json::json!([]));

    // Every value from the markets is |amount| × the generator's price at the candles its path names.
    let market = generate(1, &Profile::demo()).market;
    let legs = legs(&sb);
    let usd = values(&sb, "USD");
    assert_eq!(usd.len(), legs.len(), "every leg has a value");
    let (mut checked_direct, mut checked_cross) = (0, 0);
    assert!(check_trades(&usd) > 20, "crypto-to-crypto trades priced once");
    for (key, value) in &usd {
        if value.source == "currency" || value.source == "event" || value.source.starts_with("trade:") {
            continue;
        }
        let mut price = Decimal::ONE;
        for (source, symbol, inverse, open) in hops(&value.path) {
            let candle = match source.as_str() {
                "coinbase" => {
                    let (base, quote) = symbol.split_once('-').unwrap();
                    market.price(base, quote, open).unwrap()
                }
                "binance" => market.pair_price(market.pair(&symbol).unwrap(), open).unwrap(),
                other => panic!("unexpected source {other}"),
            };
            price *= if inverse { Decimal::ONE / candle } else { candle };
        }
        let (asset, amount) = &legs[key];
        let expected = amount.abs() * price;
        assert!((value.value - expected).abs() < Decimal::new(1, 9), "{asset} {key:?}: {value:?} vs {expected}");
        if value.path.contains('*') { checked_cross += 1 } else { checked_direct += 1 }
    }
    assert!(checked_direct > 50 && checked_cross > 5, "direct {checked_direct}, cross {checked_cross}");

    let second = sb.ok(&["--json", "prices"]).json();
    assert_eq!((second["requests"].as_u64(), second["valued"].as_u64()), (Some(0), Some(0)), "{second}");
    // Offline, from the cache alone, the same values come back.
    let again = sb.ok(&["--json", "prices", "--offline", "--revalue"]).json();
    assert_eq!(again["requests"], 0);
    assert_eq!(values(&sb, "USD"), usd);

    // A new reporting currency: every leg is valued in it, the USD values stay.
    sb.ok(&["currency", "EUR"]);
    assert_eq!(sb.ok(&["--json", "currency"]).json()["currency"], "EUR");
    assert_eq!(sb.ok(&["--json", "prices", "missing"]).json(), serde_json::json!([]));
    assert_eq!(values(&sb, "EUR").len(), legs.len());
    assert_eq!(values(&sb, "USD"), usd);

    // CAD: only Kraken quotes it. The legs (2024–2025) are older than Kraken's minute and hour
    // rows reach, so each takes the day or week candle the rule picks, named in its path.
    sb.ok(&["currency", "CAD"]);
    assert_eq!(sb.ok(&["--json", "prices", "missing"]).json(), serde_json::json!([]));
    let cad = values(&sb, "CAD");
    assert_eq!(cad.len(), legs.len());
    let mut through_kraken = 0;
    check_trades(&cad);
    for (key, value) in &cad {
        if value.source == "currency" || value.source == "event" || value.source.starts_with("trade:") {
            continue;
        }
        let mut price = Decimal::ONE;
        for hop in value.path.split('*') {
            let (what, open) = hop.rsplit_once('@').unwrap();
            let open: i64 = open.parse().unwrap();
            let parts: Vec<&str> = what.split(':').collect();
            let (symbol, inverse) = (parts[1].trim_end_matches('/'), parts[1].ends_with('/'));
            let candle = match parts[0] {
                "kraken" => {
                    through_kraken += 1;
                    let g = cointally_exchanges::prices::Granularity::from_name(parts[2]).unwrap();
                    assert!(g == cointally_exchanges::prices::Granularity::DAY || g.name == "1w", "{hop}");
                    let pair = cointally_exchanges::kraken::sim::ohlc::market_pair(symbol).unwrap();
                    market.pair_price(&pair, open + g.millis - 1).unwrap()
                }
                "coinbase" => {
                    let (base, quote) = symbol.split_once('-').unwrap();
                    market.price(base, quote, open).unwrap()
                }
                "binance" => market.pair_price(market.pair(symbol).unwrap(), open).unwrap(),
                other => panic!("unexpected source {other}"),
            };
            price *= if inverse { Decimal::ONE / candle } else { candle };
        }
        let (asset, amount) = &legs[key];
        let expected = amount.abs() * price;
        assert!((value.value - expected).abs() < Decimal::new(1, 9), "{asset} {key:?}: {value:?} vs {expected}");
    }
    assert!(through_kraken > 100, "{through_kraken}");

    // The same account priced the old way, each side of a trade from its own market, from
    // the synced ledger with an empty cache: more requests, and values within a cent of the
    // one-price way wherever both reach a candle.
    std::fs::copy(&synced, sb.ledger()).unwrap();
    let each = sb.ok(&["--json", "prices", "--each-leg"]).json();
    assert_eq!(each["missing"], 0, "{each}");
    let (new_requests, old_requests) = (first["requests"].as_u64().unwrap(), each["requests"].as_u64().unwrap());
    // This two-year demo account measured 625 against 981 (64%); the 60% target is the
    // three-year bench account's (`cargo bench --bench prices`).
    assert!(new_requests * 3 <= old_requests * 2, "{new_requests} requests, {old_requests} each leg on its own");
    let old = values(&sb, "USD");
    assert_eq!(old.len(), usd.len());
    // The simulator's trades execute at the cross rate of the two USD markets rounded to what
    // the exchange allows (a spot price to its symbol's decimals, a card buy's to 0.01 of the
    // fiat, a Convert's amount to 8 places), and a market without a candle in the trade's minute
    // gives the nearest one's, so a derived value differs from its own market's by that
    // rounding or a minute's move: none by more than 1% (a value derived from the wrong leg or
    // amount would be far off).
    let (mut compared, mut within) = (0, 0);
    for (key, value) in usd.iter().filter(|(_, v)| v.source.starts_with("trade:")) {
        assert!(!old[key].source.starts_with("trade:"), "{:?}", old[key]);
        let gap = (old[key].value - value.value).abs();
        assert!(gap * Decimal::from(100) <= old[key].value.max(Decimal::ONE), "{key:?}: {value:?} vs {:?}", old[key]);
        compared += 1;
        within += usize::from(gap <= Decimal::new(1, 2));
    }
    eprintln!(
        "derived values: {within} of {compared} within a cent of their own market's; \
         {new_requests} requests against {old_requests} each leg on its own"
    );
    assert!(compared > 20, "{compared}");
}

/// Every value derived from its trade's other side names that side's source and path, and in
/// every such trade the derived main leg is worth exactly the priced one; returns how many trades.
fn check_trades(values: &BTreeMap<(i64, i64), LegValue>) -> usize {
    let mut trades: BTreeMap<i64, bool> = BTreeMap::new();
    for ((event, _), value) in values.iter().filter(|(_, v)| v.source.starts_with("trade:")) {
        let (leg, path) = value.path.strip_prefix("leg:").and_then(|p| p.split_once('=')).unwrap();
        let priced = &values[&(*event, leg.parse::<i64>().unwrap())];
        assert_eq!((path, value.source.as_str()), (priced.path.as_str(), format!("trade:{}", priced.source).as_str()));
        *trades.entry(*event).or_default() |= value.value == priced.value;
    }
    assert!(trades.values().all(|same| *same), "{trades:?}");
    trades.len()
}

#[test]
fn prices_missing_lists_exactly_the_unvalued_legs_and_a_price_file_fills_them() {
    let sb = Sandbox::new();
    let key = SimKey::demo();
    let (_binance, _coinbase, _kraken) = sb.price_simulators(1, &key.api_key, &key.secret);
    sb.ok(&["init"]);
    sb.ok(&["account", "add", "wallet", "--label", "cold"]);
    sb.ok(&["import", &fixture("prices/history.csv"), "--account", "cold"]);
    let run = sb.run(&["prices"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("1 legs still have no value in USD"), "{}", run.stderr);
    let missing = sb.ok(&["--json", "prices", "missing"]).json();
    let missing = missing.as_array().unwrap();
    assert_eq!(missing.len(), 1, "{missing:?}");
    assert_eq!((missing[0]["asset"].as_str(), missing[0]["amount"].as_str()), (Some("ZZZ"), Some("250")));
    assert_eq!(missing[0]["time"], "2024-06-01T12:00:00Z");

    // A bad price file: every bad row with its line, nothing stored.
    let bad = sb.run(&["prices", "import", &fixture("prices/bad.csv")]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("bad.csv:3: column price"), "{}", bad.stderr);
    assert!(bad.stderr.contains("bad.csv:7: column asset"), "{}", bad.stderr);
    assert!(Ledger::open(&sb.ledger(), OpenMode::Existing).unwrap().file_price_markets().unwrap().is_empty());

    sb.ok(&["prices", "import", &fixture("prices/zzz.csv")]);
    sb.ok(&["prices"]);
    assert_eq!(sb.ok(&["--json", "prices", "missing"]).json(), serde_json::json!([]));
    let zzz = values(&sb, "USD").into_values().find(|v| v.source == "file").unwrap();
    assert_eq!((zzz.price, zzz.value), ("0.04".parse().unwrap(), "10".parse().unwrap()));
}

/// Gemini is the last source: a leg none of the others can price (here they list nothing: each
/// is pointed at a closed port) is valued from Gemini's daily candle, one request for the
/// market, and a second run asks nothing.
#[test]
fn a_leg_the_other_sources_cannot_price_is_valued_from_geminis_daily_candles() {
    use cointally_exchanges::prices::Granularity;
    let gemini = cointally_exchanges::gemini::sim::start(cointally_exchanges::gemini::sim::SimConfig::demo(1)).unwrap();
    let sb = Sandbox::new();
    sb.set_env("COINTALLY_GEMINI_BASE_URL", &gemini.base_url());
    sb.ok(&["init"]);
    sb.ok(&["account", "add", "kraken", "--label", "w", "--no-key"]);
    // 200 days ago: inside the simulator's reach (its 1,000 most recent daily candles).
    let day = Granularity::DAY.millis;
    let at_ms = Granularity::DAY.floor(cointally_exchanges::sim::now_ms()) - 200 * day + 12 * 3_600_000;
    let at = cointally_exchanges::time::format_rfc3339(cointally_exchanges::time::from_millis(at_ms));
    let file = sb.path("w.csv");
    std::fs::write(&file, format!("{}{at},deposit,,,0.5,BTC,,,,,,,,d1,\n", common::GENERIC_HEADER)).unwrap();
    sb.ok(&["import", file.to_str().unwrap(), "--account", "w", "--format", "generic"]);

    // The others' failed listings make the run end with an error; the values are kept.
    let run = sb.run(&["--json", "prices"]);
    assert_ne!(run.code, 0);
    let run = run.json();
    assert_eq!(run["missing"], 0, "{run}");
    let errors: Vec<String> =
        run["errors"].as_array().unwrap().iter().map(|e| e.as_str().unwrap().to_owned()).collect();
    assert!(errors.iter().all(|e| !e.starts_with("gemini")), "{errors:?}");
    for other in ["coinbase", "binance", "kraken", "bitstamp"] {
        assert!(errors.iter().any(|e| e.starts_with(other)), "{other} listed no market: {errors:?}");
    }
    let usd = values(&sb, "USD");
    assert_eq!(usd.len(), 1, "{usd:?}");
    let value = usd.values().next().unwrap();
    let (what, open) = value.path.rsplit_once('@').unwrap();
    assert_eq!(what, "gemini:btcusd:1d", "{value:?}");
    let open: i64 = open.parse().unwrap();
    assert_eq!(open, Granularity::DAY.floor(at_ms));
    let close = gemini.market().ohlc("BTC", "USD", open, day).unwrap().close;
    assert_eq!(value.value, (Decimal::new(5, 1) * close).normalize(), "{value:?}");
    assert_eq!(gemini.stats().requests_by_path.get("/v2/candles/btcusd/1day"), Some(&1));

    let again = sb.run(&["--json", "prices"]).json();
    assert_eq!(again["valued"], 0, "{again}");
    assert_eq!(gemini.stats().requests_by_path.get("/v2/candles/btcusd/1day"), Some(&1));
}

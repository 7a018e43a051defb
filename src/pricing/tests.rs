//! The pricing engine against fake sources with hand-made candles: every value below is
//! computed by hand from the candles written next to it.

use std::collections::BTreeMap;

use cointally_exchanges::event::FiatValue;
use cointally_exchanges::http::FetchError;
use cointally_exchanges::prices::{Candle, CandleSource, Fetched, Granularity, Market, Window};
use cointally_exchanges::time::from_millis;
use cointally_exchanges::{EventKind, Leg, NewEvent};
use rust_decimal::Decimal;

use super::*;
use crate::ledger::{FilePrice, NewAccount, OpenMode};

/// 2024-03-01T10:00:00Z.
const T0: i64 = 1_709_287_200_000;
const MIN: i64 = 60_000;
/// "Now" for every run: a year later.
const NOW: i64 = T0 + 365 * 86_400_000;

fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

/// A source serving fixed minute candles.
struct Fake {
    name: &'static str,
    markets: Vec<Market>,
    candles: BTreeMap<String, Vec<Candle>>,
    max: u32,
}

impl Fake {
    fn new(name: &'static str, max: u32) -> Fake {
        Fake { name, markets: Vec::new(), candles: BTreeMap::new(), max }
    }

    /// Lists `symbol` (base/quote) with candles `(minutes after T0, close)`.
    fn market(mut self, symbol: &str, base: &str, quote: &str, candles: &[(i64, &str)]) -> Fake {
        self.markets.push(Market { symbol: symbol.into(), base: base.into(), quote: quote.into() });
        self.candles.insert(
            symbol.into(),
            candles.iter().map(|(m, close)| Candle { open_ms: T0 + m * MIN, close: d(close) }).collect(),
        );
        self
    }
}

impl CandleSource for Fake {
    fn name(&self) -> &'static str {
        self.name
    }
    fn markets(&self) -> Result<Fetched<Market>, FetchError> {
        Ok(Fetched { items: self.markets.clone(), requests: 1, retries: 0 })
    }
    fn granularity(&self, _: i64, _: i64) -> Granularity {
        Granularity::MINUTE
    }
    fn max_candles(&self) -> u32 {
        self.max
    }
    fn candles_in(&self, window: &Window<'_>) -> Result<Fetched<Candle>, FetchError> {
        let Window { market, granularity: g, start_ms: start, end_ms: end } = *window;
        assert!(end - start <= i64::from(self.max) * g.millis, "window too large");
        let items =
            self.candles[&market.symbol].iter().filter(|c| c.open_ms >= start && c.open_ms < end).copied().collect();
        Ok(Fetched { items, requests: 1, retries: 0 })
    }
}

struct Book {
    _dir: tempfile::TempDir,
    ledger: Ledger,
    account: i64,
    next: u32,
}

impl Book {
    fn new() -> Book {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open(&dir.path().join("l.sqlite"), OpenMode::CreateNew).unwrap();
        let account = ledger.add_account(&NewAccount::files_only("main", "other")).unwrap().id;
        Book { _dir: dir, ledger, account, next: 0 }
    }

    /// Adds an event at `minutes` after T0 and returns its id.
    fn event(&mut self, minutes: i64, kind: EventKind, legs: Vec<Leg>, fiat: Option<(&str, &str)>) -> i64 {
        self.next += 1;
        let event = NewEvent {
            external_id: format!("e{}", self.next),
            time: from_millis(T0 + minutes * MIN + 17_000),
            kind,
            legs,
            tx_hash: None,
            address: None,
            network: None,
            note: None,
            fiat_value: fiat.map(|(a, c)| FiatValue { amount: d(a), currency: c.into() }),
        };
        let mut writer = self.ledger.writer().unwrap();
        let written = writer.event(self.account, "csv:generic", &event, &[]).unwrap();
        writer.commit().unwrap();
        match written {
            crate::ledger::Written::New(id) => id,
            crate::ledger::Written::Existing(id) => id,
        }
    }

    fn run(&mut self, sources: &[Box<dyn CandleSource>], options: &Options) -> Summary {
        run(&mut self.ledger, sources, options, NOW, &NoProgress).unwrap()
    }

    fn value(&self, event: i64, seq: i64) -> Option<LegValue> {
        let currency = self.ledger.reporting_currency().unwrap();
        self.ledger.leg_values(&currency).unwrap().remove(&(event, seq))
    }
}

fn sources(fakes: Vec<Fake>) -> Vec<Box<dyn CandleSource>> {
    fakes.into_iter().map(|f| Box::new(f) as Box<dyn CandleSource>).collect()
}

fn coinbase() -> Fake {
    Fake::new("coinbase", 300)
        .market("BTC-USD", "BTC", "USD", &[(0, "60000"), (1, "60100"), (3, "60300"), (500, "61000")])
        .market("USDT-USD", "USDT", "USD", &[(0, "0.998"), (1, "0.999"), (500, "1.001")])
        .market("USDT-EUR", "USDT", "EUR", &[(0, "0.92"), (1, "0.925")])
}

fn binance() -> Fake {
    Fake::new("binance", 1000).market("BNBUSDT", "BNB", "USDT", &[(0, "400"), (1, "401.5")]).market(
        "BTCUSDT",
        "BTC",
        "USDT",
        &[(0, "60050")],
    )
}

#[test]
fn direct_market_values_the_candle_of_the_minute() {
    let mut book = Book::new();
    // Minute 1: BTC-USD closes at 60,100 → 0.5 BTC = 30,050 USD.
    let deposit = book.event(1, EventKind::Deposit, vec![Leg::received("BTC", d("0.5"))], None);
    // Minute 2 has no candle: minutes 1 and 3 are equally near → the earlier (60,100).
    let gap = book.event(2, EventKind::Deposit, vec![Leg::received("BTC", d("0.1"))], None);
    let summary = book.run(&sources(vec![coinbase(), binance()]), &Options::default());
    let v = book.value(deposit, 0).unwrap();
    assert_eq!((v.price, v.value, v.source.as_str()), (d("60100"), d("30050"), "coinbase"));
    assert_eq!(v.path, format!("coinbase:BTC-USD:1m@{}", T0 + MIN));
    assert_eq!(book.value(gap, 0).unwrap().value, d("6010"));
    assert_eq!((summary.valued, summary.missing), (2, 0));
}

#[test]
fn cross_rate_through_a_stablecoin_priced_by_its_market() {
    let mut book = Book::new();
    // 2 BNB at minute 1: BNBUSDT 401.5 × USDT-USD 0.999 = 401.0985 → 802.197 USD.
    let e = book.event(1, EventKind::Income, vec![Leg::received("BNB", d("2"))], None);
    book.run(&sources(vec![coinbase(), binance()]), &Options::default());
    let v = book.value(e, 0).unwrap();
    assert_eq!((v.price, v.value), (d("401.0985"), d("802.197")));
    assert_eq!(v.source, "binance+coinbase");
    assert_eq!(v.path, format!("binance:BNBUSDT:1m@{}*coinbase:USDT-USD:1m@{}", T0 + MIN, T0 + MIN));
}

#[test]
fn stablecoins_at_par_only_when_asked() {
    let mut book = Book::new();
    let e = book.event(0, EventKind::Deposit, vec![Leg::received("USDT", d("1000"))], None);
    book.run(&sources(vec![coinbase(), binance()]), &Options::default());
    assert_eq!(book.value(e, 0).unwrap().value, d("998"));
    book.run(
        &sources(vec![coinbase(), binance()]),
        &Options { stablecoins_at_par: true, revalue: true, ..Options::default() },
    );
    let v = book.value(e, 0).unwrap();
    assert_eq!((v.value, v.source.as_str()), (d("1000"), "par"));
}

#[test]
fn a_route_without_a_candle_near_the_time_falls_through_to_the_next() {
    let mut book = Book::new();
    // Minute 200: BTC-USD has no candle within an hour (nearest: minutes 3 and 500), so the
    // cross rate BTCUSDT × USDT-USD is tried — which has none either; nothing is guessed.
    let e = book.event(200, EventKind::Deposit, vec![Leg::received("BTC", d("1"))], None);
    // Minute 0 through BTCUSDT works when Coinbase does not list BTC-USD at all.
    let only_binance = Fake::new("coinbase", 300).market("USDT-USD", "USDT", "USD", &[(0, "0.998")]);
    let f = book.event(0, EventKind::Deposit, vec![Leg::received("BTC", d("1"))], None);
    let summary = book.run(&sources(vec![only_binance, binance()]), &Options::default());
    assert!(book.value(e, 0).is_none());
    let v = book.value(f, 0).unwrap();
    assert_eq!(v.price, d("59929.9")); // 60,050 × 0.998
    assert_eq!(summary.missing, 1);
    let missing = book.ledger.missing_legs("USD").unwrap();
    assert_eq!(missing.iter().map(|m| (m.event, m.asset.as_str())).collect::<Vec<_>>(), vec![(e, "BTC")]);
}

#[test]
fn a_second_run_asks_nothing_and_offline_asks_nothing_at_all() {
    let mut book = Book::new();
    for minute in [0, 1, 3, 500] {
        book.event(minute, EventKind::Deposit, vec![Leg::received("BTC", d("1"))], None);
    }
    book.event(0, EventKind::Deposit, vec![Leg::received("DOGE", d("1"))], None); // no market anywhere
    let first = sources(vec![coinbase(), binance()]);
    let summary = book.run(&first, &Options::default());
    // Markets of both sources, then one window for BTC-USD minutes 0..300 and one at 500.
    assert_eq!(summary.requests, 4, "{summary:?}");
    assert_eq!((summary.valued, summary.missing), (4, 1));
    let second = sources(vec![coinbase(), binance()]);
    let again = book.run(&second, &Options::default());
    assert_eq!((again.requests, again.valued, again.missing), (0, 0, 1));
    // A new event inside a window asked before is valued from the cache.
    let e = book.event(2, EventKind::Deposit, vec![Leg::received("BTC", d("2"))], None);
    let offline = book.run(
        &sources(vec![Fake::new("coinbase", 300), Fake::new("binance", 1000)]),
        &Options { offline: true, ..Options::default() },
    );
    assert_eq!(offline.requests, 0);
    assert_eq!(book.value(e, 0).unwrap().value, d("120200"));
}

#[test]
fn windows_are_the_fewest_that_cover_the_times() {
    let mut book = Book::new();
    for minute in [0, 1, 299, 300, 301, 1000, 1299] {
        book.event(minute, EventKind::Deposit, vec![Leg::received("BTC", d("1"))], None);
    }
    let cb = coinbase();
    let list = vec![Box::new(cb) as Box<dyn CandleSource>];
    book.run(&list, &Options::default());
    // 0..300 covers 0, 1, 299; 300..600 covers 300, 301; 1000..1300 covers 1000 and 1299.
    let counted = book.ledger.price_coverage("coinbase", "BTC", "USD", "1m").unwrap();
    assert_eq!(
        counted,
        vec![(T0, T0 + 300 * MIN), (T0 + 300 * MIN, T0 + 600 * MIN), (T0 + 1000 * MIN, T0 + 1300 * MIN)]
    );
}

#[test]
fn the_event_itself_beats_the_markets_and_a_price_file_comes_last() {
    let mut book = Book::new();
    let trade = book.event(
        1,
        EventKind::Trade,
        vec![Leg::sent("USD", d("3000")), Leg::received("BTC", d("0.05")), Leg::fee("BTC", d("0.0001"))],
        None,
    );
    let obscure = book.event(1, EventKind::Airdrop, vec![Leg::received("XYZ", d("100"))], None);
    book.ledger
        .store_file_prices(&[FilePrice {
            asset: "XYZ".into(),
            currency: "USDT".into(),
            time_ms: T0 - T0 % 86_400_000,
            granularity: "1d",
            price: d("0.25"),
        }])
        .unwrap();
    book.run(&sources(vec![coinbase(), binance()]), &Options::default());
    let btc = book.value(trade, 1).unwrap();
    assert_eq!((btc.price, btc.value, btc.source.as_str()), (d("60000"), d("3000"), "event"));
    assert_eq!(book.value(trade, 2).unwrap().value, d("6")); // 0.0001 × 60,000
    assert_eq!(book.value(trade, 0).unwrap().source, "currency");
    // XYZ: 0.25 USDT from the file × USDT-USD 0.999 at minute 1 → 24.975 USD.
    let xyz = book.value(obscure, 0).unwrap();
    assert_eq!((xyz.value, xyz.source.as_str()), (d("24.975"), "file+coinbase"));
}

#[test]
fn a_new_reporting_currency_is_valued_beside_the_old() {
    let mut book = Book::new();
    let e = book.event(1, EventKind::Deposit, vec![Leg::received("USDT", d("100"))], None);
    book.run(&sources(vec![coinbase(), binance()]), &Options::default());
    book.ledger.set_reporting_currency("EUR").unwrap();
    let summary = book.run(&sources(vec![coinbase(), binance()]), &Options::default());
    assert_eq!(summary.currency, "EUR");
    assert_eq!(book.value(e, 0).unwrap().value, d("92.5")); // USDT-EUR 0.925 at minute 1
    assert_eq!(book.ledger.leg_values("USD").unwrap()[&(e, 0)].value, d("99.9"));
}

#[test]
fn a_failing_source_is_reported_and_the_rest_goes_on() {
    struct Down;
    impl CandleSource for Down {
        fn name(&self) -> &'static str {
            "coinbase"
        }
        fn markets(&self) -> Result<Fetched<Market>, FetchError> {
            Err(FetchError::GaveUp {
                exchange: "coinbase".into(),
                endpoint: "products".into(),
                attempts: 3,
                last: "HTTP 503".into(),
            })
        }
        fn granularity(&self, _: i64, _: i64) -> Granularity {
            Granularity::MINUTE
        }
        fn max_candles(&self) -> u32 {
            300
        }
        fn candles_in(&self, _: &Window<'_>) -> Result<Fetched<Candle>, FetchError> {
            unreachable!("no markets, no candles")
        }
    }
    let mut book = Book::new();
    let e = book.event(1, EventKind::Deposit, vec![Leg::received("BTC", d("1"))], None);
    let list: Vec<Box<dyn CandleSource>> = vec![Box::new(Down), Box::new(binance())];
    let summary = book.run(&list, &Options::default());
    assert_eq!(summary.errors.len(), 1, "{summary:?}");
    assert!(summary.errors[0].starts_with("coinbase: listing its markets"));
    assert!(book.value(e, 0).is_none(), "BTCUSDT alone cannot reach USD");
    assert_eq!(summary.missing, 1);
}

#[test]
fn reports_refuse_missing_values_unless_allowed() {
    let mut book = Book::new();
    book.event(0, EventKind::Deposit, vec![Leg::received("BTC", d("1"))], None);
    let e = book.event(1, EventKind::Airdrop, vec![Leg::received("ZZZ", d("5"))], None);
    book.run(&sources(vec![coinbase()]), &Options::default());
    let error = require_values(&book.ledger, false).unwrap_err().to_string();
    assert_eq!(error, "1 leg has no value in USD (the first: event 2, 5 ZZZ at 2024-03-01T10:01:17Z)");
    let allowed = require_values(&book.ledger, true).unwrap();
    assert_eq!(allowed.iter().map(|l| l.event).collect::<Vec<_>>(), vec![e]);
}

#[test]
fn a_cad_ledger_is_valued_from_krakens_ohlc_at_the_finest_candle_still_served() {
    use cointally_exchanges::kraken::prices::KrakenPrices;
    use cointally_exchanges::kraken::sim::ohlc::market_pair;
    use cointally_exchanges::kraken::sim::{self as kraken_sim, Limits, SimConfig};

    let sim = kraken_sim::start(SimConfig { limits: Limits::Off, ..SimConfig::demo(1) }).unwrap();
    sim.set_now(NOW);
    let clock = std::sync::Arc::new(cointally_exchanges::http::ManualClock::new(NOW));
    let config = cointally_exchanges::http::ClientConfig::from_vars(|name| {
        (name == "COINTALLY_HTTP_FAST").then(|| "1".to_owned())
    });
    let kraken: Vec<Box<dyn CandleSource>> =
        vec![Box::new(KrakenPrices::new(Some(&sim.base_url()), config, clock).unwrap())];
    let mut book = Book::new();
    book.ledger.set_reporting_currency("CAD").unwrap();
    let year = 365 * 1440;
    // A year before now: day candles; ten days before: hours; two hours before: minutes.
    let old = book.event(1, EventKind::Deposit, vec![Leg::received("BTC", d("0.5"))], None);
    let recent = book.event(year - 10 * 1440, EventKind::Deposit, vec![Leg::received("BTC", d("0.25"))], None);
    let fresh = book.event(year - 120, EventKind::Deposit, vec![Leg::received("ETH", d("2"))], None);
    // No SOL/CAD market: SOLUSD × USDCAD (USD is a bridge).
    let sol = book.event(1, EventKind::Income, vec![Leg::received("SOL", d("3"))], None);
    let summary = book.run(&kraken, &Options::default());
    assert_eq!((summary.valued, summary.missing), (4, 0), "{summary:?}");
    assert!(summary.errors.is_empty(), "{summary:?}");

    // Each value is |amount| × the generator's price at the last minute of the candle chosen.
    let market = sim.market();
    let close = |id: &str, g: Granularity, time: i64| {
        let open = g.floor(time);
        (open, market.pair_price(&market_pair(id).unwrap(), open + g.millis - 1).unwrap())
    };
    let at = |minutes: i64| T0 + minutes * MIN + 17_000;
    for (event, amount, id, g, minutes) in [
        (old, "0.5", "XXBTZCAD", Granularity::DAY, 1),
        (recent, "0.25", "XXBTZCAD", Granularity::HOUR, year - 10 * 1440),
        (fresh, "2", "XETHZCAD", Granularity::MINUTE, year - 120),
    ] {
        let (open, price) = close(id, g, at(minutes));
        let v = book.value(event, 0).unwrap();
        assert_eq!((v.price, v.value, v.source.as_str()), (price, value_of(d(amount), price).unwrap(), "kraken"));
        assert_eq!(v.path, format!("kraken:{id}:{}@{open}", g.name));
    }
    let (sol_open, sol_usd) = close("SOLUSD", Granularity::DAY, at(1));
    let (_, usd_cad) = close("ZUSDZCAD", Granularity::DAY, at(1));
    let v = book.value(sol, 0).unwrap();
    let price = round_price(sol_usd * usd_cad);
    assert_eq!((v.price, v.value), (price, value_of(d("3"), price).unwrap()));
    assert_eq!(v.path, format!("kraken:SOLUSD:1d@{sol_open}*kraken:ZUSDZCAD:1d@{sol_open}"));
    // Everything is cached: a second run asks nothing.
    let again = book.run(&kraken, &Options { revalue: true, ..Options::default() });
    assert_eq!((again.requests, again.valued), (0, 4));
}

#[test]
fn a_value_that_overflows_is_none_not_zero() {
    let max = d("99999999999999999999");
    assert_eq!(value_of(max, max), None);
    assert_eq!(value_of(d("-2"), d("1.5")), Some(d("3")));
}

/// A BNB → BTC trade at `minute` with a fee in BTC and one in USDT: (event, [sent, received, fees]).
fn bnb_for_btc(book: &mut Book, minute: i64) -> i64 {
    let legs = vec![
        Leg::sent("BNB", d("10")),
        Leg::received("BTC", d("0.0667")),
        Leg::fee("BTC", d("0.0001")),
        Leg::fee("USDT", d("1")),
    ];
    book.event(minute, EventKind::Trade, legs, None)
}

#[test]
fn a_crypto_trade_is_priced_once_from_the_side_that_reaches_finer() {
    let mut book = Book::new();
    let e = bnb_for_btc(&mut book, 1);
    let summary = book.run(&sources(vec![coinbase(), binance()]), &Options::default());
    // BTC reaches in one hop (BTC-USD), BNB in two: the received BTC is priced, 0.0667 × 60,100.
    let btc = book.value(e, 1).unwrap();
    assert_eq!((btc.value, btc.source.as_str()), (d("4008.67"), "coinbase"));
    // The BNB given is worth what was received: 4008.67 / 10, exactly.
    let bnb = book.value(e, 0).unwrap();
    assert_eq!((bnb.price, bnb.value, bnb.source.as_str()), (d("400.867"), d("4008.67"), "trade:coinbase"));
    assert_eq!(bnb.path, format!("leg:1=coinbase:BTC-USD:1m@{}", T0 + MIN));
    assert_eq!(book.value(e, 2).unwrap().value, d("6.01")); // the BTC fee: 0.0001 × 60,100
    assert_eq!(book.value(e, 3).unwrap().value, d("0.999")); // the USDT fee has its own price
    // Two market lists, BTC-USD and USDT-USD: BNBUSDT is never asked.
    assert_eq!((summary.requests, summary.missing), (4, 0), "{summary:?}");
    assert_eq!(summary.by_source.get("trade:coinbase"), Some(&1));

    // Each leg on its own: one more request, and BNB's own market (401.5 × 0.999 = 401.0985).
    let mut each = Book::new();
    let e = bnb_for_btc(&mut each, 1);
    let summary = each.run(&sources(vec![coinbase(), binance()]), &Options { each_leg: true, ..Options::default() });
    assert_eq!(summary.requests, 5, "{summary:?}");
    let bnb = each.value(e, 0).unwrap();
    assert_eq!((bnb.value, bnb.source.as_str()), (d("4010.985"), "binance+coinbase"));
}

#[test]
fn a_trade_whose_priced_side_finds_no_candle_prices_the_other_and_derives_the_first_from_it() {
    let mut book = Book::new();
    // Minute 200: no BTC candle within an hour; BNB has its own.
    let cb = Fake::new("coinbase", 1000).market("BTC-USD", "BTC", "USD", &[(0, "60000")]).market(
        "USDT-USD",
        "USDT",
        "USD",
        &[(0, "0.998"), (200, "1.002")],
    );
    let bn = Fake::new("binance", 1000).market("BNBUSDT", "BNB", "USDT", &[(0, "400"), (200, "410")]);
    let e = bnb_for_btc(&mut book, 200);
    let summary = book.run(&sources(vec![cb, bn]), &Options::default());
    let bnb = book.value(e, 0).unwrap();
    assert_eq!((bnb.value, bnb.source.as_str()), (d("4108.2"), "binance+coinbase")); // 10 × 410 × 1.002
    // The BTC legs, which found no candle, take their value from the BNB given: the received
    // BTC exactly 4108.2, its price 4108.2 / 0.0667 (18 places), the BTC fee 0.0001 × that.
    let btc = book.value(e, 1).unwrap();
    assert_eq!(
        (btc.value, btc.price, btc.source.as_str()),
        (d("4108.2"), d("61592.203898050974512744"), "trade:binance+coinbase")
    );
    assert!(btc.path.starts_with("leg:0=binance:BNBUSDT:1m@"), "{}", btc.path);
    assert_eq!(book.value(e, 2).unwrap().value, d("6.159220389805"));
    assert_eq!(summary.missing, 0, "{summary:?}");
}

/// A page chooses a trade's priced side knowing only its own legs' windows (and the cache):
/// pages of one event value the same legs as one page, and a side's value may come from the
/// other side's market instead; the legs that are no trade's side get exactly the same values.
#[test]
fn pages_of_one_event_value_the_same_legs_as_one_page() {
    let mut books = [Book::new(), Book::new()];
    let mut deposits = Vec::new();
    for book in &mut books {
        deposits.clear();
        for minute in [500, 0, 3, 1] {
            bnb_for_btc(book, minute);
            deposits.push(book.event(minute, EventKind::Deposit, vec![Leg::received("BNB", d("2"))], None));
        }
    }
    let [one, all] = &mut books;
    let list = || sources(vec![coinbase(), binance()]);
    let paged = run_paged(&mut one.ledger, &list(), &Options::default(), NOW, &NoProgress, 1).unwrap();
    let whole = all.run(&list(), &Options::default());
    assert_eq!((whole.valued, whole.missing), (19, 1), "{whole:?}"); // BNB has no candle near minute 500
    assert_eq!((paged.valued, paged.missing), (19, 1), "{paged:?}");
    // One page sees that the BNB deposits ask BNBUSDT and USDT-USD at every trade's time and
    // prices the BNB sides: BTC-USD is asked once (minute 500, for the trade whose BNB found
    // nothing). A page of one trade does not see the deposit after it and prices the BTC side.
    assert_eq!((paged.requests, whole.requests), (8, 7), "{paged:?} {whole:?}");
    let (paged, whole) = (one.ledger.leg_values("USD").unwrap(), all.ledger.leg_values("USD").unwrap());
    assert_eq!(paged.keys().collect::<Vec<_>>(), whole.keys().collect::<Vec<_>>());
    // The legs that are no trade's side: the deposits and the USDT fees (seq 3), the same values.
    for (key, value) in &whole {
        if deposits.contains(&key.0) || key.1 == 3 {
            assert_eq!(paged.get(key), Some(value), "{key:?}");
        }
    }
}

#[test]
fn a_price_file_row_again_replaces_its_price_and_only_new_rows_count() {
    let mut book = Book::new();
    let row = |time_ms: i64, price: &str| FilePrice {
        asset: "XYZ".into(),
        currency: "USD".into(),
        time_ms,
        granularity: "point",
        price: d(price),
    };
    assert_eq!(book.ledger.store_file_prices(&[row(T0, "1"), row(T0 + MIN, "2")]).unwrap(), 2);
    assert_eq!(book.ledger.store_file_prices(&[row(T0, "1.5"), row(T0 + 2 * MIN, "3")]).unwrap(), 1);
    let prices = book.ledger.cached_prices(FILE_SOURCE, "XYZ", "USD", "point", T0, T0 + 2 * MIN).unwrap();
    assert_eq!(prices, vec![(T0, d("1.5")), (T0 + MIN, d("2")), (T0 + 2 * MIN, d("3"))]);
}

#[test]
fn a_trade_is_priced_from_the_side_whose_market_is_asked_at_that_time_anyway() {
    let mut book = Book::new();
    // An ETH deposit at minute 0 asks ETH-USD for minutes 0–299; BTC is read by more legs of
    // the page (two later deposits), but none near minute 100.
    book.event(0, EventKind::Deposit, vec![Leg::received("ETH", d("1"))], None);
    let legs = vec![Leg::sent("BTC", d("0.05")), Leg::received("ETH", d("1.5"))];
    let e = book.event(100, EventKind::Trade, legs, None);
    for minute in [1000, 2000] {
        book.event(minute, EventKind::Deposit, vec![Leg::received("BTC", d("1"))], None);
    }
    let cb = Fake::new("coinbase", 300)
        .market("BTC-USD", "BTC", "USD", &[(100, "60000"), (1000, "61000"), (2000, "62000")])
        .market("ETH-USD", "ETH", "USD", &[(0, "2000"), (100, "2010")]);
    let summary = book.run(&sources(vec![cb]), &Options::default());
    // ETH-USD at minute 100 is in the deposit's window: ETH is priced (1.5 × 2010) and the BTC
    // given takes that value; BTC-USD is asked only for the deposits at 1000 and 2000.
    let eth = book.value(e, 1).unwrap();
    assert_eq!((eth.value, eth.source.as_str()), (d("3015"), "coinbase"));
    let btc = book.value(e, 0).unwrap();
    assert_eq!((btc.value, btc.source.as_str()), (d("3015"), "trade:coinbase"));
    // The market list, ETH-USD from 0, BTC-USD from 1000 and from 2000 (not also from 100).
    assert_eq!((summary.requests, summary.missing), (4, 0), "{summary:?}");
}

//! Pricing benchmark.
//!
//! Run: `cargo bench --bench prices`.
//!
//! 1. Warm cache: a ledger of 1,000,000 legs (333,334 crypto-to-crypto trades over three
//!    years: an ETH leg, a BTC leg and a BNB fee leg, none in the reporting currency) whose
//!    candles are all cached already (BTC-USD, ETH-USD and USDT-USD minute candles "from
//!    Coinbase", BNBUSDT "from Binance", with the ranges marked as asked). Times
//!    `pricing::run`: it reads the legs, finds routes (BNB goes through BNBUSDT × USDT-USD),
//!    looks up a candle per leg and writes every value; no request may be made. Target: under
//!    10 s. Also the run's peak resident memory (target: under 250 MB for the 1M legs; the run
//!    reads and values the events in time-ordered pages): the setup's peak is printed, then the
//!    kernel's high-water mark is reset (`/proc/self/clear_refs`), so the figure is the run's.
//! 2. Requests: a generated three-year account (2023–2025: 10,000 trades over 20 symbols and
//!    the other kinds) is synced from the Binance simulator, then priced from the Binance and
//!    Coinbase simulators (budgets off) through the real sources. Prints the requests made
//!    and the minimum: for every market the values used, the fewest requests of that source's
//!    size that cover the distinct hours holding its times. Target: within 2× the minimum.
//!    The same account is priced the way before too (`each_leg`: every leg from its own
//!    market) from its own empty cache: prints both request counts (target: now ≤ 60% of
//!    before) and how many trade legs valued from their other side are within a cent of
//!    their own market's value, and why the others are not ([`agreement`]).
//!
//! `COINTALLY_BENCH_SCALE=100` divides every size by 100 (to prove the bench runs).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cointally::ledger::{EventFilter, EventRow, Ledger, NewAccount, OpenMode};
use cointally::pricing::{self, NoProgress, Options};
use cointally::sync::{self, Job, Reporter};
use cointally_exchanges::binance::adapter::BinanceAdapter;
use cointally_exchanges::binance::api::BinanceApi;
use cointally_exchanges::binance::prices::BinancePrices;
use cointally_exchanges::binance::sim::{self as binance_sim, Limits, SimConfig, SimKey};
use cointally_exchanges::coinbase::prices::CoinbasePrices;
use cointally_exchanges::coinbase::sim as coinbase_sim;
use cointally_exchanges::http::{ClientConfig, FetchError, SystemClock};
use cointally_exchanges::prices::{Candle, CandleSource, Fetched, Granularity, Market, Window};
use cointally_exchanges::sim::Market as SimMarket;
use cointally_exchanges::sim::generate::Profile;
use cointally_exchanges::time::from_millis;
use cointally_exchanges::{EventKind, Exchange, Leg, LegRole, NewEvent, Secret};
use rust_decimal::Decimal;

/// 2023-01-01T00:00:00Z.
const START_MS: i64 = 1_672_531_200_000;
const YEARS_MS: i64 = 3 * 365 * 86_400_000;
const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 3_600_000;

fn main() {
    cointally::allocator::tune();
    if std::env::var_os("COINTALLY_BENCH_SKIP_WARM").is_none() {
        warm_cache(333_334 / scale());
        println!();
    }
    requests();
}

/// A source that lists markets and must never be asked for candles (the cache is warm).
struct Cached(&'static str, Vec<Market>);

impl CandleSource for Cached {
    fn name(&self) -> &'static str {
        self.0
    }
    fn markets(&self) -> Result<Fetched<Market>, FetchError> {
        Ok(Fetched { items: self.1.clone(), requests: 1, retries: 0 })
    }
    fn granularity(&self, _: i64, _: i64) -> Granularity {
        Granularity::MINUTE
    }
    fn max_candles(&self) -> u32 {
        1000
    }
    fn candles_in(&self, window: &Window<'_>) -> Result<Fetched<Candle>, FetchError> {
        panic!("the cache is warm, yet {} was asked from {}", window.market.symbol, window.start_ms)
    }
}

/// A source that counts the candle requests it passes on, per market.
struct Counting(Box<dyn CandleSource>, Counts);

/// Requests per `source:symbol`.
type Counts = Arc<std::sync::Mutex<BTreeMap<String, u64>>>;

impl CandleSource for Counting {
    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn markets(&self) -> Result<Fetched<Market>, FetchError> {
        self.0.markets()
    }
    fn granularity(&self, time_ms: i64, now_ms: i64) -> Granularity {
        self.0.granularity(time_ms, now_ms)
    }
    fn max_candles(&self) -> u32 {
        self.0.max_candles()
    }
    fn candles_in(&self, window: &Window<'_>) -> Result<Fetched<Candle>, FetchError> {
        let key = format!("{}:{}", self.0.name(), window.market.symbol);
        *self.1.lock().expect("counts").entry(key).or_default() += 1;
        self.0.candles_in(window)
    }
}

fn market(symbol: &str, base: &str, quote: &str) -> Market {
    Market { symbol: symbol.into(), base: base.into(), quote: quote.into() }
}

fn warm_cache(trades: usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut ledger = Ledger::open(&dir.path().join("prices.sqlite"), OpenMode::CreateNew).expect("ledger");
    let account = ledger.add_account(&NewAccount::files_only("main", "other")).expect("account").id;
    let mut rng = fastrand::Rng::with_seed(7);
    let setup = Instant::now();
    let mut minutes = BTreeSet::new();
    let mut writer = ledger.writer().expect("writer");
    for i in 0..trades {
        let time = START_MS + rng.i64(0..YEARS_MS);
        minutes.insert(time - time.rem_euclid(MINUTE_MS));
        let event = NewEvent {
            external_id: format!("t{i}"),
            time: from_millis(time),
            kind: EventKind::Trade,
            legs: vec![
                Leg::sent("ETH", Decimal::new(rng.i64(1..10_000_000), 6)),
                Leg::received("BTC", Decimal::new(rng.i64(1..10_000_000), 8)),
                Leg::fee("BNB", Decimal::new(rng.i64(1..100_000), 8)),
            ],
            tx_hash: None,
            address: None,
            network: None,
            note: None,
            fiat_value: None,
        };
        writer.event(account, "csv:generic", &event, &[]).expect("event");
    }
    writer.commit().expect("commit");
    let coinbase =
        vec![market("BTC-USD", "BTC", "USD"), market("ETH-USD", "ETH", "USD"), market("USDT-USD", "USDT", "USD")];
    let binance = vec![market("BNBUSDT", "BNB", "USDT")];
    let now = chrono::Utc::now().timestamp_millis();
    let range = (START_MS, START_MS + YEARS_MS);
    for (source, markets) in [("coinbase", &coinbase), ("binance", &binance)] {
        ledger.store_price_markets(source, markets, now).expect("markets");
        for (k, m) in markets.iter().enumerate() {
            let base = [30_000, 2_000, 1, 300][k + if source == "binance" { 3 } else { 0 }];
            let candles: Vec<Candle> = minutes
                .iter()
                .map(|open| Candle {
                    open_ms: *open,
                    close: Decimal::new(base * 10_000 + (open / MINUTE_MS) % 9_973, 4),
                })
                .collect();
            ledger.store_candles(source, m, "1m", range, &candles, now).expect("candles");
        }
    }
    println!(
        "warm cache: {} legs, {} cached candles per market; set up in {:.1} s",
        trades * 3,
        minutes.len(),
        setup.elapsed().as_secs_f64()
    );
    let sources: Vec<Box<dyn CandleSource>> =
        vec![Box::new(Cached("coinbase", coinbase)), Box::new(Cached("binance", binance))];
    drop(minutes);
    if let Some(mb) = peak_rss_mb() {
        println!("peak resident memory of the setup (writing the ledger and the cache): {mb} MB");
    }
    // The run's own peak: the kernel's high-water mark starts again from what is resident now.
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let resident = current_rss_mb();
    let cpu = cpu_seconds();
    let written = written_mb();
    let started = Instant::now();
    let summary = pricing::run(&mut ledger, &sources, &Options::default(), now, &NoProgress).expect("pricing");
    let elapsed = started.elapsed();
    println!(
        "valued {} legs in {:.2} s ({:.0} legs/s), {} requests, {} missing; by source {:?}",
        summary.valued,
        elapsed.as_secs_f64(),
        summary.valued as f64 / elapsed.as_secs_f64(),
        summary.requests,
        summary.missing,
        summary.by_source
    );
    println!("target: under 10 s -> {}", if elapsed < Duration::from_secs(10) { "met" } else { "MISSED" });
    if let (Some(from), Some(to)) = (cpu, cpu_seconds()) {
        // On a shared machine the wall time grows with the load; the CPU time much less.
        println!("CPU time of the run (user + system): {:.2} s", to - from);
    }
    if let (Some(from), Some(to)) = (written, written_mb()) {
        let size = std::fs::metadata(dir.path().join("prices.sqlite")).map_or(0, |m| m.len() / 1_000_000);
        println!("written by the run (ledger and its WAL): {} MB; the ledger is {size} MB", to - from);
    }
    match (peak_rss_mb(), reset) {
        (Some(mb), true) => println!(
            "peak resident memory of the pricing run: {mb} MB ({} MB resident when it started) -> target under 250 MB: {}",
            resident.unwrap_or(0),
            if mb < 250 { "met" } else { "MISSED" }
        ),
        (Some(mb), false) => println!("peak resident memory of the process (setup included): {mb} MB"),
        (None, _) => {}
    }
}

/// `COINTALLY_BENCH_SCALE` (a divisor, default 1): shrinks both parts to prove they run.
fn scale() -> usize {
    std::env::var("COINTALLY_BENCH_SCALE").ok().and_then(|v| v.parse().ok()).filter(|s| *s > 0).unwrap_or(1)
}

fn requests() {
    let k = scale();
    let profile = Profile {
        start_ms: START_MS,
        trades: 10_000 / k,
        symbols: 20,
        transfers: 600 / k,
        fiat_transfers: 40 / k,
        card_buys: 40 / k,
        converts: 60 / k,
        dust: 10 / k,
        dividends: 100 / k,
        earn_flexible: 200 / k,
        earn_locked: 60 / k,
        failed: 20 / k,
        ..Profile::bench()
    };
    let key = SimKey::demo();
    let sim = binance_sim::start(SimConfig {
        seed: 3,
        profile: profile.clone(),
        limits: Limits::Off,
        faults: None,
        key: key.clone(),
        port: 0,
    })
    .expect("binance simulator");
    let coinbase = coinbase_sim::start(coinbase_sim::CoinbaseSimConfig {
        seed: 3,
        profile: profile.clone(),
        limits: coinbase_sim::Limits::Off,
        faults: None,
        port: 0,
    })
    .expect("coinbase simulator");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut ledger = Ledger::open(&dir.path().join("history.sqlite"), OpenMode::CreateNew).expect("ledger");
    let account = ledger.add_account(&NewAccount::files_only("binance", "binance")).expect("account");
    let clock = Arc::new(SystemClock);
    let api = BinanceApi::new(
        Some(&sim.base_url()),
        Secret::new(key.api_key.clone()),
        Secret::new(key.secret.clone()),
        &account.label,
        BinanceApi::new_limiter(clock.clone()),
        ClientConfig::default(),
        clock.clone(),
    )
    .expect("api");
    let jobs = [Job { account, exchange: Exchange::Binance, adapter: Arc::new(BinanceAdapter::new(api)) }];
    let options = sync::Options { full: false, since_ms: None, workers: 8 };
    sync::run(&mut ledger, &jobs, &options, &Reporter::new(true)).expect("sync");
    // The same synced ledger twice: priced the way before (each leg from its own market) and
    // the way now (one market price per crypto-to-crypto trade), each from an empty cache.
    drop(ledger);
    let old_path = dir.path().join("each-leg.sqlite");
    std::fs::copy(dir.path().join("history.sqlite"), &old_path).expect("copy");
    let mut ledger = Ledger::open(&dir.path().join("history.sqlite"), OpenMode::Existing).expect("ledger");
    let mut old = Ledger::open(&old_path, OpenMode::Existing).expect("ledger");
    // The sources `open_sources` gives, at the simulators, with Coinbase's pace lifted (its
    // simulator meters nothing here): the count of requests is the measure, not the time.
    let config = ClientConfig::default();
    let sources = |counts: &Counts| -> Vec<Box<dyn CandleSource>> {
        vec![
            Box::new(Counting(
                Box::new(
                    CoinbasePrices::with_rate(Some(&coinbase.base_url()), config.clone(), clock.clone(), 1e6)
                        .expect("coinbase"),
                ),
                counts.clone(),
            )),
            Box::new(Counting(
                Box::new(BinancePrices::new(Some(&sim.base_url()), config.clone(), clock.clone()).expect("binance")),
                counts.clone(),
            )),
        ]
    };
    let (counts_before, counts_now) = (Counts::default(), Counts::default());
    let now = chrono::Utc::now().timestamp_millis();
    let each_leg = Options { each_leg: true, ..Options::default() };
    let before =
        pricing::run(&mut old, &sources(&counts_before), &each_leg, now, &NoProgress).expect("pricing each leg");
    let sources = sources(&counts_now);
    let started = Instant::now();
    let summary = pricing::run(&mut ledger, &sources, &Options::default(), now, &NoProgress).expect("pricing");
    let elapsed = started.elapsed();
    let sizes: BTreeMap<&str, i64> =
        sources.iter().map(|s| (s.name(), i64::from(s.max_candles()) * s.granularity(now, now).millis)).collect();
    let minimum = minimum_requests(&ledger, &summary.currency, &sizes);
    println!(
        "three-year history: {} legs valued in {:.1} s, {} missing; {} requests ({} retries), {} candles stored",
        summary.valued,
        elapsed.as_secs_f64(),
        summary.missing,
        summary.requests,
        summary.retries,
        summary.candles
    );
    println!("by source: {:?}", summary.by_source);
    let share = summary.requests as f64 / before.requests.max(1) as f64;
    println!(
        "requests each leg on its own (before): {}, one price per trade (now): {} -> {:.0}% (target <= 60%: {})",
        before.requests,
        summary.requests,
        share * 100.0,
        if share <= 0.6 { "met" } else { "MISSED" }
    );
    for (when, counts) in [("each leg", &counts_before), ("now", &counts_now)] {
        println!("candle requests per market, {when}: {:?}", counts.lock().expect("counts"));
    }
    agreement(&old, &ledger, &summary.currency, sim.market());
    let markets = sources.len() as u64;
    println!(
        "minimum candle requests covering the distinct hours of the markets used: {minimum} (+{markets} market lists)"
    );
    let ratio = summary.requests as f64 / (minimum + markets) as f64;
    println!("ratio: {ratio:.2} -> target within 2x: {}", if ratio <= 2.0 { "met" } else { "MISSED" });
}

/// Compares the values derived from a trade's other side with the same legs valued from their
/// own market: how many, how many within a cent, the largest gap, and why the others differ.
///
/// The simulator's trades execute at the cross rate of the two assets' USD prices, the
/// market's exact prices that Coinbase's simulator serves (to 8 places), rounded to what the
/// exchange allows: a spot trade's price to its symbol's decimals, its tick (`quote_qty = price
/// × qty` exactly); a card buy's price to 0.01 of the fiat (`obtainAmount` floored to 8
/// places); a Convert's `toAmount` floored to 8 places. A leg's own value and the value derived
/// from the other side can so differ by that rounding: `½ tick / price` of the leg's value for a
/// spot trade (0.5 in 10,000 at five significant digits, more where the price has walked far
/// from where its decimals were chosen), `½ × 0.01 / price` for a card buy, `10⁻⁸ / amount`
/// for a Convert, plus `½ tick / close` for every hop of either path through a Binance symbol
/// (BNB is priced through BNBBTC or BNBUSDT). That allowance is the exchange's rounding, not a
/// pricing error. Counted: within a cent; within a cent plus that allowance; the legs where a
/// market had no candle in the trade's minute (Coinbase leaves out minutes without trades, its
/// simulator about 2 %) and took the nearest one, which measures a minute's move of the market;
/// and the rest.
fn agreement(old: &Ledger, new: &Ledger, currency: &str, market: &SimMarket) {
    let before = old.leg_values(currency).expect("values");
    let after = new.leg_values(currency).expect("values");
    let events: BTreeMap<i64, EventRow> = new
        .events(&EventFilter { kind: Some(EventKind::Trade), ..EventFilter::default() })
        .expect("events")
        .into_iter()
        .map(|e| (e.id, e))
        .collect();
    let half_tick = |dp: u32| Decimal::new(5, dp + 1);
    // ½ tick / close of every Binance hop of a path, and whether every hop is of `minute`.
    let hops = |path: &str, minute: i64| -> (Decimal, bool) {
        let (mut relative, mut same_minute) = (Decimal::ZERO, true);
        for hop in path.split('*') {
            let Some((what, open)) = hop.rsplit_once('@') else { continue };
            let Ok(open) = open.parse::<i64>() else { continue };
            same_minute &= open == minute;
            let mut parts = what.split(':');
            if let (Some("binance"), Some(symbol)) = (parts.next(), parts.next())
                && let Some(pair) = market.pair(symbol.trim_end_matches('/'))
                && let Some(close) = market.pair_price(pair, open).filter(|c| !c.is_zero())
            {
                relative += half_tick(pair.price_dp) / close;
            }
        }
        (relative, same_minute)
    };
    // The relative rounding of the trade's own rate, by kind.
    let rounding = |event: &EventRow| -> Option<Decimal> {
        let sent = event.legs.iter().find(|l| l.role == LegRole::Sent)?;
        let received = event.legs.iter().find(|l| l.role == LegRole::Received)?;
        let (sent_amount, received_amount) = (sent.amount.abs(), received.amount.abs());
        if sent_amount.is_zero() || received_amount.is_zero() {
            return None;
        }
        if event.external_id.starts_with("convert:") {
            return Some(Decimal::new(1, 8) / received_amount);
        }
        if event.external_id.starts_with("fiat_payment:") {
            // Fiat spent for crypto at a price of 0.01 fiat, the crypto floored to 8 places.
            let price = sent_amount / received_amount;
            return Some(half_tick(2) / price + Decimal::new(1, 8) / received_amount);
        }
        let symbol = |base: &str, quote: &str| market.pair(&format!("{base}{quote}"));
        let (pair, base, quote) = match symbol(&sent.asset, &received.asset) {
            Some(pair) => (pair, sent_amount, received_amount),
            None => (symbol(&received.asset, &sent.asset)?, received_amount, sent_amount),
        };
        Some(half_tick(pair.price_dp) * base / quote)
    };
    let cent = Decimal::new(1, 2);
    let (mut compared, mut within, mut largest) = (0u64, 0u64, Decimal::ZERO);
    let (mut in_rounding, mut largest_in_rounding, mut largest_ratio) = (0u64, Decimal::ZERO, Decimal::ZERO);
    let (mut other_minute, mut largest_other) = (0u64, Decimal::ZERO);
    let mut beyond: BTreeMap<String, u64> = BTreeMap::new();
    for (key, value) in after.iter().filter(|(_, v)| v.source.starts_with("trade:")) {
        let Some(own) = before.get(key) else { continue };
        let gap = (own.value - value.value).abs();
        compared += 1;
        largest = largest.max(gap);
        if gap <= cent {
            within += 1;
            continue;
        }
        let event = &events[&key.0];
        let time_ms = event.time.timestamp_millis();
        let minute = time_ms - time_ms.rem_euclid(MINUTE_MS);
        let (own_relative, own_minute) = hops(&own.path, minute);
        let (priced_relative, priced_minute) = hops(value.path.split_once('=').map_or("", |(_, p)| p), minute);
        let trade_relative = rounding(event);
        let allowance = own.value * (trade_relative.unwrap_or_default() + own_relative + priced_relative);
        if !own_minute || !priced_minute {
            other_minute += 1;
            largest_other = largest_other.max(gap / own.value.max(cent));
        } else if trade_relative.is_some() && gap <= cent + allowance {
            in_rounding += 1;
            largest_in_rounding = largest_in_rounding.max(gap);
            largest_ratio = largest_ratio.max((gap - cent) / allowance);
        } else {
            let kind = event.external_id.split(':').next().unwrap_or("").to_owned();
            let seen = beyond.entry(kind).or_default();
            *seen += 1;
            if *seen <= 3 {
                println!(
                    "  beyond the rounding: {} at {time_ms}: derived {} ({}), own {} ({}), allowance {}",
                    event.external_id,
                    value.value,
                    value.path,
                    own.value,
                    own.path,
                    allowance.round_dp(6)
                );
            }
        }
    }
    let beyond_total: u64 = beyond.values().sum();
    println!(
        "derived values compared with their own market's: {compared}, within a cent: {within}, largest gap {}",
        largest.round_dp(6)
    );
    println!(
        "  the others: {in_rounding} within a cent + the exchange's rounding of the trade's rate (largest gap {}, \
         at most {:.0}% of that allowance); {other_minute} where a market had no candle in the trade's minute \
         (largest gap {:.3}% of the value); {beyond_total} beyond {beyond:?}",
        largest_in_rounding.round_dp(6),
        largest_ratio * Decimal::ONE_HUNDRED,
        largest_other * Decimal::ONE_HUNDRED,
    );
    println!(
        "target (within a cent, or a cent + the rounding, where both ways reach the trade minute's candle): {}",
        if beyond_total == 0 { "met" } else { "MISSED" }
    );
}

/// For every market the stored values read (from their paths), the fewest requests of that
/// source's window that cover the distinct hours holding the candles it used.
fn minimum_requests(ledger: &Ledger, currency: &str, sizes: &BTreeMap<&str, i64>) -> u64 {
    let mut hours: BTreeMap<(String, String), BTreeSet<i64>> = BTreeMap::new();
    for value in ledger.leg_values(currency).expect("values").values() {
        for hop in value.path.split('*').filter(|h| !h.is_empty()) {
            let Some((what, open)) = hop.rsplit_once('@') else { continue };
            let mut parts = what.split(':');
            let (Some(source), Some(symbol)) = (parts.next(), parts.next()) else { continue };
            let Ok(open) = open.parse::<i64>() else { continue };
            hours
                .entry((source.to_owned(), symbol.trim_end_matches('/').to_owned()))
                .or_default()
                .insert(open - open.rem_euclid(HOUR_MS));
        }
    }
    let mut total = 0;
    for ((source, _), hours) in &hours {
        let Some(size) = sizes.get(source.as_str()) else { continue };
        let mut end = i64::MIN;
        for hour in hours {
            if hour + HOUR_MS > end {
                total += 1;
                end = hour + size.max(&HOUR_MS);
            }
        }
    }
    total
}

fn peak_rss_mb() -> Option<u64> {
    status_mb("VmHWM:")
}

/// Bytes this process has caused to be written to storage so far (`/proc/self/io`), in MB.
fn written_mb() -> Option<u64> {
    let io = std::fs::read_to_string("/proc/self/io").ok()?;
    let line = io.lines().find(|l| l.starts_with("write_bytes:"))?;
    line.split_whitespace().nth(1)?.parse::<u64>().ok().map(|b| b / 1_000_000)
}

/// This process's user + system CPU time so far, from `/proc/self/stat` (clock ticks of 1/100 s).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // After the command name in parentheses: state is field 3, utime 14 and stime 15.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

fn current_rss_mb() -> Option<u64> {
    status_mb("VmRSS:")
}

fn status_mb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse::<u64>().ok().map(|kb| kb / 1024)
}

//! Prices: every leg valued in the reporting currency, from the event itself, the exchanges'
//! public candles (direct or cross rates) or the user's price file, cached in the ledger.
//!
//! A run ([`run`]) reads the legs without a value, takes what events say about themselves
//! ([`implied`]), and values the rest at (asset, time) points. Each point walks its routes
//! ([`route`]) in order; a pass asks, for the current route of every point, the candle windows
//! not cached yet ([`series::windows`]: the fewest windows of a source's maximum size that
//! cover the times), stores each answer with the range it covered in one transaction, then
//! values what it can; points without a candle near their time move to their next route. The
//! finest granularity a source serves for the date is used (minute candles from Coinbase and
//! Binance). Values are written together at the end. A second run finds everything cached
//! and makes no request; `--offline` never asks.
//!
//! Rounding: prices keep 18 decimal places, values 12 (a price from an inverted market or a
//! cross rate is a quotient, so some rounding is unavoidable); values the event reports are
//! kept exactly.

pub mod file;
pub mod implied;
pub mod route;
pub mod series;
pub mod trade;

use std::collections::{BTreeMap, BTreeSet};

use cointally_exchanges::prices::{CandleSource, Granularity, Market};
use rust_decimal::{Decimal, RoundingStrategy};

use crate::ledger::price_cache::FILE_SOURCE;
use crate::ledger::{Ledger, LedgerError, LegValue, MissingLeg, ValueCheck};

use implied::{Need, Split};
use route::{Hop, Markets, Origin};
use series::Series;

/// Decimal places a stored price keeps.
const PRICE_PLACES: u32 = 18;
/// Decimal places a stored value keeps.
const VALUE_PLACES: u32 = 12;
/// How long a source's list of markets is trusted before it is asked again.
const MARKETS_MAX_AGE_MS: i64 = 7 * 86_400_000;

/// How a run behaves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// Use the cache only; ask nothing.
    pub offline: bool,
    /// Value USD stablecoins at exactly one USD instead of their market.
    pub stablecoins_at_par: bool,
    /// Forget the values in the reporting currency first and value every leg again.
    pub revalue: bool,
    /// Price both sides of a crypto-to-crypto trade from their own markets (the way before
    /// [`trade`]; for comparing both ways), instead of one side from the other.
    pub each_leg: bool,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    /// The reporting currency.
    pub currency: String,
    /// Legs that had no value when the run started.
    pub legs_to_value: u64,
    /// Legs valued by this run.
    pub valued: u64,
    /// Legs valued, by how (`currency`, `event`, a source, `source+source` for a cross rate, `file`, `par`,
    /// `trade:` + a source for a trade side valued from its other side).
    pub by_source: BTreeMap<String, u64>,
    /// Legs still without a value.
    pub missing: u64,
    /// HTTP requests made (retries included).
    pub requests: u64,
    /// Of which retries.
    pub retries: u64,
    /// Candles stored.
    pub candles: u64,
    /// What could not be fetched (the run goes on without it).
    pub errors: Vec<String>,
}

/// Legs without a value stop a report or an export (unless the user allows them).
#[derive(Debug, thiserror::Error)]
#[error("{} leg{} {} no value in {currency} (the first: event {}, {} {} at {})", .legs.len(), if .legs.len() == 1 { "" } else { "s" }, if .legs.len() == 1 { "has" } else { "have" }, .legs[0].event, cointally_exchanges::amount::format_amount(.legs[0].amount), .legs[0].asset, cointally_exchanges::time::format_rfc3339(cointally_exchanges::time::from_millis(.legs[0].time_ms)))]
pub struct MissingPrices {
    /// The reporting currency.
    pub currency: String,
    /// The legs, in time order (never empty).
    pub legs: Vec<MissingLeg>,
}

/// What a report or an export must check first: every leg valued, or the user's
/// `--allow-missing-prices`, in which case the legs without a value are returned so the
/// rows they touch can be marked. Nothing is ever valued at zero silently.
pub fn require_values(ledger: &Ledger, allow_missing: bool) -> Result<Vec<MissingLeg>, PricingError> {
    let currency = ledger.reporting_currency()?;
    let legs = ledger.missing_legs(&currency)?;
    required(currency, legs, allow_missing)
}

/// [`require_values`] on a second connection while `meanwhile` runs on this one (a report
/// matches its transfers so: over a ledger whose legs were not checked since an import, the
/// check reads every leg and value, about as long as the matching, and neither needs the
/// other). Returns the legs without a value and what `meanwhile` made; an error of the check
/// comes first.
pub fn require_values_while<T: Send, E: Send>(
    ledger: &mut Ledger,
    allow_missing: bool,
    meanwhile: impl FnOnce(&mut Ledger) -> Result<T, E> + Send,
) -> Result<(Vec<MissingLeg>, Result<T, E>), PricingError> {
    let currency = ledger.reporting_currency()?;
    let reader = ledger.reader()?;
    let asked = currency.clone();
    let (check, made) = std::thread::scope(|scope| {
        let checking = scope.spawn(move || reader.value_check(&asked));
        let made = meanwhile(ledger);
        (checking.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)), made)
    });
    let legs = match check? {
        ValueCheck::AllValued { writes } => {
            ledger.note_every_leg_valued(&currency, writes)?;
            Vec::new()
        }
        ValueCheck::Missing(legs) => legs,
    };
    Ok((required(currency, legs, allow_missing)?, made))
}

/// `legs` when they are none or allowed, else the error that names them.
fn required(currency: String, legs: Vec<MissingLeg>, allow_missing: bool) -> Result<Vec<MissingLeg>, PricingError> {
    if legs.is_empty() || allow_missing {
        return Ok(legs);
    }
    Err(PricingError::Missing(MissingPrices { currency, legs }))
}

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum PricingError {
    /// The ledger could not be read or written.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// Legs have no value and the user did not allow it.
    #[error(transparent)]
    Missing(MissingPrices),
}

/// What a run shows while it fetches.
pub trait Progress {
    /// `count` more requests are planned for `source`.
    fn planned(&self, source: &str, count: u64);
    /// One planned request to `source` is done.
    fn done(&self, source: &str);
    /// The run is over.
    fn finish(&self);
}

/// Shows nothing.
pub struct NoProgress;

impl Progress for NoProgress {
    fn planned(&self, _: &str, _: u64) {}
    fn done(&self, _: &str) {}
    fn finish(&self) {}
}

/// Rounds a price to the places stored.
pub fn round_price(price: Decimal) -> Decimal {
    price.round_dp_with_strategy(PRICE_PLACES, RoundingStrategy::MidpointNearestEven).normalize()
}

/// |amount| × price, rounded to the places stored; `None` when the product overflows (both are
/// below 10^20 from `parse_amount`, their product is not bounded), and the leg then stays
/// unvalued — listed as missing, never silently zero.
pub fn value_of(amount: Decimal, price: Decimal) -> Option<Decimal> {
    amount
        .abs()
        .checked_mul(price)
        .map(|v| v.round_dp_with_strategy(VALUE_PLACES, RoundingStrategy::MidpointNearestEven).normalize())
}

/// A market's candles of one granularity from one origin: what a hop reads.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct HopKey {
    origin: Origin,
    market: Market,
    granularity: Granularity,
}

/// A [`HopKey`] borrowing its market, in the same order: for maps made per point and hop.
type HopRef<'m> = (Origin, &'m Market, Granularity);

/// A price found for a point.
#[derive(Clone, Debug)]
struct Found {
    price: Decimal,
    source: String,
    path: String,
}

/// An (asset, time) to price, and how far down its routes it got.
#[derive(Default)]
struct Point {
    route: usize,
    found: Option<Found>,
}

/// How many events a run reads, values and writes at once, in time order: its memory is that
/// of one page (with the candles around its times), whatever the length of the history.
/// (5,000 was tried on 2026-12-07: `prices --offline` over 100,000 events took some 6% less,
/// the first page being read before anything is valued, but a million legs at random times
/// took 35% more, 14.8 s instead of 11.0, each page's values rewriting leaves all over the
/// table.)
const EVENTS_PAGE: usize = 20_000;

/// The first page is this share of the others: the valuing side waits for it alone (with it,
/// valuing starts some 10–15 ms sooner in `prices --offline` over 100,000 events, 0.4 s), and
/// one small page costs the million-leg run nothing that shows.
const FIRST_PAGE_SHARE: usize = 8;

/// Values every leg that has no value in the ledger's reporting currency.
pub fn run(
    ledger: &mut Ledger,
    sources: &[Box<dyn CandleSource>],
    options: &Options,
    now_ms: i64,
    progress: &dyn Progress,
) -> Result<Summary, PricingError> {
    run_paged(ledger, sources, options, now_ms, progress, EVENTS_PAGE)
}

/// [`run`], reading `page` events at a time.
fn run_paged(
    ledger: &mut Ledger,
    sources: &[Box<dyn CandleSource>],
    options: &Options,
    now_ms: i64,
    progress: &dyn Progress,
    page: usize,
) -> Result<Summary, PricingError> {
    let currency = ledger.reporting_currency()?;
    if options.revalue {
        ledger.clear_leg_values(&currency)?;
    }
    // Read before the walk: if nothing that can leave a leg without a value is written while it
    // runs and it leaves none, the next value check has nothing to read (see below).
    let writes = ledger.value_writes()?;
    // And before the first page: a value is stored only if no event was removed since.
    let removals = ledger.event_removals()?;
    let mut summary = Summary { currency: currency.clone(), ..Summary::default() };
    let mut engine = Engine {
        ledger,
        sources,
        options,
        now_ms,
        progress,
        summary: &mut summary,
        failed: BTreeSet::new(),
        markets: None,
        routes: BTreeMap::new(),
    };
    let mut found = 0u64;
    // The pages are read on a second connection by another thread, one page ahead of the one
    // valued and stored here (a page's events are those after the last one's: the values
    // stored meanwhile do not change which they are), and split there event by event into what
    // the events value themselves and what needs a market ([`implied`]): reading was a third
    // of `prices`, and the events are never gathered, only their split.
    // The channel holds none: the reader hands a page over when this side takes it, so at
    // most one page waits beside the one being valued.
    // Whether any value is stored: if none, the reads do not look values up (the values this
    // run stores are of the pages before the one read).
    let stored = engine.ledger.any_leg_value()?;
    let reader = engine.ledger.reader()?;
    std::thread::scope(|scope| -> Result<(), PricingError> {
        let (pages, received) = std::sync::mpsc::sync_channel::<Result<(i64, Split), LedgerError>>(0);
        let reading = &currency;
        scope.spawn(move || {
            let mut after = None;
            loop {
                // The first page smaller: nothing is valued until it is read.
                let size = if after.is_none() { (page / FIRST_PAGE_SHARE).max(1) } else { page };
                // With the page's first time: no value of the page is of an earlier event.
                let (mut split, mut first) = (Split::default(), None);
                let read = reader.for_each_event_to_value(reading, after, size, stored, |event| {
                    first.get_or_insert(event.time_ms);
                    implied::value_event(event, reading, &mut split);
                });
                match read {
                    Ok(None) => return, // the end: the channel closes
                    Ok(Some(last)) => {
                        // The valuing side stopped (an error): nothing more to read.
                        if pages.send(Ok((first.unwrap_or(i64::MIN), split))).is_err() {
                            return;
                        }
                        after = Some(last);
                    }
                    Err(error) => return drop(pages.send(Err(error))),
                }
            }
        });
        for split in received {
            let (from_ms, mut split) = split?;
            engine.summary.legs_to_value += (split.values.len() + split.needs.len()) as u64;
            let mut values = std::mem::take(&mut split.values);
            if !split.needs.is_empty() {
                engine.value_page(&split, &currency, &mut values)?;
            }
            found += values.len() as u64;
            store_values(engine.ledger, &currency, &mut values, (from_ms, removals), engine.summary)?;
        }
        Ok(())
    })?;
    summary.missing = summary.legs_to_value.saturating_sub(found);
    // The walk read every leg without a value, from the first event, and valued each one: what
    // the first report's value check would read all of history to find out (each unvalued leg
    // gives one value or one need, and each need at most one value, so none missing means none).
    if summary.missing == 0 {
        ledger.note_every_leg_valued(&currency, writes)?;
    }
    progress.finish();
    Ok(summary)
}

/// Writes `values`, of events at or after `from_ms` and read while `removals` events had been
/// removed (each page in its own transaction: a value is final once found), counts them by
/// source, and empties the buffer.
fn store_values(
    ledger: &mut Ledger,
    currency: &str,
    values: &mut Vec<LegValue>,
    (from_ms, removals): (i64, i64),
    summary: &mut Summary,
) -> Result<(), PricingError> {
    for value in values.iter() {
        match summary.by_source.get_mut(&value.source) {
            Some(count) => *count += 1,
            None => drop(summary.by_source.insert(value.source.clone(), 1)),
        }
    }
    // In key order (a stable sort: of two values of one leg the first found is still the one
    // kept): the page's values come by how they were found, and inserted so they jumped about
    // the table's B-tree, splitting pages half full.
    values.sort_by_key(|v| (v.event_id, v.seq));
    summary.valued += ledger.store_page_values(currency, values, from_ms, removals)? as u64;
    values.clear();
    Ok(())
}

/// The markets of every origin: the cached lists while fresh (or offline), else asked again.
fn markets(
    ledger: &mut Ledger,
    sources: &[Box<dyn CandleSource>],
    options: &Options,
    now_ms: i64,
    summary: &mut Summary,
) -> Result<Markets, PricingError> {
    let mut known = Markets::default();
    for source in sources {
        let cached = ledger.price_markets(source.name())?;
        let fresh = cached.as_ref().is_some_and(|(at, _)| now_ms - at < MARKETS_MAX_AGE_MS);
        let list = if options.offline || fresh {
            cached.map(|(_, list)| list).unwrap_or_default()
        } else {
            match source.markets() {
                Ok(fetched) => {
                    summary.requests += u64::from(fetched.requests);
                    summary.retries += u64::from(fetched.retries);
                    ledger.store_price_markets(source.name(), &fetched.items, now_ms)?;
                    fetched.items
                }
                Err(error) => {
                    summary.errors.push(format!("{}: listing its markets: {error}", source.name()));
                    cached.map(|(_, list)| list).unwrap_or_default()
                }
            }
        };
        known.remote.push(list.into_iter().map(|m| ((m.base.clone(), m.quote.clone()), m)).collect());
    }
    known.file = ledger.file_price_markets()?.into_iter().collect();
    Ok(known)
}

/// Values `needs` (legs of a trade's derived asset) from their trade's priced main leg among
/// `found` ([`trade::derive`]); returns those values and the needs left without one. `all`
/// holds the page's needs, for the derived main legs' amounts.
fn derive_sides<'n>(
    sides: &BTreeMap<i64, trade::Sides>,
    needs: impl Iterator<Item = &'n Need>,
    all: &[Need],
    found: &[LegValue],
) -> (Vec<LegValue>, Vec<&'n Need>) {
    let priced: BTreeMap<i64, &LegValue> = found
        .iter()
        .filter(|v| sides.get(&v.event_id).is_some_and(|s| s.priced == v.seq))
        .map(|v| (v.event_id, v))
        .collect();
    let main_amounts: BTreeMap<i64, Decimal> = all
        .iter()
        .filter(|n| sides.get(&n.event_id).is_some_and(|s| s.derived_seq == n.seq))
        .map(|n| (n.event_id, n.amount))
        .collect();
    let (mut values, mut rest) = (Vec::new(), Vec::new());
    for need in needs {
        let value = sides.get(&need.event_id).and_then(|s| {
            let priced = priced.get(&need.event_id)?;
            trade::derive(s, priced, need.seq, need.amount, *main_amounts.get(&need.event_id)?)
        });
        match value {
            Some(value) => values.push(value),
            None => rest.push(need),
        }
    }
    (values, rest)
}

/// A hop's market, as [`trade::Reach`] counts its readers.
fn market_of(hop: &Hop) -> (Origin, &str) {
    (hop.origin, hop.market.symbol.as_str())
}

struct Engine<'a> {
    ledger: &'a mut Ledger,
    sources: &'a [Box<dyn CandleSource>],
    options: &'a Options,
    now_ms: i64,
    progress: &'a dyn Progress,
    summary: &'a mut Summary,
    /// Hops whose fetch failed in this run: not asked again.
    failed: BTreeSet<HopKey>,
    /// The markets of every origin, once a leg needs them.
    markets: Option<Markets>,
    /// The routes of every asset met so far.
    routes: BTreeMap<String, Vec<Vec<Hop>>>,
}

impl Engine<'_> {
    /// Values a page's needs: the priced side of every trade and every other leg from the
    /// markets, then the derived sides from their trade's priced side ([`trade`]), then those
    /// whose priced side found nothing from their own markets, and from them the legs of that
    /// priced side.
    fn value_page(&mut self, split: &Split, currency: &str, values: &mut Vec<LegValue>) -> Result<(), PricingError> {
        if self.markets.is_none() {
            self.markets = Some(markets(self.ledger, self.sources, self.options, self.now_ms, self.summary)?);
        }
        if let Some(markets) = &self.markets {
            for need in &split.needs {
                if !self.routes.contains_key(&need.asset) {
                    let routes = markets.routes(&need.asset, currency, self.options.stablecoins_at_par);
                    self.routes.insert(need.asset.clone(), routes);
                }
            }
        }
        let sides = if self.options.each_leg { BTreeMap::new() } else { self.choose_sides(split)? };
        let derived = |need: &Need| sides.get(&need.event_id).is_some_and(|s| s.derived == need.asset);
        let first: Vec<&Need> = split.needs.iter().filter(|n| !derived(n)).collect();
        let start = values.len();
        self.price_needs(&first, values)?;
        let (mut from_trades, rest) =
            derive_sides(&sides, split.needs.iter().filter(|n| derived(n)), &split.needs, &values[start..]);
        values.append(&mut from_trades);
        // A trade whose priced side found no candle: its other side is priced from its own
        // markets below, and then values the first side's legs as a derived side would be.
        let valued: BTreeSet<(i64, i64)> = values[start..].iter().map(|v| (v.event_id, v.seq)).collect();
        let flipped: BTreeMap<i64, trade::Sides> = split
            .trades
            .iter()
            .filter_map(|t| {
                let s = sides.get(&t.event_id).filter(|s| !valued.contains(&(t.event_id, s.priced)))?;
                let asset = if s.priced == t.sent.0 { &t.sent.1 } else { &t.received.1 };
                let sides = trade::Sides {
                    event_id: t.event_id,
                    priced: s.derived_seq,
                    derived: asset.clone(),
                    derived_seq: s.priced,
                };
                Some((t.event_id, sides))
            })
            .collect();
        let second = values.len();
        self.price_needs(&rest, values)?;
        let unvalued = split.needs.iter().filter(|n| {
            flipped.get(&n.event_id).is_some_and(|s| s.derived == n.asset) && !valued.contains(&(n.event_id, n.seq))
        });
        let (mut again, _) = derive_sides(&flipped, unvalued, &split.needs, &values[second..]);
        values.append(&mut again);
        Ok(())
    }

    /// Prices `needs` from the markets and adds the values found to `values`.
    fn price_needs(&mut self, needs: &[&Need], values: &mut Vec<LegValue>) -> Result<(), PricingError> {
        if needs.is_empty() {
            return Ok(());
        }
        let mut points: BTreeMap<(&str, i64), Point> = BTreeMap::new();
        for need in needs {
            points.entry((need.asset.as_str(), need.time_ms)).or_default();
        }
        let routes = std::mem::take(&mut self.routes);
        let walked = self.walk(&mut points, &routes);
        self.routes = routes;
        walked?;
        for need in needs {
            let found = points.get(&(need.asset.as_str(), need.time_ms)).and_then(|p| p.found.as_ref());
            if let Some((found, value)) = found.and_then(|f| Some((f, value_of(need.amount, f.price)?))) {
                values.push(LegValue {
                    event_id: need.event_id,
                    seq: need.seq,
                    price: found.price,
                    value,
                    source: found.source.clone(),
                    path: found.path.clone(),
                });
            }
        }
        Ok(())
    }

    /// How well `route` reaches at `time_ms` ([`trade::Reach`]), given the request windows
    /// every market has so far (`open`: cached, planned or opened) and how many legs of the page
    /// read each market (`readers`).
    fn reach(
        &self,
        route: Option<&Vec<Hop>>,
        time_ms: i64,
        open: &BTreeMap<HopKey, Series>,
        readers: &BTreeMap<(Origin, &str), usize>,
    ) -> trade::Reach {
        let Some(route) = route else { return trade::Reach::NONE };
        let coarsest_ms = route
            .iter()
            .map(|hop| if hop.origin == Origin::Par { 0 } else { self.key(hop, time_ms).granularity.millis })
            .max()
            .unwrap_or(0);
        trade::Reach {
            coarsest_ms,
            new_markets: route.iter().filter(|hop| self.adds_request(hop, time_ms, open)).count(),
            hops: route.len(),
            readers: std::cmp::Reverse(
                route.iter().map(|hop| readers.get(&market_of(hop)).copied().unwrap_or(0)).sum(),
            ),
        }
    }

    /// Whether reading `hop` at `time_ms` needs a request that no window in `open` makes: a
    /// remote market, a time before now, and no window (cached, planned or opened) holding it.
    fn adds_request(&self, hop: &Hop, time_ms: i64, open: &BTreeMap<HopKey, Series>) -> bool {
        matches!(hop.origin, Origin::Remote(_))
            && time_ms < self.now_ms
            && !open.get(&self.key(hop, time_ms)).is_some_and(|series| series.covers(time_ms))
    }

    /// Which side of each of the page's trades is priced ([`trade::choose`]), by event.
    ///
    /// A trade's side adds no request where its markets are asked at that time anyway. So the
    /// windows that do not depend on any choice come first: per market, what the cache has
    /// asked, then the fewest windows covering the times of the legs that are no trade's
    /// side ([`series::windows`]: fee legs in a third asset, transfers, rewards…). Then the
    /// trades, in time order: a side's [`trade::Reach::new_markets`] counts the hops of its
    /// first route whose market has no window at the trade's time, and the chosen side's
    /// uncovered hops open the window the planner would start there. Deterministic: the
    /// windows and the order depend only on the page and the cache.
    fn choose_sides(&self, split: &Split) -> Result<BTreeMap<i64, trade::Sides>, PricingError> {
        let first = |asset: &str| self.routes.get(asset).and_then(|r| r.first());
        let trades: BTreeMap<i64, &implied::Trade> = split.trades.iter().map(|t| (t.event_id, t)).collect();
        let is_side = |need: &Need| {
            trades.get(&need.event_id).is_some_and(|t| need.asset == t.sent.1 || need.asset == t.received.1)
        };
        let mut readers: BTreeMap<(Origin, &str), usize> = BTreeMap::new();
        let mut fixed: BTreeMap<HopKey, Vec<i64>> = BTreeMap::new();
        for need in &split.needs {
            let side = is_side(need);
            for hop in first(&need.asset).into_iter().flatten() {
                *readers.entry(market_of(hop)).or_default() += 1;
                let key = self.key(hop, need.time_ms);
                let times = fixed.entry(key).or_default();
                if !side {
                    times.push(need.time_ms);
                }
            }
        }
        let mut open: BTreeMap<HopKey, Series> = BTreeMap::new();
        for (key, times) in fixed {
            let Origin::Remote(i) = key.origin else { continue };
            let source = &self.sources[i];
            let (base, quote) = (&key.market.base, &key.market.quote);
            let covered = self.ledger.price_coverage(source.name(), base, quote, key.granularity.name)?;
            let mut series = Series::new(Vec::new(), Some(covered), key.granularity.millis);
            let windows = series::windows(&times, &series, key.granularity.millis, source.max_candles(), self.now_ms);
            for (from, to) in windows {
                series.add_covered(from, to);
            }
            open.insert(key, series);
        }
        let mut order: Vec<&implied::Trade> = split.trades.iter().collect();
        order.sort_by_key(|t| (t.time_ms, t.event_id));
        let mut chosen = BTreeMap::new();
        for t in order {
            let sides = trade::choose(t, |asset: &str| self.reach(first(asset), t.time_ms, &open, &readers));
            let priced = if sides.priced == t.sent.0 { &t.sent.1 } else { &t.received.1 };
            for hop in first(priced).into_iter().flatten() {
                let Origin::Remote(i) = hop.origin else { continue };
                let key = self.key(hop, t.time_ms);
                let Some(series) = open.get_mut(&key) else { continue };
                let g = key.granularity.millis;
                for (from, to) in series::windows(&[t.time_ms], series, g, self.sources[i].max_candles(), self.now_ms) {
                    series.add_covered(from, to);
                }
            }
            chosen.insert(t.event_id, sides);
        }
        Ok(chosen)
    }

    /// Passes until every point has a price or has run out of routes.
    fn walk(
        &mut self,
        points: &mut BTreeMap<(&str, i64), Point>,
        routes: &BTreeMap<String, Vec<Vec<Hop>>>,
    ) -> Result<(), PricingError> {
        loop {
            // Keyed by borrowed markets first (an owned key per point and hop copied its
            // market's three strings), in the order of the owned keys made from them after.
            let mut by_hop: BTreeMap<HopRef<'_>, Vec<i64>> = BTreeMap::new();
            let mut pending = 0usize;
            for ((asset, time), point) in points.iter() {
                let Some(route) = routes.get(*asset).and_then(|r| r.get(point.route)) else { continue };
                if point.found.is_some() {
                    continue;
                }
                pending += 1;
                for hop in route {
                    by_hop.entry((hop.origin, &hop.market, self.granularity(hop, *time))).or_default().push(*time);
                }
            }
            if pending == 0 {
                return Ok(());
            }
            let needed: BTreeMap<HopKey, Vec<i64>> = by_hop
                .into_iter()
                .map(|((origin, market, granularity), times)| {
                    (HopKey { origin, market: market.clone(), granularity }, times)
                })
                .collect();
            if !self.options.offline {
                self.fetch(&needed)?;
            }
            let mut series: BTreeMap<HopRef<'_>, Vec<Series>> = BTreeMap::new();
            for (key, times) in &needed {
                series.insert((key.origin, &key.market, key.granularity), self.load(key, times)?);
            }
            for ((asset, time), point) in points.iter_mut() {
                if point.found.is_some() {
                    continue;
                }
                let Some(route) = routes.get(*asset).and_then(|r| r.get(point.route)) else { continue };
                match self.price(route, *time, &series) {
                    Some(found) => point.found = Some(found),
                    None => point.route += 1,
                }
            }
        }
    }

    /// The candles a hop reads at `time_ms`: the source's finest granularity for that date.
    fn key(&self, hop: &Hop, time_ms: i64) -> HopKey {
        HopKey { origin: hop.origin, market: hop.market.clone(), granularity: self.granularity(hop, time_ms) }
    }

    /// The granularity of the candles a hop reads at `time_ms` ([`Engine::key`]).
    fn granularity(&self, hop: &Hop, time_ms: i64) -> Granularity {
        match hop.origin {
            Origin::Remote(i) => self.sources[i].granularity(time_ms, self.now_ms),
            Origin::File | Origin::Par => Granularity::DAY,
        }
    }

    /// Asks every remote hop for the windows its times still need; each answer is stored
    /// with its range in one transaction.
    fn fetch(&mut self, needed: &BTreeMap<HopKey, Vec<i64>>) -> Result<(), PricingError> {
        let mut plan: Vec<(&HopKey, Vec<(i64, i64)>)> = Vec::new();
        for (key, times) in needed {
            let Origin::Remote(i) = key.origin else { continue };
            if self.failed.contains(key) {
                continue;
            }
            let source = &self.sources[i];
            let covered =
                self.ledger.price_coverage(source.name(), &key.market.base, &key.market.quote, key.granularity.name)?;
            let known = Series::new(Vec::new(), Some(covered), key.granularity.millis);
            let windows = series::windows(times, &known, key.granularity.millis, source.max_candles(), self.now_ms);
            if !windows.is_empty() {
                self.progress.planned(source.name(), windows.len() as u64);
                plan.push((key, windows));
            }
        }
        for (key, windows) in plan {
            let Origin::Remote(i) = key.origin else { continue };
            let source = &self.sources[i];
            for (start, end) in windows {
                let answer = source.candles(&key.market, key.granularity, start, end);
                self.progress.done(source.name());
                match answer {
                    Ok(fetched) => {
                        self.summary.requests += u64::from(fetched.requests);
                        self.summary.retries += u64::from(fetched.retries);
                        self.summary.candles += fetched.items.len() as u64;
                        self.ledger.store_candles(
                            source.name(),
                            &key.market,
                            key.granularity.name,
                            (start, end),
                            &fetched.items,
                            self.now_ms,
                        )?;
                    }
                    Err(error) => {
                        self.summary.errors.push(format!(
                            "{}: candles of {} from {}: {error}",
                            source.name(),
                            key.market.symbol,
                            cointally_exchanges::time::format_rfc3339(cointally_exchanges::time::from_millis(start)),
                        ));
                        self.failed.insert(key.clone());
                        break;
                    }
                }
            }
        }
        Ok(())
    }

    /// The cached prices a hop reads around `times` (a price file gives day rows and instants).
    fn load(&self, key: &HopKey, times: &[i64]) -> Result<Vec<Series>, PricingError> {
        let (Some(first), Some(last)) = (times.iter().min(), times.iter().max()) else { return Ok(Vec::new()) };
        let (base, quote) = (&key.market.base, &key.market.quote);
        match key.origin {
            Origin::Par => Ok(Vec::new()),
            Origin::File => {
                let margin = series::tolerance_ms(0);
                let mut out = Vec::new();
                for (granularity, millis) in [(Granularity::DAY.name, Granularity::DAY.millis), ("point", 0)] {
                    let prices = self.ledger.cached_prices(
                        FILE_SOURCE,
                        base,
                        quote,
                        granularity,
                        first - margin,
                        last + margin,
                    )?;
                    out.push(Series::new(prices, None, millis));
                }
                Ok(out)
            }
            Origin::Remote(i) => {
                let name = self.sources[i].name();
                let g = key.granularity;
                let margin = series::tolerance_ms(g.millis) + g.millis;
                let prices = self.ledger.cached_prices(name, base, quote, g.name, first - margin, last + margin)?;
                let covered = self.ledger.price_coverage(name, base, quote, g.name)?;
                Ok(vec![Series::new(prices, Some(covered), g.millis)])
            }
        }
    }

    /// The price along `route` at `time_ms`, if every hop has a candle near it.
    fn price(&self, route: &[Hop], time_ms: i64, series: &BTreeMap<HopRef<'_>, Vec<Series>>) -> Option<Found> {
        let mut price = Decimal::ONE;
        let mut sources: Vec<&str> = Vec::new();
        let mut path: Vec<String> = Vec::new();
        for hop in route {
            let granularity = self.granularity(hop, time_ms);
            let key = (hop.origin, &hop.market, granularity);
            let (name, candle) = match hop.origin {
                Origin::Par => ("par", Some((time_ms, Decimal::ONE))),
                Origin::File => (FILE_SOURCE, series.get(&key)?.iter().find_map(|s| s.price_at(time_ms))),
                Origin::Remote(i) => (self.sources[i].name(), series.get(&key)?.first()?.price_at(time_ms)),
            };
            let (open_ms, close) = candle?;
            let hop_price = if hop.inverse { Decimal::ONE.checked_div(close)? } else { close };
            price = price.checked_mul(hop_price)?;
            if !sources.contains(&name) {
                sources.push(name);
            }
            let inverse = if hop.inverse { "/" } else { "" };
            path.push(format!("{name}:{}{inverse}:{}@{open_ms}", hop.market.symbol, granularity.name));
        }
        if price.is_zero() {
            return None;
        }
        Some(Found { price: round_price(price), source: sources.join("+"), path: path.join("*") })
    }
}

#[cfg(test)]
mod tests;

//! Australia: the ATO's capital gains tax rules for an individual's crypto assets.
//!
//! Each crypto asset acquired is a separate CGT asset with its own cost base (ATO, "Crypto
//! asset investments", <https://www.ato.gov.au/individuals-and-families/investments-and-assets/crypto-asset-investments>):
//! cointally keeps them as parcels in the US lot engine ([`crate::tax::engine`],
//! [`crate::tax::pools`]), one queue per token across every wallet and exchange (a transfer
//! between one's own wallets is not a disposal). Which parcel a disposal takes: FIFO unless
//! `--method` names another order — the ATO accepts the parcels a person's records identify
//! (specific identification, reasoning of Taxation Determination TD 33 for shares), and LIFO
//! and HIFO are standing orders of that identification. What each event is:
//!
//! - `trade`, `conversion`, `spend` (a swap of one crypto asset for another included): a CGT
//!   event A1, capital proceeds the market value in AUD of what was received (ATO, "Crypto
//!   asset transactions"); fees are incidental costs in the cost base of the parcel bought or
//!   reduce the proceeds of the parcel sold (the same gain either way).
//! - `gift`, `gift_spouse`: a disposal at market value (the market value substitution rule,
//!   ITAA 1997 s116-30, <http://classic.austlii.edu.au/au/legis/cth/consol_act/itaa1997240/s116.30.html>);
//!   Australia has no spouse exemption outside a marriage breakdown roll-over.
//! - Income kinds (`staking`, `mining`, `airdrop`, `interest`, `rebate`, `income`, `fork`):
//!   ordinary income at the AUD market value when received, and a parcel with that value as
//!   its cost base (ATO, "Staking rewards and airdrops").
//! - `lost` and an unmatched `withdrawal`: the units leave the parcels with no gain or loss
//!   (a capital loss for lost or stolen crypto needs evidence the ATO asks for; the person
//!   claims it).
//!
//! [`day`] dates events in Sydney local time (or the ledger's Australian zone) and bounds the
//! financial year, [`year`] applies the ATO's order of losses and discount, [`report`] and
//! [`export`] present the year.

pub mod day;
pub mod export;
pub mod report;
pub mod year;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeInclusive;

use chrono::NaiveDate;
use cointally_exchanges::EventKind;
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use self::day::{AuZone, financial_year_of, first_day, label, last_day};
use self::year::{NetCapitalGain, gross, held_twelve_months};
use crate::ledger::{Disposal, Holding, IncomeRow, Ledger, LedgerError, TaxEvent};
use crate::tax::country_snapshots::{CountryKey, SnapshotPass, restore, year_read};
use crate::tax::country_years::read_years;
use crate::tax::engine::{Computation, Engine, TransferPlan};
use crate::tax::inputs::snapshot_options;
use crate::tax::jurisdiction::{Rules, TaxYear};
use crate::tax::snapshot_state::damaged;
use crate::tax::years::{PassInfo, Start};
use crate::tax::{Method, Options, Tracking, TransferFees};
use crate::transfers::Matching;

/// Australia's time rules: financial years from 1 July, named by the year they end in, on
/// the local dates of `zone`.
pub struct AuRules {
    /// Whose local dates: Sydney's unless the ledger names another Australian zone.
    pub zone: AuZone,
}

impl AuRules {
    /// Australia's rules on Sydney dates (a ledger without an Australian `timezone`).
    pub const SYDNEY: AuRules = AuRules { zone: AuZone::Sydney };
}

impl Rules for AuRules {
    fn code(&self) -> &'static str {
        "AU"
    }

    fn currency(&self) -> Option<&'static str> {
        Some("AUD")
    }

    fn tax_year(&self, year: i32) -> TaxYear {
        let (first, last) = (first_day(year), last_day(year));
        TaxYear {
            year,
            label: label(year),
            first_day: first,
            last_day: last,
            start_ms: self.zone.midnight_ms(first),
            end_ms: self.zone.midnight_ms(last.succ_opt().unwrap_or(last)),
        }
    }

    fn events_until_ms(&self, year: i32) -> i64 {
        self.tax_year(year).end_ms
    }

    fn year_of_ms(&self, ms: i64) -> i32 {
        financial_year_of(self.zone.date(ms))
    }
}

/// One parcel's part of a disposal in the year: a CGT event's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuDisposal {
    /// The row as the lot engine made it (proceeds net of disposal costs, cost base).
    pub disposal: Disposal,
    /// The parcel's acquisition date in Sydney (`None`: no parcel, more was disposed of than held).
    pub acquired: Option<NaiveDate>,
    /// The disposal date in Sydney.
    pub disposed: NaiveDate,
    /// What made it: `sale` (sold, swapped, spent), `gift`, `fee`, `transfer_fee`.
    pub kind: &'static str,
    /// Held at least 12 months, excluding the days of acquisition and disposal.
    pub held_12_months: bool,
}

impl AuDisposal {
    /// Capital gain (positive) or loss (negative), unrounded.
    pub fn gain(&self) -> Decimal {
        self.disposal.gain()
    }

    /// The gain is a discount capital gain (a gain on a parcel held 12 months).
    pub fn discountable(&self) -> bool {
        self.held_12_months && self.gain() > Decimal::ZERO
    }
}

/// An Australian year's computation.
#[derive(Debug, Clone)]
pub struct AuComputed {
    /// The financial year.
    pub year: TaxYear,
    /// Parcel order.
    pub method: Method,
    /// The year's rows, in time order.
    pub disposals: Vec<AuDisposal>,
    /// Income received in the year.
    pub income: Vec<IncomeRow>,
    /// Parcels held at the end of the year.
    pub parcels: Vec<Holding>,
    /// The year's net capital gain (losses of earlier years brought forward: the ledger's own
    /// carry, or the year's `losses_brought_forward` setting where there is one).
    pub figures: NetCapitalGain,
    /// The year's `losses_brought_forward` setting (losses from outside the ledger), if set.
    pub losses_set: Option<Decimal>,
    /// What the ledger's earlier years (and earlier settings) carry into the year; the
    /// setting, where there is one, replaces it.
    pub ledger_carried_in: Decimal,
    /// Units disposed of beyond what was held (all history), by token.
    pub short: BTreeMap<String, Decimal>,
    /// Whose local dates the rows are on (Sydney unless the ledger names another Australian zone).
    pub zone: AuZone,
    /// SHA-256 (hex) of the events, legs, values and transfers read.
    pub inputs_hash: String,
    /// Events read.
    pub events: u64,
}

/// What an event is under the ATO's rules where that differs from the lot engine's US
/// reading: a gift is a disposal at market value (a spend with nothing received); its id goes
/// into `gifts`, so that its rows say what it was.
fn as_ato<'a>(event: &'a TaxEvent, gifts: &mut BTreeSet<i64>) -> Cow<'a, TaxEvent> {
    match event.kind {
        EventKind::Gift | EventKind::GiftSpouse => {
            gifts.insert(event.id);
            let mut event = event.clone();
            event.kind = EventKind::Spend;
            Cow::Owned(event)
        }
        _ => Cow::Borrowed(event),
    }
}

/// The lot engine's options for Australia: one queue of parcels per token in `method`'s
/// order, token fees disposed of, no elections.
fn options(method: Method) -> Options {
    Options { method, tracking: Tracking::Universal, transfer_fees: TransferFees::Dispose, year: None, what_if: true }
}

fn engine(method: Method, transfers: &[TransferPlan]) -> Engine {
    Engine::new(options(method), transfers, BTreeMap::new())
}

/// Computes financial year `year` from the events given in time order (the pure part of
/// [`compute`]); `method` orders the parcels.
pub fn compute_events<'a>(
    year: i32,
    method: Method,
    transfers: &[TransferPlan],
    events: impl IntoIterator<Item = &'a TaxEvent>,
) -> AuComputed {
    compute_events_with(year, method, transfers, events, &BTreeMap::new())
}

/// [`compute_events`] with losses brought forward from outside the ledger, by financial year
/// (the `losses_brought_forward` settings, [`crate::tax::losses`]).
pub fn compute_events_with<'a>(
    year: i32,
    method: Method,
    transfers: &[TransferPlan],
    events: impl IntoIterator<Item = &'a TaxEvent>,
    outside: &BTreeMap<i32, Decimal>,
) -> AuComputed {
    let mut engine = engine(method, transfers);
    let mut gifts = BTreeSet::new();
    let mut count = 0u64;
    for event in events {
        engine.process(&as_ato(event, &mut gifts));
        count += 1;
    }
    let mut computation = engine.finish();
    let mut by_year = Gross::new();
    let rows = sort_disposals(std::mem::take(&mut computation.disposals), &gifts, AuZone::Sydney, year, &mut by_year);
    finish(year, (method, AuZone::Sydney), (rows, &by_year), computation, outside, String::new(), count)
}

/// Each financial year's gross figures (other gains, discountable gains, losses), summed as
/// [`year::gross`] sums them: all that the carry-forward of net capital losses needs of the
/// years before the one reported, so their rows need not be kept.
type Gross = BTreeMap<i32, (Decimal, Decimal, Decimal)>;

/// Dates the disposals in `zone`, adds each to its financial year's [`Gross`] and returns the
/// rows of financial year `year`.
fn sort_disposals(
    disposals: Vec<Disposal>,
    gifts: &BTreeSet<i64>,
    zone: AuZone,
    year: i32,
    by_year: &mut Gross,
) -> Vec<AuDisposal> {
    let mut rows = Vec::new();
    for disposal in disposals {
        let disposed = zone.date(disposal.disposed_ms);
        let acquired = disposal.lot_event_id.map(|_| zone.date(disposal.acquired_ms));
        let row = AuDisposal {
            kind: if gifts.contains(&disposal.event_id) { "gift" } else { disposal.kind.as_str() },
            held_12_months: acquired.is_some_and(|a| held_twelve_months(a, disposed)),
            acquired,
            disposed,
            disposal,
        };
        let fy = financial_year_of(disposed);
        let (other, discounted, losses) = gross([(row.gain(), row.discountable())]);
        let sums = by_year.entry(fy).or_default();
        *sums = (sums.0 + other, sums.1 + discounted, sums.2 + losses);
        if fy == year {
            rows.push(row);
        }
    }
    rows
}

fn finish(
    year: i32,
    (method, zone): (Method, AuZone),
    (disposals, by_year): (Vec<AuDisposal>, &Gross),
    computation: Computation,
    outside: &BTreeMap<i32, Decimal>,
    inputs_hash: String,
    events: u64,
) -> AuComputed {
    // Net capital losses carry forward from the ledger's first year with a disposal; a year
    // with a `losses_brought_forward` setting takes the setting instead (losses from outside
    // the ledger, as the person's records state them: crate::tax::losses).
    let mut brought_forward = Decimal::ZERO;
    let mut carried_in = Decimal::ZERO;
    let mut figures = NetCapitalGain::default();
    let years: BTreeSet<i32> =
        by_year.keys().chain(outside.keys()).copied().filter(|fy| *fy <= year).chain([year]).collect();
    for fy in years {
        if fy == year {
            carried_in = brought_forward;
        }
        let available = outside.get(&fy).copied().unwrap_or(brought_forward);
        let (other, discounted, losses) = by_year.get(&fy).copied().unwrap_or_default();
        let computed = NetCapitalGain::compute(other, discounted, losses, available);
        brought_forward = computed.carried_forward;
        if fy == year {
            figures = computed;
        }
    }
    AuComputed {
        year: AuRules { zone }.tax_year(year),
        method,
        disposals,
        income: computation
            .income
            .into_iter()
            .filter(|i| financial_year_of(zone.date(i.received_ms)) == year)
            .collect(),
        parcels: computation.holdings,
        figures,
        losses_set: outside.get(&year).copied(),
        ledger_carried_in: carried_in,
        short: computation.shortfalls,
        zone,
        inputs_hash,
        events,
    }
}

/// Runs the Australian computation of financial year `year` (`2025` = 2024-25) over the
/// ledger with the parcel order `method`, with the transfers of `matching`, from the latest
/// year-end snapshot that fits.
pub fn compute(ledger: &mut Ledger, year: i32, method: Method, matching: &Matching) -> Result<AuComputed, LedgerError> {
    let (mut years, _) = compute_years(ledger, year..=year, method, matching, Start::Snapshot)?;
    years.pop().ok_or_else(|| LedgerError::Corrupt(format!("the financial year {year} was not computed")))
}

/// The version of the Australian rules a snapshot was computed by: raise it whenever the
/// engine would compute a different state from the same events (every Australian snapshot is
/// then made again).
pub const AU_RULES_VERSION: u32 = 1;

/// The code Australian snapshots are stored under.
pub const SNAPSHOTS: &str = "au";

/// [`compute`] for every financial year of `years` in one pass over history
/// ([`crate::tax::country_years`]): each year as a run of it alone gives it. The pass starts
/// from the latest year-end snapshot that fits (unless `start` says from the first event) and
/// stores one at the ends of the last two years ([`crate::tax::country_snapshots`]), which
/// keeps beside the parcels the gross figures of every financial year so far (what the
/// carry-forward of net capital losses reads).
pub fn compute_years(
    ledger: &mut Ledger,
    years: RangeInclusive<i32>,
    method: Method,
    matching: &Matching,
    start: Start,
) -> Result<(Vec<AuComputed>, PassInfo), LedgerError> {
    let currency = ledger.reporting_currency()?;
    let losses = crate::tax::losses::of_ledger(ledger)?;
    let zone = AuZone::of(crate::tax::zone::Zone::of_ledger(ledger)?);
    let rules = AuRules { zone };
    let first = *years.start();
    let options = snapshot_options(&options(method));
    let key =
        CountryKey::new(SNAPSHOTS, AU_RULES_VERSION, options, (&currency, zone.name()), &BTreeMap::new(), matching);
    let (mut pass, from) = SnapshotPass::begin(ledger, &key, &years, rules.tax_year(first).start_ms, start)?;
    let mut engine = engine(method, &key.transfer_plans());
    let read_from = SnapshotPass::read_from(from.as_ref().map(|s| (&s.head, s.head.end_ms)), AuRules { zone })?;
    // Every year's gross figures so far: a year's losses carried forward come from them.
    let mut by_year = Gross::new();
    if let Some(snapshot) = from {
        let head = snapshot.head.clone();
        let extra = restore(&mut engine, snapshot)?;
        by_year =
            gross_of(&extra["gross"]).ok_or_else(|| damaged(&head, format!("gross figures {:?}", extra["gross"])))?;
    }
    // Each year's hash: an Australian zone other than Sydney's (only when set, so a Sydney
    // ledger keeps its hash), the settings of the year and the years before it (later ones do
    // not change it), then the transfers, then its events.
    let mut reads = Vec::new();
    let mut outside_of = BTreeMap::new();
    for year in pass.years() {
        let mut hasher = Sha256::new();
        hasher.update(b"AU\n");
        hasher.update(currency.as_bytes());
        hasher.update(method.as_str().as_bytes());
        if let AuZone::Local(local) = zone {
            hasher.update(format!("timezone {}\n", local.name()).as_bytes());
        }
        let outside: BTreeMap<i32, Decimal> =
            losses.iter().filter(|(y, _)| **y <= year).map(|(y, l)| (*y, *l)).collect();
        crate::tax::losses::hash_into(&mut hasher, &outside);
        hasher.update(key.transfers_hash());
        outside_of.insert(year, outside);
        reads.push(year_read(&rules, year, hasher));
    }
    let mut state = (engine, BTreeSet::new(), by_year);
    let mut out = Vec::with_capacity(reads.len());
    let mut snapshots = Vec::new();
    read_years(
        ledger,
        &currency,
        reads,
        read_from,
        &mut state,
        |(engine, gifts, _): &mut (Engine, BTreeSet<i64>, Gross), event| engine.try_process(&as_ato(event, gifts)),
        |(engine, gifts, by_year), end| {
            let mut computation = engine.close_period(i64::MIN);
            let rows = sort_disposals(std::mem::take(&mut computation.disposals), gifts, zone, end.year, by_year);
            pass.read_to(end.events);
            if pass.keeps(end.year) {
                let mut extra = serde_json::Map::new();
                extra.insert("gross".into(), gross_json(by_year));
                let end_ms = rules.tax_year(end.year).end_ms;
                snapshots.push(key.snapshot(engine, (end.year, end_ms), end.at_end.clone(), extra));
            }
            if pass.asked(end.year) {
                let outside = outside_of.get(&end.year).cloned().unwrap_or_default();
                out.push(finish(
                    end.year,
                    (method, zone),
                    (rows, by_year),
                    computation,
                    &outside,
                    end.inputs_hash,
                    end.events,
                ));
            }
        },
    )?;
    let info = pass.store(ledger, &snapshots)?;
    Ok((out, info))
}

/// The gross figures of each financial year as a snapshot keeps them: `[year, other,
/// discountable, losses]`.
fn gross_json(by_year: &Gross) -> serde_json::Value {
    by_year
        .iter()
        .map(|(fy, (other, discounted, losses))| {
            serde_json::json!([fy, other.to_string(), discounted.to_string(), losses.to_string()])
        })
        .collect()
}

/// [`gross_json`] read back (`None`: it does not read).
fn gross_of(value: &serde_json::Value) -> Option<Gross> {
    let figure = |v: &serde_json::Value| v.as_str()?.parse::<Decimal>().ok();
    value
        .as_array()?
        .iter()
        .map(|entry| {
            let fy = i32::try_from(entry.get(0)?.as_i64()?).ok()?;
            Some((fy, (figure(entry.get(1)?)?, figure(entry.get(2)?)?, figure(entry.get(3)?)?)))
        })
        .collect()
}

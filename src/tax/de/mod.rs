//! Germany: private sales of tokens under § 23 EStG, and staking and lending income under
//! § 22 Nr. 3 EStG, as the Federal Ministry of Finance applies them: the BMF letter of 10 May
//! 2022 ("Einzelfragen zur ertragsteuerrechtlichen Behandlung von virtuellen Währungen und
//! von sonstigen Token", IV C 1 - S 2256/19/10003 :001, BStBl 2022 I S. 668; its opening seen
//! at <https://datenbank.nwb.de/Dokument/Anzeigen/939203/>) and the letter of 6 March 2025
//! that replaced it ("Einzelfragen zur ertragsteuerrechtlichen Behandlung bestimmter
//! Kryptowerte", IV C 1 - S 2256/00042/064/043, on <https://www.bundesfinanzministerium.de>).
//! Neither letter's full text was available to check here; what rests on secondary sources
//! is said in the README (Germany).
//!
//! The lots are the US engine's ([`crate::tax::engine`]), with the German choices:
//! - **FIFO per wallet**: the units first acquired are the first disposed of (§ 23 Abs. 1
//!   Satz 1 Nr. 2 Satz 3 EStG, applied to tokens by the BMF letter), and the order is kept for
//!   each wallet (account) on its own, which the letter allows ("depotbezogen"). An own
//!   transfer moves its lots to the receiving wallet with their acquisition dates and costs:
//!   moving tokens between one's own wallets is neither a sale nor an acquisition.
//! - **A swap is a sale** (Tausch, BFH IX R 3/22 of 14 February 2023): the token given is
//!   disposed of for the market value of the token received, which is acquired at that value.
//!   Fees reduce the proceeds of a sale and add to the cost of a purchase (§ 23 Abs. 3 Satz 1:
//!   Werbungskosten); a fee paid in tokens disposes of those tokens at their value.
//! - **Income** (staking, lending, other rewards) is income of § 22 Nr. 3 at its market value
//!   on receipt; that value is the acquisition cost of the units received, and their one year
//!   starts on receipt. Staking or lending does not extend the period to ten years (the 2022
//!   letter dropped that view; § 23 Abs. 1 Satz 1 Nr. 2 Satz 4 EStG is not applied).
//! - A gift, a loss and an unmatched withdrawal are not sales: the units leave without a row.
//!
//! [`day`] gives Berlin dates and the one-year period, [`year`] the Freigrenzen, [`report`]
//! and [`export`] present the year.

pub mod day;
pub mod export;
pub mod report;
pub mod year;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::ops::RangeInclusive;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use self::day::{berlin_midnight_ms, held_more_than_one_year};
use crate::ledger::{Disposal, Holding, IncomeRow, Ledger, LedgerError, TaxEvent};
use crate::tax::country_snapshots::{CountryKey, SnapshotPass, restore, year_read};
use crate::tax::country_years::read_years;
use crate::tax::engine::{Computation, Engine, TransferPlan};
use crate::tax::inputs::snapshot_options;
use crate::tax::jurisdiction::{Rules, TaxYear};
use crate::tax::years::{PassInfo, Start};
use crate::tax::{Method, Options, Tracking, TransferFees};
use crate::transfers::Matching;

/// Germany's time rules: calendar years in Berlin time.
pub struct DeRules;

impl Rules for DeRules {
    fn code(&self) -> &'static str {
        "DE"
    }

    fn currency(&self) -> Option<&'static str> {
        Some("EUR")
    }

    fn tax_year(&self, year: i32) -> TaxYear {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN);
        TaxYear {
            year,
            label: year.to_string(),
            first_day: day(year, 1, 1),
            last_day: day(year, 12, 31),
            start_ms: berlin_midnight_ms(day(year, 1, 1)),
            end_ms: berlin_midnight_ms(day(year + 1, 1, 1)),
        }
    }

    fn events_until_ms(&self, year: i32) -> i64 {
        self.tax_year(year).end_ms
    }

    fn own_zone(&self) -> Option<&'static str> {
        Some("Europe/Berlin")
    }

    fn year_of_ms(&self, ms: i64) -> i32 {
        chrono::Datelike::year(&self::day::berlin_date(ms))
    }
}

/// The engine's options for Germany: FIFO, lots per wallet, token fees disposed of, no
/// elections.
pub fn options() -> Options {
    Options {
        method: Method::Fifo,
        tracking: Tracking::PerWallet,
        transfer_fees: TransferFees::Dispose,
        year: None,
        what_if: true,
    }
}

/// One disposal row (a lot fragment) and whether it is a private sale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeDisposal {
    /// The row as the lot engine made it.
    pub row: Disposal,
    /// Held more than one year: not a private sale, not taxable.
    pub held_more_than_one_year: bool,
}

impl DeDisposal {
    /// Proceeds less acquisition cost, unrounded.
    pub fn gain(&self) -> Decimal {
        self.row.gain()
    }
}

/// A German year's computation.
#[derive(Debug, Clone)]
pub struct DeComputed {
    /// The tax year.
    pub year: TaxYear,
    /// The year's disposals, in time order.
    pub disposals: Vec<DeDisposal>,
    /// Income received in the year.
    pub income: Vec<IncomeRow>,
    /// Lots held at the year's end, by wallet.
    pub holdings: Vec<Holding>,
    /// Units disposed of beyond what was held (all history), by token.
    pub shortfalls: BTreeMap<String, Decimal>,
    /// The year's `losses_brought_forward` setting: the remaining § 23 loss of earlier years
    /// (verbleibender Verlustvortrag), zero when not set ([`crate::tax::losses`]).
    pub losses_brought_forward: Decimal,
    /// SHA-256 (hex) of the events, legs, values and transfers read.
    pub inputs_hash: String,
    /// Events read.
    pub events: u64,
}

/// The German year out of an engine that has read every event up to the year's end.
fn finish(year: i32, c: Computation, inputs_hash: String, events: u64) -> DeComputed {
    let disposals = c
        .disposals
        .into_iter()
        .map(|row| DeDisposal {
            held_more_than_one_year: held_more_than_one_year(row.acquired_ms, row.disposed_ms),
            row,
        })
        .collect();
    DeComputed {
        year: DeRules.tax_year(year),
        disposals,
        income: c.income,
        holdings: c.holdings,
        shortfalls: c.shortfalls,
        losses_brought_forward: Decimal::ZERO,
        inputs_hash,
        events,
    }
}

fn engine(year: i32, transfers: &[TransferPlan], labels: BTreeMap<i64, String>) -> Engine {
    Engine::new(options(), transfers, labels).keeping_from(DeRules.tax_year(year).start_ms)
}

/// Computes tax year `year` from events given in time order (the pure part of [`compute`]);
/// events from the year's end on are not read.
pub fn compute_events<'a>(
    year: i32,
    transfers: &[TransferPlan],
    events: impl IntoIterator<Item = &'a TaxEvent>,
) -> DeComputed {
    let mut engine = engine(year, transfers, BTreeMap::new());
    let until = DeRules.events_until_ms(year);
    let mut count = 0u64;
    for event in events.into_iter().take_while(|e| e.time_ms < until) {
        engine.process(event);
        count += 1;
    }
    finish(year, engine.finish(), String::new(), count)
}

/// Runs the German computation of calendar year `year` over the ledger, with the transfers
/// of `matching`, from the latest year-end snapshot that fits.
pub fn compute(ledger: &mut Ledger, year: i32, matching: &Matching) -> Result<DeComputed, LedgerError> {
    let (mut years, _) = compute_years(ledger, year..=year, matching, Start::Snapshot)?;
    years.pop().ok_or_else(|| LedgerError::Corrupt(format!("the tax year {year} was not computed")))
}

/// The version of the German rules a snapshot was computed by: raise it whenever the engine
/// would compute a different state from the same events (every German snapshot is then made
/// again).
pub const DE_RULES_VERSION: u32 = 1;

/// The code German snapshots are stored under.
pub const SNAPSHOTS: &str = "de";

/// [`compute`] for every calendar year of `years` in one pass over history
/// ([`crate::tax::country_years`]): each year as a run of it alone gives it. The pass starts
/// from the latest year-end snapshot that fits (unless `start` says from the first event) and
/// stores one at the ends of the last two years ([`crate::tax::country_snapshots`]).
pub fn compute_years(
    ledger: &mut Ledger,
    years: RangeInclusive<i32>,
    matching: &Matching,
    start: Start,
) -> Result<(Vec<DeComputed>, PassInfo), LedgerError> {
    let currency = ledger.reporting_currency()?;
    let losses = crate::tax::losses::of_ledger(ledger)?;
    let first = *years.start();
    let labels: BTreeMap<i64, String> = ledger.accounts()?.into_iter().map(|a| (a.id, a.label)).collect();
    let key =
        CountryKey::new(SNAPSHOTS, DE_RULES_VERSION, snapshot_options(&options()), (&currency, ""), &labels, matching);
    let (mut pass, from) = SnapshotPass::begin(ledger, &key, &years, DeRules.tax_year(first).start_ms, start)?;
    let mut engine = engine(first, &key.transfer_plans(), labels);
    let read_from = SnapshotPass::read_from(from.as_ref().map(|s| (&s.head, s.head.end_ms)), DeRules)?;
    if let Some(snapshot) = from {
        restore(&mut engine, snapshot)?;
    }
    let mut reads = Vec::new();
    for year in pass.years() {
        let mut hasher = Sha256::new();
        hasher.update(b"DE\n");
        hasher.update(currency.as_bytes());
        // Only the year's own setting counts (no carry between years: see crate::tax::losses).
        let this_year: BTreeMap<i32, Decimal> =
            losses.iter().filter(|(y, _)| **y == year).map(|(y, l)| (*y, *l)).collect();
        crate::tax::losses::hash_into(&mut hasher, &this_year);
        hasher.update(key.transfers_hash());
        reads.push(year_read(&DeRules, year, hasher));
    }
    let mut out = Vec::with_capacity(reads.len());
    let mut snapshots = Vec::new();
    read_years(
        ledger,
        &currency,
        reads,
        read_from,
        &mut engine,
        |engine, event| engine.try_process(event),
        |engine, end| {
            let computation = engine.close_period(DeRules.tax_year(end.year + 1).start_ms);
            pass.read_to(end.events);
            if pass.keeps(end.year) {
                let end_ms = DeRules.tax_year(end.year).end_ms;
                snapshots.push(key.snapshot(engine, (end.year, end_ms), end.at_end.clone(), serde_json::Map::new()));
            }
            if pass.asked(end.year) {
                let losses_brought_forward = losses.get(&end.year).copied().unwrap_or_default();
                out.push(DeComputed {
                    losses_brought_forward,
                    ..finish(end.year, computation, end.inputs_hash, end.events)
                });
            }
        },
    )?;
    let info = pass.store(ledger, &snapshots)?;
    Ok((out, info))
}

//! The jurisdiction seam: whose tax rules turn the ledger's events into a year's disposals,
//! income and holdings.
//!
//! A ledger has one jurisdiction (the `jurisdiction` setting: `cointally init --jurisdiction`,
//! `cointally settings jurisdiction uk`; `report --jurisdiction` overrides it for one run).
//! Each country is one implementation of [`Rules`] — what its tax year is, how far past the
//! year's end events must be read — and one module that computes the year and shapes its
//! output: the US lot engine ([`crate::tax::engine`], [`crate::tax::report`]) and the UK's
//! share-pooling rules ([`crate::tax::uk`]), Australia's parcels and CGT discount
//! ([`crate::tax::au`]). Reports and exports read a country's output,
//! never its internals: commands dispatch on [`Jurisdiction`] once, at the top.
//!
//! How the next countries plug in (each a variant here, a `Rules` value and a module under
//! `src/tax/<country>/` that reads the same time-ordered events):
//! - **Canada** ([`crate::tax::ca`]): one adjusted cost base per token across every wallet
//!   (the UK's pool arithmetic, [`crate::tax::uk::pool`], with no same-day or 30-day
//!   matching), events read as the UK reads them but by local date in the ledger's zone; a loss is denied, in whole
//!   or in part (loss × min(sold, acquired in the window, held on day 30) / sold), when the
//!   same token is acquired from 30 days before to 30 days after the disposition and still
//!   held on day 30, and the denied part is added to the token's ACB. Calendar years; its
//!   `Rules::events_until_ms` reads 30 days past 31 December. CAD ledgers only.
//! - **Australia** ([`crate::tax::au`], built): the US lot engine's parcels
//!   ([`crate::tax::pools`]) in one queue per token (FIFO by default, LIFO/HIFO as specific
//!   identification), every disposal dated in Sydney local time (or the Australian zone the
//!   ledger names) and flagged for the 50% CGT
//!   discount when held at least 12 months excluding the days of acquisition and disposal
//!   ([`crate::tax::holding::anniversary`] counts the same anniversary); the year's figures
//!   follow the ATO's steps (losses against non-discount gains first, then the discount). Its
//!   tax year is the financial year 1 July to 30 June, named by the year it ends in
//!   (`--year 2025` = 2024-25); it reads no events past 30 June.
//! - **Germany** (§ 23 EStG, built: [`crate::tax::de`]): the US lot engine with FIFO lots
//!   per wallet (BMF letter of 10 May 2022), own transfers carrying each lot's date; a
//!   disposal held more than one year (§§ 187, 188 BGB, Berlin dates) is listed but not
//!   taxable; the year's net private-sale gain is compared with the *Freigrenze* (less than
//!   €600 free up to 2023, less than €1,000 from 2024: at or above it, all of it is taxable),
//!   staking and lending income with the €256 limit of § 22 Nr. 3. Calendar year, Berlin time.
//!
//! Several years of a country (`report --years`) are one pass over history
//! ([`crate::tax::country_years`]): each country's `compute_years` takes each year from its
//! state at the year's `Rules::events_until_ms`, and its `compute` is a range of one.
//!
//! A country whose year-level figures differ (allowances, rate periods, reporting
//! thresholds) computes them in its own module from its own rows, as the UK does in
//! [`crate::tax::uk::year`].

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;

use crate::ledger::{Ledger, LedgerError};

/// The setting that holds a ledger's jurisdiction.
pub const JURISDICTION_SETTING: &str = "jurisdiction";

/// Whose tax rules a report follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Jurisdiction {
    /// United States: lots (FIFO, LIFO, HIFO, LOFO), short and long term, calendar years.
    Us,
    /// United Kingdom: HMRC's matching rules and section 104 pools, tax years from 6 April.
    Uk,
    /// Canada: the CRA's adjusted cost base (average cost) and superficial losses, calendar years.
    Ca,
    /// Australia: ATO parcels with the 50% CGT discount, financial years from 1 July.
    Au,
    /// Germany: § 23 EStG private sales (tax-free after one year, FIFO per wallet, Freigrenze),
    /// calendar years in Berlin time.
    De,
}

impl Jurisdiction {
    /// Every jurisdiction, in a stable order.
    pub const ALL: [Jurisdiction; 5] =
        [Jurisdiction::Us, Jurisdiction::Uk, Jurisdiction::Ca, Jurisdiction::Au, Jurisdiction::De];

    /// The name used in flags and in the ledger's setting.
    pub fn as_str(self) -> &'static str {
        match self {
            Jurisdiction::Us => "us",
            Jurisdiction::Uk => "uk",
            Jurisdiction::Ca => "ca",
            Jurisdiction::Au => "au",
            Jurisdiction::De => "de",
        }
    }

    /// The country's rules.
    pub fn rules(self) -> &'static dyn Rules {
        match self {
            Jurisdiction::Us => &UsRules,
            Jurisdiction::Uk => &crate::tax::uk::UkRules,
            Jurisdiction::Ca => &crate::tax::ca::CaRules::UTC,
            Jurisdiction::Au => &crate::tax::au::AuRules::SYDNEY,
            Jurisdiction::De => &crate::tax::de::DeRules,
        }
    }

    /// The ledger's jurisdiction (`us` when the setting is absent).
    pub fn of_ledger(ledger: &Ledger) -> Result<Jurisdiction, LedgerError> {
        match ledger.setting(JURISDICTION_SETTING)? {
            None => Ok(Jurisdiction::Us),
            Some(text) => text.parse().map_err(|e: UnknownJurisdiction| LedgerError::Corrupt(e.to_string())),
        }
    }

    /// The names, comma-separated, for messages.
    pub fn names() -> String {
        Jurisdiction::ALL.iter().map(|j| j.as_str()).collect::<Vec<_>>().join(", ")
    }
}

impl fmt::Display for Jurisdiction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text was not the name of a jurisdiction.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown jurisdiction {0:?} (expected one of: {names})", names = Jurisdiction::names())]
pub struct UnknownJurisdiction(pub String);

impl FromStr for Jurisdiction {
    type Err = UnknownJurisdiction;

    fn from_str(text: &str) -> Result<Jurisdiction, UnknownJurisdiction> {
        Jurisdiction::ALL
            .into_iter()
            .find(|j| j.as_str().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| UnknownJurisdiction(text.to_owned()))
    }
}

/// A tax year as a country names and bounds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxYear {
    /// The year as given (`--year 2024`).
    pub year: i32,
    /// Its name in reports (`2024` in the US, `2024/25` in the UK).
    pub label: String,
    /// The first day (local to the country).
    pub first_day: NaiveDate,
    /// The last day (local to the country).
    pub last_day: NaiveDate,
    /// The first instant, UTC ms.
    pub start_ms: i64,
    /// The instant after the last, UTC ms.
    pub end_ms: i64,
}

/// What every country's rules say about time; the computation itself is the country's module.
pub trait Rules: Sync {
    /// The code in reports and JSON (`US`, `UK`).
    fn code(&self) -> &'static str;

    /// The reporting currency the country's figures are in (a ledger in another currency is
    /// refused for this country's report).
    fn currency(&self) -> Option<&'static str>;

    /// The tax year `year` names (`--year`).
    fn tax_year(&self, year: i32) -> TaxYear;

    /// Until when (UTC ms, excluded) events must be read to compute `year`: its end, or
    /// later where a rule looks forward (the UK's 30-day rule, Canada's superficial losses).
    fn events_until_ms(&self, year: i32) -> i64;

    /// The tax year (as `--year` names it) an instant (UTC ms) falls in: what `--all-years`
    /// spans from the first event to the last.
    fn year_of_ms(&self, ms: i64) -> i32;

    /// The zone whose local dates the country's rules always use (its legal time: the UK's,
    /// Germany's, eastern Australia's), whatever the ledger's `timezone` setting says; `None`
    /// where the dates are those of the ledger's zone (the US, Canada).
    fn own_zone(&self) -> Option<&'static str> {
        None
    }
}

/// The US rules' time: calendar years in UTC (the lots themselves are [`crate::tax::engine`]).
pub struct UsRules;

impl Rules for UsRules {
    fn code(&self) -> &'static str {
        "US"
    }

    fn currency(&self) -> Option<&'static str> {
        None
    }

    fn tax_year(&self, year: i32) -> TaxYear {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN);
        TaxYear {
            year,
            label: year.to_string(),
            first_day: day(year, 1, 1),
            last_day: day(year, 12, 31),
            start_ms: crate::tax::year_start_ms(year),
            end_ms: crate::tax::year_start_ms(year + 1),
        }
    }

    fn events_until_ms(&self, year: i32) -> i64 {
        crate::tax::year_start_ms(year + 1)
    }

    fn year_of_ms(&self, ms: i64) -> i32 {
        chrono::Datelike::year(&crate::tax::holding::utc_date(ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_is_refused() {
        for j in Jurisdiction::ALL {
            assert_eq!(j.as_str().parse::<Jurisdiction>(), Ok(j));
        }
        assert_eq!("UK".parse::<Jurisdiction>(), Ok(Jurisdiction::Uk));
        assert_eq!("DE".parse::<Jurisdiction>(), Ok(Jurisdiction::De));
        let err = "fr".parse::<Jurisdiction>().unwrap_err();
        assert!(err.to_string().contains("us, uk, ca, au, de"), "{err}");
    }

    #[test]
    fn us_year_is_the_calendar_year_in_utc() {
        let y = Jurisdiction::Us.rules().tax_year(2024);
        assert_eq!(y.label, "2024");
        assert_eq!(y.start_ms, 1_704_067_200_000);
        assert_eq!(y.end_ms, 1_735_689_600_000);
        assert_eq!(Jurisdiction::Us.rules().events_until_ms(2024), y.end_ms);
    }
}

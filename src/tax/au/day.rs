//! The Australian calendar day of an instant, and the financial year.
//!
//! cointally dates every Australian event by the local date in Sydney (Australia/Sydney: the
//! eastern states and the ACT, whose legal time the ATO's own CGT guides quote — "11.45am (by
//! legal time in the ACT) on 21 September 1999"). Standard time is UTC+10 (AEST); daylight
//! saving (AEDT, UTC+11) runs from 2:00 AEST on the first Sunday of October to 3:00 AEDT on the
//! first Sunday of April (Standard Time and Summer Time Act 2005 (NSW), in force since 2008;
//! <https://legislation.nsw.gov.au/view/html/inforce/current/act-2005-024>). Crypto ledgers
//! start in 2009, so no earlier rule is needed. Both changes happen at 16:00 UTC on the
//! Saturday before, so local midnight is never inside one.
//!
//! An individual's income year is the financial year, 1 July to 30 June (Income Tax Assessment
//! Act 1997 s995-1, "income year" and "financial year",
//! <http://classic.austlii.edu.au/au/legis/cth/consol_act/itaa1997240/s995.1.html>); cointally
//! names it by the calendar year it ends in, as the ATO names its returns ("Tax return 2025"
//! is 2024-25): `--year 2025` is 1 July 2024 to 30 June 2025.

use chrono::{Datelike, Duration, NaiveDate, Weekday};

use crate::tax::zone::Zone;

const HOUR_MS: i64 = 3_600_000;

/// The first Sunday of `month` in `year`, at 16:00 UTC the day before (2:00 AEST, 3:00 AEDT
/// on that Sunday), in UTC ms.
fn first_sunday_change_ms(year: i32, month: u32) -> i64 {
    let Some(mut day) = NaiveDate::from_ymd_opt(year, month, 1) else { return i64::MAX };
    while day.weekday() != Weekday::Sun {
        day += Duration::days(1);
    }
    (day - Duration::days(1)).and_hms_opt(16, 0, 0).map(|t| t.and_utc().timestamp_millis()).unwrap_or(i64::MAX)
}

/// The offset of Sydney time from UTC at `utc_ms`: 11 hours in daylight saving, else 10.
pub fn sydney_offset_ms(utc_ms: i64) -> i64 {
    let Some(utc) = chrono::DateTime::from_timestamp_millis(utc_ms) else { return 10 * HOUR_MS };
    let year = utc.year();
    let summer = utc_ms < first_sunday_change_ms(year, 4) || utc_ms >= first_sunday_change_ms(year, 10);
    if summer { 11 * HOUR_MS } else { 10 * HOUR_MS }
}

/// The Sydney calendar date of an instant.
pub fn au_date(utc_ms: i64) -> NaiveDate {
    let local = utc_ms.saturating_add(sydney_offset_ms(utc_ms));
    chrono::DateTime::from_timestamp_millis(local).map(|t| t.date_naive()).unwrap_or(NaiveDate::MIN)
}

/// The first instant (UTC ms) of a Sydney calendar date.
pub fn au_midnight_ms(date: NaiveDate) -> i64 {
    let Some(midnight) = date.and_hms_opt(0, 0, 0) else { return i64::MAX };
    let as_utc = midnight.and_utc().timestamp_millis();
    // Local midnight is 13:00 or 14:00 UTC the day before, never within an hour of a change
    // (16:00 UTC): the offset at `as_utc - 10 h` is the offset at local midnight.
    as_utc - sydney_offset_ms(as_utc - 10 * HOUR_MS)
}

/// Whose local dates an Australian ledger's events are on: Sydney's (the default), or the
/// Australian zone the ledger's `timezone` setting names (`Australia/Perth`,
/// `Australia/Adelaide`, `Australia/Brisbane`…: a resident dates events by their own local
/// time). A setting outside Australia is not used (the report says so).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuZone {
    /// Sydney time, by the rules above (exact for every year `--year` takes).
    Sydney,
    /// Another Australian zone, by the tz database.
    Local(Zone),
}

impl AuZone {
    /// The zone of a ledger whose `timezone` setting is `zone` (UTC: none set).
    pub fn of(zone: Zone) -> AuZone {
        if zone.name().starts_with("Australia/") && zone.name() != "Australia/Sydney" {
            AuZone::Local(zone)
        } else {
            AuZone::Sydney
        }
    }

    /// The zone's name: `Australia/Sydney`, `Australia/Perth`.
    pub fn name(self) -> &'static str {
        match self {
            AuZone::Sydney => "Australia/Sydney",
            AuZone::Local(zone) => zone.name(),
        }
    }

    /// The local calendar date of an instant (UTC ms).
    pub fn date(self, utc_ms: i64) -> NaiveDate {
        match self {
            AuZone::Sydney => au_date(utc_ms),
            AuZone::Local(zone) => zone.date(utc_ms),
        }
    }

    /// The first instant (UTC ms) of a local calendar date.
    pub fn midnight_ms(self, date: NaiveDate) -> i64 {
        match self {
            AuZone::Sydney => au_midnight_ms(date),
            AuZone::Local(zone) => zone.day_start_ms(date),
        }
    }
}

/// The financial year a date falls in, named by the calendar year it ends in (2025 = 2024-25).
pub fn financial_year_of(date: NaiveDate) -> i32 {
    if date.month() >= 7 { date.year() + 1 } else { date.year() }
}

/// 1 July of `year - 1`: the first day of financial year `year`.
pub fn first_day(year: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year - 1, 7, 1).unwrap_or(NaiveDate::MIN)
}

/// 30 June of `year`: the last day of financial year `year`.
pub fn last_day(year: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, 6, 30).unwrap_or(NaiveDate::MAX)
}

/// The financial year's name: `2024-25`.
pub fn label(year: i32) -> String {
    format!("{}-{:02}", year - 1, year.rem_euclid(100))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(text: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(text).unwrap().timestamp_millis()
    }

    #[test]
    fn daylight_saving_starts_in_october_and_ends_in_april() {
        // 2024: AEDT ends Sunday 7 April (16:00 UTC on the 6th), starts Sunday 6 October
        // (16:00 UTC on the 5th).
        assert_eq!(sydney_offset_ms(ms("2024-04-06T15:59:59Z")), 11 * HOUR_MS);
        assert_eq!(sydney_offset_ms(ms("2024-04-06T16:00:00Z")), 10 * HOUR_MS);
        assert_eq!(sydney_offset_ms(ms("2024-10-05T15:59:59Z")), 10 * HOUR_MS);
        assert_eq!(sydney_offset_ms(ms("2024-10-05T16:00:00Z")), 11 * HOUR_MS);
        assert_eq!(sydney_offset_ms(ms("2025-01-15T00:00:00Z")), 11 * HOUR_MS);
    }

    #[test]
    fn the_sydney_date_is_ahead_of_utc_by_ten_or_eleven_hours() {
        assert_eq!(au_date(ms("2024-06-30T13:59:59Z")).to_string(), "2024-06-30");
        assert_eq!(au_date(ms("2024-06-30T14:00:00Z")).to_string(), "2024-07-01");
        assert_eq!(au_date(ms("2024-12-31T12:59:59Z")).to_string(), "2024-12-31");
        assert_eq!(au_date(ms("2024-12-31T13:00:00Z")).to_string(), "2025-01-01");
    }

    #[test]
    fn midnight_round_trips_in_winter_and_summer() {
        for text in ["2024-07-01", "2025-01-01", "2024-10-06", "2024-04-07"] {
            let d: NaiveDate = text.parse().unwrap();
            assert_eq!(au_date(au_midnight_ms(d)), d, "{text}");
            assert_eq!(au_date(au_midnight_ms(d) - 1), d.pred_opt().unwrap(), "{text}");
        }
        assert_eq!(au_midnight_ms("2024-07-01".parse().unwrap()), ms("2024-06-30T14:00:00Z"));
    }

    #[test]
    fn year_2025_is_2024_25_from_1_july_to_30_june() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(
            (first_day(2025), last_day(2025), label(2025)),
            (d("2024-07-01"), d("2025-06-30"), "2024-25".into())
        );
        assert_eq!(financial_year_of(d("2024-06-30")), 2024);
        assert_eq!(financial_year_of(d("2024-07-01")), 2025);
        assert_eq!(label(2100), "2099-00");
    }
}

//! The ledger's time zone (`timezone` setting, an IANA name such as `America/New_York`): the
//! local calendar that US tax years, holding periods and printed dates follow.
//!
//! The IRS counts a holding period in days ("begin counting on the day after you acquired the
//! property", Pub. 544, ch. 4, <https://www.irs.gov/publications/p544>) and dates each sale
//! on the day it happened (Form 8949 columns (b) and (c),
//! <https://www.irs.gov/instructions/i8949>): the taxpayer's own calendar day, not UTC's.
//! cointally stores every time in UTC; this turns those instants into local dates. The UK,
//! Australian and German rules keep their own legal calendars (London, Sydney, Berlin) and
//! ignore the setting; Canada's calendar year follows it.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use cointally_exchanges::time::{TimeError, parse_utc};

use crate::ledger::{Ledger, LedgerError};

/// The settings key.
pub const TIMEZONE_SETTING: &str = "timezone";

/// The layouts [`Zone::parse_time`] accepts in a zone other than UTC, for error messages.
pub const LOCAL_LAYOUTS: &str = "RFC 3339 like 2025-01-15T10:30:00Z or 2025-01-15T10:30:00-05:00, or 2025-01-15 10:30:00 (or a date) in the ledger's time zone";

/// Date-and-time layouts without an offset, read as local time.
const NAIVE_LAYOUTS: [&str; 4] = ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"];

/// A time zone from the IANA database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zone(Tz);

/// A zone name the IANA database does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name:?} is not an IANA time zone name: give Area/City as in America/New_York, Europe/Berlin or UTC")]
pub struct UnknownZone {
    /// The name given.
    pub name: String,
}

impl Default for Zone {
    fn default() -> Self {
        Zone::UTC
    }
}

impl std::str::FromStr for Zone {
    type Err = UnknownZone;

    fn from_str(name: &str) -> Result<Zone, UnknownZone> {
        name.trim().parse::<Tz>().map(Zone).map_err(|_| UnknownZone { name: name.to_owned() })
    }
}

impl Zone {
    /// UTC, the default of every ledger.
    pub const UTC: Zone = Zone(Tz::UTC);

    /// The IANA name (as stored in the settings and written in manifests).
    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// Whether this is UTC (the zone every ledger had before the setting existed).
    pub fn is_utc(self) -> bool {
        self == Zone::UTC
    }

    /// The ledger's zone: its `timezone` setting, UTC when unset.
    pub fn of_ledger(ledger: &Ledger) -> Result<Zone, LedgerError> {
        match ledger.setting(TIMEZONE_SETTING)? {
            None => Ok(Zone::UTC),
            Some(name) => name.parse().map_err(|e: UnknownZone| LedgerError::Corrupt(format!("setting timezone: {e}"))),
        }
    }

    /// The local date and time of an instant (UTC ms; out-of-range times are the epoch).
    pub fn local(self, time_ms: i64) -> DateTime<Tz> {
        DateTime::from_timestamp_millis(time_ms).unwrap_or_default().with_timezone(&self.0)
    }

    /// The local calendar date of an instant (UTC ms).
    pub fn date(self, time_ms: i64) -> NaiveDate {
        // UTC, every ledger's default, by days since the epoch: the zone lookup was a tenth of
        // a year's lots (each disposal's term compares two dates). Day 719,163 of the common
        // era is 1970-01-01.
        if self.is_utc() {
            let day = i32::try_from(time_ms.div_euclid(86_400_000)).ok().and_then(|d| d.checked_add(719_163));
            if let Some(date) = day.and_then(NaiveDate::from_num_days_from_ce_opt) {
                return date;
            }
        }
        match DateTime::from_timestamp_millis(time_ms) {
            Some(t) => t.with_timezone(&self.0).date_naive(),
            None => NaiveDate::MIN,
        }
    }

    /// The local calendar year of an instant (UTC ms).
    pub fn year(self, time_ms: i64) -> i32 {
        self.date(time_ms).year()
    }

    /// The offset of local time from UTC at `time_ms`, in ms.
    pub fn offset_ms(self, time_ms: i64) -> i64 {
        use chrono::Offset;
        let offset =
            self.0.offset_from_utc_datetime(&DateTime::from_timestamp_millis(time_ms).unwrap_or_default().naive_utc());
        i64::from(offset.fix().local_minus_utc()) * 1000
    }

    /// The first instant (UTC ms) of local 1 January of `year`; where midnight does not exist
    /// locally (a clock change at midnight), the first instant of that day that does.
    pub fn year_start_ms(self, year: i32) -> i64 {
        match NaiveDate::from_ymd_opt(year, 1, 1) {
            Some(day) => self.day_start_ms(day),
            None => super::year_start_ms(year),
        }
    }

    /// The first instant (UTC ms) of the local calendar day `day` (its midnight, or where a
    /// clock change skips midnight, the first whole hour of that day that exists).
    pub fn day_start_ms(self, day: NaiveDate) -> i64 {
        let utc_midnight = day.and_hms_opt(0, 0, 0).map_or(i64::MIN, |t| t.and_utc().timestamp_millis());
        if self.is_utc() {
            return utc_midnight;
        }
        (0..24)
            .filter_map(|hour| day.and_hms_opt(hour, 0, 0))
            .find_map(|local| self.0.from_local_datetime(&local).earliest())
            .map_or(utc_midnight, |t| t.timestamp_millis())
    }

    /// The instant of a time as a person writes it: with an offset (`Z`, `+01:00`, ` UTC`) as
    /// given; a date and time without one as the local time of this zone (in a summer-time
    /// gap, the instant an hour later by the clock; where the clock goes back, the first of
    /// the two); a bare date as its local midnight. In UTC exactly what
    /// [`parse_utc`] reads.
    pub fn parse_time(self, text: &str) -> Result<DateTime<Utc>, TimeError> {
        if self.is_utc() {
            return parse_utc(text);
        }
        let trimmed = text.trim();
        let local = NAIVE_LAYOUTS
            .iter()
            .find_map(|layout| NaiveDateTime::parse_from_str(trimmed, layout).ok())
            .or_else(|| NaiveDate::parse_from_str(trimmed, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)));
        if let Some(local) = local.filter(|t| (1..=9999).contains(&t.year())) {
            let instant = self
                .0
                .from_local_datetime(&local)
                .earliest()
                .or_else(|| self.0.from_local_datetime(&(local + Duration::hours(1))).earliest());
            if let Some(instant) = instant {
                return Ok(instant.with_timezone(&Utc));
            }
        }
        parse_utc(text).map_err(|e| TimeError { text: e.text, expected: LOCAL_LAYOUTS })
    }

    /// The local date and time of an instant as RFC 3339 with its offset
    /// (`2025-12-31T20:00:00-05:00`; `Z` in UTC), milliseconds only when there are some.
    pub fn rfc3339(self, time_ms: i64) -> String {
        if self.is_utc() {
            return cointally_exchanges::time::format_rfc3339(cointally_exchanges::time::from_millis(time_ms));
        }
        let local = self.local(time_ms);
        let layout = if time_ms.rem_euclid(1000) == 0 { "%Y-%m-%dT%H:%M:%S%:z" } else { "%Y-%m-%dT%H:%M:%S%.3f%:z" };
        local.format(layout).to_string()
    }

    /// The instant (UTC ms) US lots start to be tracked wallet by wallet: local midnight
    /// starting 1 January 2025. Treas. Reg. §1.1012-1(j) applies to dispositions on or after
    /// 1 January 2025, and Rev. Proc. 2024-28 allocates the unused basis to the units each
    /// wallet holds "as of January 1, 2025", which it defines (per the practitioner summary
    /// <https://chainwisecpa.com/?p=1030>; the IRB text was not read) as immediately after the
    /// close of the taxpayer's day on 31 December 2024 — the taxpayer's own calendar, the one
    /// the tax year's bounds follow: every 2024 sale (by the ledger's zone) is under the
    /// universal rule and every 2025 sale per wallet.
    pub fn per_wallet_from_ms(self) -> i64 {
        self.year_start_ms(2025)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(text: &str) -> i64 {
        cointally_exchanges::time::parse_utc(text).unwrap().timestamp_millis()
    }

    /// The UTC shortcut gives chrono's date for every instant, the far ends included.
    #[test]
    fn a_utc_date_is_chronos_date() {
        let chrono = |t: i64| DateTime::from_timestamp_millis(t).map_or(NaiveDate::MIN, |d| d.date_naive());
        let ends = [i64::MIN, i64::MAX, -1, 0, 1, 86_399_999, 86_400_000, -86_400_000, -86_400_001];
        let edges =
            [NaiveDate::MIN, NaiveDate::MAX].map(|d| d.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp_millis());
        for t in ends.into_iter().chain(edges.iter().flat_map(|&e| [e - 1, e, e + 1, e + 86_399_999, e + 86_400_000])) {
            assert_eq!(Zone::UTC.date(t), chrono(t), "{t}");
        }
        proptest::proptest!(|(t in proptest::num::i64::ANY, near in -4_102_444_800_000i64..4_102_444_800_000)| {
            proptest::prop_assert_eq!(Zone::UTC.date(t), chrono(t));
            proptest::prop_assert_eq!(Zone::UTC.date(near), chrono(near));
        });
    }

    /// chrono-tz's table holds the summer-time changes through 2099 (in 2100, the last year
    /// `--year` takes, a zone keeps its standard time all year: documented in the README).
    #[test]
    fn summer_time_is_known_through_2099() {
        let ny: Zone = "America/New_York".parse().unwrap();
        let london: Zone = "Europe/London".parse().unwrap();
        for year in 2009..=2099 {
            let july = ms(&format!("{year}-07-01T12:00:00Z"));
            let january = ms(&format!("{year}-01-15T12:00:00Z"));
            assert_eq!(ny.offset_ms(july), -4 * 3_600_000, "{year}");
            assert_eq!(ny.offset_ms(january), -5 * 3_600_000, "{year}");
            assert_eq!(london.offset_ms(july), 3_600_000, "{year}");
            assert_eq!(london.offset_ms(january), 0, "{year}");
        }
    }

    #[test]
    fn times_without_an_offset_are_local() {
        let ny: Zone = "America/New_York".parse().unwrap();
        let at = |zone: Zone, text: &str| zone.parse_time(text).unwrap().timestamp_millis();
        assert_eq!(at(ny, "2025-12-31 20:00:00"), ms("2026-01-01T01:00:00Z"));
        assert_eq!(at(ny, "2025-07-01T20:00"), ms("2025-07-02T00:00:00Z"));
        assert_eq!(at(ny, "2025-07-01"), ms("2025-07-01T04:00:00Z"));
        // An offset or Z is kept, whatever the zone; UTC reads as before.
        assert_eq!(at(ny, "2025-12-31T20:00:00Z"), ms("2025-12-31T20:00:00Z"));
        assert_eq!(at(ny, "2025-12-31T20:00:00+01:00"), ms("2025-12-31T19:00:00Z"));
        assert_eq!(at(ny, "2025-12-31 20:00:00 UTC"), ms("2025-12-31T20:00:00Z"));
        assert_eq!(at(Zone::UTC, "2025-12-31 20:00:00"), ms("2025-12-31T20:00:00Z"));
        // 02:30 on 9 March 2025 does not exist in New York (clocks go 02:00 → 03:00): read as
        // 03:30 EDT; 01:30 on 2 November 2025 happens twice: the first (EDT).
        assert_eq!(at(ny, "2025-03-09 02:30:00"), ms("2025-03-09T07:30:00Z"));
        assert_eq!(at(ny, "2025-11-02 01:30:00"), ms("2025-11-02T05:30:00Z"));
        let err = ny.parse_time("31/12/2025").unwrap_err();
        assert_eq!(err.expected, LOCAL_LAYOUTS);
        assert_eq!(ny.rfc3339(ms("2026-01-01T01:00:00Z")), "2025-12-31T20:00:00-05:00");
        assert_eq!(Zone::UTC.rfc3339(ms("2026-01-01T01:00:00Z")), "2026-01-01T01:00:00Z");
    }

    #[test]
    fn names_are_checked() {
        assert_eq!("America/New_York".parse::<Zone>().unwrap().name(), "America/New_York");
        assert_eq!("UTC".parse::<Zone>().unwrap(), Zone::UTC);
        let err = "Mars/Olympus".parse::<Zone>().unwrap_err().to_string();
        assert!(err.contains("Mars/Olympus") && err.contains("America/New_York"), "{err}");
    }

    #[test]
    fn a_new_york_evening_is_the_day_before_in_utc() {
        let ny: Zone = "America/New_York".parse().unwrap();
        let t = ms("2026-01-01T01:00:00Z"); // 2025-12-31 20:00 EST
        assert_eq!(ny.date(t).to_string(), "2025-12-31");
        assert_eq!(ny.year(t), 2025);
        assert_eq!(Zone::UTC.year(t), 2026);
        // Local midnight of 1 January 2026 is 05:00 UTC (EST, UTC−5).
        assert_eq!(ny.year_start_ms(2026), ms("2026-01-01T05:00:00Z"));
        assert_eq!(Zone::UTC.year_start_ms(2026), ms("2026-01-01T00:00:00Z"));
        // East of UTC the local year starts the evening before.
        let tokyo: Zone = "Asia/Tokyo".parse().unwrap();
        assert_eq!(tokyo.year_start_ms(2026), ms("2025-12-31T15:00:00Z"));
        // Any day: 1 July is in summer time (EDT, UTC−4).
        let july = NaiveDate::from_ymd_opt(2025, 7, 1).unwrap();
        assert_eq!(ny.day_start_ms(july), ms("2025-07-01T04:00:00Z"));
        assert_eq!(Zone::UTC.day_start_ms(july), ms("2025-07-01T00:00:00Z"));
        assert_eq!(ny.per_wallet_from_ms(), ms("2025-01-01T05:00:00Z"));
        assert_eq!(Zone::UTC.per_wallet_from_ms(), crate::tax::engine::US_PER_WALLET_FROM_MS);
    }
}

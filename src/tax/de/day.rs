//! German dates: the Berlin calendar day of an instant, and the one-year period of § 23 EStG.
//!
//! Germany's tax year is the calendar year (§ 25 Abs. 1 EStG) and its dates are local:
//! Central European Time (UTC+1), and summer time (UTC+2) from 01:00 UTC on the last Sunday
//! of March to 01:00 UTC on the last Sunday of October (Directive 2000/84/EC, Art. 1–3,
//! <https://eur-lex.europa.eu/eli/dir/2000/84/oj>; in Germany the Sommerzeitverordnung). The
//! changes happen at the same instants as the UK's, so Berlin's offset is London's plus one
//! hour ([`crate::tax::uk::day::london_offset_ms`]).
//!
//! The one-year period ("zwischen Anschaffung und Veräußerung nicht mehr als ein Jahr", § 23
//! Abs. 1 Satz 1 Nr. 2 EStG, <https://www.gesetze-im-internet.de/estg/__23.html>) is counted
//! by §§ 187 Abs. 1 and 188 Abs. 2 BGB (<https://www.gesetze-im-internet.de/bgb/__188.html>):
//! the day of acquisition is not counted, and the year ends with the day a year later that
//! has the same number (the last day of February when that day does not exist, § 188 Abs. 3).
//! Units bought on 10 January 2024 are still within the year when sold on 10 January 2025 and
//! free from 11 January 2025.

use chrono::{DateTime, Datelike, NaiveDate};

const HOUR_MS: i64 = 3_600_000;

/// The offset of German local time from UTC at `utc_ms`: one hour, two in summer time.
pub fn berlin_offset_ms(utc_ms: i64) -> i64 {
    HOUR_MS + crate::tax::uk::day::london_offset_ms(utc_ms)
}

/// The German calendar date of an instant.
pub fn berlin_date(utc_ms: i64) -> NaiveDate {
    let local = utc_ms.saturating_add(berlin_offset_ms(utc_ms));
    DateTime::from_timestamp_millis(local).map(|t| t.date_naive()).unwrap_or(NaiveDate::MIN)
}

/// The first instant (UTC ms) of a German calendar date.
pub fn berlin_midnight_ms(date: NaiveDate) -> i64 {
    let Some(midnight) = date.and_hms_opt(0, 0, 0) else { return i64::MAX };
    let as_utc = midnight.and_utc().timestamp_millis();
    // Local midnight is 22:00 or 23:00 UTC the day before; the offset changes only at 01:00
    // UTC, so the offset two hours before `as_utc` is the offset at local midnight.
    as_utc - berlin_offset_ms(as_utc - 2 * HOUR_MS)
}

/// The last day of the one-year period that starts with an acquisition on `acquired`
/// (§ 188 Abs. 2 and 3 BGB).
pub fn period_end(acquired: NaiveDate) -> NaiveDate {
    let year = acquired.year().saturating_add(1);
    NaiveDate::from_ymd_opt(year, acquired.month(), acquired.day())
        .or_else(|| NaiveDate::from_ymd_opt(year, acquired.month() + 1, 1).and_then(|d| d.pred_opt()))
        .unwrap_or(NaiveDate::MAX)
}

/// Units acquired at `acquired_ms` and disposed of at `disposed_ms` were held more than one
/// year: the disposal is not a private sale (§ 23 Abs. 1 Satz 1 Nr. 2 EStG).
pub fn held_more_than_one_year(acquired_ms: i64, disposed_ms: i64) -> bool {
    berlin_date(disposed_ms) > period_end(berlin_date(acquired_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(text: &str) -> i64 {
        DateTime::parse_from_rfc3339(text).unwrap().timestamp_millis()
    }

    fn d(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn berlin_dates_follow_cet_and_summer_time() {
        assert_eq!(berlin_date(ms("2024-12-31T22:59:59Z")), d("2024-12-31"));
        assert_eq!(berlin_date(ms("2024-12-31T23:00:00Z")), d("2025-01-01"));
        assert_eq!(berlin_date(ms("2024-06-30T21:59:59Z")), d("2024-06-30"));
        assert_eq!(berlin_date(ms("2024-06-30T22:00:00Z")), d("2024-07-01"));
        // Summer time 2024: 31 March 01:00 UTC to 27 October 01:00 UTC.
        assert_eq!(berlin_offset_ms(ms("2024-03-31T00:59:59Z")), HOUR_MS);
        assert_eq!(berlin_offset_ms(ms("2024-03-31T01:00:00Z")), 2 * HOUR_MS);
        assert_eq!(berlin_offset_ms(ms("2024-10-27T00:59:59Z")), 2 * HOUR_MS);
        assert_eq!(berlin_offset_ms(ms("2024-10-27T01:00:00Z")), HOUR_MS);
    }

    #[test]
    fn midnight_is_23_00_utc_in_winter_and_22_00_utc_in_summer() {
        assert_eq!(berlin_midnight_ms(d("2025-01-01")), ms("2024-12-31T23:00:00Z"));
        assert_eq!(berlin_midnight_ms(d("2024-07-01")), ms("2024-06-30T22:00:00Z"));
        for day in ["2024-03-31", "2024-04-01", "2024-10-27", "2024-10-28"] {
            let date = d(day);
            assert_eq!(berlin_date(berlin_midnight_ms(date)), date, "{day}");
            assert_eq!(berlin_date(berlin_midnight_ms(date) - 1), date.pred_opt().unwrap(), "{day}");
        }
    }

    /// § 188 BGB: the year ends on the same day number a year later; 29 February ends on 28
    /// February (there is no 29th); 28 February 2023 ends on 28 February 2024 (not the 29th).
    #[test]
    fn the_one_year_period_of_section_188_bgb() {
        let cases = [
            ("2024-01-10T12:00:00Z", "2025-01-10T12:00:00Z", false),
            ("2024-01-10T12:00:00Z", "2025-01-11T12:00:00Z", true),
            ("2024-02-29T12:00:00Z", "2025-02-28T12:00:00Z", false),
            ("2024-02-29T12:00:00Z", "2025-03-01T12:00:00Z", true),
            ("2023-02-28T12:00:00Z", "2024-02-28T12:00:00Z", false),
            ("2023-02-28T12:00:00Z", "2024-02-29T12:00:00Z", true),
            // Bought 23:30 UTC on 9 January = 10 January in Berlin: 10 January 2025 is inside.
            ("2024-01-09T23:30:00Z", "2025-01-10T12:00:00Z", false),
            // Sold 23:30 UTC on 10 January = 11 January in Berlin: free.
            ("2024-01-10T12:00:00Z", "2025-01-10T23:30:00Z", true),
        ];
        for (acquired, disposed, free) in cases {
            assert_eq!(held_more_than_one_year(ms(acquired), ms(disposed)), free, "{acquired} → {disposed}");
        }
        assert_eq!(period_end(d("2024-12-31")), d("2025-12-31"));
    }
}

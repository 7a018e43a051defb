//! The UK calendar day of an instant, and the UK tax year.
//!
//! HMRC's matching rules work by day ("acquired on the same day", "within 30 days"), and the
//! day is taken as the UK calendar date: Greenwich Mean Time in winter, British Summer Time
//! (GMT+1) from 01:00 GMT on the last Sunday of March to 01:00 GMT on the last Sunday of
//! October (The Summer Time Order 2002, <https://www.legislation.gov.uk/uksi/2002/262>). The
//! tax year runs from 6 April to 5 April (Income Tax Act 2007 s4,
//! <https://www.legislation.gov.uk/ukpga/2007/3/section/4>).

use chrono::{Datelike, Duration, NaiveDate, Weekday};

const HOUR_MS: i64 = 3_600_000;

/// The last Sunday of `month` in `year`, at 01:00 GMT, in UTC ms.
fn last_sunday_one_am_gmt(year: i32, month: u32) -> i64 {
    let next_month = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
    let Some(first_of_next) = NaiveDate::from_ymd_opt(next_month.0, next_month.1, 1) else {
        return i64::MAX;
    };
    let mut day = first_of_next - Duration::days(1);
    while day.weekday() != Weekday::Sun {
        day -= Duration::days(1);
    }
    day.and_hms_opt(1, 0, 0).map(|t| t.and_utc().timestamp_millis()).unwrap_or(i64::MAX)
}

/// The offset of UK local time from UTC at `utc_ms`: one hour in British Summer Time.
pub fn london_offset_ms(utc_ms: i64) -> i64 {
    let Some(utc) = chrono::DateTime::from_timestamp_millis(utc_ms) else { return 0 };
    let year = utc.year();
    let summer = last_sunday_one_am_gmt(year, 3)..last_sunday_one_am_gmt(year, 10);
    if summer.contains(&utc_ms) { HOUR_MS } else { 0 }
}

/// The UK calendar date of an instant.
pub fn uk_date(utc_ms: i64) -> NaiveDate {
    let local = utc_ms.saturating_add(london_offset_ms(utc_ms));
    chrono::DateTime::from_timestamp_millis(local).map(|t| t.date_naive()).unwrap_or(NaiveDate::MIN)
}

/// A day as a number (days since 1970-01-01), for the matching rules' arithmetic.
pub fn day_number(date: NaiveDate) -> i64 {
    date.signed_duration_since(NaiveDate::default()).num_days()
}

/// The date of a day number.
pub fn date_of(day: i64) -> NaiveDate {
    NaiveDate::default().checked_add_signed(Duration::days(day)).unwrap_or(NaiveDate::MAX)
}

/// The first instant (UTC ms) of a UK calendar date.
pub fn uk_midnight_ms(date: NaiveDate) -> i64 {
    let Some(midnight) = date.and_hms_opt(0, 0, 0) else { return i64::MAX };
    let as_utc = midnight.and_utc().timestamp_millis();
    // Midnight is never inside a change (they happen at 01:00 GMT), so the offset an hour
    // before that instant in UTC terms is the offset at local midnight.
    as_utc - london_offset_ms(as_utc - HOUR_MS)
}

/// The UK tax year a date falls in, named by the calendar year it starts in (2024 = 2024/25).
pub fn tax_year_of(date: NaiveDate) -> i32 {
    let start = NaiveDate::from_ymd_opt(date.year(), 4, 6).unwrap_or(NaiveDate::MIN);
    if date >= start { date.year() } else { date.year() - 1 }
}

/// 6 April of `year` (the first day of tax year `year`/`year + 1`).
pub fn tax_year_first_day(year: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, 4, 6).unwrap_or(NaiveDate::MIN)
}

/// 5 April of `year + 1` (the last day of tax year `year`/`year + 1`).
pub fn tax_year_last_day(year: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year + 1, 4, 5).unwrap_or(NaiveDate::MAX)
}

/// The tax year's name: `2024/25`.
pub fn tax_year_label(year: i32) -> String {
    format!("{year}/{:02}", (year + 1).rem_euclid(100))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(text: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(text).unwrap().timestamp_millis()
    }

    #[test]
    fn summer_time_moves_the_day_after_23_00_utc() {
        // BST 2024: 31 March 01:00 GMT to 27 October 01:00 GMT.
        assert_eq!(uk_date(ms("2024-06-30T23:30:00Z")).to_string(), "2024-07-01");
        assert_eq!(uk_date(ms("2024-12-31T23:30:00Z")).to_string(), "2024-12-31");
        assert_eq!(uk_date(ms("2024-03-31T00:59:59Z")).to_string(), "2024-03-31");
        assert_eq!(london_offset_ms(ms("2024-03-31T00:59:59Z")), 0);
        assert_eq!(london_offset_ms(ms("2024-03-31T01:00:00Z")), HOUR_MS);
        assert_eq!(london_offset_ms(ms("2024-10-27T00:59:59Z")), HOUR_MS);
        assert_eq!(london_offset_ms(ms("2024-10-27T01:00:00Z")), 0);
    }

    #[test]
    fn midnight_of_a_summer_day_is_23_00_utc_the_day_before() {
        let d = NaiveDate::from_ymd_opt(2024, 4, 6).unwrap();
        assert_eq!(uk_midnight_ms(d), ms("2024-04-05T23:00:00Z"));
        let w = NaiveDate::from_ymd_opt(2024, 1, 6).unwrap();
        assert_eq!(uk_midnight_ms(w), ms("2024-01-06T00:00:00Z"));
        assert_eq!(uk_date(uk_midnight_ms(d)), d);
        assert_eq!(uk_date(uk_midnight_ms(d) - 1), d.pred_opt().unwrap());
    }

    #[test]
    fn tax_years_start_on_6_april() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(tax_year_of(d(2024, 4, 5)), 2023);
        assert_eq!(tax_year_of(d(2024, 4, 6)), 2024);
        assert_eq!(tax_year_of(d(2025, 4, 5)), 2024);
        assert_eq!(tax_year_label(2024), "2024/25");
        assert_eq!(tax_year_label(2099), "2099/00");
        assert_eq!(day_number(date_of(19_000)), 19_000);
    }
}

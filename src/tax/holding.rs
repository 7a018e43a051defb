//! The holding period: long-term only when held more than one year (IRS Pub. 544).
//!
//! Counting starts the day after acquisition and includes the day of disposal, so units are
//! long-term from the day after the first anniversary of the acquisition date. The
//! anniversary of a month's last day is the last day of the same month a year later (28 Feb
//! 2023 → 29 Feb 2024; 29 Feb 2024 → 28 Feb 2025). Dates are UTC calendar dates: cointally
//! stores UTC and has no time zone per person, so a trade within hours of midnight near the
//! anniversary may fall on the other side in the taxpayer's local date (documented in the
//! README).

use chrono::{DateTime, Datelike, NaiveDate};

use crate::ledger::Term;

/// The UTC calendar date of a time in ms.
pub fn utc_date(time_ms: i64) -> NaiveDate {
    DateTime::from_timestamp_millis(time_ms).map(|t| t.date_naive()).unwrap_or(NaiveDate::MIN)
}

/// The date one year after `date`, month ends kept as month ends.
pub fn anniversary(date: NaiveDate) -> NaiveDate {
    let year = date.year() + 1;
    let is_month_end = date.succ_opt().is_none_or(|next| next.month() != date.month());
    if is_month_end {
        last_day_of(year, date.month())
    } else {
        NaiveDate::from_ymd_opt(year, date.month(), date.day()).unwrap_or_else(|| last_day_of(year, date.month()))
    }
}

fn last_day_of(year: i32, month: u32) -> NaiveDate {
    let (next_year, next_month) = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
    NaiveDate::from_ymd_opt(next_year, next_month, 1).and_then(|d| d.pred_opt()).unwrap_or(NaiveDate::MAX)
}

/// Short or long term for units acquired at `acquired_ms` and disposed of at `disposed_ms`.
pub fn term(acquired_ms: i64, disposed_ms: i64) -> Term {
    if utc_date(disposed_ms) > anniversary(utc_date(acquired_ms)) { Term::Long } else { Term::Short }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(date: &str) -> i64 {
        let d: NaiveDate = date.parse().unwrap();
        d.and_hms_opt(12, 0, 0).unwrap().and_utc().timestamp_millis()
    }

    /// Holding-period cases (the day after acquisition starts the count; more than one year is
    /// long term), and Pub. 544's example.
    #[test]
    fn the_reference_holding_period_table() {
        let cases = [
            ("2023-06-19", "2024-06-19", Term::Short),
            ("2023-06-19", "2024-06-20", Term::Long),
            ("2022-06-19", "2023-06-19", Term::Short),
            ("2024-02-29", "2025-02-28", Term::Short),
            ("2024-02-29", "2025-03-01", Term::Long),
            ("2023-02-28", "2024-02-29", Term::Short),
            ("2023-02-28", "2024-03-01", Term::Long),
            ("2023-06-15", "2024-06-15", Term::Short),
            ("2023-06-15", "2024-06-16", Term::Long),
            ("2023-06-15", "2024-06-17", Term::Long),
        ];
        for (acquired, disposed, want) in cases {
            assert_eq!(term(ms(acquired), ms(disposed)), want, "{acquired} → {disposed}");
        }
    }

    #[test]
    fn the_time_of_day_does_not_matter_only_the_date() {
        let bought = ms("2023-06-19") + 11 * 3_600_000; // 23:00 UTC
        let sold = ms("2024-06-20") - 12 * 3_600_000; // 00:00 UTC, the first long-term day
        assert_eq!(term(bought, sold), Term::Long);
        assert_eq!(term(bought, sold - 1), Term::Short);
    }

    #[test]
    fn month_ends_map_to_month_ends() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(anniversary(d("2023-02-28")), d("2024-02-29"));
        assert_eq!(anniversary(d("2024-02-29")), d("2025-02-28"));
        assert_eq!(anniversary(d("2023-04-30")), d("2024-04-30"));
        assert_eq!(anniversary(d("2023-12-31")), d("2024-12-31"));
        assert_eq!(anniversary(d("2023-01-30")), d("2024-01-30"));
    }
}

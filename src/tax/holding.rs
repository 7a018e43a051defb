//! The holding period: long-term only when held more than one year (IRS Pub. 544).
//!
//! Counting starts the day after acquisition and includes the day of disposal, so units are
//! long-term from the day after the first anniversary of the acquisition date. The
//! anniversary of a month's last day is the last day of the same month a year later (28 Feb
//! 2023 → 29 Feb 2024; 29 Feb 2024 → 28 Feb 2025). Dates are the local calendar dates of the
//! ledger's time zone ([`Zone`], the `timezone` setting, UTC by default): Pub. 544 ch. 4,
//! <https://www.irs.gov/publications/p544>: "To figure if you held property longer than 1
//! year, start counting on the day after the day you acquired the property. The day you
//! disposed of the property is part of your holding period."

use chrono::{DateTime, Datelike, NaiveDate};

use super::zone::Zone;
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

/// Short or long term for units acquired at `acquired_ms` and disposed of at `disposed_ms`,
/// counted on the local dates of `zone`.
pub fn term(zone: Zone, acquired_ms: i64, disposed_ms: i64) -> Term {
    if zone.date(disposed_ms) > anniversary(zone.date(acquired_ms)) { Term::Long } else { Term::Short }
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
            assert_eq!(term(Zone::UTC, ms(acquired), ms(disposed)), want, "{acquired} → {disposed}");
        }
    }

    #[test]
    fn the_time_of_day_does_not_matter_only_the_date() {
        let bought = ms("2023-06-19") + 11 * 3_600_000; // 23:00 UTC
        let sold = ms("2024-06-20") - 12 * 3_600_000; // 00:00 UTC, the first long-term day
        assert_eq!(term(Zone::UTC, bought, sold), Term::Long);
        assert_eq!(term(Zone::UTC, bought, sold - 1), Term::Short);
    }

    /// Pub. 544 counts days: in New York, bought 2024-06-19 21:00 local (01:00 UTC on the
    /// 20th) and sold 2025-06-20 09:00 local is long term (held from the day after 19 June);
    /// counted on UTC dates (bought the 20th) the same sale would be short term.
    #[test]
    fn the_holding_period_counts_local_dates() {
        let ny: Zone = "America/New_York".parse().unwrap();
        let utc = |s: &str| cointally_exchanges::time::parse_utc(s).unwrap().timestamp_millis();
        let bought = utc("2024-06-20T01:00:00Z"); // 2024-06-19 21:00 EDT
        let sold = utc("2025-06-20T13:00:00Z"); // 2025-06-20 09:00 EDT
        assert_eq!(term(ny, bought, sold), Term::Long);
        assert_eq!(term(Zone::UTC, bought, sold), Term::Short);
        // The day before in New York is the anniversary itself: short term in both.
        let sold_early = utc("2025-06-20T03:59:00Z"); // 2025-06-19 23:59 EDT
        assert_eq!(term(ny, bought, sold_early), Term::Short);
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

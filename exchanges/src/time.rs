//! Times from text: every timestamp from outside becomes a UTC instant here.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// A timestamp that none of the accepted layouts reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not a date and time (expected {expected})")]
pub struct TimeError {
    /// What was given.
    pub text: String,
    /// The layouts that would have been accepted.
    pub expected: &'static str,
}

/// The layouts [`parse_utc`] accepts, for error messages.
pub const UTC_LAYOUTS: &str = "RFC 3339 like 2025-01-15T10:30:00Z, or 2025-01-15 10:30:00 in UTC";

/// Parses the common timestamp layouts of exports and APIs as UTC:
/// RFC 3339 with any offset (`2025-01-15T10:30:00.123+01:00`), `YYYY-MM-DD HH:MM[:SS[.fff]]`
/// with an optional trailing ` UTC` or `Z`, and a bare date `YYYY-MM-DD` (midnight UTC).
pub fn parse_utc(text: &str) -> Result<DateTime<Utc>, TimeError> {
    parse_any_year(text).and_then(|t| within_years(t, text, UTC_LAYOUTS))
}

/// The years a time read from outside may fall in. chrono reads years up to ±262,143; a time
/// that near chrono's edge would make adding a window of seconds to it panic, and no real
/// record is dated outside years 1 to 9999.
const YEARS: std::ops::RangeInclusive<i32> = 1..=9999;

fn within_years(time: DateTime<Utc>, text: &str, expected: &'static str) -> Result<DateTime<Utc>, TimeError> {
    if YEARS.contains(&time.year()) { Ok(time) } else { Err(TimeError { text: text.to_string(), expected }) }
}

fn parse_any_year(text: &str) -> Result<DateTime<Utc>, TimeError> {
    let err = || TimeError { text: text.to_string(), expected: UTC_LAYOUTS };
    let trimmed = text.trim();
    if let Some(t) = parse_plain(trimmed) {
        return Ok(t);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(trimmed) {
        return Ok(t.with_timezone(&Utc));
    }
    let naive = trimmed
        .strip_suffix(" UTC")
        .or_else(|| trimmed.strip_suffix('Z'))
        .or_else(|| trimmed.strip_suffix(" +0000"))
        .unwrap_or(trimmed)
        .trim();
    for layout in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(naive, layout) {
            return Ok(Utc.from_utc_datetime(&t));
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(naive, "%Y-%m-%d") {
        return Ok(Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).ok_or_else(err)?));
    }
    Err(err())
}

/// The fast path for the most common layout, `YYYY-MM-DD HH:MM:SS` (or with `T`), read by
/// hand: files of a million rows spend most of their parsing time here otherwise.
fn parse_plain(text: &str) -> Option<DateTime<Utc>> {
    let b = text.as_bytes();
    if b.len() != 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b' ' | b'T') || b[13] != b':' || b[16] != b':'
    {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        b[range].iter().try_fold(0u32, |acc, d| d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0')))
    };
    let date = NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
    let time = date.and_hms_opt(num(11..13)?, num(14..16)?, num(17..19)?)?;
    Some(Utc.from_utc_datetime(&time))
}

/// Parses a timestamp with an explicit chrono layout, read as UTC.
pub fn parse_utc_with(text: &str, layout: &str, expected: &'static str) -> Result<DateTime<Utc>, TimeError> {
    NaiveDateTime::parse_from_str(text.trim(), layout)
        .map(|t| Utc.from_utc_datetime(&t))
        .map_err(|_| TimeError { text: text.to_string(), expected })
        .and_then(|t| within_years(t, text, expected))
}

/// Milliseconds since the Unix epoch: how the ledger stores time.
pub fn to_millis(time: DateTime<Utc>) -> i64 {
    time.timestamp_millis()
}

/// A Unix time that a source writes in seconds or in milliseconds, in milliseconds: values
/// below 10^11 (before 1973 as milliseconds, after 5138 as seconds) are taken as seconds.
pub fn seconds_or_millis(value: i64) -> i64 {
    if value.abs() < 100_000_000_000 { value.saturating_mul(1_000) } else { value }
}

/// The instant for milliseconds since the Unix epoch (clamped to chrono's range).
pub fn from_millis(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// RFC 3339 in UTC with milliseconds only when there are some (`2025-01-15T10:30:00Z`).
pub fn format_rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_common_layouts_as_utc() {
        let want = Utc.with_ymd_and_hms(2025, 1, 15, 10, 30, 0).unwrap();
        for text in [
            "2025-01-15T10:30:00Z",
            "2025-01-15T11:30:00+01:00",
            "2025-01-15 10:30:00",
            "2025-01-15 10:30:00 UTC",
            "2025-01-15 10:30",
            "2025-01-15T10:30:00",
        ] {
            assert_eq!(parse_utc(text).unwrap(), want, "{text}");
        }
        assert_eq!(parse_utc("2025-01-15").unwrap(), Utc.with_ymd_and_hms(2025, 1, 15, 0, 0, 0).unwrap());
        assert_eq!(to_millis(parse_utc("2025-01-15 10:30:00.123").unwrap()) % 1000, 123);
    }

    #[test]
    fn the_fast_path_agrees_with_chrono() {
        for text in ["2024-02-29 23:59:59", "1999-12-31T00:00:00", "2025-06-20 16:45:00"] {
            let chrono = NaiveDateTime::parse_from_str(&text.replace('T', " "), "%Y-%m-%d %H:%M:%S").unwrap();
            assert_eq!(parse_plain(text).unwrap(), Utc.from_utc_datetime(&chrono), "{text}");
        }
        for text in ["2023-02-29 00:00:00", "2025-01-01 24:00:00", "2025-1-01 00:00:000", "2025-01-01 0a:00:00"] {
            assert!(parse_plain(text).is_none(), "{text}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_time() {
        for bad in ["", "yesterday", "2025-13-01 00:00:00", "15/01/2025", "2025-02-30"] {
            assert!(parse_utc(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn refuses_years_outside_1_to_9999_so_adding_a_window_cannot_panic() {
        for far in ["+262143-12-31 23:59:59", "-262143-01-01 00:00:00", "0000-01-01 00:00:00", "+10000-01-01T00:00:00Z"]
        {
            assert!(parse_utc(far).is_err(), "{far}");
            assert!(parse_utc_with(far, "%Y-%m-%d %H:%M:%S", "x").is_err(), "{far}");
        }
        assert!(parse_utc("9999-12-31 23:59:59").is_ok());
        assert!(parse_utc("0001-01-01 00:00:00").is_ok());
    }

    #[test]
    fn formats_rfc3339_utc() {
        let t = parse_utc("2025-01-15 10:30:00").unwrap();
        assert_eq!(format_rfc3339(t), "2025-01-15T10:30:00Z");
        assert_eq!(format_rfc3339(from_millis(to_millis(t) + 5)), "2025-01-15T10:30:00.005Z");
    }
}

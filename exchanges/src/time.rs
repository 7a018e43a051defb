//! Times from text: every timestamp from outside becomes a UTC instant here.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};

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
    let err = || TimeError { text: text.to_string(), expected: UTC_LAYOUTS };
    let trimmed = text.trim();
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

/// Parses a timestamp with an explicit chrono layout, read as UTC.
pub fn parse_utc_with(text: &str, layout: &str, expected: &'static str) -> Result<DateTime<Utc>, TimeError> {
    NaiveDateTime::parse_from_str(text.trim(), layout)
        .map(|t| Utc.from_utc_datetime(&t))
        .map_err(|_| TimeError { text: text.to_string(), expected })
}

/// Milliseconds since the Unix epoch: how the ledger stores time.
pub fn to_millis(time: DateTime<Utc>) -> i64 {
    time.timestamp_millis()
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
    fn refuses_what_is_not_a_time() {
        for bad in ["", "yesterday", "2025-13-01 00:00:00", "15/01/2025", "2025-02-30"] {
            assert!(parse_utc(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn formats_rfc3339_utc() {
        let t = parse_utc("2025-01-15 10:30:00").unwrap();
        assert_eq!(format_rfc3339(t), "2025-01-15T10:30:00Z");
        assert_eq!(format_rfc3339(from_millis(to_millis(t) + 5)), "2025-01-15T10:30:00.005Z");
    }
}

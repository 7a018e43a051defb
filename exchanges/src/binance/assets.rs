//! Binance's own asset codes, mapped to the canonical symbols cointally uses.
//!
//! Binance mostly writes the usual tickers, upper case, and every API endpoint uses the same
//! codes, so this one table serves every stream. The exceptions are a few codes from its early
//! years and one rename whose meaning depends on the date:
//!
//! - `BCC` was Binance's code for Bitcoin Cash until late 2017 (`BCH` elsewhere); during the
//!   November 2018 fork it listed `BCHABC` (the chain that kept the name Bitcoin Cash, `BCH`)
//!   and `BCHSV` (Bitcoin SV, `BSV`).
//! - `YOYO` is YOYOW.
//! - `LUNA`: after Terra's collapse the old coin became Terra Classic (`LUNC`) and a new coin
//!   took the name `LUNA` on 2022-05-28. A `LUNA` record dated before that day is `LUNC`.
//!
//! Everything else is kept as written, upper case: `LDO` (Lido) is a real coin, not a Simple
//! Earn `LD…` mirror (those appear only in balances, where the adapter skips them).

/// Binance codes that always mean another canonical symbol, sorted by code.
pub const RENAMED: &[(&str, &str)] = &[("BCC", "BCH"), ("BCHABC", "BCH"), ("BCHSV", "BSV"), ("YOYO", "YOYOW")];

/// The first millisecond (2022-05-28T00:00:00Z) at which Binance's `LUNA` is the new Terra
/// coin; before it, `LUNA` is Terra Classic (`LUNC`).
pub const NEW_LUNA_FROM_MS: i64 = 1_653_696_000_000;

/// The canonical symbol of a Binance asset code seen in a record dated `time_ms`
/// (`BCC` → `BCH`, `LUNA` in 2021 → `LUNC`); any other code comes back trimmed, upper case.
pub fn asset(code: &str, time_ms: i64) -> String {
    let upper = code.trim().to_ascii_uppercase();
    if upper == "LUNA" && time_ms < NEW_LUNA_FROM_MS {
        return "LUNC".to_string();
    }
    match RENAMED.binary_search_by(|(from, _)| (*from).cmp(upper.as_str())) {
        Ok(i) => RENAMED[i].1.to_string(),
        Err(_) => upper,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{parse_utc, to_millis};

    fn ms(text: &str) -> i64 {
        to_millis(parse_utc(text).unwrap())
    }

    #[test]
    fn the_table_is_sorted() {
        assert!(RENAMED.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn old_codes_become_canonical() {
        let t = ms("2017-11-01 00:00:00");
        assert_eq!(asset("BCC", t), "BCH");
        assert_eq!(asset("bcc", t), "BCH");
        assert_eq!(asset("BCHABC", ms("2018-11-20 00:00:00")), "BCH");
        assert_eq!(asset("BCHSV", ms("2018-11-20 00:00:00")), "BSV");
        assert_eq!(asset("YOYO", t), "YOYOW");
    }

    #[test]
    fn luna_depends_on_the_date() {
        assert_eq!(NEW_LUNA_FROM_MS, ms("2022-05-28 00:00:00"));
        assert_eq!(asset("LUNA", ms("2021-06-24 10:18:39")), "LUNC");
        assert_eq!(asset("LUNA", NEW_LUNA_FROM_MS - 1), "LUNC");
        assert_eq!(asset("LUNA", NEW_LUNA_FROM_MS), "LUNA");
        assert_eq!(asset("LUNA", ms("2023-03-01 00:00:00")), "LUNA");
        assert_eq!(asset("LUNC", ms("2023-03-01 00:00:00")), "LUNC");
    }

    #[test]
    fn other_codes_stay_as_written() {
        let t = ms("2024-01-01 00:00:00");
        for code in ["LDO", "BTC", "BNB", "USDT", "EUR", "BCH", "1INCH"] {
            assert_eq!(asset(code, t), code);
        }
        assert_eq!(asset(" eth ", t), "ETH");
    }
}

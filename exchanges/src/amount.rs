//! Exact decimal amounts from text: every number from outside enters through here.

use rust_decimal::Decimal;

/// A number in a file or an API answer that is not an exact decimal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// The field was empty where a number is required.
    #[error("a number is required here but the field is empty")]
    Empty,
    /// The text is not a decimal number.
    #[error("{0:?} is not a decimal number{hint}", hint = comma_hint(.0))]
    NotANumber(String),
    /// The number has more digits than can be held exactly (28 significant digits).
    #[error("{0:?} has more digits than can be held exactly")]
    TooPrecise(String),
    /// The number's magnitude is at or above [`MAX_MAGNITUDE`].
    #[error("{0:?} is too large: amounts and prices must be below 10^20 in size")]
    TooLarge(String),
    /// The number has more decimal places than [`MAX_DECIMAL_PLACES`].
    #[error("{0:?} has more than 18 decimal places")]
    TooManyDecimals(String),
}

/// What to do about a number written with a comma (`1,5`, `1,000.5`): a decimal comma, as a
/// spreadsheet in such a locale writes it, or a thousands separator. Neither is guessed at:
/// `1,000` is a thousand in one locale and one in another.
fn comma_hint(text: &str) -> &'static str {
    if text.contains(',') && text.bytes().all(|b| b.is_ascii_digit() || matches!(b, b',' | b'.' | b'-' | b'+')) {
        ": write it with a point for decimals and no thousands separators (1.5, 1000.5)"
    } else {
        ""
    }
}

/// Every amount and price read must be smaller than this in size: 10^20.
///
/// Why this bound: the largest token supplies in circulation are below 10^18 units (Baby Doge
/// Coin, about 4.2 × 10^17; SHIB and PEPE below 10^15) and the largest fiat sums and prices of
/// any exchange are far below that, so no real amount reaches it. Against `Decimal`'s limit of
/// about 7.9 × 10^28 it leaves 8 orders of magnitude: adding or subtracting two parsed numbers
/// cannot overflow, and neither can a sum of fewer than 790 million of them. A *product* of
/// two parsed numbers (amount × price) or a quotient can still overflow, and those are
/// computed with checked arithmetic where they are made.
pub const MAX_MAGNITUDE: Decimal = Decimal::from_parts(1_661_992_960, 1_808_227_885, 5, false, 0);

/// The most decimal places an amount or price may have (after trailing zeros are dropped): 18.
///
/// Why this bound: the finest unit of any widely held asset is 10^-18 (Ethereum's wei and the
/// ERC-20 tokens that copy it); exchanges report at most 8 to 10 places. A finer number is not
/// a real amount but a garbled one, and refusing it keeps every product of two parsed
/// numbers within `Decimal`'s 28 places without rounding away a digit that mattered.
pub const MAX_DECIMAL_PLACES: u32 = 18;

/// Parses a decimal amount exactly: `12.5`, `-0.00000001`, `+3`, and exponent forms some
/// exchanges emit (`1E-8`). Thousands separators and currency symbols are refused here;
/// a format that has them strips them itself, on purpose.
///
/// A number of size [`MAX_MAGNITUDE`] (10^20) or more, or with more than
/// [`MAX_DECIMAL_PLACES`] (18) decimal places once trailing zeros are dropped, is refused
/// with an error saying which bound and what the text was: see those constants for why.
pub fn parse_amount(text: &str) -> Result<Decimal, AmountError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(AmountError::Empty);
    }
    let valid = text.bytes().enumerate().all(|(i, b)| {
        b.is_ascii_digit()
            || b == b'.'
            || ((b == b'-' || b == b'+') && (i == 0 || matches!(text.as_bytes()[i - 1], b'e' | b'E')))
            || b == b'e'
            || b == b'E'
    }) && text.bytes().any(|b| b.is_ascii_digit());
    if !valid {
        return Err(AmountError::NotANumber(text.to_string()));
    }
    let parsed = if text.contains(['e', 'E']) {
        Decimal::from_scientific(text)
    } else {
        Decimal::from_str_exact(text.strip_prefix('+').unwrap_or(text))
    };
    match parsed {
        Ok(value) => {
            let value = value.normalize();
            if value.abs() >= MAX_MAGNITUDE {
                Err(AmountError::TooLarge(text.to_string()))
            } else if value.scale() > MAX_DECIMAL_PLACES {
                Err(AmountError::TooManyDecimals(text.to_string()))
            } else {
                Ok(value)
            }
        }
        // A well-formed number `Decimal` cannot hold is refused for the bound it breaks, not as
        // "not a number" (a 35-digit integer is a number, just far too large).
        Err(_) => Err(out_of_range(text).unwrap_or_else(|| AmountError::NotANumber(text.to_string()))),
    }
}

/// Which bound a well-formed decimal text breaks when `Decimal` cannot parse it: its size
/// ([`MAX_MAGNITUDE`]), its decimal places ([`MAX_DECIMAL_PLACES`]), else its digits (more than
/// 28 significant ones). `None` when the text is not a well-formed number (`1.2.3`, `1e`).
fn out_of_range(text: &str) -> Option<AmountError> {
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => {
            let digits = exponent.strip_prefix(['-', '+']).unwrap_or(exponent);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            // An exponent too long for an i64 is far beyond either bound anyway.
            let exponent =
                exponent.parse::<i64>().unwrap_or(if exponent.starts_with('-') { i64::MIN } else { i64::MAX });
            (mantissa, exponent)
        }
        None => (unsigned, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits_only = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !digits_only(whole) || !digits_only(fraction) {
        return None;
    }
    // The value is SIGNIFICANT × 10^power, SIGNIFICANT without leading or trailing zeros.
    let all: String = [whole, fraction].concat();
    let significant = all.trim_start_matches('0').trim_end_matches('0');
    if significant.is_empty() {
        return None;
    }
    let trailing = all.trim_end_matches('0').len();
    let power = exponent.saturating_sub(fraction.len() as i64).saturating_add((all.len() - trailing) as i64);
    let text = text.to_string();
    Some(if (significant.len() as i64).saturating_add(power) > 20 {
        AmountError::TooLarge(text)
    } else if power < -i64::from(MAX_DECIMAL_PLACES) {
        AmountError::TooManyDecimals(text)
    } else {
        AmountError::TooPrecise(text)
    })
}

/// Parses an optional amount: an empty field is `None`.
pub fn parse_optional_amount(text: &str) -> Result<Option<Decimal>, AmountError> {
    if text.trim().is_empty() { Ok(None) } else { parse_amount(text).map(Some) }
}

/// Writes a decimal as plain text with no exponent and no trailing zeros (`0.5`, `-12`).
pub fn format_amount(value: Decimal) -> String {
    value.normalize().to_string()
}

/// Writes the text [`format_amount`] gives for `value` at the end of `out`, without
/// allocating (the rows of a computed year are a million of these).
pub fn write_amount(out: &mut String, value: Decimal) {
    let value = value.normalize();
    let mantissa = value.mantissa();
    if mantissa == 0 {
        out.push('0');
        return;
    }
    // The mantissa's digits, most significant first (at most 29: 96 bits).
    let mut buffer = itoa::Buffer::new();
    let digits = buffer.format(mantissa.unsigned_abs());
    let scale = value.scale() as usize;
    if mantissa < 0 {
        out.push('-');
    }
    if scale >= digits.len() {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', scale - digits.len()));
        out.push_str(digits);
    } else if scale == 0 {
        out.push_str(digits);
    } else {
        let (whole, fraction) = digits.split_at(digits.len() - scale);
        out.push_str(whole);
        out.push('.');
        out.push_str(fraction);
    }
}

/// The text of a JSON number or string as an exchange sent it (`None` for `null`), so an
/// amount is read from its digits and never through a float.
pub fn json_text(value: &serde_json::value::RawValue) -> Result<Option<String>, String> {
    let raw = value.get().trim();
    if raw == "null" {
        return Ok(None);
    }
    if raw.starts_with('"') {
        return serde_json::from_str::<String>(raw).map(Some).map_err(|e| e.to_string());
    }
    if raw.starts_with(['{', '[']) || raw == "true" || raw == "false" {
        return Err(format!("expected a number or a string, found {raw}"));
    }
    Ok(Some(raw.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn write_amount_writes_what_format_amount_gives() {
        let mut rng_state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            rng_state ^= rng_state << 13;
            rng_state ^= rng_state >> 7;
            rng_state ^= rng_state << 17;
            rng_state
        };
        let mut cases: Vec<Decimal> =
            ["0", "-0", "0.000", "1", "-1", "10", "100.500", "-0.0001", "0.1", "12345.678900"]
                .iter()
                .map(|t| dec(t))
                .chain([Decimal::MAX, Decimal::MIN, Decimal::new(i64::MAX, 0), Decimal::new(i64::MIN, 28)])
                .collect();
        for _ in 0..20_000 {
            let (a, b) = (next(), next());
            let wide = Decimal::from_i128_with_scale(i128::from(a) << (b % 32), 0);
            let scale = (b >> 8) as u32 % 29;
            let mut d = Decimal::from_parts(a as u32, (a >> 32) as u32, (b % 3) as u32, b & 1 == 1, 0);
            d.set_scale(scale).unwrap();
            cases.push(d);
            cases.push(Decimal::new((a % 1_000_000_000) as i64 - 500_000_000, scale));
            cases.push(wide);
            // Full 96-bit mantissas, and ones with zeros at the 19-digit group's edge.
            let mut full = Decimal::from_parts(a as u32, (a >> 32) as u32, b as u32, a & 1 == 1, 0);
            full.set_scale(scale).unwrap();
            cases.push(full);
            let group = 10_000_000_000_000_000_000i128 * i128::from((b >> 40) % 7_000_000_000) + i128::from(a % 1000);
            cases.push(Decimal::from_i128_with_scale(group, scale));
        }
        let mut out = String::new();
        for d in cases {
            out.clear();
            write_amount(&mut out, d);
            assert_eq!(out, format_amount(d), "{d:?}");
        }
    }

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn parses_plain_and_exponent_forms_exactly() {
        assert_eq!(parse_amount("12.50").unwrap(), dec("12.5"));
        assert_eq!(parse_amount(" -0.00000001 ").unwrap(), dec("-0.00000001"));
        assert_eq!(parse_amount("+3").unwrap(), dec("3"));
        assert_eq!(parse_amount("1E-8").unwrap(), dec("0.00000001"));
        assert_eq!(parse_amount("-2.5e3").unwrap(), dec("-2500"));
        assert_eq!(parse_amount("0.1").unwrap() + parse_amount("0.2").unwrap(), dec("0.3"));
    }

    #[test]
    fn refuses_what_is_not_a_plain_number() {
        for bad in ["", "  ", "1,000", "$5", "abc", "1.2.3", "--1", "NaN", "1-2", "e5"] {
            assert!(parse_amount(bad).is_err(), "{bad:?} should be refused");
        }
        assert_eq!(parse_amount("").unwrap_err(), AmountError::Empty);
    }

    #[test]
    fn magnitude_bound_is_ten_to_the_twentieth() {
        assert_eq!(MAX_MAGNITUDE, dec("100000000000000000000"));
        assert_eq!(parse_amount("99999999999999999999.99").unwrap(), dec("99999999999999999999.99"));
        assert_eq!(parse_amount("-99999999999999999999").unwrap(), dec("-99999999999999999999"));
        for big in ["100000000000000000000", "-100000000000000000000", "1E20", "1e28", "79228162514264337593543950335"]
        {
            assert_eq!(parse_amount(big), Err(AmountError::TooLarge(big.to_string())), "{big}");
        }
        let message = parse_amount("1E20").unwrap_err().to_string();
        assert!(message.contains("\"1E20\"") && message.contains("10^20"), "{message}");
    }

    #[test]
    fn scale_bound_is_eighteen_places_after_trailing_zeros() {
        assert_eq!(parse_amount("0.000000000000000001").unwrap(), dec("0.000000000000000001"));
        assert_eq!(parse_amount("1E-18").unwrap(), dec("0.000000000000000001"));
        assert_eq!(parse_amount("0.10000000000000000000000").unwrap(), dec("0.1"));
        for fine in ["0.0000000000000000001", "1E-19", "-1.0000000000000000001"] {
            assert_eq!(parse_amount(fine), Err(AmountError::TooManyDecimals(fine.to_string())), "{fine}");
        }
        let message = parse_amount("1E-19").unwrap_err().to_string();
        assert!(message.contains("\"1E-19\"") && message.contains("18 decimal places"), "{message}");
    }

    #[test]
    fn a_number_too_large_or_too_fine_to_hold_says_which_bound_it_breaks() {
        for big in ["99999999999999999999999999999999999", "-123456789012345678901234567890.5", "1e100", "1E+40"] {
            assert_eq!(parse_amount(big), Err(AmountError::TooLarge(big.to_string())), "{big}");
        }
        for fine in ["0.00000000000000000000000000000001", "1e-100", "5E-99999999999999999999999"] {
            assert_eq!(parse_amount(fine), Err(AmountError::TooManyDecimals(fine.to_string())), "{fine}");
        }
        // Within both bounds but more than 28 significant digits.
        let long = "12345678901234567890.123456789012345678";
        assert_eq!(parse_amount(long), Err(AmountError::TooPrecise(long.to_string())));
        // Not numbers at all stay so.
        for bad in ["1.2.3", "1e", "1e-", ".", "1e1.5"] {
            assert_eq!(parse_amount(bad), Err(AmountError::NotANumber(bad.to_string())), "{bad}");
        }
    }

    #[test]
    fn formats_without_exponent_or_trailing_zeros() {
        assert_eq!(format_amount(dec("0.00000001")), "0.00000001");
        assert_eq!(format_amount(dec("12.5000")), "12.5");
        assert_eq!(format_amount(dec("-100")), "-100");
        assert_eq!(format_amount(parse_amount("1E-12").unwrap()), "0.000000000001");
    }
}

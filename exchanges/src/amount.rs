//! Exact decimal amounts from text: every number from outside enters through here.

use rust_decimal::Decimal;

/// A number in a file or an API answer that is not an exact decimal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// The field was empty where a number is required.
    #[error("a number is required here but the field is empty")]
    Empty,
    /// The text is not a decimal number.
    #[error("{0:?} is not a decimal number")]
    NotANumber(String),
    /// The number has more digits than can be held exactly (28 significant digits).
    #[error("{0:?} has more digits than can be held exactly")]
    TooPrecise(String),
}

/// Parses a decimal amount exactly: `12.5`, `-0.00000001`, `+3`, and exponent forms some
/// exchanges emit (`1E-8`). Thousands separators and currency symbols are refused here;
/// a format that has them strips them itself, on purpose.
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
        Ok(value) => Ok(value.normalize()),
        Err(rust_decimal::Error::Underflow) | Err(rust_decimal::Error::ExceedsMaximumPossibleValue) => {
            Err(AmountError::TooPrecise(text.to_string()))
        }
        Err(_) => Err(AmountError::NotANumber(text.to_string())),
    }
}

/// Parses an optional amount: an empty field is `None`.
pub fn parse_optional_amount(text: &str) -> Result<Option<Decimal>, AmountError> {
    if text.trim().is_empty() { Ok(None) } else { parse_amount(text).map(Some) }
}

/// Writes a decimal as plain text with no exponent and no trailing zeros (`0.5`, `-12`).
pub fn format_amount(value: Decimal) -> String {
    value.normalize().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

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
    fn formats_without_exponent_or_trailing_zeros() {
        assert_eq!(format_amount(dec("0.00000001")), "0.00000001");
        assert_eq!(format_amount(dec("12.5000")), "12.5");
        assert_eq!(format_amount(dec("-100")), "-100");
        assert_eq!(format_amount(parse_amount("1E-12").unwrap()), "0.000000000001");
    }
}

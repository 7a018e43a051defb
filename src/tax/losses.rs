//! Capital losses brought in from outside the ledger: the ledger's settings
//! `losses_brought_forward.<YEAR>` (`cointally settings losses_brought_forward YEAR AMOUNT`).
//!
//! A person whose earlier years are not in the ledger (another tool, paper records, shares)
//! can have unused losses of those years. The amount set for a tax year is, in the reporting
//! currency, the losses available at the start of that year as the person's own records state
//! them; each jurisdiction's report reads it its own way (the README's country sections):
//!
//! - Australia ([`crate::tax::au`]): the net capital losses from earlier income years (last
//!   year's label 18V). It **replaces** what the ledger itself would carry into that year and
//!   carries on into later years with the ledger's own losses (Australia has no carry-back).
//! - Canada ([`crate::tax::ca`]): the net capital losses of other years (the notice of
//!   assessment's balance, already at the 50% inclusion rate); shown as available and applied
//!   at line 25300 up to the year's taxable capital gain. That year only: the CRA lets losses
//!   go back three years too, so the next year's balance is the person's (or the CRA's) figure.
//! - Germany ([`crate::tax::de`]): the remaining loss from private sales of § 23 EStG as
//!   determined at the end of the previous year (verbleibender Verlustvortrag, § 10d Abs. 4);
//!   offset against the year's taxable private-sale gain. That year only: § 10d carries a loss
//!   back one year first, and the Finanzamt determines the figure each year.
//!
//! US reports do not read it.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use crate::ledger::{Ledger, LedgerError};

/// The settings key's stem; a year's key is `losses_brought_forward.<YEAR>`.
pub const LOSSES_SETTING: &str = "losses_brought_forward";

/// The settings key that holds the losses brought forward into tax year `year`.
pub fn key(year: i32) -> String {
    format!("{LOSSES_SETTING}.{year}")
}

/// A year or amount given to `settings losses_brought_forward` that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadLosses {
    /// The year is not a four-digit year.
    #[error("{0:?} is not a tax year: give it as four digits, e.g. 2025")]
    Year(String),
    /// The amount is not a plain non-negative decimal.
    #[error(
        "{0:?} is not an amount of losses: give a plain non-negative decimal in the reporting currency, e.g. 1250.00 (0 removes it)"
    )]
    Amount(String),
}

/// Reads a tax year as typed (`2025`).
pub fn parse_year(text: &str) -> Result<i32, BadLosses> {
    let text = text.trim();
    match text.parse::<i32>() {
        Ok(year) if text.len() == 4 && (1900..=2999).contains(&year) => Ok(year),
        _ => Err(BadLosses::Year(text.to_owned())),
    }
}

/// Reads an amount of losses as typed: a plain decimal, zero or more (a loss is entered as a
/// positive figure; no sign, no exponent, no thousands separators).
pub fn parse_amount(text: &str) -> Result<Decimal, BadLosses> {
    let trimmed = text.trim();
    let plain = !trimmed.is_empty()
        && trimmed.chars().all(|c| c.is_ascii_digit() || c == '.')
        && trimmed.chars().filter(|c| *c == '.').count() <= 1;
    match trimmed.parse::<Decimal>() {
        Ok(amount) if plain => Ok(amount.normalize()),
        _ => Err(BadLosses::Amount(text.to_owned())),
    }
}

/// The losses brought forward set in the ledger, by tax year (years without a setting absent).
pub fn of_ledger(ledger: &Ledger) -> Result<BTreeMap<i32, Decimal>, LedgerError> {
    let prefix = format!("{LOSSES_SETTING}.");
    let mut out = BTreeMap::new();
    for (k, value) in ledger.settings()? {
        let Some(year) = k.strip_prefix(&prefix) else { continue };
        let year = parse_year(year).map_err(|e| LedgerError::Corrupt(format!("setting {k}: {e}")))?;
        let amount = parse_amount(&value).map_err(|e| LedgerError::Corrupt(format!("setting {k}: {e}")))?;
        out.insert(year, amount);
    }
    Ok(out)
}

/// Feeds the settings into an inputs hash, so that a report's manifest changes with them.
pub fn hash_into(hasher: &mut sha2::Sha256, losses: &BTreeMap<i32, Decimal>) {
    for (year, amount) in losses {
        sha2::Digest::update(hasher, format!("losses_brought_forward {year} {amount}\n").as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn years_and_amounts_are_read_strictly() {
        assert_eq!(parse_year("2025"), Ok(2025));
        assert!(parse_year("25").is_err());
        assert!(parse_year("2025-26").is_err());
        assert_eq!(parse_amount("1250.50"), Ok(Decimal::new(125_050, 2)));
        assert_eq!(parse_amount("0"), Ok(Decimal::ZERO));
        for bad in ["-5", "1e3", "1,000", "", "abc", "1.2.3", "+4"] {
            assert!(parse_amount(bad).is_err(), "{bad:?} accepted");
        }
    }
}

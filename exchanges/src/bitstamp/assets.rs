//! Bitstamp's currency codes → canonical symbols.
//!
//! Bitstamp names currencies by their lowercase tickers (`btc`, `usd`, `eur`, `usdc`), the same
//! in `user_transactions` keys, `account_balances` and its export files
//! (<https://www.bitstamp.net/api/>); the canonical symbol is the ticker in
//! upper case. No code is known to be renamed.

use crate::asset::{BadSymbol, asset_symbol};

/// The canonical symbol of a Bitstamp currency code (`btc` → `BTC`).
pub fn canonical_asset(code: &str) -> Result<String, BadSymbol> {
    asset_symbol(code)
}

/// Bitstamp's code of a canonical symbol (`BTC` → `btc`).
pub fn bitstamp_code(symbol: &str) -> String {
    symbol.to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_lowercase_tickers() {
        assert_eq!(canonical_asset("btc").unwrap(), "BTC");
        assert_eq!(canonical_asset("usdc").unwrap(), "USDC");
        assert_eq!(bitstamp_code("EUR"), "eur");
        assert!(canonical_asset("btc usd").is_err());
    }
}

//! Gemini's currency codes and symbols → canonical asset symbols.
//!
//! Gemini writes currencies in upper case (`BTC`, `GUSD`) in balances and transfers, and
//! symbols as lower-case concatenations without a separator (`btcusd`, `ethgusd`, `usdcusd`;
//! <https://docs.gemini.com/rest/market-data#symbols-and-minimums>). A symbol is split on the
//! longest quote currency it ends with among those Gemini quotes in; any other symbol is
//! taken to end in a three-letter quote (`dogeusd`, `ethbtc`).

use crate::asset::{BadSymbol, asset_symbol};

/// Quote currencies longer than three letters, longest first.
const LONG_QUOTES: &[&str] = &["rlusd", "gusd", "usdt", "usdc"];

/// The canonical symbol of a Gemini currency code (`btc`, `GUSD`).
pub fn canonical_asset(code: &str) -> Result<String, BadSymbol> {
    asset_symbol(code)
}

/// A symbol's base and quote, canonical (`ethgusd` → `ETH`, `GUSD`); `None` when it is not
/// one Gemini could have (too short, not letters and digits).
pub fn split_symbol(symbol: &str) -> Option<(String, String)> {
    let symbol = symbol.trim().to_ascii_lowercase();
    if !symbol.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let quote_len = LONG_QUOTES.iter().find(|quote| symbol.ends_with(*quote)).map_or(3, |quote| quote.len());
    if symbol.len() <= quote_len {
        return None;
    }
    let (base, quote) = symbol.split_at(symbol.len() - quote_len);
    Some((canonical_asset(base).ok()?, canonical_asset(quote).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_split_on_the_quote_they_end_with() {
        let split = |s: &str| split_symbol(s).map(|(b, q)| format!("{b}/{q}"));
        assert_eq!(split("btcusd").as_deref(), Some("BTC/USD"));
        assert_eq!(split("ethgusd").as_deref(), Some("ETH/GUSD"));
        assert_eq!(split("usdcusd").as_deref(), Some("USDC/USD"));
        assert_eq!(split("ethusdt").as_deref(), Some("ETH/USDT"));
        assert_eq!(split("dogeusd").as_deref(), Some("DOGE/USD"));
        assert_eq!(split("ethbtc").as_deref(), Some("ETH/BTC"));
        assert_eq!(split("btcrlusd").as_deref(), Some("BTC/RLUSD"));
        assert_eq!(split("BTCEUR").as_deref(), Some("BTC/EUR"));
        for bad in ["", "usd", "gusd", "btc-usd", "btc usd"] {
            assert_eq!(split_symbol(bad), None, "{bad}");
        }
    }
}

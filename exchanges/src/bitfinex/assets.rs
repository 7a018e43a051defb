//! Bitfinex's currency codes → canonical symbols.
//!
//! Bitfinex names most currencies by their tickers in upper case (`BTC`, `USD`, `ETH`), the
//! same in ledgers, wallets and its ledger export, but keeps three-letter codes for some whose
//! tickers are longer or taken: its public configuration `pub:map:currency:sym`
//! (<https://docs.bitfinex.com/reference/rest-public-conf>) lists them. The table below holds the
//! ones cointally renames; it was written from that list as other tools quote it and was not
//! re-checked against the live configuration. Any other code is its own symbol.

use crate::asset::{BadSymbol, asset_symbol};

/// Bitfinex codes that differ from the canonical symbol: (Bitfinex, canonical).
const RENAMED: &[(&str, &str)] = &[
    ("ALG", "ALGO"),
    ("DSH", "DASH"),
    ("IOT", "IOTA"),
    ("MNA", "MANA"),
    ("QTM", "QTUM"),
    ("UDC", "USDC"),
    ("UST", "USDT"),
];

/// The canonical symbol of a Bitfinex currency code (`UST` → `USDT`, `BTC` → `BTC`).
pub fn canonical_asset(code: &str) -> Result<String, BadSymbol> {
    let symbol = asset_symbol(code)?;
    Ok(RENAMED
        .iter()
        .find(|(bitfinex, _)| *bitfinex == symbol)
        .map_or(symbol, |(_, canonical)| (*canonical).to_owned()))
}

/// Bitfinex's code of a canonical symbol (`USDT` → `UST`).
pub fn bitfinex_code(symbol: &str) -> String {
    let symbol = symbol.to_ascii_uppercase();
    RENAMED.iter().find(|(_, canonical)| *canonical == symbol).map_or(symbol, |(bitfinex, _)| (*bitfinex).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renamed_codes_map_both_ways_and_the_rest_is_the_ticker() {
        assert_eq!(canonical_asset("UST").unwrap(), "USDT");
        assert_eq!(canonical_asset("udc").unwrap(), "USDC");
        assert_eq!(canonical_asset("BTC").unwrap(), "BTC");
        assert_eq!(bitfinex_code("USDT"), "UST");
        assert_eq!(bitfinex_code("eth"), "ETH");
        for (code, _) in RENAMED {
            assert_eq!(bitfinex_code(&canonical_asset(code).unwrap()), *code);
        }
        assert!(canonical_asset("BTC USD").is_err());
    }
}

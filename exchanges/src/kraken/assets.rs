//! Kraken's own asset codes, mapped to the canonical symbols cointally uses.
//!
//! Kraken names assets in three ways, and both its ledger export and its `Ledgers` API
//! endpoint use the same codes, so this one map serves the CSV reader and the API adapter:
//!
//! - **legacy codes** with a class prefix, `X` for crypto and `Z` for fiat, on four letters:
//!   `XXBT`, `XETH`, `XXDG`, `ZUSD`, `ZEUR` … — looked up in [`LEGACY_CODES`]; a `Z` followed
//!   by a fiat code that cointally knows (`ZCHF`) also drops its `Z`. An `X` is never stripped
//!   by rule: `XTZ`, `XRP`, `XLM` are tickers of their own.
//! - **Kraken's tickers** that differ from the usual ones: `XBT` is BTC, `XDG` is DOGE.
//! - **balance variants**: a suffix marks the same coin held in another product —
//!   `.S` staked (also with a lock period, `DOT28.S`), `.M` opt-in rewards, `.B` yield-bearing
//!   Earn, `.F` automatic Kraken Rewards, `.P` parachain bonded, `.HOLD` held. `ETH2.S` and
//!   `ETH2` are staked ether. Every variant maps to its underlying asset, so a move between
//!   `DOT` and `DOT.S` moves nothing in cointally's eyes.
//!
//! `KFEE` (Kraken fee credits) stays `KFEE`: credits are not ether nor dollars, they cannot be
//! withdrawn or sold, they only pay trading fees. Kraken counts 1 KFEE as 0.01 USD; that value
//! belongs to pricing, not to the symbol. Keeping the symbol keeps the KFEE balance equal to
//! Kraken's.
//!
//! Every other code is taken as a plain ticker (`DOT`, `USDT`, `SOL`).

use crate::asset::{BadSymbol, asset_symbol, is_fiat};

/// Kraken's legacy and deviating codes → canonical symbols, sorted by code.
pub const LEGACY_CODES: &[(&str, &str)] = &[
    ("ETH2", "ETH"),
    ("XBT", "BTC"),
    ("XDAO", "DAO"),
    ("XDG", "DOGE"),
    ("XETC", "ETC"),
    ("XETH", "ETH"),
    ("XICN", "ICN"),
    ("XLTC", "LTC"),
    ("XMLN", "MLN"),
    ("XNMC", "NMC"),
    ("XREP", "REP"),
    ("XXBT", "BTC"),
    ("XXDG", "DOGE"),
    ("XXLM", "XLM"),
    ("XXMR", "XMR"),
    ("XXRP", "XRP"),
    ("XXVN", "XVN"),
    ("XZEC", "ZEC"),
    ("ZAUD", "AUD"),
    ("ZCAD", "CAD"),
    ("ZEUR", "EUR"),
    ("ZGBP", "GBP"),
    ("ZJPY", "JPY"),
    ("ZUSD", "USD"),
];

/// Suffixes that mark a balance variant of the same asset (staked, rewards, Earn, held).
pub const VARIANT_SUFFIXES: &[&str] = &[".HOLD", ".S", ".M", ".B", ".F", ".P"];

/// Lock periods (days) Kraken writes before `.S` on bonded staking codes (`DOT28.S`).
const LOCK_PERIODS: &[&str] = &["03", "04", "07", "14", "21", "28"];

/// The canonical symbol for a Kraken asset code (`XXBT` → `BTC`, `DOT.S` → `DOT`,
/// `USD.HOLD` → `USD`, `ETH2.S` → `ETH`); refuses what cannot be an asset code.
pub fn canonical_asset(code: &str) -> Result<String, BadSymbol> {
    let symbol = asset_symbol(code)?;
    let base = underlying(&symbol);
    if base.is_empty() || base.contains('.') {
        return Err(BadSymbol(code.to_string()));
    }
    Ok(rename(base))
}

/// The code without its balance-variant suffix (and lock period).
fn underlying(symbol: &str) -> &str {
    for suffix in VARIANT_SUFFIXES {
        if let Some(base) = symbol.strip_suffix(suffix) {
            if *suffix == ".S" {
                let unlocked = LOCK_PERIODS.iter().filter_map(|period| base.strip_suffix(period)).next();
                match unlocked {
                    Some(short) if short.len() >= 2 && short.bytes().all(|b| b.is_ascii_alphabetic()) => return short,
                    _ => {}
                }
            }
            return base;
        }
    }
    symbol
}

/// The canonical name of an unsuffixed Kraken code.
fn rename(code: &str) -> String {
    if let Ok(i) = LEGACY_CODES.binary_search_by(|(kraken, _)| kraken.cmp(&code)) {
        return LEGACY_CODES[i].1.to_string();
    }
    match code.strip_prefix('Z') {
        Some(fiat) if code.len() == 4 && is_fiat(fiat) => fiat.to_string(),
        _ => code.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(code: &str) -> String {
        canonical_asset(code).unwrap()
    }

    #[test]
    fn table_is_sorted_and_maps_to_plain_symbols() {
        assert!(LEGACY_CODES.windows(2).all(|w| w[0].0 < w[1].0));
        for (code, symbol) in LEGACY_CODES {
            assert_eq!(&map(code), symbol, "{code}");
            assert_eq!(&map(symbol), symbol, "a canonical symbol maps to itself: {symbol}");
        }
    }

    #[test]
    fn legacy_and_kraken_tickers() {
        for (code, symbol) in [
            ("XXBT", "BTC"),
            ("XBT", "BTC"),
            ("BTC", "BTC"),
            ("XETH", "ETH"),
            ("XXDG", "DOGE"),
            ("XDG", "DOGE"),
            ("XLTC", "LTC"),
            ("XXRP", "XRP"),
            ("XXLM", "XLM"),
            ("XETC", "ETC"),
            ("XZEC", "ZEC"),
            ("XMLN", "MLN"),
            ("XREP", "REP"),
            ("XXMR", "XMR"),
            ("ZUSD", "USD"),
            ("ZEUR", "EUR"),
            ("ZGBP", "GBP"),
            ("ZCAD", "CAD"),
            ("ZJPY", "JPY"),
            ("ZAUD", "AUD"),
            ("ZCHF", "CHF"),
            ("EUR", "EUR"),
            (" xxbt ", "BTC"),
        ] {
            assert_eq!(map(code), symbol, "{code}");
        }
    }

    #[test]
    fn prefixes_are_not_stripped_by_rule() {
        for ticker in ["XTZ", "XRP", "XLM", "ZRX", "ZEC", "ZEUS", "DOT", "USDT", "SOL", "1INCH", "API3"] {
            assert_eq!(map(ticker), ticker);
        }
    }

    #[test]
    fn balance_variants_map_to_the_underlying_asset() {
        for (code, symbol) in [
            ("DOT.S", "DOT"),
            ("DOT28.S", "DOT"),
            ("KSM07.S", "KSM"),
            ("ETH2.S", "ETH"),
            ("ETH2", "ETH"),
            ("XBT.M", "BTC"),
            ("BTC.M", "BTC"),
            ("USD.M", "USD"),
            ("USDT.F", "USDT"),
            ("ETH.B", "ETH"),
            ("DOT.P", "DOT"),
            ("USD.HOLD", "USD"),
            ("ZUSD.HOLD", "USD"),
            ("XXDG.S", "DOGE"),
            ("API3.S", "API3"),
        ] {
            assert_eq!(map(code), symbol, "{code}");
        }
    }

    #[test]
    fn fee_credits_keep_their_own_symbol() {
        assert_eq!(map("KFEE"), "KFEE");
    }

    #[test]
    fn malformed_codes_are_refused() {
        for bad in ["", " ", ".S", ".HOLD", "DOT.S.S", "BTC USD", "$5"] {
            assert!(canonical_asset(bad).is_err(), "{bad:?}");
        }
    }
}

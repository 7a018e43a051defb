//! Asset symbols: what a ticker may look like, and which ones are fiat money.

/// A text that cannot be an asset symbol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an asset symbol (letters, digits and . - _ only, at most 32)")]
pub struct BadSymbol(pub String);

/// Canonical asset symbol: trimmed, upper case; refuses what cannot be a ticker.
pub fn asset_symbol(text: &str) -> Result<String, BadSymbol> {
    let symbol = text.trim().to_ascii_uppercase();
    let ok = !symbol.is_empty()
        && symbol.len() <= 32
        && symbol.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
    if ok { Ok(symbol) } else { Err(BadSymbol(text.to_string())) }
}

/// Fiat currencies cointally recognises (ISO 4217 codes of currencies exchanges serve).
const FIAT: &[&str] = &[
    "AED", "ARS", "AUD", "BGN", "BRL", "CAD", "CHF", "CLP", "CNY", "COP", "CZK", "DKK", "EUR", "GBP", "HKD", "HUF",
    "IDR", "ILS", "INR", "JPY", "KES", "KRW", "KZT", "MXN", "MYR", "NGN", "NOK", "NZD", "PEN", "PHP", "PKR", "PLN",
    "RON", "RUB", "SAR", "SEK", "SGD", "THB", "TRY", "TWD", "UAH", "USD", "VND", "ZAR",
];

/// Whether a canonical symbol is fiat money rather than a crypto asset.
///
/// Asked for every leg of every event a report reads (several times per event), so it
/// compares one number per code instead of strings: every code is three letters.
pub fn is_fiat(symbol: &str) -> bool {
    match symbol.as_bytes() {
        &[a, b, c] => FIAT_CODES.binary_search(&code(a, b, c)).is_ok(),
        _ => false,
    }
}

/// Three bytes as one number, ordered as the bytes are.
const fn code(a: u8, b: u8, c: u8) -> u32 {
    (a as u32) << 16 | (b as u32) << 8 | c as u32
}

/// [`FIAT`] as numbers ([`code`]), in the same (sorted) order.
const FIAT_CODES: [u32; FIAT.len()] = {
    let mut codes = [0u32; FIAT.len()];
    let mut i = 0;
    while i < FIAT.len() {
        let bytes = FIAT[i].as_bytes();
        assert!(bytes.len() == 3, "fiat codes are three letters");
        codes[i] = code(bytes[0], bytes[1], bytes[2]);
        i += 1;
    }
    codes
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_are_upper_case_tickers() {
        assert_eq!(asset_symbol(" btc ").unwrap(), "BTC");
        assert_eq!(asset_symbol("ETH2.S").unwrap(), "ETH2.S");
        for bad in ["", "BTC USD", "1,000", "$5", "ÄBC"] {
            assert!(asset_symbol(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn fiat_list_is_sorted_and_recognised() {
        assert!(FIAT.windows(2).all(|w| w[0] < w[1]));
        assert!(is_fiat("USD") && is_fiat("EUR") && !is_fiat("BTC") && !is_fiat("USDT"));
        assert!(FIAT_CODES.windows(2).all(|w| w[0] < w[1]));
        for fiat in FIAT {
            assert!(is_fiat(fiat), "{fiat}");
            assert!(!is_fiat(&fiat[..2]) && !is_fiat(&format!("{fiat}X")) && !is_fiat(&fiat.to_lowercase()));
        }
        for other in ["", "U", "US", "USDC", "EURT", "XBT", "ETH", "usd", "ÄBC"] {
            assert!(!is_fiat(other), "{other}");
        }
    }
}

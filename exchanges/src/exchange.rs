//! The exchanges cointally knows by name, and what it can do with each.

use std::fmt;
use std::str::FromStr;

/// A place an account lives: an exchange, or a self-custody wallet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Exchange {
    /// binance.com
    Binance,
    /// Kraken spot.
    Kraken,
    /// Coinbase (retail app and Advanced Trade).
    Coinbase,
    /// Gemini (files only for now).
    Gemini,
    /// Bitstamp (files only for now).
    Bitstamp,
    /// KuCoin (files only for now).
    Kucoin,
    /// OKX (files only for now).
    Okx,
    /// Bybit (files only for now).
    Bybit,
    /// Bitfinex (files only for now).
    Bitfinex,
    /// Binance.US (files only for now).
    BinanceUs,
    /// A self-custody wallet: history comes from files.
    Wallet,
    /// Any other place: history comes from files.
    Other,
}

impl Exchange {
    /// Every known name, in a stable order.
    pub const ALL: [Exchange; 12] = [
        Exchange::Binance,
        Exchange::Kraken,
        Exchange::Coinbase,
        Exchange::Gemini,
        Exchange::Bitstamp,
        Exchange::Kucoin,
        Exchange::Okx,
        Exchange::Bybit,
        Exchange::Bitfinex,
        Exchange::BinanceUs,
        Exchange::Wallet,
        Exchange::Other,
    ];

    /// The name used on the command line and in the ledger.
    pub fn as_str(self) -> &'static str {
        match self {
            Exchange::Binance => "binance",
            Exchange::Kraken => "kraken",
            Exchange::Coinbase => "coinbase",
            Exchange::Gemini => "gemini",
            Exchange::Bitstamp => "bitstamp",
            Exchange::Kucoin => "kucoin",
            Exchange::Okx => "okx",
            Exchange::Bybit => "bybit",
            Exchange::Bitfinex => "bitfinex",
            Exchange::BinanceUs => "binanceus",
            Exchange::Wallet => "wallet",
            Exchange::Other => "other",
        }
    }

    /// Whether cointally can be given an API key for it (its adapter exists or is planned).
    pub fn takes_api_key(self) -> bool {
        matches!(self, Exchange::Binance | Exchange::Kraken | Exchange::Coinbase)
    }
}

impl fmt::Display for Exchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text is not the name of a known exchange.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown exchange {0:?} (known: {names}; use `wallet` for a self-custody wallet or `other` for anything else)",
    names = Exchange::ALL.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(", "))]
pub struct UnknownExchange(pub String);

impl FromStr for Exchange {
    type Err = UnknownExchange;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase().replace(['.', '-', '_'], "");
        Exchange::ALL.into_iter().find(|e| e.as_str() == wanted).ok_or_else(|| UnknownExchange(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for e in Exchange::ALL {
            assert_eq!(e.as_str().parse::<Exchange>().unwrap(), e);
        }
        assert_eq!("Binance.US".parse::<Exchange>().unwrap(), Exchange::BinanceUs);
        assert!("mtgox".parse::<Exchange>().is_err());
    }
}

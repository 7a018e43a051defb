//! Exchange names as the command line and the ledger write them: display and parsing. The
//! exchanges themselves, and what cointally can do with each, are listed in [`crate::registry`].

use std::fmt;
use std::str::FromStr;

pub use crate::registry::Exchange;

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

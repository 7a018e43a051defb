//! The bundled simulators, one per exchange with an API: what `sandbox serve` and the demo
//! start (only with the `sandbox` feature).
//!
//! This table stands apart from the [registry](crate::registry) on purpose: the engine reaches
//! the exchanges through the registry, and only the sandbox command and the demo reach a
//! simulator, through here.

pub use crate::sim::demo::{Activity, Answer, DemoPrices, DemoSim, Outcome, Serving, Simulator};
use crate::{Exchange, binance, binanceus, bitfinex, bitstamp, bybit, coinbase, gemini, kraken, kucoin, okx};

/// The simulator bundled for `exchange`, if it has one (every exchange cointally syncs has).
pub fn simulator(exchange: Exchange) -> Option<Simulator> {
    match exchange {
        Exchange::Coinbase => Some(coinbase::sandbox::SIMULATOR),
        Exchange::Kraken => Some(kraken::sandbox::SIMULATOR),
        Exchange::Binance => Some(binance::sandbox::SIMULATOR),
        Exchange::Gemini => Some(gemini::sandbox::SIMULATOR),
        Exchange::Bitstamp => Some(bitstamp::sandbox::SIMULATOR),
        Exchange::Kucoin => Some(kucoin::sandbox::SIMULATOR),
        Exchange::Bybit => Some(bybit::sandbox::SIMULATOR),
        Exchange::Bitfinex => Some(bitfinex::sandbox::SIMULATOR),
        Exchange::BinanceUs => Some(binanceus::sandbox::SIMULATOR),
        Exchange::Okx => Some(okx::sandbox::SIMULATOR),
        Exchange::Wallet | Exchange::Other => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::entries;

    #[test]
    fn the_exchanges_with_a_simulator_are_those_with_an_api() {
        for entry in entries() {
            assert_eq!(simulator(entry.exchange).is_some(), entry.api.is_some(), "{}", entry.exchange);
        }
    }
}

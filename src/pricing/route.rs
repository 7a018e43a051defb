//! Which markets can price an asset in a currency, in the order they are tried.
//!
//! A route is one to three hops; a hop is a market of a source, read directly (BTC-USD prices
//! BTC in USD) or inverted (BTC-EUR prices EUR in BTC). The order, first match wins:
//! 1. with `--stablecoins-at-par`, a USD stablecoin is worth one USD (then USD → currency);
//! 2. a direct market of an exchange source, in source order (Coinbase, then Binance);
//! 3. a cross rate through a bridge asset ([`BRIDGES`], in that order): asset → bridge on one
//!    exchange source, bridge → currency on one (possibly another);
//! 4. three hops through two bridges, where no two-hop route exists;
//! 5. the user's price file, directly, then through a bridge priced by an exchange.
//!
//! A route that finds no candle near the time falls through to the next one.

use std::collections::{BTreeMap, BTreeSet};

use cointally_exchanges::prices::Market;

/// Assets a cross rate may go through, in the order they are tried.
pub const BRIDGES: &[&str] = &["USDT", "BTC", "USDC", "ETH", "USD", "EUR", "BNB"];

/// USD stablecoins that `--stablecoins-at-par` values at exactly one USD.
pub const USD_STABLECOINS: &[&str] = &["BUSD", "DAI", "FDUSD", "GUSD", "PYUSD", "TUSD", "USDC", "USDP", "USDT"];

/// The most routes tried for one asset.
const MAX_ROUTES: usize = 48;

/// Where a hop's prices come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Origin {
    /// An exchange's candles: the index of the source in the engine's list.
    Remote(usize),
    /// The user's price file.
    File,
    /// A stablecoin at par (price 1, no lookup).
    Par,
}

/// One step of a route: a market read directly or inverted.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hop {
    /// Where its prices come from.
    pub origin: Origin,
    /// The market.
    pub market: Market,
    /// Whether the route reads it upside down (price = 1 / close).
    pub inverse: bool,
}

impl Hop {
    /// The asset this hop prices (the market's base, or its quote when inverted).
    pub fn from_asset(&self) -> &str {
        if self.inverse { &self.market.quote } else { &self.market.base }
    }
}

/// The markets known to each origin.
#[derive(Debug, Default)]
pub struct Markets {
    /// Per exchange source (in the engine's order): (base, quote) → market.
    pub remote: Vec<BTreeMap<(String, String), Market>>,
    /// (asset, currency) pairs that the user's price files give.
    pub file: BTreeSet<(String, String)>,
}

impl Markets {
    /// The one-hop ways from `from` to `to` among `origins`: direct markets before inverted ones, per origin.
    fn hops(&self, from: &str, to: &str, origins: &[Origin]) -> Vec<Hop> {
        let mut hops = Vec::new();
        for &origin in origins {
            for (base, quote, inverse) in [(from, to, false), (to, from, true)] {
                let market = match origin {
                    Origin::Remote(i) => {
                        self.remote.get(i).and_then(|m| m.get(&(base.to_owned(), quote.to_owned()))).cloned()
                    }
                    Origin::File => self.file.contains(&(base.to_owned(), quote.to_owned())).then(|| Market {
                        symbol: format!("{base}-{quote}"),
                        base: base.to_owned(),
                        quote: quote.to_owned(),
                    }),
                    Origin::Par => None,
                };
                if let Some(market) = market {
                    hops.push(Hop { origin, market, inverse });
                }
            }
        }
        hops
    }

    /// Every route from `asset` to `currency`, in the order they are tried (at most [`MAX_ROUTES`]).
    pub fn routes(&self, asset: &str, currency: &str, stablecoins_at_par: bool) -> Vec<Vec<Hop>> {
        let remote: Vec<Origin> = (0..self.remote.len()).map(Origin::Remote).collect();
        let mut routes: Vec<Vec<Hop>> = Vec::new();
        if stablecoins_at_par && USD_STABLECOINS.contains(&asset) {
            let par = Hop {
                origin: Origin::Par,
                market: Market { symbol: format!("{asset}=USD"), base: asset.to_owned(), quote: "USD".to_owned() },
                inverse: false,
            };
            if currency == "USD" {
                routes.push(vec![par]);
            } else {
                for hop in self.hops("USD", currency, &remote) {
                    routes.push(vec![par.clone(), hop]);
                }
            }
        }
        for hop in self.hops(asset, currency, &remote) {
            routes.push(vec![hop]);
        }
        let bridges = || BRIDGES.iter().filter(|b| **b != asset && **b != currency);
        for bridge in bridges() {
            for first in self.hops(asset, bridge, &remote) {
                for second in self.hops(bridge, currency, &remote) {
                    routes.push(vec![first.clone(), second]);
                }
            }
        }
        // Three hops where two cannot reach (DOT → USD → USDT → EUR when no DOT market
        // quotes EUR, USDT or BTC and no market links USD and EUR directly).
        for first_bridge in bridges() {
            for second_bridge in bridges().filter(|b| *b != first_bridge) {
                for first in self.hops(asset, first_bridge, &remote) {
                    for second in self.hops(first_bridge, second_bridge, &remote) {
                        for third in self.hops(second_bridge, currency, &remote) {
                            routes.push(vec![first.clone(), second.clone(), third]);
                        }
                    }
                }
            }
        }
        for hop in self.hops(asset, currency, &[Origin::File]) {
            routes.push(vec![hop]);
        }
        let mut with_file = remote.clone();
        with_file.push(Origin::File);
        for bridge in bridges() {
            for first in self.hops(asset, bridge, &[Origin::File]) {
                for second in self.hops(bridge, currency, &with_file) {
                    routes.push(vec![first.clone(), second]);
                }
            }
        }
        routes.truncate(MAX_ROUTES);
        routes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn market(symbol: &str, base: &str, quote: &str) -> ((String, String), Market) {
        ((base.into(), quote.into()), Market { symbol: symbol.into(), base: base.into(), quote: quote.into() })
    }

    fn markets() -> Markets {
        let coinbase = BTreeMap::from([market("BTC-USD", "BTC", "USD"), market("USDT-USD", "USDT", "USD")]);
        let binance = BTreeMap::from([
            market("BNBUSDT", "BNB", "USDT"),
            market("BTCUSDT", "BTC", "USDT"),
            market("BTCEUR", "BTC", "EUR"),
        ]);
        Markets { remote: vec![coinbase, binance], file: BTreeSet::from([("XYZ".to_owned(), "USD".to_owned())]) }
    }

    fn describe(route: &[Hop]) -> String {
        route
            .iter()
            .map(|h| format!("{:?}:{}{}", h.origin, h.market.symbol, if h.inverse { "/" } else { "" }))
            .collect::<Vec<_>>()
            .join("*")
    }

    #[test]
    fn direct_markets_come_first_then_cross_rates_in_bridge_order() {
        let routes: Vec<String> = markets().routes("BTC", "USD", false).iter().map(|r| describe(r)).collect();
        assert_eq!(routes[0], "Remote(0):BTC-USD");
        assert_eq!(routes[1], "Remote(1):BTCUSDT*Remote(0):USDT-USD");
        let bnb: Vec<String> = markets().routes("BNB", "USD", false).iter().map(|r| describe(r)).collect();
        assert_eq!(
            bnb,
            vec!["Remote(1):BNBUSDT*Remote(0):USDT-USD", "Remote(1):BNBUSDT*Remote(1):BTCUSDT/*Remote(0):BTC-USD"]
        );
    }

    #[test]
    fn three_hops_when_two_cannot_reach() {
        let mut known = markets();
        known.remote[0].extend([market("DOT-USD", "DOT", "USD"), market("USDT-EUR", "USDT", "EUR")]);
        let dot: Vec<String> = known.routes("DOT", "EUR", false).iter().map(|r| describe(r)).collect();
        assert_eq!(dot[0], "Remote(0):DOT-USD*Remote(0):USDT-USD/*Remote(0):USDT-EUR");
    }

    #[test]
    fn inverted_markets_price_the_quote() {
        let eur: Vec<String> = markets().routes("EUR", "USD", false).iter().map(|r| describe(r)).collect();
        assert_eq!(eur[0], "Remote(1):BTCEUR/*Remote(0):BTC-USD");
    }

    #[test]
    fn stablecoins_at_par_only_when_asked_and_the_file_comes_last() {
        let market = markets();
        assert_eq!(describe(&market.routes("USDT", "USD", false)[0]), "Remote(0):USDT-USD");
        assert_eq!(describe(&market.routes("USDT", "USD", true)[0]), "Par:USDT=USD");
        // No USD → EUR market here, so no par route to EUR: the market routes remain.
        let to_eur = market.routes("USDT", "EUR", true);
        assert!(!to_eur.is_empty() && to_eur.iter().all(|r| r[0].origin != Origin::Par));
        let xyz: Vec<String> = market.routes("XYZ", "USD", false).iter().map(|r| describe(r)).collect();
        assert_eq!(xyz, vec!["File:XYZ-USD"]);
        assert!(market.routes("NOPE", "USD", false).is_empty());
    }
}

//! The simulator's public market data: `GET /0/public/AssetPairs` and `GET /0/public/OHLC`.
//!
//! [`PAIRS`] is what the simulated Kraken lists: the pairs the generated person trades (the
//! ids of [`super::history`]) and the other majors Kraken quotes in fiat, CAD and AUD among
//! them (Kraken is the one source of CAD and AUD markets cointally has). Every price comes from
//! the generator's [`Market`] ([`Market::pair_ohlc`]), so candles agree with the history.
//! `OHLC` follows Kraken's REST API docs (<https://docs.kraken.com/api/docs/rest-api/get-ohlc-data>): `pair` (an id or an altname; else `EQuery:Unknown asset pair`),
//! `interval` in minutes among [`OHLC_INTERVALS`] (else `EGeneral:Invalid arguments`), `since`
//! (Unix seconds, exclusive); at most the 720 most recent rows ending at the simulator's "now",
//! whatever `since` says, the last one the interval still open (its close is the price at "now");
//! `last` is the open time of the newest closed row, in seconds.

use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::value::RawValue;

use crate::kraken::assets::canonical_asset;
use crate::sim::amounts::fixed;
use crate::sim::generate::{Market, Pair};
use crate::sim::json::{self, Ordered};

/// The most rows one answer holds.
pub const OHLC_ROWS: i64 = 720;

/// The intervals Kraken serves, in minutes.
pub const OHLC_INTERVALS: [i64; 9] = [1, 5, 15, 30, 60, 240, 1440, 10080, 21600];

/// The pairs listed: (pair id, altname, base code, quote code, price decimals).
pub const PAIRS: &[(&str, &str, &str, &str, u32)] = &[
    ("ADAEUR", "ADAEUR", "ADA", "ZEUR", 6),
    ("AUDUSD", "AUDUSD", "ZAUD", "ZUSD", 5),
    ("DOTUSD", "DOTUSD", "DOT", "ZUSD", 4),
    ("ETHAUD", "ETHAUD", "XETH", "ZAUD", 2),
    ("LINKUSD", "LINKUSD", "LINK", "ZUSD", 5),
    ("SOLUSD", "SOLUSD", "SOL", "ZUSD", 2),
    ("USDCAUD", "USDCAUD", "USDC", "ZAUD", 5),
    ("USDCCAD", "USDCCAD", "USDC", "ZCAD", 5),
    ("USDCUSD", "USDCUSD", "USDC", "ZUSD", 4),
    ("USDTAUD", "USDTAUD", "USDT", "ZAUD", 5),
    ("USDTCAD", "USDTCAD", "USDT", "ZCAD", 5),
    ("USDTZUSD", "USDTUSD", "USDT", "ZUSD", 4),
    ("XBTAUD", "XBTAUD", "XXBT", "ZAUD", 1),
    ("XETHXXBT", "ETHXBT", "XETH", "XXBT", 5),
    ("XETHZCAD", "ETHCAD", "XETH", "ZCAD", 2),
    ("XETHZEUR", "ETHEUR", "XETH", "ZEUR", 2),
    ("XETHZGBP", "ETHGBP", "XETH", "ZGBP", 2),
    ("XETHZUSD", "ETHUSD", "XETH", "ZUSD", 2),
    ("XLTCZUSD", "LTCUSD", "XLTC", "ZUSD", 2),
    ("XXBTZCAD", "XBTCAD", "XXBT", "ZCAD", 1),
    ("XXBTZEUR", "XBTEUR", "XXBT", "ZEUR", 1),
    ("XXBTZGBP", "XBTGBP", "XXBT", "ZGBP", 1),
    ("XXBTZUSD", "XBTUSD", "XXBT", "ZUSD", 1),
    ("XXDGZUSD", "XDGUSD", "XXDG", "ZUSD", 7),
    ("ZUSDZCAD", "USDCAD", "ZUSD", "ZCAD", 5),
];

/// The market's view of a listed pair: canonical base and quote, Kraken's decimals.
pub fn market_pair(id: &str) -> Option<Pair> {
    let &(symbol, _, base, quote, price_dp) = PAIRS.iter().find(|(pair, alt, ..)| *pair == id || *alt == id)?;
    Some(Pair {
        symbol: symbol.to_owned(),
        base: canonical_asset(base).ok()?,
        quote: canonical_asset(quote).ok()?,
        price_dp,
        qty_dp: 8,
        delisted_ms: None,
        traded: false,
    })
}

/// A pair as `AssetPairs` describes it.
#[derive(Serialize)]
struct PairJson {
    altname: &'static str,
    wsname: String,
    aclass_base: &'static str,
    base: &'static str,
    aclass_quote: &'static str,
    quote: &'static str,
    pair_decimals: u32,
    cost_decimals: u32,
    lot_decimals: u32,
    lot_multiplier: u32,
    fee_volume_currency: &'static str,
    ordermin: &'static str,
    costmin: &'static str,
    status: &'static str,
}

/// The `result` of `AssetPairs`: every pair, by id.
pub fn asset_pairs() -> Box<RawValue> {
    let items = PAIRS.iter().map(|&(id, altname, base, quote, dp)| {
        let wsname = format!("{}/{}", altname.trim_end_matches(&quote[quote.len().saturating_sub(3)..]), &quote[1..]);
        let pair = PairJson {
            altname,
            wsname,
            aclass_base: "currency",
            base,
            aclass_quote: "currency",
            quote,
            pair_decimals: dp,
            cost_decimals: 5,
            lot_decimals: 8,
            lot_multiplier: 1,
            fee_volume_currency: "ZUSD",
            ordermin: "0.0001",
            costmin: "0.5",
            status: "online",
        };
        (id, pair)
    });
    json::render(&Ordered(items.collect()))
}

/// A price as Kraken writes it, padded to the pair's decimals.
/// The `result` of `OHLC` for `params` at `now_ms`, or Kraken's error.
pub fn ohlc(market: &Market, params: &[(String, String)], now_ms: i64) -> Result<Box<RawValue>, &'static str> {
    let param = |name: &str| params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    let id = param("pair").ok_or("EGeneral:Invalid arguments")?;
    let pair = market_pair(id).ok_or("EQuery:Unknown asset pair")?;
    let minutes: i64 = match param("interval") {
        None => 1,
        Some(text) => text.trim().parse().map_err(|_| "EGeneral:Invalid arguments")?,
    };
    if !OHLC_INTERVALS.contains(&minutes) {
        return Err("EGeneral:Invalid arguments");
    }
    let since_ms = match param("since") {
        None => i64::MIN,
        Some(text) => {
            let seconds: Decimal = text.trim().parse().map_err(|_| "EGeneral:Invalid arguments")?;
            let ms: i64 =
                (seconds * Decimal::ONE_THOUSAND).floor().try_into().map_err(|_| "EGeneral:Invalid arguments")?;
            ms
        }
    };
    let length = minutes * 60_000;
    let open_now = now_ms - now_ms.rem_euclid(length);
    let first = (open_now - (OHLC_ROWS - 1) * length).max(market.start_ms());
    let mut rows = Vec::new();
    let mut open = first - first.rem_euclid(length);
    while open <= open_now {
        // `since` is exclusive; a row before the market's first price does not exist.
        if open > since_ms && open >= market.start_ms() {
            let span = if open == open_now { now_ms - open + 1 } else { length };
            if let Some(candle) = market.pair_ohlc(&pair, open, span) {
                let dp = pair.price_dp;
                let price = |value| json::render(&fixed(value, dp));
                rows.push([
                    json::render(&open.div_euclid(1000)),
                    price(candle.open),
                    price(candle.high),
                    price(candle.low),
                    price(candle.close),
                    price(candle.close),
                    json::render(&"1.00000000"),
                    json::render(&1),
                ]);
            }
        }
        open += length;
    }
    let last = (open_now - length).div_euclid(1000);
    Ok(json::render(&Ordered(vec![(pair.symbol.as_str(), json::render(&rows)), ("last", json::render(&last))])))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::generate::{Profile, generate};

    /// 2024-03-02T10:00:00Z.
    const NOW: i64 = 1_709_373_600_000;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn every_pair_maps_to_priced_assets_and_ids_are_sorted() {
        let market = generate(1, &Profile::demo()).market;
        assert!(PAIRS.windows(2).all(|w| w[0].0 < w[1].0));
        for (id, alt, ..) in PAIRS {
            let pair = market_pair(id).unwrap();
            assert_eq!(market_pair(alt), Some(pair.clone()));
            assert!(market.pair_price(&pair, NOW).is_some(), "{id}");
        }
        let pairs: serde_json::Value = serde_json::from_str(asset_pairs().get()).unwrap();
        assert_eq!(pairs["XXBTZCAD"]["wsname"], "XBT/CAD");
        assert_eq!(pairs["USDTAUD"]["wsname"], "USDT/AUD");
    }

    #[test]
    fn rows_end_with_the_open_interval_and_keep_to_720() {
        let market = generate(1, &Profile::demo()).market;
        let now = NOW + 90_000;
        let answer = ohlc(&market, &params(&[("pair", "XBTCAD"), ("since", "0")]), now).unwrap();
        let value: serde_json::Value = serde_json::from_str(answer.get()).unwrap();
        let rows = value["XXBTZCAD"].as_array().unwrap();
        assert_eq!(rows.len(), 720);
        assert_eq!(rows[719][0], (NOW + 60_000) / 1000);
        assert_eq!(value["last"], NOW / 1000);
        let pair = market_pair("XXBTZCAD").unwrap();
        // The open row's close is the price now; a closed row's is the price of its last minute.
        assert_eq!(rows[719][4].as_str().unwrap(), fixed(market.pair_price(&pair, now).unwrap(), 1));
        assert_eq!(rows[718][4].as_str().unwrap(), fixed(market.pair_price(&pair, NOW + 59_999).unwrap(), 1));
        let since = ohlc(&market, &params(&[("pair", "XXBTZCAD"), ("since", &(NOW / 1000 - 1).to_string())]), now);
        let value: serde_json::Value = serde_json::from_str(since.unwrap().get()).unwrap();
        assert_eq!(value["XXBTZCAD"].as_array().unwrap().len(), 2);
        assert_eq!(ohlc(&market, &params(&[("pair", "NOPE")]), now).err(), Some("EQuery:Unknown asset pair"));
        assert_eq!(
            ohlc(&market, &params(&[("pair", "XBTCAD"), ("interval", "2")]), now).err(),
            Some("EGeneral:Invalid arguments")
        );
        assert_eq!(ohlc(&market, &params(&[("interval", "1")]), now).err(), Some("EGeneral:Invalid arguments"));
    }
}

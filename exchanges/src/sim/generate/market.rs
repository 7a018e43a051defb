//! The generated market: assets, pairs, and every asset's seeded hourly USD price walk.

use std::collections::BTreeMap;

use rust_decimal::{Decimal, RoundingStrategy};

use super::*;

/// An asset of the generated market: code, USD price at the start, network, withdrawal fee.
pub(super) struct AssetSpec {
    pub(super) code: &'static str,
    pub(super) usd: &'static str,
    pub(super) network: &'static str,
    pub(super) withdraw_fee: &'static str,
}

pub(super) const fn spec(
    code: &'static str,
    usd: &'static str,
    network: &'static str,
    withdraw_fee: &'static str,
) -> AssetSpec {
    AssetSpec { code, usd, network, withdraw_fee }
}

/// The assets of the market. The first four are the quote assets along with EUR.
pub(super) const ASSETS: &[AssetSpec] = &[
    spec("USDT", "1", "TRX", "1"),
    spec("BTC", "16600", "BTC", "0.0002"),
    spec("ETH", "1200", "ETH", "0.0012"),
    spec("BNB", "245", "BSC", "0.0005"),
    spec("SOL", "10", "SOL", "0.01"),
    spec("ADA", "0.25", "ADA", "1"),
    spec("XRP", "0.34", "XRP", "0.25"),
    spec("DOT", "4.3", "DOT", "0.1"),
    spec("LDO", "1.05", "ETH", "2"),
    spec("WAVES", "2.4", "WAVES", "0.002"),
    spec("DOGE", "0.07", "DOGE", "4"),
    spec("LTC", "70", "LTC", "0.001"),
    spec("LINK", "5.6", "ETH", "0.3"),
    spec("MATIC", "0.76", "MATIC", "0.1"),
    spec("AVAX", "11", "AVAXC", "0.01"),
    spec("ATOM", "9.5", "ATOM", "0.005"),
    spec("TRX", "0.055", "TRX", "1"),
    spec("UNI", "5.2", "ETH", "0.3"),
    spec("XLM", "0.072", "XLM", "0.1"),
    spec("ALGO", "0.17", "ALGO", "0.01"),
    spec("NEAR", "1.3", "NEAR", "0.02"),
    spec("FIL", "3.1", "FIL", "0.01"),
    spec("AAVE", "52", "ETH", "0.02"),
    spec("ETC", "15", "ETC", "0.01"),
    spec("VET", "0.016", "VET", "20"),
    spec("SAND", "0.36", "ETH", "4"),
    spec("MANA", "0.3", "ETH", "4"),
    spec("AXS", "6", "ETH", "0.1"),
    spec("EOS", "0.8", "EOS", "0.1"),
    spec("XTZ", "0.7", "XTZ", "0.1"),
];

/// Fiat currencies: code and USD price at the start (GBP, CAD and AUD are reporting currencies).
pub(super) const FIATS: &[(&str, &str)] =
    &[("USD", "1"), ("EUR", "1.07"), ("GBP", "1.27"), ("CAD", "0.74"), ("AUD", "0.67")];

/// Crypto assets that only have a price (the bundled sample files hold them; the generated
/// person does not): code and USD price at the start.
pub(super) const PRICED_ONLY: &[(&str, &str)] = &[("USDC", "1"), ("ARB", "1.2"), ("GRT", "0.3"), ("SOLO", "0.35")];

/// Seed of the market's own random streams, mixed with the world's seed and each asset's code.
pub(super) const MARKET_SEED: u64 = 0x6d61_726b_6574_0001;

/// The symbols traded by every profile first, in this order (the delisted one is third).
pub(super) const CORE_PAIRS: &[(&str, &str)] = &[
    ("BTC", "USDT"),
    ("ETH", "USDT"),
    ("WAVES", "BTC"),
    ("BNB", "BTC"),
    ("ETH", "BTC"),
    ("BTC", "EUR"),
    ("LDO", "USDT"),
    ("SOL", "BNB"),
];

/// Listed symbols of the market that the person never trades.
pub(super) const UNTRADED_PAIRS: &[(&str, &str)] = &[("BNB", "ETH"), ("BTC", "TRY"), ("ETH", "EUR")];

/// A distribution source: its label and kind (`{ASSET}` is replaced by the asset).
pub(super) const DISTRIBUTIONS: &[(&str, RewardKind, &str)] = &[
    ("BNB Vault", RewardKind::Interest, "BNB"),
    ("Launchpool", RewardKind::Interest, "SOL"),
    ("ETH 2.0 Staking", RewardKind::Staking, "ETH"),
    ("Flexible Savings", RewardKind::Interest, "USDT"),
    ("Locked Staking", RewardKind::Staking, "DOT"),
    ("STAKING", RewardKind::Staking, "ADA"),
    ("{ASSET} distribution", RewardKind::Airdrop, "XTZ"),
    ("SOLO airdrop", RewardKind::Airdrop, "SOLO"),
    ("Cash Voucher", RewardKind::Rebate, "USDT"),
    ("Commission Rebate", RewardKind::Rebate, "BNB"),
    ("Megadrop Rewards", RewardKind::Income, "BNB"),
];

/// One symbol of the market.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    /// The exchange's symbol (`BTCUSDT`).
    pub symbol: String,
    /// Base asset.
    pub base: String,
    /// Quote asset.
    pub quote: String,
    /// Decimal places of its price.
    pub price_dp: u32,
    /// Decimal places of its quantity (`price_dp + qty_dp ≤ 8`, so `price × qty` has ≤ 8).
    pub qty_dp: u32,
    /// When it stopped trading, if it was delisted.
    pub delisted_ms: Option<i64>,
    /// Whether the person trades it.
    pub traded: bool,
}

impl Pair {
    /// Whether the symbol could be traded at `time_ms`.
    pub fn open_at(&self, time_ms: i64) -> bool {
        self.delisted_ms.is_none_or(|delisted| time_ms < delisted)
    }
}

/// Deterministic prices: every asset's USD price at every hour from [`PRICE_HISTORY_START_MS`]
/// to [`MARKET_TAIL_MS`] after the history's end, with minute-level interpolation between hours
/// (so a price is constant within a minute) and the last price kept after that. Each asset walks
/// on a random stream of its own, derived from the seed and its code: the same seed gives the
/// same prices in every profile (a longer history only adds hours at the end), and the market
/// does not depend on the history's draws. USD is exactly 1; USDT and USDC wobble within 0.5 %
/// of it (markets, not pegs); the other fiats drift slowly; crypto walks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Market {
    pub(super) start_ms: i64,
    /// Asset → USD price per hour from `start_ms`, in units of 1e-8 USD.
    pub(super) usd: BTreeMap<String, Vec<i64>>,
    pub(super) pairs: Vec<Pair>,
}

/// The prices of one candle: first, highest, lowest and last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ohlc {
    /// The price when the candle opens.
    pub open: Decimal,
    /// The highest price within it.
    pub high: Decimal,
    /// The lowest price within it.
    pub low: Decimal,
    /// The price of its last minute.
    pub close: Decimal,
}

/// How long the prices go on after the history ends (two years), so candles stay alive for a while.
pub const MARKET_TAIL_MS: i64 = 730 * DAY_MS;

/// Scale of the integer prices.
pub(super) const PRICE_SCALE: u32 = 8;

impl Market {
    pub(super) fn new(seed: u64, start_ms: i64, end_ms: i64) -> Market {
        let hours = usize::try_from((end_ms + MARKET_TAIL_MS - start_ms) / HOUR_MS + 2).unwrap_or(2);
        let mut usd = BTreeMap::new();
        let all = ASSETS
            .iter()
            .map(|asset| (asset.code, asset.usd))
            .chain(PRICED_ONLY.iter().copied())
            .chain(FIATS.iter().copied())
            .chain([("TRY", "0.053")]);
        for (code, start) in all {
            let mut rng = fastrand::Rng::with_seed(seed ^ MARKET_SEED ^ code_hash(code));
            usd.insert(code.to_owned(), walk(code, units(start), hours, &mut rng));
        }
        Market { start_ms, usd, pairs: Vec::new() }
    }

    /// When the prices begin (every symbol is listed from then on).
    pub fn start_ms(&self) -> i64 {
        self.start_ms
    }

    /// Every symbol of the market, traded or not.
    pub fn pairs(&self) -> &[Pair] {
        &self.pairs
    }

    /// The symbol with this exchange name.
    pub fn pair(&self, symbol: &str) -> Option<&Pair> {
        self.pairs.iter().find(|pair| pair.symbol == symbol)
    }

    /// The assets that have a price.
    pub fn assets(&self) -> impl Iterator<Item = &str> {
        self.usd.keys().map(String::as_str)
    }

    /// The USD price of `asset` at `time_ms`, or `None` before the history or for an unknown asset.
    pub fn usd(&self, asset: &str, time_ms: i64) -> Option<Decimal> {
        self.usd_units(asset, time_ms).map(|units| Decimal::new(units, PRICE_SCALE))
    }

    pub(super) fn usd_units(&self, asset: &str, time_ms: i64) -> Option<i64> {
        let series = self.usd.get(asset)?;
        if time_ms < self.start_ms || series.is_empty() {
            return None;
        }
        let offset = time_ms - self.start_ms;
        let hour = usize::try_from(offset / HOUR_MS).ok()?;
        if hour + 1 >= series.len() {
            return series.last().copied();
        }
        let (from, to) = (series[hour], series[hour + 1]);
        let minute = (offset % HOUR_MS) / 60_000;
        Some(from + (to - from) * minute / 60)
    }

    /// The price of `asset` in `quote` at `time_ms`: the symbol's price (with its decimals)
    /// when the market lists the pair, else the cross rate to 8 places; `None` if unknown.
    pub fn price(&self, asset: &str, quote: &str, time_ms: i64) -> Option<Decimal> {
        let dp =
            self.pairs.iter().find(|pair| pair.base == asset && pair.quote == quote).map_or(8, |pair| pair.price_dp);
        self.price_with_dp(asset, quote, time_ms, dp)
    }

    /// The price of a symbol at `time_ms`, with the symbol's decimals (never zero).
    pub fn pair_price(&self, pair: &Pair, time_ms: i64) -> Option<Decimal> {
        self.price_with_dp(&pair.base, &pair.quote, time_ms, pair.price_dp)
    }

    /// Open, high, low and close of `asset` in `quote` over the candle `[open_ms, open_ms +
    /// length_ms)`, at the precision of [`Market::price`]; `None` when there is no price at
    /// `open_ms` (before the market, an unknown asset).
    pub fn ohlc(&self, asset: &str, quote: &str, open_ms: i64, length_ms: i64) -> Option<Ohlc> {
        let dp =
            self.pairs.iter().find(|pair| pair.base == asset && pair.quote == quote).map_or(8, |pair| pair.price_dp);
        self.ohlc_with_dp(asset, quote, open_ms, length_ms, dp)
    }

    /// [`Market::ohlc`] of a symbol, with the symbol's decimals.
    pub fn pair_ohlc(&self, pair: &Pair, open_ms: i64, length_ms: i64) -> Option<Ohlc> {
        self.ohlc_with_dp(&pair.base, &pair.quote, open_ms, length_ms, pair.price_dp)
    }

    pub(super) fn ohlc_with_dp(&self, asset: &str, quote: &str, open_ms: i64, length_ms: i64, dp: u32) -> Option<Ohlc> {
        let open = self.price_with_dp(asset, quote, open_ms, dp)?;
        let last_ms = open_ms + (length_ms - 1).max(0);
        let close = self.price_with_dp(asset, quote, last_ms, dp).unwrap_or(open);
        let (mut high, mut low) = (open.max(close), open.min(close));
        // Prices are constant within a minute. Up to an hour, every minute is looked at. Beyond,
        // only the hours: prices are linear in USD between hours, so a ratio of two of them is
        // monotonic there but for the rounding of the integer steps, and the extremes are at the
        // ends or on an hour (within one rounding step).
        let step = if length_ms <= HOUR_MS { 60_000 } else { HOUR_MS };
        let mut time = open_ms - open_ms.rem_euclid(step) + step;
        while time < last_ms {
            if let Some(price) = self.price_with_dp(asset, quote, time, dp) {
                high = high.max(price);
                low = low.min(price);
            }
            time += step;
        }
        Some(Ohlc { open, high, low, close })
    }

    pub(super) fn price_with_dp(&self, asset: &str, quote: &str, time_ms: i64, dp: u32) -> Option<Decimal> {
        let base = self.usd(asset, time_ms)?;
        let quote = self.usd(quote, time_ms)?;
        if quote.is_zero() {
            return None;
        }
        let price = (base / quote).round_dp_with_strategy(dp, RoundingStrategy::MidpointNearestEven);
        Some(if price.is_zero() { Decimal::new(1, dp) } else { price })
    }

    /// How much of `to` the value of `amount` of `from` buys at `time_ms` (unrounded).
    pub(super) fn convert(&self, amount: Decimal, from: &str, to: &str, time_ms: i64) -> Option<Decimal> {
        let from = self.usd(from, time_ms)?;
        let to = self.usd(to, time_ms)?;
        if to.is_zero() { None } else { amount.checked_mul(from)?.checked_div(to) }
    }
}

/// The hourly USD prices of `code` from `first` (units of 1e-8 USD), `hours` of them.
pub(super) fn walk(code: &str, first: i64, hours: usize, rng: &mut fastrand::Rng) -> Vec<i64> {
    let mut series = Vec::with_capacity(hours);
    let mut price = first;
    match code {
        "USD" => series.resize(hours, first),
        "USDT" | "USDC" => {
            // A stablecoin: small steps pulled back towards 1 USD, never more than 0.5 % away.
            let band = first / 200;
            for _ in 0..hours {
                series.push(price);
                let off = price - first;
                let next = off + rng.i64(-band / 8..=band / 8) - off / 16;
                price = first + next.clamp(-band, band);
            }
        }
        _ => {
            let step = if crate::asset::is_fiat(code) { 150 } else { 6_000 };
            for _ in 0..hours {
                series.push(price);
                let mut delta = rng.i64(-step..=step);
                // Keep the walk within a factor of eight of where it started.
                if price > first.saturating_mul(8) {
                    delta -= step / 2;
                } else if price < first / 8 {
                    delta += step / 2;
                }
                let next = i128::from(price) * i128::from(1_000_000 + delta) / 1_000_000;
                price = i64::try_from(next).unwrap_or(price).max(100);
            }
        }
    }
    series
}

/// FNV-1a of an asset code: mixes the code into the seed of its price stream.
pub(super) fn code_hash(code: &str) -> u64 {
    code.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3))
}

/// A price's text as integer units of 1e-8.
pub(super) fn units(text: &str) -> i64 {
    let value: Decimal = text.parse().unwrap_or(Decimal::ONE);
    (value * Decimal::new(100_000_000, 0)).trunc().mantissa().try_into().unwrap_or(100_000_000)
}

/// Decimal places that show about five significant digits of a price, between 2 and 8.
pub(super) fn price_places(price: Decimal) -> u32 {
    let mut places: i64 = 4;
    let mut scaled = price;
    while scaled >= Decimal::TEN && places > -8 {
        scaled /= Decimal::TEN;
        places -= 1;
    }
    while scaled < Decimal::ONE && places < 8 && !scaled.is_zero() {
        scaled *= Decimal::TEN;
        places += 1;
    }
    u32::try_from(places.clamp(2, 8)).unwrap_or(8)
}

/// Decimal places of amounts the person types for `asset` (deposits, withdrawals).
pub(super) fn typed_places(asset: &str) -> u32 {
    match asset {
        "USDT" | "USD" | "EUR" | "TRY" => 2,
        "BTC" | "ETH" | "BNB" | "LTC" | "AAVE" => 6,
        _ => 4,
    }
}

pub(super) fn asset_spec(code: &str) -> Option<&'static AssetSpec> {
    ASSETS.iter().find(|asset| asset.code == code)
}

//! One person's multi-year history, generated from a seed and shared by every exchange simulator.
//!
//! [`generate`] builds a [`World`]: a [`Market`] (a seeded hourly random walk of every asset's
//! USD price, in exact integers, from which trade prices, conversions and candles are taken)
//! and a [`History`] of exchange-neutral [`Activity`] records per account. The person deposits
//! fiat and crypto, trades, converts, buys with a card, sweeps dust into BNB, earns rewards and
//! withdraws, and the generator tracks every balance as it goes so that none ever becomes
//! negative; a few records end failed or rejected and change nothing. Every amount is an exact
//! decimal with exchange-like precision (8 places for crypto, 2 for fiat amounts typed by the
//! person). Nothing depends on the wall clock: the same seed and [`Profile`] give the same
//! history, byte for byte. Crypto that leaves the exchange arrives in the `external` wallet
//! account (and the other way round) with the same transaction hash, so a transfer between two
//! accounts of the person can be matched.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::{Decimal, RoundingStrategy};

/// One hour in milliseconds.
pub const HOUR_MS: i64 = 3_600_000;
/// One day in milliseconds.
pub const DAY_MS: i64 = 86_400_000;
/// The account name of the person's Binance account in a [`History`].
pub const BINANCE: &str = "binance";
/// The account name of the person's own wallet outside every exchange.
pub const EXTERNAL_WALLET: &str = "external";
/// 2020-12-01T00:00:00Z: Binance keeps dust conversions only from this day on.
pub const DUST_HISTORY_START_MS: i64 = 1_606_780_800_000;
/// 2020-01-01T00:00:00Z: the market's prices (and every symbol's candles) start here, whatever
/// the profile, so that files from earlier years than the history can be valued too.
pub const PRICE_HISTORY_START_MS: i64 = 1_577_836_800_000;

/// The size and time span of a generated history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// First millisecond of the history (UTC).
    pub start_ms: i64,
    /// Last millisecond of the history.
    pub end_ms: i64,
    /// Spot trades (fills).
    pub trades: usize,
    /// Symbols traded (one of them delisted halfway).
    pub symbols: usize,
    /// Crypto deposits and withdrawals together (successful ones).
    pub transfers: usize,
    /// Fiat deposits and withdrawals together.
    pub fiat_transfers: usize,
    /// Crypto bought with a card or the fiat cash balance.
    pub card_buys: usize,
    /// Convert trades.
    pub converts: usize,
    /// Dust conversions to BNB.
    pub dust: usize,
    /// Distributions (staking, savings interest, airdrops, rebates).
    pub dividends: usize,
    /// Simple Earn flexible reward rows.
    pub earn_flexible: usize,
    /// Simple Earn locked reward rows.
    pub earn_locked: usize,
    /// Failed or rejected records (no balance change), spread over the kinds that have them.
    pub failed: usize,
}

impl Profile {
    /// A small account: about 300 trades over 8 symbols and 40 deposits/withdrawals in
    /// 2024–2025, with a few of every other kind.
    pub fn demo() -> Profile {
        Profile {
            start_ms: 1_704_067_200_000, // 2024-01-01T00:00:00Z
            end_ms: 1_767_225_599_999,   // 2025-12-31T23:59:59.999Z
            trades: 300,
            symbols: 8,
            transfers: 40,
            fiat_transfers: 10,
            card_buys: 8,
            converts: 10,
            dust: 4,
            dividends: 24,
            earn_flexible: 30,
            earn_locked: 12,
            failed: 10,
        }
    }

    /// The benchmark account: 100,000 trades over 50 symbols and 5,000 deposits/withdrawals
    /// in 2023–2025.
    pub fn bench() -> Profile {
        Profile {
            start_ms: 1_672_531_200_000, // 2023-01-01T00:00:00Z
            end_ms: 1_767_225_599_999,
            trades: 100_000,
            symbols: 50,
            transfers: 5_000,
            fiat_transfers: 200,
            card_buys: 150,
            converts: 300,
            dust: 60,
            dividends: 600,
            earn_flexible: 1_500,
            earn_locked: 400,
            failed: 100,
        }
    }
}

/// How a record ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    /// Done: it changed the balances.
    Completed,
    /// Failed, rejected, expired or refunded: it changed nothing.
    Failed,
}

/// How a card buy was paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PayMethod {
    /// A card: the fiat never sat in the exchange balance.
    CreditCard,
    /// The fiat balance held on the exchange.
    CashBalance,
}

/// What kind of income a reward is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RewardKind {
    /// Staking rewards.
    Staking,
    /// Savings or earn interest.
    Interest,
    /// Airdrops and token distributions.
    Airdrop,
    /// Vouchers, fee rebates, commissions.
    Rebate,
    /// Anything else.
    Income,
}

/// Which program paid a reward, which decides the endpoint an exchange reports it on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RewardChannel {
    /// A distribution (Binance: asset dividend), with its description (`enInfo`).
    Distribution,
    /// Flexible earn, with the product and reward type.
    FlexibleEarn {
        /// Product id (`USDT001`).
        product: String,
        /// Reward type (`REALTIME`, `BONUS`).
        reward_type: String,
    },
    /// Locked earn, with the position and reward type.
    LockedEarn {
        /// Position id.
        position: u64,
        /// Lock period in days.
        lock_days: u32,
        /// Reward type (`Locked Rewards`, `Boost Rewards`).
        reward_type: String,
    },
}

/// One part of a dust conversion: a small balance swept into BNB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DustPart {
    /// The asset swept.
    pub asset: String,
    /// How much of it.
    pub amount: Decimal,
    /// BNB credited, net of the charge.
    pub bnb: Decimal,
    /// BNB charged as the service fee.
    pub fee: Decimal,
    /// The part's own transaction id.
    pub id: u64,
}

/// One thing that happened in an account, in exchange-neutral terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Activity {
    /// A spot fill.
    Trade {
        /// Asset bought or sold.
        base: String,
        /// Asset paid or received for it.
        quote: String,
        /// Whether the person bought the base.
        is_buy: bool,
        /// Base quantity.
        qty: Decimal,
        /// Price in quote per base.
        price: Decimal,
        /// `price × qty`, exactly.
        quote_qty: Decimal,
        /// Asset the fee was paid in (base, quote, BNB or a third asset).
        fee_asset: String,
        /// Fee amount (may be zero).
        fee: Decimal,
        /// When (ms).
        time_ms: i64,
        /// Trade id, ascending per symbol.
        id: u64,
        /// Order id (shared by the fills of one order).
        order_id: u64,
        /// Whether the person's order was resting in the book.
        is_maker: bool,
    },
    /// Crypto arriving.
    Deposit {
        /// Asset.
        asset: String,
        /// Amount credited.
        amount: Decimal,
        /// Network.
        network: String,
        /// Receiving address.
        address: String,
        /// Transaction hash.
        tx_hash: String,
        /// When (ms).
        time_ms: i64,
        /// The receiving side's id.
        id: String,
        /// How it ended.
        outcome: Outcome,
    },
    /// Crypto leaving.
    Withdrawal {
        /// Asset.
        asset: String,
        /// Amount that leaves on chain (the fee comes on top).
        amount: Decimal,
        /// Network fee charged on top of `amount`.
        fee: Decimal,
        /// Network.
        network: String,
        /// Destination address.
        address: String,
        /// Transaction hash.
        tx_hash: String,
        /// When it was requested (ms).
        time_ms: i64,
        /// The sending side's id.
        id: String,
        /// How it ended.
        outcome: Outcome,
    },
    /// Fiat arriving from a bank.
    FiatDeposit {
        /// Currency.
        currency: String,
        /// Amount sent by the bank (the fee is taken from it).
        amount: Decimal,
        /// Fee.
        fee: Decimal,
        /// Payment method label.
        method: String,
        /// When (ms).
        time_ms: i64,
        /// Order number.
        id: String,
        /// How it ended.
        outcome: Outcome,
    },
    /// Fiat leaving to a bank.
    FiatWithdrawal {
        /// Currency.
        currency: String,
        /// Amount paid out (the fee comes on top).
        amount: Decimal,
        /// Fee.
        fee: Decimal,
        /// Payment method label.
        method: String,
        /// When (ms).
        time_ms: i64,
        /// Order number.
        id: String,
        /// How it ended.
        outcome: Outcome,
    },
    /// Crypto bought with fiat from a card or the cash balance.
    CardBuy {
        /// Fiat currency.
        fiat: String,
        /// Crypto bought.
        crypto: String,
        /// Fiat paid, fee included.
        source_amount: Decimal,
        /// Crypto received.
        obtain_amount: Decimal,
        /// Fiat fee (part of `source_amount`).
        fee: Decimal,
        /// Price in fiat per crypto.
        price: Decimal,
        /// How it was paid.
        method: PayMethod,
        /// When (ms).
        time_ms: i64,
        /// Order number.
        id: String,
        /// How it ended.
        outcome: Outcome,
    },
    /// A Convert trade.
    Convert {
        /// Asset given.
        from_asset: String,
        /// Amount given.
        from_amount: Decimal,
        /// Asset received.
        to_asset: String,
        /// Amount received.
        to_amount: Decimal,
        /// When (ms).
        time_ms: i64,
        /// Order id.
        id: u64,
        /// Quote id.
        quote_id: String,
        /// How it ended.
        outcome: Outcome,
    },
    /// Small balances swept into BNB.
    Dust {
        /// When (ms).
        time_ms: i64,
        /// Conversion id.
        id: u64,
        /// The assets swept.
        parts: Vec<DustPart>,
    },
    /// Income credited by the exchange.
    Reward {
        /// What kind of income.
        kind: RewardKind,
        /// Which program paid it.
        channel: RewardChannel,
        /// Human label of the source (`ETH 2.0 Staking`, `BNB Vault`).
        source: String,
        /// Asset.
        asset: String,
        /// Amount (may be zero on distributions).
        amount: Decimal,
        /// When (ms).
        time_ms: i64,
        /// Id.
        id: u64,
    },
}

impl Activity {
    /// When it happened (ms since the Unix epoch).
    pub fn time_ms(&self) -> i64 {
        match self {
            Activity::Trade { time_ms, .. }
            | Activity::Deposit { time_ms, .. }
            | Activity::Withdrawal { time_ms, .. }
            | Activity::FiatDeposit { time_ms, .. }
            | Activity::FiatWithdrawal { time_ms, .. }
            | Activity::CardBuy { time_ms, .. }
            | Activity::Convert { time_ms, .. }
            | Activity::Dust { time_ms, .. }
            | Activity::Reward { time_ms, .. } => *time_ms,
        }
    }

    /// The balance changes it makes, asset by asset (empty for a failed record).
    pub fn effects(&self) -> Vec<(String, Decimal)> {
        match self {
            Activity::Trade { base, quote, is_buy, qty, quote_qty, fee_asset, fee, .. } => {
                let sign = if *is_buy { Decimal::ONE } else { Decimal::NEGATIVE_ONE };
                vec![(base.clone(), sign * qty), (quote.clone(), -sign * quote_qty), (fee_asset.clone(), -fee)]
            }
            Activity::Deposit { asset, amount, outcome: Outcome::Completed, .. } => vec![(asset.clone(), *amount)],
            Activity::Withdrawal { asset, amount, fee, outcome: Outcome::Completed, .. } => {
                vec![(asset.clone(), -(amount + fee))]
            }
            Activity::FiatDeposit { currency, amount, fee, outcome: Outcome::Completed, .. } => {
                vec![(currency.clone(), amount - fee)]
            }
            Activity::FiatWithdrawal { currency, amount, fee, outcome: Outcome::Completed, .. } => {
                vec![(currency.clone(), -(amount + fee))]
            }
            Activity::CardBuy {
                fiat,
                crypto,
                source_amount,
                obtain_amount,
                method,
                outcome: Outcome::Completed,
                ..
            } => {
                let mut effects = vec![(crypto.clone(), *obtain_amount)];
                if *method == PayMethod::CashBalance {
                    effects.push((fiat.clone(), -source_amount));
                }
                effects
            }
            Activity::Convert { from_asset, from_amount, to_asset, to_amount, outcome: Outcome::Completed, .. } => {
                vec![(from_asset.clone(), -from_amount), (to_asset.clone(), *to_amount)]
            }
            Activity::Dust { parts, .. } => parts
                .iter()
                .flat_map(|part| [(part.asset.clone(), -part.amount), ("BNB".to_owned(), part.bnb)])
                .collect(),
            Activity::Reward { asset, amount, .. } => vec![(asset.clone(), *amount)],
            _ => Vec::new(),
        }
    }
}

/// Every account of the person, each with its activity in time order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct History {
    /// Account name ([`BINANCE`], [`EXTERNAL_WALLET`], …) → its activity, oldest first.
    pub accounts: BTreeMap<String, Vec<Activity>>,
}

impl History {
    /// The activity of one account (empty if it has none).
    pub fn account(&self, name: &str) -> &[Activity] {
        self.accounts.get(name).map_or(&[], Vec::as_slice)
    }

    /// The balances of an account: the sum of the effects of its activity (zeros kept).
    pub fn balances(&self, name: &str) -> BTreeMap<String, Decimal> {
        let mut balances = BTreeMap::new();
        for activity in self.account(name) {
            for (asset, delta) in activity.effects() {
                *balances.entry(asset).or_insert(Decimal::ZERO) += delta;
            }
        }
        balances
    }
}

/// An asset of the generated market: code, USD price at the start, network, withdrawal fee.
struct AssetSpec {
    code: &'static str,
    usd: &'static str,
    network: &'static str,
    withdraw_fee: &'static str,
}

const fn spec(code: &'static str, usd: &'static str, network: &'static str, withdraw_fee: &'static str) -> AssetSpec {
    AssetSpec { code, usd, network, withdraw_fee }
}

/// The assets of the market. The first four are the quote assets along with EUR.
const ASSETS: &[AssetSpec] = &[
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
const FIATS: &[(&str, &str)] = &[("USD", "1"), ("EUR", "1.07"), ("GBP", "1.27"), ("CAD", "0.74"), ("AUD", "0.67")];

/// Crypto assets that only have a price (the bundled sample files hold them; the generated
/// person does not): code and USD price at the start.
const PRICED_ONLY: &[(&str, &str)] = &[("USDC", "1"), ("ARB", "1.2"), ("GRT", "0.3"), ("SOLO", "0.35")];

/// Seed of the market's own random streams, mixed with the world's seed and each asset's code.
const MARKET_SEED: u64 = 0x6d61_726b_6574_0001;

/// The symbols traded by every profile first, in this order (the delisted one is third).
const CORE_PAIRS: &[(&str, &str)] = &[
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
const UNTRADED_PAIRS: &[(&str, &str)] = &[("BNB", "ETH"), ("BTC", "TRY"), ("ETH", "EUR")];

/// A distribution source: its label and kind (`{ASSET}` is replaced by the asset).
const DISTRIBUTIONS: &[(&str, RewardKind, &str)] = &[
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
    start_ms: i64,
    /// Asset → USD price per hour from `start_ms`, in units of 1e-8 USD.
    usd: BTreeMap<String, Vec<i64>>,
    pairs: Vec<Pair>,
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
const PRICE_SCALE: u32 = 8;

impl Market {
    fn new(seed: u64, start_ms: i64, end_ms: i64) -> Market {
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

    fn usd_units(&self, asset: &str, time_ms: i64) -> Option<i64> {
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

    fn ohlc_with_dp(&self, asset: &str, quote: &str, open_ms: i64, length_ms: i64, dp: u32) -> Option<Ohlc> {
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

    fn price_with_dp(&self, asset: &str, quote: &str, time_ms: i64, dp: u32) -> Option<Decimal> {
        let base = self.usd(asset, time_ms)?;
        let quote = self.usd(quote, time_ms)?;
        if quote.is_zero() {
            return None;
        }
        let price = (base / quote).round_dp_with_strategy(dp, RoundingStrategy::MidpointNearestEven);
        Some(if price.is_zero() { Decimal::new(1, dp) } else { price })
    }

    /// How much of `to` the value of `amount` of `from` buys at `time_ms` (unrounded).
    fn convert(&self, amount: Decimal, from: &str, to: &str, time_ms: i64) -> Option<Decimal> {
        let from = self.usd(from, time_ms)?;
        let to = self.usd(to, time_ms)?;
        if to.is_zero() { None } else { amount.checked_mul(from)?.checked_div(to) }
    }
}

/// The hourly USD prices of `code` from `first` (units of 1e-8 USD), `hours` of them.
fn walk(code: &str, first: i64, hours: usize, rng: &mut fastrand::Rng) -> Vec<i64> {
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
fn code_hash(code: &str) -> u64 {
    code.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3))
}

/// A price's text as integer units of 1e-8.
fn units(text: &str) -> i64 {
    let value: Decimal = text.parse().unwrap_or(Decimal::ONE);
    (value * Decimal::new(100_000_000, 0)).trunc().mantissa().try_into().unwrap_or(100_000_000)
}

/// Decimal places that show about five significant digits of a price, between 2 and 8.
fn price_places(price: Decimal) -> u32 {
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

/// Rounds towards zero to `dp` places.
fn floor_dp(value: Decimal, dp: u32) -> Decimal {
    value.round_dp_with_strategy(dp, RoundingStrategy::ToZero)
}

/// A percentage drawn from `range` as a decimal fraction.
fn percent(rng: &mut fastrand::Rng, range: std::ops::RangeInclusive<i64>) -> Decimal {
    Decimal::new(rng.i64(range), 2)
}

fn hex(rng: &mut fastrand::Rng, length: usize) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    (0..length).map(|_| char::from(DIGITS[rng.usize(0..16)])).collect()
}

fn uuid(rng: &mut fastrand::Rng) -> String {
    format!("{}-{}-4{}-{}-{}", hex(rng, 8), hex(rng, 4), hex(rng, 3), hex(rng, 4), hex(rng, 12))
}

/// Decimal places of amounts the person types for `asset` (deposits, withdrawals).
fn typed_places(asset: &str) -> u32 {
    match asset {
        "USDT" | "USD" | "EUR" | "TRY" => 2,
        "BTC" | "ETH" | "BNB" | "LTC" | "AAVE" => 6,
        _ => 4,
    }
}

fn asset_spec(code: &str) -> Option<&'static AssetSpec> {
    ASSETS.iter().find(|asset| asset.code == code)
}

/// Per-symbol id counters of the person's fills.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PairIds {
    next_trade: u64,
    next_order: u64,
    /// The last order: id, side (buy?), time.
    last_order: Option<(u64, bool, i64)>,
}

/// The person behind a history: balances and id counters, so more activity can be added later.
#[derive(Debug, Clone)]
pub struct Person {
    rng: fastrand::Rng,
    balances: BTreeMap<String, Decimal>,
    ids: BTreeMap<String, PairIds>,
    next_deposit: u64,
    next_convert: u64,
    next_dust: u64,
    next_dust_part: u64,
    next_reward: u64,
    next_position: u64,
    deposit_addresses: BTreeMap<String, String>,
    reward_keys: BTreeSet<(i64, String, String, String)>,
}

/// A generated market and history, and the person who can keep trading in it.
#[derive(Debug, Clone)]
pub struct World {
    /// Prices and symbols.
    pub market: Market,
    /// Every account's activity.
    pub history: History,
    /// The person's state after the history.
    pub person: Person,
}

impl World {
    /// Adds another exchange generator's external-wallet side (deposits and withdrawals with
    /// the same hashes) to the `external` wallet, kept oldest first.
    pub fn share_external(&mut self, activities: &[Activity]) {
        let external = self.history.accounts.entry(EXTERNAL_WALLET.to_string()).or_default();
        external.extend(activities.iter().cloned());
        external.sort_by_key(Activity::time_ms);
    }

    /// Appends `count` trades from `time_ms` on (one millisecond apart; normally "now") to the
    /// Binance account and returns every new Binance record in time order: the trades, and any
    /// deposit the person had to make first (its on-chain side goes to the external wallet).
    pub fn add_trades(&mut self, count: usize, time_ms: i64) -> Vec<Activity> {
        let mut binance = Vec::with_capacity(count);
        let mut external = Vec::new();
        for index in 0..count {
            let at = time_ms + i64::try_from(index).unwrap_or(0);
            let trade = self.person.trade(&self.market, at, &mut binance, &mut external);
            binance.push(trade);
        }
        binance.sort_by_key(Activity::time_ms);
        self.history.accounts.entry(BINANCE.to_owned()).or_default().extend(binance.iter().cloned());
        self.history.accounts.entry(EXTERNAL_WALLET.to_owned()).or_default().extend(external);
        binance
    }
}

/// What a time slot of the history will hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Slot {
    Trade,
    Transfer,
    Fiat,
    Card,
    Convert,
    Dust,
    Dividend,
    Flexible,
    Locked,
    Failed,
}

/// Generates the world for `seed` and `profile`: same inputs, same world.
pub fn generate(seed: u64, profile: &Profile) -> World {
    let mut rng = fastrand::Rng::with_seed(seed);
    // A profile that starts before 2020 moves the prices' start back to its first day.
    let prices_from = PRICE_HISTORY_START_MS.min(profile.start_ms - profile.start_ms.rem_euclid(DAY_MS));
    let mut market = Market::new(seed, prices_from, profile.end_ms);
    market.pairs = choose_pairs(&market, profile, &mut rng);
    let mut person = Person {
        rng: fastrand::Rng::with_seed(seed ^ 0x0005_eed0_fa11),
        balances: BTreeMap::new(),
        ids: BTreeMap::new(),
        next_deposit: 700_000_000_000_000_000 + rng.u64(0..1_000_000_000),
        next_convert: 900_000_000_000_000_000 + rng.u64(0..1_000_000_000),
        next_dust: 40_000_000_000 + rng.u64(0..1_000_000),
        next_dust_part: 4_000_000 + rng.u64(0..100_000),
        next_reward: 1_600_000_000 + rng.u64(0..10_000_000),
        next_position: 100_000 + rng.u64(0..100_000),
        deposit_addresses: BTreeMap::new(),
        reward_keys: BTreeSet::new(),
    };
    for pair in &market.pairs {
        person.ids.insert(
            pair.symbol.clone(),
            PairIds {
                next_trade: rng.u64(1_000_000..90_000_000),
                next_order: rng.u64(100_000..9_000_000),
                last_order: None,
            },
        );
    }

    let mut slots: Vec<(i64, Slot)> = Vec::new();
    let first = profile.start_ms + DAY_MS;
    let last = (profile.end_ms - HOUR_MS).max(first + 1);
    let mut add = |count: usize, slot: Slot, rng: &mut fastrand::Rng| {
        for _ in 0..count {
            slots.push((rng.i64(first..last), slot));
        }
    };
    add(profile.trades, Slot::Trade, &mut rng);
    add(profile.transfers.saturating_sub(4), Slot::Transfer, &mut rng);
    add(profile.fiat_transfers.saturating_sub(if profile.fiat_transfers >= 2 { 2 } else { 1 }), Slot::Fiat, &mut rng);
    add(profile.card_buys, Slot::Card, &mut rng);
    add(profile.converts, Slot::Convert, &mut rng);
    add(profile.dust, Slot::Dust, &mut rng);
    add(profile.dividends, Slot::Dividend, &mut rng);
    add(profile.earn_flexible, Slot::Flexible, &mut rng);
    add(profile.earn_locked, Slot::Locked, &mut rng);
    add(profile.failed, Slot::Failed, &mut rng);
    slots.sort_unstable();

    let mut binance = Vec::with_capacity(slots.len() + 8);
    let mut external = Vec::new();
    // Funding at the start: a bank transfer in euros and crypto from the person's own wallet.
    let funding = [("EUR", "25000"), ("USDT", "60000"), ("BTC", "1.5"), ("ETH", "20"), ("BNB", "120"), ("USD", "3000")];
    for (index, (asset, amount)) in funding.iter().enumerate() {
        let time_ms = profile.start_ms + HOUR_MS * (index as i64 + 1) + person.rng.i64(0..HOUR_MS);
        let amount: Decimal = amount.parse().unwrap_or(Decimal::ONE);
        if matches!(*asset, "EUR" | "USD") {
            if *asset == "USD" && profile.fiat_transfers < 2 {
                continue;
            }
            let activity = person.fiat_deposit(asset, amount, time_ms, Outcome::Completed);
            binance.push(activity);
        } else {
            person.deposit(asset, amount, time_ms, Outcome::Completed, &mut binance, &mut external);
        }
    }
    let mut failed_index = 0usize;
    for (time_ms, slot) in slots {
        match slot {
            Slot::Trade => {
                let trade = person.trade(&market, time_ms, &mut binance, &mut external);
                binance.push(trade);
            }
            Slot::Transfer => person.transfer(&market, time_ms, &mut binance, &mut external),
            Slot::Fiat => person.fiat_transfer(time_ms, &mut binance),
            Slot::Card => person.card_buy(&market, time_ms, Outcome::Completed, &mut binance),
            Slot::Convert => person.convert(&market, time_ms, Outcome::Completed, &mut binance),
            Slot::Dust => person.dust(&market, time_ms.max(DUST_HISTORY_START_MS), &mut binance),
            Slot::Dividend => person.dividend(&market, time_ms, &mut binance),
            Slot::Flexible => person.flexible(&market, time_ms, &mut binance),
            Slot::Locked => person.locked(&market, time_ms, &mut binance),
            Slot::Failed => {
                person.failed(&market, time_ms, failed_index, &mut binance, &mut external);
                failed_index += 1;
            }
        }
    }
    binance.sort_by_key(Activity::time_ms);
    external.sort_by_key(Activity::time_ms);
    let mut history = History::default();
    history.accounts.insert(BINANCE.to_owned(), binance);
    history.accounts.insert(EXTERNAL_WALLET.to_owned(), external);
    World { market, history, person }
}

/// The market's symbols: the core ones, then others at random until `profile.symbols` are
/// traded; then a few listed symbols the person never trades.
fn choose_pairs(market: &Market, profile: &Profile, rng: &mut fastrand::Rng) -> Vec<Pair> {
    let mut candidates: Vec<(String, String)> = Vec::new();
    for asset in ASSETS.iter().skip(4) {
        for quote in ["USDT", "BTC", "BNB", "ETH"] {
            candidates.push((asset.code.to_owned(), quote.to_owned()));
        }
    }
    for (base, quote) in [("BNB", "USDT"), ("BNB", "EUR"), ("BTC", "BNB"), ("USDT", "EUR"), ("ETH", "BNB")] {
        candidates.push((base.to_owned(), quote.to_owned()));
    }
    candidates.retain(|(base, quote)| {
        !CORE_PAIRS.contains(&(base.as_str(), quote.as_str()))
            && !UNTRADED_PAIRS.contains(&(base.as_str(), quote.as_str()))
    });
    rng.shuffle(&mut candidates);
    let mut ordered: Vec<(String, String)> =
        CORE_PAIRS.iter().map(|(base, quote)| ((*base).to_owned(), (*quote).to_owned())).collect();
    ordered.extend(candidates);
    let delist_ms = profile.start_ms + (profile.end_ms - profile.start_ms) * 9 / 20;
    let mut pairs = Vec::new();
    let make = |base: &str, quote: &str, traded: bool| {
        let price = market.price_with_dp(base, quote, market.start_ms, 12).unwrap_or(Decimal::ONE);
        let price_dp = price_places(price);
        Pair {
            symbol: format!("{base}{quote}"),
            base: base.to_owned(),
            quote: quote.to_owned(),
            price_dp,
            qty_dp: (8 - price_dp).min(6),
            delisted_ms: (base == "WAVES" && quote == "BTC").then_some(delist_ms),
            traded,
        }
    };
    for (base, quote) in ordered.iter().take(profile.symbols.max(1)) {
        pairs.push(make(base, quote, true));
    }
    for (base, quote) in UNTRADED_PAIRS {
        pairs.push(make(base, quote, false));
    }
    pairs
}

impl Person {
    fn balance(&self, asset: &str) -> Decimal {
        self.balances.get(asset).copied().unwrap_or(Decimal::ZERO)
    }

    fn apply(&mut self, activity: &Activity) {
        for (asset, delta) in activity.effects() {
            let balance = self.balances.entry(asset).or_insert(Decimal::ZERO);
            *balance += delta;
            debug_assert!(*balance >= Decimal::ZERO, "{activity:?}");
        }
    }

    /// Whether the activity leaves every balance at zero or above.
    fn affordable(&self, activity: &Activity) -> bool {
        let mut after: BTreeMap<String, Decimal> = BTreeMap::new();
        for (asset, delta) in activity.effects() {
            let balance = after.entry(asset.clone()).or_insert_with(|| self.balance(&asset));
            *balance += delta;
        }
        after.values().all(|balance| *balance >= Decimal::ZERO)
    }

    fn deposit_address(&mut self, asset: &str) -> String {
        let network = asset_spec(asset).map_or("ETH", |spec| spec.network);
        if let Some(address) = self.deposit_addresses.get(network) {
            return address.clone();
        }
        let address = match network {
            "BTC" => format!("bc1q{}", hex(&mut self.rng, 38)),
            "TRX" => format!("T{}", hex(&mut self.rng, 33)),
            "ETH" | "BSC" | "AVAXC" | "MATIC" => format!("0x{}", hex(&mut self.rng, 40)),
            _ => format!("{}1{}", network.to_ascii_lowercase(), hex(&mut self.rng, 38)),
        };
        self.deposit_addresses.insert(network.to_owned(), address.clone());
        address
    }

    fn tx_hash(&mut self, network: &str) -> String {
        match network {
            "ETH" | "BSC" | "AVAXC" | "MATIC" => format!("0x{}", hex(&mut self.rng, 64)),
            _ => hex(&mut self.rng, 64),
        }
    }

    /// A crypto deposit of `amount` from the person's own wallet (which records the withdrawal).
    fn deposit(
        &mut self,
        asset: &str,
        amount: Decimal,
        time_ms: i64,
        outcome: Outcome,
        binance: &mut Vec<Activity>,
        external: &mut Vec<Activity>,
    ) {
        let network = asset_spec(asset).map_or("ETH", |spec| spec.network).to_owned();
        let address = self.deposit_address(asset);
        let tx_hash = self.tx_hash(&network);
        self.next_deposit += self.rng.u64(1_000..1_000_000_000);
        let deposit = Activity::Deposit {
            asset: asset.to_owned(),
            amount,
            network: network.clone(),
            address: address.clone(),
            tx_hash: tx_hash.clone(),
            time_ms,
            id: self.next_deposit.to_string(),
            outcome,
        };
        self.apply(&deposit);
        binance.push(deposit);
        if outcome == Outcome::Completed {
            external.push(Activity::Withdrawal {
                asset: asset.to_owned(),
                amount,
                fee: Decimal::ZERO,
                network,
                address,
                tx_hash,
                time_ms: time_ms - self.rng.i64(60_000..1_800_000),
                id: format!("ext-{}", hex(&mut self.rng, 16)),
                outcome,
            });
        }
    }

    fn fiat_deposit(&mut self, currency: &str, amount: Decimal, time_ms: i64, outcome: Outcome) -> Activity {
        let (fee, method) = if currency == "EUR" {
            (Decimal::ZERO, "SEPA")
        } else {
            (floor_dp(amount * Decimal::new(1, 2), 2), "BankAccount")
        };
        let activity = Activity::FiatDeposit {
            currency: currency.to_owned(),
            amount,
            fee,
            method: method.to_owned(),
            time_ms,
            id: uuid(&mut self.rng),
            outcome,
        };
        self.apply(&activity);
        activity
    }

    /// One spot fill at `time_ms`; if nothing can be traded, the person first deposits some of a
    /// quote asset (pushed to `binance`, its on-chain side to `external`).
    fn trade(
        &mut self,
        market: &Market,
        time_ms: i64,
        binance: &mut Vec<Activity>,
        external: &mut Vec<Activity>,
    ) -> Activity {
        let traded: Vec<usize> = (0..market.pairs.len())
            .filter(|&index| market.pairs[index].traded && market.pairs[index].open_at(time_ms))
            .collect();
        for _ in 0..12 {
            let Some(&index) = traded.get(self.rng.usize(0..traded.len().max(1))) else { break };
            if let Some(trade) = self.try_trade(market, &market.pairs[index], time_ms) {
                self.apply(&trade);
                return trade;
            }
        }
        let index = traded.first().copied().unwrap_or(0);
        let pair = &market.pairs[index];
        let value = market.convert(Decimal::new(5_000, 0), "USDT", &pair.quote, time_ms).unwrap_or(Decimal::ONE);
        let mut amount = floor_dp(value, typed_places(&pair.quote)).max(Decimal::ONE);
        loop {
            self.deposit(&pair.quote, amount, time_ms - 1, Outcome::Completed, binance, external);
            if let Some(trade) = self.try_trade(market, pair, time_ms) {
                self.apply(&trade);
                return trade;
            }
            amount *= Decimal::TEN;
        }
    }

    fn try_trade(&mut self, market: &Market, pair: &Pair, time_ms: i64) -> Option<Activity> {
        let price = market.pair_price(pair, time_ms)?;
        let quote_usd = market.convert(self.balance(&pair.quote), &pair.quote, "USDT", time_ms)?;
        let base_usd = market.convert(self.balance(&pair.base), &pair.base, "USDT", time_ms)?;
        let ten = Decimal::TEN;
        let is_buy = match (quote_usd > ten, base_usd > ten) {
            (true, true) => self.rng.bool(),
            (true, false) => true,
            (false, true) => false,
            (false, false) => return None,
        };
        let qty = if is_buy {
            let spend = self.balance(&pair.quote) * percent(&mut self.rng, 2..=15);
            floor_dp(spend / price, pair.qty_dp)
        } else {
            floor_dp(self.balance(&pair.base) * percent(&mut self.rng, 5..=40), pair.qty_dp)
        };
        if qty.is_zero() {
            return None;
        }
        let quote_qty = price * qty;
        let is_maker = self.rng.u8(0..10) < 3;
        let (received, received_qty) = if is_buy { (&pair.base, qty) } else { (&pair.quote, quote_qty) };
        let ids = self.ids.get_mut(&pair.symbol)?;
        ids.next_trade += self.rng.u64(1..4_000);
        let id = ids.next_trade;
        let order_id = match ids.last_order {
            Some((order, side, at)) if side == is_buy && time_ms - at < HOUR_MS * 6 && self.rng.u8(0..10) < 3 => order,
            _ => {
                ids.next_order += self.rng.u64(1..20_000);
                ids.next_order
            }
        };
        ids.last_order = Some((order_id, is_buy, time_ms));
        let rate = if is_maker { Decimal::new(75, 5) } else { Decimal::new(1, 3) };
        let roll = self.rng.u8(0..100);
        let fee_in = |asset: &str, discount: bool| -> Option<(String, Decimal)> {
            let value = market.convert(quote_qty * rate, &pair.quote, asset, time_ms)?;
            let value = if discount { value * Decimal::new(75, 2) } else { value };
            let fee = floor_dp(value, 8);
            (!fee.is_zero()).then(|| (asset.to_owned(), fee))
        };
        let third = ["USDT", "BTC", "ETH"].into_iter().find(|asset| *asset != pair.base && *asset != pair.quote);
        let preferred = if roll < 55 {
            fee_in("BNB", true)
        } else if roll < 60 {
            third.and_then(|asset| fee_in(asset, false))
        } else {
            None
        };
        let fallback = (received.clone(), floor_dp(received_qty * rate, 8));
        let make = |(fee_asset, fee): (String, Decimal)| Activity::Trade {
            base: pair.base.clone(),
            quote: pair.quote.clone(),
            is_buy,
            qty,
            price,
            quote_qty,
            fee_asset,
            fee,
            time_ms,
            id,
            order_id,
            is_maker,
        };
        if let Some(fee) = preferred {
            let trade = make(fee);
            if self.affordable(&trade) {
                return Some(trade);
            }
        }
        let trade = make(fallback);
        self.affordable(&trade).then_some(trade)
    }

    fn transfer(&mut self, market: &Market, time_ms: i64, binance: &mut Vec<Activity>, external: &mut Vec<Activity>) {
        let withdraw = self.rng.u8(0..100) < 45;
        if withdraw && self.withdraw(market, time_ms, Outcome::Completed, binance, external) {
            return;
        }
        let choices = ["USDT", "BTC", "ETH", "BNB", "SOL", "ADA", "XRP", "DOT", "LTC", "LINK"];
        let asset = choices[self.rng.usize(0..choices.len())];
        let usd = Decimal::new(self.rng.i64(500..=25_000), 0);
        let amount = market
            .convert(usd, "USDT", asset, time_ms)
            .map_or(Decimal::ONE, |value| floor_dp(value, typed_places(asset)));
        let amount = if amount.is_zero() { Decimal::ONE } else { amount };
        self.deposit(asset, amount, time_ms, Outcome::Completed, binance, external);
    }

    /// A withdrawal of some of a held asset; false if nothing is worth withdrawing.
    fn withdraw(
        &mut self,
        market: &Market,
        time_ms: i64,
        outcome: Outcome,
        binance: &mut Vec<Activity>,
        external: &mut Vec<Activity>,
    ) -> bool {
        let candidates: Vec<&'static AssetSpec> = ASSETS
            .iter()
            .filter(|spec| {
                let fee: Decimal = spec.withdraw_fee.parse().unwrap_or(Decimal::ONE);
                let balance = self.balance(spec.code);
                balance > fee * Decimal::new(20, 0)
                    && market.convert(balance, spec.code, "USDT", time_ms).is_some_and(|usd| usd > Decimal::new(100, 0))
            })
            .collect();
        if candidates.is_empty() {
            return false;
        }
        let spec = candidates[self.rng.usize(0..candidates.len())];
        let fee: Decimal = spec.withdraw_fee.parse().unwrap_or(Decimal::ONE);
        let amount =
            floor_dp((self.balance(spec.code) - fee) * percent(&mut self.rng, 10..=50), typed_places(spec.code));
        if amount <= Decimal::ZERO {
            return false;
        }
        let network = spec.network.to_owned();
        let address = match spec.network {
            "BTC" => format!("bc1q{}", hex(&mut self.rng, 38)),
            "ETH" | "BSC" | "AVAXC" | "MATIC" => format!("0x{}", hex(&mut self.rng, 40)),
            other => format!("{}{}", other.to_ascii_lowercase(), hex(&mut self.rng, 36)),
        };
        let tx_hash = if outcome == Outcome::Completed { self.tx_hash(&network) } else { String::new() };
        let withdrawal = Activity::Withdrawal {
            asset: spec.code.to_owned(),
            amount,
            fee,
            network: network.clone(),
            address: address.clone(),
            tx_hash: tx_hash.clone(),
            time_ms,
            id: hex(&mut self.rng, 32),
            outcome,
        };
        self.apply(&withdrawal);
        binance.push(withdrawal);
        if outcome == Outcome::Completed {
            external.push(Activity::Deposit {
                asset: spec.code.to_owned(),
                amount,
                network,
                address,
                tx_hash,
                time_ms: time_ms + self.rng.i64(60_000..3_600_000),
                id: format!("ext-{}", hex(&mut self.rng, 16)),
                outcome,
            });
        }
        true
    }

    fn fiat_transfer(&mut self, time_ms: i64, binance: &mut Vec<Activity>) {
        let currency = if self.rng.u8(0..10) < 7 { "EUR" } else { "USD" };
        let balance = self.balance(currency);
        if self.rng.bool() && balance > Decimal::new(200, 0) {
            let fee = if currency == "EUR" { Decimal::ONE } else { Decimal::new(15, 0) };
            let amount = floor_dp((balance - fee) * percent(&mut self.rng, 20..=80), 2);
            if amount > Decimal::ZERO {
                let activity = Activity::FiatWithdrawal {
                    currency: currency.to_owned(),
                    amount,
                    fee,
                    method: if currency == "EUR" { "SEPA" } else { "BankAccount" }.to_owned(),
                    time_ms,
                    id: uuid(&mut self.rng),
                    outcome: Outcome::Completed,
                };
                self.apply(&activity);
                binance.push(activity);
                return;
            }
        }
        let amount = Decimal::new(self.rng.i64(10_000..=1_000_000), 2);
        let activity = self.fiat_deposit(currency, amount, time_ms, Outcome::Completed);
        binance.push(activity);
    }

    fn card_buy(&mut self, market: &Market, time_ms: i64, outcome: Outcome, binance: &mut Vec<Activity>) {
        let fiat = if self.rng.u8(0..10) < 7 { "EUR" } else { "USD" };
        let cryptos = ["BTC", "ETH", "BNB", "USDT", "SOL"];
        let crypto = cryptos[self.rng.usize(0..cryptos.len())];
        let source_amount = Decimal::new(self.rng.i64(2_000..=200_000), 2);
        let cash = self.rng.u8(0..10) < 4 && self.balance(fiat) >= source_amount;
        let method = if cash { PayMethod::CashBalance } else { PayMethod::CreditCard };
        let rate = if cash { Decimal::new(5, 3) } else { Decimal::new(18, 3) };
        let fee = (source_amount * rate).round_dp(2);
        let Some(price) = market.price_with_dp(crypto, fiat, time_ms, 2) else { return };
        let obtain_amount = floor_dp((source_amount - fee) / price, 8);
        if obtain_amount.is_zero() {
            return;
        }
        let activity = Activity::CardBuy {
            fiat: fiat.to_owned(),
            crypto: crypto.to_owned(),
            source_amount,
            obtain_amount,
            fee,
            price,
            method,
            time_ms,
            id: hex(&mut self.rng, 32),
            outcome,
        };
        self.apply(&activity);
        binance.push(activity);
    }

    fn convert(&mut self, market: &Market, time_ms: i64, outcome: Outcome, binance: &mut Vec<Activity>) {
        let held: Vec<&'static str> = ASSETS
            .iter()
            .map(|spec| spec.code)
            .filter(|code| {
                market.convert(self.balance(code), code, "USDT", time_ms).is_some_and(|usd| usd > Decimal::new(20, 0))
            })
            .collect();
        let Some(&from) = held.get(self.rng.usize(0..held.len().max(1))) else { return };
        let targets = ["USDT", "BTC", "ETH", "BNB", "SOL", "DOGE", "ADA"];
        let mut to = targets[self.rng.usize(0..targets.len())];
        if to == from {
            to = if from == "USDT" { "BTC" } else { "USDT" };
        }
        let from_amount = floor_dp(self.balance(from) * percent(&mut self.rng, 10..=50), 8);
        let Some(value) = market.convert(from_amount, from, to, time_ms) else { return };
        let to_amount = floor_dp(value * Decimal::new(998, 3), 8);
        if from_amount.is_zero() || to_amount.is_zero() {
            return;
        }
        self.next_convert += self.rng.u64(1_000_000..1_000_000_000_000);
        let activity = Activity::Convert {
            from_asset: from.to_owned(),
            from_amount,
            to_asset: to.to_owned(),
            to_amount,
            time_ms,
            id: self.next_convert,
            quote_id: hex(&mut self.rng, 32),
            outcome,
        };
        self.apply(&activity);
        binance.push(activity);
    }

    fn dust(&mut self, market: &Market, time_ms: i64, binance: &mut Vec<Activity>) {
        let mut chosen: Vec<(&'static str, Decimal)> = Vec::new();
        for spec in ASSETS.iter().filter(|spec| !matches!(spec.code, "BNB" | "USDT" | "BTC" | "ETH")) {
            let balance = self.balance(spec.code);
            let small =
                market.convert(balance, spec.code, "USDT", time_ms).is_some_and(|usd| usd < Decimal::new(15, 0));
            if balance > Decimal::ZERO && small && chosen.len() < 4 {
                chosen.push((spec.code, balance));
            }
        }
        if chosen.is_empty() {
            // No small balances: sweep a few dollars' worth of one holding, so the kind appears.
            let held: Vec<&'static str> = ASSETS
                .iter()
                .map(|spec| spec.code)
                .filter(|code| *code != "BNB" && self.balance(code) > Decimal::ZERO)
                .collect();
            if let Some(&asset) = held.get(self.rng.usize(0..held.len().max(1))) {
                let usd = Decimal::new(self.rng.i64(100..=1_000), 2);
                if let Some(amount) = market.convert(usd, "USDT", asset, time_ms) {
                    let amount = floor_dp(amount, 8).min(self.balance(asset));
                    if !amount.is_zero() {
                        chosen.push((asset, amount));
                    }
                }
            }
        }
        let mut parts = Vec::new();
        self.next_dust_part += self.rng.u64(1..100_000);
        for (asset, amount) in chosen {
            let Some(bnb_value) = market.convert(amount, asset, "BNB", time_ms) else { continue };
            let fee = floor_dp(bnb_value * Decimal::new(2, 2), 8);
            let bnb = floor_dp(bnb_value, 8) - fee;
            if bnb <= Decimal::ZERO {
                continue;
            }
            parts.push(DustPart { asset: asset.to_owned(), amount, bnb, fee, id: self.next_dust_part });
        }
        if parts.is_empty() {
            return;
        }
        self.next_dust += self.rng.u64(1_000..10_000_000);
        let activity = Activity::Dust { time_ms, id: self.next_dust, parts };
        self.apply(&activity);
        binance.push(activity);
    }

    fn reward_amount(&mut self, market: &Market, asset: &str, time_ms: i64) -> Decimal {
        let usd = Decimal::new(self.rng.i64(1..=5_000), 2);
        let amount =
            market.convert(usd, "USDT", asset, time_ms).unwrap_or_else(|| Decimal::new(self.rng.i64(1..=100), 0));
        floor_dp(amount, 8).max(Decimal::new(1, 8))
    }

    /// A time not yet used by a reward with the same key fields (keeps earn ids unique).
    fn unique_time(&mut self, time_ms: i64, asset: &str, kind: &str, product: &str) -> i64 {
        let mut time_ms = time_ms;
        while !self.reward_keys.insert((time_ms, asset.to_owned(), kind.to_owned(), product.to_owned())) {
            time_ms += 1;
        }
        time_ms
    }

    fn dividend(&mut self, market: &Market, time_ms: i64, binance: &mut Vec<Activity>) {
        let (label, kind, asset) = DISTRIBUTIONS[self.rng.usize(0..DISTRIBUTIONS.len())];
        let source = label.replace("{ASSET}", asset);
        // One distribution in twenty is a zero-amount row, as Binance sometimes sends.
        let amount =
            if self.rng.u8(0..20) == 0 { Decimal::new(0, 8) } else { self.reward_amount(market, asset, time_ms) };
        self.next_reward += self.rng.u64(1..5_000_000);
        let activity = Activity::Reward {
            kind,
            channel: RewardChannel::Distribution,
            source,
            asset: asset.to_owned(),
            amount,
            time_ms,
            id: self.next_reward,
        };
        self.apply(&activity);
        binance.push(activity);
    }

    fn flexible(&mut self, market: &Market, time_ms: i64, binance: &mut Vec<Activity>) {
        let products = [("USDT", "USDT001"), ("BNB", "BNB001"), ("ETH", "ETH001"), ("BTC", "BTC001")];
        let (asset, product) = products[self.rng.usize(0..products.len())];
        let reward_type = if self.rng.u8(0..4) == 0 { "BONUS" } else { "REALTIME" };
        let time_ms = self.unique_time(time_ms, asset, reward_type, product);
        let amount = floor_dp(self.reward_amount(market, asset, time_ms) / Decimal::TEN, 8).max(Decimal::new(1, 8));
        self.next_reward += 1;
        let activity = Activity::Reward {
            kind: RewardKind::Interest,
            channel: RewardChannel::FlexibleEarn { product: product.to_owned(), reward_type: reward_type.to_owned() },
            source: "Simple Earn Flexible".to_owned(),
            asset: asset.to_owned(),
            amount,
            time_ms,
            id: self.next_reward,
        };
        self.apply(&activity);
        binance.push(activity);
    }

    fn locked(&mut self, market: &Market, time_ms: i64, binance: &mut Vec<Activity>) {
        let assets = ["BNB", "DOT", "SOL", "ETH"];
        let asset = assets[self.rng.usize(0..assets.len())];
        let reward_type = if self.rng.u8(0..5) == 0 { "Boost Rewards" } else { "Locked Rewards" };
        let lock_days = [30, 60, 120][self.rng.usize(0..3)];
        self.next_position += self.rng.u64(1..1_000);
        let position = self.next_position;
        let time_ms = self.unique_time(time_ms, asset, reward_type, &position.to_string());
        let amount = self.reward_amount(market, asset, time_ms);
        self.next_reward += 1;
        let activity = Activity::Reward {
            kind: RewardKind::Staking,
            channel: RewardChannel::LockedEarn { position, lock_days, reward_type: reward_type.to_owned() },
            source: "Simple Earn Locked".to_owned(),
            asset: asset.to_owned(),
            amount,
            time_ms,
            id: self.next_reward,
        };
        self.apply(&activity);
        binance.push(activity);
    }

    /// A record that ended failed, rejected or expired: one of each kind in turn.
    fn failed(
        &mut self,
        market: &Market,
        time_ms: i64,
        index: usize,
        binance: &mut Vec<Activity>,
        external: &mut Vec<Activity>,
    ) {
        match index % 5 {
            0 => {
                let amount = Decimal::new(self.rng.i64(1_000..=500_000), 2);
                self.deposit("USDT", amount, time_ms, Outcome::Failed, binance, external);
            }
            1 => {
                if !self.withdraw(market, time_ms, Outcome::Failed, binance, external) {
                    let activity = Activity::Withdrawal {
                        asset: "BTC".to_owned(),
                        amount: Decimal::new(5, 2),
                        fee: Decimal::new(2, 4),
                        network: "BTC".to_owned(),
                        address: format!("bc1q{}", hex(&mut self.rng, 38)),
                        tx_hash: String::new(),
                        time_ms,
                        id: hex(&mut self.rng, 32),
                        outcome: Outcome::Failed,
                    };
                    binance.push(activity);
                }
            }
            2 => {
                let amount = Decimal::new(self.rng.i64(10_000..=300_000), 2);
                let activity = self.fiat_deposit("EUR", amount, time_ms, Outcome::Failed);
                binance.push(activity);
            }
            3 => self.card_buy(market, time_ms, Outcome::Failed, binance),
            _ => self.convert(market, time_ms, Outcome::Failed, binance),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_history_and_another_seed_another() {
        let first = generate(42, &Profile::demo());
        let again = generate(42, &Profile::demo());
        assert_eq!(first.history, again.history);
        assert_eq!(first.market, again.market);
        let other = generate(43, &Profile::demo());
        assert_ne!(first.history, other.history);
    }

    #[test]
    fn no_balance_is_ever_negative() {
        for seed in [1, 2, 3, 99] {
            let world = generate(seed, &Profile::demo());
            let mut balances: BTreeMap<String, Decimal> = BTreeMap::new();
            for activity in world.history.account(BINANCE) {
                for (asset, delta) in activity.effects() {
                    let balance = balances.entry(asset.clone()).or_insert(Decimal::ZERO);
                    *balance += delta;
                    assert!(*balance >= Decimal::ZERO, "seed {seed}: {asset} negative after {activity:?}");
                }
            }
            assert_eq!(balances, world.history.balances(BINANCE));
            assert_eq!(balances, world.person.balances);
        }
    }

    #[test]
    fn demo_profile_has_every_kind_within_its_dates() {
        let profile = Profile::demo();
        let world = generate(7, &profile);
        let binance = world.history.account(BINANCE);
        let count = |matches: fn(&Activity) -> bool| binance.iter().filter(|a| matches(a)).count();
        assert_eq!(count(|a| matches!(a, Activity::Trade { .. })), 300);
        let transfers = count(|a| {
            matches!(
                a,
                Activity::Deposit { outcome: Outcome::Completed, .. }
                    | Activity::Withdrawal { outcome: Outcome::Completed, .. }
            )
        });
        assert!((38..=46).contains(&transfers), "{transfers} transfers");
        assert!(count(|a| matches!(a, Activity::Withdrawal { outcome: Outcome::Completed, .. })) >= 5);
        assert!(count(|a| matches!(a, Activity::FiatDeposit { currency, .. } if currency == "USD")) >= 1);
        assert!(count(|a| matches!(a, Activity::FiatWithdrawal { .. })) >= 1);
        assert!(count(|a| matches!(a, Activity::CardBuy { method: PayMethod::CreditCard, .. })) >= 1);
        assert!(count(|a| matches!(a, Activity::Convert { outcome: Outcome::Completed, .. })) >= 5);
        assert!(count(|a| matches!(a, Activity::Dust { .. })) >= 2);
        assert!(count(|a| matches!(a, Activity::Reward { channel: RewardChannel::Distribution, .. })) == 24);
        assert!(
            count(
                |a| matches!(a, Activity::Trade { fee_asset, base, quote, .. } if fee_asset == "BNB" && base != "BNB" && quote != "BNB")
            ) > 10
        );
        assert!(
            count(
                |a| matches!(a, Activity::Trade { fee_asset, base, quote, .. } if fee_asset != "BNB" && fee_asset != base && fee_asset != quote)
            ) >= 1
        );
        let delisted = world.market.pairs().iter().find(|pair| pair.delisted_ms.is_some()).unwrap();
        let on_delisted: Vec<i64> = binance
            .iter()
            .filter_map(|a| match a {
                Activity::Trade { base, quote, time_ms, .. } if *base == delisted.base && *quote == delisted.quote => {
                    Some(*time_ms)
                }
                _ => None,
            })
            .collect();
        assert!(!on_delisted.is_empty());
        assert!(on_delisted.iter().all(|time| *time < delisted.delisted_ms.unwrap()));
        assert!(world.market.pairs().iter().any(|pair| !pair.traded));
        for activity in binance {
            assert!((profile.start_ms..=profile.end_ms).contains(&activity.time_ms()), "{activity:?}");
        }
        let kinds: BTreeSet<RewardKind> = binance
            .iter()
            .filter_map(|a| match a {
                Activity::Reward { kind, channel: RewardChannel::Distribution, .. } => Some(*kind),
                _ => None,
            })
            .collect();
        assert!(kinds.len() >= 3, "{kinds:?}");
    }

    #[test]
    fn transfers_between_accounts_share_the_tx_hash() {
        let world = generate(5, &Profile::demo());
        let external_hashes: BTreeSet<&str> = world
            .history
            .account(EXTERNAL_WALLET)
            .iter()
            .filter_map(|a| match a {
                Activity::Deposit { tx_hash, .. } | Activity::Withdrawal { tx_hash, .. } => Some(tx_hash.as_str()),
                _ => None,
            })
            .collect();
        let mut matched = 0;
        for activity in world.history.account(BINANCE) {
            if let Activity::Deposit { tx_hash, outcome: Outcome::Completed, .. }
            | Activity::Withdrawal { tx_hash, outcome: Outcome::Completed, .. } = activity
            {
                assert!(external_hashes.contains(tx_hash.as_str()), "{activity:?}");
                matched += 1;
            }
        }
        assert!(matched >= 38);
    }

    #[test]
    fn trade_amounts_are_exact_and_within_eight_places() {
        let world = generate(11, &Profile::demo());
        for activity in world.history.account(BINANCE) {
            if let Activity::Trade { qty, price, quote_qty, fee, .. } = activity {
                assert_eq!(*quote_qty, price * qty);
                assert!(quote_qty.scale() <= 8 && fee.scale() <= 8 && qty > &Decimal::ZERO, "{activity:?}");
            }
        }
        for (asset, balance) in world.history.balances(BINANCE) {
            assert!(balance.scale() <= 8, "{asset} {balance}");
        }
    }

    #[test]
    fn market_prices_are_deterministic_and_exact() {
        let world = generate(3, &Profile::demo());
        let start = Profile::demo().start_ms;
        let btc = world.market.price("BTC", "USDT", PRICE_HISTORY_START_MS).unwrap();
        assert_eq!(btc, Decimal::new(1_660_000, 2));
        assert_eq!(world.market.price("USDT", "USDT", start + DAY_MS), Some(Decimal::ONE));
        assert!(world.market.price("BTC", "USDT", PRICE_HISTORY_START_MS - 1).is_none());
        assert!(world.market.price("BTC", "USDT", start - 1).is_some());
        assert!(world.market.price("NOPE", "USDT", start).is_none());
        let later = world.market.price("ETH", "BTC", start + 400 * DAY_MS).unwrap();
        assert!(later > Decimal::ZERO && later.scale() <= 8);
        // Prices go on after the history, then the last one holds.
        let end = Profile::demo().end_ms + MARKET_TAIL_MS;
        assert_ne!(world.market.usd("BTC", end - 20 * DAY_MS), world.market.usd("BTC", end - 10 * DAY_MS));
        assert_eq!(world.market.usd("BTC", end + 10 * DAY_MS), world.market.usd("BTC", end + 20 * DAY_MS));
    }

    #[test]
    fn added_trades_keep_balances_whole() {
        let mut world = generate(8, &Profile::demo());
        let now = Profile::demo().end_ms + 30 * DAY_MS;
        let added = world.add_trades(50, now);
        assert_eq!(added.len(), 50);
        let balances = world.history.balances(BINANCE);
        assert!(balances.values().all(|balance| *balance >= Decimal::ZERO));
        assert_eq!(balances, world.person.balances);
    }

    #[test]
    fn the_market_starts_in_2020_and_is_the_same_in_every_profile() {
        let demo = generate(4, &Profile::demo());
        let shorter = Profile { end_ms: Profile::demo().end_ms - 200 * DAY_MS, trades: 20, ..Profile::demo() };
        let other = generate(4, &shorter);
        assert_eq!(demo.market.start_ms(), PRICE_HISTORY_START_MS);
        let mut time = PRICE_HISTORY_START_MS;
        while time < shorter.end_ms {
            for asset in ["BTC", "USDT", "EUR", "ARB", "SOLO"] {
                assert_eq!(demo.market.usd(asset, time), other.market.usd(asset, time), "{asset} at {time}");
            }
            time += 7 * DAY_MS + 123_456;
        }
        assert_ne!(generate(5, &shorter).market.usd("BTC", shorter.end_ms), other.market.usd("BTC", shorter.end_ms));
        for asset in ["ARB", "GRT", "USDC", "SOLO", "XTZ", "GBP", "CAD", "AUD", "EUR", "TRY"] {
            assert!(demo.market.usd(asset, PRICE_HISTORY_START_MS).is_some(), "{asset}");
            assert!(demo.market.price(asset, "USD", Profile::demo().end_ms + DAY_MS).is_some(), "{asset}");
        }
        assert_eq!(demo.market.usd("GBP", PRICE_HISTORY_START_MS), Some(Decimal::new(127, 2)));
    }

    #[test]
    fn usd_is_one_and_stablecoins_wobble_within_half_a_percent() {
        let world = generate(6, &Profile::demo());
        let (low, high) = (Decimal::new(995, 3), Decimal::new(1_005, 3));
        for asset in ["USDT", "USDC"] {
            let mut seen = BTreeSet::new();
            let mut time = PRICE_HISTORY_START_MS;
            while time < Profile::demo().end_ms + MARKET_TAIL_MS {
                let price = world.market.usd(asset, time).unwrap();
                assert!(price >= low && price <= high, "{asset} {price} at {time}");
                seen.insert(price);
                assert_eq!(world.market.usd("USD", time), Some(Decimal::ONE));
                time += 5 * HOUR_MS + 17 * 60_000;
            }
            assert!(seen.len() > 1_000, "{asset} barely moves: {} prices", seen.len());
        }
    }

    #[test]
    fn ohlc_spans_the_minutes_of_the_candle() {
        let world = generate(2, &Profile::demo());
        let open = 1_709_373_600_000 + 7 * 60_000; // 2024-03-02T10:07:00Z
        for (asset, quote, length) in [("ETH", "BTC", DAY_MS), ("BTC", "USDT", HOUR_MS), ("SOL", "GBP", 4 * HOUR_MS)] {
            let ohlc = world.market.ohlc(asset, quote, open, length).unwrap();
            let minutes: Vec<Decimal> = (0..length / 60_000)
                .map(|minute| world.market.price(asset, quote, open + minute * 60_000).unwrap())
                .collect();
            let (max, min) = (*minutes.iter().max().unwrap(), *minutes.iter().min().unwrap());
            assert_eq!((ohlc.open, ohlc.close), (minutes[0], *minutes.last().unwrap()));
            if length <= HOUR_MS {
                assert_eq!((ohlc.high, ohlc.low), (max, min), "{asset}{quote}");
            } else {
                // Within one step of the last decimal place.
                let unit = Decimal::new(1, max.scale().max(min.scale()));
                assert!(ohlc.high <= max && max - ohlc.high <= unit, "{asset}{quote} high {} of {max}", ohlc.high);
                assert!(ohlc.low >= min && ohlc.low - min <= unit, "{asset}{quote} low {} of {min}", ohlc.low);
            }
        }
        let minute = world.market.ohlc("BTC", "USD", open, 60_000).unwrap();
        assert!(minute.open == minute.high && minute.high == minute.low && minute.low == minute.close);
        assert!(world.market.ohlc("BTC", "USD", PRICE_HISTORY_START_MS - 60_000, 60_000).is_none());
    }
}

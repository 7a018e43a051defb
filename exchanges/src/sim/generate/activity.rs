//! The exchange-neutral records of a generated history.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

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

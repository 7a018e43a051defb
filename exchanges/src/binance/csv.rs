//! Binance's "Transaction History" statement export (Orders → Transaction History → Export).
//!
//! # Layouts
//!
//! Three header rows are read; columns are found by name, in any order, and a byte-order mark
//! before the first name is ignored:
//!
//! - `UTC_Time,Account,Operation,Coin,Change,Remark` (until 2021),
//! - `User_ID,UTC_Time,Account,Operation,Coin,Change,Remark` (late 2021 to about 2025),
//! - `User ID,Time,Account,Operation,Coin,Change,Remark` (2025/26; UTF-8 byte-order mark,
//!   two-digit years such as `24-07-25 21:30:41`).
//!
//! The time is `YYYY-MM-DD HH:MM:SS` or `YY-MM-DD HH:MM:SS` (read as `20YY`). **Every time is
//! read as UTC**, the `Time` column of the 2025/26 layout included: it is not known whether
//! Binance writes that column in the time zone chosen at export (file names like
//! `…(UTC--6).csv` suggest it may). A user who exported with another zone must export again
//! with UTC chosen, or the events will be shifted by the offset.
//!
//! `Change` is signed and is the direction of every row: `+` arrived, `−` left. `Remark` may be
//! missing or empty; when present it goes into the event's note with the operation and the
//! Binance wallet (`Account`). The file carries no ids, so `external_id` stays empty and the
//! importer keys events by their content (identical rows stay distinct events).
//! `Coin` is taken as written (upper-cased); Binance's tickers need no mapping here.
//!
//! # Trades and conversions (several rows, grouped)
//!
//! The rows of one trade share a timestamp and an `Account`. These operations are held back,
//! grouped by (time, user id, account, family) and turned into events when the file ends:
//!
//! | family | operations | event |
//! |---|---|---|
//! | spot order | `Buy`, `Sell`, `Transaction Related`, `Fee` (old names); `Transaction Buy`, `Transaction Spend`, `Transaction Sold`, `Transaction Revenue`, `Transaction Fee` | `trade` |
//! | convert | `Binance Convert` | `trade` |
//! | OTC | `Large OTC trading` | `trade` |
//! | easy trade | `The Easiest Way to Trade` | `trade` |
//! | leveraged token | `Leverage Token Redemption` | `trade` |
//! | dust | `Small assets exchange BNB` (any case) | `conversion` |
//! | ETH 2.0 | `ETH 2.0 Staking` (ETH given, BETH received) | `conversion` |
//! | auto-conversion | `Stablecoins Auto-Conversion`, `Asset Conversion Transfer` | `conversion` |
//! | rebranding | `Token Swap - Redenomination/Rebranding` | `conversion` |
//!
//! In a group the non-fee rows are summed per coin (the operation name does not give the
//! side: an old `Buy` row may be the coin sold's proceeds; the sign does). Coins with a negative
//! sum are `sent` legs, coins with a positive sum `received` legs; `Fee`/`Transaction Fee` rows
//! are summed per coin into `fee` legs in their own coin (BNB included), never netted with the
//! traded amounts. Legs are ordered sent, received, fee; by coin within each role.
//!
//! Decisions where the file is unclear:
//! - **Several pairs in one second.** Binance writes every fill as its own rows with the same
//!   second; fills of different pairs in the same second cannot be told apart. Such a group
//!   (more than one coin sent or received in a `trade` family) becomes ONE trade event with all
//!   the legs and a note saying so. The balances are exact; how cost is split between the coins
//!   is left to the user (who may re-enter those rows in cointally's generic format).
//!   Dust conversions normally have several coins sent, so they carry no such note.
//! - **Rows split over two seconds.** When a group only sends (or only receives) and the group
//!   of the same account and family one second later does the opposite, the two are one trade
//!   (Binance sometimes stamps the two sides of a fill a second apart); the event takes the
//!   earlier time. A group that still has only one side is an error, never guessed.
//! - A group of only fee rows is a `fee` event. A group whose coins all net to zero is an event
//!   of its family's kind with only its fee legs (or none) and a note.
//!
//! # Single rows (one event each, emitted at once)
//!
//! | operations | event | `Change` must be |
//! |---|---|---|
//! | `Deposit` | `deposit` | `+` |
//! | `Withdraw` | `withdrawal` — the amount *includes* the network fee (Remark `Withdraw fee is included`); the file does not say how much the fee was, so it cannot be split into a fee leg | `−` |
//! | `Fiat Deposit` | `fiat_deposit` | `+` |
//! | `Fiat Withdraw`, `Fiat Withdrawal` | `fiat_withdrawal` | `−` |
//! | `Distribution`, `Airdrop Assets`, `HODLer Airdrops Distribution`, `Launchpool Airdrop` (and its `- System Distribution` / `- User Claim Distribution` forms), `Megadrop Rewards`, `Simple Earn Flexible Airdrop` | `airdrop` | `+` |
//! | `Simple Earn Flexible Interest`, `Simple Earn Locked Rewards`, `Savings Interest`, `Savings Distribution`, `Liquid Swap Rewards`, `Swap Farming Rewards` | `interest` (Simple Earn and Savings are Binance's lending/savings products, whatever the coin does underneath) | `+` |
//! | `Staking Rewards`, `ETH 2.0 Staking Rewards`, `POS savings interest`, `Launchpool Interest`, `BNB Vault Rewards`, `DOT Slot Auction Rewards` | `staking` (rewards for locking coins in a staking product or pool) | `+` |
//! | `Pool Distribution` (Binance Pool, the mining pool) | `mining` | `+` |
//! | `Commission History`, `Commission Rebate`, `Commission Fee Shared With You`, `Referral Kickback`, `Referral Commission`, `Referrer rebates`, `Referee rebates`, `Cashback Voucher`, `Cash Voucher Distribution`, `Binance Card Cashback`, `Card Cashback` | `rebate` | `+` |
//! | `Rewards Distribution`, `Campaign Related Reward` | `income` (reward of unstated nature) | `+` |
//! | `Binance Card Spending` | `spend` | `−` |
//! | any `Transfer Between …` (Main and Funding Wallet, Spot Account and UM/CM Futures Account, …), `Main and Funding Account Transfer`, `transfer_in`, `transfer_out`, `Simple Earn Flexible/Locked Subscription/Redemption`, `Savings purchase`, `Savings Principal redemption`, `POS savings purchase/redemption`, `Staking Purchase`, `Staking Redemption`, `Launchpool Subscription/Redemption` | `internal_transfer` | either |
//!
//! Operation names are matched without regard to case or repeated spaces.
//!
//! **Moves between Binance's own wallets**: every row is its own `internal_transfer` event with
//! one leg signed like its `Change`. Balances in cointally are per cointally account, not per
//! Binance wallet, so the two rows of a move (Spot `−`, Earn `+`) net to zero in the account.
//! Some exports write only one side of an Earn subscription (the Spot `−`): then the account's
//! balance dips while the coins sit in Earn and comes back with the redemption row; nothing of
//! that is taxable either way.
//!
//! A row whose `Change` has the wrong sign for its operation (a negative `Deposit`) is an error.
//!
//! # Not read
//!
//! Any other operation is an error that names it and asks the user to convert those rows to
//! cointally's generic CSV format — among them margin and futures rows (`Margin Loan`,
//! `Margin Repayment`, `Funding Fee`, `Realized Profit and Loss`, `Insurance Fund …`,
//! `Futures Convert`), `Liquid Swap Add/Remove`, `Launchpad Subscribe`, `Crypto Box`, `Send`,
//! `Buy Crypto With Card`, `BNB Fee Deduction`, `Asset Recovery`, `Token Swap - Distribution`
//! and `Launchpool Earnings Withdrawal`, whose rows' shape or meaning is not certain enough to
//! map without guessing.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;

use crate::event::{EventKind, Leg, NewEvent};
use crate::rows::{Header, ImportedEvent, Row, RowError, RowReader, SourceRow};
use crate::time::{TimeError, parse_utc_with};

/// The time layouts of the statement, for error messages.
const TIME_LAYOUTS: &str = "YYYY-MM-DD HH:MM:SS or YY-MM-DD HH:MM:SS, in UTC";

/// What to tell the user about rows cointally does not read.
const CONVERT_HINT: &str = "convert these rows to cointally's generic CSV format and import them from a separate file";

/// Whether a header is one of the Binance transaction-history layouts this reader reads.
pub fn matches(header: &Header) -> bool {
    header.has_all(&["Account", "Operation", "Coin", "Change"])
        && (header.position("UTC_Time").is_some() || header.position("Time").is_some())
}

/// Reads Binance transaction-history rows; trade rows are held until the file ends.
#[derive(Default)]
pub struct Reader {
    groups: BTreeMap<GroupKey, Group>,
}

/// Which kind of multi-row happening a row belongs to; rows of different families at the same
/// second are never put together.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Family {
    SpotOrder,
    Convert,
    Otc,
    EasyTrade,
    LeveragedToken,
    Dust,
    Eth2Staking,
    AutoConversion,
    Rebranding,
}

impl Family {
    fn kind(self) -> EventKind {
        match self {
            Family::SpotOrder | Family::Convert | Family::Otc | Family::EasyTrade | Family::LeveragedToken => {
                EventKind::Trade
            }
            Family::Dust | Family::Eth2Staking | Family::AutoConversion | Family::Rebranding => EventKind::Conversion,
        }
    }
}

/// The sign a single row's `Change` must have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Direction {
    In,
    Out,
    Either,
}

/// What an operation is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Operation {
    /// A row of a multi-row happening; `fee` for the fee rows of a spot order.
    Grouped { family: Family, fee: bool },
    /// A row that is one event on its own.
    Single { kind: EventKind, direction: Direction },
}

fn classify(operation: &str) -> Option<Operation> {
    use Direction::{Either, In, Out};
    use EventKind as K;
    let name = operation.split_whitespace().collect::<Vec<_>>().join(" ").to_ascii_lowercase();
    let grouped = |family, fee| Some(Operation::Grouped { family, fee });
    let single = |kind, direction| Some(Operation::Single { kind, direction });
    match name.as_str() {
        "buy"
        | "sell"
        | "transaction related"
        | "transaction buy"
        | "transaction spend"
        | "transaction sold"
        | "transaction revenue" => grouped(Family::SpotOrder, false),
        "fee" | "transaction fee" => grouped(Family::SpotOrder, true),
        "binance convert" => grouped(Family::Convert, false),
        "large otc trading" => grouped(Family::Otc, false),
        "the easiest way to trade" => grouped(Family::EasyTrade, false),
        "leverage token redemption" => grouped(Family::LeveragedToken, false),
        "small assets exchange bnb" => grouped(Family::Dust, false),
        "eth 2.0 staking" => grouped(Family::Eth2Staking, false),
        "stablecoins auto-conversion" | "asset conversion transfer" => grouped(Family::AutoConversion, false),
        "token swap - redenomination/rebranding" => grouped(Family::Rebranding, false),
        "deposit" => single(K::Deposit, In),
        "withdraw" => single(K::Withdrawal, Out),
        "fiat deposit" => single(K::FiatDeposit, In),
        "fiat withdraw" | "fiat withdrawal" => single(K::FiatWithdrawal, Out),
        "distribution"
        | "airdrop assets"
        | "hodler airdrops distribution"
        | "launchpool airdrop"
        | "launchpool airdrop - system distribution"
        | "launchpool airdrop - user claim distribution"
        | "megadrop rewards"
        | "simple earn flexible airdrop" => single(K::Airdrop, In),
        "simple earn flexible interest"
        | "simple earn locked rewards"
        | "savings interest"
        | "savings distribution"
        | "liquid swap rewards"
        | "swap farming rewards" => single(K::Interest, In),
        "staking rewards"
        | "eth 2.0 staking rewards"
        | "pos savings interest"
        | "launchpool interest"
        | "bnb vault rewards"
        | "dot slot auction rewards" => single(K::Staking, In),
        "pool distribution" => single(K::Mining, In),
        "commission history"
        | "commission rebate"
        | "commission fee shared with you"
        | "referral kickback"
        | "referral commission"
        | "referrer rebates"
        | "referee rebates"
        | "cashback voucher"
        | "cash voucher distribution"
        | "binance card cashback"
        | "card cashback" => single(K::Rebate, In),
        "rewards distribution" | "campaign related reward" => single(K::Income, In),
        "binance card spending" => single(K::Spend, Out),
        "main and funding account transfer"
        | "transfer_in"
        | "transfer_out"
        | "simple earn flexible subscription"
        | "simple earn flexible redemption"
        | "simple earn locked subscription"
        | "simple earn locked redemption"
        | "savings purchase"
        | "savings principal redemption"
        | "pos savings purchase"
        | "pos savings redemption"
        | "staking purchase"
        | "staking redemption"
        | "launchpool subscription/redemption" => single(K::InternalTransfer, Either),
        other if other.starts_with("transfer between ") => single(K::InternalTransfer, Either),
        _ => None,
    }
}

/// Where a group of rows belongs: its second, the user, the Binance wallet and the family.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct GroupKey {
    time: DateTime<Utc>,
    user: String,
    account: String,
    family: Family,
}

/// One held-back row.
#[derive(Clone, Debug)]
struct GroupRow {
    line: u64,
    operation: String,
    coin: String,
    change: Decimal,
    fee: bool,
    source: SourceRow,
}

/// The rows of one group, in file order.
#[derive(Clone, Debug, Default)]
struct Group {
    rows: Vec<GroupRow>,
}

/// Which sides a group's non-fee rows have after netting per coin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sides {
    OnlySent,
    OnlyReceived,
    Other,
}

impl Group {
    /// The non-fee rows summed per coin, and the fee rows summed per coin.
    fn netted(&self) -> (BTreeMap<&str, Decimal>, BTreeMap<&str, Decimal>) {
        let mut traded = BTreeMap::new();
        let mut fees = BTreeMap::new();
        for row in &self.rows {
            let sums = if row.fee { &mut fees } else { &mut traded };
            // Each change is below 10^20 (`parse_amount`): overflowing would take 790 million
            // rows in one second's group, a file of tens of gigabytes, so the sum is unchecked.
            *sums.entry(row.coin.as_str()).or_insert(Decimal::ZERO) += row.change;
        }
        (traded, fees)
    }

    fn sides(&self) -> Sides {
        let (traded, _) = self.netted();
        let sent = traded.values().any(|v| v.is_sign_negative() && !v.is_zero());
        let received = traded.values().any(|v| v.is_sign_positive() && !v.is_zero());
        match (sent, received) {
            (true, false) => Sides::OnlySent,
            (false, true) => Sides::OnlyReceived,
            _ => Sides::Other,
        }
    }

    fn first_line(&self) -> u64 {
        self.rows.iter().map(|r| r.line).min().unwrap_or(0)
    }

    /// The group as one event, or why it cannot be one.
    fn into_event(mut self, key: &GroupKey) -> Result<ImportedEvent, RowError> {
        self.rows.sort_by_key(|r| r.line);
        let (traded, fees) = self.netted();
        let mut legs = Vec::new();
        let mut sent = 0usize;
        let mut received = 0usize;
        for (coin, sum) in &traded {
            if sum.is_sign_negative() && !sum.is_zero() {
                legs.push(Leg::sent(*coin, *sum));
                sent += 1;
            }
        }
        for (coin, sum) in &traded {
            if sum.is_sign_positive() && !sum.is_zero() {
                legs.push(Leg::received(*coin, *sum));
                received += 1;
            }
        }
        for (coin, sum) in &fees {
            if sum.is_sign_positive() && !sum.is_zero() {
                return Err(RowError::at(
                    self.first_line(),
                    format!(
                        "the fee rows of the {} rows at {} ({} wallet) add up to +{sum} {coin}: a fee that pays \
                         money in is not understood; {CONVERT_HINT}",
                        key.family_name(),
                        key.time.format("%Y-%m-%d %H:%M:%S"),
                        key.account
                    ),
                ));
            }
            if !sum.is_zero() {
                legs.push(Leg::fee(*coin, *sum));
            }
        }
        let mut operations: Vec<&str> = Vec::new();
        for row in &self.rows {
            if !operations.contains(&row.operation.as_str()) {
                operations.push(&row.operation);
            }
        }
        let mut note = format!("{} ({})", operations.join(" + "), key.account);
        let kind = match (sent, received) {
            (0, 0) if !fees.is_empty() && traded.is_empty() => EventKind::Fee,
            (0, 0) => {
                note.push_str("; the traded coins net to zero in this second");
                key.family.kind()
            }
            (0, _) | (_, 0) => {
                let lines: Vec<String> = self.rows.iter().map(|r| r.line.to_string()).collect();
                let (has, lacks) = if sent == 0 { ("only receive", "sent") } else { ("only send", "received") };
                let coins: Vec<&str> = traded.iter().filter(|(_, v)| !v.is_zero()).map(|(c, _)| *c).collect();
                return Err(RowError::at(
                    self.first_line(),
                    format!(
                        "the {} rows at {} ({} wallet, lines {}) {has} {} and nothing is {lacks} in the same \
                         second or the next, so cointally cannot tell what was traded; {CONVERT_HINT}",
                        key.family_name(),
                        key.time.format("%Y-%m-%d %H:%M:%S"),
                        key.account,
                        lines.join(", "),
                        coins.join(", "),
                    ),
                ));
            }
            (1, 1) => key.family.kind(),
            _ => {
                if key.family.kind() == EventKind::Trade {
                    note.push_str(
                        "; several pairs were traded in this second and Binance's statement does not say which \
                         amounts belong together, so this one event holds all their legs",
                    );
                }
                key.family.kind()
            }
        };
        let mut event = NewEvent::new("", key.time, kind, legs);
        event.note = Some(note);
        Ok(ImportedEvent { event, rows: self.rows.into_iter().map(|r| r.source).collect() })
    }
}

impl GroupKey {
    fn family_name(&self) -> &'static str {
        match self.family {
            Family::SpotOrder => "trade",
            Family::Convert => "Binance Convert",
            Family::Otc => "Large OTC trading",
            Family::EasyTrade => "The Easiest Way to Trade",
            Family::LeveragedToken => "Leverage Token Redemption",
            Family::Dust => "Small assets exchange BNB",
            Family::Eth2Staking => "ETH 2.0 Staking",
            Family::AutoConversion => "auto-conversion",
            Family::Rebranding => "Token Swap - Redenomination/Rebranding",
        }
    }
}

/// The row's time: `UTC_Time` or `Time`, four- or two-digit year, read as UTC.
fn statement_time(row: &Row<'_>) -> Result<DateTime<Utc>, RowError> {
    let column = if row.header().position("UTC_Time").is_some() { "UTC_Time" } else { "Time" };
    let text = row.required(column)?;
    let bad = || RowError::field(column, TimeError { text: text.to_string(), expected: TIME_LAYOUTS });
    let year = text.split('-').next().unwrap_or("");
    if !year.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let full = match year.len() {
        4 => text.to_string(),
        2 => format!("20{text}"),
        _ => return Err(bad()),
    };
    parse_utc_with(&full, "%Y-%m-%d %H:%M:%S", TIME_LAYOUTS).map_err(|_| bad())
}

impl RowReader for Reader {
    fn read(&mut self, row: &Row<'_>) -> Result<Vec<ImportedEvent>, RowError> {
        let time = statement_time(row)?;
        let account = row.required("Account")?;
        let operation_name = row.required("Operation")?;
        let coin = row.asset("Coin")?;
        let change = row.amount("Change")?;
        // An operation cointally does not know is one event of kind `unknown`, its Change
        // moving the balance, until the user reclassifies it.
        let operation = classify(operation_name)
            .unwrap_or(Operation::Single { kind: EventKind::Unknown, direction: Direction::Either });
        match operation {
            Operation::Grouped { family, fee } => {
                let user =
                    if row.header().position("User_ID").is_some() { row.get("User_ID") } else { row.get("User ID") };
                let key = GroupKey { time, user: user.to_string(), account: account.to_string(), family };
                self.groups.entry(key).or_default().rows.push(GroupRow {
                    line: row.line,
                    operation: operation_name.to_string(),
                    coin,
                    change,
                    fee,
                    source: SourceRow::of(row),
                });
                Ok(Vec::new())
            }
            Operation::Single { kind, direction } => {
                let wrong_sign = match direction {
                    Direction::In => change.is_sign_negative() && !change.is_zero(),
                    Direction::Out => change.is_sign_positive() && !change.is_zero(),
                    Direction::Either => false,
                };
                if wrong_sign {
                    let expected = if direction == Direction::In { "positive" } else { "negative" };
                    return Err(RowError::new(format!(
                        "a {operation_name:?} row should have a {expected} Change, not {change}; \
                         {CONVERT_HINT}"
                    )));
                }
                let leg = if change.is_sign_negative() { Leg::sent(coin, change) } else { Leg::received(coin, change) };
                let mut event = NewEvent::new("", time, kind, vec![leg]);
                let mut note = format!("{operation_name} ({account})");
                if let Some(remark) = row.optional("Remark") {
                    note.push_str("; ");
                    note.push_str(&remark);
                }
                event.note = Some(note);
                Ok(vec![ImportedEvent { event, rows: vec![SourceRow::of(row)] }])
            }
        }
    }

    fn finish(&mut self) -> Result<Vec<ImportedEvent>, RowError> {
        let mut groups = std::mem::take(&mut self.groups);
        // Join a one-sided group with the opposite one-sided group one second later.
        let keys: Vec<GroupKey> = groups.keys().cloned().collect();
        for key in keys {
            let Some(sides) = groups.get(&key).map(Group::sides) else { continue };
            let wanted = match sides {
                Sides::OnlySent => Sides::OnlyReceived,
                Sides::OnlyReceived => Sides::OnlySent,
                Sides::Other => continue,
            };
            let next = GroupKey { time: key.time + Duration::seconds(1), ..key.clone() };
            if groups.get(&next).map(Group::sides) != Some(wanted) {
                continue;
            }
            if let Some(later) = groups.remove(&next) {
                if let Some(group) = groups.get_mut(&key) {
                    group.rows.extend(later.rows);
                }
            }
        }
        groups.into_iter().map(|(key, group)| group.into_event(&key)).collect()
    }
}

#[cfg(test)]
mod tests;

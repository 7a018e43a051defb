//! The cleaned history for another service: Koinly universal, CoinTracker, CoinLedger,
//! CoinTracking, BittyTax and TurboTax's universal crypto CSV, each with the columns and
//! labels of that service's published import template.
//!
//! Every event up to the end of the year (all of history: the receiving service needs the
//! acquisitions of earlier years for its own basis), in time order, one row per event. Amounts
//! are positive and exact (TurboTax: at most 8 decimals, rounded half away from zero); values
//! are in the reporting currency to the cent. A standalone fee's units are written as sent. An
//! event with several sent, received or fee legs becomes one row per leg position (row `i`
//! pairs the `i`-th of each), so every unit is kept. Internal transfers (spot ↔ earn in one
//! account) are left out.

use std::io::{self, Write};

use cointally_exchanges::amount::format_amount;
use cointally_exchanges::asset::is_fiat;
use cointally_exchanges::{EventKind, LegRole};
use rust_decimal::{Decimal, RoundingStrategy};

use super::{Format, Input, Kind, Transaction, TxLeg, csv_writer, iso_time, utc};
use crate::tax::report::money;
use crate::tax::zone::Zone;

/// What a row is, in the vocabulary every format maps from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Fiat given for crypto.
    Buy,
    /// Crypto given for fiat.
    Sell,
    /// Crypto for crypto.
    Swap,
    /// Half of an own transfer, leaving.
    TransferOut,
    /// Half of an own transfer, arriving.
    TransferIn,
    /// Arrived from outside (or a fiat deposit, or an adjustment up).
    Deposit,
    /// Left to outside (or a fiat withdrawal, or an adjustment down).
    Withdrawal,
    /// Income of this kind.
    Income(EventKind),
    /// Spent on goods or services.
    Spend,
    /// Given away.
    Gift,
    /// Lost or stolen.
    Lost,
    /// A fee standing alone.
    Fee,
}

/// One row: at most one leg of each side.
struct Row<'a> {
    tx: &'a Transaction,
    class: Class,
    sent: Option<&'a TxLeg>,
    received: Option<&'a TxLeg>,
    fee: Option<&'a TxLeg>,
}

impl Row<'_> {
    /// The row's value: what was received, else what was sent.
    fn value(&self) -> Option<rust_decimal::Decimal> {
        self.received.or(self.sent).and_then(|l| l.value)
    }

    /// Whether either side is fiat money.
    fn has_fiat(&self) -> bool {
        [self.sent, self.received].iter().flatten().any(|l| is_fiat(&l.asset))
    }

    fn note(&self) -> &str {
        self.tx.note.as_deref().unwrap_or("")
    }

    fn tx_hash(&self) -> &str {
        self.tx.tx_hash.as_deref().unwrap_or("")
    }
}

fn class(tx: &Transaction, sent: Option<&TxLeg>, received: Option<&TxLeg>) -> Class {
    let fiat = |l: Option<&TxLeg>| l.is_some_and(|l| is_fiat(&l.asset));
    let by_side = if received.is_some() { Class::Deposit } else { Class::Withdrawal };
    match tx.kind {
        EventKind::Trade | EventKind::Conversion | EventKind::Swap => match (sent, received) {
            (Some(_), Some(_)) if fiat(sent) => Class::Buy,
            (Some(_), Some(_)) if fiat(received) => Class::Sell,
            (Some(_), Some(_)) => Class::Swap,
            _ => by_side,
        },
        EventKind::Deposit if tx.own_transfer => Class::TransferIn,
        EventKind::Withdrawal if tx.own_transfer => Class::TransferOut,
        kind if kind.is_income() && received.is_some() => Class::Income(kind),
        EventKind::Spend => Class::Spend,
        EventKind::Gift => Class::Gift,
        EventKind::Lost => Class::Lost,
        EventKind::Fee => Class::Fee,
        _ => by_side,
    }
}

/// The rows of one exported event.
fn rows(tx: &Transaction) -> Vec<Row<'_>> {
    let side = |role: LegRole| tx.legs.iter().filter(move |l| l.role == role).collect::<Vec<_>>();
    let (mut sent, received, mut fees) = (side(LegRole::Sent), side(LegRole::Received), side(LegRole::Fee));
    if tx.kind == EventKind::Fee && sent.is_empty() && received.is_empty() {
        sent = std::mem::take(&mut fees);
    }
    let n = sent.len().max(received.len()).max(fees.len());
    (0..n)
        .map(|i| {
            let (s, r, f) = (sent.get(i).copied(), received.get(i).copied(), fees.get(i).copied());
            Row { tx, class: class(tx, s, r), sent: s, received: r, fee: f }
        })
        .collect()
}

fn amount(leg: Option<&TxLeg>) -> String {
    leg.map(|l| format_amount(l.amount)).unwrap_or_default()
}

fn asset(leg: Option<&TxLeg>) -> &str {
    leg.map(|l| l.asset.as_str()).unwrap_or("")
}

fn value(value: Option<Decimal>) -> String {
    value.map(money).unwrap_or_default()
}

/// A transactions CSV: its command-line name, its header and how one row reads; writing it
/// (every exported event in time order, one record each) is the same for all of them.
trait TransactionsCsv {
    /// The name given on the command line.
    const NAME: &'static str;
    /// One line saying what the file is for.
    const DESCRIPTION: &'static str;
    /// Whether every field is quoted.
    const ALWAYS_QUOTE: bool = false;
    /// The header row.
    const HEADER: &'static [&'static str];
    /// The header row as written for `input` (the default: [`Self::HEADER`] as it stands).
    fn header(_input: &Input) -> Vec<String> {
        Self::HEADER.iter().map(|h| (*h).to_owned()).collect()
    }
    /// The record for one row.
    fn record(input: &Input, row: &Row<'_>) -> Vec<String>;
}

impl<T: TransactionsCsv + Sync> Format for T {
    fn name(&self) -> &'static str {
        T::NAME
    }

    fn description(&self) -> &'static str {
        T::DESCRIPTION
    }

    fn kind(&self) -> Kind {
        Kind::Transactions
    }

    fn write(&self, input: &Input, out: &mut dyn Write) -> io::Result<usize> {
        let mut w = csv_writer(out, T::ALWAYS_QUOTE);
        w.write_record(T::header(input))?;
        // Event by event as the ledger gives them (every event in time order), each written
        // as it comes: nothing of history is held but the event being written.
        let mut count = 0;
        input.for_each_transaction(|tx| {
            for row in rows(tx) {
                w.write_record(T::record(input, &row))?;
                count += 1;
            }
            Ok(())
        })?;
        w.flush()?;
        Ok(count)
    }
}

/// `koinly`: Koinly's universal template.
pub struct Koinly;

impl TransactionsCsv for Koinly {
    const NAME: &'static str = "koinly";
    const DESCRIPTION: &'static str =
        "Koinly universal CSV: every event up to the end of the year, trades, deposits and withdrawals with tags";
    const HEADER: &'static [&'static str] = &[
        "Date",
        "Sent Amount",
        "Sent Currency",
        "Received Amount",
        "Received Currency",
        "Fee Amount",
        "Fee Currency",
        "Net Worth Amount",
        "Net Worth Currency",
        "Label",
        "Description",
        "TxHash",
    ];

    fn record(input: &Input, row: &Row<'_>) -> Vec<String> {
        let label = match row.class {
            Class::Income(EventKind::Staking) => "reward",
            Class::Income(EventKind::Mining) => "mining",
            Class::Income(EventKind::Airdrop) => "airdrop",
            Class::Income(EventKind::Fork) => "fork",
            Class::Income(EventKind::Interest) => "lending interest",
            Class::Income(EventKind::Rebate) => "cashback",
            Class::Income(_) => "income",
            Class::Spend | Class::Fee => "cost",
            Class::Gift => "gift",
            Class::Lost => "lost",
            Class::Swap if row.tx.kind == EventKind::Swap => "swap",
            _ => "",
        };
        // A fiat side is its own value: Koinly's example leaves Net Worth empty then.
        let worth = if row.has_fiat() { None } else { row.value() };
        vec![
            iso_time(Zone::UTC, row.tx.time_ms),
            amount(row.sent),
            asset(row.sent).into(),
            amount(row.received),
            asset(row.received).into(),
            amount(row.fee),
            asset(row.fee).into(),
            value(worth),
            if worth.is_some() { input.currency.clone() } else { String::new() },
            label.into(),
            row.note().into(),
            row.tx_hash().into(),
        ]
    }
}

/// `cointracker`.
pub struct CoinTracker;

impl TransactionsCsv for CoinTracker {
    const NAME: &'static str = "cointracker";
    const DESCRIPTION: &'static str =
        "CoinTracker CSV import: every event up to the end of the year, the eight columns, lower-case tags";
    const HEADER: &'static [&'static str] = &[
        "Date",
        "Received Quantity",
        "Received Currency",
        "Sent Quantity",
        "Sent Currency",
        "Fee Amount",
        "Fee Currency",
        "Tag",
    ];

    fn record(_input: &Input, row: &Row<'_>) -> Vec<String> {
        let tag = match row.class {
            Class::Income(EventKind::Staking) => "staking",
            Class::Income(EventKind::Mining) => "mining",
            Class::Income(EventKind::Airdrop) => "airdrop",
            Class::Income(EventKind::Fork) => "fork",
            Class::Income(EventKind::Interest) => "interest",
            Class::Income(_) => "income",
            Class::Gift => "gift",
            Class::Lost => "lost",
            _ => "",
        };
        vec![
            utc(row.tx.time_ms).format("%m/%d/%Y %H:%M:%S").to_string(),
            amount(row.received),
            asset(row.received).into(),
            amount(row.sent),
            asset(row.sent).into(),
            amount(row.fee),
            asset(row.fee).into(),
            tag.into(),
        ]
    }
}

/// `coinledger`: the universal manual import template.
pub struct CoinLedger;

impl TransactionsCsv for CoinLedger {
    const NAME: &'static str = "coinledger";
    const DESCRIPTION: &'static str =
        "CoinLedger universal manual import: every event up to the end of the year, header byte for byte";
    const HEADER: &'static [&'static str] = &[
        "Date (UTC)",
        "Platform (Optional)",
        "Asset Sent",
        "Amount Sent",
        "Asset Received",
        "Amount Received",
        "Fee Currency (Optional)",
        "Fee Amount (Optional)",
        "Type",
        "Description (Optional)",
        "TxHash (Optional)",
    ];

    fn record(_input: &Input, row: &Row<'_>) -> Vec<String> {
        let kind = match row.class {
            Class::Buy | Class::Sell | Class::Swap => "Trade",
            Class::TransferIn | Class::Deposit => "Deposit",
            Class::TransferOut | Class::Withdrawal | Class::Fee => "Withdrawal",
            Class::Income(EventKind::Staking) => "Staking",
            Class::Income(EventKind::Mining) => "Mining",
            Class::Income(EventKind::Airdrop) => "Airdrop",
            Class::Income(EventKind::Fork) => "Hard Fork",
            Class::Income(EventKind::Interest) => "Interest",
            Class::Income(_) => "Income",
            Class::Spend => "Merchant Payment",
            Class::Gift => "Gift Sent",
            Class::Lost => "Theft Loss",
        };
        vec![
            utc(row.tx.time_ms).format("%m/%d/%Y %H:%M:%S").to_string(),
            row.tx.account.clone(),
            asset(row.sent).into(),
            amount(row.sent),
            asset(row.received).into(),
            amount(row.received),
            asset(row.fee).into(),
            amount(row.fee),
            kind.into(),
            row.note().into(),
            row.tx_hash().into(),
        ]
    }
}

/// `cointracking`: the 11 mandatory columns, every field quoted.
pub struct CoinTracking;

impl TransactionsCsv for CoinTracking {
    const NAME: &'static str = "cointracking";
    const DESCRIPTION: &'static str =
        "CoinTracking CSV import: every event up to the end of the year, 11 quoted columns (set the account to UTC)";
    const ALWAYS_QUOTE: bool = true;
    const HEADER: &'static [&'static str] = &[
        "Type",
        "Buy Amount",
        "Buy Currency",
        "Sell Amount",
        "Sell Currency",
        "Fee",
        "Fee Currency",
        "Exchange",
        "Trade-Group",
        "Comment",
        "Date",
    ];

    fn record(_input: &Input, row: &Row<'_>) -> Vec<String> {
        let kind = match row.class {
            Class::Buy | Class::Sell | Class::Swap => "Trade",
            Class::TransferIn | Class::Deposit => "Deposit",
            Class::TransferOut | Class::Withdrawal => "Withdrawal",
            Class::Income(EventKind::Staking) => "Staking",
            Class::Income(EventKind::Mining) => "Mining",
            Class::Income(EventKind::Airdrop | EventKind::Fork) => "Airdrop",
            Class::Income(EventKind::Interest) => "Interest Income",
            Class::Income(EventKind::Rebate) => "Reward / Bonus",
            Class::Income(_) => "Income",
            Class::Spend => "Spend",
            Class::Gift => "Gift",
            Class::Lost => "Lost",
            Class::Fee => "Other Fee",
        };
        vec![
            kind.into(),
            amount(row.received),
            asset(row.received).into(),
            amount(row.sent),
            asset(row.sent).into(),
            amount(row.fee),
            asset(row.fee).into(),
            row.tx.account.clone(),
            String::new(),
            row.note().into(),
            iso_time(Zone::UTC, row.tx.time_ms),
        ]
    }
}

/// `bittytax`: BittyTax transaction records, values in the reporting currency.
pub struct BittyTax;

impl TransactionsCsv for BittyTax {
    const NAME: &'static str = "bittytax";
    const DESCRIPTION: &'static str =
        "BittyTax transaction records (CSV): every event up to the end of the year, values in the reporting currency";
    const HEADER: &'static [&'static str] = &[
        "Type",
        "Buy Quantity",
        "Buy Asset",
        "Buy Value in",
        "Sell Quantity",
        "Sell Asset",
        "Sell Value in",
        "Fee Quantity",
        "Fee Asset",
        "Fee Value in",
        "Wallet",
        "Timestamp",
        "Note",
    ];

    /// The value columns name the reporting currency ("Buy Value in USD").
    fn header(input: &Input) -> Vec<String> {
        let c = &input.currency;
        Self::HEADER.iter().map(|h| if h.ends_with(" in") { format!("{h} {c}") } else { (*h).to_owned() }).collect()
    }

    fn record(_input: &Input, row: &Row<'_>) -> Vec<String> {
        let kind = match row.class {
            Class::Buy | Class::Sell | Class::Swap => "Trade",
            Class::TransferIn | Class::Deposit => "Deposit",
            Class::TransferOut | Class::Withdrawal => "Withdrawal",
            Class::Income(EventKind::Staking) => "Staking-Reward",
            Class::Income(EventKind::Mining) => "Mining",
            Class::Income(EventKind::Airdrop) => "Airdrop",
            Class::Income(EventKind::Fork) => "Fork",
            Class::Income(EventKind::Interest) => "Interest",
            Class::Income(EventKind::Rebate) => "Cashback",
            Class::Income(_) => "Income",
            Class::Spend | Class::Fee => "Spend",
            Class::Gift => "Gift-Sent",
            Class::Lost => "Lost",
        };
        // Deposits and withdrawals take no values (BittyTax's table); the rest may.
        let valued = !matches!(row.class, Class::TransferIn | Class::Deposit | Class::TransferOut | Class::Withdrawal);
        let leg_value = |leg: Option<&TxLeg>| if valued { value(leg.and_then(|l| l.value)) } else { String::new() };
        vec![
            kind.into(),
            amount(row.received),
            asset(row.received).into(),
            leg_value(row.received),
            amount(row.sent),
            asset(row.sent).into(),
            leg_value(row.sent),
            amount(row.fee),
            asset(row.fee).into(),
            value(row.fee.and_then(|l| l.value)),
            row.tx.account.clone(),
            utc(row.tx.time_ms).format("%Y-%m-%dT%H:%M:%S UTC").to_string(),
            row.note().into(),
        ]
    }
}

/// `turbotax-universal`: TurboTax's CSV for an unsupported source.
pub struct TurboTaxUniversal;

/// At most 8 decimals (TurboTax's rule), half away from zero, no trailing zeros.
fn eight_places(leg: Option<&TxLeg>) -> String {
    leg.map(|l| format_amount(l.amount.round_dp_with_strategy(8, RoundingStrategy::MidpointAwayFromZero)))
        .unwrap_or_default()
}

impl TransactionsCsv for TurboTaxUniversal {
    const NAME: &'static str = "turbotax-universal";
    const DESCRIPTION: &'static str =
        "TurboTax universal crypto CSV (unsupported source): every event up to the end of the year, 13 columns";
    const HEADER: &'static [&'static str] = &[
        "Date",
        "Type",
        "Sent Asset",
        "Sent Amount",
        "Received Asset",
        "Received Amount",
        "Fee Asset",
        "Fee Amount",
        "Market Value Currency",
        "Market Value",
        "Description",
        "Transaction Hash",
        "Transaction ID",
    ];

    fn record(input: &Input, row: &Row<'_>) -> Vec<String> {
        let kind = match row.class {
            Class::Buy => "Buy",
            Class::Sell | Class::Spend => "Sale",
            Class::Swap => "Convert",
            Class::TransferIn | Class::TransferOut => "Transfer",
            Class::Deposit => "Deposit",
            Class::Withdrawal | Class::Gift => "Withdrawal",
            Class::Income(EventKind::Staking) => "Staking",
            Class::Income(EventKind::Mining) => "Mining",
            Class::Income(EventKind::Airdrop) => "Airdrop",
            Class::Income(EventKind::Fork) => "Forking",
            Class::Income(_) => "Income",
            Class::Lost => "Other",
            Class::Fee => "Expense",
        };
        let worth = row.value();
        vec![
            utc(row.tx.time_ms).format("%-m/%-d/%Y %-H:%M").to_string(),
            kind.into(),
            asset(row.sent).into(),
            eight_places(row.sent),
            asset(row.received).into(),
            eight_places(row.received),
            asset(row.fee).into(),
            eight_places(row.fee),
            if worth.is_some() { input.currency.clone() } else { String::new() },
            value(worth),
            row.note().into(),
            row.tx_hash().into(),
            row.tx.external_id.clone(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::tests_support::sample_input;

    fn render(format: &dyn Format) -> String {
        let mut out = Vec::new();
        format.write(&sample_input(), &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// Four example events, written as each service's import template shows them.
    #[test]
    fn the_reference_example_rows() {
        let koinly = render(&Koinly);
        assert!(koinly.contains("\n2025-01-15 10:30:00,45000,USD,0.5,BTC,10,USD,,,,Buy BTC,\n"), "{koinly}");
        assert!(koinly.contains("\n2025-03-02 14:00:00,0.1,BTC,3,ETH,0.0002,BTC,9000.00,USD,,Swap BTC for ETH,\n"));
        assert!(koinly.contains("\n2025-04-10 09:00:00,,,0.01,ETH,,,18.00,USD,reward,Staking reward,\n"));
        let turbotax = render(&TurboTaxUniversal);
        assert!(turbotax.contains("\n1/15/2025 10:30,Buy,USD,45000,BTC,0.5,USD,10,USD,45000.00,Buy BTC,,e1\n"));
        assert!(
            turbotax.contains("\n3/2/2025 14:00,Convert,BTC,0.1,ETH,3,BTC,0.0002,USD,9000.00,Swap BTC for ETH,,e2\n")
        );
        assert!(turbotax.contains("\n4/10/2025 9:00,Staking,,,ETH,0.01,,,USD,18.00,Staking reward,,e3\n"));
        let cointracking = render(&CoinTracking);
        assert!(cointracking.starts_with("\"Type\",\"Buy Amount\",\"Buy Currency\","), "{cointracking}");
        assert!(cointracking.contains(
            "\n\"Staking\",\"0.01\",\"ETH\",\"\",\"\",\"\",\"\",\"Kraken\",\"\",\"Staking reward\",\"2025-04-10 09:00:00\"\n"
        ));
        let bittytax = render(&BittyTax);
        assert!(
            bittytax.contains("\nStaking-Reward,0.01,ETH,18.00,,,,,,,Kraken,2025-04-10T09:00:00 UTC,Staking reward\n")
        );
        let cointracker = render(&CoinTracker);
        assert!(cointracker.contains("\n04/10/2025 09:00:00,0.01,ETH,,,,,staking\n"), "{cointracker}");
        let coinledger = render(&CoinLedger);
        assert!(coinledger.contains("\n01/15/2025 10:30:00,Kraken,USD,45000,BTC,0.5,USD,10,Trade,Buy BTC,\n"));
    }

    #[test]
    fn turbotax_amounts_have_at_most_eight_decimals() {
        let leg = TxLeg {
            role: LegRole::Sent,
            asset: "ETH".into(),
            amount: "0.123456789012345678".parse().unwrap(),
            value: None,
        };
        assert_eq!(eight_places(Some(&leg)), "0.12345679");
    }
}

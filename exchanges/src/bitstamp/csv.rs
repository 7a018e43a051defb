//! Bitstamp's transaction history export (Transactions → Export, "RFC 4180" CSV).
//!
//! # Layout
//!
//! A header matches when it has the columns (any order, case-insensitive)
//! `ID, Account, Type, Subtype, Datetime, Amount, Amount currency, Value, Value currency,
//! Rate, Rate currency, Fee, Fee currency, Order ID`. `Datetime` is UTC, RFC 3339
//! (`2024-01-02T10:11:12Z`). `Amount` is the amount of `Amount currency` the row moved;
//! for a `Market` row `Subtype` says `Buy` (the amount arrived, `Value` of `Value currency`
//! left) or `Sell` (the other way round); a fee (`Fee`, `Fee currency`) is paid on top.
//! The older layout `Type,Datetime,Account,Amount,Value,Rate,Fee,Sub Type` (amounts with their
//! currency in one cell, times to the minute such as `Sep. 30, 2016, 02:32 AM`) is read by
//! [`super::csv_legacy`] through the same [`Cells`].
//!
//! # Rows → events
//!
//! | `Type` | event (as the API's `user_transactions` type) |
//! |---|---|
//! | `Market` (`Buy`/`Sell`) | `trade` (type 2) |
//! | `Deposit` (`Ripple deposit` in older files) | `deposit` / `fiat_deposit` (type 0) |
//! | `Withdrawal` (`Ripple payment` in older files) | `withdrawal` / `fiat_withdrawal` (type 1) |
//! | `Staking reward` | `staking` (type 27) |
//! | `Referral reward` | `rebate` (type 32) |
//! | `Sub Account Transfer`, `Inter Account Transfer` | `internal_transfer` (types 14, 35; the amount's sign as written) |
//!
//! Any other `Type` is an error naming the row: cointally does not guess. Each row becomes one
//! event through the same function as the API's records ([`super::normalize::event_of`]), keyed
//! by the row's `ID`. Decision, not verified against a real account: the export's `ID` is the
//! `id` of the same record in `user_transactions`, so an export imported into an account that is
//! also synced adds nothing twice; were it not, the balance comparison at the end of a sync
//! would show every exported record twice.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::assets::canonical_asset;
use super::normalize::{Transaction, event_of};
use crate::rows::{Header, ImportedEvent, Row, RowError, RowReader, SourceRow};

/// The columns every matching header has.
const COLUMNS: &[&str] = &[
    "ID",
    "Type",
    "Subtype",
    "Datetime",
    "Amount",
    "Amount currency",
    "Value",
    "Value currency",
    "Fee",
    "Fee currency",
];

/// Whether a header row is the transactions export's.
pub fn matches(header: &Header) -> bool {
    header.has_all(COLUMNS)
}

/// Reads the rows of one export file.
#[derive(Debug, Default)]
pub struct Reader;

impl RowReader for Reader {
    fn read(&mut self, row: &Row<'_>) -> Result<Vec<ImportedEvent>, RowError> {
        let transaction = transaction_of(row)?;
        let mut event = event_of(&transaction).map_err(RowError::new)?;
        fee_in(&mut event, row.optional("Fee currency"), "Fee currency")?;
        Ok(vec![ImportedEvent { event, rows: vec![SourceRow::of(row)] }])
    }
}

/// The row as the [`Transaction`] the API would have given.
fn transaction_of(row: &Row<'_>) -> Result<Transaction, RowError> {
    let value = match row.optional("Value") {
        Some(_) => Some((row.amount("Value")?, row.asset("Value currency")?)),
        None => None,
    };
    let cells = Cells {
        id: row.required("ID")?.trim().to_owned(),
        time: row.time("Datetime")?,
        kind: row.required("Type")?.to_owned(),
        subtype: ("Subtype", row.optional("Subtype")),
        amount: (row.amount("Amount")?, row.asset("Amount currency")?),
        value,
        rate: row.optional_amount("Rate")?,
        fee: row.optional_amount("Fee")?.unwrap_or_default(),
        order_id: row.optional("Order ID"),
    };
    cells.transaction()
}

/// What one export row says, read from either layout ([`super::csv_legacy`] reads the older one).
pub(super) struct Cells {
    /// The row's id (empty when the layout has none).
    pub id: String,
    /// When.
    pub time: chrono::DateTime<chrono::Utc>,
    /// `Type` as written.
    pub kind: String,
    /// The sub-type column's name in this layout and its text (`Buy`/`Sell` for `Market` rows).
    pub subtype: (&'static str, Option<String>),
    /// `Amount` and its currency.
    pub amount: (Decimal, String),
    /// `Value` and its currency, when given.
    pub value: Option<(Decimal, String)>,
    /// `Rate`, when given.
    pub rate: Option<Decimal>,
    /// `Fee` (zero when none).
    pub fee: Decimal,
    /// `Order ID`, when given.
    pub order_id: Option<String>,
}

impl Cells {
    /// The [`Transaction`] the API would have given for this row.
    pub fn transaction(self) -> Result<Transaction, RowError> {
        let kind = self.kind.trim().to_ascii_lowercase();
        let (amount, currency) = self.amount;
        let mut amounts = BTreeMap::new();
        let mut pair = None;
        let mut rate = None;
        let code = match kind.as_str() {
            "market" => {
                let (value, value_currency) =
                    self.value.ok_or_else(|| RowError::field("Value", "a trade needs its value"))?;
                let (column, subtype) = self.subtype;
                let buy = match subtype.unwrap_or_default().trim().to_ascii_lowercase().as_str() {
                    "buy" => true,
                    "sell" => false,
                    other => {
                        return Err(RowError::field(column, format!("{other:?} is neither Buy nor Sell")));
                    }
                };
                let sign = if buy { Decimal::ONE } else { Decimal::NEGATIVE_ONE };
                amounts.insert(currency.clone(), sign * amount.abs());
                amounts.insert(value_currency.clone(), -sign * value.abs());
                rate = self.rate;
                pair = Some((currency, value_currency));
                "2"
            }
            "deposit" | "ripple deposit" => {
                amounts.insert(currency, amount.abs());
                "0"
            }
            "withdrawal" | "ripple payment" => {
                amounts.insert(currency, -amount.abs());
                "1"
            }
            "staking reward" => {
                amounts.insert(currency, amount.abs());
                "27"
            }
            "referral reward" => {
                amounts.insert(currency, amount.abs());
                "32"
            }
            "sub account transfer" | "inter account transfer" => {
                amounts.insert(currency, amount);
                if kind.starts_with("sub") { "14" } else { "35" }
            }
            _ => {
                return Err(RowError::field(
                    "Type",
                    format!(
                        "{:?} is a Bitstamp row type cointally does not read yet; convert this row to the generic format",
                        self.kind
                    ),
                ));
            }
        };
        amounts.retain(|_, value: &mut Decimal| !value.is_zero());
        Ok(Transaction {
            id: self.id,
            time: self.time,
            code: code.to_owned(),
            fee: self.fee.abs(),
            order_id: self.order_id,
            amounts,
            pair,
            rate,
        })
    }
}

/// Moves the fee legs of `event` to the currency the file names for the fee (it wins over the
/// API's rule of the quote currency).
pub(super) fn fee_in(event: &mut crate::NewEvent, currency: Option<String>, column: &str) -> Result<(), RowError> {
    if let Some(currency) = currency {
        let currency = canonical_asset(&currency).map_err(|e| RowError::field(column, e))?;
        for leg in event.legs.iter_mut().filter(|leg| leg.role == crate::LegRole::Fee) {
            leg.asset = currency.clone();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rows::read_text;
    use crate::{EventKind, LegRole};

    const HEADER: &str = "ID,Account,Type,Subtype,Datetime,Amount,Amount currency,Value,Value currency,Rate,Rate currency,Fee,Fee currency,Order ID\n";

    fn read(body: &str) -> crate::rows::TextRead {
        read_text(&mut Reader, matches, &format!("{HEADER}{body}"))
    }

    fn legs(event: &ImportedEvent) -> Vec<(String, String, LegRole)> {
        event.event.legs.iter().map(|l| (l.asset.clone(), l.amount.to_string(), l.role)).collect()
    }

    #[test]
    fn every_row_type_becomes_the_event_the_api_record_gives() {
        let read = read(
            "100002,Main Account,Deposit,,2023-12-01T08:00:00Z,5000.00,USD,,,,,,,\n\
             258436012,Main Account,Market,Buy,2024-01-02T10:11:12Z,0.02340000,BTC,1000.00,USD,42735.00,USD,3.00,USD,1690458421219329\n\
             258436013,Main Account,Market,Sell,2024-01-03T08:00:00Z,0.123456789,ETH,271.60,EUR,2200.00,EUR,0.41,EUR,1690458421219330\n\
             100003,Main Account,Withdrawal,,2024-02-01T12:30:00Z,0.20000000,BTC,,,,,0.00010000,BTC,\n\
             100005,Main Account,Staking reward,,2024-04-01T00:00:00Z,0.00123400,ETH,,,,,,,\n\
             100008,Main Account,Referral reward,,2024-05-01T00:00:00Z,10.00,USD,,,,,,,\n\
             100010,Main Account,Inter Account Transfer,,2024-05-03T00:00:00Z,25.00,USDC,,,,,,,\n",
        );
        assert!(read.errors.is_empty(), "{:?}", read.errors);
        let kinds: Vec<EventKind> = read.events.iter().map(|e| e.event.kind).collect();
        assert_eq!(
            kinds,
            [
                EventKind::FiatDeposit,
                EventKind::Trade,
                EventKind::Trade,
                EventKind::Withdrawal,
                EventKind::Staking,
                EventKind::Rebate,
                EventKind::InternalTransfer
            ]
        );
        assert_eq!(read.events[1].event.external_id, "258436012");
        assert_eq!(
            legs(&read.events[1]),
            vec![
                ("BTC".into(), "0.0234".into(), LegRole::Received),
                ("USD".into(), "-1000".into(), LegRole::Sent),
                ("USD".into(), "-3".into(), LegRole::Fee),
            ]
        );
        assert_eq!(
            legs(&read.events[2]),
            vec![
                ("ETH".into(), "-0.123456789".into(), LegRole::Sent),
                ("EUR".into(), "271.6".into(), LegRole::Received),
                ("EUR".into(), "-0.41".into(), LegRole::Fee),
            ]
        );
        assert_eq!(
            legs(&read.events[3]),
            vec![("BTC".into(), "-0.2".into(), LegRole::Sent), ("BTC".into(), "-0.0001".into(), LegRole::Fee)]
        );
        assert_eq!(read.events[3].rows[0].line, 5, "the row of transaction 100003");
    }

    /// The file's rows give the same events, ids and legs as the API's fixtures of the same
    /// records, so one account fed both adds nothing twice.
    #[test]
    fn a_row_and_the_api_record_of_the_same_happening_are_the_same_event() {
        let fixture = |name: &str| {
            let path = format!("{}/../fixtures/bitstamp/api/user_transactions/{name}.json", env!("CARGO_MANIFEST_DIR"));
            super::super::normalize::transaction_event(&std::fs::read_to_string(path).unwrap()).unwrap()
        };
        let read = read(
            "258436012,Main Account,Market,Buy,2024-01-02T10:11:12.123456Z,0.02340000,BTC,1000.00,USD,42735.00,USD,3.00,USD,1690458421219329\n\
             100003,Main Account,Withdrawal,,2024-02-01T12:30:00Z,0.20000000,BTC,,,,,0.00010000,BTC,\n",
        );
        for (event, name) in read.events.iter().zip(["trade_buy", "withdrawal_crypto"]) {
            let api = fixture(name);
            assert_eq!(event.event.external_id, api.external_id);
            assert_eq!(event.event.kind, api.kind);
            assert_eq!(event.event.legs, api.legs);
        }
    }

    #[test]
    fn unknown_types_and_bad_cells_are_errors_naming_the_line() {
        let read = read(
            "1,Main Account,Card purchase,,2024-01-01T00:00:00Z,1,BTC,,,,,,,\n\
             2,Main Account,Market,Swap,2024-01-01T00:00:00Z,1,BTC,5,USD,5,USD,,,\n\
             3,Main Account,Deposit,,not a time,1,BTC,,,,,,,\n",
        );
        let messages: Vec<String> = read.errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(messages.len(), 3, "{messages:?}");
        assert!(messages[0].contains("Card purchase") && messages[0].contains("generic format"), "{}", messages[0]);
        assert!(messages[1].contains("Subtype"), "{}", messages[1]);
        assert!(messages[2].contains("Datetime"), "{}", messages[2]);
        assert!(!matches(&Header::new(["Type", "Datetime", "Account", "Amount", "Value", "Rate", "Fee", "Sub Type"])));
    }
}

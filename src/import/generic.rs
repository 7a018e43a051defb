//! cointally's own CSV layout: one row per event, documented in the README.
//!
//! Columns (header names, any order, case-insensitive; only `time` and `kind` are required
//! in the header, the rest may be left out):
//! `time,kind,sent_amount,sent_asset,received_amount,received_asset,fee_amount,fee_asset,
//! fiat_value,fiat_currency,tx_hash,address,network,id,note`.
//! Amounts are positive; the column says the direction. An unknown column is refused, so a
//! misspelt header does not silently drop data. A `time` with an offset (`Z`, `+01:00`,
//! ` UTC`) is that instant; one without (or a bare date) is local time in the ledger's time
//! zone (`settings timezone`), which is UTC unless set — so a UTC ledger reads every file as
//! before.

use cointally_exchanges::event::FiatValue;
use cointally_exchanges::rows::{Header, ImportedEvent, Row, RowError, RowReader, SourceRow};
use cointally_exchanges::{EventKind, NewEvent};
use rust_decimal::Decimal;

use crate::tax::zone::Zone;

/// Every column of the generic layout, in the documented order.
pub const GENERIC_COLUMNS: [&str; 15] = [
    "time",
    "kind",
    "sent_amount",
    "sent_asset",
    "received_amount",
    "received_asset",
    "fee_amount",
    "fee_asset",
    "fiat_value",
    "fiat_currency",
    "tx_hash",
    "address",
    "network",
    "id",
    "note",
];

/// Whether a header is the generic layout's.
pub fn matches(header: &Header) -> bool {
    header.has_all(&["time", "kind"])
}

/// Reads generic rows.
pub struct Reader {
    header_checked: bool,
    /// The zone of times written without an offset.
    zone: Zone,
}

impl Reader {
    /// A reader that reads times without an offset in `zone`.
    pub fn new(zone: Zone) -> Reader {
        Reader { header_checked: false, zone }
    }
}

/// Which sides an event kind must, may or must not have.
enum Sides {
    /// Both sent and received (trade, conversion).
    Both,
    /// Only received (deposits, income).
    ReceivedOnly,
    /// Only sent (withdrawals, spending).
    SentOnly,
    /// Only a fee.
    FeeOnly,
    /// At least one of sent and received.
    Either,
}

fn sides(kind: EventKind) -> Sides {
    use EventKind::*;
    match kind {
        Trade | Conversion | Swap => Sides::Both,
        Deposit | FiatDeposit | Staking | Interest | Airdrop | Mining | Rebate | Income | Fork => Sides::ReceivedOnly,
        Withdrawal | FiatWithdrawal | Spend | Gift | GiftSpouse | Lost => Sides::SentOnly,
        Fee => Sides::FeeOnly,
        InternalTransfer | Adjustment | Unknown => Sides::Either,
    }
}

impl RowReader for Reader {
    fn read(&mut self, row: &Row<'_>) -> Result<Vec<ImportedEvent>, RowError> {
        if !self.header_checked {
            let names = row.header().names();
            if let Some(unknown) = names.iter().find(|n| !GENERIC_COLUMNS.iter().any(|c| c.eq_ignore_ascii_case(n))) {
                return Err(RowError::new(format!(
                    "unknown column {unknown:?} in the header (the generic format has: {})",
                    GENERIC_COLUMNS.join(", ")
                )));
            }
            self.header_checked = true;
        }
        let time = self.zone.parse_time(row.required("time")?).map_err(|e| RowError::field("time", e))?;
        let kind: EventKind = row.required("kind")?.parse().map_err(|e| RowError::field("kind", e))?;
        let sent = side(row, "sent_amount", "sent_asset")?;
        let received = side(row, "received_amount", "received_asset")?;
        let fee = side(row, "fee_amount", "fee_asset")?;
        let shape_error = |what: &str| Err(RowError::new(format!("a {kind} row {what}")));
        match (sides(kind), &sent, &received) {
            (Sides::Both, None, _) | (Sides::Both, _, None) => {
                return shape_error("needs both sent_amount/sent_asset and received_amount/received_asset");
            }
            (Sides::ReceivedOnly, _, None) => return shape_error("needs received_amount and received_asset"),
            (Sides::ReceivedOnly, Some(_), _) => {
                return shape_error("has only a received side; leave sent_amount and sent_asset empty");
            }
            (Sides::SentOnly, None, _) => return shape_error("needs sent_amount and sent_asset"),
            (Sides::SentOnly, _, Some(_)) => {
                return shape_error("has only a sent side; leave received_amount and received_asset empty");
            }
            (Sides::FeeOnly, _, _) if sent.is_some() || received.is_some() || fee.is_none() => {
                return shape_error("has only fee_amount and fee_asset");
            }
            (Sides::Either, None, None) => return shape_error("needs a sent or a received side"),
            _ => {}
        }
        let legs = super::legs(sent, received, fee);
        let fiat_value = match (row.optional_amount("fiat_value")?, row.optional("fiat_currency")) {
            (Some(amount), Some(_)) if amount >= Decimal::ZERO => {
                Some(FiatValue { amount, currency: row.asset("fiat_currency")? })
            }
            (Some(_), Some(_)) => return Err(RowError::field("fiat_value", "must not be negative")),
            (Some(_), None) => return Err(RowError::new("fiat_value is given without fiat_currency")),
            (None, Some(_)) => return Err(RowError::new("fiat_currency is given without fiat_value")),
            (None, None) => None,
        };
        let event = NewEvent {
            external_id: row.optional("id").unwrap_or_default(),
            tx_hash: row.optional("tx_hash"),
            address: row.optional("address"),
            network: row.optional("network"),
            note: row.optional("note"),
            fiat_value,
            ..NewEvent::new("", time, kind, legs)
        };
        Ok(vec![ImportedEvent { event, rows: vec![SourceRow::of(row)] }])
    }
}

/// An amount and its asset from two columns: both empty is no side; one without the other,
/// a negative or a zero amount (except a zero fee) is an error.
fn side(row: &Row<'_>, amount_col: &str, asset_col: &str) -> Result<Option<(Decimal, String)>, RowError> {
    let amount = row.optional_amount(amount_col)?;
    let has_asset = !row.get(asset_col).is_empty();
    match (amount, has_asset) {
        (None, false) => Ok(None),
        (Some(_), false) => Err(RowError::new(format!("{amount_col} is given without {asset_col}"))),
        (None, true) => Err(RowError::new(format!("{asset_col} is given without {amount_col}"))),
        (Some(a), true) if a.is_sign_negative() && !a.is_zero() => Err(RowError::field(
            amount_col,
            format!("{a} is negative; amounts are positive and the column says the direction"),
        )),
        (Some(a), true) if a.is_zero() && amount_col != "fee_amount" => {
            Err(RowError::field(amount_col, "is zero; leave both columns empty when nothing moved"))
        }
        (Some(a), true) => Ok(Some((a, row.asset(asset_col)?))),
    }
}

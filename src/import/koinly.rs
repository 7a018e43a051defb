//! Koinly's universal CSV template.
//!
//! `Date,Sent Amount,Sent Currency,Received Amount,Received Currency,Fee Amount,Fee Currency,
//! Net Worth Amount,Net Worth Currency,Label,Description,TxHash` — the `Label` column may also
//! be called `Tag`. What an untagged row is follows Koinly: both sides a trade, only received a
//! deposit, only sent a withdrawal (fiat on the only side makes it a fiat deposit or
//! withdrawal). Tags name income, gifts, losses and costs; a tag cointally does not know is an
//! error, never guessed.

use cointally_exchanges::event::FiatValue;
use cointally_exchanges::rows::{Header, ImportedEvent, Row, RowError, RowReader, SourceRow};
use cointally_exchanges::{EventKind, NewEvent, is_fiat};
use rust_decimal::Decimal;

/// Whether a header is Koinly's universal template.
pub fn matches(header: &Header) -> bool {
    header.has_all(&["Date", "Sent Amount", "Sent Currency", "Received Amount", "Received Currency"])
}

/// Reads Koinly universal rows.
pub struct Reader;

/// What a Koinly tag makes of a row, given which sides it has.
fn kind_for(tag: &str, sent: bool, received: bool, fiat_side: bool) -> Result<EventKind, String> {
    let tag = tag.trim().to_ascii_lowercase().replace(['_', '-'], " ");
    let kind = match (tag.as_str(), sent, received) {
        ("", true, true) => EventKind::Trade,
        ("swap", true, true) => EventKind::Swap,
        ("", false, true) if fiat_side => EventKind::FiatDeposit,
        ("", false, true) => EventKind::Deposit,
        ("", true, false) if fiat_side => EventKind::FiatWithdrawal,
        ("", true, false) => EventKind::Withdrawal,
        ("airdrop", false, true) => EventKind::Airdrop,
        ("fork", false, true) => EventKind::Fork,
        ("mining", false, true) => EventKind::Mining,
        ("reward" | "staking" | "staking reward", false, true) => EventKind::Staking,
        ("lending interest" | "loan interest" | "interest", false, true) => EventKind::Interest,
        ("income" | "other income" | "salary", false, true) => EventKind::Income,
        ("cashback" | "fee refund", false, true) => EventKind::Rebate,
        ("gift" | "donation", true, false) => EventKind::Gift,
        ("lost", true, false) => EventKind::Lost,
        ("cost" | "tax" | "margin fee" | "loan fee" | "interest payment", true, false) => EventKind::Spend,
        (tag, _, _) => {
            let shape = match (sent, received) {
                (true, true) => "a trade (both sides)",
                (false, true) => "a deposit (received side only)",
                (true, false) => "a withdrawal (sent side only)",
                (false, false) => "a row with neither side",
            };
            return Err(format!(
                "label {tag:?} is not one cointally knows for {shape} (deposit labels: airdrop, fork, mining, \
                 reward, lending interest, income, cashback, fee refund; withdrawal labels: gift, donation, lost, cost; \
                 trade labels: swap; or leave it empty)"
            ));
        }
    };
    Ok(kind)
}

impl RowReader for Reader {
    fn read(&mut self, row: &Row<'_>) -> Result<Vec<ImportedEvent>, RowError> {
        let time = row.time("Date")?;
        let sent = side(row, "Sent Amount", "Sent Currency")?;
        let received = side(row, "Received Amount", "Received Currency")?;
        let fee = side(row, "Fee Amount", "Fee Currency")?;
        let tag = if row.header().position("Label").is_some() { row.get("Label") } else { row.get("Tag") };
        let only_side = match (&sent, &received) {
            (Some((_, asset)), None) | (None, Some((_, asset))) => Some(asset.as_str()),
            _ => None,
        };
        let kind = if sent.is_none() && received.is_none() {
            if fee.is_none() {
                return Err(RowError::new("the row moves nothing: give a sent, received or fee amount"));
            }
            EventKind::Fee
        } else {
            kind_for(tag, sent.is_some(), received.is_some(), only_side.is_some_and(is_fiat)).map_err(RowError::new)?
        };
        let legs = super::legs(sent, received, fee);
        let fiat_value = match row.optional_amount("Net Worth Amount")? {
            Some(amount) => Some(FiatValue { amount: amount.abs(), currency: row.asset("Net Worth Currency")? }),
            None => None,
        };
        let event = NewEvent {
            tx_hash: row.optional("TxHash"),
            note: row.optional("Description"),
            fiat_value,
            ..NewEvent::new("", time, kind, legs)
        };
        Ok(vec![ImportedEvent { event, rows: vec![SourceRow::of(row)] }])
    }
}

fn side(row: &Row<'_>, amount_col: &str, asset_col: &str) -> Result<Option<(Decimal, String)>, RowError> {
    let amount = row.optional_amount(amount_col)?;
    match amount {
        None => Ok(None),
        Some(a) if a.is_zero() => Ok(None),
        Some(a) if a.is_sign_negative() => {
            Err(RowError::field(amount_col, format!("{a} is negative; Koinly amounts are positive")))
        }
        Some(a) => Ok(Some((a, row.asset(asset_col)?))),
    }
}

//! Coinbase's "Transaction history" report (Settings → Reports → Transaction history, CSV).
//!
//! # Layouts
//!
//! Columns are found by name, never by position; names are matched without case. Every
//! layout has `Timestamp`, `Transaction Type`, `Asset`, `Quantity Transacted` and `Notes`, and
//! one of these sets of money columns:
//!
//! - **2024 → now** (header on line 4, after an empty line, `Transactions` and
//!   `User,<name>,<uuid>`): `ID,Timestamp,Transaction Type,Asset,Quantity Transacted,
//!   Price Currency,Price at Transaction,Subtotal,Total (inclusive of fees and/or spread),
//!   Fees and/or Spread,Notes`, optionally followed by `Sender Address,Recipient Address`.
//!   Times like `2024-06-20 09:15:42 UTC`; outflows have a negative quantity; money columns
//!   carry a currency symbol (`$1,234.56`, `-$4.41`, `€0.5`, `kr7,000.00`, `Kč16233.4`).
//! - **early 2024**: the same without `ID`.
//! - **2022/23 – early 2024**: `Spot Price Currency,Spot Price at Transaction,Subtotal,
//!   Total (inclusive of fees and/or spread),Fees and/or Spread`.
//! - **late 2021 – 2022**: `Spot Price Currency,Spot Price at Transaction,Subtotal,
//!   Total (inclusive of fees),Fees`.
//! - **mid 2021 and before**: the currency inside the names: `GBP Spot Price at Transaction,
//!   GBP Subtotal,GBP Total (inclusive of fees),GBP Fees` (any fiat code cointally knows).
//!
//! The layouts before 2024 come after a 7-line preamble (a quoted disclaimer, empty lines,
//! `Transactions`, `User,…`), write times like `2022-01-03T09:12:45Z`, quantities always
//! positive and money as bare numbers (empty for some Receive rows). Not read: the 2017-era
//! per-wallet report (`Timestamp,Balance,Amount,Currency,To,…`) and the "Transfers" report
//! (`Timestamp,Type,<ASSET>,Subtotal,…`): neither has a `Transaction Type` column.
//!
//! # Numbers
//!
//! Money cells (and the quantity, for tolerance) go through one function, `money`, that
//! removes a leading currency symbol of up to four characters, a minus sign or brackets before
//! it, and thousands separators — only where they group digits by three (`1,234.56`); a comma
//! anywhere else (`0,50`, a decimal comma) is an error rather than a guess. The symbol is not
//! checked against the currency (Coinbase writes `kr` for SEK, NOK and DKK alike): the
//! currency of the money columns is the row's `Price Currency` / `Spot Price Currency`, or the
//! code in the column names of the oldest layout. Signs of money cells are ignored (Coinbase
//! writes some outflows negative, some not); the transaction type gives the direction.
//!
//! # Transaction types
//!
//! The type decides the direction; a negative quantity on a type that adds to the balance is
//! an error (the file and the type disagree). A positive quantity on a type that removes is
//! normal (layouts before 2024). Types are matched without case.
//!
//! | type | event | legs |
//! |---|---|---|
//! | `Buy`, `Advanced Trade Buy`, `Advance Trade Buy`, `Credit` | trade | − Subtotal in the currency, + quantity, − Fees in the currency |
//! | `Sell`, `Advanced Trade Sell`, `Advance Trade Sell`, `Retail Simple Dust` | trade | − quantity, + Subtotal, − Fees |
//! | (either, when the Notes name another quote asset) | trade | the quote side from the Notes, see below |
//! | `Convert` | trade | − quantity, + what the Notes say was received |
//! | `Retail MGX DEX Buy` (two rows) | trade | − the negative row, + the positive row |
//! | `Asset Migration`, `Retail Eth2 Deprecation` (two rows) | conversion | − old asset, + new asset |
//! | `Send` | withdrawal | − quantity |
//! | `Receive` | deposit | + quantity (income or rebate by Notes, see below) |
//! | `Deposit` / `Withdrawal` | fiat_deposit / fiat_withdrawal (deposit / withdrawal for crypto) | ± quantity |
//! | `Pro Deposit`, `Exchange Deposit`, `Prime Deposit` | withdrawal | − quantity |
//! | `Pro Withdrawal`, `Exchange Withdrawal`, `Prime Withdrawal` | deposit | + quantity |
//! | `Retail MGX DEX Send` | withdrawal | − quantity |
//! | `Rewards Income`, `Reward Income`, `Staking Income`, `Inflation Reward` | staking | + quantity |
//! | `Coinbase Earn`, `Learning Reward`, `Incentives Rewards Payout` | income | + quantity |
//! | `Interest`, `Interest Payout`, `USDC Interest` | interest | + quantity |
//! | `Subscription Rebate`, `Subscription Rebates (24 Hours)`, `Retail Simple Price Improvement` | rebate | + quantity |
//! | `Donation` | gift | − quantity |
//! | `Card Spend` | spend | − quantity |
//! | `Admin Debit` | adjustment | − quantity |
//! | `Subscription` | fee | fee leg − quantity |
//! | `Retail Staking Transfer`, `Retail Unstaking Transfer`, `Vault Withdrawal`, `Cash to Savings`, `Savings to Cash`, `Transfer` | internal_transfer | − quantity and + quantity of the same asset |
//!
//! Any other type is an error naming it, with the advice to convert those rows to cointally's
//! generic format: cointally does not guess what an unknown type does to a balance.
//!
//! # Ids, values, notes
//!
//! - `external_id` is the `ID` column (the id Coinbase's v2 API gives the same transaction, so a
//!   later API sync finds it); files without `ID` leave it empty and the importer keys the event
//!   by its content. Each row is archived under its `ID` when it has one.
//! - `fiat_value` is the row's Subtotal in its currency (Total for Convert, whose Total is the
//!   quantity at the spot price while Subtotal is net of the spread), when the cell is not empty
//!   or zero. `Price at Transaction` is never a leg. `note` is the Notes text.
//! - `address` is the `Recipient Address` (Send) or `Sender Address` (Receive) column, else for a
//!   Send the last word of Notes `Sent 0.25 ETH to <address>` (not when it is an e-mail).
//!
//! # Decisions where the source is uncertain
//!
//! - Buy/Sell money: the fiat leg is Subtotal and the fee leg is Fees, both in the row's
//!   currency (Subtotal + Fees = Total for a buy, Subtotal − Fees = Total for a sell). The report
//!   does not say whether a buy was paid from the Coinbase fiat wallet or a card: a card-paid buy
//!   makes the fiat balance go negative, which is what it is.
//! - A trade's quote asset comes from Notes `Bought|Sold <qty> <ASSET> for <amount> <QUOTE>
//!   [on <PAIR>] [at <rate> <QUOTE>/<ASSET>] …`. When QUOTE is the row's currency (or Notes do not
//!   read like that for a plain Buy/Sell) the money columns are used. When QUOTE is another asset
//!   (USDC, BTC, or a fiat other than the account's), the quote side comes from the Notes: the
//!   Notes amount is the total including the fee; with a rate, quantity × rate is the trade and
//!   the difference is a fee leg in QUOTE; without a rate (or when the difference has the wrong
//!   sign) the whole Notes amount is the quote leg and there is no fee leg. An Advanced Trade
//!   row whose Notes cannot be read is an error: only the Notes say what the quote asset was.
//! - Convert: the received side is read from Notes `Converted <qty> <FROM> to <qty> <TO>`;
//!   unreadable Notes are an error. Its Fees column is the spread already inside the received
//!   quantity, so it is NOT a leg (no fiat leaves the account). Some exports are said to write a
//!   second Convert row for the received asset: a Convert row whose asset is the Notes' TO asset
//!   makes no event of its own, and must have its sending row (same `ID`, or same time and Notes
//!   without `ID`) in the file, else it is an error at the end of the file. Only the sending row
//!   is archived with the event in that case.
//! - Send: Coinbase does not report the network fee in this report (the Fees column of a Send, if
//!   any, is a fiat figure): the withdrawal has no fee leg. Fiat Deposit/Withdrawal: the quantity
//!   is taken as what the fiat wallet moved; a card or bank fee in Fees is not a leg.
//! - Moves to and from Coinbase Pro/Exchange/Prime leave or enter this report's balances: they are
//!   withdrawals and deposits (to be matched as own transfers), not internal transfers.
//! - Staking and savings moves inside the retail account are internal transfers with two legs of
//!   the same asset that cancel: the asset stays the person's and in the account.
//! - `Receive` Notes `… from Coinbase Earn` or `… from Coinbase Rewards` make income, `… from
//!   Coinbase Referral` a rebate (a referral kickback); any other Receive is a deposit.
//! - `Credit` is read as a Buy and `Retail Simple Dust` as a Sell, as other tax tools read
//!   them; `Admin Debit` is an adjustment (Coinbase correcting a balance);
//!   `Subscription` (Coinbase One) a fee; `Retail MGX DEX Send` a withdrawal.
//! - Two-row types (`Retail MGX DEX Buy`, `Asset Migration`, `Retail Eth2 Deprecation`): the two
//!   rows must follow each other with the same type and time; the negative row is what left.
//!   When both quantities are positive (layouts before 2024) only an Eth2 deprecation can be read
//!   (ETH2 is what left); otherwise, and for a row without its partner, it is an error. The event
//!   takes the rows' `ID` when both rows share it, else none (the importer keys it by content).
//! - Asset tickers are Coinbase's own, upper-cased (`ETH2` stays `ETH2`, `CGLD` stays `CGLD`).

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::amount::parse_amount;
use crate::asset::{asset_symbol, is_fiat};
use crate::event::{EventKind, FiatValue, Leg, NewEvent};
use crate::rows::{Header, ImportedEvent, Row, RowError, RowReader, SourceRow};

const ID: &str = "ID";
const TIMESTAMP: &str = "Timestamp";
const TYPE: &str = "Transaction Type";
const ASSET: &str = "Asset";
const QUANTITY: &str = "Quantity Transacted";
const NOTES: &str = "Notes";
const SENDER: &str = "Sender Address";
const RECIPIENT: &str = "Recipient Address";

/// Whether a header row is one of the Coinbase "Transaction history" layouts listed above.
pub fn matches(header: &Header) -> bool {
    Columns::of(header).is_some()
}

/// Where the money columns of a layout are, and which currency they are in.
#[derive(Clone, Debug)]
struct Columns {
    currency: Currency,
    subtotal: String,
    total: String,
    fees: String,
}

/// The currency of the money columns.
#[derive(Clone, Debug)]
enum Currency {
    /// Given per row in this column (2021 onwards).
    Column(&'static str),
    /// Written in the column names (`GBP Subtotal`, mid-2021 and before).
    Named(String),
}

impl Columns {
    fn of(header: &Header) -> Option<Columns> {
        if !header.has_all(&[TIMESTAMP, TYPE, ASSET, QUANTITY, NOTES]) {
            return None;
        }
        let (currency, prefix) = if header.position("Price Currency").is_some() {
            (Currency::Column("Price Currency"), String::new())
        } else if header.position("Spot Price Currency").is_some() {
            (Currency::Column("Spot Price Currency"), String::new())
        } else {
            let code = header.names().iter().find_map(|name| named_currency(name))?;
            let prefix = format!("{code} ");
            (Currency::Named(code), prefix)
        };
        let pick = |names: &[&str]| names.iter().map(|n| format!("{prefix}{n}")).find(|n| header.position(n).is_some());
        Some(Columns {
            currency,
            subtotal: pick(&["Subtotal"])?,
            total: pick(&["Total (inclusive of fees and/or spread)", "Total (inclusive of fees)"])?,
            fees: pick(&["Fees and/or Spread", "Fees"])?,
        })
    }
}

/// The fiat code of an oldest-layout column name like `GBP Spot Price at Transaction`.
fn named_currency(name: &str) -> Option<String> {
    const SUFFIX: &str = " spot price at transaction";
    let lower = name.to_ascii_lowercase();
    let code = lower.strip_suffix(SUFFIX)?;
    let code = asset_symbol(code).ok()?;
    is_fiat(&code).then_some(code)
}

/// Reads a money cell as Coinbase writes it: `$1,234.56`, `-$4.41`, `(€2.00)`, `kr7,000.00`,
/// `Kč16233.43638` or a bare `433.42`. The currency symbol and thousands separators are removed
/// here on purpose; a comma that does not group digits by three is refused (it may be a decimal
/// comma, and reading it as a separator would multiply the amount). An empty cell is `None`.
fn money(text: &str) -> Result<Option<Decimal>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let (negative, rest) = if let Some(inner) = text.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
        (true, inner.trim())
    } else if let Some(rest) = text.strip_prefix('-') {
        (true, rest.trim_start())
    } else {
        (false, text)
    };
    let number_at = rest.find(|c: char| c.is_ascii_digit() || matches!(c, '.' | '-' | '+')).unwrap_or(rest.len());
    let symbol = rest[..number_at].trim();
    let number = rest[number_at..].trim();
    if symbol.chars().count() > 4 || symbol.contains(',') || number.is_empty() {
        return Err(format!("{text:?} is not an amount (expected a number, optionally like $1,234.56 or -€4.41)"));
    }
    if negative && number.starts_with(['-', '+']) {
        return Err(format!("{text:?} has two signs"));
    }
    let value = parse_amount(&without_thousands(number)?).map_err(|e| e.to_string())?;
    Ok(Some(if negative { -value } else { value }))
}

/// Removes thousands separators from `1,234,567.89`; refuses any other comma.
fn without_thousands(number: &str) -> Result<String, String> {
    if !number.contains(',') {
        return Ok(number.to_string());
    }
    let body = number.trim_start_matches(['-', '+']);
    let (whole, fraction) = body.split_once('.').unwrap_or((body, ""));
    let mut groups = whole.split(',');
    let first_ok = groups.next().is_some_and(|g| (1..=3).contains(&g.len()) && g.bytes().all(|b| b.is_ascii_digit()));
    let rest_ok = groups.all(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()));
    if first_ok && rest_ok && !fraction.contains(',') {
        Ok(number.replace(',', ""))
    } else {
        Err(format!(
            "{number:?} has a comma that does not separate thousands (a decimal comma?); \
             cointally reads amounts like 1,234.56 and refuses to guess"
        ))
    }
}

/// What a transaction type does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Type {
    Buy {
        advanced: bool,
    },
    Sell {
        advanced: bool,
    },
    Convert,
    /// One of two rows that make one event.
    Half(HalfKind),
    Send,
    Receive,
    /// `Deposit`: fiat (or crypto) arriving.
    Deposit,
    /// `Withdrawal`: fiat (or crypto) leaving.
    Withdrawal,
    /// Adds the quantity, as this kind.
    Inflow(EventKind),
    /// Removes the quantity, as this kind.
    Outflow(EventKind),
    /// Removes the quantity as a fee.
    Fee,
    /// A type cointally does not know: the quantity moves the balance by its sign.
    Unknown,
    /// Moves the quantity inside the account.
    Internal,
}

/// What a two-row type makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum HalfKind {
    /// A trade on Coinbase's DEX.
    DexTrade,
    /// A ticker migration (MATIC → POL, ETH2 → ETH).
    Migration,
}

fn classify(text: &str) -> Option<Type> {
    let name = text.split_whitespace().collect::<Vec<_>>().join(" ").to_ascii_lowercase();
    let kind = match name.as_str() {
        "buy" | "credit" => Type::Buy { advanced: false },
        "advanced trade buy" | "advance trade buy" => Type::Buy { advanced: true },
        "sell" | "retail simple dust" => Type::Sell { advanced: false },
        "advanced trade sell" | "advance trade sell" => Type::Sell { advanced: true },
        "convert" => Type::Convert,
        "retail mgx dex buy" => Type::Half(HalfKind::DexTrade),
        "asset migration" | "retail eth2 deprecation" => Type::Half(HalfKind::Migration),
        "send" => Type::Send,
        "receive" => Type::Receive,
        "deposit" => Type::Deposit,
        "withdrawal" => Type::Withdrawal,
        "pro deposit" | "exchange deposit" | "prime deposit" | "retail mgx dex send" => {
            Type::Outflow(EventKind::Withdrawal)
        }
        "pro withdrawal" | "exchange withdrawal" | "prime withdrawal" => Type::Inflow(EventKind::Deposit),
        "rewards income" | "reward income" | "staking income" | "inflation reward" => Type::Inflow(EventKind::Staking),
        "coinbase earn" | "learning reward" | "incentives rewards payout" => Type::Inflow(EventKind::Income),
        "interest" | "interest payout" | "usdc interest" => Type::Inflow(EventKind::Interest),
        "subscription rebate" | "subscription rebates (24 hours)" | "retail simple price improvement" => {
            Type::Inflow(EventKind::Rebate)
        }
        "donation" => Type::Outflow(EventKind::Gift),
        "card spend" => Type::Outflow(EventKind::Spend),
        "admin debit" => Type::Outflow(EventKind::Adjustment),
        "subscription" => Type::Fee,
        "retail staking transfer"
        | "retail unstaking transfer"
        | "vault withdrawal"
        | "cash to savings"
        | "savings to cash"
        | "transfer" => Type::Internal,
        _ => return None,
    };
    Some(kind)
}

/// The parts of a row every type needs.
struct Line<'r, 'a> {
    row: &'r Row<'a>,
    type_text: &'a str,
    id: Option<String>,
    time: DateTime<Utc>,
    asset: String,
    /// Signed as written.
    quantity: Decimal,
    notes: Option<String>,
}

impl Line<'_, '_> {
    fn source(&self) -> SourceRow {
        SourceRow::of(self.row)
    }

    fn event(&self, kind: EventKind, legs: Vec<Leg>, fiat_value: Option<FiatValue>) -> NewEvent {
        NewEvent {
            note: self.notes.clone(),
            fiat_value,
            ..NewEvent::new(self.id.clone().unwrap_or_default(), self.time, kind, legs)
        }
    }

    fn imported(&self, event: NewEvent) -> Vec<ImportedEvent> {
        vec![ImportedEvent { event, rows: vec![self.source()] }]
    }

    /// The quantity of a type that adds to the balance.
    fn inflow(&self) -> Result<Decimal, RowError> {
        if self.quantity < Decimal::ZERO {
            return Err(RowError::new(format!(
                "column {QUANTITY:?} is negative ({}) but a {:?} row adds to the balance; \
                 the file does not look like a Coinbase export",
                self.quantity, self.type_text
            )));
        }
        Ok(self.quantity)
    }

    /// The quantity of a type that removes from the balance (written negative from 2024 on,
    /// positive before).
    fn outflow(&self) -> Decimal {
        self.quantity.abs()
    }
}

/// `Bought|Sold <qty> <ASSET> for <amount> <QUOTE> [on <PAIR>] [at <rate> <QUOTE>/<ASSET>] …`
#[derive(Debug, PartialEq)]
struct TradeNote {
    bought: bool,
    base: String,
    quote_amount: Decimal,
    quote: String,
    rate: Option<Decimal>,
}

fn trade_note(notes: &str) -> Option<TradeNote> {
    let words: Vec<&str> = notes.split_whitespace().collect();
    let bought = match *words.first()? {
        "Bought" => true,
        "Sold" => false,
        _ => return None,
    };
    if words.len() < 6 || words[3] != "for" {
        return None;
    }
    money(words[1]).ok()??;
    let base = asset_symbol(words[2]).ok()?;
    let quote_amount = money(words[4]).ok()??.abs();
    let quote = asset_symbol(words[5]).ok()?;
    let rate = words.iter().position(|w| *w == "at").filter(|&i| i > 5).and_then(|i| {
        let unit = words.get(i + 2)?;
        let (unit_quote, unit_base) = unit.split_once('/')?;
        let unit_ok = unit_quote.eq_ignore_ascii_case(&quote) && unit_base.eq_ignore_ascii_case(&base);
        if unit_ok { money(words.get(i + 1)?).ok()?.map(|r| r.abs()) } else { None }
    });
    Some(TradeNote { bought, base, quote_amount, quote, rate })
}

/// `Converted <qty> <FROM> to <qty> <TO>`
#[derive(Debug, PartialEq)]
struct ConvertNote {
    from: String,
    to_amount: Decimal,
    to: String,
}

fn convert_note(notes: &str) -> Option<ConvertNote> {
    let words: Vec<&str> = notes.split_whitespace().collect();
    if words.len() < 6 || words[0] != "Converted" || words[3] != "to" {
        return None;
    }
    money(words[1]).ok()??;
    let from = asset_symbol(words[2]).ok()?;
    let to_amount = money(words[4]).ok()??.abs();
    let to = asset_symbol(words[5]).ok()?;
    Some(ConvertNote { from, to_amount, to })
}

/// The address of a Send from its Notes: `Sent 0.25 ETH to <address>`.
fn send_address(notes: &str) -> Option<String> {
    let words: Vec<&str> = notes.split_whitespace().collect();
    match words.as_slice() {
        ["Sent", _, _, "to", address] if !address.contains('@') => Some((*address).to_string()),
        _ => None,
    }
}

/// One row of a two-row type, waiting for its partner.
#[derive(Debug)]
struct Half {
    kind: HalfKind,
    type_text: String,
    line: u64,
    id: Option<String>,
    time: DateTime<Utc>,
    asset: String,
    quantity: Decimal,
    notes: Option<String>,
    fiat_value: Option<FiatValue>,
    source: SourceRow,
}

/// Reads Coinbase "Transaction history" rows, in any of the layouts listed above.
#[derive(Default)]
pub struct Reader {
    columns: Option<Columns>,
    /// The first row of a two-row type.
    pending: Option<Half>,
    /// Keys (ID, or time and Notes) of the Convert rows that made a trade.
    converts_sent: BTreeSet<String>,
    /// Receiving halves of two-row Converts: key and line.
    converts_received: Vec<(String, u64)>,
}

impl Reader {
    fn columns(&mut self, header: &Header) -> Result<Columns, RowError> {
        if let Some(columns) = &self.columns {
            return Ok(columns.clone());
        }
        let columns = Columns::of(header).ok_or_else(|| {
            RowError::new("the header is not a Coinbase transaction history header (Timestamp, Transaction Type, …)")
        })?;
        self.columns = Some(columns.clone());
        Ok(columns)
    }

    fn read_row(&mut self, row: &Row<'_>) -> Result<Vec<ImportedEvent>, RowError> {
        let columns = self.columns(row.header())?;
        let type_text = row.required(TYPE)?;
        // A type cointally does not know is kept as kind `unknown`, its quantity moving the
        // balance the way its sign says, until the user reclassifies it.
        let kind = classify(type_text).unwrap_or(Type::Unknown);
        let line = Line {
            row,
            type_text,
            id: row.optional(ID),
            time: row.time(TIMESTAMP)?,
            asset: row.asset(ASSET)?,
            quantity: money_cell(row, QUANTITY)?.ok_or_else(|| required(QUANTITY))?,
            notes: row.optional(NOTES),
        };
        let money = Money { row, columns: &columns };
        if !matches!(kind, Type::Half(_)) {
            if let Some(pending) = self.pending.take() {
                return Err(unpaired(&pending));
            }
        }
        let asset = line.asset.clone();
        let value = || money.value(&money.columns.subtotal, &money.columns.total);
        let (kind, legs, fiat_value) = match kind {
            Type::Buy { advanced } => return trade(&line, true, advanced, &money),
            Type::Sell { advanced } => return trade(&line, false, advanced, &money),
            Type::Convert => return self.convert(&line, &money),
            Type::Half(half) => return self.half(&line, half, &money),
            Type::Send => {
                let legs = vec![Leg::sent(asset, line.outflow())];
                let address = row.optional(RECIPIENT).or_else(|| line.notes.as_deref().and_then(send_address));
                let event = NewEvent { address, ..line.event(EventKind::Withdrawal, legs, value()?) };
                return Ok(line.imported(event));
            }
            Type::Receive => {
                let notes = line.notes.as_deref().unwrap_or("");
                let kind = if notes.contains("from Coinbase Earn") || notes.contains("from Coinbase Rewards") {
                    EventKind::Income
                } else if notes.contains("from Coinbase Referral") {
                    EventKind::Rebate
                } else {
                    EventKind::Deposit
                };
                let legs = vec![Leg::received(asset, line.inflow()?)];
                let event = NewEvent { address: row.optional(SENDER), ..line.event(kind, legs, value()?) };
                return Ok(line.imported(event));
            }
            Type::Deposit => {
                let kind = if is_fiat(&asset) { EventKind::FiatDeposit } else { EventKind::Deposit };
                (kind, vec![Leg::received(asset, line.inflow()?)], value()?)
            }
            Type::Withdrawal => {
                let kind = if is_fiat(&asset) { EventKind::FiatWithdrawal } else { EventKind::Withdrawal };
                (kind, vec![Leg::sent(asset, line.outflow())], value()?)
            }
            Type::Inflow(kind) => (kind, vec![Leg::received(asset, line.inflow()?)], value()?),
            Type::Outflow(kind) => (kind, vec![Leg::sent(asset, line.outflow())], value()?),
            Type::Fee => (EventKind::Fee, vec![Leg::fee(asset, line.outflow())], value()?),
            Type::Unknown => {
                let leg = if line.quantity < Decimal::ZERO {
                    Leg::sent(asset, line.outflow())
                } else {
                    Leg::received(asset, line.quantity)
                };
                let event = NewEvent {
                    note: Some(format!("Coinbase transaction type {type_text:?}")),
                    ..line.event(EventKind::Unknown, vec![leg], value()?)
                };
                return Ok(line.imported(event));
            }
            Type::Internal => {
                let amount = line.outflow();
                (
                    EventKind::InternalTransfer,
                    vec![Leg::sent(asset.clone(), amount), Leg::received(asset, amount)],
                    value()?,
                )
            }
        };
        Ok(line.imported(line.event(kind, legs, fiat_value)))
    }

    fn convert(&mut self, line: &Line<'_, '_>, money: &Money<'_, '_>) -> Result<Vec<ImportedEvent>, RowError> {
        let notes = line.notes.as_deref().unwrap_or("");
        let note = convert_note(notes).ok_or_else(|| {
            RowError::new(format!(
                "a Convert row's Notes must say what was received, like \"Converted 0.005 BTC to 0.1 ETH\", \
                 but they read {notes:?}; fix the Notes or give the row in cointally's generic format"
            ))
        })?;
        let key = line.id.clone().unwrap_or_else(|| format!("{}|{notes}", line.time.to_rfc3339()));
        if line.asset == note.from {
            self.converts_sent.insert(key);
            let legs = vec![Leg::sent(line.asset.clone(), line.outflow()), Leg::received(note.to, note.to_amount)];
            let value = money.value(&money.columns.total, &money.columns.subtotal)?;
            return Ok(line.imported(line.event(EventKind::Trade, legs, value)));
        }
        if line.asset == note.to {
            line.inflow()?;
            self.converts_received.push((key, line.row.line));
            return Ok(Vec::new());
        }
        Err(RowError::new(format!(
            "the Notes of this Convert row speak of {} and {} but its asset is {}",
            note.from, note.to, line.asset
        )))
    }

    fn half(
        &mut self,
        line: &Line<'_, '_>,
        kind: HalfKind,
        money: &Money<'_, '_>,
    ) -> Result<Vec<ImportedEvent>, RowError> {
        let half = Half {
            kind,
            type_text: line.type_text.to_string(),
            line: line.row.line,
            id: line.id.clone(),
            time: line.time,
            asset: line.asset.clone(),
            quantity: line.quantity,
            notes: line.notes.clone(),
            fiat_value: money.value(&money.columns.subtotal, &money.columns.total)?,
            source: line.source(),
        };
        let Some(first) = self.pending.take() else {
            self.pending = Some(half);
            return Ok(Vec::new());
        };
        if first.kind != half.kind || !first.type_text.eq_ignore_ascii_case(&half.type_text) || first.time != half.time
        {
            let error = unpaired(&first);
            self.pending = Some(half);
            return Err(error);
        }
        let zero = Decimal::ZERO;
        let (out, into) = if first.quantity < zero && half.quantity > zero {
            (&first, &half)
        } else if half.quantity < zero && first.quantity > zero {
            (&half, &first)
        } else if kind == HalfKind::Migration && first.asset == "ETH2" && half.asset != "ETH2" {
            (&first, &half)
        } else if kind == HalfKind::Migration && half.asset == "ETH2" && first.asset != "ETH2" {
            (&half, &first)
        } else {
            return Err(RowError::new(format!(
                "this {:?} row and the one at line {} have quantities {} and {}: cointally cannot tell which \
                 asset left and which arrived; give the pair in cointally's generic format",
                half.type_text, first.line, half.quantity, first.quantity
            )));
        };
        let event_kind = match kind {
            HalfKind::DexTrade => EventKind::Trade,
            HalfKind::Migration => EventKind::Conversion,
        };
        let external_id = match (&first.id, &half.id) {
            (Some(a), Some(b)) if a == b => a.clone(),
            _ => String::new(),
        };
        let legs = vec![Leg::sent(out.asset.clone(), out.quantity), Leg::received(into.asset.clone(), into.quantity)];
        let event = NewEvent {
            note: out.notes.clone().or_else(|| into.notes.clone()),
            fiat_value: out.fiat_value.clone().or_else(|| into.fiat_value.clone()),
            ..NewEvent::new(external_id, half.time, event_kind, legs)
        };
        Ok(vec![ImportedEvent { event, rows: vec![first.source, half.source] }])
    }
}

fn unpaired(half: &Half) -> RowError {
    RowError::at(
        half.line,
        format!(
            "this {:?} row ({} {}) has no partner row: Coinbase writes these as two rows with the same type and \
             time, one for the asset that left and one for the asset that arrived; give the pair in cointally's \
             generic format",
            half.type_text, half.quantity, half.asset
        ),
    )
}

fn required(name: &str) -> RowError {
    RowError::new(format!("column {name:?} is empty; it is required"))
}

/// A money (or quantity) cell through [`money`], with the column named in the error.
fn money_cell(row: &Row<'_>, name: &str) -> Result<Option<Decimal>, RowError> {
    money(row.get(name)).map_err(|e| RowError::field(name, e))
}

/// The money columns of one row.
struct Money<'r, 'a> {
    row: &'r Row<'a>,
    columns: &'r Columns,
}

impl Money<'_, '_> {
    /// The currency the money columns are in.
    fn currency(&self) -> Result<String, RowError> {
        match &self.columns.currency {
            Currency::Column(name) => self.row.asset(name),
            Currency::Named(code) => Ok(code.clone()),
        }
    }

    /// A money column as a positive amount; `None` when empty.
    fn amount(&self, name: &str) -> Result<Option<Decimal>, RowError> {
        Ok(money_cell(self.row, name)?.map(|v| v.abs()))
    }

    /// The event's value in fiat: the first of two columns that is not empty, unless zero.
    fn value(&self, first: &str, second: &str) -> Result<Option<FiatValue>, RowError> {
        let amount = match self.amount(first)? {
            Some(v) => Some(v),
            None => self.amount(second)?,
        };
        match amount {
            Some(amount) if !amount.is_zero() => Ok(Some(FiatValue { amount, currency: self.currency()? })),
            _ => Ok(None),
        }
    }
}

/// A Buy or Sell (plain or Advanced Trade) as one trade event.
fn trade(
    line: &Line<'_, '_>,
    buy: bool,
    advanced: bool,
    money: &Money<'_, '_>,
) -> Result<Vec<ImportedEvent>, RowError> {
    let currency = money.currency()?;
    let quantity = if buy { line.inflow()? } else { line.outflow() };
    let notes = line.notes.as_deref().unwrap_or("");
    let note = trade_note(notes);
    if let Some(note) = &note {
        if note.base != line.asset || note.bought != buy {
            return Err(RowError::new(format!(
                "the Notes {notes:?} do not describe this {:?} row of {}; fix the Notes or give the row in \
                 cointally's generic format",
                line.type_text, line.asset
            )));
        }
    }
    let value = money.value(&money.columns.subtotal, &money.columns.total)?;
    let asset = line.asset.clone();
    let legs = match note {
        Some(note) if note.quote != currency => {
            // A rate × quantity out of range (both are bounded by `parse_amount`, their
            // product is not) is no gross: the Notes' own quote amount is used, as for no rate.
            let gross = note.rate.and_then(|rate| quantity.checked_mul(rate));
            let fee = gross.map(|g| if buy { note.quote_amount - g } else { g - note.quote_amount });
            let (quote_amount, fee) = match (gross, fee) {
                (Some(g), Some(f)) if f >= Decimal::ZERO => (g, f),
                _ => (note.quote_amount, Decimal::ZERO),
            };
            let quote_leg = if buy {
                Leg::sent(note.quote.clone(), quote_amount)
            } else {
                Leg::received(note.quote.clone(), quote_amount)
            };
            let asset_leg = if buy { Leg::received(asset, quantity) } else { Leg::sent(asset, quantity) };
            let mut legs = if buy { vec![quote_leg, asset_leg] } else { vec![asset_leg, quote_leg] };
            if !fee.is_zero() {
                legs.push(Leg::fee(note.quote, fee));
            }
            legs
        }
        None if advanced => {
            return Err(RowError::new(format!(
                "the Notes of this {:?} row read {notes:?}; cointally needs them to know the quote asset, like \
                 \"Bought 5 SOL for 754.5 USDC on SOL-USDC at 150.00 USDC/SOL\"; fix the Notes or give the row \
                 in cointally's generic format",
                line.type_text
            )));
        }
        _ => {
            let subtotal = money.amount(&money.columns.subtotal)?.ok_or_else(|| {
                RowError::new(format!(
                    "column {:?} is empty; a {:?} row needs it for the {currency} side of the trade",
                    money.columns.subtotal, line.type_text
                ))
            })?;
            let fee = money.amount(&money.columns.fees)?.unwrap_or(Decimal::ZERO);
            let mut legs = if buy {
                vec![Leg::sent(currency.clone(), subtotal), Leg::received(asset, quantity)]
            } else {
                vec![Leg::sent(asset, quantity), Leg::received(currency.clone(), subtotal)]
            };
            if !fee.is_zero() {
                legs.push(Leg::fee(currency, fee));
            }
            legs
        }
    };
    Ok(line.imported(line.event(EventKind::Trade, legs, value)))
}

impl RowReader for Reader {
    fn read(&mut self, row: &Row<'_>) -> Result<Vec<ImportedEvent>, RowError> {
        self.read_row(row)
    }

    fn finish(&mut self) -> Result<Vec<ImportedEvent>, RowError> {
        if let Some(pending) = self.pending.take() {
            return Err(unpaired(&pending));
        }
        let received = std::mem::take(&mut self.converts_received);
        if let Some((_, line)) = received.iter().find(|(key, _)| !self.converts_sent.contains(key)) {
            return Err(RowError::at(
                *line,
                "this Convert row is the receiving half of a conversion whose sending row (the asset named first \
                 in the Notes, same ID) is not in the file; export the full history or give the conversion in \
                 cointally's generic format",
            ));
        }
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests;

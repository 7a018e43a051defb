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
//! - `Credit` is read as a Buy and `Retail Simple Dust` as a Sell, as the research notes record
//!   other tools doing; `Admin Debit` is an adjustment (Coinbase correcting a balance);
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
        match &self.id {
            Some(id) => SourceRow::with_id(self.row, id.clone()),
            None => SourceRow::of(self.row),
        }
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
            let gross = note.rate.map(|rate| quantity * rate);
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
mod tests {
    use std::collections::BTreeMap;
    use std::str::FromStr;

    use super::*;
    use crate::rows::read_text;
    use crate::time::format_rfc3339;

    const CURRENT: &str = include_str!("../../../fixtures/coinbase/csv/current_2024.csv");
    const ADDRESSES: &str = include_str!("../../../fixtures/coinbase/csv/current_2025_addresses.csv");
    const TWO_ROWS: &str = include_str!("../../../fixtures/coinbase/csv/current_two_row_types.csv");
    const V3: &str = include_str!("../../../fixtures/coinbase/csv/v3_2023.csv");
    const LEGACY_2022: &str = include_str!("../../../fixtures/coinbase/csv/legacy_2022.csv");
    const LEGACY_2021: &str = include_str!("../../../fixtures/coinbase/csv/legacy_2021_gbp.csv");
    const UNKNOWN_TYPE: &str = include_str!("../../../fixtures/coinbase/csv/unknown_type.csv");
    const BAD_NUMBER: &str = include_str!("../../../fixtures/coinbase/csv/bad_number.csv");
    const BAD_DATE: &str = include_str!("../../../fixtures/coinbase/csv/bad_date.csv");
    const BAD_CONVERT: &str = include_str!("../../../fixtures/coinbase/csv/bad_convert_notes.csv");
    const BAD_ADVANCED: &str = include_str!("../../../fixtures/coinbase/csv/bad_advanced_trade_notes.csv");

    /// What reading a file gave.
    struct Outcome {
        /// The header's line in the file.
        header_line: usize,
        events: Vec<ImportedEvent>,
        errors: Vec<(u64, String)>,
    }

    /// Reads a whole file as the importer does (the header found after the preamble).
    fn run(text: &str) -> Outcome {
        let read = read_text(&mut Reader::default(), matches, text);
        Outcome {
            header_line: read.header_line.expect("a header in the first 30 records") as usize,
            events: read.events,
            errors: read.errors.into_iter().map(|e| (e.line.unwrap_or(0), e.message)).collect(),
        }
    }

    fn ok(text: &str) -> Outcome {
        let outcome = run(text);
        assert!(outcome.errors.is_empty(), "unexpected errors: {:?}", outcome.errors);
        outcome
    }

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    /// One line per event: time, kind, id, legs, fiat value.
    fn summary(events: &[ImportedEvent]) -> Vec<String> {
        events
            .iter()
            .map(|imported| {
                let e = &imported.event;
                let legs: Vec<String> = e
                    .legs
                    .iter()
                    .map(|l| format!("{} {} {}", l.amount.normalize(), l.asset, l.role.as_str()))
                    .collect();
                let value = e.fiat_value.as_ref().map(|v| format!(" = {} {}", v.amount.normalize(), v.currency));
                let id = if e.external_id.is_empty() { "-" } else { e.external_id.as_str() };
                format!(
                    "{} {} {} | {}{}",
                    format_rfc3339(e.time),
                    e.kind,
                    id,
                    legs.join(", "),
                    value.unwrap_or_default()
                )
            })
            .collect()
    }

    fn balances(events: &[ImportedEvent]) -> BTreeMap<String, Decimal> {
        let mut sums = BTreeMap::new();
        for leg in events.iter().flat_map(|e| &e.event.legs) {
            *sums.entry(leg.asset.clone()).or_insert(Decimal::ZERO) += leg.amount;
        }
        sums.retain(|_, v| !v.is_zero());
        sums
    }

    fn want_balances(pairs: &[(&str, &str)]) -> BTreeMap<String, Decimal> {
        pairs.iter().map(|(a, v)| (a.to_string(), d(v))).collect()
    }

    #[test]
    fn current_layout_reads_every_type_with_ids_and_values() {
        let outcome = ok(CURRENT);
        assert_eq!(outcome.header_line, 4, "header after the empty line, Transactions and User lines");
        let id = "6629a0f1c2d3e4f5a6b700";
        let want = [
            format!("2024-04-25T16:45:00Z fiat_withdrawal {id}18 | -150 USD sent = 150 USD"),
            format!("2024-04-20T00:03:12Z staking {id}17 | 0.05 ATOM received = 0.47 USD"),
            format!("2024-04-15T13:20:05Z deposit {id}16 | 0.1 ETH received = 305 USD"),
            format!("2024-04-12T12:00:00Z withdrawal {id}15 | -0.001 BTC sent = 67 USD"),
            format!("2024-04-10T17:02:11Z withdrawal {id}14 | -0.25 ETH sent = 880.03 USD"),
            format!("2024-04-08T08:00:00Z internal_transfer {id}13 | -2 SOL sent, 2 SOL received = 340 USD"),
            format!("2024-04-05T09:30:00Z rebate {id}12 | 0.00002 BTC received = 1.32 USD"),
            format!("2024-04-02T00:00:09Z interest {id}11 | 0.82 USDC received = 0.82 USD"),
            format!("2024-04-01T11:11:11Z income {id}10 | 4.5 GRT received = 1.35 USD"),
            format!("2024-03-25T19:11:38Z trade {id}09 | -0.004 BTC sent, 280 USD received, -4.14 USD fee = 280 USD"),
            format!("2024-03-22T14:30:27Z trade {id}08 | -0.2 ETH sent, 720 USD received, -1.44 USD fee = 720 USD"),
            format!("2024-03-20T10:05:44Z trade {id}07 | -0.005 BTC sent, 0.09128 ETH received = 340 USD"),
            format!("2024-03-15T07:55:12Z internal_transfer {id}06 | -5 SOL sent, 5 SOL received = 800 USD"),
            format!("2024-03-12T00:04:09Z staking {id}05 | 0.0125 SOL received = 2 USD"),
            format!("2024-03-10T08:20:55Z trade {id}04 | -750 USDC sent, 5 SOL received, -4.5 USDC fee = 750 USD"),
            format!("2024-03-08T15:00:00Z trade {id}03 | -1000 USD sent, 1000 USDC received = 1000 USD"),
            format!("2024-03-05T16:40:00Z deposit {id}02 | 0.5 ETH received = 1750 USD"),
            format!("2024-03-02T10:15:30Z trade {id}01 | -930 USD sent, 0.015 BTC received, -13.95 USD fee = 930 USD"),
            format!("2024-03-01T09:00:00Z fiat_deposit {id}00 | 2500 USD received = 2500 USD"),
        ];
        assert_eq!(summary(&outcome.events), want);
        assert_eq!(
            balances(&outcome.events),
            want_balances(&[
                ("ATOM", "0.05"),
                ("BTC", "0.00502"),
                ("ETH", "0.24128"),
                ("GRT", "4.5"),
                ("SOL", "5.0125"),
                ("USD", "1400.47"),
                ("USDC", "246.32"),
            ])
        );
        // Every row is archived under its own ID, with its line in the file.
        let first = &outcome.events[0];
        assert_eq!(first.rows.len(), 1);
        assert_eq!(first.rows[0].id.as_deref(), Some("6629a0f1c2d3e4f5a6b70018"));
        assert_eq!(first.rows[0].fields()["Subtotal"], "-$150.00");
        let send = &outcome.events[4].event;
        assert_eq!(send.address.as_deref(), Some("0x3f5CE5FBFe3E9af3971dD833D26bA9b5C936f0bE"));
        assert_eq!(send.note.as_deref(), Some("Sent 0.25 ETH to 0x3f5CE5FBFe3E9af3971dD833D26bA9b5C936f0bE"));
        assert_eq!(outcome.events[3].event.address, None, "Notes naming Coinbase Exchange are not an address");
    }

    #[test]
    fn address_columns_and_krona_amounts() {
        let outcome = ok(ADDRESSES);
        let id = "67a0b1c2d3e4f5a6b7c8000";
        assert_eq!(
            summary(&outcome.events),
            [
                format!("2025-02-03T18:00:00Z withdrawal {id}4 | -0.01 BTC sent = 7050 SEK"),
                format!("2025-02-02T12:30:00Z deposit {id}3 | 0.3 ETH received = 9000 SEK"),
                format!(
                    "2025-02-01T10:00:00Z trade {id}2 | -14000 SEK sent, 0.02 BTC received, -209.99 SEK fee = 14000 SEK"
                ),
                format!("2025-01-31T09:00:00Z fiat_deposit {id}1 | 20000 SEK received = 20000 SEK"),
            ]
        );
        assert_eq!(
            outcome.events[0].event.address.as_deref(),
            Some("bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh"),
            "the Recipient Address column wins over the Notes"
        );
        assert_eq!(outcome.events[1].event.address.as_deref(), Some("0x71C7656EC7ab88b098defB751B7401B5f6d8976F"));
        assert_eq!(balances(&outcome.events), want_balances(&[("BTC", "0.01"), ("ETH", "0.3"), ("SEK", "5790.01")]));
    }

    #[test]
    fn two_row_types_make_one_event_each() {
        let outcome = ok(TWO_ROWS);
        assert_eq!(
            summary(&outcome.events),
            [
                "2025-02-10T14:02:33Z trade 67a9c0d1e2f3a4b5c6d70003 | -100 USDC sent, 40 WIF received = 100 USD",
                "2024-09-04T00:00:00Z conversion - | -120 MATIC sent, 120 POL received = 48 USD",
            ]
        );
        let rows: Vec<Option<&str>> = outcome.events[1].rows.iter().map(|r| r.id.as_deref()).collect();
        assert_eq!(rows, [Some("66d7e8f9a0b1c2d3e4f50002"), Some("66d7e8f9a0b1c2d3e4f50001")]);
    }

    #[test]
    fn v3_layout_reads_crypto_quoted_advanced_trades_and_outflows() {
        let outcome = ok(V3);
        assert_eq!(outcome.header_line, 8);
        assert_eq!(
            summary(&outcome.events),
            [
                "2023-04-12T10:00:00Z conversion - | -1.5 ETH2 sent, 1.5 ETH received = 2850 USD",
                "2023-05-01T00:00:00Z trade - | -0.025 BTC sent, 0.5 ETH received, -0.00008 BTC fee = 925 USD",
                "2023-06-01T00:00:00Z internal_transfer - | -0.1 BTC sent, 0.1 BTC received = 2700 USD",
                "2023-07-01T00:00:00Z gift - | -0.05 ETH sent = 97.5 USD",
                "2023-08-01T00:00:00Z trade - | -0.3 ETH sent, 540 USD received, -1.08 USD fee = 540 USD",
                "2023-09-01T00:00:00Z fee - | -29.99 USD fee = 29.99 USD",
                "2023-10-01T00:00:00Z spend - | -12.5 USDC sent = 12.5 USD",
                "2023-11-01T00:00:00Z adjustment - | -0.0001 BTC sent = 3.4 USD",
            ]
        );
        assert!(outcome.events.iter().all(|e| e.rows.iter().all(|r| r.id.is_none())));
    }

    #[test]
    fn legacy_2022_layout_after_the_disclaimer() {
        let outcome = ok(LEGACY_2022);
        assert_eq!(outcome.header_line, 8, "header on line 8 after the disclaimer preamble");
        assert_eq!(
            summary(&outcome.events),
            [
                "2022-01-02T08:00:00Z fiat_deposit - | 500 EUR received = 500 EUR",
                "2022-01-03T09:12:45Z trade - | -433.42 EUR sent, 0.01052 BTC received, -6.58 EUR fee = 433.42 EUR",
                "2022-01-10T18:01:07Z deposit - | 0.5 ETH received",
                "2022-02-01T12:00:00Z income - | 7.1234567 XLM received = 1.21 EUR",
                "2022-02-14T08:30:19Z trade - | -0.2 ETH sent, 0.01341 BTC received = 520 EUR",
                "2022-03-05T00:02:31Z staking - | 0.4321 ALGO received = 0.31 EUR",
                "2022-03-20T15:45:50Z trade - | -0.005 BTC sent, 192.5 EUR received, -2.87 EUR fee = 192.5 EUR",
                "2022-04-02T10:10:10Z withdrawal - | -0.25 ETH sent = 775 EUR",
                "2022-04-15T07:30:00Z fiat_withdrawal - | -200 EUR sent = 200 EUR",
            ]
        );
        assert_eq!(
            balances(&outcome.events),
            want_balances(&[
                ("ALGO", "0.4321"),
                ("BTC", "0.01893"),
                ("ETH", "0.05"),
                ("EUR", "49.63"),
                ("XLM", "7.1234567"),
            ])
        );
        assert!(outcome.events.iter().all(|e| e.event.external_id.is_empty()), "no ID column: the importer keys");
    }

    #[test]
    fn legacy_2021_layout_with_the_currency_in_the_column_names() {
        let outcome = ok(LEGACY_2021);
        assert_eq!(outcome.header_line, 8);
        assert_eq!(
            summary(&outcome.events),
            [
                "2021-01-30T09:00:00Z fiat_deposit - | 300 GBP received = 300 GBP",
                "2021-02-01T10:00:00Z trade - | -287.5 GBP sent, 0.25 ETH received, -4.99 GBP fee = 287.5 GBP",
                "2021-03-03T12:30:00Z rebate - | 0.001 BTC received = 36 GBP",
                "2021-04-04T08:00:00Z income - | 0.0113 COMP received = 3.39 GBP",
                "2021-05-05T16:20:00Z withdrawal - | -0.1 ETH sent = 250 GBP",
                "2021-06-06T09:09:09Z trade - | -0.05 ETH sent, 0.00318 BTC received = 90 GBP",
                "2021-06-20T11:11:11Z deposit - | 0.05 ETH received = 85 GBP",
            ]
        );
        assert_eq!(
            balances(&outcome.events),
            want_balances(&[("BTC", "0.00418"), ("COMP", "0.0113"), ("ETH", "0.15"), ("GBP", "7.51")])
        );
    }

    #[test]
    fn header_detection_takes_every_layout_and_nothing_else() {
        let header = |line: &str| Header::new(line.split(','));
        for line in [
            "ID,Timestamp,Transaction Type,Asset,Quantity Transacted,Price Currency,Price at Transaction,Subtotal,Total (inclusive of fees and/or spread),Fees and/or Spread,Notes",
            "ID,Timestamp,Transaction Type,Asset,Quantity Transacted,Price Currency,Price at Transaction,Subtotal,Total (inclusive of fees and/or spread),Fees and/or Spread,Notes,Sender Address,Recipient Address",
            "Timestamp,Transaction Type,Asset,Quantity Transacted,Price Currency,Price at Transaction,Subtotal,Total (inclusive of fees and/or spread),Fees and/or Spread,Notes",
            "Timestamp,Transaction Type,Asset,Quantity Transacted,Spot Price Currency,Spot Price at Transaction,Subtotal,Total (inclusive of fees and/or spread),Fees and/or Spread,Notes",
            "Timestamp,Transaction Type,Asset,Quantity Transacted,Spot Price Currency,Spot Price at Transaction,Subtotal,Total (inclusive of fees),Fees,Notes",
            "Timestamp,Transaction Type,Asset,Quantity Transacted,EUR Spot Price at Transaction,EUR Subtotal,EUR Total (inclusive of fees),EUR Fees,Notes",
        ] {
            assert!(matches(&header(line)), "{line}");
        }
        for line in [
            "time,kind,sent_amount,sent_asset,received_amount,received_asset,fee_amount,fee_asset",
            "Date,Sent Amount,Sent Currency,Received Amount,Received Currency,Fee Amount,Fee Currency,Net Worth Amount,Net Worth Currency,Label,Description,TxHash",
            "txid,refid,time,type,subtype,aclass,asset,wallet,amount,fee,balance",
            "Timestamp,Balance,Amount,Currency,To,Notes,Instantly Exchanged,Transfer Total",
            "Timestamp,Type,BTC,Subtotal,Fees,Total,Currency,Price Per Coin,Payment Method,ID,Share",
            "Timestamp,Transaction Type,Asset,Quantity Transacted,BTC Spot Price at Transaction,BTC Subtotal,BTC Total (inclusive of fees),BTC Fees,Notes",
            "Transactions",
        ] {
            assert!(!matches(&header(line)), "{line}");
        }
    }

    #[test]
    fn money_cells_lose_symbols_and_thousands_separators_on_purpose() {
        for (text, want) in [
            ("$1,234.56", "1234.56"),
            ("-$4.41", "-4.41"),
            ("€0.5", "0.5"),
            ("-kr7,050.00", "-7050"),
            ("Kč16233.43638", "16233.43638"),
            ("CA$1,000,000", "1000000"),
            ("($2.00)", "-2"),
            ("433.42", "433.42"),
            ("$-4.41", "-4.41"),
            ("-0.25", "-0.25"),
            ("1E-8", "0.00000001"),
        ] {
            assert_eq!(money(text).unwrap(), Some(d(want)), "{text}");
        }
        assert_eq!(money("  ").unwrap(), None);
        for bad in ["€0,50", "$1,23", "1,2345.6", "$", "12.3.4", "--$5", "$1.234,56", "12 34"] {
            assert!(money(bad).is_err(), "{bad} should be refused");
        }
        assert!(money("€0,50").unwrap_err().contains("decimal comma"));
    }

    #[test]
    fn notes_are_read_for_trades_and_conversions() {
        assert_eq!(
            trade_note("Bought 5 SOL for 754.5 USDC on SOL-USDC at 150.00 USDC/SOL"),
            Some(TradeNote {
                bought: true,
                base: "SOL".into(),
                quote_amount: d("754.5"),
                quote: "USDC".into(),
                rate: Some(d("150"))
            })
        );
        assert_eq!(
            trade_note("Bought 0.01052 BTC for €440.00 EUR"),
            Some(TradeNote {
                bought: true,
                base: "BTC".into(),
                quote_amount: d("440"),
                quote: "EUR".into(),
                rate: None
            })
        );
        assert_eq!(
            trade_note("Bought 0.0120548 BTC for 500 EUR using EUR Wallet").map(|n| n.quote),
            Some("EUR".into())
        );
        assert_eq!(trade_note("Sold 1 ETH for 1,800.5 USD on ETH-USD at 1800.50 EUR/ETH").and_then(|n| n.rate), None);
        assert_eq!(trade_note("Received 1 ETH"), None);
        assert_eq!(
            convert_note("Converted 1,250.5 USDC to 0.01963 BTC"),
            Some(ConvertNote { from: "USDC".into(), to_amount: d("0.01963"), to: "BTC".into() })
        );
        assert_eq!(convert_note("Converted 0,02823531 BTC to 0,5 ETH"), None, "a decimal comma is not guessed");
        assert_eq!(send_address("Sent 1 BTC to jane@example.com"), None);
    }

    #[test]
    fn unknown_type_is_kept_as_kind_unknown_with_its_legs() {
        let outcome = run(UNKNOWN_TYPE);
        assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
        assert_eq!(outcome.events.len(), 2, "both rows are read");
        let unknown = outcome.events.iter().map(|e| &e.event).find(|e| e.kind == EventKind::Unknown).unwrap();
        assert_eq!(unknown.note.as_deref(), Some("Coinbase transaction type \"Teleport Reward\""));
        assert_eq!(unknown.legs, vec![Leg::received("BTC", Decimal::new(1, 3))]);
    }

    #[test]
    fn decimal_comma_is_an_error_naming_the_column() {
        let outcome = run(BAD_NUMBER);
        assert_eq!(outcome.errors.len(), 1);
        let (line, message) = &outcome.errors[0];
        assert_eq!(*line, 2);
        assert!(message.contains("\"Subtotal\"") && message.contains("decimal comma"), "{message}");
    }

    #[test]
    fn bad_date_is_an_error_naming_the_column() {
        let outcome = run(BAD_DATE);
        assert_eq!(outcome.errors.len(), 1);
        let (line, message) = &outcome.errors[0];
        assert_eq!(*line, 2);
        assert!(message.contains("\"Timestamp\"") && message.contains("2024-13-40"), "{message}");
    }

    #[test]
    fn convert_with_unreadable_notes_is_an_error() {
        let outcome = run(BAD_CONVERT);
        assert_eq!(outcome.errors.len(), 1);
        assert!(outcome.errors[0].1.contains("Converted BTC into something"), "{}", outcome.errors[0].1);
        assert!(outcome.errors[0].1.contains("Notes must say what was received"));
    }

    #[test]
    fn advanced_trade_without_notes_is_an_error() {
        let outcome = run(BAD_ADVANCED);
        assert_eq!(outcome.errors.len(), 1);
        assert!(outcome.errors[0].1.contains("quote asset"), "{}", outcome.errors[0].1);
    }

    const V4_HEADER: &str = "ID,Timestamp,Transaction Type,Asset,Quantity Transacted,Price Currency,Price at Transaction,Subtotal,Total (inclusive of fees and/or spread),Fees and/or Spread,Notes\n";

    #[test]
    fn a_two_row_type_without_its_partner_is_an_error_at_its_line() {
        let text = format!(
            "{V4_HEADER}a1,2024-09-04 00:00:00 UTC,Asset Migration,POL,120,USD,$0.40,$48.00,$48.00,$0.00,\n\
             a2,2024-09-05 00:00:00 UTC,Receive,BTC,0.1,USD,$1.00,$1.00,$1.00,$0.00,\n"
        );
        let outcome = run(&text);
        assert_eq!(outcome.errors.len(), 1);
        assert_eq!(outcome.errors[0].0, 2);
        assert!(outcome.errors[0].1.contains("no partner row"), "{}", outcome.errors[0].1);
        let at_end =
            run(&format!("{V4_HEADER}a1,2024-09-04 00:00:00 UTC,Asset Migration,POL,120,USD,$0.40,$48,$48,$0,\n"));
        assert_eq!(at_end.errors.len(), 1);
        assert_eq!(at_end.errors[0].0, 2);
    }

    #[test]
    fn a_negative_quantity_on_an_inflow_type_is_an_error() {
        let text =
            format!("{V4_HEADER}a1,2024-09-05 00:00:00 UTC,Staking Income,SOL,-0.1,USD,$1.00,$1.00,$1.00,$0.00,\n");
        let outcome = run(&text);
        assert_eq!(outcome.errors.len(), 1);
        assert!(outcome.errors[0].1.contains("negative"), "{}", outcome.errors[0].1);
    }

    #[test]
    fn a_two_row_convert_makes_one_trade() {
        let text = format!(
            "{V4_HEADER}c1,2024-06-12 14:30:27 UTC,Convert,ETH,0.18612,USD,$3500.00,$651.42,$651.42,$0.00,Converted 0.01 BTC to 0.18612 ETH\n\
             c1,2024-06-12 14:30:27 UTC,Convert,BTC,-0.01,USD,$65520.00,-$655.20,-$655.20,$5.08,Converted 0.01 BTC to 0.18612 ETH\n"
        );
        let outcome = ok(&text);
        assert_eq!(
            summary(&outcome.events),
            ["2024-06-12T14:30:27Z trade c1 | -0.01 BTC sent, 0.18612 ETH received = 655.2 USD"]
        );
        let lonely = run(&format!(
            "{V4_HEADER}c1,2024-06-12 14:30:27 UTC,Convert,ETH,0.18612,USD,$3500.00,$651.42,$651.42,$0.00,Converted 0.01 BTC to 0.18612 ETH\n"
        ));
        assert_eq!(lonely.errors.len(), 1);
        assert!(lonely.errors[0].1.contains("receiving half"), "{}", lonely.errors[0].1);
    }

    #[test]
    fn crypto_quoted_sell_takes_the_quote_from_the_notes() {
        let text = format!(
            "{V4_HEADER}s1,2024-06-09 11:45:03 UTC,Advanced Trade Sell,ETH,-0.1,EUR,€3200.00,-€320.00,-€319.36,€0.64,Sold 0.1 ETH for 349.3 USDC on ETH-USDC at 3500.00 USDC/ETH\n"
        );
        assert_eq!(
            summary(&ok(&text).events),
            ["2024-06-09T11:45:03Z trade s1 | -0.1 ETH sent, 350 USDC received, -0.7 USDC fee = 320 EUR"]
        );
    }
}

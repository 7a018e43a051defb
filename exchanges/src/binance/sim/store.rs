//! The generated history rendered once into Binance's JSON records, indexed for the endpoints.
//!
//! Every record is rendered once (through `serde_json`) into the JSON Binance would send for it
//! (field names, types and decimal padding as in Binance's documentation), beside the few
//! fields the endpoints filter on, so an answer is a binary search and a join of raw records. Fills are kept per symbol in
//! id order (which is also time order); every other stream in time order.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::amount::format_amount;
use crate::sim::generate::{Activity, Outcome, PayMethod, RewardChannel};
use crate::sim::json;
use crate::time::from_millis;

/// 2025-03-06T00:00:00Z: deposits carry `completeTime` from this day on.
const COMPLETE_TIME_FROM_MS: i64 = 1_741_219_200_000;

/// One fill of one symbol.
#[derive(Debug, Clone)]
pub struct TradeRow {
    /// Trade id.
    pub id: u64,
    /// Order id.
    pub order_id: u64,
    /// Time (ms).
    pub time_ms: i64,
    /// The JSON object.
    pub json: Box<RawValue>,
}

/// A fill added by a test ([`Store::add_self_trade`], [`Store::add_split_order`]).
struct Fill {
    id: u64,
    order_id: u64,
    is_buyer: bool,
    qty: Decimal,
    price: Decimal,
    fee: Decimal,
    time_ms: i64,
}

/// One record of a time-ordered stream.
#[derive(Debug, Clone)]
pub struct Row {
    /// The time the endpoint filters on (ms).
    pub time_ms: i64,
    /// Asset or coin filter value.
    pub asset: String,
    /// Status or second filter value.
    pub status: String,
    /// Third filter value (tx id, id, reward type…).
    pub key: String,
    /// The JSON object.
    pub json: Box<RawValue>,
}

/// Every stream of the simulated account, rendered.
#[derive(Debug, Default)]
pub struct Store {
    /// Symbol → fills in id order.
    pub trades: BTreeMap<String, Vec<TradeRow>>,
    /// Crypto deposits.
    pub deposits: Vec<Row>,
    /// Crypto withdrawals.
    pub withdrawals: Vec<Row>,
    /// Fiat orders: deposits then withdrawals (`transactionType` 0 and 1).
    pub fiat_orders: [Vec<Row>; 2],
    /// Fiat payments: buys then sells.
    pub fiat_payments: [Vec<Row>; 2],
    /// Convert trades.
    pub converts: Vec<Row>,
    /// Dust conversions (one row per dribblet).
    pub dust: Vec<Row>,
    /// Asset dividends.
    pub dividends: Vec<Row>,
    /// Simple Earn flexible rewards.
    pub earn_flexible: Vec<Row>,
    /// Simple Earn locked rewards.
    pub earn_locked: Vec<Row>,
    /// Binance.US's streams (`fiatDepositHistory`, `stakingRewards` …) by stream name: rows
    /// its simulator renders itself ([`Store::push_row`]); binance.com serves none of them.
    pub venue_rows: BTreeMap<&'static str, Vec<Row>>,
    /// Asset → balance (the sum of every record's effect).
    pub balances: BTreeMap<String, Decimal>,
    /// Time of the latest activity.
    pub update_time_ms: i64,
}

/// A decimal with exactly eight places, as Binance pads most amounts.
pub fn pad8(value: Decimal) -> String {
    format!("{value:.8}")
}

/// A decimal with exactly two places (fiat amounts).
fn pad2(value: Decimal) -> String {
    format!("{value:.2}")
}

/// `YYYY-MM-DD HH:MM:SS` in UTC.
fn utc_text(time_ms: i64) -> String {
    from_millis(time_ms).format("%Y-%m-%d %H:%M:%S").to_string()
}

/// A small stable number from text, to pick among equivalent renderings deterministically.
fn pick(text: &str, choices: usize) -> usize {
    let sum = text.bytes().fold(0usize, |acc, byte| acc.wrapping_mul(31).wrapping_add(usize::from(byte)));
    sum % choices.max(1)
}

fn row(time_ms: i64, asset: &str, status: &str, key: &str, json: &Value) -> Row {
    Row { time_ms, asset: asset.to_owned(), status: status.to_owned(), key: key.to_owned(), json: json::render(json) }
}

impl Row {
    /// A record of a time-ordered stream: its time, filter values and JSON object.
    pub fn new(time_ms: i64, asset: &str, status: &str, key: &str, json: &Value) -> Row {
        row(time_ms, asset, status, key, json)
    }
}

impl Store {
    /// Renders the activity of the Binance account.
    pub fn new(activities: &[Activity]) -> Store {
        let mut store = Store::default();
        for activity in activities {
            store.add(activity);
        }
        for rows in [
            &mut store.deposits,
            &mut store.withdrawals,
            &mut store.converts,
            &mut store.dust,
            &mut store.dividends,
            &mut store.earn_flexible,
            &mut store.earn_locked,
        ] {
            rows.sort_by_key(|row| row.time_ms);
        }
        for rows in store.fiat_orders.iter_mut().chain(store.fiat_payments.iter_mut()) {
            rows.sort_by_key(|row| row.time_ms);
        }
        for rows in store.trades.values_mut() {
            rows.sort_by_key(|row| row.id);
        }
        store
    }

    /// Adds one activity (appending keeps the order when times only grow, as for new trades).
    pub fn add(&mut self, activity: &Activity) {
        for (asset, delta) in activity.effects() {
            *self.balances.entry(asset).or_insert(Decimal::ZERO) += delta;
        }
        self.update_time_ms = self.update_time_ms.max(activity.time_ms());
        match activity {
            Activity::Trade {
                base,
                quote,
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
            } => {
                let symbol = format!("{base}{quote}");
                let json = json::render(&json!({
                    "symbol": symbol,
                    "id": id,
                    "orderId": order_id,
                    "orderListId": -1,
                    "price": pad8(*price),
                    "qty": pad8(*qty),
                    "quoteQty": format_amount(*quote_qty),
                    "commission": pad8(*fee),
                    "commissionAsset": fee_asset,
                    "time": time_ms,
                    "isBuyer": is_buy,
                    "isMaker": is_maker,
                    "isBestMatch": true,
                }));
                self.trades.entry(symbol).or_default().push(TradeRow {
                    id: *id,
                    order_id: *order_id,
                    time_ms: *time_ms,
                    json,
                });
            }
            Activity::Deposit { asset, amount, network, address, tx_hash, time_ms, id, outcome } => {
                let status = match outcome {
                    Outcome::Completed => [1, 1, 1, 1, 1, 1, 1, 1, 1, 6][pick(id, 10)],
                    Outcome::Failed => [7, 2][pick(id, 2)],
                };
                let mut json = json!({
                    "id": id,
                    "amount": format_amount(*amount),
                    "coin": asset,
                    "network": network,
                    "status": status,
                    "address": address,
                    "addressTag": "",
                    "txId": tx_hash,
                    "insertTime": time_ms,
                    "transferType": 0,
                    "confirmTimes": "1/1",
                    "unlockConfirm": 0,
                    "walletType": 0,
                });
                if *time_ms >= COMPLETE_TIME_FROM_MS && *outcome == Outcome::Completed {
                    json["completeTime"] = json!(time_ms + 120_000);
                }
                self.deposits.push(row(*time_ms, asset, &status.to_string(), tx_hash, &json));
            }
            Activity::Withdrawal { asset, amount, fee, network, address, tx_hash, time_ms, id, outcome } => {
                let status = match outcome {
                    Outcome::Completed => 6,
                    Outcome::Failed => [3, 5, 1][pick(id, 3)],
                };
                let applied = time_ms - time_ms.rem_euclid(1000);
                let mut json = json!({
                    "id": id,
                    "amount": pad8(*amount),
                    "transactionFee": format_amount(*fee),
                    "coin": asset,
                    "status": status,
                    "address": address,
                    "txId": tx_hash,
                    "applyTime": utc_text(applied),
                    "network": network,
                    "transferType": 0,
                    "info": "",
                    "confirmNo": if *outcome == Outcome::Completed { 12 } else { 0 },
                    "walletType": 0,
                    "txKey": "",
                });
                if *outcome == Outcome::Completed {
                    json["completeTime"] = json!(utc_text(applied + 300_000));
                }
                self.withdrawals.push(row(applied, asset, &status.to_string(), id, &json));
            }
            Activity::FiatDeposit { currency, amount, fee, method, time_ms, id, outcome }
            | Activity::FiatWithdrawal { currency, amount, fee, method, time_ms, id, outcome } => {
                let status = match outcome {
                    Outcome::Completed => ["Successful", "Finished"][pick(id, 2)],
                    Outcome::Failed => ["Failed", "Expired"][pick(id, 2)],
                };
                let json = json!({
                    "orderNo": id,
                    "fiatCurrency": currency,
                    "indicatedAmount": pad2(*amount),
                    "amount": pad2(*amount),
                    "totalFee": pad2(*fee),
                    "method": method,
                    "status": status,
                    "createTime": time_ms,
                    "updateTime": time_ms + 60_000,
                });
                let side = usize::from(matches!(activity, Activity::FiatWithdrawal { .. }));
                self.fiat_orders[side].push(row(*time_ms, currency, status, id, &json));
            }
            Activity::CardBuy {
                fiat,
                crypto,
                source_amount,
                obtain_amount,
                fee,
                price,
                method,
                time_ms,
                id,
                outcome,
            } => {
                let status = match outcome {
                    Outcome::Completed => "Completed",
                    Outcome::Failed => ["Failed", "Refunded"][pick(id, 2)],
                };
                let method = match method {
                    PayMethod::CreditCard => "Credit Card",
                    PayMethod::CashBalance => "Cash Balance",
                };
                let json = json!({
                    "orderNo": id,
                    "sourceAmount": format_amount(*source_amount),
                    "fiatCurrency": fiat,
                    "obtainAmount": format_amount(*obtain_amount),
                    "cryptoCurrency": crypto,
                    "totalFee": format_amount(*fee),
                    "price": format_amount(*price),
                    "status": status,
                    "paymentMethod": method,
                    "createTime": time_ms,
                    "updateTime": time_ms + 30_000,
                });
                self.fiat_payments[0].push(row(*time_ms, crypto, status, id, &json));
            }
            Activity::Convert { from_asset, from_amount, to_asset, to_amount, time_ms, id, quote_id, outcome } => {
                let status = match outcome {
                    Outcome::Completed => "SUCCESS",
                    Outcome::Failed => "FAIL",
                };
                let ratio = if from_amount.is_zero() { Decimal::ZERO } else { (to_amount / from_amount).round_dp(8) };
                let inverse = if to_amount.is_zero() { Decimal::ZERO } else { (from_amount / to_amount).round_dp(8) };
                let json = json!({
                    "quoteId": quote_id,
                    "orderId": id,
                    "orderStatus": status,
                    "fromAsset": from_asset,
                    "fromAmount": format_amount(*from_amount),
                    "toAsset": to_asset,
                    "toAmount": format_amount(*to_amount),
                    "ratio": format_amount(ratio),
                    "inverseRatio": format_amount(inverse),
                    "createTime": time_ms,
                });
                self.converts.push(row(*time_ms, from_asset, status, &id.to_string(), &json));
            }
            Activity::Dust { time_ms, id, parts } => {
                let total: Decimal = parts.iter().map(|part| part.bnb).sum();
                let charge: Decimal = parts.iter().map(|part| part.fee).sum();
                let details: Vec<Value> = parts
                    .iter()
                    .map(|part| {
                        json!({
                            "transId": part.id,
                            "serviceChargeAmount": format_amount(part.fee),
                            "amount": format_amount(part.amount),
                            "operateTime": time_ms,
                            "transferedAmount": format_amount(part.bnb),
                            "fromAsset": part.asset,
                        })
                    })
                    .collect();
                let json = json!({
                    "operateTime": time_ms,
                    "totalTransferedAmount": format_amount(total),
                    "totalServiceChargeAmount": format_amount(charge),
                    "transId": id,
                    "userAssetDribbletDetails": details,
                });
                self.dust.push(row(*time_ms, "BNB", "", &id.to_string(), &json));
            }
            Activity::Reward { channel, source, asset, amount, time_ms, id, .. } => match channel {
                RewardChannel::Distribution => {
                    let json = json!({
                        "id": id,
                        "amount": pad8(*amount),
                        "asset": asset,
                        "divTime": time_ms,
                        "enInfo": source,
                        "tranId": id * 3 + 7,
                    });
                    self.dividends.push(row(*time_ms, asset, "", &id.to_string(), &json));
                }
                RewardChannel::FlexibleEarn { product, reward_type } => {
                    let json = json!({
                        "asset": asset,
                        "rewards": pad8(*amount),
                        "projectId": product,
                        "type": reward_type,
                        "time": time_ms,
                    });
                    self.earn_flexible.push(row(*time_ms, asset, product, reward_type, &json));
                }
                RewardChannel::LockedEarn { position, lock_days, reward_type } => {
                    // Boost rows carry the position id as text, as in Binance's own example.
                    let position_json =
                        if reward_type.starts_with("Boost") { json!(position.to_string()) } else { json!(position) };
                    let json = json!({
                        "positionId": position_json,
                        "time": time_ms,
                        "asset": asset,
                        "lockPeriod": lock_days.to_string(),
                        "amount": format_amount(*amount),
                        "type": reward_type,
                    });
                    self.earn_locked.push(row(*time_ms, asset, &position.to_string(), reward_type, &json));
                }
            },
        }
    }

    /// Adds a self-trade on `base`/`quote`: the account's buy order met its own sell order, so
    /// `myTrades` answers two rows with one new id, the buyer's and the seller's, each paying
    /// `fee` in `quote`. Returns the trade id.
    pub fn add_self_trade(
        &mut self,
        base: &str,
        quote: &str,
        qty: Decimal,
        price: Decimal,
        fee: Decimal,
        time_ms: i64,
    ) -> u64 {
        let id = self.next_trade_id(base, quote);
        let order_id = self.next_order_id(base, quote);
        self.push_fill(base, quote, Fill { id, order_id, is_buyer: true, qty, price, fee, time_ms });
        self.push_fill(base, quote, Fill { id, order_id: order_id + 1, is_buyer: false, qty, price, fee, time_ms });
        id
    }

    /// Adds one order on `base`/`quote` filled in `parts` (quantity, fee in `quote`) at one
    /// price within one millisecond: consecutive trade ids, one order id. Returns the ids.
    pub fn add_split_order(
        &mut self,
        base: &str,
        quote: &str,
        is_buyer: bool,
        parts: &[(Decimal, Decimal)],
        price: Decimal,
        time_ms: i64,
    ) -> Vec<u64> {
        let order_id = self.next_order_id(base, quote);
        let mut ids = Vec::with_capacity(parts.len());
        for (qty, fee) in parts {
            let id = self.next_trade_id(base, quote);
            self.push_fill(base, quote, Fill { id, order_id, is_buyer, qty: *qty, price, fee: *fee, time_ms });
            ids.push(id);
        }
        ids
    }

    fn next_trade_id(&self, base: &str, quote: &str) -> u64 {
        self.trades.get(&format!("{base}{quote}")).and_then(|rows| rows.iter().map(|row| row.id).max()).unwrap_or(0) + 1
    }

    fn next_order_id(&self, base: &str, quote: &str) -> u64 {
        let rows = self.trades.get(&format!("{base}{quote}"));
        rows.and_then(|rows| rows.iter().map(|row| row.order_id).max()).unwrap_or(0) + 1
    }

    /// Appends one `myTrades` row (fee in `quote`) and its effect on the balances.
    fn push_fill(&mut self, base: &str, quote: &str, fill: Fill) {
        let symbol = format!("{base}{quote}");
        let quote_qty = fill.qty * fill.price;
        let json = json::render(&json!({
            "symbol": symbol,
            "id": fill.id,
            "orderId": fill.order_id,
            "orderListId": -1,
            "price": pad8(fill.price),
            "qty": pad8(fill.qty),
            "quoteQty": format_amount(quote_qty),
            "commission": pad8(fill.fee),
            "commissionAsset": quote,
            "time": fill.time_ms,
            "isBuyer": fill.is_buyer,
            "isMaker": !fill.is_buyer,
            "isBestMatch": true,
        }));
        let (base_delta, quote_delta) =
            if fill.is_buyer { (fill.qty, -quote_qty - fill.fee) } else { (-fill.qty, quote_qty - fill.fee) };
        *self.balances.entry(base.to_owned()).or_insert(Decimal::ZERO) += base_delta;
        *self.balances.entry(quote.to_owned()).or_insert(Decimal::ZERO) += quote_delta;
        self.update_time_ms = self.update_time_ms.max(fill.time_ms);
        self.trades.entry(symbol).or_default().push(TradeRow {
            id: fill.id,
            order_id: fill.order_id,
            time_ms: fill.time_ms,
            json,
        });
    }

    /// Adds `row` to the venue stream `stream` (kept in time order) and `effects` (asset,
    /// signed amount) to the balances. A row with the `key` of one already there replaces it
    /// (an order that became final); `effects` are then what the change added.
    pub fn push_row(&mut self, stream: &'static str, row: Row, effects: &[(&str, Decimal)]) {
        for (asset, delta) in effects {
            *self.balances.entry((*asset).to_owned()).or_insert(Decimal::ZERO) += *delta;
        }
        self.update_time_ms = self.update_time_ms.max(row.time_ms);
        let rows = self.venue_rows.entry(stream).or_default();
        rows.retain(|other| other.key != row.key);
        let at = rows.partition_point(|other| other.time_ms <= row.time_ms);
        rows.insert(at, row);
    }

    /// The rows of the venue stream `stream`, in time order.
    pub fn venue(&self, stream: &str) -> &[Row] {
        self.venue_rows.get(stream).map_or(&[], Vec::as_slice)
    }

    /// Number of records each stream serves, by stream endpoint name.
    pub fn counts(&self) -> BTreeMap<&'static str, usize> {
        let venue = self.venue_rows.iter().map(|(name, rows)| (*name, rows.len()));
        BTreeMap::from([
            ("myTrades", self.trades.values().map(Vec::len).sum()),
            ("deposits", self.deposits.len()),
            ("withdrawals", self.withdrawals.len()),
            ("fiatOrders", self.fiat_orders.iter().map(Vec::len).sum()),
            ("fiatPayments", self.fiat_payments.iter().map(Vec::len).sum()),
            ("convert", self.converts.len()),
            ("dust", self.dust.len()),
            ("dividends", self.dividends.len()),
            ("earnFlexible", self.earn_flexible.len()),
            ("earnLocked", self.earn_locked.len()),
        ])
        .into_iter()
        .chain(venue)
        .collect()
    }
}

/// The rows of a time-ordered stream with `from_ms <= time <= to_ms`.
pub fn in_window(rows: &[Row], from_ms: i64, to_ms: i64) -> &[Row] {
    let start = rows.partition_point(|row| row.time_ms < from_ms);
    let end = rows.partition_point(|row| row.time_ms <= to_ms).max(start);
    &rows[start..end]
}

/// Rendered records as a JSON array.
pub fn json_array<'a>(items: impl Iterator<Item = &'a RawValue>) -> String {
    json::text(&items.collect::<Vec<_>>())
}

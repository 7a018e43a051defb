//! A classic account's spot fills (`GET /v5/execution/list?category=spot`) → `trade` events.
//! Pure: no network, no key.
//!
//! Each fill is one event `exec-<execId>` with both its legs and its fee leg
//! (<https://bybit-exchange.github.io/docs/v5/order/execution>): a `Buy` receives `execQty` of
//! the base coin and sends `execQty` × `execPrice` of the quote coin, a `Sell` the other way
//! round. Classic spot leaves `execValue` empty ("spot is not supported"), so the quote amount
//! is the product, exactly. The fee is `execFee` in `feeCurrency`; where an answer has no
//! `feeCurrency`, the coin follows Bybit's spot fee currency rule
//! (<https://bybit-exchange.github.io/docs/v5/enum#spot-fee-currency-instruction>): a positive fee
//! is taken from what the fill received (base on a buy, quote on a sell); a negative one (a maker
//! rebate) is paid in what it gave. A rebate is a received leg of the trade.
//!
//! The symbol (`BTCUSDT`) is split at a known quote coin ([`QUOTES`]); a fill whose symbol
//! cannot be split is kind `unknown` with no legs and the symbol in its note: kept and shown,
//! never fatal.

use rust_decimal::Decimal;
use serde::Deserialize;

use super::normalize::canonical_asset;
use crate::amount::parse_amount;
use crate::{EventKind, Leg, NewEvent};

/// The quote coins of Bybit's spot markets, longest first where one ends another.
pub const QUOTES: &[&str] = &["USDT", "USDC", "USDE", "EUR", "BRL", "TRY", "PLN", "BRZ", "DAI", "BTC", "ETH", "MNT"];

/// One fill of the execution list (the fields cointally reads).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Execution {
    /// Bybit's id of the fill.
    pub exec_id: String,
    /// The market (`BTCUSDT`).
    pub symbol: String,
    /// The order it filled.
    pub order_id: String,
    /// `Buy` or `Sell`.
    pub side: String,
    /// The price.
    pub exec_price: String,
    /// The base quantity.
    pub exec_qty: String,
    /// The fee (negative: a rebate).
    pub exec_fee: String,
    /// The coin of the fee, when the answer says.
    pub fee_currency: String,
    /// Whether the fill was the maker's.
    pub is_maker: serde_json::Value,
    /// When, ms (a string).
    pub exec_time: String,
}

/// `BTCUSDT` → (`BTC`, `USDT`), at the first known quote coin it ends with.
pub fn split_symbol(symbol: &str) -> Option<(&str, &str)> {
    QUOTES.iter().find_map(|quote| {
        let base = symbol.strip_suffix(quote)?;
        (!base.is_empty()).then_some((base, *quote))
    })
}

fn amount(name: &str, text: &str) -> Result<Decimal, String> {
    if text.trim().is_empty() {
        return Ok(Decimal::ZERO);
    }
    parse_amount(text).map_err(|e| format!("{name}: {e}"))
}

fn coin(text: &str) -> Result<String, String> {
    canonical_asset(text).map_err(|e| format!("coin: {e}"))
}

/// The event of one classic spot fill.
pub fn execution_event(fill: &Execution) -> Result<Option<NewEvent>, String> {
    let id = fill.exec_id.trim();
    if id.is_empty() {
        return Err("the fill has no execId".to_owned());
    }
    let ms = fill
        .exec_time
        .trim()
        .parse::<i64>()
        .map_err(|_| format!("execTime {:?} is not a time in ms", fill.exec_time))?;
    let at = crate::time::from_millis(ms);
    let external_id = format!("exec-{id}");
    let note = format!(
        "Bybit spot {} {} {} @ {} (order {})",
        fill.symbol, fill.side, fill.exec_qty, fill.exec_price, fill.order_id
    );
    let buy = match fill.side.as_str() {
        "Buy" => true,
        "Sell" => false,
        _ => {
            return Ok(Some(NewEvent {
                note: Some(note),
                ..NewEvent::new(external_id, at, EventKind::Unknown, Vec::new())
            }));
        }
    };
    let Some((base, quote)) = split_symbol(&fill.symbol) else {
        return Ok(Some(NewEvent {
            note: Some(note),
            ..NewEvent::new(external_id, at, EventKind::Unknown, Vec::new())
        }));
    };
    let (base, quote) = (coin(base)?, coin(quote)?);
    let qty = amount("execQty", &fill.exec_qty)?;
    let price = amount("execPrice", &fill.exec_price)?;
    let value = qty.checked_mul(price).ok_or("execQty × execPrice overflows")?.normalize();
    let fee = amount("execFee", &fill.exec_fee)?;
    let mut legs = if buy {
        vec![Leg::received(base.clone(), qty), Leg::sent(quote.clone(), value)]
    } else {
        vec![Leg::sent(base.clone(), qty), Leg::received(quote.clone(), value)]
    };
    if !fee.is_zero() {
        let fee_coin = if !fill.fee_currency.trim().is_empty() {
            coin(fill.fee_currency.trim())?
        } else if (fee > Decimal::ZERO) == buy {
            base
        } else {
            quote
        };
        legs.push(if fee > Decimal::ZERO { Leg::fee(fee_coin, fee) } else { Leg::received(fee_coin, fee) });
    }
    Ok(Some(NewEvent { note: Some(note), ..NewEvent::new(external_id, at, EventKind::Trade, legs) }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_split_at_a_known_quote_and_unknown_ones_do_not() {
        assert_eq!(split_symbol("BTCUSDT"), Some(("BTC", "USDT")));
        assert_eq!(split_symbol("ETHBTC"), Some(("ETH", "BTC")));
        assert_eq!(split_symbol("SOLUSDC"), Some(("SOL", "USDC")));
        assert_eq!(split_symbol("USDT"), None);
        assert_eq!(split_symbol("XYZABC"), None);
    }

    #[test]
    fn the_fee_coin_follows_bybits_rule_when_the_answer_does_not_name_it() {
        let fill = |side: &str, fee: &str| Execution {
            exec_id: "1".into(),
            symbol: "BTCUSDT".into(),
            side: side.into(),
            exec_price: "40000".into(),
            exec_qty: "0.5".into(),
            exec_fee: fee.into(),
            exec_time: "1700000000000".into(),
            ..Execution::default()
        };
        let fee_leg = |f: Execution| {
            let event = execution_event(&f).unwrap().unwrap();
            assert_eq!(event.legs.len(), 3, "{event:?}");
            (event.legs[2].asset.clone(), event.legs[2].amount.to_string())
        };
        assert_eq!(fee_leg(fill("Buy", "0.0005")), ("BTC".to_owned(), "-0.0005".to_owned()));
        assert_eq!(fee_leg(fill("Sell", "20")), ("USDT".to_owned(), "-20".to_owned()));
        // A maker rebate: paid in what the fill gave.
        assert_eq!(fee_leg(fill("Buy", "-2")), ("USDT".to_owned(), "2".to_owned()));
        assert_eq!(fee_leg(fill("Sell", "-0.0001")), ("BTC".to_owned(), "0.0001".to_owned()));
        let unknown = execution_event(&Execution { symbol: "XYZABC".into(), ..fill("Buy", "1") }).unwrap().unwrap();
        assert_eq!((unknown.kind, unknown.legs.len()), (EventKind::Unknown, 0));
        assert!(execution_event(&Execution { exec_time: "soon".into(), ..fill("Buy", "1") }).is_err());
        assert!(execution_event(&Execution { exec_id: " ".into(), ..fill("Buy", "1") }).is_err());
    }
}

//! Binance's older spot "Trade History" export (Orders → Spot Order → Trade History → Export).
//!
//! # Layout
//!
//! `Date(UTC),Pair,Side,Price,Executed,Amount,Fee` — one row per fill, oldest known from 2019–2022.
//! The date column carries the time zone the user chose at export: `Date(UTC)`, `Date(UTC+1)`,
//! `Date(UTC-6)`, `Date(UTC+5:30)`; the time (`YYYY-MM-DD HH:MM:SS`) is read in that zone and
//! turned into UTC.
//!
//! - `Pair` is base and quote written together (`ADAUSDT`); `Side` is `BUY` or `SELL`
//!   (any case).
//! - `Executed` is the base quantity with the base ticker glued on (`11.42ADA`), `Amount` the
//!   quote quantity with the quote ticker (`20.014692USDT`), `Fee` the fee with its coin
//!   (`0.00002306BNB`, the coin may be BNB, the base or the quote).
//! - The pair is split where `Executed` ends with the base and `Amount` ends with the quote; a
//!   row where that split is not unique is an error (tickers that begin with a digit, like
//!   `1INCH`, are handled this way).
//! - Numbers may carry thousands separators (`"57,320.15"`); this format removes the commas on
//!   purpose before reading the number exactly. `Price` is not needed for the legs and is only
//!   kept in the note.
//!
//! # Events
//!
//! Every row is one `trade`: `BUY` sends `Amount` of the quote and receives `Executed` of the
//! base; `SELL` the other way round; a non-zero `Fee` is a `fee` leg in its own coin. The file
//! has no trade ids, so `external_id` stays empty (the importer keys by content). A `Side` other
//! than `BUY`/`SELL` is an error. Note that this export and the transaction-history statement
//! ([`super::csv`]) describe the same trades: importing both for one account counts them twice.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;

use crate::amount::parse_amount;
use crate::asset::asset_symbol;
use crate::event::{EventKind, Leg, NewEvent};
use crate::rows::{Header, ImportedEvent, Row, RowError, RowReader, SourceRow};
use crate::time::{TimeError, parse_utc_with};

/// Whether a header is Binance's spot trade-history layout.
pub fn matches(header: &Header) -> bool {
    date_column(header).is_some() && header.has_all(&["Pair", "Side", "Price", "Executed", "Amount", "Fee"])
}

/// The `Date(UTC…)` column's name as written.
fn date_column(header: &Header) -> Option<&str> {
    header.names().iter().map(String::as_str).find(|n| n.to_ascii_lowercase().starts_with("date(utc"))
}

/// The offset from UTC a `Date(UTC±H[:MM])` column name states.
fn zone_offset(column: &str) -> Result<Duration, RowError> {
    let bad =
        || RowError::new(format!("the date column {column:?} does not name a time zone like Date(UTC) or Date(UTC+1)"));
    let inner = column.get(8..).and_then(|rest| rest.strip_suffix(')')).ok_or_else(bad)?.trim();
    if inner.is_empty() {
        return Ok(Duration::zero());
    }
    let (sign, rest) = match inner.as_bytes()[0] {
        b'+' => (1, &inner[1..]),
        b'-' => (-1, &inner[1..]),
        _ => return Err(bad()),
    };
    let (hours, minutes) = rest.split_once(':').unwrap_or((rest, "0"));
    let hours: i64 = hours.parse().map_err(|_| bad())?;
    let minutes: i64 = minutes.parse().map_err(|_| bad())?;
    if !(0..=14).contains(&hours) || !(0..60).contains(&minutes) {
        return Err(bad());
    }
    Ok(Duration::minutes(sign * (hours * 60 + minutes)))
}

/// Reads Binance spot trade-history rows, one trade each.
#[derive(Default)]
pub struct Reader;

/// A number that may carry thousands separators.
fn number(column: &str, text: &str) -> Result<Decimal, RowError> {
    parse_amount(&text.replace(',', "")).map_err(|e| RowError::field(column, e))
}

/// Splits `Executed`/`Amount` by the pair: (base, base quantity, quote, quote quantity).
fn split_pair(pair: &str, executed: &str, amount: &str) -> Result<(String, Decimal, String, Decimal), RowError> {
    let mut found = Vec::new();
    for (cut, _) in pair.char_indices().skip(1) {
        let (base, quote) = pair.split_at(cut);
        let (Some(base_qty), Some(quote_qty)) = (strip_ticker(executed, base), strip_ticker(amount, quote)) else {
            continue;
        };
        if let (Ok(b), Ok(q)) = (parse_amount(&base_qty.replace(',', "")), parse_amount(&quote_qty.replace(',', ""))) {
            found.push((base.to_string(), b, quote.to_string(), q));
        }
    }
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(RowError::new(format!(
            "cannot split pair {pair:?} by Executed {executed:?} and Amount {amount:?} (expected the base ticker \
             after Executed and the quote ticker after Amount, like 11.42ADA and 20.01USDT for ADAUSDT)"
        ))),
        _ => Err(RowError::new(format!(
            "pair {pair:?} can be split into base and quote in more than one way by Executed {executed:?} and \
             Amount {amount:?}; convert this row to cointally's generic CSV format"
        ))),
    }
}

/// The number in front of `ticker` when `text` ends with it (case-insensitive).
fn strip_ticker<'a>(text: &'a str, ticker: &str) -> Option<&'a str> {
    let cut = text.len().checked_sub(ticker.len())?;
    let (head, tail) = (text.get(..cut)?, text.get(cut..)?);
    tail.eq_ignore_ascii_case(ticker).then_some(head.trim())
}

/// The fee and its coin: the coin is the base or quote when the text ends with one of them,
/// otherwise whatever follows the leading number.
fn split_fee(text: &str, base: &str, quote: &str) -> Result<Option<(String, Decimal)>, RowError> {
    if text.is_empty() {
        return Ok(None);
    }
    let known = [base, quote].into_iter().find_map(|t| strip_ticker(text, t).map(|n| (n, t.to_string())));
    let (quantity, coin) = match known {
        Some(found) => found,
        None => {
            let cut = text.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ',')).unwrap_or(text.len());
            (&text[..cut], text[cut..].to_string())
        }
    };
    if coin.is_empty() {
        return Err(RowError::field("Fee", format!("{text:?} has no coin after the number (like 0.001BNB)")));
    }
    let coin = asset_symbol(&coin).map_err(|e| RowError::field("Fee", e))?;
    Ok(Some((coin, number("Fee", quantity)?)))
}

impl RowReader for Reader {
    fn read(&mut self, row: &Row<'_>) -> Result<Vec<ImportedEvent>, RowError> {
        let column = date_column(row.header()).unwrap_or("Date(UTC)");
        let offset = zone_offset(column)?;
        let text = row.required(column)?;
        const EXPECTED: &str = "YYYY-MM-DD HH:MM:SS in the zone named by the column";
        let local: DateTime<Utc> = parse_utc_with(text, "%Y-%m-%d %H:%M:%S", EXPECTED)
            .map_err(|_| RowError::field(column, TimeError { text: text.to_string(), expected: EXPECTED }))?;
        let time = local - offset;
        let pair = asset_symbol(row.required("Pair")?).map_err(|e| RowError::field("Pair", e))?;
        let side = row.required("Side")?;
        let (base, base_qty, quote, quote_qty) = split_pair(&pair, row.required("Executed")?, row.required("Amount")?)?;
        let (base, quote) =
            (asset_symbol(&base).map_err(|e| RowError::field("Executed", e))?, asset_symbol(&quote).unwrap_or(quote));
        let mut legs = match side.to_ascii_uppercase().as_str() {
            "BUY" => vec![Leg::sent(&quote, quote_qty), Leg::received(&base, base_qty)],
            "SELL" => vec![Leg::sent(&base, base_qty), Leg::received(&quote, quote_qty)],
            _ => {
                return Err(RowError::field(
                    "Side",
                    format!("{side:?} is neither BUY nor SELL; convert this row to cointally's generic CSV format"),
                ));
            }
        };
        if let Some((coin, fee)) = split_fee(row.get("Fee"), &base, &quote)? {
            if !fee.is_zero() {
                legs.push(Leg::fee(coin, fee));
            }
        }
        let mut event = NewEvent::new("", time, EventKind::Trade, legs);
        event.note = Some(format!("{} {pair} at {}", side.to_ascii_uppercase(), row.get("Price")));
        Ok(vec![ImportedEvent { event, rows: vec![SourceRow::of(row)] }])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rows::read_text;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn read_all(text: &str) -> Result<Vec<NewEvent>, RowError> {
        let read = read_text(&mut Reader, matches, text);
        assert_eq!(read.header_line, Some(1), "the fixture's header is a Binance trade history header");
        Ok(read.into_result()?.into_iter().map(|e| e.event).collect())
    }

    fn time(text: &str) -> DateTime<Utc> {
        crate::time::parse_utc(text).unwrap()
    }

    #[test]
    fn binance_trade_history_header_is_recognised_and_others_are_not() {
        assert!(matches(&Header::new("Date(UTC+1),Pair,Side,Price,Executed,Amount,Fee".split(','))));
        assert!(!matches(&Header::new("User_ID,UTC_Time,Account,Operation,Coin,Change,Remark".split(','))));
        assert!(!matches(&Header::new("Date,Pair,Type,Sell,Buy,Price,Inverse Price,Date Updated,Status".split(','))));
        assert!(!super::super::csv::matches(&Header::new("Date(UTC),Pair,Side,Price,Executed,Amount,Fee".split(','))));
    }

    #[test]
    fn binance_trade_history_rows_are_trades() {
        let text = include_str!("../../../fixtures/binance/csv/trade_history.csv");
        let events = read_all(text).unwrap();
        let shapes: Vec<_> = events.iter().map(|e| (e.time, e.kind, e.legs.clone())).collect();
        assert_eq!(
            shapes,
            vec![
                (
                    time("2021-05-09 22:47:36"),
                    EventKind::Trade,
                    vec![
                        Leg::sent("USDT", dec("20.014692")),
                        Leg::received("ADA", dec("11.42")),
                        Leg::fee("BNB", dec("0.00002306"))
                    ]
                ),
                (
                    time("2021-05-10 08:02:11"),
                    EventKind::Trade,
                    vec![
                        Leg::sent("USDT", dec("99.737061")),
                        Leg::received("BTC", dec("0.00174")),
                        Leg::fee("BTC", dec("0.00000174"))
                    ]
                ),
                (
                    time("2021-05-12 19:30:45"),
                    EventKind::Trade,
                    vec![
                        Leg::sent("ADA", dec("11.42")),
                        Leg::received("USDT", dec("21.48102")),
                        Leg::fee("BNB", dec("0.00002498"))
                    ]
                ),
                (
                    time("2021-05-14 06:15:00"),
                    EventKind::Trade,
                    vec![
                        Leg::sent("ETH", dec("0.1")),
                        Leg::received("BTC", dec("0.007412")),
                        Leg::fee("BTC", dec("0.00000741"))
                    ]
                ),
                (
                    time("2021-05-20 12:00:00"),
                    EventKind::Trade,
                    vec![
                        Leg::sent("USDT", dec("1254")),
                        Leg::received("1INCH", dec("300")),
                        Leg::fee("1INCH", dec("0.3"))
                    ]
                ),
            ]
        );
        assert!(events.iter().all(|e| e.external_id.is_empty()));
        assert_eq!(events[1].note.as_deref(), Some("BUY BTCUSDT at 57,320.1500000000"));
        let mut balance = std::collections::BTreeMap::new();
        for leg in events.iter().flat_map(|e| &e.legs) {
            *balance.entry(leg.asset.as_str()).or_insert(Decimal::ZERO) += leg.amount;
        }
        assert_eq!(balance["ADA"], Decimal::ZERO);
        assert_eq!(balance["BTC"], dec("0.00914285"));
        assert_eq!(balance["BNB"], dec("-0.00004804"));
        assert_eq!(balance["1INCH"], dec("299.7"));
    }

    #[test]
    fn binance_trade_history_time_zone_comes_from_the_date_column() {
        let text = "Date(UTC+2),Pair,Side,Price,Executed,Amount,Fee\n\
                    2021-05-10 01:30:00,BTCUSDT,SELL,50000,0.001BTC,50USDT,0.05USDT\n";
        let events = read_all(text).unwrap();
        assert_eq!(events[0].time, time("2021-05-09 23:30:00"));
        assert_eq!(zone_offset("Date(UTC-6)").unwrap(), Duration::hours(-6));
        assert_eq!(zone_offset("Date(UTC+5:30)").unwrap(), Duration::minutes(330));
        assert!(zone_offset("Date(UTC+x)").is_err());
    }

    #[test]
    fn binance_trade_history_bad_rows_are_refused() {
        let e = read_all(include_str!("../../../fixtures/binance/csv/trade_history_bad_side.csv")).unwrap_err();
        assert_eq!(e.line, Some(3));
        assert!(e.message.contains("column \"Side\"") && e.message.contains("\"HOLD\" is neither BUY nor SELL"), "{e}");
        let header = "Date(UTC),Pair,Side,Price,Executed,Amount,Fee\n";
        let e =
            read_all(&format!("{header}2021-05-09 22:47:36,ADAUSDT,BUY,1.75,11.42ADA,20.01BUSD,0BNB\n")).unwrap_err();
        assert!(e.message.contains("cannot split pair \"ADAUSDT\""), "{e}");
        let e = read_all(&format!("{header}09/05/2021 22:47,ADAUSDT,BUY,1.75,11.42ADA,20.01USDT,0BNB\n")).unwrap_err();
        assert!(e.message.contains("column \"Date(UTC)\"") && e.message.contains("09/05/2021"), "{e}");
        let e = read_all(&format!("{header}2021-05-09 22:47:36,ADAUSDT,BUY,1.75,11.42ADA,20.01USDT,1.2.3BNB\n"))
            .unwrap_err();
        assert!(e.message.contains("column \"Fee\""), "{e}");
    }
}

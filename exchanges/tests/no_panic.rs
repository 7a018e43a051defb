//! No panic from data: every normaliser and CSV reader, fed random bytes or a real fixture
//! with random mutations (huge and tiny numbers, wrong types, missing fields, odd times),
//! returns events or an error, never a panic. Case counts are bounded so the whole file runs
//! in seconds.

use std::path::{Path, PathBuf};

use cointally_exchanges::adapter::{RawRecord, Stream};
use cointally_exchanges::rows::{Header, RowReader, read_text};
use cointally_exchanges::{binance, bitfinex, coinbase, kraken};
use proptest::prelude::*;
use serde_json::Value;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures");

/// Cases per property: enough to reach every fixture many times, few enough for CI.
const CASES: u32 = 256;

/// Text that has broken readers before or sits at a bound: numbers at and past the amount
/// bounds and `Decimal`'s limit, exponent forms, times far from now, empty and wrong types.
const NASTY_TEXT: &[&str] = &[
    "",
    "0",
    "-0",
    "-1",
    "99999999999999999999",
    "-99999999999999999999",
    "100000000000000000000",
    "79228162514264337593543950335",
    "-79228162514264337593543950335",
    "1e28",
    "1E-28",
    "0.000000000000000001",
    "0.0000000000000000001",
    "9999999999999999999.999999999",
    "1e20",
    "NaN",
    "abc",
    "1,000",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551616",
    "1e300",
    "9999999999.9999",
    "253402300800",
    "-62135596801",
    "2025-01-01T00:00:00Z",
    "9999-12-31 23:59:59",
    "0000-01-01 00:00:00",
    "262143-12-31T23:59:59Z",
    "+262143-12-31 23:59:59",
    "-262143-01-01 00:00:00",
    "+262143-12-31T23:59:59",
    "25-13-45 99:99:99",
    "BTC",
    "buy",
    "sell",
    "trade",
    "Buy 99999999999999999999 BTC for 99999999999999999999 USD",
    "Converted 99999999999999999999 BTC to 99999999999999999999 ETH",
    "Bought 99999999999999999999 BTC for 99999999999999999999 USD on BTC-USD at 99999999999999999999 USD/BTC",
];

fn nasty_json(choice: usize, text: &str) -> Value {
    let numbers = [
        serde_json::json!(0),
        serde_json::json!(-1),
        serde_json::json!(i64::MAX),
        serde_json::json!(i64::MIN),
        serde_json::json!(u64::MAX),
        serde_json::json!(1e300),
        serde_json::json!(-1e300),
        serde_json::json!(1e20),
        serde_json::json!(253402300800.0),
        serde_json::json!(1.5e-30),
        Value::Null,
        Value::Bool(true),
        serde_json::json!([]),
        serde_json::json!({}),
        serde_json::json!([{"a": 1}]),
    ];
    let total = NASTY_TEXT.len() + numbers.len() + 1;
    match choice % total {
        i if i < NASTY_TEXT.len() => Value::String(NASTY_TEXT[i].to_string()),
        i if i < NASTY_TEXT.len() + numbers.len() => numbers[i - NASTY_TEXT.len()].clone(),
        _ => Value::String(text.to_string()),
    }
}

/// Every place in a JSON value (by JSON pointer), the root included.
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                pointers(inner, format!("{at}/{}", key.replace('~', "~0").replace('/', "~1")), out);
            }
        }
        Value::Array(items) => {
            for (i, inner) in items.iter().enumerate() {
                pointers(inner, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(at);
}

/// One mutation: which place, what to do there, and a random text to use.
type Mutation = (usize, usize, String);

fn mutate_json(original: &str, mutations: &[Mutation]) -> String {
    let Ok(mut value) = serde_json::from_str::<Value>(original) else { return original.to_string() };
    for (place, action, text) in mutations {
        let mut places = Vec::new();
        pointers(&value, String::new(), &mut places);
        let pointer = &places[place % places.len()];
        if action % 7 == 0 && !pointer.is_empty() {
            // Remove the field (or array element) altogether.
            let (parent, key) = pointer.rsplit_once('/').unwrap_or(("", pointer));
            let key = key.replace("~1", "/").replace("~0", "~");
            match value.pointer_mut(parent) {
                Some(Value::Object(map)) => {
                    map.remove(&key);
                }
                Some(Value::Array(items)) => {
                    if let Ok(i) = key.parse::<usize>() {
                        if i < items.len() {
                            items.remove(i);
                        }
                    }
                }
                _ => {}
            }
        } else if let Some(slot) = value.pointer_mut(pointer) {
            *slot = nasty_json(action / 7, text);
        }
    }
    value.to_string()
}

fn mutate_csv(original: &str, mutations: &[Mutation]) -> String {
    let mut lines: Vec<Vec<String>> = original.lines().map(|l| l.split(',').map(str::to_string).collect()).collect();
    if lines.is_empty() {
        return original.to_string();
    }
    for (place, action, text) in mutations {
        let row = place % lines.len();
        match action % 9 {
            // Repeat a row (sums over many equal rows).
            0 => {
                let copy = lines[row].clone();
                lines.insert(row, copy);
            }
            // Drop a row or a cell.
            1 => {
                lines.remove(row);
                if lines.is_empty() {
                    break;
                }
            }
            2 => {
                let cells = &mut lines[row];
                if !cells.is_empty() {
                    let i = (action / 9) % cells.len();
                    cells.remove(i);
                }
            }
            _ => {
                let rows = lines.len();
                let cells = &mut lines[row];
                if !cells.is_empty() {
                    let i = (place / rows) % cells.len();
                    cells[i] = match nasty_json(action / 9, text) {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                }
            }
        }
    }
    let mut out = lines.iter().map(|cells| cells.join(",")).collect::<Vec<_>>().join("\n");
    out.push('\n');
    out
}

fn files_under(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path, extension));
        } else if path.extension().is_some_and(|e| e == extension) {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// A fixture record: the stream it belongs to and its JSON text.
struct JsonCase {
    stream: Stream,
    payload: String,
}

fn binance_cases() -> Vec<JsonCase> {
    files_under(&Path::new(FIXTURES).join("binance/api"), "json")
        .into_iter()
        .map(|path| {
            let endpoint = path.parent().unwrap().file_name().unwrap().to_string_lossy().into_owned();
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            let words: Vec<&str> = name.split('_').collect();
            let scope = match endpoint.as_str() {
                "myTrades" => format!("{}/{}", words[0].to_uppercase(), words[1].to_uppercase()),
                "fiatOrders" => if words[0] == "deposit" { "deposit" } else { "withdraw" }.to_string(),
                "fiatPayments" => if words[0] == "buy" { "buy" } else { "sell" }.to_string(),
                _ => String::new(),
            };
            JsonCase { stream: Stream::new(endpoint, scope), payload: std::fs::read_to_string(&path).unwrap() }
        })
        .collect()
}

fn kraken_cases() -> Vec<JsonCase> {
    files_under(&Path::new(FIXTURES).join("kraken/api"), "json")
        .into_iter()
        .map(|path| JsonCase {
            stream: Stream::new(kraken::normalize::LEDGERS, ""),
            payload: std::fs::read_to_string(&path).unwrap(),
        })
        .collect()
}

fn coinbase_cases() -> Vec<JsonCase> {
    files_under(&Path::new(FIXTURES).join("coinbase/api"), "json")
        .into_iter()
        .map(|path| {
            let fill = path.file_name().unwrap().to_string_lossy().starts_with("fill_");
            let endpoint = if fill { coinbase::normalize::FILLS } else { coinbase::normalize::TRANSACTIONS };
            JsonCase { stream: Stream::new(endpoint, ""), payload: std::fs::read_to_string(&path).unwrap() }
        })
        .collect()
}

/// Bitfinex's ledger entries and movements (arrays of positional fields).
fn bitfinex_cases() -> Vec<JsonCase> {
    [("bitfinex/ledgers", bitfinex::normalize::LEDGERS), ("bitfinex/movements", bitfinex::movements::MOVEMENTS)]
        .into_iter()
        .flat_map(|(dir, endpoint)| {
            files_under(&Path::new(FIXTURES).join(dir), "json").into_iter().map(move |path| JsonCase {
                stream: Stream::new(endpoint, ""),
                payload: std::fs::read_to_string(&path).unwrap(),
            })
        })
        .collect()
}

fn csv_texts(dir: &str) -> Vec<String> {
    files_under(&Path::new(FIXTURES).join(dir), "csv")
        .iter()
        .filter_map(|path| std::fs::read(path).ok().map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
        .collect()
}

type Normalise =
    fn(&Stream, &RawRecord) -> Result<Vec<cointally_exchanges::NewEvent>, cointally_exchanges::adapter::NormalizeError>;

fn normalise_all(normalise: Normalise, stream: &Stream, payload: String) {
    let record = RawRecord { external_id: "fuzz".into(), payload };
    let _ = normalise(stream, &record);
}

fn read_all(reader: &mut dyn RowReader, matches: fn(&Header) -> bool, text: &str) {
    let _ = read_text(reader, matches, text);
}

fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    prop::collection::vec((any::<usize>(), any::<usize>(), ".{0,24}"), 1..6)
}

/// Every endpoint each normaliser knows, to feed random bytes to.
const BINANCE_ENDPOINTS: &[&str] = &[
    "myTrades",
    "deposits",
    "withdrawals",
    "fiatOrders",
    "fiatPayments",
    "convert",
    "dust",
    "dividends",
    "earnFlexible",
    "earnLocked",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn binance_normaliser_never_panics_on_mutated_fixtures(pick in any::<usize>(), m in mutations()) {
        let cases = binance_cases();
        let case = &cases[pick % cases.len()];
        normalise_all(binance::normalize::normalize, &case.stream, mutate_json(&case.payload, &m));
    }

    #[test]
    fn kraken_normaliser_never_panics_on_mutated_fixtures(pick in any::<usize>(), m in mutations()) {
        let cases = kraken_cases();
        let case = &cases[pick % cases.len()];
        normalise_all(kraken::normalize::normalize, &case.stream, mutate_json(&case.payload, &m));
    }

    #[test]
    fn coinbase_normaliser_never_panics_on_mutated_fixtures(pick in any::<usize>(), m in mutations()) {
        let cases = coinbase_cases();
        let case = &cases[pick % cases.len()];
        normalise_all(coinbase::normalize::normalize, &case.stream, mutate_json(&case.payload, &m));
    }

    #[test]
    fn bitfinex_normaliser_never_panics_on_mutated_fixtures(pick in any::<usize>(), m in mutations()) {
        let cases = bitfinex_cases();
        let case = &cases[pick % cases.len()];
        normalise_all(bitfinex::normalize::normalize, &case.stream, mutate_json(&case.payload, &m));
    }

    #[test]
    fn normalisers_never_panic_on_random_bytes(pick in any::<usize>(), bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let payload = String::from_utf8_lossy(&bytes).into_owned();
        let endpoint = BINANCE_ENDPOINTS[pick % BINANCE_ENDPOINTS.len()];
        normalise_all(binance::normalize::normalize, &Stream::new(endpoint, "BTC/USDT"), payload.clone());
        normalise_all(kraken::normalize::normalize, &Stream::new(kraken::normalize::LEDGERS, ""), payload.clone());
        let endpoint = if pick % 2 == 0 { coinbase::normalize::FILLS } else { coinbase::normalize::TRANSACTIONS };
        normalise_all(coinbase::normalize::normalize, &Stream::new(endpoint, ""), payload);
    }

    #[test]
    fn binance_statement_reader_never_panics_on_mutated_fixtures(pick in any::<usize>(), m in mutations()) {
        let texts = csv_texts("binance/csv");
        let text = mutate_csv(&texts[pick % texts.len()], &m);
        read_all(&mut binance::csv::Reader::default(), binance::csv::matches, &text);
        read_all(&mut binance::trade_history::Reader, binance::trade_history::matches, &text);
    }

    #[test]
    fn kraken_csv_reader_never_panics_on_mutated_fixtures(pick in any::<usize>(), m in mutations()) {
        let texts = csv_texts("kraken/csv");
        let text = mutate_csv(&texts[pick % texts.len()], &m);
        read_all(&mut kraken::csv::Reader::default(), kraken::csv::matches, &text);
    }

    #[test]
    fn coinbase_csv_reader_never_panics_on_mutated_fixtures(pick in any::<usize>(), m in mutations()) {
        let texts = csv_texts("coinbase/csv");
        let text = mutate_csv(&texts[pick % texts.len()], &m);
        read_all(&mut coinbase::csv::Reader::default(), coinbase::csv::matches, &text);
    }

    #[test]
    fn csv_readers_never_panic_on_random_bytes(header in any::<usize>(), bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        // A real header first, so the random rows reach the readers rather than the header search.
        let headers = [csv_texts("binance/csv"), csv_texts("kraken/csv"), csv_texts("coinbase/csv")].concat();
        let first = headers[header % headers.len()].lines().next().unwrap_or("").to_string();
        let text = format!("{first}\n{}", String::from_utf8_lossy(&bytes));
        read_all(&mut binance::csv::Reader::default(), binance::csv::matches, &text);
        read_all(&mut binance::trade_history::Reader, binance::trade_history::matches, &text);
        read_all(&mut kraken::csv::Reader::default(), kraken::csv::matches, &text);
        read_all(&mut coinbase::csv::Reader::default(), coinbase::csv::matches, &text);
    }
}

fn fill(price: &str, size: &str, size_in_quote: bool) -> String {
    let text = std::fs::read_to_string(Path::new(FIXTURES).join("coinbase/api/fill_v3_eth_usd_sell.json")).unwrap();
    let mut value: Value = serde_json::from_str(&text).unwrap();
    value["price"] = Value::String(price.into());
    value["size"] = Value::String(size.into());
    value["size_in_quote"] = Value::Bool(size_in_quote);
    value.to_string()
}

#[test]
fn coinbase_fill_whose_size_times_price_overflows_is_an_error() {
    let stream = Stream::new(coinbase::normalize::FILLS, "");
    let record =
        RawRecord { external_id: "f".into(), payload: fill("99999999999999999999", "99999999999999999999", false) };
    let error = coinbase::normalize::normalize(&stream, &record).unwrap_err().to_string();
    assert!(error.contains("out of range"), "{error}");
}

#[test]
fn coinbase_fill_in_quote_at_a_tiny_price_is_an_error() {
    let stream = Stream::new(coinbase::normalize::FILLS, "");
    let record =
        RawRecord { external_id: "f".into(), payload: fill("0.000000000000000001", "99999999999999999999", true) };
    let error = coinbase::normalize::normalize(&stream, &record).unwrap_err().to_string();
    assert!(error.contains("out of range"), "{error}");
}

#[test]
fn kraken_time_beyond_decimal_range_is_an_error() {
    let text = std::fs::read_to_string(Path::new(FIXTURES).join("kraken/api/Ledgers/deposit_btc.json")).unwrap();
    let payload = text.replace("1688464400.0000", "79228162514264337593543950335");
    let stream = Stream::new(kraken::normalize::LEDGERS, "");
    let error = kraken::normalize::normalize(&stream, &RawRecord { external_id: "k".into(), payload }).unwrap_err();
    assert!(error.to_string().contains("out of range"), "{error}");
}

#[test]
fn kraken_csv_row_dated_at_chronos_edge_is_an_error() {
    let text = csv_texts("kraken/csv").into_iter().find(|t| t.contains("refid")).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let time = header.iter().position(|h| h.trim_matches('"') == "time").unwrap();
    let mut cells: Vec<String> = lines[1].split(',').map(str::to_string).collect();
    cells[time] = "\"+262143-12-31 23:59:59\"".into();
    lines[1] = cells.join(",");
    let read = read_text(&mut kraken::csv::Reader::default(), kraken::csv::matches, &lines.join("\n"));
    assert!(!read.errors.is_empty());
}

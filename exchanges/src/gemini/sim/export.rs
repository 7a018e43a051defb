//! The simulated account as Gemini's transaction history file (the layout of
//! [`crate::gemini::csv`]), saved as CSV: every fill and every final transfer, oldest first,
//! with the per-currency columns of the currencies the account used and running balances.
//! Staking is not in this file (Gemini lists it apart).

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;

use super::history::{Fill, Generator, Transfer};

/// The fixed columns before the per-currency ones.
const HEAD: &[&str] =
    &["Date", "Time (UTC)", "Type", "Symbol", "Specification", "Liquidity Indicator", "Trading Fee Rate (bps)"];
/// The fixed columns after them.
const TAIL: &[&str] = &[
    "Trade ID",
    "Order ID",
    "Order Date",
    "Order Time",
    "Client Order ID",
    "API Session",
    "Tx Hash",
    "Deposit Destination",
    "Deposit Tx Output",
    "Withdrawal Destination",
    "Withdrawal Tx Output",
];

/// One row before it is written: the named cells, the amount and fee per currency.
struct Line {
    time_ms: i64,
    cells: BTreeMap<&'static str, String>,
    moves: Vec<(String, Decimal, Decimal)>,
}

fn fill_line(f: &Fill) -> Line {
    let symbol = f.symbol.to_ascii_uppercase();
    let base = symbol.strip_suffix(f.quote).unwrap_or(&symbol).to_owned();
    let total = f.price * f.amount;
    let sign = if f.is_buy { Decimal::ONE } else { -Decimal::ONE };
    let mut cells = BTreeMap::new();
    cells.insert("Type", (if f.is_buy { "Buy" } else { "Sell" }).to_owned());
    cells.insert("Symbol", f.symbol.to_ascii_uppercase());
    cells.insert("Specification", format!("Exchange {}", if f.is_buy { "Buy" } else { "Sell" }));
    cells.insert("Trade ID", f.tid.to_string());
    cells.insert("Order ID", f.order_id.to_string());
    let moves = vec![(base, sign * f.amount, Decimal::ZERO), (f.quote.to_owned(), -sign * total, f.fee)];
    Line { time_ms: f.time_ms, cells, moves }
}

fn transfer_line(t: &Transfer) -> Line {
    let (kind, specification, sign) = match t.kind {
        "Deposit" => ("Credit", format!("Deposit ({})", t.currency), Decimal::ONE),
        "Withdrawal" => ("Debit", format!("Withdrawal ({})", t.currency), -Decimal::ONE),
        "Reward" => ("Credit", "Gemini Reward".to_owned(), Decimal::ONE),
        "AdminDebit" => ("Administrative Debit", String::new(), -Decimal::ONE),
        _ => ("Administrative Credit", String::new(), Decimal::ONE),
    };
    let mut cells = BTreeMap::new();
    cells.insert("Type", kind.to_owned());
    cells.insert("Symbol", t.currency.clone());
    cells.insert("Specification", specification);
    if let Some(hash) = &t.tx_hash {
        cells.insert("Tx Hash", hash.clone());
    }
    if let Some(address) = &t.destination {
        cells.insert(
            if sign.is_sign_positive() { "Deposit Destination" } else { "Withdrawal Destination" },
            address.clone(),
        );
    }
    Line { time_ms: t.time_ms, cells, moves: vec![(t.currency.clone(), sign * t.amount, t.fee)] }
}

/// A CSV cell, quoted when it holds a comma or a quote.
fn cell(text: &str) -> String {
    if text.contains([',', '"']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text.to_owned() }
}

/// The account's transaction history file, as CSV text.
pub fn history_file(g: &Generator) -> String {
    let mut lines: Vec<Line> = g.fills.iter().map(fill_line).collect();
    lines.extend(g.transfers.iter().filter(|t| t.status != "Pending").map(transfer_line));
    lines.sort_by_key(|line| line.time_ms);
    let currencies: BTreeSet<String> = lines.iter().flat_map(|l| l.moves.iter().map(|m| m.0.clone())).collect();
    let mut header: Vec<String> = HEAD.iter().map(|s| (*s).to_owned()).collect();
    for c in &currencies {
        header.extend([format!("{c} Amount {c}"), format!("Fee ({c}) {c}"), format!("{c} Balance {c}")]);
    }
    header.extend(TAIL.iter().map(|s| (*s).to_owned()));
    let mut out = header.join(",");
    out.push('\n');
    let mut balances: BTreeMap<String, Decimal> = BTreeMap::new();
    for line in &lines {
        let Some(time) = chrono::DateTime::from_timestamp_millis(line.time_ms) else { continue };
        let mut row = vec![time.format("%Y-%m-%d").to_string(), time.format("%H:%M:%S%.3f").to_string()];
        row.extend(HEAD[2..].iter().map(|name| line.cells.get(name).cloned().unwrap_or_default()));
        for c in &currencies {
            match line.moves.iter().find(|m| &m.0 == c) {
                Some((_, amount, fee)) => {
                    let balance = balances.entry(c.clone()).or_default();
                    *balance += *amount - *fee;
                    let fee = if fee.is_zero() { String::new() } else { (-*fee).to_string() };
                    row.extend([amount.to_string(), fee, balance.to_string()]);
                }
                None => row.extend([String::new(), String::new(), String::new()]),
            }
        }
        row.extend(TAIL.iter().map(|name| line.cells.get(name).cloned().unwrap_or_default()));
        out.push_str(&row.iter().map(|text| cell(text)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
}

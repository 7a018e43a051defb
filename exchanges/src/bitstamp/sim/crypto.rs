//! The simulator's `POST /api/v2/crypto-transactions/`: the crypto deposits and withdrawals of
//! the generated `user_transactions`, again, with a tx hash, a destination address and a network.
//!
//! Each entry is derived from its `user_transactions` record (type 0 or 1 of a crypto currency),
//! so the two lists always agree: the same currency, the same absolute amount (a withdrawal's
//! before its fee), a `datetime` in Unix seconds ten minutes before a deposit is credited (the
//! chain transaction comes first) and two minutes after a withdrawal is booked. Hashes and
//! addresses are drawn from the seed and the record's id, so they are the same every run.
//! The list is served newest first (Bitstamp does not document an order; the client must not
//! depend on one), deposits and withdrawals counted together for `offset` and `limit`.

use rust_decimal::Decimal;

use super::history::{Transaction, places};
use crate::sim::amounts::fixed;
use crate::sim::ids::{hex, hex_words};
use crate::sim::server::Response;

/// One entry of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CryptoEntry {
    /// `deposits` or `withdrawals`.
    pub list: &'static str,
    /// The `user_transactions` id it repeats.
    pub transaction_id: u64,
    /// Lowercase currency code.
    pub currency: String,
    /// The absolute amount.
    pub amount: Decimal,
    /// Unix seconds.
    pub datetime: i64,
    /// The transaction hash.
    pub txid: String,
    /// The destination address.
    pub address: String,
    /// Bitstamp's network name.
    pub network: &'static str,
}

impl CryptoEntry {
    /// The entry as Bitstamp sends it.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "currency": self.currency,
            "destinationAddress": self.address,
            "txid": self.txid,
            "amount": fixed(self.amount, places(&self.currency)),
            "datetime": self.datetime,
            "network": self.network,
        })
    }
}

/// Bitstamp's network name of a currency the simulated person moves on chain.
fn network(code: &str) -> Option<&'static str> {
    Some(match code {
        "btc" => "bitcoin",
        "eth" => "ethereum",
        "sol" => "solana",
        "ltc" => "litecoin",
        "xrp" => "xrpl",
        "usdc" => "ethereum",
        _ => return None,
    })
}

/// The entries of `transactions` (oldest first, as the generator keeps them).
pub fn entries(seed: u64, transactions: &[Transaction]) -> Vec<CryptoEntry> {
    let mut out = Vec::new();
    for t in transactions {
        let list = match t.kind {
            0 => "deposits",
            1 => "withdrawals",
            _ => continue,
        };
        let [(code, amount)] = t.amounts.as_slice() else { continue };
        let Some(network) = network(code) else { continue };
        let mut rng = fastrand::Rng::with_seed(seed ^ t.id.rotate_left(17));
        let txid = if code == "eth" || code == "usdc" {
            format!("0x{}", hex_words(&mut rng, 4))
        } else {
            hex_words(&mut rng, 4)
        };
        let address = match code.as_str() {
            "btc" => format!("bc1q{}", hex(&mut rng, 38)),
            "eth" | "usdc" => format!("0x{}", hex(&mut rng, 40)),
            "ltc" => format!("ltc1q{}", hex(&mut rng, 38)),
            "xrp" => format!("r{}", hex(&mut rng, 33)),
            _ => hex(&mut rng, 44),
        };
        let seconds = t.time_ms.div_euclid(1000);
        let datetime = if list == "deposits" { seconds - 600 } else { seconds + 120 };
        out.push(CryptoEntry {
            list,
            transaction_id: t.id,
            currency: code.clone(),
            amount: amount.abs(),
            datetime,
            txid,
            address,
            network,
        });
    }
    out
}

/// The answer for `offset` and `limit` (already checked), newest first.
pub fn page(entries: &[CryptoEntry], offset: usize, limit: usize) -> Response {
    let mut sorted: Vec<&CryptoEntry> = entries.iter().collect();
    sorted.sort_by(|a, b| b.datetime.cmp(&a.datetime).then(b.transaction_id.cmp(&a.transaction_id)));
    let chosen: Vec<&CryptoEntry> = sorted.into_iter().skip(offset).take(limit).collect();
    let list =
        |name: &str| -> Vec<serde_json::Value> { chosen.iter().filter(|e| e.list == name).map(|e| e.json()).collect() };
    Response::json_value(200, &serde_json::json!({ "deposits": list("deposits"), "withdrawals": list("withdrawals") }))
}

//! Asking Coinbase again for the transactions a walk passed over as not final.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::{CoinbaseAdapter, quote};
use crate::adapter::{Pending, RawRecord, Recheck};
use crate::coinbase::api::{Endpoint, malformed};
use crate::coinbase::normalize::Transaction;
use crate::http::FetchError;

impl CoinbaseAdapter {
    /// Asks each remembered transaction again (`GET /v2/accounts/:account_id/transactions/:id`);
    /// a final one is stored as the walk would have stored it (a conversion half as a one-sided
    /// record: its partner was stored meanwhile), one Coinbase no longer has is forgotten.
    pub(super) fn recheck_transactions(&self, pending: &[Pending]) -> Result<Recheck, FetchError> {
        let mut recheck = Recheck::default();
        let mut attempts = 0u32;
        for record in pending {
            let path = format!("/v2/accounts/{}/transactions/{}", record.locator, record.external_id);
            let answer = match self.api.get(Endpoint::Transactions, &path, &[]) {
                Ok(answer) => answer,
                Err(FetchError::Api { status: 404, .. }) => {
                    recheck.requests += 1;
                    attempts += 1;
                    recheck.warnings.push(format!(
                        "{} is no longer in Coinbase's history (canceled before it completed): forgotten",
                        record.what
                    ));
                    recheck.settled.push((record.external_id.clone(), None));
                    continue;
                }
                Err(e) => return Err(e),
            };
            recheck.requests += 1;
            attempts += answer.attempts;
            let bad = |reason: String| {
                malformed(Endpoint::Transactions, format!("transaction {}: {reason}", record.external_id))
            };
            #[derive(Deserialize)]
            struct One<'a> {
                #[serde(borrow)]
                data: &'a RawValue,
            }
            let one: One = serde_json::from_slice(&answer.body).map_err(|e| bad(e.to_string()))?;
            let tx: Transaction = serde_json::from_str(one.data.get()).map_err(|e| bad(e.to_string()))?;
            if !tx.is_final() {
                continue;
            }
            let trade_id = tx.trade.as_ref().and_then(|t| t.id.clone()).filter(|_| tx.kind == "trade");
            let payload = match trade_id {
                Some(trade_id) => format!("{{\"trade\":{},\"transactions\":[{}]}}", quote(&trade_id), one.data.get()),
                None => one.data.get().to_owned(),
            };
            recheck.settled.push((record.external_id.clone(), Some(RawRecord { external_id: tx.id.clone(), payload })));
        }
        recheck.retries = attempts.saturating_sub(recheck.requests);
        recheck.requests = recheck.requests.max(attempts);
        Ok(recheck)
    }
}

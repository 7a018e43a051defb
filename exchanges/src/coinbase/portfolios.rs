//! Coinbase Advanced Trade portfolios: which ones the key sees, and which orders of the v2 wallet
//! rows have a v3 fill the key can see.
//!
//! An account may split its Advanced Trade activity into portfolios, and a CDP key is scoped to
//! one of them: "Each API key is scoped to specific portfolio and, unless otherwise noted, can
//! only view and create data that belongs to its own portfolio" ([`PORTFOLIOS_DOC`]). So the
//! adapter lists the portfolios (`GET /api/v3/brokerage/portfolios`), walks the fills of each
//! (`retail_portfolio_id`), and for each v2 `advanced_trade_fill` wallet row asks whether a v3
//! fill of its order is visible (`order_ids`): when none is, the row itself becomes the event
//! ([`super::normalize`]), so a trade of a portfolio the key cannot see is never dropped.

use std::collections::BTreeSet;

use serde::Deserialize;

use super::api::{CoinbaseApi, Endpoint, malformed};
use crate::http::FetchError;

/// Coinbase's guide saying a CDP key sees one portfolio.
pub const PORTFOLIOS_DOC: &str = "https://docs.cdp.coinbase.com/coinbase-app/advanced-trade-apis/guides/portfolios";

/// Order ids asked per fills request.
const ORDERS_AT_ONCE: usize = 50;

/// One Advanced Trade portfolio.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Portfolio {
    /// Its uuid (`retail_portfolio_id`).
    pub uuid: String,
    /// Its name as the user gave it.
    pub name: String,
}

/// The portfolios the key sees: its own, and the others.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Portfolios {
    /// The key's own portfolio (`key_permissions.portfolio_uuid`), when Coinbase says.
    pub own: Option<Portfolio>,
    /// The other portfolios listed to this key, not deleted, sorted by uuid.
    pub others: Vec<Portfolio>,
}

impl Portfolios {
    /// What `account check` should say about them.
    pub fn notes(&self) -> Vec<String> {
        let own = match &self.own {
            Some(p) => format!("portfolio {:?} ({})", p.name, p.uuid),
            None => "one portfolio".to_owned(),
        };
        if self.others.is_empty() {
            return vec![format!(
                "this Coinbase key sees the Advanced Trade fills of {own} only: Coinbase scopes each CDP key to one \
                 portfolio ({PORTFOLIOS_DOC}). If you trade in other portfolios, add a view-only key of each as \
                 another account; until then their trades are booked from the v2 wallet rows (no price or fee detail)"
            )];
        }
        let names: Vec<String> = self.others.iter().map(|p| format!("{:?} ({})", p.name, p.uuid)).collect();
        vec![format!(
            "this Coinbase key belongs to {own} and also lists {}; their Advanced Trade fills are fetched with \
             retail_portfolio_id. A portfolio whose fills Coinbase refuses to this key (a CDP key is scoped to one \
             portfolio: {PORTFOLIOS_DOC}) is named at each sync, and its trades are booked from the v2 wallet rows",
            names.join(", ")
        )]
    }
}

/// Lists the portfolios: the key's own from `key_permissions`, the others from
/// `GET /api/v3/brokerage/portfolios`.
pub fn list(api: &CoinbaseApi) -> Result<Portfolios, FetchError> {
    #[derive(Deserialize)]
    struct Key {
        #[serde(default)]
        portfolio_uuid: Option<String>,
    }
    #[derive(Deserialize)]
    struct Listed {
        #[serde(default)]
        portfolios: Vec<Entry>,
    }
    #[derive(Deserialize)]
    struct Entry {
        uuid: String,
        #[serde(default)]
        name: String,
        #[serde(default)]
        deleted: bool,
    }
    let answer = api.get(Endpoint::KeyPermissions, "/api/v3/brokerage/key_permissions", &[])?;
    let key: Key =
        serde_json::from_slice(&answer.body).map_err(|e| malformed(Endpoint::KeyPermissions, e.to_string()))?;
    let answer = api.get(Endpoint::Portfolios, "/api/v3/brokerage/portfolios", &[])?;
    let listed: Listed =
        serde_json::from_slice(&answer.body).map_err(|e| malformed(Endpoint::Portfolios, e.to_string()))?;
    let own_uuid = key.portfolio_uuid.filter(|uuid| !uuid.is_empty());
    let mut portfolios = Portfolios::default();
    for entry in listed.portfolios.into_iter().filter(|p| !p.deleted && !p.uuid.is_empty()) {
        let portfolio = Portfolio { uuid: entry.uuid, name: entry.name };
        if own_uuid.as_deref() == Some(portfolio.uuid.as_str()) {
            portfolios.own = Some(portfolio);
        } else if own_uuid.is_some() {
            portfolios.others.push(portfolio);
        }
    }
    if portfolios.own.is_none() {
        portfolios.own = own_uuid.map(|uuid| Portfolio { name: String::new(), uuid });
    }
    portfolios.others.sort();
    Ok(portfolios)
}

/// Of `orders`, those with a v3 fill in the key's portfolio or one of `others`; a portfolio whose
/// fills Coinbase refuses to the key is skipped. Returns them with the requests it took.
pub fn orders_with_fills(
    api: &CoinbaseApi,
    others: &[Portfolio],
    orders: &BTreeSet<String>,
) -> Result<(BTreeSet<String>, u32, u32), FetchError> {
    #[derive(Deserialize)]
    struct Fills {
        #[serde(default)]
        fills: Vec<Fill>,
        #[serde(default)]
        cursor: Option<String>,
    }
    #[derive(Deserialize)]
    struct Fill {
        #[serde(default)]
        order_id: String,
    }
    let (mut found, mut requests, mut attempts) = (BTreeSet::new(), 0u32, 0u32);
    let orders: Vec<&String> = orders.iter().collect();
    let scopes = std::iter::once(None).chain(others.iter().map(Some));
    for portfolio in scopes {
        'chunks: for chunk in orders.chunks(ORDERS_AT_ONCE) {
            let mut cursor: Option<String> = None;
            loop {
                let mut params = vec![("limit".to_owned(), "250".to_owned())];
                params.extend(chunk.iter().map(|id| ("order_ids".to_owned(), (*id).clone())));
                if let Some(portfolio) = portfolio {
                    params.push(("retail_portfolio_id".to_owned(), portfolio.uuid.clone()));
                }
                if let Some(next) = &cursor {
                    params.push(("cursor".to_owned(), next.clone()));
                }
                let answer = match api.get(Endpoint::Fills, "/api/v3/brokerage/orders/historical/fills", &params) {
                    Ok(answer) => answer,
                    Err(FetchError::Auth { .. }) if portfolio.is_some() => break 'chunks,
                    Err(e) => return Err(e),
                };
                requests += 1;
                attempts += answer.attempts;
                let page: Fills =
                    serde_json::from_slice(&answer.body).map_err(|e| malformed(Endpoint::Fills, e.to_string()))?;
                let empty = page.fills.is_empty();
                found.extend(page.fills.into_iter().map(|f| f.order_id));
                match page.cursor.filter(|c| !c.is_empty() && !empty) {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
        }
    }
    Ok((found, requests, attempts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_cite_coinbases_portfolio_scope_and_name_the_portfolios() {
        let own = Portfolio { uuid: "p1".into(), name: "Default".into() };
        let alone = Portfolios { own: Some(own.clone()), others: Vec::new() };
        let note = alone.notes().join(" ");
        assert!(note.contains(PORTFOLIOS_DOC) && note.contains("\"Default\" (p1)"), "{note}");
        let two = Portfolios { own: Some(own), others: vec![Portfolio { uuid: "p2".into(), name: "Bot".into() }] };
        let note = two.notes().join(" ");
        assert!(note.contains("\"Bot\" (p2)") && note.contains("retail_portfolio_id"), "{note}");
    }
}

//! The simulator's account APIs: App v2 (`/v2/accounts`, `/v2/accounts/{id}/transactions`) and
//! Advanced Trade v3 (`/api/v3/brokerage/key_permissions`, `/orders/historical/fills`).
//!
//! Every request must carry `Authorization: Bearer <jwt>` signed by the simulator's key, checked
//! as Coinbase's CDP key authentication does: the signature with the key's public key (ES256 raw `r‖s` or
//! EdDSA), `alg`, `kid` and `sub` = the key name, `iss` `cdp` (or `coinbase-cloud`),
//! `nbf ≤ now ≤ exp`, `exp − nbf ≤ 120`, and `uri` (or one of `uris`) = `GET <Host header><path>`
//! without the query; anything else is `401 Unauthorized` in plain text.
//!
//! v2 pages (§4): `limit` 1–100 (default 25), `order` `desc` (default) or `asc`, `starting_after`
//! / `ending_before` ids; `pagination.next_uri` repeats the current parameters with
//! `starting_after` = the page's last id, null on the last page. With short pages on, a page
//! now and then holds fewer items than asked though more follow. v3 fills: newest first,
//! `limit` (default 50, at most 250), an opaque `cursor` (the last entry served, so fills added
//! meanwhile shift nothing), `start_sequence_timestamp` (fills after it). Errors are Coinbase's:
//! v2 `{"errors":[{"id","message"}]}`, v3 `{"error","error_details","message"}`.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use serde_json::value::RawValue;

use super::Portfolios;
use super::history::Generator;
use crate::coinbase::auth::{JWT_LIFETIME_SECONDS, PublicKey};
use crate::sim::json::{self, Ordered};
use crate::sim::server::{Request, Response};

/// The v2 error answer.
pub fn v2_error(status: u16, id: &str, message: &str) -> Response {
    Response::json_value(status, &json!({ "errors": [{ "id": id, "message": message }] }))
}

/// The v3 error answer.
pub fn v3_error(status: u16, code: &str, message: &str) -> Response {
    Response::json_value(status, &json!({ "error": code, "error_details": message, "message": message }))
}

/// `401 Unauthorized`, as Coinbase answers a bad token.
pub fn unauthorized() -> Response {
    Response::text(401, "Unauthorized")
}

/// Whether `path` belongs to the account APIs.
pub fn is_account_path(path: &str) -> bool {
    path.starts_with("/v2/") || path.starts_with("/api/v3/brokerage/")
}

/// Whether `path` is an Advanced Trade (v3) call.
pub fn is_v3(path: &str) -> bool {
    path.starts_with("/api/v3/")
}

/// Checks the request's JWT against the key named `key_name` with `public`, at `now_s`.
pub fn authenticate(request: &Request, key_name: &str, public: &PublicKey, now_s: i64) -> Result<(), &'static str> {
    let token =
        request.header("Authorization").and_then(|h| h.strip_prefix("Bearer ")).ok_or("no bearer token")?.trim();
    let mut parts = token.split('.');
    let (Some(header), Some(claims), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("not a JWS");
    };
    let decode = |part: &str| -> Result<serde_json::Value, &'static str> {
        let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| "not base64url")?;
        serde_json::from_slice(&bytes).map_err(|_| "not JSON")
    };
    let (header_json, claims_json) = (decode(header)?, decode(claims)?);
    let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| "signature not base64url")?;
    if header_json["alg"].as_str() != Some(public.algorithm().jwt_alg())
        || header_json["kid"].as_str() != Some(key_name)
    {
        return Err("alg or kid");
    }
    if !public.verify(format!("{header}.{claims}").as_bytes(), &signature) {
        return Err("signature");
    }
    if claims_json["sub"].as_str() != Some(key_name)
        || !matches!(claims_json["iss"].as_str(), Some("cdp" | "coinbase-cloud"))
    {
        return Err("sub or iss");
    }
    let (Some(nbf), Some(exp)) = (claims_json["nbf"].as_i64(), claims_json["exp"].as_i64()) else {
        return Err("nbf or exp");
    };
    if !(nbf <= now_s && now_s <= exp && exp - nbf <= JWT_LIFETIME_SECONDS) {
        return Err("expired or not yet valid");
    }
    let host = request.header("Host").unwrap_or_default().to_ascii_lowercase();
    let expected = format!("{} {host}{}", request.method.to_ascii_uppercase(), request.path);
    let uri_ok = claims_json["uri"].as_str() == Some(expected.as_str())
        || claims_json["uris"]
            .as_array()
            .is_some_and(|uris| uris.iter().any(|u| u.as_str() == Some(expected.as_str())));
    if !uri_ok {
        return Err("uri");
    }
    Ok(())
}

/// Decoded query parameters.
pub fn params(query: &str) -> BTreeMap<String, String> {
    crate::coinbase::api::split_uri(&format!("?{query}")).1.into_iter().collect()
}

/// The uuid of the key's own portfolio.
pub const KEY_PORTFOLIO: &str = "cointally-sim-portfolio";
/// The uuid of the second portfolio, when the account has one.
pub const OTHER_PORTFOLIO: &str = "cointally-sim-portfolio-2";

/// The served account: the generator and indexes into it.
pub struct Book {
    /// The generated account.
    pub generator: Generator,
    /// The second portfolio, if any, and what the key sees of it.
    portfolios: Portfolios,
    /// Per fill (as `generator.fills`), whether it was made in the second portfolio.
    fill_in_other: Vec<bool>,
    /// Per wallet, its transactions (indexes into `generator.txs`) in time order.
    wallet_txs: Vec<Vec<usize>>,
    /// Transaction id → (wallet, position in `wallet_txs`).
    positions: BTreeMap<String, (usize, usize)>,
    /// Fill entry id → position in `generator.fills`.
    fill_positions: BTreeMap<String, usize>,
    indexed_txs: usize,
}

impl Book {
    /// The book of `generator`.
    pub fn new(generator: Generator, portfolios: Portfolios) -> Book {
        let wallets = generator.wallets.len();
        let mut book = Book {
            generator,
            portfolios,
            fill_in_other: Vec::new(),
            wallet_txs: vec![Vec::new(); wallets],
            positions: BTreeMap::new(),
            fill_positions: BTreeMap::new(),
            indexed_txs: 0,
        };
        book.index();
        book
    }

    /// Indexes what was added since the last call.
    pub fn index(&mut self) {
        for index in self.indexed_txs..self.generator.txs.len() {
            let tx = &self.generator.txs[index];
            let list = &mut self.wallet_txs[tx.wallet];
            self.positions.insert(tx.id.clone(), (tx.wallet, list.len()));
            list.push(index);
        }
        self.indexed_txs = self.generator.txs.len();
        for (position, fill) in self.generator.fills.iter_mut().enumerate().skip(self.fill_positions.len()) {
            self.fill_positions.insert(fill.entry_id.clone(), position);
            let share = u64::from(self.portfolios.other_share_percent);
            let other = fnv(&fill.trade_id) % 100 < share;
            if other {
                let moved = fill.json.get().replace(
                    &format!("\"retail_portfolio_id\":\"{KEY_PORTFOLIO}\""),
                    &format!("\"retail_portfolio_id\":\"{OTHER_PORTFOLIO}\""),
                );
                if let Ok(json) = RawValue::from_string(moved) {
                    fill.json = json;
                }
            }
            self.fill_in_other.push(other);
        }
    }

    /// `GET /v2/accounts`.
    pub fn accounts(&self, query: &str, short_pages: bool) -> Response {
        let items: Vec<(String, Box<RawValue>)> = self
            .generator
            .wallets
            .iter()
            .map(|w| {
                let wallet = json!({
                    "id": w.id,
                    "name": w.name,
                    "primary": w.currency == "BTC",
                    "type": w.kind,
                    "currency": {
                        "code": w.currency,
                        "name": w.currency,
                        "type": if w.kind == "fiat" { "fiat" } else { "crypto" },
                    },
                    "balance": { "amount": amount_text(w.balance, &w.currency), "currency": w.currency },
                    "created_at": "2023-01-01T00:00:00Z",
                    "updated_at": "2023-01-01T00:00:00Z",
                    "resource": "account",
                    "resource_path": format!("/v2/accounts/{}", w.id),
                    "allow_deposits": true,
                    "allow_withdrawals": true,
                });
                (w.id.clone(), json::render(&wallet))
            })
            .collect();
        v2_page("/v2/accounts", &items, query, short_pages)
    }

    /// `GET /v2/accounts/{id}/transactions` (the id may be the wallet's currency code).
    pub fn transactions(&self, wallet: &str, query: &str, short_pages: bool) -> Response {
        let wallets = &self.generator.wallets;
        let Some(index) = wallets
            .iter()
            .position(|w| w.id == wallet)
            .or_else(|| wallets.iter().position(|w| w.currency == wallet && w.kind != "vault"))
        else {
            return v2_error(404, "not_found", "Not found");
        };
        let items: Vec<(String, Box<RawValue>)> = self.wallet_txs[index]
            .iter()
            .map(|&i| (self.generator.txs[i].id.clone(), self.generator.txs[i].json.clone()))
            .collect();
        v2_page(&format!("/v2/accounts/{wallet}/transactions"), &items, query, short_pages)
    }

    /// `GET /v2/accounts/{wallet}/transactions/{id}`: one transaction, `{"data": …}`.
    pub fn transaction(&self, wallet: &str, id: &str) -> Response {
        let found = self.positions.get(id).and_then(|&(index, position)| {
            let w = self.generator.wallets.get(index)?;
            (w.id == wallet || (w.currency == wallet && w.kind != "vault")).then_some(position)?;
            self.wallet_txs[index].get(position).map(|&i| &self.generator.txs[i])
        });
        match found {
            Some(tx) => Response::json_value(200, &Ordered(vec![("data", tx.json.clone())])),
            None => v2_error(404, "not_found", "Not found"),
        }
    }

    /// `GET /api/v3/brokerage/portfolios`: the key's portfolio, and the second one unless the
    /// key is scoped to its own.
    pub fn portfolios(&self) -> Response {
        let mut portfolios =
            vec![json!({ "name": "Default", "uuid": KEY_PORTFOLIO, "type": "DEFAULT", "deleted": false })];
        if self.portfolios.other_share_percent > 0 && !self.portfolios.scoped_key {
            portfolios
                .push(json!({ "name": "Trading bot", "uuid": OTHER_PORTFOLIO, "type": "CONSUMER", "deleted": false }));
        }
        Response::json_value(200, &json!({ "portfolios": portfolios }))
    }

    /// `GET /api/v3/brokerage/orders/historical/fills`: the fills of one portfolio
    /// (`retail_portfolio_id`, the key's by default), of some orders only (`order_ids`, repeated).
    pub fn fills(&self, query: &str) -> Response {
        let params = params(query);
        let orders: std::collections::BTreeSet<String> = crate::coinbase::api::split_uri(&format!("?{query}"))
            .1
            .into_iter()
            .filter(|(name, _)| name == "order_ids" || name == "order_ids[]")
            .map(|(_, value)| value)
            .collect();
        let other = match params.get("retail_portfolio_id").map(String::as_str) {
            None | Some(KEY_PORTFOLIO) => false,
            Some(OTHER_PORTFOLIO) if self.portfolios.other_share_percent > 0 => {
                if self.portfolios.scoped_key {
                    return v3_error(403, "PERMISSION_DENIED", "the key is not scoped to this portfolio");
                }
                true
            }
            Some(_) => return v3_error(404, "NOT_FOUND", "portfolio not found"),
        };
        let wanted = |position: usize| {
            self.fill_in_other.get(position).copied().unwrap_or(false) == other
                && (orders.is_empty()
                    || fill_order(&self.generator.fills[position].json).is_some_and(|o| orders.contains(&o)))
        };
        let limit = match params.get("limit").map(|l| l.parse::<usize>()) {
            None => 50,
            Some(Ok(limit)) if (1..=250).contains(&limit) => limit,
            Some(_) => return v3_error(400, "INVALID_ARGUMENT", "limit must be between 1 and 250"),
        };
        let floor_ms = match params.get("start_sequence_timestamp") {
            None => None,
            Some(text) => match crate::time::parse_utc(text) {
                Ok(time) => Some(time.timestamp_millis()),
                Err(_) => return v3_error(400, "INVALID_ARGUMENT", "start_sequence_timestamp is not RFC 3339"),
            },
        };
        let fills = &self.generator.fills;
        // Newest first: positions below `end` (exclusive), walking down.
        let end = match params.get("cursor").filter(|c| !c.is_empty()) {
            None => fills.len(),
            Some(cursor) => match self.fill_positions.get(cursor) {
                Some(&position) => position,
                None => return v3_error(400, "INVALID_ARGUMENT", "invalid cursor"),
            },
        };
        let mut served = Vec::new();
        let mut last = None;
        let mut more = false;
        for position in (0..end).rev() {
            let fill = &fills[position];
            if floor_ms.is_some_and(|floor| fill.time_ms <= floor) {
                break;
            }
            if !wanted(position) {
                continue;
            }
            if served.len() == limit {
                more = true;
                break;
            }
            served.push(&*fill.json);
            last = Some(position);
        }
        let cursor = if more { last.map(|p| fills[p].entry_id.clone()).unwrap_or_default() } else { String::new() };
        Response::json_value(200, &Ordered(vec![("fills", json::render(&served)), ("cursor", json::render(&cursor))]))
    }
}

/// FNV-1a of `text`: a stable choice from an id, the same on every platform.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3))
}

/// The `order_id` of a fill's JSON.
fn fill_order(json: &RawValue) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Order {
        order_id: String,
    }
    serde_json::from_str::<Order>(json.get()).ok().map(|o| o.order_id)
}

fn amount_text(amount: rust_decimal::Decimal, currency: &str) -> String {
    crate::sim::amounts::fixed(amount, if crate::asset::is_fiat(currency) { 2 } else { 8 })
}

/// A v2 list page over `items` (id, JSON) in ascending time order, per the query.
fn v2_page(path: &str, items: &[(String, Box<RawValue>)], query: &str, short_pages: bool) -> Response {
    let params = params(query);
    let limit = match params.get("limit").map(|l| l.parse::<usize>()) {
        None => 25,
        Some(Ok(limit)) if (1..=100).contains(&limit) => limit,
        Some(_) => return v2_error(400, "invalid_request", "limit must be between 1 and 100"),
    };
    let asc = match params.get("order").map(String::as_str) {
        None | Some("desc") => false,
        Some("asc") => true,
        Some(_) => return v2_error(400, "invalid_request", "order must be asc or desc"),
    };
    let ordered: Vec<&(String, Box<RawValue>)> =
        if asc { items.iter().collect() } else { items.iter().rev().collect() };
    let position = |id: &str| ordered.iter().position(|(item, _)| item == id);
    let mut start = 0;
    let mut stop = ordered.len();
    if let Some(after) = params.get("starting_after") {
        match position(after) {
            Some(p) => start = p + 1,
            None => return v2_error(400, "invalid_request", "starting_after is not an id of this list"),
        }
    }
    if let Some(before) = params.get("ending_before") {
        match position(before) {
            Some(p) => stop = p,
            None => return v2_error(400, "invalid_request", "ending_before is not an id of this list"),
        }
    }
    let mut take = limit;
    // Now and then a short page, as Coinbase's permission filtering gives (never an empty one).
    if short_pages && limit > 3 && start % 7 == 3 {
        take = limit - 3;
    }
    let end = (start + take).min(stop.max(start));
    let page = &ordered[start.min(end)..end];
    let next_uri = if end < stop {
        let mut query = format!("limit={limit}&order={}", if asc { "asc" } else { "desc" });
        if let Some(before) = params.get("ending_before") {
            query.push_str(&format!("&ending_before={before}"));
        }
        let last = page.last().map(|(id, _)| id.as_str()).unwrap_or_default();
        Some(format!("{path}?{query}&starting_after={last}"))
    } else {
        None
    };
    let data: Vec<&RawValue> = page.iter().map(|(_, json)| &**json).collect();
    let pagination = json!({
        "ending_before": null,
        "starting_after": params.get("starting_after"),
        "limit": limit,
        "order": if asc { "asc" } else { "desc" },
        "previous_uri": null,
        "next_uri": next_uri,
    });
    Response::json_value(200, &Ordered(vec![("pagination", json::render(&pagination)), ("data", json::render(&data))]))
}

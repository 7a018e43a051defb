//! The simulator's endpoints: their parameters, checks, errors and answers as Binance's spot API docs
//! (<https://developers.binance.com/docs/binance-spot-api-docs>) describe them.

use std::collections::BTreeSet;

use rust_decimal::Decimal;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::limits::BucketId;
use super::store::{Row, Store, in_window, pad8};
use crate::http::decode_pairs;
use crate::sim::generate::{DAY_MS, Market, Pair};
use crate::sim::json::{self, Ordered};

const HOUR_MS: i64 = 3_600_000;

/// A Binance error answer: HTTP status, code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub http: u16,
    /// Binance's negative code.
    pub code: i64,
    /// Message.
    pub msg: String,
}

impl ApiError {
    /// An error with HTTP 400.
    pub fn bad(code: i64, msg: impl Into<String>) -> ApiError {
        ApiError { http: 400, code, msg: msg.into() }
    }

    /// `-1102` for a missing or malformed mandatory parameter.
    pub fn mandatory(name: &str) -> ApiError {
        ApiError::bad(-1102, format!("Mandatory parameter '{name}' was not sent, was empty/null, or malformed."))
    }

    /// `-1100` for a parameter that is not a number.
    fn illegal(name: &str) -> ApiError {
        ApiError::bad(
            -1100,
            format!("Illegal characters found in parameter '{name}'; legal range is '^[0-9]{{1,20}}$'."),
        )
    }

    /// `-1127` for a time span that is too long.
    fn span(limit: &str) -> ApiError {
        ApiError::bad(-1127, format!("More than {limit} between startTime and endTime."))
    }

    /// The JSON body.
    pub fn body(&self) -> String {
        json::text(&Ordered(vec![("code", json!(self.code)), ("msg", json!(self.msg))]))
    }
}

/// Decoded request parameters, in the order sent.
#[derive(Debug, Clone, Default)]
pub struct Params {
    /// Name → value pairs (percent-decoded).
    pub pairs: Vec<(String, String)>,
}

impl Params {
    /// Parses a raw query string or form body; a repeated name is `-1101`.
    pub fn parse(raw: &[&str]) -> Result<Params, ApiError> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for text in raw {
            for (name, value) in decode_pairs(text) {
                if pairs.iter().any(|(seen, _)| *seen == name) {
                    return Err(ApiError::bad(-1101, "Duplicate values for a parameter detected."));
                }
                pairs.push((name, value));
            }
        }
        Ok(Params { pairs })
    }

    /// Parses leniently (first value wins), to price a request before checking it.
    pub fn lenient(raw: &str) -> Params {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (name, value) in decode_pairs(raw) {
            if !pairs.iter().any(|(seen, _)| *seen == name) {
                pairs.push((name, value));
            }
        }
        Params { pairs }
    }

    /// The value of a parameter, if sent and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .filter(|value| !value.is_empty())
    }

    /// Whether a parameter was sent.
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// An integer parameter (`-1100` when not a number).
    pub fn int(&self, name: &str) -> Result<Option<i64>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(text) => text.parse::<i64>().map(Some).map_err(|_| ApiError::illegal(name)),
        }
    }

    /// A time parameter in ms (values in µs are accepted and converted).
    pub fn time(&self, name: &str) -> Result<Option<i64>, ApiError> {
        Ok(self.int(name)?.map(|value| if value > 100_000_000_000_000 { value / 1000 } else { value }))
    }

    /// A page-size parameter: default when absent, capped at `max`, at least 1.
    fn size(&self, name: &str, default: i64, max: i64) -> Result<usize, ApiError> {
        let value = self.int(name)?.unwrap_or(default);
        if value < 1 {
            return Err(ApiError::bad(
                -1100,
                format!("Illegal characters found in parameter '{name}'; legal range is '1-{max}'."),
            ));
        }
        Ok(usize::try_from(value.min(max)).unwrap_or(1))
    }
}

/// One endpoint: path, whether signed, the parameters it reads, and its answer.
pub struct Endpoint {
    /// Path.
    pub path: &'static str,
    /// Whether it needs a key and a signature.
    pub signed: bool,
    /// Parameters it reads (besides recvWindow/timestamp/signature on signed ones).
    pub params: &'static [&'static str],
    /// Its cost.
    pub cost: fn(&Params) -> Vec<(BucketId, u64)>,
    /// Its answer.
    pub answer: fn(&Context<'_>, &Params) -> Result<String, ApiError>,
}

/// What an endpoint needs to answer.
pub struct Context<'a> {
    /// The rendered records.
    pub store: &'a Store,
    /// The market (symbols, prices).
    pub market: &'a Market,
    /// Server time (ms).
    pub now_ms: i64,
    /// The `rateLimits` array of exchangeInfo.
    pub rate_limits: &'a Value,
    /// The apiRestrictions answer.
    pub restrictions: &'a str,
    /// Symbols removed from exchangeInfo altogether (they answer `-1121`).
    pub removed: &'a BTreeSet<String>,
}

fn api(weight: u64) -> Vec<(BucketId, u64)> {
    vec![(BucketId::Api, weight)]
}

/// Every endpoint the simulator serves.
pub const ENDPOINTS: &[Endpoint] = &[
    Endpoint { path: "/api/v3/time", signed: false, params: &[], cost: |_| api(1), answer: time },
    Endpoint {
        path: "/api/v3/exchangeInfo",
        signed: false,
        params: &["symbol", "symbols", "permissions", "showPermissionSets", "symbolStatus"],
        cost: |_| api(20),
        answer: exchange_info,
    },
    Endpoint {
        path: "/api/v3/klines",
        signed: false,
        params: &["symbol", "interval", "startTime", "endTime", "timeZone", "limit"],
        cost: |_| api(2),
        answer: klines,
    },
    Endpoint {
        path: "/api/v3/account",
        signed: true,
        params: &["omitZeroBalances"],
        cost: |_| api(20),
        answer: account,
    },
    Endpoint {
        path: "/api/v3/myTrades",
        signed: true,
        params: &["symbol", "orderId", "startTime", "endTime", "fromId", "limit"],
        cost: |params| api(if params.has("orderId") { 5 } else { 20 }),
        answer: my_trades,
    },
    Endpoint {
        path: "/sapi/v1/account/apiRestrictions",
        signed: true,
        params: &[],
        cost: |_| vec![(BucketId::SapiIp, 1)],
        answer: |context, _| Ok(context.restrictions.to_owned()),
    },
    Endpoint {
        path: "/sapi/v1/capital/deposit/hisrec",
        signed: true,
        params: &["includeSource", "coin", "status", "startTime", "endTime", "offset", "limit", "txId"],
        cost: |_| vec![(BucketId::SapiIp, 1)],
        answer: deposits,
    },
    Endpoint {
        path: "/sapi/v1/capital/withdraw/history",
        signed: true,
        params: &["coin", "withdrawOrderId", "status", "offset", "limit", "idList", "startTime", "endTime"],
        cost: |_| vec![(BucketId::SapiUid1s, 18_000)],
        answer: withdrawals,
    },
    Endpoint {
        path: "/sapi/v1/fiat/orders",
        signed: true,
        params: &["transactionType", "beginTime", "endTime", "page", "rows"],
        cost: |_| vec![(BucketId::SapiUid, 90_000)],
        answer: |context, params| fiat(&context.store.fiat_orders, context, params),
    },
    Endpoint {
        path: "/sapi/v1/fiat/payments",
        signed: true,
        params: &["transactionType", "beginTime", "endTime", "page", "rows"],
        cost: |_| vec![(BucketId::SapiIp, 1)],
        answer: |context, params| fiat(&context.store.fiat_payments, context, params),
    },
    Endpoint {
        path: "/sapi/v1/convert/tradeFlow",
        signed: true,
        params: &["startTime", "endTime", "limit"],
        cost: |_| vec![(BucketId::SapiUid, 3_000)],
        answer: convert,
    },
    Endpoint {
        path: "/sapi/v1/asset/dribblet",
        signed: true,
        params: &["startTime", "endTime"],
        cost: |_| vec![(BucketId::SapiIp, 1)],
        answer: dust,
    },
    Endpoint {
        path: "/sapi/v1/asset/assetDividend",
        signed: true,
        params: &["asset", "startTime", "endTime", "limit"],
        cost: |_| vec![(BucketId::SapiIp, 10)],
        answer: dividends,
    },
    Endpoint {
        path: "/sapi/v1/simple-earn/flexible/history/rewardsRecord",
        signed: true,
        params: &["productId", "asset", "startTime", "endTime", "type", "current", "size"],
        cost: |_| vec![(BucketId::SapiIp, 150)],
        answer: |context, params| earn(&context.store.earn_flexible, true, context, params),
    },
    Endpoint {
        path: "/sapi/v1/simple-earn/locked/history/rewardsRecord",
        signed: true,
        params: &["positionId", "asset", "startTime", "endTime", "current", "size"],
        cost: |_| vec![(BucketId::SapiIp, 150)],
        answer: |context, params| earn(&context.store.earn_locked, false, context, params),
    },
    // Binance.US's own history (served only by a venue that walks it; shapes in
    // `binanceus::api`'s documentation, most of them not verified against docs.binance.us).
    Endpoint {
        path: "/sapi/v1/fiatpayment/query/deposit/history",
        signed: true,
        params: &["fiatCurrency", "orderId", "offset", "paymentChannel", "paymentMethod", "startTime", "endTime"],
        cost: |_| vec![(BucketId::SapiIp, 1)],
        answer: |context, params| us_fiat("fiatDepositHistory", context, params),
    },
    Endpoint {
        path: "/sapi/v1/fiatpayment/query/withdraw/history",
        signed: true,
        params: &["fiatCurrency", "orderId", "offset", "paymentChannel", "paymentMethod", "startTime", "endTime"],
        cost: |_| vec![(BucketId::SapiIp, 1)],
        answer: |context, params| us_fiat("fiatWithdrawHistory", context, params),
    },
    Endpoint {
        path: "/sapi/v1/staking/stakingRewardsHistory",
        signed: true,
        params: &["asset", "startTime", "endTime", "page", "limit"],
        cost: |_| vec![(BucketId::SapiIp, 1)],
        answer: us_staking_rewards,
    },
    Endpoint {
        path: "/sapi/v1/asset/assetDistributionHistory",
        signed: true,
        params: &["asset", "category", "startTime", "endTime", "limit"],
        cost: |_| vec![(BucketId::SapiIp, 1)],
        answer: us_distributions,
    },
    Endpoint {
        path: "/sapi/v1/asset/query/dust-logs",
        signed: true,
        params: &["startTime", "endTime"],
        cost: |_| vec![(BucketId::SapiIp, 1)],
        answer: us_dust,
    },
    Endpoint {
        path: "/sapi/v1/otc/orders",
        signed: true,
        params: &["orderId", "fromCoin", "toCoin", "startTime", "endTime", "page", "limit"],
        cost: |_| vec![(BucketId::SapiIp, 1)],
        answer: us_otc,
    },
];

/// How many records one Binance.US fiat history answer holds (its docs name no page size;
/// the simulator picks a small one so that `offset` paging is exercised).
pub const US_FIAT_PAGE: usize = 50;

/// A window with optional ends: `[start, end]`, defaulting to the last `span` before now.
fn optional_window(context: &Context<'_>, params: &Params, span: i64) -> Result<(i64, i64), ApiError> {
    Ok(match (params.time("startTime")?, params.time("endTime")?) {
        (Some(start), Some(end)) => (start, end),
        (Some(start), None) => (start, context.now_ms),
        (None, Some(end)) => (end - span, end),
        (None, None) => (context.now_ms - span, context.now_ms),
    })
}

/// A page number (from 1) and a page size.
fn page_of(params: &Params, default: i64, max: i64) -> Result<(usize, usize), ApiError> {
    let page = usize::try_from(params.int("page")?.unwrap_or(1).max(1)).unwrap_or(1);
    Ok((page, params.size("limit", default, max)?))
}

/// Binance.US's USD deposit or withdraw history: less than 90 days, `offset` paging, newest first.
fn us_fiat(stream: &str, context: &Context<'_>, params: &Params) -> Result<String, ApiError> {
    let (start, end) = optional_window(context, params, 90 * DAY_MS)?;
    if end - start >= 90 * DAY_MS || end <= start {
        return Err(ApiError::span("90 days"));
    }
    let offset = usize::try_from(params.int("offset")?.unwrap_or(0).max(0)).unwrap_or(0);
    let (currency, order) = (params.get("fiatCurrency"), params.get("orderId"));
    let rows = in_window(context.store.venue(stream), start, end)
        .iter()
        .filter(|row| currency.is_none_or(|c| row.asset == c) && order.is_none_or(|o| row.key == o));
    let page = newest_first_page(rows.collect::<Vec<_>>().into_iter(), offset, US_FIAT_PAGE);
    Ok(json::text(&Ordered(vec![("assetLogRecordList", json::render(&page))])))
}

/// Binance.US's staking rewards: `page`/`limit` (at most 500), newest first, in the
/// `code`/`message`/`data`/`total`/`success` envelope.
fn us_staking_rewards(context: &Context<'_>, params: &Params) -> Result<String, ApiError> {
    let (start, end) = optional_window(context, params, 30 * DAY_MS)?;
    let (page, limit) = page_of(params, 500, 500)?;
    let asset = params.get("asset");
    let rows: Vec<&Row> = in_window(context.store.venue("stakingRewards"), start, end)
        .iter()
        .filter(|row| asset.is_none_or(|asset| row.asset == asset))
        .collect();
    let total = rows.len();
    let data = newest_first_page(rows.into_iter(), (page - 1) * limit, limit);
    Ok(json::text(&Ordered(vec![
        ("code", json::render(&"000000")),
        ("message", json::render(&"success")),
        ("data", json::render(&data)),
        ("total", json::render(&total)),
        ("success", json::render(&true)),
    ])))
}

/// Binance.US's distributions: the newest `limit` (at most 500) of the window, with its total.
fn us_distributions(context: &Context<'_>, params: &Params) -> Result<String, ApiError> {
    let (start, end) = optional_window(context, params, 90 * DAY_MS)?;
    let limit = params.size("limit", 20, 500)?;
    let (asset, category) = (params.get("asset"), params.get("category"));
    let rows: Vec<&Row> = in_window(context.store.venue("distributions"), start, end)
        .iter()
        .filter(|row| asset.is_none_or(|asset| row.asset == asset) && category.is_none_or(|c| row.status == c))
        .collect();
    let total = rows.len();
    let page = newest_first_page(rows.into_iter(), 0, limit);
    Ok(json::text(&Ordered(vec![("rows", json::render(&page)), ("total", json::render(&total))])))
}

/// Binance.US's dust log: the latest 100 conversions of the window.
fn us_dust(context: &Context<'_>, params: &Params) -> Result<String, ApiError> {
    let start = params.time("startTime")?.unwrap_or(i64::MIN);
    let end = params.time("endTime")?.unwrap_or(i64::MAX);
    let window = in_window(context.store.venue("dustLogs"), start, end);
    let last = &window[window.len().saturating_sub(100)..];
    let list: Vec<&RawValue> = last.iter().map(|row| &*row.json).collect();
    Ok(json::text(&Ordered(vec![
        ("total", json::render(&last.len())),
        ("userDustConvertHistory", json::render(&list)),
    ])))
}

/// Binance.US's OTC orders: `page`/`limit` (default 10, at most 100), newest first.
fn us_otc(context: &Context<'_>, params: &Params) -> Result<String, ApiError> {
    let (start, end) = optional_window(context, params, 30 * DAY_MS)?;
    let (page, limit) = page_of(params, 10, 100)?;
    let (from, to, order) = (params.get("fromCoin"), params.get("toCoin"), params.get("orderId"));
    let rows: Vec<&Row> = in_window(context.store.venue("otcOrders"), start, end)
        .iter()
        .filter(|row| {
            from.is_none_or(|f| row.asset == f)
                && to.is_none_or(|t| row.status == t)
                && order.is_none_or(|o| row.key == o)
        })
        .collect();
    let total = rows.len();
    let data = newest_first_page(rows.into_iter(), (page - 1) * limit, limit);
    Ok(json::text(&Ordered(vec![("total", json::render(&total)), ("rows", json::render(&data))])))
}

/// The endpoint at `path`.
pub fn endpoint(path: &str) -> Option<&'static Endpoint> {
    ENDPOINTS.iter().find(|endpoint| endpoint.path == path)
}

/// `-1104` when a `/api/v3` request carries a parameter the endpoint does not read.
pub fn check_unread(endpoint: &Endpoint, params: &Params) -> Result<(), ApiError> {
    if !endpoint.path.starts_with("/api/") {
        return Ok(());
    }
    let known = |name: &str| {
        endpoint.params.contains(&name) || (endpoint.signed && matches!(name, "recvWindow" | "timestamp" | "signature"))
    };
    let read = params.pairs.iter().filter(|(name, _)| known(name)).count();
    if read < params.pairs.len() {
        return Err(ApiError::bad(
            -1104,
            format!(
                "Not all sent parameters were read; read '{read}' parameter(s) but was sent '{}'.",
                params.pairs.len()
            ),
        ));
    }
    Ok(())
}

fn time(context: &Context<'_>, _: &Params) -> Result<String, ApiError> {
    Ok(json::text(&json!({ "serverTime": context.now_ms })))
}

fn symbol_status(pair: &Pair, now_ms: i64) -> &'static str {
    if pair.open_at(now_ms) { "TRADING" } else { "BREAK" }
}

fn symbol_json(pair: &Pair, now_ms: i64) -> Value {
    let status = symbol_status(pair, now_ms);
    let tick = pad8(Decimal::new(1, pair.price_dp));
    let step = pad8(Decimal::new(1, pair.qty_dp));
    json!({
        "symbol": pair.symbol,
        "status": status,
        "baseAsset": pair.base,
        "baseAssetPrecision": 8,
        "quoteAsset": pair.quote,
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8,
        "quoteCommissionPrecision": 8,
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
        "icebergAllowed": true,
        "ocoAllowed": true,
        "otoAllowed": true,
        "quoteOrderQtyMarketAllowed": true,
        "allowTrailingStop": true,
        "cancelReplaceAllowed": true,
        "isSpotTradingAllowed": status == "TRADING",
        "isMarginTradingAllowed": false,
        "filters": [
            { "filterType": "PRICE_FILTER", "minPrice": tick, "maxPrice": "1000000.00000000", "tickSize": tick },
            { "filterType": "LOT_SIZE", "minQty": step, "maxQty": "9000000.00000000", "stepSize": step },
        ],
        "permissions": [],
        "permissionSets": [["SPOT"]],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
    })
}

fn exchange_info(context: &Context<'_>, params: &Params) -> Result<String, ApiError> {
    let pairs: Vec<Pair> =
        context.market.pairs().iter().filter(|pair| !context.removed.contains(&pair.symbol)).cloned().collect();
    let status = params.get("symbolStatus");
    if status.is_some() && (params.has("symbol") || params.has("symbols")) {
        return Err(ApiError::bad(-1128, "Combination of optional parameters invalid."));
    }
    let selected: Vec<&Pair> = if let Some(symbol) = params.get("symbol") {
        vec![pairs.iter().find(|pair| pair.symbol == symbol).ok_or_else(|| ApiError::bad(-1121, "Invalid symbol."))?]
    } else if let Some(list) = params.get("symbols") {
        let wanted: Vec<String> = serde_json::from_str(list).map_err(|_| ApiError::mandatory("symbols"))?;
        let mut selected = Vec::new();
        for symbol in wanted {
            selected.push(
                pairs
                    .iter()
                    .find(|pair| pair.symbol == symbol)
                    .ok_or_else(|| ApiError::bad(-1121, "Invalid symbol."))?,
            );
        }
        selected
    } else if let Some(status) = status {
        if !matches!(status, "TRADING" | "HALT" | "BREAK") {
            return Err(ApiError::bad(-1122, "Invalid symbolStatus."));
        }
        pairs.iter().filter(|pair| symbol_status(pair, context.now_ms) == status).collect()
    } else {
        pairs.iter().collect()
    };
    let symbols: Vec<Value> = selected.iter().map(|pair| symbol_json(pair, context.now_ms)).collect();
    Ok(json::text(&json!({
        "timezone": "UTC",
        "serverTime": context.now_ms,
        "rateLimits": context.rate_limits,
        "exchangeFilters": [],
        "symbols": symbols,
    })))
}

fn account(context: &Context<'_>, params: &Params) -> Result<String, ApiError> {
    let omit_zero = params.get("omitZeroBalances") == Some("true");
    let mut balances = Vec::new();
    for (asset, total) in &context.store.balances {
        if omit_zero && total.is_zero() {
            continue;
        }
        // Some BNB sits in an open order: `locked`, still part of the total.
        let locked = if asset == "BNB" {
            (total / Decimal::TEN).round_dp_with_strategy(8, rust_decimal::RoundingStrategy::ToZero)
        } else {
            Decimal::ZERO
        };
        balances.push(json!({ "asset": asset, "free": pad8(total - locked), "locked": pad8(locked) }));
    }
    Ok(json::text(&json!({
        "makerCommission": 10,
        "takerCommission": 10,
        "buyerCommission": 0,
        "sellerCommission": 0,
        "commissionRates": { "maker": "0.00100000", "taker": "0.00100000", "buyer": "0.00000000", "seller": "0.00000000" },
        "canTrade": true,
        "canWithdraw": true,
        "canDeposit": true,
        "brokered": false,
        "requireSelfTradePrevention": false,
        "preventSor": false,
        "updateTime": context.store.update_time_ms,
        "accountType": "SPOT",
        "balances": balances,
        "permissions": ["SPOT"],
        "uid": 354_937_868,
    })))
}

fn known_pair<'a>(context: &'a Context<'_>, params: &Params) -> Result<&'a Pair, ApiError> {
    let symbol = params.get("symbol").ok_or_else(|| ApiError::mandatory("symbol"))?;
    context
        .market
        .pair(symbol)
        .filter(|pair| !context.removed.contains(&pair.symbol))
        .ok_or_else(|| ApiError::bad(-1121, "Invalid symbol."))
}

fn my_trades(context: &Context<'_>, params: &Params) -> Result<String, ApiError> {
    if !params.has("symbol") {
        return Err(ApiError::mandatory("symbol"));
    }
    let present: BTreeSet<&str> =
        ["orderId", "startTime", "endTime", "fromId"].into_iter().filter(|name| params.has(name)).collect();
    let allowed: [&[&str]; 7] = [
        &[],
        &["orderId"],
        &["startTime"],
        &["endTime"],
        &["fromId"],
        &["endTime", "startTime"],
        &["fromId", "orderId"],
    ];
    if !allowed.iter().any(|set| set.len() == present.len() && set.iter().all(|name| present.contains(name))) {
        return Err(ApiError::bad(-1128, "Combination of optional parameters invalid."));
    }
    let limit = params.size("limit", 500, 1000)?;
    let (start, end) = (params.time("startTime")?, params.time("endTime")?);
    let (order_id, from_id) = (params.int("orderId")?, params.int("fromId")?);
    if let (Some(start), Some(end)) = (start, end) {
        if end - start > 24 * HOUR_MS {
            return Err(ApiError::span("24 hours"));
        }
    }
    let pair = known_pair(context, params)?;
    let rows = context.store.trades.get(&pair.symbol).map_or(&[][..], Vec::as_slice);
    let chosen: Vec<&RawValue> = if let Some(order_id) = order_id {
        let from = from_id.unwrap_or(i64::MIN);
        rows.iter()
            .filter(|row| {
                i64::try_from(row.order_id).is_ok_and(|id| id == order_id)
                    && i64::try_from(row.id).is_ok_and(|id| id >= from)
            })
            .take(limit)
            .map(|row| &*row.json)
            .collect()
    } else if let Some(from_id) = from_id {
        let first = rows.partition_point(|row| i64::try_from(row.id).unwrap_or(i64::MAX) < from_id);
        rows[first..].iter().take(limit).map(|row| &*row.json).collect()
    } else if let Some(start) = start {
        let first = rows.partition_point(|row| row.time_ms < start);
        let end = end.unwrap_or(i64::MAX);
        rows[first..].iter().take_while(|row| row.time_ms <= end).take(limit).map(|row| &*row.json).collect()
    } else {
        let stop = end.map_or(rows.len(), |end| rows.partition_point(|row| row.time_ms <= end));
        rows[stop.saturating_sub(limit)..stop].iter().map(|row| &*row.json).collect()
    };
    Ok(json::text(&chosen))
}

/// The window of a capital-history request: defaults and the "less than 90 days" rule.
fn capital_window(context: &Context<'_>, params: &Params) -> Result<(i64, i64), ApiError> {
    let span = 90 * DAY_MS;
    let (start, end) = match (params.time("startTime")?, params.time("endTime")?) {
        (Some(start), Some(end)) => (start, end),
        (Some(start), None) => (start, context.now_ms.min(start + span - 1)),
        (None, Some(end)) => (end - span + 1, end),
        (None, None) => (context.now_ms - span + 1, context.now_ms),
    };
    if end - start >= span {
        return Err(ApiError::span("90 days"));
    }
    Ok((start, end))
}

fn newest_first_page<'a>(
    rows: impl DoubleEndedIterator<Item = &'a Row>,
    offset: usize,
    limit: usize,
) -> Vec<&'a RawValue> {
    rows.rev().skip(offset).take(limit).map(|row| &*row.json).collect()
}

fn deposits(context: &Context<'_>, params: &Params) -> Result<String, ApiError> {
    let (start, end) = capital_window(context, params)?;
    let offset = usize::try_from(params.int("offset")?.unwrap_or(0).max(0)).unwrap_or(0);
    let limit = params.size("limit", 1000, 1000)?;
    let (coin, status, tx) = (params.get("coin"), params.get("status"), params.get("txId"));
    let rows = in_window(&context.store.deposits, start, end).iter().filter(|row| {
        coin.is_none_or(|coin| row.asset == coin)
            && status.is_none_or(|status| row.status == status)
            && tx.is_none_or(|tx| row.key == tx)
    });
    Ok(json::text(&newest_first_page(rows.collect::<Vec<_>>().into_iter(), offset, limit)))
}

fn withdrawals(context: &Context<'_>, params: &Params) -> Result<String, ApiError> {
    let (start, end) = capital_window(context, params)?;
    let offset = usize::try_from(params.int("offset")?.unwrap_or(0).max(0)).unwrap_or(0);
    let limit = params.size("limit", 1000, 1000)?;
    let ids: Option<Vec<&str>> = params.get("idList").map(|list| list.split(',').collect());
    if ids.as_ref().is_some_and(|ids| ids.len() > 45) {
        return Err(ApiError::bad(-1130, "Data sent for parameter 'idList' is not valid."));
    }
    let (coin, status, order) = (params.get("coin"), params.get("status"), params.get("withdrawOrderId"));
    let rows = in_window(&context.store.withdrawals, start, end).iter().filter(|row| {
        coin.is_none_or(|coin| row.asset == coin)
            && status.is_none_or(|status| row.status == status)
            && order.is_none()
            && ids.as_ref().is_none_or(|ids| ids.contains(&row.key.as_str()))
    });
    Ok(json::text(&newest_first_page(rows.collect::<Vec<_>>().into_iter(), offset, limit)))
}

fn fiat(sides: &[Vec<Row>; 2], context: &Context<'_>, params: &Params) -> Result<String, ApiError> {
    let side = match params.get("transactionType") {
        Some("0") => 0,
        Some("1") => 1,
        _ => return Err(ApiError::mandatory("transactionType")),
    };
    let (begin, end) = match (params.time("beginTime")?, params.time("endTime")?) {
        (None, None) => (context.now_ms - 30 * DAY_MS, context.now_ms),
        (begin, end) => (begin.unwrap_or(0), end.unwrap_or(context.now_ms)),
    };
    let page = usize::try_from(params.int("page")?.unwrap_or(1).max(1)).unwrap_or(1);
    let rows = params.size("rows", 100, 500)?;
    let window = in_window(&sides[side], begin, end);
    let total = window.len();
    let data = newest_first_page(window.iter(), (page - 1) * rows, rows);
    // Binance leaves `data` out when there is nothing (as its docs' examples show).
    let mut answer = vec![("code", json::render(&"000000")), ("message", json::render(&"success"))];
    if !data.is_empty() {
        answer.push(("data", json::render(&data)));
    }
    answer.extend([("total", json::render(&total)), ("success", json::render(&true))]);
    Ok(json::text(&Ordered(answer)))
}

fn convert(context: &Context<'_>, params: &Params) -> Result<String, ApiError> {
    let start = params.time("startTime")?.ok_or_else(|| ApiError::mandatory("startTime"))?;
    let end = params.time("endTime")?.ok_or_else(|| ApiError::mandatory("endTime"))?;
    if end - start > 30 * DAY_MS {
        return Err(ApiError::span("30 days"));
    }
    let limit = params.size("limit", 100, 1000)?;
    let window = in_window(&context.store.converts, start, end);
    let list: Vec<&RawValue> = window.iter().take(limit).map(|row| &*row.json).collect();
    Ok(json::text(&json!({
        "list": json::render(&list),
        "startTime": start,
        "endTime": end,
        "limit": limit,
        "moreData": window.len() > limit,
    })))
}

fn dust(context: &Context<'_>, params: &Params) -> Result<String, ApiError> {
    let start = params.time("startTime")?.unwrap_or(i64::MIN);
    let end = params.time("endTime")?.unwrap_or(i64::MAX);
    let window = in_window(&context.store.dust, start, end);
    let last = &window[window.len().saturating_sub(100)..];
    let list: Vec<&RawValue> = last.iter().map(|row| &*row.json).collect();
    Ok(json::text(&Ordered(vec![("total", json::render(&last.len())), ("userAssetDribblets", json::render(&list))])))
}

fn dividends(context: &Context<'_>, params: &Params) -> Result<String, ApiError> {
    let span = 180 * DAY_MS;
    let (start, end) = match (params.time("startTime")?, params.time("endTime")?) {
        (Some(start), Some(end)) => (start, end),
        (Some(start), None) => (start, start + span),
        (None, Some(end)) => (end - span, end),
        (None, None) => (context.now_ms - span, context.now_ms),
    };
    if end - start > span {
        return Err(ApiError::span("180 days"));
    }
    let limit = params.size("limit", 20, 500)?;
    let asset = params.get("asset");
    let rows: Vec<&Row> = in_window(&context.store.dividends, start, end)
        .iter()
        .filter(|row| asset.is_none_or(|asset| row.asset == asset))
        .collect();
    let total = rows.len();
    let page = newest_first_page(rows.into_iter(), 0, limit);
    Ok(json::text(&Ordered(vec![("rows", json::render(&page)), ("total", json::render(&total))])))
}

fn earn(rows: &[Row], flexible: bool, context: &Context<'_>, params: &Params) -> Result<String, ApiError> {
    let reward_type = if flexible {
        match params.get("type") {
            Some(kind @ ("BONUS" | "REALTIME" | "REWARDS" | "ALL")) => Some(kind),
            _ => return Err(ApiError::mandatory("type")),
        }
    } else {
        None
    };
    let span = 30 * DAY_MS;
    let (start, end) = match (params.time("startTime")?, params.time("endTime")?) {
        (Some(start), Some(end)) => (start, end),
        (Some(start), None) => (start, start + span),
        (None, Some(end)) => (end - span, end),
        (None, None) => (context.now_ms - span, context.now_ms),
    };
    if end - start > span {
        return Err(ApiError::bad(-6021, "Query time range too large"));
    }
    let current = usize::try_from(params.int("current")?.unwrap_or(1).max(1)).unwrap_or(1);
    let size = params.size("size", 10, 100)?;
    let (asset, product) = (params.get("asset"), params.get(if flexible { "productId" } else { "positionId" }));
    let selected: Vec<&Row> = in_window(rows, start, end)
        .iter()
        .filter(|row| {
            asset.is_none_or(|asset| row.asset == asset)
                && product.is_none_or(|product| row.status == product)
                && reward_type.is_none_or(|kind| kind == "ALL" || row.key == kind)
        })
        .collect();
    let total = selected.len();
    let page = newest_first_page(selected.into_iter(), (current - 1) * size, size);
    Ok(json::text(&Ordered(vec![("rows", json::render(&page)), ("total", json::render(&total))])))
}

/// Kline interval names and lengths in ms.
const INTERVALS: &[(&str, i64)] = &[
    ("1m", 60_000),
    ("3m", 180_000),
    ("5m", 300_000),
    ("15m", 900_000),
    ("30m", 1_800_000),
    ("1h", HOUR_MS),
    ("2h", 2 * HOUR_MS),
    ("4h", 4 * HOUR_MS),
    ("6h", 6 * HOUR_MS),
    ("8h", 8 * HOUR_MS),
    ("12h", 12 * HOUR_MS),
    ("1d", DAY_MS),
    ("3d", 3 * DAY_MS),
    ("1w", 7 * DAY_MS),
];

/// 1970-01-05 was a Monday: weekly candles open on Mondays.
const WEEK_OFFSET_MS: i64 = 4 * DAY_MS;

fn klines(context: &Context<'_>, params: &Params) -> Result<String, ApiError> {
    if !params.has("symbol") {
        return Err(ApiError::mandatory("symbol"));
    }
    let interval = params.get("interval").ok_or_else(|| ApiError::mandatory("interval"))?;
    let &(_, length) = INTERVALS
        .iter()
        .find(|(name, _)| *name == interval)
        .ok_or_else(|| ApiError::bad(-1120, "Invalid interval."))?;
    let pair = known_pair(context, params)?;
    let limit = i64::try_from(params.size("limit", 500, 1000)?).unwrap_or(500);
    let offset = if interval == "1w" { WEEK_OFFSET_MS } else { 0 };
    let align_down = |time: i64| time - (time - offset).rem_euclid(length);
    let listed = context.market.start_ms();
    let first_open = align_down(listed) + if align_down(listed) < listed { length } else { 0 };
    let last_open = align_down(context.now_ms.min(pair.delisted_ms.unwrap_or(i64::MAX) - 1));
    let (from, to) = match (params.time("startTime")?, params.time("endTime")?) {
        (Some(start), end) => {
            let from = (align_down(start) + if align_down(start) < start { length } else { 0 }).max(first_open);
            let to = end.map_or(last_open, |end| align_down(end).min(last_open));
            (from, to.min(from + (limit - 1) * length))
        }
        (None, Some(end)) => {
            let to = align_down(end).min(last_open);
            ((to - (limit - 1) * length).max(first_open), to)
        }
        (None, None) => ((last_open - (limit - 1) * length).max(first_open), last_open),
    };
    let mut rows = Vec::with_capacity(usize::try_from(((to - from) / length + 1).max(0)).unwrap_or(0));
    let mut open = from;
    while open <= to {
        let close_time = open + length - 1;
        if let Some(ohlc) = context.market.pair_ohlc(pair, open, length) {
            let (first, high, low, last) = (ohlc.open, ohlc.high, ohlc.low, ohlc.close);
            let seed = u64::try_from(open / 60_000).unwrap_or(0).wrapping_mul(2_654_435_761) ^ pair.symbol.len() as u64;
            let volume = Decimal::new(i64::try_from(seed % 100_000_000_000).unwrap_or(1) + 1, 8);
            let quote_volume = (volume * last).round_dp(8);
            let count = seed % 5_000 + 1;
            // A kline is an array of mixed types: a tuple serialises as one.
            rows.push((
                open,
                pad8(first),
                pad8(high),
                pad8(low),
                pad8(last),
                pad8(volume),
                close_time,
                pad8(quote_volume),
                count,
                pad8((volume / Decimal::TWO).round_dp(8)),
                pad8((quote_volume / Decimal::TWO).round_dp(8)),
                "0",
            ));
        }
        open += length;
    }
    Ok(json::text(&rows))
}

//! OKX's REST API (v5) on the HTTP kit: the endpoint table, signing, answers, the pace.
//!
//! [`Endpoint`] lists what the adapter calls: signed `GET`s with their parameters in the query
//! string (<https://www.okx.com/docs-v5/en/#overview-rest-authentication>). [`OkxProtocol`] signs
//! each attempt with a fresh timestamp ([`super::auth`]) and judges answers. OKX answers
//! `{"code": "0", "msg": "", "data": [...]}`; any other `code` is an error
//! (<https://www.okx.com/docs-v5/en/#error-code-rest-api>): `50111` (invalid key), `50113`
//! (invalid signature), `50105` (wrong passphrase), `50119` (key does not exist), `50100`
//! (key frozen), `50110` (IP not allowed) and `50120` (no permission) are key problems
//! ([`FetchError::Auth`]); `50102` (timestamp expired) and `50112` (invalid timestamp)
//! re-measure OKX's clock (`GET /api/v5/public/time`) and sign again; `50011` (rate limit,
//! HTTP 429) pauses; `50001`, `50004`, `50013`, `50026` and 5xx are retried.
//!
//! # Pace
//!
//! OKX limits each private endpoint per user id, "N requests per T seconds", documented on
//! each endpoint's page: `account/bills-archive` and `account/config` 5 per 2 s,
//! `account/balance` 10 per 2 s, `asset/bills`, `asset/balances`, `asset/deposit-history` and
//! `asset/withdrawal-history` 6 per 1 s
//! (<https://www.okx.com/docs-v5/en/#funding-account-rest-api-get-deposit-history>,
//! <https://www.okx.com/docs-v5/en/#funding-account-rest-api-get-withdrawal-history>),
//! `finance/savings/balance` and `finance/savings/lending-history` 6 per 1 s
//! (<https://www.okx.com/docs-v5/en/#financial-product-simple-earn-flexible-get-saving-balance>,
//! <https://www.okx.com/docs-v5/en/#financial-product-simple-earn-flexible-get-lending-history>;
//! "Rate Limit: 6 requests per second", "Rate limit rule: User ID", "Permission: Read"). The pages do not
//! say whether the windows are fixed or sliding; each endpoint is a fixed window on OKX's
//! clock (with the limiter's guard at the edges), and the simulator counts the same way.
//! Going over is answered `50011` with HTTP 429 and costs nothing but the wait: OKX documents
//! no ban. `COINTALLY_OKX_BUDGET=LIMIT:SECONDS` replaces every endpoint's limit (the
//! simulator's scaled budget in tests).

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderMap;

use super::auth;
use crate::Secret;
use crate::http::answer::{self, incomplete};
use crate::http::budget::WindowBudget;
use crate::http::client::{Client, ClientConfig, Method, Prepared, Protocol, Request, Usage, Verdict};
use crate::http::{BucketKind, Clock, FetchError, Limiter, encode_query};

pub use crate::http::Answer;

/// The exchange's name in errors and logs.
pub const EXCHANGE: &str = "okx";

/// OKX's production host (<https://www.okx.com/docs-v5/en/#overview-production-trading-services>).
pub const DEFAULT_BASE_URL: &str = "https://www.okx.com";

/// The environment variable that replaces every endpoint's limit: `LIMIT:SECONDS`.
pub const BUDGET_ENV: &str = "COINTALLY_OKX_BUDGET";

/// A request limit: `limit` requests per `window_seconds` (OKX counts them in fixed windows,
/// so the limiter models it with [`fixed_window`], not [`WindowBudget::bucket_kind`]).
pub type Budget = WindowBudget;

/// The override `COINTALLY_OKX_BUDGET` names, if any (without one, each endpoint keeps its
/// documented limit, [`Endpoint::budget`]: OKX has no single default).
pub fn budget_from_env() -> Option<Budget> {
    std::env::var(BUDGET_ENV).ok().and_then(|text| WindowBudget::parse(&text))
}

/// The limiter bucket that models `budget`: a fixed window used whole.
pub fn fixed_window(budget: Budget) -> BucketKind {
    BucketKind::FixedWindow { limit: budget.limit, window: Duration::from_secs(budget.window_seconds) }
}

/// An endpoint of OKX's REST API that cointally calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Endpoint {
    /// `GET /api/v5/account/config`: the account, and what the key may do (`perm`, `ip`).
    Config,
    /// `GET /api/v5/account/balance`: the trading account's balances.
    Balance,
    /// `GET /api/v5/asset/balances`: the funding account's balances.
    AssetBalances,
    /// `GET /api/v5/account/bills-archive`: the trading account's bills, last 3 months, newest first.
    BillsArchive,
    /// `GET /api/v5/asset/bills`: the funding account's bills, last month, newest first.
    AssetBills,
    /// `GET /api/v5/asset/deposit-history`: the funding account's deposits with tx hash and address, newest first.
    DepositHistory,
    /// `GET /api/v5/asset/withdrawal-history`: the funding account's withdrawals with tx hash, address and fee, newest first.
    WithdrawalHistory,
    /// `GET /api/v5/finance/savings/balance`: what is in Simple Earn Flexible (`amt`), by currency.
    SavingsBalance,
    /// `GET /api/v5/finance/savings/lending-history`: Simple Earn Flexible's earnings, last month, newest first.
    LendingHistory,
    /// `GET /api/v5/public/time`: OKX's clock.
    Time,
}

impl Endpoint {
    /// Every endpoint.
    pub const ALL: [Endpoint; 10] = [
        Endpoint::Config,
        Endpoint::Balance,
        Endpoint::AssetBalances,
        Endpoint::BillsArchive,
        Endpoint::AssetBills,
        Endpoint::DepositHistory,
        Endpoint::WithdrawalHistory,
        Endpoint::SavingsBalance,
        Endpoint::LendingHistory,
        Endpoint::Time,
    ];

    /// The endpoint's name in errors, stats and the limiter (`bills-archive`).
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::Config => "config",
            Endpoint::Balance => "balance",
            Endpoint::AssetBalances => "asset-balances",
            Endpoint::BillsArchive => "bills-archive",
            Endpoint::AssetBills => "asset-bills",
            Endpoint::DepositHistory => "deposit-history",
            Endpoint::WithdrawalHistory => "withdrawal-history",
            Endpoint::SavingsBalance => "savings-balance",
            Endpoint::LendingHistory => "lending-history",
            Endpoint::Time => "time",
        }
    }

    /// The path after the host.
    pub fn path(self) -> &'static str {
        match self {
            Endpoint::Config => "/api/v5/account/config",
            Endpoint::Balance => "/api/v5/account/balance",
            Endpoint::AssetBalances => "/api/v5/asset/balances",
            Endpoint::BillsArchive => "/api/v5/account/bills-archive",
            Endpoint::AssetBills => "/api/v5/asset/bills",
            Endpoint::DepositHistory => "/api/v5/asset/deposit-history",
            Endpoint::WithdrawalHistory => "/api/v5/asset/withdrawal-history",
            Endpoint::SavingsBalance => "/api/v5/finance/savings/balance",
            Endpoint::LendingHistory => "/api/v5/finance/savings/lending-history",
            Endpoint::Time => "/api/v5/public/time",
        }
    }

    /// The endpoint at this path, if any.
    pub fn from_path(path: &str) -> Option<Endpoint> {
        Endpoint::ALL.into_iter().find(|endpoint| endpoint.path() == path)
    }

    /// OKX's documented limit of the endpoint (see the module's "Pace").
    pub fn budget(self) -> Budget {
        match self {
            Endpoint::Config | Endpoint::BillsArchive => Budget { limit: 5, window_seconds: 2 },
            Endpoint::Balance | Endpoint::Time => Budget { limit: 10, window_seconds: 2 },
            Endpoint::AssetBalances
            | Endpoint::AssetBills
            | Endpoint::DepositHistory
            | Endpoint::WithdrawalHistory
            | Endpoint::SavingsBalance
            | Endpoint::LendingHistory => Budget { limit: 6, window_seconds: 1 },
        }
    }

    /// The limiter bucket of the endpoint: one request in its own.
    pub fn costs(self) -> Vec<(String, u64)> {
        vec![(self.name().to_owned(), 1)]
    }
}

/// How OKX wants requests signed and how its answers read, for one key.
pub struct OkxProtocol {
    api_key: Secret,
    secret: Secret,
    passphrase: Secret,
    clock: Arc<dyn Clock>,
    limiter: Arc<Limiter>,
}

impl std::fmt::Debug for OkxProtocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OkxProtocol").finish_non_exhaustive()
    }
}

fn setup(reason: String) -> FetchError {
    FetchError::Setup { exchange: EXCHANGE.to_owned(), reason }
}

/// The `requestPath` OKX signs: the path, and `?` + the query when there is one.
pub fn request_path(path: &str, query: &str) -> String {
    if query.is_empty() { path.to_owned() } else { format!("{path}?{query}") }
}

impl Protocol for OkxProtocol {
    fn exchange(&self) -> &'static str {
        EXCHANGE
    }

    fn prepare(&self, request: &Request) -> Result<Prepared, FetchError> {
        let query = encode_query(&request.params);
        let timestamp = auth::timestamp(self.limiter.exchange_now_ms());
        let path = request_path(&request.path, &query);
        let headers = auth::headers(&self.api_key, &self.secret, &self.passphrase, &timestamp, "GET", &path)
            .into_iter()
            .map(|(name, value)| (name.to_owned(), Secret::new(value)))
            .collect();
        Ok(Prepared { query, body: None, headers })
    }

    fn judge(&self, request: &Request, status: u16, headers: &HeaderMap, body: &[u8]) -> Verdict {
        let value: Option<serde_json::Value> = serde_json::from_slice(body).ok();
        let code = value.as_ref().and_then(|v| v.get("code")).and_then(serde_json::Value::as_str).map(str::to_owned);
        let message = value
            .as_ref()
            .and_then(|v| v.get("msg"))
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if let Some(code) = code.as_deref().filter(|code| *code != "0") {
            return judge_code(request.endpoint, status, code, &message, headers, self.clock.now_ms());
        }
        if status == 429 {
            return Verdict::RateLimited { retry_after: crate::http::retry_after(headers, self.clock.now_ms()) };
        }
        if status >= 500 {
            return Verdict::Retry { reason: format!("HTTP {status}"), after: None };
        }
        match (code, value.is_some()) {
            (Some(_), true) if (200..300).contains(&status) => Verdict::Ok,
            (None, _) if (200..300).contains(&status) => incomplete(status, body),
            _ => Verdict::Fail(FetchError::Api {
                exchange: EXCHANGE.to_owned(),
                endpoint: request.endpoint.to_owned(),
                status,
                code: String::new(),
                message: format!("HTTP {status}: {}", answer::snippet(body)),
            }),
        }
    }

    fn observe(&self, _request: &Request, _headers: &HeaderMap) -> Vec<Usage> {
        // OKX reports no usage in headers: the pace is modelled from the documented limits.
        Vec::new()
    }

    fn resync_clock(&self, client: &Client) -> Result<(), FetchError> {
        let request = Request {
            endpoint: Endpoint::Time.name(),
            method: Method::Get,
            path: Endpoint::Time.path().to_owned(),
            params: Vec::new(),
            costs: Endpoint::Time.costs(),
        };
        let sent_ms = self.clock.now_ms();
        let answer = client.send(&request)?;
        let received_ms = self.clock.now_ms();
        let server_ms = data(Endpoint::Time, &answer.body)?
            .first()
            .and_then(|row| row.get("ts"))
            .and_then(serde_json::Value::as_str)
            .and_then(|ts| ts.parse::<i64>().ok())
            .ok_or_else(|| malformed(Endpoint::Time, "no ts in the answer".to_owned()))?;
        let offset = server_ms.saturating_sub(sent_ms.saturating_add(received_ms.saturating_sub(sent_ms) / 2));
        self.limiter.set_clock_offset_ms(offset);
        log::info!("okx: server clock is {offset} ms ahead of ours; timestamps corrected");
        Ok(())
    }
}

/// What an error `code` means.
fn judge_code(endpoint: &str, status: u16, code: &str, message: &str, headers: &HeaderMap, now_ms: i64) -> Verdict {
    let said = format!("OKX said: {code} {message}");
    let auth = |problem: &str| {
        Verdict::Fail(FetchError::Auth {
            exchange: EXCHANGE.to_owned(),
            endpoint: endpoint.to_owned(),
            message: format!("{problem} ({})", said.trim_end()),
        })
    };
    match code {
        "50113" => auth("the signature was refused: the secret key does not belong to this API key"),
        "50105" => auth("the passphrase was refused: give the passphrase chosen when the key was made"),
        "50111" | "50119" => auth("the API key is unknown to OKX or was deleted (was it copied whole?)"),
        "50100" => auth("the API key is frozen; make a new read-only key"),
        "50110" => auth("the key does not allow this IP address; add it to the key's IP list on OKX"),
        "50120" | "50114" => auth(&format!("the key lacks the Read permission {endpoint} needs")),
        "50102" | "50112" => Verdict::ClockSkew,
        "50011" | "50061" => Verdict::RateLimited { retry_after: crate::http::retry_after(headers, now_ms) },
        "50001" | "50004" | "50013" | "50026" => Verdict::Retry { reason: said, after: None },
        _ if status >= 500 => Verdict::Retry { reason: said, after: None },
        _ => Verdict::Fail(FetchError::Api {
            exchange: EXCHANGE.to_owned(),
            endpoint: endpoint.to_owned(),
            status,
            code: code.to_owned(),
            message: message.to_owned(),
        }),
    }
}

/// The `data` array of a successful answer.
pub fn data(endpoint: Endpoint, body: &[u8]) -> Result<Vec<serde_json::Value>, FetchError> {
    #[derive(serde::Deserialize)]
    struct Envelope {
        data: Vec<serde_json::Value>,
    }
    let envelope: Envelope =
        serde_json::from_slice(body).map_err(|e| malformed(endpoint, format!("no data list in the answer: {e}")))?;
    Ok(envelope.data)
}

/// The `data` array of a successful answer, each row as sent (no tree is built: the bill walks
/// store rows as they are).
pub fn raw_rows(endpoint: Endpoint, body: &[u8]) -> Result<Vec<&serde_json::value::RawValue>, FetchError> {
    #[derive(serde::Deserialize)]
    struct Envelope<'a> {
        #[serde(borrow)]
        data: Vec<&'a serde_json::value::RawValue>,
    }
    let envelope: Envelope =
        serde_json::from_slice(body).map_err(|e| malformed(endpoint, format!("no data list in the answer: {e}")))?;
    Ok(envelope.data)
}

/// One OKX account's API: signed GETs through the shared limiter, with retries.
#[derive(Clone, Debug)]
pub struct OkxApi {
    client: Arc<Client>,
    account: String,
}

impl OkxApi {
    /// An API handle for account `account`, talking to `base_url` ([`DEFAULT_BASE_URL`] when `None`).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        base_url: Option<&str>,
        api_key: Secret,
        secret: Secret,
        passphrase: Option<Secret>,
        account: &str,
        limiter: Arc<Limiter>,
        config: ClientConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<OkxApi, FetchError> {
        if api_key.is_blank() {
            return Err(setup("the OKX API key is empty".to_owned()));
        }
        if secret.is_blank() {
            return Err(setup("the OKX secret key is empty".to_owned()));
        }
        let Some(passphrase) = passphrase.filter(|p| !p.is_blank()) else {
            return Err(setup(
                "an OKX key needs its passphrase: add the account again and give it (or --passphrase-env VAR)"
                    .to_owned(),
            ));
        };
        let base_url = base_url.unwrap_or(DEFAULT_BASE_URL);
        let protocol = Arc::new(OkxProtocol {
            api_key,
            secret,
            passphrase,
            clock: Arc::clone(&clock),
            limiter: Arc::clone(&limiter),
        });
        let client = Client::new(protocol as Arc<dyn Protocol>, base_url, limiter, config, clock)?;
        Ok(OkxApi { client: Arc::new(client), account: account.to_owned() })
    }

    /// A limiter with one bucket per endpoint, each its documented limit or `budget` for all.
    pub fn new_limiter(clock: Arc<dyn Clock>, budget: Option<Budget>) -> Arc<Limiter> {
        let limiter = Limiter::new(clock);
        for endpoint in Endpoint::ALL {
            limiter.declare(endpoint.name(), fixed_window(budget.unwrap_or(endpoint.budget())));
        }
        Arc::new(limiter)
    }

    /// Calls `endpoint` with `params` (a signed GET), retrying what can be retried.
    pub fn call(&self, endpoint: Endpoint, params: &[(&str, String)]) -> Result<Answer, FetchError> {
        let request = Request {
            endpoint: endpoint.name(),
            method: Method::Get,
            path: endpoint.path().to_owned(),
            params: params.iter().map(|(name, value)| ((*name).to_owned(), value.clone())).collect(),
            costs: endpoint.costs(),
        };
        self.client.send(&request)
    }

    crate::http::handle::api_handle_accessors!();
}

/// An answer that is not what `endpoint` documents.
pub fn malformed(endpoint: Endpoint, reason: String) -> FetchError {
    answer::malformed(EXCHANGE, endpoint.name(), reason)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::clock::ManualClock;

    fn judge(status: u16, body: &str) -> Verdict {
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(1_700_000_000_000));
        let limiter = OkxApi::new_limiter(Arc::clone(&clock), None);
        let protocol = OkxProtocol {
            api_key: Secret::new("K"),
            secret: Secret::new("S"),
            passphrase: Secret::new("P"),
            clock,
            limiter,
        };
        let request = Request {
            endpoint: "bills-archive",
            method: Method::Get,
            path: Endpoint::BillsArchive.path().to_owned(),
            params: Vec::new(),
            costs: Vec::new(),
        };
        protocol.judge(&request, status, &HeaderMap::new(), body.as_bytes())
    }

    #[test]
    fn answers_are_judged_by_their_code() {
        assert!(matches!(judge(200, r#"{"code":"0","msg":"","data":[]}"#), Verdict::Ok));
        for code in ["50113", "50105", "50111", "50119", "50100", "50110", "50120"] {
            let body = format!(r#"{{"code":"{code}","msg":"no","data":[]}}"#);
            assert!(matches!(judge(401, &body), Verdict::Fail(FetchError::Auth { .. })), "{code}");
        }
        assert!(matches!(judge(401, r#"{"code":"50102","msg":"Timestamp request expired"}"#), Verdict::ClockSkew));
        assert!(matches!(judge(429, r#"{"code":"50011","msg":"Rate limit reached"}"#), Verdict::RateLimited { .. }));
        assert!(matches!(judge(503, r#"{"code":"50001","msg":"busy"}"#), Verdict::Retry { .. }));
        assert!(matches!(judge(502, "<html>bad gateway</html>"), Verdict::Retry { .. }));
        assert!(matches!(judge(200, r#"{"code":"0","data":[{"a""#), Verdict::Retry { .. }));
        assert!(matches!(
            judge(400, r#"{"code":"51000","msg":"Parameter after error"}"#),
            Verdict::Fail(FetchError::Api { .. })
        ));
    }

    #[test]
    fn the_documented_limits_are_fixed_windows_used_whole() {
        assert_eq!(Endpoint::BillsArchive.budget(), Budget { limit: 5, window_seconds: 2 });
        assert_eq!(Endpoint::AssetBills.budget(), Budget { limit: 6, window_seconds: 1 });
        // A fixed window spends the whole limit in every window: at least 85 % of it.
        assert_eq!(
            fixed_window(Endpoint::BillsArchive.budget()),
            BucketKind::FixedWindow { limit: 5, window: Duration::from_secs(2) }
        );
        for endpoint in Endpoint::ALL {
            assert_eq!(Endpoint::from_path(endpoint.path()), Some(endpoint));
        }
    }

    #[test]
    fn the_request_path_signed_holds_the_query() {
        assert_eq!(request_path("/api/v5/account/config", ""), "/api/v5/account/config");
        assert_eq!(request_path("/api/v5/asset/bills", "after=5&limit=100"), "/api/v5/asset/bills?after=5&limit=100");
    }
}

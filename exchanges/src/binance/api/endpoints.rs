//! The endpoint table of Binance's REST API: each endpoint's path, whether it is signed, and
//! what one request costs in Binance's rate-limit buckets, as the spot API's documentation
//! lists them (<https://developers.binance.com/docs/binance-spot-api-docs/rest-api/limits>
//! and each endpoint's page under <https://developers.binance.com/docs/wallet>).

/// The `/api` REQUEST_WEIGHT bucket (per IP, all accounts).
pub const API_BUCKET: &str = "api";
/// The `/api` RAW_REQUESTS bucket: every `/api` request counts one, whatever its weight
/// (61,000 per 5 minutes per IP, all accounts; Binance sends no usage header for it).
pub const RAW_BUCKET: &str = "api_raw";
/// The `/sapi` IP-weighted bucket (per IP, all accounts).
pub const SAPI_IP_BUCKET: &str = "sapi_ip";
/// Prefix of the per-account `/sapi` UID bucket (`sapi_uid:<account>`).
pub const SAPI_UID_PREFIX: &str = "sapi_uid:";
/// Prefix of the per-account, per-second UID bucket of withdraw history (`sapi_uid_1s:<account>`).
pub const SAPI_UID_1S_PREFIX: &str = "sapi_uid_1s:";

/// An endpoint of Binance's REST API that cointally calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Endpoint {
    /// `GET /api/v3/time`: the server's clock.
    Time,
    /// `GET /api/v3/exchangeInfo`: symbols and rate limits (public).
    ExchangeInfo,
    /// `GET /api/v3/account`: spot balances.
    Account,
    /// `GET /sapi/v1/account/apiRestrictions`: what the key may do.
    ApiRestrictions,
    /// `GET /api/v3/myTrades`: spot fills of one symbol.
    MyTrades,
    /// `GET /sapi/v1/capital/deposit/hisrec`: crypto deposits.
    Deposits,
    /// `GET /sapi/v1/capital/withdraw/history`: crypto withdrawals.
    Withdrawals,
    /// `GET /sapi/v1/fiat/orders`: fiat deposits and withdrawals.
    FiatOrders,
    /// `GET /sapi/v1/fiat/payments`: card and bank crypto buys and sells.
    FiatPayments,
    /// `GET /sapi/v1/convert/tradeFlow`: Convert trades.
    Convert,
    /// `GET /sapi/v1/asset/dribblet`: dust converted to BNB.
    Dust,
    /// `GET /sapi/v1/asset/assetDividend`: distributions (staking, airdrops, interest).
    Dividends,
    /// `GET /sapi/v1/simple-earn/flexible/history/rewardsRecord`: flexible Simple Earn rewards.
    EarnFlexible,
    /// `GET /sapi/v1/simple-earn/locked/history/rewardsRecord`: locked Simple Earn rewards.
    EarnLocked,
    /// `GET /api/v3/klines`: candles (public).
    Klines,
    /// `GET /sapi/v1/fiatpayment/query/deposit/history`: Binance.US's USD deposits.
    UsFiatDeposits,
    /// `GET /sapi/v1/fiatpayment/query/withdraw/history`: Binance.US's USD withdrawals.
    UsFiatWithdrawals,
    /// `GET /sapi/v1/staking/stakingRewardsHistory`: Binance.US's staking rewards.
    UsStakingRewards,
    /// `GET /sapi/v1/asset/assetDistributionHistory`: Binance.US's distributions (airdrops,
    /// referral rewards, staking rewards).
    UsDistributions,
    /// `GET /sapi/v1/asset/query/dust-logs`: Binance.US's dust conversions to BNB.
    UsDust,
    /// `GET /sapi/v1/otc/orders`: Binance.US's OTC (Convert) trades.
    UsOtc,
}

/// Which bucket an endpoint's weight goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Meter {
    /// `/api` REQUEST_WEIGHT, per IP.
    Api,
    /// `/sapi` IP weight.
    SapiIp,
    /// `/sapi` UID weight per minute.
    SapiUid,
    /// `/sapi` UID weight per second.
    SapiUid1s,
}

impl Endpoint {
    /// Every endpoint, in declaration order.
    pub const ALL: [Endpoint; 21] = [
        Endpoint::Time,
        Endpoint::ExchangeInfo,
        Endpoint::Account,
        Endpoint::ApiRestrictions,
        Endpoint::MyTrades,
        Endpoint::Deposits,
        Endpoint::Withdrawals,
        Endpoint::FiatOrders,
        Endpoint::FiatPayments,
        Endpoint::Convert,
        Endpoint::Dust,
        Endpoint::Dividends,
        Endpoint::EarnFlexible,
        Endpoint::EarnLocked,
        Endpoint::Klines,
        Endpoint::UsFiatDeposits,
        Endpoint::UsFiatWithdrawals,
        Endpoint::UsStakingRewards,
        Endpoint::UsDistributions,
        Endpoint::UsDust,
        Endpoint::UsOtc,
    ];

    /// The endpoint's name: the stream name of binance-semantics for history endpoints
    /// (`myTrades`, `deposits`, …), Binance's own for the others (`time`, `exchangeInfo`).
    pub fn name(self) -> &'static str {
        self.spec().0
    }

    /// The path after the base URL.
    pub fn path(self) -> &'static str {
        self.spec().1
    }

    /// Whether requests must be signed (every `USER_DATA` endpoint).
    pub fn signed(self) -> bool {
        self.spec().2
    }

    /// The documented weight of one request (each endpoint's page in Binance's API docs).
    pub fn weight(self) -> u64 {
        self.spec().4
    }

    /// The endpoint with this name, if any.
    pub fn from_name(name: &str) -> Option<Endpoint> {
        Endpoint::ALL.into_iter().find(|endpoint| endpoint.name() == name)
    }

    /// The endpoint at this path, if any.
    pub fn from_path(path: &str) -> Option<Endpoint> {
        Endpoint::ALL.into_iter().find(|endpoint| endpoint.path() == path)
    }

    /// The limiter buckets one request costs for account `account`, with their weights.
    /// An `/api` request also counts one in the RAW_REQUESTS bucket.
    pub fn costs(self, account: &str) -> Vec<(String, u64)> {
        self.costs_at(account, self.weight())
    }

    /// [`Endpoint::costs`] with another weight (an exchange speaking Binance's API with its
    /// own weights), in the same buckets.
    pub fn costs_at(self, account: &str, weight: u64) -> Vec<(String, u64)> {
        let bucket = match self.spec().3 {
            Meter::Api => return vec![(API_BUCKET.to_owned(), weight), (RAW_BUCKET.to_owned(), 1)],
            Meter::SapiIp => SAPI_IP_BUCKET.to_owned(),
            Meter::SapiUid => format!("{SAPI_UID_PREFIX}{account}"),
            Meter::SapiUid1s => format!("{SAPI_UID_1S_PREFIX}{account}"),
        };
        vec![(bucket, weight)]
    }

    /// (name, path, signed, bucket, weight).
    fn spec(self) -> (&'static str, &'static str, bool, Meter, u64) {
        match self {
            Endpoint::Time => ("time", "/api/v3/time", false, Meter::Api, 1),
            Endpoint::ExchangeInfo => ("exchangeInfo", "/api/v3/exchangeInfo", false, Meter::Api, 20),
            Endpoint::Account => ("account", "/api/v3/account", true, Meter::Api, 20),
            Endpoint::ApiRestrictions => {
                ("apiRestrictions", "/sapi/v1/account/apiRestrictions", true, Meter::SapiIp, 1)
            }
            Endpoint::MyTrades => ("myTrades", "/api/v3/myTrades", true, Meter::Api, 20),
            Endpoint::Deposits => ("deposits", "/sapi/v1/capital/deposit/hisrec", true, Meter::SapiIp, 1),
            Endpoint::Withdrawals => {
                ("withdrawals", "/sapi/v1/capital/withdraw/history", true, Meter::SapiUid1s, 18_000)
            }
            Endpoint::FiatOrders => ("fiatOrders", "/sapi/v1/fiat/orders", true, Meter::SapiUid, 90_000),
            Endpoint::FiatPayments => ("fiatPayments", "/sapi/v1/fiat/payments", true, Meter::SapiIp, 1),
            Endpoint::Convert => ("convert", "/sapi/v1/convert/tradeFlow", true, Meter::SapiUid, 3_000),
            Endpoint::Dust => ("dust", "/sapi/v1/asset/dribblet", true, Meter::SapiIp, 1),
            Endpoint::Dividends => ("dividends", "/sapi/v1/asset/assetDividend", true, Meter::SapiIp, 10),
            Endpoint::EarnFlexible => {
                ("earnFlexible", "/sapi/v1/simple-earn/flexible/history/rewardsRecord", true, Meter::SapiIp, 150)
            }
            Endpoint::EarnLocked => {
                ("earnLocked", "/sapi/v1/simple-earn/locked/history/rewardsRecord", true, Meter::SapiIp, 150)
            }
            Endpoint::Klines => ("klines", "/api/v3/klines", false, Meter::Api, 2),
            // Binance.US's own wallet history (binance.com has none of these paths): IP weight
            // 1 each as docs.binance.us lists them; `binanceus::api` sets them again.
            Endpoint::UsFiatDeposits => {
                ("fiatDepositHistory", "/sapi/v1/fiatpayment/query/deposit/history", true, Meter::SapiIp, 1)
            }
            Endpoint::UsFiatWithdrawals => {
                ("fiatWithdrawHistory", "/sapi/v1/fiatpayment/query/withdraw/history", true, Meter::SapiIp, 1)
            }
            Endpoint::UsStakingRewards => {
                ("stakingRewards", "/sapi/v1/staking/stakingRewardsHistory", true, Meter::SapiIp, 1)
            }
            Endpoint::UsDistributions => {
                ("distributions", "/sapi/v1/asset/assetDistributionHistory", true, Meter::SapiIp, 1)
            }
            Endpoint::UsDust => ("dustLogs", "/sapi/v1/asset/query/dust-logs", true, Meter::SapiIp, 1),
            Endpoint::UsOtc => ("otcOrders", "/sapi/v1/otc/orders", true, Meter::SapiIp, 1),
        }
    }
}

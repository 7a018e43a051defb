//! What Binance.US's API is, as a [`Venue`] of Binance's client: host, history endpoints,
//! weights and budgets.
//!
//! From the Binance.US REST API documentation
//! (<https://github.com/binance-us/binance-us-api-docs/blob/master/rest-api.md>):
//!
//! - base URL `https://api.binance.us`;
//! - `/api/v3/exchangeInfo` weight 10, `/api/v3/account` 10, `/api/v3/myTrades` 10,
//!   `/api/v3/klines` 1, `/api/v3/time` 1;
//! - the REQUEST_WEIGHT limit its `rateLimits` example shows is 1200 per minute and the
//!   RAW_REQUESTS one 5000 per 5 minutes; the client starts from these and takes the real
//!   figures from `exchangeInfo`'s `rateLimits` on the first request, as for Binance.
//!
//! History: Binance.US has crypto deposit and withdrawal history at Binance's paths
//! (`/sapi/v1/capital/deposit/hisrec`, `/sapi/v1/capital/withdraw/history`, listed at
//! <https://docs.binance.us/#wallet-endpoints>), but not binance.com's fiat orders and payments,
//! Convert trade flow, dust log, dividend record or Simple Earn endpoints (`/sapi/v1/fiat/*`,
//! `/sapi/v1/convert/tradeFlow`, `/sapi/v1/asset/dribblet`, `/sapi/v1/asset/assetDividend`,
//! `/sapi/v1/simple-earn/*`): those answer 404 there, so the walk does not ask them. It walks
//! Binance.US's own instead:
//!
//! - USD deposits and withdrawals, `GET /sapi/v1/fiatpayment/query/{deposit,withdraw}/history`
//!   (weight 1; `startTime`/`endTime` less than 90 days apart, `offset`; answer
//!   `{"assetLogRecordList": [...]}`, as the Binance.US wallet docs show them:
//!   <https://github.com/binance-us/binance-us-api-docs/blob/master/wapi-api.md#fiat-usd-deposit-history-user_data>);
//! - staking rewards, `GET /sapi/v1/staking/stakingRewardsHistory` (`page`/`limit`, answer
//!   `{"code","message","data":[...],"total","success"}`);
//! - distributions, `GET /sapi/v1/asset/assetDistributionHistory` (`limit`, answer
//!   `{"rows":[...],"total"}`);
//! - dust conversions, `GET /sapi/v1/asset/query/dust-logs` (answer
//!   `{"total","userDustConvertHistory":[...]}`);
//! - OTC (Convert) orders, `GET /sapi/v1/otc/orders` (`page`/`limit` up to 100, answer
//!   `{"total","rows":[...]}`).
//!
//! Only the fiat history's path, parameters, weight and list name are in a document cointally
//! could read (the docs repository above); the other four and every field beyond that
//! repository's examples follow docs.binance.us (<https://docs.binance.us/#staking-endpoints>,
//! `#wallet-endpoints`, `#otc-endpoints`), which could not be fetched from here: their shapes
//! are cointally's reading, weights are taken as 1, and README "### Binance.US" says so. The
//! staking rewards and OTC shapes agree with a third-party catalogue of Binance.US API tools
//! (<https://glama.ai/mcp/servers/Sperax/Binance-US-MCP/tools/binance_us_staking_rewards>,
//! <https://glama.ai/mcp/servers/Sperax/Binance-US-MCP/tools/binance_us_otc_all_orders>), a
//! second-hand source; the distribution and dust-log shapes have no such check.
//!
//! The key check asks `/sapi/v1/account/apiRestrictions` as on Binance; whatever it does not
//! answer (a flag missing, the endpoint refused) leaves withdrawal permission unknown, and an
//! unknown permission is refused unless `--allow-withdraw-key`.

use crate::binance::api::Endpoint;
use crate::binance::venue::Venue;

/// Binance.US's production API.
pub const DEFAULT_BASE_URL: &str = "https://api.binance.us";

/// Where Binance.US's walks through time begin: 2019-09-01 00:00:00 UTC. Binance.US opened
/// for sign-ups and deposits in mid-September 2019 (binance.com cut US users off on 12
/// September 2019 and Binance.US opened about a week later), so no record is older; the
/// first of the month leaves a margin for the exact day, which Binance.US's docs do not state.
pub const LAUNCH_MS: i64 = 1_567_296_000_000;

/// What a Binance.US sync does not fetch, and how to get it.
pub const NOT_FETCHED: &str = "not fetched: Binance.US staking principal moves (stake, unstake, \
auto-restaked rewards kept in the staking balance), referral rewards outside the distribution history \
and OCBS buys (`/sapi/v1/ocbs/orders`); cointally does not walk these Binance.US endpoints: import the \
account's transaction history export (`cointally import FILE --account LABEL`), or compare balances \
with `cointally check`";

/// Binance.US's weights where they differ from binance.com's.
fn weight(endpoint: Endpoint) -> Option<u64> {
    match endpoint {
        Endpoint::ExchangeInfo | Endpoint::Account | Endpoint::MyTrades => Some(10),
        Endpoint::Klines | Endpoint::Time => Some(1),
        // Binance.US's wallet, staking and OTC endpoints: weight 1 each (the fiat history's
        // weight 1 is in Binance.US's docs repository; docs.binance.us lists no heavier one
        // among those walked here).
        Endpoint::Deposits
        | Endpoint::Withdrawals
        | Endpoint::ApiRestrictions
        | Endpoint::UsFiatDeposits
        | Endpoint::UsFiatWithdrawals
        | Endpoint::UsStakingRewards
        | Endpoint::UsDistributions
        | Endpoint::UsDust
        | Endpoint::UsOtc => Some(1),
        _ => None,
    }
}

/// Binance.US as a venue of Binance's client.
pub static VENUE: Venue = Venue {
    name: "binanceus",
    title: "Binance.US",
    base_url: DEFAULT_BASE_URL,
    streams: &[
        ("deposits", ""),
        ("withdrawals", ""),
        ("fiatDepositHistory", ""),
        ("fiatWithdrawHistory", ""),
        ("stakingRewards", ""),
        ("distributions", ""),
        ("dustLogs", ""),
        ("otcOrders", ""),
    ],
    api_weight_per_minute: 1_200,
    raw_requests_per_5_minutes: 5_000,
    weight,
    launch_ms: LAUNCH_MS,
    not_fetched: ("stakingRewards", NOT_FETCHED),
};
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binance_com_only_endpoints_are_not_served() {
        for endpoint in [
            Endpoint::FiatOrders,
            Endpoint::FiatPayments,
            Endpoint::Convert,
            Endpoint::Dust,
            Endpoint::Dividends,
            Endpoint::EarnFlexible,
            Endpoint::EarnLocked,
        ] {
            assert!(!VENUE.serves(endpoint), "{endpoint:?}");
        }
        for endpoint in [
            Endpoint::MyTrades,
            Endpoint::Deposits,
            Endpoint::Withdrawals,
            Endpoint::ApiRestrictions,
            Endpoint::UsFiatDeposits,
            Endpoint::UsFiatWithdrawals,
            Endpoint::UsStakingRewards,
            Endpoint::UsDistributions,
            Endpoint::UsDust,
            Endpoint::UsOtc,
        ] {
            assert!(VENUE.serves(endpoint), "{endpoint:?}");
        }
        for endpoint in [Endpoint::UsFiatDeposits, Endpoint::UsStakingRewards, Endpoint::UsDust, Endpoint::UsOtc] {
            assert!(!crate::binance::venue::BINANCE.serves(endpoint), "binance.com has no {endpoint:?}");
        }
    }

    #[test]
    fn documented_weights_replace_binance_com_ones() {
        assert_eq!(VENUE.weight_of(Endpoint::MyTrades), 10);
        assert_eq!(VENUE.weight_of(Endpoint::Account), 10);
        assert_eq!(VENUE.weight_of(Endpoint::ExchangeInfo), 10);
        assert_eq!(VENUE.weight_of(Endpoint::Klines), 1);
        assert_ne!(Endpoint::MyTrades.weight(), 10, "binance.com's weight is another");
    }

    #[test]
    fn every_stream_is_walkable_by_binance_client() {
        for (name, _) in VENUE.streams {
            assert!(Endpoint::from_name(name).is_some(), "{name}");
        }
    }
}

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
//! `/sapi/v1/simple-earn/*`): those answer 404 there, so the walk does not ask them.
//! Binance.US's own fiat (`/sapi/v1/fiatpayment/query/{deposit,withdraw}/history`), staking
//! rewards (`/sapi/v1/staking/stakingRewardsHistory`), distribution
//! (`/sapi/v1/asset/assetDistributionHistory`), dust (`/sapi/v1/asset/query/dust-logs`) and OTC
//! (`/sapi/v1/otc/orders`) endpoints are not walked yet: [`NOT_FETCHED`] says so at the end of
//! every sync, and their history comes from the account's statement export.
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
pub const NOT_FETCHED: &str = "not fetched: Binance.US fiat deposits and withdrawals \
(`/sapi/v1/fiatpayment/query/…`), staking rewards (`/sapi/v1/staking/stakingRewardsHistory`), \
distributions and referral rewards (`/sapi/v1/asset/assetDistributionHistory`), dust conversions \
(`/sapi/v1/asset/query/dust-logs`) and OTC/Convert trades (`/sapi/v1/otc/orders`); cointally does not \
walk these Binance.US endpoints yet: export the account's history from Binance.US and import it \
(`cointally import FILE --account LABEL`) in the generic layout, or compare balances with `cointally check`";

/// Binance.US's weights where they differ from binance.com's.
fn weight(endpoint: Endpoint) -> Option<u64> {
    match endpoint {
        Endpoint::ExchangeInfo | Endpoint::Account | Endpoint::MyTrades => Some(10),
        Endpoint::Klines | Endpoint::Time => Some(1),
        // Binance.US's wallet endpoints: weight 1 each (docs.binance.us lists no heavier one
        // among those walked here).
        Endpoint::Deposits | Endpoint::Withdrawals | Endpoint::ApiRestrictions => Some(1),
        _ => None,
    }
}

/// Binance.US as a venue of Binance's client.
pub static VENUE: Venue = Venue {
    name: "binanceus",
    title: "Binance.US",
    base_url: DEFAULT_BASE_URL,
    streams: &[("deposits", ""), ("withdrawals", "")],
    api_weight_per_minute: 1_200,
    raw_requests_per_5_minutes: 5_000,
    weight,
    launch_ms: LAUNCH_MS,
    not_fetched: ("deposits", NOT_FETCHED),
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
        for endpoint in [Endpoint::MyTrades, Endpoint::Deposits, Endpoint::Withdrawals, Endpoint::ApiRestrictions] {
            assert!(VENUE.serves(endpoint), "{endpoint:?}");
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

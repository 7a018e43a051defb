//! A local Binance.US: Binance's simulator ([`crate::binance::sim`]) serving only the paths
//! Binance.US has, at its weights and budgets ([`super::api::VENUE`]), with an account whose
//! history holds what Binance.US's walked endpoints can show: spot trades and crypto deposits
//! and withdrawals.

use std::io;

use crate::binance::sim::{self, BinanceSim, SimConfig};
use crate::sim::generate::Profile;

use super::api::VENUE;

/// `profile` with only what Binance.US's walked endpoints show (no fiat, card buys, converts,
/// dust, distributions or Simple Earn, which are binance.com's endpoints; no failed records,
/// which the generator spreads over those kinds too).
pub fn us_profile(profile: Profile) -> Profile {
    Profile {
        fiat_transfers: 0,
        card_buys: 0,
        converts: 0,
        dust: 0,
        dividends: 0,
        earn_flexible: 0,
        earn_locked: 0,
        failed: 0,
        ..profile
    }
}

/// Generates the history of `config` (its profile reduced by [`us_profile`]) and serves it as
/// Binance.US.
pub fn start(config: SimConfig) -> io::Result<BinanceSim> {
    sim::start_at(&VENUE, SimConfig { profile: us_profile(config.profile.clone()), ..config })
}

#[cfg(test)]
mod tests;

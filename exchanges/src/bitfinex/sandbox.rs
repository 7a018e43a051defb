//! Bitfinex's bundled simulator as the registry offers it: `sandbox serve` and the demo's.

use std::sync::Arc;

use crate::Secret;
use crate::http::{Clock, Limiter};
use crate::sim::demo::{DemoSim, Serving, Simulator};
use crate::sim::generate::Activity;

use super::api::{BitfinexApi, DEFAULT_BUDGET};
use super::sim::history::BitfinexProfile;
use super::sim::{self, BitfinexSim, SimConfig, SimKey};

/// The registry's simulator capability for Bitfinex.
pub const SIMULATOR: Simulator = Simulator { serve, demo };

/// Serves the simulator with Bitfinex's documented limits, as cointally assumes by default.
fn serve(port: u16, seed: u64) -> std::io::Result<Serving> {
    let key = SimKey::demo();
    let sim = sim::start(SimConfig { port, key: key.clone(), ..SimConfig::demo(seed) })?;
    let url = sim.base_url();
    let intro = vec![
        format!("Bitfinex simulator on {url}"),
        format!("API key:    {}", key.api_key),
        format!("API secret: {} (a test value, good for this simulator only)", key.secret),
        format!(
            "Limits: {} requests per {} s per endpoint, as Bitfinex documents",
            DEFAULT_BUDGET.limit, DEFAULT_BUDGET.window_seconds
        ),
        String::new(),
        "Try it in another terminal:".to_owned(),
        format!("  export COINTALLY_BITFINEX_BASE_URL={url}"),
        format!("  export SIM_KEY={} SIM_SECRET={}", key.api_key, key.secret),
        "  cointally init && cointally account add bitfinex --label sim --key-env SIM_KEY --secret-env SIM_SECRET"
            .to_owned(),
        "  cointally sync".to_owned(),
    ];
    Ok(Serving { intro, server: Box::new(sim) })
}

/// The demo's Bitfinex: its generated account is synced.
struct Demo(BitfinexSim, SimKey);

/// Starts the demo's Bitfinex, funded with USD only: its generated crypto deposits and
/// withdrawals would have no side in the demo's wallet, and the demo's `check` must end clean.
/// Half the size of `sandbox serve`'s account: every fee and crypto-for-crypto side is valued
/// from the demo's candles, and the demo should stay quick.
fn demo(seed: u64) -> std::io::Result<Box<dyn DemoSim>> {
    let key = SimKey::demo();
    let profile = BitfinexProfile { crypto_transfers: false, entries: 300, ..BitfinexProfile::demo() };
    let sim = sim::start(SimConfig { key: key.clone(), profile, ..SimConfig::demo(seed) })?;
    Ok(Box::new(Demo(sim, key)))
}

impl DemoSim for Demo {
    fn base_url(&self) -> String {
        self.0.base_url()
    }

    fn key(&self) -> (Secret, Secret) {
        (Secret::new(self.1.api_key.clone()), Secret::new(self.1.secret.clone()))
    }

    fn limiter(&self, clock: Arc<dyn Clock>) -> Option<Arc<Limiter>> {
        self.0.budget().map(|budget| BitfinexApi::new_limiter(clock, budget))
    }

    fn external(&self) -> Vec<Activity> {
        // The demo's account moves no crypto in or out (see `demo`).
        Vec::new()
    }
}

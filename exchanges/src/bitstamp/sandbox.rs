//! Bitstamp's bundled simulator as the registry offers it: `sandbox serve` and the demo's.

use std::sync::Arc;

use crate::Secret;
use crate::http::{Clock, Limiter};
use crate::sim::demo::{DemoSim, Serving, Simulator};
use crate::sim::generate::Activity;

use super::api::{BitstampApi, Budget};
use super::sim::history::BitstampProfile;
use super::sim::{self, BitstampSim, SimConfig, SimKey};

/// The registry's simulator capability for Bitstamp.
pub const SIMULATOR: Simulator = Simulator { serve, demo };

/// Serves the simulator with Bitstamp's default budget, as cointally assumes by default.
fn serve(port: u16, seed: u64) -> std::io::Result<Serving> {
    let key = SimKey::demo();
    let sim = sim::start(SimConfig { port, key: key.clone(), ..SimConfig::demo(seed) })?;
    let url = sim.base_url();
    let intro = vec![
        format!("Bitstamp simulator on {url}"),
        format!("API key:    {}", key.api_key),
        format!("API secret: {} (a test value, good for this simulator only)", key.secret),
        format!("Budget: {} requests per {} s and 400 a second, as Bitstamp documents", Budget::DEFAULT.limit, Budget::DEFAULT.window_seconds),
        String::new(),
        "Try it in another terminal:".to_owned(),
        format!("  export COINTALLY_BITSTAMP_BASE_URL={url}"),
        format!("  export SIM_KEY={} SIM_SECRET={}", key.api_key, key.secret),
        "  cointally init && cointally account add bitstamp --label sim --key-env SIM_KEY --secret-env SIM_SECRET --allow-withdraw-key"
            .to_owned(),
        "  cointally sync".to_owned(),
        "(Bitstamp's API does not say what a key may do, so cointally asks for --allow-withdraw-key.)".to_owned(),
    ];
    Ok(Serving { intro, server: Box::new(sim) })
}

/// The demo's Bitstamp: its generated account is synced.
struct Demo(BitstampSim, SimKey);

/// Starts the demo's Bitstamp with the default budget, funded with fiat only: its generated
/// crypto deposits and withdrawals would have no side in the demo's wallet, and the demo's
/// `check` must end clean.
fn demo(seed: u64) -> std::io::Result<Box<dyn DemoSim>> {
    let key = SimKey::demo();
    let profile = BitstampProfile { crypto_transfers: false, ..BitstampProfile::demo() };
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
        self.0.budget().map(|budget| BitstampApi::new_limiter(clock, budget))
    }

    fn external(&self) -> Vec<Activity> {
        // The demo's account moves no crypto in or out (see `demo`).
        Vec::new()
    }
}

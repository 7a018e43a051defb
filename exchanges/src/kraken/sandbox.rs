//! Kraken's bundled simulator as the registry offers it: `sandbox serve` and the demo's.

use std::sync::Arc;

use crate::Secret;
use crate::http::{Clock, Limiter};
use crate::sim::demo::{DemoSim, Serving, Simulator};
use crate::sim::generate::Activity;

use super::api::{KrakenApi, Tier};
use super::sim::{self, KrakenSim, Limits, SimConfig, SimKey, history::KrakenProfile};

/// The registry's simulator capability for Kraken.
pub const SIMULATOR: Simulator = Simulator { serve, demo };

/// Serves the simulator with the Starter tier's call counter, as cointally assumes by default.
fn serve(port: u16, seed: u64) -> std::io::Result<Serving> {
    let key = SimKey::demo();
    let sim = sim::start(SimConfig {
        seed,
        profile: KrakenProfile::demo(),
        limits: Limits::Real(Tier::STARTER),
        faults: None,
        key: key.clone(),
        port,
    })?;
    let url = sim.base_url();
    let intro = vec![
        format!("Kraken simulator on {url}"),
        format!("API key:     {}", key.api_key),
        format!("Private key: {} (the public test value of Kraken's signing example)", key.secret),
        "Call counter: Starter tier (15, -0.33/s), as cointally assumes by default".to_owned(),
        String::new(),
        "Try it in another terminal:".to_owned(),
        format!("  export COINTALLY_KRAKEN_BASE_URL={url}"),
        format!("  export SIM_KEY={} SIM_SECRET={}", key.api_key, key.secret),
        "  cointally init && cointally account add kraken --label sim --key-env SIM_KEY --secret-env SIM_SECRET"
            .to_owned(),
        "  cointally sync".to_owned(),
    ];
    Ok(Serving { intro, server: Box::new(sim) })
}

/// The demo's Kraken: its generated account is synced.
struct Demo(KrakenSim, SimKey);

/// Starts the demo's Kraken: the Pro call counter decaying twenty times faster (the real
/// costs and limits at twenty times the pace).
fn demo(seed: u64) -> std::io::Result<Box<dyn DemoSim>> {
    let key = SimKey::demo();
    let sim = sim::start(SimConfig { key: key.clone(), ..SimConfig::demo(seed) })?;
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
        self.0.client_tier().map(|tier| KrakenApi::new_limiter(clock, tier))
    }

    fn external(&self) -> Vec<Activity> {
        self.0.external()
    }
}

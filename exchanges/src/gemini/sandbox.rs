//! Gemini's bundled simulator as the registry offers it: `sandbox serve` and the demo's.

use std::sync::Arc;

use crate::Secret;
use crate::http::{Clock, Limiter};
use crate::sim::demo::{DemoSim, Serving, Simulator};
use crate::sim::generate::Activity;

use super::api::GeminiApi;
use super::sim::history::GeminiProfile;
use super::sim::{self, GeminiSim, Limits, SimConfig, SimKey};

/// The registry's simulator capability for Gemini.
pub const SIMULATOR: Simulator = Simulator { serve, demo };

/// Serves the simulator with Gemini's documented budget.
fn serve(port: u16, seed: u64) -> std::io::Result<Serving> {
    let key = SimKey::demo();
    let sim = sim::start(SimConfig { limits: Limits::Real, port, ..SimConfig::demo(seed) })?;
    let url = sim.base_url();
    let intro = vec![
        format!("Gemini simulator on {url}"),
        format!("API key:    {}", key.api_key),
        format!("API secret: {} (the public test value of Gemini's signing example)", key.secret),
        "Budget: private calls in bursts of 5, 10 a second, as Gemini documents".to_owned(),
        "Public candles: GET /v2/candles/{symbol}/{time_frame}, for `cointally prices` (the same base URL)".to_owned(),
        String::new(),
        "Try it in another terminal:".to_owned(),
        format!("  export COINTALLY_GEMINI_BASE_URL={url}"),
        format!("  export SIM_KEY={} SIM_SECRET={}", key.api_key, key.secret),
        "  cointally init && cointally account add gemini --label sim --key-env SIM_KEY --secret-env SIM_SECRET"
            .to_owned(),
        "  cointally sync".to_owned(),
    ];
    Ok(Serving { intro, server: Box::new(sim) })
}

/// The demo's Gemini.
struct Demo(GeminiSim, SimKey);

/// Starts the demo's Gemini: BTC, ETH and USD only (what the demo's candles value), its
/// budget refilling twenty times faster.
fn demo(seed: u64) -> std::io::Result<Box<dyn DemoSim>> {
    let key = SimKey::demo();
    let sim = sim::start(SimConfig { key: key.clone(), profile: GeminiProfile::narrow(), ..SimConfig::demo(seed) })?;
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
        self.0.client_pace().map(|pace| GeminiApi::new_limiter(clock, pace))
    }

    fn external(&self) -> Vec<Activity> {
        self.0.external()
    }
}

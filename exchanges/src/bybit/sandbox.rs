//! Bybit's bundled simulator as the registry offers it: `sandbox serve` and the demo's.

use std::sync::Arc;

use rust_decimal::Decimal;

use crate::Secret;
use crate::http::{Clock, Limiter};
use crate::sim::demo::{DemoSim, Serving, Simulator};
use crate::sim::generate::Activity;

use super::api::{Budget, BybitApi, DEFAULT_BUDGET};
use super::sim::history::BybitProfile;
use super::sim::{self, BybitSim, SimConfig, SimKey};

/// The registry's simulator capability for Bybit.
pub const SIMULATOR: Simulator = Simulator { serve, demo };

/// Serves the simulator with the limits cointally assumes by default.
fn serve(port: u16, seed: u64) -> std::io::Result<Serving> {
    let key = SimKey::demo();
    let sim = sim::start(SimConfig { port, ..SimConfig::recent(seed, 600) })?;
    let url = sim.base_url();
    let intro = vec![
        format!("Bybit simulator on {url}"),
        format!("API key:    {}", key.api_key),
        format!("API secret: {} (a test value, good for this simulator only)", key.secret),
        format!("Limits: {} requests per {} s per endpoint", DEFAULT_BUDGET.limit, DEFAULT_BUDGET.window_seconds),
        String::new(),
        "Try it in another terminal:".to_owned(),
        format!("  export COINTALLY_BYBIT_BASE_URL={url}"),
        format!("  export SIM_KEY={} SIM_SECRET={}", key.api_key, key.secret),
        "  cointally init && cointally account add bybit --label sim --key-env SIM_KEY --secret-env SIM_SECRET"
            .to_owned(),
        "  cointally sync".to_owned(),
    ];
    Ok(Serving { intro, server: Box::new(sim) })
}

/// The demo's Bybit: a small account in 2025, unmetered (the demo paces nothing it need not).
struct Demo(BybitSim, SimKey);

fn demo(seed: u64) -> std::io::Result<Box<dyn DemoSim>> {
    let key = SimKey::demo();
    let profile = BybitProfile::demo();
    let sim = sim::start(SimConfig { profile, budget: None, ..SimConfig::recent(seed, 0) })?;
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
        Some(BybitApi::new_limiter(clock, Budget { limit: 1_000, window_seconds: 1 }))
    }

    fn external(&self) -> Vec<Activity> {
        self.0.external()
    }

    fn usd(&self, asset: &str, time_ms: i64) -> Option<Decimal> {
        self.0.usd(asset, time_ms)
    }

    /// The whole log (`bybit-log`) and the funding wallet's movements (generic format, keyed
    /// by the API's event ids): the demo year falls out of the API's two-year reach during
    /// 2027, and the files then give what the sync no longer can.
    fn history_files(&self) -> Vec<(String, String)> {
        vec![
            ("bybit-transaction-log.csv".to_owned(), self.0.log_csv()),
            ("bybit-funding-wallet.csv".to_owned(), self.0.funding_csv()),
        ]
    }
}

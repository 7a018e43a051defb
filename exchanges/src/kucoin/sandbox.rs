//! KuCoin's bundled simulator as the registry offers it: `sandbox serve` and the demo's.

use std::sync::Arc;

use crate::Secret;
use crate::http::budget::WindowBudget;
use crate::http::{Clock, Limiter};
use crate::sim::demo::{DemoSim, Serving, Simulator};
use crate::sim::generate::Activity;

use super::api::{DEFAULT_BUDGET, KucoinApi};
use super::sim::history::KucoinProfile;
use super::sim::{self, KucoinSim, SimConfig, SimKey};

/// The registry's simulator capability for KuCoin.
pub const SIMULATOR: Simulator = Simulator { serve, demo };

/// The Management pool of KuCoin's highest VIP level (12): the demo's walk from 2017 asks
/// about 480 weeks, which VIP 0's pace would take a quarter of a minute to allow.
const DEMO_BUDGET: WindowBudget = WindowBudget { limit: 40_000, window_seconds: 30 };

/// Serves the simulator with KuCoin's VIP 0 quota, as cointally assumes by default.
fn serve(port: u16, seed: u64) -> std::io::Result<Serving> {
    let key = SimKey::demo();
    let sim = sim::start(SimConfig { port, key: key.clone(), ..SimConfig::demo(seed) })?;
    let url = sim.base_url();
    let intro = vec![
        format!("KuCoin simulator on {url}"),
        format!("API key:        {}", key.api_key),
        format!("API secret:     {} (a test value, good for this simulator only)", key.secret),
        format!("API passphrase: {}", key.passphrase),
        format!(
            "Limits: {} weight per {} s in the Management pool, as KuCoin documents for VIP 0",
            DEFAULT_BUDGET.limit, DEFAULT_BUDGET.window_seconds
        ),
        String::new(),
        "Try it in another terminal:".to_owned(),
        format!("  export COINTALLY_KUCOIN_BASE_URL={url}"),
        format!("  export SIM_KEY={} SIM_SECRET={} SIM_PASSPHRASE={}", key.api_key, key.secret, key.passphrase),
        "  cointally init && cointally account add kucoin --label sim --key-env SIM_KEY --secret-env SIM_SECRET \
         --passphrase-env SIM_PASSPHRASE"
            .to_owned(),
        "  cointally sync".to_owned(),
    ];
    Ok(Serving { intro, server: Box::new(sim) })
}

/// The demo's KuCoin: its generated account is synced.
struct Demo(KucoinSim, SimKey);

/// Starts the demo's KuCoin, funded with EUR only (its generated crypto deposits and
/// withdrawals would have no side in the demo's wallet, and the demo's `check` must end clean),
/// small (~200 entries: every side is valued from candles, and the demo should stay quick).
fn demo(seed: u64) -> std::io::Result<Box<dyn DemoSim>> {
    let key = SimKey::demo();
    let profile = KucoinProfile { crypto_transfers: false, entries: 200, ..KucoinProfile::demo() };
    let sim = sim::start(SimConfig { key: key.clone(), profile, budget: Some(DEMO_BUDGET), ..SimConfig::demo(seed) })?;
    Ok(Box::new(Demo(sim, key)))
}

impl DemoSim for Demo {
    fn base_url(&self) -> String {
        self.0.base_url()
    }

    fn key(&self) -> (Secret, Secret) {
        (Secret::new(self.1.api_key.clone()), Secret::new(self.1.secret.clone()))
    }

    fn passphrase(&self) -> Option<Secret> {
        Some(Secret::new(self.1.passphrase.clone()))
    }

    fn limiter(&self, clock: Arc<dyn Clock>) -> Option<Arc<Limiter>> {
        self.0.budget().map(|budget| KucoinApi::new_limiter(clock, budget))
    }

    fn external(&self) -> Vec<Activity> {
        // The demo's account moves no crypto in or out (see `demo`).
        Vec::new()
    }
}

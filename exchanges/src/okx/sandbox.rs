//! OKX's bundled simulator as the registry offers it: `sandbox serve` and the demo's.

use std::sync::Arc;

use crate::Secret;
use crate::http::{Clock, Limiter};
use crate::sim::demo::{DemoSim, Serving, Simulator};
use crate::sim::generate::Activity;

use super::api::{Endpoint, OkxApi};
use super::sim::history::OkxProfile;
use super::sim::{self, OkxSim, SimConfig, SimKey};

/// The registry's simulator capability for OKX.
pub const SIMULATOR: Simulator = Simulator { serve, demo };

/// Serves the simulator with OKX's documented limits, as cointally assumes by default.
fn serve(port: u16, seed: u64) -> std::io::Result<Serving> {
    let key = SimKey::demo();
    let sim = sim::start(SimConfig { port, key: key.clone(), ..SimConfig::demo(seed) })?;
    let url = sim.base_url();
    let bills = Endpoint::BillsArchive.budget();
    let intro = vec![
        format!("OKX simulator on {url}"),
        format!("API key:    {}", key.api_key),
        format!("Secret key: {} (a test value, good for this simulator only)", key.secret),
        format!("Passphrase: {}", key.passphrase),
        format!(
            "Limits: OKX's per endpoint (bills-archive {} requests per {} s)",
            bills.limit, bills.window_seconds
        ),
        String::new(),
        "Try it in another terminal:".to_owned(),
        format!("  export COINTALLY_OKX_BASE_URL={url}"),
        format!("  export SIM_KEY={} SIM_SECRET={} SIM_PASSPHRASE={}", key.api_key, key.secret, key.passphrase),
        "  cointally init && cointally account add okx --label sim --key-env SIM_KEY --secret-env SIM_SECRET --passphrase-env SIM_PASSPHRASE"
            .to_owned(),
        "  cointally sync".to_owned(),
    ];
    Ok(Serving { intro, server: Box::new(sim) })
}

/// The demo's OKX: its generated account is synced.
struct Demo(OkxSim, SimKey);

/// Starts the demo's OKX, funded with EUR only: its generated crypto deposits and withdrawals
/// would have no side in the demo's wallet, and the demo's `check` must end clean. Small (200
/// bills, Simple Earn positions of 8 hours at most): every side and earning is valued from the
/// demo's candles, and the demo should stay quick.
fn demo(seed: u64) -> std::io::Result<Box<dyn DemoSim>> {
    let key = SimKey::demo();
    let profile = OkxProfile { crypto_transfers: false, bills: 200, earn_hours: 8, ..OkxProfile::demo() };
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

    fn passphrase(&self) -> Option<Secret> {
        Some(Secret::new(self.1.passphrase.clone()))
    }

    fn limiter(&self, clock: Arc<dyn Clock>) -> Option<Arc<Limiter>> {
        Some(OkxApi::new_limiter(clock, self.0.budget()))
    }

    fn external(&self) -> Vec<Activity> {
        // The demo's account moves no crypto in or out (see `demo`).
        Vec::new()
    }
}

//! Binance.US's bundled simulator as the registry offers it: `sandbox serve --exchange binanceus`
//! (or `binance-us`).

use rust_decimal::Decimal;

use crate::Secret;
use crate::binance::sim::{BinanceSim, Limits, SimConfig, SimKey};
use crate::sim::demo::{DemoSim, Serving, Simulator};
use crate::sim::generate::{Activity, Profile};

/// Mixed into the demo's seed, so the demo's Binance.US account is not its Binance one.
const DEMO_SEED_SALT: u64 = 0x5553; // "US"

/// The registry's simulator capability for Binance.US.
pub const SIMULATOR: Simulator = Simulator { serve, demo };

/// Serves the simulator with Binance.US's real limits.
fn serve(port: u16, seed: u64) -> std::io::Result<Serving> {
    let key = SimKey::demo();
    let config =
        SimConfig { seed, profile: Profile::demo(), limits: Limits::Real, faults: None, key: key.clone(), port };
    let sim = super::sim::start(config)?;
    let url = sim.base_url();
    let intro = vec![
        format!("Binance.US simulator on {url}"),
        format!("API key:    {}", key.api_key),
        format!("API secret: {} (a public test value from Binance.US's documentation)", key.secret),
        String::new(),
        "Try it in another terminal:".to_owned(),
        format!("  export COINTALLY_BINANCEUS_BASE_URL={url}"),
        format!("  export SIM_KEY={} SIM_SECRET={}", key.api_key, key.secret),
        "  cointally init && cointally account add binanceus --label sim --key-env SIM_KEY --secret-env SIM_SECRET"
            .to_owned(),
        "  cointally sync".to_owned(),
    ];
    Ok(Serving { intro, server: Box::new(sim) })
}

/// The demo's Binance.US: its generated account is synced; it prices nothing (no candles
/// are read from it), its market gives the basis of the wallet's opening deposits.
struct Demo(BinanceSim);

/// Starts the demo's Binance.US: its per-minute budgets counted per second (the documented
/// weights and limits at sixty times the pace, so the demo takes seconds).
fn demo(seed: u64) -> std::io::Result<Box<dyn DemoSim>> {
    let sim = super::sim::start(SimConfig {
        seed: seed ^ DEMO_SEED_SALT,
        profile: Profile::demo(),
        limits: Limits::Scaled { window: std::time::Duration::from_secs(1) },
        faults: None,
        key: SimKey::demo(),
        port: 0,
    })?;
    Ok(Box::new(Demo(sim)))
}

impl DemoSim for Demo {
    fn base_url(&self) -> String {
        self.0.base_url()
    }

    fn key(&self) -> (Secret, Secret) {
        let key = SimKey::demo();
        (Secret::new(key.api_key), Secret::new(key.secret))
    }

    fn external(&self) -> Vec<Activity> {
        self.0.external()
    }

    fn usd(&self, asset: &str, time_ms: i64) -> Option<Decimal> {
        self.0.usd(asset, time_ms)
    }
}

//! Binance's bundled simulator as the registry offers it: `sandbox serve` and the demo's.

use std::sync::Arc;

use rust_decimal::Decimal;

use crate::Secret;
use crate::http::{ClientConfig, Clock};
use crate::prices::CandleSource;
use crate::sim::demo::{DemoPrices, DemoSim, Serving, Simulator};
use crate::sim::generate::{Activity, Profile};

use super::prices::BinancePrices;
use super::sim::{self, BinanceSim, Limits, SimConfig, SimKey};

/// The registry's simulator capability for Binance.
pub const SIMULATOR: Simulator = Simulator { serve, demo };

/// Serves the simulator with Binance's real limits.
fn serve(port: u16, seed: u64) -> std::io::Result<Serving> {
    let key = SimKey::demo();
    let config =
        SimConfig { seed, profile: Profile::demo(), limits: Limits::Real, faults: None, key: key.clone(), port };
    let sim = sim::start(config)?;
    let url = sim.base_url();
    let intro = vec![
        format!("Binance simulator on {url}"),
        format!("API key:    {}", key.api_key),
        format!("API secret: {} (a public test value from Binance's documentation)", key.secret),
        String::new(),
        "Try it in another terminal:".to_owned(),
        format!("  export COINTALLY_BINANCE_BASE_URL={url}"),
        format!("  export SIM_KEY={} SIM_SECRET={}", key.api_key, key.secret),
        "  cointally init && cointally account add binance --label sim --key-env SIM_KEY --secret-env SIM_SECRET"
            .to_owned(),
        "  cointally sync".to_owned(),
    ];
    Ok(Serving { intro, server: Box::new(sim) })
}

/// The demo's Binance: its generated account is synced, its klines price, its market gives
/// the basis of the wallet's opening deposits.
struct Demo(BinanceSim);

/// Starts the demo's Binance: Binance's per-minute budgets counted per second (the real
/// weights and limits at sixty times the pace, so the demo takes seconds).
fn demo(seed: u64) -> std::io::Result<Box<dyn DemoSim>> {
    let sim = sim::start(SimConfig {
        seed,
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

    fn prices(&self, config: ClientConfig, clock: Arc<dyn Clock>) -> DemoPrices {
        let source = BinancePrices::new(Some(&self.0.base_url()), config, clock);
        Some(source.map(|source| (Box::new(source) as Box<dyn CandleSource>, "Binance candles".to_owned())))
    }

    fn external(&self) -> Vec<Activity> {
        self.0.external()
    }

    fn usd(&self, asset: &str, time_ms: i64) -> Option<Decimal> {
        self.0.usd(asset, time_ms)
    }
}

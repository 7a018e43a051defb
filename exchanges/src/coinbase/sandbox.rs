//! Coinbase's bundled simulator as the registry offers it: `sandbox serve` and the demo's.

use std::sync::Arc;

use crate::http::{ClientConfig, Clock, Limiter};
use crate::prices::CandleSource;
use crate::sim::demo::{Answer, DemoPrices, DemoSim, Serving, Simulator};
use crate::sim::generate::Activity;
use crate::{EventKind, Secret};

use super::api::{Budget, CoinbaseApi};
use super::prices::CoinbasePrices;
use super::sim::{self, AccountsConfig, CoinbaseSim, CoinbaseSimConfig, Limits};

/// The registry's simulator capability for Coinbase.
pub const SIMULATOR: Simulator = Simulator { serve, demo };

/// Serves the simulator (Coinbase Exchange's public market data, and a generated account
/// behind the App v2 and Advanced Trade v3 APIs) with Coinbase's limits.
fn serve(port: u16, seed: u64) -> std::io::Result<Serving> {
    let sim = sim::start(CoinbaseSimConfig { port, ..CoinbaseSimConfig::demo(seed) })?;
    let url = sim.base_url();
    let key = sim.key().clone();
    let intro = vec![
        format!(
            "Coinbase simulator (Coinbase Exchange's public market data, and a generated account behind the App v2 \
             and Advanced Trade v3 APIs) on {url}"
        ),
        format!("Key name:    {}", key.key_name),
        format!(
            "Private key: {} (the public test key of the Ed25519 example in Coinbase's JWT notes)",
            key.private_key
        ),
        String::new(),
        "Try it in another terminal:".to_owned(),
        format!("  export COINTALLY_COINBASE_BASE_URL={url}"),
        format!("  export COINTALLY_COINBASE_EXCHANGE_BASE_URL={url}"),
        format!("  export SIM_KEY='{}' SIM_SECRET='{}'", key.key_name, key.private_key),
        "  cointally init && cointally account add coinbase --label sim --key-env SIM_KEY --secret-env SIM_SECRET"
            .to_owned(),
        "  cointally sync".to_owned(),
        "  cointally prices".to_owned(),
    ];
    Ok(Serving { intro, server: Box::new(sim) })
}

/// The demo's Coinbase: its generated account is synced, its candles price (first).
struct Demo(CoinbaseSim);

/// How many times faster than Coinbase's time the demo's client paces itself, against a
/// simulator without limits (its candles price the demo).
const DEMO_SPEED: u32 = 1000;

/// Starts the demo's Coinbase, without limits.
fn demo(seed: u64) -> std::io::Result<Box<dyn DemoSim>> {
    let sim = sim::start_with_accounts(
        CoinbaseSimConfig { limits: Limits::Off, ..CoinbaseSimConfig::demo(seed) },
        AccountsConfig::demo(),
    )?;
    Ok(Box::new(Demo(sim)))
}

/// The owner's answers: sends to other Coinbase users (withdrawals that reach no wallet of
/// the ledger) were gifts, and the payout types cointally does not know (kept as kind
/// `unknown`) were income.
const ANSWERS: &[Answer] = &[
    Answer { finding: "unmatched_withdrawal", kind: EventKind::Gift },
    Answer { finding: "missing_basis", kind: EventKind::Income },
    Answer { finding: "unknown_kind", kind: EventKind::Income },
];

impl DemoSim for Demo {
    fn base_url(&self) -> String {
        self.0.base_url()
    }

    fn key(&self) -> (Secret, Secret) {
        let key = self.0.key();
        (Secret::new(key.key_name.clone()), Secret::new(key.private_key.clone()))
    }

    fn limiter(&self, clock: Arc<dyn Clock>) -> Option<Arc<Limiter>> {
        Some(CoinbaseApi::new_limiter(clock, Budget::scaled(DEMO_SPEED)))
    }

    fn prices(&self, config: ClientConfig, clock: Arc<dyn Clock>) -> DemoPrices {
        let url = self.0.base_url();
        let source = CoinbasePrices::with_rate(Some(&url), config, clock, f64::from(DEMO_SPEED));
        Some(source.map(|source| (Box::new(source) as Box<dyn CandleSource>, format!("Coinbase Exchange ({url})"))))
    }

    fn external(&self) -> Vec<Activity> {
        self.0.account().external
    }

    fn answers(&self) -> (&'static [Answer], &'static str) {
        (ANSWERS, "sends to other users → gift, unknown payouts → income")
    }
}

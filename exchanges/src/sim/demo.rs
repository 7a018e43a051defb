//! What `cointally sandbox serve` and `cointally demo` need from an exchange's bundled
//! simulator: the simulator capability of a registry entry (only with the `sandbox` feature).

use std::sync::Arc;

use rust_decimal::Decimal;

/// The history records the demo reads back from a simulator (its account's outside side).
pub use super::generate::{Activity, Outcome};
use crate::http::{ClientConfig, Clock, FetchError, Limiter};
use crate::prices::CandleSource;
use crate::{EventKind, Secret};

/// A demo simulator's price source and the name the demo gives it, or why it could not open.
pub type DemoPrices = Option<Result<(Box<dyn CandleSource>, String), FetchError>>;

/// An exchange's bundled simulator.
#[derive(Clone, Copy)]
pub struct Simulator {
    /// Serves the simulator on 127.0.0.1 at `port` (0: any free port) with the history of
    /// `seed`, limited as the real exchange: what to tell the user, and the running server.
    pub serve: fn(port: u16, seed: u64) -> std::io::Result<Serving>,
    /// Starts the simulator the demo syncs, with the history of `seed`.
    pub demo: fn(seed: u64) -> std::io::Result<Box<dyn DemoSim>>,
}

/// A simulator serving until dropped.
pub struct Serving {
    /// Lines for standard output: where it listens, its key, how to try it.
    pub intro: Vec<String>,
    /// The running server; dropping it stops it.
    pub server: Box<dyn Send>,
}

/// How the demo answers `check` for a simulated account, as its owner would.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Answer {
    /// The finding's kind (`unmatched_withdrawal`).
    pub finding: &'static str,
    /// The kind its events are given.
    pub kind: EventKind,
}

/// A simulator running for the demo.
pub trait DemoSim: Send + Sync {
    /// Where it listens.
    fn base_url(&self) -> String;

    /// The key it accepts: (key, secret).
    fn key(&self) -> (Secret, Secret);

    /// The passphrase it accepts, for an exchange whose keys have one (KuCoin, OKX).
    fn passphrase(&self) -> Option<Secret> {
        None
    }

    /// The limiter the client paces itself with against it, when not the exchange's own.
    fn limiter(&self, _clock: Arc<dyn Clock>) -> Option<Arc<Limiter>> {
        None
    }

    /// Its candles as a price source for the demo, with how the demo names it, if it prices.
    fn prices(&self, _config: ClientConfig, _clock: Arc<dyn Clock>) -> DemoPrices {
        None
    }

    /// The other side of its account's deposits and withdrawals (the person's own wallet).
    fn external(&self) -> Vec<Activity>;

    /// The simulated market's USD price of `asset` at `time_ms`, if it has one.
    fn usd(&self, _asset: &str, _time_ms: i64) -> Option<Decimal> {
        None
    }

    /// Files of its account's history, as the exchange's user would import them for what the
    /// API does not reach: (file name, text). The demo imports them after the sync; they meet
    /// the synced events (the same ids), so they add only what the API could not give.
    fn history_files(&self) -> Vec<(String, String)> {
        Vec::new()
    }

    /// How the demo answers `check` for its account, and why in a few words; empty: nothing to answer.
    fn answers(&self) -> (&'static [Answer], &'static str) {
        (&[], "")
    }
}

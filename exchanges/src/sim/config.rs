//! What shapes a simulator run, the same for every exchange's simulator: the seed and size of
//! the history it serves, its rate limits, the faults it injects, the key it accepts and the
//! port it binds.

use super::faults::FaultConfig;

/// Everything that shapes a simulator run; `P` is the exchange's history profile, `L` its
/// limits and `K` its key (each exchange names its own with a type alias).
#[derive(Debug, Clone)]
pub struct SimConfig<P, L, K> {
    /// Seed of the market and the history.
    pub seed: u64,
    /// Size of the history.
    pub profile: P,
    /// The rate limits the simulator enforces.
    pub limits: L,
    /// Injected faults, if any.
    pub faults: Option<FaultConfig>,
    /// The accepted key.
    pub key: K,
    /// Port to bind on 127.0.0.1 (0: chosen by the OS).
    pub port: u16,
}

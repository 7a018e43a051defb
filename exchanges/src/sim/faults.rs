//! Injected failures for the simulators, decided per request from a seeded random sequence.
//!
//! Each request draws once: with probability `rate_permille / 1000` it gets a fault, of a
//! kind picked uniformly from [`FaultConfig::kinds`]. The sequence of draws is the same for
//! a given seed, so a failing test can be re-run; a retry is simply the next draw, so a
//! fault never sticks to one request.
//!
//! A [`FaultKind::Timeout`] stays silent for [`DEFAULT_TIMEOUT_DELAY`] (3 s: longer than the
//! 2-second read timeout the HTTP kit uses under `COINTALLY_HTTP_FAST=1`), or for
//! `COINTALLY_SIM_TIMEOUT_MS` milliseconds when that is set, or as set on the running server;
//! then it drops the connection, which a client with a longer read timeout also sees as a failure.

use std::collections::BTreeMap;
use std::time::Duration;

/// One kind of injected failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FaultKind {
    /// HTTP 500, 502 or 503 with the exchange's error body.
    ServerError,
    /// No answer for the timeout delay (see the module docs), then the connection is dropped.
    Timeout,
    /// The headers promise the full body, half of it is sent, then the connection closes.
    Truncated,
    /// HTTP 429 with `Retry-After: 1` and the exchange's rate-limit body.
    TooManyRequests,
}

impl FaultKind {
    /// Every kind, for a configuration that wants all of them.
    pub const ALL: [FaultKind; 4] =
        [FaultKind::ServerError, FaultKind::Timeout, FaultKind::Truncated, FaultKind::TooManyRequests];

    /// The kind's name in statistics (`server_error`, `timeout`, `truncated`, `too_many_requests`).
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::ServerError => "server_error",
            FaultKind::Timeout => "timeout",
            FaultKind::Truncated => "truncated",
            FaultKind::TooManyRequests => "too_many_requests",
        }
    }
}

/// Which faults to inject, how often, and from which seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultConfig {
    /// Faults per thousand requests (0 = none, 1000 = every request).
    pub rate_permille: u32,
    /// Seed of the draw sequence.
    pub seed: u64,
    /// The kinds to pick from (uniformly); empty means no faults.
    pub kinds: Vec<FaultKind>,
}

impl FaultConfig {
    /// Every kind at `rate_permille`.
    pub fn all(rate_permille: u32, seed: u64) -> FaultConfig {
        FaultConfig { rate_permille, seed, kinds: FaultKind::ALL.to_vec() }
    }
}

/// How long a timeout fault stays silent unless told otherwise.
pub const DEFAULT_TIMEOUT_DELAY: Duration = Duration::from_secs(3);

/// The timeout delay: `COINTALLY_SIM_TIMEOUT_MS` if set to a number, else [`DEFAULT_TIMEOUT_DELAY`].
fn timeout_delay_from_env() -> Duration {
    std::env::var("COINTALLY_SIM_TIMEOUT_MS")
        .ok()
        .and_then(|text| text.trim().parse::<u64>().ok())
        .map_or(DEFAULT_TIMEOUT_DELAY, Duration::from_millis)
}

/// The running state of a fault configuration: its random sequence and what it injected.
#[derive(Debug)]
pub struct Faults {
    config: FaultConfig,
    timeout_delay: Duration,
    rng: fastrand::Rng,
    injected: BTreeMap<String, u64>,
}

impl Faults {
    /// The state at the start of the sequence.
    pub fn new(config: FaultConfig) -> Faults {
        let rng = fastrand::Rng::with_seed(config.seed);
        Faults { config, timeout_delay: timeout_delay_from_env(), rng, injected: BTreeMap::new() }
    }

    /// The next draw: `None` (serve normally) or the fault and, for server errors, the status.
    pub fn draw(&mut self) -> Option<(FaultKind, u16)> {
        let roll = self.rng.u32(0..1000);
        let pick = self.rng.usize(0..usize::MAX);
        let status_pick = self.rng.u8(0..3);
        if roll >= self.config.rate_permille || self.config.kinds.is_empty() {
            return None;
        }
        let kind = self.config.kinds[pick % self.config.kinds.len()];
        let status = match kind {
            FaultKind::ServerError => [500, 502, 503][usize::from(status_pick)],
            FaultKind::TooManyRequests => 429,
            FaultKind::Timeout | FaultKind::Truncated => 0,
        };
        *self.injected.entry(kind.name().to_owned()).or_insert(0) += 1;
        Some((kind, status))
    }

    /// How long a timeout fault stays silent.
    pub fn timeout_delay(&self) -> Duration {
        self.timeout_delay
    }

    /// Changes how long a timeout fault stays silent.
    pub fn set_timeout_delay(&mut self, delay: Duration) {
        self.timeout_delay = delay;
    }

    /// Faults injected so far, by kind name.
    pub fn injected(&self) -> BTreeMap<String, u64> {
        self.injected.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_come_at_roughly_the_configured_rate() {
        let mut faults = Faults::new(FaultConfig::all(100, 7));
        let hits = (0..20_000).filter(|_| faults.draw().is_some()).count();
        assert!((1_700..2_300).contains(&hits), "{hits} faults in 20000 draws at 10%");
        let injected = faults.injected();
        assert_eq!(injected.values().sum::<u64>(), hits as u64);
        for kind in FaultKind::ALL {
            let count = injected.get(kind.name()).copied().unwrap_or(0);
            assert!(count > 350, "{kind:?} only {count} times");
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_sequence() {
        let run = |seed| {
            let mut faults = Faults::new(FaultConfig::all(300, seed));
            (0..500).map(|_| faults.draw()).collect::<Vec<_>>()
        };
        assert_eq!(run(1), run(1));
        assert_ne!(run(1), run(2));
    }

    #[test]
    fn zero_rate_or_no_kinds_never_faults() {
        let mut none = Faults::new(FaultConfig::all(0, 1));
        assert!((0..1000).all(|_| none.draw().is_none()));
        let mut empty = Faults::new(FaultConfig { kinds: vec![], ..FaultConfig::all(1000, 1) });
        assert!((0..1000).all(|_| empty.draw().is_none()));
        let mut always = Faults::new(FaultConfig { kinds: vec![FaultKind::ServerError], ..FaultConfig::all(1000, 1) });
        for _ in 0..100 {
            let (kind, status) = always.draw().unwrap();
            assert_eq!(kind, FaultKind::ServerError);
            assert!([500, 502, 503].contains(&status));
        }
    }
}

//! What a simulator saw, as its tests and benchmarks read it: requests in all and per path,
//! refusals, faults.

use std::collections::BTreeMap;

use crate::sim::server::Server;

/// What the simulator saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimStats {
    /// Every request read, faulted ones included.
    pub requests: u64,
    /// Requests per path that reached the handler.
    pub requests_by_path: BTreeMap<String, u64>,
    /// Requests refused for their authentication (a stale nonce or timestamp included).
    pub refused: u64,
    /// Requests refused for the rate limit or budget.
    pub rate_limited: u64,
    /// Injected faults.
    pub faults: u64,
}

impl SimStats {
    /// These counts with the server's own: every request read and every fault injected.
    pub fn with_server_counts(mut self, server: &Server) -> SimStats {
        self.requests = server.requests();
        self.faults = server.faults_injected().values().sum();
        self
    }
}

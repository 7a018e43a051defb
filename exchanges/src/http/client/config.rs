//! Timeouts and retry policy of a client, and the environment variables that adjust them.

use std::time::Duration;

/// Timeouts and retry policy of a [`Client`](super::Client).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// Longest wait for a TCP/TLS connection.
    pub connect_timeout: Duration,
    /// Longest wait for the answer's head, and for each read of its body.
    pub read_timeout: Duration,
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// The backoff ceiling after the first failure; it doubles with each further failure.
    pub backoff_base: Duration,
    /// The backoff ceiling never grows beyond this.
    pub backoff_max: Duration,
    /// A ban longer than this fails the request instead of waiting it out.
    pub max_ban_wait: Duration,
}

impl Default for ClientConfig {
    /// Production values: 10 s connect, 30 s read, 8 attempts, backoff 500 ms doubling to
    /// 60 s, bans waited out up to 5 minutes.
    fn default() -> ClientConfig {
        ClientConfig {
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            max_attempts: 8,
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(60),
            max_ban_wait: Duration::from_secs(300),
        }
    }
}

impl ClientConfig {
    /// The defaults, adjusted by the environment: `COINTALLY_HTTP_TIMEOUT_MS` (read timeout)
    /// and, only in builds with the `sandbox` feature, `COINTALLY_HTTP_FAST=1` (tests: backoff
    /// 1 ms doubling to 20 ms, read timeout 2 s).
    pub fn from_env() -> ClientConfig {
        ClientConfig::from_vars(|name| std::env::var(name).ok())
    }

    /// [`ClientConfig::from_env`] reading variables through `var` (testable without touching
    /// the process environment).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> ClientConfig {
        let mut config = ClientConfig::default();
        // A test switch: it exists only in builds with the simulators.
        #[cfg(feature = "sandbox")]
        if var("COINTALLY_HTTP_FAST").is_some_and(|value| matches!(value.trim(), "1" | "true" | "yes")) {
            config.backoff_base = Duration::from_millis(1);
            config.backoff_max = Duration::from_millis(20);
            config.read_timeout = Duration::from_secs(2);
        }
        if let Some(ms) = var("COINTALLY_HTTP_TIMEOUT_MS").and_then(|value| value.trim().parse::<u64>().ok()) {
            if ms > 0 {
                config.read_timeout = Duration::from_millis(ms);
            }
        }
        config
    }
}

#[cfg(test)]
impl ClientConfig {
    /// For tests against a local server: millisecond backoff, the given read timeout and attempts.
    pub(crate) fn for_tests(read_timeout: Duration, max_attempts: u32) -> ClientConfig {
        ClientConfig {
            read_timeout,
            backoff_base: Duration::from_millis(1),
            backoff_max: Duration::from_millis(10),
            max_attempts,
            ..ClientConfig::default()
        }
    }
}

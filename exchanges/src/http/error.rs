//! What can go wrong when talking to an exchange, said so that a person can act on it.

/// Why a request to an exchange failed (after retries, where retrying made sense).
///
/// Messages name the exchange and the endpoint and never carry a secret: URLs in them have
/// their query strings (where signatures live) removed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// The exchange refused the key or its signature (wrong key, wrong secret, IP not
    /// whitelisted, permission missing).
    #[error("{exchange} refused the API key on {endpoint}: {message}")]
    Auth {
        /// The exchange's name.
        exchange: String,
        /// The endpoint asked.
        endpoint: String,
        /// The exchange's own words (code and message).
        message: String,
    },
    /// The exchange answered with an error that retrying will not fix.
    #[error("{exchange} {endpoint}: {message}")]
    Api {
        /// The exchange's name.
        exchange: String,
        /// The endpoint asked.
        endpoint: String,
        /// HTTP status.
        status: u16,
        /// The exchange's error code, as text (`-1121`, `EAPI:Invalid nonce`).
        code: String,
        /// The exchange's message.
        message: String,
    },
    /// The exchange banned this IP for too many requests; nothing may be sent before then.
    #[error("{exchange} banned this IP address for too many requests until {until}")]
    Banned {
        /// The exchange's name.
        exchange: String,
        /// When the ban ends (RFC 3339, UTC).
        until: String,
    },
    /// Retrying did not help.
    #[error("{exchange} {endpoint}: gave up after {attempts} attempts; last: {last}")]
    GaveUp {
        /// The exchange's name.
        exchange: String,
        /// The endpoint asked.
        endpoint: String,
        /// How many attempts were made.
        attempts: u32,
        /// What went wrong the last time.
        last: String,
    },
    /// The answer was not what the endpoint documents (bad JSON, a missing field).
    #[error("{exchange} {endpoint}: unexpected answer: {reason}")]
    Malformed {
        /// The exchange's name.
        exchange: String,
        /// The endpoint asked.
        endpoint: String,
        /// What was wrong with it.
        reason: String,
    },
    /// The server answered with a redirect. Redirects are never followed: a key is only ever
    /// sent to the host it was given for, so the answer is refused and names where it pointed.
    #[error(
        "{exchange} {endpoint}: the server answered HTTP {status}, a redirect to {target}; cointally never follows redirects, so nothing was sent there"
    )]
    Redirected {
        /// The exchange's name.
        exchange: String,
        /// The endpoint asked.
        endpoint: String,
        /// HTTP status (3xx).
        status: u16,
        /// The host (and port) the answer pointed at, never its path or query.
        target: String,
    },
    /// The request could not be built or the client not set up (bad base URL, bad key format).
    #[error("{exchange}: {reason}")]
    Setup {
        /// The exchange's name.
        exchange: String,
        /// What is wrong.
        reason: String,
    },
}

impl FetchError {
    /// Whether the error means the key itself is wrong or refused (exit code and hints).
    pub fn is_auth(&self) -> bool {
        matches!(self, FetchError::Auth { .. })
    }
}

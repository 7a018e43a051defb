//! Local stand-ins for the exchanges' private APIs, for tests, benchmarks and the sandbox.
//!
//! [`server`] is the HTTP/1.1 server (on `hyper`) that any simulator plugs a handler
//! into; [`faults`] injects failures (5xx, silence, cut-off bodies, 429s) at a seeded rate;
//! [`generate`] builds the one deterministic multi-year history of one person, with its
//! market prices, that every exchange simulator serves in its own format (Binance's is
//! `crate::binance::sim`).
//!
//! The toolkit an exchange's simulator is built from, so that it holds only its endpoints and
//! its data: [`now_ms`] (the wall clock), [`counters`] (decaying counters, fixed windows, budget
//! shares), [`config`] (what shapes a run), [`ids`] and [`amounts`] (seeded identifiers, exchange rounding), and [`json`]
//! (records rendered once through `serde_json`, pages of raw records, ordered objects).

pub mod amounts;
pub mod config;
pub mod counters;
pub mod demo;
pub mod faults;
pub mod generate;
pub mod ids;
pub mod json;
mod message;
pub mod server;
pub mod stats;

pub use faults::{FaultConfig, FaultKind};
pub use generate::{Activity, History, Market, Profile, World, generate};
pub use server::{Delivery, Handler, Request, Response, Server};

/// The wall clock as the simulators read it: ms since the Unix epoch. (Code that needs time
/// to stand still takes "now" as a parameter, or a [`Clock`](crate::http::Clock) such as
/// [`ManualClock`](crate::http::ManualClock).)
pub fn now_ms() -> i64 {
    use crate::http::Clock as _;
    crate::http::SystemClock.now_ms()
}

/// An insertion armed by a test: after this many more calls, add this many records.
pub type Armed = std::sync::Mutex<Option<(u32, usize)>>;

/// Counts one call against an armed insertion; returns how many records to add now (once,
/// when the count runs out), so a test can slip history in between two pages of a walk.
pub fn countdown(armed: &Armed) -> Option<usize> {
    let mut pending = armed.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let (calls, count) = pending.as_mut()?;
    *calls = calls.saturating_sub(1);
    let count = *count;
    if *calls == 0 {
        *pending = None;
        Some(count)
    } else {
        None
    }
}

//! Local stand-ins for the exchanges' private APIs, for tests, benchmarks and the sandbox.
//!
//! [`server`] is a small HTTP/1.1 server on `std::net` that any simulator plugs a handler
//! into; [`faults`] injects failures (5xx, silence, cut-off bodies, 429s) at a seeded rate;
//! [`generate`] builds the one deterministic multi-year history of one person, with its
//! market prices, that every exchange simulator serves in its own format (Binance's is
//! `crate::binance::sim`).

pub mod faults;
pub mod generate;
pub mod server;

pub use faults::{FaultConfig, FaultKind};
pub use generate::{Activity, History, Market, Profile, World, generate};
pub use server::{Handler, Request, Response, Server};

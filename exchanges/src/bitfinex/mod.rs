//! Bitfinex: request signing, its currency codes, its API, its ledger and its simulator.
//!
//! [`auth`] signs authenticated calls (API v2: `bfx-` headers, HMAC-SHA384, a growing nonce),
//! [`api`] is the REST client (endpoint table, answers, per-endpoint limits), [`adapter`] walks
//! the ledger and the movements for the sync engine, [`normalize`] turns the ledger's stored
//! entries into events and [`movements`] the movements into tx-hash details of those events,
//! [`assets`] maps Bitfinex's currency codes to symbols, and [`sim`] is a local Bitfinex to test
//! against. [`csv`] reads Bitfinex's ledger export into the same events.
//!
//! Event ids: every ledger entry is one event keyed by its `ID`.

pub mod adapter;
pub mod api;
pub mod assets;
pub mod auth;
pub mod connect;
pub mod csv;
pub mod movements;
pub mod normalize;
#[cfg(feature = "sandbox")]
pub mod sandbox;
#[cfg(feature = "sandbox")]
pub mod sim;

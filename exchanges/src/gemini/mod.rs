//! Gemini: request signing, its currency codes and symbols, its API, normaliser and simulator.
//!
//! [`auth`] signs private calls (a base64 JSON payload in `X-GEMINI-PAYLOAD`, its HMAC-SHA384
//! in `X-GEMINI-SIGNATURE`) with growing nonces; [`api`] is the REST client (endpoint table,
//! error reasons, the private and public request budgets); [`adapter`] walks `transfers` and
//! `mytrades` per symbol for the sync engine; [`normalize`] turns the stored records into
//! events; [`csv`] reads Gemini's transaction history file; [`assets`] splits symbols (`ethgusd` → ETH/GUSD); [`sim`] is a local Gemini to test
//! against, offered by [`sandbox`] as `sandbox serve --exchange gemini`; [`prices`] is its
//! public daily candles as a price source (USD, EUR and GBP markets).

pub mod adapter;
pub mod api;
pub mod assets;
pub mod auth;
pub mod connect;
pub mod csv;
pub mod normalize;
pub mod prices;
#[cfg(feature = "sandbox")]
pub mod sandbox;
#[cfg(feature = "sandbox")]
pub mod sim;

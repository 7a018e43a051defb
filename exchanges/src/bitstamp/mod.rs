//! Bitstamp: request signing, its currency codes, its API, its history and its simulator.
//!
//! [`auth`] signs private calls (API v2 authentication: `X-Auth` headers, HMAC-SHA256 over the
//! request), [`api`] is the REST client (endpoint table, answers, the request budget),
//! [`adapter`] walks `user_transactions` for the sync engine, [`normalize`] turns its stored
//! records into events, [`assets`] maps Bitstamp's lowercase codes to symbols, and [`sim`] is a
//! local Bitstamp to test against. [`csv`] reads Bitstamp's transaction export into the same events.
//! [`csv_legacy`] reads the older export layout (no ids, times to the minute).
//! [`prices`] is its public OHLC as a price source (USD, EUR and GBP markets).
//! [`crypto_transactions`] reads `crypto-transactions` (tx hash, address, network of crypto
//! deposits and withdrawals) into details records of the events `user_transactions` makes.
//!
//! Event ids: every `user_transactions` record is one event keyed by its `id`;
//! `crypto-transactions` makes no event.

pub mod adapter;
pub mod api;
pub mod assets;
pub mod auth;
pub mod connect;
pub mod crypto_transactions;
pub mod csv;
pub mod csv_legacy;
pub mod normalize;
pub mod prices;
#[cfg(feature = "sandbox")]
pub mod sandbox;
#[cfg(feature = "sandbox")]
pub mod sim;

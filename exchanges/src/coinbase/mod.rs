//! Coinbase (retail app and Advanced Trade): CDP key signing and its history export files.
//!
//! Coinbase's "Transaction history" report (every header layout it has used since 2021) is read
//! by [`csv`]: one row per happening, the direction given by the row's transaction type, the
//! other side of a trade taken from the money columns or, for conversions and crypto-quoted
//! Advanced Trade fills, from the row's Notes. [`auth`] turns a CDP API key (ECDSA P-256 or
//! Ed25519) into the per-request JWT the App and Advanced Trade APIs require, and refuses the
//! legacy keys Coinbase expired in February 2025; [`key_file`] reads the JSON key file the CDP
//! portal downloads. [`prices`] reads Coinbase Exchange's public
//! candles as a price source, and [`sim`] is a local Coinbase that serves them and the account
//! APIs. [`api`] is the App v2 / Advanced Trade v3 client (JWT per request, errors, budgets),
//! [`adapter`] walks every wallet's transactions and the Advanced Trade fills (of every
//! portfolio, [`portfolios`]) for the sync engine, and [`normalize`] turns its stored records into events that meet the report's.

pub mod adapter;
pub mod api;
pub mod auth;
pub mod connect;
pub mod csv;
pub mod key_file;
pub mod normalize;
pub mod portfolios;
pub mod prices;
#[cfg(feature = "sandbox")]
pub mod sandbox;
#[cfg(feature = "sandbox")]
pub mod sim;

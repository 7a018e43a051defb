//! Coinbase (retail app and Advanced Trade): CDP key signing and its history export files.
//!
//! Coinbase's "Transaction history" report (every header layout it has used since 2021) is read
//! by [`csv`]: one row per happening, the direction given by the row's transaction type, the
//! other side of a trade taken from the money columns or, for conversions and crypto-quoted
//! Advanced Trade fills, from the row's Notes. [`auth`] turns a CDP API key (ECDSA P-256 or
//! Ed25519) into the per-request JWT the App and Advanced Trade APIs require, and refuses the
//! legacy keys Coinbase expired in February 2025. [`prices`] reads Coinbase Exchange's public
//! candles as a price source, and [`sim`] is a local Coinbase that serves them.

pub mod auth;
pub mod csv;
pub mod prices;
pub mod sim;

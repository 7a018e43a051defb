//! Bybit (v5): request signing, its API, its unified wallet's log, its funding wallet's
//! movements and its simulator.
//!
//! [`auth`] signs calls (`X-BAPI-` headers, HMAC-SHA256), [`api`] is the REST client (endpoint
//! table, answers, per-endpoint limits), [`adapter`] walks the streams for the sync engine,
//! [`normalize`] turns stored records into events, [`csv`] reads a transaction log file and
//! [`sim`] is a local Bybit to test against.
//!
//! Event ids: `log-<id>`, `deposit-<id>`, `withdrawal-<withdrawId>`, `transfer-<transferId>`,
//! `convert-<exchangeTxId>`, `exec-<execId>` (a classic account's spot fills, [`fills`]),
//! `earn-order-<orderId>`, `earn-yield-<id>` (Bybit Earn).

pub mod adapter;
pub mod api;
pub mod auth;
pub mod connect;
pub mod csv;
pub mod fills;
pub mod normalize;
#[cfg(feature = "sandbox")]
pub mod sandbox;
#[cfg(feature = "sandbox")]
pub mod sim;

//! KuCoin: request signing, its API, its account ledger and its simulator.
//!
//! [`auth`] signs calls (API key v2: `KC-API-` headers, base64 HMAC-SHA256, the passphrase
//! signed with the secret), [`api`] is the REST client (endpoint table, answers, the
//! Spot and Management pools' weights), [`adapter`] walks the account ledger, the
//! high-frequency trade and margin accounts' ledgers and the deposit and withdrawal lists window by window for the
//! sync engine, [`normalize`] turns the ledgers' stored entries into events and [`transfers`] the
//! lists' items into details (tx hash, address, chain) of those events, and [`sim`] is a local
//! KuCoin to test against. [`csv`] reads KuCoin's account-history export into the same events.
//!
//! Event ids: every ledger entry is one event keyed by its `id`.

pub mod adapter;
pub mod api;
pub mod auth;
pub mod connect;
pub mod csv;
pub mod normalize;
#[cfg(feature = "sandbox")]
pub mod sandbox;
#[cfg(feature = "sandbox")]
pub mod sim;
pub mod transfers;

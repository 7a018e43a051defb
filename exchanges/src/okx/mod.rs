//! OKX: request signing, its API, its bills and its simulator.
//!
//! [`auth`] signs private calls (API v5: `OK-ACCESS-` headers, base64 HMAC-SHA256, an ISO
//! timestamp, the key's passphrase), [`api`] is the REST client (endpoint table, answers,
//! per-endpoint limits), [`adapter`] walks the trading and funding accounts' bills for the sync
//! engine (and the deposit and withdrawal histories, whose tx hashes and addresses [`history`]
//! reads as details of the bills' events, and Simple Earn Flexible's lending history, whose
//! earnings [`savings`] reads as interest), [`normalize`] turns stored bills into events, and
//! [`sim`] is a local OKX to test against. [`csv`] reads OKX's trading account bill archive
//! into the same events.
//!
//! Event ids: a trading account bill is keyed by its `billId`, a funding account bill by
//! `fund-` + its `billId`; a deposit or withdrawal history record (a details record, never an
//! event) by `dep-` + `depId` or `wd-` + `wdId`; a Simple Earn Flexible earning by `lend-` +
//! `ccy` + `-` + `ts`.

pub mod adapter;
pub mod api;
pub mod auth;
pub mod connect;
pub mod csv;
pub mod history;
pub mod normalize;
#[cfg(feature = "sandbox")]
pub mod sandbox;
pub mod savings;
#[cfg(feature = "sandbox")]
pub mod sim;

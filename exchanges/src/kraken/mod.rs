//! Kraken (spot): request signing, its asset codes, its history export files, its API and its simulator.
//!
//! [`assets`] maps Kraken's own asset codes (`XXBT`, `ZEUR`, `DOT.S`, `USD.HOLD` …) to
//! canonical symbols; the ledgers export ([`csv`]) and the `Ledgers` API endpoint use the
//! same codes, so both go through it. [`csv`] reads the "Ledgers" export, every header
//! generation from 2019 to today. [`auth`] signs private API calls (`API-Key`/`API-Sign`) and
//! hands out the strictly increasing nonces Kraken requires.
//!
//! Event ids, shared with the API adapter: a trade (the `trade`, `spend`/`receive`, `sale`
//! or `settled` entries of one `refid`) is keyed by its `refid`, which is also the trade id
//! of `TradesHistory`; every other event is one ledger entry, keyed by its ledger id (`txid`
//! in the export, the key of the entry in the `Ledgers` answer).
//!
//! [`api`] is the REST client (endpoint table, nonces, call counter, error answers),
//! [`adapter`] walks the `Ledgers` endpoint for the sync engine, [`normalize`] turns its stored
//! records into the same events as the export, [`prices`] is the OHLC price source, and [`sim`]
//! is a local Kraken to test against.

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

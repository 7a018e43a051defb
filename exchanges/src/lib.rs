//! Everything cointally knows about the outside world, and nothing about its ledger.
//!
//! This crate holds the normalised event vocabulary that every source emits ([`event`]),
//! the exact-decimal and time parsing that every source needs ([`amount`], [`time`]), the
//! secret type that keeps API keys out of output ([`secret`]), the trait the sync engine
//! drives ([`adapter`]), the trait the CSV importer drives ([`rows`]) over the records of a
//! file with their physical lines ([`records`]), and the list of
//! exchanges cointally knows ([`exchange`]). Each exchange's own code (signing, endpoints,
//! normaliser, asset map, simulator, export files) lives in a folder of its own, and the
//! [`registry`] is the one list of what each exchange supports. The simulators (`sim`) exist
//! only with the `sandbox` feature.

pub mod adapter;
pub mod amount;
pub mod asset;
pub mod binance;
pub mod binanceus;
pub mod bitfinex;
pub mod bitstamp;
pub mod bybit;
pub mod coinbase;
pub mod cursor;
pub mod event;
pub mod exchange;
pub mod gemini;
pub mod hex;
pub mod http;
pub mod kraken;
pub mod kucoin;
pub mod okx;
pub mod prices;
pub mod records;
pub mod registry;
pub mod rows;
pub mod secret;
#[cfg(feature = "sandbox")]
pub mod sim;
#[cfg(feature = "sandbox")]
pub mod simulators;
pub mod time;

pub use amount::{AmountError, parse_amount};
pub use asset::{asset_symbol, is_fiat};
pub use event::{EventKind, Leg, LegRole, NewEvent};
pub use exchange::Exchange;
pub use secret::Secret;

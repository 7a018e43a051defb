//! Binance (binance.com): request signing and its history export files.
//!
//! [`csv`] reads the "Transaction History" statement (`UTC_Time,Account,Operation,Coin,Change,Remark`
//! and its `User_ID` / `User ID,Time` successors), where one row is one balance change of one
//! Binance wallet and the rows of a trade share a timestamp. [`trade_history`] reads the older
//! spot "Trade History" export (`Date(UTC),Pair,Side,Price,Executed,Amount,Fee`), one fill per
//! row. The two files describe the same trades: an account should be fed one or the other.
//! [`auth`] signs requests to the SIGNED API endpoints (HMAC-SHA256 over the query string).
//! [`prices`] reads the public klines as a price source; [`sim`] serves all of it locally.

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
pub mod trade_history;
pub mod venue;

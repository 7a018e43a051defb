//! Binance.US (api.binance.us): Binance's API shape on another host, with its own key check,
//! history endpoints, weights and budgets.
//!
//! Binance.US is a separate company with separate keys, but its REST API is Binance's: the same
//! HMAC-SHA256 signing over the query string, the same `/api/v3` spot endpoints and answers and
//! the same error codes (<https://github.com/binance-us/binance-us-api-docs/blob/master/rest-api.md>,
//! <https://docs.binance.us>). So this folder holds only what differs, as a
//! [`crate::binance::venue::Venue`] ([`api::VENUE`]): the client, the walk, the normaliser and the
//! simulator are Binance's, run with that table. [`auth`] checks the signing against the
//! Binance.US documentation's own examples; [`csv`] reads its transaction history export.

pub mod api;
pub mod auth;
pub mod connect;
pub mod csv;
pub mod normalize;
#[cfg(feature = "sandbox")]
pub mod sandbox;
#[cfg(feature = "sandbox")]
pub mod sim;

//! Binance.US's raw API records turned into events: the records of the streams it walks
//! (`myTrades`, `deposits`, `withdrawals`) have Binance's shape, field for field
//! (<https://github.com/binance-us/binance-us-api-docs/blob/master/rest-api.md#account-trade-list-user_data>),
//! so Binance's pure normaliser reads them; a record of any other stream is an error naming it.

use crate::adapter::{NormalizeError, RawRecord, Stream};
use crate::event::NewEvent;

use super::api::VENUE;

/// The events a stored Binance.US record stands for (see [`crate::binance::normalize`]).
pub fn normalize(stream: &Stream, record: &RawRecord) -> Result<Vec<NewEvent>, NormalizeError> {
    let walked = stream.endpoint == "myTrades" || VENUE.streams.iter().any(|(name, _)| *name == stream.endpoint);
    if !walked {
        return Err(NormalizeError {
            endpoint: stream.endpoint.clone(),
            external_id: record.external_id.clone(),
            reason: format!("unknown Binance.US endpoint {:?}", stream.endpoint),
        });
    }
    crate::binance::normalize::normalize(stream, record)
}

#[cfg(test)]
mod tests;

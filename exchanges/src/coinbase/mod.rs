//! Coinbase (retail app and Advanced Trade): its history export files.
//!
//! Coinbase's "Transaction history" report (every header layout it has used since 2021) is read
//! by [`csv`]: one row per happening, the direction given by the row's transaction type, the
//! other side of a trade taken from the money columns or, for conversions and crypto-quoted
//! Advanced Trade fills, from the row's Notes.

pub mod csv;

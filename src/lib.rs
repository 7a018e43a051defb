//! cointally: imports a person's complete crypto history into one SQLite ledger and turns it
//! into the reports and files that tax software and accountants take.
//!
//! The data flow: sources (exchange APIs through `cointally-exchanges`, and
//! history files through [`import`]) → raw archive and normalised events in the [`ledger`] →
//! prices → lots and disposals → exports. The [`cli`] module is the command line over it.

pub mod allocator;
pub mod bundle;
pub mod check;
pub mod cli;
pub mod clients;
pub mod closed;
pub mod credentials;
pub mod diff;
pub mod digest;
pub mod export;
pub mod import;
pub mod ledger;
pub mod pricing;
pub mod sync;
pub mod tax;
pub mod terminal;
pub mod transfers;

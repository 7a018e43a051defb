//! The one list of exchanges and what cointally can do with each.
//!
//! Every place that depends on which exchange an account lives on asks [`entry`] (or walks
//! [`entries`]): the sync's connector, the normaliser of stored raw records, the CSV importer's
//! formats, the price sources and the key checks of `account add`; their simulators are listed
//! apart, in [`crate::simulators`] (only the sandbox command and the demo reach them). Nothing
//! else names an exchange, and the trait modules ([`crate::adapter`], [`crate::prices`]) know none of their implementations.
//!
//! # Adding an exchange
//!
//! 1. Give it a variant in [`Exchange`], in [`Exchange::ALL`] and its name in
//!    [`Exchange::as_str`] (it may already be there as a files-only name).
//! 2. Write its folder (`src/<exchange>/`): signing (`auth.rs`), endpoints (`api.rs`), the walk
//!    (`adapter.rs`), the normaliser (`normalize.rs`), asset codes (`assets.rs`), export readers
//!    (`csv.rs`), candles (`prices.rs`), a simulator (`sim/`), and the functions this table
//!    points at (`connect.rs`; `sandbox.rs` for the simulator, behind the `sandbox` feature).
//! 3. Fill in its line in [`ENTRIES`]: what it does not support stays `None` or empty; and its
//!    simulator's line in [`crate::simulators::simulator`].
//! 4. Add its fixtures (`fixtures/<exchange>/`), its tests, and its section in the README.
//!
//! The unit tests check that every [`Exchange`] has exactly one entry.

#[cfg(test)]
mod tests;

use std::sync::Arc;

use crate::adapter::{Adapter, NormalizeError, RawRecord, Stream};
pub use crate::adapter::{CheckKey, Connect, KeyProblem, Keys, NormalizeFn, ReadKeyFile};
use crate::http::{ClientConfig, Clock, FetchError, Limiter};
use crate::prices::{BaseUrls, CandleSource};
pub use crate::rows::CsvFormat;
use crate::{NewEvent, binance, binanceus, bitfinex, bitstamp, bybit, coinbase, gemini, kraken, kucoin, okx};

/// A place an account lives: an exchange, or a self-custody wallet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Exchange {
    /// binance.com
    Binance,
    /// Kraken spot.
    Kraken,
    /// Coinbase (retail app and Advanced Trade).
    Coinbase,
    /// Gemini (exchange account).
    Gemini,
    /// Bitstamp (spot).
    Bitstamp,
    /// KuCoin (main, trade and margin accounts; keys with a passphrase).
    Kucoin,
    /// OKX (trading and funding accounts).
    Okx,
    /// Bybit (unified and funding wallets).
    Bybit,
    /// Bitfinex (exchange, margin and funding wallets).
    Bitfinex,
    /// Binance.US (api.binance.us): Binance's API on its own host, keys, endpoints and limits.
    BinanceUs,
    /// A self-custody wallet: history comes from files.
    Wallet,
    /// Any other place: history comes from files.
    Other,
}

impl Exchange {
    /// Every known name, in a stable order.
    pub const ALL: [Exchange; 12] = [
        Exchange::Binance,
        Exchange::Kraken,
        Exchange::Coinbase,
        Exchange::Gemini,
        Exchange::Bitstamp,
        Exchange::Kucoin,
        Exchange::Okx,
        Exchange::Bybit,
        Exchange::Bitfinex,
        Exchange::BinanceUs,
        Exchange::Wallet,
        Exchange::Other,
    ];

    /// The name used on the command line and in the ledger.
    pub fn as_str(self) -> &'static str {
        match self {
            Exchange::Binance => "binance",
            Exchange::Kraken => "kraken",
            Exchange::Coinbase => "coinbase",
            Exchange::Gemini => "gemini",
            Exchange::Bitstamp => "bitstamp",
            Exchange::Kucoin => "kucoin",
            Exchange::Okx => "okx",
            Exchange::Bybit => "bybit",
            Exchange::Bitfinex => "bitfinex",
            Exchange::BinanceUs => "binanceus",
            Exchange::Wallet => "wallet",
            Exchange::Other => "other",
        }
    }

    /// Whether cointally can be given an API key for it: its registry entry has an API client.
    pub fn takes_api_key(self) -> bool {
        crate::registry::entry(self).api.is_some()
    }
}

/// What an exchange supports; `None` (or empty) where it has nothing.
pub struct Entry {
    /// The exchange.
    pub exchange: Exchange,
    /// Its name in prose (`Coinbase`), for messages.
    pub title: &'static str,
    /// Its API client, when cointally can sync it with a key.
    pub api: Option<Api>,
    /// Turns its stored raw API records into events.
    pub normalize: Option<NormalizeFn>,
    /// Its export files cointally reads, in the order detection tries them.
    pub csv: &'static [CsvFormat],
    /// Its public candles as a price source.
    pub prices: Option<PriceSource>,
    /// What is special about its keys.
    pub keys: Keys,
    /// Whether it is a US broker that reports its customers' sales on Form 1099-DA (from tax
    /// year 2025): the Form 8949 box of a sale there and the standing-order note of a method
    /// election depend on it.
    pub us_broker: bool,
}

/// Opens a price source at a base URL (production when `None`).
pub type OpenPrices = fn(Option<&str>, ClientConfig, Arc<dyn Clock>) -> Result<Box<dyn CandleSource>, FetchError>;

/// An exchange's API client.
pub struct Api {
    /// Its production base URL: the one place a key goes unless the user adds the account
    /// with another (a simulator on this machine, or a custom host explicitly allowed).
    pub production: &'static str,
    /// The limiter all accounts of the exchange share, for accounts talking to `base_url`
    /// (production when `None`): the exchange's pacing knobs are read here, from its own
    /// environment variables.
    pub limiter: fn(clock: Arc<dyn Clock>, base_url: Option<&str>) -> Arc<Limiter>,
    /// Builds the adapter the sync engine drives.
    pub connect: fn(Connect<'_>) -> Result<Arc<dyn Adapter>, FetchError>,
}

/// An exchange's public candles.
pub struct PriceSource {
    /// Where the engine puts it among the sources: lower is asked first.
    pub rank: u8,
    /// Opens the source at a base URL (production when `None`).
    pub open: OpenPrices,
}

/// Keys with nothing special.
const PLAIN_KEYS: Keys = Keys { key_prompt: None, pem_secret: None, check: None, key_file: None, passphrase: false };

/// An exchange cointally knows by name only: history from files of the generic layout.
const fn files_only(exchange: Exchange, title: &'static str) -> Entry {
    Entry { exchange, title, api: None, normalize: None, csv: &[], prices: None, keys: PLAIN_KEYS, us_broker: false }
}

/// Every exchange, one line each; the CSV formats of the list are detected in this order.
pub static ENTRIES: &[Entry] = &[
    Entry {
        exchange: Exchange::Coinbase,
        title: "Coinbase",
        api: Some(Api {
            production: coinbase::api::DEFAULT_BASE_URL,
            limiter: coinbase::connect::limiter,
            connect: coinbase::connect::connect,
        }),
        normalize: Some(coinbase::normalize::normalize),
        csv: coinbase::connect::CSV,
        prices: Some(PriceSource { rank: 0, open: coinbase::connect::prices }),
        keys: coinbase::connect::KEYS,
        us_broker: true,
    },
    Entry {
        exchange: Exchange::Kraken,
        title: "Kraken",
        api: Some(Api {
            production: kraken::api::DEFAULT_BASE_URL,
            limiter: kraken::connect::limiter,
            connect: kraken::connect::connect,
        }),
        normalize: Some(kraken::normalize::normalize),
        csv: kraken::connect::CSV,
        prices: Some(PriceSource { rank: 2, open: kraken::connect::prices }),
        keys: PLAIN_KEYS,
        us_broker: true,
    },
    Entry {
        exchange: Exchange::Binance,
        title: "Binance",
        api: Some(Api {
            production: binance::api::DEFAULT_BASE_URL,
            limiter: binance::connect::limiter,
            connect: binance::connect::connect,
        }),
        normalize: Some(binance::normalize::normalize),
        csv: binance::connect::CSV,
        prices: Some(PriceSource { rank: 1, open: binance::connect::prices }),
        keys: PLAIN_KEYS,
        us_broker: false,
    },
    Entry {
        exchange: Exchange::Gemini,
        title: "Gemini",
        api: Some(Api {
            production: gemini::api::DEFAULT_BASE_URL,
            limiter: gemini::connect::limiter,
            connect: gemini::connect::connect,
        }),
        normalize: Some(gemini::normalize::normalize),
        csv: gemini::connect::CSV,
        // Last: after Coinbase Exchange, Binance, Kraken and Bitstamp. Its daily candles (the
        // only time frame whose reach covers past years) price what those do not list.
        prices: Some(PriceSource { rank: 4, open: gemini::connect::prices }),
        keys: PLAIN_KEYS,
        us_broker: true,
    },
    Entry {
        exchange: Exchange::Bitstamp,
        title: "Bitstamp",
        api: Some(Api {
            production: bitstamp::api::DEFAULT_BASE_URL,
            limiter: bitstamp::connect::limiter,
            connect: bitstamp::connect::connect,
        }),
        normalize: Some(bitstamp::normalize::normalize),
        csv: bitstamp::connect::CSV,
        // After Coinbase Exchange, Binance and Kraken: its USD, EUR and GBP markets price
        // what those do not list directly.
        prices: Some(PriceSource { rank: 3, open: bitstamp::connect::prices }),
        keys: PLAIN_KEYS,
        us_broker: false,
    },
    Entry {
        exchange: Exchange::Kucoin,
        title: "KuCoin",
        api: Some(Api {
            production: kucoin::api::DEFAULT_BASE_URL,
            limiter: kucoin::connect::limiter,
            connect: kucoin::connect::connect,
        }),
        normalize: Some(kucoin::normalize::normalize),
        csv: kucoin::connect::CSV,
        prices: None,
        keys: kucoin::connect::KEYS,
        us_broker: false,
    },
    Entry {
        exchange: Exchange::Bybit,
        title: "Bybit",
        api: Some(Api {
            production: bybit::api::DEFAULT_BASE_URL,
            limiter: bybit::connect::limiter,
            connect: bybit::connect::connect,
        }),
        normalize: Some(bybit::normalize::normalize),
        csv: bybit::connect::CSV,
        prices: None,
        keys: PLAIN_KEYS,
        us_broker: false,
    },
    Entry {
        exchange: Exchange::Bitfinex,
        title: "Bitfinex",
        api: Some(Api {
            production: bitfinex::api::DEFAULT_BASE_URL,
            limiter: bitfinex::connect::limiter,
            connect: bitfinex::connect::connect,
        }),
        normalize: Some(bitfinex::normalize::normalize),
        csv: bitfinex::connect::CSV,
        prices: None,
        keys: PLAIN_KEYS,
        us_broker: false,
    },
    Entry {
        exchange: Exchange::BinanceUs,
        title: "Binance.US",
        api: Some(Api {
            production: binanceus::api::DEFAULT_BASE_URL,
            limiter: binanceus::connect::limiter,
            connect: binanceus::connect::connect,
        }),
        normalize: Some(binanceus::normalize::normalize),
        csv: binanceus::connect::CSV,
        prices: None,
        keys: PLAIN_KEYS,
        us_broker: true,
    },
    Entry {
        exchange: Exchange::Okx,
        title: "OKX",
        api: Some(Api {
            production: okx::api::DEFAULT_BASE_URL,
            limiter: okx::connect::limiter,
            connect: okx::connect::connect,
        }),
        normalize: Some(okx::normalize::normalize),
        csv: okx::connect::CSV,
        prices: None,
        keys: okx::connect::KEYS,
        us_broker: false,
    },
    files_only(Exchange::Wallet, "self-custody wallet"),
    files_only(Exchange::Other, "other"),
];

/// Every entry, in the table's order.
pub fn entries() -> &'static [Entry] {
    ENTRIES
}

/// The entry of `exchange` (every exchange has one, the tests check it; were one missing, it
/// would get the capabilities of "other": files only).
pub fn entry(exchange: Exchange) -> &'static Entry {
    static NONE: Entry = files_only(Exchange::Other, "other");
    ENTRIES.iter().find(|entry| entry.exchange == exchange).unwrap_or(&NONE)
}

/// Turns one stored raw record of `exchange` into events: pure, no network, no key, so the
/// raw archive can be re-normalised offline.
pub fn normalize(exchange: Exchange, stream: &Stream, record: &RawRecord) -> Result<Vec<NewEvent>, NormalizeError> {
    match entry(exchange).normalize {
        Some(normalize) => normalize(stream, record),
        None => Err(NormalizeError {
            endpoint: stream.endpoint.clone(),
            external_id: record.external_id.clone(),
            reason: format!("cointally has no API normaliser for {exchange}"),
        }),
    }
}

/// Every exchange export layout cointally reads, with its exchange, in detection order.
pub fn csv_formats() -> impl Iterator<Item = (Exchange, &'static CsvFormat)> {
    ENTRIES.iter().flat_map(|entry| entry.csv.iter().map(move |format| (entry.exchange, format)))
}

/// Every price source cointally knows, in the order the engine prefers them (by rank), each
/// talking to `base_url(name)` or its production URL.
pub fn open_sources(
    base_url: BaseUrls<'_>,
    config: &ClientConfig,
    clock: Arc<dyn Clock>,
) -> Result<Vec<Box<dyn CandleSource>>, FetchError> {
    let mut ranked: Vec<(&Entry, &PriceSource)> =
        ENTRIES.iter().filter_map(|entry| entry.prices.as_ref().map(|source| (entry, source))).collect();
    ranked.sort_by_key(|(_, source)| source.rank);
    ranked
        .into_iter()
        .map(|(entry, source)| {
            (source.open)(base_url(entry.exchange.as_str()).as_deref(), config.clone(), clock.clone())
        })
        .collect()
}

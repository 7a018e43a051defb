//! The price cache: the markets each source lists, the candles fetched from them, what spans
//! were asked, and the rows of a user's price files (`prices import`). What pricing reads to
//! value legs; the values themselves are in [`super::prices`].

use cointally_exchanges::amount::format_amount;
use cointally_exchanges::prices::{Candle, Market};
use rusqlite::{OptionalExtension, ToSql, params};
use rust_decimal::Decimal;

use super::writer::{CHUNK, multi_row_insert, write_chunk};
use super::{Ledger, LedgerError, decimal};

/// The source name of a user's price file rows.
pub const FILE_SOURCE: &str = "file";

/// A row of a user's price file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilePrice {
    /// The priced asset.
    pub asset: String,
    /// The currency of the price.
    pub currency: String,
    /// When: a day's start (`granularity` `1d`) or an instant (`point`).
    pub time_ms: i64,
    /// `1d` or `point`.
    pub granularity: &'static str,
    /// One unit of `asset` in `currency`.
    pub price: Decimal,
}

impl Ledger {
    /// The markets `source` listed when last asked, and when that was; `None` if never.
    pub fn price_markets(&self, source: &str) -> Result<Option<(i64, Vec<Market>)>, LedgerError> {
        let fetched: Option<i64> = self
            .conn
            .query_row("SELECT fetched_ms FROM price_sources WHERE source = ?1", [source], |r| r.get(0))
            .optional()?;
        let Some(fetched) = fetched else { return Ok(None) };
        let mut stmt =
            self.conn.prepare("SELECT symbol, asset, currency FROM price_markets WHERE source = ?1 ORDER BY symbol")?;
        let markets = stmt
            .query_map([source], |r| Ok(Market { symbol: r.get(0)?, base: r.get(1)?, quote: r.get(2)? }))?
            .collect::<Result<_, _>>()?;
        Ok(Some((fetched, markets)))
    }

    /// Replaces the markets of `source` with what it lists now.
    pub fn store_price_markets(
        &mut self,
        source: &str,
        markets: &[Market],
        fetched_ms: i64,
    ) -> Result<(), LedgerError> {
        let tx = self.transaction()?;
        tx.execute("DELETE FROM price_markets WHERE source = ?1", [source])?;
        {
            let mut insert = tx.prepare(
                "INSERT OR IGNORE INTO price_markets (source, symbol, asset, currency) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for m in markets {
                insert.execute(params![source, m.symbol, m.base, m.quote])?;
            }
        }
        tx.execute(
            "INSERT INTO price_sources (source, fetched_ms) VALUES (?1, ?2)
             ON CONFLICT (source) DO UPDATE SET fetched_ms = excluded.fetched_ms",
            params![source, fetched_ms],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Stores the candles of one request together with the range it asked, in one transaction.
    pub fn store_candles(
        &mut self,
        source: &str,
        market: &Market,
        granularity: &str,
        range: (i64, i64),
        candles: &[Candle],
        fetched_ms: i64,
    ) -> Result<(), LedgerError> {
        let tx = self.transaction()?;
        {
            let mut insert = tx.prepare(
                "INSERT OR REPLACE INTO prices (asset, currency, time_ms, source, granularity, price)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for c in candles {
                insert.execute(params![
                    market.base,
                    market.quote,
                    c.open_ms,
                    source,
                    granularity,
                    format_amount(c.close)
                ])?;
            }
            tx.execute(
                "INSERT OR REPLACE INTO price_coverage (source, asset, currency, granularity, from_ms, to_ms, fetched_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![source, market.base, market.quote, granularity, range.0, range.1, fetched_ms],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The ranges of (source, market, granularity) asked so far, sorted by start.
    pub fn price_coverage(
        &self,
        source: &str,
        asset: &str,
        currency: &str,
        granularity: &str,
    ) -> Result<Vec<(i64, i64)>, LedgerError> {
        let mut stmt = self.conn.prepare(
            "SELECT from_ms, to_ms FROM price_coverage
             WHERE source = ?1 AND asset = ?2 AND currency = ?3 AND granularity = ?4 ORDER BY from_ms",
        )?;
        Ok(stmt
            .query_map(params![source, asset, currency, granularity], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?)
    }

    /// Cached prices of (source, asset, currency, granularity) with times in `[from_ms, to_ms]`, by time.
    pub fn cached_prices(
        &self,
        source: &str,
        asset: &str,
        currency: &str,
        granularity: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<(i64, Decimal)>, LedgerError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT time_ms, price FROM prices
             WHERE asset = ?1 AND currency = ?2 AND source = ?3 AND granularity = ?4 AND time_ms BETWEEN ?5 AND ?6
             ORDER BY time_ms",
        )?;
        let mut rows = stmt.query(params![asset, currency, source, granularity, from_ms, to_ms])?;
        let mut prices = Vec::new();
        while let Some(row) = rows.next()? {
            let text: String = row.get(1)?;
            prices.push((row.get(0)?, decimal(&text, "cached price")?));
        }
        Ok(prices)
    }

    /// The (asset, currency) pairs a user's price files gave, sorted.
    ///
    /// A skip over the price table's key: one seek per pair there is, then one look for a
    /// file's row among that pair's (a `DISTINCT` over every price row was a tenth of `prices
    /// --offline` on a fresh ledger with an hourly price file).
    pub fn file_price_markets(&self) -> Result<Vec<(String, String)>, LedgerError> {
        let mut next = self.conn.prepare_cached(
            "SELECT asset, currency FROM prices WHERE (asset, currency) > (?1, ?2) ORDER BY asset, currency LIMIT 1",
        )?;
        let mut from_file = self.conn.prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM prices WHERE asset = ?1 AND currency = ?2 AND source = ?3)",
        )?;
        let mut pairs = Vec::new();
        let mut after = (String::new(), String::new());
        while let Some(pair) =
            next.query_row([&after.0, &after.1], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))).optional()?
        {
            if from_file.query_row(params![pair.0, pair.1, FILE_SOURCE], |r| r.get::<_, bool>(0))? {
                pairs.push(pair.clone());
            }
            after = pair;
        }
        Ok(pairs)
    }

    /// Stores a user's price file rows in one transaction (a row for the same asset, currency
    /// and time replaces the one before); returns how many were new.
    ///
    /// The rows go in key order (a stable sort: of two rows for one key the one given last
    /// still comes last), many per statement; only a statement that found some of its rows
    /// there already writes each of its rows' price again, one by one in that order, so the
    /// last one given wins. One statement per row, in the file's order, was two thirds of
    /// `prices import` over a 70,000-row file.
    pub fn store_file_prices<'r>(
        &mut self,
        rows: impl IntoIterator<Item = &'r FilePrice>,
    ) -> Result<usize, LedgerError> {
        const HEAD: &str = "INSERT OR IGNORE INTO prices (asset, currency, time_ms, source, granularity, price)";
        let mut sorted: Vec<&FilePrice> = rows.into_iter().collect();
        sorted.sort_by(|a, b| {
            (&a.asset, &a.currency, a.time_ms, a.granularity).cmp(&(&b.asset, &b.currency, b.time_ms, b.granularity))
        });
        let tx = self.transaction()?;
        let mut new = 0;
        {
            let mut full = tx.prepare_cached(&multi_row_insert(HEAD, 6, CHUNK))?;
            let mut update = tx.prepare(
                "UPDATE prices SET price = ?6
                 WHERE asset = ?1 AND currency = ?2 AND time_ms = ?3 AND source = ?4 AND granularity = ?5",
            )?;
            let mut prices: Vec<String> = Vec::with_capacity(CHUNK);
            for chunk in sorted.chunks(CHUNK) {
                prices.clear();
                prices.extend(chunk.iter().map(|r| format_amount(r.price)));
                let rows = || chunk.iter().zip(&prices);
                let params: Vec<&dyn ToSql> = rows()
                    .flat_map(|(r, price)| {
                        [&r.asset as &dyn ToSql, &r.currency, &r.time_ms, &FILE_SOURCE, &r.granularity, price]
                    })
                    .collect();
                let inserted = write_chunk(&tx, &mut full, HEAD, 6, &params)?;
                new += inserted;
                if inserted < chunk.len() {
                    for (r, price) in rows() {
                        update.execute(params![r.asset, r.currency, r.time_ms, FILE_SOURCE, r.granularity, price])?;
                    }
                }
            }
        }
        tx.commit()?;
        Ok(new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_markets_are_the_pairs_with_a_row_from_a_price_file_and_only_those() {
        let (_dir, mut ledger, _) = crate::ledger::test_ledger();
        let file = |asset: &str, currency: &str, day: i64| FilePrice {
            asset: asset.into(),
            currency: currency.into(),
            time_ms: day * 86_400_000,
            granularity: "1d",
            price: Decimal::TEN,
        };
        ledger.store_file_prices(&[file("ETH", "USD", 3), file("BTC", "EUR", 1), file("ETH", "USD", 1)]).unwrap();
        let candles: Vec<Candle> = (0..5).map(|h| Candle { open_ms: h * 3_600_000, close: Decimal::ONE }).collect();
        for (base, quote) in [("BTC", "USD"), ("ADA", "USD"), ("BTC", "EUR"), ("ZZZ", "USD")] {
            let market = Market { symbol: format!("{base}-{quote}"), base: base.into(), quote: quote.into() };
            ledger.store_candles("coinbase", &market, "1h", (0, 5 * 3_600_000), &candles, 0).unwrap();
        }
        let pairs = |list: &[(&str, &str)]| list.iter().map(|&(a, c)| (a.to_owned(), c.to_owned())).collect::<Vec<_>>();
        assert_eq!(ledger.file_price_markets().unwrap(), pairs(&[("BTC", "EUR"), ("ETH", "USD")]));
    }

    #[test]
    fn a_price_file_counts_new_rows_and_the_last_price_given_for_a_time_wins() {
        let (_dir, mut ledger, _) = crate::ledger::test_ledger();
        let row = |minute: i64, price: i64| FilePrice {
            asset: "BTC".into(),
            currency: "USD".into(),
            time_ms: minute * 60_000,
            granularity: "point",
            price: Decimal::from(price),
        };
        // Minute 3 given again, last, with another price.
        let mut rows: Vec<FilePrice> = (0..250).map(|m| row(m, m + 1)).collect();
        rows.push(row(3, 999));
        assert_eq!(ledger.store_file_prices(&rows).unwrap(), 250);
        let stored =
            |ledger: &Ledger| ledger.cached_prices(FILE_SOURCE, "BTC", "USD", "point", 0, 1_000 * 60_000).unwrap();
        let prices = stored(&ledger);
        assert_eq!(prices.len(), 250);
        assert_eq!(prices[3], (3 * 60_000, Decimal::from(999)));
        assert_eq!(prices[4], (4 * 60_000, Decimal::from(5)));
        // The same file again with one price changed and one time new: one new row.
        rows[10] = row(10, 7);
        rows.push(row(260, 1));
        assert_eq!(ledger.store_file_prices(&rows).unwrap(), 1);
        let prices = stored(&ledger);
        assert_eq!((prices.len(), prices[10].1, prices[3].1), (251, Decimal::from(7), Decimal::from(999)));
    }

    /// The rows go in many per statement: a time given twice whose two rows fall in two
    /// statements, and rows given out of time order among other assets', still end with the
    /// last price given, and the count is of new rows only.
    #[test]
    fn a_price_given_twice_across_statements_keeps_the_last_and_counts_once() {
        let (_dir, mut ledger, _) = crate::ledger::test_ledger();
        let row = |asset: &str, minute: i64, price: i64| FilePrice {
            asset: asset.into(),
            currency: "USD".into(),
            time_ms: minute * 60_000,
            granularity: "point",
            price: Decimal::from(price),
        };
        // Newest first, ETH and BTC interleaved; BTC's minute CHUNK - 1 again at the end, so
        // in key order its two rows are the last of one statement and the first of the next.
        let last = CHUNK as i64 - 1;
        let mut rows: Vec<FilePrice> =
            (0..CHUNK as i64).rev().flat_map(|m| [row("ETH", m, 2 * m + 1), row("BTC", m, m + 1)]).collect();
        rows.push(row("BTC", last, 999));
        assert_eq!(ledger.store_file_prices(&rows).unwrap(), 2 * CHUNK);
        let stored = |asset: &str| ledger.cached_prices(FILE_SOURCE, asset, "USD", "point", 0, i64::MAX).unwrap();
        let (btc, eth) = (stored("BTC"), stored("ETH"));
        assert_eq!((btc.len(), eth.len()), (CHUNK, CHUNK));
        assert_eq!(btc[CHUNK - 1], (last * 60_000, Decimal::from(999)));
        assert_eq!(btc[CHUNK - 2], ((last - 1) * 60_000, Decimal::from(last)));
        assert!(eth.iter().all(|(t, p)| *p == Decimal::from(2 * (t / 60_000) + 1)));
    }

    /// A ledger from before 0034 (prices in a rowid table): the migration carries every price
    /// over, and the table then has no rowid.
    #[test]
    fn the_migration_keeps_every_cached_price_in_a_table_without_rowid() {
        let (_dir, path) = crate::ledger::ledger_before(
            |m| m.contains("CREATE TABLE prices_by_key"),
            |tx| {
                for (asset, time_ms, source, price) in
                    [("BTC", 60_000, FILE_SOURCE, "61000.5"), ("ETH", 0, "coinbase", "2000")]
                {
                    tx.execute(
                        "INSERT INTO prices (asset, currency, time_ms, source, granularity, price)
                     VALUES (?1, 'USD', ?2, ?3, '1m', ?4)",
                        params![asset, time_ms, source, price],
                    )
                    .unwrap();
                }
            },
        );
        let ledger = Ledger::open(&path, crate::ledger::OpenMode::Existing).unwrap();
        let btc = ledger.cached_prices(FILE_SOURCE, "BTC", "USD", "1m", 0, 120_000).unwrap();
        assert_eq!(btc, vec![(60_000, "61000.5".parse::<Decimal>().unwrap())]);
        let eth = ledger.cached_prices("coinbase", "ETH", "USD", "1m", 0, 0).unwrap();
        assert_eq!(eth, vec![(0, Decimal::from(2000))]);
        let rowid = ledger.conn.prepare("SELECT rowid FROM prices");
        assert!(rowid.is_err(), "a table without rowid has no rowid column");
    }
}

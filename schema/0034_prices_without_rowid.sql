-- The cache of prices keyed by its primary key alone (issue #21). As a rowid table every price
-- was written twice, once in the table and once in the index of its key, and every read of a
-- series went through that index and back to the table; a price file of 70,000 rows took a
-- tenth of a second to store. Without a rowid the table is the index: no query names a rowid.
CREATE TABLE prices_by_key (
    asset       TEXT NOT NULL,
    currency    TEXT NOT NULL,
    time_ms     INTEGER NOT NULL,
    source      TEXT NOT NULL,
    granularity TEXT NOT NULL,
    price       TEXT NOT NULL,
    PRIMARY KEY (asset, currency, time_ms, source, granularity)
) STRICT, WITHOUT ROWID;
INSERT INTO prices_by_key (asset, currency, time_ms, source, granularity, price)
    SELECT asset, currency, time_ms, source, granularity, price FROM prices ORDER BY asset, currency, time_ms, source, granularity;
DROP TABLE prices;
ALTER TABLE prices_by_key RENAME TO prices;

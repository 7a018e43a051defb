-- Pricing: the value of every leg in the reporting currency, with how it was found.
--
-- The `prices` table of version 1 is the cache of candles and of a user's price file:
-- (asset, currency) is the market's (base, quote), `time_ms` the candle's open time,
-- `granularity` its length (`1m`, `1h`, `1d`; `point` for a price file row with a time of
-- day), `price` its close, `source` the source's name (`binance`, `coinbase`, `file`).

-- The time ranges of a source's market that were asked, whether candles came back or not: a
-- range asked once is never asked again (`from_ms` included, `to_ms` excluded).
CREATE TABLE price_coverage (
    source      TEXT NOT NULL,
    asset       TEXT NOT NULL,
    currency    TEXT NOT NULL,
    granularity TEXT NOT NULL,
    from_ms     INTEGER NOT NULL,
    to_ms       INTEGER NOT NULL,
    fetched_ms  INTEGER NOT NULL,
    PRIMARY KEY (source, asset, currency, granularity, from_ms)
) STRICT, WITHOUT ROWID;

-- The markets each source listed when last asked (`price_sources` says when).
CREATE TABLE price_markets (
    source   TEXT NOT NULL,
    symbol   TEXT NOT NULL,
    asset    TEXT NOT NULL,
    currency TEXT NOT NULL,
    PRIMARY KEY (source, symbol)
) STRICT, WITHOUT ROWID;

CREATE TABLE price_sources (
    source     TEXT PRIMARY KEY NOT NULL,
    fetched_ms INTEGER NOT NULL
) STRICT;

-- The value of a leg in a currency: `price` is one unit of the leg's asset in `currency`,
-- `value` is |amount| × price. `source` says how (`currency`: the leg is in the currency
-- itself; `event`: the event's own other leg or reported fiat value; a source's name, or
-- names joined by `+` for a cross rate; `file`; `par`; `no_market` for KFEE-like credits, worth zero). `path` records the candles used
-- (`source:SYMBOL:granularity@open_ms`, `/` marks an inverted market, `*` joins the hops).
CREATE TABLE leg_values (
    event_id INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    seq      INTEGER NOT NULL,
    currency TEXT NOT NULL,
    price    TEXT NOT NULL,
    value    TEXT NOT NULL,
    source   TEXT NOT NULL,
    path     TEXT NOT NULL,
    PRIMARY KEY (event_id, seq, currency)
) STRICT, WITHOUT ROWID;

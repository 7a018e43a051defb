-- cointally ledger, version 7: the settings store, a key/value table, holds the ledger's
-- choices (`reporting_currency` and `ledger_id` since version 1; `jurisdiction` from this
-- version; later ones such as `timezone` need no new table). `cointally settings` lists and
-- changes them. The table itself dates from version 1; this migration states the keys' rules.

-- Whose tax rules the reports follow: 'us' (the default: every ledger made before this
-- version was computed under US rules) or 'uk'.
INSERT OR IGNORE INTO settings (key, value) VALUES ('jurisdiction', 'us');

-- Form 1099-DA statements a user imported (`cointally import-1099da FILE --account L`): one row
-- per sale the broker reported, as the form's boxes give it. Importing a statement replaces the
-- account's rows for the tax years (of date_sold) the file covers, in one transaction, so
-- importing the same file again changes nothing. Amounts are exact decimal TEXT; dates are
-- YYYY-MM-DD.
CREATE TABLE form_1099da_rows (
    account_id     INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    tax_year       INTEGER NOT NULL,
    line           INTEGER NOT NULL,  -- the row's line in the imported file
    file           TEXT NOT NULL,     -- the file's name, for the user
    checkbox       TEXT NOT NULL DEFAULT '',
    dtif_code      TEXT NOT NULL DEFAULT '',
    asset          TEXT NOT NULL,
    units          TEXT NOT NULL,
    date_acquired  TEXT,
    date_sold      TEXT NOT NULL,
    proceeds       TEXT NOT NULL,
    cost_basis     TEXT,
    basis_reported INTEGER NOT NULL,
    gain_type      TEXT NOT NULL DEFAULT '',  -- 'short', 'long' or '' (not given, ordinary)
    noncovered     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, tax_year, line)
) STRICT;

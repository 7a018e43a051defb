-- A rebate (exchange fee rebate, card cashback) tied by hand to the purchase it reduces the
-- price of: under the `rebates basis` setting the rebate's value comes off the basis of that
-- purchase's units still held, instead of riding on the rebate's own units at basis zero.
-- `cointally rebates link|unlink`. One purchase per rebate; a purchase may have several.
-- Both are named by (account, external id), as kind overrides are, so a link outlives
-- `renormalize` (which rebuilds API events under new row ids).
CREATE TABLE rebate_links (
    rebate_account_id    INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    rebate_external_id   TEXT NOT NULL,
    purchase_account_id  INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    purchase_external_id TEXT NOT NULL,
    created_at           TEXT NOT NULL,
    PRIMARY KEY (rebate_account_id, rebate_external_id)
) STRICT, WITHOUT ROWID;

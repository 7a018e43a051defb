-- Records a walk passed over because they were not final yet (a pending send, a deposit waiting
-- for confirmations): the cursor moved on past them, so each later sync asks for them again by
-- id until they are final, then stores them (raw record and events, once) and deletes the row.
-- Written in the same transaction as the page that passed them over. `locator` is what the
-- exchange needs besides the id to find the record again (Coinbase: its wallet); `what` names
-- it for the user.
CREATE TABLE pending_records (
    account_id   INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    endpoint     TEXT NOT NULL,
    scope        TEXT NOT NULL DEFAULT '',
    external_id  TEXT NOT NULL,
    locator      TEXT NOT NULL DEFAULT '',
    what         TEXT NOT NULL DEFAULT '',
    first_seen_ms INTEGER NOT NULL,
    last_seen_ms  INTEGER NOT NULL,
    PRIMARY KEY (account_id, endpoint, scope, external_id)
) STRICT, WITHOUT ROWID;

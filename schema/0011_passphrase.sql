-- A third secret for exchanges whose keys come with a passphrase (OKX, KuCoin): the
-- environment variable it is read from when the account's key comes from the environment.
-- The passphrase itself, like the key and secret, never enters the ledger.
ALTER TABLE accounts ADD COLUMN passphrase_env TEXT;

-- A third secret for exchanges whose keys have one (KuCoin, OKX: the API passphrase chosen
-- when the key was made). Like the key and the secret, only the name of the environment
-- variable that holds it is kept here; a passphrase given at the prompt goes to the
-- credentials file, never to the ledger.
ALTER TABLE accounts ADD COLUMN passphrase_env TEXT;

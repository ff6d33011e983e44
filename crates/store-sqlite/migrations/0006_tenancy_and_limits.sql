-- Tidings SQLite schema, version 6: idempotency keys per account (API.md §4 Idempotency-Key).
-- Same conventions as version 1.

-- An idempotency key names a send of the same API client acting for the same account (a client
-- may be granted several accounts): the NOT EXISTS of the insert and the lookup of the key's
-- send now also match the account.
DROP INDEX sends_by_idempotency_key;
CREATE INDEX sends_by_idempotency_key
    ON sends (idempotency_client_key, idempotency_key, account_pk, created_at)
    WHERE idempotency_key IS NOT NULL;

-- Tidings PostgreSQL schema, version 6: idempotency keys per account and the text limit of a
-- messageContact number (API.md §1 text limits, §4 Idempotency-Key). The same tables and
-- columns as the SQLite schema of the same version.

-- An idempotency key names a send of the same API client acting for the same account (a client
-- may be granted several accounts): the exclusion constraint that makes "one send per key and
-- 24 hours" a property of the table now includes the account.
ALTER TABLE sends DROP CONSTRAINT sends_idempotency_window;
ALTER TABLE sends ADD CONSTRAINT sends_idempotency_window EXCLUDE USING gist (
    account_pk WITH =,
    idempotency_client_key WITH =,
    idempotency_key WITH =,
    int8range(created_at, created_at + 86400000) WITH &&
) WHERE (idempotency_key IS NOT NULL);
DROP INDEX sends_by_idempotency_key;
CREATE INDEX sends_by_idempotency_key
    ON sends (idempotency_client_key, idempotency_key, account_pk, created_at)
    WHERE idempotency_key IS NOT NULL;

-- A messageContact number whose text is over 1,600 characters after `%%Name%%` substitution
-- keeps no text (NULL): expansion makes it a 1501 recipient that is never sent, and the
-- over-long text is never stored.
ALTER TABLE send_numbers ALTER COLUMN text DROP NOT NULL;

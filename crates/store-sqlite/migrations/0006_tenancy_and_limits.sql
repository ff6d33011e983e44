-- Tidings SQLite schema, version 6: idempotency keys per account and the text limit of a
-- messageContact number (API.md §1 text limits, §4 Idempotency-Key). Same conventions as
-- version 1.

-- An idempotency key names a send of the same API client acting for the same account (a client
-- may be granted several accounts): the NOT EXISTS of the insert and the lookup of the key's
-- send now also match the account.
DROP INDEX sends_by_idempotency_key;
CREATE INDEX sends_by_idempotency_key
    ON sends (idempotency_client_key, idempotency_key, account_pk, created_at)
    WHERE idempotency_key IS NOT NULL;

-- A messageContact number whose text is over 1,600 characters after `%%Name%%` substitution
-- keeps no text (NULL): expansion makes it a 1501 recipient that is never sent, and the
-- over-long text is never stored. SQLite cannot drop a NOT NULL in place: the table is rebuilt.
CREATE TABLE send_numbers_v6 (
    send_pk        INTEGER NOT NULL REFERENCES sends (pk),
    mobile_number  TEXT    NOT NULL,
    position       INTEGER NOT NULL,
    text           TEXT,
    PRIMARY KEY (send_pk, mobile_number)
) STRICT, WITHOUT ROWID;
INSERT INTO send_numbers_v6 (send_pk, mobile_number, position, text)
    SELECT send_pk, mobile_number, position, text FROM send_numbers;
DROP TABLE send_numbers;
ALTER TABLE send_numbers_v6 RENAME TO send_numbers;

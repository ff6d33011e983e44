-- Transactional sends (API.md §9): a request is one send (kind 'contact', like replies, with the
-- definition it names), its recipients queued at once, each with its own text. A send whose
-- definition is Inactive is held: Started with no `next_at` (and `held_at` set) until the
-- definition is Active.
ALTER TABLE sends ADD COLUMN definition_pk INTEGER REFERENCES send_definitions (pk);
-- Since when a held send waits (its 72 hours count from there).
ALTER TABLE sends ADD COLUMN held_at INTEGER;
-- A definition's sends: held, released and settled together.
CREATE INDEX sends_by_definition ON sends (definition_pk, state) WHERE definition_pk IS NOT NULL;

-- 1: a transactional send's recipient (the event triggers of migration 0014 fire only for
-- those, so other sends' status changes pay nothing for them).
ALTER TABLE recipients ADD COLUMN transactional INTEGER NOT NULL DEFAULT 0;

-- One row per accepted message: its key (unique in the account, matched ignoring case as
-- `key_key`, for 72 hours: an older key is freed by suffixing `key_key` with '#' and the pk,
-- which no key can contain), its recipient (`send_pk`, `ordinal` = the recipient's `list_pk`),
-- and, when it was refused before being queued, its subscriber code (`not_sent_code`).
CREATE TABLE tx_messages (
    pk             INTEGER PRIMARY KEY,
    account_pk     INTEGER NOT NULL REFERENCES accounts (pk),
    message_key    TEXT    NOT NULL,
    key_key        TEXT    NOT NULL,
    definition_pk  INTEGER NOT NULL REFERENCES send_definitions (pk),
    send_pk        INTEGER NOT NULL REFERENCES sends (pk),
    ordinal        INTEGER NOT NULL,
    mobile_number  TEXT    NOT NULL,
    contact_key    TEXT    NOT NULL,
    not_sent_code  INTEGER,
    created_at     INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX tx_messages_by_key ON tx_messages (account_pk, key_key);
CREATE INDEX tx_messages_by_send ON tx_messages (send_pk, ordinal);
CREATE INDEX tx_messages_by_time ON tx_messages (created_at);
-- Held sends, for the housekeeping that expires them.
CREATE INDEX sends_held ON sends (held_at) WHERE held_at IS NOT NULL;

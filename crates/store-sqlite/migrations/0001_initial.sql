-- Tidings SQLite schema, version 1.
--
-- Conventions: integer surrogate keys (`pk`) inside the database; external IDs as TEXT in their
-- canonical spelling (`id`) plus `id_key`, their ASCII-lowercase form, unique per account, for
-- case-insensitive lookup (API.md §1, §3). Times are UTC epoch milliseconds (INTEGER). Lists of
-- strings and attribute maps are JSON text. Mobile numbers are TEXT in digits-only form.
-- Accounts are never deleted, so child tables need no index on `account_pk` for deletes.

CREATE TABLE accounts (
    pk          INTEGER PRIMARY KEY,
    id          TEXT    NOT NULL,
    id_key      TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;

-- API clients. `client_id` is unique across accounts (it is what /v2/token is called with).
CREATE TABLE clients (
    pk               INTEGER PRIMARY KEY,
    client_id        TEXT    NOT NULL,
    id_key           TEXT    NOT NULL UNIQUE,
    account_pk       INTEGER NOT NULL REFERENCES accounts (pk),
    secret_hash      TEXT    NOT NULL,
    scopes           TEXT    NOT NULL,          -- JSON array of strings
    acting_accounts  TEXT    NOT NULL,          -- JSON array of further account IDs
    created_at       INTEGER NOT NULL,
    revoked_at       INTEGER
) STRICT;

CREATE INDEX clients_by_account ON clients (account_pk, pk);

CREATE TABLE access_tokens (
    token_hash  TEXT    NOT NULL PRIMARY KEY,   -- hex SHA-256 of the token
    client_pk   INTEGER NOT NULL REFERENCES clients (pk) ON DELETE CASCADE,
    account_pk  INTEGER NOT NULL REFERENCES accounts (pk),
    scopes      TEXT    NOT NULL,               -- JSON array of strings
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX access_tokens_by_client ON access_tokens (client_pk);
-- For purging expired tokens.
CREATE INDEX access_tokens_by_expiry ON access_tokens (expires_at);

-- Short and long codes. Elsewhere a code is named by its code string, unique per account.
CREATE TABLE codes (
    pk            INTEGER PRIMARY KEY,
    account_pk    INTEGER NOT NULL REFERENCES accounts (pk),
    id            TEXT    NOT NULL,
    id_key        TEXT    NOT NULL,
    code          TEXT    NOT NULL,
    code_key      TEXT    NOT NULL,
    country_code  TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    carrier       TEXT    NOT NULL,
    opt_out_text  TEXT,
    help_text     TEXT,
    created_at    INTEGER NOT NULL,
    UNIQUE (account_pk, id_key),
    UNIQUE (account_pk, code_key)
) STRICT;

CREATE TABLE keywords (
    pk             INTEGER PRIMARY KEY,
    account_pk     INTEGER NOT NULL REFERENCES accounts (pk),
    code_pk        INTEGER NOT NULL REFERENCES codes (pk) ON DELETE CASCADE,
    id             TEXT    NOT NULL,
    id_key         TEXT    NOT NULL,
    keyword        TEXT    NOT NULL,
    keyword_key    TEXT    NOT NULL,            -- lowercase, for matching inbound texts
    response       TEXT,
    double_opt_in  INTEGER NOT NULL CHECK (double_opt_in IN (0, 1)),
    confirm_text   TEXT,
    created_at     INTEGER NOT NULL,
    UNIQUE (account_pk, id_key),
    UNIQUE (code_pk, keyword_key)               -- also serves the cascade from codes
) STRICT;

-- A number's subscription to one keyword (API.md §6). Not tied to a contact: inbound texts
-- subscribe numbers that are on no list.
CREATE TABLE subscriptions (
    keyword_pk     INTEGER NOT NULL REFERENCES keywords (pk) ON DELETE CASCADE,
    mobile_number  TEXT    NOT NULL,
    account_pk     INTEGER NOT NULL REFERENCES accounts (pk),
    status         TEXT    NOT NULL CHECK (status IN ('Subscribed', 'Unsubscribed', 'InProgress')),
    opt_in_date    INTEGER,
    opt_out_date   INTEGER,
    PRIMARY KEY (keyword_pk, mobile_number)     -- per-keyword checks during fan-out; the cascade
) STRICT, WITHOUT ROWID;

CREATE INDEX subscriptions_by_number ON subscriptions (account_pk, mobile_number);

CREATE TABLE messages (
    pk                  INTEGER PRIMARY KEY,
    account_pk          INTEGER NOT NULL REFERENCES accounts (pk),
    id                  TEXT    NOT NULL,
    id_key              TEXT    NOT NULL,
    name                TEXT    NOT NULL,
    code                TEXT    NOT NULL,       -- canonical code string; checked on write
    text                TEXT    NOT NULL,
    status              TEXT    NOT NULL CHECK (status IN ('Active', 'Scheduled', 'Inactive', 'Draft')),
    target_list_ids     TEXT    NOT NULL,       -- JSON array of list IDs
    exclusion_list_ids  TEXT    NOT NULL,       -- JSON array of list IDs
    content_url         TEXT,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    UNIQUE (account_pk, id_key)
) STRICT;

-- One contact per number per account; attributes belong here, not to memberships (API.md §4.2).
CREATE TABLE contacts (
    account_pk      INTEGER NOT NULL REFERENCES accounts (pk),
    mobile_number   TEXT    NOT NULL,
    subscriber_key  TEXT,
    attributes      TEXT    NOT NULL DEFAULT '{}',  -- JSON object
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (account_pk, mobile_number)
) STRICT, WITHOUT ROWID;

-- POST /sms/v1/contacts/subscriptions looks contacts up by subscriber key.
CREATE INDEX contacts_by_subscriber_key ON contacts (account_pk, subscriber_key)
    WHERE subscriber_key IS NOT NULL;

-- `size` is kept in step with list_members by the store, in the same transaction.
CREATE TABLE lists (
    pk              INTEGER PRIMARY KEY,
    account_pk      INTEGER NOT NULL REFERENCES accounts (pk),
    id              TEXT    NOT NULL,
    id_key          TEXT    NOT NULL,
    name            TEXT    NOT NULL,
    size            INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    last_change_at  INTEGER NOT NULL,
    UNIQUE (account_pk, id_key)
) STRICT;

-- Memberships, clustered by list: fan-out is INSERT ... SELECT over one list's rows, exclusion is
-- a (list_pk, mobile_number) probe, and the cascade from lists walks the same key.
CREATE TABLE list_members (
    list_pk        INTEGER NOT NULL REFERENCES lists (pk) ON DELETE CASCADE,
    mobile_number  TEXT    NOT NULL,
    added_at       INTEGER NOT NULL,
    PRIMARY KEY (list_pk, mobile_number)
) STRICT, WITHOUT ROWID;

-- Accepted sends, with everything fixed at acceptance (API.md §4 "What a send does").
-- Message and list IDs are snapshots, not foreign keys: deleting a message or a list later makes
-- the send Error when it becomes due, it does not delete the send.
CREATE TABLE sends (
    pk                         INTEGER PRIMARY KEY,
    token                      TEXT    NOT NULL,
    token_key                  TEXT    NOT NULL UNIQUE,  -- tokens are unique across accounts
    account_pk                 INTEGER NOT NULL REFERENCES accounts (pk),
    client_id                  TEXT,
    kind                       TEXT    NOT NULL CHECK (kind IN ('list', 'contact')),
    message_id                 TEXT    NOT NULL,
    code                       TEXT    NOT NULL,
    text                       TEXT    NOT NULL,
    content_url                TEXT,
    target_list_ids            TEXT    NOT NULL,         -- JSON array
    exclusion_list_ids         TEXT    NOT NULL,         -- JSON array
    allow_duplication          INTEGER NOT NULL CHECK (allow_duplication IN (0, 1)),
    window_utc_offset_minutes  INTEGER,
    window_start_minute        INTEGER,
    window_end_minute          INTEGER,
    send_time                  INTEGER,
    due_at                     INTEGER NOT NULL,
    segments                   INTEGER NOT NULL,
    encoding                   TEXT    NOT NULL,
    state                      TEXT    NOT NULL CHECK (state IN ('New', 'Queuing', 'Started', 'Finished', 'Error', 'Canceled')),
    count                      INTEGER NOT NULL DEFAULT 0,
    errors                     TEXT    NOT NULL DEFAULT '[]',  -- JSON array of strings
    created_at                 INTEGER NOT NULL,
    completed_at               INTEGER,
    -- The idempotency key the send was accepted with (POST .../send), per client (the
    -- ASCII-lowercase client ID), and the hash of that request. A key names the latest send
    -- that used it for 24 hours; a send is never created while that holds, which one
    -- INSERT ... WHERE NOT EXISTS checks atomically (it holds the write lock throughout).
    idempotency_client_key     TEXT,
    idempotency_key            TEXT,
    request_hash               TEXT,
    CHECK ((window_utc_offset_minutes IS NULL) = (window_start_minute IS NULL)
       AND (window_start_minute IS NULL) = (window_end_minute IS NULL)),
    CHECK ((idempotency_key IS NULL) = (idempotency_client_key IS NULL)
       AND (idempotency_key IS NULL) = (request_hash IS NULL))
) STRICT;

-- Admin listing: newest first, optionally by state, keyset-paged on (created_at, pk).
CREATE INDEX sends_by_account ON sends (account_pk, created_at, pk);
CREATE INDEX sends_by_account_state ON sends (account_pk, state, created_at, pk);
-- The scheduler's claim of due sends.
CREATE INDEX sends_due ON sends (due_at) WHERE state = 'New';

-- Idempotency: the latest send of a client's key.
CREATE INDEX sends_by_idempotency_key
    ON sends (idempotency_client_key, idempotency_key, created_at)
    WHERE idempotency_key IS NOT NULL;

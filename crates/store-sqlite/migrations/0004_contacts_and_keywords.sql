-- Tidings SQLite schema, version 4: messageContact sends, replies to inbound texts, double
-- opt-in, send history, and list jobs (API.md §6). Same conventions as version 1.

-- A messageContact send's explicit audience, fixed at acceptance: each distinct number with the
-- text it gets (placeholders already replaced). Expansion turns it into recipients.
CREATE TABLE send_numbers (
    send_pk        INTEGER NOT NULL REFERENCES sends (pk),
    mobile_number  TEXT    NOT NULL,
    position       INTEGER NOT NULL,
    text           TEXT    NOT NULL,
    PRIMARY KEY (send_pk, mobile_number)
) STRICT, WITHOUT ROWID;

-- 1: the send carries replies to inbound texts (SendKind::Mo). Such a send is stored with kind
-- 'contact' (the CHECK on `kind` cannot change in place) and this flag; it never has a message.
ALTER TABLE sends ADD COLUMN replies INTEGER NOT NULL DEFAULT 0 CHECK (replies IN (0, 1));
-- Replies of an account's code to a number (history of a contact send).
CREATE INDEX sends_replies ON sends (account_pk, code, created_at) WHERE replies = 1;

-- A recipient's own text (contact sends and replies; NULL: the send's text with the contact's
-- attributes), and when it was handed to the carrier. For replies, `list_pk` numbers a
-- number's replies within the send (1, 2, ...), keeping the unique key.
ALTER TABLE recipients ADD COLUMN text TEXT;
ALTER TABLE recipients ADD COLUMN submitted_at INTEGER;
-- History: a number's texts of a send.
CREATE INDEX recipients_by_number ON recipients (mobile_number, send_pk);

-- Double opt-in (API.md §6): an InProgress subscription waiting for `Y`/`YES` since
-- `pending_since`, going back to `pending_previous` (NULL: removed) when it lapses.
ALTER TABLE subscriptions ADD COLUMN pending_since INTEGER;
ALTER TABLE subscriptions ADD COLUMN pending_previous TEXT
    CHECK (pending_previous IS NULL OR pending_previous = 'Subscribed'
           OR pending_previous = 'Unsubscribed');
CREATE INDEX subscriptions_pending ON subscriptions (pending_since)
    WHERE pending_since IS NOT NULL;

-- The reply send (queueMO token) an inbound text belongs to.
ALTER TABLE inbound_texts ADD COLUMN token_key TEXT;
CREATE INDEX inbound_texts_by_token ON inbound_texts (token_key) WHERE token_key IS NOT NULL;

-- Background jobs on a list: queueImport and refreshList (API.md §6).
CREATE TABLE list_jobs (
    pk            INTEGER PRIMARY KEY,
    token         TEXT    NOT NULL,
    token_key     TEXT    NOT NULL UNIQUE,
    account_pk    INTEGER NOT NULL REFERENCES accounts (pk),
    list_id       TEXT    NOT NULL,           -- canonical list ID; a snapshot, not a foreign key
    kind          TEXT    NOT NULL CHECK (kind = 'import' OR kind = 'refresh'),
    state         TEXT    NOT NULL
                  CHECK (state IN ('Queued', 'Processing', 'Completed', 'Error')),
    inserted      INTEGER NOT NULL DEFAULT 0,
    updated       INTEGER NOT NULL DEFAULT 0,
    invalid       INTEGER NOT NULL DEFAULT 0,
    errors        TEXT    NOT NULL DEFAULT '[]',  -- JSON array of strings
    publish_date  INTEGER,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    completed_at  INTEGER
) STRICT;

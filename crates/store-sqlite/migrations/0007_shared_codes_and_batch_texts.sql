-- Tidings SQLite schema, version 7: codes shared by several accounts, and inbound batches that
-- store each text once (API.md §6 keywords, §1 "No request stores more than 2 MiB"). Same
-- conventions as version 1; the same tables and columns as the PostgreSQL schema.

-- 1: the subscription's last opt-out came from the number's own STOP-family text (0: from the
-- admin API, the console, or before this version). A START-family text to a code that several
-- accounts hold re-subscribes only what the number opted out of by text.
ALTER TABLE subscriptions ADD COLUMN opt_out_by_text INTEGER NOT NULL DEFAULT 0
    CHECK (opt_out_by_text IN (0, 1));

-- A number that opted out of a code by a STOP-family text: one row per code and number, however
-- many keywords the code has. Imports and messageContact's `Subscribe` do not subscribe such a
-- number to any keyword of the code (keywords created later included); a START-family text
-- removes the row. It goes with its code.
CREATE TABLE code_opt_outs (
    code_pk        INTEGER NOT NULL REFERENCES codes (pk) ON DELETE CASCADE,
    mobile_number  TEXT    NOT NULL,
    opted_out_at   INTEGER NOT NULL,
    PRIMARY KEY (code_pk, mobile_number)
) STRICT, WITHOUT ROWID;

-- A text that many rows written by one inbound batch share (queueMO's text, which each of its
-- numbers "sent"; a reply that several numbers get), stored once and referred to by `text_pk`.
CREATE TABLE batch_texts (
    pk    INTEGER PRIMARY KEY,
    text  TEXT    NOT NULL
) STRICT;

-- An inbound text whose `text_pk` is set keeps its text there (`text` is then '').
ALTER TABLE inbound_texts ADD COLUMN text_pk INTEGER REFERENCES batch_texts (pk);
-- A reply whose `text_pk` is set keeps its text there (`text` is then NULL).
ALTER TABLE recipients ADD COLUMN text_pk INTEGER REFERENCES batch_texts (pk);

-- `importSend` with `IsDuplicationAllowed` (API.md §6b): a number in several rows of the file
-- gets one text per row. Its list counts rows: `copies` is how many import rows made a
-- membership (1 for every other list), and a send that allows duplication makes one recipient
-- per copy of a membership, told apart by `copy_index` (0 for all others).
ALTER TABLE lists ADD COLUMN counts_rows INTEGER NOT NULL DEFAULT 0 CHECK (counts_rows IN (0, 1));
ALTER TABLE list_members ADD COLUMN copies INTEGER NOT NULL DEFAULT 1 CHECK (copies >= 1);

-- The recipients' unique key gains `copy_index`. SQLite cannot drop a table constraint, so the
-- table is rebuilt (no other table references it) and its indexes made again.
CREATE TABLE recipients_rebuilt (
    pk                    INTEGER PRIMARY KEY,
    send_pk               INTEGER NOT NULL REFERENCES sends (pk),
    mobile_number         TEXT    NOT NULL,
    list_pk               INTEGER NOT NULL,
    copy_index            INTEGER NOT NULL DEFAULT 0,
    state                 TEXT    NOT NULL
                          CHECK (state = 'ready' OR state = 'submitting' OR state = 'done'),
    status_code           INTEGER NOT NULL DEFAULT 1000,
    outcome               TEXT    CHECK (outcome = 'suppressed' OR outcome = 'canceled'),
    expansion_suppressed  INTEGER NOT NULL DEFAULT 0 CHECK (expansion_suppressed IN (0, 1)),
    lease_owner           TEXT,
    lease_until           INTEGER,
    carrier               TEXT,
    carrier_message_id    TEXT,
    segments              INTEGER,
    encoding              TEXT,
    note                  TEXT,
    updated_at            INTEGER NOT NULL,
    text                  TEXT,
    submitted_at          INTEGER,
    recovered_from        TEXT,
    text_pk               INTEGER REFERENCES batch_texts (pk),
    UNIQUE (send_pk, mobile_number, list_pk, copy_index),
    -- A waiting recipient is a plain queued one (the status counts rely on it).
    CHECK (state <> 'ready' OR (status_code = 1000 AND outcome IS NULL
                                AND expansion_suppressed = 0))
) STRICT;

INSERT INTO recipients_rebuilt (pk, send_pk, mobile_number, list_pk, state, status_code, outcome,
    expansion_suppressed, lease_owner, lease_until, carrier, carrier_message_id, segments,
    encoding, note, updated_at, text, submitted_at, recovered_from, text_pk)
SELECT pk, send_pk, mobile_number, list_pk, state, status_code, outcome,
    expansion_suppressed, lease_owner, lease_until, carrier, carrier_message_id, segments,
    encoding, note, updated_at, text, submitted_at, recovered_from, text_pk
FROM recipients;

DROP TABLE recipients;
ALTER TABLE recipients_rebuilt RENAME TO recipients;

CREATE INDEX recipients_ready ON recipients (send_pk, pk) WHERE state = 'ready';
CREATE INDEX recipients_submitting ON recipients (send_pk, lease_until) WHERE state = 'submitting';
CREATE INDEX recipients_done ON recipients (send_pk, status_code, outcome, expansion_suppressed)
    WHERE state = 'done';
CREATE INDEX recipients_by_carrier_message ON recipients (carrier, carrier_message_id)
    WHERE carrier_message_id IS NOT NULL;
CREATE INDEX recipients_by_number ON recipients (mobile_number, send_pk);

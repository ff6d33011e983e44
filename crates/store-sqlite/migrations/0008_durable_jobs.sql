-- Background jobs become durable work claimed by the engine (imports, delivery reports): each
-- carries what its runner needs to run again (payload), how far it got (checkpoint, written with
-- the work it counts) and a lease, like the recipients queue. A delivery report names no list.
-- SQLite cannot change a CHECK or a NOT NULL in place: the table is rebuilt.
CREATE TABLE jobs_rebuilt (
    pk            INTEGER PRIMARY KEY,
    token         TEXT    NOT NULL,
    token_key     TEXT    NOT NULL UNIQUE,
    account_pk    INTEGER NOT NULL REFERENCES accounts (pk),
    list_id       TEXT,                       -- canonical list ID; a snapshot, not a foreign key
    kind          TEXT    NOT NULL CHECK (kind IN ('import', 'refresh', 'report')),
    state         TEXT    NOT NULL
                  CHECK (state IN ('Queued', 'Processing', 'Completed', 'Error')),
    inserted      INTEGER NOT NULL DEFAULT 0,
    updated       INTEGER NOT NULL DEFAULT 0,
    invalid       INTEGER NOT NULL DEFAULT 0,
    errors        TEXT    NOT NULL DEFAULT '[]',  -- JSON array of strings
    publish_date  INTEGER,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    completed_at  INTEGER,
    payload       TEXT    NOT NULL DEFAULT '',
    checkpoint    INTEGER NOT NULL DEFAULT 0,
    lease_owner   TEXT,
    lease_until   INTEGER
) STRICT;

-- A job that was running before this version had nothing to resume from: it ends as the stale
-- job it would have been reported as.
INSERT INTO jobs_rebuilt (pk, token, token_key, account_pk, list_id, kind, state, inserted,
    updated, invalid, errors, publish_date, created_at, updated_at, completed_at)
SELECT pk, token, token_key, account_pk, list_id, kind,
    CASE WHEN state IN ('Completed', 'Error') THEN state ELSE 'Error' END,
    inserted, updated, invalid,
    CASE WHEN state IN ('Completed', 'Error') THEN errors
         WHEN errors = '[]'
         THEN '["The import stopped before the end of the file; rows before were imported."]'
         ELSE '["The import stopped before the end of the file; rows before were imported.",'
              || substr(errors, 2) END,
    publish_date, created_at, updated_at,
    CASE WHEN state IN ('Completed', 'Error') THEN completed_at ELSE updated_at END
FROM list_jobs;

DROP TABLE list_jobs;
ALTER TABLE jobs_rebuilt RENAME TO list_jobs;

-- The engine's claim: unfinished jobs only.
CREATE INDEX list_jobs_unfinished ON list_jobs (created_at)
    WHERE state IN ('Queued', 'Processing');

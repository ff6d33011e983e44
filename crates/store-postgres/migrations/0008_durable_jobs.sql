-- Background jobs become durable work claimed by the engine (imports, delivery reports): each
-- carries what its runner needs to run again (payload), how far it got (checkpoint, written with
-- the work it counts) and a lease, like the recipients queue. A delivery report names no list.
ALTER TABLE list_jobs
    ALTER COLUMN list_id DROP NOT NULL,
    DROP CONSTRAINT list_jobs_kind_check,
    ADD CONSTRAINT list_jobs_kind_check CHECK (kind IN ('import', 'refresh', 'report')),
    ADD COLUMN payload     TEXT   NOT NULL DEFAULT '',
    ADD COLUMN checkpoint  BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN lease_owner TEXT,
    ADD COLUMN lease_until BIGINT;

-- A job that was running before this version had nothing to resume from: it ends as the stale
-- job it would have been reported as.
UPDATE list_jobs SET
    state = 'Error',
    errors = CASE WHEN errors = '[]'
        THEN '["The import stopped before the end of the file; rows before were imported."]'
        ELSE '["The import stopped before the end of the file; rows before were imported.",'
             || substr(errors, 2) END,
    completed_at = updated_at
WHERE state NOT IN ('Completed', 'Error');

-- The engine's claim: unfinished jobs only.
CREATE INDEX list_jobs_unfinished ON list_jobs (created_at)
    WHERE state IN ('Queued', 'Processing');

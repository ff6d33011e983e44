-- Transactional events (API.md §9): one row per change of a transactional message's tracked
-- status (§5 code or outcome), written by the triggers below in the same transaction as the
-- change, whatever code path makes it (acceptance, hand-over, receipts, recovery, cancels, the
-- queue). An event is numbered after it is committed (`event_id`, NULL until then): one
-- increasing sequence per account (`event_sequences`), assigned by a reader in one transaction
-- under the account's counter row, so an ID is visible only after every smaller one, and the
-- writers of status changes take no shared lock.
-- `category`: Sent, NotSent, Transient, Delivered, Bounced; `status_code`: the §5 code, or for
-- NotSent the subscriber code when there is one.
CREATE TABLE event_sequences (
    account_pk  INTEGER PRIMARY KEY REFERENCES accounts (pk),
    last_id     INTEGER NOT NULL
) STRICT;

CREATE TABLE tx_events (
    pk             INTEGER PRIMARY KEY,
    account_pk     INTEGER NOT NULL REFERENCES accounts (pk),
    event_id       INTEGER,
    tx_message_pk  INTEGER NOT NULL REFERENCES tx_messages (pk),
    category       TEXT    NOT NULL CHECK (category IN ('Sent', 'NotSent', 'Transient',
                                                        'Delivered', 'Bounced')),
    status_code    INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    UNIQUE (account_pk, event_id)
) STRICT;

CREATE INDEX tx_events_not_sent ON tx_events (account_pk, event_id) WHERE category = 'NotSent';
CREATE INDEX tx_events_by_time ON tx_events (created_at);
CREATE INDEX tx_events_by_message ON tx_events (tx_message_pk);
CREATE INDEX tx_events_unnumbered ON tx_events (account_pk, pk) WHERE event_id IS NULL;

-- The category of a recipient's status: NULL when it is none of the five (queued, submitting).
-- Written out in each trigger (SQLite has no functions in SQL).
CREATE TRIGGER tx_events_on_insert AFTER INSERT ON recipients
WHEN NEW.transactional = 1 AND NEW.outcome IS NOT NULL
    AND EXISTS (SELECT 1 FROM tx_messages m WHERE m.send_pk = NEW.send_pk
                AND m.ordinal = NEW.list_pk AND m.mobile_number = NEW.mobile_number)
BEGIN
    INSERT INTO tx_events (account_pk, tx_message_pk, category, status_code, created_at)
        SELECT m.account_pk, m.pk, 'NotSent',
               COALESCE(m.not_sent_code,
                        CASE NEW.outcome WHEN 'suppressed' THEN 1 ELSE 37 END),
               NEW.updated_at
        FROM tx_messages m
        WHERE m.send_pk = NEW.send_pk AND m.ordinal = NEW.list_pk
          AND m.mobile_number = NEW.mobile_number;
END;

CREATE TRIGGER tx_events_on_update AFTER UPDATE OF status_code, outcome ON recipients
WHEN NEW.transactional = 1 AND (NEW.status_code IS NOT OLD.status_code OR NEW.outcome IS NOT OLD.outcome)
    AND (NEW.outcome IS NOT NULL OR NEW.status_code <> 1000)
    AND EXISTS (SELECT 1 FROM tx_messages m WHERE m.send_pk = NEW.send_pk
                AND m.ordinal = NEW.list_pk AND m.mobile_number = NEW.mobile_number)
BEGIN
    INSERT INTO tx_events (account_pk, tx_message_pk, category, status_code, created_at)
        SELECT m.account_pk, m.pk,
               CASE
                   WHEN NEW.outcome IS NOT NULL THEN 'NotSent'
                   WHEN NEW.status_code IN (1500, 1501, 2500, 2501) THEN 'NotSent'
                   WHEN NEW.status_code = 2000 THEN 'Sent'
                   WHEN NEW.status_code = 4000 THEN 'Delivered'
                   WHEN NEW.status_code BETWEEN 4500 AND 4599 THEN 'Bounced'
                   ELSE 'Transient'
               END,
               CASE
                   WHEN NEW.outcome IS NOT NULL THEN COALESCE(m.not_sent_code,
                       CASE NEW.outcome WHEN 'suppressed' THEN 1 ELSE 37 END)
                   ELSE NEW.status_code
               END,
               NEW.updated_at
        FROM tx_messages m
        WHERE m.send_pk = NEW.send_pk AND m.ordinal = NEW.list_pk
          AND m.mobile_number = NEW.mobile_number;
END;

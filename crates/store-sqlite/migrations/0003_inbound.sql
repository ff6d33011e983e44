-- Inbound texts from carriers (and queueMO): the engine's one inbound path records each here,
-- matched to the code it was sent to when a code routed to that carrier has that address.
CREATE TABLE inbound_texts (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    carrier      TEXT    NOT NULL,
    source       TEXT    NOT NULL,
    destination  TEXT    NOT NULL,
    text         TEXT    NOT NULL,
    received_at  INTEGER NOT NULL,
    code_pk      INTEGER REFERENCES codes (pk) ON DELETE SET NULL
) STRICT;

CREATE INDEX inbound_texts_by_code ON inbound_texts (code_pk, source, seq);

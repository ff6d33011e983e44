-- Transactional send definitions (API.md §9): the text, code and keyword a transactional send
-- names. `key_key` is the key folded to lowercase (keys match ignoring case, §1). A deleted
-- definition is archived: its key becomes the minted `deletedDefinitionKey`, so the client's
-- key is free at once; keys and names are unique among the account's definitions that are not
-- archived.
CREATE TABLE send_definitions (
    pk                   INTEGER PRIMARY KEY,
    account_pk           INTEGER NOT NULL REFERENCES accounts (pk),
    definition_id        TEXT    NOT NULL,
    definition_key       TEXT    NOT NULL,
    key_key              TEXT    NOT NULL,
    name                 TEXT    NOT NULL,
    description          TEXT,
    status               TEXT    NOT NULL CHECK (status IN ('Active', 'Inactive', 'Deleted')),
    message              TEXT    NOT NULL,
    short_code           TEXT    NOT NULL,
    country_code         TEXT,
    keyword              TEXT    NOT NULL,
    auto_add_subscriber  INTEGER NOT NULL CHECK (auto_add_subscriber IN (0, 1)),
    update_subscriber    INTEGER NOT NULL CHECK (update_subscriber IN (0, 1)),
    created_at           INTEGER NOT NULL,
    modified_at          INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX send_definitions_by_key ON send_definitions (account_pk, key_key);
CREATE UNIQUE INDEX send_definitions_by_name ON send_definitions (account_pk, name)
    WHERE status <> 'Deleted';

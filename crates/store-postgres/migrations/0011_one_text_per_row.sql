-- `importSend` with `IsDuplicationAllowed` (API.md §6b): a number in several rows of the file
-- gets one text per row. Its list counts rows: `copies` is how many import rows made a
-- membership (1 for every other list), and a send that allows duplication makes one recipient
-- per copy of a membership, told apart by `copy_index` (0 for all others).
ALTER TABLE lists ADD COLUMN counts_rows INTEGER NOT NULL DEFAULT 0 CHECK (counts_rows IN (0, 1));
ALTER TABLE list_members ADD COLUMN copies INTEGER NOT NULL DEFAULT 1 CHECK (copies >= 1);

ALTER TABLE recipients ADD COLUMN copy_index INTEGER NOT NULL DEFAULT 0;
ALTER TABLE recipients DROP CONSTRAINT recipients_send_pk_mobile_number_list_pk_key;
ALTER TABLE recipients ADD CONSTRAINT recipients_send_pk_mobile_number_list_pk_copy_key
    UNIQUE (send_pk, mobile_number, list_pk, copy_index);

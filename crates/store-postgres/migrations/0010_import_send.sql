-- A list made by `importSend` (API.md §6b) without `IsVisible` is not listed by the admin API or
-- the console; it is found by its ID like any other.
ALTER TABLE lists ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0 CHECK (hidden IN (0, 1));

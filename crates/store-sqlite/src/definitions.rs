//! Transactional send definitions (API.md §9): `store::definition_rows`' operations
//! (`definition_store!`), reads on the readers, writes on the writer, the update and the archive
//! in one write transaction.

use store::definition_rows::DEFINITION_BY_KEY;

use crate::SqliteStore;

store::definition_store!(
    SqliteStore,
    database: sqlx::Sqlite,
    reads: reader,
    writes: writer,
    begin: write,
    change_read: DEFINITION_BY_KEY
);

// Transactional sends (API.md §9): `store::tx_rows`' operations, a request in one write
// transaction.
store::transactional_store!(SqliteStore, database: sqlx::Sqlite, reads: reader, begin: write);

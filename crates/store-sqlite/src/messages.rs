//! Stored messages (API.md §7): `store::message_rows`'s operations (`message_store!`), reads on
//! the readers, writes on the writer, the update in one write transaction. A message names
//! its code by code string; list IDs are kept as given (sends resolve them when accepted).

use store::message_rows::MESSAGE_BY_KEY;

use crate::SqliteStore;

store::message_store!(
    SqliteStore,
    database: sqlx::Sqlite,
    reads: reader,
    writes: writer,
    begin: write,
    update_read: MESSAGE_BY_KEY
);

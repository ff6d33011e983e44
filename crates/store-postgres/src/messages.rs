//! Stored messages (API.md §7): `store::message_rows`'s operations on the pool
//! (`message_store!`), the update reading the message under its row's lock. A message names its code by code
//! string; list IDs are kept as given (sends resolve them when accepted).

use store::select_message;

use crate::PgStore;

/// The update reads the message under its row's lock: concurrent patches apply one after the
/// other.
const READ_LOCKED: &str = select_message!("WHERE account_pk = $1 AND id_key = $2 FOR UPDATE");

store::message_store!(
    PgStore,
    database: sqlx::Postgres,
    reads: pool,
    writes: pool,
    begin: begin,
    update_read: READ_LOCKED
);

//! Transactional send definitions (API.md §9): `store::definition_rows`' operations on the pool
//! (`definition_store!`), the update and the archive reading the definition under its row's
//! lock.

use store::select_definition;

use crate::PgStore;

/// Concurrent changes of one definition apply one after the other.
const READ_LOCKED: &str =
    select_definition!("WHERE account_pk = $1 AND key_key = $2 AND status <> 'Deleted' FOR UPDATE");

store::definition_store!(
    PgStore,
    database: sqlx::Postgres,
    reads: pool,
    writes: pool,
    begin: begin,
    change_read: READ_LOCKED
);

// Transactional sends (API.md §9): `store::tx_rows`' operations, a request in one write
// transaction.
store::transactional_store!(PgStore, database: sqlx::Postgres, reads: pool, begin: begin);

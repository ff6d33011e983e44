//! Transactional send definitions and sends (API.md §9): `store::definition_rows`' and
//! `store::tx_rows`' operations on the pool. A change of a definition reads it under its row's
//! lock; a request shares that lock, so a change of status (or an archive) waits for the
//! requests already reading the definition and then holds or settles what they queued; rows
//! about to be settled are locked first.

use store::select_definition;
use store::tx_rows::TxLocks;

use crate::PgStore;

/// Concurrent changes of one definition apply one after the other.
const READ_LOCKED: &str =
    select_definition!("WHERE account_pk = $1 AND key_key = $2 AND status <> 'Deleted' FOR UPDATE");

const LOCKS: TxLocks = TxLocks {
    definition: " FOR SHARE OF d",
    rows: " FOR UPDATE",
};

store::definition_store!(
    PgStore,
    database: sqlx::Postgres,
    reads: pool,
    writes: pool,
    begin: begin,
    change_read: READ_LOCKED,
    locks: LOCKS
);

store::transactional_store!(
    PgStore,
    database: sqlx::Postgres,
    reads: pool,
    begin: begin,
    locks: LOCKS
);

//! Transactional send definitions and sends (API.md §9): `store::definition_rows`' and
//! `store::tx_rows`' operations, reads on the readers, every change in one write transaction
//! (which excludes every other writer: no row locks).

use store::definition_rows::DEFINITION_BY_KEY;
use store::tx_rows::TxLocks;

use crate::SqliteStore;

const LOCKS: TxLocks = TxLocks {
    definition: "",
    rows: "",
};

store::definition_store!(
    SqliteStore,
    database: sqlx::Sqlite,
    reads: reader,
    writes: writer,
    begin: write,
    change_read: DEFINITION_BY_KEY,
    locks: LOCKS
);

store::transactional_store!(
    SqliteStore,
    database: sqlx::Sqlite,
    reads: reader,
    begin: write,
    locks: LOCKS
);

//! Subscriptions of numbers to keywords (API.md §6): the shared operations of
//! `store::subscription_rows` (`subscription_store!`): writes in one transaction of the writer
//! (the setting's lookups and upsert together), reads on the readers; here the read over many
//! numbers (a JSON array read with `json_each`, bound by [`NumberJson`]).

use sqlx::query::QueryAs;
use sqlx::sqlite::SqliteArguments;
use sqlx::Sqlite;
use store::subscription_rows::NumberSet;
use store::{StoreError, StoreResult};

use crate::codes::keyword_by_name;
use crate::SqliteStore;

/// Binds a set of numbers as one JSON array parameter (`IN (SELECT value FROM json_each(?N))`).
pub(crate) struct NumberJson;

impl NumberSet<Sqlite> for NumberJson {
    fn bind_numbers<'q, O>(
        query: QueryAs<'q, Sqlite, O, SqliteArguments<'q>>,
        numbers: &'q [String],
    ) -> StoreResult<QueryAs<'q, Sqlite, O, SqliteArguments<'q>>> {
        let numbers =
            serde_json::to_string(numbers).map_err(|e| StoreError::Other(e.to_string()))?;
        Ok(query.bind(numbers))
    }
}

store::subscription_store!(
    SqliteStore,
    db: Sqlite,
    reads: reader,
    begin: write,
    set_subscription: in write,
    keyword_by_name: keyword_by_name,
    numbers: NumberJson,
    on_code: select_subscription!(
        "WHERE s.account_pk = $1 AND c.code_key = $2 \
         AND s.mobile_number IN (SELECT value FROM json_each($3)) \
         ORDER BY s.mobile_number, k.keyword_key, k.keyword"
    )
);

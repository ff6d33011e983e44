//! Subscriptions of numbers to keywords (API.md §6): the shared operations of
//! `store::subscription_rows` (`subscription_store!`): the setting one statement at a time on the
//! pool (a keyword deleted meanwhile fails the upsert's foreign key: NotFound), the lapse in a
//! transaction, and here the read over many numbers (an array, bound by [`NumberArray`]).

use sqlx::postgres::PgArguments;
use sqlx::query::QueryAs;
use sqlx::Postgres;
use store::subscription_rows::NumberSet;
use store::StoreResult;

use crate::codes::keyword_by_name;
use crate::PgStore;

/// Binds a set of numbers as one array parameter (`= ANY($N)`).
pub(crate) struct NumberArray;

impl NumberSet<Postgres> for NumberArray {
    fn bind_numbers<'q, O>(
        query: QueryAs<'q, Postgres, O, PgArguments>,
        numbers: &'q [String],
    ) -> StoreResult<QueryAs<'q, Postgres, O, PgArguments>> {
        Ok(query.bind(numbers))
    }
}

store::subscription_store!(
    PgStore,
    db: Postgres,
    reads: pool,
    begin: begin,
    set_subscription: on pool,
    keyword_by_name: keyword_by_name,
    numbers: NumberArray,
    on_code: select_subscription!(
        "WHERE s.account_pk = $1 AND c.code_key = $2 AND s.mobile_number = ANY($3) \
         ORDER BY s.mobile_number, k.keyword_key, k.keyword"
    )
);

//! Short and long codes and the keywords on them (API.md §6, §7): `store::code_rows`'s
//! operations, all on the pool (`code_store!`). Deleting either cascades, in the schema, to the
//! keywords and subscriptions below it.

pub(crate) use store::code_rows::{code_key, keyword_by_name};

store::code_store!(crate::PgStore, reads: pool, writes: pool);

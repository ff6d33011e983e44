//! Short and long codes and the keywords on them (API.md §6, §7): `store::code_rows`'s
//! operations (`code_store!`), reads on the readers, writes on the writer (one statement each
//! after the lookups). Deleting either cascades, in the schema, to the keywords and
//! subscriptions below it.

pub(crate) use store::code_rows::keyword_by_name;

store::code_store!(crate::SqliteStore, reads: reader, writes: writer);

//! What both backends share about the outbox: the page read (written once, with `$N`
//! parameters) and its row with the mapping to [`OutboxEntry`], and the check of an append's
//! count. The append itself, whose batching and ordering guarantee differ (`json_each` under the
//! single writer on SQLite, `unnest` under a table lock on PostgreSQL), stays each backend's own.

use sqlx::{Executor, FromRow};

use crate::sql::{self, Arg, Sql};
use crate::{OutboxEntry, OutboxItem, StoreError, StoreResult};

/// The outbox rows after sequence number `$1`, at most `$2`, in order.
pub const OUTBOX_PAGE: &str = "SELECT seq, carrier, source, destination, text, content_url, \
     encoding, segments, token_id, accepted_at FROM outbox WHERE seq > $1 ORDER BY seq LIMIT $2";

/// An outbox row as [`OUTBOX_PAGE`] reads it.
#[derive(sqlx::FromRow)]
pub struct OutboxRow {
    seq: i64,
    carrier: String,
    source: String,
    destination: String,
    text: String,
    content_url: Option<String>,
    encoding: String,
    segments: i32,
    token_id: Option<String>,
    accepted_at: i64,
}

impl From<OutboxRow> for OutboxEntry {
    fn from(r: OutboxRow) -> OutboxEntry {
        OutboxEntry {
            seq: r.seq,
            item: OutboxItem {
                carrier: r.carrier,
                from: r.source,
                to: r.destination,
                text: r.text,
                content_url: r.content_url,
                encoding: r.encoding,
                segments: r.segments,
                token_id: r.token_id,
                accepted_at: r.accepted_at,
            },
        }
    }
}

/// An append of `items` rows that inserted `inserted`: an error unless they are as many.
pub fn check_appended(items: usize, inserted: u64) -> StoreResult<()> {
    if inserted != items as u64 {
        return Err(StoreError::Other(format!(
            "appending {items} outbox rows inserted {inserted}"
        )));
    }
    Ok(())
}

/// At most `limit` outbox rows after sequence number `after`, in order.
pub async fn outbox_page<'e, DB: Sql>(
    db: impl Executor<'e, Database = DB>,
    after: i64,
    limit: u32,
) -> StoreResult<Vec<OutboxEntry>>
where
    OutboxRow: for<'r> FromRow<'r, DB::Row>,
{
    let rows = sqlx::query_as::<DB, OutboxRow>(OUTBOX_PAGE)
        .arg(after)
        .arg(i64::from(limit))
        .fetch_all(db)
        .await
        .map_err(sql::db("read the outbox"))?;
    Ok(rows.into_iter().map(OutboxEntry::from).collect())
}

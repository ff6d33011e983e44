//! The simulator carrier's outbox (API.md §7 `GET /admin/v1/outbox`): what it accepted, in
//! order. The simulator writes it itself, in its own transactions, as a remote carrier would.
//! The page read is shared (`store::outbox_rows`, `outbox_store!`); the append (`json_each` on
//! the writer) is here.

use serde::Serialize;

use store::{Millis, OutboxItem, StoreError, StoreResult};

use store::outbox_rows;

use crate::{db, to_json, SqliteStore};

store::outbox_store!(SqliteStore, reads: reader, outbox_append: append);

impl SqliteStore {
    /// One statement for the batch, rows in input order.
    async fn append(&self, items: &[OutboxItem]) -> StoreResult<Vec<i64>> {
        let rows: Vec<OutboxJson> = items
            .iter()
            .map(|i| {
                OutboxJson(
                    &i.carrier,
                    &i.from,
                    &i.to,
                    &i.text,
                    i.content_url.as_deref(),
                    &i.encoding,
                    i.segments,
                    i.token_id.as_deref(),
                    i.accepted_at,
                )
            })
            .collect();
        let rows = to_json(&rows, "outbox rows")?;
        let count = i64::try_from(items.len())
            .map_err(|_| StoreError::Other(format!("{} outbox rows", items.len())))?;
        let mut tx = self.write().await?;
        let inserted = sqlx::query(
            "INSERT INTO outbox (carrier, source, destination, text, content_url, encoding, \
             segments, token_id, accepted_at) \
             SELECT j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3, j.value ->> 4, \
             j.value ->> 5, j.value ->> 6, j.value ->> 7, j.value ->> 8 \
             FROM json_each(?1) AS j ORDER BY j.key",
        )
        .bind(rows)
        .execute(&mut *tx)
        .await
        .map_err(db("append to the outbox"))?;
        outbox_rows::check_appended(items.len(), inserted.rows_affected())?;
        tx.commit().await.map_err(db("commit outbox rows"))?;
        // One statement under the write lock: AUTOINCREMENT gave the rows consecutive numbers, in
        // input order, ending at the last one inserted.
        let last = inserted.last_insert_rowid();
        Ok((last - count + 1..=last).collect())
    }
}

/// One outbox item as the append reads it from `json_each`: `[carrier, source, destination,
/// text, content_url, encoding, segments, token_id, accepted_at]`.
#[derive(Serialize)]
struct OutboxJson<'a>(
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    Option<&'a str>,
    &'a str,
    i32,
    Option<&'a str>,
    Millis,
);

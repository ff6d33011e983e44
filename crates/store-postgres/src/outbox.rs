//! The simulator carrier's outbox (API.md §7 `GET /admin/v1/outbox`): what it accepted, in
//! order. The simulator writes it itself, in its own transactions, as a remote carrier would.
//! The page read is shared (`store::outbox_rows`); the append (`unnest` under a table lock) is
//! here (`outbox_store!`).

use store::outbox_rows;
use store::{OutboxItem, StoreResult};

use crate::{db, settle, Ending, PgStore};

store::outbox_store!(PgStore, reads: pool, outbox_append: append);

impl PgStore {
    /// One insert for the batch, rows in input order. The table lock (which only other appends wait
    /// for; readers never do) makes sequence numbers commit in order, so a reader paging with
    /// `seq > after` never skips a row committed later with a smaller number; within the insert,
    /// rows take their numbers in input order.
    async fn append(&self, items: &[OutboxItem]) -> StoreResult<Vec<i64>> {
        let carriers: Vec<&str> = items.iter().map(|i| i.carrier.as_str()).collect();
        let sources: Vec<&str> = items.iter().map(|i| i.from.as_str()).collect();
        let destinations: Vec<&str> = items.iter().map(|i| i.to.as_str()).collect();
        let texts: Vec<&str> = items.iter().map(|i| i.text.as_str()).collect();
        let content_urls: Vec<Option<&str>> =
            items.iter().map(|i| i.content_url.as_deref()).collect();
        let encodings: Vec<&str> = items.iter().map(|i| i.encoding.as_str()).collect();
        let segments: Vec<i32> = items.iter().map(|i| i.segments).collect();
        let token_ids: Vec<Option<&str>> = items.iter().map(|i| i.token_id.as_deref()).collect();
        let accepted: Vec<i64> = items.iter().map(|i| i.accepted_at).collect();
        let mut tx = self.begin().await?;
        let work = async {
            sqlx::query("LOCK TABLE outbox IN SHARE ROW EXCLUSIVE MODE")
                .execute(&mut *tx)
                .await
                .map_err(db("lock the outbox"))?;
            let mut seqs: Vec<i64> = sqlx::query_scalar(
                "INSERT INTO outbox (carrier, source, destination, text, content_url, encoding, \
             segments, token_id, accepted_at) \
             SELECT u.carrier, u.source, u.destination, u.text, u.content_url, u.encoding, \
             u.segments, u.token_id, u.accepted_at \
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], \
             $7::integer[], $8::text[], $9::bigint[]) WITH ORDINALITY \
             AS u (carrier, source, destination, text, content_url, encoding, segments, token_id, \
             accepted_at, ord) ORDER BY u.ord RETURNING seq",
            )
            .bind(&carriers)
            .bind(&sources)
            .bind(&destinations)
            .bind(&texts)
            .bind(&content_urls)
            .bind(&encodings)
            .bind(&segments)
            .bind(&token_ids)
            .bind(&accepted)
            .fetch_all(&mut *tx)
            .await
            .map_err(db("append to the outbox"))?;
            outbox_rows::check_appended(items.len(), seqs.len() as u64)?;
            // The rows were numbered as inserted, in input order; RETURNING's order is not promised.
            seqs.sort_unstable();
            Ok(Ending::Commit(seqs))
        }
        .await;
        settle(tx, work, "commit outbox rows").await
    }
}

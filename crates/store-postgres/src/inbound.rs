//! Inbound texts (the engine's inbound path): recorded and matched to the code they were sent to.

use store::{InboundRecord, InboundText, StoreError, StoreResult};

use crate::codes::code_key;
use sqlx::{Postgres, Transaction};

use crate::{db, settle, Ending, PgStore};

#[derive(sqlx::FromRow)]
struct InboundRow {
    seq: i64,
    carrier: String,
    source: String,
    destination: String,
    text: String,
    received_at: i64,
    account_id: Option<String>,
    code: Option<String>,
}

impl InboundRow {
    fn into_record(self) -> InboundRecord {
        InboundRecord {
            seq: self.seq,
            account_id: self.account_id,
            code: self.code,
            text: InboundText {
                carrier: self.carrier,
                from: self.source,
                to: self.destination,
                text: self.text,
                received_at: self.received_at,
            },
        }
    }
}

const SELECT: &str = "SELECT i.seq, i.carrier, i.source, i.destination, i.text, i.received_at, \
     a.id AS account_id, c.code AS code FROM inbound_texts i \
     LEFT JOIN codes c ON c.pk = i.code_pk LEFT JOIN accounts a ON a.pk = c.account_pk";

/// One insert: the code is the oldest one routed to the carrier with that address. The table
/// lock (which only other recordings wait for) makes sequence numbers commit in order, so a
/// reader paging with `seq > after` never skips a row committed later with a smaller number.
pub(crate) async fn record(store: &PgStore, text: InboundText) -> StoreResult<InboundRecord> {
    let mut tx = store.begin().await?;
    let work = record_in(&mut tx, text).await;
    settle(tx, work, "commit an inbound text").await
}

async fn record_in(
    tx: &mut Transaction<'static, Postgres>,
    text: InboundText,
) -> StoreResult<Ending<InboundRecord>> {
    sqlx::query("LOCK TABLE inbound_texts IN SHARE ROW EXCLUSIVE MODE")
        .execute(&mut **tx)
        .await
        .map_err(db("lock inbound texts"))?;
    let seq: i64 = sqlx::query_scalar(
        "INSERT INTO inbound_texts (carrier, source, destination, text, received_at, code_pk) \
         VALUES ($1, $2, $3, $4, $5, (SELECT pk FROM codes WHERE carrier = $1 AND code_key = $6 \
         ORDER BY pk LIMIT 1)) RETURNING seq",
    )
    .bind(&text.carrier)
    .bind(&text.from)
    .bind(&text.to)
    .bind(&text.text)
    .bind(text.received_at)
    .bind(code_key(&text.to))
    .fetch_one(&mut **tx)
    .await
    .map_err(db("record an inbound text"))?;
    let row = sqlx::query_as::<_, InboundRow>(&format!("{SELECT} WHERE i.seq = $1"))
        .bind(seq)
        .fetch_optional(&mut **tx)
        .await
        .map_err(db("read an inbound text"))?
        .ok_or_else(|| StoreError::Other("an inbound text vanished".into()))?;
    Ok(Ending::Commit(row.into_record()))
}

pub(crate) async fn page(
    store: &PgStore,
    after: i64,
    limit: u32,
) -> StoreResult<Vec<InboundRecord>> {
    let rows = sqlx::query_as::<_, InboundRow>(&format!(
        "{SELECT} WHERE i.seq > $1 ORDER BY i.seq LIMIT $2"
    ))
    .bind(after)
    .bind(i64::from(limit))
    .fetch_all(&store.pool)
    .await
    .map_err(db("read inbound texts"))?;
    Ok(rows.into_iter().map(InboundRow::into_record).collect())
}

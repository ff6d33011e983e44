//! Inbound texts (the engine's inbound path): the shared operations of `store::inbound_rows` on
//! the pool or in a transaction of their own. Here the transactions, the locks (the inbound table
//! lock, which only other recordings wait for, makes sequence numbers commit in order, so a reader
//! paging with `seq > after` never skips a row committed later with a smaller number; codes and
//! keywords held `FOR SHARE`), and the batch inserts, `unnest` of arrays ([`PgMo`]).

use async_trait::async_trait;
use sqlx::{PgConnection, Postgres};
use store::inbound_rows::{self, MoBatchSql, ReplyRow, TextRow};
use store::{Code, CodeOptOut, InboundRecord, InboundStore, InboundText, MoBatch, StoreResult};

use crate::subscriptions::NumberArray;
use crate::{db, settle, Ending, PgStore};

/// Locks the inbound texts against other recordings until the transaction ends.
const LOCK_INBOUND: &str = "LOCK TABLE inbound_texts IN SHARE ROW EXCLUSIVE MODE";

#[async_trait]
impl InboundStore for PgStore {
    /// One insert, under the table lock: the code is the oldest one routed to the carrier with
    /// that address.
    async fn record_inbound(&self, text: InboundText) -> StoreResult<InboundRecord> {
        let mut tx = self.begin().await?;
        let work = async {
            sqlx::query(LOCK_INBOUND)
                .execute(&mut *tx)
                .await
                .map_err(db("lock inbound texts"))?;
            inbound_rows::record_inbound::<Postgres>(&mut tx, text)
                .await
                .map(Ending::Commit)
        }
        .await;
        settle(tx, work, "commit an inbound text").await
    }

    async fn inbound_page(&self, after: i64, limit: u32) -> StoreResult<Vec<InboundRecord>> {
        inbound_rows::inbound_page(&self.pool, after, limit).await
    }

    async fn codes_for_inbound(&self, carrier: &str, to: &str) -> StoreResult<Vec<Code>> {
        inbound_rows::codes_for_inbound(&self.pool, carrier, to).await
    }

    async fn opt_outs_on_code(
        &self,
        account_id: &str,
        code: &str,
        numbers: &[String],
    ) -> StoreResult<Vec<CodeOptOut>> {
        inbound_rows::opt_outs_on_code::<_, _, NumberArray>(
            &self.pool,
            "SELECT o.mobile_number, o.opted_out_at FROM code_opt_outs o \
             JOIN codes c ON c.pk = o.code_pk \
             WHERE c.account_pk = $1 AND c.code_key = $2 AND o.mobile_number = ANY($3) \
             ORDER BY o.mobile_number",
            account_id,
            code,
            numbers,
        )
        .await
    }

    /// Every batch in one transaction (the inbound table lock as in `record`): all of them or
    /// none. The dispatcher is woken when replies wait.
    async fn record_mo_batches(&self, batches: Vec<MoBatch>) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let work = inbound_rows::record_mo_batches::<Postgres, PgMo>(&mut tx, &batches)
            .await
            .map(Ending::Commit);
        if settle(tx, work, "commit inbound texts").await? {
            self.signal.raise();
        }
        Ok(())
    }
}

/// PostgreSQL's part of `record_mo_batches`: the table lock, codes and keywords held
/// `FOR SHARE`, and batch inserts of arrays, in input order (`WITH ORDINALITY`).
struct PgMo;

impl MoBatchSql<Postgres> for PgMo {
    const LOCK_TEXTS: Option<&'static str> = Some(LOCK_INBOUND);
    const ROW_LOCK: &'static str = " FOR SHARE";

    async fn insert_texts<'a>(
        conn: &'a mut PgConnection,
        rows: &'a [TextRow<'a>],
        code_pk: i64,
        token_key: Option<&'a str>,
    ) -> StoreResult<()> {
        let carriers: Vec<&str> = rows.iter().map(|t| t.carrier).collect();
        let sources: Vec<&str> = rows.iter().map(|t| t.source).collect();
        let destinations: Vec<&str> = rows.iter().map(|t| t.destination).collect();
        let texts: Vec<&str> = rows.iter().map(|t| t.text.as_str()).collect();
        let times: Vec<i64> = rows.iter().map(|t| t.received_at).collect();
        let text_pks: Vec<Option<i64>> = rows.iter().map(|t| t.text_pk).collect();
        sqlx::query(
            "INSERT INTO inbound_texts (carrier, source, destination, text, received_at, \
             code_pk, token_key, text_pk) \
             SELECT u.carrier, u.source, u.destination, u.text, u.received_at, $6, $7, u.text_pk \
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], \
             $8::bigint[]) \
             WITH ORDINALITY AS u (carrier, source, destination, text, received_at, text_pk, n) \
             ORDER BY u.n",
        )
        .bind(&carriers)
        .bind(&sources)
        .bind(&destinations)
        .bind(&texts)
        .bind(&times)
        .bind(code_pk)
        .bind(token_key)
        .bind(&text_pks)
        .execute(conn)
        .await
        .map_err(db("record inbound texts"))?;
        Ok(())
    }

    async fn insert_replies<'a>(
        conn: &'a mut PgConnection,
        send_pk: i64,
        rows: &'a [ReplyRow<'a>],
        at: store::Millis,
    ) -> StoreResult<()> {
        let numbers: Vec<&str> = rows.iter().map(|r| r.mobile_number).collect();
        let ordinals: Vec<i64> = rows.iter().map(|r| r.ordinal).collect();
        let texts: Vec<Option<&str>> = rows.iter().map(|r| r.text.as_deref()).collect();
        let text_pks: Vec<Option<i64>> = rows.iter().map(|r| r.text_pk).collect();
        sqlx::query(concat!(
            "INSERT INTO recipients (send_pk, mobile_number, list_pk, state, updated_at, \
             text, text_pk) \
             SELECT $1, u.number, u.ordinal, ",
            recipient_state!(ready),
            ", $5, u.text, u.text_pk \
             FROM unnest($2::text[], $3::bigint[], $4::text[], $6::bigint[]) \
             WITH ORDINALITY AS u (number, ordinal, text, text_pk, n) ORDER BY u.n"
        ))
        .bind(send_pk)
        .bind(&numbers)
        .bind(&ordinals)
        .bind(&texts)
        .bind(at)
        .bind(&text_pks)
        .execute(conn)
        .await
        .map_err(db("queue replies"))?;
        Ok(())
    }
}

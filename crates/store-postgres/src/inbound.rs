//! Inbound texts (the engine's inbound path): the shared operations of `store::inbound_rows` on
//! the pool or in a transaction of their own (`inbound_store!`). Here the locks (the inbound table
//! lock, which only other recordings wait for, makes sequence numbers commit in order, so a reader
//! paging with `seq > after` never skips a row committed later with a smaller number; codes and
//! keywords held `FOR SHARE`), and the batch inserts, `unnest` of arrays ([`PgMo`]).

use sqlx::{PgConnection, Postgres};
use store::inbound_rows::{MoBatchSql, ReplyRow, TextRow};
use store::StoreResult;

use crate::subscriptions::NumberArray;
use crate::{db, PgStore};

/// Locks the inbound texts against other recordings until the transaction ends.
const LOCK_INBOUND: &str = "LOCK TABLE inbound_texts IN SHARE ROW EXCLUSIVE MODE";

// Recordings under the table lock (`PgMo::LOCK_TEXTS`); the dispatcher is woken when replies wait.
store::inbound_store!(
    PgStore,
    db: Postgres,
    reads: pool,
    begin: begin,
    mo: PgMo,
    numbers: NumberArray,
    opt_outs: "SELECT o.mobile_number, o.opted_out_at FROM code_opt_outs o \
         JOIN codes c ON c.pk = o.code_pk \
         WHERE c.account_pk = $1 AND c.code_key = $2 AND o.mobile_number = ANY($3) \
         ORDER BY o.mobile_number",
    signal: signal
);

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

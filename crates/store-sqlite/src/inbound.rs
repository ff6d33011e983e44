//! Inbound texts (the engine's inbound path): the shared operations of `store::inbound_rows`,
//! writes in one transaction of the writer, reads on the readers (`inbound_store!`). Here the
//! batch inserts, a JSON array read with `json_each` ([`SqliteMo`]); the single writer needs no
//! lock of its own.

use serde::Serialize;
use sqlx::{Sqlite, SqliteConnection};
use store::inbound_rows::{MoBatchSql, ReplyRow, TextRow};
use store::{Millis, StoreResult};

use crate::subscriptions::NumberJson;
use crate::{db, to_json, SqliteStore};

store::inbound_store!(
    SqliteStore,
    db: Sqlite,
    reads: reader,
    begin: write,
    mo: SqliteMo,
    numbers: NumberJson,
    opt_outs: "SELECT o.mobile_number, o.opted_out_at FROM code_opt_outs o \
         JOIN codes c ON c.pk = o.code_pk \
         WHERE c.account_pk = $1 AND c.code_key = $2 \
         AND o.mobile_number IN (SELECT value FROM json_each($3)) ORDER BY o.mobile_number"
);

/// SQLite's part of `record_mo_batches`: no locks (the writer is single), and batch inserts of a
/// JSON array, in input order (`ORDER BY j.key`).
struct SqliteMo;

impl MoBatchSql<Sqlite> for SqliteMo {
    const LOCK_TEXTS: Option<&'static str> = None;
    const ROW_LOCK: &'static str = "";

    async fn insert_texts<'a>(
        conn: &'a mut SqliteConnection,
        rows: &'a [TextRow<'a>],
        code_pk: i64,
        token_key: Option<&'a str>,
    ) -> StoreResult<()> {
        let rows: Vec<TextJson> = rows
            .iter()
            .map(|t| {
                TextJson(
                    t.carrier,
                    t.source,
                    t.destination,
                    &t.text,
                    t.received_at,
                    t.text_pk,
                )
            })
            .collect();
        sqlx::query(
            "INSERT INTO inbound_texts (carrier, source, destination, text, received_at, \
             code_pk, token_key, text_pk) \
             SELECT j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3, j.value ->> 4, \
             ?2, ?3, j.value ->> 5 FROM json_each(?1) AS j ORDER BY j.key",
        )
        .bind(to_json(&rows, "inbound texts")?)
        .bind(code_pk)
        .bind(token_key)
        .execute(conn)
        .await
        .map_err(db("record inbound texts"))?;
        Ok(())
    }

    async fn insert_replies<'a>(
        conn: &'a mut SqliteConnection,
        send_pk: i64,
        rows: &'a [ReplyRow<'a>],
        at: Millis,
    ) -> StoreResult<()> {
        let rows: Vec<ReplyJson> = rows
            .iter()
            .map(|r| ReplyJson(r.mobile_number, r.ordinal, r.text.as_deref(), r.text_pk))
            .collect();
        sqlx::query(concat!(
            "INSERT INTO recipients (send_pk, mobile_number, list_pk, state, updated_at, \
             text, text_pk) \
             SELECT ?1, j.value ->> 0, j.value ->> 1, ",
            recipient_state!(ready),
            ", ?3, j.value ->> 2, \
             j.value ->> 3 FROM json_each(?2) AS j ORDER BY j.key"
        ))
        .bind(send_pk)
        .bind(to_json(&rows, "replies")?)
        .bind(at)
        .execute(conn)
        .await
        .map_err(db("queue replies"))?;
        Ok(())
    }
}

/// An inbound text as the batch insert reads it from `json_each`: `[carrier, source,
/// destination, text, received_at, text_pk]` (the text is empty when `text_pk` holds it).
#[derive(Serialize)]
struct TextJson<'a>(&'a str, &'a str, &'a str, &'a str, Millis, Option<i64>);

/// A reply recipient as the insert reads it from `json_each`: `[mobile_number, ordinal, text,
/// text_pk]`.
#[derive(Serialize)]
struct ReplyJson<'a>(&'a str, i64, Option<&'a str>, Option<i64>);

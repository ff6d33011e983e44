//! Inbound texts (the engine's inbound path): recorded and matched to the code they were sent to,
//! the codes an inbound text reaches (one per account holding a shared code), numbers' opt-outs
//! of a code, and the recording of keyword handling's outcome — texts stored once per call
//! (`batch_texts`, API.md §1 2 MiB).

use async_trait::async_trait;
use serde::Serialize;
use store::InboundStore;

use std::collections::HashMap;

use store::SendState;

use store::{
    Code, CodeOptOut, InboundRecord, InboundText, Millis, MoBatch, OptOutWrite, StoreError,
    StoreResult, SubscriptionWrite,
};

use crate::codes::{code_key, keyword_key, CodeRow};
use crate::{account, db, id_key, to_json, SqliteStore};

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

const SELECT: &str = "SELECT i.seq, i.carrier, i.source, i.destination, \
     CASE WHEN i.text_pk IS NULL THEN i.text ELSE (SELECT b.text FROM batch_texts b \
     WHERE b.pk = i.text_pk) END AS text, i.received_at, \
     a.id AS account_id, c.code AS code FROM inbound_texts i \
     LEFT JOIN codes c ON c.pk = i.code_pk LEFT JOIN accounts a ON a.pk = c.account_pk";

#[async_trait]
impl InboundStore for SqliteStore {
    /// One statement: the code is the oldest one routed to the carrier with that address.
    async fn record_inbound(&self, text: InboundText) -> StoreResult<InboundRecord> {
        let mut tx = self.write().await?;
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO inbound_texts (carrier, source, destination, text, received_at, code_pk) \
             VALUES (?1, ?2, ?3, ?4, ?5, (SELECT pk FROM codes WHERE carrier = ?1 AND code_key = ?6 \
             ORDER BY pk LIMIT 1)) RETURNING seq",
        )
        .bind(&text.carrier)
        .bind(&text.from)
        .bind(&text.to)
        .bind(&text.text)
        .bind(text.received_at)
        .bind(id_key(&text.to))
        .fetch_one(&mut *tx)
        .await
        .map_err(db("record an inbound text"))?;
        let row = sqlx::query_as::<_, InboundRow>(&format!("{SELECT} WHERE i.seq = ?1"))
            .bind(seq)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db("read an inbound text"))?
            .ok_or_else(|| StoreError::Other("an inbound text vanished".into()))?;
        tx.commit().await.map_err(db("commit an inbound text"))?;
        Ok(row.into_record())
    }

    async fn inbound_page(&self, after: i64, limit: u32) -> StoreResult<Vec<InboundRecord>> {
        let rows = sqlx::query_as::<_, InboundRow>(&format!(
            "{SELECT} WHERE i.seq > ?1 ORDER BY i.seq LIMIT ?2"
        ))
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await
        .map_err(db("read inbound texts"))?;
        Ok(rows.into_iter().map(InboundRow::into_record).collect())
    }

    /// Every code routed to `carrier` whose code string is `to` (ignoring case), oldest first.
    async fn codes_for_inbound(&self, carrier: &str, to: &str) -> StoreResult<Vec<Code>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            account_id: String,
            #[sqlx(flatten)]
            code: CodeRow,
        }
        let rows = sqlx::query_as::<_, Row>(
            "SELECT a.id AS account_id, c.id, c.code, c.country_code, c.kind, c.carrier, \
             c.opt_out_text, c.help_text, c.created_at FROM codes c \
             JOIN accounts a ON a.pk = c.account_pk \
             WHERE c.carrier = ?1 AND c.code_key = ?2 ORDER BY c.pk",
        )
        .bind(carrier)
        .bind(code_key(to))
        .fetch_all(&self.reader)
        .await
        .map_err(db("find the codes of an inbound text"))?;
        Ok(rows
            .into_iter()
            .map(|r| r.code.into_code(&r.account_id))
            .collect())
    }

    /// The numbers among `numbers` that opted out of the account's code by text.
    async fn opt_outs_on_code(
        &self,
        account_id: &str,
        code: &str,
        numbers: &[String],
    ) -> StoreResult<Vec<CodeOptOut>> {
        let owner = account(&self.reader, account_id).await?;
        if numbers.is_empty() {
            return Ok(Vec::new());
        }
        let numbers =
            serde_json::to_string(numbers).map_err(|e| StoreError::Other(e.to_string()))?;
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT o.mobile_number, o.opted_out_at FROM code_opt_outs o \
             JOIN codes c ON c.pk = o.code_pk \
             WHERE c.account_pk = ?1 AND c.code_key = ?2 \
             AND o.mobile_number IN (SELECT value FROM json_each(?3)) ORDER BY o.mobile_number",
        )
        .bind(owner.pk)
        .bind(code_key(code))
        .bind(numbers)
        .fetch_all(&self.reader)
        .await
        .map_err(db("opt-outs of numbers on a code"))?;
        Ok(rows
            .into_iter()
            .map(|(mobile_number, opted_out_at)| CodeOptOut {
                mobile_number,
                opted_out_at,
            })
            .collect())
    }

    /// Every batch in one write transaction: all of them or none.
    async fn record_mo_batches(&self, batches: Vec<MoBatch>) -> StoreResult<()> {
        let mut tx = self.write().await?;
        let shared = share_texts(&mut tx, &batches).await?;
        for batch in &batches {
            record_mo_in(&mut tx, batch, &shared).await?;
        }
        tx.commit().await.map_err(db("commit inbound texts"))
    }
}

/// The texts that occur more than once among the call's inbound texts and replies, each stored
/// once in `batch_texts`: text → its pk. The others are stored with their row.
async fn share_texts<'b>(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    batches: &'b [MoBatch],
) -> StoreResult<HashMap<&'b str, i64>> {
    let mut shared = HashMap::new();
    for text in MoBatch::repeated_texts(batches) {
        let pk: i64 = sqlx::query_scalar("INSERT INTO batch_texts (text) VALUES (?1) RETURNING pk")
            .bind(text)
            .fetch_one(&mut **tx)
            .await
            .map_err(db("record a batch text"))?;
        shared.insert(text, pk);
    }
    Ok(shared)
}

/// Texts, subscription states, opt-outs and the reply send of one account's batch.
async fn record_mo_in(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    batch: &MoBatch,
    shared: &HashMap<&str, i64>,
) -> StoreResult<()> {
    let owner = account(&mut **tx, &batch.account_id).await?;
    let (code_pk, code, carrier): (i64, String, String) = sqlx::query_as(
        "SELECT pk, code, carrier FROM codes WHERE account_pk = ?1 AND code_key = ?2",
    )
    .bind(owner.pk)
    .bind(code_key(&batch.code))
    .fetch_optional(&mut **tx)
    .await
    .map_err(db("find the code of inbound texts"))?
    .ok_or(StoreError::NotFound)?;
    let token_key = batch.reply_send.as_ref().map(|r| id_key(&r.token));
    // A text and its batch text: one of them.
    let text_of = |text: &str| match shared.get(text) {
        Some(pk) => (None, Some(*pk)),
        None => (Some(text.to_string()), None),
    };

    let texts: Vec<TextRow> = batch
        .texts
        .iter()
        .map(|t| {
            let (text, text_pk) = text_of(&t.text);
            TextRow(
                &t.carrier,
                &t.from,
                &t.to,
                text.unwrap_or_default(),
                t.received_at,
                text_pk,
            )
        })
        .collect();
    if !texts.is_empty() {
        sqlx::query(
            "INSERT INTO inbound_texts (carrier, source, destination, text, received_at, \
             code_pk, token_key, text_pk) \
             SELECT j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3, j.value ->> 4, \
             ?2, ?3, j.value ->> 5 FROM json_each(?1) AS j ORDER BY j.key",
        )
        .bind(to_json(&texts, "inbound texts")?)
        .bind(code_pk)
        .bind(&token_key)
        .execute(&mut **tx)
        .await
        .map_err(db("record inbound texts"))?;
    }

    // The code's keywords, read once for the whole batch.
    let keyword_pks: HashMap<String, i64> = if batch.subscriptions.is_empty() {
        HashMap::new()
    } else {
        sqlx::query_as::<_, (String, i64)>(
            "SELECT keyword_key, pk FROM keywords WHERE code_pk = ?1",
        )
        .bind(code_pk)
        .fetch_all(&mut **tx)
        .await
        .map_err(db("find the keywords of the code"))?
        .into_iter()
        .collect()
    };
    for write in &batch.subscriptions {
        let (number, keyword) = match write {
            SubscriptionWrite::Put(s) => (&s.mobile_number, &s.keyword),
            SubscriptionWrite::Remove {
                mobile_number,
                keyword,
            } => (mobile_number, keyword),
        };
        let keyword_pk = *keyword_pks
            .get(&keyword_key(keyword))
            .ok_or(StoreError::NotFound)?;
        match write {
            SubscriptionWrite::Put(s) => {
                sqlx::query(
                    "INSERT INTO subscriptions (keyword_pk, mobile_number, account_pk, status, \
                     opt_in_date, opt_out_date, pending_since, pending_previous, \
                     opt_out_by_text) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
                     ON CONFLICT (keyword_pk, mobile_number) DO UPDATE SET \
                     status = excluded.status, opt_in_date = excluded.opt_in_date, \
                     opt_out_date = excluded.opt_out_date, \
                     pending_since = excluded.pending_since, \
                     pending_previous = excluded.pending_previous, \
                     opt_out_by_text = excluded.opt_out_by_text",
                )
                .bind(keyword_pk)
                .bind(number)
                .bind(owner.pk)
                .bind(s.status.as_str())
                .bind(s.opt_in_date)
                .bind(s.opt_out_date)
                .bind(s.pending.map(|p| p.since))
                .bind(s.pending.and_then(|p| p.previous).map(|p| p.as_str()))
                .bind(i64::from(s.opt_out_by_text))
                .execute(&mut **tx)
                .await
                .map_err(db("write a subscription"))?;
            }
            SubscriptionWrite::Remove { .. } => {
                sqlx::query(
                    "DELETE FROM subscriptions WHERE keyword_pk = ?1 AND mobile_number = ?2",
                )
                .bind(keyword_pk)
                .bind(number)
                .execute(&mut **tx)
                .await
                .map_err(db("remove a subscription"))?;
            }
        }
    }
    for write in &batch.opt_outs {
        match write {
            OptOutWrite::Set { mobile_number, at } => sqlx::query(
                "INSERT INTO code_opt_outs (code_pk, mobile_number, opted_out_at) \
                 VALUES (?1, ?2, ?3) ON CONFLICT (code_pk, mobile_number) DO NOTHING",
            )
            .bind(code_pk)
            .bind(mobile_number)
            .bind(at),
            OptOutWrite::Clear { mobile_number } => {
                sqlx::query("DELETE FROM code_opt_outs WHERE code_pk = ?1 AND mobile_number = ?2")
                    .bind(code_pk)
                    .bind(mobile_number)
            }
        }
        .execute(&mut **tx)
        .await
        .map_err(db("write an opt-out of a code"))?;
    }

    if let Some(send) = &batch.reply_send {
        let count = i64::try_from(send.replies.len())
            .map_err(|_| StoreError::Other("too many replies".into()))?;
        let finished = send.replies.is_empty();
        let send_pk: i64 = sqlx::query_scalar(
            "INSERT INTO sends (token, token_key, account_pk, client_id, kind, message_id, code, \
             text, content_url, target_list_ids, exclusion_list_ids, allow_duplication, \
             due_at, segments, encoding, state, count, errors, created_at, completed_at, \
             carrier, next_at, replies) \
             VALUES (?1, ?2, ?3, ?4, 'contact', '', ?5, ?6, NULL, '[]', '[]', 0, ?7, ?8, ?9, \
             ?10, ?11, '[]', ?7, ?12, ?13, ?14, 1) RETURNING pk",
        )
        .bind(&send.token)
        .bind(id_key(&send.token))
        .bind(owner.pk)
        .bind(&send.client_id)
        .bind(&code)
        .bind(&send.text)
        .bind(send.created_at)
        .bind(send.segments)
        .bind(&send.encoding)
        .bind(
            if finished {
                SendState::Finished
            } else {
                SendState::Started
            }
            .as_str(),
        )
        .bind(count)
        .bind(finished.then_some(send.created_at))
        .bind(&carrier)
        .bind((!finished).then_some(send.created_at))
        .fetch_one(&mut **tx)
        .await
        .map_err(db("record the send of replies"))?;
        // A number's replies are numbered 1, 2, ... in `list_pk` (the unique key).
        let mut ordinal: HashMap<&str, i64> = HashMap::new();
        let rows: Vec<ReplyRow> = send
            .replies
            .iter()
            .map(|r| {
                let n = ordinal.entry(r.mobile_number.as_str()).or_insert(0);
                *n += 1;
                let (text, text_pk) = text_of(&r.text);
                ReplyRow(&r.mobile_number, *n, text, text_pk)
            })
            .collect();
        if !rows.is_empty() {
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
            .bind(send.created_at)
            .execute(&mut **tx)
            .await
            .map_err(db("queue replies"))?;
        }
    }
    Ok(())
}

/// An inbound text as the batch insert reads it from `json_each`: `[carrier, source,
/// destination, text, received_at, text_pk]` (the text is empty when `text_pk` holds it).
#[derive(Serialize)]
struct TextRow<'a>(&'a str, &'a str, &'a str, String, Millis, Option<i64>);

/// A reply recipient as the insert reads it from `json_each`: `[mobile_number, ordinal, text,
/// text_pk]`.
#[derive(Serialize)]
struct ReplyRow<'a>(&'a str, i64, Option<String>, Option<i64>);

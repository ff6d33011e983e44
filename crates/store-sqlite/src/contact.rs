//! `messageContact` sends (API.md §6): the explicit audience recorded with the send, the
//! `Subscribe`/`Resubscribe` options applied at acceptance; and the history of a send.

use async_trait::async_trait;
use serde::Serialize;
use store::ContactSendStore;

use store::{
    ContactAudience, CreatedSend, Direction, HistoryEntry, NewSend, StoreError, StoreResult,
};

use crate::codes::keyword_by_name;
use crate::sends::{accepted, existing, insert_one};
use crate::{account, db, id_key, to_json, SqliteStore};

#[async_trait]
impl ContactSendStore for SqliteStore {
    /// One write transaction: the send (with the idempotency rule of `create_send`), its numbers,
    /// the subscriber keys on the contacts, and the subscription options.
    async fn create_contact_send(
        &self,
        new: NewSend,
        audience: ContactAudience,
    ) -> StoreResult<CreatedSend> {
        let mut tx = self.write().await?;
        let owner = account(&mut *tx, &new.account_id).await?;
        let keyword_pk = match &audience.subscribe {
            Some(s) => Some(
                keyword_by_name(&mut *tx, &owner, &new.code, &s.keyword)
                    .await?
                    .0,
            ),
            None => None,
        };
        let Some(account_id) = insert_one(&mut tx, &new).await? else {
            // The idempotency key names an earlier send: nothing is written.
            drop(tx);
            return existing(&self.reader, &new).await;
        };
        let send_pk: i64 = sqlx::query_scalar("SELECT pk FROM sends WHERE token_key = ?1")
            .bind(id_key(&new.token))
            .fetch_one(&mut *tx)
            .await
            .map_err(db("find the new send"))?;
        let numbers: Vec<NumberRow> = audience
            .numbers
            .iter()
            .enumerate()
            .map(|(i, n)| {
                NumberRow(
                    &n.mobile_number,
                    i,
                    n.text.as_deref(),
                    n.subscriber_key.as_deref(),
                )
            })
            .collect();
        let numbers = to_json(&numbers, "contact numbers")?;
        sqlx::query(
            "INSERT INTO send_numbers (send_pk, mobile_number, position, text) \
             SELECT ?1, j.value ->> 0, j.value ->> 1, j.value ->> 2 FROM json_each(?2) AS j \
             WHERE true ON CONFLICT (send_pk, mobile_number) DO NOTHING",
        )
        .bind(send_pk)
        .bind(&numbers)
        .execute(&mut *tx)
        .await
        .map_err(db("record the numbers of a contact send"))?;
        sqlx::query(
            "INSERT INTO contacts (account_pk, mobile_number, subscriber_key, attributes, \
             created_at, updated_at) \
             SELECT ?1, j.value ->> 0, j.value ->> 3, '{}', ?3, ?3 FROM json_each(?2) AS j \
             WHERE j.value ->> 3 IS NOT NULL \
             ON CONFLICT (account_pk, mobile_number) DO UPDATE SET \
             subscriber_key = excluded.subscriber_key, updated_at = excluded.updated_at",
        )
        .bind(owner.pk)
        .bind(&numbers)
        .bind(new.created_at)
        .execute(&mut *tx)
        .await
        .map_err(db("record subscriber keys"))?;
        if let (Some(options), Some(keyword_pk)) = (&audience.subscribe, keyword_pk) {
            if options.resubscribe {
                sqlx::query(concat!(
                    "UPDATE subscriptions SET status = ",
                    subscription_status!(Subscribed),
                    ", opt_in_date = ?3, \
                     pending_since = NULL, pending_previous = NULL \
                     WHERE keyword_pk = ?1 AND status = ",
                    subscription_status!(Unsubscribed),
                    " \
                     AND mobile_number IN (SELECT j.value ->> 0 FROM json_each(?2) AS j)"
                ))
                .bind(keyword_pk)
                .bind(&numbers)
                .bind(new.created_at)
                .execute(&mut *tx)
                .await
                .map_err(db("resubscribe numbers"))?;
            }
            if options.subscribe {
                sqlx::query(concat!(
                    "INSERT INTO subscriptions (keyword_pk, mobile_number, account_pk, status, \
                     opt_in_date) \
                     SELECT ?1, j.value ->> 0, ?3, ",
                    subscription_status!(Subscribed),
                    ", ?4 FROM json_each(?2) AS j \
                     WHERE ?5 OR NOT EXISTS (SELECT 1 FROM code_opt_outs o \
                     WHERE o.mobile_number = j.value ->> 0 \
                     AND o.code_pk = (SELECT code_pk FROM keywords WHERE pk = ?1)) \
                     ON CONFLICT (keyword_pk, mobile_number) DO NOTHING"
                ))
                .bind(keyword_pk)
                .bind(&numbers)
                .bind(owner.pk)
                .bind(new.created_at)
                .bind(options.resubscribe)
                .execute(&mut *tx)
                .await
                .map_err(db("subscribe numbers"))?;
            }
        }
        tx.commit().await.map_err(db("commit contact send"))?;
        Ok(CreatedSend::Created(accepted(new, account_id)))
    }

    async fn history(
        &self,
        account_id: &str,
        token: &str,
        mobile_number: Option<&str>,
    ) -> StoreResult<Vec<HistoryEntry>> {
        let owner = account(&self.reader, account_id).await?;
        let send = sqlx::query_as::<_, HistorySend>(
            "SELECT pk, account_pk, code, text, created_at, replies FROM sends \
             WHERE token_key = ?1 AND account_pk = ?2",
        )
        .bind(id_key(token))
        .bind(owner.pk)
        .fetch_optional(&self.reader)
        .await
        .map_err(db("find the send of a history"))?
        .ok_or(StoreError::NotFound)?;
        // `?3` NULL: every number. A 1501 recipient (its text too long, API.md §1) was never
        // texted.
        let own_texts: Vec<Row> = sqlx::query_as(
            "SELECT mobile_number, coalesce(text, (SELECT b.text FROM batch_texts b WHERE b.pk = text_pk), ?2), \
             coalesce(submitted_at, updated_at) \
             FROM recipients WHERE send_pk = ?1 AND expansion_suppressed = 0 AND outcome IS NULL \
             AND status_code <> 1501 \
             AND (?3 IS NULL OR mobile_number = ?3) ORDER BY pk",
        )
        .bind(send.pk)
        .bind(&send.text)
        .bind(mobile_number)
        .fetch_all(&self.reader)
        .await
        .map_err(db("read the texts of a send"))?;
        let mut entries: Vec<(i64, u8, HistoryEntry)> = Vec::new();
        let mut push = |rows: Vec<Row>, direction: Direction, order: u8| {
            for (number, text, at) in rows {
                entries.push((
                    at,
                    order,
                    HistoryEntry {
                        direction,
                        mobile_number: number,
                        text,
                        at,
                    },
                ));
            }
        };
        push(own_texts, Direction::Mt, 1);
        if send.replies {
            let inbound: Vec<Row> = sqlx::query_as(
                "SELECT source, CASE WHEN text_pk IS NULL THEN text ELSE \
                 (SELECT b.text FROM batch_texts b WHERE b.pk = text_pk) END, received_at \
                 FROM inbound_texts WHERE token_key = ?1 \
                 AND (?2 IS NULL OR source = ?2) ORDER BY seq",
            )
            .bind(id_key(token))
            .bind(mobile_number)
            .fetch_all(&self.reader)
            .await
            .map_err(db("read the inbound texts of a send"))?;
            push(inbound, Direction::Mo, 0);
        } else if let Some(number) = mobile_number {
            let inbound: Vec<Row> = sqlx::query_as(
                "SELECT i.source, CASE WHEN i.text_pk IS NULL THEN i.text ELSE \
                 (SELECT b.text FROM batch_texts b WHERE b.pk = i.text_pk) END, i.received_at \
                 FROM inbound_texts i \
                 JOIN codes c ON c.pk = i.code_pk \
                 WHERE c.account_pk = ?1 AND c.code_key = lower(?2) AND i.source = ?3 \
                 AND i.received_at >= ?4 ORDER BY i.seq",
            )
            .bind(send.account_pk)
            .bind(&send.code)
            .bind(number)
            .bind(send.created_at)
            .fetch_all(&self.reader)
            .await
            .map_err(db("read a number's inbound texts"))?;
            push(inbound, Direction::Mo, 0);
            let replies: Vec<Row> = sqlx::query_as(
                "SELECT r.mobile_number, \
                 coalesce(r.text, (SELECT b.text FROM batch_texts b WHERE b.pk = r.text_pk), s.text), \
                 coalesce(r.submitted_at, r.updated_at) FROM sends s \
                 JOIN recipients r ON r.send_pk = s.pk AND r.mobile_number = ?3 \
                 WHERE s.account_pk = ?1 AND s.code = ?2 AND s.replies = 1 AND s.created_at >= ?4 \
                 AND r.outcome IS NULL ORDER BY r.pk",
            )
            .bind(send.account_pk)
            .bind(&send.code)
            .bind(number)
            .bind(send.created_at)
            .fetch_all(&self.reader)
            .await
            .map_err(db("read a number's replies"))?;
            push(replies, Direction::Mt, 1);
        }
        // Oldest first; at one instant, a text before the reply it caused.
        entries.sort_by_key(|(at, order, _)| (*at, *order));
        Ok(entries.into_iter().map(|(_, _, e)| e).collect())
    }
}

#[derive(sqlx::FromRow)]
struct HistorySend {
    pk: i64,
    account_pk: i64,
    code: String,
    text: String,
    created_at: i64,
    replies: bool,
}

type Row = (String, String, i64);

/// One number of a contact send's audience, as the statements read it from `json_each`:
/// `[mobile_number, position, text, subscriber_key]`.
#[derive(Serialize)]
struct NumberRow<'a>(&'a str, usize, Option<&'a str>, Option<&'a str>);

//! What both backends share about `messageContact` sends: the history of a send (its
//! statements, written once with `$N` parameters, and the merging of its texts), and the
//! lookups and the subscription options around recording a contact send. The numbers of a
//! contact send travel as arrays on PostgreSQL and as JSON on SQLite, so the statements that
//! read them, and the transaction around them, stay each backend's own.

use sqlx::{Encode, Executor, FromRow, Type};

use crate::account_rows::AccountRef;
use crate::code_rows::{keyword_by_name, KeywordRef};
use crate::sql::{self, id_key, Arg, Sql};
use crate::{
    ContactAudience, ContactSubscribe, Direction, HistoryEntry, Millis, NewSend, StoreError,
    StoreResult,
};

/// The send of the account `$2` (its pk) by its token key (`$1`), as [`HistorySend`].
pub const HISTORY_SEND: &str = "SELECT pk, account_pk, code, text, created_at, replies \
     FROM sends WHERE token_key = $1 AND account_pk = $2";

/// The texts the send `$1` (its pk; `$2` its text) sent, to the number `$3` or (NULL) every
/// number. A 1501 recipient (its text too long, API.md §1) was never texted.
pub const SENT_TEXTS: &str = "SELECT mobile_number, \
     coalesce(text, (SELECT b.text FROM batch_texts b WHERE b.pk = text_pk), $2), \
     coalesce(submitted_at, updated_at) \
     FROM recipients WHERE send_pk = $1 AND expansion_suppressed = 0 AND outcome IS NULL \
     AND status_code <> 1501 \
     AND (CAST($3 AS TEXT) IS NULL OR mobile_number = $3) ORDER BY pk";

/// The texts received in reply to the send with the token key `$1`, from the number `$2` or
/// (NULL) any number.
pub const REPLIES_TO_SEND: &str = "SELECT source, CASE WHEN text_pk IS NULL THEN text ELSE \
     (SELECT b.text FROM batch_texts b WHERE b.pk = text_pk) END, received_at \
     FROM inbound_texts WHERE token_key = $1 \
     AND (CAST($2 AS TEXT) IS NULL OR source = $2) ORDER BY seq";

/// The texts the number `$3` sent to the code `$2` of the account `$1` (its pk) since `$4`.
pub const TEXTS_OF_NUMBER: &str = "SELECT i.source, CASE WHEN i.text_pk IS NULL THEN i.text \
     ELSE (SELECT b.text FROM batch_texts b WHERE b.pk = i.text_pk) END, i.received_at \
     FROM inbound_texts i \
     JOIN codes c ON c.pk = i.code_pk \
     WHERE c.account_pk = $1 AND c.code_key = lower($2) AND i.source = $3 \
     AND i.received_at >= $4 ORDER BY i.seq";

/// The replies the account `$1` (its pk) sent on the code `$2` to the number `$3` since `$4`.
pub const REPLIES_TO_NUMBER: &str = "SELECT r.mobile_number, \
     coalesce(r.text, (SELECT b.text FROM batch_texts b WHERE b.pk = r.text_pk), s.text), \
     coalesce(r.submitted_at, r.updated_at) FROM sends s \
     JOIN recipients r ON r.send_pk = s.pk AND r.mobile_number = $3 \
     WHERE s.account_pk = $1 AND s.code = $2 AND s.replies = 1 AND s.created_at >= $4 \
     AND r.outcome IS NULL ORDER BY r.pk";

/// The pk of the send by its token key (`$1`).
pub const SEND_PK_BY_TOKEN: &str = "SELECT pk FROM sends WHERE token_key = $1";

/// A send as [`HISTORY_SEND`] reads it; `replies` is an INTEGER 0/1 flag.
#[derive(sqlx::FromRow)]
pub struct HistorySend {
    pk: i64,
    account_pk: i64,
    code: String,
    text: String,
    created_at: i64,
    replies: i32,
}

/// One text of a history: the number, the text and when.
#[derive(sqlx::FromRow)]
pub struct HistoryText(String, String, i64);

/// The row of [`SEND_PK_BY_TOKEN`].
#[derive(sqlx::FromRow)]
pub struct SendPk {
    pub pk: i64,
}

// ---- the operations both backends run alike ---------------------------------------------------

/// The texts of a send, both ways, for one number or every number, oldest first.
pub async fn history<'e, DB, E>(
    db: E,
    account_id: &str,
    token: &str,
    mobile_number: Option<&str>,
) -> StoreResult<Vec<HistoryEntry>>
where
    DB: Sql,
    E: Executor<'e, Database = DB> + Copy,
    AccountRef: for<'r> FromRow<'r, DB::Row>,
    HistorySend: for<'r> FromRow<'r, DB::Row>,
    HistoryText: for<'r> FromRow<'r, DB::Row>,
{
    let owner = sql::account(db, account_id).await?;
    let send = sqlx::query_as::<DB, HistorySend>(HISTORY_SEND)
        .arg(id_key(token))
        .arg(owner.pk)
        .fetch_optional(db)
        .await
        .map_err(sql::db("find the send of a history"))?
        .ok_or(StoreError::NotFound)?;
    let own_texts = sqlx::query_as::<DB, HistoryText>(SENT_TEXTS)
        .arg(send.pk)
        .arg(send.text.as_str())
        .arg(mobile_number)
        .fetch_all(db)
        .await
        .map_err(sql::db("read the texts of a send"))?;
    let mut entries: Vec<(i64, u8, HistoryEntry)> = Vec::new();
    let mut push = |rows: Vec<HistoryText>, direction: Direction, order: u8| {
        for HistoryText(number, text, at) in rows {
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
    if send.replies != 0 {
        let inbound = sqlx::query_as::<DB, HistoryText>(REPLIES_TO_SEND)
            .arg(id_key(token))
            .arg(mobile_number)
            .fetch_all(db)
            .await
            .map_err(sql::db("read the inbound texts of a send"))?;
        push(inbound, Direction::Mo, 0);
    } else if let Some(number) = mobile_number {
        let inbound = sqlx::query_as::<DB, HistoryText>(TEXTS_OF_NUMBER)
            .arg(send.account_pk)
            .arg(send.code.as_str())
            .arg(number)
            .arg(send.created_at)
            .fetch_all(db)
            .await
            .map_err(sql::db("read a number's inbound texts"))?;
        push(inbound, Direction::Mo, 0);
        let replies = sqlx::query_as::<DB, HistoryText>(REPLIES_TO_NUMBER)
            .arg(send.account_pk)
            .arg(send.code.as_str())
            .arg(number)
            .arg(send.created_at)
            .fetch_all(db)
            .await
            .map_err(sql::db("read a number's replies"))?;
        push(replies, Direction::Mt, 1);
    }
    // Oldest first; at one instant, a text before the reply it caused.
    entries.sort_by_key(|(at, order, _)| (*at, *order));
    Ok(entries.into_iter().map(|(_, _, e)| e).collect())
}

/// The account of a contact send and the pk of the keyword its numbers are subscribed to, inside
/// the caller's transaction: NotFound when either does not exist.
pub async fn send_target<DB>(
    conn: &mut DB::Connection,
    new: &NewSend,
    audience: &ContactAudience,
) -> StoreResult<(AccountRef, Option<i64>)>
where
    DB: Sql,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    AccountRef: for<'r> FromRow<'r, DB::Row>,
    KeywordRef: for<'r> FromRow<'r, DB::Row>,
{
    let owner = sql::account(&mut *conn, &new.account_id).await?;
    let keyword_pk = match &audience.subscribe {
        Some(s) => Some(
            keyword_by_name(&mut *conn, &owner, &new.code, &s.keyword)
                .await?
                .0,
        ),
        None => None,
    };
    Ok((owner, keyword_pk))
}

/// The pk of the send just recorded with this token.
pub async fn new_send_pk<'e, DB: Sql>(
    db: impl Executor<'e, Database = DB>,
    token: &str,
) -> StoreResult<i64>
where
    SendPk: for<'r> FromRow<'r, DB::Row>,
{
    sqlx::query_as::<DB, SendPk>(SEND_PK_BY_TOKEN)
        .arg(id_key(token))
        .fetch_one(db)
        .await
        .map_err(sql::db("find the new send"))
        .map(|r| r.pk)
}

/// The statements of a contact send's subscription options ([`OptionStatements`]) for a backend:
/// given how it matches `mobile_number` against the batch `$2`, how it selects `DISTINCT`, and the
/// rows (`FROM` clause), number and time (`$4`) of the batch.
#[macro_export]
macro_rules! option_statements {
    (in_batch: $in_batch:literal, select: $select:literal, from: $from:literal,
     number: $number:literal, at: $at:literal) => {
        $crate::contact_rows::OptionStatements {
            resubscribe: concat!(
                "UPDATE subscriptions SET status = ",
                $crate::subscription_status!(Subscribed),
                ", opt_in_date = $3, pending_since = NULL, pending_previous = NULL \
                 WHERE keyword_pk = $1 AND status = ",
                $crate::subscription_status!(Unsubscribed),
                " AND mobile_number ",
                $in_batch
            ),
            subscribe: concat!(
                "INSERT INTO subscriptions (keyword_pk, mobile_number, account_pk, status, \
                 opt_in_date) ",
                $select,
                " $1, ",
                $number,
                ", $3, ",
                $crate::subscription_status!(Subscribed),
                ", ",
                $at,
                " FROM ",
                $from,
                " WHERE $5 OR NOT EXISTS (SELECT 1 FROM code_opt_outs o WHERE o.mobile_number = ",
                $number,
                " AND o.code_pk = (SELECT code_pk FROM keywords WHERE pk = $1)) \
                 ON CONFLICT (keyword_pk, mobile_number) DO NOTHING"
            ),
        }
    };
}

/// The statements of a contact send's subscription options, written with
/// [`option_statements!`] for a backend's batch of numbers `$2`: `resubscribe` subscribes again
/// the numbers unsubscribed from the keyword `$1` (at `$3`); `subscribe` subscribes those with no
/// subscription to it, for the account `$3` (its pk), at `$4`, leaving out the numbers opted out
/// of the whole code unless `$5` (Resubscribe).
pub struct OptionStatements {
    pub resubscribe: &'static str,
    pub subscribe: &'static str,
}

/// Applies a contact send's `Subscribe`/`Resubscribe` options to its numbers (`batch`, as the
/// backend binds it), inside the caller's transaction. A keyword deleted meanwhile is NotFound.
pub async fn apply_options<'b, DB, B>(
    conn: &mut DB::Connection,
    statements: &OptionStatements,
    options: &ContactSubscribe,
    keyword_pk: i64,
    account_pk: i64,
    batch: B,
    at: Millis,
) -> StoreResult<()>
where
    DB: Sql,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    B: Encode<'b, DB> + Type<DB> + Send + Copy + 'b,
{
    if options.resubscribe {
        sqlx::query::<DB>(statements.resubscribe)
            .arg(keyword_pk)
            .bind(batch)
            .arg(at)
            .execute(&mut *conn)
            .await
            .map_err(sql::db("resubscribe numbers"))?;
    }
    if options.subscribe {
        sqlx::query::<DB>(statements.subscribe)
            .arg(keyword_pk)
            .bind(batch)
            .arg(account_pk)
            .arg(at)
            .arg(options.resubscribe)
            .execute(&mut *conn)
            .await
            .map_err(sql::parent_gone("subscribe numbers"))?;
    }
    Ok(())
}

/// Implements [`ContactSendStore`](crate::ContactSendStore) for a backend's store type: `reads`
/// names the field (a pool) that reads a history, `create` the store's own method that records a
/// contact send (same parameters as the trait's). The backend crate must depend on
/// `async_trait`.
#[macro_export]
macro_rules! contact_send_store {
    ($store:ty, reads: $reads:ident, create: $create:ident) => {
        #[::async_trait::async_trait]
        impl $crate::ContactSendStore for $store {
            async fn create_contact_send(
                &self,
                new: $crate::NewSend,
                audience: $crate::ContactAudience,
            ) -> $crate::StoreResult<$crate::CreatedSend> {
                self.$create(new, audience).await
            }

            async fn history(
                &self,
                account_id: &str,
                token: &str,
                mobile_number: Option<&str>,
            ) -> $crate::StoreResult<Vec<$crate::HistoryEntry>> {
                $crate::contact_rows::history(&self.$reads, account_id, token, mobile_number).await
            }
        }
    };
}

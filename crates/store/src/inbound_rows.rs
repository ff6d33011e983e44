//! What both backends share about inbound texts: the statements (written once, with `$N`
//! parameters, in SQL both dialects read alike), the rows they read with their mapping, and the
//! operations that run them, generic over the database ([`Sql`]) — keyword handling's outcome
//! ([`record_mo_batches`]) included, texts stored once per call (`batch_texts`, API.md §1 2 MiB).
//! Each backend keeps its transactions and what its dialect spells its own way, given through
//! [`MoBatchSql`]: the locks (a table lock and `FOR SHARE` on PostgreSQL, none under SQLite's
//! single writer) and the batch inserts (`unnest` of arrays on PostgreSQL, `json_each` on SQLite);
//! and, through [`NumberSet`], the read over many numbers.

use std::collections::HashMap;
use std::future::Future;

use sqlx::{Database, Executor, FromRow};

use crate::account_rows::AccountRef;
use crate::code_rows::{code_key, keyword_key, CodeRow};
use crate::sql::{self, id_key, Arg, Sql};
use crate::subscription_rows::NumberSet;
use crate::{
    Code, CodeOptOut, InboundRecord, InboundText, Millis, MoBatch, OptOutWrite, ReplySend,
    SendState, StoreError, StoreResult, SubscriptionWrite,
};

/// `SELECT` of an inbound text ([`InboundRow`]) with the account and code it reached, followed by
/// the given clauses.
macro_rules! select_inbound {
    ($($clauses:literal),+) => {
        concat!(
            "SELECT i.seq, i.carrier, i.source, i.destination, \
             CASE WHEN i.text_pk IS NULL THEN i.text ELSE (SELECT b.text FROM batch_texts b \
             WHERE b.pk = i.text_pk) END AS text, i.received_at, \
             a.id AS account_id, c.code AS code FROM inbound_texts i \
             LEFT JOIN codes c ON c.pk = i.code_pk LEFT JOIN accounts a ON a.pk = c.account_pk ",
            $($clauses),+
        )
    };
}

/// The inbound text numbered `$1`.
pub const INBOUND_BY_SEQ: &str = select_inbound!("WHERE i.seq = $1");

/// The inbound texts after sequence number `$1`, at most `$2`, in order.
pub const INBOUND_PAGE: &str = select_inbound!("WHERE i.seq > $1 ORDER BY i.seq LIMIT $2");

/// Records an inbound text (`$1` carrier, `$2` source, `$3` destination, `$4` text, `$5` time)
/// with the oldest code routed to the carrier whose key is `$6`; returns its sequence number.
pub const RECORD_INBOUND: &str = "INSERT INTO inbound_texts (carrier, source, destination, text, \
     received_at, code_pk) \
     VALUES ($1, $2, $3, $4, $5, (SELECT pk FROM codes WHERE carrier = $1 AND code_key = $6 \
     ORDER BY pk LIMIT 1)) RETURNING seq";

/// Every code routed to carrier `$1` whose key is `$2`, oldest first, with its account's ID.
pub const CODES_FOR_INBOUND: &str = "SELECT a.id AS account_id, c.id, c.code, c.country_code, \
     c.kind, c.carrier, c.opt_out_text, c.help_text, c.created_at FROM codes c \
     JOIN accounts a ON a.pk = c.account_pk \
     WHERE c.carrier = $1 AND c.code_key = $2 ORDER BY c.pk";

/// The pk, string and carrier of the account's (`$1`, its pk) code by its key (`$2`), followed
/// by the backend's [`MoBatchSql::ROW_LOCK`].
pub const CODE_OF_BATCH: &str =
    "SELECT pk, code, carrier FROM codes WHERE account_pk = $1 AND code_key = $2";

/// The keyword keys and pks of code `$1` (its pk), followed by [`MoBatchSql::ROW_LOCK`].
pub const KEYWORDS_OF_CODE: &str = "SELECT keyword_key, pk FROM keywords WHERE code_pk = $1";

/// Stores text `$1` once for the call; returns its pk.
pub const INSERT_BATCH_TEXT: &str = "INSERT INTO batch_texts (text) VALUES ($1) RETURNING pk";

/// Stores exactly this subscription state (created when absent).
pub const PUT_SUBSCRIPTION: &str = "INSERT INTO subscriptions (keyword_pk, mobile_number, \
     account_pk, status, opt_in_date, opt_out_date, pending_since, pending_previous, \
     opt_out_by_text, next_keyword_since) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
     ON CONFLICT (keyword_pk, mobile_number) DO UPDATE SET \
     status = excluded.status, opt_in_date = excluded.opt_in_date, \
     opt_out_date = excluded.opt_out_date, \
     pending_since = excluded.pending_since, \
     pending_previous = excluded.pending_previous, \
     opt_out_by_text = excluded.opt_out_by_text, \
     next_keyword_since = excluded.next_keyword_since";

/// Removes the subscription of number `$2` to keyword `$1` (its pk).
pub const REMOVE_SUBSCRIPTION: &str =
    "DELETE FROM subscriptions WHERE keyword_pk = $1 AND mobile_number = $2";

/// Number `$2` opted out of code `$1` (its pk) at `$3`; an earlier opt-out keeps its date.
pub const SET_OPT_OUT: &str = "INSERT INTO code_opt_outs (code_pk, mobile_number, opted_out_at) \
     VALUES ($1, $2, $3) ON CONFLICT (code_pk, mobile_number) DO NOTHING";

/// Number `$2` opted back in to code `$1` (its pk).
pub const CLEAR_OPT_OUT: &str =
    "DELETE FROM code_opt_outs WHERE code_pk = $1 AND mobile_number = $2";

/// Records the send of a batch's replies (kind contact, marked `replies`); returns its pk.
pub const INSERT_REPLY_SEND: &str = "INSERT INTO sends (token, token_key, account_pk, \
     client_id, kind, message_id, code, \
     text, content_url, target_list_ids, exclusion_list_ids, allow_duplication, \
     due_at, segments, encoding, state, count, errors, created_at, completed_at, \
     carrier, next_at, replies) \
     VALUES ($1, $2, $3, $4, 'contact', '', $5, $6, NULL, '[]', '[]', 0, $7, $8, $9, \
     $10, $11, '[]', $7, $12, $13, $14, 1) RETURNING pk";

/// An inbound text as [`select_inbound!`] reads it.
#[derive(sqlx::FromRow)]
pub struct InboundRow {
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
    pub fn into_record(self) -> InboundRecord {
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

/// A code as [`CODES_FOR_INBOUND`] reads it.
#[derive(sqlx::FromRow)]
pub struct InboundCodeRow {
    account_id: String,
    #[sqlx(flatten)]
    code: CodeRow,
}

/// A code as [`CODE_OF_BATCH`] reads it.
#[derive(sqlx::FromRow)]
pub struct BatchCodeRow {
    pk: i64,
    code: String,
    carrier: String,
}

/// An inbound text of a batch as its backend inserts it (`text` is empty when `text_pk` holds
/// it), in input order.
pub struct TextRow<'a> {
    pub carrier: &'a str,
    pub source: &'a str,
    pub destination: &'a str,
    pub text: String,
    pub received_at: Millis,
    pub text_pk: Option<i64>,
}

/// A reply recipient as its backend inserts it: a number's replies are numbered 1, 2, ... in
/// `ordinal` (stored as `list_pk`, the unique key); `text` or `text_pk` holds the text.
pub struct ReplyRow<'a> {
    pub mobile_number: &'a str,
    pub ordinal: i64,
    pub text: Option<String>,
    pub text_pk: Option<i64>,
}

/// What a backend spells its own way in [`record_mo_batches`]: its locks, and the batch inserts
/// (which bind a whole batch as one parameter). Implemented by a marker type of each backend.
pub trait MoBatchSql<DB: Database> {
    /// Run once, before the first text is inserted, when any batch has texts.
    const LOCK_TEXTS: Option<&'static str>;
    /// Appended to [`CODE_OF_BATCH`] and [`KEYWORDS_OF_CODE`] (a code deleted concurrently
    /// waits until the transaction ends).
    const ROW_LOCK: &'static str;

    /// Inserts the batch's texts, in order, linked to code `code_pk` and to the token of its
    /// reply send.
    fn insert_texts<'a>(
        conn: &'a mut DB::Connection,
        rows: &'a [TextRow<'a>],
        code_pk: i64,
        token_key: Option<&'a str>,
    ) -> impl Future<Output = StoreResult<()>> + Send + 'a;

    /// Queues the replies (not empty), in order, as ready recipients of send `send_pk`.
    fn insert_replies<'a>(
        conn: &'a mut DB::Connection,
        send_pk: i64,
        rows: &'a [ReplyRow<'a>],
        at: Millis,
    ) -> impl Future<Output = StoreResult<()>> + Send + 'a;
}

// ---- the operations both backends run alike ---------------------------------------------------

/// Records an inbound text with the oldest code routed to the carrier with that address, and
/// reads it back, in the caller's transaction (after the backend's lock, if any).
pub async fn record_inbound<DB: Sql>(
    conn: &mut DB::Connection,
    text: InboundText,
) -> StoreResult<InboundRecord>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    (i64,): for<'r> FromRow<'r, DB::Row>,
    InboundRow: for<'r> FromRow<'r, DB::Row>,
{
    let seq = sqlx::query_scalar::<DB, i64>(RECORD_INBOUND)
        .arg(&text.carrier)
        .arg(&text.from)
        .arg(&text.to)
        .arg(&text.text)
        .arg(text.received_at)
        .arg(code_key(&text.to))
        .fetch_one(&mut *conn)
        .await
        .map_err(sql::db("record an inbound text"))?;
    let row = sqlx::query_as::<DB, InboundRow>(INBOUND_BY_SEQ)
        .arg(seq)
        .fetch_optional(&mut *conn)
        .await
        .map_err(sql::db("read an inbound text"))?
        .ok_or_else(|| StoreError::Other("an inbound text vanished".into()))?;
    Ok(row.into_record())
}

pub async fn inbound_page<'e, DB: Sql>(
    db: impl Executor<'e, Database = DB>,
    after: i64,
    limit: u32,
) -> StoreResult<Vec<InboundRecord>>
where
    InboundRow: for<'r> FromRow<'r, DB::Row>,
{
    let rows = sqlx::query_as::<DB, InboundRow>(INBOUND_PAGE)
        .arg(after)
        .arg(i64::from(limit))
        .fetch_all(db)
        .await
        .map_err(sql::db("read inbound texts"))?;
    Ok(rows.into_iter().map(InboundRow::into_record).collect())
}

/// Every code routed to `carrier` whose code string is `to` (ignoring case), oldest first.
pub async fn codes_for_inbound<'e, DB: Sql>(
    db: impl Executor<'e, Database = DB>,
    carrier: &str,
    to: &str,
) -> StoreResult<Vec<Code>>
where
    InboundCodeRow: for<'r> FromRow<'r, DB::Row>,
{
    let rows = sqlx::query_as::<DB, InboundCodeRow>(CODES_FOR_INBOUND)
        .arg(carrier)
        .arg(code_key(to))
        .fetch_all(db)
        .await
        .map_err(sql::db("find the codes of an inbound text"))?;
    Ok(rows
        .into_iter()
        .map(|r| r.code.into_code(&r.account_id))
        .collect())
}

/// The numbers among `numbers` that opted out of the account's code by text: the backend's
/// `statement` (`$1` the account's pk, `$2` the code's key, `$3` the numbers bound by `N`) reads
/// each as its number and opt-out time, by number.
pub async fn opt_outs_on_code<'e, DB, E, N>(
    db: E,
    statement: &'static str,
    account_id: &str,
    code: &str,
    numbers: &[String],
) -> StoreResult<Vec<CodeOptOut>>
where
    DB: Sql,
    E: Executor<'e, Database = DB> + Copy,
    N: NumberSet<DB>,
    AccountRef: for<'r> FromRow<'r, DB::Row>,
    (String, i64): for<'r> FromRow<'r, DB::Row>,
{
    let owner = sql::account(db, account_id).await?;
    if numbers.is_empty() {
        return Ok(Vec::new());
    }
    let query = sqlx::query_as::<DB, (String, i64)>(statement)
        .arg(owner.pk)
        .arg(code_key(code));
    let rows = N::bind_numbers(query, numbers)?
        .fetch_all(db)
        .await
        .map_err(sql::db("opt-outs of numbers on a code"))?;
    Ok(rows
        .into_iter()
        .map(|(mobile_number, opted_out_at)| CodeOptOut {
            mobile_number,
            opted_out_at,
        })
        .collect())
}

/// The account and code a batch is recorded in.
struct Target {
    owner: AccountRef,
    code: BatchCodeRow,
}

/// Records keyword handling's outcome, every batch in the caller's transaction (all of them or
/// none): texts, subscription states, opt-outs and the reply send of each. Every code is found
/// (and, on PostgreSQL, held) before the texts are locked, in the order a code's deletion takes
/// them (its row, then its inbound texts): never the other way round. True when replies wait to
/// be handed over.
pub async fn record_mo_batches<DB, W>(
    conn: &mut DB::Connection,
    batches: &[MoBatch],
) -> StoreResult<bool>
where
    DB: Sql,
    W: MoBatchSql<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    AccountRef: for<'r> FromRow<'r, DB::Row>,
    BatchCodeRow: for<'r> FromRow<'r, DB::Row>,
    (i64,): for<'r> FromRow<'r, DB::Row>,
    (String, i64): for<'r> FromRow<'r, DB::Row>,
{
    let code_of_batch = format!("{CODE_OF_BATCH}{}", W::ROW_LOCK);
    let mut targets = Vec::with_capacity(batches.len());
    for batch in batches {
        let owner = sql::account(&mut *conn, &batch.account_id).await?;
        let code = sqlx::query_as::<DB, BatchCodeRow>(&code_of_batch)
            .arg(owner.pk)
            .arg(code_key(&batch.code))
            .fetch_optional(&mut *conn)
            .await
            .map_err(sql::db("find the code of inbound texts"))?
            .ok_or(StoreError::NotFound)?;
        targets.push(Target { owner, code });
    }
    if let Some(lock) = W::LOCK_TEXTS {
        if batches.iter().any(|b| !b.texts.is_empty()) {
            sqlx::query::<DB>(lock)
                .execute(&mut *conn)
                .await
                .map_err(sql::db("lock inbound texts"))?;
        }
    }
    let shared = share_texts::<DB>(conn, batches).await?;
    let mut work = false;
    for (batch, target) in batches.iter().zip(targets) {
        work |= record_mo_batch::<DB, W>(conn, batch, target, &shared).await?;
    }
    Ok(work)
}

/// The texts that occur more than once among the call's inbound texts and replies, each stored
/// once in `batch_texts`: text → its pk. The others are stored with their row.
async fn share_texts<'b, DB: Sql>(
    conn: &mut DB::Connection,
    batches: &'b [MoBatch],
) -> StoreResult<HashMap<&'b str, i64>>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    (i64,): for<'r> FromRow<'r, DB::Row>,
{
    let mut shared = HashMap::new();
    for text in MoBatch::repeated_texts(batches) {
        let pk = sqlx::query_scalar::<DB, i64>(INSERT_BATCH_TEXT)
            .arg(text)
            .fetch_one(&mut *conn)
            .await
            .map_err(sql::db("record a batch text"))?;
        shared.insert(text, pk);
    }
    Ok(shared)
}

/// A text and its batch text: one of them.
fn text_of(shared: &HashMap<&str, i64>, text: &str) -> (Option<String>, Option<i64>) {
    match shared.get(text) {
        Some(pk) => (None, Some(*pk)),
        None => (Some(text.to_string()), None),
    }
}

/// Texts, subscription states, opt-outs and the reply send of one account's batch; true when
/// replies wait to be handed over.
async fn record_mo_batch<DB, W>(
    conn: &mut DB::Connection,
    batch: &MoBatch,
    target: Target,
    shared: &HashMap<&str, i64>,
) -> StoreResult<bool>
where
    DB: Sql,
    W: MoBatchSql<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    (i64,): for<'r> FromRow<'r, DB::Row>,
    (String, i64): for<'r> FromRow<'r, DB::Row>,
{
    let Target { owner, code } = target;
    let token_key = batch.reply_send.as_ref().map(|r| id_key(&r.token));
    if !batch.texts.is_empty() {
        let rows: Vec<TextRow> = batch
            .texts
            .iter()
            .map(|t| {
                let (text, text_pk) = text_of(shared, &t.text);
                TextRow {
                    carrier: &t.carrier,
                    source: &t.from,
                    destination: &t.to,
                    text: text.unwrap_or_default(),
                    received_at: t.received_at,
                    text_pk,
                }
            })
            .collect();
        W::insert_texts(&mut *conn, &rows, code.pk, token_key.as_deref()).await?;
    }
    write_subscriptions::<DB, W>(conn, batch, owner.pk, code.pk).await?;
    for write in &batch.opt_outs {
        match write {
            OptOutWrite::Set { mobile_number, at } => sqlx::query::<DB>(SET_OPT_OUT)
                .arg(code.pk)
                .arg(mobile_number)
                .arg(*at),
            OptOutWrite::Clear { mobile_number } => sqlx::query::<DB>(CLEAR_OPT_OUT)
                .arg(code.pk)
                .arg(mobile_number),
        }
        .execute(&mut *conn)
        .await
        .map_err(sql::parent_gone("write an opt-out of a code"))?;
    }
    match &batch.reply_send {
        Some(send) => record_replies::<DB, W>(conn, send, &owner, &code, shared).await,
        None => Ok(false),
    }
}

/// The subscription states of a batch, on the keywords of its code (read once for the batch).
async fn write_subscriptions<DB, W>(
    conn: &mut DB::Connection,
    batch: &MoBatch,
    owner_pk: i64,
    code_pk: i64,
) -> StoreResult<()>
where
    DB: Sql,
    W: MoBatchSql<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    (String, i64): for<'r> FromRow<'r, DB::Row>,
{
    if batch.subscriptions.is_empty() {
        return Ok(());
    }
    let keyword_pks: HashMap<String, i64> =
        sqlx::query_as::<DB, (String, i64)>(&format!("{KEYWORDS_OF_CODE}{}", W::ROW_LOCK))
            .arg(code_pk)
            .fetch_all(&mut *conn)
            .await
            .map_err(sql::db("find the keywords of the code"))?
            .into_iter()
            .collect();
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
                sqlx::query::<DB>(PUT_SUBSCRIPTION)
                    .arg(keyword_pk)
                    .arg(number)
                    .arg(owner_pk)
                    .arg(s.status.as_str())
                    .arg(s.opt_in_date)
                    .arg(s.opt_out_date)
                    .arg(s.pending.map(|p| p.since))
                    .arg(s.pending.and_then(|p| p.previous).map(|p| p.as_str()))
                    .arg(i32::from(s.opt_out_by_text))
                    .arg(s.next_keyword_since)
                    .execute(&mut *conn)
                    .await
                    .map_err(sql::parent_gone("write a subscription"))?;
            }
            SubscriptionWrite::Remove { .. } => {
                sqlx::query::<DB>(REMOVE_SUBSCRIPTION)
                    .arg(keyword_pk)
                    .arg(number)
                    .execute(&mut *conn)
                    .await
                    .map_err(sql::db("remove a subscription"))?;
            }
        }
    }
    Ok(())
}

/// The send of a batch's replies, Finished when there are none, and its recipients; true when
/// replies wait to be handed over.
async fn record_replies<DB, W>(
    conn: &mut DB::Connection,
    send: &ReplySend,
    owner: &AccountRef,
    code: &BatchCodeRow,
    shared: &HashMap<&str, i64>,
) -> StoreResult<bool>
where
    DB: Sql,
    W: MoBatchSql<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    (i64,): for<'r> FromRow<'r, DB::Row>,
{
    let count = i64::try_from(send.replies.len())
        .map_err(|_| StoreError::Other("too many replies".into()))?;
    let finished = send.replies.is_empty();
    let state = if finished {
        SendState::Finished
    } else {
        SendState::Started
    };
    let send_pk = sqlx::query_scalar::<DB, i64>(INSERT_REPLY_SEND)
        .arg(&send.token)
        .arg(id_key(&send.token))
        .arg(owner.pk)
        .arg(&send.client_id)
        .arg(&code.code)
        .arg(&send.text)
        .arg(send.created_at)
        .arg(send.segments)
        .arg(&send.encoding)
        .arg(state.as_str())
        .arg(count)
        .arg(finished.then_some(send.created_at))
        .arg(&code.carrier)
        .arg((!finished).then_some(send.created_at))
        .fetch_one(&mut *conn)
        .await
        .map_err(sql::db("record the send of replies"))?;
    if finished {
        return Ok(false);
    }
    let mut ordinal: HashMap<&str, i64> = HashMap::new();
    let rows: Vec<ReplyRow> = send
        .replies
        .iter()
        .map(|r| {
            let n = ordinal.entry(r.mobile_number.as_str()).or_insert(0);
            *n += 1;
            let (text, text_pk) = text_of(shared, &r.text);
            ReplyRow {
                mobile_number: &r.mobile_number,
                ordinal: *n,
                text,
                text_pk,
            }
        })
        .collect();
    W::insert_replies(conn, send_pk, &rows, send.created_at).await?;
    Ok(true)
}

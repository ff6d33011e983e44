//! What expanding a send decides and does whatever the backend: whether everything the send
//! names still exists (API.md §4.2) and, when not, the reasons it fails with (user-visible: they
//! are the send's `errors`); and a batch ([`expand_in`]): its checks, its walk through the
//! target lists' segments, the cursor, the start of a complete send, with the statements both
//! dialects read alike. Each backend keeps its transaction, its claim and release, and (a
//! [`Dialect`]) the statements that take a set of pks or are planned differently.

use std::future::Future;

use sqlx::{Database, Encode, Executor, FromRow, Type};

use crate::code_rows::code_key;
use crate::sql::{self, id_key, Arg, Ending, Sql};
use crate::{
    strings_from_json, strings_to_json, Expansion, Millis, SendKind, SendState, StoreError,
    StoreResult,
};

/// What a send names, as one batch of its expansion found it in the database.
#[derive(Debug)]
pub struct Named<'a> {
    /// The message's ID, and whether the account still has it.
    pub message_id: &'a str,
    pub message_found: bool,
    /// The target lists' IDs as stored on the send, and the pk of each (in the same order),
    /// `None` for one the account no longer has.
    pub target_ids: &'a [String],
    pub target_pks: Vec<Option<i64>>,
    /// The same for the exclusion lists.
    pub exclusion_ids: &'a [String],
    pub exclusion_pks: Vec<Option<i64>>,
    /// The send's code string.
    pub code: &'a str,
}

/// The send's lists resolved within its account, in order, without repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedLists {
    pub targets: Vec<i64>,
    pub exclusions: Vec<i64>,
}

/// The lists and the code (`found_code`, `None` when the account no longer has it) of a send
/// whose message, lists and code all still exist; otherwise every reason it fails with, in
/// order: the message, each missing list once (targets first), the code.
pub fn check_named<C>(
    named: Named<'_>,
    found_code: Option<C>,
) -> Result<(ResolvedLists, C), Vec<String>> {
    let mut errors = Vec::new();
    if !named.message_found {
        errors.push(format!(
            "Message {} was deleted before the send was due.",
            named.message_id
        ));
    }
    let mut lists = ResolvedLists {
        targets: Vec::new(),
        exclusions: Vec::new(),
    };
    let mut missing = Vec::new();
    for (ids, found, pks) in [
        (named.target_ids, named.target_pks, &mut lists.targets),
        (
            named.exclusion_ids,
            named.exclusion_pks,
            &mut lists.exclusions,
        ),
    ] {
        for (id, pk) in ids.iter().zip(found) {
            match pk {
                Some(pk) if !pks.contains(&pk) => pks.push(pk),
                Some(_) => {}
                None if !missing.contains(&id.to_ascii_lowercase()) => {
                    missing.push(id.to_ascii_lowercase());
                    errors.push(format!("List {id} was deleted before the send was due."));
                }
                None => {}
            }
        }
    }
    if found_code.is_none() {
        errors.push(format!(
            "Code {} was deleted before the send was due.",
            named.code
        ));
    }
    match found_code {
        Some(code) if errors.is_empty() => Ok((lists, code)),
        _ => Err(errors),
    }
}

impl Expansion {
    /// The outcome of a send that failed with `errors` (as [`check_named`] gives them).
    pub fn failed(errors: &[String]) -> Expansion {
        Expansion::Failed {
            reason: errors.join(" "),
        }
    }
}

// ---- a batch of the expansion, whatever the backend ---------------------------------------------

/// What a batch needs of its send, read by [`EXPANDING_SEND`]. The flags and the cursor's list
/// index are stored as integers on both backends.
#[derive(Debug, sqlx::FromRow)]
pub struct Expanding {
    pub pk: i64,
    pub account_pk: i64,
    pub state: String,
    pub lease_owner: Option<String>,
    pub message_id: String,
    pub code: String,
    pub target_list_ids: String,
    pub exclusion_list_ids: String,
    pub allow_duplication: i32,
    pub expand_list: i32,
    pub expand_after: Option<String>,
    pub kind: String,
    pub replies: i32,
}

/// The send to expand, by its token key (`$1`), read as an [`Expanding`]; a backend may append
/// a lock ([`Dialect::LOCK_SEND`]).
pub const EXPANDING_SEND: &str = "SELECT pk, account_pk, state, lease_owner, message_id, code, \
     target_list_ids, exclusion_list_ids, allow_duplication, expand_list, expand_after, kind, \
     replies FROM sends WHERE token_key = $1";

/// The pk of the account's (`$1`) message by its key (`$2`).
pub const MESSAGE_OF_SEND: &str = "SELECT pk FROM messages WHERE account_pk = $1 AND id_key = $2";

/// The pk and carrier of the account's (`$1`) code by its key (`$2`).
pub const CODE_OF_SEND: &str =
    "SELECT pk, carrier FROM codes WHERE account_pk = $1 AND code_key = $2";

/// The pks of the code's (`$1`) keywords.
pub const KEYWORDS_OF_CODE: &str = "SELECT pk FROM keywords WHERE code_pk = $1";

/// Saves the cursor of the send `$1`: the index of its current target list (`$2`), the last
/// number expanded in it (`$3`, empty at the list's start), and the renewed lease (`$4`).
pub const SAVE_CURSOR: &str = "UPDATE sends SET expand_list = $2, \
     expand_after = NULLIF($3, ''), lease_until = $4 WHERE pk = $1";

/// With `allowDuplication`, the further copies of the memberships of a segment just inserted:
/// a membership made by several rows of an import into a list that counts rows
/// (`list_members.copies`, API.md §6b `IsDuplicationAllowed`) gets one recipient per row. The
/// send `$1` at `$2`, list `$3`, memberships in `($4, $5]` (to the list's end when `$5` is
/// NULL); only those whose first copy is a ready recipient (Subscribed, not excluded).
pub const EXTRA_COPIES: &str = concat!(
    "WITH RECURSIVE extra (mobile_number, copy_index, copies) AS (\
     SELECT m.mobile_number, 1, m.copies FROM list_members m \
     JOIN recipients r ON r.send_pk = $1 AND r.mobile_number = m.mobile_number \
     AND r.list_pk = $3 AND r.copy_index = 0 AND r.state = ",
    recipient_state!(ready),
    " WHERE m.list_pk = $3 AND m.copies > 1 AND m.mobile_number > $4 \
     AND ($5 IS NULL OR m.mobile_number <= $5) \
     UNION ALL SELECT mobile_number, copy_index + 1, copies FROM extra \
     WHERE copy_index + 1 < copies) \
     INSERT INTO recipients (send_pk, mobile_number, list_pk, copy_index, state, updated_at) \
     SELECT $1, mobile_number, $3, copy_index, ",
    recipient_state!(ready),
    ", $2 FROM extra WHERE true \
     ON CONFLICT (send_pk, mobile_number, list_pk, copy_index) DO NOTHING"
);

/// The recipients of a complete send (`$1`): the ready ones, and the contact numbers that
/// failed (`$2`: the status code) at expansion.
pub const COUNT_RECIPIENTS: &str = concat!(
    "SELECT (SELECT count(*) FROM recipients WHERE send_pk = $1 AND state = ",
    recipient_state!(ready),
    ") \
     + (SELECT count(*) FROM recipients WHERE send_pk = $1 AND state = ",
    recipient_state!(done),
    " \
     AND status_code = $2 AND outcome IS NULL AND expansion_suppressed = 0)"
);

/// Starts the expanded send `$1`: its count (`$2`), carrier (`$3`), first round (`$4`) and the
/// cursor past its last target list (`$5`).
pub const START_SEND: &str = concat!(
    "UPDATE sends SET state = ",
    send_state!(Started),
    ", count = $2, carrier = $3, next_at = $4, \
     lease_owner = NULL, lease_until = NULL, expand_list = $5, expand_after = NULL \
     WHERE pk = $1"
);

/// Drops what a failed send (`$1`) queued.
pub const DROP_RECIPIENTS: &str = "DELETE FROM recipients WHERE send_pk = $1";

/// Records that the send `$1` failed: its reasons (`$2`, a JSON array) and when (`$3`).
pub const FAIL_SEND: &str = concat!(
    "UPDATE sends SET state = ",
    send_state!(Error),
    ", errors = $2, completed_at = $3, lease_owner = NULL, \
     lease_until = NULL WHERE pk = $1"
);

/// Gives back the owner's (`$1`) claims on recipients that never left; submitting ones keep
/// their lease (they may have left: only recovery may settle them).
pub const RELEASE_CLAIMS: &str = concat!(
    "UPDATE recipients SET lease_owner = NULL, lease_until = NULL WHERE state = ",
    recipient_state!(ready),
    " AND lease_owner = $1"
);

/// Gives back `owner`'s claims on recipients that never left ([`RELEASE_CLAIMS`]).
pub async fn release_claims<'e, DB: Sql>(
    db: impl Executor<'e, Database = DB>,
    owner: &str,
) -> StoreResult<()> {
    sqlx::query::<DB>(RELEASE_CLAIMS)
        .arg(owner)
        .execute(db)
        .await
        .map_err(sql::db("release claims"))?;
    Ok(())
}

/// A backend's connection.
pub type Conn<D> = <<D as Dialect>::DB as Database>::Connection;

/// One segment of a target list to expand: its memberships after `after` up to `end`
/// (inclusive; to the list's end when `None`).
#[derive(Debug)]
pub struct Segment<'a, P> {
    pub send_pk: i64,
    pub now: Millis,
    pub list_pk: i64,
    pub after: &'a str,
    pub end: Option<&'a str>,
    /// One recipient per membership (`allowDuplication`) rather than per number.
    pub duplication: bool,
    /// The code's keywords, and whether there is just one.
    pub keywords: &'a P,
    pub one_keyword: bool,
    /// The exclusion lists, and whether there are any.
    pub exclusions: &'a P,
    pub excluding: bool,
}

/// What differs between the backends' expansion: how a set is bound (an array on PostgreSQL,
/// a JSON array on SQLite) and the statements that read one, how a segment is measured and
/// inserted, and the send's lock.
pub trait Dialect {
    type DB: Sql;
    /// A set of pks, and of list keys, as bound.
    type Pks: for<'q> Encode<'q, Self::DB> + Type<Self::DB> + std::marker::Send + Sync + 'static;
    type Keys: for<'q> Encode<'q, Self::DB> + Type<Self::DB> + std::marker::Send + Sync + 'static;
    fn pks(values: &[i64], what: &str) -> StoreResult<Self::Pks>;
    fn keys(values: &[String], what: &str) -> StoreResult<Self::Keys>;
    /// Appended to [`EXPANDING_SEND`]: a lock held to the end of the batch, if any.
    const LOCK_SEND: &'static str;
    /// The pk of each list key (`$2`, a set) within the account (`$1`), one row a key in order.
    const LIST_PKS: &'static str;
    /// Queues the explicit numbers of a messageContact send (`$1`) at `$2`, with the code's
    /// keywords (`$3`, a set), the status code of a number without a text (`$4`) and that of
    /// a number whose recipient failed (`$5`).
    const CONTACTS: &'static str;
    /// Anything to set before the batch's inserts.
    fn prepare(conn: &mut Conn<Self>) -> impl Future<Output = StoreResult<()>> + std::marker::Send;
    /// How many memberships of the list follow `after`, up to `remaining`, and the last of them
    /// when the list goes on (PostgreSQL: the last of them when any).
    fn measure(
        conn: &mut Conn<Self>,
        list_pk: i64,
        after: &str,
        remaining: i64,
    ) -> impl Future<Output = StoreResult<(i64, Option<String>)>> + std::marker::Send;
    /// Queues the recipients of one segment.
    fn insert_segment(
        conn: &mut Conn<Self>,
        segment: &Segment<'_, Self::Pks>,
    ) -> impl Future<Output = StoreResult<()>> + std::marker::Send;
}

/// Expands the next batch of the send `token` inside the caller's transaction
/// (`ExpansionStore::expand_batch`): `Lost` (to roll back) when `owner` no longer holds its
/// lease; `Failed` when something it names is gone; `More`, or `Done` once its last target list
/// is expanded and it has started. Segments of target lists go in until about `batch`
/// memberships have been read; the cursor moves with them.
pub async fn expand_in<D: Dialect>(
    conn: &mut Conn<D>,
    token: &str,
    owner: &str,
    batch: u32,
    now: Millis,
    lease_until: Millis,
) -> StoreResult<Ending<Expansion>>
where
    for<'c> &'c mut Conn<D>: Executor<'c, Database = D::DB>,
    Expanding: for<'r> FromRow<'r, <D::DB as Database>::Row>,
    (i64,): for<'r> FromRow<'r, <D::DB as Database>::Row>,
    (i64, String): for<'r> FromRow<'r, <D::DB as Database>::Row>,
    (Option<i64>,): for<'r> FromRow<'r, <D::DB as Database>::Row>,
{
    let statement = format!("{EXPANDING_SEND}{}", D::LOCK_SEND);
    let send = sqlx::query_as::<D::DB, Expanding>(&statement)
        .arg(id_key(token))
        .fetch_optional(&mut *conn)
        .await
        .map_err(sql::db("read the send to expand"))?
        .ok_or(StoreError::NotFound)?;
    if send.state != SendState::Queuing.as_str() || send.lease_owner.as_deref() != Some(owner) {
        return Ok(Ending::Rollback(Expansion::Lost));
    }

    // Everything the send names must still exist when its audience is read (API.md §4.2). Every
    // batch resolves the lists by ID anyway (the first after a takeover included), so every
    // batch checks: a send stops as soon as something it names is gone.
    let message = sqlx::query_scalar::<D::DB, i64>(MESSAGE_OF_SEND)
        .arg(send.account_pk)
        .arg(id_key(&send.message_id))
        .fetch_optional(&mut *conn)
        .await
        .map_err(sql::db("find the send's message"))?;
    let target_ids = strings_from_json(&send.target_list_ids, "target list IDs")?;
    let exclusion_ids = strings_from_json(&send.exclusion_list_ids, "exclusion list IDs")?;
    let target_pks = list_pks::<D>(conn, send.account_pk, &target_ids).await?;
    let exclusion_pks = list_pks::<D>(conn, send.account_pk, &exclusion_ids).await?;
    let code = sqlx::query_as::<D::DB, (i64, String)>(CODE_OF_SEND)
        .arg(send.account_pk)
        .arg(code_key(&send.code))
        .fetch_optional(&mut *conn)
        .await
        .map_err(sql::db("find the send's code"))?;
    let named = Named {
        message_id: &send.message_id,
        message_found: message.is_some(),
        target_ids: &target_ids,
        target_pks,
        exclusion_ids: &exclusion_ids,
        exclusion_pks,
        code: &send.code,
    };
    let (lists, (code_pk, carrier)) = match check_named(named, code) {
        Ok(found) => found,
        Err(errors) => return fail_in::<D::DB>(conn, send.pk, &errors, now).await,
    };

    D::prepare(conn).await?;
    let keywords = sqlx::query_scalar::<D::DB, i64>(KEYWORDS_OF_CODE)
        .arg(code_pk)
        .fetch_all(&mut *conn)
        .await
        .map_err(sql::db("find the code's keywords"))?;
    let keyword_pks = D::pks(&keywords, "keywords")?;
    let exclusions = D::pks(&lists.exclusions, "exclusion lists")?;

    // A messageContact send (API.md §6): its explicit numbers, in one statement (at most a few
    // hundred), with the same subscription rule as a list's memberships. A number without a
    // text (over 1,600 characters after substitution, API.md §1) is a recipient that failed
    // with 1501 and is never sent.
    if send.kind == SendKind::Contact.as_str() && send.replies == 0 {
        sqlx::query::<D::DB>(D::CONTACTS)
            .arg(send.pk)
            .arg(now)
            .bind(&keyword_pks)
            .arg(crate::codes::TEXT_TOO_LONG)
            .arg(crate::codes::VALIDATION_ERROR)
            .execute(&mut *conn)
            .await
            .map_err(sql::db("expand a contact send"))?;
    }

    // Segments of target lists until about `batch` memberships have been read.
    let mut remaining = i64::from(batch.max(1));
    let mut list_index = usize::try_from(send.expand_list).unwrap_or(usize::MAX);
    let mut after = send.expand_after.unwrap_or_default();
    while remaining > 0 {
        let Some(&list_pk) = lists.targets.get(list_index) else {
            break;
        };
        let (read, end) = D::measure(conn, list_pk, &after, remaining).await?;
        let segment = Segment {
            send_pk: send.pk,
            now,
            list_pk,
            after: &after,
            end: end.as_deref(),
            duplication: send.allow_duplication != 0,
            keywords: &keyword_pks,
            one_keyword: keywords.len() == 1,
            exclusions: &exclusions,
            excluding: !lists.exclusions.is_empty(),
        };
        D::insert_segment(conn, &segment).await?;
        if segment.duplication {
            sqlx::query::<D::DB>(EXTRA_COPIES)
                .arg(send.pk)
                .arg(now)
                .arg(list_pk)
                .arg(after.as_str())
                .arg(segment.end)
                .execute(&mut *conn)
                .await
                .map_err(sql::db("expand the copies of a batch"))?;
        }
        if read < remaining {
            // The list ends within this segment.
            list_index += 1;
            after = String::new();
        } else if let Some(end) = end {
            after = end;
        }
        remaining -= read;
    }

    if list_index < lists.targets.len() {
        let cursor = i32::try_from(list_index)
            .map_err(|_| StoreError::Other(format!("target list index {list_index}")))?;
        sqlx::query::<D::DB>(SAVE_CURSOR)
            .arg(send.pk)
            .arg(cursor)
            .arg(&after)
            .arg(lease_until)
            .execute(&mut *conn)
            .await
            .map_err(sql::db("save the expansion cursor"))?;
        return Ok(Ending::Commit(Expansion::More));
    }

    // Complete. Nothing has been claimed yet (the send was Queuing), so every real recipient is
    // still ready, except the contact numbers that failed with 1501 at expansion.
    let recipients = sqlx::query_scalar::<D::DB, i64>(COUNT_RECIPIENTS)
        .arg(send.pk)
        .arg(crate::codes::VALIDATION_ERROR)
        .fetch_one(&mut *conn)
        .await
        .map_err(sql::db("count recipients"))?;
    let targets = i32::try_from(lists.targets.len())
        .map_err(|_| StoreError::Other("too many target lists".to_string()))?;
    sqlx::query::<D::DB>(START_SEND)
        .arg(send.pk)
        .arg(recipients)
        .arg(&carrier)
        .arg(now)
        .arg(targets)
        .execute(&mut *conn)
        .await
        .map_err(sql::db("start the send"))?;
    Ok(Ending::Commit(Expansion::Done { recipients }))
}

/// The pk of each list ID (any case) within the account, in order; `None` for a missing one.
async fn list_pks<D: Dialect>(
    conn: &mut Conn<D>,
    account_pk: i64,
    ids: &[String],
) -> StoreResult<Vec<Option<i64>>>
where
    for<'c> &'c mut Conn<D>: Executor<'c, Database = D::DB>,
    (Option<i64>,): for<'r> FromRow<'r, <D::DB as Database>::Row>,
{
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let keys: Vec<String> = ids.iter().map(|id| id_key(id)).collect();
    let pks = sqlx::query_scalar::<D::DB, Option<i64>>(D::LIST_PKS)
        .arg(account_pk)
        .bind(D::keys(&keys, "list IDs")?)
        .fetch_all(&mut *conn)
        .await
        .map_err(sql::db("resolve the send's lists"))?;
    if pks.len() != ids.len() {
        return Err(StoreError::Other(format!(
            "resolving {} list IDs gave {} rows",
            ids.len(),
            pks.len()
        )));
    }
    Ok(pks)
}

/// The send cannot run: Error with its reasons, and nothing of it left in the queue (a send in
/// Error was never started, so nothing of it was handed over).
async fn fail_in<DB: Sql>(
    conn: &mut DB::Connection,
    send_pk: i64,
    errors: &[String],
    now: Millis,
) -> StoreResult<Ending<Expansion>>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    sqlx::query::<DB>(DROP_RECIPIENTS)
        .arg(send_pk)
        .execute(&mut *conn)
        .await
        .map_err(sql::db("drop the recipients of a failed send"))?;
    sqlx::query::<DB>(FAIL_SEND)
        .arg(send_pk)
        .arg(strings_to_json(errors)?)
        .arg(now)
        .execute(&mut *conn)
        .await
        .map_err(sql::db("record the send's error"))?;
    Ok(Ending::Commit(Expansion::failed(errors)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn every_missing_object_is_a_reason_in_order_and_lists_are_named_once() {
        let targets = ids(&["a", "B", "b"]);
        let exclusions = ids(&["x", "a"]);
        let named = Named {
            message_id: "m",
            message_found: false,
            target_ids: &targets,
            target_pks: vec![Some(1), None, None],
            exclusion_ids: &exclusions,
            exclusion_pks: vec![None, Some(1)],
            code: "88976",
        };
        let errors = check_named::<()>(named, None).err();
        assert_eq!(
            errors,
            Some(vec![
                "Message m was deleted before the send was due.".to_string(),
                "List B was deleted before the send was due.".to_string(),
                "List x was deleted before the send was due.".to_string(),
                "Code 88976 was deleted before the send was due.".to_string(),
            ])
        );
    }

    #[test]
    fn a_send_whose_objects_exist_gets_its_lists_without_repeats() {
        let targets = ids(&["a", "A", "b"]);
        let exclusions = ids(&["c"]);
        let named = Named {
            message_id: "m",
            message_found: true,
            target_ids: &targets,
            target_pks: vec![Some(1), Some(1), Some(2)],
            exclusion_ids: &exclusions,
            exclusion_pks: vec![Some(3)],
            code: "88976",
        };
        assert_eq!(
            check_named(named, Some(7)),
            Ok((
                ResolvedLists {
                    targets: vec![1, 2],
                    exclusions: vec![3],
                },
                7
            ))
        );
    }
}

//! What both backends share about subscriptions: the statements (written once, with `$N`
//! parameters, in SQL both dialects read alike), the row they read with its mapping to
//! [`Subscription`], and the operations that run them, generic over the database ([`Sql`]).
//! Each backend keeps the keyword lookup, its transactions, and the statement that reads many
//! numbers at once, bound through its [`NumberSet`] (an array on PostgreSQL, a JSON array read
//! with `json_each` on SQLite).

use sqlx::query::QueryAs;
use sqlx::{Database, Executor, FromRow};

use crate::account_rows::AccountRef;
use crate::code_rows::code_key;
use crate::sql::{self, Arg, Sql};
use crate::{bad_value, Millis, PendingOptIn, StoreResult, Subscription, SubscriptionStatus};

/// `SELECT` of a subscription row ([`SubscriptionRow`]) with its code and keyword (`s`, `k`,
/// `c`), followed by the given clauses.
#[macro_export]
macro_rules! select_subscription {
    ($($clauses:literal),+) => {
        concat!(
            "SELECT s.mobile_number, c.code, k.keyword, s.status, s.opt_in_date, s.opt_out_date, \
             s.pending_since, s.pending_previous, s.opt_out_by_text, s.next_keyword_since \
             FROM subscriptions s \
             JOIN keywords k ON k.pk = s.keyword_pk \
             JOIN codes c ON c.pk = k.code_pk ",
            $($clauses),+
        )
    };
}

/// The subscriptions of the account's (`$1`, its pk) number (`$2`), by code and keyword.
pub const SUBSCRIPTIONS_OF_NUMBER: &str = select_subscription!(
    "WHERE s.account_pk = $1 AND s.mobile_number = $2 ",
    "ORDER BY c.code, k.keyword_key, k.keyword"
);

/// Creates or changes the subscription of number `$2` to keyword `$1` (its pk) of account `$3`
/// (its pk) to status `$4` at `$5`; a date is set only on the change into its status (every
/// right-hand side reads the stored row `s` as it was). A pending double opt-in request is
/// dropped (the status is now the operator's). Read as a [`SetRow`].
pub const UPSERT_SUBSCRIPTION: &str = concat!(
    "INSERT INTO subscriptions AS s (keyword_pk, mobile_number, account_pk, status, \
     opt_in_date, opt_out_date) \
     VALUES ($1, $2, $3, $4, \
     CASE WHEN $4 = ",
    subscription_status!(Subscribed),
    " THEN CAST($5 AS BIGINT) END, \
     CASE WHEN $4 = ",
    subscription_status!(Unsubscribed),
    " THEN CAST($5 AS BIGINT) END) \
     ON CONFLICT (keyword_pk, mobile_number) DO UPDATE SET \
     opt_in_date = CASE WHEN excluded.status = ",
    subscription_status!(Subscribed),
    " AND s.status <> ",
    subscription_status!(Subscribed),
    " \
     THEN $5 ELSE s.opt_in_date END, \
     opt_out_date = CASE WHEN excluded.status = ",
    subscription_status!(Unsubscribed),
    " \
     AND s.status <> ",
    subscription_status!(Unsubscribed),
    " THEN $5 ELSE s.opt_out_date END, \
     status = excluded.status, pending_since = NULL, pending_previous = NULL, \
     opt_out_by_text = CASE WHEN excluded.status = ",
    subscription_status!(Unsubscribed),
    " THEN 0 \
     ELSE s.opt_out_by_text END \
     RETURNING status, opt_in_date, opt_out_date, opt_out_by_text, next_keyword_since"
);

/// Removes the requests pending since `$1` or earlier that had no subscription before.
pub const REMOVE_LAPSED: &str =
    "DELETE FROM subscriptions WHERE pending_since <= $1 AND pending_previous IS NULL";

/// Reverts the other requests pending since `$1` or earlier to their previous status.
pub const REVERT_LAPSED: &str = "UPDATE subscriptions SET status = pending_previous, \
     pending_since = NULL, pending_previous = NULL WHERE pending_since <= $1";

/// How a backend binds a set of mobile numbers as one parameter of its own statements (an
/// array on PostgreSQL, a JSON array on SQLite): implemented by a marker type of each backend.
pub trait NumberSet<DB: Database> {
    fn bind_numbers<'q, O>(
        query: QueryAs<'q, DB, O, DB::Arguments<'q>>,
        numbers: &'q [String],
    ) -> StoreResult<QueryAs<'q, DB, O, DB::Arguments<'q>>>;
}

/// A subscription as [`select_subscription!`] reads it.
#[derive(sqlx::FromRow)]
pub struct SubscriptionRow {
    pub mobile_number: String,
    pub code: String,
    pub keyword: String,
    pub status: String,
    pub opt_in_date: Option<i64>,
    pub opt_out_date: Option<i64>,
    pub pending_since: Option<i64>,
    pub pending_previous: Option<String>,
    /// A 0/1 flag.
    pub opt_out_by_text: i32,
    pub next_keyword_since: Option<i64>,
}

impl SubscriptionRow {
    pub fn into_subscription(self) -> StoreResult<Subscription> {
        let previous = match &self.pending_previous {
            None => None,
            Some(p) => Some(
                SubscriptionStatus::parse(p)
                    .ok_or_else(|| bad_value("previous subscription status", p))?,
            ),
        };
        Ok(Subscription {
            pending: self
                .pending_since
                .map(|since| PendingOptIn { since, previous }),
            status: SubscriptionStatus::parse(&self.status)
                .ok_or_else(|| bad_value("subscription status", &self.status))?,
            mobile_number: self.mobile_number,
            code: self.code,
            keyword: self.keyword,
            opt_in_date: self.opt_in_date,
            opt_out_date: self.opt_out_date,
            opt_out_by_text: self.opt_out_by_text != 0,
            next_keyword_since: self.next_keyword_since,
        })
    }
}

/// What [`UPSERT_SUBSCRIPTION`] returns.
#[derive(sqlx::FromRow)]
pub struct SetRow {
    status: String,
    opt_in_date: Option<i64>,
    opt_out_date: Option<i64>,
    opt_out_by_text: i32,
    next_keyword_since: Option<i64>,
}

// ---- the operations both backends run alike ---------------------------------------------------

/// The keyword a subscription is set on: its pk, and its code and keyword as stored.
pub struct KeywordOf {
    pub pk: i64,
    pub code: String,
    pub keyword: String,
}

/// Sets the subscription of `mobile_number` to the owner's keyword with [`UPSERT_SUBSCRIPTION`].
/// A keyword deleted since it was looked up is NotFound.
pub async fn set_subscription<'e, DB: Sql>(
    db: impl Executor<'e, Database = DB>,
    owner: &AccountRef,
    keyword: KeywordOf,
    mobile_number: &str,
    status: SubscriptionStatus,
    now: Millis,
) -> StoreResult<Subscription>
where
    SetRow: for<'r> FromRow<'r, DB::Row>,
{
    let set = sqlx::query_as::<DB, SetRow>(UPSERT_SUBSCRIPTION)
        .arg(keyword.pk)
        .arg(mobile_number)
        .arg(owner.pk)
        .arg(status.as_str())
        .arg(now)
        .fetch_one(db)
        .await
        .map_err(sql::parent_gone("set subscription"))?;
    SubscriptionRow {
        mobile_number: mobile_number.to_string(),
        code: keyword.code,
        keyword: keyword.keyword,
        status: set.status,
        opt_in_date: set.opt_in_date,
        opt_out_date: set.opt_out_date,
        pending_since: None,
        pending_previous: None,
        opt_out_by_text: set.opt_out_by_text,
        next_keyword_since: set.next_keyword_since,
    }
    .into_subscription()
}

/// Every subscription of the number in the account, by code then keyword.
pub async fn subscriptions_of<'e, DB, E>(
    db: E,
    account_id: &str,
    mobile_number: &str,
) -> StoreResult<Vec<Subscription>>
where
    DB: Sql,
    E: Executor<'e, Database = DB> + Copy,
    AccountRef: for<'r> FromRow<'r, DB::Row>,
    SubscriptionRow: for<'r> FromRow<'r, DB::Row>,
{
    let owner = sql::account(db, account_id).await?;
    sqlx::query_as::<DB, SubscriptionRow>(SUBSCRIPTIONS_OF_NUMBER)
        .arg(owner.pk)
        .arg(mobile_number)
        .fetch_all(db)
        .await
        .map_err(sql::db("subscriptions of a number"))?
        .into_iter()
        .map(SubscriptionRow::into_subscription)
        .collect()
}

/// The subscriptions of `numbers` to the keywords of the account's code, in one query: the
/// backend's `statement` (a [`select_subscription!`] where `$1` is the account's pk, `$2` the
/// code's key and `$3` the numbers, bound by `N`).
pub async fn subscriptions_on_code<'e, DB, E, N>(
    db: E,
    statement: &'static str,
    account_id: &str,
    code: &str,
    numbers: &[String],
) -> StoreResult<Vec<Subscription>>
where
    DB: Sql,
    E: Executor<'e, Database = DB> + Copy,
    N: NumberSet<DB>,
    AccountRef: for<'r> FromRow<'r, DB::Row>,
    SubscriptionRow: for<'r> FromRow<'r, DB::Row>,
{
    let owner = sql::account(db, account_id).await?;
    if numbers.is_empty() {
        return Ok(Vec::new());
    }
    let query = sqlx::query_as::<DB, SubscriptionRow>(statement)
        .arg(owner.pk)
        .arg(code_key(code));
    N::bind_numbers(query, numbers)?
        .fetch_all(db)
        .await
        .map_err(sql::db("subscriptions of numbers on a code"))?
        .into_iter()
        .map(SubscriptionRow::into_subscription)
        .collect()
}

/// Reverts every request pending since `cutoff` or earlier: to its previous status, or removed.
/// Both statements run in the caller's transaction; the count of both is returned.
pub async fn lapse_pending<DB: Sql>(conn: &mut DB::Connection, cutoff: Millis) -> StoreResult<u64>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    let removed = sqlx::query::<DB>(REMOVE_LAPSED)
        .arg(cutoff)
        .execute(&mut *conn)
        .await
        .map_err(sql::db("remove lapsed opt-in requests"))
        .map(sql::affected::<DB>)?;
    let reverted = sqlx::query::<DB>(REVERT_LAPSED)
        .arg(cutoff)
        .execute(&mut *conn)
        .await
        .map_err(sql::db("revert lapsed opt-in requests"))
        .map(sql::affected::<DB>)?;
    Ok(removed + reverted)
}

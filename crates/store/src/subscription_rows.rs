//! What both backends share about subscriptions: the row they read, with its mapping to
//! [`Subscription`], and the reads both dialects spell alike (written once, with `$N`
//! parameters). The upsert and the batch read over many numbers (`json_each` on SQLite, an
//! array on PostgreSQL) stay each backend's own.

use crate::{bad_value, PendingOptIn, StoreResult, Subscription, SubscriptionStatus};

/// `SELECT` of a subscription row ([`SubscriptionRow`]) with its code and keyword (`s`, `k`,
/// `c`), followed by the given clauses.
#[macro_export]
macro_rules! select_subscription {
    ($($clauses:literal),+) => {
        concat!(
            "SELECT s.mobile_number, c.code, k.keyword, s.status, s.opt_in_date, s.opt_out_date, \
             s.pending_since, s.pending_previous, s.opt_out_by_text FROM subscriptions s \
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

/// A subscription as [`select_subscription!`] reads it (or as an upsert returns it).
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
        })
    }
}

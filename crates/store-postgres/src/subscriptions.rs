//! Subscriptions of numbers to keywords (API.md §6): the shared operations of
//! `store::subscription_rows` on the pool; here the keyword lookup, the transaction of the lapse,
//! and the read over many numbers (an array, bound by [`NumberArray`]).

use async_trait::async_trait;
use sqlx::postgres::PgArguments;
use sqlx::query::QueryAs;
use sqlx::Postgres;
use store::subscription_rows::{self, KeywordOf, NumberSet};
use store::{
    Millis, StoreResult, SubscribeTo, Subscription, SubscriptionStatus, SubscriptionStore,
};

use crate::codes::keyword_by_name;
use crate::{account, settle, Ending, PgStore};

/// Binds a set of numbers as one array parameter (`= ANY($N)`).
pub(crate) struct NumberArray;

impl NumberSet<Postgres> for NumberArray {
    fn bind_numbers<'q, O>(
        query: QueryAs<'q, Postgres, O, PgArguments>,
        numbers: &'q [String],
    ) -> StoreResult<QueryAs<'q, Postgres, O, PgArguments>> {
        Ok(query.bind(numbers))
    }
}

#[async_trait]
impl SubscriptionStore for PgStore {
    /// One upsert on the pool: a keyword deleted meanwhile fails its foreign key (NotFound).
    async fn set_subscription(
        &self,
        account_id: &str,
        to: &SubscribeTo,
        mobile_number: &str,
        status: SubscriptionStatus,
        now: Millis,
    ) -> StoreResult<Subscription> {
        let owner = account(&self.pool, account_id).await?;
        let (pk, code, keyword) =
            keyword_by_name(&self.pool, &owner, &to.code, &to.keyword).await?;
        let keyword = KeywordOf { pk, code, keyword };
        subscription_rows::set_subscription(&self.pool, &owner, keyword, mobile_number, status, now)
            .await
    }

    async fn subscriptions_of(
        &self,
        account_id: &str,
        mobile_number: &str,
    ) -> StoreResult<Vec<Subscription>> {
        subscription_rows::subscriptions_of(&self.pool, account_id, mobile_number).await
    }

    async fn subscriptions_on_code(
        &self,
        account_id: &str,
        code: &str,
        numbers: &[String],
    ) -> StoreResult<Vec<Subscription>> {
        subscription_rows::subscriptions_on_code::<_, _, NumberArray>(
            &self.pool,
            select_subscription!(
                "WHERE s.account_pk = $1 AND c.code_key = $2 AND s.mobile_number = ANY($3) \
                 ORDER BY s.mobile_number, k.keyword_key, k.keyword"
            ),
            account_id,
            code,
            numbers,
        )
        .await
    }

    async fn lapse_pending(&self, cutoff: Millis) -> StoreResult<u64> {
        let mut tx = self.begin().await?;
        let work = subscription_rows::lapse_pending::<Postgres>(&mut tx, cutoff)
            .await
            .map(Ending::Commit);
        settle(tx, work, "commit lapsed opt-in requests").await
    }
}

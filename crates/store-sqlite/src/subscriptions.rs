//! Subscriptions of numbers to keywords (API.md §6): the shared operations of
//! `store::subscription_rows`, writes in one transaction of the writer, reads on the readers;
//! here the keyword lookup and the read over many numbers (a JSON array read with `json_each`,
//! bound by [`NumberJson`]).

use async_trait::async_trait;
use sqlx::query::QueryAs;
use sqlx::sqlite::SqliteArguments;
use sqlx::Sqlite;
use store::subscription_rows::{self, KeywordOf, NumberSet};
use store::{
    Millis, StoreError, StoreResult, SubscribeTo, Subscription, SubscriptionStatus,
    SubscriptionStore,
};

use crate::codes::keyword_by_name;
use crate::{account, db, SqliteStore};

/// Binds a set of numbers as one JSON array parameter (`IN (SELECT value FROM json_each(?N))`).
pub(crate) struct NumberJson;

impl NumberSet<Sqlite> for NumberJson {
    fn bind_numbers<'q, O>(
        query: QueryAs<'q, Sqlite, O, SqliteArguments<'q>>,
        numbers: &'q [String],
    ) -> StoreResult<QueryAs<'q, Sqlite, O, SqliteArguments<'q>>> {
        let numbers =
            serde_json::to_string(numbers).map_err(|e| StoreError::Other(e.to_string()))?;
        Ok(query.bind(numbers))
    }
}

#[async_trait]
impl SubscriptionStore for SqliteStore {
    /// The keyword lookup and the upsert in one write transaction.
    async fn set_subscription(
        &self,
        account_id: &str,
        to: &SubscribeTo,
        mobile_number: &str,
        status: SubscriptionStatus,
        now: Millis,
    ) -> StoreResult<Subscription> {
        let mut tx = self.write().await?;
        let owner = account(&mut *tx, account_id).await?;
        let (pk, code, keyword) = keyword_by_name(&mut *tx, &owner, &to.code, &to.keyword).await?;
        let keyword = KeywordOf { pk, code, keyword };
        let subscription = subscription_rows::set_subscription(
            &mut *tx,
            &owner,
            keyword,
            mobile_number,
            status,
            now,
        )
        .await?;
        tx.commit().await.map_err(db("commit subscription"))?;
        Ok(subscription)
    }

    async fn subscriptions_of(
        &self,
        account_id: &str,
        mobile_number: &str,
    ) -> StoreResult<Vec<Subscription>> {
        subscription_rows::subscriptions_of(&self.reader, account_id, mobile_number).await
    }

    async fn subscriptions_on_code(
        &self,
        account_id: &str,
        code: &str,
        numbers: &[String],
    ) -> StoreResult<Vec<Subscription>> {
        subscription_rows::subscriptions_on_code::<_, _, NumberJson>(
            &self.reader,
            select_subscription!(
                "WHERE s.account_pk = $1 AND c.code_key = $2 \
                 AND s.mobile_number IN (SELECT value FROM json_each($3)) \
                 ORDER BY s.mobile_number, k.keyword_key, k.keyword"
            ),
            account_id,
            code,
            numbers,
        )
        .await
    }

    async fn lapse_pending(&self, cutoff: Millis) -> StoreResult<u64> {
        let mut tx = self.write().await?;
        let lapsed = subscription_rows::lapse_pending::<Sqlite>(&mut tx, cutoff).await?;
        tx.commit()
            .await
            .map_err(db("commit lapsed opt-in requests"))?;
        Ok(lapsed)
    }
}

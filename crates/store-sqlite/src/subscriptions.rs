//! Subscriptions of numbers to keywords (API.md §6).

use async_trait::async_trait;
use store::SubscriptionStore;

use store::{Millis, StoreError, StoreResult, SubscribeTo, Subscription, SubscriptionStatus};

use store::subscription_rows::{SubscriptionRow, SUBSCRIPTIONS_OF_NUMBER};

use crate::codes::{code_key, keyword_by_name};
use crate::{account, db, SqliteStore};

#[async_trait]
impl SubscriptionStore for SqliteStore {
    /// Creates or changes the subscription; a date is set only on the change into its status. A
    /// pending double opt-in request is dropped (the status is now the operator's).
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
        let (keyword_pk, code, keyword) =
            keyword_by_name(&mut *tx, &owner, &to.code, &to.keyword).await?;
        // In DO UPDATE, bare column names are the stored (old) values.
        #[allow(clippy::type_complexity)]
        let (status, opt_in_date, opt_out_date, opt_out_by_text): (
            String,
            Option<i64>,
            Option<i64>,
            i32,
        ) = sqlx::query_as(concat!(
            "INSERT INTO subscriptions (keyword_pk, mobile_number, account_pk, status, \
                 opt_in_date, opt_out_date) \
                 VALUES (?1, ?2, ?3, ?4, \
                 CASE WHEN ?4 = ",
            subscription_status!(Subscribed),
            " THEN ?5 END, CASE WHEN ?4 = ",
            subscription_status!(Unsubscribed),
            " THEN ?5 END) \
                 ON CONFLICT (keyword_pk, mobile_number) DO UPDATE SET \
                 opt_in_date = CASE WHEN excluded.status = ",
            subscription_status!(Subscribed),
            " AND status <> ",
            subscription_status!(Subscribed),
            " \
                 THEN ?5 ELSE opt_in_date END, \
                 opt_out_date = CASE WHEN excluded.status = ",
            subscription_status!(Unsubscribed),
            " \
                 AND status <> ",
            subscription_status!(Unsubscribed),
            " THEN ?5 ELSE opt_out_date END, \
                 status = excluded.status, pending_since = NULL, pending_previous = NULL, \
                 opt_out_by_text = CASE WHEN excluded.status = ",
            subscription_status!(Unsubscribed),
            " THEN 0 \
                 ELSE opt_out_by_text END \
                 RETURNING status, opt_in_date, opt_out_date, opt_out_by_text"
        ))
        .bind(keyword_pk)
        .bind(mobile_number)
        .bind(owner.pk)
        .bind(status.as_str())
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(db("set subscription"))?;
        tx.commit().await.map_err(db("commit subscription"))?;
        SubscriptionRow {
            mobile_number: mobile_number.to_string(),
            code,
            keyword,
            status,
            opt_in_date,
            opt_out_date,
            pending_since: None,
            pending_previous: None,
            opt_out_by_text,
        }
        .into_subscription()
    }

    async fn subscriptions_of(
        &self,
        account_id: &str,
        mobile_number: &str,
    ) -> StoreResult<Vec<Subscription>> {
        let owner = account(&self.reader, account_id).await?;
        sqlx::query_as::<_, SubscriptionRow>(SUBSCRIPTIONS_OF_NUMBER)
            .bind(owner.pk)
            .bind(mobile_number)
            .fetch_all(&self.reader)
            .await
            .map_err(db("subscriptions of a number"))?
            .into_iter()
            .map(SubscriptionRow::into_subscription)
            .collect()
    }

    /// The subscriptions of `numbers` to the keywords of one code, in one query.
    async fn subscriptions_on_code(
        &self,
        account_id: &str,
        code: &str,
        numbers: &[String],
    ) -> StoreResult<Vec<Subscription>> {
        let owner = account(&self.reader, account_id).await?;
        if numbers.is_empty() {
            return Ok(Vec::new());
        }
        let numbers =
            serde_json::to_string(numbers).map_err(|e| StoreError::Other(e.to_string()))?;
        sqlx::query_as::<_, SubscriptionRow>(select_subscription!(
            "WHERE s.account_pk = ?1 AND c.code_key = ?2 \
             AND s.mobile_number IN (SELECT value FROM json_each(?3)) \
             ORDER BY s.mobile_number, k.keyword_key, k.keyword"
        ))
        .bind(owner.pk)
        .bind(code_key(code))
        .bind(numbers)
        .fetch_all(&self.reader)
        .await
        .map_err(db("subscriptions of numbers on a code"))?
        .into_iter()
        .map(SubscriptionRow::into_subscription)
        .collect()
    }

    /// Reverts every request pending since `cutoff` or earlier: to its previous status, or removed.
    async fn lapse_pending(&self, cutoff: Millis) -> StoreResult<u64> {
        let mut tx = self.write().await?;
        let removed = sqlx::query(
            "DELETE FROM subscriptions WHERE pending_since <= ?1 AND pending_previous IS NULL",
        )
        .bind(cutoff)
        .execute(&mut *tx)
        .await
        .map_err(db("remove lapsed opt-in requests"))?
        .rows_affected();
        let reverted = sqlx::query(
            "UPDATE subscriptions SET status = pending_previous, pending_since = NULL, \
             pending_previous = NULL WHERE pending_since <= ?1",
        )
        .bind(cutoff)
        .execute(&mut *tx)
        .await
        .map_err(db("revert lapsed opt-in requests"))?
        .rows_affected();
        tx.commit()
            .await
            .map_err(db("commit lapsed opt-in requests"))?;
        Ok(removed + reverted)
    }
}

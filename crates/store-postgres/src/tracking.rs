//! What the status of a send reports (API.md §5): counts by standard code, pages of tracking
//! entries, and when its next recipient may go. The shared operations of `store::tracking_rows`
//! on the pool, after the send is found by its token here.

use async_trait::async_trait;
use store::tracking_rows;
use store::{Millis, QueueGauges, SendCounts, StoreResult, TrackingRow, TrackingStore};

use crate::dispatch::send_ref;
use crate::PgStore;

#[async_trait]
impl TrackingStore for PgStore {
    async fn send_counts(&self, token: &str, now: Millis) -> StoreResult<SendCounts> {
        let send = send_ref(&self.pool, token, "").await?;
        tracking_rows::send_counts(&self.pool, send.pk, &send.state, send.next_at, now).await
    }

    async fn tracking_page(
        &self,
        token: &str,
        page: u32,
        page_size: u32,
    ) -> StoreResult<Vec<TrackingRow>> {
        let send = send_ref(&self.pool, token, "").await?;
        tracking_rows::tracking_page(&self.pool, send.pk, page, page_size).await
    }

    async fn send_next_at(&self, token: &str) -> StoreResult<Option<Millis>> {
        let send = send_ref(&self.pool, token, "").await?;
        tracking_rows::send_next_at(&self.pool, send.pk, &send.state, send.due_at, send.next_at)
            .await
    }

    async fn queue_gauges(&self, now: Millis) -> StoreResult<QueueGauges> {
        tracking_rows::queue_gauges(&self.pool, now).await
    }
}

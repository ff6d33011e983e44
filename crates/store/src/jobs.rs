//! The role of the list jobs (`queueImport`, `refreshList`).

use async_trait::async_trait;

use crate::{ListJob, ListJobProgress, ListJobState, Millis, NewListJob, StoreResult};

#[async_trait]
/// Background jobs on a list: `queueImport` and `refreshList` (API.md §6).
pub trait JobStore: std::marker::Send + Sync {
    /// NotFound when the account or list does not exist; Conflict on a token equal ignoring case.
    async fn create_list_job(&self, new: NewListJob) -> StoreResult<ListJob>;
    /// Records progress and state; NotFound for an unknown token. A final job does not change.
    async fn update_list_job(
        &self,
        token: &str,
        state: ListJobState,
        progress: &ListJobProgress,
        now: Millis,
    ) -> StoreResult<ListJob>;
    /// By token, ignoring case, within the account.
    async fn get_list_job(&self, account_id: &str, token: &str) -> StoreResult<ListJob>;
}

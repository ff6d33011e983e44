//! The role of background jobs (`queueImport`, `refreshList`, `deliveryReport`): recorded by the
//! operations, claimed and leased by the engine like the recipients queue.

use async_trait::async_trait;

use crate::{
    ContactRow, JobUpdate, ListJob, MemberCounts, Millis, NewListJob, StoreResult, SubscribeTo,
};

#[async_trait]
/// Background jobs (API.md §6).
pub trait JobStore: std::marker::Send + Sync {
    /// NotFound when the account or the named list does not exist; Conflict on a token equal
    /// ignoring case.
    async fn create_list_job(&self, new: NewListJob) -> StoreResult<ListJob>;
    /// Claims up to `limit` unfinished jobs, oldest first, whose lease is free or ran out before
    /// `now`: they become Processing, leased to `owner` until `lease_until`. Claimed jobs come
    /// back with their payload and checkpoint, so a job another process left is resumed.
    async fn claim_jobs(
        &self,
        owner: &str,
        now: Millis,
        lease_until: Millis,
        limit: u32,
    ) -> StoreResult<Vec<ListJob>>;
    /// Records a job's state, progress and checkpoint, renewing its lease (or clearing it when
    /// the state is final), only while `update.owner` holds the lease: false, and nothing
    /// written, when it does not (another process took the job over).
    async fn record_job(&self, update: &JobUpdate) -> StoreResult<bool>;
    /// One batch of an import (`ContactStore::upsert_members`) and its job's update in one
    /// transaction, so a resumed import neither repeats nor skips a row. `job.progress` is the
    /// progress without this batch's members, whose counts the store adds. `None`, and nothing
    /// written, when `job.owner` no longer holds the job's lease.
    async fn import_batch(
        &self,
        job: &JobUpdate,
        account_id: &str,
        list_id: &str,
        rows: &[ContactRow],
        subscribe: Option<&SubscribeTo>,
    ) -> StoreResult<Option<MemberCounts>>;
    /// Gives back `owner`'s leases on unfinished jobs (a graceful stop): another process may
    /// resume them at once. How many.
    async fn release_jobs(&self, owner: &str) -> StoreResult<u64>;
    /// By token, ignoring case, within the account.
    async fn get_list_job(&self, account_id: &str, token: &str) -> StoreResult<ListJob>;
}

//! What the status of a send reports (API.md §5): counts by standard code, pages of tracking
//! entries, and when its next recipient may go. The shared operations of `store::tracking_rows`
//! on the pool, after the send is found by its token (`tracking_store!`).

store::tracking_store!(crate::PgStore, reads: pool);

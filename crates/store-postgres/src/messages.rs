//! Stored messages (API.md §7): `store::message_rows`'s operations on the pool
//! (`message_store!`), and here the update's transaction. A message names its code by code
//! string; list IDs are kept as given (sends resolve them when accepted).

use store::message_rows;
use store::{select_message, Message, MessagePatch, Millis, StoreResult};

use crate::{settle, Ending, PgStore};

store::message_store!(PgStore, reads: pool, writes: pool, update: update_message_locked);

impl PgStore {
    /// Read, patch, write under the row's lock: concurrent patches apply one after the other, none
    /// lost.
    async fn update_message_locked(
        &self,
        account_id: &str,
        id: &str,
        patch: MessagePatch,
        now: Millis,
    ) -> StoreResult<Message> {
        const READ_LOCKED: &str =
            select_message!("WHERE account_pk = $1 AND id_key = $2 FOR UPDATE");
        let mut tx = self.begin().await?;
        let work = message_rows::update_message_in::<sqlx::Postgres>(
            &mut *tx,
            READ_LOCKED,
            account_id,
            id,
            patch,
            now,
        )
        .await
        .map(Ending::Commit);
        settle(tx, work, "commit message update").await
    }
}

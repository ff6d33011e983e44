//! Stored messages (API.md §7): the shared operations of `store::message_rows` on the pool. A
//! message names its code by code string; list IDs are kept as given (sends resolve them when
//! accepted).

use async_trait::async_trait;
use store::message_rows;
use store::{select_message, Message, MessagePatch, MessageStore, Millis, NewMessage, StoreResult};

use crate::{settle, Ending, PgStore};

#[async_trait]
impl MessageStore for PgStore {
    async fn create_message(&self, new: NewMessage) -> StoreResult<Message> {
        message_rows::create_message(&self.pool, new).await
    }

    async fn get_message(&self, account_id: &str, id: &str) -> StoreResult<Message> {
        message_rows::get_message(&self.pool, account_id, id).await
    }

    async fn list_messages(&self, account_id: &str) -> StoreResult<Vec<Message>> {
        message_rows::list_messages(&self.pool, account_id).await
    }

    /// Read, patch, write under the row's lock: concurrent patches apply one after the other, none
    /// lost.
    async fn update_message(
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

    async fn delete_message(&self, account_id: &str, id: &str) -> StoreResult<()> {
        message_rows::delete_message(&self.pool, account_id, id).await
    }
}

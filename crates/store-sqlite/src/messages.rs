//! Stored messages (API.md §7): the shared operations of `store::message_rows`, reads on the
//! readers, writes on the writer (the update in one write transaction). A message names its code
//! by code string; list IDs are kept as given (sends resolve them when accepted).

use async_trait::async_trait;
use store::message_rows::{self, MESSAGE_BY_KEY};
use store::{Message, MessagePatch, MessageStore, Millis, NewMessage, StoreResult};

use crate::{db, SqliteStore};

#[async_trait]
impl MessageStore for SqliteStore {
    async fn create_message(&self, new: NewMessage) -> StoreResult<Message> {
        message_rows::create_message(&self.writer, new).await
    }

    async fn get_message(&self, account_id: &str, id: &str) -> StoreResult<Message> {
        message_rows::get_message(&self.reader, account_id, id).await
    }

    async fn list_messages(&self, account_id: &str) -> StoreResult<Vec<Message>> {
        message_rows::list_messages(&self.reader, account_id).await
    }

    /// Read, patch, write in one write transaction: concurrent patches apply one after the other.
    async fn update_message(
        &self,
        account_id: &str,
        id: &str,
        patch: MessagePatch,
        now: Millis,
    ) -> StoreResult<Message> {
        let mut tx = self.write().await?;
        let message = message_rows::update_message_in::<sqlx::Sqlite>(
            &mut *tx,
            MESSAGE_BY_KEY,
            account_id,
            id,
            patch,
            now,
        )
        .await?;
        tx.commit().await.map_err(db("commit message update"))?;
        Ok(message)
    }

    async fn delete_message(&self, account_id: &str, id: &str) -> StoreResult<()> {
        message_rows::delete_message(&self.writer, account_id, id).await
    }
}

//! Stored messages (API.md §7): `store::message_rows`'s operations (`message_store!`), reads on
//! the readers, writes on the writer, and here the update's write transaction. A message names
//! its code by code string; list IDs are kept as given (sends resolve them when accepted).

use store::message_rows::{self, MESSAGE_BY_KEY};
use store::{Message, MessagePatch, Millis, StoreResult};

use crate::{db, SqliteStore};

store::message_store!(SqliteStore, reads: reader, writes: writer, update: update_message_tx);

impl SqliteStore {
    /// Read, patch, write in one write transaction: concurrent patches apply one after the other.
    async fn update_message_tx(
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
}

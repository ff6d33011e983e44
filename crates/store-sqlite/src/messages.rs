//! Stored messages (API.md §7). A message names its code by code string; list IDs are kept as
//! given (sends resolve them when accepted).

use async_trait::async_trait;
use store::MessageStore;

use store::message_rows::{
    apply_message_patch, bind_message_update, bind_new_message, MessageRow, INSERT_MESSAGE,
    MESSAGES_OF_ACCOUNT, MESSAGE_BY_KEY, UPDATE_MESSAGE,
};
use store::{Message, MessagePatch, Millis, NewMessage, StoreError, StoreResult};

use crate::codes::code_by_string;
use crate::{account, db, id_key, strings_to_json, SqliteStore};

#[async_trait]
impl MessageStore for SqliteStore {
    async fn create_message(&self, new: NewMessage) -> StoreResult<Message> {
        let target = strings_to_json(&new.target_list_ids)?;
        let exclusion = strings_to_json(&new.exclusion_list_ids)?;
        let mut tx = self.write().await?;
        let owner = account(&mut *tx, &new.account_id).await?;
        let (_, code) = code_by_string(&mut *tx, &owner, &new.code).await?;
        bind_new_message(
            sqlx::query(INSERT_MESSAGE),
            &new,
            owner.pk,
            &code,
            target,
            exclusion,
        )
        .execute(&mut *tx)
        .await
        .map_err(db("insert message"))?;
        tx.commit().await.map_err(db("commit message"))?;
        Ok(Message {
            id: new.id,
            account_id: owner.id,
            name: new.name,
            code,
            text: new.text,
            status: new.status,
            target_list_ids: new.target_list_ids,
            exclusion_list_ids: new.exclusion_list_ids,
            content_url: new.content_url,
            created_at: new.created_at,
            updated_at: new.created_at,
        })
    }

    async fn get_message(&self, account_id: &str, id: &str) -> StoreResult<Message> {
        let owner = account(&self.reader, account_id).await?;
        sqlx::query_as::<_, MessageRow>(MESSAGE_BY_KEY)
            .bind(owner.pk)
            .bind(id_key(id))
            .fetch_optional(&self.reader)
            .await
            .map_err(db("get message"))?
            .ok_or(StoreError::NotFound)?
            .into_message(&owner.id)
    }

    async fn list_messages(&self, account_id: &str) -> StoreResult<Vec<Message>> {
        let owner = account(&self.reader, account_id).await?;
        sqlx::query_as::<_, MessageRow>(MESSAGES_OF_ACCOUNT)
            .bind(owner.pk)
            .fetch_all(&self.reader)
            .await
            .map_err(db("list messages"))?
            .into_iter()
            .map(|row| row.into_message(&owner.id))
            .collect()
    }

    async fn update_message(
        &self,
        account_id: &str,
        id: &str,
        mut patch: MessagePatch,
        now: Millis,
    ) -> StoreResult<Message> {
        let mut tx = self.write().await?;
        let owner = account(&mut *tx, account_id).await?;
        let row = sqlx::query_as::<_, MessageRow>(MESSAGE_BY_KEY)
            .bind(owner.pk)
            .bind(id_key(id))
            .fetch_optional(&mut *tx)
            .await
            .map_err(db("get message to update"))?
            .ok_or(StoreError::NotFound)?;
        let pk = row.pk;
        let mut message = row.into_message(&owner.id)?;

        if let Some(code) = patch.code.take() {
            message.code = code_by_string(&mut *tx, &owner, &code).await?.1;
        }
        apply_message_patch(&mut message, patch, now);

        bind_message_update(
            sqlx::query(UPDATE_MESSAGE),
            pk,
            &message,
            strings_to_json(&message.target_list_ids)?,
            strings_to_json(&message.exclusion_list_ids)?,
        )
        .execute(&mut *tx)
        .await
        .map_err(db("update message"))?;
        tx.commit().await.map_err(db("commit message update"))?;
        Ok(message)
    }

    async fn delete_message(&self, account_id: &str, id: &str) -> StoreResult<()> {
        let mut tx = self.write().await?;
        let owner = account(&mut *tx, account_id).await?;
        let deleted = sqlx::query("DELETE FROM messages WHERE account_pk = ?1 AND id_key = ?2")
            .bind(owner.pk)
            .bind(id_key(id))
            .execute(&mut *tx)
            .await
            .map_err(db("delete message"))?
            .rows_affected();
        if deleted == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await.map_err(db("commit message deletion"))
    }
}

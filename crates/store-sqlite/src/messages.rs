//! Stored messages (API.md §7). A message names its code by code string; list IDs are kept as
//! given (sends resolve them when accepted).

use async_trait::async_trait;
use store::MessageStore;

use store::{Message, MessagePatch, MessageStatus, Millis, NewMessage, StoreError, StoreResult};

use crate::codes::code_by_string;
use crate::{account, bad_value, db, id_key, strings_from_json, strings_to_json, SqliteStore};

#[derive(sqlx::FromRow)]
struct MessageRow {
    pk: i64,
    id: String,
    name: String,
    code: String,
    text: String,
    status: String,
    target_list_ids: String,
    exclusion_list_ids: String,
    content_url: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl MessageRow {
    fn into_message(self, account_id: &str) -> StoreResult<Message> {
        Ok(Message {
            status: MessageStatus::parse(&self.status)
                .ok_or_else(|| bad_value("message status", &self.status))?,
            target_list_ids: strings_from_json(&self.target_list_ids, "target list IDs")?,
            exclusion_list_ids: strings_from_json(&self.exclusion_list_ids, "exclusion list IDs")?,
            id: self.id,
            account_id: account_id.to_string(),
            name: self.name,
            code: self.code,
            text: self.text,
            content_url: self.content_url,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// `SELECT` of a message row, followed by the given clauses.
macro_rules! select_message {
    ($($clauses:literal),+) => {
        concat!(
            "SELECT pk, id, name, code, text, status, target_list_ids, exclusion_list_ids, \
             content_url, created_at, updated_at FROM messages ",
            $($clauses),+
        )
    };
}

#[async_trait]
impl MessageStore for SqliteStore {
    async fn create_message(&self, new: NewMessage) -> StoreResult<Message> {
        let target = strings_to_json(&new.target_list_ids)?;
        let exclusion = strings_to_json(&new.exclusion_list_ids)?;
        let mut tx = self.write().await?;
        let owner = account(&mut *tx, &new.account_id).await?;
        let (_, code) = code_by_string(&mut *tx, &owner, &new.code).await?;
        sqlx::query(
            "INSERT INTO messages (account_pk, id, id_key, name, code, text, status, \
             target_list_ids, exclusion_list_ids, content_url, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)",
        )
        .bind(owner.pk)
        .bind(&new.id)
        .bind(id_key(&new.id))
        .bind(&new.name)
        .bind(&code)
        .bind(&new.text)
        .bind(new.status.as_str())
        .bind(target)
        .bind(exclusion)
        .bind(&new.content_url)
        .bind(new.created_at)
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
        sqlx::query_as::<_, MessageRow>(select_message!("WHERE account_pk = ?1 AND id_key = ?2"))
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
        sqlx::query_as::<_, MessageRow>(select_message!("WHERE account_pk = ?1 ORDER BY pk"))
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
        patch: MessagePatch,
        now: Millis,
    ) -> StoreResult<Message> {
        let mut tx = self.write().await?;
        let owner = account(&mut *tx, account_id).await?;
        let row = sqlx::query_as::<_, MessageRow>(select_message!(
            "WHERE account_pk = ?1 AND id_key = ?2"
        ))
        .bind(owner.pk)
        .bind(id_key(id))
        .fetch_optional(&mut *tx)
        .await
        .map_err(db("get message to update"))?
        .ok_or(StoreError::NotFound)?;
        let pk = row.pk;
        let mut message = row.into_message(&owner.id)?;

        if let Some(code) = patch.code {
            message.code = code_by_string(&mut *tx, &owner, &code).await?.1;
        }
        if let Some(name) = patch.name {
            message.name = name;
        }
        if let Some(text) = patch.text {
            message.text = text;
        }
        if let Some(status) = patch.status {
            message.status = status;
        }
        if let Some(ids) = patch.target_list_ids {
            message.target_list_ids = ids;
        }
        if let Some(ids) = patch.exclusion_list_ids {
            message.exclusion_list_ids = ids;
        }
        if let Some(url) = patch.content_url {
            message.content_url = url;
        }
        message.updated_at = now;

        sqlx::query(
            "UPDATE messages SET name = ?2, code = ?3, text = ?4, status = ?5, target_list_ids = ?6, \
             exclusion_list_ids = ?7, content_url = ?8, updated_at = ?9 WHERE pk = ?1",
        )
        .bind(pk)
        .bind(&message.name)
        .bind(&message.code)
        .bind(&message.text)
        .bind(message.status.as_str())
        .bind(strings_to_json(&message.target_list_ids)?)
        .bind(strings_to_json(&message.exclusion_list_ids)?)
        .bind(&message.content_url)
        .bind(message.updated_at)
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

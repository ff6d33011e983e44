//! Accounts (the tenants every other object belongs to; never deleted), API clients and their
//! access tokens (API.md §2, §7): the shared operations of `store::account_rows` on the writer
//! (writes, one statement each) and the readers, and the revocation and secret swap, each one
//! transaction here.

use async_trait::async_trait;
use store::account_rows;
use store::{
    AccessToken, Account, AccountStore, Client, Millis, NewAccessToken, NewAccount, NewClient,
    StoreError, StoreResult,
};

use crate::{account, db, id_key, now_millis, SqliteStore};

#[async_trait]
impl AccountStore for SqliteStore {
    async fn create_account(&self, new: NewAccount) -> StoreResult<Account> {
        account_rows::create_account(&self.writer, new).await
    }

    async fn get_account(&self, id: &str) -> StoreResult<Account> {
        account_rows::get_account(&self.reader, id).await
    }

    async fn list_accounts(&self) -> StoreResult<Vec<Account>> {
        account_rows::list_accounts(&self.reader).await
    }

    async fn create_client(&self, new: NewClient) -> StoreResult<Client> {
        account_rows::create_client(&self.writer, new).await
    }

    async fn get_client(&self, client_id: &str) -> StoreResult<Client> {
        account_rows::get_client(&self.reader, client_id).await
    }

    async fn list_clients(&self, account_id: &str) -> StoreResult<Vec<Client>> {
        account_rows::list_clients(&self.reader, account_id).await
    }

    /// Marks the client revoked (keeping the first revocation time) and deletes its tokens.
    async fn revoke_client(&self, account_id: &str, client_id: &str) -> StoreResult<()> {
        let mut tx = self.write().await?;
        let owner = account(&mut *tx, account_id).await?;
        let client_pk: i64 = sqlx::query_scalar(
            "UPDATE clients SET revoked_at = COALESCE(revoked_at, ?3) \
             WHERE account_pk = ?1 AND id_key = ?2 RETURNING pk",
        )
        .bind(owner.pk)
        .bind(id_key(client_id))
        .bind(now_millis())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db("revoke client"))?
        .ok_or(StoreError::NotFound)?;
        sqlx::query("DELETE FROM access_tokens WHERE client_pk = ?1")
            .bind(client_pk)
            .execute(&mut *tx)
            .await
            .map_err(db("delete revoked client's tokens"))?;
        tx.commit().await.map_err(db("commit revoke"))
    }

    /// Swaps the client's secret hash for `new_hash` only while it is still `old_hash`.
    async fn replace_client_secret_hash(
        &self,
        client_id: &str,
        old_hash: &str,
        new_hash: &str,
    ) -> StoreResult<bool> {
        let mut tx = self.write().await?;
        let replaced = sqlx::query(
            "UPDATE clients SET secret_hash = ?3 WHERE id_key = ?1 AND secret_hash = ?2",
        )
        .bind(id_key(client_id))
        .bind(old_hash)
        .bind(new_hash)
        .execute(&mut *tx)
        .await
        .map_err(db("replace client secret hash"))?
        .rows_affected();
        if replaced == 0 {
            let exists: Option<i64> =
                sqlx::query_scalar("SELECT pk FROM clients WHERE id_key = ?1")
                    .bind(id_key(client_id))
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db("find client"))?;
            if exists.is_none() {
                return Err(StoreError::NotFound);
            }
        }
        tx.commit().await.map_err(db("commit secret hash"))?;
        Ok(replaced > 0)
    }

    async fn insert_token(&self, new: NewAccessToken) -> StoreResult<()> {
        account_rows::insert_token(&self.writer, new).await
    }

    async fn find_token(&self, token_hash: &str, now: Millis) -> StoreResult<Option<AccessToken>> {
        account_rows::find_token(&self.reader, token_hash, now).await
    }

    async fn purge_expired_tokens(&self, now: Millis) -> StoreResult<u64> {
        account_rows::purge_expired_tokens(&self.writer, now).await
    }
}

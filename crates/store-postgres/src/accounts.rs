//! Accounts (the tenants every other object belongs to; never deleted), API clients and their
//! access tokens (API.md §2, §7): the shared operations of `store::account_rows` on the pool,
//! and the revocation and secret swap, one statement each here.

use async_trait::async_trait;
use store::account_rows;
use store::{
    AccessToken, Account, AccountStore, Client, Millis, NewAccessToken, NewAccount, NewClient,
    StoreError, StoreResult,
};

use crate::{db, id_key, now_millis, PgStore};

#[async_trait]
impl AccountStore for PgStore {
    async fn create_account(&self, new: NewAccount) -> StoreResult<Account> {
        account_rows::create_account(&self.pool, new).await
    }

    async fn get_account(&self, id: &str) -> StoreResult<Account> {
        account_rows::get_account(&self.pool, id).await
    }

    async fn list_accounts(&self) -> StoreResult<Vec<Account>> {
        account_rows::list_accounts(&self.pool).await
    }

    async fn create_client(&self, new: NewClient) -> StoreResult<Client> {
        account_rows::create_client(&self.pool, new).await
    }

    async fn get_client(&self, client_id: &str) -> StoreResult<Client> {
        account_rows::get_client(&self.pool, client_id).await
    }

    async fn list_clients(&self, account_id: &str) -> StoreResult<Vec<Client>> {
        account_rows::list_clients(&self.pool, account_id).await
    }

    /// One statement: marks the client revoked (keeping the first revocation time) and deletes its
    /// tokens. A token inserted concurrently is never found either: `find_token` checks the client.
    async fn revoke_client(&self, account_id: &str, client_id: &str) -> StoreResult<()> {
        let revoked: Option<i64> = sqlx::query_scalar(
            "WITH revoked AS ( \
                 UPDATE clients SET revoked_at = COALESCE(revoked_at, $3) \
                 WHERE account_pk = (SELECT pk FROM accounts WHERE id_key = $1) AND id_key = $2 \
                 RETURNING pk), \
             dropped AS (DELETE FROM access_tokens WHERE client_pk IN (SELECT pk FROM revoked)) \
             SELECT pk FROM revoked",
        )
        .bind(id_key(account_id))
        .bind(id_key(client_id))
        .bind(now_millis())
        .fetch_optional(&self.pool)
        .await
        .map_err(db("revoke client"))?;
        revoked.map(|_| ()).ok_or(StoreError::NotFound)
    }

    /// Swaps the client's secret hash for `new_hash` only while it is still `old_hash`.
    async fn replace_client_secret_hash(
        &self,
        client_id: &str,
        old_hash: &str,
        new_hash: &str,
    ) -> StoreResult<bool> {
        // One statement: whether the client exists, and whether this call replaced its hash.
        let found: Option<bool> = sqlx::query_scalar(
            "WITH replaced AS ( \
                 UPDATE clients SET secret_hash = $3 WHERE id_key = $1 AND secret_hash = $2 \
                 RETURNING pk) \
             SELECT EXISTS (SELECT 1 FROM replaced) FROM clients WHERE id_key = $1",
        )
        .bind(id_key(client_id))
        .bind(old_hash)
        .bind(new_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(db("replace client secret hash"))?;
        found.ok_or(StoreError::NotFound)
    }

    async fn insert_token(&self, new: NewAccessToken) -> StoreResult<()> {
        account_rows::insert_token(&self.pool, new).await
    }

    async fn find_token(&self, token_hash: &str, now: Millis) -> StoreResult<Option<AccessToken>> {
        account_rows::find_token(&self.pool, token_hash, now).await
    }

    async fn purge_expired_tokens(&self, now: Millis) -> StoreResult<u64> {
        account_rows::purge_expired_tokens(&self.pool, now).await
    }
}

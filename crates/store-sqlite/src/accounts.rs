//! Accounts (the tenants every other object belongs to; never deleted), API clients and their
//! access tokens (API.md §2, §7).

use async_trait::async_trait;
use store::account_rows::{
    bind_new_account, bind_new_client, bind_new_token, AccountRow, ClientRow, TokenRow,
    ACCOUNT_BY_KEY, ALL_ACCOUNTS, CLIENTS_OF_ACCOUNT, CLIENT_BY_KEY, FIND_TOKEN, INSERT_ACCOUNT,
    INSERT_CLIENT, INSERT_TOKEN, PURGE_TOKENS,
};
use store::{
    AccessToken, Account, AccountStore, Client, Millis, NewAccessToken, NewAccount, NewClient,
    StoreError, StoreResult,
};

use crate::{account, db, id_key, now_millis, strings_to_json, SqliteStore};

/// Expired tokens are deleted this many at a time, so the writer is never held for long.
const PURGE_BATCH: i64 = 10_000;

#[async_trait]
impl AccountStore for SqliteStore {
    async fn create_account(&self, new: NewAccount) -> StoreResult<Account> {
        let mut tx = self.write().await?;
        bind_new_account(sqlx::query(INSERT_ACCOUNT), &new)
            .execute(&mut *tx)
            .await
            .map_err(db("insert account"))?;
        tx.commit().await.map_err(db("commit account"))?;
        Ok(Account {
            id: new.id,
            name: new.name,
            created_at: new.created_at,
        })
    }

    async fn get_account(&self, id: &str) -> StoreResult<Account> {
        sqlx::query_as::<_, AccountRow>(ACCOUNT_BY_KEY)
            .bind(id_key(id))
            .fetch_optional(&self.reader)
            .await
            .map_err(db("get account"))?
            .map(Account::from)
            .ok_or(StoreError::NotFound)
    }

    async fn list_accounts(&self) -> StoreResult<Vec<Account>> {
        let rows = sqlx::query_as::<_, AccountRow>(ALL_ACCOUNTS)
            .fetch_all(&self.reader)
            .await
            .map_err(db("list accounts"))?;
        Ok(rows.into_iter().map(Account::from).collect())
    }

    async fn create_client(&self, new: NewClient) -> StoreResult<Client> {
        let scopes = strings_to_json(&new.scopes)?;
        let acting_accounts = strings_to_json(&new.accounts)?;
        let mut tx = self.write().await?;
        let owner = account(&mut *tx, &new.account_id).await?;
        bind_new_client(
            sqlx::query(INSERT_CLIENT),
            &new,
            owner.pk,
            scopes,
            acting_accounts,
        )
        .execute(&mut *tx)
        .await
        .map_err(db("insert client"))?;
        tx.commit().await.map_err(db("commit client"))?;
        Ok(Client {
            client_id: new.client_id,
            secret_hash: new.secret_hash,
            account_id: owner.id,
            scopes: new.scopes,
            accounts: new.accounts,
            created_at: new.created_at,
            revoked_at: None,
        })
    }

    async fn get_client(&self, client_id: &str) -> StoreResult<Client> {
        sqlx::query_as::<_, ClientRow>(CLIENT_BY_KEY)
            .bind(id_key(client_id))
            .fetch_optional(&self.reader)
            .await
            .map_err(db("get client"))?
            .ok_or(StoreError::NotFound)?
            .into_client()
    }

    async fn list_clients(&self, account_id: &str) -> StoreResult<Vec<Client>> {
        let owner = account(&self.reader, account_id).await?;
        sqlx::query_as::<_, ClientRow>(CLIENTS_OF_ACCOUNT)
            .bind(owner.pk)
            .fetch_all(&self.reader)
            .await
            .map_err(db("list clients"))?
            .into_iter()
            .map(ClientRow::into_client)
            .collect()
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

    async fn insert_token(&self, new: NewAccessToken) -> StoreResult<()> {
        let scopes = strings_to_json(&new.scopes)?;
        let mut tx = self.write().await?;
        let inserted = bind_new_token(sqlx::query(INSERT_TOKEN), &new, scopes)
            .execute(&mut *tx)
            .await
            .map_err(db("insert token"))?
            .rows_affected();
        if inserted == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await.map_err(db("commit token"))
    }

    async fn find_token(&self, token_hash: &str, now: Millis) -> StoreResult<Option<AccessToken>> {
        let row = sqlx::query_as::<_, TokenRow>(FIND_TOKEN)
            .bind(token_hash)
            .bind(now)
            .fetch_optional(&self.reader)
            .await
            .map_err(db("find token"))?;
        row.map(TokenRow::into_token).transpose()
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

    /// Deletes the tokens that expired at or before `now`, in batches.
    async fn purge_expired_tokens(&self, now: Millis) -> StoreResult<u64> {
        let mut purged = 0;
        loop {
            let mut tx = self.write().await?;
            let deleted = sqlx::query(PURGE_TOKENS)
                .bind(now)
                .bind(PURGE_BATCH)
                .execute(&mut *tx)
                .await
                .map_err(db("purge expired tokens"))?
                .rows_affected();
            tx.commit().await.map_err(db("commit token purge"))?;
            purged += deleted;
            if deleted < PURGE_BATCH as u64 {
                return Ok(purged);
            }
        }
    }
}

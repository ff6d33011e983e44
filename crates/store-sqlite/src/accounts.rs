//! Accounts (the tenants every other object belongs to; never deleted), API clients and their
//! access tokens (API.md §2, §7): the shared operations of `store::account_rows` on the writer
//! (writes, one statement each) and the readers (`account_store!`), and the revocation and secret
//! swap, each one transaction here.

use store::{StoreError, StoreResult};

use crate::{account, db, id_key, now_millis, SqliteStore};

store::account_store!(
    SqliteStore,
    reads: reader,
    writes: writer,
    revoke_client: revoke_client_now,
    replace_client_secret_hash: swap_secret_hash
);

impl SqliteStore {
    /// Marks the client revoked (keeping the first revocation time) and deletes its tokens.
    async fn revoke_client_now(&self, account_id: &str, client_id: &str) -> StoreResult<()> {
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

    /// Swaps `client`'s secret hash for `new` only while it is still `old`.
    async fn swap_secret_hash(&self, client: &str, old: &str, new: &str) -> StoreResult<bool> {
        let mut tx = self.write().await?;
        let replaced = sqlx::query(
            "UPDATE clients SET secret_hash = ?3 WHERE id_key = ?1 AND secret_hash = ?2",
        )
        .bind(id_key(client))
        .bind(old)
        .bind(new)
        .execute(&mut *tx)
        .await
        .map_err(db("replace client secret hash"))?
        .rows_affected();
        if replaced == 0 {
            let exists: Option<i64> =
                sqlx::query_scalar("SELECT pk FROM clients WHERE id_key = ?1")
                    .bind(id_key(client))
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
}

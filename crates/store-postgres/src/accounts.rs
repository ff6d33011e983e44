//! Accounts (the tenants every other object belongs to; never deleted), API clients and their
//! access tokens (API.md §2, §7): the shared operations of `store::account_rows` on the pool
//! (`account_store!`), and the revocation and secret swap, one statement each here.

use store::{StoreError, StoreResult};

use crate::{db, id_key, now_millis, PgStore};

store::account_store!(
    PgStore,
    reads: pool,
    writes: pool,
    revoke_client: revoke_client_now,
    replace_client_secret_hash: swap_secret_hash
);

impl PgStore {
    /// One statement: marks the client revoked (keeping the first revocation time) and deletes its
    /// tokens. A token inserted concurrently is never found either: `find_token` checks the client.
    async fn revoke_client_now(&self, account_id: &str, client_id: &str) -> StoreResult<()> {
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

    /// Swaps `client`'s secret hash for `new` only while it is still `old`.
    async fn swap_secret_hash(&self, client: &str, old: &str, new: &str) -> StoreResult<bool> {
        // One statement: whether the client exists, and whether this call replaced its hash.
        let found: Option<bool> = sqlx::query_scalar(
            "WITH replaced AS ( \
                 UPDATE clients SET secret_hash = $3 WHERE id_key = $1 AND secret_hash = $2 \
                 RETURNING pk) \
             SELECT EXISTS (SELECT 1 FROM replaced) FROM clients WHERE id_key = $1",
        )
        .bind(id_key(client))
        .bind(old)
        .bind(new)
        .fetch_optional(&self.pool)
        .await
        .map_err(db("replace client secret hash"))?;
        found.ok_or(StoreError::NotFound)
    }
}

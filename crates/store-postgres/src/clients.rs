//! API clients and their access tokens (API.md §2, §7).

use store::{AccessToken, Client, Millis, NewAccessToken, NewClient, StoreError, StoreResult};

use crate::{account, db, id_key, now_millis, strings_from_json, strings_to_json, PgStore};

/// `SELECT` of a client row, followed by the given clauses.
macro_rules! select_client {
    ($($clauses:literal),+) => {
        concat!(
            "SELECT c.client_id, c.secret_hash, a.id AS account_id, c.scopes, c.acting_accounts, \
             c.created_at, c.revoked_at FROM clients c JOIN accounts a ON a.pk = c.account_pk ",
            $($clauses),+
        )
    };
}

#[derive(sqlx::FromRow)]
struct ClientRow {
    client_id: String,
    secret_hash: String,
    account_id: String,
    scopes: String,
    acting_accounts: String,
    created_at: i64,
    revoked_at: Option<i64>,
}

impl ClientRow {
    fn into_client(self) -> StoreResult<Client> {
        Ok(Client {
            scopes: strings_from_json(&self.scopes, "client scopes")?,
            accounts: strings_from_json(&self.acting_accounts, "client accounts")?,
            client_id: self.client_id,
            secret_hash: self.secret_hash,
            account_id: self.account_id,
            created_at: self.created_at,
            revoked_at: self.revoked_at,
        })
    }
}

/// Accounts are never deleted, so resolving the account first cannot race with anything.
pub(crate) async fn create(store: &PgStore, new: NewClient) -> StoreResult<Client> {
    let scopes = strings_to_json(&new.scopes)?;
    let acting_accounts = strings_to_json(&new.accounts)?;
    let owner = account(&store.pool, &new.account_id).await?;
    sqlx::query(
        "INSERT INTO clients (client_id, id_key, account_pk, secret_hash, scopes, \
         acting_accounts, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&new.client_id)
    .bind(id_key(&new.client_id))
    .bind(owner.pk)
    .bind(&new.secret_hash)
    .bind(scopes)
    .bind(acting_accounts)
    .bind(new.created_at)
    .execute(&store.pool)
    .await
    .map_err(db("insert client"))?;
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

pub(crate) async fn get(store: &PgStore, client_id: &str) -> StoreResult<Client> {
    sqlx::query_as::<_, ClientRow>(select_client!("WHERE c.id_key = $1"))
        .bind(id_key(client_id))
        .fetch_optional(&store.pool)
        .await
        .map_err(db("get client"))?
        .ok_or(StoreError::NotFound)?
        .into_client()
}

pub(crate) async fn list(store: &PgStore, account_id: &str) -> StoreResult<Vec<Client>> {
    let owner = account(&store.pool, account_id).await?;
    sqlx::query_as::<_, ClientRow>(select_client!("WHERE c.account_pk = $1 ORDER BY c.pk"))
        .bind(owner.pk)
        .fetch_all(&store.pool)
        .await
        .map_err(db("list clients"))?
        .into_iter()
        .map(ClientRow::into_client)
        .collect()
}

/// One statement: marks the client revoked (keeping the first revocation time) and deletes its
/// tokens. A token inserted concurrently is never found either: `find_token` checks the client.
pub(crate) async fn revoke(store: &PgStore, account_id: &str, client_id: &str) -> StoreResult<()> {
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
    .fetch_optional(&store.pool)
    .await
    .map_err(db("revoke client"))?;
    revoked.map(|_| ()).ok_or(StoreError::NotFound)
}

pub(crate) async fn insert_token(store: &PgStore, new: NewAccessToken) -> StoreResult<()> {
    let scopes = strings_to_json(&new.scopes)?;
    let inserted = sqlx::query(
        "INSERT INTO access_tokens (token_hash, client_pk, account_pk, scopes, created_at, \
         expires_at) \
         SELECT $1, c.pk, a.pk, $4, $5, $6 FROM clients c, accounts a \
         WHERE c.id_key = $2 AND a.id_key = $3",
    )
    .bind(&new.token_hash)
    .bind(id_key(&new.client_id))
    .bind(id_key(&new.account_id))
    .bind(scopes)
    .bind(new.created_at)
    .bind(new.expires_at)
    .execute(&store.pool)
    .await
    .map_err(db("insert token"))?
    .rows_affected();
    if inserted == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    client_id: String,
    account_id: String,
    scopes: String,
    expires_at: i64,
}

pub(crate) async fn find_token(
    store: &PgStore,
    token_hash: &str,
    now: Millis,
) -> StoreResult<Option<AccessToken>> {
    let row = sqlx::query_as::<_, TokenRow>(
        "SELECT c.client_id, a.id AS account_id, t.scopes, t.expires_at \
         FROM access_tokens t \
         JOIN clients c ON c.pk = t.client_pk \
         JOIN accounts a ON a.pk = t.account_pk \
         WHERE t.token_hash = $1 AND t.expires_at > $2 AND c.revoked_at IS NULL",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(&store.pool)
    .await
    .map_err(db("find token"))?;
    row.map(|row| {
        Ok(AccessToken {
            scopes: strings_from_json(&row.scopes, "token scopes")?,
            client_id: row.client_id,
            account_id: row.account_id,
            expires_at: row.expires_at,
        })
    })
    .transpose()
}

/// Swaps the client's secret hash for `new_hash` only while it is still `old_hash`.
pub(crate) async fn replace_secret_hash(
    store: &PgStore,
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
    .fetch_optional(&store.pool)
    .await
    .map_err(db("replace client secret hash"))?;
    found.ok_or(StoreError::NotFound)
}

/// Expired tokens are deleted this many at a time, so no statement runs for long.
const PURGE_BATCH: i64 = 10_000;

/// Deletes the tokens that expired at or before `now`, in batches.
pub(crate) async fn purge_expired_tokens(store: &PgStore, now: Millis) -> StoreResult<u64> {
    let mut purged = 0;
    loop {
        let deleted = sqlx::query(
            "DELETE FROM access_tokens WHERE token_hash IN \
             (SELECT token_hash FROM access_tokens WHERE expires_at <= $1 LIMIT $2)",
        )
        .bind(now)
        .bind(PURGE_BATCH)
        .execute(&store.pool)
        .await
        .map_err(db("purge expired tokens"))?
        .rows_affected();
        purged += deleted;
        if deleted < PURGE_BATCH as u64 {
            return Ok(purged);
        }
    }
}

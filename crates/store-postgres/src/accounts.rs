//! Accounts (the tenants every other object belongs to; never deleted), API clients and their
//! access tokens (API.md §2, §7).

use async_trait::async_trait;
use store::{
    AccessToken, Account, AccountStore, Client, Millis, NewAccessToken, NewAccount, NewClient,
    StoreError, StoreResult,
};

use crate::{account, db, id_key, now_millis, strings_from_json, strings_to_json, PgStore};

#[derive(sqlx::FromRow)]
struct AccountRow {
    id: String,
    name: String,
    created_at: i64,
}

impl From<AccountRow> for Account {
    fn from(row: AccountRow) -> Account {
        Account {
            id: row.id,
            name: row.name,
            created_at: row.created_at,
        }
    }
}

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

#[derive(sqlx::FromRow)]
struct TokenRow {
    client_id: String,
    account_id: String,
    scopes: String,
    expires_at: i64,
}

/// Expired tokens are deleted this many at a time, so no statement runs for long.
const PURGE_BATCH: i64 = 10_000;

#[async_trait]
impl AccountStore for PgStore {
    /// One statement; an ID equal ignoring case to an existing one violates `id_key`'s uniqueness.
    async fn create_account(&self, new: NewAccount) -> StoreResult<Account> {
        sqlx::query("INSERT INTO accounts (id, id_key, name, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&new.id)
            .bind(id_key(&new.id))
            .bind(&new.name)
            .bind(new.created_at)
            .execute(&self.pool)
            .await
            .map_err(db("insert account"))?;
        Ok(Account {
            id: new.id,
            name: new.name,
            created_at: new.created_at,
        })
    }

    async fn get_account(&self, id: &str) -> StoreResult<Account> {
        sqlx::query_as::<_, AccountRow>(
            "SELECT id, name, created_at FROM accounts WHERE id_key = $1",
        )
        .bind(id_key(id))
        .fetch_optional(&self.pool)
        .await
        .map_err(db("get account"))?
        .map(Account::from)
        .ok_or(StoreError::NotFound)
    }

    async fn list_accounts(&self) -> StoreResult<Vec<Account>> {
        let rows = sqlx::query_as::<_, AccountRow>(
            "SELECT id, name, created_at FROM accounts ORDER BY pk",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db("list accounts"))?;
        Ok(rows.into_iter().map(Account::from).collect())
    }

    /// Accounts are never deleted, so resolving the account first cannot race with anything.
    async fn create_client(&self, new: NewClient) -> StoreResult<Client> {
        let scopes = strings_to_json(&new.scopes)?;
        let acting_accounts = strings_to_json(&new.accounts)?;
        let owner = account(&self.pool, &new.account_id).await?;
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
        .execute(&self.pool)
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

    async fn get_client(&self, client_id: &str) -> StoreResult<Client> {
        sqlx::query_as::<_, ClientRow>(select_client!("WHERE c.id_key = $1"))
            .bind(id_key(client_id))
            .fetch_optional(&self.pool)
            .await
            .map_err(db("get client"))?
            .ok_or(StoreError::NotFound)?
            .into_client()
    }

    async fn list_clients(&self, account_id: &str) -> StoreResult<Vec<Client>> {
        let owner = account(&self.pool, account_id).await?;
        sqlx::query_as::<_, ClientRow>(select_client!("WHERE c.account_pk = $1 ORDER BY c.pk"))
            .bind(owner.pk)
            .fetch_all(&self.pool)
            .await
            .map_err(db("list clients"))?
            .into_iter()
            .map(ClientRow::into_client)
            .collect()
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

    async fn insert_token(&self, new: NewAccessToken) -> StoreResult<()> {
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
        .execute(&self.pool)
        .await
        .map_err(db("insert token"))?
        .rows_affected();
        if inserted == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn find_token(&self, token_hash: &str, now: Millis) -> StoreResult<Option<AccessToken>> {
        let row = sqlx::query_as::<_, TokenRow>(
            "SELECT c.client_id, a.id AS account_id, t.scopes, t.expires_at \
             FROM access_tokens t \
             JOIN clients c ON c.pk = t.client_pk \
             JOIN accounts a ON a.pk = t.account_pk \
             WHERE t.token_hash = $1 AND t.expires_at > $2 AND c.revoked_at IS NULL",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
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

    /// Deletes the tokens that expired at or before `now`, in batches.
    async fn purge_expired_tokens(&self, now: Millis) -> StoreResult<u64> {
        let mut purged = 0;
        loop {
            let deleted = sqlx::query(
                "DELETE FROM access_tokens WHERE token_hash IN \
                 (SELECT token_hash FROM access_tokens WHERE expires_at <= $1 LIMIT $2)",
            )
            .bind(now)
            .bind(PURGE_BATCH)
            .execute(&self.pool)
            .await
            .map_err(db("purge expired tokens"))?
            .rows_affected();
            purged += deleted;
            if deleted < PURGE_BATCH as u64 {
                return Ok(purged);
            }
        }
    }
}

//! What both backends share about accounts, clients and access tokens: the statements both
//! dialects read alike (written once, with `$N` parameters), the rows they read with their
//! mapping to [`Account`], [`Client`] and [`AccessToken`], and the operations that run them,
//! generic over the database ([`Sql`]). The revocation and the secret swap (one statement on
//! PostgreSQL, a transaction on SQLite) stay each backend's own.

use sqlx::{Executor, FromRow};

use crate::sql::{self, id_key, Arg, Sql};
use crate::{
    strings_from_json, strings_to_json, AccessToken, Account, Client, Millis, NewAccessToken,
    NewAccount, NewClient, StoreError, StoreResult,
};

/// An account's pk and canonical ID by its key (`$1`): read as an [`AccountRef`].
pub const ACCOUNT_REF_BY_KEY: &str = "SELECT pk, id FROM accounts WHERE id_key = $1";

/// Records a new account.
pub const INSERT_ACCOUNT: &str =
    "INSERT INTO accounts (id, id_key, name, created_at) VALUES ($1, $2, $3, $4)";

/// One account by its key (`$1`).
pub const ACCOUNT_BY_KEY: &str = "SELECT id, name, created_at FROM accounts WHERE id_key = $1";

/// Every account, oldest first.
pub const ALL_ACCOUNTS: &str = "SELECT id, name, created_at FROM accounts ORDER BY pk";

/// Records a new client of the account `$3` (its pk).
pub const INSERT_CLIENT: &str = "INSERT INTO clients (client_id, id_key, account_pk, \
     secret_hash, scopes, acting_accounts, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";

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

/// One client by its key (`$1`).
pub const CLIENT_BY_KEY: &str = select_client!("WHERE c.id_key = $1");

/// The clients of the account `$1` (its pk), oldest first.
pub const CLIENTS_OF_ACCOUNT: &str = select_client!("WHERE c.account_pk = $1 ORDER BY c.pk");

/// Records a new token of an existing client and account; no row
/// is inserted when either does not exist.
pub const INSERT_TOKEN: &str = "INSERT INTO access_tokens (token_hash, client_pk, account_pk, \
     scopes, created_at, expires_at) \
     SELECT $1, c.pk, a.pk, $4, $5, $6 FROM clients c, accounts a \
     WHERE c.id_key = $2 AND a.id_key = $3";

/// The unexpired token (`$1`: its hash, `$2`: now) of a client not revoked.
pub const FIND_TOKEN: &str = "SELECT c.client_id, a.id AS account_id, t.scopes, t.expires_at \
     FROM access_tokens t \
     JOIN clients c ON c.pk = t.client_pk \
     JOIN accounts a ON a.pk = t.account_pk \
     WHERE t.token_hash = $1 AND t.expires_at > $2 AND c.revoked_at IS NULL";

/// Deletes at most `$2` tokens expired at or before `$1`.
pub const PURGE_TOKENS: &str = "DELETE FROM access_tokens WHERE token_hash IN \
     (SELECT token_hash FROM access_tokens WHERE expires_at <= $1 LIMIT $2)";

/// The account's surrogate key and canonical ID, as [`ACCOUNT_REF_BY_KEY`] reads them.
#[derive(Debug, sqlx::FromRow)]
pub struct AccountRef {
    pub pk: i64,
    pub id: String,
}

/// An account as every account query reads it.
#[derive(sqlx::FromRow)]
pub struct AccountRow {
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

/// A client as [`CLIENT_BY_KEY`] and [`CLIENTS_OF_ACCOUNT`] read it.
#[derive(sqlx::FromRow)]
pub struct ClientRow {
    client_id: String,
    secret_hash: String,
    account_id: String,
    scopes: String,
    acting_accounts: String,
    created_at: i64,
    revoked_at: Option<i64>,
}

impl ClientRow {
    pub fn into_client(self) -> StoreResult<Client> {
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

/// A token as [`FIND_TOKEN`] reads it.
#[derive(sqlx::FromRow)]
pub struct TokenRow {
    client_id: String,
    account_id: String,
    scopes: String,
    expires_at: i64,
}

impl TokenRow {
    pub fn into_token(self) -> StoreResult<AccessToken> {
        Ok(AccessToken {
            scopes: strings_from_json(&self.scopes, "token scopes")?,
            client_id: self.client_id,
            account_id: self.account_id,
            expires_at: self.expires_at,
        })
    }
}

// ---- the operations both backends run alike ---------------------------------------------------

/// Expired tokens are deleted this many at a time, so no statement runs for long.
const PURGE_BATCH: i64 = 10_000;

/// Records a new account; an ID equal ignoring case to an existing one violates `id_key`'s
/// uniqueness (Conflict).
pub async fn create_account<'e, DB: Sql>(
    db: impl Executor<'e, Database = DB>,
    new: NewAccount,
) -> StoreResult<Account> {
    sqlx::query::<DB>(INSERT_ACCOUNT)
        .arg(new.id.as_str())
        .arg(id_key(&new.id))
        .arg(new.name.as_str())
        .arg(new.created_at)
        .execute(db)
        .await
        .map_err(sql::db("insert account"))?;
    Ok(Account {
        id: new.id,
        name: new.name,
        created_at: new.created_at,
    })
}

pub async fn get_account<'e, DB: Sql>(
    db: impl Executor<'e, Database = DB>,
    id: &str,
) -> StoreResult<Account>
where
    AccountRow: for<'r> FromRow<'r, DB::Row>,
{
    sqlx::query_as::<DB, AccountRow>(ACCOUNT_BY_KEY)
        .arg(id_key(id))
        .fetch_optional(db)
        .await
        .map_err(sql::db("get account"))?
        .map(Account::from)
        .ok_or(StoreError::NotFound)
}

pub async fn list_accounts<'e, DB: Sql>(
    db: impl Executor<'e, Database = DB>,
) -> StoreResult<Vec<Account>>
where
    AccountRow: for<'r> FromRow<'r, DB::Row>,
{
    let rows = sqlx::query_as::<DB, AccountRow>(ALL_ACCOUNTS)
        .fetch_all(db)
        .await
        .map_err(sql::db("list accounts"))?;
    Ok(rows.into_iter().map(Account::from).collect())
}

/// Records a new client of an existing account. Accounts are never deleted, so resolving the
/// account before the insert cannot race with anything.
pub async fn create_client<'e, DB, E>(db: E, new: NewClient) -> StoreResult<Client>
where
    DB: Sql,
    E: Executor<'e, Database = DB> + Copy,
    AccountRef: for<'r> FromRow<'r, DB::Row>,
{
    let scopes = strings_to_json(&new.scopes)?;
    let acting_accounts = strings_to_json(&new.accounts)?;
    let owner = sql::account(db, &new.account_id).await?;
    sqlx::query::<DB>(INSERT_CLIENT)
        .arg(new.client_id.as_str())
        .arg(id_key(&new.client_id))
        .arg(owner.pk)
        .arg(new.secret_hash.as_str())
        .arg(scopes)
        .arg(acting_accounts)
        .arg(new.created_at)
        .execute(db)
        .await
        .map_err(sql::db("insert client"))?;
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

pub async fn get_client<'e, DB: Sql>(
    db: impl Executor<'e, Database = DB>,
    client_id: &str,
) -> StoreResult<Client>
where
    ClientRow: for<'r> FromRow<'r, DB::Row>,
{
    sqlx::query_as::<DB, ClientRow>(CLIENT_BY_KEY)
        .arg(id_key(client_id))
        .fetch_optional(db)
        .await
        .map_err(sql::db("get client"))?
        .ok_or(StoreError::NotFound)?
        .into_client()
}

pub async fn list_clients<'e, DB, E>(db: E, account_id: &str) -> StoreResult<Vec<Client>>
where
    DB: Sql,
    E: Executor<'e, Database = DB> + Copy,
    AccountRef: for<'r> FromRow<'r, DB::Row>,
    ClientRow: for<'r> FromRow<'r, DB::Row>,
{
    let owner = sql::account(db, account_id).await?;
    sqlx::query_as::<DB, ClientRow>(CLIENTS_OF_ACCOUNT)
        .arg(owner.pk)
        .fetch_all(db)
        .await
        .map_err(sql::db("list clients"))?
        .into_iter()
        .map(ClientRow::into_client)
        .collect()
}

/// Records a token of an existing client and account; NotFound when either is missing.
pub async fn insert_token<'e, DB: Sql>(
    db: impl Executor<'e, Database = DB>,
    new: NewAccessToken,
) -> StoreResult<()> {
    let scopes = strings_to_json(&new.scopes)?;
    let inserted = sqlx::query::<DB>(INSERT_TOKEN)
        .arg(new.token_hash.as_str())
        .arg(id_key(&new.client_id))
        .arg(id_key(&new.account_id))
        .arg(scopes)
        .arg(new.created_at)
        .arg(new.expires_at)
        .execute(db)
        .await
        .map_err(sql::db("insert token"))
        .map(sql::affected::<DB>)?;
    if inserted == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub async fn find_token<'e, DB: Sql>(
    db: impl Executor<'e, Database = DB>,
    token_hash: &str,
    now: Millis,
) -> StoreResult<Option<AccessToken>>
where
    TokenRow: for<'r> FromRow<'r, DB::Row>,
{
    let row = sqlx::query_as::<DB, TokenRow>(FIND_TOKEN)
        .arg(token_hash)
        .arg(now)
        .fetch_optional(db)
        .await
        .map_err(sql::db("find token"))?;
    row.map(TokenRow::into_token).transpose()
}

/// Deletes the tokens that expired at or before `now`, `PURGE_BATCH` at a time (each batch a
/// statement of its own, so no statement runs for long).
pub async fn purge_expired_tokens<'e, DB, E>(db: E, now: Millis) -> StoreResult<u64>
where
    DB: Sql,
    E: Executor<'e, Database = DB> + Copy,
{
    let mut purged = 0;
    loop {
        let deleted = sqlx::query::<DB>(PURGE_TOKENS)
            .arg(now)
            .arg(PURGE_BATCH)
            .execute(db)
            .await
            .map_err(sql::db("purge expired tokens"))
            .map(sql::affected::<DB>)?;
        purged += deleted;
        if deleted < PURGE_BATCH as u64 {
            return Ok(purged);
        }
    }
}

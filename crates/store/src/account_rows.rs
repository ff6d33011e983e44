//! What both backends share about accounts, clients and access tokens: the statements both
//! dialects read alike (written once, with `$N` parameters), the binding of their parameters,
//! and the rows they read with their mapping to [`Account`], [`Client`] and [`AccessToken`].
//! Transactions, and the revocation and secret swap (one statement on PostgreSQL), stay each
//! backend's own.

use sqlx::{Database, Encode, Type};

use crate::{
    strings_from_json, AccessToken, Account, Client, NewAccessToken, NewAccount, NewClient,
    Statement, StoreResult,
};

/// An account's pk and canonical ID by its key (`$1`): read as an [`AccountRef`].
pub const ACCOUNT_REF_BY_KEY: &str = "SELECT pk, id FROM accounts WHERE id_key = $1";

/// Records a new account: bound by [`bind_new_account`].
pub const INSERT_ACCOUNT: &str =
    "INSERT INTO accounts (id, id_key, name, created_at) VALUES ($1, $2, $3, $4)";

/// One account by its key (`$1`).
pub const ACCOUNT_BY_KEY: &str = "SELECT id, name, created_at FROM accounts WHERE id_key = $1";

/// Every account, oldest first.
pub const ALL_ACCOUNTS: &str = "SELECT id, name, created_at FROM accounts ORDER BY pk";

/// Records a new client of the account `$3` (its pk): bound by [`bind_new_client`].
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

/// Records a new token of an existing client and account: bound by [`bind_new_token`]; no row
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

/// Binds [`INSERT_ACCOUNT`]'s parameters.
pub fn bind_new_account<'q, DB>(query: Statement<'q, DB>, new: &'q NewAccount) -> Statement<'q, DB>
where
    DB: Database,
    &'q str: Encode<'q, DB> + Type<DB>,
    String: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
{
    query
        .bind(new.id.as_str())
        .bind(new.id.to_ascii_lowercase())
        .bind(new.name.as_str())
        .bind(new.created_at)
}

/// Binds [`INSERT_CLIENT`]'s parameters: the owner's pk and the scopes and acting accounts
/// already encoded as JSON.
pub fn bind_new_client<'q, DB>(
    query: Statement<'q, DB>,
    new: &'q NewClient,
    account_pk: i64,
    scopes: String,
    acting_accounts: String,
) -> Statement<'q, DB>
where
    DB: Database,
    &'q str: Encode<'q, DB> + Type<DB>,
    String: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
{
    query
        .bind(new.client_id.as_str())
        .bind(new.client_id.to_ascii_lowercase())
        .bind(account_pk)
        .bind(new.secret_hash.as_str())
        .bind(scopes)
        .bind(acting_accounts)
        .bind(new.created_at)
}

/// Binds [`INSERT_TOKEN`]'s parameters, the scopes already encoded as JSON.
pub fn bind_new_token<'q, DB>(
    query: Statement<'q, DB>,
    new: &'q NewAccessToken,
    scopes: String,
) -> Statement<'q, DB>
where
    DB: Database,
    &'q str: Encode<'q, DB> + Type<DB>,
    String: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
{
    query
        .bind(new.token_hash.as_str())
        .bind(new.client_id.to_ascii_lowercase())
        .bind(new.account_id.to_ascii_lowercase())
        .bind(scopes)
        .bind(new.created_at)
        .bind(new.expires_at)
}

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

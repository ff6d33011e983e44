//! Accounts: the tenants every other object belongs to. Never deleted.

use store::{Account, NewAccount, StoreError, StoreResult};

use crate::{db, id_key, PgStore};

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

/// One statement; an ID equal ignoring case to an existing one violates `id_key`'s uniqueness.
pub(crate) async fn create(store: &PgStore, new: NewAccount) -> StoreResult<Account> {
    sqlx::query("INSERT INTO accounts (id, id_key, name, created_at) VALUES ($1, $2, $3, $4)")
        .bind(&new.id)
        .bind(id_key(&new.id))
        .bind(&new.name)
        .bind(new.created_at)
        .execute(&store.pool)
        .await
        .map_err(db("insert account"))?;
    Ok(Account {
        id: new.id,
        name: new.name,
        created_at: new.created_at,
    })
}

pub(crate) async fn get(store: &PgStore, id: &str) -> StoreResult<Account> {
    sqlx::query_as::<_, AccountRow>("SELECT id, name, created_at FROM accounts WHERE id_key = $1")
        .bind(id_key(id))
        .fetch_optional(&store.pool)
        .await
        .map_err(db("get account"))?
        .map(Account::from)
        .ok_or(StoreError::NotFound)
}

pub(crate) async fn list(store: &PgStore) -> StoreResult<Vec<Account>> {
    let rows =
        sqlx::query_as::<_, AccountRow>("SELECT id, name, created_at FROM accounts ORDER BY pk")
            .fetch_all(&store.pool)
            .await
            .map_err(db("list accounts"))?;
    Ok(rows.into_iter().map(Account::from).collect())
}

//! Accounts: the tenants every other object belongs to. Never deleted.

use store::{Account, NewAccount, StoreError, StoreResult};

use crate::{db, id_key, SqliteStore};

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

pub(crate) async fn create(store: &SqliteStore, new: NewAccount) -> StoreResult<Account> {
    let mut tx = store.write().await?;
    sqlx::query("INSERT INTO accounts (id, id_key, name, created_at) VALUES (?1, ?2, ?3, ?4)")
        .bind(&new.id)
        .bind(id_key(&new.id))
        .bind(&new.name)
        .bind(new.created_at)
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

pub(crate) async fn get(store: &SqliteStore, id: &str) -> StoreResult<Account> {
    sqlx::query_as::<_, AccountRow>("SELECT id, name, created_at FROM accounts WHERE id_key = ?1")
        .bind(id_key(id))
        .fetch_optional(&store.reader)
        .await
        .map_err(db("get account"))?
        .map(Account::from)
        .ok_or(StoreError::NotFound)
}

pub(crate) async fn list(store: &SqliteStore) -> StoreResult<Vec<Account>> {
    let rows =
        sqlx::query_as::<_, AccountRow>("SELECT id, name, created_at FROM accounts ORDER BY pk")
            .fetch_all(&store.reader)
            .await
            .map_err(db("list accounts"))?;
    Ok(rows.into_iter().map(Account::from).collect())
}

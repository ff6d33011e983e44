//! `tidings export` / `tidings import` on SQLite: every table, row by row, as JSON objects keyed by
//! column name (see `store::TableRow`). Table and column names come from the schema itself
//! (`sqlite_master`, `pragma_table_info`), so a table added by a later migration moves too.
//! The export of a table and the import's reading and checks are shared (`store::transfer`);
//! here: the schema queries, the storage classes, and the inserts, one row at a time.

use async_trait::async_trait;
use store::TransferStore;

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite, SqliteConnection};
use store::{
    bind_json, ensure_empty, export_table, import_rows, quoted, Cell, Loader, RowSink, RowSource,
    StoreError, StoreResult,
};

use crate::{db, SqliteStore};

/// Data tables, parents before children: creation order, then moved after every table their
/// foreign keys name.
pub(crate) async fn tables(conn: &mut SqliteConnection) -> StoreResult<Vec<String>> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_sqlx\\_%' ESCAPE '\\' \
         ORDER BY rowid",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(db("list tables"))?;
    let mut parents: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for name in &names {
        let referenced: Vec<String> =
            sqlx::query_scalar("SELECT DISTINCT \"table\" FROM pragma_foreign_key_list(?1)")
                .bind(name)
                .fetch_all(&mut *conn)
                .await
                .map_err(db("list foreign keys"))?;
        parents.insert(
            name.clone(),
            referenced.into_iter().filter(|p| p != name).collect(),
        );
    }
    Ok(store::parents_first(&names, &parents))
}

/// The column names of a table and its primary key columns, in key order.
async fn columns(
    conn: &mut SqliteConnection,
    table: &str,
) -> StoreResult<(Vec<String>, Vec<String>)> {
    let rows: Vec<(String, i64)> = sqlx::query_as("SELECT name, pk FROM pragma_table_info(?1)")
        .bind(table)
        .fetch_all(&mut *conn)
        .await
        .map_err(db("read table columns"))?;
    let mut key: Vec<(i64, String)> = rows
        .iter()
        .filter(|(_, pk)| *pk > 0)
        .map(|(name, pk)| (*pk, name.clone()))
        .collect();
    key.sort();
    let columns = rows.into_iter().map(|(name, _)| name).collect();
    Ok((columns, key.into_iter().map(|(_, n)| n).collect()))
}

/// A non-null value of column `i`, by SQLite's storage class: `None` for one export does not
/// carry (a blob).
fn cell(row: &SqliteRow, i: usize, kind: &str) -> StoreResult<Option<Cell>> {
    Ok(Some(match kind {
        "INTEGER" => Cell::Int(row.try_get::<i64, _>(i).map_err(db("read an integer"))?),
        "REAL" => Cell::Real(row.try_get::<f64, _>(i).map_err(db("read a real"))?),
        "TEXT" => Cell::Text(row.try_get::<String, _>(i).map_err(db("read text"))?),
        _ => return Ok(None),
    }))
}

/// Loads an import's rows one at a time, with one statement text per table and column list:
/// rows of a table share it, so it is built (and prepared by sqlx) once, not per row.
struct LiteLoader<'t> {
    conn: &'t mut SqliteConnection,
    statements: HashMap<String, String>,
}

impl Loader for LiteLoader<'_> {
    async fn columns(&mut self, table: &str) -> StoreResult<Vec<String>> {
        Ok(columns(self.conn, table).await?.0)
    }

    async fn load(&mut self, table: String, row: Map<String, Value>) -> StoreResult<u64> {
        let shape = format!(
            "{table}\u{1f}{}",
            row.keys().cloned().collect::<Vec<_>>().join("\u{1f}")
        );
        let sql = self.statements.entry(shape).or_insert_with(|| {
            let names: Vec<String> = row.keys().map(|c| quoted(c)).collect();
            let params: Vec<String> = (1..=row.len()).map(|i| format!("?{i}")).collect();
            format!(
                "INSERT INTO {} ({}) VALUES ({})",
                quoted(&table),
                names.join(", "),
                params.join(", ")
            )
        });
        let mut query = sqlx::query(sql.as_str());
        for (column, value) in row {
            query = bind_json(query, &table, &column, value)?;
        }
        query
            .execute(&mut *self.conn)
            .await
            .map_err(|e| StoreError::Other(format!("loading a row of {table}: {e}")))?;
        Ok(1)
    }

    async fn flush(&mut self) -> StoreResult<u64> {
        Ok(0)
    }
}

#[async_trait]
impl TransferStore for SqliteStore {
    async fn tables(&self) -> StoreResult<Vec<String>> {
        let mut conn = self.reader.acquire().await.map_err(db("list tables"))?;
        tables(&mut conn).await
    }

    async fn export(&self, sink: RowSink) -> StoreResult<u64> {
        // One read transaction: a WAL snapshot of every table at once.
        let mut tx = self.reader.begin().await.map_err(db("begin export"))?;
        let mut sent = 0u64;
        for table in tables(&mut tx).await? {
            let (_, key) = columns(&mut tx, &table).await?;
            sent += export_table::<Sqlite>(&mut tx, &table, &key, "rowid", &sink, cell).await?;
        }
        tx.commit().await.map_err(db("end export"))?;
        Ok(sent)
    }

    async fn import(&self, mut source: RowSource) -> StoreResult<u64> {
        let mut tx = self.write().await?;
        // Rows arrive parents first; deferring the checks to commit also admits any order.
        sqlx::query("PRAGMA defer_foreign_keys = ON")
            .execute(&mut *tx)
            .await
            .map_err(db("defer foreign keys"))?;
        let names = tables(&mut tx).await?;
        ensure_empty::<Sqlite>(&mut tx, &names).await?;
        // The rows are loaded as they were: the schema's triggers (which derive rows, such as
        // transactional events, from changes) must not fire for them. SQLite cannot disable a
        // trigger, so each is dropped for the load and made again, in the same transaction.
        let triggers: Vec<(String, String)> = sqlx::query_as(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND sql IS NOT NULL",
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(db("list triggers"))?;
        for (name, _) in &triggers {
            sqlx::query(&format!("DROP TRIGGER {}", quoted(name)))
                .execute(&mut *tx)
                .await
                .map_err(db("suspend a trigger"))?;
        }
        let mut loader = LiteLoader {
            conn: &mut tx,
            statements: HashMap::new(),
        };
        let loaded = import_rows(&mut loader, &names, &mut source).await?;
        for (_, sql) in &triggers {
            sqlx::query(sql)
                .execute(&mut *tx)
                .await
                .map_err(db("restore a trigger"))?;
        }
        tx.commit().await.map_err(db("commit the import"))?;
        Ok(loaded)
    }
}

//! `tidings export` / `tidings import` on SQLite: every table, row by row, as JSON objects keyed by
//! column name (see `store::TableRow`). Table and column names come from the schema itself
//! (`sqlite_master`, `pragma_table_info`), so a table added by a later migration moves too.

use async_trait::async_trait;
use store::TransferStore;

use std::collections::{BTreeMap, HashMap};

use futures::TryStreamExt;
use serde_json::{Map, Number, Value};
use sqlx::sqlite::SqliteRow;
use sqlx::{Column, Row, SqliteConnection, TypeInfo, ValueRef};
use store::{ImportItem, RowSink, RowSource, StoreError, StoreResult, TableRow};

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

/// The columns of a table (name → declared type) and its primary key columns, in key order.
async fn columns(
    conn: &mut SqliteConnection,
    table: &str,
) -> StoreResult<(HashMap<String, String>, Vec<String>)> {
    let rows: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT name, type, pk FROM pragma_table_info(?1)")
            .bind(table)
            .fetch_all(&mut *conn)
            .await
            .map_err(db("read table columns"))?;
    let mut key: Vec<(i64, String)> = rows
        .iter()
        .filter(|(_, _, pk)| *pk > 0)
        .map(|(name, _, pk)| (*pk, name.clone()))
        .collect();
    key.sort();
    let columns = rows
        .into_iter()
        .map(|(name, kind, _)| (name, kind))
        .collect();
    Ok((columns, key.into_iter().map(|(_, n)| n).collect()))
}

/// `"name"` with embedded quotes doubled. Only ever applied to names read from the schema.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn to_json(row: &SqliteRow) -> StoreResult<Map<String, Value>> {
    let mut out = Map::new();
    for (i, column) in row.columns().iter().enumerate() {
        let raw = row.try_get_raw(i).map_err(db("read a column"))?;
        let value = if raw.is_null() {
            Value::Null
        } else {
            let kind = raw.type_info().name().to_string();
            match kind.as_str() {
                "INTEGER" => Value::from(row.try_get::<i64, _>(i).map_err(db("read an integer"))?),
                "REAL" => {
                    let f = row.try_get::<f64, _>(i).map_err(db("read a real"))?;
                    Number::from_f64(f).map(Value::Number).ok_or_else(|| {
                        StoreError::Other(format!("column {} holds {f}", column.name()))
                    })?
                }
                "TEXT" => Value::from(row.try_get::<String, _>(i).map_err(db("read text"))?),
                other => {
                    return Err(StoreError::Other(format!(
                        "column {} holds a value of type {other}, which export does not carry",
                        column.name()
                    )))
                }
            }
        };
        out.insert(column.name().to_string(), value);
    }
    Ok(out)
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
        let names = tables(&mut tx).await?;
        let mut sent = 0u64;
        for table in names {
            let (_, key) = columns(&mut tx, &table).await?;
            let order = if key.is_empty() {
                "rowid".to_string()
            } else {
                key.iter().map(|k| quoted(k)).collect::<Vec<_>>().join(", ")
            };
            let sql = format!("SELECT * FROM {} ORDER BY {order}", quoted(&table));
            let mut rows = sqlx::query(&sql).fetch(&mut *tx);
            while let Some(row) = rows.try_next().await.map_err(db("export rows"))? {
                let row = to_json(&row)?;
                sink.send(TableRow {
                    table: table.clone(),
                    row,
                })
                .await
                .map_err(|_| StoreError::Other("export stopped: its writer went away".into()))?;
                sent += 1;
            }
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
        for table in &names {
            let sql = format!("SELECT EXISTS (SELECT 1 FROM {})", quoted(table));
            let occupied: bool = sqlx::query_scalar(&sql)
                .fetch_one(&mut *tx)
                .await
                .map_err(db("check the database is empty"))?;
            if occupied {
                return Err(StoreError::Conflict(format!(
                    "the database already holds data (table {table}); import needs an empty one"
                )));
            }
        }
        let mut schema: HashMap<String, HashMap<String, String>> = HashMap::new();
        let mut statements: HashMap<String, String> = HashMap::new();
        let mut loaded = 0u64;
        let expected = loop {
            let Some(item) = source.recv().await else {
                return Err(StoreError::Other(
                    "the export ended before its end mark: nothing was imported".into(),
                ));
            };
            let TableRow { table, row } = match item {
                ImportItem::Row(row) => row,
                ImportItem::End { rows } => break rows,
            };
            if !names.contains(&table) {
                return Err(StoreError::Other(format!(
                    "the export has a table {table:?} this database does not have"
                )));
            }
            if !schema.contains_key(&table) {
                let (cols, _) = columns(&mut tx, &table).await?;
                schema.insert(table.clone(), cols);
            }
            let known = schema.get(&table).ok_or(StoreError::NotFound)?;
            if let Some(unknown) = row.keys().find(|c| !known.contains_key(*c)) {
                return Err(StoreError::Other(format!(
                    "the export has a column {table}.{unknown} this database does not have"
                )));
            }
            // One statement text per table and column list: rows of a table share it, so it is
            // built (and prepared by sqlx) once, not per row.
            let shape = format!(
                "{table}\u{1f}{}",
                row.keys().cloned().collect::<Vec<_>>().join("\u{1f}")
            );
            let sql = statements.entry(shape).or_insert_with(|| {
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
                query = match value {
                    Value::Null => query.bind(None::<String>),
                    Value::Bool(b) => query.bind(i64::from(b)),
                    Value::Number(n) => match n.as_i64() {
                        Some(i) => query.bind(i),
                        None => query.bind(n.as_f64().ok_or_else(|| {
                            StoreError::Other(format!("{table}.{column}: number {n} out of range"))
                        })?),
                    },
                    Value::String(s) => query.bind(s),
                    Value::Array(_) | Value::Object(_) => {
                        return Err(StoreError::Other(format!(
                            "{table}.{column}: a value must be a number, a string or null"
                        )))
                    }
                };
            }
            query
                .execute(&mut *tx)
                .await
                .map_err(|e| StoreError::Other(format!("loading a row of {table}: {e}")))?;
            loaded += 1;
        };
        if expected != loaded {
            return Err(StoreError::Other(format!(
                "the export says it holds {expected} rows but {loaded} arrived: nothing was imported"
            )));
        }
        tx.commit().await.map_err(db("commit the import"))?;
        Ok(loaded)
    }
}

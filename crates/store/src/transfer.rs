//! Moving an installation between backends (`tidings export` / `tidings import`): every table of
//! the schema, row by row, as JSON objects keyed by column name. Both backends use the same table
//! and column names, so a row exported from one loads into the other.
//!
//! Shared: the order of the tables ([`parents_first`]), the export of a table ([`export_table`],
//! with [`row_to_json`]), the import's reading of the rows and its checks ([`ensure_empty`],
//! [`import_rows`]) and the binding of a JSON value ([`bind_json`]). Each backend keeps its
//! catalog queries, the driver's type names ([`Cell`]), its transactions and how it inserts
//! (a [`Loader`]: PostgreSQL batches rows with a cast per value and moves identity sequences,
//! SQLite inserts row by row).

use std::collections::{HashMap, HashSet};
use std::future::Future;

use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};
use sqlx::{Column, ColumnIndex, Encode, Executor, FromRow, Row, Type, TypeInfo, ValueRef};

use crate::sql::{self, Arg, Sql};
use crate::{Statement, StoreError, StoreResult};

/// One row of one table. Values are JSON scalars: integers, floats, strings and null.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableRow {
    pub table: String,
    pub row: serde_json::Map<String, serde_json::Value>,
}

/// Where an export writes its rows (bounded, so a slow writer holds the database reader back
/// instead of buffering the installation in memory).
pub type RowSink = tokio::sync::mpsc::Sender<TableRow>;
/// What an import reads: rows, then the end mark with the number of rows the export sent. An
/// import commits only when it has read the end mark and loaded exactly that many rows, so a
/// truncated or unreadable file loads nothing.
#[derive(Debug, Clone, PartialEq)]
pub enum ImportItem {
    Row(TableRow),
    End { rows: u64 },
}

/// Where an import reads its rows from.
pub type RowSource = tokio::sync::mpsc::Receiver<ImportItem>;

/// Orders `names` so that every table comes after the tables it references, keeping the given
/// order otherwise. A reference cycle (none exists) keeps the remaining tables in given order.
pub fn parents_first(
    names: &[String],
    parents: &std::collections::BTreeMap<String, Vec<String>>,
) -> Vec<String> {
    let mut placed: Vec<String> = Vec::with_capacity(names.len());
    let mut pending: Vec<String> = names.to_vec();
    while !pending.is_empty() {
        let ready = pending.iter().position(|t| {
            parents
                .get(t)
                .is_none_or(|ps| ps.iter().all(|p| placed.contains(p) || !names.contains(p)))
        });
        let next = pending.remove(ready.unwrap_or(0));
        placed.push(next);
    }
    placed
}

/// `"name"` with embedded quotes doubled. Only ever applied to names read from the schema (the
/// catalog) or checked against it.
pub fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A column's value as an export carries it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Int(i64),
    Real(f64),
    Text(String),
}

/// A row as a JSON object keyed by column name. `cell` reads the non-null value of column `i`
/// whose driver type is named `kind`: `None` for a type an export does not carry.
pub fn row_to_json<R: Row>(
    row: &R,
    cell: impl Fn(&R, usize, &str) -> StoreResult<Option<Cell>>,
) -> StoreResult<Map<String, Value>>
where
    usize: ColumnIndex<R>,
{
    let mut out = Map::new();
    for (i, column) in row.columns().iter().enumerate() {
        let raw = row.try_get_raw(i).map_err(sql::db("read a column"))?;
        let value = if raw.is_null() {
            Value::Null
        } else {
            let kind = raw.type_info().name().to_string();
            match cell(row, i, &kind)? {
                Some(Cell::Int(n)) => Value::from(n),
                Some(Cell::Real(f)) => Number::from_f64(f).map(Value::Number).ok_or_else(|| {
                    StoreError::Other(format!("column {} holds {f}", column.name()))
                })?,
                Some(Cell::Text(text)) => Value::from(text),
                None => {
                    return Err(StoreError::Other(format!(
                        "column {} holds a value of type {kind}, which export does not carry",
                        column.name()
                    )))
                }
            }
        };
        out.insert(column.name().to_string(), value);
    }
    Ok(out)
}

/// Sends every row of `table` to `sink`, ordered by its primary key `key` (by `fallback`, the
/// row's physical address, when it has none): how many.
pub async fn export_table<DB: Sql>(
    conn: &mut DB::Connection,
    table: &str,
    key: &[String],
    fallback: &str,
    sink: &RowSink,
    cell: impl Fn(&DB::Row, usize, &str) -> StoreResult<Option<Cell>>,
) -> StoreResult<u64>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    usize: ColumnIndex<DB::Row>,
{
    let order = if key.is_empty() {
        fallback.to_string()
    } else {
        key.iter().map(|k| quoted(k)).collect::<Vec<_>>().join(", ")
    };
    let sql = format!("SELECT * FROM {} ORDER BY {order}", quoted(table));
    let mut rows = sqlx::query::<DB>(&sql).fetch(&mut *conn);
    let mut sent = 0u64;
    while let Some(row) = rows.try_next().await.map_err(sql::db("export rows"))? {
        let row = row_to_json(&row, &cell)?;
        sink.send(TableRow {
            table: table.to_string(),
            row,
        })
        .await
        .map_err(|_| StoreError::Other("export stopped: its writer went away".into()))?;
        sent += 1;
    }
    Ok(sent)
}

/// Conflict unless every table of `names` is empty: an import needs an empty database.
pub async fn ensure_empty<DB: Sql>(conn: &mut DB::Connection, names: &[String]) -> StoreResult<()>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    (bool,): for<'r> FromRow<'r, DB::Row>,
{
    for table in names {
        let sql = format!("SELECT EXISTS (SELECT 1 FROM {})", quoted(table));
        let occupied: bool = sqlx::query_scalar::<DB, bool>(&sql)
            .fetch_one(&mut *conn)
            .await
            .map_err(sql::db("check the database is empty"))?;
        if occupied {
            return Err(StoreError::Conflict(format!(
                "the database already holds data (table {table}); import needs an empty one"
            )));
        }
    }
    Ok(())
}

/// How a backend writes the rows of an import, inside its transaction.
pub trait Loader: std::marker::Send {
    /// The column names `table` has in this database (asked once per table).
    fn columns(&mut self, table: &str) -> impl Future<Output = StoreResult<Vec<String>>> + Send;
    /// Loads a row of `table` whose columns were checked (it may wait in a batch): how many
    /// rows went into the database now.
    fn load(
        &mut self,
        table: String,
        row: Map<String, Value>,
    ) -> impl Future<Output = StoreResult<u64>> + Send;
    /// Loads the rows still waiting: how many.
    fn flush(&mut self) -> impl Future<Output = StoreResult<u64>> + Send;
}

/// Reads an import's rows from `source` into `loader`: every row must name a table of `names`
/// and columns that table has, and the end mark must come, with the number of rows loaded.
/// How many rows were loaded; on any error the caller's transaction is not committed.
pub async fn import_rows<L: Loader>(
    loader: &mut L,
    names: &[String],
    source: &mut RowSource,
) -> StoreResult<u64> {
    let mut schema: HashMap<String, HashSet<String>> = HashMap::new();
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
            let columns = loader.columns(&table).await?;
            schema.insert(table.clone(), columns.into_iter().collect());
        }
        let known = schema.get(&table).ok_or(StoreError::NotFound)?;
        if let Some(unknown) = row.keys().find(|c| !known.contains(*c)) {
            return Err(StoreError::Other(format!(
                "the export has a column {table}.{unknown} this database does not have"
            )));
        }
        loaded += loader.load(table, row).await?;
    };
    loaded += loader.flush().await?;
    if expected != loaded {
        return Err(StoreError::Other(format!(
            "the export says it holds {expected} rows but {loaded} arrived: nothing was imported"
        )));
    }
    Ok(loaded)
}

/// Binds an imported value of `table.column`: null, an integer (a flag as 0 or 1), a real or
/// text; an array or an object is an error.
pub fn bind_json<'q, DB: Sql>(
    query: Statement<'q, DB>,
    table: &str,
    column: &str,
    value: Value,
) -> StoreResult<Statement<'q, DB>>
where
    f64: Encode<'q, DB> + Type<DB>,
{
    Ok(match value {
        Value::Null => query.arg(None::<String>),
        Value::Bool(b) => query.arg(i64::from(b)),
        Value::Number(n) => match n.as_i64() {
            Some(i) => query.arg(i),
            None => query.bind(n.as_f64().ok_or_else(|| {
                StoreError::Other(format!("{table}.{column}: number {n} out of range"))
            })?),
        },
        Value::String(s) => query.arg(s),
        Value::Array(_) | Value::Object(_) => {
            return Err(StoreError::Other(format!(
                "{table}.{column}: a value must be a number, a string or null"
            )))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn parents_come_first() {
        let names: Vec<String> = ["b", "a", "c"].iter().map(|s| s.to_string()).collect();
        let mut parents = BTreeMap::new();
        parents.insert("b".to_string(), vec!["c".to_string()]);
        parents.insert("a".to_string(), vec![]);
        parents.insert("c".to_string(), vec!["a".to_string()]);
        assert_eq!(parents_first(&names, &parents), vec!["a", "c", "b"]);
    }
}

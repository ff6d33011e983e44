//! `tidings export` / `tidings import` on PostgreSQL: every table, row by row, as JSON objects
//! keyed by column name (see `store::TableRow`). Table and column names come from the catalog,
//! so a table added by a later migration moves too. The tables and columns are those of the
//! SQLite backend, so rows move between the two. The export of a table and the import's reading
//! and checks are shared (`store::transfer`); here: the catalog, the type names, the lifted
//! timeouts, batched inserts with casts, and the identity sequences.

use async_trait::async_trait;
use store::TransferStore;

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Postgres, Row, Transaction};
use store::{
    bind_json, ensure_empty, export_table, import_rows, quoted, Cell, Loader, RowSink, RowSource,
    StoreError, StoreResult,
};

use crate::{db, settle, Ending, PgStore};

/// Rows per multi-row `INSERT` of an import.
const IMPORT_BATCH: usize = 500;

/// Data tables of the current schema, parents before children: creation order, then moved
/// after every table their foreign keys name. Migration bookkeeping is left out.
pub(crate) async fn tables(conn: &mut PgConnection) -> StoreResult<Vec<String>> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') \
         AND c.relname NOT LIKE '\\_sqlx\\_%' ORDER BY c.oid",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(db("list tables"))?;
    let references: Vec<(String, String)> = sqlx::query_as(
        "SELECT DISTINCT child.relname::text, parent.relname::text FROM pg_constraint k \
         JOIN pg_class child ON child.oid = k.conrelid \
         JOIN pg_class parent ON parent.oid = k.confrelid \
         JOIN pg_namespace n ON n.oid = child.relnamespace \
         WHERE k.contype = 'f' AND n.nspname = current_schema()",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(db("list foreign keys"))?;
    let mut parents: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (child, parent) in references {
        if child != parent {
            parents.entry(child).or_default().push(parent);
        }
    }
    Ok(store::parents_first(&names, &parents))
}

/// One column of a table as the catalog describes it.
struct ColumnInfo {
    /// The SQL type (`bigint`, `text`, ...), for casting parameters.
    sql_type: String,
    /// An identity column, whose sequence must move past imported values.
    identity: bool,
}

async fn columns(
    conn: &mut PgConnection,
    table: &str,
) -> StoreResult<(BTreeMap<String, ColumnInfo>, Vec<String>)> {
    let rows: Vec<(String, String, bool)> = sqlx::query_as(
        "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), a.attidentity <> '' \
         FROM pg_attribute a WHERE a.attrelid = to_regclass(quote_ident($1)) \
         AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
    )
    .bind(table)
    .fetch_all(&mut *conn)
    .await
    .map_err(db("read table columns"))?;
    let key: Vec<String> = sqlx::query_scalar(
        "SELECT a.attname::text FROM pg_index i \
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) \
         WHERE i.indrelid = to_regclass(quote_ident($1)) AND i.indisprimary \
         ORDER BY array_position(i.indkey::int2[], a.attnum)",
    )
    .bind(table)
    .fetch_all(&mut *conn)
    .await
    .map_err(db("read primary key"))?;
    let columns = rows
        .into_iter()
        .map(|(name, sql_type, identity)| (name, ColumnInfo { sql_type, identity }))
        .collect();
    Ok((columns, key))
}

/// A non-null value of column `i`, by PostgreSQL's type name: `None` for a type export does not
/// carry.
fn cell(row: &PgRow, i: usize, kind: &str) -> StoreResult<Option<Cell>> {
    let int = |e| db("read an integer")(e);
    Ok(Some(match kind {
        "INT2" => Cell::Int(row.try_get::<i16, _>(i).map_err(int)?.into()),
        "INT4" => Cell::Int(row.try_get::<i32, _>(i).map_err(int)?.into()),
        "INT8" => Cell::Int(row.try_get::<i64, _>(i).map_err(int)?),
        "BOOL" => Cell::Int(row.try_get::<bool, _>(i).map_err(db("read a flag"))?.into()),
        "FLOAT4" | "FLOAT8" => Cell::Real(row.try_get::<f64, _>(i).map_err(db("read a real"))?),
        "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" => {
            Cell::Text(row.try_get::<String, _>(i).map_err(db("read text"))?)
        }
        _ => return Ok(None),
    }))
}

#[async_trait]
impl TransferStore for PgStore {
    async fn tables(&self) -> StoreResult<Vec<String>> {
        let mut conn = self.pool.acquire().await.map_err(db("list tables"))?;
        tables(&mut conn).await
    }

    /// One read-only repeatable-read transaction: a snapshot of every table at once. Neither the
    /// statement timeout nor the idle-transaction timeout applies: a large table streams for long,
    /// and a slow writer keeps the transaction waiting.
    async fn export(&self, sink: RowSink) -> StoreResult<u64> {
        let mut tx = self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await
            .map_err(db("begin export"))?;
        let work = export_in(&mut tx, sink).await;
        settle(tx, work, "end export").await
    }

    /// One transaction, committed only at the end mark with the right count. Rows of one table and
    /// column set are inserted `IMPORT_BATCH` at a time, each value cast to its column's type (a
    /// value of the wrong kind fails the import). Identity sequences then move past the imported
    /// keys, so rows created afterwards get fresh ones.
    async fn import(&self, source: RowSource) -> StoreResult<u64> {
        let mut tx = self.begin().await?;
        let work = import_in(&mut tx, source).await;
        settle(tx, work, "commit the import").await
    }
}

/// Neither the statement timeout nor the idle-transaction timeout applies to an export or an
/// import: a large table streams for long, and a slow writer or reader keeps the transaction
/// waiting.
async fn lift_timeouts(tx: &mut Transaction<'static, Postgres>) -> StoreResult<()> {
    sqlx::query("SET LOCAL statement_timeout = 0")
        .execute(&mut **tx)
        .await
        .map_err(db("lift the statement timeout"))?;
    sqlx::query("SET LOCAL idle_in_transaction_session_timeout = 0")
        .execute(&mut **tx)
        .await
        .map_err(db("lift the idle timeout"))?;
    Ok(())
}

async fn export_in(
    tx: &mut Transaction<'static, Postgres>,
    sink: RowSink,
) -> StoreResult<Ending<u64>> {
    lift_timeouts(tx).await?;
    let mut sent = 0u64;
    for table in tables(tx).await? {
        let (_, key) = columns(tx, &table).await?;
        sent += export_table::<Postgres>(tx, &table, &key, "ctid", &sink, cell).await?;
    }
    Ok(Ending::Commit(sent))
}

/// Rows of one table with one set of columns, waiting to be inserted together.
struct Pending {
    table: String,
    columns: Vec<String>,
    rows: Vec<Map<String, Value>>,
}

/// Loads an import's rows `IMPORT_BATCH` at a time, keeping the columns' types for the casts
/// and to find the identity columns.
struct PgLoader<'t> {
    conn: &'t mut PgConnection,
    schema: HashMap<String, BTreeMap<String, ColumnInfo>>,
    pending: Option<Pending>,
}

impl Loader for PgLoader<'_> {
    async fn columns(&mut self, table: &str) -> StoreResult<Vec<String>> {
        let (cols, _) = columns(self.conn, table).await?;
        let names = cols.keys().cloned().collect();
        self.schema.insert(table.to_string(), cols);
        Ok(names)
    }

    async fn load(&mut self, table: String, row: Map<String, Value>) -> StoreResult<u64> {
        let mut loaded = 0;
        let columns: Vec<String> = row.keys().cloned().collect();
        let same = self
            .pending
            .as_ref()
            .is_some_and(|p| p.table == table && p.columns == columns);
        if !same {
            if let Some(batch) = self.pending.take() {
                loaded += insert(self.conn, &self.schema, batch).await?;
            }
            self.pending = Some(Pending {
                table,
                columns,
                rows: Vec::new(),
            });
        }
        if let Some(batch) = self.pending.as_mut() {
            batch.rows.push(row);
            if batch.rows.len() >= IMPORT_BATCH {
                let full = Pending {
                    table: batch.table.clone(),
                    columns: batch.columns.clone(),
                    rows: std::mem::take(&mut batch.rows),
                };
                loaded += insert(self.conn, &self.schema, full).await?;
            }
        }
        Ok(loaded)
    }

    async fn flush(&mut self) -> StoreResult<u64> {
        match self.pending.take() {
            Some(batch) => insert(self.conn, &self.schema, batch).await,
            None => Ok(0),
        }
    }
}

async fn import_in(
    tx: &mut Transaction<'static, Postgres>,
    mut source: RowSource,
) -> StoreResult<Ending<u64>> {
    lift_timeouts(tx).await?;
    let names = tables(tx).await?;
    ensure_empty::<Postgres>(tx, &names).await?;
    // The rows are loaded as they were: the schema's own triggers (which derive rows, such as
    // transactional events, from changes) must not fire for them. Disabled for the load, in
    // this transaction (the database user owns the tables it migrated).
    let triggers: Vec<(String, String)> = sqlx::query_as(
        "SELECT c.relname::text, t.tgname::text FROM pg_trigger t \
         JOIN pg_class c ON c.oid = t.tgrelid \
         WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace",
    )
    .fetch_all(&mut **tx)
    .await
    .map_err(db("list triggers"))?;
    let toggle = |enable: bool| {
        triggers
            .iter()
            .map(move |(table, trigger)| {
                format!(
                    "ALTER TABLE {} {} TRIGGER {}",
                    quoted(table),
                    if enable { "ENABLE" } else { "DISABLE" },
                    quoted(trigger)
                )
            })
            .collect::<Vec<_>>()
    };
    for sql in toggle(false) {
        sqlx::query(&sql)
            .execute(&mut **tx)
            .await
            .map_err(db("suspend a trigger"))?;
    }
    let mut loader = PgLoader {
        conn: tx,
        schema: HashMap::new(),
        pending: None,
    };
    let loaded = import_rows(&mut loader, &names, &mut source).await?;
    let schema = loader.schema;
    for sql in toggle(true) {
        sqlx::query(&sql)
            .execute(&mut **tx)
            .await
            .map_err(db("restore a trigger"))?;
    }
    for table in &names {
        let identity: Vec<String> = match schema.get(table) {
            Some(cols) => cols
                .iter()
                .filter(|(_, c)| c.identity)
                .map(|(n, _)| n.clone())
                .collect(),
            None => continue,
        };
        for column in identity {
            let sql = format!(
                "SELECT setval(pg_get_serial_sequence($1, $2), \
                 (SELECT COALESCE(max({}), 0) + 1 FROM {}), false)",
                quoted(&column),
                quoted(table)
            );
            sqlx::query(&sql)
                .bind(quoted(table))
                .bind(&column)
                .execute(&mut **tx)
                .await
                .map_err(db("move an identity sequence past the imported keys"))?;
        }
    }
    Ok(Ending::Commit(loaded))
}

/// Inserts one batch; returns how many rows it held.
async fn insert(
    conn: &mut PgConnection,
    schema: &HashMap<String, BTreeMap<String, ColumnInfo>>,
    batch: Pending,
) -> StoreResult<u64> {
    if batch.rows.is_empty() {
        return Ok(0);
    }
    let known = schema.get(&batch.table).ok_or(StoreError::NotFound)?;
    let casts: Vec<&str> = batch
        .columns
        .iter()
        .map(|c| known.get(c).map(|i| i.sql_type.as_str()).unwrap_or("text"))
        .collect();
    let mut values = Vec::with_capacity(batch.rows.len());
    let mut n = 0;
    for _ in &batch.rows {
        let row: Vec<String> = casts
            .iter()
            .map(|cast| {
                n += 1;
                format!("${n}::{cast}")
            })
            .collect();
        values.push(format!("({})", row.join(", ")));
    }
    let sql = if batch.columns.is_empty() {
        format!("INSERT INTO {} DEFAULT VALUES", quoted(&batch.table))
    } else {
        format!(
            "INSERT INTO {} ({}) VALUES {}",
            quoted(&batch.table),
            batch
                .columns
                .iter()
                .map(|c| quoted(c))
                .collect::<Vec<_>>()
                .join(", "),
            values.join(", ")
        )
    };
    let table = &batch.table;
    if batch.columns.is_empty() {
        for _ in &batch.rows {
            sqlx::query(&sql)
                .execute(&mut *conn)
                .await
                .map_err(|e| StoreError::Other(format!("loading a row of {table}: {e}")))?;
        }
        return Ok(batch.rows.len() as u64);
    }
    let mut query = sqlx::query(&sql);
    for mut row in batch.rows {
        for column in &batch.columns {
            let value = row.remove(column).unwrap_or(Value::Null);
            query = bind_json(query, table, column, value)?;
        }
    }
    let inserted = query
        .execute(&mut *conn)
        .await
        .map_err(|e| StoreError::Other(format!("loading rows of {table}: {e}")))?
        .rows_affected();
    Ok(inserted)
}

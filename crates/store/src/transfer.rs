//! Moving an installation between backends (`tidings export` / `tidings import`): every table of
//! the schema, row by row, as JSON objects keyed by column name. Both backends use the same table
//! and column names, so a row exported from one loads into the other.

use serde::{Deserialize, Serialize};

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

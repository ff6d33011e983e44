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

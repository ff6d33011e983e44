//! The one streaming CSV importer (DESIGN.md): reads contacts row by row from any `Read`, hands
//! them to a sink in batches, and reports per-row errors without rejecting the good rows. Memory
//! is bounded by the batch size, whatever the file's size. The admin API, the CLI (and later
//! `queueImport` and the console) all use it.

use std::collections::HashSet;
use std::io::Read;

use bytes::Bytes;
use domain::{MobileNumber, MobileNumberError};
use serde::{Deserialize, Serialize};
use store::{Attributes, ContactRow, MemberCounts, StoreError};

/// Rows handed to the sink at once.
pub const BATCH_SIZE: usize = 1000;
/// Row errors reported in detail; further ones are only counted.
pub const MAX_REPORTED_ERRORS: usize = 1000;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RowError {
    /// 1-based row of the file, the header row being row 1 (JSON imports: the 1-based index).
    pub row: u64,
    pub value: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ImportReport {
    pub added: u64,
    pub updated: u64,
    pub invalid: u64,
    pub errors: Vec<RowError>,
}

impl ImportReport {
    pub fn reject(&mut self, row: u64, value: &str, reason: String) {
        self.invalid += 1;
        if self.errors.len() < MAX_REPORTED_ERRORS {
            self.errors.push(RowError {
                row,
                value: value.to_string(),
                reason,
            });
        }
    }

    fn absorb(&mut self, counts: MemberCounts) {
        self.added += counts.added;
        self.updated += counts.updated;
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file as a whole cannot be imported (nothing was written).
    #[error("{0}")]
    File(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Parses one mobile number with the contract's messages (API.md §6).
pub fn parse_number(raw: &str) -> Result<MobileNumber, String> {
    if raw.trim().is_empty() {
        return Err("A mobile number is required.".to_string());
    }
    MobileNumber::parse(raw).map_err(|e| match e {
        MobileNumberError::NotNumeric => format!("{raw} isn't a numeric string"),
        MobileNumberError::InvalidLength => format!("{raw} isn't a valid mobile number."),
    })
}

/// Collects rows into batches, flushing early when a number repeats inside one batch so that
/// a repeated number counts as an update.
pub struct Batcher<'s> {
    rows: Vec<ContactRow>,
    numbers: HashSet<String>,
    sink: &'s mut dyn FnMut(&[ContactRow]) -> Result<MemberCounts, StoreError>,
    pub report: ImportReport,
}

impl<'s> Batcher<'s> {
    pub fn new(sink: &'s mut dyn FnMut(&[ContactRow]) -> Result<MemberCounts, StoreError>) -> Self {
        Batcher {
            rows: Vec::with_capacity(BATCH_SIZE),
            numbers: HashSet::with_capacity(BATCH_SIZE),
            sink,
            report: ImportReport::default(),
        }
    }

    pub fn push(&mut self, row: ContactRow) -> Result<(), StoreError> {
        if self.numbers.contains(&row.mobile_number) || self.rows.len() >= BATCH_SIZE {
            self.flush()?;
        }
        self.numbers.insert(row.mobile_number.clone());
        self.rows.push(row);
        Ok(())
    }

    pub fn flush(&mut self) -> Result<(), StoreError> {
        if !self.rows.is_empty() {
            let counts = (self.sink)(&self.rows)?;
            self.report.absorb(counts);
            self.rows.clear();
            self.numbers.clear();
        }
        Ok(())
    }

    pub fn finish(mut self) -> Result<ImportReport, StoreError> {
        self.flush()?;
        Ok(self.report)
    }
}

/// Imports a CSV with a header row: the `mobileNumber` column (any case) is required,
/// `subscriberKey` is optional, every other column becomes an attribute (empty cells are skipped).
/// `progress` is called after each batch with the number of data rows read so far.
pub fn import_csv<R: Read>(
    reader: R,
    sink: &mut dyn FnMut(&[ContactRow]) -> Result<MemberCounts, StoreError>,
    progress: &mut dyn FnMut(u64),
) -> Result<ImportReport, ImportError> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(reader);
    let mut record = csv::ByteRecord::new();
    let header = match csv.read_byte_record(&mut record) {
        Ok(true) => record.clone(),
        Ok(false) => return Err(ImportError::File("The CSV file is empty.".into())),
        Err(e) => {
            return Err(ImportError::File(format!(
                "The CSV file can't be read: {e}."
            )))
        }
    };
    let names: Vec<String> = header
        .iter()
        .map(|h| {
            String::from_utf8_lossy(h)
                .trim()
                .trim_start_matches('\u{feff}')
                .to_string()
        })
        .collect();
    let Some(number_col) = names
        .iter()
        .position(|n| n.eq_ignore_ascii_case("mobileNumber"))
    else {
        return Err(ImportError::File(
            "The CSV header has no mobileNumber column.".into(),
        ));
    };
    let key_col = names
        .iter()
        .position(|n| n.eq_ignore_ascii_case("subscriberKey"));

    let mut batcher = Batcher::new(sink);
    let mut row: u64 = 1;
    loop {
        row += 1;
        match csv.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                // A broken record (for example bad quoting) is skipped; reading goes on when the
                // reader can resynchronise, otherwise the file ends here.
                batcher
                    .report
                    .reject(row, "", format!("The row can't be read: {e}."));
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
                continue;
            }
        }
        if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
            continue;
        }
        let Ok(fields) = record
            .iter()
            .map(std::str::from_utf8)
            .collect::<Result<Vec<&str>, _>>()
        else {
            batcher
                .report
                .reject(row, "", "The row isn't valid UTF-8.".to_string());
            continue;
        };
        let raw_number = fields.get(number_col).copied().unwrap_or("").trim();
        let number = match parse_number(raw_number) {
            Ok(n) => n,
            Err(reason) => {
                batcher.report.reject(row, raw_number, reason);
                continue;
            }
        };
        let subscriber_key = key_col
            .and_then(|c| fields.get(c))
            .map(|k| k.trim())
            .filter(|k| !k.is_empty())
            .map(str::to_string);
        let mut attributes = Attributes::new();
        for (i, value) in fields.iter().enumerate() {
            if i == number_col || Some(i) == key_col || value.is_empty() {
                continue;
            }
            if let Some(name) = names.get(i).filter(|n| !n.is_empty()) {
                attributes.insert(name.clone(), serde_json::Value::String(value.to_string()));
            }
        }
        batcher.push(ContactRow {
            mobile_number: number.as_str().to_string(),
            subscriber_key,
            attributes,
        })?;
        if row.is_multiple_of(BATCH_SIZE as u64) {
            progress(row - 1);
        }
    }
    let report = batcher.finish()?;
    progress(row.saturating_sub(2));
    Ok(report)
}

/// A blocking `Read` over chunks sent from an async body.
pub struct ChunkReader {
    rx: tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>,
    current: Bytes,
}

impl ChunkReader {
    pub fn new(rx: tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>) -> ChunkReader {
        ChunkReader {
            rx,
            current: Bytes::new(),
        }
    }
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(chunk)) => self.current = chunk,
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        let _ = self.current.split_to(n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(csv: &str) -> (ImportReport, Vec<ContactRow>) {
        let mut seen = Vec::new();
        let mut sink = |rows: &[ContactRow]| {
            seen.extend_from_slice(rows);
            Ok(MemberCounts {
                added: rows.len() as u64,
                updated: 0,
            })
        };
        let report = import_csv(csv.as_bytes(), &mut sink, &mut |_| {}).expect("import");
        (report, seen)
    }

    #[test]
    fn bad_rows_are_reported_and_good_rows_imported() {
        let (report, rows) = run(
            "MobileNumber,SubscriberKey,FirstName\n+15555555510,k1,Ann\n555-1234,k2,Bob\n123,k3,Cy\n15555555511,,\n",
        );
        assert_eq!(report.added, 2);
        assert_eq!(report.invalid, 2);
        assert_eq!(
            report.errors,
            vec![
                RowError {
                    row: 3,
                    value: "555-1234".into(),
                    reason: "555-1234 isn't a numeric string".into()
                },
                RowError {
                    row: 4,
                    value: "123".into(),
                    reason: "123 isn't a valid mobile number.".into()
                },
            ]
        );
        assert_eq!(rows[0].mobile_number, "15555555510");
        assert_eq!(rows[0].subscriber_key.as_deref(), Some("k1"));
        assert_eq!(rows[0].attributes.get("FirstName"), Some(&"Ann".into()));
        assert_eq!(rows[1].subscriber_key, None);
        assert!(rows[1].attributes.is_empty());
    }

    #[test]
    fn a_header_without_the_number_column_is_refused() {
        let mut sink = |_: &[ContactRow]| Ok(MemberCounts::default());
        let err = import_csv("phone\n1555\n".as_bytes(), &mut sink, &mut |_| {});
        assert!(matches!(err, Err(ImportError::File(m)) if m.contains("mobileNumber")));
    }

    #[test]
    fn repeated_numbers_go_to_separate_batches() {
        let mut batches = Vec::new();
        let mut sink = |rows: &[ContactRow]| {
            batches.push(rows.len());
            Ok(MemberCounts::default())
        };
        import_csv(
            "mobileNumber\n15555555510\n15555555511\n15555555510\n".as_bytes(),
            &mut sink,
            &mut |_| {},
        )
        .expect("import");
        assert_eq!(batches, vec![2, 1]);
    }
}

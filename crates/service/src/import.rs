//! The one streaming CSV importer (DESIGN.md): reads contacts row by row from any `Read`, hands
//! them to a sink in batches, and reports per-row errors without rejecting the good rows. Memory
//! is bounded by the batch size, whatever the file's size. The admin API, the CLI (and later
//! `queueImport` and the console) all use it.

use std::borrow::Cow;
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
    /// The sink stopped the import at a batch boundary (its process is stopping); what was
    /// written is recorded with its checkpoint.
    #[error("the import stopped at a batch boundary")]
    Stopped,
    /// The sink lost the import to another process; nothing more was written.
    #[error("the import was taken over by another process")]
    Lost,
}

/// A file refused as a whole is the caller's; the rest is internal.
impl From<ImportError> for crate::ServiceError {
    fn from(e: ImportError) -> crate::ServiceError {
        match e {
            ImportError::File(message) => crate::ServiceError::invalid(message),
            ImportError::Store(e) => e.into(),
            other => crate::ServiceError::internal(other),
        }
    }
}

/// One batch handed to a sink, with how far the file is accounted for once it is written.
pub struct Flush<'a> {
    pub rows: &'a [ContactRow],
    /// The last row of the file whose outcome (imported, rejected or skipped) is known once
    /// this batch is written: where a resumed import starts after.
    pub through_row: u64,
    /// The report so far, without this batch's counts.
    pub report: &'a ImportReport,
}

/// Where a sink writes batches.
pub type Sink<'s> = dyn FnMut(Flush<'_>) -> Result<MemberCounts, ImportError> + 's;

/// Where an import starts: after a row of the file, with the report so far (a resumed job), and
/// whether it hands the sink a checkpoint every batch of rows even when no row is to be
/// written (a durable job records its checkpoint, and renews its lease, with each).
#[derive(Debug, Default)]
pub struct Start {
    pub after_row: u64,
    pub report: ImportReport,
    pub checkpoints: bool,
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
    batch: usize,
    rows: Vec<ContactRow>,
    numbers: HashSet<String>,
    sink: &'s mut Sink<'s>,
    pub report: ImportReport,
    /// The last row whose outcome is known once the buffered rows are written.
    pub through_row: u64,
}

impl<'s> Batcher<'s> {
    pub fn new(sink: &'s mut Sink<'s>) -> Self {
        Batcher::with_batch(sink, BATCH_SIZE)
    }

    pub fn with_batch(sink: &'s mut Sink<'s>, batch: usize) -> Self {
        let batch = batch.max(1);
        Batcher {
            batch,
            rows: Vec::with_capacity(batch),
            numbers: HashSet::with_capacity(batch),
            sink,
            report: ImportReport::default(),
            through_row: 0,
        }
    }

    pub fn push(&mut self, row: ContactRow) -> Result<(), ImportError> {
        if self.numbers.contains(&row.mobile_number) || self.rows.len() >= self.batch {
            self.flush()?;
        }
        self.numbers.insert(row.mobile_number.clone());
        self.rows.push(row);
        Ok(())
    }

    /// Writes the buffered rows, if any.
    pub fn flush(&mut self) -> Result<(), ImportError> {
        if self.rows.is_empty() {
            return Ok(());
        }
        self.write()
    }

    /// Hands the sink the buffered rows, even none, with the current checkpoint.
    pub fn checkpoint(&mut self) -> Result<(), ImportError> {
        self.write()
    }

    fn write(&mut self) -> Result<(), ImportError> {
        let counts = (self.sink)(Flush {
            rows: &self.rows,
            through_row: self.through_row,
            report: &self.report,
        })?;
        self.report.absorb(counts);
        self.rows.clear();
        self.numbers.clear();
        Ok(())
    }

    pub fn finish(mut self) -> Result<ImportReport, ImportError> {
        self.flush()?;
        Ok(self.report)
    }
}

/// Where a destination of a field map reads from (API.md §6 queueImport).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Column {
    /// 0-based position in the row (MapByOrdinal).
    Ordinal(usize),
    /// Header name, matched ignoring case (MapByHeader).
    Header(String),
}

/// An explicit mapping of CSV columns: `_MobileNumber`, `_CountryCode`, `_SubscriberKey`,
/// `_FirstName` and `_LastName` (the attributes `FirstName` and `LastName`) or an attribute
/// name, each from one column — or, with `infer` (importSend's `InferFromColumnHeadings`), the
/// header row itself: a column named like a destination (with or without its `_`, ignoring
/// case) maps to it, every other column becomes an attribute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportMapping {
    pub first_row_header: bool,
    pub maps: Vec<(String, Column)>,
    #[serde(default)]
    pub infer: bool,
}

/// Where a destination's values go.
enum Target {
    Number,
    Country,
    Key,
    Attribute(String),
}

/// The target of a destination name (`_MobileNumber`, …, or an attribute), ignoring case; with
/// `bare`, the name may also lack its `_` (a header of `InferFromColumnHeadings`).
fn target_of(destination: &str, bare: bool) -> Target {
    let lower = destination.trim().to_ascii_lowercase();
    let name = match lower.strip_prefix('_') {
        Some(n) => n,
        None if bare => lower.as_str(),
        None => "",
    };
    match name {
        "mobilenumber" => Target::Number,
        "countrycode" => Target::Country,
        "subscriberkey" => Target::Key,
        "firstname" => Target::Attribute("FirstName".into()),
        "lastname" => Target::Attribute("LastName".into()),
        _ => Target::Attribute(destination.trim().to_string()),
    }
}

/// The columns of a file once its header (if any) is read.
struct Layout {
    number: usize,
    country: Option<usize>,
    key: Option<usize>,
    /// The subscriber key's column as the file or the mapping names it (for its §1 message).
    key_name: String,
    attributes: Vec<(String, usize)>,
}

fn header_names(record: &csv::ByteRecord) -> Vec<String> {
    record
        .iter()
        .map(|h| {
            String::from_utf8_lossy(h)
                .trim()
                .trim_start_matches('\u{feff}')
                .replace('\0', "")
        })
        .collect()
}

/// Imports a CSV with a header row: the `mobileNumber` column (any case) is required,
/// `subscriberKey` is optional, every other column becomes an attribute (empty cells are skipped).
pub fn import_csv<R: Read>(reader: R, sink: &mut Sink<'_>) -> Result<ImportReport, ImportError> {
    import_rows(reader, None, BATCH_SIZE, Start::default(), sink)
}

/// Imports a CSV by an explicit mapping (queueImport), `batch` rows per sink call, from `start`.
pub fn import_mapped<R: Read>(
    reader: R,
    mapping: &ImportMapping,
    batch: usize,
    start: Start,
    sink: &mut Sink<'_>,
) -> Result<ImportReport, ImportError> {
    import_rows(reader, Some(mapping), batch, start, sink)
}

/// Resolves the layout from the header (when the file has one) and the mapping.
fn layout(
    names: Option<&[String]>,
    mapping: Option<&ImportMapping>,
) -> Result<Layout, ImportError> {
    let find =
        |names: &[String], wanted: &str| names.iter().position(|n| n.eq_ignore_ascii_case(wanted));
    let Some(mapping) = mapping else {
        let names = names.unwrap_or_default();
        let Some(number) = find(names, "mobileNumber") else {
            return Err(ImportError::File(
                "The CSV header has no mobileNumber column.".into(),
            ));
        };
        let key = find(names, "subscriberKey");
        let attributes = names
            .iter()
            .enumerate()
            .filter(|(i, n)| *i != number && Some(*i) != key && !n.is_empty())
            .map(|(i, n)| (n.clone(), i))
            .collect();
        return Ok(Layout {
            number,
            country: None,
            key,
            key_name: key
                .and_then(|k| names.get(k))
                .cloned()
                .unwrap_or_else(|| "subscriberKey".to_string()),
            attributes,
        });
    };
    let mut out = Layout {
        number: usize::MAX,
        country: None,
        key: None,
        key_name: "_SubscriberKey".to_string(),
        attributes: Vec::new(),
    };
    let inferred: Vec<(String, Column)>;
    let maps = if mapping.infer {
        inferred = names
            .unwrap_or_default()
            .iter()
            .filter(|n| !n.is_empty())
            .map(|n| (n.clone(), Column::Header(n.clone())))
            .collect();
        &inferred
    } else {
        &mapping.maps
    };
    for (destination, column) in maps {
        let index = match column {
            Column::Ordinal(i) => *i,
            Column::Header(h) => find(names.unwrap_or_default(), h.trim())
                .ok_or_else(|| ImportError::File(format!("The CSV header has no column {h}.")))?,
        };
        match target_of(destination, mapping.infer) {
            Target::Number => out.number = index,
            Target::Country => out.country = Some(index),
            Target::Key => {
                out.key = Some(index);
                out.key_name = destination.clone();
            }
            Target::Attribute(name) => out.attributes.push((name, index)),
        }
    }
    if out.number == usize::MAX {
        return Err(ImportError::File(if mapping.infer {
            "The CSV header has no _MobileNumber column.".into()
        } else {
            "FieldMaps must map _MobileNumber.".into()
        }));
    }
    Ok(out)
}

fn import_rows<R: Read>(
    reader: R,
    mapping: Option<&ImportMapping>,
    batch: usize,
    start: Start,
    sink: &mut Sink<'_>,
) -> Result<ImportReport, ImportError> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(reader);
    let mut record = csv::ByteRecord::new();
    let has_header = mapping.is_none_or(|m| m.first_row_header);
    let mut row: u64 = 0;
    let names = if has_header {
        row += 1;
        match csv.read_byte_record(&mut record) {
            Ok(true) => Some(header_names(&record)),
            Ok(false) => return Err(ImportError::File("The CSV file is empty.".into())),
            Err(e) => {
                return Err(ImportError::File(format!(
                    "The CSV file can't be read: {e}."
                )))
            }
        }
    } else {
        None
    };
    let layout = layout(names.as_deref(), mapping)?;

    let mut batcher = Batcher::with_batch(sink, batch);
    batcher.report = start.report;
    let first_data_row = row + 1;
    loop {
        row += 1;
        // Every row before this one is written, rejected or skipped once the buffer is written.
        batcher.through_row = row - 1;
        if start.checkpoints
            && row > start.after_row + 1
            && row > first_data_row
            && (row - first_data_row).is_multiple_of(batch.max(1) as u64)
        {
            batcher.checkpoint()?;
        }
        let read = csv.read_byte_record(&mut record);
        if row <= start.after_row && !matches!(read, Ok(false)) {
            // Accounted for before the import was resumed.
            if matches!(&read, Err(e) if matches!(e.kind(), csv::ErrorKind::Io(_))) {
                break;
            }
            continue;
        }
        match read {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                // A broken record (for example bad quoting) is skipped; reading goes on when the
                // reader can resynchronise, otherwise the file ends here.
                batcher
                    .report
                    .reject(row, "", format!("The row can't be read: {e}."));
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    batcher.through_row = row;
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
        // U+0000 is dropped from every cell, as from JSON strings (API.md §1 bodies).
        let fields: Vec<Cow<'_, str>> = fields
            .into_iter()
            .map(|f| {
                if f.contains('\0') {
                    Cow::Owned(f.replace('\0', ""))
                } else {
                    Cow::Borrowed(f)
                }
            })
            .collect();
        let cell = |i: usize| fields.get(i).map_or("", |f| f.as_ref());
        let raw_number = cell(layout.number).trim();
        let prefixed;
        let candidate = match layout.country.map(|c| cell(c).trim()) {
            None | Some("") => raw_number,
            Some(country) => match calling_code(country) {
                Some(cc) => {
                    let digits = raw_number.strip_prefix('+').unwrap_or(raw_number);
                    if digits.starts_with(cc.as_str()) || digits.is_empty() {
                        raw_number
                    } else {
                        prefixed = format!("{cc}{digits}");
                        prefixed.as_str()
                    }
                }
                None => {
                    batcher.report.reject(
                        row,
                        raw_number,
                        format!("{country} isn't a valid country code."),
                    );
                    continue;
                }
            },
        };
        let number = match parse_number(candidate) {
            Ok(n) => n,
            Err(reason) => {
                batcher.report.reject(row, raw_number, reason);
                continue;
            }
        };
        let subscriber_key = layout
            .key
            .and_then(|c| fields.get(c))
            .map(|k| k.trim())
            .filter(|k| !k.is_empty())
            .map(str::to_string);
        let given: Vec<(&str, &str)> = layout
            .attributes
            .iter()
            .filter_map(|(name, i)| {
                fields
                    .get(*i)
                    .map(|v| v.as_ref())
                    .filter(|v| !v.is_empty())
                    .map(|v| (name.as_str(), v))
            })
            .collect();
        // API.md §1 limits: an over-long key or attribute rejects the row, not the file.
        let too_long = domain::limits::contact_messages(
            &layout.key_name,
            subscriber_key.as_deref(),
            given.iter().copied(),
        );
        if let Some(first) = too_long.into_iter().next() {
            batcher.report.reject(row, raw_number, first);
            continue;
        }
        let mut attributes = Attributes::new();
        for (name, value) in given {
            attributes.insert(
                name.to_string(),
                serde_json::Value::String(value.to_string()),
            );
        }
        batcher.push(ContactRow {
            mobile_number: number.as_str().to_string(),
            subscriber_key,
            attributes,
        })?;
    }
    batcher.finish()
}

/// The calling code of `_CountryCode` (API.md §6): a country calling code as digits (an optional
/// `+`, no leading zero) that libphonenumber's metadata knows, or an ISO 3166 alpha-2 region it
/// knows (`US` → `1`, `gb` → `44`). Only lookups in the metadata: nothing here parses a number.
pub fn calling_code(value: &str) -> Option<String> {
    let database = &*phonenumber::metadata::DATABASE;
    let v = value.trim();
    let digits = v.strip_prefix('+').unwrap_or(v);
    if (1..=3).contains(&digits.len())
        && !digits.starts_with('0')
        && digits.bytes().all(|b| b.is_ascii_digit())
    {
        let code: u16 = digits.parse().ok()?;
        return database
            .by_code(&code)
            .filter(|regions| !regions.is_empty())
            .map(|_| code.to_string());
    }
    if v.len() != 2 || !v.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    database
        .by_id(v.to_ascii_uppercase().as_str())
        .map(|region| region.country_code().to_string())
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
        let mut sink = |f: Flush<'_>| {
            seen.extend_from_slice(f.rows);
            Ok(MemberCounts {
                added: f.rows.len() as u64,
                updated: 0,
            })
        };
        let report = import_csv(csv.as_bytes(), &mut sink).expect("import");
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
    fn over_long_keys_and_attributes_reject_their_row_only() {
        let long_name = "N".repeat(256);
        let csv = format!(
            "mobileNumber,SubscriberKey,FirstName,{long_name}\n\
             15555555510,{},Ann,\n\
             15555555511,k2,{},\n\
             15555555512,k3,Cy,x\n\
             15555555513,{},{},\n",
            "k".repeat(256),
            "é".repeat(1601),
            "k".repeat(255),
            "é".repeat(1600),
        );
        let (report, rows) = run(&csv);
        assert_eq!((report.added, report.invalid), (1, 3), "{report:?}");
        let reasons: Vec<(u64, &str)> = report
            .errors
            .iter()
            .map(|e| (e.row, e.reason.as_str()))
            .collect();
        let name_message = format!("{long_name} can't be longer than 255 characters.");
        assert_eq!(
            reasons,
            vec![
                (2, "SubscriberKey can't be longer than 255 characters."),
                (3, "FirstName can't be longer than 1600 characters."),
                (4, name_message.as_str()),
            ]
        );
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].mobile_number, "15555555513");
    }

    #[test]
    fn nul_characters_are_dropped_from_every_cell_and_header() {
        let (report, rows) =
            run("Mobile\0Number,subscriberKey,First\0Name\n1555555\x005510,k\x001,A\0nn\n");
        assert_eq!(report.added, 1, "{report:?}");
        assert_eq!(rows[0].mobile_number, "15555555510");
        assert_eq!(rows[0].subscriber_key.as_deref(), Some("k1"));
        assert_eq!(rows[0].attributes.get("FirstName"), Some(&"Ann".into()));
    }

    #[test]
    fn a_header_without_the_number_column_is_refused() {
        let mut sink = |_: Flush<'_>| Ok(MemberCounts::default());
        let err = import_csv("phone\n1555\n".as_bytes(), &mut sink);
        assert!(matches!(err, Err(ImportError::File(m)) if m.contains("mobileNumber")));
    }

    #[test]
    fn repeated_numbers_go_to_separate_batches() {
        let mut batches = Vec::new();
        let mut sink = |f: Flush<'_>| {
            batches.push(f.rows.len());
            Ok(MemberCounts::default())
        };
        import_csv(
            "mobileNumber\n15555555510\n15555555511\n15555555510\n".as_bytes(),
            &mut sink,
        )
        .expect("import");
        assert_eq!(batches, vec![2, 1]);
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn column() -> impl Strategy<Value = Column> {
        prop_oneof![
            (0usize..6).prop_map(Column::Ordinal),
            "[A-Za-z_ ]{0,6}".prop_map(Column::Header),
        ]
    }

    fn mapping() -> impl Strategy<Value = ImportMapping> {
        (
            any::<bool>(),
            proptest::collection::vec(
                (
                    prop_oneof![
                        Just("_MobileNumber".to_string()),
                        Just("_CountryCode".to_string()),
                        Just("_SubscriberKey".to_string()),
                        "[A-Za-z]{1,5}",
                    ],
                    column(),
                ),
                0..5,
            ),
        )
            .prop_map(|(first_row_header, maps)| ImportMapping {
                infer: false,
                first_row_header,
                maps,
            })
    }

    /// Bytes that look somewhat like CSV: numbers, separators, quotes, country codes, junk.
    fn csv_like() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(
            prop_oneof![
                Just(b",".to_vec()),
                Just(b"\n".to_vec()),
                Just(b"\r\n".to_vec()),
                Just(b"\"".to_vec()),
                Just(b"US".to_vec()),
                Just(b"44".to_vec()),
                Just(b"+".to_vec()),
                Just(b"mobileNumber".to_vec()),
                "[0-9]{1,16}".prop_map(String::into_bytes),
                any::<Vec<u8>>(),
            ],
            0..60,
        )
        .prop_map(|parts| parts.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3_000))]

        /// Whatever the file and the mapping: no panic, every row accounted for once, and only
        /// valid numbers reach the store.
        #[test]
        fn any_file_imports_without_panicking(bytes in csv_like(), mapping in mapping(), batch in 1usize..4) {
            let mut stored = 0u64;
            let mut sink = |f: Flush<'_>| {
                for r in f.rows {
                    assert!(MobileNumber::parse(&r.mobile_number).is_ok(), "{:?}", r.mobile_number);
                }
                stored += f.rows.len() as u64;
                Ok(MemberCounts { added: f.rows.len() as u64, updated: 0 })
            };
            let result = import_mapped(bytes.as_slice(), &mapping, batch, Start::default(), &mut sink);
            if let Ok(report) = result {
                prop_assert_eq!(report.added + report.updated, stored);
            }
            let default = import_csv(bytes.as_slice(), &mut |f: Flush<'_>| {
                Ok(MemberCounts { added: f.rows.len() as u64, updated: 0 })
            });
            let _ = default;
        }

        /// An import stopped at any checkpoint and resumed from it (with the report recorded
        /// there) writes every row exactly once and ends with the report of an uninterrupted
        /// run: what a job resumed after a crash relies on.
        #[test]
        fn an_import_resumed_from_any_checkpoint_ends_as_one_run(
            bytes in csv_like(),
            mapping in mapping(),
            batch in 1usize..4,
            stop_at in 0usize..12,
        ) {
            let mut whole_rows = Vec::new();
            let whole = import_mapped(bytes.as_slice(), &mapping, batch, Start { checkpoints: true, ..Start::default() }, &mut |f: Flush<'_>| {
                whole_rows.extend(f.rows.iter().map(|r| r.mobile_number.clone()));
                Ok(MemberCounts { added: f.rows.len() as u64, updated: 0 })
            });
            let Ok(whole) = whole else { return Ok(()) };
            // The first run stops before its `stop_at`-th write; what it wrote before stays.
            let mut written = Vec::new();
            let mut saved: Option<(u64, ImportReport)> = None;
            let mut calls = 0usize;
            let first = import_mapped(bytes.as_slice(), &mapping, batch, Start { checkpoints: true, ..Start::default() }, &mut |f: Flush<'_>| {
                if calls == stop_at {
                    return Err(ImportError::Stopped);
                }
                calls += 1;
                written.extend(f.rows.iter().map(|r| r.mobile_number.clone()));
                let mut report = f.report.clone();
                report.added += f.rows.len() as u64;
                saved = Some((f.through_row, report));
                Ok(MemberCounts { added: f.rows.len() as u64, updated: 0 })
            });
            let resumed = match first {
                Ok(report) => report,
                Err(ImportError::Stopped) => {
                    let (after_row, report) = saved.unwrap_or_default();
                    let start = Start { after_row, report, checkpoints: true };
                    import_mapped(bytes.as_slice(), &mapping, batch, start, &mut |f: Flush<'_>| {
                        written.extend(f.rows.iter().map(|r| r.mobile_number.clone()));
                        Ok(MemberCounts { added: f.rows.len() as u64, updated: 0 })
                    }).expect("a resumed import reads the same file")
                }
                Err(e) => panic!("{e}"),
            };
            prop_assert_eq!(written, whole_rows);
            prop_assert_eq!(resumed, whole);
        }

        #[test]
        fn calling_codes_never_panic(s in ".{0,8}") {
            if let Some(cc) = calling_code(&s) {
                prop_assert!(cc.bytes().all(|b| b.is_ascii_digit()));
            }
        }
    }

    #[test]
    fn countries_and_calling_codes_come_from_the_metadata() {
        for (given, code) in [
            ("US", "1"),
            ("ca", "1"),
            (" GB ", "44"),
            ("FR", "33"),
            ("+44", "44"),
            ("1", "1"),
            ("353", "353"),
        ] {
            assert_eq!(calling_code(given).as_deref(), Some(code), "{given}");
        }
        for bad in ["", "X", "USA", "ZZ", "0", "044", "999", "+", "1234"] {
            assert_eq!(calling_code(bad), None, "{bad}");
        }
    }
}

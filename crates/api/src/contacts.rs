//! Contacts in bulk and reports (API.md §6): `POST /sms/v1/contacts/queueImport/{listId}` from a
//! file of the account's import folder, run in the background with its status; `refreshList`
//! and its status; `POST /sms/v1/messageList/{id}/deliveryReport/{tokenId}` writing a CSV into
//! the account's reports folder (the folders: [`crate::folders`]).

use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use axum::http::StatusCode;
use axum::response::Response;
use domain::{is_blank, EncodedId, FieldReader, Json, TokenId};
use serde_json::json;
use store::{
    ContactList, ContactRow, ListJob, ListJobKind, ListJobProgress, ListJobState, NewListJob,
    Outcome, SendKind, StoreError, SubscribeTo,
};

use crate::auth::Caller;
use crate::import::{self, Column, ImportError, ImportMapping, ImportReport};
use crate::message_list::resolve_delivery;
use crate::{json_response, ApiError, AppState, Ctx};

/// Rows per transaction of a queueImport.
pub const QUEUE_IMPORT_BATCH: usize = 5_000;
/// Row errors kept in a job's status.
const STATUS_ERRORS: usize = 100;
/// A job that records no progress for this long stopped with its process.
const STALE_AFTER_MS: i64 = 10 * 60 * 1000;
/// How much of a file is looked at to tell CSV from other content.
const SNIFF_BYTES: usize = 8 * 1024;
/// Longest report file name, in bytes (API.md §6 deliveryReport).
const MAX_REPORT_NAME_BYTES: usize = 200;

/// A plain file name: no path, nothing hidden, no control characters.
fn plain_file_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name != "."
        && name != ".."
        && !name.starts_with('.')
        && !name.contains(['/', '\\', '\0', ':'])
        && !name.chars().any(char::is_control)
}

/// The account's list named by the first path parameter, or the §5-style message why not.
async fn path_list(
    state: &AppState,
    caller: &Caller,
    ctx: &Ctx,
) -> Result<Result<ContactList, String>, ApiError> {
    let id = ctx.param(0);
    if EncodedId::parse(id).is_none() {
        return Ok(Err(format!("List id {id} isn't valid.")));
    }
    match state.store.get_list(&caller.account_id, id).await {
        Ok(list) => Ok(Ok(list)),
        Err(StoreError::NotFound) => Ok(Err(format!("List {id} isn't valid for the client."))),
        Err(e) => Err(e.into()),
    }
}

/// Opens `name` inside the account's import folder, refusing anything that is not a plain file
/// name of a regular file there (symlinks included) with one message, whether the file is
/// missing or not allowed (API.md §6: nothing about other files leaks), and content that is not
/// text. Nothing is imported from a refused file.
fn open_import_file(dir: &Path, name: &str) -> Result<std::fs::File, String> {
    let invalid = || format!("{name} isn't a valid import file name.");
    if !plain_file_name(name) {
        return Err(invalid());
    }
    let path = dir.join(name);
    let Ok(meta) = std::fs::symlink_metadata(&path) else {
        return Err(invalid());
    };
    if meta.file_type().is_symlink() || !meta.is_file() {
        return Err(invalid());
    }
    // The directory itself must not lead elsewhere either.
    match (dir.canonicalize(), path.canonicalize()) {
        (Ok(d), Ok(p)) if p.parent() == Some(d.as_path()) => {}
        _ => return Err(invalid()),
    }
    let mut file = std::fs::File::open(&path).map_err(|_| invalid())?;
    #[cfg(unix)]
    {
        // The file opened is the one checked (not swapped for a link in between).
        use std::os::unix::fs::MetadataExt;
        let opened = file.metadata().map_err(|_| invalid())?;
        if opened.dev() != meta.dev() || opened.ino() != meta.ino() {
            return Err(invalid());
        }
    }
    let mut head = vec![0u8; SNIFF_BYTES];
    let mut filled = 0;
    while filled < head.len() {
        match file.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(_) => return Err(invalid()),
        }
    }
    head.truncate(filled);
    if !looks_like_text(&head) {
        return Err(format!("{name} isn't a CSV file."));
    }
    file.rewind().map_err(|_| invalid())?;
    Ok(file)
}

/// Text: no NUL byte, valid UTF-8 (a character cut at the end of the sample aside), and not
/// empty.
fn looks_like_text(head: &[u8]) -> bool {
    if head.is_empty() || head.contains(&0) {
        return false;
    }
    match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() && head.len() == SNIFF_BYTES,
    }
}

/// The parsed queueImport body.
struct ImportRequest {
    file_name: Option<String>,
    mapping: Option<ImportMapping>,
    subscribe: Option<(String, String)>,
}

fn read_import_request(fields: &domain::Fields, errors: &mut Vec<String>) -> ImportRequest {
    let mut r = FieldReader::new(fields);
    let file_name = r.string("FileName").map(str::to_string);
    let file_type = r.string("FileType").map(str::to_string);
    let header = r.bool("IsFirstRowHeader");
    let mapping_type = r.string("ImportMappingType").map(str::to_string);
    let maps = r.any("FieldMaps").cloned();
    let short_code = r
        .string("ShortCode")
        .filter(|c| !is_blank(c))
        .map(str::to_string);
    let keyword = r
        .string("Keyword")
        .filter(|c| !is_blank(c))
        .map(str::to_string);
    errors.extend(r.finish());

    if file_name.as_deref().is_none_or(is_blank) {
        errors.push("File name can't be blank.".to_string());
    }
    if let Some(t) = file_type
        .as_deref()
        .filter(|t| !t.trim().eq_ignore_ascii_case("csv"))
    {
        errors.push(format!("{t} isn't a valid file type."));
    }
    let by_header = match mapping_type.as_deref().map(str::trim) {
        None | Some("") => {
            errors.push("Import mapping type can't be blank.".to_string());
            None
        }
        Some(t) if t.eq_ignore_ascii_case("MapByOrdinal") => Some(false),
        Some(t) if t.eq_ignore_ascii_case("MapByHeader") => Some(true),
        Some(t) => {
            errors.push(format!("{t} isn't a valid import mapping type."));
            None
        }
    };
    let first_row_header = header == Some(true);
    if by_header == Some(true) && !first_row_header {
        errors.push("MapByHeader needs IsFirstRowHeader to be true.".to_string());
    }
    let mut columns = Vec::new();
    match &maps {
        Some(Json::Array(items)) if !items.is_empty() => {
            for item in items {
                let Json::Object(obj) = item else {
                    errors.push("A field map must be an object.".to_string());
                    continue;
                };
                let mut m = FieldReader::new(obj);
                let destination = m.string("Destination").map(|d| d.trim().to_string());
                let destination_field = m.spelling("Destination").unwrap_or("Destination");
                let ordinal = match m.any("Ordinal") {
                    Some(Json::Number(n)) => n.as_u64().map(|n| n as usize),
                    Some(Json::String(s)) => s.trim().parse::<usize>().ok(),
                    _ => None,
                };
                let source = m
                    .string("Source")
                    .filter(|s| !is_blank(s))
                    .map(str::to_string);
                errors.extend(m.finish());
                let Some(destination) = destination.filter(|d| !d.is_empty()) else {
                    errors.push("A field map must have a destination.".to_string());
                    continue;
                };
                // An attribute name (API.md §1: at most 255 characters).
                if let Some(m) = domain::limits::check_length(
                    destination_field,
                    &destination,
                    domain::limits::MAX_KEY_CHARS,
                ) {
                    errors.push(m);
                    continue;
                }
                match by_header {
                    Some(false) => match ordinal {
                        Some(i) => columns.push((destination, Column::Ordinal(i))),
                        None => errors.push(format!(
                            "The field map of {destination} must have an ordinal when mapping by ordinal."
                        )),
                    },
                    Some(true) => match source {
                        Some(s) => columns.push((destination, Column::Header(s))),
                        None => errors.push(format!(
                            "The field map of {destination} must have a source when mapping by header."
                        )),
                    },
                    None => {}
                }
            }
            if !items.is_empty()
                && by_header.is_some()
                && !columns
                    .iter()
                    .any(|(d, _)| d.eq_ignore_ascii_case("_MobileNumber"))
            {
                errors.push("FieldMaps must map _MobileNumber.".to_string());
            }
        }
        Some(Json::Array(_)) | None => errors.push("FieldMaps can't be empty.".to_string()),
        Some(_) => {
            let name = FieldReader::new(fields)
                .spelling("FieldMaps")
                .unwrap_or("FieldMaps")
                .to_string();
            errors.push(format!("{name} must be an array of objects."));
        }
    }
    let subscribe = match (short_code, keyword) {
        (Some(c), Some(k)) => Some((c, k)),
        (Some(_), None) => {
            errors.push("Keyword can't be blank when ShortCode is given.".to_string());
            None
        }
        (None, Some(_)) => {
            errors.push("ShortCode can't be blank when Keyword is given.".to_string());
            None
        }
        (None, None) => None,
    };
    ImportRequest {
        file_name: file_name.filter(|f| !is_blank(f)),
        mapping: by_header.map(|_| ImportMapping {
            first_row_header,
            maps: columns,
        }),
        subscribe,
    }
}

fn job_json(state: &AppState, job: &ListJob) -> serde_json::Value {
    let mut body = json!({
        "tokenId": job.token,
        "status": job.state.as_str(),
        "createdDate": state.timestamp(job.created_at),
        "type": "Import",
        "inserted": job.progress.inserted,
        "updated": job.progress.updated,
        "invalid": job.progress.invalid,
    });
    if !job.progress.errors.is_empty() {
        body["errors"] = json!(job.progress.errors);
    }
    if let Some(done) = job.completed_at {
        body["completedDate"] = json!(state.timestamp(done));
    }
    body
}

fn progress_of(report: &ImportReport) -> ListJobProgress {
    ListJobProgress {
        inserted: i64::try_from(report.added).unwrap_or(i64::MAX),
        updated: i64::try_from(report.updated).unwrap_or(i64::MAX),
        invalid: i64::try_from(report.invalid).unwrap_or(i64::MAX),
        errors: report
            .errors
            .iter()
            .take(STATUS_ERRORS)
            .map(|e| format!("Row {}: {}", e.row, e.reason))
            .collect(),
    }
}

pub async fn queue_import(
    state: &AppState,
    caller: &Caller,
    mut ctx: Ctx,
) -> Result<Response, ApiError> {
    let (_, fields) = ctx.json_fields().await?;
    let mut errors = Vec::new();
    let list = match path_list(state, caller, &ctx).await? {
        Ok(l) => Some(l),
        Err(m) => {
            errors.push(m);
            None
        }
    };
    let request = read_import_request(&fields, &mut errors);
    let mut subscribe = None;
    if let Some((code, keyword)) = &request.subscribe {
        match state.store.get_code(&caller.account_id, code).await {
            Ok(c) if c.code.eq_ignore_ascii_case(code) => {
                let found =
                    crate::keyword_on_code(state, &caller.account_id, &c.code, keyword).await?;
                match found {
                    Some(k) => {
                        subscribe = Some(SubscribeTo {
                            code: c.code,
                            keyword: k.keyword,
                        })
                    }
                    None => errors.push(format!(
                        "Keyword {keyword} isn't valid for short code {code}."
                    )),
                }
            }
            Ok(_) | Err(StoreError::NotFound) => {
                errors.push(format!("Short code {code} isn't valid for the client."))
            }
            Err(e) => return Err(e.into()),
        }
    }
    // The file is checked last, and only when everything else is valid: a refused request
    // reads nothing.
    let mut file = None;
    if errors.is_empty() {
        if let Some(name) = &request.file_name {
            let dir = state.folders.imports(&caller.account_id);
            let name = name.clone();
            match tokio::task::spawn_blocking(move || open_import_file(&dir, &name))
                .await
                .map_err(ApiError::internal)?
            {
                Ok(f) => file = Some(f),
                Err(m) => errors.push(m),
            }
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let (Some(list), Some(mapping), Some(file)) = (list, request.mapping, file) else {
        return Err(ApiError::internal("validated import without its parts"));
    };
    let token = domain::mint_token();
    let now = state.now();
    state
        .store
        .create_list_job(NewListJob {
            token: token.clone(),
            account_id: caller.account_id.clone(),
            list_id: list.id.clone(),
            kind: ListJobKind::Import,
            state: ListJobState::Queued,
            publish_date: None,
            created_at: now,
        })
        .await?;
    tokio::spawn(run_import(
        state.clone(),
        caller.account_id.clone(),
        list.id,
        token.clone(),
        file,
        mapping,
        subscribe,
    ));
    Ok(json_response(
        StatusCode::ACCEPTED,
        &json!({"tokenId": token}),
    ))
}

/// Runs an import in the background, recording progress after each batch.
async fn run_import(
    state: AppState,
    account_id: String,
    list_id: String,
    token: String,
    file: std::fs::File,
    mapping: ImportMapping,
    subscribe: Option<SubscribeTo>,
) {
    let store = state.store.clone();
    let clock = state.clock.clone();
    let handle = tokio::runtime::Handle::current();
    let job = token.clone();
    let started = store
        .update_list_job(
            &token,
            ListJobState::Processing,
            &ListJobProgress::default(),
            clock.now_ms(),
        )
        .await;
    if let Err(e) = started {
        tracing::error!(token = %token, error = %e, "could not start an import");
        return;
    }
    let outcome = tokio::task::spawn_blocking(move || {
        let reader = std::io::BufReader::with_capacity(256 * 1024, file);
        let now = clock.now_ms();
        let mut sink = |rows: &[ContactRow]| {
            handle.block_on(store.upsert_members(
                &account_id,
                &list_id,
                rows,
                subscribe.as_ref(),
                now,
            ))
        };
        let mut progress = |_: u64, report: &ImportReport| {
            if let Err(e) = handle.block_on(store.update_list_job(
                &job,
                ListJobState::Processing,
                &progress_of(report),
                clock.now_ms(),
            )) {
                tracing::warn!(error = %e, "could not record import progress");
            }
        };
        import::import_mapped(
            reader,
            &mapping,
            QUEUE_IMPORT_BATCH,
            &mut sink,
            &mut progress,
        )
    })
    .await;
    let (state_after, progress) = match outcome {
        Ok(Ok(report)) => (ListJobState::Completed, progress_of(&report)),
        Ok(Err(ImportError::File(message))) => (
            ListJobState::Error,
            ListJobProgress {
                errors: vec![message],
                ..ListJobProgress::default()
            },
        ),
        Ok(Err(ImportError::Store(e))) => {
            tracing::error!(token = %token, error = %e, "import failed");
            (
                ListJobState::Error,
                ListJobProgress {
                    errors: vec!["The import failed; rows before the failure were imported.".into()],
                    ..ListJobProgress::default()
                },
            )
        }
        Err(e) => {
            tracing::error!(token = %token, error = %e, "import task failed");
            (
                ListJobState::Error,
                ListJobProgress {
                    errors: vec!["The import failed.".into()],
                    ..ListJobProgress::default()
                },
            )
        }
    };
    if let Err(e) = state
        .store
        .update_list_job(&token, state_after, &progress, state.now())
        .await
    {
        tracing::error!(token = %token, error = %e, "could not record the end of an import");
    }
}

/// A job named by `{listId}` and `{tokenId}`.
async fn path_job(
    state: &AppState,
    caller: &Caller,
    ctx: &Ctx,
    kind: ListJobKind,
) -> Result<ListJob, ApiError> {
    let (list, token) = (ctx.param(0), ctx.param(1));
    let mut errors = Vec::new();
    if EncodedId::parse(list).is_none() {
        errors.push(format!("List id {list} isn't valid."));
    }
    if TokenId::parse(token).is_none() {
        errors.push(format!("Token id {token} isn't valid."));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let job = match state.store.get_list_job(&caller.account_id, token).await {
        Ok(j) if j.kind == kind => j,
        Ok(_) | Err(StoreError::NotFound) => {
            return Err(ApiError::validation(format!(
                "Token id {token} isn't valid for this client."
            )))
        }
        Err(e) => return Err(e.into()),
    };
    if !job.list_id.eq_ignore_ascii_case(list) {
        return Err(ApiError::validation(format!(
            "TokenId {token} isn't valid for ListId {list}."
        )));
    }
    Ok(job)
}

pub async fn import_status(
    state: &AppState,
    caller: &Caller,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    let mut job = path_job(state, caller, &ctx, ListJobKind::Import).await?;
    let now = state.now();
    if !job.state.is_final() && now - job.updated_at > STALE_AFTER_MS {
        // Its process stopped: rows before were imported, the rest never will be.
        let mut progress = job.progress.clone();
        progress.errors.insert(
            0,
            "The import stopped before the end of the file; rows before were imported.".into(),
        );
        job = state
            .store
            .update_list_job(&job.token, ListJobState::Error, &progress, now)
            .await?;
    }
    Ok(json_response(StatusCode::OK, &job_json(state, &job)))
}

pub async fn refresh_list(
    state: &AppState,
    caller: &Caller,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    let list = path_list(state, caller, &ctx)
        .await?
        .map_err(ApiError::validation)?;
    // Lists are always current in Tidings: a refresh completes at once, published as of the
    // list's last membership change.
    let token = domain::mint_token();
    state
        .store
        .create_list_job(NewListJob {
            token: token.clone(),
            account_id: caller.account_id.clone(),
            list_id: list.id.clone(),
            kind: ListJobKind::Refresh,
            state: ListJobState::Completed,
            publish_date: Some(list.last_change_at),
            created_at: state.now(),
        })
        .await?;
    Ok(json_response(
        StatusCode::ACCEPTED,
        &json!({"tokenId": token, "lastPublishDate": state.timestamp(list.last_change_at)}),
    ))
}

pub async fn refresh_status(
    state: &AppState,
    caller: &Caller,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    let job = path_job(state, caller, &ctx, ListJobKind::Refresh).await?;
    let publish = job
        .publish_date
        .filter(|_| job.state == ListJobState::Completed)
        .map(|t| state.timestamp(t));
    Ok(json_response(
        StatusCode::OK,
        &json!({"tokenId": job.token, "publishDate": publish}),
    ))
}

/// `POST /sms/v1/messageList/{id}/deliveryReport/{tokenId}` `{"filename"}`.
pub async fn delivery_report(
    state: &AppState,
    caller: &Caller,
    mut ctx: Ctx,
) -> Result<Response, ApiError> {
    let (_, fields) = ctx.json_fields().await?;
    let mut r = FieldReader::new(&fields);
    let name = r.string("filename").map(str::to_string);
    let mut errors = r.finish();
    match name.as_deref() {
        None => errors.push("File name can't be blank.".to_string()),
        Some(n) if is_blank(n) => errors.push("File name can't be blank.".to_string()),
        Some(n) if !plain_file_name(n) || n.len() > MAX_REPORT_NAME_BYTES => {
            errors.push(format!("{n} isn't a valid report file name."))
        }
        Some(_) => {}
    }
    let send = resolve_delivery(state, caller, &ctx, SendKind::List, errors).await?;
    let name = name.unwrap_or_default();
    // The account's own folder: another account's report of the same name is no conflict.
    let dir = state.folders.reports(&caller.account_id);
    let path = dir.join(&name);
    let partial = dir.join(format!(".{name}.{}.partial", send.token));
    let created = tokio::task::spawn_blocking({
        let (dir, partial) = (dir.clone(), partial.clone());
        let path = path.clone();
        move || -> std::io::Result<Option<std::fs::File>> {
            crate::folders::create_private_dir(&dir)?;
            if std::fs::symlink_metadata(&path).is_ok() {
                return Ok(None);
            }
            let mut open = std::fs::OpenOptions::new();
            open.write(true).create_new(true);
            // Reports hold mobile numbers: owner-only (API.md §8 "Protection").
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
            open.open(&partial).map(Some)
        }
    })
    .await
    .map_err(ApiError::internal)?;
    let file = match created {
        Ok(Some(f)) => f,
        Ok(None) => {
            return Err(ApiError::Conflict(format!(
                "Report file {name} already exists."
            )))
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(ApiError::Conflict(format!(
                "Report file {name} already exists."
            )))
        }
        Err(e) => return Err(ApiError::internal(format!("create report file: {e}"))),
    };
    tokio::spawn(write_report(
        state.clone(),
        send.token.clone(),
        file,
        partial,
        path,
    ));
    Ok(json_response(
        StatusCode::ACCEPTED,
        &json!({"tokenId": send.token, "filename": name}),
    ))
}

/// Writes every recipient, page by page, into the partial file, then links it under its name
/// (never replacing a file that appeared meanwhile).
async fn write_report(
    state: AppState,
    token: String,
    file: std::fs::File,
    partial: PathBuf,
    path: PathBuf,
) {
    const PAGE: u32 = 10_000;
    let mut out = std::io::BufWriter::new(file);
    let mut ok = writeln!(out, "mobileNumber,standardStatusCode,description,date").is_ok();
    let mut page = 1;
    while ok {
        let rows = match state.store.tracking_page(&token, page, PAGE).await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::error!(token = %token, error = %e, "delivery report failed");
                ok = false;
                break;
            }
        };
        for r in &rows {
            let description = match r.outcome {
                Some(Outcome::Suppressed) => "Not subscribed on the code: not sent",
                Some(Outcome::Canceled) => "Send canceled before hand-off",
                None => store::codes::describe_recipient(r.status_code, r.note.as_deref()).1,
            };
            ok &= writeln!(
                out,
                "{},{},{},{}",
                r.mobile_number,
                r.status_code,
                description,
                state.timestamp(r.updated_at)
            )
            .is_ok();
        }
        if rows.len() < PAGE as usize {
            break;
        }
        page += 1;
    }
    let finished = ok
        && out.flush().is_ok()
        && out.get_ref().sync_all().is_ok()
        && std::fs::hard_link(&partial, &path).is_ok();
    if !finished {
        tracing::error!(path = %path.display(), "delivery report could not be written");
    }
    let _ = std::fs::remove_file(&partial);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn plain_names_only() {
        for ok in ["people.csv", "a b.csv", "x", "données.csv"] {
            assert!(plain_file_name(ok), "{ok}");
        }
        for bad in [
            "",
            ".",
            "..",
            "../x",
            "a/b",
            "a\\b",
            "/etc/passwd",
            ".hidden",
            "c:x",
            "a\0b",
            "a\nb",
        ] {
            assert!(!plain_file_name(bad), "{bad:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        /// Whatever the name, a file that opens lies directly inside the import directory and is
        /// not a symlink; nothing panics.
        #[test]
        fn no_name_opens_anything_outside_the_directory(name in prop_oneof![
            "[./a-z\\\\]{0,12}",
            ".{0,12}",
            Just("../outside.csv".to_string()),
            Just("link.csv".to_string()),
            Just("inside.csv".to_string()),
        ]) {
            let root = tempfile::tempdir().expect("temp dir");
            let dir = root.path().join("imports");
            std::fs::create_dir_all(&dir).expect("dir");
            std::fs::write(root.path().join("outside.csv"), "mobileNumber\n15555555510\n").expect("outside");
            std::fs::write(dir.join("inside.csv"), "mobileNumber\n15555555511\n").expect("inside");
            #[cfg(unix)]
            std::os::unix::fs::symlink(root.path().join("outside.csv"), dir.join("link.csv")).expect("link");
            if open_import_file(&dir, &name).is_ok() {
                let path = dir.join(&name);
                let meta = std::fs::symlink_metadata(&path).expect("exists");
                prop_assert!(meta.is_file());
                prop_assert_eq!(
                    path.canonicalize().expect("canonical").parent().map(Path::to_path_buf),
                    Some(dir.canonicalize().expect("canonical dir"))
                );
            }
        }

        #[test]
        fn text_sniffing_never_panics(bytes in any::<Vec<u8>>()) {
            let _ = looks_like_text(&bytes);
        }
    }
}

//! Work on files of the account's folders (API.md §6): `queueImport` from the import folder,
//! run in the background with its status; `refreshList` and its status; `deliveryReport`
//! writing a CSV into the reports folder (the folders: [`crate::folders`]).

use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use domain::{EncodedId, TokenId};
use store::{
    ContactList, ContactRow, ListJob, ListJobKind, ListJobProgress, ListJobState, NewListJob,
    SendKind, StoreError, SubscribeTo,
};

use crate::import::{self, ImportError, ImportMapping, ImportReport};
use crate::{Caller, Service, ServiceError, ServiceResult};

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

/// `POST /sms/v1/contacts/queueImport/{listId}` as read: the file, its mapping and the keyword
/// to subscribe to, with every message reading them produced (API.md §6).
#[derive(Debug, Clone, Default)]
pub struct ImportRequest {
    pub file_name: Option<String>,
    pub mapping: Option<ImportMapping>,
    /// `ShortCode` and `Keyword`.
    pub subscribe: Option<(String, String)>,
    pub problems: Vec<String>,
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

impl Service {
    /// The account's list named by a path, or the §5-style message why not.
    async fn path_list(
        &self,
        caller: &Caller,
        id: &str,
    ) -> ServiceResult<Result<ContactList, String>> {
        if EncodedId::parse(id).is_none() {
            return Ok(Err(format!("List id {id} isn't valid.")));
        }
        match self.store().get_list(&caller.account_id, id).await {
            Ok(list) => Ok(Ok(list)),
            Err(StoreError::NotFound) => Ok(Err(format!("List {id} isn't valid for the client."))),
            Err(e) => Err(e.into()),
        }
    }

    /// `POST /sms/v1/contacts/queueImport/{listId}` (API.md §6): checks the request, the keyword
    /// and, last, the file (a refused request reads nothing), and queues the import; its token.
    pub async fn queue_import(
        &self,
        caller: &Caller,
        list_id: &str,
        request: ImportRequest,
    ) -> ServiceResult<String> {
        let mut errors = Vec::new();
        let list = match self.path_list(caller, list_id).await? {
            Ok(l) => Some(l),
            Err(m) => {
                errors.push(m);
                None
            }
        };
        errors.extend(request.problems);
        let mut subscribe = None;
        if let Some((code, keyword)) = &request.subscribe {
            match self.store().get_code(&caller.account_id, code).await {
                Ok(c) if c.code.eq_ignore_ascii_case(code) => {
                    match self
                        .keyword_on_code(&caller.account_id, &c.code, keyword)
                        .await?
                    {
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
                let dir = self.folders().imports(&caller.account_id);
                let name = name.clone();
                match tokio::task::spawn_blocking(move || open_import_file(&dir, &name))
                    .await
                    .map_err(ServiceError::internal)?
                {
                    Ok(f) => file = Some(f),
                    Err(m) => errors.push(m),
                }
            }
        }
        ServiceError::check(errors)?;
        let (Some(list), Some(mapping), Some(file)) = (list, request.mapping, file) else {
            return Err(ServiceError::internal("validated import without its parts"));
        };
        let token = domain::mint_token();
        self.store()
            .create_list_job(NewListJob {
                token: token.clone(),
                account_id: caller.account_id.clone(),
                list_id: list.id.clone(),
                kind: ListJobKind::Import,
                state: ListJobState::Queued,
                publish_date: None,
                created_at: self.now(),
            })
            .await?;
        tokio::spawn(self.clone().run_import(
            caller.account_id.clone(),
            list.id,
            token.clone(),
            file,
            mapping,
            subscribe,
        ));
        Ok(token)
    }

    /// Runs an import in the background, recording progress after each batch.
    async fn run_import(
        self,
        account_id: String,
        list_id: String,
        token: String,
        file: std::fs::File,
        mapping: ImportMapping,
        subscribe: Option<SubscribeTo>,
    ) {
        let store = self.inner.store.clone();
        let clock = self.inner.clock.clone();
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
                        errors: vec![
                            "The import failed; rows before the failure were imported.".into()
                        ],
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
        if let Err(e) = self
            .store()
            .update_list_job(&token, state_after, &progress, self.now())
            .await
        {
            tracing::error!(token = %token, error = %e, "could not record the end of an import");
        }
    }

    /// A job of `kind` named by `{listId}` and `{tokenId}`.
    async fn path_job(
        &self,
        caller: &Caller,
        list: &str,
        token: &str,
        kind: ListJobKind,
    ) -> ServiceResult<ListJob> {
        let mut errors = Vec::new();
        if EncodedId::parse(list).is_none() {
            errors.push(format!("List id {list} isn't valid."));
        }
        if TokenId::parse(token).is_none() {
            errors.push(format!("Token id {token} isn't valid."));
        }
        ServiceError::check(errors)?;
        let job = match self.store().get_list_job(&caller.account_id, token).await {
            Ok(j) if j.kind == kind => j,
            Ok(_) | Err(StoreError::NotFound) => {
                return Err(ServiceError::invalid(format!(
                    "Token id {token} isn't valid for this client."
                )))
            }
            Err(e) => return Err(e.into()),
        };
        if !job.list_id.eq_ignore_ascii_case(list) {
            return Err(ServiceError::invalid(format!(
                "TokenId {token} isn't valid for ListId {list}."
            )));
        }
        Ok(job)
    }

    /// `GET /sms/v1/contacts/queueImport/{listId}/status/{tokenId}` (API.md §6).
    pub async fn import_status(
        &self,
        caller: &Caller,
        list: &str,
        token: &str,
    ) -> ServiceResult<ListJob> {
        let mut job = self
            .path_job(caller, list, token, ListJobKind::Import)
            .await?;
        let now = self.now();
        if !job.state.is_final() && now - job.updated_at > STALE_AFTER_MS {
            // Its process stopped: rows before were imported, the rest never will be.
            let mut progress = job.progress.clone();
            progress.errors.insert(
                0,
                "The import stopped before the end of the file; rows before were imported.".into(),
            );
            job = self
                .store()
                .update_list_job(&job.token, ListJobState::Error, &progress, now)
                .await?;
        }
        Ok(job)
    }

    /// `POST /sms/v1/contacts/refreshList/{listId}` (API.md §6): lists are always current in
    /// Tidings, so a refresh completes at once, published as of the list's last membership
    /// change. Its token and that date.
    pub async fn refresh_list(&self, caller: &Caller, list: &str) -> ServiceResult<(String, i64)> {
        let list = self
            .path_list(caller, list)
            .await?
            .map_err(ServiceError::invalid)?;
        let token = domain::mint_token();
        self.store()
            .create_list_job(NewListJob {
                token: token.clone(),
                account_id: caller.account_id.clone(),
                list_id: list.id.clone(),
                kind: ListJobKind::Refresh,
                state: ListJobState::Completed,
                publish_date: Some(list.last_change_at),
                created_at: self.now(),
            })
            .await?;
        Ok((token, list.last_change_at))
    }

    /// `GET /sms/v1/contacts/refreshList/{listId}/status/{tokenId}` (API.md §6).
    pub async fn refresh_status(
        &self,
        caller: &Caller,
        list: &str,
        token: &str,
    ) -> ServiceResult<ListJob> {
        self.path_job(caller, list, token, ListJobKind::Refresh)
            .await
    }

    /// `POST /sms/v1/messageList/{id}/deliveryReport/{tokenId}` (API.md §6): reserves the report
    /// file in the account's folder and writes it in the background; the send's token. `earlier`
    /// are the messages of reading the request.
    pub async fn delivery_report(
        &self,
        caller: &Caller,
        message_id: &str,
        token: &str,
        file_name: Option<String>,
        earlier: Vec<String>,
    ) -> ServiceResult<String> {
        let mut errors = earlier;
        match file_name.as_deref() {
            None => errors.push("File name can't be blank.".to_string()),
            Some(n) if domain::is_blank(n) => errors.push("File name can't be blank.".to_string()),
            Some(n) if !plain_file_name(n) || n.len() > MAX_REPORT_NAME_BYTES => {
                errors.push(format!("{n} isn't a valid report file name."))
            }
            Some(_) => {}
        }
        let send = self
            .delivery_send(caller, SendKind::List, message_id, token, errors)
            .await?;
        let name = file_name.unwrap_or_default();
        // The account's own folder: another account's report of the same name is no conflict.
        let dir = self.folders().reports(&caller.account_id);
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
        .map_err(ServiceError::internal)?;
        let exists = || ServiceError::Conflict(format!("Report file {name} already exists."));
        let file = match created {
            Ok(Some(f)) => f,
            Ok(None) => return Err(exists()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Err(exists()),
            Err(e) => return Err(ServiceError::internal(format!("create report file: {e}"))),
        };
        tokio::spawn(
            self.clone()
                .write_report(send.token.clone(), file, partial, path),
        );
        Ok(send.token)
    }

    /// Writes every recipient, page by page, into the partial file, then links it under its name
    /// (never replacing a file that appeared meanwhile). Pages are read from the store on the
    /// runtime and written on the blocking pool.
    async fn write_report(
        self,
        token: String,
        file: std::fs::File,
        partial: PathBuf,
        path: PathBuf,
    ) {
        const PAGE: u32 = 10_000;
        let utc = self.settings().timestamps_utc;
        let mut out = Some(std::io::BufWriter::new(file));
        let mut ok = true;
        let mut header = true;
        let mut page = 1;
        while ok {
            let rows = match self.store().tracking_page(&token, page, PAGE).await {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::error!(token = %token, error = %e, "delivery report failed");
                    ok = false;
                    break;
                }
            };
            let last = rows.len() < PAGE as usize;
            let Some(mut writer) = out.take() else { break };
            let written = tokio::task::spawn_blocking(move || {
                let mut ok = !header
                    || writeln!(writer, "mobileNumber,standardStatusCode,description,date").is_ok();
                for r in &rows {
                    ok &= writeln!(
                        writer,
                        "{},{},{},{}",
                        r.mobile_number,
                        r.status_code,
                        crate::describe(r).1,
                        domain::format_timestamp(r.updated_at, utc)
                    )
                    .is_ok();
                }
                (writer, ok)
            })
            .await;
            match written {
                Ok((writer, page_ok)) => {
                    out = Some(writer);
                    ok = page_ok;
                }
                Err(e) => {
                    tracing::error!(token = %token, error = %e, "delivery report failed");
                    ok = false;
                }
            }
            header = false;
            if last {
                break;
            }
            page += 1;
        }
        let finish = tokio::task::spawn_blocking(move || {
            let finished = ok
                && out.as_mut().is_some_and(|w| w.flush().is_ok())
                && out.as_ref().is_some_and(|w| w.get_ref().sync_all().is_ok())
                && std::fs::hard_link(&partial, &path).is_ok();
            if !finished {
                tracing::error!(path = %path.display(), "delivery report could not be written");
            }
            let _ = std::fs::remove_file(&partial);
        });
        if let Err(e) = finish.await {
            tracing::error!(error = %e, "delivery report could not be finished");
        }
    }
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

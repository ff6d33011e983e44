//! Work on files of the account's folders (API.md §6): `queueImport` from the import folder,
//! with its status; `refreshList` and its status; `deliveryReport` writing a CSV into the
//! reports folder (the folders: [`crate::folders`]).
//!
//! An import and a report are durable jobs: the request records the job with what it needs to
//! run (its payload), and the engine claims it like a send and hands it back here
//! ([`JobWork`], the engine's [`engine::JobRunner`]). An import writes each batch of rows and
//! its checkpoint in one transaction and stops at a batch boundary when the engine stops; a
//! job its process left is resumed from its checkpoint by the next one. Reading a status
//! changes nothing.

use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};

use async_trait::async_trait;
use domain::{EncodedId, TokenId};
use engine::{JobEnd, JobLease, JobRunner};
use serde::{Deserialize, Serialize};
use store::{
    ContactList, ListJob, ListJobKind, ListJobProgress, ListJobState, NewListJob, SendKind,
    StoreError, SubscribeTo,
};

use crate::import::{self, Flush, ImportError, ImportMapping, ImportReport, Start};
use crate::{Caller, Service, ServiceError, ServiceResult};

/// Rows per transaction of a queueImport.
pub const QUEUE_IMPORT_BATCH: usize = 5_000;
/// Row errors kept in a job's status.
const STATUS_ERRORS: usize = 100;
/// How much of a file is looked at to tell CSV from other content.
const SNIFF_BYTES: usize = 8 * 1024;
/// Longest report file name, in bytes (API.md §6 deliveryReport).
const MAX_REPORT_NAME_BYTES: usize = 200;

/// A plain file name: no path, nothing hidden, no control characters.
pub(crate) fn plain_file_name(name: &str) -> bool {
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
pub(crate) fn open_import_file(dir: &Path, name: &str) -> Result<std::fs::File, String> {
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

/// A job's progress: `prior` errors (recorded before a resume) then the report's.
fn progress_of(prior: &[String], report: &ImportReport) -> ListJobProgress {
    ListJobProgress {
        inserted: i64::try_from(report.added).unwrap_or(i64::MAX),
        updated: i64::try_from(report.updated).unwrap_or(i64::MAX),
        invalid: i64::try_from(report.invalid).unwrap_or(i64::MAX),
        errors: prior
            .iter()
            .cloned()
            .chain(
                report
                    .errors
                    .iter()
                    .map(|e| format!("Row {}: {}", e.row, e.reason)),
            )
            .take(STATUS_ERRORS)
            .collect(),
    }
}

/// What a job needs to run again in another process, as recorded with it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "job")]
pub(crate) enum Payload {
    /// queueImport: the file in the account's import folder, its mapping, and the keyword its
    /// numbers are subscribed to.
    Import {
        file: String,
        mapping: ImportMapping,
        subscribe: Option<SubscribeTo>,
    },
    /// deliveryReport: the send, and the file in the account's reports folder.
    Report { send: String, file: String },
    /// importSend (API.md §6b): an import into the job's list (its numbers subscribed to the
    /// keyword), then the send of the message to that list.
    ImportSend {
        file: String,
        mapping: ImportMapping,
        subscribe: SubscribeTo,
        send: SendAfterImport,
    },
}

/// The send an importSend makes once its import is done: recorded once, whatever the restarts
/// (its token is minted with the request, and the job's token is its idempotency key).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SendAfterImport {
    pub token: String,
    pub client_id: String,
    pub message: String,
    /// `OverrideText`, when `Override` is true.
    pub text: Option<String>,
    pub allow_duplication: bool,
}

impl Payload {
    pub(crate) fn encode(&self) -> ServiceResult<String> {
        serde_json::to_string(self).map_err(ServiceError::internal)
    }
}

/// The partial file a report is written into before it is linked under its name.
fn partial_report(dir: &Path, name: &str, send: &str) -> PathBuf {
    dir.join(format!(".{name}.{send}.partial"))
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
                    // Checked now; the job opens it again when it runs.
                    Ok(_) => file = Some(()),
                    Err(m) => errors.push(m),
                }
            }
        }
        ServiceError::check(errors)?;
        let (Some(list), Some(mapping), Some(()), Some(file)) =
            (list, request.mapping, file, request.file_name)
        else {
            return Err(ServiceError::internal("validated import without its parts"));
        };
        let token = domain::mint_token();
        let payload = Payload::Import {
            file,
            mapping,
            subscribe,
        };
        self.store()
            .create_list_job(NewListJob {
                token: token.clone(),
                account_id: caller.account_id.clone(),
                list_id: Some(list.id),
                kind: ListJobKind::Import,
                state: ListJobState::Queued,
                publish_date: None,
                payload: payload.encode()?,
                created_at: self.now(),
            })
            .await?;
        self.inner.waker.notify_waiters();
        Ok(token)
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
            Ok(j) if j.kind == kind && j.list_id.is_some() => j,
            Ok(_) | Err(StoreError::NotFound) => {
                return Err(ServiceError::invalid(format!(
                    "Token id {token} isn't valid for this client."
                )))
            }
            Err(e) => return Err(e.into()),
        };
        if !job
            .list_id
            .as_deref()
            .is_some_and(|l| l.eq_ignore_ascii_case(list))
        {
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
        self.path_job(caller, list, token, ListJobKind::Import)
            .await
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
                list_id: Some(list.id.clone()),
                kind: ListJobKind::Refresh,
                state: ListJobState::Completed,
                publish_date: Some(list.last_change_at),
                payload: String::new(),
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
        let partial = partial_report(&dir, &name, &send.token);
        // The partial file reserves the name until the job links it (a second request for the
        // same report while it is written is a conflict).
        let created = tokio::task::spawn_blocking({
            let dir = dir.clone();
            move || -> std::io::Result<bool> {
                crate::folders::create_private_dir(&dir)?;
                if std::fs::symlink_metadata(&path).is_ok() {
                    return Ok(false);
                }
                create_report_file(&partial, true).map(|_| true)
            }
        })
        .await
        .map_err(ServiceError::internal)?;
        let exists = || ServiceError::Conflict(format!("Report file {name} already exists."));
        match created {
            Ok(true) => {}
            Ok(false) => return Err(exists()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Err(exists()),
            Err(e) => return Err(ServiceError::internal(format!("create report file: {e}"))),
        }
        let payload = Payload::Report {
            send: send.token.clone(),
            file: name,
        };
        self.store()
            .create_list_job(NewListJob {
                token: domain::mint_token(),
                account_id: caller.account_id.clone(),
                list_id: None,
                kind: ListJobKind::Report,
                state: ListJobState::Queued,
                publish_date: None,
                payload: payload.encode()?,
                created_at: self.now(),
            })
            .await?;
        self.inner.waker.notify_waiters();
        Ok(send.token)
    }

    /// Runs a claimed job to its end, or to the engine's stop.
    async fn run_job(&self, job: ListJob, lease: JobLease) -> JobEnd {
        let payload = serde_json::from_str::<Payload>(&job.payload);
        match (job.kind, payload) {
            (
                ListJobKind::Import,
                Ok(Payload::Import {
                    file,
                    mapping,
                    subscribe,
                }),
            ) => {
                self.run_import(job, lease, file, mapping, subscribe, None)
                    .await
            }
            (
                ListJobKind::Import,
                Ok(Payload::ImportSend {
                    file,
                    mapping,
                    subscribe,
                    send,
                }),
            ) => {
                self.run_import(job, lease, file, mapping, Some(subscribe), Some(send))
                    .await
            }
            (ListJobKind::Report, Ok(Payload::Report { send, file })) => {
                self.run_report(job, lease, send, file).await
            }
            (kind, payload) => {
                tracing::error!(token = %job.token, ?kind, ok = payload.is_ok(), "a job that cannot run");
                let progress = ListJobProgress {
                    errors: vec!["The job failed.".into()],
                    ..job.progress
                };
                finish(&lease, ListJobState::Error, progress, job.checkpoint).await
            }
        }
    }

    /// Runs (or resumes, after its checkpoint) an import: each batch of rows is written with the
    /// job's progress and checkpoint in one transaction. With `then`, the import's send is
    /// recorded once every row is: the job completes when both are done.
    async fn run_import(
        &self,
        job: ListJob,
        lease: JobLease,
        file: String,
        mapping: ImportMapping,
        subscribe: Option<SubscribeTo>,
        then: Option<SendAfterImport>,
    ) -> JobEnd {
        let Some(list_id) = job.list_id.clone() else {
            return finish(&lease, ListJobState::Error, job.progress, job.checkpoint).await;
        };
        let dir = self.folders().imports(&job.account_id);
        let opened = tokio::task::spawn_blocking(move || open_import_file(&dir, &file)).await;
        let reader = match opened {
            Ok(Ok(f)) => f,
            Ok(Err(message)) => {
                let progress = ListJobProgress {
                    errors: vec![message],
                    ..job.progress
                };
                return finish(&lease, ListJobState::Error, progress, job.checkpoint).await;
            }
            Err(e) => {
                tracing::error!(token = %job.token, error = %e, "could not open an import file");
                return JobEnd::Stopped;
            }
        };
        // Resumed: the counts so far continue, and the errors recorded stay first.
        let prior = job.progress.errors.clone();
        let start = Start {
            after_row: u64::try_from(job.checkpoint).unwrap_or(0),
            report: ImportReport {
                added: u64::try_from(job.progress.inserted).unwrap_or(0),
                updated: u64::try_from(job.progress.updated).unwrap_or(0),
                invalid: u64::try_from(job.progress.invalid).unwrap_or(0),
                errors: Vec::new(),
            },
            checkpoints: true,
        };
        let store = self.inner.store.clone();
        let handle = tokio::runtime::Handle::current();
        let (account_id, token) = (job.account_id.clone(), job.token.clone());
        let imported_into = list_id.clone();
        let batch_lease = lease.clone();
        let batch_prior = prior.clone();
        let outcome = tokio::task::spawn_blocking(move || {
            let reader = std::io::BufReader::with_capacity(256 * 1024, reader);
            let mut sink = |flush: Flush<'_>| {
                if batch_lease.stopping() {
                    return Err(ImportError::Stopped);
                }
                let update = batch_lease.update(
                    ListJobState::Processing,
                    progress_of(&batch_prior, flush.report),
                    i64::try_from(flush.through_row).unwrap_or(i64::MAX),
                );
                match handle.block_on(store.import_batch(
                    &update,
                    &account_id,
                    &list_id,
                    flush.rows,
                    subscribe.as_ref(),
                )) {
                    Ok(Some(counts)) => Ok(counts),
                    Ok(None) => Err(ImportError::Lost),
                    Err(e) => Err(ImportError::Store(e)),
                }
            };
            import::import_mapped(reader, &mapping, QUEUE_IMPORT_BATCH, start, &mut sink)
        })
        .await;
        let (state, progress) = match outcome {
            Ok(Ok(report)) => {
                let mut progress = progress_of(&prior, &report);
                let sent = match &then {
                    Some(send) => self.send_after_import(&job, &imported_into, send).await,
                    None => Ok(()),
                };
                match sent {
                    Ok(()) => (ListJobState::Completed, progress),
                    Err(why) => {
                        progress.errors.insert(0, why);
                        progress.errors.truncate(STATUS_ERRORS);
                        (ListJobState::Error, progress)
                    }
                }
            }
            Ok(Err(ImportError::Stopped)) => return JobEnd::Stopped,
            Ok(Err(ImportError::Lost)) => return JobEnd::Lost,
            Ok(Err(ImportError::File(message))) => (
                ListJobState::Error,
                ListJobProgress {
                    errors: vec![message],
                    ..ListJobProgress::default()
                },
            ),
            Ok(Err(ImportError::Store(e))) => {
                tracing::error!(token = %token, error = %e, "import failed");
                return self
                    .fail_import(
                        &job,
                        &lease,
                        "The import failed; rows before the failure were imported.",
                    )
                    .await;
            }
            Err(e) => {
                tracing::error!(token = %token, error = %e, "import task failed");
                return self.fail_import(&job, &lease, "The import failed.").await;
            }
        };
        finish(&lease, state, progress, job.checkpoint).await
    }

    /// Ends an import in Error with `why` first, keeping the counts and checkpoint its batches
    /// recorded since it was claimed (the claimed copy is older).
    async fn fail_import(&self, job: &ListJob, lease: &JobLease, why: &str) -> JobEnd {
        let (mut progress, checkpoint) =
            match self.store().get_list_job(&job.account_id, &job.token).await {
                Ok(now) => (now.progress, now.checkpoint),
                Err(_) => (job.progress.clone(), job.checkpoint),
            };
        progress.errors.insert(0, why.to_string());
        progress.errors.truncate(STATUS_ERRORS);
        finish(lease, ListJobState::Error, progress, checkpoint).await
    }

    /// Writes (again from the start, when resumed) every recipient, page by page, into the
    /// partial file, then links it under its name (never replacing a file that appeared
    /// meanwhile). Pages are read from the store on the runtime and written on the blocking
    /// pool; the engine's stop ends it between pages.
    async fn run_report(
        &self,
        job: ListJob,
        lease: JobLease,
        send: String,
        name: String,
    ) -> JobEnd {
        const PAGE: u32 = 10_000;
        let utc = self.settings().timestamps_utc;
        let dir = self.folders().reports(&job.account_id);
        let path = dir.join(&name);
        let partial = partial_report(&dir, &name, &send);
        let created = tokio::task::spawn_blocking({
            let partial = partial.clone();
            move || create_report_file(&partial, false)
        })
        .await;
        let file = match created {
            Ok(Ok(f)) => f,
            Ok(Err(e)) => {
                tracing::error!(path = %partial.display(), error = %e, "delivery report could not be written");
                return finish(&lease, ListJobState::Error, job.progress, 0).await;
            }
            Err(e) => {
                tracing::error!(error = %e, "delivery report could not be started");
                return JobEnd::Stopped;
            }
        };
        let mut out = Some(std::io::BufWriter::new(file));
        let mut ok = true;
        let mut header = true;
        let mut page = 1;
        while ok {
            if lease.stopping() {
                return JobEnd::Stopped;
            }
            let rows = match self.store().tracking_page(&send, page, PAGE).await {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::error!(token = %send, error = %e, "delivery report failed");
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
                    tracing::error!(token = %send, error = %e, "delivery report failed");
                    ok = false;
                }
            }
            header = false;
            if last {
                break;
            }
            page += 1;
            // Each page renews the lease.
            let update = lease.update(
                ListJobState::Processing,
                job.progress.clone(),
                i64::from(page),
            );
            match lease.record(&update).await {
                Ok(true) => {}
                Ok(false) => return JobEnd::Lost,
                Err(e) => {
                    tracing::error!(token = %send, error = %e, "delivery report failed");
                    ok = false;
                }
            }
        }
        let finished = tokio::task::spawn_blocking(move || {
            let finished = ok
                && out.as_mut().is_some_and(|w| w.flush().is_ok())
                && out.as_ref().is_some_and(|w| w.get_ref().sync_all().is_ok())
                && std::fs::hard_link(&partial, &path).is_ok();
            if !finished {
                tracing::error!(path = %path.display(), "delivery report could not be written");
            }
            let _ = std::fs::remove_file(&partial);
            finished
        })
        .await
        .unwrap_or(false);
        let state = if finished {
            ListJobState::Completed
        } else {
            ListJobState::Error
        };
        finish(&lease, state, job.progress, i64::from(page)).await
    }
}

/// Creates a report's partial file, owner-only (reports hold mobile numbers: API.md §8
/// "Protection"): `new` fails if it exists (reserving the name), otherwise it is emptied.
fn create_report_file(partial: &Path, new: bool) -> std::io::Result<std::fs::File> {
    let mut open = std::fs::OpenOptions::new();
    open.write(true);
    if new {
        open.create_new(true);
    } else {
        open.create(true).truncate(true);
    }
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
    open.open(partial)
}

/// Records a job's final state; how its run ended.
async fn finish(
    lease: &JobLease,
    state: ListJobState,
    progress: ListJobProgress,
    checkpoint: i64,
) -> JobEnd {
    let update = lease.update(state, progress, checkpoint);
    match lease.record(&update).await {
        Ok(true) => JobEnd::Finished,
        Ok(false) => JobEnd::Lost,
        Err(e) => {
            // Unrecorded: the job is run again once its lease runs out.
            tracing::error!(token = %update.token, error = %e, "could not record the end of a job");
            JobEnd::Stopped
        }
    }
}

/// The engine's runner of jobs: the operations, held weakly (the operations hold the engine).
pub(crate) struct JobWork {
    pub(crate) service: Weak<crate::Inner>,
}

#[async_trait]
impl JobRunner for JobWork {
    async fn run(&self, job: ListJob, lease: JobLease) -> JobEnd {
        match self.service.upgrade() {
            Some(inner) => Service { inner }.run_job(job, lease).await,
            // The operations are gone (the process is ending): the job is resumed later.
            None => JobEnd::Stopped,
        }
    }
}

/// Registers the operations as the engine's runner of jobs.
pub(crate) fn register(engine: &engine::Engine, inner: &Arc<crate::Inner>) {
    engine.set_job_runner(Arc::new(JobWork {
        service: Arc::downgrade(inner),
    }));
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

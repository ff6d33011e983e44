//! Contact lists: create, see their size, import contacts from a CSV file with a per-row error
//! report (the admin API's streamed importer, `service::import`), delete.

use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use bytes::Bytes;
use maud::html;
use serde::Deserialize;
use service::admin::ListRequest;
use service::Field as Given;
use store::{Account, ContactList, Keyword};

use super::catalog::Refused;
use super::layout::{
    self, account_base, button_form, csrf_field, errors, id_with_copy, select, Chrome, Field,
    Section,
};
use super::session::{csrf_matches, SessionView, StoredImport};
use super::{
    failure_page, html_response, internal, load_account, see_other, seg, CsrfForm, FormData,
    Refusal, SignedIn,
};
use crate::AppState;
use service::import::ImportReport;

fn lists_page(
    s: &SessionView,
    account: &Account,
    lists: &[ContactList],
    refused: Option<Refused<'_>>,
) -> Response {
    let base = account_base(&account.id);
    let empty = FormData::default();
    let (form, problems, status) = match &refused {
        Some(r) => (r.form, r.errors.as_slice(), r.status),
        None => (&empty, &[][..], StatusCode::OK),
    };
    let body = html! {
        section.card {
            h2 { "Lists" }
            @if lists.is_empty() {
                p.muted { "No lists yet." }
            } @else {
                table.rows {
                    thead { tr { th { "Name" } th { "ID" } th.num { "Contacts" } } }
                    tbody {
                        @for l in lists {
                            tr {
                                td data-label="Name" { a href={ (base) "/lists/" (seg(&l.id)) } { (l.name) } }
                                td data-label="ID" { (id_with_copy(&l.id)) }
                                td.num data-label="Contacts" { (l.size) }
                            }
                        }
                    }
                }
            }
        }
        section.card {
            h2 { "New list" }
            (errors(problems))
            form method="post" action={ (base) "/lists" } {
                (csrf_field(&s.csrf))
                (Field::text("list-name", "name", "Name", form.text("name")).required().render())
                (Field::text("list-id", "id", "ID (optional)", form.text("id"))
                    .hint("Leave empty to have one minted.").render())
                button type="submit" { "Create list" }
            }
        }
    };
    let chrome = Chrome {
        csrf: Some(&s.csrf),
        notice: s.notice.as_deref(),
        account: Some(account),
        section: Section::Lists,
    };
    html_response(status, layout::page(&chrome, "Lists", body))
}

async fn show_lists(
    state: &AppState,
    s: &SessionView,
    account: &Account,
    refused: Option<Refused<'_>>,
) -> Response {
    match state.service.lists(account).await {
        Ok(lists) => lists_page(s, account, &lists, refused),
        Err(e) => internal(s, e),
    }
}

/// `GET /console/accounts/{acct}/lists`.
pub(crate) async fn index(
    State(state): State<AppState>,
    SignedIn(s): SignedIn,
    Path(acct): Path<String>,
) -> Response {
    match load_account(&state, &s, &acct).await {
        Ok(account) => show_lists(&state, &s, &account, None).await,
        Err(r) => r,
    }
}

/// `POST /console/accounts/{acct}/lists`: `POST /admin/v1/accounts/{acct}/lists`.
pub(crate) async fn create(
    State(state): State<AppState>,
    Path(acct): Path<String>,
    f: CsrfForm,
) -> Response {
    let account = match load_account(&state, &f.session, &acct).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let request = ListRequest {
        id: Given::from_option(f.form.filled("id").map(str::to_string)),
        name: Given::Given(f.form.text("name").to_string()),
        problems: Vec::new(),
    };
    let refusal = match state.service.create_list(&account, request).await {
        Ok(list) => {
            state
                .console
                .sessions
                .notify(&f.session.key, format!("List {} created.", list.name));
            return see_other(&format!(
                "{}/lists/{}",
                account_base(&account.id),
                seg(&list.id)
            ));
        }
        Err(e) => Refusal::of(e),
    };
    show_lists(
        &state,
        &f.session,
        &account,
        Some(Refused {
            form: &f.form,
            errors: refusal.errors,
            status: refusal.status,
        }),
    )
    .await
}

fn report_view(import: &StoredImport) -> maud::Markup {
    let r: &ImportReport = &import.report;
    html! {
        section.card #import-report {
            h2 { "Import of " (import.file_name) }
            dl.counts {
                div { dt { "Added" } dd data-report="added" { (r.added) } }
                div { dt { "Updated" } dd data-report="updated" { (r.updated) } }
                div { dt { "Rejected rows" } dd data-report="invalid" { (r.invalid) } }
            }
            @if !r.errors.is_empty() {
                h3 { "Rows not imported" }
                table.rows #import-errors {
                    thead { tr { th.num { "Row" } th { "Value" } th { "Reason" } } }
                    tbody {
                        @for e in &r.errors {
                            tr {
                                td.num data-label="Row" { (e.row) }
                                td data-label="Value" { code { (e.value) } }
                                td data-label="Reason" { (e.reason) }
                            }
                        }
                    }
                }
                @if r.invalid > r.errors.len() as u64 {
                    p.muted { "Only the first " (r.errors.len()) " rejected rows are listed." }
                }
            }
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    import: Option<u64>,
}

fn subscribe_options(keywords: &[Keyword]) -> Vec<(String, String)> {
    let mut options = vec![(String::new(), "Don't subscribe".to_string())];
    options.extend(keywords.iter().map(|k| {
        (
            format!("{} {}", k.code, k.keyword),
            format!("Subscribe to {} on {}", k.keyword, k.code),
        )
    }));
    options
}

#[allow(clippy::too_many_arguments)]
async fn list_page(
    state: &AppState,
    s: &SessionView,
    account: &Account,
    list_id: &str,
    import: Option<StoredImport>,
    problems: &[String],
    chosen_subscribe: &str,
    status: StatusCode,
) -> Response {
    let list = match state.service.list(account, list_id).await {
        Ok(l) => l,
        Err(e) => return failure_page(s, e),
    };
    let keywords = match state.service.keywords(account).await {
        Ok(k) => k,
        Err(e) => return internal(s, e),
    };
    let base = format!("{}/lists/{}", account_base(&account.id), seg(&list.id));
    let body = html! {
        section.card {
            dl.facts {
                dt { "ID" } dd { (id_with_copy(&list.id)) }
                dt { "Contacts" } dd data-list-size { (list.size) }
                dt { "Created" } dd { (super::when(state, list.created_at)) }
            }
            div.actions {
                (button_form(&format!("{base}/delete"), &s.csrf, "Delete list", "danger",
                    Some("Delete this list? Sends not yet started that use it will fail."), &[]))
            }
        }
        @if let Some(import) = &import {
            (report_view(import))
        }
        section.card {
            h2 { "Import contacts from a CSV file" }
            p.hint {
                "A header row names the columns: " code { "mobileNumber" } " (required), "
                code { "subscriberKey" } ", and any others become attributes for %%Name%% \
                placeholders. Bad rows are listed; good rows are imported."
            }
            (errors(problems))
            form method="post" action={ (base) "/upload" } enctype="multipart/form-data" data-upload {
                (csrf_field(&s.csrf))
                (select("upload-subscribe", "subscribe", "Subscription", &subscribe_options(&keywords),
                    chosen_subscribe))
                p.hint { "Only subscribed numbers receive sends of a code's messages." }
                div.field {
                    label for="upload-file" { "CSV file" }
                    input #upload-file type="file" name="file" accept=".csv,text/csv" required;
                }
                div.field.upload-progress hidden {
                    label for="upload-progress" { "Progress" }
                    progress #upload-progress {}
                    output for="upload-file" aria-live="polite" {}
                }
                button type="submit" { "Import" }
            }
        }
    };
    let chrome = Chrome {
        csrf: Some(&s.csrf),
        notice: s.notice.as_deref(),
        account: Some(account),
        section: Section::Lists,
    };
    html_response(status, layout::page(&chrome, &list.name, body))
}

/// `GET /console/accounts/{acct}/lists/{id}[?import=n]`.
pub(crate) async fn show(
    State(state): State<AppState>,
    SignedIn(s): SignedIn,
    Path((acct, id)): Path<(String, String)>,
    Query(q): Query<ListQuery>,
) -> Response {
    let account = match load_account(&state, &s, &acct).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let import = q
        .import
        .and_then(|n| state.console.sessions.import(&s.key, n))
        .filter(|i| i.account_id == account.id && i.list_id.eq_ignore_ascii_case(&id));
    list_page(&state, &s, &account, &id, import, &[], "", StatusCode::OK).await
}

/// `POST /console/accounts/{acct}/lists/{id}/upload` (multipart: `csrf`, `subscribe`, then
/// `file`): the file streams into the admin API's CSV import (API.md §7, its limits included)
/// while it arrives, so memory stays bounded whatever its size.
pub(crate) async fn upload(
    State(state): State<AppState>,
    SignedIn(s): SignedIn,
    Path((acct, id)): Path<(String, String)>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let account = match load_account(&state, &s, &acct).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let refuse = |problem: String, status: StatusCode| {
        let state = state.clone();
        let s = s.clone();
        let account = account.clone();
        let id = id.clone();
        async move { list_page(&state, &s, &account, &id, None, &[problem], "", status).await }
    };
    let mut multipart = match multipart {
        Ok(m) => m,
        Err(e) => return refuse(e.body_text(), e.status()).await,
    };
    // The upload is a streamed upload for API.md §1: it may pause at most 30 s between bytes;
    // a later byte answers 408 and closes the connection.
    let too_slow = || {
        refuse(
            "The request took too long to arrive.".into(),
            StatusCode::REQUEST_TIMEOUT,
        )
    };
    let mut csrf = None;
    let mut subscribe = String::new();
    let mut field = loop {
        let Some(next) = api::arrival::next_within_pause(multipart.next_field()).await else {
            return api::arrival::closing(too_slow().await);
        };
        match next {
            Ok(Some(field)) => match field.name() {
                Some("file") => break field,
                Some("csrf") => match api::arrival::next_within_pause(field.text()).await {
                    Some(text) => csrf = text.ok(),
                    None => return api::arrival::closing(too_slow().await),
                },
                Some("subscribe") => match api::arrival::next_within_pause(field.text()).await {
                    Some(text) => subscribe = text.unwrap_or_default(),
                    None => return api::arrival::closing(too_slow().await),
                },
                _ => {}
            },
            Ok(None) => {
                if !csrf_matches(csrf.as_deref(), &s.csrf) {
                    return super::csrf_refused(Some(&s));
                }
                return refuse(
                    "Choose a CSV file to import.".into(),
                    StatusCode::BAD_REQUEST,
                )
                .await;
            }
            Err(e) => return refuse(e.body_text(), e.status()).await,
        }
    };
    // The token comes before the file in the form, so it is checked before any row is read.
    if !csrf_matches(csrf.as_deref(), &s.csrf) {
        return super::csrf_refused(Some(&s));
    }
    let file_name = field
        .file_name()
        .filter(|n| !n.is_empty())
        .unwrap_or("the uploaded file")
        .to_string();
    let (code, keyword) = subscribe
        .split_once(' ')
        .map(|(c, k)| (c.to_string(), k.to_string()))
        .unwrap_or_default();
    let list = match state.service.list(&account, &id).await {
        Ok(l) => l,
        Err(e) => {
            let refusal = Refusal::of(e);
            return list_page(
                &state,
                &s,
                &account,
                &id,
                None,
                &refusal.errors,
                &subscribe,
                refusal.status,
            )
            .await;
        }
    };
    let target = if code.is_empty() {
        Ok(None)
    } else {
        match state
            .service
            .subscribe_target(&account.id, &code, &keyword)
            .await
        {
            Ok(Ok(to)) => Ok(Some(to)),
            Ok(Err(message)) => Err(Refusal {
                status: StatusCode::BAD_REQUEST,
                errors: vec![message],
            }),
            Err(e) => Err(Refusal::of(e)),
        }
    };

    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let chunks = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    // The importer holds the upload to the pause limit; when it stops (done, refused or too
    // slow), nothing more is read from the client.
    let pump = async move {
        loop {
            let chunk = tokio::select! {
                chunk = field.chunk() => chunk,
                () = tx.closed() => break,
            };
            match chunk {
                Ok(Some(bytes)) => {
                    if tx.send(Ok(bytes)).await.is_err() {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
                    break;
                }
            }
        }
    };
    let import = async {
        match target {
            Ok(to) => {
                api::admin::lists::import_csv_stream(&state.service, &account, &list, to, chunks)
                    .await
                    .map_err(Refusal::of_api)
            }
            Err(refusal) => Err(refusal),
        }
    };
    let (outcome, ()) = tokio::join!(import, pump);
    let report: ImportReport = match outcome {
        Ok(r) => r,
        Err(refusal) if refusal.status == StatusCode::REQUEST_TIMEOUT => {
            return api::arrival::closing(too_slow().await)
        }
        Err(refusal) => {
            return list_page(
                &state,
                &s,
                &account,
                &id,
                None,
                &refusal.errors,
                &subscribe,
                refusal.status,
            )
            .await
        }
    };
    let summary = format!(
        "Imported {file_name}: {} added, {} updated, {} rejected.",
        report.added, report.updated, report.invalid
    );
    let kept = state
        .console
        .sessions
        .keep_import(&s.key, &account.id, &id, &file_name, report);
    state.console.sessions.notify(&s.key, summary);
    let base = format!("{}/lists/{}", account_base(&account.id), seg(&id));
    match kept {
        Some(n) => see_other(&format!("{base}?import={n}#import-report")),
        None => see_other(&base),
    }
}

/// `POST /console/accounts/{acct}/lists/{id}/delete`.
pub(crate) async fn delete(
    State(state): State<AppState>,
    Path((acct, id)): Path<(String, String)>,
    f: CsrfForm,
) -> Response {
    let account = match load_account(&state, &f.session, &acct).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let outcome = state.service.delete_list(&account, &id).await;
    super::catalog::delete_and_return(
        &state,
        &f.session,
        outcome,
        "List deleted.".into(),
        format!("{}/lists", account_base(&account.id)),
    )
}

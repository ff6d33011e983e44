//! Transactional send definitions (API.md §9): see an account's definitions with what waits in
//! each one's queue, create one, make it Active or Inactive, empty an Inactive one's queue,
//! delete (archive) one. Every change goes through the operations the
//! `/messaging/v1/sms/definitions` routes use, with their rules and messages.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use domain::transactional::{DefinitionFields, ListQuery};
use maud::html;
use serde_json::{json, Value};
use service::{Caller, ServiceError};
use store::{Account, Definition, DefinitionStatus};

use super::catalog::Refused;
use super::layout::{
    self, account_base, button_form, checkbox, csrf_field, errors, id_with_copy, preview, select,
    textarea, Chrome, Field, Section,
};
use super::session::SessionView;
use super::{
    html_response, internal, load_account, see_other, seg, CsrfForm, FormData, Refusal, SignedIn,
};
use crate::AppState;

/// The console acts for the account as its API clients do.
fn caller(account: &Account) -> Caller {
    Caller {
        client_id: "console".into(),
        account_id: account.id.clone(),
        scopes: Vec::new(),
    }
}

/// A definition and its queue: (count, age in seconds).
struct Row {
    definition: Definition,
    queue: (i64, i64),
}

fn definitions_page(
    s: &SessionView,
    account: &Account,
    rows: &[Row],
    codes: &[(String, String)],
    refused: Option<Refused<'_>>,
) -> Response {
    let base = account_base(&account.id);
    let empty = FormData::default();
    let (form, problems, status) = match &refused {
        Some(r) => (r.form, r.errors.as_slice(), r.status),
        None => (&empty, &[][..], StatusCode::OK),
    };
    let statuses = [
        ("active".to_string(), "Active".to_string()),
        (
            "inactive".to_string(),
            "Inactive (messages wait)".to_string(),
        ),
    ];
    let body = html! {
        section.card {
            h2 { "Send definitions" }
            p.muted { "What `/messaging/v1/sms` sends name: the text, the code and the keyword." }
            @if rows.is_empty() {
                p.muted { "No definitions yet." }
            } @else {
                table.rows #definitions {
                    thead { tr {
                        th { "Key" } th { "Name" } th { "Status" } th { "Code, keyword" }
                        th { "Text" } th.num { "Waiting" } th { "" }
                    } }
                    tbody {
                        @for r in rows {
                            @let d = &r.definition;
                            @let path = format!("{base}/definitions/{}", seg(&d.definition_key));
                            tr data-definition=(d.definition_key) {
                                td data-label="Key" { (id_with_copy(&d.definition_key)) }
                                td data-label="Name" { (d.name) }
                                td data-label="Status" data-status=(d.status.as_str()) { (d.status.as_str()) }
                                td data-label="Code, keyword" { (d.short_code) " " (d.keyword) }
                                td data-label="Text" { (preview(&d.message, 60)) }
                                td.num data-label="Waiting" data-queue=(r.queue.0) {
                                    (r.queue.0)
                                    @if r.queue.0 > 0 { " (oldest " (r.queue.1) " s)" }
                                }
                                td.actions {
                                    @if d.status == DefinitionStatus::Active {
                                        (button_form(&format!("{path}/status"), &s.csrf, "Deactivate",
                                            "secondary", None, &[("status", "inactive")]))
                                    } @else {
                                        (button_form(&format!("{path}/status"), &s.csrf, "Activate",
                                            "secondary", None, &[("status", "active")]))
                                        @if r.queue.0 > 0 {
                                            (button_form(&format!("{path}/queue/delete"), &s.csrf,
                                                "Empty queue", "danger",
                                                Some("Every waiting message becomes NotSent 39."), &[]))
                                        }
                                    }
                                    (button_form(&format!("{path}/delete"), &s.csrf, "Delete", "danger",
                                        Some("Archive this definition? Waiting messages become NotSent 37."), &[]))
                                }
                            }
                        }
                    }
                }
            }
        }
        section.card {
            h2 { "New definition" }
            (errors(problems))
            form method="post" action={ (base) "/definitions" } {
                (csrf_field(&s.csrf))
                (Field::text("definition-key", "definitionKey", "Key", form.text("definitionKey"))
                    .required().hint("1 to 64 of letters, digits, '-' and '_'; unique in the account.").render())
                (Field::text("definition-name", "name", "Name", form.text("name")).required().render())
                (textarea("definition-message", "message", "Text", form.text("message"), true))
                (select("definition-code", "shortCode", "Code", codes, form.text("shortCode")))
                (Field::text("definition-keyword", "keyword", "Keyword", form.text("keyword"))
                    .required().hint("A keyword on that code.").render())
                (select("definition-status", "status", "Status", &statuses, form.text("status")))
                (checkbox("definition-auto-add", "autoAddSubscriber", "true",
                    "Subscribe numbers that have no subscription", refused.is_none() || form.checked("autoAddSubscriber")))
                button type="submit" { "Create definition" }
            }
        }
    };
    let chrome = Chrome {
        csrf: Some(&s.csrf),
        notice: s.notice.as_deref(),
        account: Some(account),
        section: Section::Definitions,
    };
    html_response(status, layout::page(&chrome, "Send definitions", body))
}

async fn show_definitions(
    state: &AppState,
    s: &SessionView,
    account: &Account,
    refused: Option<Refused<'_>>,
) -> Response {
    let caller = caller(account);
    let query = ListQuery {
        filter: None,
        order: domain::transactional::ListOrder::CreatedDate,
        descending: false,
        page: 1,
        page_size: domain::transactional::MAX_PAGE_SIZE,
    };
    let page = match state.service.list_definitions(&caller, query).await {
        Ok(page) => page,
        Err(e) => return internal(s, e),
    };
    let mut rows = Vec::with_capacity(page.definitions.len());
    for definition in page.definitions {
        let queue = match state
            .service
            .queue_metrics(&caller, &definition.definition_key)
            .await
        {
            Ok(queue) => queue,
            Err(e) => return internal(s, e),
        };
        rows.push(Row { definition, queue });
    }
    let codes = match state.service.codes(account).await {
        Ok(codes) => codes
            .into_iter()
            .map(|c| (c.code.clone(), format!("{} ({})", c.code, c.country_code)))
            .collect::<Vec<_>>(),
        Err(e) => return internal(s, e),
    };
    definitions_page(s, account, &rows, &codes, refused)
}

/// `GET /console/accounts/{acct}/definitions`.
pub(crate) async fn index(
    State(state): State<AppState>,
    SignedIn(s): SignedIn,
    Path(acct): Path<String>,
) -> Response {
    match load_account(&state, &s, &acct).await {
        Ok(account) => show_definitions(&state, &s, &account, None).await,
        Err(r) => r,
    }
}

/// The create form as the body `POST /messaging/v1/sms/definitions` would get.
fn create_body(form: &FormData) -> Value {
    json!({
        "definitionKey": form.text("definitionKey"),
        "name": form.text("name"),
        "status": form.filled("status"),
        "content": {"message": form.text("message")},
        "subscriptions": {
            "shortCode": form.text("shortCode"),
            "keyword": form.text("keyword"),
            "autoAddSubscriber": form.checked("autoAddSubscriber"),
        },
    })
}

/// `POST /console/accounts/{acct}/definitions`: `POST /messaging/v1/sms/definitions`.
pub(crate) async fn create(
    State(state): State<AppState>,
    Path(acct): Path<String>,
    f: CsrfForm,
) -> Response {
    let account = match load_account(&state, &f.session, &acct).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let created = match DefinitionFields::from_value(&create_body(&f.form), true) {
        Ok(read) => {
            state
                .service
                .create_definition(&caller(&account), read)
                .await
        }
        Err(e) => Err(ServiceError::Transactional(e)),
    };
    let refusal = match created {
        Ok(d) => {
            state.console.sessions.notify(
                &f.session.key,
                format!("Definition {} created.", d.definition_key),
            );
            return see_other(&format!("{}/definitions", account_base(&account.id)));
        }
        Err(e) => Refusal::of(e),
    };
    show_definitions(
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

/// Runs a change of one definition and goes back to the page with its outcome as the notice.
async fn change(
    state: &AppState,
    acct: &str,
    f: &CsrfForm,
    done: String,
    run: impl AsyncFnOnce(&Caller) -> Result<(), ServiceError>,
) -> Response {
    let account = match load_account(state, &f.session, acct).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let notice = match run(&caller(&account)).await {
        Ok(()) => done,
        Err(e) => Refusal::of(e).errors.join(" "),
    };
    state.console.sessions.notify(&f.session.key, notice);
    see_other(&format!("{}/definitions", account_base(&account.id)))
}

/// `POST /console/accounts/{acct}/definitions/{key}/status`: PATCH its status.
pub(crate) async fn set_status(
    State(state): State<AppState>,
    Path((acct, key)): Path<(String, String)>,
    f: CsrfForm,
) -> Response {
    let status = f.form.text("status").to_string();
    let body = json!({ "status": status });
    change(
        &state,
        &acct,
        &f,
        format!("Definition {key} is now {status}."),
        async |caller| {
            let read =
                DefinitionFields::from_value(&body, false).map_err(ServiceError::Transactional)?;
            state
                .service
                .update_definition(caller, &key, read)
                .await
                .map(drop)
        },
    )
    .await
}

/// `POST /console/accounts/{acct}/definitions/{key}/queue/delete`: empties its queue.
pub(crate) async fn empty_queue(
    State(state): State<AppState>,
    Path((acct, key)): Path<(String, String)>,
    f: CsrfForm,
) -> Response {
    change(
        &state,
        &acct,
        &f,
        format!("The queue of {key} was emptied."),
        async |caller| state.service.empty_queue(caller, &key).await.map(drop),
    )
    .await
}

/// `POST /console/accounts/{acct}/definitions/{key}/delete`: archives it.
pub(crate) async fn delete(
    State(state): State<AppState>,
    Path((acct, key)): Path<(String, String)>,
    f: CsrfForm,
) -> Response {
    change(
        &state,
        &acct,
        &f,
        format!("Definition {key} deleted."),
        async |caller| {
            state
                .service
                .delete_definition(caller, &key)
                .await
                .map(drop)
        },
    )
    .await
}

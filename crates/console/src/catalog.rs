//! Codes, keywords and messages of an account: create, edit (messages; codes and keywords in
//! `catalog_edit`), activate and deactivate,
//! delete, and copy their IDs. Every change is the admin API's operation (API.md §7).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use service::admin::{CodeRequest, MessageChanges, MessageRequest, OperatorKeywordRequest};
use service::{Field as Given, ServiceError, ServiceResult};
use store::{Account, Code, ContactList, Keyword, Message, MessageStatus};

use super::layout::{
    self, account_base, button_form, checkbox, csrf_field, errors, id_with_copy, preview, select,
    textarea, Chrome, Field, Section,
};
use super::session::SessionView;
use super::{
    html_response, internal, load_account, see_other, seg, CsrfForm, FormData, Refusal, SignedIn,
};
use crate::AppState;

/// A page of an account section.
pub(crate) fn account_page(
    s: &SessionView,
    notice: Option<&str>,
    account: &Account,
    section: Section,
    title: &str,
    status: StatusCode,
    body: Markup,
) -> Response {
    let chrome = Chrome {
        csrf: Some(&s.csrf),
        notice,
        account: Some(account),
        section,
    };
    html_response(status, layout::page(&chrome, title, body))
}

/// What a refused form shows again: the values given and the API's messages.
pub(crate) struct Refused<'a> {
    pub form: &'a FormData,
    pub errors: Vec<String>,
    pub status: StatusCode,
}

// ------------------------------------------------------------------------------------------------
// Codes

/// The options of a select: (value, label).
pub(crate) type Choices = Vec<(String, String)>;

/// The choices of a code form: the configured carriers, and the two kinds of code.
pub(crate) fn code_choices(state: &AppState) -> (Choices, Choices) {
    let carriers = state
        .config
        .carriers
        .iter()
        .map(|c| (c.clone(), c.clone()))
        .collect();
    let kinds = vec![
        ("short".to_string(), "Short code".to_string()),
        ("long".to_string(), "Long code".to_string()),
    ];
    (carriers, kinds)
}

fn codes_page(
    state: &AppState,
    s: &SessionView,
    account: &Account,
    codes: &[Code],
    refused: Option<Refused<'_>>,
) -> Response {
    let base = account_base(&account.id);
    let empty = FormData::default();
    let (form, problems, status) = match &refused {
        Some(r) => (r.form, r.errors.as_slice(), r.status),
        None => (&empty, &[][..], StatusCode::OK),
    };
    let (carriers, kinds) = code_choices(state);
    let body = html! {
        section.card {
            h2 { "Codes" }
            @if codes.is_empty() {
                p.muted { "No codes yet." }
            } @else {
                table.rows {
                    thead { tr { th { "Code" } th { "Type" } th { "Country" } th { "Carrier" } th { "ID" } th { "Actions" } } }
                    tbody {
                        @for c in codes {
                            tr {
                                td data-label="Code" { code { (c.code) } }
                                td data-label="Type" { (c.kind) }
                                td data-label="Country" { (c.country_code) }
                                td data-label="Carrier" { (c.carrier) }
                                td data-label="ID" { (id_with_copy(&c.id)) }
                                td data-label="Actions" {
                                    a.action href={ (base) "/codes/" (seg(&c.id)) } { "Edit" }
                                    (button_form(&format!("{base}/codes/{}/delete", seg(&c.id)), &s.csrf,
                                        "Delete", "danger", Some("Delete this code and its keywords?"), &[]))
                                }
                            }
                        }
                    }
                }
            }
        }
        section.card {
            h2 { "New code" }
            (errors(problems))
            form method="post" action={ (base) "/codes" } {
                (csrf_field(&s.csrf))
                div.grid2 {
                    (Field::text("code-code", "code", "Code", form.text("code")).required()
                        .hint("The short or long code texts come from, e.g. 88976.").render())
                    (Field::text("code-country", "countryCode", "Country code",
                        form.get("countryCode").unwrap_or("US")).render())
                    (select("code-type", "type", "Type", &kinds, form.get("type").unwrap_or("short")))
                    (select("code-carrier", "carrier", "Carrier", &carriers,
                        form.get("carrier").unwrap_or("simulator")))
                }
                (textarea("code-optout", "optOutText", "Opt-out reply (optional)", form.text("optOutText"), false))
                (textarea("code-help", "helpText", "Help reply (optional)", form.text("helpText"), false))
                button type="submit" { "Create code" }
            }
        }
    };
    account_page(
        s,
        s.notice.as_deref(),
        account,
        Section::Codes,
        "Codes",
        status,
        body,
    )
}

/// `GET /console/accounts/{acct}/codes`.
pub(crate) async fn codes(
    State(state): State<AppState>,
    SignedIn(s): SignedIn,
    Path(acct): Path<String>,
) -> Response {
    let account = match load_account(&state, &s, &acct).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    match state.service.codes(&account).await {
        Ok(codes) => codes_page(&state, &s, &account, &codes, None),
        Err(e) => internal(&s, e),
    }
}

/// A form field when filled in.
fn filled(form: &FormData, name: &str) -> Option<String> {
    form.filled(name).map(str::to_string)
}

/// `POST /console/accounts/{acct}/codes`: the admin API's code creation (API.md §7).
pub(crate) async fn create_code(
    State(state): State<AppState>,
    Path(acct): Path<String>,
    f: CsrfForm,
) -> Response {
    let account = match load_account(&state, &f.session, &acct).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let request = CodeRequest {
        code: Given::Given(f.form.text("code").to_string()),
        country_code: filled(&f.form, "countryCode"),
        kind: filled(&f.form, "type"),
        carrier: filled(&f.form, "carrier"),
        opt_out_text: filled(&f.form, "optOutText"),
        help_text: filled(&f.form, "helpText"),
        problems: Vec::new(),
    };
    let refusal = match state.service.create_code(&account, request).await {
        Ok(code) => {
            state
                .console
                .sessions
                .notify(&f.session.key, format!("Code {} created.", code.code));
            return see_other(&format!("{}/codes", account_base(&account.id)));
        }
        Err(e) => Refusal::of(e),
    };
    match state.service.codes(&account).await {
        Ok(codes) => codes_page(
            &state,
            &f.session,
            &account,
            &codes,
            Some(Refused {
                form: &f.form,
                errors: refusal.errors,
                status: refusal.status,
            }),
        ),
        Err(e) => internal(&f.session, e),
    }
}

/// Comes back to `back` with a notice of a delete's outcome.
pub(crate) fn delete_and_return(
    state: &AppState,
    session: &SessionView,
    outcome: ServiceResult<()>,
    done: String,
    back: String,
) -> Response {
    let notice = match outcome {
        Ok(()) => done,
        Err(e) => Refusal::of(e).notice(),
    };
    state.console.sessions.notify(&session.key, notice);
    see_other(&back)
}

/// `POST /console/accounts/{acct}/codes/{id}/delete`.
pub(crate) async fn delete_code(
    State(state): State<AppState>,
    Path((acct, id)): Path<(String, String)>,
    f: CsrfForm,
) -> Response {
    let account = match load_account(&state, &f.session, &acct).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let outcome = state.service.delete_code(&account, &id).await;
    delete_and_return(
        &state,
        &f.session,
        outcome,
        "Code deleted.".into(),
        format!("{}/codes", account_base(&account.id)),
    )
}

// ------------------------------------------------------------------------------------------------
// Keywords

fn keywords_page(
    s: &SessionView,
    account: &Account,
    keywords: &[Keyword],
    codes: &[Code],
    refused: Option<Refused<'_>>,
) -> Response {
    let base = account_base(&account.id);
    let empty = FormData::default();
    let (form, problems, status) = match &refused {
        Some(r) => (r.form, r.errors.as_slice(), r.status),
        None => (&empty, &[][..], StatusCode::OK),
    };
    let code_options: Vec<(String, String)> = codes
        .iter()
        .map(|c| (c.code.clone(), c.code.clone()))
        .collect();
    let body = html! {
        section.card {
            h2 { "Keywords" }
            @if keywords.is_empty() {
                p.muted { "No keywords yet." }
            } @else {
                table.rows {
                    thead { tr { th { "Keyword" } th { "Code" } th { "Reply" } th { "Double opt-in" } th { "ID" } th { "Actions" } } }
                    tbody {
                        @for k in keywords {
                            tr {
                                td data-label="Keyword" { strong { (k.keyword) } }
                                td data-label="Code" { code { (k.code) } }
                                td data-label="Reply" { (k.response.as_deref().unwrap_or("—")) }
                                td data-label="Double opt-in" { (if k.double_opt_in { "Yes" } else { "No" }) }
                                td data-label="ID" { (id_with_copy(&k.id)) }
                                td data-label="Actions" {
                                    a.action href={ (base) "/keywords/" (seg(&k.id)) } { "Edit" }
                                    (button_form(&format!("{base}/keywords/{}/delete", seg(&k.id)), &s.csrf,
                                        "Delete", "danger", Some("Delete this keyword?"), &[]))
                                }
                            }
                        }
                    }
                }
            }
        }
        section.card {
            h2 { "New keyword" }
            @if codes.is_empty() {
                p { "A keyword lives on a code: " a href={ (base) "/codes" } { "create a code" } " first." }
            } @else {
                (errors(problems))
                form method="post" action={ (base) "/keywords" } {
                    (csrf_field(&s.csrf))
                    div.grid2 {
                        (select("keyword-code", "code", "Code", &code_options,
                            form.get("code").unwrap_or("")))
                        (Field::text("keyword-keyword", "keyword", "Keyword", form.text("keyword"))
                            .required().hint("One word, e.g. JOIN.").render())
                    }
                    (textarea("keyword-response", "response", "Reply (optional)", form.text("response"), false))
                    (checkbox("keyword-double", "doubleOptIn", "true", "Double opt-in (ask for confirmation)",
                        form.checked("doubleOptIn")))
                    (textarea("keyword-confirm", "confirmText", "Confirmation request (for double opt-in)",
                        form.text("confirmText"), false))
                    button type="submit" { "Create keyword" }
                }
            }
        }
    };
    account_page(
        s,
        s.notice.as_deref(),
        account,
        Section::Keywords,
        "Keywords",
        status,
        body,
    )
}

async fn show_keywords(
    state: &AppState,
    s: &SessionView,
    account: &Account,
    refused: Option<Refused<'_>>,
) -> Response {
    let loaded = async {
        Ok::<_, ServiceError>((
            state.service.keywords(account).await?,
            state.service.codes(account).await?,
        ))
    }
    .await;
    match loaded {
        Ok((keywords, codes)) => keywords_page(s, account, &keywords, &codes, refused),
        Err(e) => internal(s, e),
    }
}

/// `GET /console/accounts/{acct}/keywords`.
pub(crate) async fn keywords(
    State(state): State<AppState>,
    SignedIn(s): SignedIn,
    Path(acct): Path<String>,
) -> Response {
    match load_account(&state, &s, &acct).await {
        Ok(account) => show_keywords(&state, &s, &account, None).await,
        Err(r) => r,
    }
}

/// `POST /console/accounts/{acct}/keywords`: `POST /admin/v1/accounts/{acct}/keywords`.
pub(crate) async fn create_keyword(
    State(state): State<AppState>,
    Path(acct): Path<String>,
    f: CsrfForm,
) -> Response {
    let account = match load_account(&state, &f.session, &acct).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let request = OperatorKeywordRequest {
        code: Given::Given(f.form.text("code").to_string()),
        keyword: Given::Given(f.form.text("keyword").to_string()),
        response: filled(&f.form, "response"),
        double_opt_in: Some(f.form.checked("doubleOptIn")),
        confirm_text: filled(&f.form, "confirmText"),
        problems: Vec::new(),
    };
    let refusal = match state.service.create_keyword(&account, request).await {
        Ok(k) => {
            state
                .console
                .sessions
                .notify(&f.session.key, format!("Keyword {} created.", k.keyword));
            return see_other(&format!("{}/keywords", account_base(&account.id)));
        }
        Err(e) => Refusal::of(e),
    };
    show_keywords(
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

/// `POST /console/accounts/{acct}/keywords/{id}/delete`.
pub(crate) async fn delete_keyword(
    State(state): State<AppState>,
    Path((acct, id)): Path<(String, String)>,
    f: CsrfForm,
) -> Response {
    let account = match load_account(&state, &f.session, &acct).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let outcome = state.service.delete_keyword(&account, &id).await;
    delete_and_return(
        &state,
        &f.session,
        outcome,
        "Keyword deleted.".into(),
        format!("{}/keywords", account_base(&account.id)),
    )
}

// ------------------------------------------------------------------------------------------------
// Messages

const STATUSES: [MessageStatus; 4] = [
    MessageStatus::Active,
    MessageStatus::Scheduled,
    MessageStatus::Inactive,
    MessageStatus::Draft,
];

/// The values a message form starts with.
struct MessageValues {
    id: String,
    name: String,
    code: String,
    text: String,
    status: String,
    targets: Vec<String>,
    exclusions: Vec<String>,
    content_url: String,
}

impl MessageValues {
    fn of(m: &Message) -> MessageValues {
        MessageValues {
            id: m.id.clone(),
            name: m.name.clone(),
            code: m.code.clone(),
            text: m.text.clone(),
            status: m.status.as_str().to_string(),
            targets: m.target_list_ids.clone(),
            exclusions: m.exclusion_list_ids.clone(),
            content_url: m.content_url.clone().unwrap_or_default(),
        }
    }

    fn from_form(f: &FormData) -> MessageValues {
        MessageValues {
            id: f.text("id").to_string(),
            name: f.text("name").to_string(),
            code: f.text("code").to_string(),
            text: f.text("text").to_string(),
            status: f.get("status").unwrap_or("Active").to_string(),
            targets: f.all("targetListIds"),
            exclusions: f.all("exclusionListIds"),
            content_url: f.text("contentUrl").to_string(),
        }
    }

    fn empty() -> MessageValues {
        MessageValues::from_form(&FormData::default())
    }
}

fn has(ids: &[String], id: &str) -> bool {
    ids.iter().any(|i| i.eq_ignore_ascii_case(id))
}

/// Checkboxes of the account's lists.
pub(crate) fn list_choices(
    prefix: &str,
    name: &str,
    legend: &str,
    lists: &[ContactList],
    chosen: &[String],
) -> Markup {
    html! {
        fieldset {
            legend { (legend) }
            @if lists.is_empty() {
                p.muted { "The account has no lists yet." }
            }
            @for (i, l) in lists.iter().enumerate() {
                (checkbox(&format!("{prefix}-{i}"), name, &l.id,
                    &format!("{} ({} contacts)", l.name, l.size), has(chosen, &l.id)))
            }
        }
    }
}

/// The fields of a message (create and edit).
fn message_fields(
    prefix: &str,
    v: &MessageValues,
    codes: &[Code],
    lists: &[ContactList],
    with_id: bool,
) -> Markup {
    let code_options: Vec<(String, String)> = codes
        .iter()
        .map(|c| (c.code.clone(), c.code.clone()))
        .collect();
    let statuses: Vec<(String, String)> = STATUSES
        .iter()
        .map(|s| (s.as_str().to_string(), s.as_str().to_string()))
        .collect();
    html! {
        div.grid2 {
            (Field::text(&format!("{prefix}-name"), "name", "Name", &v.name).required().render())
            @if with_id {
                (Field::text(&format!("{prefix}-id"), "id", "ID (optional)", &v.id)
                    .hint("Leave empty to have one minted, or keep an existing MobileConnect \
                           message's ID.").render())
            }
            (select(&format!("{prefix}-code"), "code", "Code", &code_options, &v.code))
            (select(&format!("{prefix}-status"), "status", "Status", &statuses, &v.status))
        }
        (textarea(&format!("{prefix}-text"), "text", "Text", &v.text, false))
        p.hint { "%%Name%% is replaced by the contact's attribute of that name." }
        (list_choices(&format!("{prefix}-target"), "targetListIds", "Default target lists", lists, &v.targets))
        (list_choices(&format!("{prefix}-exclusion"), "exclusionListIds", "Default exclusion lists", lists, &v.exclusions))
        (Field::text(&format!("{prefix}-url"), "contentUrl", "Content URL (optional, makes it MMS)", &v.content_url)
            .kind("url").render())
    }
}

/// A new message as the form gives it.
fn message_request(f: &FormData) -> MessageRequest {
    MessageRequest {
        id: Given::from_option(filled(f, "id")),
        name: Some(f.text("name").to_string()),
        code: Given::Given(f.text("code").to_string()),
        text: Some(f.text("text").to_string()),
        status: Some(f.get("status").unwrap_or("Active").to_string()),
        target_list_ids: Some(f.all("targetListIds")),
        exclusion_list_ids: Some(f.all("exclusionListIds")),
        content_url: Given::from_option(filled(f, "contentUrl")),
        problems: Vec::new(),
    }
}

/// Changes to a message as the edit form gives them: an empty URL clears it.
fn message_changes(f: &FormData) -> MessageChanges {
    MessageChanges {
        name: Some(f.text("name").to_string()),
        code: Some(f.text("code").to_string()),
        text: Some(f.text("text").to_string()),
        status: Some(f.get("status").unwrap_or("Active").to_string()),
        target_list_ids: Some(f.all("targetListIds")),
        exclusion_list_ids: Some(f.all("exclusionListIds")),
        content_url: Given::Given(f.filled("contentUrl").unwrap_or("").to_string()),
        problems: Vec::new(),
    }
}

fn lists_by_id(lists: &[ContactList], ids: &[String]) -> Markup {
    html! {
        @if ids.is_empty() {
            "—"
        } @else {
            @for (i, id) in ids.iter().enumerate() {
                @if i > 0 { ", " }
                @match lists.iter().find(|l| l.id.eq_ignore_ascii_case(id)) {
                    Some(l) => { (l.name) " " code { (l.id) } },
                    None => { code { (id) } },
                }
            }
        }
    }
}

struct Catalog {
    codes: Vec<Code>,
    lists: Vec<ContactList>,
}

async fn catalog(state: &AppState, account: &Account) -> ServiceResult<Catalog> {
    Ok(Catalog {
        codes: state.service.codes(account).await?,
        lists: state.service.lists(account).await?,
    })
}

fn messages_page(
    s: &SessionView,
    account: &Account,
    messages: &[Message],
    cat: &Catalog,
    refused: Option<Refused<'_>>,
) -> Response {
    let base = account_base(&account.id);
    let (values, problems, status) = match &refused {
        Some(r) => (
            MessageValues::from_form(r.form),
            r.errors.as_slice(),
            r.status,
        ),
        None => (MessageValues::empty(), &[][..], StatusCode::OK),
    };
    let body = html! {
        section.card {
            h2 { "Messages" }
            @if messages.is_empty() {
                p.muted { "No messages yet." }
            } @else {
                table.rows {
                    thead { tr { th { "Name" } th { "ID" } th { "Status" } th { "Code" } th { "Text" } } }
                    tbody {
                        @for m in messages {
                            tr {
                                td data-label="Name" { a href={ (base) "/messages/" (seg(&m.id)) } { (m.name) } }
                                td data-label="ID" { (id_with_copy(&m.id)) }
                                td data-label="Status" { (m.status.as_str()) }
                                td data-label="Code" { code { (m.code) } }
                                td data-label="Text" { (preview(&m.text, 80)) }
                            }
                        }
                    }
                }
            }
        }
        section.card {
            h2 { "New message" }
            @if cat.codes.is_empty() {
                p { "A message is sent from a code: " a href={ (base) "/codes" } { "create a code" } " first." }
            } @else {
                (errors(problems))
                form method="post" action={ (base) "/messages" } {
                    (csrf_field(&s.csrf))
                    (message_fields("new-message", &values, &cat.codes, &cat.lists, true))
                    button type="submit" { "Create message" }
                }
            }
        }
    };
    account_page(
        s,
        s.notice.as_deref(),
        account,
        Section::Messages,
        "Messages",
        status,
        body,
    )
}

async fn show_messages(
    state: &AppState,
    s: &SessionView,
    account: &Account,
    refused: Option<Refused<'_>>,
) -> Response {
    let loaded = async {
        Ok::<_, ServiceError>((
            state.service.messages(account).await?,
            catalog(state, account).await?,
        ))
    }
    .await;
    match loaded {
        Ok((messages, cat)) => messages_page(s, account, &messages, &cat, refused),
        Err(e) => internal(s, e),
    }
}

/// `GET /console/accounts/{acct}/messages`.
pub(crate) async fn messages(
    State(state): State<AppState>,
    SignedIn(s): SignedIn,
    Path(acct): Path<String>,
) -> Response {
    match load_account(&state, &s, &acct).await {
        Ok(account) => show_messages(&state, &s, &account, None).await,
        Err(r) => r,
    }
}

/// `POST /console/accounts/{acct}/messages`: `POST /admin/v1/accounts/{acct}/messages`.
pub(crate) async fn create_message(
    State(state): State<AppState>,
    Path(acct): Path<String>,
    f: CsrfForm,
) -> Response {
    let account = match load_account(&state, &f.session, &acct).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let refusal = match state
        .service
        .create_message(&account, message_request(&f.form))
        .await
    {
        Ok(m) => {
            state
                .console
                .sessions
                .notify(&f.session.key, format!("Message {} created.", m.name));
            return see_other(&format!(
                "{}/messages/{}",
                account_base(&account.id),
                seg(&m.id)
            ));
        }
        Err(e) => Refusal::of(e),
    };
    show_messages(
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

/// Which form of the message page was refused.
pub(crate) enum MessageRefusal<'a> {
    None,
    Edit(Refused<'a>),
    Send(Refused<'a>),
}

/// The message page: its facts, the edit form, activation, a test send, its recent sends.
pub(crate) async fn message_page(
    state: &AppState,
    s: &SessionView,
    account: &Account,
    message_id: &str,
    refusal: MessageRefusal<'_>,
) -> Response {
    let m = match state.service.message(account, message_id).await {
        Ok(m) => m,
        Err(e) => return super::failure_page(s, e),
    };
    let loaded = async {
        let cat = catalog(state, account).await?;
        let sends = state
            .service
            .sends_page(account, None, None, 200)
            .await?
            .map(|page| page.sends)
            .unwrap_or_default();
        Ok::<_, ServiceError>((cat, sends))
    }
    .await;
    let (cat, sends) = match loaded {
        Ok(v) => v,
        Err(e) => return internal(s, e),
    };
    let sends: Vec<store::Send> = sends
        .into_iter()
        .filter(|x| x.message_id == m.id)
        .take(10)
        .collect();
    let base = format!("{}/messages/{}", account_base(&account.id), seg(&m.id));
    let (edit_values, edit_errors, send_form, send_errors, status) = match &refusal {
        MessageRefusal::None => (
            MessageValues::of(&m),
            &[][..],
            None,
            &[][..],
            StatusCode::OK,
        ),
        MessageRefusal::Edit(r) => (
            MessageValues::from_form(r.form),
            r.errors.as_slice(),
            None,
            &[][..],
            r.status,
        ),
        MessageRefusal::Send(r) => (
            MessageValues::of(&m),
            &[][..],
            Some(r.form),
            r.errors.as_slice(),
            r.status,
        ),
    };
    let (toggle_label, toggle_to) = if m.status.can_send() {
        ("Deactivate", "Inactive")
    } else {
        ("Activate", "Active")
    };
    let body = html! {
        section.card {
            dl.facts {
                dt { "ID" } dd { (id_with_copy(&m.id)) }
                dt { "Status" } dd { span.state data-message-status { (m.status.as_str()) } }
                dt { "Code" } dd { code { (m.code) } }
                dt { "Text" } dd { pre.text { (m.text) } }
                dt { "Target lists" } dd { (lists_by_id(&cat.lists, &m.target_list_ids)) }
                dt { "Exclusion lists" } dd { (lists_by_id(&cat.lists, &m.exclusion_list_ids)) }
                dt { "Content URL" } dd { (m.content_url.as_deref().unwrap_or("—")) }
                dt { "Created" } dd { (super::when(state, m.created_at)) }
                dt { "Modified" } dd { (super::when(state, m.updated_at)) }
            }
            div.actions {
                (button_form(&format!("{base}/status"), &s.csrf, toggle_label, "secondary", None,
                    &[("status", toggle_to)]))
                (button_form(&format!("{base}/delete"), &s.csrf, "Delete", "danger",
                    Some("Delete this message? Sends already accepted keep their text."), &[]))
            }
            p.hint { "Send it over the API with POST /sms/v1/messageList/" code { (m.id) } "/send." }
        }
        (super::sends::test_send_form(state, s, &base, &cat.lists, send_form, send_errors))
        section.card {
            h2 { "Edit" }
            (errors(edit_errors))
            form method="post" action=(base) {
                (csrf_field(&s.csrf))
                (message_fields("edit-message", &edit_values, &cat.codes, &cat.lists, false))
                button type="submit" { "Save changes" }
            }
        }
        section.card {
            h2 { "Recent sends of this message" }
            (super::sends::sends_table(state, account, &sends))
        }
    };
    account_page(
        s,
        s.notice.as_deref(),
        account,
        Section::Messages,
        &m.name,
        status,
        body,
    )
}

/// `GET /console/accounts/{acct}/messages/{id}`.
pub(crate) async fn message(
    State(state): State<AppState>,
    SignedIn(s): SignedIn,
    Path((acct, id)): Path<(String, String)>,
) -> Response {
    match load_account(&state, &s, &acct).await {
        Ok(account) => message_page(&state, &s, &account, &id, MessageRefusal::None).await,
        Err(r) => r,
    }
}

/// `POST /console/accounts/{acct}/messages/{id}`: `PATCH /admin/v1/accounts/{acct}/messages/{id}`.
pub(crate) async fn update_message(
    State(state): State<AppState>,
    Path((acct, id)): Path<(String, String)>,
    f: CsrfForm,
) -> Response {
    let account = match load_account(&state, &f.session, &acct).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let saved = match state.service.message(&account, &id).await {
        Ok(_) => {
            state
                .service
                .update_message(&account, &id, message_changes(&f.form))
                .await
        }
        Err(e) => Err(e),
    };
    let refusal = match saved {
        Ok(m) => {
            state
                .console
                .sessions
                .notify(&f.session.key, "Message saved.");
            return see_other(&format!(
                "{}/messages/{}",
                account_base(&account.id),
                seg(&m.id)
            ));
        }
        Err(e) => Refusal::of(e),
    };
    message_page(
        &state,
        &f.session,
        &account,
        &id,
        MessageRefusal::Edit(Refused {
            form: &f.form,
            errors: refusal.errors,
            status: refusal.status,
        }),
    )
    .await
}

/// `POST /console/accounts/{acct}/messages/{id}/status`: activate or deactivate (a PATCH of the
/// status alone).
pub(crate) async fn set_status(
    State(state): State<AppState>,
    Path((acct, id)): Path<(String, String)>,
    f: CsrfForm,
) -> Response {
    let account = match load_account(&state, &f.session, &acct).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let changes = MessageChanges {
        status: Some(f.form.text("status").to_string()),
        ..MessageChanges::default()
    };
    let saved = match state.service.message(&account, &id).await {
        Ok(_) => state.service.update_message(&account, &id, changes).await,
        Err(e) => Err(e),
    };
    let notice = match saved {
        Ok(m) => format!("Message is now {}.", m.status.as_str()),
        Err(e) => Refusal::of(e).notice(),
    };
    state.console.sessions.notify(&f.session.key, notice);
    see_other(&format!(
        "{}/messages/{}",
        account_base(&account.id),
        seg(&id)
    ))
}

/// `POST /console/accounts/{acct}/messages/{id}/delete`.
pub(crate) async fn delete_message(
    State(state): State<AppState>,
    Path((acct, id)): Path<(String, String)>,
    f: CsrfForm,
) -> Response {
    let account = match load_account(&state, &f.session, &acct).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let outcome = state.service.delete_message(&account, &id).await;
    delete_and_return(
        &state,
        &f.session,
        outcome,
        "Message deleted.".into(),
        format!("{}/messages", account_base(&account.id)),
    )
}

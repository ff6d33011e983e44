//! Sends: the account's list, a send's page with live counts (Server-Sent Events), its
//! per-recipient tracking, cancel, a test send of a message, and the simulator's outbox.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use domain::{BlackoutInput, SendListOptions, SendListRequest};
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::{json, Value};
use store::{Account, ContactList, Send, SendKind, SendState};

use super::catalog::{list_choices, message_page, MessageRefusal, Refused};
use super::layout::{
    self, account_base, button_form, checkbox, csrf_field, errors, id_with_copy, preview, select,
    textarea, Chrome, Field, Section,
};
use super::session::SessionView;
use super::{
    failure_page, html_response, internal, load_account, see_other, seg, when, CsrfForm, FormData,
    Refusal, SignedIn, BASE,
};
use crate::AppState;

/// How often a live page's stream looks at the send.
const POLL: Duration = Duration::from_secs(1);
/// Sends per page of the list.
const SENDS_PAGE: u32 = 50;
/// Tracking entries per page.
const TRACKING_PAGE: u32 = 100;
/// Outbox items per page.
const OUTBOX_PAGE: u32 = 100;

fn send_base(account_id: &str, token: &str) -> String {
    format!("{}/sends/{}", account_base(account_id), seg(token))
}

fn state_badge(state: SendState) -> Markup {
    html! { span class={ "state state-" (state.as_str()) } data-field="status" { (state.as_str()) } }
}

/// A table of sends (newest first).
pub(crate) fn sends_table(state: &AppState, account: &Account, sends: &[Send]) -> Markup {
    html! {
        @if sends.is_empty() {
            p.muted { "No sends yet." }
        } @else {
            table.rows {
                thead { tr {
                    th { "Send" } th { "Message" } th { "State" } th.num { "Recipients" }
                    th { "Created" } th { "Text" }
                } }
                tbody {
                    @for x in sends {
                        tr {
                            td data-label="Send" { a href=(send_base(&account.id, &x.token)) { code { (x.token) } } }
                            td data-label="Message" {
                                a href={ (account_base(&account.id)) "/messages/" (seg(&x.message_id)) } { code { (x.message_id) } }
                            }
                            td data-label="State" { span class={ "state state-" (x.state.as_str()) } { (x.state.as_str()) } }
                            td.num data-label="Recipients" { (x.count) }
                            td data-label="Created" { span.when { (when(state, x.created_at)) } }
                            td data-label="Text" { (preview(&x.text, 60)) }
                        }
                    }
                }
            }
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct SendsQuery {
    state: Option<String>,
    after: Option<String>,
}

/// `GET /console/accounts/{acct}/sends[?state=&after=]`.
pub(crate) async fn index(
    State(state): State<AppState>,
    SignedIn(s): SignedIn,
    Path(acct): Path<String>,
    Query(q): Query<SendsQuery>,
) -> Response {
    let account = match load_account(&state, &s, &acct).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let filter = q.state.as_deref().and_then(SendState::parse);
    let after = q.after.clone().filter(|a| !a.is_empty());
    let sends = match state
        .service
        .sends_page(&account, filter, after, SENDS_PAGE)
        .await
    {
        Ok(Some(page)) => page.sends,
        Ok(None) => return internal(&s, "the page cursor names no send of the account"),
        Err(e) => return internal(&s, e),
    };
    let base = account_base(&account.id);
    let mut options = vec![(String::new(), "Any state".to_string())];
    options.extend(
        SendState::ALL
            .iter()
            .map(|st| (st.as_str().to_string(), st.as_str().to_string())),
    );
    let chosen = filter.map(|f| f.as_str()).unwrap_or("");
    let next = (sends.len() == SENDS_PAGE as usize)
        .then(|| sends.last().map(|x| x.token.clone()))
        .flatten();
    let body = html! {
        section.card {
            form method="get" action={ (base) "/sends" } {
                (select("sends-state", "state", "State", &options, chosen))
                button.secondary type="submit" { "Show" }
            }
        }
        section.card {
            (sends_table(&state, &account, &sends))
            div.pager {
                @if q.after.is_some() { a href={ (base) "/sends?state=" (chosen) } { "Newest sends" } }
                @if let Some(next) = next {
                    a href={ (base) "/sends?state=" (chosen) "&after=" (seg(&next)) } { "Older sends" }
                }
            }
        }
    };
    let chrome = Chrome {
        csrf: Some(&s.csrf),
        notice: s.notice.as_deref(),
        account: Some(&account),
        section: Section::Sends,
    };
    html_response(StatusCode::OK, layout::page(&chrome, "Sends", body))
}

/// The send of an account, or a 404 page.
async fn load_send(
    state: &AppState,
    s: &SessionView,
    account: &Account,
    token: &str,
) -> Result<Send, Response> {
    state
        .service
        .send(account, token)
        .await
        .map_err(|e| failure_page(s, e))
}

fn offset_text(minutes: i32) -> String {
    let sign = if minutes < 0 { '-' } else { '+' };
    let m = minutes.unsigned_abs();
    format!("UTC{sign}{:02}:{:02}", m / 60, m % 60)
}

fn window_text(w: &domain::BlackoutWindow) -> String {
    let hm = |m: i32| format!("{:02}:{:02}", m / 60, m % 60);
    format!(
        "no texts from {} to {} ({})",
        hm(w.start.minute_of_day()),
        hm(w.end.minute_of_day()),
        offset_text(w.offset.minutes())
    )
}

/// What a live page shows of a send: state, counts, when it may go next.
async fn progress(
    state: &AppState,
    account: &Account,
    token: &str,
) -> Result<Value, service::ServiceError> {
    let (send, counts, next_at) = state.service.send_progress(account, token).await?;
    let scheduled = next_at.map(|t| when(state, t));
    let deferred_note = match (&scheduled, counts.deferred) {
        (Some(at), n) if n > 0 => {
            format!("{n} recipients wait for the blackout window to end ({at}).")
        }
        _ => String::new(),
    };
    Ok(json!({
        "status": send.state.as_str(),
        "final": send.state.is_final(),
        // Nothing can change any more: final, and no recipient waits for a receipt.
        "settled": send.state.is_final() && counts.sent == 0 && counts.unknown == 0,
        "count": send.count,
        "counts": counts,
        "scheduledFor": scheduled,
        "completeDate": send.completed_at.map(|t| when(state, t)),
        "deferredNote": deferred_note,
        "errors": send.errors,
    }))
}

fn count_cell(label: &str, key: &str, value: &Value) -> Markup {
    html! {
        div { dt { (label) } dd data-field={ "count-" (key) } { (value.get(key).and_then(Value::as_i64).unwrap_or(0)) } }
    }
}

/// `GET /console/accounts/{acct}/sends/{token}`: the send with live counts.
pub(crate) async fn show(
    State(state): State<AppState>,
    SignedIn(s): SignedIn,
    Path((acct, token)): Path<(String, String)>,
) -> Response {
    let account = match load_account(&state, &s, &acct).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let send = match load_send(&state, &s, &account, &token).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let p = match progress(&state, &account, &send.token).await {
        Ok(p) => p,
        Err(e) => return internal(&s, e),
    };
    let lists = state.service.lists(&account).await.unwrap_or_default();
    let list_names = |ids: &[String]| -> String {
        if ids.is_empty() {
            return "—".into();
        }
        ids.iter()
            .map(
                |id| match lists.iter().find(|l| l.id.eq_ignore_ascii_case(id)) {
                    Some(l) => format!("{} ({})", l.name, l.id),
                    None => id.clone(),
                },
            )
            .collect::<Vec<_>>()
            .join(", ")
    };
    let base = send_base(&account.id, &send.token);
    let counts = &p["counts"];
    let body = html! {
        section.card data-events={ (base) "/events" } {
            p { "State: " (state_badge(send.state)) }
            p.live data-live-note { "Reload the page to see the latest counts." }
            dl.counts {
                (count_cell("Recipients", "recipients", counts))
                (count_cell("Queued", "queued", counts))
                (count_cell("Deferred", "deferred", counts))
                (count_cell("Sent", "sent", counts))
                (count_cell("Delivered", "delivered", counts))
                (count_cell("Failed", "failed", counts))
                (count_cell("Unknown", "unknown", counts))
                (count_cell("Suppressed", "suppressed", counts))
                (count_cell("Canceled", "canceled", counts))
            }
            p data-field="deferred-note" { (p["deferredNote"].as_str().unwrap_or("")) }
            div.actions {
                a href={ (base) "/tracking" } { "Tracking per recipient" }
                @if !send.state.is_final() {
                    div data-while-open {
                        (button_form(&format!("{base}/cancel"), &s.csrf, "Cancel send", "danger",
                            Some("Cancel this send? Recipients not yet handed to a carrier never will be."), &[]))
                    }
                }
            }
        }
        section.card {
            dl.facts {
                dt { "Token" } dd { (id_with_copy(&send.token)) }
                dt { "Message" } dd {
                    a href={ (account_base(&account.id)) "/messages/" (seg(&send.message_id)) } { code { (send.message_id) } }
                }
                dt { "Created" } dd { (when(&state, send.created_at)) }
                dt { "Scheduled for / next hand-off" } dd data-field="scheduledFor" {
                    (p["scheduledFor"].as_str().unwrap_or("—"))
                }
                dt { "Completed" } dd data-field="completeDate" { (p["completeDate"].as_str().unwrap_or("—")) }
                dt { "Blackout window" } dd { (send.window.as_ref().map(window_text).unwrap_or_else(|| "—".into())) }
                dt { "Target lists" } dd { (list_names(&send.target_list_ids)) }
                dt { "Exclusion lists" } dd { (list_names(&send.exclusion_list_ids)) }
                dt { "Encoding" } dd { (send.encoding) ", " (send.segments) " segment(s)" }
                dt { "Text" } dd { pre.text { (send.text) } }
                @if let Some(url) = &send.content_url {
                    dt { "Content URL" } dd { (url) }
                }
                dt { "Errors" } dd data-field="errors" { (send.errors.join(" ")) }
            }
        }
    };
    let chrome = Chrome {
        csrf: Some(&s.csrf),
        notice: s.notice.as_deref(),
        account: Some(&account),
        section: Section::Sends,
    };
    html_response(StatusCode::OK, layout::page(&chrome, "Send", body))
}

#[derive(Debug, Deserialize)]
pub(crate) struct PageQuery {
    page: Option<u32>,
}

/// `GET /console/accounts/{acct}/sends/{token}/tracking[?page=n]`: one entry per recipient, as
/// the deliveries endpoint reports them (API.md §5), refreshed live.
pub(crate) async fn tracking(
    State(state): State<AppState>,
    SignedIn(s): SignedIn,
    Path((acct, token)): Path<(String, String)>,
    Query(q): Query<PageQuery>,
) -> Response {
    let account = match load_account(&state, &s, &acct).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let send = match load_send(&state, &s, &account, &token).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let page = q.page.unwrap_or(1).max(1);
    let page_of = service::Page {
        number: page,
        size: TRACKING_PAGE,
    };
    let report = match state.service.send_report(send.clone(), page_of).await {
        Ok(report) => report,
        Err(e) => return internal(&s, format!("{e:?}")),
    };
    let entries = &report.tracking;
    let total = send.count.max(0) as u64;
    let pages = total.div_ceil(u64::from(TRACKING_PAGE)).max(1);
    let base = send_base(&account.id, &send.token);
    // What the deliveries endpoint reports of an entry (API.md §5).
    let status = |e: &store::TrackingRow| -> String {
        match (send.kind, &e.text) {
            (SendKind::Mo, Some(text)) => text.clone(),
            _ => service::describe(e).0.to_string(),
        }
    };
    let body = html! {
        section.card data-events={ (base) "/events" } {
            p { "State: " (state_badge(send.state)) " · " a href=(base) { "Back to the send" } }
            p.live data-live-note { "Reload the page to see the latest statuses." }
            div #tracking {
                p { (total) " recipients · page " (page) " of " (pages) }
                @if entries.is_empty() {
                    p.muted { "No recipients yet: the audience is expanded when the send is due." }
                } @else {
                    table.rows {
                        thead { tr {
                            th { "Mobile number" } th { "Code" } th { "Status" } th { "Description" } th { "Updated" }
                        } }
                        tbody {
                            @for e in entries {
                                tr {
                                    td data-label="Mobile number" { code { (e.mobile_number) } }
                                    td data-label="Code" { (e.status_code) }
                                    td data-label="Status" { (status(e)) }
                                    td data-label="Description" {
                                        (service::describe(e).1)
                                        @if let Some(note) = &e.note {
                                            br; span.muted { (note) }
                                        }
                                    }
                                    td data-label="Updated" { span.when { (state.timestamp(e.updated_at)) } }
                                }
                            }
                        }
                    }
                }
                div.pager {
                    @if page > 1 { a href={ (base) "/tracking?page=" (page - 1) } { "Previous page" } }
                    @if u64::from(page) < pages { a href={ (base) "/tracking?page=" (page + 1) } { "Next page" } }
                }
            }
        }
    };
    let chrome = Chrome {
        csrf: Some(&s.csrf),
        notice: s.notice.as_deref(),
        account: Some(&account),
        section: Section::Sends,
    };
    html_response(StatusCode::OK, layout::page(&chrome, "Tracking", body))
}

/// What a live stream keeps between polls.
struct Watch {
    state: AppState,
    key: String,
    account: Account,
    token: String,
    last: Option<String>,
    first: bool,
    ended: bool,
    closing: tokio::sync::watch::Receiver<bool>,
}

/// `GET /console/accounts/{acct}/sends/{token}/events`: Server-Sent Events. A `progress` event
/// carries the state and counts whenever they change; `expired` ends the stream when the session
/// does. The stream also ends when the server shuts down.
pub(crate) async fn events(
    State(state): State<AppState>,
    SignedIn(s): SignedIn,
    Path((acct, token)): Path<(String, String)>,
) -> Response {
    let account = match load_account(&state, &s, &acct).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let send = match load_send(&state, &s, &account, &token).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let watch = Watch {
        closing: state.console.closing(),
        state,
        key: s.key,
        account,
        token: send.token,
        last: None,
        first: true,
        ended: false,
    };
    let stream = futures::stream::unfold(watch, |mut w| async move {
        if w.ended {
            return None;
        }
        loop {
            if *w.closing.borrow() {
                return None;
            }
            if !w.first {
                tokio::select! {
                    biased;
                    changed = w.closing.changed() => {
                        if changed.is_err() || *w.closing.borrow() {
                            return None;
                        }
                    }
                    _ = tokio::time::sleep(POLL) => {}
                }
            }
            w.first = false;
            if !w.state.console.sessions.is_live(&w.key, w.state.now()) {
                w.ended = true;
                let event = Event::default().event("expired").data("expired");
                return Some((Ok::<Event, Infallible>(event), w));
            }
            match progress(&w.state, &w.account, &w.token).await {
                Ok(p) => {
                    let text = p.to_string();
                    if w.last.as_deref() != Some(text.as_str()) {
                        // A settled send's last event ends the stream (and its polling).
                        w.ended = p["settled"] == true;
                        w.last = Some(text.clone());
                        return Some((Ok(Event::default().event("progress").data(text)), w));
                    }
                }
                // A passing database failure: the next poll tries again.
                Err(e) => tracing::warn!(error = %e, "console: send progress unavailable"),
            }
        }
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// `POST /console/accounts/{acct}/sends/{token}/cancel`: `POST /admin/v1/sends/{token}/cancel`.
pub(crate) async fn cancel(
    State(state): State<AppState>,
    Path((acct, token)): Path<(String, String)>,
    f: CsrfForm,
) -> Response {
    let account = match load_account(&state, &f.session, &acct).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let send = match load_send(&state, &f.session, &account, &token).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let notice = match state.service.cancel_send(&send.token).await {
        Ok(n) => format!("Send canceled: {n} recipients will not be texted."),
        Err(e) => Refusal::of(e).notice(),
    };
    state.console.sessions.notify(&f.session.key, notice);
    see_other(&send_base(&account.id, &send.token))
}

/// The test-send form of a message page.
pub(crate) fn test_send_form(
    _state: &AppState,
    s: &SessionView,
    message_base: &str,
    lists: &[ContactList],
    given: Option<&FormData>,
    problems: &[String],
) -> Markup {
    let empty = FormData::default();
    let f = given.unwrap_or(&empty);
    let exclusions = [
        (
            "defaults".to_string(),
            "The message's default exclusion lists".to_string(),
        ),
        ("ignore".to_string(), "Exclude nobody".to_string()),
    ];
    html! {
        section.card #test-send {
            h2 { "Test send" }
            p.hint {
                "Sends this message now (or at the time given) exactly as "
                code { "POST /sms/v1/messageList/{id}/send" } " would."
            }
            (errors(problems))
            form method="post" action={ (message_base) "/send" } {
                (csrf_field(&s.csrf))
                (list_choices("send-target", "targetListIds",
                    "Target lists (none ticked: the message's defaults)", lists, &f.all("targetListIds")))
                (select("send-exclusions", "exclusions", "Exclusions", &exclusions,
                    f.get("exclusions").unwrap_or("defaults")))
                (textarea("send-text", "messageText", "Text instead of the stored one (optional)",
                    f.text("messageText"), false))
                (Field::text("send-time", "sendTime", "Send time, UTC (optional)", f.text("sendTime"))
                    .kind("datetime-local").hint("Empty or past: now.").render())
                fieldset {
                    legend { "Blackout window (optional)" }
                    div.grid2 {
                        (Field::text("send-offset", "utcOffset", "UTC offset", f.text("utcOffset"))
                            .hint("e.g. -0500").render())
                        (Field::text("send-window-start", "windowStart", "Window start", f.text("windowStart"))
                            .kind("time").render())
                        (Field::text("send-window-end", "windowEnd", "Window end", f.text("windowEnd"))
                            .kind("time").render())
                    }
                }
                (checkbox("send-duplication", "allowDuplication", "true",
                    "One text per list membership (allowDuplication)", f.checked("allowDuplication")))
                button type="submit" { "Send" }
            }
        }
    }
}

/// The send request of a test-send form, as `POST /sms/v1/messageList/{id}/send` would read it.
fn send_request(f: &FormData) -> SendListRequest {
    let targets = f.all("targetListIds");
    let part = |name: &str| f.filled(name).map(|v| v.trim().to_string());
    let blackout = BlackoutInput {
        utc_offset: part("utcOffset"),
        window_start: part("windowStart"),
        window_end: part("windowEnd"),
    };
    let given = blackout != BlackoutInput::default();
    SendListRequest::from(SendListOptions {
        target_list_ids: (!targets.is_empty()).then_some(targets),
        ignore_exclusions: f.get("exclusions") == Some("ignore"),
        message_text: f.filled("messageText").map(str::to_string),
        send_time: part("sendTime"),
        blackout: given.then_some(blackout),
        allow_duplication: f.checked("allowDuplication"),
    })
}

/// `POST /console/accounts/{acct}/messages/{id}/send`: a send of the message through the API's
/// own send operation (API.md §4); refused requests show the contract's messages.
pub(crate) async fn test_send(
    State(state): State<AppState>,
    Path((acct, id)): Path<(String, String)>,
    f: CsrfForm,
) -> Response {
    let account = match load_account(&state, &f.session, &acct).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let caller = service::Caller {
        client_id: super::CONSOLE_CLIENT.to_string(),
        account_id: account.id.clone(),
        scopes: vec!["sms_send".to_string()],
    };
    let accepted = state
        .service
        .accept_list_send(&caller, &id, &send_request(&f.form), None)
        .await;
    let refusal = match accepted {
        Ok(token) => {
            state
                .console
                .sessions
                .notify(&f.session.key, "Send accepted.");
            return see_other(&send_base(&account.id, &token));
        }
        Err(e) => Refusal::of(e),
    };
    message_page(
        &state,
        &f.session,
        &account,
        &id,
        MessageRefusal::Send(Refused {
            form: &f.form,
            errors: refusal.errors,
            status: refusal.status,
        }),
    )
    .await
}

#[derive(Debug, Deserialize)]
pub(crate) struct OutboxQuery {
    after: Option<i64>,
}

/// `GET /console/outbox[?after=seq]`: what the simulator carrier accepted, oldest first.
pub(crate) async fn outbox(
    State(state): State<AppState>,
    SignedIn(s): SignedIn,
    Query(q): Query<OutboxQuery>,
) -> Response {
    let after = q.after.unwrap_or(0).max(0);
    let (items, next) = match state.service.outbox_page(after, OUTBOX_PAGE).await {
        Ok(page) => (page.items, page.next),
        Err(e) => return internal(&s, e),
    };
    let body = html! {
        section.card {
            p.hint { "Every text the simulator carrier accepted, oldest first. Numbers ending in \
                      0001 are refused by it and never appear here." }
            @if items.is_empty() {
                p.muted { "Nothing yet." }
            } @else {
                table.rows #outbox {
                    thead { tr {
                        th.num { "#" } th { "From" } th { "To" } th { "Text" } th { "Encoding" }
                        th { "Send" } th { "Accepted" }
                    } }
                    tbody {
                        @for e in &items {
                            tr {
                                td.num data-label="#" { (e.seq) }
                                td data-label="From" { code { (e.item.from) } }
                                td data-label="To" { code { (e.item.to) } }
                                td data-label="Text" {
                                    (e.item.text)
                                    @if let Some(url) = &e.item.content_url { br; span.muted { "Media: " (url) } }
                                }
                                td data-label="Encoding" { (e.item.encoding) ", " (e.item.segments) }
                                td data-label="Send" { code { (e.item.token_id.as_deref().unwrap_or("—")) } }
                                td data-label="Accepted" { span.when { (when(&state, e.item.accepted_at)) } }
                            }
                        }
                    }
                }
            }
            div.pager {
                @if after > 0 { a href={ (BASE) "/outbox" } { "First page" } }
                @if let Some(n) = next { a href={ (BASE) "/outbox?after=" (n) } { "Next page" } }
            }
        }
    };
    let chrome = Chrome {
        csrf: Some(&s.csrf),
        notice: s.notice.as_deref(),
        account: None,
        section: Section::Outbox,
    };
    html_response(StatusCode::OK, layout::page(&chrome, "Outbox", body))
}

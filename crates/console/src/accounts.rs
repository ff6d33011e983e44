//! Signing in and out, the accounts, and an account's overview.

use axum::extract::{Path, Query, State};
use axum::http::{header, Extensions, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;
use service::admin::NewAccountRequest;
use service::Field as Given;
use store::Account;

use super::layout::{self, account_base, csrf_field, errors, id_with_copy, Chrome, Field, Section};
use super::session::{csrf_matches, Lookup};
use super::{
    cookie, html_response, internal, load_account, see_other, set_cookie, CsrfForm, FormData,
    Refusal, SignedIn, BASE, SESSION_COOKIE, SIGN_IN_COOKIE,
};
use crate::AppState;
use api::auth::{admin_token_matches, random_alnum};
use api::error::TOO_MANY_FAILED_ATTEMPTS;
use api::peer::client_ip;
use api::ratelimit::Attempt;

#[derive(Debug, Deserialize)]
pub(crate) struct SignInQuery {
    expired: Option<String>,
}

fn sign_in_form(
    state: &AppState,
    status: StatusCode,
    notice: Option<&str>,
    problem: Option<&str>,
) -> Response {
    let token = random_alnum(43);
    let body = html! {
        div.signin {
            section.card {
                @if let Some(p) = problem {
                    div.errors role="alert" { p { (p) } }
                }
                form method="post" action={ (BASE) "/sign-in" } {
                    (csrf_field(&token))
                    (Field::text("token", "token", "Admin token", "").kind("password").required()
                        .hint("The admin token of this server (TIDINGS_ADMIN_TOKEN, admin.token, \
                               or the admin-token file in the data directory).")
                        .render())
                    button type="submit" { "Sign in" }
                }
            }
        }
    };
    let chrome = Chrome {
        notice,
        ..Chrome::plain(None)
    };
    let mut resp = html_response(status, layout::page(&chrome, "Sign in", body));
    if let Ok(v) = HeaderValue::from_str(&set_cookie(state, SIGN_IN_COOKIE, &token, 3600)) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

/// `GET /console/sign-in`.
pub(crate) async fn sign_in_page(
    State(state): State<AppState>,
    Query(q): Query<SignInQuery>,
    headers: HeaderMap,
) -> Response {
    if let Lookup::Valid(_) =
        state
            .console
            .sessions
            .lookup(cookie(&headers, SESSION_COOKIE), state.now(), false)
    {
        return see_other(&format!("{BASE}/accounts"));
    }
    let notice = q
        .expired
        .is_some()
        .then_some("Your session has expired. Sign in again.");
    sign_in_form(&state, StatusCode::OK, notice, None)
}

/// `POST /console/sign-in`: the admin token, checked like the admin API's bearer token and
/// counted against the same per-address limit of wrong tokens (API.md §8 "Protection").
pub(crate) async fn sign_in(
    State(state): State<AppState>,
    extensions: Extensions,
    headers: HeaderMap,
    body: api::arrival::WholeBody<{ super::FORM_LIMIT }>,
) -> Response {
    let form = FormData::parse(&body);
    let expected = cookie(&headers, SIGN_IN_COOKIE).unwrap_or("");
    if !csrf_matches(form.get("csrf"), expected) {
        return super::csrf_refused(None);
    }
    let peer = client_ip(&extensions, &headers, &state.config.trusted_proxies);
    let attempt = state.admin_throttle.attempt(peer, || {
        admin_token_matches(&state.config, form.text("token"))
    });
    match attempt {
        Attempt::Correct => {}
        Attempt::Wrong => {
            tracing::warn!(peer = ?peer, "console: sign-in with a wrong admin token");
            return sign_in_form(
                &state,
                StatusCode::UNAUTHORIZED,
                None,
                Some("Not authorized."),
            );
        }
        Attempt::Throttled { retry_after_secs } => {
            let mut resp = sign_in_form(
                &state,
                StatusCode::TOO_MANY_REQUESTS,
                None,
                Some(TOO_MANY_FAILED_ATTEMPTS),
            );
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            return resp;
        }
    }
    let console = &state.console;
    let value = console.sessions.create(state.now(), console.session_ms());
    let mut resp = see_other(&format!("{BASE}/accounts"));
    let max_age = i64::from(console.session_minutes()) * 60;
    for c in [
        set_cookie(&state, SESSION_COOKIE, &value, max_age),
        set_cookie(&state, SIGN_IN_COOKIE, "", 0),
    ] {
        if let Ok(v) = HeaderValue::from_str(&c) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp
}

/// `POST /console/sign-out`.
pub(crate) async fn sign_out(State(state): State<AppState>, f: CsrfForm) -> Response {
    state.console.sessions.remove(&f.session.key);
    let mut resp = see_other(&format!("{BASE}/sign-in"));
    if let Ok(v) = HeaderValue::from_str(&set_cookie(&state, SESSION_COOKIE, "", 0)) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

fn accounts_page(
    state: &AppState,
    csrf: &str,
    notice: Option<&str>,
    accounts: &[Account],
    form: &FormData,
    problems: &[String],
    status: StatusCode,
) -> Response {
    let body = html! {
        section.card {
            h2 { "Accounts" }
            @if accounts.is_empty() {
                p.muted { "No accounts yet: create the first one below." }
            } @else {
                table.rows {
                    thead { tr { th { "Name" } th { "ID" } th { "Created" } } }
                    tbody {
                        @for a in accounts {
                            tr {
                                td data-label="Name" { a href=(account_base(&a.id)) { (a.name) } }
                                td data-label="ID" { (id_with_copy(&a.id)) }
                                td data-label="Created" { span.when { (super::when(state, a.created_at)) } }
                            }
                        }
                    }
                }
            }
        }
        section.card {
            h2 { "New account" }
            (errors(problems))
            form method="post" action={ (BASE) "/accounts" } {
                (csrf_field(csrf))
                (Field::text("account-name", "name", "Name", form.text("name")).required().render())
                (Field::text("account-id", "id", "ID (optional)", form.text("id"))
                    .hint("Letters, digits, - and _; leave empty to have one minted. \
                           Keep an existing MobileConnect account's ID here.").render())
                button type="submit" { "Create account" }
            }
        }
    };
    let chrome = Chrome {
        csrf: Some(csrf),
        notice,
        account: None,
        section: Section::Accounts,
    };
    html_response(status, layout::page(&chrome, "Accounts", body))
}

/// `GET /console/accounts`.
pub(crate) async fn index(State(state): State<AppState>, SignedIn(s): SignedIn) -> Response {
    match state.service.accounts().await {
        Ok(accounts) => accounts_page(
            &state,
            &s.csrf,
            s.notice.as_deref(),
            &accounts,
            &FormData::default(),
            &[],
            StatusCode::OK,
        ),
        Err(e) => internal(&s, e),
    }
}

/// `POST /console/accounts`: the admin API's account creation (API.md §7).
pub(crate) async fn create(State(state): State<AppState>, f: CsrfForm) -> Response {
    let request = NewAccountRequest {
        id: Given::from_option(f.form.filled("id").map(str::to_string)),
        name: Given::Given(f.form.text("name").to_string()),
        problems: Vec::new(),
    };
    let refusal = match state.service.create_account(request).await {
        Ok(account) => {
            state
                .console
                .sessions
                .notify(&f.session.key, format!("Account {} created.", account.name));
            return see_other(&account_base(&account.id));
        }
        Err(e) => Refusal::of(e),
    };
    match state.service.accounts().await {
        Ok(accounts) => accounts_page(
            &state,
            &f.session.csrf,
            None,
            &accounts,
            &f.form,
            &refusal.errors,
            refusal.status,
        ),
        Err(e) => internal(&f.session, e),
    }
}

fn count_link(href: String, label: &str, n: usize) -> Markup {
    html! {
        div { dt { a href=(href) { (label) } } dd { (n) } }
    }
}

/// `GET /console/accounts/{acct}`.
pub(crate) async fn overview(
    State(state): State<AppState>,
    SignedIn(s): SignedIn,
    Path(acct): Path<String>,
) -> Response {
    let account = match load_account(&state, &s, &acct).await {
        Ok(a) => a,
        Err(resp) => return resp,
    };
    let service = &state.service;
    let loaded = async {
        Ok::<_, service::ServiceError>((
            service.codes(&account).await?.len(),
            service.keywords(&account).await?.len(),
            service.messages(&account).await?.len(),
            service.lists(&account).await?.len(),
            service
                .sends_page(&account, None, None, 5)
                .await?
                .map(|page| page.sends)
                .unwrap_or_default(),
        ))
    }
    .await;
    let (codes, keywords, messages, lists, sends) = match loaded {
        Ok(v) => v,
        Err(e) => return internal(&s, e),
    };
    let base = account_base(&account.id);
    let body = html! {
        section.card {
            dl.facts {
                dt { "Name" } dd { (account.name) }
                dt { "ID" } dd { (id_with_copy(&account.id)) }
                dt { "Created" } dd { (super::when(&state, account.created_at)) }
            }
        }
        section.card {
            h2 { "Contents" }
            dl.counts {
                (count_link(format!("{base}/codes"), "Codes", codes))
                (count_link(format!("{base}/keywords"), "Keywords", keywords))
                (count_link(format!("{base}/messages"), "Messages", messages))
                (count_link(format!("{base}/lists"), "Lists", lists))
            }
        }
        section.card {
            h2 { "Recent sends" }
            (super::sends::sends_table(&state, &account, &sends))
            p { a href={ (base) "/sends" } { "All sends" } }
        }
    };
    let chrome = Chrome {
        csrf: Some(&s.csrf),
        notice: s.notice.as_deref(),
        account: Some(&account),
        section: Section::Overview,
    };
    html_response(StatusCode::OK, layout::page(&chrome, &account.name, body))
}

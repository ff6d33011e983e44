//! Editing a code or a keyword: one page each, whose form runs the admin API's `PATCH`
//! (API.md §7), so a refused form shows the API's own messages. The code string, and a keyword's
//! code and word, are shown but not editable (subscriptions and messages name them).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use service::admin::{CodeChanges, KeywordChanges};
use store::{Account, Code, Keyword};

use super::catalog::{account_page, code_choices, Refused};
use super::layout::{account_base, checkbox, csrf_field, errors, id_with_copy, select, textarea};
use super::layout::{Field, Section};
use super::session::SessionView;
use super::{failure_page, load_account, see_other, seg, CsrfForm, Refusal, SignedIn};
use crate::AppState;

/// The form's value: what was posted when refused, else the stored one.
fn value<'a>(refused: &'a Option<Refused<'_>>, name: &str, stored: &'a str) -> &'a str {
    match refused {
        Some(r) => r.form.text(name),
        None => stored,
    }
}

fn code_page(
    state: &AppState,
    s: &SessionView,
    account: &Account,
    code: &Code,
    refused: Option<Refused<'_>>,
) -> Response {
    let base = account_base(&account.id);
    let (problems, status) = match &refused {
        Some(r) => (r.errors.as_slice(), r.status),
        None => (&[][..], StatusCode::OK),
    };
    let (carriers, kinds) = code_choices(state);
    let body = html! {
        section.card {
            h2 { "Code " code { (code.code) } }
            p { "ID " (id_with_copy(&code.id)) }
            (errors(problems))
            form method="post" action={ (base) "/codes/" (seg(&code.id)) } {
                (csrf_field(&s.csrf))
                div.grid2 {
                    (Field::text("code-country", "countryCode", "Country code",
                        value(&refused, "countryCode", &code.country_code)).required().render())
                    (select("code-type", "type", "Type", &kinds, value(&refused, "type", &code.kind)))
                    (select("code-carrier", "carrier", "Carrier", &carriers,
                        value(&refused, "carrier", &code.carrier)))
                }
                (textarea("code-optout", "optOutText", "Opt-out reply (empty: the default reply)",
                    value(&refused, "optOutText", code.opt_out_text.as_deref().unwrap_or("")), false))
                (textarea("code-help", "helpText", "Help reply (empty: the default reply)",
                    value(&refused, "helpText", code.help_text.as_deref().unwrap_or("")), false))
                button type="submit" { "Save code" }
                " "
                a href={ (base) "/codes" } { "Back to codes" }
            }
        }
    };
    let title = format!("Code {}", code.code);
    account_page(
        s,
        s.notice.as_deref(),
        account,
        Section::Codes,
        &title,
        status,
        body,
    )
}

/// `GET /console/accounts/{acct}/codes/{id}`.
pub(crate) async fn code(
    State(state): State<AppState>,
    SignedIn(s): SignedIn,
    Path((acct, id)): Path<(String, String)>,
) -> Response {
    let account = match load_account(&state, &s, &acct).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    match state.service.code(&account, &id).await {
        Ok(code) => code_page(&state, &s, &account, &code, None),
        Err(e) => failure_page(&s, e),
    }
}

/// `POST /console/accounts/{acct}/codes/{id}`: `PATCH /admin/v1/accounts/{acct}/codes/{id}`.
pub(crate) async fn update_code(
    State(state): State<AppState>,
    Path((acct, id)): Path<(String, String)>,
    f: CsrfForm,
) -> Response {
    let account = match load_account(&state, &f.session, &acct).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let text = |name: &str| Some(f.form.text(name).to_string());
    let changes = CodeChanges {
        code: None,
        country_code: text("countryCode"),
        kind: text("type"),
        carrier: text("carrier"),
        opt_out_text: text("optOutText"),
        help_text: text("helpText"),
        problems: Vec::new(),
    };
    let saved = match state.service.code(&account, &id).await {
        Ok(current) => {
            state
                .service
                .update_code(&account, &id, &current, changes)
                .await
        }
        Err(e) => Err(e),
    };
    let refusal = match saved {
        Ok(code) => {
            state
                .console
                .sessions
                .notify(&f.session.key, format!("Code {} saved.", code.code));
            return see_other(&format!("{}/codes", account_base(&account.id)));
        }
        Err(e) => Refusal::of(e),
    };
    match state.service.code(&account, &id).await {
        Ok(code) => code_page(
            &state,
            &f.session,
            &account,
            &code,
            Some(Refused {
                form: &f.form,
                errors: refusal.errors,
                status: refusal.status,
            }),
        ),
        Err(e) => failure_page(&f.session, e),
    }
}

fn keyword_page(
    s: &SessionView,
    account: &Account,
    keyword: &Keyword,
    refused: Option<Refused<'_>>,
) -> Response {
    let base = account_base(&account.id);
    let (problems, status) = match &refused {
        Some(r) => (r.errors.as_slice(), r.status),
        None => (&[][..], StatusCode::OK),
    };
    let double = match &refused {
        Some(r) => r.form.checked("doubleOptIn"),
        None => keyword.double_opt_in,
    };
    let rules = keyword.opt_in.clone().unwrap_or_default();
    let stored = |text: &Option<String>| text.clone().unwrap_or_default();
    let kind = match &keyword.opt_in {
        Some(r) => r.kind.as_str(),
        None => "",
    };
    let kinds: Vec<(String, String)> = [
        ("", "None (an ordinary keyword)"),
        ("Single", "Single"),
        ("Double", "Double (its own confirmations)"),
        ("Age", "Age (a minimum age)"),
    ]
    .iter()
    .map(|(v, t)| (v.to_string(), t.to_string()))
    .collect();
    let day = |d: Option<domain::Day>| d.map(String::from).unwrap_or_default();
    let (responses, age) = (
        rules.valid_responses.join(","),
        rules.minimum_age.map(|a| a.to_string()).unwrap_or_default(),
    );
    let (start, end) = (day(rules.start_date), day(rules.end_date));
    let (invalid_age, error, duplicate) = (
        stored(&rules.invalid_age_text),
        stored(&rules.error_text),
        stored(&rules.duplicate_text),
    );
    let next = stored(&rules.next_keyword);
    let body = html! {
        section.card {
            h2 { "Keyword " strong { (keyword.keyword) } " on " code { (keyword.code) } }
            p { "ID " (id_with_copy(&keyword.id)) }
            (errors(problems))
            form method="post" action={ (base) "/keywords/" (seg(&keyword.id)) } {
                (csrf_field(&s.csrf))
                (textarea("keyword-response", "response", "Reply (empty: no reply)",
                    value(&refused, "response", keyword.response.as_deref().unwrap_or("")), false))
                (checkbox("keyword-double", "doubleOptIn", "true", "Double opt-in (ask for confirmation)",
                    double))
                (textarea("keyword-confirm", "confirmText", "Confirmation request (for double opt-in)",
                    value(&refused, "confirmText", keyword.confirm_text.as_deref().unwrap_or("")), false))
                fieldset {
                    legend { "Opt-in message" }
                    p.muted { "As MobileConnect's message/optin makes them: Double and Age keywords ask \
                        with the confirmation request above and reply the reply once confirmed." }
                    (select("keyword-optin", "optInKind", "Type", &kinds, value(&refused, "optInKind", kind)))
                    div.grid2 {
                        (Field::text("keyword-responses", "optInValidResponses",
                            "Valid confirmations (Double; comma-separated, empty: Y,YES)",
                            value(&refused, "optInValidResponses", &responses)).render())
                        (Field::text("keyword-age", "optInMinimumAge", "Minimum age (Age)",
                            value(&refused, "optInMinimumAge", &age)).render())
                        (Field::text("keyword-start", "optInStartDate", "First day (yyyy-MM-dd or M/d/yyyy)",
                            value(&refused, "optInStartDate", &start)).render())
                        (Field::text("keyword-end", "optInEndDate", "Last day",
                            value(&refused, "optInEndDate", &end)).render())
                        (Field::text("keyword-next", "optInNextKeyword",
                            "Next keyword (the next text is handled as if it began with it)",
                            value(&refused, "optInNextKeyword", &next)).render())
                    }
                    (textarea("keyword-invalid-age", "optInInvalidAgeText", "Reply to an age below the minimum (Age)",
                        value(&refused, "optInInvalidAgeText", &invalid_age), false))
                    (textarea("keyword-error", "optInErrorText", "Reply to anything but an age (Age)",
                        value(&refused, "optInErrorText", &error), false))
                    (textarea("keyword-duplicate", "optInDuplicateText", "Reply to a number already subscribed",
                        value(&refused, "optInDuplicateText", &duplicate), false))
                }
                button type="submit" { "Save keyword" }
                " "
                a href={ (base) "/keywords" } { "Back to keywords" }
            }
        }
    };
    let title = format!("Keyword {}", keyword.keyword);
    account_page(
        s,
        s.notice.as_deref(),
        account,
        Section::Keywords,
        &title,
        status,
        body,
    )
}

/// `GET /console/accounts/{acct}/keywords/{id}`.
pub(crate) async fn keyword(
    State(state): State<AppState>,
    SignedIn(s): SignedIn,
    Path((acct, id)): Path<(String, String)>,
) -> Response {
    let account = match load_account(&state, &s, &acct).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    match state.service.keyword(&account, &id).await {
        Ok(k) => keyword_page(&s, &account, &k, None),
        Err(e) => failure_page(&s, e),
    }
}

/// `POST /console/accounts/{acct}/keywords/{id}`: `PATCH /admin/v1/accounts/{acct}/keywords/{id}`.
pub(crate) async fn update_keyword(
    State(state): State<AppState>,
    Path((acct, id)): Path<(String, String)>,
    f: CsrfForm,
) -> Response {
    let account = match load_account(&state, &f.session, &acct).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let saved = match state.service.keyword(&account, &id).await {
        Ok(current) => {
            let mut problems = Vec::new();
            let opt_in = opt_in_of_form(&f.form, &current, &mut problems);
            let changes = KeywordChanges {
                code: None,
                keyword: None,
                response: Some(f.form.text("response").to_string()),
                double_opt_in: Some(f.form.checked("doubleOptIn")),
                confirm_text: Some(f.form.text("confirmText").to_string()),
                opt_in,
                problems,
            };
            state
                .service
                .update_keyword(&account, &id, &current, changes)
                .await
        }
        Err(e) => Err(e),
    };
    let refusal = match saved {
        Ok(k) => {
            state
                .console
                .sessions
                .notify(&f.session.key, format!("Keyword {} saved.", k.keyword));
            return see_other(&format!("{}/keywords", account_base(&account.id)));
        }
        Err(e) => Refusal::of(e),
    };
    match state.service.keyword(&account, &id).await {
        Ok(k) => keyword_page(
            &f.session,
            &account,
            &k,
            Some(Refused {
                form: &f.form,
                errors: refusal.errors,
                status: refusal.status,
            }),
        ),
        Err(e) => failure_page(&f.session, e),
    }
}

/// The opt-in rules the form asks for: `Some(None)` when its type is emptied, the rules (named
/// as before) when it has one, with a message for each field that does not read.
fn opt_in_of_form(
    form: &super::FormData,
    current: &Keyword,
    problems: &mut Vec<String>,
) -> Option<Option<domain::OptInRules>> {
    let Some(kind) = form.filled("optInKind").and_then(domain::OptInType::parse) else {
        return current.opt_in.as_ref().map(|_| None);
    };
    let text = |name: &str| form.filled(name).map(|t| t.trim().to_string());
    let minimum_age = match form.filled("optInMinimumAge") {
        None => None,
        Some(a) => match a.trim().parse::<u32>() {
            Ok(age) => Some(age),
            Err(_) => {
                problems.push(format!("Minimum age {a} isn't a whole number."));
                None
            }
        },
    };
    let mut day = |name: &str, label: &str| {
        let given = form.filled(name)?;
        let parsed = domain::Day::parse(given);
        if parsed.is_none() {
            problems.push(format!(
                "{label} {given} isn't a date (yyyy-MM-dd or M/d/yyyy)."
            ));
        }
        parsed
    };
    let start_date = day("optInStartDate", "First day");
    let end_date = day("optInEndDate", "Last day");
    Some(Some(domain::OptInRules {
        kind,
        name: current
            .opt_in
            .as_ref()
            .map(|r| r.name.clone())
            .unwrap_or_default(),
        valid_responses: form
            .text("optInValidResponses")
            .split(',')
            .map(|r| r.trim().to_uppercase())
            .filter(|r| !r.is_empty())
            .collect(),
        minimum_age,
        invalid_age_text: text("optInInvalidAgeText"),
        error_text: text("optInErrorText"),
        duplicate_text: text("optInDuplicateText"),
        start_date,
        end_date,
        next_keyword: text("optInNextKeyword"),
    }))
}

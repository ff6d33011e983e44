//! The web console at `/console` (docs/console.md): server-rendered pages (maud templates compiled
//! into the binary), a session cookie after signing in with the admin token, a CSRF token on every
//! form, and Server-Sent Events for live send progress. It is a UI over the operations of
//! `service` (API.md §7), so validation and error messages are the API's own.
//! It must not reach an operation through the API's handlers or JSON; from `api` it takes only
//! the HTTP edge (body deadlines, peer addresses, the admin token and its throttle).

mod accounts;
mod assets;
mod catalog;
mod catalog_edit;
mod definitions;
mod layout;
mod lists;
mod sends;
pub mod session;

use std::sync::Arc;

use api::ratelimit::AdminThrottle;
use api::{ApiConfig, Clock};
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use service::{Service, ServiceError};
use store::Account;
use tokio::sync::watch;

use layout::Chrome;
use session::{csrf_matches, Lookup, SessionView, Sessions};

/// Cookie naming the session.
pub const SESSION_COOKIE: &str = "tidings_console";
/// Cookie carrying the sign-in form's CSRF token (double submit: there is no session yet).
pub const SIGN_IN_COOKIE: &str = "tidings_console_signin";
/// Where the console lives.
pub const BASE: &str = "/console";
/// Largest urlencoded form accepted.
const FORM_LIMIT: usize = api::MAX_JSON_BODY;

/// The console's shared state: sessions and settings.
pub struct Console {
    pub sessions: Sessions,
    session_minutes: u32,
    closing: watch::Sender<bool>,
}

impl std::fmt::Debug for Console {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Console")
            .field("session_minutes", &self.session_minutes)
            .finish_non_exhaustive()
    }
}

impl Console {
    /// Sessions last `session_minutes` (at least one) from sign-in.
    pub fn new(session_minutes: u32) -> Console {
        Console {
            sessions: Sessions::default(),
            session_minutes: session_minutes.max(1),
            closing: watch::channel(false).0,
        }
    }

    pub fn session_minutes(&self) -> u32 {
        self.session_minutes
    }

    pub(crate) fn session_ms(&self) -> i64 {
        i64::from(self.session_minutes) * 60_000
    }

    /// Ends every live update stream, so that a graceful shutdown is not held up by them.
    pub fn close_streams(&self) {
        self.closing.send_replace(true);
    }

    fn closing(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }
}

/// What every console page needs: the operations, the sessions, and the API's settings and
/// admin-token throttle (one limit of wrong tokens for the admin API and the sign-in page).
#[derive(Clone)]
pub struct AppState {
    pub service: Service,
    pub console: Arc<Console>,
    pub config: Arc<ApiConfig>,
    pub clock: Arc<dyn Clock>,
    pub admin_throttle: Arc<AdminThrottle>,
}

impl AppState {
    /// The console over the API's state (its settings, clock and admin throttle).
    pub fn new(api: &api::AppState, console: Arc<Console>) -> AppState {
        AppState {
            service: api.service.clone(),
            console,
            config: api.config.clone(),
            clock: api.clock.clone(),
            admin_throttle: api.admin_throttle(),
        }
    }

    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// A timestamp in the format of API.md §1.
    pub fn timestamp(&self, ms: i64) -> String {
        domain::format_timestamp(ms, self.config.timestamps_utc)
    }
}

/// The console's routes under [`BASE`], for `api::router` to serve beside the API.
pub fn router(state: AppState) -> Router {
    Router::new().nest(BASE, pages()).with_state(state)
}

fn pages() -> Router<AppState> {
    Router::new()
        .route("/", get(root))
        .route(
            "/sign-in",
            get(accounts::sign_in_page).post(accounts::sign_in),
        )
        .route("/sign-out", post(accounts::sign_out))
        .route("/assets/{file}", get(assets::serve))
        .route("/accounts", get(accounts::index).post(accounts::create))
        .route("/accounts/{acct}", get(accounts::overview))
        .route(
            "/accounts/{acct}/codes",
            get(catalog::codes).post(catalog::create_code),
        )
        .route(
            "/accounts/{acct}/codes/{id}",
            get(catalog_edit::code).post(catalog_edit::update_code),
        )
        .route(
            "/accounts/{acct}/codes/{id}/delete",
            post(catalog::delete_code),
        )
        .route(
            "/accounts/{acct}/keywords",
            get(catalog::keywords).post(catalog::create_keyword),
        )
        .route(
            "/accounts/{acct}/keywords/{id}",
            get(catalog_edit::keyword).post(catalog_edit::update_keyword),
        )
        .route(
            "/accounts/{acct}/keywords/{id}/delete",
            post(catalog::delete_keyword),
        )
        .route(
            "/accounts/{acct}/messages",
            get(catalog::messages).post(catalog::create_message),
        )
        .route(
            "/accounts/{acct}/messages/{id}",
            get(catalog::message).post(catalog::update_message),
        )
        .route(
            "/accounts/{acct}/messages/{id}/status",
            post(catalog::set_status),
        )
        .route(
            "/accounts/{acct}/messages/{id}/delete",
            post(catalog::delete_message),
        )
        .route(
            "/accounts/{acct}/messages/{id}/send",
            post(sends::test_send),
        )
        .route(
            "/accounts/{acct}/lists",
            get(lists::index).post(lists::create),
        )
        .route("/accounts/{acct}/lists/{id}", get(lists::show))
        .route(
            "/accounts/{acct}/lists/{id}/upload",
            post(lists::upload).layer(DefaultBodyLimit::max(
                usize::try_from(api::MAX_CSV_BODY).unwrap_or(usize::MAX) + 64 * 1024,
            )),
        )
        .route("/accounts/{acct}/lists/{id}/delete", post(lists::delete))
        .route("/accounts/{acct}/sends", get(sends::index))
        .route("/accounts/{acct}/sends/{token}", get(sends::show))
        .route(
            "/accounts/{acct}/sends/{token}/tracking",
            get(sends::tracking),
        )
        .route("/accounts/{acct}/sends/{token}/events", get(sends::events))
        .route("/accounts/{acct}/sends/{token}/cancel", post(sends::cancel))
        .route(
            "/accounts/{acct}/definitions",
            get(definitions::index).post(definitions::create),
        )
        .route(
            "/accounts/{acct}/definitions/{key}/status",
            post(definitions::set_status),
        )
        .route(
            "/accounts/{acct}/definitions/{key}/queue/delete",
            post(definitions::empty_queue),
        )
        .route(
            "/accounts/{acct}/definitions/{key}/delete",
            post(definitions::delete),
        )
        .route("/outbox", get(sends::outbox))
        .fallback(not_found)
        .layer(axum::middleware::map_response(protect))
}

/// Headers of every console response: a content security policy that allows only this origin
/// (no inline scripts, no external requests), no framing, no caching of pages.
async fn protect(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; \
             object-src 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

async fn root(session: Result<SignedIn, Response>) -> Response {
    match session {
        Ok(_) => see_other(&format!("{BASE}/accounts")),
        Err(redirect) => redirect,
    }
}

async fn not_found(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let session =
        match state
            .console
            .sessions
            .lookup(cookie(&headers, SESSION_COOKIE), state.now(), false)
        {
            Lookup::Valid(s) => Some(s),
            _ => None,
        };
    error_page(
        session.as_ref(),
        StatusCode::NOT_FOUND,
        "Not found",
        "There is no such page in the console.",
    )
}

/// The value of a request cookie.
pub(crate) fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// A `Set-Cookie` value for a console cookie: HttpOnly, SameSite=Strict, `Secure` when the
/// public URL is https.
pub(crate) fn set_cookie(state: &AppState, name: &str, value: &str, max_age_secs: i64) -> String {
    let secure = if state
        .config
        .public_url
        .to_ascii_lowercase()
        .starts_with("https://")
    {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{name}={value}; Path={BASE}; Max-Age={max_age_secs}; HttpOnly; SameSite=Strict{secure}"
    )
}

/// 303 See Other.
pub(crate) fn see_other(location: &str) -> Response {
    let mut resp = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

/// An HTML response.
pub(crate) fn html_response(status: StatusCode, markup: Markup) -> Response {
    (status, Html(markup.into_string())).into_response()
}

/// A signed-in request: its session. Without one, the request is answered with a redirect to
/// the sign-in page (which says so when the session has expired).
pub(crate) struct SignedIn(pub SessionView);

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let take_notice = parts.method == Method::GET && !parts.uri.path().ends_with("/events");
        match state.console.sessions.lookup(
            cookie(&parts.headers, SESSION_COOKIE),
            state.now(),
            take_notice,
        ) {
            Lookup::Valid(view) => Ok(SignedIn(view)),
            Lookup::Expired => {
                let mut resp = see_other(&format!("{BASE}/sign-in?expired=1"));
                if let Ok(v) = HeaderValue::from_str(&set_cookie(state, SESSION_COOKIE, "", 0)) {
                    resp.headers_mut().insert(header::SET_COOKIE, v);
                }
                Err(resp)
            }
            Lookup::Unknown => Err(see_other(&format!("{BASE}/sign-in"))),
        }
    }
}

/// The fields of an urlencoded form, in order.
#[derive(Default, Clone)]
pub(crate) struct FormData(Vec<(String, String)>);

/// Field names only: a form may carry the admin token (sign-in) or a CSRF token.
impl std::fmt::Debug for FormData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(name, _)| name))
            .finish()
    }
}

impl FormData {
    pub fn parse(bytes: &[u8]) -> FormData {
        FormData(
            url::form_urlencoded::parse(bytes)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first value of a field.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of a field, or "".
    pub fn text(&self, name: &str) -> &str {
        self.get(name).unwrap_or("")
    }

    /// A field's value when it is not blank.
    pub fn filled(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.trim().is_empty())
    }

    /// Every value of a repeated field (checkboxes).
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    pub fn checked(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

/// A form posted by a signed-in operator with the session's CSRF token; a missing or wrong token
/// is refused with 403 before anything else happens.
pub(crate) struct CsrfForm {
    pub session: SessionView,
    pub form: FormData,
}

impl FromRequest<AppState> for CsrfForm {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let SignedIn(session) = SignedIn::from_request_parts(&mut parts, state).await?;
        let deadline = api::arrival::HeadReceived::body_deadline(&parts.extensions);
        let bytes = match api::arrival::read_body(body, FORM_LIMIT, deadline).await {
            Ok(b) => b,
            // A form body must be complete 30 s after its head (API.md §1).
            Err(api::arrival::BodyError::TooSlow) => {
                return Err(api::arrival::closing(error_page(
                    Some(&session),
                    StatusCode::REQUEST_TIMEOUT,
                    "Form too slow",
                    "The request took too long to arrive.",
                )))
            }
            Err(_) => {
                return Err(error_page(
                    Some(&session),
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "Form too large",
                    "The form was larger than the console accepts.",
                ))
            }
        };
        let form = FormData::parse(&bytes);
        if !csrf_matches(form.get("csrf"), &session.csrf) {
            return Err(csrf_refused(Some(&session)));
        }
        Ok(CsrfForm { session, form })
    }
}

/// The answer to a form whose CSRF token is missing or wrong.
pub(crate) fn csrf_refused(session: Option<&SessionView>) -> Response {
    error_page(
        session,
        StatusCode::FORBIDDEN,
        "Form refused",
        "The form's security token is missing or does not match your session, so nothing was \
         changed. Go back, reload the page and try again.",
    )
}

/// A page that only says what went wrong.
pub(crate) fn error_page(
    session: Option<&SessionView>,
    status: StatusCode,
    title: &str,
    message: &str,
) -> Response {
    let chrome = Chrome::plain(session.map(|s| s.csrf.as_str()));
    html_response(
        status,
        layout::page(
            &chrome,
            title,
            html! {
                div.errors role="alert" { p { (message) } }
                p { a href={ (BASE) "/accounts" } { "Back to the accounts" } }
            },
        ),
    )
}

/// The account named in a console path, or a 404 page.
pub(crate) async fn load_account(
    state: &AppState,
    session: &SessionView,
    raw: &str,
) -> Result<Account, Response> {
    state
        .service
        .account(raw)
        .await
        .map_err(|e| failure_page(session, e))
}

/// The page of a failed lookup: its 404 page ("… not found."), or the unexpected-failure page.
pub(crate) fn failure_page(session: &SessionView, e: ServiceError) -> Response {
    match e {
        ServiceError::NotFound(message) => {
            error_page(Some(session), StatusCode::NOT_FOUND, "Not found", &message)
        }
        other => internal(session, other),
    }
}

/// An unexpected failure: logged with a reference id, shown with the API's message.
pub(crate) fn internal(session: &SessionView, cause: impl std::fmt::Display) -> Response {
    let reference = domain::mint_id();
    tracing::error!(reference = %reference, cause = %cause, "console: unexpected failure");
    error_page(
        Some(session),
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        &format!(
            "An unexpected error occurred, please contact Customer Support with reference id {reference}."
        ),
    )
}

/// A refused operation as a form shows it: the status of the page and the API's messages.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub status: StatusCode,
    pub errors: Vec<String>,
}

impl Refusal {
    /// The API's status and messages for the error (API.md §1); an unexpected failure is logged
    /// with a reference id, which the message gives.
    pub fn of(e: ServiceError) -> Refusal {
        let (status, errors) = match e {
            ServiceError::Invalid(messages) => (StatusCode::BAD_REQUEST, messages),
            ServiceError::NotFound(m) => (StatusCode::NOT_FOUND, vec![m]),
            ServiceError::Conflict(m) => (StatusCode::CONFLICT, vec![m]),
            ServiceError::Transactional(e) => (
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST),
                vec![e.message()],
            ),
            ServiceError::Unavailable(cause) | ServiceError::Internal(cause) => {
                let reference = domain::mint_id();
                tracing::error!(reference = %reference, cause = %cause, "console: unexpected failure");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    vec![format!(
                        "An unexpected error occurred, please contact Customer Support with reference id {reference}."
                    )],
                )
            }
        };
        Refusal { status, errors }
    }

    /// A refusal of the admin API's streamed import (its §1 limits included).
    pub fn of_api(e: api::ApiError) -> Refusal {
        use api::ApiError as E;
        let one = |status: StatusCode, m: &str| Refusal {
            status,
            errors: vec![m.to_string()],
        };
        match e {
            E::Validation(messages) => Refusal::of(ServiceError::Invalid(messages)),
            E::NotFound(m) => Refusal::of(ServiceError::NotFound(m)),
            E::Conflict(m) => Refusal::of(ServiceError::Conflict(m)),
            E::TooLarge => one(
                StatusCode::PAYLOAD_TOO_LARGE,
                "The request body is too large.",
            ),
            E::RequestTimeout => one(
                StatusCode::REQUEST_TIMEOUT,
                "The request took too long to arrive.",
            ),
            other => Refusal::of(ServiceError::Internal(format!("{other:?}"))),
        }
    }

    /// The messages as one notice.
    pub fn notice(&self) -> String {
        self.errors.join(" ")
    }
}

pub use service::CONSOLE_CLIENT;

/// Bytes escaped in a path segment: all but unreserved characters.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A percent-encoded path segment.
pub(crate) fn seg(raw: &str) -> String {
    percent_encoding::utf8_percent_encode(raw, SEGMENT).to_string()
}

/// A timestamp as the API writes it, with its zone.
pub(crate) fn when(state: &AppState, ms: i64) -> String {
    let ts = state.timestamp(ms);
    if state.config.timestamps_utc {
        ts
    } else {
        format!("{ts} CST")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        /// Any form body parses (into whatever pairs it holds) without panicking.
        #[test]
        fn any_form_body_parses(body in proptest::collection::vec(any::<u8>(), 0..256)) {
            let form = FormData::parse(&body);
            let _ = form.get("csrf");
            let _ = form.all("targetListIds");
        }

        /// Any cookie header is read without panicking, and a cookie set in it is found.
        #[test]
        fn any_cookie_header_is_read(raw in "[ -~]{0,200}", value in "[A-Za-z0-9]{1,43}") {
            let mut headers = HeaderMap::new();
            if let Ok(v) = HeaderValue::from_str(&raw) {
                headers.append(header::COOKIE, v);
            }
            let _ = cookie(&headers, SESSION_COOKIE);
            let set = format!("other=1; {SESSION_COOKIE}={value}");
            headers.append(header::COOKIE, HeaderValue::from_str(&set).expect("header"));
            let found = cookie(&headers, SESSION_COOKIE);
            // Unless the earlier header already names the cookie, the new value is found.
            if !raw.contains(SESSION_COOKIE) {
                prop_assert_eq!(found, Some(value.as_str()));
            }
        }
    }

    #[test]
    fn form_fields_keep_their_order_and_repeats() {
        let form = FormData::parse(b"csrf=a%2Bb&targetListIds=L1&targetListIds=L2&name=+x+");
        assert_eq!(form.get("csrf"), Some("a+b"));
        assert_eq!(form.all("targetListIds"), vec!["L1", "L2"]);
        assert_eq!(form.text("name"), " x ");
        assert_eq!(form.filled("missing"), None);
        assert!(!form.checked("missing"));
    }

    #[test]
    fn cookies_are_found_by_exact_name() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("tidings_console_signin=s; tidings_console=abc"),
        );
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&headers, SIGN_IN_COOKIE), Some("s"));
        assert_eq!(cookie(&headers, "tidings"), None);
    }
}

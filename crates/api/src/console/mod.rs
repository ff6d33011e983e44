//! The web console at `/console` (docs/console.md): server-rendered pages (maud templates compiled
//! into the binary), a session cookie after signing in with the admin token, a CSRF token on every
//! form, and Server-Sent Events for live send progress. It is a UI over the admin operations
//! (API.md §7): every change goes through the same admin handlers as `/admin/v1`, so validation and
//! error messages are the API's own; pages read the store directly.

mod accounts;
mod assets;
mod catalog;
mod catalog_edit;
mod layout;
mod lists;
mod sends;
pub mod session;

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use http_body_util::BodyExt;
use maud::{html, Markup};
use serde_json::Value;
use store::{Account, StoreError};
use tokio::sync::watch;

use crate::routing::RouteId;
use crate::{ApiError, AppState, Ctx};
use layout::Chrome;
use session::{csrf_matches, Lookup, SessionView, Sessions};

/// Cookie naming the session.
pub const SESSION_COOKIE: &str = "tidings_console";
/// Cookie carrying the sign-in form's CSRF token (double submit: there is no session yet).
pub const SIGN_IN_COOKIE: &str = "tidings_console_signin";
/// Where the console lives.
pub const BASE: &str = "/console";
/// Largest urlencoded form accepted.
const FORM_LIMIT: usize = crate::MAX_JSON_BODY;

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

/// The console's routes, to be nested at [`BASE`].
pub fn router() -> Router<AppState> {
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
                usize::try_from(crate::MAX_CSV_BODY).unwrap_or(usize::MAX) + 64 * 1024,
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
        let deadline = crate::arrival::HeadReceived::body_deadline(&parts.extensions);
        let bytes = match crate::arrival::read_body(body, FORM_LIMIT, deadline).await {
            Ok(b) => b,
            // A form body must be complete 30 s after its head (API.md §1).
            Err(crate::arrival::BodyError::TooSlow) => {
                return Err(crate::arrival::closing(error_page(
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
    if domain::EncodedId::parse(raw).is_none() {
        return Err(account_not_found(session, raw));
    }
    match state.store.get_account(raw).await {
        Ok(a) => Ok(a),
        Err(StoreError::NotFound) => Err(account_not_found(session, raw)),
        Err(e) => Err(internal(session, e)),
    }
}

fn account_not_found(session: &SessionView, raw: &str) -> Response {
    not_found_page(session, &format!("Account {raw}"))
}

/// The 404 page of an object the console was asked for: "`what` not found."
pub(crate) fn not_found_page(session: &SessionView, what: &str) -> Response {
    error_page(
        Some(session),
        StatusCode::NOT_FOUND,
        "Not found",
        &format!("{what} not found."),
    )
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

/// What an admin operation answered.
#[derive(Debug)]
pub(crate) struct AdminReply {
    pub status: StatusCode,
    pub body: Value,
}

impl AdminReply {
    pub fn is_success(&self) -> bool {
        self.status.is_success()
    }

    /// The `errors` of the body (the API's messages), or a generic one.
    pub fn errors(&self) -> Vec<String> {
        match self.body.get("errors").and_then(Value::as_array) {
            Some(items) => items
                .iter()
                .map(|e| e.as_str().map_or_else(|| e.to_string(), str::to_string))
                .collect(),
            None => vec![format!("The operation failed ({}).", self.status)],
        }
    }

    pub fn str(&self, field: &str) -> &str {
        self.body.get(field).and_then(Value::as_str).unwrap_or("")
    }
}

/// Reads a handler's JSON answer.
async fn reply_of(result: Result<Response, ApiError>) -> AdminReply {
    let resp = result.unwrap_or_else(IntoResponse::into_response);
    let status = resp.status();
    let body = match resp.into_body().collect().await {
        Ok(collected) => serde_json::from_slice(&collected.to_bytes()).unwrap_or(Value::Null),
        Err(_) => Value::Null,
    };
    AdminReply { status, body }
}

fn internal_ctx(
    method: Method,
    params: &[&str],
    query: &[(&str, &str)],
    content_type: &'static str,
    body: Body,
) -> Ctx {
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    Ctx {
        method,
        params: params.iter().map(|p| p.to_string()).collect(),
        query: query
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
            .collect(),
        headers,
        body: Arc::new(std::sync::Mutex::new(body)),
        path_key: String::new(),
        // Bodies made in the process; a streamed upload holds its client to the pause limit.
        body_deadline: tokio::time::Instant::now() + crate::arrival::BODY_TIME,
    }
}

/// Runs one admin operation (API.md §7) with a JSON body, exactly as `/admin/v1` would.
pub(crate) async fn admin_call(
    state: &AppState,
    route: RouteId,
    method: Method,
    params: &[&str],
    body: Option<Value>,
) -> AdminReply {
    let bytes = body.map(|b| b.to_string()).unwrap_or_default();
    let ctx = internal_ctx(method, params, &[], "application/json", Body::from(bytes));
    reply_of(crate::admin::handle(state, route, ctx).await).await
}

/// Runs one admin operation with a streamed body of the given type and query parameters.
pub(crate) async fn admin_stream(
    state: &AppState,
    route: RouteId,
    params: &[&str],
    query: &[(&str, &str)],
    content_type: &'static str,
    body: Body,
) -> AdminReply {
    let ctx = internal_ctx(Method::POST, params, query, content_type, body);
    reply_of(crate::admin::handle(state, route, ctx).await).await
}

/// `POST /sms/v1/messageList/{id}/send` (API.md §4) on behalf of the console, with a JSON body:
/// the same validation and recording as any API client's send.
pub(crate) async fn send_as_console(
    state: &AppState,
    account_id: &str,
    message_id: &str,
    body: Value,
) -> AdminReply {
    let caller = crate::auth::Caller {
        client_id: CONSOLE_CLIENT.to_string(),
        account_id: account_id.to_string(),
        scopes: vec!["sms_send".to_string()],
    };
    let ctx = internal_ctx(
        Method::POST,
        &[message_id],
        &[],
        "application/json",
        Body::from(body.to_string()),
    );
    reply_of(crate::message_list::send(state, &caller, ctx).await).await
}

/// The client recorded on sends started from the console (minted client IDs are 24 characters,
/// so it names no API client).
pub const CONSOLE_CLIENT: &str = "console";

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

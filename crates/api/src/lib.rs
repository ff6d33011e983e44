//! The HTTP surface: `/v2/token`, `/sms/v1` and `/admin/v1` (API.md §1–§7), with the extractors,
//! routing and the one error type that make every response the contract's JSON.
//! Handlers parse, call one operation of `service` and shape the response; they hold no
//! business rule and never call one another.

pub mod admin;
pub mod arrival;
pub mod auth;
pub mod carrier_status;
pub mod clock;
pub mod contacts;
pub mod error;
pub mod import_send;
pub mod message_contact;
pub mod message_list;
pub mod mo;
pub mod openapi;
pub mod peer;
pub mod ratelimit;
pub mod responses;
pub mod routes;
pub mod routing;
pub mod sms_messages;
pub mod telemetry;
mod token;
pub mod transactional;

use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use futures::FutureExt;
use http_body_util::BodyExt;
use store::Store;

use arrival::BodyError;
pub use clock::{Clock, SystemClock};
pub use error::{json_response, ApiError};
use ratelimit::{AdminThrottle, FailureLimiter, RateLimiter};
use routing::{Endpoint, Handler, Matched};

/// Largest JSON body accepted (API.md §1).
pub const MAX_JSON_BODY: usize = 1024 * 1024;
/// Largest streamed CSV upload to the admin API (API.md §1).
pub const MAX_CSV_BODY: u64 = 1024 * 1024 * 1024;

/// What the HTTP layer needs to know of the configuration.
#[derive(Clone)]
pub struct ApiConfig {
    /// Public base URL with scheme and trailing `/` (`rest_instance_url`).
    pub public_url: String,
    /// `api.timestamps = "utc"`.
    pub timestamps_utc: bool,
    /// Requests per second per API client; 0 disables the limit.
    pub rate_limit: u32,
    /// Failed `/v2/token` requests per second per `client_id` (burst twice that); 0 disables.
    pub token_failure_rate: u32,
    /// Peers whose `X-Forwarded-For` is believed (API.md §8 "Protection").
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The admin API's bearer token.
    pub admin_token: String,
    /// Data directory (imports, reports).
    pub data_dir: PathBuf,
    /// Names of the configured carriers (a code names one of them).
    pub carriers: Vec<String>,
}

/// Secrets are redacted.
impl std::fmt::Debug for ApiConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiConfig")
            .field("public_url", &self.public_url)
            .field("timestamps_utc", &self.timestamps_utc)
            .field("rate_limit", &self.rate_limit)
            .field("token_failure_rate", &self.token_failure_rate)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("admin_token", &"<redacted>")
            .field("data_dir", &self.data_dir)
            .field("carriers", &self.carriers)
            .finish()
    }
}

/// How timestamps read in bodies (API.md §1): US Central, or UTC with `api.timestamps = "utc"`.
#[derive(Debug, Clone, Copy)]
pub struct Dates {
    pub utc: bool,
}

impl Dates {
    pub fn format(self, ms: i64) -> String {
        domain::format_timestamp(ms, self.utc)
    }
}

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    /// The operations.
    pub service: service::Service,
    /// For credentials (`/v2/token`, bearer tokens) and readiness only.
    pub store: Arc<dyn Store>,
    pub config: Arc<ApiConfig>,
    pub clock: Arc<dyn Clock>,
    limiter: Arc<RateLimiter>,
    /// Failed `/v2/token` requests per `client_id` (API.md §2).
    token_failures: Arc<FailureLimiter>,
    /// Wrong admin tokens per peer address (API.md §8).
    admin_throttle: Arc<AdminThrottle>,
    /// Slow (Argon2) secret checks running at once (API.md §2).
    slow_checks: Arc<tokio::sync::Semaphore>,
    /// Carriers that take status callbacks, by name (`POST /carriers/{name}/status`).
    pub callbacks: Arc<std::collections::HashMap<String, Arc<dyn carrier::StatusCallbacks>>>,
}

impl AppState {
    pub fn new(
        service: service::Service,
        store: Arc<dyn Store>,
        config: ApiConfig,
        clock: Arc<dyn Clock>,
    ) -> AppState {
        let limiter = Arc::new(RateLimiter::new(config.rate_limit));
        let token_failures = Arc::new(FailureLimiter::new(config.token_failure_rate));
        AppState {
            service,
            store,
            config: Arc::new(config),
            clock,
            limiter,
            token_failures,
            admin_throttle: Arc::default(),
            slow_checks: Arc::new(tokio::sync::Semaphore::new(auth::SLOW_CHECKS)),
            callbacks: Arc::default(),
        }
    }

    /// Sets the carriers that take status callbacks.
    pub fn with_callbacks(
        mut self,
        callbacks: std::collections::HashMap<String, Arc<dyn carrier::StatusCallbacks>>,
    ) -> AppState {
        self.callbacks = Arc::new(callbacks);
        self
    }

    /// Wrong admin tokens per peer address (API.md §8), shared with the console's sign-in.
    pub fn admin_throttle(&self) -> Arc<AdminThrottle> {
        self.admin_throttle.clone()
    }

    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// A timestamp in the format of API.md §1.
    pub fn timestamp(&self, ms: i64) -> String {
        self.dates().format(ms)
    }

    pub fn dates(&self) -> Dates {
        Dates {
            utc: self.config.timestamps_utc,
        }
    }
}

/// One API request after routing.
pub struct Ctx {
    pub method: Method,
    /// Percent-decoded path parameters, in path order.
    pub params: Vec<String>,
    /// Query parameters with lowercased names (API.md §1).
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    /// The request body; behind a mutex only so that `&Ctx` is `Sync` across awaits, and shared
    /// with the dispatcher, which drains what a handler left unread.
    body: Arc<std::sync::Mutex<Body>>,
    /// The request path, lowercased (for idempotency fingerprints).
    pub path_key: String,
    /// When a JSON or form body must be complete (API.md §1).
    pub(crate) body_deadline: tokio::time::Instant,
}

impl Ctx {
    /// Takes the body (once; later calls get an empty body).
    pub fn take_body(&mut self) -> Body {
        take_slot(&self.body)
    }

    /// Gives back the unread rest of a body taken with `take_body`.
    fn put_back_body(&mut self, rest: Body) {
        *self.body.lock().unwrap_or_else(|p| p.into_inner()) = rest;
    }

    pub fn param(&self, i: usize) -> &str {
        self.params.get(i).map(String::as_str).unwrap_or("")
    }

    /// A query parameter by name, ignoring case.
    pub fn query(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.query
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Reads the whole body, refusing more than `limit` bytes with 413 and a body that is not
    /// complete 30 s after its head with 408 (API.md §1).
    pub async fn body_bytes(&mut self, limit: usize) -> Result<Bytes, ApiError> {
        if let Some(len) = self
            .headers
            .get(axum::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
        {
            if len > limit as u64 {
                return Err(ApiError::TooLarge);
            }
        }
        let body = self.take_body();
        match arrival::read_body(body, limit, self.body_deadline).await {
            Ok(bytes) => Ok(bytes),
            Err(BodyError::TooLarge(rest)) => {
                // The dispatcher drains the rest before answering.
                self.put_back_body(rest);
                Err(ApiError::TooLarge)
            }
            // The late rest is never read: the answer closes the connection.
            Err(BodyError::TooSlow) => Err(ApiError::RequestTimeout),
            Err(BodyError::Broken) => {
                Err(ApiError::validation("The request body isn't valid JSON."))
            }
        }
    }

    /// Reads a JSON body (≤ 1 MiB) into fields (API.md §1: parsed whatever its content type).
    pub async fn json_fields(&mut self) -> Result<(Bytes, domain::Fields), ApiError> {
        let bytes = self.body_bytes(MAX_JSON_BODY).await?;
        let fields = domain::Fields::parse(&bytes)
            .map_err(|_| ApiError::validation("The request body isn't valid JSON."))?;
        Ok((bytes, fields))
    }
}

/// The whole HTTP application; `pages` (the console) is served beside the API, under the same
/// request metrics.
pub fn router(state: AppState, pages: Router) -> Router {
    let api = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route(openapi::PATH, get(openapi_json))
        .route(
            "/carriers/{name}/status",
            axum::routing::post(carrier_status::receive),
        )
        .fallback(dispatch)
        .with_state(state);
    api.merge(pages)
        .layer(axum::middleware::from_fn(telemetry::track))
}

async fn healthz() -> Response {
    json_response(StatusCode::OK, &responses::Health::UP)
}

async fn readyz(State(state): State<AppState>) -> Response {
    match state.store.ready().await {
        Ok(()) => json_response(StatusCode::OK, &responses::Ready::READY),
        // API.md §8: the cause is logged, never answered.
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            json_response(
                StatusCode::SERVICE_UNAVAILABLE,
                &responses::NotReady::NOT_READY,
            )
        }
    }
}

/// `GET /openapi.json`: the OpenAPI document of the API, built once (public, no auth).
async fn openapi_json() -> Response {
    let mut resp = (StatusCode::OK, openapi::document_bytes()).into_response();
    resp.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json; charset=utf-8"),
    );
    resp
}

/// Query parameters with lowercased names; U+0000 is dropped, as from JSON strings.
fn parse_query(query: Option<&str>) -> Vec<(String, String)> {
    query
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| {
                    let name = domain::without_nul(k.to_ascii_lowercase());
                    (name, domain::without_nul(v.into_owned()))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn take_slot(slot: &std::sync::Mutex<Body>) -> Body {
    std::mem::take(&mut *slot.lock().unwrap_or_else(|p| p.into_inner()))
}

/// At most this much of a body nobody reads is read and discarded before answering.
const DRAIN_LIMIT: usize = 8 * MAX_JSON_BODY;
/// ... within this time.
const DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(10);

/// Reads and discards a body; false when it is larger than `DRAIN_LIMIT`, slower than
/// `DRAIN_TIME`, or broken.
async fn drain(mut body: Body) -> bool {
    let read = async {
        let mut seen = 0usize;
        while let Some(frame) = body.frame().await {
            match frame {
                Ok(frame) => {
                    seen += frame.data_ref().map_or(0, |d| d.len());
                    if seen > DRAIN_LIMIT {
                        return false;
                    }
                }
                Err(_) => return false,
            }
        }
        true
    };
    tokio::time::timeout(DRAIN_TIME, read)
        .await
        .unwrap_or(false)
}

/// Routes and handles a request. A response given without reading the whole body (404, 405,
/// 401, 403, 429, 413) would otherwise leave the client writing into a connection the server
/// drops, so that it cannot read the answer (or reuses a dying connection): the unread rest is
/// drained first, and when it is too large the connection is closed with `Connection: close`.
async fn dispatch(State(state): State<AppState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    // A client waiting for `100 Continue` has not sent the body: answer without asking for it.
    let expects_continue = parts
        .headers
        .get(axum::http::header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    let slot = Arc::new(std::sync::Mutex::new(body));
    let mut resp = route_and_handle(state, parts, slot.clone()).await;
    let rest = take_slot(&slot);
    if !axum::body::HttpBody::is_end_stream(&rest) && (expects_continue || !drain(rest).await) {
        resp.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
    }
    resp
}

async fn route_and_handle(
    state: AppState,
    parts: axum::http::request::Parts,
    body: Arc<std::sync::Mutex<Body>>,
) -> Response {
    let (route, endpoint, params) = match routing::match_route(&parts.method, parts.uri.path()) {
        Matched::NotFound => return ApiError::NotFound("Not found.".into()).into_response(),
        Matched::MethodNotAllowed => return ApiError::MethodNotAllowed.into_response(),
        Matched::Route {
            route,
            endpoint,
            params,
        } => (route, endpoint, params),
    };
    let mut resp = handle_route(state, parts, body, endpoint, params).await;
    resp.extensions_mut()
        .insert(telemetry::RouteLabel(route.path));
    resp
}

async fn handle_route(
    state: AppState,
    parts: axum::http::request::Parts,
    body: Arc<std::sync::Mutex<Body>>,
    endpoint: &'static Endpoint,
    params: Vec<String>,
) -> Response {
    let peer = peer::client_ip(
        &parts.extensions,
        &parts.headers,
        &state.config.trusted_proxies,
    );
    let ctx = Ctx {
        method: parts.method.clone(),
        params,
        query: parse_query(parts.uri.query()),
        body_deadline: arrival::HeadReceived::body_deadline(&parts.extensions),
        headers: parts.headers,
        body,
        path_key: parts.uri.path().to_ascii_lowercase(),
    };
    let handled = std::panic::AssertUnwindSafe(handle(&state, endpoint.handler, ctx, peer))
        .catch_unwind()
        .await;
    match handled {
        Ok(Ok(resp)) => resp,
        Ok(Err(e)) => e.into_response(),
        Err(_) => ApiError::Internal("handler panicked".into()).into_response(),
    }
}

/// Checks the credential the handler needs, then calls it.
async fn handle(
    state: &AppState,
    handler: Handler,
    ctx: Ctx,
    peer: Option<std::net::IpAddr>,
) -> Result<Response, ApiError> {
    match handler {
        Handler::Public(call) => call(state, ctx).await,
        Handler::Sms(scope, call) => {
            let caller = auth::bearer(state, &ctx.headers, scope).await?;
            state.limiter.check(&caller.client_id)?;
            // The account is looked up: its folders exist on this node (API.md §6).
            state.service.folders().ensure_or_log(&caller.account_id);
            call(state, &caller, ctx).await
        }
        Handler::Admin(call) => {
            auth::admin(state, &ctx.headers, peer)?;
            call(state, ctx).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_names_are_lowercased_and_nul_is_dropped() {
        assert_eq!(
            parse_query(Some("After=a%00b&%00limit=2")),
            vec![("after".into(), "ab".into()), ("limit".into(), "2".into())]
        );
    }
}

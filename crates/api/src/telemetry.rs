//! HTTP metrics (docs/metrics.md): every request counted by route, method and status, and
//! timed until its response head is ready. The route is the API route's path template as
//! `/openapi.json` spells it, the axum route's pattern (console, health, carrier callbacks), or
//! `unmatched`, so a scan of random paths adds no label values.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics::SharedString;

/// Counter by `route`, `method`, `status`.
pub const REQUESTS: &str = "tidings_http_requests_total";
/// Histogram by `route`, `method`: seconds until the response head.
pub const REQUEST_SECONDS: &str = "tidings_http_request_duration_seconds";

/// Put on a response by the API dispatcher: the route it matched, in the contract's spelling
/// (`/sms/v1/messageList/{id}/send`, as in `/openapi.json`).
#[derive(Debug, Clone, Copy)]
pub struct RouteLabel(pub &'static str);

/// The method as a label (any method outside the standard ones is `other`).
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// The middleware.
pub async fn track(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(req.method());
    let matched = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| SharedString::from(p.as_str().to_string()));
    let resp = next.run(req).await;
    // API routes (the fallback) carry a static label: no allocation on the hot path.
    let route = resp
        .extensions()
        .get::<RouteLabel>()
        .map(|l| SharedString::const_str(l.0))
        .or(matched)
        .unwrap_or(SharedString::const_str("unmatched"));
    let status = resp.status().as_u16().to_string();
    metrics::counter!(REQUESTS, "route" => route.clone(), "method" => method,
        "status" => status)
    .increment(1);
    metrics::histogram!(REQUEST_SECONDS, "route" => route, "method" => method)
        .record(started.elapsed());
    resp
}

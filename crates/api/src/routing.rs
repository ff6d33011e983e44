//! Case-insensitive routing of API paths (API.md §1): literal segments match ignoring case, one
//! trailing `/` is ignored, and parameters are percent-decoded before any check. The matcher
//! reads the route table (`crate::routes::ROUTES`), whose entries spell each path as the
//! contract does (`/sms/v1/messageList/{id}/send`); each method of an entry says who may call it
//! (and with which scope), which handler answers, and how `/openapi.json` describes it. The
//! dispatcher applies the contract's precedence: 404, 405, 401, 403, 413, 400.

use std::future::Future;
use std::pin::Pin;

use axum::http::Method;
use axum::response::Response;

use crate::auth::Caller;
use crate::openapi::Operation;
use crate::routes::ROUTES;
use crate::{ApiError, AppState, Ctx};

/// What a handler gives back.
pub type HandlerFuture<'a> = Pin<Box<dyn Future<Output = Result<Response, ApiError>> + Send + 'a>>;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// `/v2/token`: the body carries the credentials.
    Public,
    /// `/sms/v1`: a bearer token with the scope of the method (API.md §2).
    Sms,
    /// `/admin/v1`: the admin token.
    Admin,
}

/// The handler of one method of a route, by the credential it needs: the dispatcher checks
/// the credential (and, for `/sms/v1`, the scope and the client's rate) before calling it.
#[derive(Clone, Copy)]
pub enum Handler {
    Public(for<'a> fn(&'a AppState, Ctx) -> HandlerFuture<'a>),
    /// The scope the token needs (API.md §2), and the handler.
    Sms(
        &'static str,
        for<'a> fn(&'a AppState, &'a Caller, Ctx) -> HandlerFuture<'a>,
    ),
    Admin(for<'a> fn(&'a AppState, Ctx) -> HandlerFuture<'a>),
}

impl Handler {
    pub fn access(&self) -> Access {
        match self {
            Handler::Public(_) => Access::Public,
            Handler::Sms(..) => Access::Sms,
            Handler::Admin(_) => Access::Admin,
        }
    }

    /// The scope a `/sms/v1` call needs; `None` for the other APIs.
    pub fn scope(&self) -> Option<&'static str> {
        match self {
            Handler::Sms(scope, _) => Some(scope),
            _ => None,
        }
    }
}

impl std::fmt::Debug for Handler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Handler::Public(_) => f.write_str("Public"),
            Handler::Sms(scope, _) => write!(f, "Sms({scope})"),
            Handler::Admin(_) => f.write_str("Admin"),
        }
    }
}

/// One method of a route: its handler and its OpenAPI operation.
pub struct Endpoint {
    pub method: Method,
    pub handler: Handler,
    /// The operation of `/openapi.json` (operationId, summary, parameters, request body,
    /// success response and the handler's own errors).
    pub operation: fn() -> Operation,
}

impl Endpoint {
    pub fn access(&self) -> Access {
        self.handler.access()
    }
}

/// One path of the API and its methods.
pub struct Route {
    /// The path as the contract spells it, with named parameters: `/sms/v1/messageList/{id}/send`.
    pub path: &'static str,
    pub endpoints: &'static [Endpoint],
}

impl Route {
    /// The method's endpoint, if the route takes it.
    pub fn endpoint(&self, method: &Method) -> Option<&'static Endpoint> {
        self.endpoints.iter().find(|e| e.method == *method)
    }

    /// The `{name}` parameters of the path, in order.
    pub fn parameters(&self) -> impl Iterator<Item = &'static str> {
        self.path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
    }

    /// The path's segments after the leading `/`.
    fn segments(&self) -> impl Iterator<Item = &'static str> + Clone {
        self.path.trim_start_matches('/').split('/')
    }

    /// True when the route's path is `parent` followed by one parameter.
    pub fn is_parameter_below(&self, parent: &Route) -> bool {
        self.path
            .rsplit_once('/')
            .is_some_and(|(head, last)| head == parent.path && last.starts_with('{'))
    }
}

/// Every route of the table, in table order.
pub fn routes() -> impl Iterator<Item = &'static Route> {
    ROUTES.iter()
}

/// The outcome of matching a request line against the table.
#[derive(Debug)]
pub enum Matched {
    Route {
        route: &'static Route,
        endpoint: &'static Endpoint,
        params: Vec<String>,
    },
    MethodNotAllowed,
    NotFound,
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.path)
    }
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {:?}", self.method, self.handler)
    }
}

/// Splits the raw path into percent-decoded segments, ignoring one trailing `/`.
fn segments(raw_path: &str) -> Vec<String> {
    let path = raw_path.strip_prefix('/').unwrap_or(raw_path);
    let path = path.strip_suffix('/').unwrap_or(path);
    path.split('/')
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect()
}

/// True when a segment of a contract path is a parameter (`{id}`).
fn is_parameter(segment: &str) -> bool {
    segment.starts_with('{') && segment.ends_with('}')
}

/// Matches a method and a raw (still percent-encoded) path.
pub fn match_route(method: &Method, raw_path: &str) -> Matched {
    let segs = segments(raw_path);
    // No resource is named with U+0000 (and PostgreSQL could not even look one up).
    if segs.iter().any(|s| s.contains('\0')) {
        return Matched::NotFound;
    }
    let mut path_matched = false;
    for route in ROUTES {
        let pattern = route.segments();
        if pattern.clone().count() != segs.len() {
            continue;
        }
        let mut params = Vec::new();
        let fits = pattern.zip(&segs).all(|(pat, seg)| {
            if is_parameter(pat) {
                params.push(seg.clone());
                true
            } else {
                seg.eq_ignore_ascii_case(pat)
            }
        });
        if !fits {
            continue;
        }
        if let Some(endpoint) = route.endpoint(method) {
            return Matched::Route {
                route,
                endpoint,
                params,
            };
        }
        path_matched = true;
    }
    if path_matched {
        Matched::MethodNotAllowed
    } else {
        Matched::NotFound
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (contract path, access, params) of a match.
    fn matched(method: Method, path: &str) -> Option<(&'static str, Access, Vec<String>)> {
        match match_route(&method, path) {
            Matched::Route {
                route,
                endpoint,
                params,
            } => Some((route.path, endpoint.access(), params)),
            _ => None,
        }
    }

    #[test]
    fn literal_segments_match_ignoring_case_and_params_keep_theirs() {
        assert_eq!(
            matched(Method::POST, "/SMS/V1/MessageList/MzA6Nzg6MA/SEND/"),
            Some((
                "/sms/v1/messageList/{id}/send",
                Access::Sms,
                vec!["MzA6Nzg6MA".to_string()]
            ))
        );
    }

    #[test]
    fn a_nul_in_the_path_names_nothing() {
        assert!(matches!(
            match_route(&Method::GET, "/sms/v1/messageList/a%00b/deliveries/x"),
            Matched::NotFound
        ));
    }

    #[test]
    fn params_are_percent_decoded() {
        assert_eq!(
            matched(Method::GET, "/sms/v1/messagelist/a%20b/deliveries/x%2Fy"),
            Some((
                "/sms/v1/messageList/{id}/deliveries/{tokenId}",
                Access::Sms,
                vec!["a b".to_string(), "x/y".to_string()]
            ))
        );
    }

    #[test]
    fn wrong_method_and_unknown_path() {
        assert!(matches!(
            match_route(&Method::GET, "/sms/v1/messageList/abc/send"),
            Matched::MethodNotAllowed
        ));
        assert!(matches!(
            match_route(&Method::GET, "/sms/v2/nothing"),
            Matched::NotFound
        ));
        assert!(matches!(
            match_route(&Method::POST, "/sms/v1/messageList/abc/send//"),
            Matched::NotFound
        ));
    }

    #[test]
    fn scopes_follow_the_contract() {
        let scope = |method: Method, path: &str| match match_route(&method, path) {
            Matched::Route { endpoint, .. } => endpoint.handler.scope(),
            _ => None,
        };
        assert_eq!(
            scope(Method::POST, "/sms/v1/messageList/a/send"),
            Some("sms_send")
        );
        assert_eq!(
            scope(Method::POST, "/sms/v1/messageContact/a/send"),
            Some("sms_send")
        );
        assert_eq!(scope(Method::POST, "/sms/v1/queueMO"), Some("sms_send"));
        assert_eq!(
            scope(Method::POST, "/sms/v1/contacts/subscriptions"),
            Some("sms_read")
        );
        assert_eq!(
            scope(Method::GET, "/sms/v1/queueMO/history/t"),
            Some("sms_read")
        );
        assert_eq!(scope(Method::POST, "/sms/v1/keyword"), Some("sms_write"));
        assert_eq!(
            scope(Method::DELETE, "/sms/v1/keyword/k"),
            Some("sms_write")
        );
        assert_eq!(scope(Method::POST, "/admin/v1/accounts"), None);
    }
}

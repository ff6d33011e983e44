//! Case-insensitive routing of API paths (API.md §1): literal segments match ignoring case, one
//! trailing `/` is ignored, and parameters are percent-decoded before any check. The route table
//! also tells which scope or credential each route needs, so the dispatcher can apply the
//! contract's precedence: 404, 405, 401, 403, 413, 400.

use axum::http::Method;

/// Every API endpoint, by resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteId {
    Token,
    MessageListSend,
    MessageListDeliveries,
    AdminAccounts,
    AdminAccount,
    AdminClients,
    AdminClient,
    AdminCodes,
    AdminCode,
    AdminKeywords,
    AdminKeyword,
    AdminMessages,
    AdminMessage,
    AdminLists,
    AdminList,
    AdminListContacts,
    AdminListContact,
    AdminSends,
    AdminSend,
    AdminSendCancel,
    AdminOutbox,
    AdminSubscriptions,
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// `/v2/token`: the body carries the credentials.
    Public,
    /// `/sms/v1`: a bearer token; the scope follows from the method (API.md §2).
    Sms,
    /// `/admin/v1`: the admin token.
    Admin,
}

#[derive(Debug, Clone, Copy)]
enum Seg {
    Lit(&'static str),
    Param,
}

use Seg::{Lit, Param};

struct RouteDef {
    id: RouteId,
    access: Access,
    segs: &'static [Seg],
    methods: &'static [Method],
}

const ROUTES: &[RouteDef] = &[
    RouteDef {
        id: RouteId::Token,
        access: Access::Public,
        segs: &[Lit("v2"), Lit("token")],
        methods: &[Method::POST],
    },
    RouteDef {
        id: RouteId::MessageListSend,
        access: Access::Sms,
        segs: &[
            Lit("sms"),
            Lit("v1"),
            Lit("messagelist"),
            Param,
            Lit("send"),
        ],
        methods: &[Method::POST],
    },
    RouteDef {
        id: RouteId::MessageListDeliveries,
        access: Access::Sms,
        segs: &[
            Lit("sms"),
            Lit("v1"),
            Lit("messagelist"),
            Param,
            Lit("deliveries"),
            Param,
        ],
        methods: &[Method::GET],
    },
    RouteDef {
        id: RouteId::AdminAccounts,
        access: Access::Admin,
        segs: &[Lit("admin"), Lit("v1"), Lit("accounts")],
        methods: &[Method::GET, Method::POST],
    },
    RouteDef {
        id: RouteId::AdminAccount,
        access: Access::Admin,
        segs: &[Lit("admin"), Lit("v1"), Lit("accounts"), Param],
        methods: &[Method::GET],
    },
    RouteDef {
        id: RouteId::AdminClients,
        access: Access::Admin,
        segs: &[
            Lit("admin"),
            Lit("v1"),
            Lit("accounts"),
            Param,
            Lit("clients"),
        ],
        methods: &[Method::GET, Method::POST],
    },
    RouteDef {
        id: RouteId::AdminClient,
        access: Access::Admin,
        segs: &[
            Lit("admin"),
            Lit("v1"),
            Lit("accounts"),
            Param,
            Lit("clients"),
            Param,
        ],
        methods: &[Method::DELETE],
    },
    RouteDef {
        id: RouteId::AdminCodes,
        access: Access::Admin,
        segs: &[
            Lit("admin"),
            Lit("v1"),
            Lit("accounts"),
            Param,
            Lit("codes"),
        ],
        methods: &[Method::GET, Method::POST],
    },
    RouteDef {
        id: RouteId::AdminCode,
        access: Access::Admin,
        segs: &[
            Lit("admin"),
            Lit("v1"),
            Lit("accounts"),
            Param,
            Lit("codes"),
            Param,
        ],
        methods: &[Method::GET, Method::DELETE],
    },
    RouteDef {
        id: RouteId::AdminKeywords,
        access: Access::Admin,
        segs: &[
            Lit("admin"),
            Lit("v1"),
            Lit("accounts"),
            Param,
            Lit("keywords"),
        ],
        methods: &[Method::GET, Method::POST],
    },
    RouteDef {
        id: RouteId::AdminKeyword,
        access: Access::Admin,
        segs: &[
            Lit("admin"),
            Lit("v1"),
            Lit("accounts"),
            Param,
            Lit("keywords"),
            Param,
        ],
        methods: &[Method::GET, Method::DELETE],
    },
    RouteDef {
        id: RouteId::AdminMessages,
        access: Access::Admin,
        segs: &[
            Lit("admin"),
            Lit("v1"),
            Lit("accounts"),
            Param,
            Lit("messages"),
        ],
        methods: &[Method::GET, Method::POST],
    },
    RouteDef {
        id: RouteId::AdminMessage,
        access: Access::Admin,
        segs: &[
            Lit("admin"),
            Lit("v1"),
            Lit("accounts"),
            Param,
            Lit("messages"),
            Param,
        ],
        methods: &[Method::GET, Method::PATCH, Method::DELETE],
    },
    RouteDef {
        id: RouteId::AdminLists,
        access: Access::Admin,
        segs: &[
            Lit("admin"),
            Lit("v1"),
            Lit("accounts"),
            Param,
            Lit("lists"),
        ],
        methods: &[Method::GET, Method::POST],
    },
    RouteDef {
        id: RouteId::AdminList,
        access: Access::Admin,
        segs: &[
            Lit("admin"),
            Lit("v1"),
            Lit("accounts"),
            Param,
            Lit("lists"),
            Param,
        ],
        methods: &[Method::GET, Method::DELETE],
    },
    RouteDef {
        id: RouteId::AdminListContacts,
        access: Access::Admin,
        segs: &[
            Lit("admin"),
            Lit("v1"),
            Lit("accounts"),
            Param,
            Lit("lists"),
            Param,
            Lit("contacts"),
        ],
        methods: &[Method::POST],
    },
    RouteDef {
        id: RouteId::AdminListContact,
        access: Access::Admin,
        segs: &[
            Lit("admin"),
            Lit("v1"),
            Lit("accounts"),
            Param,
            Lit("lists"),
            Param,
            Lit("contacts"),
            Param,
        ],
        methods: &[Method::DELETE],
    },
    RouteDef {
        id: RouteId::AdminSends,
        access: Access::Admin,
        segs: &[
            Lit("admin"),
            Lit("v1"),
            Lit("accounts"),
            Param,
            Lit("sends"),
        ],
        methods: &[Method::GET],
    },
    RouteDef {
        id: RouteId::AdminSend,
        access: Access::Admin,
        segs: &[Lit("admin"), Lit("v1"), Lit("sends"), Param],
        methods: &[Method::GET],
    },
    RouteDef {
        id: RouteId::AdminSendCancel,
        access: Access::Admin,
        segs: &[Lit("admin"), Lit("v1"), Lit("sends"), Param, Lit("cancel")],
        methods: &[Method::POST],
    },
    RouteDef {
        id: RouteId::AdminOutbox,
        access: Access::Admin,
        segs: &[Lit("admin"), Lit("v1"), Lit("outbox")],
        methods: &[Method::GET],
    },
    RouteDef {
        id: RouteId::AdminSubscriptions,
        access: Access::Admin,
        segs: &[
            Lit("admin"),
            Lit("v1"),
            Lit("accounts"),
            Param,
            Lit("subscriptions"),
        ],
        methods: &[Method::GET, Method::POST],
    },
];

/// The outcome of matching a request line against the table.
#[derive(Debug, PartialEq, Eq)]
pub enum Matched {
    Route {
        id: RouteId,
        access: Access,
        params: Vec<String>,
    },
    MethodNotAllowed,
    NotFound,
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

/// Matches a method and a raw (still percent-encoded) path.
pub fn match_route(method: &Method, raw_path: &str) -> Matched {
    let segs = segments(raw_path);
    let mut path_matched = false;
    for def in ROUTES {
        if def.segs.len() != segs.len() {
            continue;
        }
        let mut params = Vec::new();
        let fits = def.segs.iter().zip(&segs).all(|(pat, seg)| match pat {
            Lit(lit) => seg.eq_ignore_ascii_case(lit),
            Param => {
                params.push(seg.clone());
                true
            }
        });
        if !fits {
            continue;
        }
        if def.methods.contains(method) {
            return Matched::Route {
                id: def.id,
                access: def.access,
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

/// The scope a `/sms/v1` call needs (API.md §2).
pub fn required_scope(id: RouteId, method: &Method) -> &'static str {
    match id {
        RouteId::MessageListSend => "sms_send",
        _ if method == Method::GET => "sms_read",
        _ => "sms_write",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_segments_match_ignoring_case_and_params_keep_theirs() {
        let m = match_route(&Method::POST, "/SMS/V1/MessageList/MzA6Nzg6MA/SEND/");
        assert_eq!(
            m,
            Matched::Route {
                id: RouteId::MessageListSend,
                access: Access::Sms,
                params: vec!["MzA6Nzg6MA".to_string()],
            }
        );
    }

    #[test]
    fn params_are_percent_decoded() {
        let m = match_route(&Method::GET, "/sms/v1/messagelist/a%20b/deliveries/x%2Fy");
        assert_eq!(
            m,
            Matched::Route {
                id: RouteId::MessageListDeliveries,
                access: Access::Sms,
                params: vec!["a b".to_string(), "x/y".to_string()],
            }
        );
    }

    #[test]
    fn wrong_method_and_unknown_path() {
        assert_eq!(
            match_route(&Method::GET, "/sms/v1/messageList/abc/send"),
            Matched::MethodNotAllowed
        );
        assert_eq!(
            match_route(&Method::GET, "/sms/v2/nothing"),
            Matched::NotFound
        );
        assert_eq!(
            match_route(&Method::POST, "/sms/v1/messageList/abc/send//"),
            Matched::NotFound
        );
    }
}

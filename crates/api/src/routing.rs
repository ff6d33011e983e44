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
    DeliveryReport,
    MessageContactSend,
    MessageContactDeliveries,
    MessageContactHistory,
    QueueMo,
    QueueMoDeliveries,
    QueueMoHistory,
    Keyword,
    KeywordDelete,
    Subscriptions,
    QueueImport,
    QueueImportStatus,
    RefreshList,
    RefreshListStatus,
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

/// One endpoint: its path pattern (literal segments in lowercase, `{}` for a parameter), who
/// may call it, and its methods.
struct RouteDef {
    id: RouteId,
    access: Access,
    pattern: &'static str,
    methods: &'static [Method],
}

const fn route(
    id: RouteId,
    access: Access,
    pattern: &'static str,
    methods: &'static [Method],
) -> RouteDef {
    RouteDef {
        id,
        access,
        pattern,
        methods,
    }
}

const GET: Method = Method::GET;
const POST: Method = Method::POST;
const PATCH: Method = Method::PATCH;
const DELETE: Method = Method::DELETE;

#[rustfmt::skip]
const ROUTES: &[RouteDef] = &[
    route(RouteId::Token, Access::Public, "v2/token", &[POST]),
    route(RouteId::MessageListSend, Access::Sms, "sms/v1/messagelist/{}/send", &[POST]),
    route(RouteId::MessageListDeliveries, Access::Sms, "sms/v1/messagelist/{}/deliveries/{}", &[GET]),
    route(RouteId::DeliveryReport, Access::Sms, "sms/v1/messagelist/{}/deliveryreport/{}", &[POST]),
    route(RouteId::MessageContactSend, Access::Sms, "sms/v1/messagecontact/{}/send", &[POST]),
    route(RouteId::MessageContactDeliveries, Access::Sms, "sms/v1/messagecontact/{}/deliveries/{}", &[GET]),
    route(RouteId::MessageContactHistory, Access::Sms, "sms/v1/messagecontact/{}/history/{}/mobilenumber/{}", &[GET]),
    route(RouteId::QueueMo, Access::Sms, "sms/v1/queuemo", &[POST]),
    route(RouteId::QueueMoDeliveries, Access::Sms, "sms/v1/queuemo/deliveries/{}", &[GET]),
    route(RouteId::QueueMoHistory, Access::Sms, "sms/v1/queuemo/history/{}", &[GET]),
    route(RouteId::Keyword, Access::Sms, "sms/v1/keyword", &[POST]),
    route(RouteId::KeywordDelete, Access::Sms, "sms/v1/keyword/{}", &[DELETE]),
    route(RouteId::Subscriptions, Access::Sms, "sms/v1/contacts/subscriptions", &[POST]),
    route(RouteId::QueueImport, Access::Sms, "sms/v1/contacts/queueimport/{}", &[POST]),
    route(RouteId::QueueImportStatus, Access::Sms, "sms/v1/contacts/queueimport/{}/status/{}", &[GET]),
    route(RouteId::RefreshList, Access::Sms, "sms/v1/contacts/refreshlist/{}", &[POST]),
    route(RouteId::RefreshListStatus, Access::Sms, "sms/v1/contacts/refreshlist/{}/status/{}", &[GET]),
    route(RouteId::AdminAccounts, Access::Admin, "admin/v1/accounts", &[GET, POST]),
    route(RouteId::AdminAccount, Access::Admin, "admin/v1/accounts/{}", &[GET]),
    route(RouteId::AdminClients, Access::Admin, "admin/v1/accounts/{}/clients", &[GET, POST]),
    route(RouteId::AdminClient, Access::Admin, "admin/v1/accounts/{}/clients/{}", &[DELETE]),
    route(RouteId::AdminCodes, Access::Admin, "admin/v1/accounts/{}/codes", &[GET, POST]),
    route(RouteId::AdminCode, Access::Admin, "admin/v1/accounts/{}/codes/{}", &[GET, PATCH, DELETE]),
    route(RouteId::AdminKeywords, Access::Admin, "admin/v1/accounts/{}/keywords", &[GET, POST]),
    route(RouteId::AdminKeyword, Access::Admin, "admin/v1/accounts/{}/keywords/{}", &[GET, PATCH, DELETE]),
    route(RouteId::AdminMessages, Access::Admin, "admin/v1/accounts/{}/messages", &[GET, POST]),
    route(RouteId::AdminMessage, Access::Admin, "admin/v1/accounts/{}/messages/{}", &[GET, PATCH, DELETE]),
    route(RouteId::AdminLists, Access::Admin, "admin/v1/accounts/{}/lists", &[GET, POST]),
    route(RouteId::AdminList, Access::Admin, "admin/v1/accounts/{}/lists/{}", &[GET, DELETE]),
    route(RouteId::AdminListContacts, Access::Admin, "admin/v1/accounts/{}/lists/{}/contacts", &[POST]),
    route(RouteId::AdminListContact, Access::Admin, "admin/v1/accounts/{}/lists/{}/contacts/{}", &[DELETE]),
    route(RouteId::AdminSends, Access::Admin, "admin/v1/accounts/{}/sends", &[GET]),
    route(RouteId::AdminSend, Access::Admin, "admin/v1/sends/{}", &[GET]),
    route(RouteId::AdminSendCancel, Access::Admin, "admin/v1/sends/{}/cancel", &[POST]),
    route(RouteId::AdminOutbox, Access::Admin, "admin/v1/outbox", &[GET]),
    route(RouteId::AdminSubscriptions, Access::Admin, "admin/v1/accounts/{}/subscriptions", &[GET, POST]),
];

/// One row of the route table, as `openapi` describes it.
#[derive(Debug, Clone, Copy)]
pub struct RouteInfo {
    pub id: RouteId,
    pub access: Access,
    /// Literal segments in lowercase, `{}` for a parameter, no leading `/`.
    pub pattern: &'static str,
    pub methods: &'static [Method],
}

/// Every route of the table, in table order.
pub fn routes() -> impl Iterator<Item = RouteInfo> {
    ROUTES.iter().map(|def| RouteInfo {
        id: def.id,
        access: def.access,
        pattern: def.pattern,
        methods: def.methods,
    })
}

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
    // No resource is named with U+0000 (and PostgreSQL could not even look one up).
    if segs.iter().any(|s| s.contains('\0')) {
        return Matched::NotFound;
    }
    let mut path_matched = false;
    for def in ROUTES {
        let pattern = def.pattern.split('/');
        if pattern.clone().count() != segs.len() {
            continue;
        }
        let mut params = Vec::new();
        let fits = pattern.zip(&segs).all(|(pat, seg)| {
            if pat == "{}" {
                params.push(seg.clone());
                true
            } else {
                seg.eq_ignore_ascii_case(pat)
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
        RouteId::MessageListSend | RouteId::MessageContactSend | RouteId::QueueMo => "sms_send",
        RouteId::Subscriptions => "sms_read",
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
    fn a_nul_in_the_path_names_nothing() {
        assert!(matches!(
            match_route(&Method::GET, "/sms/v1/messageList/a%00b/deliveries/x"),
            Matched::NotFound
        ));
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

//! The route table: the one place an API route is written down. Each entry is a path as the
//! contract spells it; each of its methods names the handler (whose variant says which
//! credential it needs, and for `/sms/v1` which scope) and the function describing its OpenAPI
//! operation. The matcher (`routing`), the dispatcher (`lib.rs`), the request metrics' route
//! label and `/openapi.json` all read this table; nothing else lists routes.
//!
//! Adding a route: one entry here (or one method of an entry), one operation of `service`, one
//! handler, one typed response (see docs/architecture.md, "Adding a route").

use axum::http::Method;
use serde_json::json;

use crate::openapi::{
    idempotency_key, job_status_link, paging_params, query, schema, send_status_link, token_link,
    typed, Operation, SEND_STATES,
};
use crate::responses::{
    Account, AccountList, AdminSendStatus, Canceled, ClientCreated, ClientList, Code, CodeList,
    ContactHistory, DefinitionBody, DefinitionDeleted, DefinitionListBody, Deleted,
    DeliveryReportAccepted, ImportReport, ImportSendAccepted, ImportSendStatus, ImportStatus,
    Keyword, KeywordCreated, KeywordDeleted, KeywordList, List, ListList, Message, MessageCreated,
    MessageList, MoHistory, MoSendStatus, NotSentPage, Outbox, QueueEmptied, QueueMetrics,
    QueueMoAccepted, RefreshAccepted, RefreshStatus, SendAccepted, SendList, SendStatus,
    Subscription, SubscriptionList, SubscriptionLookup, TokenResponse, TxSendAccepted,
    TxStatusBody,
};
use crate::routing::{Endpoint, Handler, HandlerFuture, Route};
use crate::{
    admin, contacts, import_send, message_contact, message_list, mo, sms_messages, token,
    transactional,
};

/// Scopes of `/sms/v1` (API.md §2).
const SMS_SEND: &str = "sms_send";
const SMS_READ: &str = "sms_read";
const SMS_WRITE: &str = "sms_write";

const GET: Method = Method::GET;
const POST: Method = Method::POST;
const PATCH: Method = Method::PATCH;
const DELETE: Method = Method::DELETE;

const fn endpoint(method: Method, handler: Handler, operation: fn() -> Operation) -> Endpoint {
    Endpoint {
        method,
        handler,
        operation,
    }
}

/// `public!(f)`: `f(state, ctx)` answers without credentials (its body carries them).
macro_rules! public {
    ($f:path) => {{
        fn call(state: &crate::AppState, ctx: crate::Ctx) -> HandlerFuture<'_> {
            Box::pin($f(state, ctx))
        }
        Handler::Public(call)
    }};
}

/// `sms!(scope, f)`: `f(state, caller, ctx)` answers a caller whose token has `scope`.
macro_rules! sms {
    ($scope:expr, $f:path) => {{
        fn call<'a>(
            state: &'a crate::AppState,
            caller: &'a crate::auth::Caller,
            ctx: crate::Ctx,
        ) -> HandlerFuture<'a> {
            Box::pin($f(state, caller, ctx))
        }
        Handler::Sms($scope, call)
    }};
}

/// `admin!(f)`: `f(state, ctx)` answers a caller with the admin token.
macro_rules! admin {
    ($f:path) => {{
        fn call(state: &crate::AppState, ctx: crate::Ctx) -> HandlerFuture<'_> {
            Box::pin($f(state, ctx))
        }
        Handler::Admin(call)
    }};
}

/// Every API route. The matcher tries them in this order.
#[rustfmt::skip]
pub(crate) const ROUTES: &[Route] = &[
    Route {
        path: "/v2/token",
        endpoints: &[
            endpoint(POST, public!(token::issue), token),
        ],
    },
    Route {
        path: "/sms/v1/messageList/{id}/send",
        endpoints: &[
            endpoint(POST, sms!(SMS_SEND, message_list::send), send_message_list),
        ],
    },
    Route {
        path: "/sms/v1/messageList/{id}/deliveries/{tokenId}",
        endpoints: &[
            endpoint(GET, sms!(SMS_READ, message_list::deliveries), message_list_deliveries),
        ],
    },
    Route {
        path: "/sms/v1/messageList/{id}/deliveryReport/{tokenId}",
        endpoints: &[
            endpoint(POST, sms!(SMS_WRITE, contacts::delivery_report), delivery_report),
        ],
    },
    Route {
        path: "/sms/v1/messageContact/{id}/send",
        endpoints: &[
            endpoint(POST, sms!(SMS_SEND, message_contact::send), send_message_contact),
        ],
    },
    Route {
        path: "/sms/v1/messageContact/{id}/deliveries/{tokenId}",
        endpoints: &[
            endpoint(GET, sms!(SMS_READ, message_contact::deliveries), message_contact_deliveries),
        ],
    },
    Route {
        path: "/sms/v1/messageContact/{id}/history/{tokenId}/mobileNumber/{mobileNumber}",
        endpoints: &[
            endpoint(GET, sms!(SMS_READ, message_contact::history), message_contact_history),
        ],
    },
    Route {
        path: "/sms/v1/queueMO",
        endpoints: &[
            endpoint(POST, sms!(SMS_SEND, mo::queue_mo), queue_mo),
        ],
    },
    Route {
        path: "/sms/v1/queueMO/deliveries/{tokenId}",
        endpoints: &[
            endpoint(GET, sms!(SMS_READ, mo::deliveries), queue_mo_deliveries),
        ],
    },
    Route {
        path: "/sms/v1/queueMO/history/{tokenId}",
        endpoints: &[
            endpoint(GET, sms!(SMS_READ, mo::history), queue_mo_history),
        ],
    },
    Route {
        path: "/sms/v1/keyword",
        endpoints: &[
            endpoint(POST, sms!(SMS_WRITE, mo::create_keyword), create_keyword),
            endpoint(DELETE, sms!(SMS_WRITE, mo::delete_keyword_in_body), delete_keyword_in_body),
        ],
    },
    Route {
        path: "/sms/v1/keyword/{keywordId}",
        endpoints: &[
            endpoint(DELETE, sms!(SMS_WRITE, mo::delete_keyword), delete_keyword),
        ],
    },
    Route {
        path: "/sms/v1/keyword/{keyword}/{longCode}",
        endpoints: &[
            endpoint(DELETE, sms!(SMS_WRITE, mo::delete_keyword_on_long_code), delete_keyword_on_long_code),
        ],
    },
    Route {
        path: "/sms/v1/keyword/{keyword}/{shortCode}/{countryCode}",
        endpoints: &[
            endpoint(DELETE, sms!(SMS_WRITE, mo::delete_keyword_on_short_code), delete_keyword_on_short_code),
        ],
    },
    Route {
        path: "/sms/v1/automation/importSend",
        endpoints: &[
            endpoint(POST, sms!(SMS_SEND, import_send::accept), import_send),
        ],
    },
    Route {
        path: "/sms/v1/automation/importSend/{tokenId}/status",
        endpoints: &[
            endpoint(GET, sms!(SMS_READ, import_send::status), import_send_status),
        ],
    },
    Route {
        path: "/sms/v1/automation/importSend/{tokenId}/deliveryReport",
        endpoints: &[
            endpoint(POST, sms!(SMS_WRITE, import_send::delivery_report), import_send_delivery_report),
        ],
    },
    Route {
        path: "/sms/v1/message/outbound",
        endpoints: &[
            endpoint(POST, sms!(SMS_WRITE, sms_messages::outbound), create_outbound_message),
        ],
    },
    Route {
        path: "/sms/v1/message/optin",
        endpoints: &[
            endpoint(POST, sms!(SMS_WRITE, sms_messages::opt_in), create_opt_in_message),
        ],
    },
    Route {
        path: "/messaging/v1/sms/definitions",
        endpoints: &[
            endpoint(POST, sms!(SMS_WRITE, transactional::create_definition), create_definition),
            endpoint(GET, sms!(SMS_READ, transactional::list_definitions), list_definitions),
        ],
    },
    Route {
        path: "/messaging/v1/sms/definitions/{definitionKey}",
        endpoints: &[
            endpoint(GET, sms!(SMS_READ, transactional::get_definition), get_definition),
            endpoint(PATCH, sms!(SMS_WRITE, transactional::update_definition), update_definition),
            endpoint(DELETE, sms!(SMS_WRITE, transactional::delete_definition), delete_definition),
        ],
    },
    Route {
        path: "/messaging/v1/sms/definitions/{definitionKey}/queue",
        endpoints: &[
            endpoint(GET, sms!(SMS_READ, transactional::queue_metrics), definition_queue),
            endpoint(DELETE, sms!(SMS_WRITE, transactional::empty_queue), empty_definition_queue),
        ],
    },
    Route {
        path: "/messaging/v1/sms/messages",
        endpoints: &[
            endpoint(POST, sms!(SMS_SEND, transactional::send_many), send_transactional_many),
            endpoint(GET, sms!(SMS_READ, transactional::not_sent), transactional_not_sent),
        ],
    },
    Route {
        path: "/messaging/v1/sms/messages/{messageKey}",
        endpoints: &[
            endpoint(POST, sms!(SMS_SEND, transactional::send_one), send_transactional_one),
            endpoint(GET, sms!(SMS_READ, transactional::message_status), transactional_status),
        ],
    },
    Route {
        path: "/sms/v1/contacts/subscriptions",
        endpoints: &[
            endpoint(POST, sms!(SMS_READ, mo::subscriptions), contact_subscriptions),
        ],
    },
    Route {
        path: "/sms/v1/contacts/queueImport/{listId}",
        endpoints: &[
            endpoint(POST, sms!(SMS_WRITE, contacts::queue_import), queue_import),
        ],
    },
    Route {
        path: "/sms/v1/contacts/queueImport/{listId}/status/{tokenId}",
        endpoints: &[
            endpoint(GET, sms!(SMS_READ, contacts::import_status), queue_import_status),
        ],
    },
    Route {
        path: "/sms/v1/contacts/refreshList/{listId}",
        endpoints: &[
            endpoint(POST, sms!(SMS_WRITE, contacts::refresh_list), refresh_list),
        ],
    },
    Route {
        path: "/sms/v1/contacts/refreshList/{listId}/status/{tokenId}",
        endpoints: &[
            endpoint(GET, sms!(SMS_READ, contacts::refresh_status), refresh_list_status),
        ],
    },
    Route {
        path: "/admin/v1/accounts",
        endpoints: &[
            endpoint(GET, admin!(admin::accounts::list_accounts), list_accounts),
            endpoint(POST, admin!(admin::accounts::create_account), create_account),
        ],
    },
    Route {
        path: "/admin/v1/accounts/{acct}",
        endpoints: &[
            endpoint(GET, admin!(admin::accounts::get_account), get_account),
        ],
    },
    Route {
        path: "/admin/v1/accounts/{acct}/clients",
        endpoints: &[
            endpoint(GET, admin!(admin::accounts::list_clients), list_clients),
            endpoint(POST, admin!(admin::accounts::create_client), create_client),
        ],
    },
    Route {
        path: "/admin/v1/accounts/{acct}/clients/{clientId}",
        endpoints: &[
            endpoint(DELETE, admin!(admin::accounts::revoke_client), revoke_client),
        ],
    },
    Route {
        path: "/admin/v1/accounts/{acct}/codes",
        endpoints: &[
            endpoint(GET, admin!(admin::catalog::list_codes), list_codes),
            endpoint(POST, admin!(admin::catalog::create_code), create_code),
        ],
    },
    Route {
        path: "/admin/v1/accounts/{acct}/codes/{code}",
        endpoints: &[
            endpoint(GET, admin!(admin::catalog::get_code), get_code),
            endpoint(PATCH, admin!(admin::catalog::update_code), update_code),
            endpoint(DELETE, admin!(admin::catalog::delete_code), delete_code),
        ],
    },
    Route {
        path: "/admin/v1/accounts/{acct}/keywords",
        endpoints: &[
            endpoint(GET, admin!(admin::catalog::list_keywords), list_keywords),
            endpoint(POST, admin!(admin::catalog::create_keyword), create_admin_keyword),
        ],
    },
    Route {
        path: "/admin/v1/accounts/{acct}/keywords/{keywordId}",
        endpoints: &[
            endpoint(GET, admin!(admin::catalog::get_keyword), get_keyword),
            endpoint(PATCH, admin!(admin::catalog::update_keyword), update_keyword),
            endpoint(DELETE, admin!(admin::catalog::delete_keyword), delete_admin_keyword),
        ],
    },
    Route {
        path: "/admin/v1/accounts/{acct}/messages",
        endpoints: &[
            endpoint(GET, admin!(admin::catalog::list_messages), list_messages),
            endpoint(POST, admin!(admin::catalog::create_message), create_message),
        ],
    },
    Route {
        path: "/admin/v1/accounts/{acct}/messages/{id}",
        endpoints: &[
            endpoint(GET, admin!(admin::catalog::get_message), get_message),
            endpoint(PATCH, admin!(admin::catalog::update_message), update_message),
            endpoint(DELETE, admin!(admin::catalog::delete_message), delete_message),
        ],
    },
    Route {
        path: "/admin/v1/accounts/{acct}/lists",
        endpoints: &[
            endpoint(GET, admin!(admin::lists::list_lists), list_lists),
            endpoint(POST, admin!(admin::lists::create_list), create_list),
        ],
    },
    Route {
        path: "/admin/v1/accounts/{acct}/lists/{list}",
        endpoints: &[
            endpoint(GET, admin!(admin::lists::get_list), get_list),
            endpoint(DELETE, admin!(admin::lists::delete_list), delete_list),
        ],
    },
    Route {
        path: "/admin/v1/accounts/{acct}/lists/{list}/contacts",
        endpoints: &[
            endpoint(POST, admin!(admin::lists::import_contacts), import_contacts),
        ],
    },
    Route {
        path: "/admin/v1/accounts/{acct}/lists/{list}/contacts/{mobileNumber}",
        endpoints: &[
            endpoint(DELETE, admin!(admin::lists::remove_contact), remove_contact),
        ],
    },
    Route {
        path: "/admin/v1/accounts/{acct}/sends",
        endpoints: &[
            endpoint(GET, admin!(admin::sends::list_sends), list_sends),
        ],
    },
    Route {
        path: "/admin/v1/sends/{tokenId}",
        endpoints: &[
            endpoint(GET, admin!(admin::sends::send_status), get_send),
        ],
    },
    Route {
        path: "/admin/v1/sends/{tokenId}/cancel",
        endpoints: &[
            endpoint(POST, admin!(admin::sends::cancel), cancel_send),
        ],
    },
    Route {
        path: "/admin/v1/outbox",
        endpoints: &[
            endpoint(GET, admin!(admin::sends::outbox), outbox),
        ],
    },
    Route {
        path: "/admin/v1/accounts/{acct}/subscriptions",
        endpoints: &[
            endpoint(GET, admin!(admin::lists::subscriptions), list_subscriptions),
            endpoint(POST, admin!(admin::lists::set_subscription), set_subscription),
        ],
    },
];

// ---------------------------------------------------------------------------------------------
// The operations of `/openapi.json`, one per (route, method), in table order. Path parameters,
// security and the errors every route of its kind can give follow from the entry.

pub(crate) fn token() -> Operation {
    Operation::new(
        "token",
        "Get an access token (OAuth2 client credentials)",
        typed::<TokenResponse>(200, "A fresh bearer token for /sms/v1."),
    )
    .describe(
        "API.md §2. The body is JSON (as the Node clients send it) or \
         application/x-www-form-urlencoded; field names are case-insensitive.",
    )
    .content(json!({
        "application/json": { "schema": schema("TokenRequest") },
        "application/x-www-form-urlencoded": { "schema": schema("TokenRequest") },
    }))
    .success_header(
        "Cache-Control",
        "The token is not to be cached.",
        json!({ "const": "no-store" }),
    )
    .errors(&[400])
}

pub(crate) fn send_message_list() -> Operation {
    Operation::new(
        "sendMessageList",
        "Send a stored message to contact lists",
        typed::<SendAccepted>(202, "The send is recorded; it runs in the background."),
    )
    .describe(
        "API.md §4. A 400 lists every applicable message of §4's table, in order. \
         409: the Idempotency-Key was used with a different request.",
    )
    .param(idempotency_key())
    .json_body(schema("SendListRequest"))
    .errors(&[400, 409])
    .link("messageListDeliveries", send_status_link())
    .link("deliveryReport", send_status_link())
    .link("getSend", token_link())
    .link("cancelSend", token_link())
}

pub(crate) fn message_list_deliveries() -> Operation {
    paging_params(Operation::new(
        "messageListDeliveries",
        "Status and tracking of a messageList send",
        typed::<SendStatus>(200, "The send's status (API.md §5)."),
    ))
    .describe("API.md §5. 400: a malformed id or token, or a token of another message.")
    .errors(&[400])
}

pub(crate) fn delivery_report() -> Operation {
    Operation::new(
        "deliveryReport",
        "Write a send's per-recipient results to a CSV file in the account's reports folder",
        typed::<DeliveryReportAccepted>(202, "The report is being written."),
    )
    .describe("API.md §6. 409: the account already has a report file of that name.")
    .json_body(schema("DeliveryReportRequest"))
    .errors(&[400, 409])
}

pub(crate) fn send_message_contact() -> Operation {
    Operation::new(
        "sendMessageContact",
        "Send a stored message to explicit mobile numbers",
        typed::<SendAccepted>(202, "The send is recorded; it runs in the background."),
    )
    .describe(
        "API.md §6. A 400 lists every applicable message, in the contract's order. \
         409: the Idempotency-Key was used with a different request.",
    )
    .param(idempotency_key())
    .json_body(schema("SendContactRequest"))
    .errors(&[400, 409])
    .link("messageContactDeliveries", send_status_link())
}

pub(crate) fn message_contact_deliveries() -> Operation {
    paging_params(Operation::new(
        "messageContactDeliveries",
        "Status and tracking of a messageContact send",
        typed::<SendStatus>(200, "The send's status (API.md §5)."),
    ))
    .errors(&[400])
}

pub(crate) fn message_contact_history() -> Operation {
    Operation::new(
        "messageContactHistory",
        "What a messageContact send texted one number, and what the number texted since",
        typed::<ContactHistory>(200, "The number's history."),
    )
    .errors(&[400])
}

pub(crate) fn queue_mo() -> Operation {
    Operation::new(
        "queueMO",
        "Handle texts as if the numbers had sent them to a code",
        typed::<QueueMoAccepted>(
            202,
            "The texts were handled; replies are sent in the \
            background.",
        ),
    )
    .describe("API.md §6 (keywords: STOP, START, HELP, opt-in keywords).")
    .json_body(schema("QueueMoRequest"))
    .errors(&[400])
    .link("queueMODeliveries", token_link())
    .link("queueMOHistory", token_link())
}

pub(crate) fn queue_mo_deliveries() -> Operation {
    paging_params(Operation::new(
        "queueMODeliveries",
        "Status of the replies of a queueMO call",
        typed::<MoSendStatus>(200, "One tracking entry per reply sent."),
    ))
    .errors(&[400])
}

pub(crate) fn queue_mo_history() -> Operation {
    Operation::new(
        "queueMOHistory",
        "Texts in and out since a queueMO call",
        typed::<MoHistory>(200, "The history of the call's numbers."),
    )
    .errors(&[400])
}

pub(crate) fn create_keyword() -> Operation {
    Operation::new(
        "createKeyword",
        "Create an opt-in keyword on one of the account's codes",
        typed::<KeywordCreated>(202, "The keyword exists; both keys carry its ID."),
    )
    .describe("API.md §6. 409: the keyword already exists on the code.")
    .json_body(schema("KeywordRequest"))
    .errors(&[400, 409])
    .link(
        "deleteKeyword",
        json!({ "keywordId": "$response.body#/keywordId" }),
    )
}

/// The description every keyword-delete form shares.
const DELETE_KEYWORD: &str = "API.md §6. Ends the keyword's Subscribed and InProgress \
     subscriptions; opt-outs on the code stay. A keyword, ID or code that is not the account's: \
     404 `Keyword {0} isn't valid for the client.`";

pub(crate) fn delete_keyword() -> Operation {
    Operation::new(
        "deleteKeyword",
        "Delete a keyword by its ID",
        typed::<KeywordDeleted>(202, "The keyword is deleted."),
    )
    .describe(DELETE_KEYWORD)
    .errors(&[404])
}

pub(crate) fn delete_keyword_on_long_code() -> Operation {
    Operation::new(
        "deleteKeywordOnLongCode",
        "Delete a keyword by the keyword and its long code",
        typed::<KeywordDeleted>(202, "The keyword is deleted."),
    )
    .describe(DELETE_KEYWORD)
    .errors(&[400, 404])
}

pub(crate) fn delete_keyword_on_short_code() -> Operation {
    Operation::new(
        "deleteKeywordOnShortCode",
        "Delete a keyword by the keyword, its short code and the code's country",
        typed::<KeywordDeleted>(202, "The keyword is deleted."),
    )
    .describe(DELETE_KEYWORD)
    .errors(&[400, 404])
}

pub(crate) fn delete_keyword_in_body() -> Operation {
    Operation::new(
        "deleteKeywordInBody",
        "Delete a keyword named in the body: `{Keyword, LongCode}` or `{Keyword, ShortCode, CountryCode}`",
        typed::<KeywordDeleted>(202, "The keyword is deleted."),
    )
    .describe(DELETE_KEYWORD)
    .json_body(schema("KeywordRequest"))
    .errors(&[400, 404])
}

pub(crate) fn import_send() -> Operation {
    Operation::new(
        "importSend",
        "Import a file into a new list, subscribe its numbers to a keyword, and send a message to them",
        typed::<ImportSendAccepted>(202, "The job is recorded and runs in the background."),
    )
    .describe(
        "API.md §6b. Scope `sms_send` (it sends). One durable job: it survives a restart, \
         subscribes each number once and records its send once. `DATA_EXTENSION` is refused.",
    )
    .json_body(schema("ImportSendRequest"))
    .errors(&[400])
    .link("importSendStatus", token_link())
}

pub(crate) fn import_send_status() -> Operation {
    Operation::new(
        "importSendStatus",
        "An importSend's progress, and its send's token once the send is recorded",
        typed::<ImportSendStatus>(200, "The job's status."),
    )
    .errors(&[400])
}

pub(crate) fn import_send_delivery_report() -> Operation {
    Operation::new(
        "importSendDeliveryReport",
        "Write the delivery report of an importSend's send into the account's reports folder",
        typed::<DeliveryReportAccepted>(202, "The report is being written."),
    )
    .describe(
        "API.md §6b, as messageList's deliveryReport (§6). 409: the file exists, or the \
         send is not recorded yet.",
    )
    .json_body(schema("DeliveryReportRequest"))
    .errors(&[400, 409])
}

pub(crate) fn create_outbound_message() -> Operation {
    Operation::new(
        "createMessageOutbound",
        "Create an Active message on one of the account's codes, ready for messageContact",
        typed::<MessageCreated>(201, "The message exists (no default lists)."),
    )
    .describe(
        "API.md §6b. The messages of MobileConnect's \"Possible Errors\" table, in its order, \
         in `{\"errors\": [...]}`.",
    )
    .json_body(schema("OutboundMessageRequest"))
    .errors(&[400])
}

pub(crate) fn create_opt_in_message() -> Operation {
    Operation::new(
        "createMessageOptin",
        "Create an opt-in message: a keyword and how it subscribes (Single, Double, Age)",
        typed::<MessageCreated>(201, "The keyword exists; `messageID` is its ID."),
    )
    .describe(
        "API.md §6b. Refusals in MobileConnect's documented `fieldErrors` shape; 409: the \
         keyword already exists on the code.",
    )
    .json_body(schema("OptInMessageRequest"))
    .errors(&[400, 409])
    .field_errors()
}

pub(crate) fn create_definition() -> Operation {
    Operation::new(
        "createSmsDefinition",
        "Create a transactional send definition (text, code, keyword)",
        typed::<DefinitionBody>(201, "The definition as stored: every field."),
    )
    .describe(
        "API.md §9. Refusals: one error in the transactional body, the first in the reference's \
         field order (see docs/transactional.md); 409 code 30004: the key or the name exists.",
    )
    .json_body(schema("DefinitionRequest"))
    .errors(&[400, 409])
    .transactional()
}

pub(crate) fn list_definitions() -> Operation {
    Operation::new(
        "listSmsDefinitions",
        "The account's send definitions, one page",
        typed::<DefinitionListBody>(200, "One page; `count` is every match."),
    )
    .describe(
        "API.md §9 \"Listing\": archived definitions only with `$filter=status eq deleted`, \
         under their `deletedDefinitionKey`.",
    )
    .param(query(
        "$filter",
        "`status eq|neq active|inactive|deleted`, any case.",
        json!({"type": "string"}),
        false,
    ))
    .param(query(
        "$orderBy",
        "One of definitionKey, name, createdDate (default), modifiedDate, status; then `asc` \
         (default) or `desc`.",
        json!({"type": "string"}),
        false,
    ))
    .param(query(
        "$page",
        "From 1 (default 1).",
        json!({"type": "integer", "minimum": 1}),
        false,
    ))
    .param(query(
        "$pageSize",
        "Default 20; more than 100 is 100.",
        json!({"type": "integer", "minimum": 1}),
        false,
    ))
    .errors(&[400])
    .transactional()
}

pub(crate) fn get_definition() -> Operation {
    Operation::new(
        "getSmsDefinition",
        "A send definition by its key (any case)",
        typed::<DefinitionBody>(200, "The definition."),
    )
    .transactional()
}

pub(crate) fn update_definition() -> Operation {
    Operation::new(
        "updateSmsDefinition",
        "Change a send definition: the fields given, at once",
        typed::<DefinitionBody>(200, "The definition as changed."),
    )
    .describe("API.md §9. `definitionKey` is not a PATCH field; `status` is Active or Inactive.")
    .json_body(schema("DefinitionPatchRequest"))
    .errors(&[400, 409])
    .transactional()
}

pub(crate) fn delete_definition() -> Operation {
    Operation::new(
        "deleteSmsDefinition",
        "Archive a send definition; its key is free at once",
        typed::<DefinitionDeleted>(200, "Archived under `deletedDefinitionKey`."),
    )
    .transactional()
}

pub(crate) fn definition_queue() -> Operation {
    Operation::new(
        "getSmsDefinitionQueue",
        "How many of a definition's messages wait to be handed over",
        typed::<QueueMetrics>(
            200,
            "`count`, and `ageSeconds` of the oldest (0 when none).",
        ),
    )
    .transactional()
}

pub(crate) fn empty_definition_queue() -> Operation {
    Operation::new(
        "deleteSmsDefinitionQueue",
        "Empty an Inactive definition's queue: each waiting message NotSent 39",
        typed::<QueueEmptied>(200, "Emptied."),
    )
    .describe("API.md §9 \"Queue\". 400 code 30001 when the definition is not Inactive.")
    .errors(&[400])
    .transactional()
}

pub(crate) fn transactional_not_sent() -> Operation {
    Operation::new(
        "getSmsMessagesNotSent",
        "Transactional messages not sent: NotSent events after lastEventId, oldest first",
        typed::<NotSentPage>(200, "A page of NotSent events (kept 30 days)."),
    )
    .describe(
        "API.md §9 \"notSent listing\". Event IDs are one increasing sequence per account, each \
         visible only after every smaller one: paging with `lastEventId` misses none.",
    )
    .param(query(
        "type",
        "`notSent` (required).",
        json!({"type": "string"}),
        true,
    ))
    .param(query(
        "$pageSize",
        "Default 20; more than 100 is 100.",
        json!({"type": "integer", "minimum": 1}),
        false,
    ))
    .param(query(
        "lastEventId",
        "Start after this event (default 0).",
        json!({"type": "integer", "minimum": 0}),
        false,
    ))
    .errors(&[400])
    .transactional()
}

pub(crate) fn send_transactional_many() -> Operation {
    Operation::new(
        "sendSmsMessages",
        "Send a definition's text to up to 250 recipients",
        typed::<TxSendAccepted>(202, "Each recipient's answer, in request order."),
    )
    .describe(
        "API.md §9 \"Sends\". A recipient's refusal is in its `responses` entry (109106, 109121, \
         109105, 109108, 109110), with 109001 on top; request-level refusals are a 400.",
    )
    .json_body(schema("TransactionalSendRequest"))
    .errors(&[400])
    .transactional()
}

pub(crate) fn send_transactional_one() -> Operation {
    Operation::new(
        "sendSmsMessage",
        "Send a definition's text to one recipient under the path's messageKey",
        typed::<TxSendAccepted>(202, "The recipient's answer."),
    )
    .describe("API.md §9 \"Sends\". The recipient's refusal is a 400 with its code.")
    .json_body(schema("TransactionalSendRequest"))
    .errors(&[400])
    .transactional()
}

pub(crate) fn transactional_status() -> Operation {
    Operation::new(
        "getSmsMessageStatus",
        "A transactional message's status: SMSQueued, SMSSent or SMSNotSent",
        typed::<TxStatusBody>(200, "The message's status."),
    )
    .transactional()
}

pub(crate) fn contact_subscriptions() -> Operation {
    Operation::new(
        "contactSubscriptions",
        "Subscriptions of mobile numbers or subscriber keys (a lookup)",
        typed::<SubscriptionLookup>(200, "Every subscription of those numbers in the account."),
    )
    .json_body(schema("SubscriptionLookupRequest"))
    .errors(&[400])
}

pub(crate) fn queue_import() -> Operation {
    Operation::new(
        "queueImport",
        "Import contacts into a list from a file of the import directory",
        typed::<SendAccepted>(202, "The import is queued."),
    )
    .describe("API.md §6. The file is checked (name, existence, content) when requested.")
    .json_body(schema("QueueImportRequest"))
    .errors(&[400])
    .link("queueImportStatus", job_status_link())
}

pub(crate) fn queue_import_status() -> Operation {
    Operation::new(
        "queueImportStatus",
        "Status of an import",
        typed::<ImportStatus>(200, "The import's progress."),
    )
    .errors(&[400])
}

pub(crate) fn refresh_list() -> Operation {
    Operation::new(
        "refreshList",
        "Refresh a list (lists are always current: it completes at once)",
        typed::<RefreshAccepted>(202, "The refresh is recorded."),
    )
    .errors(&[400])
    .link("refreshListStatus", job_status_link())
}

pub(crate) fn refresh_list_status() -> Operation {
    Operation::new(
        "refreshListStatus",
        "Status of a refresh",
        typed::<RefreshStatus>(200, "When the list was published."),
    )
    .errors(&[400])
}

pub(crate) fn list_accounts() -> Operation {
    Operation::new(
        "listAccounts",
        "List accounts",
        typed::<AccountList>(200, "Every account."),
    )
}

pub(crate) fn create_account() -> Operation {
    Operation::new(
        "createAccount",
        "Create an account",
        typed::<Account>(201, "The account."),
    )
    .describe("409: an account with that ID (ignoring case) exists.")
    .json_body(schema("NewAccount"))
    .errors(&[400, 409])
    .link("getAccount", json!({ "acct": "$response.body#/id" }))
}

pub(crate) fn get_account() -> Operation {
    Operation::new(
        "getAccount",
        "Get an account",
        typed::<Account>(200, "The account."),
    )
}

pub(crate) fn list_clients() -> Operation {
    Operation::new(
        "listClients",
        "List the account's API clients (no secrets)",
        typed::<ClientList>(200, "The account's clients."),
    )
}

pub(crate) fn create_client() -> Operation {
    Operation::new(
        "createClient",
        "Create an API client",
        typed::<ClientCreated>(201, "The client, with its secret (shown only here)."),
    )
    .json_body(schema("NewClient"))
    .errors(&[400])
    .link(
        "revokeClient",
        json!({ "acct": "$request.path.acct", "clientId": "$response.body#/clientId" }),
    )
}

pub(crate) fn revoke_client() -> Operation {
    Operation::new(
        "revokeClient",
        "Revoke an API client and every token it holds",
        typed::<Deleted>(200, "Revoked."),
    )
}

pub(crate) fn list_codes() -> Operation {
    Operation::new(
        "listCodes",
        "List the account's codes",
        typed::<CodeList>(200, "The account's codes."),
    )
}

pub(crate) fn create_code() -> Operation {
    Operation::new(
        "createCode",
        "Create a short or long code",
        typed::<Code>(201, "The code."),
    )
    .describe("409: the code exists in the account.")
    .json_body(schema("NewCode"))
    .errors(&[400, 409])
    .links_by_id("code", &["getCode", "updateCode", "deleteCode"])
}

pub(crate) fn get_code() -> Operation {
    Operation::new("getCode", "Get a code", typed::<Code>(200, "The code."))
}

pub(crate) fn update_code() -> Operation {
    Operation::new(
        "updateCode",
        "Change some fields of a code (not the code string)",
        typed::<Code>(200, "The code as changed."),
    )
    .describe("An empty optOutText or helpText goes back to the default reply.")
    .json_body(schema("CodePatch"))
    .errors(&[400])
}

pub(crate) fn delete_code() -> Operation {
    Operation::new(
        "deleteCode",
        "Delete a code",
        typed::<Deleted>(200, "Deleted."),
    )
}

pub(crate) fn list_keywords() -> Operation {
    Operation::new(
        "listKeywords",
        "List the account's keywords",
        typed::<KeywordList>(200, "The account's keywords."),
    )
}

pub(crate) fn create_admin_keyword() -> Operation {
    Operation::new(
        "createAdminKeyword",
        "Create a keyword (optionally double opt-in)",
        typed::<Keyword>(201, "The keyword."),
    )
    .describe("409: the keyword exists on the code.")
    .json_body(schema("NewKeyword"))
    .errors(&[400, 409])
    .links_by_id(
        "keywordId",
        &["getKeyword", "updateKeyword", "deleteAdminKeyword"],
    )
}

pub(crate) fn get_keyword() -> Operation {
    Operation::new(
        "getKeyword",
        "Get a keyword",
        typed::<Keyword>(200, "The keyword."),
    )
}

pub(crate) fn update_keyword() -> Operation {
    Operation::new(
        "updateKeyword",
        "Change the replies or double opt-in of a keyword (not its code or word)",
        typed::<Keyword>(200, "The keyword as changed."),
    )
    .describe("An empty response or confirmText clears it.")
    .json_body(schema("KeywordPatch"))
    .errors(&[400])
}

pub(crate) fn delete_admin_keyword() -> Operation {
    Operation::new(
        "deleteAdminKeyword",
        "Delete a keyword",
        typed::<Deleted>(200, "Deleted."),
    )
}

pub(crate) fn list_messages() -> Operation {
    Operation::new(
        "listMessages",
        "List the account's messages",
        typed::<MessageList>(200, "The account's messages."),
    )
}

pub(crate) fn create_message() -> Operation {
    Operation::new(
        "createMessage",
        "Create a message",
        typed::<Message>(201, "The message."),
    )
    .describe("409: a message with that ID (ignoring case) exists in the account.")
    .json_body(schema("NewMessage"))
    .errors(&[400, 409])
    .links_by_id("id", &["getMessage", "updateMessage", "deleteMessage"])
}

pub(crate) fn get_message() -> Operation {
    Operation::new(
        "getMessage",
        "Get a message",
        typed::<Message>(200, "The message."),
    )
}

pub(crate) fn update_message() -> Operation {
    Operation::new(
        "updateMessage",
        "Change some fields of a message",
        typed::<Message>(200, "The message as changed."),
    )
    .json_body(schema("MessagePatch"))
    .errors(&[400])
}

pub(crate) fn delete_message() -> Operation {
    Operation::new(
        "deleteMessage",
        "Delete a message (accepted sends that are not yet due end in Error)",
        typed::<Deleted>(200, "Deleted."),
    )
}

pub(crate) fn list_lists() -> Operation {
    Operation::new(
        "listLists",
        "List the account's contact lists",
        typed::<ListList>(200, "The account's lists."),
    )
}

pub(crate) fn create_list() -> Operation {
    Operation::new(
        "createList",
        "Create a contact list",
        typed::<List>(201, "The list."),
    )
    .describe("409: a list with that ID (ignoring case) exists in the account.")
    .json_body(schema("NewList"))
    .errors(&[400, 409])
    .links_by_id("list", &["getList", "deleteList", "importContacts"])
}

pub(crate) fn get_list() -> Operation {
    Operation::new("getList", "Get a list", typed::<List>(200, "The list."))
}

pub(crate) fn delete_list() -> Operation {
    Operation::new(
        "deleteList",
        "Delete a list",
        typed::<Deleted>(200, "Deleted."),
    )
}

pub(crate) fn import_contacts() -> Operation {
    Operation::new(
        "importContacts",
        "Add contacts to a list (JSON, or a streamed CSV of up to 1 GiB)",
        typed::<ImportReport>(
            200,
            "What was added, updated and refused; a bad row never rejects the good \
            ones.",
        ),
    )
    .describe(
        "API.md §7. A CSV body has a header row; the columns `mobileNumber` and \
         `subscriberKey`, any other column becomes an attribute.",
    )
    .param(query(
        "subscribeCode",
        "CSV bodies: subscribe the imported numbers to a keyword on this code (with \
            subscribeKeyword).",
        json!({ "type": "string" }),
        false,
    ))
    .param(query(
        "subscribeKeyword",
        "CSV bodies: the keyword to subscribe the imported numbers to (with subscribeCode).",
        json!({ "type": "string" }),
        false,
    ))
    .content(json!({
        "application/json": { "schema": schema("ContactsImport") },
        "text/csv": { "schema": { "type": "string" } },
    }))
    .errors(&[400])
}

pub(crate) fn remove_contact() -> Operation {
    Operation::new(
        "removeContact",
        "Remove a number from a list",
        typed::<Deleted>(200, "Removed."),
    )
}

pub(crate) fn list_sends() -> Operation {
    Operation::new(
        "listSends",
        "The account's sends, newest first",
        typed::<SendList>(200, "A page of sends."),
    )
    .param(query(
        "state",
        "Only sends in this state.",
        json!({ "type": "string", "enum": SEND_STATES }),
        false,
    ))
    .param(query(
        "after",
        "The `next` of the previous page.",
        json!({ "type": "string" }),
        false,
    ))
    .param(query(
        "limit",
        "Sends per page (default 100, at most 1000).",
        json!({ "type": "integer", "minimum": 1 }),
        false,
    ))
    .errors(&[400])
}

pub(crate) fn get_send() -> Operation {
    Operation::new(
        "getSend",
        "A send's status, whatever its account",
        typed::<AdminSendStatus>(
            200,
            "The send's status (API.md §5), first page of tracking.",
        ),
    )
}

pub(crate) fn cancel_send() -> Operation {
    Operation::new(
        "cancelSend",
        "Cancel a send: recipients not yet handed over never are",
        typed::<Canceled>(200, "Canceled."),
    )
    .describe("409: the send is already final (Finished, Error or Canceled).")
    .errors(&[409])
}

pub(crate) fn outbox() -> Operation {
    Operation::new(
        "outbox",
        "What the simulator carrier accepted, oldest first",
        typed::<Outbox>(200, "A page of the outbox."),
    )
    .param(query(
        "after",
        "Only entries after this sequence number (the `next` of the previous page).",
        json!({ "type": "integer" }),
        false,
    ))
    .param(query(
        "limit",
        "Entries per page (default 1000, at most 10000).",
        json!({ "type": "integer", "minimum": 1 }),
        false,
    ))
    .errors(&[400])
}

pub(crate) fn list_subscriptions() -> Operation {
    Operation::new(
        "listSubscriptions",
        "A number's subscriptions in the account",
        typed::<SubscriptionList>(200, "The number's subscriptions."),
    )
    .param(query(
        "mobileNumber",
        "The number (8–15 digits, a leading + allowed).",
        json!({ "type": "string" }),
        true,
    ))
    .errors(&[400])
}

pub(crate) fn set_subscription() -> Operation {
    Operation::new(
        "setSubscription",
        "Set one subscription of a number to a keyword, as an operator would",
        typed::<Subscription>(200, "The subscription."),
    )
    .json_body(schema("SubscriptionSet"))
    .errors(&[400])
}

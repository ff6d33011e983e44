//! The admin API (`/admin/v1`, API.md §7): each handler reads its request, runs one operation
//! of `service` and shapes the answer. The shaping functions (one per response type) are public:
//! the CLI prints the same JSON.

pub mod accounts;
pub mod catalog;
pub mod lists;
pub mod sends;

pub use service::admin::MAX_JSON_CONTACTS;

use axum::http::{Method, StatusCode};
use axum::response::Response;
use domain::FieldReader;
use serde_json::{json, Value};
use service::Field;
use store::Account;

use crate::routing::RouteId;
use crate::{json_response, ApiError, AppState, Ctx};

pub async fn handle(state: &AppState, id: RouteId, ctx: Ctx) -> Result<Response, ApiError> {
    use RouteId::*;
    match (id, ctx.method.clone()) {
        (AdminAccounts, Method::POST) => accounts::create_account(state, ctx).await,
        (AdminAccounts, _) => accounts::list_accounts(state).await,
        (AdminAccount, _) => accounts::get_account(state, ctx).await,
        (AdminClients, Method::POST) => accounts::create_client(state, ctx).await,
        (AdminClients, _) => accounts::list_clients(state, ctx).await,
        (AdminClient, _) => accounts::revoke_client(state, ctx).await,
        (AdminCodes, Method::POST) => catalog::create_code(state, ctx).await,
        (AdminCodes, _) => catalog::list_codes(state, ctx).await,
        (AdminCode, Method::PATCH) => catalog::update_code(state, ctx).await,
        (AdminCode, Method::DELETE) => catalog::delete_code(state, ctx).await,
        (AdminCode, _) => catalog::get_code(state, ctx).await,
        (AdminKeywords, Method::POST) => catalog::create_keyword(state, ctx).await,
        (AdminKeywords, _) => catalog::list_keywords(state, ctx).await,
        (AdminKeyword, Method::PATCH) => catalog::update_keyword(state, ctx).await,
        (AdminKeyword, Method::DELETE) => catalog::delete_keyword(state, ctx).await,
        (AdminKeyword, _) => catalog::get_keyword(state, ctx).await,
        (AdminMessages, Method::POST) => catalog::create_message(state, ctx).await,
        (AdminMessages, _) => catalog::list_messages(state, ctx).await,
        (AdminMessage, Method::PATCH) => catalog::update_message(state, ctx).await,
        (AdminMessage, Method::DELETE) => catalog::delete_message(state, ctx).await,
        (AdminMessage, _) => catalog::get_message(state, ctx).await,
        (AdminLists, Method::POST) => lists::create_list(state, ctx).await,
        (AdminLists, _) => lists::list_lists(state, ctx).await,
        (AdminList, Method::DELETE) => lists::delete_list(state, ctx).await,
        (AdminList, _) => lists::get_list(state, ctx).await,
        (AdminListContacts, _) => lists::import_contacts(state, ctx).await,
        (AdminListContact, _) => lists::remove_contact(state, ctx).await,
        (AdminSends, _) => sends::list_sends(state, ctx).await,
        (AdminSend, _) => sends::send_status(state, ctx).await,
        (AdminSendCancel, _) => sends::cancel(state, ctx).await,
        (AdminOutbox, _) => sends::outbox(state, ctx).await,
        (AdminSubscriptions, Method::POST) => lists::set_subscription(state, ctx).await,
        (AdminSubscriptions, _) => lists::subscriptions(state, ctx).await,
        _ => Err(ApiError::NotFound("Not found.".into())),
    }
}

pub(crate) fn ok(body: Value) -> Result<Response, ApiError> {
    Ok(json_response(StatusCode::OK, &body))
}

pub(crate) fn created(body: Value) -> Result<Response, ApiError> {
    Ok(json_response(StatusCode::CREATED, &body))
}

/// The answer to a delete.
pub fn deleted() -> Value {
    json!({ "deleted": true })
}

/// The account named by the first path parameter (API.md §7: 404 when unknown).
pub(crate) async fn account(state: &AppState, ctx: &Ctx) -> Result<Account, ApiError> {
    Ok(state.service.account(ctx.param(0)).await?)
}

/// A text field as read: given, absent, null, or unreadable (its message is the reader's).
pub(crate) fn text_field(r: &mut FieldReader<'_>, name: &str) -> Field<String> {
    let before = r.errors().len();
    match r.string(name) {
        Some(v) => Field::Given(v.to_string()),
        None if r.errors().len() > before => Field::Unreadable,
        None if r.spelling(name).is_some() => Field::Null,
        None => Field::Absent,
    }
}

/// An optional text field (wrong types read as absent, with the reader's message).
pub(crate) fn text(r: &mut FieldReader<'_>, name: &str) -> Option<String> {
    r.string(name).map(str::to_string)
}

/// An optional array of strings.
pub(crate) fn strings(r: &mut FieldReader<'_>, name: &str) -> Option<Vec<String>> {
    r.string_array(name)
        .map(|v| v.into_iter().map(str::to_string).collect())
}

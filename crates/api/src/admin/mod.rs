//! The admin API (`/admin/v1`, API.md §7): what the MobileConnect UI does — accounts, API
//! clients, codes, keywords, messages, lists and contacts, and the sends of an account.

mod accounts;
mod catalog;
mod lists;
mod sends;

pub use lists::MAX_JSON_CONTACTS;

use axum::http::{Method, StatusCode};
use axum::response::Response;
use domain::{EncodedId, FieldReader};
use serde_json::{json, Value};
use store::{Account, StoreError};

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

pub(crate) fn deleted() -> Result<Response, ApiError> {
    ok(json!({ "deleted": true }))
}

/// Maps a store error for an object named `what` (`Message abc`).
pub(crate) fn store_err(what: &str) -> impl Fn(StoreError) -> ApiError + '_ {
    move |e| match e {
        StoreError::NotFound => ApiError::NotFound(format!("{what} not found.")),
        StoreError::Conflict(_) => ApiError::Conflict(format!("{what} already exists.")),
        other => other.into(),
    }
}

/// The account named by the first path parameter; looked up, its folders exist on this node
/// (API.md §6).
pub(crate) async fn account(state: &AppState, ctx: &Ctx) -> Result<Account, ApiError> {
    let raw = ctx.param(0);
    if EncodedId::parse(raw).is_none() {
        return Err(ApiError::NotFound(format!("Account {raw} not found.")));
    }
    let account = state
        .store
        .get_account(raw)
        .await
        .map_err(store_err(&format!("Account {raw}")))?;
    state.folders.ensure_or_log(&account.id);
    Ok(account)
}

/// An optional explicit ID field, checked against API.md §3.
pub(crate) fn explicit_id(r: &mut FieldReader<'_>, kind: &str) -> Option<String> {
    let raw = r.string("id")?;
    if EncodedId::parse(raw).is_none() {
        r.push_error(format!("{kind} id {raw} isn't valid."));
        return None;
    }
    Some(raw.to_string())
}

/// A required non-blank string field.
pub(crate) fn required<'a>(r: &mut FieldReader<'a>, name: &str) -> Option<&'a str> {
    let before = r.errors().len();
    match r.string(name) {
        Some(v) if !v.trim().is_empty() => Some(v),
        // A wrong type was already reported by the reader.
        None if r.errors().len() > before => None,
        _ => {
            r.push_error(format!("{name} is required."));
            None
        }
    }
}

/// Finishes a reader: its messages as a 400, or nothing.
pub(crate) fn check(r: FieldReader<'_>) -> Result<(), ApiError> {
    let errors = r.finish();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// Timestamps in admin bodies use the format of API.md §1.
pub(crate) fn ts(state: &AppState, ms: i64) -> Value {
    Value::String(state.timestamp(ms))
}

//! The admin API (`/admin/v1`, API.md §7): each handler reads its request, runs one operation
//! of `service` and shapes the answer. The shaping functions (one per response type) are public:
//! the CLI prints the same JSON.

pub mod accounts;
pub mod catalog;
pub mod lists;
pub mod sends;

pub use service::admin::MAX_JSON_CONTACTS;

use axum::http::StatusCode;
use axum::response::Response;
use domain::FieldReader;
use service::Field;
use store::Account;

use crate::{json_response, ApiError, AppState, Ctx};

pub(crate) fn ok<T: serde::Serialize>(body: T) -> Result<Response, ApiError> {
    Ok(json_response(StatusCode::OK, &body))
}

pub(crate) fn created<T: serde::Serialize>(body: T) -> Result<Response, ApiError> {
    Ok(json_response(StatusCode::CREATED, &body))
}

/// The answer to a delete.
pub fn deleted() -> crate::responses::Deleted {
    crate::responses::Deleted::new()
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

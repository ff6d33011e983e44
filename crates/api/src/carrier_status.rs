//! `POST /carriers/{name}/status`: a provider's delivery-status callback (API.md §8, http
//! carriers). The carrier verifies the signature and hands the receipt to the engine; a
//! callback whose signature does not verify is refused with 403 and changes nothing.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use carrier::CallbackError;
use serde::Serialize;

use crate::arrival::WholeBody;
use crate::responses::Errors;
use crate::{json_response, ApiError, AppState};

/// `200 {"received"}`: whether the status changed anything (false for a state before sending).
#[derive(Debug, Clone, Serialize)]
struct Received {
    received: bool,
}

/// Largest callback body read.
pub const MAX_CALLBACK_BODY: usize = 64 * 1024;

pub async fn receive(
    State(state): State<AppState>,
    Path(name): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    // Over the limit: 413; not complete 30 s after the head: 408 (API.md §1).
    body: WholeBody<MAX_CALLBACK_BODY>,
) -> Response {
    let Some(callbacks) = state.callbacks.get(&name) else {
        return ApiError::NotFound("Not found.".into()).into_response();
    };
    // The URL the provider posted to, as the public base URL names it (what it signed).
    let path = uri.path().trim_start_matches('/');
    let url = match uri.query() {
        Some(q) => format!("{}{path}?{q}", state.config.public_url),
        None => format!("{}{path}", state.config.public_url),
    };
    let signature = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok());
    match callbacks.status_callback(&url, signature, &body) {
        Ok(applied) => json_response(StatusCode::OK, &Received { received: applied }),
        Err(CallbackError::BadSignature) => json_response(
            StatusCode::FORBIDDEN,
            &Errors::one("The request signature isn't valid."),
        ),
        Err(CallbackError::Malformed(why)) => ApiError::validation(why).into_response(),
        Err(CallbackError::Unavailable) => json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &Errors::one("Status callbacks can't be taken right now."),
        ),
    }
}

//! `POST /sms/v1/messageContact/{id}/send`, its deliveries and its history (API.md §6).

use axum::http::StatusCode;
use axum::response::Response;
use domain::SendContactRequest;
use store::{HistoryEntry, Send, SendKind};

use crate::auth::Caller;
use crate::message_list::{accepted, deliveries_of, idempotency};
use crate::responses::{ContactHistory, ContactHistoryEntry, SendStatus, Timestamp};
use crate::{json_response, ApiError, AppState, Ctx, Dates};

pub async fn send(state: &AppState, caller: &Caller, mut ctx: Ctx) -> Result<Response, ApiError> {
    let (body, fields) = ctx.json_fields().await?;
    let idempotency = idempotency(&ctx, &body)?;
    let request = SendContactRequest::from_fields(&fields);
    let token = state
        .service
        .accept_contact_send(caller, ctx.param(0), &request, idempotency)
        .await?;
    Ok(accepted(token))
}

pub async fn deliveries(state: &AppState, caller: &Caller, ctx: Ctx) -> Result<Response, ApiError> {
    let report = deliveries_of(state, caller, &ctx, SendKind::Contact).await?;
    Ok(json_response(
        StatusCode::OK,
        &SendStatus::new(state.dates(), &report),
    ))
}

/// The history document of a messageContact send and one number (API.md §6).
pub fn contact_history(d: Dates, send: &Send, entries: &[HistoryEntry]) -> ContactHistory {
    let history: Vec<ContactHistoryEntry> = entries
        .iter()
        .map(|e| ContactHistoryEntry {
            date: Timestamp::at(d, e.at),
            message: e.text.clone(),
            direction: e.direction.into(),
        })
        .collect();
    ContactHistory {
        count: history.len(),
        create_date: Timestamp::at(d, send.created_at),
        history,
        status: "Active",
    }
}

/// `GET /sms/v1/messageContact/{id}/history/{tokenId}/mobileNumber/{mobileNumber}`.
pub async fn history(state: &AppState, caller: &Caller, ctx: Ctx) -> Result<Response, ApiError> {
    let (send, entries) = state
        .service
        .contact_history(caller, ctx.param(0), ctx.param(1), ctx.param(2))
        .await?;
    Ok(json_response(
        StatusCode::OK,
        &contact_history(state.dates(), &send, &entries),
    ))
}

//! `POST /sms/v1/messageContact/{id}/send`, its deliveries and its history (API.md §6).

use axum::http::StatusCode;
use axum::response::Response;
use domain::SendContactRequest;
use serde_json::{json, Value};
use store::{Direction, HistoryEntry, Send, SendKind};

use crate::auth::Caller;
use crate::message_list::{accepted, deliveries_of, idempotency, status_json};
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
        &status_json(state.dates(), &report),
    ))
}

/// A history document (API.md §6): the entries, with each number when `with_numbers`.
pub fn history_json(d: Dates, send: &Send, entries: &[HistoryEntry], with_numbers: bool) -> Value {
    let history: Vec<Value> = entries
        .iter()
        .map(|e| {
            let mut entry = json!({
                "type": match e.direction { Direction::Mo => "MO", Direction::Mt => "MT" },
            });
            if with_numbers {
                entry["mobileNumber"] = json!(e.mobile_number);
            }
            entry["message"] = json!(e.text);
            entry["date"] = json!(d.format(e.at));
            entry
        })
        .collect();
    json!({
        "count": history.len(),
        "createDate": d.format(send.created_at),
        "status": "Active",
        "history": history,
    })
}

/// `GET /sms/v1/messageContact/{id}/history/{tokenId}/mobileNumber/{mobileNumber}`.
pub async fn history(state: &AppState, caller: &Caller, ctx: Ctx) -> Result<Response, ApiError> {
    let (send, entries) = state
        .service
        .contact_history(caller, ctx.param(0), ctx.param(1), ctx.param(2))
        .await?;
    Ok(json_response(
        StatusCode::OK,
        &history_json(state.dates(), &send, &entries, false),
    ))
}

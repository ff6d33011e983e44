//! `POST /sms/v1/message/outbound` and `POST /sms/v1/message/optin` (API.md §6b).

use axum::http::StatusCode;
use axum::response::Response;
use domain::sms_messages::OutboundRequest;
use domain::FieldReader;

use crate::auth::Caller;
use crate::responses::MessageCreated;
use crate::{json_response, ApiError, AppState, Ctx};

/// `POST /sms/v1/message/outbound` → 201 `{"messageID"}`.
pub async fn outbound(
    state: &AppState,
    caller: &Caller,
    mut ctx: Ctx,
) -> Result<Response, ApiError> {
    let (_, fields) = ctx.json_fields().await?;
    let mut r = FieldReader::new(&fields);
    let mut request = OutboundRequest::read(&mut r);
    request.problems = r.finish();
    let id = state
        .service
        .create_outbound_message(caller, request)
        .await?;
    Ok(json_response(
        StatusCode::CREATED,
        &MessageCreated { message_id: id },
    ))
}

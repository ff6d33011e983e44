//! `POST /sms/v1/message/outbound` and `POST /sms/v1/message/optin` (API.md §6b).

use axum::http::StatusCode;
use axum::response::Response;
use domain::sms_messages::{OptInRequest, OutboundRequest};
use domain::FieldReader;
use service::ServiceError;

use crate::auth::Caller;
use crate::responses::{FieldErrors, MessageCreated};
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

/// `POST /sms/v1/message/optin` → 201 `{"messageID"}` (the keyword's ID); refusals in
/// MobileConnect's documented `fieldErrors` shape (400, and 409 for a keyword that exists).
pub async fn opt_in(state: &AppState, caller: &Caller, mut ctx: Ctx) -> Result<Response, ApiError> {
    let fields = match ctx.json_fields().await {
        Ok((_, fields)) => fields,
        // A body that is not JSON is refused in the route's shape too.
        Err(ApiError::Validation(messages)) => {
            return Ok(json_response(
                StatusCode::BAD_REQUEST,
                &FieldErrors::new(messages),
            ))
        }
        Err(e) => return Err(e),
    };
    let mut r = FieldReader::new(&fields);
    let mut request = OptInRequest::read(&mut r);
    request.problems = r.finish();
    match state.service.create_opt_in_message(caller, request).await {
        Ok(id) => Ok(json_response(
            StatusCode::CREATED,
            &MessageCreated { message_id: id },
        )),
        Err(ServiceError::Invalid(messages)) => Ok(json_response(
            StatusCode::BAD_REQUEST,
            &FieldErrors::new(messages),
        )),
        Err(ServiceError::Conflict(message)) => Ok(json_response(
            StatusCode::CONFLICT,
            &FieldErrors::new(vec![message]),
        )),
        Err(e) => Err(e.into()),
    }
}

//! Transactional messaging's routes (API.md §9): send definitions, sends and a message's
//! status. Refusals answer in the
//! routes' own error body ([`TxErrorBody`]); a body that is not JSON is the documented 10004.

use axum::http::StatusCode;
use axum::response::Response;
use domain::transactional::{
    not_sent_message, responses_have_errors, DefinitionFields, ListQuery, NotSentQuery, SendFields,
    SendRoute, TxError,
};
use domain::{format_timestamp, Fields};
use rand::Rng;
use service::{TxResponse, TxState};
use store::{Definition, DefinitionStatus};

use crate::auth::Caller;
use crate::responses::{
    DefinitionBody, DefinitionContent, DefinitionDeleted, DefinitionItem, DefinitionListBody,
    DefinitionSubscriptions, NotSentEntry, NotSentInfo, NotSentPage, QueueEmptied, QueueMetrics,
    TxSendAccepted, TxSendResponse, TxStatusBody, TxStatusInfo,
};
use crate::{json_response, ApiError, AppState, Ctx};

/// A request ID: a random (version 4) UUID, as the reference's bodies show.
fn request_id() -> String {
    let mut bytes: [u8; 16] = rand::thread_rng().gen();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// The body's fields; not JSON is 10004 (a body too large or too slow keeps §1's answer).
async fn fields(ctx: &mut Ctx) -> Result<Fields, ApiError> {
    match ctx.json_fields().await {
        Ok((_, fields)) => Ok(fields),
        Err(ApiError::Validation(_)) => Err(ApiError::Transactional(TxError::not_json())),
        Err(e) => Err(e),
    }
}

fn status_name(status: DefinitionStatus) -> &'static str {
    status.as_str()
}

/// A definition as the API answers it (create, read, PATCH).
pub fn definition_body(d: Definition) -> DefinitionBody {
    DefinitionBody {
        request_id: request_id(),
        name: d.name,
        definition_key: d.definition_key,
        definition_id: d.definition_id,
        description: d.description,
        status: status_name(d.status),
        created_date: format_timestamp(d.created_at, false),
        modified_date: format_timestamp(d.modified_at, false),
        content: DefinitionContent { message: d.message },
        subscriptions: DefinitionSubscriptions {
            short_code: d.short_code,
            country_code: d.country_code,
            keyword: d.keyword,
            auto_add_subscriber: d.auto_add_subscriber,
            update_subscriber: d.update_subscriber,
        },
    }
}

/// `POST /messaging/v1/sms/definitions` → 201, the stored definition.
pub async fn create_definition(
    state: &AppState,
    caller: &Caller,
    mut ctx: Ctx,
) -> Result<Response, ApiError> {
    let fields = fields(&mut ctx).await?;
    let read = DefinitionFields::read_create(&fields).map_err(ApiError::Transactional)?;
    let created = state.service.create_definition(caller, read).await?;
    Ok(json_response(
        StatusCode::CREATED,
        &definition_body(created),
    ))
}

/// `GET /messaging/v1/sms/definitions` → 200, one page.
pub async fn list_definitions(
    state: &AppState,
    caller: &Caller,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    let query = ListQuery::parse(
        ctx.query("$filter"),
        ctx.query("$orderBy"),
        ctx.query("$page"),
        ctx.query("$pageSize"),
    )
    .map_err(ApiError::Transactional)?;
    let page = state.service.list_definitions(caller, query).await?;
    Ok(json_response(
        StatusCode::OK,
        &definition_list(page, &query),
    ))
}

/// A page of definitions as the API lists it.
pub fn definition_list(page: store::DefinitionPage, query: &ListQuery) -> DefinitionListBody {
    DefinitionListBody {
        request_id: request_id(),
        definitions: page
            .definitions
            .into_iter()
            .map(|d| DefinitionItem {
                definition_key: d.definition_key,
                status: status_name(d.status),
                name: d.name,
                created_date: format_timestamp(d.created_at, false),
                modified_date: format_timestamp(d.modified_at, false),
            })
            .collect(),
        count: page.count,
        page: query.page,
        page_size: query.page_size,
    }
}

/// `GET /messaging/v1/sms/definitions/{definitionKey}` → 200.
pub async fn get_definition(
    state: &AppState,
    caller: &Caller,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    let found = state.service.get_definition(caller, ctx.param(0)).await?;
    Ok(json_response(StatusCode::OK, &definition_body(found)))
}

/// `PATCH /messaging/v1/sms/definitions/{definitionKey}` → 200, the definition as changed.
pub async fn update_definition(
    state: &AppState,
    caller: &Caller,
    mut ctx: Ctx,
) -> Result<Response, ApiError> {
    let fields = fields(&mut ctx).await?;
    let read = DefinitionFields::read_patch(&fields).map_err(ApiError::Transactional)?;
    let updated = state
        .service
        .update_definition(caller, ctx.param(0), read)
        .await?;
    Ok(json_response(StatusCode::OK, &definition_body(updated)))
}

/// `DELETE /messaging/v1/sms/definitions/{definitionKey}` → 200 with `deletedDefinitionKey`.
pub async fn delete_definition(
    state: &AppState,
    caller: &Caller,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    let archived = state
        .service
        .delete_definition(caller, ctx.param(0))
        .await?;
    Ok(json_response(
        StatusCode::OK,
        &DefinitionDeleted {
            message: "Success",
            request_id: request_id(),
            deleted_definition_key: archived.definition_key,
        },
    ))
}

/// 202 with each recipient's answer; 109001 on top when any was refused.
fn accepted(responses: Vec<TxResponse>) -> Response {
    let total = responses.len();
    let failed = responses.iter().filter(|r| r.error.is_some()).count();
    let top = (failed > 0).then(|| responses_have_errors(failed, total));
    json_response(
        StatusCode::ACCEPTED,
        &TxSendAccepted {
            request_id: request_id(),
            errorcode: top.as_ref().map_or(0, |e| e.code),
            message: top.map(|e| e.message()),
            responses: responses
                .into_iter()
                .map(|r| TxSendResponse {
                    message_key: r.message_key,
                    errorcode: r.error.as_ref().map(|e| e.code),
                    message: r.error.map(|e| e.message()),
                })
                .collect(),
        },
    )
}

/// `POST /messaging/v1/sms/messages/{messageKey}` → 202; the recipient's refusal is a 400 with
/// its code.
pub async fn send_one(
    state: &AppState,
    caller: &Caller,
    mut ctx: Ctx,
) -> Result<Response, ApiError> {
    let fields = fields(&mut ctx).await?;
    let read =
        SendFields::read(&fields, SendRoute::One(ctx.param(0))).map_err(ApiError::Transactional)?;
    let mut responses = state.service.send_transactional(caller, read).await?;
    if let Some(error) = responses.iter_mut().find_map(|r| r.error.take()) {
        return Err(ApiError::Transactional(error));
    }
    Ok(accepted(responses))
}

/// `POST /messaging/v1/sms/messages` → 202 with each recipient's answer.
pub async fn send_many(
    state: &AppState,
    caller: &Caller,
    mut ctx: Ctx,
) -> Result<Response, ApiError> {
    let fields = fields(&mut ctx).await?;
    let read = SendFields::read(&fields, SendRoute::Many).map_err(ApiError::Transactional)?;
    let responses = state.service.send_transactional(caller, read).await?;
    Ok(accepted(responses))
}

/// `GET /messaging/v1/sms/messages/{messageKey}` → 200.
pub async fn message_status(
    state: &AppState,
    caller: &Caller,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    let status = state
        .service
        .transactional_status(caller, ctx.param(0))
        .await?;
    let (event, composite_id, status_code, status_message) = match status.state {
        TxState::Queued => ("TransactionalSendEvents.SMSQueued", None, None, None),
        TxState::Sent => (
            "TransactionalSendEvents.SMSSent",
            Some(status.composite_id),
            None,
            None,
        ),
        TxState::NotSent {
            status_code,
            status_message,
        } => (
            "TransactionalSendEvents.SMSNotSent",
            Some(status.composite_id),
            Some(status_code),
            Some(status_message),
        ),
    };
    Ok(json_response(
        StatusCode::OK,
        &TxStatusBody {
            request_id: request_id(),
            event_category_type: event,
            timestamp: format_timestamp(status.timestamp, false),
            composite_id,
            info: TxStatusInfo {
                message_key: status.message_key,
                contact_key: status.contact_key,
                to: status.to,
                status_code,
                status_message,
            },
        },
    ))
}

/// `GET /messaging/v1/sms/definitions/{definitionKey}/queue` → 200.
pub async fn queue_metrics(
    state: &AppState,
    caller: &Caller,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    let (count, age_seconds) = state.service.queue_metrics(caller, ctx.param(0)).await?;
    Ok(json_response(
        StatusCode::OK,
        &QueueMetrics {
            request_id: request_id(),
            count,
            age_seconds,
        },
    ))
}

/// `DELETE /messaging/v1/sms/definitions/{definitionKey}/queue` → 200 `{"message": "Queued"}`
/// (done before the answer).
pub async fn empty_queue(
    state: &AppState,
    caller: &Caller,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    state.service.empty_queue(caller, ctx.param(0)).await?;
    Ok(json_response(
        StatusCode::OK,
        &QueueEmptied {
            request_id: request_id(),
            message: "Queued",
        },
    ))
}

/// `GET /messaging/v1/sms/messages?type=notSent` → 200, a page of NotSent events.
pub async fn not_sent(state: &AppState, caller: &Caller, ctx: Ctx) -> Result<Response, ApiError> {
    let query = NotSentQuery::parse(
        ctx.query("type"),
        ctx.query("$pageSize"),
        ctx.query("lastEventId"),
    )
    .map_err(ApiError::Transactional)?;
    let events = state.service.not_sent(caller, query).await?;
    let last_event_id = events.last().map_or(query.last_event_id, |e| e.event_id);
    let messages: Vec<NotSentEntry> = events
        .into_iter()
        .map(|e| NotSentEntry {
            status_code: e.status_code,
            status_message: not_sent_message(e.status_code),
            event_category_type: "TransactionalSendEvents.SMSNotSent",
            timestamp: format_timestamp(e.created_at, false),
            definition_key: e.definition_key,
            event_id: e.event_id,
            info: NotSentInfo {
                message_key: e.message_key,
                contact_key: e.contact_key,
                to: e.mobile_number,
            },
        })
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &NotSentPage {
            last_event_id,
            count: messages.len(),
            messages,
        },
    ))
}

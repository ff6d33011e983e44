//! Transactional messaging's routes (API.md §9): send definitions. Refusals answer in the
//! routes' own error body ([`TxErrorBody`]); a body that is not JSON is the documented 10004.

use axum::http::StatusCode;
use axum::response::Response;
use domain::transactional::{DefinitionFields, ListQuery, TxError};
use domain::{format_timestamp, Fields};
use rand::Rng;
use store::{Definition, DefinitionStatus};

use crate::auth::Caller;
use crate::responses::{
    DefinitionBody, DefinitionContent, DefinitionDeleted, DefinitionItem, DefinitionListBody,
    DefinitionSubscriptions,
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

fn body(d: Definition) -> DefinitionBody {
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
    Ok(json_response(StatusCode::CREATED, &body(created)))
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
        &DefinitionListBody {
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
        },
    ))
}

/// `GET /messaging/v1/sms/definitions/{definitionKey}` → 200.
pub async fn get_definition(
    state: &AppState,
    caller: &Caller,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    let found = state.service.get_definition(caller, ctx.param(0)).await?;
    Ok(json_response(StatusCode::OK, &body(found)))
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
    Ok(json_response(StatusCode::OK, &body(updated)))
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

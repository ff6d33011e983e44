//! Contacts in bulk and reports (API.md §6): `POST /sms/v1/contacts/queueImport/{listId}` and
//! its status, `refreshList` and its status, `POST /sms/v1/messageList/{id}/deliveryReport/
//! {tokenId}`. The work itself is the service's (`service::ImportRequest` and the jobs).

use axum::http::StatusCode;
use axum::response::Response;
use domain::{is_blank, FieldReader, Json};
use service::import::{Column, ImportMapping};
use service::ImportRequest;

use crate::auth::Caller;
use crate::responses::{
    DeliveryReportAccepted, ImportStatus, RefreshAccepted, RefreshStatus, Timestamp,
};
use crate::{json_response, ApiError, AppState, Ctx};

/// The `FieldMaps` of an import by ordinal (`by_header` false) or by header, with their
/// messages (API.md §6): each map's destination, and its ordinal or source.
pub(crate) fn field_maps(
    maps: Option<&Json>,
    by_header: Option<bool>,
    fields: &domain::Fields,
    errors: &mut Vec<String>,
) -> Vec<(String, Column)> {
    let mut columns = Vec::new();
    match maps {
        Some(Json::Array(items)) if !items.is_empty() => {
            for item in items {
                let Json::Object(obj) = item else {
                    errors.push("A field map must be an object.".to_string());
                    continue;
                };
                let mut m = FieldReader::new(obj);
                let destination = m.string("Destination").map(|d| d.trim().to_string());
                let destination_field = m.spelling("Destination").unwrap_or("Destination");
                let ordinal = match m.any("Ordinal") {
                    Some(Json::Number(n)) => n.as_u64().map(|n| n as usize),
                    Some(Json::String(s)) => s.trim().parse::<usize>().ok(),
                    _ => None,
                };
                let source = m
                    .string("Source")
                    .filter(|s| !is_blank(s))
                    .map(str::to_string);
                errors.extend(m.finish());
                let Some(destination) = destination.filter(|d| !d.is_empty()) else {
                    errors.push("A field map must have a destination.".to_string());
                    continue;
                };
                // An attribute name (API.md §1: at most 255 characters).
                if let Some(m) = domain::limits::check_length(
                    destination_field,
                    &destination,
                    domain::limits::MAX_KEY_CHARS,
                ) {
                    errors.push(m);
                    continue;
                }
                match by_header {
                    Some(false) => match ordinal {
                        Some(i) => columns.push((destination, Column::Ordinal(i))),
                        None => errors.push(format!(
                            "The field map of {destination} must have an ordinal when mapping by ordinal."
                        )),
                    },
                    Some(true) => match source {
                        Some(s) => columns.push((destination, Column::Header(s))),
                        None => errors.push(format!(
                            "The field map of {destination} must have a source when mapping by header."
                        )),
                    },
                    None => {}
                }
            }
            if !items.is_empty()
                && by_header.is_some()
                && !columns
                    .iter()
                    .any(|(d, _)| d.eq_ignore_ascii_case("_MobileNumber"))
            {
                errors.push("FieldMaps must map _MobileNumber.".to_string());
            }
        }
        Some(Json::Array(_)) | None => errors.push("FieldMaps can't be empty.".to_string()),
        Some(_) => {
            let name = FieldReader::new(fields)
                .spelling("FieldMaps")
                .unwrap_or("FieldMaps")
                .to_string();
            errors.push(format!("{name} must be an array of objects."));
        }
    }
    columns
}

/// Reads the queueImport body with the messages of API.md §6, in order.
fn read_import_request(fields: &domain::Fields) -> ImportRequest {
    let mut errors = Vec::new();
    let mut r = FieldReader::new(fields);
    let file_name = r.string("FileName").map(str::to_string);
    let file_type = r.string("FileType").map(str::to_string);
    let header = r.bool("IsFirstRowHeader");
    let mapping_type = r.string("ImportMappingType").map(str::to_string);
    let maps = r.any("FieldMaps").cloned();
    let short_code = r
        .string("ShortCode")
        .filter(|c| !is_blank(c))
        .map(str::to_string);
    let keyword = r
        .string("Keyword")
        .filter(|c| !is_blank(c))
        .map(str::to_string);
    errors.extend(r.finish());

    if file_name.as_deref().is_none_or(is_blank) {
        errors.push("File name can't be blank.".to_string());
    }
    if let Some(t) = file_type
        .as_deref()
        .filter(|t| !t.trim().eq_ignore_ascii_case("csv"))
    {
        errors.push(format!("{t} isn't a valid file type."));
    }
    let by_header = match mapping_type.as_deref().map(str::trim) {
        None | Some("") => {
            errors.push("Import mapping type can't be blank.".to_string());
            None
        }
        Some(t) if t.eq_ignore_ascii_case("MapByOrdinal") => Some(false),
        Some(t) if t.eq_ignore_ascii_case("MapByHeader") => Some(true),
        Some(t) => {
            errors.push(format!("{t} isn't a valid import mapping type."));
            None
        }
    };
    let first_row_header = header == Some(true);
    if by_header == Some(true) && !first_row_header {
        errors.push("MapByHeader needs IsFirstRowHeader to be true.".to_string());
    }
    let columns = field_maps(maps.as_ref(), by_header, fields, &mut errors);
    let subscribe = match (short_code, keyword) {
        (Some(c), Some(k)) => Some((c, k)),
        (Some(_), None) => {
            errors.push("Keyword can't be blank when ShortCode is given.".to_string());
            None
        }
        (None, Some(_)) => {
            errors.push("ShortCode can't be blank when Keyword is given.".to_string());
            None
        }
        (None, None) => None,
    };
    ImportRequest {
        file_name: file_name.filter(|f| !is_blank(f)),
        mapping: by_header.map(|_| ImportMapping {
            infer: false,
            first_row_header,
            maps: columns,
        }),
        subscribe,
        problems: errors,
    }
}

pub async fn queue_import(
    state: &AppState,
    caller: &Caller,
    mut ctx: Ctx,
) -> Result<Response, ApiError> {
    let (_, fields) = ctx.json_fields().await?;
    let request = read_import_request(&fields);
    let token = state
        .service
        .queue_import(caller, ctx.param(0), request)
        .await?;
    Ok(crate::message_list::accepted(token))
}

pub async fn import_status(
    state: &AppState,
    caller: &Caller,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    let job = state
        .service
        .import_status(caller, ctx.param(0), ctx.param(1))
        .await?;
    Ok(json_response(
        StatusCode::OK,
        &ImportStatus::new(state.dates(), &job),
    ))
}

pub async fn refresh_list(
    state: &AppState,
    caller: &Caller,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    let (token, published) = state.service.refresh_list(caller, ctx.param(0)).await?;
    Ok(json_response(
        StatusCode::ACCEPTED,
        &RefreshAccepted {
            last_publish_date: Timestamp(state.timestamp(published)),
            token_id: token,
        },
    ))
}

pub async fn refresh_status(
    state: &AppState,
    caller: &Caller,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    let job = state
        .service
        .refresh_status(caller, ctx.param(0), ctx.param(1))
        .await?;
    let publish = job
        .publish_date
        .filter(|_| job.state == store::ListJobState::Completed)
        .map(|t| Timestamp(state.timestamp(t)));
    Ok(json_response(
        StatusCode::OK,
        &RefreshStatus {
            publish_date: publish,
            token_id: job.token,
        },
    ))
}

/// `POST /sms/v1/messageList/{id}/deliveryReport/{tokenId}` `{"filename"}`.
pub async fn delivery_report(
    state: &AppState,
    caller: &Caller,
    mut ctx: Ctx,
) -> Result<Response, ApiError> {
    let (_, fields) = ctx.json_fields().await?;
    let mut r = FieldReader::new(&fields);
    let name = r.string("filename").map(str::to_string);
    let token = state
        .service
        .delivery_report(caller, ctx.param(0), ctx.param(1), name.clone(), r.finish())
        .await?;
    Ok(json_response(
        StatusCode::ACCEPTED,
        &DeliveryReportAccepted {
            filename: name.unwrap_or_default(),
            token_id: token,
        },
    ))
}

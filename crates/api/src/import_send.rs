//! `POST /sms/v1/automation/importSend`, its status and its delivery report (API.md §6b).

use axum::http::StatusCode;
use axum::response::Response;
use domain::{FieldReader, Json};
use service::import::ImportMapping;
use service::ImportSendRequest;

use crate::auth::Caller;
use crate::contacts::field_maps;
use crate::responses::{DeliveryReportAccepted, ImportSendAccepted, ImportSendStatus, Timestamp};
use crate::{json_response, ApiError, AppState, Ctx};

/// Reads the request: its fields (names ignoring case, API.md §1) and its one `ImportDefinition`.
fn read_request(fields: &domain::Fields) -> ImportSendRequest {
    let mut r = FieldReader::new(fields);
    let mut request = ImportSendRequest {
        message_id: r.string("MessageId").map(str::to_string),
        keyword: r.string("Keyword").map(str::to_string),
        override_flag: r.bool("Override"),
        override_text: r.string("OverrideText").map(str::to_string),
        allow_duplication: r.bool("IsDuplicationAllowed") == Some(true),
        visible: r.bool("IsVisible") == Some(true),
        ..ImportSendRequest::default()
    };
    // Accepted, not used: Tidings sends no email.
    let _ = r.string("NotificationEmail");
    match r.any("ImportDefinition") {
        None => {}
        Some(Json::Array(items)) => {
            request.definitions = items.len();
            if let [Json::Object(definition)] = items.as_slice() {
                let mut d = r.nested(definition);
                read_definition(&mut d, definition, &mut request);
                r.absorb(d);
            } else if items.iter().any(|i| !matches!(i, Json::Object(_))) {
                r.type_error("ImportDefinition must be an array of objects.".to_string());
            }
        }
        Some(_) => {
            let name = r.spelling("ImportDefinition").unwrap_or("ImportDefinition");
            r.type_error(format!("{name} must be an array of objects."));
        }
    }
    request.problems = r.finish();
    request
}

/// The definition's type, file and mapping: `ManualMap` (alias `MapManual`) maps by header,
/// `InferFromColumnHeadings` reads the header row, `MapByOrdinal` maps by 0-based position.
fn read_definition(
    d: &mut FieldReader<'_>,
    definition: &domain::Fields,
    request: &mut ImportSendRequest,
) {
    request.import_type = d.string("ImportType").map(str::to_string);
    request.file_name = d.string("FileName").map(str::to_string);
    let _ = d.string("DataExtensionName");
    let header = d.bool("IsFirstRowHeader");
    let mapping_type = d.string("ImportMappingType").map(str::to_string);
    let maps = d.any("FieldMaps").cloned();
    let mut problems = Vec::new();
    let (by_header, infer) = match mapping_type.as_deref().map(str::trim) {
        None | Some("") => {
            problems.push("ImportMappingType can't be blank.".to_string());
            (None, false)
        }
        Some(t) if t.eq_ignore_ascii_case("ManualMap") || t.eq_ignore_ascii_case("MapManual") => {
            (Some(true), false)
        }
        Some(t) if t.eq_ignore_ascii_case("InferFromColumnHeadings") => (None, true),
        Some(t) if t.eq_ignore_ascii_case("MapByOrdinal") => (Some(false), false),
        Some(t) => {
            problems.push(format!(
                "ImportMappingType {t} isn't supported; use ManualMap, InferFromColumnHeadings or MapByOrdinal."
            ));
            (None, false)
        }
    };
    let columns = match by_header {
        Some(_) => field_maps(maps.as_ref(), by_header, definition, &mut problems),
        None => Vec::new(),
    };
    if by_header.is_some() || infer {
        request.mapping = Some(ImportMapping {
            // ManualMap and InferFromColumnHeadings always read the first row as headers.
            first_row_header: by_header != Some(false) || header == Some(true),
            maps: columns,
            infer,
        });
    }
    request.mapping_problems = problems;
}

/// `POST /sms/v1/automation/importSend` → 202 `{"tokenId", "lastPublishDate"}`.
pub async fn accept(state: &AppState, caller: &Caller, mut ctx: Ctx) -> Result<Response, ApiError> {
    let (_, fields) = ctx.json_fields().await?;
    let request = read_request(&fields);
    let (token, accepted) = state.service.accept_import_send(caller, request).await?;
    Ok(json_response(
        StatusCode::ACCEPTED,
        &ImportSendAccepted {
            token_id: token,
            last_publish_date: Timestamp(state.timestamp(accepted)),
        },
    ))
}

/// `GET /sms/v1/automation/importSend/{tokenId}/status`.
pub async fn status(state: &AppState, caller: &Caller, ctx: Ctx) -> Result<Response, ApiError> {
    let status = state
        .service
        .import_send_status(caller, ctx.param(0))
        .await?;
    Ok(json_response(
        StatusCode::OK,
        &ImportSendStatus::new(state.dates(), &status),
    ))
}

/// `POST /sms/v1/automation/importSend/{tokenId}/deliveryReport` `{"filename"}` → 202
/// `{"tokenId", "filename"}`, as messageList's.
pub async fn delivery_report(
    state: &AppState,
    caller: &Caller,
    mut ctx: Ctx,
) -> Result<Response, ApiError> {
    let (_, fields) = ctx.json_fields().await?;
    let mut r = FieldReader::new(&fields);
    let file_name = r.string("filename").map(str::to_string);
    let earlier = r.finish();
    let token = state
        .service
        .import_send_delivery_report(caller, ctx.param(0), file_name.clone(), earlier)
        .await?;
    Ok(json_response(
        StatusCode::ACCEPTED,
        &DeliveryReportAccepted {
            filename: file_name.unwrap_or_default(),
            token_id: token,
        },
    ))
}

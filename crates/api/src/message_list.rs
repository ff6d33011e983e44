//! `POST /sms/v1/messageList/{id}/send` (API.md §4) and
//! `GET /sms/v1/messageList/{id}/deliveries/{tokenId}` (API.md §5).

use axum::http::StatusCode;
use axum::response::Response;
use domain::SendListRequest;
use serde_json::{json, Value};
use service::{IdempotentRequest, Page, SendReport};
use sha2::{Digest, Sha256};
use store::SendKind;

use crate::auth::Caller;
use crate::responses::SendAccepted;
use crate::{json_response, ApiError, AppState, Ctx, Dates};

const IDEMPOTENCY_HEADER: &str = "idempotency-key";

/// The `Idempotency-Key` header: 1–255 printable ASCII characters (API.md §4), and the request
/// it names: the path and the exact body.
pub(crate) fn idempotency(ctx: &Ctx, body: &[u8]) -> Result<Option<IdempotentRequest>, ApiError> {
    let Some(value) = ctx.headers.get(IDEMPOTENCY_HEADER) else {
        return Ok(None);
    };
    let bytes = value.as_bytes();
    if bytes.is_empty() || bytes.len() > 255 || !bytes.iter().all(|b| (0x20..=0x7e).contains(b)) {
        return Err(ApiError::validation(
            "Idempotency-Key must be 1 to 255 printable ASCII characters.",
        ));
    }
    let mut h = Sha256::new();
    h.update(ctx.path_key.as_bytes());
    h.update([0u8]);
    h.update(body);
    Ok(Some(IdempotentRequest {
        key: String::from_utf8_lossy(bytes).into_owned(),
        request_hash: hex::encode(h.finalize()),
    }))
}

pub(crate) fn accepted(token: String) -> Response {
    json_response(StatusCode::ACCEPTED, &SendAccepted { token_id: token })
}

pub async fn send(state: &AppState, caller: &Caller, mut ctx: Ctx) -> Result<Response, ApiError> {
    let (body, fields) = ctx.json_fields().await?;
    let idempotency = idempotency(&ctx, &body)?;
    let request = SendListRequest::from_fields(&fields);
    let token = state
        .service
        .accept_list_send(caller, ctx.param(0), &request, idempotency)
        .await?;
    Ok(accepted(token))
}

/// A positive integer of any size (saturating: `$pageSize` above 10000 is taken as 10000, however
/// many digits it has); `None` for anything else.
fn positive_integer(raw: &str) -> Option<u64> {
    let s = raw.trim();
    let digits = s.strip_prefix('+').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Only overflow can fail here: an integer too large for u64 is still above every limit.
    let n = digits.parse::<u64>().unwrap_or(u64::MAX);
    (n >= 1).then_some(n)
}

/// Parses `$page` / `$pageSize` (API.md §5).
pub(crate) fn paging(ctx: &Ctx, errors: &mut Vec<String>) -> Page {
    let mut read = |name: &str, default: u32| -> u32 {
        match ctx.query(name) {
            None => default,
            Some(raw) => match positive_integer(raw) {
                Some(n) => n.min(u64::from(u32::MAX)) as u32,
                None => {
                    errors.push(format!("{raw} isn't a valid value for {name}."));
                    default
                }
            },
        }
    };
    let number = read("$page", 1);
    let size = read("$pageSize", 1000).min(10_000);
    Page { number, size }
}

/// The status document of a deliveries path of a send of `kind` (API.md §5).
pub(crate) async fn deliveries_of(
    state: &AppState,
    caller: &Caller,
    ctx: &Ctx,
    kind: SendKind,
) -> Result<SendReport, ApiError> {
    let mut page_errors = Vec::new();
    let page = paging(ctx, &mut page_errors);
    let send = state
        .service
        .delivery_send(caller, kind, ctx.param(0), ctx.param(1), page_errors)
        .await?;
    Ok(state.service.send_report(send, page).await?)
}

pub async fn deliveries(state: &AppState, caller: &Caller, ctx: Ctx) -> Result<Response, ApiError> {
    let report = deliveries_of(state, caller, &ctx, SendKind::List).await?;
    Ok(json_response(
        StatusCode::OK,
        &status_json(state.dates(), &report),
    ))
}

/// One tracking entry of a status document (API.md §5).
pub fn tracking_json(d: Dates, kind: SendKind, r: &store::TrackingRow) -> Value {
    let (short, description) = service::describe(r);
    let code = r.status_code.to_string();
    let mut entry = json!({
        "mobileNumber": r.mobile_number,
        "statusCode": code,
        // A reply's tracking names its text (API.md §6 queueMO deliveries).
        "message": match (kind, &r.text) {
            (SendKind::Mo, Some(text)) => text.as_str(),
            _ => short,
        },
        "standardStatusCode": code,
        "description": description,
        "date": d.format(r.updated_at),
    });
    if let Some(s) = r.segments {
        entry["segments"] = json!(s);
    }
    if let Some(e) = &r.encoding {
        entry["encoding"] = json!(e);
    }
    if let Some(n) = &r.note {
        entry["note"] = json!(n);
    }
    entry
}

/// The §5 status document of a send: counts, the page of tracking, when it may go next.
pub fn status_json(d: Dates, report: &SendReport) -> Value {
    let send = &report.send;
    let tracking: Vec<Value> = report
        .tracking
        .iter()
        .map(|r| tracking_json(d, send.kind, r))
        .collect();
    let mut body = json!({
        "message": send.text,
        "count": send.count,
        "createDate": d.format(send.created_at),
        "completeDate": send.completed_at.map(|t| d.format(t)),
        "status": send.state.as_str(),
        "tracking": tracking,
        "counts": report.counts,
        "scheduledFor": report.next_at.map(|t| d.format(t)),
        "segments": send.segments,
        "encoding": send.encoding,
        "page": report.page.number,
        "pageSize": report.page.size,
        "trackingTotal": send.count,
    });
    if !send.errors.is_empty() {
        body["errors"] = json!(send.errors);
    }
    body
}

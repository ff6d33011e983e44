//! `POST /sms/v1/messageList/{id}/send` (API.md §4) and
//! `GET /sms/v1/messageList/{id}/deliveries/{tokenId}` (API.md §5).

use axum::http::StatusCode;
use axum::response::Response;
use domain::SendListRequest;
use service::{IdempotentRequest, Page, SendReport};
use sha2::{Digest, Sha256};
use store::SendKind;

use crate::auth::Caller;
use crate::responses::{SendAccepted, SendStatus};
use crate::{json_response, ApiError, AppState, Ctx};

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
        &SendStatus::new(state.dates(), &report),
    ))
}

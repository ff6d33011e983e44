//! `POST /sms/v1/messageList/{id}/send` (API.md §4) and
//! `GET /sms/v1/messageList/{id}/deliveries/{tokenId}` (API.md §5).

use std::collections::HashMap;

use axum::http::StatusCode;
use axum::response::Response;
use domain::{EncodedId, ExclusionChoice, MessageFacts, SendListRequest, TargetChoice, TokenId};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use store::{
    codes, CreatedSend, Idempotency, NewSend, Outcome, Send, SendKind, StoreError, StoredWindow,
};

use crate::auth::Caller;
use crate::{json_response, ApiError, AppState, Ctx};

const IDEMPOTENCY_HEADER: &str = "idempotency-key";

/// The `Idempotency-Key` header: 1–255 printable ASCII characters (API.md §4).
pub(crate) fn idempotency_key(ctx: &Ctx) -> Result<Option<String>, ApiError> {
    let Some(value) = ctx.headers.get(IDEMPOTENCY_HEADER) else {
        return Ok(None);
    };
    let bytes = value.as_bytes();
    if bytes.is_empty() || bytes.len() > 255 || !bytes.iter().all(|b| (0x20..=0x7e).contains(b)) {
        return Err(ApiError::validation(
            "Idempotency-Key must be 1 to 255 printable ASCII characters.",
        ));
    }
    Ok(Some(String::from_utf8_lossy(bytes).into_owned()))
}

/// What identifies "the same request" for an idempotency key: the path and the exact body.
pub(crate) fn fingerprint(path_key: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(path_key.as_bytes());
    h.update([0u8]);
    h.update(body);
    hex::encode(h.finalize())
}

pub(crate) fn accepted(token: &str) -> Response {
    json_response(StatusCode::ACCEPTED, &json!({ "tokenId": token }))
}

fn key_reused() -> ApiError {
    ApiError::Conflict("Idempotency-Key was already used with a different request.".into())
}

/// A retry under an Idempotency-Key the client used for the same account within 24 hours
/// answers as the original did (even if the request would no longer validate), or 409 when the
/// request differs. `None`: no earlier send, go on.
pub(crate) async fn replay(
    state: &AppState,
    caller: &Caller,
    key: Option<&String>,
    request_hash: &str,
) -> Result<Option<Response>, ApiError> {
    let Some(key) = key else {
        return Ok(None);
    };
    match state
        .store
        .find_idempotent_send(&caller.account_id, &caller.client_id, key, state.now())
        .await?
    {
        Some((earlier, hash)) if hash == request_hash => Ok(Some(accepted(&earlier.token))),
        Some(_) => Err(key_reused()),
        None => Ok(None),
    }
}

/// The account's message the path names; `None` for a malformed or unknown ID (the request's
/// validation reports it).
pub(crate) async fn path_message(
    state: &AppState,
    account_id: &str,
    path_id: &str,
) -> Result<Option<store::Message>, ApiError> {
    let Some(id) = EncodedId::parse(path_id) else {
        return Ok(None);
    };
    match state.store.get_message(account_id, id.as_str()).await {
        Ok(m) => Ok(Some(m)),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// When a send is due and the window it keeps: `SendTime` (never in the past), moved to the
/// end of the blackout window when it falls inside it.
pub(crate) fn schedule(
    window: Option<domain::BlackoutWindow>,
    send_time: Option<i64>,
    now: i64,
) -> (Option<StoredWindow>, i64) {
    let window = window.filter(|w| !w.is_none());
    let start = send_time.map_or(now, |t| t.max(now));
    let due_at = window.and_then(|w| w.deferral(start)).unwrap_or(start);
    let stored = window.map(|w| StoredWindow {
        utc_offset_minutes: w.offset.minutes(),
        start_minute: w.start.minute_of_day(),
        end_minute: w.end.minute_of_day(),
    });
    (stored, due_at)
}

/// The answer to a recorded send: 202 with its token (waking the engine for a new one), the
/// earlier send's token for a concurrent retry of the same request, 409 for a different one.
pub(crate) fn answer(
    state: &AppState,
    created: CreatedSend,
    request_hash: &str,
) -> Result<Response, ApiError> {
    match created {
        CreatedSend::Created(send) => {
            state.waker.notify_waiters();
            Ok(accepted(&send.token))
        }
        CreatedSend::Existing {
            send,
            request_hash: earlier,
        } if earlier == request_hash => Ok(accepted(&send.token)),
        CreatedSend::Existing { .. } => Err(key_reused()),
    }
}

pub async fn send(state: &AppState, caller: &Caller, mut ctx: Ctx) -> Result<Response, ApiError> {
    let (body, fields) = ctx.json_fields().await?;
    let key = idempotency_key(&ctx)?;
    let request_hash = fingerprint(&ctx.path_key, &body);
    if let Some(earlier) = replay(state, caller, key.as_ref(), &request_hash).await? {
        return Ok(earlier);
    }
    let request = SendListRequest::from_fields(&fields);
    let path_id = ctx.param(0).to_string();
    let message = path_message(state, &caller.account_id, &path_id).await?;
    let facts = message.as_ref().map(|m| MessageFacts {
        can_send: m.status.can_send(),
        has_default_targets: !m.target_list_ids.is_empty(),
        text_is_blank: m.text.trim().is_empty(),
    });

    let wanted = request.list_ids_to_resolve();
    let resolved = if wanted.is_empty() {
        Vec::new()
    } else {
        state
            .store
            .resolve_lists(&caller.account_id, &wanted)
            .await?
    };
    let canonical: HashMap<String, String> = wanted
        .into_iter()
        .zip(resolved)
        .filter_map(|(given, found)| found.map(|c| (given, c)))
        .collect();

    let valid = request
        .validate(&path_id, facts, &|id| canonical.contains_key(id))
        .map_err(ApiError::Validation)?;
    let Some(message) = message else {
        return Err(ApiError::internal("validated send without a message"));
    };

    let pick = |ids: &[String]| -> Vec<String> {
        let mut out: Vec<String> = Vec::with_capacity(ids.len());
        for id in ids {
            let c = canonical.get(id).cloned().unwrap_or_else(|| id.clone());
            if !out.iter().any(|o| o.eq_ignore_ascii_case(&c)) {
                out.push(c);
            }
        }
        out
    };
    let target_list_ids = match &valid.target {
        TargetChoice::MessageDefaults => message.target_list_ids.clone(),
        TargetChoice::Override(ids) => pick(ids),
    };
    let exclusion_list_ids = match &valid.exclusion {
        ExclusionChoice::MessageDefaults => message.exclusion_list_ids.clone(),
        ExclusionChoice::Override(ids) => pick(ids),
        ExclusionChoice::Ignore => Vec::new(),
    };
    let text = valid
        .override_text
        .clone()
        .unwrap_or_else(|| message.text.clone());
    let info = domain::text::analyze(&text);
    let content_url = valid
        .content_url
        .clone()
        .or_else(|| message.content_url.clone());
    let now = state.now();
    let (window, due_at) = schedule(valid.window, valid.send_time, now);
    let created = state
        .store
        .create_send(NewSend {
            token: domain::mint_token(),
            account_id: caller.account_id.clone(),
            client_id: Some(caller.client_id.clone()),
            kind: SendKind::List,
            message_id: message.id.clone(),
            code: message.code.clone(),
            text,
            content_url,
            target_list_ids,
            exclusion_list_ids,
            allow_duplication: valid.allow_duplication,
            window,
            send_time: valid.send_time,
            due_at,
            segments: i32::try_from(info.segments).unwrap_or(i32::MAX),
            encoding: info.encoding.as_str().to_string(),
            created_at: now,
            idempotency: key.map(|key| Idempotency {
                client_id: caller.client_id.clone(),
                key,
                request_hash: request_hash.clone(),
            }),
        })
        .await?;
    answer(state, created, &request_hash)
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
pub(crate) fn paging(ctx: &Ctx, errors: &mut Vec<String>) -> (u32, u32) {
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
    let page = read("$page", 1);
    let page_size = read("$pageSize", 1000).min(10_000);
    (page, page_size)
}

/// Resolves `{id}` and `{tokenId}` of a deliveries path with the §5 messages.
pub async fn resolve_delivery(
    state: &AppState,
    caller: &Caller,
    ctx: &Ctx,
    kind: SendKind,
    extra_errors: Vec<String>,
) -> Result<Send, ApiError> {
    let (id, token) = (ctx.param(0), ctx.param(1));
    let mut errors = Vec::new();
    if EncodedId::parse(id).is_none() {
        errors.push(format!("Message id {id} isn't valid."));
    }
    if TokenId::parse(token).is_none() {
        errors.push(format!("Token id {token} isn't valid."));
    }
    errors.extend(extra_errors);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let send = match state.store.get_send(&caller.account_id, token).await {
        Ok(s) if s.kind == kind => s,
        Ok(_) | Err(StoreError::NotFound) => {
            return Err(ApiError::validation(format!(
                "Token id {token} isn't valid for this client."
            )))
        }
        Err(e) => return Err(e.into()),
    };
    if !send.message_id.eq_ignore_ascii_case(id) {
        return Err(ApiError::validation(format!(
            "TokenId {token} isn't valid for MessageId {id}."
        )));
    }
    Ok(send)
}

pub async fn deliveries(state: &AppState, caller: &Caller, ctx: Ctx) -> Result<Response, ApiError> {
    let mut page_errors = Vec::new();
    let (page, page_size) = paging(&ctx, &mut page_errors);
    let send = resolve_delivery(state, caller, &ctx, SendKind::List, page_errors).await?;
    Ok(json_response(
        StatusCode::OK,
        &status_body(state, &send, page, page_size).await?,
    ))
}

/// The §5 status document of a send: counts, the page of tracking, when it may go next.
pub async fn status_body(
    state: &AppState,
    send: &Send,
    page: u32,
    page_size: u32,
) -> Result<Value, ApiError> {
    let now = state.now();
    let counts = state.store.send_counts(&send.token, now).await?;
    let rows = state
        .store
        .tracking_page(&send.token, page, page_size)
        .await?;
    let next_at = state.store.send_next_at(&send.token).await?;
    let tracking: Vec<Value> = rows
        .iter()
        .map(|r| {
            let (short, description) = match r.outcome {
                Some(Outcome::Suppressed) => ("Suppressed", "Not subscribed on the code: not sent"),
                Some(Outcome::Canceled) => ("Canceled", "Send canceled before hand-off"),
                // A 1501 says why (API.md §1: `Text too long after substitution`).
                None => codes::describe_recipient(r.status_code, r.note.as_deref()),
            };
            let code = r.status_code.to_string();
            let mut entry = json!({
                "mobileNumber": r.mobile_number,
                "statusCode": code,
                // A reply's tracking names its text (API.md §6 queueMO deliveries).
                "message": match (send.kind, &r.text) {
                    (SendKind::Mo, Some(text)) => text.as_str(),
                    _ => short,
                },
                "standardStatusCode": code,
                "description": description,
                "date": state.timestamp(r.updated_at),
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
        })
        .collect();
    let mut body = json!({
        "message": send.text,
        "count": send.count,
        "createDate": state.timestamp(send.created_at),
        "completeDate": send.completed_at.map(|t| state.timestamp(t)),
        "status": send.state.as_str(),
        "tracking": tracking,
        "counts": counts,
        "scheduledFor": next_at.map(|t| state.timestamp(t)),
        "segments": send.segments,
        "encoding": send.encoding,
        "page": page,
        "pageSize": page_size,
        "trackingTotal": send.count,
    });
    if !send.errors.is_empty() {
        body["errors"] = json!(send.errors);
    }
    Ok(body)
}

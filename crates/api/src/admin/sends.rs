//! The sends of an account, newest first (API.md §7).

use axum::response::Response;
use serde_json::{json, Value};
use store::{Send, SendQuery, SendState};

use super::{account, ok, ts};
use crate::{ApiError, AppState, Ctx};

fn send_json(state: &AppState, s: &Send) -> Value {
    json!({
        "tokenId": s.token, "messageId": s.message_id, "kind": s.kind.as_str(),
        "state": s.state.as_str(), "count": s.count, "text": s.text,
        "createDate": ts(state, s.created_at),
        "completeDate": s.completed_at.map(|t| ts(state, t)),
        "scheduledFor": (!s.state.is_final()).then(|| ts(state, s.due_at)),
        "errors": s.errors,
    })
}

pub async fn list_sends(state: &AppState, ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    let mut errors = Vec::new();
    let filter = match ctx.query("state").filter(|s| !s.is_empty()) {
        None => None,
        Some(raw) => {
            let parsed = SendState::parse(raw);
            if parsed.is_none() {
                errors.push(format!("{raw} isn't a valid value for state."));
            }
            parsed
        }
    };
    let limit = match ctx.query("limit") {
        None => 100,
        Some(raw) => match raw.parse::<u32>() {
            Ok(n) if n >= 1 => n.min(1000),
            _ => {
                errors.push(format!("{raw} isn't a valid value for limit."));
                100
            }
        },
    };
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let after = ctx.query("after").filter(|s| !s.is_empty());
    let query = SendQuery {
        state: filter,
        after: after.map(str::to_string),
        limit,
    };
    let sends = match state.store.list_sends(&acct.id, query).await {
        Ok(sends) => sends,
        // `after` names no send of the account: a bad cursor, not a server failure.
        Err(store::StoreError::NotFound) => {
            return Err(ApiError::validation(format!(
                "{} isn't a valid value for after.",
                after.unwrap_or_default()
            )))
        }
        Err(e) => return Err(e.into()),
    };
    let next = (sends.len() == limit as usize)
        .then(|| sends.last().map(|s| s.token.clone()))
        .flatten();
    ok(json!({
        "items": sends.iter().map(|s| send_json(state, s)).collect::<Vec<_>>(),
        "next": next,
    }))
}

/// `GET /admin/v1/sends/{tokenId}`: a send's status document (API.md §5) whatever its account.
pub async fn send_status(state: &AppState, ctx: Ctx) -> Result<Response, ApiError> {
    let token = ctx.param(0);
    for acct in state.store.list_accounts().await? {
        match state.store.get_send(&acct.id, token).await {
            Ok(send) => {
                let mut body = crate::message_list::status_body(state, &send, 1, 1000).await?;
                body["tokenId"] = json!(send.token);
                body["accountId"] = json!(acct.id);
                body["messageId"] = json!(send.message_id);
                return ok(body);
            }
            Err(store::StoreError::NotFound) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::NotFound(format!("Send {token} not found.")))
}

/// `POST /admin/v1/sends/{tokenId}/cancel` (API.md §7).
pub async fn cancel(state: &AppState, ctx: Ctx) -> Result<Response, ApiError> {
    let token = ctx.param(0);
    match state.store.cancel_send(token, state.now()).await {
        Ok(n) => ok(json!({"status": "Canceled", "canceledRecipients": n})),
        Err(store::StoreError::NotFound) => {
            Err(ApiError::NotFound(format!("Send {token} not found.")))
        }
        Err(store::StoreError::Conflict(_)) => Err(ApiError::Conflict(format!(
            "Send {token} is already final and can't be canceled."
        ))),
        Err(e) => Err(e.into()),
    }
}

/// `GET /admin/v1/outbox?after={seq}&limit={n}` (API.md §7): what the simulator accepted.
pub async fn outbox(state: &AppState, ctx: Ctx) -> Result<Response, ApiError> {
    let mut errors = Vec::new();
    let after = match ctx.query("after").filter(|s| !s.is_empty()) {
        None => 0,
        Some(raw) => raw.parse::<i64>().unwrap_or_else(|_| {
            errors.push(format!("{raw} isn't a valid value for after."));
            0
        }),
    };
    let limit = match ctx.query("limit").filter(|s| !s.is_empty()) {
        None => 1000,
        Some(raw) => match raw.parse::<u32>() {
            Ok(n) if n >= 1 => n.min(10_000),
            _ => {
                errors.push(format!("{raw} isn't a valid value for limit."));
                1000
            }
        },
    };
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let page = state.store.outbox_page(after, limit).await?;
    let next = (page.len() == limit as usize)
        .then(|| page.last().map(|e| e.seq))
        .flatten();
    let items: Vec<Value> = page
        .iter()
        .map(|e| {
            json!({
                "seq": e.seq, "carrier": e.item.carrier, "from": e.item.from, "to": e.item.to,
                "text": e.item.text, "contentUrl": e.item.content_url,
                "encoding": e.item.encoding, "segments": e.item.segments,
                "tokenId": e.item.token_id, "acceptedAt": ts(state, e.item.accepted_at),
            })
        })
        .collect();
    ok(json!({"items": items, "next": next}))
}

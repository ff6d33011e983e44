//! The sends of an account, newest first; a send's status; cancel; the outbox (API.md §7).

use axum::response::Response;
use serde_json::{json, Value};
use service::admin::{OutboxPage, SendsPage, SendsQuery};
use store::{OutboxEntry, Send};

use super::{account, ok};
use crate::{ApiError, AppState, Ctx, Dates};

pub fn send_json(d: Dates, s: &Send) -> Value {
    json!({
        "tokenId": s.token, "messageId": s.message_id, "kind": s.kind.as_str(),
        "state": s.state.as_str(), "count": s.count, "text": s.text,
        "createDate": d.format(s.created_at),
        "completeDate": s.completed_at.map(|t| d.format(t)),
        "scheduledFor": (!s.state.is_final()).then(|| d.format(s.due_at)),
        "errors": s.errors,
    })
}

pub fn sends_page_json(d: Dates, page: &SendsPage) -> Value {
    json!({
        "items": page.sends.iter().map(|s| send_json(d, s)).collect::<Vec<_>>(),
        "next": page.next,
    })
}

pub fn outbox_entry_json(d: Dates, e: &OutboxEntry) -> Value {
    json!({
        "seq": e.seq, "carrier": e.item.carrier, "from": e.item.from, "to": e.item.to,
        "text": e.item.text, "contentUrl": e.item.content_url,
        "encoding": e.item.encoding, "segments": e.item.segments,
        "tokenId": e.item.token_id, "acceptedAt": d.format(e.item.accepted_at),
    })
}

pub fn outbox_json(d: Dates, page: &OutboxPage) -> Value {
    json!({
        "items": page.items.iter().map(|e| outbox_entry_json(d, e)).collect::<Vec<_>>(),
        "next": page.next,
    })
}

pub async fn list_sends(state: &AppState, ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    let query = SendsQuery {
        state: ctx.query("state").map(str::to_string),
        limit: ctx.query("limit").map(str::to_string),
        after: ctx.query("after").map(str::to_string),
    };
    let page = state.service.sends(&acct, query).await?;
    ok(sends_page_json(state.dates(), &page))
}

/// `GET /admin/v1/sends/{tokenId}`: a send's status document (API.md §5) whatever its account.
pub async fn send_status(state: &AppState, ctx: Ctx) -> Result<Response, ApiError> {
    let (acct, report) = state.service.any_send_report(ctx.param(0)).await?;
    ok(admin_status_json(state.dates(), &acct, &report))
}

/// The §5 status document with the send's token, account and message.
pub fn admin_status_json(d: Dates, acct: &store::Account, report: &service::SendReport) -> Value {
    let mut body = crate::message_list::status_json(d, report);
    body["tokenId"] = json!(report.send.token);
    body["accountId"] = json!(acct.id);
    body["messageId"] = json!(report.send.message_id);
    body
}

/// `POST /admin/v1/sends/{tokenId}/cancel` (API.md §7).
pub async fn cancel(state: &AppState, ctx: Ctx) -> Result<Response, ApiError> {
    let n = state.service.cancel_send(ctx.param(0)).await?;
    ok(crate::responses::Canceled::new(n))
}

/// `GET /admin/v1/outbox?after={seq}&limit={n}` (API.md §7): what the simulator accepted.
pub async fn outbox(state: &AppState, ctx: Ctx) -> Result<Response, ApiError> {
    let page = state
        .service
        .outbox(ctx.query("after"), ctx.query("limit"))
        .await?;
    ok(outbox_json(state.dates(), &page))
}

//! The sends of an account, newest first; a send's status; cancel; the outbox (API.md §7).

use axum::response::Response;
use serde_json::Value;
use service::admin::SendsQuery;

use super::{account, ok};
use crate::responses::{to_value, AdminSend, AdminSendStatus, Outbox, OutboxItem, SendList};
use crate::{ApiError, AppState, Ctx, Dates};

pub async fn list_sends(state: &AppState, ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    let query = SendsQuery {
        state: ctx.query("state").map(str::to_string),
        limit: ctx.query("limit").map(str::to_string),
        after: ctx.query("after").map(str::to_string),
    };
    let page = state.service.sends(&acct, query).await?;
    let d = state.dates();
    ok(SendList {
        items: page.sends.iter().map(|s| AdminSend::new(d, s)).collect(),
        next: page.next,
    })
}

/// `GET /admin/v1/sends/{tokenId}`: a send's status document (API.md §5) whatever its account.
pub async fn send_status(state: &AppState, ctx: Ctx) -> Result<Response, ApiError> {
    let (acct, report) = state.service.any_send_report(ctx.param(0)).await?;
    ok(AdminSendStatus::new(state.dates(), &acct, &report))
}

/// The §5 status document with the send's token, account and message, as the CLI prints it
/// (the API's body).
pub fn admin_status_json(d: Dates, acct: &store::Account, report: &service::SendReport) -> Value {
    to_value(&AdminSendStatus::new(d, acct, report))
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
    let d = state.dates();
    ok(Outbox {
        items: page.items.iter().map(|e| OutboxItem::new(d, e)).collect(),
        next: page.next,
    })
}

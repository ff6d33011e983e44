//! Accounts and API clients (API.md §7).

use axum::response::Response;
use domain::FieldReader;
use serde_json::{json, Value};
use service::admin::{ClientRequest, MintedClient, NewAccountRequest};
use store::{Account, Client};

use super::{account, created, ok, strings, text_field};
use crate::{ApiError, AppState, Ctx, Dates};

pub fn account_json(d: Dates, a: &Account) -> Value {
    json!({"id": a.id, "name": a.name, "createdDate": d.format(a.created_at)})
}

pub fn client_json(d: Dates, c: &Client) -> Value {
    json!({
        "clientId": c.client_id, "accountId": c.account_id, "scopes": c.scopes,
        "accounts": c.accounts, "createdDate": d.format(c.created_at),
        "revoked": c.revoked_at.is_some(),
    })
}

/// A client just created, with its secret.
pub fn minted_client_json(m: &MintedClient) -> Value {
    json!({
        "clientId": m.client.client_id, "clientSecret": m.secret,
        "accountId": m.client.account_id, "scopes": m.client.scopes,
        "accounts": m.client.accounts,
    })
}

pub async fn create_account(state: &AppState, mut ctx: Ctx) -> Result<Response, ApiError> {
    let (_, fields) = ctx.json_fields().await?;
    let mut r = FieldReader::new(&fields);
    let id = text_field(&mut r, "id");
    let name = text_field(&mut r, "name");
    let request = NewAccountRequest {
        id,
        name,
        problems: r.finish(),
    };
    let acct = state.service.create_account(request).await?;
    created(account_json(state.dates(), &acct))
}

pub async fn list_accounts(state: &AppState, _ctx: Ctx) -> Result<Response, ApiError> {
    let all = state.service.accounts().await?;
    let d = state.dates();
    ok(json!({"items": all.iter().map(|a| account_json(d, a)).collect::<Vec<_>>()}))
}

pub async fn get_account(state: &AppState, ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    ok(account_json(state.dates(), &acct))
}

pub async fn create_client(state: &AppState, mut ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    let (_, fields) = ctx.json_fields().await?;
    let mut r = FieldReader::new(&fields);
    let scopes = strings(&mut r, "scopes");
    let accounts = strings(&mut r, "accounts").unwrap_or_default();
    let request = ClientRequest {
        scopes,
        accounts,
        problems: r.finish(),
    };
    let minted = state.service.create_client(&acct, request).await?;
    created(minted_client_json(&minted))
}

pub async fn list_clients(state: &AppState, ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    let clients = state.service.clients(&acct).await?;
    let d = state.dates();
    ok(json!({"items": clients.iter().map(|c| client_json(d, c)).collect::<Vec<_>>()}))
}

pub async fn revoke_client(state: &AppState, ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    state.service.revoke_client(&acct, ctx.param(1)).await?;
    ok(super::deleted())
}

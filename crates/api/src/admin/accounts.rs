//! Accounts and API clients (API.md §7).

use axum::response::Response;
use domain::FieldReader;
use serde_json::Value;
use service::admin::{ClientRequest, MintedClient, NewAccountRequest};
use store::Account;

use super::{account, created, ok, strings, text_field};
use crate::responses::{self, to_value, AccountList, ClientCreated, ClientList};
use crate::{ApiError, AppState, Ctx, Dates};

/// An account as the CLI prints it (the API's body).
pub fn account_json(d: Dates, a: &Account) -> Value {
    to_value(&responses::Account::new(d, a))
}

/// A client just created, with its secret, as the CLI prints it (the API's body).
pub fn minted_client_json(m: &MintedClient) -> Value {
    to_value(&ClientCreated::new(m))
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
    created(responses::Account::new(state.dates(), &acct))
}

pub async fn list_accounts(state: &AppState, _ctx: Ctx) -> Result<Response, ApiError> {
    let all = state.service.accounts().await?;
    let d = state.dates();
    ok(AccountList {
        items: all.iter().map(|a| responses::Account::new(d, a)).collect(),
    })
}

pub async fn get_account(state: &AppState, ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    ok(responses::Account::new(state.dates(), &acct))
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
    created(ClientCreated::new(&minted))
}

pub async fn list_clients(state: &AppState, ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    let clients = state.service.clients(&acct).await?;
    let d = state.dates();
    ok(ClientList {
        items: clients
            .iter()
            .map(|c| responses::Client::new(d, c))
            .collect(),
    })
}

pub async fn revoke_client(state: &AppState, ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    state.service.revoke_client(&acct, ctx.param(1)).await?;
    ok(super::deleted())
}

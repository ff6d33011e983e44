//! Accounts and API clients (API.md §7).

use axum::response::Response;
use domain::FieldReader;
use serde_json::{json, Value};
use store::{Account, Client, NewAccount, NewClient};

use super::{account, check, created, explicit_id, ok, required, store_err, ts};
use crate::auth::{self, ALL_SCOPES};
use crate::{ApiError, AppState, Ctx};

fn account_json(state: &AppState, a: &Account) -> Value {
    json!({"id": a.id, "name": a.name, "createdDate": ts(state, a.created_at)})
}

fn client_json(state: &AppState, c: &Client) -> Value {
    json!({
        "clientId": c.client_id, "accountId": c.account_id, "scopes": c.scopes,
        "accounts": c.accounts, "createdDate": ts(state, c.created_at),
        "revoked": c.revoked_at.is_some(),
    })
}

pub async fn create_account(state: &AppState, mut ctx: Ctx) -> Result<Response, ApiError> {
    let (_, fields) = ctx.json_fields().await?;
    let mut r = FieldReader::new(&fields);
    let id = explicit_id(&mut r, "Account");
    let name = required(&mut r, "name").map(str::to_string);
    check(r)?;
    let id = id.unwrap_or_else(domain::mint_id);
    let acct = state
        .store
        .create_account(NewAccount {
            id: id.clone(),
            name: name.unwrap_or_default(),
            created_at: state.now(),
        })
        .await
        .map_err(store_err(&format!("Account {id}")))?;
    // Its import and report folders (API.md §6), whichever way the account was created (admin
    // API, console, CLI).
    state.folders.ensure_or_log(&acct.id);
    created(account_json(state, &acct))
}

pub async fn list_accounts(state: &AppState) -> Result<Response, ApiError> {
    let all = state.store.list_accounts().await?;
    ok(json!({"items": all.iter().map(|a| account_json(state, a)).collect::<Vec<_>>()}))
}

pub async fn get_account(state: &AppState, ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    ok(account_json(state, &acct))
}

pub async fn create_client(state: &AppState, mut ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    let (_, fields) = ctx.json_fields().await?;
    let mut r = FieldReader::new(&fields);
    let scopes: Vec<String> = match r.string_array("scopes") {
        None => ALL_SCOPES.iter().map(|s| s.to_string()).collect(),
        Some(given) => {
            for s in &given {
                if !ALL_SCOPES.contains(s) {
                    r.push_error(format!("{s} isn't a valid scope."));
                }
            }
            ALL_SCOPES
                .iter()
                .filter(|s| given.contains(s))
                .map(|s| s.to_string())
                .collect()
        }
    };
    let mut accounts = Vec::new();
    for other in r.string_array("accounts").unwrap_or_default() {
        match state.store.get_account(other).await {
            Ok(a) if a.id != acct.id && !accounts.contains(&a.id) => accounts.push(a.id),
            Ok(_) => {}
            Err(store::StoreError::NotFound) => {
                r.push_error(format!("Account {other} not found."));
            }
            Err(e) => return Err(e.into()),
        }
    }
    check(r)?;
    let client_id = auth::random_alnum(24).to_ascii_lowercase();
    let secret = auth::random_alnum(40);
    // 40 characters of [A-Za-z0-9]: 238 random bits, so a fast keyed hash suffices (API.md §2).
    let secret_hash = auth::hash_secret(&secret)?;
    let client = state
        .store
        .create_client(NewClient {
            client_id,
            secret_hash,
            account_id: acct.id.clone(),
            scopes,
            accounts,
            created_at: state.now(),
        })
        .await?;
    created(json!({
        "clientId": client.client_id, "clientSecret": secret, "accountId": client.account_id,
        "scopes": client.scopes, "accounts": client.accounts,
    }))
}

pub async fn list_clients(state: &AppState, ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    let clients = state.store.list_clients(&acct.id).await?;
    ok(json!({"items": clients.iter().map(|c| client_json(state, c)).collect::<Vec<_>>()}))
}

pub async fn revoke_client(state: &AppState, ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    let client_id = ctx.param(1);
    state
        .store
        .revoke_client(&acct.id, client_id)
        .await
        .map_err(store_err(&format!("Client {client_id}")))?;
    super::deleted()
}

//! Lists and their contacts (API.md §7), including the streamed CSV import.

use std::sync::Arc;

use axum::http::header;
use axum::response::Response;
use domain::FieldReader;
use futures::StreamExt;
use serde_json::{json, Value};
use store::{Attributes, ContactList, ContactRow, NewList, Store, SubscribeTo};

use super::{account, check, created, deleted, explicit_id, ok, required, store_err, ts};
use crate::arrival;
use crate::import::{self, Batcher, ChunkReader, ImportError, ImportReport};
use crate::{ApiError, AppState, Ctx, MAX_CSV_BODY};

/// Most contacts of one JSON import: with their attributes, what one request stores stays
/// within the 2 MiB of API.md §1 (larger lists go by CSV, which is streamed).
pub const MAX_JSON_CONTACTS: usize = 5_000;

fn list_json(state: &AppState, l: &ContactList) -> Value {
    json!({"id": l.id, "name": l.name, "size": l.size, "createdDate": ts(state, l.created_at)})
}

pub async fn create_list(state: &AppState, mut ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    let (_, fields) = ctx.json_fields().await?;
    let mut r = FieldReader::new(&fields);
    let id = explicit_id(&mut r, "List");
    let name = required(&mut r, "name").map(str::to_string);
    check(r)?;
    let id = id.unwrap_or_else(domain::mint_id);
    let list = state
        .store
        .create_list(NewList {
            id: id.clone(),
            account_id: acct.id,
            name: name.unwrap_or_default(),
            created_at: state.now(),
        })
        .await
        .map_err(store_err(&format!("List {id}")))?;
    created(list_json(state, &list))
}

pub async fn list_lists(state: &AppState, ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    let all = state.store.list_lists(&acct.id).await?;
    ok(json!({"items": all.iter().map(|l| list_json(state, l)).collect::<Vec<_>>()}))
}

pub async fn get_list(state: &AppState, ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    let id = ctx.param(1);
    let list = state
        .store
        .get_list(&acct.id, id)
        .await
        .map_err(store_err(&format!("List {id}")))?;
    ok(list_json(state, &list))
}

pub async fn delete_list(state: &AppState, ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    let id = ctx.param(1);
    state
        .store
        .delete_list(&acct.id, id)
        .await
        .map_err(store_err(&format!("List {id}")))?;
    deleted()
}

pub async fn remove_contact(state: &AppState, ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    let (list, number) = (ctx.param(1), ctx.param(2));
    let digits = number.strip_prefix('+').unwrap_or(number);
    state
        .store
        .remove_member(&acct.id, list, digits)
        .await
        .map_err(store_err(&format!("Contact {number} of list {list}")))?;
    deleted()
}

/// Checks that a keyword exists on a code in the account (for the `subscribe` option).
async fn subscribe_target(
    state: &AppState,
    account_id: &str,
    code: &str,
    keyword: &str,
) -> Result<Result<SubscribeTo, String>, ApiError> {
    let code = match state.store.get_code(account_id, code).await {
        Ok(c) => c,
        Err(store::StoreError::NotFound) => return Ok(Err(format!("Code {code} isn't valid."))),
        Err(e) => return Err(e.into()),
    };
    let found = crate::keyword_on_code(state, account_id, &code.code, keyword).await?;
    Ok(match found {
        Some(k) => Ok(SubscribeTo {
            code: code.code,
            keyword: k.keyword,
        }),
        None => Err(format!(
            "Keyword {keyword} isn't valid for the code {}.",
            code.code
        )),
    })
}

fn is_csv(ctx: &Ctx) -> bool {
    ctx.headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            let v = v.trim().to_ascii_lowercase();
            v.starts_with("text/csv") || v.starts_with("application/csv")
        })
        .unwrap_or(false)
}

pub async fn import_contacts(state: &AppState, mut ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    let list_id = ctx.param(1).to_string();
    let list = state
        .store
        .get_list(&acct.id, &list_id)
        .await
        .map_err(store_err(&format!("List {list_id}")))?;
    let report = if is_csv(&ctx) {
        import_csv_body(state, &acct.id, &list.id, &mut ctx).await?
    } else {
        import_json_body(state, &acct.id, &list.id, &mut ctx).await?
    };
    ok(json!(report))
}

async fn import_json_body(
    state: &AppState,
    account_id: &str,
    list_id: &str,
    ctx: &mut Ctx,
) -> Result<ImportReport, ApiError> {
    let (_, fields) = ctx.json_fields().await?;
    let mut r = FieldReader::new(&fields);
    let contacts = match r.any("contacts") {
        Some(domain::Json::Array(items)) if items.len() > MAX_JSON_CONTACTS => {
            r.push_error(format!(
                "The count of contacts can't exceed {MAX_JSON_CONTACTS}."
            ));
            None
        }
        Some(domain::Json::Array(items)) => Some(items),
        Some(_) => {
            r.type_error("contacts must be an array of objects.".into());
            None
        }
        None => {
            r.push_error("contacts is required.".into());
            None
        }
    };
    let mut subscribe = None;
    if let Some(sub) = r.object("subscribe") {
        let mut s = r.nested(sub);
        let code = required(&mut s, "code").map(str::to_string);
        let keyword = required(&mut s, "keyword").map(str::to_string);
        r.absorb(s);
        if let (Some(code), Some(keyword)) = (code, keyword) {
            match subscribe_target(state, account_id, &code, &keyword).await? {
                Ok(to) => subscribe = Some(to),
                Err(message) => r.push_error(message),
            }
        }
    }
    check(r)?;

    let mut rows = Vec::new();
    let mut report = ImportReport::default();
    for (i, item) in contacts.into_iter().flatten().enumerate() {
        let row = i as u64 + 1;
        let domain::Json::Object(obj) = item else {
            report.reject(
                row,
                &item.to_json_text(),
                "A contact must be an object.".into(),
            );
            continue;
        };
        let mut c = FieldReader::new(obj);
        let number = c.string("mobileNumber").map(str::to_string);
        let key = c.string("subscriberKey").map(str::to_string);
        let key_field = c.spelling("subscriberKey").unwrap_or("subscriberKey");
        // In the order given (the map below folds repeated names).
        let given: Vec<(&str, String)> = match c.object("attributes") {
            Some(attrs) => attrs
                .entries()
                .iter()
                .filter_map(|(k, v)| match v {
                    domain::Json::String(s) => Some((k.as_str(), s.clone())),
                    domain::Json::Number(n) => Some((k.as_str(), n.to_string())),
                    domain::Json::Bool(b) => Some((k.as_str(), b.to_string())),
                    _ => None,
                })
                .collect(),
            None => Vec::new(),
        };
        if let Some(first) = c.errors().first() {
            report.reject(row, number.as_deref().unwrap_or(""), first.clone());
            continue;
        }
        // API.md §1 limits: an over-long key or attribute rejects the row, not the import.
        let too_long = domain::limits::contact_messages(
            key_field,
            key.as_deref(),
            given.iter().map(|(k, v)| (*k, v.as_str())),
        );
        if let Some(first) = too_long.into_iter().next() {
            report.reject(row, number.as_deref().unwrap_or(""), first);
            continue;
        }
        let attributes: Attributes = given
            .into_iter()
            .map(|(k, v)| (k.to_string(), Value::String(v)))
            .collect();
        let raw = number.unwrap_or_default();
        match import::parse_number(&raw) {
            Ok(n) => rows.push(ContactRow {
                mobile_number: n.as_str().to_string(),
                subscriber_key: key.filter(|k| !k.trim().is_empty()),
                attributes,
            }),
            Err(reason) => report.reject(row, &raw, reason),
        }
    }
    let now = state.now();
    let store = state.store.clone();
    let (account_id, list_id) = (account_id.to_string(), list_id.to_string());
    let handle = tokio::runtime::Handle::current();
    let written = tokio::task::spawn_blocking(move || {
        let mut sink = |batch: &[ContactRow]| {
            handle.block_on(store.upsert_members(
                &account_id,
                &list_id,
                batch,
                subscribe.as_ref(),
                now,
            ))
        };
        let mut batcher = Batcher::new(&mut sink);
        batcher.report = report;
        for row in rows {
            batcher.push(row)?;
        }
        batcher.finish()
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(written)
}

async fn import_csv_body(
    state: &AppState,
    account_id: &str,
    list_id: &str,
    ctx: &mut Ctx,
) -> Result<ImportReport, ApiError> {
    let subscribe = match (ctx.query("subscribeCode"), ctx.query("subscribeKeyword")) {
        (None, None) => None,
        (Some(code), Some(keyword)) => {
            match subscribe_target(state, account_id, code, keyword).await? {
                Ok(to) => Some(to),
                Err(message) => return Err(ApiError::validation(message)),
            }
        }
        _ => {
            return Err(ApiError::validation(
                "subscribeCode and subscribeKeyword must be given together.",
            ))
        }
    };
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    let store: Arc<dyn Store> = state.store.clone();
    let (account, list) = (account_id.to_string(), list_id.to_string());
    let now = state.now();
    let handle = tokio::runtime::Handle::current();
    let worker = tokio::task::spawn_blocking(move || {
        let mut sink = |batch: &[ContactRow]| {
            handle.block_on(store.upsert_members(&account, &list, batch, subscribe.as_ref(), now))
        };
        import::import_csv(ChunkReader::new(rx), &mut sink, &mut |_, _| {})
    });

    let body = ctx.take_body();
    let mut stream = body.into_data_stream();
    let mut total: u64 = 0;
    let mut too_large = false;
    let mut too_slow = false;
    loop {
        // A streamed upload may pause at most 30 s between bytes (API.md §1).
        let chunk = match arrival::next_within_pause(stream.next()).await {
            None => {
                too_slow = true;
                let _ = tx.send(Err(std::io::Error::other("body too slow"))).await;
                break;
            }
            Some(None) => break,
            Some(Some(chunk)) => chunk,
        };
        let chunk = chunk.map_err(|e| std::io::Error::other(e.to_string()));
        if let Ok(bytes) = &chunk {
            total += bytes.len() as u64;
            if total > MAX_CSV_BODY {
                too_large = true;
                let _ = tx.send(Err(std::io::Error::other("body too large"))).await;
                break;
            }
        }
        if tx.send(chunk).await.is_err() {
            break;
        }
    }
    drop(tx);
    let outcome = worker.await.map_err(ApiError::internal)?;
    if too_large {
        return Err(ApiError::TooLarge);
    }
    if too_slow {
        return Err(ApiError::RequestTimeout);
    }
    match outcome {
        Ok(report) => Ok(report),
        Err(ImportError::File(message)) => Err(ApiError::validation(message)),
        Err(ImportError::Store(e)) => Err(e.into()),
    }
}

fn subscription_json(state: &AppState, s: &store::Subscription) -> Value {
    json!({
        "mobileNumber": s.mobile_number, "code": s.code, "keyword": s.keyword,
        "status": s.status.as_str(),
        "optInDate": s.opt_in_date.map(|t| ts(state, t)),
        "optOutDate": s.opt_out_date.map(|t| ts(state, t)),
    })
}

/// `POST /admin/v1/accounts/{acct}/subscriptions` `{"mobileNumber", "code", "keyword",
/// "status"}`: sets one subscription, as an operator would in the UI.
pub async fn set_subscription(state: &AppState, mut ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    let (_, fields) = ctx.json_fields().await?;
    let mut r = FieldReader::new(&fields);
    let number = required(&mut r, "mobileNumber").map(str::to_string);
    let code = required(&mut r, "code").map(str::to_string);
    let keyword = required(&mut r, "keyword").map(str::to_string);
    let status = match required(&mut r, "status") {
        Some(raw) => {
            let parsed = store::SubscriptionStatus::parse(raw);
            if parsed.is_none() {
                r.push_error(format!("{raw} isn't a valid subscription status."));
            }
            parsed
        }
        None => None,
    };
    let number = match number.as_deref().map(import::parse_number) {
        Some(Ok(n)) => Some(n),
        Some(Err(reason)) => {
            r.push_error(reason);
            None
        }
        None => None,
    };
    let mut target = None;
    if let (Some(code), Some(keyword)) = (&code, &keyword) {
        match subscribe_target(state, &acct.id, code, keyword).await? {
            Ok(to) => target = Some(to),
            Err(message) => r.push_error(message),
        }
    }
    check(r)?;
    let (Some(number), Some(target), Some(status)) = (number, target, status) else {
        return Err(ApiError::internal(
            "validated subscription without its fields",
        ));
    };
    let sub = state
        .store
        .set_subscription(&acct.id, &target, number.as_str(), status, state.now())
        .await?;
    ok(subscription_json(state, &sub))
}

/// `GET /admin/v1/accounts/{acct}/subscriptions?mobileNumber=`: a number's subscriptions.
pub async fn subscriptions(state: &AppState, ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    let raw = ctx.query("mobileNumber").unwrap_or("");
    let number = import::parse_number(raw).map_err(ApiError::validation)?;
    let subs = state
        .store
        .subscriptions_of(&acct.id, number.as_str())
        .await?;
    ok(json!({"items": subs.iter().map(|s| subscription_json(state, s)).collect::<Vec<_>>()}))
}

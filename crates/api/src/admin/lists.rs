//! Lists and their contacts (API.md §7), including the streamed CSV import, and subscriptions.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use axum::http::header;
use axum::response::Response;
use bytes::Bytes;
use domain::FieldReader;
use futures::{Stream, StreamExt};
use serde_json::Value;
use service::admin::{
    ContactEntry, ContactsImport, ListRequest, SubscribeRequest, SubscriptionChange,
};
use service::import::ImportReport;
use service::Field;
use store::ContactList;

use super::{account, created, deleted, ok, text_field};
use crate::responses::{self, to_value, ListList, Subscription, SubscriptionList};
use crate::{arrival, ApiError, AppState, Ctx, Dates, MAX_CSV_BODY};

/// A list as the CLI prints it (the API's body).
pub fn list_json(d: Dates, l: &ContactList) -> Value {
    to_value(&responses::List::new(d, l))
}

/// An import's report as the CLI prints it (the API's body).
pub fn import_report_json(report: &ImportReport) -> Value {
    to_value(&responses::ImportReport::from(report))
}

pub async fn create_list(state: &AppState, mut ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    let (_, fields) = ctx.json_fields().await?;
    let mut r = FieldReader::new(&fields);
    let id = text_field(&mut r, "id");
    let name = text_field(&mut r, "name");
    let request = ListRequest {
        id,
        name,
        problems: r.finish(),
    };
    let list = state.service.create_list(&acct, request).await?;
    created(responses::List::new(state.dates(), &list))
}

pub async fn list_lists(state: &AppState, ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    let all = state.service.lists(&acct).await?;
    let d = state.dates();
    ok(ListList {
        items: all.iter().map(|l| responses::List::new(d, l)).collect(),
    })
}

pub async fn get_list(state: &AppState, ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    let list = state.service.list(&acct, ctx.param(1)).await?;
    ok(responses::List::new(state.dates(), &list))
}

pub async fn delete_list(state: &AppState, ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    state.service.delete_list(&acct, ctx.param(1)).await?;
    ok(deleted())
}

pub async fn remove_contact(state: &AppState, ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    state
        .service
        .remove_contact(&acct, ctx.param(1), ctx.param(2))
        .await?;
    ok(deleted())
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
    let list = state.service.list(&acct, ctx.param(1)).await?;
    let report = if is_csv(&ctx) {
        let subscribe = csv_subscription(state, &acct.id, &ctx).await?;
        let body = ctx.take_body().into_data_stream();
        import_csv_stream(&state.service, &acct, &list, subscribe, body).await?
    } else {
        let (_, fields) = ctx.json_fields().await?;
        let request = read_contacts(&fields);
        state.service.import_contacts(&acct, &list, request).await?
    };
    ok(responses::ImportReport::from(&report))
}

/// The JSON import body: `contacts` and the optional `subscribe` object.
fn read_contacts(fields: &domain::Fields) -> ContactsImport {
    let mut r = FieldReader::new(fields);
    let contacts = match r.any("contacts") {
        Some(domain::Json::Array(items)) => Field::Given(items.iter().map(contact_entry).collect()),
        Some(_) => {
            r.type_error("contacts must be an array of objects.".into());
            Field::Unreadable
        }
        None => Field::Absent,
    };
    let subscribe = r.object("subscribe").map(|sub| {
        let mut s = r.nested(sub);
        let request = SubscribeRequest {
            code: text_field(&mut s, "code"),
            keyword: text_field(&mut s, "keyword"),
        };
        r.absorb(s);
        request
    });
    ContactsImport {
        contacts,
        subscribe,
        problems: r.finish(),
    }
}

/// One entry of `contacts`: a number, a subscriber key and attributes (strings, numbers and
/// booleans, as text), or why it cannot be read.
fn contact_entry(item: &domain::Json) -> ContactEntry {
    let domain::Json::Object(obj) = item else {
        return ContactEntry::Unreadable {
            value: item.to_json_text(),
            reason: "A contact must be an object.".into(),
        };
    };
    let mut c = FieldReader::new(obj);
    let number = c.string("mobileNumber").map(str::to_string);
    let key = c.string("subscriberKey").map(str::to_string);
    let key_field = c
        .spelling("subscriberKey")
        .unwrap_or("subscriberKey")
        .to_string();
    // In the order given (the stored map folds repeated names).
    let attributes: Vec<(String, String)> = match c.object("attributes") {
        Some(attrs) => attrs
            .entries()
            .iter()
            .filter_map(|(k, v)| match v {
                domain::Json::String(s) => Some((k.clone(), s.clone())),
                domain::Json::Number(n) => Some((k.clone(), n.to_string())),
                domain::Json::Bool(b) => Some((k.clone(), b.to_string())),
                _ => None,
            })
            .collect(),
        None => Vec::new(),
    };
    if let Some(first) = c.errors().first() {
        return ContactEntry::Unreadable {
            value: number.unwrap_or_default(),
            reason: first.clone(),
        };
    }
    ContactEntry::Given {
        mobile_number: number,
        subscriber_key: key,
        key_field,
        attributes,
    }
}

/// `subscribeCode` and `subscribeKeyword` of a CSV import: both or neither.
async fn csv_subscription(
    state: &AppState,
    account_id: &str,
    ctx: &Ctx,
) -> Result<Option<store::SubscribeTo>, ApiError> {
    match (ctx.query("subscribeCode"), ctx.query("subscribeKeyword")) {
        (None, None) => Ok(None),
        (Some(code), Some(keyword)) => {
            match state
                .service
                .subscribe_target(account_id, code, keyword)
                .await?
            {
                Ok(to) => Ok(Some(to)),
                Err(message) => Err(ApiError::validation(message)),
            }
        }
        _ => Err(ApiError::validation(
            "subscribeCode and subscribeKeyword must be given together.",
        )),
    }
}

/// Why an upload was cut off.
const WHOLE: u8 = 0;
const TOO_LARGE: u8 = 1;
const TOO_SLOW: u8 = 2;

/// Imports a streamed CSV upload, holding it to API.md §1: at most [`MAX_CSV_BODY`] bytes (413)
/// and no pause over 30 s between bytes (408). The console's upload goes through here too.
pub async fn import_csv_stream<S, E>(
    service: &service::Service,
    account: &store::Account,
    list: &ContactList,
    subscribe: Option<store::SubscribeTo>,
    body: S,
) -> Result<ImportReport, ApiError>
where
    S: Stream<Item = Result<Bytes, E>> + Send + 'static,
    E: std::fmt::Display,
{
    let cut = Arc::new(AtomicU8::new(WHOLE));
    let seen = cut.clone();
    let chunks = futures::stream::unfold(
        (Box::pin(body), 0u64, false),
        move |(mut body, total, ended)| {
            let seen = seen.clone();
            async move {
                if ended {
                    return None;
                }
                let chunk = match arrival::next_within_pause(body.next()).await {
                    None => {
                        seen.store(TOO_SLOW, Ordering::SeqCst);
                        return Some((
                            Err(std::io::Error::other("body too slow")),
                            (body, total, true),
                        ));
                    }
                    Some(None) => return None,
                    Some(Some(chunk)) => chunk,
                };
                match chunk {
                    Ok(bytes) => {
                        let total = total + bytes.len() as u64;
                        if total > MAX_CSV_BODY {
                            seen.store(TOO_LARGE, Ordering::SeqCst);
                            return Some((
                                Err(std::io::Error::other("body too large")),
                                (body, total, true),
                            ));
                        }
                        Some((Ok(bytes), (body, total, false)))
                    }
                    Err(e) => Some((
                        Err(std::io::Error::other(e.to_string())),
                        (body, total, true),
                    )),
                }
            }
        },
    );
    let outcome = service
        .import_contacts_csv(account, list, subscribe, chunks)
        .await;
    match cut.load(Ordering::SeqCst) {
        TOO_LARGE => Err(ApiError::TooLarge),
        TOO_SLOW => Err(ApiError::RequestTimeout),
        _ => outcome.map_err(ApiError::from),
    }
}

/// `POST /admin/v1/accounts/{acct}/subscriptions` `{"mobileNumber", "code", "keyword",
/// "status"}`.
pub async fn set_subscription(state: &AppState, mut ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    let (_, fields) = ctx.json_fields().await?;
    let mut r = FieldReader::new(&fields);
    let mut change = SubscriptionChange {
        mobile_number: text_field(&mut r, "mobileNumber"),
        code: text_field(&mut r, "code"),
        keyword: text_field(&mut r, "keyword"),
        status: text_field(&mut r, "status"),
        problems: Vec::new(),
    };
    change.problems = r.finish();
    let sub = state.service.set_subscription(&acct, change).await?;
    ok(Subscription::new(state.dates(), &sub))
}

/// `GET /admin/v1/accounts/{acct}/subscriptions?mobileNumber=`.
pub async fn subscriptions(state: &AppState, ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    let number = ctx.query("mobileNumber").unwrap_or("");
    let subs = state.service.number_subscriptions(&acct, number).await?;
    let d = state.dates();
    ok(SubscriptionList {
        items: subs.iter().map(|s| Subscription::new(d, s)).collect(),
    })
}

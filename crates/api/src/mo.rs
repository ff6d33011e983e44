//! Inbound texts and what they act on (API.md §6): `POST /sms/v1/queueMO` with its deliveries
//! and history, keywords (`POST /sms/v1/keyword` and the four delete forms) and
//! `POST /sms/v1/contacts/subscriptions`.

use axum::http::StatusCode;
use axum::response::Response;
use domain::{FieldReader, QueueMoRequest};
use service::{
    KeywordRequest, KeywordToDelete, QueuedMo, SubscriptionsFound, SubscriptionsRequest,
};
use store::{HistoryEntry, Send};

use crate::auth::Caller;
use crate::message_list::paging;
use crate::responses::{
    KeywordCreated, KeywordDeleted, MoHistory, MoHistoryEntry, MoSendStatus, QueueMoAccepted,
    QueueMoResult, SubscriptionLookup, SubscriptionLookupContact, Timestamp,
};
use crate::{json_response, ApiError, AppState, Ctx, Dates};

pub fn queued_mo(queued: &QueuedMo) -> QueueMoAccepted {
    let results = queued
        .addressees
        .iter()
        .map(|a| QueueMoResult {
            identifier: a
                .subscriber_key
                .clone()
                .unwrap_or_else(|| a.mobile_number.to_string()),
            mobile_number: a.mobile_number.as_str().to_string(),
            result: "OK",
        })
        .collect();
    QueueMoAccepted {
        results,
        token_id: queued.token.clone(),
    }
}

/// The history document of a queueMO call (API.md §6): every text, with its number.
pub fn mo_history(d: Dates, send: &Send, entries: &[HistoryEntry]) -> MoHistory {
    let history: Vec<MoHistoryEntry> = entries
        .iter()
        .map(|e| MoHistoryEntry {
            date: Timestamp::at(d, e.at),
            message: e.text.clone(),
            mobile_number: e.mobile_number.clone(),
            direction: e.direction.into(),
        })
        .collect();
    MoHistory {
        count: history.len(),
        create_date: Timestamp::at(d, send.created_at),
        history,
        status: "Active",
    }
}

pub async fn queue_mo(
    state: &AppState,
    caller: &Caller,
    mut ctx: Ctx,
) -> Result<Response, ApiError> {
    let (_, fields) = ctx.json_fields().await?;
    let request = QueueMoRequest::from_fields(&fields);
    let queued = state.service.queue_mo(caller, &request).await?;
    Ok(json_response(StatusCode::ACCEPTED, &queued_mo(&queued)))
}

pub async fn deliveries(state: &AppState, caller: &Caller, ctx: Ctx) -> Result<Response, ApiError> {
    let mut page_errors = Vec::new();
    let page = paging(&ctx, &mut page_errors);
    let send = state
        .service
        .mo_send(caller, ctx.param(0), page_errors)
        .await?;
    let report = state.service.send_report(send, page).await?;
    // One entry per reply: the replies are the send's recipients; there is no stored message.
    Ok(json_response(
        StatusCode::OK,
        &MoSendStatus::new(state.dates(), &report),
    ))
}

pub async fn history(state: &AppState, caller: &Caller, ctx: Ctx) -> Result<Response, ApiError> {
    let (send, entries) = state.service.mo_history(caller, ctx.param(0)).await?;
    Ok(json_response(
        StatusCode::OK,
        &mo_history(state.dates(), &send, &entries),
    ))
}

/// `POST /sms/v1/keyword` `{"ShortCode"|"LongCode", "CountryCode", "Keyword"}` → 202
/// `{"keywordId", "KeywordId"}`: an opt-in keyword on one of the account's codes.
pub async fn create_keyword(
    state: &AppState,
    caller: &Caller,
    mut ctx: Ctx,
) -> Result<Response, ApiError> {
    let (_, fields) = ctx.json_fields().await?;
    let request = keyword_request(&fields);
    let id = state.service.create_opt_in_keyword(caller, request).await?;
    Ok(json_response(
        StatusCode::ACCEPTED,
        &KeywordCreated::new(id),
    ))
}

/// A keyword request's fields (`ShortCode`, `LongCode`, `CountryCode`, `Keyword`).
fn keyword_request(fields: &domain::Fields) -> KeywordRequest {
    let mut r = FieldReader::new(fields);
    let mut request = KeywordRequest {
        short_code: r.string("ShortCode").map(str::to_string),
        long_code: r.string("LongCode").map(str::to_string),
        country_code: r.string("CountryCode").map(str::to_string),
        keyword: r.string("Keyword").map(str::to_string),
        problems: Vec::new(),
    };
    request.problems = r.finish();
    request
}

/// Deletes what `target` names → 202 with both status keys (API.md §6).
async fn delete(
    state: &AppState,
    caller: &Caller,
    target: KeywordToDelete,
) -> Result<Response, ApiError> {
    let id = state.service.delete_opt_in_keyword(caller, target).await?;
    Ok(json_response(
        StatusCode::ACCEPTED,
        &KeywordDeleted::new(&id),
    ))
}

/// `DELETE /sms/v1/keyword/{keywordId}`.
pub async fn delete_keyword(
    state: &AppState,
    caller: &Caller,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    delete(state, caller, KeywordToDelete::Id(ctx.param(0).to_string())).await
}

/// `DELETE /sms/v1/keyword/{keyword}/{longCode}` (a body, if any, is not read: path values win).
pub async fn delete_keyword_on_long_code(
    state: &AppState,
    caller: &Caller,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    delete(state, caller, on_code_in_path(&ctx, false)).await
}

/// `DELETE /sms/v1/keyword/{keyword}/{shortCode}/{countryCode}`.
pub async fn delete_keyword_on_short_code(
    state: &AppState,
    caller: &Caller,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    delete(state, caller, on_code_in_path(&ctx, true)).await
}

/// The keyword and code the path names: `{keyword}/{longCode}`, or with `short`
/// `{keyword}/{shortCode}/{countryCode}`.
fn on_code_in_path(ctx: &Ctx, short: bool) -> KeywordToDelete {
    let param = |i: usize| Some(ctx.param(i).to_string());
    let (short_code, long_code, country_code) = if short {
        (param(1), None, param(2))
    } else {
        (None, param(1), None)
    };
    KeywordToDelete::Word(KeywordRequest {
        keyword: param(0),
        short_code,
        long_code,
        country_code,
        problems: Vec::new(),
    })
}

/// The documented bare `DELETE /sms/v1/keyword` with a JSON body `{"Keyword", "LongCode"}` or
/// `{"Keyword", "ShortCode", "CountryCode"}`.
pub async fn delete_keyword_in_body(
    state: &AppState,
    caller: &Caller,
    mut ctx: Ctx,
) -> Result<Response, ApiError> {
    let (_, fields) = ctx.json_fields().await?;
    delete(
        state,
        caller,
        KeywordToDelete::Word(keyword_request(&fields)),
    )
    .await
}

pub fn subscription_lookup(d: Dates, found: &SubscriptionsFound) -> SubscriptionLookup {
    let contacts: Vec<SubscriptionLookupContact> = found
        .subscriptions
        .iter()
        .map(|s| SubscriptionLookupContact {
            keyword: s.keyword.clone(),
            mobile_number: s.mobile_number.clone(),
            opt_in_date: s.opt_in_date.map(|t| Timestamp::at(d, t)),
            opt_out_date: s.opt_out_date.map(|t| Timestamp::at(d, t)),
            short_code: s.code.clone(),
            status: s.status.as_str(),
        })
        .collect();
    SubscriptionLookup {
        complete_date: Timestamp::at(d, found.completed_at),
        count: contacts.len().to_string(),
        contacts,
        create_date: Timestamp::at(d, found.started_at),
    }
}

/// `POST /sms/v1/contacts/subscriptions` `{"mobileNumber": [...]}` or
/// `{"subscriberKey": [...]}`: every subscription of those numbers in the account.
pub async fn subscriptions(
    state: &AppState,
    caller: &Caller,
    mut ctx: Ctx,
) -> Result<Response, ApiError> {
    let (_, fields) = ctx.json_fields().await?;
    let mut r = FieldReader::new(&fields);
    let strings = |v: Vec<&str>| v.into_iter().map(str::to_string).collect::<Vec<_>>();
    let mut request = SubscriptionsRequest {
        mobile_numbers: r.string_array("mobileNumber").map(strings),
        subscriber_keys: r.string_array("subscriberKey").map(strings),
        problems: Vec::new(),
    };
    request.problems = r.finish();
    let found = state.service.subscriptions(caller, request).await?;
    Ok(json_response(
        StatusCode::OK,
        &subscription_lookup(state.dates(), &found),
    ))
}

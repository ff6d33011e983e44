//! Inbound texts and what they act on (API.md §6): `POST /sms/v1/queueMO` with its deliveries
//! and history, keywords (`POST /sms/v1/keyword`, `DELETE /sms/v1/keyword/{id}`) and
//! `POST /sms/v1/contacts/subscriptions`. Keyword handling itself is the engine's.

use axum::http::StatusCode;
use axum::response::Response;
use domain::{is_blank, EncodedId, FieldReader, QueueMoRequest, TokenId};
use serde_json::{json, Value};
use store::{Direction, NewKeyword, Send, SendKind, StoreError};

use crate::auth::Caller;
use crate::message_list::{paging, status_body};
use crate::{json_response, ApiError, AppState, Ctx};

pub async fn queue_mo(
    state: &AppState,
    caller: &Caller,
    mut ctx: Ctx,
) -> Result<Response, ApiError> {
    let (_, fields) = ctx.json_fields().await?;
    let request = QueueMoRequest::from_fields(&fields);
    let code = match request.short_code() {
        Some(c) => match state.store.get_code(&caller.account_id, c).await {
            // Only a code string names a code here, not its ID.
            Ok(code) if code.code.eq_ignore_ascii_case(c) => Some(code),
            Ok(_) | Err(StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    let valid = request
        .validate(code.is_some())
        .map_err(ApiError::Validation)?;
    let (Some(code), Some(engine)) = (code, state.engine.as_ref()) else {
        return Err(ApiError::internal("queueMO without a code or an engine"));
    };
    let numbers: Vec<String> = valid
        .addressees
        .iter()
        .map(|a| a.mobile_number.as_str().to_string())
        .collect();
    let token = engine
        .queue_mo(
            &code,
            &numbers,
            &valid.message_text,
            Some(caller.client_id.clone()),
        )
        .await?;
    let results: Vec<Value> = valid
        .addressees
        .iter()
        .map(|a| {
            json!({
                "identifier": a.subscriber_key.clone().unwrap_or_else(|| a.mobile_number.to_string()),
                "mobileNumber": a.mobile_number.as_str(),
                "result": "OK",
            })
        })
        .collect();
    Ok(json_response(
        StatusCode::ACCEPTED,
        &json!({"tokenId": token, "results": results}),
    ))
}

/// The queueMO send named by the last path parameter (API.md §5's token rows).
async fn mo_send(
    state: &AppState,
    caller: &Caller,
    token: &str,
    extra: Vec<String>,
) -> Result<Send, ApiError> {
    let mut errors = Vec::new();
    if TokenId::parse(token).is_none() {
        errors.push(format!("Token id {token} isn't valid."));
    }
    errors.extend(extra);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    match state.store.get_send(&caller.account_id, token).await {
        Ok(s) if s.kind == SendKind::Mo => Ok(s),
        Ok(_) | Err(StoreError::NotFound) => Err(ApiError::validation(format!(
            "Token id {token} isn't valid for this client."
        ))),
        Err(e) => Err(e.into()),
    }
}

pub async fn deliveries(state: &AppState, caller: &Caller, ctx: Ctx) -> Result<Response, ApiError> {
    let mut page_errors = Vec::new();
    let (page, page_size) = paging(&ctx, &mut page_errors);
    let send = mo_send(state, caller, ctx.param(0), page_errors).await?;
    let mut body = status_body(state, &send, page, page_size).await?;
    // One entry per reply: the replies are the send's recipients; there is no stored message.
    if let Some(obj) = body.as_object_mut() {
        obj.remove("message");
    }
    Ok(json_response(StatusCode::OK, &body))
}

pub async fn history(state: &AppState, caller: &Caller, ctx: Ctx) -> Result<Response, ApiError> {
    let send = mo_send(state, caller, ctx.param(0), Vec::new()).await?;
    let entries = state
        .store
        .history(&caller.account_id, &send.token, None)
        .await?;
    let history: Vec<Value> = entries
        .iter()
        .map(|e| {
            json!({
                "type": match e.direction { Direction::Mo => "MO", Direction::Mt => "MT" },
                "mobileNumber": e.mobile_number,
                "message": e.text,
                "date": state.timestamp(e.at),
            })
        })
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "count": history.len(),
            "createDate": state.timestamp(send.created_at),
            "status": "Active",
            "history": history,
        }),
    ))
}

/// `POST /sms/v1/keyword` `{"ShortCode"|"LongCode", "CountryCode", "Keyword"}` → 202
/// `{"keywordId"}`: an opt-in keyword on one of the account's codes.
pub async fn create_keyword(
    state: &AppState,
    caller: &Caller,
    mut ctx: Ctx,
) -> Result<Response, ApiError> {
    let (_, fields) = ctx.json_fields().await?;
    let mut r = FieldReader::new(&fields);
    let short = r
        .string("ShortCode")
        .filter(|c| !is_blank(c))
        .map(str::to_string);
    let long = r
        .string("LongCode")
        .filter(|c| !is_blank(c))
        .map(str::to_string);
    let country = r
        .string("CountryCode")
        .filter(|c| !is_blank(c))
        .map(str::to_string);
    let keyword = r.string("Keyword").map(str::to_string);
    let mut errors = r.finish();
    let given = match (&short, &long) {
        (None, None) => {
            errors.push("A short code or a long code must be specified.".to_string());
            None
        }
        (Some(_), Some(_)) => {
            errors.push(
                "A short code and a long code can't be specified at the same time.".to_string(),
            );
            None
        }
        (Some(c), None) => Some(("Short code", "short", c)),
        (None, Some(c)) => Some(("Long code", "long", c)),
    };
    let mut code = None;
    if let Some((label, kind, c)) = given {
        match state.store.get_code(&caller.account_id, c).await {
            Ok(found) if found.code.eq_ignore_ascii_case(c) && found.kind == kind => {
                if country
                    .as_deref()
                    .is_some_and(|cc| !cc.trim().eq_ignore_ascii_case(&found.country_code))
                {
                    errors.push(format!(
                        "Country code {} isn't valid for {label} {c}.",
                        country.as_deref().unwrap_or_default()
                    ));
                } else {
                    code = Some(found);
                }
            }
            Ok(_) | Err(StoreError::NotFound) => {
                errors.push(format!("{label} {c} isn't valid for the client."))
            }
            Err(e) => return Err(e.into()),
        }
    }
    let word = keyword.as_deref().map(str::trim).filter(|k| !k.is_empty());
    match word {
        None => errors.push("Keyword can't be blank.".to_string()),
        Some(k) if k.split_whitespace().count() != 1 => {
            errors.push(format!("Keyword {k} must be a single word."))
        }
        Some(k) if engine::keywords::is_reserved(k) => {
            errors.push(format!("Keyword {k} is reserved."))
        }
        Some(_) => {}
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let (Some(code), Some(word)) = (code, word) else {
        return Err(ApiError::internal("validated keyword without its code"));
    };
    let created = state
        .store
        .create_keyword(NewKeyword {
            id: domain::mint_id(),
            account_id: caller.account_id.clone(),
            code: code.code.clone(),
            keyword: word.to_string(),
            response: None,
            double_opt_in: false,
            confirm_text: None,
            created_at: state.now(),
        })
        .await;
    match created {
        Ok(k) => Ok(json_response(
            StatusCode::ACCEPTED,
            &json!({"keywordId": k.id}),
        )),
        Err(StoreError::Conflict(_)) => Err(ApiError::Conflict(format!(
            "Keyword {word} already exists on code {}.",
            code.code
        ))),
        Err(e) => Err(e.into()),
    }
}

/// `DELETE /sms/v1/keyword/{keywordId}` → 202 `{"status": "Success"}`.
pub async fn delete_keyword(
    state: &AppState,
    caller: &Caller,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    let id = ctx.param(0);
    if EncodedId::parse(id).is_none() {
        return Err(ApiError::validation(format!(
            "Keyword id {id} isn't valid."
        )));
    }
    match state.store.delete_keyword(&caller.account_id, id).await {
        Ok(()) => Ok(json_response(
            StatusCode::ACCEPTED,
            &json!({"status": "Success"}),
        )),
        Err(StoreError::NotFound) => Err(ApiError::validation(format!(
            "Keyword {id} isn't valid for the client."
        ))),
        Err(e) => Err(e.into()),
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
    let numbers = r
        .string_array("mobileNumber")
        .map(|v| v.into_iter().map(str::to_string).collect::<Vec<_>>());
    let keys = r
        .string_array("subscriberKey")
        .map(|v| v.into_iter().map(str::to_string).collect::<Vec<_>>());
    let mut errors = r.finish();
    let count = numbers.as_ref().map_or(0, Vec::len) + keys.as_ref().map_or(0, Vec::len);
    if count == 0 {
        errors.push("The count of mobile numbers or subscriber keys can't be zero.".to_string());
    }
    if numbers.is_some() && keys.is_some() {
        errors.push(
            "An array of mobile numbers and an array of subscriber keys can't be provided at the same time."
                .to_string(),
        );
    }
    let given: Vec<&str> = numbers.iter().flatten().map(String::as_str).collect();
    let mut parsed: Vec<String> = domain::send_contact::parse_numbers(&given, &mut errors)
        .into_iter()
        .flatten()
        .map(|n| n.as_str().to_string())
        .collect();
    if numbers.as_ref().map_or(0, Vec::len) > domain::send_contact::MAX_NUMBERS
        || keys.as_ref().map_or(0, Vec::len) > domain::send_contact::MAX_NUMBERS
    {
        errors.push("The count of mobile numbers or subscriber keys can't exceed 250.".to_string());
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    for key in keys.unwrap_or_default() {
        for n in state
            .store
            .numbers_of_subscriber_key(&caller.account_id, &key)
            .await?
        {
            parsed.push(n);
        }
    }
    let now = state.now();
    let mut contacts = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for number in parsed {
        if seen.contains(&number) {
            continue;
        }
        for s in state
            .store
            .subscriptions_of(&caller.account_id, &number)
            .await?
        {
            contacts.push(json!({
                "mobileNumber": s.mobile_number,
                "shortCode": s.code,
                "keyword": s.keyword,
                "optInDate": s.opt_in_date.map(|t| state.timestamp(t)),
                "optOutDate": s.opt_out_date.map(|t| state.timestamp(t)),
                "status": s.status.as_str(),
            }));
        }
        seen.push(number);
    }
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "count": contacts.len().to_string(),
            "createDate": state.timestamp(now),
            "completeDate": state.timestamp(state.now()),
            "contacts": contacts,
        }),
    ))
}

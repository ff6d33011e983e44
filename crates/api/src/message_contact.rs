//! `POST /sms/v1/messageContact/{id}/send`, its deliveries and its history (API.md §6).

use std::collections::{HashMap, HashSet};

use axum::http::StatusCode;
use axum::response::Response;
use domain::{ContactMessageFacts, SendContactRequest};
use serde_json::json;
use store::{
    ContactAudience, ContactNumber, ContactSubscribe, Direction, Idempotency, NewSend, SendKind,
};

use crate::auth::Caller;
use crate::message_list::{
    answer, fingerprint, idempotency_key, paging, path_message, replay, resolve_delivery, schedule,
    status_body,
};
use crate::{json_response, ApiError, AppState, Ctx};

pub async fn send(state: &AppState, caller: &Caller, mut ctx: Ctx) -> Result<Response, ApiError> {
    let (body, fields) = ctx.json_fields().await?;
    let key = idempotency_key(&ctx)?;
    let request_hash = fingerprint(&ctx.path_key, &body);
    if let Some(earlier) = replay(state, caller, key.as_ref(), &request_hash).await? {
        return Ok(earlier);
    }
    let request = SendContactRequest::from_fields(&fields);
    let path_id = ctx.param(0).to_string();
    let message = path_message(state, &caller.account_id, &path_id).await?;
    let keyword = match (&message, request.keyword()) {
        (Some(m), Some(k)) => crate::keyword_on_code(state, &caller.account_id, &m.code, k).await?,
        _ => None,
    };
    let facts = message.as_ref().map(|m| ContactMessageFacts {
        can_send: m.status.can_send(),
        text_is_blank: m.text.trim().is_empty(),
        keyword_on_code: keyword.is_some(),
    });
    let valid = request
        .validate(&path_id, facts)
        .map_err(ApiError::Validation)?;
    let Some(message) = message else {
        return Err(ApiError::internal("validated send without a message"));
    };

    let template = valid
        .override_text
        .clone()
        .unwrap_or_else(|| message.text.clone());
    // Placeholders take the request's attributes, then the contact's (API.md §4.3): the stored
    // contacts are read in one go, only when the text has placeholders.
    let mut stored: HashMap<String, store::Attributes> = HashMap::new();
    if template.contains("%%") {
        let wanted: Vec<String> = valid
            .addressees
            .iter()
            .map(|a| a.mobile_number.as_str().to_string())
            .collect();
        for c in state.store.contacts_of(&caller.account_id, &wanted).await? {
            stored.insert(c.mobile_number, c.attributes);
        }
    }
    let mut seen: HashSet<&str> = HashSet::new();
    let mut numbers: Vec<ContactNumber> = Vec::with_capacity(valid.addressees.len());
    for a in &valid.addressees {
        let number = a.mobile_number.as_str();
        if !seen.insert(number) {
            continue;
        }
        let stored = stored.get(number);
        // Rendered once, here, at acceptance. Over 1,600 characters (API.md §1): no text is
        // kept; the number becomes a 1501 recipient and is never sent.
        let text = domain::substitute_within(
            &template,
            &|name| {
                a.attributes
                    .iter()
                    .chain(stored)
                    .flat_map(|attrs| attrs.iter())
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| match v {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
            },
            domain::limits::MAX_TEXT_CHARS,
        );
        numbers.push(ContactNumber {
            mobile_number: number.to_string(),
            subscriber_key: a.subscriber_key.clone(),
            text,
        });
    }
    let subscribe = keyword
        .filter(|_| valid.subscribe || valid.resubscribe)
        .map(|k| ContactSubscribe {
            keyword: k.keyword,
            subscribe: valid.subscribe,
            resubscribe: valid.resubscribe,
        });

    let info = domain::text::analyze(&template);
    let now = state.now();
    let (window, due_at) = schedule(valid.window, valid.send_time, now);
    let created = state
        .store
        .create_contact_send(
            NewSend {
                token: domain::mint_token(),
                account_id: caller.account_id.clone(),
                client_id: Some(caller.client_id.clone()),
                kind: SendKind::Contact,
                message_id: message.id.clone(),
                code: message.code.clone(),
                text: template,
                content_url: valid
                    .content_url
                    .clone()
                    .or_else(|| message.content_url.clone()),
                target_list_ids: Vec::new(),
                exclusion_list_ids: Vec::new(),
                allow_duplication: false,
                window,
                send_time: valid.send_time,
                due_at,
                segments: i32::try_from(info.segments).unwrap_or(i32::MAX),
                encoding: info.encoding.as_str().to_string(),
                created_at: now,
                idempotency: key.map(|key| Idempotency {
                    client_id: caller.client_id.clone(),
                    key,
                    request_hash: request_hash.clone(),
                }),
            },
            ContactAudience { numbers, subscribe },
        )
        .await?;
    answer(state, created, &request_hash)
}

pub async fn deliveries(state: &AppState, caller: &Caller, ctx: Ctx) -> Result<Response, ApiError> {
    let mut page_errors = Vec::new();
    let (page, page_size) = paging(&ctx, &mut page_errors);
    let send = resolve_delivery(state, caller, &ctx, SendKind::Contact, page_errors).await?;
    Ok(json_response(
        StatusCode::OK,
        &status_body(state, &send, page, page_size).await?,
    ))
}

/// `GET /sms/v1/messageContact/{id}/history/{tokenId}/mobileNumber/{mobileNumber}`: what the
/// send texted the number and, since, what the number texted the code and the replies it got.
pub async fn history(state: &AppState, caller: &Caller, ctx: Ctx) -> Result<Response, ApiError> {
    let raw = ctx.param(2).to_string();
    let number = domain::MobileNumber::parse(&raw);
    let extra = match &number {
        Ok(_) => Vec::new(),
        Err(e) => vec![e.message(&raw)],
    };
    let send = resolve_delivery(state, caller, &ctx, SendKind::Contact, extra).await?;
    let number = number.map_err(|e| ApiError::validation(e.message(&raw)))?;
    let entries = state
        .store
        .history(&caller.account_id, &send.token, Some(number.as_str()))
        .await?;
    let history: Vec<serde_json::Value> = entries
        .iter()
        .map(|e| {
            json!({
                "type": match e.direction { Direction::Mo => "MO", Direction::Mt => "MT" },
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

//! Codes, keywords and messages (API.md §7).

use axum::response::Response;
use domain::{ContentUrl, EncodedId, FieldReader};
use serde_json::{json, Value};
use store::{
    Code, CodePatch, Keyword, KeywordPatch, Message, MessagePatch, MessageStatus, NewCode,
    NewKeyword, NewMessage,
};

use super::{account, check, created, deleted, explicit_id, ok, required, store_err, ts};
use crate::{ApiError, AppState, Ctx};

/// Default texts of a code when none are configured (carriers require both to exist); the
/// engine replies with them (API.md §6 keywords).
pub use engine::keywords::{DEFAULT_HELP_TEXT, DEFAULT_OPT_OUT_TEXT};

fn code_json(state: &AppState, c: &Code) -> Value {
    json!({
        "id": c.id, "code": c.code, "countryCode": c.country_code, "type": c.kind,
        "carrier": c.carrier,
        "optOutText": c.opt_out_text.as_deref().unwrap_or(DEFAULT_OPT_OUT_TEXT),
        "helpText": c.help_text.as_deref().unwrap_or(DEFAULT_HELP_TEXT),
        "createdDate": ts(state, c.created_at),
    })
}

fn keyword_json(state: &AppState, k: &Keyword) -> Value {
    json!({
        "id": k.id, "code": k.code, "keyword": k.keyword, "response": k.response,
        "doubleOptIn": k.double_opt_in, "confirmText": k.confirm_text,
        "createdDate": ts(state, k.created_at),
    })
}

fn message_json(state: &AppState, m: &Message) -> Value {
    json!({
        "id": m.id, "name": m.name, "code": m.code, "text": m.text, "status": m.status.as_str(),
        "targetListIds": m.target_list_ids, "exclusionListIds": m.exclusion_list_ids,
        "contentUrl": m.content_url, "createdDate": ts(state, m.created_at),
        "modifiedDate": ts(state, m.updated_at),
    })
}

/// The API.md §1 text limit for the admin field `field`, named as the admin API names it.
fn check_text(r: &mut FieldReader<'_>, field: &str, text: Option<&str>) {
    if let Some(m) = text.and_then(|t| domain::limits::check_text(field, t)) {
        r.push_error(m);
    }
}

fn valid_code(code: &str) -> bool {
    (3..=15).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric())
}

pub async fn create_code(state: &AppState, mut ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    let (_, fields) = ctx.json_fields().await?;
    let mut r = FieldReader::new(&fields);
    let code = required(&mut r, "code").map(str::to_string);
    if let Some(c) = code.as_deref().filter(|c| !valid_code(c)) {
        r.push_error(format!("Code {c} isn't valid."));
    }
    let country_code = r.string("countryCode").unwrap_or("US").to_string();
    let kind = r.string("type").unwrap_or("short").to_ascii_lowercase();
    if kind != "short" && kind != "long" {
        r.push_error(format!("{kind} isn't a valid code type."));
    }
    let carrier = r.string("carrier").unwrap_or("simulator").to_string();
    if !state.config.carriers.contains(&carrier) {
        r.push_error(format!("Carrier {carrier} isn't configured."));
    }
    let opt_out_text = r.string("optOutText").map(str::to_string);
    let help_text = r.string("helpText").map(str::to_string);
    check_text(&mut r, "optOutText", opt_out_text.as_deref());
    check_text(&mut r, "helpText", help_text.as_deref());
    check(r)?;
    let code = code.unwrap_or_default();
    let stored = state
        .store
        .create_code(NewCode {
            id: domain::mint_id(),
            account_id: acct.id,
            code: code.clone(),
            country_code,
            kind,
            carrier,
            opt_out_text,
            help_text,
            created_at: state.now(),
        })
        .await
        .map_err(store_err(&format!("Code {code}")))?;
    created(code_json(state, &stored))
}

pub async fn list_codes(state: &AppState, ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    let codes = state.store.list_codes(&acct.id).await?;
    ok(json!({"items": codes.iter().map(|c| code_json(state, c)).collect::<Vec<_>>()}))
}

pub async fn get_code(state: &AppState, ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    let id = ctx.param(1);
    let code = state
        .store
        .get_code(&acct.id, id)
        .await
        .map_err(store_err(&format!("Code {id}")))?;
    ok(code_json(state, &code))
}

/// A reply text of a patch: a string sets it, an empty one clears it (`Some(None)`).
fn reply_text(r: &mut FieldReader<'_>, name: &str) -> Option<Option<String>> {
    r.string(name)
        .map(|t| (!t.trim().is_empty()).then(|| t.to_string()))
}

/// `PATCH /admin/v1/accounts/{acct}/codes/{id}`: changes the given fields of a code; an empty
/// `optOutText` or `helpText` goes back to the default reply. The code string stays (keywords,
/// subscriptions and messages name the code by it).
pub async fn update_code(state: &AppState, mut ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    let id = ctx.param(1).to_string();
    let current = state
        .store
        .get_code(&acct.id, &id)
        .await
        .map_err(store_err(&format!("Code {id}")))?;
    let (_, fields) = ctx.json_fields().await?;
    let mut r = FieldReader::new(&fields);
    // Every field is read first: type errors come before the rest (API.md §1).
    let code = r.string("code").map(str::to_string);
    let patch = CodePatch {
        country_code: r.string("countryCode").map(str::to_string),
        kind: r.string("type").map(str::to_ascii_lowercase),
        carrier: r.string("carrier").map(str::to_string),
        opt_out_text: reply_text(&mut r, "optOutText"),
        help_text: reply_text(&mut r, "helpText"),
    };
    if let Some(c) = code.filter(|c| *c != current.code) {
        r.push_error(format!(
            "The code string can't be changed ({c}); create a new code instead."
        ));
    }
    if let Some(k) = patch
        .kind
        .as_deref()
        .filter(|k| *k != "short" && *k != "long")
    {
        r.push_error(format!("{k} isn't a valid code type."));
    }
    if let Some(c) = patch
        .carrier
        .as_deref()
        .filter(|c| !state.config.carriers.iter().any(|x| x == c))
    {
        r.push_error(format!("Carrier {c} isn't configured."));
    }
    check_text(
        &mut r,
        "optOutText",
        patch.opt_out_text.as_ref().and_then(|t| t.as_deref()),
    );
    check_text(
        &mut r,
        "helpText",
        patch.help_text.as_ref().and_then(|t| t.as_deref()),
    );
    check(r)?;
    let code = state
        .store
        .update_code(&acct.id, &id, patch)
        .await
        .map_err(store_err(&format!("Code {id}")))?;
    ok(code_json(state, &code))
}

pub async fn delete_code(state: &AppState, ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    let id = ctx.param(1);
    state
        .store
        .delete_code(&acct.id, id)
        .await
        .map_err(store_err(&format!("Code {id}")))?;
    deleted()
}

pub async fn create_keyword(state: &AppState, mut ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    let (_, fields) = ctx.json_fields().await?;
    let mut r = FieldReader::new(&fields);
    let code = required(&mut r, "code").map(str::to_string);
    let keyword = required(&mut r, "keyword").map(str::to_string);
    if let Some(k) = keyword
        .as_deref()
        .filter(|k| k.split_whitespace().count() != 1)
    {
        r.push_error(format!("Keyword {k} must be a single word."));
    }
    let response = r.string("response").map(str::to_string);
    let double_opt_in = r.bool("doubleOptIn").unwrap_or(false);
    let confirm_text = r.string("confirmText").map(str::to_string);
    if double_opt_in && confirm_text.as_deref().is_none_or(|t| t.trim().is_empty()) {
        r.push_error("confirmText is required when doubleOptIn is true.".to_string());
    }
    check_text(&mut r, "response", response.as_deref());
    check_text(&mut r, "confirmText", confirm_text.as_deref());
    if let Some(c) = code.as_deref() {
        match state.store.get_code(&acct.id, c).await {
            Ok(_) => {}
            Err(store::StoreError::NotFound) => r.push_error(format!("Code {c} isn't valid.")),
            Err(e) => return Err(e.into()),
        }
    }
    check(r)?;
    let keyword = keyword.unwrap_or_default();
    let stored = state
        .store
        .create_keyword(NewKeyword {
            id: domain::mint_id(),
            account_id: acct.id,
            code: code.unwrap_or_default(),
            keyword: keyword.trim().to_string(),
            response,
            double_opt_in,
            confirm_text,
            created_at: state.now(),
        })
        .await
        .map_err(store_err(&format!("Keyword {keyword}")))?;
    created(keyword_json(state, &stored))
}

pub async fn list_keywords(state: &AppState, ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    let all = state.store.list_keywords(&acct.id).await?;
    ok(json!({"items": all.iter().map(|k| keyword_json(state, k)).collect::<Vec<_>>()}))
}

pub async fn get_keyword(state: &AppState, ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    let id = ctx.param(1);
    let k = state
        .store
        .get_keyword(&acct.id, id)
        .await
        .map_err(store_err(&format!("Keyword {id}")))?;
    ok(keyword_json(state, &k))
}

/// `PATCH /admin/v1/accounts/{acct}/keywords/{id}`: changes the reply, double opt-in and
/// confirmation text (an empty text removes it). The code and the word stay (subscriptions are
/// to them).
pub async fn update_keyword(state: &AppState, mut ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    let id = ctx.param(1).to_string();
    let current = state
        .store
        .get_keyword(&acct.id, &id)
        .await
        .map_err(store_err(&format!("Keyword {id}")))?;
    let (_, fields) = ctx.json_fields().await?;
    let mut r = FieldReader::new(&fields);
    // Every field is read first: type errors come before the rest (API.md §1).
    let named = [
        ("code", r.string("code").map(str::to_string), &current.code),
        (
            "keyword",
            r.string("keyword").map(str::to_string),
            &current.keyword,
        ),
    ];
    let patch = KeywordPatch {
        response: reply_text(&mut r, "response"),
        double_opt_in: r.bool("doubleOptIn"),
        confirm_text: reply_text(&mut r, "confirmText"),
    };
    for (name, given, now) in named {
        if let Some(v) = given.filter(|v| !v.eq_ignore_ascii_case(now)) {
            r.push_error(format!(
                "The {name} of a keyword can't be changed ({v}); create a new keyword instead."
            ));
        }
    }
    let double_opt_in = patch.double_opt_in.unwrap_or(current.double_opt_in);
    let confirm_text = match &patch.confirm_text {
        Some(text) => text.as_deref(),
        None => current.confirm_text.as_deref(),
    };
    if double_opt_in && confirm_text.is_none_or(|t| t.trim().is_empty()) {
        r.push_error("confirmText is required when doubleOptIn is true.".to_string());
    }
    check_text(
        &mut r,
        "response",
        patch.response.as_ref().and_then(|t| t.as_deref()),
    );
    check_text(
        &mut r,
        "confirmText",
        patch.confirm_text.as_ref().and_then(|t| t.as_deref()),
    );
    check(r)?;
    let k = state
        .store
        .update_keyword(&acct.id, &id, patch)
        .await
        .map_err(store_err(&format!("Keyword {id}")))?;
    ok(keyword_json(state, &k))
}

pub async fn delete_keyword(state: &AppState, ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    let id = ctx.param(1);
    state
        .store
        .delete_keyword(&acct.id, id)
        .await
        .map_err(store_err(&format!("Keyword {id}")))?;
    deleted()
}

/// Reads and resolves a list-id array field against the account; unknown IDs are reported with
/// the messages of API.md §4 rows 5 and 9.
async fn list_ids(
    state: &AppState,
    account_id: &str,
    r: &mut FieldReader<'_>,
    field: &str,
    label: &str,
) -> Result<Option<Vec<String>>, ApiError> {
    let Some(given) = r.string_array(field) else {
        return Ok(None);
    };
    let given: Vec<String> = given
        .into_iter()
        .filter(|s| !s.trim().is_empty())
        .map(str::to_string)
        .collect();
    let resolved = state.store.resolve_lists(account_id, &given).await?;
    let mut out: Vec<String> = Vec::new();
    for (raw, found) in given.iter().zip(resolved) {
        match found {
            Some(id) if EncodedId::parse(raw).is_some() => {
                if !out.contains(&id) {
                    out.push(id);
                }
            }
            _ => r.push_error(format!("{label} list id [{raw}] is invalid.")),
        }
    }
    Ok(Some(out))
}

fn status(r: &mut FieldReader<'_>) -> Option<MessageStatus> {
    let raw = r.string("status")?;
    let parsed = MessageStatus::parse(raw);
    if parsed.is_none() {
        r.push_error(format!("{raw} isn't a valid message status."));
    }
    parsed
}

fn content_url(r: &mut FieldReader<'_>) -> Option<Option<String>> {
    let spelled = r.spelling("contentUrl");
    match r.string("contentUrl") {
        Some(raw) if raw.trim().is_empty() => Some(None),
        Some(raw) => match ContentUrl::parse(raw) {
            Some(url) => Some(Some(url)),
            None => {
                r.push_error(format!("{raw} isn't a valid content URL."));
                None
            }
        },
        // An explicit null clears the URL.
        None if spelled.is_some() && r.errors().is_empty() => Some(None),
        None => None,
    }
}

async fn code_exists(
    state: &AppState,
    account_id: &str,
    r: &mut FieldReader<'_>,
    code: &str,
) -> Result<Option<String>, ApiError> {
    match state.store.get_code(account_id, code).await {
        Ok(c) => Ok(Some(c.code)),
        Err(store::StoreError::NotFound) => {
            r.push_error(format!("Code {code} isn't valid."));
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn create_message(state: &AppState, mut ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    let (_, fields) = ctx.json_fields().await?;
    let mut r = FieldReader::new(&fields);
    let id = explicit_id(&mut r, "Message");
    let name = r.string("name").map(str::to_string);
    let code = match required(&mut r, "code") {
        Some(c) => code_exists(state, &acct.id, &mut r, c).await?,
        None => None,
    };
    let text = r.string("text").unwrap_or("").to_string();
    check_text(&mut r, "text", Some(&text));
    let status = status(&mut r).unwrap_or(MessageStatus::Active);
    let targets = list_ids(state, &acct.id, &mut r, "targetListIds", "Target").await?;
    let exclusions = list_ids(state, &acct.id, &mut r, "exclusionListIds", "Exclusion").await?;
    let url = content_url(&mut r).flatten();
    check(r)?;
    let id = id.unwrap_or_else(domain::mint_id);
    let now = state.now();
    let stored = state
        .store
        .create_message(NewMessage {
            id: id.clone(),
            account_id: acct.id,
            name: name.unwrap_or_else(|| id.clone()),
            code: code.unwrap_or_default(),
            text,
            status,
            target_list_ids: targets.unwrap_or_default(),
            exclusion_list_ids: exclusions.unwrap_or_default(),
            content_url: url,
            created_at: now,
        })
        .await
        .map_err(store_err(&format!("Message {id}")))?;
    created(message_json(state, &stored))
}

pub async fn list_messages(state: &AppState, ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    let all = state.store.list_messages(&acct.id).await?;
    ok(json!({"items": all.iter().map(|m| message_json(state, m)).collect::<Vec<_>>()}))
}

pub async fn get_message(state: &AppState, ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    let id = ctx.param(1);
    let m = state
        .store
        .get_message(&acct.id, id)
        .await
        .map_err(store_err(&format!("Message {id}")))?;
    ok(message_json(state, &m))
}

pub async fn update_message(state: &AppState, mut ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    let id = ctx.param(1).to_string();
    state
        .store
        .get_message(&acct.id, &id)
        .await
        .map_err(store_err(&format!("Message {id}")))?;
    let (_, fields) = ctx.json_fields().await?;
    let mut r = FieldReader::new(&fields);
    let name = r.string("name").map(str::to_string);
    let code = match r.string("code") {
        Some(c) => code_exists(state, &acct.id, &mut r, c).await?,
        None => None,
    };
    let text = r.string("text").map(str::to_string);
    check_text(&mut r, "text", text.as_deref());
    let patch = MessagePatch {
        name,
        code,
        text,
        status: status(&mut r),
        target_list_ids: list_ids(state, &acct.id, &mut r, "targetListIds", "Target").await?,
        exclusion_list_ids: list_ids(state, &acct.id, &mut r, "exclusionListIds", "Exclusion")
            .await?,
        content_url: content_url(&mut r),
    };
    check(r)?;
    let m = state
        .store
        .update_message(&acct.id, &id, patch, state.now())
        .await
        .map_err(store_err(&format!("Message {id}")))?;
    ok(message_json(state, &m))
}

pub async fn delete_message(state: &AppState, ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    let id = ctx.param(1);
    state
        .store
        .delete_message(&acct.id, id)
        .await
        .map_err(store_err(&format!("Message {id}")))?;
    deleted()
}

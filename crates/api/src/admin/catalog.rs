//! Codes, keywords and messages (API.md §7).

use axum::response::Response;
use domain::FieldReader;
use serde_json::Value;
use service::admin::{
    CodeChanges, CodeRequest, KeywordChanges, MessageChanges, MessageRequest,
    OperatorKeywordRequest,
};
use store::{Code, Keyword, Message};

use super::{account, created, deleted, ok, strings, text, text_field};
use crate::responses::{self, to_value, CodeList, KeywordList, MessageList};
use crate::{ApiError, AppState, Ctx, Dates};

/// A code as the CLI prints it (the API's body).
pub fn code_json(d: Dates, c: &Code) -> Value {
    to_value(&responses::Code::new(d, c))
}

/// A keyword as the CLI prints it (the API's body).
pub fn keyword_json(d: Dates, k: &Keyword) -> Value {
    to_value(&responses::Keyword::new(d, k))
}

/// A message as the CLI prints it (the API's body).
pub fn message_json(d: Dates, m: &Message) -> Value {
    to_value(&responses::Message::new(d, m))
}

pub async fn create_code(state: &AppState, mut ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    let (_, fields) = ctx.json_fields().await?;
    let mut r = FieldReader::new(&fields);
    let mut request = CodeRequest {
        code: text_field(&mut r, "code"),
        country_code: text(&mut r, "countryCode"),
        kind: text(&mut r, "type"),
        carrier: text(&mut r, "carrier"),
        opt_out_text: text(&mut r, "optOutText"),
        help_text: text(&mut r, "helpText"),
        problems: Vec::new(),
    };
    request.problems = r.finish();
    let code = state.service.create_code(&acct, request).await?;
    created(responses::Code::new(state.dates(), &code))
}

pub async fn list_codes(state: &AppState, ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    let codes = state.service.codes(&acct).await?;
    let d = state.dates();
    ok(CodeList {
        items: codes.iter().map(|c| responses::Code::new(d, c)).collect(),
    })
}

pub async fn get_code(state: &AppState, ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    let code = state.service.code(&acct, ctx.param(1)).await?;
    ok(responses::Code::new(state.dates(), &code))
}

/// `PATCH /admin/v1/accounts/{acct}/codes/{id}`: an unknown code is 404 before the body is read.
pub async fn update_code(state: &AppState, mut ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    let id = ctx.param(1).to_string();
    let current = state.service.code(&acct, &id).await?;
    let (_, fields) = ctx.json_fields().await?;
    let mut r = FieldReader::new(&fields);
    let mut changes = CodeChanges {
        code: text(&mut r, "code"),
        country_code: text(&mut r, "countryCode"),
        kind: text(&mut r, "type"),
        carrier: text(&mut r, "carrier"),
        opt_out_text: text(&mut r, "optOutText"),
        help_text: text(&mut r, "helpText"),
        problems: Vec::new(),
    };
    changes.problems = r.finish();
    let code = state
        .service
        .update_code(&acct, &id, &current, changes)
        .await?;
    ok(responses::Code::new(state.dates(), &code))
}

pub async fn delete_code(state: &AppState, ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    state.service.delete_code(&acct, ctx.param(1)).await?;
    ok(deleted())
}

pub async fn create_keyword(state: &AppState, mut ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    let (_, fields) = ctx.json_fields().await?;
    let mut r = FieldReader::new(&fields);
    let mut request = OperatorKeywordRequest {
        code: text_field(&mut r, "code"),
        keyword: text_field(&mut r, "keyword"),
        response: text(&mut r, "response"),
        double_opt_in: r.bool("doubleOptIn"),
        confirm_text: text(&mut r, "confirmText"),
        problems: Vec::new(),
    };
    request.problems = r.finish();
    let keyword = state.service.create_keyword(&acct, request).await?;
    created(responses::Keyword::new(state.dates(), &keyword))
}

pub async fn list_keywords(state: &AppState, ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    let all = state.service.keywords(&acct).await?;
    let d = state.dates();
    ok(KeywordList {
        items: all.iter().map(|k| responses::Keyword::new(d, k)).collect(),
    })
}

pub async fn get_keyword(state: &AppState, ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    let k = state.service.keyword(&acct, ctx.param(1)).await?;
    ok(responses::Keyword::new(state.dates(), &k))
}

/// `PATCH /admin/v1/accounts/{acct}/keywords/{id}`: an unknown keyword is 404 before the body is
/// read.
pub async fn update_keyword(state: &AppState, mut ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    let id = ctx.param(1).to_string();
    let current = state.service.keyword(&acct, &id).await?;
    let (_, fields) = ctx.json_fields().await?;
    let mut r = FieldReader::new(&fields);
    let mut changes = KeywordChanges {
        code: text(&mut r, "code"),
        keyword: text(&mut r, "keyword"),
        response: text(&mut r, "response"),
        double_opt_in: r.bool("doubleOptIn"),
        confirm_text: text(&mut r, "confirmText"),
        opt_in: opt_in_rules(&mut r),
        problems: Vec::new(),
    };
    changes.problems = r.finish();
    let k = state
        .service
        .update_keyword(&acct, &id, &current, changes)
        .await?;
    ok(responses::Keyword::new(state.dates(), &k))
}

/// `optIn`: `null` removes the rules, an object (`domain::OptInRules` in JSON: `kind`, `name`,
/// `validResponses`, `minimumAge`, `invalidAgeText`, `errorText`, `duplicateText`, `startDate`,
/// `endDate`, `nextKeyword`) sets them as a whole.
fn opt_in_rules(r: &mut FieldReader<'_>) -> Option<Option<domain::OptInRules>> {
    r.spelling("optIn")?;
    let Some(value) = r.any("optIn") else {
        return Some(None);
    };
    match serde_json::from_str::<domain::OptInRules>(&value.to_json_text()) {
        Ok(rules) => Some(Some(rules)),
        Err(e) => {
            r.type_error(format!("optIn isn't valid: {e}."));
            None
        }
    }
}

pub async fn delete_keyword(state: &AppState, ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    state.service.delete_keyword(&acct, ctx.param(1)).await?;
    ok(deleted())
}

pub async fn create_message(state: &AppState, mut ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    let (_, fields) = ctx.json_fields().await?;
    let mut r = FieldReader::new(&fields);
    let mut request = MessageRequest {
        id: text_field(&mut r, "id"),
        name: text(&mut r, "name"),
        code: text_field(&mut r, "code"),
        text: text(&mut r, "text"),
        status: text(&mut r, "status"),
        target_list_ids: strings(&mut r, "targetListIds"),
        exclusion_list_ids: strings(&mut r, "exclusionListIds"),
        content_url: text_field(&mut r, "contentUrl"),
        problems: Vec::new(),
    };
    request.problems = r.finish();
    let m = state.service.create_message(&acct, request).await?;
    created(responses::Message::new(state.dates(), &m))
}

pub async fn list_messages(state: &AppState, ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    let all = state.service.messages(&acct).await?;
    let d = state.dates();
    ok(MessageList {
        items: all.iter().map(|m| responses::Message::new(d, m)).collect(),
    })
}

pub async fn get_message(state: &AppState, ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    let m = state.service.message(&acct, ctx.param(1)).await?;
    ok(responses::Message::new(state.dates(), &m))
}

/// `PATCH /admin/v1/accounts/{acct}/messages/{id}`: an unknown message is 404 before the body is
/// read.
pub async fn update_message(state: &AppState, mut ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    let id = ctx.param(1).to_string();
    state.service.message(&acct, &id).await?;
    let (_, fields) = ctx.json_fields().await?;
    let mut r = FieldReader::new(&fields);
    let mut changes = MessageChanges {
        name: text(&mut r, "name"),
        code: text(&mut r, "code"),
        text: text(&mut r, "text"),
        status: text(&mut r, "status"),
        target_list_ids: strings(&mut r, "targetListIds"),
        exclusion_list_ids: strings(&mut r, "exclusionListIds"),
        content_url: text_field(&mut r, "contentUrl"),
        problems: Vec::new(),
    };
    changes.problems = r.finish();
    let m = state.service.update_message(&acct, &id, changes).await?;
    ok(responses::Message::new(state.dates(), &m))
}

pub async fn delete_message(state: &AppState, ctx: Ctx) -> Result<Response, ApiError> {
    let acct = account(state, &ctx).await?;
    state.service.delete_message(&acct, ctx.param(1)).await?;
    ok(deleted())
}

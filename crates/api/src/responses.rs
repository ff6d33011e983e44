//! Typed response bodies. Each derives `Serialize` (what the wire carries) and `JsonSchema`
//! (its schema in `/openapi.json`, generated, closed: `openapi` adds
//! `additionalProperties: false`): a handler builds the struct, the route table's operation
//! names the same type as its success, so the document cannot drift from the bytes.
//!
//! Fields are declared in the order the former `json!` bodies wrote them (serde_json sorts the
//! keys of a `json!` object): the bytes stay the same.

use std::borrow::Cow;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::Serialize;

use crate::Dates;

/// A send or job token as minted (API.md §3): lowercase letters and digits.
pub const TOKEN_PATTERN: &str = "^[a-z0-9]{26,40}$";

/// `202 {"tokenId"}`: a send (or an import) is recorded and runs in the background.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SendAccepted {
    /// A send or job token, as minted (API.md §3).
    #[schemars(pattern(TOKEN_PATTERN))]
    pub token_id: String,
}

/// `202 {"keywordId"}`: `POST /sms/v1/keyword` created an opt-in keyword.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KeywordCreated {
    pub keyword_id: String,
}

/// `202 {"status": "Success"}`: `DELETE /sms/v1/keyword/{keywordId}` deleted the keyword.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Success {
    #[schemars(extend("const" = "Success"))]
    pub status: &'static str,
}

impl Success {
    pub const fn new() -> Success {
        Success { status: "Success" }
    }
}

impl Default for Success {
    fn default() -> Success {
        Success::new()
    }
}

/// `{"deleted": true}`: the admin API deleted (or revoked, or removed) what the path names.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Deleted {
    #[schemars(extend("const" = true))]
    pub deleted: bool,
}

impl Deleted {
    pub const fn new() -> Deleted {
        Deleted { deleted: true }
    }
}

impl Default for Deleted {
    fn default() -> Deleted {
        Deleted::new()
    }
}

/// `{"canceledRecipients", "status": "Canceled"}`: `POST /admin/v1/sends/{tokenId}/cancel`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Canceled {
    /// Recipients that were not yet handed over, and never will be.
    pub canceled_recipients: u64,
    #[schemars(extend("const" = "Canceled"))]
    pub status: &'static str,
}

impl Canceled {
    pub const fn new(canceled_recipients: u64) -> Canceled {
        Canceled {
            canceled_recipients,
            status: "Canceled",
        }
    }
}

/// A timestamp as the API writes it (API.md §1).
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct Timestamp(pub String);

impl Timestamp {
    pub fn at(d: Dates, ms: i64) -> Timestamp {
        Timestamp(d.format(ms))
    }
}

/// `yyyy-MM-ddTHH:mm:ss.fff`, optionally with `Z`.
pub const TIMESTAMP_PATTERN: &str =
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z?$";

impl JsonSchema for Timestamp {
    fn schema_name() -> Cow<'static, str> {
        "Timestamp".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": TIMESTAMP_PATTERN,
            "description": "`yyyy-MM-ddTHH:mm:ss.fff`, CST (UTC−06:00) without an offset, or UTC \
                with a `Z` suffix (`api.timestamps = \"utc\"`).",
        })
    }
}

/// `202 {"lastPublishDate", "tokenId"}`: `POST /sms/v1/contacts/refreshList/{listId}`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefreshAccepted {
    pub last_publish_date: Timestamp,
    #[schemars(pattern(TOKEN_PATTERN))]
    pub token_id: String,
}

/// `{"publishDate", "tokenId"}`: a refresh's status; `publishDate` is null until it completed.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefreshStatus {
    pub publish_date: Option<Timestamp>,
    #[schemars(pattern(TOKEN_PATTERN))]
    pub token_id: String,
}

/// `202 {"filename", "tokenId"}`: a delivery report is being written.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryReportAccepted {
    pub filename: String,
    #[schemars(pattern(TOKEN_PATTERN))]
    pub token_id: String,
}

/// `202 {"results", "tokenId"}`: `POST /sms/v1/queueMO` handled the texts.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueueMoAccepted {
    pub results: Vec<QueueMoResult>,
    #[schemars(pattern(TOKEN_PATTERN))]
    pub token_id: String,
}

/// One number of a queueMO call.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueueMoResult {
    /// The subscriber key, else the number.
    pub identifier: String,
    pub mobile_number: String,
    #[schemars(extend("const" = "OK"))]
    pub result: &'static str,
}

/// Which way a text went.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
pub enum TextDirection {
    #[serde(rename = "MT")]
    Mt,
    #[serde(rename = "MO")]
    Mo,
}

impl From<store::Direction> for TextDirection {
    fn from(d: store::Direction) -> TextDirection {
        match d {
            store::Direction::Mt => TextDirection::Mt,
            store::Direction::Mo => TextDirection::Mo,
        }
    }
}

/// What a messageContact send texted one number, and what the number texted since.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContactHistory {
    pub count: usize,
    pub create_date: Timestamp,
    pub history: Vec<ContactHistoryEntry>,
    #[schemars(extend("const" = "Active"))]
    pub status: &'static str,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ContactHistoryEntry {
    pub date: Timestamp,
    pub message: String,
    #[serde(rename = "type")]
    pub direction: TextDirection,
}

/// Texts in and out since a queueMO call, with each number.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MoHistory {
    pub count: usize,
    pub create_date: Timestamp,
    pub history: Vec<MoHistoryEntry>,
    #[schemars(extend("const" = "Active"))]
    pub status: &'static str,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MoHistoryEntry {
    pub date: Timestamp,
    pub message: String,
    pub mobile_number: String,
    #[serde(rename = "type")]
    pub direction: TextDirection,
}

//! Typed response bodies. Each derives `Serialize` (what the wire carries) and `JsonSchema`
//! (its schema in `/openapi.json`, generated, closed: `openapi` adds
//! `additionalProperties: false`): a handler builds the struct, the route table's operation
//! names the same type as its success, so the document cannot drift from the bytes.
//!
//! Fields are declared in the order the former `json!` bodies wrote them (serde_json sorts the
//! keys of a `json!` object): the bytes stay the same.

use schemars::JsonSchema;
use serde::Serialize;

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

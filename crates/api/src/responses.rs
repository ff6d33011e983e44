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

/// `202 {"keywordId", "KeywordId"}`: `POST /sms/v1/keyword` created an opt-in keyword. Both
/// keys carry its ID: MobileConnect's documentation spells `KeywordId`, clients exist that read
/// `keywordId` (API.md §6).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct KeywordCreated {
    #[serde(rename = "keywordId")]
    pub keyword_id: String,
    #[serde(rename = "KeywordId")]
    pub documented_keyword_id: String,
}

impl KeywordCreated {
    pub fn new(id: String) -> KeywordCreated {
        KeywordCreated {
            documented_keyword_id: id.clone(),
            keyword_id: id,
        }
    }
}

/// `201 {"messageID"}` (so spelled): `POST /sms/v1/message/outbound` or `message/optin` created
/// a message (API.md §6b).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct MessageCreated {
    #[serde(rename = "messageID")]
    pub message_id: String,
}

/// `202 {"status": "Success", "Status": "SUCCESS Keyword with id … was successfully delete."}`:
/// a keyword-delete form deleted the keyword (API.md §6: the documented sentence, "delete."
/// included, and the camelCase key clients exist that read).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct KeywordDeleted {
    #[schemars(extend("const" = "Success"))]
    pub status: &'static str,
    #[serde(rename = "Status")]
    #[schemars(pattern("^SUCCESS Keyword with id .+ was successfully delete\\.$"))]
    pub documented_status: String,
}

impl KeywordDeleted {
    pub fn new(id: &str) -> KeywordDeleted {
        KeywordDeleted {
            status: "Success",
            documented_status: format!("SUCCESS Keyword with id {id} was successfully delete."),
        }
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

/// An account ID, a message ID, a list ID... (API.md §3).
pub const ID_PATTERN: &str = "^[A-Za-z0-9_-]{1,64}$";

/// An account of the admin API.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    pub created_date: Timestamp,
    #[schemars(pattern(ID_PATTERN))]
    pub id: String,
    pub name: String,
}

impl Account {
    pub fn new(d: Dates, a: &store::Account) -> Account {
        Account {
            created_date: Timestamp::at(d, a.created_at),
            id: a.id.clone(),
            name: a.name.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AccountList {
    pub items: Vec<Account>,
}

/// A scope of `/sms/v1` (API.md §2).
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScopeName {
    SmsRead,
    SmsSend,
    SmsWrite,
}

/// An API client (no secret).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Client {
    pub account_id: String,
    pub accounts: Vec<String>,
    pub client_id: String,
    pub created_date: Timestamp,
    pub revoked: bool,
    #[schemars(with = "Vec<ScopeName>")]
    pub scopes: Vec<String>,
}

impl Client {
    pub fn new(d: Dates, c: &store::Client) -> Client {
        Client {
            account_id: c.account_id.clone(),
            accounts: c.accounts.clone(),
            client_id: c.client_id.clone(),
            created_date: Timestamp::at(d, c.created_at),
            revoked: c.revoked_at.is_some(),
            scopes: c.scopes.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ClientList {
    pub items: Vec<Client>,
}

/// An API client just created, with its secret.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClientCreated {
    pub account_id: String,
    pub accounts: Vec<String>,
    pub client_id: String,
    /// Shown only here; stored hashed.
    pub client_secret: String,
    #[schemars(with = "Vec<ScopeName>")]
    pub scopes: Vec<String>,
}

/// Whether a code is a short or a long code.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CodeKind {
    Short,
    Long,
}

/// A short or long code of an account.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Code {
    pub carrier: String,
    pub code: String,
    pub country_code: String,
    pub created_date: Timestamp,
    pub help_text: String,
    #[schemars(pattern(ID_PATTERN))]
    pub id: String,
    pub opt_out_text: String,
    #[serde(rename = "type")]
    #[schemars(with = "CodeKind")]
    pub kind: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CodeList {
    pub items: Vec<Code>,
}

/// A keyword on a code.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Keyword {
    pub code: String,
    pub confirm_text: Option<String>,
    pub created_date: Timestamp,
    pub double_opt_in: bool,
    #[schemars(pattern(ID_PATTERN))]
    pub id: String,
    pub keyword: String,
    /// An opt-in message's rules (API.md §6b); absent for an ordinary keyword.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opt_in: Option<OptIn>,
    pub response: Option<String>,
}

impl Keyword {
    pub fn new(d: Dates, k: &store::Keyword) -> Keyword {
        Keyword {
            code: k.code.clone(),
            confirm_text: k.confirm_text.clone(),
            created_date: Timestamp::at(d, k.created_at),
            double_opt_in: k.double_opt_in,
            id: k.id.clone(),
            keyword: k.keyword.clone(),
            opt_in: k.opt_in.as_ref().map(OptIn::new),
            response: k.response.clone(),
        }
    }
}

/// How an opt-in message's keyword subscribes (`domain::OptInRules`, as PATCH takes it).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OptIn {
    pub kind: OptInKind,
    pub name: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub valid_responses: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minimum_age: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invalid_age_text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate_text: Option<String>,
    /// `yyyy-MM-dd`, a CST day.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_keyword: Option<String>,
}

/// `MessageOptInType`.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
pub enum OptInKind {
    Single,
    Double,
    Age,
}

impl OptIn {
    pub fn new(r: &domain::OptInRules) -> OptIn {
        OptIn {
            kind: match r.kind {
                domain::OptInType::Single => OptInKind::Single,
                domain::OptInType::Double => OptInKind::Double,
                domain::OptInType::Age => OptInKind::Age,
            },
            name: r.name.clone(),
            valid_responses: r.valid_responses.clone(),
            minimum_age: r.minimum_age,
            invalid_age_text: r.invalid_age_text.clone(),
            error_text: r.error_text.clone(),
            duplicate_text: r.duplicate_text.clone(),
            start_date: r.start_date.map(String::from),
            end_date: r.end_date.map(String::from),
            next_keyword: r.next_keyword.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct KeywordList {
    pub items: Vec<Keyword>,
}

/// A value as the CLI prints it (the same JSON as the API's body).
pub fn to_value<T: Serialize>(body: &T) -> serde_json::Value {
    serde_json::to_value(body).unwrap_or(serde_json::Value::Null)
}

impl Code {
    pub fn new(d: Dates, c: &store::Code) -> Code {
        use service::admin::{DEFAULT_HELP_TEXT, DEFAULT_OPT_OUT_TEXT};
        Code {
            carrier: c.carrier.clone(),
            code: c.code.clone(),
            country_code: c.country_code.clone(),
            created_date: Timestamp::at(d, c.created_at),
            help_text: c
                .help_text
                .clone()
                .unwrap_or_else(|| DEFAULT_HELP_TEXT.to_string()),
            id: c.id.clone(),
            opt_out_text: c
                .opt_out_text
                .clone()
                .unwrap_or_else(|| DEFAULT_OPT_OUT_TEXT.to_string()),
            kind: c.kind.clone(),
        }
    }
}

impl ClientCreated {
    pub fn new(m: &service::admin::MintedClient) -> ClientCreated {
        ClientCreated {
            account_id: m.client.account_id.clone(),
            accounts: m.client.accounts.clone(),
            client_id: m.client.client_id.clone(),
            client_secret: m.secret.clone(),
            scopes: m.client.scopes.clone(),
        }
    }
}

/// A contact list of an account.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct List {
    pub created_date: Timestamp,
    #[schemars(pattern(ID_PATTERN))]
    pub id: String,
    pub name: String,
    /// Number of memberships.
    #[schemars(range(min = 0))]
    pub size: i64,
}

impl List {
    pub fn new(d: Dates, l: &store::ContactList) -> List {
        List {
            created_date: Timestamp::at(d, l.created_at),
            id: l.id.clone(),
            name: l.name.clone(),
            size: l.size,
        }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ListList {
    pub items: Vec<List>,
}

/// A message's status.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
pub enum MessageStatus {
    Active,
    Scheduled,
    Inactive,
    Draft,
}

/// A stored message of an account.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    pub code: String,
    pub content_url: Option<String>,
    pub created_date: Timestamp,
    pub exclusion_list_ids: Vec<String>,
    #[schemars(pattern(ID_PATTERN))]
    pub id: String,
    pub modified_date: Timestamp,
    pub name: String,
    #[schemars(with = "MessageStatus")]
    pub status: &'static str,
    pub target_list_ids: Vec<String>,
    pub text: String,
}

impl Message {
    pub fn new(d: Dates, m: &store::Message) -> Message {
        Message {
            code: m.code.clone(),
            content_url: m.content_url.clone(),
            created_date: Timestamp::at(d, m.created_at),
            exclusion_list_ids: m.exclusion_list_ids.clone(),
            id: m.id.clone(),
            modified_date: Timestamp::at(d, m.updated_at),
            name: m.name.clone(),
            status: m.status.as_str(),
            target_list_ids: m.target_list_ids.clone(),
            text: m.text.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct MessageList {
    pub items: Vec<Message>,
}

/// A subscription's status.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
pub enum SubscriptionStatus {
    Subscribed,
    Unsubscribed,
    InProgress,
}

/// A number's subscription to a keyword on a code.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    pub code: String,
    pub keyword: String,
    pub mobile_number: String,
    pub opt_in_date: Option<Timestamp>,
    pub opt_out_date: Option<Timestamp>,
    #[schemars(with = "SubscriptionStatus")]
    pub status: &'static str,
}

impl Subscription {
    pub fn new(d: Dates, s: &store::Subscription) -> Subscription {
        Subscription {
            code: s.code.clone(),
            keyword: s.keyword.clone(),
            mobile_number: s.mobile_number.clone(),
            opt_in_date: s.opt_in_date.map(|t| Timestamp::at(d, t)),
            opt_out_date: s.opt_out_date.map(|t| Timestamp::at(d, t)),
            status: s.status.as_str(),
        }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SubscriptionList {
    pub items: Vec<Subscription>,
}

/// A send's state (API.md §5).
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
pub enum SendStateName {
    New,
    Queuing,
    Started,
    Finished,
    Error,
    Canceled,
}

/// Which API created a send.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SendKindName {
    List,
    Contact,
    Mo,
    Transactional,
}

/// A send as the admin API lists it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdminSend {
    pub complete_date: Option<Timestamp>,
    pub count: i64,
    pub create_date: Timestamp,
    pub errors: Vec<String>,
    #[schemars(with = "SendKindName")]
    pub kind: &'static str,
    pub message_id: String,
    /// When a send that is not final may go next.
    pub scheduled_for: Option<Timestamp>,
    #[schemars(with = "SendStateName")]
    pub state: &'static str,
    pub text: String,
    #[schemars(pattern(TOKEN_PATTERN))]
    pub token_id: String,
}

impl AdminSend {
    pub fn new(d: Dates, s: &store::Send) -> AdminSend {
        AdminSend {
            complete_date: s.completed_at.map(|t| Timestamp::at(d, t)),
            count: s.count,
            create_date: Timestamp::at(d, s.created_at),
            errors: s.errors.clone(),
            kind: s.kind.as_str(),
            message_id: s.message_id.clone(),
            scheduled_for: (!s.state.is_final()).then(|| Timestamp::at(d, s.due_at)),
            state: s.state.as_str(),
            text: s.text.clone(),
            token_id: s.token.clone(),
        }
    }
}

/// A page of an account's sends, newest first.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SendList {
    pub items: Vec<AdminSend>,
    /// The `after` of the next page; null at the end.
    pub next: Option<String>,
}

/// How a text is encoded.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
pub enum EncodingName {
    #[serde(rename = "GSM-7")]
    Gsm7,
    #[serde(rename = "UCS-2")]
    Ucs2,
}

/// What the simulator carrier accepted.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OutboxItem {
    pub accepted_at: Timestamp,
    pub carrier: String,
    pub content_url: Option<String>,
    #[schemars(with = "EncodingName")]
    pub encoding: String,
    pub from: String,
    pub segments: i32,
    pub seq: i64,
    pub text: String,
    pub to: String,
    pub token_id: Option<String>,
}

impl OutboxItem {
    pub fn new(d: Dates, e: &store::OutboxEntry) -> OutboxItem {
        OutboxItem {
            accepted_at: Timestamp::at(d, e.item.accepted_at),
            carrier: e.item.carrier.clone(),
            content_url: e.item.content_url.clone(),
            encoding: e.item.encoding.clone(),
            from: e.item.from.clone(),
            segments: e.item.segments,
            seq: e.seq,
            text: e.item.text.clone(),
            to: e.item.to.clone(),
            token_id: e.item.token_id.clone(),
        }
    }
}

/// A page of the outbox, oldest first.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Outbox {
    pub items: Vec<OutboxItem>,
    /// The `after` of the next page; null at the end.
    pub next: Option<i64>,
}

/// `POST /v2/token`: a fresh bearer token for `/sms/v1` (API.md §2).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TokenResponse {
    #[schemars(length(min = 1, max = 512))]
    pub access_token: String,
    /// Seconds (1079 for a fresh token).
    pub expires_in: i64,
    #[schemars(pattern(INSTANCE_URL_PATTERN))]
    pub rest_instance_url: String,
    /// Granted scopes, sorted, space-separated.
    pub scope: String,
    #[schemars(pattern(INSTANCE_URL_PATTERN))]
    pub soap_instance_url: String,
    #[schemars(extend("const" = "Bearer"))]
    pub token_type: &'static str,
}

/// The public base URL, with its scheme and a trailing `/`.
pub const INSTANCE_URL_PATTERN: &str = "^https?://.*/$";

/// `POST /sms/v1/contacts/subscriptions`: every subscription of the numbers in the account.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionLookup {
    pub complete_date: Timestamp,
    pub contacts: Vec<SubscriptionLookupContact>,
    /// The number of contacts, as a string.
    #[schemars(pattern("^[0-9]+$"))]
    pub count: String,
    pub create_date: Timestamp,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionLookupContact {
    pub keyword: String,
    pub mobile_number: String,
    pub opt_in_date: Option<Timestamp>,
    pub opt_out_date: Option<Timestamp>,
    pub short_code: String,
    #[schemars(with = "SubscriptionStatus")]
    pub status: &'static str,
}

/// A list job's state.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
pub enum JobStatus {
    Queued,
    Processing,
    Completed,
    Error,
}

/// An import's progress: `GET /sms/v1/contacts/queueImport/{listId}/status/{tokenId}`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImportStatus {
    /// When the import ended; absent while it runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed_date: Option<Timestamp>,
    pub created_date: Timestamp,
    /// Row errors (the first 100) or why the import stopped; absent when there is none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    pub inserted: i64,
    pub invalid: i64,
    #[schemars(with = "JobStatus")]
    pub status: &'static str,
    #[schemars(pattern(TOKEN_PATTERN))]
    pub token_id: String,
    #[serde(rename = "type")]
    #[schemars(extend("const" = "Import"))]
    pub kind: &'static str,
    pub updated: i64,
}

impl ImportStatus {
    pub fn new(d: Dates, job: &store::ListJob) -> ImportStatus {
        ImportStatus {
            completed_date: job.completed_at.map(|t| Timestamp::at(d, t)),
            created_date: Timestamp::at(d, job.created_at),
            errors: job.progress.errors.clone(),
            inserted: job.progress.inserted,
            invalid: job.progress.invalid,
            status: job.state.as_str(),
            token_id: job.token.clone(),
            kind: "Import",
            updated: job.progress.updated,
        }
    }
}

/// `202 {"tokenId", "lastPublishDate"}`: `POST /sms/v1/automation/importSend` recorded the job
/// (`lastPublishDate`: when it was accepted, API.md §6b).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImportSendAccepted {
    #[schemars(pattern(TOKEN_PATTERN))]
    pub token_id: String,
    pub last_publish_date: Timestamp,
}

/// An importSend's state (MobileConnect spells the done state `Complete`).
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
pub enum ImportSendState {
    Queued,
    Processing,
    Complete,
    Error,
}

/// `GET /sms/v1/automation/importSend/{tokenId}/status` (API.md §6b): what is not known yet is
/// `null`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImportSendStatus {
    pub status: ImportSendState,
    pub last_update: Timestamp,
    pub created_time: Timestamp,
    /// When the job started: it is queued at once when accepted (`null` while queued).
    pub start_time: Option<Timestamp>,
    pub completed_time: Option<Timestamp>,
    pub last_run_time: Option<Timestamp>,
    /// The imported file.
    pub source: String,
    pub inserted: i64,
    pub updated: i64,
    pub invalid: i64,
    /// The send's token once the import is done and the send recorded (`Complete`); its §5
    /// status is `GET /sms/v1/messageList/{MessageId}/deliveries/{sendTokenId}`.
    #[schemars(pattern(TOKEN_PATTERN))]
    pub send_token_id: Option<String>,
}

impl ImportSendStatus {
    pub fn new(d: Dates, s: &service::ImportSendStatus) -> ImportSendStatus {
        let job = &s.job;
        let started =
            (job.state != store::ListJobState::Queued).then(|| Timestamp::at(d, job.created_at));
        ImportSendStatus {
            status: match job.state {
                store::ListJobState::Queued => ImportSendState::Queued,
                store::ListJobState::Processing => ImportSendState::Processing,
                store::ListJobState::Completed => ImportSendState::Complete,
                store::ListJobState::Error => ImportSendState::Error,
            },
            last_update: Timestamp::at(d, job.updated_at),
            created_time: Timestamp::at(d, job.created_at),
            start_time: started.clone(),
            completed_time: job.completed_at.map(|t| Timestamp::at(d, t)),
            last_run_time: started,
            source: s.source.clone(),
            inserted: job.progress.inserted,
            updated: job.progress.updated,
            invalid: job.progress.invalid,
            send_token_id: s.send_token.clone(),
        }
    }
}

/// A carrier status code: four digits (API.md §5).
pub const STATUS_CODE_PATTERN: &str = "^[0-9]{4}$";

/// A send's recipients by where they are (API.md §5).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SendCounts {
    pub canceled: i64,
    pub deferred: i64,
    pub delivered: i64,
    pub failed: i64,
    pub queued: i64,
    pub recipients: i64,
    pub sent: i64,
    pub suppressed: i64,
    pub unknown: i64,
}

impl From<&store::SendCounts> for SendCounts {
    fn from(c: &store::SendCounts) -> SendCounts {
        SendCounts {
            canceled: c.canceled,
            deferred: c.deferred,
            delivered: c.delivered,
            failed: c.failed,
            queued: c.queued,
            recipients: c.recipients,
            sent: c.sent,
            suppressed: c.suppressed,
            unknown: c.unknown,
        }
    }
}

/// How a tracking entry's text was encoded; `""` when it was never encoded.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
pub enum TrackingEncodingName {
    #[serde(rename = "GSM-7")]
    Gsm7,
    #[serde(rename = "UCS-2")]
    Ucs2,
    #[serde(rename = "")]
    None,
}

/// One recipient of a send: its last status (API.md §5).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrackingEntry {
    pub date: Timestamp,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "TrackingEncodingName")]
    pub encoding: Option<String>,
    /// The short name of the code (`Delivered`); a queueMO reply's text.
    pub message: String,
    pub mobile_number: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "i32")]
    pub segments: Option<i32>,
    #[schemars(pattern(STATUS_CODE_PATTERN))]
    pub standard_status_code: String,
    #[schemars(pattern(STATUS_CODE_PATTERN))]
    pub status_code: String,
}

impl TrackingEntry {
    pub fn new(d: Dates, kind: store::SendKind, r: &store::TrackingRow) -> TrackingEntry {
        let (short, description) = service::describe(r);
        let code = r.status_code.to_string();
        TrackingEntry {
            date: Timestamp::at(d, r.updated_at),
            description: description.to_string(),
            encoding: r.encoding.clone(),
            // A reply's tracking names its text (API.md §6 queueMO deliveries).
            message: match (kind, &r.text) {
                (store::SendKind::Mo, Some(text)) => text.clone(),
                _ => short.to_string(),
            },
            mobile_number: r.mobile_number.clone(),
            note: r.note.clone(),
            segments: r.segments,
            standard_status_code: code.clone(),
            status_code: code,
        }
    }
}

/// The status document of a messageList or messageContact send (API.md §5): counts, a page of
/// tracking, when it may go next.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SendStatus {
    pub complete_date: Option<Timestamp>,
    pub count: i64,
    pub counts: SendCounts,
    pub create_date: Timestamp,
    #[schemars(with = "EncodingName")]
    pub encoding: String,
    /// Why a send in Error could not run.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    /// The text as sent, before per-contact substitution.
    pub message: String,
    pub page: u32,
    pub page_size: u32,
    pub scheduled_for: Option<Timestamp>,
    pub segments: i32,
    #[schemars(with = "SendStateName")]
    pub status: &'static str,
    pub tracking: Vec<TrackingEntry>,
    pub tracking_total: i64,
}

impl SendStatus {
    pub fn new(d: Dates, report: &service::SendReport) -> SendStatus {
        let send = &report.send;
        SendStatus {
            complete_date: send.completed_at.map(|t| Timestamp::at(d, t)),
            count: send.count,
            counts: SendCounts::from(&report.counts),
            create_date: Timestamp::at(d, send.created_at),
            encoding: send.encoding.clone(),
            errors: send.errors.clone(),
            message: send.text.clone(),
            page: report.page.number,
            page_size: report.page.size,
            scheduled_for: report.next_at.map(|t| Timestamp::at(d, t)),
            segments: send.segments,
            status: send.state.as_str(),
            tracking: report
                .tracking
                .iter()
                .map(|r| TrackingEntry::new(d, send.kind, r))
                .collect(),
            tracking_total: send.count,
        }
    }
}

/// The status of the replies of a queueMO call (API.md §6): one tracking entry per reply; there
/// is no stored message.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MoSendStatus {
    pub complete_date: Option<Timestamp>,
    pub count: i64,
    pub counts: SendCounts,
    pub create_date: Timestamp,
    #[schemars(with = "EncodingName")]
    pub encoding: String,
    /// Why a send in Error could not run.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    pub page: u32,
    pub page_size: u32,
    pub scheduled_for: Option<Timestamp>,
    pub segments: i32,
    #[schemars(with = "SendStateName")]
    pub status: &'static str,
    pub tracking: Vec<TrackingEntry>,
    pub tracking_total: i64,
}

impl MoSendStatus {
    pub fn new(d: Dates, report: &service::SendReport) -> MoSendStatus {
        let s = SendStatus::new(d, report);
        MoSendStatus {
            complete_date: s.complete_date,
            count: s.count,
            counts: s.counts,
            create_date: s.create_date,
            encoding: s.encoding,
            errors: s.errors,
            page: s.page,
            page_size: s.page_size,
            scheduled_for: s.scheduled_for,
            segments: s.segments,
            status: s.status,
            tracking: s.tracking,
            tracking_total: s.tracking_total,
        }
    }
}

/// `GET /admin/v1/sends/{tokenId}`: the status document with the send's token, account and
/// message.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdminSendStatus {
    pub account_id: String,
    pub complete_date: Option<Timestamp>,
    pub count: i64,
    pub counts: SendCounts,
    pub create_date: Timestamp,
    #[schemars(with = "EncodingName")]
    pub encoding: String,
    /// Why a send in Error could not run.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    /// The text as sent, before per-contact substitution.
    pub message: String,
    pub message_id: String,
    pub page: u32,
    pub page_size: u32,
    pub scheduled_for: Option<Timestamp>,
    pub segments: i32,
    #[schemars(with = "SendStateName")]
    pub status: &'static str,
    /// A send or job token, as minted (API.md §3).
    #[schemars(pattern(TOKEN_PATTERN))]
    pub token_id: String,
    pub tracking: Vec<TrackingEntry>,
    pub tracking_total: i64,
}

impl AdminSendStatus {
    pub fn new(d: Dates, acct: &store::Account, report: &service::SendReport) -> AdminSendStatus {
        let s = SendStatus::new(d, report);
        AdminSendStatus {
            account_id: acct.id.clone(),
            complete_date: s.complete_date,
            count: s.count,
            counts: s.counts,
            create_date: s.create_date,
            encoding: s.encoding,
            errors: s.errors,
            message: s.message,
            message_id: report.send.message_id.clone(),
            page: s.page,
            page_size: s.page_size,
            scheduled_for: s.scheduled_for,
            segments: s.segments,
            status: s.status,
            token_id: report.send.token.clone(),
            tracking: s.tracking,
            tracking_total: s.tracking_total,
        }
    }
}

/// What a contacts import added, updated and refused; a bad row never rejects the good ones.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ImportReport {
    pub added: u64,
    /// The refused rows (the first 1000).
    pub errors: Vec<ImportRowError>,
    pub invalid: u64,
    /// Numbers already in the list.
    pub updated: u64,
}

/// A row an import refused, and why.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ImportRowError {
    pub reason: String,
    /// 1-based; a CSV's header is row 1.
    pub row: u64,
    pub value: String,
}

impl From<&service::import::ImportReport> for ImportReport {
    fn from(r: &service::import::ImportReport) -> ImportReport {
        ImportReport {
            added: r.added,
            errors: r
                .errors
                .iter()
                .map(|e| ImportRowError {
                    reason: e.reason.clone(),
                    row: e.row,
                    value: e.value.clone(),
                })
                .collect(),
            invalid: r.invalid,
            updated: r.updated,
        }
    }
}

/// `GET /healthz`: the process is up.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Health {
    #[schemars(extend("const" = "ok"))]
    pub status: &'static str,
}

impl Health {
    pub const UP: Health = Health { status: "ok" };
}

/// `GET /readyz`: the database is reachable and migrated.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Ready {
    #[schemars(extend("const" = "ready"))]
    pub status: &'static str,
}

impl Ready {
    pub const READY: Ready = Ready { status: "ready" };
}

/// `GET /readyz` (503): not ready; the cause is logged, never answered (API.md §8).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct NotReady {
    #[schemars(extend("const" = "unavailable"))]
    pub status: &'static str,
}

impl NotReady {
    pub const NOT_READY: NotReady = NotReady {
        status: "unavailable",
    };
}

/// MobileConnect's documented error shape of `POST /sms/v1/message/optin` (API.md §6b): every
/// message in `fieldErrors`, in the contract's order.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FieldErrors {
    #[schemars(extend("const" = "Invalid data"))]
    pub message: &'static str,
    #[schemars(extend("const" = 11000))]
    pub errorcode: u32,
    #[schemars(extend("const" = ""))]
    pub documentation: &'static str,
    #[schemars(length(max = 0))]
    pub object_errors: Vec<FieldError>,
    #[schemars(length(min = 1))]
    pub field_errors: Vec<FieldError>,
}

/// One message of [`FieldErrors`].
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct FieldError {
    pub message: String,
    #[schemars(extend("const" = 10005))]
    pub errorcode: u32,
    #[schemars(extend("const" = ""))]
    pub documentation: &'static str,
}

impl FieldErrors {
    pub fn new(messages: Vec<String>) -> FieldErrors {
        FieldErrors {
            message: "Invalid data",
            errorcode: 11000,
            documentation: "",
            object_errors: Vec::new(),
            field_errors: messages
                .into_iter()
                .map(|message| FieldError {
                    message,
                    errorcode: 10005,
                    documentation: "",
                })
                .collect(),
        }
    }
}

/// `{"errors": [...]}`: what failed, every applicable message in the contract's order.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Errors {
    #[schemars(length(min = 1))]
    pub errors: Vec<String>,
}

impl Errors {
    pub fn one(message: impl Into<String>) -> Errors {
        Errors {
            errors: vec![message.into()],
        }
    }
}

/// `{"errors": [...]}` with one fixed message; the schema names it.
macro_rules! fixed_error {
    ($(#[$doc:meta])* $name:ident, $message:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Serialize, JsonSchema)]
        pub struct $name {
            #[schemars(extend("items" = { "const": $message }))]
            pub errors: [&'static str; 1],
        }

        impl $name {
            pub const MESSAGE: &'static str = $message;
            pub const BODY: $name = $name {
                errors: [$message],
            };
        }
    };
}

fixed_error!(
    /// 405: the path does not take this method (API.md §1).
    MethodNotAllowed,
    "Method not allowed."
);
fixed_error!(
    /// 413: the body is over the limit (API.md §1).
    TooLarge,
    "The request body is too large."
);
fixed_error!(
    /// 408: the body did not arrive in time (API.md §1).
    RequestTimeout,
    "The request took too long to arrive."
);
fixed_error!(
    /// 401 on the admin API: a missing or wrong admin token (API.md §7).
    AdminNotAuthorized,
    "Not authorized."
);

/// `Not found.` for a path that names nothing; on the admin API, the object not found
/// (`Account abc not found.`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct NotFound {
    pub errors: [String; 1],
}

/// What a 500 answers: the reference id under which the cause is logged.
pub const INTERNAL_ERROR_PATTERN: &str = "^An unexpected error occurred, please contact Customer \
Support with reference id [A-Za-z0-9_-]+\\.$";

/// 500: an unexpected failure; the reference id is logged with the cause.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct InternalError {
    #[schemars(extend("items" = { "type": "string", "pattern": INTERNAL_ERROR_PATTERN }))]
    pub errors: [String; 1],
}

impl InternalError {
    pub fn with_reference(reference: &str) -> InternalError {
        InternalError {
            errors: [format!(
                "An unexpected error occurred, please contact Customer Support with reference id \
                 {reference}."
            )],
        }
    }
}

/// 401 on `/sms/v1`: a missing, unknown, expired or revoked access token (API.md §2).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct NotAuthorized {
    pub documentation: &'static str,
    #[schemars(extend("const" = 0))]
    pub errorcode: u32,
    #[schemars(extend("const" = "Not Authorized"))]
    pub message: &'static str,
}

impl NotAuthorized {
    pub const BODY: NotAuthorized = NotAuthorized {
        documentation: crate::error::DOCS_URL,
        errorcode: 0,
        message: "Not Authorized",
    };
}

/// 403 on `/sms/v1`: the token lacks the operation's scope (API.md §2).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct InsufficientPrivileges {
    pub documentation: &'static str,
    #[schemars(extend("const" = 40003))]
    pub errorcode: u32,
    #[schemars(extend("const" = "Insufficient privileges"))]
    pub message: &'static str,
}

impl InsufficientPrivileges {
    pub const BODY: InsufficientPrivileges = InsufficientPrivileges {
        documentation: crate::error::DOCS_URL,
        errorcode: 40003,
        message: "Insufficient privileges",
    };
}

/// 429: too many requests from this API client, or too many failed token requests (API.md §2).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RateLimited {
    pub documentation: &'static str,
    #[schemars(extend("const" = 50100))]
    pub errorcode: u32,
    #[schemars(extend("const" = "Rate limit exceeded"))]
    pub message: &'static str,
    /// Seconds to wait, as `Retry-After` says.
    #[schemars(range(min = 1))]
    pub retry_after: u64,
}

impl RateLimited {
    pub const fn new(retry_after: u64) -> RateLimited {
        RateLimited {
            documentation: crate::error::DOCS_URL,
            errorcode: 50100,
            message: "Rate limit exceeded",
            retry_after,
        }
    }
}

/// A `/v2/token` failure, as OAuth 2.0 words it (API.md §2).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "OAuthError")]
pub struct OAuthErrorBody {
    pub error: crate::error::OAuthError,
    pub error_description: &'static str,
    pub error_uri: &'static str,
}

#[cfg(test)]
mod tests {
    //! The typed bodies write the bytes the former `json!` bodies wrote: the same keys, in the
    //! same (sorted) order, with the same null and absent fields.

    use super::*;

    fn sample_report(kind: store::SendKind, failed: bool) -> service::SendReport {
        let send = store::Send {
            token: "tok0123456789abcdefghijklmnop".into(),
            account_id: "acct".into(),
            client_id: None,
            kind,
            message_id: "msg".into(),
            code: "88976".into(),
            text: "Hello".into(),
            content_url: None,
            target_list_ids: vec![],
            exclusion_list_ids: vec![],
            allow_duplication: false,
            window: None,
            send_time: None,
            due_at: 1_700_000_000_000,
            segments: 1,
            encoding: "GSM-7".into(),
            state: store::SendState::Started,
            count: 2,
            errors: if failed { vec!["boom".into()] } else { vec![] },
            created_at: 1_700_000_000_000,
            completed_at: failed.then_some(1_700_000_100_000),
        };
        let tracking = vec![
            store::TrackingRow {
                mobile_number: "15555550100".into(),
                text: Some("reply".into()),
                status_code: 4000,
                outcome: None,
                segments: Some(2),
                encoding: Some("UCS-2".into()),
                note: Some("n".into()),
                updated_at: 1_700_000_050_000,
            },
            store::TrackingRow {
                mobile_number: "15555550101".into(),
                text: None,
                status_code: 1501,
                outcome: Some(store::Outcome::Suppressed),
                segments: None,
                encoding: None,
                note: None,
                updated_at: 1_700_000_060_000,
            },
        ];
        service::SendReport {
            send,
            counts: store::SendCounts {
                recipients: 1,
                queued: 2,
                deferred: 3,
                sent: 4,
                delivered: 5,
                failed: 6,
                unknown: 7,
                suppressed: 8,
                canceled: 9,
            },
            tracking,
            next_at: (!failed).then_some(1_700_000_200_000),
            page: service::Page {
                number: 1,
                size: 1000,
            },
        }
    }

    fn bytes<T: Serialize>(body: &T) -> String {
        serde_json::to_string(body).unwrap_or_default()
    }

    const D: Dates = Dates { utc: false };

    #[test]
    fn status_documents_keep_their_bytes() {
        let acct = store::Account {
            id: "acct".into(),
            name: "A".into(),
            created_at: 0,
        };
        let running = sample_report(store::SendKind::List, false);
        assert_eq!(bytes(&SendStatus::new(D, &running)), STATUS_RUNNING);
        assert_eq!(
            bytes(&AdminSendStatus::new(D, &acct, &running)),
            ADMIN_RUNNING
        );
        let failed = sample_report(store::SendKind::List, true);
        assert_eq!(bytes(&SendStatus::new(D, &failed)), STATUS_FAILED);
        assert_eq!(
            bytes(&AdminSendStatus::new(D, &acct, &failed)),
            ADMIN_FAILED
        );
        let mo = sample_report(store::SendKind::Mo, false);
        assert_eq!(bytes(&MoSendStatus::new(D, &mo)), MO_RUNNING);
    }

    #[test]
    fn import_reports_keep_their_bytes() {
        let mut report = service::import::ImportReport {
            added: 3,
            updated: 1,
            ..Default::default()
        };
        report.reject(4, "abc", "bad".into());
        assert_eq!(bytes(&ImportReport::from(&report)), IMPORT);
        let empty = service::import::ImportReport::default();
        assert_eq!(bytes(&ImportReport::from(&empty)), IMPORT_EMPTY);
    }

    const STATUS_RUNNING: &str = r#"{"completeDate":null,"count":2,"counts":{"canceled":9,"deferred":3,"delivered":5,"failed":6,"queued":2,"recipients":1,"sent":4,"suppressed":8,"unknown":7},"createDate":"2023-11-14T16:13:20.000","encoding":"GSM-7","message":"Hello","page":1,"pageSize":1000,"scheduledFor":"2023-11-14T16:16:40.000","segments":1,"status":"Started","tracking":[{"date":"2023-11-14T16:14:10.000","description":"Delivered to handset","encoding":"UCS-2","message":"Delivered","mobileNumber":"15555550100","note":"n","segments":2,"standardStatusCode":"4000","statusCode":"4000"},{"date":"2023-11-14T16:14:20.000","description":"Not subscribed on the code: not sent","message":"Suppressed","mobileNumber":"15555550101","standardStatusCode":"1501","statusCode":"1501"}],"trackingTotal":2}"#;
    const ADMIN_RUNNING: &str = r#"{"accountId":"acct","completeDate":null,"count":2,"counts":{"canceled":9,"deferred":3,"delivered":5,"failed":6,"queued":2,"recipients":1,"sent":4,"suppressed":8,"unknown":7},"createDate":"2023-11-14T16:13:20.000","encoding":"GSM-7","message":"Hello","messageId":"msg","page":1,"pageSize":1000,"scheduledFor":"2023-11-14T16:16:40.000","segments":1,"status":"Started","tokenId":"tok0123456789abcdefghijklmnop","tracking":[{"date":"2023-11-14T16:14:10.000","description":"Delivered to handset","encoding":"UCS-2","message":"Delivered","mobileNumber":"15555550100","note":"n","segments":2,"standardStatusCode":"4000","statusCode":"4000"},{"date":"2023-11-14T16:14:20.000","description":"Not subscribed on the code: not sent","message":"Suppressed","mobileNumber":"15555550101","standardStatusCode":"1501","statusCode":"1501"}],"trackingTotal":2}"#;
    const STATUS_FAILED: &str = r#"{"completeDate":"2023-11-14T16:15:00.000","count":2,"counts":{"canceled":9,"deferred":3,"delivered":5,"failed":6,"queued":2,"recipients":1,"sent":4,"suppressed":8,"unknown":7},"createDate":"2023-11-14T16:13:20.000","encoding":"GSM-7","errors":["boom"],"message":"Hello","page":1,"pageSize":1000,"scheduledFor":null,"segments":1,"status":"Started","tracking":[{"date":"2023-11-14T16:14:10.000","description":"Delivered to handset","encoding":"UCS-2","message":"Delivered","mobileNumber":"15555550100","note":"n","segments":2,"standardStatusCode":"4000","statusCode":"4000"},{"date":"2023-11-14T16:14:20.000","description":"Not subscribed on the code: not sent","message":"Suppressed","mobileNumber":"15555550101","standardStatusCode":"1501","statusCode":"1501"}],"trackingTotal":2}"#;
    const ADMIN_FAILED: &str = r#"{"accountId":"acct","completeDate":"2023-11-14T16:15:00.000","count":2,"counts":{"canceled":9,"deferred":3,"delivered":5,"failed":6,"queued":2,"recipients":1,"sent":4,"suppressed":8,"unknown":7},"createDate":"2023-11-14T16:13:20.000","encoding":"GSM-7","errors":["boom"],"message":"Hello","messageId":"msg","page":1,"pageSize":1000,"scheduledFor":null,"segments":1,"status":"Started","tokenId":"tok0123456789abcdefghijklmnop","tracking":[{"date":"2023-11-14T16:14:10.000","description":"Delivered to handset","encoding":"UCS-2","message":"Delivered","mobileNumber":"15555550100","note":"n","segments":2,"standardStatusCode":"4000","statusCode":"4000"},{"date":"2023-11-14T16:14:20.000","description":"Not subscribed on the code: not sent","message":"Suppressed","mobileNumber":"15555550101","standardStatusCode":"1501","statusCode":"1501"}],"trackingTotal":2}"#;
    const MO_RUNNING: &str = r#"{"completeDate":null,"count":2,"counts":{"canceled":9,"deferred":3,"delivered":5,"failed":6,"queued":2,"recipients":1,"sent":4,"suppressed":8,"unknown":7},"createDate":"2023-11-14T16:13:20.000","encoding":"GSM-7","page":1,"pageSize":1000,"scheduledFor":"2023-11-14T16:16:40.000","segments":1,"status":"Started","tracking":[{"date":"2023-11-14T16:14:10.000","description":"Delivered to handset","encoding":"UCS-2","message":"reply","mobileNumber":"15555550100","note":"n","segments":2,"standardStatusCode":"4000","statusCode":"4000"},{"date":"2023-11-14T16:14:20.000","description":"Not subscribed on the code: not sent","message":"Suppressed","mobileNumber":"15555550101","standardStatusCode":"1501","statusCode":"1501"}],"trackingTotal":2}"#;
    const IMPORT: &str =
        r#"{"added":3,"errors":[{"reason":"bad","row":4,"value":"abc"}],"invalid":1,"updated":1}"#;
    const IMPORT_EMPTY: &str = r#"{"added":0,"errors":[],"invalid":0,"updated":0}"#;

    #[test]
    fn error_and_health_bodies_keep_their_bytes() {
        let docs = crate::error::DOCS_URL;
        assert_eq!(bytes(&Health::UP), r#"{"status":"ok"}"#);
        assert_eq!(bytes(&Ready::READY), r#"{"status":"ready"}"#);
        assert_eq!(bytes(&NotReady::NOT_READY), r#"{"status":"unavailable"}"#);
        assert_eq!(
            bytes(&Errors {
                errors: vec!["a".into(), "b".into()]
            }),
            r#"{"errors":["a","b"]}"#
        );
        assert_eq!(
            bytes(&MethodNotAllowed::BODY),
            r#"{"errors":["Method not allowed."]}"#
        );
        assert_eq!(
            bytes(&NotAuthorized::BODY),
            format!(r#"{{"documentation":"{docs}","errorcode":0,"message":"Not Authorized"}}"#)
        );
        assert_eq!(
            bytes(&InsufficientPrivileges::BODY),
            format!(
                r#"{{"documentation":"{docs}","errorcode":40003,"message":"Insufficient privileges"}}"#
            )
        );
        assert_eq!(
            bytes(&RateLimited::new(7)),
            format!(
                r#"{{"documentation":"{docs}","errorcode":50100,"message":"Rate limit exceeded","retryAfter":7}}"#
            )
        );
        assert_eq!(
            bytes(&OAuthErrorBody {
                error: crate::error::OAuthError::UnauthorizedClient,
                error_description: "d",
                error_uri: "u",
            }),
            r#"{"error":"unauthorized_client","error_description":"d","error_uri":"u"}"#
        );
        let internal = bytes(&InternalError::with_reference("abc_1-Z"));
        assert_eq!(
            internal,
            r#"{"errors":["An unexpected error occurred, please contact Customer Support with reference id abc_1-Z."]}"#
        );
    }
}

// ---- transactional messaging (API.md §9) -----------------------------------------------------

/// The error body of the transactional routes (API.md §9): one error, `<symbol>: <detail>`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TxErrorBody {
    #[schemars(pattern("^MCMS_[A-Za-z_]+: .+$"))]
    pub message: String,
    pub errorcode: u32,
    #[schemars(extend("const" = ""))]
    pub documentation: &'static str,
}

impl TxErrorBody {
    pub fn new(error: &domain::transactional::TxError) -> TxErrorBody {
        TxErrorBody {
            message: error.message(),
            errorcode: error.code,
            documentation: "",
        }
    }
}

/// A send definition (API.md §9): create's 201, GET and PATCH — every stored field.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DefinitionBody {
    pub request_id: String,
    pub name: String,
    pub definition_key: String,
    pub definition_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[schemars(extend("enum" = ["Active", "Inactive"]))]
    pub status: &'static str,
    /// §1's format (CST).
    pub created_date: String,
    pub modified_date: String,
    pub content: DefinitionContent,
    pub subscriptions: DefinitionSubscriptions,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DefinitionContent {
    pub message: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DefinitionSubscriptions {
    pub short_code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
    pub keyword: String,
    pub auto_add_subscriber: bool,
    pub update_subscriber: bool,
}

/// `GET /messaging/v1/sms/definitions`: one page; `count` is every match.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DefinitionListBody {
    pub request_id: String,
    pub definitions: Vec<DefinitionItem>,
    pub count: u64,
    pub page: u32,
    pub page_size: u32,
}

/// A definition in a listing (the five documented fields; an archived one under its
/// `deletedDefinitionKey`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DefinitionItem {
    pub definition_key: String,
    #[schemars(extend("enum" = ["Active", "Inactive", "Deleted"]))]
    pub status: &'static str,
    pub name: String,
    pub created_date: String,
    pub modified_date: String,
}

/// `DELETE /messaging/v1/sms/definitions/{definitionKey}`: archived under
/// `deletedDefinitionKey`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DefinitionDeleted {
    #[schemars(extend("const" = "Success"))]
    pub message: &'static str,
    pub request_id: String,
    pub deleted_definition_key: String,
}

/// `202` of a transactional send: one entry per recipient, in request order (API.md §9).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TxSendAccepted {
    pub request_id: String,
    /// 0, or 109001 when any recipient was refused.
    pub errorcode: u32,
    /// With 109001: `MCMS_UTM_ResponsesHasErrors: {n} subscribers failed to queue out of {m}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub responses: Vec<TxSendResponse>,
}

/// One recipient of [`TxSendAccepted`]: its key, and its refusal if any.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TxSendResponse {
    pub message_key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errorcode: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// `GET /messaging/v1/sms/messages/{messageKey}` (API.md §9 "Status route").
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TxStatusBody {
    pub request_id: String,
    #[schemars(extend("enum" = [
        "TransactionalSendEvents.SMSQueued",
        "TransactionalSendEvents.SMSSent",
        "TransactionalSendEvents.SMSNotSent"
    ]))]
    pub event_category_type: &'static str,
    /// §1's format (CST).
    pub timestamp: String,
    /// Opaque, fixed per message; absent while queued.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub composite_id: Option<String>,
    pub info: TxStatusInfo,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TxStatusInfo {
    pub message_key: String,
    pub contact_key: String,
    pub to: String,
    /// NotSent: the subscriber code, or the §5 code of a carrier failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_code: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_message: Option<&'static str>,
}

/// `GET /messaging/v1/sms/definitions/{definitionKey}/queue`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueueMetrics {
    pub request_id: String,
    /// Messages waiting to be handed over.
    pub count: i64,
    /// Age of the oldest, in seconds; 0 when none waits.
    pub age_seconds: i64,
}

/// `DELETE /messaging/v1/sms/definitions/{definitionKey}/queue`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueueEmptied {
    pub request_id: String,
    #[schemars(extend("const" = "Queued"))]
    pub message: &'static str,
}

/// `GET /messaging/v1/sms/messages?type=notSent` (API.md §9): `lastEventID` is the last event
/// returned, or the request's `lastEventId` when none is.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct NotSentPage {
    #[serde(rename = "lastEventID")]
    pub last_event_id: i64,
    pub messages: Vec<NotSentEntry>,
    pub count: usize,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotSentEntry {
    pub status_code: i32,
    pub status_message: &'static str,
    #[schemars(extend("const" = "TransactionalSendEvents.SMSNotSent"))]
    pub event_category_type: &'static str,
    /// §1's format (CST).
    pub timestamp: String,
    pub definition_key: String,
    #[serde(rename = "eventID")]
    pub event_id: i64,
    pub info: NotSentInfo,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotSentInfo {
    pub message_key: String,
    pub contact_key: String,
    pub to: String,
}

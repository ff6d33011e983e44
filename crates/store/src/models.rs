//! Rows the store reads and writes. Plain data: validation happens before it gets here.

use serde::{Deserialize, Serialize};

use domain::{BlackoutWindow, ClockTime, EncodedId, Encoding, UtcOffset};

use crate::{
    InboundText, MessageStatus, Millis, SendState, StoreError, StoreResult, SubscriptionStatus,
};

/// Attributes of a contact (`%%Name%%` substitution), as given: names keep their spelling.
pub type Attributes = serde_json::Map<String, serde_json::Value>;

#[derive(Debug, Clone)]
pub struct NewAccount {
    pub id: String,
    pub name: String,
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    pub id: String,
    pub name: String,
    pub created_at: Millis,
}

#[derive(Debug, Clone)]
pub struct NewClient {
    pub client_id: String,
    /// PHC string of the secret's argon2 hash.
    pub secret_hash: String,
    /// The client's own account.
    pub account_id: String,
    pub scopes: Vec<String>,
    /// Further accounts the client may act for (`account_id` of `/v2/token`).
    pub accounts: Vec<String>,
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub client_id: String,
    pub secret_hash: String,
    pub account_id: String,
    pub scopes: Vec<String>,
    pub accounts: Vec<String>,
    pub created_at: Millis,
    pub revoked_at: Option<Millis>,
}

#[derive(Debug, Clone)]
pub struct NewAccessToken {
    /// Hex SHA-256 of the token; the token itself is never stored.
    pub token_hash: String,
    pub client_id: String,
    pub account_id: String,
    pub scopes: Vec<String>,
    pub created_at: Millis,
    pub expires_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessToken {
    pub client_id: String,
    pub account_id: String,
    pub scopes: Vec<String>,
    pub expires_at: Millis,
}

#[derive(Debug, Clone)]
pub struct NewCode {
    pub id: String,
    pub account_id: String,
    pub code: String,
    pub country_code: String,
    /// `short` or `long`.
    pub kind: String,
    pub carrier: String,
    pub opt_out_text: Option<String>,
    pub help_text: Option<String>,
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Code {
    pub id: String,
    pub account_id: String,
    pub code: String,
    pub country_code: String,
    pub kind: String,
    pub carrier: String,
    pub opt_out_text: Option<String>,
    pub help_text: Option<String>,
    pub created_at: Millis,
}

#[derive(Debug, Clone)]
pub struct NewKeyword {
    pub id: String,
    pub account_id: String,
    /// The code string (`"88976"`) the keyword lives on.
    pub code: String,
    pub keyword: String,
    pub response: Option<String>,
    pub double_opt_in: bool,
    pub confirm_text: Option<String>,
    pub created_at: Millis,
    /// An opt-in message's rules (API.md §6b); `None` for a keyword of the admin API or
    /// `POST /sms/v1/keyword`.
    pub opt_in: Option<domain::OptInRules>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Keyword {
    pub id: String,
    pub account_id: String,
    pub code: String,
    pub keyword: String,
    pub response: Option<String>,
    pub double_opt_in: bool,
    pub confirm_text: Option<String>,
    pub created_at: Millis,
    /// An opt-in message's rules (API.md §6b), when `message/optin` made the keyword.
    pub opt_in: Option<domain::OptInRules>,
}

/// Changes to a code (`None`: unchanged). Its ID and code string stay: keywords,
/// subscriptions, messages and sends name it by them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CodePatch {
    pub country_code: Option<String>,
    /// `short` or `long`.
    pub kind: Option<String>,
    pub carrier: Option<String>,
    /// `Some(None)` goes back to the default reply.
    pub opt_out_text: Option<Option<String>>,
    pub help_text: Option<Option<String>>,
}

/// Changes to a keyword (`None`: unchanged). Its code and word stay: subscriptions are to them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeywordPatch {
    /// `Some(None)` removes the reply.
    pub response: Option<Option<String>>,
    pub double_opt_in: Option<bool>,
    pub confirm_text: Option<Option<String>>,
    /// `Some(None)` makes it an ordinary keyword again.
    pub opt_in: Option<Option<domain::OptInRules>>,
}

#[derive(Debug, Clone)]
pub struct NewMessage {
    pub id: String,
    pub account_id: String,
    pub name: String,
    /// Code string; must exist in the account (NotFound otherwise).
    pub code: String,
    pub text: String,
    pub status: MessageStatus,
    pub target_list_ids: Vec<String>,
    pub exclusion_list_ids: Vec<String>,
    pub content_url: Option<String>,
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub code: String,
    pub text: String,
    pub status: MessageStatus,
    pub target_list_ids: Vec<String>,
    pub exclusion_list_ids: Vec<String>,
    pub content_url: Option<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// Fields to change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct MessagePatch {
    pub name: Option<String>,
    pub code: Option<String>,
    pub text: Option<String>,
    pub status: Option<MessageStatus>,
    pub target_list_ids: Option<Vec<String>>,
    pub exclusion_list_ids: Option<Vec<String>>,
    /// `Some(None)` clears the URL.
    pub content_url: Option<Option<String>>,
}

#[derive(Debug, Clone)]
pub struct NewList {
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub created_at: Millis,
    /// Not listed (an `importSend` list without `IsVisible`, API.md §6b); it is found by its ID
    /// like any other.
    pub hidden: bool,
    /// Its memberships count the import rows that made them (`list_members.copies`): an
    /// `importSend` with `IsDuplicationAllowed` (API.md §6b), whose send then makes one
    /// recipient per row.
    pub counts_rows: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactList {
    pub id: String,
    pub account_id: String,
    pub name: String,
    /// Number of memberships.
    pub size: i64,
    pub created_at: Millis,
    /// Last membership change; the creation time when there was none.
    pub last_change_at: Millis,
}

/// One contact to add to a list. The number is already in digits-only form.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactRow {
    pub mobile_number: String,
    pub subscriber_key: Option<String>,
    pub attributes: Attributes,
}

/// One number of a batch after merging its rows: what its contact should become.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MergedContact {
    pub subscriber_key: Option<String>,
    pub attributes: Attributes,
}

/// Merges `given` into `stored`: a given attribute replaces any stored one whose name equals it
/// ignoring ASCII case, and keeps its own spelling.
pub fn merge_attributes(stored: &mut Attributes, given: &Attributes) {
    for (name, value) in given {
        stored.retain(|existing, _| !existing.eq_ignore_ascii_case(name));
        stored.insert(name.clone(), value.clone());
    }
}

/// Merges a batch's rows by number, in batch order (attributes accumulate, a later subscriber
/// key wins): the numbers in order of first appearance, and what each one's rows come to.
pub fn merge_rows(
    rows: &[ContactRow],
) -> (Vec<&str>, std::collections::HashMap<&str, MergedContact>) {
    let mut numbers: Vec<&str> = Vec::new();
    let mut merged: std::collections::HashMap<&str, MergedContact> =
        std::collections::HashMap::new();
    for row in rows {
        let number = row.mobile_number.as_str();
        let entry = merged.entry(number).or_insert_with(|| {
            numbers.push(number);
            MergedContact::default()
        });
        if row.subscriber_key.is_some() {
            entry.subscriber_key.clone_from(&row.subscriber_key);
        }
        merge_attributes(&mut entry.attributes, &row.attributes);
    }
    (numbers, merged)
}

#[derive(Debug, Clone, PartialEq)]
pub struct Contact {
    pub mobile_number: String,
    pub subscriber_key: Option<String>,
    pub attributes: Attributes,
}

/// A keyword on a code, both by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscribeTo {
    pub code: String,
    pub keyword: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MemberCounts {
    /// Numbers newly added to the list.
    pub added: u64,
    /// Numbers that were already members (their contact data updated).
    pub updated: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub mobile_number: String,
    pub code: String,
    pub keyword: String,
    pub status: SubscriptionStatus,
    pub opt_in_date: Option<Millis>,
    pub opt_out_date: Option<Millis>,
    /// A double opt-in request waiting for its `Y`/`YES` (status InProgress): since when, and
    /// the status it goes back to when it lapses (`None`: the subscription is removed).
    pub pending: Option<PendingOptIn>,
    /// The last opt-out of this subscription came from the number's own STOP-family text
    /// (false: from the admin API or the console, or it never opted out). Only a text sets it;
    /// an operator's opt-out clears it (API.md §6: START on a shared code re-subscribes only
    /// what the number opted out of by text).
    pub opt_out_by_text: bool,
    /// Since when the keyword's NextKeyword waits for the number's next text (API.md §6b);
    /// `None`: nothing waits.
    pub next_keyword_since: Option<Millis>,
}

/// A number that opted out of a code by a STOP-family text (API.md §6), whatever keywords the
/// code has or gets later: imports and `Subscribe` leave it out; a START-family text ends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeOptOut {
    pub mobile_number: String,
    pub opted_out_at: Millis,
}

/// A change to a number's opt-out of a whole code, decided by keyword handling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptOutWrite {
    /// The number opted out of the code by text at `at` (an earlier opt-out keeps its date).
    Set { mobile_number: String, at: Millis },
    /// The number opted back in (START-family text).
    Clear { mobile_number: String },
}

/// A double opt-in request waiting for confirmation (API.md §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingOptIn {
    pub since: Millis,
    pub previous: Option<SubscriptionStatus>,
}

/// Which endpoint created a send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SendKind {
    /// `POST /sms/v1/messageList/{id}/send`
    List,
    /// `POST /sms/v1/messageContact/{id}/send`
    Contact,
    /// The replies to inbound texts (`POST /sms/v1/queueMO` and carriers' inbound texts): each
    /// recipient has its own text, and no subscription is needed to receive it.
    Mo,
    /// `POST /messaging/v1/sms/messages` (API.md §9): a request's messages, each recipient with
    /// its own text.
    Transactional,
}

impl SendKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SendKind::List => "list",
            SendKind::Contact => "contact",
            SendKind::Mo => "mo",
            SendKind::Transactional => "transactional",
        }
    }
    pub fn parse(s: &str) -> Option<SendKind> {
        match s {
            "list" => Some(SendKind::List),
            "contact" => Some(SendKind::Contact),
            "mo" => Some(SendKind::Mo),
            "transactional" => Some(SendKind::Transactional),
            _ => None,
        }
    }
}

/// A blackout window's columns: offset in minutes east of UTC, start and end as minutes of the
/// local day (all three or none).
pub fn window_columns(window: Option<&BlackoutWindow>) -> (Option<i32>, Option<i32>, Option<i32>) {
    match window {
        Some(w) => (
            Some(w.offset.minutes()),
            Some(w.start.minute_of_day()),
            Some(w.end.minute_of_day()),
        ),
        None => (None, None, None),
    }
}

/// The blackout window a send's columns hold (`token` names the send in the error).
pub fn window_from_columns(
    token: &str,
    columns: (Option<i32>, Option<i32>, Option<i32>),
) -> StoreResult<Option<BlackoutWindow>> {
    match columns {
        (None, None, None) => Ok(None),
        (Some(offset), Some(start), Some(end)) => {
            let window = UtcOffset::from_minutes(offset).and_then(|offset| {
                Some(BlackoutWindow {
                    offset,
                    start: ClockTime::from_minute_of_day(start)?,
                    end: ClockTime::from_minute_of_day(end)?,
                })
            });
            window.map(Some).ok_or_else(|| {
                StoreError::Other(format!("send {token} has an invalid blackout window"))
            })
        }
        _ => Err(StoreError::Other(format!(
            "send {token} has a partial blackout window"
        ))),
    }
}

#[derive(Debug, Clone)]
pub struct Idempotency {
    pub client_id: String,
    pub key: String,
    /// Hash of the request (path and body) that first used the key.
    pub request_hash: String,
}

/// Everything a send was accepted with, resolved (API.md §4 "What a send does": fixed at
/// acceptance).
#[derive(Debug, Clone)]
pub struct NewSend {
    pub token: String,
    pub account_id: String,
    pub client_id: Option<String>,
    pub kind: SendKind,
    pub message_id: EncodedId,
    pub code: String,
    pub text: String,
    pub content_url: Option<String>,
    pub target_list_ids: Vec<String>,
    pub exclusion_list_ids: Vec<String>,
    pub allow_duplication: bool,
    pub window: Option<BlackoutWindow>,
    /// The requested `sendTime`, when given.
    pub send_time: Option<Millis>,
    /// When the send becomes due (send time, or now, pushed past a blackout window).
    pub due_at: Millis,
    /// Segments and encoding of the text before substitution.
    pub segments: i32,
    pub encoding: Encoding,
    pub created_at: Millis,
    pub idempotency: Option<Idempotency>,
}

#[derive(Debug, Clone)]
pub enum CreatedSend {
    Created(Send),
    /// The idempotency key was used before: the earlier send and the hash of its request.
    Existing {
        send: Send,
        request_hash: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Send {
    pub token: String,
    pub account_id: String,
    pub client_id: Option<String>,
    pub kind: SendKind,
    pub message_id: String,
    pub code: String,
    pub text: String,
    pub content_url: Option<String>,
    pub target_list_ids: Vec<String>,
    pub exclusion_list_ids: Vec<String>,
    pub allow_duplication: bool,
    pub window: Option<BlackoutWindow>,
    pub send_time: Option<Millis>,
    pub due_at: Millis,
    pub segments: i32,
    pub encoding: String,
    pub state: SendState,
    /// Recipients after expansion (0 until expanded).
    pub count: i64,
    /// Why the send is in Error.
    pub errors: Vec<String>,
    pub created_at: Millis,
    pub completed_at: Option<Millis>,
}

#[derive(Debug, Clone, Default)]
pub struct SendQuery {
    pub state: Option<SendState>,
    pub after: Option<String>,
    /// Most sends to return; 0 means no limit.
    pub limit: u32,
}

/// The explicit audience of a `messageContact` send (API.md §6), fixed at acceptance.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactAudience {
    /// Distinct numbers, in request order, each with the text it gets (placeholders already
    /// replaced) and the subscriber key given for it.
    pub numbers: Vec<ContactNumber>,
    /// `Subscribe`/`Resubscribe` with a keyword of the send's code.
    pub subscribe: Option<ContactSubscribe>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactNumber {
    pub mobile_number: String,
    pub subscriber_key: Option<String>,
    /// The number's text, placeholders replaced; `None` when that text was over 1,600
    /// characters (API.md §1): the number becomes a recipient with 1501 and the description
    /// [`codes::TEXT_TOO_LONG`](crate::codes::TEXT_TOO_LONG), never sent, and no text is stored.
    pub text: Option<String>,
}

/// What `create_contact_send` does to subscriptions before the send is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactSubscribe {
    /// A keyword on the send's code (any case).
    pub keyword: String,
    /// Create a Subscribed subscription where the number has none.
    pub subscribe: bool,
    /// Make an Unsubscribed subscription Subscribed again.
    pub resubscribe: bool,
}

/// A change to one subscription decided by keyword handling (API.md §6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubscriptionWrite {
    /// Store exactly this state (created when absent).
    Put(Subscription),
    /// Remove the subscription (a lapsed double opt-in that had none before).
    Remove {
        mobile_number: String,
        keyword: String,
    },
}

/// One reply to an inbound text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyText {
    pub mobile_number: String,
    pub text: String,
}

/// Inbound texts to one code and what keyword handling decided for them, recorded in one
/// transaction (API.md §6 keywords, `queueMO`).
#[derive(Debug, Clone, PartialEq)]
pub struct MoBatch {
    pub account_id: String,
    /// The code string the texts were sent to.
    pub code: String,
    pub texts: Vec<InboundText>,
    pub subscriptions: Vec<SubscriptionWrite>,
    /// Opt-outs of the whole code set or ended by the texts.
    pub opt_outs: Vec<OptOutWrite>,
    /// The send carrying the replies (kind `Mo`): recorded, with the replies as its recipients,
    /// ready to hand over (or Finished when there are none). The texts are linked to its token.
    pub reply_send: Option<ReplySend>,
}

impl MoBatch {
    /// The texts that stand more than once across `batches` (inbound texts and reply texts), in
    /// the order of their second appearance: a backend stores each of them once and lets every
    /// row that carries it refer to it (API.md §1: 2 MiB per request).
    pub fn repeated_texts(batches: &[MoBatch]) -> Vec<&str> {
        let mut seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        let mut order = Vec::new();
        for batch in batches {
            let replies = batch.reply_send.iter().flat_map(|s| &s.replies);
            for text in batch
                .texts
                .iter()
                .map(|t| t.text.as_str())
                .chain(replies.map(|r| r.text.as_str()))
            {
                let n = seen.entry(text).or_insert(0);
                if *n == 1 {
                    order.push(text);
                }
                *n += 1;
            }
        }
        order
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReplySend {
    pub token: String,
    pub client_id: Option<String>,
    /// What the send reports as its message (the inbound text of a `queueMO`).
    pub text: String,
    pub segments: i32,
    pub encoding: String,
    pub replies: Vec<ReplyText>,
    pub created_at: Millis,
}

/// Which way a text of a conversation went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Direction {
    /// From the mobile number to a code.
    Mo,
    /// From a code to the mobile number.
    Mt,
}

/// One text of a send's history (API.md §6 history endpoints).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    pub direction: Direction,
    pub mobile_number: String,
    pub text: String,
    pub at: Millis,
}

/// Which background job: the work of a list, or a send's delivery report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ListJobKind {
    /// `POST /sms/v1/contacts/queueImport/{listId}`
    Import,
    /// `POST /sms/v1/contacts/refreshList/{listId}`
    Refresh,
    /// `POST /sms/v1/messageList/{id}/deliveryReport/{tokenId}` (no list).
    Report,
}

impl ListJobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ListJobKind::Import => "import",
            ListJobKind::Refresh => "refresh",
            ListJobKind::Report => "report",
        }
    }
    pub fn parse(s: &str) -> Option<ListJobKind> {
        [
            ListJobKind::Import,
            ListJobKind::Refresh,
            ListJobKind::Report,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ListJobState {
    Queued,
    Processing,
    Completed,
    Error,
}

impl ListJobState {
    pub fn as_str(self) -> &'static str {
        match self {
            ListJobState::Queued => "Queued",
            ListJobState::Processing => "Processing",
            ListJobState::Completed => "Completed",
            ListJobState::Error => "Error",
        }
    }
    pub fn parse(s: &str) -> Option<ListJobState> {
        [
            ListJobState::Queued,
            ListJobState::Processing,
            ListJobState::Completed,
            ListJobState::Error,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }
    pub fn is_final(self) -> bool {
        matches!(self, ListJobState::Completed | ListJobState::Error)
    }
}

#[derive(Debug, Clone)]
pub struct NewListJob {
    pub token: String,
    pub account_id: String,
    /// When given, must name a list of the account (NotFound otherwise); stored in its
    /// canonical spelling. Reports name no list.
    pub list_id: Option<String>,
    pub kind: ListJobKind,
    pub state: ListJobState,
    /// When the list was last published (refresh jobs).
    pub publish_date: Option<Millis>,
    /// What the job's runner needs to run it again after a restart, in the runner's own
    /// encoding (the store does not read it).
    pub payload: String,
    pub created_at: Millis,
}

/// Progress of a list job; every field replaces the stored one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListJobProgress {
    pub inserted: i64,
    pub updated: i64,
    pub invalid: i64,
    /// Row errors worth showing (a bounded sample) or why the job failed.
    pub errors: Vec<String>,
}

/// A job's next recorded state, written only while `owner` holds its lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobUpdate {
    pub token: String,
    pub owner: String,
    pub state: ListJobState,
    pub progress: ListJobProgress,
    pub checkpoint: i64,
    pub now: Millis,
    /// The renewed lease (ignored once the state is final: the lease is then cleared).
    pub lease_until: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListJob {
    pub token: String,
    pub account_id: String,
    /// The list of an import or refresh; none for a report.
    pub list_id: Option<String>,
    pub kind: ListJobKind,
    pub state: ListJobState,
    pub progress: ListJobProgress,
    /// How far the runner got, in its own unit (rows of the file for an import): recorded in
    /// the same transaction as the work it counts, so a resumed job neither repeats nor skips.
    pub checkpoint: i64,
    pub payload: String,
    pub publish_date: Option<Millis>,
    pub created_at: Millis,
    /// Last change (progress is recorded at least once per batch: a heartbeat).
    pub updated_at: Millis,
    pub completed_at: Option<Millis>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_given_attribute_replaces_one_equal_ignoring_case() {
        let mut stored = Attributes::new();
        stored.insert("FirstName".into(), json!("Ann"));
        stored.insert("City".into(), json!("Oslo"));
        let mut given = Attributes::new();
        given.insert("CITY".into(), json!("Bergen"));
        given.insert("Tier".into(), json!(2));
        merge_attributes(&mut stored, &given);
        let mut expected = Attributes::new();
        expected.insert("FirstName".into(), json!("Ann"));
        expected.insert("CITY".into(), json!("Bergen"));
        expected.insert("Tier".into(), json!(2));
        assert_eq!(stored, expected);
    }

    #[test]
    fn rows_of_one_number_merge_in_batch_order() {
        let row = |n: &str, key: Option<&str>, attrs: serde_json::Value| ContactRow {
            mobile_number: n.into(),
            subscriber_key: key.map(str::to_string),
            attributes: attrs.as_object().cloned().unwrap_or_default(),
        };
        let rows = [
            row("2", Some("k1"), json!({"a": 1})),
            row("1", None, json!({"b": 1})),
            row("2", None, json!({"A": 2, "c": 3})),
            row("2", Some("k2"), json!({})),
        ];
        let (numbers, merged) = merge_rows(&rows);
        assert_eq!(numbers, ["2", "1"]);
        assert_eq!(merged["2"].subscriber_key.as_deref(), Some("k2"));
        assert_eq!(
            serde_json::Value::Object(merged["2"].attributes.clone()),
            json!({"A": 2, "c": 3})
        );
        assert_eq!(merged["1"].subscriber_key, None);
    }
}

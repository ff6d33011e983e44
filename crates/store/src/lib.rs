//! The `Store` trait: every piece of state Tidings keeps, at the level of repository operations,
//! as role traits by area (accounts, codes, messages, contacts, subscriptions, sends, expansion,
//! dispatch, tracking, inbound, list jobs, transfer, outbox) that `Store` gathers. It owns the models and the error type shared by every backend and the conformance suite that
//! each backend must pass. It must not know SQL, a database driver or HTTP.
//!
//! Conventions every backend honours (and the conformance suite checks):
//! - Times are UTC epoch milliseconds (`Millis`).
//! - IDs of one kind within one account resolve case-insensitively: every method taking an ID
//!   matches it ignoring ASCII case, and returns the canonical spelling stored at creation.
//!   Creating an object whose explicit ID equals an existing one ignoring case is a `Conflict`.
//! - An object of another account is `NotFound`, exactly like an ID that does not exist. A method
//!   scoped to an account that does not exist is `NotFound` too (even one that lists).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

#[macro_use]
mod states;
#[macro_use]
mod forward;
pub mod sql;
pub mod subscription_rows;
pub mod tracking_rows;
pub mod tx_rows;

pub mod account_rows;
pub mod code_rows;
pub mod contact_rows;
pub mod definition_rows;
mod delivery;
pub mod dispatch_rows;
pub mod expansion;
pub mod inbound_rows;
mod job_rows;
mod jobs;
pub mod list_rows;
pub mod message_rows;
mod models;
pub mod outbox_rows;
pub mod send_rows;
mod transfer;

pub use definition_rows::{
    Definition, DefinitionOrder, DefinitionPage, DefinitionPatch, DefinitionQuery,
    DefinitionStatus, StatusFilter,
};
pub use delivery::*;
pub use job_rows::*;
pub use jobs::JobStore;
pub use models::*;
pub use transfer::*;
pub use tx_rows::{TxMessage, TxOutcome, TxRequest, TxStatus};

/// The role traits and `Store`: `use store::prelude::*;` lets a caller holding a backend's own
/// type (not `dyn Store`, whose methods are always in scope) call any store method.
pub mod prelude {
    pub use crate::{
        AccountStore, CodeStore, ContactSendStore, ContactStore, DefinitionStore, DispatchStore,
        ExpansionStore, InboundStore, JobStore, Lifecycle, MessageStore, OutboxStore, SendStore,
        Store, SubscriptionStore, TrackingStore, TransferStore,
    };
}

/// UTC epoch milliseconds.
pub type Millis = i64;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("store unavailable: {0}")]
    Unavailable(String),
    #[error("store error: {0}")]
    Other(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A stored value that does not parse (`what` names it).
pub fn bad_value(what: &str, value: &str) -> StoreError {
    StoreError::Other(format!("stored {what} {value:?} is not valid"))
}

/// Contact attributes as the JSON object both backends store them as.
pub fn attributes_to_json(attributes: &Attributes) -> StoreResult<String> {
    serde_json::to_string(attributes)
        .map_err(|e| StoreError::Other(format!("encode attributes: {e}")))
}

/// Stored contact attributes.
pub fn attributes_from_json(text: &str) -> StoreResult<Attributes> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Other(format!("stored attributes are not a JSON object: {e}")))
}

/// A list of strings as the JSON array both backends store it as (scopes, list IDs, errors).
pub fn strings_to_json(values: &[String]) -> StoreResult<String> {
    serde_json::to_string(values).map_err(|e| StoreError::Other(format!("encode strings: {e}")))
}

/// A stored JSON array of strings; `what` names it in the error.
pub fn strings_from_json(text: &str, what: &str) -> StoreResult<Vec<String>> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Other(format!("stored {what} are not a JSON string array: {e}")))
}

pub use domain::{BlackoutWindow, EncodedId, Encoding, RecipientState, SendState};

/// Status of a stored message (API.md §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MessageStatus {
    Active,
    Scheduled,
    Inactive,
    Draft,
}

impl MessageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageStatus::Active => "Active",
            MessageStatus::Scheduled => "Scheduled",
            MessageStatus::Inactive => "Inactive",
            MessageStatus::Draft => "Draft",
        }
    }

    /// Parses the name, ignoring case.
    pub fn parse(s: &str) -> Option<MessageStatus> {
        [
            MessageStatus::Active,
            MessageStatus::Scheduled,
            MessageStatus::Inactive,
            MessageStatus::Draft,
        ]
        .into_iter()
        .find(|st| st.as_str().eq_ignore_ascii_case(s))
    }

    /// Active and Scheduled messages can be sent (API.md §4 row 3).
    pub fn can_send(self) -> bool {
        matches!(self, MessageStatus::Active | MessageStatus::Scheduled)
    }
}

/// Subscription state of a number for one keyword on one code (API.md §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SubscriptionStatus {
    Subscribed,
    Unsubscribed,
    InProgress,
}

impl SubscriptionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriptionStatus::Subscribed => "Subscribed",
            SubscriptionStatus::Unsubscribed => "Unsubscribed",
            SubscriptionStatus::InProgress => "InProgress",
        }
    }

    pub fn parse(s: &str) -> Option<SubscriptionStatus> {
        [
            SubscriptionStatus::Subscribed,
            SubscriptionStatus::Unsubscribed,
            SubscriptionStatus::InProgress,
        ]
        .into_iter()
        .find(|st| st.as_str().eq_ignore_ascii_case(s))
    }
}

/// A migration a backend embeds, as [`check_migrations`] compares it with the applied ones.
#[derive(Debug, Clone, Copy)]
pub struct EmbeddedMigration<'a> {
    pub version: i64,
    pub description: &'a str,
    pub checksum: &'a [u8],
}

/// Ok when every embedded (up) migration is applied with the same checksum (`applied`: version
/// and checksum of each migration the database recorded as applied); otherwise Unavailable,
/// naming the first migration missing or differing. What [`Lifecycle::ready`] checks.
pub fn check_migrations<'a>(
    applied: &[(i64, Vec<u8>)],
    embedded: impl IntoIterator<Item = EmbeddedMigration<'a>>,
) -> StoreResult<()> {
    for migration in embedded {
        match applied
            .iter()
            .find(|(version, _)| *version == migration.version)
        {
            Some((_, checksum)) if checksum[..] == migration.checksum[..] => {}
            Some(_) => {
                return Err(StoreError::Unavailable(format!(
                    "migration {} ({}) differs from the one applied",
                    migration.version, migration.description
                )))
            }
            None => {
                return Err(StoreError::Unavailable(format!(
                    "migration {} ({}) is not applied",
                    migration.version, migration.description
                )))
            }
        }
    }
    Ok(())
}

/// The repository every backend implements: one value holding every role below. All methods
/// are safe to call from many tasks and, for shared backends, from many processes at once.
///
/// The program holds it as `Arc<dyn Store>`, on which every role's methods can be called. The
/// methods belong to the role traits, each implemented by a backend in the module of its area; code
/// calling them on a backend's own type brings them into scope with `use store::prelude::*;`.
/// Every type implementing all the roles is a `Store`.
pub trait Store:
    Lifecycle
    + AccountStore
    + CodeStore
    + MessageStore
    + DefinitionStore
    + TransactionalStore
    + ContactStore
    + SubscriptionStore
    + SendStore
    + ContactSendStore
    + ExpansionStore
    + DispatchStore
    + TrackingStore
    + InboundStore
    + JobStore
    + TransferStore
    + OutboxStore
    + 'static
{
}

impl<T> Store for T where
    T: Lifecycle
        + AccountStore
        + CodeStore
        + MessageStore
        + DefinitionStore
        + TransactionalStore
        + ContactStore
        + SubscriptionStore
        + SendStore
        + ContactSendStore
        + ExpansionStore
        + DispatchStore
        + TrackingStore
        + InboundStore
        + JobStore
        + TransferStore
        + OutboxStore
        + 'static
{
}

#[async_trait]
/// The database itself: its schema and whether it can serve.
pub trait Lifecycle: std::marker::Send + Sync {
    /// Applies pending migrations. Idempotent.
    async fn migrate(&self) -> StoreResult<()>;
    /// Ok when the database is reachable and every migration is applied.
    async fn ready(&self) -> StoreResult<()>;
    /// Signals from other processes sharing this database that work may be waiting for this
    /// process's engine: another process accepted or canceled a send, finished expanding one
    /// (its recipients can be dispatched by any process) or gave back its leases. One item per
    /// signal, several possibly merged into one, and one more after a lost connection is
    /// restored (signals may have been missed). `None` for a backend that one process owns
    /// alone (SQLite): the API wakes its own engine directly. The engine still polls; signals
    /// only spare idle processes from waiting for their next poll.
    async fn work_signals(&self) -> StoreResult<Option<futures::stream::BoxStream<'static, ()>>> {
        Ok(None)
    }
}

#[async_trait]
/// Accounts, API clients and their access tokens (API.md §2, §7).
pub trait AccountStore: std::marker::Send + Sync {
    async fn create_account(&self, new: NewAccount) -> StoreResult<Account>;
    async fn get_account(&self, id: &str) -> StoreResult<Account>;
    async fn list_accounts(&self) -> StoreResult<Vec<Account>>;
    /// `client_id` must be unique ignoring case (Conflict otherwise).
    async fn create_client(&self, new: NewClient) -> StoreResult<Client>;
    /// Any client, revoked ones included (the caller checks `revoked_at`).
    async fn get_client(&self, client_id: &str) -> StoreResult<Client>;
    async fn list_clients(&self, account_id: &str) -> StoreResult<Vec<Client>>;
    /// Marks the client revoked and deletes every token it holds.
    async fn revoke_client(&self, account_id: &str, client_id: &str) -> StoreResult<()>;
    async fn insert_token(&self, new: NewAccessToken) -> StoreResult<()>;
    /// The token with this hash if it exists, is unexpired at `now` and its client is not revoked.
    async fn find_token(&self, token_hash: &str, now: Millis) -> StoreResult<Option<AccessToken>>;
    /// Replaces the client's secret hash with `new_hash` when it still is `old_hash` (an upgrade
    /// of an older hash, API.md §2): true when replaced, false when the stored hash had changed
    /// meanwhile; NotFound for an unknown client. The client's tokens are untouched.
    async fn replace_client_secret_hash(
        &self,
        client_id: &str,
        old_hash: &str,
        new_hash: &str,
    ) -> StoreResult<bool>;
    /// Deletes every access token that expired at or before `now` (API.md §8 "Retention");
    /// returns how many.
    async fn purge_expired_tokens(&self, now: Millis) -> StoreResult<u64>;
}

#[async_trait]
/// Codes and their keywords (API.md §7).
pub trait CodeStore: std::marker::Send + Sync {
    /// Conflict when the account already has this code string.
    async fn create_code(&self, new: NewCode) -> StoreResult<Code>;
    /// By ID or by code string.
    async fn get_code(&self, account_id: &str, id_or_code: &str) -> StoreResult<Code>;
    async fn list_codes(&self, account_id: &str) -> StoreResult<Vec<Code>>;
    /// Deletes the code, its keywords and their subscriptions.
    async fn delete_code(&self, account_id: &str, id_or_code: &str) -> StoreResult<()>;
    /// Applies `patch` to the account's code named by ID or code string; the updated code.
    async fn update_code(
        &self,
        account_id: &str,
        id_or_code: &str,
        patch: CodePatch,
    ) -> StoreResult<Code>;
    /// `new.code` names the code by its code string; NotFound when it does not exist.
    /// Conflict when the keyword (ignoring case) already exists on that code.
    async fn create_keyword(&self, new: NewKeyword) -> StoreResult<Keyword>;
    async fn get_keyword(&self, account_id: &str, id: &str) -> StoreResult<Keyword>;
    async fn list_keywords(&self, account_id: &str) -> StoreResult<Vec<Keyword>>;
    /// Deletes the keyword and its subscriptions.
    async fn delete_keyword(&self, account_id: &str, id: &str) -> StoreResult<()>;
    /// Applies `patch` to the account's keyword; the updated keyword.
    async fn update_keyword(
        &self,
        account_id: &str,
        id: &str,
        patch: KeywordPatch,
    ) -> StoreResult<Keyword>;
}

#[async_trait]
/// Stored messages (API.md §7).
pub trait MessageStore: std::marker::Send + Sync {
    async fn create_message(&self, new: NewMessage) -> StoreResult<Message>;
    async fn get_message(&self, account_id: &str, id: &str) -> StoreResult<Message>;
    async fn list_messages(&self, account_id: &str) -> StoreResult<Vec<Message>>;
    async fn update_message(
        &self,
        account_id: &str,
        id: &str,
        patch: MessagePatch,
        now: Millis,
    ) -> StoreResult<Message>;
    async fn delete_message(&self, account_id: &str, id: &str) -> StoreResult<()>;
}

#[async_trait]
/// Transactional send definitions (API.md §9). Keys match ignoring case; an archived
/// definition is found only by a listing that asks for archived ones.
pub trait DefinitionStore: std::marker::Send + Sync {
    /// A key or a name the account already uses is a Conflict.
    async fn create_definition(&self, new: Definition) -> StoreResult<Definition>;
    async fn get_definition(&self, account_id: &str, key: &str) -> StoreResult<Definition>;
    async fn list_definitions(
        &self,
        account_id: &str,
        query: &DefinitionQuery,
    ) -> StoreResult<DefinitionPage>;
    /// A name the account already uses is a Conflict.
    async fn update_definition(
        &self,
        account_id: &str,
        key: &str,
        patch: DefinitionPatch,
        now: Millis,
    ) -> StoreResult<Definition>;
    /// Archives the definition under `deleted_key`; its key and name are free at once.
    async fn archive_definition(
        &self,
        account_id: &str,
        key: &str,
        deleted_key: &str,
        now: Millis,
    ) -> StoreResult<Definition>;
}

#[async_trait]
/// Transactional sends (API.md §9).
pub trait TransactionalStore: std::marker::Send + Sync {
    /// Records a request's messages in one transaction: each message's outcome, in order. A key
    /// used by the account within 72 hours (ignoring case) is a DuplicateKey and records nothing;
    /// each other message's number is subscribed, or refused (NotSent 1), by the definition's
    /// rules, and queued with its own text — held while the definition is Inactive. NotFound
    /// (nothing written) when the definition is gone.
    async fn accept_transactional(&self, request: &TxRequest) -> StoreResult<Vec<TxOutcome>>;
    /// The account's message by its key (any case).
    async fn transactional_status(
        &self,
        account_id: &str,
        message_key: &str,
    ) -> StoreResult<TxStatus>;
    /// How many messages of the account's definition wait to be handed over, and when the
    /// oldest was accepted. NotFound for an unknown definition.
    async fn queue_metrics(
        &self,
        account_id: &str,
        definition_key: &str,
    ) -> StoreResult<(i64, Option<Millis>)>;
    /// Empties an Inactive definition's queue: each waiting message NotSent 39. `None` (nothing
    /// done) when the definition is not Inactive; how many otherwise.
    async fn empty_queue(
        &self,
        account_id: &str,
        definition_key: &str,
        now: Millis,
    ) -> StoreResult<Option<u64>>;
    /// Periodic: messages held by an Inactive definition for more than 72 hours become NotSent
    /// 138 (how many), events older than 30 days are dropped.
    async fn transactional_housekeeping(&self, now: Millis) -> StoreResult<u64>;
    /// The account's NotSent events after event `after` (kept 30 days as of `now`), oldest
    /// first, `limit` at most. Event IDs are one increasing sequence per account, each visible
    /// only after every smaller one.
    async fn not_sent_events(
        &self,
        account_id: &str,
        after: i64,
        limit: u32,
        now: Millis,
    ) -> StoreResult<Vec<tx_rows::NotSentEvent>>;
}

#[async_trait]
/// Lists, their members and the contacts behind them (API.md §6).
pub trait ContactStore: std::marker::Send + Sync {
    async fn create_list(&self, new: NewList) -> StoreResult<ContactList>;
    async fn get_list(&self, account_id: &str, id: &str) -> StoreResult<ContactList>;
    async fn list_lists(&self, account_id: &str) -> StoreResult<Vec<ContactList>>;
    async fn delete_list(&self, account_id: &str, id: &str) -> StoreResult<()>;
    /// For each given ID (any case), the canonical ID of the account's list, or `None`.
    async fn resolve_lists(
        &self,
        account_id: &str,
        ids: &[String],
    ) -> StoreResult<Vec<Option<String>>>;
    /// Adds (or updates) one batch of contacts and their membership of the list, in one
    /// transaction. Attributes are merged into the contact's (one contact per number per
    /// account); a given subscriber key replaces the stored one. With `subscribe`, every number of
    /// the batch is subscribed to that keyword unless it has opted out of it, or of the keyword's
    /// code by text (`opt_outs_on_code`, API.md §6).
    ///
    /// An attribute replaces a stored one whose name equals it ignoring ASCII case (the new
    /// spelling is kept). `added` counts numbers new to the list; every other row of the batch
    /// counts as `updated`. NotFound (and nothing written) when the list, or the `subscribe` code
    /// or keyword, does not exist.
    async fn upsert_members(
        &self,
        account_id: &str,
        list_id: &str,
        rows: &[ContactRow],
        subscribe: Option<&SubscribeTo>,
        now: Millis,
    ) -> StoreResult<MemberCounts>;
    async fn remove_member(
        &self,
        account_id: &str,
        list_id: &str,
        mobile_number: &str,
    ) -> StoreResult<()>;
    async fn get_contact(&self, account_id: &str, mobile_number: &str) -> StoreResult<Contact>;
    /// The account's contacts among `numbers` (unknown numbers are left out), by number: one
    /// read for a batch.
    async fn contacts_of(&self, account_id: &str, numbers: &[String]) -> StoreResult<Vec<Contact>>;
    /// Mobile numbers of the account's contacts with this subscriber key (exact match), ordered.
    async fn numbers_of_subscriber_key(
        &self,
        account_id: &str,
        subscriber_key: &str,
    ) -> StoreResult<Vec<String>>;
}

#[async_trait]
/// Subscriptions of numbers to keywords, and the double opt-in requests that lapse (API.md §6).
pub trait SubscriptionStore: std::marker::Send + Sync {
    /// Sets the status of a number's subscription to one keyword (by code string and keyword,
    /// ignoring case), creating it when absent. `optInDate` is set when it becomes Subscribed and
    /// `optOutDate` when it becomes Unsubscribed. Setting Unsubscribed makes it an operator's
    /// opt-out (`opt_out_by_text` false); other statuses leave that mark as it was.
    async fn set_subscription(
        &self,
        account_id: &str,
        to: &SubscribeTo,
        mobile_number: &str,
        status: SubscriptionStatus,
        now: Millis,
    ) -> StoreResult<Subscription>;
    /// Every subscription of the number in the account, ordered by code then keyword.
    async fn subscriptions_of(
        &self,
        account_id: &str,
        mobile_number: &str,
    ) -> StoreResult<Vec<Subscription>>;
    /// The subscriptions of `numbers` to the keywords of the code with code string `code`
    /// (ignoring ASCII case), ordered by number then keyword: one read for a batch of texts.
    async fn subscriptions_on_code(
        &self,
        account_id: &str,
        code: &str,
        numbers: &[String],
    ) -> StoreResult<Vec<Subscription>>;
    /// Double opt-in requests pending since `cutoff` or earlier lapse: back to their previous
    /// status, or removed when they had none. Returns how many lapsed.
    async fn lapse_pending(&self, cutoff: Millis) -> StoreResult<u64>;
}

#[async_trait]
/// Accepted sends: recording them (idempotently) and reading them back (API.md §4).
pub trait SendStore: std::marker::Send + Sync {
    /// Records an accepted send. With an idempotency key that the same client used for the same
    /// account within the last 24 hours (relative to `new.created_at`), records nothing and
    /// returns the earlier send.
    async fn create_send(&self, new: NewSend) -> StoreResult<CreatedSend>;
    /// The send that `client_id`, acting for `account_id`, created with the idempotency key
    /// `key` within the 24 hours before `now`, with the hash of the request that created it
    /// (API.md §4: a key is scoped by client and account).
    async fn find_idempotent_send(
        &self,
        account_id: &str,
        client_id: &str,
        key: &str,
        now: Millis,
    ) -> StoreResult<Option<(Send, String)>>;
    /// By token, ignoring case, within the account.
    async fn get_send(&self, account_id: &str, token: &str) -> StoreResult<Send>;
    /// Newest first. `after` is the token of the last send of the previous page.
    ///
    /// Newest means latest `created_at`. NotFound when `after` names no send of the account.
    async fn list_sends(&self, account_id: &str, query: SendQuery) -> StoreResult<Vec<Send>>;
}

#[async_trait]
/// `messageContact` sends and the history of a send (API.md §6).
pub trait ContactSendStore: std::marker::Send + Sync {
    /// Records a `messageContact` send (kind Contact) with its explicit audience, after applying
    /// `Subscribe`/`Resubscribe` to the audience's numbers (`Subscribe` leaves out numbers that
    /// opted out of the code by text, unless `Resubscribe` is given too) and recording given
    /// subscriber keys on their contacts (created when missing), all in one transaction.
    /// Idempotency keys behave as in `create_send`. When the send becomes due, expansion turns the numbers Subscribed
    /// on the send's code into recipients with their own text and counts the others suppressed.
    /// NotFound (nothing written) for an unknown account, or a `subscribe` keyword not on the code.
    async fn create_contact_send(
        &self,
        new: NewSend,
        audience: ContactAudience,
    ) -> StoreResult<CreatedSend>;
    /// The texts of a send's history, oldest first (API.md §6):
    /// - a send of kind Mo: the inbound texts linked to it (MO) and its replies (MT);
    /// - any other send (`mobile_number` given): its recipients for that number (MT), and since
    ///   the send was created, that number's inbound texts to the send's code (MO) and the
    ///   replies it got on the code (MT).
    ///
    /// MT entries are recipients that are neither suppressed nor canceled, dated when handed
    /// over (or last changed, while waiting). NotFound for a token not in the account.
    async fn history(
        &self,
        account_id: &str,
        token: &str,
        mobile_number: Option<&str>,
    ) -> StoreResult<Vec<HistoryEntry>>;
}

#[async_trait]
/// Expansion of due sends into recipients (API.md §4 "What a send does").
///
/// A send named by token matches ignoring case; an unknown token is NotFound.
pub trait ExpansionStore: std::marker::Send + Sync {
    /// Claims up to `limit` sends that are due (`New` with `due_at <= now`), or whose expansion
    /// lease expired (`Queuing`), moving them to `Queuing` under `owner` until `lease_until`.
    async fn claim_due_sends(
        &self,
        owner: &str,
        now: Millis,
        lease_until: Millis,
        limit: u32,
    ) -> StoreResult<Vec<Send>>;
    /// Expands the next batch (about `batch` memberships) of the send's audience set-wise inside
    /// the database: target memberships − exclusion-list numbers − numbers not Subscribed on the
    /// send's code (counted as suppressed), one recipient per number unless `allowDuplication`.
    /// Resumable and idempotent: re-running after a crash adds nothing twice. Extends the lease.
    /// When complete, the send becomes `Started` (routed to its code's carrier).
    async fn expand_batch(
        &self,
        token: &str,
        owner: &str,
        batch: u32,
        now: Millis,
        lease_until: Millis,
    ) -> StoreResult<Expansion>;
    /// Graceful shutdown: gives back `owner`'s expansion leases and its claims on recipients that
    /// never left, so that another worker resumes them at once.
    async fn release_leases(&self, owner: &str) -> StoreResult<()>;
}

#[async_trait]
/// The delivery queue: claiming recipients, handing them over, recording answers and receipts,
/// recovery and cancellation (API.md §4, §5, §8).
///
/// A send named by token matches ignoring case; an unknown token is NotFound.
pub trait DispatchStore: std::marker::Send + Sync {
    /// `Started` sends with recipients ready to hand over (no live claim holds them) and
    /// `next_at <= now`, oldest first, leaving out those routed to a carrier in `except` (the
    /// engine's carriers that pause after a fault, so that they hold up no other carrier's sends).
    async fn dispatchable_sends(
        &self,
        now: Millis,
        limit: u32,
        except: &[String],
    ) -> StoreResult<Vec<DispatchSend>>;
    /// Pauses a send's hand-over until `until` (a blackout window).
    async fn pause_send(&self, token: &str, until: Millis) -> StoreResult<()>;
    /// Claims up to `limit` ready recipients of a `Started` send, in one transaction: numbers no
    /// longer Subscribed on the send's code become suppressed; the rest are claimed by `owner`
    /// until `lease_until` and returned with their attributes. A claimed recipient is still
    /// waiting (nothing has left): other claims skip it while its lease lasts, and once the lease
    /// has expired anyone may claim it again. Empty only when nothing is ready (or the send is
    /// not `Started`): a batch that was all suppressed is followed by the next one.
    async fn claim_recipients(
        &self,
        token: &str,
        owner: &str,
        now: Millis,
        lease_until: Millis,
        limit: u32,
    ) -> StoreResult<Vec<ClaimedRecipient>>;
    /// Records durably that the submissions of `ids` are about to be written to the carrier
    /// (API.md §4.6): those still claimed by `owner` become submitting under `owner` until
    /// `lease_until`; returns them (ascending). A recipient not returned must not be written
    /// (its claim expired and was taken, or the send was canceled). After a crash a submitting
    /// recipient is 3400 Unknown, never resubmitted.
    async fn mark_submitting(
        &self,
        owner: &str,
        ids: &[i64],
        now: Millis,
        lease_until: Millis,
    ) -> StoreResult<Vec<i64>>;
    /// Extends `owner`'s leases on those of `ids` it still holds (claimed or submitting) to
    /// `lease_until` (API.md §8: leases follow the work). Returns how many it held.
    async fn renew_leases(&self, owner: &str, ids: &[i64], lease_until: Millis)
        -> StoreResult<u64>;
    /// Records the carrier's answers for `owner`'s claimed or submitting recipients (one
    /// transaction):
    /// - 1000 (nothing left): back in the queue untouched, the lease given back;
    /// - 2600 (the carrier took nothing): back in the queue as 1000 Queued with the note saying
    ///   why, until the retry's outcome replaces it (API.md §5);
    /// - any other code: settled with it, the carrier message id and the note.
    ///
    /// An answer for a recipient that recovery already settled as 3400 Unknown after `owner`'s
    /// lease ran out replaces that 3400 (API.md §8; the carrier id is kept, so receipts match);
    /// a 1000 or 2600 answer puts it back in the queue, and its send, if recovery finished it,
    /// is `Started` again. Answers for recipients `owner` no longer holds change nothing.
    async fn record_submissions(
        &self,
        owner: &str,
        results: &[SubmissionResult],
        now: Millis,
    ) -> StoreResult<()>;
    /// Moves a `Started` send with nothing left to hand over to `Finished`. True if it did.
    async fn finish_if_done(&self, token: &str, now: Millis) -> StoreResult<bool>;
    /// Crash recovery: recipients left submitting with an expired lease become 3400 Unknown
    /// (maybe sent: never resubmitted; the owner is remembered so that its late answer may still
    /// replace the 3400), and every `Started` send with nothing ready or submitting left becomes
    /// `Finished` (its process may have stopped before finishing it). Claimed recipients need no
    /// recovery: their expired claims are simply taken again. Returns how many recipients were
    /// recovered.
    async fn recover_expired(&self, now: Millis) -> StoreResult<u64>;
    /// Applies receipts: raises each matching recipient's code (2600 may be lowered).
    /// Returns how many recipients changed.
    async fn apply_receipts(&self, receipts: &[Receipt], now: Millis) -> StoreResult<u64>;
    /// The receipts that match no recipient by carrier and carrier message id, as indexes into
    /// `receipts` (ascending). The engine holds those a while: a receipt may come back before
    /// the submission carrying its id is recorded (another process's hand-over, say).
    async fn unmatched_receipts(&self, receipts: &[Receipt]) -> StoreResult<Vec<usize>>;
    /// Cancels a send that is not final: recipients not yet handed over never are. Returns the
    /// number of recipients canceled; NotFound for an unknown token, Conflict for a final send.
    async fn cancel_send(&self, token: &str, now: Millis) -> StoreResult<u64>;
}

#[async_trait]
/// What a send did: counts, tracking pages and the queue gauges (API.md §5, docs/metrics.md).
pub trait TrackingStore: std::marker::Send + Sync {
    /// Counts of a send's recipients (API.md §5); `deferred` = queued while paused at `now`.
    async fn send_counts(&self, token: &str, now: Millis) -> StoreResult<SendCounts>;
    /// One page (1-based) of tracking entries, ordered by mobile number then list.
    async fn tracking_page(
        &self,
        token: &str,
        page: u32,
        page_size: u32,
    ) -> StoreResult<Vec<TrackingRow>>;
    /// When the send's next recipient may go (`next_at`), `None` once nothing waits.
    async fn send_next_at(&self, token: &str) -> StoreResult<Option<Millis>>;
    /// The database-wide gauges of the metrics listener (docs/metrics.md): sends by state, and
    /// recipients waiting, waiting out a blackout window at `now`, or being handed over.
    async fn queue_gauges(&self, now: Millis) -> StoreResult<QueueGauges>;
}

#[async_trait]
/// Inbound texts and what keyword handling decided about them (API.md §6, §8).
pub trait InboundStore: std::marker::Send + Sync {
    /// Records an inbound text, matched to a code by its destination address among the codes
    /// routed to its carrier (API.md §8). Returns the record.
    async fn record_inbound(&self, text: InboundText) -> StoreResult<InboundRecord>;
    /// Recorded inbound texts, oldest first, `seq > after`.
    async fn inbound_page(&self, after: i64, limit: u32) -> StoreResult<Vec<InboundRecord>>;
    /// The codes an inbound text was sent to: every code routed to `carrier` whose code string
    /// equals `to` ignoring case (as `record_inbound` matches), one per account that holds it,
    /// oldest first (the account that created the code first comes first; API.md §6 shared
    /// codes).
    async fn codes_for_inbound(&self, carrier: &str, to: &str) -> StoreResult<Vec<Code>>;
    /// The numbers among `numbers` that opted out of the account's code `code` (code string,
    /// ignoring ASCII case) by text, ordered by number. Empty for an unknown code.
    async fn opt_outs_on_code(
        &self,
        account_id: &str,
        code: &str,
        numbers: &[String],
    ) -> StoreResult<Vec<CodeOptOut>>;
    /// Records inbound texts to one code with what keyword handling decided — subscription
    /// states, opt-outs of the code and the send of the replies — in one transaction (API.md
    /// §6). NotFound (and nothing written) when the account or code does not exist; a
    /// subscription write naming a keyword that is not on the code is NotFound too.
    async fn record_mo(&self, batch: MoBatch) -> StoreResult<()> {
        self.record_mo_batches(vec![batch]).await
    }
    /// Records several batches — one inbound text acting in every account that holds a shared
    /// code (API.md §6) — in one transaction: all of them, or (on any error, as `record_mo`)
    /// none. A text repeated within the call (queueMO's text, one per number) and a reply text
    /// that several recipients get are each stored once (API.md §1: 2 MiB per request).
    async fn record_mo_batches(&self, batches: Vec<MoBatch>) -> StoreResult<()>;
}

#[async_trait]
/// Moving an installation (`tidings export` / `tidings import`).
pub trait TransferStore: std::marker::Send + Sync {
    /// The tables holding the installation's data, parents before children (migration
    /// bookkeeping excluded).
    async fn tables(&self) -> StoreResult<Vec<String>>;
    /// Sends every row of every table to `sink`, table by table in [`TransferStore::tables`] order, all
    /// from one consistent snapshot. Returns how many rows were sent. Fails if `sink` closes.
    async fn export(&self, sink: RowSink) -> StoreResult<u64>;
    /// Loads exported rows, in export order, into this store, which must hold no data yet
    /// (Conflict otherwise), in one transaction committed at the end mark (see [`ImportItem`]):
    /// on any error, or when the source closes before the end mark, nothing is loaded. A table or a
    /// column this store does not have, or a value of the wrong kind, is an error (`Other`);
    /// a column the rows leave out takes its default. Returns how many rows were loaded.
    async fn import(&self, rows: RowSource) -> StoreResult<u64>;
}

#[async_trait]
/// The simulator carrier's outbox.
pub trait OutboxStore: std::marker::Send + Sync {
    /// Appends accepted submissions in one transaction; returns their sequence numbers, in the
    /// order of `items`.
    async fn outbox_append(&self, items: &[OutboxItem]) -> StoreResult<Vec<i64>>;
    /// Oldest first, `seq > after`.
    async fn outbox_page(&self, after: i64, limit: u32) -> StoreResult<Vec<OutboxEntry>>;
}

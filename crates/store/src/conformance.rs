//! The store conformance suite: one public async function per behaviour that every backend must
//! show, and [`store_conformance_tests!`](crate::store_conformance_tests) to run them all as
//! `#[tokio::test]`s in a backend's test crate.
//!
//! Every function takes a fresh, migrated, empty store and panics when the backend misbehaves (they
//! are test bodies). They need no async runtime of their own, so this crate stays free of tokio.
//! The behaviours are those of the `Store` trait docs and API.md §3, §4, §5, §6 and §7.

use std::fmt::Debug;

use serde_json::json;

use crate::{
    codes, Account, Attributes, ClaimedRecipient, Client, Code, CodePatch, Contact, ContactList,
    ContactRow, CreatedSend, Expansion, Idempotency, InboundRecord, InboundText, Keyword,
    KeywordPatch, MemberCounts, Message, MessagePatch, MessageStatus, Millis, NewAccessToken,
    NewAccount, NewClient, NewCode, NewKeyword, NewList, NewMessage, NewSend, OutboxEntry,
    OutboxItem, Outcome, QueueGauges, Receipt, Send, SendCounts, SendKind, SendQuery, SendState,
    Store, StoreError, StoreResult, StoredWindow, SubmissionResult, SubscribeTo, Subscription,
    SubscriptionStatus, TrackingRow,
};

/// Runs every behaviour of this module as a `#[tokio::test]`.
///
/// `$factory` is an expression evaluating to a future (e.g. `fresh_store()` for an
/// `async fn fresh_store()`) whose output derefs to something that coerces to `&dyn Store`
/// (`Box<dyn Store>`, `Arc<SqliteStore>`, a guard struct holding a temp dir, ...). It is evaluated
/// once per test and must yield a fresh, migrated, empty store. The crate invoking the macro needs
/// `tokio` (with the `macros` and `rt` features) as a dependency.
///
/// An attribute before the factory is put on every test, e.g.
/// `store_conformance_tests!(#[ignore = "needs a server"] fresh_store())` for a backend whose
/// tests need a server that a plain `cargo test` may not have.
#[macro_export]
macro_rules! store_conformance_tests {
    (#[$attribute:meta] $factory:expr) => {
        $crate::store_conformance_tests!(@all [#[$attribute]] $factory);
    };
    ($factory:expr) => {
        $crate::store_conformance_tests!(@all [] $factory);
    };
    (@all $attributes:tt $factory:expr) => {
        $crate::store_conformance_tests!(@each $attributes $factory;
            migrate_is_idempotent_and_leaves_the_store_ready,
            account_resolves_ignoring_case_with_its_canonical_id,
            account_id_equal_ignoring_case_conflicts,
            client_resolves_ignoring_case_and_lists_by_account,
            client_id_equal_ignoring_case_conflicts,
            token_is_found_until_it_expires,
            revoking_a_client_deletes_its_tokens,
            code_resolves_by_id_or_code_string,
            codes_and_keywords_are_updated_field_by_field,
            code_conflicts_on_code_string_or_id,
            keyword_resolves_ignoring_case_and_conflicts_per_code,
            deleting_a_keyword_removes_it_and_its_subscriptions,
            deleting_a_code_removes_its_keywords_and_subscriptions,
            message_round_trips_and_resolves_ignoring_case,
            message_patch_changes_only_the_given_fields,
            deleted_message_is_not_found,
            list_round_trips_and_resolves_ignoring_case,
            resolve_lists_returns_canonical_ids_in_order,
            upsert_members_counts_added_and_updated,
            upsert_members_merges_attributes_and_subscriber_key,
            upsert_members_to_unknown_list_or_keyword_is_not_found_and_writes_nothing,
            upsert_members_subscribe_creates_subscriptions_but_respects_opt_outs,
            remove_member_updates_the_list_and_keeps_the_contact,
            deleting_a_list_removes_its_memberships,
            set_subscription_sets_dates_when_the_status_changes,
            subscriptions_of_are_ordered_by_code_then_keyword,
            subscriptions_on_code_are_those_of_the_numbers_on_that_code,
            contacts_of_are_the_accounts_contacts_among_the_numbers,
            send_round_trips_every_field,
            send_token_equal_ignoring_case_conflicts,
            idempotency_key_reused_within_24_hours_returns_the_earlier_send,
            idempotency_key_expires_after_24_hours,
            idempotency_key_is_scoped_to_the_client,
            find_idempotent_send_names_the_keys_send_for_24_hours,
            list_sends_is_newest_first_with_state_filter_and_paging,
            account_scoped_methods_of_an_unknown_account_are_not_found,
            fan_out_is_one_recipient_per_subscribed_number_minus_exclusions,
            fan_out_with_duplication_is_one_recipient_per_membership,
            expansion_in_small_batches_equals_one_batch_and_resumes_without_repeating,
            send_whose_message_list_or_code_was_deleted_fails_with_a_reason,
            due_sends_are_claimed_oldest_first_and_only_when_due,
            expired_expansion_lease_is_taken_over_and_lost_by_its_old_owner,
            claim_hands_out_ready_recipients_once_and_suppresses_opted_out_numbers,
            recorded_submissions_settle_recipients_and_finish_the_send,
            expired_submissions_become_unknown_and_expired_claims_are_taken_again,
            a_late_answer_replaces_recoverys_unknown,
            a_late_answer_that_nothing_left_reopens_a_send_recovery_finished,
            only_the_claims_owner_marks_renews_and_records,
            renewed_leases_outlive_their_first_end,
            a_canceled_send_takes_its_claims_back_and_a_late_requeue_is_canceled,
            released_claims_are_claimable_at_once,
            receipts_raise_codes_and_only_a_throttled_code_may_go_down,
            a_throttled_submission_is_queued_again_until_its_retry_decides,
            unmatched_receipts_are_those_without_a_recorded_submission,
            canceling_settles_waiting_recipients_and_final_sends_conflict,
            a_paused_send_counts_waiting_recipients_as_deferred,
            queue_gauges_count_sends_by_state_and_waiting_deferred_and_leased_recipients,
            tracking_is_ordered_by_number_then_list_and_paged,
            send_next_at_follows_the_send,
            delivery_methods_of_an_unknown_token_are_not_found,
            outbox_pages_in_acceptance_order,
            inbound_texts_are_matched_to_the_code_routed_to_their_carrier,
            concurrent_claims_hand_out_each_recipient_once,
            concurrent_schedulers_claim_each_due_send_once,
            a_taken_over_send_is_expanded_by_its_new_owner_only,
            identical_idempotent_sends_at_once_record_one_send,
            canceling_during_dispatch_settles_each_recipient_once,
            concurrent_recoveries_settle_each_expired_hand_over_once,
            receipt_batches_at_once_apply_every_receipt,
            contact_send_records_its_numbers_and_expands_to_subscribed_ones_with_their_texts,
            contact_send_subscribe_and_resubscribe_change_subscriptions_at_acceptance,
            contact_send_honours_idempotency_keys_and_unknown_keywords_write_nothing,
            codes_for_inbound_are_every_code_routed_to_the_carrier_oldest_first,
            record_mo_records_texts_subscriptions_and_a_ready_send_of_replies,
            replies_are_claimed_without_a_subscription_and_carry_their_text,
            lapse_pending_reverts_or_removes_requests_older_than_the_cutoff,
            history_of_replies_and_of_a_contact_send,
            numbers_of_subscriber_key_are_the_contacts_with_that_key,
            list_jobs_record_progress_until_final,
            client_secret_hash_is_replaced_only_while_it_is_the_old_one,
            purging_expired_tokens_deletes_only_expired_ones,
            idempotency_keys_are_scoped_by_client_and_account,
            contact_number_without_text_is_a_1501_recipient_never_sent,
            record_mo_batches_records_every_account_or_none,
            an_opt_out_of_a_code_keeps_imports_and_subscribe_from_every_keyword_of_it,
            a_subscription_remembers_whether_its_last_opt_out_came_by_text,
            texts_repeated_in_a_batch_are_stored_once_and_read_back_everywhere,
        );
    };
    (@each $attributes:tt $factory:expr; $($behaviour:ident),+ $(,)?) => {
        $(
            $crate::store_conformance_tests!(@one $attributes $factory; $behaviour);
        )+
    };
    (@one [$($attribute:tt)*] $factory:expr; $behaviour:ident) => {
        $($attribute)*
        #[tokio::test]
        async fn $behaviour() {
            let store = $factory.await;
            $crate::conformance::$behaviour(&*store).await;
        }
    };
}

// ---- helpers ----------------------------------------------------------------------------------

const T0: Millis = 1_700_000_000_000;
const HOUR: Millis = 3_600_000;
const DAY: Millis = 24 * HOUR;

const N1: &str = "15555555510";
const N2: &str = "15555555511";
const N3: &str = "15555555512";
const N4: &str = "447700900123";

fn ok<T>(result: StoreResult<T>, what: &str) -> T {
    match result {
        Ok(value) => value,
        Err(e) => panic!("{what}: expected Ok, got Err({e:?})"),
    }
}

fn assert_not_found<T: Debug>(result: StoreResult<T>, what: &str) {
    match result {
        Err(StoreError::NotFound) => {}
        other => panic!("{what}: expected Err(NotFound), got {other:?}"),
    }
}

fn assert_conflict<T: Debug>(result: StoreResult<T>, what: &str) {
    match result {
        Err(StoreError::Conflict(_)) => {}
        other => panic!("{what}: expected Err(Conflict(_)), got {other:?}"),
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn attributes(value: serde_json::Value) -> Attributes {
    match value {
        serde_json::Value::Object(map) => map,
        other => panic!("test attributes must be a JSON object, got {other}"),
    }
}

fn row(mobile_number: &str, subscriber_key: Option<&str>, attrs: serde_json::Value) -> ContactRow {
    ContactRow {
        mobile_number: mobile_number.to_string(),
        subscriber_key: subscriber_key.map(str::to_string),
        attributes: attributes(attrs),
    }
}

fn plain_rows(numbers: &[&str]) -> Vec<ContactRow> {
    numbers.iter().map(|n| row(n, None, json!({}))).collect()
}

fn to(code: &str, keyword: &str) -> SubscribeTo {
    SubscribeTo {
        code: code.to_string(),
        keyword: keyword.to_string(),
    }
}

async fn given_account(store: &dyn Store, id: &str) -> Account {
    ok(
        store
            .create_account(NewAccount {
                id: id.to_string(),
                name: format!("{id} name"),
                created_at: T0,
            })
            .await,
        "create account",
    )
}

fn new_client(client_id: &str, account_id: &str) -> NewClient {
    NewClient {
        client_id: client_id.to_string(),
        secret_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo".to_string(),
        account_id: account_id.to_string(),
        scopes: strings(&["sms_send", "sms_read"]),
        accounts: Vec::new(),
        created_at: T0,
    }
}

fn new_token(hash: &str, client_id: &str, account_id: &str, expires_at: Millis) -> NewAccessToken {
    NewAccessToken {
        token_hash: hash.to_string(),
        client_id: client_id.to_string(),
        account_id: account_id.to_string(),
        scopes: strings(&["sms_send"]),
        created_at: T0,
        expires_at,
    }
}

fn new_code(account_id: &str, id: &str, code: &str) -> NewCode {
    NewCode {
        id: id.to_string(),
        account_id: account_id.to_string(),
        code: code.to_string(),
        country_code: "US".to_string(),
        kind: "short".to_string(),
        carrier: "simulator".to_string(),
        opt_out_text: Some("You are unsubscribed.".to_string()),
        help_text: Some("Reply STOP to stop.".to_string()),
        created_at: T0,
    }
}

async fn given_code(store: &dyn Store, account_id: &str, id: &str, code: &str) -> Code {
    ok(
        store.create_code(new_code(account_id, id, code)).await,
        "create code",
    )
}

fn new_keyword(account_id: &str, id: &str, code: &str, keyword: &str) -> NewKeyword {
    NewKeyword {
        id: id.to_string(),
        account_id: account_id.to_string(),
        code: code.to_string(),
        keyword: keyword.to_string(),
        response: Some("Welcome!".to_string()),
        double_opt_in: false,
        confirm_text: None,
        created_at: T0,
    }
}

async fn given_keyword(
    store: &dyn Store,
    account_id: &str,
    id: &str,
    code: &str,
    keyword: &str,
) -> Keyword {
    ok(
        store
            .create_keyword(new_keyword(account_id, id, code, keyword))
            .await,
        "create keyword",
    )
}

fn new_message(account_id: &str, id: &str) -> NewMessage {
    NewMessage {
        id: id.to_string(),
        account_id: account_id.to_string(),
        name: "Welcome".to_string(),
        code: "88976".to_string(),
        text: "Hello %%FirstName%%".to_string(),
        status: MessageStatus::Active,
        target_list_ids: strings(&["List-A"]),
        exclusion_list_ids: strings(&["list-b"]),
        content_url: Some("https://example.com/a.png".to_string()),
        created_at: T0,
    }
}

async fn given_list(store: &dyn Store, account_id: &str, id: &str) -> ContactList {
    ok(
        store
            .create_list(NewList {
                id: id.to_string(),
                account_id: account_id.to_string(),
                name: format!("{id} name"),
                created_at: T0,
            })
            .await,
        "create list",
    )
}

async fn list_of(store: &dyn Store, account_id: &str, id: &str) -> ContactList {
    ok(store.get_list(account_id, id).await, "get list")
}

async fn upsert(
    store: &dyn Store,
    account_id: &str,
    list_id: &str,
    rows: &[ContactRow],
    subscribe: Option<&SubscribeTo>,
    now: Millis,
) -> MemberCounts {
    ok(
        store
            .upsert_members(account_id, list_id, rows, subscribe, now)
            .await,
        "upsert members",
    )
}

fn counts(added: u64, updated: u64) -> MemberCounts {
    MemberCounts { added, updated }
}

async fn subscribe(
    store: &dyn Store,
    account_id: &str,
    to: &SubscribeTo,
    number: &str,
    status: SubscriptionStatus,
    now: Millis,
) -> Subscription {
    ok(
        store
            .set_subscription(account_id, to, number, status, now)
            .await,
        "set subscription",
    )
}

async fn subscriptions(store: &dyn Store, account_id: &str, number: &str) -> Vec<Subscription> {
    ok(
        store.subscriptions_of(account_id, number).await,
        "subscriptions of",
    )
}

fn subscription(
    number: &str,
    code: &str,
    keyword: &str,
    status: SubscriptionStatus,
    opt_in_date: Option<Millis>,
    opt_out_date: Option<Millis>,
) -> Subscription {
    Subscription {
        mobile_number: number.to_string(),
        code: code.to_string(),
        keyword: keyword.to_string(),
        status,
        opt_in_date,
        opt_out_date,
        pending: None,
        opt_out_by_text: false,
    }
}

/// A send with every optional field set.
fn full_send(account_id: &str, token: &str, created_at: Millis) -> NewSend {
    NewSend {
        token: token.to_string(),
        account_id: account_id.to_string(),
        client_id: Some("client-one".to_string()),
        kind: SendKind::List,
        message_id: "Msg-1".to_string(),
        code: "88976".to_string(),
        text: "Hello %%FirstName%% \u{20ac} \u{1f600}".to_string(),
        content_url: Some("https://example.com/a.png".to_string()),
        target_list_ids: strings(&["List-A", "list-b"]),
        exclusion_list_ids: strings(&["List-X"]),
        allow_duplication: true,
        window: Some(StoredWindow {
            utc_offset_minutes: -360,
            start_minute: 22 * 60,
            end_minute: 7 * 60,
        }),
        send_time: Some(created_at + HOUR),
        due_at: created_at + 2 * HOUR,
        segments: 2,
        encoding: "UCS-2".to_string(),
        created_at,
        idempotency: None,
    }
}

/// A send with every optional field absent.
fn minimal_send(account_id: &str, token: &str, created_at: Millis) -> NewSend {
    NewSend {
        token: token.to_string(),
        account_id: account_id.to_string(),
        client_id: None,
        kind: SendKind::Contact,
        message_id: "msg-2".to_string(),
        code: "88976".to_string(),
        text: "Hi".to_string(),
        content_url: None,
        target_list_ids: Vec::new(),
        exclusion_list_ids: Vec::new(),
        allow_duplication: false,
        window: None,
        send_time: None,
        due_at: created_at,
        segments: 1,
        encoding: "GSM-7".to_string(),
        created_at,
        idempotency: None,
    }
}

fn keyed_send(
    account_id: &str,
    token: &str,
    created_at: Millis,
    client_id: &str,
    key: &str,
    request_hash: &str,
) -> NewSend {
    let mut new = minimal_send(account_id, token, created_at);
    new.client_id = Some(client_id.to_string());
    new.idempotency = Some(Idempotency {
        client_id: client_id.to_string(),
        key: key.to_string(),
        request_hash: request_hash.to_string(),
    });
    new
}

/// The send `create_send` must report for `new`, in the account spelled `account_id`.
fn accepted(new: &NewSend, account_id: &str) -> Send {
    Send {
        token: new.token.clone(),
        account_id: account_id.to_string(),
        client_id: new.client_id.clone(),
        kind: new.kind,
        message_id: new.message_id.clone(),
        code: new.code.clone(),
        text: new.text.clone(),
        content_url: new.content_url.clone(),
        target_list_ids: new.target_list_ids.clone(),
        exclusion_list_ids: new.exclusion_list_ids.clone(),
        allow_duplication: new.allow_duplication,
        window: new.window,
        send_time: new.send_time,
        due_at: new.due_at,
        segments: new.segments,
        encoding: new.encoding.clone(),
        state: SendState::New,
        count: 0,
        errors: Vec::new(),
        created_at: new.created_at,
        completed_at: None,
    }
}

fn created(result: StoreResult<CreatedSend>, what: &str) -> Send {
    match ok(result, what) {
        CreatedSend::Created(send) => send,
        other => panic!("{what}: expected Created, got {other:?}"),
    }
}

fn existing(result: StoreResult<CreatedSend>, what: &str) -> (Send, String) {
    match ok(result, what) {
        CreatedSend::Existing { send, request_hash } => (send, request_hash),
        other => panic!("{what}: expected Existing, got {other:?}"),
    }
}

async fn send_tokens(store: &dyn Store, account_id: &str, query: SendQuery) -> Vec<String> {
    ok(store.list_sends(account_id, query).await, "list sends")
        .into_iter()
        .map(|s| s.token)
        .collect()
}

fn query(state: Option<SendState>, after: Option<&str>, limit: u32) -> SendQuery {
    SendQuery {
        state,
        after: after.map(str::to_string),
        limit,
    }
}

// ---- migrations -------------------------------------------------------------------------------

pub async fn migrate_is_idempotent_and_leaves_the_store_ready(store: &dyn Store) {
    ok(store.ready().await, "ready on a migrated store");
    ok(store.migrate().await, "migrate again");
    ok(store.migrate().await, "migrate a third time");
    ok(store.ready().await, "ready after migrating again");
}

// ---- accounts ---------------------------------------------------------------------------------

pub async fn account_resolves_ignoring_case_with_its_canonical_id(store: &dyn Store) {
    let acme = ok(
        store
            .create_account(NewAccount {
                id: "AcmeCo".to_string(),
                name: "Acme".to_string(),
                created_at: T0,
            })
            .await,
        "create account",
    );
    assert_eq!(
        acme,
        Account {
            id: "AcmeCo".to_string(),
            name: "Acme".to_string(),
            created_at: T0,
        }
    );
    for spelling in ["AcmeCo", "acmeco", "ACMECO"] {
        assert_eq!(
            ok(store.get_account(spelling).await, "get account"),
            acme,
            "get_account({spelling:?})"
        );
    }
    assert_not_found(store.get_account("Acme").await, "unknown account");

    let other = given_account(store, "other").await;
    let mut all = ok(store.list_accounts().await, "list accounts");
    all.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(all, vec![acme, other]);
}

pub async fn account_id_equal_ignoring_case_conflicts(store: &dyn Store) {
    given_account(store, "acme").await;
    assert_conflict(
        store
            .create_account(NewAccount {
                id: "ACME".to_string(),
                name: "Shouting Acme".to_string(),
                created_at: T0,
            })
            .await,
        "account ID equal ignoring case",
    );
    let all = ok(store.list_accounts().await, "list accounts");
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].name, "acme name", "the first account is untouched");
}

// ---- clients and tokens -----------------------------------------------------------------------

pub async fn client_resolves_ignoring_case_and_lists_by_account(store: &dyn Store) {
    given_account(store, "acme").await;
    given_account(store, "Other").await;

    let mut new = new_client("Client-One", "ACME");
    new.accounts = strings(&["Other"]);
    let client = ok(store.create_client(new).await, "create client");
    let expected = Client {
        client_id: "Client-One".to_string(),
        secret_hash: new_client("", "").secret_hash,
        account_id: "acme".to_string(),
        scopes: strings(&["sms_send", "sms_read"]),
        accounts: strings(&["Other"]),
        created_at: T0,
        revoked_at: None,
    };
    assert_eq!(client, expected);
    for spelling in ["Client-One", "client-one", "CLIENT-ONE"] {
        assert_eq!(
            ok(store.get_client(spelling).await, "get client"),
            expected,
            "get_client({spelling:?})"
        );
    }
    assert_not_found(store.get_client("client-two").await, "unknown client");

    let mut theirs = new_client("their-client", "other");
    theirs.scopes = Vec::new();
    let theirs = ok(store.create_client(theirs).await, "create other's client");
    assert_eq!(theirs.account_id, "Other");
    assert!(theirs.scopes.is_empty());

    assert_eq!(
        ok(store.list_clients("Acme").await, "list clients"),
        vec![expected]
    );
    assert_eq!(
        ok(store.list_clients("OTHER").await, "list other's clients"),
        vec![theirs]
    );
    assert_not_found(
        store.create_client(new_client("lost", "nobody")).await,
        "client of an unknown account",
    );
}

pub async fn client_id_equal_ignoring_case_conflicts(store: &dyn Store) {
    given_account(store, "acme").await;
    given_account(store, "other").await;
    ok(
        store.create_client(new_client("client-one", "acme")).await,
        "create client",
    );
    assert_conflict(
        store.create_client(new_client("CLIENT-ONE", "acme")).await,
        "client ID equal ignoring case",
    );
    assert_conflict(
        store.create_client(new_client("Client-One", "other")).await,
        "client IDs are unique across accounts",
    );
}

pub async fn token_is_found_until_it_expires(store: &dyn Store) {
    given_account(store, "acme").await;
    given_account(store, "Other").await;
    let mut new = new_client("client-one", "acme");
    new.accounts = strings(&["Other"]);
    ok(store.create_client(new).await, "create client");

    let hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    let expires_at = T0 + HOUR;
    ok(
        store
            .insert_token(new_token(hash, "CLIENT-ONE", "other", expires_at))
            .await,
        "insert token",
    );
    let expected = Some(crate::AccessToken {
        client_id: "client-one".to_string(),
        account_id: "Other".to_string(),
        scopes: strings(&["sms_send"]),
        expires_at,
    });
    assert_eq!(
        ok(store.find_token(hash, T0).await, "find fresh token"),
        expected
    );
    assert_eq!(
        ok(
            store.find_token(hash, expires_at - 1).await,
            "find token at its last millisecond"
        ),
        expected
    );
    assert_eq!(
        ok(
            store.find_token(hash, expires_at).await,
            "find token at expiry"
        ),
        None
    );
    assert_eq!(
        ok(
            store.find_token(hash, expires_at + DAY).await,
            "find token after expiry"
        ),
        None
    );
    assert_eq!(
        ok(
            store.find_token(&"0".repeat(64), T0).await,
            "find unknown token"
        ),
        None
    );
    assert_not_found(
        store
            .insert_token(new_token(&"1".repeat(64), "nobody", "acme", expires_at))
            .await,
        "token of an unknown client",
    );
}

pub async fn revoking_a_client_deletes_its_tokens(store: &dyn Store) {
    given_account(store, "acme").await;
    given_account(store, "other").await;
    ok(
        store.create_client(new_client("client-one", "acme")).await,
        "create client one",
    );
    ok(
        store.create_client(new_client("client-two", "acme")).await,
        "create client two",
    );
    let (h1, h2, h3) = ("a".repeat(64), "b".repeat(64), "c".repeat(64));
    let expires_at = T0 + HOUR;
    for (hash, client) in [(&h1, "client-one"), (&h2, "client-two")] {
        ok(
            store
                .insert_token(new_token(hash, client, "acme", expires_at))
                .await,
            "insert token",
        );
    }

    assert_not_found(
        store.revoke_client("other", "client-one").await,
        "revoke another account's client",
    );
    assert_not_found(
        store.revoke_client("acme", "client-three").await,
        "revoke an unknown client",
    );
    assert!(
        ok(store.find_token(&h1, T0).await, "token before revoke").is_some(),
        "a failed revoke leaves tokens alone"
    );

    ok(store.revoke_client("ACME", "CLIENT-ONE").await, "revoke");
    let revoked = ok(store.get_client("client-one").await, "get revoked client");
    assert!(revoked.revoked_at.is_some(), "revoked_at is set");
    assert_eq!(
        ok(store.find_token(&h1, T0).await, "revoked client's token"),
        None
    );
    assert!(
        ok(store.find_token(&h2, T0).await, "other client's token").is_some(),
        "other clients keep their tokens"
    );

    // A token of a revoked client is never found, however it got there.
    let _ = store
        .insert_token(new_token(&h3, "client-one", "acme", expires_at))
        .await;
    assert_eq!(
        ok(store.find_token(&h3, T0).await, "token issued after revoke"),
        None
    );
    let _ = store.revoke_client("acme", "client-one").await;
    assert!(
        ok(store.get_client("client-one").await, "get client")
            .revoked_at
            .is_some(),
        "a client stays revoked"
    );
}

// ---- codes and keywords -----------------------------------------------------------------------

pub async fn codes_and_keywords_are_updated_field_by_field(store: &dyn Store) {
    given_account(store, "acme").await;
    given_account(store, "other").await;
    let code = ok(
        store.create_code(new_code("acme", "Code-1", "88976")).await,
        "create code",
    );
    let unchanged = ok(
        store
            .update_code("ACME", "code-1", CodePatch::default())
            .await,
        "empty code patch",
    );
    assert_eq!(unchanged, code, "an empty patch changes nothing");
    let patched = ok(
        store
            .update_code(
                "acme",
                "88976",
                CodePatch {
                    carrier: Some("acme-smpp".into()),
                    kind: Some("long".into()),
                    opt_out_text: Some(None),
                    help_text: Some(Some("Text HELP for help.".into())),
                    ..CodePatch::default()
                },
            )
            .await,
        "patch code by its code string",
    );
    assert_eq!(
        patched,
        Code {
            carrier: "acme-smpp".into(),
            kind: "long".into(),
            opt_out_text: None,
            help_text: Some("Text HELP for help.".into()),
            ..code.clone()
        }
    );
    assert_eq!(ok(store.get_code("acme", "Code-1").await, "get"), patched);
    assert_not_found(
        store
            .update_code("other", "code-1", CodePatch::default())
            .await,
        "another account's code",
    );
    assert_not_found(
        store
            .update_code("acme", "nosuchcode", CodePatch::default())
            .await,
        "unknown code",
    );

    let keyword = ok(
        store
            .create_keyword(new_keyword("acme", "Kw-1", "88976", "JOIN"))
            .await,
        "create keyword",
    );
    let patched = ok(
        store
            .update_keyword(
                "acme",
                "KW-1",
                KeywordPatch {
                    response: Some(None),
                    double_opt_in: Some(true),
                    confirm_text: Some(Some("Reply Y to confirm.".into())),
                },
            )
            .await,
        "patch keyword",
    );
    assert_eq!(
        patched,
        Keyword {
            response: None,
            double_opt_in: true,
            confirm_text: Some("Reply Y to confirm.".into()),
            ..keyword.clone()
        }
    );
    let back = ok(
        store
            .update_keyword(
                "acme",
                "kw-1",
                KeywordPatch {
                    double_opt_in: Some(false),
                    ..KeywordPatch::default()
                },
            )
            .await,
        "patch one field",
    );
    assert_eq!(
        back,
        Keyword {
            double_opt_in: false,
            ..patched.clone()
        }
    );
    assert_eq!(ok(store.get_keyword("acme", "kw-1").await, "get"), back);
    assert_not_found(
        store
            .update_keyword("other", "kw-1", KeywordPatch::default())
            .await,
        "another account's keyword",
    );
}

pub async fn code_resolves_by_id_or_code_string(store: &dyn Store) {
    given_account(store, "acme").await;
    given_account(store, "other").await;
    let code = ok(
        store.create_code(new_code("ACME", "Code-1", "88976")).await,
        "create code",
    );
    assert_eq!(
        code,
        Code {
            id: "Code-1".to_string(),
            account_id: "acme".to_string(),
            code: "88976".to_string(),
            country_code: "US".to_string(),
            kind: "short".to_string(),
            carrier: "simulator".to_string(),
            opt_out_text: Some("You are unsubscribed.".to_string()),
            help_text: Some("Reply STOP to stop.".to_string()),
            created_at: T0,
        }
    );
    for id_or_code in ["Code-1", "code-1", "CODE-1", "88976"] {
        assert_eq!(
            ok(store.get_code("Acme", id_or_code).await, "get code"),
            code,
            "get_code({id_or_code:?})"
        );
    }
    assert_not_found(
        store.get_code("other", "code-1").await,
        "other's code by ID",
    );
    assert_not_found(
        store.get_code("other", "88976").await,
        "other's code by code string",
    );
    assert_not_found(store.get_code("acme", "12345").await, "unknown code");
    assert_eq!(ok(store.list_codes("acme").await, "list codes"), vec![code]);
    assert!(ok(store.list_codes("other").await, "list other's codes").is_empty());

    let mut long = new_code("other", "code-1", "88976");
    long.kind = "long".to_string();
    long.opt_out_text = None;
    long.help_text = None;
    let theirs = ok(
        store.create_code(long).await,
        "same ID and code string in another account",
    );
    assert_eq!(theirs.account_id, "other");
    assert_eq!(theirs.kind, "long");
    assert_eq!(theirs.opt_out_text, None);
    assert_eq!(theirs.help_text, None);
}

pub async fn code_conflicts_on_code_string_or_id(store: &dyn Store) {
    given_account(store, "acme").await;
    given_code(store, "acme", "code-1", "88976").await;
    assert_conflict(
        store.create_code(new_code("acme", "code-2", "88976")).await,
        "same code string",
    );
    assert_conflict(
        store.create_code(new_code("acme", "CODE-1", "12345")).await,
        "code ID equal ignoring case",
    );
    assert_eq!(ok(store.list_codes("acme").await, "list codes").len(), 1);
    assert_not_found(
        store
            .create_code(new_code("nobody", "code-3", "12345"))
            .await,
        "code of an unknown account",
    );
}

pub async fn keyword_resolves_ignoring_case_and_conflicts_per_code(store: &dyn Store) {
    given_account(store, "acme").await;
    given_account(store, "other").await;
    given_code(store, "acme", "code-1", "88976").await;
    given_code(store, "acme", "code-2", "77777").await;

    let mut new = new_keyword("ACME", "Kw-1", "88976", "Join");
    new.double_opt_in = true;
    new.confirm_text = Some("Reply Y to confirm.".to_string());
    let keyword = ok(store.create_keyword(new).await, "create keyword");
    assert_eq!(
        keyword,
        Keyword {
            id: "Kw-1".to_string(),
            account_id: "acme".to_string(),
            code: "88976".to_string(),
            keyword: "Join".to_string(),
            response: Some("Welcome!".to_string()),
            double_opt_in: true,
            confirm_text: Some("Reply Y to confirm.".to_string()),
            created_at: T0,
        }
    );
    for spelling in ["Kw-1", "kw-1", "KW-1"] {
        assert_eq!(
            ok(store.get_keyword("Acme", spelling).await, "get keyword"),
            keyword,
            "get_keyword({spelling:?})"
        );
    }
    assert_not_found(store.get_keyword("acme", "kw-9").await, "unknown keyword");
    assert_not_found(store.get_keyword("other", "kw-1").await, "other's keyword");

    assert_conflict(
        store
            .create_keyword(new_keyword("acme", "kw-2", "88976", "JOIN"))
            .await,
        "keyword equal ignoring case on the same code",
    );
    assert_conflict(
        store
            .create_keyword(new_keyword("acme", "KW-1", "77777", "news"))
            .await,
        "keyword ID equal ignoring case",
    );
    assert_not_found(
        store
            .create_keyword(new_keyword("acme", "kw-4", "99999", "JOIN"))
            .await,
        "keyword on an unknown code",
    );
    assert_not_found(
        store
            .create_keyword(new_keyword("other", "kw-5", "88976", "JOIN"))
            .await,
        "keyword on another account's code",
    );
    let mut plain = new_keyword("acme", "kw-3", "77777", "JOIN");
    plain.response = None;
    let on_other_code = ok(
        store.create_keyword(plain).await,
        "same keyword on another code",
    );
    assert_eq!(on_other_code.code, "77777");
    assert_eq!(on_other_code.response, None);
    assert!(!on_other_code.double_opt_in);

    let mut all = ok(store.list_keywords("acme").await, "list keywords");
    all.sort_by_key(|a| a.id.to_lowercase());
    assert_eq!(all, vec![keyword, on_other_code]);
    assert!(ok(store.list_keywords("other").await, "list other's keywords").is_empty());
}

pub async fn deleting_a_keyword_removes_it_and_its_subscriptions(store: &dyn Store) {
    given_account(store, "acme").await;
    given_account(store, "other").await;
    given_code(store, "acme", "code-1", "88976").await;
    given_keyword(store, "acme", "kw-1", "88976", "JOIN").await;
    given_keyword(store, "acme", "kw-2", "88976", "NEWS").await;
    for keyword in ["JOIN", "NEWS"] {
        subscribe(
            store,
            "acme",
            &to("88976", keyword),
            N1,
            SubscriptionStatus::Subscribed,
            T0,
        )
        .await;
    }

    assert_not_found(
        store.delete_keyword("other", "kw-1").await,
        "delete another account's keyword",
    );
    ok(store.delete_keyword("ACME", "KW-1").await, "delete keyword");
    assert_not_found(store.get_keyword("acme", "kw-1").await, "deleted keyword");
    assert_not_found(
        store.delete_keyword("acme", "kw-1").await,
        "delete a deleted keyword",
    );
    let news = subscription(
        N1,
        "88976",
        "NEWS",
        SubscriptionStatus::Subscribed,
        Some(T0),
        None,
    );
    assert_eq!(subscriptions(store, "acme", N1).await, vec![news.clone()]);

    // A keyword created again under the same name starts without subscriptions.
    given_keyword(store, "acme", "kw-3", "88976", "JOIN").await;
    assert_eq!(subscriptions(store, "acme", N1).await, vec![news]);
}

pub async fn deleting_a_code_removes_its_keywords_and_subscriptions(store: &dyn Store) {
    given_account(store, "acme").await;
    given_account(store, "other").await;
    given_code(store, "acme", "code-1", "88976").await;
    given_code(store, "acme", "Code-2", "77777").await;
    given_keyword(store, "acme", "kw-1", "88976", "JOIN").await;
    given_keyword(store, "acme", "kw-2", "77777", "JOIN").await;
    for code in ["88976", "77777"] {
        subscribe(
            store,
            "acme",
            &to(code, "JOIN"),
            N1,
            SubscriptionStatus::Subscribed,
            T0,
        )
        .await;
    }

    assert_not_found(
        store.delete_code("other", "88976").await,
        "delete another account's code",
    );
    ok(
        store.delete_code("acme", "88976").await,
        "delete code by code string",
    );
    assert_not_found(store.get_code("acme", "code-1").await, "deleted code");
    assert_not_found(
        store.get_keyword("acme", "kw-1").await,
        "keyword of a deleted code",
    );
    ok(
        store.get_keyword("acme", "kw-2").await,
        "keyword of another code",
    );
    assert_eq!(
        subscriptions(store, "acme", N1).await,
        vec![subscription(
            N1,
            "77777",
            "JOIN",
            SubscriptionStatus::Subscribed,
            Some(T0),
            None
        )]
    );

    ok(
        store.delete_code("acme", "CODE-2").await,
        "delete code by ID",
    );
    assert_not_found(
        store.delete_code("acme", "code-2").await,
        "delete a deleted code",
    );
    assert!(subscriptions(store, "acme", N1).await.is_empty());
    assert!(ok(store.list_keywords("acme").await, "list keywords").is_empty());

    // Created again, the code and keyword start empty.
    given_code(store, "acme", "code-3", "88976").await;
    given_keyword(store, "acme", "kw-3", "88976", "JOIN").await;
    assert!(subscriptions(store, "acme", N1).await.is_empty());
}

// ---- messages ---------------------------------------------------------------------------------

pub async fn message_round_trips_and_resolves_ignoring_case(store: &dyn Store) {
    given_account(store, "acme").await;
    given_account(store, "other").await;
    given_code(store, "acme", "code-1", "88976").await;

    let message = ok(
        store.create_message(new_message("ACME", "Msg-1")).await,
        "create message",
    );
    let expected = Message {
        id: "Msg-1".to_string(),
        account_id: "acme".to_string(),
        name: "Welcome".to_string(),
        code: "88976".to_string(),
        text: "Hello %%FirstName%%".to_string(),
        status: MessageStatus::Active,
        target_list_ids: strings(&["List-A"]),
        exclusion_list_ids: strings(&["list-b"]),
        content_url: Some("https://example.com/a.png".to_string()),
        created_at: T0,
        updated_at: T0,
    };
    assert_eq!(message, expected);
    for spelling in ["Msg-1", "msg-1", "MSG-1"] {
        assert_eq!(
            ok(store.get_message("Acme", spelling).await, "get message"),
            expected,
            "get_message({spelling:?})"
        );
    }

    let mut draft = new_message("acme", "msg-2");
    draft.status = MessageStatus::Draft;
    draft.target_list_ids = Vec::new();
    draft.exclusion_list_ids = Vec::new();
    draft.content_url = None;
    draft.created_at = T0 + 1;
    let draft = ok(store.create_message(draft).await, "create draft");
    assert_eq!(draft.status, MessageStatus::Draft);
    assert!(draft.target_list_ids.is_empty() && draft.exclusion_list_ids.is_empty());
    assert_eq!(draft.content_url, None);
    assert_eq!(draft.updated_at, T0 + 1);

    let mut all = ok(store.list_messages("acme").await, "list messages");
    all.sort_by_key(|a| a.id.to_lowercase());
    assert_eq!(all, vec![expected, draft]);

    assert_conflict(
        store.create_message(new_message("acme", "MSG-1")).await,
        "message ID equal ignoring case",
    );
    let mut unknown_code = new_message("acme", "msg-3");
    unknown_code.code = "12345".to_string();
    assert_not_found(
        store.create_message(unknown_code).await,
        "message on an unknown code",
    );
    assert_not_found(
        store.create_message(new_message("other", "msg-4")).await,
        "message on another account's code",
    );
    assert_not_found(store.get_message("other", "msg-1").await, "other's message");
    assert!(ok(store.list_messages("other").await, "list other's messages").is_empty());
}

pub async fn message_patch_changes_only_the_given_fields(store: &dyn Store) {
    given_account(store, "acme").await;
    given_account(store, "other").await;
    given_code(store, "acme", "code-1", "88976").await;
    given_code(store, "acme", "code-2", "77777").await;
    let original = ok(
        store.create_message(new_message("acme", "Msg-1")).await,
        "create message",
    );

    let renamed = ok(
        store
            .update_message(
                "ACME",
                "MSG-1",
                MessagePatch {
                    name: Some("Renamed".to_string()),
                    ..MessagePatch::default()
                },
                T0 + 1_000,
            )
            .await,
        "rename",
    );
    let mut expected = original.clone();
    expected.name = "Renamed".to_string();
    expected.updated_at = T0 + 1_000;
    assert_eq!(renamed, expected);
    assert_eq!(
        ok(store.get_message("acme", "msg-1").await, "get renamed"),
        expected
    );

    let patched = ok(
        store
            .update_message(
                "acme",
                "msg-1",
                MessagePatch {
                    name: None,
                    code: Some("77777".to_string()),
                    text: Some("New text".to_string()),
                    status: Some(MessageStatus::Inactive),
                    target_list_ids: Some(strings(&["list-c", "List-D"])),
                    exclusion_list_ids: Some(Vec::new()),
                    content_url: Some(None),
                },
                T0 + 2_000,
            )
            .await,
        "patch every field",
    );
    let expected = Message {
        name: "Renamed".to_string(),
        code: "77777".to_string(),
        text: "New text".to_string(),
        status: MessageStatus::Inactive,
        target_list_ids: strings(&["list-c", "List-D"]),
        exclusion_list_ids: Vec::new(),
        content_url: None,
        updated_at: T0 + 2_000,
        ..original.clone()
    };
    assert_eq!(patched, expected);
    assert_eq!(
        ok(store.get_message("acme", "msg-1").await, "get patched"),
        expected
    );

    let with_url = ok(
        store
            .update_message(
                "acme",
                "msg-1",
                MessagePatch {
                    content_url: Some(Some("https://example.com/b.gif".to_string())),
                    ..MessagePatch::default()
                },
                T0 + 3_000,
            )
            .await,
        "set content URL",
    );
    assert_eq!(
        with_url.content_url.as_deref(),
        Some("https://example.com/b.gif")
    );
    assert_eq!(with_url.text, "New text", "other fields are kept");

    let before = ok(store.get_message("acme", "msg-1").await, "get message");
    assert_not_found(
        store
            .update_message(
                "acme",
                "msg-1",
                MessagePatch {
                    name: Some("Lost".to_string()),
                    code: Some("12345".to_string()),
                    ..MessagePatch::default()
                },
                T0 + 4_000,
            )
            .await,
        "patch to an unknown code",
    );
    assert_eq!(
        ok(store.get_message("acme", "msg-1").await, "get message"),
        before,
        "a failed patch changes nothing"
    );
    assert_not_found(
        store
            .update_message("other", "msg-1", MessagePatch::default(), T0 + 5_000)
            .await,
        "patch another account's message",
    );
    assert_not_found(
        store
            .update_message("acme", "msg-9", MessagePatch::default(), T0 + 5_000)
            .await,
        "patch an unknown message",
    );
}

pub async fn deleted_message_is_not_found(store: &dyn Store) {
    given_account(store, "acme").await;
    given_account(store, "other").await;
    given_code(store, "acme", "code-1", "88976").await;
    ok(
        store.create_message(new_message("acme", "Msg-1")).await,
        "create message",
    );
    ok(
        store.create_message(new_message("acme", "msg-2")).await,
        "create message",
    );
    assert_not_found(
        store.delete_message("other", "msg-1").await,
        "delete another account's message",
    );
    ok(
        store.delete_message("ACME", "MSG-1").await,
        "delete message",
    );
    assert_not_found(store.get_message("acme", "msg-1").await, "deleted message");
    assert_not_found(
        store.delete_message("acme", "msg-1").await,
        "delete a deleted message",
    );
    let remaining: Vec<String> = ok(store.list_messages("acme").await, "list messages")
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(remaining, strings(&["msg-2"]));
    ok(
        store.create_message(new_message("acme", "msg-1")).await,
        "a deleted message's ID can be used again",
    );
}

// ---- lists and contacts -----------------------------------------------------------------------

pub async fn list_round_trips_and_resolves_ignoring_case(store: &dyn Store) {
    given_account(store, "acme").await;
    given_account(store, "other").await;
    let list = ok(
        store
            .create_list(NewList {
                id: "List-A".to_string(),
                account_id: "ACME".to_string(),
                name: "VIPs".to_string(),
                created_at: T0,
            })
            .await,
        "create list",
    );
    let expected = ContactList {
        id: "List-A".to_string(),
        account_id: "acme".to_string(),
        name: "VIPs".to_string(),
        size: 0,
        created_at: T0,
        last_change_at: T0,
    };
    assert_eq!(list, expected);
    for spelling in ["List-A", "list-a", "LIST-A"] {
        assert_eq!(
            list_of(store, "Acme", spelling).await,
            expected,
            "get_list({spelling:?})"
        );
    }
    let second = given_list(store, "acme", "list-b").await;
    let mut all = ok(store.list_lists("acme").await, "list lists");
    all.sort_by_key(|a| a.id.to_lowercase());
    assert_eq!(all, vec![expected, second]);

    assert_conflict(
        store
            .create_list(NewList {
                id: "LIST-A".to_string(),
                account_id: "acme".to_string(),
                name: "Again".to_string(),
                created_at: T0,
            })
            .await,
        "list ID equal ignoring case",
    );
    assert_not_found(store.get_list("other", "list-a").await, "other's list");
    assert!(ok(store.list_lists("other").await, "list other's lists").is_empty());
    given_list(store, "other", "list-a").await;

    assert_not_found(
        store.delete_list("other", "list-b").await,
        "delete another account's list",
    );
    ok(store.delete_list("acme", "LIST-A").await, "delete list");
    assert_not_found(store.get_list("acme", "list-a").await, "deleted list");
    assert_not_found(
        store.delete_list("acme", "list-a").await,
        "delete a deleted list",
    );
    ok(
        store.get_list("other", "list-a").await,
        "the other account's list of the same ID is untouched",
    );
}

pub async fn resolve_lists_returns_canonical_ids_in_order(store: &dyn Store) {
    given_account(store, "acme").await;
    given_account(store, "other").await;
    given_list(store, "acme", "List-A").await;
    given_list(store, "acme", "list-b").await;
    given_list(store, "other", "List-C").await;
    let resolved = ok(
        store
            .resolve_lists(
                "ACME",
                &strings(&["LIST-B", "nope", "list-a", "List-C", "list-a"]),
            )
            .await,
        "resolve lists",
    );
    assert_eq!(
        resolved,
        vec![
            Some("list-b".to_string()),
            None,
            Some("List-A".to_string()),
            None,
            Some("List-A".to_string()),
        ]
    );
    assert!(ok(store.resolve_lists("acme", &[]).await, "resolve nothing").is_empty());
}

pub async fn upsert_members_counts_added_and_updated(store: &dyn Store) {
    given_account(store, "acme").await;
    given_list(store, "acme", "list-a").await;
    given_list(store, "acme", "list-b").await;

    assert_eq!(
        upsert(
            store,
            "ACME",
            "LIST-A",
            &plain_rows(&[N1, N2, N3]),
            None,
            T0 + 10
        )
        .await,
        counts(3, 0)
    );
    let list = list_of(store, "acme", "list-a").await;
    assert_eq!((list.size, list.last_change_at), (3, T0 + 10));

    assert_eq!(
        upsert(
            store,
            "acme",
            "list-a",
            &plain_rows(&[N2, N4, N3]),
            None,
            T0 + 20
        )
        .await,
        counts(1, 2)
    );
    let list = list_of(store, "acme", "list-a").await;
    assert_eq!((list.size, list.last_change_at), (4, T0 + 20));

    assert_eq!(
        upsert(store, "acme", "list-b", &plain_rows(&[N1]), None, T0 + 30).await,
        counts(1, 0),
        "membership is per list"
    );
    assert_eq!(list_of(store, "acme", "list-b").await.size, 1);
    assert_eq!(list_of(store, "acme", "list-a").await.size, 4);

    assert_eq!(
        upsert(store, "acme", "list-a", &[], None, T0 + 40).await,
        counts(0, 0)
    );
    assert_eq!(list_of(store, "acme", "list-a").await.size, 4);

    // A batch the size the importer writes.
    let many: Vec<ContactRow> = (0..1000)
        .map(|i| {
            row(
                &format!("1666555{i:04}"),
                Some(&format!("sk-{i}")),
                json!({ "Index": i }),
            )
        })
        .collect();
    assert_eq!(
        upsert(store, "acme", "list-a", &many, None, T0 + 50).await,
        counts(1000, 0)
    );
    assert_eq!(
        upsert(store, "acme", "list-a", &many, None, T0 + 60).await,
        counts(0, 1000)
    );
    assert_eq!(list_of(store, "acme", "list-a").await.size, 1004);
    let contact = ok(
        store.get_contact("acme", "16665550999").await,
        "get contact",
    );
    assert_eq!(contact.subscriber_key.as_deref(), Some("sk-999"));
    assert_eq!(contact.attributes, attributes(json!({ "Index": 999 })));
}

pub async fn upsert_members_merges_attributes_and_subscriber_key(store: &dyn Store) {
    given_account(store, "acme").await;
    given_account(store, "other").await;
    given_list(store, "acme", "list-a").await;
    given_list(store, "acme", "list-b").await;
    given_list(store, "other", "list-a").await;

    upsert(
        store,
        "acme",
        "list-a",
        &[row(
            N1,
            Some("sk-1"),
            json!({ "FirstName": "Ann", "City": "Oslo" }),
        )],
        None,
        T0,
    )
    .await;
    assert_eq!(
        ok(store.get_contact("ACME", N1).await, "get contact"),
        Contact {
            mobile_number: N1.to_string(),
            subscriber_key: Some("sk-1".to_string()),
            attributes: attributes(json!({ "FirstName": "Ann", "City": "Oslo" })),
        }
    );

    // One contact per number per account: another list updates the same contact.
    upsert(
        store,
        "acme",
        "list-b",
        &[row(N1, None, json!({ "City": "Bergen", "Tier": 2 }))],
        None,
        T0 + 1,
    )
    .await;
    assert_eq!(
        ok(store.get_contact("acme", N1).await, "get merged contact"),
        Contact {
            mobile_number: N1.to_string(),
            subscriber_key: Some("sk-1".to_string()),
            attributes: attributes(json!({ "FirstName": "Ann", "City": "Bergen", "Tier": 2 })),
        },
        "attributes merge; an absent subscriber key keeps the stored one"
    );

    upsert(
        store,
        "acme",
        "list-a",
        &[row(N1, Some("sk-2"), json!({}))],
        None,
        T0 + 2,
    )
    .await;
    let contact = ok(store.get_contact("acme", N1).await, "get contact");
    assert_eq!(contact.subscriber_key.as_deref(), Some("sk-2"));
    assert_eq!(
        contact.attributes,
        attributes(json!({ "FirstName": "Ann", "City": "Bergen", "Tier": 2 }))
    );

    // An attribute replaces a stored one whose name equals it ignoring case.
    upsert(
        store,
        "acme",
        "list-a",
        &[row(N1, None, json!({ "city": "Trondheim" }))],
        None,
        T0 + 3,
    )
    .await;
    assert_eq!(
        ok(store.get_contact("acme", N1).await, "get contact").attributes,
        attributes(json!({ "FirstName": "Ann", "city": "Trondheim", "Tier": 2 }))
    );

    // Another account's contact of the same number is separate.
    assert_not_found(store.get_contact("other", N1).await, "other's contact");
    upsert(
        store,
        "other",
        "list-a",
        &[row(N1, Some("theirs"), json!({ "FirstName": "Bo" }))],
        None,
        T0 + 4,
    )
    .await;
    assert_eq!(
        ok(store.get_contact("other", N1).await, "other's contact")
            .attributes
            .get("FirstName"),
        Some(&json!("Bo"))
    );
    let ours = ok(store.get_contact("acme", N1).await, "our contact");
    assert_eq!(ours.subscriber_key.as_deref(), Some("sk-2"));
    assert_eq!(ours.attributes.get("FirstName"), Some(&json!("Ann")));
    assert_not_found(store.get_contact("acme", N2).await, "unknown contact");
}

pub async fn upsert_members_to_unknown_list_or_keyword_is_not_found_and_writes_nothing(
    store: &dyn Store,
) {
    given_account(store, "acme").await;
    given_account(store, "other").await;
    given_list(store, "acme", "list-a").await;
    given_list(store, "other", "list-o").await;
    given_code(store, "acme", "code-1", "88976").await;
    given_keyword(store, "acme", "kw-1", "88976", "JOIN").await;
    let rows = plain_rows(&[N1, N2]);

    assert_not_found(
        store.upsert_members("acme", "nope", &rows, None, T0).await,
        "unknown list",
    );
    assert_not_found(
        store
            .upsert_members("acme", "list-o", &rows, None, T0)
            .await,
        "another account's list",
    );
    assert_not_found(
        store
            .upsert_members("acme", "list-a", &rows, Some(&to("88976", "NEWS")), T0)
            .await,
        "subscribe to an unknown keyword",
    );
    assert_not_found(
        store
            .upsert_members("acme", "list-a", &rows, Some(&to("12345", "JOIN")), T0)
            .await,
        "subscribe to a keyword on an unknown code",
    );
    let list = list_of(store, "acme", "list-a").await;
    assert_eq!((list.size, list.last_change_at), (0, T0));
    assert_not_found(
        store.get_contact("acme", N1).await,
        "contact of a failed batch",
    );
    assert!(subscriptions(store, "acme", N1).await.is_empty());
}

pub async fn upsert_members_subscribe_creates_subscriptions_but_respects_opt_outs(
    store: &dyn Store,
) {
    given_account(store, "acme").await;
    given_list(store, "acme", "list-a").await;
    given_code(store, "acme", "code-1", "88976").await;
    given_keyword(store, "acme", "kw-1", "88976", "Join").await;
    given_keyword(store, "acme", "kw-2", "88976", "NEWS").await;
    subscribe(
        store,
        "acme",
        &to("88976", "JOIN"),
        N2,
        SubscriptionStatus::Unsubscribed,
        T0 + 5,
    )
    .await;
    subscribe(
        store,
        "acme",
        &to("88976", "JOIN"),
        N3,
        SubscriptionStatus::Subscribed,
        T0 + 6,
    )
    .await;
    subscribe(
        store,
        "acme",
        &to("88976", "NEWS"),
        N4,
        SubscriptionStatus::Unsubscribed,
        T0 + 7,
    )
    .await;

    assert_eq!(
        upsert(
            store,
            "acme",
            "list-a",
            &plain_rows(&[N1, N2, N3, N4]),
            Some(&to("88976", "join")),
            T0 + 10,
        )
        .await,
        counts(4, 0),
        "opted-out numbers still join the list"
    );
    assert_eq!(
        subscriptions(store, "acme", N1).await,
        vec![subscription(
            N1,
            "88976",
            "Join",
            SubscriptionStatus::Subscribed,
            Some(T0 + 10),
            None
        )],
        "a new number is subscribed"
    );
    assert_eq!(
        subscriptions(store, "acme", N2).await,
        vec![subscription(
            N2,
            "88976",
            "Join",
            SubscriptionStatus::Unsubscribed,
            None,
            Some(T0 + 5)
        )],
        "an opted-out number is not resubscribed"
    );
    assert_eq!(
        subscriptions(store, "acme", N3).await,
        vec![subscription(
            N3,
            "88976",
            "Join",
            SubscriptionStatus::Subscribed,
            Some(T0 + 6),
            None
        )],
        "a subscribed number keeps its opt-in date"
    );
    assert_eq!(
        subscriptions(store, "acme", N4).await,
        vec![
            subscription(
                N4,
                "88976",
                "Join",
                SubscriptionStatus::Subscribed,
                Some(T0 + 10),
                None
            ),
            subscription(
                N4,
                "88976",
                "NEWS",
                SubscriptionStatus::Unsubscribed,
                None,
                Some(T0 + 7)
            ),
        ],
        "opting out of one keyword does not stop a subscription to another"
    );

    // Updated members are subscribed too.
    assert_eq!(
        upsert(
            store,
            "acme",
            "list-a",
            &plain_rows(&[N1]),
            Some(&to("88976", "NEWS")),
            T0 + 20,
        )
        .await,
        counts(0, 1)
    );
    assert_eq!(subscriptions(store, "acme", N1).await.len(), 2);
}

pub async fn remove_member_updates_the_list_and_keeps_the_contact(store: &dyn Store) {
    given_account(store, "acme").await;
    given_account(store, "other").await;
    given_list(store, "acme", "list-a").await;
    given_list(store, "other", "list-a").await;
    upsert(
        store,
        "acme",
        "list-a",
        &[row(N1, Some("sk-1"), json!({ "FirstName": "Ann" }))],
        None,
        T0 + 10,
    )
    .await;
    upsert(store, "acme", "list-a", &plain_rows(&[N2]), None, T0 + 10).await;
    upsert(store, "other", "list-a", &plain_rows(&[N1]), None, T0 + 10).await;

    ok(
        store.remove_member("ACME", "LIST-A", N1).await,
        "remove member",
    );
    let list = list_of(store, "acme", "list-a").await;
    assert_eq!(list.size, 1);
    assert!(
        list.last_change_at >= T0 + 10,
        "removal is a membership change"
    );
    assert_not_found(
        store.remove_member("acme", "list-a", N1).await,
        "remove a removed member",
    );
    assert_not_found(
        store.remove_member("acme", "list-a", N3).await,
        "remove a number that never was a member",
    );
    assert_not_found(
        store.remove_member("acme", "nope", N2).await,
        "remove from an unknown list",
    );
    assert_eq!(
        list_of(store, "other", "list-a").await.size,
        1,
        "another account's list is untouched"
    );
    let contact = ok(store.get_contact("acme", N1).await, "contact after removal");
    assert_eq!(contact.subscriber_key.as_deref(), Some("sk-1"));

    assert_eq!(
        upsert(store, "acme", "list-a", &plain_rows(&[N1]), None, T0 + 20).await,
        counts(1, 0),
        "a removed number is added again"
    );
    let list = list_of(store, "acme", "list-a").await;
    assert_eq!((list.size, list.last_change_at), (2, T0 + 20));
}

pub async fn deleting_a_list_removes_its_memberships(store: &dyn Store) {
    given_account(store, "acme").await;
    given_list(store, "acme", "list-a").await;
    upsert(
        store,
        "acme",
        "list-a",
        &plain_rows(&[N1, N2]),
        None,
        T0 + 10,
    )
    .await;
    ok(store.delete_list("acme", "list-a").await, "delete list");
    assert_not_found(
        store
            .upsert_members("acme", "list-a", &plain_rows(&[N1]), None, T0 + 20)
            .await,
        "upsert into a deleted list",
    );
    let again = given_list(store, "acme", "List-A").await;
    assert_eq!(again.size, 0);
    assert_eq!(
        upsert(store, "acme", "list-a", &plain_rows(&[N1]), None, T0 + 30).await,
        counts(1, 0),
        "no membership survives its list"
    );
    ok(
        store.get_contact("acme", N2).await,
        "contacts outlive their lists",
    );
}

// ---- subscriptions ----------------------------------------------------------------------------

pub async fn set_subscription_sets_dates_when_the_status_changes(store: &dyn Store) {
    given_account(store, "acme").await;
    given_account(store, "other").await;
    given_code(store, "acme", "code-1", "88976").await;
    given_keyword(store, "acme", "kw-1", "88976", "Join").await;
    let join = to("88976", "JOIN");
    use SubscriptionStatus::{InProgress, Subscribed, Unsubscribed};

    assert_eq!(
        subscribe(store, "ACME", &join, N1, Subscribed, T0 + 1).await,
        subscription(N1, "88976", "Join", Subscribed, Some(T0 + 1), None),
        "a new subscription, with the canonical keyword"
    );
    assert_eq!(
        subscribe(store, "acme", &join, N1, Subscribed, T0 + 2).await,
        subscription(N1, "88976", "Join", Subscribed, Some(T0 + 1), None),
        "subscribing again keeps the opt-in date"
    );
    assert_eq!(
        subscribe(store, "acme", &join, N1, Unsubscribed, T0 + 3).await,
        subscription(
            N1,
            "88976",
            "Join",
            Unsubscribed,
            Some(T0 + 1),
            Some(T0 + 3)
        ),
        "opting out sets the opt-out date"
    );
    assert_eq!(
        subscribe(store, "acme", &join, N1, Unsubscribed, T0 + 4).await,
        subscription(
            N1,
            "88976",
            "Join",
            Unsubscribed,
            Some(T0 + 1),
            Some(T0 + 3)
        ),
        "opting out again keeps the opt-out date"
    );
    let back = subscribe(store, "acme", &to("88976", "join"), N1, Subscribed, T0 + 5).await;
    assert_eq!(back.status, Subscribed);
    assert_eq!(
        back.opt_in_date,
        Some(T0 + 5),
        "resubscribing sets the opt-in date"
    );
    assert_eq!(subscriptions(store, "acme", N1).await, vec![back]);

    assert_eq!(
        subscribe(store, "acme", &join, N2, InProgress, T0 + 6).await,
        subscription(N2, "88976", "Join", InProgress, None, None),
        "a pending double opt-in has no dates"
    );
    assert_eq!(
        subscribe(store, "acme", &join, N2, Subscribed, T0 + 7).await,
        subscription(N2, "88976", "Join", Subscribed, Some(T0 + 7), None),
        "a confirmed double opt-in sets the opt-in date"
    );

    assert_not_found(
        store
            .set_subscription("acme", &to("88976", "NEWS"), N1, Subscribed, T0)
            .await,
        "unknown keyword",
    );
    assert_not_found(
        store
            .set_subscription("acme", &to("12345", "JOIN"), N1, Subscribed, T0)
            .await,
        "unknown code",
    );
    assert_not_found(
        store
            .set_subscription("other", &join, N1, Subscribed, T0)
            .await,
        "another account's keyword",
    );
    assert!(subscriptions(store, "other", N1).await.is_empty());
}

pub async fn subscriptions_of_are_ordered_by_code_then_keyword(store: &dyn Store) {
    given_account(store, "acme").await;
    given_code(store, "acme", "code-1", "88976").await;
    given_code(store, "acme", "code-2", "77777").await;
    given_keyword(store, "acme", "kw-1", "88976", "NEWS").await;
    given_keyword(store, "acme", "kw-2", "77777", "JOIN").await;
    given_keyword(store, "acme", "kw-3", "88976", "ALERTS").await;
    use SubscriptionStatus::{Subscribed, Unsubscribed};
    subscribe(store, "acme", &to("88976", "NEWS"), N1, Subscribed, T0 + 1).await;
    subscribe(
        store,
        "acme",
        &to("77777", "JOIN"),
        N1,
        Unsubscribed,
        T0 + 2,
    )
    .await;
    subscribe(
        store,
        "acme",
        &to("88976", "ALERTS"),
        N1,
        Subscribed,
        T0 + 3,
    )
    .await;
    subscribe(store, "acme", &to("88976", "NEWS"), N2, Subscribed, T0 + 4).await;

    assert_eq!(
        subscriptions(store, "ACME", N1).await,
        vec![
            subscription(N1, "77777", "JOIN", Unsubscribed, None, Some(T0 + 2)),
            subscription(N1, "88976", "ALERTS", Subscribed, Some(T0 + 3), None),
            subscription(N1, "88976", "NEWS", Subscribed, Some(T0 + 1), None),
        ]
    );
    assert_eq!(subscriptions(store, "acme", N2).await.len(), 1);
    assert!(subscriptions(store, "acme", N3).await.is_empty());
}

pub async fn contacts_of_are_the_accounts_contacts_among_the_numbers(store: &dyn Store) {
    given_account(store, "acme").await;
    given_account(store, "other").await;
    given_list(store, "acme", "list-a").await;
    given_list(store, "other", "list-o").await;
    let row = |n: &str, first: &str| ContactRow {
        mobile_number: n.to_string(),
        subscriber_key: None,
        attributes: json!({ "FirstName": first })
            .as_object()
            .cloned()
            .unwrap_or_default(),
    };
    ok(
        store
            .upsert_members("acme", "list-a", &[row(N2, "Bo"), row(N1, "Al")], None, T0)
            .await,
        "add contacts",
    );
    ok(
        store
            .upsert_members("other", "list-o", &[row(N3, "Cy")], None, T0)
            .await,
        "add another account's contact",
    );
    let numbers = [
        N3.to_string(),
        N2.to_string(),
        N1.to_string(),
        N4.to_string(),
    ];
    let found = ok(store.contacts_of("ACME", &numbers).await, "contacts of");
    let mut expected = vec![
        ok(store.get_contact("acme", N1).await, "get N1"),
        ok(store.get_contact("acme", N2).await, "get N2"),
    ];
    expected.sort_by(|a, b| a.mobile_number.cmp(&b.mobile_number));
    assert_eq!(
        found, expected,
        "the account's own, known numbers only, by number"
    );
    assert!(ok(store.contacts_of("acme", &[]).await, "none").is_empty());
}

pub async fn subscriptions_on_code_are_those_of_the_numbers_on_that_code(store: &dyn Store) {
    given_account(store, "acme").await;
    given_code(store, "acme", "code-1", "88976").await;
    given_code(store, "acme", "code-2", "77777").await;
    given_keyword(store, "acme", "kw-1", "88976", "NEWS").await;
    given_keyword(store, "acme", "kw-2", "77777", "JOIN").await;
    given_keyword(store, "acme", "kw-3", "88976", "ALERTS").await;
    use SubscriptionStatus::{Subscribed, Unsubscribed};
    subscribe(store, "acme", &to("88976", "NEWS"), N1, Subscribed, T0 + 1).await;
    subscribe(store, "acme", &to("77777", "JOIN"), N1, Subscribed, T0 + 2).await;
    subscribe(
        store,
        "acme",
        &to("88976", "ALERTS"),
        N2,
        Unsubscribed,
        T0 + 3,
    )
    .await;
    subscribe(store, "acme", &to("88976", "NEWS"), N3, Subscribed, T0 + 4).await;
    let numbers = [N2.to_string(), N1.to_string(), N4.to_string()];
    let found = ok(
        store.subscriptions_on_code("ACME", "88976", &numbers).await,
        "subscriptions on a code",
    );
    let mut expected = vec![
        subscription(N1, "88976", "NEWS", Subscribed, Some(T0 + 1), None),
        subscription(N2, "88976", "ALERTS", Unsubscribed, None, Some(T0 + 3)),
    ];
    expected.sort_by(|a, b| a.mobile_number.cmp(&b.mobile_number));
    assert_eq!(found, expected, "only the given numbers, only that code");
    assert!(ok(
        store.subscriptions_on_code("acme", "88976", &[]).await,
        "no numbers"
    )
    .is_empty());
    assert!(ok(
        store.subscriptions_on_code("acme", "11111", &numbers).await,
        "unknown code"
    )
    .is_empty());
}

// ---- sends ------------------------------------------------------------------------------------

pub async fn send_round_trips_every_field(store: &dyn Store) {
    given_account(store, "acme").await;
    given_account(store, "other").await;

    let full = full_send("ACME", "0123456789abcdefghijklmnopqrstuv", T0);
    let send = created(store.create_send(full.clone()).await, "create full send");
    assert_eq!(send, accepted(&full, "acme"));
    for spelling in [
        "0123456789abcdefghijklmnopqrstuv",
        "0123456789ABCDEFGHIJKLMNOPQRSTUV",
    ] {
        assert_eq!(
            ok(store.get_send("Acme", spelling).await, "get full send"),
            send,
            "get_send({spelling:?})"
        );
    }

    let minimal = minimal_send("acme", "vutsrqponmlkjihgfedcba9876543210", T0 + 1);
    let send = created(
        store.create_send(minimal.clone()).await,
        "create minimal send",
    );
    assert_eq!(send, accepted(&minimal, "acme"));
    assert_eq!(
        ok(
            store
                .get_send("acme", "vutsrqponmlkjihgfedcba9876543210")
                .await,
            "get minimal send"
        ),
        send
    );

    assert_not_found(
        store
            .get_send("other", "0123456789abcdefghijklmnopqrstuv")
            .await,
        "another account's send",
    );
    assert_not_found(
        store
            .get_send("acme", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz")
            .await,
        "unknown send",
    );
    assert_not_found(
        store
            .create_send(minimal_send("nobody", "aaaaaaaaaaaaaaaaaaaaaaaaaa", T0))
            .await,
        "send of an unknown account",
    );
}

pub async fn send_token_equal_ignoring_case_conflicts(store: &dyn Store) {
    given_account(store, "acme").await;
    given_account(store, "other").await;
    created(
        store
            .create_send(minimal_send("acme", "abcdefghijklmnopqrstuvwxyz", T0))
            .await,
        "create send",
    );
    assert_conflict(
        store
            .create_send(minimal_send("acme", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", T0 + 1))
            .await,
        "token equal ignoring case",
    );
    assert_conflict(
        store
            .create_send(minimal_send("other", "abcdefghijklmnopqrstuvwxyz", T0 + 1))
            .await,
        "tokens are unique across accounts",
    );
    assert_eq!(
        send_tokens(store, "acme", query(None, None, 10))
            .await
            .len(),
        1
    );
}

pub async fn idempotency_key_reused_within_24_hours_returns_the_earlier_send(store: &dyn Store) {
    given_account(store, "acme").await;
    let first = keyed_send(
        "acme",
        "tok0000000000000000000000a",
        T0,
        "client-one",
        "key-1",
        "hash-1",
    );
    let original = created(store.create_send(first).await, "first use of the key");

    let retry = keyed_send(
        "acme",
        "tok0000000000000000000000b",
        T0 + DAY - 1,
        "client-one",
        "key-1",
        "hash-2",
    );
    let (send, request_hash) = existing(store.create_send(retry).await, "retry within 24h");
    assert_eq!(send, original);
    assert_eq!(request_hash, "hash-1", "the hash of the first request");
    assert_not_found(
        store.get_send("acme", "tok0000000000000000000000b").await,
        "a retry records nothing",
    );
    assert_eq!(
        send_tokens(store, "acme", query(None, None, 10)).await,
        strings(&["tok0000000000000000000000a"])
    );
}

pub async fn idempotency_key_expires_after_24_hours(store: &dyn Store) {
    given_account(store, "acme").await;
    created(
        store
            .create_send(keyed_send(
                "acme",
                "tok0000000000000000000000a",
                T0,
                "client-one",
                "key-1",
                "hash-1",
            ))
            .await,
        "first use of the key",
    );
    let later = created(
        store
            .create_send(keyed_send(
                "acme",
                "tok0000000000000000000000b",
                T0 + DAY + 1,
                "client-one",
                "key-1",
                "hash-2",
            ))
            .await,
        "use after 24h",
    );
    assert_eq!(later.token, "tok0000000000000000000000b");
    let (send, request_hash) = existing(
        store
            .create_send(keyed_send(
                "acme",
                "tok0000000000000000000000c",
                T0 + DAY + 2,
                "client-one",
                "key-1",
                "hash-3",
            ))
            .await,
        "retry of the later use",
    );
    assert_eq!(send, later, "the key now names the later send");
    assert_eq!(request_hash, "hash-2");
}

pub async fn find_idempotent_send_names_the_keys_send_for_24_hours(store: &dyn Store) {
    given_account(store, "acme").await;
    assert_eq!(
        store
            .find_idempotent_send("acme", "client-one", "key-1", T0)
            .await
            .expect("lookup"),
        None,
        "an unused key names nothing"
    );
    let original = created(
        store
            .create_send(keyed_send(
                "acme",
                "tok0000000000000000000000a",
                T0,
                "client-one",
                "key-1",
                "hash-1",
            ))
            .await,
        "first use of the key",
    );
    let found = store
        .find_idempotent_send("acme", "CLIENT-ONE", "key-1", T0 + DAY - 1)
        .await
        .expect("lookup");
    assert_eq!(found, Some((original, "hash-1".to_string())));
    assert_eq!(
        store
            .find_idempotent_send("acme", "client-one", "KEY-1", T0 + 1)
            .await
            .expect("lookup"),
        None,
        "keys are exact"
    );
    assert_eq!(
        store
            .find_idempotent_send("acme", "client-two", "key-1", T0 + 1)
            .await
            .expect("lookup"),
        None,
        "keys belong to one client"
    );
    assert_eq!(
        store
            .find_idempotent_send("acme", "client-one", "key-1", T0 + DAY + 1)
            .await
            .expect("lookup"),
        None,
        "after 24 hours the key is free"
    );
}

pub async fn idempotency_key_is_scoped_to_the_client(store: &dyn Store) {
    given_account(store, "acme").await;
    let one = created(
        store
            .create_send(keyed_send(
                "acme",
                "tok0000000000000000000000a",
                T0,
                "client-one",
                "key-1",
                "hash-1",
            ))
            .await,
        "client one uses the key",
    );
    created(
        store
            .create_send(keyed_send(
                "acme",
                "tok0000000000000000000000b",
                T0 + 1,
                "client-two",
                "key-1",
                "hash-1",
            ))
            .await,
        "client two uses the same key",
    );
    created(
        store
            .create_send(minimal_send("acme", "tok0000000000000000000000c", T0 + 2))
            .await,
        "a send without a key",
    );
    let (send, _) = existing(
        store
            .create_send(keyed_send(
                "acme",
                "tok0000000000000000000000d",
                T0 + 3,
                "CLIENT-ONE",
                "key-1",
                "hash-1",
            ))
            .await,
        "client one again, its ID in another case",
    );
    assert_eq!(send, one);
    assert_eq!(
        send_tokens(store, "acme", query(None, None, 10))
            .await
            .len(),
        3
    );
}

pub async fn list_sends_is_newest_first_with_state_filter_and_paging(store: &dyn Store) {
    given_account(store, "acme").await;
    given_account(store, "other").await;
    // Inserted out of order: newest means latest `created_at`.
    for (token, at) in [
        ("send0000000000000000000003", 3),
        ("send0000000000000000000001", 1),
        ("send0000000000000000000005", 5),
        ("send0000000000000000000002", 2),
        ("send0000000000000000000004", 4),
    ] {
        created(
            store
                .create_send(minimal_send("acme", token, T0 + at))
                .await,
            "create send",
        );
    }
    created(
        store
            .create_send(minimal_send("other", "send0000000000000000000009", T0 + 9))
            .await,
        "create other's send",
    );
    let all = strings(&[
        "send0000000000000000000005",
        "send0000000000000000000004",
        "send0000000000000000000003",
        "send0000000000000000000002",
        "send0000000000000000000001",
    ]);

    assert_eq!(send_tokens(store, "ACME", query(None, None, 10)).await, all);
    assert_eq!(
        send_tokens(store, "acme", query(None, None, 2)).await,
        all[..2].to_vec()
    );
    assert_eq!(
        send_tokens(
            store,
            "acme",
            query(None, Some("SEND0000000000000000000004"), 2)
        )
        .await,
        all[2..4].to_vec(),
        "`after` is the last token of the previous page, in any case"
    );
    assert_eq!(
        send_tokens(
            store,
            "acme",
            query(None, Some("send0000000000000000000002"), 2)
        )
        .await,
        all[4..].to_vec()
    );
    assert!(send_tokens(
        store,
        "acme",
        query(None, Some("send0000000000000000000001"), 2)
    )
    .await
    .is_empty());

    assert_eq!(
        send_tokens(store, "acme", query(Some(SendState::New), None, 10)).await,
        all
    );
    assert_eq!(
        send_tokens(
            store,
            "acme",
            query(Some(SendState::New), Some("send0000000000000000000003"), 10)
        )
        .await,
        all[3..].to_vec()
    );
    for state in [
        SendState::Queuing,
        SendState::Started,
        SendState::Finished,
        SendState::Error,
        SendState::Canceled,
    ] {
        assert!(
            send_tokens(store, "acme", query(Some(state), None, 10))
                .await
                .is_empty(),
            "no send is {state:?}"
        );
    }
    assert_eq!(
        send_tokens(store, "other", query(None, None, 10)).await,
        strings(&["send0000000000000000000009"])
    );

    // Sends created in the same millisecond: paging neither skips nor repeats one.
    for token in [
        "same000000000000000000000b",
        "same000000000000000000000a",
        "same000000000000000000000c",
    ] {
        created(
            store
                .create_send(minimal_send("acme", token, T0 + 10))
                .await,
            "create send",
        );
    }
    let mut paged = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = send_tokens(store, "acme", query(None, after.as_deref(), 1)).await;
        let Some(last) = page.last().cloned() else {
            break;
        };
        assert!(paged.len() < 20, "paging does not end: {paged:?}");
        paged.extend(page);
        after = Some(last);
    }
    let mut ties = paged[..3].to_vec();
    ties.sort();
    assert_eq!(
        ties,
        strings(&[
            "same000000000000000000000a",
            "same000000000000000000000b",
            "same000000000000000000000c",
        ]),
        "the newest three are the sends of the same millisecond, each once"
    );
    assert_eq!(paged[3..].to_vec(), all, "then the older sends, in order");
}

pub async fn account_scoped_methods_of_an_unknown_account_are_not_found(store: &dyn Store) {
    given_account(store, "acme").await;
    let nobody = "nobody";
    assert_not_found(store.list_clients(nobody).await, "list_clients");
    assert_not_found(store.list_codes(nobody).await, "list_codes");
    assert_not_found(store.list_keywords(nobody).await, "list_keywords");
    assert_not_found(store.list_messages(nobody).await, "list_messages");
    assert_not_found(store.list_lists(nobody).await, "list_lists");
    assert_not_found(
        store.resolve_lists(nobody, &strings(&["list-a"])).await,
        "resolve_lists",
    );
    assert_not_found(store.subscriptions_of(nobody, N1).await, "subscriptions_of");
    assert_not_found(
        store.list_sends(nobody, query(None, None, 10)).await,
        "list_sends",
    );
    assert_not_found(
        store
            .create_list(NewList {
                id: "list-a".to_string(),
                account_id: nobody.to_string(),
                name: "Lost".to_string(),
                created_at: T0,
            })
            .await,
        "create_list",
    );
    assert_not_found(
        store.create_message(new_message(nobody, "msg-1")).await,
        "create_message",
    );
    assert_not_found(store.get_contact(nobody, N1).await, "get_contact");
    assert_not_found(
        store
            .list_sends("acme", query(None, Some("send-that-never-was"), 10))
            .await,
        "list_sends after an unknown token",
    );
}

// ---- delivery engine (API.md §4 "What a send does", §5, §7) -----------------------------------

/// Numbers of the delivery behaviours, in ascending order (tracking is ordered by number).
const D1: &str = "15550000001";
const D2: &str = "15550000002";
const D3: &str = "15550000003";
const D4: &str = "15550000004";
const D5: &str = "15550000005";
const D6: &str = "15550000006";
const D7: &str = "15550000007";
const D8: &str = "15550000008";

/// The message every delivery send names.
const MESSAGE: &str = "msg-1";

/// An account `acme` with code 88976 (carrier `simulator`, keywords JOIN and DEALS), another
/// code 12345 (keyword JOIN) and message `msg-1` on 88976.
async fn delivery_fixture(store: &dyn Store) {
    given_account(store, "acme").await;
    given_code(store, "acme", "code-1", "88976").await;
    given_code(store, "acme", "code-2", "12345").await;
    given_keyword(store, "acme", "kw-join", "88976", "JOIN").await;
    given_keyword(store, "acme", "kw-deals", "88976", "DEALS").await;
    given_keyword(store, "acme", "kw-other", "12345", "JOIN").await;
    ok(
        store.create_message(new_message("acme", MESSAGE)).await,
        "create message",
    );
}

/// Creates the list (when new) and adds the numbers, each with a `FirstName` attribute.
async fn given_members(store: &dyn Store, list_id: &str, numbers: &[&str]) {
    if store.get_list("acme", list_id).await.is_err() {
        given_list(store, "acme", list_id).await;
    }
    let rows: Vec<ContactRow> = numbers
        .iter()
        .map(|n| row(n, None, json!({ "FirstName": format!("Name{n}") })))
        .collect();
    upsert(store, "acme", list_id, &rows, None, T0).await;
}

/// Sets the numbers' subscription to `keyword` on `code`.
async fn given_status(
    store: &dyn Store,
    code: &str,
    keyword: &str,
    numbers: &[&str],
    status: SubscriptionStatus,
) {
    for number in numbers {
        subscribe(store, "acme", &to(code, keyword), number, status, T0).await;
    }
}

/// Subscribes the numbers to JOIN on 88976.
async fn given_subscribed(store: &dyn Store, numbers: &[&str]) {
    given_status(
        store,
        "88976",
        "JOIN",
        numbers,
        SubscriptionStatus::Subscribed,
    )
    .await;
}

/// A messageList send of `msg-1` on code 88976, due at `due_at`.
fn list_send(
    token: &str,
    targets: &[&str],
    exclusions: &[&str],
    allow_duplication: bool,
    due_at: Millis,
) -> NewSend {
    let mut new = minimal_send("acme", token, T0);
    new.kind = SendKind::List;
    new.message_id = MESSAGE.to_string();
    new.target_list_ids = strings(targets);
    new.exclusion_list_ids = strings(exclusions);
    new.allow_duplication = allow_duplication;
    new.due_at = due_at;
    new
}

async fn given_send(store: &dyn Store, new: NewSend) -> Send {
    created(store.create_send(new).await, "create send")
}

/// Expands under `owner` in batches of `batch` until the expansion ends; how it ended and how
/// many batches it took.
async fn expand_to_end(
    store: &dyn Store,
    token: &str,
    owner: &str,
    batch: u32,
    now: Millis,
) -> (Expansion, u32) {
    let mut calls = 0;
    loop {
        calls += 1;
        assert!(calls < 1000, "expansion of {token} does not end");
        match ok(
            store
                .expand_batch(token, owner, batch, now, now + HOUR)
                .await,
            "expand batch",
        ) {
            Expansion::More => {}
            other => return (other, calls),
        }
    }
}

/// Claims the due sends at `now` (expecting exactly `token`) and expands it completely; the
/// number of recipients.
async fn start_send(store: &dyn Store, token: &str, now: Millis) -> i64 {
    let claimed = ok(
        store.claim_due_sends("worker-1", now, now + HOUR, 10).await,
        "claim due sends",
    );
    assert_eq!(
        claimed.iter().map(|s| s.token.as_str()).collect::<Vec<_>>(),
        vec![token],
        "the due send is claimed"
    );
    match expand_to_end(store, token, "worker-1", 1000, now).await.0 {
        Expansion::Done { recipients } => recipients,
        other => panic!("expanding {token}: expected Done, got {other:?}"),
    }
}

/// Every tracking entry of the send: (number, code, outcome).
async fn tracking_of(store: &dyn Store, token: &str) -> Vec<(String, i32, Option<Outcome>)> {
    ok(store.tracking_page(token, 1, 10_000).await, "tracking page")
        .into_iter()
        .map(|t| (t.mobile_number, t.status_code, t.outcome))
        .collect()
}

fn tracked(entries: &[(&str, i32, Option<Outcome>)]) -> Vec<(String, i32, Option<Outcome>)> {
    entries
        .iter()
        .map(|(n, code, outcome)| (n.to_string(), *code, *outcome))
        .collect()
}

async fn counts_of(store: &dyn Store, token: &str, now: Millis) -> SendCounts {
    ok(store.send_counts(token, now).await, "send counts")
}

async fn state_of(store: &dyn Store, token: &str) -> Send {
    ok(store.get_send("acme", token).await, "get send")
}

async fn claim(store: &dyn Store, token: &str, now: Millis, limit: u32) -> Vec<ClaimedRecipient> {
    ok(
        store
            .claim_recipients(token, "worker-1", now, now + HOUR, limit)
            .await,
        "claim recipients",
    )
}

fn numbers_of(claimed: &[ClaimedRecipient]) -> Vec<&str> {
    claimed.iter().map(|r| r.mobile_number.as_str()).collect()
}

fn accepted_by_carrier(r: &ClaimedRecipient, message_id: &str) -> SubmissionResult {
    SubmissionResult {
        id: r.id,
        status_code: codes::DELIVERED_TO_AGGREGATOR,
        carrier_message_id: Some(message_id.to_string()),
        segments: 1,
        encoding: "GSM-7".to_string(),
        note: None,
    }
}

/// Lists A = {D1, D2, D3, D5, D6, D7}, B = {D2, D3, D4, D6, D8}, exclusion X = {D3}. On 88976:
/// D1, D2, D3 Subscribed to JOIN, D4 only to DEALS (any keyword of the code counts), D5 opted
/// out, D6 never subscribed, D7 InProgress (double opt-in pending), D8 Subscribed only on another
/// code.
async fn audience_fixture(store: &dyn Store) {
    delivery_fixture(store).await;
    given_members(store, "list-a", &[D1, D2, D3, D5, D6, D7]).await;
    given_members(store, "list-b", &[D2, D3, D4, D6, D8]).await;
    given_members(store, "list-x", &[D3]).await;
    given_subscribed(store, &[D1, D2, D3, D5]).await;
    given_status(
        store,
        "88976",
        "DEALS",
        &[D4],
        SubscriptionStatus::Subscribed,
    )
    .await;
    given_status(
        store,
        "88976",
        "JOIN",
        &[D5],
        SubscriptionStatus::Unsubscribed,
    )
    .await;
    given_status(
        store,
        "88976",
        "JOIN",
        &[D7],
        SubscriptionStatus::InProgress,
    )
    .await;
    given_status(
        store,
        "12345",
        "JOIN",
        &[D8],
        SubscriptionStatus::Subscribed,
    )
    .await;
}

pub async fn fan_out_is_one_recipient_per_subscribed_number_minus_exclusions(store: &dyn Store) {
    audience_fixture(store).await;
    let token = "fanout00000000000000000000";
    given_send(
        store,
        list_send(token, &["LIST-A", "list-b"], &["List-X"], false, T0),
    )
    .await;
    let now = T0 + 1000;
    assert_eq!(start_send(store, token, now).await, 3);

    let queued = |n| (n, codes::QUEUED, None);
    assert_eq!(
        tracking_of(store, token).await,
        tracked(&[queued(D1), queued(D2), queued(D4)]),
        "one entry per number: D3 excluded, D5–D8 not Subscribed on the code"
    );
    assert_eq!(
        counts_of(store, token, now).await,
        SendCounts {
            recipients: 3,
            queued: 3,
            suppressed: 4,
            ..SendCounts::default()
        },
        "D5, D6 (in both lists), D7 and D8 are suppressed once each"
    );
    let send = state_of(store, token).await;
    assert_eq!((send.state, send.count), (SendState::Started, 3));
    let dispatchable = ok(store.dispatchable_sends(now, 10, &[]).await, "dispatchable");
    assert_eq!(dispatchable.len(), 1);
    assert_eq!(dispatchable[0].send, send);
    assert_eq!(
        (dispatchable[0].carrier.as_str(), dispatchable[0].next_at),
        ("simulator", now)
    );
}

pub async fn fan_out_with_duplication_is_one_recipient_per_membership(store: &dyn Store) {
    audience_fixture(store).await;
    let token = "fanoutdup00000000000000000";
    given_send(
        store,
        list_send(token, &["list-a", "list-b"], &["list-x"], true, T0),
    )
    .await;
    let now = T0 + 1000;
    assert_eq!(start_send(store, token, now).await, 4);

    let queued = |n| (n, codes::QUEUED, None);
    assert_eq!(
        tracking_of(store, token).await,
        tracked(&[queued(D1), queued(D2), queued(D2), queued(D4)]),
        "D2 is in both lists: two entries"
    );
    assert_eq!(
        counts_of(store, token, now).await,
        SendCounts {
            recipients: 4,
            queued: 4,
            suppressed: 4,
            ..SendCounts::default()
        },
        "suppressed counts distinct numbers, D6 once although in both lists"
    );
    assert_eq!(state_of(store, token).await.count, 4);
}

pub async fn expansion_in_small_batches_equals_one_batch_and_resumes_without_repeating(
    store: &dyn Store,
) {
    audience_fixture(store).await;
    let whole = "whole0000000000000000000000";
    let small = "small0000000000000000000000";
    for token in [whole, small] {
        given_send(
            store,
            list_send(token, &["list-a", "list-b"], &["list-x"], false, T0),
        )
        .await;
    }
    let now = T0 + 1000;
    let claimed = ok(
        store.claim_due_sends("worker-1", now, now + 100, 10).await,
        "claim both sends",
    );
    assert_eq!(claimed.len(), 2);

    let (ended, calls) = expand_to_end(store, whole, "worker-1", 1_000_000, now).await;
    assert_eq!((ended, calls), (Expansion::Done { recipients: 3 }, 1));

    // Two batches of two memberships, then the worker "crashes": its lease runs out and another
    // worker resumes from the saved cursor.
    for _ in 0..2 {
        assert_eq!(
            ok(
                store
                    .expand_batch(small, "worker-1", 2, now, now + 100)
                    .await,
                "small batch"
            ),
            Expansion::More
        );
    }
    let later = now + 101;
    let taken = ok(
        store
            .claim_due_sends("worker-2", later, later + HOUR, 10)
            .await,
        "take over",
    );
    assert_eq!(
        taken.iter().map(|s| s.token.as_str()).collect::<Vec<_>>(),
        vec![small]
    );
    assert_eq!(taken[0].state, SendState::Queuing);
    let (ended, calls) = expand_to_end(store, small, "worker-2", 2, later).await;
    assert_eq!(ended, Expansion::Done { recipients: 3 });
    assert!(
        calls >= 3,
        "11 memberships in batches of 2 take several calls"
    );

    assert_eq!(
        tracking_of(store, small).await,
        tracking_of(store, whole).await
    );
    assert_eq!(
        counts_of(store, small, later).await,
        counts_of(store, whole, later).await
    );

    // Running it again adds nothing: the send is no longer being expanded.
    for (token, owner) in [(small, "worker-2"), (whole, "worker-1")] {
        assert_eq!(
            ok(
                store
                    .expand_batch(token, owner, 1000, later, later + HOUR)
                    .await,
                "expand a started send"
            ),
            Expansion::Lost
        );
        assert_eq!(counts_of(store, token, later).await.recipients, 3);
        assert_eq!(counts_of(store, token, later).await.suppressed, 4);
    }
}

pub async fn send_whose_message_list_or_code_was_deleted_fails_with_a_reason(store: &dyn Store) {
    delivery_fixture(store).await;
    given_members(store, "list-a", &[D1]).await;
    given_members(store, "list-x", &[D2]).await;
    given_subscribed(store, &[D1, D2]).await;
    let tokens = [
        "nomessage00000000000000000",
        "notarget000000000000000000",
        "noexclusion000000000000000",
        "nocode00000000000000000000",
    ];
    given_send(store, list_send(tokens[0], &["list-a"], &[], false, T0)).await;
    given_send(store, list_send(tokens[1], &["List-Gone"], &[], false, T0)).await;
    given_send(
        store,
        list_send(tokens[2], &["list-a"], &["List-X"], false, T0),
    )
    .await;
    let mut new = list_send(tokens[3], &["list-a"], &[], false, T0);
    new.code = "12345".to_string();
    given_send(store, new).await;
    given_list(store, "acme", "list-gone").await;

    ok(
        store.delete_message("acme", MESSAGE).await,
        "delete message",
    );
    ok(store.delete_list("acme", "list-gone").await, "delete list");
    ok(store.delete_list("acme", "list-x").await, "delete list");
    ok(store.delete_code("acme", "12345").await, "delete code");
    // Only the first send is to lack its message: it is created again after that one ran.
    let message = new_message("acme", MESSAGE);
    let now = T0 + 1000;
    let claimed = ok(
        store.claim_due_sends("worker-1", now, now + HOUR, 10).await,
        "claim",
    );
    assert_eq!(claimed.len(), 4);

    let expected = [
        "Message msg-1 was deleted before the send was due.",
        "List List-Gone was deleted before the send was due.",
        "List List-X was deleted before the send was due.",
        "Code 12345 was deleted before the send was due.",
    ];
    for (token, expected) in tokens.iter().zip(expected) {
        if *token != tokens[0] && store.get_message("acme", MESSAGE).await.is_err() {
            ok(
                store.create_message(message.clone()).await,
                "recreate message",
            );
        }
        let outcome = ok(
            store
                .expand_batch(token, "worker-1", 1000, now, now + HOUR)
                .await,
            "expand",
        );
        assert_eq!(
            outcome,
            Expansion::Failed {
                reason: expected.to_string()
            },
            "{token}"
        );
        let send = state_of(store, token).await;
        assert_eq!(send.state, SendState::Error, "{token}");
        assert_eq!(send.errors, strings(&[expected]), "{token}");
        assert_eq!(send.completed_at, Some(now), "{token}");
        assert_eq!(send.count, 0, "{token}");
        assert_eq!(tracking_of(store, token).await, Vec::new(), "{token}");
        assert_eq!(ok(store.send_next_at(token).await, "next at"), None);
        assert_eq!(
            ok(
                store
                    .expand_batch(token, "worker-1", 1000, now, now + HOUR)
                    .await,
                "expand a failed send"
            ),
            Expansion::Lost
        );
    }
}

pub async fn due_sends_are_claimed_oldest_first_and_only_when_due(store: &dyn Store) {
    delivery_fixture(store).await;
    given_members(store, "list-a", &[D1]).await;
    given_send(
        store,
        list_send(
            "later000000000000000000000",
            &["list-a"],
            &[],
            false,
            T0 + 30,
        ),
    )
    .await;
    given_send(
        store,
        list_send(
            "first000000000000000000000",
            &["list-a"],
            &[],
            false,
            T0 + 10,
        ),
    )
    .await;
    given_send(
        store,
        list_send(
            "second00000000000000000000",
            &["list-a"],
            &[],
            false,
            T0 + 20,
        ),
    )
    .await;
    given_send(
        store,
        list_send(
            "future00000000000000000000",
            &["list-a"],
            &[],
            false,
            T0 + HOUR,
        ),
    )
    .await;

    let now = T0 + 100;
    let claimed = ok(
        store.claim_due_sends("worker-1", now, now + HOUR, 2).await,
        "claim two",
    );
    assert_eq!(
        claimed.iter().map(|s| s.token.as_str()).collect::<Vec<_>>(),
        vec!["first000000000000000000000", "second00000000000000000000"],
        "oldest due first, at most the limit"
    );
    for send in &claimed {
        assert_eq!(send.state, SendState::Queuing);
        assert_eq!(send, &state_of(store, &send.token).await);
    }
    let rest = ok(
        store.claim_due_sends("worker-2", now, now + HOUR, 10).await,
        "claim the rest",
    );
    assert_eq!(
        rest.iter().map(|s| s.token.as_str()).collect::<Vec<_>>(),
        vec!["later000000000000000000000"],
        "leased sends and sends not yet due are not claimed"
    );
    assert_eq!(
        state_of(store, "future00000000000000000000").await.state,
        SendState::New
    );
    assert_eq!(
        ok(
            store.claim_due_sends("worker-2", now, now + HOUR, 10).await,
            "claim again"
        ),
        Vec::new()
    );
}

pub async fn expired_expansion_lease_is_taken_over_and_lost_by_its_old_owner(store: &dyn Store) {
    audience_fixture(store).await;
    let token = "takeover000000000000000000";
    given_send(
        store,
        list_send(token, &["list-a", "list-b"], &["list-x"], false, T0),
    )
    .await;
    let now = T0 + 1000;
    ok(
        store.claim_due_sends("worker-1", now, now + 100, 10).await,
        "claim",
    );
    // Each batch extends the lease.
    assert_eq!(
        ok(
            store
                .expand_batch(token, "worker-1", 2, now + 50, now + 500)
                .await,
            "batch"
        ),
        Expansion::More
    );
    assert_eq!(
        ok(
            store
                .claim_due_sends("worker-2", now + 400, now + HOUR, 10)
                .await,
            "early"
        ),
        Vec::new(),
        "the extended lease still holds"
    );
    assert_eq!(
        ok(
            store
                .expand_batch(token, "worker-2", 2, now + 400, now + HOUR)
                .await,
            "not its own"
        ),
        Expansion::Lost,
        "another worker cannot expand a send it does not hold"
    );
    let taken = ok(
        store
            .claim_due_sends("worker-2", now + 501, now + HOUR, 10)
            .await,
        "take over",
    );
    assert_eq!(taken.len(), 1);
    assert_eq!(
        ok(
            store
                .expand_batch(token, "worker-1", 2, now + 502, now + HOUR)
                .await,
            "old owner"
        ),
        Expansion::Lost
    );
    let (ended, _) = expand_to_end(store, token, "worker-2", 2, now + 502).await;
    assert_eq!(ended, Expansion::Done { recipients: 3 });
    assert_eq!(
        tracking_of(store, token).await.len(),
        3,
        "the old owner's batch was not repeated"
    );

    // Released leases are claimable at once, and by anyone.
    let released = "released000000000000000000";
    given_send(store, list_send(released, &["list-a"], &[], false, T0)).await;
    ok(
        store.claim_due_sends("worker-1", now, now + HOUR, 10).await,
        "claim",
    );
    ok(store.release_leases("worker-1").await, "release");
    let taken = ok(
        store
            .claim_due_sends("worker-2", now + 1, now + HOUR, 10)
            .await,
        "claim released",
    );
    assert_eq!(
        taken.iter().map(|s| s.token.as_str()).collect::<Vec<_>>(),
        vec![released]
    );
}

pub async fn claim_hands_out_ready_recipients_once_and_suppresses_opted_out_numbers(
    store: &dyn Store,
) {
    delivery_fixture(store).await;
    given_members(store, "list-a", &[D1, D2, D3, D4]).await;
    given_subscribed(store, &[D1, D2, D3, D4]).await;
    let token = "claimsend00000000000000000";
    given_send(store, list_send(token, &["list-a"], &[], false, T0)).await;
    let now = T0 + 1000;
    assert_eq!(
        claim(store, token, now, 10).await,
        Vec::new(),
        "a send not yet started has nothing to claim"
    );
    assert_eq!(start_send(store, token, now).await, 4);

    // D1 and D3 opt out after expansion.
    given_status(
        store,
        "88976",
        "JOIN",
        &[D1, D3],
        SubscriptionStatus::Unsubscribed,
    )
    .await;
    let first = claim(store, "CLAIMSEND00000000000000000", now, 1).await;
    assert_eq!(
        numbers_of(&first),
        vec![D2],
        "D1 is suppressed and the claim goes on to the next ready recipient"
    );
    assert_eq!(
        first[0].attributes,
        attributes(json!({ "FirstName": format!("Name{D2}") })),
        "the contact's attributes come with the claim"
    );
    let second = claim(store, token, now, 10).await;
    assert_eq!(
        numbers_of(&second),
        vec![D4],
        "D3 is suppressed, D2 is claimed"
    );
    assert_eq!(
        claim(store, token, now, 10).await,
        Vec::new(),
        "nothing is ready"
    );

    assert_eq!(
        tracking_of(store, token).await,
        tracked(&[
            (D1, codes::QUEUED, Some(Outcome::Suppressed)),
            (D2, codes::QUEUED, None),
            (D3, codes::QUEUED, Some(Outcome::Suppressed)),
            (D4, codes::QUEUED, None),
        ])
    );
    assert_eq!(
        counts_of(store, token, now).await,
        SendCounts {
            recipients: 4,
            queued: 2,
            suppressed: 2,
            ..SendCounts::default()
        }
    );
    assert!(
        !ok(store.finish_if_done(token, now).await, "finish"),
        "recipients being handed over keep the send Started"
    );
    assert_eq!(
        ok(store.dispatchable_sends(now, 10, &[]).await, "dispatchable"),
        Vec::new(),
        "nothing ready: not dispatchable"
    );
}

pub async fn recorded_submissions_settle_recipients_and_finish_the_send(store: &dyn Store) {
    delivery_fixture(store).await;
    given_members(store, "list-a", &[D1, D2]).await;
    given_subscribed(store, &[D1, D2]).await;
    let token = "recordsend0000000000000000";
    given_send(store, list_send(token, &["list-a"], &[], false, T0)).await;
    let now = T0 + 1000;
    start_send(store, token, now).await;
    let claimed = claim(store, token, now, 10).await;
    assert_eq!(numbers_of(&claimed), vec![D1, D2]);
    assert!(!ok(
        store.finish_if_done(token, now).await,
        "finish while submitting"
    ));

    let done_at = now + 5;
    ok(
        store
            .record_submissions(
                "worker-1",
                &[
                    accepted_by_carrier(&claimed[0], "m-1"),
                    SubmissionResult {
                        id: claimed[1].id,
                        status_code: codes::FAILED_TO_AGGREGATOR,
                        carrier_message_id: None,
                        segments: 2,
                        encoding: "UCS-2".to_string(),
                        note: Some("Refused.".to_string()),
                    },
                ],
                done_at,
            )
            .await,
        "record submissions",
    );
    let page = ok(store.tracking_page(token, 1, 10).await, "tracking");
    assert_eq!(
        page,
        vec![
            TrackingRow {
                text: None,
                mobile_number: D1.to_string(),
                status_code: codes::DELIVERED_TO_AGGREGATOR,
                outcome: None,
                segments: Some(1),
                encoding: Some("GSM-7".to_string()),
                note: None,
                updated_at: done_at,
            },
            TrackingRow {
                text: None,
                mobile_number: D2.to_string(),
                status_code: codes::FAILED_TO_AGGREGATOR,
                outcome: None,
                segments: Some(2),
                encoding: Some("UCS-2".to_string()),
                note: Some("Refused.".to_string()),
                updated_at: done_at,
            },
        ]
    );
    assert!(ok(store.finish_if_done(token, done_at).await, "finish"));
    let send = state_of(store, token).await;
    assert_eq!(
        (send.state, send.completed_at),
        (SendState::Finished, Some(done_at))
    );
    assert!(!ok(
        store.finish_if_done(token, done_at).await,
        "finish twice"
    ));
    assert_eq!(
        counts_of(store, token, done_at).await,
        SendCounts {
            recipients: 2,
            sent: 1,
            failed: 1,
            ..SendCounts::default()
        }
    );
    assert_eq!(ok(store.send_next_at(token).await, "next at"), None);

    // A receipt finds the recipient by the carrier's message id.
    assert_eq!(
        ok(
            store
                .apply_receipts(
                    &[Receipt {
                        carrier: "simulator".to_string(),
                        carrier_message_id: "m-1".to_string(),
                        status_code: codes::DELIVERED,
                    }],
                    done_at + 1,
                )
                .await,
            "receipt"
        ),
        1
    );
    assert_eq!(counts_of(store, token, done_at).await.delivered, 1);
}

/// Marks `claimed` submitting for `owner` (leave to write them), asserting all were marked.
async fn leaving(store: &dyn Store, owner: &str, claimed: &[ClaimedRecipient], now: Millis) {
    let ids: Vec<i64> = claimed.iter().map(|r| r.id).collect();
    assert_eq!(
        ok(
            store.mark_submitting(owner, &ids, now, now + HOUR).await,
            "mark submitting"
        ),
        ids
    );
}

pub async fn expired_submissions_become_unknown_and_expired_claims_are_taken_again(
    store: &dyn Store,
) {
    delivery_fixture(store).await;
    given_members(store, "list-a", &[D1, D2, D3]).await;
    given_subscribed(store, &[D1, D2, D3]).await;
    let token = "recoversend000000000000000";
    given_send(store, list_send(token, &["list-a"], &[], false, T0)).await;
    let now = T0 + 1000;
    start_send(store, token, now).await;
    let claimed = ok(
        store
            .claim_recipients(token, "worker-1", now, now + 100, 2)
            .await,
        "claim",
    );
    assert_eq!(numbers_of(&claimed), vec![D1, D2]);
    // D1 leaves; D2 is claimed but never written.
    assert_eq!(
        ok(
            store
                .mark_submitting("worker-1", &[claimed[0].id], now, now + 100)
                .await,
            "mark"
        ),
        vec![claimed[0].id]
    );
    // A claim under a live lease is no one else's.
    assert_eq!(
        numbers_of(&claim(store, token, now + 50, 10).await),
        vec![D3]
    );
    assert_eq!(
        ok(
            store.recover_expired(now + 100).await,
            "recover at lease end"
        ),
        0
    );
    assert_eq!(
        ok(
            store.recover_expired(now + 101).await,
            "recover after lease"
        ),
        1,
        "only the submission that may have left"
    );
    assert_eq!(
        ok(store.recover_expired(now + 102).await, "recover again"),
        0
    );
    let page = ok(store.tracking_page(token, 1, 10).await, "tracking");
    assert_eq!(page[0].status_code, codes::UNKNOWN);
    assert_eq!(
        page[0].note.as_deref(),
        Some("Process stopped after hand-off; delivery unknown.")
    );
    assert_eq!(page[1].status_code, codes::QUEUED);
    // The expired claim (D2) is taken again, and only it: D3 is still held by its claim.
    let again = claim(store, token, now + 200, 10).await;
    assert_eq!(numbers_of(&again), vec![D2]);
    assert_eq!(claim(store, token, now + 200, 10).await, Vec::new());
}

pub async fn a_late_answer_replaces_recoverys_unknown(store: &dyn Store) {
    delivery_fixture(store).await;
    given_members(store, "list-a", &[D1, D2]).await;
    given_subscribed(store, &[D1, D2]).await;
    let token = "lateanswer0000000000000000";
    given_send(store, list_send(token, &["list-a"], &[], false, T0)).await;
    start_send(store, token, T0).await;
    let claimed = ok(
        store.claim_recipients(token, "slow", T0, T0 + 100, 2).await,
        "claim",
    );
    let ids: Vec<i64> = claimed.iter().map(|r| r.id).collect();
    ok(
        store.mark_submitting("slow", &ids, T0, T0 + 100).await,
        "mark",
    );
    assert_eq!(ok(store.recover_expired(T0 + 101).await, "recover"), 2);
    assert_eq!(state_of(store, token).await.state, SendState::Finished);
    // Another process's answer changes nothing; the slow owner's replaces the 3400, with the
    // carrier's id (so its receipt matches) — a code going down, as API.md §8 allows.
    ok(
        store
            .record_submissions(
                "another",
                &[accepted_by_carrier(&claimed[0], "x")],
                T0 + 102,
            )
            .await,
        "foreign record",
    );
    ok(
        store
            .record_submissions(
                "slow",
                &[accepted_by_carrier(&claimed[0], "late-1")],
                T0 + 103,
            )
            .await,
        "late record",
    );
    let page = ok(store.tracking_page(token, 1, 10).await, "tracking");
    assert_eq!(page[0].status_code, codes::DELIVERED_TO_AGGREGATOR);
    assert_eq!(page[1].status_code, codes::UNKNOWN);
    let receipt = Receipt {
        carrier: "simulator".into(),
        carrier_message_id: "late-1".into(),
        status_code: codes::DELIVERED,
    };
    assert_eq!(
        ok(
            store
                .unmatched_receipts(std::slice::from_ref(&receipt))
                .await,
            "match"
        ),
        Vec::<usize>::new()
    );
    ok(store.apply_receipts(&[receipt], T0 + 104).await, "receipt");
    let counts = counts_of(store, token, T0 + 104).await;
    assert_eq!((counts.delivered, counts.unknown), (1, 1));
    // Only once: a second answer for it changes nothing.
    ok(
        store
            .record_submissions(
                "slow",
                &[accepted_by_carrier(&claimed[0], "late-2")],
                T0 + 105,
            )
            .await,
        "second late record",
    );
    assert_eq!(counts_of(store, token, T0 + 105).await.delivered, 1);
}

pub async fn a_late_answer_that_nothing_left_reopens_a_send_recovery_finished(store: &dyn Store) {
    delivery_fixture(store).await;
    given_members(store, "list-a", &[D1]).await;
    given_subscribed(store, &[D1]).await;
    let token = "latequeued0000000000000000";
    given_send(store, list_send(token, &["list-a"], &[], false, T0)).await;
    start_send(store, token, T0).await;
    let claimed = ok(
        store.claim_recipients(token, "slow", T0, T0 + 100, 1).await,
        "claim",
    );
    ok(
        store
            .mark_submitting("slow", &[claimed[0].id], T0, T0 + 100)
            .await,
        "mark",
    );
    assert_eq!(ok(store.recover_expired(T0 + 101).await, "recover"), 1);
    assert_eq!(state_of(store, token).await.state, SendState::Finished);
    let never_left = SubmissionResult {
        id: claimed[0].id,
        status_code: codes::QUEUED,
        carrier_message_id: None,
        segments: 0,
        encoding: String::new(),
        note: None,
    };
    ok(
        store
            .record_submissions("slow", &[never_left], T0 + 102)
            .await,
        "late requeue",
    );
    let send = state_of(store, token).await;
    assert_eq!(send.state, SendState::Started, "the send goes on");
    assert_eq!(send.completed_at, None);
    let counts = counts_of(store, token, T0 + 102).await;
    assert_eq!((counts.queued, counts.unknown), (1, 0));
    let page = ok(store.tracking_page(token, 1, 10).await, "tracking");
    assert_eq!(page[0].note, None, "recovery's note goes with its 3400");
    let again = claim(store, token, T0 + 103, 10).await;
    assert_eq!(numbers_of(&again), vec![D1]);
    ok(
        store
            .record_submissions(
                "worker-1",
                &[accepted_by_carrier(&again[0], "m-1")],
                T0 + 104,
            )
            .await,
        "record",
    );
    assert!(ok(store.finish_if_done(token, T0 + 104).await, "finish"));
}

pub async fn only_the_claims_owner_marks_renews_and_records(store: &dyn Store) {
    delivery_fixture(store).await;
    given_members(store, "list-a", &[D1, D2]).await;
    given_subscribed(store, &[D1, D2]).await;
    let token = "ownersonly0000000000000000";
    given_send(store, list_send(token, &["list-a"], &[], false, T0)).await;
    start_send(store, token, T0).await;
    let claimed = ok(
        store
            .claim_recipients(token, "worker-1", T0, T0 + 100, 2)
            .await,
        "claim",
    );
    let ids: Vec<i64> = claimed.iter().map(|r| r.id).collect();
    assert_eq!(
        ok(
            store.mark_submitting("other", &ids, T0, T0 + 100).await,
            "foreign mark"
        ),
        Vec::<i64>::new()
    );
    assert_eq!(
        ok(
            store.renew_leases("other", &ids, T0 + 500).await,
            "foreign renew"
        ),
        0
    );
    ok(
        store
            .record_submissions("other", &[accepted_by_carrier(&claimed[0], "x")], T0 + 1)
            .await,
        "foreign record",
    );
    assert_eq!(counts_of(store, token, T0 + 1).await.queued, 2);
    // An expired claim cannot be marked by its old owner: another may have taken it.
    assert_eq!(
        ok(
            store
                .mark_submitting("worker-1", &ids, T0 + 101, T0 + 200)
                .await,
            "expired mark"
        ),
        Vec::<i64>::new()
    );
    let taken = ok(
        store
            .claim_recipients(token, "worker-2", T0 + 101, T0 + 300, 2)
            .await,
        "take over",
    );
    assert_eq!(numbers_of(&taken), vec![D1, D2]);
    // The old owner's answers (it wrote nothing) change nothing of the new claim.
    ok(
        store
            .record_submissions(
                "worker-1",
                &[accepted_by_carrier(&claimed[1], "y")],
                T0 + 102,
            )
            .await,
        "stale record",
    );
    assert_eq!(
        ok(
            store
                .mark_submitting("worker-2", &[taken[1].id], T0 + 102, T0 + 300)
                .await,
            "mark"
        ),
        vec![taken[1].id]
    );
    ok(
        store
            .record_submissions(
                "worker-2",
                &[accepted_by_carrier(&taken[1], "m-2")],
                T0 + 103,
            )
            .await,
        "record",
    );
    let page = ok(store.tracking_page(token, 1, 10).await, "tracking");
    assert_eq!(page[0].status_code, codes::QUEUED);
    assert_eq!(page[1].status_code, codes::DELIVERED_TO_AGGREGATOR);
}

pub async fn renewed_leases_outlive_their_first_end(store: &dyn Store) {
    delivery_fixture(store).await;
    given_members(store, "list-a", &[D1, D2]).await;
    given_subscribed(store, &[D1, D2]).await;
    let token = "renewlease0000000000000000";
    given_send(store, list_send(token, &["list-a"], &[], false, T0)).await;
    start_send(store, token, T0).await;
    let claimed = ok(
        store
            .claim_recipients(token, "worker-1", T0, T0 + 100, 2)
            .await,
        "claim",
    );
    let ids: Vec<i64> = claimed.iter().map(|r| r.id).collect();
    ok(
        store
            .mark_submitting("worker-1", &ids[..1], T0, T0 + 100)
            .await,
        "mark",
    );
    assert_eq!(
        ok(
            store.renew_leases("worker-1", &ids, T0 + 1_000).await,
            "renew"
        ),
        2
    );
    assert_eq!(ok(store.recover_expired(T0 + 500).await, "recover"), 0);
    assert_eq!(claim(store, token, T0 + 500, 10).await, Vec::new());
    assert_eq!(
        ok(store.recover_expired(T0 + 1_001).await, "recover after"),
        1
    );
}

pub async fn a_canceled_send_takes_its_claims_back_and_a_late_requeue_is_canceled(
    store: &dyn Store,
) {
    delivery_fixture(store).await;
    given_members(store, "list-a", &[D1, D2, D3]).await;
    given_subscribed(store, &[D1, D2, D3]).await;
    let token = "cancelclaim000000000000000";
    given_send(store, list_send(token, &["list-a"], &[], false, T0)).await;
    start_send(store, token, T0).await;
    let claimed = claim(store, token, T0, 3).await;
    leaving(store, "worker-1", &claimed[..1], T0).await;
    // D1 is being written; D2 and D3 are claimed but have not left.
    assert_eq!(ok(store.cancel_send(token, T0 + 1).await, "cancel"), 2);
    assert_eq!(
        ok(
            store
                .mark_submitting("worker-1", &[claimed[1].id], T0 + 2, T0 + HOUR)
                .await,
            "mark after cancel"
        ),
        Vec::<i64>::new(),
        "a canceled recipient is never written"
    );
    // The carrier took nothing for D1 (2600): it cannot go back to a canceled send's queue.
    let throttled = SubmissionResult {
        id: claimed[0].id,
        status_code: codes::THROTTLED,
        carrier_message_id: None,
        segments: 1,
        encoding: "GSM-7".into(),
        note: Some("Throttled; queued again.".into()),
    };
    ok(
        store
            .record_submissions("worker-1", &[throttled], T0 + 3)
            .await,
        "record",
    );
    let counts = counts_of(store, token, T0 + 3).await;
    assert_eq!((counts.canceled, counts.queued), (3, 0));
    assert_eq!(state_of(store, token).await.state, SendState::Canceled);
}

pub async fn released_claims_are_claimable_at_once(store: &dyn Store) {
    delivery_fixture(store).await;
    given_members(store, "list-a", &[D1, D2]).await;
    given_subscribed(store, &[D1, D2]).await;
    let token = "releasedcl0000000000000000";
    given_send(store, list_send(token, &["list-a"], &[], false, T0)).await;
    start_send(store, token, T0).await;
    let claimed = claim(store, token, T0, 2).await;
    leaving(store, "worker-1", &claimed[..1], T0).await;
    ok(store.release_leases("worker-1").await, "release");
    // The claim that never left is free; the submission that may have left is not.
    let again = ok(
        store
            .claim_recipients(token, "worker-2", T0 + 1, T0 + HOUR, 10)
            .await,
        "claim again",
    );
    assert_eq!(numbers_of(&again), vec![D2]);
}

pub async fn receipts_raise_codes_and_only_a_throttled_code_may_go_down(store: &dyn Store) {
    delivery_fixture(store).await;
    given_members(store, "list-a", &[D1, D2, D3, D4]).await;
    given_subscribed(store, &[D1, D2, D3, D4]).await;
    let token = "receipts000000000000000000";
    given_send(store, list_send(token, &["list-a"], &[], false, T0)).await;
    let now = T0 + 1000;
    start_send(store, token, now).await;
    let claimed = claim(store, token, now, 10).await;
    let results: Vec<SubmissionResult> = claimed
        .iter()
        .zip(["m-1", "m-2", "m-3", "m-4"])
        .map(|(r, id)| accepted_by_carrier(r, id))
        .collect();
    ok(
        store.record_submissions("worker-1", &results, now).await,
        "record",
    );

    let receipt = |carrier: &str, id: &str, code: i32| Receipt {
        carrier: carrier.to_string(),
        carrier_message_id: id.to_string(),
        status_code: code,
    };
    let first = [
        receipt("simulator", "m-1", codes::DELIVERED),
        receipt("simulator", "m-2", codes::THROTTLED),
        receipt("simulator", "m-3", codes::UNDELIVERABLE),
        receipt("simulator", "m-3", codes::DELIVERED),
        receipt("acme-smpp", "m-4", codes::DELIVERED),
        receipt("simulator", "no-such-id", codes::DELIVERED),
    ];
    assert_eq!(
        ok(
            store.apply_receipts(&first, now + 1).await,
            "first receipts"
        ),
        3,
        "m-1 and m-2 raised; m-3 raised once (the later, lower receipt is ignored); another \
         carrier's m-4 and an unknown id match nothing"
    );
    let second = [
        receipt("simulator", "m-1", codes::ENROUTE),
        receipt("simulator", "m-2", codes::FAILED_TO_AGGREGATOR),
    ];
    assert_eq!(
        ok(
            store.apply_receipts(&second, now + 2).await,
            "second receipts"
        ),
        1,
        "a lower code never replaces 4000, but replaces the transient 2600"
    );
    assert_eq!(
        ok(
            store
                .apply_receipts(
                    &[receipt("simulator", "m-2", codes::DELIVERED_TO_AGGREGATOR)],
                    now + 3
                )
                .await,
            "third receipts"
        ),
        0
    );
    assert_eq!(
        ok(store.apply_receipts(&[], now + 3).await, "no receipts"),
        0
    );
    let page = ok(store.tracking_page(token, 1, 10).await, "tracking");
    assert_eq!(
        page.iter()
            .map(|t| (t.status_code, t.updated_at))
            .collect::<Vec<_>>(),
        vec![
            (codes::DELIVERED, now + 1),
            (codes::FAILED_TO_AGGREGATOR, now + 2),
            (codes::UNDELIVERABLE, now + 1),
            (codes::DELIVERED_TO_AGGREGATOR, now),
        ]
    );
    assert_eq!(
        counts_of(store, token, now + 3).await,
        SendCounts {
            recipients: 4,
            sent: 1,
            delivered: 1,
            failed: 2,
            ..SendCounts::default()
        }
    );
}

pub async fn a_throttled_submission_is_queued_again_until_its_retry_decides(store: &dyn Store) {
    delivery_fixture(store).await;
    given_members(store, "list-a", &[D1, D2]).await;
    given_subscribed(store, &[D1, D2]).await;
    let token = "throttled00000000000000000";
    given_send(store, list_send(token, &["list-a"], &[], false, T0)).await;
    let now = T0 + 1000;
    start_send(store, token, now).await;
    let claimed = claim(store, token, now, 10).await;
    assert_eq!(numbers_of(&claimed), vec![D1, D2]);
    let throttled = SubmissionResult {
        id: claimed[1].id,
        status_code: codes::THROTTLED,
        carrier_message_id: None,
        segments: 1,
        encoding: "GSM-7".to_string(),
        note: Some("Throttled; queued again.".to_string()),
    };
    ok(
        store
            .record_submissions(
                "worker-1",
                &[accepted_by_carrier(&claimed[0], "m-1"), throttled],
                now + 1,
            )
            .await,
        "record",
    );
    let counts = counts_of(store, token, now + 2).await;
    assert_eq!((counts.sent, counts.queued), (1, 1), "{counts:?}");
    assert!(
        !ok(store.finish_if_done(token, now + 2).await, "finish"),
        "a throttled recipient is still to be handed over"
    );
    let again = claim(store, token, now + 3, 10).await;
    assert_eq!(
        numbers_of(&again),
        vec![D2],
        "only the throttled recipient comes back"
    );
    ok(
        store
            .record_submissions(
                "worker-1",
                &[accepted_by_carrier(&again[0], "m-2")],
                now + 4,
            )
            .await,
        "record the retry",
    );
    assert!(claim(store, token, now + 5, 10).await.is_empty());
    assert!(ok(store.finish_if_done(token, now + 5).await, "finish"));
    let tracking = tracking_of(store, token).await;
    assert_eq!(
        tracking,
        vec![
            (D1.to_string(), codes::DELIVERED_TO_AGGREGATOR, None),
            (D2.to_string(), codes::DELIVERED_TO_AGGREGATOR, None),
        ]
    );
}

pub async fn unmatched_receipts_are_those_without_a_recorded_submission(store: &dyn Store) {
    delivery_fixture(store).await;
    given_members(store, "list-a", &[D1, D2]).await;
    given_subscribed(store, &[D1, D2]).await;
    let token = "unmatched00000000000000000";
    given_send(store, list_send(token, &["list-a"], &[], false, T0)).await;
    let now = T0 + 1000;
    start_send(store, token, now).await;
    let claimed = claim(store, token, now, 10).await;
    let receipt = |carrier: &str, id: &str| Receipt {
        carrier: carrier.to_string(),
        carrier_message_id: id.to_string(),
        status_code: codes::DELIVERED,
    };
    let receipts = [
        receipt("simulator", "m-1"),
        receipt("simulator", "m-2"),
        receipt("acme-smpp", "m-1"),
        receipt("simulator", "m-1"),
    ];
    assert_eq!(
        ok(store.unmatched_receipts(&receipts).await, "before"),
        vec![0, 1, 2, 3],
        "nothing is recorded while the batch is being handed over"
    );
    ok(
        store
            .record_submissions(
                "worker-1",
                &[accepted_by_carrier(&claimed[0], "m-1")],
                now + 1,
            )
            .await,
        "record",
    );
    assert_eq!(
        ok(store.unmatched_receipts(&receipts).await, "after"),
        vec![1, 2],
        "m-1 of the simulator is recorded now; another carrier's m-1 and m-2 are not"
    );
    assert!(ok(store.unmatched_receipts(&[]).await, "none").is_empty());
}

pub async fn canceling_settles_waiting_recipients_and_final_sends_conflict(store: &dyn Store) {
    delivery_fixture(store).await;
    given_members(store, "list-a", &[D1, D2, D3]).await;
    given_subscribed(store, &[D1, D2, D3]).await;
    let started = "cancelstarted0000000000000";
    given_send(store, list_send(started, &["list-a"], &[], false, T0)).await;
    let now = T0 + 1000;
    start_send(store, started, now).await;
    let claimed = claim(store, started, now, 1).await;
    assert_eq!(numbers_of(&claimed), vec![D1]);
    leaving(store, "worker-1", &claimed, now).await;

    assert_eq!(
        ok(
            store
                .cancel_send("CANCELSTARTED0000000000000", now + 1)
                .await,
            "cancel"
        ),
        2
    );
    let send = state_of(store, started).await;
    assert_eq!(
        (send.state, send.completed_at),
        (SendState::Canceled, Some(now + 1))
    );
    assert_eq!(claim(store, started, now + 2, 10).await, Vec::new());
    // The recipient already being handed over is recorded as usual.
    ok(
        store
            .record_submissions(
                "worker-1",
                &[accepted_by_carrier(&claimed[0], "m-1")],
                now + 2,
            )
            .await,
        "record",
    );
    assert_eq!(
        tracking_of(store, started).await,
        tracked(&[
            (D1, codes::DELIVERED_TO_AGGREGATOR, None),
            (D2, codes::QUEUED, Some(Outcome::Canceled)),
            (D3, codes::QUEUED, Some(Outcome::Canceled)),
        ])
    );
    assert_eq!(
        counts_of(store, started, now + 2).await,
        SendCounts {
            recipients: 3,
            sent: 1,
            canceled: 2,
            ..SendCounts::default()
        }
    );
    assert!(!ok(
        store.finish_if_done(started, now + 3).await,
        "finish canceled"
    ));
    assert_eq!(state_of(store, started).await.state, SendState::Canceled);
    assert_conflict(store.cancel_send(started, now + 3).await, "cancel twice");
    assert_eq!(ok(store.send_next_at(started).await, "next at"), None);

    // A send not yet expanded has nothing to cancel, and never will be.
    let new = "cancelnew00000000000000000";
    given_send(store, list_send(new, &["list-a"], &[], false, T0 + HOUR)).await;
    assert_eq!(ok(store.cancel_send(new, now).await, "cancel new"), 0);
    assert_eq!(
        ok(
            store
                .claim_due_sends("worker-1", T0 + 2 * HOUR, T0 + 3 * HOUR, 10)
                .await,
            "claim"
        ),
        Vec::new()
    );

    // A send being expanded: its expansion stops.
    let queuing = "cancelqueuing0000000000000";
    given_send(store, list_send(queuing, &["list-a"], &[], false, T0)).await;
    ok(
        store.claim_due_sends("worker-1", now, now + HOUR, 10).await,
        "claim",
    );
    assert_eq!(
        ok(
            store
                .expand_batch(queuing, "worker-1", 1, now, now + HOUR)
                .await,
            "batch"
        ),
        Expansion::More
    );
    assert_eq!(
        ok(store.cancel_send(queuing, now).await, "cancel queuing"),
        1
    );
    assert_eq!(
        ok(
            store
                .expand_batch(queuing, "worker-1", 1, now, now + HOUR)
                .await,
            "batch"
        ),
        Expansion::Lost
    );

    // Finished and Error sends are final.
    let finished = "cancelfinished000000000000";
    given_send(store, list_send(finished, &["list-a"], &[], false, T0)).await;
    start_send(store, finished, now).await;
    let claimed = claim(store, finished, now, 10).await;
    let results: Vec<SubmissionResult> = claimed
        .iter()
        .map(|r| accepted_by_carrier(r, &format!("f-{}", r.mobile_number)))
        .collect();
    ok(
        store.record_submissions("worker-1", &results, now).await,
        "record",
    );
    assert!(ok(store.finish_if_done(finished, now).await, "finish"));
    assert_conflict(store.cancel_send(finished, now).await, "cancel finished");
    let failed = "cancelerror000000000000000";
    given_send(store, list_send(failed, &["list-gone"], &[], false, T0)).await;
    ok(
        store.claim_due_sends("worker-1", now, now + HOUR, 10).await,
        "claim",
    );
    assert!(matches!(
        ok(
            store
                .expand_batch(failed, "worker-1", 10, now, now + HOUR)
                .await,
            "expand"
        ),
        Expansion::Failed { .. }
    ));
    assert_conflict(store.cancel_send(failed, now).await, "cancel failed");
    assert_not_found(
        store.cancel_send("nosuchsend0000000000000000", now).await,
        "cancel unknown",
    );
}

pub async fn a_paused_send_counts_waiting_recipients_as_deferred(store: &dyn Store) {
    delivery_fixture(store).await;
    given_members(store, "list-a", &[D1, D2, D3]).await;
    given_subscribed(store, &[D1, D2, D3]).await;
    let token = "paused00000000000000000000";
    given_send(store, list_send(token, &["list-a"], &[], false, T0)).await;
    let now = T0 + 1000;
    start_send(store, token, now).await;
    let claimed = claim(store, token, now, 1).await;
    ok(
        store
            .record_submissions("worker-1", &[accepted_by_carrier(&claimed[0], "m-1")], now)
            .await,
        "record",
    );

    let until = now + HOUR;
    ok(store.pause_send(token, until).await, "pause");
    assert_eq!(
        counts_of(store, token, now).await,
        SendCounts {
            recipients: 3,
            sent: 1,
            deferred: 2,
            ..SendCounts::default()
        }
    );
    assert_eq!(
        ok(
            store.dispatchable_sends(now, 10, &[]).await,
            "dispatchable while paused"
        ),
        Vec::new()
    );
    assert_eq!(ok(store.send_next_at(token).await, "next at"), Some(until));
    let dispatchable = ok(
        store.dispatchable_sends(until, 10, &[]).await,
        "dispatchable after",
    );
    assert_eq!(dispatchable.len(), 1);
    assert_eq!(dispatchable[0].next_at, until);
    assert_eq!(
        counts_of(store, token, until).await,
        SendCounts {
            recipients: 3,
            sent: 1,
            queued: 2,
            ..SendCounts::default()
        },
        "once the pause is over they are queued again"
    );
    assert_not_found(
        store.pause_send("nosuchsend0000000000000000", until).await,
        "pause unknown",
    );
}

pub async fn queue_gauges_count_sends_by_state_and_waiting_deferred_and_leased_recipients(
    store: &dyn Store,
) {
    delivery_fixture(store).await;
    given_members(store, "list-a", &[D1, D2, D3]).await;
    given_members(store, "list-b", &[D4, D5]).await;
    given_subscribed(store, &[D1, D2, D3, D4, D5]).await;
    let now = T0 + 1000;
    let empty = ok(store.queue_gauges(now).await, "gauges of an empty store");
    assert_eq!(
        empty.sends_by_state,
        SendState::ALL
            .into_iter()
            .map(|s| (s, 0))
            .collect::<Vec<_>>(),
        "every state is listed, with zero sends"
    );
    assert_eq!((empty.ready, empty.deferred, empty.leased), (0, 0, 0));

    let going = "gaugego0000000000000000000";
    let paused = "gaugepause0000000000000000";
    let later = "gaugelater0000000000000000";
    given_send(
        store,
        list_send(later, &["list-a"], &[], false, T0 + 10 * HOUR),
    )
    .await;
    given_send(store, list_send(going, &["list-a"], &[], false, T0)).await;
    start_send(store, going, now).await;
    given_send(store, list_send(paused, &["list-b"], &[], false, T0)).await;
    start_send(store, paused, now).await;
    let claimed = claim(store, going, now, 1).await;
    leaving(store, "worker-1", &claimed, now).await;
    let until = now + HOUR;
    ok(store.pause_send(paused, until).await, "pause");

    let gauges = ok(store.queue_gauges(now).await, "gauges");
    let by_state = |g: &QueueGauges, state: SendState| {
        g.sends_by_state
            .iter()
            .find(|(s, _)| *s == state)
            .map(|(_, n)| *n)
    };
    assert_eq!(by_state(&gauges, SendState::New), Some(1), "{gauges:?}");
    assert_eq!(by_state(&gauges, SendState::Started), Some(2), "{gauges:?}");
    assert_eq!(
        by_state(&gauges, SendState::Finished),
        Some(0),
        "{gauges:?}"
    );
    assert_eq!(
        (gauges.ready, gauges.deferred, gauges.leased),
        (2, 2, 1),
        "two waiting, two waiting out the blackout window, one being handed over"
    );

    ok(
        store
            .record_submissions("worker-1", &[accepted_by_carrier(&claimed[0], "m-1")], now)
            .await,
        "record",
    );
    let after = ok(store.queue_gauges(until).await, "gauges after the window");
    assert_eq!(
        (after.ready, after.deferred, after.leased),
        (4, 0, 0),
        "once the window is over the paused send's recipients are ready again"
    );
    ok(store.cancel_send(going, until).await, "cancel");
    let canceled = ok(store.queue_gauges(until).await, "gauges after a cancel");
    assert_eq!(by_state(&canceled, SendState::Canceled), Some(1));
    assert_eq!(by_state(&canceled, SendState::Started), Some(1));
    assert_eq!((canceled.ready, canceled.deferred), (2, 0));
}

pub async fn tracking_is_ordered_by_number_then_list_and_paged(store: &dyn Store) {
    delivery_fixture(store).await;
    // Created first, so it sorts first among lists.
    given_members(store, "list-a", &[D3, D1, D5]).await;
    given_members(store, "list-b", &[D2, D1, D4]).await;
    given_subscribed(store, &[D1, D2, D3, D4, D5]).await;
    let token = "tracking000000000000000000";
    given_send(
        store,
        list_send(token, &["list-b", "list-a"], &[], true, T0),
    )
    .await;
    let now = T0 + 1000;
    assert_eq!(start_send(store, token, now).await, 6);
    // Hand D1 of list-b (the first claimed: list-b is expanded first) over, to tell the two
    // entries of D1 apart.
    let first = claim(store, token, now, 1).await;
    assert_eq!(numbers_of(&first), vec![D1]);
    ok(
        store
            .record_submissions("worker-1", &[accepted_by_carrier(&first[0], "m-1")], now)
            .await,
        "record",
    );

    let page = |n| async move {
        ok(store.tracking_page(token, n, 4).await, "tracking page")
            .into_iter()
            .map(|t| (t.mobile_number, t.status_code))
            .collect::<Vec<_>>()
    };
    let entry = |n: &str, code| (n.to_string(), code);
    assert_eq!(
        page(1).await,
        vec![
            entry(D1, codes::QUEUED),
            entry(D1, codes::DELIVERED_TO_AGGREGATOR),
            entry(D2, codes::QUEUED),
            entry(D3, codes::QUEUED),
        ],
        "by number, then list (list-a before list-b)"
    );
    assert_eq!(
        page(2).await,
        vec![entry(D4, codes::QUEUED), entry(D5, codes::QUEUED)]
    );
    assert_eq!(page(3).await, Vec::new());
    assert_eq!(
        ok(store.tracking_page(token, 2, 1).await, "page of one")[0].mobile_number,
        D1
    );
}

pub async fn send_next_at_follows_the_send(store: &dyn Store) {
    delivery_fixture(store).await;
    given_members(store, "list-a", &[D1]).await;
    given_subscribed(store, &[D1]).await;
    let token = "nextat00000000000000000000";
    let due = T0 + HOUR;
    given_send(store, list_send(token, &["list-a"], &[], false, due)).await;
    assert_eq!(ok(store.send_next_at(token).await, "new"), Some(due));
    ok(
        store.claim_due_sends("worker-1", due, due + HOUR, 10).await,
        "claim",
    );
    assert_eq!(ok(store.send_next_at(token).await, "queuing"), Some(due));
    let expanded = due + 10;
    expand_to_end(store, token, "worker-1", 1000, expanded).await;
    assert_eq!(
        ok(store.send_next_at(token).await, "started"),
        Some(expanded),
        "the expansion's time, later than due"
    );
    ok(
        store.pause_send(token, due - 1).await,
        "pause into the past",
    );
    assert_eq!(
        ok(store.send_next_at(token).await, "paused before due"),
        Some(due),
        "never before the due time"
    );
    ok(store.pause_send(token, due + HOUR).await, "pause");
    assert_eq!(
        ok(
            store.send_next_at("NEXTAT00000000000000000000").await,
            "paused"
        ),
        Some(due + HOUR)
    );
    let claimed = claim(store, token, due + HOUR, 10).await;
    assert_eq!(
        ok(store.send_next_at(token).await, "claimed, not handed over"),
        Some(due + HOUR)
    );
    leaving(store, "worker-1", &claimed, due + HOUR).await;
    assert_eq!(ok(store.send_next_at(token).await, "all handed over"), None);
    ok(
        store
            .record_submissions(
                "worker-1",
                &[accepted_by_carrier(&claimed[0], "m-1")],
                due + HOUR,
            )
            .await,
        "record",
    );
    assert!(ok(store.finish_if_done(token, due + HOUR).await, "finish"));
    assert_eq!(ok(store.send_next_at(token).await, "finished"), None);
}

pub async fn delivery_methods_of_an_unknown_token_are_not_found(store: &dyn Store) {
    delivery_fixture(store).await;
    let token = "nosuchsend0000000000000000";
    assert_not_found(
        store
            .expand_batch(token, "worker-1", 10, T0, T0 + HOUR)
            .await,
        "expand_batch",
    );
    assert_not_found(
        store
            .claim_recipients(token, "worker-1", T0, T0 + HOUR, 10)
            .await,
        "claim_recipients",
    );
    assert_not_found(store.finish_if_done(token, T0).await, "finish_if_done");
    assert_not_found(store.send_counts(token, T0).await, "send_counts");
    assert_not_found(store.tracking_page(token, 1, 10).await, "tracking_page");
    assert_not_found(store.send_next_at(token).await, "send_next_at");
    ok(
        store
            .record_submissions(
                "worker-1",
                &[accepted_by_carrier(
                    &ClaimedRecipient {
                        id: 424_242,
                        mobile_number: D1.to_string(),
                        attributes: Attributes::new(),
                        text: None,
                    },
                    "m-1",
                )],
                T0,
            )
            .await,
        "recording an unknown recipient changes nothing",
    );
    assert_eq!(ok(store.recover_expired(T0).await, "recover nothing"), 0);
    ok(store.release_leases("nobody").await, "release nothing");
}

pub async fn inbound_texts_are_matched_to_the_code_routed_to_their_carrier(store: &dyn Store) {
    given_account(store, "acme").await;
    given_account(store, "other").await;
    given_code(store, "acme", "c1", "88976").await;
    let mut elsewhere = new_code("other", "c2", "77777");
    elsewhere.carrier = "acme-smpp".to_string();
    ok(store.create_code(elsewhere).await, "create code");
    let text = |carrier: &str, to: &str, body: &str| InboundText {
        carrier: carrier.to_string(),
        from: "15555555510".to_string(),
        to: to.to_string(),
        text: body.to_string(),
        received_at: T0,
    };
    let first = ok(
        store
            .record_inbound(text("simulator", "88976", "JOIN"))
            .await,
        "record inbound",
    );
    assert_eq!(first.account_id.as_deref(), Some("acme"));
    assert_eq!(first.code.as_deref(), Some("88976"));
    // The code exists, but is routed to another carrier: no match.
    let unmatched = ok(
        store
            .record_inbound(text("simulator", "77777", "STOP"))
            .await,
        "record inbound",
    );
    assert_eq!((unmatched.account_id, unmatched.code), (None, None));
    let third = ok(
        store
            .record_inbound(text("acme-smpp", "77777", "HELP"))
            .await,
        "record inbound",
    );
    assert_eq!(third.account_id.as_deref(), Some("other"));
    let all: Vec<InboundRecord> = ok(store.inbound_page(0, 10).await, "inbound page");
    assert_eq!(all.len(), 3);
    assert_eq!(all[0], first);
    assert!(all[0].seq < all[1].seq && all[1].seq < all[2].seq);
    assert_eq!(all[1].text.text, "STOP");
    let rest = ok(store.inbound_page(all[0].seq, 1).await, "inbound page");
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].seq, all[1].seq);
}

pub async fn outbox_pages_in_acceptance_order(store: &dyn Store) {
    let item = |to: &str, token: Option<&str>, url: Option<&str>| OutboxItem {
        carrier: "simulator".to_string(),
        from: "88976".to_string(),
        to: to.to_string(),
        text: format!("Hello {to} \u{20ac}"),
        content_url: url.map(str::to_string),
        encoding: "UCS-2".to_string(),
        segments: 1,
        token_id: token.map(str::to_string),
        accepted_at: T0,
    };
    let first = vec![
        item(D3, Some("tok"), None),
        item(D1, None, Some("https://example.com/a.png")),
        item(D2, Some("tok"), None),
    ];
    let seqs = ok(store.outbox_append(&first).await, "append");
    assert_eq!(seqs.len(), 3);
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "increasing: {seqs:?}");
    assert_eq!(
        ok(store.outbox_append(&[]).await, "append nothing"),
        Vec::<i64>::new()
    );
    let more = ok(
        store.outbox_append(&[item(D4, None, None)]).await,
        "append more",
    );
    assert!(more[0] > seqs[2]);

    let page = ok(store.outbox_page(0, 2).await, "first page");
    assert_eq!(
        page,
        vec![
            OutboxEntry {
                seq: seqs[0],
                item: first[0].clone(),
            },
            OutboxEntry {
                seq: seqs[1],
                item: first[1].clone(),
            },
        ]
    );
    let page = ok(store.outbox_page(seqs[1], 10).await, "next page");
    assert_eq!(
        page.iter()
            .map(|e| (e.seq, e.item.to.as_str()))
            .collect::<Vec<_>>(),
        vec![(seqs[2], D2), (more[0], D4)]
    );
    assert_eq!(ok(store.outbox_page(more[0], 10).await, "end"), Vec::new());
}

// ---- many workers at once ------------------------------------------------------------------
//
// The engines of several processes share one database (API.md §4.6: every recipient is handed
// to a carrier at most once, none is dropped silently). Each behaviour below takes one or more
// handles on the same database: the suite runs it with one store, whose methods are called
// concurrently from many futures; a backend that several processes share also runs it with
// several stores opened on one database (`..._on(&[&a, &b, &c])`). The futures are joined, not
// spawned, so the suite needs no runtime: their statements still overlap in the database.

/// Lets the other joined futures run once (a runtime-free yield).
async fn yield_now() {
    let mut yielded = false;
    futures::future::poll_fn(|cx| {
        if yielded {
            std::task::Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await
}

/// `n` distinct mobile numbers.
fn many_numbers(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("1555{:07}", 2_000_000 + i))
        .collect()
}

/// The delivery fixture, a list `crowd` of `n` numbers all Subscribed to JOIN on 88976, and a
/// send of it due at T0; returns the send's token and the numbers.
async fn crowd_send(store: &dyn Store, n: usize) -> (String, Vec<String>) {
    delivery_fixture(store).await;
    given_list(store, "acme", "crowd").await;
    let numbers = many_numbers(n);
    let rows: Vec<ContactRow> = numbers.iter().map(|n| row(n, None, json!({}))).collect();
    upsert(
        store,
        "acme",
        "crowd",
        &rows,
        Some(&to("88976", "JOIN")),
        T0,
    )
    .await;
    let token = "crowdsend00000000000000000".to_string();
    given_send(store, list_send(&token, &["crowd"], &[], false, T0)).await;
    (token, numbers)
}

/// Picks the handle of worker `i`.
fn handle<'a>(stores: &[&'a dyn Store], i: usize) -> &'a dyn Store {
    stores[i % stores.len()]
}

/// What one dispatch worker handed over: (recipient id, number) per recipient.
type HandedOver = Vec<(i64, String)>;

/// Claims batches of `limit` under `owner` and records each as accepted, until a claim comes
/// back empty; calls `after_batch` with the number of batches recorded so far.
async fn dispatch_worker(
    store: &dyn Store,
    token: &str,
    owner: &str,
    limit: u32,
    mut after_batch: impl FnMut(usize),
) -> HandedOver {
    let mut handed = Vec::new();
    let mut batches = 0;
    loop {
        let claimed = ok(
            store
                .claim_recipients(token, owner, T0, T0 + HOUR, limit)
                .await,
            "claim recipients",
        );
        if claimed.is_empty() {
            return handed;
        }
        // Only what is marked submitting may be written (a cancel may take claims back).
        let ids: Vec<i64> = claimed.iter().map(|r| r.id).collect();
        let leaving = ok(
            store.mark_submitting(owner, &ids, T0, T0 + HOUR).await,
            "mark submitting",
        );
        let claimed: Vec<ClaimedRecipient> = claimed
            .into_iter()
            .filter(|r| leaving.binary_search(&r.id).is_ok())
            .collect();
        let results: Vec<SubmissionResult> = claimed
            .iter()
            .map(|r| accepted_by_carrier(r, &format!("msg-{}", r.id)))
            .collect();
        ok(
            store.record_submissions(owner, &results, T0).await,
            "record submissions",
        );
        ok(store.finish_if_done(token, T0).await, "finish if done");
        handed.extend(claimed.into_iter().map(|r| (r.id, r.mobile_number)));
        batches += 1;
        after_batch(batches);
        yield_now().await;
    }
}

/// Asserts no recipient and no number appears twice among the workers' hand-overs; returns the
/// numbers handed over, sorted.
fn handed_once(handed: &[HandedOver]) -> Vec<String> {
    let mut ids: Vec<i64> = handed.iter().flatten().map(|(id, _)| *id).collect();
    let total = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), total, "a recipient was handed over twice");
    let mut numbers: Vec<String> = handed.iter().flatten().map(|(_, n)| n.clone()).collect();
    numbers.sort();
    let before = numbers.len();
    numbers.dedup();
    assert_eq!(numbers.len(), before, "a number was handed over twice");
    numbers
}

pub async fn concurrent_claims_hand_out_each_recipient_once(store: &dyn Store) {
    concurrent_claims_hand_out_each_recipient_once_on(&[store]).await;
}

/// Six dispatch workers claim small batches of one send at once: together they hand over every
/// recipient exactly once, and the send finishes.
pub async fn concurrent_claims_hand_out_each_recipient_once_on(stores: &[&dyn Store]) {
    let (token, numbers) = crowd_send(stores[0], 300).await;
    assert_eq!(start_send(stores[0], &token, T0).await, 300);
    let workers = (0..6).map(|i| {
        let store = handle(stores, i);
        let token = token.clone();
        async move { dispatch_worker(store, &token, &format!("worker-{i}"), 7, |_| {}).await }
    });
    let handed = futures::future::join_all(workers).await;
    assert_eq!(handed_once(&handed), numbers, "every recipient handed over");
    assert!(
        handed.iter().filter(|h| !h.is_empty()).count() > 1,
        "the work was shared between workers"
    );
    let send = state_of(stores[0], &token).await;
    assert_eq!(send.state, SendState::Finished);
    let counts = counts_of(stores[0], &token, T0).await;
    assert_eq!(
        (counts.recipients, counts.sent, counts.queued),
        (300, 300, 0)
    );
}

pub async fn concurrent_schedulers_claim_each_due_send_once(store: &dyn Store) {
    concurrent_schedulers_claim_each_due_send_once_on(&[store]).await;
}

/// Four schedulers claim twelve due sends at once, three at a time: each send is claimed by
/// exactly one of them, its owner expands it, and no other worker can expand it.
pub async fn concurrent_schedulers_claim_each_due_send_once_on(stores: &[&dyn Store]) {
    delivery_fixture(stores[0]).await;
    given_members(stores[0], "list-a", &[D1, D2, D3]).await;
    given_subscribed(stores[0], &[D1, D2, D3]).await;
    let tokens: Vec<String> = (0..12)
        .map(|i| format!("sched{i:02}000000000000000000000"))
        .collect();
    for token in &tokens {
        given_send(stores[0], list_send(token, &["list-a"], &[], false, T0)).await;
    }
    let schedulers = (0..4).map(|i| {
        let store = handle(stores, i);
        async move {
            let owner = format!("scheduler-{i}");
            let mut mine = Vec::new();
            loop {
                let claimed = ok(
                    store.claim_due_sends(&owner, T0, T0 + HOUR, 3).await,
                    "claim due sends",
                );
                if claimed.is_empty() {
                    return (owner, mine);
                }
                assert!(claimed.iter().all(|s| s.state == SendState::Queuing));
                mine.extend(claimed.into_iter().map(|s| s.token));
                yield_now().await;
            }
        }
    });
    let claims = futures::future::join_all(schedulers).await;
    let mut all: Vec<String> = claims.iter().flat_map(|(_, t)| t.clone()).collect();
    all.sort();
    assert_eq!(all, tokens, "every due send claimed exactly once");

    for (i, (owner, mine)) in claims.iter().enumerate() {
        let store = handle(stores, i);
        let rival = handle(stores, i + 1);
        for token in mine {
            assert_eq!(
                ok(
                    rival
                        .expand_batch(token, "someone-else", 100, T0, T0 + HOUR)
                        .await,
                    "expand another's send"
                ),
                Expansion::Lost
            );
            assert_eq!(
                expand_to_end(store, token, owner, 100, T0).await.0,
                Expansion::Done { recipients: 3 }
            );
        }
    }
}

pub async fn a_taken_over_send_is_expanded_by_its_new_owner_only(store: &dyn Store) {
    a_taken_over_send_is_expanded_by_its_new_owner_only_on(&[store]).await;
}

/// Worker A's expansion lease expires mid-expansion; B and C both try to take the send over at
/// once and one does; then A and the new owner expand at once: A's next batch is Lost, the new
/// owner completes the audience, and no recipient is recorded twice.
pub async fn a_taken_over_send_is_expanded_by_its_new_owner_only_on(stores: &[&dyn Store]) {
    let (token, numbers) = crowd_send(stores[0], 200).await;
    let a = handle(stores, 0);
    let claimed = ok(a.claim_due_sends("a", T0, T0 + 10, 10).await, "A claims");
    assert_eq!(claimed.len(), 1);
    assert_eq!(
        ok(
            a.expand_batch(&token, "a", 30, T0, T0 + 10).await,
            "A expands"
        ),
        Expansion::More
    );

    let later = T0 + 20;
    let takers = ["b", "c"].into_iter().enumerate().map(|(i, owner)| {
        let store = handle(stores, i + 1);
        async move {
            let claimed = ok(
                store.claim_due_sends(owner, later, later + HOUR, 10).await,
                "take over",
            );
            (owner, claimed.len())
        }
    });
    let took = futures::future::join_all(takers).await;
    let winners: Vec<&str> = took
        .iter()
        .filter(|(_, n)| *n == 1)
        .map(|(o, _)| *o)
        .collect();
    assert_eq!(
        winners.len(),
        1,
        "exactly one worker takes the send over: {took:?}"
    );
    assert_eq!(took.iter().map(|(_, n)| n).sum::<usize>(), 1);
    let winner = winners[0];

    let old = async {
        let mut outcomes = Vec::new();
        for _ in 0..3 {
            outcomes.push(ok(
                a.expand_batch(&token, "a", 30, later, later + HOUR).await,
                "A expands again",
            ));
            yield_now().await;
        }
        outcomes
    };
    let new = expand_to_end(handle(stores, 1), &token, winner, 30, later);
    let (old, (done, _)) = futures::future::join(old, new).await;
    assert!(
        old.iter().all(|o| *o == Expansion::Lost),
        "the old owner expands nothing: {old:?}"
    );
    assert_eq!(done, Expansion::Done { recipients: 200 });
    let tracked: Vec<String> = tracking_of(stores[0], &token)
        .await
        .into_iter()
        .map(|(n, _, _)| n)
        .collect();
    assert_eq!(tracked, numbers, "one recipient per number");
}

pub async fn identical_idempotent_sends_at_once_record_one_send(store: &dyn Store) {
    identical_idempotent_sends_at_once_record_one_send_on(&[store]).await;
}

/// Eight requests with one client's idempotency key arrive at once (through any process): one
/// send is recorded and every other request gets that send back.
pub async fn identical_idempotent_sends_at_once_record_one_send_on(stores: &[&dyn Store]) {
    given_account(stores[0], "acme").await;
    let requests = (0..8).map(|i| {
        let store = handle(stores, i);
        async move {
            let new = keyed_send(
                "acme",
                &format!("same{i:02}0000000000000000000000"),
                T0 + i as Millis,
                "client-one",
                "key-1",
                "hash-1",
            );
            ok(store.create_send(new).await, "create keyed send")
        }
    });
    let outcomes = futures::future::join_all(requests).await;
    let created: Vec<&Send> = outcomes
        .iter()
        .filter_map(|o| match o {
            CreatedSend::Created(send) => Some(send),
            CreatedSend::Existing { .. } => None,
        })
        .collect();
    assert_eq!(created.len(), 1, "one send is recorded: {outcomes:?}");
    let original = created[0];
    for outcome in &outcomes {
        if let CreatedSend::Existing { send, request_hash } = outcome {
            assert_eq!(send, original);
            assert_eq!(request_hash, "hash-1");
        }
    }
    assert_eq!(
        send_tokens(stores[0], "acme", query(None, None, 100)).await,
        vec![original.token.clone()]
    );
}

pub async fn canceling_during_dispatch_settles_each_recipient_once(store: &dyn Store) {
    canceling_during_dispatch_settles_each_recipient_once_on(&[store]).await;
}

/// Three workers dispatch a send while it is canceled: every recipient ends either handed over
/// or canceled, never both, never neither, and nothing is claimed once the send is Canceled.
pub async fn canceling_during_dispatch_settles_each_recipient_once_on(stores: &[&dyn Store]) {
    let (token, numbers) = crowd_send(stores[0], 300).await;
    assert_eq!(start_send(stores[0], &token, T0).await, 300);
    let (started, go) = futures::channel::oneshot::channel::<()>();
    let mut started = Some(started);
    let first = {
        let store = handle(stores, 0);
        let token = token.clone();
        async move {
            dispatch_worker(store, &token, "worker-0", 5, |batches| {
                if batches == 2 {
                    if let Some(s) = started.take() {
                        let _ = s.send(());
                    }
                }
            })
            .await
        }
    };
    let others = (1..3).map(|i| {
        let store = handle(stores, i);
        let token = token.clone();
        async move { dispatch_worker(store, &token, &format!("worker-{i}"), 5, |_| {}).await }
    });
    let canceler = async {
        let _ = go.await;
        ok(
            handle(stores, 1).cancel_send(&token, T0).await,
            "cancel during dispatch",
        )
    };
    let (first, others, canceled) =
        futures::future::join3(first, futures::future::join_all(others), canceler).await;
    let mut handed = others;
    handed.push(first);
    let handed = handed_once(&handed);

    assert_eq!(state_of(stores[0], &token).await.state, SendState::Canceled);
    let tracking = tracking_of(stores[0], &token).await;
    assert_eq!(tracking.len(), 300);
    let mut sent = Vec::new();
    let mut dropped = 0;
    for (number, code, outcome) in tracking {
        match outcome {
            Some(Outcome::Canceled) => {
                assert_eq!(code, codes::QUEUED, "{number} was canceled");
                dropped += 1;
            }
            None => {
                assert_eq!(
                    code,
                    codes::DELIVERED_TO_AGGREGATOR,
                    "{number} was handed over"
                );
                sent.push(number);
            }
            Some(other) => panic!("{number}: unexpected outcome {other:?}"),
        }
    }
    assert_eq!(
        sent, handed,
        "exactly the handed-over recipients read as sent"
    );
    assert_eq!(
        dropped, canceled,
        "cancel counts the recipients it canceled"
    );
    assert_eq!(sent.len() as u64 + dropped, numbers.len() as u64);
    assert!(
        dropped > 0 && !sent.is_empty(),
        "the cancel fell mid-dispatch"
    );
}

pub async fn concurrent_recoveries_settle_each_expired_hand_over_once(store: &dyn Store) {
    concurrent_recoveries_settle_each_expired_hand_over_once_on(&[store]).await;
}

/// Three batches are left submitting by a stopped worker; four recoveries run at once after the
/// lease: together they report each of its recipients 3400 Unknown exactly once, and the
/// recipients still waiting stay ready.
pub async fn concurrent_recoveries_settle_each_expired_hand_over_once_on(stores: &[&dyn Store]) {
    let (token, _) = crowd_send(stores[0], 100).await;
    assert_eq!(start_send(stores[0], &token, T0).await, 100);
    let mut stranded = Vec::new();
    for _ in 0..3 {
        let claimed = ok(
            stores[0]
                .claim_recipients(&token, "stopped", T0, T0 + 10, 20)
                .await,
            "claim",
        );
        assert_eq!(claimed.len(), 20);
        let ids: Vec<i64> = claimed.iter().map(|r| r.id).collect();
        ok(
            stores[0]
                .mark_submitting("stopped", &ids, T0, T0 + 10)
                .await,
            "mark",
        );
        stranded.extend(claimed.into_iter().map(|r| r.mobile_number));
    }
    let recoveries = (0..4)
        .map(|i| async move { ok(handle(stores, i).recover_expired(T0 + 20).await, "recover") });
    let recovered: u64 = futures::future::join_all(recoveries)
        .await
        .into_iter()
        .sum();
    assert_eq!(recovered, 60, "each stranded recipient is recovered once");
    let counts = counts_of(stores[0], &token, T0 + 20).await;
    assert_eq!((counts.unknown, counts.queued), (60, 40));
    assert_eq!(state_of(stores[0], &token).await.state, SendState::Started);
    let unknown: Vec<String> = tracking_of(stores[0], &token)
        .await
        .into_iter()
        .filter(|(_, code, _)| *code == codes::UNKNOWN)
        .map(|(n, _, _)| n)
        .collect();
    stranded.sort();
    assert_eq!(unknown, stranded);
}

pub async fn receipt_batches_at_once_apply_every_receipt(store: &dyn Store) {
    receipt_batches_at_once_apply_every_receipt_on(&[store]).await;
}

/// Two processes apply receipt batches for the same hundred messages at once, in opposite
/// orders: both finish (no deadlock) and every recipient ends with the highest code.
pub async fn receipt_batches_at_once_apply_every_receipt_on(stores: &[&dyn Store]) {
    let (token, _) = crowd_send(stores[0], 100).await;
    assert_eq!(start_send(stores[0], &token, T0).await, 100);
    let handed = dispatch_worker(stores[0], &token, "worker", 100, |_| {}).await;
    assert_eq!(handed.len(), 100);
    let receipts = |code: i32| -> Vec<Receipt> {
        handed
            .iter()
            .map(|(id, _)| Receipt {
                carrier: "simulator".to_string(),
                carrier_message_id: format!("msg-{id}"),
                status_code: code,
            })
            .collect()
    };
    let forward = receipts(codes::ENROUTE);
    let mut backward = receipts(codes::DELIVERED);
    backward.reverse();
    let (a, b) = futures::future::join(
        handle(stores, 0).apply_receipts(&forward, T0 + 1),
        handle(stores, 1).apply_receipts(&backward, T0 + 1),
    )
    .await;
    let (a, b) = (ok(a, "apply receipts"), ok(b, "apply receipts"));
    // Delivered outranks en route and every earlier state: each of its receipts changes its
    // recipient, whichever batch ran first; the en-route ones change those not yet delivered.
    assert_eq!(b, 100, "changed {a} and {b}");
    assert!(a <= 100, "changed {a} and {b}");
    let counts = counts_of(stores[0], &token, T0 + 1).await;
    assert_eq!(counts.delivered, 100, "{counts:?}");
}

// ---- messageContact, replies, history, list jobs (API.md §6) ----------------------------------

fn contact_send(token: &str, created_at: Millis) -> NewSend {
    let mut new = minimal_send("acme", token, created_at);
    new.kind = SendKind::Contact;
    new.message_id = MESSAGE.to_string();
    new.text = "Hi %%FirstName%%".to_string();
    new
}

fn number(n: &str, key: Option<&str>, text: &str) -> crate::ContactNumber {
    crate::ContactNumber {
        mobile_number: n.to_string(),
        subscriber_key: key.map(str::to_string),
        text: Some(text.to_string()),
    }
}

fn audience(numbers: Vec<crate::ContactNumber>) -> crate::ContactAudience {
    crate::ContactAudience {
        numbers,
        subscribe: None,
    }
}

pub async fn contact_send_records_its_numbers_and_expands_to_subscribed_ones_with_their_texts(
    store: &dyn Store,
) {
    delivery_fixture(store).await;
    given_subscribed(store, &[D1, D3]).await;
    let send = created(
        store
            .create_contact_send(
                contact_send("tok-c1", T0),
                audience(vec![
                    number(D3, None, "Hi Cy"),
                    number(D1, Some("key-1"), "Hi Ann"),
                    number(D2, None, "Hi Bob"),
                    number(D3, None, "repeated: ignored"),
                ]),
            )
            .await,
        "create contact send",
    );
    assert_eq!(send.kind, SendKind::Contact);
    assert_eq!(state_of(store, "TOK-C1").await.kind, SendKind::Contact);
    // The subscriber key given was recorded on a contact created for it.
    let contact = ok(store.get_contact("acme", D1).await, "contact of key-1");
    assert_eq!(contact.subscriber_key.as_deref(), Some("key-1"));
    assert_not_found(store.get_contact("acme", D2).await, "no key, no contact");

    assert_eq!(start_send(store, "tok-c1", T0).await, 2);
    let counts = counts_of(store, "tok-c1", T0).await;
    assert_eq!((counts.recipients, counts.suppressed), (2, 1), "{counts:?}");
    let claimed = claim(store, "tok-c1", T0, 10).await;
    assert_eq!(numbers_of(&claimed), vec![D3, D1], "in request order");
    assert_eq!(claimed[0].text.as_deref(), Some("Hi Cy"));
    assert_eq!(claimed[1].text.as_deref(), Some("Hi Ann"));
    let page = ok(store.tracking_page("tok-c1", 1, 10).await, "tracking");
    assert_eq!(page.len(), 2);
    assert_eq!(page[0].mobile_number, D1);
    assert_eq!(page[0].text.as_deref(), Some("Hi Ann"));
    // A deleted message makes a due contact send fail, like a list send.
    created(
        store
            .create_contact_send(
                contact_send("tok-c2", T0),
                audience(vec![number(D1, None, "x")]),
            )
            .await,
        "create contact send",
    );
    ok(
        store.delete_message("acme", MESSAGE).await,
        "delete message",
    );
    ok(
        store.claim_due_sends("worker-1", T0, T0 + HOUR, 10).await,
        "claim",
    );
    let (outcome, _) = expand_to_end(store, "tok-c2", "worker-1", 100, T0).await;
    assert!(matches!(outcome, Expansion::Failed { .. }), "{outcome:?}");
}

pub async fn contact_send_subscribe_and_resubscribe_change_subscriptions_at_acceptance(
    store: &dyn Store,
) {
    delivery_fixture(store).await;
    given_status(
        store,
        "88976",
        "JOIN",
        &[D2],
        SubscriptionStatus::Unsubscribed,
    )
    .await;
    let mut options = audience(vec![number(D1, None, "a"), number(D2, None, "b")]);
    options.subscribe = Some(crate::ContactSubscribe {
        keyword: "join".to_string(),
        subscribe: true,
        resubscribe: false,
    });
    created(
        store
            .create_contact_send(contact_send("tok-s1", T0 + 5), options.clone())
            .await,
        "subscribe",
    );
    let d1 = subscriptions(store, "acme", D1).await;
    assert_eq!(
        d1,
        vec![subscription(
            D1,
            "88976",
            "JOIN",
            SubscriptionStatus::Subscribed,
            Some(T0 + 5),
            None
        )]
    );
    assert_eq!(
        subscriptions(store, "acme", D2).await[0].status,
        SubscriptionStatus::Unsubscribed,
        "Subscribe alone leaves an opt-out alone"
    );
    options.subscribe = Some(crate::ContactSubscribe {
        keyword: "JOIN".to_string(),
        subscribe: false,
        resubscribe: true,
    });
    let mut later = contact_send("tok-s2", T0 + 9);
    later.due_at = T0 + DAY;
    created(
        store.create_contact_send(later, options).await,
        "resubscribe",
    );
    let d2 = subscriptions(store, "acme", D2).await;
    assert_eq!(d2[0].status, SubscriptionStatus::Subscribed);
    assert_eq!(d2[0].opt_in_date, Some(T0 + 9));
    assert_eq!(
        subscriptions(store, "acme", D1).await[0].opt_in_date,
        Some(T0 + 5),
        "a Subscribed number keeps its opt-in date"
    );
    // Subscription is read when the send becomes due: D2 is back by then.
    assert_eq!(start_send(store, "tok-s1", T0 + 10).await, 2);
}

pub async fn contact_send_honours_idempotency_keys_and_unknown_keywords_write_nothing(
    store: &dyn Store,
) {
    delivery_fixture(store).await;
    let mut keyed = contact_send("tok-k1", T0);
    keyed.client_id = Some("client-one".to_string());
    keyed.idempotency = Some(Idempotency {
        client_id: "client-one".to_string(),
        key: "k".to_string(),
        request_hash: "h1".to_string(),
    });
    created(
        store
            .create_contact_send(keyed.clone(), audience(vec![number(D1, Some("key"), "a")]))
            .await,
        "keyed contact send",
    );
    let mut again = keyed.clone();
    again.token = "tok-k2".to_string();
    let (earlier, hash) = existing(
        store
            .create_contact_send(again, audience(vec![number(D2, Some("other"), "b")]))
            .await,
        "same key again",
    );
    assert_eq!((earlier.token.as_str(), hash.as_str()), ("tok-k1", "h1"));
    assert_not_found(store.get_send("acme", "tok-k2").await, "no second send");
    assert_not_found(store.get_contact("acme", D2).await, "nothing of it written");

    let mut unknown = audience(vec![number(D3, Some("k3"), "c")]);
    unknown.subscribe = Some(crate::ContactSubscribe {
        keyword: "NOPE".to_string(),
        subscribe: true,
        resubscribe: true,
    });
    assert_not_found(
        store
            .create_contact_send(contact_send("tok-k3", T0), unknown)
            .await,
        "unknown keyword",
    );
    assert_not_found(store.get_send("acme", "tok-k3").await, "no send");
    assert_not_found(store.get_contact("acme", D3).await, "no contact");
    let mut other_account = contact_send("tok-k4", T0);
    other_account.account_id = "nobody".to_string();
    assert_not_found(
        store
            .create_contact_send(other_account, audience(vec![number(D1, None, "x")]))
            .await,
        "unknown account",
    );
}

pub async fn codes_for_inbound_are_every_code_routed_to_the_carrier_oldest_first(
    store: &dyn Store,
) {
    given_account(store, "acme").await;
    given_account(store, "other").await;
    given_account(store, "third").await;
    given_code(store, "acme", "c1", "88976").await;
    let mut elsewhere = new_code("other", "c2", "77777");
    elsewhere.carrier = "acme-smpp".to_string();
    ok(store.create_code(elsewhere).await, "create code");
    let lookup = |carrier: &'static str, to: &'static str| async move {
        ok(store.codes_for_inbound(carrier, to).await, "lookup")
            .into_iter()
            .map(|c| (c.account_id, c.id))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        lookup("simulator", "88976").await,
        vec![("acme".to_string(), "c1".to_string())]
    );
    assert!(lookup("simulator", "77777").await.is_empty());
    assert_eq!(
        lookup("acme-smpp", "77777").await,
        vec![("other".to_string(), "c2".to_string())]
    );
    assert!(lookup("simulator", "1").await.is_empty());
    // A code several accounts hold on one carrier: every one, in the order they created it
    // (not by account ID); the same code on another carrier is not among them.
    given_code(store, "third", "c3", "88976").await;
    given_code(store, "other", "c4", "88976").await;
    let mut smpp = new_code("acme", "c5", "88977");
    smpp.carrier = "acme-smpp".to_string();
    ok(store.create_code(smpp).await, "create code");
    assert_eq!(
        lookup("simulator", "88976").await,
        vec![
            ("acme".to_string(), "c1".to_string()),
            ("third".to_string(), "c3".to_string()),
            ("other".to_string(), "c4".to_string()),
        ]
    );
}

fn inbound(from: &str, text: &str, at: Millis) -> InboundText {
    InboundText {
        carrier: "simulator".to_string(),
        from: from.to_string(),
        to: "88976".to_string(),
        text: text.to_string(),
        received_at: at,
    }
}

fn reply_send(token: &str, replies: &[(&str, &str)], at: Millis) -> crate::ReplySend {
    crate::ReplySend {
        token: token.to_string(),
        client_id: Some("client-one".to_string()),
        text: "STOP".to_string(),
        segments: 1,
        encoding: "GSM-7".to_string(),
        replies: replies
            .iter()
            .map(|(n, t)| crate::ReplyText {
                mobile_number: n.to_string(),
                text: t.to_string(),
            })
            .collect(),
        created_at: at,
    }
}

pub async fn record_mo_records_texts_subscriptions_and_a_ready_send_of_replies(store: &dyn Store) {
    delivery_fixture(store).await;
    given_subscribed(store, &[D1]).await;
    let mut put = subscription(
        D1,
        "88976",
        "JOIN",
        SubscriptionStatus::Unsubscribed,
        Some(T0),
        Some(T0 + 1),
    );
    put.pending = None;
    let mut pending = subscription(
        D2,
        "88976",
        "DEALS",
        SubscriptionStatus::InProgress,
        None,
        None,
    );
    pending.pending = Some(crate::PendingOptIn {
        since: T0 + 1,
        previous: Some(SubscriptionStatus::Unsubscribed),
    });
    ok(
        store
            .record_mo(crate::MoBatch {
                account_id: "ACME".to_string(),
                code: "88976".to_string(),
                texts: vec![inbound(D1, "STOP", T0 + 1), inbound(D2, "deals", T0 + 1)],
                subscriptions: vec![
                    crate::SubscriptionWrite::Put(put.clone()),
                    crate::SubscriptionWrite::Put(pending.clone()),
                ],
                opt_outs: Vec::new(),
                reply_send: Some(reply_send(
                    "tok-r1",
                    &[(D1, "Bye"), (D2, "Reply Y"), (D2, "Second")],
                    T0 + 1,
                )),
            })
            .await,
        "record mo",
    );
    assert_eq!(subscriptions(store, "acme", D1).await, vec![put]);
    assert_eq!(subscriptions(store, "acme", D2).await, vec![pending]);
    let recorded = ok(store.inbound_page(0, 10).await, "inbound page");
    assert_eq!(recorded.len(), 2);
    assert_eq!(recorded[0].code.as_deref(), Some("88976"));
    assert_eq!(recorded[0].account_id.as_deref(), Some("acme"));
    assert_eq!(recorded[1].text.text, "deals");
    let send = state_of(store, "tok-r1").await;
    assert_eq!(
        (send.kind, send.state, send.count),
        (SendKind::Mo, SendState::Started, 3)
    );
    assert_eq!(send.message_id, "");
    assert_eq!(send.text, "STOP");
    let dispatchable = ok(
        store.dispatchable_sends(T0 + 1, 10, &[]).await,
        "dispatchable",
    );
    assert_eq!(dispatchable.len(), 1);
    assert_eq!(dispatchable[0].carrier, "simulator");

    // Removing, and a batch without replies: no send.
    ok(
        store
            .record_mo(crate::MoBatch {
                account_id: "acme".to_string(),
                code: "88976".to_string(),
                texts: vec![inbound(D2, "hello", T0 + 2)],
                subscriptions: vec![crate::SubscriptionWrite::Remove {
                    mobile_number: D2.to_string(),
                    keyword: "deals".to_string(),
                }],
                opt_outs: Vec::new(),
                reply_send: None,
            })
            .await,
        "record mo",
    );
    assert_eq!(subscriptions(store, "acme", D2).await, vec![]);
    // A send with no replies is recorded Finished.
    ok(
        store
            .record_mo(crate::MoBatch {
                account_id: "acme".to_string(),
                code: "88976".to_string(),
                texts: vec![inbound(D3, "hello", T0 + 3)],
                subscriptions: Vec::new(),
                opt_outs: Vec::new(),
                reply_send: Some(reply_send("tok-r2", &[], T0 + 3)),
            })
            .await,
        "record mo",
    );
    let empty = state_of(store, "tok-r2").await;
    assert_eq!(
        (empty.state, empty.count, empty.completed_at),
        (SendState::Finished, 0, Some(T0 + 3))
    );
    // Unknown code or keyword: nothing written.
    assert_not_found(
        store
            .record_mo(crate::MoBatch {
                account_id: "acme".to_string(),
                code: "55555".to_string(),
                texts: vec![inbound(D4, "x", T0)],
                subscriptions: Vec::new(),
                opt_outs: Vec::new(),
                reply_send: None,
            })
            .await,
        "unknown code",
    );
    assert_not_found(
        store
            .record_mo(crate::MoBatch {
                account_id: "acme".to_string(),
                code: "88976".to_string(),
                texts: vec![inbound(D4, "x", T0)],
                subscriptions: vec![crate::SubscriptionWrite::Put(subscription(
                    D4,
                    "88976",
                    "NOPE",
                    SubscriptionStatus::Subscribed,
                    Some(T0),
                    None,
                ))],
                opt_outs: Vec::new(),
                reply_send: Some(reply_send("tok-r3", &[(D4, "x")], T0)),
            })
            .await,
        "unknown keyword",
    );
    assert_eq!(ok(store.inbound_page(0, 10).await, "inbound").len(), 4);
    assert_not_found(store.get_send("acme", "tok-r3").await, "no send");
}

pub async fn replies_are_claimed_without_a_subscription_and_carry_their_text(store: &dyn Store) {
    delivery_fixture(store).await;
    given_status(
        store,
        "88976",
        "JOIN",
        &[D1],
        SubscriptionStatus::Unsubscribed,
    )
    .await;
    ok(
        store
            .record_mo(crate::MoBatch {
                account_id: "acme".to_string(),
                code: "88976".to_string(),
                texts: vec![inbound(D1, "STOP", T0)],
                subscriptions: Vec::new(),
                opt_outs: Vec::new(),
                reply_send: Some(reply_send("tok-r1", &[(D1, "Bye"), (D2, "Help")], T0)),
            })
            .await,
        "record mo",
    );
    let claimed = claim(store, "tok-r1", T0, 10).await;
    assert_eq!(
        numbers_of(&claimed),
        vec![D1, D2],
        "opted out or never subscribed: still replied to"
    );
    assert_eq!(claimed[0].text.as_deref(), Some("Bye"));
    let results: Vec<SubmissionResult> = claimed
        .iter()
        .map(|r| accepted_by_carrier(r, &format!("m-{}", r.id)))
        .collect();
    ok(
        store.record_submissions("worker-1", &results, T0 + 5).await,
        "record",
    );
    assert!(ok(store.finish_if_done("tok-r1", T0 + 5).await, "finish"));
    let page = ok(store.tracking_page("tok-r1", 1, 10).await, "tracking");
    assert_eq!(
        page.iter().map(|r| r.text.clone()).collect::<Vec<_>>(),
        vec![Some("Bye".to_string()), Some("Help".to_string())]
    );
}

pub async fn lapse_pending_reverts_or_removes_requests_older_than_the_cutoff(store: &dyn Store) {
    delivery_fixture(store).await;
    let request = |n: &str, keyword: &str, since: Millis, previous: Option<SubscriptionStatus>| {
        let mut s = subscription(
            n,
            "88976",
            keyword,
            SubscriptionStatus::InProgress,
            Some(T0 - DAY),
            Some(T0 - HOUR),
        );
        s.pending = Some(crate::PendingOptIn { since, previous });
        crate::SubscriptionWrite::Put(s)
    };
    ok(
        store
            .record_mo(crate::MoBatch {
                account_id: "acme".to_string(),
                code: "88976".to_string(),
                texts: Vec::new(),
                subscriptions: vec![
                    request(D1, "JOIN", T0, None),
                    request(D2, "JOIN", T0, Some(SubscriptionStatus::Unsubscribed)),
                    request(D3, "JOIN", T0 + HOUR, None),
                ],
                opt_outs: Vec::new(),
                reply_send: None,
            })
            .await,
        "record requests",
    );
    assert_eq!(ok(store.lapse_pending(T0 - 1).await, "nothing yet"), 0);
    assert_eq!(ok(store.lapse_pending(T0).await, "lapse"), 2);
    assert_eq!(subscriptions(store, "acme", D1).await, vec![]);
    assert_eq!(
        subscriptions(store, "acme", D2).await,
        vec![subscription(
            D2,
            "88976",
            "JOIN",
            SubscriptionStatus::Unsubscribed,
            Some(T0 - DAY),
            Some(T0 - HOUR)
        )]
    );
    assert_eq!(
        subscriptions(store, "acme", D3).await[0].status,
        SubscriptionStatus::InProgress
    );
    // An operator's status drops the request.
    subscribe(
        store,
        "acme",
        &to("88976", "JOIN"),
        D3,
        SubscriptionStatus::Subscribed,
        T0,
    )
    .await;
    assert_eq!(subscriptions(store, "acme", D3).await[0].pending, None);
    assert_eq!(ok(store.lapse_pending(T0 + DAY).await, "nothing left"), 0);
}

pub async fn history_of_replies_and_of_a_contact_send(store: &dyn Store) {
    delivery_fixture(store).await;
    given_subscribed(store, &[D1]).await;
    created(
        store
            .create_contact_send(
                contact_send("tok-h1", T0),
                audience(vec![number(D1, None, "Hi Ann")]),
            )
            .await,
        "contact send",
    );
    start_send(store, "tok-h1", T0).await;
    let claimed = claim(store, "tok-h1", T0 + 1, 10).await;
    ok(
        store
            .record_submissions(
                "worker-1",
                &[accepted_by_carrier(&claimed[0], "m-1")],
                T0 + 2,
            )
            .await,
        "record",
    );
    // Before the send: not part of its history. After: the number's text and its reply.
    ok(
        store
            .record_mo(crate::MoBatch {
                account_id: "acme".to_string(),
                code: "88976".to_string(),
                texts: vec![inbound(D1, "early", T0 - 1)],
                subscriptions: Vec::new(),
                opt_outs: Vec::new(),
                reply_send: None,
            })
            .await,
        "early text",
    );
    ok(
        store
            .record_mo(crate::MoBatch {
                account_id: "acme".to_string(),
                code: "88976".to_string(),
                texts: vec![inbound(D1, "HELP", T0 + 3), inbound(D2, "HELP", T0 + 3)],
                subscriptions: Vec::new(),
                opt_outs: Vec::new(),
                reply_send: Some(reply_send(
                    "tok-h2",
                    &[(D1, "Help text"), (D2, "Help text")],
                    T0 + 3,
                )),
            })
            .await,
        "help",
    );
    let entry =
        |direction: crate::Direction, n: &str, text: &str, at: Millis| crate::HistoryEntry {
            direction,
            mobile_number: n.to_string(),
            text: text.to_string(),
            at,
        };
    use crate::Direction::{Mo, Mt};
    assert_eq!(
        ok(
            store.history("acme", "TOK-H1", Some(D1)).await,
            "contact history"
        ),
        vec![
            entry(Mt, D1, "Hi Ann", T0 + 2),
            entry(Mo, D1, "HELP", T0 + 3),
            entry(Mt, D1, "Help text", T0 + 3),
        ]
    );
    assert_eq!(
        ok(store.history("acme", "tok-h2", None).await, "reply history"),
        vec![
            entry(Mo, D1, "HELP", T0 + 3),
            entry(Mo, D2, "HELP", T0 + 3),
            entry(Mt, D1, "Help text", T0 + 3),
            entry(Mt, D2, "Help text", T0 + 3),
        ]
    );
    assert_eq!(
        ok(
            store.history("acme", "tok-h2", Some(D2)).await,
            "one number"
        )
        .len(),
        2
    );
    given_account(store, "other").await;
    assert_not_found(
        store.history("other", "tok-h1", Some(D1)).await,
        "other account",
    );
    assert_not_found(store.history("acme", "nope", None).await, "unknown token");
}

pub async fn numbers_of_subscriber_key_are_the_contacts_with_that_key(store: &dyn Store) {
    given_account(store, "acme").await;
    given_account(store, "other").await;
    given_list(store, "acme", "l1").await;
    given_list(store, "other", "l1").await;
    upsert(
        store,
        "acme",
        "l1",
        &[
            row(N2, Some("k1"), json!({})),
            row(N1, Some("k1"), json!({})),
            row(N3, Some("K1"), json!({})),
        ],
        None,
        T0,
    )
    .await;
    upsert(
        store,
        "other",
        "l1",
        &[row(N4, Some("k1"), json!({}))],
        None,
        T0,
    )
    .await;
    assert_eq!(
        ok(
            store.numbers_of_subscriber_key("acme", "k1").await,
            "by key"
        ),
        strings(&[N1, N2])
    );
    assert_eq!(
        ok(store.numbers_of_subscriber_key("acme", "k9").await, "none"),
        Vec::<String>::new()
    );
    assert_not_found(
        store.numbers_of_subscriber_key("nobody", "k1").await,
        "unknown account",
    );
}

pub async fn list_jobs_record_progress_until_final(store: &dyn Store) {
    use crate::{JobUpdate, ListJobKind, ListJobProgress, ListJobState};
    given_account(store, "acme").await;
    given_account(store, "other").await;
    given_list(store, "acme", "List-A").await;
    let new = |token: &str, list: Option<&str>, kind: ListJobKind, state: ListJobState| {
        crate::NewListJob {
            token: token.to_string(),
            account_id: "acme".to_string(),
            list_id: list.map(str::to_string),
            kind,
            state,
            publish_date: Some(T0 - 5),
            payload: format!("payload of {token}"),
            created_at: T0,
        }
    };
    let job = ok(
        store
            .create_list_job(new(
                "job-1",
                Some("list-a"),
                ListJobKind::Import,
                ListJobState::Queued,
            ))
            .await,
        "create job",
    );
    assert_eq!(job.list_id.as_deref(), Some("List-A"), "canonical list ID");
    assert_eq!(
        (job.state, job.updated_at, job.completed_at, job.checkpoint),
        (ListJobState::Queued, T0, None, 0)
    );
    assert_eq!(job.payload, "payload of job-1");
    let report = ok(
        store
            .create_list_job(new(
                "job-r",
                None,
                ListJobKind::Report,
                ListJobState::Queued,
            ))
            .await,
        "a report names no list",
    );
    assert_eq!((report.kind, report.list_id), (ListJobKind::Report, None));

    // Claimed oldest first, leased: a second claimant finds nothing until the lease runs out.
    let claimed = ok(
        store.claim_jobs("node-a", T0 + 1, T0 + 100, 10).await,
        "claim",
    );
    let tokens: Vec<&str> = claimed.iter().map(|j| j.token.as_str()).collect();
    assert_eq!(tokens.len(), 2, "{tokens:?}");
    assert!(claimed.iter().all(|j| j.state == ListJobState::Processing));
    assert!(ok(
        store.claim_jobs("node-b", T0 + 50, T0 + 150, 10).await,
        "leased"
    )
    .is_empty());

    // Progress is recorded only by the lease's holder.
    let progress = ListJobProgress {
        inserted: 5,
        updated: 2,
        invalid: 1,
        errors: strings(&["Row 3: bad"]),
    };
    let update = |owner: &str, state: ListJobState, checkpoint: i64, now: i64| JobUpdate {
        token: "JOB-1".to_string(),
        owner: owner.to_string(),
        state,
        progress: progress.clone(),
        checkpoint,
        now,
        lease_until: now + 100,
    };
    assert!(!ok(
        store
            .record_job(&update("node-b", ListJobState::Processing, 9, T0 + 2))
            .await,
        "not the holder"
    ));
    assert!(ok(
        store
            .record_job(&update("node-a", ListJobState::Processing, 7, T0 + 2))
            .await,
        "the holder"
    ));
    let job = ok(store.get_list_job("ACME", "job-1").await, "get");
    assert_eq!(
        (job.progress.clone(), job.checkpoint, job.updated_at),
        (progress.clone(), 7, T0 + 2)
    );

    // A batch of an import and its checkpoint: both or neither.
    let rows = [
        row("15555550100", None, json!({})),
        row("15555550101", None, json!({})),
    ];
    let mut batch = update("node-b", ListJobState::Processing, 20, T0 + 3);
    assert_eq!(
        ok(
            store
                .import_batch(&batch, "acme", "List-A", &rows, None)
                .await,
            "a batch without the lease"
        ),
        None
    );
    assert_eq!(ok(store.get_list("acme", "List-A").await, "list").size, 0);
    batch.owner = "node-a".to_string();
    let counts = ok(
        store
            .import_batch(&batch, "acme", "List-A", &rows, None)
            .await,
        "a batch with the lease",
    );
    assert_eq!(counts.map(|c| (c.added, c.updated)), Some((2, 0)));
    let job = ok(store.get_list_job("acme", "job-1").await, "get");
    assert_eq!(
        (job.progress.inserted, job.progress.updated, job.checkpoint),
        (7, 2, 20),
        "the batch's counts are added to the progress recorded with it"
    );
    assert_eq!(ok(store.get_list("acme", "List-A").await, "list").size, 2);

    // A graceful stop gives the leases back: another process resumes at once, where it was.
    assert_eq!(ok(store.release_jobs("node-a").await, "release"), 2);
    let resumed = ok(
        store.claim_jobs("node-b", T0 + 4, T0 + 104, 1).await,
        "resume",
    );
    assert_eq!(resumed.len(), 1);
    assert_eq!(
        (resumed[0].token.as_str(), resumed[0].checkpoint),
        ("job-1", 20),
        "oldest first, with its checkpoint"
    );
    // A process that stopped without giving its lease back loses the job once it runs out.
    let expired = ok(
        store.claim_jobs("node-c", T0 + 105, T0 + 205, 5).await,
        "expired",
    );
    let tokens: Vec<&str> = expired.iter().map(|j| j.token.as_str()).collect();
    assert_eq!(tokens, vec!["job-1", "job-r"]);
    assert!(!ok(
        store
            .record_job(&update("node-b", ListJobState::Completed, 30, T0 + 106))
            .await,
        "the old holder is fenced off"
    ));
    assert!(ok(
        store
            .record_job(&update("node-c", ListJobState::Completed, 30, T0 + 106))
            .await,
        "complete"
    ));
    let done = ok(store.get_list_job("ACME", "job-1").await, "get");
    assert_eq!(
        (done.state, done.completed_at),
        (ListJobState::Completed, Some(T0 + 106))
    );
    assert!(!ok(
        store
            .record_job(&update("node-c", ListJobState::Error, 31, T0 + 107))
            .await,
        "final jobs do not change"
    ));
    assert_eq!(ok(store.get_list_job("acme", "job-1").await, "get"), done);
    assert!(
        ok(
            store.claim_jobs("node-d", T0 + 1_000, T0 + 1_100, 5).await,
            "claim"
        )
        .iter()
        .all(|j| j.token == "job-r"),
        "a final job is never claimed"
    );
    assert_not_found(store.get_list_job("other", "job-1").await, "other account");
    assert_not_found(store.get_list_job("acme", "nope").await, "unknown token");
    let refresh = ok(
        store
            .create_list_job(new(
                "job-2",
                Some("List-A"),
                ListJobKind::Refresh,
                ListJobState::Completed,
            ))
            .await,
        "refresh",
    );
    assert_eq!(
        (refresh.kind, refresh.publish_date, refresh.completed_at),
        (ListJobKind::Refresh, Some(T0 - 5), Some(T0))
    );
    assert!(
        ok(
            store.claim_jobs("node-d", T0 + 2_000, T0 + 2_100, 5).await,
            "claim"
        )
        .iter()
        .all(|j| j.token != "job-2"),
        "a completed refresh is never claimed"
    );
    assert_not_found(
        store
            .create_list_job(new(
                "job-3",
                Some("nope"),
                ListJobKind::Import,
                ListJobState::Queued,
            ))
            .await,
        "unknown list",
    );
    assert_conflict(
        store
            .create_list_job(new(
                "JOB-2",
                Some("List-A"),
                ListJobKind::Import,
                ListJobState::Queued,
            ))
            .await,
        "token equal ignoring case",
    );
}

// ---- credentials: secret-hash upgrade and expired-token purge (API.md §2, §8) -----------------

pub async fn client_secret_hash_is_replaced_only_while_it_is_the_old_one(store: &dyn Store) {
    given_account(store, "acme").await;
    let old = new_client("client-one", "acme").secret_hash;
    ok(
        store.create_client(new_client("client-one", "acme")).await,
        "create client",
    );
    let hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    ok(
        store
            .insert_token(new_token(hash, "client-one", "acme", T0 + HOUR))
            .await,
        "insert token",
    );

    let replaced = ok(
        store
            .replace_client_secret_hash("CLIENT-ONE", &old, "hmac-sha256$salt$new")
            .await,
        "replace hash",
    );
    assert!(replaced, "the stored hash was the old one: replaced");
    let client = ok(store.get_client("client-one").await, "get client");
    assert_eq!(client.secret_hash, "hmac-sha256$salt$new");

    let again = ok(
        store
            .replace_client_secret_hash("client-one", &old, "hmac-sha256$salt$other")
            .await,
        "replace hash again",
    );
    assert!(
        !again,
        "the stored hash is no longer the old one: not replaced"
    );
    let client = ok(store.get_client("client-one").await, "get client");
    assert_eq!(client.secret_hash, "hmac-sha256$salt$new");
    assert!(
        ok(store.find_token(hash, T0).await, "find token").is_some(),
        "the client's tokens outlive the upgrade"
    );

    assert_not_found(
        store
            .replace_client_secret_hash("nobody", &old, "hmac-sha256$salt$new")
            .await,
        "unknown client",
    );
}

pub async fn purging_expired_tokens_deletes_only_expired_ones(store: &dyn Store) {
    given_account(store, "acme").await;
    ok(
        store.create_client(new_client("client-one", "acme")).await,
        "create client",
    );
    let expired = "1111111111111111111111111111111111111111111111111111111111111111";
    let at_now = "2222222222222222222222222222222222222222222222222222222222222222";
    let live = "3333333333333333333333333333333333333333333333333333333333333333";
    for (hash, expires_at) in [(expired, T0 - HOUR), (at_now, T0), (live, T0 + 1)] {
        ok(
            store
                .insert_token(new_token(hash, "client-one", "acme", expires_at))
                .await,
            "insert token",
        );
    }

    assert_eq!(ok(store.purge_expired_tokens(T0).await, "purge"), 2);
    assert_eq!(
        ok(store.find_token(live, T0).await, "find live token").map(|t| t.expires_at),
        Some(T0 + 1),
        "an unexpired token is kept"
    );
    // Found at an earlier time only if its row is still there.
    for hash in [expired, at_now] {
        assert_eq!(
            ok(
                store.find_token(hash, T0 - 2 * HOUR).await,
                "find purged token"
            ),
            None,
            "an expired token's row is gone"
        );
    }
    assert_eq!(
        ok(store.purge_expired_tokens(T0).await, "purge again"),
        0,
        "nothing left to purge"
    );
}

// ---- tenancy and limits: idempotency keys per account, over-long contact texts (API.md §1, §4) --

/// A key sent by one client acting for two accounts names one send per account: the second
/// account gets a send of its own (not the first account's token), and each account's lookup
/// finds its own send only.
pub async fn idempotency_keys_are_scoped_by_client_and_account(store: &dyn Store) {
    given_account(store, "acme").await;
    given_account(store, "beta").await;
    let in_acme = created(
        store
            .create_send(keyed_send(
                "acme",
                "tok0000000000000000000000a",
                T0,
                "client-one",
                "key-1",
                "hash-1",
            ))
            .await,
        "the key in acme",
    );
    let in_beta = created(
        store
            .create_send(keyed_send(
                "beta",
                "tok0000000000000000000000b",
                T0 + 1,
                "client-one",
                "key-1",
                "hash-1",
            ))
            .await,
        "the same client and key in beta is a new send",
    );
    assert_eq!(in_beta.account_id, "beta");
    assert_eq!(
        ok(
            store
                .find_idempotent_send("ACME", "client-one", "key-1", T0 + 2)
                .await,
            "lookup in acme",
        ),
        Some((in_acme.clone(), "hash-1".to_string()))
    );
    assert_eq!(
        ok(
            store
                .find_idempotent_send("beta", "CLIENT-ONE", "key-1", T0 + 2)
                .await,
            "lookup in beta",
        ),
        Some((in_beta.clone(), "hash-1".to_string()))
    );
    assert_eq!(
        ok(
            store
                .find_idempotent_send("gamma", "client-one", "key-1", T0 + 2)
                .await,
            "lookup in an unknown account",
        ),
        None
    );
    // Within each account the key still names its send.
    let (again, hash) = existing(
        store
            .create_send(keyed_send(
                "beta",
                "tok0000000000000000000000c",
                T0 + 3,
                "client-one",
                "key-1",
                "hash-2",
            ))
            .await,
        "the key again in beta",
    );
    assert_eq!((again, hash.as_str()), (in_beta, "hash-1"));
    assert_eq!(
        send_tokens(store, "acme", query(None, None, 10))
            .await
            .len(),
        1
    );
    assert_eq!(
        send_tokens(store, "beta", query(None, None, 10))
            .await
            .len(),
        1
    );
    // A contact send honours the same scope.
    let contact = keyed_send(
        "beta",
        "tok0000000000000000000000d",
        T0 + 4,
        "client-one",
        "key-2",
        "hash-3",
    );
    created(
        store
            .create_contact_send(contact, audience(vec![number(N1, None, "Hi")]))
            .await,
        "a contact send with another key",
    );
    let in_acme_too = keyed_send(
        "acme",
        "tok0000000000000000000000e",
        T0 + 5,
        "client-one",
        "key-2",
        "hash-3",
    );
    let other = created(
        store
            .create_contact_send(in_acme_too, audience(vec![number(N1, None, "Hi")]))
            .await,
        "the contact send's key in the other account",
    );
    assert_eq!(other.account_id, "acme");
}

/// A number whose text was over the limit (no text) becomes a recipient that failed with 1501,
/// described by [`codes::TEXT_TOO_LONG`], counted, tracked, never claimed, absent from the
/// history, and its text is never stored.
pub async fn contact_number_without_text_is_a_1501_recipient_never_sent(store: &dyn Store) {
    delivery_fixture(store).await;
    given_subscribed(store, &[D1, D2]).await;
    let too_long = |n: &str| crate::ContactNumber {
        mobile_number: n.to_string(),
        subscriber_key: None,
        text: None,
    };
    created(
        store
            .create_contact_send(
                contact_send("tok-long", T0),
                audience(vec![number(D1, None, "Hi Ann"), too_long(D2), too_long(D3)]),
            )
            .await,
        "contact send",
    );
    assert_eq!(
        start_send(store, "tok-long", T0).await,
        3,
        "every number counts"
    );
    let counts = counts_of(store, "tok-long", T0).await;
    assert_eq!(
        (
            counts.recipients,
            counts.queued,
            counts.failed,
            counts.suppressed
        ),
        (3, 1, 2, 0),
        "{counts:?}"
    );
    let claimed = claim(store, "tok-long", T0 + 1, 10).await;
    assert_eq!(
        numbers_of(&claimed),
        vec![D1],
        "only the number with a text goes out"
    );
    let page = ok(store.tracking_page("tok-long", 1, 10).await, "tracking");
    let failed: Vec<(&str, i32, Option<&str>, Option<&str>)> = page
        .iter()
        .filter(|r| r.mobile_number != D1)
        .map(|r| {
            (
                r.mobile_number.as_str(),
                r.status_code,
                r.note.as_deref(),
                r.text.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        failed,
        vec![
            (
                D2,
                codes::VALIDATION_ERROR,
                Some(codes::TEXT_TOO_LONG),
                None
            ),
            (
                D3,
                codes::VALIDATION_ERROR,
                Some(codes::TEXT_TOO_LONG),
                None
            ),
        ]
    );
    assert_eq!(
        codes::describe_recipient(codes::VALIDATION_ERROR, Some(codes::TEXT_TOO_LONG)).1,
        "Text too long after substitution"
    );
    let history = ok(store.history("acme", "tok-long", Some(D2)).await, "history");
    assert!(history.is_empty(), "nothing was texted to D2: {history:?}");
}

// ---- shared codes and inbound batches within 2 MiB (API.md §6, §1) --------------------------

fn mo_batch(account_id: &str, texts: Vec<InboundText>) -> crate::MoBatch {
    crate::MoBatch {
        account_id: account_id.to_string(),
        code: "88976".to_string(),
        texts,
        subscriptions: Vec::new(),
        opt_outs: Vec::new(),
        reply_send: None,
    }
}

fn opt_out_of_code(number: &str, at: Millis) -> crate::OptOutWrite {
    crate::OptOutWrite::Set {
        mobile_number: number.to_string(),
        at,
    }
}

/// How many rows of `table` an export holds.
async fn exported_rows(store: &dyn Store, table: &str) -> usize {
    let (sink, mut rows) = tokio::sync::mpsc::channel(100_000);
    ok(store.export(sink).await, "export");
    let mut count = 0;
    while let Ok(row) = rows.try_recv() {
        if row.table == table {
            count += 1;
        }
    }
    count
}

pub async fn record_mo_batches_records_every_account_or_none(store: &dyn Store) {
    delivery_fixture(store).await;
    given_account(store, "beta").await;
    given_code(store, "beta", "beta-code", "88976").await;
    given_keyword(store, "beta", "beta-join", "88976", "JOIN").await;
    given_subscribed(store, &[D1]).await;
    ok(
        store
            .set_subscription(
                "beta",
                &to("88976", "JOIN"),
                D1,
                SubscriptionStatus::Subscribed,
                T0,
            )
            .await,
        "subscribe in beta",
    );
    let mut stopped = subscription(
        D1,
        "88976",
        "JOIN",
        SubscriptionStatus::Unsubscribed,
        Some(T0),
        Some(T0 + 1),
    );
    stopped.opt_out_by_text = true;
    let stop = |account: &str| {
        let mut batch = mo_batch(account, vec![inbound(D1, "STOP", T0 + 1)]);
        batch.subscriptions = vec![crate::SubscriptionWrite::Put(stopped.clone())];
        batch.opt_outs = vec![opt_out_of_code(D1, T0 + 1)];
        batch
    };
    // One batch names a keyword beta does not have: nothing is written in either account.
    let mut broken = stop("beta");
    broken
        .subscriptions
        .push(crate::SubscriptionWrite::Put(subscription(
            D1,
            "88976",
            "DEALS",
            SubscriptionStatus::Unsubscribed,
            None,
            Some(T0 + 1),
        )));
    let mut confirmed = stop("acme");
    confirmed.reply_send = Some(reply_send("tok-stop", &[(D1, "Bye")], T0 + 1));
    assert_not_found(
        store
            .record_mo_batches(vec![confirmed.clone(), broken])
            .await,
        "a keyword not on beta's code",
    );
    assert!(ok(store.inbound_page(0, 10).await, "inbound").is_empty());
    for account in ["acme", "beta"] {
        assert_eq!(
            subscriptions(store, account, D1).await[0].status,
            SubscriptionStatus::Subscribed,
            "{account}"
        );
        assert!(ok(
            store
                .opt_outs_on_code(account, "88976", &[D1.to_string()])
                .await,
            "opt-outs"
        )
        .is_empty());
    }
    assert_not_found(store.get_send("acme", "tok-stop").await, "no reply send");

    // Both together: each account records the text, the opt-out and its subscriptions; only
    // the batch with the reply send has one.
    ok(
        store.record_mo_batches(vec![confirmed, stop("beta")]).await,
        "record both",
    );
    let recorded = ok(store.inbound_page(0, 10).await, "inbound");
    let owners: Vec<Option<String>> = recorded.iter().map(|r| r.account_id.clone()).collect();
    assert_eq!(
        owners,
        vec![Some("acme".to_string()), Some("beta".to_string())]
    );
    assert!(recorded.iter().all(|r| r.text.text == "STOP"));
    for account in ["acme", "beta"] {
        assert_eq!(
            subscriptions(store, account, D1).await,
            vec![stopped.clone()]
        );
        assert_eq!(
            ok(
                store
                    .opt_outs_on_code(account, "88976", &[D1.to_string(), D2.to_string()])
                    .await,
                "opt-outs"
            ),
            vec![crate::CodeOptOut {
                mobile_number: D1.to_string(),
                opted_out_at: T0 + 1
            }]
        );
    }
    assert_eq!(state_of(store, "tok-stop").await.count, 1);
    assert_eq!(
        ok(
            store.list_sends("beta", SendQuery::default()).await,
            "beta's sends"
        )
        .len(),
        0
    );
    // Another number, another code, an unknown code: no opt-outs.
    assert!(ok(
        store
            .opt_outs_on_code("acme", "12345", &[D1.to_string()])
            .await,
        "other code"
    )
    .is_empty());
    assert!(ok(
        store
            .opt_outs_on_code("acme", "55555", &[D1.to_string()])
            .await,
        "unknown code"
    )
    .is_empty());
    assert!(ok(store.opt_outs_on_code("acme", "88976", &[]).await, "none").is_empty());
    assert_not_found(
        store
            .opt_outs_on_code("nobody", "88976", &[D1.to_string()])
            .await,
        "unknown account",
    );
    // An empty call records nothing and succeeds.
    ok(store.record_mo_batches(Vec::new()).await, "nothing");
}

pub async fn an_opt_out_of_a_code_keeps_imports_and_subscribe_from_every_keyword_of_it(
    store: &dyn Store,
) {
    delivery_fixture(store).await;
    given_account(store, "beta").await;
    given_code(store, "beta", "beta-code", "88976").await;
    given_keyword(store, "beta", "beta-join", "88976", "JOIN").await;
    let mut batch = mo_batch("acme", vec![inbound(D1, "STOP", T0)]);
    batch.opt_outs = vec![opt_out_of_code(D1, T0), opt_out_of_code(D3, T0)];
    ok(store.record_mo(batch).await, "opt out");
    // An import subscribing to JOIN, or to a keyword created after the STOP, leaves D1 out.
    given_keyword(store, "acme", "kw-later", "88976", "LATER").await;
    given_list(store, "acme", "L1").await;
    let rows = [row(D1, None, json!({})), row(D2, None, json!({}))];
    for keyword in ["JOIN", "later"] {
        upsert(
            store,
            "acme",
            "L1",
            &rows,
            Some(&to("88976", keyword)),
            T0 + 1,
        )
        .await;
    }
    assert_eq!(subscriptions(store, "acme", D1).await, vec![]);
    assert_eq!(subscriptions(store, "acme", D2).await.len(), 2);
    // The same code in another account is another opt-out: beta's import subscribes D1.
    given_list(store, "beta", "L1").await;
    upsert(
        store,
        "beta",
        "L1",
        &rows,
        Some(&to("88976", "JOIN")),
        T0 + 1,
    )
    .await;
    assert_eq!(subscriptions(store, "beta", D1).await.len(), 1);
    // messageContact's Subscribe leaves it out too; with Resubscribe the operator's explicit
    // re-subscription wins.
    let mut options = audience(vec![number(D3, None, "a")]);
    options.subscribe = Some(crate::ContactSubscribe {
        keyword: "JOIN".to_string(),
        subscribe: true,
        resubscribe: false,
    });
    created(
        store
            .create_contact_send(contact_send("tok-s1", T0 + 2), options.clone())
            .await,
        "subscribe",
    );
    assert_eq!(subscriptions(store, "acme", D3).await, vec![]);
    options.subscribe = Some(crate::ContactSubscribe {
        keyword: "JOIN".to_string(),
        subscribe: true,
        resubscribe: true,
    });
    created(
        store
            .create_contact_send(contact_send("tok-s2", T0 + 3), options)
            .await,
        "resubscribe",
    );
    assert_eq!(
        subscriptions(store, "acme", D3).await[0].status,
        SubscriptionStatus::Subscribed
    );
    // START ends the opt-out (and a second Set keeps the first date): imports subscribe again.
    let mut again = mo_batch("acme", vec![inbound(D1, "STOP", T0 + 4)]);
    again.opt_outs = vec![opt_out_of_code(D1, T0 + 4)];
    ok(store.record_mo(again).await, "stop again");
    assert_eq!(
        ok(
            store
                .opt_outs_on_code("acme", "88976", &[D1.to_string()])
                .await,
            "opt-outs"
        )[0]
        .opted_out_at,
        T0
    );
    let mut start = mo_batch("acme", vec![inbound(D1, "START", T0 + 5)]);
    start.opt_outs = vec![crate::OptOutWrite::Clear {
        mobile_number: D1.to_string(),
    }];
    ok(store.record_mo(start).await, "start");
    upsert(
        store,
        "acme",
        "L1",
        &rows,
        Some(&to("88976", "JOIN")),
        T0 + 6,
    )
    .await;
    assert_eq!(subscriptions(store, "acme", D1).await.len(), 1);
    // The opt-out goes with its code.
    ok(store.delete_code("acme", "88976").await, "delete code");
    assert!(ok(
        store
            .opt_outs_on_code("acme", "88976", &[D3.to_string()])
            .await,
        "deleted code"
    )
    .is_empty());
}

pub async fn a_subscription_remembers_whether_its_last_opt_out_came_by_text(store: &dyn Store) {
    delivery_fixture(store).await;
    given_subscribed(store, &[D1, D2]).await;
    let stopped = |number: &str| {
        let mut s = subscription(
            number,
            "88976",
            "JOIN",
            SubscriptionStatus::Unsubscribed,
            Some(T0),
            Some(T0 + 1),
        );
        s.opt_out_by_text = true;
        s
    };
    let mut batch = mo_batch("acme", vec![inbound(D1, "STOP", T0 + 1)]);
    batch.subscriptions = vec![
        crate::SubscriptionWrite::Put(stopped(D1)),
        crate::SubscriptionWrite::Put(stopped(D2)),
    ];
    ok(store.record_mo(batch).await, "stop");
    assert_eq!(subscriptions(store, "acme", D1).await, vec![stopped(D1)]);
    let on_code = ok(
        store
            .subscriptions_on_code("acme", "88976", &[D1.to_string(), D2.to_string()])
            .await,
        "on code",
    );
    assert!(on_code.iter().all(|s| s.opt_out_by_text), "{on_code:?}");
    // An operator's opt-out is the operator's, even of a number already opted out by text; an
    // operator's other changes leave the mark alone.
    let by_operator = subscribe(
        store,
        "acme",
        &to("88976", "JOIN"),
        D1,
        SubscriptionStatus::Unsubscribed,
        T0 + 2,
    )
    .await;
    assert!(!by_operator.opt_out_by_text);
    assert_eq!(by_operator.opt_out_date, Some(T0 + 1));
    assert!(!subscriptions(store, "acme", D1).await[0].opt_out_by_text);
    let resubscribed = subscribe(
        store,
        "acme",
        &to("88976", "JOIN"),
        D2,
        SubscriptionStatus::Subscribed,
        T0 + 2,
    )
    .await;
    assert!(resubscribed.opt_out_by_text);
}

pub async fn texts_repeated_in_a_batch_are_stored_once_and_read_back_everywhere(store: &dyn Store) {
    delivery_fixture(store).await;
    let long = "é".repeat(1600);
    let numbers = [D1, D2, D3, D4];
    let mut batch = mo_batch(
        "acme",
        numbers.iter().map(|n| inbound(n, &long, T0)).collect(),
    );
    let mut replies: Vec<(&str, &str)> = numbers.iter().map(|n| (*n, "Help!")).collect();
    replies.push((D1, "only once"));
    let mut send = reply_send("tok-mo", &replies, T0);
    send.text = long.clone();
    batch.reply_send = Some(send);
    ok(store.record_mo(batch).await, "record");
    // Two texts are repeated (the inbound text and "Help!"): stored once each.
    assert_eq!(exported_rows(store, "batch_texts").await, 2);
    let recorded = ok(store.inbound_page(0, 10).await, "inbound");
    assert_eq!(recorded.len(), 4);
    assert!(recorded.iter().all(|r| r.text.text == long));
    // History: the four texts (MO) and the five replies (MT), with their texts.
    let history = ok(store.history("acme", "tok-mo", None).await, "history");
    let mo: Vec<&str> = history
        .iter()
        .filter(|e| e.direction == crate::Direction::Mo)
        .map(|e| e.text.as_str())
        .collect();
    assert_eq!(mo, vec![long.as_str(); 4]);
    let mut mt: Vec<&str> = history
        .iter()
        .filter(|e| e.direction == crate::Direction::Mt)
        .map(|e| e.text.as_str())
        .collect();
    mt.sort_unstable();
    assert_eq!(mt, vec!["Help!", "Help!", "Help!", "Help!", "only once"]);
    let d1 = ok(store.history("acme", "tok-mo", Some(D1)).await, "D1");
    assert_eq!(d1.len(), 3, "{d1:?}");
    // Tracking (queueMO deliveries' `message`) and the hand-over carry each reply's text.
    let tracking = ok(store.tracking_page("tok-mo", 1, 10).await, "tracking");
    let texts: Vec<(String, Option<String>)> = tracking
        .iter()
        .map(|t| (t.mobile_number.clone(), t.text.clone()))
        .collect();
    assert_eq!(
        texts,
        vec![
            (D1.to_string(), Some("Help!".to_string())),
            (D1.to_string(), Some("only once".to_string())),
            (D2.to_string(), Some("Help!".to_string())),
            (D3.to_string(), Some("Help!".to_string())),
            (D4.to_string(), Some("Help!".to_string())),
        ]
    );
    let claimed = ok(
        store
            .claim_recipients("tok-mo", "worker", T0, T0 + HOUR, 10)
            .await,
        "claim",
    );
    let mut claimed: Vec<(String, Option<String>)> = claimed
        .into_iter()
        .map(|c| (c.mobile_number, c.text))
        .collect();
    claimed.sort();
    assert_eq!(claimed, texts);
    // A contact send's history of a number shows its inbound texts and replies on the code.
    created(
        store
            .create_contact_send(
                contact_send("tok-c", T0 - 1),
                audience(vec![number(D2, None, "hi")]),
            )
            .await,
        "contact send",
    );
    let d2 = ok(store.history("acme", "tok-c", Some(D2)).await, "D2");
    let d2: Vec<(crate::Direction, &str)> =
        d2.iter().map(|e| (e.direction, e.text.as_str())).collect();
    assert!(
        d2.contains(&(crate::Direction::Mo, long.as_str())),
        "{d2:?}"
    );
    assert!(d2.contains(&(crate::Direction::Mt, "Help!")), "{d2:?}");
}

//! The store conformance suite: one public async function per behaviour that every backend must
//! show, and [`store_conformance_tests!`](crate::store_conformance_tests) to run them all as
//! `#[tokio::test]`s in a backend's test crate.
//!
//! Every function takes a fresh, migrated, empty store and panics when the backend misbehaves (they
//! are test bodies). They need no async runtime of their own, so this crate stays free of tokio.
//! The behaviours are those of the `Store` trait docs and API.md §3, §4, §6 and §7.

use std::fmt::Debug;

use serde_json::json;

use crate::{
    Account, Attributes, Client, Code, Contact, ContactList, ContactRow, CreatedSend, Idempotency,
    Keyword, MemberCounts, Message, MessagePatch, MessageStatus, Millis, NewAccessToken,
    NewAccount, NewClient, NewCode, NewKeyword, NewList, NewMessage, NewSend, Send, SendKind,
    SendQuery, SendState, Store, StoreError, StoreResult, StoredWindow, SubscribeTo, Subscription,
    SubscriptionStatus,
};

/// Runs every behaviour of this module as a `#[tokio::test]`.
///
/// `$factory` is an expression evaluating to a future (e.g. `fresh_store()` for an
/// `async fn fresh_store()`) whose output derefs to something that coerces to `&dyn Store`
/// (`Box<dyn Store>`, `Arc<SqliteStore>`, a guard struct holding a temp dir, ...). It is evaluated
/// once per test and must yield a fresh, migrated, empty store. The crate invoking the macro needs
/// `tokio` (with the `macros` and `rt` features) as a dependency.
#[macro_export]
macro_rules! store_conformance_tests {
    ($factory:expr) => {
        $crate::store_conformance_tests!(@each $factory;
            migrate_is_idempotent_and_leaves_the_store_ready,
            account_resolves_ignoring_case_with_its_canonical_id,
            account_id_equal_ignoring_case_conflicts,
            client_resolves_ignoring_case_and_lists_by_account,
            client_id_equal_ignoring_case_conflicts,
            token_is_found_until_it_expires,
            revoking_a_client_deletes_its_tokens,
            code_resolves_by_id_or_code_string,
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
            send_round_trips_every_field,
            send_token_equal_ignoring_case_conflicts,
            idempotency_key_reused_within_24_hours_returns_the_earlier_send,
            idempotency_key_expires_after_24_hours,
            idempotency_key_is_scoped_to_the_client,
            list_sends_is_newest_first_with_state_filter_and_paging,
            account_scoped_methods_of_an_unknown_account_are_not_found,
        );
    };
    (@each $factory:expr; $($behaviour:ident),+ $(,)?) => {
        $(
            #[tokio::test]
            async fn $behaviour() {
                let store = $factory.await;
                $crate::conformance::$behaviour(&*store).await;
            }
        )+
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

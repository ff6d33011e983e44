//! Fixtures and assertions shared by the behaviours.

use serde_json::json;
use std::fmt::Debug;

use store::*;

// ---- helpers ----------------------------------------------------------------------------------

pub(crate) const T0: Millis = 1_700_000_000_000;
pub(crate) const HOUR: Millis = 3_600_000;
pub(crate) const DAY: Millis = 24 * HOUR;

pub(crate) const N1: &str = "15555555510";
pub(crate) const N2: &str = "15555555511";
pub(crate) const N3: &str = "15555555512";
pub(crate) const N4: &str = "447700900123";

pub(crate) fn ok<T>(result: StoreResult<T>, what: &str) -> T {
    match result {
        Ok(value) => value,
        Err(e) => panic!("{what}: expected Ok, got Err({e:?})"),
    }
}

pub(crate) fn assert_not_found<T: Debug>(result: StoreResult<T>, what: &str) {
    match result {
        Err(StoreError::NotFound) => {}
        other => panic!("{what}: expected Err(NotFound), got {other:?}"),
    }
}

pub(crate) fn assert_conflict<T: Debug>(result: StoreResult<T>, what: &str) {
    match result {
        Err(StoreError::Conflict(_)) => {}
        other => panic!("{what}: expected Err(Conflict(_)), got {other:?}"),
    }
}

pub(crate) fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

pub(crate) fn attributes(value: serde_json::Value) -> Attributes {
    match value {
        serde_json::Value::Object(map) => map,
        other => panic!("test attributes must be a JSON object, got {other}"),
    }
}

pub(crate) fn row(
    mobile_number: &str,
    subscriber_key: Option<&str>,
    attrs: serde_json::Value,
) -> ContactRow {
    ContactRow {
        mobile_number: mobile_number.to_string(),
        subscriber_key: subscriber_key.map(str::to_string),
        attributes: attributes(attrs),
    }
}

pub(crate) fn plain_rows(numbers: &[&str]) -> Vec<ContactRow> {
    numbers.iter().map(|n| row(n, None, json!({}))).collect()
}

pub(crate) fn to(code: &str, keyword: &str) -> SubscribeTo {
    SubscribeTo {
        code: code.to_string(),
        keyword: keyword.to_string(),
    }
}

pub(crate) async fn given_account(store: &dyn Store, id: &str) -> Account {
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

pub(crate) fn new_client(client_id: &str, account_id: &str) -> NewClient {
    NewClient {
        client_id: client_id.to_string(),
        secret_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo".to_string(),
        account_id: account_id.to_string(),
        scopes: strings(&["sms_send", "sms_read"]),
        accounts: Vec::new(),
        created_at: T0,
    }
}

pub(crate) fn new_token(
    hash: &str,
    client_id: &str,
    account_id: &str,
    expires_at: Millis,
) -> NewAccessToken {
    NewAccessToken {
        token_hash: hash.to_string(),
        client_id: client_id.to_string(),
        account_id: account_id.to_string(),
        scopes: strings(&["sms_send"]),
        created_at: T0,
        expires_at,
    }
}

pub(crate) fn new_code(account_id: &str, id: &str, code: &str) -> NewCode {
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

pub(crate) async fn given_code(store: &dyn Store, account_id: &str, id: &str, code: &str) -> Code {
    ok(
        store.create_code(new_code(account_id, id, code)).await,
        "create code",
    )
}

pub(crate) fn new_keyword(account_id: &str, id: &str, code: &str, keyword: &str) -> NewKeyword {
    NewKeyword {
        id: id.to_string(),
        account_id: account_id.to_string(),
        code: code.to_string(),
        keyword: keyword.to_string(),
        response: Some("Welcome!".to_string()),
        double_opt_in: false,
        confirm_text: None,
        created_at: T0,
        opt_in: None,
    }
}

pub(crate) async fn given_keyword(
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

pub(crate) fn new_message(account_id: &str, id: &str) -> NewMessage {
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

pub(crate) async fn given_list(store: &dyn Store, account_id: &str, id: &str) -> ContactList {
    ok(
        store
            .create_list(NewList {
                id: id.to_string(),
                account_id: account_id.to_string(),
                name: format!("{id} name"),
                created_at: T0,
                hidden: false,
                counts_rows: false,
            })
            .await,
        "create list",
    )
}

pub(crate) async fn list_of(store: &dyn Store, account_id: &str, id: &str) -> ContactList {
    ok(store.get_list(account_id, id).await, "get list")
}

pub(crate) async fn upsert(
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

pub(crate) fn counts(added: u64, updated: u64) -> MemberCounts {
    MemberCounts { added, updated }
}

pub(crate) async fn subscribe(
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

pub(crate) async fn subscriptions(
    store: &dyn Store,
    account_id: &str,
    number: &str,
) -> Vec<Subscription> {
    ok(
        store.subscriptions_of(account_id, number).await,
        "subscriptions of",
    )
}

pub(crate) fn subscription(
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
        next_keyword_since: None,
    }
}

/// A send with every optional field set.
/// A well-formed ID (the helpers' own constants).
pub(crate) fn id(s: &str) -> domain::EncodedId {
    domain::EncodedId::parse(s).expect("a well-formed ID")
}

pub(crate) fn full_send(account_id: &str, token: &str, created_at: Millis) -> NewSend {
    NewSend {
        token: token.to_string(),
        account_id: account_id.to_string(),
        client_id: Some("client-one".to_string()),
        kind: SendKind::List,
        message_id: id("Msg-1"),
        code: "88976".to_string(),
        text: "Hello %%FirstName%% \u{20ac} \u{1f600}".to_string(),
        content_url: Some("https://example.com/a.png".to_string()),
        target_list_ids: strings(&["List-A", "list-b"]),
        exclusion_list_ids: strings(&["List-X"]),
        allow_duplication: true,
        window: Some(domain::BlackoutWindow {
            offset: domain::UtcOffset::from_minutes(-360).expect("offset"),
            start: domain::ClockTime::from_minute_of_day(22 * 60).expect("start"),
            end: domain::ClockTime::from_minute_of_day(7 * 60).expect("end"),
        }),
        send_time: Some(created_at + HOUR),
        due_at: created_at + 2 * HOUR,
        segments: 2,
        encoding: domain::Encoding::Ucs2,
        created_at,
        idempotency: None,
    }
}

/// A send with every optional field absent.
pub(crate) fn minimal_send(account_id: &str, token: &str, created_at: Millis) -> NewSend {
    NewSend {
        token: token.to_string(),
        account_id: account_id.to_string(),
        client_id: None,
        kind: SendKind::Contact,
        message_id: id("msg-2"),
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
        encoding: domain::Encoding::Gsm7,
        created_at,
        idempotency: None,
    }
}

pub(crate) fn keyed_send(
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
pub(crate) fn accepted(new: &NewSend, account_id: &str) -> Send {
    Send {
        token: new.token.clone(),
        account_id: account_id.to_string(),
        client_id: new.client_id.clone(),
        kind: new.kind,
        message_id: new.message_id.as_str().to_string(),
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
        encoding: new.encoding.as_str().to_string(),
        state: SendState::New,
        count: 0,
        errors: Vec::new(),
        created_at: new.created_at,
        completed_at: None,
    }
}

pub(crate) fn created(result: StoreResult<CreatedSend>, what: &str) -> Send {
    match ok(result, what) {
        CreatedSend::Created(send) => send,
        other => panic!("{what}: expected Created, got {other:?}"),
    }
}

pub(crate) fn existing(result: StoreResult<CreatedSend>, what: &str) -> (Send, String) {
    match ok(result, what) {
        CreatedSend::Existing { send, request_hash } => (send, request_hash),
        other => panic!("{what}: expected Existing, got {other:?}"),
    }
}

pub(crate) async fn send_tokens(
    store: &dyn Store,
    account_id: &str,
    query: SendQuery,
) -> Vec<String> {
    ok(store.list_sends(account_id, query).await, "list sends")
        .into_iter()
        .map(|s| s.token)
        .collect()
}

pub(crate) fn query(state: Option<SendState>, after: Option<&str>, limit: u32) -> SendQuery {
    SendQuery {
        state,
        after: after.map(str::to_string),
        limit,
    }
}

// ---- delivery engine (API.md §4 "What a send does", §5, §7) -----------------------------------

/// Numbers of the delivery behaviours, in ascending order (tracking is ordered by number).
pub(crate) const D1: &str = "15550000001";
pub(crate) const D2: &str = "15550000002";
pub(crate) const D3: &str = "15550000003";
pub(crate) const D4: &str = "15550000004";
pub(crate) const D5: &str = "15550000005";
pub(crate) const D6: &str = "15550000006";
pub(crate) const D7: &str = "15550000007";
pub(crate) const D8: &str = "15550000008";

/// The message every delivery send names.
pub(crate) const MESSAGE: &str = "msg-1";

/// An account `acme` with code 88976 (carrier `simulator`, keywords JOIN and DEALS), another
/// code 12345 (keyword JOIN) and message `msg-1` on 88976.
pub(crate) async fn delivery_fixture(store: &dyn Store) {
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
pub(crate) async fn given_members(store: &dyn Store, list_id: &str, numbers: &[&str]) {
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
pub(crate) async fn given_status(
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
pub(crate) async fn given_subscribed(store: &dyn Store, numbers: &[&str]) {
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
pub(crate) fn list_send(
    token: &str,
    targets: &[&str],
    exclusions: &[&str],
    allow_duplication: bool,
    due_at: Millis,
) -> NewSend {
    let mut new = minimal_send("acme", token, T0);
    new.kind = SendKind::List;
    new.message_id = id(MESSAGE);
    new.target_list_ids = strings(targets);
    new.exclusion_list_ids = strings(exclusions);
    new.allow_duplication = allow_duplication;
    new.due_at = due_at;
    new
}

pub(crate) async fn given_send(store: &dyn Store, new: NewSend) -> Send {
    created(store.create_send(new).await, "create send")
}

/// Expands under `owner` in batches of `batch` until the expansion ends; how it ended and how
/// many batches it took.
pub(crate) async fn expand_to_end(
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
pub(crate) async fn start_send(store: &dyn Store, token: &str, now: Millis) -> i64 {
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
pub(crate) async fn tracking_of(
    store: &dyn Store,
    token: &str,
) -> Vec<(String, i32, Option<Outcome>)> {
    ok(store.tracking_page(token, 1, 10_000).await, "tracking page")
        .into_iter()
        .map(|t| (t.mobile_number, t.status_code, t.outcome))
        .collect()
}

pub(crate) fn tracked(
    entries: &[(&str, i32, Option<Outcome>)],
) -> Vec<(String, i32, Option<Outcome>)> {
    entries
        .iter()
        .map(|(n, code, outcome)| (n.to_string(), *code, *outcome))
        .collect()
}

pub(crate) async fn counts_of(store: &dyn Store, token: &str, now: Millis) -> SendCounts {
    ok(store.send_counts(token, now).await, "send counts")
}

pub(crate) async fn state_of(store: &dyn Store, token: &str) -> Send {
    ok(store.get_send("acme", token).await, "get send")
}

pub(crate) async fn claim(
    store: &dyn Store,
    token: &str,
    now: Millis,
    limit: u32,
) -> Vec<ClaimedRecipient> {
    ok(
        store
            .claim_recipients(token, "worker-1", now, now + HOUR, limit)
            .await,
        "claim recipients",
    )
}

pub(crate) fn numbers_of(claimed: &[ClaimedRecipient]) -> Vec<&str> {
    claimed.iter().map(|r| r.mobile_number.as_str()).collect()
}

pub(crate) fn accepted_by_carrier(r: &ClaimedRecipient, message_id: &str) -> SubmissionResult {
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
pub(crate) async fn audience_fixture(store: &dyn Store) {
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

// ---- messageContact, replies, history, list jobs (API.md §6) ----------------------------------

pub(crate) fn contact_send(token: &str, created_at: Millis) -> NewSend {
    let mut new = minimal_send("acme", token, created_at);
    new.kind = SendKind::Contact;
    new.message_id = id(MESSAGE);
    new.text = "Hi %%FirstName%%".to_string();
    new
}

pub(crate) fn number(n: &str, key: Option<&str>, text: &str) -> store::ContactNumber {
    store::ContactNumber {
        mobile_number: n.to_string(),
        subscriber_key: key.map(str::to_string),
        text: Some(text.to_string()),
    }
}

pub(crate) fn audience(numbers: Vec<store::ContactNumber>) -> store::ContactAudience {
    store::ContactAudience {
        numbers,
        subscribe: None,
    }
}

pub(crate) fn inbound(from: &str, text: &str, at: Millis) -> InboundText {
    InboundText {
        carrier: "simulator".to_string(),
        from: from.to_string(),
        to: "88976".to_string(),
        text: text.to_string(),
        received_at: at,
    }
}

pub(crate) fn reply_send(token: &str, replies: &[(&str, &str)], at: Millis) -> store::ReplySend {
    store::ReplySend {
        token: token.to_string(),
        client_id: Some("client-one".to_string()),
        text: "STOP".to_string(),
        segments: 1,
        encoding: "GSM-7".to_string(),
        replies: replies
            .iter()
            .map(|(n, t)| store::ReplyText {
                mobile_number: n.to_string(),
                text: t.to_string(),
            })
            .collect(),
        created_at: at,
    }
}

// ---- shared codes and inbound batches within 2 MiB (API.md §6, §1) --------------------------

pub(crate) fn mo_batch(account_id: &str, texts: Vec<InboundText>) -> store::MoBatch {
    store::MoBatch {
        account_id: account_id.to_string(),
        code: "88976".to_string(),
        texts,
        subscriptions: Vec::new(),
        opt_outs: Vec::new(),
        reply_send: None,
    }
}

pub(crate) fn opt_out_of_code(number: &str, at: Millis) -> store::OptOutWrite {
    store::OptOutWrite::Set {
        mobile_number: number.to_string(),
        at,
    }
}

/// How many rows of `table` an export holds.
pub(crate) async fn exported_rows(store: &dyn Store, table: &str) -> usize {
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

/// Marks `claimed` submitting for `owner` (leave to write them), asserting all were marked.
pub(crate) async fn leaving(
    store: &dyn Store,
    owner: &str,
    claimed: &[ClaimedRecipient],
    now: Millis,
) {
    let ids: Vec<i64> = claimed.iter().map(|r| r.id).collect();
    assert_eq!(
        ok(
            store.mark_submitting(owner, &ids, now, now + HOUR).await,
            "mark submitting"
        ),
        ids
    );
}

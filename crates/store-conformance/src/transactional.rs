//! Transactional sends (API.md §9 "Sends", "Queue", "notSent listing"): keys claimed once per
//! account for 72 hours, the definition's subscription rules, held sends, settling a queue, and
//! events numbered in one sequence per account.

use store::tx_rows::KEY_WINDOW;
use store::*;

use crate::helpers::*;

fn definition(key: &str, status: DefinitionStatus, auto_add: bool) -> Definition {
    Definition {
        account_id: "acme".to_string(),
        definition_id: format!("id-{key}"),
        definition_key: key.to_string(),
        name: key.to_string(),
        description: None,
        status,
        message: "Code %%code%%".to_string(),
        short_code: "88976".to_string(),
        country_code: None,
        keyword: "JOIN".to_string(),
        auto_add_subscriber: auto_add,
        update_subscriber: true,
        created_at: T0,
        modified_at: T0,
    }
}

fn request(token: &str, definition: &str, messages: &[(&str, &str)], now: Millis) -> TxRequest {
    TxRequest {
        account_id: "acme".to_string(),
        client_id: None,
        token: token.to_string(),
        definition_key: definition.to_string(),
        text: "Code %%code%%".to_string(),
        resubscribe: false,
        messages: messages
            .iter()
            .map(|(key, number)| TxMessage {
                message_key: key.to_string(),
                mobile_number: number.to_string(),
                contact_key: format!("contact-{key}"),
                text: format!("Code for {key}"),
            })
            .collect(),
        segments: 1,
        encoding: Encoding::Gsm7,
        now,
    }
}

async fn given_definition(store: &dyn Store, key: &str, status: DefinitionStatus, auto_add: bool) {
    ok(
        store
            .create_definition(definition(key, status, auto_add))
            .await,
        "create definition",
    );
}

async fn accept(store: &dyn Store, request: TxRequest) -> Vec<TxOutcome> {
    ok(store.accept_transactional(&request).await, "accept")
}

fn not_sent(status: &TxStatus) -> Option<i32> {
    status.not_sent_code
}

pub async fn message_keys_are_claimed_once_per_account_for_72_hours(store: &dyn Store) {
    delivery_fixture(store).await;
    given_definition(store, "alerts", DefinitionStatus::Active, true).await;
    use TxOutcome::{Accepted, DuplicateKey};
    assert_eq!(
        accept(
            store,
            request("tx1", "alerts", &[("K1", N1), ("k2", N2)], T0)
        )
        .await,
        [Accepted, Accepted]
    );
    assert_eq!(
        accept(
            store,
            request("tx2", "alerts", &[("k1", N3), ("k3", N3)], T0 + 1)
        )
        .await,
        [DuplicateKey, Accepted],
        "a key matches ignoring case"
    );
    // Every key taken: nothing recorded (no send under that token).
    assert_eq!(
        accept(store, request("tx3", "alerts", &[("K2", N1)], T0 + 2)).await,
        [DuplicateKey]
    );
    assert!(matches!(
        store.send_counts("tx3", T0 + 2).await,
        Err(StoreError::NotFound)
    ));
    let first = ok(store.transactional_status("acme", "k1").await, "status");
    assert_eq!(
        (first.message_key.as_str(), first.mobile_number.as_str()),
        ("K1", N1)
    );
    // After 72 hours the key is free again, and names the new message.
    assert_eq!(
        accept(
            store,
            request("tx4", "alerts", &[("k1", N2)], T0 + KEY_WINDOW + 1)
        )
        .await,
        [Accepted]
    );
    let again = ok(store.transactional_status("acme", "K1").await, "status");
    assert_eq!(
        (again.message_key.as_str(), again.mobile_number.as_str()),
        ("k1", N2)
    );
    assert!(matches!(
        store
            .accept_transactional(&request("tx5", "missing", &[("k9", N1)], T0))
            .await,
        Err(StoreError::NotFound)
    ));
}

pub async fn transactional_numbers_follow_the_definitions_subscription_rules(store: &dyn Store) {
    delivery_fixture(store).await;
    given_definition(store, "alerts", DefinitionStatus::Active, true).await;
    given_definition(store, "members", DefinitionStatus::Active, false).await;
    let join = to("88976", "JOIN");
    subscribe(
        store,
        "acme",
        &join,
        N1,
        SubscriptionStatus::Unsubscribed,
        T0,
    )
    .await;
    accept(
        store,
        request("tx1", "alerts", &[("out", N1), ("new", N2)], T0),
    )
    .await;
    accept(store, request("tx2", "members", &[("unknown", N3)], T0)).await;
    let mut again = request("tx3", "alerts", &[("back", N1)], T0);
    again.resubscribe = true;
    accept(store, again).await;
    let code = |key: &'static str| async move {
        not_sent(&ok(store.transactional_status("acme", key).await, "status"))
    };
    assert_eq!(
        code("out").await,
        Some(tx_rows::NOT_SUBSCRIBED),
        "opted out"
    );
    assert_eq!(
        code("new").await,
        None,
        "no subscription: subscribed (autoAddSubscriber)"
    );
    assert_eq!(
        code("unknown").await,
        Some(tx_rows::NOT_SUBSCRIBED),
        "autoAddSubscriber false"
    );
    assert_eq!(code("back").await, None, "resubscribe");
    let statuses: Vec<SubscriptionStatus> = subscriptions(store, "acme", N1)
        .await
        .into_iter()
        .filter(|s| s.keyword == "JOIN")
        .map(|s| s.status)
        .collect();
    assert_eq!(
        statuses,
        [SubscriptionStatus::Subscribed],
        "subscribed again"
    );
    assert_eq!(
        subscriptions(store, "acme", N2).await.len(),
        1,
        "the new number is subscribed"
    );
    assert!(subscriptions(store, "acme", N3).await.is_empty());
}

pub async fn an_inactive_definition_holds_its_sends_until_active(store: &dyn Store) {
    delivery_fixture(store).await;
    given_definition(store, "held", DefinitionStatus::Inactive, true).await;
    accept(store, request("tx1", "held", &[("h1", N1), ("h2", N2)], T0)).await;
    let due = |now| async move {
        ok(store.dispatchable_sends(now, 10, &[]).await, "dispatchable")
            .into_iter()
            .map(|d| d.send.token)
            .collect::<Vec<_>>()
    };
    assert!(due(T0 + 1000).await.is_empty(), "held");
    assert_eq!(
        ok(store.queue_metrics("acme", "HELD").await, "metrics"),
        (2, Some(T0))
    );
    // Only an Inactive definition's queue can be emptied; making it Active releases the send.
    let active = DefinitionPatch {
        status: Some(DefinitionStatus::Active),
        ..DefinitionPatch::default()
    };
    ok(
        store
            .update_definition("acme", "held", active, T0 + 10)
            .await,
        "activate",
    );
    assert_eq!(due(T0 + 1000).await, ["tx1"]);
    assert_eq!(
        ok(store.empty_queue("acme", "held", T0 + 20).await, "empty"),
        None
    );
    // Inactive again: held; emptied: NotSent 39, the send Finished.
    let inactive = DefinitionPatch {
        status: Some(DefinitionStatus::Inactive),
        ..DefinitionPatch::default()
    };
    ok(
        store
            .update_definition("acme", "held", inactive, T0 + 30)
            .await,
        "deactivate",
    );
    assert!(due(T0 + 1000).await.is_empty(), "held again");
    assert_eq!(
        ok(store.empty_queue("acme", "held", T0 + 40).await, "empty"),
        Some(2)
    );
    let status = ok(store.transactional_status("acme", "h1").await, "status");
    assert_eq!(
        (status.not_sent_code, status.outcome.as_deref()),
        (Some(39), Some("canceled"))
    );
    assert_eq!(
        ok(store.queue_metrics("acme", "held").await, "metrics"),
        (0, None)
    );
    assert_eq!(state_of(store, "tx1").await.state, SendState::Finished);
    assert!(matches!(
        store.queue_metrics("acme", "missing").await,
        Err(StoreError::NotFound)
    ));
}

pub async fn not_sent_events_are_numbered_in_one_sequence_per_account(store: &dyn Store) {
    delivery_fixture(store).await;
    given_definition(store, "members", DefinitionStatus::Active, false).await;
    accept(
        store,
        request("tx1", "members", &[("a", N1), ("b", N2)], T0),
    )
    .await;
    let page = |after: i64, limit: u32| async move {
        ok(
            store.not_sent_events("acme", after, limit, T0 + 10).await,
            "not sent",
        )
        .into_iter()
        .map(|e| (e.event_id, e.message_key, e.status_code))
        .collect::<Vec<_>>()
    };
    let first = page(0, 10).await;
    assert_eq!(first.len(), 2, "{first:?}");
    assert!(first[0].0 >= 1 && first[0].0 < first[1].0, "{first:?}");
    assert_eq!(
        first
            .iter()
            .map(|e| (e.1.as_str(), e.2))
            .collect::<Vec<_>>(),
        [("a", 1), ("b", 1)]
    );
    accept(store, request("tx2", "members", &[("c", N3)], T0 + 1)).await;
    let next = page(first[1].0, 10).await;
    assert_eq!(next.len(), 1, "only the new one after the last: {next:?}");
    assert!(next[0].0 > first[1].0);
    assert_eq!(page(0, 1).await.len(), 1, "the limit");
    // Kept 30 days.
    assert!(ok(
        store
            .not_sent_events("acme", 0, 10, T0 + tx_rows::EVENT_RETENTION + 10)
            .await,
        "not sent"
    )
    .is_empty());
}

//! Lists, members, contacts and subscriptions.

use serde_json::json;

use store::*;

use crate::helpers::*;

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
                hidden: false,
                counts_rows: false,
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
                hidden: false,
                counts_rows: false,
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

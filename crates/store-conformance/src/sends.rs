//! Accepted sends: round trips, idempotency keys, listing, tenancy.

use store::*;

use crate::helpers::*;

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
                hidden: false,
                counts_rows: false,
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

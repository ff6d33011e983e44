//! `messageContact` sends and the history of a send (API.md §6).

use store::*;

use crate::helpers::*;

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
    options.subscribe = Some(store::ContactSubscribe {
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
    options.subscribe = Some(store::ContactSubscribe {
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
    unknown.subscribe = Some(store::ContactSubscribe {
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
            .record_mo(store::MoBatch {
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
            .record_mo(store::MoBatch {
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
        |direction: store::Direction, n: &str, text: &str, at: Millis| store::HistoryEntry {
            direction,
            mobile_number: n.to_string(),
            text: text.to_string(),
            at,
        };
    use store::Direction::{Mo, Mt};
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

/// A number whose text was over the limit (no text) becomes a recipient that failed with 1501,
/// described by [`codes::TEXT_TOO_LONG`], counted, tracked, never claimed, absent from the
/// history, and its text is never stored.
pub async fn contact_number_without_text_is_a_1501_recipient_never_sent(store: &dyn Store) {
    delivery_fixture(store).await;
    given_subscribed(store, &[D1, D2]).await;
    let too_long = |n: &str| store::ContactNumber {
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

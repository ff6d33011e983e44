//! Counts, gauges, tracking pages and the next hand-over of a send (API.md §5).

use store::*;

use crate::helpers::*;

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

//! Expansion of due sends into recipients (API.md §4 "What a send does").

use serde_json::json;
use store::*;

use crate::helpers::*;

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

/// A list that counts rows (an `importSend` with `IsDuplicationAllowed`, API.md §6b): each
/// import batch that holds a member again adds a copy; a send with duplication makes one
/// recipient per copy, in batches of any size; without duplication, one per number. A list
/// that does not count rows keeps one copy per member, however often a number is imported.
pub async fn a_list_that_counts_rows_gives_one_recipient_per_row_with_duplication(
    store: &dyn Store,
) {
    audience_fixture(store).await;
    for (id, counts_rows) in [("rows", true), ("plain", false)] {
        ok(
            store
                .create_list(NewList {
                    id: id.to_string(),
                    account_id: "acme".to_string(),
                    name: id.to_string(),
                    created_at: T0,
                    hidden: true,
                    counts_rows,
                })
                .await,
            "create list",
        );
        // The import's batches: a number is in a batch at most once.
        for batch in [&[D1, D2][..], &[D1], &[D1, D5], &[D2]] {
            let rows: Vec<ContactRow> = batch.iter().map(|n| row(n, None, json!({}))).collect();
            upsert(store, "acme", id, &rows, None, T0).await;
        }
        assert_eq!(
            list_of(store, "acme", id).await.size,
            3,
            "{id}: members, not rows"
        );
    }

    let tokens = [
        ("rowsdup0000000000000000000", &["rows"][..], true),
        ("rowsonce000000000000000000", &["rows"], false),
        ("plaindup000000000000000000", &["plain"], true),
        ("rowsanda000000000000000000", &["rows", "list-a"], true),
        ("rowssmall00000000000000000", &["rows"], true),
    ];
    for (token, targets, duplication) in tokens {
        given_send(store, list_send(token, targets, &[], duplication, T0)).await;
    }
    let now = T0 + 1000;
    let claimed = ok(
        store.claim_due_sends("worker-1", now, now + HOUR, 10).await,
        "claim the sends",
    );
    assert_eq!(claimed.len(), tokens.len());
    let mut expanded = Vec::new();
    for (token, _, _) in tokens {
        let batch = if token.starts_with("rowssmall") {
            1
        } else {
            1000
        };
        expanded.push(expand_to_end(store, token, "worker-1", batch, now).await.0);
    }
    let queued = |n| (n, codes::QUEUED, None);
    let rows_dup = tracked(&[queued(D1), queued(D1), queued(D1), queued(D2), queued(D2)]);
    let one_each = tracked(&[queued(D1), queued(D2)]);
    assert_eq!(
        expanded,
        [5, 2, 2, 8, 5].map(|recipients| Expansion::Done { recipients }),
        "D1 in three rows, D2 in two; D5 is not Subscribed"
    );
    let expected = [
        (rows_dup.clone(), 1),
        (one_each.clone(), 1),
        (one_each, 1),
        (
            // list-a adds its own D1, D2 and D3 (D5, D6, D7 are not Subscribed).
            tracked(&[
                queued(D1),
                queued(D1),
                queued(D1),
                queued(D1),
                queued(D2),
                queued(D2),
                queued(D2),
                queued(D3),
            ]),
            3,
        ),
        (rows_dup, 1),
    ];
    for ((token, _, _), (entries, suppressed)) in tokens.into_iter().zip(expected) {
        assert_eq!(tracking_of(store, token).await, entries, "{token}");
        assert_eq!(
            counts_of(store, token, now).await.suppressed,
            suppressed,
            "{token}: a number not Subscribed is suppressed once, not per row"
        );
    }
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

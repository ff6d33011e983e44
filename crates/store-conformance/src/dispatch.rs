//! The delivery queue: claims, hand-over, answers, recovery, receipts and cancellation (API.md §4, §5, §8).

use serde_json::json;

use store::*;

use crate::helpers::*;

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

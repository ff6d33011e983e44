//! Many workers at once, on one store or on several stores sharing one database.

use serde_json::json;

use store::*;

use crate::helpers::*;

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

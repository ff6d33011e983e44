//! Inbound texts, MO batches, replies, opt-outs of codes and lapsing requests (API.md §6, §8).

use serde_json::json;

use store::*;

use crate::helpers::*;

pub async fn inbound_texts_are_matched_to_the_code_routed_to_their_carrier(store: &dyn Store) {
    given_account(store, "acme").await;
    given_account(store, "other").await;
    given_code(store, "acme", "c1", "88976").await;
    let mut elsewhere = new_code("other", "c2", "77777");
    elsewhere.carrier = "acme-smpp".to_string();
    ok(store.create_code(elsewhere).await, "create code");
    let text = |carrier: &str, to: &str, body: &str| InboundText {
        carrier: carrier.to_string(),
        from: "15555555510".to_string(),
        to: to.to_string(),
        text: body.to_string(),
        received_at: T0,
    };
    let first = ok(
        store
            .record_inbound(text("simulator", "88976", "JOIN"))
            .await,
        "record inbound",
    );
    assert_eq!(first.account_id.as_deref(), Some("acme"));
    assert_eq!(first.code.as_deref(), Some("88976"));
    // The code exists, but is routed to another carrier: no match.
    let unmatched = ok(
        store
            .record_inbound(text("simulator", "77777", "STOP"))
            .await,
        "record inbound",
    );
    assert_eq!((unmatched.account_id, unmatched.code), (None, None));
    let third = ok(
        store
            .record_inbound(text("acme-smpp", "77777", "HELP"))
            .await,
        "record inbound",
    );
    assert_eq!(third.account_id.as_deref(), Some("other"));
    let all: Vec<InboundRecord> = ok(store.inbound_page(0, 10).await, "inbound page");
    assert_eq!(all.len(), 3);
    assert_eq!(all[0], first);
    assert!(all[0].seq < all[1].seq && all[1].seq < all[2].seq);
    assert_eq!(all[1].text.text, "STOP");
    let rest = ok(store.inbound_page(all[0].seq, 1).await, "inbound page");
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].seq, all[1].seq);
}

pub async fn codes_for_inbound_are_every_code_routed_to_the_carrier_oldest_first(
    store: &dyn Store,
) {
    given_account(store, "acme").await;
    given_account(store, "other").await;
    given_account(store, "third").await;
    given_code(store, "acme", "c1", "88976").await;
    let mut elsewhere = new_code("other", "c2", "77777");
    elsewhere.carrier = "acme-smpp".to_string();
    ok(store.create_code(elsewhere).await, "create code");
    let lookup = |carrier: &'static str, to: &'static str| async move {
        ok(store.codes_for_inbound(carrier, to).await, "lookup")
            .into_iter()
            .map(|c| (c.account_id, c.id))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        lookup("simulator", "88976").await,
        vec![("acme".to_string(), "c1".to_string())]
    );
    assert!(lookup("simulator", "77777").await.is_empty());
    assert_eq!(
        lookup("acme-smpp", "77777").await,
        vec![("other".to_string(), "c2".to_string())]
    );
    assert!(lookup("simulator", "1").await.is_empty());
    // A code several accounts hold on one carrier: every one, in the order they created it
    // (not by account ID); the same code on another carrier is not among them.
    given_code(store, "third", "c3", "88976").await;
    given_code(store, "other", "c4", "88976").await;
    let mut smpp = new_code("acme", "c5", "88977");
    smpp.carrier = "acme-smpp".to_string();
    ok(store.create_code(smpp).await, "create code");
    assert_eq!(
        lookup("simulator", "88976").await,
        vec![
            ("acme".to_string(), "c1".to_string()),
            ("third".to_string(), "c3".to_string()),
            ("other".to_string(), "c4".to_string()),
        ]
    );
}

pub async fn record_mo_records_texts_subscriptions_and_a_ready_send_of_replies(store: &dyn Store) {
    delivery_fixture(store).await;
    given_subscribed(store, &[D1]).await;
    let mut put = subscription(
        D1,
        "88976",
        "JOIN",
        SubscriptionStatus::Unsubscribed,
        Some(T0),
        Some(T0 + 1),
    );
    put.pending = None;
    let mut pending = subscription(
        D2,
        "88976",
        "DEALS",
        SubscriptionStatus::InProgress,
        None,
        None,
    );
    pending.pending = Some(store::PendingOptIn {
        since: T0 + 1,
        previous: Some(SubscriptionStatus::Unsubscribed),
    });
    ok(
        store
            .record_mo(store::MoBatch {
                account_id: "ACME".to_string(),
                code: "88976".to_string(),
                texts: vec![inbound(D1, "STOP", T0 + 1), inbound(D2, "deals", T0 + 1)],
                subscriptions: vec![
                    store::SubscriptionWrite::Put(put.clone()),
                    store::SubscriptionWrite::Put(pending.clone()),
                ],
                opt_outs: Vec::new(),
                reply_send: Some(reply_send(
                    "tok-r1",
                    &[(D1, "Bye"), (D2, "Reply Y"), (D2, "Second")],
                    T0 + 1,
                )),
            })
            .await,
        "record mo",
    );
    assert_eq!(subscriptions(store, "acme", D1).await, vec![put]);
    assert_eq!(subscriptions(store, "acme", D2).await, vec![pending]);
    let recorded = ok(store.inbound_page(0, 10).await, "inbound page");
    assert_eq!(recorded.len(), 2);
    assert_eq!(recorded[0].code.as_deref(), Some("88976"));
    assert_eq!(recorded[0].account_id.as_deref(), Some("acme"));
    assert_eq!(recorded[1].text.text, "deals");
    let send = state_of(store, "tok-r1").await;
    assert_eq!(
        (send.kind, send.state, send.count),
        (SendKind::Mo, SendState::Started, 3)
    );
    assert_eq!(send.message_id, "");
    assert_eq!(send.text, "STOP");
    let dispatchable = ok(
        store.dispatchable_sends(T0 + 1, 10, &[]).await,
        "dispatchable",
    );
    assert_eq!(dispatchable.len(), 1);
    assert_eq!(dispatchable[0].carrier, "simulator");

    // Removing, and a batch without replies: no send.
    ok(
        store
            .record_mo(store::MoBatch {
                account_id: "acme".to_string(),
                code: "88976".to_string(),
                texts: vec![inbound(D2, "hello", T0 + 2)],
                subscriptions: vec![store::SubscriptionWrite::Remove {
                    mobile_number: D2.to_string(),
                    keyword: "deals".to_string(),
                }],
                opt_outs: Vec::new(),
                reply_send: None,
            })
            .await,
        "record mo",
    );
    assert_eq!(subscriptions(store, "acme", D2).await, vec![]);
    // A send with no replies is recorded Finished.
    ok(
        store
            .record_mo(store::MoBatch {
                account_id: "acme".to_string(),
                code: "88976".to_string(),
                texts: vec![inbound(D3, "hello", T0 + 3)],
                subscriptions: Vec::new(),
                opt_outs: Vec::new(),
                reply_send: Some(reply_send("tok-r2", &[], T0 + 3)),
            })
            .await,
        "record mo",
    );
    let empty = state_of(store, "tok-r2").await;
    assert_eq!(
        (empty.state, empty.count, empty.completed_at),
        (SendState::Finished, 0, Some(T0 + 3))
    );
    // Unknown code or keyword: nothing written.
    assert_not_found(
        store
            .record_mo(store::MoBatch {
                account_id: "acme".to_string(),
                code: "55555".to_string(),
                texts: vec![inbound(D4, "x", T0)],
                subscriptions: Vec::new(),
                opt_outs: Vec::new(),
                reply_send: None,
            })
            .await,
        "unknown code",
    );
    assert_not_found(
        store
            .record_mo(store::MoBatch {
                account_id: "acme".to_string(),
                code: "88976".to_string(),
                texts: vec![inbound(D4, "x", T0)],
                subscriptions: vec![store::SubscriptionWrite::Put(subscription(
                    D4,
                    "88976",
                    "NOPE",
                    SubscriptionStatus::Subscribed,
                    Some(T0),
                    None,
                ))],
                opt_outs: Vec::new(),
                reply_send: Some(reply_send("tok-r3", &[(D4, "x")], T0)),
            })
            .await,
        "unknown keyword",
    );
    assert_eq!(ok(store.inbound_page(0, 10).await, "inbound").len(), 4);
    assert_not_found(store.get_send("acme", "tok-r3").await, "no send");
}

pub async fn replies_are_claimed_without_a_subscription_and_carry_their_text(store: &dyn Store) {
    delivery_fixture(store).await;
    given_status(
        store,
        "88976",
        "JOIN",
        &[D1],
        SubscriptionStatus::Unsubscribed,
    )
    .await;
    ok(
        store
            .record_mo(store::MoBatch {
                account_id: "acme".to_string(),
                code: "88976".to_string(),
                texts: vec![inbound(D1, "STOP", T0)],
                subscriptions: Vec::new(),
                opt_outs: Vec::new(),
                reply_send: Some(reply_send("tok-r1", &[(D1, "Bye"), (D2, "Help")], T0)),
            })
            .await,
        "record mo",
    );
    let claimed = claim(store, "tok-r1", T0, 10).await;
    assert_eq!(
        numbers_of(&claimed),
        vec![D1, D2],
        "opted out or never subscribed: still replied to"
    );
    assert_eq!(claimed[0].text.as_deref(), Some("Bye"));
    let results: Vec<SubmissionResult> = claimed
        .iter()
        .map(|r| accepted_by_carrier(r, &format!("m-{}", r.id)))
        .collect();
    ok(
        store.record_submissions("worker-1", &results, T0 + 5).await,
        "record",
    );
    assert!(ok(store.finish_if_done("tok-r1", T0 + 5).await, "finish"));
    let page = ok(store.tracking_page("tok-r1", 1, 10).await, "tracking");
    assert_eq!(
        page.iter().map(|r| r.text.clone()).collect::<Vec<_>>(),
        vec![Some("Bye".to_string()), Some("Help".to_string())]
    );
}

pub async fn lapse_pending_reverts_or_removes_requests_older_than_the_cutoff(store: &dyn Store) {
    delivery_fixture(store).await;
    let request = |n: &str, keyword: &str, since: Millis, previous: Option<SubscriptionStatus>| {
        let mut s = subscription(
            n,
            "88976",
            keyword,
            SubscriptionStatus::InProgress,
            Some(T0 - DAY),
            Some(T0 - HOUR),
        );
        s.pending = Some(store::PendingOptIn { since, previous });
        store::SubscriptionWrite::Put(s)
    };
    ok(
        store
            .record_mo(store::MoBatch {
                account_id: "acme".to_string(),
                code: "88976".to_string(),
                texts: Vec::new(),
                subscriptions: vec![
                    request(D1, "JOIN", T0, None),
                    request(D2, "JOIN", T0, Some(SubscriptionStatus::Unsubscribed)),
                    request(D3, "JOIN", T0 + HOUR, None),
                ],
                opt_outs: Vec::new(),
                reply_send: None,
            })
            .await,
        "record requests",
    );
    assert_eq!(ok(store.lapse_pending(T0 - 1).await, "nothing yet"), 0);
    assert_eq!(ok(store.lapse_pending(T0).await, "lapse"), 2);
    assert_eq!(subscriptions(store, "acme", D1).await, vec![]);
    assert_eq!(
        subscriptions(store, "acme", D2).await,
        vec![subscription(
            D2,
            "88976",
            "JOIN",
            SubscriptionStatus::Unsubscribed,
            Some(T0 - DAY),
            Some(T0 - HOUR)
        )]
    );
    assert_eq!(
        subscriptions(store, "acme", D3).await[0].status,
        SubscriptionStatus::InProgress
    );
    // An operator's status drops the request.
    subscribe(
        store,
        "acme",
        &to("88976", "JOIN"),
        D3,
        SubscriptionStatus::Subscribed,
        T0,
    )
    .await;
    assert_eq!(subscriptions(store, "acme", D3).await[0].pending, None);
    assert_eq!(ok(store.lapse_pending(T0 + DAY).await, "nothing left"), 0);
}

pub async fn record_mo_batches_records_every_account_or_none(store: &dyn Store) {
    delivery_fixture(store).await;
    given_account(store, "beta").await;
    given_code(store, "beta", "beta-code", "88976").await;
    given_keyword(store, "beta", "beta-join", "88976", "JOIN").await;
    given_subscribed(store, &[D1]).await;
    ok(
        store
            .set_subscription(
                "beta",
                &to("88976", "JOIN"),
                D1,
                SubscriptionStatus::Subscribed,
                T0,
            )
            .await,
        "subscribe in beta",
    );
    let mut stopped = subscription(
        D1,
        "88976",
        "JOIN",
        SubscriptionStatus::Unsubscribed,
        Some(T0),
        Some(T0 + 1),
    );
    stopped.opt_out_by_text = true;
    let stop = |account: &str| {
        let mut batch = mo_batch(account, vec![inbound(D1, "STOP", T0 + 1)]);
        batch.subscriptions = vec![store::SubscriptionWrite::Put(stopped.clone())];
        batch.opt_outs = vec![opt_out_of_code(D1, T0 + 1)];
        batch
    };
    // One batch names a keyword beta does not have: nothing is written in either account.
    let mut broken = stop("beta");
    broken
        .subscriptions
        .push(store::SubscriptionWrite::Put(subscription(
            D1,
            "88976",
            "DEALS",
            SubscriptionStatus::Unsubscribed,
            None,
            Some(T0 + 1),
        )));
    let mut confirmed = stop("acme");
    confirmed.reply_send = Some(reply_send("tok-stop", &[(D1, "Bye")], T0 + 1));
    assert_not_found(
        store
            .record_mo_batches(vec![confirmed.clone(), broken])
            .await,
        "a keyword not on beta's code",
    );
    assert!(ok(store.inbound_page(0, 10).await, "inbound").is_empty());
    for account in ["acme", "beta"] {
        assert_eq!(
            subscriptions(store, account, D1).await[0].status,
            SubscriptionStatus::Subscribed,
            "{account}"
        );
        assert!(ok(
            store
                .opt_outs_on_code(account, "88976", &[D1.to_string()])
                .await,
            "opt-outs"
        )
        .is_empty());
    }
    assert_not_found(store.get_send("acme", "tok-stop").await, "no reply send");

    // Both together: each account records the text, the opt-out and its subscriptions; only
    // the batch with the reply send has one.
    ok(
        store.record_mo_batches(vec![confirmed, stop("beta")]).await,
        "record both",
    );
    let recorded = ok(store.inbound_page(0, 10).await, "inbound");
    let owners: Vec<Option<String>> = recorded.iter().map(|r| r.account_id.clone()).collect();
    assert_eq!(
        owners,
        vec![Some("acme".to_string()), Some("beta".to_string())]
    );
    assert!(recorded.iter().all(|r| r.text.text == "STOP"));
    for account in ["acme", "beta"] {
        assert_eq!(
            subscriptions(store, account, D1).await,
            vec![stopped.clone()]
        );
        assert_eq!(
            ok(
                store
                    .opt_outs_on_code(account, "88976", &[D1.to_string(), D2.to_string()])
                    .await,
                "opt-outs"
            ),
            vec![store::CodeOptOut {
                mobile_number: D1.to_string(),
                opted_out_at: T0 + 1
            }]
        );
    }
    assert_eq!(state_of(store, "tok-stop").await.count, 1);
    assert_eq!(
        ok(
            store.list_sends("beta", SendQuery::default()).await,
            "beta's sends"
        )
        .len(),
        0
    );
    // Another number, another code, an unknown code: no opt-outs.
    assert!(ok(
        store
            .opt_outs_on_code("acme", "12345", &[D1.to_string()])
            .await,
        "other code"
    )
    .is_empty());
    assert!(ok(
        store
            .opt_outs_on_code("acme", "55555", &[D1.to_string()])
            .await,
        "unknown code"
    )
    .is_empty());
    assert!(ok(store.opt_outs_on_code("acme", "88976", &[]).await, "none").is_empty());
    assert_not_found(
        store
            .opt_outs_on_code("nobody", "88976", &[D1.to_string()])
            .await,
        "unknown account",
    );
    // An empty call records nothing and succeeds.
    ok(store.record_mo_batches(Vec::new()).await, "nothing");
}

pub async fn an_opt_out_of_a_code_keeps_imports_and_subscribe_from_every_keyword_of_it(
    store: &dyn Store,
) {
    delivery_fixture(store).await;
    given_account(store, "beta").await;
    given_code(store, "beta", "beta-code", "88976").await;
    given_keyword(store, "beta", "beta-join", "88976", "JOIN").await;
    let mut batch = mo_batch("acme", vec![inbound(D1, "STOP", T0)]);
    batch.opt_outs = vec![opt_out_of_code(D1, T0), opt_out_of_code(D3, T0)];
    ok(store.record_mo(batch).await, "opt out");
    // An import subscribing to JOIN, or to a keyword created after the STOP, leaves D1 out.
    given_keyword(store, "acme", "kw-later", "88976", "LATER").await;
    given_list(store, "acme", "L1").await;
    let rows = [row(D1, None, json!({})), row(D2, None, json!({}))];
    for keyword in ["JOIN", "later"] {
        upsert(
            store,
            "acme",
            "L1",
            &rows,
            Some(&to("88976", keyword)),
            T0 + 1,
        )
        .await;
    }
    assert_eq!(subscriptions(store, "acme", D1).await, vec![]);
    assert_eq!(subscriptions(store, "acme", D2).await.len(), 2);
    // The same code in another account is another opt-out: beta's import subscribes D1.
    given_list(store, "beta", "L1").await;
    upsert(
        store,
        "beta",
        "L1",
        &rows,
        Some(&to("88976", "JOIN")),
        T0 + 1,
    )
    .await;
    assert_eq!(subscriptions(store, "beta", D1).await.len(), 1);
    // messageContact's Subscribe leaves it out too; with Resubscribe the operator's explicit
    // re-subscription wins.
    let mut options = audience(vec![number(D3, None, "a")]);
    options.subscribe = Some(store::ContactSubscribe {
        keyword: "JOIN".to_string(),
        subscribe: true,
        resubscribe: false,
    });
    created(
        store
            .create_contact_send(contact_send("tok-s1", T0 + 2), options.clone())
            .await,
        "subscribe",
    );
    assert_eq!(subscriptions(store, "acme", D3).await, vec![]);
    options.subscribe = Some(store::ContactSubscribe {
        keyword: "JOIN".to_string(),
        subscribe: true,
        resubscribe: true,
    });
    created(
        store
            .create_contact_send(contact_send("tok-s2", T0 + 3), options)
            .await,
        "resubscribe",
    );
    assert_eq!(
        subscriptions(store, "acme", D3).await[0].status,
        SubscriptionStatus::Subscribed
    );
    // START ends the opt-out (and a second Set keeps the first date): imports subscribe again.
    let mut again = mo_batch("acme", vec![inbound(D1, "STOP", T0 + 4)]);
    again.opt_outs = vec![opt_out_of_code(D1, T0 + 4)];
    ok(store.record_mo(again).await, "stop again");
    assert_eq!(
        ok(
            store
                .opt_outs_on_code("acme", "88976", &[D1.to_string()])
                .await,
            "opt-outs"
        )[0]
        .opted_out_at,
        T0
    );
    let mut start = mo_batch("acme", vec![inbound(D1, "START", T0 + 5)]);
    start.opt_outs = vec![store::OptOutWrite::Clear {
        mobile_number: D1.to_string(),
    }];
    ok(store.record_mo(start).await, "start");
    upsert(
        store,
        "acme",
        "L1",
        &rows,
        Some(&to("88976", "JOIN")),
        T0 + 6,
    )
    .await;
    assert_eq!(subscriptions(store, "acme", D1).await.len(), 1);
    // The opt-out goes with its code.
    ok(store.delete_code("acme", "88976").await, "delete code");
    assert!(ok(
        store
            .opt_outs_on_code("acme", "88976", &[D3.to_string()])
            .await,
        "deleted code"
    )
    .is_empty());
}

pub async fn a_subscription_remembers_whether_its_last_opt_out_came_by_text(store: &dyn Store) {
    delivery_fixture(store).await;
    given_subscribed(store, &[D1, D2]).await;
    let stopped = |number: &str| {
        let mut s = subscription(
            number,
            "88976",
            "JOIN",
            SubscriptionStatus::Unsubscribed,
            Some(T0),
            Some(T0 + 1),
        );
        s.opt_out_by_text = true;
        s
    };
    let mut batch = mo_batch("acme", vec![inbound(D1, "STOP", T0 + 1)]);
    batch.subscriptions = vec![
        store::SubscriptionWrite::Put(stopped(D1)),
        store::SubscriptionWrite::Put(stopped(D2)),
    ];
    ok(store.record_mo(batch).await, "stop");
    assert_eq!(subscriptions(store, "acme", D1).await, vec![stopped(D1)]);
    let on_code = ok(
        store
            .subscriptions_on_code("acme", "88976", &[D1.to_string(), D2.to_string()])
            .await,
        "on code",
    );
    assert!(on_code.iter().all(|s| s.opt_out_by_text), "{on_code:?}");
    // An operator's opt-out is the operator's, even of a number already opted out by text; an
    // operator's other changes leave the mark alone.
    let by_operator = subscribe(
        store,
        "acme",
        &to("88976", "JOIN"),
        D1,
        SubscriptionStatus::Unsubscribed,
        T0 + 2,
    )
    .await;
    assert!(!by_operator.opt_out_by_text);
    assert_eq!(by_operator.opt_out_date, Some(T0 + 1));
    assert!(!subscriptions(store, "acme", D1).await[0].opt_out_by_text);
    let resubscribed = subscribe(
        store,
        "acme",
        &to("88976", "JOIN"),
        D2,
        SubscriptionStatus::Subscribed,
        T0 + 2,
    )
    .await;
    assert!(resubscribed.opt_out_by_text);
}

pub async fn texts_repeated_in_a_batch_are_stored_once_and_read_back_everywhere(store: &dyn Store) {
    delivery_fixture(store).await;
    let long = "é".repeat(1600);
    let numbers = [D1, D2, D3, D4];
    let mut batch = mo_batch(
        "acme",
        numbers.iter().map(|n| inbound(n, &long, T0)).collect(),
    );
    let mut replies: Vec<(&str, &str)> = numbers.iter().map(|n| (*n, "Help!")).collect();
    replies.push((D1, "only once"));
    let mut send = reply_send("tok-mo", &replies, T0);
    send.text = long.clone();
    batch.reply_send = Some(send);
    ok(store.record_mo(batch).await, "record");
    // Two texts are repeated (the inbound text and "Help!"): stored once each.
    assert_eq!(exported_rows(store, "batch_texts").await, 2);
    let recorded = ok(store.inbound_page(0, 10).await, "inbound");
    assert_eq!(recorded.len(), 4);
    assert!(recorded.iter().all(|r| r.text.text == long));
    // History: the four texts (MO) and the five replies (MT), with their texts.
    let history = ok(store.history("acme", "tok-mo", None).await, "history");
    let mo: Vec<&str> = history
        .iter()
        .filter(|e| e.direction == store::Direction::Mo)
        .map(|e| e.text.as_str())
        .collect();
    assert_eq!(mo, vec![long.as_str(); 4]);
    let mut mt: Vec<&str> = history
        .iter()
        .filter(|e| e.direction == store::Direction::Mt)
        .map(|e| e.text.as_str())
        .collect();
    mt.sort_unstable();
    assert_eq!(mt, vec!["Help!", "Help!", "Help!", "Help!", "only once"]);
    let d1 = ok(store.history("acme", "tok-mo", Some(D1)).await, "D1");
    assert_eq!(d1.len(), 3, "{d1:?}");
    // Tracking (queueMO deliveries' `message`) and the hand-over carry each reply's text.
    let tracking = ok(store.tracking_page("tok-mo", 1, 10).await, "tracking");
    let texts: Vec<(String, Option<String>)> = tracking
        .iter()
        .map(|t| (t.mobile_number.clone(), t.text.clone()))
        .collect();
    assert_eq!(
        texts,
        vec![
            (D1.to_string(), Some("Help!".to_string())),
            (D1.to_string(), Some("only once".to_string())),
            (D2.to_string(), Some("Help!".to_string())),
            (D3.to_string(), Some("Help!".to_string())),
            (D4.to_string(), Some("Help!".to_string())),
        ]
    );
    let claimed = ok(
        store
            .claim_recipients("tok-mo", "worker", T0, T0 + HOUR, 10)
            .await,
        "claim",
    );
    let mut claimed: Vec<(String, Option<String>)> = claimed
        .into_iter()
        .map(|c| (c.mobile_number, c.text))
        .collect();
    claimed.sort();
    assert_eq!(claimed, texts);
    // A contact send's history of a number shows its inbound texts and replies on the code.
    created(
        store
            .create_contact_send(
                contact_send("tok-c", T0 - 1),
                audience(vec![number(D2, None, "hi")]),
            )
            .await,
        "contact send",
    );
    let d2 = ok(store.history("acme", "tok-c", Some(D2)).await, "D2");
    let d2: Vec<(store::Direction, &str)> =
        d2.iter().map(|e| (e.direction, e.text.as_str())).collect();
    assert!(
        d2.contains(&(store::Direction::Mo, long.as_str())),
        "{d2:?}"
    );
    assert!(d2.contains(&(store::Direction::Mt, "Help!")), "{d2:?}");
}

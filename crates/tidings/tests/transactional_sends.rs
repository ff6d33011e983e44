//! Transactional sends over HTTP (API.md §9 "Sends", "What a send does", "Status route"): the
//! reference's one- and many-recipient examples answered in their documented shapes and
//! delivered through the engine and the simulator; per-recipient refusals; `messageKey`
//! uniqueness; the subscription rules (autoAddSubscriber, resubscribe, opted-out numbers NotSent
//! 1); Inactive definitions holding their messages; delete turning queued messages NotSent 37.

mod common;

use common::{fixture, outbox, run_engine, spawn_app, Fixture, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

const DEFS: &str = "/messaging/v1/sms/definitions";
const MESSAGES: &str = "/messaging/v1/sms/messages";

async fn call(
    app: &TestApp,
    f: &Fixture,
    method: Method,
    path: &str,
    body: Value,
) -> common::Reply {
    app.sms(method, path, &f.token, &body).await
}

async fn definition(app: &TestApp, f: &Fixture, key: &str, extra: Value) {
    let mut body = json!({"definitionKey": key, "name": key,
        "content": {"message": "%%FirstName%%, your 2FA token is %%password%%"},
        "subscriptions": {"shortCode": "88976", "countryCode": "US", "keyword": "JOIN"}});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            body.insert(k.clone(), v.clone());
        }
    }
    let r = call(app, f, Method::POST, DEFS, body).await;
    assert_eq!(r.status, 201, "{}", r.body);
}

async fn status(app: &TestApp, f: &Fixture, key: &str) -> Value {
    let r = call(
        app,
        f,
        Method::GET,
        &format!("{MESSAGES}/{key}"),
        Value::Null,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

/// What the simulator sent to `number`: its texts.
async fn texts_to(app: &TestApp, number: &str) -> Vec<String> {
    outbox(app)
        .await
        .into_iter()
        .filter(|m| m["to"] == number)
        .map(|m| m["text"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn the_one_recipient_example_is_queued_sent_and_reported() {
    let app = spawn_app().await;
    let f = fixture(&app, "Acme").await;
    definition(&app, &f, "account-reset", json!({})).await;
    let key = "f4fe74b7-c3c0-4e5a-9f49-b63a641109a2";
    let r = call(
        &app,
        &f,
        Method::POST,
        &format!("{MESSAGES}/{key}"),
        json!({"definitionKey": "account-reset",
               "recipient": {"to": "15555551234", "contactKey": "Astro25",
                             "attributes": {"FirstName": "Astro", "password": "1234567890ab"}},
               "subscriptions": {"resubscribe": true}}),
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(r.body["errorcode"], 0);
    assert_eq!(r.body["responses"], json!([{"messageKey": key}]));
    assert!(r.body["requestId"].is_string());
    assert!(r.body.get("message").is_none(), "{}", r.body);

    let queued = status(&app, &f, key).await;
    assert_eq!(
        queued["eventCategoryType"],
        "TransactionalSendEvents.SMSQueued"
    );
    assert_eq!(
        queued["info"],
        json!({"messageKey": key, "contactKey": "Astro25", "to": "15555551234"})
    );
    assert!(queued.get("compositeId").is_none());

    run_engine(&app).await;
    assert_eq!(
        texts_to(&app, "15555551234").await,
        ["Astro, your 2FA token is 1234567890ab"]
    );
    let sent = status(&app, &f, &key.to_uppercase()).await;
    assert_eq!(sent["eventCategoryType"], "TransactionalSendEvents.SMSSent");
    assert!(sent["compositeId"].as_str().is_some_and(|c| !c.is_empty()));
    assert_eq!(sent["info"]["contactKey"], "Astro25");
    assert_eq!(
        sent["timestamp"].as_str().map(str::len),
        Some("2018-08-03T13:41:18.550".len())
    );

    // The number was subscribed to the keyword (autoAddSubscriber) under its contact key.
    let subs = call(
        &app,
        &f,
        Method::POST,
        "/sms/v1/contacts/subscriptions",
        json!({"subscriberKey": ["Astro25"]}),
    )
    .await;
    assert!(
        subs.body.to_string().contains("15555551234"),
        "{}",
        subs.body
    );

    // The key is taken (any case) for 72 hours: a 400 with 109110 on this route.
    let again = call(
        &app,
        &f,
        Method::POST,
        &format!("{MESSAGES}/{}", key.to_uppercase()),
        json!({"definitionKey": "account-reset",
               "recipient": {"to": "15555551235", "contactKey": "Other"}}),
    )
    .await;
    assert_eq!(again.status, 400, "{}", again.body);
    assert_eq!(again.body["errorcode"], 109110);
    // Unknown key: 404 30003.
    let r = call(
        &app,
        &f,
        Method::GET,
        &format!("{MESSAGES}/nope"),
        Value::Null,
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.body["errorcode"].clone()),
        (404, json!(30003))
    );
}

#[tokio::test]
async fn many_recipients_answer_each_in_order_with_mixed_responses() {
    let app = spawn_app().await;
    let f = fixture(&app, "Acme").await;
    definition(&app, &f, "account-reset", json!({})).await;
    let r = call(
        &app,
        &f,
        Method::POST,
        &format!("{MESSAGES}/"),
        json!({"definitionKey": "account-reset",
               "recipients": [
                   {"contactKey": "NoNumber"},
                   {"to": "15555551240", "contactKey": "Ann", "messageKey": "k-1",
                    "attributes": {"FirstName": "Ann"}},
                   {"to": "15555551241", "contactKey": "Bo"},
                   {"to": "12", "contactKey": "Short"},
                   {"to": "15555551242"},
                   {"to": "15555551243", "contactKey": "Dup", "messageKey": "K-1"},
                   {"to": "15555551244", "contactKey": "BadKey", "messageKey": "a b"}
               ],
               "attributes": {"FirstName": "Friend", "password": "p"}}),
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(r.body["errorcode"], 109001);
    assert_eq!(
        r.body["message"],
        "MCMS_UTM_ResponsesHasErrors: 5 subscribers failed to queue out of 7"
    );
    let responses = r.body["responses"].as_array().expect("responses");
    let codes: Vec<Value> = responses.iter().map(|e| e["errorcode"].clone()).collect();
    assert_eq!(
        codes,
        [
            json!(109106),
            Value::Null,
            Value::Null,
            json!(109121),
            json!(109105),
            json!(109110),
            json!(109108)
        ]
    );
    assert_eq!(
        responses[0]["message"],
        "MCMS_UTM_Validation_MissingRequiredField_to: Invalid subscriber"
    );
    assert_eq!(responses[1], json!({"messageKey": "k-1"}));
    let minted = responses[2]["messageKey"].as_str().expect("minted key");
    assert!(
        minted.len() == 26
            && minted
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    );
    assert!(
        responses[0]["messageKey"].is_string(),
        "a refused recipient has a key too"
    );

    run_engine(&app).await;
    assert_eq!(
        texts_to(&app, "15555551240").await,
        ["Ann, your 2FA token is p"],
        "own attributes win"
    );
    assert_eq!(
        texts_to(&app, "15555551241").await,
        ["Friend, your 2FA token is p"]
    );
    for n in ["15555551243", "15555551244"] {
        assert!(texts_to(&app, n).await.is_empty(), "{n} was refused");
    }
    assert_eq!(
        status(&app, &f, minted).await["eventCategoryType"],
        "TransactionalSendEvents.SMSSent"
    );

    // Request-level refusals.
    let cases = [
        (
            json!({"definitionKey": "account-reset", "recipients": []}),
            109102,
        ),
        (json!({"definitionKey": "account-reset"}), 109102),
        (
            json!({"definitionKey": "nope", "recipients": [{"to": "15555551250", "contactKey": "x"}]}),
            109111,
        ),
        (
            json!({"recipients": [{"to": "15555551250", "contactKey": "x"}]}),
            109107,
        ),
        (
            json!({"definitionKey": "account-reset", "recipient": {"to": "15555551250", "contactKey": "x"},
                "recipients": [{"to": "15555551250", "contactKey": "x"}]}),
            10005,
        ),
        (
            json!({"definitionKey": "account-reset",
                "recipients": (0..251).map(|i| json!({"to": format!("1555555{i:04}"), "contactKey": "k"})).collect::<Vec<_>>()}),
            109101,
        ),
        (
            json!({"definitionKey": "account-reset", "recipients": "x"}),
            10001,
        ),
        (
            json!({"definitionKey": "account-reset", "recipients": [{"to": "15555551250", "contactKey": "x"}],
                "subscriptions": {"resubscribe": "perhaps"}}),
            109114,
        ),
    ];
    for (body, code) in cases {
        let r = call(&app, &f, Method::POST, MESSAGES, body.clone()).await;
        assert_eq!(
            (r.status.as_u16(), r.body["errorcode"].clone()),
            (400, json!(code)),
            "{body}: {}",
            r.body
        );
    }
}

#[tokio::test]
async fn subscription_rules_decide_who_is_texted() {
    let app = spawn_app().await;
    let f = fixture(&app, "Acme").await;
    definition(&app, &f, "alerts", json!({})).await;
    definition(
        &app,
        &f,
        "members-only",
        json!({"subscriptions": {"shortCode": "88976", "keyword": "JOIN", "autoAddSubscriber": false}}),
    )
    .await;
    // 15555551260 texts STOP to the code: opted out.
    let r = call(
        &app,
        &f,
        Method::POST,
        "/sms/v1/queueMO",
        json!({"mobileNumbers": ["15555551260"], "shortCode": "88976", "messageText": "STOP"}),
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.body);
    run_engine(&app).await;
    let send = |key: &str, def: &str, to: &str, resubscribe: bool| {
        json!({"definitionKey": def, "recipient": {"to": to, "contactKey": key},
               "subscriptions": {"resubscribe": resubscribe},
               "content": {"message": format!("Alert for {key}")}})
    };
    for (key, def, to, resubscribe) in [
        ("opted-out", "alerts", "15555551260", false),
        ("unknown-member", "members-only", "15555551261", false),
    ] {
        let r = call(
            &app,
            &f,
            Method::POST,
            &format!("{MESSAGES}/{key}"),
            send(key, def, to, resubscribe),
        )
        .await;
        assert_eq!(r.status, 202, "accepted, then NotSent: {}", r.body);
    }
    run_engine(&app).await;
    for key in ["opted-out", "unknown-member"] {
        let s = status(&app, &f, key).await;
        assert_eq!(
            s["eventCategoryType"], "TransactionalSendEvents.SMSNotSent",
            "{key}: {s}"
        );
        assert_eq!(
            (
                s["info"]["statusCode"].clone(),
                s["info"]["statusMessage"].clone()
            ),
            (json!(1), json!("Unsubscribed")),
            "{key}"
        );
    }
    assert!(texts_to(&app, "15555551260")
        .await
        .iter()
        .all(|t| !t.starts_with("Alert")));
    assert!(texts_to(&app, "15555551261").await.is_empty());

    // resubscribe: the opted-out number is subscribed again and texted.
    let r = call(
        &app,
        &f,
        Method::POST,
        &format!("{MESSAGES}/again"),
        send("again", "alerts", "15555551260", true),
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.body);
    run_engine(&app).await;
    assert_eq!(
        status(&app, &f, "again").await["eventCategoryType"],
        "TransactionalSendEvents.SMSSent"
    );
    assert!(texts_to(&app, "15555551260")
        .await
        .contains(&"Alert for again".to_string()));
}

async fn send_held(app: &TestApp, f: &Fixture, def: &str, key: &str, to: &str) {
    let body = json!({"definitionKey": def,
        "recipient": {"to": to, "contactKey": key, "attributes": {"FirstName": key, "password": "x"}}});
    let r = call(app, f, Method::POST, &format!("{MESSAGES}/{key}"), body).await;
    assert_eq!(r.status, 202, "{}", r.body);
}

/// A definition's queue: (count, ageSeconds).
async fn queue(app: &TestApp, f: &Fixture, def: &str) -> (i64, i64) {
    let r = call(
        app,
        f,
        Method::GET,
        &format!("{DEFS}/{def}/queue"),
        Value::Null,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body["requestId"].is_string());
    (
        r.body["count"].as_i64().unwrap_or(-1),
        r.body["ageSeconds"].as_i64().unwrap_or(-1),
    )
}

/// A message's status: (event without its prefix, info.statusCode, info.statusMessage).
async fn event(app: &TestApp, f: &Fixture, key: &str) -> (String, Value, Value) {
    let s = status(app, f, key).await;
    (
        s["eventCategoryType"]
            .as_str()
            .unwrap_or_default()
            .trim_start_matches("TransactionalSendEvents.")
            .to_string(),
        s["info"]["statusCode"].clone(),
        s["info"]["statusMessage"].clone(),
    )
}

/// Inactive definitions hold their messages (SMSQueued) until Active again; the queue's metrics;
/// emptying it (only when Inactive) makes its messages NotSent 39; held past 72 hours, NotSent
/// 138; deleting a definition makes what still waits NotSent 37.
#[tokio::test]
async fn inactive_definitions_hold_their_queue() {
    let app = spawn_app().await;
    let mut f = fixture(&app, "Acme").await;
    definition(&app, &f, "held", json!({"status": "inactive"})).await;
    definition(&app, &f, "open", json!({})).await;

    assert_eq!(queue(&app, &f, "held").await, (0, 0), "empty");
    send_held(&app, &f, "held", "h1", "15555551270").await;
    send_held(&app, &f, "held", "h2", "15555551271").await;
    run_engine(&app).await;
    assert!(texts_to(&app, "15555551270").await.is_empty(), "held");
    assert_eq!(event(&app, &f, "h1").await.0, "SMSQueued");
    app.clock.advance(45_000);
    assert_eq!(queue(&app, &f, "held").await, (2, 45));

    // Only an Inactive definition's queue can be emptied: the documented 400.
    let r = call(
        &app,
        &f,
        Method::DELETE,
        &format!("{DEFS}/open/queue"),
        Value::Null,
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(
        r.body,
        json!({"message": "MCMS_UTM_Runtime_InvalidOperation: Definition status must be inactive to delete queue",
               "errorcode": 30001, "documentation": ""})
    );
    let r = call(
        &app,
        &f,
        Method::GET,
        &format!("{DEFS}/missing/queue"),
        Value::Null,
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.body["errorcode"].clone()),
        (404, json!(30003))
    );

    // Active again: the held messages go out.
    let r = call(
        &app,
        &f,
        Method::PATCH,
        &format!("{DEFS}/held"),
        json!({"status": "Active"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    run_engine(&app).await;
    assert_eq!(
        texts_to(&app, "15555551270").await,
        ["h1, your 2FA token is x"]
    );
    assert_eq!(event(&app, &f, "h2").await.0, "SMSSent");
    assert_eq!(queue(&app, &f, "held").await, (0, 0));

    // Inactive, a message waits, the queue is emptied: NotSent 39.
    let r = call(
        &app,
        &f,
        Method::PATCH,
        &format!("{DEFS}/held"),
        json!({"status": "inactive"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    send_held(&app, &f, "held", "h3", "15555551272").await;
    let r = call(
        &app,
        &f,
        Method::DELETE,
        &format!("{DEFS}/held/queue"),
        Value::Null,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["message"], "Queued");
    assert_eq!(
        event(&app, &f, "h3").await,
        (
            "SMSNotSent".into(),
            json!(39),
            json!("SubscriberQueueCleared")
        )
    );
    assert_eq!(queue(&app, &f, "held").await, (0, 0));

    // Held for more than 72 hours: NotSent 138 (the engine's housekeeping).
    send_held(&app, &f, "held", "h4", "15555551273").await;
    app.clock.advance(72 * 3_600_000 + 1_000);
    run_engine(&app).await;
    f.token = app.token(&f.client_id, &f.secret).await;
    assert_eq!(
        event(&app, &f, "h4").await,
        (
            "SMSNotSent".into(),
            json!(138),
            json!("ExceededExpirationPolicy")
        )
    );

    // Deleted while a message waits: NotSent 37; it is never sent.
    send_held(&app, &f, "held", "h5", "15555551274").await;
    let r = call(
        &app,
        &f,
        Method::DELETE,
        &format!("{DEFS}/held"),
        Value::Null,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        event(&app, &f, "h5").await,
        (
            "SMSNotSent".into(),
            json!(37),
            json!("QueuedTransactionDeleted")
        )
    );
    run_engine(&app).await;
    for n in ["15555551272", "15555551273", "15555551274"] {
        assert!(texts_to(&app, n).await.is_empty(), "{n} never sent");
    }
}

/// The notSent listing (API.md §9): every NotSent event once, oldest first, paged with
/// `lastEventId`; `lastEventID` the last returned, or the request's when the page is empty.
#[tokio::test]
async fn not_sent_lists_each_refusal_once_in_event_order() {
    let app = spawn_app().await;
    let f = fixture(&app, "Acme").await;
    definition(&app, &f, "alerts", json!({})).await;
    definition(&app, &f, "paused", json!({"status": "inactive"})).await;
    let r = call(
        &app,
        &f,
        Method::POST,
        "/sms/v1/queueMO",
        json!({"mobileNumbers": ["15555551280"], "shortCode": "88976", "messageText": "STOP"}),
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.body);
    run_engine(&app).await;

    send_held(&app, &f, "alerts", "opted-out", "15555551280").await; // NotSent 1
    send_held(&app, &f, "alerts", "delivered", "15555551281").await; // never listed
    send_held(&app, &f, "alerts", "refused", "15555550001").await; // the carrier's 2500
    send_held(&app, &f, "paused", "cleared", "15555551282").await;
    let r = call(
        &app,
        &f,
        Method::DELETE,
        &format!("{DEFS}/paused/queue"),
        Value::Null,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body); // NotSent 39
    send_held(&app, &f, "paused", "deleted", "15555551283").await;
    let r = call(
        &app,
        &f,
        Method::DELETE,
        &format!("{DEFS}/paused"),
        Value::Null,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body); // NotSent 37
    run_engine(&app).await;

    let page = |q: &str| {
        let (app, f) = (&app, &f);
        let path = format!("{MESSAGES}/?type=notSent&{q}");
        async move {
            let r = call(app, f, Method::GET, &path, Value::Null).await;
            assert_eq!(r.status, 200, "{}", r.body);
            r.body
        }
    };
    let first = page("$pagesize=2").await;
    assert_eq!(first["count"], 2, "{first}");
    let entries = first["messages"].as_array().expect("messages").clone();
    assert_eq!(first["lastEventID"], entries[1]["eventID"]);
    let second = page(&format!("$pageSize=2&lastEventId={}", first["lastEventID"])).await;
    let rest = second["messages"].as_array().expect("messages").clone();
    assert_eq!(second["count"], 2, "{second}");
    let all: Vec<&Value> = entries.iter().chain(rest.iter()).collect();
    let summary: Vec<(String, Value, Value)> = all
        .iter()
        .map(|e| {
            (
                e["info"]["messageKey"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                e["statusCode"].clone(),
                e["statusMessage"].clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("opted-out".to_string(), json!(1), json!("Unsubscribed")),
            (
                "cleared".to_string(),
                json!(39),
                json!("SubscriberQueueCleared")
            ),
            (
                "deleted".to_string(),
                json!(37),
                json!("QueuedTransactionDeleted")
            ),
            (
                "refused".to_string(),
                json!(2500),
                json!("FailedToAggregator")
            ),
        ]
    );
    // The status route says the same.
    assert_eq!(
        event(&app, &f, "refused").await,
        (
            "SMSNotSent".into(),
            json!(2500),
            json!("FailedToAggregator")
        )
    );
    assert_eq!(event(&app, &f, "delivered").await.0, "SMSSent");
    let ids: Vec<i64> = all.iter().filter_map(|e| e["eventID"].as_i64()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    let e = all[0];
    assert_eq!(e["eventCategoryType"], "TransactionalSendEvents.SMSNotSent");
    assert_eq!(e["definitionKey"], "alerts");
    assert_eq!(
        e["info"],
        json!({"messageKey": "opted-out", "contactKey": "opted-out", "to": "15555551280"})
    );
    assert!(e["timestamp"].is_string());

    // An empty page keeps the caller's place.
    let last = second["lastEventID"].as_i64().expect("lastEventID");
    let empty = page(&format!("lastEventId={last}")).await;
    assert_eq!(
        (empty["count"].clone(), empty["lastEventID"].clone()),
        (json!(0), json!(last))
    );
    // type is required and must be notSent; lastEventId a whole number.
    for q in [
        "",
        "type=sent",
        "type=notSent&lastEventId=x",
        "type=notSent&$pageSize=0",
    ] {
        let r = call(
            &app,
            &f,
            Method::GET,
            &format!("{MESSAGES}?{q}"),
            Value::Null,
        )
        .await;
        assert_eq!(
            (r.status.as_u16(), r.body["errorcode"].clone()),
            (400, json!(10005)),
            "{q}"
        );
    }

    // Kept 30 days: then the events and the messages are gone (the engine's housekeeping).
    app.clock.advance(31 * 24 * 3_600_000);
    run_engine(&app).await;
    let f = common::Fixture {
        token: app.token(&f.client_id, &f.secret).await,
        ..f
    };
    let r = call(
        &app,
        &f,
        Method::GET,
        &format!("{MESSAGES}?type=notSent"),
        Value::Null,
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.body["count"].clone()),
        (200, json!(0)),
        "{}",
        r.body
    );
    let r = call(
        &app,
        &f,
        Method::GET,
        &format!("{MESSAGES}/refused"),
        Value::Null,
    )
    .await;
    assert_eq!(r.status, 404, "{}", r.body);
}

/// Concurrent requests with the same `messageKey`: exactly one is accepted, every other recipient
/// gets 109110 in the transactional body — never a 409 of another shape or a 500 — also when two
/// requests claim the same keys in opposite orders (on PostgreSQL, where they run at once).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_claim_each_message_key_once() {
    let app = spawn_app().await;
    let f = fixture(&app, "Acme").await;
    definition(&app, &f, "alerts", json!({})).await;
    let one = json!({"definitionKey": "alerts",
        "recipient": {"to": "15555551300", "contactKey": "same"}});
    let path = format!("{MESSAGES}/same-key");
    let replies = futures::future::join_all(
        (0..16).map(|_| call(&app, &f, Method::POST, &path, one.clone())),
    )
    .await;
    let accepted = replies.iter().filter(|r| r.status == 202).count();
    assert_eq!(
        accepted,
        1,
        "{:?}",
        replies.iter().map(|r| r.body.clone()).collect::<Vec<_>>()
    );
    for r in replies.iter().filter(|r| r.status != 202) {
        assert_eq!(
            (r.status.as_u16(), r.body["errorcode"].clone()),
            (400, json!(109110)),
            "{}",
            r.body
        );
    }

    let crossing = |keys: [&str; 2]| {
        json!({"definitionKey": "alerts", "recipients": keys.iter().enumerate().map(|(i, k)| json!({
            "to": format!("155555513{i:02}"), "contactKey": k, "messageKey": k})).collect::<Vec<_>>()})
    };
    let mut requests = Vec::new();
    for round in 0..8 {
        let (a, b) = (format!("x{round}"), format!("y{round}"));
        requests.push(crossing([&a, &b]));
        requests.push(crossing([&b, &a]));
    }
    let replies = futures::future::join_all(
        requests
            .iter()
            .map(|body| call(&app, &f, Method::POST, MESSAGES, body.clone())),
    )
    .await;
    let mut claimed = std::collections::HashMap::new();
    for r in &replies {
        assert_eq!(r.status, 202, "{}", r.body);
        for entry in r.body["responses"].as_array().expect("responses") {
            let key = entry["messageKey"].as_str().unwrap_or_default().to_string();
            match entry["errorcode"].as_i64() {
                None => *claimed.entry(key).or_insert(0) += 1,
                Some(code) => assert_eq!(code, 109110, "{entry}"),
            }
        }
    }
    assert_eq!(claimed.len(), 16, "every key claimed: {claimed:?}");
    assert!(claimed.values().all(|&n| n == 1), "each once: {claimed:?}");
}

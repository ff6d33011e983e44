//! What a valid `POST /sms/v1/messageList/{id}/send` records (API.md §4), seen through
//! `GET /sms/v1/messageList/{id}/deliveries/{tokenId}` (§5) and the admin sends listing (§7);
//! the deliveries errors; and `Idempotency-Key`.

mod common;

use common::{
    assert_accepted, assert_errors, assert_json_reply, fixture, spawn_app, spawn_app_with, Fixture,
    TestApp,
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// The harness's "now", 2026-11-26T16:00:00Z, in CST.
const NOW_CST: &str = "2026-11-26T10:00:00.000";
const FIXTURE_TEXT: &str = "Hello %%FirstName%%";

async fn setup() -> (TestApp, Fixture) {
    let app = spawn_app().await;
    let fx = fixture(&app, "A").await;
    (app, fx)
}

async fn send(app: &TestApp, fx: &Fixture, body: Value) -> String {
    let r = app.send_list(&fx.token, &fx.message, &body).await;
    assert_accepted(&r)
}

/// The whole §5 document of a send that is New (not yet expanded).
fn new_status(text: &str, scheduled_for: &str, segments: u32, encoding: &str) -> Value {
    json!({
        "message": text,
        "count": 0,
        "createDate": NOW_CST,
        "completeDate": null,
        "status": "New",
        "tracking": [],
        "counts": {"recipients": 0, "queued": 0, "deferred": 0, "sent": 0, "delivered": 0,
                   "failed": 0, "unknown": 0, "suppressed": 0, "canceled": 0},
        "scheduledFor": scheduled_for,
        "segments": segments,
        "encoding": encoding,
        "page": 1,
        "pageSize": 1000,
        "trackingTotal": 0,
    })
}

async fn status(app: &TestApp, fx: &Fixture, token: &str) -> Value {
    let r = app.deliveries(&fx.token, &fx.message, token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_json_reply(&r);
    r.body
}

/// `scheduledFor` of a send made now with `body`.
async fn scheduled_for(app: &TestApp, fx: &Fixture, body: Value) -> String {
    let token = send(app, fx, body.clone()).await;
    let s = status(app, fx, &token).await;
    s["scheduledFor"]
        .as_str()
        .unwrap_or_else(|| panic!("{body} -> {s}"))
        .to_string()
}

fn blackout(offset: &str, start: &str, end: &str) -> Value {
    json!({"blackoutWindow": {"UtcOffset": offset, "WindowStart": start, "WindowEnd": end}})
}

// ---------------------------------------------------------------------------------------------
// The recorded send.

#[tokio::test]
async fn a_send_is_recorded_new_and_due_now() {
    let (app, fx) = setup().await;
    let token = send(&app, &fx, json!({})).await;
    assert_eq!(
        status(&app, &fx, &token).await,
        new_status(FIXTURE_TEXT, NOW_CST, 1, "GSM-7")
    );
    let sends = app.sends("A").await;
    assert_eq!(sends.len(), 1);
    let s = &sends[0];
    assert_eq!(s["tokenId"], json!(token));
    assert_eq!(s["messageId"], json!("MzA6Nzg6MA"));
    assert_eq!(s["state"], json!("New"));
    assert_eq!(s["count"], json!(0));
    assert_eq!(s["createDate"], json!(NOW_CST));
    assert_eq!(s["completeDate"], Value::Null);
    assert_eq!(s["scheduledFor"], json!(NOW_CST));
}

#[tokio::test]
async fn sends_are_listed_newest_first_and_tokens_are_distinct() {
    let (app, fx) = setup().await;
    let mut tokens = Vec::new();
    for _ in 0..5 {
        tokens.push(send(&app, &fx, json!({})).await);
    }
    let listed: Vec<String> = app
        .sends("A")
        .await
        .iter()
        .map(|s| s["tokenId"].as_str().expect("tokenId").to_string())
        .collect();
    tokens.reverse();
    assert_eq!(listed, tokens);
    let mut distinct = tokens.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 5);
}

#[tokio::test]
async fn override_text_is_the_message_reported() {
    let (app, fx) = setup().await;
    let token = send(
        &app,
        &fx,
        json!({"OverrideMessageText": true, "MessageText": "Sale today %%Name%%"}),
    )
    .await;
    assert_eq!(
        status(&app, &fx, &token).await,
        new_status("Sale today %%Name%%", NOW_CST, 1, "GSM-7")
    );
}

#[tokio::test]
async fn a_future_send_time_is_the_due_time() {
    let (app, fx) = setup().await;
    for (send_time, expected) in [
        ("2026-12-01 08:30", "2026-12-01T02:30:00.000"),
        ("2026-12-01T08:30", "2026-12-01T02:30:00.000"),
        ("2026-12-01 08:30:45", "2026-12-01T02:30:45.000"),
        ("2026-11-26 16:01", "2026-11-26T10:01:00.000"),
        ("2027-01-01 03:00", "2026-12-31T21:00:00.000"),
    ] {
        let token = send(&app, &fx, json!({"sendTime": send_time})).await;
        assert_eq!(
            status(&app, &fx, &token).await,
            new_status(FIXTURE_TEXT, expected, 1, "GSM-7"),
            "sendTime {send_time}"
        );
        let listed = &app.sends("A").await[0];
        assert_eq!(listed["tokenId"], json!(token));
        assert_eq!(listed["scheduledFor"], json!(expected));
    }
}

#[tokio::test]
async fn a_past_or_blank_send_time_is_due_now() {
    let (app, fx) = setup().await;
    for t in [
        "2020-01-01 00:00",
        "2026-11-26 15:59",
        "2026-11-26 16:00",
        "",
        "  ",
    ] {
        assert_eq!(
            scheduled_for(&app, &fx, json!({"sendTime": t})).await,
            NOW_CST,
            "sendTime {t:?}"
        );
    }
}

#[tokio::test]
async fn a_send_inside_a_blackout_window_waits_for_its_end() {
    let (app, fx) = setup().await;
    for (body, expected) in [
        // 16:00Z is 11:00 at -05:00, inside 09:00–17:00: due at 17:00 local = 22:00Z.
        (blackout("-0500", "0900", "1700"), "2026-11-26T16:00:00.000"),
        (
            blackout("-05:00", "9:00", "17:00"),
            "2026-11-26T16:00:00.000",
        ),
        (blackout("-5", "09:00", "1700"), "2026-11-26T16:00:00.000"),
        // +05:30: 21:30 local, the window's first minute (half-open [start, end)).
        (
            blackout("+0530", "21:30", "23:45"),
            "2026-11-26T12:15:00.000",
        ),
        // UTC: 16:00 is the window's first minute.
        (
            blackout("+00:00", "1600", "1700"),
            "2026-11-26T11:00:00.000",
        ),
    ] {
        assert_eq!(
            scheduled_for(&app, &fx, body.clone()).await,
            expected,
            "{body}"
        );
    }
}

#[tokio::test]
async fn a_blackout_window_crossing_midnight() {
    let (app, fx) = setup().await;
    // +10: 16:00Z is 02:00 local, in the after-midnight part of 22:00–06:00; due 06:00 local =
    // 20:00Z.
    assert_eq!(
        scheduled_for(&app, &fx, blackout("+10", "2200", "0600")).await,
        "2026-11-26T14:00:00.000"
    );
    // UTC: 16:00 is in the before-midnight part of 15:00–01:00; due 01:00Z the next day.
    assert_eq!(
        scheduled_for(&app, &fx, blackout("0", "15:00", "1:00")).await,
        "2026-11-26T19:00:00.000"
    );
    // Outside a crossing window: 16:00Z is 11:00 at -05:00, outside 22:00–06:00.
    assert_eq!(
        scheduled_for(&app, &fx, blackout("-0500", "2200", "0600")).await,
        NOW_CST
    );
}

#[tokio::test]
async fn a_send_outside_a_blackout_window_is_due_now() {
    let (app, fx) = setup().await;
    for body in [
        blackout("-0500", "0000", "0900"),
        // The window's end is not in it.
        blackout("+00:00", "1200", "1600"),
        // WindowStart == WindowEnd means no blackout.
        blackout("-0500", "1100", "1100"),
        blackout("+0", "0000", "0000"),
    ] {
        assert_eq!(
            scheduled_for(&app, &fx, body.clone()).await,
            NOW_CST,
            "{body}"
        );
    }
}

#[tokio::test]
async fn a_blackout_window_applies_to_the_send_time() {
    let (app, fx) = setup().await;
    // 2026-11-27 15:00Z is 10:00 at -05:00: due at 17:00 local = 22:00Z.
    let mut body = blackout("-0500", "0900", "1700");
    body["sendTime"] = json!("2026-11-27 15:00");
    assert_eq!(
        scheduled_for(&app, &fx, body).await,
        "2026-11-27T16:00:00.000"
    );
    // A send time outside the window stays as it is.
    let mut body = blackout("-0500", "0900", "1700");
    body["sendTime"] = json!("2026-11-27 23:30");
    assert_eq!(
        scheduled_for(&app, &fx, body).await,
        "2026-11-27T17:30:00.000"
    );
    // A past send time is now, which is inside the window.
    let mut body = blackout("-0500", "0900", "1700");
    body["sendTime"] = json!("2020-01-01 12:00");
    assert_eq!(
        scheduled_for(&app, &fx, body).await,
        "2026-11-26T16:00:00.000"
    );
}

// ---------------------------------------------------------------------------------------------
// Encoding and segments of the send's text.

#[tokio::test]
async fn segments_and_encoding() {
    let (app, fx) = setup().await;
    let a = |n: usize| "a".repeat(n);
    for (text, segments, encoding) in [
        ("Hello".to_string(), 1, "GSM-7"),
        (a(160), 1, "GSM-7"),
        (a(161), 2, "GSM-7"),
        (a(306), 2, "GSM-7"),
        (a(307), 3, "GSM-7"),
        // `€` is in the extension table: two septets.
        ("Price: 5€".to_string(), 1, "GSM-7"),
        (format!("{}€", a(158)), 1, "GSM-7"),
        (format!("{}€", a(159)), 2, "GSM-7"),
        // A part never splits an escape pair.
        (format!("{}€{}", a(152), a(152)), 3, "GSM-7"),
        (
            "{[~]}|^\\ @£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ!\"#¤%&'()*+,-./:;<=>?¡ÄÖÑÜ§¿äöñüà".to_string(),
            1,
            "GSM-7",
        ),
        // Emoji: UCS-2, two units each.
        ("Hi 😀".to_string(), 1, "UCS-2"),
        (format!("{}😀", a(68)), 1, "UCS-2"),
        (format!("{}😀", a(69)), 2, "UCS-2"),
        (format!("{}é", a(69)), 1, "GSM-7"),
        ("Grüße aus Köln – bis bald".to_string(), 1, "UCS-2"),
        (format!("{}ç", a(70)), 2, "UCS-2"),
    ] {
        let token = send(
            &app,
            &fx,
            json!({"OverrideMessageText": true, "MessageText": text}),
        )
        .await;
        assert_eq!(
            status(&app, &fx, &token).await,
            new_status(&text, NOW_CST, segments, encoding),
            "{text:?}"
        );
    }
}

#[tokio::test]
async fn stored_text_encoding() {
    let (app, fx) = setup().await;
    app.create_message(
        "A",
        json!({"id": "Emoji", "name": "e", "code": "88976", "status": "Active",
               "text": "Party 🎉", "targetListIds": ["ListA"]}),
    )
    .await;
    let r = app.send_list(&fx.token, "Emoji", &json!({})).await;
    let token = assert_accepted(&r);
    let s = app.deliveries(&fx.token, "Emoji", &token).await;
    assert_eq!(s.body, new_status("Party 🎉", NOW_CST, 1, "UCS-2"));
}

// ---------------------------------------------------------------------------------------------
// Timestamps in UTC.

#[tokio::test]
async fn utc_timestamps_end_in_z() {
    let app = spawn_app_with(|f| f.api.timestamps = Some("utc".into())).await;
    let fx = fixture(&app, "A").await;
    let now = send(&app, &fx, json!({})).await;
    let mut expected = new_status(FIXTURE_TEXT, "2026-11-26T16:00:00.000Z", 1, "GSM-7");
    expected["createDate"] = json!("2026-11-26T16:00:00.000Z");
    assert_eq!(status(&app, &fx, &now).await, expected);

    let later = send(&app, &fx, json!({"sendTime": "2026-12-01 08:30"})).await;
    expected["scheduledFor"] = json!("2026-12-01T08:30:00.000Z");
    assert_eq!(status(&app, &fx, &later).await, expected);

    let listed = app.sends("A").await;
    assert_eq!(listed[0]["createDate"], json!("2026-11-26T16:00:00.000Z"));
    assert_eq!(listed[0]["scheduledFor"], json!("2026-12-01T08:30:00.000Z"));
}

// ---------------------------------------------------------------------------------------------
// Paging parameters.

async fn deliveries_query(app: &TestApp, fx: &Fixture, token: &str, query: &str) -> common::Reply {
    app.request(
        Method::GET,
        &format!(
            "/sms/v1/messageList/{}/deliveries/{token}?{query}",
            fx.message
        ),
        Some(&fx.token),
        None,
        &[],
    )
    .await
}

#[tokio::test]
async fn paging_parameters() {
    let (app, fx) = setup().await;
    let token = send(&app, &fx, json!({})).await;
    for (query, page, page_size) in [
        ("", 1, 1000),
        ("$page=2&$pageSize=5", 2, 5),
        ("$pagesize=7&$PAGE=3", 3, 7),
        ("$pageSize=10000", 1, 10000),
        ("$pageSize=10001", 1, 10000),
        ("$pageSize=5000000", 1, 10000),
        ("$pageSize=99999999999999999999999", 1, 10000),
        ("$page=1&$pageSize=1", 1, 1),
    ] {
        let r = deliveries_query(&app, &fx, &token, query).await;
        assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.body);
        let mut expected = new_status(FIXTURE_TEXT, NOW_CST, 1, "GSM-7");
        expected["page"] = json!(page);
        expected["pageSize"] = json!(page_size);
        assert_eq!(r.body, expected, "{query}");
    }
}

#[tokio::test]
async fn invalid_paging_parameters() {
    let (app, fx) = setup().await;
    let token = send(&app, &fx, json!({})).await;
    for (query, message) in [
        ("$pageSize=0", "0 isn't a valid value for $pageSize."),
        ("$pageSize=abc", "abc isn't a valid value for $pageSize."),
        ("$pageSize=-1", "-1 isn't a valid value for $pageSize."),
        ("$pageSize=1.5", "1.5 isn't a valid value for $pageSize."),
        ("$pagesize=", " isn't a valid value for $pageSize."),
        ("$page=0", "0 isn't a valid value for $page."),
        ("$page=abc", "abc isn't a valid value for $page."),
        ("$PAGE=x1", "x1 isn't a valid value for $page."),
    ] {
        let r = deliveries_query(&app, &fx, &token, query).await;
        assert_json_reply(&r);
        assert_errors(&r, &[message]);
    }
}

// ---------------------------------------------------------------------------------------------
// Deliveries errors (§5).

#[tokio::test]
async fn deliveries_of_a_malformed_id_or_token() {
    let (app, fx) = setup().await;
    let token = send(&app, &fx, json!({})).await;
    let r = app.deliveries(&fx.token, "bad%20id", &token).await;
    assert_errors(&r, &["Message id bad id isn't valid."]);
    let r = app.deliveries(&fx.token, &fx.message, "a.b").await;
    assert_errors(&r, &["Token id a.b isn't valid."]);
    let long = "t".repeat(65);
    let r = app.deliveries(&fx.token, &fx.message, &long).await;
    assert_errors(&r, &[&format!("Token id {long} isn't valid.")]);
    let r = app.deliveries(&fx.token, &fx.message, "tok%20en").await;
    assert_errors(&r, &["Token id tok en isn't valid."]);
    // Both malformed: both messages; the token rows are skipped.
    let r = app.deliveries(&fx.token, "a.b", "c%20d").await;
    assert_errors(
        &r,
        &["Message id a.b isn't valid.", "Token id c d isn't valid."],
    );
    let r = app.deliveries(&fx.token, "a.b", "unknowntoken").await;
    assert_errors(&r, &["Message id a.b isn't valid."]);
}

#[tokio::test]
async fn deliveries_of_an_unknown_token() {
    let (app, fx) = setup().await;
    send(&app, &fx, json!({})).await;
    for t in ["unknowntoken", "x", "abc_DEF-123"] {
        let r = app.deliveries(&fx.token, &fx.message, t).await;
        assert_errors(&r, &[&format!("Token id {t} isn't valid for this client.")]);
    }
    // An unknown message id with an unknown token: the token row.
    let r = app.deliveries(&fx.token, "NoSuch", "unknowntoken").await;
    assert_errors(&r, &["Token id unknowntoken isn't valid for this client."]);
}

#[tokio::test]
async fn deliveries_of_a_token_of_another_message() {
    let (app, fx) = setup().await;
    app.create_message(
        "A",
        json!({"id": "Second", "name": "s", "code": "88976", "status": "Active",
               "text": "Two", "targetListIds": ["ListA"]}),
    )
    .await;
    let r = app.send_list(&fx.token, "Second", &json!({})).await;
    let second = assert_accepted(&r);
    let r = app.deliveries(&fx.token, &fx.message, &second).await;
    assert_errors(
        &r,
        &[&format!(
            "TokenId {second} isn't valid for MessageId MzA6Nzg6MA."
        )],
    );
    // A well-formed message id not in the account is reported through the token rows.
    let r = app.deliveries(&fx.token, "NoSuch", &second).await;
    assert_errors(
        &r,
        &[&format!(
            "TokenId {second} isn't valid for MessageId NoSuch."
        )],
    );
    // The right pair resolves.
    let r = app.deliveries(&fx.token, "second", &second).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body, new_status("Two", NOW_CST, 1, "GSM-7"));
}

#[tokio::test]
async fn deliveries_of_a_token_of_another_account() {
    let (app, fx) = setup().await;
    let b = fixture(&app, "B").await;
    // B has a message with the same ID; its token is still not A's.
    let r = app.send_list(&b.token, &b.message, &json!({})).await;
    let b_token = assert_accepted(&r);
    let r = app.deliveries(&fx.token, &fx.message, &b_token).await;
    assert_errors(
        &r,
        &[&format!("Token id {b_token} isn't valid for this client.")],
    );
    // B itself sees it.
    let r = app.deliveries(&b.token, &b.message, &b_token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

#[tokio::test]
async fn deliveries_resolve_ids_and_tokens_ignoring_case() {
    let (app, fx) = setup().await;
    let token = send(&app, &fx, json!({})).await;
    let expected = new_status(FIXTURE_TEXT, NOW_CST, 1, "GSM-7");
    for (id, t) in [
        ("mza6nzg6ma".to_string(), token.clone()),
        ("MZA6NZG6MA".to_string(), token.to_ascii_uppercase()),
        ("MzA6Nzg6MA".to_string(), token.to_ascii_uppercase()),
    ] {
        let r = app.deliveries(&fx.token, &id, &t).await;
        assert_eq!(r.status, StatusCode::OK, "{id}/{t}: {}", r.body);
        assert_eq!(r.body, expected);
    }
    // The whole URL lowercased, as fuel-rest sends it.
    let r = app
        .request(
            Method::GET,
            &format!("/sms/v1/messagelist/mza6nzg6ma/deliveries/{token}?$pagesize=10"),
            Some(&fx.token),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["pageSize"], json!(10));
}

// ---------------------------------------------------------------------------------------------
// Idempotency-Key.

async fn send_with_key(
    app: &TestApp,
    token: &str,
    id: &str,
    key: &str,
    body: &Value,
) -> common::Reply {
    app.request(
        Method::POST,
        &format!("/sms/v1/messageList/{id}/send"),
        Some(token),
        Some(body.to_string().into_bytes()),
        &[
            ("content-type", "application/json"),
            ("Idempotency-Key", key),
        ],
    )
    .await
}

#[tokio::test]
async fn the_same_key_and_body_return_the_original_send() {
    let (app, fx) = setup().await;
    let body = json!({"OverrideMessageText": true, "MessageText": "Once"});
    let first = assert_accepted(&send_with_key(&app, &fx.token, &fx.message, "key-1", &body).await);
    let again = assert_accepted(&send_with_key(&app, &fx.token, &fx.message, "key-1", &body).await);
    assert_eq!(first, again);
    // The whole URL lowercased (a retry by fuel-rest) is the same request.
    let lowered =
        assert_accepted(&send_with_key(&app, &fx.token, "mza6nzg6ma", "key-1", &body).await);
    assert_eq!(first, lowered);
    assert_eq!(app.send_count("A").await, 1);
    // Another key is another send.
    let other = assert_accepted(&send_with_key(&app, &fx.token, &fx.message, "key-2", &body).await);
    assert_ne!(first, other);
    assert_eq!(app.send_count("A").await, 2);
}

#[tokio::test]
async fn a_retry_answers_as_the_original_even_when_the_message_changed_since() {
    let (app, fx) = setup().await;
    let body = json!({});
    let first = assert_accepted(&send_with_key(&app, &fx.token, &fx.message, "key-1", &body).await);
    app.admin_ok(
        Method::PATCH,
        &format!("/admin/v1/accounts/{}/messages/{}", fx.account, fx.message),
        json!({"status": "Inactive"}),
    )
    .await;
    let retry = assert_accepted(&send_with_key(&app, &fx.token, &fx.message, "key-1", &body).await);
    assert_eq!(first, retry);
    // Without the key, the request is refused now.
    let fresh = app.send_list(&fx.token, &fx.message, &body).await;
    common::assert_errors(
        &fresh,
        &["The Message must be in Active status in order to send."],
    );
    assert_eq!(app.send_count("A").await, 1);
}

#[tokio::test]
async fn the_same_key_with_another_body_is_a_conflict() {
    let (app, fx) = setup().await;
    let first = assert_accepted(
        &send_with_key(
            &app,
            &fx.token,
            &fx.message,
            "k",
            &json!({"sendTime": "2030-01-01 10:00"}),
        )
        .await,
    );
    let r = send_with_key(
        &app,
        &fx.token,
        &fx.message,
        "k",
        &json!({"sendTime": "2030-01-01 11:00"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_json_reply(&r);
    assert_eq!(
        r.body,
        json!({"errors": ["Idempotency-Key was already used with a different request."]})
    );
    assert_eq!(app.send_count("A").await, 1);
    // The original is still returned for the original body.
    let again = assert_accepted(
        &send_with_key(
            &app,
            &fx.token,
            &fx.message,
            "k",
            &json!({"sendTime": "2030-01-01 10:00"}),
        )
        .await,
    );
    assert_eq!(first, again);
}

#[tokio::test]
async fn the_same_key_from_another_client_is_independent() {
    let (app, fx) = setup().await;
    let (client2, secret2) = app.create_client("A", json!({})).await;
    let token2 = app.token(&client2, &secret2).await;
    let body = json!({});
    let first =
        assert_accepted(&send_with_key(&app, &fx.token, &fx.message, "shared", &body).await);
    let second = assert_accepted(&send_with_key(&app, &token2, &fx.message, "shared", &body).await);
    assert_ne!(first, second);
    assert_eq!(app.send_count("A").await, 2);
    // Each client's retry returns its own send.
    let again2 = assert_accepted(&send_with_key(&app, &token2, &fx.message, "shared", &body).await);
    assert_eq!(second, again2);
    // Another client with a different body is no conflict either.
    let (client3, secret3) = app.create_client("A", json!({})).await;
    let token3 = app.token(&client3, &secret3).await;
    assert_accepted(
        &send_with_key(
            &app,
            &token3,
            &fx.message,
            "shared",
            &json!({"allowDuplication": true}),
        )
        .await,
    );
    assert_eq!(app.send_count("A").await, 3);
}

#[tokio::test]
async fn a_key_lasts_24_hours() {
    let (app, fx) = setup().await;
    let body = json!({});
    let first = assert_accepted(&send_with_key(&app, &fx.token, &fx.message, "day", &body).await);
    app.clock.advance(23 * 3_600_000);
    let token = app.token(&fx.client_id, &fx.secret).await;
    let again = assert_accepted(&send_with_key(&app, &token, &fx.message, "day", &body).await);
    assert_eq!(first, again);
    assert_eq!(app.send_count("A").await, 1);
    app.clock.advance(3_600_000 + 60_000);
    let token = app.token(&fx.client_id, &fx.secret).await;
    let later = assert_accepted(&send_with_key(&app, &token, &fx.message, "day", &body).await);
    assert_ne!(first, later);
    assert_eq!(app.send_count("A").await, 2);
}

#[tokio::test]
async fn concurrent_requests_with_one_key_make_one_send() {
    let (app, fx) = setup().await;
    let body = json!({"OverrideMessageText": true, "MessageText": "Only once"});
    let replies = futures::future::join_all(
        (0..20).map(|_| send_with_key(&app, &fx.token, &fx.message, "burst", &body)),
    )
    .await;
    let tokens: Vec<String> = replies.iter().map(assert_accepted).collect();
    assert!(tokens.iter().all(|t| *t == tokens[0]), "{tokens:?}");
    let sends = app.sends("A").await;
    assert_eq!(sends.len(), 1);
    assert_eq!(sends[0]["tokenId"], json!(tokens[0]));
}

#[tokio::test]
async fn a_rejected_request_records_nothing() {
    let (app, fx) = setup().await;
    let r = app
        .send_list(
            &fx.token,
            &fx.message,
            &json!({"OverrideMessageText": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = send_with_key(
        &app,
        &fx.token,
        &fx.message,
        "k",
        &json!({"MessageText": "x"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(app.send_count("A").await, 0);
    // The key of a rejected request is still free.
    assert_accepted(&send_with_key(&app, &fx.token, &fx.message, "k", &json!({})).await);
    assert_eq!(app.send_count("A").await, 1);
}

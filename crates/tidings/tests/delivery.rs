//! The delivery engine end to end (API.md §4 "What a send does" and "Send status values", §5,
//! §7 outbox and cancel, §8 simulator): sends are made over HTTP, the test drives the engine
//! (`run_until_idle`, `step`) and moves the clock by hand, and asserts the exact simulator
//! outbox and the §5 deliveries document. Nothing here sleeps.
//!
//! Crash safety and SIGTERM, which need the real process, are in `crash.rs`.

mod common;

use common::{
    assert_accepted, assert_json_reply, cancel, fixture, import_contacts, opt_out, outbox,
    outbox_of, run_engine, spawn_app, spawn_app_with, step_engine, Fixture, TestApp, CODE, NOW_MS,
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
/// The harness's "now", 2026-11-26T16:00:00Z, in CST (API.md §1).
const NOW_CST: &str = "2026-11-26T10:00:00.000";
const FIXTURE_TEXT: &str = "Hello %%FirstName%%";

// The audience of the fixture's account "A" (see `audience`).
/// ListA; attribute `FirstName` = Ann.
const ANN: &str = "15550100011";
/// ListA and ListB; attribute `FIRSTNAME` = Bob (another spelling of the name).
const BOB: &str = "15550100022";
/// ListB; no attributes.
const CAL: &str = "15550100033";
/// ListA and Exclude; `FirstName` = Xena.
const XENA: &str = "15550100044";
/// ListB and Exclude; no attributes.
const XAVI: &str = "15550100055";
/// ListA and ListB, subscribed, then opted out (Unsubscribed through the admin API).
const OUT: &str = "15550100066";
/// ListA, imported without a subscription: never opted in.
const NEVER: &str = "15550100077";

// ---------------------------------------------------------------------------------------------
// Harness.

/// An app with the fixture (message `MzA6Nzg6MA`: "Hello %%FirstName%%", default target ListA,
/// default exclusion Exclude) and the audience above.
async fn audience() -> (TestApp, Fixture) {
    audience_with(spawn_app().await).await
}

async fn audience_with(app: TestApp) -> (TestApp, Fixture) {
    let fx = fixture(&app, "A").await;
    import_contacts(
        &app,
        "A",
        "ListA",
        json!([
            {"mobileNumber": ANN, "attributes": {"FirstName": "Ann"}},
            {"mobileNumber": BOB, "attributes": {"FIRSTNAME": "Bob"}},
            {"mobileNumber": XENA, "attributes": {"FirstName": "Xena"}},
            {"mobileNumber": OUT, "attributes": {"FirstName": "Otto"}},
        ]),
        true,
    )
    .await;
    import_contacts(
        &app,
        "A",
        "ListA",
        json!([{"mobileNumber": NEVER, "attributes": {"FirstName": "Nev"}}]),
        false,
    )
    .await;
    import_contacts(
        &app,
        "A",
        "ListB",
        json!([{"mobileNumber": BOB}, {"mobileNumber": CAL}, {"mobileNumber": XAVI},
               {"mobileNumber": OUT}]),
        true,
    )
    .await;
    import_contacts(
        &app,
        "A",
        "Exclude",
        json!([{"mobileNumber": XENA}, {"mobileNumber": XAVI}]),
        false,
    )
    .await;
    opt_out(&app, "A", OUT).await;
    (app, fx)
}

/// Creates a list holding `numbers`, all subscribed to the fixture's keyword.
async fn subscribed_list(app: &TestApp, id: &str, numbers: &[&str]) {
    app.create_list("A", id).await;
    let contacts: Vec<Value> = numbers.iter().map(|n| json!({"mobileNumber": n})).collect();
    import_contacts(app, "A", id, json!(contacts), true).await;
}

/// Sends the fixture's message; returns the token.
async fn send(app: &TestApp, fx: &Fixture, body: Value) -> String {
    send_message(app, fx, &fx.message, body).await
}

async fn send_message(app: &TestApp, fx: &Fixture, message: &str, body: Value) -> String {
    assert_accepted(&app.send_list(&fx.token, message, &body).await)
}

/// The §5 document of a send of the fixture's message.
async fn status(app: &TestApp, fx: &Fixture, token: &str) -> Value {
    status_of(app, fx, &fx.message, token).await
}

async fn status_of(app: &TestApp, fx: &Fixture, message: &str, token: &str) -> Value {
    let mut r = app.deliveries(&fx.token, message, token).await;
    if r.status == StatusCode::UNAUTHORIZED {
        // The access token lives 20 minutes of the test's clock, which the test moves.
        let fresh = app.token(&fx.client_id, &fx.secret).await;
        r = app.deliveries(&fresh, message, token).await;
    }
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_json_reply(&r);
    r.body
}

/// The document without `tracking`, and the tracking entries reduced to the contract's fields.
fn split(doc: &Value) -> (Value, Vec<Value>) {
    let mut rest = doc.clone();
    let tracking = rest
        .as_object_mut()
        .expect("object")
        .remove("tracking")
        .unwrap_or_else(|| panic!("no tracking in {doc}"));
    let entries = tracking
        .as_array()
        .expect("tracking array")
        .iter()
        .map(|e| {
            json!({
                "mobileNumber": e["mobileNumber"],
                "statusCode": e["statusCode"],
                "standardStatusCode": e["standardStatusCode"],
                "description": e["description"],
            })
        })
        .collect();
    (rest, entries)
}

/// A tracking entry as `split` reduces it.
fn tracked(number: &str, code: u32) -> Value {
    let description = match code {
        1000 => "Queued",
        2000 => "Delivered to aggregator",
        2500 => "Failed to aggregator",
        3400 => "Unknown",
        4000 => "Delivered to handset",
        4500 => "Undeliverable",
        4501 => "Expired",
        other => panic!("no description for {other} in this suite"),
    };
    json!({"mobileNumber": number, "statusCode": code.to_string(),
           "standardStatusCode": code.to_string(), "description": description})
}

/// `counts` (API.md §5): zero but for `set`.
fn counts(set: &[(&str, i64)]) -> Value {
    let mut c = json!({"recipients": 0, "queued": 0, "deferred": 0, "sent": 0, "delivered": 0,
                       "failed": 0, "unknown": 0, "suppressed": 0, "canceled": 0});
    for (k, v) in set {
        assert!(c.get(*k).is_some(), "no count {k}");
        c[*k] = json!(v);
    }
    c
}

/// The §5 document without `tracking`.
#[allow(clippy::too_many_arguments)]
fn doc(
    text: &str,
    status: &str,
    count: i64,
    counts: Value,
    complete: Option<&str>,
    scheduled: Option<&str>,
    segments: u32,
    encoding: &str,
) -> Value {
    json!({
        "message": text,
        "count": count,
        "createDate": NOW_CST,
        "completeDate": complete,
        "status": status,
        "counts": counts,
        "scheduledFor": scheduled,
        "segments": segments,
        "encoding": encoding,
        "page": 1,
        "pageSize": 1000,
        "trackingTotal": count,
    })
}

/// A send that is New: nothing expanded, due at `scheduled`.
fn new_doc(text: &str, scheduled: &str) -> Value {
    doc(
        text,
        "New",
        0,
        counts(&[]),
        None,
        Some(scheduled),
        1,
        "GSM-7",
    )
}

/// An outbox item as `project` reduces it: a one-segment GSM-7 SMS from the fixture's code.
fn sms(token: &str, to: &str, text: &str) -> Value {
    json!({"carrier": "simulator", "from": CODE, "to": to, "text": text, "contentUrl": null,
           "encoding": "GSM-7", "segments": 1, "tokenId": token})
}

/// An outbox item without `seq` and `acceptedAt`.
fn project(item: &Value) -> Value {
    let mut p = item.clone();
    let o = p.as_object_mut().expect("object");
    assert!(o.remove("seq").is_some_and(|s| s.is_i64()), "{item}");
    assert!(
        o.remove("acceptedAt").is_some_and(|s| s.is_string()),
        "{item}"
    );
    p
}

fn sorted(mut items: Vec<Value>) -> Vec<Value> {
    items.sort_by_key(|v| (v["to"].to_string(), v["text"].to_string()));
    items
}

/// Asserts the send's outbox items, whatever their order; returns them as the outbox has them.
async fn assert_outbox(app: &TestApp, token: &str, expected: Vec<Value>) -> Vec<Value> {
    let items = outbox_of(app, token).await;
    let got = sorted(items.iter().map(project).collect());
    assert_eq!(got, sorted(expected), "outbox of {token}");
    items
}

/// Asserts a Finished send whose every recipient was delivered: `texts` is `(number, text)` per
/// text, in tracking order (mobile number, then list).
#[allow(clippy::too_many_arguments)]
async fn assert_delivered(
    app: &TestApp,
    fx: &Fixture,
    message: &str,
    token: &str,
    text: &str,
    texts: &[(&str, &str)],
    suppressed: i64,
    complete: &str,
) {
    let expected: Vec<Value> = texts.iter().map(|(to, t)| sms(token, to, t)).collect();
    assert_outbox(app, token, expected).await;
    let n = texts.len() as i64;
    let (rest, tracking) = split(&status_of(app, fx, message, token).await);
    assert_eq!(
        rest,
        doc(
            text,
            "Finished",
            n,
            counts(&[
                ("recipients", n),
                ("delivered", n),
                ("suppressed", suppressed)
            ]),
            Some(complete),
            None,
            1,
            "GSM-7"
        )
    );
    let expected: Vec<Value> = texts.iter().map(|(to, _)| tracked(to, 4000)).collect();
    assert_eq!(tracking, expected);
}

fn blackout(offset: &str, start: &str, end: &str) -> Value {
    json!({"UtcOffset": offset, "WindowStart": start, "WindowEnd": end})
}

// ---------------------------------------------------------------------------------------------
// Audience: target lists, exclusion lists, subscriptions, duplication.

#[tokio::test]
async fn default_lists_text_each_subscribed_number_once() {
    let (app, fx) = audience().await;
    let token = send(&app, &fx, json!({})).await;
    let (rest, tracking) = split(&status(&app, &fx, &token).await);
    assert_eq!(rest, new_doc(FIXTURE_TEXT, NOW_CST));
    assert!(tracking.is_empty());
    assert!(
        outbox(&app).await.is_empty(),
        "nothing goes before the engine runs"
    );

    run_engine(&app).await;
    // ListA minus Exclude (Xena), minus OUT (opted out) and NEVER (never subscribed).
    assert_delivered(
        &app,
        &fx,
        &fx.message,
        &token,
        FIXTURE_TEXT,
        &[(ANN, "Hello Ann"), (BOB, "Hello Bob")],
        2,
        NOW_CST,
    )
    .await;
    // The whole outbox is that send, each item accepted now.
    let all = outbox(&app).await;
    assert_eq!(all.len(), 2);
    for item in &all {
        assert_eq!(item["acceptedAt"], NOW_CST, "{item}");
    }
    assert!(all[0]["seq"].as_i64() < all[1]["seq"].as_i64());
    // The tracking entry's short name (API.md §5 example).
    let doc = status(&app, &fx, &token).await;
    assert_eq!(doc["tracking"][0]["message"], "Delivered");
    // Running again sends nothing more.
    run_engine(&app).await;
    assert_eq!(outbox(&app).await.len(), 2);
}

#[tokio::test]
async fn overlapping_target_lists_without_duplication_text_each_number_once() {
    let (app, fx) = audience().await;
    let token = send(
        &app,
        &fx,
        json!({"OverrideTemplateTargetLists": true, "TargetListIds": ["ListA", "ListB"],
               "allowDuplication": false}),
    )
    .await;
    run_engine(&app).await;
    // Bob is in both lists: one text. Cal has no FirstName: the placeholder becomes empty.
    // Otto is in both lists and opted out: suppressed once, as one number.
    assert_delivered(
        &app,
        &fx,
        &fx.message,
        &token,
        FIXTURE_TEXT,
        &[(ANN, "Hello Ann"), (BOB, "Hello Bob"), (CAL, "Hello ")],
        2,
        NOW_CST,
    )
    .await;
}

#[tokio::test]
async fn allow_duplication_texts_once_per_target_list_membership() {
    let (app, fx) = audience().await;
    let token = send(
        &app,
        &fx,
        json!({"OverrideTemplateTargetLists": true, "TargetListIds": ["ListA", "ListB"],
               "allowDuplication": true}),
    )
    .await;
    run_engine(&app).await;
    assert_delivered(
        &app,
        &fx,
        &fx.message,
        &token,
        FIXTURE_TEXT,
        &[
            (ANN, "Hello Ann"),
            (BOB, "Hello Bob"),
            (BOB, "Hello Bob"),
            (CAL, "Hello "),
        ],
        2,
        NOW_CST,
    )
    .await;
    // Tracking pages: ordered by mobile number, then list.
    let r = app
        .request(
            Method::GET,
            &format!(
                "/sms/v1/messageList/{}/deliveries/{token}?$page=2&$pageSize=3",
                fx.message
            ),
            Some(&fx.token),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        (&r.body["page"], &r.body["pageSize"]),
        (&json!(2), &json!(3))
    );
    assert_eq!(r.body["trackingTotal"], 4);
    assert_eq!(split(&r.body).1, vec![tracked(CAL, 4000)]);
}

#[tokio::test]
async fn overridden_exclusion_lists_replace_the_message_defaults() {
    let (app, fx) = audience().await;
    let token = send(
        &app,
        &fx,
        json!({"OverrideTemplateTargetLists": true, "TargetListIds": ["ListA", "ListB"],
               "OverrideTemplateExclusionLists": true, "ExclusionListIds": ["ListB"]}),
    )
    .await;
    run_engine(&app).await;
    // Exclude no longer applies (Xena is texted); every ListB member is excluded, Otto
    // included, so only Nev is removed for his subscription state.
    assert_delivered(
        &app,
        &fx,
        &fx.message,
        &token,
        FIXTURE_TEXT,
        &[(ANN, "Hello Ann"), (XENA, "Hello Xena")],
        1,
        NOW_CST,
    )
    .await;
}

#[tokio::test]
async fn ignored_exclusion_lists_exclude_nobody() {
    let (app, fx) = audience().await;
    let token = send(
        &app,
        &fx,
        json!({"OverrideTemplateTargetLists": true, "TargetListIds": ["ListA", "ListB"],
               "IgnoreExclusionLists": true}),
    )
    .await;
    run_engine(&app).await;
    assert_delivered(
        &app,
        &fx,
        &fx.message,
        &token,
        FIXTURE_TEXT,
        &[
            (ANN, "Hello Ann"),
            (BOB, "Hello Bob"),
            (CAL, "Hello "),
            (XENA, "Hello Xena"),
            (XAVI, "Hello "),
        ],
        2,
        NOW_CST,
    )
    .await;
}

#[tokio::test]
async fn an_audience_of_nobody_finishes_with_count_zero() {
    let (app, fx) = audience().await;
    // The only target list is the default exclusion list.
    let token = send(
        &app,
        &fx,
        json!({"OverrideTemplateTargetLists": true, "TargetListIds": ["Exclude"]}),
    )
    .await;
    run_engine(&app).await;
    assert_delivered(
        &app,
        &fx,
        &fx.message,
        &token,
        FIXTURE_TEXT,
        &[],
        0,
        NOW_CST,
    )
    .await;
    assert!(outbox(&app).await.is_empty());
}

#[tokio::test]
async fn override_text_substitutes_contact_attributes_case_insensitively() {
    let (app, fx) = audience().await;
    let text = "Hi %%firstname%%, %%Nickname%%!";
    let token = send(
        &app,
        &fx,
        json!({"OverrideMessageText": true, "MessageText": text}),
    )
    .await;
    run_engine(&app).await;
    // `message` is the text before substitution; unknown attributes become empty.
    assert_delivered(
        &app,
        &fx,
        &fx.message,
        &token,
        text,
        &[(ANN, "Hi Ann, !"), (BOB, "Hi Bob, !")],
        2,
        NOW_CST,
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// When: sendTime and blackout windows.

#[tokio::test]
async fn a_future_send_time_stays_new_until_the_clock_reaches_it() {
    let (app, fx) = audience().await;
    let token = send(&app, &fx, json!({"sendTime": "2026-11-26 18:30"})).await;
    let due = NOW_MS + 2 * HOUR + 30 * MINUTE;
    const DUE_CST: &str = "2026-11-26T12:30:00.000";
    for at in [NOW_MS, due - MINUTE, due - 1] {
        app.clock.set(at);
        run_engine(&app).await;
        let (rest, tracking) = split(&status(&app, &fx, &token).await);
        assert_eq!(rest, new_doc(FIXTURE_TEXT, DUE_CST), "at {at}");
        assert!(tracking.is_empty());
        assert!(outbox(&app).await.is_empty(), "sent early, at {at}");
    }
    // Membership is read when the send becomes due: a contact added now is in the audience.
    import_contacts(
        &app,
        "A",
        "ListA",
        json!([{"mobileNumber": "15550100088", "attributes": {"FirstName": "Dan"}}]),
        true,
    )
    .await;
    app.clock.set(due);
    run_engine(&app).await;
    assert_delivered(
        &app,
        &fx,
        &fx.message,
        &token,
        FIXTURE_TEXT,
        &[
            (ANN, "Hello Ann"),
            (BOB, "Hello Bob"),
            ("15550100088", "Hello Dan"),
        ],
        2,
        DUE_CST,
    )
    .await;
    for item in outbox(&app).await {
        assert_eq!(item["acceptedAt"], DUE_CST, "{item}");
    }
}

#[tokio::test]
async fn a_send_time_in_the_past_goes_now() {
    let (app, fx) = audience().await;
    let token = send(&app, &fx, json!({"sendTime": "2026-11-26 15:00"})).await;
    assert_eq!(
        split(&status(&app, &fx, &token).await).0,
        new_doc(FIXTURE_TEXT, NOW_CST)
    );
    run_engine(&app).await;
    assert_delivered(
        &app,
        &fx,
        &fx.message,
        &token,
        FIXTURE_TEXT,
        &[(ANN, "Hello Ann"), (BOB, "Hello Bob")],
        2,
        NOW_CST,
    )
    .await;
}

#[tokio::test]
async fn a_send_made_inside_a_blackout_window_waits_for_its_end() {
    // (window, when it ends as epoch ms and in CST; None: the send is outside and goes now).
    let cases: [(Value, Option<(i64, &str)>); 7] = [
        // -06:00: 16:00Z is 10:00 local, inside 09:00–11:00, which ends at 17:00Z.
        (
            blackout("-0600", "9:00", "11:00"),
            Some((NOW_MS + HOUR, "2026-11-26T11:00:00.000")),
        ),
        // Whole-hour offset; the window opens this very minute (half-open [start, end)).
        (
            blackout("-6", "10:00", "10:30"),
            Some((NOW_MS + 30 * MINUTE, "2026-11-26T10:30:00.000")),
        ),
        // +05:30: 21:30 local, inside 21:00–08:00, which crosses midnight and ends at 08:00
        // local on the 27th = 02:30Z.
        (
            blackout("+0530", "21:00", "0800"),
            Some((NOW_MS + 10 * HOUR + 30 * MINUTE, "2026-11-26T20:30:00.000")),
        ),
        // -08:00: 08:00 local, in the morning part of 22:00–09:00, which ends at 17:00Z.
        (
            blackout("-08:00", "2200", "09:00"),
            Some((NOW_MS + HOUR, "2026-11-26T11:00:00.000")),
        ),
        // +10: 02:00 local on the 27th, the end of 01:00–02:00 itself: outside.
        (blackout("+10", "01:00", "02:00"), None),
        // +05:30: 21:30 local is after 08:00–21:00.
        (blackout("+05:30", "08:00", "21:00"), None),
        // WindowStart == WindowEnd: no blackout.
        (blackout("-0600", "10:00", "10:00"), None),
    ];
    for (window, ends) in cases {
        let (app, fx) = audience().await;
        let token = send(&app, &fx, json!({"blackoutWindow": window})).await;
        if let Some((end, end_cst)) = ends {
            for at in [NOW_MS, end - 1] {
                app.clock.set(at);
                run_engine(&app).await;
                assert_eq!(
                    split(&status(&app, &fx, &token).await).0,
                    new_doc(FIXTURE_TEXT, end_cst),
                    "{window} at {at}"
                );
                assert!(outbox(&app).await.is_empty(), "{window}: sent at {at}");
            }
            app.clock.set(end);
            run_engine(&app).await;
            assert_delivered(
                &app,
                &fx,
                &fx.message,
                &token,
                FIXTURE_TEXT,
                &[(ANN, "Hello Ann"), (BOB, "Hello Bob")],
                2,
                end_cst,
            )
            .await;
        } else {
            assert_eq!(
                split(&status(&app, &fx, &token).await).0,
                new_doc(FIXTURE_TEXT, NOW_CST),
                "{window}"
            );
            run_engine(&app).await;
            assert_delivered(
                &app,
                &fx,
                &fx.message,
                &token,
                FIXTURE_TEXT,
                &[(ANN, "Hello Ann"), (BOB, "Hello Bob")],
                2,
                NOW_CST,
            )
            .await;
        }
    }
}

#[tokio::test]
async fn a_future_send_time_inside_a_window_waits_for_the_window_end() {
    let (app, fx) = audience().await;
    // 20:00Z is 14:00 at -06:00, inside 13:00–15:00, which ends at 21:00Z.
    let token = send(
        &app,
        &fx,
        json!({"sendTime": "2026-11-26 20:00",
               "blackoutWindow": blackout("-0600", "1300", "1500")}),
    )
    .await;
    let end = NOW_MS + 5 * HOUR;
    const END_CST: &str = "2026-11-26T15:00:00.000";
    for at in [NOW_MS, NOW_MS + 4 * HOUR, end - 1] {
        app.clock.set(at);
        run_engine(&app).await;
        assert_eq!(
            split(&status(&app, &fx, &token).await).0,
            new_doc(FIXTURE_TEXT, END_CST)
        );
        assert!(outbox(&app).await.is_empty());
    }
    app.clock.set(end);
    run_engine(&app).await;
    assert_delivered(
        &app,
        &fx,
        &fx.message,
        &token,
        FIXTURE_TEXT,
        &[(ANN, "Hello Ann"), (BOB, "Hello Bob")],
        2,
        END_CST,
    )
    .await;
}

/// Five subscribed numbers in list "Wave", an app claiming two recipients per batch, and a
/// send of "Wave!" to them with a blackout window 16:05Z–16:30Z (10:05–10:30 at -06:00).
/// The first step expands the audience and hands the first batch over; the clock then moves
/// into the window and the next step pauses the send. Returns the token and the numbers that
/// went before the pause.
const WAVE: [&str; 5] = [
    "15550200011",
    "15550200022",
    "15550200033",
    "15550200044",
    "15550200055",
];
const WINDOW_OPENS: i64 = NOW_MS + 5 * MINUTE;
const WINDOW_ENDS: i64 = NOW_MS + 30 * MINUTE;
const WINDOW_OPENS_CST: &str = "2026-11-26T10:05:00.000";
const WINDOW_ENDS_CST: &str = "2026-11-26T10:30:00.000";

async fn paused_mid_send() -> (TestApp, Fixture, String, Vec<String>) {
    let app = spawn_app_with(|f| f.engine.claim_batch = Some(2)).await;
    let fx = fixture(&app, "A").await;
    subscribed_list(&app, "Wave", &WAVE).await;
    let token = send(
        &app,
        &fx,
        json!({"OverrideTemplateTargetLists": true, "TargetListIds": ["Wave"],
               "OverrideMessageText": true, "MessageText": "Wave!",
               "blackoutWindow": blackout("-0600", "10:05", "10:30")}),
    )
    .await;
    assert!(step_engine(&app).await);
    let first: Vec<String> = outbox_of(&app, &token)
        .await
        .iter()
        .map(|i| i["to"].as_str().expect("to").to_string())
        .collect();
    assert_eq!(first.len(), 2, "one batch of two went: {first:?}");
    let (rest, tracking) = split(&status(&app, &fx, &token).await);
    assert_eq!(
        rest,
        doc(
            "Wave!",
            "Started",
            5,
            counts(&[("recipients", 5), ("delivered", 2), ("queued", 3)]),
            None,
            Some(NOW_CST),
            1,
            "GSM-7"
        )
    );
    let expected: Vec<Value> = WAVE
        .iter()
        .map(|n| {
            tracked(
                n,
                if first.iter().any(|f| f == n) {
                    4000
                } else {
                    1000
                },
            )
        })
        .collect();
    assert_eq!(tracking, expected);

    // The window opens: the rest waits for its end.
    app.clock.set(WINDOW_OPENS);
    step_engine(&app).await;
    run_engine(&app).await;
    assert_eq!(
        outbox_of(&app, &token).await.len(),
        2,
        "nothing goes in the window"
    );
    let (rest, _) = split(&status(&app, &fx, &token).await);
    assert_eq!(
        rest,
        doc(
            "Wave!",
            "Started",
            5,
            counts(&[("recipients", 5), ("delivered", 2), ("deferred", 3)]),
            None,
            Some(WINDOW_ENDS_CST),
            1,
            "GSM-7"
        )
    );
    (app, fx, token, first)
}

#[tokio::test]
async fn a_window_opening_mid_send_pauses_the_rest_until_it_ends() {
    let (app, fx, token, first) = paused_mid_send().await;
    app.clock.set(WINDOW_ENDS - 1);
    run_engine(&app).await;
    assert_eq!(outbox_of(&app, &token).await.len(), 2);
    assert_eq!(
        status(&app, &fx, &token).await["counts"]["deferred"],
        3,
        "still paused a millisecond before the end"
    );

    app.clock.set(WINDOW_ENDS);
    run_engine(&app).await;
    let expected: Vec<(&str, &str)> = WAVE.iter().map(|n| (*n, "Wave!")).collect();
    assert_delivered(
        &app,
        &fx,
        &fx.message,
        &token,
        "Wave!",
        &expected,
        0,
        WINDOW_ENDS_CST,
    )
    .await;
    for item in outbox_of(&app, &token).await {
        let went_first = first.iter().any(|f| item["to"] == f.as_str());
        let at = if went_first { NOW_CST } else { WINDOW_ENDS_CST };
        assert_eq!(item["acceptedAt"], at, "{item}");
    }
}

#[tokio::test]
async fn a_number_that_opts_out_while_the_send_is_paused_is_suppressed_at_hand_off() {
    let (app, fx, token, first) = paused_mid_send().await;
    let waiting: Vec<&str> = WAVE
        .iter()
        .copied()
        .filter(|n| !first.iter().any(|f| f == n))
        .collect();
    let quitter = waiting[1];
    opt_out(&app, "A", quitter).await;

    app.clock.set(WINDOW_ENDS);
    run_engine(&app).await;
    let expected: Vec<Value> = WAVE
        .iter()
        .filter(|n| **n != quitter)
        .map(|n| sms(&token, n, "Wave!"))
        .collect();
    assert_outbox(&app, &token, expected).await;
    let doc_now = status(&app, &fx, &token).await;
    let (rest, tracking) = split(&doc_now);
    // Still a recipient (it was one at expansion), now suppressed.
    assert_eq!(
        rest,
        doc(
            "Wave!",
            "Finished",
            5,
            counts(&[("recipients", 5), ("delivered", 4), ("suppressed", 1)]),
            Some(WINDOW_ENDS_CST),
            None,
            1,
            "GSM-7"
        )
    );
    assert_eq!(tracking.len(), 5);
    for (entry, number) in tracking.iter().zip(WAVE) {
        assert_eq!(entry["mobileNumber"], number);
        if number == quitter {
            assert_ne!(entry["statusCode"], "4000", "{doc_now}");
            assert_ne!(entry["statusCode"], "2000", "{doc_now}");
        } else {
            assert_eq!(*entry, tracked(number, 4000));
        }
    }
}

#[tokio::test]
async fn canceling_a_paused_send_cancels_the_rest() {
    let (app, fx, token, first) = paused_mid_send().await;
    let r = cancel(&app, &token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_json_reply(&r);
    assert_eq!(
        r.body,
        json!({"status": "Canceled", "canceledRecipients": 3})
    );

    let check = |doc_now: Value| {
        let (rest, tracking) = split(&doc_now);
        assert_eq!(
            rest,
            doc(
                "Wave!",
                "Canceled",
                5,
                counts(&[("recipients", 5), ("delivered", 2), ("canceled", 3)]),
                Some(WINDOW_OPENS_CST),
                None,
                1,
                "GSM-7"
            )
        );
        for (entry, number) in tracking.iter().zip(WAVE) {
            assert_eq!(entry["mobileNumber"], number);
            if first.iter().any(|f| f == number) {
                assert_eq!(*entry, tracked(number, 4000));
            } else {
                assert_ne!(entry["statusCode"], "4000", "{doc_now}");
            }
        }
    };
    check(status(&app, &fx, &token).await);
    app.clock.set(WINDOW_ENDS + HOUR);
    run_engine(&app).await;
    assert_eq!(
        outbox_of(&app, &token).await.len(),
        2,
        "nothing more is sent"
    );
    check(status(&app, &fx, &token).await);
}

#[tokio::test]
async fn canceling_a_scheduled_send_sends_nothing() {
    let (app, fx) = audience().await;
    let token = send(&app, &fx, json!({"sendTime": "2026-11-26 18:30"})).await;
    run_engine(&app).await;
    let r = cancel(&app, &token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_json_reply(&r);
    assert_eq!(
        r.body,
        json!({"status": "Canceled", "canceledRecipients": 0})
    );
    let canceled = doc(
        FIXTURE_TEXT,
        "Canceled",
        0,
        counts(&[]),
        Some(NOW_CST),
        None,
        1,
        "GSM-7",
    );
    assert_eq!(split(&status(&app, &fx, &token).await).0, canceled);
    app.clock.set(NOW_MS + 3 * HOUR);
    run_engine(&app).await;
    assert!(outbox(&app).await.is_empty());
    let (rest, tracking) = split(&status(&app, &fx, &token).await);
    assert_eq!(rest, canceled);
    assert!(tracking.is_empty());
    let listed = &app.sends("A").await[0];
    assert_eq!(listed["state"], "Canceled");
    let unknown = cancel(&app, "nosuchsend").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.body);
    assert_json_reply(&unknown);
}

// ---------------------------------------------------------------------------------------------
// What the send fixed at acceptance, and what it reads when due.

#[tokio::test]
async fn a_list_deleted_before_the_send_is_due_makes_it_error() {
    for (list, body) in [
        (
            "ListB",
            json!({"OverrideTemplateTargetLists": true, "TargetListIds": ["ListA", "ListB"],
                   "sendTime": "2026-11-26 17:00"}),
        ),
        // An exclusion list counts as much as a target list.
        (
            "ListB",
            json!({"OverrideTemplateExclusionLists": true, "ExclusionListIds": ["ListB"],
                   "sendTime": "2026-11-26 17:00"}),
        ),
    ] {
        assert_list_deletion_errors(list, body).await;
    }
}

async fn assert_list_deletion_errors(list: &str, send_body: Value) {
    let (app, fx) = audience().await;
    let token = send(&app, &fx, send_body.clone()).await;
    let deleted = app
        .admin_ok(
            Method::DELETE,
            &format!("/admin/v1/accounts/A/lists/{list}"),
            Value::Null,
        )
        .await;
    assert_eq!(deleted, json!({"deleted": true}));
    app.clock.set(NOW_MS + HOUR);
    run_engine(&app).await;
    assert!(outbox(&app).await.is_empty(), "an Error send sends nothing");
    let body = status(&app, &fx, &token).await;
    let (mut rest, tracking) = split(&body);
    assert!(tracking.is_empty());
    let errors = rest
        .as_object_mut()
        .expect("object")
        .remove("errors")
        .unwrap_or_else(|| panic!("no errors in {body}"));
    let errors = errors.as_array().expect("errors array");
    assert!(
        errors.len() == 1 && errors[0].as_str().is_some_and(|e| e.contains(list)),
        "the reason names the deleted list: {send_body} -> {body}"
    );
    assert_eq!(
        rest,
        doc(
            FIXTURE_TEXT,
            "Error",
            0,
            counts(&[]),
            Some("2026-11-26T11:00:00.000"),
            None,
            1,
            "GSM-7"
        )
    );
}

#[tokio::test]
async fn a_list_or_message_deleted_after_expansion_does_not_stop_the_send() {
    let (app, fx, token, _) = paused_mid_send().await;
    for path in ["lists/Wave", "messages/MzA6Nzg6MA"] {
        app.admin_ok(
            Method::DELETE,
            &format!("/admin/v1/accounts/A/{path}"),
            Value::Null,
        )
        .await;
    }
    app.clock.set(WINDOW_ENDS);
    run_engine(&app).await;
    let expected: Vec<(&str, &str)> = WAVE.iter().map(|n| (*n, "Wave!")).collect();
    assert_delivered(
        &app,
        &fx,
        &fx.message,
        &token,
        "Wave!",
        &expected,
        0,
        WINDOW_ENDS_CST,
    )
    .await;
}

#[tokio::test]
async fn a_message_deleted_before_the_send_is_due_makes_it_error() {
    let (app, fx) = audience().await;
    app.create_message(
        "A",
        json!({"id": "Gone", "name": "Gone", "code": CODE, "status": "Active", "text": "Bye",
               "targetListIds": ["ListA"]}),
    )
    .await;
    let token = send_message(&app, &fx, "Gone", json!({"sendTime": "2026-11-26 17:00"})).await;
    app.admin_ok(
        Method::DELETE,
        "/admin/v1/accounts/A/messages/Gone",
        Value::Null,
    )
    .await;
    app.clock.set(NOW_MS + HOUR);
    run_engine(&app).await;
    assert!(outbox(&app).await.is_empty());
    let body = status_of(&app, &fx, "Gone", &token).await;
    assert_eq!(body["status"], "Error", "{body}");
    assert_eq!(body["count"], 0, "{body}");
    assert_eq!(body["completeDate"], "2026-11-26T11:00:00.000", "{body}");
    assert!(
        body["errors"]
            .as_array()
            .is_some_and(|e| !e.is_empty() && e.iter().all(|m| m.is_string())),
        "{body}"
    );
}

#[tokio::test]
async fn a_message_set_inactive_after_acceptance_still_sends() {
    let (app, fx) = audience().await;
    let token = send(&app, &fx, json!({})).await;
    app.admin_ok(
        Method::PATCH,
        &format!("/admin/v1/accounts/A/messages/{}", fx.message),
        json!({"status": "Inactive", "text": "Changed %%FirstName%%"}),
    )
    .await;
    run_engine(&app).await;
    // The text was fixed at acceptance too.
    assert_delivered(
        &app,
        &fx,
        &fx.message,
        &token,
        FIXTURE_TEXT,
        &[(ANN, "Hello Ann"), (BOB, "Hello Bob")],
        2,
        NOW_CST,
    )
    .await;
    // A new send of the Inactive message is refused.
    let r = app.send_list(&fx.token, &fx.message, &json!({})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body,
        json!({"errors": ["The Message must be in Active status in order to send."]})
    );
}

// ---------------------------------------------------------------------------------------------
// Text: encodings and segments; MMS.

#[tokio::test]
async fn encodings_and_segments_are_reported_in_the_status_and_the_outbox() {
    let app = spawn_app().await;
    let fx = fixture(&app, "A").await;
    const SAM: &str = "15550300011";
    app.create_list("A", "Solo").await;
    import_contacts(
        &app,
        "A",
        "Solo",
        json!([{"mobileNumber": SAM, "attributes": {"FirstName": "Sam"}}]),
        true,
    )
    .await;
    let a = |n: usize| "a".repeat(n);
    // (text, encoding, segments): of the send and of Sam's text alike (no placeholders).
    let cases: Vec<(String, &str, u32)> = vec![
        ("Price: 5€ [today] {x} ~^|\\".to_string(), "GSM-7", 1),
        (a(160), "GSM-7", 1),
        (a(161), "GSM-7", 2),
        // Extension characters count two septets.
        (format!("{}[", a(158)), "GSM-7", 1),
        (format!("{}[", a(159)), "GSM-7", 2),
        (format!("{}€", a(159)), "GSM-7", 2),
        (a(200), "GSM-7", 2),
        (a(306), "GSM-7", 2),
        // A part never splits an escape pair: 152 + 2 + 152 = 306 septets, but 3 parts.
        (format!("{}€{}", a(152), a(152)), "GSM-7", 3),
        ("Hi 👋".to_string(), "UCS-2", 1),
        // Emoji count two UTF-16 units.
        (format!("{}👋", a(68)), "UCS-2", 1),
        (format!("{}👋", a(69)), "UCS-2", 2),
        // 66 + 2 + 66 = 134 units = 2 × 67, but a part never splits a surrogate pair.
        (format!("{}👋{}", a(66), a(66)), "UCS-2", 3),
    ];
    let mut tokens = Vec::new();
    for (text, _, _) in &cases {
        tokens.push(
            send(
                &app,
                &fx,
                json!({"OverrideTemplateTargetLists": true, "TargetListIds": ["Solo"],
                       "OverrideMessageText": true, "MessageText": text}),
            )
            .await,
        );
    }
    // Substitution: the status reports the text before it, the recipient's entries its own.
    // 13 + 150 = 163 septets (2 segments) before, "Sam" + 150 = 153 (1) after.
    let long_name = send(
        &app,
        &fx,
        json!({"OverrideTemplateTargetLists": true, "TargetListIds": ["Solo"],
               "OverrideMessageText": true, "MessageText": format!("%%FirstName%%{}", a(150))}),
    )
    .await;
    run_engine(&app).await;

    for ((text, encoding, segments), token) in cases.iter().zip(&tokens) {
        let body = status(&app, &fx, token).await;
        assert_eq!(body["status"], "Finished", "{text}: {body}");
        assert_eq!(body["message"], text.as_str());
        assert_eq!(body["encoding"], *encoding, "{text}");
        assert_eq!(body["segments"], *segments, "{text}");
        let entry = &body["tracking"][0];
        assert_eq!(entry["mobileNumber"], SAM);
        assert_eq!(entry["encoding"], *encoding, "{text}: {entry}");
        assert_eq!(entry["segments"], *segments, "{text}: {entry}");
        let mut expected = sms(token, SAM, text);
        expected["encoding"] = json!(encoding);
        expected["segments"] = json!(segments);
        assert_outbox(&app, token, vec![expected]).await;
    }

    let body = status(&app, &fx, &long_name).await;
    assert_eq!(
        (&body["encoding"], &body["segments"]),
        (&json!("GSM-7"), &json!(2))
    );
    assert_eq!(body["tracking"][0]["segments"], 1, "{body}");
    assert_eq!(body["tracking"][0]["encoding"], "GSM-7", "{body}");
    assert_outbox(
        &app,
        &long_name,
        vec![sms(&long_name, SAM, &format!("Sam{}", a(150)))],
    )
    .await;
}

#[tokio::test]
async fn an_attribute_outside_gsm7_makes_that_recipients_text_ucs2() {
    let app = spawn_app().await;
    let fx = fixture(&app, "A").await;
    app.create_list("A", "Emo").await;
    import_contacts(
        &app,
        "A",
        "Emo",
        json!([{"mobileNumber": "15550300022", "attributes": {"FirstName": "Zoë 😀"}},
               {"mobileNumber": "15550300033", "attributes": {"FirstName": "Ann"}}]),
        true,
    )
    .await;
    let token = send(
        &app,
        &fx,
        json!({"OverrideTemplateTargetLists": true, "TargetListIds": ["Emo"]}),
    )
    .await;
    run_engine(&app).await;
    let body = status(&app, &fx, &token).await;
    assert_eq!(
        (&body["encoding"], &body["segments"]),
        (&json!("GSM-7"), &json!(1))
    );
    assert_eq!(body["tracking"][0]["encoding"], "UCS-2", "{body}");
    assert_eq!(body["tracking"][1]["encoding"], "GSM-7", "{body}");
    let mut emo = sms(&token, "15550300022", "Hello Zoë 😀");
    emo["encoding"] = json!("UCS-2");
    assert_outbox(
        &app,
        &token,
        vec![emo, sms(&token, "15550300033", "Hello Ann")],
    )
    .await;
}

#[tokio::test]
async fn a_content_url_makes_the_send_an_mms() {
    let (app, fx) = audience().await;
    app.create_message(
        "A",
        json!({"id": "Pic", "name": "Pic", "code": CODE, "status": "Active", "text": "Look",
               "targetListIds": ["ListA"], "exclusionListIds": ["Exclude"],
               "contentUrl": "https://cdn.example.com/default.png"}),
    )
    .await;
    let given = send(
        &app,
        &fx,
        json!({"ContentURL": "https://cdn.example.com/given.jpg"}),
    )
    .await;
    let default = send_message(&app, &fx, "Pic", json!({})).await;
    let overridden = send_message(
        &app,
        &fx,
        "Pic",
        json!({"ContentURL": "http://media.example.org/x.gif"}),
    )
    .await;
    run_engine(&app).await;
    for (token, text, url) in [
        (&given, None, "https://cdn.example.com/given.jpg"),
        (
            &default,
            Some("Look"),
            "https://cdn.example.com/default.png",
        ),
        (&overridden, Some("Look"), "http://media.example.org/x.gif"),
    ] {
        let expected: Vec<Value> = [(ANN, "Hello Ann"), (BOB, "Hello Bob")]
            .iter()
            .map(|(to, t)| {
                let mut item = sms(token, to, text.unwrap_or(t));
                item["contentUrl"] = json!(url);
                item
            })
            .collect();
        assert_outbox(&app, token, expected).await;
    }
    let body = status_of(&app, &fx, "Pic", &default).await;
    assert_eq!(body["status"], "Finished");
    assert_eq!(split(&body).1, vec![tracked(ANN, 4000), tracked(BOB, 4000)]);
}

// ---------------------------------------------------------------------------------------------
// The simulator's magic numbers (API.md §8).

#[tokio::test]
async fn the_simulators_magic_numbers() {
    let app = spawn_app().await;
    let fx = fixture(&app, "A").await;
    const UNDELIVERABLE: &str = "15550110000";
    const REFUSED: &str = "15550110001";
    const EXPIRED: &str = "15550110002";
    const DELIVERED: &str = "15550110003";
    subscribed_list(&app, "Magic", &[UNDELIVERABLE, REFUSED, EXPIRED, DELIVERED]).await;
    let token = send(
        &app,
        &fx,
        json!({"OverrideTemplateTargetLists": true, "TargetListIds": ["Magic"],
               "OverrideMessageText": true, "MessageText": "Test"}),
    )
    .await;
    run_engine(&app).await;
    // Refused at submission: not in the outbox.
    assert_outbox(
        &app,
        &token,
        vec![
            sms(&token, UNDELIVERABLE, "Test"),
            sms(&token, EXPIRED, "Test"),
            sms(&token, DELIVERED, "Test"),
        ],
    )
    .await;
    let (rest, tracking) = split(&status(&app, &fx, &token).await);
    assert_eq!(
        rest,
        doc(
            "Test",
            "Finished",
            4,
            counts(&[("recipients", 4), ("delivered", 1), ("failed", 3)]),
            Some(NOW_CST),
            None,
            1,
            "GSM-7"
        )
    );
    assert_eq!(
        tracking,
        vec![
            tracked(UNDELIVERABLE, 4500),
            tracked(REFUSED, 2500),
            tracked(EXPIRED, 4501),
            tracked(DELIVERED, 4000),
        ]
    );
}

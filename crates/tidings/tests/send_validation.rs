//! `POST /sms/v1/messageList/{id}/send` validation (API.md §1, §4): every row of the table, the
//! combinations its notes describe, the generic §1 messages, and every accepted input format.
//! Each case is a real HTTP request and asserts the whole 400 body.

mod common;

use common::{assert_accepted, assert_errors, fixture, spawn_app, Fixture, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

const ROW_1: fn(&str) -> String = |id| format!("Message id {id} isn't valid.");
const ROW_2: fn(&str) -> String = |id| format!("Message {id} isn't valid for the client.");
const ROW_3: &str = "The Message must be in Active status in order to send.";
const ROW_4: &str = "The count of Target List IDs can't be zero.";
const ROW_5: fn(&str) -> String = |id| format!("Target list id [{id}] is invalid.");
const ROW_6: &str = "TargetListIds isn't applicable when OverrideTemplateTargetLists is false.";
const ROW_7: &str = "Cannot override template target lists when no target list ids are specified.";
const ROW_8: &str = "The count of Exclusion List IDs can't be zero.";
const ROW_9: fn(&str) -> String = |id| format!("Exclusion list id [{id}] is invalid.");
const ROW_10: &str =
    "ExclusionListIds isn't applicable when OverrideTemplateExclusionLists is false.";
const ROW_11: &str =
    "Cannot override template exclusion lists when no exclusion list ids are specified.";
const ROW_12: &str = "Exclusion list ids can't be specified when IgnoreExclusionLists is true.";
const ROW_13: &str =
    "OverrideTemplateExclusionLists can't be true when IgnoreExclusionLists is true.";
const ROW_14: &str = "Message is blank and no override message was provided.";
const ROW_15: &str = "Cannot override message text with a blank message.";
const ROW_16: &str = "MessageText isn't applicable when OverrideMessageText is false.";
const ROW_17: &str = "A UTC offset must be specified when using a blackout window.";
const ROW_18: fn(&str) -> String = |v| format!("{v} isn't a valid UTC offset.");
const ROW_19: &str = "A window start time must be specified when using a blackout window.";
const ROW_20: fn(&str) -> String = |v| format!("{v} isn't a valid blackout window start time.");
const ROW_21: &str = "A window end time must be specified when using a blackout window.";
const ROW_22: fn(&str) -> String = |v| format!("{v} isn't a valid blackout window end time.");
const ROW_23: fn(&str) -> String = |v| format!("{v} isn't a valid send time (yyyy-MM-dd HH:mm).");
const ROW_24: fn(&str) -> String = |v| format!("{v} isn't a valid content URL.");

const NOT_JSON: &str = "The request body isn't valid JSON.";

async fn setup() -> (TestApp, Fixture) {
    let app = spawn_app().await;
    let fx = fixture(&app, "A").await;
    (app, fx)
}

/// Sends `body` to the fixture's message and asserts the whole 400 body.
async fn expect(app: &TestApp, fx: &Fixture, body: Value, expected: &[&str]) {
    expect_for(app, fx, &fx.message, body, expected).await;
}

async fn expect_for(app: &TestApp, fx: &Fixture, id: &str, body: Value, expected: &[&str]) {
    let r = app.send_list(&fx.token, id, &body).await;
    common::assert_json_reply(&r);
    assert!(
        r.body == json!({ "errors": expected }),
        "POST .../{id}/send {body}\n  expected {expected:?}\n  got {} {}",
        r.status,
        r.body
    );
    assert_errors(&r, expected);
}

async fn expect_raw(app: &TestApp, fx: &Fixture, id: &str, body: &str, expected: &[&str]) {
    let r = app
        .send_list_raw(&fx.token, id, body.as_bytes().to_vec())
        .await;
    common::assert_json_reply(&r);
    assert!(
        r.body == json!({ "errors": expected }),
        "POST .../{id}/send {body}\n  expected {expected:?}\n  got {} {}",
        r.status,
        r.body
    );
    assert_errors(&r, expected);
}

/// Sends `body` to message `id` and asserts a 202 with a minted token.
async fn accepted_for(app: &TestApp, fx: &Fixture, id: &str, body: Value) -> String {
    let r = app.send_list(&fx.token, id, &body).await;
    assert!(
        r.status == reqwest::StatusCode::ACCEPTED,
        "POST .../{id}/send {body} answered {} {}",
        r.status,
        r.body
    );
    assert_accepted(&r)
}

async fn accepted(app: &TestApp, fx: &Fixture, body: Value) -> String {
    accepted_for(app, fx, &fx.message, body).await
}

/// A message in account A with the given extra fields (code 88976, text "Hi", target ListA).
async fn message(app: &TestApp, id: &str, fields: Value) -> String {
    let mut body = json!({"id": id, "name": id, "code": "88976", "text": "Hi",
                          "status": "Active", "targetListIds": ["ListA"]});
    for (k, v) in fields.as_object().expect("object") {
        body[k] = v.clone();
    }
    app.create_message("A", body).await;
    id.to_string()
}

/// Account B (its own client, code, lists `ListA`, `ListB`, `Exclude`, and message
/// `MzA6Nzg6MA`) plus a list `BOnly` and a message `BOnlyMsg` that exist only there.
async fn other_account(app: &TestApp) -> Fixture {
    let b = fixture(app, "B").await;
    app.create_list("B", "BOnly").await;
    app.create_message(
        "B",
        json!({"id": "BOnlyMsg", "name": "b", "code": "88976", "text": "  ",
               "status": "Draft"}),
    )
    .await;
    b
}

// ---------------------------------------------------------------------------------------------
// Rows 1 and 2: the message id.

#[tokio::test]
async fn row_01_malformed_message_id() {
    let (app, fx) = setup().await;
    let long = "a".repeat(65);
    for (path, shown) in [
        ("bad%20id", "bad id"),
        ("a.b", "a.b"),
        (long.as_str(), long.as_str()),
        ("%20MzA6Nzg6MA", " MzA6Nzg6MA"),
        ("MzA6Nzg6MA%20", "MzA6Nzg6MA "),
        ("a%2Bb", "a+b"),
    ] {
        expect_for(&app, &fx, path, json!({}), &[&ROW_1(shown)]).await;
    }
}

#[tokio::test]
async fn row_01_skips_message_checks_but_runs_body_checks() {
    let (app, fx) = setup().await;
    // Message checks (#3, #4 default case, #14) cannot run; every body check still does.
    expect_for(
        &app,
        &fx,
        "bad%20id",
        json!({"TargetListIds": ["ListB", "nope"], "MessageText": "x", "sendTime": "tomorrow",
               "blackoutWindow": {"UtcOffset": "Z", "WindowStart": "0900", "WindowEnd": "1700"}}),
        &[
            &ROW_1("bad id"),
            &ROW_5("nope"),
            ROW_6,
            ROW_16,
            &ROW_18("Z"),
            &ROW_23("tomorrow"),
        ],
    )
    .await;
    // #4's body case still applies.
    expect_for(
        &app,
        &fx,
        "a.b",
        json!({"OverrideTemplateTargetLists": true, "TargetListIds": [" "]}),
        &[&ROW_1("a.b"), ROW_4],
    )
    .await;
    expect_for(
        &app,
        &fx,
        "a.b",
        json!({"OverrideTemplateTargetLists": true, "OverrideMessageText": true}),
        &[&ROW_1("a.b"), ROW_7, ROW_15],
    )
    .await;
}

#[tokio::test]
async fn row_02_well_formed_unknown_message() {
    let (app, fx) = setup().await;
    let longest = "b".repeat(64);
    for id in ["NoSuchMessage", "x", "a_b-c", longest.as_str()] {
        expect_for(&app, &fx, id, json!({}), &[&ROW_2(id)]).await;
    }
}

#[tokio::test]
async fn row_02_skips_message_checks_but_runs_body_checks() {
    let (app, fx) = setup().await;
    // B's message is a Draft with blank text and no target lists: from A it does not exist, so
    // rows 3, 4 and 14 (which would all apply to it) are skipped.
    other_account(&app).await;
    expect_for(&app, &fx, "BOnlyMsg", json!({}), &[&ROW_2("BOnlyMsg")]).await;
    expect_for(
        &app,
        &fx,
        "BOnlyMsg",
        json!({"ExclusionListIds": ["gone"], "OverrideMessageText": true, "ContentURL": "/relative"}),
        &[
            &ROW_2("BOnlyMsg"),
            &ROW_9("gone"),
            ROW_10,
            ROW_15,
            &ROW_24("/relative"),
        ],
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// Row 3: status.

#[tokio::test]
async fn row_03_inactive_and_draft_messages_cannot_send() {
    let (app, fx) = setup().await;
    for status in ["Inactive", "Draft"] {
        let id = message(&app, &format!("{status}Msg"), json!({"status": status})).await;
        expect_for(&app, &fx, &id, json!({}), &[ROW_3]).await;
        // Body checks are reported with it.
        expect_for(
            &app,
            &fx,
            &id,
            json!({"MessageText": "x"}),
            &[ROW_3, ROW_16],
        )
        .await;
    }
}

#[tokio::test]
async fn row_03_scheduled_and_active_messages_send() {
    let (app, fx) = setup().await;
    let scheduled = message(&app, "ScheduledMsg", json!({"status": "Scheduled"})).await;
    accepted_for(&app, &fx, &scheduled, json!({})).await;
    let active = message(&app, "ActiveMsg", json!({"status": "Active"})).await;
    accepted_for(&app, &fx, &active, json!({})).await;
}

// ---------------------------------------------------------------------------------------------
// Rows 4–7: target lists.

#[tokio::test]
async fn row_04_no_default_target_lists() {
    let (app, fx) = setup().await;
    let id = message(&app, "NoTargets", json!({"targetListIds": []})).await;
    expect_for(&app, &fx, &id, json!({}), &[ROW_4]).await;
    for flag in [json!(false), json!("false"), json!("FALSE"), Value::Null] {
        expect_for(
            &app,
            &fx,
            &id,
            json!({"OverrideTemplateTargetLists": flag}),
            &[ROW_4],
        )
        .await;
    }
    // Blank entries without the override flag are ignored: still the defaults, still none.
    expect_for(
        &app,
        &fx,
        &id,
        json!({"TargetListIds": ["", " "]}),
        &[ROW_4],
    )
    .await;
    // Overriding supplies lists.
    accepted_for(
        &app,
        &fx,
        &id,
        json!({"OverrideTemplateTargetLists": true, "TargetListIds": ["ListB"]}),
    )
    .await;
    accepted_for(
        &app,
        &fx,
        &id,
        json!({"OverrideTemplateTargetLists": "True", "TargetListIds": ["", "ListB", " "]}),
    )
    .await;
}

#[tokio::test]
async fn row_04_only_blank_target_ids_with_override() {
    let (app, fx) = setup().await;
    for ids in [json!([""]), json!([" "]), json!(["", "  ", "\t"])] {
        expect(
            &app,
            &fx,
            json!({"OverrideTemplateTargetLists": true, "TargetListIds": ids}),
            &[ROW_4],
        )
        .await;
    }
}

#[tokio::test]
async fn row_05_invalid_target_ids_in_first_appearance_order() {
    let (app, fx) = setup().await;
    other_account(&app).await;
    // Malformed (`a b`, `a.b`), unknown well-formed (`nope`) and another account's (`BOnly`),
    // each once, in order of first appearance; valid and blank entries are not reported.
    expect(
        &app,
        &fx,
        json!({"OverrideTemplateTargetLists": true,
               "TargetListIds": ["nope", "ListA", "a b", "", "nope", "BOnly", "a.b", "a b", "ListB"]}),
        &[
            &ROW_5("nope"),
            &ROW_5("a b"),
            &ROW_5("BOnly"),
            &ROW_5("a.b"),
        ],
    )
    .await;
    // Whatever the flags: without the override flag row 6 follows.
    expect(
        &app,
        &fx,
        json!({"TargetListIds": ["zzz", "ListB"]}),
        &[&ROW_5("zzz"), ROW_6],
    )
    .await;
    expect(
        &app,
        &fx,
        json!({"OverrideTemplateTargetLists": false, "TargetListIds": ["a b"]}),
        &[&ROW_5("a b"), ROW_6],
    )
    .await;
    let long = "L".repeat(65);
    expect(
        &app,
        &fx,
        json!({"OverrideTemplateTargetLists": "TRUE", "TargetListIds": [long]}),
        &[&ROW_5(&long)],
    )
    .await;
}

#[tokio::test]
async fn row_06_target_ids_without_override() {
    let (app, fx) = setup().await;
    for flag in [Value::Null, json!(false), json!("false"), json!("False")] {
        let mut body = json!({"TargetListIds": ["ListB"]});
        if !flag.is_null() {
            body["OverrideTemplateTargetLists"] = flag;
        }
        expect(&app, &fx, body, &[ROW_6]).await;
    }
    expect(
        &app,
        &fx,
        json!({"TargetListIds": [" ", "ListB"]}),
        &[ROW_6],
    )
    .await;
    // Only blank entries, or none, are ignored without the flag: the defaults are used.
    accepted(&app, &fx, json!({"TargetListIds": [" ", ""]})).await;
    accepted(&app, &fx, json!({"TargetListIds": []})).await;
}

#[tokio::test]
async fn row_07_override_without_target_ids() {
    let (app, fx) = setup().await;
    for flag in [json!(true), json!("true"), json!("TRUE")] {
        expect(
            &app,
            &fx,
            json!({"OverrideTemplateTargetLists": flag}),
            &[ROW_7],
        )
        .await;
    }
    // `[]` is row 7 only (not row 4); null is absent.
    expect(
        &app,
        &fx,
        json!({"OverrideTemplateTargetLists": true, "TargetListIds": []}),
        &[ROW_7],
    )
    .await;
    expect(
        &app,
        &fx,
        json!({"OverrideTemplateTargetLists": true, "TargetListIds": null}),
        &[ROW_7],
    )
    .await;
    // A type error counts as absent.
    expect(
        &app,
        &fx,
        json!({"OverrideTemplateTargetLists": true, "TargetListIds": "ListB"}),
        &["TargetListIds must be an array of strings.", ROW_7],
    )
    .await;
    // On a message without defaults, `[]` is still row 7 only.
    let id = message(&app, "NoTargets", json!({"targetListIds": []})).await;
    expect_for(
        &app,
        &fx,
        &id,
        json!({"OverrideTemplateTargetLists": true, "TargetListIds": []}),
        &[ROW_7],
    )
    .await;
}

#[tokio::test]
async fn rows_04_to_07_valid_target_combinations() {
    let (app, fx) = setup().await;
    accepted(
        &app,
        &fx,
        json!({"OverrideTemplateTargetLists": true, "TargetListIds": ["ListA", "ListB", "ListA"]}),
    )
    .await;
    accepted(&app, &fx, json!({"OverrideTemplateTargetLists": false})).await;
    accepted(
        &app,
        &fx,
        json!({"OverrideTemplateTargetLists": "false", "TargetListIds": []}),
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// Rows 8–13: exclusion lists.

#[tokio::test]
async fn row_08_only_blank_exclusion_ids_with_override() {
    let (app, fx) = setup().await;
    for ids in [json!([""]), json!([" "]), json!(["", "  "])] {
        expect(
            &app,
            &fx,
            json!({"OverrideTemplateExclusionLists": true, "ExclusionListIds": ids}),
            &[ROW_8],
        )
        .await;
    }
    // Without the flag blank entries are ignored.
    accepted(&app, &fx, json!({"ExclusionListIds": [" "]})).await;
    accepted(
        &app,
        &fx,
        json!({"IgnoreExclusionLists": true, "ExclusionListIds": ["", " "]}),
    )
    .await;
}

#[tokio::test]
async fn row_09_invalid_exclusion_ids_in_first_appearance_order() {
    let (app, fx) = setup().await;
    other_account(&app).await;
    expect(
        &app,
        &fx,
        json!({"OverrideTemplateExclusionLists": true,
               "ExclusionListIds": ["Exclude", "gone", "a b", "gone", " ", "BOnly", "ListB", "x.y"]}),
        &[
            &ROW_9("gone"),
            &ROW_9("a b"),
            &ROW_9("BOnly"),
            &ROW_9("x.y"),
        ],
    )
    .await;
    // Whatever the flags.
    expect(
        &app,
        &fx,
        json!({"ExclusionListIds": ["gone"]}),
        &[&ROW_9("gone"), ROW_10],
    )
    .await;
    expect(
        &app,
        &fx,
        json!({"IgnoreExclusionLists": true, "ExclusionListIds": ["gone"]}),
        &[&ROW_9("gone"), ROW_12],
    )
    .await;
}

#[tokio::test]
async fn row_10_exclusion_ids_without_override() {
    let (app, fx) = setup().await;
    for flag in [Value::Null, json!(false), json!("FALSE")] {
        let mut body = json!({"ExclusionListIds": ["ListB"]});
        if !flag.is_null() {
            body["OverrideTemplateExclusionLists"] = flag;
        }
        expect(&app, &fx, body, &[ROW_10]).await;
    }
    expect(
        &app,
        &fx,
        json!({"ExclusionListIds": ["ListB"], "IgnoreExclusionLists": false}),
        &[ROW_10],
    )
    .await;
    // With IgnoreExclusionLists true it is row 12 instead.
    expect(
        &app,
        &fx,
        json!({"ExclusionListIds": ["ListB"], "IgnoreExclusionLists": "true"}),
        &[ROW_12],
    )
    .await;
}

#[tokio::test]
async fn row_11_override_without_exclusion_ids() {
    let (app, fx) = setup().await;
    expect(
        &app,
        &fx,
        json!({"OverrideTemplateExclusionLists": true}),
        &[ROW_11],
    )
    .await;
    expect(
        &app,
        &fx,
        json!({"OverrideTemplateExclusionLists": "true", "ExclusionListIds": []}),
        &[ROW_11],
    )
    .await;
    expect(
        &app,
        &fx,
        json!({"OverrideTemplateExclusionLists": true, "ExclusionListIds": null,
               "IgnoreExclusionLists": false}),
        &[ROW_11],
    )
    .await;
    // With IgnoreExclusionLists true it is row 13 only.
    expect(
        &app,
        &fx,
        json!({"OverrideTemplateExclusionLists": true, "ExclusionListIds": [],
               "IgnoreExclusionLists": true}),
        &[ROW_13],
    )
    .await;
}

#[tokio::test]
async fn row_12_exclusion_ids_with_ignore() {
    let (app, fx) = setup().await;
    expect(
        &app,
        &fx,
        json!({"IgnoreExclusionLists": true, "ExclusionListIds": ["ListB"]}),
        &[ROW_12],
    )
    .await;
    expect(
        &app,
        &fx,
        json!({"IgnoreExclusionLists": "TRUE", "ExclusionListIds": [" ", "Exclude", "ListB"]}),
        &[ROW_12],
    )
    .await;
}

#[tokio::test]
async fn row_13_override_with_ignore() {
    let (app, fx) = setup().await;
    expect(
        &app,
        &fx,
        json!({"IgnoreExclusionLists": true, "OverrideTemplateExclusionLists": true}),
        &[ROW_13],
    )
    .await;
    expect(
        &app,
        &fx,
        json!({"IgnoreExclusionLists": true, "OverrideTemplateExclusionLists": true,
               "ExclusionListIds": ["ListB"]}),
        &[ROW_12, ROW_13],
    )
    .await;
    // Row 8 has no IgnoreExclusionLists condition.
    expect(
        &app,
        &fx,
        json!({"IgnoreExclusionLists": true, "OverrideTemplateExclusionLists": true,
               "ExclusionListIds": [" "]}),
        &[ROW_8, ROW_13],
    )
    .await;
}

#[tokio::test]
async fn rows_08_to_13_valid_exclusion_combinations() {
    let (app, fx) = setup().await;
    accepted(
        &app,
        &fx,
        json!({"OverrideTemplateExclusionLists": true, "ExclusionListIds": ["ListB", "Exclude"]}),
    )
    .await;
    accepted(&app, &fx, json!({"IgnoreExclusionLists": true})).await;
    accepted(
        &app,
        &fx,
        json!({"IgnoreExclusionLists": "true", "OverrideTemplateExclusionLists": "false",
               "ExclusionListIds": []}),
    )
    .await;
    accepted(
        &app,
        &fx,
        json!({"OverrideTemplateExclusionLists": false, "ExclusionListIds": []}),
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// Rows 14–16: text.

#[tokio::test]
async fn row_14_blank_stored_text_without_override() {
    let (app, fx) = setup().await;
    for (id, text) in [("EmptyText", ""), ("BlankText", "  \n\t ")] {
        message(&app, id, json!({"text": text})).await;
        expect_for(&app, &fx, id, json!({}), &[ROW_14]).await;
        expect_for(
            &app,
            &fx,
            id,
            json!({"OverrideMessageText": "false"}),
            &[ROW_14],
        )
        .await;
        expect_for(
            &app,
            &fx,
            id,
            json!({"MessageText": "Hi"}),
            &[ROW_14, ROW_16],
        )
        .await;
        accepted_for(
            &app,
            &fx,
            id,
            json!({"OverrideMessageText": true, "MessageText": "Hi"}),
        )
        .await;
    }
}

#[tokio::test]
async fn row_15_override_with_blank_text() {
    let (app, fx) = setup().await;
    for text in [Value::Null, json!(""), json!("   "), json!(" \n\t ")] {
        let mut body = json!({"OverrideMessageText": true});
        body["MessageText"] = text;
        expect(&app, &fx, body, &[ROW_15]).await;
    }
    expect(&app, &fx, json!({"OverrideMessageText": "True"}), &[ROW_15]).await;
    // A type error counts as absent.
    expect(
        &app,
        &fx,
        json!({"OverrideMessageText": true, "MessageText": 5}),
        &["MessageText must be a string.", ROW_15],
    )
    .await;
}

#[tokio::test]
async fn row_16_text_without_override() {
    let (app, fx) = setup().await;
    for flag in [Value::Null, json!(false), json!("false")] {
        for text in ["Hi", "", " "] {
            let mut body = json!({"MessageText": text});
            if !flag.is_null() {
                body["OverrideMessageText"] = flag.clone();
            }
            expect(&app, &fx, body, &[ROW_16]).await;
        }
    }
    // null is absent.
    accepted(&app, &fx, json!({"MessageText": null})).await;
}

#[tokio::test]
async fn row_16a_override_text_over_1600_characters_is_refused_and_nothing_is_stored() {
    let (app, fx) = setup().await;
    // 1,601 characters: refused, the field named as the client spelled it, after row 16's
    // place and before the blackout window's rows.
    let over = "😀".repeat(1601);
    expect(
        &app,
        &fx,
        json!({"OverrideMessageText": true, "messageTEXT": over, "sendTime": "soon"}),
        &[
            "messageTEXT can't be longer than 1600 characters.",
            "soon isn't a valid send time (yyyy-MM-dd HH:mm).",
        ],
    )
    .await;
    expect(
        &app,
        &fx,
        json!({"OverrideMessageText": true, "MessageText": "a".repeat(1601)}),
        &["MessageText can't be longer than 1600 characters."],
    )
    .await;
    assert_eq!(app.send_count("A").await, 0, "nothing was recorded");
    // Without the override only row 16 applies.
    expect(&app, &fx, json!({"MessageText": over}), &[ROW_16]).await;
    // Exactly 1,600 characters (6,400 bytes) is accepted.
    accepted(
        &app,
        &fx,
        json!({"OverrideMessageText": true, "MessageText": "😀".repeat(1600)}),
    )
    .await;
    assert_eq!(app.send_count("A").await, 1);
}

// ---------------------------------------------------------------------------------------------
// Rows 17–22: blackout window.

fn window(offset: Value, start: Value, end: Value) -> Value {
    let mut w = serde_json::Map::new();
    for (k, v) in [
        ("UtcOffset", offset),
        ("WindowStart", start),
        ("WindowEnd", end),
    ] {
        if v != json!("<absent>") {
            w.insert(k.to_string(), v);
        }
    }
    json!({ "blackoutWindow": Value::Object(w) })
}

const ABSENT: &str = "<absent>";

#[tokio::test]
async fn row_17_missing_utc_offset() {
    let (app, fx) = setup().await;
    for offset in [json!(ABSENT), Value::Null, json!(""), json!("  ")] {
        expect(
            &app,
            &fx,
            window(offset, json!("0900"), json!("1700")),
            &[ROW_17],
        )
        .await;
    }
}

#[tokio::test]
async fn row_18_invalid_utc_offsets() {
    let (app, fx) = setup().await;
    for offset in [
        "0500", "+5:30", "Z", "+0560", "-13", "+15", "-12:01", "+14:01", "UTC", "+5:3", "--5",
        " -0500", "+123", "-0500 ",
    ] {
        expect(
            &app,
            &fx,
            window(json!(offset), json!("0900"), json!("1700")),
            &[&ROW_18(offset)],
        )
        .await;
    }
}

#[tokio::test]
async fn row_19_missing_window_start() {
    let (app, fx) = setup().await;
    for start in [json!(ABSENT), Value::Null, json!(""), json!(" ")] {
        expect(
            &app,
            &fx,
            window(json!("-0500"), start, json!("1700")),
            &[ROW_19],
        )
        .await;
    }
}

#[tokio::test]
async fn row_20_invalid_window_starts() {
    let (app, fx) = setup().await;
    for start in [
        "930", "2400", "15", "12:60", "9:5", "24:00", "0960", "9h30", "-0900",
    ] {
        expect(
            &app,
            &fx,
            window(json!("-0500"), json!(start), json!("1700")),
            &[&ROW_20(start)],
        )
        .await;
    }
}

#[tokio::test]
async fn row_21_missing_window_end() {
    let (app, fx) = setup().await;
    for end in [json!(ABSENT), Value::Null, json!(""), json!("   ")] {
        expect(
            &app,
            &fx,
            window(json!("-0500"), json!("0900"), end),
            &[ROW_21],
        )
        .await;
    }
}

#[tokio::test]
async fn row_22_invalid_window_ends() {
    let (app, fx) = setup().await;
    for end in ["930", "2400", "15", "12:60", "17:0", "1760"] {
        expect(
            &app,
            &fx,
            window(json!("-0500"), json!("0900"), json!(end)),
            &[&ROW_22(end)],
        )
        .await;
    }
}

#[tokio::test]
async fn rows_17_to_22_together() {
    let (app, fx) = setup().await;
    expect(
        &app,
        &fx,
        json!({"blackoutWindow": {}}),
        &[ROW_17, ROW_19, ROW_21],
    )
    .await;
    expect(
        &app,
        &fx,
        window(json!("+5:30"), json!("930"), json!("2400")),
        &[&ROW_18("+5:30"), &ROW_20("930"), &ROW_22("2400")],
    )
    .await;
    expect(
        &app,
        &fx,
        window(json!(""), json!("12:60"), json!(ABSENT)),
        &[ROW_17, &ROW_20("12:60"), ROW_21],
    )
    .await;
    // `blackoutWindow: null` is absent.
    accepted(&app, &fx, json!({"blackoutWindow": null})).await;
}

// ---------------------------------------------------------------------------------------------
// Rows 23 and 24.

#[tokio::test]
async fn row_23_invalid_send_times() {
    let (app, fx) = setup().await;
    for t in [
        "2030-1-5 9:00",
        "2030-02-30 10:00",
        "tomorrow",
        "2030-01-05",
        "2030-01-05 9:00",
        "2030-01-05 24:00",
        "2030-01-05 10:60",
        "2030-01-05 10:00:60",
        "2030/01/05 10:00",
        "2030-01-05T10:00Z",
        "2030-01-05 10:00 ",
        "2029-02-29 10:00",
        "2030-13-01 10:00",
    ] {
        expect(&app, &fx, json!({"sendTime": t}), &[&ROW_23(t)]).await;
    }
}

#[tokio::test]
async fn row_24_invalid_content_urls() {
    let (app, fx) = setup().await;
    for u in [
        "ftp://x",
        "not a url",
        "/relative",
        "example.com/a.png",
        "http://",
        "mailto:a@b.c",
        "https:///path",
    ] {
        expect(&app, &fx, json!({"ContentURL": u}), &[&ROW_24(u)]).await;
    }
    // Blank is absent.
    accepted(&app, &fx, json!({"ContentURL": " "})).await;
}

// ---------------------------------------------------------------------------------------------
// Many rows at once, in table order.

#[tokio::test]
async fn every_body_only_row_with_a_malformed_id() {
    let (app, fx) = setup().await;
    expect_for(
        &app,
        &fx,
        "a.b",
        json!({"TargetListIds": ["nope"], "ExclusionListIds": ["gone"],
               "IgnoreExclusionLists": true, "OverrideTemplateExclusionLists": true,
               "MessageText": "x",
               "blackoutWindow": {"UtcOffset": "Z", "WindowStart": "15", "WindowEnd": "2400"},
               "sendTime": "tomorrow", "ContentURL": "ftp://x"}),
        &[
            &ROW_1("a.b"),
            &ROW_5("nope"),
            ROW_6,
            &ROW_9("gone"),
            ROW_12,
            ROW_13,
            ROW_16,
            &ROW_18("Z"),
            &ROW_20("15"),
            &ROW_22("2400"),
            &ROW_23("tomorrow"),
            &ROW_24("ftp://x"),
        ],
    )
    .await;
    // The complementary body rows: 4, 8, 15, 17, 19, 21.
    expect_for(
        &app,
        &fx,
        "bad%20id",
        json!({"OverrideTemplateTargetLists": true, "TargetListIds": [" "],
               "OverrideTemplateExclusionLists": true, "ExclusionListIds": [""],
               "OverrideMessageText": true, "MessageText": " ", "blackoutWindow": {}}),
        &[
            &ROW_1("bad id"),
            ROW_4,
            ROW_8,
            ROW_15,
            ROW_17,
            ROW_19,
            ROW_21,
        ],
    )
    .await;
    // And 7, 10, 11 (10 with the exclusion override false, 11 needs it true: two requests).
    expect_for(
        &app,
        &fx,
        "NoSuch",
        json!({"OverrideTemplateTargetLists": "TRUE", "OverrideTemplateExclusionLists": "true",
               "ExclusionListIds": []}),
        &[&ROW_2("NoSuch"), ROW_7, ROW_11],
    )
    .await;
    expect_for(
        &app,
        &fx,
        "NoSuch",
        json!({"OverrideTemplateTargetLists": true, "ExclusionListIds": ["ListB", "gone"]}),
        &[&ROW_2("NoSuch"), ROW_7, &ROW_9("gone"), ROW_10],
    )
    .await;
}

#[tokio::test]
async fn every_row_for_a_draft_message() {
    let (app, fx) = setup().await;
    other_account(&app).await;
    let id = message(
        &app,
        "DraftBlank",
        json!({"status": "Draft", "text": " ", "targetListIds": []}),
    )
    .await;
    expect_for(
        &app,
        &fx,
        &id,
        json!({"ContentURL": "not a url", "sendTime": "2030-02-30 10:00",
               "blackoutWindow": {"WindowEnd": "930", "WindowStart": "2400", "UtcOffset": "+0560"},
               "MessageText": "", "OverrideTemplateExclusionLists": true, "IgnoreExclusionLists": true,
               "ExclusionListIds": ["BOnly", "Exclude", "gone"],
               "TargetListIds": ["ListA", "BOnly", "a b"]}),
        &[
            ROW_3,
            ROW_4,
            &ROW_5("BOnly"),
            &ROW_5("a b"),
            ROW_6,
            &ROW_9("BOnly"),
            &ROW_9("gone"),
            ROW_12,
            ROW_13,
            ROW_14,
            ROW_16,
            &ROW_18("+0560"),
            &ROW_20("2400"),
            &ROW_22("930"),
            &ROW_23("2030-02-30 10:00"),
            &ROW_24("not a url"),
        ],
    )
    .await;
    expect_for(
        &app,
        &fx,
        &id,
        json!({"OverrideTemplateTargetLists": true, "TargetListIds": [" "],
               "OverrideTemplateExclusionLists": true, "ExclusionListIds": [" "],
               "OverrideMessageText": true, "blackoutWindow": {"WindowStart": "0900"}}),
        &[ROW_3, ROW_4, ROW_8, ROW_15, ROW_17, ROW_21],
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// The generic §1 messages.

#[tokio::test]
async fn body_that_is_not_json() {
    let (app, fx) = setup().await;
    for body in [
        "not json",
        "{",
        "{\"a\":1,}",
        "{'a':1}",
        "{} {}",
        "\"abc\"",
        "1",
        "null",
        "true",
    ] {
        expect_raw(&app, &fx, &fx.message, body, &[NOT_JSON]).await;
    }
    let r = app
        .send_list_raw(&fx.token, &fx.message, b"\xff\xfe{}".to_vec())
        .await;
    assert_errors(&r, &[NOT_JSON]);
}

#[tokio::test]
async fn json_array_bodies_are_not_objects() {
    let (app, fx) = setup().await;
    for body in ["[]", "[{}]", "[{\"OverrideMessageText\":true}]"] {
        expect_raw(&app, &fx, &fx.message, body, &[NOT_JSON]).await;
    }
    // Not JSON also hides every other check, the message id included.
    expect_raw(&app, &fx, "a.b", "[]", &[NOT_JSON]).await;
}

#[tokio::test]
async fn empty_body_is_an_empty_object() {
    let (app, fx) = setup().await;
    for body in ["", " ", "\r\n\t ", "{}"] {
        let r = app
            .send_list_raw(&fx.token, &fx.message, body.as_bytes().to_vec())
            .await;
        assert_accepted(&r);
    }
    // With no body at all and no content type.
    let r = app
        .request(
            Method::POST,
            &format!("/sms/v1/messageList/{}/send", fx.message),
            Some(&fx.token),
            None,
            &[],
        )
        .await;
    assert_accepted(&r);
    assert_eq!(app.send_count("A").await, 5);
}

#[tokio::test]
async fn body_is_json_whatever_its_content_type() {
    let (app, fx) = setup().await;
    for ct in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/xml",
    ] {
        let r = app
            .request(
                Method::POST,
                &format!("/sms/v1/messageList/{}/send", fx.message),
                Some(&fx.token),
                Some(br#"{"MessageText": "x"}"#.to_vec()),
                &[("content-type", ct)],
            )
            .await;
        assert_errors(&r, &[ROW_16]);
    }
}

#[tokio::test]
async fn wrong_types() {
    let (app, fx) = setup().await;
    for ids in [
        json!("abc"),
        json!([1]),
        json!(["a", null]),
        json!({}),
        json!(true),
    ] {
        expect(
            &app,
            &fx,
            json!({"TargetListIds": ids}),
            &["TargetListIds must be an array of strings."],
        )
        .await;
        expect(
            &app,
            &fx,
            json!({"exclusionlistids": ids}),
            &["exclusionlistids must be an array of strings."],
        )
        .await;
    }
    for text in [json!(5), json!(true), json!(["x"]), json!({"a": 1})] {
        expect(
            &app,
            &fx,
            json!({"MessageText": text}),
            &["MessageText must be a string."],
        )
        .await;
    }
    for w in [json!("x"), json!(1), json!([]), json!(true)] {
        expect(
            &app,
            &fx,
            json!({"blackoutWindow": w}),
            &["blackoutWindow must be an object."],
        )
        .await;
    }
    expect(
        &app,
        &fx,
        json!({"BLACKOUTWINDOW": "22-6"}),
        &["BLACKOUTWINDOW must be an object."],
    )
    .await;
    // A nested field is named by its own name (as spelled); it then counts as absent.
    expect(
        &app,
        &fx,
        json!({"blackoutWindow": {"UtcOffset": 5, "WindowStart": "0900", "WindowEnd": "1700"}}),
        &["UtcOffset must be a string.", ROW_17],
    )
    .await;
    expect(
        &app,
        &fx,
        json!({"blackoutWindow": {"utcoffset": "-5", "windowstart": 900, "WindowEnd": ["1700"]}}),
        &[
            "windowstart must be a string.",
            "WindowEnd must be a string.",
            ROW_19,
            ROW_21,
        ],
    )
    .await;
    expect(
        &app,
        &fx,
        json!({"sendTime": 202601011000i64}),
        &["sendTime must be a string."],
    )
    .await;
    expect(
        &app,
        &fx,
        json!({"contenturl": {"href": "http://x"}}),
        &["contenturl must be a string."],
    )
    .await;
}

#[tokio::test]
async fn invalid_booleans_use_the_clients_spelling() {
    let (app, fx) = setup().await;
    for (field, value, shown) in [
        ("OverrideMessageText", json!("yes"), "yes"),
        ("overridemessagetext", json!(1), "1"),
        ("IgnoreExclusionLists", json!([]), "[]"),
        ("allowDuplication", json!("maybe"), "maybe"),
        ("ALLOWDUPLICATION", json!(0), "0"),
        ("OverrideTemplateTargetLists", json!(""), ""),
        (
            "overrideTemplateExclusionLists",
            json!({"a": 1}),
            r#"{"a":1}"#,
        ),
        ("OverrideTemplateTargetLists", json!("tru e"), "tru e"),
        ("OverrideMessageText", json!(1.5), "1.5"),
        ("OverrideMessageText", json!([true]), "[true]"),
    ] {
        let mut body = serde_json::Map::new();
        body.insert(field.to_string(), value);
        expect(
            &app,
            &fx,
            Value::Object(body),
            &[&format!("{shown} isn't a valid value for {field}.")],
        )
        .await;
    }
    // An invalid flag counts as absent for the table.
    expect(
        &app,
        &fx,
        json!({"OverrideTemplateTargetLists": "yes", "TargetListIds": ["ListB"]}),
        &[
            "yes isn't a valid value for OverrideTemplateTargetLists.",
            ROW_6,
        ],
    )
    .await;
    expect(
        &app,
        &fx,
        json!({"OverrideMessageText": 1, "MessageText": "Hi"}),
        &["1 isn't a valid value for OverrideMessageText.", ROW_16],
    )
    .await;
}

#[tokio::test]
async fn a_field_given_twice_in_two_casings() {
    let (app, fx) = setup().await;
    expect_raw(
        &app,
        &fx,
        &fx.message,
        r#"{"sendTime": "2030-01-05 10:00", "SENDTIME": "2030-01-05 10:00"}"#,
        &["SENDTIME is specified more than once."],
    )
    .await;
    expect_raw(
        &app,
        &fx,
        &fx.message,
        r#"{"allowduplication": true, "AllowDuplication": true}"#,
        &["AllowDuplication is specified more than once."],
    )
    .await;
    expect_raw(
        &app,
        &fx,
        &fx.message,
        r#"{"blackoutWindow": {"UtcOffset": "-5", "utcOffset": "-5", "WindowStart": "0900", "WindowEnd": "1700"}}"#,
        &["utcOffset is specified more than once."],
    )
    .await;
    // Also when one of them is null.
    expect_raw(
        &app,
        &fx,
        &fx.message,
        r#"{"contentURL": null, "ContentUrl": null}"#,
        &["ContentUrl is specified more than once."],
    )
    .await;
}

#[tokio::test]
async fn generic_messages_come_before_the_table() {
    let (app, fx) = setup().await;
    expect(
        &app,
        &fx,
        json!({"sendTime": "bad", "OverrideMessageText": "yes"}),
        &[
            "yes isn't a valid value for OverrideMessageText.",
            &ROW_23("bad"),
        ],
    )
    .await;
    expect_for(
        &app,
        &fx,
        "a.b",
        json!({"ContentURL": "ftp://x", "MessageText": 5, "TargetListIds": ["nope"]}),
        &[
            "MessageText must be a string.",
            &ROW_1("a.b"),
            &ROW_5("nope"),
            ROW_6,
            &ROW_24("ftp://x"),
        ],
    )
    .await;
    // Several generic messages follow the order of §4's field table, then the table's rows.
    expect_raw(
        &app,
        &fx,
        "bad%20id",
        r#"{"ContentURL": 1, "allowDuplication": "maybe", "sendTime": [],
            "blackoutWindow": {"WindowEnd": 1, "WindowStart": 2, "UtcOffset": 3},
            "MessageText": false, "OverrideMessageText": "yes", "IgnoreExclusionLists": 0,
            "OverrideTemplateExclusionLists": [], "ExclusionListIds": [1],
            "OverrideTemplateTargetLists": {"a": 1}, "TargetListIds": "x", "targetListIDs": "y"}"#,
        &[
            "targetListIDs is specified more than once.",
            "targetListIDs must be an array of strings.",
            r#"{"a":1} isn't a valid value for OverrideTemplateTargetLists."#,
            "ExclusionListIds must be an array of strings.",
            "[] isn't a valid value for OverrideTemplateExclusionLists.",
            "0 isn't a valid value for IgnoreExclusionLists.",
            "yes isn't a valid value for OverrideMessageText.",
            "MessageText must be a string.",
            "UtcOffset must be a string.",
            "WindowStart must be a string.",
            "WindowEnd must be a string.",
            "sendTime must be a string.",
            "maybe isn't a valid value for allowDuplication.",
            "ContentURL must be a string.",
            &ROW_1("bad id"),
            ROW_17,
            ROW_19,
            ROW_21,
        ],
    )
    .await;
}

#[tokio::test]
async fn null_is_absent() {
    let (app, fx) = setup().await;
    accepted(
        &app,
        &fx,
        json!({"TargetListIds": null, "OverrideTemplateTargetLists": null,
               "ExclusionListIds": null, "OverrideTemplateExclusionLists": null,
               "IgnoreExclusionLists": null, "OverrideMessageText": null, "MessageText": null,
               "blackoutWindow": null, "sendTime": null, "allowDuplication": null,
               "ContentURL": null}),
    )
    .await;
    accepted(
        &app,
        &fx,
        json!({"blackoutWindow": {"UtcOffset": "-5", "WindowStart": "0900", "WindowEnd": "1700",
                                  "Extra": null}}),
    )
    .await;
    expect(
        &app,
        &fx,
        json!({"OverrideMessageText": true, "MessageText": null}),
        &[ROW_15],
    )
    .await;
}

#[tokio::test]
async fn unknown_fields_are_ignored() {
    let (app, fx) = setup().await;
    accepted(
        &app,
        &fx,
        json!({"Subscribe": "nonsense", "keyword": 5, "nested": {"deep": [1, 2, {"x": null}]},
               "": "", "TargetListId": "typo"}),
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// Every accepted input format.

#[tokio::test]
async fn booleans_in_every_accepted_form() {
    let (app, fx) = setup().await;
    for t in [
        json!(true),
        json!("true"),
        json!("TRUE"),
        json!("True"),
        json!("tRuE"),
    ] {
        accepted(
            &app,
            &fx,
            json!({"OverrideTemplateTargetLists": t, "TargetListIds": ["ListB"],
                   "OverrideMessageText": t, "MessageText": "Hi", "allowDuplication": t,
                   "IgnoreExclusionLists": t}),
        )
        .await;
    }
    for f in [json!(false), json!("false"), json!("FALSE"), json!("False")] {
        accepted(
            &app,
            &fx,
            json!({"OverrideTemplateTargetLists": f, "OverrideMessageText": f,
                   "allowDuplication": f, "IgnoreExclusionLists": f,
                   "OverrideTemplateExclusionLists": f}),
        )
        .await;
    }
}

#[tokio::test]
async fn field_names_in_any_casing() {
    let (app, fx) = setup().await;
    for key in ["sendTime", "SendTime", "SENDTIME", "sendtime"] {
        let mut body = serde_json::Map::new();
        body.insert(key.to_string(), json!("2030-01-05 10:00"));
        accepted(&app, &fx, Value::Object(body)).await;
    }
    accepted(
        &app,
        &fx,
        json!({"overridetemplatetargetlists": true, "targetlistids": ["ListB"],
               "OVERRIDEMESSAGETEXT": "true", "messagetext": "Hi",
               "BlackoutWindow": {"utcoffset": "-5", "WINDOWSTART": "0900", "windowEnd": "1700"},
               "contenturl": "https://example.com/a.png", "AllowDuplication": true}),
    )
    .await;
    // The same field names in error messages keep the client's spelling.
    expect(
        &app,
        &fx,
        json!({"targetlistids": "x"}),
        &["targetlistids must be an array of strings."],
    )
    .await;
}

#[tokio::test]
async fn utc_offsets_in_every_accepted_form() {
    let (app, fx) = setup().await;
    for offset in [
        "-0500", "-05:00", "-5", "+10", "5", "+0530", "-12:00", "+14:00", "05", "+00:00", "0",
        "-1200", "+1400", "-09:30",
    ] {
        accepted(
            &app,
            &fx,
            window(json!(offset), json!("0900"), json!("1700")),
        )
        .await;
    }
}

#[tokio::test]
async fn window_times_in_every_accepted_form() {
    let (app, fx) = setup().await;
    for (start, end) in [
        ("1500", "15:00"),
        ("15:00", "1500"),
        ("9:30", "17:00"),
        ("0000", "23:59"),
        ("2359", "0:00"),
        ("0930", "9:45"),
    ] {
        accepted(&app, &fx, window(json!("-0500"), json!(start), json!(end))).await;
    }
    // WindowStart == WindowEnd (no blackout) is accepted.
    accepted(
        &app,
        &fx,
        window(json!("-0500"), json!("1200"), json!("12:00")),
    )
    .await;
}

#[tokio::test]
async fn send_times_in_every_accepted_form() {
    let (app, fx) = setup().await;
    for t in [
        "2030-01-05 10:00",
        "2030-01-05T10:00",
        "2030-01-05 10:00:30",
        "2030-01-05T10:00:59",
        "2028-02-29 00:00",
        "2020-01-01 00:00",
        "",
        "   ",
    ] {
        accepted(&app, &fx, json!({"sendTime": t})).await;
    }
}

#[tokio::test]
async fn content_urls_in_every_accepted_form() {
    let (app, fx) = setup().await;
    for u in [
        "http://example.com/a.png",
        "https://example.com/media/b.gif?size=2&x=y",
        "HTTPS://EXAMPLE.COM/C.JPG",
        "http://127.0.0.1:8080/x",
        "",
    ] {
        accepted(&app, &fx, json!({"ContentURL": u})).await;
    }
}

#[tokio::test]
async fn a_full_valid_request() {
    let (app, fx) = setup().await;
    accepted(
        &app,
        &fx,
        json!({"TargetListIds": ["ListA", "ListB"], "OverrideTemplateTargetLists": true,
               "ExclusionListIds": ["Exclude"], "OverrideTemplateExclusionLists": "true",
               "OverrideMessageText": true, "MessageText": "Hello %%FirstName%%",
               "blackoutWindow": {"UtcOffset": "-05:00", "WindowStart": "22:00", "WindowEnd": "0600"},
               "sendTime": "2030-01-05T10:00:00", "allowDuplication": "false",
               "ContentURL": "https://example.com/a.png"}),
    )
    .await;
    // The lowercased path (as fuel-rest sends it) resolves the mixed-case message ID.
    accepted_for(&app, &fx, "mza6nzg6ma", json!({})).await;
    accepted_for(&app, &fx, "MZA6NZG6MA", json!({})).await;
}

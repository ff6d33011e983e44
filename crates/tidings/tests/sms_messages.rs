//! Messages made through `/sms/v1` over HTTP (API.md §6b): `message/outbound` — the documented
//! example, every message of the table in order, and the new message sent at once by
//! messageContact; `message/optin` — its `fieldErrors` refusals, and Single (duplicate reply,
//! NextKeyword), Double (custom valid responses), Age and date-bounded opt-ins as conversations
//! of inbound texts, the replies read from the outbox.

mod common;

use common::{assert_errors, fixture, outbox_of, run_engine, spawn_app, Fixture, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

const N1: &str = "15555555510";
const N2: &str = "15555555511";

async fn outbound(app: &TestApp, f: &Fixture, body: Value) -> common::Reply {
    app.sms(Method::POST, "/sms/v1/message/outbound", &f.token, &body)
        .await
}

#[tokio::test]
async fn outbound_creates_an_active_message_that_messagecontact_sends() {
    let app = spawn_app().await;
    let f = fixture(&app, "Acme").await;
    // The reference's example request, on the fixture's code.
    let created = outbound(
        &app,
        &f,
        json!({"MessageName": "Your Message Name", "MessageText": "Thanks for reading!",
               "ShortCode": "88976", "CountryCode": "us"}),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["messageID"]
        .as_str()
        .expect("messageID")
        .to_string();
    assert_eq!(created.body, json!({"messageID": id}));

    // Active, on the code, with no default lists.
    let stored = app
        .admin_ok(
            Method::GET,
            &format!("/admin/v1/accounts/Acme/messages/{id}"),
            Value::Null,
        )
        .await;
    assert_eq!(stored["status"], "Active", "{stored}");
    assert_eq!(stored["code"], "88976");
    assert_eq!(stored["name"], "Your Message Name");
    assert_eq!(stored["targetListIds"], json!([]));

    let send = app
        .sms(
            Method::POST,
            &format!("/sms/v1/messageContact/{id}/send"),
            &f.token,
            &json!({"mobileNumbers": [N1], "Subscribe": true, "keyword": "JOIN"}),
        )
        .await;
    assert_eq!(send.status, 202, "{}", send.body);
    let token = send.body["tokenId"].as_str().expect("tokenId").to_string();
    run_engine(&app).await;
    let out = outbox_of(&app, &token).await;
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0]["to"], N1);
    assert_eq!(out[0]["text"], "Thanks for reading!");
}

#[tokio::test]
async fn outbound_messages_in_table_order() {
    let app = spawn_app().await;
    let f = fixture(&app, "Acme").await;
    app.admin_ok(
        Method::POST,
        "/admin/v1/accounts/Acme/codes",
        json!({"code": "15555550000", "countryCode": "US", "type": "long", "carrier": "simulator"}),
    )
    .await;
    assert_errors(
        &outbound(&app, &f, json!({})).await,
        &[
            "The MessageName field must be specified.",
            "A ShortCode or LongCode must be specified.",
            "The MessageText field must be specified.",
        ],
    );
    assert_errors(
        &outbound(
            &app,
            &f,
            json!({"MessageName": "  ", "ShortCode": "88976", "LongCode": "15555550000",
                   "MessageText": " "}),
        )
        .await,
        &[
            "The MessageName field cannot be blank or only contain whitespace.",
            "ShortCode and LongCode cannot be specified at the same time.",
            "CountryCode must have a length of 2.",
            "The MessageText field cannot be blank or only contain whitespace.",
        ],
    );
    // The documented 400, and the long code's.
    assert_errors(
        &outbound(
            &app,
            &f,
            json!({"MessageName": "n", "MessageText": "t", "ShortCode": "123456", "CountryCode": "US"}),
        )
        .await,
        &["The ShortCode 123456 with CountryCode US cannot be found on the account. Please ensure that the ShortCode and CountryCode are valid and set up on the account."],
    );
    assert_errors(
        &outbound(
            &app,
            &f,
            json!({"MessageName": "n", "MessageText": "t", "ShortCode": "88976", "CountryCode": "GB"}),
        )
        .await,
        &["The ShortCode 88976 with CountryCode GB cannot be found on the account. Please ensure that the ShortCode and CountryCode are valid and set up on the account."],
    );
    assert_errors(
        &outbound(
            &app,
            &f,
            json!({"MessageName": "n", "MessageText": "t", "LongCode": "88976"}),
        )
        .await,
        &["The LongCode 88976 does not exist for the account."],
    );
    assert_errors(
        &outbound(
            &app,
            &f,
            json!({"MessageName": "n".repeat(101), "MessageText": "x".repeat(1601),
                   "ShortCode": " ", "CountryCode": "U"}),
        )
        .await,
        &[
            "The MessageName field cannot contain more than 100 characters.",
            "ShortCode cannot only contain whitespace.",
            "CountryCode must have a length of 2.",
            "MessageText can't be longer than 1600 characters.",
        ],
    );
    // §1's type messages come first.
    assert_errors(
        &outbound(
            &app,
            &f,
            json!({"MessageName": 5, "MessageText": "t", "LongCode": "15555550000"}),
        )
        .await,
        &[
            "MessageName must be a string.",
            "The MessageName field must be specified.",
        ],
    );
    let long = outbound(
        &app,
        &f,
        json!({"MessageName": "n", "MessageText": "t", "LongCode": "15555550000"}),
    )
    .await;
    assert_eq!(long.status, 201, "{}", long.body);
    // Another account's code is not this account's.
    let other = fixture(&app, "Other").await;
    let r = outbound(
        &app,
        &other,
        json!({"MessageName": "n", "MessageText": "t", "LongCode": "15555550000"}),
    )
    .await;
    assert_errors(
        &r,
        &["The LongCode 15555550000 does not exist for the account."],
    );
}

async fn opt_in(app: &TestApp, f: &Fixture, body: Value) -> common::Reply {
    app.sms(Method::POST, "/sms/v1/message/optin", &f.token, &body)
        .await
}

/// A created opt-in message: its ID.
async fn opt_in_ok(app: &TestApp, f: &Fixture, body: Value) -> String {
    let r = opt_in(app, f, body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["messageID"].as_str().expect("messageID").to_string()
}

/// Texts `text` from `number` to the fixture's code; the replies it got, in order.
async fn texts(app: &TestApp, f: &Fixture, number: &str, text: &str) -> Vec<String> {
    let r = app
        .sms(
            Method::POST,
            "/sms/v1/queueMO",
            &f.token,
            &json!({"mobileNumbers": [number], "shortCode": f.code, "messageText": text}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let token = r.body["tokenId"].as_str().expect("tokenId").to_string();
    run_engine(app).await;
    outbox_of(app, &token)
        .await
        .iter()
        .map(|m| m["text"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The number's status on `keyword` (`None`: no subscription).
async fn status(app: &TestApp, f: &Fixture, number: &str, keyword: &str) -> Option<String> {
    let r = app
        .sms(
            Method::POST,
            "/sms/v1/contacts/subscriptions",
            &f.token,
            &json!({"mobileNumber": [number]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["contacts"]
        .as_array()?
        .iter()
        .find(|c| {
            c["keyword"]
                .as_str()
                .is_some_and(|k| k.eq_ignore_ascii_case(keyword))
        })
        .and_then(|c| c["status"].as_str().map(str::to_string))
}

fn field_errors(messages: &[&str]) -> Value {
    json!({"message": "Invalid data", "errorcode": 11000, "documentation": "", "objectErrors": [],
           "fieldErrors": messages.iter()
               .map(|m| json!({"message": m, "errorcode": 10005, "documentation": ""}))
               .collect::<Vec<_>>()})
}

#[tokio::test]
async fn opt_in_refusals_come_in_the_documented_field_errors_shape() {
    let app = spawn_app().await;
    let f = fixture(&app, "Acme").await;
    let base = json!({"messageName": "n", "shortCode": "88976", "countryCode": "US",
                      "keyword": "DEALS"});
    let with = |extra: Value| {
        let mut b = base.clone();
        for (k, v) in extra.as_object().into_iter().flatten() {
            b[k] = v.clone();
        }
        b
    };
    // The reference's two documented refusals.
    let r = opt_in(&app, &f, with(json!({"messageOptInType": "Single"}))).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        field_errors(&[
            "ResponseMessage is invalid. It must be specified when MessageOptInType is Single."
        ])
    );
    let r = opt_in(&app, &f, with(json!({"messageOptInType": "Double"}))).await;
    assert_eq!(
        r.body,
        field_errors(&[
            "DoubleOptinInitialMessage is invalid. It must be specified when MessageOptInType is Double or Age.",
            "DoubleOptinConfirmationMessage is invalid. It must be specified when MessageOptInType is Double or Age.",
        ])
    );
    // The code and name messages of message/outbound, in fieldErrors too.
    let r = opt_in(
        &app,
        &f,
        json!({"shortCode": "123456", "countryCode": "US", "keyword": "X",
               "messageOptInType": "Single", "responseMessage": "Hi"}),
    )
    .await;
    assert_eq!(
        r.body,
        field_errors(&[
            "The MessageName field must be specified.",
            "The ShortCode 123456 with CountryCode US cannot be found on the account. Please ensure that the ShortCode and CountryCode are valid and set up on the account.",
        ])
    );
    // A body that is not a JSON object: the same shape.
    let r = opt_in(&app, &f, json!([null, null])).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        field_errors(&["The request body isn't valid JSON."])
    );
    // A keyword that exists on the code: 409, same shape.
    let r = opt_in(
        &app,
        &f,
        with(json!({"keyword": "join", "messageOptInType": "Single", "responseMessage": "Hi"})),
    )
    .await;
    assert_eq!(r.status, 409);
    assert_eq!(
        r.body,
        field_errors(&["Keyword join already exists on code 88976."])
    );
}

#[tokio::test]
async fn single_opt_in_with_duplicate_reply_and_next_keyword() {
    let app = spawn_app().await;
    let f = fixture(&app, "Acme").await;
    // ZIP: where the next text goes.
    app.admin_ok(
        Method::POST,
        "/admin/v1/accounts/Acme/keywords",
        json!({"code": "88976", "keyword": "ZIP", "response": "Thanks for your zip code."}),
    )
    .await;
    let id = opt_in_ok(
        &app,
        &f,
        json!({"messageName": "Single", "shortCode": "88976", "countryCode": "US",
               "keyword": "ZIPCLUB", "messageOptInType": "Single",
               "responseMessage": "Please send your zip code.", "allowSingleOptIn": "true",
               "duplicateOptInMessage": "You're already in.", "NextKeyword": "ZIP",
               "startDate": "1/1/2015"}),
    )
    .await;
    assert!(!id.is_empty());
    assert_eq!(
        texts(&app, &f, N1, "zipclub").await,
        vec!["Please send your zip code."]
    );
    assert_eq!(
        status(&app, &f, N1, "ZIPCLUB").await.as_deref(),
        Some("Subscribed")
    );
    // The next text is handled as if it began with ZIP.
    assert_eq!(
        texts(&app, &f, N1, "90210").await,
        vec!["Thanks for your zip code."]
    );
    assert_eq!(
        status(&app, &f, N1, "ZIP").await.as_deref(),
        Some("Subscribed")
    );
    // Only the next one.
    assert!(texts(&app, &f, N1, "90211").await.is_empty());
    // Already Subscribed: the duplicate reply.
    assert_eq!(
        texts(&app, &f, N1, "ZIPCLUB").await,
        vec!["You're already in."]
    );
    // A STOP- or HELP-family text is handled as such first.
    texts(&app, &f, N2, "zipclub").await;
    assert_eq!(
        texts(&app, &f, N2, "help").await,
        vec!["Reply STOP to unsubscribe. Msg&data rates may apply."]
    );
    assert_eq!(
        texts(&app, &f, N2, "12345").await,
        vec!["Thanks for your zip code."]
    );
}

#[tokio::test]
async fn double_opt_in_with_custom_valid_responses() {
    let app = spawn_app().await;
    let f = fixture(&app, "Acme").await;
    opt_in_ok(
        &app,
        &f,
        json!({"messageName": "Double", "shortCode": "88976", "countryCode": "US",
               "keyword": "DEALS", "messageOptInType": "Double",
               "doubleOptinInitialMessage": "Reply SURE to get deals.",
               "doubleOptInConformationMessage": "Deals are on their way.",
               "doubleOptInValidResponses": "sure,ok", "messageText": "Double"}),
    )
    .await;
    assert_eq!(
        texts(&app, &f, N1, "deals").await,
        vec!["Reply SURE to get deals."]
    );
    assert_eq!(
        status(&app, &f, N1, "DEALS").await.as_deref(),
        Some("InProgress")
    );
    // Y is not one of its responses.
    assert!(texts(&app, &f, N1, "Y").await.is_empty());
    assert_eq!(
        status(&app, &f, N1, "DEALS").await.as_deref(),
        Some("InProgress")
    );
    assert_eq!(
        texts(&app, &f, N1, "Ok").await,
        vec!["Deals are on their way."]
    );
    assert_eq!(
        status(&app, &f, N1, "DEALS").await.as_deref(),
        Some("Subscribed")
    );
}

#[tokio::test]
async fn age_opt_in_conversation() {
    let app = spawn_app().await;
    let f = fixture(&app, "Acme").await;
    opt_in_ok(
        &app,
        &f,
        json!({"messageName": "Age", "shortCode": "88976", "countryCode": "US",
               "keyword": "CLUB", "messageOptInType": "Age",
               "doubleOptInInitialMessage": "How old are you?",
               "doubleOptinConfirmationMessage": "Welcome to the club.",
               "optInInvalidAgeMessage": "Sorry, you must be 18.",
               "optinErrorMessage": "Please reply with your age as a number.",
               "MinimumAge": "18"}),
    )
    .await;
    assert_eq!(texts(&app, &f, N1, "club").await, vec!["How old are you?"]);
    assert_eq!(
        texts(&app, &f, N1, "twenty").await,
        vec!["Please reply with your age as a number."]
    );
    assert_eq!(
        status(&app, &f, N1, "CLUB").await.as_deref(),
        Some("InProgress")
    );
    assert_eq!(
        texts(&app, &f, N1, "17").await,
        vec!["Sorry, you must be 18."]
    );
    assert_eq!(
        status(&app, &f, N1, "CLUB").await,
        None,
        "the request ended"
    );
    assert_eq!(texts(&app, &f, N1, "CLUB").await, vec!["How old are you?"]);
    assert_eq!(
        texts(&app, &f, N1, "21").await,
        vec!["Welcome to the club."]
    );
    assert_eq!(
        status(&app, &f, N1, "CLUB").await.as_deref(),
        Some("Subscribed")
    );
    // STOP still ends everything.
    texts(&app, &f, N2, "club").await;
    assert_eq!(texts(&app, &f, N2, "stop").await.len(), 1);
    assert_eq!(
        status(&app, &f, N2, "CLUB").await.as_deref(),
        Some("Unsubscribed")
    );
}

#[tokio::test]
async fn an_opt_in_outside_its_dates_answers_with_help() {
    let app = spawn_app().await;
    let f = fixture(&app, "Acme").await;
    opt_in_ok(
        &app,
        &f,
        json!({"messageName": "Over", "shortCode": "88976", "countryCode": "US",
               "keyword": "OLD", "messageOptInType": "Single", "responseMessage": "Hi",
               "startDate": "2015-01-01", "endDate": "12/31/2015"}),
    )
    .await;
    assert_eq!(
        texts(&app, &f, N1, "old").await,
        vec!["Reply STOP to unsubscribe. Msg&data rates may apply."]
    );
    assert_eq!(status(&app, &f, N1, "OLD").await, None);
}

#[tokio::test]
async fn the_admin_api_shows_and_changes_opt_in_rules() {
    let app = spawn_app().await;
    let f = fixture(&app, "Acme").await;
    let id = opt_in_ok(
        &app,
        &f,
        json!({"messageName": "Age", "shortCode": "88976", "countryCode": "US",
               "keyword": "CLUB", "messageOptInType": "Age",
               "doubleOptInInitialMessage": "How old are you?",
               "doubleOptinConfirmationMessage": "Welcome.",
               "optInInvalidAgeMessage": "Too young.", "optinErrorMessage": "A number, please.",
               "MinimumAge": 18}),
    )
    .await;
    let path = format!("/admin/v1/accounts/Acme/keywords/{id}");
    let k = app.admin_ok(Method::GET, &path, Value::Null).await;
    assert_eq!(k["doubleOptIn"], true);
    assert_eq!(k["confirmText"], "How old are you?");
    assert_eq!(k["response"], "Welcome.");
    assert_eq!(
        k["optIn"],
        json!({"kind": "Age", "name": "Age", "minimumAge": 18, "invalidAgeText": "Too young.",
               "errorText": "A number, please."})
    );
    // Raise the minimum age: the conversation follows.
    let patched = app
        .admin_ok(
            Method::PATCH,
            &path,
            json!({"optIn": {"kind": "Age", "minimumAge": 21, "invalidAgeText": "Too young."}}),
        )
        .await;
    assert_eq!(patched["optIn"]["minimumAge"], 21);
    assert_eq!(patched["optIn"]["name"], "Age", "the name stays");
    texts(&app, &f, N1, "club").await;
    assert_eq!(texts(&app, &f, N1, "19").await, vec!["Too young."]);
    // Refusals: an Age opt-in without its minimum, rules that do not read.
    let r = app
        .admin(Method::PATCH, &path, json!({"optIn": {"kind": "Age"}}))
        .await;
    assert_errors(&r, &["optIn.minimumAge is required for an Age opt-in."]);
    let r = app
        .admin(Method::PATCH, &path, json!({"optIn": {"kind": "Triple"}}))
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body["errors"][0]
        .as_str()
        .is_some_and(|e| e.starts_with("optIn isn't valid: ")));
    // null: an ordinary (still double opt-in) keyword again.
    let plain = app
        .admin_ok(Method::PATCH, &path, json!({"optIn": null}))
        .await;
    assert!(plain.get("optIn").is_none(), "{plain}");
    assert_eq!(plain["doubleOptIn"], true);
}

//! Messages made through `/sms/v1` over HTTP (API.md §6b): `message/outbound` — the documented
//! example, every message of the table in order, and the new message sent at once by
//! messageContact.

mod common;

use common::{assert_errors, fixture, outbox_of, run_engine, spawn_app, Fixture, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

const N1: &str = "15555555510";

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

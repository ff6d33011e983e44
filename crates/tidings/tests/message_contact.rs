//! `POST /sms/v1/messageContact/{id}/send`, its deliveries and history (API.md §6), over HTTP
//! against the real server: every message of the table as a whole 400 body, in order, and
//! what an accepted send delivers.

mod common;

use common::{
    assert_accepted, assert_errors, fixture, import_contacts, opt_out, outbox_of, run_engine,
    spawn_app, Fixture, TestApp,
};
use reqwest::Method;
use serde_json::{json, Value};

const N1: &str = "15555555510";
const N2: &str = "15555555511";

async fn send(app: &TestApp, f: &Fixture, id: &str, body: Value) -> common::Reply {
    app.sms(
        Method::POST,
        &format!("/sms/v1/messageContact/{id}/send"),
        &f.token,
        &body,
    )
    .await
}

#[tokio::test]
async fn each_message_of_the_table_is_a_whole_400_body() {
    let app = spawn_app().await;
    let f = fixture(&app, "Acme").await;
    app.create_message(
        "Acme",
        json!({"id": "Off", "code": "88976", "text": "x", "status": "Inactive"}),
    )
    .await;
    app.create_message(
        "Acme",
        json!({"id": "Blank", "code": "88976", "text": "  ", "status": "Active"}),
    )
    .await;
    let one = json!({"mobileNumbers": [N1]});
    let m = f.message.as_str();
    let cases: Vec<(&str, Value, Vec<String>)> = vec![
        ("bad%20id", one.clone(), vec!["Message id bad id isn't valid.".into()]),
        ("Nope", one.clone(), vec!["Message Nope isn't valid for the client.".into()]),
        ("Off", one.clone(), vec!["The Message must be in Active status in order to send.".into()]),
        (m, json!({}), vec!["The count of mobile numbers or subscribers can't be zero.".into()]),
        (
            m,
            json!({"mobileNumbers": [N1], "Subscribers": [{"MobileNumber": N2, "SubscriberKey": "k"}]}),
            vec!["An array of mobile numbers and an array of subscribers can't be provided at the same time.".into()],
        ),
        (
            m,
            json!({"Subscribers": [{"MobileNumber": N2}, {"SubscriberKey": "k"}]}),
            vec![
                "A subscriber object must have both a mobile number and subscriber key defined.".into(),
                "A subscriber object must have both a mobile number and subscriber key defined.".into(),
            ],
        ),
        (m, json!({"mobileNumbers": ["555-1234", "1.5"]}), vec![
            "555-1234 isn't a numeric string".into(),
            "1.5 isn't a numeric string".into(),
        ]),
        (m, json!({"mobileNumbers": ["123"]}), vec!["123 isn't a valid mobile number.".into()]),
        (
            m,
            json!({"mobileNumbers": (0..251).map(|i| format!("1555000{i:04}")).collect::<Vec<_>>()}),
            vec!["The count of mobile numbers or subscribers can't exceed 250.".into()],
        ),
        (
            m,
            json!({"mobileNumbers": [N1], "Subscribe": true}),
            vec!["Keyword can't be blank when Subscribe or Resubscribe are true.".into()],
        ),
        (
            m,
            json!({"mobileNumbers": [N1], "keyword": "JOIN"}),
            vec!["Keyword isn't necessary when Subscribe and Resubscribe are false.".into()],
        ),
        (
            m,
            json!({"mobileNumbers": [N1], "Resubscribe": "TRUE", "keyword": "NOPE"}),
            vec!["Keyword NOPE isn't valid for the code on the message.".into()],
        ),
        ("Blank", one.clone(), vec!["Message is blank and no override message was provided.".into()]),
        (
            m,
            json!({"mobileNumbers": [N1], "Override": true, "messageText": " "}),
            vec!["Cannot override message text with a blank message.".into()],
        ),
        (
            m,
            json!({"mobileNumbers": [N1], "messageText": "Hi"}),
            vec!["MessageText isn't applicable when Override is false.".into()],
        ),
        (
            m,
            json!({"mobileNumbers": [N1], "blackoutWindow": {"UtcOffset": "Z", "WindowStart": "930", "WindowEnd": "2400"},
                   "SendTime": "2030-1-5 9:00", "ContentURL": "ftp://x"}),
            vec![
                "Z isn't a valid UTC offset.".into(),
                "930 isn't a valid blackout window start time.".into(),
                "2400 isn't a valid blackout window end time.".into(),
                "2030-1-5 9:00 isn't a valid send time (yyyy-MM-dd HH:mm).".into(),
                "ftp://x isn't a valid content URL.".into(),
            ],
        ),
        (
            m,
            json!({"mobileNumbers": [N1], "blackoutWindow": {}}),
            vec![
                "A UTC offset must be specified when using a blackout window.".into(),
                "A window start time must be specified when using a blackout window.".into(),
                "A window end time must be specified when using a blackout window.".into(),
            ],
        ),
        // Every applicable message at once, in table order; the generic §1 messages first.
        (
            "Off",
            json!({"mobileNumbers": ["x", "12"], "Subscribers": [{"MobileNumber": "9"}],
                   "Subscribe": "maybe", "Resubscribe": true, "keyword": "NOPE",
                   "Override": true, "SendTime": "never"}),
            vec![
                "maybe isn't a valid value for Subscribe.".into(),
                "The Message must be in Active status in order to send.".into(),
                "An array of mobile numbers and an array of subscribers can't be provided at the same time.".into(),
                "A subscriber object must have both a mobile number and subscriber key defined.".into(),
                "x isn't a numeric string".into(),
                "12 isn't a valid mobile number.".into(),
                "9 isn't a valid mobile number.".into(),
                "Keyword NOPE isn't valid for the code on the message.".into(),
                "Cannot override message text with a blank message.".into(),
                "never isn't a valid send time (yyyy-MM-dd HH:mm).".into(),
            ],
        ),
    ];
    for (id, body, expected) in cases {
        let reply = send(&app, &f, id, body.clone()).await;
        let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
        assert_errors(&reply, &expected);
    }
    assert_eq!(
        app.send_count("Acme").await,
        0,
        "no rejected request recorded a send"
    );
}

#[tokio::test]
async fn over_long_texts_keys_and_attributes_are_refused_and_nothing_is_stored() {
    let app = spawn_app().await;
    let f = fixture(&app, "Acme").await;
    let long_name = "N".repeat(256);
    let mut attributes = serde_json::Map::new();
    attributes.insert("FirstName".into(), json!("é".repeat(1601)));
    attributes.insert(long_name.clone(), json!("x"));
    let reply = send(
        &app,
        &f,
        &f.message,
        json!({"Subscribers": [{"MobileNumber": N1, "SubscriberKey": "k".repeat(256),
                                "Attributes": attributes}],
               "Override": true, "MESSAGETEXT": "😀".repeat(1601)}),
    )
    .await;
    let name_message = format!("{long_name} can't be longer than 255 characters.");
    assert_errors(
        &reply,
        &[
            "SubscriberKey can't be longer than 255 characters.",
            "FirstName can't be longer than 1600 characters.",
            name_message.as_str(),
            "MessageText can't be longer than 1600 characters.",
        ],
    );
    assert_eq!(app.send_count("Acme").await, 0, "no send recorded");
    let subs = app
        .sms(
            Method::POST,
            "/sms/v1/contacts/subscriptions",
            &f.token,
            &json!({"mobileNumber": [N1]}),
        )
        .await;
    assert_eq!(
        subs.body["count"], "0",
        "no contact or subscription: {}",
        subs.body
    );
    // At the limits, the same request is accepted.
    let reply = send(
        &app,
        &f,
        &f.message,
        json!({"Subscribers": [{"MobileNumber": N1, "SubscriberKey": "k".repeat(255),
                                "Attributes": {"FirstName": "é".repeat(1600)}}],
               "Override": true, "messageText": "😀".repeat(1600)}),
    )
    .await;
    assert_accepted(&reply);
}

#[tokio::test]
async fn a_number_whose_text_is_over_1600_characters_after_substitution_is_1501_and_never_sent() {
    let app = spawn_app().await;
    let f = fixture(&app, "Acme").await;
    import_contacts(
        &app,
        "Acme",
        &f.list_a,
        json!([{"mobileNumber": N1}, {"mobileNumber": N2}]),
        true,
    )
    .await;
    // "Hello " + 1,594 characters is the limit; N2's name makes its text one character longer.
    let reply = send(
        &app,
        &f,
        &f.message,
        json!({"Subscribers": [
            {"MobileNumber": N1, "SubscriberKey": "a", "Attributes": {"FirstName": "😀".repeat(1594)}},
            {"MobileNumber": N2, "SubscriberKey": "b", "Attributes": {"FirstName": "😀".repeat(1595)}}]}),
    )
    .await;
    let token = assert_accepted(&reply);
    run_engine(&app).await;
    let out = outbox_of(&app, &token).await;
    assert_eq!(out.len(), 1, "only N1 was handed over: {out:?}");
    assert_eq!(out[0]["to"], N1);
    assert_eq!(
        out[0]["text"].as_str().map(|t| t.chars().count()),
        Some(1600)
    );
    let status = app
        .sms(
            Method::GET,
            &format!("/sms/v1/messageContact/{}/deliveries/{token}", f.message),
            &f.token,
            &Value::Null,
        )
        .await;
    assert_eq!(status.status, 200, "{}", status.body);
    assert_eq!(status.body["count"], 2, "{}", status.body);
    assert_eq!(status.body["counts"]["failed"], 1, "{}", status.body);
    assert_eq!(status.body["counts"]["delivered"], 1, "{}", status.body);
    let n2 = &status.body["tracking"][1];
    assert_eq!(n2["mobileNumber"], N2);
    assert_eq!(n2["standardStatusCode"], "1501");
    assert_eq!(n2["statusCode"], "1501");
    assert_eq!(n2["description"], "Text too long after substitution");
    // Nothing was texted to N2, so its history is empty.
    let history = app
        .sms(
            Method::GET,
            &format!(
                "/sms/v1/messageContact/{}/history/{token}/mobileNumber/{N2}",
                f.message
            ),
            &f.token,
            &Value::Null,
        )
        .await;
    assert_eq!(history.status, 200, "{}", history.body);
    assert_eq!(history.body["count"], 0, "{}", history.body);
}

#[tokio::test]
async fn placeholders_fall_back_to_the_stored_contacts_attributes() {
    let app = spawn_app().await;
    let f = fixture(&app, "Acme").await;
    import_contacts(
        &app,
        "Acme",
        &f.list_a,
        json!([{"mobileNumber": N1, "attributes": {"FirstName": "Ann"}},
               {"mobileNumber": N2, "attributes": {"FirstName": "Bob"}}]),
        true,
    )
    .await;
    // No attributes in the request: each number's text comes from its stored contact.
    let reply = send(&app, &f, &f.message, json!({"mobileNumbers": [N2, N1, N2]})).await;
    let token = assert_accepted(&reply);
    run_engine(&app).await;
    let mut texts: Vec<(String, String)> = outbox_of(&app, &token)
        .await
        .iter()
        .map(|o| {
            (
                o["to"].as_str().unwrap_or_default().to_string(),
                o["text"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    texts.sort();
    assert_eq!(
        texts,
        vec![
            (N1.to_string(), "Hello Ann".to_string()),
            (N2.to_string(), "Hello Bob".to_string()),
        ],
        "one text per number, from the stored attributes"
    );
}

#[tokio::test]
async fn a_send_reaches_subscribed_numbers_with_their_attributes_and_suppresses_the_rest() {
    let app = spawn_app().await;
    let f = fixture(&app, "Acme").await;
    import_contacts(
        &app,
        "Acme",
        &f.list_a,
        json!([{"mobileNumber": N1, "attributes": {"FirstName": "Ann"}}]),
        true,
    )
    .await;
    // N2 has no subscription: suppressed. N1 is subscribed; the request's attributes win.
    let reply = send(
        &app,
        &f,
        "mza6nzg6ma",
        json!({"Subscribers": [
            {"MobileNumber": "+15555555510", "SubscriberKey": "ann", "Attributes": {"firstname": "Annie"}},
            {"MobileNumber": N2, "SubscriberKey": "bob"}]}),
    )
    .await;
    let token = assert_accepted(&reply);
    let before = app
        .sms(
            Method::GET,
            &format!("/sms/v1/messageContact/{}/deliveries/{token}", f.message),
            &f.token,
            &Value::Null,
        )
        .await;
    assert_eq!(before.body["status"], "New");
    assert_eq!(before.body["message"], "Hello %%FirstName%%");
    run_engine(&app).await;
    let out = outbox_of(&app, &token).await;
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0]["to"], N1);
    assert_eq!(out[0]["text"], "Hello Annie");

    let status = app
        .sms(
            Method::GET,
            &format!(
                "/sms/v1/messagecontact/{}/deliveries/{}",
                f.message.to_lowercase(),
                token
            ),
            &f.token,
            &Value::Null,
        )
        .await;
    assert_eq!(status.status, 200, "{}", status.body);
    assert_eq!(status.body["status"], "Finished");
    assert_eq!(status.body["count"], 1);
    assert_eq!(status.body["counts"]["suppressed"], 1);
    assert_eq!(status.body["counts"]["delivered"], 1);
    assert_eq!(status.body["tracking"][0]["mobileNumber"], N1);
    assert_eq!(status.body["tracking"][0]["standardStatusCode"], "4000");

    // The subscriber key was recorded on the contact: subscriptions by key find the number.
    let subs = app
        .sms(
            Method::POST,
            "/sms/v1/contacts/subscriptions",
            &f.token,
            &json!({"subscriberKey": ["ann"]}),
        )
        .await;
    assert_eq!(subs.status, 200, "{}", subs.body);
    assert_eq!(subs.body["count"], "1");
    assert_eq!(subs.body["contacts"][0]["mobileNumber"], N1);
    assert_eq!(subs.body["contacts"][0]["status"], "Subscribed");

    // History: the text as sent to the number.
    let history = app
        .sms(
            Method::GET,
            &format!(
                "/sms/v1/messageContact/{}/history/{token}/mobileNumber/{N1}",
                f.message
            ),
            &f.token,
            &Value::Null,
        )
        .await;
    assert_eq!(history.status, 200, "{}", history.body);
    assert_eq!(history.body["count"], 1);
    assert_eq!(history.body["status"], "Active");
    assert_eq!(history.body["history"][0]["type"], "MT");
    assert_eq!(history.body["history"][0]["message"], "Hello Annie");

    // A list-send token is not a messageContact token; bad numbers are reported.
    let bad = app
        .sms(
            Method::GET,
            &format!(
                "/sms/v1/messageContact/{}/history/{token}/mobileNumber/12",
                f.message
            ),
            &f.token,
            &Value::Null,
        )
        .await;
    assert_errors(&bad, &["12 isn't a valid mobile number."]);
    let list_send = assert_accepted(&app.send_list(&f.token, &f.message, &json!({})).await);
    let wrong = app
        .sms(
            Method::GET,
            &format!(
                "/sms/v1/messageContact/{}/deliveries/{list_send}",
                f.message
            ),
            &f.token,
            &Value::Null,
        )
        .await;
    let expected = format!("Token id {list_send} isn't valid for this client.");
    assert_errors(&wrong, &[expected.as_str()]);
}

#[tokio::test]
async fn subscribe_creates_and_resubscribe_restores_subscriptions() {
    let app = spawn_app().await;
    let f = fixture(&app, "Acme").await;
    opt_out(&app, "Acme", N2).await;
    // Subscribe: N1 (no subscription) is subscribed; N2 (opted out) stays out.
    let token = assert_accepted(
        &send(
            &app,
            &f,
            &f.message,
            json!({"mobileNumbers": [N1, N2], "Subscribe": true, "keyword": "join",
                   "Override": true, "messageText": "Welcome aboard"}),
        )
        .await,
    );
    run_engine(&app).await;
    let out = outbox_of(&app, &token).await;
    assert_eq!(
        out.iter().map(|o| o["to"].clone()).collect::<Vec<_>>(),
        vec![json!(N1)]
    );
    assert_eq!(out[0]["text"], "Welcome aboard");
    // Resubscribe brings N2 back.
    let token = assert_accepted(
        &send(
            &app,
            &f,
            &f.message,
            json!({"mobileNumbers": [N2], "Resubscribe": true, "keyword": "JOIN",
                   "Override": true, "messageText": "Back again"}),
        )
        .await,
    );
    run_engine(&app).await;
    let out = outbox_of(&app, &token).await;
    assert_eq!(out.len(), 1);
    assert_eq!(out[0]["to"], N2);
}

//! Inbound texts and keywords over HTTP (API.md §6): `queueMO` with its messages, deliveries and
//! history; the opt-out story (STOP confirms once, a later list send suppresses the number,
//! subscriptions show it opted out, START restores it, HELP answers); double opt-in; keywords
//! created and deleted through `/sms/v1/keyword`; `contacts/subscriptions`.

mod common;

use common::{
    assert_accepted, assert_errors, fixture, import_contacts, outbox, outbox_of, run_engine,
    spawn_app, Fixture, TestApp,
};
use reqwest::Method;
use serde_json::{json, Value};

const N1: &str = "15555555510";
const N2: &str = "15555555511";

/// Texts `text` from `numbers` to the fixture's code; returns the token.
async fn queue_mo(app: &TestApp, f: &Fixture, numbers: &[&str], text: &str) -> String {
    let reply = app
        .sms(
            Method::POST,
            "/sms/v1/queueMO",
            &f.token,
            &json!({"mobileNumbers": numbers, "shortCode": f.code, "messageText": text}),
        )
        .await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    assert_eq!(
        reply.body["results"],
        json!(numbers
            .iter()
            .map(|n| json!({"identifier": n, "mobileNumber": n, "result": "OK"}))
            .collect::<Vec<_>>())
    );
    let token = reply.body["tokenId"].as_str().expect("tokenId").to_string();
    assert!(common::is_minted_token(&token));
    token
}

async fn subscriptions(app: &TestApp, f: &Fixture, number: &str) -> Value {
    let reply = app
        .sms(
            Method::POST,
            "/sms/v1/contacts/subscriptions",
            &f.token,
            &json!({"mobileNumber": [number]}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body
}

#[tokio::test]
async fn queue_mo_messages_are_whole_400_bodies() {
    let app = spawn_app().await;
    let f = fixture(&app, "Acme").await;
    let cases = vec![
        (
            json!({}),
            vec![
                "The count of mobile numbers or subscribers can't be zero.",
                "Short code can't be blank.",
                "Message text can't be blank.",
            ],
        ),
        (
            json!({"mobileNumbers": [N1], "subscribers": [{"mobilenumber": N2, "subscriberkey": "k"}],
                   "shortCode": "88976", "messageText": "HELP"}),
            vec!["An array of mobile numbers and an array of subscribers cannot be provided at the same time"],
        ),
        (
            json!({"subscribers": [{"mobilenumber": N2}], "shortCode": "88976", "messageText": "HELP"}),
            vec!["A subscriber object must have both a mobile number and subscriber key defined."],
        ),
        (
            json!({"mobileNumbers": ["1-2", "1234"], "shortCode": "88976", "messageText": "HELP"}),
            vec!["1-2 isn't a numeric string", "1234 isn't a valid mobile number."],
        ),
        (
            json!({"mobileNumbers": (0..251).map(|i| format!("1555000{i:04}")).collect::<Vec<_>>(),
                   "shortCode": "88976", "messageText": "HELP"}),
            vec!["The count of mobile numbers or subscribers can't exceed 250."],
        ),
        (
            json!({"mobileNumbers": [N1], "shortCode": " ", "messageText": "HELP"}),
            vec!["Short code can't be blank."],
        ),
        (
            json!({"mobileNumbers": [N1], "shortCode": "99999", "messageText": "HELP"}),
            vec!["Short code 99999 isn't valid for the client."],
        ),
        (
            json!({"mobileNumbers": [N1], "shortCode": "88976", "messageText": "  "}),
            vec!["Message text can't be blank."],
        ),
    ];
    for (body, expected) in cases {
        let reply = app
            .sms(Method::POST, "/sms/v1/queueMO", &f.token, &body)
            .await;
        assert_errors(&reply, &expected);
    }
    // Another account's code is not the client's.
    let other = fixture(&app, "Other").await;
    app.admin_ok(
        Method::POST,
        "/admin/v1/accounts/Other/codes",
        json!({"code": "77777", "carrier": "simulator"}),
    )
    .await;
    let reply = app
        .sms(
            Method::POST,
            "/sms/v1/queueMO",
            &f.token,
            &json!({"mobileNumbers": [N1], "shortCode": "77777", "messageText": "HELP"}),
        )
        .await;
    assert_errors(&reply, &["Short code 77777 isn't valid for the client."]);
    // No refused request recorded anything: no send in either account, nothing texted.
    assert_eq!(app.send_count(&f.account).await, 0);
    assert_eq!(app.send_count(&other.account).await, 0);
    run_engine(&app).await;
    assert!(outbox(&app).await.is_empty());
}

#[tokio::test]
async fn the_opt_out_story() {
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

    // STOP: exactly one confirmation, the code's opt-out text, carrying the queueMO token.
    app.clock.advance(60_000);
    let stop = queue_mo(&app, &f, &[N1], "  stop please ").await;
    run_engine(&app).await;
    let replies = outbox_of(&app, &stop).await;
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert_eq!(replies[0]["to"], N1);
    assert_eq!(replies[0]["from"], "88976");
    assert_eq!(
        replies[0]["text"],
        "You have been unsubscribed and will receive no more messages. Reply START to resubscribe."
    );

    // Subscriptions show it opted out, with the date.
    let subs = subscriptions(&app, &f, N1).await;
    assert_eq!(subs["count"], "1");
    let contact = &subs["contacts"][0];
    assert_eq!(contact["status"], "Unsubscribed");
    assert_eq!(contact["shortCode"], "88976");
    assert_eq!(contact["keyword"], "JOIN");
    assert_eq!(contact["optOutDate"], "2026-11-26T10:01:00.000");

    // A later list send suppresses it and counts it.
    let send = assert_accepted(&app.send_list(&f.token, &f.message, &json!({})).await);
    run_engine(&app).await;
    let status = app.deliveries(&f.token, &f.message, &send).await;
    assert_eq!(status.body["count"], 1, "{}", status.body);
    assert_eq!(status.body["counts"]["suppressed"], 1);
    let sent: Vec<Value> = outbox_of(&app, &send)
        .await
        .iter()
        .map(|o| o["to"].clone())
        .collect();
    assert_eq!(sent, vec![json!(N2)]);

    // queueMO deliveries: one entry per reply, with the reply's text.
    let d = app
        .sms(
            Method::GET,
            &format!("/sms/v1/queueMO/deliveries/{stop}"),
            &f.token,
            &Value::Null,
        )
        .await;
    assert_eq!(d.status, 200, "{}", d.body);
    assert_eq!(d.body["status"], "Finished");
    assert_eq!(d.body["count"], 1);
    assert_eq!(d.body["tracking"][0]["mobileNumber"], N1);
    assert_eq!(d.body["tracking"][0]["standardStatusCode"], "4000");
    assert!(d.body["tracking"][0]["message"]
        .as_str()
        .is_some_and(|m| m.starts_with("You have been unsubscribed")));
    // History: the MO and the MT reply.
    let h = app
        .sms(
            Method::GET,
            &format!("/sms/v1/queueMO/history/{stop}"),
            &f.token,
            &Value::Null,
        )
        .await;
    assert_eq!(h.status, 200, "{}", h.body);
    assert_eq!(h.body["count"], 2);
    assert_eq!(h.body["history"][0]["type"], "MO");
    assert_eq!(h.body["history"][0]["message"], "  stop please ");
    assert_eq!(h.body["history"][0]["mobileNumber"], N1);
    assert_eq!(h.body["history"][1]["type"], "MT");

    // START restores the subscription (and replies with the keyword's response).
    let start = queue_mo(&app, &f, &[N1], "START").await;
    run_engine(&app).await;
    let replies = outbox_of(&app, &start).await;
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0]["text"], "Welcome");
    let subs = subscriptions(&app, &f, N1).await;
    assert_eq!(subs["contacts"][0]["status"], "Subscribed");
    let send = assert_accepted(&app.send_list(&f.token, &f.message, &json!({})).await);
    run_engine(&app).await;
    assert_eq!(outbox_of(&app, &send).await.len(), 2);

    // HELP replies with the help text.
    let help = queue_mo(&app, &f, &[N2], "help").await;
    run_engine(&app).await;
    let replies = outbox_of(&app, &help).await;
    assert_eq!(replies.len(), 1);
    assert_eq!(
        replies[0]["text"],
        "Reply STOP to unsubscribe. Msg&data rates may apply."
    );
    assert_eq!(replies[0]["to"], N2);
}

#[tokio::test]
async fn stop_unsubscribes_every_keyword_on_the_code_and_confirms_once_with_the_codes_text() {
    let app = spawn_app().await;
    let f = fixture(&app, "Acme").await;
    let base = "/admin/v1/accounts/Acme";
    app.admin_ok(
        Method::POST,
        &format!("{base}/codes"),
        json!({"code": "55555", "carrier": "simulator",
        "optOutText": "Bye from 55555", "helpText": "Help from 55555"}),
    )
    .await;
    for k in ["ALPHA", "BETA"] {
        app.admin_ok(
            Method::POST,
            &format!("{base}/keywords"),
            json!({"code": "55555", "keyword": k, "response": format!("{k} on")}),
        )
        .await;
    }
    for k in ["alpha", "Beta"] {
        let t = queue_mo_to(&app, &f, "55555", N1, k).await;
        run_engine(&app).await;
        assert_eq!(outbox_of(&app, &t).await.len(), 1);
    }
    let stop = queue_mo_to(&app, &f, "55555", N1, "QUIT").await;
    run_engine(&app).await;
    let replies = outbox_of(&app, &stop).await;
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0]["text"], "Bye from 55555");
    let subs = subscriptions(&app, &f, N1).await;
    let on_55555: Vec<&Value> = subs["contacts"]
        .as_array()
        .expect("contacts")
        .iter()
        .filter(|c| c["shortCode"] == "55555")
        .collect();
    assert_eq!(on_55555.len(), 2);
    assert!(on_55555.iter().all(|c| c["status"] == "Unsubscribed"));
    // The other code's subscription is untouched (none here), and INFO uses the code's text.
    let info = queue_mo_to(&app, &f, "55555", N1, "Info").await;
    run_engine(&app).await;
    assert_eq!(outbox_of(&app, &info).await[0]["text"], "Help from 55555");
}

async fn queue_mo_to(app: &TestApp, f: &Fixture, code: &str, number: &str, text: &str) -> String {
    let reply = app
        .sms(
            Method::POST,
            "/sms/v1/queueMO",
            &f.token,
            &json!({"subscribers": [{"mobilenumber": number, "subscriberkey": "key-1"}],
                    "shortCode": code, "messageText": text}),
        )
        .await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    assert_eq!(reply.body["results"][0]["identifier"], "key-1");
    reply.body["tokenId"].as_str().expect("token").to_string()
}

#[tokio::test]
async fn double_opt_in_needs_a_yes_within_a_day() {
    let app = spawn_app().await;
    let mut f = fixture(&app, "Acme").await;
    app.admin_ok(
        Method::POST,
        "/admin/v1/accounts/Acme/keywords",
        json!({"code": "88976", "keyword": "VIP", "response": "You're a VIP",
               "doubleOptIn": true, "confirmText": "Reply Y to confirm VIP"}),
    )
    .await;
    let t = queue_mo(&app, &f, &[N1], "vip").await;
    run_engine(&app).await;
    assert_eq!(
        outbox_of(&app, &t).await[0]["text"],
        "Reply Y to confirm VIP"
    );
    let subs = subscriptions(&app, &f, N1).await;
    assert_eq!(subs["contacts"][0]["status"], "InProgress");
    assert_eq!(subs["contacts"][0]["optInDate"], Value::Null);
    app.clock.advance(3_600_000);
    // (Access tokens live 20 minutes.)
    f.token = app.token(&f.client_id, &f.secret).await;
    let t = queue_mo(&app, &f, &[N1], "Y").await;
    run_engine(&app).await;
    assert_eq!(outbox_of(&app, &t).await[0]["text"], "You're a VIP");
    let subs = subscriptions(&app, &f, N1).await;
    assert_eq!(subs["contacts"][0]["status"], "Subscribed");
    assert_eq!(subs["contacts"][0]["optInDate"], "2026-11-26T11:00:00.000");

    // A request not confirmed within 24 hours lapses (the engine sweeps it), and a late Y is an
    // ordinary text.
    let t = queue_mo(&app, &f, &[N2], "VIP").await;
    run_engine(&app).await;
    assert_eq!(outbox_of(&app, &t).await.len(), 1);
    app.clock.advance(24 * 3_600_000 + 1);
    run_engine(&app).await;
    f.token = app.token(&f.client_id, &f.secret).await;
    let subs = subscriptions(&app, &f, N2).await;
    assert_eq!(subs["count"], "0", "{subs}");
    let t = queue_mo(&app, &f, &[N2], "y").await;
    run_engine(&app).await;
    assert!(outbox_of(&app, &t).await.is_empty());
}

#[tokio::test]
async fn keywords_are_created_and_deleted_through_the_sms_api() {
    let app = spawn_app().await;
    let f = fixture(&app, "Acme").await;
    let create = |body: Value| {
        let app = &app;
        let token = f.token.clone();
        async move {
            app.sms(Method::POST, "/sms/v1/keyword", &token, &body)
                .await
        }
    };
    let ok = create(json!({"ShortCode": "88976", "CountryCode": "us", "Keyword": "Deals"})).await;
    assert_eq!(ok.status, 202, "{}", ok.body);
    let id = ok.body["keywordId"]
        .as_str()
        .expect("keywordId")
        .to_string();
    assert_eq!(ok.body, json!({"keywordId": id, "KeywordId": id}));
    // The camelCase key first, then the documented one (API.md §6).
    assert_eq!(
        String::from_utf8_lossy(&ok.raw),
        format!(r#"{{"keywordId":"{id}","KeywordId":"{id}"}}"#)
    );
    // It works as an opt-in keyword at once.
    let t = queue_mo(&app, &f, &[N1], "DEALS").await;
    run_engine(&app).await;
    let subs = subscriptions(&app, &f, N1).await;
    assert_eq!(subs["contacts"][0]["keyword"], "Deals");
    assert!(
        outbox_of(&app, &t).await.is_empty(),
        "no response configured, no reply"
    );

    let dup = create(json!({"shortCode": "88976", "keyword": "deals"})).await;
    assert_eq!(dup.status, 409);
    assert_eq!(
        dup.body,
        json!({"errors": ["Keyword deals already exists on code 88976."]})
    );
    assert_errors(
        &create(json!({})).await,
        &[
            "A short code or a long code must be specified.",
            "Keyword can't be blank.",
        ],
    );
    assert_errors(
        &create(json!({"ShortCode": "88976", "LongCode": "15555550000", "Keyword": "two words"}))
            .await,
        &[
            "A short code and a long code can't be specified at the same time.",
            "Keyword two words must be a single word.",
        ],
    );
    assert_errors(
        &create(json!({"ShortCode": "12345", "Keyword": "STOP"})).await,
        &[
            "Short code 12345 isn't valid for the client.",
            "Keyword STOP is reserved.",
        ],
    );
    assert_errors(
        &create(json!({"LongCode": "88976", "Keyword": "X"})).await,
        &["Long code 88976 isn't valid for the client."],
    );
    assert_errors(
        &create(json!({"ShortCode": "88976", "CountryCode": "GB", "Keyword": "X"})).await,
        &["Country code GB isn't valid for Short code 88976."],
    );

    let del = app
        .sms(
            Method::DELETE,
            &format!("/sms/v1/keyword/{}", id.to_uppercase()),
            &f.token,
            &Value::Null,
        )
        .await;
    assert_deleted(&del, &id);
    let again = app
        .sms(
            Method::DELETE,
            &format!("/sms/v1/keyword/{id}"),
            &f.token,
            &Value::Null,
        )
        .await;
    assert_not_the_clients(&again, &id);
    // A malformed ID is not the account's either.
    let bad = app
        .sms(
            Method::DELETE,
            "/sms/v1/keyword/a%20b",
            &f.token,
            &Value::Null,
        )
        .await;
    assert_not_the_clients(&bad, "a b");
    // The subscriptions went with the keyword.
    assert_eq!(subscriptions(&app, &f, N1).await["count"], "0");
}

/// 202 with both status keys, the camelCase one first (API.md §6).
fn assert_deleted(reply: &common::Reply, id: &str) {
    assert_eq!(reply.status, 202, "{}", reply.body);
    let sentence = format!("SUCCESS Keyword with id {id} was successfully delete.");
    assert_eq!(
        String::from_utf8_lossy(&reply.raw),
        format!(r#"{{"status":"Success","Status":"{sentence}"}}"#)
    );
}

/// 404 `Keyword {0} isn't valid for the client.`
fn assert_not_the_clients(reply: &common::Reply, named: &str) {
    assert_eq!(reply.status, 404, "{}", reply.body);
    assert_eq!(
        reply.body,
        json!({"errors": [format!("Keyword {named} isn't valid for the client.")]})
    );
}

#[tokio::test]
async fn every_keyword_delete_form_deletes_and_keeps_opt_outs() {
    let app = spawn_app().await;
    let f = fixture(&app, "Acme").await;
    app.admin_ok(
        Method::POST,
        "/admin/v1/accounts/Acme/codes",
        json!({"code": "15555550000", "countryCode": "US", "type": "long", "carrier": "simulator"}),
    )
    .await;
    let create = |body: Value| {
        let app = &app;
        let token = f.token.clone();
        async move {
            let r = app
                .sms(Method::POST, "/sms/v1/keyword", &token, &body)
                .await;
            assert_eq!(r.status, 202, "{}", r.body);
            r.body["keywordId"].as_str().expect("keywordId").to_string()
        }
    };
    let delete = |path: String, body: Value| {
        let app = &app;
        let token = f.token.clone();
        async move { app.sms(Method::DELETE, &path, &token, &body).await }
    };

    // By keyword and long code (fuel-rest lowercases the path; any case matches).
    let on_long =
        create(json!({"LongCode": "15555550000", "CountryCode": "US", "Keyword": "Alpha"})).await;
    assert_deleted(
        &delete("/sms/v1/keyword/alpha/15555550000".into(), Value::Null).await,
        &on_long,
    );
    assert_not_the_clients(
        &delete("/sms/v1/keyword/alpha/15555550000".into(), Value::Null).await,
        "alpha",
    );

    // By keyword, short code and country; a body, when sent too, does not win over the path.
    let on_short =
        create(json!({"ShortCode": "88976", "CountryCode": "US", "Keyword": "Beta"})).await;
    assert_not_the_clients(
        &delete("/sms/v1/keyword/beta/88976/gb".into(), Value::Null).await,
        "beta",
    );
    assert_not_the_clients(
        &delete("/sms/v1/keyword/beta/12345/us".into(), Value::Null).await,
        "beta",
    );
    let sdk_body = json!({"Keyword": "Other", "ShortCode": "1", "CountryCode": "US"});
    assert_deleted(
        &delete("/sms/v1/keyword/BETA/88976/us".into(), sdk_body).await,
        &on_short,
    );

    // The bare form with a body, either code kind.
    let in_body =
        create(json!({"ShortCode": "88976", "CountryCode": "US", "Keyword": "Gamma"})).await;
    assert_deleted(
        &delete(
            "/sms/v1/keyword".into(),
            json!({"keyword": "gamma", "shortCode": "88976", "countryCode": "US"}),
        )
        .await,
        &in_body,
    );
    let long_body = create(json!({"LongCode": "15555550000", "Keyword": "Delta"})).await;
    assert_deleted(
        &delete(
            "/sms/v1/keyword".into(),
            json!({"Keyword": "DELTA", "LongCode": "15555550000"}),
        )
        .await,
        &long_body,
    );
    assert_errors(
        &delete("/sms/v1/keyword".into(), json!({})).await,
        &[
            "A short code or a long code must be specified.",
            "Keyword can't be blank.",
        ],
    );
    assert_not_the_clients(
        &delete(
            "/sms/v1/keyword".into(),
            json!({"Keyword": "nope", "LongCode": "15555550000"}),
        )
        .await,
        "nope",
    );

    // Deleting ends the keyword's subscriptions, but an opt-out on the code survives: the
    // re-created keyword does not make the opted-out number textable.
    let kept =
        create(json!({"ShortCode": "88976", "CountryCode": "US", "Keyword": "Epsilon"})).await;
    queue_mo(&app, &f, &[N1, N2], "EPSILON").await;
    run_engine(&app).await;
    queue_mo(&app, &f, &[N2], "STOP").await;
    run_engine(&app).await;
    let statuses = |subs: Value| {
        subs["contacts"]
            .as_array()
            .map(|c| {
                c.iter()
                    .map(|s| format!("{}:{}", s["keyword"], s["status"]))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    let subscribed = r#""Epsilon":"Subscribed""#.to_string();
    assert!(statuses(subscriptions(&app, &f, N1).await).contains(&subscribed));
    assert_deleted(
        &delete(format!("/sms/v1/keyword/{kept}"), Value::Null).await,
        &kept,
    );
    assert!(
        !statuses(subscriptions(&app, &f, N1).await).contains(&subscribed),
        "the deleted keyword's subscription ended"
    );
    create(json!({"ShortCode": "88976", "CountryCode": "US", "Keyword": "Epsilon"})).await;
    let send = app
        .sms(
            Method::POST,
            "/sms/v1/messageContact/MzA6Nzg6MA/send",
            &f.token,
            &json!({"mobileNumbers": [N1, N2], "Subscribe": true, "keyword": "Epsilon"}),
        )
        .await;
    assert_eq!(send.status, 202, "{}", send.body);
    let token = send.body["tokenId"].as_str().expect("tokenId").to_string();
    run_engine(&app).await;
    let texted: Vec<String> = outbox_of(&app, &token)
        .await
        .iter()
        .map(|m| m["to"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        texted,
        vec![N1.to_string()],
        "the opted-out number stays out"
    );
}

#[tokio::test]
async fn subscriptions_lookup_messages() {
    let app = spawn_app().await;
    let f = fixture(&app, "Acme").await;
    let post = |body: Value| {
        let app = &app;
        let token = f.token.clone();
        async move {
            app.sms(
                Method::POST,
                "/sms/v1/contacts/subscriptions",
                &token,
                &body,
            )
            .await
        }
    };
    assert_errors(
        &post(json!({})).await,
        &["The count of mobile numbers or subscriber keys can't be zero."],
    );
    assert_errors(&post(json!({"mobileNumber": ["x", "12"], "subscriberKey": ["k"]})).await, &[
        "An array of mobile numbers and an array of subscriber keys can't be provided at the same time.",
        "x isn't a numeric string",
        "12 isn't a valid mobile number.",
    ]);
    assert_errors(
        &post(json!({"mobileNumber": "15555555510"})).await,
        &[
            "mobileNumber must be an array of strings.",
            "The count of mobile numbers or subscriber keys can't be zero.",
        ],
    );
    let none = post(json!({"mobileNumber": [N1]})).await;
    assert_eq!(none.status, 200);
    assert_eq!(none.body["count"], "0");
    assert_eq!(none.body["contacts"], json!([]));
}

//! A code that several accounts hold on one carrier (API.md §6): a STOP-family text from the
//! carrier opts the number out in every one of them with one confirmation from the account that
//! created the code first; START-family texts re-subscribe wherever the number opted out by text
//! (not where an operator unsubscribed it); HELP, unmatched texts and keywords go to the account
//! that created the code (or keyword) first; `queueMO` acts only in the caller's account. Every
//! account a text acts in keeps it in its own history.
//!
//! Three accounts, Acme, Beta and Gamma, created in that order, each hold 88976 on the simulator
//! (the fixture: keyword JOIN, a message to ListA) with opt-out and help texts of their own, and
//! the same two numbers subscribed on ListA.

mod common;

use common::{
    assert_accepted, fixture, import_contacts, opt_out, outbox, run_engine, spawn_app, Fixture,
    TestApp,
};
use domain::clock::Clock;
use reqwest::Method;
use serde_json::{json, Value};

const N1: &str = "15555555510";
const N2: &str = "15555555511";
const N3: &str = "15555555512";
const ACCOUNTS: [&str; 3] = ["Acme", "Beta", "Gamma"];

/// The three accounts, oldest first, each with its own opt-out and help texts on 88976 and
/// N1, N2 subscribed to JOIN on ListA.
async fn three_holders(app: &TestApp) -> Vec<Fixture> {
    let mut fixtures = Vec::new();
    for account in ACCOUNTS {
        let f = fixture(app, account).await;
        app.admin_ok(
            Method::PATCH,
            &format!("/admin/v1/accounts/{account}/codes/88976"),
            json!({"optOutText": format!("Bye from {account}"),
                   "helpText": format!("Help from {account}")}),
        )
        .await;
        import_contacts(
            app,
            account,
            &f.list_a,
            json!([{"mobileNumber": N1}, {"mobileNumber": N2}]),
            true,
        )
        .await;
        fixtures.push(f);
    }
    fixtures
}

/// `from` texts `text` to 88976 through the simulator carrier; the engine handles it and
/// hands over the replies.
async fn carrier_text(app: &TestApp, from: &str, text: &str) {
    app.engine
        .inbound(store::InboundText {
            carrier: "simulator".into(),
            from: from.into(),
            to: "88976".into(),
            text: text.into(),
            received_at: app.clock.now_ms(),
        })
        .await
        .expect("inbound");
    run_engine(app).await;
}

/// What the carrier was handed for `number` after the first `skip` outbox items: (text, the
/// account whose send it belongs to).
async fn texts_to(app: &TestApp, number: &str, skip: usize) -> Vec<(String, String)> {
    let mut owners = std::collections::HashMap::new();
    for account in ACCOUNTS {
        for send in app.sends(account).await {
            let token = send["tokenId"]
                .as_str()
                .or_else(|| send["token"].as_str())
                .expect("token")
                .to_string();
            owners.insert(token, account.to_string());
        }
    }
    outbox(app)
        .await
        .into_iter()
        .skip(skip)
        .filter(|o| o["to"] == number)
        .map(|o| {
            let token = o["tokenId"].as_str().unwrap_or_default();
            (
                o["text"].as_str().unwrap_or_default().to_string(),
                owners.get(token).cloned().unwrap_or_default(),
            )
        })
        .collect()
}

/// The status of `number`'s subscription to `keyword` on 88976 in the fixture's account.
async fn status(app: &TestApp, f: &Fixture, number: &str, keyword: &str) -> Option<String> {
    let reply = app
        .sms(
            Method::POST,
            "/sms/v1/contacts/subscriptions",
            &f.token,
            &json!({"mobileNumber": [number]}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["contacts"]
        .as_array()
        .expect("contacts")
        .iter()
        .find(|c| c["shortCode"] == "88976" && c["keyword"] == keyword)
        .and_then(|c| c["status"].as_str().map(str::to_string))
}

/// Sends the fixture's list message; the numbers the carrier was handed.
async fn list_send_reaches(app: &TestApp, f: &Fixture) -> Vec<String> {
    let token = assert_accepted(&app.send_list(&f.token, &f.message, &json!({})).await);
    run_engine(app).await;
    let mut to: Vec<String> = common::outbox_of(app, &token)
        .await
        .iter()
        .map(|o| o["to"].as_str().unwrap_or_default().to_string())
        .collect();
    to.sort();
    to
}

/// A messageContact send to `number` in the fixture's account, whose history then shows the
/// number's texts to the code and the replies it got there.
async fn contact_send(app: &TestApp, f: &Fixture, number: &str) -> String {
    let reply = app
        .sms(
            Method::POST,
            &format!("/sms/v1/messageContact/{}/send", f.message),
            &f.token,
            &json!({"mobileNumbers": [number]}),
        )
        .await;
    assert_accepted(&reply)
}

/// The MO entries of that send's history for `number`, in order.
async fn inbound_history(app: &TestApp, f: &Fixture, token: &str, number: &str) -> Vec<String> {
    let reply = app
        .sms(
            Method::GET,
            &format!(
                "/sms/v1/messageContact/{}/history/{token}/mobileNumber/{number}",
                f.message
            ),
            &f.token,
            &Value::Null,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter(|e| e["type"] == "MO")
        .map(|e| e["message"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn stop_from_the_carrier_opts_out_in_every_account_and_start_follows_opt_outs_by_text() {
    let app = spawn_app().await;
    let fs = three_holders(&app).await;
    let (acme, beta, gamma) = (&fs[0], &fs[1], &fs[2]);
    // Gamma's operator unsubscribed N1 before it texted anything.
    opt_out(&app, "Gamma", N1).await;
    let mut histories = Vec::new();
    for f in &fs {
        histories.push(contact_send(&app, f, N1).await);
    }
    run_engine(&app).await;
    app.clock.advance(60_000);
    let seen = outbox(&app).await.len();

    carrier_text(&app, N1, "  Stop ").await;
    // One confirmation, from the account that created the code first.
    assert_eq!(
        texts_to(&app, N1, seen).await,
        vec![("Bye from Acme".to_string(), "Acme".to_string())]
    );
    for f in &fs {
        assert_eq!(
            status(&app, f, N1, "JOIN").await.as_deref(),
            Some("Unsubscribed"),
            "{}",
            f.account
        );
        assert_eq!(
            status(&app, f, N2, "JOIN").await.as_deref(),
            Some("Subscribed"),
            "{}",
            f.account
        );
    }
    // Each account keeps the text in its own history.
    for (f, token) in fs.iter().zip(&histories) {
        assert_eq!(
            inbound_history(&app, f, token, N1).await,
            vec!["  Stop ".to_string()],
            "{}",
            f.account
        );
    }
    // A younger account's list send no longer reaches the number.
    assert_eq!(list_send_reaches(&app, beta).await, vec![N2.to_string()]);
    assert_eq!(list_send_reaches(&app, gamma).await, vec![N2.to_string()]);

    // START: back where it opted out by text (Acme, Beta), not where the operator
    // unsubscribed it (Gamma). One reply, from the oldest of those.
    app.clock.advance(60_000);
    let seen = outbox(&app).await.len();
    carrier_text(&app, N1, "START").await;
    assert_eq!(
        texts_to(&app, N1, seen).await,
        vec![("Welcome".to_string(), "Acme".to_string())]
    );
    assert_eq!(
        status(&app, acme, N1, "JOIN").await.as_deref(),
        Some("Subscribed")
    );
    assert_eq!(
        status(&app, beta, N1, "JOIN").await.as_deref(),
        Some("Subscribed")
    );
    assert_eq!(
        status(&app, gamma, N1, "JOIN").await.as_deref(),
        Some("Unsubscribed")
    );
    assert_eq!(
        list_send_reaches(&app, beta).await,
        vec![N1.to_string(), N2.to_string()]
    );
    assert_eq!(list_send_reaches(&app, gamma).await, vec![N2.to_string()]);
    // The STOP opted N1 out of Gamma's code too, by text: START ends that (Gamma records it),
    // while the keyword the operator unsubscribed stays unsubscribed (above).
    for (f, token) in fs.iter().zip(&histories) {
        assert_eq!(
            inbound_history(&app, f, token, N1).await,
            vec!["  Stop ".to_string(), "START".to_string()],
            "{}",
            f.account
        );
    }
}

#[tokio::test]
async fn help_unmatched_texts_and_keywords_go_to_the_account_that_created_them_first() {
    let app = spawn_app().await;
    let fs = three_holders(&app).await;
    let (acme, beta, gamma) = (&fs[0], &fs[1], &fs[2]);
    // DEALS: Beta created it before Acme did (Acme's code is older). ONLYG: Gamma alone.
    for (account, keyword) in [("Beta", "DEALS"), ("Acme", "DEALS"), ("Gamma", "ONLYG")] {
        app.admin_ok(
            Method::POST,
            &format!("/admin/v1/accounts/{account}/keywords"),
            json!({"code": "88976", "keyword": keyword,
                   "response": format!("{keyword} from {account}")}),
        )
        .await;
        app.clock.advance(1_000);
    }
    let histories = [
        contact_send(&app, acme, N3).await,
        contact_send(&app, beta, N3).await,
        contact_send(&app, gamma, N3).await,
    ];
    run_engine(&app).await;
    app.clock.advance(60_000);

    let seen = outbox(&app).await.len();
    carrier_text(&app, N3, "help me").await;
    carrier_text(&app, N3, "hello there").await;
    carrier_text(&app, N3, "Deals").await;
    carrier_text(&app, N3, "onlyg").await;
    assert_eq!(
        texts_to(&app, N3, seen).await,
        vec![
            ("Help from Acme".to_string(), "Acme".to_string()),
            ("DEALS from Beta".to_string(), "Beta".to_string()),
            ("ONLYG from Gamma".to_string(), "Gamma".to_string()),
        ]
    );
    assert_eq!(
        status(&app, beta, N3, "DEALS").await.as_deref(),
        Some("Subscribed")
    );
    assert_eq!(status(&app, acme, N3, "DEALS").await, None);
    assert_eq!(
        status(&app, gamma, N3, "ONLYG").await.as_deref(),
        Some("Subscribed")
    );
    // Each text is in the history of the account it went to, and only there.
    assert_eq!(
        inbound_history(&app, acme, &histories[0], N3).await,
        vec!["help me".to_string(), "hello there".to_string()]
    );
    assert_eq!(
        inbound_history(&app, beta, &histories[1], N3).await,
        vec!["Deals".to_string()]
    );
    assert_eq!(
        inbound_history(&app, gamma, &histories[2], N3).await,
        vec!["onlyg".to_string()]
    );
}

#[tokio::test]
async fn a_yes_confirms_the_pending_requests_of_every_account_that_has_one() {
    let app = spawn_app().await;
    let fs = three_holders(&app).await;
    let (acme, beta, gamma) = (&fs[0], &fs[1], &fs[2]);
    // VIP is double opt-in in Acme and Gamma; the number asks in both (Acme's, the older
    // keyword, takes the text "vip"; Gamma's is asked for by "VIPG").
    for (account, keyword) in [("Acme", "VIP"), ("Gamma", "VIPG")] {
        app.admin_ok(
            Method::POST,
            &format!("/admin/v1/accounts/{account}/keywords"),
            json!({"code": "88976", "keyword": keyword, "doubleOptIn": true,
                   "confirmText": format!("Reply Y for {account}"),
                   "response": format!("{account} VIP on")}),
        )
        .await;
    }
    let seen = outbox(&app).await.len();
    carrier_text(&app, N3, "vip").await;
    carrier_text(&app, N3, "vipg").await;
    carrier_text(&app, N3, "YES").await;
    // The two confirmations are sends of their own, handed over in either order.
    let mut texts = texts_to(&app, N3, seen).await;
    let first_two = texts.len().min(2);
    texts[first_two..].sort();
    assert_eq!(
        texts,
        vec![
            ("Reply Y for Acme".to_string(), "Acme".to_string()),
            ("Reply Y for Gamma".to_string(), "Gamma".to_string()),
            ("Acme VIP on".to_string(), "Acme".to_string()),
            ("Gamma VIP on".to_string(), "Gamma".to_string()),
        ]
    );
    assert_eq!(
        status(&app, acme, N3, "VIP").await.as_deref(),
        Some("Subscribed")
    );
    assert_eq!(
        status(&app, gamma, N3, "VIPG").await.as_deref(),
        Some("Subscribed")
    );
    // Beta had nothing pending: untouched.
    assert_eq!(status(&app, beta, N3, "JOIN").await, None);
}

#[tokio::test]
async fn queue_mo_in_a_younger_account_acts_only_there() {
    let app = spawn_app().await;
    let fs = three_holders(&app).await;
    let (acme, beta, gamma) = (&fs[0], &fs[1], &fs[2]);
    let reply = app
        .sms(
            Method::POST,
            "/sms/v1/queueMO",
            &beta.token,
            &json!({"mobileNumbers": [N1], "shortCode": "88976", "messageText": "STOP"}),
        )
        .await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    let token = reply.body["tokenId"].as_str().expect("tokenId").to_string();
    run_engine(&app).await;
    let replies = common::outbox_of(&app, &token).await;
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert_eq!(replies[0]["text"], "Bye from Beta");
    assert_eq!(
        status(&app, beta, N1, "JOIN").await.as_deref(),
        Some("Unsubscribed")
    );
    for f in [acme, gamma] {
        assert_eq!(
            status(&app, f, N1, "JOIN").await.as_deref(),
            Some("Subscribed"),
            "{}",
            f.account
        );
    }
    assert_eq!(
        list_send_reaches(&app, acme).await,
        vec![N1.to_string(), N2.to_string()]
    );
    assert_eq!(list_send_reaches(&app, beta).await, vec![N2.to_string()]);
}

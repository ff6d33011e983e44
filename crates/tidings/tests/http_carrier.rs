//! An HTTP-provider carrier through the whole server: a send routed to it goes out as the
//! provider's API call (a mock provider), and `POST /carriers/{name}/status` takes the
//! provider's signed status callbacks — a bad signature is refused with 403 and changes
//! nothing; a good one raises the recipient's code.

mod common;

use common::{fixture, spawn_app_with, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tidings::config::CarrierConfig;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const CODE: &str = "66666";
const NUMBER: &str = "15555550100";

fn provider(base: &str) -> CarrierConfig {
    let settings = [
        ("flavor", base_value("twilio")),
        ("base_url", base_value(base)),
        ("account_sid", base_value("AC123")),
        ("auth_token", base_value("secret-token")),
    ];
    CarrierConfig {
        name: "provider".into(),
        kind: "http".into(),
        settings: settings
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    }
}

fn base_value(s: &str) -> toml::Value {
    toml::Value::String(s.into())
}

async fn setup(app: &TestApp, account: &str) -> String {
    let base = format!("/admin/v1/accounts/{account}");
    app.admin_ok(
        Method::POST,
        &format!("{base}/codes"),
        json!({"code": CODE, "countryCode": "US", "type": "short", "carrier": "provider"}),
    )
    .await;
    app.admin_ok(
        Method::POST,
        &format!("{base}/keywords"),
        json!({"code": CODE, "keyword": "GO", "response": "Welcome"}),
    )
    .await;
    app.admin_ok(
        Method::POST,
        &format!("{base}/lists"),
        json!({"id": "Http", "name": "Http"}),
    )
    .await;
    app.admin_ok(
        Method::POST,
        &format!("{base}/lists/Http/contacts"),
        json!({"contacts": [{"mobileNumber": NUMBER}],
               "subscribe": {"code": CODE, "keyword": "GO"}}),
    )
    .await;
    app.admin_ok(
        Method::POST,
        &format!("{base}/messages"),
        json!({"id": "SHR0cDox", "name": "Http", "code": CODE, "status": "Active",
               "text": "Hello", "targetListIds": ["Http"]}),
    )
    .await;
    "SHR0cDox".into()
}

async fn code_of(app: &TestApp, token: &str, message: &str, send: &str) -> Value {
    let r = app.deliveries(token, message, send).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["tracking"][0]["statusCode"].clone()
}

async fn callback(app: &TestApp, signature: &str, fields: &[(String, String)]) -> common::Reply {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields.iter())
        .finish();
    app.request(
        Method::POST,
        "/carriers/provider/status",
        None,
        Some(body.into_bytes()),
        &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("x-twilio-signature", signature),
        ],
    )
    .await
}

#[tokio::test]
async fn status_callbacks_are_verified_and_raise_the_recipients_code() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/2010-04-01/Accounts/AC123/Messages.json"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"sid": "SM42"})))
        .expect(1)
        .mount(&server)
        .await;
    let uri = server.uri();
    let app = spawn_app_with(|f| f.carriers.push(provider(&uri))).await;
    let f = fixture(&app, "HttpAcct").await;
    let message = setup(&app, &f.account).await;
    let r = app.send_list(&f.token, &message, &json!({})).await;
    let send = common::assert_accepted(&r);
    app.engine.run_until_idle().await.expect("engine");
    assert_eq!(code_of(&app, &f.token, &message, &send).await, "2000");

    let fields: Vec<(String, String)> = vec![
        ("MessageSid".into(), "SM42".into()),
        ("MessageStatus".into(), "delivered".into()),
        ("To".into(), format!("+{NUMBER}")),
    ];
    // Signed for the URL the server is reached at (its public URL).
    let url = app.url("/carriers/provider/status");
    let forged = carrier::http::signature("not-the-token", &url, &fields);
    let r = callback(&app, &forged, &fields).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        r.body,
        json!({"errors": ["The request signature isn't valid."]})
    );
    app.engine.run_until_idle().await.expect("engine");
    assert_eq!(
        code_of(&app, &f.token, &message, &send).await,
        "2000",
        "a refused callback changes nothing"
    );

    let good = carrier::http::signature("secret-token", &url, &fields);
    let r = callback(&app, &good, &fields).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    app.engine.run_until_idle().await.expect("engine");
    assert_eq!(code_of(&app, &f.token, &message, &send).await, "4000");

    let r = app
        .request(Method::POST, "/carriers/nobody/status", None, None, &[])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

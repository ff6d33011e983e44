//! `/v2/token` and bearer tokens (API.md §2), and the conventions every endpoint shares (§1):
//! precedence of 404/405/401/403/413/400, content type, case-insensitive paths, rate limiting
//! and tenant isolation.

mod common;

use common::{
    assert_accepted, assert_errors, assert_json_reply, fixture, spawn_app, spawn_app_with, Fixture,
    Reply, TestApp, JSON_CONTENT_TYPE,
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const DOCS: &str =
    "https://developer.salesforce.com/docs/atlas.en-us.mc-apis.meta/mc-apis/error-handling.htm";
const CHALLENGE: &str =
    "Bearer error=\"invalid_token\", error_description=\"The access token is invalid or expired\"";
const MIB: usize = 1024 * 1024;

fn invalid_client() -> Value {
    json!({"error": "invalid_client",
           "error_description": "Client authentication failed. Make sure that the client ID and client secret are valid and that the package is installed and enabled.",
           "error_uri": "https://developer.salesforce.com/docs"})
}

fn unsupported_grant_type() -> Value {
    json!({"error": "unsupported_grant_type",
           "error_description": "Use \"client_credentials\" as the grant_type.",
           "error_uri": "https://developer.salesforce.com/docs"})
}

fn invalid_request() -> Value {
    json!({"error": "invalid_request",
           "error_description": "The request body isn't valid JSON.",
           "error_uri": "https://developer.salesforce.com/docs"})
}

fn unauthorized_client() -> Value {
    json!({"error": "unauthorized_client",
           "error_description": "The client is not authorized for this account.",
           "error_uri": "https://developer.salesforce.com/docs"})
}

fn not_authorized() -> Value {
    json!({"documentation": DOCS, "errorcode": 0, "message": "Not Authorized"})
}

fn insufficient() -> Value {
    json!({"documentation": DOCS, "errorcode": 40003, "message": "Insufficient privileges"})
}

fn assert_reply(r: &Reply, status: StatusCode, body: &Value) {
    assert_json_reply(r);
    assert_eq!(
        (r.status, &r.body),
        (status, body),
        "{}",
        String::from_utf8_lossy(&r.raw)
    );
}

fn assert_invalid_token(r: &Reply) {
    assert_reply(r, StatusCode::UNAUTHORIZED, &not_authorized());
    let challenge = r
        .headers
        .get(reqwest::header::WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok());
    assert_eq!(challenge, Some(CHALLENGE));
}

async fn setup() -> (TestApp, Fixture) {
    let app = spawn_app().await;
    let fx = fixture(&app, "A").await;
    (app, fx)
}

fn creds(fx: &Fixture) -> Value {
    json!({"grant_type": "client_credentials", "client_id": fx.client_id,
           "client_secret": fx.secret})
}

fn with(mut body: Value, key: &str, value: Value) -> Value {
    body[key] = value;
    body
}

fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
        .into_bytes()
}

const FORM: Option<&str> = Some("application/x-www-form-urlencoded");

/// Asserts a successful token response; returns the access token.
fn assert_token(app: &TestApp, r: &Reply, scope: &str) -> String {
    assert_json_reply(r);
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let token = r.body["access_token"].as_str().expect("access_token");
    assert!(!token.is_empty() && token.len() <= 512);
    assert_eq!(
        r.body,
        json!({"access_token": token, "expires_in": 1079, "token_type": "Bearer",
               "rest_instance_url": app.base, "soap_instance_url": app.base, "scope": scope})
    );
    token.to_string()
}

async fn send(app: &TestApp, token: &str, id: &str, body: &Value) -> Reply {
    app.send_list(token, id, body).await
}

// ---------------------------------------------------------------------------------------------
// /v2/token

#[tokio::test]
async fn token_from_a_json_body() {
    let (app, fx) = setup().await;
    let r = app.token_json(&creds(&fx)).await;
    let token = assert_token(&app, &r, "sms_read sms_send sms_write");
    assert!(app.base.starts_with("http://127.0.0.1:") && app.base.ends_with('/'));
    assert!(!app.base.ends_with(":0/"));
    // It works.
    assert_accepted(&send(&app, &token, &fx.message, &json!({})).await);
    // A body sent as JSON without a content type, and with a form content type, is still JSON.
    let r = app
        .token_raw(creds(&fx).to_string().into_bytes(), None)
        .await;
    assert_token(&app, &r, "sms_read sms_send sms_write");
    let r = app
        .token_raw(creds(&fx).to_string().into_bytes(), FORM)
        .await;
    assert_token(&app, &r, "sms_read sms_send sms_write");
}

#[tokio::test]
async fn token_from_a_form_body() {
    let (app, fx) = setup().await;
    let body = form(&[
        ("grant_type", "client_credentials"),
        ("client_id", &fx.client_id),
        ("client_secret", &fx.secret),
    ]);
    let r = app.token_raw(body, FORM).await;
    let token = assert_token(&app, &r, "sms_read sms_send sms_write");
    assert_accepted(&send(&app, &token, &fx.message, &json!({})).await);
    let body = form(&[
        ("grant_type", "client_credentials"),
        ("client_id", &fx.client_id),
        ("client_secret", &fx.secret),
        ("scope", "sms_send sms_read"),
        ("account_id", "A"),
    ]);
    let r = app
        .token_raw(
            body,
            Some("application/x-www-form-urlencoded; charset=utf-8"),
        )
        .await;
    assert_token(&app, &r, "sms_read sms_send");
}

#[tokio::test]
async fn token_for_a_granted_account_as_string_or_number() {
    let (app, fx) = setup().await;
    for id in ["Other", "12345"] {
        app.admin_ok(
            Method::POST,
            "/admin/v1/accounts",
            json!({"id": id, "name": id}),
        )
        .await;
    }
    let (client, secret) = app
        .create_client("A", json!({"accounts": ["Other", "12345"]}))
        .await;
    let base = json!({"grant_type": "client_credentials", "client_id": client,
                      "client_secret": secret});
    // The token acts for the account it names: A's message is not Other's.
    for account in [json!("Other"), json!(12345), json!("12345")] {
        let r = app
            .token_json(&with(base.clone(), "account_id", account.clone()))
            .await;
        let token = assert_token(&app, &r, "sms_read sms_send sms_write");
        let r = send(&app, &token, &fx.message, &json!({})).await;
        assert_errors(&r, &["Message MzA6Nzg6MA isn't valid for the client."]);
    }
    // Its own account, named or by default.
    for body in [base.clone(), with(base.clone(), "account_id", json!("A"))] {
        let r = app.token_json(&body).await;
        let token = assert_token(&app, &r, "sms_read sms_send sms_write");
        assert_accepted(&send(&app, &token, &fx.message, &json!({})).await);
    }
    // In a form body too.
    let r = app
        .token_raw(
            form(&[
                ("grant_type", "client_credentials"),
                ("client_id", &client),
                ("client_secret", &secret),
                ("account_id", "12345"),
            ]),
            FORM,
        )
        .await;
    assert_token(&app, &r, "sms_read sms_send sms_write");
}

#[tokio::test]
async fn token_failures() {
    let (app, fx) = setup().await;
    fixture(&app, "B").await;
    // Unknown client, wrong secret.
    for body in [
        with(creds(&fx), "client_id", json!("nosuchclient")),
        with(creds(&fx), "client_secret", json!("wrong")),
        with(creds(&fx), "client_secret", json!("")),
    ] {
        let r = app.token_json(&body).await;
        assert_reply(&r, StatusCode::UNAUTHORIZED, &invalid_client());
    }
    let r = app
        .token_raw(
            form(&[
                ("grant_type", "client_credentials"),
                ("client_id", &fx.client_id),
                ("client_secret", "wrong"),
            ]),
            FORM,
        )
        .await;
    assert_reply(&r, StatusCode::UNAUTHORIZED, &invalid_client());
    // Account not granted (another account, or none such).
    for account in [json!("B"), json!("Nope"), json!(42)] {
        let r = app
            .token_json(&with(creds(&fx), "account_id", account))
            .await;
        assert_reply(&r, StatusCode::UNAUTHORIZED, &unauthorized_client());
    }
}

#[tokio::test]
async fn token_of_a_revoked_client() {
    let (app, fx) = setup().await;
    app.admin_ok(
        Method::DELETE,
        &format!("/admin/v1/accounts/A/clients/{}", fx.client_id),
        Value::Null,
    )
    .await;
    let r = app.token_json(&creds(&fx)).await;
    assert_reply(&r, StatusCode::UNAUTHORIZED, &invalid_client());
}

#[tokio::test]
async fn unsupported_grant_type_is_checked_first() {
    let (app, fx) = setup().await;
    let wrong = json!({"client_id": "nosuchclient", "client_secret": "x", "account_id": "Nope"});
    for body in [
        json!({}),
        with(creds(&fx), "grant_type", json!("password")),
        with(creds(&fx), "grant_type", json!("authorization_code")),
        with(creds(&fx), "grant_type", json!(null)),
        with(creds(&fx), "grant_type", json!(5)),
        with(wrong.clone(), "grant_type", json!("password")),
        wrong,
    ] {
        let r = app.token_json(&body).await;
        assert_reply(&r, StatusCode::BAD_REQUEST, &unsupported_grant_type());
    }
    for body in [
        form(&[("grant_type", "password"), ("client_id", "x")]),
        form(&[("client_id", &fx.client_id), ("client_secret", &fx.secret)]),
        Vec::new(),
    ] {
        let r = app.token_raw(body, FORM).await;
        assert_reply(&r, StatusCode::BAD_REQUEST, &unsupported_grant_type());
    }
    // An empty body is `{}`.
    let r = app.token_raw(Vec::new(), Some("application/json")).await;
    assert_reply(&r, StatusCode::BAD_REQUEST, &unsupported_grant_type());
}

#[tokio::test]
async fn token_request_that_is_neither_json_nor_form() {
    let app = spawn_app().await;
    for (body, ct) in [
        ("not json", Some("text/plain")),
        ("not json", Some("application/json")),
        ("grant_type=client_credentials", Some("application/json")),
        ("grant_type=client_credentials", None),
        ("[]", Some("application/json")),
        ("{\"grant_type\": \"client_credentials\"", None),
        ("\"client_credentials\"", None),
    ] {
        let r = app.token_raw(body.as_bytes().to_vec(), ct).await;
        assert_reply(&r, StatusCode::BAD_REQUEST, &invalid_request());
    }
}

#[tokio::test]
async fn token_scopes() {
    let (app, fx) = setup().await;
    let (client, secret) = app
        .create_client("A", json!({"scopes": ["sms_send", "sms_read"]}))
        .await;
    let base = json!({"grant_type": "client_credentials", "client_id": client,
                      "client_secret": secret});
    for (asked, granted) in [
        (Value::Null, "sms_read sms_send"),
        (json!("sms_write sms_send bogus"), "sms_send"),
        (json!("sms_send sms_read"), "sms_read sms_send"),
        (json!("  sms_read   sms_read "), "sms_read"),
        (json!("sms_write"), ""),
        (json!(""), ""),
    ] {
        let r = app.token_json(&with(base.clone(), "scope", asked)).await;
        assert_token(&app, &r, granted);
    }
    // Omitted means all of the client's scopes, sorted.
    for (asked, granted) in [
        (Value::Null, "sms_read sms_send sms_write"),
        (
            json!("sms_write sms_read sms_send"),
            "sms_read sms_send sms_write",
        ),
        (json!("SMS_READ sms_send"), "sms_send"),
    ] {
        let r = app.token_json(&with(creds(&fx), "scope", asked)).await;
        assert_token(&app, &r, granted);
    }
}

// ---------------------------------------------------------------------------------------------
// Bearer tokens.

#[tokio::test]
async fn missing_or_garbage_bearer_tokens() {
    let (app, fx) = setup().await;
    let send_path = format!("/sms/v1/messageList/{}/send", fx.message);
    let deliveries_path = format!("/sms/v1/messageList/{}/deliveries/sometoken", fx.message);
    for (method, path) in [(Method::POST, &send_path), (Method::GET, &deliveries_path)] {
        for auth in [
            None,
            Some("Bearer garbage"),
            Some("Bearer "),
            Some("Basic dXNlcjpwYXNz"),
            Some(fx.token.as_str()),
            Some("Bearer test-admin-token-0123456789"),
        ] {
            let headers: Vec<(&str, &str)> =
                auth.map(|a| vec![("authorization", a)]).unwrap_or_default();
            let r = app
                .request(method.clone(), path, None, Some(b"{}".to_vec()), &headers)
                .await;
            assert_invalid_token(&r);
        }
    }
    // The scheme is case-insensitive.
    let r = app
        .request(
            Method::POST,
            &send_path,
            None,
            Some(b"{}".to_vec()),
            &[("authorization", &format!("bearer {}", fx.token))],
        )
        .await;
    assert_accepted(&r);
}

#[tokio::test]
async fn expired_tokens() {
    let (app, fx) = setup().await;
    app.clock.advance(19 * 60 * 1000);
    assert_accepted(&send(&app, &fx.token, &fx.message, &json!({})).await);
    app.clock.advance(2 * 60 * 1000);
    assert_invalid_token(&send(&app, &fx.token, &fx.message, &json!({})).await);
    assert_invalid_token(&app.deliveries(&fx.token, &fx.message, "sometoken").await);
    // A fresh token works.
    let token = app.token(&fx.client_id, &fx.secret).await;
    assert_accepted(&send(&app, &token, &fx.message, &json!({})).await);
}

#[tokio::test]
async fn revoked_tokens() {
    let (app, fx) = setup().await;
    let sent = assert_accepted(&send(&app, &fx.token, &fx.message, &json!({})).await);
    app.admin_ok(
        Method::DELETE,
        &format!("/admin/v1/accounts/A/clients/{}", fx.client_id),
        Value::Null,
    )
    .await;
    assert_invalid_token(&send(&app, &fx.token, &fx.message, &json!({})).await);
    assert_invalid_token(&app.deliveries(&fx.token, &fx.message, &sent).await);
}

#[tokio::test]
async fn tokens_without_the_needed_scope() {
    let (app, fx) = setup().await;
    let sent = assert_accepted(&send(&app, &fx.token, &fx.message, &json!({})).await);
    let (reader, reader_secret) = app
        .create_client("A", json!({"scopes": ["sms_read", "sms_write"]}))
        .await;
    let read_only = app.token(&reader, &reader_secret).await;
    let r = send(&app, &read_only, &fx.message, &json!({})).await;
    assert_reply(&r, StatusCode::FORBIDDEN, &insufficient());
    let r = app.deliveries(&read_only, &fx.message, &sent).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    let (sender, sender_secret) = app
        .create_client("A", json!({"scopes": ["sms_send"]}))
        .await;
    let send_only = app.token(&sender, &sender_secret).await;
    let r = app.deliveries(&send_only, &fx.message, &sent).await;
    assert_reply(&r, StatusCode::FORBIDDEN, &insufficient());
    assert_accepted(&send(&app, &send_only, &fx.message, &json!({})).await);

    // A token that asked for no scopes.
    let r = app.token_json(&with(creds(&fx), "scope", json!(""))).await;
    let none = assert_token(&app, &r, "");
    assert_reply(
        &send(&app, &none, &fx.message, &json!({})).await,
        StatusCode::FORBIDDEN,
        &insufficient(),
    );
    assert_reply(
        &app.deliveries(&none, &fx.message, &sent).await,
        StatusCode::FORBIDDEN,
        &insufficient(),
    );
    // 403 comes before validation.
    let r = app
        .send_list_raw(&none, "bad%20id", b"not json".to_vec())
        .await;
    assert_reply(&r, StatusCode::FORBIDDEN, &insufficient());
    assert_eq!(app.send_count("A").await, 2);
}

// ---------------------------------------------------------------------------------------------
// Precedence: 404, 405, 401, 403, 413, 400.

#[tokio::test]
async fn unknown_routes_are_404() {
    let (app, fx) = setup().await;
    let not_found = json!({"errors": ["Not found."]});
    for (method, path) in [
        (Method::GET, "/"),
        (Method::GET, "/sms/v1/nothing"),
        (Method::POST, "/sms/v1/messageList/MzA6Nzg6MA/send/extra"),
        (Method::POST, "/sms/v1/messageList/MzA6Nzg6MA/send//"),
        (Method::POST, "/sms/v2/messageList/MzA6Nzg6MA/send"),
        (Method::GET, "/sms/v1/messageList/MzA6Nzg6MA"),
        (Method::DELETE, "/v2/tokens"),
        (Method::GET, "/admin/v1/nothing"),
        (Method::PUT, "/nothing/at/all"),
    ] {
        for bearer in [None, Some(fx.token.as_str())] {
            let r = app
                .request(method.clone(), path, bearer, Some(b"{}".to_vec()), &[])
                .await;
            assert_reply(&r, StatusCode::NOT_FOUND, &not_found);
        }
    }
}

#[tokio::test]
async fn wrong_methods_are_405_even_without_auth() {
    let (app, fx) = setup().await;
    let not_allowed = json!({"errors": ["Method not allowed."]});
    for (method, path) in [
        (Method::GET, "/sms/v1/messageList/MzA6Nzg6MA/send"),
        (Method::PUT, "/sms/v1/messageList/MzA6Nzg6MA/send"),
        (Method::DELETE, "/sms/v1/messageList/bad%20id/send"),
        (Method::POST, "/sms/v1/messageList/MzA6Nzg6MA/deliveries/x"),
        (Method::GET, "/v2/token"),
        (Method::DELETE, "/V2/TOKEN/"),
        (Method::PATCH, "/admin/v1/accounts"),
    ] {
        for auth in [
            None,
            Some("Bearer garbage"),
            Some(&*format!("Bearer {}", fx.token)),
        ] {
            let headers: Vec<(&str, &str)> =
                auth.map(|a| vec![("authorization", a)]).unwrap_or_default();
            let r = app
                .request(
                    method.clone(),
                    path,
                    None,
                    Some(vec![b'x'; 2 * MIB]),
                    &headers,
                )
                .await;
            assert_reply(&r, StatusCode::METHOD_NOT_ALLOWED, &not_allowed);
        }
    }
}

#[tokio::test]
async fn authentication_comes_before_size() {
    let (app, fx) = setup().await;
    let big = vec![b'x'; 2 * MIB];
    let path = format!("/sms/v1/messageList/{}/send", fx.message);
    let r = app
        .request(Method::POST, &path, None, Some(big.clone()), &[])
        .await;
    assert_invalid_token(&r);
    let r = app
        .request(Method::POST, &path, Some("garbage"), Some(big.clone()), &[])
        .await;
    assert_invalid_token(&r);
    // Scope, then size.
    let r = app
        .token_json(&with(creds(&fx), "scope", json!("sms_read")))
        .await;
    let reader = assert_token(&app, &r, "sms_read");
    let r = app.send_list_raw(&reader, &fx.message, big).await;
    assert_reply(&r, StatusCode::FORBIDDEN, &insufficient());
}

#[tokio::test]
async fn size_comes_before_validation() {
    let (app, fx) = setup().await;
    let too_large = json!({"errors": ["The request body is too large."]});
    // Not JSON, over 1 MiB.
    let r = app
        .send_list_raw(&fx.token, "bad%20id", vec![b'x'; MIB + 1])
        .await;
    assert_reply(&r, StatusCode::PAYLOAD_TOO_LARGE, &too_large);
    // Valid JSON, over 1 MiB.
    let text = "a".repeat(MIB);
    let r = app
        .send_list(
            &fx.token,
            &fx.message,
            &json!({"OverrideMessageText": true, "MessageText": text}),
        )
        .await;
    assert_reply(&r, StatusCode::PAYLOAD_TOO_LARGE, &too_large);
    // On /v2/token too.
    let r = app.token_raw(vec![b' '; MIB + 1], None).await;
    assert_reply(&r, StatusCode::PAYLOAD_TOO_LARGE, &too_large);
    assert_eq!(app.send_count("A").await, 0);
}

/// A JSON object of exactly `len` bytes.
fn object_of_len(len: usize) -> Vec<u8> {
    let skeleton = r#"{"padding":""}"#.len();
    format!(r#"{{"padding":"{}"}}"#, "a".repeat(len - skeleton)).into_bytes()
}

#[tokio::test]
async fn one_mebibyte_is_the_limit() {
    let (app, fx) = setup().await;
    let exact = object_of_len(MIB);
    assert_eq!(exact.len(), MIB);
    assert_accepted(&app.send_list_raw(&fx.token, &fx.message, exact).await);
    let over = object_of_len(MIB + 1);
    let r = app.send_list_raw(&fx.token, &fx.message, over).await;
    assert_reply(
        &r,
        StatusCode::PAYLOAD_TOO_LARGE,
        &json!({"errors": ["The request body is too large."]}),
    );
    assert_eq!(app.send_count("A").await, 1);
}

/// Sends a request with a chunked body (no `Content-Length`) over a raw connection.
async fn chunked_request(app: &TestApp, path: &str, token: &str, body: &[u8]) -> (u16, String) {
    let addr = app
        .base
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let mut stream = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    let (mut reader, mut writer) = stream.split();
    let write = async {
        writer.write_all(head.as_bytes()).await?;
        for chunk in body.chunks(64 * 1024) {
            writer
                .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                .await?;
            writer.write_all(chunk).await?;
            writer.write_all(b"\r\n").await?;
        }
        writer.write_all(b"0\r\n\r\n").await?;
        writer.flush().await
    };
    let read = async {
        let mut out = Vec::new();
        let _ = reader.read_to_end(&mut out).await;
        out
    };
    // The server may answer before the whole body is written.
    let (_, response) = tokio::join!(write, read);
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    assert!(
        text.to_ascii_lowercase()
            .contains(&format!("content-type: {JSON_CONTENT_TYPE}")),
        "{text}"
    );
    (status, body)
}

#[tokio::test]
async fn a_chunked_body_over_the_limit_is_413() {
    let (app, fx) = setup().await;
    let path = format!("/sms/v1/messageList/{}/send", fx.message);
    let (status, body) = chunked_request(&app, &path, &fx.token, &object_of_len(MIB + 10)).await;
    assert_eq!(status, 413, "{body}");
    assert!(
        body.contains(r#"{"errors":["The request body is too large."]}"#),
        "{body}"
    );
    let (status, body) = chunked_request(&app, &path, &fx.token, &object_of_len(1000)).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(app.send_count("A").await, 1);
}

// ---------------------------------------------------------------------------------------------
// Paths, content type, health.

#[tokio::test]
async fn paths_match_ignoring_case_with_one_trailing_slash() {
    let (app, fx) = setup().await;
    for (send_path, deliveries_path) in [
        (
            "/SMS/V1/MESSAGELIST/MZA6NZG6MA/SEND",
            "/SMS/V1/MESSAGELIST/MZA6NZG6MA/DELIVERIES/{}",
        ),
        (
            "/sms/v1/messagelist/mza6nzg6ma/send",
            "/sms/v1/messagelist/mza6nzg6ma/deliveries/{}",
        ),
        (
            "/Sms/V1/MessageList/MzA6Nzg6MA/Send/",
            "/Sms/V1/MessageList/MzA6Nzg6MA/Deliveries/{}/",
        ),
        (
            "/sms/v1/messageList/MzA6Nzg6MA/send/",
            "/sms/v1/messageList/MzA6Nzg6MA/deliveries/{}/",
        ),
    ] {
        let r = app
            .request(
                Method::POST,
                send_path,
                Some(&fx.token),
                Some(b"{}".to_vec()),
                &[],
            )
            .await;
        let token = assert_accepted(&r);
        for t in [token.clone(), token.to_ascii_uppercase()] {
            let path = deliveries_path.replace("{}", &t);
            let r = app
                .request(Method::GET, &path, Some(&fx.token), None, &[])
                .await;
            assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
            assert_json_reply(&r);
        }
    }
    let r = app
        .token_raw(creds(&fx).to_string().into_bytes(), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app
        .request(
            Method::POST,
            "/V2/Token/",
            None,
            Some(creds(&fx).to_string().into_bytes()),
            &[],
        )
        .await;
    assert_token(&app, &r, "sms_read sms_send sms_write");
    // Percent-decoded path segments are shown decoded.
    let r = app.send_list(&fx.token, "M%7A%41", &json!({})).await;
    assert_errors(&r, &["Message MzA isn't valid for the client."]);
}

#[tokio::test]
async fn every_response_is_json() {
    let (app, fx) = setup().await;
    let sent = assert_accepted(&send(&app, &fx.token, &fx.message, &json!({})).await);
    let replies = vec![
        app.deliveries(&fx.token, &fx.message, &sent).await,
        app.deliveries(&fx.token, &fx.message, "a.b").await,
        send(&app, &fx.token, &fx.message, &json!({"MessageText": 1})).await,
        app.request(Method::GET, "/nothing", None, None, &[]).await,
        app.request(Method::GET, "/v2/token", None, None, &[]).await,
        app.token_raw(b"x".to_vec(), None).await,
        app.token_json(&creds(&fx)).await,
        app.admin(Method::GET, "/admin/v1/accounts", Value::Null)
            .await,
        app.request(Method::GET, "/admin/v1/accounts", Some("wrong"), None, &[])
            .await,
        app.request(Method::GET, "/healthz", None, None, &[]).await,
        app.request(Method::GET, "/readyz", None, None, &[]).await,
    ];
    for r in &replies {
        assert_json_reply(r);
    }
    // The admin API's own 401.
    assert_reply(
        &replies[8],
        StatusCode::UNAUTHORIZED,
        &json!({"errors": ["Not authorized."]}),
    );
}

#[tokio::test]
async fn health_endpoints() {
    let app = spawn_app().await;
    for path in ["/healthz", "/readyz"] {
        let r = app.request(Method::GET, path, None, None, &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
    }
}

// ---------------------------------------------------------------------------------------------
// Rate limiting.

fn assert_rate_limited(r: &Reply) {
    assert_json_reply(r);
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    let retry: u64 = r
        .headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After seconds");
    assert!(retry >= 1);
    assert_eq!(
        r.body,
        json!({"message": "Rate limit exceeded", "errorcode": 50100, "retryAfter": retry,
               "documentation": DOCS})
    );
}

#[tokio::test]
async fn rapid_calls_are_rate_limited() {
    let app = spawn_app_with(|f| f.api.rate_limit = Some(1)).await;
    let fx = fixture(&app, "A").await;
    // A burst of twice the rate; the token request was one call of this client.
    let first = send(&app, &fx.token, &fx.message, &json!({})).await;
    let _second = send(&app, &fx.token, &fx.message, &json!({})).await;
    let third = send(&app, &fx.token, &fx.message, &json!({})).await;
    assert_accepted(&first);
    assert_rate_limited(&third);
    // Deliveries count too.
    let r = app.deliveries(&fx.token, &fx.message, "x").await;
    assert_rate_limited(&r);
    // Another client has its own bucket.
    let (other, other_secret) = app.create_client("A", json!({})).await;
    let token = app.token(&other, &other_secret).await;
    assert_accepted(&send(&app, &token, &fx.message, &json!({})).await);
}

/// API.md §2: a correct secret takes from the client's request bucket (the one its `/sms/v1`
/// calls use); failed requests never do — they have a bucket of their own (hostile_auth.rs).
#[tokio::test]
async fn successful_token_requests_take_from_the_clients_bucket_and_failures_do_not() {
    let app = spawn_app_with(|f| f.api.rate_limit = Some(1)).await;
    app.admin_ok(
        Method::POST,
        "/admin/v1/accounts",
        json!({"id": "A", "name": "A"}),
    )
    .await;
    let (client_id, secret) = app.create_client("A", json!({})).await;
    let wrong = json!({"grant_type": "client_credentials", "client_id": client_id,
                       "client_secret": "x"});
    for _ in 0..5 {
        let r = app.token_json(&wrong).await;
        assert_reply(&r, StatusCode::UNAUTHORIZED, &invalid_client());
    }
    let right = with(wrong, "client_secret", json!(secret));
    let first = app.token_json(&right).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let _second = app.token_json(&right).await;
    let third = app.token_json(&right).await;
    assert_rate_limited(&third);
    // The client's /sms/v1 calls share that bucket.
    let token = first.body["access_token"].as_str().expect("token");
    assert_rate_limited(&app.deliveries(token, "x", "y").await);
}

// ---------------------------------------------------------------------------------------------
// Tenant isolation.

#[tokio::test]
async fn another_accounts_objects_do_not_exist() {
    let (app, a) = setup().await;
    let b = fixture(&app, "B").await;
    app.create_list("B", "BList").await;
    app.create_message(
        "B",
        json!({"id": "BMessage", "name": "b", "code": "88976", "status": "Active",
               "text": "B", "targetListIds": ["BList"]}),
    )
    .await;
    // B's message.
    let r = send(&app, &a.token, "BMessage", &json!({})).await;
    assert_errors(&r, &["Message BMessage isn't valid for the client."]);
    // B's lists.
    let r = send(
        &app,
        &a.token,
        &a.message,
        &json!({"OverrideTemplateTargetLists": true, "TargetListIds": ["BList"],
                "OverrideTemplateExclusionLists": true, "ExclusionListIds": ["BList"]}),
    )
    .await;
    assert_errors(
        &r,
        &[
            "Target list id [BList] is invalid.",
            "Exclusion list id [BList] is invalid.",
        ],
    );
    // B's send.
    let r = send(&app, &b.token, "BMessage", &json!({})).await;
    let b_send = assert_accepted(&r);
    let r = app.deliveries(&a.token, "BMessage", &b_send).await;
    assert_errors(
        &r,
        &[&format!("Token id {b_send} isn't valid for this client.")],
    );
    let r = app.deliveries(&a.token, &a.message, &b_send).await;
    assert_errors(
        &r,
        &[&format!("Token id {b_send} isn't valid for this client.")],
    );
    // B sees its own.
    let r = app.deliveries(&b.token, "BMessage", &b_send).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(app.send_count("A").await, 0);
    assert_eq!(app.send_count("B").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn early_answers_to_large_bodies_keep_the_connection_usable() {
    let (app, fx) = setup().await;
    let too_large = json!({"errors": ["The request body is too large."]});
    let path = format!("/sms/v1/messageList/{}/send", fx.message);
    // Each answer is given before the body is read; the client, still writing it, must get the
    // answer, and its next request on the pooled connection must work.
    for _ in 0..25 {
        let r = app
            .send_list_raw(&fx.token, &fx.message, vec![0xff; MIB + MIB / 10])
            .await;
        assert_reply(&r, StatusCode::PAYLOAD_TOO_LARGE, &too_large);
        let r = app
            .request(Method::POST, &path, None, Some(vec![b'x'; 3 * MIB]), &[])
            .await;
        assert_invalid_token(&r);
        let r = app
            .request(Method::GET, &path, None, Some(vec![b'x'; 3 * MIB]), &[])
            .await;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
        assert_accepted(&send(&app, &fx.token, &fx.message, &json!({})).await);
    }
    assert_eq!(app.send_count("A").await, 25);
}

#[tokio::test]
async fn a_client_expecting_100_continue_gets_the_answer_without_sending_the_body() {
    let app = spawn_app().await;
    let addr = app
        .base
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let mut stream = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let head = format!(
        "POST /sms/v1/messageList/MzA6Nzg6MA/send HTTP/1.1\r\nHost: {addr}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        100 * MIB
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    let text = String::from_utf8_lossy(&response).to_ascii_lowercase();
    assert!(text.starts_with("http/1.1 401 "), "{text}");
    assert!(!text.contains("100 continue"), "{text}");
    assert!(text.contains("connection: close"), "{text}");
}

/// U+0000 is dropped from query parameters, form fields and CSV cells as it is from JSON
/// strings: PostgreSQL stores no NUL, and schemathesis found the 500s it caused there.
#[tokio::test]
async fn nul_is_dropped_from_query_parameters_form_fields_and_csv_cells() {
    let app = spawn_app().await;
    let fx = fixture(&app, "A").await;
    let r = app
        .admin(
            Method::GET,
            "/admin/v1/accounts/A/sends?after=%C3%AB%00",
            Value::Null,
        )
        .await;
    assert_errors(&r, &["ë isn't a valid value for after."]);
    let r = app
        .admin(
            Method::GET,
            "/admin/v1/accounts/A/subscriptions?mobileNumber=1555555551%000",
            Value::Null,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let form = format!(
        "grant_type=client_credentials&client_id=%00{}&client_secret={}%00",
        fx.client_id, fx.secret
    );
    let r = app
        .token_raw(form.into_bytes(), Some("application/x-www-form-urlencoded"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app
        .token_raw(
            b"grant_type=client_credentials&client_id=%00&client_secret=x".to_vec(),
            Some("application/x-www-form-urlencoded"),
        )
        .await;
    assert_eq!(
        (r.status, r.body),
        (StatusCode::UNAUTHORIZED, invalid_client())
    );
    let csv = "mobileNumber,subscriberKey,First\0Name\n15555555510,k\u{0}1,A\0nn\n";
    let r = app
        .request(
            Method::POST,
            "/admin/v1/accounts/A/lists/ListA/contacts?subscribeCode=889%0076&subscribeKeyword=JOIN",
            Some(common::ADMIN_TOKEN),
            Some(csv.as_bytes().to_vec()),
            &[("content-type", "text/csv")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["added"], 1, "{}", r.body);
    let r = app
        .admin(
            Method::GET,
            "/admin/v1/accounts/A/subscriptions?mobileNumber=15555555510",
            Value::Null,
        )
        .await;
    assert_eq!(r.body["items"][0]["status"], "Subscribed", "{}", r.body);
}

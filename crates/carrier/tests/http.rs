//! The Twilio-flavoured HTTP carrier against a mock provider (wiremock): the request's shape
//! (form fields, basic auth, MediaUrl for MMS, StatusCallback), at most once (API.md §8: only a
//! refused connection and 429 give the text back to the queue; a 5xx or a lost answer is 3400,
//! never resent; after a fault the carrier pauses and writes nothing more of the batch), 4xx as
//! a permanent failure, and signed status callbacks.

use std::time::Duration;

use carrier::http::{signature, HttpSettings};
use carrier::smpp::OnUnacknowledged;
use carrier::{CallbackError, Carrier, CarrierEvent, StatusCallbacks, Submission, TwilioCarrier};
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const PATH: &str = "/2010-04-01/Accounts/AC123/Messages.json";
const CALLBACK: &str = "https://tidings.example/carriers/provider/status";

fn settings(base: &str) -> HttpSettings {
    HttpSettings {
        flavor: "twilio".into(),
        base_url: base.into(),
        account_sid: "AC123".into(),
        auth_token: "secret-token".into(),
        status_callback_url: Some(CALLBACK.into()),
        rate_limit: 0,
        concurrency: 4,
        timeout_secs: 2,
        on_unacknowledged: OnUnacknowledged::Unknown,
    }
}

fn carrier(base: &str) -> (TwilioCarrier, carrier::EventSource) {
    let (tx, rx) = carrier::event_channel();
    (
        TwilioCarrier::new("provider", settings(base), tx).expect("carrier"),
        rx,
    )
}

fn submission(id: i64, to: &str, content_url: Option<&str>) -> Submission {
    Submission {
        id,
        from: "15555550199".into(),
        to: to.into(),
        text: "Hi & welcome 😀".into(),
        content_url: content_url.map(str::to_string),
        segments: 1,
        encoding: "UCS-2".into(),
        token_id: None,
    }
}

fn form(req: &Request) -> Vec<(String, String)> {
    url::form_urlencoded::parse(&req.body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    fields
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

#[tokio::test]
async fn a_text_is_one_form_post_with_basic_auth_and_the_callback_url() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(PATH))
        // "AC123:secret-token" in base64.
        .and(header("authorization", "Basic QUMxMjM6c2VjcmV0LXRva2Vu"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(serde_json::json!({"sid": "SM0001", "status": "queued"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let (c, _rx) = carrier(&server.uri());
    let out = carrier::submit_all(&c, vec![submission(7, "15555550100", None)]).await;
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].status_code, 2000);
    assert_eq!(out[0].carrier_message_id.as_deref(), Some("SM0001"));
    let requests = server.received_requests().await.expect("recorded");
    let fields = form(&requests[0]);
    assert_eq!(field(&fields, "To"), ["+15555550100"]);
    assert_eq!(field(&fields, "From"), ["+15555550199"]);
    assert_eq!(field(&fields, "Body"), ["Hi & welcome 😀"]);
    assert_eq!(field(&fields, "StatusCallback"), [CALLBACK]);
    assert!(field(&fields, "MediaUrl").is_empty());
}

#[tokio::test]
async fn mms_carries_its_media_url() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(PATH))
        .and(body_string_contains("MediaUrl="))
        .respond_with(ResponseTemplate::new(201).set_body_json(serde_json::json!({"sid": "MM9"})))
        .expect(1)
        .mount(&server)
        .await;
    let (c, _rx) = carrier(&server.uri());
    assert!(c.supports_media());
    let out = carrier::submit_all(
        &c,
        vec![submission(
            1,
            "15555550100",
            Some("https://cdn.example/cat.jpg?size=large"),
        )],
    )
    .await;
    assert_eq!(out[0].status_code, 2000);
    assert_eq!(out[0].carrier_message_id.as_deref(), Some("MM9"));
    let requests = server.received_requests().await.expect("recorded");
    assert_eq!(
        field(&form(&requests[0]), "MediaUrl"),
        ["https://cdn.example/cat.jpg?size=large"]
    );
}

/// Polls (10 s at most) until the carrier takes submissions again.
async fn wait_available(c: &TwilioCarrier) -> std::time::Duration {
    let started = std::time::Instant::now();
    while !c.available() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the carrier never resumed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    started.elapsed()
}

#[tokio::test]
async fn a_429_takes_nothing_and_pauses_the_carrier_for_its_retry_after() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(PATH))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(PATH))
        .respond_with(ResponseTemplate::new(201).set_body_json(serde_json::json!({"sid": "SM2"})))
        .with_priority(2)
        .mount(&server)
        .await;
    let c = TwilioCarrier::new(
        "provider",
        HttpSettings {
            concurrency: 1,
            ..settings(&server.uri())
        },
        carrier::event_channel().0,
    )
    .expect("carrier");
    let batch = (1..=3)
        .map(|i| submission(i, &format!("1555555010{i}"), None))
        .collect();
    let out = carrier::submit_all(&c, batch).await;
    assert_eq!(out.len(), 1, "only the first was written: {out:?}");
    assert_eq!(out[0].status_code, 2600, "{:?}", out[0]);
    assert!(!c.available(), "the carrier pauses after a 429");
    assert_eq!(server.received_requests().await.expect("recorded").len(), 1);
    let paused = wait_available(&c).await;
    assert!(
        paused >= Duration::from_millis(800),
        "paused for its Retry-After: {paused:?}"
    );
    let out = carrier::submit_all(&c, vec![submission(1, "15555550101", None)]).await;
    assert_eq!(out[0].status_code, 2000, "{:?}", out[0]);
    assert_eq!(out[0].carrier_message_id.as_deref(), Some("SM2"));
}

#[tokio::test]
async fn a_5xx_after_the_request_was_written_is_unknown_never_resent_and_pauses() {
    for status in [502, 503, 504] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(PATH))
            .respond_with(ResponseTemplate::new(status))
            .mount(&server)
            .await;
        let (c, _rx) = carrier(&server.uri());
        let out = carrier::submit_all(&c, vec![submission(1, "15555550100", None)]).await;
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].status_code, 3400, "{status}: {:?}", out[0]);
        assert!(!c.available(), "{status}: the carrier pauses");
        assert_eq!(server.received_requests().await.expect("recorded").len(), 1);
        let paused = wait_available(&c).await;
        assert!(
            paused <= Duration::from_secs(3),
            "first pause about 1 s: {paused:?}"
        );
    }
}

#[tokio::test]
async fn with_resend_a_5xx_goes_back_to_the_queue() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(PATH))
        .respond_with(ResponseTemplate::new(502))
        .mount(&server)
        .await;
    let c = TwilioCarrier::new(
        "provider",
        HttpSettings {
            on_unacknowledged: OnUnacknowledged::Resend,
            ..settings(&server.uri())
        },
        carrier::event_channel().0,
    )
    .expect("carrier");
    let out = carrier::submit_all(&c, vec![submission(1, "15555550100", None)]).await;
    assert_eq!(out[0].status_code, 2600, "{:?}", out[0]);
}

#[tokio::test]
async fn a_refused_connection_takes_nothing() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let (c, _rx) = carrier(&format!("http://127.0.0.1:{port}"));
    let out = carrier::submit_all(&c, vec![submission(1, "15555550100", None)]).await;
    assert_eq!(out[0].status_code, 2600, "{:?}", out[0]);
    assert!(
        out[0]
            .note
            .as_deref()
            .is_some_and(|n| n.starts_with("Could not connect")),
        "{:?}",
        out[0]
    );
    assert!(!c.available());
}

#[tokio::test]
async fn a_stopping_hand_over_writes_nothing() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(PATH))
        .respond_with(ResponseTemplate::new(201).set_body_json(serde_json::json!({"sid": "SM1"})))
        .mount(&server)
        .await;
    let (c, _rx) = carrier(&server.uri());
    let (handover, mut control) = carrier::Handover::new();
    control.stop_writing();
    c.submit(vec![submission(1, "15555550100", None)], &handover)
        .await;
    assert!(control.answers.try_recv().is_err(), "nothing to answer");
    assert!(control.clears.try_recv().is_err(), "no leave asked");
    assert!(server
        .received_requests()
        .await
        .expect("recorded")
        .is_empty());
}

#[tokio::test]
async fn a_client_error_is_a_permanent_failure_with_the_providers_reason() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(PATH))
        .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!({
            "code": 21211, "message": "The 'To' number is not a valid phone number.",
            "status": 400
        })))
        .expect(1)
        .mount(&server)
        .await;
    let (c, _rx) = carrier(&server.uri());
    let out = carrier::submit_all(&c, vec![submission(1, "15555550100", None)]).await;
    assert_eq!(out[0].status_code, 2500);
    assert_eq!(
        out[0].note.as_deref(),
        Some("Refused by the provider: HTTP 400 (error 21211: The 'To' number is not a valid phone number.).")
    );
}

#[tokio::test]
async fn an_unanswered_request_is_unknown_and_not_resent() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(PATH))
        .respond_with(ResponseTemplate::new(201).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let (c, _rx) = carrier(&server.uri());
    let out = carrier::submit_all(&c, vec![submission(1, "15555550100", None)]).await;
    assert_eq!(out[0].status_code, 3400, "{:?}", out[0]);
    assert_eq!(server.received_requests().await.expect("recorded").len(), 1);
}

#[tokio::test]
async fn a_batch_goes_out_concurrently_one_request_per_text() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(PATH))
        .respond_with(|req: &Request| {
            let to = form(req)
                .into_iter()
                .find(|(k, _)| k == "To")
                .map(|(_, v)| v)
                .unwrap_or_default();
            ResponseTemplate::new(201).set_body_json(serde_json::json!({"sid": format!("SM{to}")}))
        })
        .expect(20)
        .mount(&server)
        .await;
    let (c, _rx) = carrier(&server.uri());
    let batch = (0..20)
        .map(|i| submission(i, &format!("155555501{i:02}"), None))
        .collect();
    let out = carrier::submit_all(&c, batch).await;
    for o in &out {
        assert_eq!(
            o.carrier_message_id.as_deref(),
            Some(format!("SM+155555501{:02}", o.id).as_str())
        );
    }
}

#[tokio::test]
async fn signed_callbacks_become_receipts_and_bad_signatures_change_nothing() {
    let (c, mut rx) = carrier("http://127.0.0.1:9");
    let fields: Vec<(String, String)> = vec![
        ("MessageSid".into(), "SM0001".into()),
        ("MessageStatus".into(), "delivered".into()),
        ("AccountSid".into(), "AC123".into()),
    ];
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields.iter())
        .finish();
    let good = signature("secret-token", CALLBACK, &fields);
    assert_eq!(
        c.status_callback("ignored", Some(&good), body.as_bytes()),
        Ok(true)
    );
    assert_eq!(
        rx.try_recv().expect("a receipt"),
        CarrierEvent::Receipt {
            carrier: "provider".into(),
            message_id: "SM0001".into(),
            status_code: 4000
        }
    );
    let forged = signature("another-token", CALLBACK, &fields);
    assert_eq!(
        c.status_callback("ignored", Some(&forged), body.as_bytes()),
        Err(CallbackError::BadSignature)
    );
    assert_eq!(
        c.status_callback("ignored", None, body.as_bytes()),
        Err(CallbackError::BadSignature)
    );
    let tampered = body.replace("delivered", "undelivered");
    assert_eq!(
        c.status_callback("ignored", Some(&good), tampered.as_bytes()),
        Err(CallbackError::BadSignature)
    );
    assert!(rx.try_recv().is_err(), "refused callbacks send nothing");
}

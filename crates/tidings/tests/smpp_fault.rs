//! The fault test of the SMPP path (issue acceptance): a 50,000-recipient send through
//! `tidings smsc` (the real binary) that drops the connection every 5,000 submits and answers
//! ESME_RTHROTTLED to 1% of them. The send finishes with no recipient submitted twice: every
//! recipient was accepted exactly once and delivered, except those whose response was lost in
//! a drop, which are reported 3400 Unknown and were not resent (each reached the SMSC at most
//! once). Checked against the SMSC's own record of what it received. Also: receipts and an
//! inbound text through the whole path on a small send.

mod common;
mod smsc_process;

use std::collections::HashMap;
use std::time::Duration;

use common::{fixture, smpp_carrier, smpp_send_setup, spawn_app_with, TestApp, SMPP_CODE};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use smsc_process::SmscProcess;

/// Every tracking entry of a send: number → standard code.
async fn tracking(app: &TestApp, token: &str, message: &str, send: &str) -> HashMap<String, i32> {
    let mut out = HashMap::new();
    for page in 1.. {
        let r = app
            .request(
                Method::GET,
                &format!(
                    "/sms/v1/messageList/{message}/deliveries/{send}?$page={page}&$pageSize=10000"
                ),
                Some(token),
                None,
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let entries = r.body["tracking"].as_array().cloned().unwrap_or_default();
        if entries.is_empty() {
            break;
        }
        for e in entries {
            let code: i32 = e["standardStatusCode"]
                .as_str()
                .and_then(|c| c.parse().ok())
                .expect("code");
            out.insert(
                e["mobileNumber"].as_str().expect("number").to_string(),
                code,
            );
        }
    }
    out
}

/// Drives the engine and polls the send until `done` says so, or fails at the deadline.
async fn drive_until(
    app: &TestApp,
    token: &str,
    message: &str,
    send: &str,
    deadline: Duration,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let until = tokio::time::Instant::now() + deadline;
    loop {
        app.engine.run_until_idle().await.expect("engine");
        let r = app.deliveries(token, message, send).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        if done(&r.body) {
            return r.body;
        }
        assert!(
            tokio::time::Instant::now() < until,
            "the send did not settle in time: {}",
            r.body["counts"]
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_thousand_through_drops_and_throttling_none_twice_lost_ones_unknown() {
    const N: usize = 50_000;
    let smsc = SmscProcess::start(&[
        "--system-id",
        "tidings",
        "--password",
        "s3cret",
        "--receipt-delay-ms",
        "50",
        "--drop-every",
        "5000",
        "--throttle-percent",
        "1",
    ]);
    let port = smsc.smpp_port;
    let app = spawn_app_with(|f| f.carriers.push(smpp_carrier("acme", port))).await;
    let f = fixture(&app, "FaultAcct").await;
    let numbers: Vec<String> = (0..N).map(|i| format!("1555{i:06}1")).collect();
    let message = smpp_send_setup(&app, &f.account, "acme", &numbers).await;
    let r = app.send_list(&f.token, &message, &json!({})).await;
    let send = common::assert_accepted(&r);

    let status = drive_until(
        &app,
        &f.token,
        &message,
        &send,
        Duration::from_secs(400),
        |b| {
            let c = &b["counts"];
            b["status"] == "Finished"
                && c["delivered"].as_i64().unwrap_or(0) + c["unknown"].as_i64().unwrap_or(0)
                    == N as i64
        },
    )
    .await;
    let counts = &status["counts"];
    assert_eq!(counts["recipients"], N as i64, "{counts}");
    assert_eq!(counts["failed"], 0, "{counts}");
    assert_eq!(counts["queued"], 0, "{counts}");

    // The SMSC's own record.
    let stats = smsc.get("/stats").await;
    let received = smsc.get("/submits").await;
    let received = received.as_array().expect("submits");
    assert!(
        stats["droppedConnections"].as_u64().unwrap_or(0) >= 9,
        "{stats}"
    );
    assert!(stats["throttled"].as_u64().unwrap_or(0) > 0, "{stats}");
    let mut by_number: HashMap<&str, Vec<&Value>> = HashMap::new();
    for s in received {
        by_number
            .entry(s["to"].as_str().expect("to"))
            .or_default()
            .push(s);
    }
    let twice: Vec<_> = by_number.iter().filter(|(_, v)| v.len() > 1).collect();
    assert!(
        twice.is_empty(),
        "accepted more than once: {:?}",
        twice.first()
    );

    let codes = tracking(&app, &f.token, &message, &send).await;
    assert_eq!(codes.len(), N);
    let mut unknown = 0;
    for n in &numbers {
        let at_smsc = by_number.get(n.as_str()).map(Vec::as_slice).unwrap_or(&[]);
        match codes.get(n) {
            Some(4000) => {
                assert_eq!(at_smsc.len(), 1, "{n} delivered, so accepted once");
                assert_eq!(at_smsc[0]["answered"], true, "{n}");
            }
            Some(3400) => {
                unknown += 1;
                assert!(at_smsc.len() <= 1, "{n} reached the SMSC at most once");
            }
            other => panic!("{n} ended {other:?}"),
        }
    }
    // A submit the SMSC never answered is always one of the unknown.
    for s in received.iter().filter(|s| s["answered"] == false) {
        let n = s["to"].as_str().expect("to");
        assert_eq!(codes.get(n), Some(&3400), "{n} was never answered");
    }
    let drops = stats["droppedConnections"].as_u64().unwrap_or(0) as usize;
    assert!(
        unknown >= drops,
        "each drop costs at least its unanswered submit"
    );
    assert!(
        unknown <= drops * 64,
        "no more unknown than the windows in flight at the drops: {unknown}"
    );
    eprintln!(
        "fault test: {N} recipients, {} drops, {} throttled, {unknown} unknown",
        drops, stats["throttled"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_and_inbound_texts_travel_the_whole_path() {
    let smsc = SmscProcess::start(&["--receipt-delay-ms", "20"]);
    let port = smsc.smpp_port;
    let app = spawn_app_with(|f| f.carriers.push(smpp_carrier("acme", port))).await;
    let f = fixture(&app, "PathAcct").await;
    let numbers: Vec<String> = vec!["15555550100".into(), "15555550000".into()];
    let message = smpp_send_setup(&app, &f.account, "acme", &numbers).await;
    let long = format!("{} 😀", "Grüße ".repeat(20));
    let r = app
        .send_list(
            &f.token,
            &message,
            &json!({"OverrideMessageText": true, "MessageText": long}),
        )
        .await;
    let send = common::assert_accepted(&r);
    let status = drive_until(
        &app,
        &f.token,
        &message,
        &send,
        Duration::from_secs(60),
        |b| b["counts"]["delivered"] == 1 && b["counts"]["failed"] == 1,
    )
    .await;
    let tracking = status["tracking"].as_array().expect("tracking");
    let code_of = |n: &str| {
        tracking
            .iter()
            .find(|t| t["mobileNumber"] == n)
            .map(|t| t["statusCode"].clone())
    };
    assert_eq!(code_of("15555550100"), Some(json!("4000")));
    assert_eq!(code_of("15555550000"), Some(json!("4500")));
    let received = smsc.get("/submits").await;
    let parts: Vec<&Value> = received
        .as_array()
        .expect("submits")
        .iter()
        .filter(|s| s["to"] == "15555550100")
        .collect();
    assert!(parts.len() >= 2, "a long UCS-2 text goes in parts");
    let joined: String = parts
        .iter()
        .map(|p| p["text"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(joined, long);
    assert!(parts.iter().all(|p| p["dataCoding"] == 8));

    // An inbound text from the SMSC reaches the engine's inbound path.
    let (code, body) = smsc.mo("15555550100", SMPP_CODE, "STOP").await;
    assert_eq!(code, 202, "{body}");
    assert_eq!(body, json!({"delivered": true}));
}

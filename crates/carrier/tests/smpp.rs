//! The SMPP carrier against the local SMSC over real TCP on loopback: binding, encodings,
//! concatenation, receipts correlated to message ids, transient and permanent refusals,
//! dropped connections (3400 without resending, or resending when configured), wrong
//! credentials, inbound texts. Every wait has a deadline.

use std::time::Duration;

use carrier::smpp::{OnUnacknowledged, SmppSettings};
use carrier::smsc::{Smsc, SmscConfig};
use carrier::{CarrierEvent, SmppCarrier, Submission};

const DEADLINE: Duration = Duration::from_secs(20);

async fn smsc(adjust: impl FnOnce(&mut SmscConfig)) -> Smsc {
    let mut config = SmscConfig {
        listen: "127.0.0.1:0".parse().expect("addr"),
        system_id: Some("tidings".into()),
        password: Some("s3cret".into()),
        receipt_delay: Duration::from_millis(20),
        ..SmscConfig::default()
    };
    adjust(&mut config);
    Smsc::start(config).await.expect("smsc")
}

fn settings(smsc: &Smsc, adjust: impl FnOnce(&mut SmppSettings)) -> SmppSettings {
    let text = format!(
        "host = \"127.0.0.1\"\nport = {}\nsystem_id = \"tidings\"\npassword = \"s3cret\"\nwindow = 16\nresponse_timeout_secs = 5\n",
        smsc.addr().port()
    );
    let value: toml::Value = toml::from_str(&text).expect("toml");
    let mut s: SmppSettings = value.try_into().expect("settings");
    adjust(&mut s);
    s
}

async fn carrier(settings: SmppSettings) -> (SmppCarrier, carrier::EventSource) {
    let (tx, rx) = carrier::event_channel();
    let c = SmppCarrier::start("acme", settings, tx).expect("carrier");
    assert!(c.wait_bound(1, DEADLINE).await, "the carrier did not bind");
    (c, rx)
}

fn submission(id: i64, to: &str, text: &str) -> Submission {
    let info = domain::analyze(text);
    Submission {
        id,
        from: "88976".into(),
        to: to.into(),
        text: text.into(),
        content_url: None,
        segments: info.segments as i32,
        encoding: info.encoding.as_str().into(),
        token_id: None,
    }
}

/// Collects `n` receipts, or fails at the deadline.
async fn receipts(rx: &mut carrier::EventSource, n: usize) -> Vec<(String, i32)> {
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while out.len() < n {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(CarrierEvent::Receipt {
                message_id,
                status_code,
                carrier,
            })) => {
                assert_eq!(carrier, "acme");
                out.push((message_id, status_code));
            }
            Ok(Some(other)) => panic!("unexpected event {other:?}"),
            _ => panic!("only {} of {n} receipts arrived", out.len()),
        }
    }
    out
}

#[tokio::test]
async fn texts_go_out_encoded_and_receipts_correlate_to_their_message_ids() {
    let smsc = smsc(|_| {}).await;
    let (carrier, mut rx) = carrier(settings(&smsc, |_| {})).await;
    let long = format!("{}€{}", "a".repeat(152), "b".repeat(152));
    let batch = vec![
        submission(1, "15555550100", "Hello {world} €5"),
        submission(2, "15555550101", "Grüße 😀 ok"),
        submission(3, "15555550102", &long),
        submission(4, "15555550000", "undeliverable"),
        submission(5, "15555550002", "expires"),
    ];
    let mut outcomes = carrier::submit_all(&carrier, batch).await;
    outcomes.sort_by_key(|o| o.id);
    for o in &outcomes {
        assert_eq!(o.status_code, 2000, "{o:?}");
        assert!(o.carrier_message_id.is_some(), "{o:?}");
    }
    let got = smsc.submits();
    assert_eq!(
        got.len(),
        7,
        "three texts of one part, one of three parts, one more"
    );
    let of = |to: &str| got.iter().filter(|s| s.to == to).collect::<Vec<_>>();
    assert_eq!(of("15555550100")[0].text, "Hello {world} €5");
    assert_eq!(of("15555550100")[0].data_coding, 0);
    assert_eq!(of("15555550101")[0].text, "Grüße 😀 ok");
    assert_eq!(of("15555550101")[0].data_coding, 8);
    let parts = of("15555550102");
    assert_eq!(parts.len(), 3);
    let reference = parts[0].concat.expect("udh").0;
    let mut joined = String::new();
    for (i, p) in parts.iter().enumerate() {
        assert_eq!(p.concat, Some((reference, 3, (i + 1) as u8)));
        joined.push_str(&p.text);
    }
    assert_eq!(joined, long);
    assert_eq!(
        outcomes[2].carrier_message_id.as_deref(),
        Some(parts[0].message_id.as_str()),
        "a multipart text is known by its first part's id"
    );

    // Seven receipts: the three parts' receipts all come back under the first part's id.
    let mut got = receipts(&mut rx, 7).await;
    got.sort();
    let id = |i: usize| outcomes[i].carrier_message_id.clone().expect("id");
    let mut expected = vec![
        (id(0), 4000),
        (id(1), 4000),
        (id(2), 4000),
        (id(2), 4000),
        (id(2), 4000),
        (id(3), 4500),
        (id(4), 4501),
    ];
    expected.sort();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn long_texts_can_go_in_message_payload() {
    let smsc = smsc(|_| {}).await;
    let (carrier, _rx) = carrier(settings(&smsc, |s| {
        s.long_messages = carrier::smpp::LongMessages::Payload
    }))
    .await;
    let long = "x".repeat(400);
    let out = carrier::submit_all(&carrier, vec![submission(1, "15555550100", &long)]).await;
    assert_eq!(out[0].status_code, 2000);
    let got = smsc.submits();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].text, long);
    assert_eq!(got[0].concat, None);
}

#[tokio::test]
async fn throttled_submits_are_retried_and_accepted_once() {
    let smsc = smsc(|c| c.throttle_percent = 30.0).await;
    let (carrier, _rx) = carrier(settings(&smsc, |_| {})).await;
    let batch: Vec<Submission> = (0..200)
        .map(|i| submission(i, &format!("1555560{i:04}"), "hi"))
        .collect();
    let out = carrier::submit_all(&carrier, batch).await;
    assert!(out.iter().all(|o| o.status_code == 2000), "{out:?}");
    let stats = smsc.stats();
    assert!(stats.throttled > 0, "{stats:?}");
    assert_eq!(stats.accepted, 200);
    let mut numbers: Vec<String> = smsc.submits().into_iter().map(|s| s.to).collect();
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), 200, "each number accepted exactly once");
}

#[tokio::test]
async fn a_permanent_refusal_is_2500_naming_the_smpp_error() {
    let smsc = smsc(|c| c.reject_percent = 100.0).await;
    let (carrier, _rx) = carrier(settings(&smsc, |_| {})).await;
    let out = carrier::submit_all(&carrier, vec![submission(1, "15555550100", "hi")]).await;
    assert_eq!(out[0].status_code, 2500);
    assert_eq!(
        out[0].note.as_deref(),
        Some("Refused by the carrier: ESME_RSUBMITFAIL.")
    );
    assert!(smsc.submits().is_empty());
}

#[tokio::test]
async fn a_response_lost_in_a_drop_is_3400_and_not_resent() {
    let smsc = smsc(|c| c.drop_every = 25).await;
    let (carrier, _rx) = carrier(settings(&smsc, |_| {})).await;
    let batch: Vec<Submission> = (0..100)
        .map(|i| submission(i, &format!("1555570{i:04}"), "hi"))
        .collect();
    let out = carrier::submit_all(&carrier, batch).await;
    let unknown: Vec<&carrier::SubmitOutcome> =
        out.iter().filter(|o| o.status_code == 3400).collect();
    let sent = out.iter().filter(|o| o.status_code == 2000).count();
    assert_eq!(unknown.len() + sent, 100, "{out:?}");
    assert!(!unknown.is_empty(), "the drops must cost some responses");
    assert!(smsc.stats().dropped_connections >= 3);
    let received = smsc.submits();
    for o in &out {
        let to = format!("1555570{:04}", o.id);
        let times = received.iter().filter(|s| s.to == to).count();
        match o.status_code {
            2000 => assert_eq!(times, 1, "{to} accepted once"),
            _ => assert!(times <= 1, "{to} reached the SMSC {times} times"),
        }
    }
    // Every submit the SMSC never answered is one of the unknown ones.
    for s in received.iter().filter(|s| !s.answered) {
        let id: i64 = s.to[7..].parse().expect("id");
        assert_eq!(
            out.iter().find(|o| o.id == id).map(|o| o.status_code),
            Some(3400)
        );
    }
}

#[tokio::test]
async fn with_resend_a_lost_response_is_sent_again() {
    let smsc = smsc(|c| c.drop_every = 10).await;
    let (carrier, _rx) = carrier(settings(&smsc, |s| {
        s.on_unacknowledged = OnUnacknowledged::Resend;
        s.window = 1;
    }))
    .await;
    let batch: Vec<Submission> = (0..15)
        .map(|i| submission(i, &format!("1555580{i:04}"), "hi"))
        .collect();
    let out = carrier::submit_all(&carrier, batch).await;
    assert!(out.iter().all(|o| o.status_code == 2000), "{out:?}");
    let received = smsc.submits();
    let unanswered: Vec<_> = received.iter().filter(|s| !s.answered).collect();
    assert_eq!(unanswered.len(), 1);
    let again = received.iter().filter(|s| s.to == unanswered[0].to).count();
    assert_eq!(
        again, 2,
        "the unanswered submit was sent again (the duplicate resend risks)"
    );
}

#[tokio::test]
async fn wrong_credentials_never_bind() {
    let smsc = smsc(|_| {}).await;
    let (tx, _rx) = carrier::event_channel();
    let carrier = SmppCarrier::start("acme", settings(&smsc, |s| s.password = "nope".into()), tx)
        .expect("carrier");
    assert!(!carrier.wait_bound(1, Duration::from_millis(1500)).await);
    assert!(smsc.stats().binds_refused >= 1);
    assert_eq!(carrier.bound(), 0);
}

#[tokio::test]
async fn inbound_texts_reach_the_engine() {
    let smsc = smsc(|_| {}).await;
    let (_carrier, mut rx) = carrier(settings(&smsc, |_| {})).await;
    smsc.deliver_mo("15555550100", "88976", "STOP please 😀")
        .await
        .expect("delivered");
    let event = tokio::time::timeout(DEADLINE, rx.recv())
        .await
        .expect("in time")
        .expect("event");
    assert_eq!(
        event,
        CarrierEvent::Inbound {
            carrier: "acme".into(),
            from: "15555550100".into(),
            to: "88976".into(),
            text: "STOP please 😀".into(),
        }
    );
}

#[tokio::test]
async fn transmitter_and_receiver_binds_split_the_work() {
    let smsc = smsc(|_| {}).await;
    let (carrier, mut rx) = carrier(settings(&smsc, |s| {
        s.bind = carrier::smpp::BindMode::TransmitterReceiver;
        s.binds = 2;
    }))
    .await;
    assert!(carrier.wait_bound(2, DEADLINE).await);
    let out = carrier::submit_all(&carrier, vec![submission(1, "15555550100", "hi")]).await;
    assert_eq!(out[0].status_code, 2000);
    let got = receipts(&mut rx, 1).await;
    assert_eq!(got[0].0, out[0].carrier_message_id.clone().expect("id"));
    assert_eq!(smsc.stats().binds, 4);
}

//! Property: no request body, path or file name sent to the endpoints of API.md §6 makes the
//! server answer 5xx or anything but the contract's JSON — against the real server over HTTP.

mod common;

use common::{fixture, spawn_app, Fixture, TestApp};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use reqwest::Method;
use serde_json::{Map, Value};

/// Field names of the §6 bodies, in several casings.
const FIELDS: &[&str] = &[
    "mobileNumbers",
    "MOBILENUMBERS",
    "Subscribers",
    "subscribers",
    "MobileNumber",
    "SubscriberKey",
    "Attributes",
    "Subscribe",
    "Resubscribe",
    "keyword",
    "Keyword",
    "Override",
    "messageText",
    "MessageText",
    "blackoutWindow",
    "UtcOffset",
    "WindowStart",
    "WindowEnd",
    "SendTime",
    "ContentURL",
    "shortCode",
    "ShortCode",
    "LongCode",
    "CountryCode",
    "FileName",
    "FileType",
    "IsFirstRowHeader",
    "ImportMappingType",
    "FieldMaps",
    "Destination",
    "Ordinal",
    "Source",
    "ListId",
    "filename",
    "mobileNumber",
    "subscriberKey",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop_oneof![
            Just("15555555510".to_string()),
            Just("+15555555511".to_string()),
            Just("".to_string()),
            Just("  ".to_string()),
            Just("true".to_string()),
            Just("JOIN".to_string()),
            Just("STOP".to_string()),
            Just("88976".to_string()),
            Just("MapByHeader".to_string()),
            Just("MapByOrdinal".to_string()),
            Just("_MobileNumber".to_string()),
            Just("../x.csv".to_string()),
            Just("-0500".to_string()),
            Just("2100".to_string()),
            Just("2030-01-05 09:00".to_string()),
            ".{0,12}",
        ]
        .prop_map(Value::String),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((proptest::sample::select(FIELDS), inner), 0..6).prop_map(
                |entries| {
                    let mut map = Map::new();
                    for (k, v) in entries {
                        map.insert(k.to_string(), v);
                    }
                    Value::Object(map)
                }
            ),
        ]
    })
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        8 => proptest::collection::vec((proptest::sample::select(FIELDS), json_value()), 0..8)
            .prop_map(|entries| {
                let mut map = Map::new();
                for (k, v) in entries {
                    map.insert(k.to_string(), v);
                }
                Value::Object(map).to_string().into_bytes()
            }),
        1 => any::<Vec<u8>>(),
        1 => json_value().prop_map(|v| v.to_string().into_bytes()),
    ]
}

/// A path segment: valid IDs, other case, junk and percent-encoded oddities.
fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("MzA6Nzg6MA".to_string()),
        Just("mza6nzg6ma".to_string()),
        Just("ListA".to_string()),
        Just("15555555510".to_string()),
        Just("%2e%2e".to_string()),
        Just("a%20b".to_string()),
        Just("%FF".to_string()),
        "[A-Za-z0-9_-]{1,70}",
    ]
}

fn request() -> impl Strategy<Value = (Method, String, Vec<u8>)> {
    (0usize..13, segment(), segment(), segment(), body()).prop_map(|(which, a, b, c, body)| {
        let (method, path) = match which {
            0 => (Method::POST, format!("/sms/v1/messageContact/{a}/send")),
            1 => (
                Method::GET,
                format!("/sms/v1/messageContact/{a}/deliveries/{b}"),
            ),
            2 => (
                Method::GET,
                format!("/sms/v1/messageContact/{a}/history/{b}/mobileNumber/{c}"),
            ),
            3 => (Method::POST, "/sms/v1/queueMO".to_string()),
            4 => (Method::GET, format!("/sms/v1/queueMO/deliveries/{a}")),
            5 => (Method::GET, format!("/sms/v1/queueMO/history/{a}")),
            6 => (Method::POST, "/sms/v1/keyword".to_string()),
            7 => (Method::DELETE, format!("/sms/v1/keyword/{a}")),
            8 => (Method::POST, "/sms/v1/contacts/subscriptions".to_string()),
            9 => (Method::POST, format!("/sms/v1/contacts/queueImport/{a}")),
            10 => (
                Method::GET,
                format!("/sms/v1/contacts/queueImport/{a}/status/{b}"),
            ),
            11 => (Method::POST, format!("/sms/v1/contacts/refreshList/{a}")),
            _ => (
                Method::POST,
                format!("/sms/v1/messageList/{a}/deliveryReport/{b}"),
            ),
        };
        (method, path, body)
    })
}

async fn setup() -> (TestApp, Fixture) {
    let app = spawn_app().await;
    let f = fixture(&app, "Acme").await;
    let dir = app.data_dir().join("imports").join("Acme");
    std::fs::create_dir_all(&dir).expect("imports dir");
    std::fs::write(
        dir.join("people.csv"),
        "mobileNumber,x\n15555555510,1\n12,2\n",
    )
    .expect("file");
    (app, f)
}

#[test]
fn no_request_to_the_new_endpoints_gets_a_5xx_or_a_non_json_answer() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (app, f) = rt.block_on(setup());
    let mut runner = TestRunner::new(Config::with_cases(1_500));
    runner
        .run(&request(), |(method, path, body)| {
            let reply = rt.block_on(app.request(
                method.clone(),
                &path,
                Some(&f.token),
                Some(body.clone()),
                &[("content-type", "application/json")],
            ));
            prop_assert!(
                reply.status.as_u16() < 500,
                "{method} {path} {:?} answered {}: {}",
                String::from_utf8_lossy(&body),
                reply.status,
                String::from_utf8_lossy(&reply.raw)
            );
            prop_assert_eq!(reply.content_type(), Some(common::JSON_CONTENT_TYPE));
            prop_assert!(
                reply.body.is_object(),
                "{}",
                String::from_utf8_lossy(&reply.raw)
            );
            Ok(())
        })
        .expect("property");
    // The engine handles whatever was accepted (queueMO replies, contact sends) without error.
    rt.block_on(common::run_engine(&app));
}

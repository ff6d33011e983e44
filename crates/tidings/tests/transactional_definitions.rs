//! Transactional send definitions over HTTP (API.md §9 "Definitions", "Listing"): the
//! reference's create, read, list, update and delete examples answered in their documented
//! shapes; keys resolving ignoring case; archive freeing the key; every refusal in the
//! transactional error body with its code, the first in the reference's field order.

mod common;

use common::{fixture, spawn_app, Fixture, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

const BASE: &str = "/messaging/v1/sms/definitions";

async fn call(
    app: &TestApp,
    f: &Fixture,
    method: Method,
    path: &str,
    body: Value,
) -> common::Reply {
    app.sms(method, path, &f.token, &body).await
}

/// Asserts a transactional refusal: status, code and the symbol the message starts with.
fn refused(r: &common::Reply, status: u16, code: u32, symbol: &str) {
    assert_eq!(r.status.as_u16(), status, "{}", r.body);
    assert_eq!(r.body["errorcode"], code, "{}", r.body);
    assert_eq!(r.body["documentation"], "", "{}", r.body);
    let message = r.body["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with(&format!("{symbol}: ")) && message.len() > symbol.len() + 2,
        "{message}"
    );
    assert_eq!(r.body.as_object().map(|o| o.len()), Some(3), "{}", r.body);
}

fn is_uuid(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        s.len() == 36
            && s.char_indices().all(|(i, c)| {
                if [8, 13, 18, 23].contains(&i) {
                    c == '-'
                } else {
                    c.is_ascii_hexdigit()
                }
            })
    })
}

/// The reference's create example, on the fixture's code and keyword.
fn example() -> Value {
    json!({"definitionKey": "account-reset", "name": "account-reset",
           "description": "Using new SMS Transactional API",
           "content": {"message": "%%FirstName%%, your 2FA token is %%password%%"},
           "subscriptions": {"shortCode": "88976", "countryCode": "US", "keyword": "JOIN"}})
}

#[tokio::test]
async fn the_documented_examples_create_read_list_update_and_delete() {
    let app = spawn_app().await;
    let f = fixture(&app, "Acme").await;

    let r = call(&app, &f, Method::POST, BASE, example()).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let created = r.body.clone();
    assert!(is_uuid(&created["requestId"]), "{created}");
    assert_eq!(created["definitionKey"], "account-reset");
    assert_eq!(created["name"], "account-reset");
    assert_eq!(created["description"], "Using new SMS Transactional API");
    assert_eq!(created["status"], "Active", "the default");
    assert_eq!(
        created["content"],
        json!({"message": "%%FirstName%%, your 2FA token is %%password%%"})
    );
    assert_eq!(
        created["subscriptions"],
        json!({"shortCode": "88976", "countryCode": "US", "keyword": "JOIN",
               "autoAddSubscriber": true, "updateSubscriber": true})
    );
    let id = created["definitionId"].as_str().expect("definitionId");
    assert!(!id.is_empty());
    for field in ["createdDate", "modifiedDate"] {
        let t = created[field].as_str().expect(field);
        assert_eq!(t.len(), "2019-05-14T21:05:00.000".len(), "§1's format: {t}");
    }

    // Read, by any case of the key.
    let r = call(
        &app,
        &f,
        Method::GET,
        &format!("{BASE}/ACCOUNT-RESET"),
        Value::Null,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut read = r.body.clone();
    assert!(is_uuid(&read["requestId"]));
    read["requestId"] = created["requestId"].clone();
    assert_eq!(read, created);

    // The PATCH example: partial, at once.
    let r = call(
        &app,
        &f,
        Method::PATCH,
        &format!("{BASE}/account-reset"),
        json!({"description": "description updated", "status": "Inactive"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["description"], "description updated");
    assert_eq!(r.body["status"], "Inactive");
    assert_eq!(r.body["content"], created["content"], "untouched");
    assert_eq!(r.body["definitionId"], created["definitionId"]);

    // A second definition; the listing example and its variants.
    let mut second = example();
    second["definitionKey"] = json!("2FA_order_accounts");
    second["name"] = json!("Alpha");
    second["status"] = json!("ACTIVE");
    let r = call(&app, &f, Method::POST, BASE, second).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let list = |q: &str| format!("{BASE}/?{q}");
    let r = call(
        &app,
        &f,
        Method::GET,
        &list("$filter=status%20eq%20active&$pageSize=10&$page=1&$orderBy=name"),
        Value::Null,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(is_uuid(&r.body["requestId"]));
    assert_eq!(
        (
            r.body["count"].clone(),
            r.body["page"].clone(),
            r.body["pageSize"].clone()
        ),
        (json!(1), json!(1), json!(10))
    );
    let items = r.body["definitions"].as_array().expect("definitions");
    assert_eq!(items.len(), 1);
    let mut fields: Vec<&String> = items[0].as_object().expect("item").keys().collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            "createdDate",
            "definitionKey",
            "modifiedDate",
            "name",
            "status"
        ]
    );
    assert_eq!(items[0]["definitionKey"], "2FA_order_accounts");
    let keys = |body: &Value| -> Vec<String> {
        body["definitions"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|d| d["definitionKey"].as_str().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let r = call(&app, &f, Method::GET, BASE, Value::Null).await;
    assert_eq!(
        keys(&r.body),
        ["account-reset", "2FA_order_accounts"],
        "createdDate asc"
    );
    assert_eq!(
        (r.body["page"].clone(), r.body["pageSize"].clone()),
        (json!(1), json!(20))
    );
    let r = call(
        &app,
        &f,
        Method::GET,
        &list("$ORDERBY=name%20desc&$pagesize=1&$page=2"),
        Value::Null,
    )
    .await;
    assert_eq!(
        (keys(&r.body), r.body["count"].clone()),
        (vec!["2FA_order_accounts".to_string()], json!(2))
    );
    let r = call(
        &app,
        &f,
        Method::GET,
        &list("$filter=Status%20NEQ%20Active&$pageSize=500"),
        Value::Null,
    )
    .await;
    assert_eq!(
        (keys(&r.body), r.body["pageSize"].clone()),
        (vec!["account-reset".to_string()], json!(100))
    );

    // Delete: archived under a minted key, listed only when asked for; the key is free at once.
    let r = call(
        &app,
        &f,
        Method::DELETE,
        &format!("{BASE}/Account-Reset"),
        Value::Null,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["message"], "Success");
    assert!(is_uuid(&r.body["requestId"]));
    let deleted = r.body["deletedDefinitionKey"]
        .as_str()
        .expect("deletedDefinitionKey")
        .to_string();
    assert!(
        deleted.len() == 26
            && deleted
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()),
        "{deleted}"
    );
    let r = call(
        &app,
        &f,
        Method::GET,
        &format!("{BASE}/account-reset"),
        Value::Null,
    )
    .await;
    refused(&r, 404, 30003, "MCMS_UTM_Runtime_ObjectNotFound");
    let r = call(&app, &f, Method::GET, BASE, Value::Null).await;
    assert_eq!(keys(&r.body), ["2FA_order_accounts"]);
    let r = call(
        &app,
        &f,
        Method::GET,
        &list("$filter=status%20eq%20deleted"),
        Value::Null,
    )
    .await;
    assert_eq!(keys(&r.body), [deleted]);
    assert_eq!(r.body["definitions"][0]["status"], "Deleted");
    let r = call(&app, &f, Method::POST, BASE, example()).await;
    assert_eq!(r.status, 201, "the key and name are free again: {}", r.body);
}

#[tokio::test]
async fn refusals_carry_their_codes_in_field_order() {
    let app = spawn_app().await;
    let f = fixture(&app, "Acme").await;
    let post = |body: Value| {
        let app = &app;
        let f = &f;
        async move { call(app, f, Method::POST, BASE, body).await }
    };
    let with = |path: &str, value: Value| {
        let mut body = example();
        let mut at = &mut body;
        let parts: Vec<&str> = path.split('.').collect();
        for part in &parts[..parts.len() - 1] {
            at = &mut at[*part];
        }
        match value {
            Value::Null => {
                if let Some(o) = at.as_object_mut() {
                    o.remove(parts[parts.len() - 1]);
                }
            }
            v => at[parts[parts.len() - 1]] = v,
        }
        body
    };
    let cases = [
        (
            with("definitionKey", Value::Null),
            400,
            109107,
            "MCMS_UTM_Validation_MissingRequiredField_definitionKey",
        ),
        (
            with("name", Value::Null),
            400,
            10002,
            "MCMS_UTM_Validation_MissingRequiredField",
        ),
        (
            with("content.message", Value::Null),
            400,
            10002,
            "MCMS_UTM_Validation_MissingRequiredField",
        ),
        (
            with("subscriptions.shortCode", Value::Null),
            400,
            10002,
            "MCMS_UTM_Validation_MissingRequiredField",
        ),
        (
            with("subscriptions.keyword", Value::Null),
            400,
            109120,
            "MCMS_UTM_Validation_MissingRequiredField_keyword",
        ),
        (
            with("name", json!(7)),
            400,
            10001,
            "MCMS_UTM_Validation_InvalidDataType",
        ),
        (
            with("content", json!("text")),
            400,
            10001,
            "MCMS_UTM_Validation_InvalidDataType",
        ),
        (
            with("definitionKey", json!("has space")),
            400,
            10005,
            "MCMS_UTM_Validation_InvalidValue",
        ),
        (
            with("status", json!("deleted")),
            400,
            10005,
            "MCMS_UTM_Validation_InvalidValue",
        ),
        (
            with("content.message", json!("x".repeat(1601))),
            400,
            10005,
            "MCMS_UTM_Validation_InvalidValue",
        ),
        (
            with("subscriptions.shortCode", json!("11111")),
            400,
            10005,
            "MCMS_UTM_Validation_InvalidValue",
        ),
        (
            with("subscriptions.countryCode", json!("CA")),
            400,
            10005,
            "MCMS_UTM_Validation_InvalidValue",
        ),
        (
            with("subscriptions.keyword", json!("NOPE")),
            400,
            109115,
            "MCMS_UTM_Validation_InvalidValue_keyword",
        ),
        (
            with("subscriptions.autoAddSubscriber", json!("perhaps")),
            400,
            109113,
            "MCMS_UTM_Validation_InvalidValue_autoAddSubscriber",
        ),
        // Required before values: a missing name wins over a bad key.
        (
            with("name", Value::Null)
                .as_object()
                .map(|o| {
                    let mut o = o.clone();
                    o.insert("definitionKey".into(), json!("bad key"));
                    Value::Object(o)
                })
                .unwrap_or_default(),
            400,
            10002,
            "MCMS_UTM_Validation_MissingRequiredField",
        ),
    ];
    for (body, status, code, symbol) in cases {
        let r = post(body.clone()).await;
        refused(&r, status, code, symbol);
        assert!(
            r.body["message"]
                .as_str()
                .is_some_and(|m| !m.contains("null")),
            "{body}: {}",
            r.body
        );
    }
    // Not JSON: the documented 10004.
    let r = app
        .request(
            Method::POST,
            BASE,
            Some(&f.token),
            Some(b"{\"a\": [".to_vec()),
            &[("content-type", "application/json")],
        )
        .await;
    refused(&r, 400, 10004, "MCMS_UTM_Validation_InvalidMessageFormat");
    assert_eq!(
        r.body["message"],
        "MCMS_UTM_Validation_InvalidMessageFormat: Serialization error, please ensure the body has balanced braces and brackets."
    );

    // Conflicts: the key (any case) or the name.
    assert_eq!(post(example()).await.status, 201);
    let mut same_key = example();
    same_key["definitionKey"] = json!("ACCOUNT-RESET");
    same_key["name"] = json!("other");
    refused(
        &post(same_key).await,
        409,
        30004,
        "MCMS_UTM_Runtime_ObjectAlreadyExists",
    );
    let mut same_name = example();
    same_name["definitionKey"] = json!("other");
    refused(
        &post(same_name.clone()).await,
        409,
        30004,
        "MCMS_UTM_Runtime_ObjectAlreadyExists",
    );

    // PATCH: `deleted` is not a value; a taken name; an unknown key; a bad keyword.
    let path = format!("{BASE}/account-reset");
    let r = call(&app, &f, Method::PATCH, &path, json!({"status": "deleted"})).await;
    refused(&r, 400, 10005, "MCMS_UTM_Validation_InvalidValue");
    same_name["name"] = json!("second");
    assert_eq!(post(same_name).await.status, 201);
    let r = call(&app, &f, Method::PATCH, &path, json!({"name": "second"})).await;
    refused(&r, 409, 30004, "MCMS_UTM_Runtime_ObjectAlreadyExists");
    let r = call(
        &app,
        &f,
        Method::PATCH,
        &path,
        json!({"subscriptions": {"keyword": "NOPE"}}),
    )
    .await;
    refused(&r, 400, 109115, "MCMS_UTM_Validation_InvalidValue_keyword");
    for method in [Method::GET, Method::PATCH, Method::DELETE] {
        let r = call(
            &app,
            &f,
            method.clone(),
            &format!("{BASE}/missing"),
            json!({}),
        )
        .await;
        refused(&r, 404, 30003, "MCMS_UTM_Runtime_ObjectNotFound");
    }
    // Listing queries.
    for q in [
        "$filter=name%20eq%20x",
        "$orderBy=size",
        "$page=0",
        "$pageSize=x",
    ] {
        let r = call(&app, &f, Method::GET, &format!("{BASE}?{q}"), Value::Null).await;
        refused(&r, 400, 10005, "MCMS_UTM_Validation_InvalidValue");
    }
    // Another account's definition is not found.
    let other = fixture(&app, "Other").await;
    let r = call(&app, &other, Method::GET, &path, Value::Null).await;
    refused(&r, 404, 30003, "MCMS_UTM_Runtime_ObjectNotFound");
}

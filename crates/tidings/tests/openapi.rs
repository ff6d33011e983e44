//! `GET /openapi.json` (issue 7): the document is served as the API's JSON, and real responses
//! of a running server — every operation's success and each kind of error, from a real flow
//! (admin setup, token, sends, deliveries, keywords, imports...) — conform to it: status
//! documented, content type, documented headers, and the body valid against the response's
//! schema.
//!
//! The schemas are checked by the small validator below, which knows exactly the JSON Schema
//! keywords the document uses and refuses any other (so a new keyword cannot pass unchecked).
//! The full tools (openapi-spec-validator, schemathesis) run in `openapi_tools.rs`.

mod common;

use std::collections::BTreeSet;

use axum::response::IntoResponse;
use common::{
    assert_accepted, fixture, import_contacts, run_engine, spawn_app, spawn_app_with, Reply,
    TestApp, ADMIN_TOKEN, JSON_CONTENT_TYPE,
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

// ---------------------------------------------------------------------------------------------
// A validator for the subset of JSON Schema 2020-12 the document uses.

/// Keywords that only annotate.
const ANNOTATIONS: [&str; 3] = ["description", "title", "example"];

fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => doc
            .pointer(r.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("dangling {r}")),
        None => v,
    }
}

fn type_matches(name: &str, v: &Value) -> bool {
    match name {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "number" => v.is_number(),
        "integer" => v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0),
        other => panic!("unknown type {other}"),
    }
}

/// Appends to `errors` every way `instance` fails `schema`.
fn validate(doc: &Value, schema: &Value, instance: &Value, at: &str, errors: &mut Vec<String>) {
    let Some(map) = schema.as_object() else {
        panic!("schema at {at} is not an object: {schema}");
    };
    for (key, rule) in map {
        match key.as_str() {
            "$ref" => validate(doc, resolve(doc, schema), instance, at, errors),
            "type" => {
                let names: Vec<&str> = match rule {
                    Value::String(s) => vec![s.as_str()],
                    Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
                    _ => panic!("bad type at {at}"),
                };
                if !names.iter().any(|n| type_matches(n, instance)) {
                    errors.push(format!("{at}: {instance} is not of type {rule}"));
                }
            }
            "const" => {
                if instance != rule {
                    errors.push(format!("{at}: {instance} is not {rule}"));
                }
            }
            "enum" => {
                if !rule.as_array().is_some_and(|a| a.contains(instance)) {
                    errors.push(format!("{at}: {instance} is not one of {rule}"));
                }
            }
            "pattern" => {
                if let Some(s) = instance.as_str() {
                    let re = regex::Regex::new(rule.as_str().expect("pattern")).expect("regex");
                    if !re.is_match(s) {
                        errors.push(format!("{at}: {s:?} does not match {rule}"));
                    }
                }
            }
            "minLength" | "maxLength" => {
                if let Some(s) = instance.as_str() {
                    let n = s.chars().count() as u64;
                    let bound = rule.as_u64().expect("length");
                    if (key == "minLength" && n < bound) || (key == "maxLength" && n > bound) {
                        errors.push(format!("{at}: length {n} breaks {key} {bound}"));
                    }
                }
            }
            "minimum" => {
                if let (Some(n), Some(min)) = (instance.as_f64(), rule.as_f64()) {
                    if n < min {
                        errors.push(format!("{at}: {n} < minimum {min}"));
                    }
                }
            }
            "minItems" | "maxItems" => {
                if let Some(a) = instance.as_array() {
                    let n = a.len() as u64;
                    let bound = rule.as_u64().expect("items bound");
                    if (key == "minItems" && n < bound) || (key == "maxItems" && n > bound) {
                        errors.push(format!("{at}: {n} items breaks {key} {bound}"));
                    }
                }
            }
            "items" => {
                for (i, item) in instance.as_array().into_iter().flatten().enumerate() {
                    validate(doc, rule, item, &format!("{at}/{i}"), errors);
                }
            }
            "required" => {
                if let Some(obj) = instance.as_object() {
                    for name in rule.as_array().expect("required").iter() {
                        let name = name.as_str().expect("required name");
                        if !obj.contains_key(name) {
                            errors.push(format!("{at}: missing required {name}"));
                        }
                    }
                }
            }
            "properties" => {
                if let Some(obj) = instance.as_object() {
                    for (name, sub) in rule.as_object().expect("properties") {
                        if let Some(v) = obj.get(name) {
                            validate(doc, sub, v, &format!("{at}/{name}"), errors);
                        }
                    }
                }
            }
            "additionalProperties" => {
                if let Some(obj) = instance.as_object() {
                    assert_eq!(rule, &Value::Bool(false), "only `false` is supported");
                    let known = map.get("properties").and_then(Value::as_object);
                    for name in obj.keys() {
                        if !known.is_some_and(|k| k.contains_key(name)) {
                            errors.push(format!("{at}: undocumented property {name}"));
                        }
                    }
                }
            }
            k if ANNOTATIONS.contains(&k) => {}
            other => panic!("the checker does not know the keyword {other} (at {at})"),
        }
    }
}

fn errors_of(doc: &Value, schema: &Value, instance: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    validate(doc, schema, instance, "", &mut errors);
    errors
}

#[test]
fn the_checker_refuses_what_its_schemas_refuse() {
    let doc = json!({ "components": { "schemas": { "T": {
        "type": ["string", "null"], "pattern": "^[0-9]{4}$" } } } });
    let schema = json!({
        "type": "object", "required": ["a", "t"], "additionalProperties": false,
        "properties": {
            "a": { "type": "array", "minItems": 1, "items": { "type": "integer", "minimum": 1 } },
            "t": { "$ref": "#/components/schemas/T" },
            "k": { "const": "x" }, "e": { "enum": ["p", "q"] },
        },
    });
    assert!(errors_of(&doc, &schema, &json!({"a": [1, 2], "t": null, "k": "x"})).is_empty());
    for bad in [
        json!({"a": [], "t": null}),
        json!({"a": [0], "t": null}),
        json!({"a": [1.5], "t": null}),
        json!({"a": [1], "t": "12"}),
        json!({"a": [1], "t": 1234}),
        json!({"a": [1]}),
        json!({"a": [1], "t": null, "extra": 1}),
        json!({"a": [1], "t": null, "k": "y"}),
        json!({"a": [1], "t": null, "e": "r"}),
        json!([]),
    ] {
        assert!(!errors_of(&doc, &schema, &bad).is_empty(), "{bad} passed");
    }
}

// ---------------------------------------------------------------------------------------------
// Matching replies to the document.

/// The document template a request path falls under (`{x}` matches any segment, literals
/// ignore case; one trailing `/` is ignored, as the router does... unless a parameter is last).
fn template_of<'a>(doc: &'a Value, path: &str) -> Option<&'a str> {
    let path = path.split('?').next().unwrap_or(path);
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let templates = doc["paths"].as_object().expect("paths");
    let fits = |t: &str, segs: &[&str]| {
        let parts: Vec<&str> = t.trim_start_matches('/').split('/').collect();
        parts.len() == segs.len()
            && parts
                .iter()
                .zip(segs)
                .all(|(p, s)| p.starts_with('{') || p.eq_ignore_ascii_case(s))
    };
    templates
        .keys()
        .find(|t| fits(t, &segs))
        .map(String::as_str)
}

struct Checker {
    doc: Value,
    /// (template, method, status) of every reply checked.
    seen: BTreeSet<(String, String, u16)>,
    failures: Vec<String>,
}

impl Checker {
    fn new(doc: Value) -> Checker {
        Checker {
            doc,
            seen: BTreeSet::new(),
            failures: Vec::new(),
        }
    }

    /// Checks a reply against its operation's documented response.
    fn check(&mut self, method: &Method, path: &str, reply: &Reply) {
        let what = format!("{method} {path} → {}", reply.status);
        let Some(template) = template_of(&self.doc, path).map(str::to_string) else {
            self.failures.push(format!("{what}: no documented path"));
            return;
        };
        let key = method.as_str().to_ascii_lowercase();
        let Some(op) = self.doc["paths"][&template].get(&key).cloned() else {
            self.failures.push(format!("{what}: method not documented"));
            return;
        };
        let status = reply.status.as_u16();
        let Some(documented) = op["responses"].get(status.to_string()) else {
            self.failures
                .push(format!("{what}: status not documented for {template}"));
            return;
        };
        let documented = resolve(&self.doc, documented).clone();
        self.check_response(&what, &documented, reply);
        self.seen.insert((template, key, status));
    }

    /// Checks a reply against a response object (content type, headers, body).
    fn check_response(&mut self, what: &str, documented: &Value, reply: &Reply) {
        if reply.content_type() != Some(JSON_CONTENT_TYPE) {
            self.failures
                .push(format!("{what}: content type {:?}", reply.content_type()));
        }
        for (name, header) in documented["headers"].as_object().into_iter().flatten() {
            let header = resolve(&self.doc, header);
            let value = reply.headers.get(name).and_then(|v| v.to_str().ok());
            match value {
                None if header["required"] == true => {
                    self.failures.push(format!("{what}: missing header {name}"))
                }
                None => {}
                Some(v) => {
                    let as_json = if header["schema"]["type"] == "integer" {
                        v.parse::<i64>().map(Value::from).unwrap_or(json!(v))
                    } else {
                        json!(v)
                    };
                    for e in errors_of(&self.doc, &header["schema"], &as_json) {
                        self.failures.push(format!("{what}: header {name}{e}"));
                    }
                }
            }
        }
        let Some(schema) = documented["content"]["application/json"].get("schema") else {
            self.failures.push(format!("{what}: no JSON schema"));
            return;
        };
        for e in errors_of(&self.doc, schema, &reply.body) {
            self.failures
                .push(format!("{what}: body{e} — {}", reply.body));
        }
    }

    /// A reply that no operation describes (an unknown path, an undocumented method) checked
    /// against the named component response.
    fn check_component(&mut self, name: &str, what: &str, reply: &Reply) {
        let documented = self.doc["components"]["responses"][name].clone();
        assert!(documented.is_object(), "no component response {name}");
        self.check_response(what, &documented, reply);
    }
}

// ---------------------------------------------------------------------------------------------
// The flow.

async fn call(
    app: &TestApp,
    c: &mut Checker,
    method: Method,
    path: &str,
    bearer: Option<&str>,
    body: Option<Vec<u8>>,
    content_type: &str,
) -> Reply {
    let headers: Vec<(&str, &str)> = if content_type.is_empty() {
        Vec::new()
    } else {
        vec![("content-type", content_type)]
    };
    let reply = app
        .request(method.clone(), path, bearer, body, &headers)
        .await;
    c.check(&method, path, &reply);
    reply
}

async fn json_call(
    app: &TestApp,
    c: &mut Checker,
    method: Method,
    path: &str,
    bearer: Option<&str>,
    body: Value,
) -> Reply {
    let bytes = (!body.is_null()).then(|| body.to_string().into_bytes());
    call(app, c, method, path, bearer, bytes, "application/json").await
}

fn expect(reply: &Reply, status: u16) {
    assert_eq!(
        reply.status.as_u16(),
        status,
        "{}",
        String::from_utf8_lossy(&reply.raw)
    );
}

#[tokio::test]
async fn openapi_json_is_served_as_the_api_json() {
    let app = spawn_app().await;
    let r = app
        .request(Method::GET, "/openapi.json", None, None, &[])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.content_type(), Some(JSON_CONTENT_TYPE));
    assert_eq!(r.body["openapi"], "3.1.0");
    assert_eq!(r.body["info"]["title"], "Tidings");
    assert_eq!(r.body["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        &r.body,
        api::openapi::document(),
        "the served document is the built one"
    );
    // No credentials needed, whatever is sent.
    let with_bad_token = app
        .request(Method::GET, "/openapi.json", Some("nope"), None, &[])
        .await;
    assert_eq!(with_bad_token.status, StatusCode::OK);
}

#[tokio::test]
async fn real_responses_conform_to_the_document() {
    let app = spawn_app().await;
    let doc = app
        .request(Method::GET, "/openapi.json", None, None, &[])
        .await
        .body;
    let mut c = Checker::new(doc.clone());
    let f = fixture(&app, "acct1").await;
    let admin = Some(ADMIN_TOKEN);
    let sms = Some(f.token.as_str());
    let big = vec![b' '; 2 * 1024 * 1024];

    // Operations.
    for path in ["/healthz", "/readyz", "/openapi.json"] {
        expect(
            &call(&app, &mut c, Method::GET, path, None, None, "").await,
            200,
        );
    }

    // /v2/token
    let creds = json!({"grant_type": "client_credentials", "client_id": f.client_id,
                       "client_secret": f.secret});
    expect(
        &json_call(&app, &mut c, Method::POST, "/v2/token", None, creds.clone()).await,
        200,
    );
    let form = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}&scope=sms_read",
        f.client_id, f.secret
    );
    let r = call(
        &app,
        &mut c,
        Method::POST,
        "/v2/token",
        None,
        Some(form.into_bytes()),
        "application/x-www-form-urlencoded",
    )
    .await;
    expect(&r, 200);
    let read_only = r.body["access_token"].as_str().expect("token").to_string();
    for (body, status) in [
        (json!({"grant_type": "password"}), 400),
        (
            json!({"grant_type": "client_credentials", "client_id": "nope", "client_secret": "x"}),
            401,
        ),
        (
            json!({"grant_type": "client_credentials", "client_id": f.client_id,
                "client_secret": f.secret, "account_id": "elsewhere"}),
            401,
        ),
    ] {
        expect(
            &json_call(&app, &mut c, Method::POST, "/v2/token", None, body).await,
            status,
        );
    }
    let r = call(
        &app,
        &mut c,
        Method::POST,
        "/v2/token",
        None,
        Some(b"{nope".to_vec()),
        "application/json",
    )
    .await;
    expect(&r, 400);
    assert_eq!(r.body["error"], "invalid_request");
    let r = call(
        &app,
        &mut c,
        Method::POST,
        "/v2/token",
        None,
        Some(big.clone()),
        "application/json",
    )
    .await;
    expect(&r, 413);

    // Admin: accounts and clients.
    let accounts = "/admin/v1/accounts";
    expect(
        &json_call(&app, &mut c, Method::GET, accounts, admin, Value::Null).await,
        200,
    );
    expect(
        &json_call(
            &app,
            &mut c,
            Method::POST,
            accounts,
            admin,
            json!({"id": "acct2", "name": "Second"}),
        )
        .await,
        201,
    );
    expect(
        &json_call(
            &app,
            &mut c,
            Method::POST,
            accounts,
            admin,
            json!({"id": "ACCT2", "name": "Again"}),
        )
        .await,
        409,
    );
    expect(
        &json_call(
            &app,
            &mut c,
            Method::POST,
            accounts,
            admin,
            json!({"id": "x y"}),
        )
        .await,
        400,
    );
    expect(
        &json_call(
            &app,
            &mut c,
            Method::POST,
            accounts,
            None,
            json!({"name": "n"}),
        )
        .await,
        401,
    );
    expect(
        &call(
            &app,
            &mut c,
            Method::POST,
            accounts,
            admin,
            Some(big.clone()),
            "application/json",
        )
        .await,
        413,
    );
    expect(
        &json_call(
            &app,
            &mut c,
            Method::GET,
            "/admin/v1/accounts/acct1",
            admin,
            Value::Null,
        )
        .await,
        200,
    );
    expect(
        &json_call(
            &app,
            &mut c,
            Method::GET,
            "/admin/v1/accounts/nope",
            admin,
            Value::Null,
        )
        .await,
        404,
    );
    let base = "/admin/v1/accounts/acct1";
    let clients = format!("{base}/clients");
    expect(
        &json_call(&app, &mut c, Method::GET, &clients, admin, Value::Null).await,
        200,
    );
    let r = json_call(
        &app,
        &mut c,
        Method::POST,
        &clients,
        admin,
        json!({"scopes": ["sms_read"], "accounts": ["acct2"]}),
    )
    .await;
    expect(&r, 201);
    let doomed = r.body["clientId"].as_str().expect("clientId").to_string();
    expect(
        &json_call(
            &app,
            &mut c,
            Method::POST,
            &clients,
            admin,
            json!({"scopes": ["everything"]}),
        )
        .await,
        400,
    );
    expect(
        &json_call(
            &app,
            &mut c,
            Method::DELETE,
            &format!("{clients}/{doomed}"),
            admin,
            Value::Null,
        )
        .await,
        200,
    );
    expect(
        &json_call(
            &app,
            &mut c,
            Method::DELETE,
            &format!("{clients}/{doomed}x"),
            admin,
            Value::Null,
        )
        .await,
        404,
    );

    // Admin: codes, keywords, lists, messages.
    let codes = format!("{base}/codes");
    expect(
        &json_call(&app, &mut c, Method::GET, &codes, admin, Value::Null).await,
        200,
    );
    expect(
        &json_call(
            &app,
            &mut c,
            Method::POST,
            &codes,
            admin,
            json!({"code": "77777", "type": "long", "optOutText": "Bye"}),
        )
        .await,
        201,
    );
    expect(
        &json_call(
            &app,
            &mut c,
            Method::POST,
            &codes,
            admin,
            json!({"code": "77777"}),
        )
        .await,
        409,
    );
    expect(
        &json_call(
            &app,
            &mut c,
            Method::POST,
            &codes,
            admin,
            json!({"code": "!"}),
        )
        .await,
        400,
    );
    expect(
        &json_call(
            &app,
            &mut c,
            Method::GET,
            &format!("{codes}/88976"),
            admin,
            Value::Null,
        )
        .await,
        200,
    );
    expect(
        &json_call(
            &app,
            &mut c,
            Method::DELETE,
            &format!("{codes}/77777"),
            admin,
            Value::Null,
        )
        .await,
        200,
    );
    expect(
        &json_call(
            &app,
            &mut c,
            Method::GET,
            &format!("{codes}/77777"),
            admin,
            Value::Null,
        )
        .await,
        404,
    );
    let keywords = format!("{base}/keywords");
    expect(
        &json_call(&app, &mut c, Method::GET, &keywords, admin, Value::Null).await,
        200,
    );
    let r = json_call(&app, &mut c, Method::POST, &keywords, admin,
        json!({"code": "88976", "keyword": "DOUBLE", "doubleOptIn": true, "confirmText": "Reply Y"})).await;
    expect(&r, 201);
    let kw = r.body["id"].as_str().expect("id").to_string();
    expect(
        &json_call(
            &app,
            &mut c,
            Method::POST,
            &keywords,
            admin,
            json!({"code": "88976", "keyword": "double"}),
        )
        .await,
        409,
    );
    expect(
        &json_call(&app, &mut c, Method::POST, &keywords, admin, json!({})).await,
        400,
    );
    expect(
        &json_call(
            &app,
            &mut c,
            Method::GET,
            &format!("{keywords}/{kw}"),
            admin,
            Value::Null,
        )
        .await,
        200,
    );
    expect(
        &json_call(
            &app,
            &mut c,
            Method::DELETE,
            &format!("{keywords}/{kw}"),
            admin,
            Value::Null,
        )
        .await,
        200,
    );
    let lists = format!("{base}/lists");
    expect(
        &json_call(&app, &mut c, Method::GET, &lists, admin, Value::Null).await,
        200,
    );
    expect(
        &json_call(
            &app,
            &mut c,
            Method::POST,
            &lists,
            admin,
            json!({"id": "Temp", "name": "Temp"}),
        )
        .await,
        201,
    );
    expect(
        &json_call(
            &app,
            &mut c,
            Method::POST,
            &lists,
            admin,
            json!({"id": "temp", "name": "Temp"}),
        )
        .await,
        409,
    );
    expect(
        &json_call(
            &app,
            &mut c,
            Method::POST,
            &lists,
            admin,
            json!({"name": 5}),
        )
        .await,
        400,
    );
    expect(
        &json_call(
            &app,
            &mut c,
            Method::GET,
            &format!("{lists}/ListA"),
            admin,
            Value::Null,
        )
        .await,
        200,
    );
    expect(
        &json_call(
            &app,
            &mut c,
            Method::DELETE,
            &format!("{lists}/Temp"),
            admin,
            Value::Null,
        )
        .await,
        200,
    );
    let messages = format!("{base}/messages");
    expect(
        &json_call(&app, &mut c, Method::GET, &messages, admin, Value::Null).await,
        200,
    );
    expect(&json_call(&app, &mut c, Method::POST, &messages, admin,
        json!({"id": "Other", "code": "88976", "text": "Hi", "contentUrl": "https://example.com/a.png"})).await, 201);
    expect(
        &json_call(
            &app,
            &mut c,
            Method::POST,
            &messages,
            admin,
            json!({"id": "other", "code": "88976"}),
        )
        .await,
        409,
    );
    expect(
        &json_call(
            &app,
            &mut c,
            Method::POST,
            &messages,
            admin,
            json!({"code": "1"}),
        )
        .await,
        400,
    );
    let message = format!("{messages}/{}", f.message);
    expect(
        &json_call(&app, &mut c, Method::GET, &message, admin, Value::Null).await,
        200,
    );
    expect(
        &json_call(
            &app,
            &mut c,
            Method::PATCH,
            &message,
            admin,
            json!({"name": "Renamed", "contentUrl": null}),
        )
        .await,
        200,
    );
    expect(
        &json_call(
            &app,
            &mut c,
            Method::PATCH,
            &message,
            admin,
            json!({"status": "Gone"}),
        )
        .await,
        400,
    );
    expect(
        &json_call(
            &app,
            &mut c,
            Method::DELETE,
            &format!("{messages}/Other"),
            admin,
            Value::Null,
        )
        .await,
        200,
    );
    expect(
        &json_call(
            &app,
            &mut c,
            Method::GET,
            &format!("{messages}/Other"),
            admin,
            Value::Null,
        )
        .await,
        404,
    );

    // Admin: contacts and subscriptions.
    import_contacts(
        &app,
        "acct1",
        "ListA",
        json!([{"mobileNumber": "15555555510", "attributes": {"FirstName": "Ann"}},
               {"mobileNumber": "15555555511"}]),
        true,
    )
    .await;
    let contacts = format!("{lists}/ListB/contacts");
    let r = json_call(&app, &mut c, Method::POST, &contacts, admin, json!({
        "contacts": [{"mobileNumber": "15555555512", "subscriberKey": "k12"}, {"mobileNumber": "12"}, 7],
        "subscribe": {"code": "88976", "keyword": "JOIN"}})).await;
    expect(&r, 200);
    assert_eq!(r.body["invalid"], 2, "{}", r.body);
    let csv =
        b"mobileNumber,subscriberKey,FirstName\n15555555513,k13,Bo\nnot-a-number,,\n".to_vec();
    expect(
        &call(
            &app,
            &mut c,
            Method::POST,
            &format!("{contacts}?subscribeCode=88976&subscribeKeyword=JOIN"),
            admin,
            Some(csv),
            "text/csv",
        )
        .await,
        200,
    );
    expect(
        &json_call(&app, &mut c, Method::POST, &contacts, admin, json!({})).await,
        400,
    );
    expect(
        &json_call(
            &app,
            &mut c,
            Method::DELETE,
            &format!("{contacts}/15555555513"),
            admin,
            Value::Null,
        )
        .await,
        200,
    );
    let subs = format!("{base}/subscriptions");
    expect(
        &json_call(
            &app,
            &mut c,
            Method::POST,
            &subs,
            admin,
            json!({"mobileNumber": "15555555511",
        "code": "88976", "keyword": "JOIN", "status": "Unsubscribed"}),
        )
        .await,
        200,
    );
    expect(
        &json_call(&app, &mut c, Method::POST, &subs, admin, json!({})).await,
        400,
    );
    expect(
        &json_call(
            &app,
            &mut c,
            Method::GET,
            &format!("{subs}?mobileNumber=15555555511"),
            admin,
            Value::Null,
        )
        .await,
        200,
    );
    expect(
        &json_call(&app, &mut c, Method::GET, &subs, admin, Value::Null).await,
        400,
    );

    // /sms/v1: messageList.
    let send = format!("/sms/v1/messageList/{}/send", f.message);
    let r = json_call(&app, &mut c, Method::POST, &send, sms, json!({})).await;
    let token = assert_accepted(&r);
    expect(
        &json_call(
            &app,
            &mut c,
            Method::POST,
            &send,
            sms,
            json!({"OverrideMessageText": true, "sendTime": "soon"}),
        )
        .await,
        400,
    );
    expect(
        &json_call(&app, &mut c, Method::POST, &send, None, json!({})).await,
        401,
    );
    expect(
        &json_call(
            &app,
            &mut c,
            Method::POST,
            &send,
            Some(&read_only),
            json!({}),
        )
        .await,
        403,
    );
    expect(
        &call(
            &app,
            &mut c,
            Method::POST,
            &send,
            sms,
            Some(big.clone()),
            "application/json",
        )
        .await,
        413,
    );
    let keyed = app
        .request(
            Method::POST,
            &send,
            sms,
            Some(b"{}".to_vec()),
            &[
                ("content-type", "application/json"),
                ("idempotency-key", "k1"),
            ],
        )
        .await;
    c.check(&Method::POST, &send, &keyed);
    expect(&keyed, 202);
    let again = app
        .request(
            Method::POST,
            &send,
            sms,
            Some(b"{\"sendTime\":null}".to_vec()),
            &[
                ("content-type", "application/json"),
                ("idempotency-key", "k1"),
            ],
        )
        .await;
    c.check(&Method::POST, &send, &again);
    expect(&again, 409);
    let pending = keyed.body["tokenId"].as_str().expect("tokenId").to_string();
    expect(
        &call(
            &app,
            &mut c,
            Method::POST,
            &format!("/admin/v1/sends/{pending}/cancel"),
            admin,
            None,
            "",
        )
        .await,
        200,
    );
    expect(
        &call(
            &app,
            &mut c,
            Method::POST,
            &format!("/admin/v1/sends/{pending}/cancel"),
            admin,
            None,
            "",
        )
        .await,
        409,
    );
    let deliveries = format!("/sms/v1/messageList/{}/deliveries/{token}", f.message);
    expect(
        &json_call(&app, &mut c, Method::GET, &deliveries, sms, Value::Null).await,
        200,
    );
    run_engine(&app).await;
    let r = json_call(
        &app,
        &mut c,
        Method::GET,
        &format!("{deliveries}?$pageSize=1"),
        sms,
        Value::Null,
    )
    .await;
    expect(&r, 200);
    assert_eq!(
        r.body["tracking"].as_array().map(Vec::len),
        Some(1),
        "{}",
        r.body
    );
    expect(
        &json_call(
            &app,
            &mut c,
            Method::GET,
            &format!("{deliveries}?$page=x"),
            sms,
            Value::Null,
        )
        .await,
        400,
    );
    expect(
        &json_call(
            &app,
            &mut c,
            Method::GET,
            "/sms/v1/messageList/a%00b/deliveries/x",
            sms,
            Value::Null,
        )
        .await,
        404,
    );
    let report = format!("/sms/v1/messageList/{}/deliveryReport/{token}", f.message);
    expect(
        &json_call(
            &app,
            &mut c,
            Method::POST,
            &report,
            sms,
            json!({"filename": "r.csv"}),
        )
        .await,
        202,
    );
    expect(
        &json_call(
            &app,
            &mut c,
            Method::POST,
            &report,
            sms,
            json!({"filename": "r.csv"}),
        )
        .await,
        409,
    );
    expect(
        &json_call(
            &app,
            &mut c,
            Method::POST,
            &report,
            sms,
            json!({"filename": "../r.csv"}),
        )
        .await,
        400,
    );

    // messageContact.
    let contact_send = format!("/sms/v1/messageContact/{}/send", f.message);
    let r = json_call(
        &app,
        &mut c,
        Method::POST,
        &contact_send,
        sms,
        json!({
        "Subscribers": [{"MobileNumber": "15555555520", "SubscriberKey": "s20",
                         "Attributes": {"FirstName": "Cy"}}],
        "Subscribe": true, "keyword": "JOIN"}),
    )
    .await;
    let contact_token = assert_accepted(&r);
    expect(
        &json_call(
            &app,
            &mut c,
            Method::POST,
            &contact_send,
            sms,
            json!({"mobileNumbers": []}),
        )
        .await,
        400,
    );
    run_engine(&app).await;
    let base_contact = format!("/sms/v1/messageContact/{}", f.message);
    expect(
        &json_call(
            &app,
            &mut c,
            Method::GET,
            &format!("{base_contact}/deliveries/{contact_token}"),
            sms,
            Value::Null,
        )
        .await,
        200,
    );
    expect(
        &json_call(
            &app,
            &mut c,
            Method::GET,
            &format!("{base_contact}/deliveries/{token}"),
            sms,
            Value::Null,
        )
        .await,
        400,
    );
    let r = json_call(
        &app,
        &mut c,
        Method::GET,
        &format!("{base_contact}/history/{contact_token}/mobileNumber/15555555520"),
        sms,
        Value::Null,
    )
    .await;
    expect(&r, 200);
    assert!(r.body["count"].as_i64() > Some(0), "{}", r.body);
    expect(
        &json_call(
            &app,
            &mut c,
            Method::GET,
            &format!("{base_contact}/history/{contact_token}/mobileNumber/12"),
            sms,
            Value::Null,
        )
        .await,
        400,
    );

    // queueMO, keywords, subscriptions.
    let r = json_call(
        &app,
        &mut c,
        Method::POST,
        "/sms/v1/queueMO",
        sms,
        json!({
        "subscribers": [{"mobilenumber": "15555555530", "subscriberkey": "s30"}],
        "shortCode": "88976", "messageText": "JOIN"}),
    )
    .await;
    let mo = assert_mo_accepted(&r);
    expect(
        &json_call(
            &app,
            &mut c,
            Method::POST,
            "/sms/v1/queueMO",
            sms,
            json!({}),
        )
        .await,
        400,
    );
    run_engine(&app).await;
    let r = json_call(
        &app,
        &mut c,
        Method::GET,
        &format!("/sms/v1/queueMO/deliveries/{mo}"),
        sms,
        Value::Null,
    )
    .await;
    expect(&r, 200);
    assert!(
        !r.body["tracking"].as_array().expect("tracking").is_empty(),
        "{}",
        r.body
    );
    expect(
        &json_call(
            &app,
            &mut c,
            Method::GET,
            "/sms/v1/queueMO/deliveries/not%20valid",
            sms,
            Value::Null,
        )
        .await,
        400,
    );
    let r = json_call(
        &app,
        &mut c,
        Method::GET,
        &format!("/sms/v1/queueMO/history/{mo}"),
        sms,
        Value::Null,
    )
    .await;
    expect(&r, 200);
    assert!(r.body["count"].as_i64() >= Some(2), "{}", r.body);
    expect(
        &json_call(
            &app,
            &mut c,
            Method::GET,
            &format!("/sms/v1/queueMO/history/{token}"),
            sms,
            Value::Null,
        )
        .await,
        400,
    );
    let r = json_call(
        &app,
        &mut c,
        Method::POST,
        "/sms/v1/keyword",
        sms,
        json!({"ShortCode": "88976", "CountryCode": "US", "Keyword": "PROMO"}),
    )
    .await;
    expect(&r, 202);
    let promo = r.body["keywordId"].as_str().expect("keywordId").to_string();
    expect(
        &json_call(
            &app,
            &mut c,
            Method::POST,
            "/sms/v1/keyword",
            sms,
            json!({"ShortCode": "88976", "Keyword": "promo"}),
        )
        .await,
        409,
    );
    expect(
        &json_call(
            &app,
            &mut c,
            Method::POST,
            "/sms/v1/keyword",
            sms,
            json!({"Keyword": "STOP"}),
        )
        .await,
        400,
    );
    expect(
        &json_call(
            &app,
            &mut c,
            Method::DELETE,
            &format!("/sms/v1/keyword/{promo}"),
            sms,
            Value::Null,
        )
        .await,
        202,
    );
    expect(
        &json_call(
            &app,
            &mut c,
            Method::DELETE,
            &format!("/sms/v1/keyword/{promo}"),
            sms,
            Value::Null,
        )
        .await,
        400,
    );
    let r = json_call(
        &app,
        &mut c,
        Method::DELETE,
        "/sms/v1/keyword/",
        sms,
        Value::Null,
    )
    .await;
    expect(&r, 405);
    let r = json_call(
        &app,
        &mut c,
        Method::POST,
        "/sms/v1/contacts/subscriptions",
        sms,
        json!({"mobileNumber": ["15555555510", "15555555511", "15555555530"]}),
    )
    .await;
    expect(&r, 200);
    assert!(
        r.body["contacts"].as_array().map(Vec::len) >= Some(3),
        "{}",
        r.body
    );
    expect(
        &json_call(
            &app,
            &mut c,
            Method::POST,
            "/sms/v1/contacts/subscriptions",
            sms,
            json!({"subscriberKey": ["k12"]}),
        )
        .await,
        200,
    );
    expect(
        &json_call(
            &app,
            &mut c,
            Method::POST,
            "/sms/v1/contacts/subscriptions",
            sms,
            json!({}),
        )
        .await,
        400,
    );

    // queueImport and refreshList.
    let imports = app.data_dir().join("imports");
    std::fs::create_dir_all(&imports).expect("imports dir");
    std::fs::write(
        imports.join("people.csv"),
        "phone,first\n15555555540,Di\nbad,Ed\n",
    )
    .expect("csv");
    let import = "/sms/v1/contacts/queueImport/ListB";
    let r = json_call(
        &app,
        &mut c,
        Method::POST,
        import,
        sms,
        json!({
        "FileName": "people.csv", "FileType": "csv", "IsFirstRowHeader": true,
        "ImportMappingType": "MapByHeader",
        "FieldMaps": [{"Destination": "_MobileNumber", "Source": "phone"},
                      {"Destination": "FirstName", "Source": "first"}]}),
    )
    .await;
    let job = assert_accepted(&r);
    expect(
        &json_call(
            &app,
            &mut c,
            Method::POST,
            import,
            sms,
            json!({"FileName": "../x"}),
        )
        .await,
        400,
    );
    expect(
        &json_call(
            &app,
            &mut c,
            Method::GET,
            &format!("{import}/status/{job}"),
            sms,
            Value::Null,
        )
        .await,
        200,
    );
    expect(
        &json_call(
            &app,
            &mut c,
            Method::GET,
            &format!("{import}/status/{token}"),
            sms,
            Value::Null,
        )
        .await,
        400,
    );
    let refresh = "/sms/v1/contacts/refreshList/ListB";
    let r = json_call(&app, &mut c, Method::POST, refresh, sms, Value::Null).await;
    expect(&r, 202);
    let refreshed = r.body["tokenId"].as_str().expect("tokenId").to_string();
    expect(
        &json_call(
            &app,
            &mut c,
            Method::POST,
            "/sms/v1/contacts/refreshList/Nope",
            sms,
            Value::Null,
        )
        .await,
        400,
    );
    expect(
        &json_call(
            &app,
            &mut c,
            Method::GET,
            &format!("{refresh}/status/{refreshed}"),
            sms,
            Value::Null,
        )
        .await,
        200,
    );
    expect(
        &json_call(
            &app,
            &mut c,
            Method::GET,
            &format!("{refresh}/status/{job}"),
            sms,
            Value::Null,
        )
        .await,
        400,
    );

    // Admin: sends and the outbox.
    let sends = format!("{base}/sends");
    expect(
        &json_call(&app, &mut c, Method::GET, &sends, admin, Value::Null).await,
        200,
    );
    expect(
        &json_call(
            &app,
            &mut c,
            Method::GET,
            &format!("{sends}?state=Finished&limit=1"),
            admin,
            Value::Null,
        )
        .await,
        200,
    );
    expect(
        &json_call(
            &app,
            &mut c,
            Method::GET,
            &format!("{sends}?limit=0"),
            admin,
            Value::Null,
        )
        .await,
        400,
    );
    for t in [&token, &mo] {
        expect(
            &json_call(
                &app,
                &mut c,
                Method::GET,
                &format!("/admin/v1/sends/{t}"),
                admin,
                Value::Null,
            )
            .await,
            200,
        );
    }
    expect(
        &json_call(
            &app,
            &mut c,
            Method::GET,
            "/admin/v1/sends/nope",
            admin,
            Value::Null,
        )
        .await,
        404,
    );
    expect(
        &call(
            &app,
            &mut c,
            Method::POST,
            "/admin/v1/sends/nope/cancel",
            admin,
            None,
            "",
        )
        .await,
        404,
    );
    let r = json_call(
        &app,
        &mut c,
        Method::GET,
        "/admin/v1/outbox?limit=2",
        admin,
        Value::Null,
    )
    .await;
    expect(&r, 200);
    assert!(r.body["next"].is_i64(), "{}", r.body);
    expect(
        &json_call(
            &app,
            &mut c,
            Method::GET,
            "/admin/v1/outbox",
            admin,
            Value::Null,
        )
        .await,
        200,
    );
    expect(
        &json_call(
            &app,
            &mut c,
            Method::GET,
            "/admin/v1/outbox?after=x",
            admin,
            Value::Null,
        )
        .await,
        400,
    );

    // Routes no operation describes: an unknown path, an undocumented method.
    let r = app
        .request(Method::GET, "/sms/v1/nothing", sms, None, &[])
        .await;
    expect(&r, 404);
    c.check_component("NotFound", "GET /sms/v1/nothing", &r);
    let r = app.request(Method::GET, &send, sms, None, &[]).await;
    expect(&r, 405);
    c.check_component("MethodNotAllowed", "GET …/send", &r);
    // A 500 as the one error type renders it (no request can cause one on purpose).
    let resp = api::ApiError::internal("checked by the OpenAPI test").into_response();
    let headers = resp.headers().clone();
    let raw = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .expect("body")
        .to_vec();
    let internal = Reply {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        headers,
        body: serde_json::from_slice(&raw).unwrap_or(Value::Null),
        raw,
    };
    c.check_component("InternalError", "500", &internal);

    // 429: a server with a rate limit of 1/s (burst 2).
    let limited = spawn_app_with(|file| file.api.rate_limit = Some(1)).await;
    let lf = fixture(&limited, "acct1").await;
    let mut seen_429 = (false, false);
    for _ in 0..5 {
        let r = json_call(
            &limited,
            &mut c,
            Method::GET,
            &format!("/sms/v1/queueMO/history/{}", "a".repeat(30)),
            Some(&lf.token),
            Value::Null,
        )
        .await;
        seen_429.0 |= r.status == StatusCode::TOO_MANY_REQUESTS;
        let r = json_call(&limited, &mut c, Method::POST, "/v2/token", None,
            json!({"grant_type": "client_credentials", "client_id": lf.client_id, "client_secret": "x"})).await;
        seen_429.1 |= r.status == StatusCode::TOO_MANY_REQUESTS;
    }
    assert_eq!(
        seen_429,
        (true, true),
        "both /sms/v1 and /v2/token are limited"
    );

    assert!(
        c.failures.is_empty(),
        "{} nonconformities:\n{}",
        c.failures.len(),
        c.failures.join("\n")
    );

    // Every operation's success was checked, and each kind of error somewhere.
    let mut unchecked = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let success = op["responses"]
                .as_object()
                .expect("responses")
                .keys()
                .filter_map(|k| k.parse::<u16>().ok())
                .find(|s| (200..300).contains(s))
                .expect("a success");
            if !c.seen.contains(&(path.clone(), method.clone(), success)) {
                unchecked.push(format!("{method} {path} {success}"));
            }
        }
    }
    assert!(
        unchecked.is_empty(),
        "successes never checked: {unchecked:#?}"
    );
    let statuses: BTreeSet<u16> = c.seen.iter().map(|(_, _, s)| *s).collect();
    for status in [400, 401, 403, 404, 405, 409, 413, 429] {
        assert!(
            statuses.contains(&status),
            "no {status} checked: {statuses:?}"
        );
    }
}

/// Found by schemathesis: a cursor that names no send of the account was a 500.
#[tokio::test]
async fn listing_sends_after_an_unknown_token_is_a_400_not_a_500() {
    let app = spawn_app().await;
    fixture(&app, "acct1").await;
    let r = app
        .admin(
            Method::GET,
            "/admin/v1/accounts/acct1/sends?after=nope",
            Value::Null,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(
        r.body,
        json!({"errors": ["nope isn't a valid value for after."]})
    );
    let r = app
        .admin(
            Method::GET,
            "/admin/v1/accounts/acct1/sends?after=",
            Value::Null,
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "an empty cursor is no cursor: {}",
        r.body
    );
}

/// A queueMO 202: `{"tokenId", "results"}`; returns the token.
fn assert_mo_accepted(r: &Reply) -> String {
    expect(r, 202);
    r.body["tokenId"].as_str().expect("tokenId").to_string()
}

//! `POST /sms/v1/automation/importSend` over HTTP (API.md §6b): the reference's FILE example
//! run to its end (import into a new list, numbers subscribed to the keyword, the message sent
//! with `%%FirstName%%` filled, the status `Complete` with the send's token, the send's §5
//! status and its delivery report); the other mapping types; `IsVisible`; the DATA_EXTENSION
//! example refused; every message in order; the status route's errors.

mod common;

use common::{assert_errors, fixture, outbox_of, run_engine, spawn_app, Fixture, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

/// Writes an import file into the fixture account's folder, `imports/Acme/`.
fn write_import(app: &TestApp, name: &str, contents: &str) {
    let dir = app.data_dir().join("imports").join("Acme");
    std::fs::create_dir_all(&dir).expect("imports dir");
    std::fs::write(dir.join(name), contents).expect("import file");
}

async fn import_send(app: &TestApp, f: &Fixture, body: Value) -> common::Reply {
    app.sms(
        Method::POST,
        "/sms/v1/automation/importSend",
        &f.token,
        &body,
    )
    .await
}

async fn status(app: &TestApp, f: &Fixture, token: &str) -> common::Reply {
    app.sms(
        Method::GET,
        &format!("/sms/v1/automation/importSend/{token}/status"),
        &f.token,
        &Value::Null,
    )
    .await
}

/// Accepts an importSend, drives the engine to idle; its token and final status.
async fn completed(app: &TestApp, f: &Fixture, body: Value) -> (String, Value) {
    let r = import_send(app, f, body).await;
    assert_eq!(r.status, 202, "{}", r.body);
    let token = r.body["tokenId"].as_str().expect("tokenId").to_string();
    assert!(r.body["lastPublishDate"].is_string(), "{}", r.body);
    run_engine(app).await;
    let s = status(app, f, &token).await;
    assert_eq!(s.status, 200, "{}", s.body);
    (token, s.body)
}

const FILE: &str = "First Name,Last Name,Subscriber Key,Mobile,Country\n\
                    Ann,Lee,k1,5555555510,US\n\
                    Bo,Ng,k2,15555555511,US\n\
                    Cy,Oh,k3,not-a-number,US\n";

#[tokio::test]
async fn the_documented_file_example_imports_subscribes_and_sends() {
    let app = spawn_app().await;
    let f = fixture(&app, "Acme").await;
    write_import(&app, "MyTestList.csv", FILE);
    let body = json!({"MessageId": f.message, "Keyword": "JOIN",
        "NotificationEmail": "myEmail@example.com", "IsDuplicationAllowed": true,
        "ImportDefinition": [{"FileName": "MyTestList.csv", "ImportType": "FILE",
            "ImportMappingType": "ManualMap",
            "FieldMaps": [{"Destination": "_FirstName", "Source": "First Name"},
                          {"Destination": "_Subscriberkey", "Source": "Subscriber Key"},
                          {"Destination": "_LastName", "Source": "Last Name"},
                          {"Destination": "_MobileNumber", "Source": "Mobile"},
                          {"Destination": "_CountryCode", "Source": "Country"}]}]});
    let (token, s) = completed(&app, &f, body).await;
    assert_eq!(s["status"], "Complete", "{s}");
    assert_eq!(s["source"], "MyTestList.csv");
    assert_eq!(
        (s["inserted"].as_i64(), s["invalid"].as_i64()),
        (Some(2), Some(1)),
        "{s}"
    );
    for field in [
        "lastUpdate",
        "createdTime",
        "startTime",
        "completedTime",
        "lastRunTime",
    ] {
        assert!(s[field].is_string(), "{field}: {s}");
    }
    let send = s["sendTokenId"].as_str().expect("sendTokenId").to_string();

    // The send's own status, as any messageList send's.
    let d = app
        .sms(
            Method::GET,
            &format!("/sms/v1/messageList/{}/deliveries/{send}", f.message),
            &f.token,
            &Value::Null,
        )
        .await;
    assert_eq!(d.status, 200, "{}", d.body);
    let mut texts: Vec<(String, String)> = outbox_of(&app, &send)
        .await
        .iter()
        .map(|m| {
            (
                m["to"].as_str().unwrap_or_default().to_string(),
                m["text"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    texts.sort();
    assert_eq!(
        texts,
        vec![
            ("15555555510".to_string(), "Hello Ann".to_string()),
            ("15555555511".to_string(), "Hello Bo".to_string()),
        ]
    );
    // Subscribed to the keyword.
    let subs = app
        .sms(
            Method::POST,
            "/sms/v1/contacts/subscriptions",
            &f.token,
            &json!({"mobileNumber": ["15555555510"]}),
        )
        .await;
    assert_eq!(subs.body["contacts"][0]["keyword"], "JOIN", "{}", subs.body);
    assert_eq!(subs.body["contacts"][0]["status"], "Subscribed");
    // The list it made is not listed (no IsVisible).
    let lists = app
        .admin_ok(Method::GET, "/admin/v1/accounts/Acme/lists", Value::Null)
        .await;
    assert!(
        !lists.to_string().contains("importSend"),
        "a hidden list is not listed: {lists}"
    );

    // Its delivery report, as messageList's.
    let report = app
        .sms(
            Method::POST,
            &format!("/sms/v1/automation/importSend/{token}/deliveryReport"),
            &f.token,
            &json!({"filename": "report.csv"}),
        )
        .await;
    assert_eq!(report.status, 202, "{}", report.body);
    assert_eq!(report.body["filename"], "report.csv");
    run_engine(&app).await;
    let written = std::fs::read_to_string(
        app.data_dir()
            .join("reports")
            .join("Acme")
            .join("report.csv"),
    )
    .expect("report");
    assert!(written.starts_with("mobileNumber,standardStatusCode,description,date\n"));
    assert_eq!(written.lines().count(), 3, "{written}");
}

#[tokio::test]
async fn inferred_and_ordinal_mappings_and_a_visible_list() {
    let app = spawn_app().await;
    let f = fixture(&app, "Acme").await;
    write_import(
        &app,
        "inferred.csv",
        "MobileNumber,_FirstName,Team\n15555555520,Dee,Blue\n",
    );
    write_import(&app, "ordinal.csv", "15555555521,Eve\n");
    let (_, s) = completed(
        &app,
        &f,
        json!({"MessageId": f.message, "Keyword": "join", "IsVisible": true,
               "Override": true, "OverrideText": "Hi %%FirstName%% of %%Team%%",
               "ImportDefinition": [{"FileName": "inferred.csv",
                   "ImportMappingType": "InferFromColumnHeadings"}]}),
    )
    .await;
    assert_eq!(s["status"], "Complete", "{s}");
    let send = s["sendTokenId"].as_str().expect("send").to_string();
    let out = outbox_of(&app, &send).await;
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0]["text"], "Hi Dee of Blue");
    let lists = app
        .admin_ok(Method::GET, "/admin/v1/accounts/Acme/lists", Value::Null)
        .await;
    assert!(
        lists.to_string().contains("importSend inferred.csv"),
        "{lists}"
    );

    let (_, s) = completed(
        &app,
        &f,
        json!({"MessageId": f.message, "Keyword": "JOIN", "IsFirstRowHeader": false,
               "ImportDefinition": [{"FileName": "ordinal.csv", "ImportMappingType": "MapByOrdinal",
                   "FieldMaps": [{"Destination": "_MobileNumber", "Ordinal": 0},
                                 {"Destination": "_FirstName", "Ordinal": "1"}]}]}),
    )
    .await;
    assert_eq!(s["status"], "Complete", "{s}");
    assert_eq!(s["inserted"], 1, "{s}");
    let send = s["sendTokenId"].as_str().expect("send").to_string();
    assert_eq!(outbox_of(&app, &send).await[0]["text"], "Hello Eve");
}

/// `IsDuplicationAllowed` (API.md §6b): a number in several rows of the file gets one text per
/// row — rows apart or together, across the import's batches; without the flag, one text.
#[tokio::test]
async fn repeated_rows_get_one_text_each_only_when_duplication_is_allowed() {
    let app = spawn_app().await;
    let f = fixture(&app, "Acme").await;
    write_import(
        &app,
        "repeats.csv",
        "Mobile,Name
15555555530,Ann
15555555531,Bo
15555555530,Ann
15555555530,Ann
         15555555532,Cy
15555555531,Bo
",
    );
    let mut per_number = Vec::new();
    for allowed in [true, false] {
        let (_, s) = completed(
            &app,
            &f,
            json!({"MessageId": f.message, "Keyword": "JOIN", "IsDuplicationAllowed": allowed,
                   "ImportDefinition": [{"FileName": "repeats.csv", "ImportType": "FILE",
                       "ImportMappingType": "ManualMap",
                       "FieldMaps": [{"Destination": "_MobileNumber", "Source": "Mobile"},
                                     {"Destination": "_FirstName", "Source": "Name"}]}]}),
        )
        .await;
        assert_eq!(s["status"], "Complete", "{s}");
        let send = s["sendTokenId"].as_str().expect("send").to_string();
        let mut texts: Vec<String> = outbox_of(&app, &send)
            .await
            .iter()
            .map(|m| format!("{} {}", m["to"].as_str().unwrap_or(""), m["text"]))
            .collect();
        texts.sort();
        per_number.push(texts);
    }
    assert_eq!(
        per_number,
        [
            vec![
                "15555555530 \"Hello Ann\"",
                "15555555530 \"Hello Ann\"",
                "15555555530 \"Hello Ann\"",
                "15555555531 \"Hello Bo\"",
                "15555555531 \"Hello Bo\"",
                "15555555532 \"Hello Cy\"",
            ],
            vec![
                "15555555530 \"Hello Ann\"",
                "15555555531 \"Hello Bo\"",
                "15555555532 \"Hello Cy\"",
            ],
        ]
    );
}

#[tokio::test]
async fn refusals_in_order_and_the_data_extension_example() {
    let app = spawn_app().await;
    let f = fixture(&app, "Acme").await;
    // The reference's DATA_EXTENSION example, on the fixture's message and keyword.
    let de = json!({"MessageId": f.message, "Keyword": "JOIN",
        "NotificationEmail": "myEmail@example.com", "Override": true,
        "OverrideText": "Override Text for Demo!", "IsDuplicationAllowed": true,
        "ImportDefinition": [{"ImportType": "DATA_EXTENSION",
            "ImportMappingType": "InferFromColumnHeadings",
            "DataExtensionName": "MyDataExtension", "IsFirstRowHeader": true}]});
    assert_errors(
        &import_send(&app, &f, de).await,
        &["ImportType DATA_EXTENSION isn't supported; use FILE."],
    );
    // Everything wrong at once, in the table's order.
    assert_errors(
        &import_send(
            &app,
            &f,
            json!({"MessageId": "!", "Override": false, "OverrideText": "x",
                   "ImportDefinition": []}),
        )
        .await,
        &[
            "Message id ! isn't valid.",
            "Keyword can't be blank.",
            "OverrideText isn't applicable when Override is false.",
            "ImportDefinition must have exactly one entry.",
        ],
    );
    app.admin_ok(
        Method::PATCH,
        &format!("/admin/v1/accounts/Acme/messages/{}", f.message),
        json!({"status": "Inactive"}),
    )
    .await;
    assert_errors(
        &import_send(
            &app,
            &f,
            json!({"MessageId": f.message, "Keyword": "NOPE", "Override": true, "OverrideText": " ",
                   "ImportDefinition": [{"FileName": "../etc/passwd", "ImportMappingType": "ManualMap",
                       "FieldMaps": [{"Destination": "_MobileNumber", "Source": "Mobile"}]}]}),
        )
        .await,
        &[
            "The Message must be in Active status in order to send.",
            "Keyword NOPE isn't valid for the code on the message.",
            "Cannot override message text with a blank message.",
            "../etc/passwd isn't a valid import file name.",
        ],
    );
    assert_errors(
        &import_send(
            &app,
            &f,
            json!({"MessageId": "MzA6Nzg6OQ", "Keyword": "JOIN", "Override": true,
                   "OverrideText": "x".repeat(1601),
                   "ImportDefinition": [{"FileName": "missing.csv", "ImportMappingType": "Sideways"}]}),
        )
        .await,
        &[
            "Message MzA6Nzg6OQ isn't valid for the client.",
            "ImportMappingType Sideways isn't supported; use ManualMap, InferFromColumnHeadings or MapByOrdinal.",
            "missing.csv isn't a valid import file name.",
            "MessageText can't be longer than 1600 characters.",
        ],
    );
}

#[tokio::test]
async fn status_of_unknown_or_malformed_tokens() {
    let app = spawn_app().await;
    let f = fixture(&app, "Acme").await;
    assert_errors(
        &status(&app, &f, "not%20a%20token").await,
        &["Token id not a token isn't valid."],
    );
    let unknown = "0123456789abcdefghijklmnop";
    assert_errors(
        &status(&app, &f, unknown).await,
        &[&format!("Token id {unknown} isn't valid for this client.")],
    );
    // Another account's importSend is not this client's.
    write_import(&app, "one.csv", "Mobile\n15555555530\n");
    let r = import_send(
        &app,
        &f,
        json!({"MessageId": f.message, "Keyword": "JOIN",
               "ImportDefinition": [{"FileName": "one.csv", "ImportMappingType": "ManualMap",
                   "FieldMaps": [{"Destination": "_MobileNumber", "Source": "Mobile"}]}]}),
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let token = r.body["tokenId"].as_str().expect("token").to_string();
    let other = fixture(&app, "Other").await;
    assert_errors(
        &status(&app, &other, &token).await,
        &[&format!("Token id {token} isn't valid for this client.")],
    );
    // Before the engine ran it: Queued, nothing known yet.
    let s = status(&app, &f, &token).await;
    assert_eq!(s.body["status"], "Queued", "{}", s.body);
    assert!(s.body["sendTokenId"].is_null() && s.body["completedTime"].is_null());
    let early = app
        .sms(
            Method::POST,
            &format!("/sms/v1/automation/importSend/{token}/deliveryReport"),
            &f.token,
            &json!({"filename": "early.csv"}),
        )
        .await;
    assert_eq!(early.status, 409, "{}", early.body);
}

//! `queueImport` from the account's import folder, its status, `refreshList` and
//! `deliveryReport` (API.md §6) over HTTP: mappings by ordinal and by header, country codes, bad
//! rows counted, and file names that must not read anything outside the folder.

mod common;

use common::{
    assert_accepted, assert_errors, fixture, import_contacts, run_engine, spawn_app, Fixture,
    TestApp,
};
use reqwest::Method;
use serde_json::{json, Value};

/// Writes an import file into the fixture account's folder, `imports/Acme/`.
fn write_import(app: &TestApp, name: &str, contents: &[u8]) -> std::path::PathBuf {
    let dir = app.data_dir().join("imports").join("Acme");
    std::fs::create_dir_all(&dir).expect("imports dir");
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("write import file");
    path
}

async fn queue_import(app: &TestApp, f: &Fixture, list: &str, body: Value) -> common::Reply {
    app.sms(
        Method::POST,
        &format!("/sms/v1/contacts/queueImport/{list}"),
        &f.token,
        &body,
    )
    .await
}

/// Drives the engine (which runs the import as a job) to idle; the import's final status.
async fn finished_import(app: &TestApp, f: &Fixture, list: &str, token: &str) -> Value {
    common::finished_import(app, &f.token, list, token).await
}

async fn list_size(app: &TestApp, list: &str) -> i64 {
    app.admin_ok(
        Method::GET,
        &format!("/admin/v1/accounts/Acme/lists/{list}"),
        Value::Null,
    )
    .await["size"]
        .as_i64()
        .expect("size")
}

#[tokio::test]
async fn import_by_header_counts_inserted_updated_and_invalid_and_subscribes() {
    let app = spawn_app().await;
    let f = fixture(&app, "Acme").await;
    import_contacts(
        &app,
        "Acme",
        &f.list_a,
        json!([{"mobileNumber": "15555555510"}]),
        false,
    )
    .await;
    write_import(
        &app,
        "people.csv",
        b"Phone,Country,Key,First\n5555555510,US,k0,Ann\n+15555555511,US,k1,Bob\n555-12,US,k2,Bad\n4477009001,GB,k3,Cy\n1234,ZZ,k4,Dee\n\n15555555512,,k5,Eve\n",
    );
    let reply = queue_import(
        &app,
        &f,
        &f.list_a,
        json!({"ListId": f.list_a, "FileName": "people.csv", "FileType": "csv",
               "IsFirstRowHeader": true, "ImportMappingType": "MapByHeader",
               "ShortCode": "88976", "Keyword": "join",
               "FieldMaps": [{"Destination": "_MobileNumber", "Source": "phone"},
                             {"Destination": "_CountryCode", "Source": "COUNTRY"},
                             {"Destination": "_SubscriberKey", "Source": "Key"},
                             {"Destination": "FirstName", "Source": "First"}]}),
    )
    .await;
    let token = assert_accepted(&reply);
    let status = finished_import(&app, &f, &f.list_a, &token).await;
    assert_eq!(status["status"], "Completed", "{status}");
    assert_eq!(status["type"], "Import");
    assert_eq!(status["tokenId"], token);
    assert_eq!(status["inserted"], 3, "{status}");
    assert_eq!(status["updated"], 1, "{status}");
    assert_eq!(status["invalid"], 2, "{status}");
    assert_eq!(status["createdDate"], "2026-11-26T10:00:00.000");
    assert_eq!(list_size(&app, &f.list_a).await, 4);
    let contact = app
        .admin_ok(
            Method::GET,
            "/admin/v1/accounts/Acme/subscriptions?mobileNumber=4477009001",
            Value::Null,
        )
        .await;
    assert_eq!(
        contact["items"][0]["status"], "Subscribed",
        "GB prefix 44 already there"
    );
    // The imported numbers receive a send to the list (they were subscribed).
    let send = assert_accepted(&app.send_list(&f.token, &f.message, &json!({})).await);
    run_engine(&app).await;
    let out = common::outbox_of(&app, &send).await;
    let texts: Vec<&str> = out.iter().filter_map(|o| o["text"].as_str()).collect();
    assert!(texts.contains(&"Hello Ann"), "{texts:?}");
    assert!(texts.contains(&"Hello Eve"), "{texts:?}");
}

#[tokio::test]
async fn import_by_ordinal_with_and_without_a_header_row() {
    let app = spawn_app().await;
    let f = fixture(&app, "Acme").await;
    write_import(&app, "plain.csv", b"15555555520,Zed\n15555555521,Yan\n");
    let token = assert_accepted(
        &queue_import(
            &app,
            &f,
            "lista",
            json!({"FileName": "plain.csv", "ImportMappingType": "MapByOrdinal",
                   "IsFirstRowHeader": false,
                   "FieldMaps": [{"Destination": "_MobileNumber", "Ordinal": 0},
                                 {"Destination": "FirstName", "Ordinal": "1"}]}),
        )
        .await,
    );
    let status = finished_import(&app, &f, "ListA", &token).await;
    assert_eq!(
        (status["inserted"].clone(), status["invalid"].clone()),
        (json!(2), json!(0)),
        "{status}"
    );
    let contact = app
        .admin_ok(
            Method::GET,
            "/admin/v1/accounts/Acme/subscriptions?mobileNumber=15555555520",
            Value::Null,
        )
        .await;
    assert_eq!(
        contact["items"],
        json!([]),
        "no ShortCode: nobody subscribed"
    );

    write_import(&app, "headed.csv", b"number\n15555555522\n");
    let token = assert_accepted(
        &queue_import(
            &app,
            &f,
            "ListB",
            json!({"FileName": "headed.csv", "ImportMappingType": "mapbyordinal",
                   "IsFirstRowHeader": "true",
                   "FieldMaps": [{"Destination": "_mobilenumber", "Ordinal": 0}]}),
        )
        .await,
    );
    let status = finished_import(&app, &f, "ListB", &token).await;
    assert_eq!(status["inserted"], 1, "{status}");
    assert_eq!(list_size(&app, "ListB").await, 1);

    // A header without the mapped column fails the import with a reason.
    let token = assert_accepted(
        &queue_import(
            &app,
            &f,
            "ListB",
            json!({"FileName": "headed.csv", "ImportMappingType": "MapByHeader",
                   "IsFirstRowHeader": true,
                   "FieldMaps": [{"Destination": "_MobileNumber", "Source": "phone"}]}),
        )
        .await,
    );
    let status = finished_import(&app, &f, "ListB", &token).await;
    assert_eq!(status["status"], "Error");
    assert_eq!(
        status["errors"],
        json!(["The CSV header has no column phone."])
    );
}

#[tokio::test]
async fn unsafe_file_names_are_refused_and_read_nothing() {
    let app = spawn_app().await;
    let f = fixture(&app, "Acme").await;
    let imports = app.data_dir().join("imports").join("Acme");
    std::fs::create_dir_all(&imports).expect("imports");
    // A real CSV outside the folder, and ways to reach it.
    let outside = app.data_dir().join("secret.csv");
    std::fs::write(&outside, "mobileNumber\n15555555599\n").expect("outside file");
    #[cfg(unix)]
    std::os::unix::fs::symlink(&outside, imports.join("link.csv")).expect("symlink");
    write_import(&app, "binary.csv", b"mobileNumber\n\x00\x01\x02\xff\xfe");
    write_import(
        &app,
        "latin1.csv",
        b"mobileNumber,Name\n15555555598,Jos\xe9\n",
    );
    let body = |name: &str| {
        json!({"FileName": name, "ImportMappingType": "MapByHeader", "IsFirstRowHeader": true,
               "FieldMaps": [{"Destination": "_MobileNumber", "Source": "mobileNumber"}]})
    };
    let abs = outside.display().to_string();
    for (name, message) in [
        (
            "../secret.csv",
            "../secret.csv isn't a valid import file name.".to_string(),
        ),
        ("..", ".. isn't a valid import file name.".to_string()),
        (
            abs.as_str(),
            format!("{abs} isn't a valid import file name."),
        ),
        (
            "sub/secret.csv",
            "sub/secret.csv isn't a valid import file name.".to_string(),
        ),
        (
            "..\\secret.csv",
            "..\\secret.csv isn't a valid import file name.".to_string(),
        ),
        (
            "link.csv",
            "link.csv isn't a valid import file name.".to_string(),
        ),
        ("binary.csv", "binary.csv isn't a CSV file.".to_string()),
        ("latin1.csv", "latin1.csv isn't a CSV file.".to_string()),
        (
            "missing.csv",
            "missing.csv isn't a valid import file name.".to_string(),
        ),
    ] {
        let reply = queue_import(&app, &f, "ListA", body(name)).await;
        assert_errors(&reply, &[message.as_str()]);
    }
    assert_eq!(list_size(&app, "ListA").await, 0, "nothing was imported");

    // The rest of the request's messages, in order.
    assert_errors(
        &queue_import(
            &app,
            &f,
            "a%20b",
            json!({"FileType": "xls", "ImportMappingType": "ByMagic",
            "ShortCode": "88976"}),
        )
        .await,
        &[
            "List id a b isn't valid.",
            "File name can't be blank.",
            "xls isn't a valid file type.",
            "ByMagic isn't a valid import mapping type.",
            "FieldMaps can't be empty.",
            "Keyword can't be blank when ShortCode is given.",
        ],
    );
    assert_errors(
        &queue_import(
            &app,
            &f,
            "Nope",
            json!({"FileName": "x.csv", "ImportMappingType": "MapByHeader",
            "FieldMaps": [{"Destination": "FirstName"}], "ShortCode": "12345", "Keyword": "JOIN"}),
        )
        .await,
        &[
            "List Nope isn't valid for the client.",
            "MapByHeader needs IsFirstRowHeader to be true.",
            "The field map of FirstName must have a source when mapping by header.",
            "FieldMaps must map _MobileNumber.",
            "Short code 12345 isn't valid for the client.",
        ],
    );
}

#[tokio::test]
async fn refresh_list_and_its_status() {
    let app = spawn_app().await;
    let f = fixture(&app, "Acme").await;
    app.clock.advance(90_000);
    import_contacts(
        &app,
        "Acme",
        "ListB",
        json!([{"mobileNumber": "15555555510"}]),
        false,
    )
    .await;
    let r = app
        .sms(
            Method::POST,
            "/sms/v1/contacts/refreshList/listb",
            &f.token,
            &Value::Null,
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let token = r.body["tokenId"].as_str().expect("token").to_string();
    assert_eq!(
        r.body,
        json!({"tokenId": token, "lastPublishDate": "2026-11-26T10:01:30.000"})
    );
    let s = app
        .sms(
            Method::GET,
            &format!("/sms/v1/contacts/refreshList/ListB/status/{token}"),
            &f.token,
            &Value::Null,
        )
        .await;
    assert_eq!(
        s.body,
        json!({"tokenId": token, "publishDate": "2026-11-26T10:01:30.000"})
    );
    let wrong = app
        .sms(
            Method::GET,
            &format!("/sms/v1/contacts/refreshList/ListA/status/{token}"),
            &f.token,
            &Value::Null,
        )
        .await;
    let expected = format!("TokenId {token} isn't valid for ListId ListA.");
    assert_errors(&wrong, &[expected.as_str()]);
    let r = app
        .sms(
            Method::POST,
            "/sms/v1/contacts/refreshList/Nope",
            &f.token,
            &Value::Null,
        )
        .await;
    assert_errors(&r, &["List Nope isn't valid for the client."]);
}

#[tokio::test]
async fn delivery_report_writes_one_row_per_recipient_into_the_reports_directory() {
    let app = spawn_app().await;
    let f = fixture(&app, "Acme").await;
    import_contacts(
        &app,
        "Acme",
        &f.list_a,
        json!([{"mobileNumber": "15555555510"}, {"mobileNumber": "15555550000"}]),
        true,
    )
    .await;
    let send = assert_accepted(&app.send_list(&f.token, &f.message, &json!({})).await);
    run_engine(&app).await;
    let path = format!("/sms/v1/messageList/{}/deliveryReport/{send}", f.message);
    let r = app
        .sms(
            Method::POST,
            &path,
            &f.token,
            &json!({"filename": "report.csv"}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(r.body, json!({"tokenId": send, "filename": "report.csv"}));
    let file = app
        .data_dir()
        .join("reports")
        .join("Acme")
        .join("report.csv");
    // The report is a job the engine runs: written once the engine is idle.
    assert!(!file.exists(), "written before the engine ran");
    run_engine(&app).await;
    assert!(file.exists(), "report not written");
    let text = std::fs::read_to_string(&file).expect("report");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "mobileNumber,standardStatusCode,description,date");
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[1].starts_with("15555550000,4500,Undeliverable,2026-11-26T10:00:00"),
        "{text}"
    );
    assert!(
        lines[2].starts_with("15555555510,4000,Delivered to handset,"),
        "{text}"
    );

    let again = app
        .sms(
            Method::POST,
            &path,
            &f.token,
            &json!({"filename": "report.csv"}),
        )
        .await;
    assert_eq!(again.status, 409);
    assert_eq!(
        again.body,
        json!({"errors": ["Report file report.csv already exists."]})
    );
    for bad in ["../x.csv", "a/b.csv", "..", "c:\\x.csv"] {
        let r = app
            .sms(Method::POST, &path, &f.token, &json!({"filename": bad}))
            .await;
        let expected = format!("{bad} isn't a valid report file name.");
        assert_errors(&r, &[expected.as_str()]);
    }
    let r = app.sms(Method::POST, &path, &f.token, &json!({})).await;
    assert_errors(&r, &["File name can't be blank."]);
    let r = app
        .sms(
            Method::POST,
            &format!("/sms/v1/messageList/{}/deliveryReport/a%20b", f.message),
            &f.token,
            &json!({"filename": "y.csv"}),
        )
        .await;
    assert_errors(&r, &["Token id a b isn't valid."]);
    assert!(!app.data_dir().join("x.csv").exists());
}

//! `tidings export` / `tidings import` (the real binary): every table of the schema round-trips,
//! and the imported installation behaves like the original. The target database is the one the
//! suite runs on (PostgreSQL when `TIDINGS_TEST_DATABASE_URL` is set, SQLite otherwise); the source
//! is always SQLite, the embedded default an installation starts on.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};

/// An export file: its header's tables and its rows grouped by table (each table's rows sorted,
/// so two exports compare as multisets).
struct Export {
    tables: Vec<String>,
    rows: BTreeMap<String, Vec<String>>,
}

fn read_export(path: &Path) -> Export {
    let text = std::fs::read_to_string(path).expect("read export");
    let mut lines = text.lines();
    let header: Value = serde_json::from_str(lines.next().expect("header")).expect("header json");
    assert_eq!(header["tidings_export"], 1, "{header}");
    let tables: Vec<String> = header["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .map(|t| t.as_str().expect("table name").to_string())
        .collect();
    let mut rows: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut count = 0u64;
    let mut end = None;
    for line in lines {
        let v: Value = serde_json::from_str(line).expect("line json");
        if v["end"] == true {
            end = v["rows"].as_u64();
            continue;
        }
        assert!(end.is_none(), "a row after the end mark");
        let table = v["table"].as_str().expect("table").to_string();
        assert!(tables.contains(&table), "row of unlisted table {table}");
        rows.entry(table).or_default().push(v["row"].to_string());
        count += 1;
    }
    assert_eq!(end, Some(count), "the end mark counts the rows");
    for r in rows.values_mut() {
        r.sort();
    }
    Export { tables, rows }
}

/// Puts at least one row in every table: accounts, a revoked and a live client with a token,
/// codes, keywords, subscriptions, messages, lists and contacts, a finished send with its
/// recipients and outbox, a canceled scheduled send, inbound texts (a STOP's opt-out of the code,
/// a queueMO's batch texts).
async fn populate(app: &TestApp) -> Fixture {
    let fx = fixture(app, "Acme").await;
    let other = fixture(app, "Globex").await;
    let revoked = app
        .admin(
            Method::DELETE,
            &format!(
                "/admin/v1/accounts/{}/clients/{}",
                other.account, other.client_id
            ),
            Value::Null,
        )
        .await;
    assert!(revoked.status.is_success(), "{:?}", revoked.body);
    import_contacts(
        app,
        &fx.account,
        &fx.list_a,
        json!([
            {"mobileNumber": "15555550100", "attributes": {"FirstName": "Ann"}},
            {"mobileNumber": "15555550101", "attributes": {"FirstName": "Bob"}},
            {"mobileNumber": "15555550102", "attributes": {"FirstName": "Cé"}},
            {"mobileNumber": "15555550103"}
        ]),
        true,
    )
    .await;
    import_contacts(
        app,
        &fx.account,
        &fx.exclusion,
        json!([{"mobileNumber": "15555550103"}]),
        true,
    )
    .await;
    opt_out(app, &fx.account, "15555550102").await;
    let sent = assert_accepted(&app.send_list(&fx.token, &fx.message, &json!({})).await);
    let later = assert_accepted(
        &app.send_list(
            &fx.token,
            &fx.message,
            &json!({"sendTime": "2026-12-24 09:00", "OverrideMessageText": true, "MessageText": "Later"}),
        )
        .await,
    );
    run_engine(app).await;
    assert_eq!(cancel(app, &later).await.status, 200);
    assert_eq!(outbox_of(app, &sent).await.len(), 2);
    app.engine
        .inbound(store::InboundText {
            carrier: "simulator".into(),
            from: "15555550100".into(),
            to: fx.code.clone(),
            text: "JOIN".into(),
            received_at: NOW_MS,
        })
        .await
        .expect("inbound");
    // A STOP from a number on no list: its opt-out of the code.
    app.engine
        .inbound(store::InboundText {
            carrier: "simulator".into(),
            from: "15555550109".into(),
            to: fx.code.clone(),
            text: "STOP".into(),
            received_at: NOW_MS,
        })
        .await
        .expect("inbound");
    // API.md §6: a messageContact send (its numbers), a queueMO (linked inbound texts and the
    // send of its replies; two numbers, so their text and their replies' are stored once as
    // batch texts) and a refreshList (a list job).
    assert_accepted(
        &app.sms(
            Method::POST,
            &format!("/sms/v1/messageContact/{}/send", fx.message),
            &fx.token,
            &json!({"mobileNumbers": ["15555550100"]}),
        )
        .await,
    );
    let mo = app
        .sms(
            Method::POST,
            "/sms/v1/queueMO",
            &fx.token,
            &json!({"mobileNumbers": ["15555550101", "15555550104"], "shortCode": fx.code,
                    "messageText": "HELP"}),
        )
        .await;
    assert_eq!(mo.status, 202, "{}", mo.body);
    let refresh = app
        .sms(
            Method::POST,
            &format!("/sms/v1/contacts/refreshList/{}", fx.list_a),
            &fx.token,
            &Value::Null,
        )
        .await;
    assert_eq!(refresh.status, 202, "{}", refresh.body);
    // API.md §9: a send definition, and transactional messages: one delivered, one NotSent (an
    // opted-out number) — their messages and events, and the account's event sequence. The
    // import loads the events as they were (its triggers do not fire for loaded rows).
    let definition = app
        .sms(
            Method::POST,
            "/messaging/v1/sms/definitions",
            &fx.token,
            &json!({"definitionKey": "reset", "name": "reset",
                    "content": {"message": "Code %%code%%"},
                    "subscriptions": {"shortCode": fx.code, "keyword": "JOIN"}}),
        )
        .await;
    assert_eq!(definition.status, 201, "{}", definition.body);
    let tx = app
        .sms(
            Method::POST,
            "/messaging/v1/sms/messages",
            &fx.token,
            &json!({"definitionKey": "reset", "recipients": [
                {"to": "15555550100", "contactKey": "ann", "attributes": {"code": "1"}},
                {"to": "15555550109", "contactKey": "stopped", "attributes": {"code": "2"}}]}),
        )
        .await;
    assert_eq!(tx.status, 202, "{}", tx.body);
    assert_eq!(tx.body["errorcode"], 0, "{}", tx.body);
    run_engine(app).await;
    // Reading the notSent listing numbers the account's events (its event sequence).
    let not_sent = app
        .sms(
            Method::GET,
            "/messaging/v1/sms/messages?type=notSent",
            &fx.token,
            &Value::Null,
        )
        .await;
    assert_eq!(not_sent.status, 200, "{}", not_sent.body);
    assert_eq!(
        not_sent.body["count"], 1,
        "the opted-out number: {}",
        not_sent.body
    );
    fx
}

/// The outbox lines of one send as (from, to, text), sorted.
async fn texts_of(app: &TestApp, token: &str) -> Vec<(String, String, String)> {
    let mut t: Vec<_> = outbox_of(app, token)
        .await
        .iter()
        .map(|i| {
            (
                i["from"].to_string(),
                i["to"].to_string(),
                i["text"].to_string(),
            )
        })
        .collect();
    t.sort();
    t
}

#[tokio::test]
async fn every_table_round_trips_and_the_imported_installation_sends_the_same() {
    let dir = tempfile::tempdir().expect("temp dir");
    let source_url = format!("sqlite://{}", dir.path().join("source.db").display());
    let source = spawn_app_with({
        let url = source_url.clone();
        move |f| f.database_url = Some(url)
    })
    .await;
    let fx = populate(&source).await;

    // Export the source: every table of the schema must hold rows, so a table added later
    // fails here until `populate` fills it (and the round trip below covers it).
    let first = dir.path().join("first.jsonl");
    run_tidings(
        &source_url,
        dir.path(),
        &["export", "--output", first.to_str().expect("path")],
    )
    .expect("export the source");
    let exported = read_export(&first);
    assert!(exported.tables.len() >= 14, "{:?}", exported.tables);
    for table in &exported.tables {
        assert!(
            exported.rows.get(table).is_some_and(|r| !r.is_empty()),
            "table {table} has no rows: extend `populate` so it round-trips"
        );
    }

    // Import into the suite's database, export that again: the same rows, table by table.
    let target = spawn_app_with(|_| {}).await;
    let target_url = target.database_url.clone();
    // The server stops; its (PostgreSQL) database stays for the import.
    let _target_database = target.into_database();
    let imported = run_tidings(
        &target_url,
        dir.path(),
        &["import", "--input", first.to_str().expect("path")],
    )
    .expect("import into an empty database");
    let total: usize = exported.rows.values().map(Vec::len).sum();
    assert_eq!(
        serde_json::from_str::<Value>(&imported).expect("json")["imported"],
        json!(total)
    );
    let second = dir.path().join("second.jsonl");
    run_tidings(
        &target_url,
        dir.path(),
        &["export", "--output", second.to_str().expect("path")],
    )
    .expect("export the target");
    let reexported = read_export(&second);
    let mut source_tables = exported.tables.clone();
    source_tables.sort();
    let mut target_tables = reexported.tables.clone();
    target_tables.sort();
    assert_eq!(
        source_tables, target_tables,
        "both backends have the same tables"
    );
    for table in &exported.tables {
        assert_eq!(
            exported.rows.get(table),
            reexported.rows.get(table),
            "table {table} round-trips row for row"
        );
    }

    // Importing again is refused: the target is no longer empty, and nothing changes.
    let refused = run_tidings(
        &target_url,
        dir.path(),
        &["import", "--input", first.to_str().expect("path")],
    )
    .expect_err("a second import must fail");
    assert!(refused.contains("already holds data"), "{refused}");

    // The same send on the original and on the imported installation: the same texts.
    let copy = spawn_app_with({
        let url = target_url.clone();
        move |f| f.database_url = Some(url)
    })
    .await;
    // The token minted on the source was imported with it.
    let body = json!({"OverrideMessageText": true, "MessageText": "Again, %%FirstName%%"});
    let on_source = assert_accepted(&source.send_list(&fx.token, &fx.message, &body).await);
    let on_copy = assert_accepted(&copy.send_list(&fx.token, &fx.message, &body).await);
    run_engine(&source).await;
    run_engine(&copy).await;
    let a = texts_of(&source, &on_source).await;
    let b = texts_of(&copy, &on_copy).await;
    assert_eq!(a.len(), 2, "{a:?}");
    assert_eq!(a, b);
}

#[tokio::test]
async fn a_truncated_or_corrupt_export_imports_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let source_url = format!("sqlite://{}", dir.path().join("source.db").display());
    let source = spawn_app_with({
        let url = source_url.clone();
        move |f| f.database_url = Some(url)
    })
    .await;
    fixture(&source, "Acme").await;
    let full = dir.path().join("full.jsonl");
    run_tidings(
        &source_url,
        dir.path(),
        &["export", "--output", full.to_str().expect("path")],
    )
    .expect("export");
    let text = std::fs::read_to_string(&full).expect("read");
    let lines: Vec<&str> = text.lines().collect();

    let cases: Vec<(&str, String)> = vec![
        ("truncated", lines[..lines.len() - 1].join("\n")),
        ("count mismatch", {
            let mut l = lines[..lines.len() - 2].to_vec();
            l.push(lines[lines.len() - 1]);
            l.join("\n")
        }),
        ("corrupt line", {
            let mut l = lines.clone();
            l[2] = "{\"table\": \"accounts\", \"row\": ";
            l.join("\n")
        }),
        ("unknown column", {
            let mut l = lines.clone();
            let mut v: Value = serde_json::from_str(l[1]).expect("row");
            v["row"]["no_such_column"] = json!(1);
            let s = v.to_string();
            l[1] = Box::leak(s.into_boxed_str());
            l.join("\n")
        }),
        ("not an export", "hello".to_string()),
    ];
    for (what, content) in cases {
        let file = dir.path().join("bad.jsonl");
        std::fs::write(&file, content).expect("write");
        let target = spawn_app_with(|_| {}).await;
        let url = target.database_url.clone();
        let err = run_tidings(
            &url,
            dir.path(),
            &["import", "--input", file.to_str().expect("path")],
        )
        .expect_err(what);
        assert!(!err.trim().is_empty(), "{what}: an error is reported");
        // Nothing was loaded: the database is still empty, so the good file imports.
        run_tidings(
            &url,
            dir.path(),
            &["import", "--input", full.to_str().expect("path")],
        )
        .unwrap_or_else(|e| panic!("{what}: the database was left non-empty: {e}"));
        drop(target);
    }
}

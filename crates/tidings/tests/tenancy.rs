//! Tenants kept apart (API.md §6, §4): each account imports only from its own folder
//! `imports/<accountId>/` (one message for a missing file and another account's), files left
//! directly in `imports/` and symlinks are refused, reports go to `reports/<accountId>/` and
//! collide within an account only, report names are bounded, and an idempotency key belongs to
//! one API client acting for one account. Over HTTP against the in-process server, and against
//! the real `tidings serve` for what happens at start.

mod common;

use std::path::{Path, PathBuf};

use common::process::Site;
use common::{assert_accepted, assert_errors, fixture, import_contacts, run_engine, spawn_app};
use common::{Fixture, Reply, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// A queueImport body mapping the `mobileNumber` column of `file`.
fn import_body(file: &str) -> Value {
    json!({"FileName": file, "ImportMappingType": "MapByHeader", "IsFirstRowHeader": true,
           "FieldMaps": [{"Destination": "_MobileNumber", "Source": "mobileNumber"}]})
}

async fn queue_import(app: &TestApp, f: &Fixture, file: &str) -> Reply {
    app.sms(
        Method::POST,
        &format!("/sms/v1/contacts/queueImport/{}", f.list_a),
        &f.token,
        &import_body(file),
    )
    .await
}

/// Writes `contents` to `<data dir>/<relative>`, creating folders on the way.
fn write_file(app: &TestApp, relative: &str, contents: &str) -> PathBuf {
    let path = app.data_dir().join(relative);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("folders");
    std::fs::write(&path, contents).expect("write file");
    path
}

async fn list_size(app: &TestApp, account: &str, list: &str) -> i64 {
    app.admin_ok(
        Method::GET,
        &format!("/admin/v1/accounts/{account}/lists/{list}"),
        Value::Null,
    )
    .await["size"]
        .as_i64()
        .expect("size")
}

/// Drives the engine (which runs the import as a job) to idle; the import's final status.
async fn finished_import(app: &TestApp, f: &Fixture, token: &str) -> Value {
    common::finished_import(app, &f.token, &f.list_a, token).await
}

#[cfg(unix)]
fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test]
async fn an_account_cannot_import_another_accounts_file_and_is_told_as_for_a_missing_one() {
    let app = spawn_app().await;
    let acme = fixture(&app, "Acme").await;
    let beta = fixture(&app, "Beta").await;
    write_file(
        &app,
        "imports/Acme/people.csv",
        "mobileNumber\n15555555510\n15555555511\n",
    );

    // Beta names Acme's file: the same answer as for a file that exists nowhere.
    assert_errors(
        &queue_import(&app, &beta, "people.csv").await,
        &["people.csv isn't a valid import file name."],
    );
    assert_errors(
        &queue_import(&app, &beta, "nowhere.csv").await,
        &["nowhere.csv isn't a valid import file name."],
    );
    assert_errors(
        &queue_import(&app, &beta, "../Acme/people.csv").await,
        &["../Acme/people.csv isn't a valid import file name."],
    );
    assert_eq!(
        list_size(&app, "Beta", &beta.list_a).await,
        0,
        "nothing read"
    );

    // Acme imports its own file.
    let token = assert_accepted(&queue_import(&app, &acme, "people.csv").await);
    let status = finished_import(&app, &acme, &token).await;
    assert_eq!(
        (status["status"].clone(), status["inserted"].clone()),
        (json!("Completed"), json!(2)),
        "{status}"
    );
    assert_eq!(list_size(&app, "Acme", &acme.list_a).await, 2);
    assert_eq!(list_size(&app, "Beta", &beta.list_a).await, 0);
}

#[tokio::test]
async fn files_directly_in_the_imports_folder_are_not_read() {
    let app = spawn_app().await;
    let f = fixture(&app, "Acme").await;
    write_file(&app, "imports/old.csv", "mobileNumber\n15555555510\n");
    assert_errors(
        &queue_import(&app, &f, "old.csv").await,
        &["old.csv isn't a valid import file name."],
    );
    assert_errors(
        &queue_import(&app, &f, "../old.csv").await,
        &["../old.csv isn't a valid import file name."],
    );
    assert_eq!(list_size(&app, "Acme", &f.list_a).await, 0);
}

#[cfg(unix)]
#[tokio::test]
async fn a_symlink_in_the_account_folder_is_refused_whatever_it_points_to() {
    let app = spawn_app().await;
    let acme = fixture(&app, "Acme").await;
    fixture(&app, "Beta").await;
    let theirs = write_file(
        &app,
        "imports/Beta/secret.csv",
        "mobileNumber\n15555555510\n",
    );
    let own = write_file(&app, "imports/Acme/own.csv", "mobileNumber\n15555555511\n");
    let folder = app.data_dir().join("imports").join("Acme");
    std::os::unix::fs::symlink(&theirs, folder.join("theirs.csv")).expect("symlink");
    std::os::unix::fs::symlink(&own, folder.join("alias.csv")).expect("symlink");
    for name in ["theirs.csv", "alias.csv"] {
        let expected = format!("{name} isn't a valid import file name.");
        assert_errors(&queue_import(&app, &acme, name).await, &[expected.as_str()]);
    }
    assert_eq!(list_size(&app, "Acme", &acme.list_a).await, 0);
}

/// One accepted and finished send of the fixture's message in `f`'s account.
async fn finished_send(app: &TestApp, f: &Fixture) -> String {
    import_contacts(
        app,
        &f.account,
        &f.list_a,
        json!([{"mobileNumber": "15555555510"}]),
        true,
    )
    .await;
    let token = assert_accepted(&app.send_list(&f.token, &f.message, &json!({})).await);
    run_engine(app).await;
    token
}

async fn delivery_report(app: &TestApp, f: &Fixture, send: &str, name: &str) -> Reply {
    app.sms(
        Method::POST,
        &format!("/sms/v1/messageList/{}/deliveryReport/{send}", f.message),
        &f.token,
        &json!({ "filename": name }),
    )
    .await
}

/// Drives the engine (which writes reports as jobs) to idle; the report's text.
async fn written(app: &TestApp, path: &Path) -> String {
    run_engine(app).await;
    assert!(path.exists(), "{} not written", path.display());
    std::fs::read_to_string(path).expect("report")
}

#[tokio::test]
async fn report_names_collide_within_an_account_only_and_files_are_private() {
    let app = spawn_app().await;
    let acme = fixture(&app, "Acme").await;
    let beta = fixture(&app, "Beta").await;
    let acme_send = finished_send(&app, &acme).await;
    let beta_send = finished_send(&app, &beta).await;

    for (f, send) in [(&acme, &acme_send), (&beta, &beta_send)] {
        let r = delivery_report(&app, f, send, "report.csv").await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}: {}", f.account, r.body);
        assert_eq!(r.body, json!({"tokenId": send, "filename": "report.csv"}));
    }
    for account in ["Acme", "Beta"] {
        let path = app
            .data_dir()
            .join("reports")
            .join(account)
            .join("report.csv");
        let text = written(&app, &path).await;
        assert!(text.starts_with("mobileNumber,standardStatusCode,description,date\n"));
        assert!(
            text.contains("15555555510,4000,Delivered to handset,"),
            "{text}"
        );
        #[cfg(unix)]
        {
            assert_eq!(mode_of(&path), 0o600, "{}", path.display());
            assert_eq!(mode_of(path.parent().expect("folder")), 0o700);
        }
    }
    assert!(!app.data_dir().join("reports").join("report.csv").exists());

    let again = delivery_report(&app, &acme, &acme_send, "report.csv").await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(
        again.body,
        json!({"errors": ["Report file report.csv already exists."]})
    );
}

#[tokio::test]
async fn report_names_over_200_bytes_are_refused_with_400() {
    let app = spawn_app().await;
    let f = fixture(&app, "Acme").await;
    let send = finished_send(&app, &f).await;
    let long = format!("{}.csv", "r".repeat(246));
    assert_eq!(long.len(), 250);
    let expected = format!("{long} isn't a valid report file name.");
    assert_errors(
        &delivery_report(&app, &f, &send, &long).await,
        &[expected.as_str()],
    );
    // 201 bytes in 101 characters (two-byte é).
    let wide = format!("{}x", "é".repeat(100));
    let expected = format!("{wide} isn't a valid report file name.");
    assert_errors(
        &delivery_report(&app, &f, &send, &wide).await,
        &[expected.as_str()],
    );
    // Exactly 200 bytes is a valid name.
    let longest = format!("{}.csv", "r".repeat(196));
    let r = delivery_report(&app, &f, &send, &longest).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    written(
        &app,
        &app.data_dir().join("reports").join("Acme").join(&longest),
    )
    .await;
}

/// A send with an `Idempotency-Key`.
async fn keyed(app: &TestApp, token: &str, path: &str, key: &str, body: &Value) -> Reply {
    app.request(
        Method::POST,
        path,
        Some(token),
        Some(body.to_string().into_bytes()),
        &[
            ("content-type", "application/json"),
            ("idempotency-key", key),
        ],
    )
    .await
}

#[tokio::test]
async fn an_idempotency_key_belongs_to_one_client_acting_for_one_account() {
    let app = spawn_app().await;
    let acme = fixture(&app, "Acme").await;
    let beta = fixture(&app, "Beta").await;
    // One client of Acme, granted Beta too, with a token for each account.
    let (client, secret) = app
        .create_client("Acme", json!({"accounts": ["Beta"]}))
        .await;
    let for_acme = app.token(&client, &secret).await;
    let for_beta = {
        let r = app
            .token_json(
                &json!({"grant_type": "client_credentials", "client_id": client,
                                "client_secret": secret, "account_id": "Beta"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.body["access_token"].as_str().expect("token").to_string()
    };
    for f in [&acme, &beta] {
        import_contacts(
            &app,
            &f.account,
            &f.list_a,
            json!([{"mobileNumber": "15555555510"}]),
            true,
        )
        .await;
    }
    let list_path = format!("/sms/v1/messageList/{}/send", acme.message);
    let body = json!({});
    let in_acme = assert_accepted(&keyed(&app, &for_acme, &list_path, "key-1", &body).await);
    let in_beta = assert_accepted(&keyed(&app, &for_beta, &list_path, "key-1", &body).await);
    assert_ne!(in_acme, in_beta, "Beta's send is its own, not Acme's token");
    // Each account's retry answers its own send; nothing more is recorded.
    assert_eq!(
        assert_accepted(&keyed(&app, &for_beta, &list_path, "key-1", &body).await),
        in_beta
    );
    assert_eq!(
        assert_accepted(&keyed(&app, &for_acme, &list_path, "key-1", &body).await),
        in_acme
    );
    assert_eq!(app.send_count("Acme").await, 1);
    assert_eq!(app.send_count("Beta").await, 1);
    // And Beta's send really goes out in Beta.
    run_engine(&app).await;
    let status = app.deliveries(&for_beta, &beta.message, &in_beta).await;
    assert_eq!(status.status, StatusCode::OK, "{}", status.body);
    assert_eq!(status.body["count"], 1, "{}", status.body);
    assert_eq!(status.body["status"], "Finished", "{}", status.body);

    // messageContact keys follow the same rule.
    let contact_path = format!("/sms/v1/messageContact/{}/send", acme.message);
    let body = json!({"mobileNumbers": ["15555555510"]});
    let c_acme = assert_accepted(&keyed(&app, &for_acme, &contact_path, "key-2", &body).await);
    let c_beta = assert_accepted(&keyed(&app, &for_beta, &contact_path, "key-2", &body).await);
    assert_ne!(c_acme, c_beta);
    assert_eq!(app.send_count("Acme").await, 2);
    assert_eq!(app.send_count("Beta").await, 2);
    // A different body under a used key is still a conflict within the account.
    let other = json!({"mobileNumbers": ["15555555511"]});
    let r = keyed(&app, &for_beta, &contact_path, "key-2", &other).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(
        r.body,
        json!({"errors": ["Idempotency-Key was already used with a different request."]})
    );
}

#[tokio::test]
async fn creating_or_looking_up_an_account_makes_its_private_folders() {
    let app = spawn_app().await;
    fixture(&app, "Acme").await;
    for dir in ["imports/Acme", "reports/Acme"] {
        let path = app.data_dir().join(dir);
        assert!(path.is_dir(), "{dir} made with the account");
        #[cfg(unix)]
        assert_eq!(mode_of(&path), 0o700, "{dir}");
    }
}

const ADMIN_TOKEN: &str = "tenancy-admin-token-0123456789";

#[tokio::test]
async fn serve_makes_every_accounts_folders_at_start_and_warns_once_about_loose_files() {
    let http = reqwest::Client::new();
    let mut site = Site::new(
        "[[carriers]]\nname = \"simulator\"\ntype = \"simulator\"\n",
        ADMIN_TOKEN,
    );
    let first = site.start(&http).await;
    for id in ["Acme", "Beta"] {
        first
            .admin(&http, "/admin/v1/accounts", json!({"id": id, "name": id}))
            .await;
    }
    assert_eq!(first.terminate().await.code(), Some(0));
    // Another node's data directory: no folders yet, and a file left where imports used to be.
    let data = site.data_dir();
    for id in ["Acme", "Beta"] {
        std::fs::remove_dir_all(data.join("imports").join(id)).expect("remove");
        std::fs::remove_dir_all(data.join("reports").join(id)).expect("remove");
    }
    std::fs::write(data.join("imports").join("old.csv"), "mobileNumber\n").expect("loose");

    let second = site.start(&http).await;
    for id in ["Acme", "Beta"] {
        for kind in ["imports", "reports"] {
            let path = data.join(kind).join(id);
            assert!(path.is_dir(), "{} made at start", path.display());
            #[cfg(unix)]
            assert_eq!(mode_of(&path), 0o700, "{}", path.display());
        }
    }
    let log = second.log_text();
    let warnings = log
        .lines()
        .filter(|l| l.contains("files directly in the imports folder are no longer read"))
        .count();
    assert_eq!(warnings, 1, "one warning at start; log:\n{log}");
    assert_eq!(second.terminate().await.code(), Some(0));
}

//! Editing codes and keywords through the admin API (`PATCH .../codes/{id}`,
//! `PATCH .../keywords/{id}`), what the web console's edit forms run: only the given fields
//! change, bad values are refused with every message, unknown IDs are 404, and the replies the
//! engine sends afterwards are the new ones. The API.md §1 limits of the admin bodies (texts,
//! contact keys and attributes, contacts per JSON import), which the console and CLI share.

mod common;

use common::{assert_errors, fixture, outbox, run_engine, spawn_app, CODE};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn type_errors_come_before_the_endpoints_own_messages() {
    let app = spawn_app().await;
    let fx = fixture(&app, "ordering").await;
    let base = format!("/admin/v1/accounts/{}", fx.account);
    // `code` is read and checked before `countryCode`; its type error still comes first.
    let r = app
        .admin(
            Method::POST,
            &format!("{base}/codes"),
            json!({"code": "bad!", "countryCode": 7, "type": "medium"}),
        )
        .await;
    assert_errors(
        &r,
        &[
            "countryCode must be a string.",
            "Code bad! isn't valid.",
            "medium isn't a valid code type.",
        ],
    );
    let r = app
        .admin(
            Method::POST,
            &format!("{base}/keywords"),
            json!({"code": CODE, "keyword": "TWO WORDS", "doubleOptIn": "perhaps"}),
        )
        .await;
    assert_errors(
        &r,
        &[
            "perhaps isn't a valid value for doubleOptIn.",
            "Keyword TWO WORDS must be a single word.",
        ],
    );
}

#[tokio::test]
async fn a_code_and_a_keyword_are_edited_and_the_replies_follow() {
    let app = spawn_app().await;
    let fx = fixture(&app, "editing").await;
    let base = format!("/admin/v1/accounts/{}", fx.account);
    let code = app
        .admin_ok(Method::GET, &format!("{base}/codes/{CODE}"), json!(null))
        .await;
    let code_path = format!("{base}/codes/{}", code["id"].as_str().expect("id"));

    // Only the fields given change; an empty text goes back to the default reply.
    let edited = app
        .admin_ok(
            Method::PATCH,
            &code_path,
            json!({"type": "LONG", "helpText": "Text STOP to stop, HELP for help.",
                   "optOutText": "Bye now."}),
        )
        .await;
    assert_eq!(edited["type"], "long");
    assert_eq!(edited["helpText"], "Text STOP to stop, HELP for help.");
    assert_eq!(edited["optOutText"], "Bye now.");
    assert_eq!(edited["code"], CODE);
    assert_eq!(edited["carrier"], code["carrier"]);
    assert_eq!(edited["countryCode"], code["countryCode"]);
    assert_eq!(edited["id"], code["id"]);
    let cleared = app
        .admin_ok(Method::PATCH, &code_path, json!({"optOutText": ""}))
        .await;
    assert_eq!(
        cleared["optOutText"], code["optOutText"],
        "the default again"
    );
    assert_eq!(cleared["helpText"], "Text STOP to stop, HELP for help.");

    // Every bad value is reported, and nothing changes.
    let refused = app
        .admin(
            Method::PATCH,
            &code_path,
            json!({"code": "12345", "type": "medium", "carrier": "nowhere", "helpText": 7}),
        )
        .await;
    assert_errors(
        &refused,
        &[
            "helpText must be a string.",
            "The code string can't be changed (12345); create a new code instead.",
            "medium isn't a valid code type.",
            "Carrier nowhere isn't configured.",
        ],
    );
    let unchanged = app.admin_ok(Method::GET, &code_path, json!(null)).await;
    assert_eq!(unchanged, cleared);
    let missing = app
        .admin(
            Method::PATCH,
            &format!("{base}/codes/nosuchcode"),
            json!({}),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.body);

    // The keyword of the fixture (JOIN, "Welcome"): a new reply, then double opt-in.
    let keywords = app
        .admin_ok(Method::GET, &format!("{base}/keywords"), json!(null))
        .await;
    let keyword_id = keywords["items"][0]["id"].as_str().expect("id").to_string();
    let keyword_path = format!("{base}/keywords/{keyword_id}");
    let refused = app
        .admin(
            Method::PATCH,
            &keyword_path,
            json!({"keyword": "QUIT", "doubleOptIn": true}),
        )
        .await;
    assert_errors(
        &refused,
        &[
            "The keyword of a keyword can't be changed (QUIT); create a new keyword instead.",
            "confirmText is required when doubleOptIn is true.",
        ],
    );
    let edited = app
        .admin_ok(
            Method::PATCH,
            &keyword_path,
            json!({"keyword": "join", "response": "Welcome aboard!"}),
        )
        .await;
    assert_eq!(edited["response"], "Welcome aboard!");
    assert_eq!(edited["keyword"], "JOIN");
    assert_eq!(edited["doubleOptIn"], false);

    // The engine replies with the new texts.
    let mo = |text: &'static str| {
        let app = &app;
        let token = fx.token.clone();
        async move {
            let r = app
                .sms(
                    Method::POST,
                    "/sms/v1/queueMO",
                    &token,
                    &json!({"mobileNumbers": ["15555550190"], "shortCode": CODE,
                            "messageText": text}),
                )
                .await;
            assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
        }
    };
    mo("JOIN").await;
    mo("HELP").await;
    run_engine(&app).await;
    let texts: Vec<String> = outbox(&app)
        .await
        .iter()
        .map(|item| item["text"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        texts,
        vec![
            "Welcome aboard!".to_string(),
            "Text STOP to stop, HELP for help.".to_string()
        ]
    );
}

#[tokio::test]
async fn every_admin_text_over_1600_characters_is_refused_with_the_admin_field_name() {
    let app = spawn_app().await;
    let fx = fixture(&app, "limits").await;
    let base = format!("/admin/v1/accounts/{}", fx.account);
    let over = "€".repeat(1601);
    let at_limit = "😀".repeat(1600);
    let r = app
        .admin(
            Method::POST,
            &format!("{base}/codes"),
            json!({"code": "55555", "optOutText": over, "helpText": over}),
        )
        .await;
    assert_errors(
        &r,
        &[
            "optOutText can't be longer than 1600 characters.",
            "helpText can't be longer than 1600 characters.",
        ],
    );
    let r = app
        .admin(
            Method::POST,
            &format!("{base}/keywords"),
            json!({"code": CODE, "keyword": "LONG", "response": over, "doubleOptIn": true,
                   "confirmText": over}),
        )
        .await;
    assert_errors(
        &r,
        &[
            "response can't be longer than 1600 characters.",
            "confirmText can't be longer than 1600 characters.",
        ],
    );
    let r = app
        .admin(
            Method::POST,
            &format!("{base}/messages"),
            json!({"id": "Long", "code": CODE, "text": over}),
        )
        .await;
    assert_errors(&r, &["text can't be longer than 1600 characters."]);
    // PATCHes too, and nothing changes.
    let code_id = app
        .admin_ok(Method::GET, &format!("{base}/codes/{CODE}"), json!(null))
        .await["id"]
        .as_str()
        .expect("id")
        .to_string();
    let r = app
        .admin(
            Method::PATCH,
            &format!("{base}/codes/{code_id}"),
            json!({"helpText": over}),
        )
        .await;
    assert_errors(&r, &["helpText can't be longer than 1600 characters."]);
    let keywords = app
        .admin_ok(Method::GET, &format!("{base}/keywords"), json!(null))
        .await;
    let keyword_id = keywords["items"][0]["id"].as_str().expect("id").to_string();
    let r = app
        .admin(
            Method::PATCH,
            &format!("{base}/keywords/{keyword_id}"),
            json!({"response": over}),
        )
        .await;
    assert_errors(&r, &["response can't be longer than 1600 characters."]);
    let r = app
        .admin(
            Method::PATCH,
            &format!("{base}/messages/{}", fx.message),
            json!({"text": over}),
        )
        .await;
    assert_errors(&r, &["text can't be longer than 1600 characters."]);
    let message = app
        .admin_ok(
            Method::GET,
            &format!("{base}/messages/{}", fx.message),
            json!(null),
        )
        .await;
    assert_eq!(message["text"], "Hello %%FirstName%%");
    assert_eq!(
        app.admin(Method::GET, &format!("{base}/codes/55555"), json!(null))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // 1,600 characters (6,400 bytes) are accepted everywhere.
    app.admin_ok(
        Method::POST,
        &format!("{base}/codes"),
        json!({"code": "55555", "optOutText": at_limit, "helpText": at_limit}),
    )
    .await;
    app.admin_ok(
        Method::PATCH,
        &format!("{base}/keywords/{keyword_id}"),
        json!({"response": at_limit, "confirmText": at_limit}),
    )
    .await;
    let patched = app
        .admin_ok(
            Method::PATCH,
            &format!("{base}/messages/{}", fx.message),
            json!({"text": at_limit}),
        )
        .await;
    assert_eq!(patched["text"], at_limit.as_str());
}

#[tokio::test]
async fn contact_imports_reject_rows_with_over_long_keys_or_attributes_and_keep_the_rest() {
    let app = spawn_app().await;
    let fx = fixture(&app, "rows").await;
    let list = format!("/admin/v1/accounts/{}/lists/{}", fx.account, fx.list_a);
    let long_name = "N".repeat(256);
    let mut long_named = serde_json::Map::new();
    long_named.insert(long_name.clone(), json!("x"));
    let report = app
        .admin_ok(
            Method::POST,
            &format!("{list}/contacts"),
            json!({"contacts": [
                {"mobileNumber": "15555555510", "subscriberKey": "k".repeat(255),
                 "attributes": {"FirstName": "é".repeat(1600)}},
                {"mobileNumber": "15555555511", "SubscriberKey": "k".repeat(256)},
                {"mobileNumber": "15555555512", "attributes": {"FirstName": "é".repeat(1601)}},
                {"mobileNumber": "15555555513", "attributes": long_named},
            ]}),
        )
        .await;
    let name_message = format!("{long_name} can't be longer than 255 characters.");
    assert_eq!(
        report,
        json!({"added": 1, "updated": 0, "invalid": 3, "errors": [
            {"row": 2, "value": "15555555511",
             "reason": "SubscriberKey can't be longer than 255 characters."},
            {"row": 3, "value": "15555555512",
             "reason": "FirstName can't be longer than 1600 characters."},
            {"row": 4, "value": "15555555513", "reason": name_message},
        ]})
    );
    // The same rules in a CSV upload, the column named as the header spells it.
    let csv = format!(
        "mobileNumber,subscriberKey,City\n15555555520,{},Oslo\n15555555521,k,{}\n15555555522,k,Rome\n",
        "k".repeat(256),
        "a".repeat(1601)
    );
    let r = app
        .request(
            Method::POST,
            &format!("{list}/contacts"),
            Some(common::ADMIN_TOKEN),
            Some(csv.into_bytes()),
            &[("content-type", "text/csv")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        (r.body["added"].clone(), r.body["invalid"].clone()),
        (json!(1), json!(2))
    );
    assert_eq!(
        r.body["errors"][0]["reason"],
        "subscriberKey can't be longer than 255 characters."
    );
    assert_eq!(
        r.body["errors"][1]["reason"],
        "City can't be longer than 1600 characters."
    );
    // More than 5,000 contacts in one JSON body: refused whole (CSV uploads are streamed).
    let many: Vec<serde_json::Value> = (0..5_001)
        .map(|i| json!({"mobileNumber": format!("1555{:07}", i)}))
        .collect();
    let r = app
        .admin(
            Method::POST,
            &format!("{list}/contacts"),
            json!({"contacts": many}),
        )
        .await;
    assert_errors(&r, &["The count of contacts can't exceed 5000."]);
    let size = app.admin_ok(Method::GET, &list, json!(null)).await["size"].clone();
    assert_eq!(size, 2, "only the good rows of the two imports");
}

/// Runs `tidings <args>` on `database`; its JSON output, or its error output.
fn cli(
    database: &str,
    data_dir: &std::path::Path,
    args: &[&str],
) -> Result<serde_json::Value, String> {
    let out = common::run_tidings(database, data_dir, args)?;
    serde_json::from_str(&out).map_err(|e| e.to_string())
}

#[test]
fn the_cli_edits_codes_and_keywords() {
    let dir = tempfile::tempdir().expect("dir");
    let database = common::test_database(dir.path());
    let data = dir.path().join("data");
    let run = |args: &[&str]| {
        cli(&database.url, &data, args).unwrap_or_else(|e| panic!("tidings {args:?}: {e}"))
    };
    run(&["account", "create", "--name", "Cli", "--id", "cli"]);
    run(&["code", "create", "--account", "cli", "--code", "55555"]);
    let code = run(&[
        "code",
        "update",
        "--account",
        "cli",
        "--id",
        "55555",
        "--type",
        "long",
        "--help-text",
        "Text STOP to end.",
    ]);
    assert_eq!(code["type"], "long", "{code}");
    assert_eq!(code["helpText"], "Text STOP to end.", "{code}");
    assert_eq!(code["carrier"], "simulator", "{code}");
    let keyword = run(&[
        "keyword",
        "create",
        "--account",
        "cli",
        "--code",
        "55555",
        "--keyword",
        "GO",
    ]);
    let id = keyword["id"].as_str().expect("id").to_string();
    let keyword = run(&[
        "keyword",
        "update",
        "--account",
        "cli",
        "--id",
        &id,
        "--response",
        "Going!",
        "--double-opt-in",
        "true",
        "--confirm-text",
        "Reply Y.",
    ]);
    assert_eq!(keyword["response"], "Going!", "{keyword}");
    assert_eq!(keyword["doubleOptIn"], true, "{keyword}");
    let refused = cli(
        &database.url,
        &data,
        &[
            "code",
            "update",
            "--account",
            "cli",
            "--id",
            "55555",
            "--type",
            "medium",
        ],
    );
    let message = refused.expect_err("an invalid type is refused");
    assert!(
        message.contains("medium isn't a valid code type."),
        "{message}"
    );
}

#[test]
fn the_cli_refuses_a_message_text_over_1600_characters_and_makes_the_accounts_folders() {
    let dir = tempfile::tempdir().expect("dir");
    let database = common::test_database(dir.path());
    let data = dir.path().join("data");
    let run = |args: &[&str]| {
        cli(&database.url, &data, args).unwrap_or_else(|e| panic!("tidings {args:?}: {e}"))
    };
    run(&["account", "create", "--name", "Cli", "--id", "cli"]);
    // `account create` made the account's folders (API.md §6).
    assert!(data.join("imports").join("cli").is_dir());
    assert!(data.join("reports").join("cli").is_dir());
    run(&["code", "create", "--account", "cli", "--code", "55555"]);
    // The CLI's texts have the API's limit (API.md §1).
    let create = |text: &str| -> Vec<String> {
        [
            "message",
            "create",
            "--account",
            "cli",
            "--code",
            "55555",
            "--text",
            text,
        ]
        .iter()
        .map(|a| a.to_string())
        .collect()
    };
    let long = create(&"a".repeat(1601));
    let long: Vec<&str> = long.iter().map(String::as_str).collect();
    let message = cli(&database.url, &data, &long).expect_err("over 1,600 characters");
    assert!(
        message.contains("text can't be longer than 1600 characters."),
        "{message}"
    );
    let at_limit = create(&"a".repeat(1600));
    let at_limit: Vec<&str> = at_limit.iter().map(String::as_str).collect();
    let created = run(&at_limit);
    assert_eq!(
        created["text"].as_str().map(str::len),
        Some(1600),
        "{created}"
    );
}

/// `tidings definition …` (API.md §9): the definitions of `/messaging/v1/sms`, with that API's
/// rules and its error body.
#[test]
fn the_cli_manages_transactional_definitions() {
    let dir = tempfile::tempdir().expect("dir");
    let database = common::test_database(dir.path());
    let data = dir.path().join("data");
    let run = |args: &[&str]| {
        cli(&database.url, &data, args).unwrap_or_else(|e| panic!("tidings {args:?}: {e}"))
    };
    run(&["account", "create", "--name", "Tx", "--id", "tx"]);
    run(&["code", "create", "--account", "tx", "--code", "55556"]);
    run(&[
        "keyword",
        "create",
        "--account",
        "tx",
        "--code",
        "55556",
        "--keyword",
        "PIN",
    ]);
    let created = run(&[
        "definition",
        "create",
        "--account",
        "tx",
        "--key",
        "Pin-Codes",
        "--name",
        "pins",
        "--message",
        "Your PIN is %%pin%%",
        "--short-code",
        "55556",
        "--keyword",
        "pin",
        "--status",
        "inactive",
    ]);
    assert_eq!(created["definitionKey"], "Pin-Codes", "{created}");
    assert_eq!(created["status"], "Inactive");
    assert_eq!(
        created["subscriptions"]["keyword"], "PIN",
        "the keyword's own spelling"
    );
    let updated = run(&[
        "definition",
        "update",
        "--account",
        "tx",
        "--key",
        "pin-codes",
        "--status",
        "active",
        "--auto-add-subscriber",
        "false",
    ]);
    assert_eq!(updated["status"], "Active", "{updated}");
    assert_eq!(updated["subscriptions"]["autoAddSubscriber"], false);
    let shown = run(&[
        "definition",
        "show",
        "--account",
        "tx",
        "--key",
        "PIN-CODES",
    ]);
    assert_eq!(shown["content"]["message"], "Your PIN is %%pin%%");
    let listed = run(&[
        "definition",
        "list",
        "--account",
        "tx",
        "--filter",
        "status eq active",
    ]);
    assert_eq!(listed["count"], 1, "{listed}");
    let refused = cli(
        &database.url,
        &data,
        &[
            "definition",
            "create",
            "--account",
            "tx",
            "--key",
            "other",
            "--name",
            "other",
            "--message",
            "x",
            "--short-code",
            "55556",
            "--keyword",
            "NOPE",
        ],
    )
    .expect_err("an unknown keyword is refused");
    assert!(refused.contains("109115"), "{refused}");
    let deleted = run(&[
        "definition",
        "delete",
        "--account",
        "tx",
        "--key",
        "pin-codes",
    ]);
    assert_eq!(deleted["message"], "Success", "{deleted}");
    let listed = run(&["definition", "list", "--account", "tx"]);
    assert_eq!(listed["count"], 0, "{listed}");
}

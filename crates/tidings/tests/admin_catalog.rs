//! Editing codes and keywords through the admin API (`PATCH .../codes/{id}`,
//! `PATCH .../keywords/{id}`), what the web console's edit forms run: only the given fields
//! change, bad values are refused with every message, unknown IDs are 404, and the replies the
//! engine sends afterwards are the new ones.

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

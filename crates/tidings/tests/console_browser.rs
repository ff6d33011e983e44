//! The web console in headless Chromium (issue acceptance, docs/console.md): an operator signs in
//! (a wrong token is refused), creates an account, a code, a keyword, two lists — one from a CSV
//! file with bad rows, whose errors are shown — and a message whose text holds a script that must
//! stay inert; copies the message ID with its button and sends it over the real API; watches the
//! send reach Finished on its page without reloading; cancels a scheduled test send; signs out.
//! A form without its CSRF token and an expired session (the server's clock moved past
//! `console.session_minutes`) are refused. On every page the browser checks that nothing is wider
//! than 375 px and that every form control has a label, and that no request leaves the server.
//!
//! Needs Debian's `chromium` (`.ci/install-chromium`) and `npm` with the registry (it installs
//! `playwright-core` into a cache directory), so it is `#[ignore]`d in the plain test run and run
//! by `.ci/run` with `--ignored`. `TIDINGS_CONSOLE_SCREENSHOTS=DIR` makes it write screenshots of
//! the main pages there (docs/console/*.png were made that way).

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{spawn_app_in, ADMIN_TOKEN};
use reqwest::Method;
use serde_json::Value;

const PLAYWRIGHT_CORE: &str = "playwright-core@1.65.1";
const FLOW: &str = include_str!("console_browser/flow.js");

/// Installs the pinned driver once into a cache directory outside the clone.
fn driver_dir() -> PathBuf {
    let base = std::env::var_os("TIDINGS_BROWSER_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("tidings-browser"));
    std::fs::create_dir_all(&base).expect("cache dir");
    if !base.join("node_modules/playwright-core").exists() {
        std::fs::write(
            base.join("package.json"),
            r#"{"name":"tidings-browser-test","private":true}"#,
        )
        .expect("package.json");
        let status = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", PLAYWRIGHT_CORE])
            .current_dir(&base)
            .status()
            .expect("npm must be installed to run this test");
        assert!(status.success(), "npm install failed");
    }
    std::fs::write(base.join("console-flow.js"), FLOW).expect("flow script");
    base
}

/// Runs one phase of the flow; returns its observations.
async fn run_flow(dir: PathBuf, base: String, phase: &str, state_file: PathBuf) -> Value {
    let phase = phase.to_string();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(dir.join("console-flow.js"))
            .arg(&base)
            .arg(ADMIN_TOKEN)
            .arg(&phase)
            .arg(&state_file)
            .current_dir(&dir)
            .output()
            .expect("node must be installed to run this test")
    })
    .await
    .expect("join");
    assert!(
        output.status.success(),
        "the browser flow failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    serde_json::from_slice(&output.stdout).expect("the flow prints JSON")
}

fn assert_page_rules(out: &Value, at_least: usize) {
    let checks = out["checks"].as_array().expect("checks");
    assert!(
        checks.len() >= at_least,
        "only {} pages checked",
        checks.len()
    );
    for c in checks {
        assert!(c["scrollWidth"].as_i64().expect("width") <= 375, "{c}");
        assert_eq!(c["unlabeled"], serde_json::json!([]), "{c}");
    }
    assert_eq!(
        out["foreignRequests"],
        serde_json::json!([]),
        "requests elsewhere"
    );
    assert_eq!(out["pageErrors"], serde_json::json!([]), "script errors");
    // Chromium logs the refused sign-in (401) and form (403) the flow provokes; nothing else.
    let unexpected: Vec<&Value> = out["consoleErrors"]
        .as_array()
        .expect("console errors")
        .iter()
        .filter(|e| {
            !e.as_str().is_some_and(|e| {
                e == "Failed to load resource: the server responded with a status of 401 (Unauthorized)"
                    || e == "Failed to load resource: the server responded with a status of 403 (Forbidden)"
            })
        })
        .collect();
    assert!(
        unexpected.is_empty(),
        "console errors (CSP included): {unexpected:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium, node and the npm registry; run by .ci/run"]
async fn an_operator_runs_a_campaign_from_the_console_in_a_browser() {
    // The engine runs by itself, as under `tidings serve`; receipts come a few seconds after each
    // submission, so the send page visibly moves from hand-off to delivery.
    let app = spawn_app_in(tidings::EngineMode::Background, |f| {
        f.console.session_minutes = Some(30);
        for c in &mut f.carriers {
            c.settings
                .insert("receipt_delay_ms".to_string(), toml::Value::Integer(5000));
        }
    })
    .await;
    let dir = driver_dir();
    let state = tempfile::tempdir().expect("dir");
    let state_file = state.path().join("second-session.json");

    let out = run_flow(dir.clone(), app.base.clone(), "main", state_file.clone()).await;
    assert_page_rules(&out, 15);
    assert_eq!(out["wrongTokenStatus"], 401);
    assert_eq!(out["missingCsrfStatus"], 403);

    // The CSV's bad rows were listed, the good ones imported.
    let errors = out["importErrors"].as_array().expect("import errors");
    let reasons: Vec<&str> = errors.iter().filter_map(|r| r[2].as_str()).collect();
    assert_eq!(
        reasons,
        vec![
            "not-a-number isn't a numeric string",
            "123 isn't a valid mobile number."
        ],
        "{out}"
    );
    assert_eq!(errors[0][0], "3");
    assert_eq!(out["importCounts"]["added"], "3");
    assert_eq!(out["importCounts"]["invalid"], "2");
    assert_eq!(out["listSize"], "3");
    assert_eq!(out["lists"].as_array().expect("lists").len(), 2, "{out}");

    // The script in the message text stayed text.
    let shown = out["messageTextShown"].as_str().expect("text");
    assert!(
        shown.contains("<script>window.pwned = 1</script>"),
        "{shown}"
    );
    assert_eq!(out["pwnedOnMessagePage"], Value::Null);
    assert_eq!(out["pwnedOnOutbox"], Value::Null);

    // The copied ID is the message's, and the API send with it reached every subscribed contact.
    let copied = out["copiedId"].as_str().expect("copied id");
    let message = app
        .admin_ok(
            Method::GET,
            &format!("/admin/v1/accounts/Demo/messages/{copied}"),
            Value::Null,
        )
        .await;
    assert_eq!(message["name"], "Welcome");
    let token = out["apiToken"].as_str().expect("token");
    assert!(common::is_minted_token(token));

    // Live: the page was not reloaded, and it saw the send move.
    assert_eq!(out["notReloaded"], true);
    assert_ne!(
        out["initial"]["delivered"], out["final"]["delivered"],
        "{out}"
    );
    assert_eq!(out["final"]["status"], "Finished");
    assert_eq!(out["final"]["recipients"], "3");
    assert!(out["final"]["completeDate"]
        .as_str()
        .is_some_and(|d| d.ends_with(" CST")));
    let status = app
        .admin_ok(
            Method::GET,
            &format!("/admin/v1/sends/{token}"),
            Value::Null,
        )
        .await;
    assert_eq!(status["status"], "Finished");
    assert_eq!(status["counts"]["delivered"], 2, "{status}");
    assert_eq!(status["counts"]["failed"], 1, "{status}");
    let tracking = out["trackingRows"].as_array().expect("tracking");
    assert_eq!(tracking.len(), 3);
    assert_eq!(tracking[0][0], "15555550000");
    assert_eq!(tracking[0][1], "4500");
    assert_eq!(tracking[1][1], "4000");
    let outbox = common::outbox_of(&app, token).await;
    assert_eq!(outbox.len(), 3);
    assert!(outbox.iter().any(|i| i["text"]
        .as_str()
        .is_some_and(|t| t.starts_with("Hello Ann <script>"))));

    // The scheduled send was canceled before it was due.
    assert_eq!(out["scheduled"]["status"], "New");
    assert_eq!(
        out["scheduled"]["scheduledFor"],
        "2030-01-01T04:00:00.000 CST"
    );
    assert_eq!(out["canceled"]["status"], "Canceled");
    let scheduled = out["scheduledToken"].as_str().expect("scheduled token");
    let canceled = app
        .admin_ok(
            Method::GET,
            &format!("/admin/v1/sends/{scheduled}"),
            Value::Null,
        )
        .await;
    assert_eq!(canceled["status"], "Canceled");
    assert_eq!(out["signedOut"], true);

    // The second session expires when the server's clock passes session_minutes.
    app.clock.advance(30 * 60_000);
    let expired = run_flow(dir, app.base.clone(), "expired", state_file).await;
    assert_page_rules(&expired, 1);
    assert_eq!(expired["expiredLanding"], "/console/sign-in?expired=1");
    assert_eq!(
        expired["expiredNotice"],
        "Your session has expired. Sign in again."
    );
}

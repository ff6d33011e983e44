//! Several processes on one PostgreSQL database (issue 4, multi-node): a send accepted by one
//! node wakes the idle engine of another at once, through the database's work signals
//! (`LISTEN`/`NOTIFY`), instead of waiting for its next poll.
//!
//! Needs PostgreSQL: `#[ignore]`d, run with `TIDINGS_TEST_DATABASE_URL` set and `--ignored`
//! (`.ci/run` does); without the variable it fails, it never skips.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use api::clock::ManualClock;
use api::Clock;
use common::{fixture, import_contacts, outbox_of, spawn_app, NOW_MS};
use serde_json::json;
use tidings::config::{Config, FileConfig};
use tidings::{Application, EngineMode};

#[tokio::test]
#[ignore = "needs PostgreSQL: run with TIDINGS_TEST_DATABASE_URL set and --ignored (.ci/run does)"]
async fn a_send_accepted_by_one_node_wakes_the_idle_engine_of_another() {
    common::require_postgres();
    // Node A serves the API; its engine is driven by hand and never driven here.
    let a = spawn_app().await;
    let fx = fixture(&a, "A").await;
    let numbers = ["15550100011", "15550100022", "15550100033"];
    let contacts: Vec<_> = numbers.iter().map(|n| json!({"mobileNumber": n})).collect();
    import_contacts(&a, "A", "ListA", json!(contacts), true).await;

    // Node B runs its engine in the background on the same database, and would not poll again
    // for ten minutes: only a signal can make it notice the send within the deadline below.
    let dir = tempfile::tempdir().expect("temp dir");
    let mut file = FileConfig {
        listen: Some("127.0.0.1:0".into()),
        database_url: Some(a.database_url.clone()),
        data_dir: Some(dir.path().join("data").display().to_string()),
        ..FileConfig::default()
    };
    file.admin.token = Some("node-b-admin-token-0123456789".into());
    file.engine.idle_poll_ms = Some(600_000);
    file.carriers.push(tidings::config::CarrierConfig {
        name: "simulator".into(),
        kind: "simulator".into(),
        settings: [("receipt_delay_ms".to_string(), toml::Value::Integer(0))]
            .into_iter()
            .collect(),
    });
    let config = Config::resolve(file, None, &|_| None).expect("config");
    let clock = Arc::new(ManualClock::new(NOW_MS));
    let b = Application::build(&config, clock as Arc<dyn Clock>, EngineMode::Background)
        .await
        .expect("build node B");
    let (stop_b, stopped) = tokio::sync::oneshot::channel::<()>();
    let b = tokio::spawn(b.run_until_stopped(async move {
        let _ = stopped.await;
    }));

    // First, a send node B hands over (found by its first round, or signaled): when its texts
    // are out, B's engine is running and about to go idle.
    let first = common::assert_accepted(&a.send_list(&fx.token, &fx.message, &json!({})).await);
    wait_texted(&a, &first, numbers.len()).await;
    // B's workers enter their ten-minute idle wait within milliseconds of their last round.
    // This pause only makes sure they are in it (a control: without signals the next send
    // would then wait ten minutes); no work is waited for by it.
    tokio::time::sleep(Duration::from_millis(500)).await;

    // The second send, made through node A, reaches B only as a signal.
    let second = common::assert_accepted(&a.send_list(&fx.token, &fx.message, &json!({})).await);
    wait_texted(&a, &second, numbers.len()).await;
    let _ = stop_b.send(());
    b.await.expect("node B task").expect("node B stops cleanly");
}

/// Polls node A's view of the shared outbox until `n` texts of `token` are in it (10 s at most).
async fn wait_texted(a: &common::TestApp, token: &str, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let texted = outbox_of(a, token).await;
        if texted.len() == n {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "node B did not hand send {token} over within 10 s ({} of {n} texted)",
            texted.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

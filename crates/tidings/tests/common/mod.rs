//! The one harness of the end-to-end suites: a real `tidings` server on port 0 with a fresh
//! database and data directory, driven over HTTP like any client.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

pub mod process;

use api::clock::ManualClock;
use api::Clock;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tidings::config::{Config, FileConfig};
use tidings::Application;

pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789";

pub struct TestApp {
    /// `http://127.0.0.1:PORT/`
    pub base: String,
    pub http: reqwest::Client,
    pub clock: Arc<ManualClock>,
    /// The delivery engine, driven by the tests (`app.engine.run_until_idle()`).
    pub engine: engine::Engine,
    /// The database it runs on (fresh for this app unless the test chose one).
    pub database_url: String,
    /// `http://127.0.0.1:PORT/metrics`, unless the test turned the metrics listener off.
    pub metrics_url: Option<String>,
    _dir: tempfile::TempDir,
    _shutdown: tokio::sync::oneshot::Sender<()>,
    /// Last, so the server is told to stop before its database goes.
    _database: TestDatabase,
}

/// 2026-11-26T16:00:00Z, the tests' "now".
pub const NOW_MS: i64 = 1_795_708_800_000;

/// The database one spawned server (or several sharing it) runs on: a SQLite file in the test's
/// directory, or, when `TIDINGS_TEST_DATABASE_URL` names a PostgreSQL server, a fresh database
/// there, dropped with this guard. A server that was named but cannot be reached fails the test;
/// it never falls back to SQLite.
pub struct TestDatabase {
    pub url: String,
    _postgres: Option<test_database::TestDatabase>,
}

pub fn test_database(dir: &std::path::Path) -> TestDatabase {
    match test_database::TestDatabase::base_url_from_env() {
        Some(base) => {
            let db = test_database::TestDatabase::create_blocking(&base)
                .unwrap_or_else(|e| panic!("cannot create a PostgreSQL test database: {e}"));
            TestDatabase {
                url: db.url().to_string(),
                _postgres: Some(db),
            }
        }
        None => TestDatabase {
            url: format!("sqlite://{}", dir.join("tidings.db").display()),
            _postgres: None,
        },
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Spawns the server after letting the test adjust the file configuration.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut FileConfig)) -> TestApp {
    spawn_app_in(tidings::EngineMode::Manual, adjust).await
}

/// Spawns the server with the engine in the given mode (`Background`: it runs by itself, as in
/// `tidings serve`; `Manual`: the test drives it).
pub async fn spawn_app_in(
    mode: tidings::EngineMode,
    adjust: impl FnOnce(&mut FileConfig),
) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = test_database(dir.path());
    let mut file = FileConfig {
        listen: Some("127.0.0.1:0".into()),
        metrics_listen: Some("127.0.0.1:0".into()),
        database_url: Some(database.url.clone()),
        data_dir: Some(dir.path().join("data").display().to_string()),
        ..FileConfig::default()
    };
    file.admin.token = Some(ADMIN_TOKEN.into());
    file.api.rate_limit = Some(0);
    // Receipts arrive with the submission, so driving the engine to idle applies them.
    file.carriers.push(tidings::config::CarrierConfig {
        name: "simulator".into(),
        kind: "simulator".into(),
        settings: [("receipt_delay_ms".to_string(), toml::Value::Integer(0))]
            .into_iter()
            .collect(),
    });
    adjust(&mut file);
    let database_url = file.database_url.clone().unwrap_or_default();
    let config = Config::resolve(file, None, &|_| None).expect("config");
    let clock = Arc::new(ManualClock::new(NOW_MS));
    let app = Application::build(&config, clock.clone() as Arc<dyn Clock>, mode)
        .await
        .expect("build app");
    let engine = app.engine();
    let base = format!("http://{}/", app.addr());
    let metrics_url = app
        .metrics_addr()
        .map(|addr| format!("http://{addr}/metrics"));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until_stopped(async move {
        let _ = rx.await;
    }));
    TestApp {
        base,
        http: reqwest::Client::new(),
        clock,
        engine,
        database_url,
        metrics_url,
        _dir: dir,
        _shutdown: tx,
        _database: database,
    }
}

impl TestApp {
    /// Stops the server but keeps its database (and the guard that drops it).
    pub fn into_database(self) -> TestDatabase {
        self._database
    }
}

/// A response: status, headers and the parsed JSON body (`Null` when not JSON).
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub raw: Vec<u8>,
}

impl TestApp {
    /// The server's data directory (`imports/`, `reports/`).
    pub fn data_dir(&self) -> std::path::PathBuf {
        self._dir.path().join("data")
    }

    /// A `/sms/v1` call with a JSON body (`Value::Null`: no body).
    pub async fn sms(&self, method: Method, path: &str, token: &str, body: &Value) -> Reply {
        let body = (!body.is_null()).then(|| body.to_string().into_bytes());
        self.request(
            method,
            path,
            Some(token),
            body,
            &[("content-type", "application/json")],
        )
        .await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path.trim_start_matches('/'))
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<Vec<u8>>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut req = self.http.request(method, self.url(path));
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.body(b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let headers = resp.headers().clone();
        let raw = resp.bytes().await.expect("body").to_vec();
        let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            raw,
        }
    }

    pub async fn admin(&self, method: Method, path: &str, body: Value) -> Reply {
        let body = (method != Method::GET && method != Method::DELETE)
            .then(|| body.to_string().into_bytes());
        self.request(
            method,
            path,
            Some(ADMIN_TOKEN),
            body,
            &[("content-type", "application/json")],
        )
        .await
    }

    /// An admin call that must succeed; returns its body.
    pub async fn admin_ok(&self, method: Method, path: &str, body: Value) -> Value {
        let r = self.admin(method.clone(), path, body).await;
        assert!(
            r.status.is_success(),
            "{method} {path} answered {}: {}",
            r.status,
            r.body
        );
        r.body
    }

    pub async fn token(&self, client_id: &str, secret: &str) -> String {
        let r = self
            .request(
                Method::POST,
                "/v2/token",
                None,
                Some(
                    json!({"grant_type": "client_credentials", "client_id": client_id,
                           "client_secret": secret})
                    .to_string()
                    .into_bytes(),
                ),
                &[("content-type", "application/json")],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.body["access_token"]
            .as_str()
            .expect("access_token")
            .to_string()
    }

    /// `POST /sms/v1/messageList/{id}/send` with a JSON body.
    pub async fn send_list(&self, token: &str, message_id: &str, body: &Value) -> Reply {
        self.send_list_raw(token, message_id, body.to_string().into_bytes())
            .await
    }

    pub async fn send_list_raw(&self, token: &str, message_id: &str, body: Vec<u8>) -> Reply {
        self.request(
            Method::POST,
            &format!("/sms/v1/messageList/{message_id}/send"),
            Some(token),
            Some(body),
            &[("content-type", "application/json")],
        )
        .await
    }

    pub async fn deliveries(&self, token: &str, message_id: &str, token_id: &str) -> Reply {
        self.request(
            Method::GET,
            &format!("/sms/v1/messageList/{message_id}/deliveries/{token_id}"),
            Some(token),
            None,
            &[],
        )
        .await
    }
}

/// An account with a client, a token, a code, a keyword, lists and an Active message.
pub struct Fixture {
    pub account: String,
    pub client_id: String,
    pub secret: String,
    pub token: String,
    pub code: String,
    /// `MzA6Nzg6MA`: an explicit, mixed-case message ID with default target list `list_a`.
    pub message: String,
    pub list_a: String,
    pub list_b: String,
    pub exclusion: String,
}

pub async fn fixture(app: &TestApp, account: &str) -> Fixture {
    app.admin_ok(
        Method::POST,
        "/admin/v1/accounts",
        json!({"id": account, "name": account}),
    )
    .await;
    let base = format!("/admin/v1/accounts/{account}");
    let client = app
        .admin_ok(Method::POST, &format!("{base}/clients"), json!({}))
        .await;
    let client_id = client["clientId"].as_str().expect("clientId").to_string();
    let secret = client["clientSecret"]
        .as_str()
        .expect("clientSecret")
        .to_string();
    app.admin_ok(
        Method::POST,
        &format!("{base}/codes"),
        json!({"code": "88976", "countryCode": "US", "type": "short", "carrier": "simulator"}),
    )
    .await;
    app.admin_ok(
        Method::POST,
        &format!("{base}/keywords"),
        json!({"code": "88976", "keyword": "JOIN", "response": "Welcome"}),
    )
    .await;
    for id in ["ListA", "ListB", "Exclude"] {
        app.admin_ok(
            Method::POST,
            &format!("{base}/lists"),
            json!({"id": id, "name": id}),
        )
        .await;
    }
    app.admin_ok(
        Method::POST,
        &format!("{base}/messages"),
        json!({"id": "MzA6Nzg6MA", "name": "Welcome", "code": "88976", "status": "Active",
               "text": "Hello %%FirstName%%", "targetListIds": ["ListA"],
               "exclusionListIds": ["Exclude"]}),
    )
    .await;
    let token = app.token(&client_id, &secret).await;
    Fixture {
        account: account.to_string(),
        client_id,
        secret,
        token,
        code: "88976".into(),
        message: "MzA6Nzg6MA".into(),
        list_a: "ListA".into(),
        list_b: "ListB".into(),
        exclusion: "Exclude".into(),
    }
}

/// Asserts a whole 400 body.
pub fn assert_errors(reply: &Reply, expected: &[&str]) {
    assert_eq!(
        reply.status,
        StatusCode::BAD_REQUEST,
        "body: {}",
        String::from_utf8_lossy(&reply.raw)
    );
    assert_eq!(reply.body, json!({ "errors": expected }));
}

/// The content type of every API response (API.md §1).
pub const JSON_CONTENT_TYPE: &str = "application/json; charset=utf-8";

impl Reply {
    /// The `Content-Type` header, if any.
    pub fn content_type(&self) -> Option<&str> {
        self.headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
    }
}

/// Asserts the contract's content type and a body that parses as JSON.
pub fn assert_json_reply(reply: &Reply) {
    assert_eq!(
        reply.content_type(),
        Some(JSON_CONTENT_TYPE),
        "status {}, body {}",
        reply.status,
        String::from_utf8_lossy(&reply.raw)
    );
    assert!(
        serde_json::from_slice::<Value>(&reply.raw).is_ok(),
        "not JSON: {}",
        String::from_utf8_lossy(&reply.raw)
    );
}

/// True for a send token as minted (API.md §3): 26–40 characters of `[a-z0-9]`.
pub fn is_minted_token(t: &str) -> bool {
    (26..=40).contains(&t.len())
        && t.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// Asserts a 202 whose whole body is `{"tokenId": <minted token>}`; returns the token.
pub fn assert_accepted(reply: &Reply) -> String {
    assert_eq!(
        reply.status,
        StatusCode::ACCEPTED,
        "body: {}",
        String::from_utf8_lossy(&reply.raw)
    );
    assert_json_reply(reply);
    let token = reply.body["tokenId"]
        .as_str()
        .unwrap_or_else(|| panic!("no tokenId in {}", reply.body))
        .to_string();
    assert!(is_minted_token(&token), "token {token:?}");
    assert_eq!(reply.body, json!({ "tokenId": token }));
    token
}

impl TestApp {
    /// Every send of an account, newest first, through the admin listing (paged).
    pub async fn sends(&self, account: &str) -> Vec<Value> {
        let mut all = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut path = format!("/admin/v1/accounts/{account}/sends?limit=1000");
            if let Some(a) = &after {
                path.push_str(&format!("&after={a}"));
            }
            let page = self.admin_ok(Method::GET, &path, Value::Null).await;
            let items = page["items"].as_array().expect("items").clone();
            all.extend(items);
            match page["next"].as_str() {
                Some(next) => after = Some(next.to_string()),
                None => return all,
            }
        }
    }

    /// How many sends the admin listing shows for an account.
    pub async fn send_count(&self, account: &str) -> usize {
        self.sends(account).await.len()
    }

    /// Creates an API client in `account` (admin body as given); returns `(clientId, secret)`.
    pub async fn create_client(&self, account: &str, body: Value) -> (String, String) {
        let c = self
            .admin_ok(
                Method::POST,
                &format!("/admin/v1/accounts/{account}/clients"),
                body,
            )
            .await;
        (
            c["clientId"].as_str().expect("clientId").to_string(),
            c["clientSecret"]
                .as_str()
                .expect("clientSecret")
                .to_string(),
        )
    }

    /// Creates a message in `account` through the admin API (body as given).
    pub async fn create_message(&self, account: &str, body: Value) -> Value {
        self.admin_ok(
            Method::POST,
            &format!("/admin/v1/accounts/{account}/messages"),
            body,
        )
        .await
    }

    /// Creates a list in `account` with an explicit ID.
    pub async fn create_list(&self, account: &str, id: &str) {
        self.admin_ok(
            Method::POST,
            &format!("/admin/v1/accounts/{account}/lists"),
            json!({"id": id, "name": id}),
        )
        .await;
    }

    /// `POST /v2/token` with a raw body and an optional content type.
    pub async fn token_raw(&self, body: Vec<u8>, content_type: Option<&str>) -> Reply {
        let headers: Vec<(&str, &str)> = content_type
            .map(|ct| vec![("content-type", ct)])
            .unwrap_or_default();
        self.request(Method::POST, "/v2/token", None, Some(body), &headers)
            .await
    }

    /// `POST /v2/token` with a JSON body.
    pub async fn token_json(&self, body: &Value) -> Reply {
        self.token_raw(body.to_string().into_bytes(), Some("application/json"))
            .await
    }
}

// ---------------------------------------------------------------------------------------------
// Delivery helpers (API.md §4 "What a send does", §5, §7 outbox).

/// The fixture's code and opt-in keyword.
pub const CODE: &str = "88976";
pub const KEYWORD: &str = "JOIN";

/// The whole simulator outbox, oldest first, paged with `after`/`next`.
pub async fn outbox(app: &TestApp) -> Vec<Value> {
    let mut all = Vec::new();
    let mut after: i64 = 0;
    loop {
        let page = app
            .admin_ok(
                Method::GET,
                &format!("/admin/v1/outbox?after={after}&limit=10000"),
                Value::Null,
            )
            .await;
        all.extend(page["items"].as_array().expect("items").iter().cloned());
        match page["next"].as_i64() {
            Some(next) => after = next,
            None => return all,
        }
    }
}

/// The outbox items of one send.
pub async fn outbox_of(app: &TestApp, token_id: &str) -> Vec<Value> {
    outbox(app)
        .await
        .into_iter()
        .filter(|i| i["tokenId"] == token_id)
        .collect()
}

/// Adds contacts (`[{"mobileNumber", "attributes"?}]`) to a list through the admin JSON import;
/// with `subscribe`, they are subscribed to the fixture's keyword. Asserts nothing was rejected.
pub async fn import_contacts(
    app: &TestApp,
    account: &str,
    list: &str,
    contacts: Value,
    subscribe: bool,
) -> Value {
    let mut body = json!({ "contacts": contacts });
    if subscribe {
        body["subscribe"] = json!({"code": CODE, "keyword": KEYWORD});
    }
    let report = app
        .admin_ok(
            Method::POST,
            &format!("/admin/v1/accounts/{account}/lists/{list}/contacts"),
            body,
        )
        .await;
    assert_eq!(report["invalid"], 0, "{report}");
    report
}

/// Sets a number's subscription to the fixture's keyword (admin API), e.g. `"Unsubscribed"`.
pub async fn set_subscription(app: &TestApp, account: &str, number: &str, status: &str) {
    let sub = app
        .admin_ok(
            Method::POST,
            &format!("/admin/v1/accounts/{account}/subscriptions"),
            json!({"mobileNumber": number, "code": CODE, "keyword": KEYWORD, "status": status}),
        )
        .await;
    assert_eq!(sub["status"], status, "{sub}");
}

/// Opts a number out of the fixture's keyword.
pub async fn opt_out(app: &TestApp, account: &str, number: &str) {
    set_subscription(app, account, number, "Unsubscribed").await;
}

/// Drives the engine until it finds nothing to do.
pub async fn run_engine(app: &TestApp) {
    app.engine.run_until_idle().await.expect("engine");
}

/// Drives the engine (which runs imports as jobs) to idle; the import's status, which must be
/// final by then.
pub async fn finished_import(app: &TestApp, bearer: &str, list: &str, token: &str) -> Value {
    run_engine(app).await;
    let r = app
        .sms(
            Method::GET,
            &format!("/sms/v1/contacts/queueImport/{list}/status/{token}"),
            bearer,
            &Value::Null,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body["status"] == "Completed" || r.body["status"] == "Error",
        "import still {} once the engine is idle",
        r.body
    );
    r.body
}

/// Runs the due background jobs (imports, reports) and no other work of the engine.
#[allow(dead_code)]
pub async fn run_jobs(app: &TestApp) {
    app.engine.run_jobs_until_idle().await.expect("jobs");
}

/// One round of the engine's work; true when something was done.
pub async fn step_engine(app: &TestApp) -> bool {
    app.engine.step().await.expect("engine step")
}

/// `POST /admin/v1/sends/{token}/cancel`.
pub async fn cancel(app: &TestApp, token_id: &str) -> Reply {
    app.request(
        Method::POST,
        &format!("/admin/v1/sends/{token_id}/cancel"),
        Some(ADMIN_TOKEN),
        None,
        &[],
    )
    .await
}

/// The code `smpp_send_setup` routes to its SMPP carrier.
pub const SMPP_CODE: &str = "77777";

/// An SMPP carrier named `name` bound to a local SMSC on `port` (window 64).
pub fn smpp_carrier(name: &str, port: u16) -> tidings::config::CarrierConfig {
    let settings = [
        ("host", toml::Value::String("127.0.0.1".into())),
        ("port", toml::Value::Integer(i64::from(port))),
        ("system_id", toml::Value::String("tidings".into())),
        ("password", toml::Value::String("s3cret".into())),
        ("window", toml::Value::Integer(64)),
        ("response_timeout_secs", toml::Value::Integer(5)),
    ];
    tidings::config::CarrierConfig {
        name: name.into(),
        kind: "smpp".into(),
        settings: settings
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    }
}

/// A code routed to the SMPP carrier `carrier`, a keyword, a list of `n` subscribed numbers and a
/// message on it. Returns the message id.
pub async fn smpp_send_setup(
    app: &TestApp,
    account: &str,
    carrier: &str,
    numbers: &[String],
) -> String {
    let base = format!("/admin/v1/accounts/{account}");
    app.admin_ok(
        Method::POST,
        &format!("{base}/codes"),
        json!({"code": SMPP_CODE, "countryCode": "US", "type": "short", "carrier": carrier}),
    )
    .await;
    app.admin_ok(
        Method::POST,
        &format!("{base}/keywords"),
        json!({"code": SMPP_CODE, "keyword": "GO", "response": "Welcome"}),
    )
    .await;
    app.admin_ok(
        Method::POST,
        &format!("{base}/lists"),
        json!({"id": "Fault", "name": "Fault"}),
    )
    .await;
    let mut csv = String::from("mobileNumber\n");
    for n in numbers {
        csv.push_str(n);
        csv.push('\n');
    }
    let r = app
        .request(
            Method::POST,
            &format!("{base}/lists/Fault/contacts?subscribeCode={SMPP_CODE}&subscribeKeyword=GO"),
            Some(ADMIN_TOKEN),
            Some(csv.into_bytes()),
            &[("content-type", "text/csv")],
        )
        .await;
    assert!(r.status.is_success(), "import: {} {}", r.status, r.body);
    app.admin_ok(
        Method::POST,
        &format!("{base}/messages"),
        json!({"id": "RmF1bHQ6MQ", "name": "Fault", "code": SMPP_CODE, "status": "Active",
               "text": "Hello from the fault test", "targetListIds": ["Fault"]}),
    )
    .await;
    "RmF1bHQ6MQ".to_string()
}

/// Runs the real `tidings <args>` on `database_url`: its standard output, or its error output
/// when it fails.
pub fn run_tidings(database_url: &str, data_dir: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new(env!("CARGO_BIN_EXE_tidings"))
        .args(args)
        .env_remove("TIDINGS_CONFIG")
        .env("DATABASE_URL", database_url)
        .env("TIDINGS_DATA_DIR", data_dir)
        .env("TIDINGS_ADMIN_TOKEN", ADMIN_TOKEN)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run the tidings binary");
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// A PostgreSQL-only test's database must be configured (and reachable: the server fails to
/// start otherwise); such a test fails, never silently skips, once asked for.
pub fn require_postgres() {
    let url = std::env::var("TIDINGS_TEST_DATABASE_URL").unwrap_or_default();
    assert!(
        url.starts_with("postgres://") || url.starts_with("postgresql://"),
        "this test needs TIDINGS_TEST_DATABASE_URL=postgres://... (got {url:?})"
    );
}

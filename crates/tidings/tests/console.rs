//! The web console over HTTP, without a browser (docs/console.md): signing in with the admin
//! token, the session cookie's attributes, CSRF on every form, session expiry on the server's
//! clock, sign-out, escaping of user content, the CSV import report, test sends, cancel, and the
//! live progress stream. The browser test (`console_browser.rs`) covers the same pages in Chromium.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use common::{
    fixture, import_contacts, run_engine, spawn_app, spawn_app_with, TestApp, ADMIN_TOKEN,
};
use reqwest::header::{HeaderMap, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// One operator's HTTP client: keeps the console's cookies, never follows redirects.
struct Operator {
    base: String,
    http: reqwest::Client,
    cookies: HashMap<String, String>,
}

/// A console answer.
struct Page {
    status: StatusCode,
    headers: HeaderMap,
    html: String,
}

impl Page {
    fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The `Set-Cookie` header for a cookie name, whole.
    fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .map(str::to_string)
    }

    /// The CSRF token of the first form on the page.
    fn csrf(&self) -> String {
        let marker = "name=\"csrf\" value=\"";
        let start = self
            .html
            .find(marker)
            .unwrap_or_else(|| panic!("no CSRF field in {}", self.html))
            + marker.len();
        let end = self.html[start..].find('"').expect("end of value") + start;
        self.html[start..end].to_string()
    }
}

impl Operator {
    fn new(app: &TestApp) -> Operator {
        Operator::at(&app.base)
    }

    fn at(base: &str) -> Operator {
        Operator {
            base: base.to_string(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            cookies: HashMap::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path.trim_start_matches('/'))
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn finish(&mut self, req: reqwest::RequestBuilder) -> Page {
        let req = if self.cookies.is_empty() {
            req
        } else {
            req.header(COOKIE, self.cookie_header())
        };
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let headers = resp.headers().clone();
        for value in headers.get_all(SET_COOKIE).iter() {
            let text = value.to_str().expect("cookie text");
            let pair = text.split(';').next().unwrap_or("");
            if let Some((k, v)) = pair.split_once('=') {
                if v.is_empty() || text.contains("Max-Age=0") {
                    self.cookies.remove(k);
                } else {
                    self.cookies.insert(k.to_string(), v.to_string());
                }
            }
        }
        let html = resp.text().await.expect("body");
        Page {
            status,
            headers,
            html,
        }
    }

    async fn get(&mut self, path: &str) -> Page {
        let req = self.http.get(self.url(path));
        self.finish(req).await
    }

    async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let req = self
            .http
            .post(self.url(path))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body);
        self.finish(req).await
    }

    /// Posts a multipart form: text fields, then a file field named `file`.
    async fn post_file(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        file_name: &str,
        file: &str,
    ) -> Page {
        let boundary = "----tidings-test-boundary-7MA4YWxk";
        let mut body = String::new();
        for (k, v) in fields {
            body.push_str(&format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
            ));
        }
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: text/csv\r\n\r\n{file}\r\n--{boundary}--\r\n"
        ));
        let req = self
            .http
            .post(self.url(path))
            .header(
                CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body);
        self.finish(req).await
    }

    /// Signs in with the admin token; returns the session's CSRF token.
    async fn sign_in(&mut self) -> String {
        let form = self.get("/console/sign-in").await;
        assert_eq!(form.status, StatusCode::OK);
        let done = self
            .post(
                "/console/sign-in",
                &[("csrf", &form.csrf()), ("token", ADMIN_TOKEN)],
            )
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
        assert_eq!(done.location(), "/console/accounts");
        let page = self.get("/console/accounts").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.html);
        page.csrf()
    }
}

/// API.md §8 "Protection": wrong tokens on the sign-in form count against the address like
/// wrong admin API tokens; past 10, the sign-in page answers 429 with the contract's sentence,
/// a correct token included.
#[tokio::test]
async fn sign_in_after_ten_wrong_tokens_answers_429_even_to_the_right_token() {
    let app = spawn_app().await;
    let mut op = Operator::new(&app);
    let mut csrf = op.get("/console/sign-in").await.csrf();
    for i in 0..7 {
        let wrong = op
            .post(
                "/console/sign-in",
                &[("csrf", &csrf), ("token", &format!("guess-{i}"))],
            )
            .await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "guess {i}");
        assert!(wrong.html.contains("Not authorized."), "{}", wrong.html);
        csrf = wrong.csrf();
    }
    // The admin API's wrong tokens count against the same address.
    for _ in 0..3 {
        let r = app
            .request(Method::GET, "/admin/v1/accounts", Some("guess"), None, &[])
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let throttled = op
        .post(
            "/console/sign-in",
            &[("csrf", &csrf), ("token", ADMIN_TOKEN)],
        )
        .await;
    assert_eq!(
        throttled.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        throttled.html
    );
    assert!(
        throttled
            .html
            .contains("Too many failed attempts; try again later."),
        "{}",
        throttled.html
    );
    let retry_after: u64 = throttled
        .headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in whole seconds");
    assert!((1..=6).contains(&retry_after), "{retry_after}");
    assert!(
        throttled.set_cookie("tidings_console").is_none(),
        "no session"
    );
    let still_out = op.get("/console/accounts").await;
    assert_eq!(still_out.status, StatusCode::SEE_OTHER);
}

async fn accounts(app: &TestApp) -> Vec<Value> {
    app.admin_ok(Method::GET, "/admin/v1/accounts", Value::Null)
        .await["items"]
        .as_array()
        .expect("items")
        .clone()
}

#[tokio::test]
async fn signing_in_takes_the_admin_token_and_sets_a_strict_http_only_session_cookie() {
    let app = spawn_app().await;
    let mut op = Operator::new(&app);

    let anonymous = op.get("/console/accounts").await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    assert_eq!(anonymous.location(), "/console/sign-in");
    let root = op.get("/console").await;
    assert_eq!(root.status, StatusCode::SEE_OTHER);
    assert_eq!(root.location(), "/console/sign-in");

    let form = op.get("/console/sign-in").await;
    assert_eq!(form.status, StatusCode::OK);
    let pre = form
        .set_cookie("tidings_console_signin")
        .expect("sign-in cookie");
    assert!(
        pre.contains("HttpOnly") && pre.contains("SameSite=Strict"),
        "{pre}"
    );
    assert!(!pre.contains("Secure"), "{pre}");
    let csrf = form.csrf();

    let wrong = op
        .post(
            "/console/sign-in",
            &[("csrf", &csrf), ("token", "not-the-token")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.html.contains("Not authorized."), "{}", wrong.html);
    assert!(wrong.set_cookie("tidings_console").is_none());
    let still_out = op.get("/console/accounts").await;
    assert_eq!(still_out.status, StatusCode::SEE_OTHER);

    // The sign-in form carries its own CSRF token (double submit with its cookie).
    let csrf = wrong.csrf();
    let no_csrf = op.post("/console/sign-in", &[("token", ADMIN_TOKEN)]).await;
    assert_eq!(no_csrf.status, StatusCode::FORBIDDEN);
    let forged = op
        .post(
            "/console/sign-in",
            &[("csrf", "forged"), ("token", ADMIN_TOKEN)],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(forged.set_cookie("tidings_console").is_none());

    let ok = op
        .post(
            "/console/sign-in",
            &[("csrf", &csrf), ("token", ADMIN_TOKEN)],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.html);
    assert_eq!(ok.location(), "/console/accounts");
    let session = ok.set_cookie("tidings_console").expect("session cookie");
    for part in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/console",
        "Max-Age=3600",
    ] {
        assert!(session.contains(part), "{part} missing in {session}");
    }
    assert!(!session.contains("Secure"), "{session}");
    let page = op.get("/console/accounts").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("<h1>Accounts</h1>"), "{}", page.html);
    assert!(page.headers["content-type"]
        .to_str()
        .expect("type")
        .starts_with("text/html"));
}

#[tokio::test]
async fn cookies_are_secure_when_the_public_url_is_https() {
    let app = spawn_app_with(|f| f.public_url = Some("https://tidings.example/".into())).await;
    let mut op = Operator::new(&app);
    let form = op.get("/console/sign-in").await;
    assert!(form
        .set_cookie("tidings_console_signin")
        .expect("cookie")
        .contains("; Secure"));
    let ok = op
        .post(
            "/console/sign-in",
            &[("csrf", &form.csrf()), ("token", ADMIN_TOKEN)],
        )
        .await;
    let session = ok.set_cookie("tidings_console").expect("session cookie");
    assert!(session.contains("; Secure"), "{session}");
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Strict"));
}

#[tokio::test]
async fn every_form_refuses_a_missing_or_wrong_csrf_token() {
    let app = spawn_app().await;
    let f = fixture(&app, "Acct").await;
    let created = app
        .send_list(
            &f.token,
            &f.message,
            &json!({"sendTime": "2030-01-01 10:00"}),
        )
        .await;
    let token = common::assert_accepted(&created);
    let keywords = app
        .admin_ok(Method::GET, "/admin/v1/accounts/Acct/keywords", Value::Null)
        .await;
    let keyword_id = keywords["items"][0]["id"]
        .as_str()
        .expect("keyword id")
        .to_string();
    let mut op = Operator::new(&app);
    let csrf = op.sign_in().await;

    let forms: Vec<(String, Vec<(&str, &str)>)> = vec![
        ("/console/accounts".into(), vec![("name", "Forged")]),
        (
            "/console/accounts/Acct/codes".into(),
            vec![("code", "77777"), ("carrier", "simulator")],
        ),
        (
            "/console/accounts/Acct/keywords".into(),
            vec![("code", "88976"), ("keyword", "FORGED")],
        ),
        (
            "/console/accounts/Acct/lists".into(),
            vec![("name", "Forged")],
        ),
        (
            "/console/accounts/Acct/messages".into(),
            vec![("name", "Forged"), ("code", "88976")],
        ),
        (
            "/console/accounts/Acct/messages/MzA6Nzg6MA".into(),
            vec![("name", "Renamed"), ("code", "88976")],
        ),
        (
            "/console/accounts/Acct/messages/MzA6Nzg6MA/status".into(),
            vec![("status", "Inactive")],
        ),
        (
            "/console/accounts/Acct/messages/MzA6Nzg6MA/send".into(),
            vec![],
        ),
        (
            "/console/accounts/Acct/messages/MzA6Nzg6MA/delete".into(),
            vec![],
        ),
        ("/console/accounts/Acct/lists/ListA/delete".into(), vec![]),
        (
            "/console/accounts/Acct/codes/88976".into(),
            vec![("type", "long"), ("carrier", "simulator")],
        ),
        (
            format!("/console/accounts/Acct/keywords/{keyword_id}"),
            vec![("response", "Forged")],
        ),
        (
            format!("/console/accounts/Acct/sends/{token}/cancel"),
            vec![],
        ),
        (
            "/console/accounts/Acct/definitions".into(),
            vec![("definitionKey", "forged"), ("name", "forged")],
        ),
        (
            "/console/accounts/Acct/definitions/forged/status".into(),
            vec![("status", "inactive")],
        ),
        (
            "/console/accounts/Acct/definitions/forged/queue/delete".into(),
            vec![],
        ),
        (
            "/console/accounts/Acct/definitions/forged/delete".into(),
            vec![],
        ),
        ("/console/sign-out".into(), vec![]),
    ];
    for (path, fields) in &forms {
        let missing = op.post(path, fields).await;
        assert_eq!(
            missing.status,
            StatusCode::FORBIDDEN,
            "{path} without a token"
        );
        assert!(missing.html.contains("security token"), "{}", missing.html);
        let mut wrong = fields.clone();
        wrong.push(("csrf", "0123456789abcdef"));
        let refused = op.post(path, &wrong).await;
        assert_eq!(
            refused.status,
            StatusCode::FORBIDDEN,
            "{path} with a wrong token"
        );
    }
    let upload = op
        .post_file(
            "/console/accounts/Acct/lists/ListA/upload",
            &[("subscribe", "")],
            "a.csv",
            "mobileNumber\n15555555510\n",
        )
        .await;
    assert_eq!(upload.status, StatusCode::FORBIDDEN);

    // Nothing changed.
    assert_eq!(accounts(&app).await.len(), 1);
    let base = "/admin/v1/accounts/Acct";
    let codes = app
        .admin_ok(Method::GET, &format!("{base}/codes"), Value::Null)
        .await;
    assert_eq!(codes["items"].as_array().expect("codes").len(), 1);
    assert_eq!(codes["items"][0]["type"], "short");
    let keyword = app
        .admin_ok(
            Method::GET,
            &format!("{base}/keywords/{keyword_id}"),
            Value::Null,
        )
        .await;
    assert_eq!(keyword["response"], "Welcome");
    let message = app
        .admin_ok(
            Method::GET,
            &format!("{base}/messages/MzA6Nzg6MA"),
            Value::Null,
        )
        .await;
    assert_eq!(message["status"], "Active");
    assert_eq!(message["name"], "Welcome");
    let list = app
        .admin_ok(Method::GET, &format!("{base}/lists/ListA"), Value::Null)
        .await;
    assert_eq!(list["size"], 0);
    assert_eq!(app.send_count("Acct").await, 1);
    let send = app
        .admin_ok(
            Method::GET,
            &format!("/admin/v1/sends/{token}"),
            Value::Null,
        )
        .await;
    assert_eq!(send["status"], "New");
    // ... and the session survived the forged sign-out.
    assert_eq!(op.get("/console/accounts").await.status, StatusCode::OK);

    // With the token, the same form works.
    let ok = op
        .post("/console/accounts", &[("csrf", &csrf), ("name", "Real")])
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.html);
    assert_eq!(accounts(&app).await.len(), 2);
}

#[tokio::test]
async fn a_session_expires_after_console_session_minutes_on_the_servers_clock() {
    let app = spawn_app_with(|f| f.console.session_minutes = Some(5)).await;
    common::fixture(&app, "Acct").await;
    let mut op = Operator::new(&app);
    let csrf = op.sign_in().await;
    let events = "/console/accounts/Acct/sends/nosuchsend/events";

    app.clock.advance(5 * 60_000 - 1);
    assert_eq!(
        op.get("/console/accounts/Acct").await.status,
        StatusCode::OK
    );

    app.clock.advance(1);
    let kept_cookie = op.cookies.clone();
    let expired = op.get("/console/accounts/Acct").await;
    assert_eq!(expired.status, StatusCode::SEE_OTHER);
    assert_eq!(expired.location(), "/console/sign-in?expired=1");
    let cleared = expired
        .set_cookie("tidings_console")
        .expect("cleared cookie");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let notice = op.get(expired.location()).await;
    assert!(
        notice
            .html
            .contains("Your session has expired. Sign in again."),
        "{}",
        notice.html
    );

    // The old cookie (say, from another tab) no longer works for pages, forms or streams.
    op.cookies = kept_cookie;
    let form = op
        .post("/console/accounts", &[("csrf", &csrf), ("name", "Late")])
        .await;
    assert_eq!(form.status, StatusCode::SEE_OTHER);
    assert!(form.location().starts_with("/console/sign-in"));
    assert_eq!(accounts(&app).await.len(), 1);
    let stream = op.get(events).await;
    assert_eq!(stream.status, StatusCode::SEE_OTHER);
    assert!(stream.location().starts_with("/console/sign-in"));

    // Signing in again starts a new session.
    op.cookies.clear();
    op.sign_in().await;
    assert_eq!(
        op.get("/console/accounts/Acct").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn signing_out_ends_the_session_on_the_server() {
    let app = spawn_app().await;
    let mut op = Operator::new(&app);
    let csrf = op.sign_in().await;
    let kept = op.cookies.clone();
    let out = op.post("/console/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.location(), "/console/sign-in");
    assert!(out
        .set_cookie("tidings_console")
        .expect("cleared")
        .contains("Max-Age=0"));
    // Replaying the old cookie is refused: the session is gone, not only the cookie.
    op.cookies = kept;
    let page = op.get("/console/accounts").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), "/console/sign-in");
}

#[tokio::test]
async fn user_content_is_escaped_everywhere_it_is_shown() {
    let app = spawn_app().await;
    let f = fixture(&app, "Acct").await;
    let evil_text = "<script>window.pwned=1</script>";
    let evil_name = "\"><img src=x onerror=alert(1)>";
    app.create_message(
        "Acct",
        json!({"id": "Evil", "name": evil_name, "code": f.code, "text": evil_text,
               "targetListIds": [f.list_a]}),
    )
    .await;
    app.admin_ok(
        Method::POST,
        "/admin/v1/accounts/Acct/lists",
        json!({"id": "EvilList", "name": "<b>bold</b>"}),
    )
    .await;
    let mut op = Operator::new(&app);
    op.sign_in().await;
    for path in [
        "/console/accounts/Acct/messages",
        "/console/accounts/Acct/messages/Evil",
        "/console/accounts/Acct/lists",
    ] {
        let page = op.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(
            !page.html.contains("<script>window"),
            "{path}: {}",
            page.html
        );
        assert!(!page.html.contains("<img src=x"), "{path}");
        assert!(!page.html.contains("<b>bold"), "{path}");
    }
    let message = op.get("/console/accounts/Acct/messages/Evil").await;
    assert!(message
        .html
        .contains("&lt;script&gt;window.pwned=1&lt;/script&gt;"));
    assert!(message
        .html
        .contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
    // Pages run only the console's own script, and say so in their policy.
    let csp = message.headers["content-security-policy"]
        .to_str()
        .expect("csp");
    assert!(csp.contains("script-src 'self'") && csp.contains("default-src 'self'"));
    assert_eq!(message.html.matches("<script").count(), 1);
    assert!(message
        .html
        .contains("<script src=\"/console/assets/console.js\" defer></script>"));
}

#[tokio::test]
async fn pages_and_assets_come_from_the_server_itself() {
    let app = spawn_app().await;
    let f = fixture(&app, "Acct").await;
    let token = common::assert_accepted(&app.send_list(&f.token, &f.message, &json!({})).await);
    let mut op = Operator::new(&app);
    op.sign_in().await;
    let pages = [
        "/console/sign-in".to_string(),
        "/console/accounts".into(),
        "/console/accounts/Acct".into(),
        "/console/accounts/Acct/codes".into(),
        "/console/accounts/Acct/keywords".into(),
        "/console/accounts/Acct/messages".into(),
        "/console/accounts/Acct/messages/MzA6Nzg6MA".into(),
        "/console/accounts/Acct/lists".into(),
        "/console/accounts/Acct/lists/ListA".into(),
        "/console/accounts/Acct/sends".into(),
        format!("/console/accounts/Acct/sends/{token}"),
        format!("/console/accounts/Acct/sends/{token}/tracking"),
        "/console/outbox".into(),
    ];
    for path in &pages {
        let page = op.get(path).await;
        // The sign-in page sends a signed-in operator on to the accounts.
        if path == "/console/sign-in" {
            assert_eq!(page.status, StatusCode::SEE_OTHER);
            continue;
        }
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.html);
        for attr in ["src=\"http", "href=\"http", "src=\"//", "href=\"//", "url("] {
            assert!(!page.html.contains(attr), "{path} refers elsewhere: {attr}");
        }
        assert!(page.headers.contains_key("content-security-policy"));
        assert_eq!(page.headers["cache-control"], "no-store");
    }
    for (asset, kind) in [
        ("/console/assets/console.css", "text/css"),
        ("/console/assets/console.js", "text/javascript"),
    ] {
        let r = op.get(asset).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.headers["content-type"]
            .to_str()
            .expect("type")
            .starts_with(kind));
        assert!(!r.html.contains("http://") && !r.html.contains("https://"));
    }
    let missing = op.get("/console/no/such/page").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.html.contains("There is no such page"));
}

#[tokio::test]
async fn codes_keywords_lists_and_messages_are_managed_through_the_admin_operations() {
    let app = spawn_app().await;
    app.admin_ok(
        Method::POST,
        "/admin/v1/accounts",
        json!({"id": "Acct", "name": "Acct"}),
    )
    .await;
    let mut op = Operator::new(&app);
    let csrf = op.sign_in().await;
    let base = "/console/accounts/Acct";

    // The admin API's validation messages come back on the page, with its status.
    let bad = op
        .post(&format!("{base}/codes"), &[("csrf", &csrf), ("code", "12")])
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.html.contains("Code 12 isn&#39;t valid.") || bad.html.contains("Code 12 isn't valid."),
        "{}",
        bad.html
    );
    let code = op
        .post(
            &format!("{base}/codes"),
            &[
                ("csrf", &csrf),
                ("code", "88976"),
                ("type", "short"),
                ("carrier", "simulator"),
                ("countryCode", "US"),
            ],
        )
        .await;
    assert_eq!(code.status, StatusCode::SEE_OTHER, "{}", code.html);
    let dup = op
        .post(
            &format!("{base}/codes"),
            &[("csrf", &csrf), ("code", "88976")],
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    assert!(
        dup.html.contains("Code 88976 already exists."),
        "{}",
        dup.html
    );

    let keyword = op
        .post(
            &format!("{base}/keywords"),
            &[
                ("csrf", &csrf),
                ("code", "88976"),
                ("keyword", "JOIN"),
                ("response", "Welcome"),
            ],
        )
        .await;
    assert_eq!(keyword.status, StatusCode::SEE_OTHER, "{}", keyword.html);
    let list = op
        .post(
            &format!("{base}/lists"),
            &[("csrf", &csrf), ("name", "Customers"), ("id", "Customers")],
        )
        .await;
    assert_eq!(list.status, StatusCode::SEE_OTHER);
    assert_eq!(list.location(), format!("{base}/lists/Customers"));

    let bad_message = op
        .post(
            &format!("{base}/messages"),
            &[
                ("csrf", &csrf),
                ("name", "Promo"),
                ("code", "88976"),
                ("text", "Hi"),
                ("status", "Active"),
                ("contentUrl", "ftp://nope"),
            ],
        )
        .await;
    assert_eq!(bad_message.status, StatusCode::BAD_REQUEST);
    assert!(
        bad_message.html.contains("ftp://nope isn"),
        "{}",
        bad_message.html
    );
    let message = op
        .post(
            &format!("{base}/messages"),
            &[
                ("csrf", &csrf),
                ("name", "Promo"),
                ("code", "88976"),
                ("text", "Hi %%FirstName%%"),
                ("status", "Draft"),
                ("targetListIds", "Customers"),
                ("contentUrl", ""),
            ],
        )
        .await;
    assert_eq!(message.status, StatusCode::SEE_OTHER, "{}", message.html);
    let path = message.location().to_string();
    let id = path.rsplit('/').next().expect("id").to_string();
    let page = op.get(&path).await;
    assert!(
        page.html.contains(&format!("data-copy=\"{id}\"")),
        "copy button for the ID"
    );
    assert!(page.html.contains("Message Promo created."));

    let stored = app
        .admin_ok(
            Method::GET,
            &format!("/admin/v1/accounts/Acct/messages/{id}"),
            Value::Null,
        )
        .await;
    assert_eq!(stored["status"], "Draft");
    assert_eq!(stored["targetListIds"], json!(["Customers"]));

    // Edit, then activate and deactivate.
    let edit = op
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("name", "Promo 2"),
                ("code", "88976"),
                ("text", "Changed"),
                ("status", "Draft"),
                ("contentUrl", "https://media.example/a.png"),
            ],
        )
        .await;
    assert_eq!(edit.status, StatusCode::SEE_OTHER, "{}", edit.html);
    let on = op
        .post(
            &format!("{path}/status"),
            &[("csrf", &csrf), ("status", "Active")],
        )
        .await;
    assert_eq!(on.status, StatusCode::SEE_OTHER);
    let stored = app
        .admin_ok(
            Method::GET,
            &format!("/admin/v1/accounts/Acct/messages/{id}"),
            Value::Null,
        )
        .await;
    assert_eq!(stored["name"], "Promo 2");
    assert_eq!(stored["text"], "Changed");
    assert_eq!(stored["status"], "Active");
    assert_eq!(stored["targetListIds"], json!([]));
    assert_eq!(stored["contentUrl"], "https://media.example/a.png");
    let page = op.get(&path).await;
    assert!(page.html.contains("Message is now Active."));
    assert!(page.html.contains(">Deactivate</button>"));
    op.post(
        &format!("{path}/status"),
        &[("csrf", &csrf), ("status", "Inactive")],
    )
    .await;
    let stored = app
        .admin_ok(
            Method::GET,
            &format!("/admin/v1/accounts/Acct/messages/{id}"),
            Value::Null,
        )
        .await;
    assert_eq!(stored["status"], "Inactive");

    // Deletes.
    let del = op.post(&format!("{path}/delete"), &[("csrf", &csrf)]).await;
    assert_eq!(del.status, StatusCode::SEE_OTHER);
    let gone = app
        .admin(
            Method::GET,
            &format!("/admin/v1/accounts/Acct/messages/{id}"),
            Value::Null,
        )
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(op.get(&path).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn codes_and_keywords_are_edited_on_their_own_pages() {
    let app = spawn_app().await;
    let f = fixture(&app, "Acct").await;
    let mut op = Operator::new(&app);
    let csrf = op.sign_in().await;
    let base = "/console/accounts/Acct";
    let code = app
        .admin_ok(
            Method::GET,
            "/admin/v1/accounts/Acct/codes/88976",
            Value::Null,
        )
        .await;
    let code_id = code["id"].as_str().expect("code id").to_string();

    let codes = op.get(&format!("{base}/codes")).await;
    let edit = format!("{base}/codes/{code_id}");
    assert!(
        codes.html.contains(&format!("href=\"{edit}\"")),
        "{}",
        codes.html
    );
    let page = op.get(&edit).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("Save code"), "{}", page.html);

    // A refused edit shows the admin API's message, with its status, and keeps what was typed.
    let bad = op
        .post(
            &edit,
            &[
                ("csrf", &csrf),
                ("countryCode", "US"),
                ("type", "short"),
                ("carrier", "nowhere"),
                ("helpText", "Typed help"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.html.contains("Carrier nowhere isn&#39;t configured.")
            || bad.html.contains("Carrier nowhere isn't configured."),
        "{}",
        bad.html
    );
    assert!(bad.html.contains("Typed help"), "{}", bad.html);
    let saved = op
        .post(
            &edit,
            &[
                ("csrf", &csrf),
                ("countryCode", "CA"),
                ("type", "long"),
                ("carrier", "simulator"),
                ("optOutText", ""),
                ("helpText", "Reply STOP to end."),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.html);
    let code = app
        .admin_ok(
            Method::GET,
            "/admin/v1/accounts/Acct/codes/88976",
            Value::Null,
        )
        .await;
    assert_eq!(
        (&code["countryCode"], &code["type"], &code["helpText"]),
        (&json!("CA"), &json!("long"), &json!("Reply STOP to end."))
    );

    let keywords = app
        .admin_ok(Method::GET, "/admin/v1/accounts/Acct/keywords", Value::Null)
        .await;
    let keyword_id = keywords["items"][0]["id"].as_str().expect("id").to_string();
    let edit = format!("{base}/keywords/{keyword_id}");
    assert!(op
        .get(&format!("{base}/keywords"))
        .await
        .html
        .contains(&format!("href=\"{edit}\"")));
    let bad = op
        .post(
            &edit,
            &[("csrf", &csrf), ("response", "Hi"), ("doubleOptIn", "true")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.html
            .contains("confirmText is required when doubleOptIn is true."),
        "{}",
        bad.html
    );
    let saved = op
        .post(
            &edit,
            &[
                ("csrf", &csrf),
                ("response", "You are in!"),
                ("doubleOptIn", "true"),
                ("confirmText", "Reply Y to join."),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.html);
    let keyword = app
        .admin_ok(
            Method::GET,
            &format!("/admin/v1/accounts/Acct/keywords/{keyword_id}"),
            Value::Null,
        )
        .await;
    assert_eq!(keyword["response"], "You are in!");
    assert_eq!(keyword["doubleOptIn"], true);
    assert_eq!(keyword["confirmText"], "Reply Y to join.");
    assert!(
        keyword.get("optIn").is_none(),
        "an ordinary keyword: {keyword}"
    );
    // An opt-in message's rules are shown and edited on the same page (API.md §6b).
    let page = op.get(&edit).await;
    assert!(page.html.contains("Opt-in message"), "{}", page.html);
    let refused = op
        .post(
            &edit,
            &[
                ("csrf", &csrf),
                ("doubleOptIn", "true"),
                ("confirmText", "How old are you?"),
                ("optInKind", "Age"),
                ("optInMinimumAge", "old"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused
            .html
            .contains("Minimum age old isn&#x27;t a whole number.")
            || refused
                .html
                .contains("Minimum age old isn't a whole number."),
        "{}",
        refused.html
    );
    let aged = op
        .post(
            &edit,
            &[
                ("csrf", &csrf),
                ("response", "Welcome."),
                ("confirmText", "How old are you?"),
                ("optInKind", "Age"),
                ("optInMinimumAge", "18"),
                ("optInErrorText", "A number, please."),
                ("optInStartDate", "1/1/2015"),
                ("optInNextKeyword", "ZIP"),
            ],
        )
        .await;
    assert_eq!(aged.status, StatusCode::SEE_OTHER, "{}", aged.html);
    let keyword = app
        .admin_ok(
            Method::GET,
            &format!("/admin/v1/accounts/Acct/keywords/{keyword_id}"),
            Value::Null,
        )
        .await;
    assert_eq!(
        keyword["optIn"],
        json!({"kind": "Age", "name": keyword["keyword"], "minimumAge": 18,
               "errorText": "A number, please.", "startDate": "2015-01-01", "nextKeyword": "ZIP"})
    );
    assert_eq!(keyword["doubleOptIn"], true, "an Age opt-in asks first");
    let shown = op.get(&edit).await;
    assert!(shown.html.contains("2015-01-01"), "{}", shown.html);
    let missing = op.get(&format!("{base}/keywords/nosuchkeyword")).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    drop(f);
}

#[tokio::test]
async fn a_csv_upload_imports_the_good_rows_and_lists_every_bad_one() {
    let app = spawn_app().await;
    fixture(&app, "Acct").await;
    let mut op = Operator::new(&app);
    let csrf = op.sign_in().await;
    let csv = "mobileNumber,FirstName\n15555555510,Ann\n555-1234,Bob\n123,Cy\n+15555555511,Dee\n,Nobody\n";
    let up = op
        .post_file(
            "/console/accounts/Acct/lists/ListB/upload",
            &[("csrf", &csrf), ("subscribe", "88976 JOIN")],
            "people.csv",
            csv,
        )
        .await;
    assert_eq!(up.status, StatusCode::SEE_OTHER, "{}", up.html);
    assert_eq!(
        up.location(),
        "/console/accounts/Acct/lists/ListB?import=1#import-report"
    );
    let page = op.get(up.location()).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page
        .html
        .contains("Imported people.csv: 2 added, 0 updated, 3 rejected."));
    for expected in [
        "555-1234 isn&#39;t a numeric string",
        "123 isn&#39;t a valid mobile number.",
        "A mobile number is required.",
    ] {
        let plain = expected.replace("&#39;", "'");
        assert!(
            page.html.contains(expected) || page.html.contains(&plain),
            "{expected} missing: {}",
            page.html
        );
    }
    assert!(page.html.contains("data-list-size>2<"), "{}", page.html);
    let list = app
        .admin_ok(
            Method::GET,
            "/admin/v1/accounts/Acct/lists/ListB",
            Value::Null,
        )
        .await;
    assert_eq!(list["size"], 2);
    let subs = app
        .admin_ok(
            Method::GET,
            "/admin/v1/accounts/Acct/subscriptions?mobileNumber=15555555511",
            Value::Null,
        )
        .await;
    assert_eq!(subs["items"][0]["status"], "Subscribed", "{subs}");

    // A file the importer refuses as a whole says why.
    let refused = op
        .post_file(
            "/console/accounts/Acct/lists/ListB/upload",
            &[("csrf", &csrf), ("subscribe", "")],
            "bad.csv",
            "phone\n15555555512\n",
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused
        .html
        .contains("The CSV header has no mobileNumber column."));
    // Another session's report is not shown to this one.
    let mut other = Operator::new(&app);
    other.sign_in().await;
    let foreign = other
        .get("/console/accounts/Acct/lists/ListB?import=1")
        .await;
    assert!(!foreign.html.contains("import-report"));
}

/// Reads server-sent events until one named `name` arrives; returns its data.
async fn next_event(resp: &mut reqwest::Response, buffer: &mut String, name: &str) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let mut event = "message";
            let mut data = String::new();
            for line in block.lines() {
                if let Some(e) = line.strip_prefix("event: ") {
                    event = e;
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data.push_str(d);
                }
            }
            if event == name {
                return data;
            }
        }
        let chunk = tokio::time::timeout_at(deadline, resp.chunk())
            .await
            .unwrap_or_else(|_| panic!("no {name} event in time"))
            .expect("stream")
            .unwrap_or_else(|| panic!("stream ended before a {name} event"));
        buffer.push_str(&String::from_utf8_lossy(&chunk));
    }
}

#[tokio::test]
async fn a_test_send_from_the_console_runs_and_its_progress_streams_live() {
    let app = spawn_app().await;
    let f = fixture(&app, "Acct").await;
    import_contacts(
        &app,
        "Acct",
        &f.list_a,
        json!([{"mobileNumber": "15555555510", "attributes": {"FirstName": "Ann"}},
               {"mobileNumber": "15555555511"}]),
        true,
    )
    .await;
    let mut op = Operator::new(&app);
    let csrf = op.sign_in().await;
    let message = "/console/accounts/Acct/messages/MzA6Nzg6MA";

    // Refused sends show the contract's messages.
    let refused = op
        .post(
            &format!("{message}/send"),
            &[("csrf", &csrf), ("utcOffset", "-0500")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused
        .html
        .contains("A window start time must be specified when using a blackout window."));
    assert!(refused
        .html
        .contains("A window end time must be specified when using a blackout window."));
    assert_eq!(app.send_count("Acct").await, 0);

    let sent = op
        .post(
            &format!("{message}/send"),
            &[
                ("csrf", &csrf),
                ("targetListIds", "ListA"),
                ("exclusions", "ignore"),
            ],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.html);
    let send_path = sent.location().to_string();
    let token = send_path.rsplit('/').next().expect("token").to_string();
    assert!(common::is_minted_token(&token), "{send_path}");
    let page = op.get(&send_path).await;
    assert!(
        page.html.contains("data-field=\"status\">New<"),
        "{}",
        page.html
    );

    // The live stream: the first event is the current state, the next ones follow the engine.
    let mut stream = op
        .http
        .get(app.url(&format!("{send_path}/events")))
        .header(COOKIE, op.cookie_header())
        .send()
        .await
        .expect("stream");
    assert_eq!(stream.status(), StatusCode::OK);
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    let mut buffer = String::new();
    let first: Value =
        serde_json::from_str(&next_event(&mut stream, &mut buffer, "progress").await)
            .expect("json");
    assert_eq!(first["status"], "New");
    assert_eq!(first["final"], false);
    run_engine(&app).await;
    let mut last = first;
    while last["status"] != "Finished" || last["counts"]["delivered"] != 2 {
        last = serde_json::from_str(&next_event(&mut stream, &mut buffer, "progress").await)
            .expect("json");
    }
    assert_eq!(last["count"], 2);
    assert_eq!(last["final"], true);
    assert!(last["completeDate"]
        .as_str()
        .is_some_and(|d| d.ends_with(" CST")));
    drop(stream);

    let page = op.get(&send_path).await;
    assert!(page.html.contains("data-field=\"status\">Finished<"));
    assert!(
        page.html.contains("data-field=\"count-delivered\">2<"),
        "{}",
        page.html
    );
    let tracking = op.get(&format!("{send_path}/tracking")).await;
    assert!(tracking.html.contains("15555555510") && tracking.html.contains("15555555511"));
    assert!(tracking.html.contains("Delivered to handset"));
    let outbox = op.get("/console/outbox").await;
    assert!(outbox.html.contains("Hello Ann"), "{}", outbox.html);
    let sends = app.sends("Acct").await;
    assert_eq!(sends.len(), 1);
    assert_eq!(sends[0]["tokenId"], token.as_str());
    assert_eq!(sends[0]["state"], "Finished");
}

#[tokio::test]
async fn a_scheduled_send_is_canceled_from_its_page() {
    let app = spawn_app().await;
    let f = fixture(&app, "Acct").await;
    import_contacts(
        &app,
        "Acct",
        &f.list_a,
        json!([{"mobileNumber": "15555555510"}]),
        true,
    )
    .await;
    let mut op = Operator::new(&app);
    let csrf = op.sign_in().await;
    let sent = op
        .post(
            "/console/accounts/Acct/messages/MzA6Nzg6MA/send",
            &[("csrf", &csrf), ("sendTime", "2030-01-01T10:00")],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.html);
    let send_path = sent.location().to_string();
    let token = send_path.rsplit('/').next().expect("token").to_string();
    let page = op.get(&send_path).await;
    assert!(
        page.html.contains("2030-01-01T04:00:00.000 CST"),
        "{}",
        page.html
    );
    assert!(page.html.contains("Cancel send"));

    let canceled = op
        .post(&format!("{send_path}/cancel"), &[("csrf", &csrf)])
        .await;
    assert_eq!(canceled.status, StatusCode::SEE_OTHER);
    assert_eq!(canceled.location(), send_path);
    let page = op.get(&send_path).await;
    assert!(page.html.contains("Send canceled"), "{}", page.html);
    assert!(page.html.contains("data-field=\"status\">Canceled<"));
    assert!(!page.html.contains("Cancel send"));
    run_engine(&app).await;
    let status = app
        .admin_ok(
            Method::GET,
            &format!("/admin/v1/sends/{token}"),
            Value::Null,
        )
        .await;
    assert_eq!(status["status"], "Canceled");
    assert!(common::outbox_of(&app, &token).await.is_empty());
    // Canceling again says why not.
    op.post(&format!("{send_path}/cancel"), &[("csrf", &csrf)])
        .await;
    let page = op.get(&send_path).await;
    assert!(page.html.contains("is already final"), "{}", page.html);
}

#[tokio::test]
async fn a_test_send_inside_a_blackout_window_shows_when_it_may_go() {
    let app = spawn_app().await;
    let f = fixture(&app, "Acct").await;
    import_contacts(
        &app,
        "Acct",
        &f.list_a,
        json!([{"mobileNumber": "15555555510"}]),
        true,
    )
    .await;
    let mut op = Operator::new(&app);
    let csrf = op.sign_in().await;
    // Now is 16:00 UTC: inside 15:00–17:00 at UTC+00:00, so the send waits for 17:00 UTC.
    let sent = op
        .post(
            "/console/accounts/Acct/messages/MzA6Nzg6MA/send",
            &[
                ("csrf", &csrf),
                ("utcOffset", "+0000"),
                ("windowStart", "15:00"),
                ("windowEnd", "17:00"),
            ],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.html);
    run_engine(&app).await;
    let page = op.get(sent.location()).await;
    assert!(
        page.html.contains("data-field=\"status\">New<"),
        "{}",
        page.html
    );
    assert!(
        page.html
            .contains("data-field=\"scheduledFor\">2026-11-26T11:00:00.000 CST<"),
        "{}",
        page.html
    );
    assert!(page
        .html
        .contains("no texts from 15:00 to 17:00 (UTC+00:00)"));
}

#[tokio::test]
async fn an_open_progress_stream_does_not_hold_up_shutdown() {
    use tidings::config::{Config, FileConfig};
    let dir = tempfile::tempdir().expect("dir");
    let database = common::test_database(dir.path());
    let mut file = FileConfig {
        listen: Some("127.0.0.1:0".into()),
        metrics_listen: Some("127.0.0.1:0".into()),
        database_url: Some(database.url.clone()),
        data_dir: Some(dir.path().join("data").display().to_string()),
        ..FileConfig::default()
    };
    file.admin.token = Some(ADMIN_TOKEN.into());
    let config = Config::resolve(file, None, &|_| None).expect("config");
    let clock = Arc::new(api::clock::ManualClock::new(common::NOW_MS));
    let application = tidings::Application::build(
        &config,
        clock as Arc<dyn api::Clock>,
        tidings::EngineMode::Background,
    )
    .await
    .expect("app");
    let base = format!("http://{}/", application.addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(application.run_until_stopped(async move {
        let _ = stopped.await;
    }));

    // Everything through the console: an account, a code, a message and a scheduled test send.
    let mut op = Operator::at(&base);
    let csrf = op.sign_in().await;
    let steps: [(&str, Vec<(&str, &str)>); 3] = [
        ("/console/accounts", vec![("name", "Acct"), ("id", "Acct")]),
        ("/console/accounts/Acct/codes", vec![("code", "88976")]),
        (
            "/console/accounts/Acct/messages",
            vec![
                ("name", "Later"),
                ("id", "Later"),
                ("code", "88976"),
                ("text", "Hi"),
                ("status", "Active"),
            ],
        ),
    ];
    for (path, fields) in steps {
        let mut fields = fields;
        fields.push(("csrf", &csrf));
        let done = op.post(path, &fields).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{path}: {}", done.html);
    }
    let list = op
        .post(
            "/console/accounts/Acct/lists",
            &[("csrf", &csrf), ("name", "L"), ("id", "L")],
        )
        .await;
    assert_eq!(list.status, StatusCode::SEE_OTHER);
    let sent = op
        .post(
            "/console/accounts/Acct/messages/Later/send",
            &[
                ("csrf", &csrf),
                ("targetListIds", "L"),
                ("sendTime", "2030-01-01T10:00"),
            ],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.html);
    let mut stream = op
        .http
        .get(op.url(&format!("{}/events", sent.location())))
        .header(COOKIE, op.cookie_header())
        .send()
        .await
        .expect("stream");
    let mut buffer = String::new();
    let first: Value =
        serde_json::from_str(&next_event(&mut stream, &mut buffer, "progress").await)
            .expect("json");
    assert_eq!(first["status"], "New");

    let _ = stop.send(());
    let done = tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the server stops while a stream is open");
    done.expect("join").expect("served");
    // The server ended the stream.
    let rest = tokio::time::timeout(Duration::from_secs(5), async {
        while let Ok(Some(_)) = stream.chunk().await {}
    })
    .await;
    assert!(rest.is_ok(), "the stream is still open");
    drop(database);
}

/// Send definitions (API.md §9) on their page: created through the API's rules (its messages
/// shown on a refusal), made Inactive and Active, their waiting messages counted and the queue
/// emptied, deleted.
#[tokio::test]
async fn send_definitions_are_managed_on_their_page() {
    let app = spawn_app().await;
    let f = fixture(&app, "Acct").await;
    let mut op = Operator::new(&app);
    let csrf = op.sign_in().await;
    let page = "/console/accounts/Acct/definitions";

    let refused = op
        .post(
            page,
            &[
                ("csrf", &csrf),
                ("definitionKey", "alerts"),
                ("name", "Alerts"),
                ("message", "Hi %%FirstName%%"),
                ("shortCode", "88976"),
                ("keyword", "NOPE"),
                ("status", "active"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.html);
    assert!(
        refused
            .html
            .contains("MCMS_UTM_Validation_InvalidValue_keyword"),
        "{}",
        refused.html
    );
    let created = op
        .post(
            page,
            &[
                ("csrf", &csrf),
                ("definitionKey", "alerts"),
                ("name", "Alerts"),
                ("message", "Hi %%FirstName%%"),
                ("shortCode", "88976"),
                ("keyword", "join"),
                ("status", "inactive"),
                ("autoAddSubscriber", "true"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.html);
    let api = app
        .sms(
            Method::GET,
            "/messaging/v1/sms/definitions/alerts",
            &f.token,
            &Value::Null,
        )
        .await;
    assert_eq!(api.status, 200, "{}", api.body);
    assert_eq!(api.body["status"], "Inactive");
    assert_eq!(api.body["subscriptions"]["keyword"], "JOIN");

    // A message waits while the definition is Inactive: the page counts it; emptying the queue.
    let sent = app
        .sms(
            Method::POST,
            "/messaging/v1/sms/messages/wait-1",
            &f.token,
            &json!({"definitionKey": "alerts",
                    "recipient": {"to": "15555551290", "contactKey": "w1"}}),
        )
        .await;
    assert_eq!(sent.status, 202, "{}", sent.body);
    let shown = op.get(page).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert!(
        shown.html.contains("data-definition=\"alerts\""),
        "{}",
        shown.html
    );
    assert!(shown.html.contains("data-queue=\"1\""), "{}", shown.html);
    assert!(
        shown.html.contains("data-status=\"Inactive\""),
        "{}",
        shown.html
    );
    let emptied = op
        .post(&format!("{page}/alerts/queue/delete"), &[("csrf", &csrf)])
        .await;
    assert_eq!(emptied.status, StatusCode::SEE_OTHER);
    let status = app
        .sms(
            Method::GET,
            "/messaging/v1/sms/messages/wait-1",
            &f.token,
            &Value::Null,
        )
        .await;
    assert_eq!(status.body["info"]["statusCode"], 39, "{}", status.body);
    assert!(op.get(page).await.html.contains("data-queue=\"0\""));

    // Active, then deleted.
    let activated = op
        .post(
            &format!("{page}/alerts/status"),
            &[("csrf", &csrf), ("status", "active")],
        )
        .await;
    assert_eq!(activated.status, StatusCode::SEE_OTHER);
    assert!(op.get(page).await.html.contains("data-status=\"Active\""));
    let deleted = op
        .post(&format!("{page}/alerts/delete"), &[("csrf", &csrf)])
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    let after = op.get(page).await;
    assert!(
        !after.html.contains("data-definition=\"alerts\""),
        "{}",
        after.html
    );
    assert!(
        after.html.contains("Definition alerts deleted."),
        "{}",
        after.html
    );
}

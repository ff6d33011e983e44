//! Hostile and careless clients against the real binary (API.md §1 "Connection limits"): a request
//! head trickled a byte a second is cut 10 s after its first byte; a JSON or form body still
//! arriving 30 s after its head answers 408 with the contract's body and closes the connection; a
//! streamed CSV upload (admin API and console) that sends no byte for 30 s answers 408, while one
//! that keeps sending outlives 30 s; an idle keep-alive connection (or one that never sent a
//! byte) is closed after 60 s, not at the head limit; 1,000 open idle and half-sent connections do
//! not stop a new client; at `[api] max_connections` the longest-idle connection is closed to admit
//! a new one; and `serve` refuses a cap that the open-file limit cannot fit.
//!
//! The slow cases of one limit run concurrently, so each test takes about as long as its longest
//! limit, not the sum. Every wait has a deadline; only the slow clients pace themselves.

mod common;

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use common::process::{Server, Site};

const ADMIN_TOKEN: &str = "hostile-connections-admin-token";
const ACCOUNT: &str = "hostile";
const LIST: &str = "Everyone";
const TOO_SLOW: &str = r#"{"errors":["The request took too long to arrive."]}"#;
/// How long a slow client waits between two bytes.
const PACE: Duration = Duration::from_secs(1);

const CONFIG: &str = "[api]\nrate_limit = 0\n";

/// A site with an account, a list and an API client; returns the running server and the
/// client's credentials.
async fn started(config: &str) -> (Site, Server, (String, String)) {
    // No idle pooled connection of the harness stays open in the server.
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("client");
    let mut site = Site::new(config, ADMIN_TOKEN);
    let server = site.start(&http).await;
    server
        .admin(
            &http,
            "/admin/v1/accounts",
            json!({"id": ACCOUNT, "name": ACCOUNT}),
        )
        .await;
    server
        .admin(
            &http,
            &format!("/admin/v1/accounts/{ACCOUNT}/lists"),
            json!({"id": LIST, "name": LIST}),
        )
        .await;
    let client = server
        .admin(
            &http,
            &format!("/admin/v1/accounts/{ACCOUNT}/clients"),
            json!({}),
        )
        .await;
    let credentials = (
        client["clientId"].as_str().expect("clientId").to_string(),
        client["clientSecret"]
            .as_str()
            .expect("clientSecret")
            .to_string(),
    );
    (site, server, credentials)
}

async fn connect(server: &Server) -> TcpStream {
    TcpStream::connect(server.addr()).await.expect("connect")
}

/// One HTTP response read from a raw connection.
struct RawResponse {
    status: u16,
    head: String,
    body: String,
}

impl RawResponse {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (k, v) = line.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then_some(v.trim())
        })
    }
}

/// Reads one response with a `Content-Length` body from `buf` (bytes already read) and the
/// stream; `None` when the connection closes first.
async fn read_response(stream: &mut TcpStream, mut buf: Vec<u8>) -> Option<RawResponse> {
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let status = head.split(' ').nth(1)?.parse().ok()?;
    let mut response = RawResponse {
        status,
        head,
        body: String::new(),
    };
    let length: usize = response
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    response.body = String::from_utf8_lossy(&buf[head_end..head_end + length]).to_string();
    Some(response)
}

/// Whether the server closed the connection within `limit` (EOF or reset), reading and
/// discarding anything it sends first.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> bool {
    let mut chunk = [0u8; 1024];
    let read_to_end = async {
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(limit, read_to_end).await.is_ok()
}

/// Whether the connection is still open: nothing to read yet, and no end of stream.
fn still_open(stream: &TcpStream) -> bool {
    let mut byte = [0u8; 1];
    matches!(stream.try_read(&mut byte), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
}

/// What a slow sender saw.
enum Outcome {
    /// The server answered (after this long since `start`).
    Answered(RawResponse, Duration),
    /// The server closed the connection without an answer (after this long).
    Closed(Duration),
    /// The server neither answered nor closed while everything was sent.
    Waited,
}

/// Sends `bytes` one at a time, `PACE` apart, watching for an answer or a close in between;
/// times are measured from `start`.
async fn trickle(stream: &mut TcpStream, bytes: &[u8], start: Instant) -> Outcome {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    for byte in bytes {
        if stream.write_all(std::slice::from_ref(byte)).await.is_err() {
            return Outcome::Closed(start.elapsed());
        }
        match tokio::time::timeout(PACE, stream.read(&mut chunk)).await {
            Err(_) => {}
            Ok(Ok(0)) | Ok(Err(_)) => return Outcome::Closed(start.elapsed()),
            Ok(Ok(n)) => {
                let at = start.elapsed();
                buf.extend_from_slice(&chunk[..n]);
                return match read_response(stream, buf).await {
                    Some(response) => Outcome::Answered(response, at),
                    None => Outcome::Closed(at),
                };
            }
        }
    }
    Outcome::Waited
}

/// Sends a whole request head, then trickles its body; expects the 408 of API.md §1 about 30 s
/// after the head, then the connection closed. Returns when the answer came.
async fn slow_body_answers_408(server: &Server, head: String, body: &[u8], what: &str) {
    let mut stream = connect(server).await;
    stream.write_all(head.as_bytes()).await.expect("head");
    let start = Instant::now();
    match trickle(&mut stream, body, start).await {
        Outcome::Answered(response, at) => {
            assert_eq!(response.status, 408, "{what}: {}", response.head);
            assert_eq!(response.body, TOO_SLOW, "{what}");
            assert_eq!(
                response.header("connection").map(str::to_ascii_lowercase),
                Some("close".into()),
                "{what}: {}",
                response.head
            );
            assert!(
                at >= Duration::from_secs(29) && at <= Duration::from_secs(34),
                "{what}: answered {at:?} after the head"
            );
            assert!(
                closed_within(&mut stream, Duration::from_secs(2)).await,
                "{what}: the connection stays open after the 408"
            );
        }
        Outcome::Closed(at) => panic!("{what}: closed without an answer after {at:?}"),
        Outcome::Waited => panic!("{what}: the whole slow body was taken"),
    }
}

/// A head trickled a byte a second: closed 10 s after its first byte (not answered).
async fn slow_head_is_closed(server: &Server) {
    let mut stream = connect(server).await;
    let head = format!(
        "GET /healthz HTTP/1.1\r\nHost: {}\r\nX-Slow: {}",
        server.addr(),
        "a".repeat(40)
    );
    let start = Instant::now();
    match trickle(&mut stream, head.as_bytes(), start).await {
        Outcome::Closed(at) => assert!(
            at >= Duration::from_secs(9) && at <= Duration::from_secs(13),
            "slow head closed {at:?} after its first byte"
        ),
        Outcome::Answered(response, at) => {
            panic!("slow head answered {} after {at:?}", response.status)
        }
        Outcome::Waited => panic!("slow head never closed"),
    }
}

/// A streamed CSV upload (chunked) that sends its header and one row, then nothing: 408 about
/// 30 s after its last byte, then the connection closed.
async fn stalled_csv_upload_answers_408(server: &Server) {
    let mut stream = connect(server).await;
    let head = format!(
        "POST /admin/v1/accounts/{ACCOUNT}/lists/{LIST}/contacts HTTP/1.1\r\nHost: {}\r\n\
         Authorization: Bearer {ADMIN_TOKEN}\r\nContent-Type: text/csv\r\n\
         Transfer-Encoding: chunked\r\n\r\n",
        server.addr()
    );
    let rows = "mobileNumber\n15555550100\n";
    stream
        .write_all(format!("{head}{:x}\r\n{rows}\r\n", rows.len()).as_bytes())
        .await
        .expect("head and first chunk");
    let start = Instant::now();
    let response = tokio::time::timeout(
        Duration::from_secs(40),
        read_response(&mut stream, Vec::new()),
    )
    .await
    .expect("an answer within 40 s")
    .expect("an answer, not a close");
    let at = start.elapsed();
    assert_eq!(response.status, 408, "{}", response.head);
    assert_eq!(response.body, TOO_SLOW);
    assert!(
        at >= Duration::from_secs(29) && at <= Duration::from_secs(34),
        "stalled CSV upload answered {at:?} after its last byte"
    );
    assert!(
        closed_within(&mut stream, Duration::from_secs(2)).await,
        "the connection stays open after the 408"
    );
}

/// A streamed CSV upload that sends a row every 4 s takes 40 s in all and is imported whole: the
/// upload rule is about pauses, not the total time.
async fn steady_csv_upload_outlives_30_s(server: &Server) {
    let mut stream = connect(server).await;
    let head = format!(
        "POST /admin/v1/accounts/{ACCOUNT}/lists/{LIST}/contacts HTTP/1.1\r\nHost: {}\r\n\
         Authorization: Bearer {ADMIN_TOKEN}\r\nContent-Type: text/csv\r\n\
         Transfer-Encoding: chunked\r\n\r\n",
        server.addr()
    );
    let header = "mobileNumber\n";
    stream
        .write_all(format!("{head}{:x}\r\n{header}\r\n", header.len()).as_bytes())
        .await
        .expect("head");
    let start = Instant::now();
    for i in 0..10 {
        tokio::time::sleep(Duration::from_secs(4)).await;
        let row = format!("1555555{:04}\n", 2000 + i);
        stream
            .write_all(format!("{:x}\r\n{row}\r\n", row.len()).as_bytes())
            .await
            .expect("row");
    }
    stream.write_all(b"0\r\n\r\n").await.expect("last chunk");
    let response = tokio::time::timeout(
        Duration::from_secs(10),
        read_response(&mut stream, Vec::new()),
    )
    .await
    .expect("an answer within 10 s")
    .expect("an answer, not a close");
    assert!(start.elapsed() > Duration::from_secs(35));
    assert_eq!(response.status, 200, "{} {}", response.head, response.body);
    let report: Value = serde_json::from_str(&response.body).expect("JSON report");
    assert_eq!(report["added"], 10, "{report}");
    assert_eq!(report["invalid"], 0, "{report}");
}

/// The console's signed-in operator: its cookies and the session's CSRF token.
struct Console {
    cookies: String,
    csrf: String,
}

/// The `value` of `name="csrf" value="..."` in a console page.
fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("a CSRF field") + marker.len();
    let end = html[start..].find('"').expect("end of the value") + start;
    html[start..end].to_string()
}

fn cookie_pairs(resp: &reqwest::Response) -> Vec<String> {
    resp.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .filter(|pair| pair.split_once('=').is_some_and(|(_, v)| !v.is_empty()))
        .map(str::to_string)
        .collect()
}

async fn sign_in(server: &Server) -> Console {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let form = http
        .get(server.url("/console/sign-in"))
        .send()
        .await
        .expect("sign-in page");
    let cookies = cookie_pairs(&form).join("; ");
    let csrf = csrf_of(&form.text().await.expect("page"));
    let signed = http
        .post(server.url("/console/sign-in"))
        .header(reqwest::header::COOKIE, cookies)
        .form(&[("csrf", csrf.as_str()), ("token", ADMIN_TOKEN)])
        .send()
        .await
        .expect("sign in");
    assert_eq!(signed.status(), StatusCode::SEE_OTHER);
    let cookies = cookie_pairs(&signed).join("; ");
    let page = http
        .get(server.url("/console/accounts"))
        .header(reqwest::header::COOKIE, &cookies)
        .send()
        .await
        .expect("accounts page");
    assert_eq!(page.status(), StatusCode::OK);
    let csrf = csrf_of(&page.text().await.expect("page"));
    Console { cookies, csrf }
}

/// The console's CSV upload (multipart) that sends its form fields and the file's first row,
/// then nothing: 408 about 30 s after its last byte, and the connection closed.
async fn stalled_console_upload_answers_408(server: &Server, console: &Console) {
    let boundary = "----hostile-connections-boundary";
    let start_of_body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"slow.csv\"\r\n\
         Content-Type: text/csv\r\n\r\nmobileNumber\n15555550101\n",
        console.csrf
    );
    let head = format!(
        "POST /console/accounts/{ACCOUNT}/lists/{LIST}/upload HTTP/1.1\r\nHost: {}\r\n\
         Cookie: {}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n\
         Content-Length: 100000\r\n\r\n",
        server.addr(),
        console.cookies
    );
    let mut stream = connect(server).await;
    stream
        .write_all(format!("{head}{start_of_body}").as_bytes())
        .await
        .expect("head and first row");
    let start = Instant::now();
    let response = tokio::time::timeout(
        Duration::from_secs(40),
        read_response(&mut stream, Vec::new()),
    )
    .await
    .expect("an answer within 40 s")
    .expect("an answer, not a close");
    let at = start.elapsed();
    assert_eq!(response.status, 408, "{}", response.head);
    assert!(
        response
            .body
            .contains("The request took too long to arrive."),
        "{}",
        response.body
    );
    assert_eq!(
        response.header("connection").map(str::to_ascii_lowercase),
        Some("close".into())
    );
    assert!(
        at >= Duration::from_secs(29) && at <= Duration::from_secs(34),
        "stalled console upload answered {at:?} after its last byte"
    );
    assert!(closed_within(&mut stream, Duration::from_secs(2)).await);
}

/// API.md §1: the head rule (10 s from the first byte) and the body rules (408 at 30 s), all at
/// once on one server.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn slow_heads_are_cut_at_10_s_and_slow_bodies_answer_408_at_30_s() {
    let (_site, server, (client_id, secret)) = started(CONFIG).await;
    let console = sign_in(&server).await;
    let host = server.addr();
    let token_json = json!({
        "grant_type": "client_credentials", "client_id": client_id,
        "client_secret": secret, "padding": "x".repeat(20),
    })
    .to_string();
    let token_form = format!(
        "grant_type=client_credentials&client_id={client_id}&client_secret={secret}&padding={}",
        "x".repeat(20)
    );
    let account_json = json!({"id": "SlowAccount", "name": "x".repeat(40)}).to_string();
    let head = |path: &str, content_type: &str, auth: &str, len: usize| {
        format!(
            "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\n{auth}\
             Content-Length: {len}\r\n\r\n"
        )
    };
    let admin_auth = format!("Authorization: Bearer {ADMIN_TOKEN}\r\n");
    tokio::join!(
        slow_head_is_closed(&server),
        slow_body_answers_408(
            &server,
            head("/v2/token", "application/json", "", token_json.len()),
            token_json.as_bytes(),
            "token, JSON body",
        ),
        slow_body_answers_408(
            &server,
            head(
                "/v2/token",
                "application/x-www-form-urlencoded",
                "",
                token_form.len()
            ),
            token_form.as_bytes(),
            "token, form body",
        ),
        slow_body_answers_408(
            &server,
            head(
                "/admin/v1/accounts",
                "application/json",
                &admin_auth,
                account_json.len()
            ),
            account_json.as_bytes(),
            "admin JSON body",
        ),
        stalled_csv_upload_answers_408(&server),
        stalled_console_upload_answers_408(&server, &console),
        steady_csv_upload_outlives_30_s(&server),
    );
    // Nothing of the slow account was created.
    let http = reqwest::Client::new();
    let accounts = server.get(&http, "/admin/v1/accounts", ADMIN_TOKEN).await;
    assert!(!accounts.to_string().contains("SlowAccount"), "{accounts}");
}

/// API.md §1: an idle keep-alive connection, and one that never sent a byte, are closed after
/// 60 s — not at the 10 s head limit, which counts from a head's first byte.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_are_closed_after_60_s_not_at_the_head_limit() {
    let (_site, server, _) = started(CONFIG).await;
    let after_a_request = async {
        let mut stream = connect(&server).await;
        let request = format!("GET /healthz HTTP/1.1\r\nHost: {}\r\n\r\n", server.addr());
        stream.write_all(request.as_bytes()).await.expect("request");
        let response = read_response(&mut stream, Vec::new())
            .await
            .expect("healthz answer");
        assert_eq!(response.status, 200);
        let start = Instant::now();
        assert!(closed_within(&mut stream, Duration::from_secs(70)).await);
        start.elapsed()
    };
    let never_sent = async {
        let mut stream = connect(&server).await;
        let start = Instant::now();
        assert!(closed_within(&mut stream, Duration::from_secs(70)).await);
        start.elapsed()
    };
    let (kept_alive, silent) = tokio::join!(after_a_request, never_sent);
    for (what, at) in [("keep-alive", kept_alive), ("silent", silent)] {
        assert!(
            at >= Duration::from_secs(59) && at <= Duration::from_secs(64),
            "{what} connection closed after {at:?}"
        );
    }
}

/// API.md §1: 500 idle keep-alive connections and 500 half-sent request heads held open do not
/// stop a new client: it gets a token and a healthz answer promptly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_open_idle_connections_do_not_stop_a_new_client() {
    let limit = rlimit::increase_nofile_limit(4096).expect("raise the open-file limit");
    assert!(
        limit >= 1100,
        "the test needs 1,100 open files, the limit is {limit}"
    );
    let (_site, server, (client_id, secret)) = started(CONFIG).await;
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {}\r\n\r\n", server.addr());
    let mut held = Vec::new();
    for _ in 0..500 {
        let mut stream = connect(&server).await;
        stream.write_all(request.as_bytes()).await.expect("request");
        let response = read_response(&mut stream, Vec::new())
            .await
            .expect("healthz answer");
        assert_eq!(response.status, 200);
        held.push(stream);
    }
    for _ in 0..500 {
        let mut stream = connect(&server).await;
        stream
            .write_all(b"POST /v2/token HTTP/1.1\r\nHost: x\r\nX-Half: ")
            .await
            .expect("half a head");
        held.push(stream);
    }
    let fds = std::fs::read_dir(format!("/proc/{}/fd", server.pid()))
        .expect("the server's open files")
        .count();
    assert!(fds >= 1000, "the server holds {fds} open files");

    let http = reqwest::Client::new();
    let start = Instant::now();
    let token = http
        .post(server.url("/v2/token"))
        .json(
            &json!({"grant_type": "client_credentials", "client_id": client_id,
                      "client_secret": secret}),
        )
        .send()
        .await
        .expect("token request");
    assert_eq!(token.status(), StatusCode::OK);
    let body: Value = token.json().await.expect("token JSON");
    assert!(body["access_token"].as_str().is_some_and(|t| !t.is_empty()));
    let health = http
        .get(server.url("/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status(), StatusCode::OK);
    let took = start.elapsed();
    assert!(
        took < Duration::from_secs(3),
        "the new client waited {took:?}"
    );
    // Far below the default cap, none of them was closed for it.
    let open = held.iter().filter(|s| still_open(s)).count();
    assert_eq!(open, 1000, "{} connections were closed", 1000 - open);
}

/// API.md §1: with `max_connections = 50` and 50 idle connections open, a new client is served
/// and the one closed to admit it is the longest-idle; the others stay open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_connection_cap_the_longest_idle_connection_makes_room() {
    let (_site, server, _) = started("[api]\nrate_limit = 0\nmax_connections = 50\n").await;
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {}\r\n\r\n", server.addr());
    // Opened and used one after another: the first is the longest idle.
    let mut held = Vec::new();
    for _ in 0..50 {
        let mut stream = connect(&server).await;
        stream.write_all(request.as_bytes()).await.expect("request");
        let response = read_response(&mut stream, Vec::new())
            .await
            .expect("healthz answer");
        assert_eq!(response.status, 200);
        held.push(stream);
    }
    let mut newcomer = connect(&server).await;
    newcomer
        .write_all(request.as_bytes())
        .await
        .expect("request");
    let response = tokio::time::timeout(
        Duration::from_secs(5),
        read_response(&mut newcomer, Vec::new()),
    )
    .await
    .expect("served within 5 s")
    .expect("an answer");
    assert_eq!(response.status, 200);
    assert!(
        closed_within(&mut held[0], Duration::from_secs(5)).await,
        "the longest-idle connection is still open"
    );
    let open = held[1..].iter().filter(|s| still_open(s)).count();
    assert_eq!(open, 49, "other connections were closed too");
}

/// API.md §1: a cap that no open-file limit can fit stops `serve` at start, with an error that
/// names the limit and the setting.
#[tokio::test]
async fn serve_refuses_a_connection_cap_the_open_file_limit_cannot_fit() {
    let site = Site::new("[api]\nmax_connections = 5000000\n", ADMIN_TOKEN);
    let log_path = site.path().join("refused.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tidings"))
        .arg("--config")
        .arg(site.path().join("tidings.toml"))
        .arg("serve")
        .env_remove("TIDINGS_CONFIG")
        .env("TIDINGS_LISTEN", "127.0.0.1:0")
        .env("TIDINGS_METRICS_LISTEN", "off")
        .env("DATABASE_URL", &site.database.url)
        .env("TIDINGS_DATA_DIR", site.data_dir())
        .env("TIDINGS_ADMIN_TOKEN", ADMIN_TOKEN)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .spawn()
        .expect("spawn tidings serve");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("serve kept running with a cap beyond the open-file limit");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(!status.success());
    let stderr = std::fs::read_to_string(&log_path).expect("log");
    assert!(
        stderr.contains("max_connections") && stderr.contains("RLIMIT_NOFILE"),
        "{stderr}"
    );
}

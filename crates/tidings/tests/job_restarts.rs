//! Background jobs survive their process (API.md §6 queueImport; the structure issue's durable
//! jobs): the real `tidings serve` binary imports a 200,000-row file and is stopped in the
//! middle — with SIGKILL (the job is taken again once its lease runs out) and with SIGTERM (it
//! stops at a batch boundary, exits 0 and gives the job back) — and restarted on the same
//! database. Each time the import completes with every row counted exactly once: a repeated
//! batch would count its rows as updated instead of inserted, a skipped one would be missing
//! from the list.
//!
//! The same for an importSend of 100,000 rows killed with SIGKILL mid-import (API.md §6b): the job
//! completes, every number is subscribed once and texted once.
//!
//! Every wait is a poll with a deadline; the server's log is printed when one expires.

mod common;

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use common::process::{Server, Site};

const ADMIN_TOKEN: &str = "jobs-admin-token-0123456789abc";
const ACCOUNT: &str = "jobs";
const CODE: &str = "88976";
const KEYWORD: &str = "JOIN";
const ROWS: usize = 200_000;
/// Every this many data rows, one is invalid.
const INVALID_EVERY: usize = 997;
const POLL: Duration = Duration::from_millis(20);

/// Short job leases, so that a job whose process was killed is taken again soon after a
/// restart, and a simulator that takes 20,000 segments a second (the importSend's send).
const CONFIG: &str = r#"
[engine]
job_lease_ms = 1500
idle_poll_ms = 50

[api]
rate_limit = 0

[[carriers]]
name = "simulator"
type = "simulator"
rate_limit = 20000
"#;

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("http client")
}

/// The account, an API client, the code and keyword, and two lists. Returns an access token.
async fn provision(server: &Server, http: &reqwest::Client) -> String {
    server
        .admin(
            http,
            "/admin/v1/accounts",
            json!({"id": ACCOUNT, "name": ACCOUNT}),
        )
        .await;
    let base = format!("/admin/v1/accounts/{ACCOUNT}");
    let client = server
        .admin(http, &format!("{base}/clients"), json!({}))
        .await;
    server
        .admin(
            http,
            &format!("{base}/codes"),
            json!({"code": CODE, "countryCode": "US", "type": "short", "carrier": "simulator"}),
        )
        .await;
    server
        .admin(
            http,
            &format!("{base}/keywords"),
            json!({"code": CODE, "keyword": KEYWORD}),
        )
        .await;
    for list in ["Killed", "Stopped"] {
        server
            .admin(
                http,
                &format!("{base}/lists"),
                json!({"id": list, "name": list}),
            )
            .await;
    }
    let r = http
        .post(server.url("/v2/token"))
        .json(
            &json!({"grant_type": "client_credentials", "client_id": client["clientId"],
                      "client_secret": client["clientSecret"]}),
        )
        .send()
        .await
        .expect("token");
    let body: Value = r.json().await.expect("token JSON");
    body["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no access_token: {body}"))
        .to_string()
}

/// Writes `name` into the account's import folder: a header, then `ROWS` data rows numbered
/// from `first`, one in `INVALID_EVERY` invalid. Returns the file rows of the invalid ones.
fn write_file(site: &Site, name: &str, first: usize) -> Vec<usize> {
    write_rows(site, name, first, ROWS)
}

/// [`write_file`] with `rows` data rows.
fn write_rows(site: &Site, name: &str, first: usize, rows: usize) -> Vec<usize> {
    let dir = site.data_dir().join("imports").join(ACCOUNT);
    std::fs::create_dir_all(&dir).expect("import folder");
    let mut csv = String::with_capacity(rows * 13 + 16);
    csv.push_str("phone\n");
    let mut invalid = Vec::new();
    for i in 0..rows {
        if i % INVALID_EVERY == INVALID_EVERY - 1 {
            csv.push_str("not-a-number\n");
            // Row 1 is the header.
            invalid.push(i + 2);
        } else {
            csv.push_str(&format!("1555{:07}\n", first + i));
        }
    }
    std::fs::write(dir.join(name), csv).expect("write import file");
    invalid
}

async fn queue_import(
    server: &Server,
    http: &reqwest::Client,
    access: &str,
    list: &str,
    file: &str,
) -> String {
    let r = http
        .post(server.url(&format!("/sms/v1/contacts/queueImport/{list}")))
        .bearer_auth(access)
        .json(
            &json!({"FileName": file, "FileType": "csv", "IsFirstRowHeader": true,
                      "ImportMappingType": "MapByHeader", "ShortCode": CODE, "Keyword": KEYWORD,
                      "FieldMaps": [{"Destination": "_MobileNumber", "Source": "phone"}]}),
        )
        .send()
        .await
        .expect("queueImport");
    let status = r.status();
    let body: Value = r.json().await.expect("queueImport JSON");
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    body["tokenId"].as_str().expect("tokenId").to_string()
}

async fn status(
    server: &Server,
    http: &reqwest::Client,
    access: &str,
    list: &str,
    token: &str,
) -> Value {
    server
        .get(
            http,
            &format!("/sms/v1/contacts/queueImport/{list}/status/{token}"),
            access,
        )
        .await
}

/// Polls until the import has recorded some batches but is far from done.
async fn wait_mid_import(
    server: &mut Server,
    http: &reqwest::Client,
    access: &str,
    list: &str,
    token: &str,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        server.assert_running();
        let body = status(server, http, access, list, token).await;
        assert_ne!(
            body["status"], "Completed",
            "the import ended before it could be stopped: {body}"
        );
        assert_ne!(body["status"], "Error", "{body}");
        if body["inserted"].as_u64().unwrap_or(0) >= 10_000 {
            return body;
        }
        server.check_deadline(deadline, &format!("the import to get going (last: {body})"));
        tokio::time::sleep(POLL).await;
    }
}

/// Polls (120 s at most) until the import is final; returns its status.
async fn wait_final(
    server: &mut Server,
    http: &reqwest::Client,
    access: &str,
    list: &str,
    token: &str,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        server.assert_running();
        let body = status(server, http, access, list, token).await;
        if body["status"] == "Completed" || body["status"] == "Error" {
            return body;
        }
        server.check_deadline(deadline, &format!("the import to finish (last: {body})"));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every row counted once: inserted, never updated, the invalid ones with their first errors
/// in file order, and the list holding every valid number.
async fn assert_imported_once(
    server: &Server,
    http: &reqwest::Client,
    done: &Value,
    invalid: &[usize],
    list: &str,
) {
    let valid = ROWS - invalid.len();
    assert_eq!(done["status"], "Completed", "{done}");
    assert_eq!(done["inserted"], valid, "{done}");
    assert_eq!(done["updated"], 0, "a batch was imported twice: {done}");
    assert_eq!(done["invalid"], invalid.len(), "{done}");
    let r = http
        .get(server.url(&format!("/admin/v1/accounts/{ACCOUNT}/lists/{list}")))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .expect("list");
    let body: Value = r.json().await.expect("list JSON");
    assert_eq!(body["size"], valid, "{body}");
    let subscribed = http
        .get(server.url(&format!(
            "/admin/v1/accounts/{ACCOUNT}/subscriptions?mobileNumber=1555{:07}",
            if list == "Killed" {
                1_000_000
            } else {
                3_000_000
            } + ROWS
                - 2
        )))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .expect("subscriptions");
    let subscribed: Value = subscribed.json().await.expect("subscriptions JSON");
    assert_eq!(
        subscribed["items"][0]["status"], "Subscribed",
        "{subscribed}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imports_resume_after_sigkill_and_sigterm_and_count_every_row_once() {
    let http = client();
    let mut site = Site::new(CONFIG, ADMIN_TOKEN);
    let mut server = site.start(&http).await;
    let access = provision(&server, &http).await;
    let killed = write_file(&site, "killed.csv", 1_000_000);
    let stopped = write_file(&site, "stopped.csv", 3_000_000);

    // SIGKILL in the middle: the job stays leased to the dead process until its lease runs out,
    // then the next process resumes it after its last recorded batch.
    let token = queue_import(&server, &http, &access, "Killed", "killed.csv").await;
    let before = wait_mid_import(&mut server, &http, &access, "Killed", &token).await;
    server.kill();
    let mut server = site.start(&http).await;
    let done = wait_final(&mut server, &http, &access, "Killed", &token).await;
    assert_imported_once(&server, &http, &done, &killed, "Killed").await;
    let first_errors: Vec<String> = killed
        .iter()
        .take(3)
        .map(|row| format!("Row {row}: "))
        .collect();
    let errors = done["errors"].as_array().expect("errors");
    for (e, prefix) in errors.iter().zip(&first_errors) {
        assert!(
            e.as_str().is_some_and(|e| e.starts_with(prefix.as_str())),
            "{errors:?}"
        );
    }
    eprintln!(
        "killed at {} inserted; completed as {done}",
        before["inserted"]
    );

    // SIGTERM in the middle: the process exits 0 within 10 s, the job is left Processing (not
    // failed) with what it recorded, and the next process resumes it at once.
    let token = queue_import(&server, &http, &access, "Stopped", "stopped.csv").await;
    wait_mid_import(&mut server, &http, &access, "Stopped", &token).await;
    let exit = server.terminate().await;
    assert!(exit.success(), "SIGTERM exit: {exit:?}");
    let mut server = site.start(&http).await;
    let left = status(&server, &http, &access, "Stopped", &token).await;
    assert!(
        left["status"] == "Processing" || left["status"] == "Completed",
        "{left}"
    );
    let done = wait_final(&mut server, &http, &access, "Stopped", &token).await;
    assert_imported_once(&server, &http, &done, &stopped, "Stopped").await;
    let exit = server.terminate().await;
    assert!(exit.success(), "SIGTERM exit: {exit:?}");
}

/// The importSend's status (API.md §6b).
async fn import_send_status(
    server: &Server,
    http: &reqwest::Client,
    access: &str,
    token: &str,
) -> Value {
    server
        .get(
            http,
            &format!("/sms/v1/automation/importSend/{token}/status"),
            access,
        )
        .await
}

/// importSend (API.md §6b) of 100,000 rows, its process killed with SIGKILL in the middle of the
/// import and restarted: the job completes, every valid row is imported and subscribed once,
/// and its send has one recipient per number and texts none twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_send_resumes_after_sigkill_and_texts_each_number_once() {
    const SEND_ROWS: usize = 100_000;
    const FIRST: usize = 5_000_000;
    let http = client();
    let mut site = Site::new(CONFIG, ADMIN_TOKEN);
    let mut server = site.start(&http).await;
    let access = provision(&server, &http).await;
    server
        .admin(
            &http,
            &format!("/admin/v1/accounts/{ACCOUNT}/messages"),
            json!({"id": "MzA6Nzg6MA", "name": "Imported", "code": CODE, "status": "Active",
                   "text": "Imported"}),
        )
        .await;
    let invalid = write_rows(&site, "send.csv", FIRST, SEND_ROWS);
    let valid = SEND_ROWS - invalid.len();
    let r = http
        .post(server.url("/sms/v1/automation/importSend"))
        .bearer_auth(&access)
        .json(
            &json!({"MessageId": "MzA6Nzg6MA", "Keyword": KEYWORD, "ImportDefinition": [{
            "FileName": "send.csv", "ImportType": "FILE", "ImportMappingType": "ManualMap",
            "FieldMaps": [{"Destination": "_MobileNumber", "Source": "phone"}]}]}),
        )
        .send()
        .await
        .expect("importSend");
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let body: Value = r.json().await.expect("importSend JSON");
    let token = body["tokenId"].as_str().expect("tokenId").to_string();

    // Killed once the import has recorded some batches.
    let deadline = Instant::now() + Duration::from_secs(60);
    let before = loop {
        server.assert_running();
        let s = import_send_status(&server, &http, &access, &token).await;
        assert_ne!(
            s["status"], "Complete",
            "the import ended before it could be stopped: {s}"
        );
        assert_ne!(s["status"], "Error", "{s}");
        if s["inserted"].as_u64().unwrap_or(0) >= 10_000 {
            break s;
        }
        server.check_deadline(deadline, &format!("the import to get going (last: {s})"));
        tokio::time::sleep(POLL).await;
    };
    server.kill();
    let mut server = site.start(&http).await;
    let deadline = Instant::now() + Duration::from_secs(120);
    let done = loop {
        server.assert_running();
        let s = import_send_status(&server, &http, &access, &token).await;
        if s["status"] == "Complete" || s["status"] == "Error" {
            break s;
        }
        server.check_deadline(deadline, &format!("the importSend to finish (last: {s})"));
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    eprintln!(
        "killed at {} inserted; completed as {done}",
        before["inserted"]
    );
    assert_eq!(done["status"], "Complete", "{done}");
    assert_eq!(done["inserted"], valid, "{done}");
    assert_eq!(done["updated"], 0, "a batch was imported twice: {done}");
    assert_eq!(done["invalid"], invalid.len(), "{done}");
    let send = done["sendTokenId"]
        .as_str()
        .expect("sendTokenId")
        .to_string();

    // Each number subscribed once (first, middle and last of the file).
    for i in [0, SEND_ROWS / 2, SEND_ROWS - 2] {
        let subs = server
            .get(
                &http,
                &format!(
                    "/admin/v1/accounts/{ACCOUNT}/subscriptions?mobileNumber=1555{:07}",
                    FIRST + i
                ),
                ADMIN_TOKEN,
            )
            .await;
        let items = subs["items"].as_array().expect("items");
        assert_eq!(items.len(), 1, "{subs}");
        assert_eq!(items[0]["status"], "Subscribed", "{subs}");
    }

    // The send has one recipient per valid number, and texts none of them twice: once it is
    // Finished, the outbox holds at most one text per number (numbers the simulator refuses
    // never reach it).
    let deadline = Instant::now() + Duration::from_secs(120);
    let finished = loop {
        server.assert_running();
        let d = server
            .get(
                &http,
                &format!("/sms/v1/messageList/MzA6Nzg6MA/deliveries/{send}?$pageSize=1"),
                &access,
            )
            .await;
        if d["status"] == "Finished" {
            break d;
        }
        server.check_deadline(deadline, &format!("the send to finish (last: {d})"));
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(finished["counts"]["recipients"], valid, "{finished}");
    let delivered = finished["counts"]["delivered"].as_u64().expect("delivered") as usize;
    let mut texted: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut after = 0i64;
    loop {
        let page = server
            .get(
                &http,
                &format!("/admin/v1/outbox?after={after}&limit=10000"),
                ADMIN_TOKEN,
            )
            .await;
        let items = page["items"].as_array().expect("items");
        for item in items {
            after = item["seq"].as_i64().expect("seq");
            if item["tokenId"] == send.as_str() {
                *texted
                    .entry(item["to"].as_str().expect("to").to_string())
                    .or_insert(0) += 1;
            }
        }
        if page["next"].is_null() {
            break;
        }
    }
    let twice: Vec<_> = texted.iter().filter(|(_, n)| **n > 1).take(10).collect();
    assert!(twice.is_empty(), "texted more than once: {twice:?}");
    assert!(
        texted.len() >= delivered && texted.len() <= valid,
        "{} texted, {delivered} delivered of {valid}",
        texted.len()
    );
    let exit = server.terminate().await;
    assert!(exit.success(), "SIGTERM exit: {exit:?}");
}

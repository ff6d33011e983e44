//! Benchmark of `POST /sms/v1/contacts/queueImport/{listId}` (docs/benchmarks.md): a CSV of N
//! rows (default 1,000,000) in the import directory is imported into a list on SQLite, mapped by
//! header, subscribing every number to a keyword. The server runs in a child process (this
//! program started again with `--serve`), so its peak RSS (VmHWM) is the server's own; this
//! process writes the file (streamed), asks for the import and polls its status.
//!
//! `cargo run --release -p tidings --example import_bench -- [--rows 1000000]`
//! Prints one JSON object.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use api::SystemClock;
use serde_json::{json, Value};
use tidings::config::{Config, FileConfig};
use tidings::Application;

const ADMIN: &str = "bench-admin-token-0123456789";

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

/// The server: prints its address, then serves until stdin closes.
fn serve(dir: &str) {
    let file = FileConfig {
        listen: Some("127.0.0.1:0".into()),
        metrics_listen: Some("127.0.0.1:0".into()),
        database_url: Some(format!("sqlite://{dir}/bench.db")),
        data_dir: Some(format!("{dir}/data")),
        admin: tidings::config::AdminSection {
            token: Some(ADMIN.into()),
        },
        api: tidings::config::ApiSection {
            rate_limit: Some(0),
            ..tidings::config::ApiSection::default()
        },
        ..FileConfig::default()
    };
    let config = Config::resolve(file, None, &|_| None).expect("config");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let app = Application::build(&config, Arc::new(SystemClock), tidings::EngineMode::Manual)
            .await
            .expect("build app");
        println!("{}", app.addr());
        let stop = async {
            let _ = tokio::task::spawn_blocking(|| {
                let mut line = String::new();
                let _ = std::io::stdin().read_line(&mut line);
            })
            .await;
        };
        app.run_until_stopped(stop).await.expect("serve");
    });
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let hwm = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .unwrap_or(0.0);
    println!("{}", hwm / 1024.0);
}

fn main() {
    if let Some(dir) = arg("--serve") {
        serve(&dir);
        return;
    }
    let rows: u64 = arg("--rows")
        .and_then(|r| r.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let dir_path = dir.path().display().to_string();

    // The file, in the account's import folder (`bench`, created below): mobileNumber,
    // subscriberKey and two attributes per row.
    let imports = dir.path().join("data").join("imports").join("bench");
    std::fs::create_dir_all(&imports).expect("imports dir");
    {
        let mut out =
            BufWriter::new(std::fs::File::create(imports.join("bench.csv")).expect("file"));
        writeln!(out, "Phone,Key,FirstName,City").expect("write");
        for i in 0..rows {
            writeln!(
                out,
                "1{:010},key-{i},Name{},City{}",
                2_000_000_000 + i,
                i % 1000,
                i % 50
            )
            .expect("write");
        }
        out.flush().expect("flush");
    }
    let file_bytes = std::fs::metadata(imports.join("bench.csv"))
        .map(|m| m.len())
        .unwrap_or(0);

    let mut child = Command::new(std::env::current_exe().expect("exe"))
        .args(["--serve", &dir_path])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start server");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let addr = lines.next().expect("address").expect("address line");
    let base = format!("http://{addr}");

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (seconds, status) = rt.block_on(async {
        let http = reqwest::Client::new();
        let admin = |path: &str, body: Value| {
            let req = http.post(format!("{base}{path}")).bearer_auth(ADMIN).json(&body);
            async move {
                let resp = req.send().await.expect("admin");
                assert!(resp.status().is_success(), "{}", resp.status());
                resp.json::<Value>().await.expect("json")
            }
        };
        admin("/admin/v1/accounts", json!({"id": "bench", "name": "bench"})).await;
        let client = admin("/admin/v1/accounts/bench/clients", json!({})).await;
        admin("/admin/v1/accounts/bench/codes", json!({"code": "88976", "carrier": "simulator"})).await;
        admin("/admin/v1/accounts/bench/keywords", json!({"code": "88976", "keyword": "JOIN"})).await;
        admin("/admin/v1/accounts/bench/lists", json!({"id": "big", "name": "big"})).await;
        let token: Value = http
            .post(format!("{base}/v2/token"))
            .json(&json!({"grant_type": "client_credentials", "client_id": client["clientId"],
                          "client_secret": client["clientSecret"]}))
            .send()
            .await
            .expect("token")
            .json()
            .await
            .expect("token json");
        let bearer = token["access_token"].as_str().expect("access_token").to_string();
        let started = Instant::now();
        let accepted: Value = http
            .post(format!("{base}/sms/v1/contacts/queueImport/big"))
            .bearer_auth(&bearer)
            .json(&json!({"FileName": "bench.csv", "FileType": "csv", "IsFirstRowHeader": true,
                          "ImportMappingType": "MapByHeader", "ShortCode": "88976", "Keyword": "JOIN",
                          "FieldMaps": [{"Destination": "_MobileNumber", "Source": "Phone"},
                                        {"Destination": "_SubscriberKey", "Source": "Key"},
                                        {"Destination": "FirstName", "Source": "FirstName"},
                                        {"Destination": "City", "Source": "City"}]}))
            .send()
            .await
            .expect("queueImport")
            .json()
            .await
            .expect("queueImport json");
        let job = accepted["tokenId"].as_str().expect("tokenId").to_string();
        loop {
            let status: Value = http
                .get(format!("{base}/sms/v1/contacts/queueImport/big/status/{job}"))
                .bearer_auth(&bearer)
                .send()
                .await
                .expect("status")
                .json()
                .await
                .expect("status json");
            if status["status"] == "Completed" || status["status"] == "Error" {
                return (started.elapsed().as_secs_f64(), status);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    // Closing stdin stops the server, which then reports its peak RSS.
    drop(child.stdin.take());
    let rss: f64 = lines
        .next()
        .and_then(|l| l.ok())
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(0.0);
    let _ = child.wait();
    let imported =
        status["inserted"].as_u64().unwrap_or(0) + status["updated"].as_u64().unwrap_or(0);
    println!(
        "{}",
        json!({
            "rows": rows,
            "file_mb": (file_bytes as f64 / 1_048_576.0 * 10.0).round() / 10.0,
            "status": status["status"],
            "inserted": status["inserted"],
            "updated": status["updated"],
            "invalid": status["invalid"],
            "seconds": (seconds * 100.0).round() / 100.0,
            "rows_per_sec": (imported as f64 / seconds).round(),
            "server_peak_rss_mb": (rss * 10.0).round() / 10.0,
        })
    );
}

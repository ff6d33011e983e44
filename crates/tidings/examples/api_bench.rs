//! Benchmark of the send endpoint (docs/benchmarks.md): accepted `POST
//! /sms/v1/messageList/{id}/send` per second and p50/p99 latency at a given concurrency over
//! loopback, on SQLite, rate limit disabled. The server runs in this process on its own runtime
//! threads; the load generator shares the machine, as the target requires.
//!
//! `cargo run --release -p tidings --example api_bench -- [--concurrency 64] [--seconds 10]
//! [--metrics 0]` (`--metrics 0`: without the metrics listener and recorder, to measure their cost)
//! Prints one JSON object.

use std::sync::Arc;
use std::time::{Duration, Instant};

use api::SystemClock;
use serde_json::{json, Value};
use tidings::config::{Config, FileConfig};
use tidings::Application;

const ADMIN: &str = "bench-admin-token";

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn admin(http: &reqwest::Client, base: &str, path: &str, body: Value) -> Value {
    let resp = http
        .post(format!("{base}{path}"))
        .bearer_auth(ADMIN)
        .json(&body)
        .send()
        .await
        .expect("admin request");
    assert!(resp.status().is_success(), "{path}: {}", resp.status());
    resp.json().await.expect("admin json")
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[idx]) / 1000.0
}

fn main() {
    let concurrency = arg("--concurrency", 64) as usize;
    let seconds = arg("--seconds", 10);
    let metrics = arg("--metrics", 1) != 0;
    let dir = tempfile::tempdir().expect("temp dir");
    let file = FileConfig {
        listen: Some("127.0.0.1:0".into()),
        metrics_listen: Some(if metrics { "127.0.0.1:0" } else { "off" }.into()),
        database_url: Some(format!(
            "sqlite://{}",
            dir.path().join("bench.db").display()
        )),
        data_dir: Some(dir.path().join("data").display().to_string()),
        admin: tidings::config::AdminSection {
            token: Some(ADMIN.into()),
        },
        api: tidings::config::ApiSection {
            timestamps: None,
            rate_limit: Some(0),
            ..Default::default()
        },
        ..FileConfig::default()
    };
    let config = Config::resolve(file, None, &|_| None).expect("config");

    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("server runtime");
    let app = server_rt
        .block_on(Application::build(
            &config,
            Arc::new(SystemClock),
            tidings::EngineMode::Manual,
        ))
        .expect("server");
    let base = format!("http://{}/", app.addr());
    server_rt.spawn(app.run_until_stopped(std::future::pending()));

    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("client runtime");
    let report = client_rt.block_on(async move {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(concurrency)
            .build()
            .expect("client");
        admin(&http, &base, "admin/v1/accounts", json!({"id": "bench", "name": "bench"})).await;
        let client = admin(&http, &base, "admin/v1/accounts/bench/clients", json!({})).await;
        admin(&http, &base, "admin/v1/accounts/bench/codes", json!({"code": "88976"})).await;
        admin(&http, &base, "admin/v1/accounts/bench/lists", json!({"id": "L1", "name": "L1"})).await;
        admin(
            &http,
            &base,
            "admin/v1/accounts/bench/messages",
            json!({"id": "M1", "name": "M1", "code": "88976", "text": "Hello %%FirstName%%",
                   "status": "Active", "targetListIds": ["L1"]}),
        )
        .await;
        let token: Value = http
            .post(format!("{base}v2/token"))
            .json(&json!({"grant_type": "client_credentials",
                          "client_id": client["clientId"], "client_secret": client["clientSecret"]}))
            .send()
            .await
            .expect("token")
            .json()
            .await
            .expect("token json");
        let bearer = token["access_token"].as_str().expect("access_token").to_string();
        let url = format!("{base}sms/v1/messageList/M1/send");
        let body = json!({"blackoutWindow": {"UtcOffset": "-0500", "WindowStart": "2100", "WindowEnd": "0800"},
                          "OverrideMessageText": true, "MessageText": "Flash sale today"})
        .to_string();

        let deadline = Instant::now() + Duration::from_secs(seconds);
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..concurrency {
            let (http, url, bearer, body) = (http.clone(), url.clone(), bearer.clone(), body.clone());
            tasks.push(tokio::spawn(async move {
                let mut latencies_us: Vec<u32> = Vec::new();
                let (mut accepted, mut other) = (0u64, 0u64);
                while Instant::now() < deadline {
                    let t = Instant::now();
                    let resp = http
                        .post(&url)
                        .bearer_auth(&bearer)
                        .header("content-type", "application/json")
                        .body(body.clone())
                        .send()
                        .await;
                    let ok = match resp {
                        Ok(r) => {
                            let status = r.status();
                            let _ = r.bytes().await;
                            status.as_u16() == 202
                        }
                        Err(_) => false,
                    };
                    latencies_us.push(t.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
                    if ok {
                        accepted += 1;
                    } else {
                        other += 1;
                    }
                }
                (latencies_us, accepted, other)
            }));
        }
        let mut all = Vec::new();
        let (mut accepted, mut other) = (0u64, 0u64);
        for t in tasks {
            let (l, a, o) = t.await.expect("task");
            all.extend(l);
            accepted += a;
            other += o;
        }
        let elapsed = started.elapsed().as_secs_f64();
        all.sort_unstable();
        json!({
            "benchmark": "send_endpoint",
            "database": "sqlite",
            "concurrency": concurrency,
            "metrics": metrics,
            "seconds": elapsed,
            "accepted": accepted,
            "non_202": other,
            "accepted_per_sec": (accepted as f64 / elapsed).round(),
            "p50_ms": percentile(&all, 0.50),
            "p99_ms": percentile(&all, 0.99),
            "max_ms": percentile(&all, 1.0),
        })
    });
    println!("{report}");
}

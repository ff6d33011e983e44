//! The real `tidings serve` binary as a child process, for the suites that kill it, time it or
//! measure it from outside (crash safety, carrier faults, hostile clients). A `Site` is the
//! database, data directory and configuration file that successive (or concurrent) server
//! processes share; a `Server` is one running process. Every wait is a poll with a deadline, and
//! a failing wait prints the server's log.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

const POLL: Duration = Duration::from_millis(50);

/// A free TCP port on the loopback interface (bound, then released).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind port 0");
    l.local_addr().expect("local addr").port()
}

/// The database, data directory and `tidings.toml` that the server processes of one test share.
pub struct Site {
    dir: tempfile::TempDir,
    /// The suite's database: a SQLite file in `dir`, or a fresh PostgreSQL database.
    pub database: super::TestDatabase,
    pub admin_token: String,
    runs: usize,
}

/// One `tidings serve` process.
pub struct Server {
    pub child: Child,
    /// `http://127.0.0.1:PORT/`
    pub base: String,
    pub log: PathBuf,
    pub admin_token: String,
}

impl Site {
    /// A site whose servers read `config` (TOML) and use `admin_token`.
    pub fn new(config: &str, admin_token: &str) -> Site {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("tidings.toml"), config).expect("write config");
        let database = super::test_database(dir.path());
        Site {
            dir,
            database,
            admin_token: admin_token.to_string(),
            runs: 0,
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The data directory the servers use.
    pub fn data_dir(&self) -> PathBuf {
        self.path().join("data")
    }

    /// Starts `tidings serve` on fresh ports and waits (30 s at most) until it is ready.
    pub async fn start(&mut self, http: &reqwest::Client) -> Server {
        self.start_with_env(http, &[]).await
    }

    /// As `start`, with extra environment variables for the process.
    pub async fn start_with_env(&mut self, http: &reqwest::Client, env: &[(&str, &str)]) -> Server {
        self.runs += 1;
        let port = free_port();
        let log = self.path().join(format!("serve-{}.log", self.runs));
        let out = File::create(&log).expect("log file");
        let err = out.try_clone().expect("log file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_tidings"));
        command
            .arg("--config")
            .arg(self.path().join("tidings.toml"))
            .arg("serve")
            .env_remove("TIDINGS_CONFIG")
            .env_remove("TIDINGS_PUBLIC_URL")
            .env("TIDINGS_LISTEN", format!("127.0.0.1:{port}"))
            .env("DATABASE_URL", &self.database.url)
            .env("TIDINGS_DATA_DIR", self.data_dir())
            .env("TIDINGS_ADMIN_TOKEN", &self.admin_token)
            .env(
                "TIDINGS_METRICS_LISTEN",
                format!("127.0.0.1:{}", free_port()),
            )
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err));
        for (k, v) in env {
            command.env(k, v);
        }
        let child = command.spawn().expect("spawn tidings serve");
        let mut server = Server {
            child,
            base: format!("http://127.0.0.1:{port}/"),
            log,
            admin_token: self.admin_token.clone(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            server.assert_running();
            if let Ok(r) = http.get(server.url("/readyz")).send().await {
                if r.status() == StatusCode::OK {
                    return server;
                }
            }
            server.check_deadline(deadline, "the server to become ready");
            tokio::time::sleep(POLL).await;
        }
    }
}

/// A server left running by a failing test is killed with it.
impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path.trim_start_matches('/'))
    }

    /// `127.0.0.1:PORT` of the API listener.
    pub fn addr(&self) -> String {
        self.base
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Fails (with the server's log) when the process has exited.
    pub fn assert_running(&mut self) {
        if let Some(status) = self.child.try_wait().expect("try_wait") {
            panic!(
                "tidings serve exited with {status}; log:\n{}",
                self.log_text()
            );
        }
    }

    pub fn check_deadline(&self, deadline: Instant, what: &str) {
        if Instant::now() > deadline {
            panic!("timed out waiting for {what}; log:\n{}", self.log_text());
        }
    }

    /// SIGKILL (what `Child::kill` sends on Unix), and reap.
    pub fn kill(mut self) {
        self.child.kill().expect("kill");
        self.child.wait().expect("wait");
    }

    /// SIGTERM; waits (10 s at most, API.md §8) for the exit and returns its status.
    pub async fn terminate(mut self) -> std::process::ExitStatus {
        let sent = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -TERM failed");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "tidings serve did not exit within 10 s of SIGTERM; log:\n{}",
                    self.log_text()
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The resident set size of the process, in bytes (Linux `/proc`).
    pub fn rss_bytes(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("read /proc/PID/status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kb| kb * 1024)
            .expect("VmRSS in /proc/PID/status")
    }

    /// An admin POST that must succeed; returns its body.
    pub async fn admin(&self, http: &reqwest::Client, path: &str, body: Value) -> Value {
        let r = http
            .post(self.url(path))
            .bearer_auth(&self.admin_token)
            .json(&body)
            .send()
            .await
            .expect("admin request");
        let status = r.status();
        let body: Value = r.json().await.expect("admin JSON");
        assert!(status.is_success(), "POST {path}: {status} {body}");
        body
    }

    /// A GET with a bearer token that must answer 200; returns its body.
    pub async fn get(&self, http: &reqwest::Client, path: &str, bearer: &str) -> Value {
        let r = http
            .get(self.url(path))
            .bearer_auth(bearer)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}; log:\n{}", self.log_text()));
        let status = r.status();
        let body: Value = r.json().await.expect("JSON");
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body
    }
}

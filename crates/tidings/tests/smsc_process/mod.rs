//! Runs `tidings smsc` (the real binary) for a test, on free loopback ports, and reads its
//! control port. The process is killed when the handle drops.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

pub struct SmscProcess {
    child: Child,
    pub smpp_port: u16,
    pub control: String,
    http: reqwest::Client,
}

impl Drop for SmscProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SmscProcess {
    /// Starts `tidings smsc` with extra arguments; waits for its "listening" line.
    pub fn start(args: &[&str]) -> SmscProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tidings"))
            .arg("smsc")
            .args(["--listen", "127.0.0.1:0", "--control", "127.0.0.1:0"])
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start tidings smsc");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the smsc's first line");
        let v: Value = serde_json::from_str(&line).expect("a JSON line with the addresses");
        let smpp: std::net::SocketAddr = v["smpp"].as_str().expect("smpp").parse().expect("addr");
        SmscProcess {
            child,
            smpp_port: smpp.port(),
            control: format!("http://{}", v["control"].as_str().expect("control")),
            http: reqwest::Client::new(),
        }
    }

    pub async fn get(&self, path: &str) -> Value {
        self.http
            .get(format!("{}{path}", self.control))
            .send()
            .await
            .expect("control port")
            .json()
            .await
            .expect("JSON")
    }

    /// `POST /mo`: returns the status code and body.
    pub async fn mo(&self, from: &str, to: &str, text: &str) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}/mo", self.control))
            .json(&serde_json::json!({"from": from, "to": to, "text": text}))
            .send()
            .await
            .expect("control port");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

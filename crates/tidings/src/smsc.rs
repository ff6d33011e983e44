//! `tidings smsc` (API.md §8): runs the local SMSC of the `carrier` crate with its HTTP control
//! port — `POST /mo` injects an inbound text, `GET /submits` lists what was accepted,
//! `GET /stats` counts what happened. Needs no database and no configuration file.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use carrier::smsc::{MoError, Smsc, SmscConfig};
use clap::Args;
use serde_json::{json, Value};

/// `tidings smsc` options.
#[derive(Args, Clone)]
pub struct SmscArgs {
    /// SMPP listen address.
    #[arg(long, default_value = "127.0.0.1:2775")]
    pub listen: SocketAddr,
    /// Required bind system_id (any when absent).
    #[arg(long)]
    pub system_id: Option<String>,
    /// Required bind password (any when absent).
    #[arg(long, env = "TIDINGS_SMSC_PASSWORD")]
    pub password: Option<String>,
    /// Delay before a delivery receipt is sent.
    #[arg(long, default_value_t = 200)]
    pub receipt_delay_ms: u64,
    /// Answer ESME_RTHROTTLED to this share of submits (percent).
    #[arg(long, default_value_t = 0.0)]
    pub throttle_percent: f64,
    /// Answer ESME_RSUBMITFAIL to this share of submits (percent).
    #[arg(long, default_value_t = 0.0)]
    pub reject_percent: f64,
    /// Close the connection after this many submit_sm on it (0 = never).
    #[arg(long, default_value_t = 0)]
    pub drop_every: u64,
    /// HTTP control port (POST /mo, GET /submits, GET /stats).
    #[arg(long, default_value = "127.0.0.1:2776")]
    pub control: SocketAddr,
}

impl std::fmt::Debug for SmscArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmscArgs")
            .field("listen", &self.listen)
            .field("system_id", &self.system_id)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("receipt_delay_ms", &self.receipt_delay_ms)
            .field("throttle_percent", &self.throttle_percent)
            .field("reject_percent", &self.reject_percent)
            .field("drop_every", &self.drop_every)
            .field("control", &self.control)
            .finish()
    }
}

impl SmscArgs {
    pub fn config(&self) -> anyhow::Result<SmscConfig> {
        for (name, v) in [
            ("--throttle-percent", self.throttle_percent),
            ("--reject-percent", self.reject_percent),
        ] {
            if !(0.0..=100.0).contains(&v) {
                anyhow::bail!("{name} must be between 0 and 100");
            }
        }
        Ok(SmscConfig {
            listen: self.listen,
            system_id: self.system_id.clone(),
            password: self.password.clone(),
            receipt_delay: Duration::from_millis(self.receipt_delay_ms),
            throttle_percent: self.throttle_percent,
            reject_percent: self.reject_percent,
            drop_every: self.drop_every,
        })
    }
}

/// The control port's routes.
pub fn control_router(smsc: Arc<Smsc>) -> Router {
    Router::new()
        .route("/mo", post(mo))
        .route("/submits", get(submits))
        .route("/stats", get(stats))
        .with_state(smsc)
}

fn reply(status: StatusCode, body: Value) -> Response {
    api::json_response(status, &body)
}

async fn mo(State(smsc): State<Arc<Smsc>>, body: axum::body::Bytes) -> Response {
    let parsed: Result<Value, _> = serde_json::from_slice(&body);
    let field = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let Ok(v) = parsed else {
        return reply(
            StatusCode::BAD_REQUEST,
            json!({"errors": ["The request body isn't valid JSON."]}),
        );
    };
    let (Some(from), Some(to), Some(text)) =
        (field(&v, "from"), field(&v, "to"), field(&v, "text"))
    else {
        return reply(
            StatusCode::BAD_REQUEST,
            json!({"errors": ["from, to and text are required strings."]}),
        );
    };
    match smsc.deliver_mo(&from, &to, &text).await {
        Ok(()) => reply(StatusCode::ACCEPTED, json!({"delivered": true})),
        Err(MoError::NoReceiver) => reply(
            StatusCode::CONFLICT,
            json!({"delivered": false, "errors": ["No receiver is bound."]}),
        ),
        Err(MoError::Refused(why)) => reply(
            StatusCode::BAD_GATEWAY,
            json!({"delivered": false, "errors": [format!("The ESME did not take it: {why}")]}),
        ),
    }
}

async fn submits(State(smsc): State<Arc<Smsc>>) -> Response {
    match serde_json::to_vec(&smsc.submits()) {
        Ok(bytes) => (
            StatusCode::OK,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            bytes,
        )
            .into_response(),
        Err(e) => reply(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"errors": [e.to_string()]}),
        ),
    }
}

async fn stats(State(smsc): State<Arc<Smsc>>) -> Response {
    reply(StatusCode::OK, json!(smsc.stats()))
}

/// Runs the SMSC and its control port until `shutdown`; prints one JSON line with both
/// addresses once listening (port 0 picks free ports).
pub async fn run(
    args: &SmscArgs,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let smsc = Arc::new(
        Smsc::start(args.config()?)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?,
    );
    let control = tokio::net::TcpListener::bind(args.control)
        .await
        .with_context(|| format!("cannot listen on {}", args.control))?;
    let control_addr = control.local_addr()?;
    println!(
        "{}",
        json!({"smpp": smsc.addr().to_string(), "control": control_addr.to_string()})
    );
    tracing::info!(smpp = %smsc.addr(), control = %control_addr, "local SMSC listening");
    // API.md §8: a test peer, with credentials accepted by default; say so when others can reach it.
    for (what, addr) in [("SMPP", smsc.addr()), ("control", control_addr)] {
        if !addr.ip().is_loopback() {
            tracing::warn!(
                %addr,
                "local SMSC {what} port listens beyond loopback: other machines can reach it"
            );
        }
    }
    axum::serve(control, control_router(smsc.clone()))
        .with_graceful_shutdown(shutdown)
        .await
        .context("control port failed")?;
    tracing::info!(stats = %json!(smsc.stats()), "local SMSC stopped");
    Ok(())
}

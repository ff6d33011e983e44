//! Wiring: opens the store, applies migrations, binds the listener and runs the HTTP server
//! until told to stop (API.md §8).

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::{anyhow, bail, Context};
use api::{ApiConfig, AppState, Clock};
use store::Store;

use crate::config::{database_kind, CarrierConfig, Config, DatabaseKind};

/// Opens the configured database (without migrating it).
pub async fn open_store(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    match database_kind(url)? {
        DatabaseKind::Sqlite => {
            let store = store_sqlite::SqliteStore::open(url)
                .await
                .with_context(|| format!("cannot open {}", crate::config::redact_url(url)))?;
            Ok(Arc::new(store))
        }
        DatabaseKind::Postgres => {
            let store = store_postgres::PgStore::connect(url)
                .await
                .with_context(|| format!("cannot open {}", crate::config::redact_url(url)))?;
            Ok(Arc::new(store))
        }
    }
}

/// Opens the store and applies pending migrations.
pub async fn open_migrated_store(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    let store = open_store(url).await?;
    store.migrate().await.context("applying migrations")?;
    Ok(store)
}

/// The admin token: configured, or generated on first start and kept in the data directory
/// (mode 0600) (API.md §7).
pub fn admin_token(config: &Config) -> anyhow::Result<String> {
    if let Some(t) = &config.admin_token {
        return Ok(t.clone());
    }
    let path = config.data_dir.join("admin-token");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let t = existing.trim().to_string();
        if !t.is_empty() {
            return Ok(t);
        }
    }
    create_private_dir(&config.data_dir)?;
    let token = api::auth::random_alnum(40);
    write_private(&path, &token)?;
    tracing::info!(path = %path.display(), "generated an admin token and stored it");
    Ok(token)
}

/// Creates a directory (and its missing parents) readable by its owner only (0700, API.md §8
/// "Protection"); an existing directory is left as it is.
pub fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))
}

/// Writes a file readable by its owner only (0600, API.md §7, §8).
fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    f.write_all(contents.as_bytes())?;
    Ok(())
}

/// The operations over `store` with the configured settings; `engine` runs inbound texts and
/// the work they record (absent for the CLI).
pub fn operations(
    config: &Config,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    engine: Option<engine::Engine>,
) -> service::Service {
    let settings = service::Settings {
        carriers: config.carriers.iter().map(|c| c.name.clone()).collect(),
        timestamps_utc: config.timestamps_utc,
    };
    service::Service::new(store, clock, settings, &config.data_dir, engine)
}

/// Whether the engine runs its own workers, or is driven by the caller (tests, benchmarks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineMode {
    Background,
    Manual,
}

/// The configured carriers, and those of them that take status callbacks over HTTP.
#[derive(Default)]
pub struct Carriers {
    pub all: Vec<Arc<dyn carrier::Carrier>>,
    pub callbacks: HashMap<String, Arc<dyn carrier::StatusCallbacks>>,
}

/// The `[[carriers]]` keys besides `name` and `type`, as the carrier's settings.
fn carrier_settings<T: serde::de::DeserializeOwned>(c: &CarrierConfig) -> anyhow::Result<T> {
    let table: toml::Table = c.settings.clone().into_iter().collect();
    toml::Value::Table(table)
        .try_into::<T>()
        .map_err(|e| anyhow!("carrier {:?}: {}", c.name, e.message()))
}

/// Builds the configured carriers, all feeding one event sink (API.md §8). SMPP carriers
/// start binding at once (in the current runtime).
pub fn build_carriers(
    config: &Config,
    store: &Arc<dyn Store>,
    clock: &Arc<dyn Clock>,
    events: &carrier::EventSink,
) -> anyhow::Result<Carriers> {
    let mut built = Carriers::default();
    for c in &config.carriers {
        let int = |key: &str, default: u64| -> anyhow::Result<u64> {
            match c.settings.get(key) {
                None => Ok(default),
                Some(toml::Value::Integer(i)) if *i >= 0 => Ok(*i as u64),
                Some(other) => bail!(
                    "carrier {:?}: {key} must be a non-negative integer, not {other}",
                    c.name
                ),
            }
        };
        match c.kind.as_str() {
            "simulator" => {
                for key in c.settings.keys() {
                    if key != "receipt_delay_ms" && key != "rate_limit" {
                        bail!("carrier {:?}: unknown simulator setting {key:?}", c.name);
                    }
                }
                let delay = int(
                    "receipt_delay_ms",
                    carrier::simulator::DEFAULT_RECEIPT_DELAY_MS,
                )?;
                let rate = u32::try_from(int("rate_limit", 0)?)?;
                built.all.push(Arc::new(carrier::Simulator::new(
                    c.name.clone(),
                    store.clone(),
                    events.clone(),
                    delay,
                    rate,
                    clock.clone(),
                )));
            }
            "smpp" => {
                let settings: carrier::smpp::SmppSettings = carrier_settings(c)?;
                let smpp = carrier::SmppCarrier::start(c.name.clone(), settings, events.clone())
                    .map_err(|e| anyhow!("carrier {:?}: {e}", c.name))?;
                built.all.push(Arc::new(smpp));
            }
            "http" => {
                let settings: carrier::http::HttpSettings = carrier_settings(c)?;
                let http = Arc::new(
                    carrier::TwilioCarrier::new(c.name.clone(), settings, events.clone())
                        .map_err(|e| anyhow!("carrier {:?}: {e}", c.name))?,
                );
                built.callbacks.insert(c.name.clone(), http.clone());
                built.all.push(http);
            }
            other => bail!("carrier {:?}: unknown type {other:?}", c.name),
        }
    }
    Ok(built)
}

/// The engine's tunables from `[engine]`.
pub fn engine_config(config: &Config) -> engine::EngineConfig {
    let mut c = engine::EngineConfig::new(process_owner());
    let e = &config.engine;
    c.workers = e.workers.unwrap_or(c.workers).max(1);
    c.claim_batch = e.claim_batch.unwrap_or(c.claim_batch).max(1);
    c.expand_batch = e.expand_batch.unwrap_or(c.expand_batch).max(1);
    c.submit_lease_ms = e.submit_lease_ms.unwrap_or(c.submit_lease_ms).max(1);
    c.expand_lease_ms = e.expand_lease_ms.unwrap_or(c.expand_lease_ms).max(1);
    c.job_lease_ms = e.job_lease_ms.unwrap_or(c.job_lease_ms).max(1);
    if let Some(ms) = e.idle_poll_ms {
        c.idle_poll = std::time::Duration::from_millis(ms.max(1));
    }
    c
}

/// A name for this process on leases: host, pid and a random suffix.
pub fn process_owner() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "node".into());
    format!(
        "{host}-{}-{}",
        std::process::id(),
        domain::mint_id().get(..6).unwrap_or("0")
    )
}

/// A bound, ready-to-run server.
pub struct Application {
    listener: tokio::net::TcpListener,
    addr: SocketAddr,
    /// The metrics listener and the recorder's handle (none when `metrics_listen = "off"`).
    metrics: Option<(
        tokio::net::TcpListener,
        metrics_exporter_prometheus::PrometheusHandle,
    )>,
    state: AppState,
    /// The web console's sessions (its live streams end at shutdown).
    console: Arc<console::Console>,
    engine: engine::Engine,
    mode: EngineMode,
    /// The API connections' rules (API.md §1).
    limits: crate::server::Limits,
}

impl Application {
    /// Opens and migrates the store, binds the listener (port 0 picks a free port).
    pub async fn build(
        config: &Config,
        clock: Arc<dyn Clock>,
        mode: EngineMode,
    ) -> anyhow::Result<Application> {
        let store = open_migrated_store(&config.database_url).await?;
        Application::with_store(config, store, clock, mode).await
    }

    pub async fn with_store(
        config: &Config,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        mode: EngineMode,
    ) -> anyhow::Result<Application> {
        // Bound and installed first: carriers take their metric handles when built.
        let metrics = match config.metrics_listen {
            None => None,
            Some(addr) => {
                let handle = crate::metrics::recorder()?;
                let listener = tokio::net::TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("cannot listen on {addr} (metrics)"))?;
                Some((listener, handle))
            }
        };
        let (events_tx, events_rx) = carrier::event_channel();
        let carriers = build_carriers(config, &store, &clock, &events_tx)?;
        let engine = engine::Engine::new(
            store.clone(),
            carriers.all,
            events_rx,
            clock.clone(),
            engine_config(config),
        );
        // API.md §8 "Protection": the data directory is private, and a short admin token is
        // refused before anything listens.
        config.check_admin_token()?;
        create_private_dir(&config.data_dir)?;
        let admin_token = admin_token(config)?;
        let listener = tokio::net::TcpListener::bind(&config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let addr = listener.local_addr()?;
        let public_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}/"));
        let api_config = ApiConfig {
            public_url,
            timestamps_utc: config.timestamps_utc,
            rate_limit: config.rate_limit,
            token_failure_rate: config.token_failure_rate,
            trusted_proxies: config.trusted_proxies.clone(),
            admin_token,
            data_dir: config.data_dir.clone(),
            carriers: config.carriers.iter().map(|c| c.name.clone()).collect(),
        };
        let service = operations(config, store.clone(), clock.clone(), Some(engine.clone()));
        service.prepare_folders().await?;
        let state =
            AppState::new(service, store, api_config, clock).with_callbacks(carriers.callbacks);
        let console = Arc::new(console::Console::new(config.console_session_minutes));
        Ok(Application {
            listener,
            addr,
            metrics,
            state,
            console,
            engine,
            mode,
            limits: crate::server::Limits::new(config.max_connections),
        })
    }

    /// The engine, to drive it in `Manual` mode.
    pub fn engine(&self) -> engine::Engine {
        self.engine.clone()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Where `GET /metrics` is served, unless the metrics listener is off.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics
            .as_ref()
            .and_then(|(listener, _)| listener.local_addr().ok())
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves (and, in `Background` mode, runs the engine) until `shutdown` resolves; then stops
    /// accepting requests, finishes in-flight requests and engine batches, gives back leases and
    /// returns (API.md §8 SIGTERM).
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        tracing::info!(addr = %self.addr, "listening");
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let mut signals_task = None;
        if self.mode == EngineMode::Background {
            // Other processes on the same database wake this engine when they create work.
            match self.state.store.work_signals().await {
                Ok(Some(signals)) => {
                    signals_task = Some(tokio::spawn(wake_on_signals(
                        signals,
                        self.engine.waker(),
                        stop_rx.clone(),
                    )));
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(
                    error = %e,
                    "cannot listen for work signals from other processes; polling only"
                ),
            }
        }
        let mut metrics_tasks = Vec::new();
        if let Some((listener, handle)) = self.metrics {
            if let Ok(addr) = listener.local_addr() {
                tracing::info!(%addr, "metrics listening");
            }
            let app = crate::metrics::router(
                handle.clone(),
                self.state.store.clone(),
                self.state.clock.clone(),
            );
            let mut stop = stop_rx.clone();
            metrics_tasks.push(tokio::spawn(async move {
                let stopped = async move {
                    let _ = stop.wait_for(|s| *s).await;
                };
                if let Err(e) = axum::serve(listener, app)
                    .with_graceful_shutdown(stopped)
                    .await
                {
                    tracing::error!(error = %e, "metrics listener failed");
                }
            }));
            metrics_tasks.push(tokio::spawn(crate::metrics::upkeep(
                handle,
                stop_rx.clone(),
            )));
        }
        // Expired access tokens are purged however long the process runs (API.md §8).
        let janitor = tokio::spawn(purge_expired_tokens(
            self.state.store.clone(),
            self.state.clock.clone(),
            stop_rx.clone(),
        ));
        let engine_task = (self.mode == EngineMode::Background)
            .then(|| tokio::spawn(self.engine.clone().run(stop_rx)));
        // At the signal, the HTTP server and the engine stop together (API.md §8 SIGTERM: both
        // give what is in flight a few seconds, so the process exits well within 10 s). Live
        // console streams end too, or they would hold their connections open.
        let console = self.console.clone();
        let pages = console::router(console::AppState::new(&self.state, self.console.clone()));
        let shutdown = async move {
            shutdown.await;
            console.close_streams();
            let _ = stop_tx.send(true);
        };
        crate::server::serve(
            self.listener,
            api::router(self.state, pages),
            self.limits,
            shutdown,
        )
        .await;
        if let Some(task) = engine_task {
            if tokio::time::timeout(std::time::Duration::from_secs(8), task)
                .await
                .is_err()
            {
                tracing::warn!("engine did not stop within 8 s");
            }
        }
        if let Some(task) = signals_task {
            let _ = task.await;
        }
        let _ = janitor.await;
        for task in metrics_tasks {
            let _ = task.await;
        }
        Ok(())
    }
}

/// How often expired access tokens are purged.
pub const TOKEN_PURGE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5 * 60);

/// Purges expired access tokens at start and then every [`TOKEN_PURGE_INTERVAL`] until told to
/// stop (API.md §8 "Retention": always, whatever `[retention]` says).
async fn purge_expired_tokens(
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut every = tokio::time::interval(TOKEN_PURGE_INTERVAL);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let stopped = async move {
        let _ = stop.wait_for(|stopped| *stopped).await;
    };
    tokio::pin!(stopped);
    loop {
        tokio::select! {
            _ = every.tick() => {}
            () = &mut stopped => return,
        }
        match store.purge_expired_tokens(clock.now_ms()).await {
            Ok(0) => {}
            Ok(purged) => tracing::debug!(purged, "purged expired access tokens"),
            Err(e) => tracing::warn!(error = %e, "cannot purge expired access tokens"),
        }
    }
}

/// Wakes the engine's idle workers on every work signal until told to stop.
async fn wake_on_signals(
    mut signals: futures::stream::BoxStream<'static, ()>,
    waker: Arc<tokio::sync::Notify>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    use futures::StreamExt;
    loop {
        tokio::select! {
            signal = signals.next() => match signal {
                Some(()) => waker.notify_waiters(),
                None => return,
            },
            _ = stop.wait_for(|stopped| *stopped) => return,
        }
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}

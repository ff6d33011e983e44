//! Wiring: opens the store, applies migrations, binds the listener and runs the HTTP server
//! until told to stop (API.md §8).

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context};
use api::{ApiConfig, AppState, Clock};
use store::Store;

use crate::config::{database_kind, Config, DatabaseKind};

/// Opens the configured database (without migrating it).
pub async fn open_store(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    match database_kind(url)? {
        DatabaseKind::Sqlite => {
            let store = store_sqlite::SqliteStore::open(url)
                .await
                .with_context(|| format!("cannot open {}", crate::config::redact_url(url)))?;
            Ok(Arc::new(store))
        }
        DatabaseKind::Postgres => bail!(
            "this build of Tidings has no PostgreSQL backend yet; use DATABASE_URL=sqlite://PATH"
        ),
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
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create {}", config.data_dir.display()))?;
    let token = api::auth::random_alnum(40);
    write_private(&path, &token)?;
    tracing::info!(path = %path.display(), "generated an admin token and stored it");
    Ok(token)
}

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

/// A bound, ready-to-run server.
pub struct Application {
    listener: tokio::net::TcpListener,
    addr: SocketAddr,
    state: AppState,
}

impl Application {
    /// Opens and migrates the store, binds the listener (port 0 picks a free port).
    pub async fn build(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<Application> {
        let store = open_migrated_store(&config.database_url).await?;
        Application::with_store(config, store, clock).await
    }

    pub async fn with_store(
        config: &Config,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Application> {
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
            admin_token,
            data_dir: config.data_dir.clone(),
            carriers: config.carriers.iter().map(|c| c.name.clone()).collect(),
        };
        let state = AppState::new(store, api_config, clock);
        Ok(Application {
            listener,
            addr,
            state,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, then finishes in-flight requests and returns.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        tracing::info!(addr = %self.addr, "listening");
        axum::serve(self.listener, api::router(self.state))
            .with_graceful_shutdown(shutdown)
            .await
            .context("server failed")
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

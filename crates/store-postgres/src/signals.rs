//! Work signals between processes (`LISTEN`/`NOTIFY`): a process that creates work other
//! processes' engines could do — a send due now, a canceled one, an audience fully expanded, a
//! lease given back — tells them on one channel, so idle engines need not poll the database
//! often to react promptly.
//!
//! Signals carry no data and may merge: they only mean "look now". The store raises them after
//! its own transaction commits, through one notifier task per store, which sends at most one
//! `NOTIFY` at a time (the signals raised meanwhile ride on the next one), so a burst of sends
//! costs a handful of notifications, not one per send.

use std::time::Duration;

use futures::stream::BoxStream;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions};
use store::{StoreError, StoreResult};
use tokio::sync::mpsc;

/// The channel every Tidings process of one database listens on.
pub const CHANNEL: &str = "tidings_work";

/// How long the notifier gathers signals after sending a notification before the next.
const GATHER: Duration = Duration::from_millis(10);
/// How long the listener waits before reconnecting after an error.
const RECONNECT_PAUSE: Duration = Duration::from_secs(1);

/// The raising side: cheap to clone; the notifier task ends when the last clone is dropped.
#[derive(Clone)]
pub(crate) struct Signal {
    raise: mpsc::Sender<()>,
}

impl Signal {
    /// Starts the notifier task on `pool`.
    pub(crate) fn start(pool: PgPool) -> Signal {
        let (raise, raised) = mpsc::channel(1);
        tokio::spawn(notifier(pool, raised));
        Signal { raise }
    }

    /// Asks for a notification. Never waits: a signal already pending covers this one.
    pub(crate) fn raise(&self) {
        let _ = self.raise.try_send(());
    }
}

async fn notifier(pool: PgPool, mut raised: mpsc::Receiver<()>) {
    while raised.recv().await.is_some() {
        if let Err(e) = notify(&pool).await {
            tracing::warn!(error = %e, "could not signal other processes; they will poll");
        }
        tokio::time::sleep(GATHER).await;
    }
}

/// One `NOTIFY` in its own transaction. The commit need not wait for the disk: a lost signal
/// costs a poll interval, nothing else.
async fn notify(pool: &PgPool) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET LOCAL synchronous_commit = off")
        .execute(&mut *tx)
        .await?;
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(CHANNEL)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

/// Listens on its own connection (outside the store's pool, so it never takes a connection
/// from the work) and yields one item per notification, merged when several arrive before they
/// are taken, and one after each reconnection (notifications may have been missed meanwhile).
/// The stream ends when it is dropped.
pub(crate) async fn listen(connect: PgConnectOptions) -> StoreResult<BoxStream<'static, ()>> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .min_connections(0)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_lazy_with(connect);
    let mut listener = PgListener::connect_with(&pool)
        .await
        .map_err(|e| StoreError::Unavailable(format!("connect to listen for work: {e}")))?;
    listener
        .listen(CHANNEL)
        .await
        .map_err(|e| StoreError::Unavailable(format!("listen for work: {e}")))?;
    let (tx, rx) = mpsc::channel::<()>(1);
    tokio::spawn(async move {
        loop {
            let received = tokio::select! {
                r = listener.try_recv() => r,
                _ = tx.closed() => return,
            };
            match received {
                Ok(Some(_)) => {}
                // The connection was lost and is back: what was sent meanwhile is unknown.
                Ok(None) => tracing::info!("work-signal connection restored"),
                Err(e) => {
                    tracing::warn!(error = %e, "listening for work signals failed; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(RECONNECT_PAUSE) => {}
                        _ = tx.closed() => return,
                    }
                }
            }
            if let Err(mpsc::error::TrySendError::Closed(())) = tx.try_send(()) {
                return;
            }
        }
    });
    Ok(Box::pin(futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|()| ((), rx))
    })))
}

//! The API's HTTP server (API.md §1 "Connection limits"): accepts connections and serves the
//! router on each with hyper's HTTP/1, owning the rules of the connections themselves — a request
//! head must be complete 10 s after its first byte, an idle keep-alive connection is closed after
//! 60 s, and at most `[api] max_connections` connections are open: at the cap, the connection with
//! the least recent activity among those waiting for their client (idle, sending a head or a
//! body, or not reading an answer) is closed to admit the new client, so idle or slow connections
//! never lock a client out; a connection whose request is being handled is never cut for room. It
//! also fits the process's open-file limit to the cap, and shuts down gracefully (in-flight
//! requests finish, bounded).
//!
//! Body limits (the 408s) are the API's (`api::arrival`); the server tells it when each request's
//! head arrived ([`api::arrival::HeadReceived`]) and who sent it (`ConnectInfo<SocketAddr>`).

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use anyhow::bail;
use axum::extract::ConnectInfo;
use axum::Router;
use bytes::Bytes;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tower::ServiceExt;

/// A request head must be complete this long after its first byte (API.md §1).
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// A keep-alive connection without a request is closed after this long (API.md §1).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// `[api] max_connections` unless configured (API.md §1).
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
/// Open files the process needs besides its API connections: the database pool, carrier
/// connections, the metrics listener, data files and logs.
pub const RESERVED_FILES: u64 = 1_024;
/// After shutdown is asked for, in-flight requests have this long to finish; then their
/// connections are closed (SIGTERM exits within 10 s, API.md §8).
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// The connection rules one server applies.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_connections: usize,
    pub head_timeout: Duration,
    pub idle_timeout: Duration,
    pub shutdown_grace: Duration,
}

impl Limits {
    /// The contract's limits with `max_connections` open connections at most.
    pub fn new(max_connections: usize) -> Limits {
        Limits {
            max_connections: max_connections.max(1),
            head_timeout: HEAD_TIMEOUT,
            idle_timeout: IDLE_TIMEOUT,
            shutdown_grace: SHUTDOWN_GRACE,
        }
    }
}

/// Raises the soft open-file limit (RLIMIT_NOFILE) to fit `max_connections` connections and
/// [`RESERVED_FILES`] more, up to the hard limit (beyond it when the process may raise that);
/// an error names the limit and the setting when it cannot (API.md §1).
pub fn fit_open_file_limit(max_connections: usize) -> anyhow::Result<()> {
    if !rlimit::Resource::NOFILE.is_supported() {
        return Ok(());
    }
    let needed = (max_connections as u64).saturating_add(RESERVED_FILES);
    let (soft, hard) = rlimit::Resource::NOFILE
        .get()
        .map_err(|e| anyhow::anyhow!("cannot read the open-file limit (RLIMIT_NOFILE): {e}"))?;
    if soft >= needed {
        return Ok(());
    }
    if let Err(e) = rlimit::Resource::NOFILE.set(needed, hard.max(needed)) {
        bail!(
            "[api] max_connections = {max_connections} needs an open-file limit of at least \
             {needed} ({max_connections} connections + {RESERVED_FILES} other files), but \
             RLIMIT_NOFILE is {soft} (hard limit {hard}) and cannot be raised ({e}): raise the \
             limit (ulimit -n, LimitNOFILE=) or lower [api] max_connections"
        );
    }
    tracing::info!(
        from = soft,
        to = needed,
        "raised the open-file limit to fit [api] max_connections"
    );
    Ok(())
}

/// Serves `router` on `listener` until `shutdown` resolves; then stops accepting, closes idle
/// connections, lets in-flight requests finish for at most `limits.shutdown_grace`, closes the
/// rest and returns.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let registry = Arc::new(Registry::default());
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let mut next_id: u64 = 0;
    tokio::pin!(shutdown);
    'accepting: loop {
        let (stream, peer) = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
            Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
        };
        next_id += 1;
        let tracker = Arc::new(Tracker::new(registry.clone()));
        // At the cap, wait until some connection may be closed: every open one is having a
        // request handled (it would be wrong to cut those).
        loop {
            if registry.admit(next_id, &tracker, limits.max_connections) {
                break;
            }
            tokio::select! {
                biased;
                () = &mut shutdown => break 'accepting,
                () = registry.freed.notified() => {}
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            }
        }
        let _ = stream.set_nodelay(true);
        let open = Registered {
            registry: registry.clone(),
            id: next_id,
        };
        tasks.spawn(connection(
            stream,
            peer,
            tracker,
            open,
            router.clone(),
            limits,
            stop_rx.clone(),
        ));
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let finished = tokio::time::timeout(limits.shutdown_grace, async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    if finished.is_err() {
        tracing::warn!(
            open = tasks.len(),
            "requests still in flight after the shutdown grace period; closing their connections"
        );
        tasks.shutdown().await;
    }
}

/// After a failed `accept`: a connection that went away before it was accepted is nothing; any
/// other failure (such as running out of file descriptors) is logged and accepting pauses.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "cannot accept a connection");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// Serves one connection until it ends, breaks one of the rules, is closed to admit another,
/// or the shutdown grace is over.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    tracker: Arc<Tracker>,
    _open: Registered,
    router: Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) {
    let io = TokioIo::new(TrackedStream {
        inner: stream,
        tracker: tracker.clone(),
    });
    let service = {
        let tracker = tracker.clone();
        hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
            tracker.request_started();
            let (mut parts, body) = req.into_parts();
            parts.extensions.insert(ConnectInfo(peer));
            parts
                .extensions
                .insert(api::arrival::HeadReceived(Instant::now()));
            let body = axum::body::Body::new(TrackedBody {
                inner: body,
                tracker: tracker.clone(),
            });
            let request = hyper::Request::from_parts(parts, body);
            let router = router.clone();
            let tracker = tracker.clone();
            async move {
                let response = match router.oneshot(request).await {
                    Ok(response) => response,
                    Err(never) => match never {},
                };
                Ok::<_, Infallible>(response.map(|inner| ResponseBody { inner, tracker }))
            }
        })
    };
    let served = hyper::server::conn::http1::Builder::new()
        // hyper's own timer counts from when it starts waiting for a head, idle time included;
        // the head rule here counts from the head's first byte.
        .header_read_timeout(None)
        .serve_connection(io, service);
    tokio::pin!(served);
    let mut draining = false;
    loop {
        let deadline = tracker.deadline(&limits);
        tokio::select! {
            biased;
            () = tracker.close.notified() => {
                tracing::debug!(%peer, "connection closed to admit a new one");
                return;
            }
            result = served.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
                return;
            }
            () = tracker.changed.notified() => {}
            () = sleep_until(deadline) => {
                if tracker.deadline(&limits).is_some_and(|d| d <= Instant::now()) {
                    tracing::debug!(%peer, phase = ?tracker.phase(), "connection timed out");
                    return;
                }
            }
            _ = stop.wait_for(|stop| *stop), if !draining => {
                draining = true;
                served.as_mut().graceful_shutdown();
            }
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// Where a connection is between requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for a request; no byte of its head yet.
    Idle,
    /// Part of a request head has arrived.
    Head,
    /// A request is being handled.
    Handling,
    /// The request's handler is waiting for more of its body from the client.
    AwaitingBody,
}

struct Activity {
    phase: Phase,
    /// When the phase began.
    since: Instant,
    /// The last byte received or sent, request started or response finished.
    last: Instant,
    /// The client is not reading what the server writes (the socket's send buffer is full).
    writes_blocked: bool,
}

impl Activity {
    /// Whether the connection may be closed to admit another: it is waiting for its client — to
    /// send a request, the rest of one, or to read an answer.
    fn waits_for_client(&self) -> bool {
        self.phase != Phase::Handling || self.writes_blocked
    }
}

/// One open connection's activity, shared by its reader, its requests and its task.
struct Tracker {
    activity: Mutex<Activity>,
    /// The phase changed: the connection's task re-reads its deadline.
    changed: Notify,
    /// The connection is closed to admit another.
    close: Notify,
    registry: Arc<Registry>,
}

impl Tracker {
    fn new(registry: Arc<Registry>) -> Tracker {
        let now = Instant::now();
        Tracker {
            activity: Mutex::new(Activity {
                phase: Phase::Idle,
                since: now,
                last: now,
                writes_blocked: false,
            }),
            changed: Notify::new(),
            close: Notify::new(),
            registry,
        }
    }

    fn activity(&self) -> MutexGuard<'_, Activity> {
        self.activity.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn phase(&self) -> Phase {
        self.activity().phase
    }

    /// When the connection breaks a rule, if it stays in its phase.
    fn deadline(&self, limits: &Limits) -> Option<Instant> {
        let a = self.activity();
        if a.writes_blocked {
            // A client that takes nothing of an answer for as long is idle too.
            return Some(a.last + limits.idle_timeout);
        }
        match a.phase {
            Phase::Idle => Some(a.since + limits.idle_timeout),
            Phase::Head => Some(a.since + limits.head_timeout),
            Phase::Handling | Phase::AwaitingBody => None,
        }
    }

    /// Bytes arrived: in an idle connection, the first of a request head.
    fn bytes_received(&self) {
        let now = Instant::now();
        let mut a = self.activity();
        a.last = now;
        if a.phase == Phase::Idle {
            a.phase = Phase::Head;
            a.since = now;
            drop(a);
            self.changed.notify_one();
        }
    }

    fn request_started(&self) {
        self.enter(Phase::Handling);
    }

    /// The handler is (or is no longer) waiting for the request body.
    fn awaiting_body(&self, waiting: bool) {
        let (from, to) = if waiting {
            (Phase::Handling, Phase::AwaitingBody)
        } else {
            (Phase::AwaitingBody, Phase::Handling)
        };
        if self.phase() == from {
            self.enter(to);
        }
    }

    fn response_finished(&self) {
        self.enter(Phase::Idle);
    }

    /// A write to the client did (`false`) or could not (`true`) go out.
    fn writes_blocked(&self, blocked: bool) {
        let mut a = self.activity();
        if !blocked {
            let now = Instant::now();
            a.last = now;
            if a.phase == Phase::Idle {
                // hyper is done with a response once it holds all of it, maybe long before the
                // client has read it: a connection is idle from its last byte written.
                a.since = now;
            }
        }
        if a.writes_blocked == blocked {
            return;
        }
        let was_waiting = a.waits_for_client();
        a.writes_blocked = blocked;
        let waiting = a.waits_for_client();
        drop(a);
        self.changed.notify_one();
        if waiting && !was_waiting {
            self.registry.freed.notify_one();
        }
    }

    fn enter(&self, phase: Phase) {
        let now = Instant::now();
        let mut a = self.activity();
        let was_waiting = a.waits_for_client();
        a.phase = phase;
        a.since = now;
        a.last = now;
        let waiting = a.waits_for_client();
        drop(a);
        self.changed.notify_one();
        if waiting && !was_waiting {
            self.registry.freed.notify_one();
        }
    }
}

/// The open connections.
#[derive(Default)]
struct Registry {
    open: Mutex<HashMap<u64, Arc<Tracker>>>,
    /// A connection closed or began waiting for its client: a client waiting at the cap may be
    /// admitted.
    freed: Notify,
}

impl Registry {
    fn open(&self) -> MutexGuard<'_, HashMap<u64, Arc<Tracker>>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Admits a connection: below the cap at once; at the cap by closing the connection with the
    /// least recent activity among those waiting for their client. False when every open
    /// connection is having a request handled.
    fn admit(&self, id: u64, tracker: &Arc<Tracker>, max_connections: usize) -> bool {
        let mut open = self.open();
        while open.len() >= max_connections {
            let longest_idle = open
                .iter()
                .filter_map(|(id, t)| {
                    let a = t.activity();
                    a.waits_for_client().then_some((a.last, *id))
                })
                .min();
            let Some((_, victim)) = longest_idle else {
                return false;
            };
            if let Some(t) = open.remove(&victim) {
                t.close.notify_one();
            }
        }
        open.insert(id, tracker.clone());
        true
    }
}

/// A connection's place in the registry, given up when its task ends (however it ends).
struct Registered {
    registry: Arc<Registry>,
    id: u64,
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.registry.open().remove(&self.id);
        self.registry.freed.notify_one();
    }
}

/// The socket, noting every byte that arrives and every write the client does not take.
struct TrackedStream {
    inner: TcpStream,
    tracker: Arc<Tracker>,
}

impl AsyncRead for TrackedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.tracker.bytes_received();
        }
        polled
    }
}

impl AsyncWrite for TrackedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.tracker.writes_blocked(polled.is_pending());
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.tracker.writes_blocked(polled.is_pending());
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A request body, noting when its handler waits for the client.
struct TrackedBody {
    inner: Incoming,
    tracker: Arc<Tracker>,
}

impl Body for TrackedBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        self.tracker.awaiting_body(polled.is_pending());
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A response body; when hyper is done with it, the connection waits for its next request.
struct ResponseBody {
    inner: axum::body::Body,
    tracker: Arc<Tracker>,
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for ResponseBody {
    fn drop(&mut self) {
        self.tracker.response_finished();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Short limits, so that the rules show in well under a second.
    fn limits(max_connections: usize) -> Limits {
        Limits {
            max_connections,
            head_timeout: Duration::from_millis(300),
            idle_timeout: Duration::from_millis(900),
            shutdown_grace: Duration::from_millis(500),
        }
    }

    struct Running {
        addr: SocketAddr,
        stop: tokio::sync::oneshot::Sender<()>,
        served: tokio::task::JoinHandle<()>,
    }

    impl Running {
        /// Asks for shutdown; returns how long `serve` took to return.
        async fn stop(self) -> Duration {
            let start = Instant::now();
            let _ = self.stop.send(());
            tokio::time::timeout(Duration::from_secs(5), self.served)
                .await
                .expect("serve returns")
                .expect("serve task");
            start.elapsed()
        }
    }

    async fn run(router: Router, limits: Limits) -> Running {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = tokio::spawn(serve(listener, router, limits, async move {
            let _ = stopped.await;
        }));
        Running { addr, stop, served }
    }

    /// `/healthz`, and `/hold`, whose handler tells `started` and then waits for `release`.
    fn router(started: Arc<Notify>, release: Arc<Notify>) -> Router {
        Router::new()
            .route("/healthz", get(|| async { "ok" }))
            .route(
                "/hold",
                get(move || {
                    let (started, release) = (started.clone(), release.clone());
                    async move {
                        started.notify_one();
                        release.notified().await;
                        "done"
                    }
                }),
            )
    }

    fn healthz() -> Router {
        router(Arc::new(Notify::new()), Arc::new(Notify::new()))
    }

    /// Reads until the peer closes; the time it took, or `None` when still open after `limit`.
    async fn closed_after(stream: &mut TcpStream, limit: Duration) -> Option<Duration> {
        let start = Instant::now();
        let mut buf = [0u8; 1024];
        let closed = async {
            loop {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        };
        tokio::time::timeout(limit, closed)
            .await
            .ok()
            .map(|()| start.elapsed())
    }

    fn is_open(stream: &TcpStream) -> bool {
        let mut byte = [0u8; 1];
        matches!(stream.try_read(&mut byte), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
    }

    /// Reads one whole (small, `Content-Length`) answer as text.
    async fn answer(stream: &mut TcpStream) -> String {
        let mut text = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = stream.read(&mut buf).await.expect("answer");
            assert!(n > 0, "closed before the answer");
            text.extend_from_slice(&buf[..n]);
            let s = String::from_utf8_lossy(&text).to_string();
            if let Some(end) = s.find("\r\n\r\n") {
                let length: usize = s[..end]
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length: "))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                if s.len() >= end + 4 + length {
                    return s;
                }
            }
        }
    }

    async fn send_get(stream: &mut TcpStream, path: &str) {
        stream
            .write_all(format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes())
            .await
            .expect("request");
    }

    async fn get_on(stream: &mut TcpStream, path: &str) -> String {
        send_get(stream, path).await;
        answer(stream).await
    }

    #[tokio::test]
    async fn the_head_limit_counts_from_the_first_byte_of_a_head_not_from_accept() {
        let server = run(healthz(), limits(10)).await;
        let mut stream = TcpStream::connect(server.addr).await.expect("connect");
        // Twice the head limit without a byte: idle, not a slow head.
        assert_eq!(
            closed_after(&mut stream, Duration::from_millis(600)).await,
            None
        );
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\n")
            .await
            .expect("part");
        let closed = closed_after(&mut stream, Duration::from_secs(2))
            .await
            .expect("closed");
        assert!(
            closed >= Duration::from_millis(250) && closed < Duration::from_millis(600),
            "{closed:?}"
        );
        server.stop().await;
    }

    #[tokio::test]
    async fn a_keep_alive_connection_is_closed_after_the_idle_limit_and_not_before() {
        let server = run(healthz(), limits(10)).await;
        let mut stream = TcpStream::connect(server.addr).await.expect("connect");
        // Requests less than the idle limit apart keep the connection.
        for _ in 0..3 {
            assert!(get_on(&mut stream, "/healthz")
                .await
                .starts_with("HTTP/1.1 200"));
            assert_eq!(
                closed_after(&mut stream, Duration::from_millis(500)).await,
                None
            );
        }
        let closed = closed_after(&mut stream, Duration::from_secs(2))
            .await
            .expect("closed");
        assert!(closed < Duration::from_millis(700), "{closed:?}");
        server.stop().await;
    }

    #[tokio::test]
    async fn every_request_carries_its_peer_address_and_when_its_head_arrived() {
        let router = Router::new().route(
            "/who",
            get(
                |ConnectInfo(peer): ConnectInfo<SocketAddr>,
                 head: Option<axum::Extension<api::arrival::HeadReceived>>| async move {
                    format!("{peer} {}", head.is_some())
                },
            ),
        );
        let server = run(router, limits(10)).await;
        let mut stream = TcpStream::connect(server.addr).await.expect("connect");
        let local = stream.local_addr().expect("local addr");
        let answer = get_on(&mut stream, "/who").await;
        assert!(answer.ends_with(&format!("{local} true")), "{answer}");
        server.stop().await;
    }

    #[tokio::test]
    async fn at_the_cap_the_least_recently_active_connection_makes_room() {
        let server = run(healthz(), limits(3)).await;
        let mut open = Vec::new();
        for _ in 0..3 {
            let mut stream = TcpStream::connect(server.addr).await.expect("connect");
            assert!(get_on(&mut stream, "/healthz")
                .await
                .starts_with("HTTP/1.1 200"));
            open.push(stream);
        }
        // The first becomes the most recently active.
        assert!(get_on(&mut open[0], "/healthz")
            .await
            .starts_with("HTTP/1.1 200"));
        let mut newcomer = TcpStream::connect(server.addr).await.expect("connect");
        assert!(get_on(&mut newcomer, "/healthz")
            .await
            .starts_with("HTTP/1.1 200"));
        assert!(closed_after(&mut open[1], Duration::from_secs(1))
            .await
            .is_some());
        assert!(is_open(&open[0]) && is_open(&open[2]));
        server.stop().await;
    }

    #[tokio::test]
    async fn a_connection_whose_request_is_being_handled_is_never_closed_for_room() {
        let (started, release) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
        let server = run(router(started.clone(), release.clone()), limits(1)).await;
        let mut busy = TcpStream::connect(server.addr).await.expect("connect");
        send_get(&mut busy, "/hold").await;
        started.notified().await;
        let mut newcomer = TcpStream::connect(server.addr).await.expect("connect");
        send_get(&mut newcomer, "/healthz").await;
        let mut buf = [0u8; 256];
        // Not admitted while the only connection is having its request handled.
        assert!(
            tokio::time::timeout(Duration::from_millis(300), newcomer.read(&mut buf))
                .await
                .is_err()
        );
        release.notify_one();
        assert!(answer(&mut busy).await.ends_with("done"));
        // Now idle, it makes room for the waiting client.
        let admitted = tokio::time::timeout(Duration::from_secs(2), answer(&mut newcomer))
            .await
            .expect("admitted");
        assert!(admitted.starts_with("HTTP/1.1 200"), "{admitted}");
        assert!(closed_after(&mut busy, Duration::from_secs(1))
            .await
            .is_some());
        server.stop().await;
    }

    #[tokio::test]
    async fn a_connection_waiting_for_its_request_body_may_make_room() {
        let started = Arc::new(Notify::new());
        let told = started.clone();
        let router = healthz().route(
            "/echo",
            axum::routing::post(move |body: axum::body::Body| {
                let told = told.clone();
                async move {
                    told.notify_one();
                    axum::body::to_bytes(body, 1024).await.unwrap_or_default()
                }
            }),
        );
        let server = run(router, limits(1)).await;
        let mut slow = TcpStream::connect(server.addr).await.expect("connect");
        slow.write_all(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nab")
            .await
            .expect("part of a request");
        // Its request is being handled: the handler reads the body, which stalls.
        started.notified().await;
        let mut newcomer = TcpStream::connect(server.addr).await.expect("connect");
        let admitted =
            tokio::time::timeout(Duration::from_secs(2), get_on(&mut newcomer, "/healthz"))
                .await
                .expect("admitted");
        assert!(admitted.starts_with("HTTP/1.1 200"), "{admitted}");
        assert!(closed_after(&mut slow, Duration::from_secs(1))
            .await
            .is_some());
        server.stop().await;
    }

    /// An answer of `chunks` MiB, streamed: hyper takes each chunk only when it has room.
    fn streamed(chunks: usize) -> axum::body::Body {
        let chunk = Bytes::from(vec![b'x'; 1024 * 1024]);
        axum::body::Body::from_stream(futures::stream::iter(
            std::iter::repeat_n(chunk, chunks).map(Ok::<_, Infallible>),
        ))
    }

    #[tokio::test]
    async fn a_connection_whose_client_does_not_read_its_answer_may_make_room() {
        let router = healthz().route("/big", get(|| async { streamed(64) }));
        let server = run(router, limits(1)).await;
        let mut stalled = TcpStream::connect(server.addr).await.expect("connect");
        send_get(&mut stalled, "/big").await;
        // The answer has begun; then nothing more is read: it fills the socket's buffers and
        // the server's writes block (the new client is admitted only then).
        let mut first = [0u8; 1];
        stalled.read_exact(&mut first).await.expect("first byte");
        let mut newcomer = TcpStream::connect(server.addr).await.expect("connect");
        // Well before the stalled connection's idle limit (900 ms).
        let admitted = tokio::time::timeout(
            Duration::from_millis(400),
            get_on(&mut newcomer, "/healthz"),
        )
        .await
        .expect("admitted");
        assert!(admitted.starts_with("HTTP/1.1 200"), "{admitted}");
        server.stop().await;
    }

    /// Reads to the end of the connection; how many bytes came.
    async fn read_to_end(stream: &mut TcpStream) -> usize {
        let mut total = 0;
        let mut buf = vec![0u8; 1024 * 1024];
        loop {
            match tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return total,
                Ok(Ok(n)) => total += n,
                Err(_) => panic!("neither data nor an end for 5 s"),
            }
        }
    }

    #[tokio::test]
    async fn a_client_that_takes_nothing_of_its_answer_for_the_idle_limit_is_closed() {
        let router = healthz().route("/big", get(|| async { streamed(64) }));
        let server = run(router, limits(10)).await;
        let mut stalled = TcpStream::connect(server.addr).await.expect("connect");
        send_get(&mut stalled, "/big").await;
        let mut first = [0u8; 1];
        stalled.read_exact(&mut first).await.expect("first byte");
        // The time under test: nothing is read for longer than the idle limit.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let received = read_to_end(&mut stalled).await;
        assert!(
            received < 60 * 1024 * 1024,
            "the whole answer came: {received} bytes"
        );
        server.stop().await;
    }

    #[tokio::test]
    async fn an_answer_the_client_is_still_reading_is_not_cut_by_the_idle_limit() {
        const SIZE: usize = 64 * 1024 * 1024;
        let router = healthz().route("/big", get(|| async { vec![b'x'; SIZE] }));
        let server = run(router, limits(10)).await;
        let mut reader = TcpStream::connect(server.addr).await.expect("connect");
        send_get(&mut reader, "/big").await;
        let start = Instant::now();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            reader.read_exact(&mut byte).await.expect("head");
            head.push(byte[0]);
        }
        let mut left = SIZE;
        let mut buf = vec![0u8; 1024 * 1024];
        // About 2 s in all, twice the idle limit: the reader is slow, never idle.
        while left > 0 {
            let want = left.min(buf.len());
            let n = reader.read(&mut buf[..want]).await.expect("read");
            assert!(
                n > 0,
                "cut with {left} bytes left after {:?}",
                start.elapsed()
            );
            left -= n;
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
        assert!(start.elapsed() > Duration::from_secs(1));
        // The connection is idle from its last byte written, not from when hyper took the
        // whole answer: it still carries the next request.
        let next = get_on(&mut reader, "/healthz").await;
        assert!(next.starts_with("HTTP/1.1 200"), "{next}");
        server.stop().await;
    }

    #[tokio::test]
    async fn shutdown_finishes_the_request_in_flight_and_closes_idle_connections() {
        let (started, release) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
        let server = run(router(started.clone(), release.clone()), limits(10)).await;
        let mut idle = TcpStream::connect(server.addr).await.expect("connect");
        assert!(get_on(&mut idle, "/healthz")
            .await
            .starts_with("HTTP/1.1 200"));
        let mut busy = TcpStream::connect(server.addr).await.expect("connect");
        send_get(&mut busy, "/hold").await;
        started.notified().await;
        let stopping = tokio::spawn(server.stop());
        assert!(closed_after(&mut idle, Duration::from_secs(1))
            .await
            .is_some());
        release.notify_one();
        let held = answer(&mut busy).await;
        assert!(held.ends_with("done"), "{held}");
        assert!(closed_after(&mut busy, Duration::from_secs(1))
            .await
            .is_some());
        let took = stopping.await.expect("stop");
        assert!(took < Duration::from_millis(450), "{took:?}");
    }

    #[tokio::test]
    async fn shutdown_closes_requests_still_in_flight_after_the_grace_period() {
        let (started, release) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
        let server = run(router(started.clone(), release), limits(10)).await;
        let mut busy = TcpStream::connect(server.addr).await.expect("connect");
        send_get(&mut busy, "/hold").await;
        started.notified().await;
        let took = server.stop().await;
        assert!(
            took >= Duration::from_millis(450) && took < Duration::from_secs(2),
            "{took:?}"
        );
        assert!(closed_after(&mut busy, Duration::from_secs(1))
            .await
            .is_some());
    }
}

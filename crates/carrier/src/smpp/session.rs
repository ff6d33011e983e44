//! One SMPP connection of the ESME: a writer task that batches PDUs onto the socket, a reader
//! task that matches responses to requests by sequence number and answers the SMSC's own
//! requests (`deliver_sm`, `enquire_link`, `unbind`), and a window of unacknowledged submits.
//!
//! Every request knows whether its bytes were handed to the socket: when the connection ends,
//! a request never written is `NotSent` (safe to send again) and one written but unanswered is
//! `Lost` (it may have reached the SMSC — API.md §4.6, §8 `on_unacknowledged`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use rusmpp::pdus::DeliverSm;
use rusmpp::{Command, CommandStatus, Pdu};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot, watch, Semaphore};
use tokio_util::codec::FramedRead;

use super::wire::{self, Frames, Header};

/// The answer to one request.
#[derive(Debug)]
pub enum Reply {
    Resp(Box<Command>),
    /// A response whose body could not be decoded; its header is known.
    Undecodable(Header),
    /// The request never reached the socket: sending it again cannot duplicate it.
    NotSent,
    /// The request was written but the connection ended (or stopped answering) first.
    Lost(String),
}

/// What the session's owner does with a `deliver_sm`: returns the status to answer with.
pub type DeliverHandler = Arc<dyn Fn(&DeliverSm) -> u32 + Send + Sync>;

struct Entry {
    tx: oneshot::Sender<Reply>,
    written: bool,
}

#[derive(Default)]
struct State {
    pending: HashMap<u32, Entry>,
    closed: Option<String>,
}

struct Out {
    bytes: Bytes,
    seq: Option<u32>,
}

pub struct Session {
    out: mpsc::UnboundedSender<Out>,
    state: std::sync::Mutex<State>,
    seq: AtomicU32,
    /// Unacknowledged submits allowed on this connection.
    pub window: Arc<Semaphore>,
    closed: watch::Sender<bool>,
}

/// Locks ignoring poisoning: the state stays consistent under every early exit.
fn lock(m: &std::sync::Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Session {
    /// Starts the reader and writer tasks on `stream`.
    pub fn spawn<S>(stream: S, window: usize, on_deliver: Option<DeliverHandler>) -> Arc<Session>
    where
        S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    {
        let (read, write) = tokio::io::split(stream);
        let (out_tx, out_rx) = mpsc::unbounded_channel();
        let (closed, _) = watch::channel(false);
        let session = Arc::new(Session {
            out: out_tx,
            state: std::sync::Mutex::new(State::default()),
            seq: AtomicU32::new(1),
            window: Arc::new(Semaphore::new(window.max(1))),
            closed,
        });
        tokio::spawn(write_loop(session.clone(), write, out_rx));
        tokio::spawn(read_loop(session.clone(), read, on_deliver));
        session
    }

    fn next_seq(&self) -> u32 {
        let s = self.seq.fetch_add(1, Ordering::Relaxed) & 0x7FFF_FFFF;
        if s == 0 {
            self.seq.fetch_add(1, Ordering::Relaxed) & 0x7FFF_FFFF
        } else {
            s
        }
    }

    pub fn is_closed(&self) -> bool {
        *self.closed.borrow()
    }

    /// Resolves once the connection has ended.
    pub async fn closed(&self) {
        let mut rx = self.closed.subscribe();
        let _ = crate::until_true(&mut rx).await;
    }

    /// Why the connection ended, once it has.
    pub fn close_reason(&self) -> Option<String> {
        lock(&self.state).closed.clone()
    }

    /// Ends the connection: every request still waiting is answered `NotSent` or `Lost`.
    pub fn close(&self, reason: &str) {
        let drained: Vec<Entry> = {
            let mut state = lock(&self.state);
            if state.closed.is_some() {
                return;
            }
            state.closed = Some(reason.to_string());
            state.pending.drain().map(|(_, e)| e).collect()
        };
        for e in drained {
            let reply = if e.written {
                Reply::Lost(reason.to_string())
            } else {
                Reply::NotSent
            };
            let _ = e.tx.send(reply);
        }
        self.window.close();
        self.closed.send_replace(true);
    }

    /// Sends a request and waits for its response; no response within `timeout` means the
    /// connection is broken (API.md §8 `response_timeout_secs`): it is closed.
    pub async fn request(&self, pdu: Pdu, timeout: Duration) -> Reply {
        let seq = self.next_seq();
        let (tx, rx) = oneshot::channel();
        {
            let mut state = lock(&self.state);
            if state.closed.is_some() {
                return Reply::NotSent;
            }
            state.pending.insert(seq, Entry { tx, written: false });
        }
        let bytes = wire::encode(&Command::new(CommandStatus::EsmeRok, seq, pdu));
        if self
            .out
            .send(Out {
                bytes,
                seq: Some(seq),
            })
            .is_err()
        {
            lock(&self.state).pending.remove(&seq);
            return Reply::NotSent;
        }
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(reply)) => reply,
            Ok(Err(_)) => Reply::Lost("the connection ended".into()),
            Err(_) => {
                let entry = lock(&self.state).pending.remove(&seq);
                let reason = format!("no response within {} s", timeout.as_secs());
                self.close(&reason);
                match entry {
                    Some(Entry { written: false, .. }) => Reply::NotSent,
                    _ => Reply::Lost(reason),
                }
            }
        }
    }

    /// Sends a PDU that expects no response (a `*_resp` or `generic_nack`).
    fn send_response(&self, command: &Command) {
        let _ = self.out.send(Out {
            bytes: wire::encode(command),
            seq: None,
        });
    }

    fn complete(&self, seq: u32, reply: Reply) {
        let entry = lock(&self.state).pending.remove(&seq);
        match entry {
            Some(e) => {
                let _ = e.tx.send(reply);
            }
            None => tracing::debug!(seq, "response to no waiting request"),
        }
    }
}

/// Largest batch of PDUs written with one call.
const WRITE_BATCH: usize = 64 * 1024;

async fn write_loop<W: AsyncWrite + Unpin>(
    session: Arc<Session>,
    mut write: W,
    mut rx: mpsc::UnboundedReceiver<Out>,
) {
    let mut closed = session.closed.subscribe();
    let mut buf = BytesMut::with_capacity(WRITE_BATCH);
    let mut batch: Vec<Out> = Vec::with_capacity(256);
    loop {
        let first = tokio::select! {
            o = rx.recv() => o,
            _ = crate::until_true(&mut closed) => None,
        };
        let Some(first) = first else { break };
        batch.push(first);
        while buf.len() < WRITE_BATCH && batch.len() < 1024 {
            match rx.try_recv() {
                Ok(o) => batch.push(o),
                Err(_) => break,
            }
        }
        {
            // Mark as written before the bytes may leave; skip what a close already settled.
            let mut state = lock(&session.state);
            if state.closed.is_some() {
                break;
            }
            for o in batch.drain(..) {
                match o.seq {
                    Some(seq) => {
                        if let Some(e) = state.pending.get_mut(&seq) {
                            e.written = true;
                            buf.extend_from_slice(&o.bytes);
                        }
                    }
                    None => buf.extend_from_slice(&o.bytes),
                }
            }
        }
        if let Err(e) = write.write_all(&buf).await {
            session.close(&format!("write failed: {e}"));
            break;
        }
        buf.clear();
    }
    let _ = write.shutdown().await;
}

async fn read_loop<R: AsyncRead + Unpin>(
    session: Arc<Session>,
    read: R,
    on_deliver: Option<DeliverHandler>,
) {
    let mut frames = FramedRead::new(read, Frames);
    let mut closed = session.closed.subscribe();
    loop {
        let next = tokio::select! {
            f = frames.next() => f,
            _ = crate::until_true(&mut closed) => return,
        };
        let frame = match next {
            Some(Ok(frame)) => frame,
            Some(Err(e)) => {
                session.close(&format!("unreadable data from the SMSC: {e}"));
                return;
            }
            None => {
                session.close("the SMSC closed the connection");
                return;
            }
        };
        match wire::decode(frame) {
            Ok(command) => handle(&session, command, on_deliver.as_ref()),
            Err(Some(head)) if head.is_response() => {
                session.complete(head.sequence, Reply::Undecodable(head))
            }
            Err(Some(head)) => {
                tracing::warn!(
                    command_id = head.command_id,
                    seq = head.sequence,
                    "undecodable PDU from the SMSC"
                );
                let answer = if head.command_id == 0x0000_0005 {
                    // deliver_sm: a permanent "receiver reject" so it is not offered again.
                    wire::bare(0x65, head.sequence, deliver_sm_resp())
                } else {
                    wire::bare(0x08, head.sequence, Pdu::GenericNack)
                };
                session.send_response(&answer);
            }
            Err(None) => {}
        }
    }
}

fn deliver_sm_resp() -> Pdu {
    Pdu::DeliverSmResp(rusmpp::pdus::DeliverSmResp::default())
}

fn handle(session: &Session, command: Command, on_deliver: Option<&DeliverHandler>) {
    let seq = command.sequence_number();
    if u32::from(command.id()) & 0x8000_0000 != 0 {
        session.complete(seq, Reply::Resp(Box::new(command)));
        return;
    }
    match command.pdu() {
        Some(Pdu::DeliverSm(d)) => {
            let status = match on_deliver {
                Some(h) => h(d),
                // A transmitter is not offered texts; refuse politely if one comes.
                None => u32::from(CommandStatus::EsmeRinvbndsts),
            };
            session.send_response(&wire::bare(status, seq, deliver_sm_resp()));
        }
        Some(Pdu::EnquireLink) => {
            session.send_response(&wire::bare(0, seq, Pdu::EnquireLinkResp));
        }
        Some(Pdu::Unbind) => {
            session.send_response(&wire::bare(0, seq, Pdu::UnbindResp));
            session.close("the SMSC unbound");
        }
        _ => {
            let status = u32::from(CommandStatus::EsmeRinvcmdid);
            session.send_response(&wire::bare(status, seq, Pdu::GenericNack));
        }
    }
}

//! The SMPP carrier (API.md §8 `type = "smpp"`): an ESME that keeps `binds` connections to an
//! SMSC bound (transceiver, or a transmitter and a receiver each), at most `window`
//! unacknowledged `submit_sm` per connection, `enquire_link` every `enquire_link_secs`, and
//! re-binds with backoff (1 s doubling to 30 s, with jitter) when a connection drops or stops
//! answering for `response_timeout_secs`.
//!
//! Outcomes of a submission: 2000 with the SMSC's message id; 2500 naming the SMPP error for
//! a permanent refusal; a transient refusal (ESME_RTHROTTLED, ESME_RMSGQFUL) is retried with
//! backoff, and when it persists the submission comes back 2600 — the engine queues it again,
//! nothing was accepted; 3400 when the connection ended after the submit was written and
//! before its response came (never resent unless `on_unacknowledged = "resend"`). A text is
//! written only with the hand-over's leave (`Handover::clear`), and one whose first part was
//! not accepted yet goes back to the queue when the hand-over stops.
//! The rate limit is the engine's; this carrier owns the window.

pub mod session;
pub mod wire;

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use domain::codes;
use rusmpp::pdus::{BindReceiver, BindTransceiver, BindTransmitter};
use rusmpp::values::{InterfaceVersion, Npi, Ton};
use rusmpp::Pdu;
use serde::Deserialize;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;

use crate::telemetry::GaugeShare;
use crate::{Carrier, CarrierEvent, EventSink, Handover, Submission, SubmitOutcome};
use session::{DeliverHandler, Reply, Session};
use wire::Delivery;

/// How the ESME binds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BindMode {
    #[default]
    Transceiver,
    TransmitterReceiver,
}

/// Long texts: UDH concatenation or one PDU with `message_payload`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LongMessages {
    #[default]
    Udh,
    Payload,
}

/// What happens to a submit whose response was lost in a disconnect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnUnacknowledged {
    /// Reported 3400 Unknown, never resent (a duplicate text is worse than an unknown one).
    #[default]
    Unknown,
    /// Sent again on the next bind.
    Resend,
}

/// The keys of an `[[carriers]] type = "smpp"` entry (API.md §8; docs/carriers.md).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmppSettings {
    pub host: String,
    #[serde(default = "defaults::port")]
    pub port: u16,
    pub system_id: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub system_type: String,
    #[serde(default)]
    pub bind: BindMode,
    #[serde(default = "defaults::one")]
    pub binds: u32,
    #[serde(default = "defaults::window")]
    pub window: u32,
    #[serde(default)]
    pub rate_limit: u32,
    #[serde(default = "defaults::thirty")]
    pub enquire_link_secs: u64,
    #[serde(default = "defaults::interface_version")]
    pub interface_version: String,
    #[serde(default)]
    pub source_ton: u8,
    #[serde(default = "defaults::one_u8")]
    pub source_npi: u8,
    #[serde(default = "defaults::one_u8")]
    pub dest_ton: u8,
    #[serde(default = "defaults::one_u8")]
    pub dest_npi: u8,
    #[serde(default = "defaults::thirty")]
    pub response_timeout_secs: u64,
    #[serde(default)]
    pub tls: bool,
    #[serde(default)]
    pub validity_minutes: u32,
    #[serde(default)]
    pub long_messages: LongMessages,
    #[serde(default)]
    pub on_unacknowledged: OnUnacknowledged,
}

mod defaults {
    pub fn port() -> u16 {
        2775
    }
    pub fn one() -> u32 {
        1
    }
    pub fn one_u8() -> u8 {
        1
    }
    pub fn window() -> u32 {
        10
    }
    pub fn thirty() -> u64 {
        30
    }
    pub fn interface_version() -> String {
        "3.4".into()
    }
}

impl std::fmt::Debug for SmppSettings {
    /// The password never appears in logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmppSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("system_id", &self.system_id)
            .field("password", &"<redacted>")
            .field("system_type", &self.system_type)
            .field("bind", &self.bind)
            .field("binds", &self.binds)
            .field("window", &self.window)
            .field("rate_limit", &self.rate_limit)
            .field("enquire_link_secs", &self.enquire_link_secs)
            .field("interface_version", &self.interface_version)
            .field("response_timeout_secs", &self.response_timeout_secs)
            .field("tls", &self.tls)
            .field("long_messages", &self.long_messages)
            .field("on_unacknowledged", &self.on_unacknowledged)
            .finish_non_exhaustive()
    }
}

impl SmppSettings {
    /// Checks what the SMPP fields can carry; the message names the key.
    pub fn validate(&self) -> Result<(), String> {
        let ascii = |key: &str, v: &str, max: usize| -> Result<(), String> {
            if !v.is_ascii() || v.contains('\0') || v.len() > max {
                return Err(format!("{key} must be at most {max} ASCII characters"));
            }
            Ok(())
        };
        if self.host.is_empty() {
            return Err("host must not be empty".into());
        }
        ascii("system_id", &self.system_id, 15)?;
        ascii("password", &self.password, 8)?;
        ascii("system_type", &self.system_type, 12)?;
        if self.binds == 0 || self.binds > 64 {
            return Err("binds must be between 1 and 64".into());
        }
        if self.window == 0 || self.window > 10_000 {
            return Err("window must be between 1 and 10000".into());
        }
        if self.enquire_link_secs == 0 || self.response_timeout_secs == 0 {
            return Err("enquire_link_secs and response_timeout_secs must be at least 1".into());
        }
        self.interface()?;
        Ok(())
    }

    fn interface(&self) -> Result<InterfaceVersion, String> {
        match self.interface_version.as_str() {
            "3.4" => Ok(InterfaceVersion::Smpp3_4),
            "5.0" => Ok(InterfaceVersion::Smpp5_0),
            other => Err(format!(
                "interface_version must be \"3.4\" or \"5.0\", not {other:?}"
            )),
        }
    }
}

/// How long a submission may keep retrying a transient refusal before it goes back to the
/// engine as 2600 (well inside the engine's submit lease).
const TRANSIENT_BUDGET: Duration = Duration::from_secs(20);
/// How long a submission waits for a bind to come up before it goes back as 2600.
const WAIT_FOR_BIND: Duration = Duration::from_secs(15);
const RETRY_FIRST: Duration = Duration::from_millis(50);
const RETRY_MAX: Duration = Duration::from_secs(2);
const REBIND_FIRST: Duration = Duration::from_secs(1);
const REBIND_MAX: Duration = Duration::from_secs(30);
/// How long the ids of a multipart text's later parts are remembered for their receipts.
const PART_MEMORY: Duration = Duration::from_secs(48 * 3600);
const PART_MEMORY_MAX: usize = 2_000_000;

/// `d` scaled by a random factor in [0.8, 1.2).
fn jitter(d: Duration) -> Duration {
    d.mul_f64(0.8 + rand::random::<f64>() * 0.4)
}

/// Later parts' message ids → the first part's id, which the engine records (API.md §8: a
/// multipart text takes the highest code among its parts' receipts).
#[derive(Default)]
struct PartIndex {
    map: HashMap<String, String>,
    order: VecDeque<(Instant, String)>,
}

impl PartIndex {
    fn insert(&mut self, part: String, first: String) {
        let now = Instant::now();
        while let Some((at, _)) = self.order.front() {
            if now.duration_since(*at) < PART_MEMORY && self.order.len() < PART_MEMORY_MAX {
                break;
            }
            if let Some((_, old)) = self.order.pop_front() {
                self.map.remove(&old);
            }
        }
        self.order.push_back((now, part.clone()));
        self.map.insert(part, first);
    }
}

struct Shared {
    name: String,
    settings: SmppSettings,
    addressing: wire::Addressing,
    events: EventSink,
    /// Live connections that can submit.
    sessions: std::sync::Mutex<Vec<Arc<Session>>>,
    /// Bumped whenever a connection comes up.
    generation: watch::Sender<u64>,
    reference: AtomicU8,
    parts: std::sync::Mutex<PartIndex>,
    stop: watch::Sender<bool>,
    metrics: crate::telemetry::SmppMetrics,
}

/// The SMPP carrier. Its binds run in background tasks from `start` until it is dropped.
pub struct SmppCarrier {
    shared: Arc<Shared>,
}

impl Drop for SmppCarrier {
    fn drop(&mut self) {
        self.shared.stop.send_replace(true);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Transceiver,
    Transmitter,
    Receiver,
}

impl SmppCarrier {
    /// Validates the settings and starts binding (in the current Tokio runtime).
    pub fn start(
        name: impl Into<String>,
        settings: SmppSettings,
        events: EventSink,
    ) -> Result<SmppCarrier, String> {
        settings.validate()?;
        let addressing = wire::Addressing {
            source_ton: settings.source_ton,
            source_npi: settings.source_npi,
            dest_ton: settings.dest_ton,
            dest_npi: settings.dest_npi,
            validity_minutes: settings.validity_minutes,
            payload: settings.long_messages == LongMessages::Payload,
        };
        let name: String = name.into();
        let shared = Arc::new(Shared {
            metrics: crate::telemetry::SmppMetrics::new(&name),
            name,
            addressing,
            events,
            sessions: std::sync::Mutex::new(Vec::new()),
            generation: watch::channel(0).0,
            reference: AtomicU8::new(rand::random()),
            parts: std::sync::Mutex::new(PartIndex::default()),
            stop: watch::channel(false).0,
            settings,
        });
        let roles: &[Role] = match shared.settings.bind {
            BindMode::Transceiver => &[Role::Transceiver],
            BindMode::TransmitterReceiver => &[Role::Transmitter, Role::Receiver],
        };
        for i in 0..shared.settings.binds {
            for &role in roles {
                tokio::spawn(supervise(shared.clone(), role, i));
            }
        }
        Ok(SmppCarrier { shared })
    }

    /// How many connections can submit right now.
    pub fn bound(&self) -> usize {
        self.shared.live().len()
    }

    /// Waits until at least `n` connections can submit, or `timeout` passes. True if they can.
    pub async fn wait_bound(&self, n: usize, timeout: Duration) -> bool {
        let mut rx = self.shared.generation.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if self.bound() >= n {
                return true;
            }
            let wait = tokio::time::timeout_at(deadline, rx.changed()).await;
            if wait.is_err() {
                return self.bound() >= n;
            }
        }
    }

    /// Unbinds and closes every connection.
    pub fn stop(&self) {
        self.shared.stop.send_replace(true);
    }
}

impl Shared {
    fn live(&self) -> Vec<Arc<Session>> {
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        sessions.retain(|s| !s.is_closed());
        sessions.clone()
    }

    /// The live connection with the most free window, waiting up to `deadline` for one.
    async fn session(&self, deadline: tokio::time::Instant) -> Option<Arc<Session>> {
        let mut rx = self.generation.subscribe();
        loop {
            let best = self
                .live()
                .into_iter()
                .max_by_key(|s| s.window.available_permits());
            if best.is_some() {
                return best;
            }
            if *self.stop.borrow() {
                return None;
            }
            if tokio::time::timeout_at(deadline, rx.changed())
                .await
                .is_err()
            {
                return None;
            }
        }
    }

    fn response_timeout(&self) -> Duration {
        Duration::from_secs(self.settings.response_timeout_secs)
    }

    /// Hands a `deliver_sm` to the engine: a receipt (its part id translated to the text's
    /// first id) or an inbound text. A closed event channel asks the SMSC to retry later.
    fn on_deliver(&self, pdu: &rusmpp::pdus::DeliverSm) -> u32 {
        let event = match wire::read_deliver_sm(pdu) {
            Delivery::Receipt(r) => {
                let first = self
                    .parts
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .map
                    .get(&r.message_id)
                    .cloned();
                CarrierEvent::Receipt {
                    carrier: self.name.clone(),
                    message_id: first.unwrap_or(r.message_id),
                    status_code: r.status_code,
                }
            }
            Delivery::UnreadableReceipt(text) => {
                tracing::warn!(carrier = %self.name, %text, "receipt without a readable id or state");
                return 0;
            }
            Delivery::Text { from, to, text } => CarrierEvent::Inbound {
                carrier: self.name.clone(),
                from,
                to,
                text,
            },
        };
        match self.events.try_send(event) {
            Ok(()) => 0,
            // ESME_RX_T_APPN: temporary application error (the engine is behind or stopping);
            // the SMSC offers it again later.
            Err(_) => 0x64,
        }
    }

    async fn connect(&self) -> Result<Box<dyn Stream>, String> {
        let addr = (self.settings.host.as_str(), self.settings.port);
        let tcp = tokio::time::timeout(
            self.response_timeout(),
            tokio::net::TcpStream::connect(addr),
        )
        .await
        .map_err(|_| "connect timed out".to_string())?
        .map_err(|e| format!("connect failed: {e}"))?;
        let _ = tcp.set_nodelay(true);
        if !self.settings.tls {
            return Ok(Box::new(tcp));
        }
        let mut roots = tokio_rustls::rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let config = tokio_rustls::rustls::ClientConfig::builder_with_provider(Arc::new(
            tokio_rustls::rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup failed: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let server =
            tokio_rustls::rustls::pki_types::ServerName::try_from(self.settings.host.clone())
                .map_err(|e| format!("TLS server name: {e}"))?;
        let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(server, tcp)
            .await
            .map_err(|e| format!("TLS handshake failed: {e}"))?;
        Ok(Box::new(tls))
    }

    fn bind_pdu(&self, role: Role) -> Result<Pdu, String> {
        let s = &self.settings;
        let system_id = wire::c_string::<1, 16>("system_id", &s.system_id)?;
        let password = wire::c_string::<1, 9>("password", &s.password)
            .map_err(|_| "password can't go in an SMPP PDU".to_string())?;
        let system_type = wire::c_string::<1, 13>("system_type", &s.system_type)?;
        let version = s.interface()?;
        let range = rusmpp::types::COctetString::<1, 41>::empty();
        let (ton, npi) = (Ton::from(0), Npi::from(0));
        Ok(match role {
            Role::Transceiver => Pdu::BindTransceiver(BindTransceiver::new(
                system_id,
                password,
                system_type,
                version,
                ton,
                npi,
                range,
            )),
            Role::Transmitter => Pdu::BindTransmitter(BindTransmitter::new(
                system_id,
                password,
                system_type,
                version,
                ton,
                npi,
                range,
            )),
            Role::Receiver => Pdu::BindReceiver(BindReceiver::new(
                system_id,
                password,
                system_type,
                version,
                ton,
                npi,
                range,
            )),
        })
    }

    /// Connects and binds one connection.
    async fn bind(self: &Arc<Self>, role: Role) -> Result<Arc<Session>, String> {
        let stream = self.connect().await?;
        let handler: Option<DeliverHandler> = (role != Role::Transmitter).then(|| {
            let shared = Arc::downgrade(self);
            Arc::new(
                move |pdu: &rusmpp::pdus::DeliverSm| match shared.upgrade() {
                    Some(s) => s.on_deliver(pdu),
                    None => 0x64,
                },
            ) as DeliverHandler
        });
        let session = Session::spawn(stream, self.settings.window as usize, handler);
        match session
            .request(self.bind_pdu(role)?, self.response_timeout())
            .await
        {
            Reply::Resp(resp) if resp.status() == rusmpp::CommandStatus::EsmeRok => Ok(session),
            Reply::Resp(resp) => {
                session.close("bind refused");
                Err(format!(
                    "bind refused: {}",
                    wire::status_name(u32::from(resp.status()))
                ))
            }
            Reply::Undecodable(h) => {
                session.close("bind answer undecodable");
                Err(format!(
                    "bind answered with an undecodable PDU ({})",
                    wire::status_name(h.status)
                ))
            }
            Reply::NotSent | Reply::Lost(_) => Err(session
                .close_reason()
                .unwrap_or_else(|| "the connection ended during bind".into())),
        }
    }

    fn publish(&self, session: Arc<Session>) {
        self.sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(session);
        self.generation.send_modify(|g| *g += 1);
    }

    /// One text, part by part. The first part is written only with the hand-over's leave;
    /// before it is accepted, a stopping hand-over takes the text back to the queue. Later parts
    /// follow whatever happens, so that a text is never left half sent by a stop.
    async fn submit_one(&self, s: Submission, handover: &Handover) {
        let answer = |status_code: i32, id: Option<String>, note: Option<String>| {
            handover.answer(SubmitOutcome {
                id: s.id,
                status_code,
                carrier_message_id: id,
                note,
            })
        };
        let reference = self.reference.fetch_add(1, Ordering::Relaxed);
        let pdus = match wire::submit_pdus(&s.from, &s.to, &s.text, &self.addressing, reference) {
            Ok(p) => p,
            Err(e) => return answer(codes::FAILED_TO_AGGREGATOR, None, Some(e)),
        };
        let total = pdus.len();
        let started = tokio::time::Instant::now();
        let mut ids: Vec<String> = Vec::with_capacity(total);
        // Cleared by the hand-over; and whether any byte of the text reached a socket.
        let mut cleared = false;
        let mut written = false;
        // Nothing of the text left: back to the queue (untouched when it was never cleared).
        let not_sent = |cleared: bool, written: bool| {
            if cleared && !written {
                answer(codes::QUEUED, None, None);
            }
        };
        let part = |i: usize| {
            if total > 1 {
                format!(" (part {} of {total})", i + 1)
            } else {
                String::new()
            }
        };
        for (i, pdu) in pdus.into_iter().enumerate() {
            let mut backoff = RETRY_FIRST;
            loop {
                let first = ids.first().cloned();
                let may_stop = first.is_none();
                if may_stop && handover.is_stopping() {
                    if written {
                        return answer(
                            codes::THROTTLED,
                            None,
                            Some("Not accepted before the stop; queued again.".into()),
                        );
                    }
                    return not_sent(cleared, written);
                }
                let deadline = tokio::time::Instant::now() + WAIT_FOR_BIND;
                let session = tokio::select! {
                    session = self.session(deadline) => session,
                    _ = handover.stopping(), if may_stop => continue,
                };
                let Some(session) = session else {
                    return match first {
                        None if !written => answer(
                            codes::THROTTLED,
                            None,
                            Some("No bind to the carrier is up; queued again.".into()),
                        ),
                        None => answer(
                            codes::THROTTLED,
                            None,
                            Some("No bind to the carrier came up to retry; queued again.".into()),
                        ),
                        Some(_) => answer(
                            codes::UNKNOWN,
                            first,
                            Some(format!(
                                "No bind to the carrier came up to send the rest{}.",
                                part(i)
                            )),
                        ),
                    };
                };
                let permit = tokio::select! {
                    permit = session.window.clone().acquire_owned() => permit,
                    _ = handover.stopping(), if may_stop => continue,
                };
                let Ok(permit) = permit else {
                    continue; // the connection closed while waiting
                };
                if !cleared {
                    if !handover.clear_one(s.id).await {
                        return; // not written: back to the queue untouched
                    }
                    cleared = true;
                }
                let in_window = GaugeShare::add(self.metrics.window.clone(), 1.0);
                let asked = Instant::now();
                let reply = session
                    .request(Pdu::SubmitSm(pdu.clone()), self.response_timeout())
                    .await;
                drop(in_window);
                if matches!(reply, Reply::Resp(_) | Reply::Undecodable(_)) {
                    self.metrics.response.record(asked.elapsed());
                }
                drop(permit);
                if !matches!(reply, Reply::NotSent) {
                    written = true;
                }
                let status = match reply {
                    Reply::Resp(resp) => {
                        let status = u32::from(resp.status());
                        if status == 0 {
                            let id = wire::submit_resp_id(&resp).unwrap_or_default();
                            ids.push(id);
                            break;
                        }
                        status
                    }
                    Reply::Undecodable(h) if h.status == 0 => {
                        ids.push(String::new());
                        break;
                    }
                    Reply::Undecodable(h) => h.status,
                    Reply::NotSent => continue,
                    Reply::Lost(why) => {
                        if self.settings.on_unacknowledged == OnUnacknowledged::Resend {
                            tracing::info!(carrier = %self.name, %why, "resending an unacknowledged submit");
                            continue;
                        }
                        return answer(
                            codes::UNKNOWN,
                            first,
                            Some(format!(
                                "The connection to the carrier ended before it answered{} ({why}); not resent.",
                                part(i)
                            )),
                        );
                    }
                };
                let name = wire::status_name(status);
                if wire::is_transient(status) {
                    let next = tokio::time::Instant::now() + backoff;
                    // A text none of whose parts went may go back to the queue; a text
                    // partly accepted keeps trying for the rest a while longer.
                    let budget = if first.is_none() {
                        TRANSIENT_BUDGET
                    } else {
                        TRANSIENT_BUDGET * 2
                    };
                    if next.duration_since(started) < budget {
                        tokio::select! {
                            _ = tokio::time::sleep(jitter(backoff)) => {}
                            _ = handover.stopping(), if may_stop => {}
                        }
                        backoff = (backoff * 2).min(RETRY_MAX);
                        continue;
                    }
                    return match first {
                        None => answer(
                            codes::THROTTLED,
                            None,
                            Some(format!("The carrier answered {name}; queued again.")),
                        ),
                        Some(_) => answer(
                            codes::FAILED_TO_AGGREGATOR,
                            first,
                            Some(format!("Refused by the carrier: {name}{}.", part(i))),
                        ),
                    };
                }
                return answer(
                    codes::FAILED_TO_AGGREGATOR,
                    first,
                    Some(format!("Refused by the carrier: {name}{}.", part(i))),
                );
            }
        }
        let mut ids = ids.into_iter();
        let first = ids.next().filter(|id| !id.is_empty());
        if let Some(first) = &first {
            let mut index = self.parts.lock().unwrap_or_else(|p| p.into_inner());
            for id in ids.filter(|id| !id.is_empty()) {
                index.insert(id, first.clone());
            }
        }
        let note = first
            .is_none()
            .then(|| "The carrier accepted the text without a message id.".to_string());
        answer(codes::DELIVERED_TO_AGGREGATOR, first, note)
    }
}

/// A byte stream to an SMSC, plain or TLS.
pub trait Stream: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Stream for T {}

/// Keeps one connection bound: binds, publishes it for submitting, sends `enquire_link`, and
/// re-binds with backoff when it ends.
async fn supervise(shared: Arc<Shared>, role: Role, index: u32) {
    let mut stop = shared.stop.subscribe();
    let mut backoff = REBIND_FIRST;
    loop {
        if *stop.borrow() {
            break;
        }
        let bound = tokio::select! {
            b = shared.bind(role) => b,
            _ = crate::until_true(&mut stop) => break,
        };
        match bound {
            Ok(session) => {
                backoff = REBIND_FIRST;
                tracing::info!(carrier = %shared.name, ?role, index, "bound");
                let _bound = GaugeShare::add(shared.metrics.binds.clone(), 1.0);
                if role != Role::Receiver {
                    shared.publish(session.clone());
                }
                let interval = Duration::from_secs(shared.settings.enquire_link_secs);
                loop {
                    tokio::select! {
                        _ = session.closed() => break,
                        _ = crate::until_true(&mut stop) => {
                            let _ = tokio::time::timeout(
                                Duration::from_secs(2),
                                session.request(Pdu::Unbind, shared.response_timeout()),
                            )
                            .await;
                            session.close("stopped");
                            return;
                        }
                        _ = tokio::time::sleep(interval) => {
                            match session.request(Pdu::EnquireLink, shared.response_timeout()).await {
                                Reply::Resp(_) | Reply::Undecodable(_) => {}
                                _ => session.close("enquire_link unanswered"),
                            }
                        }
                    }
                }
                drop(_bound);
                tracing::warn!(
                    carrier = %shared.name,
                    ?role,
                    index,
                    reason = session.close_reason().as_deref().unwrap_or("-"),
                    "bind lost; binding again"
                );
            }
            Err(e) => {
                tracing::warn!(carrier = %shared.name, ?role, index, error = %e, "bind failed");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(jitter(backoff)) => {}
            _ = crate::until_true(&mut stop) => break,
        }
        backoff = (backoff * 2).min(REBIND_MAX);
    }
}

#[async_trait]
impl Carrier for SmppCarrier {
    fn name(&self) -> &str {
        &self.shared.name
    }

    fn supports_media(&self) -> bool {
        false
    }

    fn rate_limit(&self) -> u32 {
        self.shared.settings.rate_limit
    }

    async fn submit(&self, batch: Vec<Submission>, handover: &Handover) {
        let shared = &self.shared;
        futures::future::join_all(batch.into_iter().map(|s| shared.submit_one(s, handover))).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(toml_text: &str) -> Result<SmppSettings, String> {
        let value: toml::Value = toml::from_str(toml_text).map_err(|e| e.to_string())?;
        value.try_into::<SmppSettings>().map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_follow_the_contract() {
        let s = settings("host = \"h\"\nsystem_id = \"u\"\npassword = \"secret\"").expect("ok");
        assert_eq!(s.port, 2775);
        assert_eq!(s.bind, BindMode::Transceiver);
        assert_eq!((s.binds, s.window, s.rate_limit), (1, 10, 0));
        assert_eq!((s.enquire_link_secs, s.response_timeout_secs), (30, 30));
        assert_eq!(s.interface_version, "3.4");
        assert_eq!(
            (s.source_ton, s.source_npi, s.dest_ton, s.dest_npi),
            (0, 1, 1, 1)
        );
        assert_eq!(s.long_messages, LongMessages::Udh);
        assert_eq!(s.on_unacknowledged, OnUnacknowledged::Unknown);
        assert!(s.validate().is_ok());
    }

    #[test]
    fn the_password_is_never_in_debug_output() {
        let s = settings("host = \"h\"\nsystem_id = \"u\"\npassword = \"hunter2\"").expect("ok");
        let shown = format!("{s:?}");
        assert!(
            !shown.contains("hunter2") && shown.contains("<redacted>"),
            "{shown}"
        );
    }

    #[test]
    fn invalid_settings_are_named() {
        let s =
            settings("host = \"h\"\nsystem_id = \"u\"\npassword = \"far-too-long\"").expect("ok");
        assert!(s.validate().expect_err("long").contains("password"));
        let s = settings("host = \"h\"\nsystem_id = \"u\"\ninterface_version = \"4\"").expect("ok");
        assert!(s
            .validate()
            .expect_err("version")
            .contains("interface_version"));
        assert!(settings("host = \"h\"\nsystem_id = \"u\"\nbogus = 1").is_err());
        assert!(settings("host = \"h\"\nsystem_id = \"u\"\nbind = \"receiver\"").is_err());
    }
}

//! A local SMSC (API.md §8 `tidings smsc`): a real SMPP server for development, tests and
//! benchmarks. It accepts binds (any credentials, or the configured ones: a mismatch is
//! ESME_RINVPASWD), answers `submit_sm` with a message id and records what it accepted, sends
//! a delivery receipt after a delay when `registered_delivery` asks for one (both the text form
//! and the `receipted_message_id`/`message_state` TLVs), delivers inbound texts to a bound
//! receiver, and misbehaves on request: ESME_RTHROTTLED or ESME_RSUBMITFAIL to a share of
//! submits, and dropping a connection after every N `submit_sm` (that last submit is recorded
//! as received but never answered — the case of a response lost in a disconnect).
//! Receipts follow the simulator's magic numbers: a number ending `0000` gets UNDELIV, `0002`
//! EXPIRED, any other DELIVRD.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use rusmpp::pdus::{DeliverSm, SubmitSmResp};
use rusmpp::tlvs::MessageDeliveryRequestTlvValue;
use rusmpp::types::{COctetString, OctetString};
use rusmpp::values::{DataCoding, EsmClass, MessagePayload, MessageState, Npi, Ton};
use rusmpp::{Command, CommandId, CommandStatus, Pdu};
use serde::Serialize;
use subtle::ConstantTimeEq;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, watch, Notify};
use tokio_util::codec::FramedRead;

use crate::smpp::wire::{self, Frames};

/// How `tidings smsc` behaves (API.md §8).
#[derive(Clone)]
pub struct SmscConfig {
    pub listen: SocketAddr,
    /// Required bind credentials; `None` accepts any.
    pub system_id: Option<String>,
    pub password: Option<String>,
    pub receipt_delay: Duration,
    /// Share of submits answered ESME_RTHROTTLED, in percent.
    pub throttle_percent: f64,
    /// Share of submits answered ESME_RSUBMITFAIL, in percent.
    pub reject_percent: f64,
    /// Close the connection after this many `submit_sm` on it (0 = never).
    pub drop_every: u64,
}

impl std::fmt::Debug for SmscConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmscConfig")
            .field("listen", &self.listen)
            .field("system_id", &self.system_id)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("receipt_delay", &self.receipt_delay)
            .field("throttle_percent", &self.throttle_percent)
            .field("reject_percent", &self.reject_percent)
            .field("drop_every", &self.drop_every)
            .finish()
    }
}

impl Default for SmscConfig {
    fn default() -> SmscConfig {
        SmscConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 2775)),
            system_id: None,
            password: None,
            receipt_delay: Duration::from_millis(200),
            throttle_percent: 0.0,
            reject_percent: 0.0,
            drop_every: 0,
        }
    }
}

/// One `submit_sm` the SMSC accepted (`GET /submits`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceivedSubmit {
    pub seq: u64,
    pub from: String,
    pub to: String,
    /// The text of this PDU (one part of a concatenated text), decoded.
    pub text: String,
    pub data_coding: u8,
    pub message_id: String,
    /// Milliseconds since the Unix epoch.
    pub received_at: i64,
    /// False when the connection was dropped instead of answering it.
    pub answered: bool,
    /// Concatenation (UDH): reference, total and number of this part.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concat: Option<(u16, u8, u8)>,
    pub connection: u64,
}

/// What the SMSC has done so far.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SmscStats {
    pub binds: u64,
    pub binds_refused: u64,
    pub submits: u64,
    pub accepted: u64,
    pub throttled: u64,
    pub rejected: u64,
    pub dropped_connections: u64,
    pub receipts_sent: u64,
    pub receipts_waiting: u64,
    pub bound_receivers: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoError {
    /// No receiver or transceiver is bound.
    NoReceiver,
    /// The ESME did not accept it.
    Refused(String),
}

#[derive(Default)]
struct Counters {
    binds: AtomicU64,
    binds_refused: AtomicU64,
    submits: AtomicU64,
    accepted: AtomicU64,
    throttled: AtomicU64,
    rejected: AtomicU64,
    dropped: AtomicU64,
    receipts_sent: AtomicU64,
}

struct Conn {
    id: u64,
    out: mpsc::UnboundedSender<Bytes>,
    can_receive: bool,
    pending: Arc<std::sync::Mutex<HashMap<u32, oneshot::Sender<u32>>>>,
    seq: Arc<AtomicU32>,
}

impl Conn {
    fn next_seq(&self) -> u32 {
        (self.seq.fetch_add(1, Ordering::Relaxed) & 0x3FFF_FFFF) + 1
    }
}

struct Receipt {
    due: tokio::time::Instant,
    connection: u64,
    pdu: DeliverSm,
}

struct Shared {
    config: SmscConfig,
    counters: Counters,
    submits: std::sync::Mutex<Vec<ReceivedSubmit>>,
    conns: std::sync::Mutex<Vec<Conn>>,
    receipts: std::sync::Mutex<VecDeque<Receipt>>,
    receipt_added: Notify,
    next_conn: AtomicU64,
    next_message: AtomicU64,
    stop: watch::Sender<bool>,
}

/// A running SMSC; stops when dropped.
pub struct Smsc {
    shared: Arc<Shared>,
    addr: SocketAddr,
}

impl Drop for Smsc {
    fn drop(&mut self) {
        self.shared.stop.send_replace(true);
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// `YYMMDDhhmm` (UTC) for receipt texts.
fn receipt_date(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%y%m%d%H%M").to_string())
        .unwrap_or_else(|_| "0000000000".into())
}

impl Smsc {
    /// Binds the listener and starts serving.
    pub async fn start(config: SmscConfig) -> std::io::Result<Smsc> {
        let listener = TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            config,
            counters: Counters::default(),
            submits: std::sync::Mutex::new(Vec::new()),
            conns: std::sync::Mutex::new(Vec::new()),
            receipts: std::sync::Mutex::new(VecDeque::new()),
            receipt_added: Notify::new(),
            next_conn: AtomicU64::new(1),
            next_message: AtomicU64::new(0x1000),
            stop: watch::channel(false).0,
        });
        tokio::spawn(accept_loop(shared.clone(), listener));
        tokio::spawn(receipt_loop(shared.clone()));
        Ok(Smsc { shared, addr })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every `submit_sm` accepted so far, in the order received.
    pub fn submits(&self) -> Vec<ReceivedSubmit> {
        self.shared
            .submits
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn stats(&self) -> SmscStats {
        let c = &self.shared.counters;
        SmscStats {
            binds: c.binds.load(Ordering::Relaxed),
            binds_refused: c.binds_refused.load(Ordering::Relaxed),
            submits: c.submits.load(Ordering::Relaxed),
            accepted: c.accepted.load(Ordering::Relaxed),
            throttled: c.throttled.load(Ordering::Relaxed),
            rejected: c.rejected.load(Ordering::Relaxed),
            dropped_connections: c.dropped.load(Ordering::Relaxed),
            receipts_sent: c.receipts_sent.load(Ordering::Relaxed),
            receipts_waiting: self
                .shared
                .receipts
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .len() as u64,
            bound_receivers: self
                .shared
                .conns
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .filter(|c| c.can_receive)
                .count() as u64,
        }
    }

    /// Delivers an inbound text to one bound receiver and waits for its `deliver_sm_resp`.
    pub async fn deliver_mo(&self, from: &str, to: &str, text: &str) -> Result<(), MoError> {
        let pdu = mo_pdu(from, to, text).map_err(MoError::Refused)?;
        let (seq, rx, out) = {
            let conns = self.shared.conns.lock().unwrap_or_else(|p| p.into_inner());
            let Some(conn) = conns.iter().find(|c| c.can_receive) else {
                return Err(MoError::NoReceiver);
            };
            let seq = conn.next_seq();
            let (tx, rx) = oneshot::channel();
            conn.pending
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(seq, tx);
            (seq, rx, conn.out.clone())
        };
        let command = Command::new(CommandStatus::EsmeRok, seq, Pdu::DeliverSm(pdu));
        if out.send(wire::encode(&command)).is_err() {
            return Err(MoError::NoReceiver);
        }
        match tokio::time::timeout(Duration::from_secs(10), rx).await {
            Ok(Ok(0)) => Ok(()),
            Ok(Ok(status)) => Err(MoError::Refused(wire::status_name(status))),
            _ => Err(MoError::Refused("no deliver_sm_resp".into())),
        }
    }
}

/// A `deliver_sm` carrying an inbound text: GSM-7 when it can, else UTF-16BE; a text longer
/// than a short message goes in `message_payload`.
fn mo_pdu(from: &str, to: &str, text: &str) -> Result<DeliverSm, String> {
    let (octets, dc) = wire::encode_text(text);
    let mut builder = DeliverSm::builder()
        .source_addr_ton(Ton::from(1))
        .source_addr_npi(Npi::from(1))
        .source_addr(wire::c_string::<1, 21>("from", from)?)
        .dest_addr_ton(Ton::from(0))
        .dest_addr_npi(Npi::from(1))
        .destination_addr(wire::c_string::<1, 21>("to", to)?)
        .esm_class(EsmClass::from(0))
        .data_coding(DataCoding::from(dc));
    if octets.len() <= 254 {
        builder = builder
            .short_message(OctetString::<0, 255>::from_vec(octets).map_err(|e| e.to_string())?);
    } else {
        builder = builder.push_tlv(MessageDeliveryRequestTlvValue::MessagePayload(
            MessagePayload::new(rusmpp::types::AnyOctetString::from_vec(octets)),
        ));
    }
    Ok(builder.build())
}

async fn accept_loop(shared: Arc<Shared>, listener: TcpListener) {
    let mut stop = shared.stop.subscribe();
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = crate::until_true(&mut stop) => return,
        };
        match accepted {
            Ok((stream, _)) => {
                let _ = stream.set_nodelay(true);
                tokio::spawn(serve(shared.clone(), stream));
            }
            Err(e) => {
                tracing::warn!(error = %e, "smsc accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

async fn write_loop<W: AsyncWrite + Unpin>(mut write: W, mut rx: mpsc::UnboundedReceiver<Bytes>) {
    let mut buf = BytesMut::with_capacity(64 * 1024);
    while let Some(first) = rx.recv().await {
        buf.extend_from_slice(&first);
        while buf.len() < 64 * 1024 {
            match rx.try_recv() {
                Ok(b) => buf.extend_from_slice(&b),
                Err(_) => break,
            }
        }
        if write.write_all(&buf).await.is_err() {
            return;
        }
        buf.clear();
    }
    let _ = write.shutdown().await;
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Bound {
    No,
    Transmitter,
    Receiver,
    Transceiver,
}

async fn serve(shared: Arc<Shared>, stream: TcpStream) {
    let id = shared.next_conn.fetch_add(1, Ordering::Relaxed);
    let (read, write) = stream.into_split();
    let (out, rx) = mpsc::unbounded_channel::<Bytes>();
    let writer = tokio::spawn(write_loop(write, rx));
    let pending: Arc<std::sync::Mutex<HashMap<u32, oneshot::Sender<u32>>>> = Arc::default();
    let seq = Arc::new(AtomicU32::new(0));
    let mut frames = FramedRead::new(read, Frames);
    let mut bound = Bound::No;
    let mut submits_here: u64 = 0;
    let mut stop = shared.stop.subscribe();
    let send = |command: Command| {
        let _ = out.send(wire::encode(&command));
    };
    loop {
        let next = tokio::select! {
            f = frames.next() => f,
            _ = crate::until_true(&mut stop) => break,
        };
        let Some(Ok(frame)) = next else { break };
        let command = match wire::decode(frame) {
            Ok(c) => c,
            Err(Some(head)) if !head.is_response() => {
                send(wire::bare(0x08, head.sequence, Pdu::GenericNack));
                continue;
            }
            Err(_) => continue,
        };
        let seq_no = command.sequence_number();
        let Some(pdu) = command.pdu() else {
            // A bodiless response (e.g. deliver_sm_resp with an error status).
            if let Some(tx) = pending
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&seq_no)
            {
                let _ = tx.send(u32::from(command.status()));
            }
            continue;
        };
        match pdu {
            Pdu::BindTransmitter(_) | Pdu::BindReceiver(_) | Pdu::BindTransceiver(_) => {
                let (system_id, password, role, resp): (_, _, _, fn(COctetString<1, 16>) -> Pdu) =
                    match pdu {
                        Pdu::BindTransmitter(b) => (
                            b.system_id.as_str(),
                            b.password.as_str(),
                            Bound::Transmitter,
                            |s| {
                                Pdu::BindTransmitterResp(rusmpp::pdus::BindTransmitterResp::new(
                                    s, None,
                                ))
                            },
                        ),
                        Pdu::BindReceiver(b) => (
                            b.system_id.as_str(),
                            b.password.as_str(),
                            Bound::Receiver,
                            |s| Pdu::BindReceiverResp(rusmpp::pdus::BindReceiverResp::new(s, None)),
                        ),
                        Pdu::BindTransceiver(b) => (
                            b.system_id.as_str(),
                            b.password.as_str(),
                            Bound::Transceiver,
                            |s| {
                                Pdu::BindTransceiverResp(rusmpp::pdus::BindTransceiverResp::new(
                                    s, None,
                                ))
                            },
                        ),
                        _ => continue,
                    };
                let name = COctetString::<1, 16>::from_string("tidings".into()).unwrap_or_default();
                let status = if bound != Bound::No {
                    u32::from(CommandStatus::EsmeRalybnd)
                } else if !credential_matches(shared.config.system_id.as_deref(), system_id)
                    | !credential_matches(shared.config.password.as_deref(), password)
                {
                    u32::from(CommandStatus::EsmeRinvpaswd)
                } else {
                    0
                };
                if status == 0 {
                    bound = role;
                    shared.counters.binds.fetch_add(1, Ordering::Relaxed);
                    shared
                        .conns
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(Conn {
                            id,
                            out: out.clone(),
                            can_receive: role != Bound::Transmitter,
                            pending: pending.clone(),
                            seq: seq.clone(),
                        });
                } else {
                    shared
                        .counters
                        .binds_refused
                        .fetch_add(1, Ordering::Relaxed);
                }
                send(wire::bare(status, seq_no, resp(name)));
            }
            Pdu::SubmitSm(submit) => {
                if !matches!(bound, Bound::Transmitter | Bound::Transceiver) {
                    send(wire::header_only(
                        CommandId::SubmitSmResp,
                        u32::from(CommandStatus::EsmeRinvbndsts),
                        seq_no,
                    ));
                    continue;
                }
                submits_here += 1;
                shared.counters.submits.fetch_add(1, Ordering::Relaxed);
                let drop_now = shared.config.drop_every > 0
                    && submits_here.checked_rem(shared.config.drop_every) == Some(0);
                let roll = rand::random::<f64>() * 100.0;
                if !drop_now && roll < shared.config.throttle_percent {
                    shared.counters.throttled.fetch_add(1, Ordering::Relaxed);
                    send(wire::header_only(
                        CommandId::SubmitSmResp,
                        u32::from(CommandStatus::EsmeRthrottled),
                        seq_no,
                    ));
                    continue;
                }
                if !drop_now && roll < shared.config.throttle_percent + shared.config.reject_percent
                {
                    shared.counters.rejected.fetch_add(1, Ordering::Relaxed);
                    send(wire::header_only(
                        CommandId::SubmitSmResp,
                        u32::from(CommandStatus::EsmeRsubmitfail),
                        seq_no,
                    ));
                    continue;
                }
                let n = shared.next_message.fetch_add(1, Ordering::Relaxed);
                let message_id = format!("{n:x}");
                let record = record_of(submit, &message_id, id, !drop_now);
                let wants_receipt = u8::from(submit.registered_delivery) & 0x03 != 0;
                if wants_receipt {
                    let receipt = receipt_pdu(&record, submit);
                    shared
                        .receipts
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push_back(Receipt {
                            due: tokio::time::Instant::now() + shared.config.receipt_delay,
                            connection: id,
                            pdu: receipt,
                        });
                    shared.receipt_added.notify_one();
                }
                {
                    let mut submits = shared.submits.lock().unwrap_or_else(|p| p.into_inner());
                    let mut record = record;
                    record.seq = submits.len() as u64 + 1;
                    submits.push(record);
                }
                shared.counters.accepted.fetch_add(1, Ordering::Relaxed);
                if drop_now {
                    shared.counters.dropped.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(
                        connection = id,
                        submits = submits_here,
                        "dropping the connection as told"
                    );
                    break;
                }
                let id_field = COctetString::<1, 65>::from_string(message_id).unwrap_or_default();
                send(Command::new(
                    CommandStatus::EsmeRok,
                    seq_no,
                    Pdu::SubmitSmResp(SubmitSmResp::new(id_field, Vec::new())),
                ));
            }
            Pdu::DeliverSmResp(_) => {
                if let Some(tx) = pending
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&seq_no)
                {
                    let _ = tx.send(u32::from(command.status()));
                }
            }
            Pdu::EnquireLink => send(wire::bare(0, seq_no, Pdu::EnquireLinkResp)),
            Pdu::Unbind => {
                send(wire::bare(0, seq_no, Pdu::UnbindResp));
                break;
            }
            Pdu::GenericNack | Pdu::EnquireLinkResp | Pdu::UnbindResp => {}
            _ => send(wire::bare(
                u32::from(CommandStatus::EsmeRinvcmdid),
                seq_no,
                Pdu::GenericNack,
            )),
        }
    }
    shared
        .conns
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .retain(|c| c.id != id);
    drop(out);
    let _ = writer.await;
}

fn record_of(
    submit: &rusmpp::pdus::SubmitSm,
    message_id: &str,
    connection: u64,
    answered: bool,
) -> ReceivedSubmit {
    let esm = u8::from(submit.esm_class);
    let dc = u8::from(submit.data_coding);
    let mut octets = submit.short_message().as_ref().to_vec();
    if octets.is_empty() {
        for tlv in submit.tlvs() {
            if let Some(rusmpp::tlvs::TlvValue::MessagePayload(p)) = tlv.value() {
                octets = p.value.to_vec();
            }
        }
    }
    let (udh, body) = if esm & wire::ESM_UDHI != 0 {
        wire::split_udh(&octets)
    } else {
        (None, &octets[..])
    };
    ReceivedSubmit {
        seq: 0,
        from: submit.source_addr.as_str().to_string(),
        to: submit.destination_addr.as_str().to_string(),
        text: wire::decode_text(body, dc),
        data_coding: dc,
        message_id: message_id.to_string(),
        received_at: now_ms(),
        answered,
        concat: udh.and_then(wire::concat_info),
        connection,
    }
}

/// The receipt for an accepted submit, in both forms: the `id:… stat:…` text and the TLVs.
fn receipt_pdu(record: &ReceivedSubmit, submit: &rusmpp::pdus::SubmitSm) -> DeliverSm {
    let (stat, state) = if record.to.ends_with("0000") {
        ("UNDELIV", MessageState::Undeliverable)
    } else if record.to.ends_with("0002") {
        ("EXPIRED", MessageState::Expired)
    } else {
        ("DELIVRD", MessageState::Delivered)
    };
    let date = receipt_date(record.received_at);
    let snippet: String = record
        .text
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == ' ')
        .take(20)
        .collect();
    let text = format!(
        "id:{} sub:001 dlvrd:{} submit date:{date} done date:{date} stat:{stat} err:{} text:{snippet}",
        record.message_id,
        if stat == "DELIVRD" { "001" } else { "000" },
        if stat == "DELIVRD" { "000" } else { "001" },
    );
    let short = OctetString::<0, 255>::from_vec(text.into_bytes()).unwrap_or_default();
    let id = COctetString::<1, 65>::from_string(record.message_id.clone()).unwrap_or_default();
    DeliverSm::builder()
        .source_addr_ton(submit.dest_addr_ton)
        .source_addr_npi(submit.dest_addr_npi)
        .source_addr(submit.destination_addr.clone())
        .dest_addr_ton(submit.source_addr_ton)
        .dest_addr_npi(submit.source_addr_npi)
        .destination_addr(submit.source_addr.clone())
        .esm_class(EsmClass::from(0x04))
        .data_coding(DataCoding::from(0))
        .short_message(short)
        .push_tlv(MessageDeliveryRequestTlvValue::ReceiptedMessageId(id))
        .push_tlv(MessageDeliveryRequestTlvValue::MessageState(state))
        .build()
}

/// Sends receipts when they are due, to the connection of their submit when it still
/// receives, else to any bound receiver; with none bound they wait.
async fn receipt_loop(shared: Arc<Shared>) {
    let mut stop = shared.stop.subscribe();
    loop {
        let next_due = shared
            .receipts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .front()
            .map(|r| r.due);
        let wait = async {
            match next_due {
                Some(due) => tokio::time::sleep_until(due).await,
                None => shared.receipt_added.notified().await,
            }
        };
        tokio::select! {
            _ = wait => {}
            _ = crate::until_true(&mut stop) => return,
        }
        let now = tokio::time::Instant::now();
        let due: Vec<Receipt> = {
            let mut q = shared.receipts.lock().unwrap_or_else(|p| p.into_inner());
            let n = q.iter().take_while(|r| r.due <= now).count();
            q.drain(..n).collect()
        };
        if due.is_empty() {
            continue;
        }
        let mut undelivered = Vec::new();
        {
            let conns = shared.conns.lock().unwrap_or_else(|p| p.into_inner());
            for r in due {
                let target = conns
                    .iter()
                    .find(|c| c.id == r.connection && c.can_receive)
                    .or_else(|| conns.iter().find(|c| c.can_receive));
                match target {
                    Some(conn) => {
                        let command = Command::new(
                            CommandStatus::EsmeRok,
                            conn.next_seq(),
                            Pdu::DeliverSm(r.pdu),
                        );
                        if conn.out.send(wire::encode(&command)).is_ok() {
                            shared
                                .counters
                                .receipts_sent
                                .fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    None => undelivered.push(Receipt {
                        due: now + Duration::from_secs(1),
                        ..r
                    }),
                }
            }
        }
        if !undelivered.is_empty() {
            let mut q = shared.receipts.lock().unwrap_or_else(|p| p.into_inner());
            for r in undelivered {
                q.push_back(r);
            }
        }
    }
}

/// Whether a bind's credential is the required one (any when none is required), compared in
/// constant time (API.md §8 `tidings smsc`).
fn credential_matches(required: Option<&str>, given: &str) -> bool {
    required.is_none_or(|r| bool::from(r.as_bytes().ct_eq(given.as_bytes())))
}

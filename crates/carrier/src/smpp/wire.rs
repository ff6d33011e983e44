//! SMPP on the wire (API.md §8 "SMPP on the wire"), shared by the ESME and the local SMSC:
//! framing that never trusts a peer's length, rusmpp's codec for the PDUs, the texts as GSM-7
//! (unpacked, `data_coding` 0) or UTF-16BE (`data_coding` 8, emoji as surrogate pairs — encoded
//! here, since rusmpp's UCS-2 encoder stops at the BMP), UDH concatenation, and delivery
//! receipts in both their forms (the `id:… stat:…` text and the TLVs).

use bytes::BytesMut;
use domain::codes;
use rusmpp::tlvs::{MessageSubmissionRequestTlvValue, TlvValue};
use rusmpp::types::{COctetString, EmptyOrFullCOctetString, OctetString};
use rusmpp::values::{
    DataCoding, EsmClass, MessagePayload, MessageState, Npi, RegisteredDelivery, ServiceType, Ton,
};
use rusmpp::{Command, CommandId, CommandStatus, Pdu};
use tokio_util::codec::{Decoder, Encoder};

/// Largest PDU accepted from a peer. A `submit_sm` with a full `message_payload` stays well
/// below; anything longer is a broken or hostile peer.
pub const MAX_PDU: usize = 64 * 1024;
/// The 16-octet header every PDU starts with.
pub const HEADER: usize = 16;

/// `data_coding` of GSM-7 (the SMSC default alphabet) and of UCS-2/UTF-16BE.
pub const DC_GSM7: u8 = 0x00;
pub const DC_UCS2: u8 = 0x08;
/// `esm_class` bit: the short message starts with a user data header.
pub const ESM_UDHI: u8 = 0x40;

/// Splits the byte stream into whole PDUs (length included) without interpreting them, so
/// that one undecodable PDU can be answered with a `generic_nack` instead of ending the
/// connection.
#[derive(Debug, Default)]
pub struct Frames;

impl Decoder for Frames {
    type Item = BytesMut;
    type Error = std::io::Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<BytesMut>, std::io::Error> {
        let Some(len) = src.get(..4) else {
            return Ok(None);
        };
        let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
        if !(HEADER..=MAX_PDU).contains(&len) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("PDU length {len} is outside {HEADER}..={MAX_PDU}"),
            ));
        }
        if src.len() < len {
            src.reserve(len - src.len());
            return Ok(None);
        }
        Ok(Some(src.split_to(len)))
    }
}

/// The header of a PDU, readable even when its body is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub command_id: u32,
    pub status: u32,
    pub sequence: u32,
}

impl Header {
    pub fn is_response(&self) -> bool {
        self.command_id & 0x8000_0000 != 0
    }
}

/// Reads the header of a whole frame (as [`Frames`] yields them).
pub fn header(frame: &[u8]) -> Option<Header> {
    let word = |i: usize| {
        frame
            .get(i..i + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    Some(Header {
        command_id: word(4)?,
        status: word(8)?,
        sequence: word(12)?,
    })
}

/// Decodes one whole frame. On failure the header (when readable) lets the caller answer.
pub fn decode(frame: BytesMut) -> Result<Command, Option<Header>> {
    let head = header(&frame);
    let mut src = frame;
    match rusmpp::tokio_codec::CommandCodec::new()
        .with_max_length(MAX_PDU)
        .decode(&mut src)
    {
        Ok(Some(command)) if src.is_empty() => Ok(command),
        _ => Err(head),
    }
}

/// Encodes a command, appending it to `dst`.
pub fn encode_into(command: &Command, dst: &mut BytesMut) {
    // Encoding into memory cannot fail (the codec's only error is I/O).
    let _ = rusmpp::tokio_codec::CommandCodec::new().encode(command, dst);
}

/// Encodes a command into its own buffer.
pub fn encode(command: &Command) -> bytes::Bytes {
    let mut buf = BytesMut::new();
    encode_into(command, &mut buf);
    buf.freeze()
}

/// The SMPP name of a status, e.g. `ESME_RTHROTTLED`, for notes and logs.
pub fn status_name(status: u32) -> String {
    match CommandStatus::from(status) {
        CommandStatus::Other(v) => format!("0x{v:08X}"),
        known => {
            let debug = format!("{known:?}");
            match debug.strip_prefix("Esme") {
                Some(rest) => format!("ESME_{}", rest.to_ascii_uppercase()),
                None => debug.to_ascii_uppercase(),
            }
        }
    }
}

/// Statuses that mean "not now" rather than "never": the submit is retried with backoff.
pub fn is_transient(status: u32) -> bool {
    matches!(
        CommandStatus::from(status),
        CommandStatus::EsmeRthrottled | CommandStatus::EsmeRmsgqful
    )
}

/// A C-Octet string field from text, or why it cannot be one.
pub fn c_string<const MIN: usize, const MAX: usize>(
    field: &str,
    value: &str,
) -> Result<COctetString<MIN, MAX>, String> {
    COctetString::from_string(value.to_string())
        .map_err(|e| format!("{field} {value:?} can't go in an SMPP PDU: {e}"))
}

/// What the ESME puts in every `submit_sm` besides the text.
#[derive(Debug, Clone)]
pub struct Addressing {
    pub source_ton: u8,
    pub source_npi: u8,
    pub dest_ton: u8,
    pub dest_npi: u8,
    /// Relative validity in minutes; 0 = the SMSC's default.
    pub validity_minutes: u32,
    /// Long texts as one `submit_sm` with `message_payload` instead of UDH parts.
    pub payload: bool,
}

/// The relative validity period `YYMMDDhhmmss000R` for `minutes` (SMPP §7.1.1).
pub fn relative_validity(minutes: u32) -> String {
    let days = minutes / 1440;
    let hours = (minutes % 1440) / 60;
    let mins = minutes % 60;
    let years = (days / 365).min(99);
    let days = days % 365;
    let months = (days / 30).min(11);
    let days = days % 30;
    format!("{years:02}{months:02}{days:02}{hours:02}{mins:02}00000R")
}

/// The octets of a text and its `data_coding`: GSM-7 septets unpacked, else UTF-16BE.
pub fn encode_text(text: &str) -> (Vec<u8>, u8) {
    match domain::text::gsm7_encode(text) {
        Some(septets) => (septets, DC_GSM7),
        None => (utf16be(text), DC_UCS2),
    }
}

/// UTF-16BE without a byte-order mark; characters outside the BMP become surrogate pairs.
pub fn utf16be(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_be_bytes).collect()
}

/// Decodes a short message's octets by `data_coding` (the UDH already removed).
pub fn decode_text(octets: &[u8], data_coding: u8) -> String {
    match data_coding & 0x0F {
        0x00 if data_coding & 0xF0 == 0 || data_coding & 0xF0 == 0xF0 => {
            domain::text::gsm7_decode(octets)
        }
        // IA5/ASCII; but some peers send the GSM default alphabet marked 0x01 (escape
        // pairs, `@` as 0x00): control characters other than CR and LF give that away.
        0x01 if octets.iter().any(|&b| b < 0x20 && b != b'\n' && b != b'\r') => {
            domain::text::gsm7_decode(octets)
        }
        0x01 => octets.iter().map(|&b| char::from(b & 0x7f)).collect(),
        0x03 => octets.iter().map(|&b| char::from(b)).collect(),
        0x08 => {
            let units: Vec<u16> = octets
                .chunks(2)
                .map(|c| u16::from_be_bytes([c[0], c.get(1).copied().unwrap_or(0)]))
                .collect();
            char::decode_utf16(units)
                .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect()
        }
        _ => String::from_utf8_lossy(octets).into_owned(),
    }
}

/// Splits a user data header off a short message: `(udh, rest)`; no UDH when the length octet
/// claims more than there is.
pub fn split_udh(octets: &[u8]) -> (Option<&[u8]>, &[u8]) {
    match octets.first() {
        Some(&len) if usize::from(len) < octets.len() => {
            let end = usize::from(len) + 1;
            (Some(&octets[..end]), &octets[end..])
        }
        _ => (None, octets),
    }
}

/// Concatenation info in a UDH (IEI 0x00 8-bit or 0x08 16-bit reference): `(ref, total, seq)`.
pub fn concat_info(udh: &[u8]) -> Option<(u16, u8, u8)> {
    let mut rest = udh.get(1..)?;
    while rest.len() >= 2 {
        let (iei, len) = (rest[0], usize::from(rest[1]));
        let data = rest.get(2..2 + len)?;
        match (iei, data) {
            (0x00, [r, total, seq]) => return Some((u16::from(*r), *total, *seq)),
            (0x08, [r1, r2, total, seq]) => {
                return Some((u16::from_be_bytes([*r1, *r2]), *total, *seq))
            }
            _ => rest = &rest[2 + len..],
        }
    }
    None
}

/// The `submit_sm` PDUs for one text: one, or one per part with an 8-bit-reference UDH
/// (IEI 0x00), or one with the whole text in `message_payload`. `reference` numbers the parts
/// of this text. Parts follow [`domain::text::split_parts`], so they match the counted
/// segments (a part never splits an escape or surrogate pair).
pub fn submit_pdus(
    from: &str,
    to: &str,
    text: &str,
    addressing: &Addressing,
    reference: u8,
) -> Result<Vec<rusmpp::pdus::SubmitSm>, String> {
    let source = c_string::<1, 21>("source address", from)?;
    let dest = c_string::<1, 21>("destination address", to)?;
    let validity = if addressing.validity_minutes == 0 {
        EmptyOrFullCOctetString::empty()
    } else {
        EmptyOrFullCOctetString::from_string(relative_validity(addressing.validity_minutes))
            .map_err(|e| format!("validity period: {e}"))?
    };
    let base = |esm: u8, data_coding: u8, short: Vec<u8>| -> Result<_, String> {
        let short =
            OctetString::<0, 255>::from_vec(short).map_err(|e| format!("short message: {e}"))?;
        Ok(rusmpp::pdus::SubmitSm::builder()
            .service_type(ServiceType::default())
            .source_addr_ton(Ton::from(addressing.source_ton))
            .source_addr_npi(Npi::from(addressing.source_npi))
            .source_addr(source.clone())
            .dest_addr_ton(Ton::from(addressing.dest_ton))
            .dest_addr_npi(Npi::from(addressing.dest_npi))
            .destination_addr(dest.clone())
            .esm_class(EsmClass::from(esm))
            .validity_period(validity.clone())
            .registered_delivery(RegisteredDelivery::from(1))
            .data_coding(DataCoding::from(data_coding))
            .short_message(short)
            .build())
    };
    let parts = domain::text::split_parts(text);
    if parts.len() <= 1 {
        let (octets, dc) = encode_text(text);
        return Ok(vec![base(0, dc, octets)?]);
    }
    let dc = encode_text(text).1;
    let encode_part = |part: &str| -> Vec<u8> {
        if dc == DC_GSM7 {
            domain::text::gsm7_encode(part).unwrap_or_default()
        } else {
            utf16be(part)
        }
    };
    if addressing.payload {
        let octets: Vec<u8> = parts.iter().flat_map(|p| encode_part(p)).collect();
        let mut pdu = base(0, dc, Vec::new())?;
        pdu.push_tlv(MessageSubmissionRequestTlvValue::MessagePayload(
            MessagePayload::new(rusmpp::types::AnyOctetString::from_vec(octets)),
        ));
        return Ok(vec![pdu]);
    }
    let total = u8::try_from(parts.len()).map_err(|_| "the text has more than 255 parts")?;
    parts
        .iter()
        .enumerate()
        .map(|(i, part)| {
            let mut octets = vec![0x05, 0x00, 0x03, reference, total, (i + 1) as u8];
            octets.extend(encode_part(part));
            base(ESM_UDHI, dc, octets)
        })
        .collect()
}

/// The message id of a `submit_sm_resp` (empty when the peer gave none).
pub fn submit_resp_id(command: &Command) -> Option<String> {
    match command.pdu() {
        Some(Pdu::SubmitSmResp(resp)) => {
            Some(resp.message_id().as_str().to_string()).filter(|s| !s.is_empty())
        }
        _ => None,
    }
}

/// A delivery receipt: whose message, in which state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptInfo {
    pub message_id: String,
    /// The standard code of its state (API.md §8 receipt states).
    pub status_code: i32,
}

/// What a `deliver_sm` carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Receipt(ReceiptInfo),
    /// A receipt without a readable id or state: answered, logged, not applied.
    UnreadableReceipt(String),
    /// A mobile-originated text.
    Text {
        from: String,
        to: String,
        text: String,
    },
}

/// The standard code of a receipt's `stat:` word (API.md §8).
pub fn code_of_stat(stat: &str) -> Option<i32> {
    Some(match stat.to_ascii_uppercase().as_str() {
        "ENROUTE" | "SCHEDULED" => codes::ENROUTE,
        "ACCEPTD" | "ACCEPTED" => codes::ACCEPTED_BY_CARRIER,
        "UNKNOWN" => codes::UNKNOWN,
        "DELIVRD" | "DELIVERED" => codes::DELIVERED,
        "UNDELIV" | "UNDELIVERABLE" => codes::UNDELIVERABLE,
        "EXPIRED" => codes::EXPIRED,
        "DELETED" => codes::DELETED,
        "REJECTD" | "REJECTED" | "SKIPPED" => codes::REJECTED,
        _ => return None,
    })
}

/// The standard code of a `message_state` TLV.
pub fn code_of_state(state: MessageState) -> Option<i32> {
    Some(match state {
        MessageState::Scheduled | MessageState::Enroute => codes::ENROUTE,
        MessageState::Accepted => codes::ACCEPTED_BY_CARRIER,
        MessageState::Unknown => codes::UNKNOWN,
        MessageState::Delivered => codes::DELIVERED,
        MessageState::Undeliverable => codes::UNDELIVERABLE,
        MessageState::Expired => codes::EXPIRED,
        MessageState::Deleted => codes::DELETED,
        MessageState::Rejected | MessageState::Skipped => codes::REJECTED,
        MessageState::Other(_) => return None,
    })
}

/// The value of `key:` in a receipt text (`id:123 sub:001 … stat:DELIVRD err:000 text:…`),
/// ignoring case; the value runs to the next space. `text:` is never searched into.
pub fn receipt_field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let head = match find_ignoring_case(text, " text:") {
        Some(i) => &text[..i],
        None => text,
    };
    let mut from = 0;
    while let Some(rel) = find_ignoring_case(&head[from..], key) {
        let at = from + rel;
        let starts_word = at == 0 || head[..at].ends_with(' ');
        let after = &head[at + key.len()..];
        if starts_word {
            if let Some(value) = after.strip_prefix(':') {
                let end = value.find(' ').unwrap_or(value.len());
                return Some(&value[..end]);
            }
        }
        from = at + key.len();
    }
    None
}

fn find_ignoring_case(haystack: &str, needle: &str) -> Option<usize> {
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    if n.is_empty() || h.len() < n.len() {
        return None;
    }
    (0..=h.len() - n.len()).find(|&i| h[i..i + n.len()].eq_ignore_ascii_case(n))
}

/// Reads a receipt from its text form.
pub fn parse_receipt_text(text: &str) -> Option<ReceiptInfo> {
    let id = receipt_field(text, "id").filter(|s| !s.is_empty())?;
    let code = receipt_field(text, "stat").and_then(code_of_stat)?;
    Some(ReceiptInfo {
        message_id: id.to_string(),
        status_code: code,
    })
}

/// Interprets a `deliver_sm`: a receipt (`esm_class` message type 0x04 MC delivery receipt,
/// 0x08 SME acknowledgement, 0x20 intermediate notification) — its id and state from the
/// `receipted_message_id`/`message_state` TLVs when present, else from the text — or an
/// inbound text (from `message_payload` when the short message is empty; a UDH is removed).
pub fn read_deliver_sm(pdu: &rusmpp::pdus::DeliverSm) -> Delivery {
    let esm = u8::from(pdu.esm_class);
    let mut receipted_id = None;
    let mut state = None;
    let mut payload = None;
    for tlv in pdu.tlvs() {
        match tlv.value() {
            Some(TlvValue::ReceiptedMessageId(id)) => receipted_id = Some(id.as_str().to_string()),
            Some(TlvValue::MessageState(s)) => state = Some(*s),
            Some(TlvValue::MessagePayload(p)) => payload = Some(p.value.to_vec()),
            _ => {}
        }
    }
    let short = pdu.short_message().as_ref().to_vec();
    let octets = if short.is_empty() {
        payload.unwrap_or_default()
    } else {
        short
    };
    let body = if esm & ESM_UDHI != 0 {
        split_udh(&octets).1
    } else {
        &octets[..]
    };
    let text = decode_text(body, u8::from(pdu.data_coding));
    let message_type = esm & 0x3C;
    if matches!(message_type, 0x04 | 0x08 | 0x20) {
        let from_text = parse_receipt_text(&text);
        let id = receipted_id
            .filter(|s| !s.is_empty())
            .or_else(|| from_text.as_ref().map(|r| r.message_id.clone()));
        let code = state
            .and_then(code_of_state)
            .or_else(|| from_text.as_ref().map(|r| r.status_code));
        return match (id, code) {
            (Some(message_id), Some(status_code)) => Delivery::Receipt(ReceiptInfo {
                message_id,
                status_code,
            }),
            _ => Delivery::UnreadableReceipt(text),
        };
    }
    Delivery::Text {
        from: pdu.source_addr.as_str().to_string(),
        to: pdu.destination_addr.as_str().to_string(),
        text,
    }
}

/// A response PDU for `sequence` with `status` and no body (`generic_nack`, `*_resp`).
pub fn bare(status: u32, sequence: u32, pdu: Pdu) -> Command {
    Command::new(CommandStatus::from(status), sequence, pdu)
}

/// A PDU of `id` with `status` and no body at all (an error response: SMPP leaves out the
/// body of a response whose status is not 0).
pub fn header_only(id: CommandId, status: u32, sequence: u32) -> Command {
    Command::from_parts(rusmpp::command::CommandParts::new(
        id,
        CommandStatus::from(status),
        sequence,
        None,
    ))
}

/// The response id of a request id.
pub fn response_id(request: u32) -> u32 {
    request | 0x8000_0000
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn addressing() -> Addressing {
        Addressing {
            source_ton: 0,
            source_npi: 1,
            dest_ton: 1,
            dest_npi: 1,
            validity_minutes: 0,
            payload: false,
        }
    }

    #[test]
    fn receipt_text_is_read_with_any_case_and_field_order() {
        let r = parse_receipt_text(
            "id:0A1b sub:001 dlvrd:001 submit date:2611261600 done date:2611261601 stat:DELIVRD err:000 text:stat:UNDELIV id:x",
        )
        .expect("receipt");
        assert_eq!(r.message_id, "0A1b");
        assert_eq!(r.status_code, codes::DELIVERED);
        let r = parse_receipt_text("STAT:undeliv ID:77").expect("receipt");
        assert_eq!((r.message_id.as_str(), r.status_code), ("77", 4500));
        assert!(parse_receipt_text("hello id: stat:DELIVRD").is_none());
        assert!(parse_receipt_text("id:5 stat:WHATEVER").is_none());
        assert!(parse_receipt_text("subid:5 stat:DELIVRD").is_none());
    }

    #[test]
    fn every_receipt_state_of_the_contract_maps_to_its_code() {
        for (stat, code) in [
            ("ENROUTE", 3000),
            ("ACCEPTD", 3002),
            ("UNKNOWN", 3400),
            ("DELIVRD", 4000),
            ("UNDELIV", 4500),
            ("EXPIRED", 4501),
            ("DELETED", 4502),
            ("REJECTD", 4503),
        ] {
            assert_eq!(code_of_stat(stat), Some(code), "{stat}");
        }
        assert_eq!(code_of_state(MessageState::Delivered), Some(4000));
        assert_eq!(code_of_state(MessageState::Other(42)), None);
    }

    #[test]
    fn emoji_go_as_surrogate_pairs_in_utf16be() {
        let (octets, dc) = encode_text("hi 😀");
        assert_eq!(dc, DC_UCS2);
        assert_eq!(octets, [0, b'h', 0, b'i', 0, b' ', 0xD8, 0x3D, 0xDE, 0x00]);
        assert_eq!(decode_text(&octets, DC_UCS2), "hi 😀");
        let (octets, dc) = encode_text("a€");
        assert_eq!((octets, dc), (vec![0x61, 0x1b, 0x65], DC_GSM7));
        assert_eq!(decode_text(b"plain {ascii}", 0x01), "plain {ascii}");
        assert_eq!(decode_text(&[0x00, 0x1b, 0x28, 0x02], 0x01), "@{$");
    }

    #[test]
    fn long_texts_are_split_with_a_udh_per_part() {
        let text = format!("{}€{}", "a".repeat(152), "a".repeat(152));
        let pdus = submit_pdus("88976", "15555550100", &text, &addressing(), 7).expect("pdus");
        assert_eq!(pdus.len(), 3);
        let mut joined = String::new();
        for (i, p) in pdus.iter().enumerate() {
            assert_eq!(u8::from(p.esm_class) & ESM_UDHI, ESM_UDHI);
            let octets = p.short_message().as_ref();
            let (udh, rest) = split_udh(octets);
            assert_eq!(concat_info(udh.expect("udh")), Some((7, 3, (i + 1) as u8)));
            assert!(rest.len() <= 153);
            joined.push_str(&decode_text(rest, DC_GSM7));
        }
        assert_eq!(joined, text);
        let mut payload = addressing();
        payload.payload = true;
        let pdus = submit_pdus("88976", "15555550100", &text, &payload, 7).expect("pdus");
        assert_eq!(pdus.len(), 1);
        assert!(pdus[0].short_message().is_empty());
    }

    #[test]
    fn addresses_that_cannot_go_in_a_pdu_are_a_clear_error() {
        let err = submit_pdus("8897612345678901234567", "1555", "x", &addressing(), 0)
            .expect_err("too long");
        assert!(err.contains("source address"), "{err}");
    }

    #[test]
    fn relative_validity_has_sixteen_characters() {
        assert_eq!(relative_validity(90), "000000013000000R");
        assert_eq!(relative_validity(2 * 1440), "000002000000000R");
        assert_eq!(relative_validity(u32::MAX).len(), 16);
    }

    #[test]
    fn statuses_are_named_as_in_the_smpp_specification() {
        assert_eq!(status_name(0x58), "ESME_RTHROTTLED");
        assert_eq!(status_name(0x0B), "ESME_RINVDSTADR");
        assert_eq!(status_name(0x0ABC_0000), "0x0ABC0000");
        assert!(is_transient(0x58));
        assert!(is_transient(0x14));
        assert!(!is_transient(0x45));
        assert!(!is_transient(0x0B));
    }

    #[test]
    fn frames_refuse_lengths_outside_the_limits() {
        let mut src = BytesMut::from(&[0u8, 0, 0, 4, 0, 0, 0, 0][..]);
        assert!(Frames.decode(&mut src).is_err());
        let mut src = BytesMut::from(&[0u8, 0x10, 0, 0][..]);
        assert!(Frames.decode(&mut src).is_err());
        let command = Command::new(CommandStatus::EsmeRok, 9, Pdu::EnquireLink);
        let mut src = BytesMut::from(&encode(&command)[..]);
        src.extend_from_slice(&[0, 0]);
        let frame = Frames.decode(&mut src).expect("ok").expect("frame");
        assert_eq!(src.len(), 2);
        assert_eq!(decode(frame).expect("decoded"), command);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        /// No bytes from a peer can panic the framing or the PDU decoder.
        #[test]
        fn any_bytes_frame_and_decode_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let mut src = BytesMut::from(&bytes[..]);
            while let Ok(Some(frame)) = Frames.decode(&mut src) {
                let _ = header(&frame);
                if let Ok(Command { .. }) = decode(frame) {}
            }
        }

        /// A well-formed header followed by any body decodes or fails cleanly, whatever the
        /// command id: the decoder is reached for every PDU type.
        #[test]
        fn any_body_behind_a_valid_header_decodes_without_panic(
            id in prop_oneof![
                Just(0x0000_0004u32), Just(0x8000_0004), Just(0x0000_0005), Just(0x8000_0005),
                Just(0x0000_0009), Just(0x8000_0009), Just(0x0000_0002), Just(0x0000_0001),
                Just(0x0000_0015), Just(0x8000_0000), Just(0x0000_0103), any::<u32>()],
            status in prop_oneof![Just(0u32), any::<u32>()],
            body in proptest::collection::vec(any::<u8>(), 0..400),
        ) {
            let mut frame = BytesMut::new();
            frame.extend_from_slice(&((HEADER + body.len()) as u32).to_be_bytes());
            frame.extend_from_slice(&id.to_be_bytes());
            frame.extend_from_slice(&status.to_be_bytes());
            frame.extend_from_slice(&7u32.to_be_bytes());
            frame.extend_from_slice(&body);
            if let Ok(command) = decode(frame) {
                if let Some(Pdu::DeliverSm(d)) = command.pdu() {
                    let _ = read_deliver_sm(d);
                }
                let _ = submit_resp_id(&command);
            }
        }

        /// Receipt texts and texts in any coding never panic their readers.
        #[test]
        fn any_receipt_text_or_octets_read_without_panic(
            text in ".{0,300}",
            octets in proptest::collection::vec(any::<u8>(), 0..300),
            dc in any::<u8>(),
        ) {
            let _ = parse_receipt_text(&text);
            let _ = receipt_field(&text, "id");
            let _ = decode_text(&octets, dc);
            let (udh, _) = split_udh(&octets);
            if let Some(udh) = udh {
                let _ = concat_info(udh);
            }
        }

        /// Every text goes out in parts that decode back to it.
        #[test]
        fn submitted_parts_decode_back_to_the_text(text in "[a-z €😀Ωé{]{0,400}") {
            let pdus = submit_pdus("88976", "15555550100", &text, &addressing(), 1).expect("pdus");
            let mut joined = String::new();
            for p in &pdus {
                let octets = p.short_message().as_ref();
                let body = if u8::from(p.esm_class) & ESM_UDHI != 0 { split_udh(octets).1 } else { octets };
                joined.push_str(&decode_text(body, u8::from(p.data_coding)));
            }
            prop_assert_eq!(joined, text);
        }
    }
}

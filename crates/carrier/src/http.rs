//! HTTP messaging providers (API.md §8 `type = "http"`), flavour `twilio`: one form-encoded
//! `POST {base}/2010-04-01/Accounts/{sid}/Messages.json` per text (To, From, Body, MediaUrl for
//! MMS, StatusCallback) with basic auth.
//!
//! At most once (API.md §8): a POST is not idempotent, so a request is never repeated once it
//! may have reached the provider. Only answers that prove the provider took nothing send the
//! recipient back to the queue (2600): a connection refused before any byte was written, 429,
//! and what the flavour documents as "not created, try again". Any other 4xx is a refusal of that
//! text (2500, with the provider's error). A 5xx, a timeout or a connection cut after the request
//! was written may come after the provider created the message: that recipient is 3400 Unknown,
//! never resent unless `on_unacknowledged = "resend"`. After a fault the carrier pauses (backoff
//! from 1 s doubling to 60 s, or the provider's `Retry-After`): the submissions of the batch not
//! yet written go back to the queue untouched and the engine claims nothing for it until then.
//! Status callbacks are verified with the `X-Twilio-Signature` HMAC-SHA1 of the callback URL and
//! the sorted form fields, keyed with the auth token.

use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use domain::codes;
use futures::StreamExt;
use hmac::{Hmac, Mac};
use serde::Deserialize;

use crate::smpp::OnUnacknowledged;
use crate::{
    CallbackError, Carrier, CarrierEvent, EventSink, Handover, StatusCallbacks, Submission,
    SubmitOutcome,
};

/// The keys of an `[[carriers]] type = "http"` entry (docs/carriers.md).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSettings {
    /// Only `"twilio"` so far.
    #[serde(default = "twilio", alias = "flavour")]
    pub flavor: String,
    pub base_url: String,
    pub account_sid: String,
    pub auth_token: String,
    /// Where the provider posts status callbacks (`…/carriers/{name}/status`); also the URL
    /// their signature covers. Absent: no callbacks are asked for per message, and callbacks
    /// are checked against the server's public URL.
    #[serde(default)]
    pub status_callback_url: Option<String>,
    #[serde(default)]
    pub rate_limit: u32,
    /// Requests in flight at once [16].
    #[serde(default = "sixteen")]
    pub concurrency: usize,
    /// Per request [30].
    #[serde(default = "thirty")]
    pub timeout_secs: u64,
    #[serde(default)]
    pub on_unacknowledged: OnUnacknowledged,
}

fn twilio() -> String {
    "twilio".into()
}
fn sixteen() -> usize {
    16
}
fn thirty() -> u64 {
    30
}

impl std::fmt::Debug for HttpSettings {
    /// The auth token never appears in logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpSettings")
            .field("flavor", &self.flavor)
            .field("base_url", &self.base_url)
            .field("account_sid", &self.account_sid)
            .field("auth_token", &"<redacted>")
            .field("status_callback_url", &self.status_callback_url)
            .field("rate_limit", &self.rate_limit)
            .field("concurrency", &self.concurrency)
            .field("timeout_secs", &self.timeout_secs)
            .field("on_unacknowledged", &self.on_unacknowledged)
            .finish()
    }
}

/// The pause after a fault starts at this and doubles up to `PAUSE_MAX` while faults go on.
const PAUSE_FIRST: Duration = Duration::from_secs(1);
const PAUSE_MAX: Duration = Duration::from_secs(60);
/// A provider's `Retry-After` is honoured up to this long.
const RETRY_AFTER_MAX: Duration = Duration::from_secs(300);
/// Connecting may take at most this long (or the request timeout, when shorter): a connection
/// that never came up wrote nothing, so its text can go back to the queue.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// While the carrier pauses after a fault, and how long the next pause lasts.
struct Pause {
    until: Option<tokio::time::Instant>,
    next: Duration,
}

pub struct TwilioCarrier {
    name: String,
    settings: HttpSettings,
    messages_url: String,
    client: reqwest::Client,
    events: EventSink,
    response_seconds: metrics::Histogram,
    pause: std::sync::Mutex<Pause>,
}

/// The provider's JSON answer (only what we read).
#[derive(Deserialize)]
struct MessageResource {
    sid: Option<String>,
}

#[derive(Deserialize)]
struct ErrorResource {
    code: Option<ErrorCode>,
    message: Option<String>,
}

/// A provider's error code: a number (Twilio's `21211`) or, from some providers, a string.
#[derive(Deserialize)]
#[serde(untagged)]
enum ErrorCode {
    Number(serde_json::Number),
    Text(String),
    /// Anything else is not shown (the message still is).
    Other(serde::de::IgnoredAny),
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ErrorCode::Number(n) => write!(f, "{n}"),
            // Quoted, as the code was shown before.
            ErrorCode::Text(s) => write!(f, "{s:?}"),
            ErrorCode::Other(_) => Ok(()),
        }
    }
}

/// A `From` for the provider: a long code in E.164 (`+` and digits), a short code or a
/// sender id as it is.
fn from_address(code: &str) -> String {
    if code.len() > 8 && code.bytes().all(|b| b.is_ascii_digit()) {
        format!("+{code}")
    } else {
        code.to_string()
    }
}

impl TwilioCarrier {
    pub fn new(
        name: impl Into<String>,
        settings: HttpSettings,
        events: EventSink,
    ) -> Result<TwilioCarrier, String> {
        if settings.flavor != "twilio" {
            return Err(format!(
                "flavor {:?} is not supported (\"twilio\")",
                settings.flavor
            ));
        }
        let base = url::Url::parse(&settings.base_url)
            .map_err(|_| format!("base_url {:?} isn't a URL", settings.base_url))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err("base_url must be http(s)://…".into());
        }
        if settings.account_sid.is_empty() || settings.auth_token.is_empty() {
            return Err("account_sid and auth_token must not be empty".into());
        }
        let messages_url = format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            settings.base_url.trim_end_matches('/'),
            percent_encoding::utf8_percent_encode(
                &settings.account_sid,
                percent_encoding::NON_ALPHANUMERIC
            )
        );
        let timeout = Duration::from_secs(settings.timeout_secs.max(1));
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(CONNECT_TIMEOUT))
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        let name: String = name.into();
        Ok(TwilioCarrier {
            response_seconds: crate::telemetry::response_histogram(&name),
            name,
            settings,
            messages_url,
            client,
            events,
            pause: std::sync::Mutex::new(Pause {
                until: None,
                next: PAUSE_FIRST,
            }),
        })
    }

    fn pause_state(&self) -> std::sync::MutexGuard<'_, Pause> {
        self.pause.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Pauses the carrier after a fault: for `retry_after` when the provider said, else for the
    /// current backoff, which doubles.
    fn pause_after_fault(&self, retry_after: Option<Duration>) {
        let mut pause = self.pause_state();
        let wait = match retry_after {
            Some(wait) => wait.min(RETRY_AFTER_MAX),
            None => {
                let wait = pause.next;
                pause.next = (pause.next * 2).min(PAUSE_MAX);
                wait
            }
        };
        let until = tokio::time::Instant::now() + wait;
        pause.until = Some(pause.until.map_or(until, |u| u.max(until)));
        tracing::warn!(carrier = %self.name, pause_ms = wait.as_millis() as u64,
            "pausing the carrier after a fault");
    }

    /// An accepted text: the next fault pauses briefly again.
    fn recovered(&self) {
        self.pause_state().next = PAUSE_FIRST;
    }

    fn paused(&self) -> bool {
        self.pause_state()
            .until
            .is_some_and(|until| tokio::time::Instant::now() < until)
    }

    /// One text: written only with the hand-over's leave and while the carrier is not paused;
    /// its answer classified as the module docs say.
    async fn submit_one(&self, s: Submission, handover: &Handover) {
        if handover.is_stopping() || self.paused() {
            return; // not written: back to the queue untouched
        }
        if !handover.clear_one(s.id).await {
            return;
        }
        let answer = |status_code: i32, id: Option<String>, note: Option<String>| {
            handover.answer(SubmitOutcome {
                id: s.id,
                status_code,
                carrier_message_id: id,
                note,
            })
        };
        if self.paused() {
            // Another request of the batch hit a fault while this one waited for leave.
            return answer(codes::QUEUED, None, None);
        }
        let to = format!("+{}", s.to);
        let from = from_address(&s.from);
        let mut form: Vec<(&str, &str)> = vec![("To", &to), ("From", &from), ("Body", &s.text)];
        if let Some(url) = &s.content_url {
            form.push(("MediaUrl", url));
        }
        if let Some(cb) = &self.settings.status_callback_url {
            form.push(("StatusCallback", cb));
        }
        let resend = self.settings.on_unacknowledged == OnUnacknowledged::Resend;
        let asked = tokio::time::Instant::now();
        let sent = self
            .client
            .post(&self.messages_url)
            .basic_auth(&self.settings.account_sid, Some(&self.settings.auth_token))
            .form(&form)
            .send()
            .await;
        let resp = match sent {
            Err(e) if e.is_connect() => {
                self.pause_after_fault(None);
                return answer(
                    codes::THROTTLED,
                    None,
                    Some(format!(
                        "Could not connect to the provider ({e}); queued again."
                    )),
                );
            }
            Err(e) => {
                self.pause_after_fault(None);
                let why = if e.is_timeout() {
                    "no answer in time".to_string()
                } else {
                    format!("the request failed: {e}")
                };
                if resend {
                    return answer(
                        codes::THROTTLED,
                        None,
                        Some(format!(
                            "The provider did not answer ({why}); resent later."
                        )),
                    );
                }
                return answer(
                    codes::UNKNOWN,
                    None,
                    Some(format!("The provider did not answer ({why}); not resent.")),
                );
            }
            Ok(resp) => resp,
        };
        self.response_seconds.record(asked.elapsed());
        let status = resp.status();
        if status.is_success() {
            self.recovered();
            let body = resp.bytes().await.unwrap_or_default();
            let sid = serde_json::from_slice::<MessageResource>(&body)
                .ok()
                .and_then(|m| m.sid)
                .filter(|s| !s.is_empty());
            let note = sid
                .is_none()
                .then(|| "The provider accepted the text without a message sid.".to_string());
            return answer(codes::DELIVERED_TO_AGGREGATOR, sid, note);
        }
        if not_created(status) {
            let retry_after = resp
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            self.pause_after_fault(retry_after);
            return answer(
                codes::THROTTLED,
                None,
                Some(format!("The provider answered {status}; queued again.")),
            );
        }
        if status.is_server_error() {
            self.pause_after_fault(None);
            if resend {
                return answer(
                    codes::THROTTLED,
                    None,
                    Some(format!("The provider answered {status}; resent later.")),
                );
            }
            return answer(
                codes::UNKNOWN,
                None,
                Some(format!(
                    "The provider answered {status} after the request was written; delivery \
                     unknown, not resent."
                )),
            );
        }
        let body = resp.bytes().await.unwrap_or_default();
        let detail = serde_json::from_slice::<ErrorResource>(&body)
            .ok()
            .map(|e| {
                let code = e.code.map(|c| c.to_string()).unwrap_or_default();
                let message = e.message.unwrap_or_default();
                format!(" (error {code}: {message})")
            })
            .unwrap_or_default();
        answer(
            codes::FAILED_TO_AGGREGATOR,
            None,
            Some(format!(
                "Refused by the provider: HTTP {}{detail}.",
                status.as_u16()
            )),
        )
    }
}

/// The answers the flavour documents as "not created, try again" (API.md §8): for `twilio`
/// (the only flavour so far), 429 Too Many Requests (its error 20429).
fn not_created(status: reqwest::StatusCode) -> bool {
    status == reqwest::StatusCode::TOO_MANY_REQUESTS
}

#[async_trait]
impl Carrier for TwilioCarrier {
    fn name(&self) -> &str {
        &self.name
    }

    fn supports_media(&self) -> bool {
        true
    }

    fn rate_limit(&self) -> u32 {
        self.settings.rate_limit
    }

    fn available(&self) -> bool {
        !self.paused()
    }

    async fn submit(&self, batch: Vec<Submission>, handover: &Handover) {
        futures::stream::iter(batch)
            .for_each_concurrent(self.settings.concurrency.max(1), |s| {
                self.submit_one(s, handover)
            })
            .await
    }
}

/// The standard code of a Twilio message status; `None` for the states before sending.
pub fn code_of_status(status: &str) -> Option<i32> {
    Some(match status.to_ascii_lowercase().as_str() {
        "sending" => codes::ENROUTE,
        "sent" => codes::SENT_TO_CARRIER,
        "delivered" | "read" => codes::DELIVERED,
        "undelivered" => codes::UNDELIVERABLE,
        "failed" => codes::FAILED_TO_AGGREGATOR,
        "canceled" => codes::DELETED,
        _ => return None,
    })
}

/// `X-Twilio-Signature`: base64 HMAC-SHA1, keyed with the auth token, of the URL followed by
/// every form field's name and value, sorted by name (then value).
pub fn signature(auth_token: &str, url: &str, fields: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = fields.iter().collect();
    sorted.sort();
    let Ok(mut mac) = Hmac::<sha1::Sha1>::new_from_slice(auth_token.as_bytes()) else {
        return String::new();
    };
    mac.update(url.as_bytes());
    for (k, v) in sorted {
        mac.update(k.as_bytes());
        mac.update(v.as_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Checks a signature in constant time.
fn verify(auth_token: &str, url: &str, fields: &[(String, String)], given: &str) -> bool {
    let Ok(given) = base64::engine::general_purpose::STANDARD.decode(given.trim()) else {
        return false;
    };
    let mut sorted: Vec<&(String, String)> = fields.iter().collect();
    sorted.sort();
    let Ok(mut mac) = Hmac::<sha1::Sha1>::new_from_slice(auth_token.as_bytes()) else {
        return false;
    };
    mac.update(url.as_bytes());
    for (k, v) in sorted {
        mac.update(k.as_bytes());
        mac.update(v.as_bytes());
    }
    mac.verify_slice(&given).is_ok()
}

/// Reads a form-encoded body into fields.
pub fn form_fields(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

impl StatusCallbacks for TwilioCarrier {
    fn status_callback(
        &self,
        public_url: &str,
        signature: Option<&str>,
        body: &[u8],
    ) -> Result<bool, CallbackError> {
        let fields = form_fields(body);
        let url = self
            .settings
            .status_callback_url
            .as_deref()
            .unwrap_or(public_url);
        let signed =
            signature.is_some_and(|sig| verify(&self.settings.auth_token, url, &fields, sig));
        if !signed {
            return Err(CallbackError::BadSignature);
        }
        let field = |name: &str| {
            fields
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let sid = field("MessageSid")
            .or_else(|| field("SmsSid"))
            .filter(|s| !s.is_empty())
            .ok_or_else(|| CallbackError::Malformed("MessageSid is missing".into()))?;
        let status = field("MessageStatus")
            .or_else(|| field("SmsStatus"))
            .ok_or_else(|| CallbackError::Malformed("MessageStatus is missing".into()))?;
        let Some(code) = code_of_status(status) else {
            return Ok(false);
        };
        self.events
            .try_send(CarrierEvent::Receipt {
                carrier: self.name.clone(),
                message_id: sid.to_string(),
                status_code: code,
            })
            .map_err(|_| CallbackError::Unavailable)?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn signature_matches_the_providers_documented_example() {
        // The example from the provider's webhook-security documentation.
        let fields: Vec<(String, String)> = [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let sig = signature(
            "12345",
            "https://mycompany.com/myapp.php?foo=1&bar=2",
            &fields,
        );
        // As the provider documents it, and as an independent HMAC-SHA1 computes it.
        assert_eq!(sig, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
        assert!(verify(
            "12345",
            "https://mycompany.com/myapp.php?foo=1&bar=2",
            &fields,
            &sig
        ));
        assert!(!verify(
            "12346",
            "https://mycompany.com/myapp.php?foo=1&bar=2",
            &fields,
            &sig
        ));
    }

    #[test]
    fn statuses_map_to_standard_codes() {
        assert_eq!(code_of_status("delivered"), Some(4000));
        assert_eq!(code_of_status("undelivered"), Some(4500));
        assert_eq!(code_of_status("failed"), Some(2500));
        assert_eq!(code_of_status("sent"), Some(3001));
        assert_eq!(code_of_status("queued"), None);
    }

    #[test]
    fn long_codes_get_a_plus() {
        assert_eq!(from_address("15555550100"), "+15555550100");
        assert_eq!(from_address("88976"), "88976");
        assert_eq!(from_address("Acme"), "Acme");
    }

    fn carrier() -> (TwilioCarrier, crate::EventSource) {
        let (tx, rx) = crate::event_channel();
        let settings = HttpSettings {
            flavor: "twilio".into(),
            base_url: "http://127.0.0.1:9".into(),
            account_sid: "AC1".into(),
            auth_token: "tok".into(),
            status_callback_url: Some("https://t.example/carriers/p/status".into()),
            rate_limit: 0,
            concurrency: 4,
            timeout_secs: 5,
            on_unacknowledged: OnUnacknowledged::Unknown,
        };
        (TwilioCarrier::new("p", settings, tx).expect("carrier"), rx)
    }

    #[test]
    fn the_auth_token_is_never_in_debug_output() {
        let (c, _rx) = carrier();
        let shown = format!("{:?}", c.settings);
        assert!(
            !shown.contains("tok\"") && shown.contains("<redacted>"),
            "{shown}"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        /// No callback body or signature header can panic the callback path.
        #[test]
        fn any_callback_body_is_handled_without_panic(
            body in proptest::collection::vec(any::<u8>(), 0..400),
            sig in proptest::option::of(".{0,40}"),
        ) {
            let (c, _rx) = carrier();
            let _ = c.status_callback("https://x/", sig.as_deref(), &body);
        }

        /// A correctly signed callback with any fields is accepted or refused as malformed,
        /// never panics; a flipped signature is always refused.
        #[test]
        fn signed_callbacks_verify_and_tampered_ones_never(
            sid in "[A-Za-z0-9]{0,34}",
            status in "[a-z]{0,12}",
            extra in ".{0,30}",
        ) {
            let (c, mut rx) = carrier();
            let fields = vec![
                ("MessageSid".to_string(), sid.clone()),
                ("MessageStatus".to_string(), status.clone()),
                ("Extra".to_string(), extra.clone()),
            ];
            let body = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(fields.iter())
                .finish();
            let url = "https://t.example/carriers/p/status";
            let sig = signature("tok", url, &fields);
            let result = c.status_callback("ignored", Some(&sig), body.as_bytes());
            prop_assert!(!matches!(result, Err(CallbackError::BadSignature)));
            if let Ok(true) = result {
                let event = rx.try_recv();
                prop_assert!(event.is_ok());
            }
            let mut bad = sig.into_bytes();
            bad[0] = if bad[0] == b'A' { b'B' } else { b'A' };
            let bad = String::from_utf8(bad).unwrap_or_default();
            prop_assert!(matches!(
                c.status_callback("ignored", Some(&bad), body.as_bytes()),
                Err(CallbackError::BadSignature)
            ));
        }
    }
}

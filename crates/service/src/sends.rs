//! Sends: accepting a list send (API.md §4) or a contact send (§6 messageContact) under an
//! optional idempotency key, and what a send reports — its status document (§5) and a number's
//! history with it.

use std::collections::{HashMap, HashSet};

use domain::{
    ContactMessageFacts, EncodedId, ExclusionChoice, MessageFacts, SendContactRequest,
    SendListRequest, TargetChoice, TokenId,
};
use store::{
    codes, ContactAudience, ContactNumber, ContactSubscribe, CreatedSend, HistoryEntry,
    Idempotency, NewSend, Outcome, Send, SendCounts, SendKind, StoreError, TrackingRow,
};

use crate::{Caller, Service, ServiceError, ServiceResult};

/// An `Idempotency-Key` and what identifies "the same request" under it (API.md §4).
#[derive(Debug, Clone)]
pub struct IdempotentRequest {
    pub key: String,
    /// A hash of the request as the client sent it.
    pub request_hash: String,
}

/// A page of a send's tracking (API.md §5 `$page`, `$pageSize`).
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub number: u32,
    pub size: u32,
}

/// A send's status (API.md §5): the send, its counts, a page of tracking and when it may go next.
#[derive(Debug, Clone)]
pub struct SendReport {
    pub send: Send,
    pub counts: SendCounts,
    pub tracking: Vec<TrackingRow>,
    pub next_at: Option<i64>,
    pub page: Page,
}

/// A tracking entry's short status and description (API.md §5; a 1501 says why, §1).
pub fn describe(row: &TrackingRow) -> (&'static str, &str) {
    match row.outcome {
        Some(Outcome::Suppressed) => ("Suppressed", "Not subscribed on the code: not sent"),
        Some(Outcome::Canceled) => ("Canceled", "Send canceled before hand-off"),
        None => codes::describe_recipient(row.status_code, row.note.as_deref()),
    }
}

fn key_reused() -> ServiceError {
    ServiceError::Conflict("Idempotency-Key was already used with a different request.".into())
}

/// When a send is due and the window it keeps: `SendTime` (never in the past), moved to the
/// end of the blackout window when it falls inside it.
fn schedule(
    window: Option<domain::BlackoutWindow>,
    send_time: Option<i64>,
    now: i64,
) -> (Option<domain::BlackoutWindow>, i64) {
    let window = window.filter(|w| !w.is_none());
    let start = send_time.map_or(now, |t| t.max(now));
    let due_at = window.and_then(|w| w.deferral(start)).unwrap_or(start);
    (window, due_at)
}

impl Service {
    /// A retry under a key the client used for the same account within 24 hours answers as the
    /// original did (even if the request would no longer validate), or 409 when the request
    /// differs. `None`: no earlier send, go on.
    async fn replay(
        &self,
        caller: &Caller,
        idempotency: Option<&IdempotentRequest>,
    ) -> ServiceResult<Option<String>> {
        let Some(req) = idempotency else {
            return Ok(None);
        };
        match self
            .store()
            .find_idempotent_send(&caller.account_id, &caller.client_id, &req.key, self.now())
            .await?
        {
            Some((earlier, hash)) if hash == req.request_hash => Ok(Some(earlier.token)),
            Some(_) => Err(key_reused()),
            None => Ok(None),
        }
    }

    /// The account's message the path names; `None` for a malformed or unknown ID (the
    /// request's validation reports it).
    async fn path_message(
        &self,
        account_id: &str,
        path_id: &str,
    ) -> ServiceResult<Option<store::Message>> {
        let Some(id) = EncodedId::parse(path_id) else {
            return Ok(None);
        };
        match self.store().get_message(account_id, id.as_str()).await {
            Ok(m) => Ok(Some(m)),
            Err(StoreError::NotFound) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The token of a recorded send (waking the engine for a new one), the earlier send's token
    /// for a concurrent retry of the same request, 409 for a different one.
    pub(crate) fn answer(&self, created: CreatedSend, request_hash: &str) -> ServiceResult<String> {
        match created {
            CreatedSend::Created(send) => {
                self.inner.waker.notify_waiters();
                Ok(send.token)
            }
            CreatedSend::Existing {
                send,
                request_hash: earlier,
            } if earlier == request_hash => Ok(send.token),
            CreatedSend::Existing { .. } => Err(key_reused()),
        }
    }

    /// A new send of `caller`'s account, as `NewSend` needs it.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new_send(
        &self,
        caller: &Caller,
        kind: SendKind,
        message: &store::Message,
        text: String,
        content_url: Option<String>,
        window: Option<domain::BlackoutWindow>,
        send_time: Option<i64>,
        idempotency: Option<IdempotentRequest>,
    ) -> ServiceResult<NewSend> {
        let message_id = EncodedId::parse(&message.id).ok_or_else(|| {
            ServiceError::internal(format!("stored message ID {:?} is malformed", message.id))
        })?;
        let info = domain::text::analyze(&text);
        let now = self.now();
        let (window, due_at) = schedule(window, send_time, now);
        Ok(NewSend {
            token: domain::mint_token(),
            account_id: caller.account_id.clone(),
            client_id: Some(caller.client_id.clone()),
            kind,
            message_id,
            code: message.code.clone(),
            text,
            content_url,
            target_list_ids: Vec::new(),
            exclusion_list_ids: Vec::new(),
            allow_duplication: false,
            window,
            send_time,
            due_at,
            segments: i32::try_from(info.segments).unwrap_or(i32::MAX),
            encoding: info.encoding,
            created_at: now,
            idempotency: idempotency.map(|i| Idempotency {
                client_id: caller.client_id.clone(),
                key: i.key,
                request_hash: i.request_hash,
            }),
        })
    }

    /// `POST /sms/v1/messageList/{id}/send` (API.md §4): validates the request against the
    /// message and lists it names and records the send; its token.
    pub async fn accept_list_send(
        &self,
        caller: &Caller,
        message_id: &str,
        request: &SendListRequest,
        idempotency: Option<IdempotentRequest>,
    ) -> ServiceResult<String> {
        if let Some(token) = self.replay(caller, idempotency.as_ref()).await? {
            return Ok(token);
        }
        let message = self.path_message(&caller.account_id, message_id).await?;
        let facts = message.as_ref().map(|m| MessageFacts {
            can_send: m.status.can_send(),
            has_default_targets: !m.target_list_ids.is_empty(),
            text_is_blank: m.text.trim().is_empty(),
        });
        let wanted = request.list_ids_to_resolve();
        let resolved = if wanted.is_empty() {
            Vec::new()
        } else {
            self.store()
                .resolve_lists(&caller.account_id, &wanted)
                .await?
        };
        let canonical: HashMap<String, String> = wanted
            .into_iter()
            .zip(resolved)
            .filter_map(|(given, found)| found.map(|c| (given, c)))
            .collect();
        let valid = request
            .validate(message_id, facts, &|id| canonical.contains_key(id))
            .map_err(ServiceError::Invalid)?;
        let Some(message) = message else {
            return Err(ServiceError::internal("validated send without a message"));
        };
        let pick = |ids: &[String]| -> Vec<String> {
            let mut out: Vec<String> = Vec::with_capacity(ids.len());
            for id in ids {
                let c = canonical.get(id).cloned().unwrap_or_else(|| id.clone());
                if !out.iter().any(|o| o.eq_ignore_ascii_case(&c)) {
                    out.push(c);
                }
            }
            out
        };
        let target_list_ids = match &valid.target {
            TargetChoice::MessageDefaults => message.target_list_ids.clone(),
            TargetChoice::Override(ids) => pick(ids),
        };
        let exclusion_list_ids = match &valid.exclusion {
            ExclusionChoice::MessageDefaults => message.exclusion_list_ids.clone(),
            ExclusionChoice::Override(ids) => pick(ids),
            ExclusionChoice::Ignore => Vec::new(),
        };
        let text = valid
            .override_text
            .clone()
            .unwrap_or_else(|| message.text.clone());
        let content_url = valid
            .content_url
            .clone()
            .or_else(|| message.content_url.clone());
        let request_hash = idempotency
            .as_ref()
            .map(|i| i.request_hash.clone())
            .unwrap_or_default();
        let mut new = self.new_send(
            caller,
            SendKind::List,
            &message,
            text,
            content_url,
            valid.window,
            valid.send_time,
            idempotency,
        )?;
        new.target_list_ids = target_list_ids;
        new.exclusion_list_ids = exclusion_list_ids;
        new.allow_duplication = valid.allow_duplication;
        let created = self.store().create_send(new).await?;
        self.answer(created, &request_hash)
    }

    /// The account's keyword `word` on the code with code string `code`, matched as the store
    /// matches them (the code string ignoring ASCII case, the word ignoring case beyond ASCII).
    pub async fn keyword_on_code(
        &self,
        account_id: &str,
        code: &str,
        word: &str,
    ) -> ServiceResult<Option<store::Keyword>> {
        let word = word.trim().to_lowercase();
        Ok(self
            .store()
            .list_keywords(account_id)
            .await?
            .into_iter()
            .find(|k| k.code.eq_ignore_ascii_case(code) && k.keyword.to_lowercase() == word))
    }

    /// `POST /sms/v1/messageContact/{id}/send` (API.md §6): validates, renders each number's
    /// text once, here, and records the send with its numbers; its token.
    pub async fn accept_contact_send(
        &self,
        caller: &Caller,
        message_id: &str,
        request: &SendContactRequest,
        idempotency: Option<IdempotentRequest>,
    ) -> ServiceResult<String> {
        if let Some(token) = self.replay(caller, idempotency.as_ref()).await? {
            return Ok(token);
        }
        let message = self.path_message(&caller.account_id, message_id).await?;
        let keyword = match (&message, request.keyword()) {
            (Some(m), Some(k)) => self.keyword_on_code(&caller.account_id, &m.code, k).await?,
            _ => None,
        };
        let facts = message.as_ref().map(|m| ContactMessageFacts {
            can_send: m.status.can_send(),
            text_is_blank: m.text.trim().is_empty(),
            keyword_on_code: keyword.is_some(),
        });
        let valid = request
            .validate(message_id, facts)
            .map_err(ServiceError::Invalid)?;
        let Some(message) = message else {
            return Err(ServiceError::internal("validated send without a message"));
        };
        let template = valid
            .override_text
            .clone()
            .unwrap_or_else(|| message.text.clone());
        // Placeholders take the request's attributes, then the contact's (API.md §4.3): the
        // stored contacts are read in one go, only when the text has placeholders.
        let mut stored: HashMap<String, store::Attributes> = HashMap::new();
        if template.contains("%%") {
            let wanted: Vec<String> = valid
                .addressees
                .iter()
                .map(|a| a.mobile_number.as_str().to_string())
                .collect();
            for c in self
                .store()
                .contacts_of(&caller.account_id, &wanted)
                .await?
            {
                stored.insert(c.mobile_number, c.attributes);
            }
        }
        let mut seen: HashSet<&str> = HashSet::new();
        let mut numbers: Vec<ContactNumber> = Vec::with_capacity(valid.addressees.len());
        for a in &valid.addressees {
            let number = a.mobile_number.as_str();
            if !seen.insert(number) {
                continue;
            }
            let stored = stored.get(number);
            // Rendered once, here, at acceptance. Over 1,600 characters (API.md §1): no text is
            // kept; the number becomes a 1501 recipient and is never sent.
            let text = domain::substitute_within(
                &template,
                &|name| {
                    a.attributes
                        .iter()
                        .chain(stored)
                        .flat_map(|attrs| attrs.iter())
                        .find(|(k, _)| k.eq_ignore_ascii_case(name))
                        .map(|(_, v)| match v {
                            serde_json::Value::String(s) => s.clone(),
                            other => other.to_string(),
                        })
                },
                domain::limits::MAX_TEXT_CHARS,
            );
            numbers.push(ContactNumber {
                mobile_number: number.to_string(),
                subscriber_key: a.subscriber_key.clone(),
                text,
            });
        }
        let subscribe = keyword
            .filter(|_| valid.subscribe || valid.resubscribe)
            .map(|k| ContactSubscribe {
                keyword: k.keyword,
                subscribe: valid.subscribe,
                resubscribe: valid.resubscribe,
            });
        let content_url = valid
            .content_url
            .clone()
            .or_else(|| message.content_url.clone());
        let request_hash = idempotency
            .as_ref()
            .map(|i| i.request_hash.clone())
            .unwrap_or_default();
        let new = self.new_send(
            caller,
            SendKind::Contact,
            &message,
            template,
            content_url,
            valid.window,
            valid.send_time,
            idempotency,
        )?;
        let created = self
            .store()
            .create_contact_send(new, ContactAudience { numbers, subscribe })
            .await?;
        self.answer(created, &request_hash)
    }

    /// The send of kind `kind` that `{id}` and `{tokenId}` of a deliveries path name, with the
    /// §5 messages after `earlier` (the adapter's own, such as paging).
    pub async fn delivery_send(
        &self,
        caller: &Caller,
        kind: SendKind,
        message_id: &str,
        token: &str,
        earlier: Vec<String>,
    ) -> ServiceResult<Send> {
        let mut errors = Vec::new();
        if EncodedId::parse(message_id).is_none() {
            errors.push(format!("Message id {message_id} isn't valid."));
        }
        if TokenId::parse(token).is_none() {
            errors.push(format!("Token id {token} isn't valid."));
        }
        errors.extend(earlier);
        ServiceError::check(errors)?;
        let send = match self.store().get_send(&caller.account_id, token).await {
            Ok(s) if s.kind == kind => s,
            Ok(_) | Err(StoreError::NotFound) => {
                return Err(ServiceError::invalid(format!(
                    "Token id {token} isn't valid for this client."
                )))
            }
            Err(e) => return Err(e.into()),
        };
        if !send.message_id.eq_ignore_ascii_case(message_id) {
            return Err(ServiceError::invalid(format!(
                "TokenId {token} isn't valid for MessageId {message_id}."
            )));
        }
        Ok(send)
    }

    /// The status of a send (API.md §5): counts, one page of tracking, when it may go next.
    pub async fn send_report(&self, send: Send, page: Page) -> ServiceResult<SendReport> {
        let counts = self.store().send_counts(&send.token, self.now()).await?;
        let tracking = self
            .store()
            .tracking_page(&send.token, page.number, page.size)
            .await?;
        let next_at = self.store().send_next_at(&send.token).await?;
        Ok(SendReport {
            send,
            counts,
            tracking,
            next_at,
            page,
        })
    }

    /// `GET /sms/v1/messageContact/{id}/history/{tokenId}/mobileNumber/{mobileNumber}` (API.md
    /// §6): what the send texted the number and, since, what the number texted the code and the
    /// replies it got.
    pub async fn contact_history(
        &self,
        caller: &Caller,
        message_id: &str,
        token: &str,
        number: &str,
    ) -> ServiceResult<(Send, Vec<HistoryEntry>)> {
        let parsed = domain::MobileNumber::parse(number);
        let extra = match &parsed {
            Ok(_) => Vec::new(),
            Err(e) => vec![e.message(number)],
        };
        let send = self
            .delivery_send(caller, SendKind::Contact, message_id, token, extra)
            .await?;
        let parsed = parsed.map_err(|e| ServiceError::invalid(e.message(number)))?;
        let entries = self
            .store()
            .history(&caller.account_id, &send.token, Some(parsed.as_str()))
            .await?;
        Ok((send, entries))
    }
}

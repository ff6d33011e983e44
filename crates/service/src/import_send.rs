//! `POST /sms/v1/automation/importSend` (API.md §6b): import a file into a new list, subscribe
//! its numbers to a keyword on the message's code, and send the message to them — one durable
//! job (`jobs`), which survives a restart and records its send once. Its status, and its
//! delivery report (the send's, as messageList's).

use domain::{is_blank, EncodedId, TokenId};
use store::{
    ListJob, ListJobKind, ListJobState, NewList, NewListJob, SendKind, StoreError, SubscribeTo,
};

use crate::import::ImportMapping;
use crate::jobs::{open_import_file, Payload, SendAfterImport};
use crate::sends::IdempotentRequest;
use crate::{Caller, Service, ServiceError, ServiceResult};

/// `POST /sms/v1/automation/importSend` as read, with the messages reading it produced.
#[derive(Debug, Clone, Default)]
pub struct ImportSendRequest {
    pub message_id: Option<String>,
    pub keyword: Option<String>,
    pub override_text: Option<String>,
    /// `Override` as given.
    pub override_flag: Option<bool>,
    pub allow_duplication: bool,
    pub visible: bool,
    /// How many `ImportDefinition` entries were given.
    pub definitions: usize,
    pub import_type: Option<String>,
    pub file_name: Option<String>,
    pub mapping: Option<ImportMapping>,
    /// Messages of reading the request (API.md §1), first in the answer.
    pub problems: Vec<String>,
    /// Messages about the definition's mapping, after its type's.
    pub mapping_problems: Vec<String>,
}

/// An importSend as its status reads it.
#[derive(Debug, Clone)]
pub struct ImportSendStatus {
    pub job: ListJob,
    /// The imported file.
    pub source: String,
    /// The send's token, once the send is recorded (status Completed).
    pub send_token: Option<String>,
}

impl Service {
    /// `POST /sms/v1/automation/importSend`: checks everything (the file last), makes the list
    /// and records the job; its token and when it was accepted.
    pub async fn accept_import_send(
        &self,
        caller: &Caller,
        request: ImportSendRequest,
    ) -> ServiceResult<(String, i64)> {
        let mut errors = request.problems;
        let given_id = request.message_id.clone().unwrap_or_default();
        let message = match EncodedId::parse(&given_id) {
            None => {
                errors.push(format!("Message id {given_id} isn't valid."));
                None
            }
            Some(id) => match self
                .store()
                .get_message(&caller.account_id, id.as_str())
                .await
            {
                Ok(m) => Some(m),
                Err(StoreError::NotFound) => {
                    errors.push(format!("Message {given_id} isn't valid for the client."));
                    None
                }
                Err(e) => return Err(e.into()),
            },
        };
        if message.as_ref().is_some_and(|m| !m.status.can_send()) {
            errors.push("The Message must be in Active status in order to send.".to_string());
        }
        let word = request
            .keyword
            .as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty());
        let mut keyword = None;
        match (word, &message) {
            (None, _) => errors.push("Keyword can't be blank.".to_string()),
            (Some(k), Some(m)) => match self.keyword_on_code(&caller.account_id, &m.code, k).await?
            {
                Some(found) => keyword = Some(found),
                None => errors.push(format!(
                    "Keyword {k} isn't valid for the code on the message."
                )),
            },
            (Some(_), None) => {}
        }
        let overriding = request.override_flag == Some(true);
        if overriding && request.override_text.as_deref().is_none_or(is_blank) {
            errors.push("Cannot override message text with a blank message.".to_string());
        }
        if !overriding && request.override_text.is_some() {
            errors.push("OverrideText isn't applicable when Override is false.".to_string());
        }
        if request.definitions != 1 {
            errors.push("ImportDefinition must have exactly one entry.".to_string());
        } else {
            let unsupported = request
                .import_type
                .as_deref()
                .filter(|t| !t.trim().eq_ignore_ascii_case("FILE"));
            if let Some(t) = unsupported {
                // Tidings has no data extensions: nothing else of the definition applies.
                errors.push(format!("ImportType {t} isn't supported; use FILE."));
            } else {
                errors.extend(request.mapping_problems);
            }
            match request
                .file_name
                .as_deref()
                .filter(|f| !is_blank(f))
                .filter(|_| unsupported.is_none())
            {
                None if unsupported.is_some() => {}
                None => errors.push("File name can't be blank.".to_string()),
                Some(name) => {
                    let dir = self.folders().imports(&caller.account_id);
                    let name = name.to_string();
                    if let Err(m) =
                        tokio::task::spawn_blocking(move || open_import_file(&dir, &name).map(drop))
                            .await
                            .map_err(ServiceError::internal)?
                    {
                        errors.push(m);
                    }
                }
            }
        }
        let text = request.override_text.filter(|_| overriding);
        if let Some(m) = text
            .as_deref()
            .and_then(|t| domain::limits::check_text("MessageText", t))
        {
            errors.push(m);
        }
        ServiceError::check(errors)?;
        let (Some(message), Some(keyword), Some(file), Some(mapping)) =
            (message, keyword, request.file_name, request.mapping)
        else {
            return Err(ServiceError::internal(
                "validated importSend without its parts",
            ));
        };
        let now = self.now();
        let token = domain::mint_token();
        let list = self
            .store()
            .create_list(NewList {
                id: domain::mint_id(),
                account_id: caller.account_id.clone(),
                name: format!("importSend {file}"),
                created_at: now,
                hidden: !request.visible,
                counts_rows: request.allow_duplication,
            })
            .await?;
        let payload = Payload::ImportSend {
            file,
            mapping,
            subscribe: SubscribeTo {
                code: keyword.code.clone(),
                keyword: keyword.keyword.clone(),
            },
            send: SendAfterImport {
                token: domain::mint_token(),
                client_id: caller.client_id.clone(),
                message: message.id.clone(),
                text,
                allow_duplication: request.allow_duplication,
            },
        };
        self.store()
            .create_list_job(NewListJob {
                token: token.clone(),
                account_id: caller.account_id.clone(),
                list_id: Some(list.id),
                kind: ListJobKind::Import,
                state: ListJobState::Queued,
                publish_date: None,
                payload: payload.encode()?,
                created_at: now,
            })
            .await?;
        self.inner.waker.notify_waiters();
        Ok((token, now))
    }

    /// `GET /sms/v1/automation/importSend/{tokenId}/status`.
    pub async fn import_send_status(
        &self,
        caller: &Caller,
        token: &str,
    ) -> ServiceResult<ImportSendStatus> {
        if TokenId::parse(token).is_none() {
            return Err(ServiceError::invalid(format!(
                "Token id {token} isn't valid."
            )));
        }
        let not_ours =
            || ServiceError::invalid(format!("Token id {token} isn't valid for this client."));
        let job = match self.store().get_list_job(&caller.account_id, token).await {
            Ok(j) => j,
            Err(StoreError::NotFound) => return Err(not_ours()),
            Err(e) => return Err(e.into()),
        };
        let Ok(Payload::ImportSend { file, send, .. }) =
            serde_json::from_str::<Payload>(&job.payload)
        else {
            return Err(not_ours());
        };
        let send_token = (job.state == ListJobState::Completed).then_some(send.token);
        Ok(ImportSendStatus {
            job,
            source: file,
            send_token,
        })
    }

    /// `POST /sms/v1/automation/importSend/{tokenId}/deliveryReport`: as messageList's, for the
    /// importSend's send (409 while the send is not recorded yet).
    pub async fn import_send_delivery_report(
        &self,
        caller: &Caller,
        token: &str,
        file_name: Option<String>,
        earlier: Vec<String>,
    ) -> ServiceResult<String> {
        let status = self.import_send_status(caller, token).await?;
        let Some(send) = status.send_token else {
            return Err(ServiceError::Conflict(format!(
                "The send of importSend {token} isn't recorded yet."
            )));
        };
        let message = self
            .store()
            .get_send(&caller.account_id, &send)
            .await?
            .message_id;
        self.delivery_report(caller, &message, &send, file_name, earlier)
            .await?;
        Ok(token.to_string())
    }

    /// Records the importSend's send to the imported list, once (API.md §6b): a restart that
    /// records it again gets the first one back (the job's token is the idempotency key). Why
    /// it can't be sent, as the job's first error.
    pub(crate) async fn send_after_import(
        &self,
        job: &ListJob,
        list_id: &str,
        send: &SendAfterImport,
    ) -> Result<(), String> {
        let failed = |e: ServiceError| {
            tracing::error!(token = %job.token, error = %e, "importSend could not record its send");
            "The import is done; its send could not be recorded.".to_string()
        };
        let message = match self
            .store()
            .get_message(&job.account_id, &send.message)
            .await
        {
            Ok(m) if m.status.can_send() => m,
            Ok(_) => return Err("The Message must be in Active status in order to send.".into()),
            Err(StoreError::NotFound) => {
                return Err(format!(
                    "Message {} isn't valid for the client.",
                    send.message
                ))
            }
            Err(e) => return Err(failed(e.into())),
        };
        let caller = Caller {
            client_id: send.client_id.clone(),
            account_id: job.account_id.clone(),
            scopes: Vec::new(),
        };
        let text = send.text.clone().unwrap_or_else(|| message.text.clone());
        let idempotency = IdempotentRequest {
            key: format!("importSend:{}", job.token),
            request_hash: job.token.clone(),
        };
        let mut new = self
            .new_send(
                &caller,
                SendKind::List,
                &message,
                text,
                message.content_url.clone(),
                None,
                None,
                Some(idempotency),
            )
            .map_err(failed)?;
        new.token = send.token.clone();
        new.target_list_ids = vec![list_id.to_string()];
        new.allow_duplication = send.allow_duplication;
        let created = self
            .store()
            .create_send(new)
            .await
            .map_err(|e| failed(e.into()))?;
        self.answer(created, &job.token).map_err(failed)?;
        Ok(())
    }
}

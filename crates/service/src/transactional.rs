//! Transactional send definitions (API.md §9 "Definitions", "Listing"). The rules are
//! `domain::transactional`'s; this gathers the facts they need (the account's code and keyword)
//! and answers refusals as [`TxError`]s, the transactional routes' own error body.

use domain::transactional::{DefinitionFields, ListOrder, ListQuery, ListStatus, TxError};
use store::{
    Definition, DefinitionOrder, DefinitionPage, DefinitionPatch, DefinitionQuery,
    DefinitionStatus, StatusFilter, StoreError,
};

use crate::{Caller, Service, ServiceError, ServiceResult};

fn not_found(key: &str) -> ServiceError {
    ServiceError::Transactional(TxError::not_found(format!("definitionKey {key}")))
}

impl Service {
    /// The code (canonical string, country) and keyword (canonical spelling) a definition
    /// names, checked against the account's (API.md §9): the first failure in table order.
    async fn definition_code(
        &self,
        account_id: &str,
        short_code: &str,
        country: Option<&str>,
        keyword: &str,
    ) -> ServiceResult<(String, String)> {
        let code = match self.store().get_code(account_id, short_code).await {
            Ok(code) if code.code.eq_ignore_ascii_case(short_code.trim()) => Some(code),
            Ok(_) | Err(StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        };
        let found = match &code {
            Some(code) => self
                .store()
                .list_keywords(account_id)
                .await?
                .into_iter()
                .find(|k| k.code == code.code && k.keyword.eq_ignore_ascii_case(keyword.trim()))
                .map(|k| k.keyword),
            None => None,
        };
        DefinitionFields::check_code(
            code.as_ref().map(|c| c.country_code.as_str()),
            country,
            found.is_some(),
        )
        .map_err(ServiceError::Transactional)?;
        match (code, found) {
            (Some(code), Some(keyword)) => Ok((code.code, keyword)),
            _ => Err(ServiceError::internal(
                "checked definition code without its code",
            )),
        }
    }

    /// `POST /messaging/v1/sms/definitions`: the stored definition.
    pub async fn create_definition(
        &self,
        caller: &Caller,
        read: DefinitionFields,
    ) -> ServiceResult<Definition> {
        let (Some(key), Some(name), Some(message), Some(short_code), Some(keyword)) = (
            read.definition_key,
            read.name,
            read.message,
            read.short_code,
            read.keyword,
        ) else {
            return Err(ServiceError::internal(
                "a create read without its required fields",
            ));
        };
        let country = read.country_code.flatten();
        let (code, keyword) = self
            .definition_code(
                &caller.account_id,
                &short_code,
                country.as_deref(),
                &keyword,
            )
            .await?;
        let now = self.now();
        let created = self
            .store()
            .create_definition(Definition {
                account_id: caller.account_id.clone(),
                definition_id: domain::mint_key(),
                definition_key: key,
                name,
                description: read.description.flatten(),
                status: if read.active == Some(false) {
                    DefinitionStatus::Inactive
                } else {
                    DefinitionStatus::Active
                },
                message,
                short_code: code,
                country_code: country,
                keyword,
                auto_add_subscriber: read.auto_add_subscriber.unwrap_or(true),
                update_subscriber: read.update_subscriber.unwrap_or(true),
                created_at: now,
                modified_at: now,
            })
            .await;
        match created {
            Ok(definition) => Ok(definition),
            Err(StoreError::Conflict(_)) => Err(ServiceError::Transactional(
                TxError::already_exists("a definition with this definitionKey or name exists"),
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// `GET /messaging/v1/sms/definitions/{definitionKey}`.
    pub async fn get_definition(&self, caller: &Caller, key: &str) -> ServiceResult<Definition> {
        match self.store().get_definition(&caller.account_id, key).await {
            Err(StoreError::NotFound) => Err(not_found(key)),
            other => Ok(other?),
        }
    }

    /// `GET /messaging/v1/sms/definitions`.
    pub async fn list_definitions(
        &self,
        caller: &Caller,
        query: ListQuery,
    ) -> ServiceResult<DefinitionPage> {
        let status = |s: ListStatus| match s {
            ListStatus::Active => DefinitionStatus::Active,
            ListStatus::Inactive => DefinitionStatus::Inactive,
            ListStatus::Deleted => DefinitionStatus::Deleted,
        };
        let filter = match query.filter {
            None => StatusFilter::Any,
            Some((true, s)) => StatusFilter::Is(status(s)),
            Some((false, s)) => StatusFilter::IsNot(status(s)),
        };
        let order = match query.order {
            ListOrder::DefinitionKey => DefinitionOrder::DefinitionKey,
            ListOrder::Name => DefinitionOrder::Name,
            ListOrder::CreatedDate => DefinitionOrder::CreatedDate,
            ListOrder::ModifiedDate => DefinitionOrder::ModifiedDate,
            ListOrder::Status => DefinitionOrder::Status,
        };
        Ok(self
            .store()
            .list_definitions(
                &caller.account_id,
                &DefinitionQuery {
                    filter,
                    order,
                    descending: query.descending,
                    page: query.page,
                    page_size: query.page_size,
                },
            )
            .await?)
    }

    /// `PATCH /messaging/v1/sms/definitions/{definitionKey}`: partial; a changed code or
    /// keyword is checked as on create, with the stored values for the fields not given.
    pub async fn update_definition(
        &self,
        caller: &Caller,
        key: &str,
        read: DefinitionFields,
    ) -> ServiceResult<Definition> {
        let stored = self.get_definition(caller, key).await?;
        let mut patch = DefinitionPatch {
            name: read.name,
            description: read.description,
            status: read.active.map(|active| {
                if active {
                    DefinitionStatus::Active
                } else {
                    DefinitionStatus::Inactive
                }
            }),
            message: read.message,
            short_code: None,
            country_code: read.country_code.clone(),
            keyword: None,
            auto_add_subscriber: read.auto_add_subscriber,
            update_subscriber: read.update_subscriber,
        };
        if read.short_code.is_some() || read.keyword.is_some() || read.country_code.is_some() {
            let short_code = read.short_code.unwrap_or(stored.short_code);
            let keyword = read.keyword.unwrap_or(stored.keyword);
            let country = read.country_code.unwrap_or(stored.country_code);
            let (code, keyword) = self
                .definition_code(
                    &caller.account_id,
                    &short_code,
                    country.as_deref(),
                    &keyword,
                )
                .await?;
            patch.short_code = Some(code);
            patch.keyword = Some(keyword);
        }
        match self
            .store()
            .update_definition(&caller.account_id, key, patch, self.now())
            .await
        {
            Err(StoreError::NotFound) => Err(not_found(key)),
            Err(StoreError::Conflict(_)) => Err(ServiceError::Transactional(
                TxError::already_exists("a definition with this name exists"),
            )),
            other => Ok(other?),
        }
    }

    /// `DELETE /messaging/v1/sms/definitions/{definitionKey}`: archived under a minted
    /// `deletedDefinitionKey`, which the answer holds.
    pub async fn delete_definition(&self, caller: &Caller, key: &str) -> ServiceResult<Definition> {
        match self
            .store()
            .archive_definition(&caller.account_id, key, &domain::mint_key(), self.now())
            .await
        {
            Err(StoreError::NotFound) => Err(not_found(key)),
            other => Ok(other?),
        }
    }
}

/// One recipient's answer of a send: its message key, and its refusal if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxResponse {
    pub message_key: String,
    pub error: Option<TxError>,
}

/// What the status route answers of a message (API.md §9 "Status route").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxState {
    /// Not handed over yet (or held while its definition is Inactive).
    Queued,
    /// Handed over to the carrier.
    Sent,
    /// Not sent: the subscriber code or §5 code, and its name.
    NotSent {
        status_code: i32,
        status_message: &'static str,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxMessageStatus {
    pub state: TxState,
    pub message_key: String,
    pub contact_key: String,
    pub to: String,
    /// Opaque, fixed per message.
    pub composite_id: String,
    pub timestamp: store::Millis,
}

impl Service {
    /// `POST /messaging/v1/sms/messages[/{messageKey}]`: each recipient's answer, in order. The
    /// request-level refusals (a read error, an unknown definition) are errors.
    pub async fn send_transactional(
        &self,
        caller: &Caller,
        read: domain::transactional::SendFields,
    ) -> ServiceResult<Vec<TxResponse>> {
        use domain::transactional::{duplicate_message_key, recipient_text, text_too_long};
        let definition = match self
            .store()
            .get_definition(&caller.account_id, &read.definition_key)
            .await
        {
            Ok(d) => d,
            Err(StoreError::NotFound) => {
                return Err(ServiceError::Transactional(
                    domain::transactional::unknown_definition(&read.definition_key),
                ))
            }
            Err(e) => return Err(e.into()),
        };
        let base = read.message.unwrap_or(definition.message);
        let info = domain::analyze(&base);
        let mut responses = Vec::with_capacity(read.recipients.len());
        let mut messages = Vec::new();
        // The index in `responses` of each message sent to the store.
        let mut sent = Vec::new();
        for recipient in read.recipients {
            let message_key = recipient.message_key.unwrap_or_else(domain::mint_key);
            let checked = recipient.valid.and_then(|valid| {
                let text = recipient_text(&base, &read.attributes, &valid.attributes);
                if text.chars().count() > domain::limits::MAX_TEXT_CHARS {
                    return Err(text_too_long());
                }
                Ok((valid, text))
            });
            match checked {
                Ok((valid, text)) => {
                    sent.push(responses.len());
                    messages.push(store::TxMessage {
                        message_key: message_key.clone(),
                        mobile_number: valid.to,
                        contact_key: valid.contact_key,
                        text,
                    });
                    responses.push(TxResponse {
                        message_key,
                        error: None,
                    });
                }
                Err(error) => responses.push(TxResponse {
                    message_key,
                    error: Some(error),
                }),
            }
        }
        if messages.is_empty() {
            return Ok(responses);
        }
        let request = store::TxRequest {
            account_id: caller.account_id.clone(),
            client_id: Some(caller.client_id.clone()),
            token: domain::mint_token(),
            definition_key: definition.definition_key,
            text: base,
            resubscribe: read.resubscribe,
            messages,
            segments: i32::try_from(info.segments).unwrap_or(i32::MAX),
            encoding: info.encoding,
            now: self.now(),
        };
        let outcomes = match self.store().accept_transactional(&request).await {
            Ok(outcomes) => outcomes,
            Err(StoreError::NotFound) => {
                return Err(ServiceError::Transactional(
                    domain::transactional::unknown_definition(&read.definition_key),
                ))
            }
            Err(e) => return Err(e.into()),
        };
        for (index, outcome) in sent.into_iter().zip(outcomes) {
            if outcome == store::TxOutcome::DuplicateKey {
                if let Some(response) = responses.get_mut(index) {
                    response.error = Some(duplicate_message_key());
                }
            }
        }
        self.inner.waker.notify_waiters();
        Ok(responses)
    }

    /// `GET /messaging/v1/sms/messages/{messageKey}`.
    pub async fn transactional_status(
        &self,
        caller: &Caller,
        message_key: &str,
    ) -> ServiceResult<TxMessageStatus> {
        use domain::codes;
        let status = match self
            .store()
            .transactional_status(&caller.account_id, message_key)
            .await
        {
            Ok(status) => status,
            Err(StoreError::NotFound) => {
                return Err(ServiceError::Transactional(TxError::not_found(format!(
                    "messageKey {message_key}"
                ))))
            }
            Err(e) => return Err(e.into()),
        };
        let not_sent = |status_code: i32, status_message: &'static str| TxState::NotSent {
            status_code,
            status_message,
        };
        let state = match (status.not_sent_code, status.outcome.as_deref()) {
            (Some(code), _) => {
                not_sent(code, domain::transactional::subscriber_status_message(code))
            }
            // Opted out between acceptance and hand-over.
            (None, Some("suppressed")) => not_sent(
                store::tx_rows::NOT_SUBSCRIBED,
                domain::transactional::subscriber_status_message(store::tx_rows::NOT_SUBSCRIBED),
            ),
            (None, Some(_)) => not_sent(37, domain::transactional::subscriber_status_message(37)),
            (None, None) => match status.status_code {
                codes::QUEUED => TxState::Queued,
                code @ (codes::QUEUE_FAILURE
                | codes::VALIDATION_ERROR
                | codes::FAILED_TO_AGGREGATOR
                | codes::UNKNOWN_TO_AGGREGATOR) => {
                    not_sent(code, domain::transactional::status_name(code))
                }
                _ => TxState::Sent,
            },
        };
        let timestamp = match state {
            TxState::Queued => status.created_at,
            _ => status.updated_at,
        };
        Ok(TxMessageStatus {
            state,
            composite_id: format!("{}.{}", status.token, status.ordinal),
            message_key: status.message_key,
            contact_key: status.contact_key,
            to: status.mobile_number,
            timestamp,
        })
    }
}

impl Service {
    /// `GET /messaging/v1/sms/definitions/{definitionKey}/queue`: how many messages wait, and
    /// the age in seconds of the oldest (0 when none).
    pub async fn queue_metrics(&self, caller: &Caller, key: &str) -> ServiceResult<(i64, i64)> {
        match self.store().queue_metrics(&caller.account_id, key).await {
            Ok((count, oldest)) => Ok((
                count,
                oldest.map_or(0, |at| (self.now() - at).max(0) / 1000),
            )),
            Err(StoreError::NotFound) => Err(not_found(key)),
            Err(e) => Err(e.into()),
        }
    }

    /// `DELETE /messaging/v1/sms/definitions/{definitionKey}/queue`: an Inactive definition's
    /// waiting messages become NotSent 39.
    pub async fn empty_queue(&self, caller: &Caller, key: &str) -> ServiceResult<u64> {
        match self
            .store()
            .empty_queue(&caller.account_id, key, self.now())
            .await
        {
            Ok(Some(emptied)) => Ok(emptied),
            Ok(None) => Err(ServiceError::Transactional(TxError::new(
                30001,
                "MCMS_UTM_Runtime_InvalidOperation",
                "Definition status must be inactive to delete queue",
            ))),
            Err(StoreError::NotFound) => Err(not_found(key)),
            Err(e) => Err(e.into()),
        }
    }
}

impl Service {
    /// `GET /messaging/v1/sms/messages?type=notSent`: a page of NotSent events after the
    /// query's `lastEventId`, oldest first.
    pub async fn not_sent(
        &self,
        caller: &Caller,
        query: domain::transactional::NotSentQuery,
    ) -> ServiceResult<Vec<store::tx_rows::NotSentEvent>> {
        Ok(self
            .store()
            .not_sent_events(
                &caller.account_id,
                query.last_event_id,
                query.page_size,
                self.now(),
            )
            .await?)
    }
}

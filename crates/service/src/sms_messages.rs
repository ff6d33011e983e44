//! Messages made through `/sms/v1` (API.md §6b): `message/outbound` (an Active message with no
//! default lists, ready for messageContact) and `message/optin` (a keyword and its behaviour).
//! The rules are `domain::sms_messages`'; this gathers the facts they need.

use domain::sms_messages::{CodeQuery, OptInFacts, OptInRequest, OutboundRequest};
use domain::OptInType;
use store::{Code, MessageStatus, NewKeyword, NewMessage, StoreError};

use crate::{Caller, Service, ServiceError, ServiceResult};

impl Service {
    /// The account's code a request's `ShortCode`/`CountryCode` or `LongCode` names (code and
    /// country ignoring ASCII case, and of that kind).
    pub(crate) async fn code_of_query(
        &self,
        account_id: &str,
        query: Option<CodeQuery<'_>>,
    ) -> ServiceResult<Option<Code>> {
        match query {
            None => Ok(None),
            Some(CodeQuery::Short { code, country }) => {
                self.code_of_kind(account_id, code, "short", Some(country))
                    .await
            }
            Some(CodeQuery::Long { code }) => {
                self.code_of_kind(account_id, code, "long", None).await
            }
        }
    }

    /// The account's code with code string `code` (ignoring ASCII case) of `kind` (`short`,
    /// `long`) and, when given, of `country`.
    pub(crate) async fn code_of_kind(
        &self,
        account_id: &str,
        code: &str,
        kind: &str,
        country: Option<&str>,
    ) -> ServiceResult<Option<Code>> {
        match self.store().get_code(account_id, code).await {
            Ok(found)
                if found.code.eq_ignore_ascii_case(code)
                    && found.kind == kind
                    && country
                        .is_none_or(|c| c.trim().eq_ignore_ascii_case(&found.country_code)) =>
            {
                Ok(Some(found))
            }
            Ok(_) | Err(StoreError::NotFound) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// `POST /sms/v1/message/outbound`: the new message's ID.
    pub async fn create_outbound_message(
        &self,
        caller: &Caller,
        request: OutboundRequest,
    ) -> ServiceResult<String> {
        let code = self
            .code_of_query(&caller.account_id, request.code.query())
            .await?;
        let valid = request
            .validate(code.is_some())
            .map_err(ServiceError::Invalid)?;
        let Some(code) = code else {
            return Err(ServiceError::internal("validated message without its code"));
        };
        let message = self
            .store()
            .create_message(NewMessage {
                id: domain::mint_id(),
                account_id: caller.account_id.clone(),
                name: valid.name,
                code: code.code,
                text: valid.text,
                status: MessageStatus::Active,
                target_list_ids: Vec::new(),
                exclusion_list_ids: Vec::new(),
                content_url: None,
                created_at: self.now(),
            })
            .await?;
        Ok(message.id)
    }
}

impl Service {
    /// `POST /sms/v1/message/optin`: the keyword and its behaviour (API.md §6b); the opt-in
    /// message's ID is the keyword's. A keyword that already exists on the code is a Conflict.
    pub async fn create_opt_in_message(
        &self,
        caller: &Caller,
        request: OptInRequest,
    ) -> ServiceResult<String> {
        let code = self
            .code_of_query(&caller.account_id, request.code.query())
            .await?;
        let facts = OptInFacts {
            code_found: code.is_some(),
            keyword_reserved: request.keyword().is_some_and(engine::keywords::is_reserved),
        };
        let valid = request.validate(facts).map_err(ServiceError::Invalid)?;
        let Some(code) = code else {
            return Err(ServiceError::internal("validated opt-in without its code"));
        };
        let created = self
            .store()
            .create_keyword(NewKeyword {
                id: domain::mint_id(),
                account_id: caller.account_id.clone(),
                code: code.code.clone(),
                keyword: valid.keyword.clone(),
                response: valid.response,
                double_opt_in: valid.rules.kind != OptInType::Single,
                confirm_text: valid.request_text,
                opt_in: Some(valid.rules),
                created_at: self.now(),
            })
            .await;
        match created {
            Ok(k) => Ok(k.id),
            Err(StoreError::Conflict(_)) => Err(ServiceError::Conflict(format!(
                "Keyword {} already exists on code {}.",
                valid.keyword, code.code
            ))),
            Err(e) => Err(e.into()),
        }
    }
}

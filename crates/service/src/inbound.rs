//! Inbound texts and what they act on (API.md §6): `queueMO` with its deliveries and history,
//! keywords on the account's codes, and the subscriptions of numbers. Keyword handling itself is
//! the engine's.

use domain::{is_blank, Addressee, EncodedId, QueueMoRequest, TokenId};
use store::{HistoryEntry, NewKeyword, Send, SendKind, StoreError, Subscription};

use crate::{Caller, Service, ServiceError, ServiceResult};

/// A queued inbound text: its send's token and the numbers it was queued for.
#[derive(Debug, Clone)]
pub struct QueuedMo {
    pub token: String,
    pub addressees: Vec<Addressee>,
}

/// `POST /sms/v1/keyword` as read: the fields given, and the messages reading them produced.
#[derive(Debug, Clone, Default)]
pub struct KeywordRequest {
    pub short_code: Option<String>,
    pub long_code: Option<String>,
    pub country_code: Option<String>,
    pub keyword: Option<String>,
    /// Messages of reading the request (API.md §1), first in the answer.
    pub problems: Vec<String>,
}

/// What a keyword-delete names (API.md §6): an ID, or a keyword on a code (the path's values,
/// or the bare form's body, read like `POST /sms/v1/keyword`'s).
#[derive(Debug, Clone)]
pub enum KeywordToDelete {
    Id(String),
    Word(KeywordRequest),
}

/// `POST /sms/v1/contacts/subscriptions` as read.
#[derive(Debug, Clone, Default)]
pub struct SubscriptionsRequest {
    pub mobile_numbers: Option<Vec<String>>,
    pub subscriber_keys: Option<Vec<String>>,
    pub problems: Vec<String>,
}

/// Every subscription of the numbers asked for, with when the lookup started and ended.
#[derive(Debug, Clone)]
pub struct SubscriptionsFound {
    pub started_at: i64,
    pub subscriptions: Vec<Subscription>,
    pub completed_at: i64,
}

impl Service {
    /// `POST /sms/v1/queueMO` (API.md §6): a text from each number to the account's code,
    /// handled as if a carrier had delivered it.
    pub async fn queue_mo(
        &self,
        caller: &Caller,
        request: &QueueMoRequest,
    ) -> ServiceResult<QueuedMo> {
        let code = match request.short_code() {
            Some(c) => match self.store().get_code(&caller.account_id, c).await {
                // Only a code string names a code here, not its ID.
                Ok(code) if code.code.eq_ignore_ascii_case(c) => Some(code),
                Ok(_) | Err(StoreError::NotFound) => None,
                Err(e) => return Err(e.into()),
            },
            None => None,
        };
        let valid = request
            .validate(code.is_some())
            .map_err(ServiceError::Invalid)?;
        let (Some(code), Some(engine)) = (code, self.inner.engine.as_ref()) else {
            return Err(ServiceError::internal(
                "queueMO without a code or an engine",
            ));
        };
        let numbers: Vec<String> = valid
            .addressees
            .iter()
            .map(|a| a.mobile_number.as_str().to_string())
            .collect();
        let token = engine
            .queue_mo(
                &code,
                &numbers,
                &valid.message_text,
                Some(caller.client_id.clone()),
            )
            .await?;
        Ok(QueuedMo {
            token,
            addressees: valid.addressees,
        })
    }

    /// The queueMO send a path's token names (API.md §5's token rows), with the adapter's
    /// messages after the token's.
    pub async fn mo_send(
        &self,
        caller: &Caller,
        token: &str,
        earlier: Vec<String>,
    ) -> ServiceResult<Send> {
        let mut errors = Vec::new();
        if TokenId::parse(token).is_none() {
            errors.push(format!("Token id {token} isn't valid."));
        }
        errors.extend(earlier);
        ServiceError::check(errors)?;
        match self.store().get_send(&caller.account_id, token).await {
            Ok(s) if s.kind == SendKind::Mo => Ok(s),
            Ok(_) | Err(StoreError::NotFound) => Err(ServiceError::invalid(format!(
                "Token id {token} isn't valid for this client."
            ))),
            Err(e) => Err(e.into()),
        }
    }

    /// `GET /sms/v1/queueMO/history/{tokenId}`: the texts and replies of a queueMO send.
    pub async fn mo_history(
        &self,
        caller: &Caller,
        token: &str,
    ) -> ServiceResult<(Send, Vec<HistoryEntry>)> {
        let send = self.mo_send(caller, token, Vec::new()).await?;
        let entries = self
            .store()
            .history(&caller.account_id, &send.token, None)
            .await?;
        Ok((send, entries))
    }

    /// `POST /sms/v1/keyword` (API.md §6): an opt-in keyword on one of the account's codes; its
    /// ID.
    pub async fn create_opt_in_keyword(
        &self,
        caller: &Caller,
        request: KeywordRequest,
    ) -> ServiceResult<String> {
        let non_blank = |v: Option<String>| v.filter(|c| !is_blank(c));
        let short = non_blank(request.short_code);
        let long = non_blank(request.long_code);
        let country = non_blank(request.country_code);
        let mut errors = request.problems;
        let given = match (&short, &long) {
            (None, None) => {
                errors.push("A short code or a long code must be specified.".to_string());
                None
            }
            (Some(_), Some(_)) => {
                errors.push(
                    "A short code and a long code can't be specified at the same time.".to_string(),
                );
                None
            }
            (Some(c), None) => Some(("Short code", "short", c)),
            (None, Some(c)) => Some(("Long code", "long", c)),
        };
        let mut code = None;
        if let Some((label, kind, c)) = given {
            match self.store().get_code(&caller.account_id, c).await {
                Ok(found) if found.code.eq_ignore_ascii_case(c) && found.kind == kind => {
                    if country
                        .as_deref()
                        .is_some_and(|cc| !cc.trim().eq_ignore_ascii_case(&found.country_code))
                    {
                        errors.push(format!(
                            "Country code {} isn't valid for {label} {c}.",
                            country.as_deref().unwrap_or_default()
                        ));
                    } else {
                        code = Some(found);
                    }
                }
                Ok(_) | Err(StoreError::NotFound) => {
                    errors.push(format!("{label} {c} isn't valid for the client."))
                }
                Err(e) => return Err(e.into()),
            }
        }
        let word = request
            .keyword
            .as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty());
        match word {
            None => errors.push("Keyword can't be blank.".to_string()),
            Some(k) if k.split_whitespace().count() != 1 => {
                errors.push(format!("Keyword {k} must be a single word."))
            }
            Some(k) if engine::keywords::is_reserved(k) => {
                errors.push(format!("Keyword {k} is reserved."))
            }
            Some(_) => {}
        }
        ServiceError::check(errors)?;
        let (Some(code), Some(word)) = (code, word) else {
            return Err(ServiceError::internal("validated keyword without its code"));
        };
        let created = self
            .store()
            .create_keyword(NewKeyword {
                id: domain::mint_id(),
                account_id: caller.account_id.clone(),
                code: code.code.clone(),
                keyword: word.to_string(),
                response: None,
                double_opt_in: false,
                confirm_text: None,
                opt_in: None,
                created_at: self.now(),
            })
            .await;
        match created {
            Ok(k) => Ok(k.id),
            Err(StoreError::Conflict(_)) => Err(ServiceError::Conflict(format!(
                "Keyword {word} already exists on code {}.",
                code.code
            ))),
            Err(e) => Err(e.into()),
        }
    }

    /// Every keyword-delete form of API.md §6: by ID, by keyword and long code, by keyword,
    /// short code and country, or the bare form's body. The deleted keyword's ID. A keyword, ID
    /// or code that is not the account's is NotFound, `Keyword {0} isn't valid for the client.`
    /// (`{0}` the keyword, or the ID as given). The store ends the keyword's Subscribed and
    /// InProgress subscriptions; opt-outs on the code stay.
    pub async fn delete_opt_in_keyword(
        &self,
        caller: &Caller,
        target: KeywordToDelete,
    ) -> ServiceResult<String> {
        let account = &caller.account_id;
        let (id, named) = match target {
            KeywordToDelete::Id(id) if EncodedId::parse(&id).is_none() => (None, id),
            KeywordToDelete::Id(id) => match self.store().get_keyword(account, &id).await {
                // The canonical spelling, for the answer.
                Ok(k) => (Some(k.id), id),
                Err(StoreError::NotFound) => (None, id),
                Err(e) => return Err(e.into()),
            },
            KeywordToDelete::Word(request) => {
                let word = request
                    .keyword
                    .as_deref()
                    .map(str::trim)
                    .unwrap_or_default();
                let (code, mut errors) = self.code_of_request(account, &request).await?;
                if word.is_empty() {
                    errors.push("Keyword can't be blank.".to_string());
                }
                ServiceError::check(errors)?;
                let found = match code {
                    Some(code) => self.keyword_on_code(account, &code.code, word).await?,
                    None => None,
                };
                (found.map(|k| k.id), word.to_string())
            }
        };
        let not_found =
            || ServiceError::NotFound(format!("Keyword {named} isn't valid for the client."));
        let Some(id) = id else {
            return Err(not_found());
        };
        match self.store().delete_keyword(account, &id).await {
            Ok(()) => Ok(id),
            Err(StoreError::NotFound) => Err(not_found()),
            Err(e) => Err(e.into()),
        }
    }

    /// The code a keyword request names (`ShortCode` with its `CountryCode`, or `LongCode`),
    /// when it is the account's, and the messages about the code fields: both or neither given.
    async fn code_of_request(
        &self,
        account_id: &str,
        request: &KeywordRequest,
    ) -> ServiceResult<(Option<store::Code>, Vec<String>)> {
        let non_blank = |v: &Option<String>| v.clone().filter(|c| !is_blank(c));
        let short = non_blank(&request.short_code);
        let long = non_blank(&request.long_code);
        let country = non_blank(&request.country_code);
        let mut errors = request.problems.clone();
        let (kind, c) = match (&short, &long) {
            (None, None) => {
                errors.push("A short code or a long code must be specified.".to_string());
                return Ok((None, errors));
            }
            (Some(_), Some(_)) => {
                errors.push(
                    "A short code and a long code can't be specified at the same time.".to_string(),
                );
                return Ok((None, errors));
            }
            (Some(c), None) => ("short", c),
            (None, Some(c)) => ("long", c),
        };
        let found = self
            .code_of_kind(account_id, c, kind, country.as_deref())
            .await?;
        Ok((found, errors))
    }

    /// `POST /sms/v1/contacts/subscriptions` (API.md §6): every subscription in the account of
    /// the numbers given, or of the numbers the subscriber keys name.
    pub async fn subscriptions(
        &self,
        caller: &Caller,
        request: SubscriptionsRequest,
    ) -> ServiceResult<SubscriptionsFound> {
        let numbers = request.mobile_numbers;
        let keys = request.subscriber_keys;
        let mut errors = request.problems;
        let count = numbers.as_ref().map_or(0, Vec::len) + keys.as_ref().map_or(0, Vec::len);
        if count == 0 {
            errors
                .push("The count of mobile numbers or subscriber keys can't be zero.".to_string());
        }
        if numbers.is_some() && keys.is_some() {
            errors.push(
                "An array of mobile numbers and an array of subscriber keys can't be provided at the same time."
                    .to_string(),
            );
        }
        let given: Vec<&str> = numbers.iter().flatten().map(String::as_str).collect();
        let mut parsed: Vec<String> = domain::send_contact::parse_numbers(&given, &mut errors)
            .into_iter()
            .flatten()
            .map(|n| n.as_str().to_string())
            .collect();
        if numbers.as_ref().map_or(0, Vec::len) > domain::send_contact::MAX_NUMBERS
            || keys.as_ref().map_or(0, Vec::len) > domain::send_contact::MAX_NUMBERS
        {
            errors.push(
                "The count of mobile numbers or subscriber keys can't exceed 250.".to_string(),
            );
        }
        ServiceError::check(errors)?;
        for key in keys.unwrap_or_default() {
            for n in self
                .store()
                .numbers_of_subscriber_key(&caller.account_id, &key)
                .await?
            {
                parsed.push(n);
            }
        }
        let started_at = self.now();
        let mut subscriptions = Vec::new();
        let mut seen: Vec<String> = Vec::new();
        for number in parsed {
            if seen.contains(&number) {
                continue;
            }
            subscriptions.extend(
                self.store()
                    .subscriptions_of(&caller.account_id, &number)
                    .await?,
            );
            seen.push(number);
        }
        Ok(SubscriptionsFound {
            started_at,
            subscriptions,
            completed_at: self.now(),
        })
    }
}

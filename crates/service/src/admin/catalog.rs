//! Codes, keywords and messages (API.md §7).

use domain::{ContentUrl, EncodedId};
use store::{
    Account, Code, CodePatch, Keyword, KeywordPatch, Message, MessagePatch, MessageStatus, NewCode,
    NewKeyword, NewMessage, StoreError,
};

use super::{check_text, explicit_id};
use crate::error::named;
use crate::{Field, Service, ServiceError, ServiceResult};

/// Default texts of a code when none are configured (carriers require both to exist); the
/// engine replies with them (API.md §6 keywords).
pub use engine::keywords::{DEFAULT_HELP_TEXT, DEFAULT_OPT_OUT_TEXT};

/// A new code as asked for; absent fields take their defaults (US, short, simulator).
#[derive(Debug, Clone, Default)]
pub struct CodeRequest {
    pub code: Field<String>,
    pub country_code: Option<String>,
    pub kind: Option<String>,
    pub carrier: Option<String>,
    pub opt_out_text: Option<String>,
    pub help_text: Option<String>,
    pub problems: Vec<String>,
}

/// Changes to a code: the given fields; an empty reply text goes back to the default reply.
#[derive(Debug, Clone, Default)]
pub struct CodeChanges {
    /// The code string may be given, but not changed.
    pub code: Option<String>,
    pub country_code: Option<String>,
    pub kind: Option<String>,
    pub carrier: Option<String>,
    pub opt_out_text: Option<String>,
    pub help_text: Option<String>,
    pub problems: Vec<String>,
}

/// A new keyword as an operator asks for it (API.md §7).
#[derive(Debug, Clone, Default)]
pub struct OperatorKeywordRequest {
    pub code: Field<String>,
    pub keyword: Field<String>,
    pub response: Option<String>,
    pub double_opt_in: Option<bool>,
    pub confirm_text: Option<String>,
    pub problems: Vec<String>,
}

/// Changes to a keyword: its reply, double opt-in and confirmation text (an empty text removes
/// it). The code and the word may be given, but not changed.
#[derive(Debug, Clone, Default)]
pub struct KeywordChanges {
    pub code: Option<String>,
    pub keyword: Option<String>,
    pub response: Option<String>,
    pub double_opt_in: Option<bool>,
    pub confirm_text: Option<String>,
    /// An opt-in message's rules (API.md §6b): `Some(None)` makes it an ordinary keyword.
    pub opt_in: Option<Option<domain::OptInRules>>,
    pub problems: Vec<String>,
}

/// A new message as asked for.
#[derive(Debug, Clone, Default)]
pub struct MessageRequest {
    pub id: Field<String>,
    pub name: Option<String>,
    pub code: Field<String>,
    pub text: Option<String>,
    pub status: Option<String>,
    pub target_list_ids: Option<Vec<String>>,
    pub exclusion_list_ids: Option<Vec<String>>,
    pub content_url: Field<String>,
    pub problems: Vec<String>,
}

/// Changes to a message: the given fields; an empty or null `content_url` clears it.
#[derive(Debug, Clone, Default)]
pub struct MessageChanges {
    pub name: Option<String>,
    pub code: Option<String>,
    pub text: Option<String>,
    pub status: Option<String>,
    pub target_list_ids: Option<Vec<String>>,
    pub exclusion_list_ids: Option<Vec<String>>,
    pub content_url: Field<String>,
    pub problems: Vec<String>,
}

fn valid_code(code: &str) -> bool {
    (3..=15).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// A reply text of a patch: a text sets it, an empty one clears it (`Some(None)`).
fn reply_text(text: Option<String>) -> Option<Option<String>> {
    text.map(|t| (!t.trim().is_empty()).then_some(t))
}

fn status(raw: Option<&str>, errors: &mut Vec<String>) -> Option<MessageStatus> {
    let raw = raw?;
    let parsed = MessageStatus::parse(raw);
    if parsed.is_none() {
        errors.push(format!("{raw} isn't a valid message status."));
    }
    parsed
}

/// A content URL of a message: `Some(None)` clears it (empty, or an explicit null when nothing
/// else is wrong), `Some(Some)` sets it.
fn content_url(given: &Field<String>, errors: &mut Vec<String>) -> Option<Option<String>> {
    match given {
        Field::Given(raw) if raw.trim().is_empty() => Some(None),
        Field::Given(raw) => match ContentUrl::parse(raw) {
            Some(url) => Some(Some(url)),
            None => {
                errors.push(format!("{raw} isn't a valid content URL."));
                None
            }
        },
        Field::Null if errors.is_empty() => Some(None),
        _ => None,
    }
}

impl Service {
    fn check_kind(&self, kind: Option<&str>, errors: &mut Vec<String>) {
        if let Some(k) = kind.filter(|k| *k != "short" && *k != "long") {
            errors.push(format!("{k} isn't a valid code type."));
        }
    }

    fn check_carrier(&self, carrier: Option<&str>, errors: &mut Vec<String>) {
        if let Some(c) = carrier.filter(|c| !self.settings().carriers.iter().any(|x| x == c)) {
            errors.push(format!("Carrier {c} isn't configured."));
        }
    }

    /// `POST /admin/v1/accounts/{acct}/codes`.
    pub async fn create_code(
        &self,
        account: &Account,
        request: CodeRequest,
    ) -> ServiceResult<Code> {
        let mut errors = request.problems;
        let code = request
            .code
            .required("code", &mut errors)
            .map(str::to_string);
        if let Some(c) = code.as_deref().filter(|c| !valid_code(c)) {
            errors.push(format!("Code {c} isn't valid."));
        }
        let country_code = request.country_code.unwrap_or_else(|| "US".to_string());
        let kind = request
            .kind
            .unwrap_or_else(|| "short".to_string())
            .to_ascii_lowercase();
        self.check_kind(Some(&kind), &mut errors);
        let carrier = request.carrier.unwrap_or_else(|| "simulator".to_string());
        self.check_carrier(Some(&carrier), &mut errors);
        check_text("optOutText", request.opt_out_text.as_deref(), &mut errors);
        check_text("helpText", request.help_text.as_deref(), &mut errors);
        ServiceError::check(errors)?;
        let code = code.unwrap_or_default();
        self.store()
            .create_code(NewCode {
                id: domain::mint_id(),
                account_id: account.id.clone(),
                code: code.clone(),
                country_code,
                kind,
                carrier,
                opt_out_text: request.opt_out_text,
                help_text: request.help_text,
                created_at: self.now(),
            })
            .await
            .map_err(named(&format!("Code {code}")))
    }

    pub async fn codes(&self, account: &Account) -> ServiceResult<Vec<Code>> {
        Ok(self.store().list_codes(&account.id).await?)
    }

    /// A code by its ID or its code string.
    pub async fn code(&self, account: &Account, id: &str) -> ServiceResult<Code> {
        self.store()
            .get_code(&account.id, id)
            .await
            .map_err(named(&format!("Code {id}")))
    }

    /// `PATCH /admin/v1/accounts/{acct}/codes/{id}` of the code `current` (`id` as the path
    /// names it). The code string stays (keywords, subscriptions and messages name the code by
    /// it).
    pub async fn update_code(
        &self,
        account: &Account,
        id: &str,
        current: &Code,
        changes: CodeChanges,
    ) -> ServiceResult<Code> {
        let mut errors = changes.problems;
        let patch = CodePatch {
            country_code: changes.country_code,
            kind: changes.kind.map(|k| k.to_ascii_lowercase()),
            carrier: changes.carrier,
            opt_out_text: reply_text(changes.opt_out_text),
            help_text: reply_text(changes.help_text),
        };
        if let Some(c) = changes.code.filter(|c| *c != current.code) {
            errors.push(format!(
                "The code string can't be changed ({c}); create a new code instead."
            ));
        }
        self.check_kind(patch.kind.as_deref(), &mut errors);
        self.check_carrier(patch.carrier.as_deref(), &mut errors);
        let set = |t: &Option<Option<String>>| t.as_ref().and_then(|t| t.clone());
        check_text(
            "optOutText",
            set(&patch.opt_out_text).as_deref(),
            &mut errors,
        );
        check_text("helpText", set(&patch.help_text).as_deref(), &mut errors);
        ServiceError::check(errors)?;
        self.store()
            .update_code(&account.id, id, patch)
            .await
            .map_err(named(&format!("Code {id}")))
    }

    pub async fn delete_code(&self, account: &Account, id: &str) -> ServiceResult<()> {
        self.store()
            .delete_code(&account.id, id)
            .await
            .map_err(named(&format!("Code {id}")))
    }

    /// `POST /admin/v1/accounts/{acct}/keywords`.
    pub async fn create_keyword(
        &self,
        account: &Account,
        request: OperatorKeywordRequest,
    ) -> ServiceResult<Keyword> {
        let mut errors = request.problems;
        let code = request
            .code
            .required("code", &mut errors)
            .map(str::to_string);
        let keyword = request
            .keyword
            .required("keyword", &mut errors)
            .map(str::to_string);
        if let Some(k) = keyword
            .as_deref()
            .filter(|k| k.split_whitespace().count() != 1)
        {
            errors.push(format!("Keyword {k} must be a single word."));
        }
        let double_opt_in = request.double_opt_in.unwrap_or(false);
        if double_opt_in
            && request
                .confirm_text
                .as_deref()
                .is_none_or(|t| t.trim().is_empty())
        {
            errors.push("confirmText is required when doubleOptIn is true.".to_string());
        }
        check_text("response", request.response.as_deref(), &mut errors);
        check_text("confirmText", request.confirm_text.as_deref(), &mut errors);
        if let Some(c) = code.as_deref() {
            match self.store().get_code(&account.id, c).await {
                Ok(_) => {}
                Err(StoreError::NotFound) => errors.push(format!("Code {c} isn't valid.")),
                Err(e) => return Err(e.into()),
            }
        }
        ServiceError::check(errors)?;
        let keyword = keyword.unwrap_or_default();
        self.store()
            .create_keyword(NewKeyword {
                id: domain::mint_id(),
                account_id: account.id.clone(),
                code: code.unwrap_or_default(),
                keyword: keyword.trim().to_string(),
                response: request.response,
                double_opt_in,
                confirm_text: request.confirm_text,
                opt_in: None,
                created_at: self.now(),
            })
            .await
            .map_err(named(&format!("Keyword {keyword}")))
    }

    pub async fn keywords(&self, account: &Account) -> ServiceResult<Vec<Keyword>> {
        Ok(self.store().list_keywords(&account.id).await?)
    }

    pub async fn keyword(&self, account: &Account, id: &str) -> ServiceResult<Keyword> {
        self.store()
            .get_keyword(&account.id, id)
            .await
            .map_err(named(&format!("Keyword {id}")))
    }

    /// `PATCH /admin/v1/accounts/{acct}/keywords/{id}` of the keyword `current`. The code and
    /// the word stay (subscriptions are to them).
    pub async fn update_keyword(
        &self,
        account: &Account,
        id: &str,
        current: &Keyword,
        changes: KeywordChanges,
    ) -> ServiceResult<Keyword> {
        let mut errors = changes.problems;
        let named_fields = [
            ("code", changes.code, &current.code),
            ("keyword", changes.keyword, &current.keyword),
        ];
        let mut patch = KeywordPatch {
            response: reply_text(changes.response),
            double_opt_in: changes.double_opt_in,
            confirm_text: reply_text(changes.confirm_text),
            opt_in: changes.opt_in,
        };
        if let Some(Some(rules)) = &mut patch.opt_in {
            // Double and Age are confirmed like any double opt-in keyword; the name stays when
            // none is given.
            if rules.kind != domain::OptInType::Single {
                patch.double_opt_in = Some(true);
            }
            if rules.name.trim().is_empty() {
                rules.name = current
                    .opt_in
                    .as_ref()
                    .map(|r| r.name.clone())
                    .unwrap_or_else(|| current.keyword.clone());
            }
            if rules.kind == domain::OptInType::Age && rules.minimum_age.is_none() {
                errors.push("optIn.minimumAge is required for an Age opt-in.".to_string());
            }
            for (name, text) in [
                ("optIn.invalidAgeText", &rules.invalid_age_text),
                ("optIn.errorText", &rules.error_text),
                ("optIn.duplicateText", &rules.duplicate_text),
            ] {
                check_text(name, text.as_deref(), &mut errors);
            }
        }
        for (name, given, now) in named_fields {
            if let Some(v) = given.filter(|v| !v.eq_ignore_ascii_case(now)) {
                errors.push(format!(
                    "The {name} of a keyword can't be changed ({v}); create a new keyword instead."
                ));
            }
        }
        let double_opt_in = patch.double_opt_in.unwrap_or(current.double_opt_in);
        let confirm_text = match &patch.confirm_text {
            Some(text) => text.as_deref(),
            None => current.confirm_text.as_deref(),
        };
        if double_opt_in && confirm_text.is_none_or(|t| t.trim().is_empty()) {
            errors.push("confirmText is required when doubleOptIn is true.".to_string());
        }
        let set = |t: &Option<Option<String>>| t.as_ref().and_then(|t| t.clone());
        check_text("response", set(&patch.response).as_deref(), &mut errors);
        check_text(
            "confirmText",
            set(&patch.confirm_text).as_deref(),
            &mut errors,
        );
        ServiceError::check(errors)?;
        self.store()
            .update_keyword(&account.id, id, patch)
            .await
            .map_err(named(&format!("Keyword {id}")))
    }

    pub async fn delete_keyword(&self, account: &Account, id: &str) -> ServiceResult<()> {
        self.store()
            .delete_keyword(&account.id, id)
            .await
            .map_err(named(&format!("Keyword {id}")))
    }

    /// Resolves given list IDs against the account; unknown IDs are reported with the messages
    /// of API.md §4 rows 5 and 9.
    async fn list_ids(
        &self,
        account_id: &str,
        given: Option<Vec<String>>,
        label: &str,
        errors: &mut Vec<String>,
    ) -> ServiceResult<Option<Vec<String>>> {
        let Some(given) = given else {
            return Ok(None);
        };
        let given: Vec<String> = given.into_iter().filter(|s| !s.trim().is_empty()).collect();
        let resolved = self.store().resolve_lists(account_id, &given).await?;
        let mut out: Vec<String> = Vec::new();
        for (raw, found) in given.iter().zip(resolved) {
            match found {
                Some(id) if EncodedId::parse(raw).is_some() => {
                    if !out.contains(&id) {
                        out.push(id);
                    }
                }
                _ => errors.push(format!("{label} list id [{raw}] is invalid.")),
            }
        }
        Ok(Some(out))
    }

    /// The code string of the account's code `code`, or `None` after recording why not.
    async fn code_exists(
        &self,
        account_id: &str,
        code: &str,
        errors: &mut Vec<String>,
    ) -> ServiceResult<Option<String>> {
        match self.store().get_code(account_id, code).await {
            Ok(c) => Ok(Some(c.code)),
            Err(StoreError::NotFound) => {
                errors.push(format!("Code {code} isn't valid."));
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// `POST /admin/v1/accounts/{acct}/messages`.
    pub async fn create_message(
        &self,
        account: &Account,
        request: MessageRequest,
    ) -> ServiceResult<Message> {
        let mut errors = request.problems;
        let id = explicit_id(&request.id, "Message", &mut errors);
        let code = match request.code.required("code", &mut errors) {
            Some(c) => self.code_exists(&account.id, c, &mut errors).await?,
            None => None,
        };
        let text = request.text.unwrap_or_default();
        check_text("text", Some(&text), &mut errors);
        let status =
            status(request.status.as_deref(), &mut errors).unwrap_or(MessageStatus::Active);
        let targets = self
            .list_ids(&account.id, request.target_list_ids, "Target", &mut errors)
            .await?;
        let exclusions = self
            .list_ids(
                &account.id,
                request.exclusion_list_ids,
                "Exclusion",
                &mut errors,
            )
            .await?;
        let url = content_url(&request.content_url, &mut errors).flatten();
        ServiceError::check(errors)?;
        let id = id.unwrap_or_else(domain::mint_id);
        self.store()
            .create_message(NewMessage {
                id: id.clone(),
                account_id: account.id.clone(),
                name: request.name.unwrap_or_else(|| id.clone()),
                code: code.unwrap_or_default(),
                text,
                status,
                target_list_ids: targets.unwrap_or_default(),
                exclusion_list_ids: exclusions.unwrap_or_default(),
                content_url: url,
                created_at: self.now(),
            })
            .await
            .map_err(named(&format!("Message {id}")))
    }

    pub async fn messages(&self, account: &Account) -> ServiceResult<Vec<Message>> {
        Ok(self.store().list_messages(&account.id).await?)
    }

    pub async fn message(&self, account: &Account, id: &str) -> ServiceResult<Message> {
        self.store()
            .get_message(&account.id, id)
            .await
            .map_err(named(&format!("Message {id}")))
    }

    /// `PATCH /admin/v1/accounts/{acct}/messages/{id}` (the message exists: the adapter looked
    /// it up first).
    pub async fn update_message(
        &self,
        account: &Account,
        id: &str,
        changes: MessageChanges,
    ) -> ServiceResult<Message> {
        let mut errors = changes.problems;
        let code = match changes.code {
            Some(c) => self.code_exists(&account.id, &c, &mut errors).await?,
            None => None,
        };
        check_text("text", changes.text.as_deref(), &mut errors);
        let status = status(changes.status.as_deref(), &mut errors);
        let target_list_ids = self
            .list_ids(&account.id, changes.target_list_ids, "Target", &mut errors)
            .await?;
        let exclusion_list_ids = self
            .list_ids(
                &account.id,
                changes.exclusion_list_ids,
                "Exclusion",
                &mut errors,
            )
            .await?;
        let content_url = content_url(&changes.content_url, &mut errors);
        let patch = MessagePatch {
            name: changes.name,
            code,
            text: changes.text,
            status,
            target_list_ids,
            exclusion_list_ids,
            content_url,
        };
        ServiceError::check(errors)?;
        self.store()
            .update_message(&account.id, id, patch, self.now())
            .await
            .map_err(named(&format!("Message {id}")))
    }

    pub async fn delete_message(&self, account: &Account, id: &str) -> ServiceResult<()> {
        self.store()
            .delete_message(&account.id, id)
            .await
            .map_err(named(&format!("Message {id}")))
    }
}

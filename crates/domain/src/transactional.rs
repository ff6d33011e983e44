//! Transactional messaging's rules (API.md §9): its error body's codes, and the reading and
//! checking of send definitions and their listing, as pure functions of the request and the
//! facts the service gathers. One error per answer: the first in the order of the reference's
//! field tables, required fields (and JSON types) before values.

use crate::fields::{FieldReader, Fields};
use crate::limits::MAX_TEXT_CHARS;
use crate::EncodedId;

/// One transactional error: `{"message": "<symbol>: <detail>", "errorcode": <code>}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxError {
    pub code: u32,
    pub symbol: &'static str,
    pub detail: String,
}

impl TxError {
    pub fn new(code: u32, symbol: &'static str, detail: impl Into<String>) -> TxError {
        TxError {
            code,
            symbol,
            detail: detail.into(),
        }
    }

    /// The HTTP status of its code (the reference's table; the 1091xx codes are 400s).
    pub fn status(&self) -> u16 {
        match self.code {
            30002 | 30004 => 409,
            30003 => 404,
            40000 | 40001 => 403,
            _ => 400,
        }
    }

    /// `<symbol>: <detail>`.
    pub fn message(&self) -> String {
        format!("{}: {}", self.symbol, self.detail)
    }

    pub fn invalid_value(detail: impl Into<String>) -> TxError {
        TxError::new(10005, "MCMS_UTM_Validation_InvalidValue", detail)
    }

    pub fn not_found(detail: impl Into<String>) -> TxError {
        TxError::new(30003, "MCMS_UTM_Runtime_ObjectNotFound", detail)
    }

    pub fn already_exists(detail: impl Into<String>) -> TxError {
        TxError::new(30004, "MCMS_UTM_Runtime_ObjectAlreadyExists", detail)
    }

    /// A body that is not JSON (the documented detail).
    pub fn not_json() -> TxError {
        TxError::new(
            10004,
            "MCMS_UTM_Validation_InvalidMessageFormat",
            "Serialization error, please ensure the body has balanced braces and brackets.",
        )
    }

    fn data_type(detail: impl Into<String>) -> TxError {
        TxError::new(10001, "MCMS_UTM_Validation_InvalidDataType", detail)
    }

    fn missing(field: &str) -> TxError {
        TxError::new(
            10002,
            "MCMS_UTM_Validation_MissingRequiredField",
            format!("{field} is required"),
        )
    }
}

/// Reads fields in the order of a field table, keeping the first error: a read that records a
/// type error (or a duplicated field) is a 10001; `required` fields absent are 10002 (or the
/// field's own code).
struct Reader<'a> {
    r: FieldReader<'a>,
    first: Option<TxError>,
}

impl<'a> Reader<'a> {
    fn new(fields: &'a Fields) -> Reader<'a> {
        Reader {
            r: FieldReader::new(fields),
            first: None,
        }
    }

    fn fail(&mut self, error: TxError) {
        if self.first.is_none() {
            self.first = Some(error);
        }
    }

    /// Runs a read; a message it records becomes a 10001 (or `code`/`symbol` when given).
    fn read<T>(
        &mut self,
        on_error: Option<(u32, &'static str)>,
        read: impl FnOnce(&mut FieldReader<'a>) -> Option<T>,
    ) -> Option<T> {
        let before = self.r.errors().len();
        let value = read(&mut self.r);
        if self.r.errors().len() > before {
            let detail = self.r.errors().last().cloned().unwrap_or_default();
            self.fail(match on_error {
                Some((code, symbol)) => TxError::new(code, symbol, detail),
                None => TxError::data_type(detail),
            });
        }
        value
    }

    fn string(&mut self, name: &str) -> Option<String> {
        self.read(None, |r| r.string(name).map(str::to_string))
    }

    fn required_string(
        &mut self,
        name: &str,
        path: &str,
        missing: Option<TxError>,
    ) -> Option<String> {
        let value = self.string(name);
        if value.is_none() {
            // Absent or null (a mistyped one has already failed first).
            self.fail(missing.unwrap_or_else(|| TxError::missing(path)));
        }
        value
    }

    fn bool(&mut self, name: &str, code: u32, symbol: &'static str) -> Option<bool> {
        self.read(Some((code, symbol)), |r| r.bool(name))
    }

    fn object(&mut self, name: &str) -> Option<&'a Fields> {
        self.read(None, |r| r.object(name))
    }
}

/// `definitionKey`: §3's ID rule.
pub fn check_definition_key(key: &str) -> Result<(), TxError> {
    match EncodedId::parse(key) {
        Some(_) => Ok(()),
        None => Err(TxError::invalid_value(
            "definitionKey must be 1 to 64 letters, digits, '-' or '_'",
        )),
    }
}

const MAX_NAME_CHARS: usize = 128;
const MAX_DESCRIPTION_CHARS: usize = 1000;

/// A definition's fields as a create (all) or a PATCH (those present) gives them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DefinitionFields {
    pub definition_key: Option<String>,
    pub name: Option<String>,
    /// `Some(None)`: given as null on a PATCH (cleared).
    pub description: Option<Option<String>>,
    /// `true` Active, `false` Inactive.
    pub active: Option<bool>,
    pub message: Option<String>,
    pub short_code: Option<String>,
    pub country_code: Option<Option<String>>,
    pub keyword: Option<String>,
    pub auto_add_subscriber: Option<bool>,
    pub update_subscriber: Option<bool>,
}

impl DefinitionFields {
    /// A create's body: the first missing or mistyped field, then the first bad value (but the
    /// code and keyword, which need the account's facts: [`DefinitionFields::check_code`]).
    pub fn read_create(fields: &Fields) -> Result<DefinitionFields, TxError> {
        let mut r = Reader::new(fields);
        let key = r.required_string(
            "definitionKey",
            "definitionKey",
            Some(TxError::new(
                109107,
                "MCMS_UTM_Validation_MissingRequiredField_definitionKey",
                "definitionKey is required",
            )),
        );
        let name = r.required_string("name", "name", None);
        let mut read = read_rest(&mut r, true);
        if let Some(error) = r.first {
            return Err(error);
        }
        read.definition_key = key;
        read.name = name;
        read.check_values()?;
        Ok(read)
    }

    /// A PATCH's body: only the fields present; `definitionKey` is not a PATCH field (ignored).
    pub fn read_patch(fields: &Fields) -> Result<DefinitionFields, TxError> {
        let mut r = Reader::new(fields);
        let name = r.string("name");
        let mut read = read_rest(&mut r, false);
        if let Some(error) = r.first {
            return Err(error);
        }
        read.name = name;
        read.check_values()?;
        Ok(read)
    }

    /// A create's (`create`) or a PATCH's body given as a JSON value (by the console and the
    /// CLI, which build the body the API would get), read by the same rules.
    pub fn from_value(body: &serde_json::Value, create: bool) -> Result<DefinitionFields, TxError> {
        let fields = Fields::parse(body.to_string().as_bytes()).map_err(|_| TxError::not_json())?;
        if create {
            DefinitionFields::read_create(&fields)
        } else {
            DefinitionFields::read_patch(&fields)
        }
    }

    fn check_values(&self) -> Result<(), TxError> {
        if let Some(key) = &self.definition_key {
            check_definition_key(key)?;
        }
        if let Some(name) = &self.name {
            if name.trim().is_empty() || name.chars().count() > MAX_NAME_CHARS {
                return Err(TxError::invalid_value(format!(
                    "name must be 1 to {MAX_NAME_CHARS} characters"
                )));
            }
        }
        if let Some(Some(description)) = &self.description {
            if description.chars().count() > MAX_DESCRIPTION_CHARS {
                return Err(TxError::invalid_value(format!(
                    "description must be at most {MAX_DESCRIPTION_CHARS} characters"
                )));
            }
        }
        if let Some(message) = &self.message {
            if message.trim().is_empty() || message.chars().count() > MAX_TEXT_CHARS {
                return Err(TxError::invalid_value(format!(
                    "content.message must be 1 to {MAX_TEXT_CHARS} characters"
                )));
            }
        }
        Ok(())
    }

    /// The code and keyword checks, given what the account has: `code` the country of the
    /// account's code named by the effective `shortCode` (None: no such code); `keyword_found`
    /// whether the effective keyword is on it. `country` is the effective `countryCode`.
    pub fn check_code(
        code_country: Option<&str>,
        country: Option<&str>,
        keyword_found: bool,
    ) -> Result<(), TxError> {
        let Some(code_country) = code_country else {
            return Err(TxError::invalid_value(
                "subscriptions.shortCode is not a code of this account",
            ));
        };
        if country.is_some_and(|c| !c.trim().eq_ignore_ascii_case(code_country)) {
            return Err(TxError::invalid_value(
                "subscriptions.countryCode is not the country of subscriptions.shortCode",
            ));
        }
        if !keyword_found {
            return Err(TxError::new(
                109115,
                "MCMS_UTM_Validation_InvalidValue_keyword",
                "subscriptions.keyword is not a keyword of subscriptions.shortCode",
            ));
        }
        Ok(())
    }
}

/// The fields after `name`, in the reference's table order; `create` makes the required ones
/// required.
fn read_rest(r: &mut Reader<'_>, create: bool) -> DefinitionFields {
    let description = r.r.spelling("description").map(|_| r.string("description"));
    let mut read = DefinitionFields {
        description,
        ..DefinitionFields::default()
    };
    if let Some(status) = r.string("status") {
        read.active = match status.trim().to_ascii_lowercase().as_str() {
            "active" => Some(true),
            "inactive" => Some(false),
            _ => {
                r.fail(TxError::invalid_value("status must be Active or Inactive"));
                None
            }
        };
    }
    let content = r.object("content");
    read.message = match content {
        Some(content) => {
            let mut inner = Reader::new(content);
            let message = if create {
                inner.required_string("message", "content.message", None)
            } else {
                inner.string("message")
            };
            if let Some(error) = inner.first {
                r.fail(error);
            }
            message
        }
        None => {
            if create {
                r.fail(TxError::missing("content.message"));
            }
            None
        }
    };
    match r.object("subscriptions") {
        Some(subscriptions) => {
            let mut inner = Reader::new(subscriptions);
            read.short_code = if create {
                inner.required_string("shortCode", "subscriptions.shortCode", None)
            } else {
                inner.string("shortCode")
            };
            read.country_code = inner
                .r
                .spelling("countryCode")
                .map(|_| inner.string("countryCode"));
            let missing_keyword = TxError::new(
                109120,
                "MCMS_UTM_Validation_MissingRequiredField_keyword",
                "subscriptions.keyword is required",
            );
            read.keyword = if create {
                inner.required_string("keyword", "subscriptions.keyword", Some(missing_keyword))
            } else {
                inner.string("keyword")
            };
            read.auto_add_subscriber = inner.bool(
                "autoAddSubscriber",
                109113,
                "MCMS_UTM_Validation_InvalidValue_autoAddSubscriber",
            );
            read.update_subscriber = inner.bool(
                "updateSubscriber",
                109125,
                "MCMS_UTM_Validation_InvalidValue_updateSubscriber",
            );
            if let Some(error) = inner.first {
                r.fail(error);
            }
        }
        None => {
            if create {
                r.fail(TxError::missing("subscriptions.shortCode"));
            }
        }
    }
    read
}

/// The field a definition listing is ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListOrder {
    DefinitionKey,
    Name,
    CreatedDate,
    ModifiedDate,
    Status,
}

/// The status a listing's `$filter` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListStatus {
    Active,
    Inactive,
    Deleted,
}

/// A definition listing's query (API.md §9 "Listing").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListQuery {
    /// `(eq, status)`: `eq` true for `eq`, false for `neq`.
    pub filter: Option<(bool, ListStatus)>,
    pub order: ListOrder,
    pub descending: bool,
    pub page: u32,
    pub page_size: u32,
}

pub const DEFAULT_PAGE_SIZE: u32 = 20;
pub const MAX_PAGE_SIZE: u32 = 100;

impl ListQuery {
    /// From the query's `$filter`, `$orderBy`, `$page` and `$pageSize` (names already matched
    /// ignoring case; `None` when absent).
    pub fn parse(
        filter: Option<&str>,
        order_by: Option<&str>,
        page: Option<&str>,
        page_size: Option<&str>,
    ) -> Result<ListQuery, TxError> {
        let filter = match filter {
            None => None,
            Some(filter) => Some(parse_filter(filter).ok_or_else(|| {
                TxError::invalid_value("$filter must be status eq|neq active|inactive|deleted")
            })?),
        };
        let (order, descending) = match order_by {
            None => (ListOrder::CreatedDate, false),
            Some(order) => parse_order(order).ok_or_else(|| {
                TxError::invalid_value(
                    "$orderBy must be one of definitionKey, name, createdDate, modifiedDate, \
                     status, optionally followed by asc or desc",
                )
            })?,
        };
        let page = positive(page, "$page")?.unwrap_or(1);
        let page_size = positive(page_size, "$pageSize")?
            .unwrap_or(DEFAULT_PAGE_SIZE)
            .min(MAX_PAGE_SIZE);
        Ok(ListQuery {
            filter,
            order,
            descending,
            page,
            page_size,
        })
    }
}

fn positive(value: Option<&str>, name: &str) -> Result<Option<u32>, TxError> {
    match value {
        None => Ok(None),
        Some(v) => match v.trim().parse::<u32>() {
            Ok(n) if n >= 1 => Ok(Some(n)),
            _ => Err(TxError::invalid_value(format!(
                "{name} must be a whole number from 1"
            ))),
        },
    }
}

fn parse_filter(filter: &str) -> Option<(bool, ListStatus)> {
    let words: Vec<&str> = filter.split_whitespace().collect();
    let [field, op, value] = words.as_slice() else {
        return None;
    };
    if !field.eq_ignore_ascii_case("status") {
        return None;
    }
    let eq = if op.eq_ignore_ascii_case("eq") {
        true
    } else if op.eq_ignore_ascii_case("neq") {
        false
    } else {
        return None;
    };
    let status = match value.to_ascii_lowercase().as_str() {
        "active" => ListStatus::Active,
        "inactive" => ListStatus::Inactive,
        "deleted" => ListStatus::Deleted,
        _ => return None,
    };
    Some((eq, status))
}

fn parse_order(order: &str) -> Option<(ListOrder, bool)> {
    let words: Vec<&str> = order.split_whitespace().collect();
    let (field, descending) = match words.as_slice() {
        [field] => (*field, false),
        [field, direction] if direction.eq_ignore_ascii_case("asc") => (*field, false),
        [field, direction] if direction.eq_ignore_ascii_case("desc") => (*field, true),
        _ => return None,
    };
    let order = [
        ("definitionKey", ListOrder::DefinitionKey),
        ("name", ListOrder::Name),
        ("createdDate", ListOrder::CreatedDate),
        ("modifiedDate", ListOrder::ModifiedDate),
        ("status", ListOrder::Status),
    ]
    .into_iter()
    .find(|(name, _)| name.eq_ignore_ascii_case(field))?
    .1;
    Some((order, descending))
}

// ---- sends (API.md §9 "Sends") ------------------------------------------------------------------

/// At most this many recipients per request.
pub const MAX_RECIPIENTS: usize = 250;
/// A `messageKey`: 1–100 characters of `[A-Za-z0-9._~-]`.
pub const MAX_MESSAGE_KEY_CHARS: usize = 100;

pub fn is_message_key(key: &str) -> bool {
    (1..=MAX_MESSAGE_KEY_CHARS).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'~' | b'-'))
}

fn bad_message_key() -> TxError {
    TxError::new(
        109108,
        "MCMS_UTM_Validation_InvalidValue_messageKey",
        format!("messageKey must be 1 to {MAX_MESSAGE_KEY_CHARS} of letters, digits, '.', '_', '~' or '-'"),
    )
}

pub fn duplicate_message_key() -> TxError {
    TxError::new(
        109110,
        "MCMS_UTM_Validation_DuplicateMessageKey",
        "messageKey is already used",
    )
}

/// An unknown or archived `definitionKey` of a send.
pub fn unknown_definition(key: &str) -> TxError {
    TxError::new(
        109111,
        "MCMS_UTM_Validation_InvalidValue_definitionKey",
        format!("definitionKey {key} is not a definition of this account"),
    )
}

/// A text over §1's limit once the attributes are filled in.
pub fn text_too_long() -> TxError {
    TxError::invalid_value(format!(
        "the text is over {MAX_TEXT_CHARS} characters after substitution"
    ))
}

/// The top-level `{n} subscribers failed to queue out of {m}` of a request with refusals.
pub fn responses_have_errors(failed: usize, total: usize) -> TxError {
    TxError::new(
        109001,
        "MCMS_UTM_ResponsesHasErrors",
        format!("{failed} subscribers failed to queue out of {total}"),
    )
}

/// Attributes as given: names as spelled, values as text.
pub type Attributes = Vec<(String, String)>;

/// One recipient of a request, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientRead {
    /// As given (checked only when the recipient is otherwise valid).
    pub message_key: Option<String>,
    /// The recipient, or its refusal.
    pub valid: Result<ValidRecipient, TxError>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidRecipient {
    /// Digits (§1's rule).
    pub to: String,
    pub contact_key: String,
    pub attributes: Attributes,
}

/// A send request, its top level valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendFields {
    pub definition_key: String,
    pub resubscribe: bool,
    /// `content.message`: replaces the definition's text.
    pub message: Option<String>,
    /// The request's `attributes` (a recipient's own of the same name win).
    pub attributes: Attributes,
    pub recipients: Vec<RecipientRead>,
}

/// Which route a send came by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendRoute<'a> {
    /// `POST /messaging/v1/sms/messages/{messageKey}`: the path's key.
    One(&'a str),
    /// `POST /messaging/v1/sms/messages`.
    Many,
}

impl SendFields {
    /// A send's body: the first top-level error (required fields and types, then values), or
    /// the request with each recipient read (valid, or its own refusal). On the one-recipient
    /// route the path's key must be valid and is the recipient's.
    pub fn read(fields: &Fields, route: SendRoute<'_>) -> Result<SendFields, TxError> {
        let mut r = Reader::new(fields);
        let definition_key = r.required_string(
            "definitionKey",
            "definitionKey",
            Some(TxError::new(
                109107,
                "MCMS_UTM_Validation_MissingRequiredField_definitionKey",
                "definitionKey is required",
            )),
        );
        let one = r.read(None, |r| r.object("recipient"));
        let many = r.read(None, |r| match r.any("recipients") {
            Some(crate::Json::Array(items)) => Some(items.as_slice()),
            Some(_) => {
                r.type_error("recipients must be an array.".to_string());
                None
            }
            None => None,
        });
        let attributes = r
            .object("attributes")
            .map(|a| read_attributes(&mut r, a, "attributes"));
        let resubscribe = match r.object("subscriptions") {
            Some(subscriptions) => {
                let mut inner = Reader::new(subscriptions);
                let value = inner.bool(
                    "resubscribe",
                    109114,
                    "MCMS_UTM_Validation_InvalidValue_resubscribe",
                );
                if let Some(error) = inner.first {
                    r.fail(error);
                }
                value
            }
            None => None,
        };
        let message = match r.object("content") {
            Some(content) => {
                let mut inner = Reader::new(content);
                let message = inner.string("message");
                if let Some(error) = inner.first {
                    r.fail(error);
                }
                message
            }
            None => None,
        };
        if let Some(error) = r.first {
            return Err(error);
        }
        let definition_key = definition_key.unwrap_or_default();
        // Values, top level.
        let items: Vec<&Fields> = match (one, many, route) {
            (Some(_), Some(_), _) => {
                return Err(TxError::invalid_value(
                    "recipient and recipients cannot both be given",
                ))
            }
            (Some(recipient), None, _) => vec![recipient],
            (None, Some(items), SendRoute::Many) => {
                let mut objects = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        crate::Json::Object(fields) => objects.push(fields),
                        _ => {
                            return Err(TxError::data_type("each of recipients must be an object."))
                        }
                    }
                }
                objects
            }
            (None, Some(_), SendRoute::One(_)) => {
                return Err(TxError::invalid_value(
                    "this route takes one recipient, in recipient",
                ))
            }
            (None, None, _) => Vec::new(),
        };
        if items.is_empty() {
            return Err(TxError::new(
                109102,
                "MCMS_UTM_Validation_NoSubscribers",
                "there is no recipient",
            ));
        }
        if items.len() > MAX_RECIPIENTS {
            return Err(TxError::new(
                109101,
                "MCMS_UTM_Validation_TooManySubscribers",
                format!("at most {MAX_RECIPIENTS} recipients per request"),
            ));
        }
        if EncodedId::parse(&definition_key).is_none() {
            return Err(unknown_definition(&definition_key));
        }
        if let Some(message) = &message {
            if message.trim().is_empty() || message.chars().count() > MAX_TEXT_CHARS {
                return Err(TxError::invalid_value(format!(
                    "content.message must be 1 to {MAX_TEXT_CHARS} characters"
                )));
            }
        }
        if let SendRoute::One(key) = route {
            if !is_message_key(key) {
                return Err(bad_message_key());
            }
        }
        // Recipients, each on its own.
        let mut seen = std::collections::HashSet::new();
        let recipients = items
            .into_iter()
            .map(|item| {
                let mut read = read_recipient(item);
                if let SendRoute::One(key) = route {
                    read.message_key = Some(key.to_string());
                }
                if read.valid.is_ok() {
                    if let Some(key) = &read.message_key {
                        if !is_message_key(key) {
                            read.valid = Err(bad_message_key());
                        } else if !seen.insert(key.to_ascii_lowercase()) {
                            read.valid = Err(duplicate_message_key());
                        }
                    }
                }
                read
            })
            .collect();
        Ok(SendFields {
            definition_key,
            resubscribe: resubscribe.unwrap_or(false),
            message,
            attributes: attributes.unwrap_or_default(),
            recipients,
        })
    }
}

/// An `attributes` object: scalar values as text; an object or array value is a type error.
fn read_attributes(r: &mut Reader<'_>, fields: &Fields, name: &str) -> Attributes {
    let mut out = Vec::new();
    for (key, value) in fields.entries() {
        let text = match value {
            crate::Json::String(s) => Some(s.clone()),
            crate::Json::Number(n) => Some(n.to_string()),
            crate::Json::Bool(b) => Some(b.to_string()),
            crate::Json::Null => None,
            _ => {
                r.fail(TxError::data_type(format!(
                    "{name}.{key} must be a string."
                )));
                None
            }
        };
        if let Some(text) = text {
            out.push((key.to_string(), text));
        }
    }
    out
}

fn read_recipient(fields: &Fields) -> RecipientRead {
    let mut r = Reader::new(fields);
    let to = r.read(None, |r| r.string_or_number("to"));
    let contact_key = r.read(None, |r| r.string_or_number("contactKey"));
    let message_key = r.string("messageKey");
    let attributes = r
        .object("attributes")
        .map(|a| read_attributes(&mut r, a, "attributes"));
    let valid = (|| {
        if let Some(error) = r.first.take() {
            return Err(error);
        }
        let Some(to) = to.filter(|t| !t.trim().is_empty()) else {
            return Err(TxError::new(
                109106,
                "MCMS_UTM_Validation_MissingRequiredField_to",
                "Invalid subscriber",
            ));
        };
        let Some(contact_key) = contact_key.filter(|k| !k.trim().is_empty()) else {
            return Err(TxError::new(
                109105,
                "MCMS_UTM_Validation_MissingRequiredField_subscriberKey",
                "contactKey is required",
            ));
        };
        let Ok(number) = crate::MobileNumber::parse(to.trim()) else {
            return Err(TxError::new(
                109121,
                "MCMS_UTM_Validation_InvalidValue_to",
                "to must be a mobile number of 8 to 15 digits",
            ));
        };
        Ok(ValidRecipient {
            to: number.as_str().to_string(),
            contact_key,
            attributes: attributes.unwrap_or_default(),
        })
    })();
    RecipientRead { message_key, valid }
}

/// A recipient's text: `base` with `%%Name%%` filled from its attributes over the request's
/// (names ignoring case); an unknown name becomes empty.
pub fn recipient_text(base: &str, request: &Attributes, own: &Attributes) -> String {
    crate::substitute(base, &|name: &str| {
        own.iter()
            .chain(request.iter())
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    })
}

/// The reference's name of a §5 code (`statusMessage` of a carrier failure).
pub fn status_name(code: i32) -> &'static str {
    match code {
        1000 => "QueuedToSfmcSendService",
        1500 => "QueueFailureToSfmcSendService",
        1501 => "ValidationError",
        2000 => "DeliveredToAggregator",
        2500 => "FailedToAggregator",
        2501 => "UnknownToAggregator",
        2600 => "ThrottledToAggregator",
        3000 => "Enroute",
        3001 => "SentToCarrier",
        3002 => "AcceptedByCarrier",
        4000 => "Delivered",
        4500 => "Undeliverable",
        4501 => "Expired",
        4502 => "Deleted",
        4503 => "Rejected",
        _ => "Unknown",
    }
}

/// The `statusMessage` of a subscriber code Tidings uses.
pub fn subscriber_status_message(code: i32) -> &'static str {
    match code {
        1 => "Unsubscribed",
        37 => "QueuedTransactionDeleted",
        39 => "SubscriberQueueCleared",
        138 => "ExceededExpirationPolicy",
        _ => "UnspecifiedError",
    }
}

/// The `statusMessage` of a NotSent `statusCode`: a subscriber code's name, or a §5 code's.
pub fn not_sent_message(code: i32) -> &'static str {
    match code {
        1 | 37 | 39 | 138 => subscriber_status_message(code),
        code => status_name(code),
    }
}

/// The notSent listing's query (API.md §9 "notSent listing").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotSentQuery {
    pub last_event_id: i64,
    pub page_size: u32,
}

impl NotSentQuery {
    /// From `type` (required: `notSent`, any case), `$pageSize` (default 20, more than 100 is
    /// 100) and `lastEventId` (a whole number; 0 when absent).
    pub fn parse(
        kind: Option<&str>,
        page_size: Option<&str>,
        last_event_id: Option<&str>,
    ) -> Result<NotSentQuery, TxError> {
        if !kind.is_some_and(|k| k.trim().eq_ignore_ascii_case("notSent")) {
            return Err(TxError::invalid_value("type must be notSent"));
        }
        let page_size = positive(page_size, "$pageSize")?
            .unwrap_or(DEFAULT_PAGE_SIZE)
            .min(MAX_PAGE_SIZE);
        let last_event_id = match last_event_id {
            None => 0,
            Some(v) => match v.trim().parse::<i64>() {
                Ok(n) if n >= 0 => n,
                _ => {
                    return Err(TxError::invalid_value(
                        "lastEventId must be a whole number from 0",
                    ))
                }
            },
        };
        Ok(NotSentQuery {
            last_event_id,
            page_size,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn create(body: &str) -> Result<DefinitionFields, TxError> {
        DefinitionFields::read_create(&Fields::parse(body.as_bytes()).expect("json"))
    }

    const EXAMPLE: &str = r#"{"definitionKey": "account-reset", "name": "account-reset",
        "description": "Using new SMS Transactional API",
        "content": {"message": "%%FirstName%%, your 2FA token is %%password%%"},
        "subscriptions": {"shortCode": "8201221", "countryCode": "US", "keyword": "PASSWORD"}}"#;

    #[test]
    fn the_documented_example_reads() {
        let read = create(EXAMPLE).expect("valid");
        assert_eq!(read.definition_key.as_deref(), Some("account-reset"));
        assert_eq!(read.short_code.as_deref(), Some("8201221"));
        assert_eq!(read.country_code, Some(Some("US".to_string())));
        assert_eq!(read.keyword.as_deref(), Some("PASSWORD"));
        assert_eq!(read.active, None);
    }

    #[test]
    fn nested_names_ignore_case() {
        let read = create(
            r#"{"DefinitionKey": "k", "NAME": "n", "Content": {"Message": "m"},
                "SUBSCRIPTIONS": {"shortcode": "1", "Keyword": "K", "AutoAddSubscriber": "false"}}"#,
        )
        .expect("valid");
        assert_eq!(read.message.as_deref(), Some("m"));
        assert_eq!(read.auto_add_subscriber, Some(false));
    }

    #[test]
    fn required_fields_come_before_values_in_table_order() {
        let e = create(r#"{"name": "n"}"#).unwrap_err();
        assert_eq!(
            (e.code, e.symbol),
            (
                109107,
                "MCMS_UTM_Validation_MissingRequiredField_definitionKey"
            )
        );
        // A bad key value comes after a missing name.
        let e = create(r#"{"definitionKey": "bad key"}"#).unwrap_err();
        assert_eq!((e.code, e.detail.as_str()), (10002, "name is required"));
        let e = create(
            r#"{"definitionKey": "k", "name": "n", "content": {"message": "m"},
            "subscriptions": {"shortCode": "1"}}"#,
        )
        .unwrap_err();
        assert_eq!(e.code, 109120);
        let e = create(r#"{"definitionKey": "k", "name": 5}"#).unwrap_err();
        assert_eq!(
            (e.code, e.symbol),
            (10001, "MCMS_UTM_Validation_InvalidDataType")
        );
        let e = create(
            r#"{"definitionKey": "bad key", "name": "n", "content": {"message": "m"},
            "subscriptions": {"shortCode": "1", "keyword": "K"}}"#,
        )
        .unwrap_err();
        assert_eq!((e.code, e.status()), (10005, 400));
        let e = create(
            r#"{"definitionKey": "k", "name": "n", "status": "deleted",
            "content": {"message": "m"}, "subscriptions": {"shortCode": "1", "keyword": "K"}}"#,
        )
        .unwrap_err();
        assert_eq!(e.detail, "status must be Active or Inactive");
        let e = create(
            r#"{"definitionKey": "k", "name": "n", "content": {"message": "m"},
            "subscriptions": {"shortCode": "1", "keyword": "K", "autoAddSubscriber": "maybe"}}"#,
        )
        .unwrap_err();
        assert_eq!(e.code, 109113);
    }

    #[test]
    fn listing_queries() {
        let q = ListQuery::parse(
            Some("status eq active"),
            Some("name"),
            Some("1"),
            Some("10"),
        )
        .expect("valid");
        assert_eq!(q.filter, Some((true, ListStatus::Active)));
        assert_eq!(
            (q.order, q.descending, q.page, q.page_size),
            (ListOrder::Name, false, 1, 10)
        );
        let q = ListQuery::parse(
            Some("Status NEQ Deleted"),
            Some("modifiedDate desc"),
            None,
            Some("500"),
        )
        .expect("valid");
        assert_eq!(q.filter, Some((false, ListStatus::Deleted)));
        assert_eq!((q.descending, q.page_size), (true, 100));
        for (filter, order, page) in [
            (Some("name eq x"), None, None),
            (Some("status gt active"), None, None),
            (None, Some("size"), None),
            (None, Some("name up"), None),
            (None, None, Some("0")),
            (None, None, Some("x")),
        ] {
            let e = ListQuery::parse(filter, order, page, None).unwrap_err();
            assert_eq!(e.code, 10005, "{filter:?} {order:?} {page:?}");
        }
    }

    /// A JSON value for a definition field: scalars of every type, or an object of the nested
    /// fields.
    fn value() -> impl Strategy<Value = serde_json::Value> {
        let scalar = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            "\\PC{0,80}".prop_map(serde_json::Value::from),
            prop::sample::select(vec![
                "active", "INACTIVE", "deleted", "true", "false", "a b"
            ])
            .prop_map(serde_json::Value::from),
        ];
        scalar.prop_recursive(2, 16, 6, |inner| {
            prop::collection::vec((name(), inner), 0..6)
                .prop_map(|fields| serde_json::Value::Object(fields.into_iter().collect()))
        })
    }

    fn name() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "definitionKey",
            "NAME",
            "description",
            "status",
            "content",
            "message",
            "subscriptions",
            "shortCode",
            "countryCode",
            "keyword",
            "autoAddSubscriber",
            "updateSubscriber",
            "other",
        ])
        .prop_map(str::to_string)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]
        #[test]
        fn no_body_panics_and_an_accepted_one_holds_checked_values(
            fields in prop::collection::vec((name(), value()), 0..10)
        ) {
            let body = serde_json::Value::Object(fields.into_iter().collect()).to_string();
            let fields = Fields::parse(body.as_bytes()).expect("an object");
            if let Ok(read) = DefinitionFields::read_create(&fields) {
                prop_assert!(read.definition_key.as_deref().is_some_and(|k| check_definition_key(k).is_ok()));
                prop_assert!(read.message.is_some() && read.short_code.is_some() && read.keyword.is_some());
            }
            let _ = DefinitionFields::read_patch(&fields);
        }

        #[test]
        fn no_query_panics(a in "\\PC{0,40}", b in "\\PC{0,40}", c in "\\PC{0,10}") {
            if let Ok(q) = ListQuery::parse(Some(&a), Some(&b), Some(&c), Some(&c)) {
                prop_assert!(q.page >= 1 && (1..=MAX_PAGE_SIZE).contains(&q.page_size));
            }
        }
    }

    fn send(body: &str, route: SendRoute<'_>) -> Result<SendFields, TxError> {
        SendFields::read(&Fields::parse(body.as_bytes()).expect("json"), route)
    }

    #[test]
    fn the_documented_send_examples_read() {
        let one = send(
            r#"{"definitionKey": "account-reset",
                "recipient": {"to": "15555551234", "contactKey": "Astro25",
                              "attributes": {"FirstName": "Astro", "password": "1234567890ab"}},
                "subscriptions": {"resubscribe": true}}"#,
            SendRoute::One("f4fe74b7-c3c0-4e5a-9f49-b63a641109a2"),
        )
        .expect("valid");
        assert!(one.resubscribe);
        assert_eq!(one.recipients.len(), 1);
        assert_eq!(
            one.recipients[0].message_key.as_deref(),
            Some("f4fe74b7-c3c0-4e5a-9f49-b63a641109a2")
        );
        let valid = one.recipients[0].valid.as_ref().expect("valid recipient");
        assert_eq!(
            (valid.to.as_str(), valid.contact_key.as_str()),
            ("15555551234", "Astro25")
        );
        assert_eq!(
            recipient_text(
                "%%FirstName%%, %%password%%",
                &one.attributes,
                &valid.attributes
            ),
            "Astro, 1234567890ab"
        );
    }

    #[test]
    fn recipients_fail_on_their_own_and_duplicate_keys_in_a_request_are_refused() {
        let many = send(
            r#"{"definitionKey": "d", "recipients": [
                {"contactKey": "a"}, {"to": "15555551234"}, {"to": "12", "contactKey": "c"},
                {"to": "15555551235", "contactKey": "d", "messageKey": "K"},
                {"to": "15555551236", "contactKey": "e", "messageKey": "k"},
                {"to": "15555551237", "contactKey": "f", "messageKey": "a b"}]}"#,
            SendRoute::Many,
        )
        .expect("valid request");
        let codes: Vec<Option<u32>> = many
            .recipients
            .iter()
            .map(|r| r.valid.as_ref().err().map(|e| e.code))
            .collect();
        assert_eq!(
            codes,
            [
                Some(109106),
                Some(109105),
                Some(109121),
                None,
                Some(109110),
                Some(109108)
            ]
        );
    }

    /// A JSON value for a send field: scalars of every type, arrays and objects of the fields.
    fn send_value() -> impl Strategy<Value = serde_json::Value> {
        let scalar = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            "\\PC{0,40}".prop_map(serde_json::Value::from),
            prop::sample::select(vec!["15555551234", "k-1", "d", "true", "notSent"])
                .prop_map(serde_json::Value::from),
        ];
        scalar.prop_recursive(3, 24, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
                prop::collection::vec((send_name(), inner), 0..6)
                    .prop_map(|f| serde_json::Value::Object(f.into_iter().collect())),
            ]
        })
    }

    fn send_name() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "definitionKey",
            "recipient",
            "recipients",
            "to",
            "contactKey",
            "messageKey",
            "attributes",
            "subscriptions",
            "resubscribe",
            "content",
            "message",
            "FirstName",
        ])
        .prop_map(str::to_string)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]
        #[test]
        fn no_send_body_panics_and_an_accepted_one_holds_checked_values(
            fields in prop::collection::vec((send_name(), send_value()), 0..8),
            key in "\\PC{0,12}",
        ) {
            let body = serde_json::Value::Object(fields.into_iter().collect()).to_string();
            let fields = Fields::parse(body.as_bytes()).expect("an object");
            for route in [SendRoute::Many, SendRoute::One(&key)] {
                if let Ok(read) = SendFields::read(&fields, route) {
                    prop_assert!((1..=MAX_RECIPIENTS).contains(&read.recipients.len()));
                    prop_assert!(EncodedId::parse(&read.definition_key).is_some());
                    for r in &read.recipients {
                        if let Ok(valid) = &r.valid {
                            prop_assert!(crate::MobileNumber::parse(&valid.to).is_ok());
                            prop_assert!(!valid.contact_key.trim().is_empty());
                            prop_assert!(r.message_key.as_deref().is_none_or(is_message_key));
                        }
                    }
                }
            }
        }

        #[test]
        fn no_not_sent_query_panics(a in "\\PC{0,12}", b in "\\PC{0,12}", c in "\\PC{0,24}") {
            if let Ok(q) = NotSentQuery::parse(Some(&a), Some(&b), Some(&c)) {
                prop_assert!(q.last_event_id >= 0 && (1..=MAX_PAGE_SIZE).contains(&q.page_size));
            }
        }
    }
}

//! `POST /sms/v1/message/outbound` and `POST /sms/v1/message/optin`: their requests and
//! validation (API.md §6b, with the messages of MobileConnect's "Possible Errors" table). Both
//! name a message and one of the account's codes the same way; the opt-in request also
//! describes a keyword's behaviour (Single, Double, Age).

use serde::{Deserialize, Serialize};

use crate::fields::{FieldReader, Json};
use crate::limits;
use crate::send_list::is_blank;
use crate::time::format_timestamp;

/// Most characters of a `MessageName`.
pub const MAX_MESSAGE_NAME_CHARS: usize = 100;

/// `ShortCode` with `CountryCode`, or `LongCode`: the code a message is created on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CodeFields {
    pub short_code: Option<String>,
    pub long_code: Option<String>,
    pub country_code: Option<String>,
}

/// The code to look up in the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeQuery<'a> {
    /// A short code of that (two-letter) country.
    Short {
        code: &'a str,
        country: &'a str,
    },
    Long {
        code: &'a str,
    },
}

impl CodeFields {
    pub fn read(r: &mut FieldReader<'_>) -> CodeFields {
        CodeFields {
            short_code: r.string("ShortCode").map(str::to_owned),
            long_code: r.string("LongCode").map(str::to_owned),
            country_code: r.string("CountryCode").map(str::to_owned),
        }
    }

    fn country(&self) -> Option<&str> {
        self.country_code
            .as_deref()
            .map(str::trim)
            .filter(|c| c.chars().count() == 2)
    }

    /// The code to look up: the fields name exactly one code, not blank, and a short code
    /// has a two-letter country.
    pub fn query(&self) -> Option<CodeQuery<'_>> {
        match (self.short_code.as_deref(), self.long_code.as_deref()) {
            (Some(code), None) if !is_blank(code) => {
                self.country().map(|country| CodeQuery::Short {
                    code: code.trim(),
                    country,
                })
            }
            (None, Some(code)) if !is_blank(code) => Some(CodeQuery::Long { code: code.trim() }),
            _ => None,
        }
    }

    /// The table's messages about the code, in order; `found` answers [`query`](Self::query).
    pub fn messages(&self, found: bool, errors: &mut Vec<String>) {
        let short = self.short_code.as_deref();
        let long = self.long_code.as_deref();
        match (short, long) {
            (None, None) => errors.push("A ShortCode or LongCode must be specified.".to_owned()),
            (Some(_), Some(_)) => errors
                .push("ShortCode and LongCode cannot be specified at the same time.".to_owned()),
            _ => {}
        }
        if short.is_some_and(is_blank) {
            errors.push("ShortCode cannot only contain whitespace.".to_owned());
        }
        let country_needed = short.is_some() || self.country_code.is_some();
        if country_needed && self.country().is_none() {
            errors.push("CountryCode must have a length of 2.".to_owned());
        }
        if let Some(CodeQuery::Short { code, country }) = self.query().filter(|_| !found) {
            errors.push(format!(
                "The ShortCode {code} with CountryCode {country} cannot be found on the account. \
                 Please ensure that the ShortCode and CountryCode are valid and set up on the account."
            ));
        }
        if long.is_some_and(is_blank) {
            errors.push("LongCode cannot only contain whitespace.".to_owned());
        }
        if let Some(CodeQuery::Long { code }) = self.query().filter(|_| !found) {
            errors.push(format!(
                "The LongCode {code} does not exist for the account."
            ));
        }
    }
}

/// The `MessageName` messages, in the table's order.
fn name_messages(name: Option<&str>, errors: &mut Vec<String>) {
    match name {
        None => errors.push("The MessageName field must be specified.".to_owned()),
        Some(n) if is_blank(n) => errors
            .push("The MessageName field cannot be blank or only contain whitespace.".to_owned()),
        Some(n) if limits::longer_than(n, MAX_MESSAGE_NAME_CHARS) => errors.push(format!(
            "The MessageName field cannot contain more than {MAX_MESSAGE_NAME_CHARS} characters."
        )),
        Some(_) => {}
    }
}

/// `POST /sms/v1/message/outbound` as read.
#[derive(Debug, Clone, Default)]
pub struct OutboundRequest {
    pub name: Option<String>,
    pub text: Option<String>,
    pub code: CodeFields,
    /// Messages of reading the request (API.md §1), first in the answer.
    pub problems: Vec<String>,
}

/// A valid outbound message: its name and text (the code is the one looked up).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidOutbound {
    pub name: String,
    pub text: String,
}

impl OutboundRequest {
    pub fn read(r: &mut FieldReader<'_>) -> OutboundRequest {
        OutboundRequest {
            name: r.string("MessageName").map(str::to_owned),
            text: r.string("MessageText").map(str::to_owned),
            code: CodeFields::read(r),
            problems: Vec::new(),
        }
    }

    /// Every message in the table's order; `code_found` answers the code's query.
    pub fn validate(&self, code_found: bool) -> Result<ValidOutbound, Vec<String>> {
        let mut errors = self.problems.clone();
        name_messages(self.name.as_deref(), &mut errors);
        self.code.messages(code_found, &mut errors);
        match self.text.as_deref() {
            None => errors.push("The MessageText field must be specified.".to_owned()),
            Some(t) if is_blank(t) => errors.push(
                "The MessageText field cannot be blank or only contain whitespace.".to_owned(),
            ),
            Some(t) => errors.extend(limits::check_text("MessageText", t)),
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ValidOutbound {
            name: self.name.clone().unwrap_or_default().trim().to_owned(),
            text: self.text.clone().unwrap_or_default(),
        })
    }
}

/// How an opt-in message subscribes (`MessageOptInType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum OptInType {
    #[default]
    /// One text of the keyword subscribes.
    Single,
    /// The number confirms with one of the valid responses.
    Double,
    /// The number confirms with its age, at least the minimum.
    Age,
}

impl OptInType {
    pub fn parse(s: &str) -> Option<OptInType> {
        [OptInType::Single, OptInType::Double, OptInType::Age]
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s.trim()))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            OptInType::Single => "Single",
            OptInType::Double => "Double",
            OptInType::Age => "Age",
        }
    }
}

/// A day of the opt-in's `startDate`/`endDate`: `M/d/yyyy` or `yyyy-MM-dd` (API.md §6b), a CST
/// day. Stored as `yyyy-MM-dd`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Day {
    pub year: i32,
    pub month: u8,
    pub day: u8,
}

impl TryFrom<String> for Day {
    type Error = String;
    fn try_from(s: String) -> Result<Day, String> {
        Day::parse(&s).ok_or_else(|| format!("{s} isn't a date"))
    }
}

impl From<Day> for String {
    fn from(d: Day) -> String {
        format!("{:04}-{:02}-{:02}", d.year, d.month, d.day)
    }
}

impl Day {
    /// The CST day (API.md §1's fixed UTC−06:00) of an instant.
    pub fn of(ms: i64) -> Option<Day> {
        Day::parse(format_timestamp(ms, false).get(..10)?)
    }

    pub fn parse(s: &str) -> Option<Day> {
        let s = s.trim();
        let (year, month, day) = if let Some((m, rest)) = s.split_once('/') {
            let (d, y) = rest.split_once('/')?;
            (y, m, d)
        } else {
            let mut parts = s.splitn(3, '-');
            (parts.next()?, parts.next()?, parts.next()?)
        };
        let number = |p: &str, max_len: usize| {
            (!p.is_empty() && p.len() <= max_len && p.bytes().all(|b| b.is_ascii_digit()))
                .then(|| p.parse::<u32>().ok())
                .flatten()
        };
        let year = number(year, 4).filter(|y| *y >= 1)?;
        let month = number(month, 2).filter(|m| (1..=12).contains(m))?;
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let days = match month {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        let day = number(day, 2).filter(|d| (1..=days).contains(d))?;
        Some(Day {
            year: i32::try_from(year).ok()?,
            month: u8::try_from(month).ok()?,
            day: u8::try_from(day).ok()?,
        })
    }
}

/// `POST /sms/v1/message/optin` as read (API.md §6b).
#[derive(Debug, Clone, Default)]
pub struct OptInRequest {
    pub name: Option<String>,
    pub code: CodeFields,
    pub keyword: Option<String>,
    pub opt_in_type: Option<String>,
    pub response_message: Option<String>,
    pub initial_message: Option<String>,
    pub confirmation_message: Option<String>,
    pub valid_responses: Option<String>,
    pub invalid_age_message: Option<String>,
    /// `MinimumAge` as given: a JSON number or a numeric string.
    pub minimum_age: Option<String>,
    pub allow_single_opt_in: Option<bool>,
    pub duplicate_message: Option<String>,
    pub error_message: Option<String>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub next_keyword: Option<String>,
    pub problems: Vec<String>,
}

/// A valid opt-in message: the keyword's behaviour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidOptIn {
    pub keyword: String,
    /// Single: the reply to the keyword; Double and Age: the reply after a valid confirmation.
    pub response: Option<String>,
    /// Double and Age: the request text (asks for the confirmation or the age).
    pub request_text: Option<String>,
    /// The rest of its behaviour, kept with the keyword.
    pub rules: OptInRules,
}

/// What an opt-in message adds to its keyword's behaviour (API.md §6b), kept with the keyword.
/// The request and confirmation texts are the keyword's `confirmText` and `response`; Double
/// and Age keywords are double opt-in keywords (InProgress until confirmed).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OptInRules {
    pub kind: OptInType,
    /// The opt-in message's name.
    #[serde(default)]
    pub name: String,
    /// Double: the confirmations, upper-case (empty: `Y`, `YES`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub valid_responses: Vec<String>,
    /// Age: the youngest age that confirms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_age: Option<u32>,
    /// Age: the reply to an age below the minimum (the request ends).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalid_age_text: Option<String>,
    /// Age: the reply to anything but an age (the request stays pending).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_text: Option<String>,
    /// The reply to a number already Subscribed (instead of the response).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_text: Option<String>,
    /// Outside these CST days (inclusive) the keyword does not subscribe: the code's help text
    /// answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<Day>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date: Option<Day>,
    /// The sender's next text is handled as if it began with this keyword.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_keyword: Option<String>,
}

impl OptInRules {
    /// Whether the keyword subscribes at `now` (its CST day within the dates).
    pub fn open_at(&self, now: i64) -> bool {
        let Some(today) = Day::of(now) else {
            return true;
        };
        self.start_date.is_none_or(|s| s <= today) && self.end_date.is_none_or(|e| today <= e)
    }

    /// Whether `word` (any case) confirms a Double request.
    pub fn confirms(&self, word: &str) -> bool {
        let upper = word.trim().to_uppercase();
        if self.valid_responses.is_empty() {
            upper == "Y" || upper == "YES"
        } else {
            self.valid_responses.contains(&upper)
        }
    }
}

/// What validation needs to know of the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptInFacts {
    pub code_found: bool,
    /// The keyword is a reserved word (STOP, HELP, …).
    pub keyword_reserved: bool,
}

impl OptInRequest {
    pub fn read(r: &mut FieldReader<'_>) -> OptInRequest {
        let text = |r: &mut FieldReader<'_>, name: &str| r.string(name).map(str::to_owned);
        let minimum_age = match r.any("MinimumAge") {
            Some(Json::Number(n)) => Some(n.to_string()),
            Some(Json::String(s)) => Some(s.clone()),
            Some(_) => {
                let spelling = r.spelling("MinimumAge").unwrap_or("MinimumAge");
                r.type_error(format!("{spelling} must be a number."));
                None
            }
            None => None,
        };
        // The confirmation message's two documented spellings are one field.
        let confirmation = text(r, "doubleOptInConfirmationMessage")
            .or_else(|| text(r, "doubleOptInConformationMessage"));
        OptInRequest {
            name: text(r, "messageName"),
            code: CodeFields::read(r),
            keyword: text(r, "keyword"),
            opt_in_type: text(r, "messageOptInType"),
            response_message: text(r, "responseMessage"),
            initial_message: text(r, "doubleOptInInitialMessage"),
            confirmation_message: confirmation,
            valid_responses: text(r, "doubleOptInValidResponses"),
            invalid_age_message: text(r, "optInInvalidAgeMessage"),
            minimum_age,
            allow_single_opt_in: r.bool("allowSingleOptIn"),
            duplicate_message: text(r, "duplicateOptInMessage"),
            error_message: text(r, "optinErrorMessage"),
            start_date: text(r, "startDate"),
            end_date: text(r, "endDate"),
            next_keyword: text(r, "NextKeyword"),
            problems: Vec::new(),
        }
    }

    /// The keyword as it will be stored, when given (trimmed, not blank).
    pub fn keyword(&self) -> Option<&str> {
        self.keyword
            .as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty())
    }

    /// Every message, in this order: the name's and the code's (as `message/outbound`), the
    /// keyword's, the type's, each field the type requires (`{Field} is invalid. It must be
    /// specified when MessageOptInType is {Type}.`), the minimum age, the texts' lengths, the
    /// dates and the next keyword.
    pub fn validate(&self, facts: OptInFacts) -> Result<ValidOptIn, Vec<String>> {
        let mut errors = self.problems.clone();
        name_messages(self.name.as_deref(), &mut errors);
        self.code.messages(facts.code_found, &mut errors);
        let opt_in_type = self.opt_in_type.as_deref().and_then(OptInType::parse);
        let types = match opt_in_type {
            Some(t) => t.as_str(),
            None => "Single, Double or Age",
        };
        let required = |field: &str, when: &str| {
            format!("{field} is invalid. It must be specified when MessageOptInType is {when}.")
        };
        match self.keyword() {
            None => errors.push(required("Keyword", types)),
            Some(k) if k.split_whitespace().count() != 1 => {
                errors.push(format!("Keyword {k} must be a single word."))
            }
            Some(k) if facts.keyword_reserved => errors.push(format!("Keyword {k} is reserved.")),
            Some(_) => {}
        }
        if opt_in_type.is_none() {
            errors
                .push("MessageOptInType is invalid. It must be Single, Double or Age.".to_owned());
        }
        let given = |v: &Option<String>| v.as_deref().filter(|s| !is_blank(s)).map(str::to_owned);
        let response = given(&self.response_message);
        let request_text = given(&self.initial_message);
        let confirmation = given(&self.confirmation_message);
        let invalid_age = given(&self.invalid_age_message);
        let error_message = given(&self.error_message);
        match opt_in_type {
            Some(OptInType::Single) if response.is_none() => {
                errors.push(required("ResponseMessage", "Single"))
            }
            Some(OptInType::Double | OptInType::Age) => {
                if request_text.is_none() {
                    errors.push(required("DoubleOptinInitialMessage", "Double or Age"));
                }
                if confirmation.is_none() {
                    errors.push(required("DoubleOptinConfirmationMessage", "Double or Age"));
                }
            }
            _ => {}
        }
        let mut minimum_age = None;
        if opt_in_type == Some(OptInType::Age) {
            if invalid_age.is_none() {
                errors.push(required("OptInInvalidAgeMessage", "Age"));
            }
            if error_message.is_none() {
                errors.push(required("OptinErrorMessage", "Age"));
            }
            match self.minimum_age.as_deref().map(str::trim) {
                None | Some("") => errors.push(required("MinimumAge", "Age")),
                Some(age) => match age.parse::<u32>() {
                    Ok(a) if a <= 150 => minimum_age = Some(a),
                    _ => errors.push(format!(
                        "MinimumAge is invalid. {age} isn't a whole number from 0 to 150."
                    )),
                },
            }
        }
        let duplicate_message = given(&self.duplicate_message);
        if self.allow_single_opt_in == Some(true) && duplicate_message.is_none() {
            errors.push(
                "DuplicateOptInMessage is invalid. It must be specified when AllowSingleOptIn is true."
                    .to_owned(),
            );
        }
        for (field, text) in [
            ("ResponseMessage", &response),
            ("DoubleOptinInitialMessage", &request_text),
            ("DoubleOptinConfirmationMessage", &confirmation),
            ("OptInInvalidAgeMessage", &invalid_age),
            ("OptinErrorMessage", &error_message),
            ("DuplicateOptInMessage", &duplicate_message),
        ] {
            if let Some(m) = text.as_deref().and_then(|t| limits::check_text(field, t)) {
                errors.push(m);
            }
        }
        let day = |field: &str, value: &Option<String>, errors: &mut Vec<String>| {
            let value = value.as_deref().filter(|v| !is_blank(v))?;
            let parsed = Day::parse(value);
            if parsed.is_none() {
                errors.push(format!(
                    "{field} is invalid. {value} isn't a date (M/d/yyyy or yyyy-MM-dd)."
                ));
            }
            parsed
        };
        let start_date = day("StartDate", &self.start_date, &mut errors);
        let end_date = day("EndDate", &self.end_date, &mut errors);
        if let (Some(s), Some(e)) = (start_date, end_date) {
            if e < s {
                errors.push("EndDate is invalid. It can't be before StartDate.".to_owned());
            }
        }
        let next_keyword = self
            .next_keyword
            .as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty());
        if let Some(k) = next_keyword.filter(|k| k.split_whitespace().count() != 1) {
            errors.push(format!("NextKeyword {k} must be a single word."));
        }
        let (Some(keyword), Some(opt_in_type)) = (self.keyword(), opt_in_type) else {
            return Err(errors);
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        // Double's confirmations, upper-cased; none given: the rules' default (`Y`, `YES`).
        let valid_responses = match opt_in_type {
            OptInType::Double => self
                .valid_responses
                .as_deref()
                .unwrap_or_default()
                .split(',')
                .map(|r| r.trim().to_uppercase())
                .filter(|r| !r.is_empty())
                .collect(),
            _ => Vec::new(),
        };
        Ok(ValidOptIn {
            keyword: keyword.to_owned(),
            response: match opt_in_type {
                OptInType::Single => response,
                OptInType::Double | OptInType::Age => confirmation,
            },
            request_text: match opt_in_type {
                OptInType::Single => None,
                OptInType::Double | OptInType::Age => request_text,
            },
            rules: OptInRules {
                kind: opt_in_type,
                name: self.name.clone().unwrap_or_default().trim().to_owned(),
                valid_responses,
                minimum_age,
                invalid_age_text: invalid_age.filter(|_| opt_in_type == OptInType::Age),
                error_text: error_message,
                duplicate_text: duplicate_message
                    .filter(|_| self.allow_single_opt_in == Some(true)),
                start_date,
                end_date,
                next_keyword: next_keyword.map(str::to_owned),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::Fields;
    use proptest::prelude::*;
    use serde_json::json;

    fn outbound(body: serde_json::Value, found: bool) -> Result<ValidOutbound, Vec<String>> {
        let fields = Fields::parse(body.to_string().as_bytes()).expect("json");
        let mut r = FieldReader::new(&fields);
        let mut request = OutboundRequest::read(&mut r);
        request.problems = r.finish();
        request.validate(found)
    }

    fn opt_in(body: serde_json::Value, found: bool) -> Result<ValidOptIn, Vec<String>> {
        let fields = Fields::parse(body.to_string().as_bytes()).expect("json");
        let mut r = FieldReader::new(&fields);
        let mut request = OptInRequest::read(&mut r);
        request.problems = r.finish();
        request.validate(OptInFacts {
            code_found: found,
            keyword_reserved: false,
        })
    }

    #[test]
    fn outbound_messages_in_table_order() {
        assert_eq!(
            outbound(json!({}), false).unwrap_err(),
            vec![
                "The MessageName field must be specified.",
                "A ShortCode or LongCode must be specified.",
                "The MessageText field must be specified.",
            ]
        );
        assert_eq!(
            outbound(
                json!({"MessageName": " ", "ShortCode": " ", "LongCode": "", "CountryCode": "USA",
                       "MessageText": "\t"}),
                false
            )
            .unwrap_err(),
            vec![
                "The MessageName field cannot be blank or only contain whitespace.",
                "ShortCode and LongCode cannot be specified at the same time.",
                "ShortCode cannot only contain whitespace.",
                "CountryCode must have a length of 2.",
                "LongCode cannot only contain whitespace.",
                "The MessageText field cannot be blank or only contain whitespace.",
            ]
        );
        assert_eq!(
            outbound(
                json!({"MessageName": "n".repeat(101), "ShortCode": "123456", "CountryCode": "US",
                       "MessageText": "x".repeat(1601)}),
                false
            )
            .unwrap_err(),
            vec![
                "The MessageName field cannot contain more than 100 characters.",
                "The ShortCode 123456 with CountryCode US cannot be found on the account. Please ensure that the ShortCode and CountryCode are valid and set up on the account.",
                "MessageText can't be longer than 1600 characters.",
            ]
        );
        assert_eq!(
            outbound(
                json!({"MessageName": "n", "LongCode": "15555550000", "MessageText": "x"}),
                false
            )
            .unwrap_err(),
            vec!["The LongCode 15555550000 does not exist for the account."]
        );
        assert_eq!(
            outbound(
                json!({"MessageName": "Your Message Name", "MessageText": "Thanks for reading!",
                       "ShortCode": "123456", "CountryCode": "US"}),
                true
            )
            .expect("valid"),
            ValidOutbound {
                name: "Your Message Name".into(),
                text: "Thanks for reading!".into()
            }
        );
    }

    #[test]
    fn opt_in_types_require_their_fields() {
        let base = |t: &str| {
            json!({"messageName": "n", "shortCode": "88976", "countryCode": "US",
                   "keyword": "JOIN", "messageOptInType": t})
        };
        assert_eq!(
            opt_in(base("Single"), true).unwrap_err(),
            vec![
                "ResponseMessage is invalid. It must be specified when MessageOptInType is Single."
            ]
        );
        assert_eq!(
            opt_in(base("Double"), true).unwrap_err(),
            vec![
                "DoubleOptinInitialMessage is invalid. It must be specified when MessageOptInType is Double or Age.",
                "DoubleOptinConfirmationMessage is invalid. It must be specified when MessageOptInType is Double or Age.",
            ]
        );
        assert_eq!(
            opt_in(base("Age"), true).unwrap_err(),
            vec![
                "DoubleOptinInitialMessage is invalid. It must be specified when MessageOptInType is Double or Age.",
                "DoubleOptinConfirmationMessage is invalid. It must be specified when MessageOptInType is Double or Age.",
                "OptInInvalidAgeMessage is invalid. It must be specified when MessageOptInType is Age.",
                "OptinErrorMessage is invalid. It must be specified when MessageOptInType is Age.",
                "MinimumAge is invalid. It must be specified when MessageOptInType is Age.",
            ]
        );
        assert_eq!(
            opt_in(json!({"messageOptInType": "Triple"}), false).unwrap_err(),
            vec![
                "The MessageName field must be specified.",
                "A ShortCode or LongCode must be specified.",
                "Keyword is invalid. It must be specified when MessageOptInType is Single, Double or Age.",
                "MessageOptInType is invalid. It must be Single, Double or Age.",
            ]
        );
    }

    #[test]
    fn opt_in_examples_are_valid() {
        let double = opt_in(
            json!({"messageName": "Double", "shortCode": "88976", "countryCode": "US",
                   "keyword": "deals", "messageOptInType": "Double",
                   "doubleOptinInitialMessage": "Reply Y to confirm",
                   "doubleOptInConformationMessage": "Thanks",
                   "doubleOptInValidResponses": "y, sure", "messageText": "ignored",
                   "startDate": "1/1/2015", "endDate": "2035-12-31"}),
            true,
        )
        .expect("valid");
        assert_eq!(double.rules.valid_responses, vec!["Y", "SURE"]);
        assert_eq!(double.response.as_deref(), Some("Thanks"));
        assert_eq!(double.request_text.as_deref(), Some("Reply Y to confirm"));
        assert_eq!(
            double.rules.start_date,
            Some(Day {
                year: 2015,
                month: 1,
                day: 1
            })
        );
        let age = opt_in(
            json!({"messageName": "Age", "longCode": "15555550000", "keyword": "club",
                   "messageOptInType": "age", "doubleOptInInitialMessage": "How old are you?",
                   "doubleOptinConfirmationMessage": "Welcome", "optInInvalidAgeMessage": "Too young",
                   "MinimumAge": "13", "optInErrorMessage": "Send your age as a number",
                   "allowSingleOptIn": "true", "duplicateOptInMessage": "Already in",
                   "NextKeyword": "ZIP"}),
            true,
        )
        .expect("valid");
        assert_eq!(age.rules.kind, OptInType::Age);
        assert_eq!(age.rules.minimum_age, Some(13));
        assert_eq!(age.rules.duplicate_text.as_deref(), Some("Already in"));
        assert_eq!(age.rules.next_keyword.as_deref(), Some("ZIP"));
    }

    #[test]
    fn rules_round_trip_through_json_and_open_by_cst_day() {
        let rules = OptInRules {
            kind: OptInType::Double,
            name: "n".into(),
            valid_responses: vec!["SURE".into()],
            start_date: Day::parse("2026-12-07"),
            end_date: Day::parse("12/8/2026"),
            ..OptInRules::default()
        };
        let text = serde_json::to_string(&rules).expect("json");
        assert_eq!(
            serde_json::from_str::<OptInRules>(&text).expect("back"),
            rules
        );
        assert!(text.contains(r#""startDate":"2026-12-07""#), "{text}");
        // 2026-12-07T05:59:59.999Z is still 2026-12-06 in CST.
        let dec7_cst = 1_796_623_200_000;
        assert!(!rules.open_at(dec7_cst - 1));
        assert!(rules.open_at(dec7_cst));
        assert!(rules.open_at(dec7_cst + 2 * 86_400_000 - 1));
        assert!(!rules.open_at(dec7_cst + 2 * 86_400_000));
        assert!(rules.confirms(" sure "));
        assert!(!rules.confirms("Y"));
        assert!(OptInRules::default().confirms("yes"));
    }

    #[test]
    fn days_in_both_formats() {
        assert_eq!(
            Day::parse("2/29/2024"),
            Some(Day {
                year: 2024,
                month: 2,
                day: 29
            })
        );
        assert_eq!(Day::parse("2/29/2023"), None);
        assert_eq!(Day::parse("2024-13-01"), None);
        assert_eq!(Day::parse("1/1/15x"), None);
        assert!(Day::parse("2015-01-01") < Day::parse("1/2/2015"));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3_000))]

        /// Arbitrary bodies never panic, and a refusal always says why.
        #[test]
        fn arbitrary_bodies_never_panic(body in any::<Vec<u8>>(), found in any::<bool>()) {
            if let Ok(fields) = Fields::parse(&body) {
                let mut r = FieldReader::new(&fields);
                let o = OutboundRequest::read(&mut r);
                if let Err(e) = o.validate(found) {
                    prop_assert!(!e.is_empty());
                }
                let mut r = FieldReader::new(&fields);
                let i = OptInRequest::read(&mut r);
                if let Err(e) = i.validate(OptInFacts { code_found: found, keyword_reserved: found }) {
                    prop_assert!(!e.is_empty());
                }
            }
        }

        #[test]
        fn any_date_text_parses_or_is_refused(s in "\\PC{0,14}", t in "[0-9/-]{0,12}") {
            let _ = Day::parse(&s);
            if let Some(d) = Day::parse(&t) {
                prop_assert!((1..=12).contains(&d.month) && (1..=31).contains(&d.day));
            }
        }
    }
}

//! `POST /sms/v1/messageContact/{id}/send` and `POST /sms/v1/queueMO`: their requests and
//! validation (API.md §6). Both name explicit numbers, as an array of mobile numbers or of
//! subscriber objects, with the same messages.

use serde_json::Value;

use crate::fields::{FieldReader, Fields, Json};
use crate::ids::EncodedId;
use crate::limits;
use crate::mobile::{MobileNumber, MobileNumberError};
use crate::send_list::{is_blank, validate_content_url, validate_send_time, BlackoutInput};
use crate::time::BlackoutWindow;

/// Most numbers or subscribers one request may name.
pub const MAX_NUMBERS: usize = 250;

/// Parses each number, reporting the malformed ones in the order API.md §6 lists them: every
/// non-numeric one, then every one of a wrong length. `None` for a malformed number.
pub fn parse_numbers(raws: &[&str], errors: &mut Vec<String>) -> Vec<Option<MobileNumber>> {
    let parsed: Vec<Result<MobileNumber, MobileNumberError>> =
        raws.iter().map(|n| MobileNumber::parse(n)).collect();
    for kind in [
        MobileNumberError::NotNumeric,
        MobileNumberError::InvalidLength,
    ] {
        for (raw, p) in raws.iter().zip(&parsed) {
            if p.as_ref().err() == Some(&kind) {
                errors.push(kind.message(raw));
            }
        }
    }
    parsed.into_iter().map(Result::ok).collect()
}

/// One subscriber object as given.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SubscriberInput {
    pub mobile_number: Option<String>,
    pub subscriber_key: Option<String>,
    /// Attribute values as text (numbers and booleans as their JSON text).
    pub attributes: Option<serde_json::Map<String, Value>>,
    /// The API.md §1 length messages about the subscriber key and the attributes, in the
    /// order given.
    pub length_errors: Vec<String>,
}

/// A number that passed validation, with what was given for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Addressee {
    pub mobile_number: MobileNumber,
    pub subscriber_key: Option<String>,
    pub attributes: Option<serde_json::Map<String, Value>>,
}

/// The explicit numbers of a request: `mobileNumbers` or an array of subscriber objects.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExplicitNumbers {
    numbers: Option<Vec<String>>,
    subscribers: Option<Vec<SubscriberInput>>,
}

/// Where the "both arrays" message stands, and how it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Both {
    /// messageContact: after the zero-entries message.
    AfterZero,
    /// queueMO: first, in MobileConnect's documented queueMO wording.
    First,
}

impl ExplicitNumbers {
    /// Reads `numbers_field` (array of strings) and `subscribers_field` (array of objects with
    /// `MobileNumber`, `SubscriberKey` and, with `attributes`, `Attributes`).
    pub fn read(
        r: &mut FieldReader<'_>,
        numbers_field: &str,
        subscribers_field: &str,
        attributes: bool,
    ) -> ExplicitNumbers {
        let numbers = r
            .string_array(numbers_field)
            .map(|v| v.into_iter().map(str::to_owned).collect());
        let subscribers = match r.any(subscribers_field) {
            None => None,
            Some(Json::Array(items)) if items.iter().all(|i| matches!(i, Json::Object(_))) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    let Json::Object(fields) = item else { continue };
                    let mut nested = r.nested(fields);
                    let input = read_subscriber(&mut nested, attributes);
                    r.absorb(nested);
                    out.push(input);
                }
                Some(out)
            }
            Some(_) => {
                let spelling = r.spelling(subscribers_field).unwrap_or(subscribers_field);
                r.type_error(format!("{spelling} must be an array of objects."));
                None
            }
        };
        ExplicitNumbers {
            numbers,
            subscribers,
        }
    }

    /// The messages of API.md §6 about the numbers, in messageContact's table order: zero
    /// entries; both arrays; each subscriber without number or key; each over-long subscriber key, attribute name or
    /// attribute value (API.md §1: the subscriber's messages follow that group, in request
    /// order); each non-numeric number; each number of the wrong length; more than 250. The
    /// valid numbers, in request order.
    pub fn validate(&self, errors: &mut Vec<String>) -> Vec<Addressee> {
        self.validate_with(errors, Both::AfterZero)
    }

    /// [`validate`](Self::validate) as queueMO orders it (API.md §6): when both arrays are given,
    /// MobileConnect's documented queueMO text comes first ("cannot", no period).
    pub fn validate_queue_mo(&self, errors: &mut Vec<String>) -> Vec<Addressee> {
        self.validate_with(errors, Both::First)
    }

    fn validate_with(&self, errors: &mut Vec<String>, both: Both) -> Vec<Addressee> {
        let numbers = self.numbers.as_deref().unwrap_or_default();
        let subscribers = self.subscribers.as_deref().unwrap_or_default();
        let both_given = self.numbers.is_some() && self.subscribers.is_some();
        if both_given && both == Both::First {
            errors.push(
                "An array of mobile numbers and an array of subscribers cannot be provided at the same time"
                    .to_owned(),
            );
        }
        if numbers.is_empty() && subscribers.is_empty() {
            errors.push("The count of mobile numbers or subscribers can't be zero.".to_owned());
        }
        if both_given && both == Both::AfterZero {
            errors.push(
                "An array of mobile numbers and an array of subscribers can't be provided at the same time."
                    .to_owned(),
            );
        }
        for s in subscribers {
            if s.mobile_number.as_deref().is_none_or(is_blank)
                || s.subscriber_key.as_deref().is_none_or(is_blank)
            {
                errors.push(
                    "A subscriber object must have both a mobile number and subscriber key defined."
                        .to_owned(),
                );
            }
        }
        for s in subscribers {
            errors.extend(s.length_errors.iter().cloned());
        }
        // (raw number, subscriber) in request order; blank subscriber numbers are reported above.
        let given: Vec<(&str, Option<&SubscriberInput>)> = numbers
            .iter()
            .map(|n| (n.as_str(), None))
            .chain(subscribers.iter().filter_map(|s| {
                s.mobile_number
                    .as_deref()
                    .filter(|n| !is_blank(n))
                    .map(|n| (n, Some(s)))
            }))
            .collect();
        let raws: Vec<&str> = given.iter().map(|(n, _)| *n).collect();
        let parsed = parse_numbers(&raws, errors);
        if numbers.len() > MAX_NUMBERS || subscribers.len() > MAX_NUMBERS {
            errors.push("The count of mobile numbers or subscribers can't exceed 250.".to_owned());
        }
        given
            .iter()
            .zip(parsed)
            .filter_map(|((_, s), p)| {
                p.map(|mobile_number| Addressee {
                    mobile_number,
                    subscriber_key: s
                        .and_then(|s| s.subscriber_key.clone())
                        .filter(|k| !is_blank(k)),
                    attributes: s.and_then(|s| s.attributes.clone()),
                })
            })
            .collect()
    }
}

fn read_subscriber(r: &mut FieldReader<'_>, attributes: bool) -> SubscriberInput {
    let mobile_number = r.string("MobileNumber").map(str::to_owned);
    let subscriber_key = r.string("SubscriberKey").map(str::to_owned);
    let key_field = r.spelling("SubscriberKey").unwrap_or("SubscriberKey");
    let object = if attributes {
        r.object("Attributes")
    } else {
        None
    };
    // In the order given, before the map folds repeated names.
    let given: Vec<(String, String)> = object
        .map(|fields| {
            fields
                .entries()
                .iter()
                .filter_map(|(k, v)| {
                    let text = match v {
                        Json::String(s) => s.clone(),
                        Json::Number(n) => n.to_string(),
                        Json::Bool(b) => b.to_string(),
                        _ => return None,
                    };
                    Some((k.clone(), text))
                })
                .collect()
        })
        .unwrap_or_default();
    let length_errors = limits::contact_messages(
        key_field,
        subscriber_key.as_deref(),
        given.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    );
    let attributes = object.map(|_| {
        given
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect()
    });
    SubscriberInput {
        mobile_number,
        subscriber_key,
        attributes,
        length_errors,
    }
}

/// What validation needs to know of the stored message (rows needing the message are skipped
/// without one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContactMessageFacts {
    /// Status is Active or Scheduled.
    pub can_send: bool,
    /// The stored text is blank.
    pub text_is_blank: bool,
    /// The given (non-blank) keyword exists on the message's code.
    pub keyword_on_code: bool,
}

/// A `messageContact` request that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidSendContact {
    pub addressees: Vec<Addressee>,
    pub subscribe: bool,
    pub resubscribe: bool,
    /// The keyword, when `Subscribe` or `Resubscribe` is true.
    pub keyword: Option<String>,
    /// `messageText` when `Override` is true.
    pub override_text: Option<String>,
    pub window: Option<BlackoutWindow>,
    pub send_time: Option<i64>,
    pub content_url: Option<String>,
}

/// The parsed `messageContact` body, with the generic §1 messages it produced.
#[derive(Debug, Clone, PartialEq)]
pub struct SendContactRequest {
    numbers: ExplicitNumbers,
    subscribe: Option<bool>,
    resubscribe: Option<bool>,
    keyword: Option<String>,
    override_text: Option<bool>,
    message_text: Option<String>,
    blackout: Option<BlackoutInput>,
    send_time: Option<String>,
    content_url: Option<String>,
    generic_errors: Vec<String>,
}

impl SendContactRequest {
    pub fn from_fields(fields: &Fields) -> SendContactRequest {
        let mut r = FieldReader::new(fields);
        let numbers = ExplicitNumbers::read(&mut r, "mobileNumbers", "Subscribers", true);
        let subscribe = r.bool("Subscribe");
        let resubscribe = r.bool("Resubscribe");
        let keyword = r.string("keyword").map(str::to_owned);
        let override_text = r.bool("Override");
        let message_text = r.string("messageText").map(str::to_owned);
        let blackout = BlackoutInput::read(&mut r, "blackoutWindow");
        let send_time = r.string("SendTime").map(str::to_owned);
        let content_url = r.string("ContentURL").map(str::to_owned);
        SendContactRequest {
            numbers,
            subscribe,
            resubscribe,
            keyword,
            override_text,
            message_text,
            blackout,
            send_time,
            content_url,
            generic_errors: r.finish(),
        }
    }

    /// The keyword to look up on the message's code, when one was given (non-blank).
    pub fn keyword(&self) -> Option<&str> {
        self.keyword.as_deref().filter(|k| !is_blank(k))
    }

    /// Every applicable message in contract order (API.md §6 messageContact). `message` is
    /// `None` when the well-formed message ID is not in the account.
    pub fn validate(
        &self,
        path_id: &str,
        message: Option<ContactMessageFacts>,
    ) -> Result<ValidSendContact, Vec<String>> {
        let mut errors = self.generic_errors.clone();
        let facts = if EncodedId::parse(path_id).is_none() {
            errors.push(format!("Message id {path_id} isn't valid."));
            None
        } else if message.is_none() {
            errors.push(format!("Message {path_id} isn't valid for the client."));
            None
        } else {
            message
        };
        if facts.is_some_and(|f| !f.can_send) {
            errors.push("The Message must be in Active status in order to send.".to_owned());
        }
        let addressees = self.numbers.validate(&mut errors);

        let subscribe = self.subscribe == Some(true);
        let resubscribe = self.resubscribe == Some(true);
        let keyword = self.keyword();
        if (subscribe || resubscribe) && keyword.is_none() {
            errors
                .push("Keyword can't be blank when Subscribe or Resubscribe are true.".to_owned());
        }
        if !subscribe && !resubscribe && keyword.is_some() {
            errors.push(
                "Keyword isn't necessary when Subscribe and Resubscribe are false.".to_owned(),
            );
        }
        if let (Some(k), Some(f)) = (keyword, facts) {
            if !f.keyword_on_code {
                errors.push(format!(
                    "Keyword {k} isn't valid for the code on the message."
                ));
            }
        }

        let override_text = self.override_text == Some(true);
        if !override_text && facts.is_some_and(|f| f.text_is_blank) {
            errors.push("Message is blank and no override message was provided.".to_owned());
        }
        if override_text && self.message_text.as_deref().is_none_or(is_blank) {
            errors.push("Cannot override message text with a blank message.".to_owned());
        }
        if self.message_text.is_some() && !override_text {
            errors.push("MessageText isn't applicable when Override is false.".to_owned());
        }
        // API.md §6: exact, whatever the client's spelling (§1 text limits).
        if override_text
            && self
                .message_text
                .as_deref()
                .is_some_and(|t| limits::longer_than(t, limits::MAX_TEXT_CHARS))
        {
            errors.push("MessageText can't be longer than 1600 characters.".to_owned());
        }

        let window = self.blackout.as_ref().and_then(|b| b.validate(&mut errors));
        let send_time = validate_send_time(self.send_time.as_deref(), &mut errors);
        let content_url = validate_content_url(self.content_url.as_deref(), &mut errors);
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ValidSendContact {
            addressees,
            subscribe,
            resubscribe,
            keyword: (subscribe || resubscribe)
                .then(|| keyword.map(str::to_owned))
                .flatten(),
            override_text: override_text.then(|| self.message_text.clone()).flatten(),
            window,
            send_time,
            content_url,
        })
    }
}

/// The parsed `queueMO` body.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueMoRequest {
    numbers: ExplicitNumbers,
    short_code: Option<String>,
    message_text: Option<String>,
    /// `messageText` as the client spelled it.
    message_text_field: String,
    generic_errors: Vec<String>,
}

/// A `queueMO` request that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidQueueMo {
    pub addressees: Vec<Addressee>,
    pub short_code: String,
    pub message_text: String,
}

impl QueueMoRequest {
    pub fn from_fields(fields: &Fields) -> QueueMoRequest {
        let mut r = FieldReader::new(fields);
        let numbers = ExplicitNumbers::read(&mut r, "mobileNumbers", "subscribers", false);
        let short_code = r.string("shortCode").map(str::to_owned);
        let message_text = r.string("messageText").map(str::to_owned);
        let message_text_field = r
            .spelling("messageText")
            .unwrap_or("messageText")
            .to_owned();
        QueueMoRequest {
            numbers,
            short_code,
            message_text,
            message_text_field,
            generic_errors: r.finish(),
        }
    }

    /// The short code to look up, when one was given (non-blank).
    pub fn short_code(&self) -> Option<&str> {
        self.short_code.as_deref().filter(|c| !is_blank(c))
    }

    /// Every applicable message in order (API.md §6 queueMO, then the §1 text limit);
    /// `code_exists` answers for the given short code.
    pub fn validate(&self, code_exists: bool) -> Result<ValidQueueMo, Vec<String>> {
        let mut errors = self.generic_errors.clone();
        let addressees = self.numbers.validate_queue_mo(&mut errors);
        match self.short_code() {
            None => errors.push("Short code can't be blank.".to_owned()),
            Some(c) if !code_exists => {
                errors.push(format!("Short code {c} isn't valid for the client."))
            }
            Some(_) => {}
        }
        let text = self.message_text.as_deref().filter(|t| !is_blank(t));
        if text.is_none() {
            errors.push("Message text can't be blank.".to_owned());
        }
        if let Some(m) = text.and_then(|t| limits::check_text(&self.message_text_field, t)) {
            errors.push(m);
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ValidQueueMo {
            addressees,
            short_code: self.short_code().unwrap_or_default().to_owned(),
            message_text: text.unwrap_or_default().to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    /// `{name: value}` with a computed name.
    fn object(name: &str, value: Value) -> Value {
        let mut map = serde_json::Map::new();
        map.insert(name.to_string(), value);
        Value::Object(map)
    }

    const FACTS: ContactMessageFacts = ContactMessageFacts {
        can_send: true,
        text_is_blank: false,
        keyword_on_code: true,
    };

    fn contact(
        body: &str,
        facts: Option<ContactMessageFacts>,
    ) -> Result<ValidSendContact, Vec<String>> {
        let fields = Fields::parse(body.as_bytes()).expect("json");
        SendContactRequest::from_fields(&fields).validate("MzA6Nzg6MA", facts)
    }

    #[test]
    fn every_message_in_table_order() {
        let errors = contact(
            r#"{"mobileNumbers": ["1555-5", "123", "+15555555510"],
                "Subscribers": [{"MobileNumber": "x1"}, {"SubscriberKey": "k"}],
                "keyword": "  ", "Resubscribe": true, "messageText": " ",
                "blackoutWindow": {}, "SendTime": "soon", "ContentURL": "ftp://x"}"#,
            Some(ContactMessageFacts {
                can_send: false,
                text_is_blank: true,
                keyword_on_code: false,
            }),
        )
        .unwrap_err();
        assert_eq!(
            errors,
            vec![
                "The Message must be in Active status in order to send.",
                "An array of mobile numbers and an array of subscribers can't be provided at the same time.",
                "A subscriber object must have both a mobile number and subscriber key defined.",
                "A subscriber object must have both a mobile number and subscriber key defined.",
                "1555-5 isn't a numeric string",
                "x1 isn't a numeric string",
                "123 isn't a valid mobile number.",
                "Keyword can't be blank when Subscribe or Resubscribe are true.",
                "Message is blank and no override message was provided.",
                "MessageText isn't applicable when Override is false.",
                "A UTC offset must be specified when using a blackout window.",
                "A window start time must be specified when using a blackout window.",
                "A window end time must be specified when using a blackout window.",
                "soon isn't a valid send time (yyyy-MM-dd HH:mm).",
                "ftp://x isn't a valid content URL.",
            ]
        );
    }

    #[test]
    fn zero_too_many_and_keyword_rules() {
        assert_eq!(
            contact("{}", Some(FACTS)).unwrap_err(),
            vec!["The count of mobile numbers or subscribers can't be zero."]
        );
        let many: Vec<String> = (0..251).map(|i| format!("\"1555000{i:04}\"")).collect();
        assert_eq!(
            contact(
                &format!("{{\"mobileNumbers\": [{}]}}", many.join(",")),
                Some(FACTS)
            )
            .unwrap_err(),
            vec!["The count of mobile numbers or subscribers can't exceed 250."]
        );
        assert_eq!(
            contact(
                r#"{"mobileNumbers": ["15555555510"], "keyword": "JOIN"}"#,
                Some(ContactMessageFacts {
                    keyword_on_code: false,
                    ..FACTS
                })
            )
            .unwrap_err(),
            vec![
                "Keyword isn't necessary when Subscribe and Resubscribe are false.",
                "Keyword JOIN isn't valid for the code on the message."
            ]
        );
        assert_eq!(
            contact(r#"{"mobileNumbers": [], "Override": true}"#, None).unwrap_err(),
            vec![
                "Message MzA6Nzg6MA isn't valid for the client.",
                "The count of mobile numbers or subscribers can't be zero.",
                "Cannot override message text with a blank message."
            ]
        );
    }

    #[test]
    fn a_valid_request_keeps_numbers_keys_and_attributes() {
        let v = contact(
            r#"{"Subscribers": [{"MobileNumber": "+15555555510", "SubscriberKey": "k1",
                 "Attributes": {"FirstName": "Ann", "Age": 30}}],
                "Subscribe": "true", "Keyword": "JOIN", "override": true, "MessageText": "Hi"}"#,
            Some(FACTS),
        )
        .expect("valid");
        assert_eq!(v.addressees.len(), 1);
        assert_eq!(v.addressees[0].mobile_number.as_str(), "15555555510");
        assert_eq!(v.addressees[0].subscriber_key.as_deref(), Some("k1"));
        let attrs = v.addressees[0].attributes.as_ref().expect("attributes");
        assert_eq!(attrs.get("Age"), Some(&Value::String("30".into())));
        assert!(v.subscribe && !v.resubscribe);
        assert_eq!(v.keyword.as_deref(), Some("JOIN"));
        assert_eq!(v.override_text.as_deref(), Some("Hi"));
    }

    #[test]
    fn over_long_texts_keys_and_attributes_are_refused_in_table_order() {
        let over_text = "😀".repeat(1601);
        let long_key = "k".repeat(256);
        let long_name = "N".repeat(256);
        let long_value = "v".repeat(1601);
        let body = json!({
            "Subscribers": [
                {"MobileNumber": "15555555510", "subscriberkey": long_key,
                 "Attributes": {"First": long_value, "Ok": "fine"}},
                {"MobileNumber": "1x", "SubscriberKey": "k2", "Attributes": object(&long_name, json!(1))},
                {"MobileNumber": "15555555512"}
            ],
            "override": true, "MESSAGETEXT": over_text, "SendTime": "soon",
        });
        assert_eq!(
            contact(&body.to_string(), Some(FACTS)).unwrap_err(),
            vec![
                "A subscriber object must have both a mobile number and subscriber key defined."
                    .to_string(),
                "subscriberkey can't be longer than 255 characters.".to_string(),
                "First can't be longer than 1600 characters.".to_string(),
                format!("{long_name} can't be longer than 255 characters."),
                "1x isn't a numeric string".to_string(),
                "MessageText can't be longer than 1600 characters.".to_string(),
                "soon isn't a valid send time (yyyy-MM-dd HH:mm).".to_string(),
            ]
        );
        // At the limits, everything is accepted.
        let body = json!({
            "Subscribers": [{"MobileNumber": "15555555510", "SubscriberKey": "k".repeat(255),
                             "Attributes": object(&"a".repeat(255), json!("é".repeat(1600)))}],
            "Override": true, "messageText": "😀".repeat(1600),
        });
        assert!(contact(&body.to_string(), Some(FACTS)).is_ok());
        // Without the override the text is not used: only "isn't applicable".
        let body = json!({"mobileNumbers": ["15555555510"], "messageText": over_text});
        assert_eq!(
            contact(&body.to_string(), Some(FACTS)).unwrap_err(),
            vec!["MessageText isn't applicable when Override is false."]
        );
    }

    #[test]
    fn queue_mo_text_over_1600_characters_is_refused_last() {
        let body = json!({"subscribers": [{"mobilenumber": "15555555510",
                                           "subscriberkey": "k".repeat(256)}],
                          "shortCode": "88976", "MessageText": "a".repeat(1601)});
        let fields = Fields::parse(body.to_string().as_bytes()).expect("json");
        assert_eq!(
            QueueMoRequest::from_fields(&fields)
                .validate(true)
                .unwrap_err(),
            vec![
                "subscriberkey can't be longer than 255 characters.",
                "MessageText can't be longer than 1600 characters."
            ]
        );
    }

    #[test]
    fn queue_mo_messages_in_order() {
        let q = |body: &str, exists: bool| {
            let fields = Fields::parse(body.as_bytes()).expect("json");
            QueueMoRequest::from_fields(&fields).validate(exists)
        };
        assert_eq!(
            q("{}", false).unwrap_err(),
            vec![
                "The count of mobile numbers or subscribers can't be zero.",
                "Short code can't be blank.",
                "Message text can't be blank."
            ]
        );
        assert_eq!(
            q(
                r#"{"subscribers": [{"mobilenumber": "15555555510"}], "shortCode": "1",
                    "messageText": "STOP"}"#,
                false
            )
            .unwrap_err(),
            vec![
                "A subscriber object must have both a mobile number and subscriber key defined.",
                "Short code 1 isn't valid for the client."
            ]
        );
        let ok = q(
            r#"{"mobileNumbers": ["15555555510"], "shortCode": "88976", "messageText": "STOP"}"#,
            true,
        )
        .expect("valid");
        assert_eq!(ok.short_code, "88976");
        assert_eq!(
            q(r#"{"subscribers": "x"}"#, true).unwrap_err()[0],
            "subscribers must be an array of objects."
        );
        // Both arrays: queueMO's own documented text, first; then the other checks.
        assert_eq!(
            q(
                r#"{"mobileNumbers": [], "subscribers": [], "shortCode": "88976"}"#,
                true
            )
            .unwrap_err(),
            vec![
                "An array of mobile numbers and an array of subscribers cannot be provided at the same time",
                "The count of mobile numbers or subscribers can't be zero.",
                "Message text can't be blank."
            ]
        );
        // A null array is not given (the community SDK nulls the one it does not use).
        assert!(q(
            r#"{"mobileNumbers": null, "subscribers": [{"mobilenumber": "15555555510",
                "subscriberkey": "k"}], "shortCode": "88976", "messageText": "HI"}"#,
            true
        )
        .is_ok());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        /// Arbitrary JSON-ish bodies never panic, and a rejection always says why.
        #[test]
        fn arbitrary_bodies_never_panic(body in any::<Vec<u8>>(), facts in any::<(bool, bool, bool)>()) {
            if let Ok(fields) = Fields::parse(&body) {
                let f = ContactMessageFacts { can_send: facts.0, text_is_blank: facts.1, keyword_on_code: facts.2 };
                if let Err(e) = SendContactRequest::from_fields(&fields).validate("abc", Some(f)) {
                    prop_assert!(!e.is_empty());
                }
                if let Err(e) = QueueMoRequest::from_fields(&fields).validate(facts.0) {
                    prop_assert!(!e.is_empty());
                }
            }
        }

        #[test]
        fn structured_bodies_never_panic(
            numbers in proptest::collection::vec("[+0-9a-z. -]{0,18}", 0..5),
            keys in proptest::collection::vec(proptest::option::of("[ a-z0-9]{0,4}"), 0..4),
            flags in any::<(Option<bool>, Option<bool>, Option<bool>)>(),
            text in proptest::option::of(".{0,8}"),
        ) {
            let subscribers: Vec<serde_json::Value> = keys.iter().zip(numbers.iter().cycle())
                .map(|(k, n)| serde_json::json!({"MobileNumber": n, "SubscriberKey": k, "Attributes": {"a": 1}}))
                .collect();
            let body = serde_json::json!({
                "mobileNumbers": numbers, "Subscribers": subscribers, "Subscribe": flags.0,
                "Resubscribe": flags.1, "Override": flags.2, "messageText": text, "keyword": text,
            });
            let fields = Fields::parse(body.to_string().as_bytes()).expect("json");
            let result = SendContactRequest::from_fields(&fields).validate("m", Some(FACTS));
            if let Ok(v) = result {
                prop_assert!(!v.addressees.is_empty() && v.addressees.len() <= MAX_NUMBERS);
            }
        }
    }
}

//! `POST /sms/v1/messageList/{id}/send`: the request and its validation (API.md §4).

use crate::fields::{FieldReader, Fields};
use crate::ids::EncodedId;
use crate::limits;
use crate::time::{BlackoutWindow, ClockTime, ContentUrl, SendTime, UtcOffset};

/// Empty or only whitespace (API.md §4 "blank").
pub fn is_blank(s: &str) -> bool {
    s.trim().is_empty()
}

/// What validation needs to know of the stored message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageFacts {
    /// Status is Active or Scheduled (row 3).
    pub can_send: bool,
    /// The message has default target lists (row 4).
    pub has_default_targets: bool,
    /// The stored text is empty or whitespace (row 14).
    pub text_is_blank: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetChoice {
    MessageDefaults,
    /// Distinct non-blank IDs as given, in first-appearance order.
    Override(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExclusionChoice {
    MessageDefaults,
    /// Distinct non-blank IDs as given, in first-appearance order.
    Override(Vec<String>),
    Ignore,
}

/// A request that passed every check of §4.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidSendList {
    pub target: TargetChoice,
    pub exclusion: ExclusionChoice,
    /// `MessageText` when `OverrideMessageText` is true.
    pub override_text: Option<String>,
    /// The blackout window, if given (may be empty: `is_none()`).
    pub window: Option<BlackoutWindow>,
    /// `sendTime`, epoch ms UTC.
    pub send_time: Option<i64>,
    pub allow_duplication: bool,
    pub content_url: Option<String>,
}

/// The raw `blackoutWindow` object (API.md §4 rows 17–22), shared by every send endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BlackoutInput {
    pub utc_offset: Option<String>,
    pub window_start: Option<String>,
    pub window_end: Option<String>,
}

impl BlackoutInput {
    /// Reads the object field `name` and then its `UtcOffset`, `WindowStart` and `WindowEnd`,
    /// recording the generic messages in that order. `None` when absent, null or not an object.
    pub fn read(reader: &mut FieldReader<'_>, name: &str) -> Option<BlackoutInput> {
        let object = reader.object(name)?;
        let mut nested = reader.nested(object);
        let input = BlackoutInput {
            utc_offset: nested.string("UtcOffset").map(str::to_owned),
            window_start: nested.string("WindowStart").map(str::to_owned),
            window_end: nested.string("WindowEnd").map(str::to_owned),
        };
        reader.absorb(nested);
        Some(input)
    }

    /// Rows 17–22, in order; the window when all three parts are valid.
    pub fn validate(&self, errors: &mut Vec<String>) -> Option<BlackoutWindow> {
        let offset = check_part(
            self.utc_offset.as_deref(),
            UtcOffset::parse,
            "A UTC offset must be specified when using a blackout window.",
            |v| format!("{v} isn't a valid UTC offset."),
            errors,
        );
        let start = check_part(
            self.window_start.as_deref(),
            ClockTime::parse,
            "A window start time must be specified when using a blackout window.",
            |v| format!("{v} isn't a valid blackout window start time."),
            errors,
        );
        let end = check_part(
            self.window_end.as_deref(),
            ClockTime::parse,
            "A window end time must be specified when using a blackout window.",
            |v| format!("{v} isn't a valid blackout window end time."),
            errors,
        );
        Some(BlackoutWindow {
            offset: offset?,
            start: start?,
            end: end?,
        })
    }
}

/// One part of a blackout window: required (non-blank) and valid.
fn check_part<T>(
    value: Option<&str>,
    parse: fn(&str) -> Option<T>,
    missing: &str,
    invalid: impl Fn(&str) -> String,
    errors: &mut Vec<String>,
) -> Option<T> {
    match value {
        Some(v) if !is_blank(v) => {
            let parsed = parse(v);
            if parsed.is_none() {
                errors.push(invalid(v));
            }
            parsed
        }
        _ => {
            errors.push(missing.to_owned());
            None
        }
    }
}

/// Row 23: a present, non-blank `sendTime` must parse. Blank reads as absent (now).
pub fn validate_send_time(value: Option<&str>, errors: &mut Vec<String>) -> Option<i64> {
    let value = value.filter(|v| !is_blank(v))?;
    let parsed = SendTime::parse(value);
    if parsed.is_none() {
        errors.push(format!(
            "{value} isn't a valid send time (yyyy-MM-dd HH:mm)."
        ));
    }
    parsed
}

/// Row 24: a present, non-blank `ContentURL` must be an absolute http(s) URL. Blank reads as
/// absent.
pub fn validate_content_url(value: Option<&str>, errors: &mut Vec<String>) -> Option<String> {
    let value = value.filter(|v| !is_blank(v))?;
    let parsed = ContentUrl::parse(value);
    if parsed.is_none() {
        errors.push(format!("{value} isn't a valid content URL."));
    }
    parsed
}

/// Distinct non-blank entries, exact-string distinct, in first-appearance order.
fn distinct_non_blank(ids: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for id in ids {
        if !is_blank(id) && !out.contains(id) {
            out.push(id.clone());
        }
    }
    out
}

/// The parsed body, with the generic §1 messages it produced.
#[derive(Debug, Clone, PartialEq)]
pub struct SendListRequest {
    target_list_ids: Option<Vec<String>>,
    override_targets: Option<bool>,
    exclusion_list_ids: Option<Vec<String>>,
    override_exclusions: Option<bool>,
    ignore_exclusions: Option<bool>,
    override_text: Option<bool>,
    message_text: Option<String>,
    /// `MessageText` as the client spelled it (row 16a names it so).
    message_text_field: String,
    blackout: Option<BlackoutInput>,
    send_time: Option<String>,
    allow_duplication: Option<bool>,
    content_url: Option<String>,
    generic_errors: Vec<String>,
}

/// A list send put together by a program (the console's test send) rather than read from a
/// body: what each field means is as in [`SendListRequest::from_fields`], nothing is unreadable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SendListOptions {
    /// Override the message's target lists with these.
    pub target_list_ids: Option<Vec<String>>,
    /// Exclude nobody (`IgnoreExclusionLists`).
    pub ignore_exclusions: bool,
    /// Send this text instead of the stored one.
    pub message_text: Option<String>,
    pub send_time: Option<String>,
    pub blackout: Option<BlackoutInput>,
    pub allow_duplication: bool,
}

impl From<SendListOptions> for SendListRequest {
    fn from(o: SendListOptions) -> SendListRequest {
        SendListRequest {
            override_targets: o.target_list_ids.as_ref().map(|_| true),
            target_list_ids: o.target_list_ids,
            exclusion_list_ids: None,
            override_exclusions: None,
            ignore_exclusions: o.ignore_exclusions.then_some(true),
            override_text: o.message_text.as_ref().map(|_| true),
            message_text: o.message_text,
            message_text_field: "MessageText".to_owned(),
            blackout: o.blackout,
            send_time: o.send_time,
            allow_duplication: o.allow_duplication.then_some(true),
            content_url: None,
            generic_errors: Vec::new(),
        }
    }
}

impl SendListRequest {
    pub fn from_fields(fields: &Fields) -> SendListRequest {
        let mut r = FieldReader::new(fields);
        let owned = |v: Vec<&str>| v.into_iter().map(str::to_owned).collect::<Vec<_>>();
        let target_list_ids = r.string_array("TargetListIds").map(owned);
        let override_targets = r.bool("OverrideTemplateTargetLists");
        let exclusion_list_ids = r.string_array("ExclusionListIds").map(owned);
        let override_exclusions = r.bool("OverrideTemplateExclusionLists");
        let ignore_exclusions = r.bool("IgnoreExclusionLists");
        let override_text = r.bool("OverrideMessageText");
        let message_text = r.string("MessageText").map(str::to_owned);
        let message_text_field = r
            .spelling("MessageText")
            .unwrap_or("MessageText")
            .to_owned();
        let blackout = BlackoutInput::read(&mut r, "blackoutWindow");
        let send_time = r.string("sendTime").map(str::to_owned);
        let allow_duplication = r.bool("allowDuplication");
        let content_url = r.string("ContentURL").map(str::to_owned);
        SendListRequest {
            target_list_ids,
            override_targets,
            exclusion_list_ids,
            override_exclusions,
            ignore_exclusions,
            override_text,
            message_text,
            message_text_field,
            blackout,
            send_time,
            allow_duplication,
            content_url,
            generic_errors: r.finish(),
        }
    }

    /// The §1 messages the body produced (type errors, duplicates, invalid booleans).
    pub fn generic_errors(&self) -> &[String] {
        &self.generic_errors
    }

    fn targets(&self) -> Vec<String> {
        distinct_non_blank(self.target_list_ids.as_deref().unwrap_or_default())
    }

    fn exclusions(&self) -> Vec<String> {
        distinct_non_blank(self.exclusion_list_ids.as_deref().unwrap_or_default())
    }

    /// Distinct, non-blank, well-formed IDs given in `TargetListIds` and `ExclusionListIds`
    /// (whatever the flags) whose existence in the account must be looked up.
    pub fn list_ids_to_resolve(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for id in self.targets().into_iter().chain(self.exclusions()) {
            if EncodedId::parse(&id).is_some() && !out.contains(&id) {
                out.push(id);
            }
        }
        out
    }

    /// Every applicable message in contract order: the generic messages first, then §4's table.
    /// `message` is `None` when the (well-formed) message ID is not in the account;
    /// `list_exists` answers for the IDs of `list_ids_to_resolve`.
    pub fn validate(
        &self,
        path_id: &str,
        message: Option<MessageFacts>,
        list_exists: &dyn Fn(&str) -> bool,
    ) -> Result<ValidSendList, Vec<String>> {
        let mut errors = self.generic_errors.clone();
        let is_true = |flag: Option<bool>| flag == Some(true);
        let override_targets = is_true(self.override_targets);
        let override_exclusions = is_true(self.override_exclusions);
        let ignore_exclusions = is_true(self.ignore_exclusions);
        let override_text = is_true(self.override_text);
        let targets = self.targets();
        let exclusions = self.exclusions();
        let list_is_invalid = |id: &str| EncodedId::parse(id).is_none() || !list_exists(id);

        // Rows 1–2; without a resolved message, rows 3, 4 (default lists) and 14 are skipped.
        let facts = if EncodedId::parse(path_id).is_none() {
            errors.push(format!("Message id {path_id} isn't valid."));
            None
        } else if message.is_none() {
            errors.push(format!("Message {path_id} isn't valid for the client."));
            None
        } else {
            message
        };

        // Row 3.
        if facts.is_some_and(|f| !f.can_send) {
            errors.push("The Message must be in Active status in order to send.".to_owned());
        }

        // Rows 4–7: target lists.
        let targets_given_all_blank = self
            .target_list_ids
            .as_ref()
            .is_some_and(|ids| !ids.is_empty() && targets.is_empty());
        let targets_empty = if override_targets {
            targets_given_all_blank
        } else {
            facts.is_some_and(|f| !f.has_default_targets)
        };
        if targets_empty {
            errors.push("The count of Target List IDs can't be zero.".to_owned());
        }
        for id in targets.iter().filter(|id| list_is_invalid(id)) {
            errors.push(format!("Target list id [{id}] is invalid."));
        }
        if !targets.is_empty() && !override_targets {
            errors.push(
                "TargetListIds isn't applicable when OverrideTemplateTargetLists is false."
                    .to_owned(),
            );
        }
        if override_targets && self.target_list_ids.as_ref().is_none_or(Vec::is_empty) {
            errors.push(
                "Cannot override template target lists when no target list ids are specified."
                    .to_owned(),
            );
        }

        // Rows 8–13: exclusion lists.
        let exclusions_given_all_blank = self
            .exclusion_list_ids
            .as_ref()
            .is_some_and(|ids| !ids.is_empty() && exclusions.is_empty());
        if override_exclusions && exclusions_given_all_blank {
            errors.push("The count of Exclusion List IDs can't be zero.".to_owned());
        }
        for id in exclusions.iter().filter(|id| list_is_invalid(id)) {
            errors.push(format!("Exclusion list id [{id}] is invalid."));
        }
        if !exclusions.is_empty() && !override_exclusions && !ignore_exclusions {
            errors.push(
                "ExclusionListIds isn't applicable when OverrideTemplateExclusionLists is false."
                    .to_owned(),
            );
        }
        if override_exclusions
            && !ignore_exclusions
            && self.exclusion_list_ids.as_ref().is_none_or(Vec::is_empty)
        {
            errors.push(
                "Cannot override template exclusion lists when no exclusion list ids are specified."
                    .to_owned(),
            );
        }
        if ignore_exclusions && !exclusions.is_empty() {
            errors.push(
                "Exclusion list ids can't be specified when IgnoreExclusionLists is true."
                    .to_owned(),
            );
        }
        if ignore_exclusions && override_exclusions {
            errors.push(
                "OverrideTemplateExclusionLists can't be true when IgnoreExclusionLists is true."
                    .to_owned(),
            );
        }

        // Rows 14–16a: text.
        if !override_text && facts.is_some_and(|f| f.text_is_blank) {
            errors.push("Message is blank and no override message was provided.".to_owned());
        }
        if override_text && self.message_text.as_deref().is_none_or(is_blank) {
            errors.push("Cannot override message text with a blank message.".to_owned());
        }
        if self.message_text.is_some() && !override_text {
            errors
                .push("MessageText isn't applicable when OverrideMessageText is false.".to_owned());
        }
        // Row 16a (API.md §1 text limits).
        if override_text {
            if let Some(m) = self
                .message_text
                .as_deref()
                .and_then(|t| limits::check_text(&self.message_text_field, t))
            {
                errors.push(m);
            }
        }

        // Rows 17–24: blackout window, send time, content URL.
        let window = self.blackout.as_ref().and_then(|b| b.validate(&mut errors));
        let send_time = validate_send_time(self.send_time.as_deref(), &mut errors);
        let content_url = validate_content_url(self.content_url.as_deref(), &mut errors);

        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ValidSendList {
            target: if override_targets {
                TargetChoice::Override(targets)
            } else {
                TargetChoice::MessageDefaults
            },
            exclusion: if ignore_exclusions {
                ExclusionChoice::Ignore
            } else if override_exclusions {
                ExclusionChoice::Override(exclusions)
            } else {
                ExclusionChoice::MessageDefaults
            },
            override_text: if override_text {
                self.message_text.clone()
            } else {
                None
            },
            window,
            send_time,
            allow_duplication: self.allow_duplication == Some(true),
            content_url,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ACTIVE: MessageFacts = MessageFacts {
        can_send: true,
        has_default_targets: true,
        text_is_blank: false,
    };

    /// Lists `known`, `KNOWN2` and `x1` exist; anything else does not.
    fn exists(id: &str) -> bool {
        matches!(id, "known" | "KNOWN2" | "x1")
    }

    fn request(body: &str) -> SendListRequest {
        SendListRequest::from_fields(&Fields::parse(body.as_bytes()).unwrap())
    }

    fn errors(body: &str, path_id: &str, message: Option<MessageFacts>) -> Vec<String> {
        request(body)
            .validate(path_id, message, &exists)
            .unwrap_err()
    }

    fn valid(body: &str) -> ValidSendList {
        request(body)
            .validate("msg1", Some(ACTIVE), &exists)
            .unwrap()
    }

    #[test]
    fn empty_body_uses_message_defaults() {
        assert_eq!(
            valid(""),
            ValidSendList {
                target: TargetChoice::MessageDefaults,
                exclusion: ExclusionChoice::MessageDefaults,
                override_text: None,
                window: None,
                send_time: None,
                allow_duplication: false,
                content_url: None,
            }
        );
    }

    #[test]
    fn full_valid_request() {
        let v = valid(
            r#"{"TargetListIds":["known"," ","known","KNOWN2"],"OverrideTemplateTargetLists":"TRUE",
                "ExclusionListIds":["x1"],"overrideTemplateExclusionLists":true,
                "OverrideMessageText":true,"MessageText":" Hi %%First%% ",
                "blackoutWindow":{"UtcOffset":"-05:00","WindowStart":"2200","WindowEnd":"6:00"},
                "sendTime":"2030-01-05T10:00:30","allowDuplication":"true",
                "ContentURL":"https://example.com/a.png"}"#,
        );
        assert_eq!(
            v.target,
            TargetChoice::Override(vec!["known".into(), "KNOWN2".into()])
        );
        assert_eq!(v.exclusion, ExclusionChoice::Override(vec!["x1".into()]));
        assert_eq!(v.override_text.as_deref(), Some(" Hi %%First%% "));
        let w = v.window.unwrap();
        assert_eq!(
            (
                w.offset.minutes(),
                w.start.minute_of_day(),
                w.end.minute_of_day()
            ),
            (-300, 1320, 360)
        );
        assert_eq!(v.send_time, SendTime::parse("2030-01-05 10:00:30"));
        assert!(v.allow_duplication);
        assert_eq!(v.content_url.as_deref(), Some("https://example.com/a.png"));
    }

    #[test]
    fn ignore_exclusions_and_empty_window() {
        let v = valid(
            r#"{"IgnoreExclusionLists":true,"ExclusionListIds":[" "],
                "blackoutWindow":{"UtcOffset":"0","WindowStart":"1200","WindowEnd":"12:00"},
                "sendTime":" ","ContentURL":"","OverrideMessageText":false,"allowDuplication":false}"#,
        );
        assert_eq!(v.exclusion, ExclusionChoice::Ignore);
        assert!(v.window.unwrap().is_none());
        assert_eq!(v.send_time, None);
        assert_eq!(v.content_url, None);
        assert_eq!(v.override_text, None);
        assert!(!v.allow_duplication);
    }

    #[test]
    fn null_fields_are_absent() {
        let v = valid(
            r#"{"TargetListIds":null,"OverrideTemplateTargetLists":null,"MessageText":null,
                "blackoutWindow":null,"sendTime":null,"ContentURL":null,"IgnoreExclusionLists":null}"#,
        );
        assert_eq!(v, valid("{}"));
    }

    #[test]
    fn row_1_malformed_message_id_skips_message_checks() {
        let blank = MessageFacts {
            can_send: false,
            has_default_targets: false,
            text_is_blank: true,
        };
        assert_eq!(
            errors("{}", "bad id", Some(blank)),
            ["Message id bad id isn't valid."]
        );
        assert_eq!(errors("{}", "", None), ["Message id  isn't valid."]);
        // Body checks still run.
        assert_eq!(
            errors(r#"{"sendTime":"x"}"#, "a.b", None),
            [
                "Message id a.b isn't valid.",
                "x isn't a valid send time (yyyy-MM-dd HH:mm)."
            ]
        );
    }

    #[test]
    fn row_2_unknown_message_skips_message_checks() {
        assert_eq!(
            errors("{}", "MzA6Nzg6MA", None),
            ["Message MzA6Nzg6MA isn't valid for the client."]
        );
        assert_eq!(
            errors(
                r#"{"TargetListIds":["nope"],"OverrideTemplateTargetLists":true}"#,
                "m",
                None
            ),
            [
                "Message m isn't valid for the client.",
                "Target list id [nope] is invalid."
            ]
        );
    }

    #[test]
    fn row_3_inactive_message() {
        let inactive = MessageFacts {
            can_send: false,
            ..ACTIVE
        };
        assert_eq!(
            errors("{}", "m", Some(inactive)),
            ["The Message must be in Active status in order to send."]
        );
    }

    #[test]
    fn row_4_no_targets() {
        let no_defaults = MessageFacts {
            has_default_targets: false,
            ..ACTIVE
        };
        assert_eq!(
            errors("{}", "m", Some(no_defaults)),
            ["The count of Target List IDs can't be zero."]
        );
        assert_eq!(
            errors(
                r#"{"TargetListIds":[""," "],"OverrideTemplateTargetLists":true}"#,
                "m",
                Some(ACTIVE)
            ),
            ["The count of Target List IDs can't be zero."]
        );
        // With the override, the message's defaults do not matter.
        assert!(
            request(r#"{"TargetListIds":["known"],"OverrideTemplateTargetLists":true}"#)
                .validate("m", Some(no_defaults), &exists)
                .is_ok()
        );
    }

    #[test]
    fn row_5_each_distinct_invalid_target_once_in_order() {
        assert_eq!(
            errors(
                r#"{"TargetListIds":["b@d","nope","known","nope","NOPE"," ","b@d","a b"],"OverrideTemplateTargetLists":true}"#,
                "m",
                Some(ACTIVE)
            ),
            [
                "Target list id [b@d] is invalid.",
                "Target list id [nope] is invalid.",
                "Target list id [NOPE] is invalid.",
                "Target list id [a b] is invalid.",
            ]
        );
        // Whatever the flags.
        assert_eq!(
            errors(r#"{"TargetListIds":[" x "]}"#, "m", Some(ACTIVE)),
            [
                "Target list id [ x ] is invalid.",
                "TargetListIds isn't applicable when OverrideTemplateTargetLists is false.",
            ]
        );
    }

    #[test]
    fn row_6_targets_without_override() {
        for flag in [
            "",
            r#","OverrideTemplateTargetLists":false"#,
            r#","OverrideTemplateTargetLists":"False""#,
        ] {
            assert_eq!(
                errors(
                    &format!(r#"{{"TargetListIds":["known"]{flag}}}"#),
                    "m",
                    Some(ACTIVE)
                ),
                ["TargetListIds isn't applicable when OverrideTemplateTargetLists is false."]
            );
        }
        // Only blank entries: ignored.
        assert!(request(r#"{"TargetListIds":[" ",""]}"#)
            .validate("m", Some(ACTIVE), &exists)
            .is_ok());
        assert!(request(r#"{"TargetListIds":[]}"#)
            .validate("m", Some(ACTIVE), &exists)
            .is_ok());
    }

    #[test]
    fn row_7_override_without_ids() {
        for ids in ["", r#","TargetListIds":[]"#, r#","TargetListIds":null"#] {
            assert_eq!(
                errors(
                    &format!(r#"{{"OverrideTemplateTargetLists":true{ids}}}"#),
                    "m",
                    Some(ACTIVE)
                ),
                ["Cannot override template target lists when no target list ids are specified."]
            );
        }
        // A type error counts as absent.
        assert_eq!(
            errors(
                r#"{"TargetListIds":"abc","OverrideTemplateTargetLists":true}"#,
                "m",
                Some(ACTIVE)
            ),
            [
                "TargetListIds must be an array of strings.",
                "Cannot override template target lists when no target list ids are specified.",
            ]
        );
    }

    #[test]
    fn row_8_all_blank_exclusions() {
        assert_eq!(
            errors(
                r#"{"ExclusionListIds":["  "],"OverrideTemplateExclusionLists":true}"#,
                "m",
                Some(ACTIVE)
            ),
            ["The count of Exclusion List IDs can't be zero."]
        );
    }

    #[test]
    fn row_9_each_distinct_invalid_exclusion() {
        assert_eq!(
            errors(
                r#"{"ExclusionListIds":["x1","gone","gone","%"],"OverrideTemplateExclusionLists":true}"#,
                "m",
                Some(ACTIVE)
            ),
            [
                "Exclusion list id [gone] is invalid.",
                "Exclusion list id [%] is invalid."
            ]
        );
    }

    #[test]
    fn row_10_exclusions_without_override() {
        assert_eq!(
            errors(r#"{"ExclusionListIds":["x1"]}"#, "m", Some(ACTIVE)),
            ["ExclusionListIds isn't applicable when OverrideTemplateExclusionLists is false."]
        );
    }

    #[test]
    fn row_11_override_without_exclusions() {
        for ids in ["", r#","ExclusionListIds":[]"#] {
            assert_eq!(
                errors(&format!(r#"{{"OverrideTemplateExclusionLists":true{ids}}}"#), "m", Some(ACTIVE)),
                ["Cannot override template exclusion lists when no exclusion list ids are specified."]
            );
        }
    }

    #[test]
    fn rows_12_and_13_ignore_conflicts() {
        assert_eq!(
            errors(
                r#"{"ExclusionListIds":["x1"],"IgnoreExclusionLists":true}"#,
                "m",
                Some(ACTIVE)
            ),
            ["Exclusion list ids can't be specified when IgnoreExclusionLists is true."]
        );
        assert_eq!(
            errors(
                r#"{"OverrideTemplateExclusionLists":true,"IgnoreExclusionLists":true}"#,
                "m",
                Some(ACTIVE)
            ),
            ["OverrideTemplateExclusionLists can't be true when IgnoreExclusionLists is true."]
        );
        assert_eq!(
            errors(
                r#"{"ExclusionListIds":["x1"],"OverrideTemplateExclusionLists":true,"IgnoreExclusionLists":true}"#,
                "m",
                Some(ACTIVE)
            ),
            [
                "Exclusion list ids can't be specified when IgnoreExclusionLists is true.",
                "OverrideTemplateExclusionLists can't be true when IgnoreExclusionLists is true.",
            ]
        );
    }

    #[test]
    fn rows_14_to_16_text() {
        let blank = MessageFacts {
            text_is_blank: true,
            ..ACTIVE
        };
        assert_eq!(
            errors("{}", "m", Some(blank)),
            ["Message is blank and no override message was provided."]
        );
        assert!(
            request(r#"{"OverrideMessageText":true,"MessageText":"hi"}"#)
                .validate("m", Some(blank), &exists)
                .is_ok()
        );
        for text in ["", r#","MessageText":null"#, r#","MessageText":" \n ""#] {
            assert_eq!(
                errors(
                    &format!(r#"{{"OverrideMessageText":true{text}}}"#),
                    "m",
                    Some(ACTIVE)
                ),
                ["Cannot override message text with a blank message."]
            );
        }
        assert_eq!(
            errors(r#"{"MessageText":"hi"}"#, "m", Some(ACTIVE)),
            ["MessageText isn't applicable when OverrideMessageText is false."]
        );
        assert_eq!(
            errors(
                r#"{"MessageText":"","OverrideMessageText":false}"#,
                "m",
                Some(blank)
            ),
            [
                "Message is blank and no override message was provided.",
                "MessageText isn't applicable when OverrideMessageText is false.",
            ]
        );
    }

    #[test]
    fn row_16a_override_text_over_1600_characters_names_the_field_as_spelled() {
        let at_limit = "😀".repeat(1600);
        assert!(request(&format!(
            r#"{{"OverrideMessageText":true,"MessageText":"{at_limit}"}}"#
        ))
        .validate("m", Some(ACTIVE), &exists)
        .is_ok());
        let over = "é".repeat(1601);
        assert_eq!(
            errors(
                &format!(
                    r#"{{"OverrideMessageText":true,"messagetext":"{over}","sendTime":"soon"}}"#
                ),
                "m",
                Some(ACTIVE)
            ),
            [
                "messagetext can't be longer than 1600 characters.",
                "soon isn't a valid send time (yyyy-MM-dd HH:mm).",
            ]
        );
        // Without the override only row 16 applies: the text is not used.
        assert_eq!(
            errors(&format!(r#"{{"MessageText":"{over}"}}"#), "m", Some(ACTIVE)),
            ["MessageText isn't applicable when OverrideMessageText is false."]
        );
    }

    #[test]
    fn rows_17_to_22_blackout_window() {
        assert_eq!(
            errors(r#"{"blackoutWindow":{}}"#, "m", Some(ACTIVE)),
            [
                "A UTC offset must be specified when using a blackout window.",
                "A window start time must be specified when using a blackout window.",
                "A window end time must be specified when using a blackout window.",
            ]
        );
        assert_eq!(
            errors(
                r#"{"blackoutWindow":{"UtcOffset":" ","WindowStart":"","WindowEnd":null}}"#,
                "m",
                Some(ACTIVE)
            ),
            [
                "A UTC offset must be specified when using a blackout window.",
                "A window start time must be specified when using a blackout window.",
                "A window end time must be specified when using a blackout window.",
            ]
        );
        assert_eq!(
            errors(
                r#"{"blackoutWindow":{"UtcOffset":"+5:30","WindowStart":"930","WindowEnd":"2400"}}"#,
                "m",
                Some(ACTIVE)
            ),
            [
                "+5:30 isn't a valid UTC offset.",
                "930 isn't a valid blackout window start time.",
                "2400 isn't a valid blackout window end time.",
            ]
        );
        assert_eq!(
            errors(
                r#"{"blackoutWindow":{"UtcOffset":" -05:00","WindowStart":"9:30"}}"#,
                "m",
                Some(ACTIVE)
            ),
            [
                " -05:00 isn't a valid UTC offset.",
                "A window end time must be specified when using a blackout window.",
            ]
        );
        assert_eq!(
            errors(
                r#"{"blackoutWindow":{"utcoffset":5,"WindowStart":"1500","WindowEnd":"15:00"}}"#,
                "m",
                Some(ACTIVE)
            ),
            [
                "utcoffset must be a string.",
                "A UTC offset must be specified when using a blackout window.",
            ]
        );
        assert_eq!(
            errors(r#"{"BlackoutWindow":"22-6"}"#, "m", Some(ACTIVE)),
            ["BlackoutWindow must be an object."]
        );
    }

    #[test]
    fn rows_23_and_24_send_time_and_content_url() {
        assert_eq!(
            errors(
                r#"{"sendTime":"2030-1-5 9:00","ContentURL":"ftp://example.com/a"}"#,
                "m",
                Some(ACTIVE)
            ),
            [
                "2030-1-5 9:00 isn't a valid send time (yyyy-MM-dd HH:mm).",
                "ftp://example.com/a isn't a valid content URL.",
            ]
        );
        assert_eq!(
            errors(
                r#"{"SENDTIME":"2030-02-30 10:00","contenturl":"not a url"}"#,
                "m",
                Some(ACTIVE)
            ),
            [
                "2030-02-30 10:00 isn't a valid send time (yyyy-MM-dd HH:mm).",
                "not a url isn't a valid content URL.",
            ]
        );
    }

    #[test]
    fn generic_messages_come_first_in_field_order() {
        assert_eq!(
            errors(
                r#"{"ContentURL":1,"allowDuplication":"maybe","sendTime":[],"blackoutWindow":{"WindowEnd":1,"WindowStart":2,"UtcOffset":3},
                    "MessageText":false,"OverrideMessageText":"yes","IgnoreExclusionLists":0,"OverrideTemplateExclusionLists":[],
                    "ExclusionListIds":[1],"OverrideTemplateTargetLists":{"a":1},"TargetListIds":"x","targetListIDs":"y"}"#,
                "bad!",
                None
            ),
            [
                "targetListIDs is specified more than once.",
                "targetListIDs must be an array of strings.",
                r#"{"a":1} isn't a valid value for OverrideTemplateTargetLists."#,
                "ExclusionListIds must be an array of strings.",
                "[] isn't a valid value for OverrideTemplateExclusionLists.",
                "0 isn't a valid value for IgnoreExclusionLists.",
                "yes isn't a valid value for OverrideMessageText.",
                "MessageText must be a string.",
                "UtcOffset must be a string.",
                "WindowStart must be a string.",
                "WindowEnd must be a string.",
                "sendTime must be a string.",
                "maybe isn't a valid value for allowDuplication.",
                "ContentURL must be a string.",
                "Message id bad! isn't valid.",
                "A UTC offset must be specified when using a blackout window.",
                "A window start time must be specified when using a blackout window.",
                "A window end time must be specified when using a blackout window.",
            ]
        );
    }

    #[test]
    fn duplicated_field_reads_last_value() {
        let e = errors(
            r#"{"OverrideMessageText":false,"overridemessagetext":true,"MessageText":"hi","sendTime":"x"}"#,
            "m",
            Some(ACTIVE),
        );
        assert_eq!(
            e,
            [
                "overridemessagetext is specified more than once.",
                "x isn't a valid send time (yyyy-MM-dd HH:mm).",
            ]
        );
    }

    #[test]
    fn every_row_at_once_in_table_order() {
        let facts = MessageFacts {
            can_send: false,
            has_default_targets: false,
            text_is_blank: true,
        };
        let e = errors(
            r#"{"TargetListIds":["nope"],"ExclusionListIds":["gone"],"IgnoreExclusionLists":true,
                "MessageText":"x","blackoutWindow":{"UtcOffset":"Z","WindowStart":"15","WindowEnd":"930"},
                "sendTime":"soon","ContentURL":"example.com"}"#,
            "m",
            Some(facts),
        );
        assert_eq!(
            e,
            [
                "The Message must be in Active status in order to send.",
                "The count of Target List IDs can't be zero.",
                "Target list id [nope] is invalid.",
                "TargetListIds isn't applicable when OverrideTemplateTargetLists is false.",
                "Exclusion list id [gone] is invalid.",
                "Exclusion list ids can't be specified when IgnoreExclusionLists is true.",
                "Message is blank and no override message was provided.",
                "MessageText isn't applicable when OverrideMessageText is false.",
                "Z isn't a valid UTC offset.",
                "15 isn't a valid blackout window start time.",
                "930 isn't a valid blackout window end time.",
                "soon isn't a valid send time (yyyy-MM-dd HH:mm).",
                "example.com isn't a valid content URL.",
            ]
        );
    }

    #[test]
    fn list_ids_to_resolve_are_distinct_well_formed_non_blank() {
        let r =
            request(r#"{"TargetListIds":["a","b c"," ","a","A"],"ExclusionListIds":["A","z",""]}"#);
        assert_eq!(r.list_ids_to_resolve(), ["a", "A", "z"]);
        assert!(request("{}").list_ids_to_resolve().is_empty());
    }

    #[test]
    fn list_exists_is_asked_only_about_resolvable_ids() {
        let r = request(r#"{"TargetListIds":["ok","b c","ok"],"ExclusionListIds":["%"]}"#);
        let resolvable = r.list_ids_to_resolve();
        let check = |id: &str| {
            assert!(resolvable.iter().any(|r| r == id), "asked about {id:?}");
            true
        };
        let _ = r.validate("m", Some(ACTIVE), &check);
    }

    fn arb_field_value() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("null".to_owned()),
            Just("true".to_owned()),
            Just("false".to_owned()),
            Just("\"TRUE\"".to_owned()),
            Just("\"\"".to_owned()),
            Just("[]".to_owned()),
            Just("[\" \"]".to_owned()),
            Just("[\"known\",\"nope\"]".to_owned()),
            Just("1".to_owned()),
            Just("{}".to_owned()),
            Just(r#"{"UtcOffset":"-5","WindowStart":"1","WindowEnd":"0900"}"#.to_owned()),
            "[a-z0-9 :-]{0,6}".prop_map(|s| format!("\"{s}\"")),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        #[test]
        fn validation_never_panics_and_is_ok_iff_no_errors(
            fields in prop::collection::vec((
                prop::sample::select(vec![
                    "TargetListIds", "OverrideTemplateTargetLists", "ExclusionListIds",
                    "OverrideTemplateExclusionLists", "IgnoreExclusionLists", "OverrideMessageText",
                    "MessageText", "blackoutWindow", "sendTime", "allowDuplication", "ContentURL",
                    "targetlistids", "SENDTIME",
                ]),
                arb_field_value(),
            ), 0..8),
            path_id in prop::sample::select(vec!["m", "bad id", ""]),
            facts in prop::option::of((any::<bool>(), any::<bool>(), any::<bool>())),
        ) {
            let body = format!(
                "{{{}}}",
                fields.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect::<Vec<_>>().join(",")
            );
            let r = request(&body);
            let facts = facts.map(|(a, b, c)| MessageFacts { can_send: a, has_default_targets: b, text_is_blank: c });
            match r.validate(path_id, facts, &exists) {
                Ok(v) => {
                    prop_assert!(r.generic_errors().is_empty());
                    prop_assert_eq!(path_id, "m");
                    prop_assert!(facts.is_some());
                    if let TargetChoice::Override(ids) = &v.target {
                        prop_assert!(!ids.is_empty());
                        prop_assert!(ids.iter().all(|id| exists(id)));
                    }
                }
                Err(e) => {
                    prop_assert!(!e.is_empty());
                    prop_assert!(e.starts_with(r.generic_errors()));
                }
            }
        }
    }
}

//! Request bodies under the conventions of API.md §1: case-insensitive field names, duplicates
//! in two casings, `null` as absent, lenient booleans, and the generic wrong-type messages.

use std::fmt::{self, Write as _};

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// A JSON value that keeps every key of an object in order, duplicates included.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<Json>),
    Object(Fields),
}

impl Json {
    /// Compact JSON text of the value (`1`, `[]`, `{"a":1}`, `"x"`).
    pub fn to_json_text(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }

    /// The string's content, if this is a JSON string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    fn write_json(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Number(n) => {
                let _ = write!(out, "{n}");
            }
            Json::String(s) => write_json_string(s, out),
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_json(out);
                }
                out.push(']');
            }
            Json::Object(fields) => {
                out.push('{');
                for (i, (key, value)) in fields.entries.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_json_string(key, out);
                    out.push(':');
                    value.write_json(out);
                }
                out.push('}');
            }
        }
    }
}

/// Writes `s` as a JSON string literal, escaped as `serde_json` does.
fn write_json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Json, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

/// U+0000 (`"\u0000"` in JSON) is dropped from every string and key: it means nothing in a text
/// message, an ID or a number, and PostgreSQL cannot store it in text, so keeping it would make
/// one backend refuse what the other stores. The same holds for every other text of a request
/// (query parameters, form fields, CSV cells).
pub fn without_nul(s: String) -> String {
    if s.contains('\0') {
        s.replace('\0', "")
    } else {
        s
    }
}

/// Builds a [`Json`] tree, keeping object keys in order with duplicates.
struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Json, E> {
        Ok(Json::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Json, E> {
        Ok(Json::Number(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Json, E> {
        Ok(Json::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Json, E> {
        serde_json::Number::from_f64(v)
            .map(Json::Number)
            .ok_or_else(|| E::custom("number out of range"))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Json, E> {
        Ok(Json::String(without_nul(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Json, E> {
        Ok(Json::String(without_nul(v)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Json, D::Error> {
        Json::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Json>()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value::<Json>()?;
            entries.push((without_nul(key), value));
        }
        Ok(Json::Object(Fields { entries }))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    /// Not JSON, or not a JSON object (`The request body isn't valid JSON.`).
    NotJson,
}

impl BodyError {
    /// The contract's message (API.md §1).
    pub fn message(self) -> &'static str {
        match self {
            BodyError::NotJson => "The request body isn't valid JSON.",
        }
    }
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for BodyError {}

/// The fields of one JSON object, in order, as spelled by the client.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Fields {
    entries: Vec<(String, Json)>,
}

impl Fields {
    /// Parses a request body: empty (or only whitespace) is `{}`; anything that is not a JSON
    /// object is `NotJson`. Never panics, whatever the bytes (deep nesting included).
    pub fn parse(body: &[u8]) -> Result<Fields, BodyError> {
        if body
            .iter()
            .all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        {
            return Ok(Fields::default());
        }
        // serde_json checks UTF-8 and stops at its recursion limit (128) with an error.
        let mut deserializer = serde_json::Deserializer::from_slice(body);
        let value = Json::deserialize(&mut deserializer).map_err(|_| BodyError::NotJson)?;
        deserializer.end().map_err(|_| BodyError::NotJson)?;
        match value {
            Json::Object(fields) => Ok(fields),
            _ => Err(BodyError::NotJson),
        }
    }
    pub fn from_entries(entries: Vec<(String, Json)>) -> Fields {
        Fields { entries }
    }
    pub fn entries(&self) -> &[(String, Json)] {
        &self.entries
    }
}

/// Reads fields by name ignoring case and records the generic §1 messages, in reading order:
/// `{Field} is specified more than once.` (the later spelling), `{Field} must be a string.`,
/// `{Field} must be an array of strings.`, `{Field} must be an object.`,
/// `{0} isn't a valid value for {Field}.` A field with such an error reads as absent, except a
/// duplicated field, which reads as its last value. `null` reads as absent.
///
/// Reading one field twice records its messages once.
pub struct FieldReader<'a> {
    fields: &'a Fields,
    /// The generic messages (wrong types, invalid booleans, duplicates) first, then the
    /// endpoint's own: API.md §1 puts type errors before the endpoint's table, whatever order
    /// the fields are read and checked in.
    errors: Vec<String>,
    /// How many of `errors` are generic.
    generic: usize,
}

impl<'a> FieldReader<'a> {
    pub fn new(fields: &'a Fields) -> FieldReader<'a> {
        FieldReader {
            fields,
            errors: Vec::new(),
            generic: 0,
        }
    }
    /// The client's spelling of the field (its last occurrence), if present (null included).
    pub fn spelling(&self, name: &str) -> Option<&'a str> {
        self.last(name).map(|(key, _)| key)
    }
    /// Any JSON value but null, untyped.
    pub fn any(&mut self, name: &str) -> Option<&'a Json> {
        self.lookup(name).map(|(_, value)| value)
    }
    pub fn string(&mut self, name: &str) -> Option<&'a str> {
        let (key, value) = self.lookup(name)?;
        match value {
            Json::String(s) => Some(s),
            _ => {
                self.record(format!("{key} must be a string."));
                None
            }
        }
    }
    /// A string or a JSON number (its text), e.g. `account_id`.
    pub fn string_or_number(&mut self, name: &str) -> Option<String> {
        let (key, value) = self.lookup(name)?;
        match value {
            Json::String(s) => Some(s.clone()),
            Json::Number(n) => Some(n.to_string()),
            _ => {
                self.record(format!("{key} must be a string."));
                None
            }
        }
    }
    /// JSON `true`/`false` or the strings `"true"`/`"false"` in any case.
    pub fn bool(&mut self, name: &str) -> Option<bool> {
        let (key, value) = self.lookup(name)?;
        match value {
            Json::Bool(b) => Some(*b),
            Json::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
            Json::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
            Json::String(s) => {
                self.record(format!("{s} isn't a valid value for {key}."));
                None
            }
            other => {
                self.record(format!(
                    "{} isn't a valid value for {key}.",
                    other.to_json_text()
                ));
                None
            }
        }
    }
    pub fn string_array(&mut self, name: &str) -> Option<Vec<&'a str>> {
        let (key, value) = self.lookup(name)?;
        let strings = match value {
            Json::Array(items) => items.iter().map(Json::as_str).collect::<Option<Vec<_>>>(),
            _ => None,
        };
        if strings.is_none() {
            self.record(format!("{key} must be an array of strings."));
        }
        strings
    }
    pub fn object(&mut self, name: &str) -> Option<&'a Fields> {
        let (key, value) = self.lookup(name)?;
        match value {
            Json::Object(fields) => Some(fields),
            _ => {
                self.record(format!("{key} must be an object."));
                None
            }
        }
    }
    /// A reader for a nested object; merge its messages back with `absorb`.
    pub fn nested(&self, fields: &'a Fields) -> FieldReader<'a> {
        FieldReader::new(fields)
    }
    /// Merges a nested reader's messages into this one's: its generic messages after this
    /// one's generic ones, its own messages last.
    pub fn absorb(&mut self, child: FieldReader<'a>) {
        let mut messages = child.errors;
        let own = messages.split_off(child.generic);
        for message in messages {
            self.record(message);
        }
        self.errors.extend(own);
    }
    /// Adds an endpoint-specific message after every message recorded so far (generic
    /// messages recorded later still come before it).
    pub fn push_error(&mut self, message: String) {
        self.errors.push(message);
    }
    /// Adds a type error the reader cannot see itself (a shape inside a value), among the
    /// generic messages.
    pub fn type_error(&mut self, message: String) {
        self.record(message);
    }
    pub fn errors(&self) -> &[String] {
        &self.errors
    }
    pub fn finish(self) -> Vec<String> {
        self.errors
    }

    /// The last occurrence of `name` (ignoring ASCII case), null included.
    fn last(&self, name: &str) -> Option<(&'a str, &'a Json)> {
        let fields: &'a Fields = self.fields;
        fields
            .entries
            .iter()
            .rev()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(key, value)| (key.as_str(), value))
    }

    /// The last occurrence of `name` unless it is null; records the duplicate message.
    fn lookup(&mut self, name: &str) -> Option<(&'a str, &'a Json)> {
        let (key, value) = self.last(name)?;
        let occurrences = self
            .fields
            .entries
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .count();
        if occurrences > 1 {
            self.record(format!("{key} is specified more than once."));
        }
        match value {
            Json::Null => None,
            value => Some((key, value)),
        }
    }

    /// Records a generic message once, however often its field is read, after the generic
    /// messages so far and before every endpoint message.
    fn record(&mut self, message: String) {
        if !self.errors[..self.generic].contains(&message) {
            self.errors.insert(self.generic, message);
            self.generic += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn nul_characters_are_dropped_from_strings_and_keys() {
        let fields = parse("{\"a\\u0000b\": \"x\\u0000y\", \"c\": [\"\\u0000\"]}");
        let mut reader = FieldReader::new(&fields);
        assert_eq!(reader.string("ab"), Some("xy"));
        assert_eq!(reader.string_array("c"), Some(vec![""]));
    }

    fn parse(s: &str) -> Fields {
        Fields::parse(s.as_bytes()).unwrap()
    }

    #[test]
    fn empty_and_whitespace_bodies_are_empty_objects() {
        assert_eq!(Fields::parse(b"").unwrap(), Fields::default());
        assert_eq!(Fields::parse(b" \r\n\t ").unwrap(), Fields::default());
        assert_eq!(Fields::parse(b" {} ").unwrap(), Fields::default());
    }

    #[test]
    fn non_objects_and_invalid_json_are_not_json() {
        for body in [
            &b"[]"[..],
            b"\"abc\"",
            b"1",
            b"null",
            b"true",
            b"{",
            b"{} x",
            b"{}{}",
            b"{\"a\":1,}",
            b"{'a':1}",
            b"\xff",
            b"{\"a\":\"\xff\"}",
            b"{\"a\":1e400}",
            b"\xef\xbb\xbf{}",
        ] {
            assert_eq!(Fields::parse(body), Err(BodyError::NotJson), "{body:?}");
        }
        assert_eq!(
            BodyError::NotJson.message(),
            "The request body isn't valid JSON."
        );
    }

    #[test]
    fn deep_nesting_is_not_json_and_does_not_panic() {
        let deep = format!("{{\"a\":{}", "[".repeat(100_000));
        assert_eq!(Fields::parse(deep.as_bytes()), Err(BodyError::NotJson));
        let deep_closed = format!("{{\"a\":{}{}}}", "[".repeat(1000), "]".repeat(1000));
        assert_eq!(
            Fields::parse(deep_closed.as_bytes()),
            Err(BodyError::NotJson)
        );
        let objects = "{\"a\":".repeat(100_000);
        assert_eq!(Fields::parse(objects.as_bytes()), Err(BodyError::NotJson));
        // Moderate nesting is fine.
        let ok = format!("{{\"a\":{}{}}}", "[".repeat(100), "]".repeat(100));
        assert!(Fields::parse(ok.as_bytes()).is_ok());
    }

    #[test]
    fn keeps_duplicates_and_order() {
        let f = parse(r#"{"b":1,"a":2,"B":[true,null,"x"],"c":{"d":1,"d":2}}"#);
        let keys: Vec<&str> = f.entries().iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["b", "a", "B", "c"]);
        assert_eq!(f.entries()[3].1.to_json_text(), r#"{"d":1,"d":2}"#);
        assert_eq!(
            Json::Object(f).to_json_text(),
            r#"{"b":1,"a":2,"B":[true,null,"x"],"c":{"d":1,"d":2}}"#
        );
    }

    #[test]
    fn to_json_text_is_compact_and_escaped() {
        assert_eq!(Json::Array(vec![]).to_json_text(), "[]");
        assert_eq!(parse(r#"{"a":1.5}"#).entries()[0].1.to_json_text(), "1.5");
        assert_eq!(parse(r#"{"a":-3}"#).entries()[0].1.to_json_text(), "-3");
        assert_eq!(
            Json::String("a\"b\\c\n\u{1}é".into()).to_json_text(),
            r#""a\"b\\c\n\u0001é""#
        );
    }

    #[test]
    fn names_match_ignoring_case_and_null_is_absent() {
        let f = parse(r#"{"SENDTIME":"x","other":null}"#);
        let mut r = FieldReader::new(&f);
        assert_eq!(r.string("sendTime"), Some("x"));
        assert_eq!(r.spelling("sendtime"), Some("SENDTIME"));
        assert_eq!(r.string("other"), None);
        assert_eq!(r.spelling("other"), Some("other"));
        assert_eq!(r.any("missing"), None);
        assert_eq!(r.spelling("missing"), None);
        assert!(r.finish().is_empty());
    }

    #[test]
    fn duplicates_report_later_spelling_once_and_read_last_value() {
        let f = parse(r#"{"sendTime":"a","SendTime":"b","x":1,"X":null}"#);
        let mut r = FieldReader::new(&f);
        assert_eq!(r.string("sendtime"), Some("b"));
        assert_eq!(r.string("SENDTIME"), Some("b"));
        assert_eq!(r.any("x"), None);
        assert_eq!(
            r.finish(),
            [
                "SendTime is specified more than once.",
                "X is specified more than once."
            ]
        );
        let f = parse(r#"{"a":1,"a":2}"#);
        let mut r = FieldReader::new(&f);
        assert_eq!(r.string_or_number("A").as_deref(), Some("2"));
        assert_eq!(r.finish(), ["a is specified more than once."]);
    }

    #[test]
    fn generic_messages_come_before_endpoint_messages_whatever_the_reading_order() {
        let f = parse(r#"{"code":"12","type":5,"window":{"UtcOffset":3},"flag":"maybe"}"#);
        let mut r = FieldReader::new(&f);
        assert_eq!(r.string("code"), Some("12"));
        r.push_error("Code 12 isn't valid.".to_string());
        assert_eq!(r.string("type"), None);
        let window = r.object("window").map(|w| r.nested(w));
        let mut child = window.expect("window");
        assert_eq!(child.string("UtcOffset"), None);
        child.push_error("The window is incomplete.".to_string());
        r.absorb(child);
        assert_eq!(r.bool("flag"), None);
        r.push_error("Last.".to_string());
        assert_eq!(
            r.finish(),
            vec![
                "type must be a string.",
                "UtcOffset must be a string.",
                "maybe isn't a valid value for flag.",
                "Code 12 isn't valid.",
                "The window is incomplete.",
                "Last.",
            ]
        );
    }

    #[test]
    fn type_errors_use_the_clients_spelling() {
        let f = parse(
            r#"{"targetlistids":"abc","Ids2":[1],"Ids3":["a",null],"Ids4":{},"WINDOW":[],"text":5,"num":true}"#,
        );
        let mut r = FieldReader::new(&f);
        assert_eq!(r.string_array("TargetListIds"), None);
        assert_eq!(r.string_array("ids2"), None);
        assert_eq!(r.string_array("ids3"), None);
        assert_eq!(r.string_array("ids4"), None);
        assert_eq!(r.object("window"), None);
        assert_eq!(r.string("Text"), None);
        assert_eq!(r.string_or_number("num"), None);
        assert_eq!(
            r.finish(),
            [
                "targetlistids must be an array of strings.",
                "Ids2 must be an array of strings.",
                "Ids3 must be an array of strings.",
                "Ids4 must be an array of strings.",
                "WINDOW must be an object.",
                "text must be a string.",
                "num must be a string.",
            ]
        );
    }

    #[test]
    fn arrays_objects_and_strings_read() {
        let f = parse(r#"{"ids":["a"," ",""],"empty":[],"w":{"UtcOffset":"-5"},"n":12.5}"#);
        let mut r = FieldReader::new(&f);
        assert_eq!(r.string_array("IDS"), Some(vec!["a", " ", ""]));
        assert_eq!(r.string_array("empty"), Some(vec![]));
        let w = r.object("W").unwrap();
        let mut nested = r.nested(w);
        assert_eq!(nested.string("utcoffset"), Some("-5"));
        assert_eq!(nested.string("WindowStart"), None);
        r.absorb(nested);
        assert_eq!(r.string_or_number("n").as_deref(), Some("12.5"));
        assert!(r.errors().is_empty());
    }

    #[test]
    fn booleans_are_lenient_and_report_invalid_values() {
        let f = parse(
            r#"{"a":true,"b":"FALSE","c":"True","d":1,"e":[],"f":"yes","g":{"a":1},"h":"","i":"tru e","j":null}"#,
        );
        let mut r = FieldReader::new(&f);
        assert_eq!(r.bool("A"), Some(true));
        assert_eq!(r.bool("b"), Some(false));
        assert_eq!(r.bool("c"), Some(true));
        assert_eq!(r.bool("d"), None);
        assert_eq!(r.bool("e"), None);
        assert_eq!(r.bool("f"), None);
        assert_eq!(r.bool("g"), None);
        assert_eq!(r.bool("h"), None);
        assert_eq!(r.bool("i"), None);
        assert_eq!(r.bool("j"), None);
        assert_eq!(
            r.finish(),
            [
                "1 isn't a valid value for d.",
                "[] isn't a valid value for e.",
                "yes isn't a valid value for f.",
                r#"{"a":1} isn't a valid value for g."#,
                " isn't a valid value for h.",
                "tru e isn't a valid value for i.",
            ]
        );
    }

    #[test]
    fn push_error_appends_in_order_after_the_generic_messages() {
        let f = parse(r#"{"a":1}"#);
        let mut r = FieldReader::new(&f);
        r.push_error("first".into());
        assert_eq!(r.string("a"), None);
        r.push_error("last".into());
        r.type_error("b must be an array of objects.".into());
        assert_eq!(
            r.finish(),
            [
                "a must be a string.",
                "b must be an array of objects.",
                "first",
                "last"
            ]
        );
    }

    fn arb_value() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::Bool),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<u64>().prop_map(serde_json::Value::from),
            (-1e300f64..1e300).prop_map(serde_json::Value::from),
            ".{0,8}".prop_map(serde_json::Value::String),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
                prop::collection::vec((".{0,6}", inner), 0..6)
                    .prop_map(|kv| serde_json::Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    fn same(a: &Json, b: &serde_json::Value) -> bool {
        match (a, b) {
            (Json::Null, serde_json::Value::Null) => true,
            (Json::Bool(x), serde_json::Value::Bool(y)) => x == y,
            (Json::Number(x), serde_json::Value::Number(y)) => x == y,
            // U+0000 is dropped on parsing.
            (Json::String(x), serde_json::Value::String(y)) => *x == y.replace('\0', ""),
            (Json::Array(x), serde_json::Value::Array(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
            }
            (Json::Object(x), serde_json::Value::Object(y)) => {
                x.entries().len() == y.len()
                    && x.entries()
                        .iter()
                        .zip(y)
                        .all(|((k1, v1), (k2, v2))| *k1 == k2.replace('\0', "") && same(v1, v2))
            }
            _ => false,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(10_000))]

        #[test]
        fn never_panics_on_arbitrary_bytes(body in prop::collection::vec(any::<u8>(), 0..64)) {
            let _ = Fields::parse(&body);
        }

        #[test]
        fn accepts_exactly_json_objects(body in r#"[ {}\[\]",:a1\\.eE+-]{0,24}"#) {
            let reference = body.bytes().all(|b| b" \t\r\n".contains(&b))
                || matches!(
                    serde_json::from_str::<serde_json::Value>(&body),
                    Ok(serde_json::Value::Object(_))
                );
            prop_assert_eq!(Fields::parse(body.as_bytes()).is_ok(), reference);
        }

        #[test]
        fn round_trips_serde_json_values(
            entries in prop::collection::vec(("[a-zA-Z]{1,4}", arb_value()), 0..5)
        ) {
            let map: serde_json::Map<String, serde_json::Value> = entries.into_iter().collect();
            let value = serde_json::Value::Object(map);
            let text = serde_json::to_string(&value).unwrap();
            let fields = Fields::parse(text.as_bytes()).unwrap();
            // Compare with serde_json's own reading of the text (floats may not round-trip).
            let reread: serde_json::Value = serde_json::from_str(&text).unwrap();
            prop_assert!(same(&Json::Object(fields.clone()), &reread));
            // Text equality where no NUL was dropped (dropping one can reorder a sorted map).
            if !text.contains("\\u0000") {
                prop_assert_eq!(
                    Json::Object(fields).to_json_text(),
                    serde_json::to_string(&reread).unwrap()
                );
            }
        }

        #[test]
        fn bool_reader_never_panics_and_reports_at_most_once(value in arb_value()) {
            let f = Fields::from_entries(vec![("Flag".into(), Json::deserialize(&value).unwrap())]);
            let mut r = FieldReader::new(&f);
            let first = r.bool("flag");
            let second = r.bool("FLAG");
            prop_assert_eq!(first, second);
            prop_assert!(r.errors().len() <= 1);
            prop_assert_eq!(first.is_none() && !value.is_null(), r.errors().len() == 1);
        }
    }
}

//! The size limits of API.md §1 "Text limits": message texts, contact attributes, subscriber
//! and contact keys. Lengths count Unicode scalar values (`char`s), before `%%Name%%`
//! substitution. The checks return the contract's messages; each endpoint puts them where its
//! table says.

/// Most characters of a message text: a stored message's `text`, either send endpoint's
/// override text, a keyword's `response`/`confirmText`, a code's help and opt-out texts,
/// queueMO's `messageText` — and of a recipient's text after substitution (else 1501).
pub const MAX_TEXT_CHARS: usize = 1600;
/// Most characters of one contact attribute value.
pub const MAX_ATTRIBUTE_VALUE_CHARS: usize = 1600;
/// Most characters of an attribute name, a subscriber key or a contact key.
pub const MAX_KEY_CHARS: usize = 255;

/// True when `s` has more than `max` characters (counts at most `max + 1` of them).
pub fn longer_than(s: &str, max: usize) -> bool {
    // A character takes at least one byte: a short enough string needs no counting.
    s.len() > max && s.chars().nth(max).is_some()
}

/// `{field} can't be longer than {max} characters.` (API.md §1).
pub fn too_long_message(field: &str, max: usize) -> String {
    format!("{field} can't be longer than {max} characters.")
}

/// The §1 message when `value` is longer than `max` characters; `field` is named as the
/// client spelled it (or, in the admin API, as the admin API names it).
pub fn check_length(field: &str, value: &str, max: usize) -> Option<String> {
    longer_than(value, max).then(|| too_long_message(field, max))
}

/// A message text (API.md §1): the message when it is over 1,600 characters.
pub fn check_text(field: &str, text: &str) -> Option<String> {
    check_length(field, text, MAX_TEXT_CHARS)
}

/// The messages about one contact's subscriber key and attributes, in this order: the key
/// (named `key_field`, as the client spelled it), then each attribute in the order given —
/// its name over 255 characters, its value over 1,600. An attribute is its own field: the
/// message names it by its name as given (`FirstName can't be longer than 1600 characters.`).
pub fn contact_messages<'a>(
    key_field: &str,
    key: Option<&str>,
    attributes: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Vec<String> {
    let mut messages = Vec::new();
    if let Some(m) = key.and_then(|k| check_length(key_field, k, MAX_KEY_CHARS)) {
        messages.push(m);
    }
    for (name, value) in attributes {
        if let Some(m) = check_length(name, name, MAX_KEY_CHARS) {
            messages.push(m);
        }
        if let Some(m) = check_length(name, value, MAX_ATTRIBUTE_VALUE_CHARS) {
            messages.push(m);
        }
    }
    messages
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn texts_are_counted_in_characters_not_bytes() {
        assert_eq!(check_text("MessageText", &"a".repeat(1600)), None);
        assert_eq!(
            check_text("MessageText", &"a".repeat(1601)).as_deref(),
            Some("MessageText can't be longer than 1600 characters.")
        );
        // 1,600 four-byte characters are 6,400 bytes and still within the limit.
        assert_eq!(check_text("text", &"😀".repeat(1600)), None);
        assert_eq!(
            check_text("text", &"é".repeat(1601)).as_deref(),
            Some("text can't be longer than 1600 characters.")
        );
    }

    #[test]
    fn contact_messages_name_the_key_then_each_attribute_as_given() {
        let long_name = "n".repeat(256);
        let long_value = "v".repeat(1601);
        let messages = contact_messages(
            "subscriberkey",
            Some(&"k".repeat(256)),
            [
                ("FirstName", long_value.as_str()),
                (long_name.as_str(), "x"),
                ("Ok", "fine"),
            ],
        );
        assert_eq!(
            messages,
            vec![
                "subscriberkey can't be longer than 255 characters.".to_string(),
                "FirstName can't be longer than 1600 characters.".to_string(),
                format!("{long_name} can't be longer than 255 characters."),
            ]
        );
        assert!(contact_messages(
            "SubscriberKey",
            Some(&"k".repeat(255)),
            [("a".repeat(255).as_str(), "v".repeat(1600).as_str())]
        )
        .is_empty());
    }

    proptest! {
        #[test]
        fn longer_than_agrees_with_counting(s in ".{0,40}", max in 0usize..40) {
            prop_assert_eq!(longer_than(&s, max), s.chars().count() > max);
        }
    }
}

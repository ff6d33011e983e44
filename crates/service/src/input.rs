//! How a request's field reaches an operation.

/// A field of a request as the adapter read it. `Unreadable` means the adapter already has a
/// message for it (a wrong type, API.md §1), so the operation adds none of its own.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Field<T> {
    #[default]
    Absent,
    /// Given as null: absent, except where null means "clear" (a message's `contentUrl`).
    Null,
    Unreadable,
    Given(T),
}

impl<T> Field<T> {
    /// The value when given.
    pub fn given(&self) -> Option<&T> {
        match self {
            Field::Given(v) => Some(v),
            _ => None,
        }
    }

    /// `Given` for `Some`, `Absent` for `None`.
    pub fn from_option(value: Option<T>) -> Field<T> {
        value.map_or(Field::Absent, Field::Given)
    }
}

impl Field<String> {
    /// A required non-blank text: its value, or `None` after recording `{name} is required.`
    /// (nothing for an unreadable one, which has its message).
    pub(crate) fn required(&self, name: &str, errors: &mut Vec<String>) -> Option<&str> {
        match self {
            Field::Given(v) if !v.trim().is_empty() => Some(v),
            Field::Unreadable => None,
            _ => {
                errors.push(format!("{name} is required."));
                None
            }
        }
    }
}

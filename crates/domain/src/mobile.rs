//! Mobile numbers (API.md §1): digits only, country code first, 8–15 digits; one leading `+` is
//! accepted and dropped. That syntactic rule is the whole validity test.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MobileNumber(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MobileNumberError {
    /// Anything but digits and one leading `+` (`{0} isn't a numeric string`).
    NotNumeric,
    /// Digits, but not 8–15 of them (`{0} isn't a valid mobile number.`).
    InvalidLength,
}

impl MobileNumberError {
    /// The contract's message for `input` (API.md §6): `{0} isn't a numeric string` (no period,
    /// as in the contract) or `{0} isn't a valid mobile number.`
    pub fn message(self, input: &str) -> String {
        match self {
            MobileNumberError::NotNumeric => format!("{input} isn't a numeric string"),
            MobileNumberError::InvalidLength => format!("{input} isn't a valid mobile number."),
        }
    }
}

impl MobileNumber {
    pub fn parse(s: &str) -> Result<MobileNumber, MobileNumberError> {
        let digits = s.strip_prefix('+').unwrap_or(s);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(MobileNumberError::NotNumeric);
        }
        if !(8..=15).contains(&digits.len()) {
            return Err(MobileNumberError::InvalidLength);
        }
        Ok(MobileNumber(digits.to_owned()))
    }
    /// Digits only.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MobileNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Independent reference: count characters rather than scan bytes.
    fn reference(s: &str) -> Result<String, MobileNumberError> {
        let chars: Vec<char> = s.chars().collect();
        let body: &[char] = if chars.first() == Some(&'+') {
            &chars[1..]
        } else {
            &chars[..]
        };
        if body.is_empty() || body.iter().any(|c| !c.is_ascii_digit()) {
            Err(MobileNumberError::NotNumeric)
        } else if body.len() < 8 || body.len() > 15 {
            Err(MobileNumberError::InvalidLength)
        } else {
            Ok(body.iter().collect())
        }
    }

    #[test]
    fn accepts_digits_and_drops_plus() {
        assert_eq!(
            MobileNumber::parse("15555555510").unwrap().as_str(),
            "15555555510"
        );
        assert_eq!(
            MobileNumber::parse("+15555555510").unwrap().as_str(),
            "15555555510"
        );
        assert_eq!(
            MobileNumber::parse("12345678").unwrap().as_str(),
            "12345678"
        );
        assert_eq!(
            MobileNumber::parse("123456789012345").unwrap().as_str(),
            "123456789012345"
        );
        assert_eq!(
            MobileNumber::parse("+15555555510").unwrap().to_string(),
            "15555555510"
        );
    }

    #[test]
    fn rejects_non_numeric() {
        for bad in [
            "555-1234",
            "1.5",
            "",
            "+",
            "++15555555510",
            " 15555555510",
            "15555555510 ",
            "1555555551O",
            "１２３４５６７８",
            "1+5555555510",
        ] {
            assert_eq!(
                MobileNumber::parse(bad),
                Err(MobileNumberError::NotNumeric),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn rejects_wrong_length() {
        for bad in ["1234567", "+1234567", "1234567890123456", "0"] {
            assert_eq!(
                MobileNumber::parse(bad),
                Err(MobileNumberError::InvalidLength),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn messages_are_verbatim() {
        assert_eq!(
            MobileNumberError::NotNumeric.message("555-1234"),
            "555-1234 isn't a numeric string"
        );
        assert_eq!(
            MobileNumberError::InvalidLength.message("1234"),
            "1234 isn't a valid mobile number."
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(10_000))]

        #[test]
        fn matches_reference_on_arbitrary_strings(s in any::<String>()) {
            prop_assert_eq!(MobileNumber::parse(&s).map(|n| n.0), reference(&s));
        }

        #[test]
        fn matches_reference_on_number_like_strings(s in "[+]?[0-9+. -]{0,18}") {
            prop_assert_eq!(MobileNumber::parse(&s).map(|n| n.0), reference(&s));
        }
    }
}

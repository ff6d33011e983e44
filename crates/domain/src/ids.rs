//! IDs and tokens (API.md §3).

use rand::Rng;

/// A message, list, keyword or account ID: 1–64 characters of `[A-Za-z0-9_-]`, never trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EncodedId(String);

impl EncodedId {
    pub fn parse(s: &str) -> Option<EncodedId> {
        is_well_formed(s).then(|| EncodedId(s.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The lowercase form used to resolve IDs case-insensitively.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

/// A send token as a client may present it: 1–64 characters of `[A-Za-z0-9_-]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenId(String);

impl TokenId {
    pub fn parse(s: &str) -> Option<TokenId> {
        is_well_formed(s).then(|| TokenId(s.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The lowercase form used to resolve tokens case-insensitively (API.md §1).
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

/// 1–64 bytes of `[A-Za-z0-9_-]` (API.md §3); nothing is trimmed.
fn is_well_formed(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

const LOWER_ALNUM: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// `len` characters drawn uniformly from `[a-z0-9]` with the thread-local CSPRNG (ChaCha, seeded
/// from the operating system).
fn random_lower_alnum(len: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| char::from(LOWER_ALNUM[rng.gen_range(0..LOWER_ALNUM.len())]))
        .collect()
}

/// A fresh lowercase ID (`[a-z0-9]`, 22 characters, random).
pub fn mint_id() -> String {
    random_lower_alnum(22)
}

/// A fresh transactional key (a minted `messageKey`, a `deletedDefinitionKey`): 26 characters
/// of `[a-z0-9]` (API.md §9).
pub fn mint_key() -> String {
    random_lower_alnum(26)
}

/// A fresh send token: 32 characters of `[a-z0-9]` from a CSPRNG (≥128 random bits).
pub fn mint_token() -> String {
    // 32 × log2(36) ≈ 165 bits.
    random_lower_alnum(32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Reference predicate written independently of `is_well_formed`.
    fn reference(s: &str) -> bool {
        let n = s.chars().count();
        (1..=64).contains(&n)
            && s.chars().all(|c| {
                c.is_ascii_digit()
                    || c.is_ascii_lowercase()
                    || c.is_ascii_uppercase()
                    || "_-".contains(c)
            })
    }

    #[test]
    fn well_formed_ids() {
        for ok in ["a", "MzA6Nzg6MA", "abc_DEF-123", &"x".repeat(64)] {
            assert_eq!(EncodedId::parse(ok).unwrap().as_str(), ok);
            assert_eq!(TokenId::parse(ok).unwrap().as_str(), ok);
        }
        for bad in [
            "",
            " abc",
            "abc ",
            "a b",
            "a.b",
            "a/b",
            "é",
            &"x".repeat(65),
            "a\n",
        ] {
            assert!(EncodedId::parse(bad).is_none(), "{bad:?}");
            assert!(TokenId::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn key_is_lowercase() {
        assert_eq!(EncodedId::parse("MzA6Nzg6MA").unwrap().key(), "mza6nzg6ma");
        assert_eq!(TokenId::parse("AbC").unwrap().key(), "abc");
    }

    #[test]
    fn minted_ids_and_tokens_are_lowercase_alnum_and_distinct() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..1000 {
            let id = mint_id();
            assert_eq!(id.len(), 22);
            assert!(id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
            assert!(EncodedId::parse(&id).is_some());
            let token = mint_token();
            assert_eq!(token.len(), 32);
            assert!(token
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
            assert!(TokenId::parse(&token).is_some());
            assert!(seen.insert(id));
            assert!(seen.insert(token));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(10_000))]

        #[test]
        fn parse_matches_reference_on_arbitrary_strings(s in any::<String>()) {
            prop_assert_eq!(EncodedId::parse(&s).is_some(), reference(&s));
            prop_assert_eq!(TokenId::parse(&s).is_some(), reference(&s));
        }

        #[test]
        fn parse_matches_reference_on_id_like_strings(s in "[A-Za-z0-9_ .-]{0,70}") {
            prop_assert_eq!(EncodedId::parse(&s).is_some(), reference(&s));
            if let Some(id) = EncodedId::parse(&s) {
                prop_assert_eq!(id.as_str(), s.as_str());
            }
        }
    }
}

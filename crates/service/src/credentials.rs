//! Secrets and tokens at rest (API.md §2): client secrets as a fast keyed hash
//! (`hmac-sha256$salt$mac`; older Argon2 PHC hashes are still verified, slowly, until upgraded),
//! access tokens as SHA-256, and the random strings minted for both.

use std::sync::OnceLock;

use argon2::password_hash::PasswordHash;
use argon2::{Argon2, PasswordVerifier};
use hmac::{Hmac, Mac};
use rand::Rng;
use sha2::{Digest, Sha256};

use crate::ServiceError;

/// Hex SHA-256 of an access token: tokens are high-entropy, so a fast hash suffices at rest.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A random string of `len` characters of `[A-Za-z0-9]`.
pub fn random_alnum(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rngs::OsRng;
    (0..len)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

/// The scheme of the fast keyed hash of client secrets.
const FAST_SCHEME: &str = "hmac-sha256";

/// A stored client secret hash, by kind.
#[derive(Debug, PartialEq, Eq)]
pub enum StoredSecret<'a> {
    /// `hmac-sha256$<salt hex>$<mac hex>`: HMAC-SHA256 of the secret keyed by a random salt.
    Fast { salt: Vec<u8>, mac: Vec<u8> },
    /// An Argon2 PHC string (`$argon2id$...`), from before the fast hash; upgraded at the
    /// client's next successful token request.
    Slow(&'a str),
    /// Anything else: matches no secret.
    Unreadable,
}

impl StoredSecret<'_> {
    pub fn parse(stored: &str) -> StoredSecret<'_> {
        if stored.starts_with("$argon2") {
            return StoredSecret::Slow(stored);
        }
        let mut parts = stored.split('$');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(FAST_SCHEME), Some(salt), Some(mac), None) => {
                match (hex::decode(salt), hex::decode(mac)) {
                    (Ok(salt), Ok(mac)) if !salt.is_empty() && mac.len() == 32 => {
                        StoredSecret::Fast { salt, mac }
                    }
                    _ => StoredSecret::Unreadable,
                }
            }
            _ => StoredSecret::Unreadable,
        }
    }
}

fn keyed_hash(salt: &[u8], secret: &str) -> Option<Hmac<Sha256>> {
    // HMAC takes a key of any length: this never fails.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(salt).ok()?;
    mac.update(secret.as_bytes());
    Some(mac)
}

/// The stored form of a new client secret: its HMAC-SHA256 keyed by 16 random bytes (API.md §2:
/// secrets carry ≥ 128 random bits, so a fast keyed hash suffices).
pub fn hash_secret(secret: &str) -> Result<String, ServiceError> {
    let mut salt = [0u8; 16];
    rand::rngs::OsRng.fill(&mut salt);
    let mac = keyed_hash(&salt, secret)
        .ok_or_else(|| ServiceError::internal("HMAC refused its key"))?
        .finalize()
        .into_bytes();
    Ok(format!(
        "{FAST_SCHEME}${}${}",
        hex::encode(salt),
        hex::encode(mac)
    ))
}

/// True when `secret` matches a fast hash's salt and MAC (compared in constant time).
pub fn verify_fast(secret: &str, salt: &[u8], mac: &[u8]) -> bool {
    keyed_hash(salt, secret).is_some_and(|h| h.verify_slice(mac).is_ok())
}

/// Checks `secret` against a fast hash that no secret matches, doing the same work as a real
/// check: an unknown `client_id` takes as long to refuse as a wrong secret (API.md §2).
pub fn verify_against_nothing(secret: &str) -> bool {
    static DUMMY: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
    let (salt, mac) = DUMMY.get_or_init(|| {
        let mut salt = vec![0u8; 16];
        let mut mac = vec![0u8; 32];
        rand::rngs::OsRng.fill(&mut salt[..]);
        rand::rngs::OsRng.fill(&mut mac[..]);
        (salt, mac)
    });
    verify_fast(secret, salt, mac)
}

/// True when `secret` matches an Argon2 PHC hash (slow and memory-hungry: run it on the blocking
/// pool, at most `SLOW_CHECKS` at once).
pub fn verify_slow(secret: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|parsed| {
            Argon2::default()
                .verify_password(secret.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verify(secret: &str, stored: &str) -> bool {
        match StoredSecret::parse(stored) {
            StoredSecret::Fast { salt, mac } => verify_fast(secret, &salt, &mac),
            StoredSecret::Slow(phc) => verify_slow(secret, phc),
            StoredSecret::Unreadable => false,
        }
    }

    #[test]
    fn secrets_verify_only_against_their_hash() {
        let stored = hash_secret("s3cret").expect("hash");
        assert!(stored.starts_with("hmac-sha256$"), "{stored}");
        assert!(verify("s3cret", &stored));
        assert!(!verify("s3cret!", &stored));
        assert!(!verify("s3cret", "not a hash"));
        assert!(!verify("s3cret", "hmac-sha256$zz$00"));
        assert_ne!(
            hash_secret("s3cret").expect("hash"),
            stored,
            "every hash has its own salt"
        );
        assert!(!verify_against_nothing("s3cret"));
        assert!(!verify_against_nothing(""));
    }

    #[test]
    fn argon2_hashes_still_verify() {
        use argon2::password_hash::{PasswordHasher, SaltString};
        let salt = SaltString::encode_b64(b"0123456789abcdef").expect("salt");
        let phc = Argon2::default()
            .hash_password(b"s3cret", &salt)
            .expect("argon2")
            .to_string();
        assert!(matches!(StoredSecret::parse(&phc), StoredSecret::Slow(_)));
        assert!(verify("s3cret", &phc));
        assert!(!verify("s3cret!", &phc));
    }
}

//! Credentials: bearer tokens for `/sms/v1` (API.md §2), the admin token for `/admin/v1` and
//! the console (API.md §7, throttled per peer address as §8 "Protection" says), and how secrets
//! and tokens are kept at rest: client secrets as a fast keyed hash (`hmac-sha256$salt$mac`;
//! older Argon2 PHC hashes are still verified, slowly, until upgraded), access tokens as SHA-256.

use std::net::IpAddr;
use std::sync::OnceLock;

use argon2::password_hash::PasswordHash;
use argon2::{Argon2, PasswordVerifier};
use axum::http::{header, HeaderMap};
use hmac::{Hmac, Mac};
use rand::Rng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::ratelimit::Attempt;
use crate::{ApiError, AppState};

/// Scopes a client can hold, in the order `/v2/token` reports them.
pub const ALL_SCOPES: [&str; 3] = ["sms_read", "sms_send", "sms_write"];

/// Who is calling `/sms/v1`.
#[derive(Debug, Clone)]
pub struct Caller {
    pub client_id: String,
    pub account_id: String,
    pub scopes: Vec<String>,
}

fn bearer_value(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = token.trim();
    (!token.is_empty()).then_some(token)
}

/// Authenticates a bearer token and checks its scope: 401 first, then 403.
pub async fn bearer(
    state: &AppState,
    headers: &HeaderMap,
    scope: &str,
) -> Result<Caller, ApiError> {
    let token = bearer_value(headers).ok_or(ApiError::InvalidToken)?;
    let found = state
        .store
        .find_token(&hash_token(token), state.now())
        .await?
        .ok_or(ApiError::InvalidToken)?;
    if !found.scopes.iter().any(|s| s == scope) {
        return Err(ApiError::InsufficientScope);
    }
    Ok(Caller {
        client_id: found.client_id,
        account_id: found.account_id,
        scopes: found.scopes,
    })
}

/// Checks the admin token of an `/admin/v1` request from `peer` (API.md §7, §8 "Protection"):
/// while the address is over the limit of wrong tokens, 429 whatever the token; a wrong token
/// counts against the address. A request with no bearer token at all is not a guess and does
/// not count (it is still refused with 429 while the address is over the limit).
pub fn admin(state: &AppState, headers: &HeaderMap, peer: Option<IpAddr>) -> Result<(), ApiError> {
    let given = bearer_value(headers);
    match state
        .admin_throttle
        .attempt(peer, || given.is_none_or(|t| admin_token_matches(state, t)))
    {
        Attempt::Throttled { retry_after_secs } => {
            Err(ApiError::TooManyFailedAttempts { retry_after_secs })
        }
        Attempt::Wrong => {
            tracing::warn!(peer = ?peer, "admin API: wrong admin token");
            Err(ApiError::AdminUnauthorized)
        }
        Attempt::Correct if given.is_none() => Err(ApiError::AdminUnauthorized),
        Attempt::Correct => Ok(()),
    }
}

/// True when `given` is the admin token (compared in constant time); never for an empty token.
pub fn admin_token_matches(state: &AppState, given: &str) -> bool {
    let expected = state.config.admin_token.as_bytes();
    !expected.is_empty() && bool::from(given.as_bytes().ct_eq(expected))
}

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
pub fn hash_secret(secret: &str) -> Result<String, ApiError> {
    let mut salt = [0u8; 16];
    rand::rngs::OsRng.fill(&mut salt);
    let mac = keyed_hash(&salt, secret)
        .ok_or_else(|| ApiError::internal("HMAC refused its key"))?
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

/// At most this many slow (Argon2) secret checks run at once (API.md §2); more wait.
pub const SLOW_CHECKS: usize = 2;

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

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, "bearer abc".parse().expect("header"));
        assert_eq!(bearer_value(&h), Some("abc"));
        h.insert(header::AUTHORIZATION, "Basic abc".parse().expect("header"));
        assert_eq!(bearer_value(&h), None);
    }
}

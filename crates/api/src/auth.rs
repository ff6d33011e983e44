//! Credentials: bearer tokens for `/sms/v1` (API.md §2), the admin token for `/admin/v1`
//! (API.md §7), and how secrets and tokens are kept at rest (argon2 and SHA-256 hashes).

use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
use argon2::{Argon2, PasswordVerifier};
use axum::http::{header, HeaderMap};
use rand::Rng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

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

/// Checks the admin token in constant time.
pub fn admin(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let given = bearer_value(headers).ok_or(ApiError::AdminUnauthorized)?;
    if !admin_token_matches(state, given) {
        return Err(ApiError::AdminUnauthorized);
    }
    Ok(())
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

/// PHC string of the secret's argon2id hash.
pub fn hash_secret(secret: &str) -> Result<String, ApiError> {
    let mut raw = [0u8; 16];
    rand::rngs::OsRng.fill(&mut raw);
    let salt = SaltString::encode_b64(&raw).map_err(ApiError::internal)?;
    Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(ApiError::internal)
}

/// True when `secret` matches the stored PHC hash.
pub fn verify_secret(secret: &str, phc: &str) -> bool {
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

    #[test]
    fn secrets_verify_only_against_their_hash() {
        let phc = hash_secret("s3cret").expect("hash");
        assert!(phc.starts_with("$argon2"));
        assert!(verify_secret("s3cret", &phc));
        assert!(!verify_secret("s3cret!", &phc));
        assert!(!verify_secret("s3cret", "not a hash"));
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

//! Credentials: bearer tokens for `/sms/v1` (API.md §2), the admin token for `/admin/v1` and
//! the console (API.md §7, throttled per peer address as §8 "Protection" says), and how secrets
//! and tokens are kept at rest: client secrets as a fast keyed hash (`hmac-sha256$salt$mac`;
//! older Argon2 PHC hashes are still verified, slowly, until upgraded), access tokens as SHA-256.

use std::net::IpAddr;

use axum::http::{header, HeaderMap};
use subtle::ConstantTimeEq;

use crate::ratelimit::Attempt;
use crate::{ApiError, AppState};

/// Scopes a client can hold, in the order `/v2/token` reports them.
pub use service::ALL_SCOPES;

pub use service::credentials::{
    hash_secret, hash_token, random_alnum, verify_against_nothing, verify_fast, verify_slow,
    StoredSecret,
};
/// Who is calling `/sms/v1`.
pub use service::Caller;

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
    match state.admin_throttle.attempt(peer, || {
        given.is_none_or(|t| admin_token_matches(&state.config, t))
    }) {
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
pub fn admin_token_matches(config: &crate::ApiConfig, given: &str) -> bool {
    let expected = config.admin_token.as_bytes();
    !expected.is_empty() && bool::from(given.as_bytes().ct_eq(expected))
}

/// At most this many slow (Argon2) secret checks run at once (API.md §2); more wait.
pub const SLOW_CHECKS: usize = 2;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, "bearer abc".parse().expect("header"));
        assert_eq!(bearer_value(&h), Some("abc"));
        h.insert(header::AUTHORIZATION, "Basic abc".parse().expect("header"));
        assert_eq!(bearer_value(&h), None);
    }
}

//! `POST /v2/token`: OAuth2 client credentials (API.md §2), with the order its "Failed token
//! requests" paragraph gives: grant type, then the secret (cheap; older slow hashes are checked
//! at most `auth::SLOW_CHECKS` at once and upgraded), then a failure's own bucket per
//! `client_id` or a success's request bucket of the client.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use domain::{FieldReader, Fields};
use store::NewAccessToken;

use crate::auth::{self, ALL_SCOPES};
use crate::error::OAuthError;
use crate::{json_response, ApiError, AppState, Ctx, MAX_JSON_BODY};

/// A token lives 20 minutes; it is reported as 1079 s so clients renew in time.
const TOKEN_LIFETIME_MS: i64 = 20 * 60 * 1000;
const REPORTED_EXPIRES_IN: i64 = 1079;

#[derive(Default)]
struct TokenRequest {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    account_id: Option<String>,
    scope: Option<String>,
}

fn from_json(fields: &Fields) -> TokenRequest {
    let mut r = FieldReader::new(fields);
    TokenRequest {
        grant_type: r.string("grant_type").map(str::to_string),
        client_id: r.string_or_number("client_id"),
        client_secret: r.string("client_secret").map(str::to_string),
        account_id: r.string_or_number("account_id"),
        scope: r.string("scope").map(str::to_string),
    }
}

fn from_form(body: &[u8]) -> TokenRequest {
    let mut req = TokenRequest::default();
    for (k, v) in url::form_urlencoded::parse(body) {
        let v = Some(domain::without_nul(v.into_owned()));
        match k.to_ascii_lowercase().as_str() {
            "grant_type" => req.grant_type = v,
            "client_id" => req.client_id = v,
            "client_secret" => req.client_secret = v,
            "account_id" => req.account_id = v,
            "scope" => req.scope = v,
            _ => {}
        }
    }
    req
}

fn is_form(ctx: &Ctx) -> bool {
    ctx.headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.trim()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        })
        .unwrap_or(false)
}

pub async fn issue(state: &AppState, mut ctx: Ctx) -> Result<Response, ApiError> {
    let body = ctx.body_bytes(MAX_JSON_BODY).await.map_err(|e| match e {
        ApiError::TooLarge => ApiError::TooLarge,
        ApiError::RequestTimeout => ApiError::RequestTimeout,
        _ => ApiError::OAuth(OAuthError::InvalidRequest),
    })?;
    let req = match Fields::parse(&body) {
        Ok(fields) if !is_form(&ctx) || body.iter().all(u8::is_ascii_whitespace) => {
            from_json(&fields)
        }
        Ok(fields) if body.trim_ascii_start().starts_with(b"{") => from_json(&fields),
        _ if is_form(&ctx) => from_form(&body),
        _ => return Err(ApiError::OAuth(OAuthError::InvalidRequest)),
    };
    if req.grant_type.as_deref() != Some("client_credentials") {
        return Err(ApiError::OAuth(OAuthError::UnsupportedGrantType));
    }
    // API.md §2 "Failed token requests": the secret is checked first; a failure counts in the
    // `client_id`'s failure bucket, a success takes from the client's request bucket.
    let client_id = req.client_id.unwrap_or_default();
    let secret = req.client_secret.unwrap_or_default();
    let client = match state.store.get_client(&client_id).await {
        Ok(c) if c.revoked_at.is_none() => Some(c),
        Ok(_) | Err(store::StoreError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    let client = match client {
        Some(client) => match check_secret(state, &client, &secret).await? {
            Checked::Correct => Some(client),
            Checked::Wrong => None,
        },
        None => {
            // As much work as a wrong secret, so an unknown id is not told apart by timing.
            auth::verify_against_nothing(&secret);
            None
        }
    };
    let Some(client) = client else {
        state.token_failures.failed(&client_id)?;
        return Err(ApiError::OAuth(OAuthError::InvalidClient));
    };
    state.limiter.check(&client.client_id)?;

    let account_id = match req.account_id {
        None => client.account_id.clone(),
        Some(wanted) => {
            let granted = std::iter::once(&client.account_id)
                .chain(client.accounts.iter())
                .find(|a| a.eq_ignore_ascii_case(&wanted))
                .cloned();
            match granted {
                Some(a) => match state.store.get_account(&a).await {
                    Ok(acct) => acct.id,
                    Err(store::StoreError::NotFound) => {
                        return Err(ApiError::OAuth(OAuthError::UnauthorizedClient))
                    }
                    Err(e) => return Err(e.into()),
                },
                None => return Err(ApiError::OAuth(OAuthError::UnauthorizedClient)),
            }
        }
    };

    let scopes: Vec<String> = match req.scope {
        None => ALL_SCOPES
            .iter()
            .filter(|s| client.scopes.iter().any(|c| c == *s))
            .map(|s| s.to_string())
            .collect(),
        Some(asked) => {
            let asked: Vec<&str> = asked.split_whitespace().collect();
            ALL_SCOPES
                .iter()
                .filter(|s| asked.contains(s) && client.scopes.iter().any(|c| c == *s))
                .map(|s| s.to_string())
                .collect()
        }
    };

    let token = auth::random_alnum(48).to_ascii_lowercase();
    let now = state.now();
    state
        .store
        .insert_token(NewAccessToken {
            token_hash: auth::hash_token(&token),
            client_id: client.client_id.clone(),
            account_id,
            scopes: scopes.clone(),
            created_at: now,
            expires_at: now + TOKEN_LIFETIME_MS,
        })
        .await?;
    let url = &state.config.public_url;
    let mut resp = json_response(
        StatusCode::OK,
        &crate::responses::TokenResponse {
            access_token: token,
            expires_in: REPORTED_EXPIRES_IN,
            rest_instance_url: url.clone(),
            scope: scopes.join(" "),
            soap_instance_url: url.clone(),
            token_type: "Bearer",
        },
    );
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

/// How long a request waits for one of the slow-check slots before it is answered 429.
const SLOW_CHECK_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

enum Checked {
    Correct,
    Wrong,
}

/// Checks `secret` against the client's stored hash: the fast keyed hash inline; an older
/// Argon2 hash on the blocking pool, at most `auth::SLOW_CHECKS` at once, and when it matches
/// the client is upgraded to the fast hash (API.md §2).
async fn check_secret(
    state: &AppState,
    client: &store::Client,
    secret: &str,
) -> Result<Checked, ApiError> {
    let verdict = |ok: bool| if ok { Checked::Correct } else { Checked::Wrong };
    let phc = match auth::StoredSecret::parse(&client.secret_hash) {
        auth::StoredSecret::Fast { salt, mac } => {
            return Ok(verdict(auth::verify_fast(secret, &salt, &mac)))
        }
        auth::StoredSecret::Unreadable => {
            auth::verify_against_nothing(secret);
            return Ok(Checked::Wrong);
        }
        auth::StoredSecret::Slow(phc) => phc.to_string(),
    };
    let permit = match tokio::time::timeout(
        SLOW_CHECK_WAIT,
        state.slow_checks.clone().acquire_owned(),
    )
    .await
    {
        Ok(Ok(permit)) => permit,
        Ok(Err(closed)) => return Err(ApiError::internal(closed)),
        Err(_) => {
            return Err(ApiError::RateLimited {
                retry_after_secs: 1,
            })
        }
    };
    let given = secret.to_string();
    // The permit moves into the check: a client that hangs up does not free its slot while
    // the check still runs.
    let matched = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        auth::verify_slow(&given, &phc)
    })
    .await
    .map_err(ApiError::internal)?;
    if !matched {
        return Ok(Checked::Wrong);
    }
    let upgraded = auth::hash_secret(secret)?;
    match state
        .store
        .replace_client_secret_hash(&client.client_id, &client.secret_hash, &upgraded)
        .await
    {
        Ok(true) => tracing::info!(client_id = %client.client_id, "client secret hash upgraded"),
        // A concurrent request upgraded it first.
        Ok(false) => {}
        // The secret was correct: the request succeeds, and the next one tries again.
        Err(e) => tracing::warn!(
            client_id = %client.client_id,
            error = %e,
            "cannot upgrade the client secret hash"
        ),
    }
    Ok(Checked::Correct)
}

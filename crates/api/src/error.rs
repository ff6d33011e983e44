//! The one HTTP error type: every failure of `/v2/token`, `/sms/v1` and `/admin/v1` becomes the
//! contract's JSON body (API.md §1, §2, §7). Internal causes are logged with a reference id and
//! never sent to clients.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::responses::{
    AdminNotAuthorized, Errors, InsufficientPrivileges, InternalError, MethodNotAllowed,
    NotAuthorized, NotFound, OAuthErrorBody, RateLimited, RequestTimeout, TooLarge,
};

pub const DOCS_URL: &str =
    "https://developer.salesforce.com/docs/atlas.en-us.mc-apis.meta/mc-apis/error-handling.htm";
const OAUTH_ERROR_URI: &str = "https://developer.salesforce.com/docs";
/// The answer to an address over the limit of wrong admin tokens (API.md §8 "Protection"), on
/// the admin API and the console's sign-in page alike.
pub const TOO_MANY_FAILED_ATTEMPTS: &str = "Too many failed attempts; try again later.";

/// `/v2/token` failures (API.md §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "OAuthErrorCode")]
pub enum OAuthError {
    InvalidClient,
    UnsupportedGrantType,
    InvalidRequest,
    UnauthorizedClient,
}

#[derive(Debug)]
pub enum ApiError {
    /// 400 `{"errors": [...]}`
    Validation(Vec<String>),
    /// 404 `{"errors": [...]}`
    NotFound(String),
    /// 405
    MethodNotAllowed,
    /// 409 `{"errors": [...]}`
    Conflict(String),
    /// 413
    TooLarge,
    /// 408: the body did not arrive in time (API.md §1); the connection is closed.
    RequestTimeout,
    /// 401 with the bearer challenge (API.md §2).
    InvalidToken,
    /// 403 missing scope.
    InsufficientScope,
    /// 401 on the admin API.
    AdminUnauthorized,
    /// 429 with `Retry-After`.
    RateLimited {
        retry_after_secs: u64,
    },
    /// 429 with `Retry-After`: too many wrong admin tokens from this address (API.md §8).
    TooManyFailedAttempts {
        retry_after_secs: u64,
    },
    OAuth(OAuthError),
    /// A transactional route's refusal (API.md §9), in its own body and status.
    Transactional(domain::transactional::TxError),
    /// 500; the cause is logged with a reference id.
    Internal(String),
}

impl ApiError {
    pub fn validation(message: impl Into<String>) -> ApiError {
        ApiError::Validation(vec![message.into()])
    }

    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        ApiError::Internal(cause.to_string())
    }
}

impl From<store::StoreError> for ApiError {
    fn from(e: store::StoreError) -> ApiError {
        ApiError::Internal(e.to_string())
    }
}

/// An operation's refusal as the contract answers it (API.md §1, §7); internal causes are
/// logged, never answered.
impl From<service::ServiceError> for ApiError {
    fn from(e: service::ServiceError) -> ApiError {
        match e {
            service::ServiceError::Invalid(messages) => ApiError::Validation(messages),
            service::ServiceError::NotFound(message) => ApiError::NotFound(message),
            service::ServiceError::Conflict(message) => ApiError::Conflict(message),
            service::ServiceError::Unavailable(cause) | service::ServiceError::Internal(cause) => {
                ApiError::Internal(cause)
            }
            service::ServiceError::Transactional(error) => ApiError::Transactional(error),
        }
    }
}

/// A JSON response with the contract's content type.
pub fn json_response<T: serde::Serialize + ?Sized>(status: StatusCode, body: &T) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    let mut resp = (status, bytes).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    resp
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Validation(messages) => {
                json_response(StatusCode::BAD_REQUEST, &Errors { errors: messages })
            }
            ApiError::NotFound(message) => {
                json_response(StatusCode::NOT_FOUND, &NotFound { errors: [message] })
            }
            ApiError::MethodNotAllowed => {
                json_response(StatusCode::METHOD_NOT_ALLOWED, &MethodNotAllowed::BODY)
            }
            ApiError::Conflict(message) => {
                json_response(StatusCode::CONFLICT, &Errors::one(message))
            }
            ApiError::TooLarge => json_response(StatusCode::PAYLOAD_TOO_LARGE, &TooLarge::BODY),
            ApiError::RequestTimeout => {
                let mut resp = json_response(StatusCode::REQUEST_TIMEOUT, &RequestTimeout::BODY);
                resp.headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
                resp
            }
            ApiError::InvalidToken => {
                let mut resp = json_response(StatusCode::UNAUTHORIZED, &NotAuthorized::BODY);
                resp.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(
                        "Bearer error=\"invalid_token\", error_description=\"The access token is invalid or expired\"",
                    ),
                );
                resp
            }
            ApiError::InsufficientScope => {
                json_response(StatusCode::FORBIDDEN, &InsufficientPrivileges::BODY)
            }
            ApiError::AdminUnauthorized => {
                json_response(StatusCode::UNAUTHORIZED, &AdminNotAuthorized::BODY)
            }
            ApiError::RateLimited { retry_after_secs } => {
                let mut resp = json_response(
                    StatusCode::TOO_MANY_REQUESTS,
                    &RateLimited::new(retry_after_secs),
                );
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
                resp
            }
            ApiError::TooManyFailedAttempts { retry_after_secs } => {
                let mut resp = json_response(
                    StatusCode::TOO_MANY_REQUESTS,
                    &Errors::one(TOO_MANY_FAILED_ATTEMPTS),
                );
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
                resp
            }
            ApiError::OAuth(kind) => {
                let (status, description) = match kind {
                    OAuthError::InvalidClient => (
                        StatusCode::UNAUTHORIZED,
                        "Client authentication failed. Make sure that the client ID and client secret are valid and that the package is installed and enabled.",
                    ),
                    OAuthError::UnsupportedGrantType => (
                        StatusCode::BAD_REQUEST,
                        "Use \"client_credentials\" as the grant_type.",
                    ),
                    OAuthError::InvalidRequest => (
                        StatusCode::BAD_REQUEST,
                        "The request body isn't valid JSON.",
                    ),
                    OAuthError::UnauthorizedClient => (
                        StatusCode::UNAUTHORIZED,
                        "The client is not authorized for this account.",
                    ),
                };
                json_response(
                    status,
                    &OAuthErrorBody {
                        error: kind,
                        error_description: description,
                        error_uri: OAUTH_ERROR_URI,
                    },
                )
            }
            ApiError::Transactional(error) => json_response(
                StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST),
                &crate::responses::TxErrorBody::new(&error),
            ),
            ApiError::Internal(cause) => {
                let reference = domain::mint_id();
                tracing::error!(reference = %reference, cause = %cause, "unexpected failure");
                json_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &InternalError::with_reference(&reference),
                )
            }
        }
    }
}

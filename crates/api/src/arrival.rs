//! How long a request's body may take to arrive (API.md §1 "Connection limits"): a JSON or form
//! body must be complete 30 s after its head; a streamed CSV upload may pause at most 30 s between
//! bytes. A late body answers 408 `The request took too long to arrive.` and its connection is
//! closed. The server records when each head arrived ([`HeadReceived`]); the readers here hold
//! bodies to those limits, so no handler waits on a slow client for longer.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{FromRequest, Request};
use axum::http::Extensions;
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use tokio::time::Instant;

use crate::ApiError;

/// A JSON or form body must have fully arrived this long after its head (API.md §1).
pub const BODY_TIME: Duration = Duration::from_secs(30);
/// A streamed upload may send no byte for at most this long (API.md §1).
pub const UPLOAD_PAUSE: Duration = Duration::from_secs(30);

/// When a request's head had fully arrived: set by the server on every request's extensions.
#[derive(Debug, Clone, Copy)]
pub struct HeadReceived(pub Instant);

impl HeadReceived {
    /// When the body of the request with these extensions must be complete; a request that did
    /// not come through the server (in-process calls) counts from now.
    pub fn body_deadline(extensions: &Extensions) -> Instant {
        extensions
            .get::<HeadReceived>()
            .map_or_else(Instant::now, |h| h.0)
            + BODY_TIME
    }
}

/// Why a body could not be read whole.
pub enum BodyError {
    /// Over the limit; the unread rest, for the caller to drain or drop.
    TooLarge(Body),
    /// Not complete by the deadline.
    TooSlow,
    /// The connection broke (or the body was malformed) before the end.
    Broken,
}

/// Reads a whole body of at most `limit` bytes that must be complete by `deadline`.
pub async fn read_body(
    mut body: Body,
    limit: usize,
    deadline: Instant,
) -> Result<Bytes, BodyError> {
    let mut buf = BytesMut::new();
    loop {
        let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) => return Err(BodyError::TooSlow),
            Ok(None) => return Ok(buf.freeze()),
            Ok(Some(Err(_))) => return Err(BodyError::Broken),
            Ok(Some(Ok(frame))) => frame,
        };
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > limit {
                return Err(BodyError::TooLarge(body));
            }
            buf.extend_from_slice(&data);
        }
    }
}

/// The next item of a streamed upload, or `None` when the client sent nothing for
/// [`UPLOAD_PAUSE`].
pub async fn next_within_pause<F: std::future::Future>(next: F) -> Option<F::Output> {
    tokio::time::timeout(UPLOAD_PAUSE, next).await.ok()
}

/// The response with `Connection: close`: after a late body the connection carries no other
/// request (API.md §1).
pub fn closing(mut resp: Response) -> Response {
    resp.headers_mut().insert(
        axum::http::header::CONNECTION,
        axum::http::HeaderValue::from_static("close"),
    );
    resp
}

/// A whole body of at most `LIMIT` bytes, read within [`BODY_TIME`] of its head: the extractor of
/// routes outside the API dispatcher that take a small form (console sign-in, carrier status
/// callbacks). Refused with the API's 413, 408 or 400.
pub struct WholeBody<const LIMIT: usize>(pub Bytes);

impl<S: Send + Sync, const LIMIT: usize> FromRequest<S> for WholeBody<LIMIT> {
    type Rejection = Response;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Response> {
        let deadline = HeadReceived::body_deadline(req.extensions());
        match read_body(req.into_body(), LIMIT, deadline).await {
            Ok(bytes) => Ok(WholeBody(bytes)),
            // The rest is not read: the connection cannot carry another request.
            Err(BodyError::TooLarge(_)) => Err(closing(ApiError::TooLarge.into_response())),
            Err(BodyError::TooSlow) => Err(ApiError::RequestTimeout.into_response()),
            Err(BodyError::Broken) => {
                Err(ApiError::validation("The request body isn't valid JSON.").into_response())
            }
        }
    }
}

impl<const LIMIT: usize> std::ops::Deref for WholeBody<LIMIT> {
    type Target = Bytes;

    fn deref(&self) -> &Bytes {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trickle(chunks: Vec<&'static [u8]>, pause: Duration) -> Body {
        let stream = futures::stream::unfold(chunks.into_iter(), move |mut rest| async move {
            let chunk = rest.next()?;
            tokio::time::sleep(pause).await;
            Some((Ok::<_, std::io::Error>(Bytes::from_static(chunk)), rest))
        });
        Body::from_stream(stream)
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_complete_before_its_deadline_is_read_whole() {
        let body = trickle(vec![b"{\"a\":", b" 1}"], Duration::from_secs(10));
        let deadline = Instant::now() + BODY_TIME;
        let bytes = read_body(body, 1024, deadline).await.ok().expect("read");
        assert_eq!(&bytes[..], b"{\"a\": 1}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_still_arriving_at_its_deadline_is_too_slow() {
        let start = Instant::now();
        let body = trickle(vec![b"{"; 40], Duration::from_secs(1));
        let outcome = read_body(body, 1024, start + BODY_TIME).await;
        assert!(matches!(outcome, Err(BodyError::TooSlow)));
        assert_eq!(start.elapsed(), BODY_TIME);
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_over_the_limit_is_too_large_with_its_rest() {
        let body = trickle(vec![b"0123", b"4567", b"89"], Duration::ZERO);
        let outcome = read_body(body, 6, Instant::now() + BODY_TIME).await;
        let Err(BodyError::TooLarge(rest)) = outcome else {
            panic!("expected TooLarge");
        };
        let rest = rest.collect().await.expect("rest").to_bytes();
        assert_eq!(&rest[..], b"89");
    }

    #[tokio::test(start_paused = true)]
    async fn an_upload_pause_longer_than_the_limit_ends_the_wait() {
        let start = Instant::now();
        let waited = next_within_pause(std::future::pending::<()>()).await;
        assert!(waited.is_none());
        assert_eq!(start.elapsed(), UPLOAD_PAUSE);
        assert_eq!(next_within_pause(async { 7 }).await, Some(7));
    }
}

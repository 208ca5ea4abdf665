//! Building HTTP responses: JSON bodies, Status errors, streams.

use std::convert::Infallible;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http_body_util::{BodyExt, Full, combinators::UnsyncBoxBody};
use rkube_api::status::Status;

/// The body type of every response.
pub type Body = UnsyncBoxBody<Bytes, Infallible>;
/// A response.
pub type Response = http::Response<Body>;

/// A complete body.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).boxed_unsync()
}

/// A response with a body of the given media type.
pub fn with_type(code: u16, content_type: &'static str, body: impl Into<Bytes>) -> Response {
    let mut resp = http::Response::new(full(body));
    *resp.status_mut() =
        http::StatusCode::from_u16(code).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

/// A JSON response.
pub fn json(code: u16, body: impl Into<Bytes>) -> Response {
    with_type(code, "application/json", body)
}

/// A JSON response from a value.
pub fn json_value(code: u16, value: &serde_json::Value) -> Response {
    json(code, serde_json::to_vec(value).unwrap_or_default())
}

/// The response for an error.
pub fn status(s: &Status) -> Response {
    let mut resp = json_value(s.code, &s.to_json());
    if let Some(secs) = s.details.retry_after_seconds
        && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        resp.headers_mut().insert(http::header::RETRY_AFTER, v);
    }
    resp
}

/// A plain-text response.
pub fn text(code: u16, body: impl Into<Bytes>) -> Response {
    with_type(code, "text/plain; charset=utf-8", body)
}

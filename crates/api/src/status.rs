//! `Status`: how every API error is answered, with upstream's codes,
//! reasons and message formats, so kubectl prints what it prints against
//! Kubernetes.

use serde::Serialize;
use serde_json::Value;

use crate::validation::FieldError;

/// One `details.causes` entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Cause {
    /// Machine-readable reason, e.g. `FieldValueRequired`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// Human-readable message.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// The field it concerns, e.g. `spec.containers[0].image`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub field: String,
}

/// `details` of a Status.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Details {
    /// The object's name.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// The API group.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub group: String,
    /// The kind or resource (upstream uses either, depending on the error).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// The object's UID.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub uid: String,
    /// Individual causes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub causes: Vec<Cause>,
    /// Seconds after which the client may retry.
    #[serde(rename = "retryAfterSeconds", skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<i32>,
}

impl Details {
    fn is_empty(&self) -> bool {
        *self == Details::default()
    }
}

/// An API error, serialized as a `v1 Status` with `status: Failure`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    /// The HTTP status code.
    pub code: u16,
    /// The `reason` (`NotFound`, `Conflict`, ...); empty for none.
    pub reason: &'static str,
    /// The message.
    pub message: String,
    /// Details.
    pub details: Box<Details>,
}

/// A resource as upstream names it in error messages: `pods`, or
/// `deployments.apps` outside the core group.
pub fn qualified_resource(group: &str, resource: &str) -> String {
    if group.is_empty() {
        resource.to_owned()
    } else {
        format!("{resource}.{group}")
    }
}

impl Status {
    /// A failure with the given code, reason and message and no details.
    pub fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Status {
        Status {
            code,
            reason,
            message: message.into(),
            details: Box::default(),
        }
    }

    fn with_resource(mut self, group: &str, resource: &str, name: &str) -> Status {
        self.details.group = group.to_owned();
        self.details.kind = resource.to_owned();
        self.details.name = name.to_owned();
        self
    }

    /// 404: `pods "web" not found`.
    pub fn not_found(group: &str, resource: &str, name: &str) -> Status {
        Status::new(
            404,
            "NotFound",
            format!(
                "{} \"{name}\" not found",
                qualified_resource(group, resource)
            ),
        )
        .with_resource(group, resource, name)
    }

    /// 409: `pods "web" already exists`.
    pub fn already_exists(group: &str, resource: &str, name: &str) -> Status {
        Status::new(
            409,
            "AlreadyExists",
            format!(
                "{} \"{name}\" already exists",
                qualified_resource(group, resource)
            ),
        )
        .with_resource(group, resource, name)
    }

    /// 409 Conflict with a custom explanation:
    /// `Operation cannot be fulfilled on pods "web": <why>`.
    pub fn conflict(group: &str, resource: &str, name: &str, why: &str) -> Status {
        Status::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{name}\": {why}",
                qualified_resource(group, resource)
            ),
        )
        .with_resource(group, resource, name)
    }

    /// 409 for a stale `resourceVersion`.
    pub fn stale(group: &str, resource: &str, name: &str) -> Status {
        Status::conflict(
            group,
            resource,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    /// 422 Invalid: `Pod "bad" is invalid: <errors>` (`Job.batch "x"`
    /// outside the core group; identical messages once), with one cause per
    /// field error.
    pub fn invalid(group: &str, kind: &str, name: &str, errors: &[FieldError]) -> Status {
        let mut messages: Vec<String> = Vec::new();
        for e in errors {
            let m = e.to_string();
            if !messages.contains(&m) {
                messages.push(m);
            }
        }
        let summary = match messages.as_slice() {
            [one] => one.clone(),
            many => format!("[{}]", many.join(", ")),
        };
        let qualified = if group.is_empty() {
            kind.to_owned()
        } else {
            format!("{kind}.{group}")
        };
        let mut status = Status::new(
            422,
            "Invalid",
            format!("{qualified} \"{name}\" is invalid: {summary}"),
        )
        .with_resource(group, kind, name);
        status.details.causes = errors.iter().map(FieldError::cause).collect();
        status
    }

    /// 400 BadRequest.
    pub fn bad_request(message: impl Into<String>) -> Status {
        Status::new(400, "BadRequest", message)
    }

    /// 403 Forbidden.
    pub fn forbidden(group: &str, resource: &str, name: &str, why: &str) -> Status {
        let what = qualified_resource(group, resource);
        Status::new(
            403,
            "Forbidden",
            format!("{what} \"{name}\" is forbidden: {why}"),
        )
        .with_resource(group, resource, name)
    }

    /// 405 MethodNotAllowed.
    pub fn method_not_allowed(group: &str, resource: &str, verb: &str) -> Status {
        let what = qualified_resource(group, resource);
        Status::new(
            405,
            "MethodNotAllowed",
            format!("{verb} is not supported on resources of kind \"{what}\""),
        )
        .with_resource(group, resource, "")
    }

    /// 410 Expired: the requested resourceVersion is compacted away.
    pub fn expired(message: impl Into<String>) -> Status {
        Status::new(410, "Expired", message)
    }

    /// 410 Gone for a watch from a compacted revision.
    pub fn too_old(requested: i64, oldest: i64) -> Status {
        Status::expired(format!("too old resource version: {requested} ({oldest})"))
    }

    /// 415 UnsupportedMediaType, listing what is accepted instead.
    pub fn unsupported_media_type(accepted: &[&str]) -> Status {
        Status::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: {}",
                accepted.join(", ")
            ),
        )
    }

    /// 406 NotAcceptable.
    pub fn not_acceptable(message: impl Into<String>) -> Status {
        Status::new(406, "NotAcceptable", message)
    }

    /// 429 TooManyRequests.
    pub fn too_many_requests(message: impl Into<String>) -> Status {
        Status::new(429, "TooManyRequests", message)
    }

    /// 500 InternalError.
    pub fn internal(message: impl std::fmt::Display) -> Status {
        let mut s = Status::new(
            500,
            "InternalError",
            format!("Internal error occurred: {message}"),
        );
        s.details.causes.push(Cause {
            reason: String::new(),
            message: message.to_string(),
            field: String::new(),
        });
        s
    }

    /// 504 Timeout.
    pub fn timeout(message: impl Into<String>) -> Status {
        Status::new(504, "Timeout", message)
    }

    /// 503 ServiceUnavailable.
    pub fn unavailable(message: impl Into<String>) -> Status {
        Status::new(503, "ServiceUnavailable", message)
    }

    /// The Status object as JSON.
    pub fn to_json(&self) -> Value {
        let mut v = serde_json::json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "code": self.code,
        });
        if !self.reason.is_empty() {
            v["reason"] = Value::from(self.reason);
        }
        if !self.details.is_empty() {
            v["details"] = serde_json::to_value(&self.details).unwrap_or_default();
        }
        v
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.reason, self.message)
    }
}

impl std::error::Error for Status {}

/// A `Status` reporting success, as some deletions answer.
pub fn success_status(details: Details) -> Value {
    let mut v = serde_json::json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
    });
    if !details.is_empty() {
        v["details"] = serde_json::to_value(&details).unwrap_or_default();
    }
    v
}

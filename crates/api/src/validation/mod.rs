//! Field errors and the common validators (names, labels, annotations),
//! producing the messages upstream produces, since kubectl shows them.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

use crate::status::Cause;

pub mod apps;
pub mod autoscaling;
pub mod batch;
pub mod checks;
pub mod coordination;
pub mod core;
pub mod discovery;
pub mod go;
pub mod networking;
pub mod pod;
pub mod policy;
pub mod rbac;
pub mod scheduling;
pub mod storage;

/// The kind of a field error; decides its `reason` and message prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorType {
    /// A required field is missing.
    Required,
    /// A value is malformed or out of range.
    Invalid,
    /// A value is not one of the supported ones.
    NotSupported,
    /// A value appears twice where it must be unique.
    Duplicate,
    /// The field may not be set (or changed).
    Forbidden,
    /// A string is too long.
    TooLong,
    /// A list has too many items.
    TooMany,
    /// A referenced value does not exist.
    NotFound,
    /// The server failed to validate.
    Internal,
    /// The value has the wrong type.
    TypeInvalid,
}

impl ErrorType {
    /// The `details.causes[].reason` upstream uses.
    pub fn reason(self) -> &'static str {
        match self {
            ErrorType::Required => "FieldValueRequired",
            ErrorType::Invalid => "FieldValueInvalid",
            ErrorType::NotSupported => "FieldValueNotSupported",
            ErrorType::Duplicate => "FieldValueDuplicate",
            ErrorType::Forbidden => "FieldValueForbidden",
            ErrorType::TooLong => "FieldValueTooLong",
            ErrorType::TooMany => "FieldValueTooMany",
            ErrorType::NotFound => "FieldValueNotFound",
            ErrorType::Internal => "InternalError",
            ErrorType::TypeInvalid => "FieldValueTypeInvalid",
        }
    }

    fn label(self) -> &'static str {
        match self {
            ErrorType::Required => "Required value",
            ErrorType::Invalid => "Invalid value",
            ErrorType::NotSupported => "Unsupported value",
            ErrorType::Duplicate => "Duplicate value",
            ErrorType::Forbidden => "Forbidden",
            ErrorType::TooLong => "Too long",
            ErrorType::TooMany => "Too many",
            ErrorType::NotFound => "Not found",
            ErrorType::Internal => "Internal error",
            ErrorType::TypeInvalid => "Invalid value",
        }
    }
}

/// One validation failure of one field.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldError {
    /// What went wrong.
    pub kind: ErrorType,
    /// The field's path, e.g. `spec.containers[0].image`.
    pub field: String,
    /// The offending value, if it is worth showing.
    pub value: Option<Value>,
    /// Further explanation.
    pub detail: String,
}

fn show_value(v: &Value) -> String {
    if let Some(raw) = go::raw_text(v) {
        return raw.to_owned();
    }
    match v {
        Value::String(s) => serde_json::to_string(s).unwrap_or_default(),
        Value::Null => "null".into(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Array(_) | Value::Object(_) => go::render_json(v),
    }
}

impl FieldError {
    /// The message without the field: what goes into a cause.
    pub fn body(&self) -> String {
        let mut s = self.kind.label().to_owned();
        match self.kind {
            ErrorType::Required
            | ErrorType::Forbidden
            | ErrorType::TooLong
            | ErrorType::Internal => {}
            _ => {
                if let Some(v) = &self.value {
                    s.push_str(": ");
                    s.push_str(&show_value(v));
                }
            }
        }
        if !self.detail.is_empty() {
            s.push_str(": ");
            s.push_str(&self.detail);
        }
        s
    }

    /// As a `details.causes` entry.
    pub fn cause(&self) -> Cause {
        Cause {
            reason: self.kind.reason().to_owned(),
            message: self.body(),
            field: self.field.clone(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.body())
    }
}

/// A field path under construction: `Path::new("spec").child("containers").index(0)`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Path(String);

impl Path {
    /// A root path.
    pub fn new(root: &str) -> Path {
        Path(root.to_owned())
    }
    /// `self.name`.
    pub fn child(&self, name: &str) -> Path {
        if self.0.is_empty() {
            Path(name.to_owned())
        } else {
            Path(format!("{}.{name}", self.0))
        }
    }
    /// `self[i]`.
    pub fn index(&self, i: usize) -> Path {
        Path(format!("{}[{i}]", self.0))
    }
    /// `self[key]`.
    pub fn key(&self, key: &str) -> Path {
        Path(format!("{}[{key}]", self.0))
    }
    /// The path as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Validation errors collected over one object.
#[derive(Clone, Debug, Default)]
pub struct Errors(pub Vec<FieldError>);

impl Errors {
    fn push(
        &mut self,
        kind: ErrorType,
        path: &Path,
        value: Option<Value>,
        detail: impl Into<String>,
    ) {
        self.0.push(FieldError {
            kind,
            field: path.0.clone(),
            value,
            detail: detail.into(),
        });
    }
    /// `path: Required value[: detail]`.
    pub fn required(&mut self, path: &Path, detail: impl Into<String>) {
        self.push(ErrorType::Required, path, None, detail);
    }
    /// `path: Invalid value: <value>: detail`.
    pub fn invalid(&mut self, path: &Path, value: impl Into<Value>, detail: impl Into<String>) {
        self.push(ErrorType::Invalid, path, Some(value.into()), detail);
    }
    /// `path: Unsupported value: <value>: supported values: "a", "b"`.
    pub fn not_supported(&mut self, path: &Path, value: impl Into<Value>, supported: &[&str]) {
        let list = supported
            .iter()
            .map(|s| format!("{s:?}"))
            .collect::<Vec<_>>()
            .join(", ");
        self.push(
            ErrorType::NotSupported,
            path,
            Some(value.into()),
            format!("supported values: {list}"),
        );
    }
    /// `path: Duplicate value: <value>`.
    pub fn duplicate(&mut self, path: &Path, value: impl Into<Value>) {
        self.push(ErrorType::Duplicate, path, Some(value.into()), "");
    }
    /// `path: Forbidden: detail`.
    pub fn forbidden(&mut self, path: &Path, detail: impl Into<String>) {
        self.push(ErrorType::Forbidden, path, None, detail);
    }
    /// `path: Too long: may not be more than N bytes`.
    pub fn too_long(&mut self, path: &Path, max: usize) {
        self.push(
            ErrorType::TooLong,
            path,
            None,
            format!("may not be more than {max} bytes"),
        );
    }
    /// `path: Not found: <value>`.
    pub fn not_found(&mut self, path: &Path, value: impl Into<Value>) {
        self.push(ErrorType::NotFound, path, Some(value.into()), "");
    }
    /// `path: Invalid value: <text>: detail`, the value shown verbatim (Go
    /// syntax such as `map[string]string{"a":"b"}`).
    pub fn invalid_raw(&mut self, path: &Path, text: impl Into<String>, detail: impl Into<String>) {
        self.push(ErrorType::Invalid, path, Some(go::raw(text)), detail);
    }
    /// `path: Unsupported value: <text>: supported values: ...`, the value
    /// shown verbatim.
    pub fn not_supported_raw(&mut self, path: &Path, text: impl Into<String>, supported: &[&str]) {
        self.not_supported(path, go::raw(text), supported);
    }
    /// `path: Duplicate value: <text>`, the value shown verbatim.
    pub fn duplicate_raw(&mut self, path: &Path, text: impl Into<String>) {
        self.push(ErrorType::Duplicate, path, Some(go::raw(text)), "");
    }
    /// `path: Invalid value: detail`, without a value (upstream's
    /// `OmitValueType`).
    pub fn invalid_omit(&mut self, path: &Path, detail: impl Into<String>) {
        self.push(ErrorType::Invalid, path, None, detail);
    }
    /// `path: Too many: <count>: must have at most <max> items`.
    pub fn too_many(&mut self, path: &Path, count: usize, max: usize) {
        self.push(
            ErrorType::TooMany,
            path,
            Some(Value::from(count)),
            format!("must have at most {max} items"),
        );
    }
    /// `path: Internal error: detail`.
    pub fn internal(&mut self, path: &Path, detail: impl Into<String>) {
        self.push(ErrorType::Internal, path, None, detail);
    }
    /// Append all errors of another collector.
    pub fn extend(&mut self, other: Errors) {
        self.0.extend(other.0);
    }
    /// How many errors were collected.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// Add an `Invalid value` error for each message of a validator.
    pub fn invalid_each(&mut self, path: &Path, value: &str, messages: Vec<String>) {
        for m in messages {
            self.invalid(path, value, m);
        }
    }
    /// Add an `Invalid value` error for each message, showing a non-string
    /// value (a number, a bool).
    pub fn invalid_each_value(
        &mut self,
        path: &Path,
        value: impl Into<Value>,
        messages: Vec<String>,
    ) {
        let value = value.into();
        for m in messages {
            self.invalid(path, value.clone(), m);
        }
    }
    /// `path: Invalid value: <new>: field is immutable` when `new != old`.
    pub fn immutable<T: PartialEq + serde::Serialize>(&mut self, path: &Path, new: &T, old: &T) {
        if new != old {
            let shown = serde_json::to_value(new).unwrap_or(Value::Null);
            self.invalid(path, shown, "field is immutable");
        }
    }
    /// Whether nothing failed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A `generateName` prefix as upstream validates it: a trailing dash is
/// allowed (the last two characters are replaced by `a`).
pub fn mask_trailing_dash(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() > 1 && s.ends_with('-') {
        let mut out: String = chars[..chars.len() - 2].iter().collect();
        out.push('a');
        out
    } else {
        s.to_owned()
    }
}

const DNS1123_LABEL_MAX: usize = 63;
const DNS1123_SUBDOMAIN_MAX: usize = 253;

fn is_alnum_lower(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

fn is_dns1123_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && is_alnum_lower(b[0])
        && is_alnum_lower(b[b.len() - 1])
        && b.iter().all(|&c| is_alnum_lower(c) || c == b'-')
}

/// Errors of an RFC 1123 label (Namespace names, ...), empty when valid.
pub fn dns1123_label(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > DNS1123_LABEL_MAX {
        errs.push(format!(
            "must be no more than {DNS1123_LABEL_MAX} characters"
        ));
    }
    if !is_dns1123_label(s) {
        if is_dns1123_subdomain(s) {
            errs.push("must not contain dots".into());
        } else {
            errs.push("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')".into());
        }
    }
    errs
}

fn is_dns1123_subdomain(s: &str) -> bool {
    !s.is_empty() && s.split('.').all(is_dns1123_label)
}

/// Errors of an RFC 1123 subdomain (most object names), empty when valid.
pub fn dns1123_subdomain(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > DNS1123_SUBDOMAIN_MAX {
        errs.push(format!(
            "must be no more than {DNS1123_SUBDOMAIN_MAX} characters"
        ));
    }
    if !is_dns1123_subdomain(s) {
        errs.push("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')".into());
    }
    errs
}

/// Errors of a DNS-1035 label (Service names), empty when valid.
pub fn dns1035_label(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > DNS1123_LABEL_MAX {
        errs.push(format!(
            "must be no more than {DNS1123_LABEL_MAX} characters"
        ));
    }
    let b = s.as_bytes();
    let ok = !b.is_empty()
        && b[0].is_ascii_lowercase()
        && is_alnum_lower(b[b.len() - 1])
        && b.iter().all(|&c| is_alnum_lower(c) || c == b'-');
    if !ok {
        errs.push("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')".into());
    }
    errs
}

/// Errors of a path-segment name (RBAC objects): anything but `.`, `..`,
/// and names containing `/` or `%`.
pub fn path_segment_name(s: &str) -> Vec<String> {
    if s == "." || s == ".." {
        return vec![format!("may not be '{s}'")];
    }
    let mut errs = Vec::new();
    for bad in ["/", "%"] {
        if s.contains(bad) {
            errs.push(format!("may not contain '{bad}'"));
        }
    }
    errs
}

fn is_qualified_name_part(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

const QUALIFIED_NAME_FORMAT: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

/// Errors of a qualified name (label and annotation keys, finalizers):
/// an optional DNS subdomain prefix and `/`, then a name part.
pub fn qualified_name(s: &str) -> Vec<String> {
    let parts: Vec<&str> = s.split('/').collect();
    let (prefix, name) = match parts.as_slice() {
        [name] => (None, *name),
        [prefix, name] => (Some(*prefix), *name),
        _ => {
            return vec![format!(
                "a qualified name {QUALIFIED_NAME_FORMAT} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
            )];
        }
    };
    let mut errs = Vec::new();
    if let Some(prefix) = prefix {
        if prefix.is_empty() {
            errs.push("prefix part must be non-empty".into());
        } else {
            errs.extend(
                dns1123_subdomain(prefix)
                    .into_iter()
                    .map(|e| format!("prefix part {e}")),
            );
        }
    }
    if name.is_empty() {
        errs.push("name part must be non-empty".into());
    } else {
        if name.len() > 63 {
            errs.push("name part must be no more than 63 characters".into());
        }
        if !is_qualified_name_part(name) {
            errs.push(format!("name part {QUALIFIED_NAME_FORMAT}"));
        }
    }
    errs
}

/// The first qualified-name error, if any (for selector parsing).
pub fn qualified_name_errors(s: &str) -> Option<String> {
    qualified_name(s).into_iter().next()
}

/// Errors of a label value, empty when valid.
pub fn label_value(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > 63 {
        errs.push("must be no more than 63 characters".into());
    }
    if !s.is_empty() && !is_qualified_name_part(s) {
        errs.push("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')".into());
    }
    errs
}

/// The first label-value error, if any (for selector parsing).
pub fn label_value_errors(s: &str) -> Option<String> {
    label_value(s).into_iter().next()
}

/// Validate a label map (`metadata.labels`, `nodeSelector`, ...): key and
/// value errors are all reported on `path` itself, as upstream does.
pub fn validate_labels(labels: Option<&BTreeMap<String, String>>, path: &Path, errs: &mut Errors) {
    for (k, v) in labels.into_iter().flatten() {
        errs.invalid_each(path, k, qualified_name(k));
        errs.invalid_each(path, v, label_value(v));
    }
}

/// The most bytes all annotations of one object may take together.
pub const TOTAL_ANNOTATION_SIZE_LIMIT: usize = 256 * 1024;

/// Validate `metadata.annotations`: qualified keys (lower-cased), and at
/// most 256 KiB of keys and values in total.
pub fn validate_annotations(
    annotations: Option<&BTreeMap<String, String>>,
    path: &Path,
    errs: &mut Errors,
) {
    let mut total = 0;
    for (k, v) in annotations.into_iter().flatten() {
        errs.invalid_each(path, k, qualified_name(&k.to_lowercase()));
        total += k.len() + v.len();
    }
    if total > TOTAL_ANNOTATION_SIZE_LIMIT {
        errs.push(
            ErrorType::TooLong,
            path,
            None,
            format!("may not be more than {TOTAL_ANNOTATION_SIZE_LIMIT} bytes"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(dns1123_subdomain("web-1.example").is_empty());
        assert!(!dns1123_subdomain("Web").is_empty());
        assert!(!dns1123_subdomain("-a").is_empty());
        assert!(dns1123_label("a-1").is_empty());
        assert!(!dns1123_label("a.b").is_empty());
        assert!(dns1035_label("svc-1").is_empty());
        assert!(!dns1035_label("1svc").is_empty());
        assert!(path_segment_name("system:controller").is_empty());
        assert!(!path_segment_name("a/b").is_empty());
    }

    #[test]
    fn qualified_names_and_label_values() {
        assert!(qualified_name("app").is_empty());
        assert!(qualified_name("kubernetes.io/hostname").is_empty());
        assert!(!qualified_name("a/b/c").is_empty());
        assert!(!qualified_name("/a").is_empty());
        assert!(!qualified_name("Bad_Prefix/a").is_empty());
        assert!(label_value("").is_empty());
        assert!(label_value("v1.2_x").is_empty());
        assert!(!label_value("-x").is_empty());
        assert!(!label_value(&"x".repeat(64)).is_empty());
    }

    #[test]
    fn error_messages_read_as_upstream() {
        let mut errs = Errors::default();
        let p = Path::new("spec")
            .child("containers")
            .index(0)
            .child("image");
        errs.required(&p, "");
        errs.not_supported(
            &Path::new("spec.restartPolicy"),
            "Sometimes",
            &["Always", "Never", "OnFailure"],
        );
        assert_eq!(
            errs.0[0].to_string(),
            "spec.containers[0].image: Required value"
        );
        assert_eq!(
            errs.0[1].to_string(),
            "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"Never\", \"OnFailure\""
        );
        assert_eq!(errs.0[0].cause().reason, "FieldValueRequired");
    }
}

//! A stored object as the server keeps it in memory: its JSON (with
//! `metadata.resourceVersion` filled in) and the few attributes selectors
//! look at, extracted once when the object enters the cache.

use std::collections::BTreeMap;

use bytes::{BufMut, Bytes, BytesMut};
use rkube_api::fields::FieldSelector;
use rkube_api::labels::Selector;
use rkube_api::registry::ResourceInfo;
use rkube_api::status::Status;
use serde_json::Value;

/// One object at one revision. Immutable; shared by `Arc`.
#[derive(Debug)]
pub struct CachedObject {
    /// The namespace (empty for cluster-scoped kinds).
    pub namespace: String,
    /// The name.
    pub name: String,
    /// The revision that last modified it (or deleted it, in a DELETED
    /// event).
    pub revision: i64,
    /// The object as JSON, `metadata.resourceVersion` included.
    pub json: Bytes,
    /// `metadata.labels`.
    pub labels: BTreeMap<String, String>,
    /// Values of the kind's selectable fields, in [`ResourceInfo::fields`]
    /// order.
    pub fields: Box<[String]>,
}

impl CachedObject {
    /// Build from stored bytes (which never carry a resourceVersion) under
    /// the key suffix `rest` (`ns/name` or `name`).
    pub fn from_stored(
        info: &ResourceInfo,
        rest: &str,
        value: &[u8],
        revision: i64,
    ) -> Result<CachedObject, String> {
        let parsed: Value = serde_json::from_slice(value)
            .map_err(|e| format!("undecodable object at {rest}: {e}"))?;
        Ok(Self::from_value(info, rest, &parsed, value, revision))
    }

    /// Build from an object already parsed (`parsed` is `value` decoded),
    /// as a writer has it: no second parse.
    pub fn from_value(
        info: &ResourceInfo,
        rest: &str,
        parsed: &Value,
        value: &[u8],
        revision: i64,
    ) -> CachedObject {
        let (namespace, name) = match rest.split_once('/') {
            Some((ns, name)) if info.namespaced() => (ns.to_owned(), name.to_owned()),
            _ => (String::new(), rest.to_owned()),
        };
        let labels = parsed
            .pointer("/metadata/labels")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                    .collect()
            })
            .unwrap_or_default();
        let fields = info
            .fields
            .iter()
            .map(|f| match parsed.pointer(f.pointer) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Bool(b)) => b.to_string(),
                Some(Value::Number(n)) => n.to_string(),
                _ => f.default.to_owned(),
            })
            .collect();
        CachedObject {
            namespace,
            name,
            revision,
            json: inject_resource_version(value, revision),
            labels,
            fields,
        }
    }

    /// The same object reported at another revision (a watcher that stops
    /// matching an object is sent its previous state at the event's
    /// revision).
    pub fn at_revision(&self, revision: i64) -> CachedObject {
        let json = serde_json::from_slice::<Value>(&self.json)
            .ok()
            .map(|mut v| {
                v["metadata"]["resourceVersion"] = Value::from(revision.to_string());
                Bytes::from(serde_json::to_vec(&v).unwrap_or_default())
            })
            .unwrap_or_else(|| self.json.clone());
        CachedObject {
            namespace: self.namespace.clone(),
            name: self.name.clone(),
            revision,
            json,
            labels: self.labels.clone(),
            fields: self.fields.clone(),
        }
    }

    /// Whether this object is the one at key suffix `rest`.
    pub fn namespace_name_matches(&self, rest: &str, info: &ResourceInfo) -> bool {
        match rest.split_once('/') {
            Some((ns, name)) if info.namespaced() => self.namespace == ns && self.name == name,
            _ => self.name == rest,
        }
    }

    /// The object as a JSON value.
    pub fn value(&self) -> Result<Value, Status> {
        serde_json::from_slice(&self.json).map_err(Status::internal)
    }
}

/// Which objects a list or watch wants.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Only this namespace.
    pub namespace: Option<String>,
    /// Label selector.
    pub labels: Selector,
    /// Field selector, checked against the kind's selectable fields.
    pub fields: FieldSelector,
}

impl Filter {
    /// Build a filter, rejecting field labels the kind does not support
    /// (400, as upstream).
    pub fn new(
        info: &ResourceInfo,
        namespace: Option<String>,
        label_selector: Option<&str>,
        field_selector: Option<&str>,
    ) -> Result<Filter, Status> {
        let labels = match label_selector {
            Some(s) => Selector::parse(s)
                .map_err(|e| Status::bad_request(format!("unable to parse requirement: {e}")))?,
            None => Selector::default(),
        };
        let fields = match field_selector {
            Some(s) => FieldSelector::parse(s).map_err(Status::bad_request)?,
            None => FieldSelector::default(),
        };
        for term in &fields.terms {
            let known = matches!(term.field.as_str(), "metadata.name" | "metadata.namespace")
                || info.fields.iter().any(|f| f.label == term.field);
            if !known {
                return Err(Status::bad_request(format!(
                    "field label not supported: {}",
                    term.field
                )));
            }
        }
        Ok(Filter {
            namespace,
            labels,
            fields,
        })
    }

    /// Whether nothing but the namespace is filtered on.
    pub fn is_trivial(&self) -> bool {
        self.labels.is_empty() && self.fields.is_empty()
    }

    /// Whether `obj` passes.
    pub fn matches(&self, info: &ResourceInfo, obj: &CachedObject) -> bool {
        if let Some(ns) = &self.namespace
            && *ns != obj.namespace
        {
            return false;
        }
        self.labels.matches(&obj.labels)
            && self.fields.matches(|label| match label {
                "metadata.name" => Some(obj.name.as_str()),
                "metadata.namespace" => Some(obj.namespace.as_str()),
                _ => info
                    .fields
                    .iter()
                    .position(|f| f.label == label)
                    .map(|i| obj.fields[i].as_str()),
            })
    }
}

/// Insert `"resourceVersion":"<rv>"` into the top-level `metadata` object of
/// a JSON document, without re-serializing it. Stored objects never carry a
/// resourceVersion (the store's revision is the truth), so there is never a
/// duplicate key. A document without a `metadata` object is returned as is.
pub fn inject_resource_version(json: &[u8], rv: i64) -> Bytes {
    let Some(pos) = metadata_body_start(json) else {
        return Bytes::copy_from_slice(json);
    };
    let rest = &json[pos..];
    let empty = rest.iter().find(|c| !c.is_ascii_whitespace()) == Some(&b'}');
    let field = format!(
        "\"resourceVersion\":\"{rv}\"{}",
        if empty { "" } else { "," }
    );
    let mut out = BytesMut::with_capacity(json.len() + field.len());
    out.put_slice(&json[..pos]);
    out.put_slice(field.as_bytes());
    out.put_slice(rest);
    out.freeze()
}

/// The offset just after the `{` of the top-level `"metadata"` value.
fn metadata_body_start(json: &[u8]) -> Option<usize> {
    let mut i = json.iter().position(|&c| c == b'{')? + 1;
    let mut depth = 0usize;
    let mut expect_key = true;
    while i < json.len() {
        match json[i] {
            b'"' => {
                let start = i + 1;
                i = skip_string(json, i)?;
                let s = &json[start..i - 1];
                if depth == 0 && expect_key {
                    // A top-level key: is it "metadata" followed by an object?
                    let mut j = i;
                    while j < json.len() && json[j] != b':' {
                        j += 1;
                    }
                    j += 1;
                    while j < json.len() && json[j].is_ascii_whitespace() {
                        j += 1;
                    }
                    if s == b"metadata" && json.get(j) == Some(&b'{') {
                        return Some(j + 1);
                    }
                    expect_key = false;
                    i = j;
                }
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                if depth == 0 {
                    return None;
                }
                depth -= 1;
            }
            b',' if depth == 0 => expect_key = true,
            _ => {}
        }
        i += 1;
    }
    None
}

/// Index just past the string starting at `json[i] == '"'`.
fn skip_string(json: &[u8], mut i: usize) -> Option<usize> {
    i += 1;
    while i < json.len() {
        match json[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::inject_resource_version;
    use serde_json::{Value, json};

    fn injected(doc: &str) -> Value {
        serde_json::from_slice(&inject_resource_version(doc.as_bytes(), 42)).unwrap()
    }

    #[test]
    fn injects_into_top_level_metadata() {
        let v = injected(r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"},"spec":{}}"#);
        assert_eq!(v["metadata"], json!({"name": "a", "resourceVersion": "42"}));
        let v = injected(r#"{"metadata":{}}"#);
        assert_eq!(v["metadata"], json!({"resourceVersion": "42"}));
    }

    #[test]
    fn ignores_nested_and_quoted_metadata() {
        let doc = r#"{"spec":{"metadata":{"x":1}},"a":"\"metadata\":{","metadata" : {"name":"b"}}"#;
        let v = injected(doc);
        assert_eq!(v["metadata"]["resourceVersion"], "42");
        assert_eq!(v["spec"]["metadata"], json!({"x": 1}));
        assert_eq!(v["a"], "\"metadata\":{");
    }

    #[test]
    fn leaves_documents_without_metadata_alone() {
        let doc = br#"{"kind":"X","data":{"metadata":{}}}"#;
        assert_eq!(&inject_resource_version(doc, 1)[..], &doc[..]);
    }
}

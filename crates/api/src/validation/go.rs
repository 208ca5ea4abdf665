//! Bad values the way upstream prints them: Go's `%#v` syntax for maps,
//! slices and structs (`map[string]string{"app":"web"}`,
//! `[]string{"a", "b"}`), which kubectl users see in `Invalid value: ...`.
//!
//! A [`FieldError`](super::FieldError) keeps its value as JSON; text that
//! must be shown verbatim is wrapped by [`raw`] and recognised again by
//! [`raw_text`].

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::Value;

/// The key marking a verbatim value; not a valid JSON field name of any
/// API object, so it cannot collide with user data.
const RAW_KEY: &str = "\u{0}go";

/// A value shown verbatim in the error message.
pub fn raw(text: impl Into<String>) -> Value {
    let mut map = serde_json::Map::new();
    map.insert(RAW_KEY.into(), Value::String(text.into()));
    Value::Object(map)
}

/// The verbatim text of a value made by [`raw`].
pub fn raw_text(v: &Value) -> Option<&str> {
    match v {
        Value::Object(map) if map.len() == 1 => map.get(RAW_KEY)?.as_str(),
        _ => None,
    }
}

/// A Go string literal (`%q`).
pub fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// `map[string]string{"a":"b", "c":"d"}`, or `map[string]string(nil)`.
pub fn string_map(map: Option<&BTreeMap<String, String>>) -> String {
    match map {
        None => "map[string]string(nil)".into(),
        Some(m) => {
            let items: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}:{}", quote(k), quote(v)))
                .collect();
            format!("map[string]string{{{}}}", items.join(", "))
        }
    }
}

/// `[]T{a, b}` or `[]T(nil)` with each item already rendered.
pub fn slice(type_name: &str, items: Option<Vec<String>>) -> String {
    match items {
        None => format!("[]{type_name}(nil)"),
        Some(items) => format!("[]{type_name}{{{}}}", items.join(", ")),
    }
}

/// `[]string{"a", "b"}`.
pub fn string_slice(items: Option<&[String]>) -> String {
    slice(
        "string",
        items.map(|v| v.iter().map(|s| quote(s)).collect()),
    )
}

/// `[]int32{1, 2}`.
pub fn int_slice(items: &[i32]) -> String {
    slice("int32", Some(items.iter().map(|i| i.to_string()).collect()))
}

fn requirement(r: &LabelSelectorRequirement) -> String {
    format!(
        "v1.LabelSelectorRequirement{{Key:{}, Operator:{}, Values:{}}}",
        quote(&r.key),
        quote(&r.operator),
        string_slice(r.values.as_deref())
    )
}

/// A `metav1.LabelSelector` as `%#v` prints it.
pub fn label_selector(sel: &LabelSelector) -> String {
    let exprs = sel
        .match_expressions
        .as_ref()
        .map(|v| v.iter().map(requirement).collect());
    format!(
        "v1.LabelSelector{{MatchLabels:{}, MatchExpressions:{}}}",
        string_map(sel.match_labels.as_ref()),
        slice("v1.LabelSelectorRequirement", exprs)
    )
}

/// An `intstr.IntOrString` as `%#v` prints it.
pub fn int_or_string(v: &IntOrString) -> String {
    match v {
        IntOrString::Int(i) => format!("intstr.IntOrString{{Type:0, IntVal:{i}, StrVal:\"\"}}"),
        IntOrString::String(s) => {
            format!(
                "intstr.IntOrString{{Type:1, IntVal:0, StrVal:{}}}",
                quote(s)
            )
        }
    }
}

/// A best-effort Go rendering of arbitrary JSON (for values without a
/// dedicated renderer): string maps and string lists as Go would print
/// them, anything else as compact JSON.
pub fn render_json(v: &Value) -> String {
    match v {
        Value::Object(map) if map.values().all(Value::is_string) => {
            let m: BTreeMap<String, String> = map
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect();
            string_map(Some(&m))
        }
        Value::Array(items) if items.iter().all(Value::is_string) => {
            let v: Vec<String> = items
                .iter()
                .map(|s| s.as_str().unwrap_or_default().to_owned())
                .collect();
            string_slice(Some(&v))
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_go() {
        let m: BTreeMap<String, String> = [("app".to_string(), "web".to_string())].into();
        assert_eq!(string_map(Some(&m)), r#"map[string]string{"app":"web"}"#);
        assert_eq!(string_map(None), "map[string]string(nil)");
        let sel = LabelSelector {
            match_labels: Some(m),
            match_expressions: None,
        };
        assert_eq!(
            label_selector(&sel),
            r#"v1.LabelSelector{MatchLabels:map[string]string{"app":"web"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}"#
        );
        assert_eq!(raw_text(&raw("x")), Some("x"));
        assert_eq!(
            string_slice(Some(&["a".to_string(), "b".to_string()])),
            r#"[]string{"a", "b"}"#
        );
    }
}

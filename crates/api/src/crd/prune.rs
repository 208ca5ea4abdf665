//! Structural pruning (`pruning.PruneWithOptions`), the removal of
//! non-nullable nulls without defaults
//! (`defaulting.PruneNonNullableNullsWithoutDefaults`) and defaulting
//! (`defaulting.Default`).

use serde_json::Value;

use super::MAX_DEPTH;
use super::schema::Node;

const META_FIELDS: &[&str] = &["apiVersion", "kind", "metadata"];

/// Drop the fields of `x` its schema does not specify; returns their paths
/// (`spec.foo`, `spec.items[0].bar`). `apiVersion`, `kind` and `metadata`
/// are kept at the root (if `is_resource_root`) and in embedded resources.
pub(crate) fn prune(x: &mut Value, s: &Node, is_resource_root: bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut path = String::new();
    let embedded = s.embedded || is_resource_root;
    prune_at(x, Some(s), embedded, &mut path, &mut out, 0);
    out
}

fn push_key(path: &mut String, key: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(key);
}

fn prune_at(
    x: &mut Value,
    s: Option<&Node>,
    embedded: bool,
    path: &mut String,
    out: &mut Vec<String>,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        return;
    }
    if let Some(s) = s
        && s.preserve_unknown
    {
        skip_prune(x, s, embedded, path, out, depth);
        return;
    }
    match x {
        Value::Object(map) => {
            let Some(s) = s else {
                for k in map.keys() {
                    let len = path.len();
                    push_key(path, k);
                    out.push(path.clone());
                    path.truncate(len);
                }
                map.clear();
                return;
            };
            let keys: Vec<String> = map.keys().cloned().collect();
            for k in keys {
                if embedded && META_FIELDS.contains(&k.as_str()) {
                    continue;
                }
                let top = path.is_empty();
                let len = path.len();
                push_key(path, &k);
                if let Some(prop) = s.properties.get(&k) {
                    if let Some(v) = map.get_mut(&k) {
                        prune_at(v, Some(prop), prop.embedded, path, out, depth + 1);
                    }
                } else if let Some(a) = &s.additional {
                    let sub = a.schema.as_deref();
                    if let Some(v) = map.get_mut(&k) {
                        prune_at(
                            v,
                            sub,
                            sub.is_some_and(|n| n.embedded),
                            path,
                            out,
                            depth + 1,
                        );
                    }
                } else {
                    if !META_FIELDS.contains(&k.as_str()) || !top {
                        out.push(path.clone());
                    }
                    map.remove(&k);
                }
                path.truncate(len);
            }
        }
        Value::Array(items) => match s {
            Some(s) => {
                let item = s.items.as_deref();
                for (i, v) in items.iter_mut().enumerate() {
                    let len = path.len();
                    path.push_str(&format!("[{i}]"));
                    prune_at(
                        v,
                        item,
                        item.is_some_and(|n| n.embedded),
                        path,
                        out,
                        depth + 1,
                    );
                    path.truncate(len);
                }
            }
            None => prune_untyped_items(items, path, out),
        },
        _ => {}
    }
}

/// Items of a list without a schema: every object in them (at any depth
/// of nested lists) loses all its fields. Iterative, as the nesting is the
/// value's.
fn prune_untyped_items(items: &mut [Value], path: &str, out: &mut Vec<String>) {
    let mut stack: Vec<(&mut Value, String)> = items
        .iter_mut()
        .enumerate()
        .map(|(i, v)| (v, format!("{path}[{i}]")))
        .collect();
    stack.reverse();
    while let Some((v, p)) = stack.pop() {
        match v {
            Value::Object(map) => {
                for k in map.keys() {
                    let mut kp = p.clone();
                    push_key(&mut kp, k);
                    out.push(kp);
                }
                map.clear();
            }
            Value::Array(inner) => {
                let mut children: Vec<(&mut Value, String)> = inner
                    .iter_mut()
                    .enumerate()
                    .map(|(i, v)| (v, format!("{p}[{i}]")))
                    .collect();
                children.reverse();
                stack.extend(children);
            }
            _ => {}
        }
    }
}

/// Under `x-kubernetes-preserve-unknown-fields`: unknown fields stay,
/// specified ones are pruned by their schema.
fn skip_prune(
    x: &mut Value,
    s: &Node,
    embedded: bool,
    path: &mut String,
    out: &mut Vec<String>,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        return;
    }
    match x {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if embedded && META_FIELDS.contains(&k.as_str()) {
                    continue;
                }
                let len = path.len();
                push_key(path, k);
                if let Some(prop) = s.properties.get(k) {
                    prune_at(v, Some(prop), prop.embedded, path, out, depth + 1);
                } else if let Some(a) = &s.additional {
                    let sub = a.schema.as_deref();
                    prune_at(
                        v,
                        sub,
                        sub.is_some_and(|n| n.embedded),
                        path,
                        out,
                        depth + 1,
                    );
                }
                path.truncate(len);
            }
        }
        Value::Array(items) => {
            if let Some(item) = s.items.as_deref() {
                for (i, v) in items.iter_mut().enumerate() {
                    let len = path.len();
                    path.push_str(&format!("[{i}]"));
                    skip_prune(v, item, item.embedded, path, out, depth + 1);
                    path.truncate(len);
                }
            }
        }
        _ => {}
    }
}

/// Remove `null` values of fields that are neither nullable nor defaulted.
pub(crate) fn prune_nulls(x: &mut Value, s: Option<&Node>, depth: usize) {
    let Some(s) = s else {
        return;
    };
    if depth > MAX_DEPTH {
        return;
    }
    match x {
        Value::Object(map) => {
            map.retain(|k, v| {
                let schema = s.schema_for_field(k);
                let drop =
                    v.is_null() && schema.is_some_and(|sch| !sch.nullable && sch.default.is_none());
                !drop
            });
            for (k, v) in map.iter_mut() {
                prune_nulls(v, s.schema_for_field(k), depth + 1);
            }
        }
        Value::Array(items) => {
            for v in items {
                prune_nulls(v, s.items.as_deref(), depth + 1);
            }
        }
        _ => {}
    }
}

/// Set the defaults of absent fields (and of non-nullable `null`s).
pub(crate) fn apply_defaults(x: &mut Value, s: &Node, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match x {
        Value::Object(map) => {
            for (k, prop) in &s.properties {
                let Some(d) = &prop.default else {
                    continue;
                };
                let set = match map.get(k) {
                    None => true,
                    Some(v) => v.is_null() && !prop.nullable,
                };
                if set {
                    map.insert(k.clone(), d.clone());
                }
            }
            for (k, v) in map.iter_mut() {
                if let Some(prop) = s.properties.get(k) {
                    apply_defaults(v, prop, depth + 1);
                } else if let Some(a) = &s.additional {
                    let Some(sub) = a.schema.as_deref() else {
                        continue;
                    };
                    if v.is_null() && !sub.nullable {
                        *v = sub.default.clone().unwrap_or(Value::Null);
                    }
                    apply_defaults(v, sub, depth + 1);
                }
            }
        }
        Value::Array(items) => {
            let Some(item) = s.items.as_deref() else {
                return;
            };
            for v in items {
                if v.is_null() && !item.nullable {
                    *v = item.default.clone().unwrap_or(Value::Null);
                }
                apply_defaults(v, item, depth + 1);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use crate::crd::Structural;
    use crate::validation::Path;
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::JSONSchemaProps;
    use serde_json::{Value, json};

    fn structural(schema: Value) -> Structural {
        let props: JSONSchemaProps = serde_json::from_value(schema).unwrap();
        Structural::from_schema(&props, &Path::new("openAPIV3Schema")).unwrap()
    }

    #[test]
    fn prunes_unknown_fields_and_reports_them() {
        let s = structural(
            json!({"type": "object", "properties": {"spec": {"type": "object",
            "properties": {
                "items": {"type": "array", "items": {"type": "object", "properties": {"a": {"type": "string"}}}},
                "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true,
                    "properties": {"known": {"type": "object", "properties": {}}}},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "template": {"type": "object", "x-kubernetes-embedded-resource": true,
                    "properties": {"spec": {"type": "object"}}},
            }}}}),
        );
        let mut obj = json!({
            "apiVersion": "x/v1", "kind": "X", "metadata": {"name": "n", "whatever": 1},
            "spec": {"foo": 1, "items": [{"a": "x", "bar": 2}],
                "free": {"anything": {"deep": true}, "known": {"gone": 1}},
                "labels": {"k": "v"},
                "template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"x": 1}, "spec": {"y": 1}, "z": 1}},
            "status": {}});
        let pruned = s.prune(&mut obj);
        assert_eq!(
            pruned,
            [
                "spec.foo",
                "spec.free.known.gone",
                "spec.items[0].bar",
                "spec.template.spec.y",
                "spec.template.z",
                "status",
            ]
        );
        assert_eq!(
            obj,
            json!({"apiVersion": "x/v1", "kind": "X", "metadata": {"name": "n", "whatever": 1},
                "spec": {"items": [{"a": "x"}], "free": {"anything": {"deep": true}, "known": {}},
                "labels": {"k": "v"},
                "template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"x": 1}, "spec": {}}}})
        );
    }

    #[test]
    fn prunes_nulls_without_defaults() {
        let s = structural(
            json!({"type": "object", "properties": {"spec": {"type": "object",
            "properties": {"a": {"type": "string"}, "b": {"type": "string", "nullable": true},
                "c": {"type": "string", "default": "x"}}}}}),
        );
        let mut obj = json!({"spec": {"a": null, "b": null, "c": null}});
        s.prune(&mut obj);
        assert_eq!(obj, json!({"spec": {"b": null, "c": null}}));
        s.apply_defaults(&mut obj);
        assert_eq!(obj, json!({"spec": {"b": null, "c": "x"}}));
    }

    #[test]
    fn defaults_recursively() {
        let s = structural(
            json!({"type": "object", "properties": {"spec": {"type": "object",
            "default": {}, "properties": {
                "replicas": {"type": "integer", "default": 1},
                "ports": {"type": "array", "items": {"type": "object", "properties": {
                    "protocol": {"type": "string", "default": "TCP"}}}},
                "byName": {"type": "object", "additionalProperties": {"type": "object",
                    "properties": {"on": {"type": "boolean", "default": true}}}},
            }}}}),
        );
        let mut obj = json!({});
        s.apply_defaults(&mut obj);
        assert_eq!(obj, json!({"spec": {"replicas": 1}}));
        let mut obj = json!({"spec": {"replicas": 3, "ports": [{}, {"protocol": "UDP"}],
            "byName": {"a": {}}}});
        s.apply_defaults(&mut obj);
        assert_eq!(
            obj,
            json!({"spec": {"replicas": 3, "ports": [{"protocol": "TCP"}, {"protocol": "UDP"}],
                "byName": {"a": {"on": true}}}})
        );
    }
}

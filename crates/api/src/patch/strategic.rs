//! Strategic merge patch (`application/strategic-merge-patch+json`), as
//! kube-apiserver applies it.
//!
//! Like a JSON merge patch (maps merge key by key, `null` deletes), except
//! that lists follow their field's strategy from the type [`schema`]:
//! lists of objects with a merge key merge item by item (`containers` by
//! `name`, `ports` by `containerPort`, ...), lists of scalars with the
//! merge strategy merge as sets, other lists are replaced. Directives:
//!
//! - `$patch: replace` in a map replaces the map; in a list item, replaces
//!   the list; `$patch: delete` in a map empties it, in a list item deletes
//!   the item with that key;
//! - `$retainKeys: [...]` drops the original's keys not listed;
//! - `$setElementOrder/<list>: [...]` orders the merged list;
//! - `$deleteFromPrimitiveList/<list>: [...]` removes scalars from a set.
//!
//! [`schema`]: super::schema

use serde_json::{Map, Value};

use super::schema::{Shape, TypeDef, nested};

const DIRECTIVE: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const SET_ORDER: &str = "$setElementOrder/";
const DELETE_FROM: &str = "$deleteFromPrimitiveList/";

/// A patch that cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchError {
    /// What is wrong, worded as upstream.
    pub message: String,
    /// The HTTP status upstream answers with: 400 for a malformed patch,
    /// 500 (reason unknown) for errors upstream does not classify.
    pub code: u16,
}

impl PatchError {
    /// A malformed patch (400 `BadRequest`).
    pub fn bad_request(message: impl Into<String>) -> PatchError {
        PatchError {
            message: message.into(),
            code: 400,
        }
    }

    /// An error upstream's patch code returns unclassified, which its
    /// server answers as 500 with no reason.
    pub fn unclassified(message: impl Into<String>) -> PatchError {
        PatchError {
            message: message.into(),
            code: 500,
        }
    }
}

impl std::fmt::Display for PatchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

type Result<T> = std::result::Result<T, PatchError>;

/// Upstream's `ErrBadPatchFormatForRetainKeys`.
const BAD_RETAIN_KEYS: &str = "invalid patch format of retainKeys";

/// A map printed as Go's `%v` prints a `map[string]interface{}` (upstream
/// quotes patches this way in its errors).
fn go_map(m: &Map<String, Value>) -> String {
    fn go(v: &Value) -> String {
        match v {
            Value::Object(m) => go_map(m),
            Value::Array(a) => format!("[{}]", a.iter().map(go).collect::<Vec<_>>().join(" ")),
            Value::String(s) => s.clone(),
            Value::Null => "<nil>".into(),
            other => other.to_string(),
        }
    }
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort();
    let parts: Vec<String> = keys.iter().map(|k| format!("{k}:{}", go(&m[*k]))).collect();
    format!("map[{}]", parts.join(" "))
}

/// How a list field merges, for strategic merge purposes.
#[derive(Clone, Copy)]
enum ListStrategy {
    /// Replace the whole list.
    Replace,
    /// Merge objects by this key.
    MergeByKey(&'static str, Option<&'static TypeDef>),
    /// Merge scalars as a set.
    MergeScalars,
}

fn list_strategy(schema: Option<&TypeDef>, field: &str) -> ListStrategy {
    match schema.and_then(|s| s.field(field)) {
        Some(Shape::ListMap(keys, item)) => match keys.first() {
            Some(key) => ListStrategy::MergeByKey(key, nested(item)),
            None => ListStrategy::Replace,
        },
        Some(Shape::ListSet) => ListStrategy::MergeScalars,
        _ => ListStrategy::Replace,
    }
}

/// The type of a map-valued field (a nested struct, or a map's values).
fn map_schema(schema: Option<&TypeDef>, field: &str) -> Option<&'static TypeDef> {
    match schema.and_then(|s| s.field(field)) {
        Some(Shape::Struct(t)) => nested(t),
        _ => None,
    }
}

/// For a granular map of structs (`map[string]T`), the value type.
fn map_value_schema(schema: Option<&TypeDef>, field: &str) -> Option<Option<&'static TypeDef>> {
    match schema.and_then(|s| s.field(field)) {
        Some(Shape::MapGranular(t)) => Some(nested(t)),
        _ => None,
    }
}

/// Apply a strategic merge patch to `original`, an object of type `schema`
/// (`None`: unknown type; lists are then replaced, as upstream does for
/// types it has no metadata for).
pub fn apply(original: Value, patch: &Value, schema: Option<&TypeDef>) -> Result<Value> {
    let Value::Object(patch) = patch else {
        return Err(PatchError::bad_request(
            "strategic merge patch must be a JSON object",
        ));
    };
    let original = match original {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    merge_map(original, patch.clone(), schema, None).map(Value::Object)
}

/// Merge `patch` into `original`. `map_values` is set when the map is a
/// `map[string]T` (its values all have that type) rather than a struct.
fn merge_map(
    mut original: Map<String, Value>,
    mut patch: Map<String, Value>,
    schema: Option<&TypeDef>,
    map_values: Option<Option<&'static TypeDef>>,
) -> Result<Map<String, Value>> {
    if let Some(directive) = patch.remove(DIRECTIVE) {
        return match directive.as_str() {
            Some("replace") => Ok(strip(patch, schema, map_values)?),
            Some("delete") => Ok(Map::new()),
            _ => {
                patch.insert(DIRECTIVE.into(), directive.clone());
                Err(PatchError::unclassified(format!(
                    "unknown patch type: {} in map: {}",
                    directive
                        .as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| directive.to_string()),
                    go_map(&patch)
                )))
            }
        };
    }

    if let Some(retain) = patch.remove(RETAIN_KEYS) {
        let keys: Vec<String> = retain
            .as_array()
            .ok_or_else(|| PatchError::bad_request(BAD_RETAIN_KEYS))?
            .iter()
            .filter_map(|k| k.as_str().map(str::to_owned))
            .collect();
        original.retain(|k, _| keys.contains(k));
        // Every field the patch sets must be retained (nulls and list
        // directives aside).
        if patch.iter().any(|(k, v)| {
            !v.is_null()
                && !k.starts_with(DELETE_FROM)
                && !k.starts_with(SET_ORDER)
                && !k.starts_with('$')
                && !keys.contains(k)
        }) {
            return Err(PatchError::bad_request(BAD_RETAIN_KEYS));
        }
    }

    // Ordering directives, with the lists they order.
    let orders: Vec<String> = patch
        .keys()
        .filter(|k| k.starts_with(SET_ORDER))
        .cloned()
        .collect();
    let mut ordered_lists: Vec<(String, Vec<Value>)> = Vec::new();
    for key in orders {
        let order = patch.remove(&key).unwrap_or(Value::Null);
        let field = key[SET_ORDER.len()..].to_owned();
        let order = order
            .as_array()
            .cloned()
            .ok_or_else(|| PatchError::bad_request(format!("{key} must be a list")))?;
        ordered_lists.push((field, order));
    }

    // Deletions from primitive lists.
    let deletions: Vec<String> = patch
        .keys()
        .filter(|k| k.starts_with(DELETE_FROM))
        .cloned()
        .collect();
    for key in deletions {
        let remove = patch.remove(&key).unwrap_or(Value::Null);
        let field = &key[DELETE_FROM.len()..];
        let remove = remove
            .as_array()
            .ok_or_else(|| PatchError::bad_request(format!("{key} must be a list")))?;
        if let Some(Value::Array(list)) = original.get_mut(field) {
            list.retain(|v| !remove.contains(v));
        }
    }

    for (key, value) in patch {
        if key.starts_with('$') {
            continue;
        }
        if value.is_null() {
            original.remove(&key);
            continue;
        }
        let field_schema = match map_values {
            Some(values) => values,
            None => map_schema(schema, &key),
        };
        let merged = match (original.remove(&key), value) {
            (Some(Value::Object(o)), Value::Object(p)) => Value::Object(merge_map(
                o,
                p,
                field_schema,
                map_value_schema(schema, &key).filter(|_| map_values.is_none()),
            )?),
            (Some(Value::Array(o)), Value::Array(p)) => {
                let strategy = if map_values.is_some() {
                    ListStrategy::Replace
                } else {
                    list_strategy(schema, &key)
                };
                Value::Array(merge_list(o, p, strategy)?)
            }
            (None, Value::Object(p)) => Value::Object(merge_map(
                Map::new(),
                p,
                field_schema,
                map_value_schema(schema, &key).filter(|_| map_values.is_none()),
            )?),
            (None, Value::Array(p)) => {
                let strategy = if map_values.is_some() {
                    ListStrategy::Replace
                } else {
                    list_strategy(schema, &key)
                };
                Value::Array(merge_list(Vec::new(), p, strategy)?)
            }
            (_, other) => other,
        };
        original.insert(key, merged);
    }

    for (field, order) in ordered_lists {
        if let Some(Value::Array(list)) = original.get_mut(&field) {
            let strategy = list_strategy(schema, &field);
            let key = match strategy {
                ListStrategy::MergeByKey(k, _) => Some(k),
                _ => None,
            };
            let items = std::mem::take(list);
            *list = apply_order(items, &order, key);
        }
    }
    Ok(original)
}

/// A patch value taken as a whole: directives inside are still honoured
/// (merged into nothing).
fn strip(
    patch: Map<String, Value>,
    schema: Option<&TypeDef>,
    map_values: Option<Option<&'static TypeDef>>,
) -> Result<Map<String, Value>> {
    merge_map(Map::new(), patch, schema, map_values)
}

fn key_of<'a>(item: &'a Value, key: &str) -> Option<&'a Value> {
    item.as_object().and_then(|m| m.get(key))
}

fn merge_list(
    mut original: Vec<Value>,
    patch: Vec<Value>,
    strategy: ListStrategy,
) -> Result<Vec<Value>> {
    match strategy {
        ListStrategy::Replace => {
            // Items of a replaced list may still carry directives inside.
            patch
                .into_iter()
                .map(|v| match v {
                    Value::Object(m) => strip(m, None, None).map(Value::Object),
                    other => Ok(other),
                })
                .collect()
        }
        ListStrategy::MergeScalars => {
            for v in patch {
                if v.is_object() {
                    // `{"$patch": "replace"}` etc. are for lists of maps.
                    return Err(PatchError::bad_request(format!(
                        "unexpected map {v} in a list of scalars"
                    )));
                }
                if !original.contains(&v) {
                    original.push(v);
                }
            }
            Ok(original)
        }
        ListStrategy::MergeByKey(key, item_schema) => {
            let mut replace = false;
            let mut items = Vec::new();
            for v in patch {
                let Value::Object(mut m) = v else {
                    return Err(PatchError::bad_request(format!(
                        "expected a map in a list merged by {key:?}, got {v}"
                    )));
                };
                let directive = m.get(DIRECTIVE).map(|d| {
                    d.as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| d.to_string())
                });
                match directive.as_deref() {
                    Some("delete") => {
                        let k = m.get(key).cloned().ok_or_else(|| {
                            PatchError::bad_request(format!(
                                "map: {} does not contain declared merge key: {key}",
                                Value::Object(m.clone())
                            ))
                        })?;
                        original.retain(|o| key_of(o, key) != Some(&k));
                    }
                    Some("replace") => replace = true,
                    Some("merge") => {
                        return Err(PatchError::unclassified(
                            "merging lists cannot yet be specified in the patch",
                        ));
                    }
                    Some(other) => {
                        return Err(PatchError::unclassified(format!(
                            "unknown patch type: {other} in map: {}",
                            go_map(&m)
                        )));
                    }
                    None => {
                        if !m.contains_key(key) {
                            return Err(PatchError::bad_request(format!(
                                "map: {} does not contain declared merge key: {key}",
                                Value::Object(m)
                            )));
                        }
                        m.remove(DIRECTIVE);
                        items.push(m);
                    }
                }
            }
            if replace {
                return items
                    .into_iter()
                    .map(|m| strip(m, item_schema, None).map(Value::Object))
                    .collect();
            }
            for m in items {
                let k = m.get(key).cloned();
                match original.iter_mut().find(|o| key_of(o, key) == k.as_ref()) {
                    Some(existing) => {
                        let current = match std::mem::take(existing) {
                            Value::Object(o) => o,
                            _ => Map::new(),
                        };
                        *existing = Value::Object(merge_map(current, m, item_schema, None)?);
                    }
                    None => original.push(Value::Object(strip(m, item_schema, None)?)),
                }
            }
            Ok(original)
        }
    }
}

/// Order a merged list by a `$setElementOrder` list: items named there come
/// in that order; the others (present only on the server) keep their
/// relative place.
fn apply_order(items: Vec<Value>, order: &[Value], key: Option<&str>) -> Vec<Value> {
    let ident = |v: &Value| -> Value {
        match key {
            Some(k) => key_of(v, k).cloned().unwrap_or(Value::Null),
            None => v.clone(),
        }
    };
    let wanted: Vec<Value> = order.iter().map(ident).collect();
    let position = |v: &Value| wanted.iter().position(|w| *w == ident(v));
    let original_order: Vec<Value> = items.iter().map(ident).collect();
    let (mut in_order, server_only): (Vec<Value>, Vec<Value>) =
        items.into_iter().partition(|v| position(v).is_some());
    in_order.sort_by_key(|v| position(v));
    // Interleave the server-only items by their original positions.
    let original_index = |v: &Value| original_order.iter().position(|o| *o == ident(v));
    let mut out = Vec::with_capacity(in_order.len() + server_only.len());
    let mut patched = in_order.into_iter().peekable();
    for s in server_only {
        while let Some(p) = patched.peek() {
            match (original_index(&s), original_index(p)) {
                (Some(si), Some(pi)) if si < pi => break,
                _ => out.push(patched.next().expect("peeked")),
            }
        }
        out.push(s);
    }
    out.extend(patched);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patch::schema::for_kind;
    use serde_json::json;

    fn pod(original: Value, patch: Value) -> Value {
        apply(original, &patch, for_kind("", "v1", "Pod")).unwrap()
    }

    fn base() -> Value {
        json!({
            "metadata": {"name": "p", "labels": {"a": "1", "b": "2"}, "finalizers": ["x", "y"]},
            "spec": {
                "containers": [
                    {"name": "web", "image": "nginx:1", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                     "ports": [{"containerPort": 80, "name": "http"}, {"containerPort": 443, "name": "https"}]},
                    {"name": "side", "image": "busybox", "args": ["a", "b"]}
                ],
                "tolerations": [{"key": "k", "operator": "Exists"}],
                "volumes": [{"name": "data", "emptyDir": {}}]
            }
        })
    }

    #[test]
    fn maps_merge_and_null_deletes() {
        let out = pod(
            base(),
            json!({"metadata": {"labels": {"a": null, "c": "3"}}}),
        );
        assert_eq!(out["metadata"]["labels"], json!({"b": "2", "c": "3"}));
    }

    #[test]
    fn containers_merge_by_name() {
        let out = pod(
            base(),
            json!({"spec": {"containers": [{"name": "web", "image": "nginx:2"}]}}),
        );
        let cs = out["spec"]["containers"].as_array().unwrap();
        assert_eq!(cs.len(), 2);
        assert_eq!(cs[0]["image"], "nginx:2");
        assert_eq!(
            cs[0]["env"].as_array().unwrap().len(),
            2,
            "untouched fields stay"
        );
        assert_eq!(cs[1]["name"], "side");
        // A new name is appended.
        let out = pod(
            base(),
            json!({"spec": {"containers": [{"name": "new", "image": "x"}]}}),
        );
        assert_eq!(out["spec"]["containers"][2]["name"], "new");
    }

    #[test]
    fn env_and_ports_merge_by_their_keys() {
        let out = pod(
            base(),
            json!({"spec": {"containers": [{"name": "web", "env": [{"name": "B", "value": "two"}, {"name": "C", "value": "3"}],
                   "ports": [{"containerPort": 80, "name": "web"}]}]}}),
        );
        let web = &out["spec"]["containers"][0];
        assert_eq!(
            web["env"],
            json!([{"name": "A", "value": "1"}, {"name": "B", "value": "two"}, {"name": "C", "value": "3"}])
        );
        assert_eq!(
            web["ports"],
            json!([{"containerPort": 80, "name": "web"}, {"containerPort": 443, "name": "https"}])
        );
    }

    #[test]
    fn patch_delete_removes_a_list_item() {
        let out = pod(
            base(),
            json!({"spec": {"containers": [{"name": "web", "env": [{"name": "A", "$patch": "delete"}]}]}}),
        );
        assert_eq!(
            out["spec"]["containers"][0]["env"],
            json!([{"name": "B", "value": "2"}])
        );
    }

    #[test]
    fn patch_replace_replaces_a_list_or_map() {
        let out = pod(
            base(),
            json!({"spec": {"containers": [{"name": "only", "image": "x"}, {"$patch": "replace"}]}}),
        );
        assert_eq!(
            out["spec"]["containers"],
            json!([{"name": "only", "image": "x"}])
        );
        let out = pod(
            base(),
            json!({"metadata": {"labels": {"z": "9", "$patch": "replace"}}}),
        );
        assert_eq!(out["metadata"]["labels"], json!({"z": "9"}));
        let out = pod(
            base(),
            json!({"metadata": {"labels": {"$patch": "delete"}}}),
        );
        assert_eq!(out["metadata"]["labels"], json!({}));
    }

    #[test]
    fn atomic_lists_are_replaced() {
        let out = pod(
            base(),
            json!({"spec": {"tolerations": [{"key": "other", "operator": "Exists"}], "containers": [{"name": "side", "args": ["c"]}]}}),
        );
        assert_eq!(
            out["spec"]["tolerations"],
            json!([{"key": "other", "operator": "Exists"}])
        );
        assert_eq!(out["spec"]["containers"][1]["args"], json!(["c"]));
    }

    #[test]
    fn primitive_sets_merge_and_delete() {
        let out = pod(base(), json!({"metadata": {"finalizers": ["z", "x"]}}));
        assert_eq!(out["metadata"]["finalizers"], json!(["x", "y", "z"]));
        let out = pod(
            base(),
            json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["x"]}}),
        );
        assert_eq!(out["metadata"]["finalizers"], json!(["y"]));
    }

    #[test]
    fn set_element_order_orders_the_merged_list() {
        let out = pod(
            base(),
            json!({"spec": {"$setElementOrder/containers": [{"name": "side"}, {"name": "web"}], "containers": [{"name": "web", "image": "n"}]}}),
        );
        let names: Vec<_> = out["spec"]["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].clone())
            .collect();
        assert_eq!(names, [json!("side"), json!("web")]);
        // kubectl apply removing an env var: order lists the survivors, the
        // removed one comes as a delete.
        let out = pod(
            base(),
            json!({"spec": {"containers": [{"name": "web", "$setElementOrder/env": [{"name": "B"}], "env": [{"$patch": "delete", "name": "A"}]}],
                   "$setElementOrder/containers": [{"name": "web"}, {"name": "side"}]}}),
        );
        assert_eq!(
            out["spec"]["containers"][0]["env"],
            json!([{"name": "B", "value": "2"}])
        );
    }

    #[test]
    fn retain_keys_drops_unlisted_fields() {
        let out = pod(
            base(),
            json!({"spec": {"volumes": [{"name": "data", "hostPath": {"path": "/x"}, "$retainKeys": ["hostPath", "name"]}]}}),
        );
        assert_eq!(
            out["spec"]["volumes"],
            json!([{"name": "data", "hostPath": {"path": "/x"}}])
        );
    }

    #[test]
    fn directives_never_reach_the_object() {
        let out = pod(
            json!({}),
            json!({"spec": {"$setElementOrder/containers": [{"name": "a"}], "containers": [{"name": "a", "image": "x"}]}}),
        );
        assert_eq!(
            out,
            json!({"spec": {"containers": [{"name": "a", "image": "x"}]}})
        );
    }

    #[test]
    fn bad_patches_are_errors() {
        let schema = for_kind("", "v1", "Pod");
        assert!(apply(base(), &json!([1]), schema).is_err());
        assert!(
            apply(
                base(),
                &json!({"spec": {"containers": [{"image": "no-name"}]}}),
                schema
            )
            .is_err()
        );
        assert!(apply(base(), &json!({"metadata": {"$patch": "bogus"}}), schema).is_err());
    }

    #[test]
    fn unknown_types_replace_lists() {
        let out = apply(
            json!({"a": [1, 2], "m": {"x": 1}}),
            &json!({"a": [3], "m": {"y": 2}}),
            None,
        )
        .unwrap();
        assert_eq!(out, json!({"a": [3], "m": {"x": 1, "y": 2}}));
    }
}

//! Field ownership (`metadata.managedFields`) and server-side apply.
//!
//! Every write records which manager set which fields: a non-apply write
//! (`Update`) takes the fields it changed from whoever owned them; an apply
//! (`Apply`) owns exactly the fields of its configuration, merges them into
//! the object, removes fields it stopped applying that nobody else owns, and
//! fails with a conflict when it would change a field another manager owns
//! (unless forced). The merge follows each field's shape from the generated
//! type table: maps and structs merge key by key, lists of objects merge by
//! their key fields, sets by value, atomic lists and maps as a whole.

pub mod fieldset;

use serde_json::{Map, Value};

use crate::patch::schema::{Shape, TypeDef, nested};
use fieldset::FieldSet;

/// Metadata fields the server owns; nobody's field set includes them.
const SERVER_METADATA: &[&str] = &[
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
];

/// Which part of an object a write may touch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// Everything but status (the main resource of a kind with /status).
    Main,
    /// Only status (the /status subresource).
    Status,
    /// Everything (kinds without a status subresource).
    Whole,
}

/// The manager of a write.
#[derive(Clone, Debug)]
pub struct Manager {
    /// Its name (`kubectl`, `kube-controller-manager`, ...).
    pub name: String,
    /// `Apply` or `Update`.
    pub operation: &'static str,
    /// The apiVersion it wrote in.
    pub api_version: String,
    /// When (RFC 3339).
    pub time: String,
    /// `status` for writes through the status subresource.
    pub subresource: Option<String>,
}

/// A field another manager owns that an apply would change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    /// The other manager.
    pub manager: String,
    /// Its operation (`Apply` or `Update`).
    pub operation: String,
    /// The subresource it wrote through, if any.
    pub subresource: Option<String>,
    /// The apiVersion it used.
    pub api_version: String,
    /// The field, as upstream prints it (`.spec.replicas`,
    /// `.spec.containers[name="web"].image`).
    pub field: String,
    /// The same as path elements.
    pub path: Vec<String>,
}

fn shape_of(
    schema: Option<&TypeDef>,
    map_values: Option<Option<&'static TypeDef>>,
    key: &str,
) -> FieldShape {
    if let Some(values) = map_values {
        return match values {
            Some(t) => FieldShape::Struct(Some(t)),
            None => FieldShape::Scalar,
        };
    }
    match schema.and_then(|s| s.field(key)) {
        Some(Shape::Struct(t)) if crate::patch::schema::is_atomic_struct(t) => FieldShape::Atomic,
        Some(Shape::Struct(t)) => FieldShape::Struct(nested(t)),
        Some(Shape::ListMap(keys, item)) => FieldShape::ListMap(keys, nested(item)),
        Some(Shape::ListSet) => FieldShape::ListSet,
        Some(Shape::ListAtomic(_)) => FieldShape::Atomic,
        Some(Shape::MapAtomic) => FieldShape::Atomic,
        Some(Shape::MapGranular(t)) => FieldShape::Map(nested(t)),
        // Unknown to the table: a scalar, or a struct of unknown type.
        None if schema.is_some() => FieldShape::Scalar,
        None => FieldShape::Unknown,
    }
}

/// The shape of member `key` of an object of shape `parent` (a struct's
/// field, a map's value, or anything under an untyped object).
fn child_shape(parent: FieldShape, key: &str) -> FieldShape {
    match parent {
        FieldShape::Struct(t) => shape_of(t, None, key),
        FieldShape::Map(Some(t)) => FieldShape::Struct(Some(t)),
        FieldShape::Map(None) => FieldShape::Scalar,
        _ => FieldShape::Unknown,
    }
}

/// How a value merges, resolved from the table.
#[derive(Clone, Copy)]
enum FieldShape {
    Scalar,
    Atomic,
    Struct(Option<&'static TypeDef>),
    Map(Option<&'static TypeDef>),
    ListMap(&'static [&'static str], Option<&'static TypeDef>),
    ListSet,
    /// No type information at all (custom resources without a schema):
    /// objects merge key by key, lists are atomic.
    Unknown,
}

/// The key of a list item: its key fields, as an object. A key field the
/// item leaves out takes its schema default (a port's `protocol` is TCP),
/// as upstream's structured merge does.
fn item_key(item: &Value, keys: &[&str], item_type: Option<&TypeDef>) -> Map<String, Value> {
    keys.iter()
        .filter_map(|k| {
            let v = item
                .get(*k)
                .cloned()
                .or_else(|| item_type.and_then(|t| crate::patch::schema::key_default(t.name, k)))?;
            Some(((*k).to_owned(), v))
        })
        .collect()
}

/// Whether two list items have the same key ([`item_key`] of both,
/// compared without building either).
fn same_item(a: &Value, b: &Value, keys: &[&str], item_type: Option<&TypeDef>) -> bool {
    keys.iter().all(|k| match (a.get(*k), b.get(*k)) {
        (Some(x), Some(y)) => x == y,
        (None, None) => true,
        (x, y) => {
            let default = item_type.and_then(|t| crate::patch::schema::key_default(t.name, k));
            x.or(default.as_ref()) == y.or(default.as_ref())
        }
    })
}

/// The top-level members a part covers.
fn in_part(key: &str, part: Part) -> bool {
    match (key, part) {
        ("apiVersion" | "kind", _) => false,
        ("status", Part::Main) => false,
        ("metadata", Part::Status) => true,
        (_, Part::Status) => key == "status",
        _ => true,
    }
}

/// Top-level walk: the part's fields, without server-owned metadata.
fn root_entries(obj: &Value, part: Part) -> Vec<(&String, &Value)> {
    obj.as_object()
        .map(|m| m.iter().filter(|(k, _)| in_part(k, part)).collect())
        .unwrap_or_default()
}

fn metadata_view(meta: &Value) -> Value {
    let mut m = meta.as_object().cloned().unwrap_or_default();
    m.retain(|k, _| !SERVER_METADATA.contains(&k.as_str()));
    Value::Object(m)
}

/// How a field set is read off a value.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// The fields a write sets: a granular map is itself a member (the
    /// `"."` upstream records when an update creates the map).
    Written,
    /// The fields an apply configuration names (upstream's `ToFieldSet`):
    /// a non-empty map is only its entries.
    Applied,
}

/// The fields a creation or update sets in `obj`.
pub fn fields_of(obj: &Value, schema: Option<&'static TypeDef>, part: Part) -> FieldSet {
    fields_in(obj, schema, part, Mode::Written)
}

/// The fields an apply configuration names.
pub fn applied_fields(obj: &Value, schema: Option<&'static TypeDef>, part: Part) -> FieldSet {
    fields_in(obj, schema, part, Mode::Applied)
}

fn fields_in(obj: &Value, schema: Option<&'static TypeDef>, part: Part, mode: Mode) -> FieldSet {
    let mut set = FieldSet::new();
    for (k, v) in root_entries(obj, part) {
        let sub = if k == "metadata" {
            let view = metadata_view(v);
            if view.as_object().is_none_or(Map::is_empty) {
                continue;
            }
            let meta_schema =
                crate::patch::schema::lookup("apimachinery::pkg::apis::meta::v1::ObjectMeta");
            walk(&view, FieldShape::Struct(meta_schema), mode)
        } else {
            walk(v, shape_of(schema, None, k), mode)
        };
        set.children.insert(fieldset::field(k), sub);
    }
    set.prune();
    set
}

fn walk(v: &Value, shape: FieldShape, mode: Mode) -> FieldSet {
    let leaf = FieldSet {
        member: true,
        ..Default::default()
    };
    match (v, shape) {
        (Value::Object(m), FieldShape::Struct(t)) => {
            if m.is_empty() {
                return leaf;
            }
            let mut set = FieldSet::new();
            for (k, c) in m {
                set.children
                    .insert(fieldset::field(k), walk(c, shape_of(t, None, k), mode));
            }
            set
        }
        (Value::Object(m), FieldShape::Unknown) => {
            if m.is_empty() {
                return leaf;
            }
            let mut set = FieldSet::new();
            for (k, c) in m {
                set.children
                    .insert(fieldset::field(k), walk(c, FieldShape::Unknown, mode));
            }
            set
        }
        (Value::Object(m), FieldShape::Map(t)) => {
            let mut set = FieldSet {
                member: mode == Mode::Written || m.is_empty(),
                ..Default::default()
            };
            for (k, c) in m {
                let inner = match t {
                    Some(t) => FieldShape::Struct(Some(t)),
                    None => FieldShape::Scalar,
                };
                set.children
                    .insert(fieldset::field(k), walk(c, inner, mode));
            }
            set
        }
        (Value::Array(items), FieldShape::ListMap(keys, t)) => {
            let mut set = FieldSet::new();
            for item in items {
                let mut node = match item {
                    Value::Object(m) => {
                        let mut s = FieldSet::new();
                        for (k, c) in m {
                            s.children
                                .insert(fieldset::field(k), walk(c, shape_of(t, None, k), mode));
                        }
                        s
                    }
                    _ => FieldSet::new(),
                };
                node.member = true;
                set.children
                    .insert(fieldset::key(&item_key(item, keys, t)), node);
            }
            if items.is_empty() {
                set.member = true;
            }
            set
        }
        (Value::Array(items), FieldShape::ListSet) => {
            let mut set = FieldSet::new();
            for item in items {
                set.children.insert(
                    fieldset::value(item),
                    FieldSet {
                        member: true,
                        ..Default::default()
                    },
                );
            }
            if items.is_empty() {
                set.member = true;
            }
            set
        }
        _ => leaf,
    }
}

/// The fields whose value differs between `old` and `new` (added or
/// changed in `new`), and those present in `old` but gone from `new`.
///
/// One walk over both values side by side, guided by the type table (this
/// runs on every write, so it never looks a path up from the root).
pub fn changed_fields(
    old: &Value,
    new: &Value,
    schema: Option<&'static TypeDef>,
    part: Part,
) -> (FieldSet, FieldSet) {
    let mut changed = FieldSet::new();
    let mut removed = FieldSet::new();
    let empty = Map::new();
    let old_map = old.as_object().unwrap_or(&empty);
    let new_map = new.as_object().unwrap_or(&empty);
    let meta_schema = crate::patch::schema::lookup("apimachinery::pkg::apis::meta::v1::ObjectMeta");
    for (k, v) in new_map.iter().filter(|(k, _)| in_part(k, part)) {
        if old_map.get(k) == Some(v) {
            continue;
        }
        let el = fieldset::field(k);
        if k == "metadata" {
            diff_metadata(old_map.get(k), v, meta_schema, &mut changed, &mut removed);
        } else {
            diff(
                old_map.get(k),
                v,
                shape_of(schema, None, k),
                changed.child(&el),
                removed.child(&el),
            );
        }
    }
    for (k, v) in old_map.iter().filter(|(k, _)| in_part(k, part)) {
        if !new_map.contains_key(k) {
            let gone = if k == "metadata" {
                walk(
                    &metadata_view(v),
                    FieldShape::Struct(meta_schema),
                    Mode::Written,
                )
            } else {
                walk(v, shape_of(schema, None, k), Mode::Written)
            };
            removed.child(&fieldset::field(k)).union(&gone);
        }
    }
    changed.prune();
    removed.prune();
    (changed, removed)
}

/// `metadata`, without the fields the server owns.
fn diff_metadata(
    old: Option<&Value>,
    new: &Value,
    meta: Option<&'static TypeDef>,
    changed: &mut FieldSet,
    removed: &mut FieldSet,
) {
    let user = |k: &String| !SERVER_METADATA.contains(&k.as_str());
    let empty = Map::new();
    let old_map = old.and_then(Value::as_object).unwrap_or(&empty);
    let new_map = new.as_object().unwrap_or(&empty);
    let el = fieldset::field("metadata");
    for (k, v) in new_map.iter().filter(|(k, _)| user(k)) {
        if old_map.get(k) == Some(v) {
            continue;
        }
        let f = fieldset::field(k);
        diff(
            old_map.get(k),
            v,
            shape_of(meta, None, k),
            changed.child(&el).child(&f),
            removed.child(&el).child(&f),
        );
    }
    for (k, v) in old_map.iter().filter(|(k, _)| user(k)) {
        if !new_map.contains_key(k) {
            let gone = walk(v, shape_of(meta, None, k), Mode::Written);
            removed.child(&el).child(&fieldset::field(k)).union(&gone);
        }
    }
}

/// Compare one field's old and new values: the changed fields go to
/// `ch`, the removed ones to `rm` (both the nodes for this field's path).
/// The rules are those of reading both values as field sets: a member
/// with children (a list item, a map) changes only by appearing, a leaf
/// by its value.
fn diff(old: Option<&Value>, new: &Value, shape: FieldShape, ch: &mut FieldSet, rm: &mut FieldSet) {
    let leaf_changed = |ch: &mut FieldSet| {
        if old != Some(new) {
            ch.member = true;
        }
    };
    match (new, shape) {
        (Value::Object(m), FieldShape::Struct(_) | FieldShape::Unknown | FieldShape::Map(_)) => {
            let is_map = matches!(shape, FieldShape::Map(_));
            let old_obj = old.and_then(Value::as_object);
            if m.is_empty() {
                leaf_changed(ch);
            } else {
                if is_map && old.is_none() {
                    ch.member = true;
                }
                // An old empty struct was a leaf; it is gone as such.
                if !is_map && old_obj.is_some_and(Map::is_empty) {
                    rm.member = true;
                }
                for (k, v) in m {
                    let old_v = old_obj.and_then(|o| o.get(k));
                    if old_v == Some(v) {
                        continue;
                    }
                    let inner = child_shape(shape, k);
                    let el = fieldset::field(k);
                    diff(old_v, v, inner, ch.child(&el), rm.child(&el));
                }
            }
            if let Some(o) = old_obj {
                for (k, ov) in o {
                    if !m.contains_key(k) {
                        let inner = child_shape(shape, k);
                        rm.child(&fieldset::field(k))
                            .union(&walk(ov, inner, Mode::Written));
                    }
                }
            }
        }
        (Value::Array(items), FieldShape::ListMap(keys, t)) => {
            let old_items: &[Value] = old.and_then(Value::as_array).map_or(&[], Vec::as_slice);
            if items.is_empty() {
                leaf_changed(ch);
            } else if old.and_then(Value::as_array).is_some_and(Vec::is_empty) {
                rm.member = true;
            }
            // Old items matched by key (all of them, should keys repeat).
            let mut seen = vec![false; old_items.len()];
            for item in items {
                let mut old_item = None;
                for (i, o) in old_items.iter().enumerate() {
                    if same_item(o, item, keys, t) {
                        seen[i] = true;
                        old_item = old_item.or(Some(o));
                    }
                }
                if old_item == Some(item) {
                    continue;
                }
                let el = fieldset::key(&item_key(item, keys, t));
                let (ich, irm) = (ch.child(&el), rm.child(&el));
                match item {
                    Value::Object(fields) if !fields.is_empty() => {
                        if old_item.is_none() {
                            ich.member = true;
                        }
                        let old_fields = old_item.and_then(Value::as_object);
                        for (k, v) in fields {
                            let old_v = old_fields.and_then(|o| o.get(k));
                            if old_v == Some(v) {
                                continue;
                            }
                            let f = fieldset::field(k);
                            diff(old_v, v, shape_of(t, None, k), ich.child(&f), irm.child(&f));
                        }
                        for (k, ov) in old_fields.into_iter().flatten() {
                            if !fields.contains_key(k) {
                                irm.child(&fieldset::field(k)).union(&walk(
                                    ov,
                                    shape_of(t, None, k),
                                    Mode::Written,
                                ));
                            }
                        }
                    }
                    _ => {
                        if old_item != Some(item) {
                            ich.member = true;
                        }
                    }
                }
            }
            for (ov, _) in old_items.iter().zip(&seen).filter(|(_, seen)| !**seen) {
                let mut gone = walk(ov, FieldShape::Struct(t), Mode::Written);
                gone.member = true;
                rm.child(&fieldset::key(&item_key(ov, keys, t)))
                    .union(&gone);
            }
        }
        (Value::Array(items), FieldShape::ListSet) => {
            let old_items = old.and_then(Value::as_array);
            if items.is_empty() {
                leaf_changed(ch);
            } else if old_items.is_some_and(Vec::is_empty) {
                rm.member = true;
            }
            for v in items {
                if !old_items.is_some_and(|o| o.contains(v)) {
                    ch.child(&fieldset::value(v)).member = true;
                }
            }
            for ov in old_items.into_iter().flatten() {
                if !items.contains(ov) {
                    rm.child(&fieldset::value(ov)).member = true;
                }
            }
        }
        _ => {
            leaf_changed(ch);
            // Structure the old value had below this leaf is gone.
            if let Some(o) = old {
                let mut gone = walk(o, shape, Mode::Written);
                if !gone.children.is_empty() {
                    gone.member = false;
                    rm.union(&gone);
                }
            }
        }
    }
}

/// Whether a list item has the key fields of a `k:` path element. A key
/// field the item leaves out matches (it takes its default).
fn key_matches(item: &Value, keys: &Map<String, Value>) -> bool {
    keys.iter()
        .all(|(k, want)| item.get(k).is_none_or(|v| v == want))
        && keys.keys().any(|k| item.get(k).is_some())
}

/// Upstream's printed form of a field path: `.spec.containers[name="web"].image`.
pub fn path_string(path: &[String]) -> String {
    let mut s = String::new();
    for el in path {
        if let Some(name) = el.strip_prefix("f:") {
            s.push('.');
            s.push_str(name);
        } else if let Some(k) = el.strip_prefix("k:") {
            let keys: Map<String, Value> = serde_json::from_str(k).unwrap_or_default();
            let parts: Vec<String> = keys.iter().map(|(kk, kv)| format!("{kk}={kv}")).collect();
            s.push_str(&format!("[{}]", parts.join(",")));
        } else if let Some(v) = el.strip_prefix("v:") {
            s.push_str(&format!("[={v}]"));
        } else if let Some(i) = el.strip_prefix("i:") {
            s.push_str(&format!("[{i}]"));
        }
    }
    s
}

/// Merge an apply configuration into the live object (server-side apply's
/// merge): maps and structs key by key, keyed lists by key, sets by value,
/// atomic values replaced.
pub fn merge(live: &Value, applied: &Value, schema: Option<&'static TypeDef>) -> Value {
    let mut out = live.clone();
    merge_into(&mut out, applied, FieldShape::Struct(schema));
    out
}

/// Merge `applied` into `live` in place.
fn merge_into(live: &mut Value, applied: &Value, shape: FieldShape) {
    match (&mut *live, applied, shape) {
        (_, Value::Null, _) => {}
        (
            Value::Object(l),
            Value::Object(a),
            FieldShape::Struct(_) | FieldShape::Unknown | FieldShape::Map(_),
        ) => {
            for (k, av) in a {
                let inner = child_shape(shape, k);
                match l.get_mut(k) {
                    Some(lv) => merge_into(lv, av, inner),
                    None => {
                        l.insert(k.clone(), strip_nulls(av));
                    }
                }
            }
        }
        (Value::Array(l), Value::Array(a), FieldShape::ListMap(keys, t)) => {
            for item in a {
                match l.iter_mut().find(|o| same_item(o, item, keys, t)) {
                    Some(existing) => merge_into(existing, item, FieldShape::Struct(t)),
                    None => l.push(strip_nulls(item)),
                }
            }
        }
        (Value::Array(l), Value::Array(a), FieldShape::ListSet) => {
            for item in a {
                if !l.contains(item) {
                    l.push(item.clone());
                }
            }
        }
        _ => *live = strip_nulls(applied),
    }
}

fn strip_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), strip_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(strip_nulls).collect()),
        other => other.clone(),
    }
}

/// Remove the fields of `set` from `obj`. A list or map emptied by the
/// removal goes too, as upstream's structured merge leaves no empty
/// containers behind.
pub fn remove_fields(obj: &mut Value, set: &FieldSet) {
    for path in set.paths() {
        remove_path(obj, &path);
    }
}

/// Remove one path; true if something was removed.
fn remove_path(v: &mut Value, path: &[String]) -> bool {
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    if rest.is_empty() {
        if let Some(name) = first.strip_prefix("f:") {
            return v.as_object_mut().and_then(|m| m.remove(name)).is_some();
        } else if let Some(k) = first.strip_prefix("k:") {
            let keys: Map<String, Value> = serde_json::from_str(k).unwrap_or_default();
            if let Some(a) = v.as_array_mut() {
                let before = a.len();
                a.retain(|item| !key_matches(item, &keys));
                return a.len() != before;
            }
        } else if let Some(val) = first.strip_prefix("v:")
            && let (Ok(want), Some(a)) = (serde_json::from_str::<Value>(val), v.as_array_mut())
        {
            let before = a.len();
            a.retain(|item| *item != want);
            return a.len() != before;
        }
        return false;
    }
    if let Some(name) = first.strip_prefix("f:") {
        let Some(m) = v.as_object_mut() else {
            return false;
        };
        let Some(child) = m.get_mut(name) else {
            return false;
        };
        let removed = remove_path(child, rest);
        if removed && is_empty_container(child) {
            m.remove(name);
        }
        removed
    } else if let Some(k) = first.strip_prefix("k:") {
        let keys: Map<String, Value> = serde_json::from_str(k).unwrap_or_default();
        v.as_array_mut()
            .and_then(|a| a.iter_mut().find(|item| key_matches(item, &keys)))
            .is_some_and(|item| remove_path(item, rest))
    } else {
        false
    }
}

fn is_empty_container(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// Take `metadata.managedFields` out of an object. Typed decoding,
/// defaulting and validation never need it, and decoding it copies every
/// `fieldsV1` tree: writes set it aside and put it back with
/// [`restore_managed_fields`].
pub fn take_managed_fields(obj: &mut Value) -> Option<Value> {
    obj.get_mut("metadata")?
        .as_object_mut()?
        .remove("managedFields")
}

/// Put back what [`take_managed_fields`] took.
pub fn restore_managed_fields(obj: &mut Value, managed: Option<Value>) {
    if let (Some(list), Some(meta)) = (
        managed,
        obj.get_mut("metadata").and_then(Value::as_object_mut),
    ) {
        meta.insert("managedFields".into(), list);
    }
}

/// Paths of the keys of `managedFields` entries that the entry type does
/// not know (`metadata.managedFields[0].foo`). Entries are flat, so this
/// needs no typed decoding (`fieldsV1` is free-form).
pub fn unknown_entry_fields(list: &Value) -> Vec<String> {
    const KNOWN: &[&str] = &[
        "manager",
        "operation",
        "apiVersion",
        "time",
        "fieldsType",
        "fieldsV1",
        "subresource",
    ];
    let mut unknown = Vec::new();
    for (i, entry) in list.as_array().into_iter().flatten().enumerate() {
        for key in entry.as_object().into_iter().flat_map(|m| m.keys()) {
            if !KNOWN.contains(&key.as_str()) {
                unknown.push(format!("metadata.managedFields[{i}].{key}"));
            }
        }
    }
    unknown
}

/// One `managedFields` entry, parsed.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The manager.
    pub manager: String,
    /// `Apply` or `Update`.
    pub operation: String,
    /// The apiVersion.
    pub api_version: String,
    /// When.
    pub time: Value,
    /// The subresource, if any.
    pub subresource: Option<String>,
    /// The fields owned.
    pub fields: FieldSet,
    /// `fieldsV1` as read, kept while `fields` is unchanged so that it is
    /// written back as it was instead of encoded again.
    encoded: Option<Value>,
}

impl Entry {
    fn same_owner(&self, m: &Manager) -> bool {
        self.manager == m.name && self.operation == m.operation && self.subresource == m.subresource
    }

    /// Replace the fields owned (forgetting the encoded form if they
    /// differ).
    fn set_fields(&mut self, fields: FieldSet) {
        if self.fields != fields {
            self.fields = fields;
            self.encoded = None;
        }
    }

    /// These fields and no others (empty subtrees pruned).
    fn keep_only(&mut self, mut fields: FieldSet) {
        fields.prune();
        self.set_fields(fields);
    }
}

/// The managedFields of an object.
pub fn entries(obj: &Value) -> Vec<Entry> {
    obj["metadata"]["managedFields"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| {
                    let fields_v1 = e.get("fieldsV1").unwrap_or(&Value::Null);
                    Some(Entry {
                        manager: e.get("manager")?.as_str()?.to_owned(),
                        operation: e
                            .get("operation")
                            .and_then(Value::as_str)
                            .unwrap_or("Update")
                            .to_owned(),
                        api_version: e
                            .get("apiVersion")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_owned(),
                        time: e.get("time").cloned().unwrap_or(Value::Null),
                        subresource: e
                            .get("subresource")
                            .and_then(Value::as_str)
                            .map(str::to_owned),
                        fields: FieldSet::from_fields_v1(fields_v1),
                        encoded: fields_v1.is_object().then(|| fields_v1.clone()),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Take the managedFields out of an object, parsed; their `fieldsV1`
/// trees move into the entries instead of being copied.
fn take_entries(obj: &mut Value) -> Vec<Entry> {
    let Some(Value::Array(list)) = take_managed_fields(obj) else {
        return Vec::new();
    };
    list.into_iter()
        .filter_map(|e| {
            let Value::Object(mut e) = e else {
                return None;
            };
            let text = |e: &Map<String, Value>, k: &str| {
                e.get(k).and_then(Value::as_str).map(str::to_owned)
            };
            let fields_v1 = e.remove("fieldsV1").unwrap_or(Value::Null);
            Some(Entry {
                manager: text(&e, "manager")?,
                operation: text(&e, "operation").unwrap_or_else(|| "Update".to_owned()),
                api_version: text(&e, "apiVersion").unwrap_or_default(),
                subresource: text(&e, "subresource"),
                time: e.remove("time").unwrap_or(Value::Null),
                fields: FieldSet::from_fields_v1(&fields_v1),
                encoded: fields_v1.is_object().then_some(fields_v1),
            })
        })
        .collect()
}

/// Write entries back as `metadata.managedFields` (empty ones dropped).
pub fn set_entries(obj: &mut Value, entries: Vec<Entry>) {
    let list: Vec<Value> = entries
        .into_iter()
        .filter(|e| !e.fields.is_empty())
        .map(|e| {
            let fields_v1 = match e.encoded {
                Some(v) => v,
                None => e.fields.to_fields_v1(),
            };
            // Built by moves: `json!` would copy fieldsV1 through serde.
            let mut v = Map::new();
            v.insert("manager".into(), Value::String(e.manager));
            v.insert("operation".into(), Value::String(e.operation));
            v.insert("apiVersion".into(), Value::String(e.api_version));
            v.insert("time".into(), e.time);
            v.insert("fieldsType".into(), Value::from("FieldsV1"));
            v.insert("fieldsV1".into(), fields_v1);
            if let Some(s) = e.subresource {
                v.insert("subresource".into(), Value::String(s));
            }
            Value::Object(v)
        })
        .collect();
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        if list.is_empty() {
            meta.remove("managedFields");
        } else {
            meta.insert("managedFields".into(), Value::Array(list));
        }
    }
}

fn take_ownership(
    entries: &mut Vec<Entry>,
    manager: &Manager,
    fields: &FieldSet,
    replace: bool,
    object_changed: bool,
) {
    match entries.iter_mut().find(|e| e.same_owner(manager)) {
        // An apply that changes nothing keeps its entry as it was, so that
        // the object is unchanged and not written again.
        Some(e)
            if replace
                && e.fields == *fields
                && e.api_version == manager.api_version
                && !object_changed => {}
        Some(e) => {
            if replace {
                e.set_fields(fields.clone());
            } else {
                let mut all = e.fields.clone();
                all.union(fields);
                e.set_fields(all);
            }
            e.api_version = manager.api_version.clone();
            e.time = Value::from(manager.time.clone());
        }
        None => entries.push(Entry {
            manager: manager.name.clone(),
            operation: manager.operation.to_owned(),
            api_version: manager.api_version.clone(),
            time: Value::from(manager.time.clone()),
            subresource: manager.subresource.clone(),
            fields: fields.clone(),
            encoded: None,
        }),
    }
}

/// Record a non-apply write from `old` (None: a creation) to `new`: the
/// manager takes the fields it set or changed from whoever owned them;
/// fields it removed leave every set.
pub fn record_update(
    old: Option<&Value>,
    new: &mut Value,
    manager: &Manager,
    schema: Option<&'static TypeDef>,
    part: Part,
) {
    let mut list = match old {
        Some(old) => {
            // A client that rewrote managedFields itself (kubectl's upgrade
            // from client-side apply does) is taken at its word.
            // (Unchanged, they are the same as the old ones.)
            if new["metadata"]["managedFields"].is_array() {
                take_entries(new)
            } else {
                entries(old)
            }
        }
        None => Vec::new(),
    };
    let (changed, removed) = match old {
        Some(old) => changed_fields(old, new, schema, part),
        None => (fields_of(new, schema, part), FieldSet::new()),
    };
    for e in list.iter_mut() {
        let mut fields = e.fields.difference(&removed);
        if !e.same_owner(manager) {
            fields = fields.difference(&changed);
        }
        e.keep_only(fields);
    }
    if !changed.is_empty() {
        take_ownership(&mut list, manager, &changed, false, true);
    }
    set_entries(new, list);
}

/// Server-side apply of `applied` by `manager` onto `live` (None: create).
/// Returns the new object with its managedFields, or the conflicts.
pub fn apply(
    live: Option<&Value>,
    applied: &Value,
    manager: &Manager,
    force: bool,
    schema: Option<&'static TypeDef>,
    part: Part,
) -> Result<Value, Vec<Conflict>> {
    let applied_set = applied_fields(applied, schema, part);
    let Some(live) = live else {
        let mut obj = strip_nulls(applied);
        let mut list = Vec::new();
        take_ownership(&mut list, manager, &applied_set, true, true);
        set_entries(&mut obj, list);
        return Ok(obj);
    };
    let mut merged = merge(live, applied, schema);
    let mut list = if merged["metadata"]["managedFields"] == live["metadata"]["managedFields"] {
        take_entries(&mut merged)
    } else {
        entries(live)
    };
    let previous = list
        .iter()
        .find(|e| e.same_owner(manager))
        .map(|e| e.fields.clone())
        .unwrap_or_default();

    // Fields this manager applied before and no longer does, and nobody
    // else owns, go away.
    let dropped = previous.difference(&applied_set);
    if !dropped.is_empty() {
        let mut kept = applied_set.clone();
        for e in list.iter().filter(|e| !e.same_owner(manager)) {
            kept.union(&e.fields);
        }
        // A dropped container whose contents someone still owns stays (as
        // upstream adds owned items back after pruning).
        for path in dropped.difference(&kept).paths() {
            if !kept.has_below(&path) {
                remove_path(&mut merged, &path);
            }
        }
    }

    // A change to a field another manager owns is a conflict.
    let (changed, removed) = changed_fields(live, &merged, schema, part);
    let mut touched = changed;
    touched.union(&removed);
    let mut conflicts = Vec::new();
    for e in list.iter().filter(|e| !e.same_owner(manager)) {
        for path in e.fields.intersection(&touched).paths() {
            conflicts.push(Conflict {
                manager: e.manager.clone(),
                operation: e.operation.clone(),
                subresource: e.subresource.clone(),
                api_version: e.api_version.clone(),
                field: path_string(&path),
                path,
            });
        }
    }
    if !conflicts.is_empty() && !force {
        return Err(conflicts);
    }
    // Forced (or no conflicts): the applier owns what it applied; others
    // lose the fields it changed.
    for e in list.iter_mut().filter(|e| !e.same_owner(manager)) {
        e.keep_only(e.fields.difference(&touched));
    }
    take_ownership(&mut list, manager, &applied_set, true, !touched.is_empty());
    set_entries(&mut merged, list);
    Ok(merged)
}

impl Conflict {
    /// The other manager as upstream names it: `"kubectl" with subresource
    /// "scale" using apps/v1`; appliers have no version.
    pub fn who(&self) -> String {
        let mut who = format!("{:?}", self.manager);
        if let Some(sub) = &self.subresource {
            who.push_str(&format!(" with subresource {sub:?}"));
        }
        if self.operation != "Apply" {
            who.push_str(&format!(" using {}", self.api_version));
        }
        who
    }
}

/// Upstream's message for apply conflicts.
pub fn conflict_message(conflicts: &[Conflict]) -> String {
    let mut by_manager: Vec<(String, Vec<String>)> = Vec::new();
    for c in conflicts {
        let who = c.who();
        match by_manager.iter_mut().find(|(m, _)| *m == who) {
            Some((_, fields)) => fields.push(c.field.clone()),
            None => by_manager.push((who, vec![c.field.clone()])),
        }
    }
    let n = conflicts.len();
    let mut msg = format!(
        "Apply failed with {n} conflict{}: ",
        if n == 1 { "" } else { "s" }
    );
    let parts: Vec<String> = by_manager
        .iter()
        .map(|(who, fields)| {
            if fields.len() == 1 {
                format!("conflict with {who}: {}", fields[0])
            } else {
                format!("conflicts with {who}:\n- {}", fields.join("\n- "))
            }
        })
        .collect();
    msg.push_str(&parts.join("\n"));
    msg
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patch::schema::for_kind;
    use serde_json::json;

    fn mgr(name: &str, op: &'static str) -> Manager {
        Manager {
            name: name.into(),
            operation: op,
            api_version: "apps/v1".into(),
            time: "2026-01-01T00:00:00Z".into(),
            subresource: None,
        }
    }

    fn deploy(replicas: i64, image: &str) -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "web", "image": image}]}}}
        })
    }

    fn schema() -> Option<&'static TypeDef> {
        for_kind("apps", "v1", "Deployment")
    }

    #[test]
    fn fields_of_a_deployment_read_as_upstream_writes_them() {
        let set = fields_of(&deploy(2, "nginx"), schema(), Part::Main);
        let wire = set.to_fields_v1();
        assert_eq!(
            wire["f:metadata"]["f:labels"],
            json!({".": {}, "f:app": {}})
        );
        assert_eq!(wire["f:spec"]["f:replicas"], json!({}));
        let c = &wire["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"web\"}"];
        assert_eq!(*c, json!({".": {}, "f:image": {}, "f:name": {}}));
        assert!(wire.get("f:apiVersion").is_none() && wire["f:metadata"].get("f:name").is_none());
    }

    #[test]
    fn apply_creates_then_conflicts_with_another_manager() {
        let created = apply(
            None,
            &deploy(2, "nginx"),
            &mgr("alice", "Apply"),
            false,
            schema(),
            Part::Main,
        )
        .unwrap();
        assert_eq!(created["metadata"]["managedFields"][0]["manager"], "alice");
        // Bob changes replicas with an update: he now owns it.
        let mut scaled = created.clone();
        scaled["spec"]["replicas"] = json!(5);
        record_update(
            Some(&created),
            &mut scaled,
            &mgr("bob", "Update"),
            schema(),
            Part::Main,
        );
        let e = entries(&scaled);
        assert!(
            e.iter().any(|e| e.manager == "bob"
                && e.fields.contains(&["f:spec".into(), "f:replicas".into()]))
        );
        assert!(
            !e.iter().any(|e| e.manager == "alice"
                && e.fields.contains(&["f:spec".into(), "f:replicas".into()]))
        );
        // Alice re-applies replicas 2: conflict with bob.
        let err = apply(
            Some(&scaled),
            &deploy(2, "nginx"),
            &mgr("alice", "Apply"),
            false,
            schema(),
            Part::Main,
        )
        .unwrap_err();
        assert_eq!(err.len(), 1);
        assert_eq!(
            (err[0].manager.as_str(), err[0].field.as_str()),
            ("bob", ".spec.replicas")
        );
        assert_eq!(
            conflict_message(&err),
            "Apply failed with 1 conflict: conflict with \"bob\" using apps/v1: .spec.replicas"
        );
        // Forced: alice wins and owns it again.
        let forced = apply(
            Some(&scaled),
            &deploy(2, "nginx"),
            &mgr("alice", "Apply"),
            true,
            schema(),
            Part::Main,
        )
        .unwrap();
        assert_eq!(forced["spec"]["replicas"], 2);
        assert!(!entries(&forced).iter().any(|e| e.manager == "bob"));
        // Applying the same value another manager set is not a conflict.
        let same = apply(
            Some(&scaled),
            &deploy(5, "nginx"),
            &mgr("alice", "Apply"),
            false,
            schema(),
            Part::Main,
        )
        .unwrap();
        assert_eq!(same["spec"]["replicas"], 5);
    }

    #[test]
    fn fields_no_longer_applied_are_removed() {
        let mut first = deploy(2, "nginx");
        first["metadata"]["labels"]["extra"] = json!("yes");
        let created = apply(
            None,
            &first,
            &mgr("alice", "Apply"),
            false,
            schema(),
            Part::Main,
        )
        .unwrap();
        let again = apply(
            Some(&created),
            &deploy(2, "nginx"),
            &mgr("alice", "Apply"),
            false,
            schema(),
            Part::Main,
        )
        .unwrap();
        assert_eq!(again["metadata"]["labels"], json!({"app": "web"}));
    }

    #[test]
    fn containers_merge_by_name() {
        let created = apply(
            None,
            &deploy(2, "nginx"),
            &mgr("alice", "Apply"),
            false,
            schema(),
            Part::Main,
        )
        .unwrap();
        let mut sidecar = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"template": {"spec": {"containers": [{"name": "side", "image": "busybox"}]}}}});
        let merged = apply(
            Some(&created),
            &sidecar,
            &mgr("bob", "Apply"),
            false,
            schema(),
            Part::Main,
        )
        .unwrap();
        let names: Vec<_> = merged["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].clone())
            .collect();
        assert_eq!(names, [json!("web"), json!("side")]);
        sidecar["spec"]["template"]["spec"]["containers"][0]["name"] = json!("web");
        sidecar["spec"]["template"]["spec"]["containers"][0]["image"] = json!("other");
        let err = apply(
            Some(&merged),
            &sidecar,
            &mgr("bob", "Apply"),
            false,
            schema(),
            Part::Main,
        )
        .unwrap_err();
        assert_eq!(
            err[0].field,
            ".spec.template.spec.containers[name=\"web\"].image"
        );
    }

    /// The first, path-by-path reading of `changed_fields`, kept as the
    /// oracle the single-walk version is checked against.
    fn changed_fields_by_paths(
        old: &Value,
        new: &Value,
        schema: Option<&'static TypeDef>,
        part: Part,
    ) -> (FieldSet, FieldSet) {
        fn collect(
            set: &FieldSet,
            prefix: &mut Vec<String>,
            old: &Value,
            new: &Value,
            out: &mut FieldSet,
        ) {
            if set.member {
                let differs = if set.children.is_empty() {
                    value_at(old, prefix) != value_at(new, prefix)
                } else {
                    value_at(old, prefix).is_none()
                };
                if differs {
                    out.insert(prefix);
                }
            }
            for (k, c) in &set.children {
                prefix.push(k.clone());
                collect(c, prefix, old, new, out);
                prefix.pop();
            }
        }
        let old_set = fields_of(old, schema, part);
        let new_set = fields_of(new, schema, part);
        let mut changed = FieldSet::new();
        collect(&new_set, &mut Vec::new(), old, new, &mut changed);
        (changed, old_set.difference(&new_set))
    }

    /// The value at a field path (None if absent).
    fn value_at<'a>(obj: &'a Value, path: &[String]) -> Option<&'a Value> {
        let mut cur = obj;
        for el in path {
            cur = step(cur, el)?;
        }
        Some(cur)
    }

    fn step<'a>(v: &'a Value, el: &str) -> Option<&'a Value> {
        if let Some(name) = el.strip_prefix("f:") {
            return v.as_object()?.get(name);
        }
        if let Some(k) = el.strip_prefix("k:") {
            let keys: Map<String, Value> = serde_json::from_str(k).ok()?;
            return v.as_array()?.iter().find(|item| key_matches(item, &keys));
        }
        if let Some(val) = el.strip_prefix("v:") {
            let want: Value = serde_json::from_str(val).ok()?;
            return v.as_array()?.iter().find(|item| **item == want);
        }
        if let Some(i) = el.strip_prefix("i:") {
            return v.as_array()?.get(i.parse::<usize>().ok()?);
        }
        None
    }

    #[test]
    fn single_walk_diff_agrees_with_the_path_reading() {
        let base = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "d", "labels": {"app": "web", "tier": "f"}, "annotations": {"a": "1"}},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
                    {"name": "web", "image": "nginx", "ports": [{"containerPort": 80, "protocol": "TCP"}],
                     "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
                    {"name": "side", "image": "busybox", "args": ["a", "b"]}
                ], "volumes": [], "nodeSelector": {}}}}
        });
        type Edit = Box<dyn Fn(&mut Value)>;
        let variants: Vec<Edit> = vec![
            Box::new(|_| {}),
            Box::new(|d| d["spec"]["replicas"] = json!(3)),
            Box::new(|d| d["metadata"]["labels"]["new"] = json!("x")),
            Box::new(|d| {
                d["metadata"]["labels"]
                    .as_object_mut()
                    .unwrap()
                    .remove("tier");
            }),
            Box::new(|d| {
                d["metadata"].as_object_mut().unwrap().remove("annotations");
            }),
            Box::new(|d| {
                d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:2")
            }),
            Box::new(|d| {
                d["spec"]["template"]["spec"]["containers"][0]["env"][1]["value"] = json!("3")
            }),
            Box::new(|d| {
                d["spec"]["template"]["spec"]["containers"][0]["env"]
                    .as_array_mut()
                    .unwrap()
                    .remove(0);
            }),
            Box::new(|d| {
                d["spec"]["template"]["spec"]["containers"]
                    .as_array_mut()
                    .unwrap()
                    .remove(1);
            }),
            Box::new(|d| {
                d["spec"]["template"]["spec"]["containers"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"name": "third", "image": "x"}))
            }),
            Box::new(|d| d["spec"]["template"]["spec"]["containers"][1]["args"] = json!(["c"])),
            Box::new(|d| {
                d["spec"]["template"]["spec"]["volumes"] = json!([{"name": "v", "emptyDir": {}}])
            }),
            Box::new(|d| d["spec"]["template"]["spec"]["nodeSelector"] = json!({"disk": "ssd"})),
            Box::new(|d| d["spec"]["template"]["spec"]["containers"][0]["ports"] = json!([])),
            Box::new(|d| {
                d["spec"].as_object_mut().unwrap().remove("template");
            }),
            Box::new(|d| d["spec"]["selector"] = json!({"matchLabels": {"app": "other"}})),
            Box::new(|d| d["spec"]["strategy"] = json!({"type": "Recreate"})),
        ];
        let schema = schema();
        for (i, a) in variants.iter().enumerate() {
            for (j, b) in variants.iter().enumerate() {
                let (mut old, mut new) = (base.clone(), base.clone());
                a(&mut old);
                b(&mut new);
                assert_eq!(
                    changed_fields(&old, &new, schema, Part::Main),
                    changed_fields_by_paths(&old, &new, schema, Part::Main),
                    "variants {i} -> {j}"
                );
            }
        }
    }
}

//! The checks upstream applies to a CRD version's `openAPIV3Schema` when
//! the CRD is created or updated (`validateCustomResourceDefinitionValidation`
//! with the options of a new v1 CRD):
//!
//! - `nullable` at the root;
//! - `NewStructural` (unsupported fields), then `ValidateStructural`
//!   (structural invariants and completeness, sorted by message) or, if
//!   structural, `ValidateDefaults` (defaults validate and are pruned);
//! - `ValidateCustomResourceDefinitionOpenAPISchema` (supported keywords,
//!   `additionalProperties` vs `properties`, `x-kubernetes-*`
//!   consistency, list-map keys).
//!
//! CEL (`x-kubernetes-validations` rules) is not compiled; the rules are
//! only forbidden where structural schemas forbid them.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    JSONSchemaProps, JSONSchemaPropsOrArray, JSONSchemaPropsOrBool,
};

use super::MAX_DEPTH;
use super::gofmt::{self, quote};
use super::schema::Node;
use super::{pattern, prune, validate};
use crate::validation::{Errors, FieldError, Path, go};

type P = JSONSchemaProps;

const META_FIELDS: &[&str] = &["apiVersion", "kind", "metadata"];
const OPENAPI_TYPES: &[&str] = &["array", "boolean", "integer", "number", "object", "string"];

fn ty(p: &P) -> &str {
    p.type_.as_deref().unwrap_or("")
}

fn items_schema(p: &P) -> Option<&P> {
    match &p.items {
        Some(JSONSchemaPropsOrArray::Schema(s)) => Some(s),
        _ => None,
    }
}

fn additional_schema(p: &P) -> Option<&P> {
    match &p.additional_properties {
        Some(JSONSchemaPropsOrBool::Schema(s)) => Some(s),
        _ => None,
    }
}

fn properties(p: &P) -> impl Iterator<Item = (&String, &P)> {
    p.properties.iter().flatten()
}

fn has_properties(p: &P) -> bool {
    p.properties.as_ref().is_some_and(|m| !m.is_empty())
}

fn flag(b: Option<bool>) -> bool {
    b == Some(true)
}

/// The full check; see the module documentation.
pub(crate) fn check(p: &P, base: &Path, node: &Node) -> Vec<FieldError> {
    let mut errs = Errors::default();
    if flag(p.nullable) {
        errs.forbidden(
            &base.child("nullable"),
            "nullable cannot be true at the root",
        );
    }
    let init = new_structural(p, 0).err();
    if init.is_none() {
        let mut s = Errors::default();
        invariants(p, Level::Root, base, &mut s, 0);
        completeness(p, Some(p), base, base, &mut s, 0);
        if !s.is_empty() {
            let mut list = s.0;
            list.sort_by_key(|e| e.to_string());
            errs.0.extend(list);
        } else {
            defaults(node, base, false, true, &mut errs, 0);
        }
    }
    openapi_schema(p, base, &Ssv::root(), true, &mut errs, 0);
    if errs.is_empty()
        && let Some(msg) = init
    {
        errs.invalid_raw(base, "\"\"", msg);
    }
    errs.0
}

// --- NewStructural ---

fn unsupported(p: &P) -> Result<(), String> {
    let set = |s: &Option<String>| s.as_deref().is_some_and(|s| !s.is_empty());
    if set(&p.id) {
        return Err("OpenAPIV3Schema 'id' is not supported".into());
    }
    if set(&p.schema) {
        return Err("OpenAPIV3Schema 'schema' is not supported".into());
    }
    if set(&p.ref_path) {
        return Err("OpenAPIV3Schema '$ref' is not supported".into());
    }
    if p.pattern_properties.as_ref().is_some_and(|m| !m.is_empty()) {
        return Err("OpenAPIV3Schema 'patternProperties' is not supported".into());
    }
    if p.dependencies.as_ref().is_some_and(|m| !m.is_empty()) {
        return Err("OpenAPIV3Schema 'dependencies' is not supported".into());
    }
    if p.additional_items.is_some() {
        return Err("OpenAPIV3Schema 'additionalItems' is not supported".into());
    }
    if p.definitions.as_ref().is_some_and(|m| !m.is_empty()) {
        return Err("OpenAPIV3Schema 'definitions' is not supported".into());
    }
    Ok(())
}

/// Whether upstream can convert the schema to a structural one; the error
/// is the first reason it cannot.
fn new_structural(p: &P, depth: usize) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Ok(());
    }
    unsupported(p)?;
    for junctor in p.not.iter().map(|b| &**b).chain(
        p.all_of
            .iter()
            .flatten()
            .chain(p.any_of.iter().flatten())
            .chain(p.one_of.iter().flatten()),
    ) {
        new_structural(junctor, depth + 1)?;
    }
    if let Some(a) = additional_schema(p) {
        new_structural(a, depth + 1)?;
    }
    if p.x_kubernetes_preserve_unknown_fields == Some(false) {
        return Err(
            "internal error: 'x-kubernetes-preserve-unknown-fields' must be true or undefined"
                .into(),
        );
    }
    match &p.items {
        Some(JSONSchemaPropsOrArray::Schemas(s)) if !s.is_empty() => {
            return Err("OpenAPIV3Schema 'items' must be a schema, but is an array".into());
        }
        Some(JSONSchemaPropsOrArray::Schema(s)) => new_structural(s, depth + 1)?,
        _ => {}
    }
    for (_, sub) in properties(p) {
        new_structural(sub, depth + 1)?;
    }
    Ok(())
}

// --- ValidateStructural: invariants ---

#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Root,
    Item,
    Field,
}

/// A schema with nothing but `type: <t>` (the int-or-string branches).
fn only_type(p: &P, t: &str) -> bool {
    let mut q = normalized(p);
    q.example = None;
    q.external_docs = None;
    q == P {
        type_: Some(t.to_owned()),
        ..P::default()
    }
}

fn int_or_string_any_of(any_of: &Option<Vec<P>>) -> bool {
    match any_of.as_deref() {
        Some([a, b]) => only_type(a, "integer") && only_type(b, "string"),
        _ => false,
    }
}

/// Empty collections and `false` flags as Go's zero values.
fn normalized(p: &P) -> P {
    fn b(x: Option<bool>) -> Option<bool> {
        x.filter(|x| *x)
    }
    fn v<T: Clone>(x: &Option<Vec<T>>) -> Option<Vec<T>> {
        x.clone().filter(|x| !x.is_empty())
    }
    let mut q = p.clone();
    q.exclusive_maximum = b(q.exclusive_maximum);
    q.exclusive_minimum = b(q.exclusive_minimum);
    q.unique_items = b(q.unique_items);
    q.nullable = b(q.nullable);
    q.x_kubernetes_embedded_resource = b(q.x_kubernetes_embedded_resource);
    q.x_kubernetes_int_or_string = b(q.x_kubernetes_int_or_string);
    q.required = v(&p.required);
    q.enum_ = v(&p.enum_);
    q.all_of = v(&p.all_of);
    q.any_of = v(&p.any_of);
    q.one_of = v(&p.one_of);
    q.x_kubernetes_list_map_keys = v(&p.x_kubernetes_list_map_keys);
    q.x_kubernetes_validations = v(&p.x_kubernetes_validations);
    q.properties = p.properties.clone().filter(|m| !m.is_empty());
    q.format = p.format.clone().filter(|s| !s.is_empty());
    q.pattern = p.pattern.clone().filter(|s| !s.is_empty());
    q.title = p.title.clone().filter(|s| !s.is_empty());
    q.description = p.description.clone().filter(|s| !s.is_empty());
    q.type_ = p.type_.clone().filter(|s| !s.is_empty());
    q.default = p.default.clone().filter(|d| !d.0.is_null());
    q
}

fn invariants(p: &P, lvl: Level, path: &Path, errs: &mut Errors, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    let t = ty(p);
    let preserve = flag(p.x_kubernetes_preserve_unknown_fields);
    let embedded = flag(p.x_kubernetes_embedded_resource);
    let int_or_string = flag(p.x_kubernetes_int_or_string);
    let items = items_schema(p);
    if t == "array" && items.is_none() {
        errs.required(&path.child("items"), "must be specified");
    }
    if let Some(items) = items {
        invariants(items, Level::Item, &path.child("items"), errs, depth + 1);
    }
    for (k, sub) in properties(p) {
        invariants(
            sub,
            Level::Field,
            &path.child("properties").key(k),
            errs,
            depth + 1,
        );
    }
    if p.additional_properties.is_some() {
        if lvl == Level::Root {
            errs.forbidden(
                &path.child("additionalProperties"),
                "must not be used at the root",
            );
        }
        if let Some(a) = additional_schema(p) {
            invariants(
                a,
                Level::Field,
                &path.child("additionalProperties"),
                errs,
                depth + 1,
            );
        }
    }
    if int_or_string && preserve {
        errs.invalid_raw(
            &path.child("x-kubernetes-preserve-unknown-fields"),
            "true",
            "must be false if x-kubernetes-int-or-string is true",
        );
    }
    if int_or_string && embedded {
        errs.invalid_raw(
            &path.child("x-kubernetes-embedded-resource"),
            "true",
            "must be false if x-kubernetes-int-or-string is true",
        );
    }
    let skip_any_of = int_or_string_any_of(&p.any_of);
    let skip_first_all_of_any_of = p
        .all_of
        .as_deref()
        .and_then(|a| a.first())
        .is_some_and(|first| int_or_string_any_of(&first.any_of));
    value_validation(p, skip_any_of, skip_first_all_of_any_of, path, errs, depth);

    let check_metadata = lvl == Level::Root || embedded;
    if embedded && t != "object" {
        let msg = "must be object if x-kubernetes-embedded-resource is true";
        if t.is_empty() {
            errs.required(&path.child("type"), msg);
        } else {
            errs.invalid_raw(&path.child("type"), quote(t), msg);
        }
    } else if t.is_empty() && !int_or_string && !preserve {
        let msg = match lvl {
            Level::Root => "must not be empty at the root",
            Level::Item => "must not be empty for specified array items",
            Level::Field => "must not be empty for specified object fields",
        };
        errs.required(&path.child("type"), msg);
    }
    if embedded && p.additional_properties.is_some() {
        errs.forbidden(
            &path.child("additionalProperties"),
            "must not be used if x-kubernetes-embedded-resource is set",
        );
    }
    if lvl == Level::Root && !t.is_empty() && t != "object" {
        errs.invalid_raw(&path.child("type"), quote(t), "must be object at the root");
    }
    let props = p.properties.as_ref();
    for name in ["kind", "apiVersion"] {
        if let Some(sub) = props.and_then(|m| m.get(name))
            && check_metadata
            && ty(sub) != "string"
        {
            errs.invalid_raw(
                &path.child("properties").key(name).child("type"),
                quote(ty(sub)),
                "must be string",
            );
        }
    }
    if let Some(meta) = props.and_then(|m| m.get("metadata")) {
        metadata_invariants(
            meta,
            check_metadata,
            lvl,
            &path.child("properties").key("metadata"),
            errs,
        );
    }
    if embedded && !preserve && !has_properties(p) {
        errs.required(
            &path.child("properties"),
            "must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields",
        );
    }
}

fn metadata_invariants(m: &P, check_metadata: bool, lvl: Level, path: &Path, errs: &mut Errors) {
    if check_metadata && ty(m) != "object" {
        errs.invalid_raw(&path.child("type"), quote(ty(m)), "must be object");
    }
    if lvl == Level::Root {
        let mut q = normalized(m);
        if let Some(props) = &q.properties {
            let name = props.contains_key("name");
            let generate = props.contains_key("generateName");
            if (name && generate && props.len() == 2) || ((name || generate) && props.len() == 1) {
                q.properties = None;
            }
        }
        q.type_ = None;
        q.default = None;
        q.example = None;
        q.external_docs = None;
        if q != P::default() {
            errs.forbidden(
                path,
                "must not specify anything other than name and generateName, but metadata is implicitly specified",
            );
        }
    }
}

fn value_validation(
    p: &P,
    skip_any_of: bool,
    skip_first_all_of_any_of: bool,
    path: &Path,
    errs: &mut Errors,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        return;
    }
    if !skip_any_of {
        for (i, a) in p.any_of.iter().flatten().enumerate() {
            nested(a, false, &path.child("anyOf").index(i), errs, depth + 1);
        }
    }
    for (i, a) in p.all_of.iter().flatten().enumerate() {
        let skip = skip_first_all_of_any_of && i == 0;
        nested(a, skip, &path.child("allOf").index(i), errs, depth + 1);
    }
    for (i, a) in p.one_of.iter().flatten().enumerate() {
        nested(a, false, &path.child("oneOf").index(i), errs, depth + 1);
    }
    if let Some(not) = &p.not {
        nested(not, false, &path.child("not"), errs, depth + 1);
    }
    if let Some(pat) = p.pattern.as_deref().filter(|s| !s.is_empty())
        && let Err(e) = pattern::compile(pat)
    {
        errs.invalid_raw(
            &path.child("pattern"),
            quote(pat),
            format!("must be a valid regular expression, but isn't: {e}"),
        );
    }
}

/// A schema below `allOf`/`anyOf`/`oneOf`/`not`: value validations only.
fn nested(v: &P, skip_any_of: bool, path: &Path, errs: &mut Errors, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    value_validation(v, skip_any_of, false, path, errs, depth);
    if let Some(items) = items_schema(v) {
        nested(items, false, &path.child("items"), errs, depth + 1);
    }
    for (k, sub) in properties(v) {
        nested(
            sub,
            false,
            &path.child("properties").key(k),
            errs,
            depth + 1,
        );
    }
    let forbid = |errs: &mut Errors, name: &str, msg: &str| errs.forbidden(&path.child(name), msg);
    if !ty(v).is_empty() {
        forbid(errs, "type", "must be empty to be structural");
    }
    if v.additional_properties.is_some() {
        forbid(
            errs,
            "additionalProperties",
            "must be undefined to be structural",
        );
    }
    if v.default.as_ref().is_some_and(|d| !d.0.is_null()) {
        forbid(errs, "default", "must be undefined to be structural");
    }
    if v.title.as_deref().is_some_and(|s| !s.is_empty()) {
        forbid(errs, "title", "must be empty to be structural");
    }
    if v.description.as_deref().is_some_and(|s| !s.is_empty()) {
        forbid(errs, "description", "must be empty to be structural");
    }
    if flag(v.nullable) {
        forbid(errs, "nullable", "must be false to be structural");
    }
    if flag(v.x_kubernetes_preserve_unknown_fields) {
        forbid(
            errs,
            "x-kubernetes-preserve-unknown-fields",
            "must be false to be structural",
        );
    }
    if flag(v.x_kubernetes_embedded_resource) {
        forbid(
            errs,
            "x-kubernetes-embedded-resource",
            "must be false to be structural",
        );
    }
    if flag(v.x_kubernetes_int_or_string) {
        forbid(
            errs,
            "x-kubernetes-int-or-string",
            "must be false to be structural",
        );
    }
    if v.x_kubernetes_list_map_keys
        .as_ref()
        .is_some_and(|k| !k.is_empty())
    {
        forbid(
            errs,
            "x-kubernetes-list-map-keys",
            "must be empty to be structural",
        );
    }
    if v.x_kubernetes_list_type.is_some() {
        forbid(
            errs,
            "x-kubernetes-list-type",
            "must be undefined to be structural",
        );
    }
    if v.x_kubernetes_map_type.is_some() {
        forbid(
            errs,
            "x-kubernetes-map-type",
            "must be undefined to be structural",
        );
    }
    if v.x_kubernetes_validations
        .as_ref()
        .is_some_and(|r| !r.is_empty())
    {
        forbid(
            errs,
            "x-kubernetes-validations",
            "must be empty to be structural",
        );
    }
    if v.properties
        .as_ref()
        .is_some_and(|m| m.contains_key("metadata"))
    {
        errs.forbidden(
            &path.child("properties").key("metadata"),
            "must not be specified in a nested context",
        );
    }
}

// --- ValidateStructural: completeness ---

/// Every field or item a value validation speaks of must be specified
/// outside of value validations.
fn completeness(
    v: &P,
    s: Option<&P>,
    s_path: &Path,
    v_path: &Path,
    errs: &mut Errors,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        return;
    }
    if s.is_none() {
        errs.required(s_path, format!("because it is defined in {v_path}"));
        return;
    }
    let junctors = v
        .not
        .iter()
        .map(|n| (&**n, v_path.child("not")))
        .chain(
            v.all_of
                .iter()
                .flatten()
                .enumerate()
                .map(|(i, a)| (a, v_path.child("allOf").index(i))),
        )
        .chain(
            v.any_of
                .iter()
                .flatten()
                .enumerate()
                .map(|(i, a)| (a, v_path.child("anyOf").index(i))),
        )
        .chain(
            v.one_of
                .iter()
                .flatten()
                .enumerate()
                .map(|(i, a)| (a, v_path.child("oneOf").index(i))),
        );
    for (junctor, jpath) in junctors {
        nested_completeness(junctor, s, s_path, &jpath, errs, depth + 1);
    }
}

fn nested_completeness(
    v: &P,
    s: Option<&P>,
    s_path: &Path,
    v_path: &Path,
    errs: &mut Errors,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        return;
    }
    let Some(s) = s else {
        errs.required(s_path, format!("because it is defined in {v_path}"));
        return;
    };
    completeness(v, Some(s), s_path, v_path, errs, depth + 1);
    if let Some(vi) = items_schema(v) {
        nested_completeness(
            vi,
            items_schema(s),
            &s_path.child("items"),
            &v_path.child("items"),
            errs,
            depth + 1,
        );
    }
    for (k, vf) in properties(v) {
        let sp = s_path.child("properties").key(k);
        let vp = v_path.child("properties").key(k);
        match s.properties.as_ref().and_then(|m| m.get(k)) {
            Some(sf) => nested_completeness(vf, Some(sf), &sp, &vp, errs, depth + 1),
            None => errs.required(&sp, format!("because it is defined in {vp}")),
        }
    }
}

// --- ValidateDefaults ---

/// Defaults must validate against their schema, carry no unknown fields,
/// and give embedded resources a valid `apiVersion`, `kind` and
/// `metadata`. Defaults inside `additionalProperties` are not followed.
fn defaults(
    node: &Node,
    path: &Path,
    inside_meta: bool,
    is_root: bool,
    errs: &mut Errors,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        return;
    }
    let embedded = node.embedded || is_root;
    let inside_meta = inside_meta && !embedded;
    if let Some(d) = &node.default {
        let dp = path.child("default");
        if inside_meta {
            errs.0.extend(validate::openapi(node, d, &dp));
        } else {
            let mut pruned = d.clone();
            prune::prune(&mut pruned, node, embedded);
            if !gofmt::deep_equal(&pruned, d) {
                errs.invalid_raw(&dp, gofmt::bad_value(d), "must not have unknown fields");
            }
            let mut meta = Vec::new();
            validate::embedded(node, d, &dp, embedded, &mut meta);
            if meta.is_empty() {
                errs.0.extend(validate::openapi(node, d, &dp));
            } else {
                errs.0.extend(meta);
            }
        }
    }
    if let Some(items) = &node.items {
        defaults(
            items,
            &path.child("items"),
            inside_meta,
            false,
            errs,
            depth + 1,
        );
    }
    for (k, sub) in &node.properties {
        let sub_inside = inside_meta || (embedded && META_FIELDS.contains(&k.as_str()));
        defaults(
            sub,
            &path.child("properties").key(k),
            sub_inside,
            false,
            errs,
            depth + 1,
        );
    }
}

// --- ValidateCustomResourceDefinitionOpenAPISchema ---

/// `specStandardValidatorV3` state.
#[derive(Clone)]
struct Ssv {
    allow_defaults: bool,
    disallow_reason: String,
    inside_meta: bool,
}

impl Ssv {
    fn root() -> Ssv {
        Ssv {
            allow_defaults: true,
            disallow_reason: String::new(),
            inside_meta: false,
        }
    }

    fn forbid_defaults(&self, reason: String) -> Ssv {
        Ssv {
            allow_defaults: false,
            disallow_reason: reason,
            ..self.clone()
        }
    }

    fn validate(&self, p: &P, path: &Path, errs: &mut Errors) {
        let t = ty(p);
        if !t.is_empty() && !OPENAPI_TYPES.contains(&t) {
            errs.not_supported_raw(&path.child("type"), quote(t), OPENAPI_TYPES);
        }
        if p.default.is_some() && !self.allow_defaults {
            let mut detail = "must not be set".to_owned();
            if !self.disallow_reason.is_empty() {
                detail.push(' ');
                detail.push_str(&self.disallow_reason);
            }
            errs.forbidden(&path.child("default"), detail);
        }
        if p.id.as_deref().is_some_and(|s| !s.is_empty()) {
            errs.forbidden(&path.child("id"), "id is not supported");
        }
        if p.additional_items.is_some() {
            errs.forbidden(
                &path.child("additionalItems"),
                "additionalItems is not supported",
            );
        }
        if p.pattern_properties.as_ref().is_some_and(|m| !m.is_empty()) {
            errs.forbidden(
                &path.child("patternProperties"),
                "patternProperties is not supported",
            );
        }
        if p.definitions.as_ref().is_some_and(|m| !m.is_empty()) {
            errs.forbidden(&path.child("definitions"), "definitions is not supported");
        }
        if p.dependencies.is_some() {
            errs.forbidden(&path.child("dependencies"), "dependencies is not supported");
        }
        if p.ref_path.is_some() {
            errs.forbidden(&path.child("$ref"), "$ref is not supported");
        }
        if t == "null" {
            errs.forbidden(
                &path.child("type"),
                "type cannot be set to null, use nullable as an alternative",
            );
        }
        if matches!(&p.items, Some(JSONSchemaPropsOrArray::Schemas(s)) if !s.is_empty()) {
            errs.forbidden(
                &path.child("items"),
                "items must be a schema object and not an array",
            );
        }
        if self.inside_meta && flag(p.x_kubernetes_embedded_resource) {
            errs.forbidden(
                &path.child("x-kubernetes-embedded-resource"),
                "must not be used inside of resource meta",
            );
        }
    }
}

fn openapi_schema(p: &P, path: &Path, ssv: &Ssv, is_root: bool, errs: &mut Errors, depth: usize) {
    if depth > MAX_DEPTH {
        errs.forbidden(
            path,
            format!("must not be nested more than {MAX_DEPTH} levels deep"),
        );
        return;
    }
    ssv.validate(p, path, errs);
    if flag(p.unique_items) {
        errs.forbidden(
            &path.child("uniqueItems"),
            "uniqueItems cannot be set to true since the runtime complexity becomes quadratic",
        );
    }
    if let Some(a) = &p.additional_properties {
        let (allows, schema) = match a {
            JSONSchemaPropsOrBool::Bool(b) => (*b, None),
            JSONSchemaPropsOrBool::Schema(s) => (true, Some(&**s)),
        };
        if has_properties(p) && (!allows || schema.is_some()) {
            errs.forbidden(
                &path.child("additionalProperties"),
                "additionalProperties and properties are mutual exclusive",
            );
        }
        if let Some(schema) = schema {
            let sub = if ssv.inside_meta {
                ssv.forbid_defaults(
                    "inside additionalProperties applying to object metadata".into(),
                )
            } else {
                ssv.clone()
            };
            openapi_schema(
                schema,
                &path.child("additionalProperties"),
                &sub,
                false,
                errs,
                depth + 1,
            );
        }
    }
    let embedded = flag(p.x_kubernetes_embedded_resource);
    for (k, sub_schema) in properties(p) {
        let mut sub = ssv.clone();
        if (is_root || embedded) && META_FIELDS.contains(&k.as_str()) {
            sub.inside_meta = true;
            if is_root {
                sub = sub.forbid_defaults(format!("in top-level {k}"));
            }
        }
        openapi_schema(
            sub_schema,
            &path.child("properties").key(k),
            &sub,
            false,
            errs,
            depth + 1,
        );
    }
    if let Some(not) = &p.not {
        openapi_schema(not, &path.child("not"), ssv, false, errs, depth + 1);
    }
    for (name, list) in [
        ("allOf", &p.all_of),
        ("oneOf", &p.one_of),
        ("anyOf", &p.any_of),
    ] {
        for (i, sub) in list.iter().flatten().enumerate() {
            openapi_schema(sub, &path.child(name).index(i), ssv, false, errs, depth + 1);
        }
    }
    for (k, sub) in p.definitions.iter().flatten() {
        openapi_schema(
            sub,
            &path.child("definitions").key(k),
            ssv,
            false,
            errs,
            depth + 1,
        );
    }
    match &p.items {
        Some(JSONSchemaPropsOrArray::Schema(s)) => {
            openapi_schema(s, &path.child("items"), ssv, false, errs, depth + 1)
        }
        Some(JSONSchemaPropsOrArray::Schemas(list)) => {
            for (i, s) in list.iter().enumerate() {
                openapi_schema(
                    s,
                    &path.child("items").index(i),
                    ssv,
                    false,
                    errs,
                    depth + 1,
                );
            }
        }
        None => {}
    }
    for (k, dep) in p.dependencies.iter().flatten() {
        if let k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::JSONSchemaPropsOrStringArray::Schema(s) = dep {
            openapi_schema(s, &path.child("dependencies").key(k), ssv, false, errs, depth + 1);
        }
    }
    extensions(p, path, errs);
}

fn extensions(p: &P, path: &Path, errs: &mut Errors) {
    let t = ty(p);
    if p.x_kubernetes_preserve_unknown_fields == Some(false) {
        errs.invalid_raw(
            &path.child("x-kubernetes-preserve-unknown-fields"),
            "false",
            "must be true or undefined",
        );
    }
    if let Some(map_type) = &p.x_kubernetes_map_type {
        if t != "object" {
            let msg = "must be object if x-kubernetes-map-type is specified";
            if t.is_empty() {
                errs.required(&path.child("type"), msg);
            } else {
                errs.invalid_raw(&path.child("type"), quote(t), msg);
            }
        }
        if map_type != "atomic" && map_type != "granular" {
            errs.not_supported_raw(
                &path.child("x-kubernetes-map-type"),
                quote(map_type),
                &["atomic", "granular"],
            );
        }
    }
    let list_type = p.x_kubernetes_list_type.as_deref();
    if list_type.is_some() && t != "array" {
        let msg = "must be array if x-kubernetes-list-type is specified";
        if t.is_empty() {
            errs.required(&path.child("type"), msg);
        } else {
            errs.invalid_raw(&path.child("type"), quote(t), msg);
        }
    } else if list_type == Some("set")
        && let Some(is) = items_schema(p)
    {
        let msg = "must be atomic as item of a list with x-kubernetes-list-type=set";
        let shown = |x: &Option<String>| x.as_deref().map_or("null".to_owned(), quote);
        match ty(is) {
            "array"
                if is
                    .x_kubernetes_list_type
                    .as_deref()
                    .is_some_and(|l| l != "atomic") =>
            {
                errs.invalid_raw(
                    &path.child("items").child("x-kubernetes-list-type"),
                    shown(&is.x_kubernetes_list_type),
                    msg,
                );
            }
            "object" if is.x_kubernetes_map_type.as_deref() != Some("atomic") => {
                // Upstream shows the items' list type here.
                errs.invalid_raw(
                    &path.child("items").child("x-kubernetes-map-type"),
                    shown(&is.x_kubernetes_list_type),
                    msg,
                );
            }
            _ => {}
        }
    }
    if let Some(l) = list_type
        && !matches!(l, "atomic" | "set" | "map")
    {
        errs.not_supported_raw(
            &path.child("x-kubernetes-list-type"),
            quote(l),
            &["atomic", "set", "map"],
        );
    }
    let keys = p.x_kubernetes_list_map_keys.as_deref().unwrap_or_default();
    if !keys.is_empty() {
        let msg = "must be map if x-kubernetes-list-map-keys is non-empty";
        match list_type {
            None => errs.required(&path.child("x-kubernetes-list-type"), msg),
            Some("map") => {}
            Some(l) => errs.invalid_raw(&path.child("x-kubernetes-list-type"), quote(l), msg),
        }
    }
    if list_type == Some("map") {
        list_map(p, keys, path, errs);
    }
    map_list_keys_map_set(p, path, errs);
}

fn list_map(p: &P, keys: &[String], path: &Path, errs: &mut Errors) {
    if keys.is_empty() {
        errs.required(
            &path.child("x-kubernetes-list-map-keys"),
            "must not be empty if x-kubernetes-list-type is map",
        );
    }
    match &p.items {
        None => errs.required(
            &path.child("items"),
            "must have a schema if x-kubernetes-list-type is map",
        ),
        Some(JSONSchemaPropsOrArray::Schemas(_)) => errs.invalid_raw(
            &path.child("items"),
            "apiextensions.JSONSchemaPropsOrArray{Schema:(*apiextensions.JSONSchemaProps)(nil), JSONSchemas:[]apiextensions.JSONSchemaProps{...}}",
            "must only have a single schema if x-kubernetes-list-type is map",
        ),
        Some(JSONSchemaPropsOrArray::Schema(is)) => {
            if ty(is) != "object" {
                errs.invalid_raw(
                    &path.child("items").child("type"),
                    quote(ty(is)),
                    "must be object if parent array's x-kubernetes-list-type is map",
                );
                return;
            }
            let shown_keys = go::string_slice(Some(keys));
            let mut seen: Vec<&str> = Vec::new();
            for k in keys {
                match is.properties.as_ref().and_then(|m| m.get(k)) {
                    Some(s) => {
                        if matches!(ty(s), "array" | "object") {
                            // Upstream shows the items' type here.
                            errs.invalid_raw(
                                &path.child("items").child("properties").key(k).child("type"),
                                quote(ty(is)),
                                "must be a scalar type if parent array's x-kubernetes-list-type is map",
                            );
                        }
                    }
                    None => errs.invalid_raw(
                        &path.child("x-kubernetes-list-map-keys"),
                        shown_keys.clone(),
                        "entries must all be names of item properties",
                    ),
                }
                if seen.contains(&k.as_str()) {
                    errs.invalid_raw(
                        &path.child("x-kubernetes-list-map-keys"),
                        shown_keys.clone(),
                        "must not contain duplicate entries",
                    );
                }
                seen.push(k);
            }
        }
    }
}

/// Items of `set` and `map` lists are not nullable; `map` keys are required
/// or defaulted, and not nullable.
fn map_list_keys_map_set(p: &P, path: &Path, errs: &mut Errors) {
    let Some(is) = items_schema(p) else {
        return;
    };
    let Some(lt @ ("set" | "map")) = p.x_kubernetes_list_type.as_deref() else {
        return;
    };
    if flag(is.nullable) {
        errs.forbidden(
            &path.child("items").child("nullable"),
            format!("cannot be nullable when x-kubernetes-list-type is {lt}"),
        );
    }
    if lt != "map" {
        return;
    }
    let required = is.required.as_deref().unwrap_or_default();
    for k in p.x_kubernetes_list_map_keys.iter().flatten() {
        let Some(s) = is.properties.as_ref().and_then(|m| m.get(k)) else {
            continue;
        };
        let kp = path.child("items").child("properties").key(k);
        if !required.contains(k) && s.default.is_none() {
            errs.required(
                &kp.child("default"),
                "this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property",
            );
        }
        if flag(s.nullable) {
            errs.forbidden(
                &kp.child("nullable"),
                "this property is in x-kubernetes-list-map-keys, so it cannot be nullable",
            );
        }
    }
}

/// The status-subresource restriction on the root schema: only these
/// keywords may be set there (and `type` only to `object`).
pub(crate) fn root_for_status(p: &P, base: &Path) -> Vec<FieldError> {
    const ALLOWED: &str = "[Description Type Format Title Maximum ExclusiveMaximum Minimum ExclusiveMinimum MaxLength MinLength Pattern MaxItems MinItems UniqueItems MultipleOf Required Items Properties ExternalDocs Example XPreserveUnknownFields XValidations]";
    let q = normalized(p);
    // Set fields in upstream's struct order, and whether each is allowed.
    let set: [(bool, bool); 44] = [
        (q.id.as_deref().is_some_and(|s| !s.is_empty()), false),
        (q.schema.as_deref().is_some_and(|s| !s.is_empty()), false),
        (q.ref_path.is_some(), false),
        (q.description.is_some(), true),
        (q.type_.is_some(), true),
        (q.format.is_some(), true),
        (q.title.is_some(), true),
        (q.default.is_some(), false),
        (q.maximum.is_some(), true),
        (q.exclusive_maximum.is_some(), true),
        (q.minimum.is_some(), true),
        (q.exclusive_minimum.is_some(), true),
        (q.max_length.is_some(), true),
        (q.min_length.is_some(), true),
        (q.pattern.is_some(), true),
        (q.max_items.is_some(), true),
        (q.min_items.is_some(), true),
        (q.unique_items.is_some(), true),
        (q.multiple_of.is_some(), true),
        (q.enum_.is_some(), false),
        (q.max_properties.is_some(), false),
        (q.min_properties.is_some(), false),
        (q.required.is_some(), true),
        (q.items.is_some(), true),
        (q.all_of.is_some(), false),
        (q.one_of.is_some(), false),
        (q.any_of.is_some(), false),
        (q.not.is_some(), false),
        (q.properties.is_some(), true),
        (q.additional_properties.is_some(), false),
        (
            q.pattern_properties.as_ref().is_some_and(|m| !m.is_empty()),
            false,
        ),
        (
            q.dependencies.as_ref().is_some_and(|m| !m.is_empty()),
            false,
        ),
        (q.additional_items.is_some(), false),
        (q.definitions.as_ref().is_some_and(|m| !m.is_empty()), false),
        (q.external_docs.is_some(), true),
        (q.example.is_some(), true),
        (q.nullable.is_some(), false),
        (q.x_kubernetes_preserve_unknown_fields.is_some(), true),
        (q.x_kubernetes_embedded_resource.is_some(), false),
        (q.x_kubernetes_int_or_string.is_some(), false),
        (q.x_kubernetes_list_map_keys.is_some(), false),
        (q.x_kubernetes_list_type.is_some(), false),
        (q.x_kubernetes_map_type.is_some(), false),
        (q.x_kubernetes_validations.is_some(), true),
    ];
    let mut errs = Errors::default();
    for (i, (is_set, allowed)) in set.into_iter().enumerate() {
        if !is_set {
            continue;
        }
        if i == 4 {
            if ty(p) != "object" {
                errs.invalid_raw(
                    &base.child("type"),
                    quote(ty(p)),
                    "only \"object\" is allowed as the type at the root of the schema if the status subresource is enabled",
                );
                break;
            }
            continue;
        }
        if !allowed {
            let shown = serde_json::to_value(p)
                .map(|v| gofmt::json(&v))
                .unwrap_or_default();
            errs.invalid_raw(
                base,
                format!("apiextensions.JSONSchemaProps{shown}"),
                format!(
                    "only {ALLOWED} fields are allowed at the root of the schema if the status subresource is enabled"
                ),
            );
            break;
        }
    }
    errs.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn errors(schema: Value) -> Vec<String> {
        let props: P = serde_json::from_value(schema).unwrap();
        let base = Path::new("spec.versions[0].schema.openAPIV3Schema");
        check(&props, &base, &Node::build(&props))
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    const B: &str = "spec.versions[0].schema.openAPIV3Schema";

    #[test]
    fn structural_schemas_pass() {
        assert!(
            errors(json!({"type": "object", "properties": {
                "metadata": {"type": "object", "properties": {"name": {"type": "string", "maxLength": 10}}},
                "spec": {"type": "object", "required": ["a"], "properties": {
                    "a": {"type": "string", "default": "x", "enum": ["x", "y"]},
                    "port": {"x-kubernetes-int-or-string": true,
                        "anyOf": [{"type": "integer"}, {"type": "string"}]},
                    "any": {"x-kubernetes-preserve-unknown-fields": true},
                    "list": {"type": "array", "x-kubernetes-list-type": "map",
                        "x-kubernetes-list-map-keys": ["name"],
                        "items": {"type": "object", "required": ["name"],
                            "properties": {"name": {"type": "string"}}}},
                }, "anyOf": [{"required": ["a"]}, {"properties": {"a": {"minLength": 1}}}]},
            }}))
            .is_empty()
        );
    }

    #[test]
    fn types_are_required() {
        assert_eq!(
            errors(json!({"type": "object", "properties": {
                "spec": {"properties": {"a": {}, "l": {"type": "array", "items": {}}}}}})),
            [
                format!(
                    "{B}.properties[spec].properties[a].type: Required value: must not be empty for specified object fields"
                ),
                format!(
                    "{B}.properties[spec].properties[l].items.type: Required value: must not be empty for specified array items"
                ),
                format!(
                    "{B}.properties[spec].type: Required value: must not be empty for specified object fields"
                ),
            ]
        );
        assert_eq!(
            errors(json!({"properties": {}})),
            [format!(
                "{B}.type: Required value: must not be empty at the root"
            )]
        );
        assert_eq!(
            errors(json!({"type": "string"})),
            [format!(
                r#"{B}.type: Invalid value: "string": must be object at the root"#
            )]
        );
        assert_eq!(
            errors(json!({"type": "object", "properties": {"l": {"type": "array"}}})),
            [format!(
                "{B}.properties[l].items: Required value: must be specified"
            )]
        );
    }

    #[test]
    fn properties_and_additional_properties_exclude_each_other() {
        assert_eq!(
            errors(
                json!({"type": "object", "properties": {"s": {"type": "object",
                "properties": {"a": {"type": "string"}},
                "additionalProperties": {"type": "string"}}}})
            ),
            [format!(
                "{B}.properties[s].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive"
            )]
        );
        assert_eq!(
            errors(json!({"type": "object", "additionalProperties": {"type": "string"}})),
            [format!(
                "{B}.additionalProperties: Forbidden: must not be used at the root"
            )]
        );
    }

    #[test]
    fn value_validations_may_not_change_structure() {
        assert_eq!(
            errors(
                json!({"type": "object", "properties": {"s": {"type": "object",
                "properties": {"a": {"type": "string"}},
                "anyOf": [{"type": "object", "description": "d", "properties": {"b": {"minLength": 1}}}]}}})
            ),
            [
                format!(
                    "{B}.properties[s].anyOf[0].description: Forbidden: must be empty to be structural"
                ),
                format!(
                    "{B}.properties[s].anyOf[0].type: Forbidden: must be empty to be structural"
                ),
            ]
        );
        assert_eq!(
            errors(
                json!({"type": "object", "properties": {"a": {"type": "string"}},
                "anyOf": [{"properties": {"b": {"minLength": 1}, "metadata": {}}}]})
            ),
            [
                format!(
                    "{B}.anyOf[0].properties[metadata]: Forbidden: must not be specified in a nested context"
                ),
                format!(
                    "{B}.properties[b]: Required value: because it is defined in {B}.anyOf[0].properties[b]"
                ),
                format!(
                    "{B}.properties[metadata]: Required value: because it is defined in {B}.anyOf[0].properties[metadata]"
                ),
            ]
        );
        assert_eq!(
            errors(
                json!({"type": "object", "properties": {"p": {"type": "string",
                "x-kubernetes-int-or-string": true}}})
            ),
            Vec::<String>::new()
        );
        assert_eq!(
            errors(
                json!({"type": "object", "properties": {"p": {"type": "string",
                "anyOf": [{"type": "integer"}, {"type": "string", "maxLength": 3}]}}})
            ),
            [
                format!(
                    "{B}.properties[p].anyOf[0].type: Forbidden: must be empty to be structural"
                ),
                format!(
                    "{B}.properties[p].anyOf[1].type: Forbidden: must be empty to be structural"
                )
            ]
        );
    }

    #[test]
    fn metadata_at_the_root() {
        assert_eq!(
            errors(
                json!({"type": "object", "properties": {"metadata": {"type": "object",
                "properties": {"labels": {"type": "object"}}}}})
            ),
            [format!(
                "{B}.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified"
            )]
        );
        assert_eq!(
            errors(
                json!({"type": "object", "properties": {"kind": {"type": "integer"},
                "metadata": {"type": "string"}}})
            ),
            [
                format!(r#"{B}.properties[kind].type: Invalid value: "integer": must be string"#),
                format!(
                    r#"{B}.properties[metadata].type: Invalid value: "string": must be object"#
                ),
            ]
        );
        assert_eq!(
            errors(
                json!({"type": "object", "properties": {"metadata": {"type": "object",
                "default": {"name": "x"}}}})
            ),
            [format!(
                "{B}.properties[metadata].default: Forbidden: must not be set in top-level metadata"
            )]
        );
    }

    #[test]
    fn defaults_must_validate_and_be_pruned() {
        assert_eq!(
            errors(
                json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
                "replicas": {"type": "integer", "default": "one"},
                "obj": {"type": "object", "properties": {"a": {"type": "string"}},
                    "default": {"a": "x", "b": 1}}}}}})
            ),
            [
                format!(
                    r#"{B}.properties[spec].properties[obj].default: Invalid value: map[string]interface {{}}{{"a":"x", "b":1}}: must not have unknown fields"#
                ),
                format!(
                    r#"{B}.properties[spec].properties[replicas].default: Invalid value: "string":  in body must be of type integer: "string""#
                ),
            ]
        );
    }

    #[test]
    fn list_types() {
        assert_eq!(
            errors(json!({"type": "object", "properties": {
                "a": {"type": "string", "x-kubernetes-list-type": "set"},
                "b": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "bag"},
                "c": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-map-keys": ["x"]},
                "d": {"type": "array", "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": ["x", "y", "x"],
                    "items": {"type": "object", "properties": {"x": {"type": "object"}}}},
            }})),
            [
                format!(
                    r#"{B}.properties[a].type: Invalid value: "string": must be array if x-kubernetes-list-type is specified"#
                ),
                format!(
                    r#"{B}.properties[b].x-kubernetes-list-type: Unsupported value: "bag": supported values: "atomic", "set", "map""#
                ),
                format!(
                    "{B}.properties[c].x-kubernetes-list-type: Required value: must be map if x-kubernetes-list-map-keys is non-empty"
                ),
                format!(
                    r#"{B}.properties[d].items.properties[x].type: Invalid value: "object": must be a scalar type if parent array's x-kubernetes-list-type is map"#
                ),
                format!(
                    r#"{B}.properties[d].x-kubernetes-list-map-keys: Invalid value: []string{{"x", "y", "x"}}: entries must all be names of item properties"#
                ),
                format!(
                    r#"{B}.properties[d].items.properties[x].type: Invalid value: "object": must be a scalar type if parent array's x-kubernetes-list-type is map"#
                ),
                format!(
                    r#"{B}.properties[d].x-kubernetes-list-map-keys: Invalid value: []string{{"x", "y", "x"}}: must not contain duplicate entries"#
                ),
                format!(
                    "{B}.properties[d].items.properties[x].default: Required value: this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property"
                ),
                format!(
                    "{B}.properties[d].items.properties[x].default: Required value: this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property"
                ),
            ]
        );
    }

    #[test]
    fn unsupported_keywords() {
        // NewStructural fails on preserve-unknown-fields: false, so no
        // structural errors are reported, only the keyword checks.
        assert_eq!(
            errors(json!({"type": "object", "properties": {
                "a": {"type": "null"},
                "b": {"type": "string", "uniqueItems": true},
                "c": {"type": "object", "x-kubernetes-preserve-unknown-fields": false},
                "d": {"type": "string", "pattern": "(x"},
            }})),
            [
                format!(
                    r#"{B}.properties[a].type: Unsupported value: "null": supported values: "array", "boolean", "integer", "number", "object", "string""#
                ),
                format!(
                    "{B}.properties[a].type: Forbidden: type cannot be set to null, use nullable as an alternative"
                ),
                format!(
                    "{B}.properties[b].uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic"
                ),
                format!(
                    "{B}.properties[c].x-kubernetes-preserve-unknown-fields: Invalid value: false: must be true or undefined"
                ),
            ]
        );
        assert_eq!(
            errors(
                json!({"type": "object", "properties": {"d": {"type": "string", "pattern": "(x"}}})
            ),
            [format!(
                r#"{B}.properties[d].pattern: Invalid value: "(x": must be a valid regular expression, but isn't: error parsing regexp: missing closing ): `(x`"#
            )]
        );
        assert_eq!(
            errors(json!({"type": "object", "nullable": true})),
            [format!(
                "{B}.nullable: Forbidden: nullable cannot be true at the root"
            )]
        );
        assert_eq!(
            errors(json!({"type": "object", "$schema": "x"})),
            [format!(
                r#"{B}: Invalid value: "": OpenAPIV3Schema 'schema' is not supported"#
            )]
        );
    }

    #[test]
    fn embedded_resources() {
        assert_eq!(
            errors(json!({"type": "object", "properties": {
                "a": {"type": "string", "x-kubernetes-embedded-resource": true},
                "b": {"type": "object", "x-kubernetes-embedded-resource": true},
            }})),
            [
                format!(
                    "{B}.properties[a].properties: Required value: must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields"
                ),
                format!(
                    r#"{B}.properties[a].type: Invalid value: "string": must be object if x-kubernetes-embedded-resource is true"#
                ),
                format!(
                    "{B}.properties[b].properties: Required value: must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields"
                ),
            ]
        );
    }

    #[test]
    fn extensions_are_consistent() {
        assert_eq!(
            errors(json!({"type": "object", "properties": {
                "m": {"type": "string", "x-kubernetes-map-type": "weird"},
                "s": {"type": "array", "x-kubernetes-list-type": "set",
                    "items": {"type": "object", "properties": {"a": {"type": "string"}}}},
                "t": {"type": "array", "x-kubernetes-list-type": "set",
                    "items": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}}},
                "u": {"type": "array", "x-kubernetes-list-type": "map", "items": {"type": "string"}},
                "v": {"x-kubernetes-int-or-string": true, "x-kubernetes-preserve-unknown-fields": true,
                    "x-kubernetes-embedded-resource": true, "type": "object"},
            }})),
            [
                format!(
                    r#"{B}.properties[v].x-kubernetes-embedded-resource: Invalid value: true: must be false if x-kubernetes-int-or-string is true"#
                ),
                format!(
                    r#"{B}.properties[v].x-kubernetes-preserve-unknown-fields: Invalid value: true: must be false if x-kubernetes-int-or-string is true"#
                ),
                format!(
                    r#"{B}.properties[m].type: Invalid value: "string": must be object if x-kubernetes-map-type is specified"#
                ),
                format!(
                    r#"{B}.properties[m].x-kubernetes-map-type: Unsupported value: "weird": supported values: "atomic", "granular""#
                ),
                format!(
                    r#"{B}.properties[s].items.x-kubernetes-map-type: Invalid value: null: must be atomic as item of a list with x-kubernetes-list-type=set"#
                ),
                format!(
                    r#"{B}.properties[t].items.x-kubernetes-list-type: Invalid value: "set": must be atomic as item of a list with x-kubernetes-list-type=set"#
                ),
                format!(
                    "{B}.properties[u].x-kubernetes-list-map-keys: Required value: must not be empty if x-kubernetes-list-type is map"
                ),
                format!(
                    r#"{B}.properties[u].items.type: Invalid value: "string": must be object if parent array's x-kubernetes-list-type is map"#
                ),
            ]
        );
    }

    #[test]
    fn resource_meta_rules() {
        assert_eq!(
            errors(json!({"type": "object", "properties": {
                "metadata": {"type": "object", "x-kubernetes-embedded-resource": true,
                    "x-kubernetes-preserve-unknown-fields": true},
                "e": {"type": "object", "x-kubernetes-embedded-resource": true,
                    "additionalProperties": {"type": "string"},
                    "properties": {"metadata": {"type": "object",
                        "additionalProperties": {"type": "string", "default": "x"}}}},
                "l": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set",
                    "nullable": true},
                "k": {"type": "array", "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": ["n"],
                    "items": {"type": "object", "nullable": true,
                        "properties": {"n": {"type": "string", "nullable": true}}}},
                "i": {"type": "array", "items": [{"type": "string"}]},
            }})),
            [
                format!(
                    "{B}.properties[e].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive"
                ),
                format!(
                    "{B}.properties[e].properties[metadata].additionalProperties.default: Forbidden: must not be set inside additionalProperties applying to object metadata"
                ),
                format!(
                    "{B}.properties[i].items: Forbidden: items must be a schema object and not an array"
                ),
                format!(
                    "{B}.properties[k].items.nullable: Forbidden: cannot be nullable when x-kubernetes-list-type is map"
                ),
                format!(
                    "{B}.properties[k].items.properties[n].default: Required value: this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property"
                ),
                format!(
                    "{B}.properties[k].items.properties[n].nullable: Forbidden: this property is in x-kubernetes-list-map-keys, so it cannot be nullable"
                ),
                format!(
                    "{B}.properties[metadata].x-kubernetes-embedded-resource: Forbidden: must not be used inside of resource meta"
                ),
            ]
        );
    }

    #[test]
    fn status_root_restriction() {
        let p: P = serde_json::from_value(json!({"type": "object", "properties": {}})).unwrap();
        assert!(root_for_status(&p, &Path::new(B)).is_empty());
        let p: P =
            serde_json::from_value(json!({"type": "object", "anyOf": [{"required": ["a"]}]}))
                .unwrap();
        let errs = root_for_status(&p, &Path::new(B));
        assert_eq!(errs.len(), 1);
        assert!(errs[0].detail.starts_with("only [Description Type"));
    }
}

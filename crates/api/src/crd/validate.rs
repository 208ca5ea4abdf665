//! Validation of custom resources against their schema, as upstream does
//! on create and update:
//!
//! 1. kube-openapi's schema validator (`validate.SchemaValidator`), its
//!    errors converted to field errors by apiextensions-apiserver's
//!    `kubeOpenAPIResultToFieldErrors`;
//! 2. the `apiVersion`/`kind`/`metadata` of embedded resources
//!    (`objectmeta.Validate`);
//! 3. uniqueness in `x-kubernetes-list-type` `set` and `map` lists
//!    (`listtype.ValidateListSetsAndMaps`).
//!
//! kube-openapi names fields by dotted paths (`spec.replicas`,
//! `spec.items[0].name`, map values as `spec.labels.key`) and writes
//! messages as `<path> in body <complaint>`; those names become the field
//! paths of the errors, the messages their details.

use serde_json::{Map, Value};

use super::MAX_DEPTH;
use super::formats;
use super::gofmt::{self, GoNum, go_num};
use super::schema::Node;
use crate::registry::{NameRule, ResourceInfo, Scope};
use crate::validation::{ErrorType, Errors, FieldError, Path, go};

/// What kind of kube-openapi error, deciding the field error it becomes.
#[derive(Clone, Debug)]
enum Code {
    Required,
    Enum(Vec<Value>),
    TooLong(i64),
    TooMany {
        actual: i64,
        max: i64,
    },
    InvalidType,
    /// Any other `*errors.Validation`: `Invalid value`.
    Other,
    /// A composite (non-`Validation`) error: `anyOf`, `oneOf`, ...; it
    /// carries no field.
    Composite,
}

/// One kube-openapi error.
#[derive(Clone, Debug)]
struct OErr {
    code: Code,
    /// The kube-openapi path (`spec.replicas`, `.spec` for required).
    name: String,
    /// The offending value (`None`: Go's `nil`).
    value: Option<Value>,
    message: String,
}

/// A kube-openapi `Result`: errors and the match count that picks the
/// most relevant failing branch of `anyOf`/`oneOf`.
#[derive(Default)]
struct Res {
    errors: Vec<OErr>,
    matches: usize,
}

impl Res {
    fn add(&mut self, e: OErr) {
        // Result.AddErrors keeps messages unique.
        if !self.errors.iter().any(|x| x.message == e.message) {
            self.errors.push(e);
        }
    }
    fn merge(&mut self, other: Res) {
        for e in other.errors {
            self.add(e);
        }
        self.matches += other.matches;
    }
    fn valid(&self) -> bool {
        self.errors.is_empty()
    }
    fn err(e: OErr) -> Res {
        Res {
            errors: vec![e],
            matches: 0,
        }
    }
}

/// `<name> in body`.
fn in_body(name: &str) -> String {
    format!("{name} in body")
}

fn invalid_type(name: &str, type_: &str, value: &str) -> OErr {
    OErr {
        code: Code::InvalidType,
        name: name.to_owned(),
        value: Some(Value::String(value.to_owned())),
        message: format!(
            "{} must be of type {type_}: {}",
            in_body(name),
            gofmt::quote(value)
        ),
    }
}

fn other(name: &str, value: Option<Value>, message: String) -> OErr {
    OErr {
        code: Code::Other,
        name: name.to_owned(),
        value,
        message,
    }
}

fn composite(message: String) -> OErr {
    OErr {
        code: Code::Composite,
        name: String::new(),
        value: None,
        message,
    }
}

/// The Go kind of a value, for the validators' `Applies`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bool,
    Int,
    Float,
    String,
    Slice,
    Map,
}

fn kind_of(v: &Value) -> Option<Kind> {
    Some(match v {
        Value::Null => return None,
        Value::Bool(_) => Kind::Bool,
        Value::Number(n) => match go_num(n) {
            GoNum::Int(_) => Kind::Int,
            GoNum::Float(_) => Kind::Float,
        },
        Value::String(_) => Kind::String,
        Value::Array(_) => Kind::Slice,
        Value::Object(_) => Kind::Map,
    })
}

/// `SchemaValidator.Validate`.
fn validate_schema(node: &Node, data: &Value, path: &str, depth: usize) -> Res {
    let mut res = Res::default();
    if depth > MAX_DEPTH {
        return res;
    }
    if data.is_null() {
        res.merge(type_check(node, data, path));
        res.merge(enum_check(node, data, path));
        return res;
    }
    if !node.types().is_empty() || node.format.is_some() {
        res.merge(type_check(node, data, path));
        res.matches += 1;
    }
    res.merge(schema_props(node, data, path, depth));
    res.matches += 1;
    if let Value::String(s) = data {
        res.merge(string_check(node, s, path));
        res.matches += 1;
        if let Some(format) = &node.format {
            if !formats::valid(format, s) {
                res.add(invalid_type(path, format, s));
            }
            res.matches += 1;
        }
    }
    if let Value::Number(n) = data {
        res.merge(number_check(node, go_num(n), data, path));
        res.matches += 1;
    }
    if let Value::Array(items) = data {
        res.merge(slice_check(node, items, path, depth));
        res.matches += 1;
    }
    res.merge(enum_check(node, data, path));
    res.matches += 1;
    if let Value::Object(map) = data {
        res.merge(object_check(node, map, path, depth));
        res.matches += 1;
    }
    res.matches += 1;
    res
}

/// `typeValidator`.
fn type_check(node: &Node, data: &Value, path: &str) -> Res {
    let types = node.types();
    let joined = types.join(",");
    let Some(kind) = kind_of(data) else {
        if !types.is_empty() && !types.contains(&"null") && !node.nullable {
            return Res::err(invalid_type(path, &joined, "null"));
        }
        return Res {
            errors: Vec::new(),
            matches: 1,
        };
    };
    let (sch_type, data_format) = match kind {
        Kind::Bool => ("boolean", ""),
        Kind::String => ("string", ""),
        Kind::Int => ("integer", "int64"),
        Kind::Float => ("number", "float64"),
        Kind::Slice => ("array", ""),
        Kind::Map => ("object", ""),
    };
    let format = node.format.as_deref().unwrap_or("");
    let is_float_int = kind == Kind::Float
        && data.as_f64().is_some_and(gofmt::is_json_integer)
        && types.contains(&"integer");
    let is_int_float = kind == Kind::Int && types.contains(&"number");
    let contains = types.contains(&sch_type);
    if kind != Kind::String
        && kind != Kind::Slice
        && !format.is_empty()
        && !(contains || data_format == format || is_float_int || is_int_float)
    {
        return Res::err(invalid_type(path, format, data_format));
    }
    let numeric = types.contains(&"number") || types.contains(&"integer");
    if !numeric && !format.is_empty() && (kind == Kind::String || kind == Kind::Slice) {
        return Res {
            errors: Vec::new(),
            matches: 1,
        };
    }
    if !(contains || is_float_int || is_int_float) {
        return Res::err(invalid_type(path, &joined, sch_type));
    }
    Res {
        errors: Vec::new(),
        matches: 1,
    }
}

/// `schemaPropsValidator`: allOf, anyOf, oneOf and not, each branch
/// validated at the same path.
fn schema_props(node: &Node, data: &Value, path: &str, depth: usize) -> Res {
    let mut main = Res::default();
    let quoted = gofmt::quote(path);
    if !node.any_of.is_empty() {
        let mut best: Option<Res> = None;
        let mut first_success: Option<Res> = None;
        for branch in &node.any_of {
            let r = validate_schema(branch, data, path, depth + 1);
            if r.valid() {
                best = None;
                first_success.get_or_insert(r);
                break;
            }
            if best.as_ref().is_none_or(|b| r.matches > b.matches) {
                best = Some(r);
            }
        }
        if first_success.is_none() {
            main.add(composite(format!(
                "{quoted} must validate at least one schema (anyOf)"
            )));
        }
        if let Some(b) = best {
            main.merge(b);
        } else if let Some(s) = first_success {
            main.merge(s);
        }
    }
    if !node.one_of.is_empty() {
        let mut best: Option<Res> = None;
        let mut first_success: Option<Res> = None;
        let mut validated = 0;
        for branch in &node.one_of {
            let r = validate_schema(branch, data, path, depth + 1);
            if r.valid() {
                validated += 1;
                best = None;
                first_success.get_or_insert(r);
                continue;
            }
            if validated == 0 && best.as_ref().is_none_or(|b| r.matches > b.matches) {
                best = Some(r);
            }
        }
        if validated != 1 {
            let more = if validated == 0 {
                "Found none valid".to_owned()
            } else {
                format!("Found {validated} valid alternatives")
            };
            main.add(composite(format!(
                "{quoted} must validate one and only one schema (oneOf). {more}"
            )));
            if let Some(b) = best {
                main.merge(b);
            }
        } else if let Some(s) = first_success {
            main.merge(s);
        }
    }
    if !node.all_of.is_empty() {
        let mut validated = 0;
        for branch in &node.all_of {
            let r = validate_schema(branch, data, path, depth + 1);
            if r.valid() {
                validated += 1;
            }
            main.merge(r);
        }
        if validated != node.all_of.len() {
            let more = if validated == 0 {
                ". None validated"
            } else {
                ""
            };
            main.add(composite(format!(
                "{quoted} must validate all the schemas (allOf){more}"
            )));
        }
    }
    if let Some(not) = &node.not
        && validate_schema(not, data, path, depth + 1).valid()
    {
        main.add(composite(format!(
            "{quoted} must not validate the schema (not)"
        )));
    }
    main.matches += 1;
    main
}

/// `stringValidator`: the first failing of maxLength, minLength, pattern.
fn string_check(node: &Node, s: &str, path: &str) -> Res {
    let len = s.chars().count() as i64;
    if let Some(max) = node.max_length
        && len > max
    {
        return Res::err(OErr {
            code: Code::TooLong(max),
            name: path.to_owned(),
            value: Some(Value::String(s.to_owned())),
            message: format!("{} should be at most {max} chars long", in_body(path)),
        });
    }
    if let Some(min) = node.min_length
        && len < min
    {
        return Res::err(other(
            path,
            Some(Value::String(s.to_owned())),
            format!("{} should be at least {min} chars long", in_body(path)),
        ));
    }
    if let Some(p) = &node.pattern {
        let matched = match &p.regex {
            Some(re) => re.is_match(s),
            None => false,
        };
        if !matched {
            let shown = match &p.regex {
                Some(_) => p.source.clone(),
                None => format!("{}, but pattern is invalid", p.source),
            };
            return Res::err(other(
                path,
                Some(Value::String(s.to_owned())),
                format!("{} should match '{shown}'", in_body(path)),
            ));
        }
    }
    Res::default()
}

fn num_value(n: GoNum) -> Value {
    match n {
        GoNum::Int(i) => Value::from(i),
        GoNum::Float(f) => serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null),
    }
}

/// `numberValidator`: multipleOf, minimum, maximum, each on Go's native
/// type of the value (`int64` bounds are truncated to integers).
fn number_check(node: &Node, n: GoNum, data: &Value, path: &str) -> Res {
    let mut res = Res::default();
    let body = in_body(path);
    if let Some(m) = node.multiple_of {
        let int_factor = f64_factor(n, m);
        match (n, int_factor) {
            (GoNum::Int(_), Some(f)) if f < 0 => res.add(other(
                path,
                Some(Value::from(f)),
                format!("factor MultipleOf declared for {path} must be positive: {f}"),
            )),
            (GoNum::Int(i), Some(f)) => {
                if i.wrapping_div(f).wrapping_mul(f) != i {
                    res.add(other(
                        path,
                        Some(data.clone()),
                        format!("{body} should be a multiple of {f}"),
                    ));
                }
            }
            _ => {
                let x = match n {
                    GoNum::Int(i) => i as f64,
                    GoNum::Float(f) => f,
                };
                if m < 0.0 {
                    res.add(other(
                        path,
                        num_value(GoNum::Float(m)).into(),
                        format!(
                            "factor MultipleOf declared for {path} must be positive: {}",
                            gofmt::float_v(m)
                        ),
                    ));
                } else {
                    let mult = if m < 1.0 { 1.0 / m * x } else { x / m };
                    if !gofmt::is_json_integer(mult) {
                        res.add(other(
                            path,
                            Some(data.clone()),
                            format!("{body} should be a multiple of {}", gofmt::float_v(m)),
                        ));
                    }
                }
            }
        }
    }
    if let Some(min) = node.minimum {
        let excl = node.exclusive_minimum;
        let word = if excl {
            "greater than"
        } else {
            "greater than or equal to"
        };
        let failed = match n {
            GoNum::Int(i) => {
                let min = gofmt::f64_to_i64(min);
                ((!excl && i < min) || (excl && i <= min)).then(|| min.to_string())
            }
            GoNum::Float(f) => {
                ((!excl && f < min) || (excl && f <= min)).then(|| gofmt::float_v(min))
            }
        };
        if let Some(bound) = failed {
            res.add(other(
                path,
                Some(data.clone()),
                format!("{body} should be {word} {bound}"),
            ));
        }
    }
    if let Some(max) = node.maximum {
        let excl = node.exclusive_maximum;
        let word = if excl {
            "less than"
        } else {
            "less than or equal to"
        };
        let failed = match n {
            GoNum::Int(i) => {
                let max = gofmt::f64_to_i64(max);
                ((!excl && i > max) || (excl && i >= max)).then(|| max.to_string())
            }
            GoNum::Float(f) => {
                ((!excl && f > max) || (excl && f >= max)).then(|| gofmt::float_v(max))
            }
        };
        if let Some(bound) = failed {
            res.add(other(
                path,
                Some(data.clone()),
                format!("{body} should be {word} {bound}"),
            ));
        }
    }
    res.matches += 1;
    res
}

/// The integer factor of `multipleOf` for an `int64` value; `None` (use
/// float arithmetic) for floats, and where Go would divide by zero.
fn f64_factor(n: GoNum, m: f64) -> Option<i64> {
    match n {
        GoNum::Int(_) => Some(gofmt::f64_to_i64(m)).filter(|f| *f != 0),
        GoNum::Float(_) => None,
    }
}

/// `schemaSliceValidator`: items, then minItems, maxItems, uniqueItems.
fn slice_check(node: &Node, items: &[Value], path: &str, depth: usize) -> Res {
    let mut res = Res::default();
    if let Some(item_schema) = &node.items {
        for (i, item) in items.iter().enumerate() {
            res.merge(validate_schema(
                item_schema,
                item,
                &format!("{path}[{i}]"),
                depth + 1,
            ));
        }
    }
    let size = items.len() as i64;
    if let Some(min) = node.min_items
        && size < min
    {
        res.add(other(
            path,
            Some(Value::from(size)),
            format!("{} should have at least {min} items", in_body(path)),
        ));
    }
    if let Some(max) = node.max_items
        && size > max
    {
        res.add(OErr {
            code: Code::TooMany { actual: size, max },
            name: path.to_owned(),
            value: Some(Value::from(size)),
            message: format!("{} should have at most {max} items", in_body(path)),
        });
    }
    if node.unique_items {
        let dup = items
            .iter()
            .enumerate()
            .any(|(i, a)| items[..i].iter().any(|b| gofmt::deep_equal(a, b)));
        if dup {
            res.add(other(
                path,
                None,
                format!("{} shouldn't contain duplicates", in_body(path)),
            ));
        }
    }
    res.matches += 1;
    res
}

/// Whether a value equals an enum member after Go's `reflect` conversion
/// of the value to the member's type (so `1.5` matches `1`, and `65`
/// matches `"A"`, as upstream).
fn enum_member(data: &Value, member: &Value) -> bool {
    match (data, member) {
        (Value::Null, _) | (_, Value::Null) => false,
        (Value::Bool(a), Value::Bool(b)) => a == b,
        (Value::String(a), Value::String(b)) => a == b,
        (Value::Number(a), Value::Number(b)) => match (go_num(a), go_num(b)) {
            (GoNum::Int(a), GoNum::Int(b)) => a == b,
            (GoNum::Int(a), GoNum::Float(b)) => a as f64 == b,
            (GoNum::Float(a), GoNum::Int(b)) => gofmt::f64_to_i64(a) == b,
            (GoNum::Float(a), GoNum::Float(b)) => a == b,
        },
        (Value::Number(a), Value::String(b)) => match go_num(a) {
            GoNum::Int(i) => {
                let c = u32::try_from(i)
                    .ok()
                    .and_then(char::from_u32)
                    .unwrap_or('\u{FFFD}');
                b.chars().eq(std::iter::once(c))
            }
            GoNum::Float(_) => false,
        },
        (Value::Array(_), Value::Array(_)) | (Value::Object(_), Value::Object(_)) => {
            gofmt::deep_equal(data, member)
        }
        _ => false,
    }
}

/// `basicCommonValidator`: enum.
fn enum_check(node: &Node, data: &Value, path: &str) -> Res {
    if node.enum_.is_empty() || node.enum_.iter().any(|m| enum_member(data, m)) {
        return Res::default();
    }
    Res::err(OErr {
        code: Code::Enum(node.enum_.clone()),
        name: path.to_owned(),
        value: Some(data.clone()),
        message: format!(
            "{} should be one of {}",
            in_body(path),
            gofmt::plain_v(&Value::Array(node.enum_.clone()))
        ),
    })
}

/// `objectValidator`.
fn object_check(node: &Node, map: &Map<String, Value>, path: &str, depth: usize) -> Res {
    let mut res = Res::default();
    let n = map.len() as i64;
    if let Some(min) = node.min_properties
        && n < min
    {
        res.add(other(
            path,
            Some(Value::from(n)),
            format!("{} should have at least {min} properties", in_body(path)),
        ));
    }
    if let Some(max) = node.max_properties
        && n > max
    {
        res.add(OErr {
            code: Code::TooMany { actual: n, max },
            name: path.to_owned(),
            value: Some(Value::from(n)),
            message: format!("{} should have at most {max} properties", in_body(path)),
        });
    }
    match &node.additional {
        Some(a) if !a.allows => {
            for k in map.keys() {
                if !node.properties.contains_key(k) {
                    res.add(other(
                        path,
                        Some(Value::String(k.clone())),
                        format!("{path}.{k} in body is a forbidden property"),
                    ));
                }
            }
        }
        Some(a) => {
            if let Some(schema) = &a.schema {
                for (k, v) in map {
                    if !node.properties.contains_key(k) {
                        res.merge(validate_schema(
                            schema,
                            v,
                            &format!("{path}.{k}"),
                            depth + 1,
                        ));
                    }
                }
            }
        }
        None => {}
    }
    for (name, prop) in &node.properties {
        if let Some(v) = map.get(name) {
            let child = if path.is_empty() {
                name.clone()
            } else {
                format!("{path}.{name}")
            };
            res.merge(validate_schema(prop, v, &child, depth + 1));
        }
    }
    for k in &node.required {
        if !map.contains_key(k) {
            let name = format!("{path}.{k}");
            res.add(OErr {
                code: Code::Required,
                message: format!("{} is required", in_body(&name)),
                name,
                value: None,
            });
        }
    }
    res
}

fn field_error(kind: ErrorType, field: &Path, value: Option<String>, detail: String) -> FieldError {
    FieldError {
        kind,
        field: field.as_str().to_owned(),
        value: value.map(go::raw),
        detail,
    }
}

/// `kubeOpenAPIResultToFieldErrors`.
fn to_field_errors(errors: Vec<OErr>, base: &Path) -> Vec<FieldError> {
    errors
        .into_iter()
        .map(|e| {
            if let Code::Composite = e.code {
                return field_error(ErrorType::Invalid, base, Some("\"\"".into()), e.message);
            }
            let path = if !e.name.is_empty() && e.name != "." {
                base.child(e.name.strip_prefix('.').unwrap_or(&e.name))
            } else {
                base.clone()
            };
            let shown = |v: &Option<Value>| match v {
                Some(v) => gofmt::bad_value(v),
                None => "\"\"".to_owned(),
            };
            match e.code {
                Code::Required => field_error(ErrorType::Required, &path, None, String::new()),
                Code::Enum(values) => {
                    let supported: Vec<String> = values
                        .iter()
                        .map(|v| match v {
                            Value::String(s) => gofmt::quote(s),
                            v => gofmt::quote(&gofmt::json(v)),
                        })
                        .collect();
                    let value = match &e.value {
                        Some(v) => gofmt::bad_value(v),
                        None => "null".into(),
                    };
                    field_error(
                        ErrorType::NotSupported,
                        &path,
                        Some(value),
                        format!("supported values: {}", supported.join(", ")),
                    )
                }
                Code::TooLong(max) => field_error(ErrorType::TooLong, &path, None, too_long(max)),
                Code::TooMany { actual, max } => field_error(
                    ErrorType::TooMany,
                    &path,
                    Some(actual.to_string()),
                    too_many(max),
                ),
                Code::InvalidType => field_error(
                    ErrorType::TypeInvalid,
                    &path,
                    Some(shown(&e.value)),
                    e.message,
                ),
                Code::Other | Code::Composite => {
                    field_error(ErrorType::Invalid, &path, Some(shown(&e.value)), e.message)
                }
            }
        })
        .collect()
}

/// `field.TooLong`'s detail (v1.32).
pub(crate) fn too_long(max: i64) -> String {
    match max {
        m if m < 0 => "value is too long".into(),
        1 => "may not be more than 1 byte".into(),
        m => format!("may not be more than {m} bytes"),
    }
}

/// `field.TooMany`'s detail (v1.32).
pub(crate) fn too_many(max: i64) -> String {
    match max {
        m if m < 0 => "has too many items".into(),
        1 => "must have at most 1 item".into(),
        m => format!("must have at most {m} items"),
    }
}

/// kube-openapi validation of `data` against `node`, reported under `base`
/// (empty for a custom resource, `...default` for a default value).
pub(crate) fn openapi(node: &Node, data: &Value, base: &Path) -> Vec<FieldError> {
    let res = validate_schema(node, data, "", 0);
    to_field_errors(res.errors, base)
}

// --- embedded resources (objectmeta.Validate) ---

/// Validate `apiVersion`, `kind` and `metadata` of every embedded resource
/// in `x` (and of `x` itself if `root_is_resource`).
pub(crate) fn embedded(
    node: &Node,
    x: &Value,
    path: &Path,
    root_is_resource: bool,
    errs: &mut Vec<FieldError>,
) {
    embedded_at(node, x, path, root_is_resource, errs, 0);
}

fn embedded_at(
    node: &Node,
    x: &Value,
    path: &Path,
    is_resource: bool,
    errs: &mut Vec<FieldError>,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        return;
    }
    match x {
        Value::Object(map) => {
            if is_resource || node.embedded {
                embedded_resource(map, path, errs);
            }
            for (k, v) in map {
                if let Some(prop) = node.properties.get(k) {
                    embedded_at(prop, v, &path.child(k), false, errs, depth + 1);
                } else if let Some(schema) =
                    node.additional.as_ref().and_then(|a| a.schema.as_deref())
                {
                    embedded_at(schema, v, &path.key(k), false, errs, depth + 1);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item) = &node.items {
                for (i, v) in items.iter().enumerate() {
                    embedded_at(item, v, &path.index(i), false, errs, depth + 1);
                }
            }
        }
        _ => {}
    }
}

fn embedded_resource(map: &Map<String, Value>, path: &Path, errs: &mut Vec<FieldError>) {
    let mut e = Errors::default();
    if !map.contains_key("apiVersion") {
        e.required(&path.child("apiVersion"), "");
    }
    if !map.contains_key("kind") {
        e.required(&path.child("kind"), "");
    }
    for (k, v) in map {
        match k.as_str() {
            "apiVersion" => {
                let p = path.child("apiVersion");
                match v {
                    Value::String(s) if s.is_empty() => e.required(&p, ""),
                    Value::String(s) => {
                        if s != "/" && s.matches('/').count() > 1 {
                            e.invalid_raw(
                                &p,
                                gofmt::quote(s),
                                format!("unexpected GroupVersion string: {s}"),
                            );
                        }
                    }
                    v => e.invalid_raw(&p, gofmt::bad_value(v), "must be a string"),
                }
            }
            "kind" => {
                let p = path.child("kind");
                match v {
                    Value::String(s) if s.is_empty() => e.required(&p, ""),
                    Value::String(s) => {
                        let msgs = crate::validation::dns1035_label(&s.to_lowercase());
                        if !msgs.is_empty() {
                            e.invalid_raw(
                                &p,
                                gofmt::quote(s),
                                format!(
                                    "may have mixed case, but should otherwise match: {}",
                                    msgs.join(",")
                                ),
                            );
                        }
                    }
                    v => e.invalid_raw(&p, gofmt::bad_value(v), "must be a string"),
                }
            }
            "metadata" => embedded_metadata(v, &path.child("metadata"), &mut e),
            _ => {}
        }
    }
    errs.extend(e.0);
}

fn embedded_metadata(v: &Value, path: &Path, e: &mut Errors) {
    if !v.is_object() {
        e.invalid_raw(
            path,
            gofmt::bad_value(v),
            format!(
                "invalid metadata: expected object, got {}",
                gofmt::type_name(v)
            ),
        );
        return;
    }
    let mut meta: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta =
        match serde_json::from_value(v.clone()) {
            Ok(m) => m,
            Err(err) => {
                e.invalid_raw(path, gofmt::bad_value(v), err.to_string());
                return;
            }
        };
    if meta.name.as_deref().unwrap_or("").is_empty() {
        meta.name = Some("fakename".into());
    }
    let namespaced = meta.namespace.as_deref().is_some_and(|n| !n.is_empty());
    let mut info = ResourceInfo::new("", "", "", "", "");
    info.scope = if namespaced {
        Scope::Namespaced
    } else {
        Scope::Cluster
    };
    info.name_rule = NameRule::PathSegment;
    let mut inner = Errors::default();
    crate::meta::validate_object_meta(&meta, &info, &mut inner);
    for mut fe in inner.0 {
        // validate_object_meta reports under `metadata`.
        let rest = fe
            .field
            .strip_prefix("metadata")
            .unwrap_or(&fe.field)
            .to_owned();
        fe.field = format!("{}{rest}", path.as_str());
        e.0.push(fe);
    }
}

// --- list types (listtype.ValidateListSetsAndMaps) ---

/// Uniqueness of `set` items and `map` keys, in every list of `obj`.
pub(crate) fn list_types(node: &Node, obj: &Value, errs: &mut Vec<FieldError>) {
    if let Value::Object(map) = obj {
        list_types_map(node, map, &Path::new(""), errs, 0);
    }
}

fn list_types_map(
    node: &Node,
    map: &Map<String, Value>,
    path: &Path,
    errs: &mut Vec<FieldError>,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        return;
    }
    if let Some(schema) = node.additional.as_ref().and_then(|a| a.schema.as_deref()) {
        for (k, v) in map {
            list_types_value(schema, v, &path.key(k), errs, depth + 1);
        }
    }
    if !node.properties.is_empty() {
        for (k, v) in map {
            if let Some(sub) = node.properties.get(k) {
                list_types_value(sub, v, &path.child(k), errs, depth + 1);
            }
        }
    }
}

fn list_types_value(node: &Node, v: &Value, path: &Path, errs: &mut Vec<FieldError>, depth: usize) {
    match v {
        Value::Array(items) => list_types_array(node, items, path, errs, depth),
        Value::Object(map) => list_types_map(node, map, path, errs, depth),
        _ => {}
    }
}

fn duplicate(path: &Path, shown: String) -> FieldError {
    field_error(ErrorType::Duplicate, path, Some(shown), String::new())
}

/// The indices of the second occurrence of each repeated value.
fn non_unique(values: &[Value]) -> Vec<usize> {
    let mut seen: Vec<(&Value, usize)> = Vec::new();
    let mut out = Vec::new();
    for (i, v) in values.iter().enumerate() {
        match seen.iter_mut().find(|(s, _)| gofmt::deep_equal(s, v)) {
            Some((_, times)) => {
                *times += 1;
                if *times == 2 {
                    out.push(i);
                }
            }
            None => seen.push((v, 1)),
        }
    }
    out
}

fn list_types_array(
    node: &Node,
    items: &[Value],
    path: &Path,
    errs: &mut Vec<FieldError>,
    depth: usize,
) {
    match node.list_type.as_deref() {
        Some("set") if items.len() > 1 => {
            for i in non_unique(items) {
                errs.push(duplicate(&path.index(i), gofmt::bad_value(&items[i])));
            }
        }
        Some("map") => list_map(node, items, path, errs),
        _ => {}
    }
    if let Some(item) = &node.items {
        for (i, v) in items.iter().enumerate() {
            list_types_value(item, v, &path.index(i), errs, depth + 1);
        }
    }
}

fn list_map(node: &Node, items: &[Value], path: &Path, errs: &mut Vec<FieldError>) {
    for (i, x) in items.iter().enumerate() {
        if !x.is_null() && !x.is_object() {
            errs.push(field_error(
                ErrorType::Invalid,
                &path.index(i),
                Some(gofmt::bad_value(x)),
                "must be an object for an array of list-type map".into(),
            ));
            return;
        }
    }
    if items.len() <= 1 {
        return;
    }
    // A key: the key fields present (an unspecified single key is `{}`).
    let keys: Vec<Value> = items
        .iter()
        .map(|x| {
            let mut key = Map::new();
            if let Value::Object(m) = x {
                for k in &node.list_map_keys {
                    if let Some(v) = m.get(k) {
                        key.insert(k.clone(), v.clone());
                    }
                }
            }
            Value::Object(key)
        })
        .collect();
    for i in non_unique(&keys) {
        errs.push(duplicate(&path.index(i), gofmt::bad_value(&keys[i])));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::Structural;
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::JSONSchemaProps;
    use serde_json::json;

    fn node(schema: Value) -> Node {
        let props: JSONSchemaProps = serde_json::from_value(schema).unwrap();
        Node::build(&props)
    }

    fn messages(schema: Value, obj: Value) -> Vec<String> {
        let props: JSONSchemaProps = serde_json::from_value(schema).unwrap();
        let s = Structural::from_schema(&props, &Path::new("openAPIV3Schema"))
            .unwrap_or_else(|e| panic!("not structural: {e:?}"));
        let mut errs = Errors::default();
        s.validate(&obj, &mut errs);
        errs.0.iter().map(ToString::to_string).collect()
    }

    fn spec(props: Value) -> Value {
        json!({"type": "object", "properties": {"spec": {"type": "object", "properties": props}}})
    }

    #[test]
    fn types() {
        let s = spec(
            json!({"replicas": {"type": "integer"}, "on": {"type": "boolean"},
            "n": {"type": "number"}, "l": {"type": "array", "items": {"type": "string"}},
            "o": {"type": "object"}, "s": {"type": "string"}}),
        );
        assert_eq!(
            messages(s.clone(), json!({"spec": {"replicas": "string"}})),
            [
                r#"spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string""#
            ]
        );
        assert_eq!(
            messages(
                s.clone(),
                json!({"spec": {"replicas": 1.5, "on": "x", "n": 3, "l": {}, "o": [], "s": 1}})
            ),
            [
                r#"spec.l: Invalid value: "object": spec.l in body must be of type array: "object""#,
                r#"spec.o: Invalid value: "array": spec.o in body must be of type object: "array""#,
                r#"spec.on: Invalid value: "string": spec.on in body must be of type boolean: "string""#,
                r#"spec.replicas: Invalid value: "number": spec.replicas in body must be of type integer: "number""#,
                r#"spec.s: Invalid value: "integer": spec.s in body must be of type string: "integer""#,
            ]
        );
        // 2.0 is an integer; an integer is a number.
        assert!(messages(s.clone(), json!({"spec": {"replicas": 2.0, "n": 3}})).is_empty());
        assert_eq!(
            messages(s, json!({"spec": {"replicas": null}})),
            [
                r#"spec.replicas: Invalid value: "null": spec.replicas in body must be of type integer: "null""#
            ]
        );
        let nullable = spec(json!({"x": {"type": "integer", "nullable": true}}));
        assert!(messages(nullable, json!({"spec": {"x": null}})).is_empty());
    }

    #[test]
    fn numbers() {
        let s = spec(
            json!({"size": {"type": "integer", "maximum": 10, "minimum": 1},
            "ex": {"type": "number", "maximum": 1.5, "exclusiveMaximum": true,
                   "minimum": 0, "exclusiveMinimum": true},
            "m": {"type": "integer", "multipleOf": 3},
            "f": {"type": "number", "multipleOf": 0.5}}),
        );
        assert_eq!(
            messages(s.clone(), json!({"spec": {"size": 11}})),
            ["spec.size: Invalid value: 11: spec.size in body should be less than or equal to 10"]
        );
        assert_eq!(
            messages(s.clone(), json!({"spec": {"size": 0}})),
            ["spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1"]
        );
        assert_eq!(
            messages(s.clone(), json!({"spec": {"ex": 1.5, "m": 4, "f": 0.7}})),
            [
                "spec.ex: Invalid value: 1.5: spec.ex in body should be less than 1.5",
                "spec.f: Invalid value: 0.7: spec.f in body should be a multiple of 0.5",
                "spec.m: Invalid value: 4: spec.m in body should be a multiple of 3",
            ]
        );
        assert_eq!(
            messages(s, json!({"spec": {"ex": 0.0}})),
            ["spec.ex: Invalid value: 0: spec.ex in body should be greater than 0"]
        );
    }

    #[test]
    fn strings() {
        let s = spec(
            json!({"name": {"type": "string", "maxLength": 5, "minLength": 2,
            "pattern": "^[a-z]+$"}, "one": {"type": "string", "maxLength": 1}}),
        );
        assert_eq!(
            messages(s.clone(), json!({"spec": {"name": "abcdef", "one": "ab"}})),
            [
                "spec.name: Too long: may not be more than 5 bytes",
                "spec.one: Too long: may not be more than 1 byte",
            ]
        );
        assert_eq!(
            messages(s.clone(), json!({"spec": {"name": "a"}})),
            [r#"spec.name: Invalid value: "a": spec.name in body should be at least 2 chars long"#]
        );
        assert_eq!(
            messages(s, json!({"spec": {"name": "AB"}})),
            [r#"spec.name: Invalid value: "AB": spec.name in body should match '^[a-z]+$'"#]
        );
    }

    #[test]
    fn enums_and_required() {
        let s = json!({"type": "object", "required": ["spec"], "properties": {"spec": {
            "type": "object", "required": ["name"],
            "properties": {"name": {"type": "string"},
                "mode": {"type": "string", "enum": ["a", "b"]},
                "level": {"type": "integer", "enum": [1, 2]}}}}});
        assert_eq!(messages(s.clone(), json!({})), ["spec: Required value"]);
        assert_eq!(
            messages(s.clone(), json!({"spec": {"mode": "x", "level": 3}})),
            [
                r#"spec.level: Unsupported value: 3: supported values: "1", "2""#,
                r#"spec.mode: Unsupported value: "x": supported values: "a", "b""#,
                "spec.name: Required value",
            ]
        );
        // Go converts the value to the member's type: 1.0 is 1.
        assert!(messages(s, json!({"spec": {"name": "n", "level": 1.0}})).is_empty());
    }

    #[test]
    fn arrays_and_objects() {
        let s = spec(json!({
            "l": {"type": "array", "minItems": 2, "maxItems": 3, "items": {"type": "integer"}},
            "m": {"type": "object", "minProperties": 1, "maxProperties": 1,
                  "additionalProperties": {"type": "string"}},
        }));
        assert_eq!(
            messages(
                s.clone(),
                json!({"spec": {"l": [1, 2, 3, "x"], "m": {"a": "x", "b": 1}}})
            ),
            [
                r#"spec.l[3]: Invalid value: "string": spec.l[3] in body must be of type integer: "string""#,
                "spec.l: Too many: 4: must have at most 3 items",
                "spec.m: Too many: 2: must have at most 1 item",
                r#"spec.m.b: Invalid value: "integer": spec.m.b in body must be of type string: "integer""#,
            ]
        );
        assert_eq!(
            messages(s, json!({"spec": {"l": [1], "m": {}}})),
            [
                "spec.l: Invalid value: 1: spec.l in body should have at least 2 items",
                "spec.m: Invalid value: 0: spec.m in body should have at least 1 properties",
            ]
        );
    }

    #[test]
    fn formats() {
        let s = spec(json!({"t": {"type": "string", "format": "date-time"},
            "b": {"type": "string", "format": "byte"},
            "i": {"type": "integer", "format": "int32"}}));
        assert_eq!(
            messages(
                s.clone(),
                json!({"spec": {"t": "yesterday", "b": "%%%", "i": 1}})
            ),
            [
                r#"spec.b: Invalid value: "%%%": spec.b in body must be of type byte: "%%%""#,
                r#"spec.t: Invalid value: "yesterday": spec.t in body must be of type date-time: "yesterday""#,
            ]
        );
        assert!(
            messages(
                s,
                json!({"spec": {"t": "2024-01-02T03:04:05Z", "b": "aGk=", "i": 5}})
            )
            .is_empty()
        );
    }

    #[test]
    fn junctors() {
        let s = spec(
            json!({"x": {"type": "integer", "anyOf": [{"minimum": 5}, {"maximum": 1}]},
            "y": {"type": "string", "not": {"enum": ["no"]}}}),
        );
        assert_eq!(
            messages(s.clone(), json!({"spec": {"x": 3, "y": "no"}})),
            [
                r#": Invalid value: "": "spec.x" must validate at least one schema (anyOf)"#,
                "spec.x: Invalid value: 3: spec.x in body should be greater than or equal to 5",
                r#": Invalid value: "": "spec.y" must not validate the schema (not)"#,
            ]
        );
        assert!(messages(s, json!({"spec": {"x": 0, "y": "yes"}})).is_empty());
    }

    #[test]
    fn int_or_string() {
        let s = spec(json!({"port": {"x-kubernetes-int-or-string": true,
            "anyOf": [{"type": "integer"}, {"type": "string"}]}}));
        assert!(messages(s.clone(), json!({"spec": {"port": 80}})).is_empty());
        assert!(messages(s.clone(), json!({"spec": {"port": "http"}})).is_empty());
        assert_eq!(
            messages(s, json!({"spec": {"port": true}}))[0],
            r#"spec.port: Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean""#
        );
    }

    #[test]
    fn embedded_resources() {
        let s = spec(
            json!({"template": {"type": "object", "x-kubernetes-embedded-resource": true,
            "x-kubernetes-preserve-unknown-fields": true}}),
        );
        assert_eq!(
            messages(s.clone(), json!({"spec": {"template": {}}})),
            [
                "spec.template.apiVersion: Required value",
                "spec.template.kind: Required value"
            ]
        );
        assert_eq!(
            messages(
                s.clone(),
                json!({"spec": {"template": {"apiVersion": "a/b/c", "kind": "Bad_Kind",
                "metadata": {"name": "x/y"}}}})
            ),
            [
                r#"spec.template.apiVersion: Invalid value: "a/b/c": unexpected GroupVersion string: a/b/c"#,
                r#"spec.template.kind: Invalid value: "Bad_Kind": may have mixed case, but should otherwise match: a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"#,
                r#"spec.template.metadata.name: Invalid value: "x/y": may not contain '/'"#,
            ]
        );
        assert!(
            messages(
                s,
                json!({"spec": {"template": {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p"}}}})
            )
            .is_empty()
        );
    }

    #[test]
    fn list_types_are_unique() {
        let s = spec(json!({
            "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
            "ports": {"type": "array", "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["name"],
                "items": {"type": "object", "required": ["name"],
                    "properties": {"name": {"type": "string"}, "port": {"type": "integer"}}}},
        }));
        assert_eq!(
            messages(
                s,
                json!({"spec": {"tags": ["a", "b", "a", "a"],
                "ports": [{"name": "x", "port": 1}, {"name": "x", "port": 2}]}})
            ),
            [
                r#"spec.ports[1]: Duplicate value: map[string]interface {}{"name":"x"}"#,
                r#"spec.tags[2]: Duplicate value: "a""#,
            ]
        );
    }

    #[test]
    fn more_messages() {
        let s = spec(json!({
            "closed": {"type": "object", "additionalProperties": false},
            "one": {"type": "integer", "oneOf": [{"minimum": 0}, {"maximum": 10}]},
            "all": {"type": "integer", "allOf": [{"minimum": 5}, {"maximum": 1}]},
            "e": {"type": "string", "nullable": true, "enum": ["a"]},
            "f": {"type": "number", "maximum": 1e6},
        }));
        assert_eq!(
            messages(
                s,
                json!({"spec": {"closed": {"x": 1}, "one": 5, "all": 3, "e": null, "f": 2e6}})
            ),
            [
                "spec.all: Invalid value: 3: spec.all in body should be greater than or equal to 5",
                "spec.all: Invalid value: 3: spec.all in body should be less than or equal to 1",
                r#": Invalid value: "": "spec.all" must validate all the schemas (allOf). None validated"#,
                r#"spec.closed: Invalid value: "x": spec.closed.x in body is a forbidden property"#,
                // Upstream never matches null against an enum.
                "spec.e: Unsupported value: null: supported values: \"a\"",
                "spec.f: Invalid value: 2e+06: spec.f in body should be less than or equal to 1e+06",
                r#": Invalid value: "": "spec.one" must validate one and only one schema (oneOf). Found 2 valid alternatives"#,
            ]
        );
    }

    #[test]
    fn crontab_example_from_the_docs() {
        let s = spec(json!({
            "cronSpec": {"type": "string", "pattern": r"^(\d+|\*)(/\d+)?(\s+(\d+|\*)(/\d+)?){4}$"},
            "image": {"type": "string"},
            "replicas": {"type": "integer", "minimum": 1, "maximum": 10},
        }));
        assert!(
            messages(
                s.clone(),
                json!({"spec": {"cronSpec": "* * * * */5", "replicas": 1}})
            )
            .is_empty()
        );
        assert_eq!(
            messages(
                s,
                json!({"spec": {"cronSpec": "* * * *", "image": "i", "replicas": 15}})
            ),
            [
                r#"spec.cronSpec: Invalid value: "* * * *": spec.cronSpec in body should match '^(\d+|\*)(/\d+)?(\s+(\d+|\*)(/\d+)?){4}$'"#,
                "spec.replicas: Invalid value: 15: spec.replicas in body should be less than or equal to 10",
            ]
        );
    }

    #[test]
    fn lenient_nodes_never_fail_on_junk() {
        let n = node(json!({"type": "weird", "pattern": "(", "multipleOf": 0, "format": "int32"}));
        let _ = openapi(&n, &json!({"a": [1, 2.5, null]}), &Path::new(""));
    }
}

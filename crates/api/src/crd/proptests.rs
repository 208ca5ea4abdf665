//! Nothing panics, whatever the schema and the object.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::JSONSchemaProps;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::{Structural, jsonpath};
use crate::validation::{Errors, Path};

const KEYS: &[&str] = &[
    "a",
    "b",
    "spec",
    "metadata",
    "kind",
    "apiVersion",
    "name",
    "x",
];

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(KEYS).prop_map(str::to_owned),
        "[a-z.\\[\\]]{0,4}",
    ]
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null)),
        "\\PC{0,8}".prop_map(Value::String),
        prop::sample::select(vec![
            "",
            "A",
            "1",
            "2024-01-01T00:00:00Z",
            "aGk=",
            "v1",
            "a/b/c"
        ])
        .prop_map(|s| Value::String(s.to_owned())),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(5, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..5)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn leaf_schema() -> impl Strategy<Value = Value> {
    let types = prop::sample::select(vec![
        "", "object", "array", "string", "integer", "number", "boolean", "null", "weird",
    ]);
    let formats = prop::sample::select(vec![
        "",
        "int32",
        "date-time",
        "byte",
        "uuid",
        "email",
        "cidr",
        "duration",
        "quantity",
    ]);
    let patterns = prop::sample::select(vec!["", "^[a-z]+$", "(", "\\d", "[[:alpha:]]", "a{2,3}"]);
    (
        types,
        formats,
        patterns,
        prop::option::of(-5i64..20),
        prop::option::of(-5i64..20),
        prop::option::of(prop_oneof![
            Just(0.0),
            Just(-1.5),
            Just(0.5),
            Just(3.0),
            Just(1e300)
        ]),
        prop::option::of(prop::collection::vec(scalar(), 0..3)),
        prop::option::of(scalar()),
        any::<[bool; 6]>(),
        prop::sample::select(vec!["", "atomic", "set", "map", "bag"]),
    )
        .prop_map(
            |(t, format, pattern, min, max, num, enum_, default, flags, list_type)| {
                let mut m = Map::new();
                let mut put = |k: &str, v: Value| {
                    m.insert(k.to_owned(), v);
                };
                if !t.is_empty() {
                    put("type", json!(t));
                }
                if !format.is_empty() {
                    put("format", json!(format));
                }
                if !pattern.is_empty() {
                    put("pattern", json!(pattern));
                }
                if let Some(v) = min {
                    put("minLength", json!(v));
                    put("minItems", json!(v));
                    put("minProperties", json!(v));
                }
                if let Some(v) = max {
                    put("maxLength", json!(v));
                    put("maxItems", json!(v));
                    put("maxProperties", json!(v));
                }
                if let Some(n) = num {
                    put("multipleOf", json!(n));
                    put("maximum", json!(n));
                    put("minimum", json!(-n));
                }
                if let Some(e) = enum_ {
                    put("enum", Value::Array(e));
                }
                if let Some(d) = default {
                    put("default", d);
                }
                put("nullable", json!(flags[0]));
                if flags[1] {
                    put("x-kubernetes-preserve-unknown-fields", json!(true));
                }
                if flags[2] {
                    put("x-kubernetes-int-or-string", json!(true));
                }
                if flags[3] {
                    put("x-kubernetes-embedded-resource", json!(true));
                }
                put("exclusiveMaximum", json!(flags[4]));
                put("uniqueItems", json!(flags[5]));
                if !list_type.is_empty() {
                    put("x-kubernetes-list-type", json!(list_type));
                    put("x-kubernetes-list-map-keys", json!(["name", "a"]));
                }
                Value::Object(m)
            },
        )
}

fn schema() -> impl Strategy<Value = Value> {
    leaf_schema().prop_recursive(4, 40, 5, |inner| {
        (
            leaf_schema(),
            prop::collection::vec((key(), inner.clone()), 0..4),
            prop::option::of(inner.clone()),
            prop::option::of(prop_oneof![
                inner.clone(),
                any::<bool>().prop_map(Value::Bool)
            ]),
            prop::collection::vec(inner.clone(), 0..3),
            prop::option::of(inner),
            prop::collection::vec(key(), 0..3),
        )
            .prop_map(|(base, props, items, additional, any_of, not, required)| {
                let mut m = base.as_object().cloned().unwrap_or_default();
                if !props.is_empty() {
                    m.insert(
                        "properties".into(),
                        Value::Object(props.into_iter().collect()),
                    );
                }
                if let Some(i) = items {
                    m.insert("items".into(), i);
                }
                if let Some(a) = additional {
                    m.insert("additionalProperties".into(), a);
                }
                if !any_of.is_empty() {
                    m.insert("anyOf".into(), Value::Array(any_of.clone()));
                    m.insert("allOf".into(), Value::Array(any_of.clone()));
                    m.insert("oneOf".into(), Value::Array(any_of));
                }
                if let Some(n) = not {
                    m.insert("not".into(), n);
                }
                m.insert("required".into(), json!(required));
                Value::Object(m)
            })
    })
}

/// Schemas built to be structural, so that most pass the checks.
fn structural_schema() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        (
            prop::option::of(0i64..4),
            any::<bool>(),
            prop::sample::select(vec!["", "^[a-z]*$", "date-time", "byte"])
        )
            .prop_map(|(max, with_default, extra)| {
                let mut m = json!({"type": "string"});
                if let Some(max) = max {
                    m["maxLength"] = json!(max);
                }
                match extra {
                    "" => {}
                    p if p.starts_with('^') => m["pattern"] = json!(p),
                    f => m["format"] = json!(f),
                }
                if with_default {
                    m["default"] = json!("");
                }
                m
            }),
        (prop::option::of(-3i64..3), any::<bool>()).prop_map(|(min, d)| {
            let mut m = json!({"type": "integer", "enum": [0, 1, 2, 1.5]});
            if let Some(min) = min {
                m["minimum"] = json!(min);
            }
            if d {
                m["default"] = json!(1);
            }
            m
        }),
        Just(json!({"type": "number", "multipleOf": 0.5, "maximum": 10, "exclusiveMaximum": true})),
        Just(json!({"type": "boolean", "nullable": true})),
        Just(
            json!({"x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}]})
        ),
        Just(json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true})),
        Just(
            json!({"type": "object", "x-kubernetes-embedded-resource": true,
            "x-kubernetes-preserve-unknown-fields": true})
        ),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            (
                prop::collection::vec((prop::sample::select(KEYS), inner.clone()), 1..4),
                any::<bool>()
            )
                .prop_map(|(props, required)| {
                    let names: Vec<&str> = props.iter().map(|(k, _)| *k).collect();
                    let props: Map<String, Value> =
                        props.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
                    let mut m = json!({"type": "object", "properties": props});
                    if required {
                        m["required"] = json!([names[0]]);
                        m["minProperties"] = json!(1);
                    }
                    m
                }),
            (
                inner.clone(),
                prop::sample::select(vec!["", "atomic", "set"]),
                prop::option::of(0i64..3)
            )
                .prop_map(|(items, list_type, max)| {
                    let mut m = json!({"type": "array", "items": items});
                    if !list_type.is_empty() {
                        m["x-kubernetes-list-type"] = json!(list_type);
                    }
                    if let Some(max) = max {
                        m["maxItems"] = json!(max);
                    }
                    m
                }),
            Just(json!({"type": "array", "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["name"],
                "items": {"type": "object", "required": ["name"], "properties": {
                    "name": {"type": "string"}, "a": {"type": "integer", "default": 3}}}})),
            inner.prop_map(|v| json!({"type": "object", "additionalProperties": v})),
        ]
    })
    .prop_map(
        |spec| json!({"type": "object", "properties": {"spec": spec, "a": {"type": "string"}}}),
    )
}

fn exercise(s: &Structural, obj: &Value, checked: bool) {
    let mut o = obj.clone();
    let _ = s.prune(&mut o);
    s.apply_defaults(&mut o);
    let mut errs = Errors::default();
    s.validate(&o, &mut errs);
    s.validate(obj, &mut errs);
    for e in &errs.0 {
        let _ = e.to_string();
    }
    let mut again = o.clone();
    let pruned = s.prune_unknown_fields(&mut again);
    assert!(
        !checked || pruned.is_empty(),
        "defaults are pruned: {pruned:?}"
    );
    let _ = s.shape_at(&["spec", "a", "name"]);
    let _ = s.root().field("spec");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn schemas_and_objects_never_panic(schema in schema(), obj in value()) {
        let Ok(props) = serde_json::from_value::<JSONSchemaProps>(schema) else {
            return Ok(());
        };
        let base = Path::new("spec.versions[0].schema.openAPIV3Schema");
        let _ = Structural::validate_root_for_status(&props, &base);
        match Structural::from_schema(&props, &base) {
            Ok(s) => exercise(&s, &obj, true),
            Err(errs) => {
                prop_assert!(!errs.is_empty());
                for e in &errs {
                    let _ = e.to_string();
                }
            }
        }
        exercise(&Structural::from_schema_unchecked(&props), &obj, false);
    }

    #[test]
    fn structural_schemas_never_panic(schema in structural_schema(), obj in value(), spec in value()) {
        let props: JSONSchemaProps = serde_json::from_value(schema).unwrap();
        let base = Path::new("spec.versions[0].schema.openAPIV3Schema");
        let mut obj = obj;
        if let Some(m) = obj.as_object_mut() {
            m.insert("spec".into(), spec);
        }
        // Most are structural; the others must at least explain why.
        match Structural::from_schema(&props, &base) {
            Ok(s) => exercise(&s, &obj, true),
            Err(errs) => prop_assert!(!errs.is_empty()),
        }
    }

    #[test]
    fn jsonpath_never_panics(expr in "[.a-z\\[\\]*?@()='\"0-9:,$ <>!-]{0,24}", obj in value()) {
        let _ = jsonpath::eval(&expr, &obj);
        for t in ["string", "integer", "number", "boolean", "date", "other"] {
            let _ = jsonpath::cell(&expr, t, &obj);
        }
    }
}

#[test]
fn deep_values_and_schemas_are_bounded() {
    // An object nested far deeper than any schema.
    // (Built by hand: `json!` would serialize the interpolated value
    // recursively.)
    let mut deep = json!(1);
    for _ in 0..5000 {
        deep = Value::Array(vec![deep]);
    }
    let mut spec = Map::new();
    spec.insert("a".into(), deep);
    let mut root = Map::new();
    root.insert("spec".into(), Value::Object(spec));
    let mut obj = Value::Object(root);
    let props: JSONSchemaProps = serde_json::from_value(json!({"type": "object", "properties": {
        "spec": {"type": "object", "properties": {"a": {"type": "array", "items": {"type": "array",
            "items": {"type": "integer"}}}}}}}))
    .unwrap();
    let s = Structural::from_schema(&props, &Path::new("x")).unwrap();
    let _ = s.prune(&mut obj);
    let mut errs = Errors::default();
    s.validate(&obj, &mut errs);
    let _ = jsonpath::eval("..x", &obj);
    // A schema nested deeper than MAX_DEPTH is rejected, not overflowed.
    let mut schema = json!({"type": "string"});
    for _ in 0..(super::MAX_DEPTH + 5) {
        schema = json!({"type": "object", "properties": {"a": schema}});
    }
    let props: JSONSchemaProps = serde_json::from_value(schema).unwrap();
    assert!(Structural::from_schema(&props, &Path::new("x")).is_err());
    // Dropping the deep value must not overflow the stack either.
    std::mem::forget(obj);
}

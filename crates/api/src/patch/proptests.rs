//! Fuzzing the patch engines and server-side apply with arbitrary input:
//! whatever a client sends, they return a value or an error, never panic.
//! Inputs mix real field names of a Deployment (so the merge keys and
//! list strategies of the type table are exercised) with directives and
//! junk.

use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::{PatchType, apply, schema::for_kind};
use crate::managed::{self, Manager, Part};

/// Keys that steer the walk into typed territory, directives, and noise.
const KEYS: &[&str] = &[
    "metadata",
    "labels",
    "annotations",
    "spec",
    "template",
    "containers",
    "initContainers",
    "name",
    "image",
    "ports",
    "containerPort",
    "protocol",
    "env",
    "value",
    "volumes",
    "volumeMounts",
    "mountPath",
    "tolerations",
    "finalizers",
    "args",
    "selector",
    "matchLabels",
    "replicas",
    "$patch",
    "$retainKeys",
    "$setElementOrder/containers",
    "$setElementOrder/env",
    "$deleteFromPrimitiveList/finalizers",
    "$deleteFromPrimitiveList/args",
    "x",
];

const STRINGS: &[&str] = &["replace", "delete", "merge", "web", "TCP", "a", ""];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        (-3i64..100).prop_map(Value::from),
        prop::sample::select(STRINGS).prop_map(Value::from),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..5).prop_map(|kv| {
                Value::Object(
                    kv.into_iter()
                        .map(|(k, v)| (k.to_owned(), v))
                        .collect::<Map<String, Value>>(),
                )
            }),
        ]
    })
}

/// A plausible Deployment with random parts grafted in.
fn deployment() -> impl Strategy<Value = Value> {
    (value(), value(), value()).prop_map(|(a, b, c)| {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "d", "labels": a},
            "spec": {"replicas": 1, "template": {"spec": {
                "containers": [{"name": "web", "image": "nginx", "env": b}],
                "volumes": c
            }}}
        })
    })
}

fn manager(name: &str, op: &'static str) -> Manager {
    Manager {
        name: name.into(),
        operation: op,
        api_version: "apps/v1".into(),
        time: "2026-01-01T00:00:00Z".into(),
        subresource: None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, .. ProptestConfig::default() })]

    #[test]
    fn patches_never_panic(original in deployment(), patch in value()) {
        let schema = for_kind("apps", "v1", "Deployment");
        for kind in [PatchType::Strategic, PatchType::Merge, PatchType::Json] {
            let _ = apply(kind, original.clone(), &patch, schema);
        }
        // Untyped (custom resources): merge and JSON patch only.
        let _ = apply(PatchType::Merge, original.clone(), &patch, None);
    }

    #[test]
    fn strategic_patches_of_random_objects_never_panic(original in value(), patch in value()) {
        let schema = for_kind("apps", "v1", "Deployment");
        let _ = apply(PatchType::Strategic, original, &patch, schema);
    }

    #[test]
    fn apply_and_ownership_never_panic(live in deployment(), applied in deployment(), other in deployment()) {
        let schema = for_kind("apps", "v1", "Deployment");
        let mut with_owner = live.clone();
        managed::record_update(None, &mut with_owner, &manager("other", "Update"), schema, Part::Main);
        let mut updated = other.clone();
        managed::record_update(Some(&with_owner), &mut updated, &manager("other", "Update"), schema, Part::Main);
        for force in [false, true] {
            match managed::apply(Some(&updated), &applied, &manager("me", "Apply"), force, schema, Part::Main) {
                Ok(merged) => {
                    // What was applied reads back from the result's entries.
                    prop_assert!(merged["metadata"]["managedFields"].is_array() || merged["metadata"].is_object());
                }
                Err(conflicts) => {
                    prop_assert!(!force);
                    let _ = managed::conflict_message(&conflicts);
                }
            }
        }
        let _ = managed::changed_fields(&live, &applied, schema, Part::Main);
    }
}

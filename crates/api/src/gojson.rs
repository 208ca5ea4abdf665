//! Go's JSON encoding of upstream's types, where it differs from
//! k8s-openapi's serde.
//!
//! Upstream serializes its Go structs: an empty list or map of an
//! `omitempty` field is left out, and a `metav1.Time` held by value (not
//! through a pointer) is always written, as `null` when unset. Clients see
//! those shapes (`kubectl get -o yaml` shows `lastProbeTime: null` in pod
//! conditions and no `annotations: {}` once the last annotation is
//! removed), so every built-in object is normalized the same way before it
//! is stored. The merge-shape table (`patch::schema`) tells which fields
//! are lists and maps; the two tables below hold what k8s-openapi does not
//! carry.

use serde_json::{Map, Value};

#[cfg(test)]
use crate::patch::schema::lookup;
use crate::patch::schema::{Shape, TypeDef, nested};

/// Lists and maps upstream declares without `omitempty`: kept when empty.
const KEPT_WHEN_EMPTY: &[(&str, &str)] = &[
    ("api::core::v1::PodSpec", "containers"),
    ("api::core::v1::NodeSelector", "nodeSelectorTerms"),
    ("api::discovery::v1::EndpointSlice", "endpoints"),
    ("api::discovery::v1::EndpointSlice", "ports"),
    ("api::networking::v1::HTTPIngressRuleValue", "paths"),
    ("api::rbac::v1::ClusterRole", "rules"),
    ("api::rbac::v1::Role", "rules"),
    ("api::rbac::v1::PolicyRule", "verbs"),
    (
        "apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinitionSpec",
        "versions",
    ),
];

/// `metav1.Time` / `MicroTime` fields held by value: `null` when unset.
const ZERO_TIMES: &[(&str, &[&str])] = &[
    ("api::apps::v1::DaemonSetCondition", &["lastTransitionTime"]),
    (
        "api::apps::v1::DeploymentCondition",
        &["lastTransitionTime", "lastUpdateTime"],
    ),
    (
        "api::apps::v1::ReplicaSetCondition",
        &["lastTransitionTime"],
    ),
    (
        "api::apps::v1::StatefulSetCondition",
        &["lastTransitionTime"],
    ),
    (
        "api::autoscaling::v2::HorizontalPodAutoscalerCondition",
        &["lastTransitionTime"],
    ),
    (
        "api::batch::v1::JobCondition",
        &["lastProbeTime", "lastTransitionTime"],
    ),
    ("api::core::v1::ContainerStateRunning", &["startedAt"]),
    (
        "api::core::v1::ContainerStateTerminated",
        &["finishedAt", "startedAt"],
    ),
    (
        "api::core::v1::Event",
        &["eventTime", "firstTimestamp", "lastTimestamp"],
    ),
    ("api::core::v1::NamespaceCondition", &["lastTransitionTime"]),
    (
        "api::core::v1::NodeCondition",
        &["lastHeartbeatTime", "lastTransitionTime"],
    ),
    (
        "api::core::v1::PersistentVolumeClaimCondition",
        &["lastProbeTime", "lastTransitionTime"],
    ),
    (
        "api::core::v1::PodCondition",
        &["lastProbeTime", "lastTransitionTime"],
    ),
    (
        "api::core::v1::ReplicationControllerCondition",
        &["lastTransitionTime"],
    ),
    (
        "apimachinery::pkg::apis::meta::v1::ObjectMeta",
        &["creationTimestamp"],
    ),
];

/// Normalize `obj`, an object of type `ty`, as Go would have encoded it.
pub fn normalize(obj: &mut Value, ty: &'static TypeDef) {
    if let Value::Object(m) = obj {
        normalize_struct(m, ty);
    }
}

/// Struct fields held by value that hold an `ObjectMeta`: always written.
const ALWAYS_WRITTEN: &[(&str, &str)] = &[
    ("api::batch::v1::JobTemplateSpec", "metadata"),
    ("api::core::v1::PodTemplateSpec", "metadata"),
];

fn normalize_struct(m: &mut Map<String, Value>, ty: &'static TypeDef) {
    for (t, f) in ALWAYS_WRITTEN {
        if *t == ty.name {
            m.entry(*f).or_insert_with(|| Value::Object(Map::new()));
        }
    }
    for field in ty.fields {
        let Some(v) = m.get_mut(field.json) else {
            continue;
        };
        let empty = match (&mut *v, field.shape) {
            (Value::Object(inner), Shape::Struct(t)) => {
                if let Some(t) = nested(t) {
                    normalize_struct(inner, t);
                }
                false
            }
            (Value::Object(inner), Shape::MapGranular(t)) => {
                if let Some(t) = nested(t) {
                    for value in inner.values_mut() {
                        if let Value::Object(vm) = value {
                            normalize_struct(vm, t);
                        }
                    }
                }
                inner.is_empty()
            }
            (Value::Object(inner), Shape::MapAtomic) => inner.is_empty(),
            (Value::Array(items), Shape::ListMap(_, t) | Shape::ListAtomic(t)) => {
                if let Some(t) = nested(t) {
                    for item in items.iter_mut() {
                        if let Value::Object(im) = item {
                            normalize_struct(im, t);
                        }
                    }
                }
                items.is_empty()
            }
            (Value::Array(items), Shape::ListSet) => items.is_empty(),
            _ => false,
        };
        if empty && !KEPT_WHEN_EMPTY.contains(&(ty.name, field.json)) {
            m.remove(field.json);
        }
    }
    if let Some((_, fields)) = ZERO_TIMES.iter().find(|(t, _)| *t == ty.name) {
        for f in *fields {
            m.entry(*f).or_insert(Value::Null);
        }
    }
}

/// Normalize a value of a named type.
#[cfg(test)]
fn normalize_as(obj: &mut Value, type_name: &str) {
    if let Some(t) = lookup(type_name) {
        normalize(obj, t);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn empty_omitempty_collections_go_and_zero_times_read_null() {
        let mut pod = json!({
            "metadata": {"name": "p", "annotations": {}, "labels": {"a": "b"}},
            "spec": {"containers": [{"name": "c", "ports": [], "env": []}], "nodeSelector": {}},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]}
        });
        normalize_as(&mut pod, "api::core::v1::Pod");
        assert_eq!(
            pod,
            json!({
                "metadata": {"name": "p", "labels": {"a": "b"}, "creationTimestamp": null},
                "spec": {"containers": [{"name": "c"}]},
                "status": {"conditions": [{"type": "Ready", "status": "True",
                    "lastProbeTime": null, "lastTransitionTime": null}]}
            })
        );
        // A list upstream always writes stays, even empty.
        let mut role = json!({"metadata": {"name": "r"}, "rules": []});
        normalize_as(&mut role, "api::rbac::v1::ClusterRole");
        assert_eq!(role["rules"], json!([]));
    }
}

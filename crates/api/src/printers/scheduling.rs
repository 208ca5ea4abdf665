//! Tables of scheduling.k8s.io/v1 kinds, as upstream prints them.

use k8s_openapi::api::scheduling::v1 as api;
use k8s_openapi::jiff::Timestamp;
use serde_json::Value;

use crate::table::{AGE, Column, NAME, age_cell, col, name_cell};

/// Columns of PriorityClass. PreemptionPolicy has priority 0 upstream too.
pub const PRIORITY_CLASS: &[Column] = &[
    NAME,
    col(
        "Value",
        "integer",
        "value represents the integer value of this priority class.",
    ),
    col(
        "Global-Default",
        "boolean",
        "globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class.",
    ),
    AGE,
    col(
        "PreemptionPolicy",
        "string",
        "preemptionPolicy is the Policy for preempting pods with lower priority.",
    ),
];

/// Cells of one PriorityClass.
pub fn priority_class(obj: &api::PriorityClass, now: Timestamp) -> Vec<Value> {
    vec![
        name_cell(&obj.metadata),
        Value::from(i64::from(obj.value)),
        Value::from(obj.global_default.unwrap_or(false)),
        age_cell(&obj.metadata, now),
        Value::from(obj.preemption_policy.clone().unwrap_or_default()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    use serde_json::json;

    #[test]
    fn priority_class_cells() {
        let pc = api::PriorityClass {
            metadata: ObjectMeta {
                name: Some("high".into()),
                ..Default::default()
            },
            value: 1000,
            global_default: Some(true),
            preemption_policy: Some("PreemptLowerPriority".into()),
            ..Default::default()
        };
        let now = "2024-05-01T12:00:00Z".parse().unwrap();
        assert_eq!(
            priority_class(&pc, now),
            vec![
                json!("high"),
                json!(1000),
                json!(true),
                json!("<unknown>"),
                json!("PreemptLowerPriority"),
            ]
        );
    }
}

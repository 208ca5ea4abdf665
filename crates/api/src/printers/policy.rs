//! Tables of policy/v1 kinds, as upstream prints them.

use k8s_openapi::api::policy::v1 as api;
use k8s_openapi::jiff::Timestamp;
use serde_json::Value;

use super::int_or_string;
use crate::table::{AGE, Column, NAME, age_cell, col, name_cell};

/// Columns of PodDisruptionBudget.
pub const POD_DISRUPTION_BUDGET: &[Column] = &[
    NAME,
    col(
        "Min Available",
        "string",
        "The minimum number of pods that must be available simultaneously.  This can be either an integer or a string specifying a percentage, e.g. \"28%\".",
    ),
    col(
        "Max Unavailable",
        "string",
        "The maximum number of pods that may be unavailable simultaneously.  This can be either an integer or a string specifying a percentage, e.g. \"28%\".",
    ),
    col(
        "Allowed Disruptions",
        "integer",
        "Calculated number of pods that may be disrupted at this time.",
    ),
    AGE,
];

/// Cells of one PodDisruptionBudget.
pub fn pod_disruption_budget(obj: &api::PodDisruptionBudget, now: Timestamp) -> Vec<Value> {
    let spec = obj.spec.as_ref();
    let na = |v: Option<&k8s_openapi::apimachinery::pkg::util::intstr::IntOrString>| {
        v.map_or_else(|| "N/A".into(), int_or_string)
    };
    vec![
        name_cell(&obj.metadata),
        Value::from(na(spec.and_then(|s| s.min_available.as_ref()))),
        Value::from(na(spec.and_then(|s| s.max_unavailable.as_ref()))),
        Value::from(i64::from(
            obj.status.as_ref().map_or(0, |s| s.disruptions_allowed),
        )),
        age_cell(&obj.metadata, now),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
    use serde_json::json;

    #[test]
    fn pdb_cells() {
        let pdb = api::PodDisruptionBudget {
            metadata: ObjectMeta {
                name: Some("web".into()),
                ..Default::default()
            },
            spec: Some(api::PodDisruptionBudgetSpec {
                min_available: Some(IntOrString::Int(2)),
                max_unavailable: None,
                ..Default::default()
            }),
            status: Some(api::PodDisruptionBudgetStatus {
                disruptions_allowed: 1,
                ..Default::default()
            }),
        };
        let now = "2024-05-01T12:00:00Z".parse().unwrap();
        assert_eq!(
            pod_disruption_budget(&pdb, now),
            vec![
                json!("web"),
                json!("2"),
                json!("N/A"),
                json!(1),
                json!("<unknown>")
            ]
        );
        let mut pdb = pdb;
        pdb.spec.as_mut().unwrap().min_available = None;
        pdb.spec.as_mut().unwrap().max_unavailable = Some(IntOrString::String("50%".into()));
        let cells = pod_disruption_budget(&pdb, now);
        assert_eq!(cells[1], json!("N/A"));
        assert_eq!(cells[2], json!("50%"));
    }
}

//! Tables of policy/v1 kinds, as upstream prints them.

use k8s_openapi::api::policy::v1 as api;
use k8s_openapi::jiff::Timestamp;
use serde_json::Value;

use crate::table::{Column, DEFAULT_COLUMNS, default_cells};

/// Columns of PodDisruptionBudget.
pub const POD_DISRUPTION_BUDGET: &[Column] = DEFAULT_COLUMNS;

/// Cells of one PodDisruptionBudget.
pub fn pod_disruption_budget(obj: &api::PodDisruptionBudget, _now: Timestamp) -> Vec<Value> {
    default_cells(&obj.metadata)
}

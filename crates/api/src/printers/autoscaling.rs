//! Tables of autoscaling/v2 kinds, as upstream prints them.

use k8s_openapi::api::autoscaling::v2 as api;
use k8s_openapi::jiff::Timestamp;
use serde_json::Value;

use crate::table::{Column, DEFAULT_COLUMNS, default_cells};

/// Columns of HorizontalPodAutoscaler.
pub const HORIZONTAL_POD_AUTOSCALER: &[Column] = DEFAULT_COLUMNS;

/// Cells of one HorizontalPodAutoscaler.
pub fn horizontal_pod_autoscaler(
    obj: &api::HorizontalPodAutoscaler,
    _now: Timestamp,
) -> Vec<Value> {
    default_cells(&obj.metadata)
}

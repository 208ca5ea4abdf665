//! Tables of scheduling.k8s.io/v1 kinds, as upstream prints them.

use k8s_openapi::api::scheduling::v1 as api;
use k8s_openapi::jiff::Timestamp;
use serde_json::Value;

use crate::table::{Column, DEFAULT_COLUMNS, default_cells};

/// Columns of PriorityClass.
pub const PRIORITY_CLASS: &[Column] = DEFAULT_COLUMNS;

/// Cells of one PriorityClass.
pub fn priority_class(obj: &api::PriorityClass, _now: Timestamp) -> Vec<Value> {
    default_cells(&obj.metadata)
}

//! Tables of coordination.k8s.io/v1 kinds, as upstream prints them.

use k8s_openapi::api::coordination::v1 as api;
use k8s_openapi::jiff::Timestamp;
use serde_json::Value;

use crate::table::{Column, DEFAULT_COLUMNS, default_cells};

/// Columns of Lease.
pub const LEASE: &[Column] = DEFAULT_COLUMNS;

/// Cells of one Lease.
pub fn lease(obj: &api::Lease, _now: Timestamp) -> Vec<Value> {
    default_cells(&obj.metadata)
}

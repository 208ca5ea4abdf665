//! Tables of discovery.k8s.io/v1 kinds, as upstream prints them.

use k8s_openapi::api::discovery::v1 as api;
use k8s_openapi::jiff::Timestamp;
use serde_json::Value;

use crate::table::{Column, DEFAULT_COLUMNS, default_cells};

/// Columns of EndpointSlice.
pub const ENDPOINT_SLICE: &[Column] = DEFAULT_COLUMNS;

/// Cells of one EndpointSlice.
pub fn endpoint_slice(obj: &api::EndpointSlice, _now: Timestamp) -> Vec<Value> {
    default_cells(&obj.metadata)
}

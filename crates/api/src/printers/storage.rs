//! Tables of storage.k8s.io/v1 kinds, as upstream prints them.

use k8s_openapi::api::storage::v1 as api;
use k8s_openapi::jiff::Timestamp;
use serde_json::Value;

use crate::table::{Column, DEFAULT_COLUMNS, default_cells};

/// Columns of StorageClass.
pub const STORAGE_CLASS: &[Column] = DEFAULT_COLUMNS;

/// Cells of one StorageClass.
pub fn storage_class(obj: &api::StorageClass, _now: Timestamp) -> Vec<Value> {
    default_cells(&obj.metadata)
}

//! Tables of apps/v1 kinds, as upstream prints them.

use k8s_openapi::api::apps::v1 as api;
use k8s_openapi::jiff::Timestamp;
use serde_json::Value;

use crate::table::{Column, DEFAULT_COLUMNS, default_cells};

/// Columns of Deployment.
pub const DEPLOYMENT: &[Column] = DEFAULT_COLUMNS;

/// Cells of one Deployment.
pub fn deployment(obj: &api::Deployment, _now: Timestamp) -> Vec<Value> {
    default_cells(&obj.metadata)
}

/// Columns of ReplicaSet.
pub const REPLICA_SET: &[Column] = DEFAULT_COLUMNS;

/// Cells of one ReplicaSet.
pub fn replica_set(obj: &api::ReplicaSet, _now: Timestamp) -> Vec<Value> {
    default_cells(&obj.metadata)
}

/// Columns of StatefulSet.
pub const STATEFUL_SET: &[Column] = DEFAULT_COLUMNS;

/// Cells of one StatefulSet.
pub fn stateful_set(obj: &api::StatefulSet, _now: Timestamp) -> Vec<Value> {
    default_cells(&obj.metadata)
}

/// Columns of DaemonSet.
pub const DAEMON_SET: &[Column] = DEFAULT_COLUMNS;

/// Cells of one DaemonSet.
pub fn daemon_set(obj: &api::DaemonSet, _now: Timestamp) -> Vec<Value> {
    default_cells(&obj.metadata)
}

/// Columns of ControllerRevision.
pub const CONTROLLER_REVISION: &[Column] = DEFAULT_COLUMNS;

/// Cells of one ControllerRevision.
pub fn controller_revision(obj: &api::ControllerRevision, _now: Timestamp) -> Vec<Value> {
    default_cells(&obj.metadata)
}

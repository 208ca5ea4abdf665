//! Tables of rbac.authorization.k8s.io/v1 kinds, as upstream prints them.

use k8s_openapi::api::rbac::v1 as api;
use k8s_openapi::jiff::Timestamp;
use serde_json::Value;

use crate::table::{Column, DEFAULT_COLUMNS, default_cells};

/// Columns of Role.
pub const ROLE: &[Column] = DEFAULT_COLUMNS;

/// Cells of one Role.
pub fn role(obj: &api::Role, _now: Timestamp) -> Vec<Value> {
    default_cells(&obj.metadata)
}

/// Columns of ClusterRole.
pub const CLUSTER_ROLE: &[Column] = DEFAULT_COLUMNS;

/// Cells of one ClusterRole.
pub fn cluster_role(obj: &api::ClusterRole, _now: Timestamp) -> Vec<Value> {
    default_cells(&obj.metadata)
}

/// Columns of RoleBinding.
pub const ROLE_BINDING: &[Column] = DEFAULT_COLUMNS;

/// Cells of one RoleBinding.
pub fn role_binding(obj: &api::RoleBinding, _now: Timestamp) -> Vec<Value> {
    default_cells(&obj.metadata)
}

/// Columns of ClusterRoleBinding.
pub const CLUSTER_ROLE_BINDING: &[Column] = DEFAULT_COLUMNS;

/// Cells of one ClusterRoleBinding.
pub fn cluster_role_binding(obj: &api::ClusterRoleBinding, _now: Timestamp) -> Vec<Value> {
    default_cells(&obj.metadata)
}

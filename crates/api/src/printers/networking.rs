//! Tables of networking.k8s.io/v1 kinds, as upstream prints them.

use k8s_openapi::api::networking::v1 as api;
use k8s_openapi::jiff::Timestamp;
use serde_json::Value;

use crate::table::{Column, DEFAULT_COLUMNS, default_cells};

/// Columns of NetworkPolicy.
pub const NETWORK_POLICY: &[Column] = DEFAULT_COLUMNS;

/// Cells of one NetworkPolicy.
pub fn network_policy(obj: &api::NetworkPolicy, _now: Timestamp) -> Vec<Value> {
    default_cells(&obj.metadata)
}

/// Columns of Ingress.
pub const INGRESS: &[Column] = DEFAULT_COLUMNS;

/// Cells of one Ingress.
pub fn ingress(obj: &api::Ingress, _now: Timestamp) -> Vec<Value> {
    default_cells(&obj.metadata)
}

/// Columns of IngressClass.
pub const INGRESS_CLASS: &[Column] = DEFAULT_COLUMNS;

/// Cells of one IngressClass.
pub fn ingress_class(obj: &api::IngressClass, _now: Timestamp) -> Vec<Value> {
    default_cells(&obj.metadata)
}

//! Tables of core/v1 kinds, as upstream prints them.

use k8s_openapi::api::core::v1 as api;
use k8s_openapi::jiff::Timestamp;
use serde_json::Value;

use crate::table::{Column, DEFAULT_COLUMNS, default_cells};

/// Columns of Namespace.
pub const NAMESPACE: &[Column] = DEFAULT_COLUMNS;

/// Cells of one Namespace.
pub fn namespace(obj: &api::Namespace, _now: Timestamp) -> Vec<Value> {
    default_cells(&obj.metadata)
}

/// Columns of Pod.
pub const POD: &[Column] = DEFAULT_COLUMNS;

/// Cells of one Pod.
pub fn pod(obj: &api::Pod, _now: Timestamp) -> Vec<Value> {
    default_cells(&obj.metadata)
}

/// Columns of Service.
pub const SERVICE: &[Column] = DEFAULT_COLUMNS;

/// Cells of one Service.
pub fn service(obj: &api::Service, _now: Timestamp) -> Vec<Value> {
    default_cells(&obj.metadata)
}

/// Columns of Endpoints.
pub const ENDPOINTS: &[Column] = DEFAULT_COLUMNS;

/// Cells of one Endpoints.
pub fn endpoints(obj: &api::Endpoints, _now: Timestamp) -> Vec<Value> {
    default_cells(&obj.metadata)
}

/// Columns of ConfigMap.
pub const CONFIG_MAP: &[Column] = DEFAULT_COLUMNS;

/// Cells of one ConfigMap.
pub fn config_map(obj: &api::ConfigMap, _now: Timestamp) -> Vec<Value> {
    default_cells(&obj.metadata)
}

/// Columns of Secret.
pub const SECRET: &[Column] = DEFAULT_COLUMNS;

/// Cells of one Secret.
pub fn secret(obj: &api::Secret, _now: Timestamp) -> Vec<Value> {
    default_cells(&obj.metadata)
}

/// Columns of ServiceAccount.
pub const SERVICE_ACCOUNT: &[Column] = DEFAULT_COLUMNS;

/// Cells of one ServiceAccount.
pub fn service_account(obj: &api::ServiceAccount, _now: Timestamp) -> Vec<Value> {
    default_cells(&obj.metadata)
}

/// Columns of Node.
pub const NODE: &[Column] = DEFAULT_COLUMNS;

/// Cells of one Node.
pub fn node(obj: &api::Node, _now: Timestamp) -> Vec<Value> {
    default_cells(&obj.metadata)
}

/// Columns of Event.
pub const EVENT: &[Column] = DEFAULT_COLUMNS;

/// Cells of one Event.
pub fn event(obj: &api::Event, _now: Timestamp) -> Vec<Value> {
    default_cells(&obj.metadata)
}

/// Columns of PersistentVolume.
pub const PERSISTENT_VOLUME: &[Column] = DEFAULT_COLUMNS;

/// Cells of one PersistentVolume.
pub fn persistent_volume(obj: &api::PersistentVolume, _now: Timestamp) -> Vec<Value> {
    default_cells(&obj.metadata)
}

/// Columns of PersistentVolumeClaim.
pub const PERSISTENT_VOLUME_CLAIM: &[Column] = DEFAULT_COLUMNS;

/// Cells of one PersistentVolumeClaim.
pub fn persistent_volume_claim(obj: &api::PersistentVolumeClaim, _now: Timestamp) -> Vec<Value> {
    default_cells(&obj.metadata)
}

/// Columns of ReplicationController.
pub const REPLICATION_CONTROLLER: &[Column] = DEFAULT_COLUMNS;

/// Cells of one ReplicationController.
pub fn replication_controller(obj: &api::ReplicationController, _now: Timestamp) -> Vec<Value> {
    default_cells(&obj.metadata)
}

/// Columns of LimitRange.
pub const LIMIT_RANGE: &[Column] = DEFAULT_COLUMNS;

/// Cells of one LimitRange.
pub fn limit_range(obj: &api::LimitRange, _now: Timestamp) -> Vec<Value> {
    default_cells(&obj.metadata)
}

/// Columns of ResourceQuota.
pub const RESOURCE_QUOTA: &[Column] = DEFAULT_COLUMNS;

/// Cells of one ResourceQuota.
pub fn resource_quota(obj: &api::ResourceQuota, _now: Timestamp) -> Vec<Value> {
    default_cells(&obj.metadata)
}

/// Columns of PodTemplate.
pub const POD_TEMPLATE: &[Column] = DEFAULT_COLUMNS;

/// Cells of one PodTemplate.
pub fn pod_template(obj: &api::PodTemplate, _now: Timestamp) -> Vec<Value> {
    default_cells(&obj.metadata)
}

//! Validation of core/v1 kinds, as upstream's.

use k8s_openapi::api::core::v1 as api;

use super::Errors;

/// Validate a Namespace.
pub fn namespace(_obj: &api::Namespace, _errs: &mut Errors) {}

/// Validate an update of a Namespace.
pub fn namespace_update(_new: &api::Namespace, _old: &api::Namespace, _errs: &mut Errors) {}

/// Validate a Pod.
pub fn pod(_obj: &api::Pod, _errs: &mut Errors) {}

/// Validate an update of a Pod.
pub fn pod_update(_new: &api::Pod, _old: &api::Pod, _errs: &mut Errors) {}

/// Validate a Service.
pub fn service(_obj: &api::Service, _errs: &mut Errors) {}

/// Validate an update of a Service.
pub fn service_update(_new: &api::Service, _old: &api::Service, _errs: &mut Errors) {}

/// Validate a Endpoints.
pub fn endpoints(_obj: &api::Endpoints, _errs: &mut Errors) {}

/// Validate an update of a Endpoints.
pub fn endpoints_update(_new: &api::Endpoints, _old: &api::Endpoints, _errs: &mut Errors) {}

/// Validate a ConfigMap.
pub fn config_map(_obj: &api::ConfigMap, _errs: &mut Errors) {}

/// Validate an update of a ConfigMap.
pub fn config_map_update(_new: &api::ConfigMap, _old: &api::ConfigMap, _errs: &mut Errors) {}

/// Validate a Secret.
pub fn secret(_obj: &api::Secret, _errs: &mut Errors) {}

/// Validate an update of a Secret.
pub fn secret_update(_new: &api::Secret, _old: &api::Secret, _errs: &mut Errors) {}

/// Validate a ServiceAccount.
pub fn service_account(_obj: &api::ServiceAccount, _errs: &mut Errors) {}

/// Validate an update of a ServiceAccount.
pub fn service_account_update(
    _new: &api::ServiceAccount,
    _old: &api::ServiceAccount,
    _errs: &mut Errors,
) {
}

/// Validate a Node.
pub fn node(_obj: &api::Node, _errs: &mut Errors) {}

/// Validate an update of a Node.
pub fn node_update(_new: &api::Node, _old: &api::Node, _errs: &mut Errors) {}

/// Validate a Event.
pub fn event(_obj: &api::Event, _errs: &mut Errors) {}

/// Validate an update of a Event.
pub fn event_update(_new: &api::Event, _old: &api::Event, _errs: &mut Errors) {}

/// Validate a PersistentVolume.
pub fn persistent_volume(_obj: &api::PersistentVolume, _errs: &mut Errors) {}

/// Validate an update of a PersistentVolume.
pub fn persistent_volume_update(
    _new: &api::PersistentVolume,
    _old: &api::PersistentVolume,
    _errs: &mut Errors,
) {
}

/// Validate a PersistentVolumeClaim.
pub fn persistent_volume_claim(_obj: &api::PersistentVolumeClaim, _errs: &mut Errors) {}

/// Validate an update of a PersistentVolumeClaim.
pub fn persistent_volume_claim_update(
    _new: &api::PersistentVolumeClaim,
    _old: &api::PersistentVolumeClaim,
    _errs: &mut Errors,
) {
}

/// Validate a ReplicationController.
pub fn replication_controller(_obj: &api::ReplicationController, _errs: &mut Errors) {}

/// Validate an update of a ReplicationController.
pub fn replication_controller_update(
    _new: &api::ReplicationController,
    _old: &api::ReplicationController,
    _errs: &mut Errors,
) {
}

/// Validate a LimitRange.
pub fn limit_range(_obj: &api::LimitRange, _errs: &mut Errors) {}

/// Validate an update of a LimitRange.
pub fn limit_range_update(_new: &api::LimitRange, _old: &api::LimitRange, _errs: &mut Errors) {}

/// Validate a ResourceQuota.
pub fn resource_quota(_obj: &api::ResourceQuota, _errs: &mut Errors) {}

/// Validate an update of a ResourceQuota.
pub fn resource_quota_update(
    _new: &api::ResourceQuota,
    _old: &api::ResourceQuota,
    _errs: &mut Errors,
) {
}

/// Validate a PodTemplate.
pub fn pod_template(_obj: &api::PodTemplate, _errs: &mut Errors) {}

/// Validate an update of a PodTemplate.
pub fn pod_template_update(_new: &api::PodTemplate, _old: &api::PodTemplate, _errs: &mut Errors) {}

//! Defaults of core/v1 kinds, as upstream's `SetDefaults_*`.

use k8s_openapi::api::core::v1 as api;

/// Defaults of a Namespace.
pub fn namespace(_obj: &mut api::Namespace) {}

/// Defaults of a Pod.
pub fn pod(_obj: &mut api::Pod) {}

/// Defaults of a Service.
pub fn service(_obj: &mut api::Service) {}

/// Defaults of a Endpoints.
pub fn endpoints(_obj: &mut api::Endpoints) {}

/// Defaults of a ConfigMap.
pub fn config_map(_obj: &mut api::ConfigMap) {}

/// Defaults of a Secret.
pub fn secret(_obj: &mut api::Secret) {}

/// Defaults of a ServiceAccount.
pub fn service_account(_obj: &mut api::ServiceAccount) {}

/// Defaults of a Node.
pub fn node(_obj: &mut api::Node) {}

/// Defaults of a Event.
pub fn event(_obj: &mut api::Event) {}

/// Defaults of a PersistentVolume.
pub fn persistent_volume(_obj: &mut api::PersistentVolume) {}

/// Defaults of a PersistentVolumeClaim.
pub fn persistent_volume_claim(_obj: &mut api::PersistentVolumeClaim) {}

/// Defaults of a ReplicationController.
pub fn replication_controller(_obj: &mut api::ReplicationController) {}

/// Defaults of a LimitRange.
pub fn limit_range(_obj: &mut api::LimitRange) {}

/// Defaults of a ResourceQuota.
pub fn resource_quota(_obj: &mut api::ResourceQuota) {}

/// Defaults of a PodTemplate.
pub fn pod_template(_obj: &mut api::PodTemplate) {}

//! Defaults of storage.k8s.io/v1 kinds, as upstream's `SetDefaults_*`.

use k8s_openapi::api::storage::v1 as api;

/// Defaults of a StorageClass: reclaim policy Delete, binding Immediate.
pub fn storage_class(obj: &mut api::StorageClass) {
    super::pod::set(&mut obj.reclaim_policy, "Delete".into());
    super::pod::set(&mut obj.volume_binding_mode, "Immediate".into());
}

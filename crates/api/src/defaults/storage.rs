//! Defaults of storage.k8s.io/v1 kinds, as upstream's `SetDefaults_*`.

use k8s_openapi::api::storage::v1 as api;

/// Defaults of a StorageClass.
pub fn storage_class(_obj: &mut api::StorageClass) {}

//! Validation of storage.k8s.io/v1 kinds, as upstream's.

use k8s_openapi::api::storage::v1 as api;

use super::Errors;

/// Validate a StorageClass.
pub fn storage_class(_obj: &api::StorageClass, _errs: &mut Errors) {}

/// Validate an update of a StorageClass.
pub fn storage_class_update(
    _new: &api::StorageClass,
    _old: &api::StorageClass,
    _errs: &mut Errors,
) {
}

//! storage.k8s.io/v1 kinds.

use k8s_openapi::api::storage::v1 as api;

use crate::registry::{ResourceInfo, Scope, Strategy};

/// StorageClasses.
pub struct StorageClasses;
impl Strategy for StorageClasses {
    type Object = api::StorageClass;
    const INFO: ResourceInfo = ResourceInfo {
        scope: Scope::Cluster,
        short_names: &["sc"],
        ..ResourceInfo::new(
            "storage.k8s.io",
            "v1",
            "StorageClass",
            "storageclasses",
            "storageclass",
        )
    };

    fn default(obj: &mut Self::Object) {
        crate::defaults::storage::storage_class(obj)
    }

    fn validate(obj: &Self::Object, errs: &mut crate::validation::Errors) {
        crate::validation::storage::storage_class(obj, errs)
    }

    fn validate_update(
        new: &Self::Object,
        old: &Self::Object,
        errs: &mut crate::validation::Errors,
    ) {
        crate::validation::storage::storage_class_update(new, old, errs)
    }

    fn columns() -> &'static [crate::table::Column] {
        crate::printers::storage::STORAGE_CLASS
    }

    fn cells(obj: &Self::Object, now: k8s_openapi::jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::storage::storage_class(obj, now)
    }
}

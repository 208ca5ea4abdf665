//! scheduling.k8s.io/v1 kinds.

use k8s_openapi::api::scheduling::v1 as api;

use crate::registry::{ResourceInfo, Scope, Strategy};

/// PriorityClasses.
pub struct PriorityClasses;
impl Strategy for PriorityClasses {
    type Object = api::PriorityClass;
    const INFO: ResourceInfo = ResourceInfo {
        scope: Scope::Cluster,
        short_names: &["pc"],
        ..ResourceInfo::new(
            "scheduling.k8s.io",
            "v1",
            "PriorityClass",
            "priorityclasses",
            "priorityclass",
        )
    };

    fn default(obj: &mut Self::Object) {
        crate::defaults::scheduling::priority_class(obj)
    }

    fn validate(obj: &Self::Object, errs: &mut crate::validation::Errors) {
        crate::validation::scheduling::priority_class(obj, errs)
    }

    fn validate_update(
        new: &Self::Object,
        old: &Self::Object,
        errs: &mut crate::validation::Errors,
    ) {
        crate::validation::scheduling::priority_class_update(new, old, errs)
    }

    fn columns() -> &'static [crate::table::Column] {
        crate::printers::scheduling::PRIORITY_CLASS
    }

    fn cells(obj: &Self::Object, now: k8s_openapi::jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::scheduling::priority_class(obj, now)
    }
}

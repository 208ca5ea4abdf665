//! coordination.k8s.io/v1 kinds.

use k8s_openapi::api::coordination::v1 as api;

use crate::registry::{ResourceInfo, Strategy};

/// Leases.
pub struct Leases;
impl Strategy for Leases {
    type Object = api::Lease;
    const INFO: ResourceInfo =
        ResourceInfo::new("coordination.k8s.io", "v1", "Lease", "leases", "lease");

    fn default(obj: &mut Self::Object) {
        crate::defaults::coordination::lease(obj)
    }

    fn validate(obj: &Self::Object, errs: &mut crate::validation::Errors) {
        crate::validation::coordination::lease(obj, errs)
    }

    fn validate_update(
        new: &Self::Object,
        old: &Self::Object,
        errs: &mut crate::validation::Errors,
    ) {
        crate::validation::coordination::lease_update(new, old, errs)
    }

    fn columns() -> &'static [crate::table::Column] {
        crate::printers::coordination::LEASE
    }

    fn cells(obj: &Self::Object, now: k8s_openapi::jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::coordination::lease(obj, now)
    }
}

//! Validation of coordination.k8s.io/v1 kinds, as upstream's.

use k8s_openapi::api::coordination::v1 as api;

use super::{Errors, Path};

/// Validate a Lease.
pub fn lease(obj: &api::Lease, errs: &mut Errors) {
    let Some(spec) = &obj.spec else { return };
    let sp = Path::new("spec");
    if let Some(d) = spec.lease_duration_seconds
        && d <= 0
    {
        errs.invalid(
            &sp.child("leaseDurationSeconds"),
            d,
            "must be greater than 0",
        );
    }
    if let Some(t) = spec.lease_transitions
        && t < 0
    {
        errs.invalid(
            &sp.child("leaseTransitions"),
            t,
            "must be greater than or equal to 0",
        );
    }
}

/// Validate an update of a Lease.
pub fn lease_update(_new: &api::Lease, _old: &api::Lease, _errs: &mut Errors) {}

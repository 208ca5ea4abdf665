//! Validation of coordination.k8s.io/v1 kinds, as upstream's.

use k8s_openapi::api::coordination::v1 as api;

use super::Errors;

/// Validate a Lease.
pub fn lease(_obj: &api::Lease, _errs: &mut Errors) {}

/// Validate an update of a Lease.
pub fn lease_update(_new: &api::Lease, _old: &api::Lease, _errs: &mut Errors) {}

//! Validation of scheduling.k8s.io/v1 kinds, as upstream's.

use k8s_openapi::api::scheduling::v1 as api;

use super::Errors;

/// Validate a PriorityClass.
pub fn priority_class(_obj: &api::PriorityClass, _errs: &mut Errors) {}

/// Validate an update of a PriorityClass.
pub fn priority_class_update(
    _new: &api::PriorityClass,
    _old: &api::PriorityClass,
    _errs: &mut Errors,
) {
}

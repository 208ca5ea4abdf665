//! Validation of networking.k8s.io/v1 kinds, as upstream's.

use k8s_openapi::api::networking::v1 as api;

use super::Errors;

/// Validate a NetworkPolicy.
pub fn network_policy(_obj: &api::NetworkPolicy, _errs: &mut Errors) {}

/// Validate an update of a NetworkPolicy.
pub fn network_policy_update(
    _new: &api::NetworkPolicy,
    _old: &api::NetworkPolicy,
    _errs: &mut Errors,
) {
}

/// Validate a Ingress.
pub fn ingress(_obj: &api::Ingress, _errs: &mut Errors) {}

/// Validate an update of a Ingress.
pub fn ingress_update(_new: &api::Ingress, _old: &api::Ingress, _errs: &mut Errors) {}

/// Validate a IngressClass.
pub fn ingress_class(_obj: &api::IngressClass, _errs: &mut Errors) {}

/// Validate an update of a IngressClass.
pub fn ingress_class_update(
    _new: &api::IngressClass,
    _old: &api::IngressClass,
    _errs: &mut Errors,
) {
}

//! Validation of policy/v1 kinds, as upstream's.

use k8s_openapi::api::policy::v1 as api;

use super::Errors;

/// Validate a PodDisruptionBudget.
pub fn pod_disruption_budget(_obj: &api::PodDisruptionBudget, _errs: &mut Errors) {}

/// Validate an update of a PodDisruptionBudget.
pub fn pod_disruption_budget_update(
    _new: &api::PodDisruptionBudget,
    _old: &api::PodDisruptionBudget,
    _errs: &mut Errors,
) {
}

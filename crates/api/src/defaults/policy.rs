//! Defaults of policy/v1 kinds, as upstream's `SetDefaults_*`.

use k8s_openapi::api::policy::v1 as api;

/// Defaults of a PodDisruptionBudget (none).
pub fn pod_disruption_budget(_obj: &mut api::PodDisruptionBudget) {}

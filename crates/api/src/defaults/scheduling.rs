//! Defaults of scheduling.k8s.io/v1 kinds, as upstream's `SetDefaults_*`.

use k8s_openapi::api::scheduling::v1 as api;

/// Defaults of a PriorityClass: preempt lower priorities.
pub fn priority_class(obj: &mut api::PriorityClass) {
    super::pod::set(&mut obj.preemption_policy, "PreemptLowerPriority".into());
}

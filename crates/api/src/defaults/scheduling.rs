//! Defaults of scheduling.k8s.io/v1 kinds, as upstream's `SetDefaults_*`.

use k8s_openapi::api::scheduling::v1 as api;

/// Defaults of a PriorityClass.
pub fn priority_class(_obj: &mut api::PriorityClass) {}

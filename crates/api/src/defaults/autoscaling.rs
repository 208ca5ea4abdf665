//! Defaults of autoscaling/v2 kinds, as upstream's `SetDefaults_*`.

use k8s_openapi::api::autoscaling::v2 as api;

/// Defaults of a HorizontalPodAutoscaler.
pub fn horizontal_pod_autoscaler(_obj: &mut api::HorizontalPodAutoscaler) {}

//! Validation of autoscaling/v2 kinds, as upstream's.

use k8s_openapi::api::autoscaling::v2 as api;

use super::Errors;

/// Validate a HorizontalPodAutoscaler.
pub fn horizontal_pod_autoscaler(_obj: &api::HorizontalPodAutoscaler, _errs: &mut Errors) {}

/// Validate an update of a HorizontalPodAutoscaler.
pub fn horizontal_pod_autoscaler_update(
    _new: &api::HorizontalPodAutoscaler,
    _old: &api::HorizontalPodAutoscaler,
    _errs: &mut Errors,
) {
}

//! Validation of discovery.k8s.io/v1 kinds, as upstream's.

use k8s_openapi::api::discovery::v1 as api;

use super::Errors;

/// Validate a EndpointSlice.
pub fn endpoint_slice(_obj: &api::EndpointSlice, _errs: &mut Errors) {}

/// Validate an update of a EndpointSlice.
pub fn endpoint_slice_update(
    _new: &api::EndpointSlice,
    _old: &api::EndpointSlice,
    _errs: &mut Errors,
) {
}

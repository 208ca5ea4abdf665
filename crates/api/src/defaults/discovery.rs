//! Defaults of discovery.k8s.io/v1 kinds, as upstream's `SetDefaults_*`.

use k8s_openapi::api::discovery::v1 as api;

/// Defaults of a EndpointSlice.
pub fn endpoint_slice(_obj: &mut api::EndpointSlice) {}

//! Defaults of networking.k8s.io/v1 kinds, as upstream's `SetDefaults_*`.

use k8s_openapi::api::networking::v1 as api;

/// Defaults of a NetworkPolicy.
pub fn network_policy(_obj: &mut api::NetworkPolicy) {}

/// Defaults of a Ingress.
pub fn ingress(_obj: &mut api::Ingress) {}

/// Defaults of a IngressClass.
pub fn ingress_class(_obj: &mut api::IngressClass) {}

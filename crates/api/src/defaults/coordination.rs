//! Defaults of coordination.k8s.io/v1 kinds, as upstream's `SetDefaults_*`.

use k8s_openapi::api::coordination::v1 as api;

/// Defaults of a Lease (none).
pub fn lease(_obj: &mut api::Lease) {}

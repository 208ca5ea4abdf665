//! Defaults of discovery.k8s.io/v1 kinds, as upstream's `SetDefaults_*`.

use k8s_openapi::api::discovery::v1 as api;

/// Defaults of an EndpointSlice: port names `""`, protocols TCP.
pub fn endpoint_slice(obj: &mut api::EndpointSlice) {
    for p in obj.ports.iter_mut().flatten() {
        super::pod::set(&mut p.name, String::new());
        super::pod::set(&mut p.protocol, "TCP".into());
    }
}

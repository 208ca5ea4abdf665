//! Defaults of networking.k8s.io/v1 kinds, as upstream's `SetDefaults_*`.

use k8s_openapi::api::networking::v1 as api;

use super::pod::set;

/// Defaults of a NetworkPolicy: policy types from the rules, TCP ports.
pub fn network_policy(obj: &mut api::NetworkPolicy) {
    let spec = obj.spec.get_or_insert_with(Default::default);
    if spec.policy_types.as_ref().is_none_or(Vec::is_empty) {
        let mut types = vec!["Ingress".to_owned()];
        if spec.egress.as_ref().is_some_and(|e| !e.is_empty()) {
            types.push("Egress".into());
        }
        spec.policy_types = Some(types);
    }
    let ingress = spec
        .ingress
        .iter_mut()
        .flatten()
        .flat_map(|r| r.ports.iter_mut().flatten());
    let egress = spec
        .egress
        .iter_mut()
        .flatten()
        .flat_map(|r| r.ports.iter_mut().flatten());
    for p in ingress.chain(egress) {
        set(&mut p.protocol, "TCP".into());
    }
}

/// Defaults of an Ingress (none in v1).
pub fn ingress(_obj: &mut api::Ingress) {}

/// Defaults of an IngressClass: parameters scoped to the cluster.
pub fn ingress_class(obj: &mut api::IngressClass) {
    if let Some(p) = obj.spec.as_mut().and_then(|s| s.parameters.as_mut()) {
        set(&mut p.scope, "Cluster".into());
    }
}

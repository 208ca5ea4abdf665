//! networking.k8s.io/v1 kinds.

use k8s_openapi::api::networking::v1 as api;

use crate::registry::{ResourceInfo, Scope, Strategy};

const fn net(kind: &'static str, plural: &'static str, singular: &'static str) -> ResourceInfo {
    ResourceInfo::new("networking.k8s.io", "v1", kind, plural, singular)
}

/// NetworkPolicies.
pub struct NetworkPolicies;
impl Strategy for NetworkPolicies {
    type Object = api::NetworkPolicy;
    const INFO: ResourceInfo = ResourceInfo {
        short_names: &["netpol"],
        generation: true,
        ..net("NetworkPolicy", "networkpolicies", "networkpolicy")
    };

    fn default(obj: &mut Self::Object) {
        crate::defaults::networking::network_policy(obj)
    }

    fn validate(obj: &Self::Object, errs: &mut crate::validation::Errors) {
        crate::validation::networking::network_policy(obj, errs)
    }

    fn validate_update(
        new: &Self::Object,
        old: &Self::Object,
        errs: &mut crate::validation::Errors,
    ) {
        crate::validation::networking::network_policy_update(new, old, errs)
    }

    fn columns() -> &'static [crate::table::Column] {
        crate::printers::networking::NETWORK_POLICY
    }

    fn cells(obj: &Self::Object, now: k8s_openapi::jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::networking::network_policy(obj, now)
    }
}

/// Ingresses.
pub struct Ingresses;
impl Strategy for Ingresses {
    type Object = api::Ingress;
    const INFO: ResourceInfo = ResourceInfo {
        short_names: &["ing"],
        status: true,
        generation: true,
        ..net("Ingress", "ingresses", "ingress")
    };

    fn default(obj: &mut Self::Object) {
        crate::defaults::networking::ingress(obj)
    }

    fn prepare_create(obj: &mut Self::Object) {
        obj.status = Some(api::IngressStatus {
            load_balancer: Some(Default::default()),
        });
    }

    fn validate(obj: &Self::Object, errs: &mut crate::validation::Errors) {
        crate::validation::networking::ingress(obj, errs)
    }

    fn validate_update(
        new: &Self::Object,
        old: &Self::Object,
        errs: &mut crate::validation::Errors,
    ) {
        crate::validation::networking::ingress_update(new, old, errs)
    }

    fn columns() -> &'static [crate::table::Column] {
        crate::printers::networking::INGRESS
    }

    fn cells(obj: &Self::Object, now: k8s_openapi::jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::networking::ingress(obj, now)
    }
}

/// IngressClasses.
pub struct IngressClasses;
impl Strategy for IngressClasses {
    type Object = api::IngressClass;
    const INFO: ResourceInfo = ResourceInfo {
        scope: Scope::Cluster,
        generation: true,
        ..net("IngressClass", "ingressclasses", "ingressclass")
    };

    fn default(obj: &mut Self::Object) {
        crate::defaults::networking::ingress_class(obj)
    }

    fn validate(obj: &Self::Object, errs: &mut crate::validation::Errors) {
        crate::validation::networking::ingress_class(obj, errs)
    }

    fn validate_update(
        new: &Self::Object,
        old: &Self::Object,
        errs: &mut crate::validation::Errors,
    ) {
        crate::validation::networking::ingress_class_update(new, old, errs)
    }

    fn columns() -> &'static [crate::table::Column] {
        crate::printers::networking::INGRESS_CLASS
    }

    fn cells(obj: &Self::Object, now: k8s_openapi::jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::networking::ingress_class(obj, now)
    }
}

//! core/v1 kinds.

use k8s_openapi::api::core::v1 as api;

use crate::registry::{
    NameRule, ResourceInfo, ScaleSpec, Scope, SelectableField, Strategy, Subresource, field,
};

const fn core(kind: &'static str, plural: &'static str, singular: &'static str) -> ResourceInfo {
    ResourceInfo::new("", "v1", kind, plural, singular)
}

/// Namespaces.
pub struct Namespaces;
impl Strategy for Namespaces {
    type Object = api::Namespace;
    const INFO: ResourceInfo = ResourceInfo {
        scope: Scope::Cluster,
        short_names: &["ns"],
        status: true,
        name_rule: NameRule::Label,
        fields: &[field("status.phase", "/status/phase")],
        subresources: &[Subresource {
            name: "finalize",
            group: "",
            version: "v1",
            kind: "Namespace",
            verbs: &["update"],
        }],
        ..core("Namespace", "namespaces", "namespace")
    };

    fn default(obj: &mut Self::Object) {
        crate::defaults::core::namespace(obj)
    }

    fn validate(obj: &Self::Object, errs: &mut crate::validation::Errors) {
        crate::validation::core::namespace(obj, errs)
    }

    fn validate_update(
        new: &Self::Object,
        old: &Self::Object,
        errs: &mut crate::validation::Errors,
    ) {
        crate::validation::core::namespace_update(new, old, errs)
    }

    fn columns() -> &'static [crate::table::Column] {
        crate::printers::core::NAMESPACE
    }

    fn cells(obj: &Self::Object, now: k8s_openapi::jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::core::namespace(obj, now)
    }
}

/// Pods.
pub struct Pods;
const POD_FIELDS: &[SelectableField] = &[
    field("spec.nodeName", "/spec/nodeName"),
    field("spec.restartPolicy", "/spec/restartPolicy"),
    field("spec.schedulerName", "/spec/schedulerName"),
    field("spec.serviceAccountName", "/spec/serviceAccountName"),
    SelectableField {
        label: "spec.hostNetwork",
        pointer: "/spec/hostNetwork",
        default: "false",
    },
    field("status.phase", "/status/phase"),
    field("status.podIP", "/status/podIP"),
    field("status.nominatedNodeName", "/status/nominatedNodeName"),
];
impl Strategy for Pods {
    type Object = api::Pod;
    const INFO: ResourceInfo = ResourceInfo {
        short_names: &["po"],
        categories: &["all"],
        status: true,
        fields: POD_FIELDS,
        subresources: &[
            Subresource {
                name: "attach",
                group: "",
                version: "v1",
                kind: "PodAttachOptions",
                verbs: &["create", "get"],
            },
            Subresource {
                name: "binding",
                group: "",
                version: "v1",
                kind: "Binding",
                verbs: &["create"],
            },
            Subresource {
                name: "ephemeralcontainers",
                group: "",
                version: "v1",
                kind: "Pod",
                verbs: &["get", "patch", "update"],
            },
            Subresource {
                name: "eviction",
                group: "policy",
                version: "v1",
                kind: "Eviction",
                verbs: &["create"],
            },
            Subresource {
                name: "exec",
                group: "",
                version: "v1",
                kind: "PodExecOptions",
                verbs: &["create", "get"],
            },
            Subresource {
                name: "log",
                group: "",
                version: "v1",
                kind: "Pod",
                verbs: &["get"],
            },
            Subresource {
                name: "portforward",
                group: "",
                version: "v1",
                kind: "PodPortForwardOptions",
                verbs: &["create", "get"],
            },
            Subresource {
                name: "proxy",
                group: "",
                version: "v1",
                kind: "PodProxyOptions",
                verbs: &["create", "delete", "get", "patch", "update"],
            },
        ],
        ..core("Pod", "pods", "pod")
    };

    fn prepare_create(pod: &mut api::Pod) {
        let qos = pod.spec.as_ref().map(qos_class);
        pod.status = Some(api::PodStatus {
            phase: Some("Pending".into()),
            qos_class: qos,
            ..Default::default()
        });
    }

    fn default(obj: &mut Self::Object) {
        crate::defaults::core::pod(obj)
    }

    fn validate(obj: &Self::Object, errs: &mut crate::validation::Errors) {
        crate::validation::core::pod(obj, errs)
    }

    fn validate_update(
        new: &Self::Object,
        old: &Self::Object,
        errs: &mut crate::validation::Errors,
    ) {
        crate::validation::core::pod_update(new, old, errs)
    }

    fn columns() -> &'static [crate::table::Column] {
        crate::printers::core::POD
    }

    fn cells(obj: &Self::Object, now: k8s_openapi::jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::core::pod(obj, now)
    }
}

/// The QoS class of a pod: Guaranteed when every container sets equal cpu
/// and memory requests and limits, BestEffort when none sets any, else
/// Burstable.
pub fn qos_class(spec: &api::PodSpec) -> String {
    use std::collections::BTreeMap;
    let mut requests: BTreeMap<String, i128> = BTreeMap::new();
    let mut limits: BTreeMap<String, i128> = BTreeMap::new();
    let mut guaranteed = true;
    let containers = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten());
    for c in containers {
        let res = c.resources.as_ref();
        let mut c_limits = std::collections::BTreeSet::new();
        for (name, q) in res.and_then(|r| r.requests.as_ref()).into_iter().flatten() {
            if name != "cpu" && name != "memory" {
                continue;
            }
            if let Ok(q) = crate::quantity::Quantity::parse(&q.0) {
                if q.nanos() != 0 {
                    *requests.entry(name.clone()).or_default() += q.nanos();
                }
            }
        }
        for (name, q) in res.and_then(|r| r.limits.as_ref()).into_iter().flatten() {
            if name != "cpu" && name != "memory" {
                continue;
            }
            if let Ok(q) = crate::quantity::Quantity::parse(&q.0) {
                if q.nanos() != 0 {
                    c_limits.insert(name.clone());
                    *limits.entry(name.clone()).or_default() += q.nanos();
                }
            }
        }
        if c_limits.len() != 2 {
            guaranteed = false;
        }
    }
    if requests.is_empty() && limits.is_empty() {
        return "BestEffort".into();
    }
    if guaranteed && requests.iter().all(|(k, v)| limits.get(k) == Some(v)) && limits.len() == 2 {
        return "Guaranteed".into();
    }
    "Burstable".into()
}

/// Services.
pub struct Services;
impl Strategy for Services {
    type Object = api::Service;
    const INFO: ResourceInfo = ResourceInfo {
        short_names: &["svc"],
        categories: &["all"],
        status: true,
        name_rule: NameRule::Dns1035,
        fields: &[
            field("spec.clusterIP", "/spec/clusterIP"),
            field("spec.type", "/spec/type"),
        ],
        subresources: &[Subresource {
            name: "proxy",
            group: "",
            version: "v1",
            kind: "ServiceProxyOptions",
            verbs: &["create", "delete", "get", "patch", "update"],
        }],
        ..core("Service", "services", "service")
    };

    fn default(obj: &mut Self::Object) {
        crate::defaults::core::service(obj)
    }

    fn validate(obj: &Self::Object, errs: &mut crate::validation::Errors) {
        crate::validation::core::service(obj, errs)
    }

    fn validate_update(
        new: &Self::Object,
        old: &Self::Object,
        errs: &mut crate::validation::Errors,
    ) {
        crate::validation::core::service_update(new, old, errs)
    }

    fn columns() -> &'static [crate::table::Column] {
        crate::printers::core::SERVICE
    }

    fn cells(obj: &Self::Object, now: k8s_openapi::jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::core::service(obj, now)
    }
}

/// Endpoints.
pub struct EndpointsKind;
impl Strategy for EndpointsKind {
    type Object = api::Endpoints;
    const INFO: ResourceInfo = ResourceInfo {
        short_names: &["ep"],
        ..core("Endpoints", "endpoints", "endpoints")
    };

    fn default(obj: &mut Self::Object) {
        crate::defaults::core::endpoints(obj)
    }

    fn validate(obj: &Self::Object, errs: &mut crate::validation::Errors) {
        crate::validation::core::endpoints(obj, errs)
    }

    fn validate_update(
        new: &Self::Object,
        old: &Self::Object,
        errs: &mut crate::validation::Errors,
    ) {
        crate::validation::core::endpoints_update(new, old, errs)
    }

    fn columns() -> &'static [crate::table::Column] {
        crate::printers::core::ENDPOINTS
    }

    fn cells(obj: &Self::Object, now: k8s_openapi::jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::core::endpoints(obj, now)
    }
}

/// ConfigMaps.
pub struct ConfigMaps;
impl Strategy for ConfigMaps {
    type Object = api::ConfigMap;
    const INFO: ResourceInfo = ResourceInfo {
        short_names: &["cm"],
        ..core("ConfigMap", "configmaps", "configmap")
    };

    fn default(obj: &mut Self::Object) {
        crate::defaults::core::config_map(obj)
    }

    fn validate(obj: &Self::Object, errs: &mut crate::validation::Errors) {
        crate::validation::core::config_map(obj, errs)
    }

    fn validate_update(
        new: &Self::Object,
        old: &Self::Object,
        errs: &mut crate::validation::Errors,
    ) {
        crate::validation::core::config_map_update(new, old, errs)
    }

    fn columns() -> &'static [crate::table::Column] {
        crate::printers::core::CONFIG_MAP
    }

    fn cells(obj: &Self::Object, now: k8s_openapi::jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::core::config_map(obj, now)
    }
}

/// Secrets.
pub struct Secrets;
impl Strategy for Secrets {
    type Object = api::Secret;
    const INFO: ResourceInfo = ResourceInfo {
        fields: &[field("type", "/type")],
        ..core("Secret", "secrets", "secret")
    };

    fn default(obj: &mut Self::Object) {
        crate::defaults::core::secret(obj)
    }

    fn validate(obj: &Self::Object, errs: &mut crate::validation::Errors) {
        crate::validation::core::secret(obj, errs)
    }

    fn validate_update(
        new: &Self::Object,
        old: &Self::Object,
        errs: &mut crate::validation::Errors,
    ) {
        crate::validation::core::secret_update(new, old, errs)
    }

    fn columns() -> &'static [crate::table::Column] {
        crate::printers::core::SECRET
    }

    fn cells(obj: &Self::Object, now: k8s_openapi::jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::core::secret(obj, now)
    }
}

/// ServiceAccounts.
pub struct ServiceAccounts;
impl Strategy for ServiceAccounts {
    type Object = api::ServiceAccount;
    const INFO: ResourceInfo = ResourceInfo {
        short_names: &["sa"],
        subresources: &[Subresource {
            name: "token",
            group: "authentication.k8s.io",
            version: "v1",
            kind: "TokenRequest",
            verbs: &["create"],
        }],
        ..core("ServiceAccount", "serviceaccounts", "serviceaccount")
    };

    fn default(obj: &mut Self::Object) {
        crate::defaults::core::service_account(obj)
    }

    fn validate(obj: &Self::Object, errs: &mut crate::validation::Errors) {
        crate::validation::core::service_account(obj, errs)
    }

    fn validate_update(
        new: &Self::Object,
        old: &Self::Object,
        errs: &mut crate::validation::Errors,
    ) {
        crate::validation::core::service_account_update(new, old, errs)
    }

    fn columns() -> &'static [crate::table::Column] {
        crate::printers::core::SERVICE_ACCOUNT
    }

    fn cells(obj: &Self::Object, now: k8s_openapi::jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::core::service_account(obj, now)
    }
}

/// Nodes.
pub struct Nodes;
impl Strategy for Nodes {
    type Object = api::Node;
    const INFO: ResourceInfo = ResourceInfo {
        scope: Scope::Cluster,
        short_names: &["no"],
        status: true,
        fields: &[SelectableField {
            label: "spec.unschedulable",
            pointer: "/spec/unschedulable",
            default: "false",
        }],
        subresources: &[Subresource {
            name: "proxy",
            group: "",
            version: "v1",
            kind: "NodeProxyOptions",
            verbs: &["create", "delete", "get", "patch", "update"],
        }],
        ..core("Node", "nodes", "node")
    };

    fn default(obj: &mut Self::Object) {
        crate::defaults::core::node(obj)
    }

    fn validate(obj: &Self::Object, errs: &mut crate::validation::Errors) {
        crate::validation::core::node(obj, errs)
    }

    fn validate_update(
        new: &Self::Object,
        old: &Self::Object,
        errs: &mut crate::validation::Errors,
    ) {
        crate::validation::core::node_update(new, old, errs)
    }

    fn columns() -> &'static [crate::table::Column] {
        crate::printers::core::NODE
    }

    fn cells(obj: &Self::Object, now: k8s_openapi::jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::core::node(obj, now)
    }
}

/// Events (core/v1; also served as events.k8s.io/v1).
pub struct Events;
impl Strategy for Events {
    type Object = api::Event;
    const INFO: ResourceInfo = ResourceInfo {
        short_names: &["ev"],
        fields: &[
            field("involvedObject.kind", "/involvedObject/kind"),
            field("involvedObject.namespace", "/involvedObject/namespace"),
            field("involvedObject.name", "/involvedObject/name"),
            field("involvedObject.uid", "/involvedObject/uid"),
            field("involvedObject.apiVersion", "/involvedObject/apiVersion"),
            field(
                "involvedObject.resourceVersion",
                "/involvedObject/resourceVersion",
            ),
            field("involvedObject.fieldPath", "/involvedObject/fieldPath"),
            field("reason", "/reason"),
            field("reportingComponent", "/reportingComponent"),
            field("source", "/source/component"),
            field("type", "/type"),
        ],
        ..core("Event", "events", "event")
    };

    fn default(obj: &mut Self::Object) {
        crate::defaults::core::event(obj)
    }

    fn validate(obj: &Self::Object, errs: &mut crate::validation::Errors) {
        crate::validation::core::event(obj, errs)
    }

    fn validate_update(
        new: &Self::Object,
        old: &Self::Object,
        errs: &mut crate::validation::Errors,
    ) {
        crate::validation::core::event_update(new, old, errs)
    }

    fn columns() -> &'static [crate::table::Column] {
        crate::printers::core::EVENT
    }

    fn cells(obj: &Self::Object, now: k8s_openapi::jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::core::event(obj, now)
    }
}

/// PersistentVolumes.
pub struct PersistentVolumes;
impl Strategy for PersistentVolumes {
    type Object = api::PersistentVolume;
    const INFO: ResourceInfo = ResourceInfo {
        scope: Scope::Cluster,
        short_names: &["pv"],
        status: true,
        ..core("PersistentVolume", "persistentvolumes", "persistentvolume")
    };

    fn default(obj: &mut Self::Object) {
        crate::defaults::core::persistent_volume(obj)
    }

    fn validate(obj: &Self::Object, errs: &mut crate::validation::Errors) {
        crate::validation::core::persistent_volume(obj, errs)
    }

    fn validate_update(
        new: &Self::Object,
        old: &Self::Object,
        errs: &mut crate::validation::Errors,
    ) {
        crate::validation::core::persistent_volume_update(new, old, errs)
    }

    fn columns() -> &'static [crate::table::Column] {
        crate::printers::core::PERSISTENT_VOLUME
    }

    fn cells(obj: &Self::Object, now: k8s_openapi::jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::core::persistent_volume(obj, now)
    }
}

/// PersistentVolumeClaims.
pub struct PersistentVolumeClaims;
impl Strategy for PersistentVolumeClaims {
    type Object = api::PersistentVolumeClaim;
    const INFO: ResourceInfo = ResourceInfo {
        short_names: &["pvc"],
        status: true,
        ..core(
            "PersistentVolumeClaim",
            "persistentvolumeclaims",
            "persistentvolumeclaim",
        )
    };

    fn default(obj: &mut Self::Object) {
        crate::defaults::core::persistent_volume_claim(obj)
    }

    fn validate(obj: &Self::Object, errs: &mut crate::validation::Errors) {
        crate::validation::core::persistent_volume_claim(obj, errs)
    }

    fn validate_update(
        new: &Self::Object,
        old: &Self::Object,
        errs: &mut crate::validation::Errors,
    ) {
        crate::validation::core::persistent_volume_claim_update(new, old, errs)
    }

    fn columns() -> &'static [crate::table::Column] {
        crate::printers::core::PERSISTENT_VOLUME_CLAIM
    }

    fn cells(obj: &Self::Object, now: k8s_openapi::jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::core::persistent_volume_claim(obj, now)
    }
}

/// ReplicationControllers.
pub struct ReplicationControllers;
impl Strategy for ReplicationControllers {
    type Object = api::ReplicationController;
    const INFO: ResourceInfo = ResourceInfo {
        short_names: &["rc"],
        categories: &["all"],
        status: true,
        generation: true,
        scale: Some(ScaleSpec {
            spec_replicas: "/spec/replicas",
            status_replicas: "/status/replicas",
            selector: "/spec/selector",
        }),
        fields: &[SelectableField {
            label: "status.replicas",
            pointer: "/status/replicas",
            default: "0",
        }],
        ..core(
            "ReplicationController",
            "replicationcontrollers",
            "replicationcontroller",
        )
    };

    fn default(obj: &mut Self::Object) {
        crate::defaults::core::replication_controller(obj)
    }

    fn validate(obj: &Self::Object, errs: &mut crate::validation::Errors) {
        crate::validation::core::replication_controller(obj, errs)
    }

    fn validate_update(
        new: &Self::Object,
        old: &Self::Object,
        errs: &mut crate::validation::Errors,
    ) {
        crate::validation::core::replication_controller_update(new, old, errs)
    }

    fn columns() -> &'static [crate::table::Column] {
        crate::printers::core::REPLICATION_CONTROLLER
    }

    fn cells(obj: &Self::Object, now: k8s_openapi::jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::core::replication_controller(obj, now)
    }
}

/// LimitRanges.
pub struct LimitRanges;
impl Strategy for LimitRanges {
    type Object = api::LimitRange;
    const INFO: ResourceInfo = ResourceInfo {
        short_names: &["limits"],
        ..core("LimitRange", "limitranges", "limitrange")
    };

    fn default(obj: &mut Self::Object) {
        crate::defaults::core::limit_range(obj)
    }

    fn validate(obj: &Self::Object, errs: &mut crate::validation::Errors) {
        crate::validation::core::limit_range(obj, errs)
    }

    fn validate_update(
        new: &Self::Object,
        old: &Self::Object,
        errs: &mut crate::validation::Errors,
    ) {
        crate::validation::core::limit_range_update(new, old, errs)
    }

    fn columns() -> &'static [crate::table::Column] {
        crate::printers::core::LIMIT_RANGE
    }

    fn cells(obj: &Self::Object, now: k8s_openapi::jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::core::limit_range(obj, now)
    }
}

/// ResourceQuotas.
pub struct ResourceQuotas;
impl Strategy for ResourceQuotas {
    type Object = api::ResourceQuota;
    const INFO: ResourceInfo = ResourceInfo {
        short_names: &["quota"],
        status: true,
        ..core("ResourceQuota", "resourcequotas", "resourcequota")
    };

    fn default(obj: &mut Self::Object) {
        crate::defaults::core::resource_quota(obj)
    }

    fn validate(obj: &Self::Object, errs: &mut crate::validation::Errors) {
        crate::validation::core::resource_quota(obj, errs)
    }

    fn validate_update(
        new: &Self::Object,
        old: &Self::Object,
        errs: &mut crate::validation::Errors,
    ) {
        crate::validation::core::resource_quota_update(new, old, errs)
    }

    fn columns() -> &'static [crate::table::Column] {
        crate::printers::core::RESOURCE_QUOTA
    }

    fn cells(obj: &Self::Object, now: k8s_openapi::jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::core::resource_quota(obj, now)
    }
}

/// PodTemplates.
pub struct PodTemplates;
impl Strategy for PodTemplates {
    type Object = api::PodTemplate;
    const INFO: ResourceInfo = core("PodTemplate", "podtemplates", "podtemplate");

    fn default(obj: &mut Self::Object) {
        crate::defaults::core::pod_template(obj)
    }

    fn validate(obj: &Self::Object, errs: &mut crate::validation::Errors) {
        crate::validation::core::pod_template(obj, errs)
    }

    fn validate_update(
        new: &Self::Object,
        old: &Self::Object,
        errs: &mut crate::validation::Errors,
    ) {
        crate::validation::core::pod_template_update(new, old, errs)
    }

    fn columns() -> &'static [crate::table::Column] {
        crate::printers::core::POD_TEMPLATE
    }

    fn cells(obj: &Self::Object, now: k8s_openapi::jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::core::pod_template(obj, now)
    }
}

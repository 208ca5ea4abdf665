//! core/v1 kinds.

use k8s_openapi::api::core::v1 as api;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelectorRequirement, Time};

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

    fn prepare_create(obj: &mut Self::Object) {
        obj.status = Some(api::NamespaceStatus {
            phase: Some("Active".into()),
            ..Default::default()
        });
        let fins = obj
            .spec
            .get_or_insert_with(Default::default)
            .finalizers
            .get_or_insert_with(Vec::new);
        if !fins.iter().any(|f| f == "kubernetes") {
            fins.push("kubernetes".into());
        }
    }

    /// `spec.finalizers` change only through `/finalize`. The hook cannot
    /// tell which endpoint the update came through, so removals are let
    /// through once the namespace is being deleted (what `/finalize` is
    /// for); any other change keeps the stored finalizers.
    /// `spec.finalizers` change only through `/finalize` (which does not
    /// run this hook).
    fn prepare_update(new: &mut Self::Object, old: &Self::Object) {
        let old_fins = old.spec.as_ref().and_then(|s| s.finalizers.clone());
        new.spec.get_or_insert_with(Default::default).finalizers = old_fins;
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
        scheduling_gated_condition(pod);
        merge_match_label_keys(pod);
        crate::defaults::pod::service_account_admission(pod);
        crate::defaults::pod::default_toleration_seconds(pod);
    }

    fn default(obj: &mut Self::Object) {
        crate::defaults::core::pod(obj)
    }

    fn validate(obj: &Self::Object, errs: &mut crate::validation::Errors) {
        crate::validation::core::pod(obj, errs);
    }

    fn validate_create(obj: &Self::Object, errs: &mut crate::validation::Errors) {
        crate::validation::core::pod(obj, errs);
        crate::validation::core::pod_create(obj, errs);
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
            if let Ok(q) = crate::quantity::Quantity::parse(&q.0)
                && q.nanos() != 0
            {
                *requests.entry(name.clone()).or_default() += q.nanos();
            }
        }
        for (name, q) in res.and_then(|r| r.limits.as_ref()).into_iter().flatten() {
            if name != "cpu" && name != "memory" {
                continue;
            }
            if let Ok(q) = crate::quantity::Quantity::parse(&q.0)
                && q.nanos() != 0
            {
                c_limits.insert(name.clone());
                *limits.entry(name.clone()).or_default() += q.nanos();
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

/// A pod created with scheduling gates starts with a `PodScheduled=False`
/// condition saying why it waits.
fn scheduling_gated_condition(pod: &mut api::Pod) {
    let gated = pod
        .spec
        .as_ref()
        .and_then(|s| s.scheduling_gates.as_ref())
        .is_some_and(|g| !g.is_empty());
    let status = pod.status.get_or_insert_with(Default::default);
    let conditions = status.conditions.get_or_insert_with(Vec::new);
    if gated && !conditions.iter().any(|c| c.type_ == "PodScheduled") {
        conditions.push(api::PodCondition {
            type_: "PodScheduled".into(),
            status: "False".into(),
            reason: Some("SchedulingGated".into()),
            message: Some("Scheduling is blocked due to non-empty scheduling gates".into()),
            last_transition_time: Some(Time(crate::meta::now())),
            ..Default::default()
        });
    }
    if conditions.is_empty() {
        status.conditions = None;
    }
}

/// `matchLabelKeys` / `mismatchLabelKeys` of pod (anti-)affinity terms
/// become `In` / `NotIn` expressions on the pod's own label values.
fn merge_match_label_keys(pod: &mut api::Pod) {
    let labels = pod.metadata.labels.clone().unwrap_or_default();
    let Some(affinity) = pod.spec.as_mut().and_then(|s| s.affinity.as_mut()) else {
        return;
    };
    let mut terms: Vec<&mut api::PodAffinityTerm> = Vec::new();
    for (required, preferred) in [
        affinity.pod_affinity.as_mut().map(|a| {
            (
                &mut a.required_during_scheduling_ignored_during_execution,
                &mut a.preferred_during_scheduling_ignored_during_execution,
            )
        }),
        affinity.pod_anti_affinity.as_mut().map(|a| {
            (
                &mut a.required_during_scheduling_ignored_during_execution,
                &mut a.preferred_during_scheduling_ignored_during_execution,
            )
        }),
    ]
    .into_iter()
    .flatten()
    {
        terms.extend(required.iter_mut().flatten());
        terms.extend(
            preferred
                .iter_mut()
                .flatten()
                .map(|w| &mut w.pod_affinity_term),
        );
    }
    for term in terms {
        let Some(sel) = term.label_selector.as_mut() else {
            continue;
        };
        for (keys, op) in [
            (&term.match_label_keys, "In"),
            (&term.mismatch_label_keys, "NotIn"),
        ] {
            for key in keys.iter().flatten() {
                if let Some(v) = labels.get(key) {
                    sel.match_expressions.get_or_insert_with(Vec::new).push(
                        LabelSelectorRequirement {
                            key: key.clone(),
                            operator: op.into(),
                            values: Some(vec![v.clone()]),
                        },
                    );
                }
            }
        }
    }
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

    fn prepare_create(obj: &mut Self::Object) {
        obj.status = Some(api::ServiceStatus {
            load_balancer: Some(Default::default()),
            ..Default::default()
        });
        normalize_cluster_ips(obj);
    }

    fn prepare_update(new: &mut Self::Object, old: &Self::Object) {
        patch_allocated_values(new, old);
        drop_type_dependent_fields(new, old);
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

fn needs_cluster_ip(spec: &api::ServiceSpec) -> bool {
    spec.type_.as_deref() != Some("ExternalName")
}

fn needs_node_port(spec: &api::ServiceSpec) -> bool {
    match spec.type_.as_deref() {
        Some("NodePort") => true,
        Some("LoadBalancer") => spec.allocate_load_balancer_node_ports != Some(false),
        _ => false,
    }
}

/// A `clusterIP` without `clusterIPs` also fills the plural field.
fn normalize_cluster_ips(svc: &mut api::Service) {
    let Some(spec) = svc.spec.as_mut() else {
        return;
    };
    let ip = spec.cluster_ip.clone().unwrap_or_default();
    if !ip.is_empty() && spec.cluster_ips.as_ref().is_none_or(Vec::is_empty) {
        spec.cluster_ips = Some(vec![ip]);
    }
}

/// An update that omits values the server allocated keeps them (cluster
/// IPs, IP families, node ports, health-check node port).
fn patch_allocated_values(new: &mut api::Service, old: &api::Service) {
    let Some(o) = old.spec.as_ref() else { return };
    let n = new.spec.get_or_insert_with(Default::default);
    if needs_cluster_ip(o) && needs_cluster_ip(n) {
        if n.cluster_ip.as_deref().is_none_or(str::is_empty) {
            n.cluster_ip = o.cluster_ip.clone();
        }
        if n.cluster_ips.as_ref().is_none_or(Vec::is_empty) {
            n.cluster_ips = o.cluster_ips.clone();
        }
        if n.ip_family_policy.is_none() {
            n.ip_family_policy = o.ip_family_policy.clone();
        }
        if n.ip_families.as_ref().is_none_or(Vec::is_empty) {
            n.ip_families = o.ip_families.clone();
        }
    }
    if needs_node_port(o) && needs_node_port(n) {
        let used = |s: &api::ServiceSpec| -> std::collections::BTreeSet<i32> {
            s.ports
                .iter()
                .flatten()
                .filter_map(|p| p.node_port)
                .filter(|p| *p != 0)
                .collect()
        };
        let taken: std::collections::BTreeSet<i32> =
            used(o).intersection(&used(n)).copied().collect();
        let by_name: std::collections::BTreeMap<String, i32> = o
            .ports
            .iter()
            .flatten()
            .map(|p| (p.name.clone().unwrap_or_default(), p.node_port.unwrap_or(0)))
            .collect();
        for p in n.ports.iter_mut().flatten() {
            if p.node_port.unwrap_or(0) == 0 {
                let old_port = by_name
                    .get(p.name.as_deref().unwrap_or(""))
                    .copied()
                    .unwrap_or(0);
                if old_port != 0 && !taken.contains(&old_port) {
                    p.node_port = Some(old_port);
                }
            }
        }
    }
    let hc = |s: &api::ServiceSpec| crate::validation::core::needs_health_check(s);
    if hc(o) && hc(n) && n.health_check_node_port.unwrap_or(0) == 0 {
        n.health_check_node_port = o.health_check_node_port;
    }
}

/// Fields a type change makes meaningless are dropped when the user left
/// them as they were (upstream's `dropTypeDependentFields`).
fn drop_type_dependent_fields(new: &mut api::Service, old: &api::Service) {
    let Some(o) = old.spec.as_ref() else { return };
    let n = new.spec.get_or_insert_with(Default::default);
    if needs_cluster_ip(o) && !needs_cluster_ip(n) {
        if n.cluster_ip == o.cluster_ip && n.cluster_ips == o.cluster_ips {
            n.cluster_ip = None;
            n.cluster_ips = None;
        }
        if n.ip_families == o.ip_families {
            n.ip_families = None;
        }
        if n.ip_family_policy == o.ip_family_policy {
            n.ip_family_policy = None;
        }
    }
    let node_ports = |s: &api::ServiceSpec| -> Vec<Option<i32>> {
        s.ports.iter().flatten().map(|p| p.node_port).collect()
    };
    if needs_node_port(o) && !needs_node_port(n) && node_ports(o) == node_ports(n) {
        for p in n.ports.iter_mut().flatten() {
            p.node_port = None;
        }
    }
    let hc = |s: &api::ServiceSpec| crate::validation::core::needs_health_check(s);
    if hc(o) && !hc(n) && n.health_check_node_port == o.health_check_node_port {
        n.health_check_node_port = None;
    }
    let was_lb = o.type_.as_deref() == Some("LoadBalancer");
    let is_lb = n.type_.as_deref() == Some("LoadBalancer");
    if was_lb && !is_lb {
        if n.allocate_load_balancer_node_ports.is_some()
            && n.allocate_load_balancer_node_ports == o.allocate_load_balancer_node_ports
        {
            n.allocate_load_balancer_node_ports = None;
        }
        if n.load_balancer_class == o.load_balancer_class {
            n.load_balancer_class = None;
        }
    }
    let ext = crate::validation::core::externally_accessible;
    if ext(o) && !ext(n) && n.external_traffic_policy == o.external_traffic_policy {
        n.external_traffic_policy = None;
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

    fn prepare_create(obj: &mut Self::Object) {
        strip_secret_refs(obj);
    }

    fn prepare_update(new: &mut Self::Object, _old: &Self::Object) {
        strip_secret_refs(new);
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

/// Secret references of a ServiceAccount keep only their name.
fn strip_secret_refs(sa: &mut api::ServiceAccount) {
    for r in sa.secrets.iter_mut().flatten() {
        *r = api::ObjectReference {
            name: r.name.clone(),
            ..Default::default()
        };
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
        status_on_create: true,
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
        name_rule: NameRule::PathSegment,
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

    fn prepare_create(obj: &mut Self::Object) {
        obj.status = Some(api::PersistentVolumeStatus {
            phase: Some("Pending".into()),
            last_phase_transition_time: Some(Time(crate::meta::now())),
            ..Default::default()
        });
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

    fn prepare_create(obj: &mut Self::Object) {
        let Some(spec) = obj.spec.as_mut() else {
            return;
        };
        match (&spec.data_source, &spec.data_source_ref) {
            (Some(ds), None) => {
                spec.data_source_ref = Some(api::TypedObjectReference {
                    api_group: ds.api_group.clone(),
                    kind: ds.kind.clone(),
                    name: ds.name.clone(),
                    namespace: None,
                })
            }
            (None, Some(r)) if r.namespace.as_deref().unwrap_or("").is_empty() => {
                spec.data_source = Some(api::TypedLocalObjectReference {
                    api_group: r.api_group.clone(),
                    kind: r.kind.clone(),
                    name: r.name.clone(),
                })
            }
            _ => {}
        }
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

    fn prepare_create(obj: &mut Self::Object) {
        obj.status = Some(Default::default());
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

    fn prepare_create(obj: &mut Self::Object) {
        obj.status = Some(Default::default());
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

//! Defaults of core/v1 kinds, as upstream's `SetDefaults_*`.

use k8s_openapi::api::core::v1 as api;

use super::pod::{self, resource_list, set, set_str};

/// The label every Namespace carries with its own name.
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// Defaults of a Namespace: the name label, phase `Active`.
pub fn namespace(obj: &mut api::Namespace) {
    if let Some(name) = obj.metadata.name.clone().filter(|n| !n.is_empty()) {
        obj.metadata
            .labels
            .get_or_insert_with(Default::default)
            .insert(NAMESPACE_NAME_LABEL.into(), name);
    }
    let status = obj.status.get_or_insert_with(Default::default);
    set_str(&mut status.phase, "Active");
}

/// Defaults of a Pod (Pod-only rules, then the pod spec's).
pub fn pod(obj: &mut api::Pod) {
    pod::pod(obj);
}

/// Defaults of a Service (traffic policies, session affinity, port
/// protocols and target ports; IPs and node ports are allocated later).
pub fn service(obj: &mut api::Service) {
    let spec = obj.spec.get_or_insert_with(Default::default);
    set_str(&mut spec.session_affinity, "None");
    match spec.session_affinity.as_deref() {
        Some("None") => spec.session_affinity_config = None,
        Some("ClientIP") => {
            let has_timeout = spec
                .session_affinity_config
                .as_ref()
                .and_then(|c| c.client_ip.as_ref())
                .and_then(|c| c.timeout_seconds)
                .is_some();
            if !has_timeout {
                spec.session_affinity_config = Some(api::SessionAffinityConfig {
                    client_ip: Some(api::ClientIPConfig {
                        timeout_seconds: Some(10800),
                    }),
                });
            }
        }
        _ => {}
    }
    set_str(&mut spec.type_, "ClusterIP");
    for p in spec.ports.iter_mut().flatten() {
        set_str(&mut p.protocol, "TCP");
        use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
        let unset = match &p.target_port {
            None => true,
            Some(IntOrString::Int(0)) => true,
            Some(IntOrString::String(s)) => s.is_empty(),
            _ => false,
        };
        if unset {
            p.target_port = Some(IntOrString::Int(p.port));
        }
    }
    let type_ = spec.type_.clone().unwrap_or_default();
    let external = type_ == "LoadBalancer"
        || type_ == "NodePort"
        || (type_ == "ClusterIP" && spec.external_ips.as_ref().is_some_and(|v| !v.is_empty()));
    if external {
        set_str(&mut spec.external_traffic_policy, "Cluster");
    }
    if matches!(type_.as_str(), "ClusterIP" | "NodePort" | "LoadBalancer") {
        set(&mut spec.internal_traffic_policy, "Cluster".into());
    }
    if type_ == "LoadBalancer" {
        set(&mut spec.allocate_load_balancer_node_ports, true);
        let ingress = obj
            .status
            .as_mut()
            .and_then(|s| s.load_balancer.as_mut())
            .and_then(|lb| lb.ingress.as_mut());
        for i in ingress.into_iter().flatten() {
            if i.ip.as_deref().is_some_and(|ip| !ip.is_empty()) && i.ip_mode.is_none() {
                i.ip_mode = Some("VIP".into());
            }
        }
    }
}

/// Defaults of an Endpoints object: port protocols.
pub fn endpoints(obj: &mut api::Endpoints) {
    for ss in obj.subsets.iter_mut().flatten() {
        for p in ss.ports.iter_mut().flatten() {
            set_str(&mut p.protocol, "TCP");
        }
    }
}

/// Defaults of a ConfigMap (none visible: an empty `data` is omitted).
pub fn config_map(_obj: &mut api::ConfigMap) {}

/// Defaults of a Secret: type `Opaque`; `stringData` merged into `data`
/// (upstream's conversion does this; `stringData` is never stored).
pub fn secret(obj: &mut api::Secret) {
    set_str(&mut obj.type_, "Opaque");
    if let Some(sd) = obj.string_data.take() {
        let data = obj.data.get_or_insert_with(Default::default);
        for (k, v) in sd {
            data.insert(k, k8s_openapi::ByteString(v.into_bytes()));
        }
    }
}

/// Defaults of a ServiceAccount (none).
pub fn service_account(_obj: &mut api::ServiceAccount) {}

/// Defaults of a Node: allocatable from capacity; quantities rounded.
pub fn node(obj: &mut api::Node) {
    let Some(status) = &mut obj.status else {
        return;
    };
    if status.allocatable.is_none() && status.capacity.is_some() {
        status.allocatable = status.capacity.clone();
    }
    resource_list(&mut status.capacity);
    resource_list(&mut status.allocatable);
}

/// Defaults of an Event (none).
pub fn event(_obj: &mut api::Event) {}

/// Defaults of a PersistentVolume: phase Pending, reclaim policy Retain,
/// volume mode Filesystem, plugin defaults, capacity rounding.
pub fn persistent_volume(obj: &mut api::PersistentVolume) {
    let status = obj.status.get_or_insert_with(Default::default);
    set_str(&mut status.phase, "Pending");
    let spec = obj.spec.get_or_insert_with(Default::default);
    set_str(&mut spec.persistent_volume_reclaim_policy, "Retain");
    set(&mut spec.volume_mode, "Filesystem".into());
    resource_list(&mut spec.capacity);
    if let Some(hp) = &mut spec.host_path {
        set(&mut hp.type_, String::new());
    }
    if let Some(i) = &mut spec.iscsi {
        set_str(&mut i.iscsi_interface, "default");
    }
    if let Some(r) = &mut spec.rbd {
        set_str(&mut r.pool, "rbd");
        set_str(&mut r.user, "admin");
        set_str(&mut r.keyring, "/etc/ceph/keyring");
    }
    if let Some(s) = &mut spec.scale_io {
        set_str(&mut s.storage_mode, "ThinProvisioned");
        set_str(&mut s.fs_type, "xfs");
    }
    if let Some(a) = &mut spec.azure_disk {
        set(&mut a.caching_mode, "ReadWrite".into());
        set(&mut a.kind, "Shared".into());
        set(&mut a.fs_type, "ext4".into());
        set(&mut a.read_only, false);
    }
}

/// Defaults of a PersistentVolumeClaim: phase Pending, volume mode
/// Filesystem, quantities rounded.
pub fn persistent_volume_claim(obj: &mut api::PersistentVolumeClaim) {
    pod::pvc_spec(obj.spec.get_or_insert_with(Default::default));
    let status = obj.status.get_or_insert_with(Default::default);
    set_str(&mut status.phase, "Pending");
    resource_list(&mut status.capacity);
    resource_list(&mut status.allocated_resources);
}

/// Defaults of a ReplicationController: selector and labels from the
/// template, one replica, the template's pod spec.
pub fn replication_controller(obj: &mut api::ReplicationController) {
    let spec = obj.spec.get_or_insert_with(Default::default);
    let template_labels = spec
        .template
        .as_ref()
        .and_then(|t| t.metadata.as_ref())
        .and_then(|m| m.labels.clone());
    if let Some(labels) = template_labels {
        if spec.selector.as_ref().is_none_or(|s| s.is_empty()) {
            spec.selector = Some(labels.clone());
        }
        if obj.metadata.labels.as_ref().is_none_or(|l| l.is_empty()) {
            obj.metadata.labels = Some(labels);
        }
    }
    set(&mut spec.replicas, 1);
    if let Some(t) = &mut spec.template {
        pod::pod_template_spec(t);
    }
}

/// Defaults of a LimitRange: container defaults derived from max, default
/// and min; quantities rounded.
pub fn limit_range(obj: &mut api::LimitRange) {
    let Some(spec) = &mut obj.spec else { return };
    for item in &mut spec.limits {
        if item.type_ == "Container" {
            let default = item.default.get_or_insert_with(Default::default);
            for (k, v) in item.max.iter().flatten() {
                default.entry(k.clone()).or_insert_with(|| v.clone());
            }
            let default = default.clone();
            let request = item.default_request.get_or_insert_with(Default::default);
            for (k, v) in &default {
                request.entry(k.clone()).or_insert_with(|| v.clone());
            }
            for (k, v) in item.min.iter().flatten() {
                request.entry(k.clone()).or_insert_with(|| v.clone());
            }
            if item.default.as_ref().is_some_and(|d| d.is_empty()) {
                item.default = None;
            }
            if item.default_request.as_ref().is_some_and(|d| d.is_empty()) {
                item.default_request = None;
            }
        }
        for list in [
            &mut item.max,
            &mut item.min,
            &mut item.default,
            &mut item.default_request,
            &mut item.max_limit_request_ratio,
        ] {
            resource_list(list);
        }
    }
}

/// Defaults of a ResourceQuota: quantities rounded.
pub fn resource_quota(obj: &mut api::ResourceQuota) {
    if let Some(spec) = &mut obj.spec {
        resource_list(&mut spec.hard);
    }
    if let Some(status) = &mut obj.status {
        resource_list(&mut status.hard);
        resource_list(&mut status.used);
    }
}

/// Defaults of a PodTemplate: the pod spec's.
pub fn pod_template(obj: &mut api::PodTemplate) {
    pod::pod_template_spec(obj.template.get_or_insert_with(Default::default));
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

    #[test]
    fn service_defaults() {
        let mut svc = api::Service {
            spec: Some(api::ServiceSpec {
                type_: Some("LoadBalancer".into()),
                session_affinity_config: Some(Default::default()),
                ports: Some(vec![api::ServicePort {
                    port: 80,
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        };
        service(&mut svc);
        let spec = svc.spec.unwrap();
        assert_eq!(spec.session_affinity.as_deref(), Some("None"));
        assert!(spec.session_affinity_config.is_none());
        assert_eq!(spec.external_traffic_policy.as_deref(), Some("Cluster"));
        assert_eq!(spec.internal_traffic_policy.as_deref(), Some("Cluster"));
        assert_eq!(spec.allocate_load_balancer_node_ports, Some(true));
        let p = &spec.ports.unwrap()[0];
        assert_eq!(p.protocol.as_deref(), Some("TCP"));
        assert_eq!(p.target_port, Some(IntOrString::Int(80)));
    }

    #[test]
    fn namespace_and_secret_defaults() {
        let mut ns = api::Namespace::default();
        ns.metadata.name = Some("team".into());
        namespace(&mut ns);
        assert_eq!(ns.metadata.labels.unwrap()[NAMESPACE_NAME_LABEL], "team");
        assert_eq!(ns.status.unwrap().phase.as_deref(), Some("Active"));
        let mut s = api::Secret {
            string_data: Some([("k".to_string(), "v".to_string())].into()),
            ..Default::default()
        };
        secret(&mut s);
        assert_eq!(s.type_.as_deref(), Some("Opaque"));
        assert_eq!(s.data.unwrap()["k"].0, b"v");
        assert!(s.string_data.is_none());
    }

    #[test]
    fn limit_range_defaults() {
        let q = |s: &str| k8s_openapi::apimachinery::pkg::api::resource::Quantity(s.into());
        let mut lr = api::LimitRange {
            spec: Some(api::LimitRangeSpec {
                limits: vec![api::LimitRangeItem {
                    type_: "Container".into(),
                    max: Some([("cpu".to_string(), q("2"))].into()),
                    min: Some([("memory".to_string(), q("1Mi"))].into()),
                    ..Default::default()
                }],
            }),
            ..Default::default()
        };
        limit_range(&mut lr);
        let item = &lr.spec.unwrap().limits[0];
        assert_eq!(item.default.as_ref().unwrap()["cpu"].0, "2");
        assert_eq!(item.default_request.as_ref().unwrap()["cpu"].0, "2");
        assert_eq!(item.default_request.as_ref().unwrap()["memory"].0, "1Mi");
    }
}

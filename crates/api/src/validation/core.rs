//! Validation of core/v1 kinds, as upstream's.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1 as api;

use super::checks::{self, IMMUTABLE};
use super::pod as podv;
use super::{Errors, Path, dns1035_label, dns1123_label, dns1123_subdomain, go, qualified_name};

fn s(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("")
}

// -------------------------------------------------------------- namespace

/// Finalizers allowed without a domain (the last one is the cleanup
/// finalizer CustomResourceDefinitions carry, which upstream's generic
/// validation accepts).
const STANDARD_FINALIZERS: &[&str] = &[
    "kubernetes",
    "orphan",
    "foregroundDeletion",
    crate::kinds::apiextensions::CLEANUP_FINALIZER,
];

/// Validate a finalizer name as upstream's core `validateFinalizerName`:
/// a qualified name, and one of the standard names when it has no domain.
pub fn finalizer_name(errs: &mut Errors, path: &Path, name: &str) {
    errs.invalid_each(path, name, qualified_name(name));
    kube_finalizer_name(errs, path, name);
}

/// The core rule for finalizers without a domain.
pub fn kube_finalizer_name(errs: &mut Errors, path: &Path, name: &str) {
    if !name.contains('/') && !STANDARD_FINALIZERS.contains(&name) {
        errs.invalid(
            path,
            name,
            "name is neither a standard finalizer name nor is it fully qualified",
        );
    }
}

/// Validate a Namespace.
pub fn namespace(obj: &api::Namespace, errs: &mut Errors) {
    let fins = obj.spec.as_ref().and_then(|s| s.finalizers.as_ref());
    for f in fins.into_iter().flatten() {
        finalizer_name(errs, &Path::new("spec").child("finalizers"), f);
    }
}

/// Validate an update of a Namespace.
pub fn namespace_update(_new: &api::Namespace, _old: &api::Namespace, _errs: &mut Errors) {}

// -------------------------------------------------------------------- pod

/// Validate a Pod (create and update).
pub fn pod(obj: &api::Pod, errs: &mut Errors) {
    podv::pod(errs, obj);
}

/// The checks upstream makes only when a Pod is created.
pub fn pod_create(obj: &api::Pod, errs: &mut Errors) {
    podv::pod_create(errs, obj);
}

/// Validate an update of a Pod.
pub fn pod_update(new: &api::Pod, old: &api::Pod, errs: &mut Errors) {
    podv::pod_update(errs, new, old);
}

/// Validate a PodTemplate.
pub fn pod_template(obj: &api::PodTemplate, errs: &mut Errors) {
    let t = obj.template.clone().unwrap_or_default();
    podv::pod_template_spec(errs, &Path::new("template"), &t);
}

/// Validate an update of a PodTemplate.
pub fn pod_template_update(_new: &api::PodTemplate, _old: &api::PodTemplate, _errs: &mut Errors) {}

// ---------------------------------------------------------------- service

fn is_headless(spec: &api::ServiceSpec) -> bool {
    spec.cluster_ips
        .as_deref()
        .is_some_and(|ips| ips.len() == 1 && ips[0] == "None")
}

/// Whether a Service is reachable from outside the cluster (LoadBalancer,
/// NodePort, or ClusterIP with external IPs).
pub fn externally_accessible(spec: &api::ServiceSpec) -> bool {
    match s(&spec.type_) {
        "LoadBalancer" | "NodePort" => true,
        "ClusterIP" => spec.external_ips.as_ref().is_some_and(|v| !v.is_empty()),
        _ => false,
    }
}

/// Whether a Service needs a health-check node port.
pub fn needs_health_check(spec: &api::ServiceSpec) -> bool {
    s(&spec.type_) == "LoadBalancer" && s(&spec.external_traffic_policy) == "Local"
}

/// Validate a Service.
pub fn service(obj: &api::Service, errs: &mut Errors) {
    let spec = obj.spec.clone().unwrap_or_default();
    let sp = Path::new("spec");
    let ann = obj.metadata.annotations.clone().unwrap_or_default();
    let hints = ann.get("service.kubernetes.io/topology-aware-hints");
    let mode = ann.get("service.kubernetes.io/topology-mode");
    if let (Some(h), Some(m)) = (hints, mode)
        && h != m
    {
        errs.invalid(
                &Path::new("metadata").child("annotations").key("service.kubernetes.io/topology-mode"),
                m.as_str(),
                "must match annotations[service.kubernetes.io/topology-aware-hints] when both are specified",
            );
    }
    let type_ = s(&spec.type_);
    let ports = spec.ports.as_deref().unwrap_or_default();
    let headless = is_headless(&spec);
    if ports.is_empty() && !headless && type_ != "ExternalName" {
        errs.required(&sp.child("ports"), "");
    }
    service_type_rules(errs, &sp, &spec, headless);
    let mut names = BTreeSet::new();
    for (i, port) in ports.iter().enumerate() {
        service_port(
            errs,
            &sp.child("ports").index(i),
            port,
            ports.len() > 1,
            &mut names,
        );
    }
    if spec.selector.is_some() {
        super::validate_labels(spec.selector.as_ref(), &sp.child("selector"), errs);
    }
    session_affinity(errs, &sp, &spec);
    cluster_ips(errs, &sp, &spec);
    for (i, ip) in spec.external_ips.iter().flatten().enumerate() {
        let p = sp.child("externalIPs").index(i);
        if checks::parse_ip(ip).is_none() {
            checks::ip_address(errs, &p, ip);
        } else {
            checks::non_special_ip(errs, &p, ip);
        }
    }
    match type_ {
        "ClusterIP" | "NodePort" | "LoadBalancer" | "ExternalName" => {}
        "" => errs.required(&sp.child("type"), ""),
        other => errs.not_supported(
            &sp.child("type"),
            other,
            &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"],
        ),
    }
    service_ports_uniqueness(errs, &sp, type_, ports);
    source_ranges(errs, &sp, &spec, &ann);
    if spec.allocate_load_balancer_node_ports.is_some() && type_ != "LoadBalancer" {
        errs.forbidden(
            &sp.child("allocateLoadBalancerNodePorts"),
            "may only be used when `type` is 'LoadBalancer'",
        );
    }
    if type_ == "LoadBalancer" && spec.allocate_load_balancer_node_ports.is_none() {
        errs.required(&Path::new("allocateLoadBalancerNodePorts"), "");
    }
    load_balancer_class(errs, &spec);
    traffic_policies(errs, &sp, &spec);
}

fn service_type_rules(errs: &mut Errors, sp: &Path, spec: &api::ServiceSpec, headless: bool) {
    match s(&spec.type_) {
        t @ ("LoadBalancer" | "NodePort") if headless => errs.invalid(
            &sp.child("clusterIPs").index(0),
            "None",
            format!("may not be set to 'None' for {t} services"),
        ),
        "ExternalName" => {
            if spec.cluster_ips.as_ref().is_some_and(|v| !v.is_empty()) {
                errs.forbidden(
                    &sp.child("clusterIPs"),
                    "may not be set for ExternalName services",
                );
            }
            if spec.ip_families.as_ref().is_some_and(|v| !v.is_empty()) {
                errs.forbidden(
                    &sp.child("ipFamilies"),
                    "may not be set for ExternalName services",
                );
            }
            if spec.ip_family_policy.is_some() {
                errs.forbidden(
                    &sp.child("ipFamilyPolicy"),
                    "may not be set for ExternalName services",
                );
            }
            let name = s(&spec.external_name);
            let cname = name.strip_suffix('.').unwrap_or(name);
            if cname.is_empty() {
                errs.required(&sp.child("externalName"), "");
            } else {
                errs.invalid_each(&sp.child("externalName"), cname, dns1123_subdomain(cname));
            }
        }
        _ => {}
    }
}

fn service_port(
    errs: &mut Errors,
    path: &Path,
    port: &api::ServicePort,
    require_name: bool,
    names: &mut BTreeSet<String>,
) {
    let name = s(&port.name);
    if require_name && name.is_empty() {
        errs.required(&path.child("name"), "");
    } else if !name.is_empty() {
        errs.invalid_each(&path.child("name"), name, dns1123_label(name));
        if !names.insert(name.to_owned()) {
            errs.duplicate(&path.child("name"), name);
        }
    }
    let p = i64::from(port.port);
    errs.invalid_each_value(&path.child("port"), p, checks::port_num(p));
    podv::protocol(errs, &path.child("protocol"), s(&port.protocol));
    if let Some(tp) = &port.target_port {
        checks::port_num_or_name(errs, &path.child("targetPort"), tp);
    } else {
        errs.invalid_each_value(&path.child("targetPort"), 0, checks::port_num(0));
    }
    if let Some(ap) = &port.app_protocol {
        errs.invalid_each(&path.child("appProtocol"), ap, qualified_name(ap));
    }
}

fn session_affinity(errs: &mut Errors, sp: &Path, spec: &api::ServiceSpec) {
    let sa = s(&spec.session_affinity);
    match sa {
        "" => errs.required(&sp.child("sessionAffinity"), ""),
        "ClientIP" | "None" => {}
        other => errs.not_supported(&sp.child("sessionAffinity"), other, &["ClientIP", "None"]),
    }
    let p = sp.child("sessionAffinityConfig");
    if sa == "ClientIP" {
        let when = "when session affinity type is ClientIP";
        let Some(cfg) = &spec.session_affinity_config else {
            errs.required(&p, when);
            return;
        };
        let Some(cip) = &cfg.client_ip else {
            errs.required(&p.child("clientIP"), when);
            return;
        };
        let tp = p.child("clientIP").child("timeoutSeconds");
        match cip.timeout_seconds {
            None => errs.required(&tp, when),
            Some(t) if t <= 0 || t > 86400 => {
                errs.invalid(&tp, t, "must be greater than 0 and less than 86400")
            }
            Some(_) => {}
        }
    } else if sa == "None" && spec.session_affinity_config.is_some() {
        errs.forbidden(&p, "must not be set when session affinity is None");
    }
}

fn cluster_ips(errs: &mut Errors, sp: &Path, spec: &api::ServiceSpec) {
    if s(&spec.type_) == "ExternalName" {
        return;
    }
    let ips_path = sp.child("clusterIPs");
    let ips = spec.cluster_ips.as_deref().unwrap_or_default();
    let ip = s(&spec.cluster_ip);
    let shown = || go::string_slice(Some(ips));
    if !ip.is_empty() {
        if ips.is_empty() {
            errs.required(&ips_path, "");
        } else if ips[0] != ip {
            errs.invalid_raw(&ips_path, shown(), "first value must match `clusterIP`");
        }
    } else if !ips.is_empty() {
        errs.invalid_raw(
            &ips_path,
            shown(),
            "must be empty when `clusterIP` is not specified",
        );
    }
    let fam_path = sp.child("ipFamilies");
    let mut seen = BTreeSet::new();
    for (i, f) in spec.ip_families.iter().flatten().enumerate() {
        if f != "IPv4" && f != "IPv6" {
            errs.not_supported(&fam_path.index(i), f.as_str(), &["IPv4", "IPv6"]);
        }
        if !seen.insert(f.as_str()) {
            errs.duplicate(&fam_path.index(i), f.as_str());
        }
    }
    if let Some(pol) = &spec.ip_family_policy {
        const POLICIES: &[&str] = &["PreferDualStack", "RequireDualStack", "SingleStack"];
        if !POLICIES.contains(&pol.as_str()) {
            errs.not_supported(&sp.child("ipFamilyPolicy"), pol.as_str(), POLICIES);
        }
    }
    let mut invalid = false;
    for (i, c) in ips.iter().enumerate() {
        if i == 0 && c == "None" {
            if ips.len() > 1 {
                invalid = true;
                errs.invalid_raw(
                    &ips_path,
                    shown(),
                    "'None' must be the first and only value",
                );
            }
            continue;
        }
        if checks::parse_ip(c).is_none() {
            invalid = true;
            checks::ip_address(errs, &ips_path.index(i), c);
        }
    }
    if ips.len() > 2 {
        errs.invalid_raw(&ips_path, shown(), "may only hold up to 2 values");
    }
    if invalid {
        return;
    }
    if ips.len() > 1 {
        let v4 = ips
            .iter()
            .filter(|c| checks::parse_ip(c).is_some_and(|i| i.is_ipv4()))
            .count();
        if v4 != 1 || ips.len() != 2 {
            errs.invalid_raw(
                &ips_path,
                shown(),
                "may specify no more than one IP for each IP family",
            );
        }
    }
    if !is_headless(spec) {
        for (i, (c, fam)) in ips
            .iter()
            .zip(spec.ip_families.iter().flatten())
            .enumerate()
        {
            let is_v6 = checks::parse_ip(c).is_some_and(|ip| ip.is_ipv6());
            if fam == "IPv4" && is_v6 {
                errs.invalid(
                    &ips_path.index(i),
                    c.as_str(),
                    format!("expected an IPv4 value as indicated by `ipFamilies[{i}]`"),
                );
            }
            if fam == "IPv6" && !is_v6 {
                errs.invalid(
                    &ips_path.index(i),
                    c.as_str(),
                    format!("expected an IPv6 value as indicated by `ipFamilies[{i}]`"),
                );
            }
        }
    }
}

fn service_ports_uniqueness(errs: &mut Errors, sp: &Path, type_: &str, ports: &[api::ServicePort]) {
    if type_ == "ClusterIP" {
        for (i, p) in ports.iter().enumerate() {
            if p.node_port.unwrap_or(0) != 0 {
                errs.forbidden(
                    &sp.child("ports").index(i).child("nodePort"),
                    "may not be used when `type` is 'ClusterIP'",
                );
            }
        }
    }
    let mut node_ports = BTreeSet::new();
    for (i, p) in ports.iter().enumerate() {
        let np = p.node_port.unwrap_or(0);
        if np != 0 && !node_ports.insert((s(&p.protocol).to_owned(), np)) {
            errs.duplicate(&sp.child("ports").index(i).child("nodePort"), np);
        }
    }
    let mut seen = BTreeSet::new();
    for (i, p) in ports.iter().enumerate() {
        if !seen.insert((s(&p.protocol).to_owned(), p.port)) {
            errs.duplicate_raw(
                &sp.child("ports").index(i),
                format!(
                    "core.ServicePort{{Name:\"\", Protocol:{}, AppProtocol:(*string)(nil), Port:{}, TargetPort:intstr.IntOrString{{Type:0, IntVal:0, StrVal:\"\"}}, NodePort:0}}",
                    go::quote(s(&p.protocol)),
                    p.port
                ),
            );
        }
    }
}

fn source_ranges(
    errs: &mut Errors,
    sp: &Path,
    spec: &api::ServiceSpec,
    ann: &BTreeMap<String, String>,
) {
    let is_lb = s(&spec.type_) == "LoadBalancer";
    let ranges = spec
        .load_balancer_source_ranges
        .as_deref()
        .unwrap_or_default();
    let key = "service.beta.kubernetes.io/load-balancer-source-ranges";
    if !ranges.is_empty() {
        let p = sp.child("LoadBalancerSourceRanges");
        if !is_lb {
            errs.forbidden(&p, "may only be used when `type` is 'LoadBalancer'");
        }
        for (i, r) in ranges.iter().enumerate() {
            checks::cidr(errs, &p.index(i), r.trim());
        }
    } else if let Some(v) = ann.get(key) {
        let p = Path::new("metadata").child("annotations").key(key);
        if !is_lb {
            errs.forbidden(&p, "may only be used when `type` is 'LoadBalancer'");
        }
        let v = v.trim();
        if !v.is_empty() {
            for r in v.split(',') {
                checks::cidr(errs, &p, r.trim());
            }
        }
    }
}

fn load_balancer_class(errs: &mut Errors, spec: &api::ServiceSpec) {
    let p = Path::new("spec").child("loadBalancerClass");
    match (&spec.load_balancer_class, s(&spec.type_) == "LoadBalancer") {
        (Some(c), true) => errs.invalid_each(&p, c, qualified_name(c)),
        (Some(_), false) => errs.forbidden(&p, "may only be used when `type` is 'LoadBalancer'"),
        _ => {}
    }
}

fn traffic_policies(errs: &mut Errors, sp: &Path, spec: &api::ServiceSpec) {
    let etp = s(&spec.external_traffic_policy);
    if !externally_accessible(spec) {
        if !etp.is_empty() {
            errs.invalid(
                &sp.child("externalTrafficPolicy"),
                etp,
                "may only be set for externally-accessible services",
            );
        }
    } else if etp.is_empty() {
        errs.required(&sp.child("externalTrafficPolicy"), "");
    } else if etp != "Cluster" && etp != "Local" {
        errs.not_supported(
            &sp.child("externalTrafficPolicy"),
            etp,
            &["Cluster", "Local"],
        );
    }
    let hc = spec.health_check_node_port.unwrap_or(0);
    if !needs_health_check(spec) {
        if hc != 0 {
            errs.invalid(
                &sp.child("healthCheckNodePort"),
                hc,
                "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
            );
        }
    } else if hc != 0 {
        // A zero port is allocated by the server (not validated here).
        let v = i64::from(hc);
        errs.invalid_each_value(&sp.child("healthCheckNodePort"), v, checks::port_num(v));
    }
    let itp = &spec.internal_traffic_policy;
    match itp.as_deref() {
        None if matches!(s(&spec.type_), "NodePort" | "LoadBalancer" | "ClusterIP") => {
            errs.required(&sp.child("internalTrafficPolicy"), "")
        }
        Some(v) if v != "Cluster" && v != "Local" => {
            errs.not_supported(&sp.child("internalTrafficPolicy"), v, &["Cluster", "Local"])
        }
        _ => {}
    }
    if let Some(td) = &spec.traffic_distribution
        && td != "PreferClose"
    {
        errs.not_supported(
            &sp.child("trafficDistribution"),
            td.as_str(),
            &["PreferClose"],
        );
    }
}

/// Validate an update of a Service: cluster IPs and IP families may not
/// change once set, nor the load balancer class.
pub fn service_update(new: &api::Service, old: &api::Service, errs: &mut Errors) {
    let n = new.spec.clone().unwrap_or_default();
    let o = old.spec.clone().unwrap_or_default();
    cluster_ips_update(errs, &n, &o);
    ip_families_update(errs, &n, &o);
    if s(&o.type_) == "LoadBalancer"
        && s(&n.type_) == "LoadBalancer"
        && o.load_balancer_class != n.load_balancer_class
    {
        errs.invalid(
            &Path::new("spec").child("loadBalancerClass"),
            checks::opt_value(n.load_balancer_class.clone()),
            "may not change once set",
        );
    }
    if needs_health_check(&o)
        && needs_health_check(&n)
        && o.health_check_node_port != n.health_check_node_port
    {
        errs.forbidden(&Path::new("spec").child("healthCheckNodePort"), IMMUTABLE);
    }
}

fn cluster_ips_update(errs: &mut Errors, n: &api::ServiceSpec, o: &api::ServiceSpec) {
    if s(&n.type_) == "ExternalName" || s(&o.type_) == "ExternalName" {
        return;
    }
    if is_headless(n) && is_headless(o) {
        return;
    }
    let p = Path::new("spec").child("clusterIPs");
    let (nips, oips) = (
        n.cluster_ips.as_deref().unwrap_or_default(),
        o.cluster_ips.as_deref().unwrap_or_default(),
    );
    let shown = go::string_slice(Some(nips));
    use std::cmp::Ordering;
    match oips.len().cmp(&nips.len()) {
        Ordering::Equal => {
            for (i, ip) in oips.iter().enumerate() {
                if *ip != nips[i] {
                    errs.invalid_raw(&p.index(i), shown.clone(), "may not change once set");
                }
            }
        }
        Ordering::Greater => {
            if nips.is_empty() {
                errs.invalid_raw(
                    &p.index(0),
                    shown.clone(),
                    "primary clusterIP can not be unset",
                );
            }
            if !oips.is_empty() && !nips.is_empty() && nips[0] != oips[0] {
                errs.invalid_raw(&p.index(0), shown.clone(), "may not change once set");
            }
            if nips.len() == 1 && s(&n.ip_family_policy) != "SingleStack" {
                errs.invalid(
                    &Path::new("spec").child("ipFamilyPolicy"),
                    checks::opt_value(n.ip_family_policy.clone()),
                    "must be set to 'SingleStack' when releasing the secondary clusterIP",
                );
            }
        }
        Ordering::Less => {
            if !oips.is_empty() && nips[0] != oips[0] {
                errs.invalid_raw(&p.index(0), shown, "may not change once set");
            }
        }
    }
}

fn ip_families_update(errs: &mut Errors, n: &api::ServiceSpec, o: &api::ServiceSpec) {
    if s(&n.type_) == "ExternalName" || s(&o.type_) == "ExternalName" {
        return;
    }
    if is_headless(n) || is_headless(o) {
        return;
    }
    let p = Path::new("spec").child("ipFamilies");
    let (nf, of) = (
        n.ip_families.as_deref().unwrap_or_default(),
        o.ip_families.as_deref().unwrap_or_default(),
    );
    let shown = go::string_slice(Some(nf));
    if nf.len() == of.len() {
        if nf != of {
            errs.invalid_raw(&p.index(0), shown, "may not change once set");
        }
    } else if nf.len() < of.len() {
        if !nf.is_empty() && nf[0] != of[0] {
            errs.invalid_raw(&p.index(0), shown, "may not change once set");
        }
        if nf.len() == 1 && s(&n.ip_family_policy) != "SingleStack" {
            errs.invalid(
                &Path::new("spec").child("ipFamilyPolicy"),
                checks::opt_value(n.ip_family_policy.clone()),
                "must be set to 'SingleStack' when releasing the secondary ipFamily",
            );
        }
    } else if !of.is_empty() && nf[0] != of[0] {
        errs.invalid_raw(&p.index(0), shown, "may not change once set");
    }
}

// -------------------------------------------------------------- endpoints

/// Validate an Endpoints object.
pub fn endpoints(obj: &api::Endpoints, errs: &mut Errors) {
    let root = Path::new("subsets");
    for (i, ss) in obj.subsets.iter().flatten().enumerate() {
        let p = root.index(i);
        let addrs = ss.addresses.as_deref().unwrap_or_default();
        let not_ready = ss.not_ready_addresses.as_deref().unwrap_or_default();
        if addrs.is_empty() && not_ready.is_empty() {
            errs.required(&p, "must specify `addresses` or `notReadyAddresses`");
        }
        for (field, list) in [("addresses", addrs), ("notReadyAddresses", not_ready)] {
            for (j, a) in list.iter().enumerate() {
                endpoint_address(errs, &p.child(field).index(j), a);
            }
        }
        let ports = ss.ports.as_deref().unwrap_or_default();
        for (j, port) in ports.iter().enumerate() {
            endpoint_port(errs, &p.child("ports").index(j), port, ports.len() > 1);
        }
    }
}

fn endpoint_address(errs: &mut Errors, path: &Path, a: &api::EndpointAddress) {
    checks::ip_address(errs, &path.child("ip"), &a.ip);
    let host = s(&a.hostname);
    if !host.is_empty() {
        errs.invalid_each(&path.child("hostname"), host, dns1123_label(host));
    }
    if let Some(n) = &a.node_name {
        errs.invalid_each(&path.child("nodeName"), n, dns1123_subdomain(n));
    }
    checks::non_special_ip(errs, &path.child("ip"), &a.ip);
}

fn endpoint_port(errs: &mut Errors, path: &Path, port: &api::EndpointPort, require_name: bool) {
    let name = s(&port.name);
    if require_name && name.is_empty() {
        errs.required(&path.child("name"), "");
    } else if !name.is_empty() {
        errs.invalid_each(&path.child("name"), name, dns1123_label(name));
    }
    let p = i64::from(port.port);
    errs.invalid_each_value(&path.child("port"), p, checks::port_num(p));
    podv::protocol(errs, &path.child("protocol"), s(&port.protocol));
    if let Some(ap) = &port.app_protocol {
        errs.invalid_each(&path.child("appProtocol"), ap, qualified_name(ap));
    }
}

/// Validate an update of an Endpoints object.
pub fn endpoints_update(_new: &api::Endpoints, _old: &api::Endpoints, _errs: &mut Errors) {}

// ----------------------------------------------------- configmap / secret

/// The most bytes a ConfigMap's or Secret's data may take.
pub const MAX_DATA_SIZE: usize = 1024 * 1024;

/// Validate a ConfigMap: data keys, no key in both `data` and
/// `binaryData`, at most 1 MiB of data.
pub fn config_map(obj: &api::ConfigMap, errs: &mut Errors) {
    let mut total = 0;
    let binary = obj.binary_data.clone().unwrap_or_default();
    for (k, v) in obj.data.iter().flatten() {
        let p = Path::new("data").key(k);
        errs.invalid_each(&p, k, checks::config_map_key(k));
        if binary.contains_key(k) {
            errs.invalid(&p, k.as_str(), "duplicate of key present in binaryData");
        }
        total += v.len();
    }
    for (k, v) in &binary {
        errs.invalid_each(
            &Path::new("binaryData").key(k),
            k,
            checks::config_map_key(k),
        );
        total += v.0.len();
    }
    if total > MAX_DATA_SIZE {
        errs.too_long(&Path::new(""), MAX_DATA_SIZE);
    }
}

fn immutable_data<T: PartialEq>(
    errs: &mut Errors,
    new_immutable: Option<bool>,
    old_immutable: Option<bool>,
    fields: &[(&str, T, T)],
) {
    if old_immutable != Some(true) {
        return;
    }
    const MSG: &str = "field is immutable when `immutable` is set";
    if new_immutable != Some(true) {
        errs.forbidden(&Path::new("immutable"), MSG);
    }
    for (field, n, o) in fields {
        if n != o {
            errs.forbidden(&Path::new(field), MSG);
        }
    }
}

/// Validate an update of a ConfigMap: nothing may change once immutable.
pub fn config_map_update(new: &api::ConfigMap, old: &api::ConfigMap, errs: &mut Errors) {
    if old.immutable == Some(true) {
        let nd = serde_json::to_value(&new.data).unwrap_or_default();
        let od = serde_json::to_value(&old.data).unwrap_or_default();
        let nb = serde_json::to_value(&new.binary_data).unwrap_or_default();
        let ob = serde_json::to_value(&old.binary_data).unwrap_or_default();
        immutable_data(
            errs,
            new.immutable,
            old.immutable,
            &[("data", nd, od), ("binaryData", nb, ob)],
        );
    }
}

/// Validate a Secret: data keys, size, and the keys each type requires.
pub fn secret(obj: &api::Secret, errs: &mut Errors) {
    let data = obj.data.clone().unwrap_or_default();
    let dp = Path::new("data");
    let mut total = 0;
    for (k, v) in &data {
        errs.invalid_each(&dp.key(k), k, checks::config_map_key(k));
        total += v.0.len();
    }
    if total > MAX_DATA_SIZE {
        errs.too_long(&dp, MAX_DATA_SIZE);
    }
    let has = |k: &str| data.contains_key(k);
    match s(&obj.type_) {
        "kubernetes.io/service-account-token" => {
            let name = obj
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get("kubernetes.io/service-account.name"))
                .map_or("", String::as_str);
            if name.is_empty() {
                errs.required(
                    &Path::new("metadata")
                        .child("annotations")
                        .key("kubernetes.io/service-account.name"),
                    "",
                );
            }
        }
        "kubernetes.io/dockercfg" => json_key(errs, &dp, &data, ".dockercfg"),
        "kubernetes.io/dockerconfigjson" => json_key(errs, &dp, &data, ".dockerconfigjson"),
        "kubernetes.io/basic-auth" if !has("username") && !has("password") => {
            errs.required(&dp.key("username"), "");
            errs.required(&dp.key("password"), "");
        }
        "kubernetes.io/ssh-auth" if data.get("ssh-privatekey").is_none_or(|v| v.0.is_empty()) => {
            errs.required(&dp.key("ssh-privatekey"), "");
        }
        "kubernetes.io/tls" => {
            for k in ["tls.crt", "tls.key"] {
                if !has(k) {
                    errs.required(&dp.key(k), "");
                }
            }
        }
        _ => {}
    }
}

fn json_key(
    errs: &mut Errors,
    dp: &Path,
    data: &BTreeMap<String, k8s_openapi::ByteString>,
    key: &str,
) {
    match data.get(key) {
        None => errs.required(&dp.key(key), ""),
        Some(v) => {
            if let Err(e) =
                serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&v.0)
            {
                errs.invalid(&dp.key(key), "<secret contents redacted>", e.to_string());
            }
        }
    }
}

/// Validate an update of a Secret: `type` is immutable, and nothing may
/// change once immutable.
pub fn secret_update(new: &api::Secret, old: &api::Secret, errs: &mut Errors) {
    if new.type_ != old.type_ {
        errs.invalid(&Path::new("type"), s(&new.type_), IMMUTABLE);
    }
    if old.immutable == Some(true) {
        let nd = serde_json::to_value(&new.data).unwrap_or_default();
        let od = serde_json::to_value(&old.data).unwrap_or_default();
        immutable_data(errs, new.immutable, old.immutable, &[("data", nd, od)]);
    }
}

/// Validate a ServiceAccount (metadata only).
pub fn service_account(_obj: &api::ServiceAccount, _errs: &mut Errors) {}

/// Validate an update of a ServiceAccount.
pub fn service_account_update(
    _new: &api::ServiceAccount,
    _old: &api::ServiceAccount,
    _errs: &mut Errors,
) {
}

// ------------------------------------------------------------------- node

fn taints(errs: &mut Errors, path: &Path, taints: &[api::Taint]) {
    let mut seen: BTreeSet<(&str, &str)> = BTreeSet::new();
    for (i, t) in taints.iter().enumerate() {
        let p = path.index(i);
        checks::label_name(errs, &p.child("key"), &t.key);
        let value = s(&t.value);
        let msgs = super::label_value(value);
        if !msgs.is_empty() {
            errs.invalid(&p.child("value"), value, msgs.join(";"));
        }
        podv::taint_effect(errs, &p.child("effect"), &t.effect, false);
        if !seen.insert((t.effect.as_str(), t.key.as_str())) {
            errs.0.push(super::FieldError {
                kind: super::ErrorType::Duplicate,
                field: p.as_str().to_owned(),
                value: Some(go::raw(format!(
                    "core.Taint{{Key:{}, Value:{}, Effect:{}, TimeAdded:<nil>}}",
                    go::quote(&t.key),
                    go::quote(value),
                    go::quote(&t.effect)
                ))),
                detail: "taints must be unique by key and effect pair".into(),
            });
        }
    }
}

fn node_resources(errs: &mut Errors, obj: &api::Node) {
    let status = obj.status.clone().unwrap_or_default();
    for (field, list) in [
        ("capacity", &status.capacity),
        ("allocatable", &status.allocatable),
    ] {
        for (k, q) in list.iter().flatten() {
            let p = Path::new("status").child(field).child(k);
            if let Some(q) = checks::quantity(errs, &p, q) {
                checks::resource_quantity_value(errs, &p, k, &q);
            }
        }
    }
}

/// Validate a Node: taints, resource quantities, pod CIDRs.
pub fn node(obj: &api::Node, errs: &mut Errors) {
    let spec = obj.spec.clone().unwrap_or_default();
    // Upstream reports node taints under `metadata.taints`.
    taints(
        errs,
        &Path::new("metadata").child("taints"),
        spec.taints.as_deref().unwrap_or_default(),
    );
    node_resources(errs, obj);
    let cidrs = spec.pod_cidrs.as_deref().unwrap_or_default();
    let p = Path::new("spec").child("podCIDRs");
    for (i, c) in cidrs.iter().enumerate() {
        checks::cidr(errs, &p.index(i), c);
    }
    if cidrs.len() > 1 {
        let v4 = cidrs
            .iter()
            .filter_map(|c| checks::parse_cidr(c))
            .filter(|(ip, _)| ip.is_ipv4())
            .count();
        if cidrs.len() > 2 || v4 != 1 {
            errs.invalid_raw(
                &p,
                go::string_slice(Some(cidrs)),
                "may specify no more than one CIDR for each IP family",
            );
        }
        let mut seen = BTreeSet::new();
        for (i, c) in cidrs.iter().enumerate() {
            if !seen.insert(c.as_str()) {
                errs.duplicate(&p.index(i), c.as_str());
            }
        }
    }
}

/// Validate an update of a Node: pod CIDRs and provider ID may only be set
/// once.
pub fn node_update(new: &api::Node, old: &api::Node, errs: &mut Errors) {
    let n = new.spec.clone().unwrap_or_default();
    let o = old.spec.clone().unwrap_or_default();
    let mut seen = BTreeSet::new();
    for (i, a) in new
        .status
        .as_ref()
        .and_then(|st| st.addresses.as_ref())
        .into_iter()
        .flatten()
        .enumerate()
    {
        if !seen.insert((a.type_.clone(), a.address.clone())) {
            errs.duplicate_raw(
                &Path::new("status").child("addresses").index(i),
                format!(
                    "core.NodeAddress{{Type:{}, Address:{}}}",
                    go::quote(&a.type_),
                    go::quote(&a.address)
                ),
            );
        }
    }
    let old_cidrs = o.pod_cidrs.as_deref().unwrap_or_default();
    if !old_cidrs.is_empty() {
        let new_cidrs = n.pod_cidrs.as_deref().unwrap_or_default();
        let msg = "node updates may not change podCIDR except from \"\" to valid";
        if old_cidrs.len() != new_cidrs.len() {
            errs.forbidden(&Path::new("spec").child("podCIDRs"), msg);
        } else {
            for (a, b) in old_cidrs.iter().zip(new_cidrs) {
                if a != b {
                    errs.forbidden(&Path::new("spec").child("podCIDRs"), msg);
                }
            }
        }
    }
    let old_pid = s(&o.provider_id);
    if !old_pid.is_empty() && old_pid != s(&n.provider_id) {
        errs.forbidden(
            &Path::new("spec").child("providerID"),
            "node updates may not change providerID except from \"\" to valid",
        );
    }
    if n.external_id != o.external_id {
        errs.forbidden(&Path::new("spec").child("externalID"), "may not be updated");
    }
}

// ------------------------------------------------------------------ event

/// Validate a core/v1 Event (upstream's legacy event rules).
pub fn event(obj: &api::Event, errs: &mut Errors) {
    let ns = obj.metadata.namespace.as_deref().unwrap_or("");
    let inv_ns = s(&obj.involved_object.namespace);
    let inv_path = Path::new("involvedObject").child("namespace");
    let mismatch = "does not match event.namespace";
    if obj.event_time.is_none() {
        if inv_ns.is_empty() {
            if !ns.is_empty() && ns != "default" {
                errs.invalid(&inv_path, inv_ns, mismatch);
            }
        } else if ns != inv_ns {
            errs.invalid(&inv_path, inv_ns, mismatch);
        }
    } else {
        if inv_ns.is_empty() && ns != "default" && ns != "kube-system" {
            errs.invalid(&inv_path, inv_ns, mismatch);
        }
        let rc = s(&obj.reporting_component);
        if rc.is_empty() {
            errs.required(&Path::new("reportingComponent"), "");
        }
        errs.invalid_each(&Path::new("reportingComponent"), rc, qualified_name(rc));
        for (field, v, max) in [
            ("reportingInstance", s(&obj.reporting_instance), 128),
            ("action", s(&obj.action), 128),
            ("reason", s(&obj.reason), 128),
        ] {
            if v.is_empty() {
                errs.required(&Path::new(field), "");
            }
            if v.len() > max {
                errs.invalid(
                    &Path::new(field),
                    "",
                    format!("can have at most {max} characters"),
                );
            }
        }
        if s(&obj.message).len() > 1024 {
            errs.invalid(
                &Path::new("message"),
                "",
                "can have at most 1024 characters",
            );
        }
    }
    errs.invalid_each(&Path::new("namespace"), ns, dns1123_subdomain(ns));
}

/// Validate an update of an Event.
pub fn event_update(_new: &api::Event, _old: &api::Event, _errs: &mut Errors) {}

// --------------------------------------------------------------------- pv

const ACCESS_MODES: &[&str] = &[
    "ReadOnlyMany",
    "ReadWriteMany",
    "ReadWriteOnce",
    "ReadWriteOncePod",
];

fn access_modes(errs: &mut Errors, path: &Path, modes: &[String], required: Option<&str>) {
    if let (true, Some(detail)) = (modes.is_empty(), required) {
        errs.required(path, detail);
    }
    let (mut rwop, mut other) = (false, false);
    for m in modes {
        if !ACCESS_MODES.contains(&m.as_str()) {
            errs.not_supported(path, m.as_str(), ACCESS_MODES);
        } else if m == "ReadWriteOncePod" {
            rwop = true;
        } else {
            other = true;
        }
    }
    if rwop && other {
        errs.forbidden(path, "may not use ReadWriteOncePod with other access modes");
    }
}

/// The sources of a PersistentVolume that are set, in upstream's order.
fn pv_sources(spec: &api::PersistentVolumeSpec) -> Vec<&'static str> {
    let flags = [
        ("hostPath", spec.host_path.is_some()),
        ("gcePersistentDisk", spec.gce_persistent_disk.is_some()),
        (
            "awsElasticBlockStore",
            spec.aws_elastic_block_store.is_some(),
        ),
        ("glusterfs", spec.glusterfs.is_some()),
        ("flocker", spec.flocker.is_some()),
        ("nfs", spec.nfs.is_some()),
        ("rbd", spec.rbd.is_some()),
        ("quobyte", spec.quobyte.is_some()),
        ("cephFS", spec.cephfs.is_some()),
        ("iscsi", spec.iscsi.is_some()),
        ("cinder", spec.cinder.is_some()),
        ("fc", spec.fc.is_some()),
        ("flexVolume", spec.flex_volume.is_some()),
        ("azureFile", spec.azure_file.is_some()),
        ("vsphereVolume", spec.vsphere_volume.is_some()),
        (
            "photonPersistentDisk",
            spec.photon_persistent_disk.is_some(),
        ),
        ("portworxVolume", spec.portworx_volume.is_some()),
        ("azureDisk", spec.azure_disk.is_some()),
        ("scaleIO", spec.scale_io.is_some()),
        ("local", spec.local.is_some()),
        ("storageos", spec.storageos.is_some()),
        ("csi", spec.csi.is_some()),
    ];
    flags
        .iter()
        .filter(|(_, set)| *set)
        .map(|(n, _)| *n)
        .collect()
}

fn pv_source(
    errs: &mut Errors,
    sp: &Path,
    spec: &api::PersistentVolumeSpec,
    node_affinity_set: bool,
) {
    let set = pv_sources(spec);
    if set.is_empty() {
        errs.required(sp, "must specify a volume type");
        return;
    }
    for extra in &set[1..] {
        if *extra != "flexVolume" {
            errs.forbidden(&sp.child(extra), "may not specify more than 1 volume type");
        }
    }
    let req = |errs: &mut Errors, p: Path, v: &str| {
        if v.is_empty() {
            errs.required(&p, "");
        }
    };
    match set[0] {
        "hostPath" => {
            if let Some(hp) = &spec.host_path {
                let p = sp.child("hostPath");
                if hp.path.is_empty() {
                    errs.required(&p.child("path"), "");
                } else {
                    checks::no_backsteps(errs, &p.child("path"), &hp.path);
                }
            }
        }
        "nfs" => {
            if let Some(nfs) = &spec.nfs {
                let p = sp.child("nfs");
                req(errs, p.child("server"), &nfs.server);
                req(errs, p.child("path"), &nfs.path);
                if !nfs.path.starts_with('/') {
                    errs.invalid(
                        &p.child("path"),
                        nfs.path.as_str(),
                        "must be an absolute path",
                    );
                }
            }
        }
        "local" => {
            if let Some(l) = &spec.local {
                let p = sp.child("local");
                if l.path.is_empty() {
                    errs.required(&p.child("path"), "");
                } else {
                    checks::no_backsteps(errs, &p.child("path"), &l.path);
                }
                if !node_affinity_set {
                    errs.required(
                        &sp.child("nodeAffinity"),
                        "Local volume requires node affinity",
                    );
                }
            }
        }
        "csi" => {
            if let Some(c) = &spec.csi {
                let p = sp.child("csi");
                if c.driver.is_empty() {
                    errs.required(&p.child("driver"), "");
                }
                if c.driver.len() > 63 {
                    errs.too_long(&p.child("driver"), 63);
                }
                errs.invalid_each(
                    &p.child("driver"),
                    &c.driver,
                    dns1123_subdomain(&c.driver.to_lowercase()),
                );
                req(errs, p.child("volumeHandle"), &c.volume_handle);
            }
        }
        "iscsi" => {
            if let Some(i) = &spec.iscsi {
                let p = sp.child("iscsi");
                req(errs, p.child("targetPortal"), &i.target_portal);
                req(errs, p.child("iqn"), &i.iqn);
            }
        }
        "glusterfs" => {
            if let Some(g) = &spec.glusterfs {
                let p = sp.child("glusterfs");
                req(errs, p.child("endpoints"), &g.endpoints);
                req(errs, p.child("path"), &g.path);
            }
        }
        "rbd" => {
            if let Some(r) = &spec.rbd {
                let p = sp.child("rbd");
                if r.monitors.is_empty() {
                    errs.required(&p.child("monitors"), "");
                }
                req(errs, p.child("image"), &r.image);
            }
        }
        "cephFS" => {
            if let Some(c) = &spec.cephfs
                && c.monitors.is_empty()
            {
                errs.required(&sp.child("cephfs").child("monitors"), "");
            }
        }
        "gcePersistentDisk" => {
            if let Some(pd) = &spec.gce_persistent_disk {
                req(
                    errs,
                    sp.child("persistentDisk").child("pdName"),
                    &pd.pd_name,
                );
            }
        }
        "awsElasticBlockStore" => {
            if let Some(pd) = &spec.aws_elastic_block_store {
                req(
                    errs,
                    sp.child("awsElasticBlockStore").child("volumeID"),
                    &pd.volume_id,
                );
            }
        }
        "cinder" => {
            if let Some(c) = &spec.cinder {
                req(errs, sp.child("cinder").child("volumeID"), &c.volume_id);
            }
        }
        "flexVolume" => {
            if let Some(f) = &spec.flex_volume {
                req(errs, sp.child("flexVolume").child("driver"), &f.driver);
            }
        }
        _ => {}
    }
}

/// Validate a PersistentVolume.
pub fn persistent_volume(obj: &api::PersistentVolume, errs: &mut Errors) {
    let spec = obj.spec.clone().unwrap_or_default();
    let sp = Path::new("spec");
    access_modes(
        errs,
        &sp.child("accessModes"),
        spec.access_modes.as_deref().unwrap_or_default(),
        Some(""),
    );
    let cap = spec.capacity.clone().unwrap_or_default();
    if cap.is_empty() {
        errs.required(&sp.child("capacity"), "");
    }
    if !cap.contains_key("storage") || cap.len() > 1 {
        let shown: BTreeMap<String, String> =
            cap.iter().map(|(k, v)| (k.clone(), v.0.clone())).collect();
        errs.not_supported_raw(
            &sp.child("capacity"),
            format!(
                "core.ResourceList{}",
                &go::string_map(Some(&shown))["map[string]string".len()..]
            ),
            &["storage"],
        );
    }
    for (k, q) in &cap {
        let p = sp.child("capacity").key(k);
        if let Some(q) = checks::quantity(errs, &p, q) {
            if q.value() < 0 {
                errs.invalid(&p, q.value(), "must be a valid resource quantity");
            }
            checks::positive_quantity(errs, &p, &q);
        }
    }
    let policy = s(&spec.persistent_volume_reclaim_policy);
    if !policy.is_empty() && !matches!(policy, "Delete" | "Recycle" | "Retain") {
        errs.not_supported(
            &sp.child("persistentVolumeReclaimPolicy"),
            policy,
            &["Delete", "Recycle", "Retain"],
        );
    }
    let mut affinity_set = false;
    if let Some(na) = &spec.node_affinity {
        affinity_set = true;
        let p = sp.child("nodeAffinity");
        match &na.required {
            Some(r) => podv::node_selector(errs, &p.child("required"), r, false),
            None => errs.required(
                &p.child("required"),
                "must specify required node constraints",
            ),
        }
    }
    pv_source(errs, &sp, &spec, affinity_set);
    if let Some(hp) = &spec.host_path
        && hp.path.trim_end_matches('/').is_empty()
        && !hp.path.is_empty()
        && policy == "Recycle"
    {
        errs.forbidden(
            &sp.child("persistentVolumeReclaimPolicy"),
            "may not be 'recycle' for a hostPath mount of '/'",
        );
    }
    let class = s(&spec.storage_class_name);
    if !class.is_empty() {
        errs.invalid_each(
            &sp.child("storageClassName"),
            class,
            dns1123_subdomain(class),
        );
    }
    if let Some(m) = &spec.volume_mode
        && m != "Block"
        && m != "Filesystem"
    {
        errs.not_supported(
            &sp.child("volumeMode"),
            m.as_str(),
            &["Block", "Filesystem"],
        );
    }
}

/// Validate an update of a PersistentVolume: the volume source and mode
/// are immutable.
pub fn persistent_volume_update(
    new: &api::PersistentVolume,
    old: &api::PersistentVolume,
    errs: &mut Errors,
) {
    let n = new.spec.clone().unwrap_or_default();
    let o = old.spec.clone().unwrap_or_default();
    let source = |spec: &api::PersistentVolumeSpec| {
        let mut v = serde_json::to_value(spec).unwrap_or_default();
        if let Some(m) = v.as_object_mut() {
            for k in [
                "accessModes",
                "capacity",
                "claimRef",
                "persistentVolumeReclaimPolicy",
                "storageClassName",
                "mountOptions",
                "volumeMode",
                "nodeAffinity",
                "volumeAttributesClassName",
            ] {
                m.remove(k);
            }
            if let Some(csi) = m.get_mut("csi").and_then(|c| c.as_object_mut()) {
                csi.remove("controllerExpandSecretRef");
            }
        }
        v
    };
    if source(&n) != source(&o) {
        errs.forbidden(
            &Path::new("spec").child("persistentvolumesource"),
            "spec.persistentvolumesource is immutable after creation",
        );
    }
    if n.volume_mode != o.volume_mode {
        errs.invalid(
            &Path::new("volumeMode"),
            checks::opt_value(n.volume_mode.clone()),
            IMMUTABLE,
        );
    }
    if o.node_affinity.is_some() && n.node_affinity != o.node_affinity {
        errs.invalid_raw(
            &Path::new("nodeAffinity"),
            "core.VolumeNodeAffinity{...}",
            "field is immutable, except for updating from beta label to GA",
        );
    }
}

/// Validate a PersistentVolumeClaim spec (`ValidatePersistentVolumeClaimSpec`).
pub fn pvc_spec(errs: &mut Errors, sp: &Path, spec: &api::PersistentVolumeClaimSpec) {
    let modes = spec.access_modes.as_deref().unwrap_or_default();
    if modes.is_empty() {
        errs.required(
            &sp.child("accessModes"),
            "at least 1 access mode is required",
        );
    }
    checks::label_selector(errs, &sp.child("selector"), spec.selector.as_ref());
    access_modes(errs, &sp.child("accessModes"), modes, None);
    let storage = spec
        .resources
        .as_ref()
        .and_then(|r| r.requests.as_ref())
        .and_then(|r| r.get("storage"));
    let rp = sp.child("resources").key("storage");
    match storage {
        None => errs.required(&rp, ""),
        Some(q) => {
            if let Some(q) = checks::quantity(errs, &rp, q) {
                if q.is_negative() || q.is_zero() {
                    checks::positive_quantity(errs, &rp, &q);
                } else {
                    checks::resource_quantity_value(errs, &rp, "storage", &q);
                }
            }
        }
    }
    let class = s(&spec.storage_class_name);
    if !class.is_empty() {
        errs.invalid_each(
            &sp.child("storageClassName"),
            class,
            dns1123_subdomain(class),
        );
    }
    if let Some(m) = &spec.volume_mode
        && m != "Block"
        && m != "Filesystem"
    {
        errs.not_supported(
            &sp.child("volumeMode"),
            m.as_str(),
            &["Block", "Filesystem"],
        );
    }
    data_sources(errs, sp, spec);
}

fn data_source_common(errs: &mut Errors, path: &Path, kind: &str, name: &str, group: Option<&str>) {
    if name.is_empty() {
        errs.required(&path.child("name"), "");
    }
    if kind.is_empty() {
        errs.required(&path.child("kind"), "");
    }
    let group = group.unwrap_or("");
    if group.is_empty() && kind != "PersistentVolumeClaim" {
        errs.invalid(
            path,
            kind,
            "must be 'PersistentVolumeClaim' when referencing the default apiGroup",
        );
    }
    if !group.is_empty() {
        errs.invalid_each(&path.child("apiGroup"), group, dns1123_subdomain(group));
    }
}

fn data_sources(errs: &mut Errors, sp: &Path, spec: &api::PersistentVolumeClaimSpec) {
    if let Some(ds) = &spec.data_source {
        data_source_common(
            errs,
            &sp.child("dataSource"),
            &ds.kind,
            &ds.name,
            ds.api_group.as_deref(),
        );
    }
    if let Some(r) = &spec.data_source_ref {
        let p = sp.child("dataSourceRef");
        data_source_common(errs, &p, &r.kind, &r.name, r.api_group.as_deref());
        let ns = s(&r.namespace);
        if !ns.is_empty() {
            errs.invalid_each(&p.child("namespace"), ns, dns1123_label(ns));
        }
    }
    let ref_ns = spec
        .data_source_ref
        .as_ref()
        .map_or("", |r| s(&r.namespace));
    if !ref_ns.is_empty() {
        if spec.data_source.is_some() {
            errs.invalid(
                sp,
                "spec.dataSource",
                "may not be specified when dataSourceRef.namespace is specified",
            );
        }
    } else if let (Some(ds), Some(r)) = (&spec.data_source, &spec.data_source_ref)
        && (ds.api_group != r.api_group || ds.kind != r.kind || ds.name != r.name)
    {
        errs.invalid(sp, "spec.dataSource", "must match dataSourceRef");
    }
}

/// Validate a PersistentVolumeClaim.
pub fn persistent_volume_claim(obj: &api::PersistentVolumeClaim, errs: &mut Errors) {
    let spec = obj.spec.clone().unwrap_or_default();
    pvc_spec(errs, &Path::new("spec"), &spec);
}

/// Validate an update of a PersistentVolumeClaim: the spec is immutable
/// except `volumeName` once, and storage requests (growing only) of bound
/// claims.
pub fn persistent_volume_claim_update(
    new: &api::PersistentVolumeClaim,
    old: &api::PersistentVolumeClaim,
    errs: &mut Errors,
) {
    let mut n = new.spec.clone().unwrap_or_default();
    let mut o = old.spec.clone().unwrap_or_default();
    let storage_of = |spec: &api::PersistentVolumeClaimSpec| {
        spec.resources
            .as_ref()
            .and_then(|r| r.requests.as_ref())
            .and_then(|r| r.get("storage"))
            .and_then(|q| crate::quantity::Quantity::parse(&q.0).ok())
            .unwrap_or_default()
    };
    let (new_size, old_size) = (storage_of(&n), storage_of(&o));
    if s(&o.volume_name).is_empty() {
        o.volume_name = n.volume_name.clone();
    }
    if o.storage_class_name.is_none() && n.storage_class_name.is_some() {
        let beta = old
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("volume.beta.kubernetes.io/storage-class"));
        if beta.is_none_or(|b| Some(b) == n.storage_class_name.as_ref()) {
            o.storage_class_name = n.storage_class_name.clone();
        }
    }
    let bound = new.status.as_ref().and_then(|st| st.phase.as_deref()) == Some("Bound");
    if bound {
        if let (Some(nr), Some(or)) = (
            n.resources.as_mut().and_then(|r| r.requests.as_mut()),
            o.resources.as_ref().and_then(|r| r.requests.as_ref()),
        ) {
            match or.get("storage") {
                Some(q) => nr.insert("storage".into(), q.clone()),
                None => nr.remove("storage"),
            };
        }
        if n.volume_attributes_class_name.is_some() {
            n.volume_attributes_class_name = o.volume_attributes_class_name.clone();
        }
    }
    if n != o {
        errs.forbidden(
            &Path::new("spec"),
            "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims",
        );
    }
    if new_size < old_size {
        errs.forbidden(
            &Path::new("spec")
                .child("resources")
                .child("requests")
                .child("storage"),
            "field can not be less than previous value",
        );
    }
    let (nm, om) = (
        new.spec.as_ref().and_then(|sp| sp.volume_mode.clone()),
        old.spec.as_ref().and_then(|sp| sp.volume_mode.clone()),
    );
    if nm != om {
        errs.invalid(&Path::new("volumeMode"), checks::opt_value(nm), IMMUTABLE);
    }
}

// --------------------------------------------------- replication controller

/// Validate a ReplicationController.
pub fn replication_controller(obj: &api::ReplicationController, errs: &mut Errors) {
    let spec = obj.spec.clone().unwrap_or_default();
    let sp = Path::new("spec");
    checks::non_negative(
        errs,
        &sp.child("minReadySeconds"),
        i64::from(spec.min_ready_seconds.unwrap_or(0)),
    );
    let selector = spec.selector.clone().unwrap_or_default();
    if selector.is_empty() {
        errs.required(&sp.child("selector"), "");
    }
    checks::non_negative(
        errs,
        &sp.child("replicas"),
        i64::from(spec.replicas.unwrap_or(0)),
    );
    let tp = sp.child("template");
    let Some(t) = &spec.template else {
        errs.required(&tp, "");
        return;
    };
    let labels = t.metadata.as_ref().and_then(|m| m.labels.as_ref());
    if !selector.is_empty() {
        let sel = crate::labels::Selector::from_map(&selector);
        let empty = BTreeMap::new();
        if !sel.matches(labels.unwrap_or(&empty)) {
            errs.invalid_raw(
                &tp.child("metadata").child("labels"),
                go::string_map(labels),
                "`selector` does not match template `labels`",
            );
        }
    }
    podv::pod_template_spec(errs, &tp, t);
    let pod_spec = t.spec.clone().unwrap_or_default();
    let policy = s(&pod_spec.restart_policy);
    if policy != "Always" {
        errs.not_supported(
            &tp.child("spec").child("restartPolicy"),
            policy,
            &["Always"],
        );
    }
    if pod_spec.active_deadline_seconds.is_some() {
        errs.forbidden(
            &tp.child("spec").child("activeDeadlineSeconds"),
            "activeDeadlineSeconds in ReplicationController is not Supported",
        );
    }
}

/// Validate an update of a ReplicationController.
pub fn replication_controller_update(
    _new: &api::ReplicationController,
    _old: &api::ReplicationController,
    _errs: &mut Errors,
) {
}

// ------------------------------------------------------------ limit range

fn limit_range_resource_name(errs: &mut Errors, path: &Path, type_: &str, name: &str) {
    if type_ == "Pod" || type_ == "Container" {
        checks::container_resource_name(errs, path, name);
    } else {
        checks::resource_name(errs, path, name);
    }
}

/// Validate a LimitRange.
pub fn limit_range(obj: &api::LimitRange, errs: &mut Errors) {
    let lp = Path::new("spec").child("limits");
    let mut types = BTreeSet::new();
    let limits = obj
        .spec
        .as_ref()
        .map(|s| s.limits.as_slice())
        .unwrap_or_default();
    for (i, item) in limits.iter().enumerate() {
        let p = lp.index(i);
        limit_type(errs, &p.child("type"), &item.type_);
        if !types.insert(item.type_.as_str()) {
            errs.duplicate(&p.child("type"), item.type_.as_str());
        }
        limit_range_item(errs, &p, item);
    }
}

fn limit_type(errs: &mut Errors, path: &Path, t: &str) {
    let msgs = qualified_name(t);
    if !msgs.is_empty() {
        errs.invalid_each(path, t, msgs);
        return;
    }
    if !t.contains('/') && !matches!(t, "Pod" | "Container" | "PersistentVolumeClaim") {
        errs.invalid(path, t, "must be a standard limit type or fully qualified");
    }
}

fn limit_range_item(errs: &mut Errors, p: &Path, item: &api::LimitRangeItem) {
    let t = item.type_.as_str();
    let mut lists: BTreeMap<&str, BTreeMap<String, crate::quantity::Quantity>> = BTreeMap::new();
    let mut keys = BTreeSet::new();
    let mut collect = |errs: &mut Errors,
                       field: &'static str,
                       list: &Option<
        BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>,
    >| {
        for (k, q) in list.iter().flatten() {
            let kp = p.child(field).key(k);
            limit_range_resource_name(errs, &kp, t, k);
            keys.insert(k.clone());
            if let Some(q) = checks::quantity(errs, &kp, q) {
                lists.entry(field).or_default().insert(k.clone(), q);
            }
        }
    };
    collect(errs, "max", &item.max);
    collect(errs, "min", &item.min);
    if t == "Pod" {
        for (field, list) in [
            ("default", &item.default),
            ("defaultRequest", &item.default_request),
        ] {
            if list.as_ref().is_some_and(|l| !l.is_empty()) {
                errs.forbidden(&p.child(field), "may not be specified when `type` is 'Pod'");
            }
        }
    } else {
        collect(errs, "default", &item.default);
        collect(errs, "defaultRequest", &item.default_request);
    }
    if t == "PersistentVolumeClaim" {
        let has = |l: &Option<BTreeMap<_, _>>| {
            l.as_ref()
                .is_some_and(|m: &BTreeMap<String, _>| m.contains_key("storage"))
        };
        if !has(&item.min) && !has(&item.max) {
            errs.required(
                &p.child("limits"),
                "either minimum or maximum storage value is required, but neither was provided",
            );
        }
    }
    collect(errs, "maxLimitRequestRatio", &item.max_limit_request_ratio);
    for k in &keys {
        let get = |f: &str| lists.get(f).and_then(|l| l.get(k)).copied();
        limit_range_key(
            errs,
            p,
            k,
            [
                get("min"),
                get("max"),
                get("default"),
                get("defaultRequest"),
                get("maxLimitRequestRatio"),
            ],
        );
    }
}

fn limit_range_key(
    errs: &mut Errors,
    p: &Path,
    k: &str,
    q: [Option<crate::quantity::Quantity>; 5],
) {
    let [min, max, def, def_req, ratio] = q;
    let t = |q: &crate::quantity::Quantity| q.to_string();
    if let (Some(mn), Some(mx)) = (min, max)
        && mn > mx
    {
        errs.invalid(
            &p.child("min").key(k),
            t(&mn),
            format!("min value {} is greater than max value {}", t(&mn), t(&mx)),
        );
    }
    if let (Some(dr), Some(mn)) = (def_req, min)
        && mn > dr
    {
        errs.invalid(
            &p.child("defaultRequest").key(k),
            t(&dr),
            format!(
                "min value {} is greater than default request value {}",
                t(&mn),
                t(&dr)
            ),
        );
    }
    if let (Some(dr), Some(mx)) = (def_req, max)
        && dr > mx
    {
        errs.invalid(
            &p.child("defaultRequest").key(k),
            t(&dr),
            format!(
                "default request value {} is greater than max value {}",
                t(&dr),
                t(&mx)
            ),
        );
    }
    if let (Some(dr), Some(d)) = (def_req, def)
        && dr > d
    {
        errs.invalid(
            &p.child("defaultRequest").key(k),
            t(&dr),
            format!(
                "default request value {} is greater than default limit value {}",
                t(&dr),
                t(&d)
            ),
        );
    }
    if let (Some(d), Some(mn)) = (def, min)
        && mn > d
    {
        errs.invalid(
            &p.child("default").key(k),
            t(&mn),
            format!(
                "min value {} is greater than default value {}",
                t(&mn),
                t(&d)
            ),
        );
    }
    if let (Some(d), Some(mx)) = (def, max)
        && d > mx
    {
        errs.invalid(
            &p.child("default").key(k),
            t(&mx),
            format!(
                "default value {} is greater than max value {}",
                t(&d),
                t(&mx)
            ),
        );
    }
    if let Some(r) = ratio {
        if r < crate::quantity::Quantity::from_units(1) {
            errs.invalid(
                &p.child("maxLimitRequestRatio").key(k),
                t(&r),
                format!("ratio {} is less than 1", t(&r)),
            );
        }
        if let (Some(mn), Some(mx)) = (min, max) {
            let limit = mx.millis() as f64 / mn.millis() as f64;
            let rv = r.millis() as f64 / 1000.0;
            if rv > limit {
                errs.invalid(
                    &p.child("maxLimitRequestRatio").key(k),
                    t(&r),
                    format!("ratio {} is greater than max/min = {limit:.6}", t(&r)),
                );
            }
        }
    }
    if !checks::is_overcommit_allowed(k)
        && let (Some(d), Some(dr)) = (def, def_req)
        && d != dr
    {
        errs.invalid(
            &p.child("defaultRequest").key(k),
            t(&dr),
            format!(
                "default value {} must equal to defaultRequest value {} in {k}",
                t(&d),
                t(&dr)
            ),
        );
    }
}

/// Validate an update of a LimitRange.
pub fn limit_range_update(_new: &api::LimitRange, _old: &api::LimitRange, _errs: &mut Errors) {}

// ---------------------------------------------------------- resource quota

const QUOTA_SCOPES: &[&str] = &[
    "Terminating",
    "NotTerminating",
    "BestEffort",
    "NotBestEffort",
    "PriorityClass",
    "CrossNamespacePodAffinity",
];

fn quota_list(
    errs: &mut Errors,
    path: &Path,
    list: Option<&BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>>,
) {
    for (k, q) in list.into_iter().flatten() {
        let p = path.key(k);
        checks::quota_resource_name(errs, &p, k);
        if let Some(q) = checks::quantity(errs, &p, q) {
            checks::resource_quantity_value(errs, &p, k, &q);
        }
    }
}

fn scope_valid_for(scope: &str, resource: &str) -> bool {
    const POD_RESOURCES: &[&str] = &[
        "pods",
        "cpu",
        "memory",
        "requests.cpu",
        "requests.memory",
        "limits.cpu",
        "limits.memory",
    ];
    match scope {
        "BestEffort" => resource == "pods",
        "Terminating" | "NotTerminating" | "NotBestEffort" | "PriorityClass" => {
            POD_RESOURCES.contains(&resource) || resource.starts_with("requests.hugepages-")
        }
        "CrossNamespacePodAffinity" => resource == "pods",
        _ => true,
    }
}

/// Validate a ResourceQuota.
pub fn resource_quota(obj: &api::ResourceQuota, errs: &mut Errors) {
    let spec = obj.spec.clone().unwrap_or_default();
    let sp = Path::new("spec");
    quota_list(errs, &sp.child("hard"), spec.hard.as_ref());
    let hard: Vec<String> = spec.hard.iter().flatten().map(|(k, _)| k.clone()).collect();
    let scopes = spec.scopes.as_deref().unwrap_or_default();
    let shown = go::string_slice(Some(scopes));
    let standard_quota = |k: &str| {
        let mut e = Errors::default();
        checks::quota_resource_name(&mut e, &Path::new(""), k);
        e.is_empty() && !k.contains('/')
    };
    for scope in scopes {
        if !QUOTA_SCOPES.contains(&scope.as_str()) {
            errs.invalid_raw(&sp.child("scopes"), shown.clone(), "unsupported scope");
        }
        for k in &hard {
            if standard_quota(k) && !scope_valid_for(scope, k) {
                errs.invalid_raw(
                    &sp.child("scopes"),
                    shown.clone(),
                    "unsupported scope applied to resource",
                );
            }
        }
    }
    let has = |a: &str| scopes.iter().any(|x| x == a);
    if (has("BestEffort") && has("NotBestEffort")) || (has("Terminating") && has("NotTerminating"))
    {
        errs.invalid_raw(&sp.child("scopes"), shown.clone(), "conflicting scopes");
    }
    if let Some(sel) = &spec.scope_selector {
        let p = sp.child("scopeSelector").child("matchExpressions");
        for req in sel.match_expressions.iter().flatten() {
            if !QUOTA_SCOPES.contains(&req.scope_name.as_str()) {
                errs.invalid(
                    &p.child("scopeName"),
                    req.scope_name.as_str(),
                    "unsupported scope",
                );
            }
            let n = req.values.as_ref().map_or(0, Vec::len);
            if req.scope_name != "PriorityClass"
                && req.scope_name != "VolumeAttributesClass"
                && req.operator != "Exists"
                && QUOTA_SCOPES.contains(&req.scope_name.as_str())
            {
                errs.invalid(
                    &p.child("operator"),
                    req.operator.as_str(),
                    "must be 'Exists' when scope is any of ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort, ResourceQuotaScopeNotBestEffort or ResourceQuotaScopeCrossNamespacePodAffinity",
                );
            }
            match req.operator.as_str() {
                "In" | "NotIn" if n == 0 => errs.required(
                    &p.child("values"),
                    "must be at least one value when `operator` is 'In' or 'NotIn' for scope selector",
                ),
                "Exists" | "DoesNotExist" if n != 0 => errs.invalid_raw(
                    &p.child("values"),
                    go::string_slice(req.values.as_deref()),
                    "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector",
                ),
                "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
                op => errs.invalid(&p.child("operator"), op, "not a valid selector operator"),
            }
        }
    }
    let status = obj.status.clone().unwrap_or_default();
    quota_list(
        errs,
        &Path::new("status").child("hard"),
        status.hard.as_ref(),
    );
    quota_list(
        errs,
        &Path::new("status").child("used"),
        status.used.as_ref(),
    );
}

/// Validate an update of a ResourceQuota: scopes are immutable.
pub fn resource_quota_update(
    new: &api::ResourceQuota,
    old: &api::ResourceQuota,
    errs: &mut Errors,
) {
    let scopes = |q: &api::ResourceQuota| -> BTreeSet<String> {
        q.spec
            .as_ref()
            .and_then(|s| s.scopes.clone())
            .unwrap_or_default()
            .into_iter()
            .collect()
    };
    if scopes(new) != scopes(old) {
        let shown = go::string_slice(new.spec.as_ref().and_then(|s| s.scopes.as_deref()));
        errs.invalid_raw(&Path::new("spec").child("scopes"), shown, IMMUTABLE);
    }
}

/// The DNS-1035 name rule, re-exported for Service names.
pub fn service_name(name: &str) -> Vec<String> {
    dns1035_label(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn msgs(errs: &Errors) -> Vec<String> {
        errs.0.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn service_without_ports() {
        let svc = api::Service {
            spec: Some(api::ServiceSpec {
                type_: Some("ClusterIP".into()),
                session_affinity: Some("None".into()),
                internal_traffic_policy: Some("Cluster".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let mut errs = Errors::default();
        service(&svc, &mut errs);
        assert_eq!(msgs(&errs), vec!["spec.ports: Required value"]);
    }

    #[test]
    fn config_map_keys() {
        let cm = api::ConfigMap {
            data: Some([("bad/key".to_string(), "v".to_string())].into()),
            ..Default::default()
        };
        let mut errs = Errors::default();
        config_map(&cm, &mut errs);
        assert_eq!(
            msgs(&errs),
            vec![
                "data[bad/key]: Invalid value: \"bad/key\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
            ]
        );
    }

    #[test]
    fn immutable_config_maps_and_secrets() {
        let old = api::ConfigMap {
            immutable: Some(true),
            data: Some([("a".to_string(), "1".to_string())].into()),
            ..Default::default()
        };
        let mut new = old.clone();
        new.data = Some([("a".to_string(), "2".to_string())].into());
        let mut errs = Errors::default();
        config_map_update(&new, &old, &mut errs);
        assert_eq!(
            msgs(&errs),
            vec!["data: Forbidden: field is immutable when `immutable` is set"]
        );
        let old = api::Secret {
            type_: Some("Opaque".into()),
            ..Default::default()
        };
        let mut new = old.clone();
        new.type_ = Some("kubernetes.io/tls".into());
        let mut errs = Errors::default();
        secret_update(&new, &old, &mut errs);
        assert_eq!(
            msgs(&errs),
            vec!["type: Invalid value: \"kubernetes.io/tls\": field is immutable"]
        );
    }

    #[test]
    fn secret_types() {
        let s = api::Secret {
            type_: Some("kubernetes.io/tls".into()),
            ..Default::default()
        };
        let mut errs = Errors::default();
        secret(&s, &mut errs);
        assert_eq!(
            msgs(&errs),
            vec![
                "data[tls.crt]: Required value",
                "data[tls.key]: Required value"
            ]
        );
    }

    #[test]
    fn namespace_finalizers() {
        let ns = api::Namespace {
            spec: Some(api::NamespaceSpec {
                finalizers: Some(vec!["kubernetes".into(), "foo".into()]),
            }),
            ..Default::default()
        };
        let mut errs = Errors::default();
        namespace(&ns, &mut errs);
        assert_eq!(
            msgs(&errs),
            vec![
                "spec.finalizers: Invalid value: \"foo\": name is neither a standard finalizer name nor is it fully qualified"
            ]
        );
    }

    #[test]
    fn node_taints_and_cidrs() {
        let n = api::Node {
            metadata: ObjectMeta::default(),
            spec: Some(api::NodeSpec {
                taints: Some(vec![api::Taint {
                    key: "k".into(),
                    effect: "Sometimes".into(),
                    ..Default::default()
                }]),
                pod_cidrs: Some(vec!["10.0.0.0/33".into()]),
                ..Default::default()
            }),
            status: None,
        };
        let mut errs = Errors::default();
        node(&n, &mut errs);
        assert_eq!(
            msgs(&errs),
            vec![
                "metadata.taints[0].effect: Unsupported value: \"Sometimes\": supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\"",
                "spec.podCIDRs[0]: Invalid value: \"10.0.0.0/33\": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
            ]
        );
    }

    #[test]
    fn pvc_requires_storage_and_access_modes() {
        let pvc = api::PersistentVolumeClaim {
            spec: Some(api::PersistentVolumeClaimSpec::default()),
            ..Default::default()
        };
        let mut errs = Errors::default();
        persistent_volume_claim(&pvc, &mut errs);
        assert_eq!(
            msgs(&errs),
            vec![
                "spec.accessModes: Required value: at least 1 access mode is required",
                "spec.resources[storage]: Required value",
            ]
        );
    }
}

//! Validation of networking.k8s.io/v1 kinds, as upstream's.

use k8s_openapi::api::networking::v1 as api;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::checks::{self, IMMUTABLE};
use super::{Errors, Path, dns1035_label, dns1123_label, dns1123_subdomain, path_segment_name};

// --------------------------------------------------------- network policy

/// Validate a NetworkPolicy.
pub fn network_policy(obj: &api::NetworkPolicy, errs: &mut Errors) {
    let spec = obj.spec.clone().unwrap_or_default();
    let sp = Path::new("spec");
    let pod_sel = spec.pod_selector.clone().unwrap_or_default();
    checks::label_selector(errs, &sp.child("podSelector"), Some(&pod_sel));
    for (i, rule) in spec.ingress.iter().flatten().enumerate() {
        let rp = sp.child("ingress").index(i);
        for (j, port) in rule.ports.iter().flatten().enumerate() {
            policy_port(errs, &rp.child("ports").index(j), port);
        }
        for (j, peer) in rule.from.iter().flatten().enumerate() {
            policy_peer(errs, &rp.child("from").index(j), peer);
        }
    }
    for (i, rule) in spec.egress.iter().flatten().enumerate() {
        let rp = sp.child("egress").index(i);
        for (j, peer) in rule.to.iter().flatten().enumerate() {
            policy_peer(errs, &rp.child("to").index(j), peer);
        }
        for (j, port) in rule.ports.iter().flatten().enumerate() {
            policy_port(errs, &rp.child("ports").index(j), port);
        }
    }
    let types = spec.policy_types.as_deref().unwrap_or_default();
    if types.len() > 2 {
        errs.invalid_raw(
            &sp.child("policyTypes"),
            format!(
                "&{}",
                super::go::slice(
                    "networking.PolicyType",
                    Some(types.iter().map(|t| super::go::quote(t)).collect())
                )
            ),
            "may not specify more than two policyTypes",
        );
        return;
    }
    for (i, t) in types.iter().enumerate() {
        if t != "Ingress" && t != "Egress" {
            errs.not_supported(
                &sp.child("policyTypes").index(i),
                t.as_str(),
                &["Ingress", "Egress"],
            );
        }
    }
}

fn policy_port(errs: &mut Errors, path: &Path, port: &api::NetworkPolicyPort) {
    if let Some(p) = &port.protocol
        && !matches!(p.as_str(), "TCP" | "UDP" | "SCTP")
    {
        errs.not_supported(&path.child("protocol"), p.as_str(), &["TCP", "UDP", "SCTP"]);
    }
    match (&port.port, port.end_port) {
        (Some(IntOrString::Int(p)), end) => {
            let pv = i64::from(*p);
            errs.invalid_each_value(&path.child("port"), pv, checks::port_num(pv));
            if let Some(end) = end {
                if end < *p {
                    errs.invalid(
                        &path.child("endPort"),
                        *p,
                        "must be greater than or equal to `port`",
                    );
                }
                let ev = i64::from(end);
                errs.invalid_each_value(&path.child("endPort"), ev, checks::port_num(ev));
            }
        }
        (Some(IntOrString::String(name)), end) => {
            if let Some(end) = end {
                errs.invalid(
                    &path.child("endPort"),
                    end,
                    "may not be specified when `port` is non-numeric",
                );
            }
            errs.invalid_each(&path.child("port"), name, checks::port_name(name));
        }
        (None, Some(end)) => errs.invalid(
            &path.child("endPort"),
            end,
            "may not be specified when `port` is not specified",
        ),
        (None, None) => {}
    }
}

fn policy_peer(errs: &mut Errors, path: &Path, peer: &api::NetworkPolicyPeer) {
    let mut n = 0;
    if let Some(s) = &peer.pod_selector {
        n += 1;
        checks::label_selector(errs, &path.child("podSelector"), Some(s));
    }
    if let Some(s) = &peer.namespace_selector {
        n += 1;
        checks::label_selector(errs, &path.child("namespaceSelector"), Some(s));
    }
    if let Some(b) = &peer.ip_block {
        n += 1;
        ip_block(errs, &path.child("ipBlock"), b);
    }
    if n == 0 {
        errs.required(path, "must specify a peer");
    } else if n > 1 && peer.ip_block.is_some() {
        errs.forbidden(path, "may not specify both ipBlock and another peer");
    }
}

fn ip_block(errs: &mut Errors, path: &Path, b: &api::IPBlock) {
    if b.cidr.is_empty() {
        errs.required(&path.child("cidr"), "");
        return;
    }
    checks::cidr(errs, &path.child("cidr"), &b.cidr);
    let Some(outer) = checks::parse_cidr(&b.cidr) else {
        return;
    };
    for (i, e) in b.except.iter().flatten().enumerate() {
        let p = path.child("except").index(i);
        checks::cidr(errs, &p, e);
        let Some(inner) = checks::parse_cidr(e) else {
            continue;
        };
        if !checks::cidr_contains(outer, inner.0) || outer.1 >= inner.1 {
            errs.invalid(&p, e.as_str(), "must be a strict subset of `cidr`");
        }
    }
}

/// Validate an update of a NetworkPolicy.
pub fn network_policy_update(
    _new: &api::NetworkPolicy,
    _old: &api::NetworkPolicy,
    _errs: &mut Errors,
) {
}

// ---------------------------------------------------------------- ingress

fn host(errs: &mut Errors, path: &Path, h: &str) {
    if h.contains('*') {
        errs.invalid_each(path, h, checks::wildcard_dns1123_subdomain(h));
    } else {
        errs.invalid_each(path, h, dns1123_subdomain(h));
    }
}

/// Validate an Ingress.
pub fn ingress(obj: &api::Ingress, errs: &mut Errors) {
    let spec = obj.spec.clone().unwrap_or_default();
    let sp = Path::new("spec");
    let rules = spec.rules.as_deref().unwrap_or_default();
    if rules.is_empty() && spec.default_backend.is_none() {
        errs.invalid_raw(
            &sp,
            "[]networking.IngressRule(nil)",
            "either `defaultBackend` or `rules` must be specified",
        );
    }
    if let Some(b) = &spec.default_backend {
        backend(errs, &sp.child("defaultBackend"), b);
    }
    for (i, rule) in rules.iter().enumerate() {
        let rp = sp.child("rules").index(i);
        let h = rule.host.as_deref().unwrap_or("");
        if !h.is_empty() {
            if checks::parse_ip(h).is_some() {
                errs.invalid(
                    &rp.child("host"),
                    h,
                    "must be a DNS name, not an IP address",
                );
            }
            host(errs, &rp.child("host"), h);
        }
        if let Some(http) = &rule.http {
            let hp = rp.child("http");
            if http.paths.is_empty() {
                errs.required(&hp.child("paths"), "");
            }
            for (j, p) in http.paths.iter().enumerate() {
                ingress_path(errs, &hp.child("paths").index(j), p);
            }
        }
    }
    for (i, tls) in spec.tls.iter().flatten().enumerate() {
        let tp = sp.child("tls").index(i);
        for (j, h) in tls.hosts.iter().flatten().enumerate() {
            host(errs, &tp.child("hosts").index(j), h);
        }
        let secret = tls.secret_name.as_deref().unwrap_or("");
        if !secret.is_empty() {
            errs.invalid_each(&tp.child("secretName"), secret, dns1123_subdomain(secret));
        }
    }
    if let Some(c) = &spec.ingress_class_name {
        errs.invalid_each(&sp.child("ingressClassName"), c, dns1123_subdomain(c));
    }
}

fn ingress_path(errs: &mut Errors, path: &Path, p: &api::HTTPIngressPath) {
    let value = p.path.as_deref().unwrap_or("");
    let pp = path.child("path");
    match p.path_type.as_str() {
        "" => {
            errs.required(&path.child("pathType"), "pathType must be specified");
            return;
        }
        "Exact" | "Prefix" => {
            if !value.starts_with('/') {
                errs.invalid(&pp, value, "must be an absolute path");
            }
            if !value.is_empty() {
                for seq in ["//", "/./", "/../", "%2f", "%2F"] {
                    if value.contains(seq) {
                        errs.invalid(&pp, value, format!("must not contain '{seq}'"));
                    }
                }
                for suffix in ["/..", "/."] {
                    if value.ends_with(suffix) {
                        errs.invalid(&pp, value, format!("cannot end with '{suffix}'"));
                    }
                }
            }
        }
        "ImplementationSpecific" => {
            if !value.is_empty() && !value.starts_with('/') {
                errs.invalid(&pp, value, "must be an absolute path");
            }
        }
        other => errs.not_supported(
            &path.child("pathType"),
            other,
            &["Exact", "ImplementationSpecific", "Prefix"],
        ),
    }
    backend(errs, &path.child("backend"), &p.backend);
}

fn typed_ref(errs: &mut Errors, path: &Path, group: Option<&str>, kind: &str, name: &str) {
    if let Some(g) = group {
        errs.invalid_each(&path.child("apiGroup"), g, dns1123_subdomain(g));
    }
    for (field, v) in [("kind", kind), ("name", name)] {
        if v.is_empty() {
            errs.required(&path.child(field), format!("{field} is required"));
        } else {
            errs.invalid_each(&path.child(field), v, path_segment_name(v));
        }
    }
}

fn backend(errs: &mut Errors, path: &Path, b: &api::IngressBackend) {
    match (&b.resource, &b.service) {
        (Some(_), Some(_)) => {
            errs.invalid(path, "", "cannot set both resource and service backends")
        }
        (Some(r), None) => typed_ref(
            errs,
            &path.child("resource"),
            r.api_group.as_deref(),
            &r.kind,
            &r.name,
        ),
        (None, Some(svc)) => {
            let sp = path.child("service");
            if svc.name.is_empty() {
                errs.required(&sp.child("name"), "");
            } else {
                errs.invalid_each(&sp.child("name"), &svc.name, dns1035_label(&svc.name));
            }
            let port = svc.port.clone().unwrap_or_default();
            let name = port.name.as_deref().unwrap_or("");
            let number = port.number.unwrap_or(0);
            match (name.is_empty(), number == 0) {
                (false, false) => errs.invalid(path, "", "cannot set both port name & port number"),
                (false, true) => errs.invalid_each(
                    &sp.child("port").child("name"),
                    name,
                    checks::port_name(name),
                ),
                (true, false) => {
                    let n = i64::from(number);
                    errs.invalid_each_value(
                        &sp.child("port").child("number"),
                        n,
                        checks::port_num(n),
                    )
                }
                (true, true) => errs.required(path, "port name or number is required"),
            }
        }
        (None, None) => errs.invalid(path, "", "resource or service backend is required"),
    }
}

/// Validate an update of an Ingress.
pub fn ingress_update(_new: &api::Ingress, _old: &api::Ingress, _errs: &mut Errors) {}

// ----------------------------------------------------------- ingressclass

/// Validate an IngressClass.
pub fn ingress_class(obj: &api::IngressClass, errs: &mut Errors) {
    let spec = obj.spec.clone().unwrap_or_default();
    let sp = Path::new("spec");
    let controller = spec.controller.as_deref().unwrap_or("");
    if controller.len() > 250 {
        errs.too_long(&sp.child("controller"), 250);
    }
    checks::domain_prefixed_path(errs, &sp.child("controller"), controller);
    let Some(params) = &spec.parameters else {
        return;
    };
    let pp = sp.child("parameters");
    typed_ref(
        errs,
        &pp,
        params.api_group.as_deref(),
        &params.kind,
        &params.name,
    );
    let Some(scope) = &params.scope else {
        errs.required(&pp.child("scope"), "");
        return;
    };
    match scope.as_str() {
        "Namespace" => match &params.namespace {
            None => errs.required(
                &pp.child("namespace"),
                "`parameters.scope` is set to 'Namespace'",
            ),
            Some(ns) => errs.invalid_each(&pp.child("namespace"), ns, dns1123_label(ns)),
        },
        "Cluster" => {
            if params.namespace.is_some() {
                errs.forbidden(
                    &pp.child("namespace"),
                    "`parameters.scope` is set to 'Cluster'",
                );
            }
        }
        other => errs.not_supported(&pp.child("scope"), other, &["Cluster", "Namespace"]),
    }
}

/// Validate an update of an IngressClass: the controller is immutable.
pub fn ingress_class_update(new: &api::IngressClass, old: &api::IngressClass, errs: &mut Errors) {
    let c = |o: &api::IngressClass| {
        o.spec
            .as_ref()
            .and_then(|s| s.controller.clone())
            .unwrap_or_default()
    };
    if c(new) != c(old) {
        errs.invalid(&Path::new("spec").child("controller"), c(new), IMMUTABLE);
    }
}

//! Validation of discovery.k8s.io/v1 kinds, as upstream's.

use std::collections::BTreeSet;

use k8s_openapi::api::discovery::v1 as api;

use super::checks;
use super::{Errors, Path, dns1123_label, dns1123_subdomain, qualified_name, validate_labels};

const ADDRESS_TYPES: &[&str] = &["FQDN", "IPv4", "IPv6"];

/// Validate an EndpointSlice.
pub fn endpoint_slice(obj: &api::EndpointSlice, errs: &mut Errors) {
    endpoints(errs, &Path::new("endpoints"), obj);
    ports(
        errs,
        &Path::new("ports"),
        obj.ports.as_deref().unwrap_or_default(),
    );
}

/// Validate a new EndpointSlice: `addressType` is checked only on create.
pub fn endpoint_slice_create(obj: &api::EndpointSlice, errs: &mut Errors) {
    endpoint_slice(obj, errs);
    let p = Path::new("addressType");
    if obj.address_type.is_empty() {
        errs.required(&p, "");
    } else if !ADDRESS_TYPES.contains(&obj.address_type.as_str()) {
        errs.not_supported(&p, obj.address_type.as_str(), ADDRESS_TYPES);
    }
}

fn endpoints(errs: &mut Errors, path: &Path, obj: &api::EndpointSlice) {
    if obj.endpoints.len() > 1000 {
        errs.too_many(path, obj.endpoints.len(), 1000);
        return;
    }
    for (i, ep) in obj.endpoints.iter().enumerate() {
        let p = path.index(i);
        let ap = p.child("addresses");
        if ep.addresses.is_empty() {
            errs.required(&ap, "must contain at least 1 address");
        } else if ep.addresses.len() > 100 {
            errs.too_many(&ap, ep.addresses.len(), 100);
        }
        for (j, addr) in ep.addresses.iter().enumerate() {
            address(errs, &ap.index(j), &obj.address_type, addr);
        }
        if let Some(n) = &ep.node_name {
            errs.invalid_each(&p.child("nodeName"), n, dns1123_subdomain(n));
        }
        let tp = p.child("deprecatedTopology");
        if let Some(t) = &ep.deprecated_topology
            && t.len() > 16
        {
            errs.too_many(&tp, t.len(), 16);
        }
        validate_labels(ep.deprecated_topology.as_ref(), &tp, errs);
        if let Some(h) = &ep.hostname {
            errs.invalid_each(&p.child("hostname"), h, dns1123_label(h));
        }
    }
}

fn address(errs: &mut Errors, path: &Path, address_type: &str, addr: &str) {
    match address_type {
        "IPv4" => match checks::parse_ip(addr) {
            Some(ip) if ip.is_ipv4() => checks::non_special_ip(errs, path, addr),
            _ => errs.invalid(path, addr, "must be a valid IPv4 address"),
        },
        "IPv6" => match checks::parse_ip(addr) {
            Some(ip) if ip.is_ipv6() => checks::non_special_ip(errs, path, addr),
            _ => errs.invalid(path, addr, "must be a valid IPv6 address"),
        },
        "FQDN" => checks::fqdn(errs, path, addr),
        _ => {}
    }
}

fn ports(errs: &mut Errors, path: &Path, ports: &[api::EndpointPort]) {
    if ports.len() > 20000 {
        errs.too_many(path, ports.len(), 20000);
        return;
    }
    let mut names = BTreeSet::new();
    for (i, port) in ports.iter().enumerate() {
        let p = path.index(i);
        let name = port.name.as_deref().unwrap_or("");
        if !name.is_empty() {
            errs.invalid_each(&p.child("name"), name, dns1123_label(name));
        }
        if !names.insert(name) {
            errs.duplicate(&p.child("name"), name);
        }
        match port.protocol.as_deref() {
            None => errs.required(&p.child("protocol"), ""),
            Some("TCP" | "UDP" | "SCTP") => {}
            Some(other) => errs.not_supported(&p.child("protocol"), other, &["SCTP", "TCP", "UDP"]),
        }
        if let Some(ap) = &port.app_protocol {
            errs.invalid_each(&p.child("appProtocol"), ap, qualified_name(ap));
        }
    }
}

/// Validate an update of an EndpointSlice: `addressType` is immutable.
pub fn endpoint_slice_update(
    new: &api::EndpointSlice,
    old: &api::EndpointSlice,
    errs: &mut Errors,
) {
    if new.address_type != old.address_type {
        errs.invalid(
            &Path::new("addressType"),
            new.address_type.as_str(),
            checks::IMMUTABLE,
        );
    }
}

//! Field validators shared by many kinds, with upstream's messages:
//! numbers and ranges, ports, IPs, selectors, quantities, resource names,
//! int-or-percent values and file paths.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use k8s_openapi::apimachinery::pkg::api::resource::Quantity as ApiQuantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::Value;

use super::{Errors, Path, go, label_value, qualified_name, validate_labels};
use crate::labels::{Requirement, Selector};
use crate::quantity::{QUANTITY_FORMAT, Quantity};

/// `must be greater than or equal to 0`.
pub const IS_NEGATIVE: &str = "must be greater than or equal to 0";
/// `field is immutable`.
pub const IMMUTABLE: &str = "field is immutable";

/// `must be between <lo> and <hi>, inclusive`.
pub fn inclusive_range(lo: i64, hi: i64) -> String {
    format!("must be between {lo} and {hi}, inclusive")
}

/// `path: Invalid value: <v>: must be greater than or equal to 0` when
/// `v < 0`.
pub fn non_negative(errs: &mut Errors, path: &Path, v: i64) {
    if v < 0 {
        errs.invalid(path, v, IS_NEGATIVE);
    }
}

/// [`non_negative`] for an optional field.
pub fn non_negative_opt(errs: &mut Errors, path: &Path, v: Option<impl Into<i64>>) {
    if let Some(v) = v {
        non_negative(errs, path, v.into());
    }
}

/// Errors of a port number (1-65535).
pub fn port_num(port: i64) -> Vec<String> {
    if (1..=65535).contains(&port) {
        Vec::new()
    } else {
        vec![inclusive_range(1, 65535)]
    }
}

/// Errors of an IANA service name (named ports).
pub fn port_name(name: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if name.len() > 15 {
        errs.push("must be no more than 15 characters".into());
    }
    if name.is_empty()
        || !name
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
    {
        errs.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".into());
    }
    if !name.bytes().any(|c| c.is_ascii_lowercase()) {
        errs.push("must contain at least one letter (a-z)".into());
    }
    if name.contains("--") {
        errs.push("must not contain consecutive hyphens".into());
    }
    if name.starts_with('-') || name.ends_with('-') {
        errs.push("must not begin or end with a hyphen".into());
    }
    errs
}

/// Validate an int-or-name port (`httpGet.port`, `targetPort`).
pub fn port_num_or_name(errs: &mut Errors, path: &Path, port: &IntOrString) {
    match port {
        IntOrString::Int(i) => {
            errs.invalid_each_value(path, i64::from(*i), port_num(i64::from(*i)))
        }
        IntOrString::String(s) => errs.invalid_each(path, s, port_name(s)),
    }
}

fn chdir_prefix(s: &str) -> Vec<String> {
    match s {
        "." => vec!["must not be '.'".into()],
        ".." => vec!["must not be '..'".into()],
        _ if s.starts_with("..") => vec!["must not start with '..'".into()],
        _ => Vec::new(),
    }
}

/// Errors of an environment variable name (the relaxed rule, on by
/// default in 1.32: printable ASCII other than `=`).
pub fn env_var_name(name: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if name.is_empty() {
        errs.push("environment variable name must be non-empty".into());
    }
    if name.chars().any(|c| !(' '..='~').contains(&c) || c == '=') {
        errs.push(
            "a valid environment variable name must consist only of printable ASCII characters other than '='"
                .into(),
        );
    }
    errs
}

/// Errors of a ConfigMap / Secret data key.
pub fn config_map_key(key: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if key.len() > 253 {
        errs.push("must be no more than 253 characters".into());
    }
    if key.is_empty()
        || !key
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
    {
        errs.push("a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')".into());
    }
    errs.extend(chdir_prefix(key));
    errs
}

/// Errors of an HTTP header name.
pub fn http_header_name(name: &str) -> Vec<String> {
    if !name.is_empty() && name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-') {
        Vec::new()
    } else {
        vec!["a valid HTTP header must consist of alphanumeric characters or '-' (e.g. 'X-Header-Name', regex used for validation is '[-A-Za-z0-9]+')".into()]
    }
}

/// An IP address as upstream's sloppy parser reads it (IPv4 octets may
/// have leading zeros).
pub fn parse_ip(s: &str) -> Option<IpAddr> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() != 4 {
        return None;
    }
    let mut octets = [0u8; 4];
    for (i, p) in parts.iter().enumerate() {
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        octets[i] = p.parse().ok()?;
    }
    Some(IpAddr::V4(Ipv4Addr::from(octets)))
}

/// `path: Invalid value: "<ip>": must be a valid IP address, ...`.
pub fn ip_address(errs: &mut Errors, path: &Path, s: &str) {
    if parse_ip(s).is_none() {
        errs.invalid(
            path,
            s,
            "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
        );
    }
}

/// A CIDR (`10.0.0.0/8`) as the address and prefix length.
pub fn parse_cidr(s: &str) -> Option<(IpAddr, u8)> {
    let (ip, bits) = s.split_once('/')?;
    let ip = parse_ip(ip)?;
    let bits: u8 = bits.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    (bits <= max).then_some((ip, bits))
}

/// `path: Invalid value: "<cidr>": must be a valid CIDR value, ...`.
pub fn cidr(errs: &mut Errors, path: &Path, s: &str) {
    if parse_cidr(s).is_none() {
        errs.invalid(
            path,
            s,
            "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
        );
    }
}

/// Whether `inner` lies inside `outer` (both CIDRs of the same family).
pub fn cidr_contains(outer: (IpAddr, u8), ip: IpAddr) -> bool {
    fn mask(ip: IpAddr, bits: u8) -> u128 {
        let (v, width) = match ip {
            IpAddr::V4(a) => (u128::from(u32::from(a)), 32u32),
            IpAddr::V6(a) => (u128::from(a), 128u32),
        };
        let bits = u32::from(bits).min(width);
        if bits == 0 { 0 } else { v >> (width - bits) }
    }
    outer.0.is_ipv4() == ip.is_ipv4() && mask(outer.0, outer.1) == mask(ip, outer.1)
}

/// Upstream's `ValidateNonSpecialIP`: no unspecified, loopback or
/// link-local addresses (Endpoints, EndpointSlices, external IPs).
pub fn non_special_ip(errs: &mut Errors, path: &Path, s: &str) {
    let Some(ip) = parse_ip(s) else {
        errs.invalid(path, s, "must be a valid IP address");
        return;
    };
    if ip.is_unspecified() {
        errs.invalid(path, s, format!("may not be unspecified ({s})"));
    }
    if ip.is_loopback() {
        errs.invalid(
            path,
            s,
            "may not be in the loopback range (127.0.0.0/8, ::1/128)",
        );
    }
    let (link_local, link_local_multicast) = match ip {
        IpAddr::V4(a) => (a.is_link_local(), a.octets()[..3] == [224, 0, 0]),
        IpAddr::V6(a) => (
            (a.segments()[0] & 0xffc0) == 0xfe80,
            is_v6_link_local_multicast(a),
        ),
    };
    if link_local {
        errs.invalid(
            path,
            s,
            "may not be in the link-local range (169.254.0.0/16, fe80::/10)",
        );
    }
    if link_local_multicast {
        errs.invalid(
            path,
            s,
            "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)",
        );
    }
}

fn is_v6_link_local_multicast(a: Ipv6Addr) -> bool {
    let s = a.segments()[0];
    (s & 0xff00) == 0xff00 && (s & 0x000f) == 0x2
}

/// Errors of a percent string (`25%`).
pub fn percent(s: &str) -> Vec<String> {
    let ok =
        s.len() > 1 && s.ends_with('%') && s[..s.len() - 1].bytes().all(|c| c.is_ascii_digit());
    if ok {
        Vec::new()
    } else {
        vec!["a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')".into()]
    }
}

fn percent_value(v: &IntOrString) -> Option<i64> {
    match v {
        IntOrString::String(s) if percent(s).is_empty() => s[..s.len() - 1].parse().ok(),
        _ => None,
    }
}

/// The number an int-or-percent holds (`25%` → 25, `3` → 3, other → 0).
pub fn int_or_percent_value(v: &IntOrString) -> i64 {
    match v {
        IntOrString::Int(i) => i64::from(*i),
        IntOrString::String(s) => percent_value(v).unwrap_or_else(|| s.parse().unwrap_or(0)),
    }
}

/// Upstream's `ValidatePositiveIntOrPercent`: a non-negative int or a
/// percent string.
pub fn positive_int_or_percent(errs: &mut Errors, path: &Path, v: &IntOrString) {
    match v {
        IntOrString::String(s) => {
            for msg in percent(s) {
                errs.invalid_raw(path, go::int_or_string(v), msg);
            }
        }
        IntOrString::Int(i) => non_negative(errs, path, i64::from(*i)),
    }
}

/// Upstream's `IsNotMoreThan100Percent`.
pub fn not_more_than_100_percent(errs: &mut Errors, path: &Path, v: &IntOrString) {
    if percent_value(v).is_some_and(|p| p > 100) {
        errs.invalid_raw(path, go::int_or_string(v), "must not be greater than 100%");
    }
}

/// Validate a label key (`ValidateLabelName`).
pub fn label_name(errs: &mut Errors, path: &Path, key: &str) {
    errs.invalid_each(path, key, qualified_name(key));
}

/// Validate a structured label selector (`ValidateLabelSelector`).
pub fn label_selector(errs: &mut Errors, path: &Path, sel: Option<&LabelSelector>) {
    let Some(sel) = sel else { return };
    validate_labels(sel.match_labels.as_ref(), &path.child("matchLabels"), errs);
    for (i, expr) in sel.match_expressions.iter().flatten().enumerate() {
        let p = path.child("matchExpressions").index(i);
        let values = expr.values.as_deref().unwrap_or_default();
        match expr.operator.as_str() {
            "In" | "NotIn" if values.is_empty() => errs.required(
                &p.child("values"),
                "must be specified when `operator` is 'In' or 'NotIn'",
            ),
            "Exists" | "DoesNotExist" if !values.is_empty() => errs.forbidden(
                &p.child("values"),
                "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
            ),
            "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
            op => errs.invalid(&p.child("operator"), op, "not a valid selector operator"),
        }
        label_name(errs, &p.child("key"), &expr.key);
        for (j, v) in values.iter().enumerate() {
            errs.invalid_each(&p.child("values").index(j), v, label_value(v));
        }
    }
}

/// What a structured selector selects, as upstream's
/// `LabelSelectorAsSelector`: `Ok(None)` for an absent selector (selects
/// nothing), `Err` for one that does not convert.
pub fn selector_of(sel: Option<&LabelSelector>) -> Result<Option<Selector>, String> {
    let Some(sel) = sel else { return Ok(None) };
    for expr in sel.match_expressions.iter().flatten() {
        let n = expr.values.as_ref().map_or(0, Vec::len);
        match expr.operator.as_str() {
            "In" | "NotIn" if n == 0 => {
                return Err("for 'in', 'notin' operators, values set can't be empty".into());
            }
            "Exists" | "DoesNotExist" if n != 0 => {
                return Err("values set must be empty for exists and does not exist".into());
            }
            _ => {}
        }
        if let Some(e) = qualified_name(&expr.key).into_iter().next() {
            return Err(e);
        }
        if let Some(e) = expr
            .values
            .iter()
            .flatten()
            .flat_map(|v| label_value(v))
            .next()
        {
            return Err(e);
        }
    }
    for (k, v) in sel.match_labels.iter().flatten() {
        if let Some(e) = qualified_name(k).into_iter().chain(label_value(v)).next() {
            return Err(e);
        }
    }
    Selector::from_label_selector(sel).map(Some)
}

/// Whether a selector (as [`selector_of`] returns it) matches `labels`.
pub fn selector_matches(sel: &Option<Selector>, labels: Option<&BTreeMap<String, String>>) -> bool {
    let empty = BTreeMap::new();
    sel.as_ref()
        .is_some_and(|s| s.matches(labels.unwrap_or(&empty)))
}

/// Whether a selector selects everything (non-nil and without
/// requirements).
pub fn selector_is_everything(sel: &Option<Selector>) -> bool {
    sel.as_ref().is_some_and(Selector::is_empty)
}

/// Whether a structured selector requires `key=value` (used for generated
/// Job selectors).
pub fn selector_requires(sel: &Selector, key: &str, value: &str) -> bool {
    sel.requirements
        .iter()
        .any(|r| matches!(r, Requirement::Equals(k, v) if k == key && v == value))
}

/// Parse a quantity, reporting a malformed one on `path`.
pub fn quantity(errs: &mut Errors, path: &Path, q: &ApiQuantity) -> Option<Quantity> {
    match Quantity::parse(&q.0) {
        Ok(v) => Some(v),
        Err(e) => {
            let msg = if e == QUANTITY_FORMAT {
                QUANTITY_FORMAT.to_owned()
            } else {
                e.to_owned()
            };
            errs.invalid(path, q.0.as_str(), msg);
            None
        }
    }
}

/// A quantity's value for messages: upstream prints its canonical form.
pub fn quantity_text(q: &Quantity) -> String {
    q.to_string()
}

/// `ValidateNonnegativeQuantity`.
pub fn non_negative_quantity(errs: &mut Errors, path: &Path, q: &Quantity) {
    if q.is_negative() {
        errs.invalid(path, quantity_text(q), IS_NEGATIVE);
    }
}

/// `ValidatePositiveQuantityValue`.
pub fn positive_quantity(errs: &mut Errors, path: &Path, q: &Quantity) {
    if q.is_negative() || q.is_zero() {
        errs.invalid(path, quantity_text(q), "must be greater than zero");
    }
}

const STANDARD_CONTAINER_RESOURCES: &[&str] = &["cpu", "memory", "ephemeral-storage"];
const STANDARD_RESOURCES: &[&str] = &[
    "cpu",
    "memory",
    "ephemeral-storage",
    "requests.cpu",
    "requests.memory",
    "requests.ephemeral-storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
    "pods",
    "services",
    "replicationcontrollers",
    "resourcequotas",
    "secrets",
    "persistentvolumeclaims",
    "configmaps",
    "services.nodeports",
    "services.loadbalancers",
    "requests.storage",
    "storage",
];
const STANDARD_QUOTA_RESOURCES: &[&str] = &[
    "cpu",
    "memory",
    "ephemeral-storage",
    "requests.cpu",
    "requests.memory",
    "requests.storage",
    "requests.ephemeral-storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
    "pods",
    "services",
    "replicationcontrollers",
    "resourcequotas",
    "secrets",
    "configmaps",
    "persistentvolumeclaims",
    "services.nodeports",
    "services.loadbalancers",
];
const INTEGER_RESOURCES: &[&str] = &[
    "pods",
    "services",
    "replicationcontrollers",
    "resourcequotas",
    "secrets",
    "configmaps",
    "persistentvolumeclaims",
    "services.nodeports",
    "services.loadbalancers",
];

/// Whether a resource name is a huge-pages size (`hugepages-2Mi`).
pub fn is_huge_pages(name: &str) -> bool {
    name.starts_with("hugepages-")
}

fn is_quota_huge_pages(name: &str) -> bool {
    is_huge_pages(name) || name.starts_with("requests.hugepages-")
}

/// Whether a resource name belongs to Kubernetes (no domain, or a
/// `kubernetes.io/` domain).
pub fn is_native_resource(name: &str) -> bool {
    !name.contains('/') || name.contains("kubernetes.io/")
}

/// Whether a resource name is an extended resource (`example.com/gpu`).
pub fn is_extended_resource(name: &str) -> bool {
    !is_native_resource(name)
        && !name.starts_with("requests.")
        && qualified_name(&format!("requests.{name}")).is_empty()
}

/// Whether requests of this resource may be below its limit.
pub fn is_overcommit_allowed(name: &str) -> bool {
    is_native_resource(name) && !is_huge_pages(name)
}

/// Whether quantities of this resource must be whole numbers.
pub fn is_integer_resource(name: &str) -> bool {
    INTEGER_RESOURCES.contains(&name) || is_extended_resource(name)
}

/// `validateResourceName`: a qualified name, and a standard one when it
/// has no domain. Returns whether it passed.
pub fn resource_name(errs: &mut Errors, path: &Path, name: &str) -> bool {
    let msgs = qualified_name(name);
    if !msgs.is_empty() {
        errs.invalid_each(path, name, msgs);
        return false;
    }
    if !name.contains('/') && !STANDARD_RESOURCES.contains(&name) && !is_quota_huge_pages(name) {
        errs.invalid(
            path,
            name,
            "must be a standard resource type or fully qualified",
        );
        return false;
    }
    true
}

/// `validateContainerResourceName`.
pub fn container_resource_name(errs: &mut Errors, path: &Path, name: &str) {
    resource_name(errs, path, name);
    if !name.contains('/') {
        if !STANDARD_CONTAINER_RESOURCES.contains(&name) && !is_huge_pages(name) {
            errs.invalid(path, name, "must be a standard resource for containers");
        }
    } else if !is_native_resource(name) && !is_extended_resource(name) {
        errs.invalid(path, name, "doesn't follow extended resource name standard");
    }
}

/// `ValidateResourceQuotaResourceName`.
pub fn quota_resource_name(errs: &mut Errors, path: &Path, name: &str) {
    resource_name(errs, path, name);
    if !name.contains('/')
        && !STANDARD_QUOTA_RESOURCES.contains(&name)
        && !is_quota_huge_pages(name)
    {
        errs.invalid(path, name, "must be a standard resource for quota");
    }
}

/// `ValidateResourceQuantityValue`: non-negative, and whole for integer
/// resources.
pub fn resource_quantity_value(errs: &mut Errors, path: &Path, name: &str, q: &Quantity) {
    non_negative_quantity(errs, path, q);
    if is_integer_resource(name) && q.millis() % 1000 != 0 {
        errs.invalid(path, quantity_text(q), "must be an integer");
    }
}

/// Upstream's user and group IDs: 0 to 2147483647.
pub fn user_or_group_id(errs: &mut Errors, path: &Path, id: i64) {
    if !(0..=i64::from(i32::MAX)).contains(&id) {
        errs.invalid(path, id, inclusive_range(0, i64::from(i32::MAX)));
    }
}

/// `path: Invalid value: "<p>": must not contain '..'` when a path has a
/// `..` element.
pub fn no_backsteps(errs: &mut Errors, path: &Path, p: &str) {
    if p.replace('\\', "/").split('/').any(|e| e == "..") {
        errs.invalid(path, p, "must not contain '..'");
    }
}

/// A relative path without `..` elements (`validateLocalDescendingPath`).
pub fn local_descending_path(errs: &mut Errors, path: &Path, p: &str) {
    if p.starts_with('/') {
        errs.invalid(path, p, "must be a relative path");
    }
    no_backsteps(errs, path, p);
}

/// `ValidateLocalNonReservedPath`.
pub fn local_non_reserved_path(errs: &mut Errors, path: &Path, p: &str) {
    local_descending_path(errs, path, p);
    if p.starts_with("..") && !p.starts_with("../") {
        errs.invalid(path, p, "must not start with '..'");
    }
}

/// Validate a file mode (0-0777).
pub fn file_mode(errs: &mut Errors, path: &Path, mode: Option<i32>) {
    if let Some(m) = mode
        && !(0..=0o777).contains(&m)
    {
        errs.invalid(
            path,
            m,
            "must be a number between 0 and 0777 (octal), both inclusive",
        );
    }
}

/// Errors of a fully qualified domain name (at least two labels).
pub fn fqdn(errs: &mut Errors, path: &Path, name: &str) {
    if name.is_empty() {
        errs.required(path, "");
        return;
    }
    errs.invalid_each(path, name, super::dns1123_subdomain(name));
    if !name.contains('.') {
        errs.invalid(
            path,
            name,
            "should be a domain with at least two segments separated by dots",
        );
    }
}

/// Upstream's `IsDomainPrefixedPath` (`example.com/path`).
pub fn domain_prefixed_path(errs: &mut Errors, path: &Path, s: &str) {
    if s.is_empty() {
        errs.required(path, "");
        return;
    }
    let (host, rest) = s.split_once('/').unwrap_or((s, ""));
    if host.is_empty() || rest.is_empty() {
        errs.invalid(
            path,
            s,
            "must be a domain-prefixed path (such as \"acme.io/foo\")",
        );
        return;
    }
    errs.invalid_each(path, host, super::dns1123_subdomain(host));
    let ok = rest
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || b"/-._~%!$&'()*+,;=:".contains(&c));
    if !ok {
        errs.invalid(
            path,
            rest,
            "Invalid path (regex used for validation is '[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+')",
        );
    }
}

/// Errors of a wildcard DNS subdomain (`*.example.com`).
pub fn wildcard_dns1123_subdomain(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > 253 {
        errs.push("must be no more than 253 characters".into());
    }
    let ok = s
        .strip_prefix("*.")
        .is_some_and(|rest| super::dns1123_subdomain(rest).is_empty());
    if !ok {
        errs.push("a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')".into());
    }
    errs
}

/// The value of an `Option<i32>`-like field, shown as Go shows a pointer:
/// `null` when absent.
pub fn opt_value<T: Into<Value>>(v: Option<T>) -> Value {
    v.map_or(Value::Null, Into::into)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_and_names() {
        assert!(port_num(80).is_empty());
        assert_eq!(port_num(0), vec!["must be between 1 and 65535, inclusive"]);
        assert!(port_name("http").is_empty());
        assert_eq!(port_name("8080").len(), 1);
        assert!(!port_name("a--b").is_empty());
        assert!(env_var_name("MY_VAR").is_empty());
        assert!(!env_var_name("A=B").is_empty());
        assert!(config_map_key("key.name").is_empty());
        assert!(!config_map_key("a/b").is_empty());
        assert_eq!(config_map_key(".."), vec!["must not be '..'"]);
    }

    #[test]
    fn ips_and_cidrs() {
        assert!(parse_ip("10.0.0.1").is_some());
        assert!(parse_ip("010.0.0.1").is_some());
        assert!(parse_ip("::1").is_some());
        assert!(parse_ip("abc").is_none());
        let outer = parse_cidr("10.0.0.0/8").unwrap();
        assert!(cidr_contains(outer, parse_ip("10.1.2.3").unwrap()));
        assert!(!cidr_contains(outer, parse_ip("11.1.2.3").unwrap()));
        let mut errs = Errors::default();
        non_special_ip(&mut errs, &Path::new("ip"), "127.0.0.1");
        assert_eq!(errs.0.len(), 1);
    }

    #[test]
    fn percents_and_selectors() {
        assert!(percent("25%").is_empty());
        assert!(!percent("x%").is_empty());
        assert_eq!(int_or_percent_value(&IntOrString::String("25%".into())), 25);
        let sel = LabelSelector {
            match_labels: Some([("app".to_string(), "web".to_string())].into()),
            match_expressions: None,
        };
        let s = selector_of(Some(&sel)).unwrap();
        let labels: BTreeMap<String, String> = [("app".to_string(), "web".to_string())].into();
        assert!(selector_matches(&s, Some(&labels)));
        assert!(!selector_matches(&None, Some(&labels)));
    }
}

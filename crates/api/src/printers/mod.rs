//! Per-kind table printers: the columns and cells `kubectl get` shows,
//! one module per API group, as upstream's
//! `pkg/printers/internalversion/printers.go` prints them (always wide: the
//! server sends every cell, `-o wide` columns included).
//!
//! This module holds the formatting helpers the printers share.

pub mod apps;
pub mod autoscaling;
pub mod batch;
pub mod coordination;
pub mod core;
pub mod discovery;
pub mod networking;
pub mod policy;
pub mod rbac;
pub mod scheduling;
pub mod storage;

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{Container, EndpointSubset, Pod, PodTemplateSpec, ServicePort};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, MicroTime, Time};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use k8s_openapi::jiff::Timestamp;

use crate::table::{age, human_duration};

/// `s`, or `<none>` when it is absent or empty.
pub(crate) fn or_none(s: Option<&str>) -> String {
    match s {
        Some(s) if !s.is_empty() => s.to_string(),
        _ => "<none>".into(),
    }
}

/// An optional string field, `""` when absent.
pub(crate) fn str_or_empty(s: Option<&String>) -> String {
    s.cloned().unwrap_or_default()
}

/// Upstream's `printBoolPtr`: `<unset>`, `True` or `False`.
pub(crate) fn bool_ptr(b: Option<bool>) -> &'static str {
    match b {
        None => "<unset>",
        Some(true) => "True",
        Some(false) => "False",
    }
}

/// Whole seconds from `earlier` to `later`, truncated toward zero as Go's
/// `int(d.Seconds())`.
pub(crate) fn seconds_between(later: Timestamp, earlier: Timestamp) -> i64 {
    let nanos = later.as_nanosecond() - earlier.as_nanosecond();
    (nanos / 1_000_000_000) as i64
}

/// Go's zero `time.Time` (0001-01-01T00:00:00Z), which upstream treats as
/// unset.
fn is_zero_instant(t: Timestamp) -> bool {
    t.as_second() == -62_135_596_800 && t.subsec_nanosecond() == 0
}

/// A `Time` that is set and not Go's zero time.
pub(crate) fn set_time(t: Option<&Time>) -> Option<&Time> {
    t.filter(|t| !is_zero_instant(t.0))
}

/// A `MicroTime` that is set and not Go's zero time.
pub(crate) fn set_micro_time(t: Option<&MicroTime>) -> Option<&MicroTime> {
    t.filter(|t| !is_zero_instant(t.0))
}

/// `translateTimestampSince` of a `Time`: `<unknown>` when unset or zero.
pub(crate) fn age_of(t: Option<&Time>, now: Timestamp) -> String {
    age(set_time(t), now)
}

/// `translateMicroTimestampSince`: `<unknown>` when unset or zero.
pub(crate) fn age_micro(t: Option<&MicroTime>, now: Timestamp) -> String {
    match set_micro_time(t) {
        Some(t) => human_duration(seconds_between(now, t.0)),
        None => "<unknown>".into(),
    }
}

/// Upstream's `layoutContainerCells`: container names and images, each
/// joined with `,`.
pub(crate) fn container_cells(containers: &[Container]) -> (String, String) {
    let names: Vec<&str> = containers.iter().map(|c| c.name.as_str()).collect();
    let images: Vec<&str> = containers
        .iter()
        .map(|c| c.image.as_deref().unwrap_or(""))
        .collect();
    (names.join(","), images.join(","))
}

/// [`container_cells`] of a pod template's containers (`""` without one).
pub(crate) fn template_container_cells(template: Option<&PodTemplateSpec>) -> (String, String) {
    let containers = template
        .and_then(|t| t.spec.as_ref())
        .map(|s| s.containers.as_slice())
        .unwrap_or_default();
    container_cells(containers)
}

/// An IntOrString as upstream's `String()`: decimal or verbatim.
pub(crate) fn int_or_string(v: &IntOrString) -> String {
    match v {
        IntOrString::Int(i) => i.to_string(),
        IntOrString::String(s) => s.clone(),
    }
}

/// Go's `net.JoinHostPort`: IPv6 hosts (containing `:`) are bracketed.
pub(crate) fn join_host_port(host: &str, port: i32) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Upstream's `formatResourceName`: `kind.group/name` lower-cased, or the
/// bare name when group and kind are both empty.
pub(crate) fn format_resource_name(group: &str, kind: &str, name: &str) -> String {
    if group.is_empty() && kind.is_empty() {
        return name.to_string();
    }
    let gk = if group.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}.{group}")
    };
    format!("{}/{name}", gk.to_lowercase())
}

/// The group of an `apiVersion` as `schema.ParseGroupVersion` reads it;
/// `None` when it has more than one `/` (upstream: an error).
pub(crate) fn api_version_group(api_version: &str) -> Option<&str> {
    if api_version.is_empty() || api_version == "/" {
        return Some("");
    }
    match api_version.matches('/').count() {
        0 => Some(""),
        1 => api_version.split_once('/').map(|(g, _)| g),
        _ => None,
    }
}

/// Upstream's "list with more" (EndpointSlice ports and endpoints): at most
/// three items, then ` + N more...`; `<unset>` when empty.
pub(crate) fn list_with_more<I, S>(items: I) -> String
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    const MAX: usize = 3;
    let mut list: Vec<String> = Vec::new();
    let mut count = 0;
    for item in items {
        if list.len() < MAX {
            list.push(item.into());
        }
        count += 1;
    }
    let ret = list.join(",");
    if count > MAX {
        format!("{ret} + {} more...", count - MAX)
    } else if ret.is_empty() {
        "<unset>".into()
    } else {
        ret
    }
}

/// Upstream's `loadBalancerStatusStringer` (untruncated, the server is
/// always wide): each ingress's IP, else its hostname, deduplicated, sorted
/// and joined with `,`.
pub(crate) fn load_balancer_string<'a, I>(ingress: I) -> String
where
    I: IntoIterator<Item = (Option<&'a String>, Option<&'a String>)>,
{
    let mut set = BTreeSet::new();
    for (ip, hostname) in ingress {
        match (ip, hostname) {
            (Some(ip), _) if !ip.is_empty() => {
                set.insert(ip.as_str());
            }
            (_, Some(host)) if !host.is_empty() => {
                set.insert(host.as_str());
            }
            _ => {}
        }
    }
    set.into_iter().collect::<Vec<_>>().join(",")
}

/// Upstream's `makePortString`: `port[:nodePort]/protocol`, joined with `,`.
pub(crate) fn service_ports_string(ports: &[ServicePort]) -> String {
    ports
        .iter()
        .map(|p| {
            // Protocol defaults to TCP; stored objects always carry it.
            let protocol = p.protocol.as_deref().unwrap_or("TCP");
            match p.node_port {
                Some(np) if np > 0 => format!("{}:{np}/{protocol}", p.port),
                _ => format!("{}/{protocol}", p.port),
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Upstream's `formatEndpoints` over all ports: at most three `ip:port`
/// entries, then ` + N more...`; `<none>` without subsets.
pub(crate) fn format_endpoints(subsets: &[EndpointSubset]) -> String {
    const MAX: usize = 3;
    if subsets.is_empty() {
        return "<none>".into();
    }
    let mut list: Vec<String> = Vec::new();
    let mut more = false;
    let mut count = 0;
    for ss in subsets {
        let addresses = ss.addresses.as_deref().unwrap_or_default();
        let ports = ss.ports.as_deref().unwrap_or_default();
        if ports.is_empty() {
            count += addresses.len();
            for a in addresses {
                if list.len() == MAX {
                    more = true;
                    break;
                }
                list.push(a.ip.clone());
            }
            continue;
        }
        for p in ports {
            count += addresses.len();
            for a in addresses {
                if list.len() == MAX {
                    more = true;
                    break;
                }
                list.push(join_host_port(&a.ip, p.port));
            }
        }
    }
    let ret = list.join(",");
    if more {
        format!("{ret} + {} more...", count - MAX)
    } else {
        ret
    }
}

/// Upstream's `helper.GetAccessModesAsString`: `RWO`, `ROX`, `RWX`, `RWOP`
/// in that order, each once, joined with `,`.
pub(crate) fn access_modes_string(modes: Option<&Vec<String>>) -> String {
    let modes = modes.map(Vec::as_slice).unwrap_or_default();
    let has = |m: &str| modes.iter().any(|x| x == m);
    [
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ]
    .into_iter()
    .filter(|(mode, _)| has(mode))
    .map(|(_, short)| short)
    .collect::<Vec<_>>()
    .join(",")
}

// ---------------------------------------------------------------------------
// Label selectors

/// One requirement of a structured selector, as upstream's
/// `labels.Requirement` prints it.
struct Requirement {
    key: String,
    op: &'static str,
    values: Vec<String>,
}

impl Requirement {
    fn new(key: &str, op: &'static str, values: Vec<String>) -> Result<Requirement, ()> {
        if crate::validation::qualified_name_errors(key).is_some() {
            return Err(());
        }
        let arity_ok = match op {
            "in" | "notin" => !values.is_empty(),
            "=" => values.len() == 1,
            _ => values.is_empty(),
        };
        if !arity_ok
            || values
                .iter()
                .any(|v| crate::validation::label_value_errors(v).is_some())
        {
            return Err(());
        }
        Ok(Requirement {
            key: key.to_string(),
            op,
            values,
        })
    }

    fn render(&self) -> String {
        let mut values = self.values.clone();
        values.sort();
        let values = values.join(",");
        match self.op {
            "=" => format!("{}={values}", self.key),
            "in" => format!("{} in ({values})", self.key),
            "notin" => format!("{} notin ({values})", self.key),
            "exists" => self.key.clone(),
            _ => format!("!{}", self.key),
        }
    }
}

/// The string of a structured selector as `metav1.LabelSelectorAsSelector`
/// then `String()` give it: requirements sorted by key, `in`/`notin` values
/// sorted; `""` for a nil or empty selector; `Err` when upstream's
/// conversion fails (bad operator, key, value or value count).
pub(crate) fn selector_string(selector: Option<&LabelSelector>) -> Result<String, ()> {
    let Some(selector) = selector else {
        return Ok(String::new());
    };
    let mut reqs = Vec::new();
    for (k, v) in selector.match_labels.iter().flatten() {
        reqs.push(Requirement::new(k, "=", vec![v.clone()])?);
    }
    for expr in selector.match_expressions.iter().flatten() {
        let op = match expr.operator.as_str() {
            "In" => "in",
            "NotIn" => "notin",
            "Exists" => "exists",
            "DoesNotExist" => "!",
            _ => return Err(()),
        };
        reqs.push(Requirement::new(
            &expr.key,
            op,
            expr.values.clone().unwrap_or_default(),
        )?);
    }
    reqs.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(reqs
        .iter()
        .map(Requirement::render)
        .collect::<Vec<_>>()
        .join(","))
}

/// Upstream's `metav1.FormatLabelSelector`: the selector string, `<none>`
/// when empty, `<error>` when it does not convert.
pub(crate) fn format_label_selector(selector: Option<&LabelSelector>) -> String {
    match selector_string(selector) {
        Ok(s) if s.is_empty() => "<none>".into(),
        Ok(s) => s,
        Err(()) => "<error>".into(),
    }
}

// ---------------------------------------------------------------------------
// Quantities

/// A quantity's format, as upstream's `resource.Format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum QuantityFormat {
    DecimalExponent,
    BinarySI,
    DecimalSI,
}

/// Upstream's `(*Quantity).String()` of an optional quantity: `<nil>` when
/// absent.
pub(crate) fn quantity_opt(q: Option<&Quantity>) -> String {
    q.map_or_else(|| "<nil>".into(), quantity_string)
}

/// Upstream's `Quantity.String()`: the canonical form of the quantity
/// (`1Gi`, `500m`, `1536Mi`). Strings that do not parse are returned as is.
pub(crate) fn quantity_string(q: &Quantity) -> String {
    let s = q.0.trim();
    canonical_quantity(s).unwrap_or_else(|| q.0.clone())
}

/// `resource.ParseQuantity` followed by `String()`.
fn canonical_quantity(s: &str) -> Option<String> {
    let b = s.as_bytes();
    if b.is_empty() {
        return None;
    }
    // parseQuantityString
    let mut pos = 0;
    let mut positive = true;
    match b[0] {
        b'-' => {
            positive = false;
            pos += 1;
        }
        b'+' => pos += 1,
        _ => {}
    }
    while pos < b.len() && b[pos] == b'0' {
        pos += 1;
    }
    if pos >= b.len() {
        return Some("0".into());
    }
    let num_start = pos;
    while pos < b.len() && b[pos].is_ascii_digit() {
        pos += 1;
    }
    let mut num = &s[num_start..pos];
    if num.is_empty() {
        num = "0";
    }
    let mut denom = "";
    if pos < b.len() && b[pos] == b'.' {
        pos += 1;
        let start = pos;
        while pos < b.len() && b[pos].is_ascii_digit() {
            pos += 1;
        }
        denom = &s[start..pos];
    }
    let suffix_start = pos;
    while pos < b.len() && b"eEinumkKMGTP".contains(&b[pos]) {
        pos += 1;
    }
    if pos < b.len() && matches!(b[pos], b'-' | b'+') {
        pos += 1;
    }
    while pos < b.len() && b[pos].is_ascii_digit() {
        pos += 1;
    }
    if pos < b.len() {
        return None;
    }
    let suffix = &s[suffix_start..];

    // suffixHandler.interpret
    let (base, exponent, format): (u32, i32, QuantityFormat) = match suffix {
        "" => (10, 0, QuantityFormat::DecimalSI),
        "n" => (10, -9, QuantityFormat::DecimalSI),
        "u" => (10, -6, QuantityFormat::DecimalSI),
        "m" => (10, -3, QuantityFormat::DecimalSI),
        "k" => (10, 3, QuantityFormat::DecimalSI),
        "M" => (10, 6, QuantityFormat::DecimalSI),
        "G" => (10, 9, QuantityFormat::DecimalSI),
        "T" => (10, 12, QuantityFormat::DecimalSI),
        "P" => (10, 15, QuantityFormat::DecimalSI),
        "E" => (10, 18, QuantityFormat::DecimalSI),
        "Ki" => (2, 10, QuantityFormat::BinarySI),
        "Mi" => (2, 20, QuantityFormat::BinarySI),
        "Gi" => (2, 30, QuantityFormat::BinarySI),
        "Ti" => (2, 40, QuantityFormat::BinarySI),
        "Pi" => (2, 50, QuantityFormat::BinarySI),
        "Ei" => (2, 60, QuantityFormat::BinarySI),
        s if s.len() > 1 && s.starts_with(['e', 'E']) => {
            let e: i64 = s[1..].parse().ok()?;
            (10, i32::try_from(e).ok()?, QuantityFormat::DecimalExponent)
        }
        _ => return None,
    };

    let digits = format!("{num}{denom}");

    // Upstream keeps the input string when the int64 fast path applies and
    // the input is already in canonical form.
    let precision: i64 = match format {
        QuantityFormat::BinarySI if exponent >= 0 && denom.is_empty() => {
            15 - num.len() as i64 - (exponent as f32 * 3.0 / 10.0) as i64 - 1
        }
        QuantityFormat::BinarySI => -1,
        _ => 18 - digits.len() as i64,
    };
    if precision >= 0 {
        let scale = if format == QuantityFormat::BinarySI {
            0
        } else {
            exponent as i64
        } - denom.len() as i64;
        if scale >= -9 {
            let value: i64 = digits.parse().ok()?;
            let mantissa: i64 = if format == QuantityFormat::BinarySI {
                1i64 << exponent
            } else {
                1
            };
            if value.checked_mul(mantissa).is_some() {
                let reuse = match format {
                    QuantityFormat::BinarySI => exponent % 10 == 0 && (value & 0x07) != 0,
                    _ => scale % 3 == 0 && !digits.ends_with("000") && !digits.starts_with('0'),
                };
                if reuse {
                    return Some(s.to_string());
                }
            }
        }
    }

    // The exact magnitude: unscaled × 10^-scale.
    let mut unscaled: u128 = digits.parse().ok()?;
    let mut scale: i64 = denom.len() as i64;
    if base == 10 {
        scale -= exponent as i64;
    } else {
        unscaled = unscaled.checked_mul(1u128.checked_shl(exponent as u32)?)?;
    }
    if unscaled == 0 {
        return Some("0".into());
    }
    // Round non-zero values up to nano precision.
    if scale > 9 {
        let div = 10u128.checked_pow((scale - 9) as u32)?;
        unscaled = unscaled.div_ceil(div);
        scale = 9;
    }
    let mut format = format;
    if format == QuantityFormat::BinarySI {
        let max = i64::MAX as u128;
        let pow = 10u128.checked_pow(scale as u32)?;
        if unscaled > max.checked_mul(pow)? {
            unscaled = max;
            scale = 0;
        }
        if unscaled < pow {
            format = QuantityFormat::DecimalSI;
        }
    }

    // CanonicalizeBytes
    let sign = if positive { "" } else { "-" };
    if format == QuantityFormat::BinarySI {
        let pow = 10u128.checked_pow(scale as u32)?;
        if unscaled >= 1024u128.checked_mul(pow)? && unscaled.is_multiple_of(pow) {
            let mut value = unscaled / pow;
            let mut times = 0;
            while value >= 1024 && value.is_multiple_of(1024) {
                value /= 1024;
                times += 1;
            }
            let suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
                .get(times)
                .copied()
                .unwrap_or("");
            return Some(format!("{sign}{value}{suffix}"));
        }
        format = QuantityFormat::DecimalSI;
    }
    let mut exp = -scale;
    while unscaled.is_multiple_of(10) {
        unscaled /= 10;
        exp += 1;
    }
    match exp % 3 {
        1 | -2 => {
            unscaled = unscaled.checked_mul(10)?;
            exp -= 1;
        }
        2 | -1 => {
            unscaled = unscaled.checked_mul(100)?;
            exp -= 2;
        }
        _ => {}
    }
    let suffix = match format {
        QuantityFormat::DecimalExponent if exp == 0 => String::new(),
        QuantityFormat::DecimalExponent => format!("e{exp}"),
        _ => match exp {
            -9 => "n",
            -6 => "u",
            -3 => "m",
            3 => "k",
            6 => "M",
            9 => "G",
            12 => "T",
            15 => "P",
            18 => "E",
            // Upstream finds no suffix and prints none.
            _ => "",
        }
        .to_string(),
    };
    Some(format!("{sign}{unscaled}{suffix}"))
}

// ---------------------------------------------------------------------------
// Pods

/// The READY, STATUS and RESTARTS cells of a pod, as upstream's `printPod`
/// computes them.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct PodSummary {
    /// `ready/total`.
    pub ready: String,
    /// The aggregate status (`Running`, `Init:0/1`, `CrashLoopBackOff`, ...).
    pub reason: String,
    /// `N`, or `N (AGE ago)` after a restart.
    pub restarts: String,
}

/// Compute the pod's READY, STATUS and RESTARTS cells.
pub(crate) fn pod_summary(pod: &Pod, now: Timestamp) -> PodSummary {
    let spec = pod.spec.as_ref();
    let status = pod.status.as_ref();
    let containers = spec.map(|s| s.containers.as_slice()).unwrap_or_default();
    let init_containers = spec
        .and_then(|s| s.init_containers.as_deref())
        .unwrap_or_default();
    let conditions = status
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default();
    let init_statuses = status
        .and_then(|s| s.init_container_statuses.as_deref())
        .unwrap_or_default();
    let container_statuses = status
        .and_then(|s| s.container_statuses.as_deref())
        .unwrap_or_default();
    let phase = status.and_then(|s| s.phase.as_deref()).unwrap_or("");
    let status_reason = status.and_then(|s| s.reason.as_deref()).unwrap_or("");

    let mut restarts: i64 = 0;
    let mut sidecar_restarts: i64 = 0;
    let mut total = containers.len();
    let mut ready = 0;
    let mut last_restart: Option<Timestamp> = None;
    let mut last_sidecar_restart: Option<Timestamp> = None;

    let mut reason = if status_reason.is_empty() {
        phase.to_string()
    } else {
        status_reason.to_string()
    };
    for c in conditions {
        if c.type_ == "PodScheduled" && c.reason.as_deref() == Some("SchedulingGated") {
            reason = "SchedulingGated".into();
        }
    }

    let is_sidecar = |name: &str| {
        init_containers
            .iter()
            .find(|c| c.name == name)
            .is_some_and(|c| c.restart_policy.as_deref() == Some("Always"))
    };
    total += init_containers
        .iter()
        .filter(|c| c.restart_policy.as_deref() == Some("Always"))
        .count();

    let track = |last: &mut Option<Timestamp>, t: Option<&Time>| {
        if let Some(t) = set_time(t)
            && last.is_none_or(|l| l < t.0)
        {
            *last = Some(t.0);
        }
    };

    let mut initializing = false;
    for (i, cs) in init_statuses.iter().enumerate() {
        restarts += i64::from(cs.restart_count);
        let last_terminated = cs.last_state.as_ref().and_then(|s| s.terminated.as_ref());
        track(
            &mut last_restart,
            last_terminated.and_then(|t| t.finished_at.as_ref()),
        );
        let sidecar = is_sidecar(&cs.name);
        if sidecar {
            sidecar_restarts += i64::from(cs.restart_count);
            track(
                &mut last_sidecar_restart,
                last_terminated.and_then(|t| t.finished_at.as_ref()),
            );
        }
        let state = cs.state.as_ref();
        let terminated = state.and_then(|s| s.terminated.as_ref());
        let waiting_reason = state
            .and_then(|s| s.waiting.as_ref())
            .and_then(|w| w.reason.as_deref())
            .unwrap_or("");
        if terminated.is_some_and(|t| t.exit_code == 0) {
            continue;
        }
        if sidecar && cs.started == Some(true) {
            if cs.ready {
                ready += 1;
            }
            continue;
        }
        if let Some(t) = terminated {
            reason = match t.reason.as_deref().unwrap_or("") {
                "" => match t.signal.unwrap_or(0) {
                    0 => format!("Init:ExitCode:{}", t.exit_code),
                    sig => format!("Init:Signal:{sig}"),
                },
                r => format!("Init:{r}"),
            };
        } else if !waiting_reason.is_empty() && waiting_reason != "PodInitializing" {
            reason = format!("Init:{waiting_reason}");
        } else {
            reason = format!("Init:{i}/{}", init_containers.len());
        }
        initializing = true;
        break;
    }

    let initialized = conditions
        .iter()
        .find(|c| c.type_ == "Initialized")
        .is_some_and(|c| c.status == "True");
    if !initializing || initialized {
        restarts = sidecar_restarts;
        last_restart = last_sidecar_restart;
        let mut has_running = false;
        for cs in container_statuses.iter().rev() {
            restarts += i64::from(cs.restart_count);
            track(
                &mut last_restart,
                cs.last_state
                    .as_ref()
                    .and_then(|s| s.terminated.as_ref())
                    .and_then(|t| t.finished_at.as_ref()),
            );
            let state = cs.state.as_ref();
            let waiting_reason = state
                .and_then(|s| s.waiting.as_ref())
                .and_then(|w| w.reason.as_deref())
                .unwrap_or("");
            let terminated = state.and_then(|s| s.terminated.as_ref());
            if !waiting_reason.is_empty() {
                reason = waiting_reason.to_string();
            } else if let Some(t) = terminated {
                reason = match t.reason.as_deref().unwrap_or("") {
                    "" => match t.signal.unwrap_or(0) {
                        0 => format!("ExitCode:{}", t.exit_code),
                        sig => format!("Signal:{sig}"),
                    },
                    r => r.to_string(),
                };
            } else if cs.ready && state.is_some_and(|s| s.running.is_some()) {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            let pod_ready = conditions
                .iter()
                .any(|c| c.type_ == "Ready" && c.status == "True");
            reason = if pod_ready { "Running" } else { "NotReady" }.into();
        }
    }

    let deleting = pod.metadata.deletion_timestamp.is_some();
    if deleting && status_reason == "NodeLost" {
        reason = "Unknown".into();
    } else if deleting && phase != "Succeeded" && phase != "Failed" {
        reason = "Terminating".into();
    }

    let restarts = match last_restart {
        Some(t) if restarts != 0 => format!("{restarts} ({} ago)", age(Some(&Time(t)), now)),
        _ => restarts.to_string(),
    };
    PodSummary {
        ready: format!("{ready}/{total}"),
        reason,
        restarts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{EndpointAddress, EndpointPort};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    fn q(s: &str) -> String {
        quantity_string(&Quantity(s.into()))
    }

    #[test]
    fn quantities_print_canonically() {
        for (input, want) in [
            ("1Gi", "1Gi"),
            ("1024Mi", "1Gi"),
            ("1.5Gi", "1536Mi"),
            ("0.5Gi", "512Mi"),
            ("1500Mi", "1500Mi"),
            ("100Mi", "100Mi"),
            ("500m", "500m"),
            ("0.5", "500m"),
            ("1.5", "1500m"),
            ("1000m", "1"),
            ("2000", "2k"),
            ("10k", "10k"),
            ("1e3", "1e3"),
            ("1E3", "1E3"),
            ("1.5e3", "1500"),
            ("0", "0"),
            ("0Gi", "0"),
            ("0.0001n", "1n"),
            ("100", "100"),
            ("512", "512"),
            ("0.5Ki", "512"),
            ("1025Ki", "1025Ki"),
            ("2048Ki", "2Mi"),
            ("-1Gi", "-1Gi"),
            ("12Gi", "12Gi"),
            ("  1Gi ", "1Gi"),
            ("bogus", "bogus"),
        ] {
            assert_eq!(q(input), want, "{input}");
        }
        assert_eq!(quantity_opt(None), "<nil>");
    }

    fn req(key: &str, op: &str, values: &[&str]) -> LabelSelectorRequirement {
        LabelSelectorRequirement {
            key: key.into(),
            operator: op.into(),
            values: (!values.is_empty()).then(|| values.iter().map(|v| v.to_string()).collect()),
        }
    }

    #[test]
    fn selectors_sort_requirements_and_values() {
        let sel = LabelSelector {
            match_labels: Some([("tier".to_string(), "web".to_string())].into()),
            match_expressions: Some(vec![
                req("legacy", "DoesNotExist", &[]),
                req("env", "In", &["prod", "dev"]),
                req("zz", "Exists", &[]),
                req("app", "NotIn", &["b", "a"]),
            ]),
        };
        assert_eq!(
            format_label_selector(Some(&sel)),
            "app notin (a,b),env in (dev,prod),!legacy,tier=web,zz"
        );
        assert_eq!(format_label_selector(None), "<none>");
        assert_eq!(
            format_label_selector(Some(&LabelSelector::default())),
            "<none>"
        );
        assert_eq!(selector_string(None), Ok(String::new()));
        let bad = LabelSelector {
            match_expressions: Some(vec![req("a", "Bogus", &[])]),
            ..Default::default()
        };
        assert_eq!(format_label_selector(Some(&bad)), "<error>");
        let empty_in = LabelSelector {
            match_expressions: Some(vec![req("a", "In", &[])]),
            ..Default::default()
        };
        assert_eq!(format_label_selector(Some(&empty_in)), "<error>");
    }

    fn subset(ips: &[&str], ports: &[i32]) -> EndpointSubset {
        EndpointSubset {
            addresses: Some(
                ips.iter()
                    .map(|ip| EndpointAddress {
                        ip: ip.to_string(),
                        ..Default::default()
                    })
                    .collect(),
            ),
            ports: (!ports.is_empty()).then(|| {
                ports
                    .iter()
                    .map(|p| EndpointPort {
                        port: *p,
                        ..Default::default()
                    })
                    .collect()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn endpoints_format_as_upstream() {
        assert_eq!(format_endpoints(&[]), "<none>");
        assert_eq!(
            format_endpoints(&[subset(&["10.0.0.1", "fd00::1"], &[80])]),
            "10.0.0.1:80,[fd00::1]:80"
        );
        assert_eq!(
            format_endpoints(&[subset(&["10.0.0.1", "10.0.0.2"], &[80, 443])]),
            "10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 1 more..."
        );
        assert_eq!(
            format_endpoints(&[subset(&["10.0.0.1"], &[]), subset(&["10.0.0.2"], &[53])]),
            "10.0.0.1,10.0.0.2:53"
        );
        assert_eq!(format_endpoints(&[EndpointSubset::default()]), "");
    }

    #[test]
    fn small_helpers() {
        assert_eq!(list_with_more(Vec::<String>::new()), "<unset>");
        assert_eq!(list_with_more(["a", "b", "c"]), "a,b,c");
        assert_eq!(
            list_with_more(["a", "b", "c", "d", "e"]),
            "a,b,c + 2 more..."
        );
        assert_eq!(
            format_resource_name("apps", "DaemonSet", "fluentd"),
            "daemonset.apps/fluentd"
        );
        assert_eq!(format_resource_name("", "Pod", "x"), "pod/x");
        assert_eq!(format_resource_name("", "", "x"), "x");
        assert_eq!(api_version_group("apps/v1"), Some("apps"));
        assert_eq!(api_version_group("v1"), Some(""));
        assert_eq!(api_version_group("a/b/c"), None);
        let modes = vec![
            "ReadWriteOncePod".to_string(),
            "ReadWriteOnce".to_string(),
            "ReadOnlyMany".to_string(),
            "ReadWriteOnce".to_string(),
        ];
        assert_eq!(access_modes_string(Some(&modes)), "RWO,ROX,RWOP");
        assert_eq!(access_modes_string(None), "");
        assert_eq!(bool_ptr(None), "<unset>");
        assert_eq!(bool_ptr(Some(true)), "True");
        let (a, b) = ("1.2.3.4".to_string(), "lb.example.com".to_string());
        assert_eq!(
            load_balancer_string([(None, Some(&b)), (Some(&a), Some(&b)), (Some(&a), None)]),
            "1.2.3.4,lb.example.com"
        );
    }
}

//! LimitRanges: the defaults they give containers and the bounds they put
//! on containers, pods and claims — upstream's `LimitRanger` admission
//! plugin (`plugin/pkg/admission/limitranger`), as pure functions.
//!
//! On pod creation the server calls [`default_pod`] for each LimitRange of
//! the namespace (after the pod's own defaults, before its validation),
//! then [`validate_pod`]; on claim creation [`validate_claim`]. Errors read
//! as upstream's (`maximum cpu usage per Container is 500m, but limit is
//! 1`), several joined as Go's error aggregates are.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as api;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as ApiQuantity;

use crate::quantity::Quantity;
use crate::quota::{Amount, ResourceList, parse_list, pod_resources};

/// The annotation saying which defaults a pod was given.
pub const ANNOTATION: &str = "kubernetes.io/limit-ranger";

/// Whether a LimitRange says anything about pods (Container or Pod items).
pub fn applies_to_pods(range: &api::LimitRange) -> bool {
    items(range).any(|i| i.type_ == "Container" || i.type_ == "Pod")
}

/// Whether a LimitRange bounds claims.
pub fn applies_to_claims(range: &api::LimitRange) -> bool {
    items(range).any(|i| i.type_ == "PersistentVolumeClaim")
}

fn items(range: &api::LimitRange) -> impl Iterator<Item = &api::LimitRangeItem> {
    range.spec.iter().flat_map(|s| s.limits.iter())
}

/// Give every container (and init container) the range's Container
/// defaults for the requests and limits it does not set, and say so in
/// the [`ANNOTATION`]. Returns whether the pod changed.
pub fn default_pod(range: &api::LimitRange, pod: &mut api::Pod) -> bool {
    let mut requests: BTreeMap<String, ApiQuantity> = BTreeMap::new();
    let mut limits: BTreeMap<String, ApiQuantity> = BTreeMap::new();
    for item in items(range).filter(|i| i.type_ == "Container") {
        requests.extend(item.default_request.clone().unwrap_or_default());
        limits.extend(item.default.clone().unwrap_or_default());
    }
    if requests.is_empty() && limits.is_empty() {
        return false;
    }
    let Some(spec) = pod.spec.as_mut() else {
        return false;
    };
    let mut notes = Vec::new();
    let regular = spec.containers.iter_mut().map(|c| (c, "container"));
    let init = spec
        .init_containers
        .iter_mut()
        .flatten()
        .map(|c| (c, "init container"));
    for (c, what) in regular.chain(init) {
        let res = c.resources.get_or_insert_with(Default::default);
        let fill = |have: &mut Option<BTreeMap<String, ApiQuantity>>,
                    defaults: &BTreeMap<String, ApiQuantity>| {
            let mut set = Vec::new();
            for (k, v) in defaults {
                let have = have.get_or_insert_with(Default::default);
                if !have.contains_key(k) {
                    have.insert(k.clone(), v.clone());
                    set.push(k.clone());
                }
            }
            set
        };
        let set_requests = fill(&mut res.requests, &requests);
        let set_limits = fill(&mut res.limits, &limits);
        if res.requests.as_ref().is_some_and(BTreeMap::is_empty) {
            res.requests = None;
        }
        if res.limits.as_ref().is_some_and(BTreeMap::is_empty) {
            res.limits = None;
        }
        if !set_requests.is_empty() {
            notes.push(format!(
                "{} request for {what} {}",
                set_requests.join(", "),
                c.name
            ));
        }
        if !set_limits.is_empty() {
            notes.push(format!(
                "{} limit for {what} {}",
                set_limits.join(", "),
                c.name
            ));
        }
    }
    if notes.is_empty() {
        return false;
    }
    pod.metadata
        .annotations
        .get_or_insert_with(Default::default)
        .insert(
            ANNOTATION.into(),
            format!("LimitRanger plugin set: {}", notes.join("; ")),
        );
    true
}

/// The largest value quantities may have to be compared in milli-units
/// (Go's `resource.MaxMilliValue`).
const MAX_MILLI_VALUE: i64 = i64::MAX / 1000;

/// Request, limit and bound at one precision: milli-units unless one of
/// them is too large for it (upstream's `requestLimitEnforcedValues`).
fn comparable(request: Quantity, limit: Quantity, bound: Quantity) -> (i64, i64, i64) {
    if [request, limit, bound]
        .iter()
        .all(|q| q.value() <= MAX_MILLI_VALUE)
    {
        (request.millis(), limit.millis(), bound.millis())
    } else {
        (request.value(), limit.value(), bound.value())
    }
}

fn zero() -> Quantity {
    Quantity::default()
}

fn min_constraint(
    kind: &str,
    resource: &str,
    bound: &Amount,
    requests: &ResourceList,
    limits: &ResourceList,
) -> Option<String> {
    let req = requests.get(resource);
    let lim = limits.get(resource);
    let (r, l, b) = comparable(
        req.map_or(zero(), |a| a.value),
        lim.map_or(zero(), |a| a.value),
        bound.value,
    );
    let Some(req) = req else {
        return Some(format!(
            "minimum {resource} usage per {kind} is {bound}.  No request is specified"
        ));
    };
    if r < b {
        return Some(format!(
            "minimum {resource} usage per {kind} is {bound}, but request is {req}"
        ));
    }
    if let Some(lim) = lim
        && l < b
    {
        return Some(format!(
            "minimum {resource} usage per {kind} is {bound}, but limit is {lim}"
        ));
    }
    None
}

fn max_constraint(
    kind: &str,
    resource: &str,
    bound: &Amount,
    requests: &ResourceList,
    limits: &ResourceList,
) -> Option<String> {
    let req = requests.get(resource);
    let lim = limits.get(resource);
    let (r, l, b) = comparable(
        req.map_or(zero(), |a| a.value),
        lim.map_or(zero(), |a| a.value),
        bound.value,
    );
    let Some(lim) = lim else {
        return Some(format!(
            "maximum {resource} usage per {kind} is {bound}.  No limit is specified"
        ));
    };
    if l > b {
        return Some(format!(
            "maximum {resource} usage per {kind} is {bound}, but limit is {lim}"
        ));
    }
    if let Some(req) = req
        && r > b
    {
        return Some(format!(
            "maximum {resource} usage per {kind} is {bound}, but request is {req}"
        ));
    }
    None
}

/// The maximum of what is requested, for kinds without limits (claims).
fn max_request_constraint(
    kind: &str,
    resource: &str,
    bound: &Amount,
    requests: &ResourceList,
) -> Option<String> {
    let req = requests.get(resource);
    let (r, _, b) = comparable(req.map_or(zero(), |a| a.value), zero(), bound.value);
    let Some(req) = req else {
        return Some(format!(
            "maximum {resource} usage per {kind} is {bound}.  No request is specified"
        ));
    };
    (r > b).then(|| format!("maximum {resource} usage per {kind} is {bound}, but request is {req}"))
}

fn ratio_constraint(
    kind: &str,
    resource: &str,
    bound: &Amount,
    requests: &ResourceList,
    limits: &ResourceList,
) -> Option<String> {
    let req = requests.get(resource);
    let lim = limits.get(resource);
    let (r, l, _) = comparable(
        req.map_or(zero(), |a| a.value),
        lim.map_or(zero(), |a| a.value),
        bound.value,
    );
    if req.is_none() || r == 0 {
        return Some(format!(
            "{resource} max limit to request ratio per {kind} is {bound}, but no request is specified or request is 0"
        ));
    }
    if lim.is_none() || l == 0 {
        return Some(format!(
            "{resource} max limit to request ratio per {kind} is {bound}, but no limit is specified or limit is 0"
        ));
    }
    let observed = l as f64 / r as f64;
    let (scaled, max) = if bound.value.value() <= MAX_MILLI_VALUE {
        (observed * 1000.0, bound.value.millis() as f64)
    } else {
        (observed, bound.value.value() as f64)
    };
    (scaled > max).then(|| {
        format!(
            "{resource} max limit to request ratio per {kind} is {bound}, but provided ratio is {observed:.6}"
        )
    })
}

/// Check one set of requests and limits against an item's min, max and
/// maxLimitRequestRatio.
fn check(
    item: &api::LimitRangeItem,
    kind: &str,
    requests: &ResourceList,
    limits: &ResourceList,
    errs: &mut Vec<String>,
) {
    for (k, v) in parse_list(item.min.as_ref()) {
        errs.extend(min_constraint(kind, &k, &v, requests, limits));
    }
    for (k, v) in parse_list(item.max.as_ref()) {
        errs.extend(max_constraint(kind, &k, &v, requests, limits));
    }
    for (k, v) in parse_list(item.max_limit_request_ratio.as_ref()) {
        errs.extend(ratio_constraint(kind, &k, &v, requests, limits));
    }
}

/// Go's error aggregate: one message as is, several (duplicates dropped)
/// as `[a, b]`.
fn aggregate(errs: Vec<String>) -> Result<(), String> {
    let mut unique: Vec<String> = Vec::new();
    for e in errs {
        if !unique.contains(&e) {
            unique.push(e);
        }
    }
    match unique.len() {
        0 => Ok(()),
        1 => Err(unique.remove(0)),
        _ => Err(format!("[{}]", unique.join(", "))),
    }
}

/// Check a pod against the range's Container items (each container and
/// init container) and Pod items (the pod's total requests and limits).
pub fn validate_pod(range: &api::LimitRange, pod: &api::Pod) -> Result<(), String> {
    let mut errs = Vec::new();
    let spec = pod.spec.as_ref();
    for item in items(range) {
        match item.type_.as_str() {
            "Container" => {
                let containers = spec
                    .map(|s| s.containers.iter())
                    .into_iter()
                    .flatten()
                    .chain(
                        spec.and_then(|s| s.init_containers.as_ref())
                            .into_iter()
                            .flatten(),
                    );
                for c in containers {
                    let res = c.resources.as_ref();
                    let requests = parse_list(res.and_then(|r| r.requests.as_ref()));
                    let limits = parse_list(res.and_then(|r| r.limits.as_ref()));
                    check(item, "Container", &requests, &limits, &mut errs);
                }
            }
            "Pod" => {
                let requests = pod_resources(pod, false, false);
                let limits = pod_resources(pod, true, false);
                check(item, "Pod", &requests, &limits, &mut errs);
            }
            _ => {}
        }
    }
    aggregate(errs)
}

/// Check a claim's storage request against the range's
/// PersistentVolumeClaim items (claims are never defaulted).
pub fn validate_claim(
    range: &api::LimitRange,
    pvc: &api::PersistentVolumeClaim,
) -> Result<(), String> {
    let requests = parse_list(
        pvc.spec
            .as_ref()
            .and_then(|s| s.resources.as_ref())
            .and_then(|r| r.requests.as_ref()),
    );
    let mut errs = Vec::new();
    for item in items(range).filter(|i| i.type_ == "PersistentVolumeClaim") {
        for (k, v) in parse_list(item.min.as_ref()) {
            errs.extend(min_constraint(
                "PersistentVolumeClaim",
                &k,
                &v,
                &requests,
                &ResourceList::new(),
            ));
        }
        for (k, v) in parse_list(item.max.as_ref()) {
            errs.extend(max_request_constraint(
                "PersistentVolumeClaim",
                &k,
                &v,
                &requests,
            ));
        }
    }
    aggregate(errs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(pairs: &[(&str, &str)]) -> Option<BTreeMap<String, ApiQuantity>> {
        (!pairs.is_empty()).then(|| {
            pairs
                .iter()
                .map(|(k, v)| ((*k).into(), ApiQuantity((*v).into())))
                .collect()
        })
    }

    fn item(type_: &str) -> api::LimitRangeItem {
        api::LimitRangeItem {
            type_: type_.into(),
            ..Default::default()
        }
    }

    fn range(items: Vec<api::LimitRangeItem>) -> api::LimitRange {
        api::LimitRange {
            spec: Some(api::LimitRangeSpec { limits: items }),
            ..Default::default()
        }
    }

    fn container(name: &str, requests: &[(&str, &str)], limits: &[(&str, &str)]) -> api::Container {
        api::Container {
            name: name.into(),
            resources: Some(api::ResourceRequirements {
                requests: list(requests),
                limits: list(limits),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn pod(containers: Vec<api::Container>) -> api::Pod {
        api::Pod {
            spec: Some(api::PodSpec {
                containers,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn defaults_fill_what_is_missing_and_annotate() {
        let mut defaults = item("Container");
        defaults.default = list(&[("cpu", "500m"), ("memory", "256Mi")]);
        defaults.default_request = list(&[("cpu", "100m"), ("memory", "128Mi")]);
        let lr = range(vec![defaults]);
        let mut p = pod(vec![
            container("bare", &[], &[]),
            container("partial", &[("cpu", "200m")], &[("memory", "1Gi")]),
        ]);
        assert!(default_pod(&lr, &mut p));
        let spec = p.spec.as_ref().unwrap();
        let res = |i: usize| spec.containers[i].resources.clone().unwrap();
        assert_eq!(
            res(0).requests,
            list(&[("cpu", "100m"), ("memory", "128Mi")])
        );
        assert_eq!(res(0).limits, list(&[("cpu", "500m"), ("memory", "256Mi")]));
        assert_eq!(
            res(1).requests,
            list(&[("cpu", "200m"), ("memory", "128Mi")])
        );
        assert_eq!(res(1).limits, list(&[("cpu", "500m"), ("memory", "1Gi")]));
        assert_eq!(
            p.metadata.annotations.unwrap()[ANNOTATION],
            "LimitRanger plugin set: cpu, memory request for container bare; cpu, memory limit for container bare; memory request for container partial; cpu limit for container partial"
        );
        // A pod that already says everything is left alone.
        let mut full = pod(vec![container(
            "c",
            &[("cpu", "1"), ("memory", "1Gi")],
            &[("cpu", "1"), ("memory", "1Gi")],
        )]);
        assert!(!default_pod(&lr, &mut full));
        assert!(full.metadata.annotations.is_none());
    }

    #[test]
    fn container_bounds_read_as_upstream() {
        let mut bounds = item("Container");
        bounds.max = list(&[("cpu", "500m")]);
        bounds.min = list(&[("memory", "64Mi")]);
        let lr = range(vec![bounds]);
        let over = pod(vec![container(
            "c",
            &[("cpu", "1"), ("memory", "128Mi")],
            &[("cpu", "1")],
        )]);
        assert_eq!(
            validate_pod(&lr, &over),
            Err("maximum cpu usage per Container is 500m, but limit is 1".into())
        );
        let both = pod(vec![container("c", &[("memory", "32Mi")], &[])]);
        assert_eq!(
            validate_pod(&lr, &both),
            Err("[minimum memory usage per Container is 64Mi, but request is 32Mi, maximum cpu usage per Container is 500m.  No limit is specified]".into())
        );
        let fits = pod(vec![container(
            "c",
            &[("cpu", "250m"), ("memory", "64Mi")],
            &[("cpu", "500m")],
        )]);
        assert_eq!(validate_pod(&lr, &fits), Ok(()));
    }

    #[test]
    fn ratio_and_pod_totals() {
        let mut ratio = item("Container");
        ratio.max_limit_request_ratio = list(&[("cpu", "2")]);
        let mut total = item("Pod");
        total.max = list(&[("memory", "1Gi")]);
        let lr = range(vec![ratio, total]);
        let p = pod(vec![
            container(
                "a",
                &[("cpu", "100m"), ("memory", "512Mi")],
                &[("cpu", "400m"), ("memory", "768Mi")],
            ),
            container(
                "b",
                &[("cpu", "100m")],
                &[("cpu", "200m"), ("memory", "512Mi")],
            ),
        ]);
        assert_eq!(
            validate_pod(&lr, &p),
            Err("[cpu max limit to request ratio per Container is 2, but provided ratio is 4.000000, maximum memory usage per Pod is 1Gi, but limit is 1280Mi]".into())
        );
    }

    #[test]
    fn claims_are_bounded_by_their_request() {
        let mut storage = item("PersistentVolumeClaim");
        storage.min = list(&[("storage", "1Gi")]);
        storage.max = list(&[("storage", "2Gi")]);
        let lr = range(vec![storage]);
        let claim = |size: &str| api::PersistentVolumeClaim {
            spec: Some(api::PersistentVolumeClaimSpec {
                resources: Some(api::VolumeResourceRequirements {
                    requests: list(&[("storage", size)]),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(
            validate_claim(&lr, &claim("5Gi")),
            Err(
                "maximum storage usage per PersistentVolumeClaim is 2Gi, but request is 5Gi".into()
            )
        );
        assert_eq!(
            validate_claim(&lr, &claim("500Mi")),
            Err(
                "minimum storage usage per PersistentVolumeClaim is 1Gi, but request is 500Mi"
                    .into()
            )
        );
        assert_eq!(validate_claim(&lr, &claim("1536Mi")), Ok(()));
        assert!(applies_to_claims(&lr) && !applies_to_pods(&lr));
    }
}

//! Resource quotas: what an object counts against a quota, whether a new
//! object fits, and what a quota's status says given the objects present —
//! upstream's quota evaluators (`k8s.io/apiserver/pkg/quota/v1` and
//! `pkg/quota/v1/evaluator/core`).
//!
//! - [`Evaluator`]: one per kind of object (pods, services, claims, and a
//!   generic object count for everything else, `count/<resource>.<group>`):
//!   the quota resource names it answers for, its usage, scopes, and the
//!   requests a pod must state when a quota tracks cpu or memory.
//! - [`charge`]: the ResourceQuota admission of a new object — the quotas it
//!   matches, the message when one would be exceeded, the new `status.used`.
//! - [`Evaluator::usage_of`] and [`recalculated_status`]: the resourcequota
//!   controller's recount.
//!
//! Amounts keep the format they were written in, as Go's `Quantity.Add`
//! does, so sums print as upstream prints them (`1536Mi`, `1500m`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use k8s_openapi::api::core::v1 as api;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as ApiQuantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::jiff::{SignedDuration, Timestamp};

use crate::labels::Requirement;
use crate::quantity::{Format, Quantity};

/// An amount of a resource, with the format upstream writes it back in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Amount {
    /// The value.
    pub value: Quantity,
    /// How it prints.
    pub format: Format,
}

impl Amount {
    /// A count (`pods: 1`).
    pub fn count(n: i64) -> Amount {
        Amount {
            value: Quantity::from_units(n),
            format: Format::DecimalSI,
        }
    }

    /// Parse a quantity string (`None` if malformed).
    pub fn parse(s: &str) -> Option<Amount> {
        Some(Amount {
            value: Quantity::parse(s).ok()?,
            format: Format::of(s),
        })
    }

    /// The sum, formatted as `self` unless `self` is zero (Go's
    /// `Quantity.Add`).
    pub fn plus(self, other: Amount) -> Amount {
        Amount {
            value: self.value + other.value,
            format: if self.value.is_zero() {
                other.format
            } else {
                self.format
            },
        }
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value.to_canonical(self.format))
    }
}

/// Resource name → amount.
pub type ResourceList = BTreeMap<String, Amount>;

/// Read an API resource list (malformed quantities are skipped: stored
/// objects were validated).
pub fn parse_list(list: Option<&BTreeMap<String, ApiQuantity>>) -> ResourceList {
    list.into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.clone(), Amount::parse(&v.0)?)))
        .collect()
}

/// Write a resource list as the API holds it.
pub fn api_list(list: &ResourceList) -> BTreeMap<String, ApiQuantity> {
    list.iter()
        .map(|(k, v)| (k.clone(), ApiQuantity(v.to_string())))
        .collect()
}

/// `a + b`, key by key (keys of either).
pub fn add(a: &ResourceList, b: &ResourceList) -> ResourceList {
    let mut out = a.clone();
    add_into(&mut out, b);
    out
}

fn add_into(list: &mut ResourceList, other: &ResourceList) {
    for (k, v) in other {
        match list.get_mut(k) {
            Some(have) => *have = have.plus(*v),
            None => {
                list.insert(k.clone(), *v);
            }
        }
    }
}

/// Set every resource of `other` to the larger of the two.
fn max_into(list: &mut ResourceList, other: &ResourceList) {
    for (k, v) in other {
        match list.get(k) {
            Some(have) if v.value <= have.value => {}
            _ => {
                list.insert(k.clone(), *v);
            }
        }
    }
}

/// Only the resources named in `names`.
pub fn mask(list: &ResourceList, names: &BTreeSet<String>) -> ResourceList {
    list.iter()
        .filter(|(k, _)| names.contains(*k))
        .map(|(k, v)| (k.clone(), *v))
        .collect()
}

/// Same resources with equal values (formats aside).
pub fn equals(a: &ResourceList, b: &ResourceList) -> bool {
    a.len() == b.len()
        && a.iter()
            .all(|(k, v)| b.get(k).is_some_and(|w| w.value == v.value))
}

/// `name=value,...` in name order, as upstream's quota errors print lists.
pub fn pretty(list: &ResourceList) -> String {
    list.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn pretty_names(names: &BTreeSet<String>) -> String {
    names.iter().cloned().collect::<Vec<_>>().join(",")
}

/// The resources of `usage` above their value in `hard`.
fn exceeded(usage: &ResourceList, hard: &ResourceList) -> BTreeSet<String> {
    hard.iter()
        .filter(|(k, h)| usage.get(*k).is_some_and(|u| u.value > h.value))
        .map(|(k, _)| k.clone())
        .collect()
}

const REQUESTS_PREFIX: &str = "requests.";
const HUGEPAGES_PREFIX: &str = "hugepages-";
const STORAGE_CLASS_SUFFIX: &str = ".storageclass.storage.k8s.io/";

/// The quota resources of pods beyond prefixed and extended ones.
const POD_RESOURCES: &[&str] = &[
    "count/pods",
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
];

/// The quota resources a pod must state per container when a quota tracks
/// them (a mistake upstream keeps for compatibility).
const POD_REQUIRED: &[&str] = &[
    "cpu",
    "memory",
    "requests.cpu",
    "requests.memory",
    "limits.cpu",
    "limits.memory",
];

const SERVICE_RESOURCES: &[&str] = &[
    "count/services",
    "services",
    "services.nodeports",
    "services.loadbalancers",
];

const CLAIM_RESOURCES: &[&str] = &["persistentvolumeclaims", "requests.storage"];

/// Core kinds whose object counts also have a legacy name.
const LEGACY_COUNTS: &[&str] = &[
    "configmaps",
    "resourcequotas",
    "replicationcontrollers",
    "secrets",
];

/// The object-count resource name of a group-resource:
/// `count/pods`, `count/deployments.apps`.
pub fn count_name(group: &str, resource: &str) -> String {
    if group.is_empty() {
        format!("count/{resource}")
    } else {
        format!("count/{resource}.{group}")
    }
}

/// Whether a resource name is one of Kubernetes' own (no domain, or a
/// `kubernetes.io/` one).
fn is_native_resource(name: &str) -> bool {
    !name.contains('/') || name.contains("kubernetes.io/")
}

/// Whether a container resource is an extended resource (`example.com/gpu`).
fn is_extended_resource(name: &str) -> bool {
    !is_native_resource(name) && !name.starts_with(REQUESTS_PREFIX)
}

/// A kind of object quota counts, and how.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Evaluator {
    /// Pods: compute resources and counts, with scopes.
    Pods,
    /// Services: counts, node ports and load balancers.
    Services,
    /// PersistentVolumeClaims: counts and storage, also per storage class.
    Claims,
    /// Any other kind: its object count (and a legacy name for a few core
    /// kinds).
    Objects {
        /// The API group ("" for core).
        group: String,
        /// The plural resource name.
        resource: String,
    },
}

/// An object as an evaluator reads it.
#[derive(Clone, Copy, Debug)]
pub enum Object<'a> {
    /// A pod.
    Pod(&'a api::Pod),
    /// A service.
    Service(&'a api::Service),
    /// A claim.
    Claim(&'a api::PersistentVolumeClaim),
    /// Anything else (only counted).
    Other,
}

impl Evaluator {
    /// The evaluator of a group-resource; `None` for kinds quota ignores
    /// (core events, as upstream).
    pub fn for_resource(group: &str, resource: &str) -> Option<Evaluator> {
        Some(match (group, resource) {
            ("", "events") => return None,
            ("", "pods") => Evaluator::Pods,
            ("", "services") => Evaluator::Services,
            ("", "persistentvolumeclaims") => Evaluator::Claims,
            _ => Evaluator::Objects {
                group: group.to_owned(),
                resource: resource.to_owned(),
            },
        })
    }

    /// The evaluators that answer for some of `names` (a quota's hard
    /// resources): what the resourcequota controller must count.
    pub fn for_names<'n>(names: impl IntoIterator<Item = &'n String>) -> Vec<Evaluator> {
        let names: Vec<&String> = names.into_iter().collect();
        let mut out = BTreeSet::new();
        for fixed in [Evaluator::Pods, Evaluator::Services, Evaluator::Claims] {
            if !fixed.matching_resources(names.iter().copied()).is_empty() {
                out.insert(fixed);
            }
        }
        for name in names {
            let (group, resource) = if let Some(rest) = name.strip_prefix("count/") {
                match rest.split_once('.') {
                    Some((resource, group)) => (group, resource),
                    None => ("", rest),
                }
            } else if LEGACY_COUNTS.contains(&name.as_str()) {
                ("", name.as_str())
            } else {
                continue;
            };
            if resource.is_empty() {
                continue;
            }
            if let Some(e @ Evaluator::Objects { .. }) = Evaluator::for_resource(group, resource) {
                out.insert(e);
            }
        }
        out.into_iter().collect()
    }

    /// The group and resource evaluated.
    pub fn group_resource(&self) -> (&str, &str) {
        match self {
            Evaluator::Pods => ("", "pods"),
            Evaluator::Services => ("", "services"),
            Evaluator::Claims => ("", "persistentvolumeclaims"),
            Evaluator::Objects { group, resource } => (group, resource),
        }
    }

    fn legacy_name(&self) -> Option<&str> {
        match self {
            Evaluator::Objects { group, resource }
                if group.is_empty() && LEGACY_COUNTS.contains(&resource.as_str()) =>
            {
                Some(resource)
            }
            _ => None,
        }
    }

    /// The names among `names` this evaluator answers for.
    pub fn matching_resources<'n>(
        &self,
        names: impl IntoIterator<Item = &'n String>,
    ) -> BTreeSet<String> {
        let (group, resource) = self.group_resource();
        let count = count_name(group, resource);
        names
            .into_iter()
            .filter(|name| {
                let name = name.as_str();
                match self {
                    Evaluator::Pods => {
                        POD_RESOURCES.contains(&name)
                            || name.starts_with(HUGEPAGES_PREFIX)
                            || name.starts_with("requests.hugepages-")
                            || (!is_native_resource(name) && name.starts_with(REQUESTS_PREFIX))
                    }
                    Evaluator::Services => SERVICE_RESOURCES.contains(&name),
                    Evaluator::Claims => {
                        name == count
                            || CLAIM_RESOURCES.contains(&name)
                            || CLAIM_RESOURCES
                                .iter()
                                .any(|r| name.ends_with(&format!("{STORAGE_CLASS_SUFFIX}{r}")))
                    }
                    Evaluator::Objects { .. } => name == count || self.legacy_name() == Some(name),
                }
            })
            .cloned()
            .collect()
    }

    /// Whether an object is in one scope of a quota. Only pods have
    /// scopes; every other kind is outside all of them.
    fn matches_scope(
        &self,
        selector: &api::ScopedResourceSelectorRequirement,
        obj: &Object,
    ) -> bool {
        match (self, obj) {
            (Evaluator::Pods, Object::Pod(pod)) => pod_matches_scope(selector, pod),
            _ => false,
        }
    }

    /// Whether the object is in every scope of the quota.
    fn matches_scopes(&self, quota: &api::ResourceQuota, obj: &Object) -> bool {
        scope_selectors(quota)
            .iter()
            .all(|s| self.matches_scope(s, obj))
    }

    /// Whether the quota applies to the object: it tracks a resource of
    /// this evaluator (in `status.hard`) and the object is in its scopes.
    pub fn matches(&self, quota: &api::ResourceQuota, obj: &Object) -> bool {
        let hard = quota.status.as_ref().and_then(|s| s.hard.as_ref());
        !self
            .matching_resources(hard.into_iter().flat_map(|h| h.keys()))
            .is_empty()
            && self.matches_scopes(quota, obj)
    }

    /// What the object counts.
    pub fn usage(&self, obj: &Object, now: Timestamp) -> ResourceList {
        match (self, obj) {
            (Evaluator::Pods, Object::Pod(pod)) => pod_usage(pod, now),
            (Evaluator::Services, Object::Service(svc)) => service_usage(svc),
            (Evaluator::Claims, Object::Claim(pvc)) => claim_usage(pvc),
            _ => {
                let (group, resource) = self.group_resource();
                let mut out = ResourceList::new();
                out.insert(count_name(group, resource), Amount::count(1));
                if let Some(legacy) = self.legacy_name() {
                    out.insert(legacy.to_owned(), Amount::count(1));
                }
                out
            }
        }
    }

    /// Check that the object states what the quota's resources `required`
    /// need: a pod's containers must each request (and limit) cpu and
    /// memory when a quota tracks them. The error reads as upstream's.
    pub fn constraints(&self, required: &BTreeSet<String>, obj: &Object) -> Result<(), String> {
        let (Evaluator::Pods, Object::Pod(pod)) = (self, obj) else {
            return Ok(());
        };
        let required: BTreeSet<&str> = required
            .iter()
            .map(String::as_str)
            .filter(|r| POD_REQUIRED.contains(r))
            .collect();
        if required.is_empty() {
            return Ok(());
        }
        let mut missing: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        let spec = pod.spec.as_ref();
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
            let usage = compute_usage(&container_list(c, false), &container_list(c, true));
            for r in &required {
                if !usage.contains_key(*r) {
                    missing.entry(r).or_default().insert(c.name.clone());
                }
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        let parts: Vec<String> = missing
            .iter()
            .map(|(r, names)| {
                format!(
                    "{r} for: {}",
                    names.iter().cloned().collect::<Vec<_>>().join(",")
                )
            })
            .collect();
        Err(format!("must specify {}", parts.join("; ")))
    }

    /// The usage of `objects` (every object of this evaluator's kind in the
    /// quota's namespace) for `resources`, counting only objects in the
    /// quota's scopes (upstream's `CalculateUsageStats`): every resource is
    /// present, zero when nothing counts.
    pub fn usage_of<'a>(
        &self,
        quota: &api::ResourceQuota,
        resources: &BTreeSet<String>,
        objects: impl IntoIterator<Item = Object<'a>>,
        now: Timestamp,
    ) -> ResourceList {
        let mut used: ResourceList = resources
            .iter()
            .map(|r| (r.clone(), Amount::count(0)))
            .collect();
        for obj in objects {
            if self.matches_scopes(quota, &obj) {
                add_into(&mut used, &self.usage(&obj, now));
            }
        }
        mask(&used, resources)
    }
}

/// A quota's scopes as selector requirements: `spec.scopes` (each
/// `Exists`) then `spec.scopeSelector`.
pub fn scope_selectors(quota: &api::ResourceQuota) -> Vec<api::ScopedResourceSelectorRequirement> {
    let Some(spec) = &quota.spec else {
        return Vec::new();
    };
    let mut out: Vec<_> = spec
        .scopes
        .iter()
        .flatten()
        .map(|s| api::ScopedResourceSelectorRequirement {
            scope_name: s.clone(),
            operator: "Exists".into(),
            values: None,
        })
        .collect();
    if let Some(sel) = &spec.scope_selector {
        out.extend(sel.match_expressions.iter().flatten().cloned());
    }
    out
}

fn pod_matches_scope(selector: &api::ScopedResourceSelectorRequirement, pod: &api::Pod) -> bool {
    let spec = pod.spec.as_ref();
    match selector.scope_name.as_str() {
        "Terminating" => is_terminating(pod),
        "NotTerminating" => !is_terminating(pod),
        "BestEffort" => is_best_effort(pod),
        "NotBestEffort" => !is_best_effort(pod),
        "PriorityClass" => {
            let class = spec
                .and_then(|s| s.priority_class_name.as_deref())
                .unwrap_or("");
            let key = "PriorityClass".to_owned();
            let values = selector.values.clone().unwrap_or_default();
            let requirement = match selector.operator.as_str() {
                "Exists" => return !class.is_empty(),
                "In" => Requirement::In(key, values),
                "NotIn" => Requirement::NotIn(key, values),
                "DoesNotExist" => Requirement::DoesNotExist(key),
                _ => return false,
            };
            let mut labels = BTreeMap::new();
            if !class.is_empty() {
                labels.insert("PriorityClass".to_owned(), class.to_owned());
            }
            requirement.matches(&labels)
        }
        "CrossNamespacePodAffinity" => uses_cross_namespace_affinity(pod),
        _ => false,
    }
}

fn is_terminating(pod: &api::Pod) -> bool {
    pod.spec
        .as_ref()
        .and_then(|s| s.active_deadline_seconds)
        .is_some_and(|d| d >= 0)
}

fn is_best_effort(pod: &api::Pod) -> bool {
    pod.spec
        .as_ref()
        .is_none_or(|s| crate::kinds::core::qos_class(s) == "BestEffort")
}

fn uses_cross_namespace_affinity(pod: &api::Pod) -> bool {
    let Some(affinity) = pod.spec.as_ref().and_then(|s| s.affinity.as_ref()) else {
        return false;
    };
    let cross = |t: &api::PodAffinityTerm| {
        t.namespaces.as_ref().is_some_and(|n| !n.is_empty()) || t.namespace_selector.is_some()
    };
    let affinity_terms = affinity.pod_affinity.as_ref().map(|a| {
        (
            &a.required_during_scheduling_ignored_during_execution,
            &a.preferred_during_scheduling_ignored_during_execution,
        )
    });
    let anti_terms = affinity.pod_anti_affinity.as_ref().map(|a| {
        (
            &a.required_during_scheduling_ignored_during_execution,
            &a.preferred_during_scheduling_ignored_during_execution,
        )
    });
    affinity_terms
        .into_iter()
        .chain(anti_terms)
        .any(|(required, preferred)| {
            required.iter().flatten().any(cross)
                || preferred
                    .iter()
                    .flatten()
                    .any(|w| cross(&w.pod_affinity_term))
        })
}

/// Whether a pod still counts against quota (upstream's `QuotaV1Pod`):
/// not once it finished, nor once it has been terminating for twice its
/// grace period (a lost node must not hold quota forever).
pub fn pod_counts(pod: &api::Pod, now: Timestamp) -> bool {
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    pod_counts_by(&pod.metadata, phase, now)
}

/// [`pod_counts`] from a pod's metadata and phase.
pub fn pod_counts_by(meta: &ObjectMeta, phase: Option<&str>, now: Timestamp) -> bool {
    if matches!(phase, Some("Succeeded" | "Failed")) {
        return false;
    }
    if let (Some(deleted), Some(grace)) =
        (&meta.deletion_timestamp, meta.deletion_grace_period_seconds)
        && now > deleted.0 + SignedDuration::from_secs(grace)
    {
        return false;
    }
    true
}

fn container_list(c: &api::Container, limits: bool) -> ResourceList {
    let res = c.resources.as_ref();
    let list = if limits {
        res.and_then(|r| r.limits.as_ref())
    } else {
        res.and_then(|r| r.requests.as_ref())
    };
    parse_list(list)
}

/// A pod's requests (`limits` false) or limits, as component-helpers'
/// `PodRequests` / `PodLimits` add them up: containers summed, the largest
/// init container (counting the sidecars started before it) if larger,
/// sidecars summed with the containers; the pod overhead added when
/// `overhead` (to limits only where a limit is set).
pub fn pod_resources(pod: &api::Pod, limits: bool, overhead: bool) -> ResourceList {
    let mut total = ResourceList::new();
    let Some(spec) = &pod.spec else {
        return total;
    };
    for c in &spec.containers {
        add_into(&mut total, &container_list(c, limits));
    }
    let mut sidecars = ResourceList::new();
    let mut init_max = ResourceList::new();
    for c in spec.init_containers.iter().flatten() {
        let own = container_list(c, limits);
        let during = if c.restart_policy.as_deref() == Some("Always") {
            add_into(&mut total, &own);
            add_into(&mut sidecars, &own);
            sidecars.clone()
        } else {
            add(&own, &sidecars)
        };
        max_into(&mut init_max, &during);
    }
    max_into(&mut total, &init_max);
    if overhead && let Some(extra) = &spec.overhead {
        let extra = parse_list(Some(extra));
        if limits {
            for (k, v) in extra {
                if let Some(have) = total.get_mut(&k) {
                    *have = have.plus(v);
                }
            }
        } else {
            add_into(&mut total, &extra);
        }
    }
    total
}

/// The quota resources of requests and limits (upstream's
/// `podComputeUsageHelper`): a pod, and cpu, memory and ephemeral storage
/// under their plain, `requests.` and `limits.` names, hugepages and
/// extended resources.
fn compute_usage(requests: &ResourceList, limits: &ResourceList) -> ResourceList {
    let mut out = ResourceList::new();
    out.insert("pods".into(), Amount::count(1));
    for r in ["cpu", "memory", "ephemeral-storage"] {
        if let Some(v) = requests.get(r) {
            out.insert(r.into(), *v);
            out.insert(format!("{REQUESTS_PREFIX}{r}"), *v);
        }
        if let Some(v) = limits.get(r) {
            out.insert(format!("limits.{r}"), *v);
        }
    }
    for (name, v) in requests {
        if name.starts_with(HUGEPAGES_PREFIX) {
            out.insert(name.clone(), *v);
            out.insert(format!("{REQUESTS_PREFIX}{name}"), *v);
        }
        if is_extended_resource(name) {
            out.insert(format!("{REQUESTS_PREFIX}{name}"), *v);
        }
    }
    out
}

/// What a pod counts: always `count/pods`; compute resources and `pods`
/// while it [counts](pod_counts).
pub fn pod_usage(pod: &api::Pod, now: Timestamp) -> ResourceList {
    let mut out = ResourceList::new();
    out.insert("count/pods".into(), Amount::count(1));
    if !pod_counts(pod, now) {
        return out;
    }
    let requests = pod_resources(pod, false, true);
    let limits = pod_resources(pod, true, true);
    add(&out, &compute_usage(&requests, &limits))
}

/// What a service counts: itself, its node ports (NodePort and
/// LoadBalancer services), a load balancer.
pub fn service_usage(svc: &api::Service) -> ResourceList {
    let spec = svc.spec.as_ref();
    let ports = spec.and_then(|s| s.ports.as_ref());
    let n_ports = ports.map_or(0, Vec::len) as i64;
    let mut out = ResourceList::new();
    out.insert("count/services".into(), Amount::count(1));
    out.insert("services".into(), Amount::count(1));
    out.insert("services.loadbalancers".into(), Amount::count(0));
    out.insert("services.nodeports".into(), Amount::count(0));
    match spec.and_then(|s| s.type_.as_deref()) {
        Some("NodePort") => {
            out.insert("services.nodeports".into(), Amount::count(n_ports));
        }
        Some("LoadBalancer") => {
            let allocate = spec.and_then(|s| s.allocate_load_balancer_node_ports);
            let node_ports = if allocate == Some(false) {
                ports
                    .into_iter()
                    .flatten()
                    .filter(|p| p.node_port.unwrap_or(0) != 0)
                    .count() as i64
            } else {
                n_ports
            };
            out.insert("services.nodeports".into(), Amount::count(node_ports));
            out.insert("services.loadbalancers".into(), Amount::count(1));
        }
        _ => {}
    }
    out
}

/// A claim's storage class: the beta annotation, else the field.
fn claim_class(pvc: &api::PersistentVolumeClaim) -> String {
    if let Some(c) = pvc
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get("volume.beta.kubernetes.io/storage-class"))
    {
        return c.clone();
    }
    pvc.spec
        .as_ref()
        .and_then(|s| s.storage_class_name.clone())
        .unwrap_or_default()
}

/// What a claim counts: itself and its storage request (the larger of
/// request and allocation, in whole bytes), also under its storage class.
pub fn claim_usage(pvc: &api::PersistentVolumeClaim) -> ResourceList {
    let mut out = ResourceList::new();
    out.insert("persistentvolumeclaims".into(), Amount::count(1));
    out.insert("count/persistentvolumeclaims".into(), Amount::count(1));
    let class = claim_class(pvc);
    if !class.is_empty() {
        out.insert(
            format!("{class}{STORAGE_CLASS_SUFFIX}persistentvolumeclaims"),
            Amount::count(1),
        );
    }
    let whole = |a: Amount| {
        let units = a.value.value();
        if Quantity::from_units(units) == a.value {
            a
        } else {
            Amount {
                value: Quantity::from_units(units),
                format: a.format,
            }
        }
    };
    let requested = pvc
        .spec
        .as_ref()
        .and_then(|s| s.resources.as_ref())
        .and_then(|r| r.requests.as_ref())
        .and_then(|r| r.get("storage"))
        .and_then(|q| Amount::parse(&q.0))
        .map(whole);
    let allocated = pvc
        .status
        .as_ref()
        .and_then(|s| s.allocated_resources.as_ref())
        .and_then(|r| r.get("storage"))
        .and_then(|q| Amount::parse(&q.0));
    let storage = match (requested, allocated) {
        (Some(r), Some(a)) if a.value > r.value => Some(whole(a)),
        (r, _) => r,
    };
    if let Some(s) = storage {
        out.insert("requests.storage".into(), s);
        if !class.is_empty() {
            out.insert(format!("{class}{STORAGE_CLASS_SUFFIX}requests.storage"), s);
        }
    }
    out
}

/// Whether the quota's status has a usage for each of `resources` it
/// limits (before its first count by the controller it has none).
fn has_usage_stats(quota: &api::ResourceQuota, resources: &BTreeSet<String>) -> bool {
    let status = quota.status.as_ref();
    let used = status.and_then(|s| s.used.as_ref());
    status
        .and_then(|s| s.hard.as_ref())
        .into_iter()
        .flatten()
        .filter(|(k, _)| resources.contains(*k))
        .all(|(k, _)| used.is_some_and(|u| u.contains_key(k)))
}

/// Admit a new or updated object against the namespace's quotas
/// (upstream's ResourceQuota admission, `CheckRequest`): the quotas that
/// track it must have counted their usage, the object must state what
/// they require, and what it adds must fit under every quota's
/// `status.hard`. On update (`old`: the stored object), what it adds is
/// its usage less the old one's, where the old one was counted by the
/// quota, per resource and never below zero (a Service turned NodePort, a
/// claim resized up). Returns, for each quota whose usage grows, its index
/// in `quotas` and its new `status.used`; or the reason the object is
/// forbidden, worded as upstream (`exceeded quota: q, requested: pods=1,
/// used: pods=3, limited: pods=3`).
pub fn charge(
    quotas: &[api::ResourceQuota],
    evaluator: &Evaluator,
    obj: &Object,
    old: Option<&Object>,
    now: Timestamp,
) -> Result<Vec<(usize, ResourceList)>, String> {
    let mut interesting = Vec::new();
    for (i, quota) in quotas.iter().enumerate() {
        if !evaluator.matches(quota, obj) {
            continue;
        }
        let name = quota.metadata.name.as_deref().unwrap_or("");
        let hard = quota.status.as_ref().and_then(|s| s.hard.as_ref());
        let restricted = evaluator.matching_resources(hard.into_iter().flat_map(|h| h.keys()));
        evaluator
            .constraints(&restricted, obj)
            .map_err(|e| format!("failed quota: {name}: {e}"))?;
        if !has_usage_stats(quota, &restricted) {
            return Err(format!(
                "status unknown for quota: {name}, resources: {}",
                pretty_names(&restricted)
            ));
        }
        interesting.push(i);
    }
    if quotas.is_empty() {
        return Ok(Vec::new());
    }
    let usage = evaluator.usage(obj, now);
    let negative: BTreeSet<String> = usage
        .iter()
        .filter(|(_, v)| v.value.is_negative())
        .map(|(k, _)| k.clone())
        .collect();
    if !negative.is_empty() {
        return Err(format!(
            "quota usage is negative for resource(s): {}",
            pretty_names(&negative)
        ));
    }
    let added = |old_usage: Option<&ResourceList>| -> ResourceList {
        usage
            .iter()
            .filter_map(|(k, v)| {
                let before = old_usage.and_then(|o| o.get(k)).map(|o| o.value);
                let grown = match before {
                    Some(b) if v.value <= b => return None,
                    Some(b) => v.value - b,
                    None => v.value,
                };
                (!grown.is_zero()).then_some((
                    k.clone(),
                    Amount {
                        value: grown,
                        format: v.format,
                    },
                ))
            })
            .collect()
    };
    let old_usage = old.map(|o| evaluator.usage(o, now));
    let mut out = Vec::new();
    for i in interesting {
        let quota = &quotas[i];
        // The old object counted only where this quota counted it.
        let delta = added(
            old.zip(old_usage.as_ref())
                .filter(|(o, _)| evaluator.matches(quota, o))
                .map(|(_, u)| u),
        );
        if delta.is_empty() {
            continue;
        }
        let status = quota.status.as_ref();
        let hard = parse_list(status.and_then(|s| s.hard.as_ref()));
        let used = parse_list(status.and_then(|s| s.used.as_ref()));
        let hard_names: BTreeSet<String> = hard.keys().cloned().collect();
        let requested = mask(&delta, &hard_names);
        let new_used = add(&used, &requested);
        let requested_names: BTreeSet<String> = requested.keys().cloned().collect();
        let over = exceeded(&mask(&new_used, &requested_names), &hard);
        if !over.is_empty() {
            return Err(format!(
                "exceeded quota: {}, requested: {}, used: {}, limited: {}",
                quota.metadata.name.as_deref().unwrap_or(""),
                pretty(&mask(&requested, &over)),
                pretty(&mask(&used, &over)),
                pretty(&mask(&hard, &over)),
            ));
        }
        if !equals(&new_used, &used) {
            out.push((i, new_used));
        }
    }
    Ok(out)
}

/// The status a quota should have, given `measured`, the usage the
/// controller counted for the resources it could count (upstream's
/// `syncResourceQuota`): `hard` is `spec.hard`, `used` the measured
/// usage over the previous one, limited to the hard resources. `None` when
/// the status already says so.
pub fn recalculated_status(
    quota: &api::ResourceQuota,
    measured: &ResourceList,
) -> Option<api::ResourceQuotaStatus> {
    let spec_hard = quota
        .spec
        .as_ref()
        .and_then(|s| s.hard.clone())
        .unwrap_or_default();
    let status = quota.status.as_ref();
    let status_hard = status.and_then(|s| s.hard.as_ref());
    let status_used = status.and_then(|s| s.used.as_ref());
    let hard = parse_list(Some(&spec_hard));
    let hard_names: BTreeSet<String> = hard.keys().cloned().collect();
    let old_used = parse_list(status_used);
    let mut used = old_used.clone();
    for (k, v) in measured {
        used.insert(k.clone(), *v);
    }
    let used = mask(&used, &hard_names);
    let never_synced = !hard.is_empty() && (status_hard.is_none() || status_used.is_none());
    let dirty =
        never_synced || !equals(&hard, &parse_list(status_hard)) || !equals(&used, &old_used);
    dirty.then(|| api::ResourceQuotaStatus {
        hard: Some(spec_hard),
        used: Some(api_list(&used)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};

    fn q(s: &str) -> ApiQuantity {
        ApiQuantity(s.into())
    }

    fn list(pairs: &[(&str, &str)]) -> BTreeMap<String, ApiQuantity> {
        pairs.iter().map(|(k, v)| ((*k).into(), q(v))).collect()
    }

    fn container(name: &str, requests: &[(&str, &str)], limits: &[(&str, &str)]) -> api::Container {
        api::Container {
            name: name.into(),
            resources: Some(api::ResourceRequirements {
                requests: (!requests.is_empty()).then(|| list(requests)),
                limits: (!limits.is_empty()).then(|| list(limits)),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn pod(containers: Vec<api::Container>) -> api::Pod {
        api::Pod {
            metadata: ObjectMeta {
                name: Some("p".into()),
                ..Default::default()
            },
            spec: Some(api::PodSpec {
                containers,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn quota(
        name: &str,
        hard: &[(&str, &str)],
        used: Option<&[(&str, &str)]>,
    ) -> api::ResourceQuota {
        api::ResourceQuota {
            metadata: ObjectMeta {
                name: Some(name.into()),
                ..Default::default()
            },
            spec: Some(api::ResourceQuotaSpec {
                hard: Some(list(hard)),
                ..Default::default()
            }),
            status: Some(api::ResourceQuotaStatus {
                hard: Some(list(hard)),
                used: used.map(list),
            }),
        }
    }

    fn shown(l: &ResourceList) -> BTreeMap<String, String> {
        l.iter().map(|(k, v)| (k.clone(), v.to_string())).collect()
    }

    fn strings(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }

    #[test]
    fn sums_keep_the_first_format() {
        let a = Amount::parse("1Gi").unwrap();
        let b = Amount::parse("512Mi").unwrap();
        assert_eq!(a.plus(b).to_string(), "1536Mi");
        let zero = Amount::count(0);
        assert_eq!(
            zero.plus(a).to_string(),
            "1Gi",
            "zero takes the other format"
        );
        let m = Amount::parse("500m").unwrap();
        assert_eq!(m.plus(m).plus(m).to_string(), "1500m");
        assert_eq!(m.plus(m).to_string(), "1");
    }

    #[test]
    fn pod_usage_counts_requests_limits_and_the_pod() {
        let p = pod(vec![
            container(
                "a",
                &[("cpu", "250m"), ("memory", "64Mi")],
                &[("cpu", "500m")],
            ),
            container("b", &[("cpu", "250m"), ("example.com/gpu", "1")], &[]),
        ]);
        let now = Timestamp::now();
        assert_eq!(
            shown(&pod_usage(&p, now)),
            strings(&[
                ("count/pods", "1"),
                ("cpu", "500m"),
                ("limits.cpu", "500m"),
                ("memory", "64Mi"),
                ("pods", "1"),
                ("requests.cpu", "500m"),
                ("requests.example.com/gpu", "1"),
                ("requests.memory", "64Mi"),
            ])
        );
    }

    #[test]
    fn init_containers_and_sidecars_follow_component_helpers() {
        let mut p = pod(vec![container("app", &[("cpu", "1")], &[])]);
        let mut sidecar = container("side", &[("cpu", "200m")], &[]);
        sidecar.restart_policy = Some("Always".into());
        p.spec.as_mut().unwrap().init_containers = Some(vec![
            container("setup", &[("cpu", "2")], &[]),
            sidecar,
            container("late", &[("cpu", "500m")], &[]),
        ]);
        p.spec.as_mut().unwrap().overhead = Some(list(&[("cpu", "100m")]));
        // Containers 1 + sidecar 200m = 1200m; the largest init step is
        // setup (2) > late + sidecar (700m): max(1200m, 2) + overhead.
        let requests = pod_resources(&p, false, true);
        assert_eq!(requests["cpu"].to_string(), "2100m");
        // No limits: overhead is not added to absent limits.
        assert!(pod_resources(&p, true, true).is_empty());
    }

    #[test]
    fn finished_and_long_terminating_pods_do_not_count() {
        let now = Timestamp::now();
        let mut p = pod(vec![container("a", &[("cpu", "1")], &[])]);
        p.status = Some(api::PodStatus {
            phase: Some("Succeeded".into()),
            ..Default::default()
        });
        assert_eq!(shown(&pod_usage(&p, now)), strings(&[("count/pods", "1")]));
        p.status = None;
        p.metadata.deletion_timestamp = Some(Time(now - SignedDuration::from_secs(40)));
        p.metadata.deletion_grace_period_seconds = Some(30);
        assert!(!pod_counts(&p, now));
        p.metadata.deletion_grace_period_seconds = Some(60);
        assert!(pod_counts(&p, now));
    }

    #[test]
    fn exceeded_quota_reads_as_upstream() {
        let quotas = vec![quota("compute", &[("pods", "3")], Some(&[("pods", "3")]))];
        let p = pod(vec![container("a", &[], &[])]);
        let err = charge(
            &quotas,
            &Evaluator::Pods,
            &Object::Pod(&p),
            None,
            Timestamp::now(),
        )
        .unwrap_err();
        assert_eq!(
            err,
            "exceeded quota: compute, requested: pods=1, used: pods=3, limited: pods=3"
        );
    }

    #[test]
    fn charging_adds_the_masked_usage() {
        let quotas = vec![
            quota(
                "a",
                &[("pods", "10"), ("requests.cpu", "2")],
                Some(&[("pods", "1"), ("requests.cpu", "500m")]),
            ),
            quota("other", &[("services", "2")], Some(&[("services", "0")])),
        ];
        let p = pod(vec![container("c", &[("cpu", "700m")], &[])]);
        let charged = charge(
            &quotas,
            &Evaluator::Pods,
            &Object::Pod(&p),
            None,
            Timestamp::now(),
        )
        .unwrap();
        assert_eq!(charged.len(), 1);
        assert_eq!(charged[0].0, 0);
        assert_eq!(
            shown(&charged[0].1),
            strings(&[("pods", "2"), ("requests.cpu", "1200m")])
        );

        let big = pod(vec![container("c", &[("cpu", "1600m")], &[])]);
        let err = charge(
            &quotas,
            &Evaluator::Pods,
            &Object::Pod(&big),
            None,
            Timestamp::now(),
        )
        .unwrap_err();
        assert_eq!(
            err,
            "exceeded quota: a, requested: requests.cpu=1600m, used: requests.cpu=500m, limited: requests.cpu=2"
        );
    }

    #[test]
    fn quotas_on_cpu_require_every_container_to_state_it() {
        let quotas = vec![quota(
            "compute",
            &[
                ("limits.cpu", "4"),
                ("requests.cpu", "2"),
                ("requests.memory", "1Gi"),
            ],
            Some(&[
                ("limits.cpu", "0"),
                ("requests.cpu", "0"),
                ("requests.memory", "0"),
            ]),
        )];
        let p = pod(vec![
            container("a", &[("cpu", "1")], &[]),
            container("b", &[("cpu", "1"), ("memory", "1Mi")], &[("cpu", "1")]),
        ]);
        let err = charge(
            &quotas,
            &Evaluator::Pods,
            &Object::Pod(&p),
            None,
            Timestamp::now(),
        )
        .unwrap_err();
        assert_eq!(
            err,
            "failed quota: compute: must specify limits.cpu for: a; requests.memory for: a"
        );
    }

    #[test]
    fn a_quota_not_yet_counted_refuses() {
        let quotas = vec![quota("fresh", &[("pods", "3"), ("services", "1")], None)];
        let p = pod(vec![container("a", &[], &[])]);
        let err = charge(
            &quotas,
            &Evaluator::Pods,
            &Object::Pod(&p),
            None,
            Timestamp::now(),
        )
        .unwrap_err();
        assert_eq!(err, "status unknown for quota: fresh, resources: pods");
        // A quota without status.hard (the controller has not seen it) does
        // not apply yet.
        let mut q = quota("new", &[("pods", "1")], None);
        q.status = None;
        assert_eq!(
            charge(
                &[q],
                &Evaluator::Pods,
                &Object::Pod(&p),
                None,
                Timestamp::now()
            ),
            Ok(vec![])
        );
    }

    #[test]
    fn scopes_select_pods() {
        let mut q = quota("be", &[("pods", "1")], Some(&[("pods", "1")]));
        q.spec.as_mut().unwrap().scopes = Some(vec!["BestEffort".into()]);
        let guaranteed = pod(vec![container(
            "a",
            &[("cpu", "1"), ("memory", "1Gi")],
            &[("cpu", "1"), ("memory", "1Gi")],
        )]);
        let best_effort = pod(vec![container("a", &[], &[])]);
        let now = Timestamp::now();
        assert_eq!(
            charge(
                std::slice::from_ref(&q),
                &Evaluator::Pods,
                &Object::Pod(&guaranteed),
                None,
                now
            ),
            Ok(vec![])
        );
        assert!(
            charge(
                std::slice::from_ref(&q),
                &Evaluator::Pods,
                &Object::Pod(&best_effort),
                None,
                now
            )
            .is_err()
        );

        let mut pc = quota("high", &[("pods", "5")], Some(&[("pods", "0")]));
        pc.spec.as_mut().unwrap().scope_selector = Some(api::ScopeSelector {
            match_expressions: Some(vec![api::ScopedResourceSelectorRequirement {
                scope_name: "PriorityClass".into(),
                operator: "In".into(),
                values: Some(vec!["high".into()]),
            }]),
        });
        let mut high = pod(vec![container("a", &[], &[])]);
        high.spec.as_mut().unwrap().priority_class_name = Some("high".into());
        assert!(Evaluator::Pods.matches(&pc, &Object::Pod(&high)));
        assert!(!Evaluator::Pods.matches(&pc, &Object::Pod(&best_effort)));
        // Other kinds are outside every scope.
        let mut scoped_count = quota("s", &[("count/configmaps", "1")], Some(&[]));
        scoped_count.spec.as_mut().unwrap().scopes = Some(vec!["BestEffort".into()]);
        let cm = Evaluator::for_resource("", "configmaps").unwrap();
        assert!(!cm.matches(&scoped_count, &Object::Other));
    }

    #[test]
    fn services_and_claims_count_their_parts() {
        let svc = api::Service {
            spec: Some(api::ServiceSpec {
                type_: Some("NodePort".into()),
                ports: Some(vec![Default::default(), Default::default()]),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(
            shown(&service_usage(&svc)),
            strings(&[
                ("count/services", "1"),
                ("services", "1"),
                ("services.loadbalancers", "0"),
                ("services.nodeports", "2"),
            ])
        );
        let pvc = api::PersistentVolumeClaim {
            spec: Some(api::PersistentVolumeClaimSpec {
                storage_class_name: Some("gold".into()),
                resources: Some(api::VolumeResourceRequirements {
                    requests: Some(list(&[("storage", "1Gi")])),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(
            shown(&claim_usage(&pvc)),
            strings(&[
                ("count/persistentvolumeclaims", "1"),
                (
                    "gold.storageclass.storage.k8s.io/persistentvolumeclaims",
                    "1"
                ),
                ("gold.storageclass.storage.k8s.io/requests.storage", "1Gi"),
                ("persistentvolumeclaims", "1"),
                ("requests.storage", "1Gi"),
            ])
        );
    }

    #[test]
    fn evaluators_for_hard_names() {
        let names: Vec<String> = [
            "pods",
            "requests.cpu",
            "configmaps",
            "count/deployments.apps",
            "count/pods",
            "gold.storageclass.storage.k8s.io/requests.storage",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        let evs = Evaluator::for_names(&names);
        assert_eq!(
            evs,
            vec![
                Evaluator::Pods,
                Evaluator::Claims,
                Evaluator::Objects {
                    group: "".into(),
                    resource: "configmaps".into()
                },
                Evaluator::Objects {
                    group: "apps".into(),
                    resource: "deployments".into()
                },
            ]
        );
        let cm = Evaluator::for_resource("", "configmaps").unwrap();
        assert_eq!(
            shown(&cm.usage(&Object::Other, Timestamp::now())),
            strings(&[("configmaps", "1"), ("count/configmaps", "1")])
        );
        assert_eq!(Evaluator::for_resource("", "events"), None);
    }

    #[test]
    fn recount_sets_hard_and_used() {
        let mut q = quota("q", &[("pods", "3"), ("requests.memory", "1Gi")], None);
        q.status = None;
        let pods = [
            pod(vec![container("a", &[("memory", "256Mi")], &[])]),
            pod(vec![container("a", &[("memory", "256Mi")], &[])]),
        ];
        let hard: BTreeSet<String> = ["pods".to_owned(), "requests.memory".to_owned()].into();
        let measured =
            Evaluator::Pods.usage_of(&q, &hard, pods.iter().map(Object::Pod), Timestamp::now());
        let status = recalculated_status(&q, &measured).expect("first count writes");
        assert_eq!(
            status.used,
            Some(list(&[("pods", "2"), ("requests.memory", "512Mi")]))
        );
        assert_eq!(
            status.hard,
            Some(list(&[("pods", "3"), ("requests.memory", "1Gi")]))
        );
        q.status = Some(status);
        assert_eq!(recalculated_status(&q, &measured), None, "nothing changed");
        // Nothing counted: zero, not absent.
        let none = Evaluator::Pods.usage_of(&q, &hard, [], Timestamp::now());
        assert_eq!(
            recalculated_status(&q, &none).unwrap().used,
            Some(list(&[("pods", "0"), ("requests.memory", "0")]))
        );
    }

    #[test]
    fn updates_are_charged_what_they_add() {
        let q = quota(
            "q",
            &[("services.nodeports", "1"), ("services", "5")],
            Some(&[("services.nodeports", "1"), ("services", "2")]),
        );
        let svc = |type_: &str| -> api::Service {
            serde_json::from_value(serde_json::json!({
                "metadata": {"name": "s", "namespace": "default"},
                "spec": {"type": type_, "ports": [{"port": 80}]},
            }))
            .unwrap()
        };
        let (cluster_ip, node_port) = (svc("ClusterIP"), svc("NodePort"));
        let now = Timestamp::now();
        // ClusterIP → NodePort adds a node port: over the limit.
        let err = charge(
            std::slice::from_ref(&q),
            &Evaluator::Services,
            &Object::Service(&node_port),
            Some(&Object::Service(&cluster_ip)),
            now,
        )
        .unwrap_err();
        assert_eq!(
            err,
            "exceeded quota: q, requested: services.nodeports=1, used: services.nodeports=1, limited: services.nodeports=1"
        );
        // NodePort → ClusterIP, or no change: nothing to charge.
        for (new, old) in [(&cluster_ip, &node_port), (&node_port, &node_port)] {
            assert_eq!(
                charge(
                    std::slice::from_ref(&q),
                    &Evaluator::Services,
                    &Object::Service(new),
                    Some(&Object::Service(old)),
                    now,
                ),
                Ok(vec![])
            );
        }
    }
}

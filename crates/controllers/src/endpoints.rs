//! The Endpoints and EndpointSlice controllers (upstream's `endpoint` and
//! `endpointslice` controllers): for every Service with a selector, the
//! pods it selects become its endpoints.
//!
//! - Endpoints (core/v1, named as the Service): ready pods' IPs in
//!   `addresses`, the others in `notReadyAddresses` (every address ready
//!   with `publishNotReadyAddresses`); pods being deleted are left out; a
//!   named `targetPort` is resolved per pod from its container ports, and
//!   addresses with the same ports share a subset.
//! - EndpointSlices (discovery.k8s.io/v1, named `<service>-<random>`,
//!   owned by the Service): one endpoint per pod with its `ready`,
//!   `serving` and `terminating` conditions, node, zone and pod reference;
//!   pods with the same resolved ports share slices of at most
//!   [`MAX_ENDPOINTS_PER_SLICE`] endpoints; a Service with no endpoints
//!   keeps one empty placeholder slice.
//!
//! Services without a selector, and ExternalName Services, are left alone
//! (their Endpoints belong to the user).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use k8s_openapi::api::core::v1::{
    EndpointAddress, EndpointPort, EndpointSubset, Endpoints, ObjectReference, Service, ServicePort,
};
use k8s_openapi::api::discovery::v1::{
    Endpoint, EndpointConditions, EndpointPort as SlicePort, EndpointSlice,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::api::{DeleteParams, PostParams};
use kube::{Api, ResourceExt};
use parking_lot::Mutex;
use rkube_scheduler::labels::Selector;

use crate::informer::{Change, key_of, split_key};
use crate::pods;
use crate::slim::Pod;
use crate::writes::is_not_found;
use crate::{Cluster, Controller, Options, Requeue, WorkQueue};

/// The label naming a slice's Service.
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";
/// The label naming a slice's manager.
pub const MANAGED_BY_LABEL: &str = "endpointslice.kubernetes.io/managed-by";
/// This controller, as [`MANAGED_BY_LABEL`] names it.
pub const MANAGED_BY: &str = "endpointslice-controller.k8s.io";
/// The label of headless Services' Endpoints and slices.
pub const HEADLESS_LABEL: &str = "service.kubernetes.io/headless";
/// Endpoints list at most this many addresses (upstream's
/// `maxCapacity`); beyond it they are truncated and annotated.
pub const MAX_ENDPOINTS_CAPACITY: usize = 1000;
/// The annotation of truncated Endpoints.
pub const OVER_CAPACITY: &str = "endpoints.kubernetes.io/over-capacity";
/// Endpoints per slice, at most (upstream's default `--max-endpoints-per-slice`).
pub const MAX_ENDPOINTS_PER_SLICE: usize = 100;
/// The zone label of nodes.
const ZONE_LABEL: &str = "topology.kubernetes.io/zone";

/// The Endpoints controller; its keys are Services'.
pub fn controller(cluster: &Arc<Cluster>, options: &Options) -> Controller {
    let queue = WorkQueue::new();
    watch_services_and_pods(cluster, &queue);
    {
        // Someone deleted Endpoints we keep: write them again.
        let queue = queue.clone();
        cluster.endpoints.on_change(move |c| {
            if let Change::Deleted(ep) = c {
                queue.add(key_of(ep));
            }
        });
    }
    let resync = service_keys(cluster);
    let cluster = cluster.clone();
    Controller::new("endpoint", queue, options.workers, resync, move |key| {
        let cluster = cluster.clone();
        async move { sync_endpoints(&cluster, &key).await }
    })
}

/// The EndpointSlice controller; its keys are Services'.
pub fn slice_controller(cluster: &Arc<Cluster>, options: &Options) -> Controller {
    let queue = WorkQueue::new();
    watch_services_and_pods(cluster, &queue);
    let slices = Arc::new(Slices {
        cluster: cluster.clone(),
        written: Mutex::new(HashMap::new()),
    });
    {
        // Changes to our slices that are not our own writes (someone else
        // edited or deleted one): put them right.
        let (queue, slices) = (queue.clone(), slices.clone());
        cluster.endpoint_slices.on_change(move |c| {
            let (slice, deleted) = match c {
                Change::Applied { new, .. } => (new, false),
                Change::Deleted(old) => (old, true),
            };
            let Some(service) = managed_service_key(slice) else {
                return;
            };
            if deleted || !slices.is_own_write(slice) {
                queue.add(service);
            }
        });
    }
    {
        // A node's zone changed: its endpoints' zones change too.
        let (queue, cluster2) = (queue.clone(), cluster.clone());
        cluster.nodes.on_change(move |c| {
            if let Change::Applied {
                old: Some(old),
                new,
            } = c
            {
                let zone =
                    |n: &k8s_openapi::api::core::v1::Node| n.labels().get(ZONE_LABEL).cloned();
                if zone(old) != zone(new) {
                    for svc in cluster2.services.list() {
                        queue.add(key_of(&*svc));
                    }
                }
            }
        });
    }
    let resync = service_keys(cluster);
    Controller::new(
        "endpointslice",
        queue,
        options.workers,
        resync,
        move |key| {
            let slices = slices.clone();
            async move { slices.sync(&key).await }
        },
    )
}

fn service_keys(cluster: &Arc<Cluster>) -> impl Fn() -> Vec<String> + Send + Sync + 'static {
    let cluster = cluster.clone();
    move || {
        cluster
            .services
            .list()
            .iter()
            .map(|s| key_of(&**s))
            .collect()
    }
}

/// Queue a Service when it changes, and the Services selecting a pod when
/// the pod changes (before or after the change).
fn watch_services_and_pods(cluster: &Arc<Cluster>, queue: &WorkQueue) {
    cluster.services.enqueue(queue, |o| Some(key_of(o)));
    let (queue, cluster2) = (queue.clone(), cluster.clone());
    cluster.pods.on_change(move |c| {
        let (old, new) = match c {
            Change::Applied { old, new } => (old, new),
            Change::Deleted(old) => (None, old),
        };
        let ns = new.namespace().unwrap_or_default();
        for svc in cluster2.services.list_namespace(&ns) {
            let Some(selector) = selector_of(&svc) else {
                continue;
            };
            if selector.matches(new.labels()) || old.is_some_and(|o| selector.matches(o.labels())) {
                queue.add(key_of(&*svc));
            }
        }
    });
}

/// The Service's selector, if its endpoints are ours to keep.
fn selector_of(svc: &Service) -> Option<Selector> {
    let spec = svc.spec.as_ref()?;
    if spec.type_.as_deref() == Some("ExternalName") {
        return None;
    }
    let selector = spec.selector.as_ref().filter(|s| !s.is_empty())?;
    Some(Selector::from_set(selector))
}

/// `clusterIP: None`.
fn is_headless(svc: &Service) -> bool {
    svc.spec.as_ref().and_then(|s| s.cluster_ip.as_deref()) == Some("None")
}

fn publish_not_ready(svc: &Service) -> bool {
    svc.spec
        .as_ref()
        .and_then(|s| s.publish_not_ready_addresses)
        .unwrap_or(false)
}

fn service_ports(svc: &Service) -> &[ServicePort] {
    svc.spec
        .as_ref()
        .and_then(|s| s.ports.as_deref())
        .unwrap_or_default()
}

/// The pods a Service selects, by name (so that output is stable).
fn selected_pods(cluster: &Cluster, svc: &Service, selector: &Selector) -> Vec<Arc<Pod>> {
    let mut pods: Vec<Arc<Pod>> = cluster
        .pods
        .list_namespace(&svc.namespace().unwrap_or_default())
        .into_iter()
        .filter(|p| selector.matches(p.labels()))
        .collect();
    pods.sort_by_key(|p| p.name_any());
    pods
}

/// The pod's IPs (`podIPs`, else `podIP`).
fn pod_ips(pod: &Pod) -> Vec<String> {
    let Some(status) = pod.status.as_ref() else {
        return Vec::new();
    };
    let mut ips: Vec<String> = status
        .pod_ips
        .iter()
        .flatten()
        .map(|p| p.ip.clone())
        .filter(|ip| !ip.is_empty())
        .collect();
    if ips.is_empty()
        && let Some(ip) = status.pod_ip.clone().filter(|ip| !ip.is_empty())
    {
        ips.push(ip);
    }
    ips
}

/// Upstream's `ShouldPodBeInEndpoints`: an IP, not finished for good, and
/// not being deleted unless `include_terminating`.
fn should_be_in_endpoints(pod: &Pod, include_terminating: bool) -> bool {
    if pod_ips(pod).is_empty() {
        return false;
    }
    if !include_terminating && pod.metadata.deletion_timestamp.is_some() {
        return false;
    }
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    match pod.spec.as_ref().and_then(|s| s.restart_policy.as_deref()) {
        Some("Never") => !matches!(phase, Some("Failed" | "Succeeded")),
        Some("OnFailure") => phase != Some("Succeeded"),
        _ => true,
    }
}

/// The container port a Service port reaches on `pod` (upstream's
/// `FindPort`): a number as is, a name looked up among the containers'
/// ports of the same protocol (sidecar init containers included).
pub fn find_port(pod: &Pod, port: &ServicePort) -> Option<i32> {
    let protocol = port.protocol.as_deref().unwrap_or("TCP");
    match &port.target_port {
        None => Some(port.port),
        Some(IntOrString::Int(n)) => Some(*n),
        Some(IntOrString::String(name)) => {
            if let Ok(n) = name.parse::<i32>() {
                return Some(n);
            }
            let spec = pod.spec.as_ref()?;
            let sidecars = spec
                .init_containers
                .iter()
                .flatten()
                .filter(|c| c.restart_policy.as_deref() == Some("Always"));
            spec.containers
                .iter()
                .chain(sidecars)
                .flat_map(|c| c.ports.iter().flatten())
                .find(|p| {
                    p.name.as_deref() == Some(name.as_str())
                        && p.protocol.as_deref().unwrap_or("TCP") == protocol
                })
                .map(|p| p.container_port)
        }
    }
}

/// A reference to a pod, as endpoints carry it.
fn pod_ref(pod: &Pod) -> ObjectReference {
    ObjectReference {
        kind: Some("Pod".into()),
        namespace: pod.namespace(),
        name: Some(pod.name_any()),
        uid: pod.uid(),
        ..Default::default()
    }
}

/// The pod's hostname, when the Service is its subdomain.
fn hostname(pod: &Pod, svc: &Service) -> Option<String> {
    let spec = pod.spec.as_ref()?;
    let host = spec.hostname.as_deref().filter(|h| !h.is_empty())?;
    (spec.subdomain.as_deref() == Some(svc.name_any().as_str())
        && pod.namespace() == svc.namespace())
    .then(|| host.to_owned())
}

/// The Service's labels on its Endpoints and slices, with the headless
/// label as the Service's clusterIP says.
fn derived_labels(svc: &Service) -> BTreeMap<String, String> {
    let mut labels = svc.labels().clone();
    if is_headless(svc) {
        labels.insert(HEADLESS_LABEL.into(), String::new());
    } else {
        labels.remove(HEADLESS_LABEL);
    }
    labels
}

// ---------------------------------------------------------------------
// Endpoints

/// An address and whether it is ready, with the ports it serves.
type AddressPorts = BTreeMap<(bool, String), (EndpointAddress, BTreeSet<PortKey>)>;

/// An EndpointPort in a sortable form.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
struct PortKey {
    name: String,
    port: i32,
    protocol: String,
    app_protocol: Option<String>,
}

impl PortKey {
    fn endpoint_port(&self) -> EndpointPort {
        EndpointPort {
            name: (!self.name.is_empty()).then(|| self.name.clone()),
            port: self.port,
            protocol: Some(self.protocol.clone()),
            app_protocol: self.app_protocol.clone(),
        }
    }
}

/// The subsets of a Service's Endpoints.
fn desired_subsets(svc: &Service, pods: &[Arc<Pod>]) -> Vec<EndpointSubset> {
    let tolerate_unready = publish_not_ready(svc);
    let ports = service_ports(svc);
    let mut addresses: AddressPorts = BTreeMap::new();
    for pod in pods {
        if !should_be_in_endpoints(pod, tolerate_unready) {
            continue;
        }
        let Some(ip) = pod_ips(pod).into_iter().next() else {
            continue;
        };
        let address = EndpointAddress {
            ip: ip.clone(),
            hostname: hostname(pod, svc),
            node_name: pod.spec.as_ref().and_then(|s| s.node_name.clone()),
            target_ref: Some(pod_ref(pod)),
        };
        let ready = tolerate_unready || pods::is_ready(pod);
        let mut served = BTreeSet::new();
        for port in ports {
            let Some(n) = find_port(pod, port) else {
                continue;
            };
            served.insert(PortKey {
                name: port.name.clone().unwrap_or_default(),
                port: n,
                protocol: port.protocol.clone().unwrap_or_else(|| "TCP".into()),
                app_protocol: port.app_protocol.clone(),
            });
        }
        if served.is_empty() && !(ports.is_empty() && is_headless(svc)) {
            continue;
        }
        addresses
            .entry((ready, ip))
            .or_insert_with(|| (address, BTreeSet::new()))
            .1
            .extend(served);
    }
    repack(addresses)
}

/// Addresses with the same ports share one subset (upstream's
/// `RepackSubsets`).
fn repack(addresses: AddressPorts) -> Vec<EndpointSubset> {
    let mut by_ports: BTreeMap<BTreeSet<PortKey>, EndpointSubset> = BTreeMap::new();
    for ((ready, _), (address, ports)) in addresses {
        let subset = by_ports
            .entry(ports.clone())
            .or_insert_with(|| EndpointSubset {
                ports: (!ports.is_empty())
                    .then(|| ports.iter().map(PortKey::endpoint_port).collect()),
                ..Default::default()
            });
        let list = if ready {
            subset.addresses.get_or_insert_with(Vec::new)
        } else {
            subset.not_ready_addresses.get_or_insert_with(Vec::new)
        };
        list.push(address);
    }
    by_ports.into_values().collect()
}

/// Keep at most [`MAX_ENDPOINTS_CAPACITY`] addresses (ready ones first);
/// whether some were dropped.
fn truncate(subsets: &mut [EndpointSubset]) -> bool {
    let total: usize = subsets
        .iter()
        .map(|s| {
            s.addresses.as_ref().map_or(0, Vec::len)
                + s.not_ready_addresses.as_ref().map_or(0, Vec::len)
        })
        .sum();
    if total <= MAX_ENDPOINTS_CAPACITY {
        return false;
    }
    let mut left = MAX_ENDPOINTS_CAPACITY;
    for s in subsets.iter_mut() {
        if let Some(a) = s.addresses.as_mut() {
            a.truncate(left);
            left -= a.len();
        }
    }
    for s in subsets.iter_mut() {
        if let Some(a) = s.not_ready_addresses.as_mut() {
            a.truncate(left);
            left -= a.len();
        }
    }
    true
}

/// Empty lists are absent lists.
fn normalize_subsets(subsets: Option<&Vec<EndpointSubset>>) -> Vec<EndpointSubset> {
    subsets
        .into_iter()
        .flatten()
        .map(|s| EndpointSubset {
            addresses: s.addresses.clone().filter(|a| !a.is_empty()),
            not_ready_addresses: s.not_ready_addresses.clone().filter(|a| !a.is_empty()),
            ports: s.ports.clone().filter(|p| !p.is_empty()).map(|ps| {
                ps.into_iter()
                    .map(|mut p| {
                        p.protocol.get_or_insert_with(|| "TCP".into());
                        p
                    })
                    .collect()
            }),
        })
        .collect()
}

async fn sync_endpoints(cluster: &Cluster, key: &str) -> Result<Requeue> {
    let (ns, name) = split_key(key);
    let api: Api<Endpoints> = Api::namespaced(cluster.client.clone(), ns);
    let Some(svc) = cluster.services.get_key(key) else {
        // The Service is gone: so are its Endpoints.
        if cluster.endpoints.get(ns, name).is_some() {
            match api.delete(name, &DeleteParams::default()).await {
                Ok(_) => {}
                Err(e) if is_not_found(&e) => {}
                Err(e) => return Err(e).context("deleting Endpoints"),
            }
        }
        return Ok(None);
    };
    let Some(selector) = selector_of(&svc) else {
        return Ok(None);
    };
    if svc.metadata.deletion_timestamp.is_some() {
        return Ok(None);
    }
    let pods = selected_pods(cluster, &svc, &selector);
    let mut subsets = desired_subsets(&svc, &pods);
    let truncated = truncate(&mut subsets);
    let labels = derived_labels(&svc);
    let current = cluster.endpoints.get(ns, name);
    let mut annotations = current
        .as_ref()
        .map(|c| c.annotations().clone())
        .unwrap_or_default();
    if truncated {
        annotations.insert(OVER_CAPACITY.into(), "truncated".into());
    } else {
        annotations.remove(OVER_CAPACITY);
    }
    if let Some(cur) = &current
        && normalize_subsets(cur.subsets.as_ref()) == subsets
        && *cur.labels() == labels
        && *cur.annotations() == annotations
    {
        return Ok(None);
    }
    let endpoints = Endpoints {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            namespace: Some(ns.to_owned()),
            labels: (!labels.is_empty()).then_some(labels),
            annotations: (!annotations.is_empty()).then_some(annotations),
            resource_version: current.as_ref().and_then(|c| c.resource_version()),
            ..current
                .as_ref()
                .map(|c| c.metadata.clone())
                .unwrap_or_default()
        },
        subsets: (!subsets.is_empty()).then_some(subsets),
    };
    let result = match &current {
        Some(_) => api.replace(name, &PostParams::default(), &endpoints).await,
        None => api.create(&PostParams::default(), &endpoints).await,
    };
    match result {
        Ok(_) => Ok(None),
        // The namespace is going away: nothing to keep.
        Err(kube::Error::Api(s)) if s.code == 403 => Ok(None),
        Err(e) => Err(e).with_context(|| format!("writing Endpoints {key}")),
    }
}

// ---------------------------------------------------------------------
// EndpointSlices

/// The Service key a slice we manage belongs to.
fn managed_service_key(slice: &EndpointSlice) -> Option<String> {
    let labels = slice.labels();
    if labels.get(MANAGED_BY_LABEL).map(String::as_str) != Some(MANAGED_BY) {
        return None;
    }
    let service = labels.get(SERVICE_NAME_LABEL)?;
    Some(format!(
        "{}/{service}",
        slice.namespace().unwrap_or_default()
    ))
}

/// A slice port in a comparable form.
type SlicePortKey = (String, i32, String, Option<String>);

fn slice_port_key(p: &SlicePort) -> SlicePortKey {
    (
        p.name.clone().unwrap_or_default(),
        p.port.unwrap_or(0),
        p.protocol.clone().unwrap_or_else(|| "TCP".into()),
        p.app_protocol.clone(),
    )
}

/// A slice's ports, in their order (the Service's).
fn slice_ports_of(slice: &EndpointSlice) -> Vec<SlicePortKey> {
    slice.ports.iter().flatten().map(slice_port_key).collect()
}

/// What the slices of one Service should hold: endpoints grouped by their
/// ports.
struct Desired {
    groups: BTreeMap<Vec<SlicePortKey>, Vec<Endpoint>>,
    /// A pod named a node not (yet) known: look again later.
    missing_node: bool,
}

/// The address family of an IP, as slices name it.
fn family(ip: &str) -> &'static str {
    if ip.contains(':') { "IPv6" } else { "IPv4" }
}

/// The Service's (first) address type.
fn address_type(svc: &Service) -> String {
    svc.spec
        .as_ref()
        .and_then(|s| s.ip_families.as_ref())
        .and_then(|f| f.first().cloned())
        .unwrap_or_else(|| "IPv4".into())
}

/// One endpoint per pod, grouped by the pod's resolved ports.
fn desired_slices(cluster: &Cluster, svc: &Service, pods: &[Arc<Pod>]) -> Desired {
    let publish = publish_not_ready(svc);
    let addr_type = address_type(svc);
    let mut desired = Desired {
        groups: BTreeMap::new(),
        missing_node: false,
    };
    for pod in pods {
        if !should_be_in_endpoints(pod, true) {
            continue;
        }
        let ips: Vec<String> = pod_ips(pod)
            .into_iter()
            .filter(|ip| family(ip) == addr_type)
            .collect();
        let Some(ip) = ips.into_iter().next() else {
            continue;
        };
        let node_name = pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.clone())
            .filter(|n| !n.is_empty());
        let node = node_name.as_deref().and_then(|n| cluster.nodes.get("", n));
        if node.is_none() && !publish {
            desired.missing_node = true;
            continue;
        }
        let serving = pods::is_ready(pod);
        let terminating = pod.metadata.deletion_timestamp.is_some();
        let ready = publish || (serving && !terminating);
        let endpoint = Endpoint {
            addresses: vec![ip],
            conditions: Some(EndpointConditions {
                ready: Some(ready),
                serving: Some(serving),
                terminating: Some(terminating),
            }),
            hostname: hostname(pod, svc),
            node_name,
            target_ref: Some(pod_ref(pod)),
            zone: node.and_then(|n| n.labels().get(ZONE_LABEL).cloned()),
            ..Default::default()
        };
        let ports: Vec<SlicePortKey> = service_ports(svc)
            .iter()
            .filter_map(|p| {
                Some((
                    p.name.clone().unwrap_or_default(),
                    find_port(pod, p)?,
                    p.protocol.clone().unwrap_or_else(|| "TCP".into()),
                    p.app_protocol.clone(),
                ))
            })
            .collect();
        desired.groups.entry(ports).or_default().push(endpoint);
    }
    desired
}

/// The EndpointSlice controller's state: the slice versions it wrote, so
/// that its own writes coming back through the watch are told apart from
/// others', and a sync never acts on a cache that lags its writes.
struct Slices {
    cluster: Arc<Cluster>,
    /// Service key → slice name → the resourceVersion written (None:
    /// deleted).
    written: Mutex<HashMap<String, HashMap<String, Option<String>>>>,
}

/// How long to wait for our own writes to show up in the cache.
const STALE_RETRY: Duration = Duration::from_millis(100);

/// Whether the revision `seen` is at or after `wanted`.
fn at_or_after(seen: Option<&str>, wanted: &str) -> bool {
    match (
        seen.and_then(|s| s.parse::<u64>().ok()),
        wanted.parse::<u64>(),
    ) {
        (Some(a), Ok(b)) => a >= b,
        _ => seen == Some(wanted),
    }
}

impl Slices {
    fn is_own_write(&self, slice: &EndpointSlice) -> bool {
        let Some(service) = managed_service_key(slice) else {
            return false;
        };
        let written = self.written.lock();
        written
            .get(&service)
            .and_then(|m| m.get(&slice.name_any()))
            .is_some_and(|rv| rv.as_deref() == slice.resource_version().as_deref())
    }

    /// Whether the cache shows every write made for `service`.
    fn cache_current(&self, service: &str, ns: &str) -> bool {
        let mut written = self.written.lock();
        let Some(slices) = written.get_mut(service) else {
            return true;
        };
        slices.retain(|name, rv| {
            let cached = self.cluster.endpoint_slices.get(ns, name);
            let seen = match (rv.as_deref(), cached) {
                (None, None) => true,
                (None, Some(_)) => false,
                (Some(_), None) => false,
                (Some(want), Some(c)) => at_or_after(c.resource_version().as_deref(), want),
            };
            !seen
        });
        let current = slices.is_empty();
        if current {
            written.remove(service);
        }
        current
    }

    fn record(&self, service: &str, name: String, rv: Option<String>) {
        self.written
            .lock()
            .entry(service.to_owned())
            .or_default()
            .insert(name, rv);
    }

    async fn sync(&self, key: &str) -> Result<Requeue> {
        let (ns, name) = split_key(key);
        let Some(svc) = self.cluster.services.get_key(key) else {
            // Its slices go with it (the garbage collector deletes them).
            self.written.lock().remove(key);
            return Ok(None);
        };
        let Some(selector) = selector_of(&svc) else {
            return Ok(None);
        };
        if svc.metadata.deletion_timestamp.is_some() {
            return Ok(None);
        }
        if !self.cache_current(key, ns) {
            return Ok(Some(STALE_RETRY));
        }
        let pods = selected_pods(&self.cluster, &svc, &selector);
        let desired = desired_slices(&self.cluster, &svc, &pods);
        let uid = svc.uid().unwrap_or_default();
        let addr_type = address_type(&svc);

        // Our slices of this Service; those of another Service by the same
        // name, or of another address type, go.
        let mut existing: Vec<Arc<EndpointSlice>> = Vec::new();
        let mut stale: Vec<Arc<EndpointSlice>> = Vec::new();
        for slice in self.cluster.endpoint_slices.list_namespace(ns) {
            if managed_service_key(&slice).as_deref() != Some(key) {
                continue;
            }
            let owned = slice
                .owner_references()
                .iter()
                .any(|r| r.uid == uid && r.kind == "Service");
            if owned && slice.address_type == addr_type {
                existing.push(slice);
            } else {
                stale.push(slice);
            }
        }
        existing.sort_by_key(|s| s.name_any());

        let mut groups = desired.groups;
        if groups.is_empty() {
            // The placeholder: one slice without ports or endpoints.
            groups.insert(Vec::new(), Vec::new());
        }
        let api: Api<EndpointSlice> = Api::namespaced(self.cluster.client.clone(), ns);
        let labels = slice_labels(&svc, name);
        for (ports, endpoints) in groups {
            let chunks: Vec<Vec<Endpoint>> = if endpoints.is_empty() {
                vec![Vec::new()]
            } else {
                endpoints
                    .chunks(MAX_ENDPOINTS_PER_SLICE)
                    .map(<[Endpoint]>::to_vec)
                    .collect()
            };
            let (mut mine, rest): (Vec<_>, Vec<_>) = existing
                .into_iter()
                .partition(|s| slice_ports_of(s) == ports);
            existing = rest;
            for chunk in chunks {
                let slice = new_slice(&svc, &addr_type, &labels, &ports, chunk);
                if mine.is_empty() {
                    self.create(&api, key, &slice).await?;
                } else {
                    let current = mine.remove(0);
                    self.update(&api, key, &current, slice).await?;
                }
            }
            stale.extend(mine);
        }
        stale.extend(existing);
        for slice in stale {
            self.delete(&api, key, &slice).await?;
        }
        Ok(desired.missing_node.then_some(Duration::from_secs(1)))
    }

    async fn create(
        &self,
        api: &Api<EndpointSlice>,
        key: &str,
        slice: &EndpointSlice,
    ) -> Result<()> {
        match api.create(&PostParams::default(), slice).await {
            Ok(s) => {
                self.record(key, s.name_any(), s.resource_version());
                Ok(())
            }
            Err(kube::Error::Api(s)) if s.code == 403 => Ok(()),
            Err(e) => Err(e).with_context(|| format!("creating an EndpointSlice for {key}")),
        }
    }

    async fn update(
        &self,
        api: &Api<EndpointSlice>,
        key: &str,
        current: &EndpointSlice,
        mut slice: EndpointSlice,
    ) -> Result<()> {
        let same_ports = slice_ports_of(current) == slice_ports_of(&slice);
        if same_ports && current.endpoints == slice.endpoints && current.labels() == slice.labels()
        {
            return Ok(());
        }
        let name = current.name_any();
        let labels = slice.metadata.labels.take();
        slice.metadata = ObjectMeta {
            name: Some(name.clone()),
            generate_name: None,
            labels,
            ..current.metadata.clone()
        };
        match api.replace(&name, &PostParams::default(), &slice).await {
            Ok(s) => {
                self.record(key, name, s.resource_version());
                Ok(())
            }
            Err(e) => Err(e).with_context(|| format!("updating EndpointSlice {name}")),
        }
    }

    async fn delete(
        &self,
        api: &Api<EndpointSlice>,
        key: &str,
        slice: &EndpointSlice,
    ) -> Result<()> {
        let name = slice.name_any();
        match api.delete(&name, &DeleteParams::default()).await {
            Ok(_) => {
                self.record(key, name, None);
                Ok(())
            }
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(e).with_context(|| format!("deleting EndpointSlice {name}")),
        }
    }
}

/// The labels of a Service's slices: the Service's own (but for the
/// reserved ones), the headless label, the Service's name and ours.
fn slice_labels(svc: &Service, name: &str) -> BTreeMap<String, String> {
    let mut labels = derived_labels(svc);
    labels.insert(SERVICE_NAME_LABEL.into(), name.to_owned());
    labels.insert(MANAGED_BY_LABEL.into(), MANAGED_BY.into());
    labels
}

fn new_slice(
    svc: &Service,
    addr_type: &str,
    labels: &BTreeMap<String, String>,
    ports: &[SlicePortKey],
    endpoints: Vec<Endpoint>,
) -> EndpointSlice {
    let ports: Vec<SlicePort> = ports
        .iter()
        .map(|(name, port, protocol, app)| SlicePort {
            name: Some(name.clone()),
            port: Some(*port),
            protocol: Some(protocol.clone()),
            app_protocol: app.clone(),
        })
        .collect();
    EndpointSlice {
        metadata: ObjectMeta {
            generate_name: Some(format!("{}-", svc.name_any())),
            namespace: svc.namespace(),
            labels: Some(labels.clone()),
            owner_references: Some(vec![OwnerReference {
                api_version: "v1".into(),
                kind: "Service".into(),
                name: svc.name_any(),
                uid: svc.uid().unwrap_or_default(),
                controller: Some(true),
                block_owner_deletion: Some(true),
            }]),
            ..Default::default()
        },
        address_type: addr_type.to_owned(),
        endpoints,
        ports: (!ports.is_empty()).then_some(ports),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str, ip: &str, ready: bool) -> Arc<Pod> {
        Arc::new(
            serde_json::from_value(json!({
                "metadata": {"name": name, "namespace": "default", "uid": name,
                             "labels": {"app": "web"}},
                "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "i",
                    "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]}]},
                "status": {"phase": "Running", "podIP": ip, "conditions": [
                    {"type": "Ready", "status": if ready {"True"} else {"False"}}]}
            }))
            .unwrap(),
        )
    }

    fn service(ports: serde_json::Value) -> Service {
        serde_json::from_value(json!({
            "metadata": {"name": "web", "namespace": "default", "uid": "svc"},
            "spec": {"selector": {"app": "web"}, "clusterIP": "10.96.0.10", "ports": ports}
        }))
        .unwrap()
    }

    #[test]
    fn ready_and_not_ready_addresses_share_a_subset_with_named_ports() {
        let svc =
            service(json!([{"name": "web", "port": 80, "targetPort": "http", "protocol": "TCP"}]));
        let pods = [pod("a", "10.0.0.2", true), pod("b", "10.0.0.1", false)];
        let subsets = desired_subsets(&svc, &pods);
        assert_eq!(subsets.len(), 1);
        let s = &subsets[0];
        assert_eq!(s.addresses.as_ref().unwrap()[0].ip, "10.0.0.2");
        assert_eq!(s.not_ready_addresses.as_ref().unwrap()[0].ip, "10.0.0.1");
        assert_eq!(s.ports.as_ref().unwrap()[0].port, 8080);
    }

    #[test]
    fn an_unresolvable_named_port_leaves_the_pod_out() {
        let svc =
            service(json!([{"name": "x", "port": 80, "targetPort": "nope", "protocol": "TCP"}]));
        assert!(desired_subsets(&svc, &[pod("a", "10.0.0.2", true)]).is_empty());
    }

    #[test]
    fn publish_not_ready_addresses_makes_every_address_ready() {
        let mut svc = service(json!([{"port": 80, "targetPort": 8080, "protocol": "TCP"}]));
        svc.spec.as_mut().unwrap().publish_not_ready_addresses = Some(true);
        let subsets = desired_subsets(&svc, &[pod("b", "10.0.0.1", false)]);
        assert_eq!(subsets[0].addresses.as_ref().unwrap().len(), 1);
        assert!(subsets[0].not_ready_addresses.is_none());
    }
}

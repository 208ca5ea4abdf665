//! The cluster as the scheduler sees it: [`Snapshot`] of [`NodeInfo`]s.
//!
//! A `NodeInfo` is a node plus everything derived from it and from the pods
//! assigned to it, computed when it changes rather than per scheduling
//! cycle: allocatable and requested resources (and the non-zero requests
//! used for scoring), host ports in use, image sizes, the effective taints,
//! the parsed `preferAvoidPods` annotation, counts of pods with affinity.
//!
//! The `Snapshot` is updated incrementally by the caller as the informers
//! deliver events — [`Snapshot::upsert_node`], [`Snapshot::add_pod`],
//! [`Snapshot::remove_pod`], [`Snapshot::assume_pod`] (a pod the scheduler
//! just placed, before its binding is observed) — and read, never cloned,
//! by scheduling cycles. It also holds what some plugins need beyond nodes
//! and pods: namespace labels (pod affinity `namespaceSelector`), the
//! selectors of Services, ReplicationControllers, ReplicaSets and
//! StatefulSets (default spreading), PodDisruptionBudgets (preemption) and
//! nominated pods (preemption's reservations).
//!
//! **Node conditions.** Upstream's scheduler reads no node condition: the
//! node lifecycle controller turns conditions into `NoSchedule` taints
//! (`node.kubernetes.io/not-ready`, `unreachable`, `memory-pressure`,
//! `disk-pressure`, `pid-pressure`, `network-unavailable`) and the
//! TaintToleration plugin does the rest. rkube may run without that
//! controller, so by default ([`SnapshotOptions::condition_taints`]) a
//! `NodeInfo`'s effective taints also contain the taint its conditions
//! imply when the node does not carry it already. A node whose `Ready`
//! condition is `False` therefore rejects pods that do not tolerate
//! `node.kubernetes.io/not-ready:NoSchedule`, with upstream's wording
//! (`node(s) had untolerated taint {node.kubernetes.io/not-ready: }`). A
//! node without a `Ready` condition at all is not tainted.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

use k8s_openapi::api::apps::v1::{ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{Node, Pod, ReplicationController, Service, Taint};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;

use crate::labels::{EMPTY_LABELS, Selector};
use crate::pod_info::{AffinityTerm, HostPort, PodInfo, normalized_image_name};
use crate::resource::Resource;

/// Options of a [`Snapshot`].
#[derive(Clone, Debug)]
pub struct SnapshotOptions {
    /// Add the `NoSchedule` taints that node conditions imply (see the
    /// module documentation). Default: true.
    pub condition_taints: bool,
}

impl Default for SnapshotOptions {
    fn default() -> Self {
        SnapshotOptions {
            condition_taints: true,
        }
    }
}

/// One entry of a node's `scheduler.alpha.kubernetes.io/preferAvoidPods`
/// annotation: pods controlled by this controller prefer other nodes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AvoidPods {
    /// Controller kind (`ReplicationController` or `ReplicaSet`).
    pub kind: String,
    /// Controller UID.
    pub uid: String,
}

/// The annotation NodePreferAvoidPods reads.
pub const PREFER_AVOID_PODS_ANNOTATION: &str = "scheduler.alpha.kubernetes.io/preferAvoidPods";

fn parse_avoid_pods(node: &Node) -> Vec<AvoidPods> {
    let Some(raw) = node
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(PREFER_AVOID_PODS_ANNOTATION))
    else {
        return Vec::new();
    };
    let Ok(v) = serde_json::from_str::<serde_json::Value>(raw) else {
        return Vec::new();
    };
    v.get("preferAvoidPods")
        .and_then(|a| a.as_array())
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let c = e.get("podSignature")?.get("podController")?;
            Some(AvoidPods {
                kind: c.get("kind")?.as_str()?.to_string(),
                uid: c.get("uid")?.as_str()?.to_string(),
            })
        })
        .collect()
}

/// Taint keys implied by node conditions.
pub mod taint_keys {
    /// Ready is False.
    pub const NOT_READY: &str = "node.kubernetes.io/not-ready";
    /// Ready is Unknown.
    pub const UNREACHABLE: &str = "node.kubernetes.io/unreachable";
    /// MemoryPressure is True.
    pub const MEMORY_PRESSURE: &str = "node.kubernetes.io/memory-pressure";
    /// DiskPressure is True.
    pub const DISK_PRESSURE: &str = "node.kubernetes.io/disk-pressure";
    /// PIDPressure is True.
    pub const PID_PRESSURE: &str = "node.kubernetes.io/pid-pressure";
    /// NetworkUnavailable is True.
    pub const NETWORK_UNAVAILABLE: &str = "node.kubernetes.io/network-unavailable";
    /// `spec.unschedulable` (cordon).
    pub const UNSCHEDULABLE: &str = "node.kubernetes.io/unschedulable";
}

fn effective_taints(node: &Node, condition_taints: bool) -> Vec<Taint> {
    let mut taints: Vec<Taint> = node
        .spec
        .as_ref()
        .and_then(|s| s.taints.clone())
        .unwrap_or_default();
    if !condition_taints {
        return taints;
    }
    for c in node
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .into_iter()
        .flatten()
    {
        let key = match (c.type_.as_str(), c.status.as_str()) {
            ("Ready", "False") => taint_keys::NOT_READY,
            ("Ready", "Unknown") => taint_keys::UNREACHABLE,
            ("MemoryPressure", "True") => taint_keys::MEMORY_PRESSURE,
            ("DiskPressure", "True") => taint_keys::DISK_PRESSURE,
            ("PIDPressure", "True") => taint_keys::PID_PRESSURE,
            ("NetworkUnavailable", "True") => taint_keys::NETWORK_UNAVAILABLE,
            _ => continue,
        };
        if !taints
            .iter()
            .any(|t| t.key == key && t.effect == "NoSchedule")
        {
            taints.push(Taint {
                key: key.to_string(),
                effect: "NoSchedule".into(),
                value: None,
                time_added: None,
            });
        }
    }
    taints
}

/// The zone key of a node (upstream's `utilnode.GetZoneKey`): region and
/// zone labels joined; empty when the node has neither.
pub fn zone_key(labels: &BTreeMap<String, String>) -> String {
    let get = |a: &str, b: &str| {
        labels
            .get(a)
            .or_else(|| labels.get(b))
            .cloned()
            .unwrap_or_default()
    };
    let zone = get(
        "topology.kubernetes.io/zone",
        "failure-domain.beta.kubernetes.io/zone",
    );
    let region = get(
        "topology.kubernetes.io/region",
        "failure-domain.beta.kubernetes.io/region",
    );
    if zone.is_empty() && region.is_empty() {
        return String::new();
    }
    format!("{region}:\x00:{zone}")
}

/// A node and the aggregate of the pods assigned to it.
#[derive(Clone, Debug)]
pub struct NodeInfo {
    node: Arc<Node>,
    name: Arc<str>,
    /// `status.allocatable`.
    pub allocatable: Resource,
    /// Sum of the requests of the pods on the node.
    pub requested: Resource,
    /// Sum of the pods' CPU requests with defaults for unset ones (scoring).
    pub non_zero_cpu: i64,
    /// Sum of the pods' memory requests with defaults for unset ones.
    pub non_zero_memory: i64,
    pods: Vec<Arc<PodInfo>>,
    pods_with_affinity: usize,
    pods_with_required_anti_affinity: usize,
    pods_with_scoring_terms: usize,
    used_ports: Vec<HostPort>,
    images: Arc<HashMap<String, i64>>,
    taints: Arc<Vec<Taint>>,
    /// `!taints.is_empty()`, kept inline: most nodes have none, and the
    /// filters ask about every node they visit (reading the Vec behind the
    /// Arc is a cache miss per node).
    has_taints: bool,
    avoid_pods: Arc<Vec<AvoidPods>>,
    unschedulable: bool,
    zone: String,
    idx: u32,
}

impl NodeInfo {
    /// A node with no pods.
    pub fn new(node: Node, opts: &SnapshotOptions) -> NodeInfo {
        let mut ni = NodeInfo {
            node: Arc::new(Node::default()),
            name: Arc::from(""),
            allocatable: Resource::default(),
            requested: Resource::default(),
            non_zero_cpu: 0,
            non_zero_memory: 0,
            pods: Vec::new(),
            pods_with_affinity: 0,
            pods_with_required_anti_affinity: 0,
            pods_with_scoring_terms: 0,
            used_ports: Vec::new(),
            images: Arc::default(),
            taints: Arc::default(),
            has_taints: false,
            avoid_pods: Arc::default(),
            unschedulable: false,
            zone: String::new(),
            idx: 0,
        };
        ni.set_node(node, opts);
        ni
    }

    /// Replace the node object, keeping the pods.
    pub fn set_node(&mut self, node: Node, opts: &SnapshotOptions) {
        self.name = Arc::from(node.metadata.name.as_deref().unwrap_or_default());
        self.allocatable = node
            .status
            .as_ref()
            .and_then(|s| s.allocatable.as_ref())
            .map(Resource::from_list)
            .unwrap_or_default();
        let mut images = HashMap::new();
        for img in node
            .status
            .as_ref()
            .and_then(|s| s.images.as_ref())
            .into_iter()
            .flatten()
        {
            let size = img.size_bytes.unwrap_or(0);
            for n in img.names.iter().flatten() {
                images.insert(normalized_image_name(n), size);
            }
        }
        self.images = Arc::new(images);
        self.taints = Arc::new(effective_taints(&node, opts.condition_taints));
        self.has_taints = !self.taints.is_empty();
        self.avoid_pods = Arc::new(parse_avoid_pods(&node));
        self.unschedulable = node
            .spec
            .as_ref()
            .and_then(|s| s.unschedulable)
            .unwrap_or(false);
        self.zone = zone_key(node.metadata.labels.as_ref().unwrap_or(&EMPTY_LABELS));
        self.node = Arc::new(node);
    }

    /// The node object.
    pub fn node(&self) -> &Node {
        &self.node
    }

    /// The node's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The node's name, shared.
    pub fn name_arc(&self) -> Arc<str> {
        self.name.clone()
    }

    /// The node's labels.
    pub fn labels(&self) -> &BTreeMap<String, String> {
        self.node.metadata.labels.as_ref().unwrap_or(&EMPTY_LABELS)
    }

    /// The pods assigned to the node.
    pub fn pods(&self) -> &[Arc<PodInfo>] {
        &self.pods
    }

    /// Number of pods with any pod affinity or anti-affinity term.
    pub fn pods_with_affinity(&self) -> usize {
        self.pods_with_affinity
    }

    /// Number of pods with required pod anti-affinity terms.
    pub fn pods_with_required_anti_affinity(&self) -> usize {
        self.pods_with_required_anti_affinity
    }

    /// Number of pods with terms that score others' placement (see
    /// [`PodInfo::has_scoring_terms`]).
    pub fn pods_with_scoring_terms(&self) -> usize {
        self.pods_with_scoring_terms
    }

    /// Host ports in use.
    pub fn used_ports(&self) -> &[HostPort] {
        &self.used_ports
    }

    /// Image sizes by normalized image name.
    pub fn images(&self) -> &HashMap<String, i64> {
        &self.images
    }

    /// Effective taints (spec taints plus condition taints, see the module
    /// documentation).
    pub fn taints(&self) -> &[Taint] {
        if self.has_taints { &self.taints } else { &[] }
    }

    /// Parsed `preferAvoidPods` annotation.
    pub fn avoid_pods(&self) -> &[AvoidPods] {
        &self.avoid_pods
    }

    /// `spec.unschedulable`.
    pub fn unschedulable(&self) -> bool {
        self.unschedulable
    }

    /// Zone key (region and zone), empty when unlabelled.
    pub fn zone(&self) -> &str {
        &self.zone
    }

    /// The node's position in [`Snapshot::nodes`] (stable until a node is
    /// removed).
    pub fn index(&self) -> usize {
        self.idx as usize
    }

    /// Whether a host port would conflict with one in use (upstream's
    /// `HostPortInfo.CheckConflict`).
    pub fn port_conflicts(&self, p: &HostPort) -> bool {
        self.used_ports.iter().any(|u| {
            u.port == p.port
                && u.protocol == p.protocol
                && (p.ip == "0.0.0.0" || u.ip == "0.0.0.0" || u.ip == p.ip)
        })
    }

    /// Account a pod to the node.
    pub fn add_pod(&mut self, p: Arc<PodInfo>) {
        self.requested.add(&p.requests);
        self.non_zero_cpu += p.non_zero_cpu;
        self.non_zero_memory += p.non_zero_memory;
        if p.has_affinity() {
            self.pods_with_affinity += 1;
        }
        if !p.required_anti_affinity_terms.is_empty() {
            self.pods_with_required_anti_affinity += 1;
        }
        if p.has_scoring_terms() {
            self.pods_with_scoring_terms += 1;
        }
        self.used_ports.extend(p.host_ports.iter().cloned());
        self.pods.push(p);
    }

    /// Remove a pod by key; returns it if it was there.
    pub fn remove_pod(&mut self, key: &str) -> Option<Arc<PodInfo>> {
        let i = self.pods.iter().position(|p| p.key == key)?;
        let p = self.pods.swap_remove(i);
        self.requested.sub(&p.requests);
        self.requested.scalar.retain(|(_, v)| *v != 0);
        self.non_zero_cpu -= p.non_zero_cpu;
        self.non_zero_memory -= p.non_zero_memory;
        if p.has_affinity() {
            self.pods_with_affinity -= 1;
        }
        if !p.required_anti_affinity_terms.is_empty() {
            self.pods_with_required_anti_affinity -= 1;
        }
        if p.has_scoring_terms() {
            self.pods_with_scoring_terms -= 1;
        }
        if !p.host_ports.is_empty() {
            self.used_ports = self
                .pods
                .iter()
                .flat_map(|p| p.host_ports.iter().cloned())
                .collect();
        }
        Some(p)
    }
}

/// The domains of one topology key: every distinct value of the label
/// among the nodes, and each node's domain. Built lazily per key by
/// [`Snapshot::topology_index`] and kept until nodes change, so per-pod
/// topology computations index arrays instead of hashing label values.
#[derive(Debug, PartialEq, Eq)]
pub struct TopologyIndex {
    /// The label key.
    pub key: String,
    /// Distinct values, by domain id.
    pub domains: Vec<String>,
    /// Domain id of each node (by [`NodeInfo::index`]), [`NO_DOMAIN`] when
    /// the node lacks the label.
    pub node_domain: Vec<u32>,
}

/// A node without the topology label.
pub const NO_DOMAIN: u32 = u32::MAX;

impl TopologyIndex {
    /// The domain of a node, if it has the label.
    pub fn domain(&self, node: &NodeInfo) -> Option<usize> {
        match self.node_domain.get(node.index()) {
            Some(&d) if d != NO_DOMAIN => Some(d as usize),
            _ => None,
        }
    }
}

/// Cached counts of the pods one selector matches, per domain of one
/// topology key, kept up to date as pods come and go.
#[derive(Debug)]
struct CountEntry {
    namespace: String,
    include_terminating: bool,
    selector: Selector,
    index: Arc<TopologyIndex>,
    counts: Vec<i64>,
    last_used: u64,
}

#[derive(Debug, Default)]
struct CountCache {
    entries: HashMap<(String, String, String, bool), CountEntry>,
    tick: u64,
}

const MAX_COUNT_ENTRIES: usize = 128;

/// One distinct required anti-affinity term of existing pods, and how
/// many pods carry it on each node (by [`NodeInfo::index`]).
#[derive(Debug)]
pub struct ExistingAntiTerm {
    /// The term.
    pub term: AffinityTerm,
    /// Pods carrying it, per node index.
    pub nodes: HashMap<u32, i64>,
}

#[derive(Debug, Default)]
struct AntiTermIndex {
    entries: HashMap<String, ExistingAntiTerm>,
}

impl AntiTermIndex {
    fn account(&mut self, p: &PodInfo, node_idx: usize, delta: i64) {
        for t in &p.required_anti_affinity_terms {
            let e = self
                .entries
                .entry(format!("{t:?}"))
                .or_insert_with(|| ExistingAntiTerm {
                    term: t.clone(),
                    nodes: HashMap::new(),
                });
            let c = e.nodes.entry(node_idx as u32).or_insert(0);
            *c += delta;
            if *c == 0 {
                e.nodes.remove(&(node_idx as u32));
            }
        }
        self.entries.retain(|_, e| !e.nodes.is_empty());
    }
}

/// A compiled PodDisruptionBudget, as preemption uses it.
#[derive(Clone, Debug)]
pub struct PdbInfo {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Pod selector (nil or empty selects nothing, as upstream).
    pub selector: Selector,
    /// `status.disruptionsAllowed`.
    pub disruptions_allowed: i32,
    /// `status.disruptedPods` names.
    pub disrupted_pods: HashSet<String>,
}

impl PdbInfo {
    /// Compile a PDB.
    pub fn new(pdb: &PodDisruptionBudget) -> PdbInfo {
        let selector = match pdb.spec.as_ref().and_then(|s| s.selector.as_ref()) {
            Some(s) => {
                let sel = Selector::from_label_selector(Some(s));
                if sel.is_empty() {
                    Selector::Nothing
                } else {
                    sel
                }
            }
            None => Selector::Nothing,
        };
        let status = pdb.status.as_ref();
        PdbInfo {
            namespace: pdb
                .metadata
                .namespace
                .clone()
                .unwrap_or_else(|| "default".into()),
            name: pdb.metadata.name.clone().unwrap_or_default(),
            selector,
            disruptions_allowed: status.map_or(0, |s| s.disruptions_allowed),
            disrupted_pods: status
                .and_then(|s| s.disrupted_pods.as_ref())
                .into_iter()
                .flatten()
                .map(|(k, _)| k.clone())
                .collect(),
        }
    }
}

/// The selector of a workload controller, for default spreading.
#[derive(Clone, Debug)]
pub enum ControllerSelector {
    /// A ReplicationController's label set.
    Set(BTreeMap<String, String>),
    /// A ReplicaSet's or StatefulSet's label selector.
    Selector(Selector),
}

/// Scheduling-relevant state of the cluster. See the module documentation.
#[derive(Debug, Default)]
pub struct Snapshot {
    options: SnapshotOptions,
    nodes: Vec<NodeInfo>,
    index: HashMap<String, usize>,
    order: OnceLock<Vec<u32>>,
    topology: Mutex<HashMap<String, Arc<TopologyIndex>>>,
    counts: Mutex<CountCache>,
    anti_terms: Mutex<Option<AntiTermIndex>>,
    /// Required node selectors (by their canonical text) → which nodes, by
    /// index, they match; dropped whenever nodes or their labels change.
    selector_matches: Mutex<HashMap<String, Arc<Vec<bool>>>>,
    pod_node: HashMap<String, String>,
    orphans: HashMap<String, Vec<Arc<PodInfo>>>,
    image_nodes: HashMap<String, u32>,
    namespaces: HashMap<String, BTreeMap<String, String>>,
    services: HashMap<String, (String, Option<BTreeMap<String, String>>)>,
    controllers: HashMap<(String, String, String), ControllerSelector>,
    pdbs: HashMap<String, PdbInfo>,
    storage: Storage,
    nominated: HashMap<String, Vec<Arc<PodInfo>>>,
    nominated_by_pod: HashMap<String, String>,
    pods_with_affinity: usize,
    pods_with_required_anti_affinity: usize,
    pods_with_scoring_terms: usize,
}

impl Snapshot {
    /// An empty snapshot with default options.
    pub fn new() -> Snapshot {
        Snapshot::default()
    }

    /// An empty snapshot with these options.
    pub fn with_options(options: SnapshotOptions) -> Snapshot {
        Snapshot {
            options,
            ..Snapshot::default()
        }
    }

    /// A snapshot of these nodes and pods (pods without `spec.nodeName`
    /// are ignored).
    pub fn from_objects(
        nodes: impl IntoIterator<Item = Node>,
        pods: impl IntoIterator<Item = Pod>,
    ) -> Snapshot {
        let mut s = Snapshot::new();
        for n in nodes {
            s.upsert_node(n);
        }
        for p in pods {
            s.add_pod(p);
        }
        s
    }

    // ---- nodes ----

    /// Number of nodes.
    pub fn num_nodes(&self) -> usize {
        self.nodes.len()
    }

    /// All nodes, in storage order.
    pub fn nodes(&self) -> &[NodeInfo] {
        &self.nodes
    }

    /// A node by index (storage order).
    pub fn node_at(&self, i: usize) -> &NodeInfo {
        &self.nodes[i]
    }

    /// A node by name.
    pub fn node(&self, name: &str) -> Option<&NodeInfo> {
        self.index.get(name).map(|&i| &self.nodes[i])
    }

    /// The index of a node by name.
    pub fn node_index(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// Node indices in the order scheduling walks them: zones interleaved
    /// (upstream's node tree), so sampling a fraction of nodes spreads over
    /// zones.
    pub fn order(&self) -> &[u32] {
        self.order.get_or_init(|| {
            let mut zones: Vec<(&str, Vec<u32>)> = Vec::new();
            let mut zone_idx: HashMap<&str, usize> = HashMap::new();
            for (i, n) in self.nodes.iter().enumerate() {
                let z = *zone_idx.entry(n.zone()).or_insert_with(|| {
                    zones.push((n.zone(), Vec::new()));
                    zones.len() - 1
                });
                zones[z].1.push(i as u32);
            }
            let mut out = Vec::with_capacity(self.nodes.len());
            let mut round = 0;
            while out.len() < self.nodes.len() {
                for (_, members) in &zones {
                    if let Some(&i) = members.get(round) {
                        out.push(i);
                    }
                }
                round += 1;
            }
            out
        })
    }

    /// The domains of a topology key (built on first use, kept until nodes
    /// or their labels change).
    pub fn topology_index(&self, key: &str) -> Arc<TopologyIndex> {
        let mut map = self.topology.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = map.get(key) {
            return t.clone();
        }
        let mut ids: HashMap<&str, u32> = HashMap::new();
        let mut domains = Vec::new();
        let node_domain = self
            .nodes
            .iter()
            .map(|n| match n.labels().get(key) {
                Some(v) => *ids.entry(v.as_str()).or_insert_with(|| {
                    domains.push(v.clone());
                    (domains.len() - 1) as u32
                }),
                None => NO_DOMAIN,
            })
            .collect();
        let t = Arc::new(TopologyIndex {
            key: key.to_string(),
            domains,
            node_domain,
        });
        map.insert(key.to_string(), t.clone());
        t
    }

    /// Per domain of `key`, the number of pods of namespace `ns` (not
    /// terminating) that `selector` matches — what spreading counts. Kept
    /// in a cache updated as pods are added and removed, so repeated pods
    /// of one workload cost O(domains), not O(pods). An empty selector
    /// counts nothing (as upstream's spreading).
    pub fn domain_counts(
        &self,
        ns: &str,
        selector: &Selector,
        key: &str,
    ) -> (Arc<TopologyIndex>, Vec<i64>) {
        if selector.is_empty() {
            let index = self.topology_index(key);
            let n = index.domains.len();
            return (index, vec![0; n]);
        }
        self.cached_counts(ns, selector, key, false)
    }

    /// As [`Snapshot::domain_counts`], but counting terminating pods too
    /// and with an empty selector matching every pod (what pod affinity
    /// counts).
    pub fn affinity_domain_counts(
        &self,
        ns: &str,
        selector: &Selector,
        key: &str,
    ) -> (Arc<TopologyIndex>, Vec<i64>) {
        self.cached_counts(ns, selector, key, true)
    }

    fn cached_counts(
        &self,
        ns: &str,
        selector: &Selector,
        key: &str,
        include_terminating: bool,
    ) -> (Arc<TopologyIndex>, Vec<i64>) {
        let index = self.topology_index(key);
        if matches!(selector, Selector::Nothing) {
            let n = index.domains.len();
            return (index, vec![0; n]);
        }
        let cache_key = (
            ns.to_string(),
            format!("{selector:?}"),
            key.to_string(),
            include_terminating,
        );
        let mut cache = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        cache.tick += 1;
        let tick = cache.tick;
        if let Some(e) = cache.entries.get_mut(&cache_key)
            && Arc::ptr_eq(&e.index, &index)
        {
            e.last_used = tick;
            return (index, e.counts.clone());
        }
        let mut counts = vec![0i64; index.domains.len()];
        for (i, n) in self.nodes.iter().enumerate() {
            let d = index.node_domain[i];
            if d == NO_DOMAIN || n.pods.is_empty() {
                continue;
            }
            counts[d as usize] += n
                .pods
                .iter()
                .filter(|p| {
                    (include_terminating || !p.terminating)
                        && p.namespace == ns
                        && selector.matches(p.labels())
                })
                .count() as i64;
        }
        if cache.entries.len() >= MAX_COUNT_ENTRIES
            && let Some(oldest) = cache
                .entries
                .iter()
                .min_by_key(|(_, e)| e.last_used)
                .map(|(k, _)| k.clone())
        {
            cache.entries.remove(&oldest);
        }
        cache.entries.insert(
            cache_key,
            CountEntry {
                namespace: ns.to_string(),
                include_terminating,
                selector: selector.clone(),
                index: index.clone(),
                counts: counts.clone(),
                last_used: tick,
            },
        );
        (index, counts)
    }

    /// Call `f` with the distinct required anti-affinity terms of the
    /// assigned pods and where those pods are (kept up to date as pods come
    /// and go; rebuilt after nodes change).
    pub fn with_existing_anti_terms<R>(&self, f: impl FnOnce(&[&ExistingAntiTerm]) -> R) -> R {
        let mut guard = self.anti_terms.lock().unwrap_or_else(|e| e.into_inner());
        let idx = guard.get_or_insert_with(|| {
            let mut idx = AntiTermIndex::default();
            for (i, n) in self.nodes.iter().enumerate() {
                if n.pods_with_required_anti_affinity > 0 {
                    for p in n
                        .pods
                        .iter()
                        .filter(|p| !p.required_anti_affinity_terms.is_empty())
                    {
                        idx.account(p, i, 1);
                    }
                }
            }
            idx
        });
        let terms: Vec<&ExistingAntiTerm> = idx.entries.values().collect();
        f(&terms)
    }

    fn nodes_changed(&mut self) {
        *self.anti_terms.get_mut().unwrap_or_else(|e| e.into_inner()) = None;
        self.selector_matches
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        self.order = OnceLock::new();
        self.topology
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        self.counts
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .entries
            .clear();
    }

    fn count_pod(&mut self, p: &PodInfo, node_idx: usize, delta: i64) {
        if !p.required_anti_affinity_terms.is_empty()
            && let Some(idx) = self
                .anti_terms
                .get_mut()
                .unwrap_or_else(|e| e.into_inner())
                .as_mut()
        {
            idx.account(p, node_idx, delta);
        }
        let cache = self.counts.get_mut().unwrap_or_else(|e| e.into_inner());
        for e in cache.entries.values_mut() {
            if (p.terminating && !e.include_terminating)
                || e.namespace != p.namespace
                || !e.selector.matches(p.labels())
            {
                continue;
            }
            if let Some(&d) = e.index.node_domain.get(node_idx)
                && d != NO_DOMAIN
            {
                e.counts[d as usize] += delta;
            }
        }
    }

    fn count_images(&mut self, images: &HashMap<String, i64>, delta: i64) {
        for name in images.keys() {
            let e = self.image_nodes.entry(name.clone()).or_insert(0);
            *e = (i64::from(*e) + delta).max(0) as u32;
            if *e == 0 {
                self.image_nodes.remove(name);
            }
        }
    }

    /// Add or replace a node (its pods are kept).
    pub fn upsert_node(&mut self, node: Node) {
        let name = node.metadata.name.clone().unwrap_or_default();
        if let Some(&i) = self.index.get(&name) {
            let old_images = self.nodes[i].images.clone();
            let old_zone = std::mem::take(&mut self.nodes[i].zone);
            let labels_changed = node.metadata.labels != self.nodes[i].node.metadata.labels;
            self.nodes[i].set_node(node, &self.options);
            let new_images = self.nodes[i].images.clone();
            if !Arc::ptr_eq(&old_images, &new_images) {
                self.count_images(&old_images, -1);
                self.count_images(&new_images, 1);
            }
            if labels_changed {
                self.nodes_changed();
            } else if self.nodes[i].zone != old_zone {
                self.order = OnceLock::new();
            }
            return;
        }
        let mut ni = NodeInfo::new(node, &self.options);
        for p in self.orphans.remove(&name).unwrap_or_default() {
            ni.add_pod(p);
        }
        let images = ni.images.clone();
        self.count_images(&images, 1);
        ni.idx = self.nodes.len() as u32;
        self.index.insert(name, self.nodes.len());
        self.nodes.push(ni);
        self.nodes_changed();
    }

    /// Remove a node; pods still assigned to it are kept aside and return
    /// if the node comes back.
    pub fn remove_node(&mut self, name: &str) -> bool {
        let Some(i) = self.index.remove(name) else {
            return false;
        };
        let ni = self.nodes.swap_remove(i);
        if i < self.nodes.len() {
            self.nodes[i].idx = i as u32;
            self.index.insert(self.nodes[i].name.to_string(), i);
        }
        self.count_images(&ni.images, -1);
        if !ni.pods.is_empty() {
            self.orphans.insert(name.to_string(), ni.pods.clone());
        }
        self.nodes_changed();
        true
    }

    // ---- pods ----

    /// Add (or replace) an assigned pod. Pods without `spec.nodeName`, and
    /// finished pods (phase `Succeeded` or `Failed`, which upstream's
    /// scheduler does not watch), are not part of the snapshot: an earlier
    /// copy is removed and false returned.
    pub fn add_pod(&mut self, pod: Pod) -> bool {
        let terminal = matches!(
            pod.status.as_ref().and_then(|s| s.phase.as_deref()),
            Some("Succeeded" | "Failed")
        );
        let p = PodInfo::arc(pod);
        match p.node_name().map(str::to_string).filter(|_| !terminal) {
            Some(node) => {
                self.assume_pod(p, &node);
                true
            }
            None => {
                self.remove_pod(&p.key);
                false
            }
        }
    }

    /// Account a pod to a node (an assumed pod: the scheduler chose the
    /// node, the binding is not observed yet). Replaces any earlier copy of
    /// the pod and clears its nomination.
    pub fn assume_pod(&mut self, p: Arc<PodInfo>, node: &str) {
        self.remove_pod(&p.key);
        self.clear_nominated(&p.key);
        if p.has_affinity() {
            self.pods_with_affinity += 1;
        }
        if !p.required_anti_affinity_terms.is_empty() {
            self.pods_with_required_anti_affinity += 1;
        }
        if p.has_scoring_terms() {
            self.pods_with_scoring_terms += 1;
        }
        self.pod_node.insert(p.key.clone(), node.to_string());
        match self.index.get(node) {
            Some(&i) => {
                self.count_pod(&p, i, 1);
                self.nodes[i].add_pod(p);
            }
            None => self.orphans.entry(node.to_string()).or_default().push(p),
        }
    }

    /// Remove a pod by `namespace/name`; returns it if it was there.
    pub fn remove_pod(&mut self, key: &str) -> Option<Arc<PodInfo>> {
        let node = self.pod_node.remove(key)?;
        let p = match self.index.get(&node).copied() {
            Some(i) => {
                let p = self.nodes[i].remove_pod(key);
                if let Some(p) = &p {
                    self.count_pod(p, i, -1);
                }
                p
            }
            None => {
                let list = self.orphans.get_mut(&node)?;
                let i = list.iter().position(|p| p.key == key)?;
                let p = list.swap_remove(i);
                if list.is_empty() {
                    self.orphans.remove(&node);
                }
                Some(p)
            }
        }?;
        if p.has_affinity() {
            self.pods_with_affinity -= 1;
        }
        if !p.required_anti_affinity_terms.is_empty() {
            self.pods_with_required_anti_affinity -= 1;
        }
        if p.has_scoring_terms() {
            self.pods_with_scoring_terms -= 1;
        }
        Some(p)
    }

    /// The node a pod is assigned to.
    pub fn pod_node(&self, key: &str) -> Option<&str> {
        self.pod_node.get(key).map(String::as_str)
    }

    /// An assigned (or assumed) pod by `namespace/name`, on a known node or
    /// kept aside for a node not (yet) known.
    pub fn pod(&self, key: &str) -> Option<&Arc<PodInfo>> {
        let node = self.pod_node.get(key)?;
        let pods = match self.index.get(node) {
            Some(&i) => &self.nodes[i].pods[..],
            None => self.orphans.get(node)?.as_slice(),
        };
        pods.iter().find(|p| p.key == key)
    }

    /// Number of assigned pods.
    pub fn num_pods(&self) -> usize {
        self.pod_node.len()
    }

    /// Number of assigned pods with any pod (anti-)affinity term.
    pub fn pods_with_affinity(&self) -> usize {
        self.pods_with_affinity
    }

    /// Number of assigned pods with required anti-affinity terms.
    pub fn pods_with_required_anti_affinity(&self) -> usize {
        self.pods_with_required_anti_affinity
    }

    /// Number of assigned pods with terms that score others' placement
    /// (see [`PodInfo::has_scoring_terms`]).
    pub fn pods_with_scoring_terms(&self) -> usize {
        self.pods_with_scoring_terms
    }

    // ---- nominated pods ----

    /// Record that a pod is nominated to a node (it preempted pods there
    /// and waits for them to go). Filters then count it on that node for
    /// pods of lower or equal priority.
    pub fn set_nominated(&mut self, p: Arc<PodInfo>, node: &str) {
        self.clear_nominated(&p.key);
        self.nominated_by_pod
            .insert(p.key.clone(), node.to_string());
        self.nominated.entry(node.to_string()).or_default().push(p);
    }

    /// Forget a pod's nomination.
    pub fn clear_nominated(&mut self, key: &str) {
        if let Some(node) = self.nominated_by_pod.remove(key)
            && let Some(list) = self.nominated.get_mut(&node)
        {
            list.retain(|p| p.key != key);
            if list.is_empty() {
                self.nominated.remove(&node);
            }
        }
    }

    /// The node a pod is nominated to.
    pub fn nominated_node(&self, key: &str) -> Option<&str> {
        self.nominated_by_pod.get(key).map(String::as_str)
    }

    /// Pods nominated to a node.
    pub fn nominated_pods(&self, node: &str) -> &[Arc<PodInfo>] {
        self.nominated.get(node).map_or(&[], Vec::as_slice)
    }

    /// Whether any pod is nominated anywhere.
    pub fn has_nominated_pods(&self) -> bool {
        !self.nominated.is_empty()
    }

    // ---- images ----

    /// On how many nodes an image (normalized name) is present.
    pub fn image_num_nodes(&self, image: &str) -> usize {
        self.image_nodes.get(image).map_or(0, |n| *n as usize)
    }

    // ---- namespaces ----

    /// Set a namespace's labels.
    pub fn set_namespace(&mut self, name: &str, labels: BTreeMap<String, String>) {
        self.namespaces.insert(name.to_string(), labels);
    }

    /// Forget a namespace.
    pub fn remove_namespace(&mut self, name: &str) {
        self.namespaces.remove(name);
    }

    /// A namespace's labels (empty when unknown).
    pub fn namespace_labels(&self, name: &str) -> &BTreeMap<String, String> {
        self.namespaces.get(name).unwrap_or(&EMPTY_LABELS)
    }

    // ---- spreading selectors ----

    /// Add or replace a Service (its selector feeds default spreading).
    pub fn upsert_service(&mut self, svc: &Service) {
        let ns = svc
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into());
        let key = format!("{ns}/{}", svc.metadata.name.as_deref().unwrap_or_default());
        self.services.insert(
            key,
            (ns, svc.spec.as_ref().and_then(|s| s.selector.clone())),
        );
    }

    /// Forget a Service.
    pub fn remove_service(&mut self, namespace: &str, name: &str) {
        self.services.remove(&format!("{namespace}/{name}"));
    }

    /// Add or replace a controller's selector, keyed by kind, namespace and
    /// name (kinds: `ReplicationController`, `ReplicaSet`, `StatefulSet`).
    pub fn upsert_controller(
        &mut self,
        kind: &str,
        namespace: &str,
        name: &str,
        sel: ControllerSelector,
    ) {
        self.controllers.insert(
            (kind.to_string(), namespace.to_string(), name.to_string()),
            sel,
        );
    }

    /// Forget a controller.
    pub fn remove_controller(&mut self, kind: &str, namespace: &str, name: &str) {
        self.controllers
            .remove(&(kind.to_string(), namespace.to_string(), name.to_string()));
    }

    /// Add or replace a ReplicationController.
    pub fn upsert_replication_controller(&mut self, rc: &ReplicationController) {
        let sel = rc
            .spec
            .as_ref()
            .and_then(|s| s.selector.clone())
            .unwrap_or_default();
        self.upsert_controller(
            "ReplicationController",
            rc.metadata.namespace.as_deref().unwrap_or("default"),
            rc.metadata.name.as_deref().unwrap_or_default(),
            ControllerSelector::Set(sel),
        );
    }

    /// Add or replace a ReplicaSet.
    pub fn upsert_replica_set(&mut self, rs: &ReplicaSet) {
        let sel = Selector::from_label_selector(rs.spec.as_ref().map(|s| &s.selector));
        self.upsert_controller(
            "ReplicaSet",
            rs.metadata.namespace.as_deref().unwrap_or("default"),
            rs.metadata.name.as_deref().unwrap_or_default(),
            ControllerSelector::Selector(sel),
        );
    }

    /// Add or replace a StatefulSet.
    pub fn upsert_stateful_set(&mut self, ss: &StatefulSet) {
        let sel = Selector::from_label_selector(ss.spec.as_ref().map(|s| &s.selector));
        self.upsert_controller(
            "StatefulSet",
            ss.metadata.namespace.as_deref().unwrap_or("default"),
            ss.metadata.name.as_deref().unwrap_or_default(),
            ControllerSelector::Selector(sel),
        );
    }

    /// The selector of "pods of the same Service / controller" as `pod`
    /// (upstream's `helper.DefaultSelector`): the merged selectors of the
    /// Services selecting the pod, plus the selector of the pod's
    /// controlling ReplicationController, ReplicaSet or StatefulSet.
    pub fn default_selector(&self, pod: &PodInfo) -> Selector {
        let mut set: BTreeMap<String, String> = BTreeMap::new();
        for (ns, sel) in self.services.values() {
            if *ns != pod.namespace {
                continue;
            }
            let Some(sel) = sel else { continue };
            if Selector::from_set(sel).matches(pod.labels()) {
                set.extend(sel.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
        }
        let mut selector = Selector::from_set(&set);
        let Some(owner) = &pod.controller else {
            return selector;
        };
        let kind = match (owner.api_version.as_str(), owner.kind.as_str()) {
            ("v1", "ReplicationController") => "ReplicationController",
            ("apps/v1", "ReplicaSet") => "ReplicaSet",
            ("apps/v1", "StatefulSet") => "StatefulSet",
            _ => return selector,
        };
        match self
            .controllers
            .get(&(kind.to_string(), pod.namespace.clone(), owner.name.clone()))
        {
            Some(ControllerSelector::Set(s)) => {
                set.extend(s.iter().map(|(k, v)| (k.clone(), v.clone())));
                selector = Selector::from_set(&set);
            }
            Some(ControllerSelector::Selector(Selector::Requirements(r))) => {
                selector.add(r.iter().cloned())
            }
            _ => {}
        }
        selector
    }

    // ---- PDBs ----

    /// Add or replace a PodDisruptionBudget.
    pub fn upsert_pdb(&mut self, pdb: &PodDisruptionBudget) {
        let info = PdbInfo::new(pdb);
        self.pdbs
            .insert(format!("{}/{}", info.namespace, info.name), info);
    }

    /// Forget a PodDisruptionBudget.
    pub fn remove_pdb(&mut self, namespace: &str, name: &str) {
        self.pdbs.remove(&format!("{namespace}/{name}"));
    }

    /// The PodDisruptionBudgets, sorted by key.
    pub fn pdbs(&self) -> Vec<&PdbInfo> {
        let mut v: Vec<_> = self.pdbs.iter().collect();
        v.sort_by(|a, b| a.0.cmp(b.0));
        v.into_iter().map(|(_, p)| p).collect()
    }

    // ---- node selectors ----

    /// Which nodes (by [`NodeInfo::index`]) a pod's required node selector
    /// matches, computed once per distinct selector (`key`: its canonical
    /// text) until nodes or their labels change. The pods of one workload
    /// share their selector: each then costs a lookup per node instead of
    /// label matching.
    pub fn node_selector_matches(
        &self,
        key: String,
        selector: &crate::labels::NodeSelector,
    ) -> Arc<Vec<bool>> {
        /// Distinct selectors remembered at most.
        const REMEMBERED: usize = 256;
        let mut cache = self
            .selector_matches
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(m) = cache.get(&key) {
            return m.clone();
        }
        if cache.len() >= REMEMBERED {
            cache.clear();
        }
        let m: Arc<Vec<bool>> = Arc::new(
            self.nodes
                .iter()
                .map(|n| selector.matches(n.labels(), n.name()))
                .collect(),
        );
        cache.insert(key, m.clone());
        m
    }

    // ---- storage (VolumeBinding) ----

    /// Claims, volumes and storage classes, as VolumeBinding reads them.
    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    /// Claims, volumes and storage classes, to change.
    pub fn storage_mut(&mut self) -> &mut Storage {
        &mut self.storage
    }
}

/// What VolumeBinding reads of a PersistentVolumeClaim.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClaimInfo {
    /// `spec.volumeName`: the volume it is bound to, if any.
    pub volume: Option<String>,
    /// `spec.storageClassName`.
    pub class: Option<String>,
    /// Being deleted.
    pub deleting: bool,
}

/// Claims (by `namespace/name`), volumes' node affinity (by name) and
/// storage classes' binding mode (by name, true: `WaitForFirstConsumer`).
#[derive(Debug, Default)]
pub struct Storage {
    claims: HashMap<String, ClaimInfo>,
    volumes: HashMap<String, Option<Vec<crate::labels::NodeSelectorTermMatcher>>>,
    classes: HashMap<String, bool>,
}

impl Storage {
    /// Add or replace a claim.
    pub fn upsert_claim(&mut self, claim: &k8s_openapi::api::core::v1::PersistentVolumeClaim) {
        let meta = &claim.metadata;
        let key = format!(
            "{}/{}",
            meta.namespace.as_deref().unwrap_or("default"),
            meta.name.as_deref().unwrap_or_default()
        );
        let spec = claim.spec.as_ref();
        let info = ClaimInfo {
            volume: spec
                .and_then(|s| s.volume_name.clone())
                .filter(|v| !v.is_empty()),
            class: spec.and_then(|s| s.storage_class_name.clone()),
            deleting: meta.deletion_timestamp.is_some(),
        };
        self.claims.insert(key, info);
    }

    /// Forget a claim.
    pub fn remove_claim(&mut self, namespace: &str, name: &str) {
        self.claims.remove(&format!("{namespace}/{name}"));
    }

    /// A claim, by namespace and name.
    pub fn claim(&self, namespace: &str, name: &str) -> Option<&ClaimInfo> {
        self.claims.get(&format!("{namespace}/{name}"))
    }

    /// Add or replace a volume (its required node affinity).
    pub fn upsert_volume(&mut self, pv: &k8s_openapi::api::core::v1::PersistentVolume) {
        let terms = pv
            .spec
            .as_ref()
            .and_then(|s| s.node_affinity.as_ref())
            .and_then(|a| a.required.as_ref())
            .map(|r| {
                r.node_selector_terms
                    .iter()
                    .map(crate::labels::NodeSelectorTermMatcher::new)
                    .collect()
            });
        self.volumes
            .insert(pv.metadata.name.clone().unwrap_or_default(), terms);
    }

    /// Forget a volume.
    pub fn remove_volume(&mut self, name: &str) {
        self.volumes.remove(name);
    }

    /// A volume's required node affinity terms: `None` if the volume is
    /// unknown, `Some(None)` if it may be used on any node.
    pub fn volume_affinity(
        &self,
        name: &str,
    ) -> Option<Option<&[crate::labels::NodeSelectorTermMatcher]>> {
        self.volumes.get(name).map(|t| t.as_deref())
    }

    /// Add or replace a storage class.
    pub fn upsert_class(&mut self, class: &k8s_openapi::api::storage::v1::StorageClass) {
        self.classes.insert(
            class.metadata.name.clone().unwrap_or_default(),
            class.volume_binding_mode.as_deref() == Some("WaitForFirstConsumer"),
        );
    }

    /// Forget a storage class.
    pub fn remove_class(&mut self, name: &str) {
        self.classes.remove(name);
    }

    /// Whether claims of this class wait for their first consumer
    /// (`volumeBindingMode: WaitForFirstConsumer`); unknown classes bind
    /// immediately.
    pub fn waits_for_first_consumer(&self, class: &str) -> bool {
        self.classes.get(class).copied().unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::*;

    #[test]
    fn incremental_accounting() {
        let mut s = Snapshot::new();
        s.upsert_node(node("n1").cpu("4").memory("8Gi").obj());
        s.add_pod(
            pod("a")
                .node("n1")
                .container(&[("cpu", "1"), ("memory", "1Gi")])
                .host_port(80)
                .obj(),
        );
        s.add_pod(pod("b").node("n1").container(&[]).obj());
        let n = s.node("n1").unwrap();
        assert_eq!(n.requested.milli_cpu, 1000);
        assert_eq!(n.requested.memory, 1 << 30);
        // The host-port container and pod b request nothing: 100m / 200Mi each.
        assert_eq!(n.non_zero_cpu, 1200);
        assert_eq!(n.non_zero_memory, (1 << 30) + 400 * 1024 * 1024);
        assert_eq!(n.used_ports().len(), 1);
        assert_eq!(n.pods().len(), 2);
        s.remove_pod("default/a");
        let n = s.node("n1").unwrap();
        assert_eq!(n.requested.milli_cpu, 0);
        assert!(n.used_ports().is_empty());
        // Replacing a pod does not double count.
        s.add_pod(pod("b").node("n1").container(&[("cpu", "2")]).obj());
        assert_eq!(s.node("n1").unwrap().requested.milli_cpu, 2000);
        assert_eq!(s.num_pods(), 1);
    }

    #[test]
    fn finished_pods_free_their_resources() {
        let mut s = Snapshot::from_objects(
            [node("n1").cpu("1").obj()],
            [pod("job").node("n1").container(&[("cpu", "1")]).obj()],
        );
        assert_eq!(s.node("n1").unwrap().requested.milli_cpu, 1000);
        let mut done = pod("job").node("n1").container(&[("cpu", "1")]).obj();
        done.status.as_mut().unwrap().phase = Some("Succeeded".into());
        assert!(!s.add_pod(done));
        assert_eq!(s.node("n1").unwrap().requested.milli_cpu, 0);
        assert_eq!(s.num_pods(), 0);
    }

    #[test]
    fn shareable_across_threads() {
        fn check<T: Send + Sync>() {}
        check::<Snapshot>();
        check::<crate::framework::Framework>();
        check::<crate::framework::FitError>();
    }

    #[test]
    fn pods_before_their_node_and_node_removal() {
        let mut s = Snapshot::new();
        s.add_pod(pod("a").node("n1").container(&[("cpu", "1")]).obj());
        assert_eq!(s.num_nodes(), 0);
        s.upsert_node(node("n0").obj());
        s.upsert_node(node("n1").cpu("4").obj());
        assert_eq!(s.node("n1").unwrap().requested.milli_cpu, 1000);
        assert!(s.remove_node("n0"));
        assert_eq!(s.node_index("n1"), Some(0));
        s.remove_node("n1");
        s.upsert_node(node("n1").obj());
        assert_eq!(s.node("n1").unwrap().pods().len(), 1);
        assert!(s.remove_pod("default/a").is_some());
    }

    #[test]
    fn zone_interleaved_order() {
        let mut s = Snapshot::new();
        for (n, z) in [
            ("a1", "a"),
            ("a2", "a"),
            ("a3", "a"),
            ("b1", "b"),
            ("c1", "c"),
            ("c2", "c"),
        ] {
            s.upsert_node(node(n).label("topology.kubernetes.io/zone", z).obj());
        }
        let names: Vec<&str> = s
            .order()
            .iter()
            .map(|&i| s.node_at(i as usize).name())
            .collect();
        assert_eq!(names, ["a1", "b1", "c1", "a2", "c2", "a3"]);
    }

    #[test]
    fn condition_taints() {
        let s = Snapshot::from_objects(
            [
                node("ready").condition("Ready", "True").obj(),
                node("notready").condition("Ready", "False").obj(),
                node("unknown")
                    .condition("Ready", "Unknown")
                    .condition("DiskPressure", "True")
                    .obj(),
                node("tainted")
                    .condition("Ready", "False")
                    .taint(taint_keys::NOT_READY, "", "NoSchedule")
                    .obj(),
            ],
            [],
        );
        assert!(s.node("ready").unwrap().taints().is_empty());
        assert_eq!(
            s.node("notready").unwrap().taints()[0].key,
            taint_keys::NOT_READY
        );
        let keys: Vec<_> = s
            .node("unknown")
            .unwrap()
            .taints()
            .iter()
            .map(|t| t.key.as_str())
            .collect();
        assert_eq!(keys, [taint_keys::UNREACHABLE, taint_keys::DISK_PRESSURE]);
        assert_eq!(s.node("tainted").unwrap().taints().len(), 1);
        let s = Snapshot::with_options(SnapshotOptions {
            condition_taints: false,
        });
        let mut s = s;
        s.upsert_node(node("notready").condition("Ready", "False").obj());
        assert!(s.node("notready").unwrap().taints().is_empty());
    }

    #[test]
    fn images_counted_per_node() {
        let mut s = Snapshot::new();
        s.upsert_node(
            node("n1")
                .image(&["nginx:1.25", "docker.io/library/nginx:1.25"], 100)
                .obj(),
        );
        s.upsert_node(node("n2").image(&["nginx:1.25"], 100).obj());
        assert_eq!(s.image_num_nodes("nginx:1.25"), 2);
        s.upsert_node(node("n2").obj());
        assert_eq!(s.image_num_nodes("nginx:1.25"), 1);
        s.remove_node("n1");
        assert_eq!(s.image_num_nodes("nginx:1.25"), 0);
    }

    #[test]
    fn default_selector_merges_services_and_controllers() {
        let mut s = Snapshot::new();
        let svc = |name: &str, sel: &[(&str, &str)]| Service {
            metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                name: Some(name.into()),
                namespace: Some("default".into()),
                ..Default::default()
            },
            spec: Some(k8s_openapi::api::core::v1::ServiceSpec {
                selector: Some(
                    sel.iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                ),
                ..Default::default()
            }),
            ..Default::default()
        };
        s.upsert_service(&svc("web", &[("app", "web")]));
        s.upsert_service(&svc("other", &[("app", "db")]));
        let p = PodInfo::new(
            pod("p")
                .label("app", "web")
                .label("pod-template-hash", "x")
                .owner("ReplicaSet", "rs1")
                .obj(),
        );
        let sel = s.default_selector(&p);
        assert!(
            sel.matches(
                &[("app".to_string(), "web".to_string())]
                    .into_iter()
                    .collect()
            )
        );
        s.upsert_controller(
            "ReplicaSet",
            "default",
            "rs1",
            ControllerSelector::Selector(Selector::from_set(
                &[("pod-template-hash".to_string(), "x".to_string())]
                    .into_iter()
                    .collect(),
            )),
        );
        let sel = s.default_selector(&p);
        assert!(
            !sel.matches(
                &[("app".to_string(), "web".to_string())]
                    .into_iter()
                    .collect()
            )
        );
        assert!(sel.matches(p.labels()));
        let lone = PodInfo::new(pod("q").label("x", "y").obj());
        assert!(s.default_selector(&lone).is_empty());
    }

    #[test]
    fn avoid_pods_annotation() {
        let n = node("n1")
            .annotation(
                PREFER_AVOID_PODS_ANNOTATION,
                r#"{"preferAvoidPods":[{"podSignature":{"podController":{"apiVersion":"v1","kind":"ReplicationController","name":"foo","uid":"abc","controller":true}},"reason":"r"}]}"#,
            )
            .obj();
        let ni = NodeInfo::new(n, &SnapshotOptions::default());
        assert_eq!(
            ni.avoid_pods(),
            [AvoidPods {
                kind: "ReplicationController".into(),
                uid: "abc".into()
            }]
        );
    }
}

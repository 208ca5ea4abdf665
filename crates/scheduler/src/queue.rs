//! The scheduling queue (upstream's `PriorityQueue`): which pending pod to
//! try next, and when to try a pod that did not fit again. Pure: time is an
//! argument ([`Instant`]), nothing here sleeps or does IO.
//!
//! Three places a pod can wait, as upstream:
//!
//! - **activeQ**: pods to try now, highest `priority` first, then the
//!   earliest enqueued (upstream's PrioritySort).
//! - **backoffQ**: pods that failed and wait out their backoff before they
//!   return to activeQ. The backoff doubles with each attempt, from
//!   `podInitialBackoffSeconds` (1 s) to `podMaxBackoffSeconds` (10 s).
//! - **unschedulable pods**: pods that fit no node. They stay there until
//!   a [`ClusterEvent`] that may make them fit happens (a node added, a pod
//!   deleted, a label changed, ...), which moves them to backoffQ (if
//!   their backoff has not expired yet) or activeQ; an event only moves
//!   pods rejected by a plugin the event can change the verdict of
//!   ([`ClusterEvent::may_help`]). As a safety net, pods unschedulable for
//!   longer than [`UNSCHEDULABLE_TIMEOUT`] move anyway
//!   ([`SchedulingQueue::flush_unschedulable_leftover`], which the caller
//!   runs every [`FLUSH_UNSCHEDULABLE_INTERVAL`]).
//!
//! So a pod that fits nowhere is retried when the cluster changes, at most
//! once per backoff period, and otherwise every five minutes — never in a
//! hot loop. Updates of a pending pod that only touch its status (the
//! scheduler's own `PodScheduled=False` condition) move nothing
//! ([`pod_updated`]).

use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Node, Pod};

use crate::plugins::names;
use crate::pod_info::PodInfo;

/// How long a pod stays among the unschedulable pods without a cluster
/// event before it is retried anyway (upstream's
/// `podMaxInUnschedulablePodsDuration`).
pub const UNSCHEDULABLE_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// How often [`SchedulingQueue::flush_unschedulable_leftover`] should run
/// (upstream's `flushUnschedulablePodsLeftover` period).
pub const FLUSH_UNSCHEDULABLE_INTERVAL: Duration = Duration::from_secs(30);

/// A pending pod in the queue, with its scheduling history.
#[derive(Clone, Debug)]
pub struct QueuedPod {
    /// The pod.
    pub info: Arc<PodInfo>,
    /// When it was last added to the queue (after a failure: the failure).
    /// Orders pods of equal priority and starts the backoff.
    pub timestamp: Instant,
    /// Scheduling attempts so far.
    pub attempts: u32,
    /// When it was first popped for scheduling.
    pub initial_attempt: Option<Instant>,
    /// The plugins that rejected it in its last attempt (empty: any cluster
    /// event may help).
    pub unschedulable_plugins: BTreeSet<&'static str>,
}

impl QueuedPod {
    /// A pod never tried.
    pub fn new(info: Arc<PodInfo>, now: Instant) -> QueuedPod {
        QueuedPod {
            info,
            timestamp: now,
            attempts: 0,
            initial_attempt: None,
            unschedulable_plugins: BTreeSet::new(),
        }
    }

    /// `namespace/name`.
    pub fn key(&self) -> &str {
        &self.info.key
    }
}

/// Something that changed in the cluster and may make unschedulable pods
/// fit (upstream's `ClusterEvent`s of the default plugins).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClusterEvent {
    /// A node was added.
    NodeAdd,
    /// A node changed in a way that matters to scheduling.
    NodeUpdate(NodeChange),
    /// A pod was assigned to a node (by anyone).
    AssignedPodAdd,
    /// An assigned pod's labels or requests changed.
    AssignedPodUpdate,
    /// An assigned pod went away (deleted, finished, or a binding that
    /// failed and was forgotten): its resources, ports and spreading counts
    /// are free.
    AssignedPodDelete,
    /// A namespace's labels changed (pod affinity `namespaceSelector`).
    NamespaceUpdate,
    /// A PersistentVolumeClaim, PersistentVolume or StorageClass was added
    /// or changed (VolumeBinding).
    StorageChange,
}

/// What changed in a node, for [`ClusterEvent::NodeUpdate`]
/// (see [`node_change`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NodeChange {
    /// Labels.
    pub labels: bool,
    /// `spec.taints`.
    pub taints: bool,
    /// `status.allocatable`.
    pub allocatable: bool,
    /// `spec.unschedulable` (cordon).
    pub unschedulable: bool,
    /// The status of a condition that implies a taint (Ready, pressure).
    pub conditions: bool,
    /// Images on the node (scores only).
    pub images: bool,
    /// Annotations (scores only).
    pub annotations: bool,
}

impl NodeChange {
    /// Whether anything a filter reads changed.
    pub fn any_filter_input(&self) -> bool {
        self.labels || self.taints || self.allocatable || self.unschedulable || self.conditions
    }
}

/// What changed between two versions of a node, ignoring what scheduling
/// does not read (heartbeat times, resourceVersion, managedFields, ...).
pub fn node_change(old: &Node, new: &Node) -> NodeChange {
    let spec = |n: &Node| n.spec.clone().unwrap_or_default();
    let status = |n: &Node| n.status.clone().unwrap_or_default();
    let (os, ns) = (spec(old), spec(new));
    let (ost, nst) = (status(old), status(new));
    let conditions = |s: &k8s_openapi::api::core::v1::NodeStatus| -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = s
            .conditions
            .iter()
            .flatten()
            .map(|c| (c.type_.clone(), c.status.clone()))
            .collect();
        v.sort();
        v
    };
    NodeChange {
        labels: old.metadata.labels != new.metadata.labels,
        taints: os.taints.unwrap_or_default() != ns.taints.unwrap_or_default(),
        allocatable: ost.allocatable != nst.allocatable,
        unschedulable: os.unschedulable.unwrap_or(false) != ns.unschedulable.unwrap_or(false),
        conditions: conditions(&ost) != conditions(&nst),
        images: ost.images != nst.images,
        annotations: old.metadata.annotations != new.metadata.annotations,
    }
}

impl ClusterEvent {
    /// Whether this event can change the verdict of `plugin` (a plugin that
    /// rejected a pod). Unknown plugins are assumed to care about every
    /// event.
    pub fn may_help(&self, plugin: &str) -> bool {
        use names::*;
        let known = [
            NODE_UNSCHEDULABLE,
            NODE_NAME,
            TAINT_TOLERATION,
            NODE_AFFINITY,
            NODE_PORTS,
            NODE_RESOURCES_FIT,
            VOLUME_RESTRICTIONS,
            VOLUME_BINDING,
            POD_TOPOLOGY_SPREAD,
            INTER_POD_AFFINITY,
            NODE_LABEL,
        ];
        if !known.contains(&plugin) {
            return true;
        }
        match self {
            ClusterEvent::StorageChange => plugin == VOLUME_BINDING,
            ClusterEvent::NodeAdd => true,
            ClusterEvent::NodeUpdate(c) => match plugin {
                VOLUME_BINDING => c.labels,
                NODE_UNSCHEDULABLE => c.unschedulable,
                TAINT_TOLERATION => c.taints || c.conditions,
                NODE_AFFINITY | NODE_LABEL => c.labels,
                NODE_RESOURCES_FIT => c.allocatable,
                POD_TOPOLOGY_SPREAD | INTER_POD_AFFINITY => c.labels,
                NODE_NAME | NODE_PORTS | VOLUME_RESTRICTIONS => false,
                _ => true,
            },
            ClusterEvent::AssignedPodAdd => {
                matches!(plugin, INTER_POD_AFFINITY | POD_TOPOLOGY_SPREAD)
            }
            ClusterEvent::AssignedPodUpdate => matches!(
                plugin,
                INTER_POD_AFFINITY | POD_TOPOLOGY_SPREAD | NODE_RESOURCES_FIT
            ),
            ClusterEvent::AssignedPodDelete => matches!(
                plugin,
                NODE_RESOURCES_FIT
                    | NODE_PORTS
                    | INTER_POD_AFFINITY
                    | POD_TOPOLOGY_SPREAD
                    | VOLUME_RESTRICTIONS
            ),
            ClusterEvent::NamespaceUpdate => plugin == INTER_POD_AFFINITY,
        }
    }

    /// Whether the event may make a pod rejected by `plugins` fit (an empty
    /// set: yes).
    pub fn may_help_any(&self, plugins: &BTreeSet<&'static str>) -> bool {
        plugins.is_empty() || plugins.iter().any(|p| self.may_help(p))
    }
}

/// Whether a pending pod's update can change where it fits (upstream's
/// `isPodUpdated`): anything but its status, resourceVersion, generation and
/// managedFields.
pub fn pod_updated(old: &Pod, new: &Pod) -> bool {
    let strip = |p: &Pod| {
        let mut m = p.metadata.clone();
        m.resource_version = None;
        m.generation = None;
        m.managed_fields = None;
        m
    };
    old.spec != new.spec || strip(old) != strip(new)
}

/// Where a queued pod is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    Active,
    Backoff,
    Unschedulable,
}

/// The activeQ ordering: higher priority, then earlier timestamp, then
/// insertion order.
type ActiveKey = (Reverse<i32>, Instant, u64, String);
/// The backoffQ ordering: earlier expiry, then insertion order.
type BackoffKey = (Instant, u64, String);

#[derive(Debug)]
struct Entry {
    pod: QueuedPod,
    place: Place,
    seq: u64,
    /// When it became unschedulable, or its backoff expiry.
    since: Instant,
}

/// The scheduling queue. See the module documentation.
#[derive(Debug)]
pub struct SchedulingQueue {
    pods: HashMap<String, Entry>,
    active: BTreeSet<ActiveKey>,
    backoff: BTreeSet<BackoffKey>,
    unschedulable: HashSet<String>,
    initial_backoff: Duration,
    max_backoff: Duration,
    seq: u64,
}

impl SchedulingQueue {
    /// An empty queue with these backoff bounds.
    pub fn new(initial_backoff: Duration, max_backoff: Duration) -> SchedulingQueue {
        SchedulingQueue {
            pods: HashMap::new(),
            active: BTreeSet::new(),
            backoff: BTreeSet::new(),
            unschedulable: HashSet::new(),
            initial_backoff,
            max_backoff: max_backoff.max(initial_backoff),
            seq: 0,
        }
    }

    /// The backoff after `attempts` failed attempts (upstream's
    /// `calculateBackoffDuration`: initial × 2^(attempts-1), at most max).
    pub fn backoff_duration(&self, attempts: u32) -> Duration {
        let mut d = self.initial_backoff;
        for _ in 1..attempts {
            d = d.saturating_mul(2);
            if d >= self.max_backoff {
                return self.max_backoff;
            }
        }
        d.min(self.max_backoff)
    }

    fn backoff_expiry(&self, p: &QueuedPod) -> Instant {
        p.timestamp + self.backoff_duration(p.attempts)
    }

    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    fn active_key(e: &Entry) -> ActiveKey {
        (
            Reverse(e.pod.info.priority),
            e.pod.timestamp,
            e.seq,
            e.pod.info.key.clone(),
        )
    }

    /// Take a pod out of the structure of its place (not out of `pods`).
    fn unlink(&mut self, key: &str) {
        let Some(e) = self.pods.get(key) else {
            return;
        };
        match e.place {
            Place::Active => {
                let k = Self::active_key(e);
                self.active.remove(&k);
            }
            Place::Backoff => {
                let k = (e.since, e.seq, key.to_string());
                self.backoff.remove(&k);
            }
            Place::Unschedulable => {
                self.unschedulable.remove(key);
            }
        }
    }

    /// Put a pod at a place (replacing any earlier entry).
    fn place(&mut self, pod: QueuedPod, place: Place, now: Instant) {
        let key = pod.info.key.clone();
        self.unlink(&key);
        let seq = self.next_seq();
        let since = match place {
            Place::Backoff => self.backoff_expiry(&pod),
            _ => now,
        };
        let e = Entry {
            pod,
            place,
            seq,
            since,
        };
        match place {
            Place::Active => {
                self.active.insert(Self::active_key(&e));
            }
            Place::Backoff => {
                self.backoff.insert((since, seq, key.clone()));
            }
            Place::Unschedulable => {
                self.unschedulable.insert(key.clone());
            }
        }
        self.pods.insert(key, e);
    }

    /// Whether the pod's backoff has not expired yet.
    fn backing_off(&self, p: &QueuedPod, now: Instant) -> bool {
        p.attempts > 0 && self.backoff_expiry(p) > now
    }

    /// Move an unschedulable pod on: to backoffQ while backing off, else to
    /// activeQ.
    fn requeue(&mut self, key: &str, now: Instant) {
        let Some(e) = self.pods.get(key) else {
            return;
        };
        let pod = e.pod.clone();
        let place = if self.backing_off(&pod, now) {
            Place::Backoff
        } else {
            Place::Active
        };
        self.place(pod, place, now);
    }

    /// A new pending pod, or a new version of one already queued. A new pod
    /// goes to activeQ. A queued pod gets the new version in place, except
    /// that an unschedulable pod whose spec or metadata changed
    /// ([`pod_updated`]) is moved to backoffQ or activeQ, since the change
    /// may make it fit.
    pub fn add_or_update(&mut self, info: Arc<PodInfo>, now: Instant) {
        let Some(e) = self.pods.get_mut(&info.key) else {
            let pod = QueuedPod::new(info, now);
            self.place(pod, Place::Active, now);
            return;
        };
        let updated = pod_updated(&e.pod.info.pod, &info.pod);
        match e.place {
            Place::Active => {
                // The priority may change the order: re-key.
                let mut pod = e.pod.clone();
                pod.info = info;
                self.place(pod, Place::Active, now);
            }
            Place::Backoff => e.pod.info = info,
            Place::Unschedulable => {
                e.pod.info = info;
                if updated {
                    let key = e.pod.info.key.clone();
                    self.requeue(&key, now);
                }
            }
        }
    }

    /// Forget a pod (deleted, assigned, or no longer this scheduler's).
    /// Returns it if it was queued.
    pub fn remove(&mut self, key: &str) -> Option<QueuedPod> {
        self.unlink(key);
        self.pods.remove(key).map(|e| e.pod)
    }

    /// Whether a pod is queued (anywhere).
    pub fn contains(&self, key: &str) -> bool {
        self.pods.contains_key(key)
    }

    /// A queued pod.
    pub fn get(&self, key: &str) -> Option<&QueuedPod> {
        self.pods.get(key).map(|e| &e.pod)
    }

    /// Every queued pod, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &QueuedPod> {
        self.pods.values().map(|e| &e.pod)
    }

    /// Move the pods whose backoff expired from backoffQ to activeQ.
    pub fn flush_backoff(&mut self, now: Instant) -> usize {
        let mut moved = 0;
        while let Some((expiry, _, key)) = self.backoff.first().cloned() {
            if expiry > now {
                break;
            }
            if let Some(e) = self.pods.get(&key) {
                let pod = e.pod.clone();
                self.place(pod, Place::Active, now);
            } else {
                self.backoff.pop_first();
            }
            moved += 1;
        }
        moved
    }

    /// The next pod to schedule: the highest-priority pod of activeQ (after
    /// moving in the pods whose backoff expired). It leaves the queue; the
    /// caller gives it back with [`SchedulingQueue::add_unschedulable`] or
    /// [`SchedulingQueue::add_backoff`] if it does not get bound.
    pub fn pop(&mut self, now: Instant) -> Option<QueuedPod> {
        self.flush_backoff(now);
        let (_, _, _, key) = self.active.pop_first()?;
        let mut e = self.pods.remove(&key).expect("activeQ entries are queued");
        e.pod.attempts += 1;
        e.pod.initial_attempt.get_or_insert(now);
        Some(e.pod)
    }

    /// A popped pod that fits no node: it waits among the unschedulable
    /// pods for a cluster event that may help one of `plugins`.
    pub fn add_unschedulable(
        &mut self,
        mut pod: QueuedPod,
        plugins: BTreeSet<&'static str>,
        now: Instant,
    ) {
        pod.timestamp = now;
        pod.unschedulable_plugins = plugins;
        self.place(pod, Place::Unschedulable, now);
    }

    /// A popped pod that failed for another reason (an error, a binding
    /// that failed): retry after its backoff.
    pub fn add_backoff(&mut self, mut pod: QueuedPod, now: Instant) {
        pod.timestamp = now;
        pod.unschedulable_plugins.clear();
        self.place(pod, Place::Backoff, now);
    }

    /// A cluster event: move the unschedulable pods it may help (see
    /// [`ClusterEvent::may_help_any`]). Returns how many moved.
    pub fn move_on_event(&mut self, event: ClusterEvent, now: Instant) -> usize {
        let keys: Vec<String> = self
            .unschedulable
            .iter()
            .filter(|k| {
                self.pods
                    .get(*k)
                    .is_some_and(|e| event.may_help_any(&e.pod.unschedulable_plugins))
            })
            .cloned()
            .collect();
        for k in &keys {
            self.requeue(k, now);
        }
        keys.len()
    }

    /// Move the pods unschedulable for longer than `max` (see
    /// [`UNSCHEDULABLE_TIMEOUT`]). Returns how many moved.
    pub fn flush_unschedulable_leftover(&mut self, now: Instant, max: Duration) -> usize {
        let keys: Vec<String> = self
            .unschedulable
            .iter()
            .filter(|k| {
                self.pods
                    .get(*k)
                    .is_some_and(|e| now.duration_since(e.since) > max)
            })
            .cloned()
            .collect();
        for k in &keys {
            self.requeue(k, now);
        }
        keys.len()
    }

    /// Whether [`SchedulingQueue::pop`] would return a pod now.
    pub fn has_ready(&self, now: Instant) -> bool {
        !self.active.is_empty() || self.next_backoff_expiry().is_some_and(|t| t <= now)
    }

    /// When the earliest backoff expires (the caller wakes up then).
    pub fn next_backoff_expiry(&self) -> Option<Instant> {
        self.backoff.first().map(|(t, _, _)| *t)
    }

    /// Pods in activeQ.
    pub fn num_active(&self) -> usize {
        self.active.len()
    }

    /// Pods in backoffQ.
    pub fn num_backoff(&self) -> usize {
        self.backoff.len()
    }

    /// Unschedulable pods.
    pub fn num_unschedulable(&self) -> usize {
        self.unschedulable.len()
    }

    /// All queued pods.
    pub fn len(&self) -> usize {
        self.pods.len()
    }

    /// Whether no pod is queued.
    pub fn is_empty(&self) -> bool {
        self.pods.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn info(name: &str, priority: i32) -> Arc<PodInfo> {
        info_with(name, priority, json!({}))
    }

    fn info_with(name: &str, priority: i32, labels: serde_json::Value) -> Arc<PodInfo> {
        PodInfo::arc(
            serde_json::from_value(json!({
                "metadata": {"name": name, "namespace": "default", "labels": labels},
                "spec": {"priority": priority, "containers": [{"name": "c"}]},
            }))
            .unwrap(),
        )
    }

    fn queue() -> SchedulingQueue {
        SchedulingQueue::new(Duration::from_secs(1), Duration::from_secs(10))
    }

    fn plugins(p: &[&'static str]) -> BTreeSet<&'static str> {
        p.iter().copied().collect()
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn active_is_ordered_by_priority_then_time() {
        let t = Instant::now();
        let mut q = queue();
        q.add_or_update(info("low", 1), t);
        q.add_or_update(info("high-late", 10), t + secs(2));
        q.add_or_update(info("high-early", 10), t + secs(1));
        q.add_or_update(info("mid", 5), t);
        let order: Vec<String> = std::iter::from_fn(|| q.pop(t + secs(3)))
            .map(|p| p.info.name.clone())
            .collect();
        assert_eq!(order, ["high-early", "high-late", "mid", "low"]);
        assert!(q.is_empty());
    }

    #[test]
    fn a_priority_change_reorders() {
        let t = Instant::now();
        let mut q = queue();
        q.add_or_update(info("a", 1), t);
        q.add_or_update(info("b", 2), t);
        q.add_or_update(info("a", 3), t);
        assert_eq!(q.len(), 2);
        assert_eq!(q.pop(t).unwrap().info.name, "a");
        assert_eq!(q.pop(t).unwrap().info.name, "b");
    }

    #[test]
    fn backoff_doubles_up_to_the_maximum() {
        let q = queue();
        let d: Vec<u64> = (1..=6).map(|a| q.backoff_duration(a).as_secs()).collect();
        assert_eq!(d, [1, 2, 4, 8, 10, 10]);
    }

    #[test]
    fn unschedulable_pods_wait_for_a_helpful_event() {
        let t = Instant::now();
        let mut q = queue();
        q.add_or_update(info("p", 0), t);
        let p = q.pop(t).unwrap();
        assert_eq!(p.attempts, 1);
        q.add_unschedulable(p, plugins(&[names::NODE_AFFINITY]), t);
        assert_eq!(q.num_unschedulable(), 1);
        // Much later, still nothing to pop: no hot loop.
        assert!(q.pop(t + secs(60)).is_none());
        // A pod deletion does not help node affinity; a label change does.
        assert_eq!(q.move_on_event(ClusterEvent::AssignedPodDelete, t), 0);
        let taints = NodeChange {
            taints: true,
            ..NodeChange::default()
        };
        assert_eq!(q.move_on_event(ClusterEvent::NodeUpdate(taints), t), 0);
        let labels = NodeChange {
            labels: true,
            ..NodeChange::default()
        };
        assert_eq!(
            q.move_on_event(ClusterEvent::NodeUpdate(labels), t + secs(5)),
            1
        );
        assert_eq!(q.num_active(), 1);
        assert_eq!(q.pop(t + secs(5)).unwrap().attempts, 2);
    }

    #[test]
    fn a_moved_pod_still_backing_off_waits_in_backoff() {
        let t = Instant::now();
        let mut q = queue();
        q.add_or_update(info("p", 0), t);
        let p = q.pop(t).unwrap();
        q.add_unschedulable(p, plugins(&[names::NODE_RESOURCES_FIT]), t);
        // Moved within its 1 s backoff: it waits in backoffQ.
        assert_eq!(q.move_on_event(ClusterEvent::NodeAdd, t), 1);
        assert_eq!(q.num_backoff(), 1);
        assert!(!q.has_ready(t));
        assert!(q.pop(t).is_none());
        assert_eq!(q.next_backoff_expiry(), Some(t + secs(1)));
        let p = q.pop(t + secs(1)).unwrap();
        // Second failure at t+1: backoff 2 s from the failure.
        assert_eq!(p.attempts, 2);
        q.add_unschedulable(p, plugins(&[names::NODE_RESOURCES_FIT]), t + secs(1));
        assert_eq!(
            q.move_on_event(ClusterEvent::AssignedPodDelete, t + secs(2)),
            1
        );
        assert_eq!(q.next_backoff_expiry(), Some(t + secs(3)));
        assert!(q.pop(t + secs(2)).is_none());
        assert_eq!(q.pop(t + secs(3)).unwrap().info.name, "p");
    }

    #[test]
    fn status_only_updates_do_not_move_an_unschedulable_pod() {
        let t = Instant::now();
        let mut q = queue();
        q.add_or_update(info("p", 0), t);
        let p = q.pop(t).unwrap();
        q.add_unschedulable(p, plugins(&[names::NODE_AFFINITY]), t);
        let mut pod = q.get("default/p").unwrap().info.pod.clone();
        pod.metadata.resource_version = Some("42".into());
        pod.status = Some(k8s_openapi::api::core::v1::PodStatus {
            nominated_node_name: Some("n".into()),
            ..Default::default()
        });
        q.add_or_update(PodInfo::arc(pod), t + secs(20));
        assert_eq!(q.num_unschedulable(), 1);
        assert_eq!(
            q.get("default/p").unwrap().info.nominated_node_name(),
            Some("n")
        );
        // A label change may: it moves (backoff over: to activeQ).
        q.add_or_update(info_with("p", 0, json!({"a": "b"})), t + secs(20));
        assert_eq!(q.num_active(), 1);
    }

    #[test]
    fn leftover_unschedulable_pods_are_flushed_after_the_timeout() {
        let t = Instant::now();
        let mut q = queue();
        q.add_or_update(info("p", 0), t);
        let p = q.pop(t).unwrap();
        q.add_unschedulable(p, plugins(&[names::NODE_AFFINITY]), t);
        assert_eq!(
            q.flush_unschedulable_leftover(t + secs(299), UNSCHEDULABLE_TIMEOUT),
            0
        );
        assert_eq!(
            q.flush_unschedulable_leftover(t + secs(301), UNSCHEDULABLE_TIMEOUT),
            1
        );
        assert_eq!(q.pop(t + secs(301)).unwrap().attempts, 2);
    }

    #[test]
    fn errors_back_off_and_removal_forgets() {
        let t = Instant::now();
        let mut q = queue();
        q.add_or_update(info("p", 0), t);
        q.add_or_update(info("q", 0), t);
        let p = q.pop(t).unwrap();
        q.add_backoff(p, t);
        assert_eq!(q.num_backoff(), 1);
        assert!(q.remove("default/q").is_some());
        assert!(q.pop(t).is_none());
        assert_eq!(q.pop(t + secs(1)).unwrap().info.name, "p");
        assert!(q.remove("default/p").is_none());
        assert!(q.is_empty());
        assert_eq!(q.next_backoff_expiry(), None);
    }

    #[test]
    fn unknown_plugins_are_helped_by_any_event() {
        assert!(ClusterEvent::NamespaceUpdate.may_help("SomeOutOfTreePlugin"));
        assert!(ClusterEvent::AssignedPodAdd.may_help_any(&BTreeSet::new()));
        assert!(!ClusterEvent::AssignedPodAdd.may_help(names::NODE_RESOURCES_FIT));
        assert!(ClusterEvent::AssignedPodAdd.may_help(names::INTER_POD_AFFINITY));
    }

    #[test]
    fn node_heartbeats_are_not_changes() {
        let node = |labels: serde_json::Value, ready: &str, beat: &str| -> Node {
            serde_json::from_value(json!({
                "metadata": {"name": "n", "labels": labels, "resourceVersion": beat},
                "status": {"allocatable": {"cpu": "4"}, "conditions": [
                    {"type": "Ready", "status": ready, "lastHeartbeatTime": beat}]},
            }))
            .unwrap()
        };
        let a = node(json!({"x": "1"}), "True", "2024-01-01T00:00:00Z");
        let b = node(json!({"x": "1"}), "True", "2024-01-01T00:01:00Z");
        assert!(!node_change(&a, &b).any_filter_input());
        let c = node(json!({"x": "2"}), "False", "2024-01-01T00:01:00Z");
        let ch = node_change(&a, &c);
        assert!(ch.labels && ch.conditions && !ch.taints && !ch.allocatable);
    }
}

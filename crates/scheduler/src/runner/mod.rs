//! The scheduler as an API client: the only module of this crate that does
//! IO (kube-rs). [`start`] (or [`run`]) watches the cluster, keeps a
//! [`Snapshot`] and a [`SchedulingQueue`] up to date, and schedules.
//!
//! # How it works
//!
//! One task owns all the state. It watches (kube-rs watchers, one stream
//! per kind, merged) Nodes, Pods, Namespaces, Services, ReplicaSets,
//! StatefulSets, ReplicationControllers, PodDisruptionBudgets and
//! PriorityClasses, and applies each change to the snapshot incrementally:
//!
//! - assigned pods are added, replaced and removed (finished pods too, as
//!   upstream's scheduler does not count them);
//! - pending pods whose `spec.schedulerName` is one of the profiles', not
//!   gated by `schedulingGates` and not being deleted go to the queue;
//!   other pending pods are left alone;
//! - changes that may make unschedulable pods fit (a node added or
//!   relabelled, a pod deleted, ...) move them back to be retried
//!   ([`ClusterEvent`]).
//!
//! A re-list after a broken watch is reconciled: objects not listed again
//! are treated as deleted. Scheduling starts once every watch has listed.
//!
//! Between events, the task pops the next pod and runs one scheduling
//! cycle ([`Framework::schedule`]). On success the pod is *assumed* on the
//! node at once — the next cycle already counts it — and bound in the
//! background (`pods/{name}/binding`, see [`writes`]); a binding that
//! fails is forgotten and the pod retried after its backoff. When no node
//! fits, the pod gets `PodScheduled=False` and a `FailedScheduling` event
//! with upstream's message and waits among the unschedulable pods; if
//! preemption found victims, they are evicted, the pod is nominated to
//! their node (`status.nominatedNodeName`, and in the snapshot, so lower
//! priority pods do not take the room) and it is retried when they are
//! gone.
//!
//! Priorities: rkube's API server does not resolve `priorityClassName`
//! into `spec.priority` (upstream's Priority admission); the scheduler does
//! ([`PriorityClasses`]), for pending and assigned pods alike, and again
//! when the classes change.

pub mod writes;

use std::collections::HashMap;
use std::fmt::Debug;
use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use futures::stream::{BoxStream, SelectAll};
use futures::{FutureExt, StreamExt};
use k8s_openapi::api::apps::v1::{ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{
    Namespace, Node, PersistentVolume, PersistentVolumeClaim, Pod, PodStatus,
    ReplicationController, Service,
};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::scheduling::v1::PriorityClass;
use k8s_openapi::api::storage::v1::StorageClass;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use kube::{Api, Client, Resource, ResourceExt};
use serde::de::DeserializeOwned;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info, warn};

use crate::config::SchedulerConfig;
use crate::framework::{ConfigError, FitError, Framework, ScheduleOptions};
use crate::pod_info::{PodInfo, is_gated};
use crate::priority::PriorityClasses;
use crate::queue::{
    ClusterEvent, FLUSH_UNSCHEDULABLE_INTERVAL, QueuedPod, SchedulingQueue, UNSCHEDULABLE_TIMEOUT,
    node_change,
};
use crate::snapshot::Snapshot;
use writes::{FailureEvents, Outcome, PodEvent, Writer};

/// Watch events applied in one go before the next scheduling cycle, at
/// most.
const MAX_EVENTS_PER_BATCH: usize = 1024;

/// How long the loop runs scheduling cycles before it yields its worker
/// thread. Yielding after every cycle gave it one cycle per pass of the
/// runtime's run queue, which a burst of API requests fills: while 10,000
/// pods were being created, binding all but stopped.
const CYCLE_SLICE: Duration = Duration::from_millis(2);

/// A running scheduler, from [`start`].
#[derive(Debug)]
pub struct SchedulerHandle {
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<()>>,
}

impl SchedulerHandle {
    /// Stop scheduling (bindings in flight finish in the background) and
    /// wait for the loop to end.
    pub async fn shutdown(self) -> Result<()> {
        let _ = self.stop.send(());
        self.task.await.context("the scheduler task panicked")?
    }
}

/// Start the scheduler on `client` with `config`, in a task of the current
/// Tokio runtime. Fails at once if a profile is invalid.
pub fn start(client: Client, config: SchedulerConfig) -> Result<SchedulerHandle, ConfigError> {
    let scheduler = Scheduler::new(client, config)?;
    let (stop, stopped) = oneshot::channel();
    let task = tokio::spawn(scheduler.run(async move {
        let _ = stopped.await;
    }));
    Ok(SchedulerHandle { stop, task })
}

/// Run the scheduler on `client` with `config` until `shutdown` completes.
pub async fn run(
    client: Client,
    config: SchedulerConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<()> {
    Scheduler::new(client, config)?.run(shutdown).await
}

/// A kube client from a kubeconfig file (the admin kubeconfig `rkube
/// server` writes).
pub async fn client_from_kubeconfig(path: &Path) -> Result<Client> {
    client_for(path, "kube-scheduler").await
}

/// A client from a kubeconfig file that introduces itself as `component`
/// (its `User-Agent`, and so the field manager of its writes, as
/// upstream's components do).
pub async fn client_for(path: &Path, component: &str) -> Result<Client> {
    let kubeconfig =
        Kubeconfig::read_from(path).with_context(|| format!("reading {}", path.display()))?;
    let mut config =
        kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
            .await
            .context("loading the kubeconfig")?;
    let agent = format!("{component}/v1.32.0 (linux/amd64) rkube");
    config.headers.push((
        http::header::USER_AGENT,
        http::HeaderValue::from_str(&agent).context("user agent")?,
    ));
    Client::try_from(config).context("building the kube client")
}

/// One change from the watches.
#[allow(clippy::large_enum_variant)] // moved once, from its stream to its handler
enum Change {
    Node(Event<Node>),
    Pod(Event<Pod>),
    Namespace(Event<Namespace>),
    Service(Event<Service>),
    ReplicaSet(Event<ReplicaSet>),
    StatefulSet(Event<StatefulSet>),
    ReplicationController(Event<ReplicationController>),
    Pdb(Event<PodDisruptionBudget>),
    PriorityClass(Event<PriorityClass>),
    Claim(Event<PersistentVolumeClaim>),
    Volume(Event<PersistentVolume>),
    StorageClass(Event<StorageClass>),
}

/// The watched kinds, as indices of [`Scheduler::trackers`].
#[derive(Clone, Copy, Debug)]
enum Kind {
    Node,
    Pod,
    Namespace,
    Service,
    ReplicaSet,
    StatefulSet,
    ReplicationController,
    Pdb,
    PriorityClass,
    Claim,
    Volume,
    StorageClass,
}

const KINDS: usize = 12;

/// The keys of one kind's objects the scheduler knows, to find the objects
/// a re-list no longer has.
#[derive(Debug, Default)]
struct Tracker {
    known: std::collections::HashSet<String>,
    relist: Option<std::collections::HashSet<String>>,
    synced: bool,
}

impl Tracker {
    fn init(&mut self) {
        self.relist = Some(Default::default());
    }

    fn applied(&mut self, key: &str) {
        if let Some(r) = &mut self.relist {
            r.insert(key.to_string());
        }
        if !self.known.contains(key) {
            self.known.insert(key.to_string());
        }
    }

    fn deleted(&mut self, key: &str) {
        self.known.remove(key);
    }

    /// The list is complete: the keys known before and not listed again.
    fn init_done(&mut self) -> Vec<String> {
        self.synced = true;
        let Some(seen) = self.relist.take() else {
            return Vec::new();
        };
        let gone = self
            .known
            .iter()
            .filter(|k| !seen.contains(*k))
            .cloned()
            .collect();
        self.known = seen;
        gone
    }
}

/// `namespace/name`, or `name` for cluster-scoped objects.
fn key_of<K: Resource>(obj: &K) -> String {
    let name = obj.meta().name.as_deref().unwrap_or("");
    match obj.meta().namespace.as_deref() {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_string(),
    }
}

fn split_key(key: &str) -> (&str, &str) {
    key.split_once('/').unwrap_or(("", key))
}

/// A pod the scheduler chose a node for and is binding.
#[derive(Debug)]
struct Assumed {
    uid: String,
    node: String,
    queued: QueuedPod,
    /// The pod's latest pending version seen while binding.
    latest: Option<Pod>,
}

/// The scheduling loop's state.
struct Scheduler {
    client: Client,
    writer: Writer,
    outcomes: mpsc::UnboundedReceiver<Outcome>,
    frameworks: HashMap<String, Framework>,
    snapshot: Snapshot,
    queue: SchedulingQueue,
    priorities: PriorityClasses,
    priorities_changed: bool,
    assumed: HashMap<String, Assumed>,
    failures: FailureEvents,
    trackers: [Tracker; KINDS],
}

impl Scheduler {
    fn new(client: Client, config: SchedulerConfig) -> Result<Scheduler, ConfigError> {
        let mut frameworks = HashMap::new();
        for profile in config.profiles {
            let name = profile.scheduler_name.clone();
            frameworks.insert(name, Framework::new(profile)?);
        }
        let (tx, outcomes) = mpsc::unbounded_channel();
        let secs = |s: i64| Duration::from_secs(s.max(0) as u64);
        Ok(Scheduler {
            writer: Writer::new(client.clone(), tx),
            client,
            outcomes,
            frameworks,
            snapshot: Snapshot::new(),
            queue: SchedulingQueue::new(
                secs(config.pod_initial_backoff_seconds),
                secs(config.pod_max_backoff_seconds),
            ),
            priorities: PriorityClasses::new(),
            priorities_changed: false,
            assumed: HashMap::new(),
            failures: FailureEvents::default(),
            trackers: Default::default(),
        })
    }

    fn watch<K>(&self, wrap: fn(Event<K>) -> Change) -> BoxStream<'static, Change>
    where
        K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + 'static,
    {
        let api: Api<K> = Api::all(self.client.clone());
        watcher::watcher(api, watcher::Config::default())
            .default_backoff()
            .filter_map(move |r| async move {
                match r {
                    Ok(ev) => Some(wrap(ev)),
                    Err(e) => {
                        warn!(kind = %K::kind(&()), "scheduler watch: {e}");
                        None
                    }
                }
            })
            .boxed()
    }

    fn watch_all(&self) -> SelectAll<BoxStream<'static, Change>> {
        futures::stream::select_all([
            self.watch(Change::PriorityClass),
            self.watch(Change::Namespace),
            self.watch(Change::Node),
            self.watch(Change::Pod),
            self.watch(Change::Service),
            self.watch(Change::ReplicaSet),
            self.watch(Change::StatefulSet),
            self.watch(Change::ReplicationController),
            self.watch(Change::Pdb),
            self.watch(Change::Claim),
            self.watch(Change::Volume),
            self.watch(Change::StorageClass),
        ])
    }

    fn synced(&self) -> bool {
        self.trackers.iter().all(|t| t.synced)
    }

    async fn run(mut self, shutdown: impl Future<Output = ()>) -> Result<()> {
        let mut profiles: Vec<&String> = self.frameworks.keys().collect();
        profiles.sort();
        info!(?profiles, "scheduler started");
        // The watches are read by a task of their own, always: a watch read
        // only between scheduling cycles falls behind under load and is
        // dropped by the server (then the scheduler stalls re-listing).
        let mut watches = self.watch_all();
        let (tx, mut changes) = tokio::sync::mpsc::unbounded_channel();
        let pump = tokio::spawn(async move {
            while let Some(c) = watches.next().await {
                if tx.send(c).is_err() {
                    return;
                }
            }
        });
        let _stop_pump = AbortOnDrop(pump);
        let mut shutdown = std::pin::pin!(shutdown);
        let mut next_flush = Instant::now() + FLUSH_UNSCHEDULABLE_INTERVAL;
        let mut was_synced = false;
        loop {
            let now = Instant::now();
            if now >= next_flush {
                next_flush = now + FLUSH_UNSCHEDULABLE_INTERVAL;
                let moved = self
                    .queue
                    .flush_unschedulable_leftover(now, UNSCHEDULABLE_TIMEOUT);
                if moved > 0 {
                    debug!(moved, "retrying pods unschedulable for too long");
                }
            }
            if !was_synced && self.synced() {
                was_synced = true;
                info!(
                    nodes = self.snapshot.num_nodes(),
                    assigned_pods = self.snapshot.num_pods(),
                    pending_pods = self.queue.len(),
                    "scheduler caches synced"
                );
            }
            if was_synced && self.queue.has_ready(now) {
                // Work to do: take what arrived meanwhile, then one cycle.
                if (&mut shutdown).now_or_never().is_some() {
                    break;
                }
                let slice_end = Instant::now() + CYCLE_SLICE;
                loop {
                    self.drain(&mut changes)?;
                    let Some(pod) = self.queue.pop(Instant::now()) else {
                        break;
                    };
                    self.schedule_one(pod);
                    if Instant::now() >= slice_end {
                        break;
                    }
                }
                tokio::task::yield_now().await;
                continue;
            }
            let wake = self
                .queue
                .next_backoff_expiry()
                .map_or(next_flush, |t| t.min(next_flush));
            tokio::select! {
                _ = &mut shutdown => break,
                change = changes.recv() => match change {
                    Some(c) => self.on_change(c),
                    None => anyhow::bail!("the scheduler's watches ended"),
                },
                Some(outcome) = self.outcomes.recv() => self.on_outcome(outcome),
                _ = tokio::time::sleep_until(wake.into()) => {}
            }
            self.drain(&mut changes)?;
        }
        info!("scheduler stopped");
        Ok(())
    }

    /// Apply the changes and outcomes that are ready, without waiting.
    fn drain(&mut self, changes: &mut tokio::sync::mpsc::UnboundedReceiver<Change>) -> Result<()> {
        for _ in 0..MAX_EVENTS_PER_BATCH {
            match changes.try_recv() {
                Ok(c) => self.on_change(c),
                Err(tokio::sync::mpsc::error::TryRecvError::Disconnected) => {
                    anyhow::bail!("the scheduler's watches ended")
                }
                Err(tokio::sync::mpsc::error::TryRecvError::Empty) => break,
            }
        }
        while let Ok(o) = self.outcomes.try_recv() {
            self.on_outcome(o);
        }
        if std::mem::take(&mut self.priorities_changed) {
            self.reresolve_priorities();
        }
        Ok(())
    }

    // ------------------------------------------------------------ events

    fn on_change(&mut self, change: Change) {
        match change {
            Change::Node(ev) => self.on_event(Kind::Node, ev, Self::node_applied, |s, k| {
                s.snapshot.remove_node(k);
            }),
            Change::Pod(ev) => self.on_event(Kind::Pod, ev, Self::pod_applied, Self::pod_deleted),
            Change::Namespace(ev) => self.on_event(
                Kind::Namespace,
                ev,
                |s, ns: Namespace| {
                    let name = ns.name_any();
                    let labels = ns.metadata.labels.unwrap_or_default();
                    if s.snapshot.namespace_labels(&name) != &labels {
                        s.snapshot.set_namespace(&name, labels);
                        s.queue
                            .move_on_event(ClusterEvent::NamespaceUpdate, Instant::now());
                    }
                },
                |s, k| s.snapshot.remove_namespace(k),
            ),
            Change::Service(ev) => self.on_event(
                Kind::Service,
                ev,
                |s, svc: Service| s.snapshot.upsert_service(&svc),
                |s, k| {
                    let (ns, name) = split_key(k);
                    s.snapshot.remove_service(ns, name);
                },
            ),
            Change::ReplicaSet(ev) => self.on_event(
                Kind::ReplicaSet,
                ev,
                |s, rs: ReplicaSet| s.snapshot.upsert_replica_set(&rs),
                |s, k| {
                    let (ns, name) = split_key(k);
                    s.snapshot.remove_controller("ReplicaSet", ns, name);
                },
            ),
            Change::StatefulSet(ev) => self.on_event(
                Kind::StatefulSet,
                ev,
                |s, ss: StatefulSet| s.snapshot.upsert_stateful_set(&ss),
                |s, k| {
                    let (ns, name) = split_key(k);
                    s.snapshot.remove_controller("StatefulSet", ns, name);
                },
            ),
            Change::ReplicationController(ev) => self.on_event(
                Kind::ReplicationController,
                ev,
                |s, rc: ReplicationController| s.snapshot.upsert_replication_controller(&rc),
                |s, k| {
                    let (ns, name) = split_key(k);
                    s.snapshot
                        .remove_controller("ReplicationController", ns, name);
                },
            ),
            Change::Pdb(ev) => self.on_event(
                Kind::Pdb,
                ev,
                |s, pdb: PodDisruptionBudget| s.snapshot.upsert_pdb(&pdb),
                |s, k| {
                    let (ns, name) = split_key(k);
                    s.snapshot.remove_pdb(ns, name);
                },
            ),
            Change::PriorityClass(ev) => self.on_event(
                Kind::PriorityClass,
                ev,
                |s, pc: PriorityClass| s.priorities_changed |= s.priorities.upsert(&pc),
                |s, k| s.priorities_changed |= s.priorities.remove(k),
            ),
            // Storage: what VolumeBinding reads; a change may let pods it
            // rejected fit.
            Change::Claim(ev) => self.on_event(
                Kind::Claim,
                ev,
                |s, pvc: PersistentVolumeClaim| {
                    s.snapshot.storage_mut().upsert_claim(&pvc);
                    s.storage_changed();
                },
                |s, k| {
                    let (ns, name) = split_key(k);
                    s.snapshot.storage_mut().remove_claim(ns, name);
                },
            ),
            Change::Volume(ev) => self.on_event(
                Kind::Volume,
                ev,
                |s, pv: PersistentVolume| {
                    s.snapshot.storage_mut().upsert_volume(&pv);
                    s.storage_changed();
                },
                |s, k| s.snapshot.storage_mut().remove_volume(k),
            ),
            Change::StorageClass(ev) => self.on_event(
                Kind::StorageClass,
                ev,
                |s, sc: StorageClass| {
                    s.snapshot.storage_mut().upsert_class(&sc);
                    s.storage_changed();
                },
                |s, k| s.snapshot.storage_mut().remove_class(k),
            ),
        }
    }

    /// Retry the pods VolumeBinding rejected.
    fn storage_changed(&mut self) {
        self.queue
            .move_on_event(ClusterEvent::StorageChange, Instant::now());
    }

    /// Apply one watch event of a kind: `apply` for added or modified
    /// objects, `delete` (by key) for deleted ones and for those a re-list
    /// no longer has.
    fn on_event<K: Resource>(
        &mut self,
        kind: Kind,
        ev: Event<K>,
        apply: impl Fn(&mut Self, K),
        delete: impl Fn(&mut Self, &str),
    ) {
        match ev {
            Event::Init => self.trackers[kind as usize].init(),
            Event::InitApply(mut obj) | Event::Apply(mut obj) => {
                self.trackers[kind as usize].applied(&key_of(&obj));
                // Field ownership is most of an object's size in memory
                // and nothing here reads it.
                obj.meta_mut().managed_fields = None;
                apply(self, obj);
            }
            Event::Delete(obj) => {
                let key = key_of(&obj);
                self.trackers[kind as usize].deleted(&key);
                delete(self, &key);
            }
            Event::InitDone => {
                for key in self.trackers[kind as usize].init_done() {
                    delete(self, &key);
                }
            }
        }
    }

    fn node_applied(&mut self, node: Node) {
        let name = node.name_any();
        let event = match self.snapshot.node(&name) {
            None => Some(ClusterEvent::NodeAdd),
            Some(old) => {
                let change = node_change(old.node(), &node);
                change
                    .any_filter_input()
                    .then_some(ClusterEvent::NodeUpdate(change))
            }
        };
        self.snapshot.upsert_node(node);
        if let Some(e) = event {
            self.queue.move_on_event(e, Instant::now());
        }
    }

    /// The scheduling view of a pod, its priority resolved.
    fn pod_info(&self, mut pod: Pod) -> Arc<PodInfo> {
        self.priorities.default_preemption_policy(&mut pod);
        let priority = self.priorities.priority(&pod);
        let mut info = PodInfo::new(pod);
        info.priority = priority;
        Arc::new(info)
    }

    fn pod_applied(&mut self, pod: Pod) {
        let key = key_of(&pod);
        let now = Instant::now();
        let spec = pod.spec.as_ref();
        let assigned = spec
            .and_then(|s| s.node_name.as_deref())
            .is_some_and(|n| !n.is_empty());
        let finished = matches!(
            pod.status.as_ref().and_then(|s| s.phase.as_deref()),
            Some("Succeeded" | "Failed")
        );
        if assigned {
            self.queue.remove(&key);
            self.assumed.remove(&key);
            self.failures.forget(&key);
            if finished {
                self.snapshot.clear_nominated(&key);
                if self.snapshot.remove_pod(&key).is_some() {
                    self.queue
                        .move_on_event(ClusterEvent::AssignedPodDelete, now);
                }
                return;
            }
            // A placed pod's status matters only for its start time
            // (preemption's tie-break); the rest would be kept for nothing.
            let mut pod = pod;
            if let Some(st) = pod.status.as_mut() {
                *st = PodStatus {
                    phase: st.phase.take(),
                    start_time: st.start_time.take(),
                    ..Default::default()
                };
            }
            let info = self.pod_info(pod);
            let node = info.node_name().unwrap_or_default().to_string();
            let event = match self.snapshot.pod(&key) {
                None => Some(ClusterEvent::AssignedPodAdd),
                Some(old) => (old.labels() != info.labels()
                    || old.requests != info.requests
                    || self.snapshot.pod_node(&key) != Some(node.as_str()))
                .then_some(ClusterEvent::AssignedPodUpdate),
            };
            self.snapshot.assume_pod(info, &node);
            if let Some(e) = event {
                self.queue.move_on_event(e, now);
            }
            return;
        }
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        if let Some(a) = self.assumed.get_mut(&key) {
            if a.uid == uid {
                // Being bound: the binding's outcome decides.
                a.latest = Some(pod);
                return;
            }
            // Another pod of the same name: the assumed one is gone.
            self.pod_deleted(&key);
        }
        let ours = self.frameworks.contains_key(
            spec.and_then(|s| s.scheduler_name.as_deref())
                .unwrap_or("default-scheduler"),
        ) && !is_gated(&pod)
            && pod.metadata.deletion_timestamp.is_none()
            && !finished;
        if !ours {
            self.failures.forget(&key);
            if self.queue.remove(&key).is_some() {
                debug!(pod = %key, "no longer to be scheduled");
            }
            self.snapshot.clear_nominated(&key);
            return;
        }
        let info = self.pod_info(pod);
        match info.nominated_node_name() {
            Some(node) => self.snapshot.set_nominated(info.clone(), node),
            None => {
                // Keep a nomination made in memory whose status write is
                // not seen yet (as upstream's nominator does).
                if let Some(node) = self.snapshot.nominated_node(&key).map(str::to_string) {
                    self.snapshot.set_nominated(info.clone(), &node);
                }
            }
        }
        self.queue.add_or_update(info, now);
    }

    fn pod_deleted(&mut self, key: &str) {
        self.queue.remove(key);
        self.assumed.remove(key);
        self.failures.forget(key);
        self.snapshot.clear_nominated(key);
        if self.snapshot.remove_pod(key).is_some() {
            self.queue
                .move_on_event(ClusterEvent::AssignedPodDelete, Instant::now());
        }
    }

    /// Priorities the scheduler resolved may have changed with the
    /// PriorityClasses: recompute them for queued and assigned pods.
    fn reresolve_priorities(&mut self) {
        let now = Instant::now();
        let stale = |info: &PodInfo| {
            info.pod.spec.as_ref().is_some_and(|s| s.priority.is_none())
                && self.priorities.priority(&info.pod) != info.priority
        };
        let queued: Vec<Pod> = self
            .queue
            .iter()
            .filter(|q| stale(&q.info))
            .map(|q| q.info.pod.clone())
            .collect();
        let assigned: Vec<(Pod, String)> = self
            .snapshot
            .nodes()
            .iter()
            .flat_map(|n| n.pods().iter().map(move |p| (p, n.name())))
            .filter(|(p, _)| stale(p))
            .map(|(p, n)| (p.pod.clone(), n.to_string()))
            .collect();
        for pod in queued {
            let info = self.pod_info(pod);
            self.queue.add_or_update(info, now);
        }
        for (pod, node) in assigned {
            let info = self.pod_info(pod);
            self.snapshot.assume_pod(info, &node);
        }
    }

    // ------------------------------------------------------- scheduling

    fn schedule_one(&mut self, queued: QueuedPod) {
        let pod = queued.info.clone();
        let profile = pod.scheduler_name().to_string();
        let Some(framework) = self.frameworks.get_mut(&profile) else {
            return;
        };
        let started = Instant::now();
        match framework.schedule(&pod, &self.snapshot, ScheduleOptions::for_pod(&pod)) {
            Ok(decision) => {
                debug!(
                    pod = %pod.key,
                    node = %decision.node,
                    attempts = queued.attempts,
                    took_us = started.elapsed().as_micros() as u64,
                    "scheduled"
                );
                self.snapshot.assume_pod(pod.clone(), &decision.node);
                self.failures.forget(&pod.key);
                self.assumed.insert(
                    pod.key.clone(),
                    Assumed {
                        uid: pod.uid.clone(),
                        node: decision.node.clone(),
                        queued,
                        latest: None,
                    },
                );
                self.writer.bind(&profile, pod, decision);
            }
            Err(fit) => self.unschedulable(&profile, queued, fit),
        }
    }

    fn unschedulable(&mut self, profile: &str, queued: QueuedPod, fit: FitError) {
        let pod = queued.info.clone();
        let message = fit.to_string();
        debug!(pod = %pod.key, attempts = queued.attempts, "unschedulable: {message}");
        let mut nominated = None;
        if let Some(preemption) = &fit.preemption {
            let node = preemption.nominated_node.clone();
            // Lower-priority pods nominated to the node give way.
            let lower: Vec<Arc<PodInfo>> = self
                .snapshot
                .nominated_pods(&node)
                .iter()
                .filter(|p| p.priority < pod.priority && p.key != pod.key)
                .cloned()
                .collect();
            for p in lower {
                self.snapshot.clear_nominated(&p.key);
                self.writer.clear_nomination(&p);
            }
            self.snapshot.set_nominated(pod.clone(), &node);
            info!(
                pod = %pod.key,
                node = %node,
                victims = preemption.victims.len(),
                "preempting"
            );
            self.writer.preempt(profile, &pod, preemption);
            nominated = Some(node);
        }
        self.writer
            .set_unschedulable(&pod, "Unschedulable", &message, nominated.as_deref());
        self.failures.record(&self.writer, profile, &pod, &message);
        self.queue
            .add_unschedulable(queued, fit.unschedulable_plugins, Instant::now());
    }

    fn on_outcome(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::BindFailed {
                key,
                uid,
                gone,
                conflict,
                message,
            } => {
                if self.assumed.get(&key).is_none_or(|a| a.uid != uid) {
                    return; // the watch told us already
                }
                let a = self.assumed.remove(&key).expect("checked");
                let now = Instant::now();
                if self.snapshot.pod_node(&key) == Some(a.node.as_str()) {
                    self.snapshot.remove_pod(&key);
                    self.queue
                        .move_on_event(ClusterEvent::AssignedPodDelete, now);
                }
                if gone {
                    return;
                }
                let mut queued = a.queued;
                if let Some(latest) = a.latest {
                    queued.info = self.pod_info(latest);
                }
                if !conflict {
                    let profile = queued.info.scheduler_name().to_string();
                    let message = format!("Binding rejected: {message}");
                    self.writer
                        .set_unschedulable(&queued.info, "SchedulerError", &message, None);
                    self.writer.event(
                        &profile,
                        &queued.info,
                        PodEvent {
                            type_: "Warning",
                            reason: "FailedScheduling",
                            action: "Scheduling",
                            message,
                        },
                    );
                }
                self.queue.add_backoff(queued, now);
            }
        }
    }
}

/// Aborts a task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_relist_reports_what_disappeared() {
        let mut t = Tracker::default();
        t.init();
        t.applied("a");
        t.applied("b");
        assert!(t.init_done().is_empty());
        assert!(t.synced);
        t.applied("c");
        t.deleted("b");
        t.init();
        t.applied("c");
        let mut gone = t.init_done();
        gone.sort();
        assert_eq!(gone, ["a"]);
        assert_eq!(t.known.len(), 1);
    }

    #[test]
    fn keys() {
        assert_eq!(split_key("ns/name"), ("ns", "name"));
        assert_eq!(split_key("node"), ("", "node"));
    }
}

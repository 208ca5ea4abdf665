//! The node agent for pods bound to simulated nodes.
//!
//! One watch of every bound pod (`fieldSelector=spec.nodeName!=`), filtered
//! locally by node name, keeps a slim record per pod; each change queues
//! the pod's uid on a work queue that `pod_workers` workers serve, so at
//! most that many requests are in flight however many pods arrive. Waits
//! (a container's run time, a crash back-off, a termination) are entries
//! in one timer heap, not tasks.
//!
//! What a pod goes through, written through `pods/status` as strategic
//! merge patches:
//!
//! - **Start**: the node admits the pod if it holds fewer than `--pods`
//!   pods (else the pod fails with reason `OutOfpods`, as the kubelet's
//!   admission does), gives it an IP from the node's pod CIDR (the node's
//!   IP for `hostNetwork` pods), and marks it Running: conditions
//!   PodReadyToStartContainers, Initialized, ContainersReady, Ready and
//!   PodScheduled True; every container running and ready since now; init
//!   containers terminated (Completed), sidecar init containers
//!   (`restartPolicy: Always`) running; `hostIP(s)`, `podIP(s)`,
//!   `startTime`, `qosClass` (computed as upstream).
//! - **Run time**: with the annotation `sim.rkube.io/run-for: <Go
//!   duration>` the containers exit after that long with exit code
//!   `sim.rkube.io/exit-code` (default 0). A pod of an Indexed Job may be
//!   told apart by its index: `sim.rkube.io/run-for.<index>` and
//!   `sim.rkube.io/exit-code.<index>` win over the plain keys. Then, as
//!   the kubelet would:
//!   - `restartPolicy: Never`: the pod ends, Succeeded (exit 0, reason
//!     Completed) or Failed (reason Error); Ready and ContainersReady turn
//!     False with reason PodCompleted / PodFailed;
//!   - `OnFailure`: exit 0 ends the pod Succeeded; any other code restarts
//!     the containers, like `Always`;
//!   - `Always`: the containers restart: `restartCount` grows,
//!     `lastState` holds the exit, the first restart is immediate and the
//!     next wait in `CrashLoopBackOff` (not ready) for 10 s, 20 s, 40 s …
//!     up to 5 minutes.
//! - **Deletion**: a pod given a `deletionTimestamp` stays Terminating while
//!   its containers "stop": `--termination-delay` (default 1 s; per pod the
//!   annotation `sim.rkube.io/termination-delay`), never longer than its
//!   grace period; a pod that never started stops at once. Then, as the
//!   kubelet finalizes, the simulator deletes it with
//!   `gracePeriodSeconds=0` (and the pod's uid as precondition). A pod with
//!   finalizers first gets a terminal status (containers terminated with
//!   exit code 143, phase Failed) so the controllers owning the finalizers
//!   can let it go.
//!
//! After a restart of the simulator, pods found Running are adopted: their
//! IPs and start times are taken from their status.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use futures::StreamExt;
use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::core::v1::{ContainerState, ResourceRequirements};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, DeleteParams, Patch, PatchParams, Preconditions};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use parking_lot::Mutex;
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::ipam::PodIpPool;
use crate::nodes::{FIELD_MANAGER, SimNode, fnv, time};
use crate::queue::{Timers, WorkQueue};
use crate::units::parse_go_duration;
use crate::{Ctx, SimConfig, Stats};

/// How long the pod's containers run before they exit (Go duration).
pub const RUN_FOR: &str = "sim.rkube.io/run-for";
/// The completion index of an Indexed Job's pod.
const COMPLETION_INDEX: &str = "batch.kubernetes.io/job-completion-index";
/// The containers' exit code when they exit (default 0).
pub const EXIT_CODE: &str = "sim.rkube.io/exit-code";
/// How long the pod's containers take to stop once it is deleted (Go
/// duration; at most the grace period).
pub const TERMINATION_DELAY: &str = "sim.rkube.io/termination-delay";

// ------------------------------------------------------------------ slim pod

/// A Pod with only the fields the simulator reads: cheaper to decode than
/// the whole object (100,000 of them at start-up). Its metadata keeps
/// name, namespace, uid, resourceVersion, deletionTimestamp, finalizers
/// and the `sim.rkube.io/` and completion-index annotations; managed fields, labels, owners and
/// other annotations are skipped while decoding.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct SimPod {
    /// The pod's metadata (the fields above only).
    #[serde(default, deserialize_with = "slim_meta")]
    pub metadata: ObjectMeta,
    #[serde(default)]
    spec: Option<Spec>,
    #[serde(default)]
    status: Option<Status>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SlimMeta {
    name: Option<String>,
    namespace: Option<String>,
    uid: Option<String>,
    resource_version: Option<String>,
    deletion_timestamp: Option<Time>,
    #[serde(default, deserialize_with = "sim_annotations")]
    annotations: Option<BTreeMap<String, String>>,
    finalizers: Option<Vec<String>>,
}

fn slim_meta<'de, D: Deserializer<'de>>(d: D) -> Result<ObjectMeta, D::Error> {
    let m = Option::<SlimMeta>::deserialize(d)?.unwrap_or_default();
    Ok(ObjectMeta {
        name: m.name,
        namespace: m.namespace,
        uid: m.uid,
        resource_version: m.resource_version,
        deletion_timestamp: m.deletion_timestamp,
        annotations: m.annotations,
        finalizers: m.finalizers,
        ..Default::default()
    })
}

/// Only the `sim.rkube.io/` annotations and a Job pod's completion index
/// (others, e.g. kubectl's last-applied-configuration, can be large).
fn sim_annotations<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<BTreeMap<String, String>>, D::Error> {
    struct Visit;
    impl<'de> serde::de::Visitor<'de> for Visit {
        type Value = Option<BTreeMap<String, String>>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a map of annotations")
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
            d.deserialize_map(Visit)
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                if key.starts_with("sim.rkube.io/") || key == COMPLETION_INDEX {
                    out.insert(key.into_owned(), map.next_value::<String>()?);
                } else {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
            Ok(Some(out))
        }
    }
    d.deserialize_option(Visit)
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Spec {
    node_name: Option<String>,
    restart_policy: Option<String>,
    containers: Option<Vec<Container>>,
    init_containers: Option<Vec<Container>>,
    host_network: Option<bool>,
    resources: Option<ResourceRequirements>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Container {
    #[serde(default)]
    name: String,
    image: Option<String>,
    resources: Option<ResourceRequirements>,
    restart_policy: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Status {
    phase: Option<String>,
    #[serde(rename = "podIP")]
    pod_ip: Option<String>,
    start_time: Option<Time>,
    conditions: Option<Vec<Condition>>,
    container_statuses: Option<Vec<ContainerStatus>>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Condition {
    #[serde(rename = "type", default)]
    type_: String,
    status: Option<String>,
    last_transition_time: Option<Time>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ContainerStatus {
    restart_count: Option<i32>,
    state: Option<ContainerState>,
}

impl kube::Resource for SimPod {
    type DynamicType = ();
    type Scope = NamespaceResourceScope;

    fn kind(_: &()) -> Cow<'_, str> {
        "Pod".into()
    }
    fn group(_: &()) -> Cow<'_, str> {
        "".into()
    }
    fn version(_: &()) -> Cow<'_, str> {
        "v1".into()
    }
    fn plural(_: &()) -> Cow<'_, str> {
        "pods".into()
    }
    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

// ------------------------------------------------------------------ records

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RestartPolicy {
    Always,
    OnFailure,
    Never,
}

#[derive(Clone, Debug)]
struct Ctr {
    name: String,
    image: String,
    /// An init container with `restartPolicy: Always`.
    sidecar: bool,
}

/// What the simulator keeps of a pod (rebuilt on every event).
#[derive(Clone, Debug)]
struct PodInfo {
    namespace: String,
    name: String,
    node: usize,
    /// `deletionTimestamp` (when the grace period ends).
    deletion: Option<Timestamp>,
    finalizers: bool,
    restart_policy: RestartPolicy,
    run_for: Option<Duration>,
    exit_code: i32,
    termination_delay: Option<Duration>,
    host_network: bool,
    containers: Arc<[Ctr]>,
    init_containers: Arc<[Ctr]>,
    /// The PodScheduled condition's lastTransitionTime.
    scheduled_at: Option<Timestamp>,
}

#[derive(Clone, Copy, Debug)]
struct Exit {
    code: i32,
    /// Which attempt of the containers exited (0: the first run).
    attempt: i32,
    started: Timestamp,
    finished: Timestamp,
}

#[derive(Clone, Debug)]
enum State {
    /// Not started by this node yet.
    Pending,
    /// Containers running since `started`, after `restarts` restarts.
    Running { started: Timestamp, restarts: i32 },
    /// Containers exited (`last`); restarting at `until`.
    BackOff { until: Timestamp, last: Exit },
    /// Succeeded or Failed (or rejected): nothing more to do but deletion.
    Finished,
}

/// A pod slot on the node, with the pod's IP (none for host network).
#[derive(Clone, Copy, Debug)]
struct Slot {
    ip: Option<Ipv4Addr>,
}

struct Entry {
    info: PodInfo,
    uid: Arc<str>,
    qos: &'static str,
    state: State,
    slot: Option<Slot>,
    terminate_at: Option<Instant>,
    deleted: bool,
    timer: Option<Instant>,
    failures: u32,
}

struct NodeSlots {
    pool: PodIpPool,
    active: u32,
}

#[derive(Default)]
struct Book {
    pods: HashMap<Arc<str>, Entry>,
    nodes: Vec<NodeSlots>,
}

impl Book {
    fn release(&mut self, node: usize, slot: Option<Slot>) {
        if let Some(slot) = slot {
            let n = &mut self.nodes[node];
            n.active = n.active.saturating_sub(1);
            if let Some(ip) = slot.ip {
                n.pool.release(ip);
            }
        }
    }
}

fn parse_time(t: &Option<Time>) -> Option<Timestamp> {
    t.as_ref().map(|t| t.0)
}

fn plus(t: Timestamp, d: Duration) -> Timestamp {
    t.checked_add(d).unwrap_or(Timestamp::MAX)
}

/// `to - from`, or zero when `to` is earlier.
fn between(from: Timestamp, to: Timestamp) -> Duration {
    Duration::try_from(to.duration_since(from)).unwrap_or_default()
}

impl PodInfo {
    fn new(pod: &SimPod, node: usize) -> PodInfo {
        let meta = &pod.metadata;
        let spec = pod.spec.as_ref();
        let annotations = meta.annotations.as_ref();
        let index = annotations.and_then(|a| a.get(COMPLETION_INDEX));
        // `<key>.<completion index>`, then `<key>`.
        let annotation = |key: &str| {
            let own = index.and_then(|i| annotations?.get(&format!("{key}.{i}")));
            own.or_else(|| annotations.and_then(|a| a.get(key)))
                .map(|v| v.trim())
        };
        let duration = |key: &str| {
            annotation(key).and_then(|v| match parse_go_duration(v) {
                Ok(d) => Some(d),
                Err(e) => {
                    tracing::debug!("pod {:?}: annotation {key}: {e}", meta.name);
                    None
                }
            })
        };
        let ctrs = |list: Option<&Vec<Container>>| -> Arc<[Ctr]> {
            list.into_iter()
                .flatten()
                .map(|c| Ctr {
                    name: c.name.clone(),
                    image: c.image.clone().unwrap_or_default(),
                    sidecar: c.restart_policy.as_deref() == Some("Always"),
                })
                .collect()
        };
        PodInfo {
            namespace: meta.namespace.clone().unwrap_or_default(),
            name: meta.name.clone().unwrap_or_default(),
            node,
            deletion: parse_time(&meta.deletion_timestamp),
            finalizers: meta.finalizers.as_ref().is_some_and(|f| !f.is_empty()),
            restart_policy: match spec.and_then(|s| s.restart_policy.as_deref()) {
                Some("Never") => RestartPolicy::Never,
                Some("OnFailure") => RestartPolicy::OnFailure,
                _ => RestartPolicy::Always,
            },
            run_for: duration(RUN_FOR),
            exit_code: annotation(EXIT_CODE)
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            termination_delay: duration(TERMINATION_DELAY),
            host_network: spec.and_then(|s| s.host_network).unwrap_or(false),
            containers: ctrs(spec.and_then(|s| s.containers.as_ref())),
            init_containers: ctrs(spec.and_then(|s| s.init_containers.as_ref())),
            scheduled_at: pod
                .status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .and_then(|cs| cs.iter().find(|c| c.type_ == "PodScheduled"))
                .filter(|c| c.status.as_deref() == Some("True"))
                .and_then(|c| parse_time(&c.last_transition_time)),
        }
    }
}

// ------------------------------------------------------------------ agent

struct Agent {
    ctx: Arc<Ctx>,
    nodes: Arc<Vec<SimNode>>,
    by_name: HashMap<String, usize>,
    book: Mutex<Book>,
    queue: Arc<WorkQueue<Arc<str>>>,
    timers: Arc<Timers<Arc<str>>>,
}

/// What to do for a pod now.
enum Step {
    Idle,
    Wait(Instant),
    Act(Action, Request),
}

enum Action {
    Start {
        started: Timestamp,
    },
    Reject,
    /// The containers exited for good: the pod ends.
    Finish {
        exit: Exit,
    },
    /// The containers exited and wait to restart at `until`.
    Crash {
        until: Timestamp,
        last: Exit,
    },
    /// The containers run again after `last`.
    Restart {
        started: Timestamp,
        last: Exit,
    },
    /// Terminal status before deleting a pod with finalizers.
    Kill,
    Delete,
}

struct Request {
    namespace: String,
    name: String,
    /// A status patch, or (None) a deletion.
    patch: Option<Value>,
}

/// Spawn the pod watch, the timers and the workers into `tasks`.
pub(crate) fn spawn(ctx: &Arc<Ctx>, nodes: Arc<Vec<SimNode>>, tasks: &mut JoinSet<Result<()>>) {
    let by_name = nodes.iter().map(|n| (n.name.clone(), n.index)).collect();
    let book = Book {
        pods: HashMap::new(),
        nodes: nodes
            .iter()
            .map(|n| NodeSlots {
                pool: PodIpPool::new(&n.pod_cidr).expect("registered CIDRs parse"),
                active: 0,
            })
            .collect(),
    };
    let agent = Arc::new(Agent {
        ctx: ctx.clone(),
        nodes,
        by_name,
        book: Mutex::new(book),
        queue: Arc::new(WorkQueue::new()),
        timers: Arc::new(Timers::new()),
    });
    tasks.spawn(agent.clone().watch());
    let (timers, queue) = (agent.timers.clone(), agent.queue.clone());
    tasks.spawn(async move {
        timers.run(queue).await;
        Ok(())
    });
    for _ in 0..ctx.cfg.pod_workers {
        let agent = agent.clone();
        tasks.spawn(async move {
            loop {
                let key = agent.queue.get().await;
                agent.process(&key).await;
                agent.queue.done(&key);
            }
        });
    }
}

impl Agent {
    async fn watch(self: Arc<Self>) -> Result<()> {
        let api: Api<SimPod> = Api::all(self.ctx.client.clone());
        // One list from the server's watch cache (resourceVersion=0, not
        // paginated: a continued list is read from the store's history,
        // which for 100,000 pods is slower than the compaction window).
        let mut config = watcher::Config::default()
            .fields("spec.nodeName!=")
            .any_semantic();
        config.page_size = None;
        let mut events = watcher::watcher(api, config).default_backoff().boxed();
        let mut relist: Option<HashSet<Arc<str>>> = None;
        while let Some(event) = events.next().await {
            match event {
                Ok(Event::Init) => relist = Some(HashSet::new()),
                Ok(Event::InitApply(pod)) => {
                    if let (Some(uid), Some(seen)) = (self.observe(&pod), relist.as_mut()) {
                        seen.insert(uid);
                    }
                }
                Ok(Event::InitDone) => {
                    if let Some(seen) = relist.take() {
                        self.forget_all_but(&seen);
                    }
                }
                Ok(Event::Apply(pod)) => {
                    self.observe(&pod);
                }
                Ok(Event::Delete(pod)) => {
                    if let Some(uid) = pod.metadata.uid.as_deref() {
                        self.forget(uid);
                    }
                }
                Err(e) => tracing::warn!("watching pods: {e}"),
            }
        }
        anyhow::bail!("the pod watch ended")
    }

    /// Record a pod; queue it if it is on one of our nodes.
    fn observe(&self, pod: &SimPod) -> Option<Arc<str>> {
        let node_name = pod.spec.as_ref()?.node_name.as_deref()?;
        let node = *self.by_name.get(node_name)?;
        let uid = pod.metadata.uid.as_deref()?;
        let info = PodInfo::new(pod, node);
        let mut book = self.book.lock();
        let key = if let Some(entry) = book.pods.get_mut(uid) {
            entry.info = info;
            entry.uid.clone()
        } else {
            let key: Arc<str> = Arc::from(uid);
            let entry = self.adopt(&mut book, pod, key.clone(), info);
            book.pods.insert(key.clone(), entry);
            key
        };
        drop(book);
        self.queue.add(key.clone());
        Some(key)
    }

    /// A pod seen for the first time: new, or running since before this
    /// simulator started.
    fn adopt(&self, book: &mut Book, pod: &SimPod, uid: Arc<str>, info: PodInfo) -> Entry {
        let spec = pod.spec.clone().unwrap_or_default();
        let qos = crate::qos::qos_class(
            spec.resources.as_ref(),
            spec.containers
                .iter()
                .flatten()
                .chain(spec.init_containers.iter().flatten())
                .map(|c| c.resources.as_ref()),
        );
        let mut entry = Entry {
            uid,
            qos,
            state: State::Pending,
            slot: None,
            terminate_at: None,
            deleted: false,
            timer: None,
            failures: 0,
            info,
        };
        let status = pod.status.clone().unwrap_or_default();
        match status.phase.as_deref() {
            Some("Succeeded" | "Failed") => entry.state = State::Finished,
            Some("Running") => {
                let node = &mut book.nodes[entry.info.node];
                let ip = status
                    .pod_ip
                    .as_deref()
                    .and_then(|ip| ip.parse().ok())
                    .filter(|ip| !entry.info.host_network && node.pool.claim(*ip));
                node.active += 1;
                entry.slot = Some(Slot { ip });
                let statuses = status.container_statuses.unwrap_or_default();
                let restarts = statuses
                    .iter()
                    .filter_map(|c| c.restart_count)
                    .max()
                    .unwrap_or(0);
                let started = statuses
                    .iter()
                    .filter_map(|c| c.state.as_ref()?.running.as_ref()?.started_at.as_ref())
                    .map(|t| t.0)
                    .max()
                    .or(parse_time(&status.start_time))
                    .unwrap_or_else(Timestamp::now);
                let waiting = statuses.iter().any(|c| {
                    c.state
                        .as_ref()
                        .is_some_and(|s| s.waiting.is_some() && s.running.is_none())
                });
                let now = Timestamp::now();
                entry.state = if waiting {
                    State::BackOff {
                        until: now,
                        last: Exit {
                            code: entry.info.exit_code,
                            attempt: restarts,
                            started,
                            finished: now,
                        },
                    }
                } else {
                    State::Running { started, restarts }
                };
            }
            _ => {}
        }
        entry
    }

    fn forget(&self, uid: &str) {
        let mut book = self.book.lock();
        if let Some(e) = book.pods.remove(uid) {
            book.release(e.info.node, e.slot);
        }
    }

    fn forget_all_but(&self, seen: &HashSet<Arc<str>>) {
        let mut book = self.book.lock();
        let gone: Vec<Arc<str>> = book
            .pods
            .keys()
            .filter(|k| !seen.contains(*k))
            .cloned()
            .collect();
        for uid in gone {
            if let Some(e) = book.pods.remove(&uid) {
                book.release(e.info.node, e.slot);
            }
        }
    }

    /// Bring one pod forward as far as it can go now.
    async fn process(&self, uid: &Arc<str>) {
        loop {
            let now = Instant::now();
            let wall = Timestamp::now();
            let step = {
                let mut book = self.book.lock();
                let book = &mut *book;
                let Some(e) = book.pods.get_mut(uid) else {
                    return;
                };
                let step = decide(e, &mut book.nodes, &self.ctx.cfg, now, wall, &self.nodes);
                if let Step::Wait(at) = step {
                    // One pending timer at or before `at` is enough.
                    let needed = e
                        .timer
                        .is_none_or(|t| t <= now || t > at + Duration::from_millis(10));
                    if needed {
                        e.timer = Some(at);
                        self.timers.schedule(at, uid.clone());
                    }
                    return;
                }
                step
            };
            let Step::Act(action, request) = step else {
                return;
            };
            let result = self.send(&request, uid).await;
            if result.is_ok() {
                count(&action, &self.ctx.stats);
            }
            let mut book = self.book.lock();
            let book = &mut *book;
            let Some(e) = book.pods.get_mut(uid) else {
                // Deleted meanwhile (its slot went back then).
                return;
            };
            match result {
                Ok(()) => {
                    e.failures = 0;
                    let (node, slot) = commit(e, action);
                    if let Some(slot) = slot {
                        book.release(node, Some(slot));
                    }
                }
                Err(err) if is_status(&err, 404) => {
                    // Gone: its deletion event will follow.
                    return;
                }
                Err(err) => {
                    Stats::inc(&self.ctx.stats.errors);
                    e.failures += 1;
                    if e.failures == 1 {
                        tracing::warn!(
                            "pod {}/{}: {err} (retrying)",
                            e.info.namespace,
                            e.info.name
                        );
                    }
                    let backoff = Duration::from_millis(200)
                        .saturating_mul(1 << e.failures.min(6))
                        .min(Duration::from_secs(10));
                    let at = Instant::now() + backoff;
                    e.timer = Some(at);
                    self.timers.schedule(at, uid.clone());
                    return;
                }
            }
        }
    }

    async fn send(&self, request: &Request, uid: &str) -> kube::Result<()> {
        let api: Api<SimPod> = Api::namespaced(self.ctx.client.clone(), &request.namespace);
        match &request.patch {
            Some(patch) => {
                let pp = PatchParams {
                    field_manager: Some(FIELD_MANAGER.into()),
                    ..Default::default()
                };
                api.patch_status(&request.name, &pp, &Patch::Strategic(patch))
                    .await
                    .map(drop)
            }
            None => {
                let dp = DeleteParams {
                    grace_period_seconds: Some(0),
                    preconditions: Some(Preconditions {
                        uid: Some(uid.to_owned()),
                        resource_version: None,
                    }),
                    ..Default::default()
                };
                match api.delete(&request.name, &dp).await {
                    Ok(_) => Ok(()),
                    // Replaced by another pod of that name: ours is gone.
                    Err(e) if is_status(&e, 409) => Ok(()),
                    Err(e) => Err(e),
                }
            }
        }
    }
}

fn is_status(e: &kube::Error, code: u16) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == code)
}

/// The kubelet's crash-loop back-off before restart number `restarts + 1`:
/// none for the first, then 10 s doubling up to 5 minutes.
fn restart_backoff(restarts: i32) -> Duration {
    if restarts <= 0 {
        return Duration::ZERO;
    }
    Duration::from_secs(10)
        .saturating_mul(1 << (restarts - 1).min(5))
        .min(Duration::from_secs(300))
}

fn decide(
    e: &mut Entry,
    slots: &mut [NodeSlots],
    cfg: &SimConfig,
    now: Instant,
    wall: Timestamp,
    nodes: &[SimNode],
) -> Step {
    let info = &e.info;
    let running = matches!(e.state, State::Running { .. } | State::BackOff { .. });
    if let Some(deadline) = info.deletion {
        if e.deleted {
            return Step::Idle;
        }
        let at = *e.terminate_at.get_or_insert_with(|| {
            if !running {
                return now;
            }
            let delay = info.termination_delay.unwrap_or(cfg.termination_delay);
            now + delay.min(between(wall, deadline))
        });
        if now < at {
            return Step::Wait(at);
        }
        if running && info.finalizers {
            let (started, attempt) = match e.state {
                State::Running {
                    started, restarts, ..
                } => (started, restarts),
                State::BackOff { last, .. } => (last.started, last.attempt),
                _ => (wall, 0),
            };
            let exit = Exit {
                code: 143,
                attempt,
                started,
                finished: wall,
            };
            let patch = terminal_patch(e, &exit, wall);
            return Step::Act(Action::Kill, request(info, Some(patch)));
        }
        return Step::Act(Action::Delete, request(info, None));
    }
    match e.state {
        State::Pending => {
            if e.slot.is_none() {
                let node = &mut slots[info.node];
                let ip = if node.active >= cfg.pods {
                    None
                } else if info.host_network {
                    Some(None)
                } else {
                    node.pool.allocate().map(Some)
                };
                let Some(ip) = ip else {
                    let patch = json!({"status": {
                        "phase": "Failed",
                        "reason": "OutOfpods",
                        "message": format!(
                            "Pod was rejected: Node didn't have enough resource: pods, requested: 1, used: {}, capacity: {}",
                            node.active, cfg.pods
                        ),
                    }});
                    return Step::Act(Action::Reject, request(info, Some(patch)));
                };
                node.active += 1;
                e.slot = Some(Slot { ip });
            }
            let node_ip = nodes[info.node].ip;
            let pod_ip = e.slot.and_then(|s| s.ip).unwrap_or(node_ip);
            let patch = start_patch(e, node_ip, pod_ip, wall);
            Step::Act(
                Action::Start { started: wall },
                request(&e.info, Some(patch)),
            )
        }
        State::Running {
            started, restarts, ..
        } => {
            let Some(run_for) = info.run_for else {
                return Step::Idle;
            };
            let exit_at = plus(started, run_for);
            if wall < exit_at {
                return Step::Wait(now + between(wall, exit_at));
            }
            let exit = Exit {
                code: info.exit_code,
                attempt: restarts,
                started,
                finished: wall,
            };
            let terminal = match info.restart_policy {
                RestartPolicy::Never => true,
                RestartPolicy::OnFailure => exit.code == 0,
                RestartPolicy::Always => false,
            };
            let (action, patch) = if terminal {
                (Action::Finish { exit }, terminal_patch(e, &exit, wall))
            } else {
                let backoff = restart_backoff(restarts);
                if backoff.is_zero() {
                    (
                        Action::Restart {
                            started: wall,
                            last: exit,
                        },
                        running_patch(e, wall, &exit),
                    )
                } else {
                    (
                        Action::Crash {
                            until: plus(wall, backoff),
                            last: exit,
                        },
                        waiting_patch(e, &exit, backoff),
                    )
                }
            };
            Step::Act(action, request(info, Some(patch)))
        }
        State::BackOff { until, last } => {
            if wall < until {
                return Step::Wait(now + between(wall, until));
            }
            let patch = running_patch(e, wall, &last);
            Step::Act(
                Action::Restart {
                    started: wall,
                    last,
                },
                request(info, Some(patch)),
            )
        }
        State::Finished => Step::Idle,
    }
}

fn request(info: &PodInfo, patch: Option<Value>) -> Request {
    Request {
        namespace: info.namespace.clone(),
        name: info.name.clone(),
        patch,
    }
}

/// Count a done action.
fn count(action: &Action, stats: &Stats) {
    match action {
        Action::Start { .. } => Stats::inc(&stats.pods_started),
        Action::Reject | Action::Kill => Stats::inc(&stats.pods_failed),
        Action::Finish { exit } if exit.code == 0 => Stats::inc(&stats.pods_succeeded),
        Action::Finish { .. } => Stats::inc(&stats.pods_failed),
        Action::Crash { .. } => {}
        Action::Restart { .. } => Stats::inc(&stats.restarts),
        Action::Delete => Stats::inc(&stats.pods_deleted),
    }
}

/// Record a done action; returns a slot to give back to its node.
fn commit(e: &mut Entry, action: Action) -> (usize, Option<Slot>) {
    let node = e.info.node;
    match action {
        Action::Start { started } => {
            e.state = State::Running {
                started,
                restarts: 0,
            };
        }
        Action::Reject => e.state = State::Finished,
        Action::Finish { .. } | Action::Kill => {
            e.state = State::Finished;
            return (node, e.slot.take());
        }
        Action::Crash { until, last } => e.state = State::BackOff { until, last },
        Action::Restart { started, last } => {
            e.state = State::Running {
                started,
                restarts: last.attempt + 1,
            };
        }
        Action::Delete => e.deleted = true,
    }
    (node, None)
}

// ------------------------------------------------------------------ patches

fn condition(
    type_: &str,
    ok: bool,
    at: Timestamp,
    reason: Option<&str>,
    message: Option<&str>,
) -> Value {
    json!({
        "type": type_,
        "status": if ok { "True" } else { "False" },
        "lastProbeTime": null,
        "lastTransitionTime": time(at),
        "reason": reason,
        "message": message,
    })
}

/// A stable fake container ID for attempt `attempt` of a container.
fn container_id(uid: &str, name: &str, attempt: i32) -> String {
    let h = fnv(format!("{uid}/{name}/{attempt}").as_bytes());
    format!("sim://{h:032x}{:032x}", fnv(&h.to_le_bytes()))
}

fn image_id(image: &str) -> String {
    let h = fnv(image.as_bytes());
    format!("{image}@sha256:{h:032x}{:032x}", fnv(&h.to_le_bytes()))
}

fn terminated(exit: &Exit, uid: &str, name: &str) -> Value {
    json!({"terminated": {
        "exitCode": exit.code,
        "reason": if exit.code == 0 { "Completed" } else { "Error" },
        "startedAt": time(exit.started),
        "finishedAt": time(exit.finished),
        "containerID": container_id(uid, name, exit.attempt),
    }})
}

/// What a container status says, besides its name and image.
struct Shown<'a> {
    /// The attempt whose container the status shows (none while waiting).
    attempt: Option<i32>,
    restarts: i32,
    state: Value,
    last: Option<&'a Exit>,
    ready: bool,
    started: bool,
}

fn container_status(c: &Ctr, uid: &str, shown: Shown<'_>) -> Value {
    let mut m = serde_json::Map::new();
    m.insert("name".into(), json!(c.name));
    m.insert("image".into(), json!(c.image));
    m.insert("imageID".into(), json!(image_id(&c.image)));
    if let Some(attempt) = shown.attempt {
        m.insert(
            "containerID".into(),
            json!(container_id(uid, &c.name, attempt)),
        );
    }
    m.insert("ready".into(), json!(shown.ready));
    m.insert("started".into(), json!(shown.started));
    m.insert("restartCount".into(), json!(shown.restarts));
    m.insert("state".into(), shown.state);
    m.insert(
        "lastState".into(),
        shown
            .last
            .map(|x| terminated(x, uid, &c.name))
            .unwrap_or_else(|| json!({})),
    );
    Value::Object(m)
}

/// Init containers once the pod runs: done (Completed), sidecars running;
/// once the pod `stopped`, sidecars terminated too.
fn init_statuses(e: &Entry, at: Timestamp, stopped: Option<&Exit>) -> Value {
    e.info
        .init_containers
        .iter()
        .map(|c| {
            if c.sidecar && stopped.is_none() {
                let shown = Shown {
                    attempt: Some(0),
                    restarts: 0,
                    state: json!({"running": {"startedAt": time(at)}}),
                    last: None,
                    ready: true,
                    started: true,
                };
                container_status(c, &e.uid, shown)
            } else {
                let exit = Exit {
                    code: 0,
                    attempt: 0,
                    started: at,
                    finished: stopped.map_or(at, |x| x.finished),
                };
                let shown = Shown {
                    attempt: Some(0),
                    restarts: 0,
                    state: terminated(&exit, &e.uid, &c.name),
                    last: None,
                    ready: !c.sidecar,
                    started: false,
                };
                container_status(c, &e.uid, shown)
            }
        })
        .collect()
}

fn containers_running(e: &Entry, attempt: i32, since: Timestamp, last: Option<&Exit>) -> Value {
    e.info
        .containers
        .iter()
        .map(|c| {
            let shown = Shown {
                attempt: Some(attempt),
                restarts: attempt,
                state: json!({"running": {"startedAt": time(since)}}),
                last,
                ready: true,
                started: true,
            };
            container_status(c, &e.uid, shown)
        })
        .collect()
}

fn start_patch(e: &Entry, node_ip: Ipv4Addr, pod_ip: Ipv4Addr, now: Timestamp) -> Value {
    let info = &e.info;
    let scheduled = info.scheduled_at.unwrap_or(now);
    let mut status = json!({
        "phase": "Running",
        "hostIP": node_ip.to_string(),
        "hostIPs": [{"ip": node_ip.to_string()}],
        "podIP": pod_ip.to_string(),
        "podIPs": [{"ip": pod_ip.to_string()}],
        "startTime": time(now),
        "qosClass": e.qos,
        "conditions": [
            condition("PodReadyToStartContainers", true, now, None, None),
            condition("Initialized", true, now, None, None),
            condition("Ready", true, now, None, None),
            condition("ContainersReady", true, now, None, None),
            condition("PodScheduled", true, scheduled, None, None),
        ],
        "containerStatuses": containers_running(e, 0, now, None),
    });
    if !info.init_containers.is_empty() {
        status["initContainerStatuses"] = init_statuses(e, now, None);
    }
    json!({ "status": status })
}

/// The containers run again after `last` exited (attempt `last.attempt + 1`).
fn running_patch(e: &Entry, now: Timestamp, last: &Exit) -> Value {
    json!({"status": {
        "conditions": [
            condition("Ready", true, now, None, None),
            condition("ContainersReady", true, now, None, None),
        ],
        "containerStatuses": containers_running(e, last.attempt + 1, now, Some(last)),
    }})
}

/// The containers exited and wait in CrashLoopBackOff.
fn waiting_patch(e: &Entry, exit: &Exit, backoff: Duration) -> Value {
    let names: Vec<&str> = e.info.containers.iter().map(|c| c.name.as_str()).collect();
    let message = format!("containers with unready status: [{}]", names.join(" "));
    let statuses: Vec<Value> = e
        .info
        .containers
        .iter()
        .map(|c| {
            let shown = Shown {
                attempt: None,
                restarts: exit.attempt,
                state: json!({"waiting": {
                    "reason": "CrashLoopBackOff",
                    "message": format!(
                        "back-off {}s restarting failed container={} pod={}_{}({})",
                        backoff.as_secs(), c.name, e.info.name, e.info.namespace, e.uid
                    ),
                }}),
                last: Some(exit),
                ready: false,
                started: false,
            };
            container_status(c, &e.uid, shown)
        })
        .collect();
    let not_ready = |type_| {
        condition(
            type_,
            false,
            exit.finished,
            Some("ContainersNotReady"),
            Some(&message),
        )
    };
    json!({"status": {
        "conditions": [not_ready("Ready"), not_ready("ContainersReady")],
        "containerStatuses": statuses,
    }})
}

/// The pod ended: every container's attempt `exit.attempt` terminated.
fn terminal_patch(e: &Entry, exit: &Exit, now: Timestamp) -> Value {
    let (phase, reason) = if exit.code == 0 {
        ("Succeeded", "PodCompleted")
    } else {
        ("Failed", "PodFailed")
    };
    let statuses: Vec<Value> = e
        .info
        .containers
        .iter()
        .map(|c| {
            let shown = Shown {
                attempt: Some(exit.attempt),
                restarts: exit.attempt,
                state: terminated(exit, &e.uid, &c.name),
                last: None,
                ready: false,
                started: false,
            };
            container_status(c, &e.uid, shown)
        })
        .collect();
    let mut status = json!({
        "phase": phase,
        "conditions": [
            condition("PodReadyToStartContainers", false, now, None, None),
            condition("Initialized", true, now, Some(reason), None),
            condition("Ready", false, now, Some(reason), None),
            condition("ContainersReady", false, now, Some(reason), None),
        ],
        "containerStatuses": statuses,
    });
    if !e.info.init_containers.is_empty() {
        status["initContainerStatuses"] = init_statuses(e, now, Some(exit));
    }
    json!({ "status": status })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_five_minutes() {
        let s = Duration::from_secs;
        let got: Vec<Duration> = (0..8).map(restart_backoff).collect();
        assert_eq!(
            got,
            [s(0), s(10), s(20), s(40), s(80), s(160), s(300), s(300)]
        );
    }

    #[test]
    fn an_indexed_pod_reads_its_own_keys_first() {
        let pod = |index: &str| -> SimPod {
            serde_json::from_value(json!({
                "metadata": {"name": "p", "annotations": {
                    COMPLETION_INDEX: index,
                    EXIT_CODE: "0", "sim.rkube.io/exit-code.2": "7",
                    RUN_FOR: "1s", "sim.rkube.io/run-for.2": "1h",
                }},
                "spec": {"containers": [{"name": "c"}]},
            }))
            .unwrap()
        };
        let two = PodInfo::new(&pod("2"), 0);
        assert_eq!(
            (two.exit_code, two.run_for),
            (7, Some(Duration::from_secs(3600)))
        );
        let one = PodInfo::new(&pod("1"), 0);
        assert_eq!(
            (one.exit_code, one.run_for),
            (0, Some(Duration::from_secs(1)))
        );
    }

    #[test]
    fn slim_pod_decodes_a_pod() {
        let pod: SimPod = serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": "ns", "uid": "u1",
                         "annotations": {RUN_FOR: "1.5s", EXIT_CODE: "3", "big": {"not": "a string"}},
                         "managedFields": [{"manager": "kubectl", "fieldsV1": {"f:spec": {}}}]},
            "spec": {"nodeName": "sim-0", "restartPolicy": "Never",
                     "containers": [{"name": "c", "image": "busybox", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}],
                     "initContainers": [{"name": "side", "image": "envoy", "restartPolicy": "Always"}]},
            "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "True", "lastTransitionTime": "2025-01-01T00:00:00Z"}]}
        }))
        .unwrap();
        assert_eq!(pod.metadata.annotations.as_ref().unwrap().len(), 2);
        assert!(pod.metadata.managed_fields.is_none());
        assert_eq!(pod.metadata.uid.as_deref(), Some("u1"));
        let info = PodInfo::new(&pod, 0);
        assert_eq!(info.run_for, Some(Duration::from_millis(1500)));
        assert_eq!(info.exit_code, 3);
        assert_eq!(info.restart_policy, RestartPolicy::Never);
        assert!(info.init_containers[0].sidecar);
        assert_eq!(
            info.scheduled_at.unwrap().to_string(),
            "2025-01-01T00:00:00Z"
        );
    }
}

//! `rkube-bench schedule KUBECONFIG WORKLOAD [CLIENTS] [--run-pods]
//! [--no-heartbeats] [--server-pid=PID]`: the scheduler end to end through the API, in the
//! manner of upstream's `test/integration/scheduler_perf`.
//!
//! For one workload (the shapes of upstream's test cases: node capacity,
//! node labels, pod templates, counts):
//!
//! 1. simulated nodes are registered in this process (`rkube_sim`), with
//!    upstream's node template (4 CPUs, 32Gi, 110 pods) and the workload's
//!    zone labels. By default the simulator only keeps the nodes Ready
//!    (Leases, status heartbeats) and does not run the pods: upstream's
//!    scheduler_perf has no kubelets either, so bindings are the only pod
//!    writes besides the creates. `--run-pods` lets the simulator mark the
//!    pods Running as a kubelet would (more writes, less comparable), and
//!    `--no-heartbeats` stops the heartbeats (upstream's nodes have none);
//! 2. the existing pods ("initPods") are created and waited for (bound);
//! 3. the measured pods are created as fast as CLIENTS keep-alive
//!    connections allow (by default [`DEFAULT_CLIENTS`], the 30 parallel
//!    creators of upstream's `CreatePod`), while one watch of bound pods
//!    (`fieldSelector=spec.nodeName!=`, from the resourceVersion of a list
//!    made before any pod existed) records when each was bound.
//!
//! The figure is measured pods bound / (last binding − first create sent),
//! what upstream's `SchedulingThroughput` averages. Beside it: how fast the
//! creates themselves went (the figure cannot exceed it by much: when the
//! two are close, the API server's create path is the limit, not the
//! scheduler), how fast the pods left after the creates were done were
//! bound (then only the scheduler and the binding writes are at work), and
//! create-to-bound latencies. With `--server-pid`, the server's CPU time
//! over the measured pods, per pod, and this process's: on a machine
//! whose cores are all busy the rate follows the CPU per pod, so that is
//! the figure to compare between versions.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use http_body_util::BodyExt;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::client::{Conn, Target};
use crate::percentile;

/// One of upstream's scheduler_perf test cases, at the size of its
/// `performance` workload.
pub struct Workload {
    /// The test case's name upstream.
    pub name: &'static str,
    nodes: usize,
    init_pods: usize,
    measure_pods: usize,
    /// The zone label values (round-robin over the nodes).
    zones: &'static [&'static str],
    init_namespace: &'static str,
    measure_namespace: &'static str,
    init_pod: fn() -> Value,
    measure_pod: fn() -> Value,
}

/// The workloads, as upstream's performance-config.yaml files declare them.
pub const WORKLOADS: &[Workload] = &[
    // misc/performance-config.yaml, SchedulingBasic/5000Nodes_10000Pods
    // (threshold 680).
    Workload {
        name: "SchedulingBasic",
        nodes: 5000,
        init_pods: 1000,
        measure_pods: 10000,
        zones: &["zone-a", "zone-b", "zone-c"],
        init_namespace: "default",
        measure_namespace: "default",
        init_pod: pod_default,
        measure_pod: pod_default,
    },
    // affinity/performance-config.yaml,
    // SchedulingNodeAffinity/5000Nodes_10000Pods (threshold 220): every
    // node labelled zone1 (labelNodePrepareStrategy), pods requiring zone
    // In [zone1, zone2].
    Workload {
        name: "NodeAffinity",
        nodes: 5000,
        init_pods: 5000,
        measure_pods: 10000,
        zones: &["zone1"],
        init_namespace: "default",
        measure_namespace: "default",
        init_pod: pod_with_node_affinity,
        measure_pod: pod_with_node_affinity,
    },
    // affinity/performance-config.yaml,
    // SchedulingPodAntiAffinity/5000Nodes_2000Pods (threshold 60): every
    // pod labelled color=green and refusing a node with another one, in
    // namespaces sched-0 (existing) and sched-1 (measured).
    Workload {
        name: "PodAntiAffinity",
        nodes: 5000,
        init_pods: 1000,
        measure_pods: 2000,
        zones: &["zone-a", "zone-b", "zone-c"],
        init_namespace: "sched-0",
        measure_namespace: "sched-1",
        init_pod: pod_with_pod_anti_affinity,
        measure_pod: pod_with_pod_anti_affinity,
    },
    // topology_spreading/performance-config.yaml,
    // TopologySpreading/5000Nodes_5000Pods (threshold 460): zones moon-1..3,
    // existing pods plain, measured pods spread over zones with maxSkew 5.
    Workload {
        name: "TopologySpreading",
        nodes: 5000,
        init_pods: 5000,
        measure_pods: 5000,
        zones: &["moon-1", "moon-2", "moon-3"],
        init_namespace: "default",
        measure_namespace: "default",
        init_pod: pod_default,
        measure_pod: pod_with_topology_spreading,
    },
    // misc/performance-config.yaml, PreemptionBasic/1000Nodes (no
    // threshold): four 900m low-priority pods fill each 4-CPU node; each
    // 3-CPU priority-10 pod must preempt three of them.
    Workload {
        name: "PreemptionBasic",
        nodes: 1000,
        init_pods: 4000,
        measure_pods: 1000,
        zones: &["zone-a", "zone-b", "zone-c"],
        init_namespace: "default",
        measure_namespace: "default",
        init_pod: pod_low_priority,
        measure_pod: pod_high_priority,
    },
];

// ------------------------------------------------------ upstream's templates

/// The pause container of every template, requesting (and limited to)
/// `cpu` and 500Mi.
fn pause(cpu: &str) -> Value {
    json!({
        "name": "pause",
        "image": "registry.k8s.io/pause:3.10",
        "ports": [{"containerPort": 80}],
        "resources": {
            "limits": {"cpu": cpu, "memory": "500Mi"},
            "requests": {"cpu": cpu, "memory": "500Mi"},
        },
    })
}

fn pod(labels: Value, spec: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"labels": labels}, "spec": spec})
}

/// templates/pod-default.yaml.
fn pod_default() -> Value {
    pod(json!({}), json!({"containers": [pause("100m")]}))
}

/// templates/pod-with-node-affinity.yaml.
fn pod_with_node_affinity() -> Value {
    pod(
        json!({}),
        json!({
            "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [{
                    "key": "topology.kubernetes.io/zone",
                    "operator": "In",
                    "values": ["zone1", "zone2"],
                }]}],
            }}},
            "containers": [pause("100m")],
        }),
    )
}

/// templates/pod-with-pod-anti-affinity.yaml.
fn pod_with_pod_anti_affinity() -> Value {
    pod(
        json!({"color": "green"}),
        json!({
            "affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{
                "labelSelector": {"matchLabels": {"color": "green"}},
                "topologyKey": "kubernetes.io/hostname",
                "namespaces": ["sched-1", "sched-0"],
            }]}},
            "containers": [pause("100m")],
        }),
    )
}

/// templates/pod-with-topology-spreading.yaml.
fn pod_with_topology_spreading() -> Value {
    pod(
        json!({"color": "blue"}),
        json!({
            "topologySpreadConstraints": [{
                "maxSkew": 5,
                "topologyKey": "topology.kubernetes.io/zone",
                "whenUnsatisfiable": "DoNotSchedule",
                "labelSelector": {"matchLabels": {"color": "blue"}},
            }],
            "containers": [pause("100m")],
        }),
    )
}

/// templates/pod-low-priority.yaml (grace 0: a victim goes at once, no
/// kubelet needed).
fn pod_low_priority() -> Value {
    pod(
        json!({}),
        json!({"terminationGracePeriodSeconds": 0, "containers": [pause("900m")]}),
    )
}

/// templates/pod-high-priority.yaml.
fn pod_high_priority() -> Value {
    pod(
        json!({}),
        json!({"priority": 10, "containers": [pause("3000m")]}),
    )
}

// ------------------------------------------------------------------ watching

/// When each pod was created and bound, in nanoseconds since `epoch` (0:
/// not yet).
struct Phase {
    created: Vec<AtomicU64>,
    bound: Vec<AtomicU64>,
    bound_count: AtomicUsize,
}

impl Phase {
    fn new(n: usize) -> Phase {
        Phase {
            created: (0..n).map(|_| AtomicU64::new(0)).collect(),
            bound: (0..n).map(|_| AtomicU64::new(0)).collect(),
            bound_count: AtomicUsize::new(0),
        }
    }
}

struct Tracker {
    epoch: Instant,
    init: Phase,
    measured: Phase,
    progress: tokio::sync::Notify,
}

impl Tracker {
    fn now(&self) -> u64 {
        (self.epoch.elapsed().as_nanos() as u64).max(1)
    }

    fn phase(&self, measured: bool) -> &Phase {
        if measured { &self.measured } else { &self.init }
    }

    fn bound(&self, name: &str) {
        let (phase, index) = if let Some(i) = name.strip_prefix("init-") {
            (&self.init, i)
        } else if let Some(i) = name.strip_prefix("pod-") {
            (&self.measured, i)
        } else {
            return;
        };
        let Some(slot) = index.parse::<usize>().ok().and_then(|i| phase.bound.get(i)) else {
            return;
        };
        if slot
            .compare_exchange(0, self.now(), Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            phase.bound_count.fetch_add(1, Ordering::AcqRel);
            self.progress.notify_waiters();
        }
    }
}

#[derive(Deserialize)]
struct WatchEvent {
    #[serde(rename = "type")]
    kind: String,
    object: WatchObject,
}

#[derive(Deserialize)]
struct WatchObject {
    #[serde(default)]
    metadata: Meta,
    #[serde(default)]
    spec: Option<PodSpec>,
    /// For an ERROR event: the Status's message.
    #[serde(default)]
    message: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Meta {
    #[serde(default)]
    name: String,
    #[serde(default)]
    resource_version: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PodSpec {
    #[serde(default)]
    node_name: Option<String>,
}

/// Watch bound pods from `rv` on, recording bindings; reconnect (from the
/// last resourceVersion seen) if the server ends the watch.
async fn watch_bindings(target: Target, mut rv: String, tracker: Arc<Tracker>) -> Result<()> {
    loop {
        let mut conn = target.http1().await?;
        let path = format!(
            "/api/v1/pods?watch=true&allowWatchBookmarks=true&fieldSelector=spec.nodeName%21%3D&resourceVersion={rv}"
        );
        let resp = conn
            .send(http::Method::GET, &path, "application/json", Bytes::new())
            .await?;
        if resp.status() != 200 {
            let status = resp.status();
            let body = resp.into_body().collect().await?.to_bytes();
            bail!("watch: {status} {}", String::from_utf8_lossy(&body));
        }
        let mut body = resp.into_body();
        let mut buf: Vec<u8> = Vec::new();
        while let Some(frame) = body.frame().await {
            let Ok(data) = frame?.into_data() else {
                continue;
            };
            buf.extend_from_slice(&data);
            let mut start = 0;
            while let Some(end) = buf[start..].iter().position(|&b| b == b'\n') {
                let line = &buf[start..start + end];
                start += end + 1;
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                let ev: WatchEvent =
                    serde_json::from_slice(line).context("decoding a watch event")?;
                let node = ev.object.spec.as_ref().and_then(|s| s.node_name.as_deref());
                match ev.kind.as_str() {
                    "ADDED" | "MODIFIED" if node.is_some_and(|n| !n.is_empty()) => {
                        tracker.bound(&ev.object.metadata.name);
                    }
                    "ERROR" => bail!(
                        "the watch failed: {}",
                        ev.object.message.unwrap_or_default()
                    ),
                    _ => {}
                }
                if let Some(v) = ev.object.metadata.resource_version {
                    rv = v;
                }
            }
            buf.drain(..start);
        }
    }
}

/// Wait until `phase` has `want` pods bound; give up after `stall` without
/// progress. Returns whether all were bound.
async fn wait_bound(tracker: &Tracker, phase: &Phase, want: usize, stall: Duration) -> bool {
    let mut seen = usize::MAX;
    let mut last_progress = Instant::now();
    loop {
        let notified = tracker.progress.notified();
        let n = phase.bound_count.load(Ordering::Acquire);
        if n >= want {
            return true;
        }
        if n != seen {
            seen = n;
            last_progress = Instant::now();
        } else if last_progress.elapsed() >= stall {
            return false;
        }
        let _ = tokio::time::timeout(Duration::from_millis(200), notified).await;
    }
}

// ------------------------------------------------------------------ creating

/// Keep-alive connections creating pods.
struct Creator {
    conns: Vec<Conn>,
}

impl Creator {
    async fn connect(target: &Target, clients: usize) -> Result<Creator> {
        let mut conns = Vec::with_capacity(clients);
        for _ in 0..clients {
            conns.push(target.http1().await?);
        }
        Ok(Creator { conns })
    }

    /// Create `template` as `{prefix}{i}` for every i < count in
    /// `namespace`, recording when each create returned.
    async fn create(
        &mut self,
        namespace: &str,
        prefix: &str,
        template: &Value,
        tracker: &Arc<Tracker>,
        measured: bool,
    ) -> Result<()> {
        let count = tracker.phase(measured).created.len();
        // Bodies serialized before the clock starts.
        let bodies: Arc<Vec<Bytes>> = Arc::new(
            (0..count)
                .map(|i| {
                    let mut v = template.clone();
                    v["metadata"]["name"] = json!(format!("{prefix}{i}"));
                    Bytes::from(v.to_string())
                })
                .collect(),
        );
        let path: Arc<str> = format!("/api/v1/namespaces/{namespace}/pods").into();
        let next = Arc::new(AtomicUsize::new(0));
        let mut tasks = tokio::task::JoinSet::new();
        for mut conn in self.conns.drain(..) {
            let (bodies, path, next, tracker) =
                (bodies.clone(), path.clone(), next.clone(), tracker.clone());
            tasks.spawn(async move {
                let result: Result<()> = async {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= bodies.len() {
                            return Ok(());
                        }
                        let mut tries = 0;
                        loop {
                            let (status, body) = conn
                                .request(
                                    http::Method::POST,
                                    &path,
                                    "application/json",
                                    bodies[i].clone(),
                                )
                                .await?;
                            if status == 201 {
                                break;
                            }
                            tries += 1;
                            if !(status == 429 || status >= 500) || tries >= 5 {
                                bail!(
                                    "creating a pod: {status} {}",
                                    String::from_utf8_lossy(&body)
                                );
                            }
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                        tracker.phase(measured).created[i].store(tracker.now(), Ordering::Release);
                    }
                }
                .await;
                (conn, result)
            });
        }
        let mut first_err = None;
        while let Some(joined) = tasks.join_next().await {
            let (conn, result) = joined.context("a creating task panicked")?;
            self.conns.push(conn);
            if let Err(e) = result {
                first_err.get_or_insert(e);
            }
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

// ---------------------------------------------------------------- the bench

/// Concurrent creators by default: upstream's scheduler_perf creates its
/// pods with 30 workers (`workqueue.ParallelizeUntil(ctx, 30, ...)`).
/// More only queue pods faster than any scheduler binds them, which
/// measures the backlog, not the scheduler.
pub const DEFAULT_CLIENTS: usize = 30;

/// Options of the `schedule` mode.
pub struct Options {
    /// Concurrent connections creating pods.
    pub clients: usize,
    /// Whether the simulator marks bound pods Running (as a kubelet).
    pub run_pods: bool,
    /// Whether the simulator renews Leases and refreshes node status
    /// during the run (the kubelet's 10 s and 1 min); upstream's
    /// scheduler_perf nodes have no heartbeats.
    pub heartbeats: bool,
    /// The server's process id, when it runs on this machine: its CPU
    /// time over the measured pods is reported per pod.
    pub server_pid: Option<u32>,
}

/// CPU seconds (user + system) a process has used so far.
fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command (which may hold spaces), from `state` on:
    // utime and stime are the 12th and 13th.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    Some(ticks / hz)
}

/// Run `workload` against the server of `kubeconfig`.
pub async fn run(kubeconfig: &str, workload: &str, opts: Options) -> Result<Value> {
    let Some(w) = WORKLOADS.iter().find(|w| w.name == workload) else {
        let names: Vec<&str> = WORKLOADS.iter().map(|w| w.name).collect();
        bail!("unknown workload {workload:?}; one of {}", names.join(", "));
    };
    let target = Target::from_kubeconfig(kubeconfig)?;
    let mut conn = target.http1().await?;

    // Nodes: upstream's node template (4 CPUs, 32Gi, 110 pods).
    let started = Instant::now();
    let mut cfg = rkube_sim::SimConfig::new(kubeconfig, w.nodes);
    cfg.cpu = "4".into();
    cfg.memory = "32Gi".into();
    cfg.pods = 110;
    cfg.zones = w.zones.iter().map(|z| (*z).to_owned()).collect();
    cfg.node_concurrency = 64;
    cfg.run_pods = opts.run_pods;
    if !opts.heartbeats {
        // Registered Ready with a fresh Lease; nothing renewed during the
        // run (which is far shorter than a day).
        cfg.lease_interval = Duration::from_secs(86400);
        cfg.node_status_interval = Duration::from_secs(86400);
    }
    let (lease_s, status_s) = (
        cfg.lease_interval.as_secs(),
        cfg.node_status_interval.as_secs(),
    );
    let sim = rkube_sim::start(cfg)
        .await
        .context("starting the simulator")?;
    if sim.nodes().len() != w.nodes {
        bail!("{} nodes registered, not {}", sim.nodes().len(), w.nodes);
    }
    let nodes_s = started.elapsed().as_secs_f64();

    for ns in [w.init_namespace, w.measure_namespace] {
        if ns == "default" {
            continue;
        }
        let body = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
        let (status, body) = conn
            .request(
                http::Method::POST,
                "/api/v1/namespaces",
                "application/json",
                Bytes::from(body.to_string()),
            )
            .await?;
        if status != 201 && status != 409 {
            bail!(
                "creating namespace {ns}: {status} {}",
                String::from_utf8_lossy(&body)
            );
        }
    }

    // One watch of bound pods, from before the first pod.
    let list: Value = serde_json::from_slice(&conn.get("/api/v1/pods?limit=1").await?)?;
    let rv = list["metadata"]["resourceVersion"]
        .as_str()
        .context("a list without resourceVersion")?
        .to_owned();
    let tracker = Arc::new(Tracker {
        epoch: Instant::now(),
        init: Phase::new(w.init_pods),
        measured: Phase::new(w.measure_pods),
        progress: tokio::sync::Notify::new(),
    });
    let mut watch = tokio::spawn(watch_bindings(target.clone(), rv, tracker.clone()));

    let mut creator = Creator::connect(&target, opts.clients).await?;
    let stall = Duration::from_secs(30);

    // The existing pods, all bound before measuring.
    let t = Instant::now();
    creator
        .create(w.init_namespace, "init-", &(w.init_pod)(), &tracker, false)
        .await
        .context("creating the existing pods")?;
    if !wait_bound(&tracker, &tracker.init, w.init_pods, stall).await {
        if watch.is_finished() {
            (&mut watch).await??;
        }
        bail!(
            "only {} of {} existing pods were bound (no progress for {} s)",
            tracker.init.bound_count.load(Ordering::Acquire),
            w.init_pods,
            stall.as_secs()
        );
    }
    let init_s = t.elapsed().as_secs_f64();

    // The measured pods.
    let server_pid = opts.server_pid.map(|p| p.to_string());
    let cpu_at_start = (
        server_pid.as_deref().and_then(cpu_seconds),
        cpu_seconds("self"),
    );
    let t0 = tracker.now();
    creator
        .create(
            w.measure_namespace,
            "pod-",
            &(w.measure_pod)(),
            &tracker,
            true,
        )
        .await
        .context("creating the measured pods")?;
    let created = tracker.now();
    let complete = wait_bound(&tracker, &tracker.measured, w.measure_pods, stall).await;
    // CPU per measured pod, in µs: the server's and this process's.
    let per_pod =
        |start: Option<f64>, end: Option<f64>| Some((end? - start?) * 1e6 / w.measure_pods as f64);
    let server_cpu_us = per_pod(cpu_at_start.0, server_pid.as_deref().and_then(cpu_seconds));
    let bench_cpu_us = per_pod(cpu_at_start.1, cpu_seconds("self"));
    if !complete && watch.is_finished() {
        (&mut watch).await??;
    }
    watch.abort();
    sim.shutdown().await;

    let m = &tracker.measured;
    let bound: Vec<u64> = m
        .bound
        .iter()
        .map(|b| b.load(Ordering::Acquire))
        .filter(|&b| b > 0)
        .collect();
    let last = bound.iter().copied().max().unwrap_or(t0);
    let secs = |ns: u64| ns as f64 / 1e9;
    let seconds = secs(last.saturating_sub(t0));
    let per_sec = if seconds > 0.0 {
        bound.len() as f64 / seconds
    } else {
        0.0
    };
    let create_seconds = secs(created - t0);
    // Pods still unbound when the last create returned, and how fast they
    // went: the scheduler (and its binding writes) alone at work.
    let after: Vec<u64> = bound.iter().copied().filter(|&b| b > created).collect();
    let drain_per_sec = if after.len() > 1 {
        after.len() as f64 / secs(last - created)
    } else {
        0.0
    };
    let mut latency: Vec<Duration> = m
        .created
        .iter()
        .zip(&m.bound)
        .filter_map(|(c, b)| {
            let (c, b) = (c.load(Ordering::Acquire), b.load(Ordering::Acquire));
            (c > 0 && b > 0).then(|| Duration::from_nanos(b.saturating_sub(c)))
        })
        .collect();
    latency.sort();
    // Bindings per half second from the first create: stalls show.
    let mut timeline = vec![0u32; (secs(last.saturating_sub(t0)) * 2.0) as usize + 1];
    for &b in &bound {
        timeline[(secs(b.saturating_sub(t0)) * 2.0) as usize] += 1;
    }
    let heartbeats = if opts.heartbeats {
        format!("Leases renewed every {lease_s} s, status every {status_s} s")
    } else {
        "no heartbeats".to_owned()
    };
    let sim_mode = if opts.run_pods {
        format!("nodes and pods: {heartbeats}; bound pods marked Running")
    } else {
        format!(
            "nodes only: {heartbeats}; pods not run (no kubelets, as upstream's scheduler_perf)"
        )
    };
    Ok(json!({
        "bench": "schedule",
        "workload": w.name,
        "nodes": w.nodes,
        "init_pods": w.init_pods,
        "measure_pods": w.measure_pods,
        "clients": opts.clients,
        "sim": sim_mode,
        "bound": bound.len(),
        "complete": complete,
        "per_sec": per_sec,
        "seconds": seconds,
        "create_per_sec": w.measure_pods as f64 / create_seconds.max(1e-9),
        "create_seconds": create_seconds,
        "bound_after_creates": after.len(),
        "drain_per_sec": drain_per_sec,
        "p50_create_to_bound_ms": percentile(&latency, 0.5),
        "p99_create_to_bound_ms": percentile(&latency, 0.99),
        "bound_per_half_second": timeline,
        "server_cpu_us_per_pod": server_cpu_us,
        "bench_cpu_us_per_pod": bench_cpu_us,
        "setup_nodes_s": nodes_s,
        "setup_init_pods_s": init_s,
    }))
}

// ------------------------------------------------------- without the API

/// `rkube-bench schedule-only WORKLOAD`: the scheduling algorithm alone, in
/// this process, on the workload's nodes and pods: the same node template
/// and labels as the simulator's, the existing pods scheduled first, then
/// the measured ones timed (each decision assumed into the snapshot, as
/// the scheduler does before binding). No API, no watches, no writes.
/// `SchedulerMemory` instead schedules 50,000 pods on SchedulingBasic's
/// 5,000 nodes and reports the process's RSS before and after.
pub fn run_in_process(workload: &str) -> Result<Value> {
    let memory = workload == "SchedulerMemory";
    let name = if memory { "SchedulingBasic" } else { workload };
    let Some(w) = WORKLOADS.iter().find(|w| w.name == name) else {
        let names: Vec<&str> = WORKLOADS.iter().map(|w| w.name).collect();
        bail!(
            "unknown workload {workload:?}; one of {}, SchedulerMemory",
            names.join(", ")
        );
    };
    if w.name == "PreemptionBasic" {
        bail!("PreemptionBasic needs the API: preemption deletes its victims through it");
    }
    let rss_before = rss_mb()?;
    let mut snapshot = rkube_scheduler::Snapshot::new();
    for i in 0..w.nodes {
        snapshot.upsert_node(sim_node(i, w.zones)?);
    }
    let mut framework = rkube_scheduler::Framework::new(rkube_scheduler::Profile::default())
        .map_err(|e| anyhow::anyhow!("default profile: {e}"))?
        .with_seed(1);
    let init = pods("init", w.init_namespace, w.init_pods, w.init_pod)?;
    schedule_all(&mut framework, &mut snapshot, init)?;
    let measured = if memory { 50_000 } else { w.measure_pods };
    let measure = pods("measured", w.measure_namespace, measured, w.measure_pod)?;
    let started = Instant::now();
    schedule_all(&mut framework, &mut snapshot, measure)?;
    let seconds = started.elapsed().as_secs_f64();
    Ok(json!({
        "bench": "schedule-only",
        "workload": workload,
        "nodes": w.nodes,
        "init_pods": w.init_pods,
        "measure_pods": measured,
        "seconds": seconds,
        "per_sec": measured as f64 / seconds,
        "rss_before_mb": rss_before,
        "rss_after_mb": rss_mb()?,
    }))
}

/// A node as `rkube sim` registers it for the scheduler benchmark (4 CPUs,
/// 32Gi, 110 pods, the zone label round-robin), Ready.
fn sim_node(index: usize, zones: &[&str]) -> Result<k8s_openapi::api::core::v1::Node> {
    let name = format!("sim-{index}");
    let capacity =
        json!({"cpu": "4", "memory": "32Gi", "pods": "110", "ephemeral-storage": "100Gi"});
    Ok(serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {
            "kubernetes.io/hostname": name,
            "kubernetes.io/os": "linux",
            "topology.kubernetes.io/zone": zones[index % zones.len()],
            "topology.kubernetes.io/region": "sim",
        }},
        "status": {
            "capacity": capacity, "allocatable": capacity,
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }))?)
}

/// `count` pods from `template`, named `prefix-N`, decoded up front so
/// that only scheduling is timed.
fn pods(
    prefix: &str,
    namespace: &str,
    count: usize,
    template: fn() -> Value,
) -> Result<Vec<Arc<rkube_scheduler::PodInfo>>> {
    (0..count)
        .map(|i| {
            let mut pod = template();
            pod["metadata"]["name"] = json!(format!("{prefix}-{i}"));
            pod["metadata"]["namespace"] = json!(namespace);
            pod["metadata"]["uid"] = json!(format!("{prefix}-{i}"));
            Ok(rkube_scheduler::PodInfo::arc(serde_json::from_value(pod)?))
        })
        .collect()
}

fn schedule_all(
    framework: &mut rkube_scheduler::Framework,
    snapshot: &mut rkube_scheduler::Snapshot,
    pods: Vec<Arc<rkube_scheduler::PodInfo>>,
) -> Result<()> {
    for pod in pods {
        let decision = framework
            .schedule(&pod, snapshot, rkube_scheduler::ScheduleOptions::default())
            .map_err(|e| anyhow::anyhow!("{}: {e}", pod.key))?;
        snapshot.assume_pod(pod, &decision.node);
    }
    Ok(())
}

/// This process's RSS, in MB.
fn rss_mb() -> Result<f64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .context("no VmRSS in /proc/self/status")
}

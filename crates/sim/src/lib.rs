//! `rkube sim`: simulated nodes, in the manner of kwok.
//!
//! The simulator is an ordinary API client (kube-rs). It
//!
//! - registers `N` Nodes named `<prefix>0` … `<prefix>{N-1}` (not
//!   zero-padded), each with the configured capacity (= allocatable), the
//!   well-known labels (`kubernetes.io/hostname`, `kubernetes.io/os=linux`,
//!   `kubernetes.io/arch=amd64`, `topology.kubernetes.io/zone` round-robin
//!   over the zones — `zone-a`, `zone-b`, `zone-c` by default —,
//!   `topology.kubernetes.io/region`), the annotation
//!   `sim.rkube.io/node: "true"`, Ready=True and the three pressure
//!   conditions False, `status.nodeInfo`, an InternalIP and a pod CIDR (see
//!   [`ipam`] for the address plan). A Node that exists already (the
//!   simulator restarted) is adopted: its labels and status are brought up
//!   to date, its pod CIDR is kept;
//! - keeps them Ready as the kubelet does: a Lease per node in
//!   `kube-node-lease` renewed every 10 s (`leaseDurationSeconds` 40), and
//!   a node status refresh (`lastHeartbeatTime`) every minute; renewals are
//!   spread evenly over the interval, never sent in bursts;
//! - plays the node agent for every pod bound to one of its nodes (see
//!   [`pods`]): one watch of all bound pods (`spec.nodeName!=`), filtered
//!   locally, feeds a work queue served by a bounded number of workers
//!   (unless [`SimConfig::run_pods`] is off: `--nodes-only`).
//!
//! Stopping the simulator (Ctrl-C, SIGTERM, dropping the [`Sim`] handle)
//! leaves its Nodes, Leases and pods as they are, as kwok does: the Leases
//! simply stop being renewed. Starting it again adopts them.

#![warn(missing_docs)]

pub mod ipam;
mod nodes;
pub mod pods;
mod qos;
mod queue;
pub mod units;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};
use kube::config::{KubeConfigOptions, Kubeconfig};
use tokio::task::JoinSet;

/// What to simulate. [`SimConfig::new`] gives the defaults of `rkube sim`.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// The kubeconfig file to reach the API server with (ignored by
    /// [`start_with_client`]).
    pub kubeconfig: PathBuf,
    /// How many nodes.
    pub nodes: usize,
    /// Node names are `<prefix><index>`.
    pub prefix: String,
    /// CPU capacity (and allocatable) of each node, a quantity.
    pub cpu: String,
    /// Memory capacity of each node, a quantity.
    pub memory: String,
    /// Pod capacity of each node.
    pub pods: u32,
    /// Ephemeral storage capacity of each node, a quantity.
    pub ephemeral_storage: String,
    /// Zones the nodes are spread over, round-robin.
    pub zones: Vec<String>,
    /// The region label of every node.
    pub region: String,
    /// Extra labels on every node.
    pub labels: BTreeMap<String, String>,
    /// How often each node's Lease is renewed (the kubelet's 10 s).
    pub lease_interval: Duration,
    /// The Leases' `leaseDurationSeconds` (the kubelet's 40).
    pub lease_duration_seconds: i32,
    /// How often each node's status is refreshed (`lastHeartbeatTime`).
    pub node_status_interval: Duration,
    /// How long a deleted pod's containers take to stop, at most its grace
    /// period; a pod's `sim.rkube.io/termination-delay` annotation
    /// overrides it.
    pub termination_delay: Duration,
    /// Requests in flight for pods, at most (one per worker).
    pub pod_workers: usize,
    /// Requests in flight for node registration, Leases and node status.
    pub node_concurrency: usize,
    /// Whether to play the node agent for bound pods. Without it the
    /// simulator only registers the nodes and keeps them Ready, and bound
    /// pods stay as the scheduler left them (as in upstream's
    /// scheduler_perf, whose nodes have no kubelets).
    pub run_pods: bool,
}

impl SimConfig {
    /// `rkube sim`'s defaults for `nodes` nodes: 32 CPUs, 256Gi, 110 pods.
    pub fn new(kubeconfig: impl Into<PathBuf>, nodes: usize) -> SimConfig {
        SimConfig {
            kubeconfig: kubeconfig.into(),
            nodes,
            prefix: "sim-".into(),
            cpu: "32".into(),
            memory: "256Gi".into(),
            pods: 110,
            ephemeral_storage: "1Ti".into(),
            zones: vec!["zone-a".into(), "zone-b".into(), "zone-c".into()],
            region: "region-1".into(),
            labels: BTreeMap::new(),
            lease_interval: Duration::from_secs(10),
            lease_duration_seconds: 40,
            node_status_interval: Duration::from_secs(60),
            termination_delay: Duration::from_secs(1),
            pod_workers: 48,
            node_concurrency: 32,
            run_pods: true,
        }
    }

    fn validate(&self) -> Result<()> {
        for (flag, q) in [
            ("--cpu", &self.cpu),
            ("--memory", &self.memory),
            ("--ephemeral-storage", &self.ephemeral_storage),
        ] {
            units::parse_quantity(q).map_err(|e| anyhow::anyhow!("{flag}: {e}"))?;
        }
        anyhow::ensure!(!self.zones.is_empty(), "at least one zone is needed");
        anyhow::ensure!(self.pods > 0, "--pods must be positive");
        anyhow::ensure!(
            self.pod_workers > 0 && self.node_concurrency > 0,
            "concurrency must be positive"
        );
        anyhow::ensure!(
            !self.lease_interval.is_zero() && !self.node_status_interval.is_zero(),
            "intervals must be positive"
        );
        if self.nodes > 0 {
            ipam::node_pod_cidr(self.nodes - 1, self.pods)?;
        }
        Ok(())
    }
}

/// The command line of `rkube sim`.
#[derive(clap::Args, Clone, Debug)]
pub struct SimArgs {
    /// The kubeconfig of the cluster to add nodes to.
    #[arg(long, env = "KUBECONFIG")]
    pub kubeconfig: PathBuf,
    /// How many nodes to simulate.
    #[arg(long)]
    pub nodes: usize,
    /// CPU capacity of each node.
    #[arg(long, default_value = "32")]
    pub cpu: String,
    /// Memory capacity of each node.
    #[arg(long, default_value = "256Gi")]
    pub memory: String,
    /// Pod capacity of each node.
    #[arg(long, default_value_t = 110)]
    pub pods: u32,
    /// Ephemeral storage capacity of each node.
    #[arg(long, default_value = "1Ti")]
    pub ephemeral_storage: String,
    /// Node names are `<prefix>0`, `<prefix>1`, ...
    #[arg(long, default_value = "sim-")]
    pub prefix: String,
    /// Zones (`topology.kubernetes.io/zone`) to spread nodes over.
    #[arg(long, value_delimiter = ',', default_value = "zone-a,zone-b,zone-c")]
    pub zones: Vec<String>,
    /// Region (`topology.kubernetes.io/region`) of every node.
    #[arg(long, default_value = "region-1")]
    pub region: String,
    /// Extra node labels, `key=value[,key=value...]`.
    #[arg(long, value_delimiter = ',', value_parser = parse_label)]
    pub node_labels: Vec<(String, String)>,
    /// How often each node's Lease is renewed (Go duration).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub lease_interval: Duration,
    /// How often each node's status is refreshed (Go duration).
    #[arg(long, default_value = "1m", value_parser = parse_duration)]
    pub node_status_interval: Duration,
    /// How long a deleted pod stays Terminating, at most its grace period
    /// (Go duration; per pod: annotation `sim.rkube.io/termination-delay`).
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub termination_delay: Duration,
    /// Pod status writes and deletions in flight, at most.
    #[arg(long, default_value_t = 48)]
    pub pod_workers: usize,
    /// Only register the nodes and keep them Ready: leave the pods bound to
    /// them alone (not Running, deletions not finished), like nodes without
    /// kubelets in upstream's scheduler_perf.
    #[arg(long)]
    pub nodes_only: bool,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    units::parse_go_duration(s)
}

fn parse_label(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("{s:?} is not key=value"))
}

impl From<SimArgs> for SimConfig {
    fn from(a: SimArgs) -> SimConfig {
        SimConfig {
            kubeconfig: a.kubeconfig,
            nodes: a.nodes,
            prefix: a.prefix,
            cpu: a.cpu,
            memory: a.memory,
            pods: a.pods,
            ephemeral_storage: a.ephemeral_storage,
            zones: a.zones,
            region: a.region,
            labels: a.node_labels.into_iter().collect(),
            lease_interval: a.lease_interval,
            node_status_interval: a.node_status_interval,
            termination_delay: a.termination_delay,
            pod_workers: a.pod_workers,
            run_pods: !a.nodes_only,
            ..SimConfig::new("", 0)
        }
    }
}

/// Counters of what the simulator did.
#[derive(Debug, Default)]
pub struct Stats {
    /// Pods marked Running (restarts not counted).
    pub pods_started: AtomicU64,
    /// Pods that reached Succeeded.
    pub pods_succeeded: AtomicU64,
    /// Pods that reached Failed (including rejected ones).
    pub pods_failed: AtomicU64,
    /// Container restarts.
    pub restarts: AtomicU64,
    /// Pods deleted after their termination.
    pub pods_deleted: AtomicU64,
    /// Lease renewals.
    pub lease_renewals: AtomicU64,
    /// Node status refreshes.
    pub node_heartbeats: AtomicU64,
    /// Requests that failed (and were retried).
    pub errors: AtomicU64,
}

impl Stats {
    pub(crate) fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// Shared by every task of one simulator.
pub(crate) struct Ctx {
    pub client: kube::Client,
    pub cfg: SimConfig,
    pub stats: Arc<Stats>,
}

/// A running simulator. Dropping it stops every task (the nodes stay).
pub struct Sim {
    nodes: Vec<String>,
    stats: Arc<Stats>,
    tasks: JoinSet<Result<()>>,
}

impl Sim {
    /// The simulated nodes' names, in index order.
    pub fn nodes(&self) -> &[String] {
        &self.nodes
    }

    /// What the simulator did so far.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Run until a task fails (they do not end otherwise).
    pub async fn wait(mut self) -> Result<()> {
        match self.tasks.join_next().await {
            Some(Ok(r)) => r.and_then(|()| anyhow::bail!("a simulator task ended")),
            Some(Err(e)) => Err(e).context("a simulator task panicked"),
            None => Ok(()),
        }
    }

    /// Stop every task now.
    pub async fn shutdown(mut self) {
        self.tasks.shutdown().await;
    }
}

/// A client for `kubeconfig`.
pub async fn client(kubeconfig: &std::path::Path) -> Result<kube::Client> {
    let kc = Kubeconfig::read_from(kubeconfig)
        .with_context(|| format!("reading {}", kubeconfig.display()))?;
    let config = kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .context("loading the kubeconfig")?;
    kube::Client::try_from(config).context("building the client")
}

/// Register the nodes, then keep them and their pods going in background
/// tasks. Returns once every node is registered.
pub async fn start(cfg: SimConfig) -> Result<Sim> {
    let client = client(&cfg.kubeconfig).await?;
    start_with_client(client, cfg).await
}

/// [`start`] with a client of your own.
pub async fn start_with_client(client: kube::Client, cfg: SimConfig) -> Result<Sim> {
    cfg.validate()?;
    let ctx = Arc::new(Ctx {
        client,
        cfg,
        stats: Arc::new(Stats::default()),
    });
    let nodes = Arc::new(nodes::register_all(&ctx).await?);
    let mut tasks = JoinSet::new();
    if !nodes.is_empty() {
        tasks.spawn(nodes::renew_leases(ctx.clone(), nodes.clone()));
        tasks.spawn(nodes::refresh_status(ctx.clone(), nodes.clone()));
    }
    if ctx.cfg.run_pods {
        pods::spawn(&ctx, nodes.clone(), &mut tasks);
    }
    Ok(Sim {
        nodes: nodes.iter().map(|n| n.name.clone()).collect(),
        stats: ctx.stats.clone(),
        tasks,
    })
}

/// Run a simulator until this future is dropped or a task fails.
pub async fn run(cfg: SimConfig) -> Result<()> {
    start(cfg).await?.wait().await
}

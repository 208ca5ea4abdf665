//! rkube's controller manager: the controllers that make the cluster's
//! objects come true, as clients of the API server (kube-rs), in the
//! style of kube-controller-manager.
//!
//! # How it works
//!
//! [`start`] builds one shared [`Informer`] per kind (one watch each, a
//! local cache) and registers each controller's change handlers on them.
//! Handlers only put keys (`namespace/name`) on the controller's
//! [`WorkQueue`]; the controller's workers take keys one at a time (a key
//! is never worked on twice at once), read the caches, and write through
//! the API. A failed key is retried with exponential backoff (5 ms up to
//! 1000 s), a key may ask to be looked at again later (`Ok(Some(delay))`),
//! and every key of a controller is queued again every
//! [`RESYNC_PERIOD`], in case an event was missed.
//!
//! Workers start once every informer has listed: a controller never acts
//! on a partial view. Controllers that create or delete pods keep
//! [`Expectations`] so they do not act twice before their own writes come
//! back through the watch.
//!
//! # Code map
//!
//! - [`informer`], [`queue`], [`expectations`], [`events`]: the runtime.
//! - [`pods`]: pod predicates, controller references, routing pod changes
//!   to their controllers, deletion order; [`writes`]: slow-start creation
//!   with events and expectations, API error helpers.
//! - [`history`]: ControllerRevisions (DaemonSet and StatefulSet templates).
//! - [`daemonset`] and [`statefulset`]: one pod per eligible node; stable,
//!   ordered pods with their own claims.
//! - one module per controller: [`replicaset`], [`deployment`] (rollout
//!   arithmetic in `deployment::math`), [`serviceaccount`], [`endpoints`]
//!   (Endpoints and EndpointSlices), [`gc`] (the garbage collector),
//!   [`job`] (with ttlSecondsAfterFinished), [`cronjob`] (schedules parsed
//!   by `rkube_api::cron`), [`nodelifecycle`] (heartbeats, condition taints,
//!   NoExecute eviction), [`disruption`] (PodDisruptionBudget status),
//!   [`podgc`] (terminated and orphaned pods), [`resourcequota`] (quota usage),
//!   [`volume`] (binding claims to volumes, the `local-path` provisioner).

#![warn(missing_docs)]

pub mod cronjob;
pub mod daemonset;
pub mod deployment;
pub mod disruption;
pub mod endpoints;
pub mod events;
pub mod expectations;
pub mod gc;
pub mod history;
pub mod informer;
pub mod job;
pub mod nodelifecycle;
pub mod podgc;
pub mod pods;
pub mod queue;
pub mod replicaset;
pub mod resourcequota;
pub mod serviceaccount;
pub mod slim;
pub mod statefulset;
pub mod volume;
pub mod writes;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use k8s_openapi::api::apps::v1::{self as apps, Deployment, ReplicaSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1 as corev1;
use k8s_openapi::api::core::v1::{Endpoints, Namespace, Node, Service, ServiceAccount};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Client;
use tokio::task::JoinHandle;
use tracing::{debug, info};

pub use events::{EventType, Recorder};
pub use expectations::Expectations;
pub use informer::{Change, Informer, key_of, split_key};
pub use queue::WorkQueue;

/// Every key of every controller is looked at again this often.
pub const RESYNC_PERIOD: Duration = Duration::from_secs(300);

/// Declares [`Cluster`]: one shared informer per line, listed once.
macro_rules! informers {
    ($($(#[$doc:meta])* $field:ident: $kind:ty,)*) => {
        /// The caches the controllers share, and the client they write with.
        pub struct Cluster {
            /// Writes.
            pub client: Client,
            $($(#[$doc])* pub $field: Informer<$kind>,)*
        }

        impl Cluster {
            fn new(client: Client) -> Cluster {
                Cluster {
                    client,
                    $($field: Informer::new(),)*
                }
            }

            fn spawn_informers(&self) -> Vec<JoinHandle<()>> {
                vec![$(informer::spawn_all(&self.client, &self.$field),)*]
            }

            async fn synced(&self) {
                $(self.$field.synced().await;)*
            }

            /// If an informer caches the resource `plural` of
            /// `api_version`, hand every change of its objects' metadata
            /// to `sink` (cached objects first) and return its "synced"
            /// signal: the garbage collector then needs no watch of its
            /// own for that resource.
            pub fn share_metadata(
                &self,
                api_version: &str,
                plural: &str,
                sink: &MetadataSink,
            ) -> Option<tokio::sync::watch::Receiver<bool>> {
                $(
                    if <$kind as kube::Resource>::api_version(&()) == api_version
                        && <$kind as kube::Resource>::plural(&()) == plural
                    {
                        let sink = sink.clone();
                        self.$field.on_change_replaying(move |c| sink(c.metadata()));
                        return Some(self.$field.synced_signal());
                    }
                )*
                None
            }
        }
    };
}

/// Receives metadata changes from a shared informer (see
/// [`Cluster::share_metadata`]).
pub type MetadataSink = Arc<dyn Fn(Change<'_, ObjectMeta>) + Send + Sync>;

informers! {
    /// Pods, as the controllers' slim view of them.
    pods: slim::Pod,
    /// ReplicaSets.
    replica_sets: ReplicaSet,
    /// ReplicationControllers.
    replication_controllers: corev1::ReplicationController,
    /// Jobs.
    jobs: Job,
    /// CronJobs.
    cron_jobs: CronJob,
    /// Deployments.
    deployments: Deployment,
    /// Namespaces.
    namespaces: Namespace,
    /// ServiceAccounts.
    service_accounts: ServiceAccount,
    /// Services.
    services: Service,
    /// Endpoints.
    endpoints: Endpoints,
    /// EndpointSlices.
    endpoint_slices: EndpointSlice,
    /// Nodes.
    nodes: Node,
    /// DaemonSets.
    daemon_sets: apps::DaemonSet,
    /// StatefulSets.
    stateful_sets: apps::StatefulSet,
    /// ControllerRevisions.
    controller_revisions: apps::ControllerRevision,
    /// PersistentVolumeClaims.
    persistent_volume_claims: corev1::PersistentVolumeClaim,
    /// PersistentVolumes.
    persistent_volumes: corev1::PersistentVolume,
    /// StorageClasses.
    storage_classes: k8s_openapi::api::storage::v1::StorageClass,
    /// PodDisruptionBudgets.
    pod_disruption_budgets: k8s_openapi::api::policy::v1::PodDisruptionBudget,
    /// Leases (node heartbeats).
    leases: k8s_openapi::api::coordination::v1::Lease,
    /// ResourceQuotas.
    resource_quotas: corev1::ResourceQuota,
}

/// What a reconcile asks for: nothing, or another look after a delay.
pub type Requeue = Option<Duration>;

type Reconcile =
    Arc<dyn Fn(String) -> Pin<Box<dyn Future<Output = Result<Requeue>> + Send>> + Send + Sync>;

/// One controller: its queue, and the function that brings one key's
/// object to its desired state.
pub struct Controller {
    /// Its name, for logs (`replicaset`).
    pub name: &'static str,
    /// The keys to look at.
    pub queue: WorkQueue,
    /// Workers taking keys concurrently.
    pub workers: usize,
    /// Keys to queue on every resync (the controller's own objects).
    pub resync: Box<dyn Fn() -> Vec<String> + Send + Sync>,
    reconcile: Reconcile,
}

impl Controller {
    /// A controller calling `reconcile` for each key.
    pub fn new<F, Fut>(
        name: &'static str,
        queue: WorkQueue,
        workers: usize,
        resync: impl Fn() -> Vec<String> + Send + Sync + 'static,
        reconcile: F,
    ) -> Controller
    where
        F: Fn(String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Requeue>> + Send + 'static,
    {
        Controller {
            name,
            queue,
            workers,
            resync: Box::new(resync),
            reconcile: Arc::new(move |key| Box::pin(reconcile(key))),
        }
    }

    fn spawn(self) -> Vec<JoinHandle<()>> {
        let mut tasks = Vec::new();
        for _ in 0..self.workers.max(1) {
            let queue = self.queue.clone();
            let reconcile = self.reconcile.clone();
            let name = self.name;
            tasks.push(tokio::spawn(async move {
                while let Some(key) = queue.next().await {
                    match reconcile(key.clone()).await {
                        Ok(requeue) => {
                            queue.forget(&key);
                            if let Some(delay) = requeue {
                                queue.add_after(key.clone(), delay);
                            }
                        }
                        Err(e) => {
                            debug!("{name} {key}: {e:#}");
                            queue.add_rate_limited(&key);
                        }
                    }
                    queue.done(&key);
                }
            }));
        }
        let queue = self.queue.clone();
        let resync = self.resync;
        tasks.push(tokio::spawn(async move {
            loop {
                tokio::time::sleep(RESYNC_PERIOD).await;
                for key in resync() {
                    queue.add(key);
                }
            }
        }));
        tasks
    }
}

/// Options of the controller manager.
#[derive(Clone, Debug)]
pub struct Options {
    /// Workers per controller.
    pub workers: usize,
    /// How long a node may go without a heartbeat before it is marked
    /// Unknown (upstream's `--node-monitor-grace-period`).
    pub node_monitor_grace_period: Duration,
    /// Terminated pods kept before the oldest are deleted (upstream's
    /// `--terminated-pod-gc-threshold`; 0 keeps them all).
    pub terminated_pod_gc_threshold: usize,
    /// How often pod garbage collection sweeps.
    pub pod_gc_period: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            workers: 4,
            node_monitor_grace_period: Duration::from_secs(40),
            terminated_pod_gc_threshold: 12_500,
            pod_gc_period: Duration::from_secs(20),
        }
    }
}

/// The running controller manager; stops when dropped or shut down.
pub struct Running {
    tasks: Vec<JoinHandle<()>>,
    queues: Vec<WorkQueue>,
}

impl Running {
    /// Stop every controller and informer.
    pub async fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        for q in &self.queues {
            q.shut_down();
        }
        for t in self.tasks.drain(..) {
            t.abort();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Start every controller; they begin working once the caches have
/// listed.
pub fn start(client: Client, options: Options) -> Result<Running> {
    let cluster = Arc::new(Cluster::new(client));
    let controllers = vec![
        replicaset::controller::<ReplicaSet>(&cluster, &options),
        replicaset::controller::<corev1::ReplicationController>(&cluster, &options),
        job::controller(&cluster, &options),
        cronjob::controller(&cluster, &options),
        deployment::controller(&cluster, &options),
        daemonset::controller(&cluster, &options),
        statefulset::controller(&cluster, &options),
        nodelifecycle::controller(&cluster, &options),
        serviceaccount::controller(&cluster, &options),
        endpoints::controller(&cluster, &options),
        endpoints::slice_controller(&cluster, &options),
        gc::controller(&cluster, &options),
        disruption::controller(&cluster, &options),
        podgc::controller(&cluster, &options),
        resourcequota::controller(&cluster, &options),
        volume::binder::controller(&cluster, &options),
        volume::localpath::controller(&cluster, &options),
        volume::protection::controller(&cluster, &options),
    ];
    let queues = controllers.iter().map(|c| c.queue.clone()).collect();
    let mut tasks = cluster.spawn_informers();
    tasks.push(tokio::spawn(async move {
        cluster.synced().await;
        info!(
            "controllers: caches synced, starting {} controllers",
            controllers.len()
        );
        let mut workers = Vec::new();
        for c in controllers {
            workers.extend(c.spawn());
        }
        // Keep the workers' handles alive with this task; aborting it
        // (shutdown) drops them, and the queues shutting down ends them.
        let _guard = AbortAll(workers);
        std::future::pending::<()>().await;
    }));
    Ok(Running { tasks, queues })
}

struct AbortAll(Vec<JoinHandle<()>>);

impl Drop for AbortAll {
    fn drop(&mut self) {
        for t in &self.0 {
            t.abort();
        }
    }
}

//! rkube's scheduler: where should a pod run, and why.
//!
//! Almost all of it is pure functions and data structures, no IO: a
//! [`Snapshot`] of the cluster, [`Framework::schedule`] for one pending
//! pod, and the [`SchedulingQueue`] that says which pod to try next and
//! when to retry one that did not fit. The one module that does IO is
//! [`runner`]: a kube-rs client that watches the cluster, feeds the
//! snapshot and the queue, runs the cycles, and binds, evicts or reports
//! what they return. `rkube server` starts it ([`runner::start`]).
//!
//! It follows kube-scheduler's framework: PreFilter → Filter (with
//! adaptive node sampling) → PostFilter (preemption) → PreScore → Score →
//! NormalizeScore → weighted sum → highest total, ties at random; the
//! plugins and their arithmetic, reasons and messages are upstream's.
//!
//! # Module map
//!
//! | module | what is there |
//! | --- | --- |
//! | [`framework`] | plugin traits, [`CycleState`], [`Status`], [`Profile`], [`Framework::schedule`], [`ScheduleDecision`] (with per-plugin scores for explanations), [`FitError`] (upstream's `0/3 nodes are available: ...` message) |
//! | [`snapshot`] | [`Snapshot`] and [`NodeInfo`]: nodes, the pods on them, requested resources, ports, images, effective taints; incremental updates; namespace labels, Service/controller selectors, PDBs, nominated pods |
//! | [`pod_info`] | [`PodInfo`]: a pod with its requests, ports, affinity terms and owner computed once |
//! | [`plugins`] | one folder per plugin (NodeResourcesFit, TaintToleration, InterPodAffinity, PodTopologySpread, ...) and the registry |
//! | [`preemption`] | DefaultPreemption: victims, PDBs, candidate choice |
//! | [`config`] | `KubeSchedulerConfiguration` (v1) → [`Profile`]s; upstream's default profile |
//! | [`queue`] | [`SchedulingQueue`]: activeQ by priority, backoff, unschedulable pods moved back by [`ClusterEvent`]s |
//! | [`priority`] | [`PriorityClasses`]: `priorityClassName` → priority, the global default |
//! | [`runner`] | **the IO**: watches, the scheduling loop, bindings, status, events ([`runner::start`]) |
//! | [`resource`] | quantities (`100m`, `1Gi`) and pod requests (init containers, sidecars, overhead) |
//! | [`labels`] | label selectors and node selectors (In/NotIn/Exists/DoesNotExist/Gt/Lt, matchFields) |
//!
//! # Using it
//!
//! ```
//! use rkube_scheduler::{Framework, PodInfo, Profile, ScheduleOptions, Snapshot};
//! # use k8s_openapi::api::core::v1::{Node, Pod};
//! # let node: Node = serde_json::from_value(serde_json::json!({
//! #   "metadata": {"name": "n1"},
//! #   "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"}}})).unwrap();
//! # let pod: Pod = serde_json::from_value(serde_json::json!({
//! #   "metadata": {"name": "p", "namespace": "default"},
//! #   "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": "1"}}}]}})).unwrap();
//! let mut snapshot = Snapshot::new();
//! snapshot.upsert_node(node);
//! let mut framework = Framework::new(Profile::default()).unwrap();
//! let pod = PodInfo::arc(pod);
//! match framework.schedule(&pod, &snapshot, ScheduleOptions::default()) {
//!     Ok(decision) => {
//!         assert_eq!(decision.node, "n1");
//!         snapshot.assume_pod(pod.clone(), &decision.node); // then bind
//!     }
//!     Err(fit_error) => panic!("{fit_error}"), // event text; maybe fit_error.preemption
//! }
//! ```

#![warn(missing_docs)]

pub mod config;
pub mod framework;
pub mod labels;
pub mod plugins;
pub mod pod_info;
pub mod preemption;
pub mod priority;
pub mod queue;
pub mod resource;
pub mod runner;
pub mod snapshot;

#[cfg(test)]
mod testing;

#[cfg(test)]
mod scale_tests;

pub use config::{SchedulerConfig, default_profile, parse_config};
pub use framework::{
    Code, ConfigError, CycleState, EXPLAIN_ANNOTATION, FitError, Framework, NodeScore, PluginScore,
    Profile, ScheduleDecision, ScheduleOptions, Status,
};
pub use pod_info::{PodInfo, is_gated};
pub use preemption::PreemptionResult;
pub use priority::PriorityClasses;
pub use queue::{ClusterEvent, QueuedPod, SchedulingQueue};
pub use runner::{SchedulerHandle, client_for, client_from_kubeconfig, run, start};
pub use snapshot::{NodeInfo, Snapshot, SnapshotOptions};

//! Pod garbage collection (upstream's `podgc` controller), every
//! [`Options::pod_gc_period`](crate::Options):
//! - terminated pods (Succeeded or Failed) beyond
//!   `terminated_pod_gc_threshold` go, oldest first;
//! - pods bound to a node that no longer exists go, once the node has been
//!   missing for two periods (upstream's quarantine) and the API confirms
//!   it is gone;
//! - pods being deleted that were never scheduled go at once (no node will
//!   ever confirm their end);
//! - pods being deleted on a node tainted `node.kubernetes.io/out-of-service`
//!   go at once.
//!
//! A pod that was not finished is first marked Failed with a
//! `DisruptionTarget` condition (reason `DeletionByPodGC`), then deleted
//! with no grace period, as upstream does.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use k8s_openapi::api::core::v1::Node;
use kube::api::{DeleteParams, Patch, PatchParams};
use kube::{Api, ResourceExt};
use parking_lot::Mutex;
use serde_json::json;
use tracing::info;

use crate::pods;
use crate::slim::Pod;
use crate::writes::{is_not_found, uid_guarded};
use crate::{Cluster, Controller, Options, Requeue, WorkQueue};

/// The one key this controller works on: a sweep.
const KEY: &str = "podgc";

/// The taint that lets terminating pods on a dead node go at once.
const OUT_OF_SERVICE: &str = "node.kubernetes.io/out-of-service";

/// The controller.
pub fn controller(cluster: &Arc<Cluster>, options: &Options) -> Controller {
    let queue = WorkQueue::new();
    queue.add(KEY.to_owned());
    let gc = Arc::new(PodGc {
        cluster: cluster.clone(),
        threshold: options.terminated_pod_gc_threshold,
        period: options.pod_gc_period,
        missing_since: Mutex::new(HashMap::new()),
    });
    Controller::new(
        "podgc",
        queue,
        1,
        || vec![KEY.to_owned()],
        move |_| {
            let gc = gc.clone();
            async move { gc.sweep().await }
        },
    )
}

struct PodGc {
    cluster: Arc<Cluster>,
    threshold: usize,
    period: Duration,
    /// Node name → when its pods were first seen without it.
    missing_since: Mutex<HashMap<String, Instant>>,
}

/// Why a pod is collected.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Reason {
    Terminated,
    Orphaned,
    Unscheduled,
    OutOfService,
}

impl PodGc {
    async fn sweep(&self) -> Result<Requeue> {
        let all = self.cluster.pods.list();
        let mut victims: Vec<(Arc<Pod>, Reason)> = Vec::new();

        // Terminated pods over the threshold, oldest first.
        if self.threshold > 0 {
            let mut terminated: Vec<&Arc<Pod>> =
                all.iter().filter(|p| pods::is_terminal(p)).collect();
            if terminated.len() > self.threshold {
                terminated.sort_by_key(|p| p.metadata.creation_timestamp.clone().map(|t| t.0));
                let excess = terminated.len() - self.threshold;
                victims.extend(
                    terminated
                        .into_iter()
                        .take(excess)
                        .map(|p| (p.clone(), Reason::Terminated)),
                );
            }
        }

        // Pods on nodes that are gone, after a quarantine.
        let missing = self.missing_nodes(&all).await?;
        for pod in &all {
            let node = pod.spec.as_ref().and_then(|s| s.node_name.as_deref());
            match node {
                Some(n) if missing.contains(&n.to_owned()) => {
                    victims.push((pod.clone(), Reason::Orphaned))
                }
                None if pod.metadata.deletion_timestamp.is_some() => {
                    victims.push((pod.clone(), Reason::Unscheduled))
                }
                Some(n)
                    if pod.metadata.deletion_timestamp.is_some()
                        && self
                            .cluster
                            .nodes
                            .get("", n)
                            .is_some_and(|node| out_of_service(&node)) =>
                {
                    victims.push((pod.clone(), Reason::OutOfService))
                }
                _ => {}
            }
        }

        let mut first_error = None;
        for (pod, reason) in victims {
            if let Err(e) = self.collect(&pod, reason).await {
                first_error.get_or_insert(e);
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(Some(self.period)),
        }
    }

    /// Nodes pods are bound to that have been missing from the cache for
    /// two periods and that the API confirms are gone.
    async fn missing_nodes(&self, all: &[Arc<Pod>]) -> Result<Vec<String>> {
        let mut absent: Vec<String> = all
            .iter()
            .filter_map(|p| p.spec.as_ref()?.node_name.clone())
            .filter(|n| self.cluster.nodes.get("", n).is_none())
            .collect();
        absent.sort();
        absent.dedup();
        let quarantine = self.period * 2;
        let due: Vec<String> = {
            let mut since = self.missing_since.lock();
            since.retain(|n, _| absent.contains(n));
            let now = Instant::now();
            absent
                .iter()
                .filter(|n| {
                    now.duration_since(*since.entry((*n).clone()).or_insert(now)) >= quarantine
                })
                .cloned()
                .collect()
        };
        let api: Api<Node> = Api::all(self.cluster.client.clone());
        let mut gone = Vec::new();
        for n in due {
            match api.get_opt(&n).await? {
                None => gone.push(n),
                Some(_) => {
                    self.missing_since.lock().remove(&n);
                }
            }
        }
        Ok(gone)
    }

    async fn collect(&self, pod: &Pod, reason: Reason) -> Result<()> {
        let api: Api<Pod> = Api::namespaced(
            self.cluster.client.clone(),
            &pod.namespace().unwrap_or_default(),
        );
        let name = pod.name_any();
        info!(
            "podgc: deleting pod {}/{name} ({reason:?})",
            pod.namespace().unwrap_or_default()
        );
        if reason != Reason::Terminated && !pods::is_terminal(pod) {
            let message = match reason {
                Reason::Orphaned => "PodGC: node no longer exists",
                Reason::OutOfService => "PodGC: node is out-of-service",
                _ => "PodGC: node no longer exists",
            };
            let now = jiff::Timestamp::now().to_string();
            let patch = json!({
                "status": {
                    "phase": "Failed",
                    "conditions": [{
                        "type": "DisruptionTarget",
                        "status": "True",
                        "reason": "DeletionByPodGC",
                        "message": message,
                        "lastTransitionTime": now,
                    }],
                }
            });
            match api
                .patch_status(&name, &PatchParams::default(), &Patch::Strategic(patch))
                .await
            {
                Ok(_) => {}
                Err(e) if is_not_found(&e) => return Ok(()),
                Err(e) => return Err(e.into()),
            }
        }
        let dp = DeleteParams {
            grace_period_seconds: Some(0),
            ..uid_guarded(pod.uid())
        };
        match api.delete(&name, &dp).await {
            Ok(_) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

fn out_of_service(node: &Node) -> bool {
    node.spec
        .as_ref()
        .and_then(|s| s.taints.as_ref())
        .is_some_and(|ts| {
            ts.iter()
                .any(|t| t.key == OUT_OF_SERVICE && t.effect == "NoExecute")
        })
}

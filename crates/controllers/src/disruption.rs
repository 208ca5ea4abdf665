//! The disruption controller (upstream's `disruption` controller): keeps
//! each PodDisruptionBudget's status current, so that the eviction
//! subresource (and so `kubectl drain`) knows how many pods may go.
//!
//! For a budget it counts the pods its selector matches, the healthy ones
//! (Ready, not being deleted, not recently evicted), and how many must
//! stay healthy:
//! - `minAvailable: N` — N, with the matching pods as the expected count;
//! - `minAvailable: P%` or `maxUnavailable` — from the scale of the pods'
//!   controllers (ReplicaSet or its Deployment, ReplicationController,
//!   StatefulSet), the percentage rounded up.
//!
//! `disruptionsAllowed` is healthy minus desired (never negative). The
//! eviction subresource takes one disruption at a time and records the pod
//! in `disruptedPods`; this controller drops entries once the pod is going
//! or after two minutes, and does not count those pods as healthy
//! meanwhile.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Result, anyhow};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, OwnerReference, Time};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::api::{Patch, PatchParams};
use kube::{Api, ResourceExt};
use rkube_scheduler::labels::{EMPTY_LABELS, Selector};
use serde_json::json;

use crate::events::EventType;
use crate::informer::{Change, key_of};
use crate::pods::{self, controller_ref};
use crate::slim::Pod;
use crate::{Cluster, Controller, Options, Recorder, Requeue, WorkQueue};

/// How long an eviction recorded in `disruptedPods` holds the pod out of
/// the healthy count, if the pod does not start going (upstream's
/// `DeletionTimeout`).
const DELETION_TIMEOUT: Duration = Duration::from_secs(120);

/// The controller.
pub fn controller(cluster: &Arc<Cluster>, options: &Options) -> Controller {
    let queue = WorkQueue::new();
    let dc = Arc::new(Disruption {
        cluster: cluster.clone(),
        recorder: Recorder::new(cluster.client.clone(), "controllermanager"),
    });
    cluster
        .pod_disruption_budgets
        .enqueue(&queue, |p| Some(key_of(p)));
    {
        let (queue, cluster2) = (queue.clone(), cluster.clone());
        cluster.pods.on_change(move |c| {
            let (old, new) = match c {
                Change::Applied { old, new } => (old, new),
                Change::Deleted(old) => (None, old),
            };
            queue_budgets_of(&cluster2, &queue, new);
            if let Some(old) = old
                && old.metadata.labels != new.metadata.labels
            {
                queue_budgets_of(&cluster2, &queue, old);
            }
        });
    }
    // A controller's scale changing changes the expected count.
    {
        let (queue, cluster2) = (queue.clone(), cluster.clone());
        cluster.replica_sets.on_change(move |c| {
            if let Change::Applied { new, .. } = c {
                queue_namespace(&cluster2, &queue, new.namespace().as_deref());
            }
        });
    }
    {
        let (queue, cluster2) = (queue.clone(), cluster.clone());
        cluster.stateful_sets.on_change(move |c| {
            if let Change::Applied { new, .. } = c {
                queue_namespace(&cluster2, &queue, new.namespace().as_deref());
            }
        });
    }
    let resync = {
        let informer = cluster.pod_disruption_budgets.clone();
        move || informer.keys()
    };
    Controller::new("disruption", queue, options.workers, resync, move |key| {
        let dc = dc.clone();
        async move { dc.sync(&key).await }
    })
}

/// The budgets whose selector matches `pod`.
fn queue_budgets_of(cluster: &Cluster, queue: &WorkQueue, pod: &Pod) {
    let labels = pod.metadata.labels.as_ref().unwrap_or(&EMPTY_LABELS);
    let ns = pod.namespace().unwrap_or_default();
    for pdb in cluster.pod_disruption_budgets.list_namespace(&ns) {
        if selector_of(&pdb).is_some_and(|s| s.matches(labels)) {
            queue.add(key_of(&*pdb));
        }
    }
}

fn queue_namespace(cluster: &Cluster, queue: &WorkQueue, ns: Option<&str>) {
    for pdb in cluster
        .pod_disruption_budgets
        .list_namespace(ns.unwrap_or_default())
    {
        queue.add(key_of(&*pdb));
    }
}

/// The budget's selector; None (no pods) when unset. In policy/v1 an
/// empty selector matches every pod of the namespace.
fn selector_of(pdb: &PodDisruptionBudget) -> Option<Selector> {
    let sel = pdb.spec.as_ref()?.selector.as_ref()?;
    Some(Selector::from_label_selector(Some(sel)))
}

struct Disruption {
    cluster: Arc<Cluster>,
    recorder: Recorder,
}

/// Healthy and expected counts of one budget.
#[derive(Debug, PartialEq)]
struct Counts {
    expected: i32,
    desired: i32,
    healthy: i32,
}

/// `value` of `total`: a number as is, a percentage rounded up (upstream's
/// `GetScaledValueFromIntOrPercent` with roundUp).
fn scaled(value: &IntOrString, total: i32) -> Result<i32> {
    match value {
        IntOrString::Int(n) => Ok(*n),
        IntOrString::String(s) => {
            let p: i64 = s
                .strip_suffix('%')
                .and_then(|p| p.parse().ok())
                .ok_or_else(|| anyhow!("invalid value for IntOrString: invalid value {s:?}"))?;
            Ok(((p * i64::from(total) + 99) / 100) as i32)
        }
    }
}

impl Disruption {
    async fn sync(&self, key: &str) -> Result<Requeue> {
        let Some(pdb) = self.cluster.pod_disruption_budgets.get_key(key) else {
            return Ok(None);
        };
        if pdb.metadata.deletion_timestamp.is_some() {
            return Ok(None);
        }
        let ns = pdb.namespace().unwrap_or_default();
        let pods: Vec<Arc<Pod>> = match selector_of(&pdb) {
            None => Vec::new(),
            Some(sel) => self
                .cluster
                .pods
                .list_namespace(&ns)
                .into_iter()
                .filter(|p| sel.matches(p.metadata.labels.as_ref().unwrap_or(&EMPTY_LABELS)))
                .collect(),
        };
        let now = jiff::Timestamp::now();
        let old = pdb.status.clone().unwrap_or_default();
        let (disrupted, recheck) = self.live_disruptions(&old, &pods, now);
        let counts = match self.counts(&pdb, &pods, &disrupted) {
            Ok(c) => c,
            Err(e) => {
                self.recorder.event(
                    &*pdb,
                    EventType::Warning,
                    "CalculateExpectedPodCountFailed",
                    format!("Failed to calculate the number of expected pods: {e}"),
                );
                let mut status = old.clone();
                status.disruptions_allowed = 0;
                status.observed_generation = pdb.metadata.generation;
                set_condition(&mut status, false, "SyncFailed", &e.to_string(), &pdb);
                self.write(&pdb, &old, status).await?;
                return Err(e);
            }
        };
        let allowed = if counts.expected <= 0 {
            0
        } else {
            (counts.healthy - counts.desired).max(0)
        };
        let mut status = PodDisruptionBudgetStatus {
            current_healthy: counts.healthy,
            desired_healthy: counts.desired,
            expected_pods: counts.expected,
            disruptions_allowed: allowed,
            disrupted_pods: (!disrupted.is_empty()).then_some(disrupted),
            observed_generation: pdb.metadata.generation,
            conditions: old.conditions.clone(),
        };
        if allowed > 0 {
            set_condition(&mut status, true, "SufficientPods", "", &pdb);
        } else {
            set_condition(&mut status, false, "InsufficientPods", "", &pdb);
        }
        self.write(&pdb, &old, status).await?;
        Ok(recheck)
    }

    /// The `disruptedPods` entries still in force, and when the oldest of
    /// them expires.
    fn live_disruptions(
        &self,
        status: &PodDisruptionBudgetStatus,
        pods: &[Arc<Pod>],
        now: jiff::Timestamp,
    ) -> (BTreeMap<String, Time>, Requeue) {
        let by_name: HashMap<String, &Pod> = pods.iter().map(|p| (p.name_any(), &**p)).collect();
        let mut live = BTreeMap::new();
        let mut recheck: Option<Duration> = None;
        for (name, at) in status.disrupted_pods.iter().flatten() {
            // Gone, or going: the eviction went through.
            let Some(pod) = by_name.get(name) else {
                continue;
            };
            if pod.metadata.deletion_timestamp.is_some() {
                continue;
            }
            let expires =
                at.0 + jiff::SignedDuration::try_from(DELETION_TIMEOUT).unwrap_or_default();
            if expires <= now {
                continue;
            }
            let left = Duration::try_from(expires.duration_since(now)).unwrap_or_default();
            recheck = Some(recheck.map_or(left, |r| r.min(left)));
            live.insert(name.clone(), at.clone());
        }
        (live, recheck)
    }

    fn counts(
        &self,
        pdb: &PodDisruptionBudget,
        pods: &[Arc<Pod>],
        disrupted: &BTreeMap<String, Time>,
    ) -> Result<Counts> {
        let spec = pdb.spec.clone().unwrap_or_default();
        let healthy = pods
            .iter()
            .filter(|p| {
                p.metadata.deletion_timestamp.is_none()
                    && !disrupted.contains_key(&p.name_any())
                    && pods::is_ready(p)
            })
            .count() as i32;
        let mut unmanaged = Vec::new();
        let (expected, desired) = match (&spec.max_unavailable, &spec.min_available) {
            (Some(max), _) => {
                let expected;
                (expected, unmanaged) = self.expected_scale(pods)?;
                let max = scaled(max, expected)?;
                (expected, (expected - max).max(0))
            }
            (None, Some(IntOrString::Int(n))) => (pods.len() as i32, *n),
            (None, Some(min)) => {
                let expected;
                (expected, unmanaged) = self.expected_scale(pods)?;
                (expected, scaled(min, expected)?)
            }
            (None, None) => (0, 0),
        };
        if !unmanaged.is_empty() {
            self.recorder.event(
                pdb,
                EventType::Warning,
                "UnmanagedPods",
                format!(
                    "Pods selected by this PodDisruptionBudget (selector: {}) were found to be \
                     unmanaged. As a result, the status of the PDB cannot be calculated \
                     correctly, which may result in undefined behavior. To account for these \
                     pods please set \".spec.minAvailable\" field of the PDB to an integer value.",
                    serde_json::to_string(&spec.selector).unwrap_or_default()
                ),
            );
        }
        Ok(Counts {
            expected,
            desired,
            healthy,
        })
    }

    /// The sum of the scales of the pods' controllers, each counted once,
    /// and the pods without a controller (upstream's `getExpectedScale`).
    fn expected_scale(&self, pods: &[Arc<Pod>]) -> Result<(i32, Vec<String>)> {
        let mut scales: HashMap<String, i32> = HashMap::new();
        let mut unmanaged = Vec::new();
        for pod in pods {
            let Some(r) = controller_ref(&pod.metadata) else {
                unmanaged.push(pod.name_any());
                continue;
            };
            let ns = pod.namespace().unwrap_or_default();
            let (uid, scale) = self
                .scale_of(&ns, r)
                .ok_or_else(|| anyhow!("found no controllers for pod {:?}", pod.name_any()))?;
            scales.insert(uid, scale);
        }
        Ok((scales.values().sum(), unmanaged))
    }

    /// The controller whose scale governs pods controlled by `r`, by UID,
    /// and that scale: a Deployment for its ReplicaSets, else the
    /// ReplicaSet, ReplicationController or StatefulSet itself.
    fn scale_of(&self, ns: &str, r: &OwnerReference) -> Option<(String, i32)> {
        let group = r.api_version.split_once('/').map_or("", |(g, _)| g);
        let same = |uid: Option<String>| uid.as_deref() == Some(r.uid.as_str());
        match (group, r.kind.as_str()) {
            ("apps", "ReplicaSet") => {
                let rs = self
                    .cluster
                    .replica_sets
                    .get(ns, &r.name)
                    .filter(|x| same(x.uid()))?;
                if let Some(d) = controller_ref(&rs.metadata).filter(|d| d.kind == "Deployment") {
                    let dep = self.cluster.deployments.get(ns, &d.name)?;
                    (dep.uid().as_deref() == Some(d.uid.as_str())).then(|| {
                        (
                            d.uid.clone(),
                            dep.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
                        )
                    })
                } else {
                    Some((
                        r.uid.clone(),
                        rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
                    ))
                }
            }
            ("", "ReplicationController") => {
                let rc = self
                    .cluster
                    .replication_controllers
                    .get(ns, &r.name)
                    .filter(|x| same(x.uid()))?;
                Some((
                    r.uid.clone(),
                    rc.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
                ))
            }
            ("apps", "StatefulSet") => {
                let set = self
                    .cluster
                    .stateful_sets
                    .get(ns, &r.name)
                    .filter(|x| same(x.uid()))?;
                Some((
                    r.uid.clone(),
                    set.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
                ))
            }
            _ => None,
        }
    }

    async fn write(
        &self,
        pdb: &PodDisruptionBudget,
        old: &PodDisruptionBudgetStatus,
        status: PodDisruptionBudgetStatus,
    ) -> Result<()> {
        if *old == status {
            return Ok(());
        }
        let api: Api<PodDisruptionBudget> = Api::namespaced(
            self.cluster.client.clone(),
            &pdb.namespace().unwrap_or_default(),
        );
        // A merge patch with the resourceVersion: a concurrent eviction's
        // decrement is never overwritten with a stale count.
        let body = json!({
            "metadata": {"resourceVersion": pdb.resource_version()},
            "status": status,
        });
        api.patch_status(
            &pdb.name_any(),
            &PatchParams::default(),
            &Patch::Merge(&body),
        )
        .await?;
        Ok(())
    }
}

/// Set the `DisruptionAllowed` condition, keeping its transition time when
/// the status does not change.
fn set_condition(
    status: &mut PodDisruptionBudgetStatus,
    allowed: bool,
    reason: &str,
    message: &str,
    pdb: &PodDisruptionBudget,
) {
    let value = if allowed { "True" } else { "False" };
    let conditions = status.conditions.get_or_insert_with(Vec::new);
    let existing = conditions
        .iter_mut()
        .find(|c| c.type_ == "DisruptionAllowed");
    match existing {
        Some(c) if c.status == value && c.reason == reason && c.message == message => {
            c.observed_generation = pdb.metadata.generation;
        }
        Some(c) => {
            if c.status != value {
                c.last_transition_time = Time(jiff::Timestamp::now());
            }
            c.status = value.into();
            c.reason = reason.into();
            c.message = message.into();
            c.observed_generation = pdb.metadata.generation;
        }
        None => conditions.push(Condition {
            type_: "DisruptionAllowed".into(),
            status: value.into(),
            reason: reason.into(),
            message: message.into(),
            last_transition_time: Time(jiff::Timestamp::now()),
            observed_generation: pdb.metadata.generation,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_round_up() {
        assert_eq!(scaled(&IntOrString::Int(2), 10).unwrap(), 2);
        assert_eq!(scaled(&IntOrString::String("50%".into()), 3).unwrap(), 2);
        assert_eq!(scaled(&IntOrString::String("25%".into()), 4).unwrap(), 1);
        assert_eq!(scaled(&IntOrString::String("1%".into()), 10).unwrap(), 1);
        assert!(scaled(&IntOrString::String("half".into()), 10).is_err());
    }
}

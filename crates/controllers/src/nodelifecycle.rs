//! Node lifecycle (upstream's `nodelifecycle` controller and its
//! NoExecute taint manager):
//!
//! - a node whose kubelet stopped renewing its Lease (and posting status)
//!   for longer than the grace period gets its conditions set to Unknown
//!   (`NodeStatusUnknown`);
//! - node conditions become taints: `not-ready` / `unreachable` (NoSchedule
//!   and NoExecute), the pressure taints and `unschedulable` (NoSchedule);
//! - pods on a node with NoExecute taints they do not tolerate are evicted
//!   at once, those tolerating them for `tolerationSeconds` after that long
//!   (`TaintManagerEviction`), for user taints too.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use k8s_openapi::api::core::v1::{Node, NodeCondition, Taint, Toleration};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Patch, PatchParams};
use kube::{Api, ResourceExt};
use serde_json::json;

use crate::events::EventType;
use crate::informer::Change;
use crate::slim::Pod;
use crate::writes::{is_conflict, is_not_found, uid_guarded};
use crate::{Cluster, Controller, Options, Recorder, Requeue, WorkQueue};

/// The namespace of node Leases.
pub const LEASE_NAMESPACE: &str = "kube-node-lease";
const NOT_READY: &str = "node.kubernetes.io/not-ready";
const UNREACHABLE: &str = "node.kubernetes.io/unreachable";
/// Taints this controller owns (it adds and removes them as conditions
/// change); other taints are the user's.
const CONDITION_TAINTS: &[(&str, &str)] = &[
    (NOT_READY, "NoSchedule"),
    (NOT_READY, "NoExecute"),
    (UNREACHABLE, "NoSchedule"),
    (UNREACHABLE, "NoExecute"),
    ("node.kubernetes.io/memory-pressure", "NoSchedule"),
    ("node.kubernetes.io/disk-pressure", "NoSchedule"),
    ("node.kubernetes.io/pid-pressure", "NoSchedule"),
    ("node.kubernetes.io/network-unavailable", "NoSchedule"),
    ("node.kubernetes.io/unschedulable", "NoSchedule"),
];

/// The controller.
pub fn controller(cluster: &Arc<Cluster>, options: &Options) -> Controller {
    let queue = WorkQueue::new();
    {
        let queue = queue.clone();
        cluster.nodes.on_change(move |c| match c {
            Change::Applied { new, .. } => queue.add(new.name_any()),
            Change::Deleted(old) => queue.add(old.name_any()),
        });
    }
    {
        // A renewal of a Ready node's lease only pushes its deadline back,
        // which the sync's own timer reads when it fires: only a node not
        // Ready (coming back) needs a look at once. So 1,000 nodes renewing
        // every 10 s cost no syncs.
        let (queue, nodes) = (queue.clone(), cluster.nodes.clone());
        cluster.leases.on_change(move |c| {
            if let Change::Applied { new, .. } = c
                && new.namespace().as_deref() == Some(LEASE_NAMESPACE)
            {
                let name = new.name_any();
                let ready = nodes
                    .get("", &name)
                    .is_some_and(|n| condition(&n, "Ready").is_some_and(|c| c.status == "True"));
                if !ready {
                    queue.add(name);
                }
            }
        });
    }
    {
        // A pod landing on a tainted node may have to go.
        let queue = queue.clone();
        cluster.pods.on_change(move |c| {
            if let Change::Applied { old, new } = c {
                let node = |p: &Pod| p.spec.as_ref().and_then(|s| s.node_name.clone());
                if let Some(n) = node(new)
                    && old.and_then(node).as_ref() != Some(&n)
                {
                    queue.add(n);
                }
            }
        });
    }
    let nl = Arc::new(NodeLifecycle {
        cluster: cluster.clone(),
        grace: options.node_monitor_grace_period,
        recorder: Recorder::new(cluster.client.clone(), "node-controller"),
        taint_recorder: Recorder::new(cluster.client.clone(), "taint-eviction-controller"),
    });
    let resync = {
        let cluster = cluster.clone();
        move || cluster.nodes.list().iter().map(|n| n.name_any()).collect()
    };
    Controller::new(
        "nodelifecycle",
        queue,
        options.workers,
        resync,
        move |key| {
            let nl = nl.clone();
            async move { nl.sync(&key).await }
        },
    )
}

struct NodeLifecycle {
    cluster: Arc<Cluster>,
    grace: Duration,
    recorder: Recorder,
    taint_recorder: Recorder,
}

fn condition<'a>(node: &'a Node, type_: &str) -> Option<&'a NodeCondition> {
    node.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_)
}

impl NodeLifecycle {
    async fn sync(&self, name: &str) -> Result<Requeue> {
        let Some(node) = self.cluster.nodes.get("", name) else {
            return Ok(None);
        };
        let now = jiff::Timestamp::now();
        let mut requeue: Option<Duration> = None;
        let mut earliest = |d: Duration| {
            requeue = Some(requeue.map_or(d, |r: Duration| r.min(d)));
        };

        // 1. Heartbeats.
        let lease = self.cluster.leases.get(LEASE_NAMESPACE, name);
        let heartbeat = [
            lease
                .as_ref()
                .and_then(|l| l.spec.as_ref()?.renew_time.as_ref().map(|t| t.0)),
            condition(&node, "Ready").and_then(|c| c.last_heartbeat_time.as_ref().map(|t| t.0)),
        ]
        .into_iter()
        .flatten()
        .max();
        let ready_status = condition(&node, "Ready").map(|c| c.status.clone());
        if let Some(hb) = heartbeat {
            let silent = now.duration_since(hb).unsigned_abs();
            if silent > self.grace {
                if ready_status.as_deref() != Some("Unknown") {
                    self.mark_unknown(&node, now).await?;
                    return Ok(Some(Duration::from_millis(100)));
                }
            } else {
                earliest(self.grace - silent + Duration::from_millis(500));
            }
        }

        // 2. Conditions to taints.
        let wanted = condition_taints(&node);
        let current: Vec<Taint> = node
            .spec
            .as_ref()
            .and_then(|s| s.taints.clone())
            .unwrap_or_default();
        let mut next: Vec<Taint> = current
            .iter()
            .filter(|t| !is_condition_taint(t) || wanted.iter().any(|w| same_taint(w, t)))
            .cloned()
            .collect();
        for w in &wanted {
            if !next.iter().any(|t| same_taint(t, w)) {
                let mut t = w.clone();
                if t.effect == "NoExecute" {
                    t.time_added = Some(Time(now));
                }
                next.push(t);
            }
        }
        if next != current {
            let api: Api<Node> = Api::all(self.cluster.client.clone());
            let patch = json!({
                "metadata": {"resourceVersion": node.resource_version()},
                "spec": {"taints": next},
            });
            match api
                .patch(name, &PatchParams::default(), &Patch::Merge(patch))
                .await
            {
                Ok(_) => {}
                Err(e) if is_not_found(&e) => return Ok(None),
                Err(e) => return Err(e).context("updating node taints"),
            }
            // The updated node comes back through the watch.
            return Ok(requeue);
        }

        // 3. NoExecute taints evict pods.
        let no_execute: Vec<&Taint> = current.iter().filter(|t| t.effect == "NoExecute").collect();
        if no_execute.is_empty() {
            return Ok(requeue);
        }
        for pod in self.cluster.pods.list() {
            if pod.spec.as_ref().and_then(|s| s.node_name.as_deref()) != Some(name)
                || pod.metadata.deletion_timestamp.is_some()
                || crate::pods::is_terminal(&pod)
            {
                continue;
            }
            let tolerations = pod
                .spec
                .as_ref()
                .and_then(|s| s.tolerations.clone())
                .unwrap_or_default();
            match eviction_delay(&no_execute, &tolerations, now) {
                Some(d) if d.is_zero() => self.evict(&pod).await?,
                Some(d) => earliest(d),
                None => {}
            }
        }
        Ok(requeue)
    }

    /// The kubelet went silent: its conditions are Unknown.
    async fn mark_unknown(&self, node: &Node, now: jiff::Timestamp) -> Result<()> {
        let mut conditions = node
            .status
            .as_ref()
            .and_then(|s| s.conditions.clone())
            .unwrap_or_default();
        for type_ in ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"] {
            match conditions.iter_mut().find(|c| c.type_ == type_) {
                Some(c) => {
                    c.status = "Unknown".into();
                    c.reason = Some("NodeStatusUnknown".into());
                    c.message = Some("Kubelet stopped posting node status.".into());
                    c.last_transition_time = Some(Time(now));
                }
                None => conditions.push(NodeCondition {
                    type_: type_.into(),
                    status: "Unknown".into(),
                    reason: Some("NodeStatusNeverUpdated".into()),
                    message: Some("Kubelet never posted node status.".into()),
                    last_transition_time: Some(Time(now)),
                    last_heartbeat_time: None,
                }),
            }
        }
        let api: Api<Node> = Api::all(self.cluster.client.clone());
        let patch = json!({
            "metadata": {"resourceVersion": node.resource_version()},
            "status": {"conditions": conditions},
        });
        match api
            .patch_status(
                &node.name_any(),
                &PatchParams::default(),
                &Patch::Merge(patch),
            )
            .await
        {
            Ok(_) => {
                self.recorder.event(
                    node,
                    EventType::Normal,
                    "NodeNotReady",
                    format!("Node {} status is now: NodeNotReady", node.name_any()),
                );
                Ok(())
            }
            Err(e) if is_not_found(&e) || is_conflict(&e) => Ok(()),
            Err(e) => Err(e).context("marking a node Unknown"),
        }
    }

    async fn evict(&self, pod: &Pod) -> Result<()> {
        let ns = pod.namespace().unwrap_or_default();
        self.taint_recorder.event(
            pod,
            EventType::Normal,
            "TaintManagerEviction",
            format!("Marking for deletion Pod {ns}/{}", pod.name_any()),
        );
        let api: Api<Pod> = Api::namespaced(self.cluster.client.clone(), &ns);
        let dp = uid_guarded(pod.uid());
        match api.delete(&pod.name_any(), &dp).await {
            Ok(_) => Ok(()),
            Err(e) if is_not_found(&e) || is_conflict(&e) => Ok(()),
            Err(e) => Err(e).context("evicting a pod"),
        }
    }
}

/// The taints a node's conditions and `spec.unschedulable` call for.
fn condition_taints(node: &Node) -> Vec<Taint> {
    let taint = |key: &str, effect: &str| Taint {
        key: key.into(),
        effect: effect.into(),
        value: None,
        time_added: None,
    };
    let mut out = Vec::new();
    match condition(node, "Ready").map(|c| c.status.as_str()) {
        Some("False") => {
            out.push(taint(NOT_READY, "NoSchedule"));
            out.push(taint(NOT_READY, "NoExecute"));
        }
        Some("Unknown") => {
            out.push(taint(UNREACHABLE, "NoSchedule"));
            out.push(taint(UNREACHABLE, "NoExecute"));
        }
        _ => {}
    }
    for (type_, key) in [
        ("MemoryPressure", "node.kubernetes.io/memory-pressure"),
        ("DiskPressure", "node.kubernetes.io/disk-pressure"),
        ("PIDPressure", "node.kubernetes.io/pid-pressure"),
        (
            "NetworkUnavailable",
            "node.kubernetes.io/network-unavailable",
        ),
    ] {
        if condition(node, type_).is_some_and(|c| c.status == "True") {
            out.push(taint(key, "NoSchedule"));
        }
    }
    if node.spec.as_ref().and_then(|s| s.unschedulable) == Some(true) {
        out.push(taint("node.kubernetes.io/unschedulable", "NoSchedule"));
    }
    out
}

fn is_condition_taint(t: &Taint) -> bool {
    CONDITION_TAINTS
        .iter()
        .any(|(k, e)| t.key == *k && t.effect == *e)
}

fn same_taint(a: &Taint, b: &Taint) -> bool {
    a.key == b.key && a.effect == b.effect
}

/// Whether `t` tolerates `taint` (upstream's `ToleratesTaint`).
pub fn tolerates(t: &Toleration, taint: &Taint) -> bool {
    let effect = t.effect.as_deref().unwrap_or("");
    if !effect.is_empty() && effect != taint.effect {
        return false;
    }
    let key = t.key.as_deref().unwrap_or("");
    match t.operator.as_deref().unwrap_or("Equal") {
        "Exists" => key.is_empty() || key == taint.key,
        _ => {
            key == taint.key
                && t.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or("")
        }
    }
}

/// When a pod must leave a node with these NoExecute taints: None if it
/// tolerates them all for ever, zero if some taint is not tolerated (or
/// its time is up), else the time left of the shortest
/// `tolerationSeconds`, counted from when each taint was added.
pub fn eviction_delay(
    taints: &[&Taint],
    tolerations: &[Toleration],
    now: jiff::Timestamp,
) -> Option<Duration> {
    let mut delay: Option<Duration> = None;
    for taint in taints {
        let matching: Vec<&Toleration> =
            tolerations.iter().filter(|t| tolerates(t, taint)).collect();
        if matching.is_empty() {
            return Some(Duration::ZERO);
        }
        // The shortest bounded toleration applies; unbounded ones keep the
        // pod for ever only if none is bounded.
        let Some(seconds) = matching.iter().filter_map(|t| t.toleration_seconds).min() else {
            continue;
        };
        let added = taint.time_added.as_ref().map_or(now, |t| t.0);
        let elapsed = now.duration_since(added).as_secs();
        let left = Duration::from_secs((seconds.max(0) - elapsed).max(0) as u64);
        delay = Some(delay.map_or(left, |d| d.min(left)));
    }
    delay
}

#[cfg(test)]
mod tests {
    use super::*;

    fn taint(key: &str, effect: &str, added: &str) -> Taint {
        Taint {
            key: key.into(),
            effect: effect.into(),
            value: None,
            time_added: Some(Time(added.parse().unwrap())),
        }
    }

    fn toleration(key: &str, seconds: Option<i64>) -> Toleration {
        Toleration {
            key: Some(key.into()),
            operator: Some("Exists".into()),
            effect: Some("NoExecute".into()),
            toleration_seconds: seconds,
            value: None,
        }
    }

    #[test]
    fn eviction_waits_for_the_shortest_toleration() {
        let now: jiff::Timestamp = "2026-01-01T00:00:10Z".parse().unwrap();
        let t = taint(UNREACHABLE, "NoExecute", "2026-01-01T00:00:00Z");
        assert_eq!(eviction_delay(&[&t], &[], now), Some(Duration::ZERO));
        assert_eq!(
            eviction_delay(&[&t], &[toleration(UNREACHABLE, Some(300))], now),
            Some(Duration::from_secs(290))
        );
        assert_eq!(
            eviction_delay(&[&t], &[toleration(UNREACHABLE, Some(5))], now),
            Some(Duration::ZERO)
        );
        assert_eq!(
            eviction_delay(&[&t], &[toleration(UNREACHABLE, None)], now),
            None
        );
        // An untolerated user taint evicts at once.
        let user = taint("dedicated", "NoExecute", "2026-01-01T00:00:00Z");
        assert_eq!(
            eviction_delay(&[&t, &user], &[toleration(UNREACHABLE, None)], now),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn toleration_operators() {
        let t = Taint {
            key: "k".into(),
            value: Some("v".into()),
            effect: "NoSchedule".into(),
            time_added: None,
        };
        let eq = |v: &str| Toleration {
            key: Some("k".into()),
            operator: Some("Equal".into()),
            value: Some(v.into()),
            effect: None,
            toleration_seconds: None,
        };
        assert!(tolerates(&eq("v"), &t));
        assert!(!tolerates(&eq("w"), &t));
        let all = Toleration {
            operator: Some("Exists".into()),
            ..Default::default()
        };
        assert!(tolerates(&all, &t));
    }
}

//! The DaemonSet controller (upstream's `daemon` controller): one pod of
//! the template on every node that should run it, kept through nodes
//! joining, leaving, being relabelled and tainted, rolled out to new
//! templates, and reported in status.
//!
//! A node should run the daemon pod when the pod (with the tolerations
//! upstream adds to every daemon pod, [`add_daemon_tolerations`]) fits
//! its name, node selector, required node affinity and `NoSchedule` /
//! `NoExecute` taints; a pod already there may keep running when only a
//! `NoSchedule` taint is untolerated ([`node_should_run`]). Pods are not
//! bound by the controller: each gets a required node affinity
//! `matchFields metadata.name In [node]` and the scheduler places it.
//!
//! Each template is a ControllerRevision (see [`crate::history`]); pods
//! carry its `controller-revision-hash` (and the template generation) and
//! `RollingUpdate` replaces pods of older revisions within `maxUnavailable`,
//! or surges new pods beside the old ones within `maxSurge`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet, DaemonSetStatus};
use k8s_openapi::api::core::v1::{
    self as api, Affinity, Node, NodeAffinity, NodeSelector as NodeSelectorSpec,
    NodeSelectorRequirement, NodeSelectorTerm, PodSpec, PodTemplateSpec, Toleration,
};
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, ResourceExt};
use parking_lot::Mutex;
use rkube_scheduler::labels::{EMPTY_LABELS, NodeSelector, Selector};
use rkube_scheduler::plugins::taint_toleration::tolerations_tolerate_taint;
use serde_json::json;
use tracing::debug;

use crate::deployment::math::scaled_value;
use crate::deployment::template_hash;
use crate::events::EventType;
use crate::history::{self, REVISION_HASH_LABEL};
use crate::informer::{Change, key_of};
use crate::pods::{self, controller_ref};
use crate::slim::Pod;
use crate::writes::{Owner, create_pods, delete_pods, is_conflict, is_not_found};
use crate::{Cluster, Controller, Expectations, Options, Recorder, Requeue, WorkQueue};

/// Pods created or deleted in one sync, at most (upstream's
/// `BurstReplicas` for DaemonSets).
pub const BURST: usize = 250;
/// The pod label with the DaemonSet's template generation.
pub const TEMPLATE_GENERATION_LABEL: &str = "pod-template-generation";
/// The DaemonSet annotation with its template generation.
pub const TEMPLATE_GENERATION_ANNOTATION: &str = "deprecated.daemonset.template.generation";
/// First delay before deleting a failed daemon pod on the same node again.
const FAILED_BACKOFF_BASE: Duration = Duration::from_secs(1);
/// Longest such delay.
const FAILED_BACKOFF_MAX: Duration = Duration::from_secs(15 * 60);

/// The controller.
pub fn controller(cluster: &Arc<Cluster>, options: &Options) -> Controller {
    let queue = WorkQueue::new();
    let dsc = Arc::new(DaemonSets {
        cluster: cluster.clone(),
        expectations: Expectations::default(),
        recorder: Recorder::new(cluster.client.clone(), "daemonset-controller"),
        failed_backoff: Mutex::new(HashMap::new()),
    });
    cluster.daemon_sets.enqueue(&queue, |o| Some(key_of(o)));
    {
        let (queue, dsc) = (queue.clone(), dsc.clone());
        cluster.pods.on_change(move |c| dsc.pod_changed(&queue, c));
    }
    {
        let (queue, cluster2) = (queue.clone(), cluster.clone());
        cluster.nodes.on_change(move |c| {
            let relevant = match c {
                Change::Applied { old: None, .. } | Change::Deleted(_) => true,
                Change::Applied {
                    old: Some(old),
                    new,
                } => {
                    old.metadata.labels != new.metadata.labels
                        || old.spec.as_ref().map(|s| &s.taints)
                            != new.spec.as_ref().map(|s| &s.taints)
                }
            };
            if relevant {
                for ds in cluster2.daemon_sets.list() {
                    queue.add(key_of(&*ds));
                }
            }
        });
    }
    cluster
        .controller_revisions
        .enqueue(&queue, |r| pods::owner_key::<DaemonSet>(&r.metadata));
    let resync = {
        let informer = cluster.daemon_sets.clone();
        move || informer.keys()
    };
    Controller::new("daemonset", queue, options.workers, resync, move |key| {
        let dsc = dsc.clone();
        async move { dsc.sync(&key).await }
    })
}

struct DaemonSets {
    cluster: Arc<Cluster>,
    expectations: Expectations,
    recorder: Recorder,
    /// `{ds uid}/{node}` → (last failed-pod deletion, current delay).
    failed_backoff: Mutex<HashMap<String, (Instant, Duration)>>,
}

fn selector_of(ds: &DaemonSet) -> Selector {
    Selector::from_label_selector(ds.spec.as_ref().map(|s| &s.selector))
}

fn labels_of(pod: &Pod) -> &BTreeMap<String, String> {
    pod.metadata.labels.as_ref().unwrap_or(&EMPTY_LABELS)
}

fn template_of(ds: &DaemonSet) -> PodTemplateSpec {
    ds.spec
        .as_ref()
        .map(|s| s.template.clone())
        .unwrap_or_default()
}

fn min_ready_seconds(ds: &DaemonSet) -> i32 {
    ds.spec
        .as_ref()
        .and_then(|s| s.min_ready_seconds)
        .unwrap_or(0)
}

/// The template generation the API server keeps in an annotation.
pub fn template_generation(ds: &DaemonSet) -> Option<i64> {
    ds.metadata
        .annotations
        .as_ref()?
        .get(TEMPLATE_GENERATION_ANNOTATION)?
        .parse()
        .ok()
}

fn node_name_of(pod: &Pod) -> &str {
    pod.spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .unwrap_or("")
}

fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}

/// Add or replace one toleration (upstream's
/// `AddOrUpdateTolerationInPodSpec`: a toleration with the same key,
/// operator, value and effect is replaced).
fn add_or_update_toleration(spec: &mut PodSpec, t: Toleration) {
    let list = spec.tolerations.get_or_insert_with(Vec::new);
    let norm = |s: &Option<String>| s.clone().unwrap_or_default();
    let same = |o: &Toleration| {
        norm(&o.key) == norm(&t.key)
            && norm(&o.operator) == norm(&t.operator)
            && norm(&o.value) == norm(&t.value)
            && norm(&o.effect) == norm(&t.effect)
    };
    match list.iter_mut().find(|o| same(o)) {
        Some(o) => *o = t,
        None => list.push(t),
    }
}

/// The tolerations upstream gives every daemon pod
/// (`AddOrUpdateDaemonPodTolerations`): `not-ready` and `unreachable`
/// `NoExecute`; `disk-pressure`, `memory-pressure`, `pid-pressure` and
/// `unschedulable` `NoSchedule`; `network-unavailable` `NoSchedule` for
/// host-network pods.
pub fn add_daemon_tolerations(spec: &mut PodSpec) {
    let exists = |key: &str, effect: &str| Toleration {
        key: Some(key.to_owned()),
        operator: Some("Exists".into()),
        effect: Some(effect.to_owned()),
        ..Default::default()
    };
    add_or_update_toleration(spec, exists("node.kubernetes.io/not-ready", "NoExecute"));
    add_or_update_toleration(spec, exists("node.kubernetes.io/unreachable", "NoExecute"));
    add_or_update_toleration(
        spec,
        exists("node.kubernetes.io/disk-pressure", "NoSchedule"),
    );
    add_or_update_toleration(
        spec,
        exists("node.kubernetes.io/memory-pressure", "NoSchedule"),
    );
    add_or_update_toleration(
        spec,
        exists("node.kubernetes.io/pid-pressure", "NoSchedule"),
    );
    add_or_update_toleration(
        spec,
        exists("node.kubernetes.io/unschedulable", "NoSchedule"),
    );
    if spec.host_network == Some(true) {
        add_or_update_toleration(
            spec,
            exists("node.kubernetes.io/network-unavailable", "NoSchedule"),
        );
    }
}

/// The daemon pod as it would run on `node` (upstream's `NewPod`).
fn new_pod(ds: &DaemonSet, node: &str) -> api::Pod {
    let t = template_of(ds);
    let mut spec = t.spec.unwrap_or_default();
    spec.node_name = Some(node.to_owned());
    add_daemon_tolerations(&mut spec);
    api::Pod {
        metadata: t.metadata.unwrap_or_default(),
        spec: Some(spec),
        status: None,
    }
}

/// Whether `node` should run the DaemonSet's pod, and whether a pod
/// already there should keep running (upstream's
/// `NodeShouldRunDaemonPod`).
pub fn node_should_run(node: &Node, ds: &DaemonSet) -> (bool, bool) {
    let name = node.metadata.name.as_deref().unwrap_or("");
    let wanted = ds
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .and_then(|s| s.node_name.as_deref())
        .unwrap_or("");
    if !wanted.is_empty() && wanted != name {
        return (false, false);
    }
    let pod = new_pod(ds, name);
    let labels = node.metadata.labels.as_ref().unwrap_or(&EMPTY_LABELS);
    if !NodeSelector::of_pod(&pod).matches(labels, name) {
        return (false, false);
    }
    let tolerations = pod
        .spec
        .as_ref()
        .and_then(|s| s.tolerations.as_deref())
        .unwrap_or_default();
    let taints = node
        .spec
        .as_ref()
        .and_then(|s| s.taints.as_deref())
        .unwrap_or_default();
    let untolerated = |effects: &[&str]| {
        taints
            .iter()
            .filter(|t| effects.contains(&t.effect.as_str()))
            .any(|t| !tolerations_tolerate_taint(tolerations, t))
    };
    if untolerated(&["NoSchedule", "NoExecute"]) {
        // Running pods stay unless a NoExecute taint evicts them.
        return (false, !untolerated(&["NoExecute"]));
    }
    (true, true)
}

/// The node a daemon pod is for: its `nodeName`, or the single
/// `metadata.name In [node]` of its required node affinity (upstream's
/// `GetTargetNodeName`).
pub fn target_node_name(pod: &Pod) -> Option<String> {
    let spec = pod.spec.as_ref()?;
    if let Some(n) = spec.node_name.as_deref().filter(|n| !n.is_empty()) {
        return Some(n.to_owned());
    }
    let terms = &spec
        .affinity
        .as_ref()?
        .node_affinity
        .as_ref()?
        .required_during_scheduling_ignored_during_execution
        .as_ref()?
        .node_selector_terms;
    for term in terms {
        for e in term.match_fields.iter().flatten() {
            if e.key == "metadata.name" && e.operator == "In" {
                let values = e.values.as_deref().unwrap_or_default();
                return (values.len() == 1).then(|| values[0].clone());
            }
        }
    }
    None
}

/// Pin a pod to `node` through its required node affinity (upstream's
/// `ReplaceDaemonSetPodNodeNameNodeAffinity`): the required terms become
/// the one `matchFields metadata.name In [node]`.
pub fn pin_to_node(affinity: Option<Affinity>, node: &str) -> Affinity {
    let selector = NodeSelectorSpec {
        node_selector_terms: vec![NodeSelectorTerm {
            match_expressions: None,
            match_fields: Some(vec![NodeSelectorRequirement {
                key: "metadata.name".into(),
                operator: "In".into(),
                values: Some(vec![node.to_owned()]),
            }]),
        }],
    };
    let mut affinity = affinity.unwrap_or_default();
    affinity
        .node_affinity
        .get_or_insert_with(NodeAffinity::default)
        .required_during_scheduling_ignored_during_execution = Some(selector);
    affinity
}

/// Whether a pod runs the current template (its revision hash, or the
/// template generation, matches; upstream's `IsPodUpdated`).
pub fn is_pod_updated(pod: &Pod, hash: &str, generation: Option<i64>) -> bool {
    let labels = labels_of(pod);
    let generation_matches = generation.is_some_and(|g| {
        labels.get(TEMPLATE_GENERATION_LABEL).map(String::as_str) == Some(g.to_string().as_str())
    });
    let hash_matches =
        !hash.is_empty() && labels.get(REVISION_HASH_LABEL).map(String::as_str) == Some(hash);
    hash_matches || generation_matches
}

/// Scheduled pods first, then oldest, then by name (upstream's
/// `podByCreationTimestampAndPhase`).
fn sort_oldest_first(pods: &mut [&Pod]) {
    pods.sort_by(|a, b| {
        node_name_of(b)
            .is_empty()
            .cmp(&node_name_of(a).is_empty())
            .then_with(|| {
                let t = |p: &Pod| p.metadata.creation_timestamp.as_ref().map(|t| t.0);
                t(a).cmp(&t(b))
            })
            .then_with(|| a.metadata.name.cmp(&b.metadata.name))
    });
}

/// `maxSurge` for `desired` nodes.
fn surge_count(ds: &DaemonSet, desired: i32) -> i32 {
    let ru = ds
        .spec
        .as_ref()
        .and_then(|s| s.update_strategy.as_ref())
        .filter(|u| u.type_.as_deref() == Some("RollingUpdate"))
        .and_then(|u| u.rolling_update.as_ref());
    ru.map(|r| scaled_value(r.max_surge.as_ref(), desired, true))
        .unwrap_or(0)
}

/// `maxUnavailable` for `desired` nodes.
fn unavailable_count(ds: &DaemonSet, desired: i32) -> i32 {
    let ru = ds
        .spec
        .as_ref()
        .and_then(|s| s.update_strategy.as_ref())
        .filter(|u| u.type_.as_deref() == Some("RollingUpdate"))
        .and_then(|u| u.rolling_update.as_ref());
    ru.map(|r| scaled_value(r.max_unavailable.as_ref(), desired, true))
        .unwrap_or(0)
}

fn allows_surge(ds: &DaemonSet) -> bool {
    surge_count(ds, 1) > 0
}

fn is_rolling_update(ds: &DaemonSet) -> bool {
    ds.spec
        .as_ref()
        .and_then(|s| s.update_strategy.as_ref())
        .and_then(|u| u.type_.as_deref())
        .is_none_or(|t| t == "RollingUpdate")
}

/// Daemon pods by the node they are for (pods without one are skipped).
fn by_node(pods: &[Arc<Pod>], include_deleted_terminal: bool) -> HashMap<String, Vec<&Pod>> {
    let mut out: HashMap<String, Vec<&Pod>> = HashMap::new();
    for p in pods {
        if !include_deleted_terminal
            && pods::is_terminal(p)
            && p.metadata.deletion_timestamp.is_some()
        {
            continue;
        }
        if let Some(n) = target_node_name(p) {
            out.entry(n).or_default().push(p);
        }
    }
    out
}

/// What one sync decided for the pods: deletions and nodes needing pods.
#[derive(Default)]
struct Plan {
    create_on: Vec<String>,
    delete: Vec<String>,
    requeue: Requeue,
}

impl DaemonSets {
    /// Queue the DaemonSets a pod change concerns.
    fn pod_changed(&self, queue: &WorkQueue, change: Change<'_, Pod>) {
        let routed = pods::route_pod_change::<DaemonSet>(change, queue, Some(&self.expectations));
        if let Some(orphan) = routed.orphan {
            pods::queue_selecting(&self.cluster.daemon_sets, queue, orphan, selector_of);
        }
        // Look again once a newly ready pod is available.
        if routed.became_ready
            && let Some(k) = routed.owner
            && let Some(ds) = self.cluster.daemon_sets.get_key(&k)
            && min_ready_seconds(&ds) > 0
        {
            queue.add_after(k, Duration::from_secs(min_ready_seconds(&ds) as u64 + 1));
        }
    }

    async fn sync(&self, key: &str) -> Result<Requeue> {
        let Some(ds) = self.cluster.daemon_sets.get_key(key) else {
            self.expectations.forget(key);
            return Ok(None);
        };
        if ds.metadata.deletion_timestamp.is_some() {
            return Ok(None);
        }
        let mut nodes = self.cluster.nodes.list();
        nodes.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
        let (cur, old) = self.construct_history(&ds).await?;
        let hash = cur
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(REVISION_HASH_LABEL))
            .cloned()
            .unwrap_or_default();
        let pods = self.claim_pods(&ds).await?;
        if !self.expectations.satisfied(key) {
            debug!("daemonset {key}: waiting for expectations");
            // Only the status: this generation was not acted on yet.
            return self.update_status(&ds, &nodes, &pods, &hash, false).await;
        }

        let plan = self.manage(&ds, &nodes, &pods, &hash);
        debug!(
            "daemonset {key}: manage creates on {:?}, deletes {:?}",
            plan.create_on, plan.delete
        );
        let mut requeue = plan.requeue;
        let mut result = self
            .sync_nodes(key, &ds, &plan.delete, &plan.create_on, &hash)
            .await;
        if result.is_ok() && self.expectations.satisfied(key) && is_rolling_update(&ds) {
            // What manage did may already show: look at the pods again.
            let pods = self.claim_pods(&ds).await?;
            let plan = self.rolling_update(&ds, &nodes, &pods, &hash);
            debug!(
                "daemonset {key}: rolling update creates on {:?}, deletes {:?}, requeue {:?}",
                plan.create_on, plan.delete, plan.requeue
            );
            requeue = min_requeue(requeue, plan.requeue);
            result = self
                .sync_nodes(key, &ds, &plan.delete, &plan.create_on, &hash)
                .await;
        }
        if result.is_ok() {
            result = self.cleanup_history(&ds, &old, &pods).await;
        }
        let status = self.update_status(&ds, &nodes, &pods, &hash, true).await;
        result?;
        Ok(min_requeue(requeue, status?))
    }

    /// Our pods: those we control and orphans we adopt (pods we control
    /// that stop matching are released).
    async fn claim_pods(&self, ds: &DaemonSet) -> Result<Vec<Arc<Pod>>> {
        let ns = ds.namespace().unwrap_or_default();
        let selector = selector_of(ds);
        let uid = ds.uid().unwrap_or_default();
        let api: Api<Pod> = Api::namespaced(self.cluster.client.clone(), &ns);
        let mut owned = Vec::new();
        for pod in self.cluster.pods.list_namespace(&ns) {
            let matches = selector.matches(labels_of(&pod));
            match controller_ref(&pod.metadata) {
                Some(r) if r.uid == uid => {
                    if matches {
                        owned.push(pod);
                    } else {
                        let patch = json!({"metadata": {
                            "ownerReferences": [{"$patch": "delete", "uid": uid}],
                            "uid": pod.uid(),
                        }});
                        patch_pod(&api, &pod, patch)
                            .await
                            .context("releasing a pod")?;
                    }
                }
                Some(_) => {}
                None if matches && pod.metadata.deletion_timestamp.is_none() => {
                    let patch = json!({"metadata": {
                        "ownerReferences": [pods::owner_ref(ds)],
                        "uid": pod.uid(),
                    }});
                    if let Some(p) = patch_pod(&api, &pod, patch)
                        .await
                        .context("adopting a pod")?
                    {
                        owned.push(Arc::new(p));
                    }
                }
                None => {}
            }
        }
        Ok(owned)
    }

    /// Which nodes need a pod and which pods must go (upstream's `manage`
    /// and `podsShouldBeOnNode`).
    fn manage(&self, ds: &DaemonSet, nodes: &[Arc<Node>], pods: &[Arc<Pod>], hash: &str) -> Plan {
        let per_node = by_node(pods, false);
        let mut plan = Plan::default();
        let surge = allows_surge(ds);
        let min_ready = min_ready_seconds(ds);
        let now = jiff::Timestamp::now();
        for node in nodes {
            let name = node.metadata.name.clone().unwrap_or_default();
            let (should_run, should_continue) = node_should_run(node, ds);
            let existing = per_node.get(&name);
            if should_run && existing.is_none() {
                plan.create_on.push(name);
                continue;
            }
            let Some(existing) = existing else { continue };
            if !should_continue {
                plan.delete.extend(
                    existing
                        .iter()
                        .filter(|p| p.metadata.deletion_timestamp.is_none())
                        .map(|p| p.name_any()),
                );
                continue;
            }
            let mut running: Vec<&Pod> = Vec::new();
            for p in existing {
                if p.metadata.deletion_timestamp.is_some() {
                    continue;
                }
                match phase(p) {
                    "Failed" => {
                        let bkey = format!("{}/{name}", ds.uid().unwrap_or_default());
                        if let Some(delay) = self.in_backoff(&bkey) {
                            plan.requeue = min_requeue(plan.requeue, Some(delay));
                            continue;
                        }
                        self.recorder.event(
                            ds,
                            EventType::Warning,
                            "FailedDaemonPod",
                            format!(
                                "Found failed daemon pod {}/{} on node {name}, will try to kill it",
                                p.namespace().unwrap_or_default(),
                                p.name_any()
                            ),
                        );
                        plan.delete.push(p.name_any());
                    }
                    "Succeeded" => {
                        self.recorder.event(
                            ds,
                            EventType::Warning,
                            "SucceededDaemonPod",
                            format!(
                                "Found succeeded daemon pod {}/{} on node {name}, will try to delete it",
                                p.namespace().unwrap_or_default(),
                                p.name_any()
                            ),
                        );
                        plan.delete.push(p.name_any());
                    }
                    _ => running.push(p),
                }
            }
            sort_oldest_first(&mut running);
            if !surge {
                // One pod per node: all but the oldest go.
                plan.delete
                    .extend(running.iter().skip(1).map(|p| p.name_any()));
                continue;
            }
            if running.is_empty() {
                if should_run {
                    plan.create_on.push(name);
                }
                continue;
            }
            if running.len() == 1 {
                continue;
            }
            // Surging: the oldest new pod and the oldest old pod may both
            // stay while the new one is not yet available.
            let (mut newest, mut oldest) = (None, None);
            for p in running {
                let is_new =
                    labels_of(p).get(REVISION_HASH_LABEL).map(String::as_str) == Some(hash);
                let slot = if is_new { &mut newest } else { &mut oldest };
                if slot.is_none() {
                    *slot = Some(p);
                } else {
                    plan.delete.push(p.name_any());
                }
            }
            if let (Some(n), Some(o)) = (newest, oldest)
                && (!pods::is_ready(o) || pods::is_available(n, min_ready, now))
            {
                plan.delete.push(o.name_any());
            }
        }
        // Unscheduled pods for nodes that no longer exist.
        let known: HashSet<&str> = nodes
            .iter()
            .filter_map(|n| n.metadata.name.as_deref())
            .collect();
        for (node, ps) in &per_node {
            if known.contains(node.as_str()) {
                continue;
            }
            plan.delete.extend(
                ps.iter()
                    .filter(|p| {
                        node_name_of(p).is_empty() && p.metadata.deletion_timestamp.is_none()
                    })
                    .map(|p| p.name_any()),
            );
        }
        plan
    }

    /// Whether failed pods on a node were deleted too recently; if not,
    /// the next deletion is recorded.
    fn in_backoff(&self, key: &str) -> Option<Duration> {
        let now = Instant::now();
        let mut m = self.failed_backoff.lock();
        match m.get(key).copied() {
            Some((at, delay)) if now < at + delay => Some(at + delay - now),
            Some((at, delay)) if now.duration_since(at) < 2 * FAILED_BACKOFF_MAX => {
                m.insert(key.to_owned(), (now, (delay * 2).min(FAILED_BACKOFF_MAX)));
                None
            }
            _ => {
                m.insert(key.to_owned(), (now, FAILED_BACKOFF_BASE));
                None
            }
        }
    }

    /// Replace pods of older revisions (upstream's `rollingUpdate`).
    fn rolling_update(
        &self,
        ds: &DaemonSet,
        nodes: &[Arc<Node>],
        pods: &[Arc<Pod>],
        hash: &str,
    ) -> Plan {
        let mut per_node = by_node(pods, false);
        let mut desired = 0;
        for node in nodes {
            if node_should_run(node, ds).0 {
                desired += 1;
                per_node
                    .entry(node.metadata.name.clone().unwrap_or_default())
                    .or_default();
            }
        }
        let mut max_surge = surge_count(ds, desired);
        let mut max_unavailable = unavailable_count(ds, desired);
        if desired > 0 && max_surge == 0 && max_unavailable == 0 {
            max_unavailable = 1;
        }
        if max_surge < 0 {
            max_surge = 0;
        }
        let generation = template_generation(ds);
        let min_ready = min_ready_seconds(ds);
        let now = jiff::Timestamp::now();
        let available = |p: &Pod| pods::is_available(p, min_ready, now);
        let mut plan = Plan::default();
        if min_ready > 0 {
            plan.requeue = Some(Duration::from_secs(min_ready as u64));
        }
        let mut entries: Vec<(&String, &Vec<&Pod>)> = per_node.iter().collect();
        entries.sort_by(|a, b| a.0.cmp(b.0));

        if max_surge == 0 {
            let mut unavailable = 0;
            let mut replace = Vec::new();
            let mut candidates = Vec::new();
            for (_, ps) in &entries {
                let Some((new, old)) = find_updated(ps, hash, generation) else {
                    unavailable += 1;
                    continue;
                };
                match (new, old) {
                    (None, None) | (Some(_), Some(_)) => unavailable += 1,
                    (Some(n), None) => {
                        if !available(n) {
                            unavailable += 1;
                        }
                    }
                    (None, Some(o)) => {
                        if !available(o) {
                            replace.push(o.name_any());
                            unavailable += 1;
                        } else if unavailable < max_unavailable {
                            candidates.push(o.name_any());
                        }
                    }
                }
            }
            let remaining = (max_unavailable - unavailable).max(0) as usize;
            candidates.truncate(remaining);
            replace.extend(candidates);
            plan.delete = replace;
            return plan;
        }

        let node_runs = |name: &str| {
            self.cluster
                .nodes
                .get("", name)
                .is_some_and(|n| node_should_run(&n, ds).0)
        };
        let (mut surged, mut num_available) = (0, 0);
        let mut allowed_new = Vec::new();
        let mut candidate_new = Vec::new();
        let mut should_not_run = Vec::new();
        for (name, ps) in &entries {
            let Some((new, old)) = find_updated(ps, hash, generation) else {
                surged += 1;
                continue;
            };
            match (old, new) {
                (Some(o), _) if available(o) => num_available += 1,
                (None, Some(n)) if available(n) => num_available += 1,
                _ => {}
            }
            match (old, new) {
                (None, _) => {}
                (Some(o), None) => {
                    if !available(o) {
                        if !node_runs(name) {
                            plan.delete.push(o.name_any());
                        } else {
                            allowed_new.push((*name).clone());
                        }
                    } else if !node_runs(name) {
                        should_not_run.push(o.name_any());
                    } else if surged < max_surge {
                        candidate_new.push((*name).clone());
                    }
                }
                (Some(o), Some(n)) => {
                    if available(n) {
                        plan.delete.push(o.name_any());
                    } else {
                        surged += 1;
                    }
                }
            }
        }
        let deletable = (num_available - desired).max(0) as usize;
        plan.delete
            .extend(should_not_run.into_iter().take(deletable));
        let remaining = (max_surge - surged).max(0) as usize;
        candidate_new.truncate(remaining);
        allowed_new.extend(candidate_new);
        plan.create_on = allowed_new;
        plan
    }

    /// Create pods on `nodes` and delete `delete` (upstream's `syncNodes`).
    async fn sync_nodes(
        &self,
        key: &str,
        ds: &DaemonSet,
        delete: &[String],
        nodes: &[String],
        hash: &str,
    ) -> Result<()> {
        if delete.is_empty() && nodes.is_empty() {
            return Ok(());
        }
        let ns = ds.namespace().unwrap_or_default();
        // A pod already being deleted will show no deletion to observe.
        let delete: Vec<&String> = delete
            .iter()
            .filter(|name| {
                self.cluster
                    .pods
                    .get(&ns, name)
                    .is_none_or(|p| p.metadata.deletion_timestamp.is_none())
            })
            .collect();
        if delete.is_empty() && nodes.is_empty() {
            return Ok(());
        }
        let creates = nodes.len().min(BURST);
        let deletes = delete.len().min(BURST);
        self.expectations.expect(
            key,
            creates as i64,
            delete.iter().take(deletes).map(|n| (*n).clone()),
        );
        let api: Api<Pod> = Api::namespaced(self.cluster.client.clone(), &ns);

        // The template every new pod starts from (upstream's
        // `CreatePodTemplate`).
        let mut template = template_of(ds);
        let spec = template.spec.get_or_insert_with(Default::default);
        add_daemon_tolerations(spec);
        let meta = template.metadata.get_or_insert_with(Default::default);
        let labels = meta.labels.get_or_insert_with(BTreeMap::new);
        if let Some(g) = template_generation(ds) {
            labels.insert(TEMPLATE_GENERATION_LABEL.into(), g.to_string());
        }
        if !hash.is_empty() {
            labels.insert(REVISION_HASH_LABEL.into(), hash.to_owned());
        }
        let base = pods::pod_from_template(
            &template,
            &ns,
            format!("{}-", ds.name_any()),
            Some(pods::owner_ref(ds)),
        );

        let make = |i: usize| {
            let mut pod = base.clone();
            if let Some(spec) = pod.spec.as_mut() {
                spec.affinity = Some(pin_to_node(spec.affinity.take(), &nodes[i]));
            }
            pod
        };
        let owner = Owner {
            object: ds,
            key,
            expectations: &self.expectations,
            recorder: &self.recorder,
        };
        let create_api = Api::namespaced(self.cluster.client.clone(), &ns);
        let (_, mut first_error) = create_pods(&create_api, creates, make, owner).await;

        let victims: Vec<(String, Option<String>)> = delete
            .iter()
            .take(deletes)
            .map(|name| {
                let uid = self.cluster.pods.get(&ns, name).and_then(|p| p.uid());
                ((*name).clone(), uid)
            })
            .collect();
        let owner = Owner {
            object: ds,
            key,
            expectations: &self.expectations,
            recorder: &self.recorder,
        };
        if let Some(e) = delete_pods(&api, victims, owner).await {
            first_error.get_or_insert(e);
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// The revision of the current template (created if needed, numbered
    /// after every other) and the older ones (upstream's
    /// `constructHistory`).
    async fn construct_history(
        &self,
        ds: &DaemonSet,
    ) -> Result<(ControllerRevision, Vec<ControllerRevision>)> {
        let ns = ds.namespace().unwrap_or_default();
        let owner = pods::owner_ref(ds);
        let revs = history::claim(
            &self.cluster,
            &ns,
            &ds.uid().unwrap_or_default(),
            &owner,
            &selector_of(ds),
        )
        .await?;
        let template = template_of(ds);
        let data = history::template_patch(&template);
        let (mut current, old): (Vec<_>, Vec<_>) =
            revs.into_iter().partition(|r| history::holds(r, &data));
        let next = history::max_revision(&old) + 1;
        let cur = match current.pop() {
            None => {
                let collisions = ds.status.as_ref().and_then(|s| s.collision_count);
                let hash = template_hash(&template, collisions);
                let rev = history::new_revision(
                    format!("{}-{hash}", ds.name_any()),
                    &ns,
                    template
                        .metadata
                        .as_ref()
                        .and_then(|m| m.labels.as_ref())
                        .unwrap_or(&EMPTY_LABELS),
                    &hash,
                    owner,
                    data,
                    next,
                );
                match history::create(&self.cluster, &rev).await? {
                    Some(r) => r,
                    None => {
                        self.bump_collision_count(ds).await?;
                        return Err(anyhow!(
                            "hash collision for ControllerRevision {}",
                            rev.name_any()
                        ));
                    }
                }
            }
            Some(newest) => {
                // Duplicates (the same template twice): keep the newest.
                for dup in current {
                    history::delete(&self.cluster, &dup).await?;
                }
                if newest.revision < next {
                    history::set_revision(&self.cluster, &newest, next).await?
                } else {
                    newest
                }
            }
        };
        Ok((cur, old))
    }

    async fn bump_collision_count(&self, ds: &DaemonSet) -> Result<()> {
        let api: Api<DaemonSet> = Api::namespaced(
            self.cluster.client.clone(),
            &ds.namespace().unwrap_or_default(),
        );
        let mut fresh = api.get_status(&ds.name_any()).await?;
        let stale = fresh.status.as_ref().and_then(|s| s.collision_count)
            != ds.status.as_ref().and_then(|s| s.collision_count);
        if stale {
            return Ok(());
        }
        let status = fresh.status.get_or_insert_with(Default::default);
        status.collision_count = Some(status.collision_count.unwrap_or(0) + 1);
        api.replace_status(&ds.name_any(), &PostParams::default(), &fresh)
            .await
            .context("bumping the collision count")?;
        Ok(())
    }

    /// Delete the oldest revisions beyond `revisionHistoryLimit` that no
    /// pod runs.
    async fn cleanup_history(
        &self,
        ds: &DaemonSet,
        old: &[ControllerRevision],
        pods: &[Arc<Pod>],
    ) -> Result<()> {
        let limit = ds
            .spec
            .as_ref()
            .and_then(|s| s.revision_history_limit)
            .unwrap_or(10)
            .max(0) as usize;
        let mut to_kill = old.len().saturating_sub(limit);
        if to_kill == 0 {
            return Ok(());
        }
        let live: HashSet<&str> = pods
            .iter()
            .filter_map(|p| labels_of(p).get(REVISION_HASH_LABEL).map(String::as_str))
            .collect();
        for rev in old {
            if to_kill == 0 {
                break;
            }
            let hash = rev
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get(REVISION_HASH_LABEL));
            if hash.is_some_and(|h| live.contains(h.as_str())) {
                continue;
            }
            history::delete(&self.cluster, rev).await?;
            to_kill -= 1;
        }
        Ok(())
    }

    /// Write the status if it changed (upstream's `updateDaemonSetStatus`);
    /// returns when to look again for pods becoming available.
    async fn update_status(
        &self,
        ds: &DaemonSet,
        nodes: &[Arc<Node>],
        pods: &[Arc<Pod>],
        hash: &str,
        observed: bool,
    ) -> Result<Requeue> {
        let per_node = by_node(pods, false);
        let min_ready = min_ready_seconds(ds);
        let generation = template_generation(ds);
        let now = jiff::Timestamp::now();
        let (mut desired, mut current, mut misscheduled) = (0, 0, 0);
        let (mut ready, mut available, mut updated) = (0, 0, 0);
        for node in nodes {
            let name = node.metadata.name.as_deref().unwrap_or("");
            let (should_run, _) = node_should_run(node, ds);
            let on_node = per_node.get(name).filter(|p| !p.is_empty());
            if !should_run {
                if on_node.is_some() {
                    misscheduled += 1;
                }
                continue;
            }
            desired += 1;
            let Some(on_node) = on_node else { continue };
            current += 1;
            let mut sorted = on_node.clone();
            sort_oldest_first(&mut sorted);
            let pod = sorted[0];
            if pods::is_ready(pod) {
                ready += 1;
                if pods::is_available(pod, min_ready, now) {
                    available += 1;
                }
            }
            if is_pod_updated(pod, hash, generation) {
                updated += 1;
            }
        }
        let old = ds.status.clone().unwrap_or_default();
        let status = DaemonSetStatus {
            desired_number_scheduled: desired,
            current_number_scheduled: current,
            number_misscheduled: misscheduled,
            number_ready: ready,
            number_available: Some(available),
            number_unavailable: Some(desired - available),
            updated_number_scheduled: Some(updated),
            observed_generation: if observed {
                ds.metadata.generation
            } else {
                old.observed_generation
            },
            collision_count: old.collision_count,
            conditions: old.conditions.clone(),
        };
        let requeue =
            (min_ready > 0 && ready != available).then(|| Duration::from_secs(min_ready as u64));
        let zero = |v: Option<i32>| v.unwrap_or(0);
        let same = old.desired_number_scheduled == status.desired_number_scheduled
            && old.current_number_scheduled == status.current_number_scheduled
            && old.number_misscheduled == status.number_misscheduled
            && old.number_ready == status.number_ready
            && zero(old.number_available) == zero(status.number_available)
            && zero(old.number_unavailable) == zero(status.number_unavailable)
            && zero(old.updated_number_scheduled) == zero(status.updated_number_scheduled)
            && old.observed_generation.unwrap_or(0) >= ds.metadata.generation.unwrap_or(0);
        if same && (!observed || old.observed_generation == status.observed_generation) {
            return Ok(requeue);
        }
        let api: Api<DaemonSet> = Api::namespaced(
            self.cluster.client.clone(),
            &ds.namespace().unwrap_or_default(),
        );
        let mut new = ds.clone();
        new.status = Some(status);
        match api
            .replace_status(&ds.name_any(), &PostParams::default(), &new)
            .await
        {
            Ok(_) => Ok(requeue),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => {
                debug!("daemonset status {}: {e}", ds.name_any());
                Err(e).context("updating DaemonSet status")
            }
        }
    }
}

/// The new (current revision) and old pod on a node; None when a node has
/// more than one of either (upstream's `findUpdatedPodsOnNode`).
fn find_updated<'a>(
    pods: &[&'a Pod],
    hash: &str,
    generation: Option<i64>,
) -> Option<(Option<&'a Pod>, Option<&'a Pod>)> {
    let (mut new, mut old) = (None, None);
    for p in pods {
        if p.metadata.deletion_timestamp.is_some() {
            continue;
        }
        let slot = if is_pod_updated(p, hash, generation) {
            &mut new
        } else {
            &mut old
        };
        if slot.is_some() {
            return None;
        }
        *slot = Some(*p);
    }
    Some((new, old))
}

fn min_requeue(a: Requeue, b: Requeue) -> Requeue {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

async fn patch_pod(api: &Api<Pod>, pod: &Pod, patch: serde_json::Value) -> Result<Option<Pod>> {
    match api
        .patch(
            &pod.name_any(),
            &PatchParams::default(),
            &Patch::Strategic(patch),
        )
        .await
    {
        Ok(p) => Ok(Some(p)),
        Err(e) if is_not_found(&e) || is_conflict(&e) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ds(spec: serde_json::Value) -> DaemonSet {
        serde_json::from_value(json!({
            "metadata": {"name": "d", "namespace": "default"},
            "spec": {
                "selector": {"matchLabels": {"app": "d"}},
                "template": {"metadata": {"labels": {"app": "d"}}, "spec": spec},
            }
        }))
        .unwrap()
    }

    fn node(name: &str, labels: serde_json::Value, taints: serde_json::Value) -> Node {
        serde_json::from_value(json!({
            "metadata": {"name": name, "labels": labels},
            "spec": {"taints": taints},
        }))
        .unwrap()
    }

    #[test]
    fn daemon_pods_tolerate_node_conditions() {
        let mut spec = PodSpec::default();
        add_daemon_tolerations(&mut spec);
        let keys: Vec<_> = spec
            .tolerations
            .iter()
            .flatten()
            .map(|t| (t.key.clone().unwrap(), t.effect.clone().unwrap()))
            .collect();
        assert_eq!(keys.len(), 6);
        assert!(keys.contains(&("node.kubernetes.io/not-ready".into(), "NoExecute".into())));
        assert!(keys.contains(&(
            "node.kubernetes.io/unschedulable".into(),
            "NoSchedule".into()
        )));
        // Idempotent, and host-network pods also tolerate network-unavailable.
        spec.host_network = Some(true);
        add_daemon_tolerations(&mut spec);
        assert_eq!(spec.tolerations.as_ref().unwrap().len(), 7);
    }

    #[test]
    fn eligibility_follows_selectors_affinity_and_taints() {
        let plain = ds(json!({"containers": []}));
        let clean = node("a", json!({"disk": "ssd"}), json!([]));
        let no_schedule = node(
            "b",
            json!({}),
            json!([{"key": "k", "value": "v", "effect": "NoSchedule"}]),
        );
        let no_execute = node("c", json!({}), json!([{"key": "k", "effect": "NoExecute"}]));
        let unschedulable = node(
            "e",
            json!({}),
            json!([{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]),
        );
        assert_eq!(node_should_run(&clean, &plain), (true, true));
        assert_eq!(node_should_run(&no_schedule, &plain), (false, true));
        assert_eq!(node_should_run(&no_execute, &plain), (false, false));
        assert_eq!(node_should_run(&unschedulable, &plain), (true, true));

        let tolerant = ds(json!({"containers": [], "tolerations": [
            {"key": "k", "operator": "Exists"}]}));
        assert_eq!(node_should_run(&no_schedule, &tolerant), (true, true));
        assert_eq!(node_should_run(&no_execute, &tolerant), (true, true));

        let selective = ds(json!({"containers": [], "nodeSelector": {"disk": "ssd"}}));
        assert_eq!(node_should_run(&clean, &selective), (true, true));
        assert_eq!(node_should_run(&no_schedule, &selective), (false, false));

        let affinity = ds(json!({"containers": [], "affinity": {"nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "disk", "operator": "NotIn", "values": ["ssd"]}]}
        ]}}}}));
        assert_eq!(node_should_run(&clean, &affinity), (false, false));
        assert!(!node_should_run(&no_execute, &affinity).0);
        assert_eq!(node_should_run(&unschedulable, &affinity), (true, true));

        let named = ds(json!({"containers": [], "nodeName": "a"}));
        assert_eq!(node_should_run(&clean, &named), (true, true));
        assert_eq!(node_should_run(&unschedulable, &named), (false, false));
    }

    #[test]
    fn pods_are_pinned_through_node_affinity() {
        let affinity = pin_to_node(None, "n1");
        let pod = Pod {
            spec: Some(crate::slim::PodSpec {
                affinity: Some(Box::new(affinity)),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(target_node_name(&pod).as_deref(), Some("n1"));
        let json = serde_json::to_value(&pod.spec).unwrap();
        assert_eq!(
            json["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
                [0]["matchFields"][0],
            json!({"key": "metadata.name", "operator": "In", "values": ["n1"]})
        );
        // Existing required terms are replaced, preferred ones kept.
        let existing: Affinity = serde_json::from_value(json!({"nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "a", "operator": "Exists"}]}]},
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 1, "preference": {"matchExpressions": [{"key": "b", "operator": "Exists"}]}}]
        }}))
        .unwrap();
        let pinned = pin_to_node(Some(existing), "n2");
        let na = pinned.node_affinity.unwrap();
        assert_eq!(
            na.required_during_scheduling_ignored_during_execution
                .unwrap()
                .node_selector_terms
                .len(),
            1
        );
        assert!(
            na.preferred_during_scheduling_ignored_during_execution
                .is_some()
        );
    }

    #[test]
    fn updated_pods_match_the_hash_or_generation() {
        let pod = |labels: serde_json::Value| -> Pod {
            serde_json::from_value(json!({"metadata": {"labels": labels}})).unwrap()
        };
        assert!(is_pod_updated(
            &pod(json!({REVISION_HASH_LABEL: "h"})),
            "h",
            Some(2)
        ));
        assert!(is_pod_updated(
            &pod(json!({TEMPLATE_GENERATION_LABEL: "2"})),
            "x",
            Some(2)
        ));
        assert!(!is_pod_updated(
            &pod(json!({REVISION_HASH_LABEL: "o", TEMPLATE_GENERATION_LABEL: "1"})),
            "h",
            Some(2)
        ));
    }
}

//! Pod helpers shared by the workload controllers: state predicates,
//! controller references, pods from templates, and upstream's order for
//! choosing which pods to delete first.

use std::cmp::Ordering;
use std::collections::HashMap;

use k8s_openapi::api::core::v1::{self as api, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::{Resource, ResourceExt};

use rkube_scheduler::labels::{EMPTY_LABELS, Selector};

use crate::informer::{Change, Informer, key_of};
use crate::slim::Pod;
use crate::{Expectations, WorkQueue};

/// The owner reference with `controller: true`, if any.
pub fn controller_ref(meta: &ObjectMeta) -> Option<&OwnerReference> {
    meta.owner_references
        .iter()
        .flatten()
        .find(|r| r.controller == Some(true))
}

/// The work-queue key (`namespace/name`) of the `O` that controls the
/// object with metadata `meta`, if an `O` does.
pub fn owner_key<O: Resource<DynamicType = ()>>(meta: &ObjectMeta) -> Option<String> {
    let r = controller_ref(meta)?;
    let group = O::group(&());
    let group_matches = match r.api_version.split_once('/') {
        Some((g, _)) => g == group,
        None => group.is_empty(),
    };
    (r.kind == O::kind(&()) && group_matches).then(|| {
        format!(
            "{}/{}",
            meta.namespace.as_deref().unwrap_or_default(),
            r.name
        )
    })
}

/// What [`route_pod_change`] found.
pub struct Routed<'a> {
    /// The key of the `O` controlling the pod now, if any (already queued).
    pub owner: Option<String>,
    /// A pod no `O` controls that is new or newly relabelled (or just
    /// released): the `O`s whose selector matches may adopt it.
    pub orphan: Option<&'a Pod>,
    /// The pod turned Ready with this change.
    pub became_ready: bool,
}

/// How a pod change concerns the controllers of kind `O` (upstream's
/// `addPod`/`updatePod`/`deletePod`): queue the owners it concerns (the
/// old one too, when the controller reference changed), and tell
/// `expectations` (if the controller keeps any) of creations and deletions
/// seen. A pod whose graceful deletion began counts as deleted.
pub fn route_pod_change<'a, O: Resource<DynamicType = ()>>(
    change: Change<'a, Pod>,
    queue: &WorkQueue,
    expectations: Option<&Expectations>,
) -> Routed<'a> {
    let key = |p: &Pod| owner_key::<O>(&p.metadata);
    let mut routed = Routed {
        owner: None,
        orphan: None,
        became_ready: false,
    };
    match change {
        Change::Applied { old: None, new } => match key(new) {
            Some(k) => {
                if let Some(e) = expectations {
                    e.creation_observed(&k);
                }
                queue.add(k.clone());
                routed.owner = Some(k);
            }
            None => routed.orphan = Some(new),
        },
        Change::Applied {
            old: Some(old),
            new,
        } => {
            let (ok, nk) = (key(old), key(new));
            if ok != nk
                && let Some(k) = &ok
            {
                queue.add(k.clone());
            }
            match nk {
                Some(k) => {
                    if new.metadata.deletion_timestamp.is_some()
                        && old.metadata.deletion_timestamp.is_none()
                        && let Some(e) = expectations
                    {
                        e.pod_deletion_observed(&k, &new.name_any());
                    }
                    routed.became_ready = !is_ready(old) && is_ready(new);
                    queue.add(k.clone());
                    routed.owner = Some(k);
                }
                None if old.metadata.labels != new.metadata.labels || ok.is_some() => {
                    routed.orphan = Some(new)
                }
                None => {}
            }
        }
        Change::Deleted(old) => {
            if let Some(k) = key(old) {
                if let Some(e) = expectations {
                    e.pod_deletion_observed(&k, &old.name_any());
                }
                queue.add(k);
            }
        }
    }
    routed
}

/// Queue every `O` in the pod's namespace whose selector (`selector`)
/// matches the pod's labels: the candidates to adopt an orphan.
pub fn queue_selecting<O>(
    informer: &Informer<O>,
    queue: &WorkQueue,
    pod: &Pod,
    selector: impl Fn(&O) -> Selector,
) where
    O: Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug + Send + Sync + 'static,
    O::DynamicType: Default,
{
    let labels = pod.metadata.labels.as_ref().unwrap_or(&EMPTY_LABELS);
    for o in informer.list_namespace(pod.metadata.namespace.as_deref().unwrap_or_default()) {
        if selector(&o).matches(labels) {
            queue.add(key_of(&*o));
        }
    }
}

/// A controller reference to `owner` (`controller` and
/// `blockOwnerDeletion` set, as controllers write them).
pub fn owner_ref<K: Resource<DynamicType = ()>>(owner: &K) -> OwnerReference {
    OwnerReference {
        api_version: K::api_version(&()).into_owned(),
        kind: K::kind(&()).into_owned(),
        name: owner.meta().name.clone().unwrap_or_default(),
        uid: owner.meta().uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("Pending")
}

/// Succeeded or Failed.
pub fn is_terminal(pod: &Pod) -> bool {
    matches!(phase(pod), "Succeeded" | "Failed")
}

/// Neither finished nor being deleted (upstream's `IsPodActive`).
pub fn is_active(pod: &Pod) -> bool {
    !is_terminal(pod) && pod.metadata.deletion_timestamp.is_none()
}

/// The time the pod became Ready, if it is.
pub fn ready_since(pod: &Pod) -> Option<jiff::Timestamp> {
    let c = pod
        .status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Ready")?;
    if c.status != "True" {
        return None;
    }
    Some(
        c.last_transition_time
            .as_ref()
            .map(|t| t.0)
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH),
    )
}

/// Whether the Ready condition is True.
pub fn is_ready(pod: &Pod) -> bool {
    ready_since(pod).is_some()
}

/// Ready for at least `min_ready_seconds` at `now`.
pub fn is_available(pod: &Pod, min_ready_seconds: i32, now: jiff::Timestamp) -> bool {
    match ready_since(pod) {
        None => false,
        Some(_) if min_ready_seconds <= 0 => true,
        Some(since) => since
            .checked_add(jiff::SignedDuration::from_secs(min_ready_seconds.into()))
            .is_ok_and(|t| t <= now),
    }
}

/// A new pod of `template`, named `{prefix}{random}` by the server.
pub fn pod_from_template(
    template: &PodTemplateSpec,
    namespace: &str,
    generate_name: String,
    owner: Option<OwnerReference>,
) -> api::Pod {
    let tm = template.metadata.clone().unwrap_or_default();
    api::Pod {
        metadata: ObjectMeta {
            generate_name: Some(generate_name),
            namespace: Some(namespace.to_owned()),
            labels: tm.labels,
            annotations: tm.annotations,
            finalizers: tm.finalizers,
            owner_references: owner.map(|o| vec![o]),
            ..Default::default()
        },
        spec: template.spec.clone(),
        status: None,
    }
}

/// Upstream's pod-deletion-cost annotation.
const DELETION_COST: &str = "controller.kubernetes.io/pod-deletion-cost";

fn deletion_cost(pod: &Pod) -> i32 {
    pod.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(DELETION_COST))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn restarts(pod: &Pod) -> i32 {
    pod.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .map(|cs| cs.iter().map(|c| c.restart_count).max().unwrap_or(0))
        .unwrap_or(0)
}

/// Sort `pods` so that the ones to delete first come first, as upstream's
/// `ActivePodsWithRanks`: unassigned before assigned; Pending, Unknown,
/// then Running; not ready before ready; lower deletion cost; more pods
/// of the same owner on the node (`related`, doubled-up pods first);
/// ready for less time; more restarts; newer.
pub fn sort_for_deletion(pods: &mut [&Pod], related: &[&Pod]) {
    let mut per_node: HashMap<&str, i32> = HashMap::new();
    for p in related {
        if let Some(n) = p.spec.as_ref().and_then(|s| s.node_name.as_deref()) {
            *per_node.entry(n).or_default() += 1;
        }
    }
    let rank = |p: &Pod| {
        p.spec
            .as_ref()
            .and_then(|s| s.node_name.as_deref())
            .and_then(|n| per_node.get(n).copied())
            .unwrap_or(0)
    };
    let phase_rank = |p: &Pod| match phase(p) {
        "Pending" => 0,
        "Unknown" => 1,
        "Running" => 2,
        _ => 3,
    };
    let assigned = |p: &Pod| {
        p.spec
            .as_ref()
            .and_then(|s| s.node_name.as_deref())
            .is_some_and(|n| !n.is_empty())
    };
    pods.sort_by(|a, b| {
        assigned(a)
            .cmp(&assigned(b))
            .then_with(|| phase_rank(a).cmp(&phase_rank(b)))
            .then_with(|| is_ready(a).cmp(&is_ready(b)))
            .then_with(|| deletion_cost(a).cmp(&deletion_cost(b)))
            .then_with(|| rank(b).cmp(&rank(a)))
            .then_with(|| match (ready_since(a), ready_since(b)) {
                // Ready for less time first.
                (Some(x), Some(y)) => y.cmp(&x),
                _ => Ordering::Equal,
            })
            .then_with(|| restarts(b).cmp(&restarts(a)))
            .then_with(|| {
                let created = |p: &Pod| p.metadata.creation_timestamp.as_ref().map(|t| t.0);
                created(b).cmp(&created(a))
            })
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str, node: &str, phase: &str, ready: bool, created: &str) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": name, "creationTimestamp": created},
            "spec": {"nodeName": node, "containers": []},
            "status": {"phase": phase, "conditions": [
                {"type": "Ready", "status": if ready {"True"} else {"False"},
                 "lastTransitionTime": "2026-01-01T00:00:00Z"}]}
        }))
        .unwrap()
    }

    #[test]
    fn deletion_order_is_upstreams() {
        let unassigned = pod("unassigned", "", "Pending", false, "2026-01-01T00:00:00Z");
        let pending = pod("pending", "n1", "Pending", false, "2026-01-01T00:00:00Z");
        let not_ready = pod("not-ready", "n1", "Running", false, "2026-01-01T00:00:00Z");
        let old = pod("old", "n2", "Running", true, "2026-01-01T00:00:00Z");
        let new = pod("new", "n3", "Running", true, "2026-01-02T00:00:00Z");
        let all = [&old, &new, &not_ready, &pending, &unassigned];
        let mut pods = all.to_vec();
        sort_for_deletion(&mut pods, &all);
        let names: Vec<_> = pods
            .iter()
            .map(|p| p.metadata.name.as_deref().unwrap())
            .collect();
        assert_eq!(names, ["unassigned", "pending", "not-ready", "new", "old"]);
    }

    #[test]
    fn availability_waits_for_min_ready_seconds() {
        let p = pod("p", "n", "Running", true, "2026-01-01T00:00:00Z");
        let t0: jiff::Timestamp = "2026-01-01T00:00:05Z".parse().unwrap();
        assert!(is_available(&p, 0, t0));
        assert!(is_available(&p, 5, t0));
        assert!(!is_available(&p, 6, t0));
    }
}

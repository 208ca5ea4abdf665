//! The ReplicaSet controller (upstream's `replicaset` controller): keeps
//! `spec.replicas` active pods matching the selector, adopting orphans that
//! match and releasing pods that stop matching, and reports status.
//!
//! The same controller runs ReplicationControllers, seen as ReplicaSets
//! through [`Replicated`] (upstream, too, runs them through the ReplicaSet
//! controller by conversion): their pods are owned by, their events are
//! about, and their status is written to the ReplicationController.
//!
//! Creations go out in slow-start batches (1, 2, 4, ... up to
//! [`BURST`] per sync) so that a failing template costs one error, not
//! hundreds; deletions pick pods in upstream's order
//! ([`pods::sort_for_deletion`]).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use k8s_openapi::api::apps::v1::{
    ReplicaSet, ReplicaSetCondition, ReplicaSetSpec, ReplicaSetStatus,
};
use k8s_openapi::api::core::v1::{
    ReplicationController, ReplicationControllerCondition, ReplicationControllerStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, Resource, ResourceExt};
use rkube_scheduler::labels::{EMPTY_LABELS, Selector};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::informer::{Change, Informer, key_of};
use crate::pods;
use crate::slim::Pod;
use crate::writes::{Owner, create_pods, delete_pods, is_not_found};
use crate::{Cluster, Controller, Expectations, Options, Recorder, Requeue, WorkQueue};

/// Pods created or deleted in one sync, at most (upstream's burstReplicas).
pub const BURST: usize = 500;

/// A kind this controller runs: ReplicaSet, or ReplicationController
/// seen as one.
pub trait Replicated:
    Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
    + Clone
    + Serialize
    + DeserializeOwned
    + Debug
    + Send
    + Sync
    + 'static
{
    /// The controller's name (logs).
    const CONTROLLER: &'static str;
    /// The component its events come from.
    const COMPONENT: &'static str;
    /// The kind's shared informer.
    fn informer(cluster: &Cluster) -> &Informer<Self>;
    /// The object as a ReplicaSet: metadata, spec and status.
    fn as_replica_set(&self) -> Cow<'_, ReplicaSet>;
    /// The object with `status` (a ReplicaSet's) in its own form.
    fn with_status(&self, status: ReplicaSetStatus) -> Self;
}

impl Replicated for ReplicaSet {
    const CONTROLLER: &'static str = "replicaset";
    const COMPONENT: &'static str = "replicaset-controller";
    fn informer(cluster: &Cluster) -> &Informer<Self> {
        &cluster.replica_sets
    }
    fn as_replica_set(&self) -> Cow<'_, ReplicaSet> {
        Cow::Borrowed(self)
    }
    fn with_status(&self, status: ReplicaSetStatus) -> Self {
        let mut new = self.clone();
        new.status = Some(status);
        new
    }
}

impl Replicated for ReplicationController {
    const CONTROLLER: &'static str = "replicationcontroller";
    const COMPONENT: &'static str = "replication-controller";
    fn informer(cluster: &Cluster) -> &Informer<Self> {
        &cluster.replication_controllers
    }
    fn as_replica_set(&self) -> Cow<'_, ReplicaSet> {
        let spec = self.spec.clone().unwrap_or_default();
        // An unset selector is the template's labels (the API defaults it
        // so; never "everything").
        let selector = spec.selector.or_else(|| {
            spec.template
                .as_ref()
                .and_then(|t| t.metadata.as_ref())
                .and_then(|m| m.labels.clone())
        });
        Cow::Owned(ReplicaSet {
            metadata: self.metadata.clone(),
            spec: Some(ReplicaSetSpec {
                replicas: spec.replicas,
                min_ready_seconds: spec.min_ready_seconds,
                selector: LabelSelector {
                    match_labels: Some(selector.unwrap_or_else(|| {
                        // Matches nothing: no pod has this label.
                        BTreeMap::from([("rkube.io/no-selector".to_owned(), String::new())])
                    })),
                    match_expressions: None,
                },
                template: spec.template,
            }),
            status: self.status.as_ref().map(|s| ReplicaSetStatus {
                replicas: s.replicas,
                fully_labeled_replicas: s.fully_labeled_replicas,
                ready_replicas: s.ready_replicas,
                available_replicas: s.available_replicas,
                observed_generation: s.observed_generation,
                conditions: s.conditions.as_ref().map(|cs| {
                    cs.iter()
                        .map(|c| ReplicaSetCondition {
                            type_: c.type_.clone(),
                            status: c.status.clone(),
                            reason: c.reason.clone(),
                            message: c.message.clone(),
                            last_transition_time: c.last_transition_time.clone(),
                        })
                        .collect()
                }),
                terminating_replicas: None,
            }),
        })
    }
    fn with_status(&self, s: ReplicaSetStatus) -> Self {
        let mut new = self.clone();
        new.status = Some(ReplicationControllerStatus {
            replicas: s.replicas,
            fully_labeled_replicas: s.fully_labeled_replicas,
            ready_replicas: s.ready_replicas,
            available_replicas: s.available_replicas,
            observed_generation: s.observed_generation,
            conditions: s.conditions.map(|cs| {
                cs.into_iter()
                    .map(|c| ReplicationControllerCondition {
                        type_: c.type_,
                        status: c.status,
                        reason: c.reason,
                        message: c.message,
                        last_transition_time: c.last_transition_time,
                    })
                    .collect()
            }),
        });
        new
    }
}

/// The controller for `K` (ReplicaSet or ReplicationController).
pub fn controller<K: Replicated>(cluster: &Arc<Cluster>, options: &Options) -> Controller {
    let queue = WorkQueue::new();
    let rs = Arc::new(ReplicaSets::<K> {
        cluster: cluster.clone(),
        expectations: Expectations::default(),
        recorder: Recorder::new(cluster.client.clone(), K::COMPONENT),
        kind: PhantomData,
    });
    K::informer(cluster).enqueue(&queue, |o| Some(key_of(o)));
    {
        let (queue, rs) = (queue.clone(), rs.clone());
        cluster.pods.on_change(move |c| rs.pod_changed(&queue, c));
    }
    let resync = {
        let informer = K::informer(cluster).clone();
        move || informer.keys()
    };
    Controller::new(K::CONTROLLER, queue, options.workers, resync, move |key| {
        let rs = rs.clone();
        async move { rs.sync(&key).await }
    })
}

struct ReplicaSets<K> {
    cluster: Arc<Cluster>,
    expectations: Expectations,
    recorder: Recorder,
    kind: PhantomData<fn() -> K>,
}

fn selector_of(rs: &ReplicaSet) -> Selector {
    Selector::from_label_selector(rs.spec.as_ref().map(|s| &s.selector))
}

fn labels_of(pod: &Pod) -> &BTreeMap<String, String> {
    pod.metadata.labels.as_ref().unwrap_or(&EMPTY_LABELS)
}

impl<K: Replicated> ReplicaSets<K> {
    /// Queue the ReplicaSets a pod change concerns.
    fn pod_changed(&self, queue: &WorkQueue, change: Change<'_, Pod>) {
        let routed = pods::route_pod_change::<K>(change, queue, Some(&self.expectations));
        if let Some(orphan) = routed.orphan {
            pods::queue_selecting(K::informer(&self.cluster), queue, orphan, |o| {
                selector_of(&o.as_replica_set())
            });
        }
    }

    async fn sync(&self, key: &str) -> Result<Requeue> {
        let Some(obj) = K::informer(&self.cluster).get_key(key) else {
            self.expectations.forget(key);
            return Ok(None);
        };
        let obj = &*obj;
        let rs = obj.as_replica_set();
        let rs = &*rs;
        let ns = rs.namespace().unwrap_or_default();
        let selector = selector_of(rs);
        let pods_api: Api<Pod> = Api::namespaced(self.cluster.client.clone(), &ns);
        let uid = rs.uid().unwrap_or_default();

        // Claim: our pods, orphans we adopt, pods we release.
        let mut owned: Vec<Arc<Pod>> = Vec::new();
        for pod in self.cluster.pods.controlled_by(&ns, &uid) {
            if rs.metadata.deletion_timestamp.is_some() || selector.matches(labels_of(&pod)) {
                owned.push(pod);
            } else {
                self.release(&pods_api, &pod, &uid).await?;
            }
        }
        if rs.metadata.deletion_timestamp.is_none() {
            for pod in self.cluster.pods.controlled_by(&ns, "") {
                if pod.metadata.deletion_timestamp.is_none()
                    && selector.matches(labels_of(&pod))
                    && let Some(p) = self.adopt(&pods_api, obj, &pod).await?
                {
                    owned.push(Arc::new(p));
                }
            }
        }
        let active: Vec<&Pod> = owned
            .iter()
            .map(|p| &**p)
            .filter(|p| pods::is_active(p))
            .collect();

        let mut manage_error = None;
        if !self.expectations.satisfied(key) {
            tracing::debug!(
                "{key}: waiting for pods to come and go (created, deleted still expected: {:?})",
                self.expectations.pending(key)
            );
        }
        if self.expectations.satisfied(key)
            && rs.metadata.deletion_timestamp.is_none()
            && let Err(e) = self.manage(key, obj, rs, &active, &pods_api).await
        {
            manage_error = Some(e);
        }
        let requeue = self
            .update_status(obj, rs, &owned, manage_error.as_ref())
            .await?;
        match manage_error {
            Some(e) => Err(e),
            None => Ok(requeue),
        }
    }

    /// Create or delete pods to reach `spec.replicas`.
    async fn manage(
        &self,
        key: &str,
        obj: &K,
        rs: &ReplicaSet,
        active: &[&Pod],
        api: &Api<Pod>,
    ) -> Result<()> {
        let want = rs
            .spec
            .as_ref()
            .and_then(|s| s.replicas)
            .unwrap_or(1)
            .max(0) as usize;
        let have = active.len();
        if have < want {
            let n = (want - have).min(BURST);
            self.expectations.expect(key, n as i64, []);
            let template = rs
                .spec
                .as_ref()
                .and_then(|s| s.template.clone())
                .unwrap_or_default();
            let pod = pods::pod_from_template(
                &template,
                &rs.namespace().unwrap_or_default(),
                format!("{}-", rs.name_any()),
                Some(pods::owner_ref(obj)),
            );
            let owner = Owner {
                object: obj,
                key,
                expectations: &self.expectations,
                recorder: &self.recorder,
            };
            let create_api = Api::namespaced(
                self.cluster.client.clone(),
                &rs.namespace().unwrap_or_default(),
            );
            if let (_, Some(e)) = create_pods(&create_api, n, |_| pod.clone(), owner).await {
                return Err(e);
            }
        } else if have > want {
            let n = (have - want).min(BURST);
            let mut victims: Vec<&Pod> = active.to_vec();
            pods::sort_for_deletion(&mut victims, active);
            victims.truncate(n);
            self.expectations
                .expect(key, 0, victims.iter().map(|p| p.name_any()));
            let targets: Vec<(String, Option<String>)> =
                victims.iter().map(|p| (p.name_any(), p.uid())).collect();
            let names: Vec<String> = targets.iter().map(|(n, _)| n.clone()).collect();
            let owner = Owner {
                object: obj,
                key,
                expectations: &self.expectations,
                recorder: &self.recorder,
            };
            let first_error = delete_pods(api, targets, owner).await;
            // A deletion the cache already shows needs no event to wait for.
            let ns = rs.namespace().unwrap_or_default();
            for name in &names {
                let gone = self
                    .cluster
                    .pods
                    .get(&ns, name)
                    .is_none_or(|p| p.metadata.deletion_timestamp.is_some());
                if gone {
                    self.expectations.pod_deletion_observed(key, name);
                }
            }
            if let Some(e) = first_error {
                return Err(e);
            }
        }
        Ok(())
    }

    async fn adopt(&self, api: &Api<Pod>, obj: &K, pod: &Pod) -> Result<Option<Pod>> {
        // The owner must still be what we think it is before we claim.
        let owner = pods::owner_ref(obj);
        let patch = json!({
            "metadata": {
                "ownerReferences": [owner],
                "uid": pod.uid(),
            }
        });
        match api
            .patch(
                &pod.name_any(),
                &PatchParams::default(),
                &Patch::Strategic(patch),
            )
            .await
        {
            Ok(p) => Ok(Some(p)),
            Err(e) if is_not_found(&e) => Ok(None),
            // Anything else is retried with backoff (as upstream's claim).
            Err(e) => Err(e).context("adopting a pod"),
        }
    }

    async fn release(&self, api: &Api<Pod>, pod: &Pod, owner_uid: &str) -> Result<()> {
        let patch = json!({
            "metadata": {
                "ownerReferences": [{"$patch": "delete", "uid": owner_uid}],
                "uid": pod.uid(),
            }
        });
        match api
            .patch(
                &pod.name_any(),
                &PatchParams::default(),
                &Patch::Strategic(patch),
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(e).context("releasing a pod"),
        }
    }

    /// Write the status (if it changed); returns when to look again for
    /// pods becoming available.
    async fn update_status(
        &self,
        obj: &K,
        rs: &ReplicaSet,
        owned: &[Arc<Pod>],
        manage_error: Option<&anyhow::Error>,
    ) -> Result<Requeue> {
        let spec = rs.spec.as_ref();
        let min_ready = spec.and_then(|s| s.min_ready_seconds).unwrap_or(0);
        let template_labels = spec
            .and_then(|s| s.template.as_ref())
            .and_then(|t| t.metadata.as_ref())
            .and_then(|m| m.labels.clone())
            .unwrap_or_default();
        let now = jiff::Timestamp::now();
        let active: Vec<&Pod> = owned
            .iter()
            .map(|p| &**p)
            .filter(|p| pods::is_active(p))
            .collect();
        let mut requeue = None;
        let (mut ready, mut available, mut fully_labeled) = (0, 0, 0);
        for p in &active {
            let labels = labels_of(p);
            if template_labels
                .iter()
                .all(|(k, v)| labels.get(k) == Some(v))
            {
                fully_labeled += 1;
            }
            if pods::is_ready(p) {
                ready += 1;
                if pods::is_available(p, min_ready, now) {
                    available += 1;
                } else {
                    requeue = Some(Duration::from_secs(min_ready.max(1) as u64));
                }
            }
        }
        let old = rs.status.clone().unwrap_or_default();
        let mut conditions: Vec<_> = old
            .conditions
            .clone()
            .unwrap_or_default()
            .into_iter()
            .filter(|c| c.type_ != "ReplicaFailure")
            .collect();
        if let Some(e) = manage_error {
            let previous = old
                .conditions
                .iter()
                .flatten()
                .find(|c| c.type_ == "ReplicaFailure")
                .cloned();
            let reason = if e.to_string().contains("deleting") {
                "FailedDelete"
            } else {
                "FailedCreate"
            };
            conditions.push(ReplicaSetCondition {
                type_: "ReplicaFailure".into(),
                status: "True".into(),
                reason: Some(reason.into()),
                message: Some(e.to_string()),
                last_transition_time: previous.and_then(|c| c.last_transition_time).or(Some(
                    k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(now),
                )),
            });
        }
        let status = ReplicaSetStatus {
            replicas: active.len() as i32,
            fully_labeled_replicas: Some(fully_labeled),
            ready_replicas: Some(ready),
            available_replicas: Some(available),
            observed_generation: rs.metadata.generation,
            conditions: (!conditions.is_empty()).then_some(conditions),
            terminating_replicas: old.terminating_replicas,
        };
        if same_status(&old, &status) {
            return Ok(requeue);
        }
        let api: Api<K> = Api::namespaced(
            self.cluster.client.clone(),
            &rs.namespace().unwrap_or_default(),
        );
        match api
            .replace_status(
                &rs.name_any(),
                &PostParams::default(),
                &obj.with_status(status),
            )
            .await
        {
            Ok(_) => Ok(requeue),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(e).context("updating status"),
        }
    }
}

fn same_status(a: &ReplicaSetStatus, b: &ReplicaSetStatus) -> bool {
    let zero = |v: Option<i32>| v.unwrap_or(0);
    a.replicas == b.replicas
        && zero(a.fully_labeled_replicas) == zero(b.fully_labeled_replicas)
        && zero(a.ready_replicas) == zero(b.ready_replicas)
        && zero(a.available_replicas) == zero(b.available_replicas)
        && a.observed_generation == b.observed_generation
        && a.conditions.as_deref().unwrap_or_default()
            == b.conditions.as_deref().unwrap_or_default()
}

//! The StatefulSet controller (upstream's `statefulset` controller): pods
//! with stable names `{set}-{ordinal}`, each with its own
//! PersistentVolumeClaims `{claim}-{set}-{ordinal}` from the
//! `volumeClaimTemplates`, created in ordinal order and removed in
//! reverse, one at a time waiting for Running and Ready
//! (`OrderedReady`) or all at once (`Parallel`).
//!
//! Each template is a ControllerRevision (see [`crate::history`]);
//! `status.currentRevision` is the revision pods ran before a change and
//! `status.updateRevision` the one of the current template. A
//! `RollingUpdate` replaces pods of other revisions from the highest
//! ordinal down to `partition`, one at a time and only while every pod
//! is healthy; `OnDelete` leaves replacing to whoever deletes pods.
//! `persistentVolumeClaimRetentionPolicy` is kept through the claims'
//! owner references: the set owns them when `whenDeleted: Delete`, a
//! scaled-down pod when `whenScaled: Delete` (the garbage collector then
//! deletes them).

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use k8s_openapi::api::apps::v1::{ControllerRevision, StatefulSet, StatefulSetStatus};
use k8s_openapi::api::core::v1::{
    self as api, PersistentVolumeClaim, PersistentVolumeClaimVolumeSource, PodTemplateSpec, Volume,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, ResourceExt};
use rkube_scheduler::labels::{EMPTY_LABELS, Selector};
use serde_json::json;

use crate::events::EventType;
use crate::history::{self, REVISION_HASH_LABEL};
use crate::informer::{Change, key_of};
use crate::pods::{self, controller_ref};
use crate::slim::Pod;
use crate::writes::{api_error, is_conflict, is_not_found, uid_guarded};
use crate::{Cluster, Controller, Options, Recorder, Requeue, WorkQueue};

/// The pod label with the pod's name.
pub const POD_NAME_LABEL: &str = "statefulset.kubernetes.io/pod-name";
/// The pod label with the pod's ordinal.
pub const POD_INDEX_LABEL: &str = "apps.kubernetes.io/pod-index";

/// The controller.
pub fn controller(cluster: &Arc<Cluster>, options: &Options) -> Controller {
    let queue = WorkQueue::new();
    let ssc = Arc::new(StatefulSets {
        cluster: cluster.clone(),
        recorder: Recorder::new(cluster.client.clone(), "statefulset-controller"),
    });
    cluster.stateful_sets.enqueue(&queue, |o| Some(key_of(o)));
    {
        let (queue, ssc) = (queue.clone(), ssc.clone());
        cluster.pods.on_change(move |c| ssc.pod_changed(&queue, c));
    }
    cluster
        .controller_revisions
        .enqueue(&queue, |r| pods::owner_key::<StatefulSet>(&r.metadata));
    let resync = {
        let informer = cluster.stateful_sets.clone();
        move || informer.keys()
    };
    Controller::new("statefulset", queue, options.workers, resync, move |key| {
        let ssc = ssc.clone();
        async move { ssc.sync(&key).await }
    })
}

struct StatefulSets {
    cluster: Arc<Cluster>,
    recorder: Recorder,
}

fn selector_of(set: &StatefulSet) -> Selector {
    Selector::from_label_selector(set.spec.as_ref().map(|s| &s.selector))
}

fn labels_of(pod: &Pod) -> &BTreeMap<String, String> {
    pod.metadata.labels.as_ref().unwrap_or(&EMPTY_LABELS)
}

/// The parent name and ordinal of a pod name `{parent}-{ordinal}`
/// (upstream's `getParentNameAndOrdinal`).
pub fn parent_and_ordinal(name: &str) -> Option<(&str, i32)> {
    let (parent, ord) = name.rsplit_once('-')?;
    if ord.is_empty() || !ord.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((parent, ord.parse().ok()?))
}

fn ordinal(pod: &Pod) -> Option<i32> {
    parent_and_ordinal(pod.metadata.name.as_deref().unwrap_or("")).map(|(_, o)| o)
}

fn is_member_of(set: &StatefulSet, pod: &Pod) -> bool {
    parent_and_ordinal(pod.metadata.name.as_deref().unwrap_or(""))
        .is_some_and(|(p, _)| Some(p) == set.metadata.name.as_deref())
}

fn replicas_of(set: &StatefulSet) -> i32 {
    set.spec
        .as_ref()
        .and_then(|s| s.replicas)
        .unwrap_or(1)
        .max(0)
}

fn start_ordinal(set: &StatefulSet) -> i32 {
    set.spec
        .as_ref()
        .and_then(|s| s.ordinals.as_ref())
        .and_then(|o| o.start)
        .unwrap_or(0)
        .max(0)
}

fn min_ready_seconds(set: &StatefulSet) -> i32 {
    set.spec
        .as_ref()
        .and_then(|s| s.min_ready_seconds)
        .unwrap_or(0)
}

fn strategy_type(set: &StatefulSet) -> &str {
    set.spec
        .as_ref()
        .and_then(|s| s.update_strategy.as_ref())
        .and_then(|u| u.type_.as_deref())
        .unwrap_or("RollingUpdate")
}

fn partition(set: &StatefulSet) -> Option<i32> {
    set.spec
        .as_ref()
        .and_then(|s| s.update_strategy.as_ref())
        .and_then(|u| u.rolling_update.as_ref())
        .map(|r| r.partition.unwrap_or(0))
}

fn is_parallel(set: &StatefulSet) -> bool {
    set.spec
        .as_ref()
        .and_then(|s| s.pod_management_policy.as_deref())
        == Some("Parallel")
}

/// The name of the pod with `ordinal`.
pub fn pod_name(set: &StatefulSet, ordinal: i32) -> String {
    format!("{}-{ordinal}", set.name_any())
}

/// The name of a pod's claim from template `claim` (`{claim}-{set}-{ordinal}`).
pub fn claim_name(claim: &str, set: &StatefulSet, ordinal: i32) -> String {
    format!("{claim}-{}-{ordinal}", set.name_any())
}

fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}

fn is_created(pod: &Pod) -> bool {
    !phase(pod).is_empty()
}

fn is_terminating(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_some()
}

fn is_running_and_ready(pod: &Pod) -> bool {
    phase(pod) == "Running" && pods::is_ready(pod)
}

fn is_running_and_available(pod: &Pod, min_ready: i32) -> bool {
    phase(pod) == "Running" && pods::is_available(pod, min_ready, jiff::Timestamp::now())
}

fn is_healthy(pod: &Pod) -> bool {
    is_running_and_ready(pod) && !is_terminating(pod)
}

fn pod_revision(pod: &Pod) -> &str {
    labels_of(pod)
        .get(REVISION_HASH_LABEL)
        .map(String::as_str)
        .unwrap_or("")
}

/// The claims a pod of `set` with `ordinal` uses, by template name.
fn claims_for(set: &StatefulSet, ordinal: i32) -> Vec<(String, PersistentVolumeClaim)> {
    let match_labels = set
        .spec
        .as_ref()
        .and_then(|s| s.selector.match_labels.clone())
        .unwrap_or_default();
    set.spec
        .as_ref()
        .and_then(|s| s.volume_claim_templates.clone())
        .unwrap_or_default()
        .into_iter()
        .map(|mut claim| {
            let template = claim.metadata.name.clone().unwrap_or_default();
            claim.metadata.name = Some(claim_name(&template, set, ordinal));
            claim.metadata.namespace = set.namespace();
            let labels = claim.metadata.labels.get_or_insert_with(BTreeMap::new);
            labels.extend(match_labels.clone());
            claim.metadata.resource_version = None;
            claim.metadata.uid = None;
            claim.metadata.creation_timestamp = None;
            claim.status = None;
            (template, claim)
        })
        .collect()
}

/// The pod of `set` with `ordinal` from `template` (upstream's
/// `newStatefulSetPod`): its name, hostname, subdomain, identity labels,
/// and volumes for its claims.
pub fn new_pod(
    set: &StatefulSet,
    template: &PodTemplateSpec,
    ordinal: i32,
    revision: &str,
) -> api::Pod {
    let ns = set.namespace().unwrap_or_default();
    let mut pod = pods::pod_from_template(template, &ns, String::new(), Some(pods::owner_ref(set)));
    let name = pod_name(set, ordinal);
    pod.metadata.generate_name = None;
    pod.metadata.name = Some(name.clone());
    let labels = pod.metadata.labels.get_or_insert_with(BTreeMap::new);
    labels.insert(POD_NAME_LABEL.into(), name.clone());
    labels.insert(POD_INDEX_LABEL.into(), ordinal.to_string());
    labels.insert(REVISION_HASH_LABEL.into(), revision.to_owned());
    let spec = pod.spec.get_or_insert_with(Default::default);
    spec.hostname = Some(name);
    spec.subdomain = set
        .spec
        .as_ref()
        .and_then(|s| s.service_name.clone())
        .filter(|s| !s.is_empty());
    let claims = claims_for(set, ordinal);
    let mut volumes: Vec<Volume> = claims
        .iter()
        .map(|(template, claim)| Volume {
            name: template.clone(),
            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                claim_name: claim.metadata.name.clone().unwrap_or_default(),
                read_only: None,
            }),
            ..Default::default()
        })
        .collect();
    for v in spec.volumes.take().unwrap_or_default() {
        if !claims.iter().any(|(t, _)| *t == v.name) {
            volumes.push(v);
        }
    }
    spec.volumes = (!volumes.is_empty()).then_some(volumes);
    pod
}

/// The owner references a claim should carry under the retention
/// policy: the set when `whenDeleted: Delete` (unless the pod was scaled
/// away and `whenScaled: Delete`), the pod when scaled away and
/// `whenScaled: Delete`.
fn wanted_claim_owners(set: &StatefulSet, scaled_down: bool) -> (bool, bool) {
    let policy = set
        .spec
        .as_ref()
        .and_then(|s| s.persistent_volume_claim_retention_policy.as_ref());
    let when = |f: Option<&String>| f.map(String::as_str) == Some("Delete");
    let when_deleted = when(policy.and_then(|p| p.when_deleted.as_ref()));
    let when_scaled = when(policy.and_then(|p| p.when_scaled.as_ref()));
    let pod_owns = when_scaled && scaled_down;
    let set_owns = when_deleted && !pod_owns;
    (set_owns, pod_owns)
}

fn plain_ref(api_version: &str, kind: &str, name: &str, uid: &str) -> OwnerReference {
    OwnerReference {
        api_version: api_version.into(),
        kind: kind.into(),
        name: name.into(),
        uid: uid.into(),
        controller: None,
        block_owner_deletion: None,
    }
}

impl StatefulSets {
    fn pod_changed(&self, queue: &WorkQueue, change: Change<'_, Pod>) {
        let routed = pods::route_pod_change::<StatefulSet>(change, queue, None);
        if let Some(orphan) = routed.orphan {
            pods::queue_selecting(&self.cluster.stateful_sets, queue, orphan, selector_of);
        }
        // Look again once a newly ready pod may be available.
        if routed.became_ready
            && let Some(k) = routed.owner
            && let Some(set) = self.cluster.stateful_sets.get_key(&k)
            && min_ready_seconds(&set) > 0
        {
            queue.add_after(k, Duration::from_secs(min_ready_seconds(&set) as u64 + 1));
        }
    }

    async fn sync(&self, key: &str) -> Result<Requeue> {
        let Some(set) = self.cluster.stateful_sets.get_key(key) else {
            return Ok(None);
        };
        let set = (*set).clone();
        let pods = self.claim_pods(&set).await?;
        let (current, update, collisions, revisions) = self.revisions(&set).await?;
        let mut status = self.update_set(&set, &pods, &current, &update).await;
        if let Ok(s) = status.as_mut() {
            s.collision_count = collisions;
        }
        let status = match status {
            Ok(s) => s,
            Err(e) => {
                // Still report what is known.
                let mut s = self.compute_status(&set, &pods, &current, &update);
                s.collision_count = collisions;
                let _ = self.write_status(&set, s).await;
                return Err(e);
            }
        };
        self.write_status(&set, status).await?;
        self.truncate_history(&set, &pods, &revisions, &current, &update)
            .await?;
        let min_ready = min_ready_seconds(&set);
        let waiting = pods
            .iter()
            .any(|p| is_running_and_ready(p) && !is_running_and_available(p, min_ready));
        Ok((min_ready > 0 && waiting).then(|| Duration::from_secs(min_ready as u64)))
    }

    /// Our pods: those we control and member orphans we adopt.
    async fn claim_pods(&self, set: &StatefulSet) -> Result<Vec<Arc<Pod>>> {
        let ns = set.namespace().unwrap_or_default();
        let selector = selector_of(set);
        let uid = set.uid().unwrap_or_default();
        let api: Api<Pod> = Api::namespaced(self.cluster.client.clone(), &ns);
        let mut owned = Vec::new();
        for pod in self.cluster.pods.list_namespace(&ns) {
            let matches = selector.matches(labels_of(&pod)) && is_member_of(set, &pod);
            let patch = match controller_ref(&pod.metadata) {
                Some(r) if r.uid == uid => {
                    if matches || set.metadata.deletion_timestamp.is_some() {
                        owned.push(pod);
                        continue;
                    }
                    json!({"metadata": {
                        "ownerReferences": [{"$patch": "delete", "uid": uid}],
                        "uid": pod.uid(),
                    }})
                }
                None if matches
                    && pod.metadata.deletion_timestamp.is_none()
                    && set.metadata.deletion_timestamp.is_none() =>
                {
                    json!({"metadata": {
                        "ownerReferences": [pods::owner_ref(set)],
                        "uid": pod.uid(),
                    }})
                }
                _ => continue,
            };
            let adopting = controller_ref(&pod.metadata).is_none();
            match api
                .patch(
                    &pod.name_any(),
                    &PatchParams::default(),
                    &Patch::Strategic(patch),
                )
                .await
            {
                Ok(p) if adopting => owned.push(Arc::new(p)),
                Ok(_) => {}
                Err(e) if is_not_found(&e) || is_conflict(&e) => {}
                Err(e) => return Err(e).context("claiming a pod"),
            }
        }
        Ok(owned)
    }

    /// The current and update revisions, the collision count used, and
    /// every revision (upstream's `getStatefulSetRevisions`).
    async fn revisions(
        &self,
        set: &StatefulSet,
    ) -> Result<(
        ControllerRevision,
        ControllerRevision,
        Option<i32>,
        Vec<ControllerRevision>,
    )> {
        let ns = set.namespace().unwrap_or_default();
        let owner = pods::owner_ref(set);
        let mut revs = history::claim(
            &self.cluster,
            &ns,
            &set.uid().unwrap_or_default(),
            &owner,
            &selector_of(set),
        )
        .await?;
        let template = set
            .spec
            .as_ref()
            .map(|s| s.template.clone())
            .unwrap_or_default();
        let data = history::template_patch(&template);
        let next = history::max_revision(&revs) + 1;
        let mut collisions = set.status.as_ref().and_then(|s| s.collision_count);
        let equal: Vec<usize> = (0..revs.len())
            .filter(|i| history::holds(&revs[*i], &data))
            .collect();
        let update = match equal.last() {
            Some(&i) if i + 1 == revs.len() => revs[i].clone(),
            Some(&i) => {
                // Back to an earlier template: it becomes the newest.
                let r = history::set_revision(&self.cluster, &revs[i], next).await?;
                revs[i] = r.clone();
                r
            }
            None => {
                let labels = template
                    .metadata
                    .as_ref()
                    .and_then(|m| m.labels.as_ref())
                    .unwrap_or(&EMPTY_LABELS);
                let mut created = None;
                for _ in 0..16 {
                    let hash = history::hash_revision(&data, collisions);
                    let rev = history::new_revision(
                        format!("{}-{hash}", set.name_any()),
                        &ns,
                        labels,
                        &hash,
                        owner.clone(),
                        data.clone(),
                        next,
                    );
                    if let Some(r) = history::create(&self.cluster, &rev).await? {
                        created = Some(r);
                        break;
                    }
                    collisions = Some(collisions.unwrap_or(0) + 1);
                }
                let r = created
                    .ok_or_else(|| anyhow!("too many ControllerRevision hash collisions"))?;
                revs.push(r.clone());
                r
            }
        };
        let current_name = set
            .status
            .as_ref()
            .and_then(|s| s.current_revision.clone())
            .unwrap_or_default();
        let current = revs
            .iter()
            .find(|r| r.metadata.name.as_deref() == Some(current_name.as_str()))
            .cloned()
            .unwrap_or_else(|| update.clone());
        Ok((current, update, collisions, revs))
    }

    /// Bring pods and claims towards the spec; returns the status to
    /// write (upstream's `updateStatefulSet`).
    async fn update_set(
        &self,
        set: &StatefulSet,
        pods: &[Arc<Pod>],
        current: &ControllerRevision,
        update: &ControllerRevision,
    ) -> Result<StatefulSetStatus> {
        let mut status = self.compute_status(set, pods, current, update);
        if set.metadata.deletion_timestamp.is_some() {
            return Ok(status);
        }
        let current_template = history::template_of(current).unwrap_or_default();
        let update_template = history::template_of(update).unwrap_or_default();
        let current_name = current.name_any();
        let update_name = update.name_any();
        let start = start_ordinal(set);
        let end = start + replicas_of(set);
        let monotonic = !is_parallel(set);
        let min_ready = min_ready_seconds(set);

        // Slots for the wanted ordinals, and the pods beyond them.
        let mut replicas: Vec<Option<Arc<Pod>>> = vec![None; (end - start) as usize];
        let mut condemned: Vec<Arc<Pod>> = Vec::new();
        for p in pods {
            match ordinal(p) {
                Some(o) if o >= start && o < end => {
                    replicas[(o - start) as usize] = Some(p.clone())
                }
                Some(_) => condemned.push(p.clone()),
                None => {}
            }
        }
        condemned.sort_by_key(|p| std::cmp::Reverse(ordinal(p)));
        let use_current = |o: i32| {
            strategy_type(set) == "RollingUpdate"
                && match partition(set) {
                    None => o < start + status.current_replicas.unwrap_or(0),
                    Some(p) => o < start + p,
                }
        };
        let first_unhealthy = replicas
            .iter()
            .flatten()
            .chain(condemned.iter().rev())
            .find(|p| !is_healthy(p))
            .and_then(|p| p.metadata.name.clone());

        // Every wanted pod: replace finished ones, create missing ones,
        // and (ordered) wait for each to be Running and Ready.
        for (i, slot) in replicas.iter().enumerate() {
            let o = start + i as i32;
            let Some(pod) = slot else {
                let (template, revision) = if use_current(o) {
                    (&current_template, &current_name)
                } else {
                    (&update_template, &update_name)
                };
                let pod = new_pod(set, template, o, revision);
                self.create_pod(set, &pod).await?;
                if monotonic {
                    return Ok(status);
                }
                continue;
            };
            if matches!(phase(pod), "Failed" | "Succeeded") {
                if !is_terminating(pod) {
                    self.delete_pod(set, pod).await?;
                }
                if monotonic {
                    return Ok(status);
                }
                continue;
            }
            if phase(pod) == "Pending" {
                self.create_claims(set, &pod.name_any()).await?;
            }
            if monotonic
                && (is_terminating(pod)
                    || !is_running_and_ready(pod)
                    || !is_running_and_available(pod, min_ready))
            {
                return Ok(status);
            }
            self.fix_claim_owners(set, &**pod, false).await?;
        }

        // Claims of pods about to go follow the retention policy.
        for pod in &condemned {
            self.fix_claim_owners(set, &**pod, true).await?;
        }

        // Scale down, highest ordinal first, once everything is healthy.
        for pod in &condemned {
            if is_terminating(pod) {
                if monotonic {
                    return Ok(status);
                }
                continue;
            }
            if monotonic
                && (!is_running_and_ready(pod) || !is_running_and_available(pod, min_ready))
                && first_unhealthy.as_deref() != pod.metadata.name.as_deref()
            {
                return Ok(status);
            }
            self.delete_pod(set, pod).await?;
            if monotonic {
                return Ok(status);
            }
        }

        if strategy_type(set) == "OnDelete" {
            return Ok(status);
        }
        // Rolling update: the highest ordinal not at the update revision
        // goes first; stop at an unhealthy pod or at the partition.
        let update_min = partition(set).unwrap_or(0).max(0) as usize;
        for target in (update_min..replicas.len()).rev() {
            let Some(pod) = &replicas[target] else {
                return Ok(status);
            };
            if pod_revision(pod) != update_name && !is_terminating(pod) {
                self.delete_pod(set, pod).await?;
                status.current_replicas = Some(status.current_replicas.unwrap_or(0) - 1);
                return Ok(status);
            }
            if !is_running_and_available(pod, min_ready) {
                return Ok(status);
            }
        }
        Ok(status)
    }

    /// Create a pod's claims, then the pod. Returns false when it must
    /// wait (the pod exists already, or a claim is being deleted).
    async fn create_pod(&self, set: &StatefulSet, pod: &api::Pod) -> Result<bool> {
        if !self.create_claims(set, &pod.name_any()).await? {
            return Ok(false);
        }
        let ns = set.namespace().unwrap_or_default();
        let api: Api<api::Pod> = Api::namespaced(self.cluster.client.clone(), &ns);
        let name = pod.name_any();
        match api.create(&PostParams::default(), pod).await {
            Ok(_) => {
                self.recorder.event(
                    set,
                    EventType::Normal,
                    "SuccessfulCreate",
                    format!(
                        "create Pod {name} in StatefulSet {} successful",
                        set.name_any()
                    ),
                );
                self.fix_claim_owners(set, pod, false).await?;
                Ok(true)
            }
            Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
            Err(e) => {
                self.recorder.event(
                    set,
                    EventType::Warning,
                    "FailedCreate",
                    format!(
                        "create Pod {name} in StatefulSet {} failed error: {}",
                        set.name_any(),
                        api_error(&e)
                    ),
                );
                Err(e).context("creating a pod")
            }
        }
    }

    /// Create the pod's missing claims; false when one is being deleted.
    async fn create_claims(&self, set: &StatefulSet, pod_name: &str) -> Result<bool> {
        let Some((_, o)) = parent_and_ordinal(pod_name) else {
            return Ok(true);
        };
        let ns = set.namespace().unwrap_or_default();
        let api: Api<PersistentVolumeClaim> = Api::namespaced(self.cluster.client.clone(), &ns);
        for (_, claim) in claims_for(set, o) {
            let name = claim.metadata.name.clone().unwrap_or_default();
            if let Some(existing) = self.cluster.persistent_volume_claims.get(&ns, &name) {
                if existing.metadata.deletion_timestamp.is_some() {
                    return Ok(false);
                }
                continue;
            }
            match api.create(&PostParams::default(), &claim).await {
                Ok(_) => self.recorder.event(
                    set,
                    EventType::Normal,
                    "SuccessfulCreate",
                    format!(
                        "create Claim {name} Pod {pod_name} in StatefulSet {} success",
                        set.name_any()
                    ),
                ),
                Err(kube::Error::Api(s)) if s.code == 409 => {}
                Err(e) => {
                    self.recorder.event(
                        set,
                        EventType::Warning,
                        "FailedCreate",
                        format!(
                            "create Claim {name} for Pod {pod_name} in StatefulSet {} failed error: {}",
                            set.name_any(),
                            api_error(&e)
                        ),
                    );
                    return Err(e).context("creating a PersistentVolumeClaim");
                }
            }
        }
        Ok(true)
    }

    /// Set the owner references of a pod's claims as the retention policy
    /// asks (`scaled_down`: the pod's ordinal is beyond the replicas).
    async fn fix_claim_owners(
        &self,
        set: &StatefulSet,
        pod: &impl kube::Resource,
        scaled_down: bool,
    ) -> Result<()> {
        let Some((_, o)) = parent_and_ordinal(&pod.name_any()) else {
            return Ok(());
        };
        let ns = set.namespace().unwrap_or_default();
        let api: Api<PersistentVolumeClaim> = Api::namespaced(self.cluster.client.clone(), &ns);
        let (set_owns, pod_owns) = wanted_claim_owners(set, scaled_down);
        let set_uid = set.uid().unwrap_or_default();
        // The live pod (a new pod's uid is only known once seen).
        let pod_uid = self
            .cluster
            .pods
            .get(&ns, &pod.name_any())
            .and_then(|p| p.uid())
            .or_else(|| pod.uid());
        for (_, claim) in claims_for(set, o) {
            let name = claim.metadata.name.clone().unwrap_or_default();
            let Some(existing) = self.cluster.persistent_volume_claims.get(&ns, &name) else {
                continue;
            };
            let refs = existing
                .metadata
                .owner_references
                .clone()
                .unwrap_or_default();
            let has = |uid: &str| refs.iter().any(|r| r.uid == uid);
            let mut wanted: Vec<OwnerReference> = refs
                .iter()
                .filter(|r| {
                    let ours = (r.kind == "StatefulSet" && r.uid == set_uid)
                        || (r.kind == "Pod" && r.name == pod.name_any());
                    !ours
                })
                .cloned()
                .collect();
            if set_owns {
                wanted.push(plain_ref(
                    "apps/v1",
                    "StatefulSet",
                    &set.name_any(),
                    &set_uid,
                ));
            }
            if pod_owns {
                let Some(uid) = &pod_uid else { continue };
                wanted.push(plain_ref("v1", "Pod", &pod.name_any(), uid));
            }
            let pod_has = pod_uid.as_deref().is_some_and(has)
                || refs
                    .iter()
                    .any(|r| r.kind == "Pod" && r.name == pod.name_any());
            if has(&set_uid) == set_owns && pod_has == pod_owns {
                continue;
            }
            let patch = json!({"metadata": {
                "ownerReferences": wanted,
                "resourceVersion": existing.resource_version(),
            }});
            match api
                .patch(&name, &PatchParams::default(), &Patch::Merge(patch))
                .await
            {
                Ok(_) => {}
                Err(e) if is_not_found(&e) || is_conflict(&e) => {}
                Err(e) => return Err(e).context("updating a claim's owners"),
            }
        }
        Ok(())
    }

    async fn delete_pod(&self, set: &StatefulSet, pod: &Pod) -> Result<()> {
        let ns = set.namespace().unwrap_or_default();
        let api: Api<Pod> = Api::namespaced(self.cluster.client.clone(), &ns);
        let name = pod.name_any();
        let dp = uid_guarded(pod.uid());
        match api.delete(&name, &dp).await {
            Ok(_) => {
                self.recorder.event(
                    set,
                    EventType::Normal,
                    "SuccessfulDelete",
                    format!(
                        "delete Pod {name} in StatefulSet {} successful",
                        set.name_any()
                    ),
                );
                Ok(())
            }
            Err(e) if is_not_found(&e) || is_conflict(&e) => Ok(()),
            Err(e) => {
                self.recorder.event(
                    set,
                    EventType::Warning,
                    "FailedDelete",
                    format!(
                        "delete Pod {name} in StatefulSet {} failed error: {}",
                        set.name_any(),
                        api_error(&e)
                    ),
                );
                Err(e).context("deleting a pod")
            }
        }
    }

    /// The status the pods show (upstream's `computeReplicaStatus` and
    /// `completeRollingUpdate`).
    fn compute_status(
        &self,
        set: &StatefulSet,
        pods: &[Arc<Pod>],
        current: &ControllerRevision,
        update: &ControllerRevision,
    ) -> StatefulSetStatus {
        let min_ready = min_ready_seconds(set);
        let (cur, upd) = (current.name_any(), update.name_any());
        let (mut replicas, mut ready, mut available, mut current_n, mut updated) = (0, 0, 0, 0, 0);
        for p in pods.iter().filter(|p| is_created(p)) {
            replicas += 1;
            if is_running_and_ready(p) {
                ready += 1;
                if is_running_and_available(p, min_ready) {
                    available += 1;
                }
            }
            if pod_revision(p) == cur {
                current_n += 1;
            }
            if pod_revision(p) == upd {
                updated += 1;
            }
        }
        let old = set.status.clone().unwrap_or_default();
        let mut status = StatefulSetStatus {
            replicas,
            ready_replicas: Some(ready),
            available_replicas: Some(available),
            current_replicas: Some(current_n),
            updated_replicas: Some(updated),
            current_revision: Some(cur),
            update_revision: Some(upd),
            observed_generation: set.metadata.generation,
            collision_count: old.collision_count,
            conditions: old.conditions,
        };
        if strategy_type(set) == "RollingUpdate" && updated == replicas && ready == replicas {
            status.current_replicas = status.updated_replicas;
            status.current_revision = status.update_revision.clone();
        }
        status
    }

    async fn write_status(&self, set: &StatefulSet, status: StatefulSetStatus) -> Result<()> {
        let old = set.status.clone().unwrap_or_default();
        let zero = |v: Option<i32>| v.unwrap_or(0);
        if old.replicas == status.replicas
            && zero(old.ready_replicas) == zero(status.ready_replicas)
            && zero(old.available_replicas) == zero(status.available_replicas)
            && zero(old.current_replicas) == zero(status.current_replicas)
            && zero(old.updated_replicas) == zero(status.updated_replicas)
            && old.current_revision == status.current_revision
            && old.update_revision == status.update_revision
            && old.observed_generation == status.observed_generation
            && old.collision_count == status.collision_count
        {
            return Ok(());
        }
        let api: Api<StatefulSet> = Api::namespaced(
            self.cluster.client.clone(),
            &set.namespace().unwrap_or_default(),
        );
        let mut new = set.clone();
        new.status = Some(status);
        match api
            .replace_status(&set.name_any(), &PostParams::default(), &new)
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(e).context("updating StatefulSet status"),
        }
    }

    /// Delete the oldest revisions no pod runs beyond
    /// `revisionHistoryLimit`.
    async fn truncate_history(
        &self,
        set: &StatefulSet,
        pods: &[Arc<Pod>],
        revisions: &[ControllerRevision],
        current: &ControllerRevision,
        update: &ControllerRevision,
    ) -> Result<()> {
        let mut live: HashSet<String> = pods.iter().map(|p| pod_revision(p).to_owned()).collect();
        live.insert(current.name_any());
        live.insert(update.name_any());
        let old: Vec<&ControllerRevision> = revisions
            .iter()
            .filter(|r| !live.contains(&r.name_any()))
            .collect();
        let limit = set
            .spec
            .as_ref()
            .and_then(|s| s.revision_history_limit)
            .unwrap_or(10)
            .max(0) as usize;
        let excess = old.len().saturating_sub(limit);
        for rev in old.into_iter().take(excess) {
            history::delete(&self.cluster, rev).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(extra: serde_json::Value) -> StatefulSet {
        let mut v = json!({
            "metadata": {"name": "web", "namespace": "ns", "uid": "u1"},
            "spec": {
                "serviceName": "svc",
                "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "c", "image": "i"}],
                                       "volumes": [{"name": "cfg", "emptyDir": {}}]}},
                "volumeClaimTemplates": [{"metadata": {"name": "data"},
                                          "spec": {"accessModes": ["ReadWriteOnce"]}}],
            }
        });
        if let (Some(spec), Some(extra)) = (v["spec"].as_object_mut(), extra.as_object()) {
            spec.extend(extra.clone());
        }
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn ordinals_parse_from_names() {
        assert_eq!(parent_and_ordinal("web-0"), Some(("web", 0)));
        assert_eq!(parent_and_ordinal("my-web-12"), Some(("my-web", 12)));
        assert_eq!(parent_and_ordinal("web-a"), None);
        assert_eq!(parent_and_ordinal("web"), None);
        assert_eq!(parent_and_ordinal("web-"), None);
    }

    #[test]
    fn pods_have_identity_and_claims() {
        let s = set(json!({}));
        let template = s.spec.as_ref().unwrap().template.clone();
        let pod = new_pod(&s, &template, 2, "web-abc");
        assert_eq!(pod.metadata.name.as_deref(), Some("web-2"));
        let labels = pod.metadata.labels.as_ref().unwrap();
        assert_eq!(labels[POD_NAME_LABEL], "web-2");
        assert_eq!(labels[POD_INDEX_LABEL], "2");
        assert_eq!(labels[REVISION_HASH_LABEL], "web-abc");
        let spec = pod.spec.as_ref().unwrap();
        assert_eq!(spec.hostname.as_deref(), Some("web-2"));
        assert_eq!(spec.subdomain.as_deref(), Some("svc"));
        let volumes = spec.volumes.as_ref().unwrap();
        assert_eq!(volumes.len(), 2);
        assert_eq!(volumes[0].name, "data");
        assert_eq!(
            volumes[0]
                .persistent_volume_claim
                .as_ref()
                .unwrap()
                .claim_name,
            "data-web-2"
        );
        let claims = claims_for(&s, 2);
        assert_eq!(claims[0].1.metadata.name.as_deref(), Some("data-web-2"));
        assert_eq!(claims[0].1.metadata.labels.as_ref().unwrap()["app"], "web");
    }

    #[test]
    fn retention_policy_owners() {
        let retain = set(json!({}));
        assert_eq!(wanted_claim_owners(&retain, true), (false, false));
        let both = set(json!({"persistentVolumeClaimRetentionPolicy":
            {"whenDeleted": "Delete", "whenScaled": "Delete"}}));
        assert_eq!(wanted_claim_owners(&both, false), (true, false));
        assert_eq!(wanted_claim_owners(&both, true), (false, true));
        let scaled = set(json!({"persistentVolumeClaimRetentionPolicy":
            {"whenDeleted": "Retain", "whenScaled": "Delete"}}));
        assert_eq!(wanted_claim_owners(&scaled, false), (false, false));
        assert_eq!(wanted_claim_owners(&scaled, true), (false, true));
    }
}

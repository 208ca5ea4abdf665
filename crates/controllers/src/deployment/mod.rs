//! The Deployment controller (upstream's `deployment` controller): one
//! ReplicaSet per pod template (named `{deployment}-{pod-template-hash}`),
//! rolled out with RollingUpdate (`maxSurge`/`maxUnavailable`) or
//! Recreate, revision numbers and history, proportional scaling during a
//! rollout, pause, and the Progressing/Available conditions that
//! `kubectl rollout status` reads.
//!
//! One sync reads the Deployment and its ReplicaSets from the caches and
//! takes at most one step (create the new ReplicaSet, scale one way or
//! the other); the ReplicaSets' status changes bring it back for the next.

pub mod math;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet, ReplicaSetSpec,
};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta, Time};
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, ResourceExt};
use rkube_scheduler::labels::{EMPTY_LABELS, Selector};
use serde_json::json;

use crate::events::EventType;
use crate::informer::{Change, key_of};
use crate::pods::{self, controller_ref};
use crate::writes::{api_error, is_conflict, is_not_found, uid_guarded};
use crate::{Cluster, Controller, Options, Recorder, Requeue, WorkQueue};

/// The label that ties pods and ReplicaSets to one template.
pub const HASH_LABEL: &str = "pod-template-hash";
/// A ReplicaSet's (and its Deployment's) revision.
pub const REVISION: &str = "deployment.kubernetes.io/revision";
/// Earlier revisions a ReplicaSet had (rollbacks to it).
pub const REVISION_HISTORY: &str = "deployment.kubernetes.io/revision-history";
/// The Deployment's replicas when the ReplicaSet was last sized.
pub const DESIRED_REPLICAS: &str = "deployment.kubernetes.io/desired-replicas";
/// The Deployment's replicas + maxSurge when the ReplicaSet was last sized.
pub const MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";
/// Annotations of the Deployment not copied to its ReplicaSets.
const NOT_COPIED: &[&str] = &[
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    REVISION_HISTORY,
    DESIRED_REPLICAS,
    MAX_REPLICAS,
    "deprecated.deployment.rollback.to",
];
/// Default `progressDeadlineSeconds`.
const DEFAULT_DEADLINE: i32 = 600;

/// The controller.
pub fn controller(cluster: &Arc<Cluster>, options: &Options) -> Controller {
    let queue = WorkQueue::new();
    let dc = Arc::new(Deployments {
        cluster: cluster.clone(),
        recorder: Recorder::new(cluster.client.clone(), "deployment-controller"),
    });
    cluster.deployments.enqueue(&queue, |o| Some(key_of(o)));
    {
        let (queue, dc) = (queue.clone(), dc.clone());
        cluster.replica_sets.on_change(move |c| {
            let (old, new) = match c {
                Change::Applied { old, new } => (old, new),
                Change::Deleted(old) => (None, old),
            };
            for rs in old.into_iter().chain([new]) {
                match owner_key(&rs.metadata) {
                    Some(k) => queue.add(k),
                    None => dc.queue_matching(&queue, rs),
                }
            }
        });
    }
    {
        // Recreate waits for the old pods to be gone.
        let (queue, cluster2) = (queue.clone(), cluster.clone());
        cluster.pods.on_change(move |c| {
            if let Change::Deleted(pod) = c
                && let Some(r) = controller_ref(&pod.metadata)
                && r.kind == "ReplicaSet"
                && let Some(rs) = cluster2
                    .replica_sets
                    .get(&pod.namespace().unwrap_or_default(), &r.name)
                && let Some(k) = owner_key(&rs.metadata)
            {
                queue.add(k);
            }
        });
    }
    let resync = {
        let informer = cluster.deployments.clone();
        move || informer.keys()
    };
    Controller::new("deployment", queue, options.workers, resync, move |key| {
        let dc = dc.clone();
        async move { dc.sync(&key).await }
    })
}

fn owner_key(meta: &ObjectMeta) -> Option<String> {
    pods::owner_key::<Deployment>(meta)
}

fn replicas(rs: &ReplicaSet) -> i32 {
    rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0)
}

fn available(rs: &ReplicaSet) -> i32 {
    rs.status
        .as_ref()
        .and_then(|s| s.available_replicas)
        .unwrap_or(0)
}

fn annotation<'a>(meta: &'a ObjectMeta, key: &str) -> Option<&'a str> {
    meta.annotations.as_ref()?.get(key).map(String::as_str)
}

/// A ReplicaSet's revision (0 if none).
pub fn revision(rs: &ReplicaSet) -> i64 {
    annotation(&rs.metadata, REVISION)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Whether two pod templates are the same but for the hash label.
fn same_template(a: &PodTemplateSpec, b: &PodTemplateSpec) -> bool {
    // Typed, as upstream's semantic deep equality: no serialization.
    let strip = |t: &PodTemplateSpec| {
        let mut t = t.clone();
        if let Some(m) = t.metadata.as_mut() {
            if let Some(labels) = m.labels.as_mut() {
                labels.remove(HASH_LABEL);
                if labels.is_empty() {
                    m.labels = None;
                }
            }
            if *m == ObjectMeta::default() {
                t.metadata = None;
            }
        }
        t
    };
    strip(a) == strip(b)
}

/// The `pod-template-hash` of a template: FNV-1a of its JSON and the
/// collision count, in upstream's consonant-and-digit alphabet.
pub fn template_hash(template: &PodTemplateSpec, collision_count: Option<i32>) -> String {
    let mut h: u32 = 0x811c_9dc5;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            h ^= u32::from(*b);
            h = h.wrapping_mul(0x0100_0193);
        }
    };
    feed(
        serde_json::to_string(template)
            .unwrap_or_default()
            .as_bytes(),
    );
    if let Some(c) = collision_count {
        feed(&c.to_le_bytes());
    }
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    h.to_string()
        .bytes()
        .map(|b| ALPHABET[usize::from(b) % ALPHABET.len()] as char)
        .collect()
}

struct Deployments {
    cluster: Arc<Cluster>,
    recorder: Recorder,
}

/// What one sync works with.
struct View {
    d: Arc<Deployment>,
    /// The ReplicaSet of the current template, if it exists.
    new: Option<ReplicaSet>,
    /// The others, oldest first.
    old: Vec<ReplicaSet>,
}

impl View {
    fn all(&self) -> impl Iterator<Item = &ReplicaSet> {
        self.new.iter().chain(&self.old)
    }
    fn desired(&self) -> i32 {
        self.d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
    }
    fn fenceposts(&self) -> (i32, i32) {
        let ru = self
            .d
            .spec
            .as_ref()
            .and_then(|s| s.strategy.as_ref())
            .and_then(|s| s.rolling_update.as_ref());
        if self.is_recreate() {
            return (0, 0);
        }
        math::fenceposts(
            ru.and_then(|r| r.max_surge.as_ref()),
            ru.and_then(|r| r.max_unavailable.as_ref()),
            self.desired(),
        )
    }
    fn is_recreate(&self) -> bool {
        self.d
            .spec
            .as_ref()
            .and_then(|s| s.strategy.as_ref())
            .and_then(|s| s.type_.as_deref())
            == Some("Recreate")
    }
    fn all_pods(&self) -> i32 {
        self.all().map(replicas).sum()
    }
}

impl Deployments {
    fn queue_matching(&self, queue: &WorkQueue, rs: &ReplicaSet) {
        let ns = rs.namespace().unwrap_or_default();
        let labels = rs.metadata.labels.as_ref().unwrap_or(&EMPTY_LABELS);
        for d in self.cluster.deployments.list_namespace(&ns) {
            if Selector::from_label_selector(d.spec.as_ref().map(|s| &s.selector)).matches(labels) {
                queue.add(key_of(&*d));
            }
        }
    }

    fn rs_api(&self, ns: &str) -> Api<ReplicaSet> {
        Api::namespaced(self.cluster.client.clone(), ns)
    }

    async fn sync(&self, key: &str) -> Result<Requeue> {
        let Some(d) = self.cluster.deployments.get_key(key) else {
            return Ok(None);
        };
        let selector = d.spec.as_ref().map(|s| &s.selector);
        if selector.is_none_or(|s| s.match_labels.is_none() && s.match_expressions.is_none()) {
            self.recorder.event(
                &*d,
                EventType::Warning,
                "SelectingAll",
                "This deployment is selecting all pods. A non-empty selector is required.",
            );
            return Ok(None);
        }
        let rss = self.claim(&d).await?;
        let template = d
            .spec
            .as_ref()
            .map(|s| s.template.clone())
            .unwrap_or_default();
        let (mut new, mut old): (Vec<ReplicaSet>, Vec<ReplicaSet>) =
            rss.into_iter().partition(|rs| {
                rs.spec
                    .as_ref()
                    .and_then(|s| s.template.as_ref())
                    .is_some_and(|t| same_template(t, &template))
            });
        // Should two match, the oldest is the new one (as upstream).
        new.sort_by_key(|rs| rs.metadata.creation_timestamp.as_ref().map(|t| t.0));
        let extra: Vec<ReplicaSet> = new.drain(1.min(new.len())..).collect();
        old.extend(extra);
        old.sort_by(|a, b| {
            a.metadata
                .creation_timestamp
                .as_ref()
                .map(|t| t.0)
                .cmp(&b.metadata.creation_timestamp.as_ref().map(|t| t.0))
                .then_with(|| a.name_any().cmp(&b.name_any()))
        });
        let mut view = View {
            d: d.clone(),
            new: new.into_iter().next(),
            old,
        };
        let spec = d.spec.clone().unwrap_or_default();

        if d.metadata.deletion_timestamp.is_some() {
            return self.sync_status(&view, None).await;
        }
        if spec.paused == Some(true) {
            self.scale(&mut view).await?;
            self.cleanup(&view).await?;
            return self.sync_status(&view, None).await;
        }
        let mut progress_reason = None;
        if view.new.is_none() {
            progress_reason = self.create_new(&mut view).await?;
            if progress_reason.is_none() {
                // Collision: try again with the new count.
                return Ok(Some(Duration::from_millis(10)));
            }
        } else {
            self.refresh_new(&mut view).await?;
        }
        if self.is_scaling_event(&view) {
            self.scale(&mut view).await?;
            return self.sync_status(&view, progress_reason).await;
        }
        if view.is_recreate() {
            self.recreate(&mut view).await?;
        } else {
            self.rolling(&mut view).await?;
        }
        if self.complete(&view) {
            self.cleanup(&view).await?;
        }
        self.sync_status(&view, progress_reason).await
    }

    /// The ReplicaSets this Deployment controls, adopting matching orphans
    /// and releasing ones that stopped matching.
    async fn claim(&self, d: &Deployment) -> Result<Vec<ReplicaSet>> {
        let ns = d.namespace().unwrap_or_default();
        let uid = d.uid().unwrap_or_default();
        let selector = Selector::from_label_selector(d.spec.as_ref().map(|s| &s.selector));
        let api = self.rs_api(&ns);
        let mut owned = Vec::new();
        for rs in self.cluster.replica_sets.list_namespace(&ns) {
            let matches = selector.matches(rs.metadata.labels.as_ref().unwrap_or(&EMPTY_LABELS));
            match controller_ref(&rs.metadata) {
                Some(r) if r.uid == uid => {
                    if matches || d.metadata.deletion_timestamp.is_some() {
                        owned.push((*rs).clone());
                    } else {
                        let patch = json!({"metadata": {
                            "ownerReferences": [{"$patch": "delete", "uid": uid}],
                            "uid": rs.uid()}});
                        ignore_gone(
                            api.patch(
                                &rs.name_any(),
                                &PatchParams::default(),
                                &Patch::Strategic(patch),
                            )
                            .await,
                        )?;
                    }
                }
                Some(_) => {}
                None if matches
                    && rs.metadata.deletion_timestamp.is_none()
                    && d.metadata.deletion_timestamp.is_none() =>
                {
                    let patch = json!({"metadata": {
                        "ownerReferences": [pods::owner_ref(d)],
                        "uid": rs.uid()}});
                    if let Some(rs) = ignore_gone(
                        api.patch(
                            &rs.name_any(),
                            &PatchParams::default(),
                            &Patch::Strategic(patch),
                        )
                        .await,
                    )? {
                        owned.push(rs);
                    }
                }
                None => {}
            }
        }
        Ok(owned)
    }

    fn max_old_revision(&self, view: &View) -> i64 {
        view.old.iter().map(revision).max().unwrap_or(0)
    }

    /// Create the ReplicaSet of the current template. Returns the
    /// Progressing reason to report, or None after a hash collision.
    async fn create_new(&self, view: &mut View) -> Result<Option<&'static str>> {
        let d = &view.d;
        let ns = d.namespace().unwrap_or_default();
        let spec = d.spec.clone().unwrap_or_default();
        let collision = d.status.as_ref().and_then(|s| s.collision_count);
        let hash = template_hash(&spec.template, collision);
        let mut template = spec.template.clone();
        let tm = template.metadata.get_or_insert_with(Default::default);
        tm.labels
            .get_or_insert_with(Default::default)
            .insert(HASH_LABEL.into(), hash.clone());
        let mut selector: LabelSelector = spec.selector.clone();
        selector
            .match_labels
            .get_or_insert_with(Default::default)
            .insert(HASH_LABEL.into(), hash.clone());
        let (surge, _) = view.fenceposts();
        let desired = view.desired();
        let size = if view.is_recreate() {
            // Recreate scales up once the old pods are gone.
            if view.old.iter().any(|rs| replicas(rs) > 0) {
                0
            } else {
                desired
            }
        } else {
            math::new_rs_size(desired, surge, view.all_pods(), 0)
        };
        let mut annotations = copied_annotations(d);
        annotations.insert(
            REVISION.into(),
            (self.max_old_revision(view) + 1).to_string(),
        );
        annotations.insert(DESIRED_REPLICAS.into(), desired.to_string());
        annotations.insert(MAX_REPLICAS.into(), (desired + surge).to_string());
        let rs = ReplicaSet {
            metadata: ObjectMeta {
                name: Some(format!("{}-{hash}", d.name_any())),
                namespace: Some(ns.clone()),
                labels: template.metadata.as_ref().and_then(|m| m.labels.clone()),
                annotations: Some(annotations),
                owner_references: Some(vec![pods::owner_ref(&**d)]),
                ..Default::default()
            },
            spec: Some(ReplicaSetSpec {
                replicas: Some(size),
                min_ready_seconds: spec.min_ready_seconds,
                selector,
                template: Some(template),
            }),
            status: None,
        };
        let api = self.rs_api(&ns);
        match api.create(&PostParams::default(), &rs).await {
            Ok(created) => {
                if size > 0 {
                    self.recorder.event(
                        &**d,
                        EventType::Normal,
                        "ScalingReplicaSet",
                        format!(
                            "Scaled up replica set {} to {size} from 0",
                            created.name_any()
                        ),
                    );
                }
                self.set_deployment_revision(d, revision(&created)).await?;
                view.new = Some(created);
                Ok(Some("NewReplicaSetCreated"))
            }
            Err(e) if matches!(&e, kube::Error::Api(s) if s.code == 409) => {
                // The name is taken: ours (a stale cache), or a collision.
                if let Some(existing) = self.cluster.replica_sets.get(&ns, &rs.name_any())
                    && controller_ref(&existing.metadata)
                        .is_some_and(|r| Some(&r.uid) == d.uid().as_ref())
                    && existing
                        .spec
                        .as_ref()
                        .and_then(|s| s.template.as_ref())
                        .is_some_and(|t| same_template(t, &spec.template))
                {
                    view.new = Some((*existing).clone());
                    return Ok(Some("FoundNewReplicaSet"));
                }
                let mut status = d.status.clone().unwrap_or_default();
                status.collision_count = Some(collision.unwrap_or(0) + 1);
                self.write_status(d, status).await?;
                Ok(None)
            }
            Err(e) => {
                self.recorder.event(
                    &**d,
                    EventType::Warning,
                    "FailedCreate",
                    format!(
                        "Failed to create new replica set {:?}: {}",
                        rs.name_any(),
                        api_error(&e)
                    ),
                );
                Err(e).context("creating the new ReplicaSet")
            }
        }
    }

    /// Keep the new ReplicaSet's revision (a rollback to an old template
    /// makes it the newest), annotations and minReadySeconds current.
    async fn refresh_new(&self, view: &mut View) -> Result<()> {
        let max_old = self.max_old_revision(view);
        let d = view.d.clone();
        let Some(new) = view.new.as_mut() else {
            return Ok(());
        };
        let mut annotations = new.metadata.annotations.clone().unwrap_or_default();
        let before = annotations.clone();
        let current = revision(new);
        if current <= max_old {
            let next = max_old + 1;
            if current > 0 {
                let mut history: Vec<String> = annotations
                    .get(REVISION_HISTORY)
                    .map(|h| h.split(',').map(str::to_owned).collect())
                    .unwrap_or_default();
                history.push(current.to_string());
                annotations.insert(REVISION_HISTORY.into(), history.join(","));
            }
            annotations.insert(REVISION.into(), next.to_string());
        }
        for (k, v) in copied_annotations(&d) {
            annotations.insert(k, v);
        }
        let min_ready = d.spec.as_ref().and_then(|s| s.min_ready_seconds);
        let rs_min_ready = new.spec.as_ref().and_then(|s| s.min_ready_seconds);
        if annotations != before || min_ready.unwrap_or(0) != rs_min_ready.unwrap_or(0) {
            let patch = json!({
                "metadata": {"annotations": annotations},
                "spec": {"minReadySeconds": min_ready.unwrap_or(0)},
            });
            if let Some(updated) = ignore_gone(
                self.rs_api(&new.namespace().unwrap_or_default())
                    .patch(
                        &new.name_any(),
                        &PatchParams::default(),
                        &Patch::Merge(patch),
                    )
                    .await,
            )? {
                *new = updated;
            }
        }
        let rev = revision(new);
        if annotation(&d.metadata, REVISION) != Some(rev.to_string().as_str()) {
            self.set_deployment_revision(&d, rev).await?;
        }
        Ok(())
    }

    /// The Deployment's revision annotation, written through the status
    /// subresource as upstream does (so that it does not count as a change
    /// of the Deployment: no new generation).
    async fn set_deployment_revision(&self, d: &Deployment, rev: i64) -> Result<()> {
        let api: Api<Deployment> = Api::namespaced(
            self.cluster.client.clone(),
            &d.namespace().unwrap_or_default(),
        );
        let patch = json!({"metadata": {"annotations": {REVISION: rev.to_string()}}});
        ignore_gone(
            api.patch_status(&d.name_any(), &PatchParams::default(), &Patch::Merge(patch))
                .await,
        )?;
        Ok(())
    }

    /// Whether the Deployment's size changed since its active ReplicaSets
    /// were sized (their desired-replicas annotation).
    fn is_scaling_event(&self, view: &View) -> bool {
        let desired = view.desired().to_string();
        view.all()
            .filter(|rs| replicas(rs) > 0)
            .any(|rs| annotation(&rs.metadata, DESIRED_REPLICAS) != Some(desired.as_str()))
    }

    /// Resize to the Deployment's replicas: the one active ReplicaSet
    /// takes them all, else they are shared out in proportion (upstream's
    /// `scale`).
    async fn scale(&self, view: &mut View) -> Result<()> {
        let desired = view.desired();
        let (surge, _) = view.fenceposts();
        let active: Vec<usize> = (0..view.old.len())
            .filter(|i| replicas(&view.old[*i]) > 0)
            .collect();
        let new_active = view.new.as_ref().is_some_and(|rs| replicas(rs) > 0);
        if active.len() + usize::from(new_active) <= 1 {
            // One (or no) active ReplicaSet: it takes the full count.
            if new_active || active.is_empty() {
                if let Some(mut rs) = view.new.take() {
                    self.scale_rs(&view.d, &mut rs, desired, desired + surge)
                        .await?;
                    view.new = Some(rs);
                }
            } else {
                let i = active[0];
                let mut rs = view.old[i].clone();
                self.scale_rs(&view.d, &mut rs, desired, desired + surge)
                    .await?;
                view.old[i] = rs;
            }
            return Ok(());
        }
        // The new ReplicaSet saturated: the old ones go.
        if let Some(new) = &view.new
            && replicas(new) == desired
            && available(new) == desired
        {
            for i in active {
                let mut rs = view.old[i].clone();
                self.scale_rs(&view.d, &mut rs, 0, desired + surge).await?;
                view.old[i] = rs;
            }
            return Ok(());
        }
        if view.is_recreate() {
            return Ok(());
        }
        // Proportional scaling: share what the allowed size gained or lost.
        let allowed = desired + surge;
        let total: i32 = view.all_pods();
        let mut to_add = allowed - total;
        if to_add == 0 {
            return Ok(());
        }
        let mut sizes: Vec<(bool, usize, i32)> = Vec::new(); // (is_new, index, new size)
        let mut entries: Vec<(bool, usize, &ReplicaSet)> = Vec::new();
        if let Some(n) = &view.new {
            entries.push((true, 0, n));
        }
        entries.extend(view.old.iter().enumerate().map(|(i, r)| (false, i, r)));
        // Largest first (newer first among equals), as upstream sorts.
        entries.sort_by(|a, b| replicas(b.2).cmp(&replicas(a.2)).then(b.0.cmp(&a.0)));
        let annotated = |rs: &ReplicaSet| {
            annotation(&rs.metadata, MAX_REPLICAS)
                .and_then(|v| v.parse().ok())
                .unwrap_or(total)
        };
        for (is_new, i, rs) in &entries {
            let share = if to_add == 0 {
                0
            } else {
                let f = math::fraction(replicas(rs), desired, surge, annotated(rs));
                if to_add > 0 {
                    f.min(to_add)
                } else {
                    f.max(to_add)
                }
            };
            to_add -= share;
            sizes.push((*is_new, *i, (replicas(rs) + share).max(0)));
        }
        // Leftovers go to the largest.
        if to_add != 0
            && let Some(first) = sizes.first_mut()
        {
            first.2 = (first.2 + to_add).max(0);
        }
        for (is_new, i, size) in sizes {
            let mut rs = if is_new {
                view.new.clone().unwrap_or_default()
            } else {
                view.old[i].clone()
            };
            self.scale_rs(&view.d, &mut rs, size, allowed).await?;
            if is_new {
                view.new = Some(rs);
            } else {
                view.old[i] = rs;
            }
        }
        Ok(())
    }

    /// Set a ReplicaSet's replicas (and its sizing annotations); records
    /// `ScalingReplicaSet` when the size changes.
    async fn scale_rs(
        &self,
        d: &Deployment,
        rs: &mut ReplicaSet,
        size: i32,
        max: i32,
    ) -> Result<()> {
        let old = replicas(rs);
        let desired = d
            .spec
            .as_ref()
            .and_then(|s| s.replicas)
            .unwrap_or(1)
            .to_string();
        let max = max.to_string();
        if old == size
            && annotation(&rs.metadata, DESIRED_REPLICAS) == Some(desired.as_str())
            && annotation(&rs.metadata, MAX_REPLICAS) == Some(max.as_str())
        {
            return Ok(());
        }
        let patch = json!({
            "metadata": {
                "annotations": {DESIRED_REPLICAS: desired, MAX_REPLICAS: max},
                "resourceVersion": rs.resource_version(),
            },
            "spec": {"replicas": size},
        });
        let api = self.rs_api(&rs.namespace().unwrap_or_default());
        let updated = api
            .patch(
                &rs.name_any(),
                &PatchParams::default(),
                &Patch::Merge(patch),
            )
            .await
            .context("scaling a ReplicaSet")?;
        if old != size {
            let verb = if size > old { "up" } else { "down" };
            self.recorder.event(
                d,
                EventType::Normal,
                "ScalingReplicaSet",
                format!(
                    "Scaled {verb} replica set {} to {size} from {old}",
                    rs.name_any()
                ),
            );
        }
        *rs = updated;
        Ok(())
    }

    /// One RollingUpdate step: grow the new ReplicaSet within the surge,
    /// shrink old ones while enough pods stay available.
    async fn rolling(&self, view: &mut View) -> Result<()> {
        let desired = view.desired();
        let (surge, unavailable) = view.fenceposts();
        if let Some(mut new) = view.new.take() {
            let target = if replicas(&new) > desired {
                desired
            } else {
                math::new_rs_size(desired, surge, view.all_pods(), replicas(&new))
            };
            let result = self
                .scale_rs(&view.d, &mut new, target, desired + surge)
                .await;
            view.new = Some(new);
            result?;
        }
        let old_pods: i32 = view.old.iter().map(replicas).sum();
        if old_pods == 0 {
            return Ok(());
        }
        let (new_replicas, new_available) = view
            .new
            .as_ref()
            .map_or((0, 0), |n| (replicas(n), available(n)));
        let mut budget = math::max_scaled_down(
            desired,
            unavailable,
            view.all_pods(),
            new_replicas,
            new_available,
        );
        if budget <= 0 {
            return Ok(());
        }
        // Unhealthy old pods go first, then available ones while enough
        // stay available.
        for i in 0..view.old.len() {
            if budget <= 0 {
                break;
            }
            let rs = &view.old[i];
            let unhealthy = replicas(rs) - available(rs);
            if unhealthy <= 0 {
                continue;
            }
            let cut = unhealthy.min(budget);
            let size = replicas(rs) - cut;
            let mut rs = rs.clone();
            self.scale_rs(&view.d, &mut rs, size, desired + surge)
                .await?;
            view.old[i] = rs;
            budget -= cut;
        }
        let min_available = desired - unavailable;
        let available_now: i32 = view.all().map(available).sum();
        let mut to_remove = (available_now - min_available).min(budget);
        for i in 0..view.old.len() {
            if to_remove <= 0 {
                break;
            }
            let rs = &view.old[i];
            if replicas(rs) == 0 {
                continue;
            }
            let cut = replicas(rs).min(to_remove);
            let size = replicas(rs) - cut;
            let mut rs = rs.clone();
            self.scale_rs(&view.d, &mut rs, size, desired + surge)
                .await?;
            view.old[i] = rs;
            to_remove -= cut;
        }
        Ok(())
    }

    /// Recreate: old ReplicaSets to zero, wait for their pods to be gone,
    /// then the new one to full size.
    async fn recreate(&self, view: &mut View) -> Result<()> {
        let desired = view.desired();
        for i in 0..view.old.len() {
            if replicas(&view.old[i]) > 0 {
                let mut rs = view.old[i].clone();
                self.scale_rs(&view.d, &mut rs, 0, desired).await?;
                view.old[i] = rs;
            }
        }
        let ns = view.d.namespace().unwrap_or_default();
        let old_uids: Vec<String> = view.old.iter().filter_map(|r| r.uid()).collect();
        let old_pods_left = old_uids.iter().any(|uid| {
            self.cluster
                .pods
                .controlled_by(&ns, uid)
                .iter()
                .any(|p| !pods::is_terminal(p))
        });
        if old_pods_left {
            return Ok(());
        }
        if let Some(mut new) = view.new.take() {
            let result = self.scale_rs(&view.d, &mut new, desired, desired).await;
            view.new = Some(new);
            result?;
        }
        Ok(())
    }

    /// Whether every replica is updated and available.
    fn complete(&self, view: &View) -> bool {
        let desired = view.desired();
        let s = compute_status(view);
        s.updated_replicas == Some(desired)
            && s.replicas == Some(desired)
            && s.available_replicas == Some(desired)
    }

    /// Delete old, empty ReplicaSets beyond `revisionHistoryLimit`.
    async fn cleanup(&self, view: &View) -> Result<()> {
        let limit = view
            .d
            .spec
            .as_ref()
            .and_then(|s| s.revision_history_limit)
            .unwrap_or(10)
            .max(0) as usize;
        let mut empty: Vec<&ReplicaSet> = view
            .old
            .iter()
            .filter(|rs| {
                replicas(rs) == 0
                    && rs.status.as_ref().map_or(0, |s| s.replicas) == 0
                    && rs.metadata.deletion_timestamp.is_none()
            })
            .collect();
        if empty.len() <= limit {
            return Ok(());
        }
        empty.sort_by_key(|rs| revision(rs));
        let n = empty.len() - limit;
        for rs in &empty[..n] {
            let dp = uid_guarded(rs.uid());
            ignore_gone(
                self.rs_api(&rs.namespace().unwrap_or_default())
                    .delete(&rs.name_any(), &dp)
                    .await
                    .map(|_| ()),
            )?;
        }
        Ok(())
    }

    /// Write the status and conditions; returns when to look again (the
    /// progress deadline).
    async fn sync_status(&self, view: &View, progress: Option<&'static str>) -> Result<Requeue> {
        let d = &view.d;
        let mut status = compute_status(view);
        let old = d.status.clone().unwrap_or_default();
        status.collision_count = old.collision_count;
        let now = jiff::Timestamp::now();
        let mut conditions = old.conditions.clone().unwrap_or_default();
        let desired = view.desired();
        let (_, unavailable) = view.fenceposts();
        let available = status.available_replicas.unwrap_or(0);
        if available >= desired - unavailable {
            set_condition(
                &mut conditions,
                "Available",
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
                now,
            );
        } else {
            set_condition(
                &mut conditions,
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
                now,
            );
        }
        let spec = d.spec.clone().unwrap_or_default();
        let new_name = view.new.as_ref().map(|n| n.name_any()).unwrap_or_default();
        let mut requeue = None;
        let current = conditions
            .iter()
            .find(|c| c.type_ == "Progressing")
            .cloned();
        if spec.paused == Some(true) {
            if current.as_ref().and_then(|c| c.reason.as_deref()) != Some("DeploymentPaused") {
                set_condition(
                    &mut conditions,
                    "Progressing",
                    "Unknown",
                    "DeploymentPaused",
                    "Deployment is paused",
                    now,
                );
            }
        } else if current.as_ref().and_then(|c| c.reason.as_deref()) == Some("DeploymentPaused") {
            set_condition(
                &mut conditions,
                "Progressing",
                "Unknown",
                "DeploymentResumed",
                "Deployment is resumed",
                now,
            );
        } else if self.complete(view) {
            set_condition(
                &mut conditions,
                "Progressing",
                "True",
                "NewReplicaSetAvailable",
                &format!("ReplicaSet {new_name:?} has successfully progressed."),
                now,
            );
        } else if let Some(reason) = progress {
            let message = match reason {
                "NewReplicaSetCreated" => format!("Created new replica set {new_name:?}"),
                _ => format!("Found new replica set {new_name:?}"),
            };
            set_condition(
                &mut conditions,
                "Progressing",
                "True",
                reason,
                &message,
                now,
            );
        } else if progressed(&old, &status) || current.is_none() {
            set_condition(
                &mut conditions,
                "Progressing",
                "True",
                "ReplicaSetUpdated",
                &format!("ReplicaSet {new_name:?} is progressing."),
                now,
            );
        }
        // Timed out? (Never while paused or complete.)
        if spec.paused != Some(true) && !self.complete(view) {
            let deadline = i64::from(spec.progress_deadline_seconds.unwrap_or(DEFAULT_DEADLINE));
            if let Some(c) = conditions.iter().find(|c| c.type_ == "Progressing")
                && c.status == "True"
                && let Some(since) = c.last_update_time.as_ref().map(|t| t.0)
            {
                let elapsed = now.duration_since(since).as_secs();
                if elapsed >= deadline {
                    set_condition(
                        &mut conditions,
                        "Progressing",
                        "False",
                        "ProgressDeadlineExceeded",
                        &format!("ReplicaSet {new_name:?} has timed out progressing."),
                        now,
                    );
                } else {
                    requeue = Some(Duration::from_secs((deadline - elapsed).max(1) as u64));
                }
            }
        }
        status.conditions = Some(conditions);
        if same_status(&old, &status) {
            return Ok(requeue);
        }
        self.write_status(d, status).await?;
        Ok(requeue)
    }

    async fn write_status(&self, d: &Deployment, status: DeploymentStatus) -> Result<()> {
        let api: Api<Deployment> = Api::namespaced(
            self.cluster.client.clone(),
            &d.namespace().unwrap_or_default(),
        );
        let mut new = d.clone();
        new.status = Some(status);
        match api
            .replace_status(&d.name_any(), &PostParams::default(), &new)
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) if is_conflict(&e) => Err(e).context("stale Deployment (will retry)"),
            Err(e) => Err(e).context("updating Deployment status"),
        }
    }
}

/// The annotations of a Deployment its ReplicaSets carry (change-cause
/// and the user's own).
fn copied_annotations(d: &Deployment) -> BTreeMap<String, String> {
    d.metadata
        .annotations
        .iter()
        .flatten()
        .filter(|(k, _)| !NOT_COPIED.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn compute_status(view: &View) -> DeploymentStatus {
    let sum = |f: fn(&ReplicaSet) -> i32| view.all().map(f).sum::<i32>();
    let status_replicas = |rs: &ReplicaSet| rs.status.as_ref().map_or(0, |s| s.replicas);
    let ready = |rs: &ReplicaSet| {
        rs.status
            .as_ref()
            .and_then(|s| s.ready_replicas)
            .unwrap_or(0)
    };
    let total = sum(status_replicas);
    let available_replicas = sum(available);
    DeploymentStatus {
        observed_generation: view.d.metadata.generation,
        replicas: Some(total),
        updated_replicas: Some(view.new.as_ref().map_or(0, status_replicas)),
        ready_replicas: Some(sum(ready)),
        available_replicas: Some(available_replicas),
        unavailable_replicas: Some((view.desired() - available_replicas).max(0)),
        ..Default::default()
    }
}

/// Whether the rollout moved since the last status (upstream's
/// `DeploymentProgressing`).
fn progressed(old: &DeploymentStatus, new: &DeploymentStatus) -> bool {
    let z = |v: Option<i32>| v.unwrap_or(0);
    let old_old = z(old.replicas) - z(old.updated_replicas);
    let new_old = z(new.replicas) - z(new.updated_replicas);
    z(new.updated_replicas) > z(old.updated_replicas)
        || new_old < old_old
        || z(new.ready_replicas) > z(old.ready_replicas)
        || z(new.available_replicas) > z(old.available_replicas)
}

fn set_condition(
    conditions: &mut Vec<DeploymentCondition>,
    type_: &str,
    status: &str,
    reason: &str,
    message: &str,
    now: jiff::Timestamp,
) {
    let existing = conditions.iter().position(|c| c.type_ == type_);
    if let Some(i) = existing {
        let c = &mut conditions[i];
        if c.status == status
            && c.reason.as_deref() == Some(reason)
            && c.message.as_deref() == Some(message)
        {
            return;
        }
        // The transition time moves only when the status does.
        if c.status != status {
            c.last_transition_time = Some(Time(now));
        }
        c.status = status.into();
        c.reason = Some(reason.into());
        c.message = Some(message.into());
        c.last_update_time = Some(Time(now));
        return;
    }
    conditions.push(DeploymentCondition {
        type_: type_.into(),
        status: status.into(),
        reason: Some(reason.into()),
        message: Some(message.into()),
        last_update_time: Some(Time(now)),
        last_transition_time: Some(Time(now)),
    });
}

fn same_status(a: &DeploymentStatus, b: &DeploymentStatus) -> bool {
    let z = |v: Option<i32>| v.unwrap_or(0);
    a.observed_generation == b.observed_generation
        && z(a.replicas) == z(b.replicas)
        && z(a.updated_replicas) == z(b.updated_replicas)
        && z(a.ready_replicas) == z(b.ready_replicas)
        && z(a.available_replicas) == z(b.available_replicas)
        && z(a.unavailable_replicas) == z(b.unavailable_replicas)
        && a.collision_count == b.collision_count
        && a.conditions == b.conditions
}

/// Ok(None) for a 404 or 409 (the object is gone or changed: the next
/// sync sees the news), the value otherwise.
fn ignore_gone<T>(r: kube::Result<T>) -> Result<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if is_not_found(&e) || is_conflict(&e) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(image: &str) -> PodTemplateSpec {
        serde_json::from_value(json!({
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "c", "image": image}]}
        }))
        .unwrap()
    }

    #[test]
    fn templates_compare_without_the_hash_label() {
        let a = template("nginx");
        let mut b = a.clone();
        b.metadata
            .as_mut()
            .unwrap()
            .labels
            .as_mut()
            .unwrap()
            .insert(HASH_LABEL.into(), "abc".into());
        assert!(same_template(&a, &b));
        assert!(!same_template(&a, &template("httpd")));
    }

    #[test]
    fn the_hash_is_stable_and_changes_with_the_template_and_collisions() {
        let a = template("nginx");
        assert_eq!(template_hash(&a, None), template_hash(&a.clone(), None));
        assert_ne!(
            template_hash(&a, None),
            template_hash(&template("httpd"), None)
        );
        assert_ne!(template_hash(&a, None), template_hash(&a, Some(1)));
        assert!(
            template_hash(&a, None)
                .chars()
                .all(|c| "bcdfghjklmnpqrstvwxz2456789".contains(c))
        );
    }
}

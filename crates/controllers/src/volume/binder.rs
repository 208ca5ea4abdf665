//! The PersistentVolume controller (upstream's `persistentvolume-binder`):
//! binds claims to volumes and keeps both sides of a binding and their
//! phases consistent.
//!
//! A binding is two pointers, `pv.spec.claimRef` (written first) and
//! `pvc.spec.volumeName`, plus phases in both statuses; every step is one
//! write guarded by the object's resourceVersion, so a sync that lost a
//! race fails with a conflict and is retried on fresher objects. Claims
//! (`pvc:namespace/name`) and volumes (`pv:name`) share one queue worked
//! by a single worker, as upstream's (a binding is not reentrant: two
//! concurrent syncs could pick the same volume).
//!
//! - An unbound claim (no `pv.kubernetes.io/bind-completed`) that names
//!   no volume takes the best match ([`find_best_match`]); failing that, a
//!   claim without a class gets the default StorageClass (upstream's
//!   retroactive default class: rkube has no DefaultStorageClass
//!   admission, so this is how a claim created without a class gets
//!   `local-path`); a `WaitForFirstConsumer` claim waits for a pod; a claim
//!   with a class is handed to the class' external provisioner
//!   (`volume.kubernetes.io/storage-provisioner`, `ExternalProvisioning`);
//!   a claim with no class stays Pending (`FailedBinding`).
//! - `WaitForFirstConsumer`: upstream's scheduler (VolumeBinding) binds
//!   or selects a node for such claims before it binds the pod. rkube's
//!   scheduler does not, so once a pod using the claim has a node, the
//!   binder binds a static volume usable on that node, or sets
//!   `volume.kubernetes.io/selected-node` for the provisioner.
//! - A claim that names a volume is bound to it if the volume is free
//!   and fits (else `VolumeMismatch`), or waits for it.
//! - A volume whose claim is gone is Released and its reclaim policy
//!   applied: Retain keeps it; Delete is left to the provisioner that made
//!   it (rkube has no in-tree deleters: other volumes fail with
//!   `VolumeFailedDelete`), Recycle fails (no recycler).

use std::sync::Arc;

use anyhow::{Context, Result, bail};
use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use k8s_openapi::api::storage::v1::StorageClass;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::PostParams;
use kube::{Api, ResourceExt};
use rkube_api::quantity::Quantity;

use super::matching::{
    ANN_BETA_IS_DEFAULT_CLASS, ANN_BETA_STORAGE_PROVISIONER, ANN_BIND_COMPLETED,
    ANN_BOUND_BY_CONTROLLER, ANN_DYNAMICALLY_PROVISIONED, ANN_IS_DEFAULT_CLASS, ANN_SELECTED_NODE,
    ANN_STORAGE_PROVISIONER, NO_PROVISIONER, NodeRef, check_volume_satisfies_claim, claim_class,
    claim_has_class, claim_reference, find_best_match, is_volume_bound_to_claim,
    volume_mode_mismatch,
};
use super::{Announcer, claim_key, volume_key};
use crate::events::EventType;
use crate::informer::{Change, split_key};
use crate::pods::is_terminal;
use crate::slim::Pod;
use crate::writes::{api_error, is_conflict};
use crate::{Cluster, Controller, Options, Recorder, Requeue, WorkQueue};

/// The component its events come from.
pub const COMPONENT: &str = "persistentvolume-controller";

/// The binder; its keys are `pvc:namespace/name` and `pv:name`.
pub fn controller(cluster: &Arc<Cluster>, _options: &Options) -> Controller {
    let queue = WorkQueue::new();
    let binder = Arc::new(Binder {
        cluster: cluster.clone(),
        events: Announcer::new(Recorder::new(cluster.client.clone(), COMPONENT)),
        queue: queue.clone(),
    });
    {
        let binder = binder.clone();
        cluster
            .persistent_volume_claims
            .on_change(move |c| match c {
                Change::Applied { new, .. } => {
                    binder.queue.add(claim_key_of(new));
                    if let Some(v) = volume_name(new) {
                        binder.queue.add(volume_key(v));
                    }
                }
                Change::Deleted(old) => {
                    binder.events.forget(old.uid().as_deref().unwrap_or(""));
                    // Its volumes are released.
                    if let Some(v) = volume_name(old) {
                        binder.queue.add(volume_key(v));
                    }
                    for pv in binder.cluster.persistent_volumes.list() {
                        if claim_ref_key(&pv).as_deref() == Some(claim_key_of(old).as_str()) {
                            binder.queue.add(volume_key(&pv.name_any()));
                        }
                    }
                }
            });
    }
    {
        let binder = binder.clone();
        cluster.persistent_volumes.on_change(move |c| {
            let (pv, applied) = match c {
                Change::Applied { new, .. } => (new, true),
                Change::Deleted(old) => (old, false),
            };
            binder.queue.add(volume_key(&pv.name_any()));
            if let Some(claim) = claim_ref_key(pv) {
                binder.queue.add(claim);
            } else if applied {
                // A free volume: pending claims may take it.
                binder.queue_unbound_claims();
            }
            if !applied {
                binder.events.forget(pv.uid().as_deref().unwrap_or(""));
            }
        });
    }
    {
        // A class appearing, becoming the default or changing its mode.
        let binder = binder.clone();
        cluster
            .storage_classes
            .on_change(move |_| binder.queue_unbound_claims());
    }
    {
        // A consumer created or scheduled.
        let binder = binder.clone();
        cluster.pods.on_change(move |c| {
            if let Change::Applied { new, .. } = c {
                let ns = new.namespace().unwrap_or_default();
                for name in claims_of(new) {
                    if binder
                        .cluster
                        .persistent_volume_claims
                        .get(&ns, name)
                        .is_some_and(|c| is_unbound(&c))
                    {
                        binder.queue.add(claim_key(&ns, name));
                    }
                }
            }
        });
    }
    let resync = {
        let cluster = cluster.clone();
        move || {
            let claims = cluster.persistent_volume_claims.list();
            let volumes = cluster.persistent_volumes.list();
            claims
                .iter()
                .map(|c| claim_key_of(c))
                .chain(volumes.iter().map(|v| volume_key(&v.name_any())))
                .collect()
        }
    };
    // One worker, as upstream: binding is not reentrant.
    Controller::new("persistentvolume-binder", queue, 1, resync, move |key| {
        let binder = binder.clone();
        async move { binder.sync(&key).await }
    })
}

fn claim_key_of(claim: &PersistentVolumeClaim) -> String {
    claim_key(
        claim.metadata.namespace.as_deref().unwrap_or(""),
        claim.metadata.name.as_deref().unwrap_or(""),
    )
}

fn volume_name(claim: &PersistentVolumeClaim) -> Option<&str> {
    claim
        .spec
        .as_ref()?
        .volume_name
        .as_deref()
        .filter(|v| !v.is_empty())
}

/// The key of the claim a volume refers to.
fn claim_ref_key(pv: &PersistentVolume) -> Option<String> {
    let r = pv.spec.as_ref()?.claim_ref.as_ref()?;
    Some(claim_key(
        r.namespace.as_deref().unwrap_or(""),
        r.name.as_deref()?,
    ))
}

fn has_annotation(meta: &ObjectMeta, key: &str) -> bool {
    meta.annotations
        .as_ref()
        .is_some_and(|a| a.contains_key(key))
}

fn set_annotation(meta: &mut ObjectMeta, key: &str, value: &str) {
    meta.annotations
        .get_or_insert_with(Default::default)
        .insert(key.to_owned(), value.to_owned());
}

/// Whether the claim has not completed binding.
fn is_unbound(claim: &PersistentVolumeClaim) -> bool {
    !has_annotation(&claim.metadata, ANN_BIND_COMPLETED)
}

/// The claims a pod's volumes name.
fn claims_of(pod: &Pod) -> impl Iterator<Item = &str> {
    pod.spec
        .iter()
        .flat_map(|s| s.volumes.iter().flatten())
        .filter_map(|v| v.persistent_volume_claim.as_ref())
        .map(|c| c.claim_name.as_str())
}

fn phase_of_volume(pv: &PersistentVolume) -> &str {
    pv.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}

fn phase_of_claim(claim: &PersistentVolumeClaim) -> &str {
    claim
        .status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}

fn is_default_class(class: &StorageClass) -> bool {
    let a = class.metadata.annotations.as_ref();
    [ANN_IS_DEFAULT_CLASS, ANN_BETA_IS_DEFAULT_CLASS]
        .iter()
        .any(|k| a.and_then(|a| a.get(*k)).is_some_and(|v| v == "true"))
}

/// The default StorageClass (upstream's `GetDefaultClass`): of the classes
/// annotated default, the newest (then the first by name).
pub fn default_class(classes: &[Arc<StorageClass>]) -> Option<Arc<StorageClass>> {
    classes
        .iter()
        .filter(|c| is_default_class(c))
        .max_by(|a, b| {
            let created = |c: &StorageClass| c.metadata.creation_timestamp.clone().map(|t| t.0);
            created(a)
                .cmp(&created(b))
                .then_with(|| b.metadata.name.cmp(&a.metadata.name))
        })
        .cloned()
}

struct Binder {
    cluster: Arc<Cluster>,
    events: Announcer,
    queue: WorkQueue,
}

impl Binder {
    fn claims_api(&self, namespace: &str) -> Api<PersistentVolumeClaim> {
        Api::namespaced(self.cluster.client.clone(), namespace)
    }

    fn volumes_api(&self) -> Api<PersistentVolume> {
        Api::all(self.cluster.client.clone())
    }

    fn queue_unbound_claims(&self) {
        for c in self.cluster.persistent_volume_claims.list() {
            if is_unbound(&c) {
                self.queue.add(claim_key_of(&c));
            }
        }
    }

    async fn sync(&self, key: &str) -> Result<Requeue> {
        if let Some(rest) = key.strip_prefix("pvc:") {
            let (ns, name) = split_key(rest);
            if let Some(claim) = self.cluster.persistent_volume_claims.get(ns, name) {
                self.sync_claim(&claim)
                    .await
                    .with_context(|| format!("claim {ns}/{name}"))?;
            }
        } else if let Some(name) = key.strip_prefix("pv:")
            && let Some(pv) = self.cluster.persistent_volumes.get("", name)
        {
            self.sync_volume(&pv)
                .await
                .with_context(|| format!("volume {name}"))?;
        }
        Ok(None)
    }

    // ------------------------------------------------------------ claims

    async fn sync_claim(&self, claim: &PersistentVolumeClaim) -> Result<()> {
        if is_unbound(claim) {
            self.sync_unbound_claim(claim).await
        } else {
            self.sync_bound_claim(claim).await
        }
    }

    fn class_of(&self, claim: &PersistentVolumeClaim) -> Option<Arc<StorageClass>> {
        let name = claim_class(claim);
        (!name.is_empty())
            .then(|| self.cluster.storage_classes.get("", name))
            .flatten()
    }

    /// Pods using the claim that have not finished, oldest first.
    fn consumers(&self, claim: &PersistentVolumeClaim) -> Vec<Arc<Pod>> {
        let ns = claim.namespace().unwrap_or_default();
        let name = claim.name_any();
        let mut pods: Vec<Arc<Pod>> = self
            .cluster
            .pods
            .list_namespace(&ns)
            .into_iter()
            .filter(|p| !is_terminal(p) && claims_of(p).any(|c| c == name))
            .collect();
        pods.sort_by(|a, b| {
            let created = |p: &Pod| p.metadata.creation_timestamp.clone().map(|t| t.0);
            created(a)
                .cmp(&created(b))
                .then_with(|| a.metadata.name.cmp(&b.metadata.name))
        });
        pods
    }

    async fn sync_unbound_claim(&self, claim: &PersistentVolumeClaim) -> Result<()> {
        let Some(wanted) = volume_name(claim) else {
            return self.sync_unbound_claim_without_volume(claim).await;
        };
        // The user asked for a specific volume.
        let Some(pv) = self.cluster.persistent_volumes.get("", wanted) else {
            // Not there (yet): wait.
            self.update_claim_status(claim, "Pending", None).await?;
            return Ok(());
        };
        if pv
            .spec
            .as_ref()
            .and_then(|s| s.claim_ref.as_ref())
            .is_none()
        {
            match check_volume_satisfies_claim(&pv, claim) {
                Err(why) => {
                    self.events.announce(
                        claim,
                        EventType::Warning,
                        "VolumeMismatch",
                        format!("Cannot bind to requested volume {wanted:?}: {why}"),
                    );
                    self.update_claim_status(claim, "Pending", None).await?;
                }
                Ok(()) => self.bind(&pv, claim).await?,
            }
        } else if is_volume_bound_to_claim(&pv, claim) {
            // Pre-bound to this claim: finish the binding.
            self.bind(&pv, claim).await?;
        } else {
            self.events.announce(
                claim,
                EventType::Warning,
                "FailedBinding",
                format!("volume {wanted:?} already bound to a different claim."),
            );
            if has_annotation(&claim.metadata, ANN_BOUND_BY_CONTROLLER) {
                bail!("volume {wanted:?} is already claimed by another claim");
            }
            self.update_claim_status(claim, "Pending", None).await?;
        }
        Ok(())
    }

    async fn sync_unbound_claim_without_volume(&self, claim: &PersistentVolumeClaim) -> Result<()> {
        let class = self.class_of(claim);
        let delay = class
            .as_ref()
            .is_some_and(|c| c.volume_binding_mode.as_deref() == Some("WaitForFirstConsumer"));
        let volumes = self.cluster.persistent_volumes.list();
        if let Some(pv) = find_best_match(claim, volumes.iter().map(|v| &**v), None, delay) {
            return self.bind(pv, claim).await;
        }
        if self.assign_default_class(claim).await? {
            // The claim's change brings it back.
            return Ok(());
        }
        if delay && !has_annotation(&claim.metadata, ANN_SELECTED_NODE) {
            if self
                .bind_for_consumer(claim, class.as_deref(), &volumes)
                .await?
            {
                return Ok(());
            }
            self.announce_waiting(claim);
        } else if !claim_class(claim).is_empty() {
            return self.provision(claim, class.as_deref()).await;
        } else {
            self.events.announce(
                claim,
                EventType::Normal,
                "FailedBinding",
                "no persistent volumes available for this claim and no storage class is set".into(),
            );
        }
        self.update_claim_status(claim, "Pending", None).await?;
        Ok(())
    }

    /// The scheduler's part for a `WaitForFirstConsumer` claim (its
    /// VolumeBinding plugin): once a pod using the claim is on a node,
    /// bind a volume usable there, or select the node for provisioning.
    /// Whether the claim was written.
    async fn bind_for_consumer(
        &self,
        claim: &PersistentVolumeClaim,
        class: Option<&StorageClass>,
        volumes: &[Arc<PersistentVolume>],
    ) -> Result<bool> {
        let Some(node_name) = self.consumers(claim).into_iter().find_map(|p| {
            p.metadata.deletion_timestamp.is_none().then_some(())?;
            p.spec.as_ref()?.node_name.clone().filter(|n| !n.is_empty())
        }) else {
            return Ok(false);
        };
        let node = self.cluster.nodes.get("", &node_name);
        let labels = node
            .as_ref()
            .and_then(|n| n.metadata.labels.clone())
            .unwrap_or_default();
        let at = NodeRef {
            labels: &labels,
            name: &node_name,
        };
        if let Some(pv) = find_best_match(claim, volumes.iter().map(|v| &**v), Some(at), true) {
            self.bind(pv, claim).await?;
            return Ok(true);
        }
        if class.is_none_or(|c| c.provisioner == NO_PROVISIONER) {
            // Nothing to provision: the claim waits for a volume.
            return Ok(false);
        }
        let mut new = claim.clone();
        set_annotation(&mut new.metadata, ANN_SELECTED_NODE, &node_name);
        self.claims_api(&claim.namespace().unwrap_or_default())
            .replace(&claim.name_any(), &PostParams::default(), &new)
            .await
            .context("selecting a node for the claim")?;
        Ok(true)
    }

    /// `WaitForFirstConsumer`, or `WaitForPodScheduled` naming the pods
    /// using the claim that are not yet scheduled.
    fn announce_waiting(&self, claim: &PersistentVolumeClaim) {
        let mut waiting: Vec<String> = self
            .consumers(claim)
            .iter()
            .filter(|p| {
                p.spec
                    .as_ref()
                    .and_then(|s| s.node_name.as_deref())
                    .unwrap_or("")
                    .is_empty()
            })
            .map(|p| p.name_any())
            .collect();
        waiting.sort();
        let (reason, message) = match waiting.as_slice() {
            [] => (
                "WaitForFirstConsumer",
                "waiting for first consumer to be created before binding".to_owned(),
            ),
            [one] => (
                "WaitForPodScheduled",
                format!("waiting for pod {one} to be scheduled"),
            ),
            many => (
                "WaitForPodScheduled",
                format!("waiting for pods {} to be scheduled", many.join(",")),
            ),
        };
        self.events
            .announce(claim, EventType::Normal, reason, message);
    }

    /// Give a claim that names no class the default class, if there is
    /// one. Whether the claim was written.
    async fn assign_default_class(&self, claim: &PersistentVolumeClaim) -> Result<bool> {
        if claim_has_class(claim) {
            return Ok(false);
        }
        let Some(class) = default_class(&self.cluster.storage_classes.list()) else {
            return Ok(false);
        };
        let mut new = claim.clone();
        new.spec
            .get_or_insert_with(Default::default)
            .storage_class_name = class.metadata.name.clone();
        self.claims_api(&claim.namespace().unwrap_or_default())
            .replace(&claim.name_any(), &PostParams::default(), &new)
            .await
            .context("assigning the default storage class")?;
        Ok(true)
    }

    /// Ask the class' provisioner for a volume (upstream's
    /// `provisionClaim` for external provisioners: rkube has no in-tree
    /// volume plugins).
    async fn provision(
        &self,
        claim: &PersistentVolumeClaim,
        class: Option<&StorageClass>,
    ) -> Result<()> {
        let Some(class) = class else {
            self.events.announce(
                claim,
                EventType::Warning,
                "ProvisioningFailed",
                format!(
                    "storageclass.storage.k8s.io {:?} not found",
                    claim_class(claim)
                ),
            );
            return Ok(());
        };
        let provisioner = class.provisioner.as_str();
        if provisioner.starts_with("kubernetes.io/") {
            self.events.announce(
                claim,
                EventType::Warning,
                "ProvisioningFailed",
                format!("no volume plugin matched name: {provisioner}"),
            );
            return Ok(());
        }
        let annotations = claim.metadata.annotations.clone().unwrap_or_default();
        let set = |k: &str| annotations.get(k).map(String::as_str) == Some(provisioner);
        if !set(ANN_STORAGE_PROVISIONER) || !set(ANN_BETA_STORAGE_PROVISIONER) {
            let mut new = claim.clone();
            set_annotation(&mut new.metadata, ANN_STORAGE_PROVISIONER, provisioner);
            set_annotation(&mut new.metadata, ANN_BETA_STORAGE_PROVISIONER, provisioner);
            if let Err(e) = self
                .claims_api(&claim.namespace().unwrap_or_default())
                .replace(&claim.name_any(), &PostParams::default(), &new)
                .await
            {
                // A conflict is a race with a newer claim, retried quietly.
                if !is_conflict(&e) {
                    self.events.announce(
                        claim,
                        EventType::Warning,
                        "ProvisioningFailed",
                        format!("Error saving claim: {}", api_error(&e)),
                    );
                }
                return Err(e).context("naming the claim's provisioner");
            }
        }
        self.events.announce(
            claim,
            EventType::Normal,
            "ExternalProvisioning",
            format!(
                "Waiting for a volume to be created either by the external provisioner '{provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered."
            ),
        );
        Ok(())
    }

    async fn sync_bound_claim(&self, claim: &PersistentVolumeClaim) -> Result<()> {
        let Some(wanted) = volume_name(claim) else {
            return self
                .claim_lost(
                    claim,
                    "ClaimLost",
                    "Bound claim has lost reference to PersistentVolume. Data on the volume is lost!",
                )
                .await;
        };
        let Some(pv) = self.cluster.persistent_volumes.get("", wanted) else {
            return self
                .claim_lost(
                    claim,
                    "ClaimLost",
                    "Bound claim has lost its PersistentVolume. Data on the volume is lost!",
                )
                .await;
        };
        let claim_ref_uid = pv
            .spec
            .as_ref()
            .and_then(|s| s.claim_ref.as_ref())
            .map(|r| r.uid.clone().unwrap_or_default());
        match claim_ref_uid {
            // Unbound (or not yet seen bound): bind again.
            None => self.bind(&pv, claim).await,
            Some(uid) if Some(uid.as_str()) == claim.metadata.uid.as_deref() => {
                self.bind(&pv, claim).await
            }
            Some(_) => {
                self.claim_lost(
                    claim,
                    "ClaimMisbound",
                    "Two claims are bound to the same volume, this one is bound incorrectly",
                )
                .await
            }
        }
    }

    async fn claim_lost(
        &self,
        claim: &PersistentVolumeClaim,
        reason: &str,
        message: &str,
    ) -> Result<()> {
        if phase_of_claim(claim) == "Lost" {
            return Ok(());
        }
        let new = self.update_claim_status(claim, "Lost", None).await?;
        self.events
            .event(&new, EventType::Warning, reason, message.to_owned());
        Ok(())
    }

    // ----------------------------------------------------------- volumes

    async fn sync_volume(&self, pv: &PersistentVolume) -> Result<()> {
        let Some(claim_ref) = pv.spec.as_ref().and_then(|s| s.claim_ref.clone()) else {
            // Unused.
            self.update_volume_phase(pv, "Available", "").await?;
            return Ok(());
        };
        let ref_uid = claim_ref.uid.clone().unwrap_or_default();
        if ref_uid.is_empty() {
            // Pre-bound to a claim that has not bound yet: its sync will.
            self.update_volume_phase(pv, "Available", "").await?;
            return Ok(());
        }
        let (ns, name) = (
            claim_ref.namespace.clone().unwrap_or_default(),
            claim_ref.name.clone().unwrap_or_default(),
        );
        let mut claim = self
            .cluster
            .persistent_volume_claims
            .get(&ns, &name)
            .map(|c| (*c).clone());
        let phase = phase_of_volume(pv);
        // Our cache may lag behind a claim just created (a provisioner
        // may be quicker): ask the server before releasing the volume.
        let stale = match &claim {
            None => phase != "Released" && phase != "Failed",
            Some(c) => c.metadata.uid.as_deref() != Some(ref_uid.as_str()),
        };
        if stale {
            claim = self
                .claims_api(&ns)
                .get_opt(&name)
                .await
                .context("reading the volume's claim")?;
        }
        let claim = claim.filter(|c| c.metadata.uid.as_deref() == Some(ref_uid.as_str()));
        let Some(claim) = claim else {
            // The claim is gone: release the volume and reclaim it.
            let pv = if phase != "Released" && phase != "Failed" {
                self.update_volume_phase(pv, "Released", "").await?
            } else {
                pv.clone()
            };
            return self.reclaim(&pv).await;
        };
        match volume_name(&claim) {
            None => {
                let (cs, ps) = (
                    claim.spec.clone().unwrap_or_default(),
                    pv.spec.clone().unwrap_or_default(),
                );
                if volume_mode_mismatch(&cs, &ps) {
                    self.events.announce(
                        pv,
                        EventType::Warning,
                        "VolumeMismatch",
                        format!(
                            "Cannot bind PersistentVolume to requested PersistentVolumeClaim {:?} due to incompatible volumeMode.",
                            claim.name_any()
                        ),
                    );
                    self.events.announce(
                        &claim,
                        EventType::Warning,
                        "VolumeMismatch",
                        format!(
                            "Cannot bind PersistentVolume {:?} to requested PersistentVolumeClaim due to incompatible volumeMode.",
                            pv.name_any()
                        ),
                    );
                    return Ok(());
                }
                // Binding not finished: the claim's sync does it.
                self.queue.add(claim_key(&ns, &name));
                Ok(())
            }
            Some(v) if v == pv.name_any() => {
                self.update_volume_phase(pv, "Bound", "").await?;
                Ok(())
            }
            Some(_) => {
                // The claim is bound to another volume.
                let provisioned = has_annotation(&pv.metadata, ANN_DYNAMICALLY_PROVISIONED);
                if provisioned && reclaim_policy(pv) == "Delete" {
                    // Provisioned for this claim in vain: delete it.
                    let pv = if phase != "Released" && phase != "Failed" {
                        self.update_volume_phase(pv, "Released", "").await?
                    } else {
                        pv.clone()
                    };
                    self.reclaim(&pv).await
                } else {
                    self.unbind_volume(pv).await
                }
            }
        }
    }

    /// Apply the reclaim policy of a released volume.
    async fn reclaim(&self, pv: &PersistentVolume) -> Result<()> {
        match reclaim_policy(pv) {
            "Retain" => Ok(()),
            "Delete" => {
                let by = pv
                    .metadata
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get(ANN_DYNAMICALLY_PROVISIONED));
                if by.is_some_and(|p| !p.is_empty() && !p.starts_with("kubernetes.io/")) {
                    // An external provisioner made it and deletes it.
                    return Ok(());
                }
                self.fail_volume(
                    pv,
                    "VolumeFailedDelete",
                    &format!(
                        "error getting deleter volume plugin for volume {:?}: no deletable volume plugin matched",
                        pv.name_any()
                    ),
                )
                .await
            }
            "Recycle" => {
                self.fail_volume(
                    pv,
                    "VolumeFailedRecycle",
                    "No recycler plugin found for the volume!",
                )
                .await
            }
            _ => {
                self.fail_volume(
                    pv,
                    "VolumeUnknownReclaimPolicy",
                    "Volume has unrecognized PersistentVolumeReclaimPolicy",
                )
                .await
            }
        }
    }

    /// Mark a volume Failed, with a warning, once.
    async fn fail_volume(&self, pv: &PersistentVolume, reason: &str, message: &str) -> Result<()> {
        if phase_of_volume(pv) == "Failed" {
            return Ok(());
        }
        let new = self.update_volume_phase(pv, "Failed", message).await?;
        self.events
            .event(&new, EventType::Warning, reason, message.to_owned());
        Ok(())
    }

    // ------------------------------------------------------------ writes

    /// Bind both ways: the volume's claimRef, its phase, the claim's
    /// volumeName and annotations, its status. Stops at the first error
    /// (the next sync continues from what was saved).
    async fn bind(&self, pv: &PersistentVolume, claim: &PersistentVolumeClaim) -> Result<()> {
        let pv = self.bind_volume_to_claim(pv, claim).await?;
        let pv = self.update_volume_phase(&pv, "Bound", "").await?;
        let claim = self.bind_claim_to_volume(claim, &pv).await?;
        self.update_claim_status(&claim, "Bound", Some(&pv)).await?;
        Ok(())
    }

    async fn bind_volume_to_claim(
        &self,
        pv: &PersistentVolume,
        claim: &PersistentVolumeClaim,
    ) -> Result<PersistentVolume> {
        let by_user = is_volume_bound_to_claim(pv, claim);
        let mut new = pv.clone();
        let mut dirty = false;
        let spec = new.spec.get_or_insert_with(Default::default);
        let same = spec.claim_ref.as_ref().is_some_and(|r| {
            r.name == claim.metadata.name
                && r.namespace == claim.metadata.namespace
                && r.uid == claim.metadata.uid
        });
        if !same {
            spec.claim_ref = Some(claim_reference(claim));
            dirty = true;
        }
        if !by_user && !has_annotation(&new.metadata, ANN_BOUND_BY_CONTROLLER) {
            set_annotation(&mut new.metadata, ANN_BOUND_BY_CONTROLLER, "yes");
            dirty = true;
        }
        if !dirty {
            return Ok(pv.clone());
        }
        self.volumes_api()
            .replace(&pv.name_any(), &PostParams::default(), &new)
            .await
            .context("binding the volume to its claim")
    }

    async fn bind_claim_to_volume(
        &self,
        claim: &PersistentVolumeClaim,
        pv: &PersistentVolume,
    ) -> Result<PersistentVolumeClaim> {
        let mut new = claim.clone();
        let mut dirty = false;
        let name = pv.name_any();
        if volume_name(claim) != Some(name.as_str()) {
            new.spec.get_or_insert_with(Default::default).volume_name = Some(name);
            if !has_annotation(&new.metadata, ANN_BOUND_BY_CONTROLLER) {
                set_annotation(&mut new.metadata, ANN_BOUND_BY_CONTROLLER, "yes");
            }
            dirty = true;
        }
        if !has_annotation(&new.metadata, ANN_BIND_COMPLETED) {
            set_annotation(&mut new.metadata, ANN_BIND_COMPLETED, "yes");
            dirty = true;
        }
        if !dirty {
            return Ok(claim.clone());
        }
        self.claims_api(&claim.namespace().unwrap_or_default())
            .replace(&claim.name_any(), &PostParams::default(), &new)
            .await
            .context("binding the claim to its volume")
    }

    /// Undo a binding the claim did not take: the controller's is removed,
    /// the user's pre-binding kept without the uid.
    async fn unbind_volume(&self, pv: &PersistentVolume) -> Result<()> {
        let mut new = pv.clone();
        let spec = new.spec.get_or_insert_with(Default::default);
        if has_annotation(&pv.metadata, ANN_BOUND_BY_CONTROLLER) {
            spec.claim_ref = None;
            if let Some(a) = new.metadata.annotations.as_mut() {
                a.remove(ANN_BOUND_BY_CONTROLLER);
                if a.is_empty() {
                    new.metadata.annotations = None;
                }
            }
        } else if let Some(r) = spec.claim_ref.as_mut() {
            r.uid = None;
        }
        let new = self
            .volumes_api()
            .replace(&pv.name_any(), &PostParams::default(), &new)
            .await
            .context("unbinding the volume")?;
        self.update_volume_phase(&new, "Available", "").await?;
        Ok(())
    }

    async fn update_volume_phase(
        &self,
        pv: &PersistentVolume,
        phase: &str,
        message: &str,
    ) -> Result<PersistentVolume> {
        if phase_of_volume(pv) == phase {
            return Ok(pv.clone());
        }
        let mut new = pv.clone();
        let status = new.status.get_or_insert_with(Default::default);
        status.phase = Some(phase.to_owned());
        status.message = (!message.is_empty()).then(|| message.to_owned());
        self.volumes_api()
            .replace_status(&pv.name_any(), &PostParams::default(), &new)
            .await
            .with_context(|| format!("setting the volume's phase to {phase}"))
    }

    /// Set a claim's phase and, bound, the volume's access modes and (when
    /// it becomes bound) capacity; unbound, clear them.
    async fn update_claim_status(
        &self,
        claim: &PersistentVolumeClaim,
        phase: &str,
        volume: Option<&PersistentVolume>,
    ) -> Result<PersistentVolumeClaim> {
        let old_phase = phase_of_claim(claim);
        let mut new = claim.clone();
        let status = new.status.get_or_insert_with(Default::default);
        let mut dirty = false;
        if old_phase != phase {
            status.phase = Some(phase.to_owned());
            dirty = true;
        }
        match volume {
            None => {
                if status.access_modes.is_some() || status.capacity.is_some() {
                    status.access_modes = None;
                    status.capacity = None;
                    dirty = true;
                }
            }
            Some(pv) => {
                let spec = pv.spec.clone().unwrap_or_default();
                if status.access_modes != spec.access_modes {
                    status.access_modes = spec.access_modes.clone();
                    dirty = true;
                }
                // Capacity is set as the claim becomes bound, not later
                // (a difference may be a resize in progress).
                if old_phase != phase {
                    let parse =
                        |q: Option<&k8s_openapi::apimachinery::pkg::api::resource::Quantity>| {
                            q.and_then(|q| Quantity::parse(&q.0).ok())
                        };
                    let offered = spec.capacity.as_ref().and_then(|c| c.get("storage"));
                    if offered.is_none() {
                        bail!(
                            "PersistentVolume {:?} is without a storage capacity",
                            pv.name_any()
                        );
                    }
                    let held = status.capacity.as_ref().and_then(|c| c.get("storage"));
                    if parse(held).is_none() || parse(held) != parse(offered) {
                        status.capacity = spec.capacity.clone();
                        dirty = true;
                    }
                }
            }
        }
        if !dirty {
            return Ok(claim.clone());
        }
        self.claims_api(&claim.namespace().unwrap_or_default())
            .replace_status(&claim.name_any(), &PostParams::default(), &new)
            .await
            .with_context(|| format!("setting the claim's phase to {phase}"))
    }
}

fn reclaim_policy(pv: &PersistentVolume) -> &str {
    pv.spec
        .as_ref()
        .and_then(|s| s.persistent_volume_reclaim_policy.as_deref())
        .unwrap_or("Retain")
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn class(name: &str, default: bool, created: i64) -> Arc<StorageClass> {
        Arc::new(StorageClass {
            metadata: ObjectMeta {
                name: Some(name.into()),
                creation_timestamp: Some(Time(
                    k8s_openapi::jiff::Timestamp::from_second(created).unwrap(),
                )),
                annotations: default
                    .then(|| [(ANN_IS_DEFAULT_CLASS.to_string(), "true".to_string())].into()),
                ..Default::default()
            },
            provisioner: "p".into(),
            ..Default::default()
        })
    }

    #[test]
    fn the_newest_default_class_is_the_default() {
        let name = |c: Option<Arc<StorageClass>>| c.and_then(|c| c.metadata.name.clone());
        assert_eq!(name(default_class(&[class("a", false, 1)])), None);
        let classes = [
            class("old", true, 1),
            class("new", true, 5),
            class("plain", false, 9),
        ];
        assert_eq!(name(default_class(&classes)), Some("new".into()));
        let mut beta = (*class("beta", false, 7)).clone();
        beta.metadata.annotations =
            Some([(ANN_BETA_IS_DEFAULT_CLASS.to_string(), "true".to_string())].into());
        let classes = [class("new", true, 5), Arc::new(beta)];
        assert_eq!(name(default_class(&classes)), Some("beta".into()));
    }
}

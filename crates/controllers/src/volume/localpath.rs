//! The `local-path` StorageClass and its provisioner `rancher.io/local-path`
//! (k3s' default storage, rancher's local-path-provisioner), as an
//! external provisioner inside the controller manager:
//!
//! - at start, the class `local-path` is created if absent: the default
//!   class, `WaitForFirstConsumer`, reclaim policy Delete;
//! - a claim the binder handed to this provisioner
//!   (`volume.kubernetes.io/storage-provisioner: rancher.io/local-path`) and
//!   for which a node was selected (`volume.kubernetes.io/selected-node`)
//!   gets a volume `pvc-<claim uid>`: a hostPath directory
//!   `<STORAGE_ROOT>/pvc-<uid>_<namespace>_<claim>` (DirectoryOrCreate,
//!   made by whoever mounts it) pinned to that node by node affinity
//!   (`kubernetes.io/hostname`), with the claim's size and access modes
//!   and the class' reclaim policy, pre-bound to the claim (the binder
//!   completes the binding). Events as the external provisioner library's:
//!   `Provisioning`, `ProvisioningSucceeded`, `ProvisioningFailed`;
//! - a volume it made that was Released with reclaim policy Delete is
//!   deleted. (rkube's nodes are simulated: no directory is removed.)

use std::collections::HashSet;
use std::sync::Arc;

use anyhow::{Context, Result};
use k8s_openapi::api::core::v1::{
    HostPathVolumeSource, Node, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm,
    PersistentVolume, PersistentVolumeClaim, PersistentVolumeSpec, VolumeNodeAffinity,
};
use k8s_openapi::api::storage::v1::StorageClass;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::PostParams;
use kube::{Api, ResourceExt};
use parking_lot::Mutex;

use super::matching::{
    ANN_BETA_STORAGE_PROVISIONER, ANN_DYNAMICALLY_PROVISIONED, ANN_IS_DEFAULT_CLASS,
    ANN_SELECTED_NODE, ANN_STORAGE_PROVISIONER, claim_class, claim_reference,
};
use super::{Announcer, claim_key, volume_key};
use crate::events::EventType;
use crate::informer::{Change, split_key};
use crate::writes::{api_error, is_conflict, is_not_found, uid_guarded};
use crate::{Cluster, Controller, Options, Recorder, Requeue, WorkQueue};

/// The StorageClass.
pub const CLASS: &str = "local-path";
/// Its provisioner.
pub const PROVISIONER: &str = "rancher.io/local-path";
/// Where the volumes' directories are on the nodes.
pub const STORAGE_ROOT: &str = "/var/lib/rkube/storage";
/// The node label volumes are pinned by.
const HOSTNAME: &str = "kubernetes.io/hostname";
/// The work-queue key that ensures the class.
const CLASS_KEY: &str = "storageclass";

/// The `local-path` StorageClass as created at start.
pub fn storage_class() -> StorageClass {
    StorageClass {
        metadata: ObjectMeta {
            name: Some(CLASS.into()),
            annotations: Some([(ANN_IS_DEFAULT_CLASS.to_string(), "true".to_string())].into()),
            ..Default::default()
        },
        provisioner: PROVISIONER.into(),
        reclaim_policy: Some("Delete".into()),
        volume_binding_mode: Some("WaitForFirstConsumer".into()),
        ..Default::default()
    }
}

/// The directory of a volume: `<STORAGE_ROOT>/<volume>_<namespace>_<claim>`.
pub fn volume_path(volume: &str, namespace: &str, claim: &str) -> String {
    format!("{STORAGE_ROOT}/{volume}_{namespace}_{claim}")
}

/// The volume `name` for a claim of `class` on `node`, or why this
/// provisioner cannot make it (the provisioner's wording).
pub fn provisioned_volume(
    name: &str,
    claim: &PersistentVolumeClaim,
    class: &StorageClass,
    node: Option<&Node>,
) -> Result<PersistentVolume, String> {
    let spec = claim.spec.clone().unwrap_or_default();
    if spec.selector.is_some() {
        return Err("claim.Spec.Selector is not supported".into());
    }
    let modes = spec.access_modes.clone().unwrap_or_default();
    if modes
        .iter()
        .any(|m| m != "ReadWriteOnce" && m != "ReadWriteOncePod")
    {
        return Err(
            "NodePath only supports ReadWriteOnce and ReadWriteOncePod (1.22+) access modes".into(),
        );
    }
    let Some(node) = node else {
        return Err("configuration error, no node was specified".into());
    };
    let node_name = node.name_any();
    let hostname = node
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(HOSTNAME))
        .cloned()
        .unwrap_or(node_name);
    let request = spec
        .resources
        .as_ref()
        .and_then(|r| r.requests.as_ref())
        .and_then(|r| r.get("storage"))
        .cloned()
        .ok_or("the claim requests no storage")?;
    let path = volume_path(
        name,
        claim.metadata.namespace.as_deref().unwrap_or(""),
        claim.metadata.name.as_deref().unwrap_or(""),
    );
    Ok(PersistentVolume {
        metadata: ObjectMeta {
            name: Some(name.into()),
            annotations: Some(
                [(
                    ANN_DYNAMICALLY_PROVISIONED.to_string(),
                    PROVISIONER.to_string(),
                )]
                .into(),
            ),
            ..Default::default()
        },
        spec: Some(PersistentVolumeSpec {
            persistent_volume_reclaim_policy: Some(
                class
                    .reclaim_policy
                    .clone()
                    .unwrap_or_else(|| "Delete".into()),
            ),
            access_modes: Some(modes),
            volume_mode: Some("Filesystem".into()),
            capacity: Some([("storage".to_string(), request)].into()),
            host_path: Some(HostPathVolumeSource {
                path,
                type_: Some("DirectoryOrCreate".into()),
            }),
            node_affinity: Some(VolumeNodeAffinity {
                required: Some(NodeSelector {
                    node_selector_terms: vec![NodeSelectorTerm {
                        match_expressions: Some(vec![NodeSelectorRequirement {
                            key: HOSTNAME.into(),
                            operator: "In".into(),
                            values: Some(vec![hostname]),
                        }]),
                        match_fields: None,
                    }],
                }),
            }),
            claim_ref: Some(claim_reference(claim)),
            storage_class_name: class.metadata.name.clone(),
            mount_options: class.mount_options.clone(),
            ..Default::default()
        }),
        status: None,
    })
}

fn annotation<'a>(meta: &'a ObjectMeta, key: &str) -> Option<&'a str> {
    meta.annotations.as_ref()?.get(key).map(String::as_str)
}

/// Whether the binder handed the claim to this provisioner.
fn is_ours(claim: &PersistentVolumeClaim) -> bool {
    let m = &claim.metadata;
    annotation(m, ANN_STORAGE_PROVISIONER).or_else(|| annotation(m, ANN_BETA_STORAGE_PROVISIONER))
        == Some(PROVISIONER)
}

fn made_by_us(pv: &PersistentVolume) -> bool {
    annotation(&pv.metadata, ANN_DYNAMICALLY_PROVISIONED) == Some(PROVISIONER)
}

fn has_volume(claim: &PersistentVolumeClaim) -> bool {
    claim
        .spec
        .as_ref()
        .and_then(|s| s.volume_name.as_deref())
        .is_some_and(|v| !v.is_empty())
}

fn claim_key_of(claim: &PersistentVolumeClaim) -> String {
    claim_key(
        claim.metadata.namespace.as_deref().unwrap_or(""),
        claim.metadata.name.as_deref().unwrap_or(""),
    )
}

/// The provisioner; its keys are `storageclass` (queued once, at start),
/// `pvc:namespace/name` and `pv:name`.
pub fn controller(cluster: &Arc<Cluster>, options: &Options) -> Controller {
    let queue = WorkQueue::new();
    let provisioner = Arc::new(LocalPath {
        cluster: cluster.clone(),
        events: Announcer::new(Recorder::new(cluster.client.clone(), PROVISIONER)),
        provisioned: Mutex::new(HashSet::new()),
    });
    {
        let (queue, provisioner) = (queue.clone(), provisioner.clone());
        cluster
            .persistent_volume_claims
            .on_change(move |c| match c {
                Change::Applied { new, .. } => {
                    if is_ours(new) && !has_volume(new) {
                        queue.add(claim_key_of(new));
                    }
                }
                Change::Deleted(old) => {
                    let uid = old.uid().unwrap_or_default();
                    provisioner.provisioned.lock().remove(&uid);
                    provisioner.events.forget(&uid);
                }
            });
    }
    {
        let queue = queue.clone();
        cluster.persistent_volumes.on_change(move |c| {
            if let Change::Applied { new, .. } = c
                && made_by_us(new)
            {
                queue.add(volume_key(&new.name_any()));
            }
        });
    }
    queue.add(CLASS_KEY);
    let resync = {
        let cluster = cluster.clone();
        move || {
            let claims = cluster.persistent_volume_claims.list();
            let volumes = cluster.persistent_volumes.list();
            claims
                .iter()
                .filter(|c| is_ours(c) && !has_volume(c))
                .map(|c| claim_key_of(c))
                .chain(
                    volumes
                        .iter()
                        .filter(|v| made_by_us(v))
                        .map(|v| volume_key(&v.name_any())),
                )
                .collect()
        }
    };
    Controller::new(
        "local-path-provisioner",
        queue,
        options.workers,
        resync,
        move |key| {
            let provisioner = provisioner.clone();
            async move { provisioner.sync(&key).await }
        },
    )
}

struct LocalPath {
    cluster: Arc<Cluster>,
    events: Announcer,
    /// Claims (uids) whose volume was created, until it is seen.
    provisioned: Mutex<HashSet<String>>,
}

impl LocalPath {
    async fn sync(&self, key: &str) -> Result<Requeue> {
        if key == CLASS_KEY {
            self.ensure_class().await?;
        } else if let Some(rest) = key.strip_prefix("pvc:") {
            let (ns, name) = split_key(rest);
            if let Some(claim) = self.cluster.persistent_volume_claims.get(ns, name) {
                self.provision(&claim)
                    .await
                    .with_context(|| format!("provisioning for claim {ns}/{name}"))?;
            }
        } else if let Some(name) = key.strip_prefix("pv:")
            && let Some(pv) = self.cluster.persistent_volumes.get("", name)
        {
            self.delete(&pv)
                .await
                .with_context(|| format!("deleting volume {name}"))?;
        }
        Ok(None)
    }

    /// Create the class unless it exists.
    async fn ensure_class(&self) -> Result<()> {
        if self.cluster.storage_classes.get("", CLASS).is_some() {
            return Ok(());
        }
        let api: Api<StorageClass> = Api::all(self.cluster.client.clone());
        match api.create(&PostParams::default(), &storage_class()).await {
            Ok(_) => Ok(()),
            Err(e) if is_conflict(&e) => Ok(()),
            Err(e) => Err(e).context("creating the local-path StorageClass"),
        }
    }

    async fn provision(&self, claim: &PersistentVolumeClaim) -> Result<()> {
        if claim.metadata.deletion_timestamp.is_some() || has_volume(claim) || !is_ours(claim) {
            return Ok(());
        }
        let Some(class) = self.cluster.storage_classes.get("", claim_class(claim)) else {
            return Ok(());
        };
        if class.provisioner != PROVISIONER {
            return Ok(());
        }
        let uid = claim.uid().unwrap_or_default();
        let name = format!("pvc-{uid}");
        if self.provisioned.lock().contains(&uid)
            || self.cluster.persistent_volumes.get("", &name).is_some()
        {
            return Ok(());
        }
        let selected = annotation(&claim.metadata, ANN_SELECTED_NODE);
        if class.volume_binding_mode.as_deref() == Some("WaitForFirstConsumer")
            && selected.is_none()
        {
            // Waits for the node of its first consumer.
            return Ok(());
        }
        let node = match selected {
            None => None,
            Some(n) => match self.cluster.nodes.get("", n) {
                Some(node) => Some(node),
                None => {
                    let message = format!("failed to get target node: node {n:?} not found");
                    self.events.announce(
                        claim,
                        EventType::Warning,
                        "ProvisioningFailed",
                        message.clone(),
                    );
                    anyhow::bail!(message);
                }
            },
        };
        let key = format!(
            "{}/{}",
            claim.namespace().unwrap_or_default(),
            claim.name_any()
        );
        self.events.announce(
            claim,
            EventType::Normal,
            "Provisioning",
            format!("External provisioner is provisioning volume for claim {key:?}"),
        );
        let failed = |why: String| {
            format!(
                "failed to provision volume with StorageClass {:?}: {why}",
                class.name_any()
            )
        };
        let pv = match provisioned_volume(&name, claim, &class, node.as_deref()) {
            Ok(pv) => pv,
            Err(why) => {
                // Final: the claim cannot be served by this provisioner.
                self.events
                    .announce(claim, EventType::Warning, "ProvisioningFailed", failed(why));
                return Ok(());
            }
        };
        let api: Api<PersistentVolume> = Api::all(self.cluster.client.clone());
        match api.create(&PostParams::default(), &pv).await {
            Ok(_) => {}
            // Made by an earlier attempt.
            Err(e) if is_conflict(&e) => {}
            Err(e) => {
                self.events.announce(
                    claim,
                    EventType::Warning,
                    "ProvisioningFailed",
                    failed(api_error(&e)),
                );
                return Err(e).context("creating the volume");
            }
        }
        self.provisioned.lock().insert(uid);
        self.events.announce(
            claim,
            EventType::Normal,
            "ProvisioningSucceeded",
            format!("Successfully provisioned volume {name}"),
        );
        Ok(())
    }

    /// Delete a released volume of ours whose policy says so.
    async fn delete(&self, pv: &PersistentVolume) -> Result<()> {
        let spec = pv.spec.clone().unwrap_or_default();
        let phase = pv.status.as_ref().and_then(|s| s.phase.as_deref());
        if !made_by_us(pv)
            || pv.metadata.deletion_timestamp.is_some()
            || phase != Some("Released")
            || spec.persistent_volume_reclaim_policy.as_deref() != Some("Delete")
        {
            return Ok(());
        }
        let api: Api<PersistentVolume> = Api::all(self.cluster.client.clone());
        let params = uid_guarded(pv.uid());
        match api.delete(&pv.name_any(), &params).await {
            Ok(_) => Ok(()),
            Err(e) if is_not_found(&e) || is_conflict(&e) => Ok(()),
            Err(e) => {
                self.events
                    .announce(pv, EventType::Warning, "VolumeFailedDelete", api_error(&e));
                Err(e).context("deleting the volume")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{PersistentVolumeClaimSpec, VolumeResourceRequirements};
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

    fn claim(modes: &[&str]) -> PersistentVolumeClaim {
        PersistentVolumeClaim {
            metadata: ObjectMeta {
                name: Some("data".into()),
                namespace: Some("team".into()),
                uid: Some("1234".into()),
                ..Default::default()
            },
            spec: Some(PersistentVolumeClaimSpec {
                access_modes: Some(modes.iter().map(|m| m.to_string()).collect()),
                resources: Some(VolumeResourceRequirements {
                    requests: Some([("storage".to_string(), Quantity("3Gi".into()))].into()),
                    ..Default::default()
                }),
                storage_class_name: Some(CLASS.into()),
                ..Default::default()
            }),
            status: None,
        }
    }

    fn node() -> Node {
        Node {
            metadata: ObjectMeta {
                name: Some("sim-1".into()),
                labels: Some([(HOSTNAME.to_string(), "host-1".to_string())].into()),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn the_class_is_the_default_and_waits_for_a_consumer() {
        let sc = storage_class();
        assert_eq!(sc.metadata.name.as_deref(), Some("local-path"));
        assert_eq!(sc.provisioner, "rancher.io/local-path");
        assert_eq!(sc.reclaim_policy.as_deref(), Some("Delete"));
        assert_eq!(
            sc.volume_binding_mode.as_deref(),
            Some("WaitForFirstConsumer")
        );
        assert_eq!(
            sc.metadata.annotations.unwrap()[ANN_IS_DEFAULT_CLASS],
            "true"
        );
    }

    #[test]
    fn a_volume_is_a_host_path_pinned_to_the_node_and_pre_bound() {
        let pv = provisioned_volume(
            "pvc-1234",
            &claim(&["ReadWriteOnce"]),
            &storage_class(),
            Some(&node()),
        )
        .unwrap();
        let spec = pv.spec.unwrap();
        let hp = spec.host_path.unwrap();
        assert_eq!(hp.path, "/var/lib/rkube/storage/pvc-1234_team_data");
        assert_eq!(hp.type_.as_deref(), Some("DirectoryOrCreate"));
        let term = &spec
            .node_affinity
            .unwrap()
            .required
            .unwrap()
            .node_selector_terms[0];
        let req = &term.match_expressions.as_ref().unwrap()[0];
        assert_eq!(req.key, "kubernetes.io/hostname");
        assert_eq!(req.values.as_deref(), Some(&["host-1".to_string()][..]));
        assert_eq!(spec.capacity.unwrap()["storage"].0, "3Gi");
        assert_eq!(spec.access_modes.unwrap(), ["ReadWriteOnce"]);
        assert_eq!(
            spec.persistent_volume_reclaim_policy.as_deref(),
            Some("Delete")
        );
        assert_eq!(spec.storage_class_name.as_deref(), Some("local-path"));
        let r = spec.claim_ref.unwrap();
        assert_eq!(
            (r.namespace.as_deref(), r.name.as_deref(), r.uid.as_deref()),
            (Some("team"), Some("data"), Some("1234"))
        );
        assert_eq!(
            pv.metadata.annotations.unwrap()[ANN_DYNAMICALLY_PROVISIONED],
            "rancher.io/local-path"
        );
    }

    #[test]
    fn what_the_provisioner_refuses() {
        let sc = storage_class();
        let err = |c: &PersistentVolumeClaim, n: Option<&Node>| {
            provisioned_volume("pvc-1", c, &sc, n).unwrap_err()
        };
        assert_eq!(
            err(&claim(&["ReadWriteMany"]), Some(&node())),
            "NodePath only supports ReadWriteOnce and ReadWriteOncePod (1.22+) access modes"
        );
        assert_eq!(
            err(&claim(&["ReadWriteOnce"]), None),
            "configuration error, no node was specified"
        );
        let mut c = claim(&["ReadWriteOnce"]);
        c.spec.as_mut().unwrap().selector = Some(LabelSelector::default());
        assert_eq!(
            err(&c, Some(&node())),
            "claim.Spec.Selector is not supported"
        );
    }
}

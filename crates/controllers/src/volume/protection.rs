//! Storage object in-use protection: upstream's `pvc-protection` and
//! `pv-protection` controllers, one controller here (keys
//! [`super::claim_key`] and [`super::volume_key`]).
//!
//! The API server gives every new claim and volume its protection
//! finalizer (admission `storage_protection`); this controller adds it to
//! objects that lack it and, once a deleted object is no longer in use,
//! removes it so the deletion completes:
//! - a claim is in use while a pod scheduled to a node names it in a
//!   `persistentVolumeClaim` volume (finished pods too: their volumes may
//!   still be mounted until they are deleted), or — pod not finished — as
//!   its generic ephemeral volume (`<pod>-<volume>`). Before letting a
//!   claim go, the pods are listed from the API server, not the cache, as
//!   upstream does, so a pod created a moment ago still counts;
//! - a volume is in use while its phase is `Bound`.

use std::sync::Arc;

use anyhow::{Context, Result};
use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use kube::api::{ListParams, Patch, PatchParams};
use kube::{Api, Resource, ResourceExt};
use serde::de::DeserializeOwned;

use super::{claim_key, volume_key};
use crate::informer::{Change, split_key};
use crate::slim::Pod;
use crate::writes::{finalizer_patch, is_not_found};
use crate::{Cluster, Controller, Options, Requeue, WorkQueue};

/// The finalizer guarding claims in use by pods.
pub const PVC_PROTECTION: &str = "kubernetes.io/pvc-protection";
/// The finalizer guarding bound volumes.
pub const PV_PROTECTION: &str = "kubernetes.io/pv-protection";

/// The controller.
pub fn controller(cluster: &Arc<Cluster>, options: &Options) -> Controller {
    let queue = WorkQueue::new();
    {
        let queue = queue.clone();
        cluster.persistent_volume_claims.on_change(move |c| {
            if let Change::Applied { new, .. } = c {
                queue.add(claim_key(
                    &new.namespace().unwrap_or_default(),
                    &new.name_any(),
                ));
            }
        });
    }
    {
        let queue = queue.clone();
        cluster.persistent_volumes.on_change(move |c| {
            if let Change::Applied { new, .. } = c {
                queue.add(volume_key(&new.name_any()));
            }
        });
    }
    {
        // A pod going away (or finishing) may free the claims it names:
        // look at those being deleted.
        let queue = queue.clone();
        let claims = cluster.persistent_volume_claims.clone();
        cluster.pods.on_change(move |c| {
            let pod = match c {
                Change::Applied { new, .. } => new,
                Change::Deleted(old) => old,
            };
            let ns = pod.namespace().unwrap_or_default();
            for name in claims_named(pod, true) {
                if claims
                    .get(&ns, &name)
                    .is_some_and(|c| c.metadata.deletion_timestamp.is_some())
                {
                    queue.add(claim_key(&ns, &name));
                }
            }
        });
    }
    let resync = {
        let (claims, volumes) = (
            cluster.persistent_volume_claims.clone(),
            cluster.persistent_volumes.clone(),
        );
        move || {
            let mut keys: Vec<String> = claims
                .keys()
                .iter()
                .map(|k| {
                    let (ns, name) = split_key(k);
                    claim_key(ns, name)
                })
                .collect();
            keys.extend(volumes.keys().iter().map(|k| volume_key(k)));
            keys
        }
    };
    let cluster = cluster.clone();
    Controller::new(
        "storage-protection",
        queue,
        options.workers,
        resync,
        move |key| {
            let cluster = cluster.clone();
            async move { sync(&cluster, &key).await }
        },
    )
}

/// The claims a pod names: its `persistentVolumeClaim` volumes, and its
/// generic ephemeral volumes' claims (`<pod>-<volume>`) when
/// `with_ephemeral`.
fn claims_named(pod: &Pod, with_ephemeral: bool) -> Vec<String> {
    let pod_name = pod.name_any();
    pod.spec
        .iter()
        .flat_map(|s| s.volumes.iter().flatten())
        .filter_map(|v| match (&v.persistent_volume_claim, &v.ephemeral) {
            (Some(c), _) => Some(c.claim_name.clone()),
            (None, Some(_)) if with_ephemeral => Some(format!("{pod_name}-{}", v.name)),
            _ => None,
        })
        .collect()
}

/// Whether `pod` keeps the claim `name` in use (upstream's `podUsesPVC`):
/// only scheduled pods count, as the node agent refuses to start a pod
/// whose claim is being deleted.
fn pod_uses_claim(pod: &Pod, name: &str) -> bool {
    let scheduled = pod
        .spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .is_some_and(|n| !n.is_empty());
    if !scheduled {
        return false;
    }
    let finished = matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded" | "Failed")
    );
    claims_named(pod, false).iter().any(|c| c == name)
        || (!finished && claims_named(pod, true).iter().any(|c| c == name))
}

async fn sync(cluster: &Cluster, key: &str) -> Result<Requeue> {
    if let Some(rest) = key.strip_prefix("pvc:") {
        let (ns, name) = split_key(rest);
        let Some(claim) = cluster.persistent_volume_claims.get(ns, name) else {
            return Ok(None);
        };
        let api: Api<PersistentVolumeClaim> = Api::namespaced(cluster.client.clone(), ns);
        if claim.metadata.deletion_timestamp.is_none() {
            return set_finalizer(&api, &*claim, PVC_PROTECTION, true).await;
        }
        let cached_use = cluster
            .pods
            .list_namespace(ns)
            .iter()
            .any(|p| pod_uses_claim(p, name));
        if cached_use {
            return Ok(None);
        }
        // The cache may lag behind a pod just created: ask the server.
        let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), ns);
        let live = pods
            .list(&ListParams::default())
            .await
            .with_context(|| format!("listing the pods of {ns}"))?;
        if live.items.iter().any(|p| pod_uses_claim(p, name)) {
            return Ok(None);
        }
        return set_finalizer(&api, &*claim, PVC_PROTECTION, false).await;
    }
    if let Some(name) = key.strip_prefix("pv:") {
        let Some(volume) = cluster.persistent_volumes.get("", name) else {
            return Ok(None);
        };
        let api: Api<PersistentVolume> = Api::all(cluster.client.clone());
        if volume.metadata.deletion_timestamp.is_none() {
            return set_finalizer(&api, &*volume, PV_PROTECTION, true).await;
        }
        let bound = volume.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Bound");
        if bound {
            return Ok(None);
        }
        return set_finalizer(&api, &*volume, PV_PROTECTION, false).await;
    }
    Ok(None)
}

/// Add or remove the finalizer; a conflict (stale cache) is retried by the
/// queue, a vanished object is done.
async fn set_finalizer<K>(api: &Api<K>, obj: &K, finalizer: &str, present: bool) -> Result<Requeue>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    let Some(patch) = finalizer_patch(obj.meta(), finalizer, present) else {
        return Ok(None);
    };
    match api
        .patch(
            &obj.name_any(),
            &PatchParams::default(),
            &Patch::Merge(patch),
        )
        .await
    {
        Ok(_) => Ok(None),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(e).with_context(|| {
            let verb = if present { "adding" } else { "removing" };
            format!("{verb} the {finalizer} finalizer of {}", obj.name_any())
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(node: Option<&str>, phase: &str, volumes: serde_json::Value) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"nodeName": node, "containers": [], "volumes": volumes},
            "status": {"phase": phase},
        }))
        .unwrap()
    }

    #[test]
    fn scheduled_pods_keep_their_claims() {
        let claim = json!([{"name": "data", "persistentVolumeClaim": {"claimName": "c"}}]);
        assert!(pod_uses_claim(
            &pod(Some("n1"), "Running", claim.clone()),
            "c"
        ));
        assert!(!pod_uses_claim(
            &pod(Some("n1"), "Running", claim.clone()),
            "other"
        ));
        assert!(
            !pod_uses_claim(&pod(None, "Pending", claim.clone()), "c"),
            "an unscheduled pod does not hold its claim"
        );
        assert!(
            pod_uses_claim(&pod(Some("n1"), "Succeeded", claim), "c"),
            "a finished pod may still have the volume mounted"
        );
        let ephemeral =
            json!([{"name": "scratch", "ephemeral": {"volumeClaimTemplate": {"spec": {}}}}]);
        assert!(pod_uses_claim(
            &pod(Some("n1"), "Running", ephemeral.clone()),
            "web-scratch"
        ));
        assert!(!pod_uses_claim(
            &pod(Some("n1"), "Failed", ephemeral),
            "web-scratch"
        ));
    }
}

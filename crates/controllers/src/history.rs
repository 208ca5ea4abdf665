//! ControllerRevisions, as upstream's `controller/history`: the pod
//! templates a DaemonSet or StatefulSet has had, each stored as the patch
//! that restores it (`{"spec":{"template":{..., "$patch":"replace"}}}`),
//! numbered by `revision`, labelled with `controller-revision-hash`, and
//! controlled by their workload.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use k8s_openapi::api::apps::v1::ControllerRevision;
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use k8s_openapi::apimachinery::pkg::runtime::RawExtension;
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, ResourceExt};
use rkube_scheduler::labels::{EMPTY_LABELS, Selector};
use serde_json::{Value, json};

use crate::Cluster;
use crate::pods::controller_ref;
use crate::writes::{is_conflict, is_not_found};

/// The label naming a pod's (and a revision's) revision.
pub const REVISION_HASH_LABEL: &str = "controller-revision-hash";

/// Upstream's `rand.SafeEncodeString` of a 32-bit hash: its decimal
/// digits mapped onto consonants and digits that spell no words.
pub fn safe_encode(h: u32) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    h.to_string()
        .bytes()
        .map(|b| ALPHABET[usize::from(b) % ALPHABET.len()] as char)
        .collect()
}

/// Upstream's `HashControllerRevision`: FNV-1 (32-bit) of the revision's
/// data and the collision count in decimal, safely encoded.
pub fn hash_revision(data: &Value, collision_count: Option<i32>) -> String {
    let mut h: u32 = 0x811c_9dc5;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            h = h.wrapping_mul(0x0100_0193);
            h ^= u32::from(*b);
        }
    };
    feed(serde_json::to_string(data).unwrap_or_default().as_bytes());
    if let Some(c) = collision_count {
        feed(c.to_string().as_bytes());
    }
    safe_encode(h)
}

/// The data of a revision of `template`: the patch that puts it back.
pub fn template_patch(template: &PodTemplateSpec) -> Value {
    let mut t = serde_json::to_value(template).unwrap_or_else(|_| json!({}));
    if let Some(m) = t.as_object_mut() {
        m.insert("$patch".into(), json!("replace"));
    }
    json!({"spec": {"template": t}})
}

/// The template a revision's data restores, if it holds one.
pub fn template_of(rev: &ControllerRevision) -> Option<PodTemplateSpec> {
    let mut t = rev.data.as_ref()?.0.get("spec")?.get("template")?.clone();
    if let Some(m) = t.as_object_mut() {
        m.remove("$patch");
    }
    serde_json::from_value(t).ok()
}

/// Whether a revision holds `data`.
pub fn holds(rev: &ControllerRevision, data: &Value) -> bool {
    rev.data.as_ref().is_some_and(|d| &d.0 == data)
}

/// A new revision (not yet created).
pub fn new_revision(
    name: String,
    namespace: &str,
    template_labels: &BTreeMap<String, String>,
    hash: &str,
    owner: OwnerReference,
    data: Value,
    revision: i64,
) -> ControllerRevision {
    let mut labels = template_labels.clone();
    labels.insert(REVISION_HASH_LABEL.into(), hash.to_owned());
    ControllerRevision {
        metadata: ObjectMeta {
            name: Some(name),
            namespace: Some(namespace.to_owned()),
            labels: Some(labels),
            owner_references: Some(vec![owner]),
            ..Default::default()
        },
        data: Some(RawExtension(data)),
        revision,
    }
}

/// The highest revision number among `revs` (0 if none).
pub fn max_revision<'a>(revs: impl IntoIterator<Item = &'a ControllerRevision>) -> i64 {
    revs.into_iter().map(|r| r.revision).max().unwrap_or(0)
}

/// The revisions controlled by the owner with `uid` in `namespace`,
/// adopting orphans its `selector` matches (upstream's
/// `ClaimControllerRevisions`), oldest revision first.
pub async fn claim(
    cluster: &Cluster,
    namespace: &str,
    uid: &str,
    owner: &OwnerReference,
    selector: &Selector,
) -> Result<Vec<ControllerRevision>> {
    let api: Api<ControllerRevision> = Api::namespaced(cluster.client.clone(), namespace);
    let mut out = Vec::new();
    for rev in cluster.controller_revisions.list_namespace(namespace) {
        let labels = rev.metadata.labels.as_ref().unwrap_or(&EMPTY_LABELS);
        match controller_ref(&rev.metadata) {
            Some(r) if r.uid == uid => out.push((*rev).clone()),
            Some(_) => {}
            None if selector.matches(labels) && rev.metadata.deletion_timestamp.is_none() => {
                let patch = json!({"metadata": {"ownerReferences": [owner], "uid": rev.uid()}});
                match api
                    .patch(
                        &rev.name_any(),
                        &PatchParams::default(),
                        &Patch::Merge(patch),
                    )
                    .await
                {
                    Ok(r) => out.push(r),
                    Err(e) if is_not_found(&e) || is_conflict(&e) => {}
                    Err(e) => return Err(e).context("adopting a ControllerRevision"),
                }
            }
            None => {}
        }
    }
    out.sort_by(|a, b| {
        a.revision
            .cmp(&b.revision)
            .then_with(|| a.metadata.name.cmp(&b.metadata.name))
    });
    Ok(out)
}

/// Create `rev`; when its name is taken by a revision holding the same
/// data, that one is returned; when taken by another, `Ok(None)` (a hash
/// collision: the caller bumps its collision count).
pub async fn create(
    cluster: &Cluster,
    rev: &ControllerRevision,
) -> Result<Option<ControllerRevision>> {
    let ns = rev.namespace().unwrap_or_default();
    let api: Api<ControllerRevision> = Api::namespaced(cluster.client.clone(), &ns);
    match api.create(&PostParams::default(), rev).await {
        Ok(r) => Ok(Some(r)),
        Err(kube::Error::Api(s)) if s.code == 409 => {
            let existing = api
                .get(&rev.name_any())
                .await
                .context("reading a ControllerRevision")?;
            let same_owner = controller_ref(&existing.metadata).map(|r| &r.uid)
                == controller_ref(&rev.metadata).map(|r| &r.uid);
            match &rev.data {
                Some(d) if same_owner && holds(&existing, &d.0) => Ok(Some(existing)),
                _ => Ok(None),
            }
        }
        Err(e) => Err(e).context("creating a ControllerRevision"),
    }
}

/// Set a revision's number.
pub async fn set_revision(
    cluster: &Cluster,
    rev: &ControllerRevision,
    revision: i64,
) -> Result<ControllerRevision> {
    let api: Api<ControllerRevision> =
        Api::namespaced(cluster.client.clone(), &rev.namespace().unwrap_or_default());
    api.patch(
        &rev.name_any(),
        &PatchParams::default(),
        &Patch::Merge(json!({"revision": revision})),
    )
    .await
    .context("updating a ControllerRevision")
}

/// Delete a revision (gone already is fine).
pub async fn delete(cluster: &Cluster, rev: &ControllerRevision) -> Result<()> {
    let api: Api<ControllerRevision> =
        Api::namespaced(cluster.client.clone(), &rev.namespace().unwrap_or_default());
    match api.delete(&rev.name_any(), &Default::default()).await {
        Ok(_) => Ok(()),
        Err(e) if is_not_found(&e) => Ok(()),
        Err(e) => Err(e).context("deleting a ControllerRevision"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_round_trips_the_template() {
        let t: PodTemplateSpec = serde_json::from_value(json!({
            "metadata": {"labels": {"app": "a"}},
            "spec": {"containers": [{"name": "c", "image": "i"}]}
        }))
        .unwrap();
        let data = template_patch(&t);
        assert_eq!(data["spec"]["template"]["$patch"], "replace");
        let rev = new_revision(
            "a-1".into(),
            "ns",
            &BTreeMap::new(),
            "h",
            OwnerReference::default(),
            data.clone(),
            1,
        );
        assert!(holds(&rev, &data));
        assert_eq!(template_of(&rev), Some(t));
        assert_ne!(hash_revision(&data, None), hash_revision(&data, Some(1)));
        assert!(
            hash_revision(&data, None)
                .chars()
                .all(|c| "bcdfghjklmnpqrstvwxz2456789".contains(c))
        );
    }
}

//! VolumeBinding (the part of upstream's plugin that decides where a pod
//! may run): a pod's PersistentVolumeClaims must exist and not be being
//! deleted; an unbound claim of a class that binds immediately must be
//! bound first; a bound claim's volume must be usable on the node (its
//! required node affinity, as a `local-path` volume is pinned to its
//! node). Claims of `WaitForFirstConsumer` classes that are still unbound
//! do not restrict the node: the controllers' binder and provisioner
//! follow the pod to wherever it is placed.

use std::borrow::Cow;

use crate::framework::{
    CycleState, FilterPlugin, Plugin, PreFilterPlugin, PreFilterResult, Status,
};
use crate::pod_info::PodInfo;
use crate::snapshot::{NodeInfo, Snapshot};

/// Plugin name.
pub const NAME: &str = "VolumeBinding";
/// Upstream's reason: a bound volume cannot be used on the node.
pub const ERR_REASON_NODE_CONFLICT: &str = "node(s) had volume node affinity conflict";
/// Upstream's reason: a claim is bound to a volume that does not exist.
pub const ERR_REASON_PV_NOT_EXIST: &str =
    "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)";
/// Upstream's reason: an unbound claim that binds immediately.
pub const ERR_REASON_UNBOUND_IMMEDIATE: &str = "pod has unbound immediate PersistentVolumeClaims";

/// The plugin.
#[derive(Debug, Default)]
pub struct VolumeBinding;

/// The volumes the pod's bound claims use (PreFilter's result).
#[derive(Clone)]
struct BoundVolumes(Vec<String>);

/// The names of the claims a pod uses: `persistentVolumeClaim` volumes
/// and generic ephemeral volumes (`<pod>-<volume>`).
fn claim_names(pod: &PodInfo) -> Vec<String> {
    let name = pod.pod.metadata.name.as_deref().unwrap_or_default();
    pod.pod
        .spec
        .as_ref()
        .and_then(|s| s.volumes.as_deref())
        .unwrap_or_default()
        .iter()
        .filter_map(|v| match (&v.persistent_volume_claim, &v.ephemeral) {
            (Some(c), _) => Some(c.claim_name.clone()),
            (None, Some(_)) => Some(format!("{name}-{}", v.name)),
            _ => None,
        })
        .collect()
}

impl Plugin for VolumeBinding {
    fn name(&self) -> &'static str {
        NAME
    }
    fn as_pre_filter(&self) -> Option<&dyn PreFilterPlugin> {
        Some(self)
    }
    fn as_filter(&self) -> Option<&dyn FilterPlugin> {
        Some(self)
    }
}

impl PreFilterPlugin for VolumeBinding {
    fn pre_filter(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        snapshot: &Snapshot,
    ) -> PreFilterResult {
        let claims = claim_names(pod);
        if claims.is_empty() {
            return PreFilterResult::skip();
        }
        let namespace = pod.namespace.as_str();
        let storage = snapshot.storage();
        let mut bound = Vec::new();
        for name in claims {
            let Some(claim) = storage.claim(namespace, &name) else {
                return PreFilterResult::status(Status::unresolvable(Cow::Owned(format!(
                    "persistentvolumeclaim \"{name}\" not found"
                ))));
            };
            if claim.deleting {
                return PreFilterResult::status(Status::unresolvable(Cow::Owned(format!(
                    "persistentvolumeclaim \"{name}\" is being deleted"
                ))));
            }
            match &claim.volume {
                Some(volume) => bound.push(volume.clone()),
                None => {
                    let waits = claim
                        .class
                        .as_deref()
                        .is_some_and(|c| storage.waits_for_first_consumer(c));
                    if !waits {
                        return PreFilterResult::status(Status::unresolvable(
                            ERR_REASON_UNBOUND_IMMEDIATE,
                        ));
                    }
                }
            }
        }
        state.write(BoundVolumes(bound));
        PreFilterResult::success()
    }
}

impl FilterPlugin for VolumeBinding {
    fn filter(
        &self,
        state: &CycleState,
        _: &PodInfo,
        node: &NodeInfo,
        snapshot: &Snapshot,
    ) -> Status {
        let Some(BoundVolumes(volumes)) = state.read::<BoundVolumes>() else {
            return Status::success();
        };
        for volume in volumes {
            match snapshot.storage().volume_affinity(volume) {
                None => return Status::unresolvable(ERR_REASON_PV_NOT_EXIST),
                Some(None) => {}
                Some(Some(terms)) => {
                    if !terms.iter().any(|t| t.matches(node.labels(), node.name())) {
                        return Status::unresolvable(ERR_REASON_NODE_CONFLICT);
                    }
                }
            }
        }
        Status::success()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::test_util::*;
    use crate::testing::*;
    use serde_json::json;

    fn pod_with_claim(claim: &str) -> PodInfo {
        let mut p = pod("app").obj();
        p.spec.as_mut().unwrap().volumes = Some(vec![
            serde_json::from_value(
                json!({"name": "data", "persistentVolumeClaim": {"claimName": claim}}),
            )
            .unwrap(),
        ]);
        PodInfo::new(p)
    }

    fn snapshot() -> Snapshot {
        let mut snap = Snapshot::from_objects(
            [
                node("n1").label("kubernetes.io/hostname", "n1").obj(),
                node("n2").label("kubernetes.io/hostname", "n2").obj(),
            ],
            [],
        );
        let storage = snap.storage_mut();
        storage.upsert_class(
            &serde_json::from_value(json!({
                "metadata": {"name": "local-path"},
                "provisioner": "rancher.io/local-path",
                "volumeBindingMode": "WaitForFirstConsumer",
            }))
            .unwrap(),
        );
        storage.upsert_volume(
            &serde_json::from_value(json!({
                "metadata": {"name": "pinned"},
                "spec": {"nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                    {"key": "kubernetes.io/hostname", "operator": "In", "values": ["n2"]}
                ]}]}}},
            }))
            .unwrap(),
        );
        storage.upsert_volume(
            &serde_json::from_value(json!({"metadata": {"name": "anywhere"}})).unwrap(),
        );
        for (name, spec) in [
            ("on-n2", json!({"volumeName": "pinned"})),
            ("free", json!({"volumeName": "anywhere"})),
            ("lost", json!({"volumeName": "gone"})),
            ("later", json!({"storageClassName": "local-path"})),
            ("now", json!({"storageClassName": "fast"})),
        ] {
            storage.upsert_claim(
                &serde_json::from_value(json!({
                    "metadata": {"name": name, "namespace": "default"},
                    "spec": spec,
                }))
                .unwrap(),
            );
        }
        snap
    }

    #[test]
    fn bound_volumes_pin_the_pod_to_their_nodes() {
        let snap = snapshot();
        let st = filter_all(&VolumeBinding, &pod_with_claim("on-n2"), &snap).unwrap();
        assert_eq!(st[0], Status::unresolvable(ERR_REASON_NODE_CONFLICT));
        assert!(st[1].is_success());
        assert_eq!(
            passes(&VolumeBinding, &pod_with_claim("free"), &snap),
            [true, true]
        );
        assert_eq!(
            filter_all(&VolumeBinding, &pod_with_claim("lost"), &snap).unwrap()[0],
            Status::unresolvable(ERR_REASON_PV_NOT_EXIST)
        );
        // Waiting for its first consumer: anywhere.
        assert_eq!(
            passes(&VolumeBinding, &pod_with_claim("later"), &snap),
            [true, true]
        );
        // No volumes: nothing to check.
        assert_eq!(
            passes(&VolumeBinding, &PodInfo::new(pod("plain").obj()), &snap),
            [true, true]
        );
    }

    #[test]
    fn missing_and_unbound_immediate_claims_wait() {
        let snap = snapshot();
        assert_eq!(
            filter_all(&VolumeBinding, &pod_with_claim("nope"), &snap).unwrap_err(),
            Status::unresolvable("persistentvolumeclaim \"nope\" not found")
        );
        assert_eq!(
            filter_all(&VolumeBinding, &pod_with_claim("now"), &snap).unwrap_err(),
            Status::unresolvable(ERR_REASON_UNBOUND_IMMEDIATE)
        );
    }
}
